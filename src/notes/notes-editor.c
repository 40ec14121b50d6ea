/* notes-editor.c
 *
 * The note editor.  The title entry writes `replace /title` on every
 * edit and follows remote titles (keeping its cursor); the body is a
 * GtkTextView bound to `/body` by a NotesTextBinding, whose local edits
 * go through a NotesUndoManager.  Each edit of the title or body also
 * schedules `replace /updatedAt` (now, in ms), written at most once every
 * UPDATED_AT_INTERVAL.
 *
 * Formatting is a set of actions in the "editor" group, with shortcuts
 * on the editor (a GtkShortcutController, bubble phase, so the focused
 * text widgets see their keys first).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "patches-patch.h"
#include "patches-pointer.h"

#include "notes-editor.h"

#define UPDATED_AT_INTERVAL_US (3 * G_USEC_PER_SEC)

/* A GtkTextView that draws the bullets of list lines and hosts the link
 * popover */

#define NOTES_TYPE_BODY_VIEW (notes_body_view_get_type ())

G_DECLARE_FINAL_TYPE (NotesBodyView, notes_body_view, NOTES, BODY_VIEW, GtkTextView)

struct _NotesBodyView
{
  GtkTextView  parent_instance;

  GtkWidget   *popover;
};

G_DEFINE_FINAL_TYPE (NotesBodyView, notes_body_view, GTK_TYPE_TEXT_VIEW)

static void
notes_body_view_snapshot_layer (GtkTextView      *view,
                                GtkTextViewLayer  layer,
                                GtkSnapshot      *snapshot)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  g_autoptr(PatchesValue) bullet = NULL;
  g_autoptr(PangoLayout) layout = NULL;
  g_autofree char *name = NULL;
  GtkTextTag *tag;
  GdkRectangle visible;
  GtkTextIter iter;
  GdkRGBA color;
  int layout_width;
  int layout_height;

  if (layer != GTK_TEXT_VIEW_LAYER_ABOVE_TEXT)
    return;

  bullet = patches_value_new_string ("bullet");
  name = notes_rich_text_tag_name ("list", bullet);
  tag = gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (buffer), name);
  if (tag == NULL)
    return;

  layout = gtk_widget_create_pango_layout (GTK_WIDGET (view), "•");
  pango_layout_get_pixel_size (layout, &layout_width, &layout_height);
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (view)), &color);

  gtk_text_view_get_visible_rect (view, &visible);
  gtk_text_view_get_line_at_y (view, &iter, visible.y, NULL);

  do
    {
      GdkRectangle location;
      int y;
      int height;

      gtk_text_view_get_line_yrange (view, &iter, &y, &height);
      if (y > visible.y + visible.height)
        break;

      if (!gtk_text_iter_has_tag (&iter, tag))
        continue;

      gtk_text_view_get_iter_location (view, &iter, &location);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot,
                              &GRAPHENE_POINT_INIT (location.x - layout_width - 8,
                                                    location.y + (location.height - layout_height) / 2));
      gtk_snapshot_append_layout (snapshot, layout, &color);
      gtk_snapshot_restore (snapshot);
    }
  while (gtk_text_iter_forward_line (&iter));
}

static void
notes_body_view_size_allocate (GtkWidget *widget,
                               int        width,
                               int        height,
                               int        baseline)
{
  NotesBodyView *self = NOTES_BODY_VIEW (widget);

  GTK_WIDGET_CLASS (notes_body_view_parent_class)->size_allocate (widget, width, height, baseline);

  if (self->popover != NULL)
    gtk_popover_present (GTK_POPOVER (self->popover));
}

static void
notes_body_view_dispose (GObject *object)
{
  NotesBodyView *self = NOTES_BODY_VIEW (object);

  g_clear_pointer (&self->popover, gtk_widget_unparent);

  G_OBJECT_CLASS (notes_body_view_parent_class)->dispose (object);
}

static void
notes_body_view_class_init (NotesBodyViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkTextViewClass *text_view_class = GTK_TEXT_VIEW_CLASS (klass);

  object_class->dispose = notes_body_view_dispose;
  widget_class->size_allocate = notes_body_view_size_allocate;
  text_view_class->snapshot_layer = notes_body_view_snapshot_layer;
}

static void
notes_body_view_init (NotesBodyView *self)
{
}

static void
notes_body_view_set_popover (NotesBodyView *self,
                             GtkWidget     *popover)
{
  self->popover = popover;
  gtk_widget_set_parent (popover, GTK_WIDGET (self));
}

/* The editor */

struct _NotesEditor
{
  AdwBin              parent_instance;

  /* Template widgets */
  GtkEntry           *title_entry;
  GtkScrolledWindow  *scrolled_window;
  GtkTextView        *text_view;

  GtkPopover         *link_popover;
  GtkEntry           *link_entry;

  GSimpleActionGroup *actions;

  PatchesDoc         *doc;
  gulong              update_handler;
  NotesTextBinding   *binding;
  NotesUndoManager   *undo_manager;
  GBinding           *can_undo_binding;
  GBinding           *can_redo_binding;

  guint               setting_title;
  guint               updated_at_source;
  gint64              updated_at_last;
};

enum {
  PROP_0,
  PROP_DOC,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (NotesEditor, notes_editor, ADW_TYPE_BIN)

static GParamSpec *properties[N_PROPS];

static GtkTextBuffer *
get_buffer (NotesEditor *self)
{
  return gtk_text_view_get_buffer (self->text_view);
}

/* updatedAt */

static void
write_updated_at (NotesEditor *self)
{
  g_autoptr(PatchesPatch) patch = NULL;
  g_autoptr(PatchesChange) change = NULL;
  g_autoptr(GError) error = NULL;

  self->updated_at_last = g_get_monotonic_time ();
  if (self->doc == NULL)
    return;

  patch = patches_patch_new ();
  patches_patch_replace (patch, "/updatedAt",
                         patches_value_new_number ((double) (g_get_real_time () / 1000)), FALSE);
  change = patches_doc_change (self->doc, patch, &error);
  if (error != NULL)
    g_warning ("Could not save the time of the last edit: %s", error->message);
}

static gboolean
updated_at_cb (gpointer user_data)
{
  NotesEditor *self = user_data;

  self->updated_at_source = 0;
  write_updated_at (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_updated_at (NotesEditor *self)
{
  gint64 wait = 0;

  if (self->updated_at_source != 0)
    return;

  if (self->updated_at_last != 0)
    wait = MAX (0, self->updated_at_last + UPDATED_AT_INTERVAL_US - g_get_monotonic_time ());

  self->updated_at_source = g_timeout_add ((guint) (wait / 1000), updated_at_cb, self);
}

/**
 * notes_editor_flush:
 * @self: a #NotesEditor
 *
 * Writes a pending `updatedAt` now instead of when its throttle ends.
 */
void
notes_editor_flush (NotesEditor *self)
{
  g_return_if_fail (NOTES_IS_EDITOR (self));

  if (self->updated_at_source == 0)
    return;

  g_clear_handle_id (&self->updated_at_source, g_source_remove);
  write_updated_at (self);
}

/* Title */

static void
refresh_title (NotesEditor *self)
{
  PatchesValue *state = self->doc != NULL ? patches_doc_get_state (self->doc) : NULL;
  PatchesValue *title = state != NULL ? patches_pointer_lookup (state, "/title") : NULL;
  const char *text = "";
  int position;

  if (title != NULL && patches_value_get_kind (title) == PATCHES_VALUE_STRING)
    text = patches_value_get_string (title);

  if (g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (self->title_entry)), text) == 0)
    return;

  self->setting_title++;
  position = gtk_editable_get_position (GTK_EDITABLE (self->title_entry));
  gtk_editable_set_text (GTK_EDITABLE (self->title_entry), text);
  gtk_editable_set_position (GTK_EDITABLE (self->title_entry),
                             MIN (position, (int) g_utf8_strlen (text, -1)));
  self->setting_title--;
}

static void
notes_editor_title_changed_cb (NotesEditor *self,
                               GtkEditable *editable)
{
  g_autoptr(PatchesPatch) patch = NULL;
  g_autoptr(PatchesChange) change = NULL;
  g_autoptr(GError) error = NULL;

  if (self->setting_title > 0 || self->doc == NULL)
    return;

  patch = patches_patch_new ();
  patches_patch_replace (patch, "/title",
                         patches_value_new_string (gtk_editable_get_text (editable)), FALSE);
  change = patches_doc_change (self->doc, patch, &error);
  if (error != NULL)
    {
      g_warning ("Could not save the title: %s", error->message);
      refresh_title (self);
    }
}

static gboolean
op_touches (PatchesOp  *op,
            const char *path)
{
  return op->path != NULL &&
         (strcmp (op->path, path) == 0 ||
          patches_pointer_is_under (path, op->path) ||
          patches_pointer_is_under (op->path, path));
}

static void
doc_update_cb (PatchesDoc   *doc,
               PatchesPatch *ops,
               gboolean      local,
               NotesEditor  *self)
{
  gboolean title = FALSE;
  gboolean edited = FALSE;
  guint n = ops != NULL ? patches_patch_get_n_ops (ops) : 0;

  for (guint i = 0; i < n; i++)
    {
      PatchesOp *op = patches_patch_get_op (ops, i);

      if (op_touches (op, "/title"))
        title = edited = TRUE;
      if (op_touches (op, "/body"))
        edited = TRUE;
      if (op->kind == PATCHES_OP_MOVE && op->from != NULL &&
          (op_touches (op, "/title") || g_str_has_prefix (op->from, "/title")))
        title = TRUE;
    }

  if (title)
    refresh_title (self);

  /* A root reset is not an edit of ours */
  if (local && edited && n > 0 && g_strcmp0 (patches_patch_get_op (ops, 0)->path, "") != 0)
    schedule_updated_at (self);
}

/* Actions */

static void
update_actions (NotesEditor *self)
{
  static const char * const names[] = {
    "bold", "italic", "underline", "heading", "bullet-list", "link",
  };
  gboolean enabled = self->binding != NULL;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self->actions), names[i]);

      g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
    }

  if (self->undo_manager == NULL)
    {
      g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), "undo")), FALSE);
      g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), "redo")), FALSE);
    }
}

static void
toggle_inline (NotesEditor *self,
               const char  *key)
{
  g_autoptr(PatchesValue) on = patches_value_new_bool (TRUE);
  GtkTextBuffer *buffer = get_buffer (self);
  GtkTextIter start;
  GtkTextIter end;
  gboolean has;

  if (self->binding == NULL)
    return;

  gtk_text_buffer_get_selection_bounds (buffer, &start, &end);
  has = notes_text_binding_range_has (self->binding, &start, &end, key, on);

  if (gtk_text_iter_equal (&start, &end))
    notes_text_binding_set_typing_attribute (self->binding, key, has ? NULL : on);
  else
    notes_text_binding_format (self->binding, &start, &end, key, has ? NULL : on);
}

static void
bold_cb (GSimpleAction *action,
         GVariant      *parameter,
         gpointer       user_data)
{
  toggle_inline (user_data, "bold");
}

static void
italic_cb (GSimpleAction *action,
           GVariant      *parameter,
           gpointer       user_data)
{
  toggle_inline (user_data, "italic");
}

static void
underline_cb (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  toggle_inline (user_data, "underline");
}

static void
heading_cb (GSimpleAction *action,
            GVariant      *parameter,
            gpointer       user_data)
{
  NotesEditor *self = user_data;
  g_autoptr(PatchesValue) level = NULL;
  int n = g_variant_get_int32 (parameter);
  GtkTextIter start;
  GtkTextIter end;

  if (self->binding == NULL || n < 0 || n > 3)
    return;

  if (n > 0)
    level = patches_value_new_number (n);

  gtk_text_buffer_get_selection_bounds (get_buffer (self), &start, &end);
  notes_text_binding_format (self->binding, &start, &end, "header", level);
}

static void
bullet_list_cb (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  NotesEditor *self = user_data;
  g_autoptr(PatchesValue) bullet = patches_value_new_string ("bullet");
  GtkTextIter start;
  GtkTextIter end;
  gboolean has;

  if (self->binding == NULL)
    return;

  gtk_text_buffer_get_selection_bounds (get_buffer (self), &start, &end);
  has = notes_text_binding_range_has (self->binding, &start, &end, "list", bullet);
  notes_text_binding_format (self->binding, &start, &end, "list", has ? NULL : bullet);
}

/* The link under @iter: its tag, and its range in @start / @end. */
static GtkTextTag *
find_link (NotesEditor       *self,
           const GtkTextIter *iter,
           GtkTextIter       *start,
           GtkTextIter       *end)
{
  GSList *tags = gtk_text_iter_get_tags (iter);
  GtkTextTag *link = NULL;

  for (GSList *l = tags; l != NULL; l = l->next)
    if (notes_rich_text_tag_get_kind (l->data) == NOTES_TAG_KIND_INLINE &&
        g_strcmp0 (notes_rich_text_tag_get_key (l->data), "link") == 0)
      link = l->data;
  g_slist_free (tags);

  if (link == NULL)
    {
      /* Right after a link counts too */
      GtkTextIter before = *iter;

      if (gtk_text_iter_backward_char (&before) && !gtk_text_iter_equal (&before, iter))
        {
          tags = gtk_text_iter_get_tags (&before);
          for (GSList *l = tags; l != NULL; l = l->next)
            if (notes_rich_text_tag_get_kind (l->data) == NOTES_TAG_KIND_INLINE &&
                g_strcmp0 (notes_rich_text_tag_get_key (l->data), "link") == 0)
              link = l->data;
          g_slist_free (tags);
          if (link != NULL)
            iter = &before;
        }
    }

  if (link != NULL && start != NULL && end != NULL)
    {
      *start = *iter;
      *end = *iter;
      if (!gtk_text_iter_starts_tag (start, link))
        gtk_text_iter_backward_to_tag_toggle (start, link);
      gtk_text_iter_forward_to_tag_toggle (end, link);
    }

  return link;
}

static void
link_cb (GSimpleAction *action,
         GVariant      *parameter,
         gpointer       user_data)
{
  NotesEditor *self = user_data;
  GtkTextBuffer *buffer = get_buffer (self);
  GtkTextIter start;
  GtkTextIter end;
  GtkTextIter link_start;
  GtkTextIter link_end;
  GdkRectangle rect;
  GtkTextTag *link;
  int x;
  int y;

  if (self->binding == NULL)
    return;

  gtk_text_buffer_get_selection_bounds (buffer, &start, &end);
  link = find_link (self, &start, &link_start, &link_end);
  if (link != NULL && gtk_text_iter_equal (&start, &end))
    {
      /* Edit the link the cursor is in */
      gtk_text_buffer_select_range (buffer, &link_end, &link_start);
      start = link_start;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->link_entry),
                         link != NULL ? patches_value_get_string (notes_rich_text_tag_get_value (link)) : "");

  gtk_text_view_get_iter_location (self->text_view, &start, &rect);
  gtk_text_view_buffer_to_window_coords (self->text_view, GTK_TEXT_WINDOW_WIDGET, rect.x, rect.y, &x, &y);
  rect.x = x;
  rect.y = y;
  rect.width = MAX (rect.width, 1);
  gtk_popover_set_pointing_to (self->link_popover, &rect);
  gtk_popover_popup (self->link_popover);
  gtk_widget_grab_focus (GTK_WIDGET (self->link_entry));
}

static void
apply_link (NotesEditor *self,
            const char  *url)
{
  GtkTextBuffer *buffer = get_buffer (self);
  g_autoptr(PatchesValue) value = NULL;
  GtkTextIter start;
  GtkTextIter end;

  if (self->binding == NULL)
    return;

  if (url != NULL && *url != '\0')
    value = patches_value_new_string (url);

  if (!gtk_text_buffer_get_selection_bounds (buffer, &start, &end))
    {
      int offset;

      if (value == NULL)
        return;

      /* No selection: the address itself becomes the link text */
      offset = gtk_text_iter_get_offset (&start);
      gtk_text_buffer_begin_user_action (buffer);
      gtk_text_buffer_insert (buffer, &start, url, -1);
      gtk_text_buffer_end_user_action (buffer);
      gtk_text_buffer_get_iter_at_offset (buffer, &end, offset + g_utf8_strlen (url, -1));
      gtk_text_buffer_get_iter_at_offset (buffer, &start, offset);
    }

  notes_text_binding_format (self->binding, &start, &end, "link", value);
}

static void
link_apply_cb (NotesEditor *self)
{
  g_autofree char *url = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->link_entry))));

  gtk_popover_popdown (self->link_popover);
  apply_link (self, url);
  gtk_widget_grab_focus (GTK_WIDGET (self->text_view));
}

static void
link_remove_cb (NotesEditor *self)
{
  gtk_popover_popdown (self->link_popover);
  apply_link (self, NULL);
  gtk_widget_grab_focus (GTK_WIDGET (self->text_view));
}

static void
undo_cb (GSimpleAction *action,
         GVariant      *parameter,
         gpointer       user_data)
{
  NotesEditor *self = user_data;
  g_autoptr(GError) error = NULL;

  if (self->undo_manager != NULL && !notes_undo_manager_undo (self->undo_manager, &error) && error != NULL)
    g_warning ("Could not undo: %s", error->message);
}

static void
redo_cb (GSimpleAction *action,
         GVariant      *parameter,
         gpointer       user_data)
{
  NotesEditor *self = user_data;
  g_autoptr(GError) error = NULL;

  if (self->undo_manager != NULL && !notes_undo_manager_redo (self->undo_manager, &error) && error != NULL)
    g_warning ("Could not redo: %s", error->message);
}

static const GActionEntry action_entries[] = {
  { "bold", bold_cb },
  { "italic", italic_cb },
  { "underline", underline_cb },
  { "heading", heading_cb, "i" },
  { "bullet-list", bullet_list_cb },
  { "link", link_cb },
  { "undo", undo_cb },
  { "redo", redo_cb },
};

static void
add_shortcut (GtkShortcutController *controller,
              const char            *trigger,
              const char            *action,
              GVariant              *arguments)
{
  GtkShortcut *shortcut = gtk_shortcut_new (gtk_shortcut_trigger_parse_string (trigger),
                                            gtk_named_action_new (action));

  if (arguments != NULL)
    gtk_shortcut_set_arguments (shortcut, arguments);
  gtk_shortcut_controller_add_shortcut (controller, shortcut);
}

static void
setup_shortcuts (NotesEditor *self)
{
  GtkEventController *controller = gtk_shortcut_controller_new ();
  GtkShortcutController *shortcuts = GTK_SHORTCUT_CONTROLLER (controller);

  gtk_shortcut_controller_set_scope (shortcuts, GTK_SHORTCUT_SCOPE_LOCAL);
  add_shortcut (shortcuts, "<Control>b", "editor.bold", NULL);
  add_shortcut (shortcuts, "<Control>i", "editor.italic", NULL);
  add_shortcut (shortcuts, "<Control>u", "editor.underline", NULL);
  for (int i = 0; i <= 3; i++)
    {
      char trigger[16];

      g_snprintf (trigger, sizeof trigger, "<Control>%d", i);
      add_shortcut (shortcuts, trigger, "editor.heading", g_variant_new_int32 (i));
    }
  add_shortcut (shortcuts, "<Control><Shift>l", "editor.bullet-list", NULL);
  add_shortcut (shortcuts, "<Control>k", "editor.link", NULL);
  add_shortcut (shortcuts, "<Control>z", "editor.undo", NULL);
  add_shortcut (shortcuts, "<Control><Shift>z", "editor.redo", NULL);

  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

static void
setup_link_popover (NotesEditor *self)
{
  GtkWidget *popover = gtk_popover_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *entry = gtk_entry_new ();
  GtkWidget *apply = gtk_button_new_with_mnemonic (_("_Apply"));
  GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");

  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), "https://");
  gtk_entry_set_input_purpose (GTK_ENTRY (entry), GTK_INPUT_PURPOSE_URL);
  gtk_editable_set_width_chars (GTK_EDITABLE (entry), 32);
  gtk_widget_set_name (entry, "link-entry");
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Link address"),
                                  -1);
  g_signal_connect_swapped (entry, "activate", G_CALLBACK (link_apply_cb), self);

  gtk_widget_add_css_class (apply, "suggested-action");
  g_signal_connect_swapped (apply, "clicked", G_CALLBACK (link_apply_cb), self);

  gtk_widget_set_tooltip_text (remove, _("Remove Link"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (remove),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Remove Link"),
                                  -1);
  g_signal_connect_swapped (remove, "clicked", G_CALLBACK (link_remove_cb), self);

  gtk_box_append (GTK_BOX (box), entry);
  gtk_box_append (GTK_BOX (box), apply);
  gtk_box_append (GTK_BOX (box), remove);
  gtk_popover_set_child (GTK_POPOVER (popover), box);
  gtk_popover_set_position (GTK_POPOVER (popover), GTK_POS_BOTTOM);

  self->link_popover = GTK_POPOVER (popover);
  self->link_entry = GTK_ENTRY (entry);
  notes_body_view_set_popover (NOTES_BODY_VIEW (self->text_view), popover);
}

/* The document */

static void
disconnect_doc (NotesEditor *self)
{
  notes_editor_flush (self);

  g_clear_pointer (&self->can_undo_binding, g_binding_unbind);
  g_clear_pointer (&self->can_redo_binding, g_binding_unbind);
  g_clear_object (&self->binding);
  g_clear_object (&self->undo_manager);

  if (self->doc != NULL)
    g_clear_signal_handler (&self->update_handler, self->doc);
  g_clear_object (&self->doc);

  self->updated_at_last = 0;
}

static void
notes_editor_dispose (GObject *object)
{
  NotesEditor *self = NOTES_EDITOR (object);

  disconnect_doc (self);

  gtk_widget_dispose_template (GTK_WIDGET (self), NOTES_TYPE_EDITOR);

  G_OBJECT_CLASS (notes_editor_parent_class)->dispose (object);
}

static void
notes_editor_finalize (GObject *object)
{
  NotesEditor *self = NOTES_EDITOR (object);

  g_clear_object (&self->actions);

  G_OBJECT_CLASS (notes_editor_parent_class)->finalize (object);
}

static void
notes_editor_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  NotesEditor *self = NOTES_EDITOR (object);

  switch (prop_id)
    {
    case PROP_DOC:
      g_value_set_object (value, self->doc);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_editor_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  NotesEditor *self = NOTES_EDITOR (object);

  switch (prop_id)
    {
    case PROP_DOC:
      notes_editor_set_doc (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_editor_class_init (NotesEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = notes_editor_dispose;
  object_class->finalize = notes_editor_finalize;
  object_class->get_property = notes_editor_get_property;
  object_class->set_property = notes_editor_set_property;

  /**
   * NotesEditor:doc:
   *
   * The note document being edited, or %NULL.
   */
  properties[PROP_DOC] =
    g_param_spec_object ("doc", NULL, NULL,
                         PATCHES_TYPE_DOC,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (NOTES_TYPE_BODY_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class, APPLICATION_PATH "/ui/notes-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, NotesEditor, title_entry);
  gtk_widget_class_bind_template_child (widget_class, NotesEditor, scrolled_window);
  gtk_widget_class_bind_template_child (widget_class, NotesEditor, text_view);
  gtk_widget_class_bind_template_callback (widget_class, notes_editor_title_changed_cb);

  gtk_widget_class_set_css_name (widget_class, "noteseditor");
}

static void
notes_editor_init (NotesEditor *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions),
                                   action_entries, G_N_ELEMENTS (action_entries),
                                   self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "editor", G_ACTION_GROUP (self->actions));

  setup_shortcuts (self);
  setup_link_popover (self);

  /* GTK's own undo would undo remote edits too */
  gtk_text_buffer_set_enable_undo (get_buffer (self), FALSE);
  gtk_text_view_set_editable (self->text_view, FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->title_entry), FALSE);
  update_actions (self);
}

/**
 * notes_editor_new:
 *
 * Returns: (transfer full): a new editor with no document
 */
NotesEditor *
notes_editor_new (void)
{
  return g_object_new (NOTES_TYPE_EDITOR, NULL);
}

/**
 * notes_editor_set_doc:
 * @self: a #NotesEditor
 * @doc: (nullable): a note document, or %NULL for none
 *
 * Shows and edits @doc.  A pending `updatedAt` of the previous document
 * is written first; undo history starts anew.
 */
void
notes_editor_set_doc (NotesEditor *self,
                      PatchesDoc  *doc)
{
  g_return_if_fail (NOTES_IS_EDITOR (self));
  g_return_if_fail (doc == NULL || PATCHES_IS_DOC (doc));

  if (self->doc == doc)
    return;

  disconnect_doc (self);

  if (doc != NULL)
    {
      GAction *undo = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "undo");
      GAction *redo = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "redo");

      self->doc = g_object_ref (doc);
      self->undo_manager = notes_undo_manager_new (doc);
      self->binding = notes_text_binding_new (get_buffer (self), doc, "/body");
      notes_text_binding_set_undo_manager (self->binding, self->undo_manager);
      self->update_handler = g_signal_connect (doc, "update", G_CALLBACK (doc_update_cb), self);

      self->can_undo_binding = g_object_bind_property (self->undo_manager, "can-undo", undo, "enabled",
                                                       G_BINDING_SYNC_CREATE);
      self->can_redo_binding = g_object_bind_property (self->undo_manager, "can-redo", redo, "enabled",
                                                       G_BINDING_SYNC_CREATE);
    }
  else
    {
      gtk_text_buffer_set_text (get_buffer (self), "", 0);
    }

  refresh_title (self);
  gtk_text_view_set_editable (self->text_view, doc != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->title_entry), doc != NULL);
  update_actions (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOC]);
}

/**
 * notes_editor_get_doc:
 * @self: a #NotesEditor
 *
 * Returns: (transfer none) (nullable): the document being edited
 */
PatchesDoc *
notes_editor_get_doc (NotesEditor *self)
{
  g_return_val_if_fail (NOTES_IS_EDITOR (self), NULL);

  return self->doc;
}

/**
 * notes_editor_get_text_view:
 * @self: a #NotesEditor
 *
 * Returns: (transfer none): the text view of the body
 */
GtkTextView *
notes_editor_get_text_view (NotesEditor *self)
{
  g_return_val_if_fail (NOTES_IS_EDITOR (self), NULL);

  return self->text_view;
}

/**
 * notes_editor_get_title_entry:
 * @self: a #NotesEditor
 *
 * Returns: (transfer none): the title entry
 */
GtkEditable *
notes_editor_get_title_entry (NotesEditor *self)
{
  g_return_val_if_fail (NOTES_IS_EDITOR (self), NULL);

  return GTK_EDITABLE (self->title_entry);
}

/**
 * notes_editor_get_undo_manager:
 * @self: a #NotesEditor
 *
 * Returns: (transfer none) (nullable): the undo manager of the current
 *   document
 */
NotesUndoManager *
notes_editor_get_undo_manager (NotesEditor *self)
{
  g_return_val_if_fail (NOTES_IS_EDITOR (self), NULL);

  return self->undo_manager;
}

/**
 * notes_editor_get_binding:
 * @self: a #NotesEditor
 *
 * Returns: (transfer none) (nullable): the binding of the body
 */
NotesTextBinding *
notes_editor_get_binding (NotesEditor *self)
{
  g_return_val_if_fail (NOTES_IS_EDITOR (self), NULL);

  return self->binding;
}
