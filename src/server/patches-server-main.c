/* patches-server-main.c
 *
 * patches-server(1): the command line, logging and signals around a
 * PatchesServer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <glib-unix.h>

#include "patches-server.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define SHUTDOWN_GRACE_MS 3000

static char *opt_listen;
static char *opt_db;
static char *opt_tokens;
static gboolean opt_no_auth;
static gint64 opt_max_frame_bytes = PATCHES_SERVER_MAX_FRAME_BYTES_DEFAULT;
static int opt_max_changes = PATCHES_SERVER_MAX_CHANGES_PER_COMMIT_DEFAULT;
static int opt_max_ops = PATCHES_SERVER_MAX_OPS_PER_CHANGE_DEFAULT;
static int opt_max_docs = PATCHES_SERVER_MAX_DOCS_PER_SUBSCRIBE_DEFAULT;
static int opt_max_connections = PATCHES_SERVER_MAX_CONNECTIONS_PER_TOKEN_DEFAULT;
static gint64 opt_max_send_queue = PATCHES_SERVER_CONNECTION_MAX_SEND_QUEUE_DEFAULT;
static int opt_keepalive_interval = PATCHES_SERVER_KEEPALIVE_INTERVAL_DEFAULT;
static int opt_keepalive_timeout = PATCHES_SERVER_KEEPALIVE_TIMEOUT_DEFAULT;
static gboolean opt_verbose;
static gboolean opt_version;

static const GOptionEntry entries[] = {
  { "listen", 'l', 0, G_OPTION_ARG_STRING, &opt_listen,
    "Listen on ADDR:PORT ([V6ADDR]:PORT for IPv6; port 0 picks a free one; default " DEFAULT_LISTEN ")",
    "ADDR:PORT" },
  { "db", 'd', 0, G_OPTION_ARG_FILENAME, &opt_db,
    "The SQLite database (default: $XDG_DATA_HOME/patches/server.db)", "FILE" },
  { "tokens", 't', 0, G_OPTION_ARG_FILENAME, &opt_tokens,
    "The tokens file: one line per token, TOKEN USER PATTERN:read|write… [+trusted] (see patches-server(1))",
    "FILE" },
  { "no-auth", 0, 0, G_OPTION_ARG_NONE, &opt_no_auth,
    "Accept every connection with write access to every document (loopback addresses only)", NULL },
  { "max-frame-bytes", 0, 0, G_OPTION_ARG_INT64, &opt_max_frame_bytes,
    "Answer frames larger than N bytes with a 413 error (at least 1100000; default 4194304)", "N" },
  { "max-changes-per-commit", 0, 0, G_OPTION_ARG_INT, &opt_max_changes,
    "Refuse commitChanges calls with more than N changes (default 10000)", "N" },
  { "max-ops-per-change", 0, 0, G_OPTION_ARG_INT, &opt_max_ops,
    "Refuse changes with more than N ops (default 10000)", "N" },
  { "max-docs-per-subscribe", 0, 0, G_OPTION_ARG_INT, &opt_max_docs,
    "Refuse subscribe and unsubscribe calls naming more than N documents (default 10000)", "N" },
  { "max-connections-per-token", 0, 0, G_OPTION_ARG_INT, &opt_max_connections,
    "Refuse a token's handshakes beyond N open connections; 0 for no limit (default 64)", "N" },
  { "max-send-queue", 0, 0, G_OPTION_ARG_INT64, &opt_max_send_queue,
    "Disconnect a client that has more than N bytes sent to it and not acknowledged; 0 for no limit (default 33554432)",
    "N" },
  { "keepalive-interval", 0, 0, G_OPTION_ARG_INT, &opt_keepalive_interval,
    "Ping every client every N seconds; 0 for never (default 30)", "N" },
  { "keepalive-timeout", 0, 0, G_OPTION_ARG_INT, &opt_keepalive_timeout,
    "Disconnect a client silent for the interval plus N seconds (default 10)", "N" },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
    "Log every connection and debug messages", NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
    "Print the version and exit", NULL },
  { NULL }
};

/* Logging: everything to stderr (stdout carries the "listening on" line
 * for whoever started us), or to the journal under systemd */
static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  g_autofree char *line = NULL;

  /* Debug messages with --verbose, and only ours (not libsoup's) */
  if (level & G_LOG_LEVEL_DEBUG)
    {
      const char *domain = NULL;

      for (gsize i = 0; i < n_fields; i++)
        if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
          domain = fields[i].value;

      if (!opt_verbose || domain == NULL || !g_str_has_prefix (domain, "Patches"))
        return G_LOG_WRITER_HANDLED;
    }
  else if ((level & G_LOG_LEVEL_INFO) && !opt_verbose)
    return G_LOG_WRITER_HANDLED;

  if (g_log_writer_is_journald (fileno (stderr)) &&
      g_log_writer_journald (level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
    return G_LOG_WRITER_HANDLED;

  line = g_log_writer_format_fields (level, fields, n_fields, g_log_writer_supports_color (fileno (stderr)));
  fprintf (stderr, "%s\n", line);
  fflush (stderr);

  return G_LOG_WRITER_HANDLED;
}

typedef struct
{
  GMainLoop     *loop;
  PatchesServer *server;
  guint          grace_source;
  gboolean       stopping;
} App;

static gboolean
grace_timeout_cb (gpointer user_data)
{
  App *app = user_data;

  app->grace_source = 0;
  g_message ("%u clients did not finish closing; exiting anyway",
             patches_server_get_n_connections (app->server));
  g_main_loop_quit (app->loop);

  return G_SOURCE_REMOVE;
}

static void
on_n_connections (PatchesServer *server,
                  GParamSpec    *pspec,
                  App           *app)
{
  if (app->stopping && patches_server_get_n_connections (server) == 0)
    g_main_loop_quit (app->loop);
}

static gboolean
on_signal (gpointer user_data)
{
  App *app = user_data;

  if (app->stopping)
    {
      g_main_loop_quit (app->loop);
      return G_SOURCE_CONTINUE;
    }

  g_message ("Shutting down");
  app->stopping = TRUE;
  patches_server_stop (app->server);

  if (patches_server_get_n_connections (app->server) == 0)
    g_main_loop_quit (app->loop);
  else
    app->grace_source = g_timeout_add (SHUTDOWN_GRACE_MS, grace_timeout_cb, app);

  return G_SOURCE_CONTINUE;
}

/* SIGHUP: read the tokens file again; a file that does not load leaves
 * the tokens as they were */
static gboolean
on_reload (gpointer user_data)
{
  App *app = user_data;
  PatchesServerAuth *auth = patches_server_get_auth (app->server);
  g_autoptr(GError) error = NULL;

  if (patches_server_auth_get_path (auth) == NULL)
    g_message ("SIGHUP: no tokens file to reload");
  else if (!patches_server_auth_reload (auth, &error))
    g_warning ("Keeping the previous tokens: %s", error->message);
  else
    {
      g_message ("Reloaded the tokens file %s: %u tokens",
                 patches_server_auth_get_path (auth), patches_server_auth_get_n_tokens (auth));
      if (patches_server_auth_get_n_tokens (auth) == 0)
        g_warning ("The tokens file lists no token: every new connection will be refused");
    }

  return G_SOURCE_CONTINUE;
}

static gboolean
check_limits (GError **error)
{
  if (opt_max_frame_bytes < (gint64) PATCHES_SERVER_MAX_FRAME_BYTES_MIN || opt_max_frame_bytes > G_MAXUINT32)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--max-frame-bytes must be between %" G_GUINT64_FORMAT " and %u: reference clients "
                   "send up to 1,000,000 bytes of changes in one frame",
                   PATCHES_SERVER_MAX_FRAME_BYTES_MIN, G_MAXUINT32);
      return FALSE;
    }

  if (opt_max_changes < 1 || opt_max_ops < 1 || opt_max_docs < 1 || opt_max_connections < 0 ||
      opt_max_send_queue < 0 || opt_keepalive_interval < 0 || opt_keepalive_interval > 3600 ||
      opt_keepalive_timeout < 0 || opt_keepalive_timeout > 3600)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "A limit is out of range (see --help)");
      return FALSE;
    }

  if (opt_no_auth && opt_tokens != NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--no-auth and --tokens exclude each other");
      return FALSE;
    }

  return TRUE;
}

static char *
default_db_path (GError **error)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "patches", NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Could not create %s: %s", dir, g_strerror (saved_errno));
      return NULL;
    }

  return g_build_filename (dir, "server.db", NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesServerStore) store = NULL;
  g_autoptr(PatchesServerAuth) auth = NULL;
  g_autoptr(PatchesServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *uri = NULL;
  App app = { 0 };

  signal (SIGPIPE, SIG_IGN);
  g_log_set_writer_func (log_writer, NULL, NULL);
  g_set_prgname ("patches-server");

  context = g_option_context_new ("- the Patches sync server");
  g_option_context_set_summary (context,
                                "Serves the Patches sync protocol (JSON-RPC 2.0 over WebSocket) on any path\n"
                                "of ws://ADDR:PORT, storing every document's history in an SQLite database.\n"
                                "Clients authenticate with \"Authorization: Bearer TOKEN\", a \"bearer.TOKEN\"\n"
                                "WebSocket subprotocol offered beside \"patches\", or ?access_token=TOKEN, and\n"
                                "may name a stable client id with an X-Patches-Client-Id header or ?client_id=.");
  g_option_context_set_description (context,
                                    "Once ready it prints \"listening on ws://ADDR:PORT\" on standard output.\n"
                                    "SIGINT and SIGTERM stop it cleanly.  SIGHUP reads the --tokens file again:\n"
                                    "new connections use the new tokens, open ones keep theirs, and a file that\n"
                                    "does not parse keeps the previous tokens (the log says why).\n"
                                    "See patches-server(1).");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error) || !check_limits (&error))
    {
      g_printerr ("patches-server: %s\n", error->message);
      return 2;
    }

  if (opt_version)
    {
      g_print ("patches-server %s\n", PATCHES_VERSION);
      return 0;
    }

  /* Without this GLib drops debug messages before the writer sees them */
  if (opt_verbose)
    g_log_set_debug_enabled (TRUE);

  if (opt_db == NULL && !(opt_db = default_db_path (&error)))
    goto fail;

  if (!(store = patches_server_store_open (opt_db, &error)))
    goto fail;

  if (opt_no_auth)
    auth = patches_server_auth_new_allow_all ();
  else if (opt_tokens != NULL)
    {
      if (!(auth = patches_server_auth_new_from_file (opt_tokens, &error)))
        goto fail;
      if (patches_server_auth_get_n_tokens (auth) == 0)
        g_warning ("The tokens file %s lists no token: every connection will be refused", opt_tokens);
    }
  else
    {
      g_warning ("No --tokens file and no --no-auth: every connection will be refused");
      auth = patches_server_auth_new_from_data ("", 0, NULL);
    }

  server = g_object_new (PATCHES_TYPE_SERVER,
                         "store", store,
                         "auth", auth,
                         "max-frame-bytes", (guint64) opt_max_frame_bytes,
                         "max-changes-per-commit", (guint) opt_max_changes,
                         "max-ops-per-change", (guint) opt_max_ops,
                         "max-docs-per-subscribe", (guint) opt_max_docs,
                         "max-connections-per-token", (guint) opt_max_connections,
                         "max-send-queue", (guint64) opt_max_send_queue,
                         "keepalive-interval", (guint) opt_keepalive_interval,
                         "keepalive-timeout", (guint) opt_keepalive_timeout,
                         NULL);

  if (!patches_server_listen (server, opt_listen ? opt_listen : DEFAULT_LISTEN, opt_no_auth, &error))
    goto fail;

  loop = g_main_loop_new (NULL, FALSE);
  app.loop = loop;
  app.server = server;
  g_unix_signal_add (SIGINT, on_signal, &app);
  g_unix_signal_add (SIGTERM, on_signal, &app);
  g_unix_signal_add (SIGHUP, on_reload, &app);
  g_signal_connect (server, "notify::n-connections", G_CALLBACK (on_n_connections), &app);

  uri = patches_server_get_uri (server);
  g_message ("Database %s, %s", opt_db,
             opt_no_auth ? "no authentication" :
             opt_tokens ? "tokens from the tokens file" : "no tokens: refusing every connection");
  printf ("listening on %s\n", uri);
  fflush (stdout);

  g_main_loop_run (loop);

  g_clear_handle_id (&app.grace_source, g_source_remove);
  g_signal_handlers_disconnect_by_data (server, &app);
  g_clear_object (&server);
  patches_server_store_wait_checkpoint (store);
  g_clear_object (&store);

  return 0;

fail:
  g_printerr ("patches-server: %s\n", error->message);
  return 1;
}
