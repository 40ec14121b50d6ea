/* bench-common.c: what the client and server benchmarks share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "bench-common.h"

/* Figures */

int
bench_compare_gint64 (gconstpointer a,
                      gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* The @p quantile (0 to 1) of @sorted µs samples in ms; NAN when empty */
double
bench_percentile_ms (GArray *sorted,
                     double  p)
{
  if (sorted->len == 0)
    return NAN;

  return g_array_index (sorted, gint64, MIN (sorted->len - 1, (guint) (p * sorted->len))) / 1000.0;
}

/* Appends `,"key":value` (ms, or null for NAN) to a JSON object */
void
bench_append_ms (GString    *json,
                 const char *key,
                 double      value)
{
  if (isnan (value))
    g_string_append_printf (json, ",\"%s\":null", key);
  else
    g_string_append_printf (json, ",\"%s\":%.3f", key, value);
}

gint64
bench_max_rss_kb (void)
{
  struct rusage usage;

  if (getrusage (RUSAGE_SELF, &usage) != 0)
    return -1;
  return usage.ru_maxrss;   /* kilobytes on Linux */
}

/* The server */

/* $PATCHES_SERVER, else ../server/patches-server next to @argv0 (the
 * build tree), else patches-server from $PATH; %NULL when none */
char *
bench_find_server (const char *argv0)
{
  g_autofree char *dir = g_path_get_dirname (argv0);
  g_autofree char *sibling = g_build_filename (dir, "..", "server", "patches-server", NULL);

  if (g_getenv ("PATCHES_SERVER") != NULL)
    return g_strdup (g_getenv ("PATCHES_SERVER"));
  if (g_file_test (sibling, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&sibling);
  return g_find_program_in_path ("patches-server");
}

static void
child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
read_line_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  char **line = user_data;
  char *text = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL, NULL);

  *line = text ? text : g_strdup ("");
}

/* Starts @program on 127.0.0.1, a free port, with the database @db and
 * no authentication; it dies with this process.  Sets @url to its sync
 * endpoint (ws://127.0.0.1:PORT/sync). */
GSubprocess *
bench_start_server (const char  *program,
                    const char  *db,
                    char       **url,
                    GError     **error)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *line = NULL;

  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  process = g_subprocess_launcher_spawn (launcher, error, program, "--listen", "127.0.0.1:0",
                                         "--db", db, "--no-auth", NULL);
  if (process == NULL)
    return NULL;

  /* The pipe stays open: a later line must not kill the server */
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (out), FALSE);
  g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, NULL, read_line_cb, &line);
  while (line == NULL)
    g_main_context_iteration (NULL, TRUE);

  if (!g_str_has_prefix (line, "listening on "))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s did not start", program);
      g_subprocess_force_exit (process);
      return NULL;
    }

  *url = g_strconcat (line + strlen ("listening on "), "/sync", NULL);
  return g_steal_pointer (&process);
}

/* Stops a server from bench_start_server() and waits for it */
void
bench_stop_server (GSubprocess *server)
{
  g_subprocess_send_signal (server, SIGTERM);
  g_subprocess_wait (server, NULL, NULL);
}

/* Removes an SQLite database with its write-ahead log */
void
bench_remove_db (const char *path)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);

  g_unlink (path);
  g_unlink (wal);
  g_unlink (shm);
}

/* Removes @path and the files in it */
void
bench_remove_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);

      g_unlink (file);
    }
  g_rmdir (path);
}

/* Documents */

/* Text for the benchmarks on a large note: about @size bytes of words in
 * lines, one word in 25 bold, with accents and emoji (so that UTF-16
 * units and characters differ), as a rich-text value */
PatchesValue *
bench_rich_text_new (GRand *rand,
                     gsize  size)
{
  static const char * const words[] = {
    "note", "sync", "patch", "delta", "édition", "server", "rope", "keystroke",
    "document", "cursor", "😀", "offline", "merge", "text", "buffer", "über",
  };
  g_autoptr(PatchesDelta) delta = patches_delta_new ();
  g_autoptr(PatchesValue) bold = patches_value_new_object ();
  g_autoptr(GString) line = g_string_new (NULL);
  gsize bytes = 0;

  patches_value_object_set (bold, "bold", patches_value_new_bool (TRUE));

  while (bytes < size)
    {
      guint n_words = g_rand_int_range (rand, 6, 14);

      for (guint i = 0; i < n_words; i++)
        {
          const char *word = words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))];

          if (g_rand_int_range (rand, 0, 25) == 0)
            {
              patches_delta_insert_utf8 (delta, line->str, NULL);
              patches_delta_insert_utf8 (delta, word, bold);
              bytes += line->len + strlen (word);
              g_string_truncate (line, 0);
            }
          else
            g_string_append (line, word);
          g_string_append_c (line, i + 1 < n_words ? ' ' : '\n');
        }
    }
  patches_delta_insert_utf8 (delta, line->str, NULL);

  return patches_delta_to_value (delta);
}

/* The ops of a change that sets @path to @value, as JSON text */
char *
bench_replace_ops_json (const char   *path,
                        PatchesValue *value)
{
  g_autoptr(PatchesValue) ops = patches_value_new_array ();
  PatchesValue *op = patches_value_new_object ();

  patches_value_object_set (op, "op", patches_value_new_string ("replace"));
  patches_value_object_set (op, "path", patches_value_new_string (path));
  patches_value_object_set (op, "value", patches_value_ref (value));
  patches_value_array_append (ops, op);

  return patches_value_to_json (ops);
}
