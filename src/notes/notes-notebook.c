/* notes-notebook.c
 *
 * The notebook model.  Its items follow the `notes` member of the
 * notebook document: every update of that document (local or remote)
 * adds, removes or re-orders items, so the list is the same on every
 * device sharing the notebook.  A deleted note first leaves the notebook
 * only (it can come back with Undo); its document is deleted when the
 * deletion is final.
 *
 * Every listed note is tracked (kept in sync), but its document stays
 * closed until it is edited: the items keep only what the list shows,
 * and the notebook tells them when a closed document changed (the
 * client's ::committed and ::pending-changed) or its sync state did (the
 * sync's ::doc-state-changed).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "patches-fractional.h"
#include "patches-patch.h"

#include "notes-notebook.h"

#define NOTEBOOK_PREFIX "notebook/"
#define NOTE_PREFIX "note/"
#define EMPTY_BODY "{\"ops\":[{\"insert\":\"\\n\"}]}"
/* How long changes that arrive from the server gather before the list
 * hears of them, in one report */
#define REMOTE_CHANGES_DELAY_MS 50

typedef struct
{
  NotesNoteItem *item;
  char          *order;
  gint64         created_at;
} DeletedNote;

struct _NotesNotebook
{
  GObject        parent_instance;

  PatchesClient *client;
  PatchesSync   *sync;
  char          *id;
  PatchesDoc    *doc;
  gulong         update_handler;
  gulong         pending_handler;

  GPtrArray     *items;      /* NotesNoteItem, in the notebook's member order */
  GHashTable    *index;      /* note id → NotesNoteItem in items (unowned) */
  GHashTable    *changed;    /* listed NotesNoteItems (unowned) to report */
  guint          changed_source;
  GHashTable    *deleted;    /* note id → DeletedNote, waiting for Undo */
  char          *title;
  guint          n_pending;
  gboolean       loaded;
};

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_SYNC,
  PROP_ID,
  PROP_DOC,
  PROP_TITLE,
  PROP_LOADED,
  PROP_N_PENDING,
  PROP_ITEM_TYPE,
  PROP_N_ITEMS,
  N_PROPS
};

static void notes_notebook_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NotesNotebook, notes_notebook, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, notes_notebook_list_model_init))

static GParamSpec *properties[N_PROPS];

static void
deleted_note_free (gpointer data)
{
  DeletedNote *deleted = data;

  g_clear_object (&deleted->item);
  g_free (deleted->order);
  g_free (deleted);
}

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

/* A JSON pointer token for @key (RFC 6901: "~" → "~0", "/" → "~1") */
static char *
pointer_token (const char *key)
{
  GString *out = g_string_new (NULL);

  for (const char *p = key; *p != '\0'; p++)
    {
      if (*p == '~')
        g_string_append (out, "~0");
      else if (*p == '/')
        g_string_append (out, "~1");
      else
        g_string_append_c (out, *p);
    }

  return g_string_free (out, FALSE);
}

static char *
note_entry_path (const char *note_id)
{
  g_autofree char *token = pointer_token (note_id);

  return g_strconcat ("/notes/", token, NULL);
}

static const char *
strip_note_prefix (const char *note_or_doc_id)
{
  if (g_str_has_prefix (note_or_doc_id, NOTE_PREFIX))
    return note_or_doc_id + strlen (NOTE_PREFIX);

  return note_or_doc_id;
}

static PatchesValue *
object_member (PatchesValue *object,
               const char   *key)
{
  if (object == NULL || patches_value_get_kind (object) != PATCHES_VALUE_OBJECT)
    return NULL;

  return patches_value_object_get (object, key);
}

/* Sets @key of the document's root object: `replace` when the member
 * exists, `add` otherwise (a strict `replace` of a missing member fails) */
static void
patch_set_member (PatchesPatch *patch,
                  PatchesValue *state,
                  const char   *key,
                  PatchesValue *value)
{
  g_autofree char *token = pointer_token (key);
  g_autofree char *path = g_strconcat ("/", token, NULL);

  if (object_member (state, key) != NULL)
    patches_patch_replace (patch, path, value, FALSE);
  else
    patches_patch_add (patch, path, value, FALSE);
}

static gboolean
apply_patch (PatchesDoc    *doc,
             PatchesPatch  *patch,
             GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(PatchesChange) change = patches_doc_change (doc, patch, &local_error);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  return TRUE;
}

static PatchesValue *
notes_notebook_get_notes (NotesNotebook *self)
{
  PatchesValue *notes;

  if (self->doc == NULL)
    return NULL;

  notes = object_member (patches_doc_get_state (self->doc), "notes");
  if (notes == NULL || patches_value_get_kind (notes) != PATCHES_VALUE_OBJECT)
    return NULL;

  return notes;
}

static void
notes_notebook_update_n_pending (NotesNotebook *self)
{
  guint n_pending = 0;

  if (self->doc != NULL)
    n_pending += patches_doc_get_n_pending (self->doc);

  for (guint i = 0; i < self->items->len; i++)
    n_pending += notes_note_item_get_n_pending (g_ptr_array_index (self->items, i));

  if (n_pending != self->n_pending)
    {
      self->n_pending = n_pending;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_PENDING]);
    }
}

static void
notes_notebook_doc_pending_cb (GObject       *doc_or_item,
                               GParamSpec    *pspec,
                               NotesNotebook *self)
{
  notes_notebook_update_n_pending (self);
}

static void
notes_notebook_items_changed (NotesNotebook *self,
                              guint          position,
                              guint          removed,
                              guint          added)
{
  g_list_model_items_changed (G_LIST_MODEL (self), position, removed, added);
  if (removed != added)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
}

static gboolean
notes_notebook_report_changed_cb (gpointer user_data)
{
  NotesNotebook *self = user_data;
  guint first = G_MAXUINT;
  guint last = 0;

  self->changed_source = 0;

  for (guint i = 0; i < self->items->len && g_hash_table_size (self->changed) > 0; i++)
    {
      if (g_hash_table_remove (self->changed, g_ptr_array_index (self->items, i)))
        {
          first = MIN (first, i);
          last = i;
        }
    }
  g_hash_table_remove_all (self->changed);

  if (first != G_MAXUINT)
    notes_notebook_items_changed (self, first, last - first + 1, last - first + 1);

  return G_SOURCE_REMOVE;
}

/* Sort and filter models only look again at an item that is reported
 * changed, so a change of what they look at is reported as one.  A
 * change made here (the document is open) is reported at once; changes
 * from the server, which come by the hundred while a notebook syncs for
 * the first time, are gathered, so that the list sorts and binds its
 * rows once for all of them */
static void
notes_notebook_item_changed_cb (NotesNoteItem *item,
                                NotesNotebook *self)
{
  guint position;

  if (notes_note_item_peek_doc (item) == NULL)
    {
      g_hash_table_add (self->changed, item);
      if (self->changed_source == 0)
        self->changed_source = g_timeout_add (REMOTE_CHANGES_DELAY_MS,
                                              notes_notebook_report_changed_cb, self);
      return;
    }

  g_hash_table_remove (self->changed, item);
  if (g_ptr_array_find (self->items, item, &position))
    notes_notebook_items_changed (self, position, 1, 1);
}

static void
notes_notebook_untrack_cb (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!patches_client_untrack_docs_finish (PATCHES_CLIENT (source), result, &error))
    g_debug ("Could not stop tracking a note: %s", error->message);
}

static void
notes_notebook_watch_item (NotesNotebook *self,
                           NotesNoteItem *item)
{
  g_signal_connect (item, "changed", G_CALLBACK (notes_notebook_item_changed_cb), self);
  g_signal_connect (item, "notify::n-pending", G_CALLBACK (notes_notebook_doc_pending_cb), self);
}

static void
notes_notebook_unwatch_item (NotesNotebook *self,
                             NotesNoteItem *item)
{
  g_signal_handlers_disconnect_by_data (item, self);
  g_hash_table_remove (self->changed, item);
}

/* What the client and the sync say of documents that may be closed */

static NotesNoteItem *
notes_notebook_lookup_doc (NotesNotebook *self,
                           const char    *doc_id)
{
  if (doc_id == NULL || !g_str_has_prefix (doc_id, NOTE_PREFIX))
    return NULL;

  return g_hash_table_lookup (self->index, doc_id + strlen (NOTE_PREFIX));
}

static void
notes_notebook_committed_cb (PatchesClient *client,
                             const char    *doc_id,
                             GPtrArray     *changes,
                             NotesNotebook *self)
{
  NotesNoteItem *item = notes_notebook_lookup_doc (self, doc_id);

  /* An open document tells its item itself */
  if (item != NULL && notes_note_item_peek_doc (item) == NULL)
    notes_note_item_refresh (item);
}

/* The sync badge of @doc_id's item, when its document is closed (an open
 * document tells its item itself) */
static void
notes_notebook_refresh_closed_sync_state (NotesNotebook *self,
                                          const char    *doc_id)
{
  NotesNoteItem *item = notes_notebook_lookup_doc (self, doc_id);

  if (item != NULL && notes_note_item_peek_doc (item) == NULL)
    notes_note_item_refresh_sync_state (item);
}

static void
notes_notebook_client_pending_cb (PatchesClient *client,
                                  const char    *doc_id,
                                  NotesNotebook *self)
{
  notes_notebook_refresh_closed_sync_state (self, doc_id);
}

static void
notes_notebook_doc_state_changed_cb (PatchesSync   *sync,
                                     const char    *doc_id,
                                     NotesNotebook *self)
{
  notes_notebook_refresh_closed_sync_state (self, doc_id);
}

/* An item leaves the list: its document is closed and no longer
 * tracked, unless the deletion may still be undone */
static void
notes_notebook_release_item (NotesNotebook *self,
                             NotesNoteItem *item)
{
  const char *note_id = notes_note_item_get_note_id (item);
  const char *doc_id = notes_note_item_get_doc_id (item);

  notes_notebook_unwatch_item (self, item);

  if (!g_hash_table_contains (self->deleted, note_id))
    {
      const char *ids[] = { doc_id, NULL };

      patches_client_close_doc (self->client, doc_id);
      if (patches_client_is_tracked (self->client, doc_id))
        patches_client_untrack_docs_async (self->client, ids, NULL, notes_notebook_untrack_cb, NULL);
    }
}

static NotesNoteItem *
notes_notebook_new_item (NotesNotebook *self,
                         const char    *note_id)
{
  /* A note that cannot be read is still listed, so it can be deleted */
  NotesNoteItem *item = notes_note_item_new_for_client (note_id, self->client);

  notes_note_item_set_sync (item, self->sync);
  return item;
}

/* Tracks the notes of @notes that are not listed yet, in one go (one
 * transaction, one subscription) */
static void
notes_notebook_track_new (NotesNotebook *self,
                          PatchesValue  *notes)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; notes != NULL && i < patches_value_object_get_size (notes); i++)
    {
      const char *note_id = patches_value_object_key_at (notes, i);
      g_autofree char *doc_id = NULL;

      if (g_hash_table_contains (self->index, note_id))
        continue;

      doc_id = g_strconcat (NOTE_PREFIX, note_id, NULL);
      if (!patches_client_is_tracked (self->client, doc_id))
        g_ptr_array_add (ids, g_steal_pointer (&doc_id));
    }

  if (ids->len == 0)
    return;

  g_ptr_array_add (ids, NULL);
  if (!patches_client_track_docs (self->client, (const char * const *) ids->pdata, &error))
    g_message ("Could not track the notes of %s: %s", self->id, error->message);
}

static void
notes_notebook_refresh (NotesNotebook *self)
{
  PatchesValue *notes = notes_notebook_get_notes (self);
  PatchesValue *title = object_member (self->doc ? patches_doc_get_state (self->doc) : NULL, "title");
  const char *new_title = "";
  guint n_before;

  /* Notes that left the notebook */
  for (guint i = self->items->len; i > 0; i--)
    {
      NotesNoteItem *item = g_ptr_array_index (self->items, i - 1);

      if (notes == NULL || !patches_value_object_has (notes, notes_note_item_get_note_id (item)))
        {
          g_autoptr(NotesNoteItem) removed = g_object_ref (item);

          /* Views let go of it (an editor showing it gets nothing to
           * show) before its document is closed */
          g_hash_table_remove (self->index, notes_note_item_get_note_id (removed));
          g_ptr_array_remove_index (self->items, i - 1);
          notes_notebook_items_changed (self, i - 1, 1, 0);
          notes_notebook_release_item (self, removed);
        }
    }

  /* Notes that stay get their order; new ones join at the end */
  notes_notebook_track_new (self, notes);
  n_before = self->items->len;
  for (guint i = 0; notes != NULL && i < patches_value_object_get_size (notes); i++)
    {
      const char *note_id = patches_value_object_key_at (notes, i);
      PatchesValue *entry = patches_value_object_value_at (notes, i);
      PatchesValue *order = object_member (entry, "order");
      PatchesValue *created_at = object_member (entry, "createdAt");
      NotesNoteItem *item = g_hash_table_lookup (self->index, note_id);

      if (item == NULL)
        {
          item = notes_notebook_new_item (self, note_id);
          g_ptr_array_add (self->items, item);
          g_hash_table_insert (self->index, (gpointer) notes_note_item_get_note_id (item), item);
          notes_notebook_watch_item (self, item);
        }

      if (order != NULL && patches_value_get_kind (order) == PATCHES_VALUE_STRING)
        notes_note_item_set_order (item, patches_value_get_string (order));
      if (created_at != NULL && patches_value_get_kind (created_at) == PATCHES_VALUE_NUMBER)
        notes_note_item_set_created_at (item, (gint64) patches_value_get_number (created_at));
    }

  if (self->items->len > n_before)
    notes_notebook_items_changed (self, n_before, 0, self->items->len - n_before);

  if (title != NULL && patches_value_get_kind (title) == PATCHES_VALUE_STRING)
    new_title = patches_value_get_string (title);
  if (g_strcmp0 (new_title, self->title) != 0)
    {
      g_free (self->title);
      self->title = g_strdup (new_title);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
    }

  notes_notebook_update_n_pending (self);
}

static void
notes_notebook_doc_update_cb (PatchesDoc    *doc,
                              PatchesPatch  *patch,
                              gboolean       local,
                              NotesNotebook *self)
{
  notes_notebook_refresh (self);
}

static void
notes_notebook_set_doc (NotesNotebook *self,
                        PatchesDoc    *doc)
{
  g_assert (self->doc == NULL);

  self->doc = g_object_ref (doc);
  self->update_handler =
    g_signal_connect (doc, "update", G_CALLBACK (notes_notebook_doc_update_cb), self);
  self->pending_handler =
    g_signal_connect (doc, "notify::n-pending", G_CALLBACK (notes_notebook_doc_pending_cb), self);

  self->loaded = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOC]);
  notes_notebook_refresh (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADED]);
}

static void
notes_notebook_open_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NotesNotebook *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesDoc) doc = patches_client_open_doc_finish (PATCHES_CLIENT (source), result, &error);

  if (doc == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (self->doc == NULL)
    notes_notebook_set_doc (self, doc);

  g_task_return_boolean (task, TRUE);
}

/* GListModel */

static GType
notes_notebook_get_item_type (GListModel *model)
{
  return NOTES_TYPE_NOTE_ITEM;
}

static guint
notes_notebook_get_n_items (GListModel *model)
{
  return NOTES_NOTEBOOK (model)->items->len;
}

static gpointer
notes_notebook_get_item (GListModel *model,
                         guint       position)
{
  NotesNotebook *self = NOTES_NOTEBOOK (model);

  if (position >= self->items->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
notes_notebook_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = notes_notebook_get_item_type;
  iface->get_n_items = notes_notebook_get_n_items;
  iface->get_item = notes_notebook_get_item;
}

/* GObject */

static void
notes_notebook_dispose (GObject *object)
{
  NotesNotebook *self = NOTES_NOTEBOOK (object);

  /* Documents stay tracked for the next run: only the watches go */
  if (self->items != NULL)
    {
      for (guint i = 0; i < self->items->len; i++)
        notes_notebook_unwatch_item (self, g_ptr_array_index (self->items, i));
      g_clear_pointer (&self->items, g_ptr_array_unref);
    }
  g_clear_pointer (&self->index, g_hash_table_unref);
  g_clear_pointer (&self->changed, g_hash_table_unref);
  g_clear_handle_id (&self->changed_source, g_source_remove);
  g_clear_pointer (&self->deleted, g_hash_table_unref);

  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  if (self->sync != NULL)
    g_signal_handlers_disconnect_by_data (self->sync, self);
  g_clear_object (&self->sync);

  if (self->doc != NULL)
    {
      g_clear_signal_handler (&self->update_handler, self->doc);
      g_clear_signal_handler (&self->pending_handler, self->doc);
    }
  g_clear_object (&self->doc);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (notes_notebook_parent_class)->dispose (object);
}

static void
notes_notebook_finalize (GObject *object)
{
  NotesNotebook *self = NOTES_NOTEBOOK (object);

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->title, g_free);

  G_OBJECT_CLASS (notes_notebook_parent_class)->finalize (object);
}

static void
notes_notebook_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  NotesNotebook *self = NOTES_NOTEBOOK (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;

    case PROP_SYNC:
      g_value_set_object (value, self->sync);
      break;

    case PROP_ID:
      g_value_set_string (value, self->id);
      break;

    case PROP_DOC:
      g_value_set_object (value, self->doc);
      break;

    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;

    case PROP_LOADED:
      g_value_set_boolean (value, self->loaded);
      break;

    case PROP_N_PENDING:
      g_value_set_uint (value, self->n_pending);
      break;

    case PROP_ITEM_TYPE:
      g_value_set_gtype (value, NOTES_TYPE_NOTE_ITEM);
      break;

    case PROP_N_ITEMS:
      g_value_set_uint (value, self->items->len);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_notebook_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  NotesNotebook *self = NOTES_NOTEBOOK (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      g_signal_connect (self->client, "committed", G_CALLBACK (notes_notebook_committed_cb), self);
      g_signal_connect (self->client, "pending-changed", G_CALLBACK (notes_notebook_client_pending_cb), self);
      break;

    case PROP_SYNC:
      notes_notebook_set_sync (self, g_value_get_object (value));
      break;

    case PROP_ID:
      self->id = notes_notebook_normalize_id (g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_notebook_class_init (NotesNotebookClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = notes_notebook_dispose;
  object_class->finalize = notes_notebook_finalize;
  object_class->get_property = notes_notebook_get_property;
  object_class->set_property = notes_notebook_set_property;

  /**
   * NotesNotebook:client:
   *
   * The client the documents are opened with.
   */
  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL,
                         PATCHES_TYPE_CLIENT,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNotebook:sync:
   *
   * The sync engine of the client, where the sync state of notes whose
   * document is closed comes from (without one, their badge only knows
   * whether changes wait).
   */
  properties[PROP_SYNC] =
    g_param_spec_object ("sync", NULL, NULL,
                         PATCHES_TYPE_SYNC,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNotebook:id:
   *
   * The notebook's document id, `notebook/<id>`.
   */
  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL,
                         "notebook/main",
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNotebook:doc:
   *
   * The notebook document, once loaded.
   */
  properties[PROP_DOC] =
    g_param_spec_object ("doc", NULL, NULL,
                         PATCHES_TYPE_DOC,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNotebook:title:
   *
   * The notebook's title ("" when it has none).
   */
  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL,
                         "",
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNotebook:loaded:
   *
   * Whether the notebook document is open.
   */
  properties[PROP_LOADED] =
    g_param_spec_boolean ("loaded", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNotebook:n-pending:
   *
   * How many changes of the notebook and its listed notes wait to be
   * sent to the server.
   */
  properties[PROP_N_PENDING] =
    g_param_spec_uint ("n-pending", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNotebook:item-type:
   *
   * The type of the items (#NotesNoteItem).
   */
  properties[PROP_ITEM_TYPE] =
    g_param_spec_gtype ("item-type", NULL, NULL,
                        G_TYPE_OBJECT,
                        (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNotebook:n-items:
   *
   * The number of notes listed.
   */
  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
notes_notebook_init (NotesNotebook *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->index = g_hash_table_new (g_str_hash, g_str_equal);
  self->changed = g_hash_table_new (NULL, NULL);
  self->deleted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, deleted_note_free);
  self->title = g_strdup ("");
}

/* Public API */

/**
 * notes_notebook_new:
 * @client: the client to open documents with
 * @notebook_id: the notebook, `notebook/<id>` or just `<id>`
 *
 * Creates the model; call notes_notebook_load_async() to fill it.
 *
 * Returns: (transfer full): a new notebook model
 */
NotesNotebook *
notes_notebook_new (PatchesClient *client,
                    const char    *notebook_id)
{
  g_return_val_if_fail (PATCHES_IS_CLIENT (client), NULL);
  g_return_val_if_fail (notebook_id != NULL, NULL);

  return g_object_new (NOTES_TYPE_NOTEBOOK,
                       "client", client,
                       "id", notebook_id,
                       NULL);
}

/**
 * notes_notebook_normalize_id:
 * @notebook_id: (nullable): `notebook/<id>`, `<id>`, or %NULL
 *
 * Returns: (transfer full): the document id `notebook/<id>`
 *   (`notebook/main` for %NULL or "")
 */
char *
notes_notebook_normalize_id (const char *notebook_id)
{
  if (notebook_id == NULL || notebook_id[0] == '\0')
    return g_strdup (NOTEBOOK_PREFIX "main");

  if (g_str_has_prefix (notebook_id, NOTEBOOK_PREFIX))
    return g_strdup (notebook_id);

  return g_strconcat (NOTEBOOK_PREFIX, notebook_id, NULL);
}

/**
 * notes_notebook_get_client:
 * @self: a #NotesNotebook
 *
 * Returns: (transfer none): the client
 */
PatchesClient *
notes_notebook_get_client (NotesNotebook *self)
{
  g_return_val_if_fail (NOTES_IS_NOTEBOOK (self), NULL);

  return self->client;
}

/**
 * notes_notebook_get_sync:
 * @self: a #NotesNotebook
 *
 * Returns: (transfer none) (nullable): the sync engine
 */
PatchesSync *
notes_notebook_get_sync (NotesNotebook *self)
{
  g_return_val_if_fail (NOTES_IS_NOTEBOOK (self), NULL);

  return self->sync;
}

/**
 * notes_notebook_set_sync:
 * @self: a #NotesNotebook
 * @sync: (nullable): the sync engine of the notebook's client
 *
 * Where the sync badges of notes whose document is closed come from.
 */
void
notes_notebook_set_sync (NotesNotebook *self,
                         PatchesSync   *sync)
{
  g_return_if_fail (NOTES_IS_NOTEBOOK (self));
  g_return_if_fail (sync == NULL || PATCHES_IS_SYNC (sync));

  if (self->sync == sync)
    return;

  if (self->sync != NULL)
    g_signal_handlers_disconnect_by_data (self->sync, self);
  g_set_object (&self->sync, sync);
  if (self->sync != NULL)
    g_signal_connect (self->sync, "doc-state-changed", G_CALLBACK (notes_notebook_doc_state_changed_cb), self);

  for (guint i = 0; i < self->items->len; i++)
    notes_note_item_set_sync (g_ptr_array_index (self->items, i), sync);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNC]);
}

/**
 * notes_notebook_get_id:
 * @self: a #NotesNotebook
 *
 * Returns: the notebook's document id
 */
const char *
notes_notebook_get_id (NotesNotebook *self)
{
  g_return_val_if_fail (NOTES_IS_NOTEBOOK (self), NULL);

  return self->id;
}

/**
 * notes_notebook_get_doc:
 * @self: a #NotesNotebook
 *
 * Returns: (transfer none) (nullable): the notebook document, %NULL
 *   until it is loaded
 */
PatchesDoc *
notes_notebook_get_doc (NotesNotebook *self)
{
  g_return_val_if_fail (NOTES_IS_NOTEBOOK (self), NULL);

  return self->doc;
}

/**
 * notes_notebook_get_title:
 * @self: a #NotesNotebook
 *
 * Returns: the notebook's title ("" when it has none)
 */
const char *
notes_notebook_get_title (NotesNotebook *self)
{
  g_return_val_if_fail (NOTES_IS_NOTEBOOK (self), NULL);

  return self->title;
}

/**
 * notes_notebook_get_loaded:
 * @self: a #NotesNotebook
 *
 * Returns: whether the notebook document is open
 */
gboolean
notes_notebook_get_loaded (NotesNotebook *self)
{
  g_return_val_if_fail (NOTES_IS_NOTEBOOK (self), FALSE);

  return self->loaded;
}

/**
 * notes_notebook_get_n_pending:
 * @self: a #NotesNotebook
 *
 * Returns: how many changes of the notebook and its notes wait to be sent
 */
guint
notes_notebook_get_n_pending (NotesNotebook *self)
{
  g_return_val_if_fail (NOTES_IS_NOTEBOOK (self), 0);

  return self->n_pending;
}

/**
 * notes_notebook_load_async:
 * @self: a #NotesNotebook
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the notebook is open
 * @user_data: closure data for @callback
 *
 * Opens the notebook document (which tracks it) and each of its notes.
 */
void
notes_notebook_load_async (NotesNotebook       *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (NOTES_IS_NOTEBOOK (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, notes_notebook_load_async);

  if (self->doc != NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  patches_client_open_doc_async (self->client, self->id, cancellable,
                                 notes_notebook_open_cb, g_steal_pointer (&task));
}

/**
 * notes_notebook_load_finish:
 * @self: a #NotesNotebook
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the notebook is open
 */
gboolean
notes_notebook_load_finish (NotesNotebook  *self,
                            GAsyncResult   *result,
                            GError        **error)
{
  g_return_val_if_fail (NOTES_IS_NOTEBOOK (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == notes_notebook_load_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * notes_notebook_find:
 * @self: a #NotesNotebook
 * @note_or_doc_id: a note id, or its document id `note/<id>`
 *
 * Returns: (transfer none) (nullable): the listed note
 */
NotesNoteItem *
notes_notebook_find (NotesNotebook *self,
                     const char    *note_or_doc_id)
{
  const char *note_id;

  g_return_val_if_fail (NOTES_IS_NOTEBOOK (self), NULL);
  g_return_val_if_fail (note_or_doc_id != NULL, NULL);

  note_id = strip_note_prefix (note_or_doc_id);

  return g_hash_table_lookup (self->index, note_id);
}

/* The order key after every listed note */
static char *
notes_notebook_next_order (NotesNotebook  *self,
                           GError        **error)
{
  const char *last = NULL;

  for (guint i = 0; i < self->items->len; i++)
    {
      const char *order = notes_note_item_get_order (g_ptr_array_index (self->items, i));

      if (order != NULL && order[0] != '\0' &&
          (last == NULL || patches_fractional_collate (order, last) > 0))
        last = order;
    }

  return patches_fractional_key_between (last, NULL, error);
}

static gboolean
notes_notebook_add_entry (NotesNotebook  *self,
                          const char     *note_id,
                          const char     *order,
                          gint64          created_at,
                          GError        **error)
{
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  g_autofree char *path = note_entry_path (note_id);
  PatchesValue *state = patches_doc_get_state (self->doc);
  PatchesValue *entry = patches_value_new_object ();

  /* Soft: two devices creating the first note at once must not replace
   * each other's notes map */
  if (notes_notebook_get_notes (self) == NULL)
    patches_patch_add (patch, "/notes", patches_value_new_object (), TRUE);
  if (object_member (state, "title") == NULL)
    patches_patch_add (patch, "/title", patches_value_new_string (""), TRUE);

  patches_value_object_set (entry, "order", patches_value_new_string (order));
  patches_value_object_set (entry, "createdAt", patches_value_new_number ((double) created_at));
  patches_patch_add (patch, path, entry, FALSE);

  return apply_patch (self->doc, patch, error);
}

/**
 * notes_notebook_create_note:
 * @self: a #NotesNotebook
 * @title: (nullable): the title ("" for %NULL)
 * @body: (nullable) (transfer none): the body, a rich-text value; %NULL
 *   for an empty one
 * @error: return location for a #GError
 *
 * Creates a note document {"title", "body", "tags": [], "pinned": false,
 * "updatedAt"} and adds it to the notebook after the last note.
 *
 * Returns: (transfer none) (nullable): the new note's item
 */
NotesNoteItem *
notes_notebook_create_note (NotesNotebook  *self,
                            const char     *title,
                            PatchesValue   *body,
                            GError        **error)
{
  g_autofree char *note_id = NULL;
  g_autofree char *doc_id = NULL;
  g_autofree char *order = NULL;
  g_autoptr(PatchesDoc) doc = NULL;
  g_autoptr(PatchesPatch) patch = NULL;
  PatchesValue *state;
  gint64 now = now_ms ();

  g_return_val_if_fail (NOTES_IS_NOTEBOOK (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->doc == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   _("The notebook is not open yet"));
      return NULL;
    }

  order = notes_notebook_next_order (self, error);
  if (order == NULL)
    return NULL;

  note_id = patches_change_id_new ();
  doc_id = g_strconcat (NOTE_PREFIX, note_id, NULL);
  doc = patches_client_open_doc (self->client, doc_id, error);
  if (doc == NULL)
    return NULL;

  state = patches_doc_get_state (doc);
  patch = patches_patch_new ();
  patch_set_member (patch, state, "title", patches_value_new_string (title ? title : ""));
  if (body != NULL)
    patch_set_member (patch, state, "body", patches_value_copy_deep (body));
  else
    patch_set_member (patch, state, "body", patches_value_parse (EMPTY_BODY, -1, NULL));
  patch_set_member (patch, state, "tags", patches_value_new_array ());
  patch_set_member (patch, state, "pinned", patches_value_new_bool (FALSE));
  patch_set_member (patch, state, "updatedAt", patches_value_new_number ((double) now));

  if (!apply_patch (doc, patch, error) ||
      !notes_notebook_add_entry (self, note_id, order, now, error))
    {
      patches_client_delete_doc (self->client, doc_id, NULL);
      return NULL;
    }

  return notes_notebook_find (self, note_id);
}

/**
 * notes_notebook_rename_note:
 * @self: a #NotesNotebook
 * @item: a listed note
 * @title: the new title
 * @error: return location for a #GError
 *
 * Replaces the note's title (and its `updatedAt`).
 *
 * Returns: %TRUE when the change was made
 */
gboolean
notes_notebook_rename_note (NotesNotebook  *self,
                            NotesNoteItem  *item,
                            const char     *title,
                            GError        **error)
{
  g_autoptr(PatchesPatch) patch = NULL;
  PatchesDoc *doc;
  PatchesValue *state;

  g_return_val_if_fail (NOTES_IS_NOTEBOOK (self), FALSE);
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (item), FALSE);
  g_return_val_if_fail (title != NULL, FALSE);

  doc = notes_note_item_get_doc (item);
  if (doc == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The note could not be opened"));
      return FALSE;
    }

  state = patches_doc_get_state (doc);
  patch = patches_patch_new ();
  patch_set_member (patch, state, "title", patches_value_new_string (title));
  patch_set_member (patch, state, "updatedAt", patches_value_new_number ((double) now_ms ()));

  return apply_patch (doc, patch, error);
}

/**
 * notes_notebook_set_pinned:
 * @self: a #NotesNotebook
 * @item: a listed note
 * @pinned: whether to pin it
 * @error: return location for a #GError
 *
 * Pins the note to the top of the list, or unpins it.
 *
 * Returns: %TRUE when the change was made (or nothing had to change)
 */
gboolean
notes_notebook_set_pinned (NotesNotebook  *self,
                           NotesNoteItem  *item,
                           gboolean        pinned,
                           GError        **error)
{
  g_autoptr(PatchesPatch) patch = NULL;
  PatchesDoc *doc;

  g_return_val_if_fail (NOTES_IS_NOTEBOOK (self), FALSE);
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (item), FALSE);

  doc = notes_note_item_get_doc (item);
  if (doc == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The note could not be opened"));
      return FALSE;
    }

  if (!!pinned == notes_note_item_get_pinned (item))
    return TRUE;

  patch = patches_patch_new ();
  patch_set_member (patch, patches_doc_get_state (doc), "pinned", patches_value_new_bool (!!pinned));

  return apply_patch (doc, patch, error);
}

/**
 * notes_notebook_delete_note:
 * @self: a #NotesNotebook
 * @item: a listed note
 * @error: return location for a #GError
 *
 * Removes the note from the notebook.  Its document stays (and keeps
 * syncing) until notes_notebook_finish_delete() deletes it, so that
 * notes_notebook_undo_delete() can bring the note back.
 *
 * Returns: %TRUE when the note left the notebook
 */
gboolean
notes_notebook_delete_note (NotesNotebook  *self,
                            NotesNoteItem  *item,
                            GError        **error)
{
  g_autoptr(PatchesPatch) patch = NULL;
  g_autofree char *path = NULL;
  DeletedNote *deleted;
  const char *note_id;

  g_return_val_if_fail (NOTES_IS_NOTEBOOK (self), FALSE);
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (item), FALSE);

  note_id = notes_note_item_get_note_id (item);
  if (self->doc == NULL || notes_notebook_find (self, note_id) != item)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The note is not in this notebook"));
      return FALSE;
    }

  deleted = g_new0 (DeletedNote, 1);
  deleted->item = g_object_ref (item);
  deleted->order = g_strdup (notes_note_item_get_order (item));
  deleted->created_at = notes_note_item_get_created_at (item);
  g_hash_table_replace (self->deleted, g_strdup (note_id), deleted);

  path = note_entry_path (note_id);
  patch = patches_patch_new ();
  patches_patch_remove (patch, path);

  if (!apply_patch (self->doc, patch, error))
    {
      g_hash_table_remove (self->deleted, note_id);
      return FALSE;
    }

  return TRUE;
}

/**
 * notes_notebook_undo_delete:
 * @self: a #NotesNotebook
 * @note_id: the id of a note deleted with notes_notebook_delete_note()
 * @error: return location for a #GError
 *
 * Puts the note back where it was.
 *
 * Returns: %TRUE when the note is listed again
 */
gboolean
notes_notebook_undo_delete (NotesNotebook  *self,
                            const char     *note_id,
                            GError        **error)
{
  DeletedNote *deleted;
  g_autofree char *order = NULL;

  g_return_val_if_fail (NOTES_IS_NOTEBOOK (self), FALSE);
  g_return_val_if_fail (note_id != NULL, FALSE);

  note_id = strip_note_prefix (note_id);
  deleted = g_hash_table_lookup (self->deleted, note_id);
  if (deleted == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The note was already deleted"));
      return FALSE;
    }

  if (deleted->order != NULL)
    order = g_strdup (deleted->order);
  else if ((order = notes_notebook_next_order (self, error)) == NULL)
    return FALSE;

  /* Still in the table while the entry comes back, so that the item (and
   * its open document) is the one reused */
  if (!notes_notebook_add_entry (self, note_id, order, deleted->created_at, error))
    return FALSE;

  g_hash_table_remove (self->deleted, note_id);

  return TRUE;
}

/**
 * notes_notebook_finish_delete:
 * @self: a #NotesNotebook
 * @note_id: the id of a note deleted with notes_notebook_delete_note()
 *
 * Makes a deletion final: deletes the note's document (locally now, on
 * the server when connected).
 */
void
notes_notebook_finish_delete (NotesNotebook *self,
                              const char    *note_id)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *doc_id = NULL;

  g_return_if_fail (NOTES_IS_NOTEBOOK (self));
  g_return_if_fail (note_id != NULL);

  note_id = strip_note_prefix (note_id);
  if (!g_hash_table_remove (self->deleted, note_id))
    return;

  /* Undone meanwhile by someone else: the note is listed again */
  if (notes_notebook_find (self, note_id) != NULL)
    return;

  doc_id = g_strconcat (NOTE_PREFIX, note_id, NULL);
  if (!patches_client_delete_doc (self->client, doc_id, &error))
    g_message ("Could not delete %s: %s", doc_id, error->message);
}

/**
 * notes_notebook_finish_all_deletes:
 * @self: a #NotesNotebook
 *
 * Makes every deletion that could still be undone final (when the
 * window closes).
 */
void
notes_notebook_finish_all_deletes (NotesNotebook *self)
{
  g_autofree char **ids = NULL;

  g_return_if_fail (NOTES_IS_NOTEBOOK (self));

  ids = (char **) g_hash_table_get_keys_as_array (self->deleted, NULL);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autofree char *id = g_strdup (ids[i]);

      notes_notebook_finish_delete (self, id);
    }
}

/**
 * notes_notebook_forget_note:
 * @self: a #NotesNotebook
 * @note_or_doc_id: a note id or its document id
 *
 * Takes a note whose document was deleted on the server out of the
 * notebook (the device that deleted it normally did so already).
 */
void
notes_notebook_forget_note (NotesNotebook *self,
                            const char    *note_or_doc_id)
{
  g_autoptr(PatchesPatch) patch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  PatchesValue *notes;
  const char *note_id;

  g_return_if_fail (NOTES_IS_NOTEBOOK (self));
  g_return_if_fail (note_or_doc_id != NULL);

  note_id = strip_note_prefix (note_or_doc_id);
  g_hash_table_remove (self->deleted, note_id);

  notes = notes_notebook_get_notes (self);
  if (notes == NULL || !patches_value_object_has (notes, note_id))
    return;

  path = note_entry_path (note_id);
  patch = patches_patch_new ();
  patches_patch_remove (patch, path);
  if (!apply_patch (self->doc, patch, &error))
    g_message ("Could not take %s out of the notebook: %s", note_id, error->message);
}
