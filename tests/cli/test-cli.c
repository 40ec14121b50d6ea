/* test-cli.c: patches-cli, the real binary, against the real server
 *
 * Every test starts patches-server (PATCHES_SERVER, through
 * patches-test-server.c) on 127.0.0.1 with a temporary database and runs
 * patches-cli (PATCHES_CLI) as a subprocess: commands, scripts (two of
 * them at once on one document), each exit status, watch stopped with
 * SIGINT, bearer tokens, and a --store that keeps unsent changes across
 * a kill -9 while the server is down.  Outputs are parsed and compared
 * as JSON values.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <signal.h>
#include <string.h>

#ifdef __linux__
# include <sys/prctl.h>
#endif

#include "patches.h"
#include "patches-test-server.h"

#define WAIT_UNTIL PATCHES_TEST_WAIT_UNTIL

/* Helpers */

typedef struct
{
  int   status;     /* exit status; -1 when a signal ended the process */
  char *out;
  char *err;
} CliResult;

static void
cli_result_free (CliResult *result)
{
  g_free (result->out);
  g_free (result->err);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliResult, cli_result_free)

#define ARGS(...) ((const char * const []) { __VA_ARGS__, NULL })

/* The CLI dies with the test, even when an assertion aborts it */
static void
child_setup (gpointer user_data)
{
#ifdef __linux__
  prctl (PR_SET_PDEATHSIG, SIGKILL);
#endif
}

static GSubprocess *
spawn_cli (const char * const *args,
           gboolean            with_stdin,
           GError            **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *binary = g_getenv ("PATCHES_CLI");

  if (binary == NULL)
    g_error ("PATCHES_CLI is not set: run the tests through meson");

  g_ptr_array_add (argv, (gpointer) binary);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                        (with_stdin ? G_SUBPROCESS_FLAGS_STDIN_PIPE
                                                    : G_SUBPROCESS_FLAGS_NONE));
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);

  return g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, error);
}

static CliResult *
result_from (GSubprocess *process,
             char        *out,
             char        *err)
{
  CliResult *result = g_new0 (CliResult, 1);

  result->out = out;
  result->err = err;
  result->status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process)
                                                        : -1;
  if (result->status == -1)
    g_test_message ("patches-cli ended by signal %d", g_subprocess_get_term_sig (process));
  if (result->err != NULL && result->err[0] != '\0')
    g_test_message ("patches-cli stderr: %s", result->err);

  return result;
}

/* Runs patches-cli to its end, feeding it @input */
static CliResult *
run_cli_input (const char         *input,
               const char * const *args)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  char *err = NULL;

  process = spawn_cli (args, input != NULL, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &out, &err, &error);
  g_assert_no_error (error);

  return result_from (process, out, err);
}

static CliResult *
run_cli (const char * const *args)
{
  return run_cli_input (NULL, args);
}

typedef struct
{
  GSubprocess *process;
  gboolean     done;
  char        *out;
  char        *err;
} Running;

static void
communicated_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Running *running = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result,
                                        &running->out, &running->err, &error);
  g_assert_no_error (error);
  running->done = TRUE;
}

/* Starts patches-cli and collects its output in the background */
static Running *
start_cli (const char * const *args)
{
  Running *running = g_new0 (Running, 1);
  g_autoptr(GError) error = NULL;

  running->process = spawn_cli (args, FALSE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (running->process, NULL, NULL, communicated_cb, running);

  return running;
}

static CliResult *
finish_cli (Running *running)
{
  CliResult *result;

  WAIT_UNTIL (running->done);
  result = result_from (running->process, running->out, running->err);
  g_object_unref (running->process);
  g_free (running);

  return result;
}

/* Reads lines from a pipe of a running process */
typedef struct
{
  GDataInputStream *stream;
  char             *line;
  gboolean          done;
} LineReader;

static void
read_line_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  LineReader *reader = user_data;

  reader->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                            result, NULL, NULL);
  reader->done = TRUE;
}

/* The next line, or NULL at the end of the stream */
static char *
read_line (GDataInputStream *stream)
{
  LineReader reader = { stream, NULL, FALSE };

  g_data_input_stream_read_line_async (stream, G_PRIORITY_DEFAULT, NULL, read_line_cb, &reader);
  WAIT_UNTIL (reader.done);

  return reader.line;
}

static char *
write_file (PatchesTestServer *server,
            const char        *name,
            const char        *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (patches_test_server_get_dir (server), name, NULL);

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);

  return path;
}

static PatchesValue *
parse (const char *json)
{
  g_autoptr(GError) error = NULL;
  PatchesValue *value = patches_value_parse (json, -1, &error);

  g_assert_no_error (error);

  return value;
}

/* Asserts that @actual (one line of output) is the JSON @expected */
static void
assert_json_equal (const char *actual,
                   const char *expected)
{
  g_autoptr(PatchesValue) a = NULL;
  g_autoptr(PatchesValue) b = NULL;
  g_autofree char *line = g_strdup (actual);

  g_assert_nonnull (actual);
  g_strchomp (line);
  g_assert_null (strchr (line, '\n'));

  a = parse (line);
  b = parse (expected);
  if (!patches_value_equal (a, b))
    g_error ("JSON differs:\n  actual:   %s\n  expected: %s", line, expected);
}

static guint
count_lines (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p != '\0'; p++)
    if (*p == '\n')
      n++;

  return n;
}

/* Tests */

static void
test_usage (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  const char *url = patches_test_server_get_url (server);
  g_autoptr(CliResult) none = run_cli (ARGS ("--timeout=1000"));
  g_autoptr(CliResult) unknown = run_cli (ARGS ("frobnicate", "x"));
  g_autoptr(CliResult) option = run_cli (ARGS ("--no-such-option", "get", "x"));
  g_autoptr(CliResult) arity = run_cli (ARGS ("-s", url, "get"));
  g_autoptr(CliResult) no_server = run_cli (ARGS ("get", "x"));
  g_autoptr(CliResult) bad_url = run_cli (ARGS ("-s", "http://127.0.0.1/", "get", "x"));
  g_autoptr(CliResult) help = run_cli (ARGS ("--help"));
  g_autoptr(CliResult) version = run_cli (ARGS ("--version"));

  g_assert_cmpint (none->status, ==, 2);
  g_assert_cmpint (unknown->status, ==, 2);
  g_assert_nonnull (strstr (unknown->err, "frobnicate"));
  g_assert_cmpint (option->status, ==, 2);
  g_assert_cmpint (arity->status, ==, 2);
  g_assert_nonnull (strstr (arity->err, "get DOC"));
  g_assert_cmpint (no_server->status, ==, 2);
  g_assert_nonnull (strstr (no_server->err, "--server"));
  g_assert_cmpint (bad_url->status, ==, 2);
  g_assert_cmpstr (bad_url->out, ==, "");

  g_assert_cmpint (help->status, ==, 0);
  for (guint i = 0; i < 6; i++)
    {
      static const char * const words[] = { "get DOC", "patch DOC", "watch DOC", "export DOC",
                                             "import DOC FILE", "run SCRIPT" };

      g_assert_nonnull (strstr (help->out, words[i]));
    }
  g_assert_nonnull (strstr (help->out, "wait_synced"));
  g_assert_nonnull (strstr (help->out, "Exit status"));

  g_assert_cmpint (version->status, ==, 0);
  g_assert_true (g_str_has_prefix (version->out, "patches-cli "));
}

static void
test_patch_get (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  const char *url = patches_test_server_get_url (server);
  g_autofree char *ops = write_file (server, "ops.json",
                                     "[{\"op\":\"add\",\"path\":\"/title\",\"value\":\"Hello\"},"
                                     " {\"op\":\"add\",\"path\":\"/tags\",\"value\":[\"a\"]},"
                                     " {\"op\":\"@inc\",\"path\":\"/views\",\"value\":2}]");
  g_autoptr(CliResult) empty = run_cli (ARGS ("-s", url, "get", "note/1"));
  g_autoptr(CliResult) patch = run_cli (ARGS ("-s", url, "patch", "note/1", ops));
  g_autoptr(CliResult) get = run_cli (ARGS ("-s", url, "get", "note/1"));
  g_autoptr(CliResult) patch_stdin = run_cli_input ("[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"Bye\"},"
                                                    " {\"op\":\"@inc\",\"path\":\"/views\",\"value\":1}]",
                                                    ARGS ("-s", url, "patch", "note/1", "-"));
  g_autoptr(CliResult) export = run_cli (ARGS ("--server", url, "export", "note/1"));
  g_autoptr(CliResult) not_ops = NULL;
  g_autoptr(CliResult) failing = NULL;
  g_autoptr(CliResult) after = NULL;
  g_autofree char *bad = write_file (server, "bad.json", "{\"op\":\"add\"}");
  g_autofree char *test_op = write_file (server, "test.json",
                                         "[{\"op\":\"test\",\"path\":\"/title\",\"value\":\"Hello\"},"
                                         " {\"op\":\"add\",\"path\":\"/x\",\"value\":1}]");

  /* A document the server does not know is {} */
  g_assert_cmpint (empty->status, ==, 0);
  assert_json_equal (empty->out, "{}");

  g_assert_cmpint (patch->status, ==, 0);
  g_assert_cmpstr (patch->out, ==, "");

  g_assert_cmpint (get->status, ==, 0);
  g_assert_cmpuint (count_lines (get->out), ==, 1);
  assert_json_equal (get->out, "{\"title\":\"Hello\",\"tags\":[\"a\"],\"views\":2}");

  /* One change per patch: two revisions */
  g_assert_cmpint (patch_stdin->status, ==, 0);
  g_assert_cmpint (export->status, ==, 0);
  assert_json_equal (export->out,
                     "{\"doc\":\"note/1\",\"rev\":2,"
                     "\"state\":{\"title\":\"Bye\",\"tags\":[\"a\"],\"views\":3}}");

  /* An ops file that is not an op array is a usage error; ops that do
   * not apply fail and send nothing */
  not_ops = run_cli (ARGS ("-s", url, "patch", "note/1", bad));
  g_assert_cmpint (not_ops->status, ==, 2);
  failing = run_cli (ARGS ("-s", url, "patch", "note/1", test_op));
  g_assert_cmpint (failing->status, ==, 5);
  g_assert_nonnull (strstr (failing->err, "test"));
  after = run_cli (ARGS ("-s", url, "export", "note/1"));
  g_assert_cmpint (after->status, ==, 0);
  assert_json_equal (after->out, export->out);
}

static void
test_export_import (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  const char *url = patches_test_server_get_url (server);
  g_autofree char *script = NULL;
  g_autofree char *script_path = NULL;
  g_autofree char *state_path = NULL;
  g_autofree char *state_json = NULL;
  g_autofree char *smaller = NULL;
  g_autofree char *array = NULL;
  g_autoptr(CliResult) made = NULL;
  g_autoptr(CliResult) export_a = NULL;
  g_autoptr(CliResult) import_b = NULL;
  g_autoptr(CliResult) export_b = NULL;
  g_autoptr(CliResult) reimport = NULL;
  g_autoptr(CliResult) export_again = NULL;
  g_autoptr(CliResult) root_refused = NULL;
  g_autoptr(CliResult) root_new = NULL;
  g_autoptr(CliResult) export_c = NULL;
  g_autoptr(PatchesValue) exported = NULL;
  g_autoptr(PatchesValue) exported_b = NULL;
  PatchesValue *state;

  /* A document with a rich-text body, written through @txt */
  script = g_strdup_printf ("["
                            "{\"connect\":\"%s\"},"
                            "{\"open\":\"a\"},"
                            "{\"change\":{\"doc\":\"a\",\"ops\":["
                            "  {\"op\":\"add\",\"path\":\"/title\",\"value\":\"T\"},"
                            "  {\"op\":\"add\",\"path\":\"/n\",\"value\":{\"x\":[1,2,{\"y\":null}]}},"
                            "  {\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"insert\":\"Hi\"}]}]}},"
                            "{\"change\":{\"doc\":\"a\",\"ops\":["
                            "  {\"op\":\"@txt\",\"path\":\"/body\",\"value\":"
                            "    [{\"insert\":\"Oh \",\"attributes\":{\"bold\":true}}]}]}},"
                            "{\"wait_synced\":{\"timeout_ms\":20000}}"
                            "]", url);
  script_path = write_file (server, "make.json", script);
  made = run_cli (ARGS ("run", script_path));
  g_assert_cmpint (made->status, ==, 0);

  export_a = run_cli (ARGS ("-s", url, "export", "a"));
  g_assert_cmpint (export_a->status, ==, 0);
  assert_json_equal (export_a->out,
                     "{\"doc\":\"a\",\"rev\":2,\"state\":{\"title\":\"T\",\"n\":{\"x\":[1,2,{\"y\":null}]},"
                     "\"body\":{\"ops\":[{\"insert\":\"Oh \",\"attributes\":{\"bold\":true}},"
                     "{\"insert\":\"Hi\\n\"}]}}}");

  /* The exported state, imported into a new document, reproduces it */
  exported = parse (export_a->out);
  state = patches_value_object_get (exported, "state");
  state_json = patches_value_to_json (state);
  state_path = write_file (server, "state.json", state_json);

  import_b = run_cli (ARGS ("-s", url, "import", "b", state_path));
  g_assert_cmpint (import_b->status, ==, 0);
  export_b = run_cli (ARGS ("-s", url, "export", "b"));
  g_assert_cmpint (export_b->status, ==, 0);
  exported_b = parse (export_b->out);
  g_assert_true (patches_value_equal (patches_value_object_get (exported_b, "state"), state));
  g_assert_cmpfloat (patches_value_get_number (patches_value_object_get (exported_b, "rev")), ==, 1);

  /* Importing into a document with history: member by member, so the
   * server accepts it; members the file lacks are removed */
  smaller = write_file (server, "smaller.json", "{\"title\":\"U\",\"extra\":true}");
  reimport = run_cli (ARGS ("-s", url, "import", "b", smaller));
  g_assert_cmpint (reimport->status, ==, 0);
  export_again = run_cli (ARGS ("-s", url, "export", "b"));
  assert_json_equal (export_again->out,
                     "{\"doc\":\"b\",\"rev\":2,\"state\":{\"title\":\"U\",\"extra\":true}}");

  /* A non-object cannot replace the root of a document with history, but
   * can be the state of a new one */
  array = write_file (server, "array.json", "[1,\"two\"]");
  root_refused = run_cli (ARGS ("-s", url, "import", "b", array));
  g_assert_cmpint (root_refused->status, ==, 5);
  g_assert_nonnull (strstr (root_refused->err, "root"));
  root_new = run_cli (ARGS ("-s", url, "import", "c", array));
  g_assert_cmpint (root_new->status, ==, 0);
  export_c = run_cli (ARGS ("-s", url, "export", "c"));
  assert_json_equal (export_c->out, "{\"doc\":\"c\",\"rev\":1,\"state\":[1,\"two\"]}");
}

/* Both scripts edit the document at rev 1 while offline, then connect at
 * about the same time: the server transforms one's changes over the
 * other's, and both end with the same state */
static char *
converging_script (const char *url,
                   const char *me)
{
  return g_strdup_printf ("["
                          "{\"connect\":\"%s\"},"
                          "{\"open\":\"shared\"},"
                          "{\"wait_synced\":{\"timeout_ms\":20000}},"
                          "{\"expect\":{\"doc\":\"shared\",\"rev\":1}},"
                          "{\"disconnect\":true},"
                          "{\"change\":{\"doc\":\"shared\",\"ops\":["
                          "  {\"op\":\"add\",\"path\":\"/%s1\",\"value\":1}]}},"
                          "{\"change\":{\"doc\":\"shared\",\"ops\":["
                          "  {\"op\":\"@inc\",\"path\":\"/count\",\"value\":1}]}},"
                          "{\"change\":{\"doc\":\"shared\",\"ops\":["
                          "  {\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":5},{\"insert\":\"%s\"}]}]}},"
                          "{\"log\":\"%s edited\"},"
                          "{\"sleep\":1000},"
                          "{\"connect\":\"%s\"},"
                          "{\"change\":{\"doc\":\"shared\",\"ops\":["
                          "  {\"op\":\"add\",\"path\":\"/%s2\",\"value\":[\"%s\"]},"
                          "  {\"op\":\"@inc\",\"path\":\"/count\",\"value\":10}]}},"
                          "{\"wait_synced\":{\"timeout_ms\":20000}},"
                          "{\"wait_rev\":{\"doc\":\"shared\",\"rev\":9,\"timeout_ms\":20000}},"
                          "{\"wait_synced\":{\"timeout_ms\":20000}},"
                          "{\"print\":\"shared\"},"
                          "{\"expect\":{\"doc\":\"shared\",\"rev\":9}}"
                          "]", url, me, me, me, url, me, me);
}

static void
test_scripts_converge (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  const char *url = patches_test_server_get_url (server);
  g_autofree char *setup = write_file (server, "setup.json",
                                       "[{\"op\":\"add\",\"path\":\"/count\",\"value\":0},"
                                       " {\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"insert\":\"Hello\"}]}]");
  g_autofree char *script_a = converging_script (url, "a");
  g_autofree char *script_b = converging_script (url, "b");
  g_autofree char *path_a = write_file (server, "a.json", script_a);
  g_autofree char *path_b = write_file (server, "b.json", script_b);
  g_autoptr(CliResult) prepared = run_cli (ARGS ("-s", url, "patch", "shared", setup));
  g_autoptr(CliResult) a = NULL;
  g_autoptr(CliResult) b = NULL;
  g_autoptr(CliResult) export = NULL;
  g_autoptr(PatchesValue) printed = NULL;
  g_autofree char *body = NULL;
  PatchesValue *state;
  Running *running_a;
  Running *running_b;

  g_assert_cmpint (prepared->status, ==, 0);

  /* Both at once, on one document */
  running_a = start_cli (ARGS ("run", path_a));
  running_b = start_cli (ARGS ("run", path_b));
  a = finish_cli (running_a);
  b = finish_cli (running_b);

  g_assert_cmpint (a->status, ==, 0);
  g_assert_cmpint (b->status, ==, 0);
  g_assert_nonnull (strstr (a->err, "a edited"));
  g_assert_nonnull (strstr (b->err, "b edited"));
  g_assert_cmpuint (count_lines (a->out), ==, 1);
  g_assert_cmpuint (count_lines (b->out), ==, 1);
  assert_json_equal (a->out, b->out);

  /* Nothing lost: both inserts at the same place, in one order or the
   * other, and the sum of every increment */
  g_test_message ("converged: %s", a->out);
  printed = parse (a->out);
  g_assert_cmpfloat (patches_value_get_number (patches_value_object_get (printed, "rev")), ==, 9);
  state = patches_value_object_get (printed, "state");
  g_assert_cmpfloat (patches_value_get_number (patches_value_object_get (state, "count")), ==, 22);
  g_assert_cmpfloat (patches_value_get_number (patches_value_object_get (state, "a1")), ==, 1);
  g_assert_cmpfloat (patches_value_get_number (patches_value_object_get (state, "b1")), ==, 1);
  g_assert_cmpuint (patches_value_array_get_length (patches_value_object_get (state, "a2")), ==, 1);
  g_assert_cmpuint (patches_value_array_get_length (patches_value_object_get (state, "b2")), ==, 1);
  g_assert_cmpuint (patches_value_object_get_size (state), ==, 6);
  body = patches_value_to_json (patches_value_object_get (state, "body"));
  if (!g_str_equal (body, "{\"ops\":[{\"insert\":\"Helloab\\n\"}]}") &&
      !g_str_equal (body, "{\"ops\":[{\"insert\":\"Helloba\\n\"}]}"))
    g_error ("unexpected body %s", body);

  /* and the server agrees */
  export = run_cli (ARGS ("-s", url, "export", "shared"));
  g_assert_cmpint (export->status, ==, 0);
  assert_json_equal (export->out, a->out);
}

static void
test_exit_codes (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  const char *url = patches_test_server_get_url (server);
  g_autofree char *setup = g_strdup_printf ("[{\"connect\":\"%s\"},{\"open\":\"d\"},"
                                            "{\"change\":{\"doc\":\"d\",\"ops\":"
                                            "  [{\"op\":\"add\",\"path\":\"/k\",\"value\":\"v\"}]}},"
                                            "{\"wait_synced\":true}]", url);
  g_autofree char *setup_path = write_file (server, "setup.json", setup);
  g_autoptr(CliResult) setup_result = run_cli (ARGS ("run", setup_path));
  struct {
    const char *name;
    const char *script;       /* @URL@: the URL */
    int         status;
    const char *message;      /* in stderr */
  } cases[] = {
    /* 2: the script is checked before anything runs (no print output) */
    { "not-json", "[{\"open\":", 2, "not JSON" },
    { "not-array", "{\"open\":\"d\"}", 2, "array" },
    { "unknown-step", "[{\"print\":\"d\"},{\"frob\":1}]", 2, "step 1 (frob)" },
    { "two-keys", "[{\"open\":\"d\",\"print\":\"d\"}]", 2, "step 0" },
    { "bad-ops", "[{\"open\":\"d\"},{\"change\":{\"doc\":\"d\",\"ops\":[{\"op\":\"add\"}]}}]",
      2, "step 1 (change)" },
    { "bad-member", "[{\"wait_synced\":{\"timeout\":5}}]", 2, "step 0 (wait_synced)" },
    { "bad-sleep", "[{\"sleep\":-1}]", 2, "step 0 (sleep)" },
    { "no-url", "[{\"connect\":true}]", 2, "--server" },
    /* 3: a wait that times out */
    { "wait-rev", "[{\"connect\":\"@URL@\"},{\"open\":\"d\"},"
      "{\"wait_rev\":{\"doc\":\"d\",\"rev\":50,\"timeout_ms\":300}}]", 3, "step 2 (wait_rev)" },
    { "wait-offline", "[{\"connect\":\"ws://127.0.0.1:1/sync\"},{\"open\":\"d\"},"
      "{\"wait_synced\":{\"timeout_ms\":300}}]", 3, "not connected" },
    /* 4: expect */
    { "expect-state", "[{\"connect\":\"@URL@\"},{\"open\":\"d\"},{\"wait_synced\":true},"
      "{\"expect\":{\"doc\":\"d\",\"rev\":1,\"state\":{\"k\":\"w\"}}}]", 4, "\"/k\": expected \"w\", got \"v\"" },
    { "expect-rev", "[{\"connect\":\"@URL@\"},{\"open\":\"d\"},{\"wait_synced\":true},"
      "{\"expect\":{\"doc\":\"d\",\"rev\":2}}]", 4, "expected rev 2" },
    { "expect-missing", "[{\"connect\":\"@URL@\"},{\"open\":\"d\"},{\"wait_synced\":true},"
      "{\"expect\":{\"doc\":\"d\",\"state\":{\"k\":\"v\",\"z\":[]}}}]", 4, "\"/z\": missing" },
    /* 5: a step that fails */
    { "not-open", "[{\"print\":\"d\"}]", 5, "step 0 (print): Document d is not open" },
    { "test-op", "[{\"open\":\"d\"},{\"change\":{\"doc\":\"d\",\"ops\":"
      "[{\"op\":\"test\",\"path\":\"/k\",\"value\":1}]}}]", 5, "step 1 (change)" },
    { "wait-unconnected", "[{\"wait_synced\":true}]", 5, "connect" },
    { "wait-disconnected", "[{\"connect\":\"@URL@\"},{\"disconnect\":true},{\"wait_synced\":true}]",
      5, "step 2 (wait_synced): Not connected" },
  };

  g_assert_cmpint (setup_result->status, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s.json", cases[i].name);
      g_auto(GStrv) parts = g_strsplit (cases[i].script, "@URL@", -1);
      g_autofree char *script = g_strjoinv (url, parts);
      g_autofree char *path = write_file (server, name, script);
      g_autoptr(CliResult) result = run_cli (ARGS ("run", path));

      g_test_message ("case %s", cases[i].name);
      g_assert_cmpint (result->status, ==, cases[i].status);
      if (strstr (result->err, cases[i].message) == NULL)
        g_error ("case %s: \"%s\" is not in the message: %s", cases[i].name, cases[i].message,
                 result->err);
      g_assert_cmpstr (result->out, ==, "");
    }

  /* A script that cannot be read */
  {
    g_autoptr(CliResult) missing = run_cli (ARGS ("run", "/nonexistent/script.json"));

    g_assert_cmpint (missing->status, ==, 2);
  }

  /* The mismatch message shows both states */
  {
    g_autofree char *script = g_strdup_printf ("[{\"connect\":\"%s\"},{\"open\":\"d\"},"
                                               "{\"wait_synced\":true},{\"print\":\"d\"},"
                                               "{\"expect\":{\"doc\":\"d\",\"state\":[]}}]", url);
    g_autofree char *path = write_file (server, "mismatch.json", script);
    g_autoptr(CliResult) result = run_cli (ARGS ("run", path));

    g_assert_cmpint (result->status, ==, 4);
    assert_json_equal (result->out, "{\"doc\":\"d\",\"rev\":1,\"state\":{\"k\":\"v\"}}");
    g_assert_nonnull (strstr (result->err, "expected: []"));
    g_assert_nonnull (strstr (result->err, "actual:   {\"k\":\"v\"}"));
  }
}

static void
test_watch (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  const char *url = patches_test_server_get_url (server);
  g_autofree char *before = write_file (server, "before.json",
                                        "[{\"op\":\"add\",\"path\":\"/old\",\"value\":0}]");
  g_autofree char *script = g_strdup_printf ("[{\"connect\":\"%s\"},{\"open\":\"w\"},"
                                             "{\"change\":{\"doc\":\"w\",\"ops\":"
                                             "  [{\"op\":\"add\",\"path\":\"/new\",\"value\":\"x\"}]}},"
                                             "{\"wait_synced\":true},"
                                             "{\"change\":{\"doc\":\"w\",\"ops\":"
                                             "  [{\"op\":\"@inc\",\"path\":\"/n\",\"value\":5}]}},"
                                             "{\"wait_synced\":true}]", url);
  g_autofree char *script_path = write_file (server, "script.json", script);
  g_autoptr(CliResult) prepared = run_cli (ARGS ("-s", url, "patch", "w", before));
  g_autoptr(CliResult) edited = NULL;
  g_autoptr(GSubprocess) watch = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GDataInputStream) err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) first = NULL;
  g_autoptr(PatchesValue) second = NULL;
  g_autofree char *ready = NULL;
  g_autofree char *line1 = NULL;
  g_autofree char *line2 = NULL;
  g_autofree char *end = NULL;
  g_autofree char *ops = NULL;
  PatchesValue *change;

  g_assert_cmpint (prepared->status, ==, 0);

  watch = spawn_cli (ARGS ("-s", url, "watch", "w"), FALSE, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (watch));
  err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (watch));

  /* Ready once synced; what was committed before is not printed */
  ready = read_line (err);
  g_assert_cmpstr (ready, ==, "patches-cli: watching w (rev 1)");

  edited = run_cli (ARGS ("run", script_path));
  g_assert_cmpint (edited->status, ==, 0);

  line1 = read_line (out);
  line2 = read_line (out);
  g_assert_nonnull (line1);
  g_assert_nonnull (line2);

  first = parse (line1);
  g_assert_cmpstr (patches_value_get_string (patches_value_object_get (first, "doc")), ==, "w");
  change = patches_value_object_get (first, "change");
  g_assert_cmpfloat (patches_value_get_number (patches_value_object_get (change, "rev")), ==, 2);
  g_assert_nonnull (patches_value_object_get (change, "id"));
  g_assert_nonnull (patches_value_object_get (change, "clientId"));
  ops = patches_value_to_json (patches_value_object_get (change, "ops"));
  assert_json_equal (ops, "[{\"op\":\"add\",\"path\":\"/new\",\"value\":\"x\"}]");
  g_clear_pointer (&ops, g_free);

  second = parse (line2);
  change = patches_value_object_get (second, "change");
  g_assert_cmpfloat (patches_value_get_number (patches_value_object_get (change, "rev")), ==, 3);
  ops = patches_value_to_json (patches_value_object_get (change, "ops"));
  assert_json_equal (ops, "[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":5}]");

  /* SIGINT: a clean exit, status 0, nothing more printed */
  g_subprocess_send_signal (watch, SIGINT);
  end = read_line (out);
  g_assert_null (end);
  g_subprocess_wait (watch, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (watch));
  g_assert_cmpint (g_subprocess_get_exit_status (watch), ==, 0);
}

static void
test_token (void)
{
  g_autoptr(PatchesTestServer) server =
    patches_test_server_new_with_tokens ("s3cret-token alice note/*:write\n", NULL);
  const char *url = patches_test_server_get_url (server);
  g_autofree char *ops = write_file (server, "ops.json",
                                     "[{\"op\":\"add\",\"path\":\"/by\",\"value\":\"alice\"}]");
  g_autofree char *script = g_strdup_printf ("[{\"connect\":{\"url\":\"%s\",\"token\":\"nope\"}}]", url);
  g_autofree char *script_path = write_file (server, "bad-token.json", script);
  g_autoptr(CliResult) patch = run_cli (ARGS ("-s", url, "-t", "s3cret-token", "patch", "note/1", ops));
  g_autoptr(CliResult) get = run_cli (ARGS ("-s", url, "--token=s3cret-token", "get", "note/1"));
  g_autoptr(CliResult) no_token = run_cli (ARGS ("-s", url, "get", "note/1"));
  g_autoptr(CliResult) wrong = run_cli (ARGS ("-s", url, "-t", "wrong", "get", "note/1"));
  g_autoptr(CliResult) script_refused = run_cli (ARGS ("-t", "s3cret-token", "run", script_path));
  g_autoptr(CliResult) from_env = NULL;
  g_autoptr(CliResult) forbidden = NULL;

  g_assert_cmpint (patch->status, ==, 0);
  g_assert_cmpint (get->status, ==, 0);
  assert_json_equal (get->out, "{\"by\":\"alice\"}");

  /* A refused handshake is a failure, with the HTTP status */
  g_assert_cmpint (no_token->status, ==, 5);
  g_assert_nonnull (strstr (no_token->err, "401"));
  g_assert_cmpint (wrong->status, ==, 5);
  g_assert_nonnull (strstr (wrong->err, "401"));
  g_assert_cmpstr (wrong->out, ==, "");

  /* even in a script, where an unreachable server would only warn */
  g_assert_cmpint (script_refused->status, ==, 5);
  g_assert_nonnull (strstr (script_refused->err, "step 0 (connect)"));

  /* A document the token may not read fails at once, not at the timeout */
  forbidden = run_cli (ARGS ("-s", url, "-t", "s3cret-token", "--timeout=60000", "get", "other"));
  g_assert_cmpint (forbidden->status, ==, 5);
  g_assert_nonnull (strstr (forbidden->err, "refuses other"));

  /* PATCHES_TOKEN */
  {
    g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GSubprocess) process = NULL;
    g_autoptr(GError) error = NULL;
    char *out = NULL;
    char *err = NULL;

    g_subprocess_launcher_setenv (launcher, "PATCHES_TOKEN", "s3cret-token", TRUE);
    g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
    process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("PATCHES_CLI"),
                                           "-s", url, "get", "note/1", NULL);
    g_assert_no_error (error);
    g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
    g_assert_no_error (error);
    from_env = result_from (process, out, err);
  }
  g_assert_cmpint (from_env->status, ==, 0);
  assert_json_equal (from_env->out, "{\"by\":\"alice\"}");
}

static void
test_store_restart (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  /* a copy: the server's string is replaced when it restarts */
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autofree char *store = g_build_filename (patches_test_server_get_dir (server), "client.db", NULL);
  g_autofree char *offline = g_strdup_printf ("[{\"connect\":\"%s\"},{\"open\":\"doc\"},"
                                              "{\"change\":{\"doc\":\"doc\",\"ops\":"
                                              "  [{\"op\":\"add\",\"path\":\"/first\",\"value\":1}]}},"
                                              "{\"change\":{\"doc\":\"doc\",\"ops\":"
                                              "  [{\"op\":\"@inc\",\"path\":\"/count\",\"value\":3}]}},"
                                              "{\"log\":\"edited\"},"
                                              "{\"wait_synced\":{\"timeout_ms\":600000}}]", url);
  g_autofree char *online = g_strdup_printf ("[{\"connect\":\"%s\"},{\"open\":\"doc\"},"
                                             "{\"wait_synced\":{\"timeout_ms\":20000}},"
                                             "{\"print\":\"doc\"}]", url);
  g_autofree char *offline_path = write_file (server, "offline.json", offline);
  g_autofree char *online_path = write_file (server, "online.json", online);
  g_autoptr(GSubprocess) first = NULL;
  g_autoptr(GDataInputStream) err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CliResult) second = NULL;
  g_autoptr(CliResult) third = NULL;
  g_autoptr(CliResult) export = NULL;
  g_autoptr(CliResult) fresh = NULL;
  g_autofree char *line = NULL;
  const char *expected = "{\"doc\":\"doc\",\"rev\":2,\"state\":{\"first\":1,\"count\":3}}";

  /* The server is down while the first run edits */
  patches_test_server_stop (server);

  first = spawn_cli (ARGS ("--store", store, "run", offline_path), FALSE, &error);
  g_assert_no_error (error);
  err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (first));
  do
    {
      g_free (line);
      line = read_line (err);
      g_assert_nonnull (line);
      g_test_message ("first run: %s", line);
    }
  while (!g_str_equal (line, "edited"));

  /* Killed mid-run, with its two changes unsent */
  g_subprocess_force_exit (first);
  g_subprocess_wait (first, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (g_subprocess_get_if_exited (first));

  /* The server comes back; the same store sends them */
  patches_test_server_restart (server);
  second = run_cli (ARGS ("--store", store, "run", online_path));
  g_assert_cmpint (second->status, ==, 0);
  assert_json_equal (second->out, expected);

  /* exactly once: another run with the store sends nothing more, and the
   * server holds two revisions */
  third = run_cli (ARGS ("--store", store, "run", online_path));
  g_assert_cmpint (third->status, ==, 0);
  assert_json_equal (third->out, expected);
  export = run_cli (ARGS ("-s", url, "export", "doc"));
  g_assert_cmpint (export->status, ==, 0);
  assert_json_equal (export->out, expected);

  /* and a client without a store sees the same */
  fresh = run_cli (ARGS ("-s", url, "get", "doc"));
  g_assert_cmpint (fresh->status, ==, 0);
  assert_json_equal (fresh->out, "{\"first\":1,\"count\":3}");
}

static void
test_script_lifecycle (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  const char *url = patches_test_server_get_url (server);
  g_autofree char *script = g_strdup_printf (
    "["
    "{\"connect\":\"%s\"},"
    "{\"open\":\"one\"},{\"open\":\"two\"},"
    "{\"change\":{\"doc\":\"one\",\"ops\":[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]}},"
    "{\"change\":{\"doc\":\"two\",\"ops\":[{\"op\":\"add\",\"path\":\"/b\",\"value\":2}]}},"
    "{\"close\":\"two\"},"
    "{\"wait_synced\":true},"
    "{\"print\":\"one\"},"
    "{\"disconnect\":true},"
    "{\"change\":{\"doc\":\"one\",\"ops\":[{\"op\":\"add\",\"path\":\"/c\",\"value\":3}]}},"
    "{\"print\":\"one\"},"
    "{\"connect\":true},"
    "{\"wait_synced\":true},"
    "{\"expect\":{\"doc\":\"one\",\"rev\":2,\"state\":{\"c\":3,\"a\":1}}},"
    "{\"delete\":\"one\"},"
    "{\"wait_synced\":true},"
    "{\"open\":\"two\"},"
    "{\"print\":\"two\"}"
    "]", url);
  g_autofree char *path = write_file (server, "life.json", script);
  g_autoptr(CliResult) result = run_cli (ARGS ("-s", url, "run", path));
  g_autoptr(CliResult) deleted = NULL;
  g_auto(GStrv) lines = NULL;

  g_assert_cmpint (result->status, ==, 0);
  lines = g_strsplit (result->out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  assert_json_equal (lines[0], "{\"doc\":\"one\",\"rev\":1,\"state\":{\"a\":1}}");
  /* offline: the local change shows, the committed revision does not move */
  assert_json_equal (lines[1], "{\"doc\":\"one\",\"rev\":1,\"state\":{\"a\":1,\"c\":3}}");
  /* a closed document is still synced */
  assert_json_equal (lines[2], "{\"doc\":\"two\",\"rev\":1,\"state\":{\"b\":2}}");
  g_assert_cmpstr (lines[3], ==, "");

  /* The deletion reached the server */
  deleted = run_cli (ARGS ("-s", url, "export", "one"));
  g_assert_cmpint (deleted->status, ==, 5);
  g_assert_nonnull (strstr (deleted->err, "Document one was deleted on the server"));
  g_assert_cmpstr (deleted->out, ==, "");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Cli/usage", test_usage);
  g_test_add_func ("/Cli/patch-get", test_patch_get);
  g_test_add_func ("/Cli/export-import", test_export_import);
  g_test_add_func ("/Cli/script/converge", test_scripts_converge);
  g_test_add_func ("/Cli/script/exit-codes", test_exit_codes);
  g_test_add_func ("/Cli/script/lifecycle", test_script_lifecycle);
  g_test_add_func ("/Cli/watch", test_watch);
  g_test_add_func ("/Cli/token", test_token);
  g_test_add_func ("/Cli/store-restart", test_store_restart);

  return g_test_run ();
}
