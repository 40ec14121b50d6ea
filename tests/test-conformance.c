/* test-conformance.c: runs the reference library's test vectors
 *
 * Usage: test-conformance [--vectors DIR] [--verbose] [SUITE...]
 *
 * DIR (or $PATCHES_CONFORMANCE_DIR) holds SUITE.json files in the format
 * described in tests/conformance/README.md; by default the copies in this
 * source tree are used.  Cases listed in conformance/skip.txt are skipped
 * (each line: "suite/case-name  # reason").  The last line of the output
 * is "N passed, M failed".
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>
#include <string.h>

#include "conformance.h"

typedef struct {
  const char         *name;
  ConformanceRunFunc  run;
} Suite;

static const Suite suites[] = {
  { "pointer", conformance_run_pointer },
  { "apply", conformance_run_apply },
#ifdef HAVE_SUITE_DELTA
  { "delta", conformance_run_delta },
#endif
#ifdef HAVE_SUITE_TRANSFORM
  { "transform", conformance_run_transform },
#endif
#ifdef HAVE_SUITE_COMPOSE
  { "compose", conformance_run_compose },
#endif
#ifdef HAVE_SUITE_INVERT
  { "invert", conformance_run_invert },
#endif
#ifdef HAVE_SUITE_REBASE
  { "rebase", conformance_run_rebase },
#endif
#ifdef HAVE_SUITE_APPLY_COMMITTED
  { "apply_committed", conformance_run_apply_committed },
#endif
#ifdef HAVE_SUITE_BATCHES
  { "batches", conformance_run_batches },
#endif
#ifdef HAVE_SUITE_SERVER_COMMIT
  { "server_commit", conformance_run_server_commit },
#endif
#ifdef HAVE_SUITE_CONVERGENCE
  { "convergence", conformance_run_convergence },
#endif
};

static GHashTable *
load_skips (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "skip.txt", NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  GHashTable *skips = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return skips;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *hash = strchr (lines[i], '#');
      g_autofree char *reason = hash ? g_strstrip (g_strdup (hash + 1)) : g_strdup ("");
      char *name;

      if (hash)
        *hash = 0;
      name = g_strstrip (lines[i]);
      if (name[0] == 0)
        continue;
      if (reason[0] == 0)
        g_printerr ("skip.txt: %s has no reason; a skip must say why\n", name);
      g_hash_table_insert (skips, g_strdup (name), g_steal_pointer (&reason));
    }

  return skips;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *vectors = NULL;
  g_autofree char *skip_dir = NULL;
  g_autoptr(GHashTable) skips = NULL;
  g_auto(GStrv) only = NULL;
  gboolean verbose = FALSE;
  guint total_passed = 0, total_failed = 0, total_skipped = 0;
  GOptionEntry entries[] = {
    { "vectors", 0, 0, G_OPTION_ARG_FILENAME, &vectors, "Directory of vector files", "DIR" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Print every failure", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &only, NULL, "SUITE…" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- run conformance vectors");
  g_autoptr(GError) error = NULL;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  if (vectors == NULL && g_getenv ("PATCHES_CONFORMANCE_DIR") != NULL)
    vectors = g_strdup (g_getenv ("PATCHES_CONFORMANCE_DIR"));
  if (vectors == NULL)
    {
      const char *srcdir = g_getenv ("G_TEST_SRCDIR");
      vectors = g_build_filename (srcdir ? srcdir : TESTS_SRCDIR, "conformance", NULL);
    }
  skip_dir = g_strdup (vectors);

  skips = load_skips (skip_dir);

  for (guint s = 0; s < G_N_ELEMENTS (suites); s++)
    {
      g_autofree char *file = NULL;
      g_autoptr(JsonParser) parser = NULL;
      JsonObject *root;
      JsonArray *cases;
      guint passed = 0, failed = 0, skipped = 0;

      if (only != NULL && !g_strv_contains ((const char * const *) only, suites[s].name))
        continue;

      file = g_strdup_printf ("%s/%s.json", vectors, suites[s].name);
      if (!g_file_test (file, G_FILE_TEST_EXISTS))
        continue;

      parser = json_parser_new_immutable ();
      if (!json_parser_load_from_mapped_file (parser, file, &error))
        {
          g_printerr ("%s: %s\n", file, error->message);
          g_clear_error (&error);
          total_failed++;
          continue;
        }

      root = json_node_get_object (json_parser_get_root (parser));
      cases = json_object_get_array_member (root, "cases");

      for (guint i = 0; i < json_array_get_length (cases); i++)
        {
          JsonObject *kase = json_array_get_object_element (cases, i);
          const char *name = json_object_get_string_member (kase, "name");
          g_autofree char *full = g_strdup_printf ("%s/%s", suites[s].name, name);
          g_autofree char *why = NULL;

          if (g_hash_table_contains (skips, full))
            {
              skipped++;
              continue;
            }

          if (suites[s].run (kase, root, &why))
            passed++;
          else
            {
              failed++;
              if (verbose || failed <= 10)
                g_print ("FAIL %s: %s\n", full, why ? why : "(no reason given)");
            }
        }

      g_print ("%-16s %u passed, %u failed, %u skipped\n", suites[s].name, passed, failed, skipped);
      total_passed += passed;
      total_failed += failed;
      total_skipped += skipped;
    }

  if (total_passed + total_failed + total_skipped == 0)
    {
      g_printerr ("No vector files (SUITE.json) found in %s\n", vectors);
      total_failed = 1;
    }

  if (total_skipped > 0)
    g_print ("%u passed, %u failed, %u skipped\n", total_passed, total_failed, total_skipped);
  else
    g_print ("%u passed, %u failed\n", total_passed, total_failed);

  return total_failed == 0 ? 0 : 1;
}
