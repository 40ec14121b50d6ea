/* patches-bench-apply.c: applying a remote edit to an open large note
 *
 * Usage: patches-bench-apply [--samples N] [--text-size BYTES]
 *                            [--pending N]
 *
 * A document {"body": @txt} holding about --text-size bytes (default
 * 1 MiB: lines of words, some bold runs, some text outside the BMP) is
 * open in a PatchesClient; the time of one patches_client_apply_committed()
 * carrying a foreign one-character insert at a random place is taken
 * --samples times (default 2,000), in four set-ups:
 *
 *  - memory store, no pending change;
 *  - memory store, --pending (default 3) local changes waiting, which
 *    every committed change rebases and the view follows by transform;
 *  - the same two with a PatchesSqliteStore in a temporary directory,
 *    which writes each change to its log and, every COMPACT_AFTER
 *    changes, a snapshot of the whole state (the slowest samples).
 *
 * It also times writing the state as a snapshot on its own
 * (patches_store_save_snapshot(), i.e. the compaction's cost).
 * Target: p99 under 1 ms of wall time.
 *
 * The SQLite store commits with synchronous=FULL: on a real disk its wall
 * time is mostly the fdatasync of each commit, so the thread's CPU time
 * is given too.  The database goes to the temporary directory ($TMPDIR;
 * TMPDIR=/dev/shm leaves the disk out).
 *
 * It prints one line per set-up, then one JSON object:
 *   {"samples": N, "text_units": U, "memory_us_p50": …, "memory_us_p99": …,
 *    "memory_us_max": …, "memory_cpu_us_p50": …, "memory_cpu_us_p99": …,
 *    then the same for memory_pending, sqlite and sqlite_pending,
 *    "snapshot_ms": S, "targets_met": true|false}
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <time.h>

#include <glib/gstdio.h>

#include "bench-common.h"
#include "patches.h"
#include "patches-client.h"
#include "patches-memory-store.h"
#include "patches-sqlite-store.h"

#define DOC_ID     "bench/apply"
#define TARGET_US  1000

static int opt_samples = 2000;
static int opt_text_size = 1 << 20;
static int opt_pending = 3;

static const GOptionEntry entries[] = {
  { "samples", 'n', 0, G_OPTION_ARG_INT, &opt_samples, "Committed changes applied per set-up (default 2000)", "N" },
  { "text-size", 't', 0, G_OPTION_ARG_INT, &opt_text_size, "Bytes of the note (default 1048576)", "BYTES" },
  { "pending", 'p', 0, G_OPTION_ARG_INT, &opt_pending, "Local changes waiting in the pending set-ups (default 3)", "N" },
  G_OPTION_ENTRY_NULL
};

/* A sample this long drops a frame at 60 Hz */
#define STALL_US 5000

typedef struct {
  gint64 p50;
  gint64 p99;
  gint64 max;
  guint  n_stalls;   /* samples over STALL_US */
} Figures;

/* µs of CPU time this thread used so far */
static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static Figures
figures (GArray *samples)
{
  Figures f;

  g_array_sort (samples, bench_compare_gint64);
  f.p50 = g_array_index (samples, gint64, samples->len / 2);
  f.p99 = g_array_index (samples, gint64, MIN (samples->len - 1, samples->len * 99 / 100));
  f.max = g_array_index (samples, gint64, samples->len - 1);
  f.n_stalls = 0;
  for (guint i = samples->len; i > 0 && g_array_index (samples, gint64, i - 1) > STALL_US; i--)
    f.n_stalls++;
  return f;
}

static PatchesChange *
make_change (const char *id,
             gint64      rev,
             const char *ops_json)
{
  g_autofree char *json = g_strdup_printf ("{\"id\":\"%s\",\"ops\":%s,\"rev\":%" G_GINT64_FORMAT ","
                                           "\"baseRev\":%" G_GINT64_FORMAT ",\"createdAt\":1,\"committedAt\":2}",
                                           id, ops_json, rev, rev - 1);
  g_autoptr(PatchesValue) value = patches_value_parse (json, -1, NULL);

  g_assert (value != NULL);
  return patches_change_from_value (value, NULL);
}

static void
apply_one (PatchesClient *client,
           PatchesChange *change)
{
  g_autoptr(GPtrArray) changes = patches_changes_new ();
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (changes, change);
  if (!patches_client_apply_committed (client, DOC_ID, changes, &error))
    g_error ("apply_committed: %s", error->message);
}

static PatchesText *
body_text (PatchesValue *state)
{
  return patches_value_get_text (patches_value_object_get (state, "body"));
}

/* A random place in @text, never inside a surrogate pair. */
static gint64
random_place (GRand       *rand,
              PatchesText *text)
{
  gint64 n_chars = patches_text_get_n_chars (text);

  return patches_text_utf16_offset_from_char_offset (text, g_rand_int_range (rand, 0, n_chars - 1));
}

/* One set-up: the note committed at rev 2 in @store, open, @n_pending
 * local changes waiting, then the samples. */
static void
run (PatchesStore *store,
     PatchesValue *body,
     int           n_pending,
     guint32       seed,
     GArray       *samples,
     GArray       *cpu_samples,
     double       *snapshot_ms)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(PatchesClient) client = patches_client_new (store);
  g_autoptr(PatchesDoc) doc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ops_json = NULL;
  gint64 rev;

  doc = patches_client_open_doc (client, DOC_ID, &error);
  g_assert_no_error (error);

  ops_json = bench_replace_ops_json ("/body", body);
  apply_one (client, make_change ("remote-0", 1, ops_json));
  /* A first @txt edit makes the stored value a text value, as the first
   * keystroke of a session would. */
  apply_one (client, make_change ("remote-1", 2,
                                  "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"insert\":\"#\"}]}]"));

  for (int i = 0; i < n_pending; i++)
    {
      g_autoptr(PatchesPatch) patch = patches_patch_new ();
      g_autoptr(PatchesChange) change = NULL;
      PatchesDelta *delta = patches_delta_new ();

      patches_delta_retain (delta, random_place (rand, body_text (patches_doc_get_state (doc))), NULL);
      patches_delta_insert_utf8 (delta, "k", NULL);
      patches_patch_text (patch, "/body", delta);
      change = patches_doc_change (doc, patch, &error);
      g_assert_no_error (error);
    }
  g_assert_cmpint (patches_doc_get_n_pending (doc), ==, n_pending);

  rev = patches_doc_get_committed_rev (doc);
  for (int i = 0; i < opt_samples; i++)
    {
      g_autofree char *id = g_strdup_printf ("remote-%d", i + 2);
      g_autofree char *json = NULL;
      g_autoptr(GPtrArray) changes = patches_changes_new ();
      gint64 at = random_place (rand, body_text (patches_doc_get_committed_state (doc)));
      gint64 start, cpu_start, elapsed;

      json = g_strdup_printf ("[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":"
                              "[{\"retain\":%" G_GINT64_FORMAT "},{\"insert\":\"x\"}]}]", at);
      g_ptr_array_add (changes, make_change (id, ++rev, json));

      cpu_start = thread_cpu_us ();
      start = g_get_monotonic_time ();
      if (!patches_client_apply_committed (client, DOC_ID, changes, &error))
        g_error ("apply_committed: %s", error->message);
      elapsed = g_get_monotonic_time () - start;
      g_array_append_val (samples, elapsed);
      elapsed = thread_cpu_us () - cpu_start;
      g_array_append_val (cpu_samples, elapsed);
    }

  g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, rev);
  g_assert_cmpint (patches_doc_get_n_pending (doc), ==, n_pending);

  if (snapshot_ms != NULL)
    {
      gint64 start = g_get_monotonic_time ();

      if (!patches_store_save_snapshot (store, DOC_ID, patches_doc_get_committed_state (doc),
                                        rev, patches_doc_get_pending (doc), &error))
        g_error ("save_snapshot: %s", error->message);
      *snapshot_ms = (g_get_monotonic_time () - start) / 1000.0;
    }
}

static void
print_figures (const char    *what,
               const Figures *f,
               const Figures *cpu)
{
  g_print ("%-36s p50 %6" G_GINT64_FORMAT " us   p99 %6" G_GINT64_FORMAT " us   max %7" G_GINT64_FORMAT " us"
           "   over %d ms: %u   (CPU p50 %5" G_GINT64_FORMAT " us, p99 %6" G_GINT64_FORMAT " us, max %7" G_GINT64_FORMAT " us)\n",
           what, f->p50, f->p99, f->max, STALL_US / 1000, f->n_stalls, cpu->p50, cpu->p99, cpu->max);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- apply committed changes to a large open note");
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  g_autoptr(PatchesValue) body = NULL;
  g_autofree char *dir = NULL;
  static const char * const names[] = { "memory", "memory_pending", "sqlite", "sqlite_pending" };
  static const char * const labels[] = {
    "memory store", "memory store, local changes pending",
    "SQLite store", "SQLite store, local changes pending",
  };
  Figures results[4];
  Figures cpu_results[4];
  double snapshot_ms = 0;
  gint64 text_units;
  gboolean met = TRUE;
  g_autoptr(GString) json = g_string_new (NULL);

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (opt_samples < 1 || opt_text_size < 16 || opt_pending < 1)
    {
      g_printerr ("--samples, --text-size and --pending must be positive\n");
      return 2;
    }

  body = bench_rich_text_new (rand, opt_text_size);
  dir = g_dir_make_tmp ("patches-bench-apply-XXXXXX", &error);
  if (dir == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  {
    g_autoptr(PatchesDelta) delta = patches_delta_from_value (body, NULL);

    text_units = patches_delta_length (delta);
  }
  g_print ("note: %" G_GINT64_FORMAT " UTF-16 units, %d samples per set-up\n", text_units, opt_samples);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GArray) samples = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_autoptr(GArray) cpu_samples = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_autoptr(PatchesStore) store = NULL;
      g_autofree char *path = NULL;
      gboolean sqlite = i >= 2;
      int n_pending = i % 2 == 1 ? opt_pending : 0;

      if (sqlite)
        {
          path = g_build_filename (dir, i == 2 ? "plain.db" : "pending.db", NULL);
          store = PATCHES_STORE (patches_sqlite_store_new (path, &error));
          if (store == NULL)
            {
              g_printerr ("%s\n", error->message);
              return 1;
            }
        }
      else
        store = PATCHES_STORE (patches_memory_store_new ());

      run (store, body, n_pending, 1000 + i, samples, cpu_samples, i == 2 ? &snapshot_ms : NULL);
      results[i] = figures (samples);
      cpu_results[i] = figures (cpu_samples);
      print_figures (labels[i], &results[i], &cpu_results[i]);
      met = met && results[i].p99 < TARGET_US;

      if (sqlite)
        {
          g_autofree char *wal = g_strconcat (path, "-wal", NULL);
          g_autofree char *shm = g_strconcat (path, "-shm", NULL);

          patches_sqlite_store_close (PATCHES_SQLITE_STORE (store));
          g_unlink (path);
          g_unlink (wal);
          g_unlink (shm);
        }
    }
  g_rmdir (dir);

  g_print ("writing the state as a snapshot (compaction): %.1f ms\n", snapshot_ms);

  g_string_append_printf (json, "{\"samples\": %d, \"text_units\": %" G_GINT64_FORMAT, opt_samples, text_units);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_string_append_printf (json, ", \"%s_us_p50\": %" G_GINT64_FORMAT ", \"%s_us_p99\": %" G_GINT64_FORMAT
                            ", \"%s_us_max\": %" G_GINT64_FORMAT ", \"%s_cpu_us_p50\": %" G_GINT64_FORMAT
                            ", \"%s_cpu_us_p99\": %" G_GINT64_FORMAT ", \"%s_stalls\": %u",
                            names[i], results[i].p50, names[i], results[i].p99, names[i], results[i].max,
                            names[i], cpu_results[i].p50, names[i], cpu_results[i].p99,
                            names[i], results[i].n_stalls);
  g_string_append_printf (json, ", \"snapshot_ms\": %.1f, \"targets_met\": %s}", snapshot_ms, met ? "true" : "false");
  g_print ("%s\n", json->str);

  return 0;
}
