/* test-notes-window.c
 *
 * The Patches Notes window against a real patches-server: the status in
 * the header bar (connected, connecting, offline, changes waiting, sync
 * errors), the note list (create, rename, search, pin, delete and undo,
 * edits and deletions made by another client), and screenshots of the
 * window connected and offline for the app's metadata.
 *
 * The application runs in this process: registered (which runs its
 * startup) and activated, without g_application_run().  Settings use
 * the memory backend, every test has its own XDG directories, and the
 * session bus is unreachable, so that tokens fall back to memory.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>

#include "patches-memory-store.h"
#include "patches-patch.h"
#include "patches-text.h"
#include "patches-test-server.h"

#include "notes-application.h"
#include "notes-note-row.h"
#include "notes-secret.h"
#include "notes-window.h"

#if HAVE_NOTES_EDITOR
# include "notes-editor.h"
#endif

#define TEST_APPLICATION_ID APPLICATION_ID ".Test"

/* How long the status may take to follow the server (stop, restart) */
#define STATUS_WAIT_MS 8000

static gboolean have_display;

/* Widgets */

static GtkWidget *
find_widget (GtkWidget  *root,
             const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (root), name) == 0)
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, name);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static void
collect_rows (GtkWidget *root,
              GPtrArray *rows)
{
  if (NOTES_IS_NOTE_ROW (root))
    {
      if (notes_note_row_get_item (NOTES_NOTE_ROW (root)) != NULL)
        g_ptr_array_add (rows, root);
      return;
    }

  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_rows (child, rows);
}

static const char *
label_text (GtkWidget  *root,
            const char *name)
{
  GtkWidget *label = find_widget (root, name);

  g_assert_nonnull (label);
  g_assert_true (GTK_IS_LABEL (label));

  return gtk_label_get_label (GTK_LABEL (label));
}

static const char *
stack_page (GtkWidget  *root,
            const char *name)
{
  GtkWidget *stack = find_widget (root, name);

  g_assert_nonnull (stack);
  g_assert_true (GTK_IS_STACK (stack));

  return gtk_stack_get_visible_child_name (GTK_STACK (stack));
}

static gboolean
widget_visible (GtkWidget  *root,
                const char *name)
{
  GtkWidget *widget = find_widget (root, name);

  g_assert_nonnull (widget);

  return gtk_widget_get_visible (widget);
}

/* The row showing @item, once the list has laid it out */
static NotesNoteRow *
row_for_item (GtkWidget     *window,
              NotesNoteItem *item)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  GtkWidget *list = find_widget (window, "note-list");

  g_assert_nonnull (list);
  collect_rows (list, rows);
  for (guint i = 0; i < rows->len; i++)
    {
      if (notes_note_row_get_item (g_ptr_array_index (rows, i)) == item)
        return g_ptr_array_index (rows, i);
    }

  return NULL;
}

static const char *
row_title (GtkWidget     *window,
           NotesNoteItem *item)
{
  NotesNoteRow *row = row_for_item (window, item);

  if (row == NULL)
    return NULL;

  return label_text (GTK_WIDGET (row), "note-title");
}

static gboolean
count_frame_cb (GtkWidget     *widget,
                GdkFrameClock *clock,
                gpointer       user_data)
{
  guint *frames = user_data;

  (*frames)++;

  return G_SOURCE_CONTINUE;
}

static void
wait_frames (GtkWidget *widget,
             guint      n)
{
  guint frames = 0;
  guint id = gtk_widget_add_tick_callback (widget, count_frame_cb, &frames, NULL);

  PATCHES_TEST_WAIT_UNTIL (frames >= n);
  gtk_widget_remove_tick_callback (widget, id);
}

/* Renders @window as it is on screen into the build directory */
static void
save_screenshot (GtkWidget  *window,
                 const char *name)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  GtkSnapshot *snapshot;
  GskRenderer *renderer;
  int width;
  int height;

  PATCHES_TEST_WAIT_UNTIL (gtk_widget_get_width (window) > 0);
  wait_frames (window, 3);
  width = gtk_widget_get_width (window);
  height = gtk_widget_get_height (window);

  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);

  paintable = gtk_widget_paintable_new (window);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);

  renderer = gtk_native_get_renderer (GTK_NATIVE (window));
  g_assert_nonnull (renderer);
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_nonnull (texture);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, width);

  path = g_test_build_filename (G_TEST_BUILT, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("Screenshot: %s", path);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
}

/* The application under test */

typedef struct
{
  PatchesTestServer *server;
  NotesApplication  *app;
  NotesWindow       *window;
  GPtrArray         *connection_texts;
} Fixture;

static void
connection_label_cb (GtkLabel   *label,
                     GParamSpec *pspec,
                     Fixture    *f)
{
  g_ptr_array_add (f->connection_texts, g_strdup (gtk_label_get_label (label)));
}

/* @profile_name: %NULL for a new profile of its own, or the name of one used
 * by no other test ("default" for the one of a fresh install) */
static void
fixture_start_app (Fixture    *f,
                   const char *token,
                   gboolean    offline,
                   const char *profile_name)
{
  static guint n_profiles;
  g_autofree char *profile = profile_name != NULL ? g_strdup (profile_name)
                                                  : g_strdup_printf ("tester%u", ++n_profiles);
  g_autofree char *application_id = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *label;

  if (g_str_equal (profile, "default"))
    application_id = g_strdup (TEST_APPLICATION_ID);
  else
    application_id = g_strdup_printf ("%s.Profile_%s", TEST_APPLICATION_ID, profile);

  /* Each test its own profile: its own settings path and local store */
  f->app = notes_application_new (TEST_APPLICATION_ID, G_APPLICATION_NON_UNIQUE);
  notes_application_set_profile (f->app, profile);
  g_assert_cmpstr (g_application_get_application_id (G_APPLICATION (f->app)), ==, application_id);
  notes_application_set_server_url (f->app, patches_test_server_get_url (f->server));
  if (offline)
    notes_application_set_work_offline (f->app, TRUE);

  g_assert_true (g_application_register (G_APPLICATION (f->app), NULL, &error));
  g_assert_no_error (error);

  /* Quick reconnects and pings, so that the test need not wait long */
  g_object_set (notes_application_get_sync (f->app),
                "reconnect-interval", 100,
                "ping-interval", 1,
                NULL);
  if (token != NULL)
    notes_application_set_token (f->app, token);

  g_application_activate (G_APPLICATION (f->app));
  f->window = NOTES_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (f->app)));
  g_assert_true (NOTES_IS_WINDOW (f->window));
  g_assert_cmpstr (notes_window_get_notebook_id (f->window), ==, "notebook/main");

  label = find_widget (GTK_WIDGET (f->window), "connection-label");
  g_assert_nonnull (label);
  g_signal_connect (label, "notify::label", G_CALLBACK (connection_label_cb), f);

  PATCHES_TEST_WAIT_UNTIL (notes_notebook_get_loaded (notes_window_get_notebook (f->window)));
  PATCHES_TEST_WAIT_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (f->window)) &&
                           gtk_widget_get_width (GTK_WIDGET (f->window)) > 0);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  if (!have_display)
    {
      g_test_skip ("No display");
      return;
    }

  f->connection_texts = g_ptr_array_new_with_free_func (g_free);
  f->server = patches_test_server_new (NULL);
  fixture_start_app (f, NULL, FALSE, data);
}

static void
fixture_stop_app (Fixture *f)
{
  if (f->window != NULL)
    {
      gtk_window_close (GTK_WINDOW (f->window));
      f->window = NULL;
    }

  if (f->app != NULL)
    {
      /* What g_application_run() would do at the end */
      patches_sync_disconnect (notes_application_get_sync (f->app));
      patches_test_sleep_ms (50);
      g_clear_object (&f->app);
    }
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (!have_display)
    return;

  fixture_stop_app (f);
  g_clear_pointer (&f->server, patches_test_server_free);
  g_clear_pointer (&f->connection_texts, g_ptr_array_unref);
}

static const char *
connection_text (Fixture *f)
{
  return label_text (GTK_WIDGET (f->window), "connection-label");
}

static const char *
saved_text (Fixture *f)
{
  return label_text (GTK_WIDGET (f->window), "saved-label");
}

static gboolean
connection_text_seen (Fixture    *f,
                      const char *prefix)
{
  for (guint i = 0; i < f->connection_texts->len; i++)
    {
      if (g_str_has_prefix (g_ptr_array_index (f->connection_texts, i), prefix))
        return TRUE;
    }

  return FALSE;
}

static NotesNoteItem *
create_note (Fixture    *f,
             const char *title)
{
  NotesNotebook *notebook = notes_window_get_notebook (f->window);
  guint before = g_list_model_get_n_items (G_LIST_MODEL (notebook));
  NotesNoteItem *item;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.new-note", NULL));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (notebook)), ==, before + 1);

  item = notes_window_get_selected_note (f->window);
  g_assert_nonnull (item);
  g_assert_cmpstr (notes_note_item_get_title (item), ==, "");
  g_assert_cmpstr (notes_note_item_get_display_title (item), ==, "Untitled note");

  if (title != NULL)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (notes_notebook_rename_note (notebook, item, title, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (notes_note_item_get_title (item), ==, title);
    }

  return item;
}

/* Types @text at the end of the open note's body (with the editor), or
 * sets the body through the document (without it) */
static void
type_body (Fixture    *f,
           const char *text)
{
#if HAVE_NOTES_EDITOR
  GtkWidget *editor = notes_window_get_editor (f->window);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (notes_editor_get_text_view (NOTES_EDITOR (editor)));
  GtkTextIter start;

  gtk_widget_grab_focus (GTK_WIDGET (notes_editor_get_text_view (NOTES_EDITOR (editor))));
  gtk_text_buffer_get_start_iter (buffer, &start);
  gtk_text_buffer_insert (buffer, &start, text, -1);
  /* updatedAt now, not when the editor's throttle ends */
  notes_editor_flush (NOTES_EDITOR (editor));
#else
  NotesNoteItem *item = notes_window_get_selected_note (f->window);
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  g_autoptr(PatchesChange) change = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesText) body = patches_text_new_plain (text);

  patches_patch_replace (patch, "/body", patches_text_to_value (body), FALSE);
  change = patches_doc_change (notes_note_item_get_doc (item), patch, &error);
  g_assert_no_error (error);
#endif
}

/* Types @title in the open note's title entry (with the editor), or
 * renames the note (without it) */
static void
type_title (Fixture    *f,
            const char *title)
{
#if HAVE_NOTES_EDITOR
  GtkWidget *editor = notes_window_get_editor (f->window);

  gtk_editable_set_text (notes_editor_get_title_entry (NOTES_EDITOR (editor)), title);
  notes_editor_flush (NOTES_EDITOR (editor));
#else
  g_assert_true (notes_notebook_rename_note (notes_window_get_notebook (f->window),
                                             notes_window_get_selected_note (f->window),
                                             title, NULL));
#endif
}

#if HAVE_NOTES_EDITOR
/* Selects @words in the open note's body and activates the editor's
 * @action (with @parameter, or %NULL) on them, as the toolbar and the
 * shortcuts do */
static void
format_words (Fixture    *f,
              const char *words,
              const char *action,
              GVariant   *parameter)
{
  GtkWidget *editor = notes_window_get_editor (f->window);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (notes_editor_get_text_view (NOTES_EDITOR (editor)));
  GtkTextIter iter;
  GtkTextIter start;
  GtkTextIter end;

  gtk_text_buffer_get_start_iter (buffer, &iter);
  g_assert_true (gtk_text_iter_forward_search (&iter, words, GTK_TEXT_SEARCH_TEXT_ONLY, &start, &end, NULL));
  gtk_text_buffer_select_range (buffer, &end, &start);
  g_assert_true (gtk_widget_activate_action_variant (editor, action, parameter));
}
#endif

/* Makes the open note's body a short formatted text: a list, a heading,
 * bold, italic and a link (with the editor) */
static void
format_body (Fixture *f)
{
#if HAVE_NOTES_EDITOR
  GtkWidget *editor = notes_window_get_editor (f->window);
  GtkTextView *view = notes_editor_get_text_view (NOTES_EDITOR (editor));
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  g_autofree char *body = NULL;
  GtkWidget *link_entry;
  GtkTextIter end;

  format_words (f, "Milk, eggs and bread\nCoffee beans\nFresh basil for the pesto", "editor.bullet-list", NULL);
  format_words (f, "For Saturday", "editor.heading", g_variant_new_int32 (2));
  format_words (f, "Don't forget", "editor.bold", NULL);
  format_words (f, "the good cheese", "editor.italic", NULL);

  /* A link, through the link popover */
  format_words (f, "pesto", "editor.link", NULL);
  link_entry = find_widget (GTK_WIDGET (view), "link-entry");
  g_assert_nonnull (link_entry);
  gtk_editable_set_text (GTK_EDITABLE (link_entry), "https://example.org/pesto");
  g_signal_emit_by_name (link_entry, "activate");

  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_place_cursor (buffer, &end);
  notes_editor_flush (NOTES_EDITOR (editor));

  /* All of it is in the document */
  body = patches_value_to_json (patches_value_object_get (patches_doc_get_state (notes_editor_get_doc (NOTES_EDITOR (editor))),
                                                          "body"));
  g_assert_nonnull (strstr (body, "{\"list\":\"bullet\"}"));
  g_assert_nonnull (strstr (body, "{\"header\":2}"));
  g_assert_nonnull (strstr (body, "{\"bold\":true}"));
  g_assert_nonnull (strstr (body, "{\"italic\":true}"));
  g_assert_nonnull (strstr (body, "{\"link\":\"https://example.org/pesto\"}"));
#endif
}

static NotesNoteItem *
add_note (Fixture    *f,
          const char *title,
          const char *body_json)
{
  g_autoptr(PatchesValue) body = patches_value_parse (body_json, -1, NULL);
  g_autoptr(GError) error = NULL;
  NotesNoteItem *item;

  g_assert_nonnull (body);
  item = notes_notebook_create_note (notes_window_get_notebook (f->window), title, body, &error);
  g_assert_no_error (error);
  g_assert_nonnull (item);
  g_assert_cmpstr (notes_note_item_get_title (item), ==, title);

  return item;
}

/* Another device: a client over a memory store, synced with the server */

typedef struct
{
  PatchesMemoryStore *store;
  PatchesClient      *client;
  PatchesSync        *sync;
} Peer;

static Peer *
peer_new (const char *url)
{
  Peer *peer = g_new0 (Peer, 1);

  peer->store = patches_memory_store_new ();
  peer->client = patches_client_new (PATCHES_STORE (peer->store));
  peer->sync = patches_sync_new (peer->client, url);
  g_object_set (peer->sync, "reconnect-interval", 100, NULL);
  patches_sync_connect_async (peer->sync, NULL, NULL, NULL);
  PATCHES_TEST_WAIT_UNTIL (patches_sync_get_connected (peer->sync));

  return peer;
}

static void
peer_free (Peer *peer)
{
  patches_sync_disconnect (peer->sync);
  g_clear_object (&peer->sync);
  g_clear_object (&peer->client);
  g_clear_object (&peer->store);
  g_free (peer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Peer, peer_free)

static PatchesDoc *
peer_open (Peer       *peer,
           const char *doc_id)
{
  g_autoptr(GError) error = NULL;
  PatchesDoc *doc = patches_client_open_doc (peer->client, doc_id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (doc);
  PATCHES_TEST_WAIT_UNTIL (patches_doc_get_committed_rev (doc) > 0 &&
                           patches_doc_get_sync_status (doc) == PATCHES_SYNC_STATUS_SYNCED);

  return doc;
}

static guint
n_tombstones (PatchesClient *client)
{
  g_auto(GStrv) tombstones = patches_client_list_tombstones (client);

  return g_strv_length (tombstones);
}

static const char *
doc_string (PatchesDoc *doc,
            const char *key)
{
  PatchesValue *value = patches_value_object_get (patches_doc_get_state (doc), key);

  if (value == NULL || patches_value_get_kind (value) != PATCHES_VALUE_STRING)
    return NULL;

  return patches_value_get_string (value);
}

/* Tests */

/* The main story: connected, a note created and renamed, the server
 * stops (edits wait), the server comes back (edits are saved) */
static void
test_window_status_follows_server (Fixture       *f,
                                   gconstpointer  data)
{
  NotesStatusIndicator *indicator;
  NotesNoteItem *item;
  GtkWidget *window;

  if (g_test_failed () || !have_display)
    return;

  window = GTK_WIDGET (f->window);
  indicator = notes_window_get_status_indicator (f->window);

  /* Connected, nothing waiting */
  PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (connection_text (f), "Connected") == 0);
  g_assert_true (widget_visible (window, "connection-label"));
  g_assert_cmpstr (notes_status_indicator_get_connection_text (indicator), ==, "Connected");
  PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (saved_text (f), "All changes saved") == 0);
  g_assert_false (widget_visible (window, "error-button"));
  g_assert_cmpstr (stack_page (window, "content-stack"), ==, "empty");
  g_assert_false (widget_visible (window, "delete-button"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (window), "show-help-overlay"));

  /* A new note is listed and opened */
  item = create_note (f, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (notes_window_get_visible_notes (f->window)), ==, 1);
  PATCHES_TEST_WAIT_UNTIL (row_title (window, item) != NULL);
  g_assert_cmpstr (row_title (window, item), ==, "Untitled note");

  /* Its title, typed in the editor, shows in the row and the header bar */
  type_title (f, "Shopping list");
  g_assert_cmpstr (notes_note_item_get_title (item), ==, "Shopping list");
  PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (row_title (window, item), "Shopping list") == 0);
  g_assert_cmpstr (adw_window_title_get_title (ADW_WINDOW_TITLE (find_widget (window, "note-title"))), ==,
                   "Shopping list");
  g_assert_cmpstr (stack_page (window, "content-stack"), ==, "editor");

  /* Its first line shows under the title */
  type_body (f, "Milk, eggs and bread\nCoffee beans\nFresh basil for the pesto\n"
                "For Saturday\nAsk Sam what to bring. Don't forget the good cheese!");
  format_body (f);
  PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (label_text (GTK_WIDGET (row_for_item (window, item)), "note-snippet"),
                                      "Milk, eggs and bread") == 0);
  g_assert_true (widget_visible (GTK_WIDGET (row_for_item (window, item)), "note-snippet"));

  /* Two more notes, for a list worth a screenshot; the first is still
   * the one open */
  add_note (f, "Trip to the coast",
            "{\"ops\":[{\"insert\":\"Train at 9:40\",\"attributes\":{\"bold\":true}},"
            "{\"insert\":\"\\nBook the hotel by Friday\\n\"}]}");
  add_note (f, "Ideas", "{\"ops\":[{\"insert\":\"A garden for the balcony\\n\"}]}");
  g_assert_true (notes_window_select_note (f->window, item));

  /* The screenshots' size, 1000 × 700: the window's default size counts
   * the margin of its client-side decorations (5 px each side here) */
  gtk_window_set_default_size (GTK_WINDOW (window), 1010, 710);
  PATCHES_TEST_WAIT_FOR (gtk_widget_get_width (window) == 1000 && gtk_widget_get_height (window) == 700, 3000);
  g_assert_cmpint (gtk_widget_get_width (window), >=, 990);
  g_assert_cmpint (gtk_widget_get_height (window), >=, 690);

  /* Sent and confirmed */
  PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (saved_text (f), "All changes saved") == 0 &&
                           notes_note_item_get_badge (item) == NOTES_SYNC_BADGE_SAVED &&
                           patches_doc_get_committed_rev (notes_note_item_get_doc (item)) > 0);
  PATCHES_TEST_WAIT_UNTIL (!widget_visible (window, "sync-spinner"));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (find_widget (GTK_WIDGET (row_for_item (window, item)), "note-badge")),
                   ==, "Saved on the server");
  g_assert_cmpstr (connection_text (f), ==, "Connected");
  save_screenshot (window, "connected.png");

  /* The server goes away: the label leaves "Connected" within seconds */
  g_ptr_array_set_size (f->connection_texts, 0);
  patches_test_server_stop (f->server);
  g_assert_true (PATCHES_TEST_WAIT_FOR (g_strcmp0 (connection_text (f), "Connected") != 0, STATUS_WAIT_MS));
  g_assert_true (PATCHES_TEST_WAIT_FOR (connection_text_seen (f, "Connecting"), STATUS_WAIT_MS));

  /* An edit meanwhile waits on this device */
  g_assert_true (notes_notebook_rename_note (notes_window_get_notebook (f->window), item,
                                             "Shopping list for Saturday", NULL));
  PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (row_title (window, item), "Shopping list for Saturday") == 0);
  g_assert_cmpstr (saved_text (f), ==, "1 change waiting");
  g_assert_cmpuint (notes_notebook_get_n_pending (notes_window_get_notebook (f->window)), ==, 1);
  g_assert_cmpint (notes_note_item_get_badge (item), ==, NOTES_SYNC_BADGE_PENDING);
  PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (gtk_widget_get_tooltip_text (find_widget (GTK_WIDGET (row_for_item (window, item)), "note-badge")),
                                      "Saved on this device, waiting to sync") == 0);
  g_assert_cmpstr (connection_text (f), !=, "Connected");
  save_screenshot (window, "offline.png");

  /* The server is back: connected again, the edit is saved */
  patches_test_server_restart (f->server);
  g_assert_true (PATCHES_TEST_WAIT_FOR (g_strcmp0 (connection_text (f), "Connected") == 0, STATUS_WAIT_MS));
  g_assert_true (PATCHES_TEST_WAIT_FOR (g_strcmp0 (saved_text (f), "All changes saved") == 0, STATUS_WAIT_MS));
  PATCHES_TEST_WAIT_UNTIL (notes_note_item_get_badge (item) == NOTES_SYNC_BADGE_SAVED);

  /* … and really on the server: another device reads it */
  {
    g_autoptr(Peer) peer = peer_new (patches_test_server_get_url (f->server));
    g_autoptr(PatchesDoc) doc = peer_open (peer, notes_note_item_get_doc_id (item));
    g_autoptr(PatchesDoc) notebook = peer_open (peer, "notebook/main");
    PatchesValue *notes = patches_value_object_get (patches_doc_get_state (notebook), "notes");

    g_assert_cmpstr (doc_string (doc, "title"), ==, "Shopping list for Saturday");
    g_assert_nonnull (notes);
    g_assert_true (patches_value_object_has (notes, notes_note_item_get_note_id (item)));
  }
}

/* Work offline: no connection at all, and back */
static void
test_window_work_offline (Fixture       *f,
                          gconstpointer  data)
{
  GAction *action;
  NotesNoteItem *item;

  if (g_test_failed () || !have_display)
    return;

  PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (connection_text (f), "Connected") == 0);

  action = g_action_map_lookup_action (G_ACTION_MAP (f->window), "work-offline");
  g_assert_nonnull (action);
  g_assert_false (g_variant_get_boolean (g_action_get_state (action)));

  g_action_change_state (action, g_variant_new_boolean (TRUE));
  g_assert_true (notes_application_get_work_offline (f->app));
  g_assert_true (g_settings_get_boolean (notes_application_get_settings (f->app), "work-offline"));
  g_assert_cmpstr (connection_text (f), ==, "Offline");
  PATCHES_TEST_WAIT_UNTIL (!patches_sync_get_connected (notes_application_get_sync (f->app)));
  patches_test_sleep_ms (300);
  g_assert_false (patches_sync_get_connected (notes_application_get_sync (f->app)));
  g_assert_cmpstr (connection_text (f), ==, "Offline");

  item = create_note (f, "Written on a plane");
  g_assert_cmpuint (notes_notebook_get_n_pending (notes_window_get_notebook (f->window)), ==, 3);
  g_assert_cmpstr (saved_text (f), ==, "3 changes waiting");

  /* The preferences' Connect switch is the same choice */
  {
    g_autoptr(GtkWidget) preferences = NULL;
    g_autofree char *server_setting = NULL;
    GtkWidget *server_row;
    GtkWidget *toggle;

    g_assert_true (g_action_group_has_action (G_ACTION_GROUP (f->app), "preferences"));
    g_action_group_activate_action (G_ACTION_GROUP (f->app), "preferences", NULL);
    for (GList *l = gtk_application_get_windows (GTK_APPLICATION (f->app)); l != NULL; l = l->next)
      {
        if (l->data != (gpointer) f->window && ADW_IS_PREFERENCES_WINDOW (l->data))
          preferences = g_object_ref (l->data);
      }
    g_assert_nonnull (preferences);

    toggle = find_widget (preferences, "connect-switch");
    g_assert_nonnull (toggle);
    g_assert_false (gtk_switch_get_active (GTK_SWITCH (toggle)));
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (find_widget (preferences, "server-row"))), ==,
                     patches_test_server_get_url (f->server));

    /* Only ws:// and wss:// addresses are saved */
    server_row = find_widget (preferences, "server-row");
    gtk_editable_set_text (GTK_EDITABLE (server_row), "http://example.test/");
    g_signal_emit_by_name (server_row, "apply");
    g_assert_true (gtk_widget_has_css_class (server_row, "error"));
    g_assert_cmpstr (notes_application_get_server_url (f->app), ==, patches_test_server_get_url (f->server));
    server_setting = g_settings_get_string (notes_application_get_settings (f->app), "server-url");
    g_assert_cmpstr (server_setting, ==, "ws://127.0.0.1:8080/sync");
    g_clear_pointer (&server_setting, g_free);
    gtk_editable_set_text (GTK_EDITABLE (server_row), patches_test_server_get_url (f->server));
    g_signal_emit_by_name (server_row, "apply");
    g_assert_false (gtk_widget_has_css_class (server_row, "error"));
    server_setting = g_settings_get_string (notes_application_get_settings (f->app), "server-url");
    g_assert_cmpstr (server_setting, ==, patches_test_server_get_url (f->server));

    gtk_switch_set_active (GTK_SWITCH (toggle), TRUE);
    g_assert_false (notes_application_get_work_offline (f->app));
    g_assert_false (g_variant_get_boolean (g_action_get_state (action)));
    gtk_window_destroy (GTK_WINDOW (preferences));
  }

  g_assert_true (PATCHES_TEST_WAIT_FOR (g_strcmp0 (connection_text (f), "Connected") == 0, STATUS_WAIT_MS));
  g_assert_true (PATCHES_TEST_WAIT_FOR (g_strcmp0 (saved_text (f), "All changes saved") == 0, STATUS_WAIT_MS));
  PATCHES_TEST_WAIT_UNTIL (notes_note_item_get_badge (item) == NOTES_SYNC_BADGE_SAVED);
}

/* About names the app; quitting remembers the window's size */
static void
test_window_size_and_about (Fixture       *f,
                            gconstpointer  data)
{
  GSettings *settings;
  GtkWindow *about = NULL;
  GListModel *toplevels;

  if (g_test_failed () || !have_display)
    return;

  settings = notes_application_get_settings (f->app);
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 960);

  g_action_group_activate_action (G_ACTION_GROUP (f->app), "about", NULL);
  toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) toplevel = g_list_model_get_item (toplevels, i);

      if (ADW_IS_ABOUT_WINDOW (toplevel))
        about = toplevel;
    }
  g_assert_nonnull (about);
  g_assert_cmpstr (adw_about_window_get_application_name (ADW_ABOUT_WINDOW (about)), ==, "Patches Notes");
  g_assert_cmpstr (adw_about_window_get_version (ADW_ABOUT_WINDOW (about)), ==, PACKAGE_VERSION);
  g_assert_cmpstr (adw_about_window_get_application_icon (ADW_ABOUT_WINDOW (about)), ==, APPLICATION_ID);
  g_assert_cmpint (adw_about_window_get_license_type (ADW_ABOUT_WINDOW (about)), ==, GTK_LICENSE_GPL_3_0);
  gtk_window_destroy (about);

  /* Quitting closes the window, which saves its size */
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1000, 700);
  g_action_group_activate_action (G_ACTION_GROUP (f->app), "quit", NULL);
  f->window = NULL;
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (f->app)));
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 1000);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 700);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));
}

/* Search, pin, delete with undo, and a final delete */
static void
test_window_list_operations (Fixture       *f,
                             gconstpointer  data)
{
  NotesNotebook *notebook;
  GListModel *visible;
  NotesNoteItem *alpha;
  NotesNoteItem *beta;
  NotesNoteItem *gamma;
  g_autofree char *beta_doc_id = NULL;
  g_autoptr(NotesNoteItem) first = NULL;
  GtkWidget *window;

  if (g_test_failed () || !have_display)
    return;

  window = GTK_WIDGET (f->window);
  notebook = notes_window_get_notebook (f->window);
  visible = notes_window_get_visible_notes (f->window);
  g_assert_cmpstr (stack_page (window, "sidebar-stack"), ==, "empty");

  alpha = create_note (f, "Alpha recipes");
  patches_test_sleep_ms (5);
  beta = create_note (f, "Beta plans");
  patches_test_sleep_ms (5);
  gamma = create_note (f, "Gamma rays");
  g_assert_cmpuint (g_list_model_get_n_items (visible), ==, 3);

  /* Newest first */
  first = g_list_model_get_item (visible, 0);
  g_assert_true (first == gamma);
  g_clear_object (&first);

  /* Search titles (and bodies), case-insensitive */
  notes_window_set_search_text (f->window, "BETA");
  g_assert_cmpuint (g_list_model_get_n_items (visible), ==, 1);
  first = g_list_model_get_item (visible, 0);
  g_assert_true (first == beta);
  g_clear_object (&first);
  notes_window_set_search_text (f->window, "nothing like this");
  g_assert_cmpuint (g_list_model_get_n_items (visible), ==, 0);
  g_assert_cmpstr (stack_page (window, "sidebar-stack"), ==, "no-results");
  notes_window_set_search_text (f->window, "");
  g_assert_cmpuint (g_list_model_get_n_items (visible), ==, 3);

  /* Pinned notes come first */
  g_assert_true (notes_window_select_note (f->window, alpha));
  g_assert_true (notes_window_get_selected_note (f->window) == alpha);
  g_assert_true (gtk_widget_activate_action (window, "win.toggle-pin", NULL));
  g_assert_true (notes_note_item_get_pinned (alpha));
  first = g_list_model_get_item (visible, 0);
  g_assert_true (first == alpha);
  g_clear_object (&first);
  PATCHES_TEST_WAIT_UNTIL (row_for_item (window, alpha) != NULL);
  g_assert_true (widget_visible (GTK_WIDGET (row_for_item (window, alpha)), "note-pin"));

  /* Delete, then undo: the same note is back */
  beta_doc_id = g_strdup (notes_note_item_get_doc_id (beta));
  g_assert_true (notes_window_select_note (f->window, beta));
  g_assert_true (gtk_widget_activate_action (window, "win.delete-note", NULL));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (notebook)), ==, 2);
  g_assert_null (notes_notebook_find (notebook, beta_doc_id));
  g_assert_null (notes_window_get_selected_note (f->window));
  g_assert_true (gtk_widget_activate_action (window, "win.undo-delete", "s", beta_doc_id + strlen ("note/")));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (notebook)), ==, 3);
  beta = notes_notebook_find (notebook, beta_doc_id);
  g_assert_nonnull (beta);
  g_assert_cmpstr (notes_note_item_get_title (beta), ==, "Beta plans");
  g_assert_true (patches_client_is_tracked (notes_application_get_client (f->app), beta_doc_id));

  /* Delete for good: the document is gone from this device */
  g_assert_true (notes_window_select_note (f->window, beta));
  g_assert_true (gtk_widget_activate_action (window, "win.delete-note", NULL));
  notes_notebook_finish_all_deletes (notebook);
  g_assert_false (patches_client_is_tracked (notes_application_get_client (f->app), beta_doc_id));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (notebook)), ==, 2);
  g_assert_true (gtk_widget_activate_action (window, "win.undo-delete", "s", beta_doc_id + strlen ("note/")));
  g_assert_null (notes_notebook_find (notebook, beta_doc_id));
  g_assert_cmpstr (stack_page (window, "sidebar-stack"), ==, "list");

  /* All of it reaches the server */
  PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (saved_text (f), "All changes saved") == 0);
  {
    g_autoptr(Peer) peer = peer_new (patches_test_server_get_url (f->server));
    g_autoptr(PatchesDoc) doc = peer_open (peer, "notebook/main");
    PatchesValue *notes = patches_value_object_get (patches_doc_get_state (doc), "notes");

    g_assert_cmpuint (patches_value_object_get_size (notes), ==, 2);
    g_assert_true (patches_value_object_has (notes, notes_note_item_get_note_id (alpha)));
    g_assert_true (patches_value_object_has (notes, notes_note_item_get_note_id (gamma)));
  }
}

/* Another device renames a note, then deletes it while this one has
 * edits it could not send: the banner offers to keep them */
static void
test_window_remote_changes (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(Peer) peer = NULL;
  g_autoptr(PatchesDoc) doc = NULL;
  g_autoptr(PatchesPatch) patch = NULL;
  g_autoptr(PatchesChange) change = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *doc_id = NULL;
  NotesNotebook *notebook;
  NotesNoteItem *item;
  NotesNoteItem *kept;
  GtkWidget *window;

  if (g_test_failed () || !have_display)
    return;

  window = GTK_WIDGET (f->window);
  notebook = notes_window_get_notebook (f->window);
  item = create_note (f, "Shared note");
  doc_id = g_strdup (notes_note_item_get_doc_id (item));
  PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (saved_text (f), "All changes saved") == 0 &&
                           patches_doc_get_committed_rev (notes_note_item_get_doc (item)) > 0);

  /* A rename elsewhere shows in the row */
  peer = peer_new (patches_test_server_get_url (f->server));
  doc = peer_open (peer, doc_id);
  g_assert_cmpstr (doc_string (doc, "title"), ==, "Shared note");
  patch = patches_patch_new ();
  patches_patch_replace (patch, "/title", patches_value_new_string ("Renamed elsewhere"), FALSE);
  change = patches_doc_change (doc, patch, &error);
  g_assert_no_error (error);
  PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (notes_note_item_get_title (item), "Renamed elsewhere") == 0);
  PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (row_title (window, item), "Renamed elsewhere") == 0);

  /* A note added elsewhere is listed, title and all */
  {
    g_autoptr(PatchesDoc) notebook_doc = peer_open (peer, "notebook/main");
    g_autoptr(PatchesDoc) phone_note = NULL;
    g_autoptr(PatchesPatch) note_patch = patches_patch_new ();
    g_autoptr(PatchesPatch) entry_patch = patches_patch_new ();
    g_autoptr(PatchesChange) note_change = NULL;
    g_autoptr(PatchesChange) entry_change = NULL;
    NotesNoteItem *phone_item;

    phone_note = patches_client_open_doc (peer->client, "note/fromthephone", &error);
    g_assert_no_error (error);
    patches_patch_add (note_patch, "/title", patches_value_new_string ("From the phone"), FALSE);
    patches_patch_add (note_patch, "/body", patches_value_parse ("{\"ops\":[{\"insert\":\"Call Sam\\n\"}]}", -1, NULL), FALSE);
    patches_patch_add (note_patch, "/pinned", patches_value_new_bool (TRUE), FALSE);
    patches_patch_add (note_patch, "/updatedAt", patches_value_new_number (1.0), FALSE);
    note_change = patches_doc_change (phone_note, note_patch, &error);
    g_assert_no_error (error);
    patches_patch_add (entry_patch, "/notes/fromthephone",
                       patches_value_parse ("{\"order\":\"a5\",\"createdAt\":1}", -1, NULL), FALSE);
    entry_change = patches_doc_change (notebook_doc, entry_patch, &error);
    g_assert_no_error (error);

    PATCHES_TEST_WAIT_UNTIL ((phone_item = notes_notebook_find (notebook, "fromthephone")) != NULL &&
                             g_strcmp0 (notes_note_item_get_title (phone_item), "From the phone") == 0);
    PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (notes_note_item_get_snippet (phone_item), "Call Sam") == 0);
    g_assert_true (notes_note_item_get_pinned (phone_item));
    PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (row_title (window, phone_item), "From the phone") == 0);
    g_assert_true (patches_client_is_tracked (notes_application_get_client (f->app), "note/fromthephone"));

    /* … and unlisted when it leaves the notebook there */
    g_clear_pointer (&entry_change, patches_change_unref);
    g_clear_pointer (&entry_patch, patches_patch_unref);
    entry_patch = patches_patch_new ();
    patches_patch_remove (entry_patch, "/notes/fromthephone");
    entry_change = patches_doc_change (notebook_doc, entry_patch, &error);
    g_assert_no_error (error);
    PATCHES_TEST_WAIT_UNTIL (notes_notebook_find (notebook, "fromthephone") == NULL);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (notebook)), ==, 1);
    PATCHES_TEST_WAIT_UNTIL (!patches_client_is_tracked (notes_application_get_client (f->app), "note/fromthephone"));
  }

  /* This device goes offline and edits; the other deletes the note */
  notes_application_set_work_offline (f->app, TRUE);
  PATCHES_TEST_WAIT_UNTIL (!patches_sync_get_connected (notes_application_get_sync (f->app)));
  g_assert_true (notes_window_get_selected_note (f->window) == item);
  g_assert_true (notes_notebook_rename_note (notebook, item, "My unsent title", NULL));
  g_assert_cmpstr (saved_text (f), ==, "1 change waiting");

  g_clear_object (&doc);
  g_assert_true (patches_client_delete_doc (peer->client, doc_id, &error));
  g_assert_no_error (error);
  PATCHES_TEST_WAIT_UNTIL (n_tombstones (peer->client) == 0);

  /* Back online: the deletion arrives, the banner offers the edits */
  g_assert_false (gtk_revealer_get_reveal_child (GTK_REVEALER (find_widget (window, "deleted-banner"))));
  notes_application_set_work_offline (f->app, FALSE);
  g_assert_true (PATCHES_TEST_WAIT_FOR (gtk_revealer_get_reveal_child (GTK_REVEALER (find_widget (window, "deleted-banner"))),
                                        STATUS_WAIT_MS));
  g_assert_true (widget_visible (window, "keep-edits-button"));
  g_assert_cmpstr (label_text (window, "deleted-banner-label"), ==,
                   "This note was deleted on another device. Your latest edits were not synced.");
  g_assert_null (notes_window_get_selected_note (f->window));
  PATCHES_TEST_WAIT_UNTIL (notes_notebook_find (notebook, doc_id) == NULL);

  /* Keeping them makes a new note with what this device had */
  g_signal_emit_by_name (find_widget (window, "keep-edits-button"), "clicked");
  g_assert_false (gtk_revealer_get_reveal_child (GTK_REVEALER (find_widget (window, "deleted-banner"))));
  kept = notes_window_get_selected_note (f->window);
  g_assert_nonnull (kept);
  g_assert_cmpstr (notes_note_item_get_title (kept), ==, "My unsent title");
  g_assert_cmpstr (notes_note_item_get_doc_id (kept), !=, doc_id);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (notebook)), ==, 1);
  g_assert_true (PATCHES_TEST_WAIT_FOR (g_strcmp0 (saved_text (f), "All changes saved") == 0, STATUS_WAIT_MS));
}

/* A refused token shows as a sync problem; the right one connects */
static void
test_window_token (Fixture       *f,
                   gconstpointer  data)
{
  GtkWidget *window;

  if (!have_display)
    {
      g_test_skip ("No display");
      return;
    }

  f->connection_texts = g_ptr_array_new_with_free_func (g_free);
  f->server = patches_test_server_new_with_tokens ("right-token tester *:write\n", NULL);
  fixture_start_app (f, "wrong-token", FALSE, NULL);
  window = GTK_WIDGET (f->window);

  g_assert_cmpstr (notes_application_get_token (f->app), ==, "wrong-token");
  g_assert_true (PATCHES_TEST_WAIT_FOR (widget_visible (window, "error-button"), STATUS_WAIT_MS));
  g_assert_cmpstr (connection_text (f), !=, "Connected");
  g_assert_cmpstr (label_text (window, "error-label"), !=, "");
  g_assert_cmpint (patches_sync_get_sync_status (notes_application_get_sync (f->app)), ==,
                   PATCHES_SYNC_STATUS_ERROR);

  /* The token is remembered for this server and profile, in memory here
   * (no secret service in tests) */
  g_assert_false (notes_secret_get_available (notes_application_get_secret (f->app)));

  notes_application_set_token (f->app, "right-token");
  g_assert_true (PATCHES_TEST_WAIT_FOR (g_strcmp0 (connection_text (f), "Connected") == 0, STATUS_WAIT_MS));
  PATCHES_TEST_WAIT_UNTIL (!widget_visible (window, "error-button"));
  g_assert_cmpstr (saved_text (f), ==, "All changes saved");
}

/* Tokens fall back to memory without a secret service */
static void
lookup_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  char **token = user_data;
  g_autoptr(GError) error = NULL;

  *token = notes_secret_lookup_finish (NOTES_SECRET (source), result, &error);
  g_assert_no_error (error);
  if (*token == NULL)
    *token = g_strdup ("(none)");
}

static void
store_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  int *stored = user_data;
  g_autoptr(GError) error = NULL;

  *stored = notes_secret_store_finish (NOTES_SECRET (source), result, &error);
  g_assert_no_error (error);
}

static void
test_secret_memory_fallback (void)
{
  g_autoptr(NotesSecret) secret = notes_secret_new (TRUE);
  g_autofree char *token = NULL;
  g_autofree char *other = NULL;
  int stored = -1;

  notes_secret_lookup_async (secret, "ws://example.test/sync", "p", NULL, lookup_done_cb, &token);
  PATCHES_TEST_WAIT_UNTIL (token != NULL);
  g_assert_cmpstr (token, ==, "(none)");
  g_assert_false (notes_secret_get_available (secret));
  g_clear_pointer (&token, g_free);

  notes_secret_store_async (secret, "ws://example.test/sync", "p", "t0ken", NULL, store_done_cb, &stored);
  PATCHES_TEST_WAIT_UNTIL (stored != -1);
  g_assert_cmpint (stored, ==, FALSE);

  notes_secret_lookup_async (secret, "ws://example.test/sync", "p", NULL, lookup_done_cb, &token);
  notes_secret_lookup_async (secret, "ws://example.test/sync", "q", NULL, lookup_done_cb, &other);
  PATCHES_TEST_WAIT_UNTIL (token != NULL && other != NULL);
  g_assert_cmpstr (token, ==, "t0ken");
  g_assert_cmpstr (other, ==, "(none)");
  g_clear_pointer (&token, g_free);

  stored = -1;
  notes_secret_store_async (secret, "ws://example.test/sync", "p", NULL, NULL, store_done_cb, &stored);
  PATCHES_TEST_WAIT_UNTIL (stored != -1);
  notes_secret_lookup_async (secret, "ws://example.test/sync", "p", NULL, lookup_done_cb, &token);
  PATCHES_TEST_WAIT_UNTIL (token != NULL);
  g_assert_cmpstr (token, ==, "(none)");
}

static void
test_relative_time (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_local (2026, 11, 27, 15, 30, 0);
  gint64 now_ms = g_date_time_to_unix (now) * 1000;
  g_autofree char *unknown = notes_format_relative_time (0, now);
  g_autofree char *just_now = notes_format_relative_time (now_ms - 20 * 1000, now);
  g_autofree char *five_min = notes_format_relative_time (now_ms - 5 * 60 * 1000, now);
  g_autofree char *one_min = notes_format_relative_time (now_ms - 61 * 1000, now);
  g_autofree char *hours = notes_format_relative_time (now_ms - 3 * 3600 * 1000, now);
  g_autofree char *yesterday = notes_format_relative_time (now_ms - 24 * 3600 * 1000, now);
  g_autofree char *weekday = notes_format_relative_time (now_ms - 3 * 24 * 3600 * 1000, now);
  g_autofree char *this_year = notes_format_relative_time (now_ms - 40LL * 24 * 3600 * 1000, now);
  g_autofree char *long_ago = notes_format_relative_time (now_ms - 400LL * 24 * 3600 * 1000, now);

  g_assert_cmpstr (unknown, ==, "");
  g_assert_cmpstr (just_now, ==, "Just now");
  g_assert_cmpstr (five_min, ==, "5 min ago");
  g_assert_cmpstr (one_min, ==, "1 min ago");
  g_assert_cmpstr (hours, ==, "3 hours ago");
  g_assert_cmpstr (yesterday, ==, "Yesterday");
  g_assert_cmpstr (weekday, ==, "Tuesday");
  g_assert_cmpstr (g_strstrip (this_year), ==, "18 Oct");
  g_assert_cmpstr (g_strstrip (long_ago), ==, "23 Oct 2025");
}

static void
test_profile_names (void)
{
  g_autoptr(NotesApplication) app = notes_application_new (TEST_APPLICATION_ID, G_APPLICATION_NON_UNIQUE);

  g_assert_true (notes_application_profile_is_valid ("alice"));
  g_assert_true (notes_application_profile_is_valid ("work-2_b"));
  g_assert_false (notes_application_profile_is_valid (""));
  g_assert_false (notes_application_profile_is_valid ("a b"));
  g_assert_false (notes_application_profile_is_valid ("../etc"));
  g_assert_false (notes_application_profile_is_valid ("é"));

  g_assert_cmpstr (notes_application_get_profile (app), ==, "default");
  g_assert_cmpstr (g_application_get_application_id (G_APPLICATION (app)), ==, TEST_APPLICATION_ID);
  notes_application_set_profile (app, "bob");
  g_assert_cmpstr (g_application_get_application_id (G_APPLICATION (app)), ==,
                   TEST_APPLICATION_ID ".Profile_bob");
  notes_application_set_profile (app, "carol");
  g_assert_cmpstr (g_application_get_application_id (G_APPLICATION (app)), ==,
                   TEST_APPLICATION_ID ".Profile_carol");
  notes_application_set_profile (app, NULL);
  g_assert_cmpstr (g_application_get_application_id (G_APPLICATION (app)), ==, TEST_APPLICATION_ID);
}

/* The command line refuses a bad profile before anything starts */
static void
test_command_line_errors (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(NotesApplication) app = notes_application_new (TEST_APPLICATION_ID, G_APPLICATION_NON_UNIQUE);
      char *argv[] = { (char *) "patches-notes", (char *) "--profile", (char *) "no/slashes", NULL };

      exit (g_application_run (G_APPLICATION (app), 3, argv));
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*Invalid profile name*no/slashes*");
}

static void
test_command_line_version (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(NotesApplication) app = notes_application_new (TEST_APPLICATION_ID, G_APPLICATION_NON_UNIQUE);
      char *argv[] = { (char *) "patches-notes", (char *) "--version", NULL };

      exit (g_application_run (G_APPLICATION (app), 2, argv));
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("Patches Notes " PACKAGE_VERSION "\n");
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
    }

  g_remove (path);
}

int
main (int   argc,
      char *argv[])
{
  static const char * const xdg_vars[] = {
    "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR",
  };
  g_autofree char *no_bus = NULL;
  g_autofree char *tmp_home = NULL;
  int status;

  /* No secret service, no session bus: tokens stay in memory */
  no_bus = g_strdup_printf ("unix:path=%s/patches-notes-test-no-bus-%d", g_get_tmp_dir (), (int) getpid ());
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", no_bus, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("NO_AT_BRIDGE", "1", TRUE);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_setenv ("TZ", "UTC", TRUE);

  /* Private XDG directories for the local stores; the system's data
   * directories (icons, GTK's schemas) stay */
  tmp_home = g_dir_make_tmp ("test-notes-window-XXXXXX", NULL);
  g_assert_nonnull (tmp_home);
  for (guint i = 0; i < G_N_ELEMENTS (xdg_vars); i++)
    {
      g_autofree char *dir = g_build_filename (tmp_home, xdg_vars[i] + strlen ("XDG_"), NULL);

      g_mkdir_with_parents (dir, 0700);
      g_setenv (xdg_vars[i], dir, TRUE);
    }

  g_test_init (&argc, &argv, NULL);

  have_display = gtk_init_check ();

  g_test_add_func ("/Notes/Secret/memory-fallback", test_secret_memory_fallback);
  g_test_add_func ("/Notes/Row/relative-time", test_relative_time);
  g_test_add_func ("/Notes/Application/profile-names", test_profile_names);
  g_test_add_func ("/Notes/Application/command-line-errors", test_command_line_errors);
  g_test_add_func ("/Notes/Application/command-line-version", test_command_line_version);

  /* The default profile, as a fresh install has it, for the screenshots */
  g_test_add ("/Notes/Window/status-follows-server", Fixture, "default",
              fixture_setup, test_window_status_follows_server, fixture_teardown);
  g_test_add ("/Notes/Window/work-offline", Fixture, NULL,
              fixture_setup, test_window_work_offline, fixture_teardown);
  g_test_add ("/Notes/Window/size-and-about", Fixture, NULL,
              fixture_setup, test_window_size_and_about, fixture_teardown);
  g_test_add ("/Notes/Window/list-operations", Fixture, NULL,
              fixture_setup, test_window_list_operations, fixture_teardown);
  g_test_add ("/Notes/Window/remote-changes", Fixture, NULL,
              fixture_setup, test_window_remote_changes, fixture_teardown);
  g_test_add ("/Notes/Window/token", Fixture, NULL,
              NULL, test_window_token, fixture_teardown);

  status = g_test_run ();

  remove_tree (tmp_home);

  return status;
}
