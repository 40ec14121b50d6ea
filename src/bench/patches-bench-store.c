/* patches-bench-store.c: what a commit costs the server's storage
 *
 * Usage: patches-bench-store [--docs N] [--group N] [--commits N]
 *                            [--db-dir DIR] [--no-sync]
 *
 * The server's commit path without the network: small `@txt` edits, the
 * kind patches-bench-load sends, committed one change per commit through
 * a #PatchesServerCache over a #PatchesServerStore, round-robin over
 * --docs documents, --group commits per transaction (as the server groups
 * the commits that queue up while one transaction runs), on a fresh
 * database (WAL, synchronous=FULL).  It prints the CPU time per commit,
 * all threads together (the write-ahead log's background copy included),
 * for parsing the change and for committing it, and the wall time per
 * commit.
 *
 * These are the figures a load target has to fit into: the issue's
 * 46,000 commits/s leave about 21 µs per commit to one core.
 *
 * Then, on one document, 1000 commits each in transactions of 1, 10 and
 * 100: commits/s and the latency a commit sees until its transaction is
 * durable (p50 / p99 / max), and the time getDoc takes on the result.
 * With --no-sync the store runs with synchronous=OFF, which shows the
 * CPU cost alone (never do that in the server).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "bench-common.h"
#include "patches-ot.h"
#include "patches-server-cache.h"
#include "patches-server-store.h"
#include "patches-server-store-private.h"

static int opt_docs = 50;
static int opt_group = 50;
static int opt_commits = 100000;
static char *opt_db_dir = NULL;
static gboolean opt_no_sync = FALSE;

static const GOptionEntry entries[] = {
  { "docs", 'n', 0, G_OPTION_ARG_INT, &opt_docs, "Documents, committed to in turn (default 50)", "N" },
  { "group", 'g', 0, G_OPTION_ARG_INT, &opt_group, "Commits per transaction (default 50)", "N" },
  { "commits", 'c', 0, G_OPTION_ARG_INT, &opt_commits, "Commits in all (default 100000)", "N" },
  { "db-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_db_dir, "Directory of the database (default: the temporary directory)", "DIR" },
  { "no-sync", 0, 0, G_OPTION_ARG_NONE, &opt_no_sync, "synchronous=OFF: the CPU cost alone", NULL },
  { NULL }
};

/* CPU seconds of every thread of the process */
static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
         usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

/* The change patches-load.mjs sends: a timestamp inserted at the start */
static char *
change_json (int   doc,
             int   seq,
             gint64 rev,
             gint64 now)
{
  return g_strdup_printf ("{\"id\":\"bench-%d-%d\",\"baseRev\":%" G_GINT64_FORMAT ",\"rev\":%" G_GINT64_FORMAT ","
                          "\"ops\":[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"insert\":\"<%" G_GINT64_FORMAT ".%03d>\"}]}],"
                          "\"createdAt\":%" G_GINT64_FORMAT ",\"committedAt\":0}",
                          doc, seq, rev, rev + 1, now / 1000, seq % 1000, now);
}

/* Commits @changes, the i-th to document @prefix-(i mod @n_docs), @group
 * per transaction, through @cache as the server does; appends to
 * @latencies (when not NULL) what each commit waited until its
 * transaction was durable, in µs */
static void
commit_all (PatchesServerStore *store,
            PatchesServerCache *cache,
            GPtrArray          *changes,
            const char         *prefix,
            int                 n_docs,
            int                 group,
            GArray             *latencies)
{
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time () / 1000;
  guint n_done = 0;

  while (n_done < changes->len)
    {
      guint end = MIN (n_done + group, changes->len);
      gint64 t0 = g_get_monotonic_time ();

      if (!patches_server_store_begin (store, &error))
        g_error ("%s", error->message);

      for (guint i = n_done; i < end; i++)
        {
          g_autoptr(GPtrArray) one = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_change_unref);
          g_autoptr(PatchesCommit) commit = NULL;
          g_autofree char *doc_id = g_strdup_printf ("%s-%u", prefix, i % n_docs);

          g_ptr_array_add (one, patches_change_ref (g_ptr_array_index (changes, i)));
          commit = patches_commit_new (doc_id, one, NULL, "bench-client", now, NULL);

          if (!patches_server_store_begin (store, &error) ||
              !patches_commit_run (commit, patches_server_cache_get_funcs (), cache, &error) ||
              !patches_server_store_commit (store, &error))
            g_error ("commit %u: %s", i, error->message);
        }

      /* Durable here */
      if (!patches_server_store_commit (store, &error))
        g_error ("%s", error->message);

      for (guint i = n_done; latencies != NULL && i < end; i++)
        {
          gint64 latency = g_get_monotonic_time () - t0;

          g_array_append_val (latencies, latency);
        }
      n_done = end;

      /* The server runs its main loop between groups: the background
       * copy of the write-ahead log reports back through it */
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
}

/* @n changes, the i-th for document (i mod @n_docs) at its next revision */
static GPtrArray *
make_changes (int n,
              int n_docs)
{
  g_autofree gint64 *revs = g_new0 (gint64, n_docs);
  GPtrArray *changes = g_ptr_array_new_full (n, (GDestroyNotify) patches_change_unref);
  gint64 now = g_get_real_time () / 1000;

  for (int i = 0; i < n; i++)
    {
      int doc = i % n_docs;
      g_autofree char *text = change_json (doc, i, revs[doc]++, now);
      g_autoptr(GError) error = NULL;
      g_autoptr(PatchesValue) value = patches_value_parse (text, -1, &error);
      PatchesChange *change = value ? patches_change_from_value (value, &error) : NULL;

      if (change == NULL)
        g_error ("%s", error->message);
      g_ptr_array_add (changes, change);
    }

  return changes;
}

/* One document, @group commits per transaction */
static void
run_latency (PatchesServerStore *store,
             PatchesServerCache *cache,
             int                 group)
{
  g_autoptr(GPtrArray) changes = make_changes (1000, 1);
  g_autoptr(GArray) latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *prefix = g_strdup_printf ("latency-%d", group);
  g_autoptr(GError) error = NULL;
  g_autofree char *doc_id = g_strconcat (prefix, "-0", NULL);
  g_autofree char *snapshot = NULL;
  gint64 start = g_get_monotonic_time ();
  double seconds;

  commit_all (store, cache, changes, prefix, 1, group, latencies);
  seconds = (g_get_monotonic_time () - start) / 1e6;
  g_array_sort (latencies, bench_compare_gint64);
  g_print ("  %3d per transaction: %8.0f commits/s, until durable p50 %6.2f ms, p99 %6.2f ms, max %6.2f ms\n",
           group, changes->len / seconds,
           bench_percentile_ms (latencies, 0.5), bench_percentile_ms (latencies, 0.99),
           bench_percentile_ms (latencies, 1.0));

  if (group == 100)
    {
      start = g_get_monotonic_time ();
      if ((snapshot = patches_server_store_get_doc_json (store, doc_id, -1, &error)) == NULL)
        g_error ("%s", error->message);
      g_print ("  getDoc of that %u-change document: %.2f ms, %zu bytes\n",
               changes->len, (g_get_monotonic_time () - start) / 1000.0, strlen (snapshot));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- what a commit costs the server's storage");
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesServerStore) store = NULL;
  g_autoptr(PatchesServerCache) cache = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *db = NULL;
  double cpu0, wall0, parse_cpu, commit_cpu, commit_wall;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      opt_docs < 1 || opt_group < 1 || opt_commits < 1)
    {
      g_printerr ("patches-bench-store: %s\n", error ? error->message : "counts must be positive");
      return 2;
    }

  dir = g_build_filename (opt_db_dir ? opt_db_dir : g_get_tmp_dir (), "patches-bench-store-XXXXXX", NULL);
  if (g_mkdtemp (dir) == NULL)
    {
      g_printerr ("patches-bench-store: cannot create %s\n", dir);
      return 1;
    }
  db = g_build_filename (dir, "bench.db", NULL);

  if ((store = patches_server_store_open (db, &error)) == NULL)
    {
      g_printerr ("patches-bench-store: %s\n", error->message);
      bench_remove_dir (dir);
      return 1;
    }
  cache = patches_server_cache_new (store);
  if (opt_no_sync)
    sqlite3_exec (patches_server_store_get_database (store), "PRAGMA synchronous = OFF", NULL, NULL, NULL);
  g_print ("SQLite %s, WAL, synchronous=%s, database in %s\n",
           sqlite3_libversion (), opt_no_sync ? "OFF" : "FULL", dir);

  /* Parsing, on its own */
  cpu0 = cpu_seconds ();
  changes = make_changes (opt_commits, opt_docs);
  parse_cpu = cpu_seconds () - cpu0;

  /* Committing, in groups */
  cpu0 = cpu_seconds ();
  wall0 = g_get_monotonic_time () / 1e6;
  commit_all (store, cache, changes, "bench-doc", opt_docs, opt_group, NULL);
  commit_wall = g_get_monotonic_time () / 1e6 - wall0;
  commit_cpu = cpu_seconds () - cpu0;

  g_print ("%d commits, %d documents, %d per transaction:\n", opt_commits, opt_docs, opt_group);
  g_print ("  parse   %6.2f us CPU per change\n", parse_cpu / opt_commits * 1e6);
  g_print ("  commit  %6.2f us CPU per commit (%6.2f us wall), %u checkpoints\n",
           commit_cpu / opt_commits * 1e6, commit_wall / opt_commits * 1e6,
           patches_server_store_get_n_checkpoints (store));
  g_print ("1000 commits to one document:\n");
  run_latency (store, cache, 1);
  run_latency (store, cache, 10);
  run_latency (store, cache, 100);

  g_print ("{\"commits\":%d,\"docs\":%d,\"group\":%d,\"parse_cpu_us\":%.2f,\"commit_cpu_us\":%.2f,\"commit_wall_us\":%.2f}\n",
           opt_commits, opt_docs, opt_group, parse_cpu / opt_commits * 1e6,
           commit_cpu / opt_commits * 1e6, commit_wall / opt_commits * 1e6);

  g_clear_pointer (&cache, patches_server_cache_free);
  g_clear_object (&store);
  bench_remove_db (db);
  bench_remove_dir (dir);

  return 0;
}
