/* test-trace-replay.c: a real concurrent editing session, replayed
 *
 * Runs src/bench/patches-trace-replay (the program named by the
 * environment variable PATCHES_TRACE_REPLAY, set by tests/meson.build) on
 * tests/data/friendsforever.concurrent.json.gz: two agents' keystrokes,
 * each through its own PatchesClient and PatchesSync, merged by the real
 * patches-server (PATCHES_SERVER).  The last line of its output must be
 * the JSON result with "ok": true, meaning that both clients end with the
 * trace's endContent.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#define TRACE_NAME "friendsforever.concurrent"
#define TRACE_TXNS 26078

static void
test_friendsforever (void)
{
  const char *program = g_getenv ("PATCHES_TRACE_REPLAY");
  g_autofree char *trace = g_test_build_filename (G_TEST_DIST, "data", TRACE_NAME ".json.gz", NULL);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto(GStrv) lines = NULL;
  const char *last = NULL;
  JsonObject *result;

  if (program == NULL)
    {
      g_test_skip ("PATCHES_TRACE_REPLAY is not set: run the tests through meson");
      return;
    }

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                              program, trace, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);

  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (lines[i][0] != '\0')
        last = lines[i];
      g_test_message ("%s", lines[i]);
    }
  if (!g_subprocess_get_successful (process))
    g_test_message ("stderr: %s", err);

  g_assert_nonnull (last);
  json_parser_load_from_data (parser, last, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  result = json_node_get_object (json_parser_get_root (parser));

  g_assert_cmpstr (json_object_get_string_member_with_default (result, "trace", ""), ==, TRACE_NAME);
  g_assert_cmpint (json_object_get_int_member_with_default (result, "txns", 0), ==, TRACE_TXNS);
  g_assert_true (json_object_has_member (result, "ms"));
  g_assert_cmpfloat (json_object_get_double_member (result, "ms"), >, 0);
  g_assert_true (json_object_get_boolean_member_with_default (result, "ok", FALSE));
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/trace-replay/friendsforever", test_friendsforever);

  return g_test_run ();
}
