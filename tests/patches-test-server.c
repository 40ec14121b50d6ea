/* patches-test-server.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#ifdef __linux__
# include <sys/prctl.h>
#endif

#include <glib/gstdio.h>

#include "patches-test-server.h"

#define LISTENING_PREFIX "listening on ws://127.0.0.1:"
#define RESTART_ATTEMPTS 50

struct _PatchesTestServer
{
  char        *dir;
  char        *db;
  char        *tokens;
  GStrv        extra_args;

  GSubprocess *process;
  char        *url;
  guint16      port;
  gboolean     exited;
};

static gboolean
heartbeat_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/**
 * patches_test_heartbeat_add:
 *
 * A timeout that wakes the main context every few milliseconds, so that a
 * loop polling a condition sees time pass.  Remove it with
 * g_source_remove().
 *
 * Returns: the source id
 */
guint
patches_test_heartbeat_add (void)
{
  return g_timeout_add (5, heartbeat_cb, NULL);
}

/**
 * patches_test_sleep_ms:
 * @ms: milliseconds
 *
 * Runs the main context for @ms milliseconds.
 */
void
patches_test_sleep_ms (guint ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;

  (void) PATCHES_TEST_WAIT_FOR (g_get_monotonic_time () >= until, ms + 1000);
}

static void
read_line_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  char **line = user_data;
  char *text = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                          result, NULL, NULL);

  *line = text != NULL ? text : g_strdup ("");
}

static void
wait_exit_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  PatchesTestServer *self = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  if (G_SUBPROCESS (source) == self->process)
    self->exited = TRUE;
}

/* The server dies with the test, even when an assertion aborts it */
static void
child_setup (gpointer user_data)
{
#ifdef __linux__
  prctl (PR_SET_PDEATHSIG, SIGKILL);
#endif
}

static void
wait_exited (PatchesTestServer *self)
{
  PATCHES_TEST_WAIT_UNTIL (self->exited);
}

/* Starts the process listening on @port (0: any).  Returns FALSE when it
 * exited before printing its "listening on" line. */
static gboolean
start (PatchesTestServer *self,
       guint16            port)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  const char *binary = g_getenv ("PATCHES_SERVER");

  if (binary == NULL)
    g_error ("PATCHES_SERVER is not set: run the tests through meson");

  g_ptr_array_add (argv, g_strdup (binary));
  g_ptr_array_add (argv, g_strdup ("--listen"));
  g_ptr_array_add (argv, g_strdup_printf ("127.0.0.1:%u", port));
  g_ptr_array_add (argv, g_strdup ("--db"));
  g_ptr_array_add (argv, g_strdup (self->db));
  if (self->tokens != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--tokens"));
      g_ptr_array_add (argv, g_strdup (self->tokens));
    }
  else
    g_ptr_array_add (argv, g_strdup ("--no-auth"));
  for (guint i = 0; self->extra_args != NULL && self->extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (self->extra_args[i]));
  g_ptr_array_add (argv, NULL);

  g_clear_object (&self->process);
  self->exited = FALSE;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  self->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  g_subprocess_wait_async (self->process, NULL, wait_exit_cb, self);

  /* The pipe stays open after the line was read (the process holds it),
   * so a later write to stdout does not kill the server with SIGPIPE */
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (out), FALSE);
  g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, NULL, read_line_cb, &line);
  PATCHES_TEST_WAIT_UNTIL (line != NULL);

  if (!g_str_has_prefix (line, LISTENING_PREFIX))
    {
      /* Whatever went wrong, the process is on its way out */
      if (!self->exited)
        g_subprocess_force_exit (self->process);
      wait_exited (self);
      return FALSE;
    }

  self->port = (guint16) atoi (line + strlen (LISTENING_PREFIX));
  g_assert_cmpuint (self->port, >, 0);
  if (port != 0)
    g_assert_cmpuint (self->port, ==, port);

  g_free (self->url);
  self->url = g_strdup_printf ("ws://127.0.0.1:%u/sync", self->port);

  return TRUE;
}

static PatchesTestServer *
server_new (const char         *tokens,
            const char * const *extra_args)
{
  PatchesTestServer *self = g_new0 (PatchesTestServer, 1);
  g_autoptr(GError) error = NULL;

  self->dir = g_dir_make_tmp ("patches-test-XXXXXX", &error);
  g_assert_no_error (error);
  self->db = g_build_filename (self->dir, "server.db", NULL);
  self->extra_args = g_strdupv ((char **) extra_args);

  if (tokens != NULL)
    {
      self->tokens = g_build_filename (self->dir, "tokens", NULL);
      g_file_set_contents (self->tokens, tokens, -1, &error);
      g_assert_no_error (error);
      g_chmod (self->tokens, 0600);
    }

  if (!start (self, 0))
    g_error ("%s did not start", g_getenv ("PATCHES_SERVER"));

  return self;
}

/**
 * patches_test_server_new:
 * @extra_args: (nullable) (array zero-terminated=1): more command-line
 *   arguments
 *
 * Starts patches-server with `--listen 127.0.0.1:0 --db DIR/server.db
 * --no-auth` and @extra_args, and waits until it listens.
 *
 * Returns: (transfer full): the running server
 */
PatchesTestServer *
patches_test_server_new (const char * const *extra_args)
{
  return server_new (NULL, extra_args);
}

/**
 * patches_test_server_new_with_tokens:
 * @tokens: the contents of a tokens file (see patches-server(1))
 * @extra_args: (nullable) (array zero-terminated=1): more command-line
 *   arguments
 *
 * Like patches_test_server_new(), with `--tokens FILE` instead of
 * `--no-auth`.
 *
 * Returns: (transfer full): the running server
 */
PatchesTestServer *
patches_test_server_new_with_tokens (const char         *tokens,
                                     const char * const *extra_args)
{
  g_return_val_if_fail (tokens != NULL, NULL);

  return server_new (tokens, extra_args);
}

/**
 * patches_test_server_free:
 * @self: (transfer full): a server
 *
 * Kills the server if it still runs (SIGKILL, no clean shutdown) and
 * deletes its temporary directory.
 */
void
patches_test_server_free (PatchesTestServer *self)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (self == NULL)
    return;

  if (self->process != NULL && !self->exited)
    {
      g_subprocess_force_exit (self->process);
      wait_exited (self);
    }
  g_clear_object (&self->process);

  if ((dir = g_dir_open (self->dir, 0, NULL)) != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = g_build_filename (self->dir, name, NULL);

        g_unlink (path);
      }
  g_rmdir (self->dir);

  g_free (self->dir);
  g_free (self->db);
  g_free (self->tokens);
  g_strfreev (self->extra_args);
  g_free (self->url);
  g_free (self);
}

/**
 * patches_test_server_get_url:
 * @self: a server
 *
 * Returns: `ws://127.0.0.1:PORT/sync`; it stays the same across restarts
 */
const char *
patches_test_server_get_url (PatchesTestServer *self)
{
  return self->url;
}

/**
 * patches_test_server_get_port:
 * @self: a server
 *
 * Returns: the TCP port
 */
guint16
patches_test_server_get_port (PatchesTestServer *self)
{
  return self->port;
}

/**
 * patches_test_server_get_db:
 * @self: a server
 *
 * Returns: the database file
 */
const char *
patches_test_server_get_db (PatchesTestServer *self)
{
  return self->db;
}

/**
 * patches_test_server_get_dir:
 * @self: a server
 *
 * Returns: the temporary directory, deleted with the server (tests may
 *   put files there)
 */
const char *
patches_test_server_get_dir (PatchesTestServer *self)
{
  return self->dir;
}

/**
 * patches_test_server_is_running:
 * @self: a server
 *
 * Returns: whether the process has not exited (a stopped process runs)
 */
gboolean
patches_test_server_is_running (PatchesTestServer *self)
{
  return self->process != NULL && !self->exited;
}

/* Whether the process is stopped, from the state in /proc/PID/stat
 * (the letter after the parenthesised command name) */
static gboolean
is_stopped (PatchesTestServer *self)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", g_subprocess_get_identifier (self->process));
  g_autofree char *contents = NULL;
  const char *end;

  if (!g_file_get_contents (path, &contents, NULL, NULL) ||
      (end = strrchr (contents, ')')) == NULL)
    return FALSE;

  return end[1] == ' ' && (end[2] == 'T' || end[2] == 't');
}

/**
 * patches_test_server_signal:
 * @self: a server
 * @signum: a signal, such as SIGSTOP or SIGCONT
 *
 * Sends @signum.  For SIGSTOP it returns once the process is stopped (on
 * Linux), so that nothing sent afterwards is answered; otherwise at once.
 */
void
patches_test_server_signal (PatchesTestServer *self,
                            int                signum)
{
  g_assert_true (patches_test_server_is_running (self));

  g_subprocess_send_signal (self->process, signum);

#ifdef __linux__
  if (signum == SIGSTOP && g_file_test ("/proc/self/stat", G_FILE_TEST_EXISTS))
    {
      gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

      while (!is_stopped (self) && g_get_monotonic_time () < deadline)
        g_usleep (1000);
      g_assert_true (is_stopped (self));
    }
#endif
}

/**
 * patches_test_server_stop:
 * @self: a running server
 *
 * Stops the server with SIGTERM and asserts that it shut down cleanly
 * (exit status 0; under a sanitizer, also free of leaks).
 */
void
patches_test_server_stop (PatchesTestServer *self)
{
  g_assert_true (patches_test_server_is_running (self));

  g_subprocess_send_signal (self->process, SIGTERM);
  wait_exited (self);

  g_assert_true (g_subprocess_get_if_exited (self->process));
  g_assert_cmpint (g_subprocess_get_exit_status (self->process), ==, 0);
}

/**
 * patches_test_server_kill:
 * @self: a running server
 *
 * Kills the server with SIGKILL, as a crash would, and waits until it is
 * gone.  Its clients see their sockets drop without a close frame.
 */
void
patches_test_server_kill (PatchesTestServer *self)
{
  g_assert_true (patches_test_server_is_running (self));

  g_subprocess_send_signal (self->process, SIGKILL);
  wait_exited (self);
}

/**
 * patches_test_server_restart:
 * @self: a server
 *
 * Starts the server again on the same database, tokens, arguments and
 * port (`--listen 127.0.0.1:PORT`), killing it first if it still runs.
 * Retries for a while if the port is not free yet.
 */
void
patches_test_server_restart (PatchesTestServer *self)
{
  if (patches_test_server_is_running (self))
    patches_test_server_kill (self);

  for (guint attempt = 0; attempt < RESTART_ATTEMPTS; attempt++)
    {
      if (start (self, self->port))
        return;
      patches_test_sleep_ms (100);
    }

  g_error ("%s did not start again on port %u", g_getenv ("PATCHES_SERVER"), self->port);
}
