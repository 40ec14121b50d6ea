/* notes-note-item.c
 *
 * A note as a list item.  The cheap fields (title, pinned, updatedAt) are
 * read again on every update of the document; the body, which can be
 * large, only when an op touched it, and then once per main-loop pass
 * however many updates arrived.
 *
 * An item made with notes_note_item_new_for_client() keeps only what the
 * list shows (a few hundred bytes) while its document is closed: a notebook
 * of 1,000 notes would otherwise hold 1,000 document states (10 MB and
 * more) for a list that shows twenty rows.  Its notebook tells it when
 * the document changed (notes_note_item_refresh()) or its sync state did
 * (notes_note_item_refresh_sync_state()), and the document is opened,
 * for good, the first time notes_note_item_get_doc() is asked for it
 * (to edit it, rename it, pin it).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "patches-patch.h"
#include "patches-store.h"
#include "patches-text.h"

#include "notes-note-item.h"

/* The snippet is the first line of the body, cut at this many characters */
#define SNIPPET_MAX_CHARS 120

struct _NotesNoteItem
{
  GObject         parent_instance;

  char           *note_id;
  char           *doc_id;
  PatchesClient  *client;       /* opens the document on demand */
  PatchesSync    *sync;         /* the sync state while it is closed */
  PatchesDoc     *doc;
  gulong          update_handler;
  gulong          status_handler;
  gulong          pending_handler;
  gulong          error_handler;
  gulong          n_pending_handler;

  char           *title;
  char           *snippet;
  char           *search_key;   /* casefolded title + body, built lazily */
  char           *order;
  gint64          updated_at;
  gint64          created_at;
  gboolean        pinned;
  NotesSyncBadge  badge;
  char           *sync_error;   /* while closed: the last sync error */
  guint           n_pending;    /* changes waiting to be sent */

  guint           body_idle;
};

enum {
  PROP_0,
  PROP_NOTE_ID,
  PROP_DOC_ID,
  PROP_DOC,
  PROP_TITLE,
  PROP_DISPLAY_TITLE,
  PROP_SNIPPET,
  PROP_UPDATED_AT,
  PROP_PINNED,
  PROP_ORDER,
  PROP_CREATED_AT,
  PROP_BADGE,
  PROP_BADGE_ICON_NAME,
  PROP_BADGE_TOOLTIP,
  PROP_CLIENT,
  PROP_N_PENDING,
  N_PROPS
};

enum {
  CHANGED,
  N_SIGNALS
};

G_DEFINE_ENUM_TYPE (NotesSyncBadge, notes_sync_badge,
                    G_DEFINE_ENUM_VALUE (NOTES_SYNC_BADGE_SAVED, "saved"),
                    G_DEFINE_ENUM_VALUE (NOTES_SYNC_BADGE_PENDING, "pending"),
                    G_DEFINE_ENUM_VALUE (NOTES_SYNC_BADGE_SYNCING, "syncing"),
                    G_DEFINE_ENUM_VALUE (NOTES_SYNC_BADGE_ERROR, "error"))

G_DEFINE_FINAL_TYPE (NotesNoteItem, notes_note_item, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/**
 * notes_plain_text_from_value:
 * @value: (nullable): a rich-text value (`@txt`), a `{"ops": […]}`
 *   object or a plain string
 *
 * Returns: (transfer full): the text without formatting ("" for
 *   anything else)
 */
char *
notes_plain_text_from_value (PatchesValue *value)
{
  if (value == NULL)
    return g_strdup ("");

  switch (patches_value_get_kind (value))
    {
    case PATCHES_VALUE_TEXT:
      return patches_text_to_plain (patches_value_get_text (value));

    case PATCHES_VALUE_STRING:
      return g_strdup (patches_value_get_string (value));

    case PATCHES_VALUE_OBJECT:
    case PATCHES_VALUE_ARRAY:
      {
        PatchesDelta *delta = patches_delta_from_value (value, NULL);
        g_autoptr(PatchesText) text = NULL;

        if (delta == NULL)
          return g_strdup ("");
        text = patches_text_new_from_delta (delta);
        return patches_text_to_plain (text);
      }

    case PATCHES_VALUE_NULL:
    case PATCHES_VALUE_BOOL:
    case PATCHES_VALUE_NUMBER:
    default:
      return g_strdup ("");
    }
}

static PatchesValue *
state_field (PatchesValue *state,
             const char   *key)
{
  if (state == NULL || patches_value_get_kind (state) != PATCHES_VALUE_OBJECT)
    return NULL;

  return patches_value_object_get (state, key);
}

/* The state of a closed note and how many of its changes wait.  Read
 * from the store when nothing waits, which leaves the client's cache of
 * the document's revision alone (the sync engine asks it for every
 * tracked document); otherwise through the client, which applies the
 * waiting changes (the document is opened and closed again) */
static PatchesValue *
notes_note_item_read_closed (NotesNoteItem *self,
                             guint         *n_pending)
{
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(PatchesDoc) doc = NULL;
  g_autoptr(GError) error = NULL;
  PatchesValue *state;

  *n_pending = 0;

  stored = patches_store_load_doc (patches_client_get_store (self->client), self->doc_id, &error);
  if (stored == NULL)
    {
      /* Not synced yet: nothing to show */
      if (!g_error_matches (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND))
        g_debug ("Could not read %s: %s", self->doc_id, error->message);
      return NULL;
    }

  if (stored->deleted)
    return NULL;

  if (stored->pending == NULL || stored->pending->len == 0)
    return stored->state != NULL ? patches_value_ref (stored->state) : NULL;

  if (!patches_client_is_tracked (self->client, self->doc_id))
    return NULL;

  doc = patches_client_open_doc (self->client, self->doc_id, &error);
  if (doc == NULL)
    {
      g_debug ("Could not read %s: %s", self->doc_id, error->message);
      return NULL;
    }

  state = patches_value_ref (patches_doc_get_state (doc));
  *n_pending = patches_doc_get_n_pending (doc);
  patches_client_close_doc (self->client, self->doc_id);

  return state;
}

/* The state of the note: the open document's, or for a closed one what
 * the store has (and how many changes wait, in @n_pending) */
static PatchesValue *
notes_note_item_dup_state (NotesNoteItem *self,
                           guint         *n_pending)
{
  PatchesDoc *open;
  guint ignored;

  if (n_pending == NULL)
    n_pending = &ignored;
  *n_pending = 0;

  if (self->doc != NULL)
    {
      *n_pending = patches_doc_get_n_pending (self->doc);
      return patches_value_ref (patches_doc_get_state (self->doc));
    }

  if (self->client == NULL)
    return NULL;

  open = patches_client_get_open_doc (self->client, self->doc_id);
  if (open != NULL)
    {
      *n_pending = patches_doc_get_n_pending (open);
      return patches_value_ref (patches_doc_get_state (open));
    }

  return notes_note_item_read_closed (self, n_pending);
}

/* The first line with something on it, trimmed and cut short */
static char *
notes_note_item_first_line (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);

      if (line[0] == '\0')
        continue;

      /* U+FFFC stands for an embed: no text to show */
      if (g_str_equal (line, "\xEF\xBF\xBC"))
        continue;

      if (g_utf8_strlen (line, -1) > SNIPPET_MAX_CHARS)
        {
          g_autofree char *cut = g_utf8_substring (line, 0, SNIPPET_MAX_CHARS);

          return g_strconcat (cut, "…", NULL);
        }

      return g_strdup (line);
    }

  return g_strdup ("");
}

/* Returns whether the snippet changed */
static gboolean
notes_note_item_refresh_body (NotesNoteItem *self,
                              PatchesValue  *state)
{
  g_autofree char *body = notes_plain_text_from_value (state_field (state, "body"));
  g_autofree char *snippet = notes_note_item_first_line (body);

  g_clear_pointer (&self->search_key, g_free);

  if (g_strcmp0 (snippet, self->snippet) != 0)
    {
      g_free (self->snippet);
      self->snippet = g_steal_pointer (&snippet);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SNIPPET]);
      return TRUE;
    }

  return FALSE;
}

static gboolean
notes_note_item_body_idle_cb (gpointer user_data)
{
  NotesNoteItem *self = user_data;
  g_autoptr(PatchesValue) state = notes_note_item_dup_state (self, NULL);

  self->body_idle = 0;
  if (notes_note_item_refresh_body (self, state))
    g_signal_emit (self, signals[CHANGED], 0);

  return G_SOURCE_REMOVE;
}

/* Returns whether the title, pinned or updatedAt changed */
static gboolean
notes_note_item_refresh_fields (NotesNoteItem *self,
                                PatchesValue  *state)
{
  PatchesValue *title = state_field (state, "title");
  PatchesValue *pinned = state_field (state, "pinned");
  PatchesValue *updated_at = state_field (state, "updatedAt");
  const char *new_title = "";
  gboolean new_pinned = FALSE;
  gint64 new_updated_at = 0;
  gboolean changed = FALSE;

  if (title != NULL && patches_value_get_kind (title) == PATCHES_VALUE_STRING)
    new_title = patches_value_get_string (title);
  if (pinned != NULL)
    new_pinned = patches_value_truthy (pinned);
  if (updated_at != NULL && patches_value_get_kind (updated_at) == PATCHES_VALUE_NUMBER)
    new_updated_at = (gint64) patches_value_get_number (updated_at);

  g_object_freeze_notify (G_OBJECT (self));

  if (g_strcmp0 (new_title, self->title) != 0)
    {
      g_free (self->title);
      self->title = g_strdup (new_title);
      g_clear_pointer (&self->search_key, g_free);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_TITLE]);
      changed = TRUE;
    }

  if (new_pinned != self->pinned)
    {
      self->pinned = new_pinned;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PINNED]);
      changed = TRUE;
    }

  if (new_updated_at != self->updated_at)
    {
      self->updated_at = new_updated_at;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UPDATED_AT]);
      changed = TRUE;
    }

  g_object_thaw_notify (G_OBJECT (self));

  return changed;
}

static void
notes_note_item_set_n_pending (NotesNoteItem *self,
                               guint          n_pending)
{
  if (n_pending != self->n_pending)
    {
      self->n_pending = n_pending;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_PENDING]);
    }
}

static void
notes_note_item_refresh_badge (NotesNoteItem *self)
{
  NotesSyncBadge badge = NOTES_SYNC_BADGE_SAVED;
  g_autofree char *sync_error = NULL;
  gboolean error_changed;

  if (self->doc != NULL)
    {
      PatchesSyncStatus status = patches_doc_get_sync_status (self->doc);

      if (status == PATCHES_SYNC_STATUS_ERROR)
        badge = NOTES_SYNC_BADGE_ERROR;
      else if (status == PATCHES_SYNC_STATUS_SYNCING)
        badge = NOTES_SYNC_BADGE_SYNCING;
      else if (patches_doc_get_has_pending (self->doc))
        badge = NOTES_SYNC_BADGE_PENDING;
    }
  else if (self->client != NULL)
    {
      g_autoptr(PatchesDocSyncState) state = NULL;

      if (self->sync != NULL)
        state = patches_sync_get_doc_state (self->sync, self->doc_id);

      /* The count is read with the state; asking the client for it would
       * read the whole document from the store when it is not cached.
       * Only when the sync engine knows of waiting changes that were not
       * counted (or there is no sync engine) is it asked */
      if (state != NULL && !state->has_pending)
        notes_note_item_set_n_pending (self, 0);
      else if (state == NULL || self->n_pending == 0)
        {
          g_autoptr(GPtrArray) pending = patches_client_dup_pending (self->client, self->doc_id, NULL);

          notes_note_item_set_n_pending (self, pending != NULL ? pending->len : 0);
        }

      if (state != NULL && state->status == PATCHES_SYNC_STATUS_ERROR)
        {
          badge = NOTES_SYNC_BADGE_ERROR;
          sync_error = g_strdup (state->error ? state->error->message : NULL);
        }
      else if (state != NULL && state->status == PATCHES_SYNC_STATUS_SYNCING)
        badge = NOTES_SYNC_BADGE_SYNCING;
      else if (self->n_pending > 0 || (state != NULL && state->has_pending))
        badge = NOTES_SYNC_BADGE_PENDING;
    }

  error_changed = g_strcmp0 (sync_error, self->sync_error) != 0;
  if (error_changed)
    {
      g_free (self->sync_error);
      self->sync_error = g_steal_pointer (&sync_error);
    }

  if (badge != self->badge)
    {
      self->badge = badge;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BADGE]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BADGE_ICON_NAME]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BADGE_TOOLTIP]);
    }
  else if (badge == NOTES_SYNC_BADGE_ERROR && (self->doc != NULL || error_changed))
    {
      /* The error text may change while the badge stays "error" */
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BADGE_TOOLTIP]);
    }
}

static gboolean
notes_note_item_patch_touches_body (PatchesPatch *patch)
{
  guint n_ops;

  if (patch == NULL)
    return TRUE;

  n_ops = patches_patch_get_n_ops (patch);
  for (guint i = 0; i < n_ops; i++)
    {
      const PatchesOp *op = patches_patch_get_op (patch, i);

      if (op->path == NULL || op->path[0] == '\0')
        return TRUE;
      if (g_str_has_prefix (op->path, "/body") &&
          (op->path[5] == '\0' || op->path[5] == '/'))
        return TRUE;
      if (op->from != NULL && g_str_has_prefix (op->from, "/body"))
        return TRUE;
    }

  return FALSE;
}

/* A patch that replaces the whole document (a reload) */
static gboolean
notes_note_item_patch_is_reset (PatchesPatch *patch)
{
  if (patch == NULL)
    return TRUE;

  for (guint i = 0; i < patches_patch_get_n_ops (patch); i++)
    {
      const PatchesOp *op = patches_patch_get_op (patch, i);

      if (op->path == NULL || op->path[0] == '\0')
        return TRUE;
    }

  return FALSE;
}

static void
notes_note_item_doc_update_cb (PatchesDoc    *doc,
                               PatchesPatch  *patch,
                               gboolean       local,
                               NotesNoteItem *self)
{
  PatchesValue *state = patches_doc_get_state (doc);
  gboolean changed = notes_note_item_refresh_fields (self, state);

  if (notes_note_item_patch_is_reset (patch))
    {
      /* A whole new state (a reload, a document that arrived): at once,
       * so that the list hears of it once */
      g_clear_handle_id (&self->body_idle, g_source_remove);
      changed |= notes_note_item_refresh_body (self, state);
    }
  else if (notes_note_item_patch_touches_body (patch))
    {
      g_clear_pointer (&self->search_key, g_free);
      if (self->body_idle == 0)
        self->body_idle = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE,
                                           notes_note_item_body_idle_cb, self, NULL);
    }

  if (changed)
    g_signal_emit (self, signals[CHANGED], 0);
}

static void
notes_note_item_doc_status_cb (PatchesDoc    *doc,
                               GParamSpec    *pspec,
                               NotesNoteItem *self)
{
  notes_note_item_refresh_badge (self);
}

static void
notes_note_item_doc_n_pending_cb (PatchesDoc    *doc,
                                  GParamSpec    *pspec,
                                  NotesNoteItem *self)
{
  notes_note_item_set_n_pending (self, patches_doc_get_n_pending (doc));
}

static void
notes_note_item_follow_doc (NotesNoteItem *self,
                            PatchesDoc    *doc)
{
  g_assert (self->doc == NULL);

  self->doc = g_object_ref (doc);
  self->update_handler =
    g_signal_connect (self->doc, "update", G_CALLBACK (notes_note_item_doc_update_cb), self);
  self->status_handler =
    g_signal_connect (self->doc, "notify::sync-status", G_CALLBACK (notes_note_item_doc_status_cb), self);
  self->pending_handler =
    g_signal_connect (self->doc, "notify::has-pending", G_CALLBACK (notes_note_item_doc_status_cb), self);
  self->error_handler =
    g_signal_connect (self->doc, "notify::sync-error", G_CALLBACK (notes_note_item_doc_status_cb), self);
  self->n_pending_handler =
    g_signal_connect (self->doc, "notify::n-pending", G_CALLBACK (notes_note_item_doc_n_pending_cb), self);

  g_clear_pointer (&self->sync_error, g_free);
  notes_note_item_set_n_pending (self, patches_doc_get_n_pending (doc));
}

static void
notes_note_item_dispose (GObject *object)
{
  NotesNoteItem *self = NOTES_NOTE_ITEM (object);

  g_clear_handle_id (&self->body_idle, g_source_remove);

  if (self->doc != NULL)
    {
      g_clear_signal_handler (&self->update_handler, self->doc);
      g_clear_signal_handler (&self->status_handler, self->doc);
      g_clear_signal_handler (&self->pending_handler, self->doc);
      g_clear_signal_handler (&self->error_handler, self->doc);
      g_clear_signal_handler (&self->n_pending_handler, self->doc);
    }
  g_clear_object (&self->doc);
  g_clear_object (&self->sync);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (notes_note_item_parent_class)->dispose (object);
}

static void
notes_note_item_finalize (GObject *object)
{
  NotesNoteItem *self = NOTES_NOTE_ITEM (object);

  g_clear_pointer (&self->note_id, g_free);
  g_clear_pointer (&self->doc_id, g_free);
  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->snippet, g_free);
  g_clear_pointer (&self->search_key, g_free);
  g_clear_pointer (&self->order, g_free);
  g_clear_pointer (&self->sync_error, g_free);

  G_OBJECT_CLASS (notes_note_item_parent_class)->finalize (object);
}

static void
notes_note_item_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  NotesNoteItem *self = NOTES_NOTE_ITEM (object);

  switch (prop_id)
    {
    case PROP_NOTE_ID:
      g_value_set_string (value, self->note_id);
      break;

    case PROP_DOC_ID:
      g_value_set_string (value, self->doc_id);
      break;

    case PROP_DOC:
      g_value_set_object (value, self->doc);
      break;

    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;

    case PROP_DISPLAY_TITLE:
      g_value_set_string (value, notes_note_item_get_display_title (self));
      break;

    case PROP_SNIPPET:
      g_value_set_string (value, self->snippet);
      break;

    case PROP_UPDATED_AT:
      g_value_set_int64 (value, self->updated_at);
      break;

    case PROP_PINNED:
      g_value_set_boolean (value, self->pinned);
      break;

    case PROP_ORDER:
      g_value_set_string (value, self->order);
      break;

    case PROP_CREATED_AT:
      g_value_set_int64 (value, self->created_at);
      break;

    case PROP_BADGE:
      g_value_set_enum (value, self->badge);
      break;

    case PROP_BADGE_ICON_NAME:
      g_value_set_string (value, notes_note_item_get_badge_icon_name (self));
      break;

    case PROP_BADGE_TOOLTIP:
      g_value_take_string (value, notes_note_item_dup_badge_tooltip (self));
      break;

    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;

    case PROP_N_PENDING:
      g_value_set_uint (value, self->n_pending);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_note_item_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  NotesNoteItem *self = NOTES_NOTE_ITEM (object);

  switch (prop_id)
    {
    case PROP_NOTE_ID:
      self->note_id = g_value_dup_string (value);
      self->doc_id = g_strconcat ("note/", self->note_id, NULL);
      break;

    case PROP_DOC:
      g_assert (self->doc == NULL);
      if (g_value_get_object (value) != NULL)
        notes_note_item_follow_doc (self, g_value_get_object (value));
      break;

    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;

    case PROP_ORDER:
      notes_note_item_set_order (self, g_value_get_string (value));
      break;

    case PROP_CREATED_AT:
      notes_note_item_set_created_at (self, g_value_get_int64 (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_note_item_constructed (GObject *object)
{
  NotesNoteItem *self = NOTES_NOTE_ITEM (object);

  G_OBJECT_CLASS (notes_note_item_parent_class)->constructed (object);

  /* A document someone has open already is followed rather than read */
  if (self->doc == NULL && self->client != NULL &&
      patches_client_get_open_doc (self->client, self->doc_id) != NULL)
    notes_note_item_follow_doc (self, patches_client_get_open_doc (self->client, self->doc_id));

  notes_note_item_refresh (self);
}

static void
notes_note_item_class_init (NotesNoteItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = notes_note_item_constructed;
  object_class->dispose = notes_note_item_dispose;
  object_class->finalize = notes_note_item_finalize;
  object_class->get_property = notes_note_item_get_property;
  object_class->set_property = notes_note_item_set_property;

  /**
   * NotesNoteItem:note-id:
   *
   * The note's id (its document is `note/<id>`).
   */
  properties[PROP_NOTE_ID] =
    g_param_spec_string ("note-id", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNoteItem:doc-id:
   *
   * The note's document id, `note/<id>`.
   */
  properties[PROP_DOC_ID] =
    g_param_spec_string ("doc-id", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNoteItem:doc:
   *
   * The open document the item follows, or %NULL when it could not be
   * opened.
   */
  properties[PROP_DOC] =
    g_param_spec_object ("doc", NULL, NULL,
                         PATCHES_TYPE_DOC,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNoteItem:client:
   *
   * The client that opens the note's document when it is first needed
   * (see notes_note_item_new_for_client()), or %NULL.
   */
  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL,
                         PATCHES_TYPE_CLIENT,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNoteItem:n-pending:
   *
   * How many changes of the note wait to be sent to the server.
   */
  properties[PROP_N_PENDING] =
    g_param_spec_uint ("n-pending", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNoteItem:title:
   *
   * The note's title as stored ("" when it has none).
   */
  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL,
                         "",
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNoteItem:display-title:
   *
   * The title to show: the title, or "Untitled note".
   */
  properties[PROP_DISPLAY_TITLE] =
    g_param_spec_string ("display-title", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNoteItem:snippet:
   *
   * The first line of the body with text on it.
   */
  properties[PROP_SNIPPET] =
    g_param_spec_string ("snippet", NULL, NULL,
                         "",
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNoteItem:updated-at:
   *
   * When the note last changed (`updatedAt`, ms since the epoch; 0 when
   * unknown).
   */
  properties[PROP_UPDATED_AT] =
    g_param_spec_int64 ("updated-at", NULL, NULL,
                        G_MININT64, G_MAXINT64, 0,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNoteItem:pinned:
   *
   * Whether the note is pinned to the top of the list.
   */
  properties[PROP_PINNED] =
    g_param_spec_boolean ("pinned", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNoteItem:order:
   *
   * The note's fractional order key in the notebook.
   */
  properties[PROP_ORDER] =
    g_param_spec_string ("order", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNoteItem:created-at:
   *
   * When the note was added to the notebook (ms since the epoch).
   */
  properties[PROP_CREATED_AT] =
    g_param_spec_int64 ("created-at", NULL, NULL,
                        G_MININT64, G_MAXINT64, 0,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNoteItem:badge:
   *
   * How far the note is synced.
   */
  properties[PROP_BADGE] =
    g_param_spec_enum ("badge", NULL, NULL,
                       NOTES_TYPE_SYNC_BADGE, NOTES_SYNC_BADGE_SAVED,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNoteItem:badge-icon-name:
   *
   * The icon of the sync badge.
   */
  properties[PROP_BADGE_ICON_NAME] =
    g_param_spec_string ("badge-icon-name", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesNoteItem:badge-tooltip:
   *
   * The sync badge in words.
   */
  properties[PROP_BADGE_TOOLTIP] =
    g_param_spec_string ("badge-tooltip", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * NotesNoteItem::changed:
   * @self: a #NotesNoteItem
   *
   * Emitted once after what a list sorts, filters and shows by changed:
   * the title, the snippet, whether it is pinned, when it was updated.
   */
  signals[CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 0);
}

static void
notes_note_item_init (NotesNoteItem *self)
{
  self->title = g_strdup ("");
  self->snippet = g_strdup ("");
}

/**
 * notes_note_item_new:
 * @note_id: the note's id (without the `note/` prefix)
 * @doc: (nullable): the note's open document
 *
 * Returns: (transfer full): a new item following @doc
 */
NotesNoteItem *
notes_note_item_new (const char *note_id,
                     PatchesDoc *doc)
{
  g_return_val_if_fail (note_id != NULL, NULL);
  g_return_val_if_fail (doc == NULL || PATCHES_IS_DOC (doc), NULL);

  return g_object_new (NOTES_TYPE_NOTE_ITEM,
                       "note-id", note_id,
                       "doc", doc,
                       NULL);
}

/**
 * notes_note_item_new_for_client:
 * @note_id: the note's id (without the `note/` prefix)
 * @client: the client that tracks the note's document
 *
 * Creates an item that keeps only what the list shows while the note's
 * document is closed; notes_note_item_get_doc() opens it.  A document
 * that is open already is followed at once.
 *
 * Returns: (transfer full): a new item
 */
NotesNoteItem *
notes_note_item_new_for_client (const char    *note_id,
                                PatchesClient *client)
{
  g_return_val_if_fail (note_id != NULL, NULL);
  g_return_val_if_fail (PATCHES_IS_CLIENT (client), NULL);

  return g_object_new (NOTES_TYPE_NOTE_ITEM,
                       "note-id", note_id,
                       "client", client,
                       NULL);
}

/**
 * notes_note_item_refresh:
 * @self: a #NotesNoteItem
 *
 * Reads every field from the document again, at once (for a closed
 * document, from the client's store: call it when the document changed).
 */
void
notes_note_item_refresh (NotesNoteItem *self)
{
  g_autoptr(PatchesValue) state = NULL;
  guint n_pending;
  gboolean changed;

  g_return_if_fail (NOTES_IS_NOTE_ITEM (self));

  state = notes_note_item_dup_state (self, &n_pending);
  if (self->doc == NULL)
    notes_note_item_set_n_pending (self, n_pending);
  g_clear_handle_id (&self->body_idle, g_source_remove);
  changed = notes_note_item_refresh_fields (self, state);
  changed |= notes_note_item_refresh_body (self, state);
  notes_note_item_refresh_badge (self);

  if (changed)
    g_signal_emit (self, signals[CHANGED], 0);
}

/**
 * notes_note_item_refresh_sync_state:
 * @self: a #NotesNoteItem
 *
 * Reads the sync badge and the number of waiting changes again (call it
 * when they may have changed while the document is closed; an open
 * document tells the item itself).
 */
void
notes_note_item_refresh_sync_state (NotesNoteItem *self)
{
  g_return_if_fail (NOTES_IS_NOTE_ITEM (self));

  notes_note_item_refresh_badge (self);
}

/**
 * notes_note_item_set_sync:
 * @self: a #NotesNoteItem
 * @sync: (nullable): the sync engine of the item's client
 *
 * Where the sync state of the note comes from while its document is
 * closed.
 */
void
notes_note_item_set_sync (NotesNoteItem *self,
                          PatchesSync   *sync)
{
  g_return_if_fail (NOTES_IS_NOTE_ITEM (self));
  g_return_if_fail (sync == NULL || PATCHES_IS_SYNC (sync));

  if (g_set_object (&self->sync, sync))
    notes_note_item_refresh_badge (self);
}

/**
 * notes_note_item_get_note_id:
 * @self: a #NotesNoteItem
 *
 * Returns: the note's id
 */
const char *
notes_note_item_get_note_id (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), NULL);

  return self->note_id;
}

/**
 * notes_note_item_get_doc_id:
 * @self: a #NotesNoteItem
 *
 * Returns: the note's document id, `note/<id>`
 */
const char *
notes_note_item_get_doc_id (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), NULL);

  return self->doc_id;
}

/**
 * notes_note_item_get_doc:
 * @self: a #NotesNoteItem
 *
 * The note's document, opened (and from then on followed) the first
 * time it is asked for.
 *
 * Returns: (transfer none) (nullable): the note's document, %NULL when
 *   it cannot be opened
 */
PatchesDoc *
notes_note_item_get_doc (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), NULL);

  if (self->doc == NULL && self->client != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PatchesDoc) doc = patches_client_open_doc (self->client, self->doc_id, &error);

      if (doc == NULL)
        {
          g_debug ("Could not open %s: %s", self->doc_id, error->message);
          return NULL;
        }

      notes_note_item_follow_doc (self, doc);
      notes_note_item_refresh (self);
    }

  return self->doc;
}

/**
 * notes_note_item_peek_doc:
 * @self: a #NotesNoteItem
 *
 * Returns: (transfer none) (nullable): the note's document if it is
 *   open, without opening it
 */
PatchesDoc *
notes_note_item_peek_doc (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), NULL);

  return self->doc;
}

/**
 * notes_note_item_get_n_pending:
 * @self: a #NotesNoteItem
 *
 * Returns: how many changes of the note wait to be sent
 */
guint
notes_note_item_get_n_pending (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), 0);

  return self->n_pending;
}

/**
 * notes_note_item_get_title:
 * @self: a #NotesNoteItem
 *
 * Returns: the title as stored, "" when there is none
 */
const char *
notes_note_item_get_title (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), NULL);

  return self->title;
}

/**
 * notes_note_item_get_display_title:
 * @self: a #NotesNoteItem
 *
 * Returns: the title to show people ("Untitled note" for an empty one)
 */
const char *
notes_note_item_get_display_title (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), NULL);

  if (self->title[0] == '\0')
    return _("Untitled note");

  return self->title;
}

/**
 * notes_note_item_get_snippet:
 * @self: a #NotesNoteItem
 *
 * Returns: the first line of the body that has text
 */
const char *
notes_note_item_get_snippet (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), NULL);

  return self->snippet;
}

/**
 * notes_note_item_get_updated_at:
 * @self: a #NotesNoteItem
 *
 * Returns: when the note last changed, in ms since the epoch (0 if unknown)
 */
gint64
notes_note_item_get_updated_at (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), 0);

  return self->updated_at;
}

/**
 * notes_note_item_get_pinned:
 * @self: a #NotesNoteItem
 *
 * Returns: whether the note is pinned
 */
gboolean
notes_note_item_get_pinned (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), FALSE);

  return self->pinned;
}

/**
 * notes_note_item_get_order:
 * @self: a #NotesNoteItem
 *
 * Returns: (nullable): the note's order key in the notebook
 */
const char *
notes_note_item_get_order (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), NULL);

  return self->order;
}

/**
 * notes_note_item_set_order:
 * @self: a #NotesNoteItem
 * @order: (nullable): the order key
 *
 * Sets the order key the notebook gives the note.
 */
void
notes_note_item_set_order (NotesNoteItem *self,
                           const char    *order)
{
  g_return_if_fail (NOTES_IS_NOTE_ITEM (self));

  if (g_strcmp0 (self->order, order) == 0)
    return;

  g_free (self->order);
  self->order = g_strdup (order);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ORDER]);
}

/**
 * notes_note_item_get_created_at:
 * @self: a #NotesNoteItem
 *
 * Returns: when the note was added to the notebook (ms since the epoch)
 */
gint64
notes_note_item_get_created_at (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), 0);

  return self->created_at;
}

/**
 * notes_note_item_set_created_at:
 * @self: a #NotesNoteItem
 * @created_at: ms since the epoch
 *
 * Sets the creation time the notebook records for the note.
 */
void
notes_note_item_set_created_at (NotesNoteItem *self,
                                gint64         created_at)
{
  g_return_if_fail (NOTES_IS_NOTE_ITEM (self));

  if (self->created_at != created_at)
    {
      self->created_at = created_at;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CREATED_AT]);
    }
}

/**
 * notes_note_item_get_badge:
 * @self: a #NotesNoteItem
 *
 * Returns: how far the note is synced
 */
NotesSyncBadge
notes_note_item_get_badge (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), NOTES_SYNC_BADGE_SAVED);

  return self->badge;
}

/**
 * notes_note_item_get_badge_icon_name:
 * @self: a #NotesNoteItem
 *
 * Returns: the icon name of the sync badge
 */
const char *
notes_note_item_get_badge_icon_name (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), NULL);

  switch (self->badge)
    {
    case NOTES_SYNC_BADGE_PENDING:
      return "document-save-symbolic";
    case NOTES_SYNC_BADGE_SYNCING:
      return "emblem-synchronizing-symbolic";
    case NOTES_SYNC_BADGE_ERROR:
      return "dialog-warning-symbolic";
    case NOTES_SYNC_BADGE_SAVED:
    default:
      return "emblem-ok-symbolic";
    }
}

/**
 * notes_note_item_dup_badge_tooltip:
 * @self: a #NotesNoteItem
 *
 * Returns: (transfer full): the sync badge in words
 */
char *
notes_note_item_dup_badge_tooltip (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), NULL);

  switch (self->badge)
    {
    case NOTES_SYNC_BADGE_PENDING:
      return g_strdup (_("Saved on this device, waiting to sync"));

    case NOTES_SYNC_BADGE_SYNCING:
      return g_strdup (_("Syncing…"));

    case NOTES_SYNC_BADGE_ERROR:
      {
        const GError *error = self->doc ? patches_doc_get_sync_error (self->doc) : NULL;
        const char *message = error != NULL ? error->message : self->sync_error;

        /* Translators: %s is the reason, e.g. a server's error message */
        return g_strdup_printf (_("Sync error: %s"),
                                message != NULL ? message : _("unknown error"));
      }

    case NOTES_SYNC_BADGE_SAVED:
    default:
      return g_strdup (_("Saved on the server"));
    }
}

/**
 * notes_note_item_matches:
 * @self: a #NotesNoteItem
 * @casefolded_query: (nullable): a query folded with g_utf8_casefold()
 *
 * Returns: whether the title or the body contains @casefolded_query
 *   (always %TRUE for an empty query)
 */
gboolean
notes_note_item_matches (NotesNoteItem *self,
                         const char    *casefolded_query)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), FALSE);

  if (casefolded_query == NULL || casefolded_query[0] == '\0')
    return TRUE;

  if (self->search_key == NULL)
    {
      g_autoptr(PatchesValue) state = notes_note_item_dup_state (self, NULL);
      g_autofree char *body = notes_plain_text_from_value (state_field (state, "body"));
      g_autofree char *all = g_strconcat (self->title, "\n", body, NULL);

      self->search_key = g_utf8_casefold (all, -1);
    }

  return strstr (self->search_key, casefolded_query) != NULL;
}
