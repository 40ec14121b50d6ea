/* notes-note-item.c
 *
 * A note as a list item.  The cheap fields (title, pinned, updatedAt) are
 * read again on every update of the document; the body, which can be
 * large, only when an op touched it, and then once per main-loop pass
 * however many updates arrived.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "patches-patch.h"
#include "patches-text.h"

#include "notes-note-item.h"

/* The snippet is the first line of the body, cut at this many characters */
#define SNIPPET_MAX_CHARS 120

struct _NotesNoteItem
{
  GObject         parent_instance;

  char           *note_id;
  char           *doc_id;
  PatchesDoc     *doc;
  gulong          update_handler;
  gulong          status_handler;
  gulong          pending_handler;
  gulong          error_handler;

  char           *title;
  char           *snippet;
  char           *search_key;   /* casefolded title + body, built lazily */
  char           *order;
  gint64          updated_at;
  gint64          created_at;
  gboolean        pinned;
  NotesSyncBadge  badge;

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
  N_PROPS
};

G_DEFINE_ENUM_TYPE (NotesSyncBadge, notes_sync_badge,
                    G_DEFINE_ENUM_VALUE (NOTES_SYNC_BADGE_SAVED, "saved"),
                    G_DEFINE_ENUM_VALUE (NOTES_SYNC_BADGE_PENDING, "pending"),
                    G_DEFINE_ENUM_VALUE (NOTES_SYNC_BADGE_SYNCING, "syncing"),
                    G_DEFINE_ENUM_VALUE (NOTES_SYNC_BADGE_ERROR, "error"))

G_DEFINE_FINAL_TYPE (NotesNoteItem, notes_note_item, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];

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
notes_note_item_get_field (NotesNoteItem *self,
                           const char    *key)
{
  PatchesValue *state;

  if (self->doc == NULL)
    return NULL;

  state = patches_doc_get_state (self->doc);
  if (state == NULL || patches_value_get_kind (state) != PATCHES_VALUE_OBJECT)
    return NULL;

  return patches_value_object_get (state, key);
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

static void
notes_note_item_refresh_body (NotesNoteItem *self)
{
  g_autofree char *body = notes_plain_text_from_value (notes_note_item_get_field (self, "body"));
  g_autofree char *snippet = notes_note_item_first_line (body);

  g_clear_pointer (&self->search_key, g_free);

  if (g_strcmp0 (snippet, self->snippet) != 0)
    {
      g_free (self->snippet);
      self->snippet = g_steal_pointer (&snippet);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SNIPPET]);
    }
}

static gboolean
notes_note_item_body_idle_cb (gpointer user_data)
{
  NotesNoteItem *self = user_data;

  self->body_idle = 0;
  notes_note_item_refresh_body (self);

  return G_SOURCE_REMOVE;
}

static void
notes_note_item_refresh_fields (NotesNoteItem *self)
{
  PatchesValue *title = notes_note_item_get_field (self, "title");
  PatchesValue *pinned = notes_note_item_get_field (self, "pinned");
  PatchesValue *updated_at = notes_note_item_get_field (self, "updatedAt");
  const char *new_title = "";
  gboolean new_pinned = FALSE;
  gint64 new_updated_at = 0;

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
    }

  if (new_pinned != self->pinned)
    {
      self->pinned = new_pinned;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PINNED]);
    }

  if (new_updated_at != self->updated_at)
    {
      self->updated_at = new_updated_at;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UPDATED_AT]);
    }

  g_object_thaw_notify (G_OBJECT (self));
}

static void
notes_note_item_refresh_badge (NotesNoteItem *self)
{
  NotesSyncBadge badge = NOTES_SYNC_BADGE_SAVED;

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

  if (badge != self->badge)
    {
      self->badge = badge;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BADGE]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BADGE_ICON_NAME]);
    }

  /* The error text may change while the badge stays "error" */
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BADGE_TOOLTIP]);
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

static void
notes_note_item_doc_update_cb (PatchesDoc    *doc,
                               PatchesPatch  *patch,
                               gboolean       local,
                               NotesNoteItem *self)
{
  notes_note_item_refresh_fields (self);

  if (notes_note_item_patch_touches_body (patch))
    {
      g_clear_pointer (&self->search_key, g_free);
      if (self->body_idle == 0)
        self->body_idle = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE,
                                           notes_note_item_body_idle_cb, self, NULL);
    }
}

static void
notes_note_item_doc_status_cb (PatchesDoc    *doc,
                               GParamSpec    *pspec,
                               NotesNoteItem *self)
{
  notes_note_item_refresh_badge (self);
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
    }
  g_clear_object (&self->doc);

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
      self->doc = g_value_dup_object (value);
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

  if (self->doc != NULL)
    {
      self->update_handler =
        g_signal_connect (self->doc, "update", G_CALLBACK (notes_note_item_doc_update_cb), self);
      self->status_handler =
        g_signal_connect (self->doc, "notify::sync-status", G_CALLBACK (notes_note_item_doc_status_cb), self);
      self->pending_handler =
        g_signal_connect (self->doc, "notify::has-pending", G_CALLBACK (notes_note_item_doc_status_cb), self);
      self->error_handler =
        g_signal_connect (self->doc, "notify::sync-error", G_CALLBACK (notes_note_item_doc_status_cb), self);
    }

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
 * notes_note_item_refresh:
 * @self: a #NotesNoteItem
 *
 * Reads every field from the document again, at once.
 */
void
notes_note_item_refresh (NotesNoteItem *self)
{
  g_return_if_fail (NOTES_IS_NOTE_ITEM (self));

  g_clear_handle_id (&self->body_idle, g_source_remove);
  notes_note_item_refresh_fields (self);
  notes_note_item_refresh_body (self);
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
 * Returns: (transfer none) (nullable): the note's document
 */
PatchesDoc *
notes_note_item_get_doc (NotesNoteItem *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (self), NULL);

  return self->doc;
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

        /* Translators: %s is the reason, e.g. a server's error message */
        return g_strdup_printf (_("Sync error: %s"),
                                error != NULL ? error->message : _("unknown error"));
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
      g_autofree char *body = notes_plain_text_from_value (notes_note_item_get_field (self, "body"));
      g_autofree char *all = g_strconcat (self->title, "\n", body, NULL);

      self->search_key = g_utf8_casefold (all, -1);
    }

  return strstr (self->search_key, casefolded_query) != NULL;
}
