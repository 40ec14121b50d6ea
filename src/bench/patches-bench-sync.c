/* patches-bench-sync.c: the client layer's latencies
 *
 * Usage: patches-bench-sync [--server URL] [--edits N] [--keystrokes N]
 *                           [--text-size BYTES]
 *
 * Two figures, both through PatchesClient, PatchesDoc and PatchesSync
 * against a real patches-server on loopback:
 *
 * - edit-to-remote latency: client A inserts one character into the
 *   shared `@txt` (patches_doc_change()), and the time until client B's
 *   PatchesDoc::update fires with it is taken, --edits times (default
 *   10,000), one edit at a time (the next one once A's commit was
 *   answered).  Target: p99 under 5 ms.
 * - keystroke cost: on a document holding a text of --text-size bytes
 *   (default 1 MiB) in a PatchesSqliteStore, the time of one
 *   patches_doc_change() inserting one character, which applies it and
 *   saves it in the store before it returns, --keystrokes times (default
 *   2,000) at random places, with the sync running between keystrokes as
 *   it does while someone types.  Target: p99 under 1 ms.
 *
 * Without --server it starts a patches-server on 127.0.0.1 port 0 with a
 * database in a temporary directory: $PATCHES_SERVER, else
 * ../server/patches-server next to this program in the build tree, else
 * patches-server from $PATH.
 *
 * It prints one line per figure, then one JSON object:
 *   {"edits": N, "remote_ms_p50": …, "remote_ms_p99": …,
 *    "keystrokes": N, "text_bytes": N, "keystroke_ms_p50": …,
 *    "keystroke_ms_p99": …, "targets_met": true|false, "max_rss_kb": M}
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gstdio.h>
#include <gio/gio.h>

#include "bench-common.h"
#include "patches.h"
#include "patches-client.h"
#include "patches-memory-store.h"
#include "patches-sqlite-store.h"
#include "patches-sync.h"

#define REMOTE_TARGET_MS     5.0
#define KEYSTROKE_TARGET_MS  1.0
#define WAIT_TIMEOUT_S       30

static char *opt_server;
static int opt_edits = 10000;
static int opt_keystrokes = 2000;
static int opt_text_size = 1 << 20;

static const GOptionEntry entries[] = {
  { "server", 's', 0, G_OPTION_ARG_STRING, &opt_server, "Use the patches-server listening there (default: start one)", "URL" },
  { "edits", 'e', 0, G_OPTION_ARG_INT, &opt_edits, "Edits for the edit-to-remote latency (default 10000)", "N" },
  { "keystrokes", 'k', 0, G_OPTION_ARG_INT, &opt_keystrokes, "Keystrokes on the large text (default 2000)", "N" },
  { "text-size", 't', 0, G_OPTION_ARG_INT, &opt_text_size, "Bytes of the large text (default 1048576)", "BYTES" },
  G_OPTION_ENTRY_NULL
};

/* Clients */

typedef struct
{
  PatchesStore  *store;
  PatchesClient *client;
  PatchesSync   *sync;
  PatchesDoc    *doc;
} Peer;

static gboolean
peer_open (Peer          *peer,
           PatchesStore  *store,
           const char    *url,
           const char    *doc_id,
           GError       **error)
{
  peer->store = store;
  peer->client = patches_client_new (store);
  peer->doc = patches_client_open_doc (peer->client, doc_id, error);
  if (peer->doc == NULL)
    return FALSE;
  peer->sync = patches_sync_new (peer->client, url);
  patches_sync_connect_async (peer->sync, NULL, NULL, NULL);
  return TRUE;
}

static void
peer_close (Peer *peer)
{
  if (peer->sync != NULL)
    patches_sync_disconnect (peer->sync);
  g_clear_object (&peer->sync);
  g_clear_object (&peer->doc);
  g_clear_object (&peer->client);
  if (peer->store != NULL && PATCHES_IS_SQLITE_STORE (peer->store))
    patches_sqlite_store_close (PATCHES_SQLITE_STORE (peer->store));
  g_clear_object (&peer->store);
}

static gboolean
peer_settled (Peer *peer)
{
  return patches_sync_get_connected (peer->sync) &&
         patches_sync_get_sync_status (peer->sync) == PATCHES_SYNC_STATUS_SYNCED &&
         patches_doc_get_n_pending (peer->doc) == 0;
}

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the main context until @done (a gboolean) or @peer settles */
static gboolean
wait_for (gboolean *done,
          Peer     *peer)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;
  guint tick = g_timeout_add (100, tick_cb, NULL);

  while (!(done != NULL ? *done : peer_settled (peer)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);

  return done != NULL ? *done : peer_settled (peer);
}

static gboolean
insert_char (PatchesDoc  *doc,
             gint64       pos,
             const char  *text,
             GError     **error)
{
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  g_autoptr(PatchesChange) change = NULL;
  PatchesDelta *delta = patches_delta_new ();

  if (pos > 0)
    patches_delta_retain (delta, pos, NULL);
  patches_delta_insert_utf8 (delta, text, NULL);
  patches_patch_text (patch, "/text", delta);

  change = patches_doc_change (doc, patch, error);
  return change != NULL;
}

static gint64
text_length (PatchesDoc *doc)
{
  PatchesValue *text = patches_value_object_get (patches_doc_get_state (doc), "text");

  if (text == NULL || patches_value_get_kind (text) != PATCHES_VALUE_TEXT)
    return 0;
  return patches_text_get_length (patches_value_get_text (text));
}

/* (a) edit on A → update on B */

typedef struct
{
  gint64  sent;
  gint64  latency;
  gboolean seen;
} Probe;

static void
on_remote_update (PatchesDoc   *doc,
                  PatchesPatch *ops,
                  gboolean      local,
                  Probe        *probe)
{
  if (local || probe->seen)
    return;
  probe->latency = g_get_monotonic_time () - probe->sent;
  probe->seen = TRUE;
}

static gboolean
bench_remote (const char  *url,
              int          n_edits,
              GArray      *samples,
              GError     **error)
{
  g_autofree char *doc_id = g_strdup_printf ("bench-sync-%08x", g_random_int ());
  Peer a = { 0 };
  Peer b = { 0 };
  Probe probe = { 0 };
  gboolean ok = FALSE;
  gulong handler;

  if (!peer_open (&a, PATCHES_STORE (patches_memory_store_new ()), url, doc_id, error) ||
      !peer_open (&b, PATCHES_STORE (patches_memory_store_new ()), url, doc_id, error))
    goto out;
  if (!wait_for (NULL, &a) || !wait_for (NULL, &b))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the clients did not connect to %s", url);
      goto out;
    }

  handler = g_signal_connect (b.doc, "update", G_CALLBACK (on_remote_update), &probe);
  for (int i = 0; i < n_edits; i++)
    {
      char c[2] = { 'a' + i % 26, 0 };
      gint64 length = text_length (a.doc);   /* with the final newline */

      probe.seen = FALSE;
      probe.sent = g_get_monotonic_time ();
      if (!insert_char (a.doc, length > 0 ? g_random_int_range (0, length) : 0, c, error))
        goto out;
      if (!wait_for (&probe.seen, NULL) || !wait_for (NULL, &a))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "edit %d did not reach the other client", i);
          goto out;
        }
      g_array_append_val (samples, probe.latency);
    }
  g_signal_handler_disconnect (b.doc, handler);
  ok = TRUE;

out:
  peer_close (&a);
  peer_close (&b);
  return ok;
}

/* (b) keystrokes on a large text, saved in SQLite */

static char *
large_text (int size)
{
  static const char line[] = "The quick brown fox jumps over the lazy dog, again and again. ";
  GString *text = g_string_sized_new (size + sizeof line);

  while ((int) text->len < size)
    {
      g_string_append (text, line);
      if (text->len % 7 == 0)
        g_string_append_c (text, '\n');
    }
  g_string_truncate (text, size);
  return g_string_free (text, FALSE);
}

static gboolean
bench_keystrokes (const char  *url,
                  const char  *dir,
                  int          n_keystrokes,
                  int          size,
                  GArray      *samples,
                  GError     **error)
{
  g_autofree char *doc_id = g_strdup_printf ("bench-large-%08x", g_random_int ());
  g_autofree char *path = g_build_filename (dir, "client.db", NULL);
  g_autofree char *text = large_text (size);
  PatchesSqliteStore *store;
  Peer peer = { 0 };
  gboolean ok = FALSE;
  gint64 length;

  store = patches_sqlite_store_new (path, error);
  if (store == NULL)
    return FALSE;
  if (!peer_open (&peer, PATCHES_STORE (store), url, doc_id, error))
    goto out;

  /* The text, committed on the server */
  if (!insert_char (peer.doc, 0, text, error))
    goto out;
  if (!wait_for (NULL, &peer))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the %d-byte text was not committed", size);
      goto out;
    }
  length = text_length (peer.doc);

  for (int i = 0; i < n_keystrokes; i++)
    {
      gint64 pos = g_random_int_range (0, length);
      gint64 begin = g_get_monotonic_time ();
      gint64 elapsed;

      if (!insert_char (peer.doc, pos, "x", error))
        goto out;
      elapsed = g_get_monotonic_time () - begin;
      g_array_append_val (samples, elapsed);
      length++;

      /* The sync runs between keystrokes */
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }

  if (!wait_for (NULL, &peer))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the keystrokes were not committed");
      goto out;
    }
  ok = TRUE;

out:
  peer_close (&peer);
  bench_remove_db (path);
  return ok;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("— edit-to-remote latency and keystroke cost of the client layer");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(GArray) remote = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) keystrokes = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GString) report = g_string_new (NULL);
  g_autofree char *url = NULL;
  g_autofree char *dir = NULL;
  double remote_p50, remote_p99, key_p50, key_p99;
  gboolean met;
  int status = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      opt_edits < 1 || opt_keystrokes < 1 || opt_text_size < 1)
    {
      g_printerr ("patches-bench-sync: %s\n", error ? error->message : "bad --edits, --keystrokes or --text-size");
      return 2;
    }

  dir = g_dir_make_tmp ("patches-bench-sync-XXXXXX", &error);
  if (dir == NULL)
    {
      g_printerr ("patches-bench-sync: %s\n", error->message);
      return 2;
    }

  if (opt_server != NULL)
    url = g_strdup (opt_server);
  else
    {
      g_autofree char *program = bench_find_server (argv[0]);
      g_autofree char *db = g_build_filename (dir, "server.db", NULL);

      if (program == NULL)
        {
          g_printerr ("patches-bench-sync: no patches-server found; set PATCHES_SERVER or use --server\n");
          bench_remove_dir (dir);
          return 2;
        }
      server = bench_start_server (program, db, &url, &error);
      if (server == NULL)
        {
          g_printerr ("patches-bench-sync: %s\n", error->message);
          bench_remove_dir (dir);
          return 2;
        }
      g_print ("patches-server %s, database %s\n", url, db);
    }

  if (!bench_remote (url, opt_edits, remote, &error) ||
      !bench_keystrokes (url, dir, opt_keystrokes, opt_text_size, keystrokes, &error))
    {
      g_printerr ("patches-bench-sync: %s\n", error->message);
      status = 1;
    }

  g_array_sort (remote, bench_compare_gint64);
  g_array_sort (keystrokes, bench_compare_gint64);
  remote_p50 = bench_percentile_ms (remote, 0.5);
  remote_p99 = bench_percentile_ms (remote, 0.99);
  key_p50 = bench_percentile_ms (keystrokes, 0.5);
  key_p99 = bench_percentile_ms (keystrokes, 0.99);
  met = status == 0 && remote_p99 < REMOTE_TARGET_MS && key_p99 < KEYSTROKE_TARGET_MS;

  g_print ("edit-to-remote latency: %u edits, p50 %.3f ms, p99 %.3f ms (target p99 < %.0f ms)\n",
           remote->len, remote_p50, remote_p99, REMOTE_TARGET_MS);
  g_print ("keystroke on a %d-byte text in SQLite: %u keystrokes, p50 %.3f ms, p99 %.3f ms (target p99 < %.0f ms)\n",
           opt_text_size, keystrokes->len, key_p50, key_p99, KEYSTROKE_TARGET_MS);

  g_string_append_printf (report, "{\"edits\":%u", remote->len);
  bench_append_ms (report, "remote_ms_p50", remote_p50);
  bench_append_ms (report, "remote_ms_p99", remote_p99);
  g_string_append_printf (report, ",\"keystrokes\":%u,\"text_bytes\":%d", keystrokes->len, opt_text_size);
  bench_append_ms (report, "keystroke_ms_p50", key_p50);
  bench_append_ms (report, "keystroke_ms_p99", key_p99);
  g_string_append_printf (report, ",\"targets_met\":%s,\"max_rss_kb\":%" G_GINT64_FORMAT "}",
                          met ? "true" : "false", bench_max_rss_kb ());
  g_print ("%s\n", report->str);

  if (server != NULL)
    bench_stop_server (server);
  bench_remove_dir (dir);

  return status;
}
