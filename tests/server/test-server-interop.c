/* test-server-interop.c: reference clients against patches-server
 *
 * Runs interop/converge.mjs with Node: two reference clients (PatchesSync
 * from @dabble/patches 0.28.1, each with its own in-memory store) edit one
 * document on the real patches-server at the same time and must converge;
 * a third loads it afresh.  The script prints the state they agree on; this
 * test then reads the document with getDoc itself, applies its tail with
 * libpatches and checks that it is that state, at that revision.
 *
 * The packages are installed with npm at test time into interop-node/ in
 * the build directory (never into the source tree), once.  Set
 * PATCHES_INTEROP_MODULES to a directory whose node_modules/ already holds
 * @dabble/patches and ws to use those instead.  Without node, npm or the
 * packages the test is skipped, saying why.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "patches.h"
#include "patches-test-server.h"

#define REFERENCE_PACKAGE "@dabble/patches@0.28.1"
#define WS_PACKAGE "ws@8"
#define ROUNDS 25

/* npm and node */

typedef struct
{
  int   status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* Runs @argv to its end; FALSE if it could not be started */
static gboolean
run_command (const char * const *argv,
             Run                *run,
             GError            **error)
{
  g_autoptr(GSubprocess) process = NULL;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
  if (process == NULL ||
      !g_subprocess_communicate_utf8 (process, NULL, NULL, &run->out, &run->err, error))
    return FALSE;

  run->status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
  return TRUE;
}

/* The last non-empty line of @text, for messages */
static char *
last_line (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text ? text : "", "\n", -1);

  for (guint i = g_strv_length (lines); i > 0; i--)
    if (g_strstrip (lines[i - 1])[0] != 0)
      return g_strdup (lines[i - 1]);

  return g_strdup ("(no output)");
}

/* Why npm failed: its first error line that says something (npm ends
 * with a pointer to its log, which does not) */
static char *
npm_failure (const char *err)
{
  g_auto(GStrv) lines = g_strsplit (err ? err : "", "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = g_strstrip (lines[i]);

      if (line[0] != 0 && strstr (line, "complete log") == NULL && strstr (line, " code ") == NULL)
        return g_strdup (line);
    }

  return last_line (err);
}

static gboolean
modules_installed (const char *dir)
{
  g_autofree char *patches = g_build_filename (dir, "node_modules", "@dabble", "patches", "package.json", NULL);
  g_autofree char *ws = g_build_filename (dir, "node_modules", "ws", "package.json", NULL);

  return g_file_test (patches, G_FILE_TEST_EXISTS) && g_file_test (ws, G_FILE_TEST_EXISTS);
}

/* The directory holding node_modules/ with the packages, installing them
 * if needed; %NULL with *@why set when they cannot be had */
static char *
get_modules (char **why)
{
  const char *given = g_getenv ("PATCHES_INTEROP_MODULES");
  g_autofree char *npm = NULL;
  g_autofree char *dir = NULL;
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;

  if (given != NULL && given[0] != 0)
    {
      if (!modules_installed (given))
        {
          *why = g_strdup_printf ("PATCHES_INTEROP_MODULES=%s has no node_modules/@dabble/patches and ws", given);
          return NULL;
        }
      return g_strdup (given);
    }

  dir = g_test_build_filename (G_TEST_BUILT, "interop-node", NULL);
  if (modules_installed (dir))
    return g_steal_pointer (&dir);

  if (!(npm = g_find_program_in_path ("npm")))
    {
      *why = g_strdup ("npm is not installed");
      return NULL;
    }

  g_mkdir_with_parents (dir, 0755);
  {
    const char * const argv[] = {
      npm, "install", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error",
      "--fetch-retries=1", "--fetch-timeout=60000", REFERENCE_PACKAGE, WS_PACKAGE, NULL
    };

    g_test_message ("npm install %s %s into %s", REFERENCE_PACKAGE, WS_PACKAGE, dir);
    if (!run_command (argv, &run, &error))
      {
        *why = g_strdup_printf ("npm could not be run: %s", error->message);
        return NULL;
      }
  }

  if (run.status != 0 || !modules_installed (dir))
    {
      g_autofree char *npm_error = npm_failure (run.err);

      *why = g_strdup_printf ("npm could not install %s: %s", REFERENCE_PACKAGE, npm_error);
      return NULL;
    }

  return g_steal_pointer (&dir);
}

/* A plain WebSocket client for getDoc */

typedef struct
{
  SoupWebsocketConnection *ws;
  GError                  *error;
  char                    *answer;
  gboolean                 done;
} Reader;

static void
reader_message_cb (SoupWebsocketConnection *ws,
                   SoupWebsocketDataType    type,
                   GBytes                  *message,
                   Reader                  *reader)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  if (reader->answer == NULL && data != NULL && g_strstr_len (data, len, "\"id\":1") != NULL)
    reader->answer = g_strndup (data, len);
}

static void
reader_connect_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Reader *reader = user_data;

  reader->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &reader->error);
  reader->done = TRUE;
}

/* The server's getDoc answer for @doc_id */
static PatchesValue *
server_get_doc (const char *url,
                const char *doc_id)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autofree char *request = NULL;
  g_autoptr(PatchesValue) answer = NULL;
  g_autoptr(GError) error = NULL;
  Reader reader = { 0 };
  PatchesValue *result;

  soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        reader_connect_cb, &reader);
  PATCHES_TEST_WAIT_UNTIL (reader.done);
  g_assert_no_error (reader.error);
  soup_websocket_connection_set_max_incoming_payload_size (reader.ws, 0);
  g_signal_connect (reader.ws, "message", G_CALLBACK (reader_message_cb), &reader);

  request = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getDoc\",\"params\":[\"%s\"]}", doc_id);
  soup_websocket_connection_send_text (reader.ws, request);
  PATCHES_TEST_WAIT_UNTIL (reader.answer != NULL);

  answer = patches_value_parse (reader.answer, -1, &error);
  g_assert_no_error (error);
  result = patches_value_object_get (answer, "result");
  g_assert_nonnull (result);

  g_signal_handlers_disconnect_by_data (reader.ws, &reader);
  soup_websocket_connection_close (reader.ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&reader.ws);
  g_free (reader.answer);

  return patches_value_ref (result);
}

/* The test */

static void
test_reference_clients (void)
{
  g_autofree char *node = g_find_program_in_path ("node");
  g_autofree char *modules = NULL;
  g_autofree char *why = NULL;
  g_autofree char *script = NULL;
  g_autofree char *rounds = g_strdup_printf ("%d", ROUNDS);
  g_autoptr(PatchesTestServer) server = NULL;
  g_autoptr(PatchesValue) report = NULL;
  g_autoptr(PatchesValue) snapshot = NULL;
  g_autoptr(PatchesValue) state = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_auto(Run) run = { 0 };
  const char *doc_id = "interop-doc";
  PatchesValue *agreed;
  PatchesValue *count;
  gint64 head;

  if (node == NULL)
    {
      g_test_skip ("node is not installed: the reference clients need it");
      return;
    }

  if (!(modules = get_modules (&why)))
    {
      g_autofree char *message = g_strdup_printf ("No reference client to run: %s", why);

      g_test_skip (message);
      return;
    }

  server = patches_test_server_new (NULL);
  script = g_test_build_filename (G_TEST_DIST, "interop", "converge.mjs", NULL);
  {
    const char * const argv[] = {
      node, script, "--url", patches_test_server_get_url (server), "--modules", modules,
      "--doc", doc_id, "--rounds", rounds, NULL
    };

    if (!run_command (argv, &run, &error))
      g_error ("node could not be run: %s", error->message);
  }

  if (run.err != NULL && run.err[0] != 0)
    g_test_message ("converge.mjs said:\n%s", run.err);
  g_assert_cmpint (run.status, ==, 0);

  /* What the three reference clients agreed on */
  line = last_line (run.out);
  report = patches_value_parse (line, -1, &error);
  g_assert_no_error (error);
  g_test_message ("%s with %s", line, REFERENCE_PACKAGE);
  agreed = patches_value_object_get (report, "state");
  g_assert_nonnull (agreed);
  count = patches_value_object_get (agreed, "count");
  g_assert_nonnull (count);
  g_assert_cmpfloat (patches_value_get_number (count), ==, 2 * ROUNDS);

  /* …is the server's document, at its head */
  snapshot = server_get_doc (patches_test_server_get_url (server), doc_id);
  state = patches_value_ref (patches_value_object_get (snapshot, "state"));
  changes = patches_changes_from_value (patches_value_object_get (snapshot, "changes"), &error);
  g_assert_no_error (error);
  g_assert_true (patches_changes_apply (&state, changes, &error));
  g_assert_no_error (error);

  head = changes->len > 0
         ? (gint64) ((PatchesChange *) g_ptr_array_index (changes, changes->len - 1))->rev
         : (gint64) patches_value_get_number (patches_value_object_get (snapshot, "rev"));
  g_assert_cmpint (head, ==, (gint64) patches_value_get_number (patches_value_object_get (report, "rev")));

  if (!patches_value_equal (state, agreed))
    {
      g_autofree char *server_json = patches_value_to_json (state);
      g_autofree char *agreed_json = patches_value_to_json (agreed);

      g_error ("The server's document differs from the clients':\n  server  %s\n  clients %s",
               server_json, agreed_json);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Server/interop/reference-clients", test_reference_clients);

  return g_test_run ();
}
