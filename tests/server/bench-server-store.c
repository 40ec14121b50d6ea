/* bench-server-store.c: commit latency of the SQLite history store
 *
 * Usage: bench-server-store [N] [--no-sync]
 *
 * Commits N (default 1000) single-change `@txt` edits to one document,
 * each in its own transaction, then grouped 10 and 100 per transaction,
 * with synchronous=FULL in WAL mode, and prints commits/s and the
 * latency a commit sees until it is durable (p50 / p99 / max).  With
 * --no-sync the store runs with synchronous=OFF, which shows the CPU
 * cost alone (never do that in the server).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "patches-server-store.h"
#include "patches-server-store-private.h"

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static PatchesCommit *
make_commit (const char *doc_id,
             gint64      base_rev,
             gint64      now)
{
  g_autofree char *json = NULL;
  g_autoptr(PatchesValue) value = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GError) error = NULL;

  if (base_rev == 0)
    json = g_strdup_printf ("[{\"id\":\"c1\",\"baseRev\":0,\"rev\":1,"
                            "\"ops\":[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"title\":\"Bench\","
                            "\"body\":{\"ops\":[{\"insert\":\"\\n\"}]}}}],"
                            "\"createdAt\":%" G_GINT64_FORMAT ",\"committedAt\":0}]", now);
  else
    json = g_strdup_printf ("[{\"id\":\"c%" G_GINT64_FORMAT "\",\"baseRev\":%" G_GINT64_FORMAT ","
                            "\"rev\":%" G_GINT64_FORMAT ",\"ops\":[{\"op\":\"@txt\",\"path\":\"/body\","
                            "\"value\":[{\"retain\":%" G_GINT64_FORMAT "},{\"insert\":\"x\"}]}],"
                            "\"createdAt\":%" G_GINT64_FORMAT ",\"committedAt\":0,\"userId\":\"u-17\"}]",
                            base_rev + 1, base_rev, base_rev + 1, base_rev - 1, now);

  value = patches_value_parse (json, -1, &error);
  g_assert_no_error (error);
  changes = patches_changes_from_value (value, &error);
  g_assert_no_error (error);

  return patches_commit_new (doc_id, changes, NULL, "bench", now, NULL);
}

static void
report (const char *what,
        guint       n,
        gint64      elapsed_us,
        GArray     *latencies)
{
  gint64 *l;

  g_array_sort (latencies, compare_gint64);
  l = (gint64 *) (gpointer) latencies->data;

  g_print ("%-28s %6u commits in %7.1f ms: %8.0f commits/s, latency p50 %6.2f ms, p99 %6.2f ms, max %6.2f ms\n",
           what, n, elapsed_us / 1000.0, n / (elapsed_us / 1e6),
           l[latencies->len / 2] / 1000.0,
           l[MIN (latencies->len - 1, latencies->len * 99 / 100)] / 1000.0,
           l[latencies->len - 1] / 1000.0);
}

/* Commits @n changes to @doc_id, @group per transaction */
static void
run (PatchesServerStore *store,
     const char         *doc_id,
     guint               n,
     guint               group,
     const char         *what)
{
  g_autoptr(GArray) latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  gint64 rev = 0;

  for (guint done = 0; done < n; )
    {
      gint64 t0 = g_get_monotonic_time ();
      guint k;

      if (group > 1 && !patches_server_store_begin (store, &error))
        g_error ("%s", error->message);

      for (k = 0; k < group && done < n; k++, done++)
        {
          g_autoptr(PatchesCommit) commit = make_commit (doc_id, rev, g_get_real_time () / 1000);

          if (!patches_server_store_run_commit (store, commit, &error))
            g_error ("%s", error->message);
          rev++;
        }

      if (group > 1 && !patches_server_store_commit (store, &error))
        g_error ("%s", error->message);

      /* Every commit of a group waits until the group is durable */
      for (guint j = 0; j < k; j++)
        {
          gint64 latency = g_get_monotonic_time () - t0;

          g_array_append_val (latencies, latency);
        }
    }

  report (what, n, g_get_monotonic_time () - start, latencies);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesServerStore) store = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *snapshot = NULL;
  gboolean no_sync = FALSE;
  guint n = 1000;
  gint64 t0;

  for (int i = 1; i < argc; i++)
    {
      if (g_strcmp0 (argv[i], "--no-sync") == 0)
        no_sync = TRUE;
      else if (atoi (argv[i]) > 1)
        n = (guint) atoi (argv[i]);
    }

  dir = g_dir_make_tmp ("bench-server-store-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "history.db", NULL);

  store = patches_server_store_open (path, &error);
  g_assert_no_error (error);

  if (no_sync)
    sqlite3_exec (patches_server_store_get_database (store), "PRAGMA synchronous = OFF", NULL, NULL, NULL);

  g_print ("SQLite %s, WAL, synchronous=%s, database in %s\n",
           sqlite3_libversion (), no_sync ? "OFF" : "FULL", dir);
  run (store, "single", n, 1, "1 commit per transaction");
  run (store, "group10", n, 10, "10 commits per transaction");
  run (store, "group100", n, 100, "100 commits per transaction");

  t0 = g_get_monotonic_time ();
  snapshot = patches_server_store_get_doc_json (store, "single", -1, &error);
  g_assert_no_error (error);
  g_print ("getDoc of the %u-change document: %.2f ms, %zu bytes\n",
           n, (g_get_monotonic_time () - t0) / 1000.0, strlen (snapshot));

  g_clear_object (&store);
  {
    const char *suffixes[] = { "", "-wal", "-shm" };

    for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
      {
        g_autofree char *file = g_strconcat (path, suffixes[i], NULL);

        g_unlink (file);
      }
    g_rmdir (dir);
  }

  return 0;
}
