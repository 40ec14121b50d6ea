/* notes-window.c
 *
 * The list is the notebook model, filtered by the search text, sorted
 * pinned first and then by updatedAt (newest first), in a single
 * selection; selecting a note gives its document to the editor.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "notes-note-row.h"
#include "notes-window.h"

#if HAVE_NOTES_EDITOR
# include "notes-editor.h"
#endif

struct _NotesWindow
{
  AdwApplicationWindow  parent_instance;

  char                 *notebook_id;
  NotesApplication     *application;
  NotesNotebook        *notebook;
  PatchesSync          *sync;

  GtkCustomFilter      *filter;
  GtkCustomSorter      *sorter;
  GtkFilterListModel   *filter_model;
  GtkSortListModel     *sort_model;
  GtkSingleSelection   *selection;
  char                 *query;

  NotesNoteItem        *current;
  GtkWidget            *editor;

  /* A note deleted on the server while it was open */
  char                 *deleted_title;
  PatchesValue         *deleted_body;

  /* Template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwLeaflet           *leaflet;
  GtkWidget            *sidebar_box;
  GtkWidget            *content_box;
  AdwWindowTitle       *sidebar_title;
  GtkToggleButton      *search_button;
  GtkSearchBar         *search_bar;
  GtkSearchEntry       *search_entry;
  GtkStack             *sidebar_stack;
  GtkListView          *note_list;
  GtkWidget            *back_button;
  AdwWindowTitle       *note_title;
  GtkWidget            *pin_button;
  GtkWidget            *delete_button;
  NotesStatusIndicator *status_indicator;
  GtkRevealer          *banner_revealer;
  GtkLabel             *banner_label;
  GtkWidget            *keep_button;
  GtkStack             *content_stack;
  AdwBin               *editor_bin;
  GtkWidget            *new_note_button;
  GtkWidget            *menu_button;

  /* The notebook loads once the window is on screen */
  gboolean              load_started;
  GdkFrameClock        *load_clock;
  guint                 load_timeout;
};

enum {
  PROP_0,
  PROP_NOTES_APPLICATION,
  PROP_NOTEBOOK_ID,
  PROP_NOTEBOOK,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (NotesWindow, notes_window, ADW_TYPE_APPLICATION_WINDOW)

static GParamSpec *properties[N_PROPS];

static void
notes_window_toast (NotesWindow *self,
                    const char  *text)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

static void
notes_window_set_action_enabled (NotesWindow *self,
                                 const char  *name,
                                 gboolean     enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

static void
notes_window_set_action_state (NotesWindow *self,
                               const char  *name,
                               gboolean     state)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  g_simple_action_set_state (G_SIMPLE_ACTION (action), g_variant_new_boolean (state));
}

/* Sorting and filtering */

static int
notes_window_compare_notes (gconstpointer a,
                            gconstpointer b,
                            gpointer      user_data)
{
  NotesNoteItem *item_a = (NotesNoteItem *) a;
  NotesNoteItem *item_b = (NotesNoteItem *) b;
  gboolean pinned_a = notes_note_item_get_pinned (item_a);
  gboolean pinned_b = notes_note_item_get_pinned (item_b);
  gint64 updated_a = notes_note_item_get_updated_at (item_a);
  gint64 updated_b = notes_note_item_get_updated_at (item_b);
  gint64 created_a = notes_note_item_get_created_at (item_a);
  gint64 created_b = notes_note_item_get_created_at (item_b);

  if (pinned_a != pinned_b)
    return pinned_a ? GTK_ORDERING_SMALLER : GTK_ORDERING_LARGER;
  if (updated_a != updated_b)
    return updated_a > updated_b ? GTK_ORDERING_SMALLER : GTK_ORDERING_LARGER;
  if (created_a != created_b)
    return created_a > created_b ? GTK_ORDERING_SMALLER : GTK_ORDERING_LARGER;

  return gtk_ordering_from_cmpfunc (g_strcmp0 (notes_note_item_get_note_id (item_a),
                                               notes_note_item_get_note_id (item_b)));
}

static gboolean
notes_window_filter_note (gpointer item,
                          gpointer user_data)
{
  NotesWindow *self = user_data;

  return notes_note_item_matches (item, self->query);
}

static void
notes_window_update_sidebar_page (NotesWindow *self)
{
  const char *page = "list";

  /* Until the notebook is read, an empty list rather than "no notes" */
  if (!notes_notebook_get_loaded (self->notebook))
    page = "list";
  else if (g_list_model_get_n_items (G_LIST_MODEL (self->notebook)) == 0)
    page = "empty";
  else if (g_list_model_get_n_items (G_LIST_MODEL (self->sort_model)) == 0)
    page = "no-results";

  gtk_stack_set_visible_child_name (self->sidebar_stack, page);
}

static void
notes_window_model_changed_cb (GListModel  *model,
                               guint        position,
                               guint        removed,
                               guint        added,
                               NotesWindow *self)
{
  notes_window_update_sidebar_page (self);
}

static void
notes_window_search_changed_cb (NotesWindow    *self,
                                GtkSearchEntry *entry)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));

  g_clear_pointer (&self->query, g_free);
  if (text[0] != '\0')
    self->query = g_utf8_casefold (text, -1);

  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  notes_window_update_sidebar_page (self);
}

static void
notes_window_stop_search_cb (NotesWindow    *self,
                             GtkSearchEntry *entry)
{
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
  gtk_search_bar_set_search_mode (self->search_bar, FALSE);
}

static void
notes_window_search_mode_cb (GtkSearchBar *search_bar,
                             GParamSpec   *pspec,
                             NotesWindow  *self)
{
  if (!gtk_search_bar_get_search_mode (search_bar))
    gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
}

/* The selected note */

static void
notes_window_update_note_header (NotesWindow *self)
{
  if (self->current == NULL)
    {
      adw_window_title_set_title (self->note_title, "");
      adw_window_title_set_subtitle (self->note_title, "");
      notes_window_set_action_state (self, "toggle-pin", FALSE);
      return;
    }

  adw_window_title_set_title (self->note_title, notes_note_item_get_display_title (self->current));
  notes_window_set_action_state (self, "toggle-pin", notes_note_item_get_pinned (self->current));
  gtk_widget_set_tooltip_text (self->pin_button,
                               notes_note_item_get_pinned (self->current) ? _("Unpin Note") : _("Pin Note"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->pin_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  notes_note_item_get_pinned (self->current) ? _("Unpin Note") : _("Pin Note"),
                                  -1);
}

static void
notes_window_current_notify_cb (NotesNoteItem *item,
                                GParamSpec    *pspec,
                                NotesWindow   *self)
{
  notes_window_update_note_header (self);
}

static void
notes_window_set_editor_doc (NotesWindow *self,
                             PatchesDoc  *doc)
{
#if HAVE_NOTES_EDITOR
  notes_editor_set_doc (NOTES_EDITOR (self->editor), doc);
#else
  if (doc != NULL && self->current != NULL)
    gtk_label_set_label (GTK_LABEL (self->editor), notes_note_item_get_display_title (self->current));
  else
    gtk_label_set_label (GTK_LABEL (self->editor), "");
#endif
}

static void
notes_window_set_current (NotesWindow   *self,
                          NotesNoteItem *item)
{
  if (self->current == item)
    return;

  if (self->current != NULL)
    g_signal_handlers_disconnect_by_data (self->current, self);
  g_set_object (&self->current, item);

  if (item != NULL)
    {
      g_signal_connect (item, "notify::display-title", G_CALLBACK (notes_window_current_notify_cb), self);
      g_signal_connect (item, "notify::pinned", G_CALLBACK (notes_window_current_notify_cb), self);
    }

  /* The editor is about to be hidden: move the focus out of it first, so
   * that its text widgets see the focus leave */
  if (item == NULL)
    {
      GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

      if (focus != NULL && gtk_widget_is_ancestor (focus, self->editor))
        gtk_widget_grab_focus (GTK_WIDGET (self->note_list));
    }

  notes_window_set_editor_doc (self, item ? notes_note_item_get_doc (item) : NULL);
  gtk_stack_set_visible_child_name (self->content_stack, item ? "editor" : "empty");
  notes_window_set_action_enabled (self, "delete-note", item != NULL);
  notes_window_set_action_enabled (self, "toggle-pin", item != NULL);
  gtk_widget_set_visible (self->delete_button, item != NULL);
  gtk_widget_set_visible (self->pin_button, item != NULL);
  notes_window_update_note_header (self);
}

static void
notes_window_selection_cb (GtkSingleSelection *selection,
                           GParamSpec         *pspec,
                           NotesWindow        *self)
{
  NotesNoteItem *item = gtk_single_selection_get_selected_item (selection);

  if (item == self->current)
    return;

  notes_window_set_current (self, item);
  if (item != NULL)
    adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
}

static void
notes_window_list_activate_cb (NotesWindow *self,
                               guint        position,
                               GtkListView *list)
{
  gtk_single_selection_set_selected (self->selection, position);
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
}

static void
notes_window_back_cb (NotesWindow *self,
                      GtkButton   *button)
{
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

/* List rows */

static void
notes_window_setup_row_cb (GtkSignalListItemFactory *factory,
                           GtkListItem              *list_item,
                           NotesWindow              *self)
{
  gtk_list_item_set_child (list_item, notes_note_row_new ());
}

static void
notes_window_bind_row_cb (GtkSignalListItemFactory *factory,
                          GtkListItem              *list_item,
                          NotesWindow              *self)
{
  notes_note_row_set_item (NOTES_NOTE_ROW (gtk_list_item_get_child (list_item)),
                           gtk_list_item_get_item (list_item));
}

static void
notes_window_unbind_row_cb (GtkSignalListItemFactory *factory,
                            GtkListItem              *list_item,
                            NotesWindow              *self)
{
  notes_note_row_set_item (NOTES_NOTE_ROW (gtk_list_item_get_child (list_item)), NULL);
}

/* The notebook */

static void
notes_window_update_sidebar_title (NotesWindow *self)
{
  const char *title = notes_notebook_get_title (self->notebook);
  const char *profile = notes_application_get_profile (self->application);

  adw_window_title_set_title (self->sidebar_title, title[0] != '\0' ? title : _("Notes"));
  adw_window_title_set_subtitle (self->sidebar_title, g_str_equal (profile, "default") ? "" : profile);
}

static void
notes_window_notebook_title_cb (NotesNotebook *notebook,
                                GParamSpec    *pspec,
                                NotesWindow   *self)
{
  notes_window_update_sidebar_title (self);
}

static void
notes_window_notebook_loaded_cb (GObject      *source,
                                 GAsyncResult *result,
                                 gpointer      user_data)
{
  g_autoptr(NotesWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!notes_notebook_load_finish (NOTES_NOTEBOOK (source), result, &error))
    {
      g_autofree char *text = g_strdup_printf (_("Could not open the notebook: %s"), error->message);

      if (self->notebook != NULL)
        notes_window_toast (self, text);
      return;
    }

  if (self->notebook == NULL)
    return;

  notes_window_set_action_enabled (self, "new-note", TRUE);
  notes_window_update_sidebar_page (self);
}

/* The notebook is read after the first frame: with a thousand notes that
 * takes longer than the rest of the start, and the window shows at once,
 * its list filling a moment later */
#define LOAD_LATEST_MS 500

static void notes_window_load_after_paint_cb (GdkFrameClock *clock,
                                              NotesWindow   *self);

static void
notes_window_load_notebook (NotesWindow *self)
{
  if (self->load_clock != NULL)
    g_signal_handlers_disconnect_by_func (self->load_clock, notes_window_load_after_paint_cb, self);
  g_clear_object (&self->load_clock);
  g_clear_handle_id (&self->load_timeout, g_source_remove);

  if (self->load_started || self->notebook == NULL)
    return;

  self->load_started = TRUE;
  notes_notebook_load_async (self->notebook, NULL, notes_window_notebook_loaded_cb, g_object_ref (self));
}

static void
notes_window_load_after_paint_cb (GdkFrameClock *clock,
                                  NotesWindow   *self)
{
  notes_window_load_notebook (self);
}

static gboolean
notes_window_load_timeout_cb (gpointer user_data)
{
  NotesWindow *self = user_data;

  self->load_timeout = 0;
  notes_window_load_notebook (self);

  return G_SOURCE_REMOVE;
}

static void
notes_window_map (GtkWidget *widget)
{
  NotesWindow *self = NOTES_WINDOW (widget);
  GdkFrameClock *clock;

  GTK_WIDGET_CLASS (notes_window_parent_class)->map (widget);

  clock = gtk_widget_get_frame_clock (widget);
  if (!self->load_started && self->load_clock == NULL && clock != NULL)
    {
      self->load_clock = g_object_ref (clock);
      g_signal_connect (clock, "after-paint", G_CALLBACK (notes_window_load_after_paint_cb), self);
    }
}

/* Sync events */

static char *
notes_window_describe_doc (NotesWindow *self,
                           const char  *doc_id)
{
  NotesNoteItem *item;

  if (g_strcmp0 (doc_id, notes_notebook_get_id (self->notebook)) == 0)
    return g_strdup (_("the notebook"));

  item = notes_notebook_find (self->notebook, doc_id);

  /* Translators: a quoted note title (or document id) in "Could not sync %s: %s" */
  return g_strdup_printf (_("“%s”"), item != NULL ? notes_note_item_get_display_title (item) : doc_id);
}

static void
notes_window_sync_error_cb (PatchesSync  *sync,
                            const GError *error,
                            const char   *doc_id,
                            NotesWindow  *self)
{
  g_autofree char *text = NULL;

  if (doc_id != NULL)
    {
      g_autofree char *what = notes_window_describe_doc (self, doc_id);

      /* Translators: the first %s is a quoted note title or "the notebook", the second the reason */
      text = g_strdup_printf (_("Could not sync %s: %s"), what, error->message);
    }
  else
    {
      /* Translators: %s is the reason */
      text = g_strdup_printf (_("Could not sync: %s"), error->message);
    }

  notes_window_toast (self, text);
}

static void
notes_window_hide_banner (NotesWindow *self)
{
  gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
  g_clear_pointer (&self->deleted_title, g_free);
  g_clear_pointer (&self->deleted_body, patches_value_unref);
}

static void
notes_window_remote_doc_deleted_cb (PatchesSync *sync,
                                    const char  *doc_id,
                                    GPtrArray   *pending,
                                    NotesWindow *self)
{
  if (self->current != NULL &&
      g_strcmp0 (notes_note_item_get_doc_id (self->current), doc_id) == 0)
    {
      PatchesDoc *doc = notes_note_item_get_doc (self->current);
      PatchesValue *state = doc ? patches_doc_get_state (doc) : NULL;
      PatchesValue *body = NULL;
      gboolean has_edits = pending != NULL && pending->len > 0;

      notes_window_hide_banner (self);
      self->deleted_title = g_strdup (notes_note_item_get_title (self->current));
      if (state != NULL && patches_value_get_kind (state) == PATCHES_VALUE_OBJECT)
        body = patches_value_object_get (state, "body");
      if (body != NULL)
        self->deleted_body = patches_value_copy_deep (body);

      gtk_label_set_label (self->banner_label,
                           has_edits
                           ? _("This note was deleted on another device. Your latest edits were not synced.")
                           : _("This note was deleted on another device."));
      gtk_widget_set_visible (self->keep_button, has_edits);
      gtk_revealer_set_reveal_child (self->banner_revealer, TRUE);

      gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
      notes_window_set_current (self, NULL);
    }

  notes_notebook_forget_note (self->notebook, doc_id);
}

static void
notes_window_keep_edits_cb (NotesWindow *self,
                            GtkButton   *button)
{
  g_autoptr(GError) error = NULL;
  NotesNoteItem *item;

  item = notes_notebook_create_note (self->notebook, self->deleted_title, self->deleted_body, &error);
  if (item == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not create the note: %s"), error->message);

      notes_window_toast (self, text);
      return;
    }

  notes_window_hide_banner (self);
  notes_window_select_note (self, item);
}

static void
notes_window_dismiss_banner_cb (NotesWindow *self,
                                GtkButton   *button)
{
  notes_window_hide_banner (self);
}

static void
notes_window_work_offline_cb (NotesApplication *application,
                              GParamSpec       *pspec,
                              NotesWindow      *self)
{
  notes_window_set_action_state (self, "work-offline", notes_application_get_work_offline (application));
}

/* Actions */

static void
notes_window_new_note_action (GSimpleAction *action,
                              GVariant      *parameter,
                              gpointer       user_data)
{
  NotesWindow *self = user_data;
  g_autoptr(GError) error = NULL;
  NotesNoteItem *item;

  item = notes_notebook_create_note (self->notebook, "", NULL, &error);
  if (item == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not create the note: %s"), error->message);

      notes_window_toast (self, text);
      return;
    }

  notes_window_select_note (self, item);
#if HAVE_NOTES_EDITOR
  gtk_widget_grab_focus (GTK_WIDGET (notes_editor_get_title_entry (NOTES_EDITOR (self->editor))));
#else
  gtk_widget_grab_focus (self->editor);
#endif
}

static void
notes_window_toast_dismissed_cb (AdwToast    *toast,
                                 NotesWindow *self)
{
  const char *note_id = g_object_get_data (G_OBJECT (toast), "note-id");

  /* A no-op when Undo was pressed */
  if (self->notebook != NULL && note_id != NULL)
    notes_notebook_finish_delete (self->notebook, note_id);
}

static void
notes_window_delete_note_action (GSimpleAction *action,
                                 GVariant      *parameter,
                                 gpointer       user_data)
{
  NotesWindow *self = user_data;
  g_autoptr(NotesNoteItem) item = NULL;
  g_autoptr(GError) error = NULL;
  AdwToast *toast;

  if (self->current == NULL)
    return;

  item = g_object_ref (self->current);
  if (!notes_notebook_delete_note (self->notebook, item, &error))
    {
      g_autofree char *text = g_strdup_printf (_("Could not delete the note: %s"), error->message);

      notes_window_toast (self, text);
      return;
    }

  /* Translators: %s is a note title */
  toast = adw_toast_new_format (_("“%s” deleted"), notes_note_item_get_display_title (item));
  adw_toast_set_button_label (toast, _("_Undo"));
  adw_toast_set_action_name (toast, "win.undo-delete");
  adw_toast_set_action_target_value (toast, g_variant_new_string (notes_note_item_get_note_id (item)));
  g_object_set_data_full (G_OBJECT (toast), "note-id",
                          g_strdup (notes_note_item_get_note_id (item)), g_free);
  g_signal_connect_object (toast, "dismissed", G_CALLBACK (notes_window_toast_dismissed_cb), self, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
notes_window_undo_delete_action (GSimpleAction *action,
                                 GVariant      *parameter,
                                 gpointer       user_data)
{
  NotesWindow *self = user_data;
  const char *note_id = g_variant_get_string (parameter, NULL);
  g_autoptr(GError) error = NULL;
  NotesNoteItem *item;

  if (!notes_notebook_undo_delete (self->notebook, note_id, &error))
    {
      notes_window_toast (self, error->message);
      return;
    }

  item = notes_notebook_find (self->notebook, note_id);
  if (item != NULL)
    notes_window_select_note (self, item);
}

static void
notes_window_toggle_pin_change_state (GSimpleAction *action,
                                      GVariant      *value,
                                      gpointer       user_data)
{
  NotesWindow *self = user_data;
  g_autoptr(GError) error = NULL;

  if (self->current == NULL)
    return;

  if (!notes_notebook_set_pinned (self->notebook, self->current, g_variant_get_boolean (value), &error))
    {
      notes_window_toast (self, error->message);
      return;
    }

  notes_window_update_note_header (self);
}

static void
notes_window_search_action (GSimpleAction *action,
                            GVariant      *parameter,
                            gpointer       user_data)
{
  NotesWindow *self = user_data;

  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
  gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
notes_window_work_offline_change_state (GSimpleAction *action,
                                        GVariant      *value,
                                        gpointer       user_data)
{
  NotesWindow *self = user_data;

  notes_application_set_work_offline (self->application, g_variant_get_boolean (value));
  g_simple_action_set_state (action, value);
}

static void
notes_window_retry_sync_action (GSimpleAction *action,
                                GVariant      *parameter,
                                gpointer       user_data)
{
  NotesWindow *self = user_data;

  if (self->sync != NULL)
    patches_sync_retry_now (self->sync);
}

static const GActionEntry win_actions[] = {
  { "new-note", notes_window_new_note_action, NULL, NULL, NULL, { 0 } },
  { "delete-note", notes_window_delete_note_action, NULL, NULL, NULL, { 0 } },
  { "undo-delete", notes_window_undo_delete_action, "s", NULL, NULL, { 0 } },
  { "toggle-pin", NULL, NULL, "false", notes_window_toggle_pin_change_state, { 0 } },
  { "search", notes_window_search_action, NULL, NULL, NULL, { 0 } },
  { "work-offline", NULL, NULL, "false", notes_window_work_offline_change_state, { 0 } },
  { "retry-sync", notes_window_retry_sync_action, NULL, NULL, NULL, { 0 } },
};

/* GtkWindow */

static void
notes_window_save_size (NotesWindow *self)
{
  GSettings *settings = notes_application_get_settings (self->application);
  int width = 0;
  int height = 0;

  if (settings == NULL)
    return;

  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  if (width > 0 && height > 0)
    {
      g_settings_set_int (settings, "window-width", width);
      g_settings_set_int (settings, "window-height", height);
    }
  g_settings_set_boolean (settings, "window-maximized", gtk_window_is_maximized (GTK_WINDOW (self)));
}

static gboolean
notes_window_close_request (GtkWindow *window)
{
  NotesWindow *self = NOTES_WINDOW (window);

  notes_window_save_size (self);
  if (self->notebook != NULL)
    notes_window_set_current (self, NULL);
  if (self->notebook != NULL)
    notes_notebook_finish_all_deletes (self->notebook);

  return GTK_WINDOW_CLASS (notes_window_parent_class)->close_request (window);
}

/* GObject */

static void
notes_window_constructed (GObject *object)
{
  NotesWindow *self = NOTES_WINDOW (object);
  GtkListItemFactory *factory;
  GSettings *settings;

  G_OBJECT_CLASS (notes_window_parent_class)->constructed (object);

  g_assert (self->application != NULL);

  settings = notes_application_get_settings (self->application);
  if (settings != NULL)
    {
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (settings, "window-width"),
                                   g_settings_get_int (settings, "window-height"));
      if (g_settings_get_boolean (settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
    }

  /* The profile shows in the title, so that two profiles side by side
   * can be told apart */
  if (!g_str_equal (notes_application_get_profile (self->application), "default"))
    {
      g_autofree char *title = g_strdup_printf (_("Patches Notes (%s)"),
                                                notes_application_get_profile (self->application));

      gtk_window_set_title (GTK_WINDOW (self), title);
    }

  self->sync = g_object_ref (notes_application_get_sync (self->application));
  self->notebook = notes_notebook_new (notes_application_get_client (self->application), self->notebook_id);
  notes_notebook_set_sync (self->notebook, self->sync);
  g_signal_connect (self->notebook, "notify::title", G_CALLBACK (notes_window_notebook_title_cb), self);
  notes_window_update_sidebar_title (self);

  /* notebook → filter → sort → selection */
  self->filter = gtk_custom_filter_new (notes_window_filter_note, self, NULL);
  self->sorter = gtk_custom_sorter_new (notes_window_compare_notes, NULL, NULL);
  self->filter_model = gtk_filter_list_model_new (G_LIST_MODEL (g_object_ref (self->notebook)),
                                                  GTK_FILTER (g_object_ref (self->filter)));
  self->sort_model = gtk_sort_list_model_new (G_LIST_MODEL (g_object_ref (self->filter_model)),
                                              GTK_SORTER (g_object_ref (self->sorter)));
  self->selection = gtk_single_selection_new (G_LIST_MODEL (g_object_ref (self->sort_model)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  g_signal_connect (self->selection, "notify::selected-item", G_CALLBACK (notes_window_selection_cb), self);
  g_signal_connect (self->notebook, "items-changed", G_CALLBACK (notes_window_model_changed_cb), self);
  g_signal_connect (self->sort_model, "items-changed", G_CALLBACK (notes_window_model_changed_cb), self);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (notes_window_setup_row_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (notes_window_bind_row_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (notes_window_unbind_row_cb), self);
  gtk_list_view_set_factory (self->note_list, factory);
  g_object_unref (factory);
  gtk_list_view_set_model (self->note_list, GTK_SELECTION_MODEL (self->selection));

  notes_status_indicator_set_sync (self->status_indicator, self->sync);
  notes_status_indicator_set_notebook (self->status_indicator, self->notebook);
  g_object_bind_property (self->application, "work-offline",
                          self->status_indicator, "work-offline",
                          G_BINDING_SYNC_CREATE);

  g_signal_connect (self->sync, "error", G_CALLBACK (notes_window_sync_error_cb), self);
  g_signal_connect (self->sync, "remote-doc-deleted", G_CALLBACK (notes_window_remote_doc_deleted_cb), self);
  g_signal_connect (self->application, "notify::work-offline", G_CALLBACK (notes_window_work_offline_cb), self);
  notes_window_work_offline_cb (self->application, NULL, self);

  notes_window_set_action_enabled (self, "new-note", FALSE);
  notes_window_set_current (self, NULL);
  notes_window_update_sidebar_page (self);

  /* A window that is not shown soon loads its notebook anyway */
  self->load_timeout = g_timeout_add (LOAD_LATEST_MS, notes_window_load_timeout_cb, self);
}

static void
notes_window_dispose (GObject *object)
{
  NotesWindow *self = NOTES_WINDOW (object);

  if (self->current != NULL)
    g_signal_handlers_disconnect_by_data (self->current, self);
  g_clear_object (&self->current);

  if (self->load_clock != NULL)
    g_signal_handlers_disconnect_by_func (self->load_clock, notes_window_load_after_paint_cb, self);
  g_clear_object (&self->load_clock);
  g_clear_handle_id (&self->load_timeout, g_source_remove);

  if (self->sync != NULL)
    g_signal_handlers_disconnect_by_data (self->sync, self);
  g_clear_object (&self->sync);
  if (self->application != NULL)
    g_signal_handlers_disconnect_by_data (self->application, self);
  g_clear_object (&self->application);

  if (self->note_list != NULL)
    gtk_list_view_set_model (self->note_list, NULL);
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  if (self->sort_model != NULL)
    g_signal_handlers_disconnect_by_data (self->sort_model, self);
  if (self->notebook != NULL)
    g_signal_handlers_disconnect_by_data (self->notebook, self);
  g_clear_object (&self->selection);
  g_clear_object (&self->sort_model);
  g_clear_object (&self->filter_model);
  g_clear_object (&self->sorter);
  g_clear_object (&self->filter);
  g_clear_object (&self->notebook);
  g_clear_pointer (&self->deleted_body, patches_value_unref);

  gtk_widget_dispose_template (GTK_WIDGET (self), NOTES_TYPE_WINDOW);

  G_OBJECT_CLASS (notes_window_parent_class)->dispose (object);
}

static void
notes_window_finalize (GObject *object)
{
  NotesWindow *self = NOTES_WINDOW (object);

  g_clear_pointer (&self->notebook_id, g_free);
  g_clear_pointer (&self->query, g_free);
  g_clear_pointer (&self->deleted_title, g_free);

  G_OBJECT_CLASS (notes_window_parent_class)->finalize (object);
}

static void
notes_window_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  NotesWindow *self = NOTES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_NOTES_APPLICATION:
      g_value_set_object (value, self->application);
      break;

    case PROP_NOTEBOOK_ID:
      g_value_set_string (value, self->notebook_id);
      break;

    case PROP_NOTEBOOK:
      g_value_set_object (value, self->notebook);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_window_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  NotesWindow *self = NOTES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_NOTES_APPLICATION:
      self->application = g_value_dup_object (value);
      break;

    case PROP_NOTEBOOK_ID:
      self->notebook_id = notes_notebook_normalize_id (g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_window_class_init (NotesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = notes_window_constructed;
  object_class->dispose = notes_window_dispose;
  object_class->finalize = notes_window_finalize;
  object_class->get_property = notes_window_get_property;
  object_class->set_property = notes_window_set_property;

  widget_class->map = notes_window_map;

  window_class->close_request = notes_window_close_request;

  /**
   * NotesWindow:notes-application:
   *
   * The application whose client, sync and settings the window uses.
   */
  properties[PROP_NOTES_APPLICATION] =
    g_param_spec_object ("notes-application", NULL, NULL,
                         NOTES_TYPE_APPLICATION,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesWindow:notebook-id:
   *
   * The notebook shown, `notebook/<id>`.
   */
  properties[PROP_NOTEBOOK_ID] =
    g_param_spec_string ("notebook-id", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesWindow:notebook:
   *
   * The notebook model.
   */
  properties[PROP_NOTEBOOK] =
    g_param_spec_object ("notebook", NULL, NULL,
                         NOTES_TYPE_NOTEBOOK,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (NOTES_TYPE_STATUS_INDICATOR);

  gtk_widget_class_set_template_from_resource (widget_class, APPLICATION_PATH "/ui/notes-window.ui");
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, sidebar_box);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, content_box);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, sidebar_title);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, search_button);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, search_bar);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, sidebar_stack);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, note_list);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, back_button);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, note_title);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, pin_button);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, delete_button);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, status_indicator);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, banner_label);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, keep_button);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, content_stack);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, editor_bin);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, new_note_button);
  gtk_widget_class_bind_template_child (widget_class, NotesWindow, menu_button);
  gtk_widget_class_bind_template_callback (widget_class, notes_window_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, notes_window_stop_search_cb);
  gtk_widget_class_bind_template_callback (widget_class, notes_window_list_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, notes_window_back_cb);
  gtk_widget_class_bind_template_callback (widget_class, notes_window_keep_edits_cb);
  gtk_widget_class_bind_template_callback (widget_class, notes_window_dismiss_banner_cb);
}

static void
notes_window_init (NotesWindow *self)
{
  static const struct {
    const char *name;
    const char *label;
  } icon_buttons[] = {
    { "new_note_button", N_("New Note") },
    { "menu_button", N_("Main Menu") },
    { "search_button", N_("Search Notes") },
    { "back_button", N_("Back to the List") },
    { "delete_button", N_("Delete Note") },
    { "pin_button", N_("Pin Note") },
  };

  gtk_widget_init_template (GTK_WIDGET (self));

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions), self);

  /* Icon-only buttons: an accessible label besides the tooltip */
  for (guint i = 0; i < G_N_ELEMENTS (icon_buttons); i++)
    {
      GtkWidget *button = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (self), NOTES_TYPE_WINDOW,
                                                                     icon_buttons[i].name));

      gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _(icon_buttons[i].label),
                                      -1);
    }

  g_signal_connect (self->search_bar, "notify::search-mode-enabled",
                    G_CALLBACK (notes_window_search_mode_cb), self);

#if HAVE_NOTES_EDITOR
  self->editor = GTK_WIDGET (notes_editor_new ());
#else
  /* Until the editor is built: the selected note's title */
  self->editor = gtk_label_new ("");
  gtk_widget_set_focusable (self->editor, TRUE);
  gtk_widget_add_css_class (self->editor, "title-1");
#endif
  adw_bin_set_child (self->editor_bin, self->editor);
}

/* Public API */

/**
 * notes_window_new:
 * @application: the started application
 * @notebook_id: the notebook to show
 *
 * Returns: (transfer floating): a new window showing @notebook_id
 */
GtkWidget *
notes_window_new (NotesApplication *application,
                  const char       *notebook_id)
{
  g_return_val_if_fail (NOTES_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (notes_application_get_client (application) != NULL, NULL);

  return g_object_new (NOTES_TYPE_WINDOW,
                       "application", application,
                       "notes-application", application,
                       "notebook-id", notebook_id,
                       NULL);
}

/**
 * notes_window_get_notebook_id:
 * @self: a #NotesWindow
 *
 * Returns: the notebook shown, `notebook/<id>`
 */
const char *
notes_window_get_notebook_id (NotesWindow *self)
{
  g_return_val_if_fail (NOTES_IS_WINDOW (self), NULL);

  return self->notebook_id;
}

/**
 * notes_window_get_notebook:
 * @self: a #NotesWindow
 *
 * Returns: (transfer none): the notebook model
 */
NotesNotebook *
notes_window_get_notebook (NotesWindow *self)
{
  g_return_val_if_fail (NOTES_IS_WINDOW (self), NULL);

  return self->notebook;
}

/**
 * notes_window_get_status_indicator:
 * @self: a #NotesWindow
 *
 * Returns: (transfer none): the status indicator of the header bar
 */
NotesStatusIndicator *
notes_window_get_status_indicator (NotesWindow *self)
{
  g_return_val_if_fail (NOTES_IS_WINDOW (self), NULL);

  return self->status_indicator;
}

/**
 * notes_window_get_visible_notes:
 * @self: a #NotesWindow
 *
 * Returns: (transfer none): the notes as listed: filtered and sorted
 */
GListModel *
notes_window_get_visible_notes (NotesWindow *self)
{
  g_return_val_if_fail (NOTES_IS_WINDOW (self), NULL);

  return G_LIST_MODEL (self->selection);
}

/**
 * notes_window_get_selected_note:
 * @self: a #NotesWindow
 *
 * Returns: (transfer none) (nullable): the note being edited
 */
NotesNoteItem *
notes_window_get_selected_note (NotesWindow *self)
{
  g_return_val_if_fail (NOTES_IS_WINDOW (self), NULL);

  return self->current;
}

/**
 * notes_window_select_note:
 * @self: a #NotesWindow
 * @item: a note of the notebook
 *
 * Selects @item (clearing a search that hides it) and opens it.
 *
 * Returns: whether @item is listed and now selected
 */
gboolean
notes_window_select_note (NotesWindow   *self,
                          NotesNoteItem *item)
{
  guint n;

  g_return_val_if_fail (NOTES_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (NOTES_IS_NOTE_ITEM (item), FALSE);

  if (self->query != NULL && !notes_note_item_matches (item, self->query))
    notes_window_set_search_text (self, "");

  n = g_list_model_get_n_items (G_LIST_MODEL (self->selection));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(NotesNoteItem) listed = g_list_model_get_item (G_LIST_MODEL (self->selection), i);

      if (listed == item)
        {
          gtk_single_selection_set_selected (self->selection, i);
          gtk_widget_activate_action (GTK_WIDGET (self->note_list), "list.scroll-to-item", "u", i);
          return TRUE;
        }
    }

  return FALSE;
}

/**
 * notes_window_set_search_text:
 * @self: a #NotesWindow
 * @text: the text to look for in titles and bodies ("" shows every note)
 *
 * Filters the list, as typing in the search entry does.
 */
void
notes_window_set_search_text (NotesWindow *self,
                              const char  *text)
{
  g_return_if_fail (NOTES_IS_WINDOW (self));
  g_return_if_fail (text != NULL);

  if (text[0] != '\0')
    gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text);

  /* The entry reports changes after a delay; the list follows at once */
  notes_window_search_changed_cb (self, self->search_entry);
}

/**
 * notes_window_get_editor:
 * @self: a #NotesWindow
 *
 * Returns: (transfer none): the editor widget (a placeholder label in
 *   builds without the editor)
 */
GtkWidget *
notes_window_get_editor (NotesWindow *self)
{
  g_return_val_if_fail (NOTES_IS_WINDOW (self), NULL);

  return self->editor;
}
