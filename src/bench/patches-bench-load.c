/* patches-bench-load.c: load benchmark for patches-server
 *
 * Usage: patches-bench-load [--server PATH | --url ws://HOST:PORT]
 *                           [--clients N] [--duration SECONDS]
 *                           [--mode shared|per-doc|both] [--db-dir DIR]
 *                           [--token TOKEN]
 *
 * Opens N WebSocket connections, subscribes each to a document, and has
 * every connection commit small `@txt` edits with one request in flight,
 * for D seconds: first all on one shared document, then each on a
 * document of its own.  It prints, per run, commits/s, the commit latency
 * (request sent to answer received, p50 / p99) and the fan-out latency
 * (commit sent on A to changesCommitted received on B, p50 / p99), as a
 * line of text and a line of JSON (the fields of
 * ../shared/tools/patches-load.mjs).
 *
 * Where the issue gives a target for a run (the reference server's figure
 * measured with patches-load.mjs, times five; a fan-out p99; the
 * server's resident memory after the runs) a line says whether it is
 * met.
 *
 * Without --url it starts a patches-server (--server, else $PATCHES_SERVER,
 * else the one of this build tree, else the one in $PATH) on 127.0.0.1 port 0 with a fresh database in --db-dir (default: the
 * temporary directory; the commits are durable, synchronous=FULL), and
 * reports the server's resident memory and CPU time after the runs.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "bench-common.h"

typedef struct _Run Run;

/* The targets (5x the reference server, in memory, on this
 * machine class: 1,600 commits/s for 10 clients on one document, 9,200
 * for 50 clients on 50 documents) */
typedef struct
{
  gboolean shared;
  guint    clients;
  double   min_commits_per_s;   /* 0: none */
  double   max_fanout_p99_ms;   /* 0: none */
} Target;

static const Target targets[] = {
  { TRUE, 10, 5 * 1600, 0 },
  { TRUE, 50, 0, 17 },
  { FALSE, 50, 5 * 9200, 0 },
};

#define RSS_TARGET_KB (30 * 1024)

static void
print_target (gboolean shared,
              guint    clients,
              double   commits_per_s,
              double   fanout_p99_ms)
{
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      const Target *t = &targets[i];

      if (t->shared != shared || t->clients != clients)
        continue;
      if (t->min_commits_per_s > 0)
        g_print ("  target: at least %.0f commits/s: %s\n", t->min_commits_per_s,
                 commits_per_s >= t->min_commits_per_s ? "met" : "NOT met");
      if (t->max_fanout_p99_ms > 0)
        g_print ("  target: fan-out p99 under %.0f ms: %s\n", t->max_fanout_p99_ms,
                 fanout_p99_ms < t->max_fanout_p99_ms ? "met" : "NOT met");
    }
}

typedef struct
{
  Run                     *run;
  guint                    index;
  SoupSession             *session;
  SoupMessage             *msg;
  SoupWebsocketConnection *ws;
  char                    *doc_id;
  gint64                   rev;
  gint64                   next_call;
  gint64                   commit_call;
  gint64                   sent_at;
  guint                    seq;
  gboolean                 ready;
  gboolean                 in_flight;
} Client;

struct _Run
{
  const char *url;
  const char *token;
  gboolean    shared;
  guint       n_clients;
  Client     *clients;
  char       *run_id;

  /* change id → send time (µs), for fan-out latency */
  GHashTable *sent;
  GArray     *commit_lat;   /* gint64 µs */
  GArray     *fanout_lat;   /* gint64 µs */
  guint       n_ready;
  guint       n_in_flight;
  guint       n_errors;
  guint64     n_commits;
  gint64      start;
  gint64      deadline;
  gboolean    running;
  gboolean    failed;
};

static char *opt_server;
static char *opt_url;
static char *opt_db_dir;
static char *opt_token;
static char *opt_mode = NULL;
static int opt_clients = 10;
static double opt_duration = 5;

static const GOptionEntry entries[] = {
  { "server", 's', 0, G_OPTION_ARG_FILENAME, &opt_server, "The patches-server to start (default: $PATCHES_SERVER, the build tree's, or the one in $PATH)", "PATH" },
  { "url", 'u', 0, G_OPTION_ARG_STRING, &opt_url, "Use the server already listening there instead", "URL" },
  { "clients", 'c', 0, G_OPTION_ARG_INT, &opt_clients, "Connections (default 10)", "N" },
  { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &opt_duration, "Seconds per run (default 5)", "SECONDS" },
  { "mode", 'm', 0, G_OPTION_ARG_STRING, &opt_mode, "shared, per-doc or both (default both)", "MODE" },
  { "db-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_db_dir, "Directory of the started server's database", "DIR" },
  { "token", 't', 0, G_OPTION_ARG_STRING, &opt_token, "Authorization: Bearer token", "TOKEN" },
  { NULL }
};

/* Frames are scanned, not parsed: the server writes `"rev":N` for every
 * change and `{"id":"…"` at the start of each one */

static gint64
max_rev_in (const char *frame)
{
  gint64 max = -1;

  for (const char *p = strstr (frame, "\"rev\":"); p != NULL; p = strstr (p + 6, "\"rev\":"))
    max = MAX (max, g_ascii_strtoll (p + 6, NULL, 10));

  return max;
}

static void client_commit (Client *client);

static void
note_fanout (Run        *run,
             const char *frame,
             gint64      now)
{
  for (const char *p = strstr (frame, "{\"id\":\""); p != NULL; p = strstr (p + 7, "{\"id\":\""))
    {
      const char *id = p + 7;
      const char *q = strchr (id, '"');
      char key[64];
      gpointer sent;

      if (q == NULL || q - id >= (gssize) sizeof key)
        continue;
      memcpy (key, id, q - id);
      key[q - id] = 0;

      if ((sent = g_hash_table_lookup (run->sent, key)) != NULL)
        {
          gint64 lat = now - *(gint64 *) sent;

          g_array_append_val (run->fanout_lat, lat);
        }
    }
}

static void
on_message (SoupWebsocketConnection *ws,
            SoupWebsocketDataType    type,
            GBytes                  *message,
            Client                  *client)
{
  Run *run = client->run;
  gint64 now = g_get_monotonic_time ();
  gsize len;
  const char *data = g_bytes_get_data (message, &len);
  g_autofree char *frame = g_strndup (data, len);
  static const char response_prefix[] = "{\"jsonrpc\":\"2.0\",\"id\":";

  if (g_str_has_prefix (frame, response_prefix))
    {
      gint64 id = g_ascii_strtoll (frame + sizeof response_prefix - 1, NULL, 10);
      gint64 rev = max_rev_in (frame);

      if (strstr (frame, "\"error\":") != NULL)
        {
          run->n_errors++;
          if (run->n_errors < 5)
            g_printerr ("error: %.300s\n", frame);
          if (run->n_errors > 100)
            {
              g_printerr ("too many errors\n");
              run->failed = TRUE;
              run->running = FALSE;
            }
        }

      if (!client->ready)
        {
          /* subscribe, then getDoc: the head revision */
          if (rev > client->rev)
            client->rev = rev;
          if (strstr (frame, "\"result\":{\"state\"") != NULL)
            {
              client->ready = TRUE;
              run->n_ready++;
            }
          return;
        }

      if (id == client->commit_call && client->in_flight)
        {
          gint64 lat = now - client->sent_at;

          client->in_flight = FALSE;
          run->n_in_flight--;
          if (rev > client->rev)
            client->rev = rev;
          if (strstr (frame, "\"error\":") == NULL)
            {
              g_array_append_val (run->commit_lat, lat);
              run->n_commits++;
            }

          if (run->running && now < run->deadline)
            client_commit (client);
          else
            run->running = FALSE;
        }
      return;
    }

  /* changesCommitted */
  if (strstr (frame, "\"method\":\"changesCommitted\"") != NULL)
    {
      gint64 rev = max_rev_in (frame);

      if (rev > client->rev)
        client->rev = rev;
      note_fanout (run, frame, now);
    }
}

static void
client_send (Client     *client,
             const char *method,
             const char *params,
             gint64     *call_id)
{
  g_autofree char *text = NULL;
  gint64 id = client->next_call++;

  text = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":%" G_GINT64_FORMAT ",\"method\":\"%s\",\"params\":%s}",
                          id, method, params);
  if (call_id != NULL)
    *call_id = id;
  soup_websocket_connection_send_text (client->ws, text);
}

static void
client_commit (Client *client)
{
  Run *run = client->run;
  g_autofree char *change_id = g_strdup_printf ("%s-%u-%u", run->run_id, client->index, client->seq++);
  g_autofree char *params = NULL;
  gint64 *sent_at = g_new (gint64, 1);

  params = g_strdup_printf ("[\"%s\",[{\"id\":\"%s\",\"baseRev\":%" G_GINT64_FORMAT ",\"rev\":%" G_GINT64_FORMAT
                            ",\"ops\":[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"insert\":\"%c\"}]}],"
                            "\"createdAt\":%" G_GINT64_FORMAT ",\"committedAt\":0}]]",
                            client->doc_id, change_id, client->rev, client->rev + 1,
                            'a' + (client->index % 26), g_get_real_time () / 1000);

  client->sent_at = *sent_at = g_get_monotonic_time ();
  if (run->shared)
    g_hash_table_insert (run->sent, g_steal_pointer (&change_id), sent_at);
  else
    g_free (sent_at);

  client->in_flight = TRUE;
  run->n_in_flight++;
  client_send (client, "commitChanges", params, &client->commit_call);
}

static void
on_network_event (SoupMessage        *msg,
                  GSocketClientEvent  event,
                  GIOStream          *connection,
                  gpointer            user_data)
{
  if (event == G_SOCKET_CLIENT_CONNECTED && G_IS_SOCKET_CONNECTION (connection))
    g_socket_set_option (g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection)),
                         IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

static void
connect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Client *client = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *subscribe = NULL;
  g_autofree char *get_doc = NULL;

  client->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (client->ws == NULL)
    {
      g_printerr ("patches-bench-load: cannot connect to %s: %s\n", client->run->url, error->message);
      exit (1);
    }

  soup_websocket_connection_set_max_incoming_payload_size (client->ws, 0);
  g_signal_connect (client->ws, "message", G_CALLBACK (on_message), client);

  subscribe = g_strdup_printf ("[[\"%s\"]]", client->doc_id);
  get_doc = g_strdup_printf ("[\"%s\"]", client->doc_id);
  client_send (client, "subscribe", subscribe, NULL);
  client_send (client, "getDoc", get_doc, NULL);
}

static gboolean
run_once (const char *url,
          gboolean    shared,
          guint       n_clients,
          double      duration)
{
  Run run = { 0 };
  g_autoptr(GString) json = g_string_new (NULL);
  double seconds;

  run.url = url;
  run.token = opt_token;
  run.shared = shared;
  run.n_clients = n_clients;
  run.clients = g_new0 (Client, n_clients);
  run.run_id = g_strdup_printf ("b%" G_GINT64_FORMAT "%s", g_get_real_time () / 1000, shared ? "s" : "d");
  run.sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  run.commit_lat = g_array_sized_new (FALSE, FALSE, sizeof (gint64), 100000);
  run.fanout_lat = g_array_sized_new (FALSE, FALSE, sizeof (gint64), shared ? 1000000 : 16);

  for (guint i = 0; i < n_clients; i++)
    {
      Client *client = &run.clients[i];

      client->run = &run;
      client->index = i;
      client->next_call = 1;
      client->doc_id = shared ? g_strdup_printf ("load-%s", run.run_id)
                              : g_strdup_printf ("load-%s-%u", run.run_id, i);
      client->session = soup_session_new ();
      client->msg = soup_message_new ("GET", url);
      if (client->msg == NULL)
        {
          g_printerr ("patches-bench-load: bad URL %s\n", url);
          exit (2);
        }
      g_signal_connect (client->msg, "network-event", G_CALLBACK (on_network_event), NULL);
      if (run.token != NULL)
        {
          g_autofree char *authorization = g_strconcat ("Bearer ", run.token, NULL);

          soup_message_headers_replace (soup_message_get_request_headers (client->msg),
                                        "Authorization", authorization);
        }
      soup_session_websocket_connect_async (client->session, client->msg, NULL, NULL,
                                            G_PRIORITY_DEFAULT, NULL, connect_cb, client);
    }

  while (run.n_ready < n_clients)
    g_main_context_iteration (NULL, TRUE);

  run.running = TRUE;
  run.start = g_get_monotonic_time ();
  run.deadline = run.start + (gint64) (duration * G_USEC_PER_SEC);
  for (guint i = 0; i < n_clients; i++)
    client_commit (&run.clients[i]);

  while (run.running || run.n_in_flight > 0)
    {
      g_main_context_iteration (NULL, TRUE);
      if (run.running && g_get_monotonic_time () >= run.deadline)
        run.running = FALSE;
    }
  seconds = (g_get_monotonic_time () - run.start) / (double) G_USEC_PER_SEC;

  /* Late notifications of the last commits */
  {
    gint64 until = g_get_monotonic_time () + 200 * 1000;

    while (g_get_monotonic_time () < until)
      g_main_context_iteration (NULL, FALSE);
  }

  g_array_sort (run.commit_lat, bench_compare_gint64);
  g_array_sort (run.fanout_lat, bench_compare_gint64);

  g_print ("%-8s %3u clients %5.1f s: %8" G_GUINT64_FORMAT " commits, %8.0f commits/s, commit p50 %6.2f ms p99 %6.2f ms, "
           "fan-out p50 %6.2f ms p99 %6.2f ms (%u samples), %u errors\n",
           shared ? "shared" : "per-doc", n_clients, seconds, run.n_commits, run.n_commits / seconds,
           bench_percentile_ms (run.commit_lat, 0.5), bench_percentile_ms (run.commit_lat, 0.99),
           bench_percentile_ms (run.fanout_lat, 0.5), bench_percentile_ms (run.fanout_lat, 0.99),
           run.fanout_lat->len, run.n_errors);

  g_string_append_printf (json, "{\"url\":\"%s\",\"clients\":%u,\"docs\":\"%s\",\"seconds\":%.2f,"
                          "\"commits\":%" G_GUINT64_FORMAT ",\"commits_per_s\":%.0f,\"errors\":%u",
                          url, n_clients, shared ? "shared" : "per-client", seconds,
                          run.n_commits, run.n_commits / seconds, run.n_errors);
  bench_append_ms (json, "commit_ms_p50", bench_percentile_ms (run.commit_lat, 0.5));
  bench_append_ms (json, "commit_ms_p99", bench_percentile_ms (run.commit_lat, 0.99));
  bench_append_ms (json, "fanout_ms_p50", bench_percentile_ms (run.fanout_lat, 0.5));
  bench_append_ms (json, "fanout_ms_p99", bench_percentile_ms (run.fanout_lat, 0.99));
  g_string_append_printf (json, ",\"fanout_samples\":%u}", run.fanout_lat->len);
  g_print ("%s\n", json->str);
  print_target (shared, n_clients, run.n_commits / seconds, bench_percentile_ms (run.fanout_lat, 0.99));

  for (guint i = 0; i < n_clients; i++)
    {
      Client *client = &run.clients[i];

      if (client->ws != NULL)
        {
          g_signal_handlers_disconnect_by_data (client->ws, client);
          soup_websocket_connection_close (client->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
          g_clear_object (&client->ws);
        }
      g_clear_object (&client->msg);
      g_clear_object (&client->session);
      g_free (client->doc_id);
    }
  g_free (run.clients);
  g_free (run.run_id);
  g_hash_table_unref (run.sent);
  g_array_unref (run.commit_lat);
  g_array_unref (run.fanout_lat);

  return !run.failed;
}

static void
print_server_usage (GSubprocess *process)
{
  g_autofree char *status_path = g_strdup_printf ("/proc/%s/status", g_subprocess_get_identifier (process));
  g_autofree char *stat_path = g_strdup_printf ("/proc/%s/stat", g_subprocess_get_identifier (process));
  g_autofree char *status = NULL;
  g_autofree char *stat = NULL;
  const char *rss;

  if (g_file_get_contents (status_path, &status, NULL, NULL) && (rss = strstr (status, "VmRSS:")) != NULL)
    {
      g_autofree char *value = g_strndup (rss, strcspn (rss, "\n"));
      guint64 kb = g_ascii_strtoull (rss + strlen ("VmRSS:"), NULL, 10);

      g_print ("server after the runs: %s (target under %u kB: %s)", value, RSS_TARGET_KB,
               kb < RSS_TARGET_KB ? "met" : "NOT met");
    }

  if (g_file_get_contents (stat_path, &stat, NULL, NULL) && strrchr (stat, ')') != NULL)
    {
      g_auto(GStrv) fields = g_strsplit (strrchr (stat, ')') + 2, " ", -1);

      if (g_strv_length (fields) > 13)
        g_print (", CPU %.2f s user %.2f s system",
                 g_ascii_strtoull (fields[11], NULL, 10) / (double) sysconf (_SC_CLK_TCK),
                 g_ascii_strtoull (fields[12], NULL, 10) / (double) sysconf (_SC_CLK_TCK));
    }
  g_print ("\n");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- load benchmark for patches-server");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *url = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *db = NULL;
  gboolean ok = TRUE;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || opt_clients < 1 || opt_duration <= 0)
    {
      g_printerr ("patches-bench-load: %s\n", error ? error->message : "bad --clients or --duration");
      return 2;
    }

  if (opt_url != NULL)
    url = g_strdup (opt_url);
  else
    {
      g_autofree char *program = opt_server ? g_strdup (opt_server) : bench_find_server (argv[0]);

      if (program == NULL)
        {
          g_printerr ("patches-bench-load: no patches-server found; use --server or --url\n");
          return 2;
        }

      dir = g_build_filename (opt_db_dir ? opt_db_dir : g_get_tmp_dir (), "patches-bench-load-XXXXXX", NULL);
      if (g_mkdtemp (dir) == NULL)
        {
          g_printerr ("patches-bench-load: cannot create %s\n", dir);
          return 1;
        }
      db = g_build_filename (dir, "bench.db", NULL);
      process = bench_start_server (program, db, &url, &error);
      if (process == NULL)
        {
          g_printerr ("patches-bench-load: cannot start %s: %s\n", program, error->message);
          bench_remove_dir (dir);
          return 1;
        }
      g_print ("patches-server %s, database %s (WAL, synchronous=FULL)\n", url, db);
    }

  if (opt_mode == NULL || strcmp (opt_mode, "both") == 0 || strcmp (opt_mode, "shared") == 0)
    ok &= run_once (url, TRUE, opt_clients, opt_duration);
  if (opt_mode == NULL || strcmp (opt_mode, "both") == 0 || strcmp (opt_mode, "per-doc") == 0)
    ok &= run_once (url, FALSE, opt_clients, opt_duration);

  if (process != NULL)
    {
      print_server_usage (process);
      bench_stop_server (process);
      bench_remove_db (db);
      g_rmdir (dir);
    }

  return ok ? 0 : 1;
}
