/* bench-notes-app.c: the Patches Notes app as a process (issue 5 §5)
 *
 * Two measurements of the built `patches-notes` (PATCHES_NOTES), each
 * against a real patches-server (PATCHES_SERVER) holding a notebook
 * `notebook/bench` of realistic notes (1,000 by default, 1–2 KB of rich
 * text each, seeded over one connection first):
 *
 * --startup: the time from spawning the process to the first frame of its
 *   main window (target: under 400 ms), as the app reports it with
 *   NOTES_REPORT_FIRST_FRAME=1 (notes-application.c), and to the first
 *   frame that lists the notebook's notes; 20 launches each on a fresh
 *   profile and on a profile that holds every note.
 *
 * --memory: the app on a fresh profile until NOTES_REPORT_READY says the
 *   notebook and all its notes are synced (that time is printed too); its
 *   resident memory (VmRSS, target: under 100 MB with 1,000 notes) is read
 *   from /proc then and after a few quiet seconds, once more after a
 *   restart on the now full profile, and for comparison with an empty
 *   notebook.
 *
 * Both run with each renderer of --renderers: by default GTK's choice
 * (GL, under Xvfb Mesa's software rasterizer) and cairo (what the UI
 * tests use).  Each run gets its own XDG directories, settings in memory
 * and a private session bus when dbus-daemon is installed (a desktop has
 * one).  Without a display the benchmark runs itself again under
 * xvfb-run.  The figures go to stdout, the last line being one JSON
 * object.  NOTES_BENCH_KEEP=1 keeps the profiles; NOTES_BENCH_SETTLE_MS
 * sets the quiet time (3 s).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
# include <sys/prctl.h>
#endif

#include <glib/gstdio.h>
#include <gio/gio.h>

#include "patches-connection.h"
#include "patches-fractional.h"
#include "patches-patch.h"

#include "patches-test-server.h"

#define NOTEBOOK_ID "notebook/bench"
#define DEFAULT_RUNS 20
#define DEFAULT_NOTES 1000
#define COMMITS_IN_FLIGHT 32
#define RUN_TIMEOUT_MS 60000
#define SETTLE_MS 3000
#define REEXEC_ENV "NOTES_BENCH_UNDER_XVFB"

static const char *words[] = {
  "project", "meeting", "budget", "review", "garden", "recipe", "travel",
  "shopping", "ideas", "reading", "client", "invoice", "design", "draft",
  "release", "team", "weekly", "plan", "notes", "follow", "up", "call",
  "email", "summary", "question", "answer", "decision", "deadline", "monday",
  "friday", "spring", "autumn", "kitchen", "bicycle", "library", "concert",
  "museum", "the", "a", "and", "with", "for", "about", "before", "after",
  "every", "new", "old", "small", "large", "quick", "careful", "open",
  "closed", "shared", "private", "backup", "server", "laptop", "phone",
  "tickets", "hotel", "train", "flight", "coffee", "tea", "bread", "apples",
};

/* The GSK renderer of the app runs (GSK_RENDERER), or NULL for GTK's
 * choice */
static const char *renderer;

/* XDG_CACHE_HOME of every run: a profile of Patches Notes lives in
 * XDG_DATA_HOME, while caches like Mesa's compiled shaders are shared by
 * the programs of a desktop and warm after the first */
static char *shared_cache;

/* --verbose: every run's figures */
static gboolean verbose;

/* Helpers */

/* Children do not outlive the benchmark, even when it fails */
static void
child_setup (gpointer user_data)
{
#ifdef __linux__
  prctl (PR_SET_PDEATHSIG, SIGKILL);
#endif
}

static double
percentile (GArray *sorted,
            double  fraction)
{
  guint rank;

  if (sorted->len == 0)
    return 0;

  /* Nearest rank */
  rank = (guint) (fraction * sorted->len + 0.999999);
  rank = CLAMP (rank, 1, sorted->len);
  return g_array_index (sorted, double, rank - 1);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
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
got_result (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

static GAsyncResult *
await_result (GAsyncResult **slot)
{
  PATCHES_TEST_WAIT_UNTIL (*slot != NULL);
  return *slot;
}

/* Seeding the server */

static char *
random_words (GRand *rand,
              guint  n,
              gboolean capital)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
    }
  if (capital && out->len > 0)
    out->str[0] = g_ascii_toupper (out->str[0]);

  return g_string_free (out, FALSE);
}

static void
delta_insert (PatchesValue *ops,
              const char   *text,
              const char   *attribute,
              PatchesValue *attribute_value)
{
  PatchesValue *op = patches_value_new_object ();

  patches_value_object_set (op, "insert", patches_value_new_string (text));
  if (attribute != NULL)
    {
      PatchesValue *attributes = patches_value_new_object ();

      patches_value_object_set (attributes, attribute, attribute_value);
      patches_value_object_set (op, "attributes", attributes);
    }
  patches_value_array_append (ops, op);
}

/* A rich-text body of @target_chars characters or a little more: a
 * heading, paragraphs with bold and italic runs, a bulleted list */
static PatchesValue *
random_body (GRand *rand,
             guint  target_chars)
{
  PatchesValue *body = patches_value_new_object ();
  PatchesValue *ops = patches_value_new_array ();
  g_autofree char *heading = random_words (rand, 4, TRUE);
  guint length;

  delta_insert (ops, heading, NULL, NULL);
  delta_insert (ops, "\n", "header", patches_value_new_number (2));
  length = strlen (heading) + 1;

  while (length < target_chars)
    {
      if (g_rand_int_range (rand, 0, 4) == 0)
        {
          for (guint i = 0, n = g_rand_int_range (rand, 2, 5); i < n; i++)
            {
              g_autofree char *item = random_words (rand, g_rand_int_range (rand, 3, 8), TRUE);

              delta_insert (ops, item, NULL, NULL);
              delta_insert (ops, "\n", "list", patches_value_new_string ("bullet"));
              length += strlen (item) + 1;
            }
        }
      else
        {
          g_autofree char *start = random_words (rand, g_rand_int_range (rand, 8, 20), TRUE);
          g_autofree char *marked = random_words (rand, g_rand_int_range (rand, 1, 4), FALSE);
          g_autofree char *end = random_words (rand, g_rand_int_range (rand, 8, 30), FALSE);
          g_autofree char *tail = g_strconcat (" ", end, ".\n", NULL);

          delta_insert (ops, start, NULL, NULL);
          delta_insert (ops, " ", NULL, NULL);
          delta_insert (ops, marked, g_rand_boolean (rand) ? "bold" : "italic",
                        patches_value_new_bool (TRUE));
          delta_insert (ops, tail, NULL, NULL);
          length += strlen (start) + 1 + strlen (marked) + strlen (tail);
        }
    }

  patches_value_object_set (body, "ops", ops);
  return body;
}

static PatchesChange *
change_from_patch (PatchesPatch *patch,
                   gint64        now_ms)
{
  g_autofree char *change_id = patches_change_id_new ();

  return patches_change_new (change_id, 0, 1,
                             g_ptr_array_ref (patches_patch_get_ops (patch)),
                             (double) now_ms);
}

typedef struct
{
  PatchesConnection *conn;
  guint              in_flight;
  guint              done;
  GError            *error;
} Seeder;

static void
seed_commit_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Seeder *seeder = user_data;
  g_autoptr(PatchesCommitResult) commit = NULL;
  g_autoptr(GError) error = NULL;

  commit = patches_connection_commit_changes_finish (PATCHES_CONNECTION (source), result, &error);
  if (commit == NULL && seeder->error == NULL)
    seeder->error = g_steal_pointer (&error);

  seeder->in_flight--;
  seeder->done++;
}

static void
seed_commit (Seeder        *seeder,
             const char    *doc_id,
             PatchesChange *change)
{
  g_autoptr(GPtrArray) changes = patches_changes_new ();

  g_ptr_array_add (changes, patches_change_ref (change));
  seeder->in_flight++;
  patches_connection_commit_changes_async (seeder->conn, doc_id, changes, NULL, NULL,
                                           seed_commit_cb, seeder);
}

/* Commits @n_notes note documents and a notebook listing them; returns
 * the total size of the notes' bodies in bytes of JSON */
static gsize
seed_notebook (const char *url,
               guint       n_notes)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240501);
  g_autoptr(GAsyncResult) opened = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesPatch) notebook_patch = patches_patch_new ();
  g_autoptr(PatchesChange) notebook_change = NULL;
  g_autofree char *order = NULL;
  PatchesValue *notes = patches_value_new_object ();
  Seeder seeder = { 0 };
  gint64 now = g_get_real_time () / 1000;
  gsize body_bytes = 0;

  seeder.conn = patches_connection_new (url);
  patches_connection_open_async (seeder.conn, NULL, got_result, &opened);
  if (!patches_connection_open_finish (seeder.conn, await_result (&opened), &error))
    g_error ("Could not connect to %s: %s", url, error->message);

  for (guint i = 0; i < n_notes; i++)
    {
      g_autofree char *note_id = patches_change_id_new ();
      g_autofree char *doc_id = g_strconcat ("note/", note_id, NULL);
      g_autofree char *next_order = patches_fractional_key_between (order, NULL, &error);
      g_autofree char *title = random_words (rand, g_rand_int_range (rand, 2, 6), TRUE);
      g_autoptr(PatchesPatch) patch = patches_patch_new ();
      g_autoptr(PatchesChange) change = NULL;
      PatchesValue *tags = patches_value_new_array ();
      PatchesValue *body = random_body (rand, g_rand_int_range (rand, 1000, 2000));
      PatchesValue *entry = patches_value_new_object ();
      gint64 created_at = now - (gint64) (n_notes - i) * 60000;

      g_assert_no_error (error);
      body_bytes += patches_value_json_size (body);
      for (guint t = 0, n = g_rand_int_range (rand, 0, 3); t < n; t++)
        patches_value_array_append (tags, patches_value_new_string (words[g_rand_int_range (rand, 0, 20)]));

      patches_patch_add (patch, "/title", patches_value_new_string (title), FALSE);
      patches_patch_add (patch, "/body", body, FALSE);
      patches_patch_add (patch, "/tags", tags, FALSE);
      patches_patch_add (patch, "/pinned", patches_value_new_bool (i % 97 == 0), FALSE);
      patches_patch_add (patch, "/updatedAt",
                         patches_value_new_number ((double) (created_at + g_rand_int_range (rand, 0, 60000))),
                         FALSE);
      change = change_from_patch (patch, created_at);

      while (seeder.in_flight >= COMMITS_IN_FLIGHT)
        g_main_context_iteration (NULL, TRUE);
      if (seeder.error != NULL)
        g_error ("Seeding failed: %s", seeder.error->message);
      seed_commit (&seeder, doc_id, change);

      patches_value_object_set (entry, "order", patches_value_new_string (next_order));
      patches_value_object_set (entry, "createdAt", patches_value_new_number ((double) created_at));
      patches_value_object_set (notes, note_id, entry);

      g_free (order);
      order = g_steal_pointer (&next_order);
    }

  patches_patch_add (notebook_patch, "/title", patches_value_new_string ("Benchmark"), FALSE);
  patches_patch_add (notebook_patch, "/notes", notes, FALSE);
  notebook_change = change_from_patch (notebook_patch, now);
  seed_commit (&seeder, NOTEBOOK_ID, notebook_change);

  PATCHES_TEST_WAIT_FOR (seeder.in_flight == 0, RUN_TIMEOUT_MS);
  if (seeder.in_flight > 0)
    g_error ("Seeding timed out");
  if (seeder.error != NULL)
    g_error ("Seeding failed: %s", seeder.error->message);

  patches_connection_close (seeder.conn);
  g_object_unref (seeder.conn);

  return body_bytes;
}

/* A private session bus */

typedef struct
{
  GSubprocess *process;
  char        *address;
} Bus;

static void
read_first_line_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  char **line = user_data;

  *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL, NULL);
  if (*line == NULL)
    *line = g_strdup ("");
}

static void
bus_start (Bus *bus)
{
  g_autofree char *daemon = g_find_program_in_path ("dbus-daemon");
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;

  /* An address nobody listens on: the app runs without a bus */
  bus->address = g_strdup_printf ("unix:path=%s/bench-notes-no-bus-%d", g_get_tmp_dir (), (int) getpid ());
  if (daemon == NULL)
    return;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  bus->process = g_subprocess_launcher_spawn (launcher, &error,
                                              daemon, "--session", "--nofork", "--print-address=1", NULL);
  if (bus->process == NULL)
    {
      g_printerr ("No private session bus: %s\n", error->message);
      return;
    }

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bus->process));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (out), FALSE);
  g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, NULL, read_first_line_cb, &line);
  PATCHES_TEST_WAIT_FOR (line != NULL, 10000);

  if (line != NULL && line[0] != '\0')
    {
      g_free (bus->address);
      bus->address = g_strstrip (g_steal_pointer (&line));
    }
  else
    {
      g_printerr ("dbus-daemon gave no address; running without a bus\n");
      g_subprocess_force_exit (bus->process);
      g_clear_object (&bus->process);
    }
}

static void
bus_stop (Bus *bus)
{
  if (bus->process != NULL)
    {
      g_subprocess_send_signal (bus->process, SIGTERM);
      g_subprocess_wait (bus->process, NULL, NULL);
    }
  g_clear_object (&bus->process);
  g_clear_pointer (&bus->address, g_free);
}

/* One run of the app */

typedef struct
{
  GSubprocess      *process;
  GDataInputStream *out;
  GCancellable     *cancellable;
  char             *pid;
  gint64            spawned_us;
  gint64            first_frame_us;  /* 0 until reported */
  double            first_frame_since_start_ms;
  gint64            listed_us;       /* 0 until reported */
  guint             listed_items;
  gint64            ready_us;        /* 0 until reported */
  guint             ready_items;
  gboolean          eof;
  gboolean          exited;
  int               exit_status;
} AppRun;

static gint64
line_number (const char *line,
             const char *key)
{
  const char *at = strstr (line, key);

  return at != NULL ? g_ascii_strtoll (at + strlen (key), NULL, 10) : 0;
}

static void app_run_read_line (AppRun *run);

static void
app_run_line_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  AppRun *run = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, NULL, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (line == NULL)
    {
      run->eof = TRUE;
      return;
    }

  if (g_str_has_prefix (line, "notes-first-frame "))
    {
      const char *since = strstr (line, "since-start-ms=");

      run->first_frame_us = line_number (line, "monotonic-us=");
      if (since != NULL)
        run->first_frame_since_start_ms = g_ascii_strtod (since + strlen ("since-start-ms="), NULL);
    }
  else if (g_str_has_prefix (line, "notes-listed "))
    {
      run->listed_items = (guint) line_number (line, "items=");
      run->listed_us = line_number (line, "monotonic-us=");
    }
  else if (g_str_has_prefix (line, "notes-ready "))
    {
      run->ready_items = (guint) line_number (line, "items=");
      run->ready_us = line_number (line, "monotonic-us=");
    }

  app_run_read_line (run);
}

static void
app_run_read_line (AppRun *run)
{
  g_data_input_stream_read_line_async (run->out, G_PRIORITY_DEFAULT, run->cancellable,
                                       app_run_line_cb, run);
}

static void
app_run_wait_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  AppRun *run = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  run->exit_status = g_subprocess_get_if_exited (G_SUBPROCESS (source))
                     ? g_subprocess_get_exit_status (G_SUBPROCESS (source))
                     : 128 + g_subprocess_get_term_sig (G_SUBPROCESS (source));
  run->exited = TRUE;
}

/* Starts patches-notes on @profile_dir's XDG directories, syncing
 * @notebook_id with @server_url; @report is the list of NOTES_*
 * variables to set to 1 */
static AppRun *
app_run_start_on (const char         *profile_dir,
                  const char         *server_url,
                  const char         *bus_address,
                  const char         *notebook_id,
                  const char * const *report)
{
  static const char * const xdg_vars[] = {
    "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR",
  };
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GError) error = NULL;
  const char *binary = g_getenv ("PATCHES_NOTES");
  const char *argv[] = { binary, "--server", server_url, "--notebook", notebook_id, NULL };
  AppRun *run = g_new0 (AppRun, 1);

  if (binary == NULL)
    g_error ("PATCHES_NOTES is not set: run the benchmark through meson");

  for (guint i = 0; i < G_N_ELEMENTS (xdg_vars); i++)
    {
      g_autofree char *dir = g_build_filename (profile_dir, xdg_vars[i] + strlen ("XDG_"), NULL);

      if (shared_cache != NULL && g_str_equal (xdg_vars[i], "XDG_CACHE_HOME"))
        {
          g_free (dir);
          dir = g_strdup (shared_cache);
        }
      g_mkdir_with_parents (dir, 0700);
      g_subprocess_launcher_setenv (launcher, xdg_vars[i], dir, TRUE);
    }
  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", bus_address, TRUE);
  g_subprocess_launcher_setenv (launcher, "GSETTINGS_BACKEND", "memory", TRUE);
  g_subprocess_launcher_setenv (launcher, "NO_AT_BRIDGE", "1", TRUE);
  if (renderer != NULL)
    g_subprocess_launcher_setenv (launcher, "GSK_RENDERER", renderer, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "GSK_RENDERER");
  g_subprocess_launcher_unsetenv (launcher, "NOTES_REPORT_FIRST_FRAME");
  g_subprocess_launcher_unsetenv (launcher, "NOTES_EXIT_AFTER_FIRST_FRAME");
  g_subprocess_launcher_unsetenv (launcher, "NOTES_EXIT_AFTER_LISTED");
  g_subprocess_launcher_unsetenv (launcher, "NOTES_REPORT_READY");
  g_subprocess_launcher_unsetenv (launcher, "NOTES_EXIT_AFTER_READY");
  for (guint i = 0; report[i] != NULL; i++)
    g_subprocess_launcher_setenv (launcher, report[i], "1", TRUE);
  g_subprocess_launcher_set_cwd (launcher, profile_dir);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);

  run->cancellable = g_cancellable_new ();
  run->spawned_us = g_get_monotonic_time ();
  run->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  if (run->process == NULL)
    g_error ("Could not start %s: %s", binary, error->message);

  run->pid = g_strdup (g_subprocess_get_identifier (run->process));
  run->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (run->process));
  g_subprocess_wait_async (run->process, NULL, app_run_wait_cb, run);
  app_run_read_line (run);

  return run;
}

static AppRun *
app_run_start (const char         *profile_dir,
               const char         *server_url,
               const char         *bus_address,
               const char * const *report)
{
  return app_run_start_on (profile_dir, server_url, bus_address, NOTEBOOK_ID, report);
}

/* Waits until the process ended and its output was read */
static void
app_run_finish (AppRun *run)
{
  if (!PATCHES_TEST_WAIT_FOR (run->exited && run->eof, RUN_TIMEOUT_MS))
    {
      g_printerr ("patches-notes (pid %s) did not quit; killing it\n", run->pid);
      g_subprocess_force_exit (run->process);
      PATCHES_TEST_WAIT_FOR (run->exited, RUN_TIMEOUT_MS);
    }
  if (run->exit_status != 0)
    g_printerr ("patches-notes (pid %s) exited with status %d\n", run->pid, run->exit_status);
}

static void
app_run_free (AppRun *run)
{
  g_cancellable_cancel (run->cancellable);
  /* The cancelled read reports back from the main loop */
  g_main_context_iteration (NULL, FALSE);
  g_clear_object (&run->out);
  g_clear_object (&run->process);
  g_clear_object (&run->cancellable);
  g_free (run->pid);
  g_free (run);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AppRun, app_run_free)

typedef struct
{
  guint64 rss_kb;
  guint64 hwm_kb;
  guint64 anon_kb;
  guint64 file_kb;
} Memory;

static gboolean
read_memory (const char *pid,
             Memory     *memory)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", pid);
  g_autofree char *status = NULL;
  g_auto(GStrv) lines = NULL;

  memset (memory, 0, sizeof *memory);
  if (!g_file_get_contents (path, &status, NULL, NULL))
    return FALSE;

  lines = g_strsplit (status, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      static const struct {
        const char *key;
        gsize       offset;
      } fields[] = {
        { "VmRSS:", G_STRUCT_OFFSET (Memory, rss_kb) },
        { "VmHWM:", G_STRUCT_OFFSET (Memory, hwm_kb) },
        { "RssAnon:", G_STRUCT_OFFSET (Memory, anon_kb) },
        { "RssFile:", G_STRUCT_OFFSET (Memory, file_kb) },
      };

      for (guint f = 0; f < G_N_ELEMENTS (fields); f++)
        {
          if (g_str_has_prefix (lines[i], fields[f].key))
            G_STRUCT_MEMBER (guint64, memory, fields[f].offset) =
              g_ascii_strtoull (lines[i] + strlen (fields[f].key), NULL, 10);
        }
    }

  return memory->rss_kb > 0;
}

/* How long the app is left alone before its memory is read again
 * (NOTES_BENCH_SETTLE_MS, 3 s by default) */
static guint
settle_ms (void)
{
  const char *value = g_getenv ("NOTES_BENCH_SETTLE_MS");

  return value != NULL ? (guint) g_ascii_strtoull (value, NULL, 10) : SETTLE_MS;
}

static void
print_memory (const char   *label,
              const Memory *memory)
{
  g_print ("    %-28s VmRSS %6.1f MB (anon %5.1f MB, file %5.1f MB), peak VmHWM %6.1f MB\n",
           label, memory->rss_kb / 1024.0, memory->anon_kb / 1024.0,
           memory->file_kb / 1024.0, memory->hwm_kb / 1024.0);
}

/* --startup */

typedef struct
{
  double p50;
  double p90;
  double max;
} Stats;

static Stats
stats_of (GArray *values)
{
  Stats stats;

  g_array_sort (values, compare_doubles);
  stats.p50 = percentile (values, 0.5);
  stats.p90 = percentile (values, 0.9);
  stats.max = percentile (values, 1.0);

  return stats;
}

/* @runs launches that quit once their list is shown; a fresh profile
 * each time unless @profile_dir is given.  Returns the first frame's
 * figures, and the listed frame's in @listed */
static Stats
measure_startup (const char *label,
                 const char *root,
                 const char *profile_dir,
                 const char *server_url,
                 const char *bus_address,
                 guint       runs,
                 Stats      *listed)
{
  static const char * const report[] = { "NOTES_REPORT_FIRST_FRAME", "NOTES_EXIT_AFTER_LISTED", NULL };
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) listed_times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) since_start = g_array_new (FALSE, FALSE, sizeof (double));
  guint listed_items = 0;
  Stats stats;

  for (guint i = 0; i < runs; i++)
    {
      g_autofree char *fresh = profile_dir ? NULL : g_strdup_printf ("%s/cold-%u", root, i);
      g_autoptr(AppRun) run = app_run_start (profile_dir ? profile_dir : fresh,
                                             server_url, bus_address, report);
      double ms;

      app_run_finish (run);
      if (run->first_frame_us == 0 || run->listed_us == 0)
        g_error ("%s run %u: the app reported no first frame or no list", label, i + 1);

      ms = (run->first_frame_us - run->spawned_us) / 1000.0;
      g_array_append_val (times, ms);
      ms = (run->listed_us - run->spawned_us) / 1000.0;
      g_array_append_val (listed_times, ms);
      if (verbose)
        g_print ("    run %2u: first frame %6.1f ms, %u notes listed %6.1f ms\n", i + 1,
                 (run->first_frame_us - run->spawned_us) / 1000.0, run->listed_items, ms);
      g_array_append_val (since_start, run->first_frame_since_start_ms);
      listed_items = run->listed_items;
    }

  stats = stats_of (times);
  *listed = stats_of (listed_times);

  g_print ("  %s\n"
           "    first frame:               p50 %6.1f ms   p90 %6.1f ms   max %6.1f ms"
           "   (app's own /proc clock: p50 %.0f ms)\n"
           "    frame listing %4u notes:   p50 %6.1f ms   p90 %6.1f ms   max %6.1f ms\n",
           label, stats.p50, stats.p90, stats.max, stats_of (since_start).p50,
           listed_items, listed->p50, listed->p90, listed->max);

  return stats;
}

/* Runs the app on @profile_dir until every note is synced; returns the
 * run, still going (report and quit with SIGTERM) */
static AppRun *
run_until_ready (const char *profile_dir,
                 const char *server_url,
                 const char *bus_address)
{
  static const char * const report[] = { "NOTES_REPORT_FIRST_FRAME", "NOTES_REPORT_READY", NULL };
  AppRun *run = app_run_start (profile_dir, server_url, bus_address, report);

  if (!PATCHES_TEST_WAIT_FOR (run->ready_us != 0 || run->exited, 10 * RUN_TIMEOUT_MS) ||
      run->ready_us == 0)
    g_error ("patches-notes never reported all notes synced");

  return run;
}

static void
stop_run (AppRun *run)
{
  g_subprocess_send_signal (run->process, SIGTERM);
  app_run_finish (run);
}

/* Both figures on one profile kind, for the JSON report */
static void
append_stats (GString     *json,
              const char  *key,
              const Stats *stats)
{
  g_string_append_printf (json, "\"%s\": {\"p50\": %.1f, \"p90\": %.1f, \"max\": %.1f}",
                          key, stats->p50, stats->p90, stats->max);
}

static int
bench_startup (const char         *root,
               const char         *server_url,
               const char         *bus_address,
               guint               n_notes,
               guint               runs,
               const char * const *renderers)
{
  g_autofree char *warm = g_build_filename (root, "warm", NULL);
  g_autoptr(GString) json = g_string_new (NULL);
  g_autoptr(AppRun) prepare = NULL;

  g_print ("Start to first frame of the main window, %u runs each (target: under 400 ms)\n", runs);
  g_string_append_printf (json, "{\"runs\": %u, \"notes\": %u", runs, n_notes);

  /* A first launch that nobody measures: the page cache holds the
   * libraries afterwards, as on a desktop where GTK apps run */
  {
    g_autofree char *dir = g_build_filename (root, "page-cache", NULL);
    static const char * const report[] = { "NOTES_REPORT_FIRST_FRAME", "NOTES_EXIT_AFTER_FIRST_FRAME", NULL };
    g_autoptr(AppRun) run = app_run_start (dir, server_url, bus_address, report);

    app_run_finish (run);
  }

  /* A profile that holds every note */
  prepare = run_until_ready (warm, server_url, bus_address);
  stop_run (prepare);
  g_print ("(a profile synced all %u notes in %.0f ms)\n", prepare->ready_items,
           (prepare->ready_us - prepare->spawned_us) / 1000.0);

  for (guint r = 0; renderers[r] != NULL; r++)
    {
      g_autofree char *fresh_label = NULL;
      g_autofree char *full_label = NULL;
      Stats cold, cold_listed, full, full_listed;

      renderer = g_str_equal (renderers[r], "default") ? NULL : renderers[r];
      fresh_label = g_strdup_printf ("GSK_RENDERER=%s, fresh profile (nothing synced yet):", renderers[r]);
      full_label = g_strdup_printf ("GSK_RENDERER=%s, profile holding the %u notes:", renderers[r], n_notes);

      cold = measure_startup (fresh_label, root, NULL, server_url, bus_address, runs, &cold_listed);
      full = measure_startup (full_label, root, warm, server_url, bus_address, runs, &full_listed);

      g_string_append_printf (json, ", \"%s\": {", renderers[r]);
      append_stats (json, "fresh_profile_ms", &cold);
      g_string_append (json, ", ");
      append_stats (json, "full_profile_ms", &full);
      g_string_append (json, ", ");
      append_stats (json, "full_profile_listed_ms", &full_listed);
      g_string_append (json, "}");
    }
  renderer = NULL;

  g_print ("%s}\n", json->str);

  return 0;
}

/* --memory */

/* One renderer's figures, appended to @json */
static void
measure_memory (const char *root,
                const char *label,
                const char *server_url,
                const char *bus_address,
                GString    *json)
{
  g_autofree char *profile = g_build_filename (root, label, "memory", NULL);
  g_autofree char *store = NULL;
  g_autoptr(AppRun) first = NULL;
  g_autoptr(AppRun) again = NULL;
  g_autoptr(AppRun) empty = NULL;
  Memory baseline, at_ready, settled, restart_ready, restart_settled;
  GStatBuf st;
  double sync_ms, restart_ms;

  g_print ("  GSK_RENDERER=%s\n", label);

  /* What the app takes without notes, in the same environment */
  {
    static const char * const report[] = { "NOTES_REPORT_FIRST_FRAME", NULL };
    g_autofree char *dir = g_build_filename (root, label, "empty", NULL);

    empty = app_run_start_on (dir, server_url, bus_address, "notebook/empty", report);
    if (!PATCHES_TEST_WAIT_FOR (empty->first_frame_us != 0 || empty->exited, RUN_TIMEOUT_MS) ||
        empty->first_frame_us == 0)
      g_error ("patches-notes never showed its window");
    patches_test_sleep_ms (settle_ms ());
    read_memory (empty->pid, &baseline);
    stop_run (empty);
    print_memory ("empty notebook, settled:", &baseline);
  }

  first = run_until_ready (profile, server_url, bus_address);
  read_memory (first->pid, &at_ready);
  patches_test_sleep_ms (settle_ms ());
  read_memory (first->pid, &settled);
  stop_run (first);

  sync_ms = (first->ready_us - first->spawned_us) / 1000.0;
  g_print ("    fresh profile: all %u notes synced %.0f ms after launch (first frame at %.0f ms)\n",
           first->ready_items, sync_ms, (first->first_frame_us - first->spawned_us) / 1000.0);
  print_memory ("when synced:", &at_ready);
  print_memory ("settled:", &settled);

  again = run_until_ready (profile, server_url, bus_address);
  read_memory (again->pid, &restart_ready);
  patches_test_sleep_ms (settle_ms ());
  read_memory (again->pid, &restart_settled);
  stop_run (again);

  restart_ms = (again->ready_us - again->spawned_us) / 1000.0;
  g_print ("    restart on that profile: in step with the server %.0f ms after launch\n", restart_ms);
  print_memory ("when in step:", &restart_ready);
  print_memory ("settled:", &restart_settled);

  store = g_build_filename (profile, "DATA_HOME", "patches-notes", "default", "patches.db", NULL);
  if (g_stat (store, &st) == 0)
    g_print ("    local store: %.1f MB\n", st.st_size / (1024.0 * 1024.0));

  g_print ("    notes' share (settled, minus the empty notebook): VmRSS %+.1f MB, anon %+.1f MB\n",
           ((double) settled.rss_kb - baseline.rss_kb) / 1024.0,
           ((double) settled.anon_kb - baseline.anon_kb) / 1024.0);

  g_string_append_printf (json,
                          ", \"%s\": {\"sync_ms\": %.0f, \"restart_sync_ms\": %.0f, "
                          "\"rss_empty_mb\": %.1f, \"rss_mb\": %.1f, \"rss_settled_mb\": %.1f, "
                          "\"rss_restart_mb\": %.1f, \"rss_restart_settled_mb\": %.1f, "
                          "\"anon_empty_mb\": %.1f, \"anon_settled_mb\": %.1f, \"peak_mb\": %.1f}",
                          label, sync_ms, restart_ms,
                          baseline.rss_kb / 1024.0, at_ready.rss_kb / 1024.0, settled.rss_kb / 1024.0,
                          restart_ready.rss_kb / 1024.0, restart_settled.rss_kb / 1024.0,
                          baseline.anon_kb / 1024.0, settled.anon_kb / 1024.0,
                          MAX (settled.hwm_kb, restart_settled.hwm_kb) / 1024.0);
}

static int
bench_memory (const char         *root,
              const char         *server_url,
              const char         *bus_address,
              guint               n_notes,
              const char * const *renderers)
{
  g_autoptr(GString) json = g_string_new (NULL);

  g_print ("Resident memory with %u notes tracked (target: VmRSS under 100 MB)\n", n_notes);
  g_string_append_printf (json, "{\"notes\": %u", n_notes);

  for (guint r = 0; renderers[r] != NULL; r++)
    {
      renderer = g_str_equal (renderers[r], "default") ? NULL : renderers[r];
      measure_memory (root, renderers[r], server_url, bus_address, json);
    }
  renderer = NULL;

  g_print ("%s}\n", json->str);

  return 0;
}

/* Without a display: again under xvfb-run, once */
static void
maybe_reexec_under_xvfb (int    argc,
                         char **argv)
{
  g_autofree char *xvfb_run = NULL;
  g_autofree char *self = NULL;
  g_autoptr(GPtrArray) args = NULL;

  if (g_getenv ("DISPLAY") != NULL || g_getenv ("WAYLAND_DISPLAY") != NULL ||
      g_getenv (REEXEC_ENV) != NULL)
    return;

  xvfb_run = g_find_program_in_path ("xvfb-run");
  self = g_file_read_link ("/proc/self/exe", NULL);
  if (xvfb_run == NULL || self == NULL)
    return;

  args = g_ptr_array_new ();
  g_ptr_array_add (args, xvfb_run);
  g_ptr_array_add (args, "-a");
  g_ptr_array_add (args, "-s");
  g_ptr_array_add (args, "-screen 0 1280x1024x24 -nolisten tcp");
  g_ptr_array_add (args, self);
  for (int i = 1; i < argc; i++)
    g_ptr_array_add (args, argv[i]);
  g_ptr_array_add (args, NULL);

  g_setenv (REEXEC_ENV, "1", TRUE);
  execv (xvfb_run, (char **) args->pdata);
  g_printerr ("Could not run %s: %s\n", xvfb_run, g_strerror (errno));
}

int
main (int   argc,
      char *argv[])
{
  gboolean startup = FALSE;
  gboolean memory = FALSE;
  int runs = DEFAULT_RUNS;
  int n_notes = DEFAULT_NOTES;
  g_autofree char *renderer_list = NULL;
  g_auto(GStrv) renderers = NULL;
  const GOptionEntry entries[] = {
    { "startup", 0, 0, G_OPTION_ARG_NONE, &startup, "Measure start to first frame", NULL },
    { "memory", 0, 0, G_OPTION_ARG_NONE, &memory, "Measure resident memory and sync time", NULL },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Launches per startup figure (20)", "N" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Print every launch's figures", NULL },
    { "notes", 0, 0, G_OPTION_ARG_INT, &n_notes, "Notes in the notebook (1000)", "N" },
    { "renderers", 0, 0, G_OPTION_ARG_STRING, &renderer_list,
      "GSK renderers to measure with, comma-separated; \"default\" is GTK's choice "
      "(GSK_RENDERER if set, else default,cairo)", "LIST" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- Patches Notes startup and memory");
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesTestServer) server = NULL;
  g_autofree char *root = NULL;
  Bus bus = { 0 };
  gint64 seed_start;
  gsize body_bytes;
  int status;

  maybe_reexec_under_xvfb (argc, argv);

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (startup == memory || runs < 1 || n_notes < 1)
    {
      g_printerr ("Give one of --startup and --memory (and positive --runs, --notes)\n");
      return 2;
    }

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_print ("No display and no xvfb-run: nothing measured\n");
      return 0;
    }

  root = g_dir_make_tmp ("bench-notes-app-XXXXXX", &error);
  g_assert_no_error (error);

  shared_cache = g_build_filename (root, "CACHE_HOME", NULL);
  server = patches_test_server_new (NULL);
  bus_start (&bus);

  seed_start = g_get_monotonic_time ();
  body_bytes = seed_notebook (patches_test_server_get_url (server), (guint) n_notes);
  g_print ("Seeded %s: %d notes, %.1f KB of body JSON on average, in %.1f s%s\n",
           NOTEBOOK_ID, n_notes, body_bytes / 1024.0 / n_notes,
           (g_get_monotonic_time () - seed_start) / 1e6,
           bus.process != NULL ? "; private session bus" : "; no session bus");

  /* GTK picks GL where it can, which under Xvfb is Mesa's software
   * rasterizer; the UI tests draw with cairo.  Both are measured unless
   * one is asked for */
  if (renderer_list == NULL)
    renderer_list = g_strdup (g_getenv ("GSK_RENDERER") != NULL ? g_getenv ("GSK_RENDERER") : "default,cairo");
  renderers = g_strsplit (renderer_list, ",", -1);

  if (startup)
    status = bench_startup (root, patches_test_server_get_url (server), bus.address,
                            (guint) n_notes, (guint) runs, (const char * const *) renderers);
  else
    status = bench_memory (root, patches_test_server_get_url (server), bus.address,
                           (guint) n_notes, (const char * const *) renderers);

  bus_stop (&bus);
  if (g_getenv ("NOTES_BENCH_KEEP") != NULL)
    g_print ("Profiles kept in %s\n", root);
  else
    remove_tree (root);
  g_clear_pointer (&shared_cache, g_free);

  return status;
}
