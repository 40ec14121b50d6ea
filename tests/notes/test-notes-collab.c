/* test-notes-collab.c
 *
 * Patches Notes editing a note together with another client: the app
 * runs in this process (registered and activated, without
 * g_application_run()), a real patches-server runs on 127.0.0.1, and the
 * other client is patches-cli (PATCHES_CLI), run as a subprocess with
 * scripts.  Typing in the editor reaches the other client; its edits
 * reach the editor with the cursor and selection kept; both typing at
 * once converge; formatting travels both ways as delta attributes and
 * text tags; undo reverts only the local edit.
 *
 * Settings use the memory backend, every run has its own XDG
 * directories and no session bus.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>

#ifdef __linux__
# include <sys/prctl.h>
#endif

#include "patches-text.h"
#include "patches-test-server.h"

#include "notes-application.h"
#include "notes-editor.h"
#include "notes-window.h"

#define TEST_APPLICATION_ID APPLICATION_ID ".CollabTest"

/* How long patches-cli waits for the server, in milliseconds */
#define CLI_TIMEOUT_MS "15000"

static gboolean have_display;
static const char *cli_binary;

/* The application and the other client */

typedef struct
{
  PatchesTestServer *server;
  NotesApplication  *app;
  NotesWindow       *window;
  NotesEditor       *editor;
  GtkTextBuffer     *buffer;
  NotesNoteItem     *item;
  char              *doc_id;
  char              *tmp_dir;
  guint              n_scripts;
} Fixture;

static gboolean
can_run (void)
{
  if (!have_display)
    {
      g_test_skip ("No display");
      return FALSE;
    }
  if (cli_binary == NULL)
    {
      g_test_skip ("PATCHES_CLI is not set: run the tests through meson");
      return FALSE;
    }

  return TRUE;
}

static gboolean
app_doc_synced (Fixture *f)
{
  PatchesDoc *doc = notes_note_item_get_doc (f->item);

  return patches_doc_get_committed_rev (doc) > 0 &&
         patches_doc_get_n_pending (doc) == 0 &&
         patches_doc_get_sync_status (doc) == PATCHES_SYNC_STATUS_SYNCED;
}

static char *
buffer_text (Fixture *f)
{
  GtkTextIter start;
  GtkTextIter end;

  gtk_text_buffer_get_bounds (f->buffer, &start, &end);

  return gtk_text_buffer_get_text (f->buffer, &start, &end, TRUE);
}

static gboolean
buffer_is (Fixture    *f,
           const char *text)
{
  g_autofree char *current = buffer_text (f);

  return g_strcmp0 (current, text) == 0;
}

static int
cursor_offset (Fixture *f)
{
  GtkTextIter iter;

  gtk_text_buffer_get_iter_at_mark (f->buffer, &iter, gtk_text_buffer_get_insert (f->buffer));

  return gtk_text_iter_get_offset (&iter);
}

static int
bound_offset (Fixture *f)
{
  GtkTextIter iter;

  gtk_text_buffer_get_iter_at_mark (f->buffer, &iter, gtk_text_buffer_get_selection_bound (f->buffer));

  return gtk_text_iter_get_offset (&iter);
}

static void
select_offsets (Fixture *f,
                int      insert,
                int      bound)
{
  GtkTextIter insert_iter;
  GtkTextIter bound_iter;

  gtk_text_buffer_get_iter_at_offset (f->buffer, &insert_iter, insert);
  gtk_text_buffer_get_iter_at_offset (f->buffer, &bound_iter, bound);
  gtk_text_buffer_select_range (f->buffer, &insert_iter, &bound_iter);
  g_assert_cmpint (cursor_offset (f), ==, insert);
  g_assert_cmpint (bound_offset (f), ==, bound);
}

/* Starts the app on its own profile, connected to the server, showing a
 * new note; @data is { title, body as JSON (NULL: an empty body) } */
static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  static guint n_profiles;
  g_autofree char *profile = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) body = NULL;
  const char * const *note = data;
  NotesNotebook *notebook;

  if (!can_run ())
    return;

  f->tmp_dir = g_dir_make_tmp ("test-notes-collab-XXXXXX", &error);
  g_assert_no_error (error);
  f->server = patches_test_server_new (NULL);

  profile = g_strdup_printf ("collab%u", ++n_profiles);
  f->app = notes_application_new (TEST_APPLICATION_ID, G_APPLICATION_NON_UNIQUE);
  notes_application_set_profile (f->app, profile);
  notes_application_set_server_url (f->app, patches_test_server_get_url (f->server));
  g_assert_true (g_application_register (G_APPLICATION (f->app), NULL, &error));
  g_assert_no_error (error);
  g_object_set (notes_application_get_sync (f->app), "reconnect-interval", 100, NULL);

  g_application_activate (G_APPLICATION (f->app));
  f->window = NOTES_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (f->app)));
  g_assert_true (NOTES_IS_WINDOW (f->window));
  notebook = notes_window_get_notebook (f->window);
  PATCHES_TEST_WAIT_UNTIL (notes_notebook_get_loaded (notebook));
  PATCHES_TEST_WAIT_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (f->window)));
  PATCHES_TEST_WAIT_UNTIL (patches_sync_get_connected (notes_application_get_sync (f->app)));

  /* The note both clients edit, open in the editor */
  if (note[1] != NULL)
    {
      body = patches_value_parse (note[1], -1, &error);
      g_assert_no_error (error);
    }
  f->item = notes_notebook_create_note (notebook, note[0], body, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->item);
  f->doc_id = g_strdup (notes_note_item_get_doc_id (f->item));
  g_assert_true (notes_window_select_note (f->window, f->item));

  f->editor = NOTES_EDITOR (notes_window_get_editor (f->window));
  g_assert_true (NOTES_IS_EDITOR (f->editor));
  g_assert_true (notes_editor_get_doc (f->editor) == notes_note_item_get_doc (f->item));
  f->buffer = gtk_text_view_get_buffer (notes_editor_get_text_view (f->editor));
  gtk_widget_grab_focus (GTK_WIDGET (notes_editor_get_text_view (f->editor)));

  /* On the server before the other client looks */
  PATCHES_TEST_WAIT_UNTIL (app_doc_synced (f));
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

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
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

  g_clear_pointer (&f->server, patches_test_server_free);
  g_clear_pointer (&f->doc_id, g_free);
  if (f->tmp_dir != NULL)
    remove_tree (f->tmp_dir);
  g_clear_pointer (&f->tmp_dir, g_free);
}

/* Typing: one piece of @text per timeout, at the cursor, as a user does */

typedef struct
{
  GtkTextBuffer *buffer;
  char          *text;
  const char    *next;
  guint          source;
} Typist;

static gboolean
type_next_cb (gpointer user_data)
{
  Typist *typist = user_data;
  const char *after = g_utf8_next_char (typist->next);

  gtk_text_buffer_insert_interactive_at_cursor (typist->buffer, typist->next, after - typist->next, TRUE);
  typist->next = after;
  if (*typist->next != '\0')
    return G_SOURCE_CONTINUE;

  typist->source = 0;

  return G_SOURCE_REMOVE;
}

static Typist *
typist_start (Fixture    *f,
              const char *text,
              guint       interval_ms)
{
  Typist *typist = g_new0 (Typist, 1);

  g_assert_true (*text != '\0');
  typist->buffer = f->buffer;
  typist->text = g_strdup (text);
  typist->next = typist->text;
  typist->source = g_timeout_add (interval_ms, type_next_cb, typist);

  return typist;
}

static gboolean
typist_done (Typist *typist)
{
  return typist->source == 0;
}

static void
typist_free (Typist *typist)
{
  g_clear_handle_id (&typist->source, g_source_remove);
  g_free (typist->text);
  g_free (typist);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Typist, typist_free)

static void
type_text (Fixture    *f,
           const char *text)
{
  g_autoptr(Typist) typist = typist_start (f, text, 15);

  PATCHES_TEST_WAIT_UNTIL (typist_done (typist));
}

/* patches-cli */

typedef struct
{
  GSubprocess *process;
  gboolean     done;
  char        *out;
  char        *err;
} Cli;

static void
cli_free (Cli *cli)
{
  if (cli->process != NULL && !cli->done)
    {
      g_subprocess_force_exit (cli->process);
      PATCHES_TEST_WAIT_UNTIL (cli->done);
    }
  g_clear_object (&cli->process);
  g_free (cli->out);
  g_free (cli->err);
  g_free (cli);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Cli, cli_free)

/* patches-cli dies with the test, even when an assertion aborts it */
static void
child_setup (gpointer user_data)
{
#ifdef __linux__
  prctl (PR_SET_PDEATHSIG, SIGKILL);
#endif
}

static void
communicated_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &cli->out, &cli->err, &error);
  g_assert_no_error (error);
  cli->done = TRUE;
}

/* Starts `patches-cli --server URL ARGS…`; its output is collected while
 * the main loop (and so the app) runs */
static Cli *
cli_start (Fixture            *f,
           const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  Cli *cli = g_new0 (Cli, 1);

  g_ptr_array_add (argv, (gpointer) cli_binary);
  g_ptr_array_add (argv, (gpointer) "--server");
  g_ptr_array_add (argv, (gpointer) patches_test_server_get_url (f->server));
  g_ptr_array_add (argv, (gpointer) "--timeout=" CLI_TIMEOUT_MS);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  cli->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (cli->process, NULL, NULL, communicated_cb, cli);

  return cli;
}

/* Waits for @cli to end, successfully; returns its standard output */
static const char *
cli_finish (Cli *cli)
{
  PATCHES_TEST_WAIT_UNTIL (cli->done);
  if (cli->err != NULL && cli->err[0] != '\0')
    g_test_message ("patches-cli stderr: %s", cli->err);
  g_assert_true (g_subprocess_get_if_exited (cli->process));
  g_assert_cmpint (g_subprocess_get_exit_status (cli->process), ==, 0);

  return cli->out;
}

/* Starts a script: connect, open the note, sync it, then @steps (JSON
 * array members, comma-separated, or NULL), then sync and print */
static Cli *
cli_start_script (Fixture    *f,
                  const char *steps)
{
  g_autoptr(GString) script = g_string_new ("[{\"connect\": true},\n {\"open\": ");
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("script-%u.json", ++f->n_scripts);
  g_autofree char *path = g_build_filename (f->tmp_dir, name, NULL);

  patches_js_append_string (script, f->doc_id, -1);
  g_string_append (script, "},\n {\"wait_synced\": true},\n");
  if (steps != NULL)
    g_string_append_printf (script, " %s,\n", steps);
  g_string_append (script, " {\"wait_synced\": true},\n {\"print\": ");
  patches_js_append_string (script, f->doc_id, -1);
  g_string_append (script, "}]\n");

  g_assert_true (g_file_set_contents (path, script->str, -1, &error));
  g_assert_no_error (error);
  g_test_message ("Script %s: %s", name, script->str);

  return cli_start (f, (const char * const []) { "run", path, NULL });
}

/* The state of the note in the last line of @out that prints it */
static PatchesValue *
printed_state (Fixture    *f,
               const char *out)
{
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
  PatchesValue *state = NULL;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(PatchesValue) record = NULL;
      g_autoptr(GError) error = NULL;
      PatchesValue *doc;

      if (lines[i][0] == '\0')
        continue;
      record = patches_value_parse (lines[i], -1, &error);
      g_assert_no_error (error);
      g_assert_cmpint (patches_value_get_kind (record), ==, PATCHES_VALUE_OBJECT);
      doc = patches_value_object_get (record, "doc");
      if (doc == NULL || g_strcmp0 (patches_value_get_string (doc), f->doc_id) != 0)
        continue;
      g_assert_true (patches_value_object_has (record, "state"));
      g_clear_pointer (&state, patches_value_unref);
      state = patches_value_ref (patches_value_object_get (record, "state"));
    }

  g_assert_nonnull (state);

  return state;
}

/* Runs a script (see cli_start_script()) to its end; returns the state
 * it printed last */
static PatchesValue *
cli_run_script (Fixture    *f,
                const char *steps)
{
  g_autoptr(Cli) cli = cli_start_script (f, steps);

  return printed_state (f, cli_finish (cli));
}

/* The note as the server has it, through `patches-cli get` */
static PatchesValue *
server_state (Fixture *f)
{
  g_autoptr(Cli) cli = cli_start (f, (const char * const []) { "get", f->doc_id, NULL });
  g_autoptr(GError) error = NULL;
  PatchesValue *state;

  state = patches_value_parse (cli_finish (cli), -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (patches_value_get_kind (state), ==, PATCHES_VALUE_OBJECT);

  return state;
}

/* A JSON string member of a step, quoted */
static char *
json_quote (const char *text)
{
  GString *out = g_string_new (NULL);

  patches_js_append_string (out, text, -1);

  return g_string_free (out, FALSE);
}

/* A change step of the script: one @txt op on /body with @delta */
static char *
txt_step (Fixture    *f,
          const char *delta)
{
  g_autofree char *doc = json_quote (f->doc_id);

  return g_strdup_printf ("{\"change\": {\"doc\": %s, \"ops\": "
                          "[{\"op\": \"@txt\", \"path\": \"/body\", \"value\": %s}]}}",
                          doc, delta);
}

/* Rich text */

/* The plain text of a body, a text value or its {"ops": […]} form */
static char *
body_plain (PatchesValue *body)
{
  PatchesValue *ops;
  GString *plain;

  g_assert_nonnull (body);
  if (patches_value_get_kind (body) == PATCHES_VALUE_TEXT)
    return patches_text_to_plain (patches_value_get_text (body));

  g_assert_cmpint (patches_value_get_kind (body), ==, PATCHES_VALUE_OBJECT);
  ops = patches_value_object_get (body, "ops");
  g_assert_nonnull (ops);
  plain = g_string_new (NULL);
  for (guint i = 0; i < patches_value_array_get_length (ops); i++)
    {
      PatchesValue *insert = patches_value_object_get (patches_value_array_get (ops, i), "insert");

      g_assert_nonnull (insert);
      if (patches_value_get_kind (insert) == PATCHES_VALUE_STRING)
        g_string_append (plain, patches_value_get_string (insert));
    }

  return g_string_free (plain, FALSE);
}

static void
assert_body_plain (PatchesValue *body,
                   const char   *expected)
{
  g_autofree char *plain = body_plain (body);

  g_assert_cmpstr (plain, ==, expected);
}

static PatchesValue *
state_body (PatchesValue *state)
{
  PatchesValue *body = patches_value_object_get (state, "body");

  g_assert_nonnull (body);

  return body;
}

static PatchesValue *
app_body (Fixture *f)
{
  return state_body (patches_doc_get_state (notes_note_item_get_doc (f->item)));
}

#define assert_value_equal(a, b)                                               \
  G_STMT_START {                                                               \
    PatchesValue *_a = (a);                                                    \
    PatchesValue *_b = (b);                                                    \
    if (!patches_value_equal (_a, _b))                                         \
      {                                                                        \
        g_autofree char *_ja = patches_value_to_json (_a);                     \
        g_autofree char *_jb = patches_value_to_json (_b);                     \
        g_error ("%s != %s: %s != %s", #a, #b, _ja, _jb);                      \
      }                                                                        \
  } G_STMT_END

static void
assert_body_json (PatchesValue *body,
                  const char   *expected_json)
{
  g_autoptr(PatchesValue) expected = patches_value_parse (expected_json, -1, NULL);

  g_assert_nonnull (expected);
  assert_value_equal (body, expected);
}

/* The ranges the tag named @name covers, in character offsets, written
 * "start-end start-end …" */
static char *
tag_ranges (Fixture    *f,
            const char *name)
{
  GtkTextTag *tag = gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (f->buffer), name);
  GString *ranges = g_string_new (NULL);
  GtkTextIter iter;

  if (tag == NULL)
    return g_string_free (ranges, FALSE);

  gtk_text_buffer_get_start_iter (f->buffer, &iter);
  for (;;)
    {
      int start;

      if (!gtk_text_iter_starts_tag (&iter, tag) && !gtk_text_iter_forward_to_tag_toggle (&iter, tag))
        break;
      g_assert_true (gtk_text_iter_starts_tag (&iter, tag));
      start = gtk_text_iter_get_offset (&iter);
      gtk_text_iter_forward_to_tag_toggle (&iter, tag);
      g_string_append_printf (ranges, "%s%d-%d", ranges->len > 0 ? " " : "",
                              start, gtk_text_iter_get_offset (&iter));
      if (gtk_text_iter_is_end (&iter))
        break;
    }

  return g_string_free (ranges, FALSE);
}

static gboolean
tag_covers (Fixture    *f,
            const char *name,
            const char *expected)
{
  g_autofree char *ranges = tag_ranges (f, name);

  return g_strcmp0 (ranges, expected) == 0;
}

/* Asserts that the tag named @name covers exactly @expected */
static void
assert_tag_ranges (Fixture    *f,
                   const char *name,
                   const char *expected)
{
  g_autofree char *ranges = tag_ranges (f, name);

  if (g_strcmp0 (ranges, expected) != 0)
    g_error ("Tag %s covers \"%s\", expected \"%s\"", name, ranges, expected);
}

static GtkTextTag *
lookup_tag (Fixture    *f,
            const char *name)
{
  GtkTextTag *tag = gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (f->buffer), name);

  g_assert_nonnull (tag);

  return tag;
}

/* Tests */

static const char * const empty_note[] = { "Typing", NULL };

/* What the user types in the editor reaches the other client, character
 * for character, non-ASCII and outside the BMP included */
static void
test_typing_reaches_cli (Fixture       *f,
                         gconstpointer  data)
{
  static const char typed[] = "Hello, w\xc3\xb6rld \xf0\x9f\x98\x80!";
  g_autoptr(PatchesValue) printed = NULL;
  g_autofree char *app_state = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *doc = NULL;

  if (f->app == NULL)
    return;

  g_assert_true (buffer_is (f, ""));
  type_text (f, typed);
  g_assert_true (buffer_is (f, typed));
  g_assert_cmpint (cursor_offset (f), ==, g_utf8_strlen (typed, -1));
  assert_body_json (app_body (f), "{\"ops\":[{\"insert\":\"Hello, w\xc3\xb6rld \xf0\x9f\x98\x80!\\n\"}]}");

  /* Every keystroke is on the server once the document is synced */
  notes_editor_flush (f->editor);
  PATCHES_TEST_WAIT_UNTIL (app_doc_synced (f));

  /* The other client sees the note exactly as the app has it */
  app_state = patches_value_to_json (patches_doc_get_state (notes_note_item_get_doc (f->item)));
  doc = json_quote (f->doc_id);
  expect = g_strdup_printf ("{\"expect\": {\"doc\": %s, \"state\": %s}}", doc, app_state);
  printed = cli_run_script (f, expect);

  assert_body_json (state_body (printed), "{\"ops\":[{\"insert\":\"Hello, w\xc3\xb6rld \xf0\x9f\x98\x80!\\n\"}]}");
  g_assert_cmpstr (patches_value_get_string (patches_value_object_get (printed, "title")), ==, "Typing");
  assert_value_equal (printed, patches_doc_get_state (notes_note_item_get_doc (f->item)));
}

static const char * const fox_note[] = { "Fox", "{\"ops\":[{\"insert\":\"The quick brown fox\\n\"}]}" };

/* An edit by the other client shows in the open editor; the cursor and
 * the selection stay on the same text */
static void
test_remote_edit_keeps_cursor (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(PatchesValue) printed = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *selected = NULL;
  GtkTextIter start;
  GtkTextIter end;

  if (f->app == NULL)
    return;

  g_assert_true (buffer_is (f, "The quick brown fox"));

  /* "brown" selected, backwards: the cursor at its end */
  select_offsets (f, 15, 10);

  /* An insertion before the cursor moves the cursor and the selection
   * by its length */
  before = txt_step (f, "[{\"retain\":4},{\"insert\":\"very \"}]");
  printed = cli_run_script (f, before);
  assert_body_plain (state_body (printed), "The very quick brown fox\n");
  PATCHES_TEST_WAIT_UNTIL (buffer_is (f, "The very quick brown fox"));
  g_assert_cmpint (cursor_offset (f), ==, 20);
  g_assert_cmpint (bound_offset (f), ==, 15);
  g_assert_true (gtk_text_buffer_get_selection_bounds (f->buffer, &start, &end));
  selected = gtk_text_buffer_get_text (f->buffer, &start, &end, TRUE);
  g_assert_cmpstr (selected, ==, "brown");
  g_clear_pointer (&printed, patches_value_unref);

  /* One after it leaves both where they are */
  after = txt_step (f, "[{\"retain\":24},{\"insert\":\" jumps\"}]");
  printed = cli_run_script (f, after);
  assert_body_plain (state_body (printed), "The very quick brown fox jumps\n");
  PATCHES_TEST_WAIT_UNTIL (buffer_is (f, "The very quick brown fox jumps"));
  g_assert_cmpint (cursor_offset (f), ==, 20);
  g_assert_cmpint (bound_offset (f), ==, 15);
  g_clear_pointer (&printed, patches_value_unref);

  /* A plain cursor too, with an edit on each side of it at once */
  select_offsets (f, 9, 9);
  g_clear_pointer (&before, g_free);
  before = txt_step (f, "[{\"retain\":3},{\"insert\":\",\"},{\"retain\":12},{\"delete\":6}]");
  printed = cli_run_script (f, before);
  assert_body_plain (state_body (printed), "The, very quick fox jumps\n");
  PATCHES_TEST_WAIT_UNTIL (buffer_is (f, "The, very quick fox jumps"));
  g_assert_cmpint (cursor_offset (f), ==, 10);
  g_assert_cmpint (bound_offset (f), ==, 10);

  /* Remote edits are not the app's own: nothing to send, nothing to undo */
  PATCHES_TEST_WAIT_UNTIL (app_doc_synced (f));
  assert_value_equal (app_body (f), state_body (printed));
  g_assert_false (notes_undo_manager_get_can_undo (notes_editor_get_undo_manager (f->editor)));
}

static const char * const digits_note[] = { "Digits", "{\"ops\":[{\"insert\":\"0123456789\\n\"}]}" };

/* The app and the other client type at the same time, two characters
 * apart: everyone ends with the same text, each one's typing in order */
static void
test_concurrent_typing (Fixture       *f,
                        gconstpointer  data)
{
  static const char cli_typed[] = "ABCDEFGH";
  static const char app_typed[] = "abcdefghijkl";
#define EXPECTED "012ABCDEFGH34abcdefghijkl56789"
  g_autoptr(GString) steps = g_string_new (NULL);
  g_autoptr(Cli) cli = NULL;
  g_autoptr(Typist) typist = NULL;
  g_autoptr(PatchesValue) concurrent = NULL;
  g_autoptr(PatchesValue) printed = NULL;
  g_autoptr(PatchesValue) server = NULL;
  g_autofree char *concurrent_text = NULL;
  g_autofree char *app_text = NULL;
  g_autofree char *printed_text = NULL;
  g_autofree char *server_text = NULL;

  if (f->app == NULL)
    return;

  g_assert_true (buffer_is (f, "0123456789"));
  select_offsets (f, 5, 5);

  /* The other client types "ABCDEFGH" after "012", a character every
   * 40 ms */
  for (guint i = 0; cli_typed[i] != '\0'; i++)
    {
      g_autofree char *delta = g_strdup_printf ("[{\"retain\":%u},{\"insert\":\"%c\"}]", 3 + i, cli_typed[i]);
      g_autofree char *step = txt_step (f, delta);

      g_string_append_printf (steps, "%s%s,\n {\"sleep\": 40}", i > 0 ? ",\n " : "", step);
    }
  cli = cli_start_script (f, steps->str);

  /* The app starts typing at its cursor after "34" as soon as the other
   * client's first character arrives, a character every 25 ms */
  PATCHES_TEST_WAIT_UNTIL (gtk_text_buffer_get_char_count (f->buffer) > 10 || cli->done);
  if (cli->done)
    g_test_message ("The other client ended before its first character reached the app");
  typist = typist_start (f, app_typed, 25);

  PATCHES_TEST_WAIT_UNTIL (typist_done (typist) || cli->done);
  {
    g_autofree char *meanwhile = buffer_text (f);

    g_test_message ("When the first finished: app typing %s, other client %s, buffer \"%s\"",
                    typist_done (typist) ? "done" : "going on",
                    cli->done ? "done" : "going on", meanwhile);
  }
  concurrent = printed_state (f, cli_finish (cli));
  PATCHES_TEST_WAIT_UNTIL (typist_done (typist));

  /* When its script ended, the other client had all of its own typing
   * and the text around it */
  concurrent_text = body_plain (state_body (concurrent));
  g_test_message ("The other client printed \"%s\"", concurrent_text);
  g_assert_true (g_str_has_prefix (concurrent_text, "012ABCDEFGH34"));
  g_assert_true (g_str_has_suffix (concurrent_text, "56789\n"));

  /* Both in order, everywhere */
  PATCHES_TEST_WAIT_UNTIL (buffer_is (f, EXPECTED));
  PATCHES_TEST_WAIT_UNTIL (app_doc_synced (f));
  g_assert_cmpint (cursor_offset (f), ==, 5 + strlen (cli_typed) + strlen (app_typed));
  g_assert_cmpint (bound_offset (f), ==, cursor_offset (f));

  printed = cli_run_script (f, NULL);
  server = server_state (f);
  app_text = buffer_text (f);
  printed_text = body_plain (state_body (printed));
  server_text = body_plain (state_body (server));
  g_assert_cmpstr (printed_text, ==, EXPECTED "\n");
  g_assert_cmpstr (server_text, ==, EXPECTED "\n");
  g_assert_cmpstr (app_text, ==, EXPECTED);
  assert_value_equal (app_body (f), state_body (printed));
  assert_value_equal (app_body (f), state_body (server));
  assert_value_equal (state_body (printed), state_body (server));
#undef EXPECTED
}

static const char * const groceries_note[] = { "Groceries", "{\"ops\":[{\"insert\":\"Groceries\\nMilk and eggs\\n\"}]}" };

/* Bold and a heading made in the app arrive as delta attributes;
 * italic, bold and a link sent by the other client show as tags */
static void
test_formatting_round_trip (Fixture       *f,
                            gconstpointer  data)
{
  GtkWidget *editor;
  g_autoptr(PatchesValue) printed = NULL;
  g_autoptr(PatchesValue) after = NULL;
  g_autofree char *format = NULL;
  PangoUnderline underline;
  PangoStyle style;
  int weight;
  double scale;

  if (f->app == NULL)
    return;

  editor = GTK_WIDGET (f->editor);
  g_assert_true (buffer_is (f, "Groceries\nMilk and eggs"));

  /* The first line becomes a heading, "Milk" bold, through the editor's
   * actions (what Ctrl+1 and Ctrl+B do) */
  select_offsets (f, 9, 0);
  g_assert_true (gtk_widget_activate_action (editor, "editor.heading", "i", 1));
  select_offsets (f, 10, 14);
  g_assert_true (gtk_widget_activate_action (editor, "editor.bold", NULL));
  assert_tag_ranges (f, "patches-attr:bold=true", "10-14");
  g_assert_cmpint (cursor_offset (f), ==, 10);
  g_assert_cmpint (bound_offset (f), ==, 14);

  PATCHES_TEST_WAIT_UNTIL (app_doc_synced (f));
  printed = cli_run_script (f, NULL);
  assert_body_json (state_body (printed),
                    "{\"ops\":[{\"insert\":\"Groceries\"},"
                    "{\"insert\":\"\\n\",\"attributes\":{\"header\":1}},"
                    "{\"insert\":\"Milk\",\"attributes\":{\"bold\":true}},"
                    "{\"insert\":\" and eggs\\n\"}]}");

  /* The other client: "and" italic, "eggs" bold, and a linked word */
  format = txt_step (f, "[{\"retain\":15},{\"retain\":3,\"attributes\":{\"italic\":true}},"
                        "{\"retain\":1},{\"retain\":4,\"attributes\":{\"bold\":true}},"
                        "{\"insert\":\" at the \"},"
                        "{\"insert\":\"market\",\"attributes\":{\"link\":\"https://example.org/market\"}}]");
  after = cli_run_script (f, format);
  assert_body_json (state_body (after),
                    "{\"ops\":[{\"insert\":\"Groceries\"},"
                    "{\"insert\":\"\\n\",\"attributes\":{\"header\":1}},"
                    "{\"insert\":\"Milk\",\"attributes\":{\"bold\":true}},"
                    "{\"insert\":\" \"},"
                    "{\"insert\":\"and\",\"attributes\":{\"italic\":true}},"
                    "{\"insert\":\" \"},"
                    "{\"insert\":\"eggs\",\"attributes\":{\"bold\":true}},"
                    "{\"insert\":\" at the \"},"
                    "{\"insert\":\"market\",\"attributes\":{\"link\":\"https://example.org/market\"}},"
                    "{\"insert\":\"\\n\"}]}");

  PATCHES_TEST_WAIT_UNTIL (buffer_is (f, "Groceries\nMilk and eggs at the market"));
  PATCHES_TEST_WAIT_UNTIL (tag_covers (f, "patches-attr:italic=true", "15-18"));
  assert_tag_ranges (f, "patches-attr:bold=true", "10-14 19-23");
  assert_tag_ranges (f, "patches-attr:link=\"https://example.org/market\"", "31-37");
  /* A line attribute styles its whole line, newline included */
  assert_tag_ranges (f, "patches-attr:header=1", "0-10");
  /* The selection stayed on "Milk" */
  g_assert_cmpint (cursor_offset (f), ==, 10);
  g_assert_cmpint (bound_offset (f), ==, 14);

  /* The tags look like what they mean */
  g_object_get (lookup_tag (f, "patches-attr:bold=true"), "weight", &weight, NULL);
  g_assert_cmpint (weight, >=, PANGO_WEIGHT_BOLD);
  g_object_get (lookup_tag (f, "patches-attr:italic=true"), "style", &style, NULL);
  g_assert_cmpint (style, ==, PANGO_STYLE_ITALIC);
  g_object_get (lookup_tag (f, "patches-attr:link=\"https://example.org/market\""), "underline", &underline, NULL);
  g_assert_cmpint (underline, !=, PANGO_UNDERLINE_NONE);
  g_object_get (lookup_tag (f, "patches-attr:header=1"), "scale", &scale, NULL);
  g_assert_cmpfloat (scale, >, 1.0);

  /* The app's document is the other client's, attribute for attribute */
  PATCHES_TEST_WAIT_UNTIL (app_doc_synced (f));
  assert_value_equal (app_body (f), state_body (after));
}

static const char * const hello_note[] = { "Hello", "{\"ops\":[{\"insert\":\"Hello world\\n\"}]}" };

/* Undo after a remote edit reverts the app's own typing, not the other
 * client's */
static void
test_undo_keeps_remote_edit (Fixture       *f,
                             gconstpointer  data)
{
  NotesUndoManager *undo;
  g_autoptr(PatchesValue) printed = NULL;
  g_autoptr(PatchesValue) undone = NULL;
  g_autofree char *insert = NULL;
  g_autofree char *printed_text = NULL;

  if (f->app == NULL)
    return;

  undo = notes_editor_get_undo_manager (f->editor);
  g_assert_true (buffer_is (f, "Hello world"));
  g_assert_false (notes_undo_manager_get_can_undo (undo));

  select_offsets (f, 11, 11);
  type_text (f, "abc");
  g_assert_true (buffer_is (f, "Hello worldabc"));
  g_assert_true (notes_undo_manager_get_can_undo (undo));

  /* Elsewhere in the note, the other client inserts "XYZ" */
  insert = txt_step (f, "[{\"insert\":\"XYZ\"}]");
  printed = cli_run_script (f, insert);
  printed_text = body_plain (state_body (printed));
  g_assert_true (g_str_has_prefix (printed_text, "XYZHello world"));
  PATCHES_TEST_WAIT_UNTIL (buffer_is (f, "XYZHello worldabc"));

  /* Undo: the typing goes, "XYZ" stays */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->editor), "editor.undo", NULL));
  g_assert_true (buffer_is (f, "XYZHello world"));
  g_assert_false (notes_undo_manager_get_can_undo (undo));
  g_assert_true (notes_undo_manager_get_can_redo (undo));

  PATCHES_TEST_WAIT_UNTIL (app_doc_synced (f));
  undone = cli_run_script (f, NULL);
  assert_body_plain (state_body (undone), "XYZHello world\n");
  assert_value_equal (app_body (f), state_body (undone));

  /* Redo brings the typing back where it was */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->editor), "editor.redo", NULL));
  g_assert_true (buffer_is (f, "XYZHello worldabc"));
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

  tmp_home = g_dir_make_tmp ("test-notes-collab-home-XXXXXX", NULL);
  g_assert_nonnull (tmp_home);
  for (guint i = 0; i < G_N_ELEMENTS (xdg_vars); i++)
    {
      g_autofree char *dir = g_build_filename (tmp_home, xdg_vars[i] + strlen ("XDG_"), NULL);

      g_mkdir_with_parents (dir, 0700);
      g_setenv (xdg_vars[i], dir, TRUE);
    }

  g_test_init (&argc, &argv, NULL);

  have_display = gtk_init_check ();
  cli_binary = g_getenv ("PATCHES_CLI");

  g_test_add ("/Notes/Collab/typing-reaches-cli", Fixture, empty_note,
              fixture_setup, test_typing_reaches_cli, fixture_teardown);
  g_test_add ("/Notes/Collab/remote-edit-keeps-cursor", Fixture, fox_note,
              fixture_setup, test_remote_edit_keeps_cursor, fixture_teardown);
  g_test_add ("/Notes/Collab/concurrent-typing", Fixture, digits_note,
              fixture_setup, test_concurrent_typing, fixture_teardown);
  g_test_add ("/Notes/Collab/formatting-round-trip", Fixture, groceries_note,
              fixture_setup, test_formatting_round_trip, fixture_teardown);
  g_test_add ("/Notes/Collab/undo-keeps-remote-edit", Fixture, hello_note,
              fixture_setup, test_undo_keeps_remote_edit, fixture_teardown);

  status = g_test_run ();

  remove_tree (tmp_home);

  return status;
}
