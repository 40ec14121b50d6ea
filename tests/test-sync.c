/* test-sync.c: PatchesSync (net/)
 *
 * Every test runs the real patches-server (patches-test-server.c) and one
 * or more clients, each a PatchesClient over a PatchesMemoryStore or a
 * PatchesSqliteStore with a PatchesSync: convergence of concurrent edits,
 * the exact sequence of state notifications through connect, edit, a
 * killed and restarted server, a refused token, remote and offline
 * deletion, offline edits that survive a restart of the client, batching
 * under max-batch-size, batch-delay, going offline, a server that lost
 * the history the client had, pending changes the server refuses by name
 * (quarantine), a committed change no replica can apply, a commit
 * whose answer was lost, and the initial sync of many documents, a few
 * at a time, with a local edit that does not wait for its turn.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <sqlite3.h>

#include "patches.h"
#include "patches-client.h"
#include "patches-connection.h"
#include "patches-memory-store.h"
#include "patches-sqlite-store.h"
#include "patches-sync.h"
#include "patches-sync-private.h"
#include "patches-test-server.h"
#include "patches-test-util.h"
#include "patches-websocket-transport.h"

#define WAIT_UNTIL PATCHES_TEST_WAIT_UNTIL

/* A client: store, client, sync, one open document, and what it saw */
typedef struct
{
  PatchesStore  *store;
  PatchesClient *client;
  PatchesSync   *sync;
  PatchesDoc    *doc;
  char          *doc_id;

  GPtrArray     *log;              /* recorded state notifications */
  gboolean       recording;
  GArray        *dial_times;       /* monotonic µs of each CONNECTING */

  guint          n_committed;      /* PatchesClient::committed emissions */
  GPtrArray     *committed;        /* every change they carried */
  guint          n_errors;
  GError        *last_error;
  char          *deleted_id;       /* PatchesSync::remote-doc-deleted */
  GPtrArray     *deleted_pending;

  gboolean       connect_done;
  gboolean       connect_ok;
  GError        *connect_error;
} Peer;

static void
peer_log (Peer       *peer,
          const char *format,
          ...) G_GNUC_PRINTF (2, 3);

static void
peer_log (Peer       *peer,
          const char *format,
          ...)
{
  va_list args;

  if (!peer->recording)
    return;

  va_start (args, format);
  g_ptr_array_add (peer->log, g_strdup_vprintf (format, args));
  va_end (args);
}

static void
on_notify (PatchesSync *sync,
           GParamSpec  *pspec,
           Peer        *peer)
{
  const char *name = g_param_spec_get_name (pspec);

  if (g_str_equal (name, "online"))
    peer_log (peer, "online=%d", patches_sync_get_online (sync));
  else if (g_str_equal (name, "connected"))
    peer_log (peer, "connected=%d", patches_sync_get_connected (sync));
  else if (g_str_equal (name, "sync-status"))
    peer_log (peer, "status=%s", patches_test_sync_status_name (patches_sync_get_sync_status (sync)));
  else if (g_str_equal (name, "connection-state") &&
           patches_sync_get_connection_state (sync) == PATCHES_CONNECTION_STATE_CONNECTING)
    {
      gint64 now = g_get_monotonic_time ();

      g_array_append_val (peer->dial_times, now);
    }
}

static void
on_doc_state_changed (PatchesSync *sync,
                      const char  *doc_id,
                      Peer        *peer)
{
  g_autoptr(PatchesDocSyncState) state = patches_sync_get_doc_state (sync, doc_id);

  if (state == NULL)
    peer_log (peer, "%s=gone", doc_id);
  else
    peer_log (peer, "%s=%s/r%" G_GINT64_FORMAT "/p%d", doc_id,
              patches_test_sync_status_name (state->status),
              state->committed_rev, state->has_pending);
}

static void
on_error (PatchesSync  *sync,
          const GError *error,
          const char   *doc_id,
          Peer         *peer)
{
  peer->n_errors++;
  g_clear_error (&peer->last_error);
  peer->last_error = g_error_copy (error);
}

static void
on_remote_doc_deleted (PatchesSync *sync,
                       const char  *doc_id,
                       GPtrArray   *pending,
                       Peer        *peer)
{
  g_free (peer->deleted_id);
  peer->deleted_id = g_strdup (doc_id);
  g_clear_pointer (&peer->deleted_pending, g_ptr_array_unref);
  peer->deleted_pending = g_ptr_array_ref (pending);
}

static void
on_committed (PatchesClient *client,
              const char    *doc_id,
              GPtrArray     *changes,
              Peer          *peer)
{
  peer->n_committed++;
  for (guint i = 0; i < changes->len; i++)
    g_ptr_array_add (peer->committed, patches_change_ref (g_ptr_array_index (changes, i)));
}

static PatchesSync *
sync_new (PatchesClient *client,
          const char    *url)
{
  /* fast reconnects; pings every second find a dead server quickly */
  return g_object_new (PATCHES_TYPE_SYNC,
                       "client", client,
                       "url", url,
                       "reconnect-interval", 100,
                       "ping-interval", 1,
                       NULL);
}

static void
peer_attach (Peer       *peer,
             const char *url)
{
  g_autoptr(GError) error = NULL;

  peer->client = patches_client_new (peer->store);
  g_signal_connect (peer->client, "committed", G_CALLBACK (on_committed), peer);

  peer->sync = sync_new (peer->client, url);
  g_signal_connect (peer->sync, "notify", G_CALLBACK (on_notify), peer);
  g_signal_connect (peer->sync, "doc-state-changed", G_CALLBACK (on_doc_state_changed), peer);
  g_signal_connect (peer->sync, "error", G_CALLBACK (on_error), peer);
  g_signal_connect (peer->sync, "remote-doc-deleted", G_CALLBACK (on_remote_doc_deleted), peer);

  if (peer->doc_id != NULL)
    {
      peer->doc = patches_client_open_doc (peer->client, peer->doc_id, &error);
      g_assert_no_error (error);
      g_assert_nonnull (peer->doc);
    }
}

/* A peer over @store (a new memory store when %NULL) with @doc_id open */
static Peer *
peer_new_with_store (const char   *url,
                     const char   *doc_id,
                     PatchesStore *store)
{
  Peer *peer = g_new0 (Peer, 1);

  peer->log = g_ptr_array_new_with_free_func (g_free);
  peer->dial_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  peer->committed = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_change_unref);
  peer->doc_id = g_strdup (doc_id);
  peer->store = store ? store : PATCHES_STORE (patches_memory_store_new ());

  peer_attach (peer, url);

  return peer;
}

static Peer *
peer_new (const char *url,
          const char *doc_id)
{
  return peer_new_with_store (url, doc_id, NULL);
}

/* Drops the sync, document, client and store, keeping the record */
static void
peer_detach (Peer *peer)
{
  if (peer->sync != NULL)
    {
      patches_sync_disconnect (peer->sync);
      g_signal_handlers_disconnect_by_data (peer->sync, peer);
    }
  g_clear_object (&peer->sync);
  g_clear_object (&peer->doc);
  if (peer->client != NULL)
    g_signal_handlers_disconnect_by_data (peer->client, peer);
  g_clear_object (&peer->client);
  patches_test_store_close (&peer->store);
}

static void
peer_free (Peer *peer)
{
  peer_detach (peer);
  g_ptr_array_unref (peer->log);
  g_array_unref (peer->dial_times);
  g_ptr_array_unref (peer->committed);
  g_clear_pointer (&peer->deleted_pending, g_ptr_array_unref);
  g_clear_error (&peer->last_error);
  g_clear_error (&peer->connect_error);
  g_free (peer->deleted_id);
  g_free (peer->doc_id);
  g_free (peer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Peer, peer_free)

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Peer *peer = user_data;

  g_clear_error (&peer->connect_error);
  peer->connect_ok = patches_sync_connect_finish (PATCHES_SYNC (object), result, &peer->connect_error);
  peer->connect_done = TRUE;
}

static void
peer_start_connect (Peer *peer)
{
  peer->connect_done = FALSE;
  patches_sync_connect_async (peer->sync, NULL, connect_cb, peer);
}

static gboolean
peer_doc_settled (Peer *peer)
{
  g_autoptr(PatchesDocSyncState) state = NULL;

  if (peer->doc_id == NULL)
    return TRUE;

  state = patches_sync_get_doc_state (peer->sync, peer->doc_id);
  return state != NULL && state->status == PATCHES_SYNC_STATUS_SYNCED && !state->has_pending;
}

static gboolean
peer_synced (Peer *peer)
{
  return patches_sync_get_connected (peer->sync) &&
         patches_sync_get_sync_status (peer->sync) == PATCHES_SYNC_STATUS_SYNCED &&
         peer_doc_settled (peer);
}

/* Connects and waits until the initial sync is over */
static void
peer_connect (Peer *peer)
{
  peer_start_connect (peer);
  WAIT_UNTIL (peer->connect_done);
  g_assert_no_error (peer->connect_error);
  g_assert_true (peer->connect_ok);
  WAIT_UNTIL (peer_synced (peer));
}

static void
peer_record (Peer *peer)
{
  g_ptr_array_set_size (peer->log, 0);
  peer->recording = TRUE;
}

/* Asserts the recorded notifications, then starts a new record */
static void
assert_log (Peer       *peer,
            const char *expected)
{
  g_autoptr(GString) actual = g_string_new (NULL);

  for (guint i = 0; i < peer->log->len; i++)
    {
      if (i > 0)
        g_string_append_c (actual, ' ');
      g_string_append (actual, g_ptr_array_index (peer->log, i));
    }

  g_assert_cmpstr (actual->str, ==, expected);
  g_ptr_array_set_size (peer->log, 0);
}

/* Edits */

static void
doc_change (PatchesDoc   *doc,
            PatchesPatch *patch)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesChange) change = patches_doc_change (doc, patch, &error);

  g_assert_no_error (error);
  g_assert_nonnull (change);
}

static void
set_string (PatchesDoc *doc,
            const char *path,
            const char *value)
{
  g_autoptr(PatchesPatch) patch = patches_patch_new ();

  patches_patch_replace (patch, path, patches_value_new_string (value), FALSE);
  doc_change (doc, patch);
}

static void
insert_text (PatchesDoc *doc,
             const char *path,
             gint64      position,
             const char *text)
{
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  PatchesDelta *delta = patches_delta_new ();

  if (position > 0)
    patches_delta_retain (delta, position, NULL);
  patches_delta_insert_utf8 (delta, text, NULL);
  patches_patch_text (patch, path, delta);
  doc_change (doc, patch);
}

static char *
doc_json (PatchesDoc *doc)
{
  return patches_value_to_json (patches_doc_get_state (doc));
}

static const char *
doc_string (PatchesDoc *doc,
            const char *key)
{
  PatchesValue *state = patches_doc_get_state (doc);
  PatchesValue *member;

  if (state == NULL || patches_value_get_kind (state) != PATCHES_VALUE_OBJECT)
    return NULL;
  member = patches_value_object_get (state, key);
  if (member == NULL || patches_value_get_kind (member) != PATCHES_VALUE_STRING)
    return NULL;
  return patches_value_get_string (member);
}

static char *
tmp_file (PatchesTestServer *server,
          const char        *name)
{
  return g_build_filename (patches_test_server_get_dir (server), name, NULL);
}

/* A change from its JSON */
/* Puts pending changes straight into @store, bypassing every check a
 * PatchesDoc makes: changes of revisions @base_rev + 1, + 2, … on
 * @base_rev, with the ids and ops given as "id", "[ops]" pairs */
static void
store_append_raw (PatchesStore *store,
                  const char   *doc_id,
                  gint64        base_rev,
                  ...)
{
  g_autoptr(GPtrArray) changes = patches_changes_new ();
  g_autoptr(GError) error = NULL;
  const char *id;
  va_list args;

  va_start (args, base_rev);
  while ((id = va_arg (args, const char *)) != NULL)
    {
      const char *ops = va_arg (args, const char *);
      g_autofree char *json = NULL;

      json = g_strdup_printf ("{\"id\":\"%s\",\"baseRev\":%" G_GINT64_FORMAT ",\"rev\":%"
                              G_GINT64_FORMAT ",\"ops\":%s,\"createdAt\":%" G_GINT64_FORMAT
                              ",\"committedAt\":0}",
                              id, base_rev, base_rev + changes->len + 1, ops,
                              g_get_real_time () / 1000);
      g_ptr_array_add (changes, patches_test_parse_change (json));
    }
  va_end (args);

  g_assert_true (patches_store_append_pending (store, doc_id, changes, &error));
  g_assert_no_error (error);
}

/* The ids of the changes in a document's quarantine record */
static char *
quarantined_ids (PatchesStore *store,
                 const char   *doc_id)
{
  g_autofree char *key = g_strconcat (PATCHES_SYNC_QUARANTINE_PREFIX, doc_id, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *json = patches_store_get_meta (store, key, &error);
  g_autoptr(PatchesValue) list = NULL;
  g_autoptr(GString) ids = g_string_new (NULL);

  g_assert_no_error (error);
  if (json == NULL)
    return g_strdup ("");

  list = patches_value_parse (json, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (patches_value_get_kind (list), ==, PATCHES_VALUE_ARRAY);
  for (guint i = 0; i < patches_value_array_get_length (list); i++)
    {
      PatchesValue *item = patches_value_array_get (list, i);
      PatchesValue *change = patches_value_object_get (item, "change");
      const char *id = patches_value_get_string (patches_value_object_get (item, "changeId"));

      /* the whole change is kept, with why and when */
      g_assert_cmpstr (patches_value_get_string (patches_value_object_get (item, "docId")), ==, doc_id);
      g_assert_cmpstr (patches_value_get_string (patches_value_object_get (change, "id")), ==, id);
      g_assert_nonnull (patches_value_object_get (change, "ops"));
      g_assert_nonnull (strstr (patches_value_get_string (patches_value_object_get (item, "reason")), id));
      g_assert_cmpfloat (patches_value_get_number (patches_value_object_get (item, "quarantinedAt")), >, 0);

      if (i > 0)
        g_string_append_c (ids, ' ');
      g_string_append (ids, id);
    }

  return g_string_free (g_steal_pointer (&ids), FALSE);
}

/* /Sync/quarantine: the server refuses one pending change by name (400
 * with data.changeId, scope "change") and it does not apply here either:
 * it is set aside, the changes after it go out without it, the error
 * signal names it once (PROTOCOL.md §8.9 row 5) */

static void
test_quarantine (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  PatchesStore *store = PATCHES_STORE (patches_memory_store_new ());
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  g_autofree char *quarantined = NULL;
  PatchesValue *data;

  /* a corrupted queue: an op nobody knows between good changes, the one
   * after it written on top of the one before */
  store_append_raw (store, "q", 0,
                    "good1", "[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"one\"}]",
                    "bad", "[{\"op\":\"frobnicate\",\"path\":\"/title\",\"value\":1}]",
                    "good2", "[{\"op\":\"replace\",\"path\":\"/body\",\"value\":\"two\"}]",
                    "good3", "[{\"op\":\"move\",\"from\":\"/title\",\"path\":\"/heading\"}]",
                    NULL);
  a = peer_new_with_store (url, "q", store);
  g_assert_cmpuint (patches_doc_get_n_pending (a->doc), ==, 4);

  b = peer_new (url, "q");
  peer_connect (b);

  peer_record (a);
  peer_connect (a);
  assert_log (a, "connected=1 status=syncing q=syncing/r0/p1 q=syncing/r3/p0 q=synced/r3/p0 status=synced");

  /* reported once, by name, with the server's code and data */
  g_assert_cmpuint (a->n_errors, ==, 1);
  g_assert_error (a->last_error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
  g_assert_cmpint (patches_rpc_error_get_code (a->last_error), ==, 400);
  g_assert_true (g_str_has_prefix (a->last_error->message, "Change bad was set aside"));
  data = patches_rpc_error_get_data (a->last_error);
  g_assert_cmpstr (patches_value_get_string (patches_value_object_get (data, "changeId")), ==, "bad");

  /* the good ones reached the server, renumbered, the bad one is kept
   * aside in the store */
  g_assert_cmpint (patches_doc_get_committed_rev (a->doc), ==, 3);
  g_assert_false (patches_doc_get_has_pending (a->doc));
  quarantined = quarantined_ids (store, "q");
  g_assert_cmpstr (quarantined, ==, "bad");
  {
    g_autofree char *json = doc_json (a->doc);

    g_assert_cmpstr (json, ==, "{\"body\":\"two\",\"heading\":\"one\"}");
  }

  WAIT_UNTIL (patches_doc_get_committed_rev (b->doc) == 3);
  {
    g_autofree char *json_a = doc_json (a->doc);
    g_autofree char *json_b = doc_json (b->doc);

    g_assert_cmpstr (json_a, ==, json_b);
  }
  g_assert_cmpuint (b->committed->len, ==, 3);
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (b->committed, 0))->id, ==, "good1");
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (b->committed, 1))->id, ==, "good2");
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (b->committed, 2))->id, ==, "good3");
}

/* /Sync/quarantine-limit: at most three changes of a document are set
 * aside; the fourth is an ordinary sync error, and nothing is dropped */

static void
test_quarantine_limit (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  PatchesStore *store = PATCHES_STORE (patches_memory_store_new ());
  g_autoptr(Peer) a = NULL;
  g_autoptr(PatchesDocSyncState) state = NULL;
  g_autofree char *quarantined = NULL;
  GPtrArray *pending;

  store_append_raw (store, "limit", 0,
                    "ok", "[{\"op\":\"replace\",\"path\":\"/n\",\"value\":1}]",
                    "bad1", "[{\"op\":\"replace\",\"path\":\"/n\"}]",
                    "bad2", "[{\"op\":\"@nope\",\"path\":\"/n\",\"value\":2}]",
                    "bad3", "[{\"op\":\"add\",\"path\":\"/m\"}]",
                    "bad4", "[{\"op\":\"test\",\"path\":\"/n\"}]",
                    NULL);
  a = peer_new_with_store (url, "limit", store);
  peer_start_connect (a);
  WAIT_UNTIL (({ g_autoptr(PatchesDocSyncState) s = patches_sync_get_doc_state (a->sync, "limit");
                 s != NULL && s->status == PATCHES_SYNC_STATUS_ERROR; }));

  quarantined = quarantined_ids (store, "limit");
  g_assert_cmpstr (quarantined, ==, "bad1 bad2 bad3");
  state = patches_sync_get_doc_state (a->sync, "limit");
  g_assert_error (state->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
  g_assert_cmpint (patches_rpc_error_get_code (state->error), ==, 400);
  g_assert_nonnull (strstr (state->error->message, "bad4"));
  g_assert_true (state->has_pending);
  g_assert_cmpint (state->committed_rev, ==, 0);

  /* three set aside, then the error of the fourth */
  g_assert_cmpuint (a->n_errors, ==, 4);
  g_assert_nonnull (strstr (a->last_error->message, "bad4"));
  g_assert_null (strstr (a->last_error->message, "set aside"));

  pending = patches_doc_get_pending (a->doc);
  g_assert_cmpuint (pending->len, ==, 2);
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (pending, 0))->id, ==, "ok");
  g_assert_cmpint (((PatchesChange *) g_ptr_array_index (pending, 0))->rev, ==, 1);
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (pending, 1))->id, ==, "bad4");
  g_assert_cmpint (((PatchesChange *) g_ptr_array_index (pending, 1))->rev, ==, 2);
}

/* /Sync/refused-but-valid: a change the server refuses by name that
 * applies here (a root replace on a document others created) is not set
 * aside: it is a sync error and stays pending */

static void
test_refused_but_valid (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  PatchesStore *store = PATCHES_STORE (patches_memory_store_new ());
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = peer_new (url, "root");
  g_autoptr(PatchesDocSyncState) state = NULL;
  g_autofree char *quarantined = NULL;

  peer_connect (b);
  set_string (b->doc, "/title", "by b");
  WAIT_UNTIL (peer_synced (b) && patches_doc_get_committed_rev (b->doc) == 1);

  store_append_raw (store, "root", 0,
                    "whole", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"title\":\"mine\"}}]",
                    NULL);
  a = peer_new_with_store (url, "root", store);
  peer_start_connect (a);
  WAIT_UNTIL (({ g_autoptr(PatchesDocSyncState) s = patches_sync_get_doc_state (a->sync, "root");
                 s != NULL && s->status == PATCHES_SYNC_STATUS_ERROR; }));

  state = patches_sync_get_doc_state (a->sync, "root");
  g_assert_cmpint (patches_rpc_error_get_code (state->error), ==, 400);
  g_assert_cmpstr (patches_value_get_string (patches_value_object_get (patches_rpc_error_get_data (state->error),
                                                                       "changeId")), ==, "whole");
  g_assert_true (state->has_pending);
  quarantined = quarantined_ids (store, "root");
  g_assert_cmpstr (quarantined, ==, "");
  g_assert_cmpuint (a->n_errors, ==, 1);
  g_assert_cmpuint (patches_doc_get_n_pending (a->doc), ==, 1);
  g_assert_cmpstr (doc_string (a->doc, "title"), ==, "mine");
  g_assert_cmpstr (doc_string (b->doc, "title"), ==, "by b");
}

/* /Sync/committed-unappliable: the server accepts a change that no
 * replica can apply (it writes through a number); the committer and a
 * subscriber each report it, reload, count it as empty and agree
 * (PROTOCOL.md §8.9 row 2) */

static void
test_committed_unappliable (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autoptr(PatchesStore) store = PATCHES_STORE (patches_memory_store_new ());
  g_autoptr(Peer) a = peer_new (url, "poison");
  g_autoptr(Peer) b = peer_new_with_store (url, "poison", g_object_ref (store));

  peer_connect (a);
  peer_connect (b);
  set_string (a->doc, "/title", "first");
  WAIT_UNTIL (peer_synced (a) && patches_doc_get_committed_rev (b->doc) == 1);

  /* b quits; its queue gets a change that writes through a number */
  peer_detach (b);
  store_append_raw (store, "poison", 1,
                    "five", "[{\"op\":\"replace\",\"path\":\"/n\",\"value\":5}]",
                    "through", "[{\"op\":\"replace\",\"path\":\"/n/x\",\"value\":1}]",
                    NULL);
  b->store = g_object_ref (store);
  peer_attach (b, url);
  peer_connect (b);

  WAIT_UNTIL (peer_synced (a) && patches_doc_get_committed_rev (a->doc) == 3);
  g_assert_cmpint (patches_doc_get_committed_rev (b->doc), ==, 3);
  {
    g_autofree char *json_a = doc_json (a->doc);
    g_autofree char *json_b = doc_json (b->doc);

    g_assert_cmpstr (json_a, ==, "{\"title\":\"first\",\"n\":5}");
    g_assert_cmpstr (json_b, ==, json_a);
  }
  g_assert_false (patches_doc_get_has_pending (b->doc));

  /* each side said which change it could not apply, then that the
   * reload did not make it apply either (it counts as empty) */
  g_assert_cmpuint (a->n_errors, ==, 2);
  g_assert_error (a->last_error, PATCHES_ERROR, PATCHES_ERROR_APPLY_CHANGES);
  g_assert_true (g_str_has_prefix (a->last_error->message, "Committed change through (rev 3) of poison "
                                                           "does not apply even after a reload"));
  g_assert_cmpuint (b->n_errors, ==, 2);
  g_assert_error (b->last_error, PATCHES_ERROR, PATCHES_ERROR_APPLY_CHANGES);
  g_assert_true (g_str_has_prefix (b->last_error->message, "Committed change through (rev 3)"));

  /* and later changes flow again */
  set_string (a->doc, "/title", "after");
  WAIT_UNTIL (patches_doc_get_committed_rev (b->doc) == 4);
  g_assert_cmpstr (doc_string (b->doc, "title"), ==, "after");
  g_assert_true (peer_synced (b));
}

/* /Sync/lost-ack: a commit whose answer was lost goes out again after
 * the reconnect, with an edit typed on top of it.  The server knows the
 * resend as this client's own through its stable X-Patches-Client-Id
 * (PROTOCOL.md §12 #1), so the later edit is not shifted a second time:
 * "aXYbc", not "aXbYc" */

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
test_lost_ack (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autoptr(Peer) a = peer_new (url, "ack");
  g_autoptr(Peer) b = peer_new (url, "ack");
  g_autoptr(PatchesConnection) lost = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(PatchesCommitResult) committed = NULL;
  g_autoptr(GPtrArray) first = patches_changes_new ();
  g_autofree char *client_id = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *pending;

  peer_connect (a);
  peer_connect (b);
  insert_text (a->doc, "/body", 0, "abc");
  WAIT_UNTIL (peer_synced (a) && patches_doc_get_committed_rev (b->doc) == 1);

  patches_sync_disconnect (a->sync);
  insert_text (a->doc, "/body", 1, "X");
  insert_text (a->doc, "/body", 2, "Y");
  pending = patches_doc_get_pending (a->doc);
  g_assert_cmpuint (pending->len, ==, 2);

  /* the first went out and was committed, but the answer never came */
  client_id = patches_client_dup_client_id (a->client);
  lost = patches_connection_new (url);
  patches_connection_set_header (lost, "X-Patches-Client-Id", client_id);
  patches_connection_open_async (lost, NULL, store_result_cb, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_true (patches_connection_open_finish (lost, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_ptr_array_add (first, patches_change_ref (g_ptr_array_index (pending, 0)));
  patches_connection_commit_changes_async (lost, "ack", first, NULL, NULL, store_result_cb, &result);
  WAIT_UNTIL (result != NULL);
  committed = patches_connection_commit_changes_finish (lost, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (committed->changes->len, ==, 1);
  patches_connection_close (lost);
  WAIT_UNTIL (patches_doc_get_committed_rev (b->doc) == 2);

  /* a comes back and sends both */
  peer_connect (a);
  WAIT_UNTIL (patches_doc_get_committed_rev (a->doc) == 3 && patches_doc_get_committed_rev (b->doc) == 3);
  {
    g_autofree char *json_a = doc_json (a->doc);
    g_autofree char *json_b = doc_json (b->doc);

    g_assert_cmpstr (json_a, ==, "{\"body\":{\"ops\":[{\"insert\":\"aXYbc\\n\"}]}}");
    g_assert_cmpstr (json_b, ==, json_a);
  }
  g_assert_cmpuint (a->n_errors, ==, 0);
}

/* /Sync/converge: two clients edit one document concurrently */

static void
run_converge (gboolean sqlite)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  g_autofree char *json_a = NULL;
  g_autofree char *json_b = NULL;

  if (sqlite)
    {
      g_autofree char *path_a = tmp_file (server, "a.db");
      g_autofree char *path_b = tmp_file (server, "b.db");
      g_autoptr(GError) error = NULL;
      PatchesSqliteStore *store_a = patches_sqlite_store_new (path_a, &error);
      PatchesSqliteStore *store_b;

      g_assert_no_error (error);
      store_b = patches_sqlite_store_new (path_b, &error);
      g_assert_no_error (error);
      a = peer_new_with_store (url, "note/1", PATCHES_STORE (store_a));
      b = peer_new_with_store (url, "note/1", PATCHES_STORE (store_b));
    }
  else
    {
      a = peer_new (url, "note/1");
      b = peer_new (url, "note/1");
    }

  peer_connect (a);
  peer_connect (b);

  set_string (a->doc, "/title", "Shared");
  insert_text (a->doc, "/body", 0, "Hi");
  WAIT_UNTIL (peer_synced (a) && patches_doc_get_committed_rev (b->doc) == 2);
  g_assert_cmpstr (doc_string (b->doc, "title"), ==, "Shared");

  /* Both type at once, several times, without waiting for each other */
  for (guint round = 0; round < 4; round++)
    {
      g_autofree char *text_a = g_strdup_printf ("a%u", round);
      g_autofree char *text_b = g_strdup_printf ("b%u", round);
      g_autofree char *title = g_strdup_printf ("title %u", round);

      insert_text (a->doc, "/body", 0, text_a);
      insert_text (b->doc, "/body", 2, text_b);
      set_string (b->doc, "/title", title);
      set_string (a->doc, "/owner", "a");
      patches_test_sleep_ms (round * 7);
    }

  WAIT_UNTIL (peer_synced (a) && peer_synced (b) &&
              patches_doc_get_committed_rev (a->doc) == patches_doc_get_committed_rev (b->doc) &&
              patches_doc_get_committed_rev (a->doc) == 2 + 4 * 4);

  json_a = doc_json (a->doc);
  json_b = doc_json (b->doc);
  g_assert_cmpstr (json_a, ==, json_b);
  g_assert_cmpstr (doc_string (a->doc, "title"), ==, "title 3");
  g_assert_cmpstr (doc_string (a->doc, "owner"), ==, "a");
  for (guint round = 0; round < 4; round++)
    {
      g_autofree char *text_a = g_strdup_printf ("a%u", round);
      g_autofree char *text_b = g_strdup_printf ("b%u", round);

      g_assert_nonnull (strstr (json_a, text_a));
      g_assert_nonnull (strstr (json_a, text_b));
    }
  g_assert_cmpuint (a->n_errors, ==, 0);
  g_assert_cmpuint (b->n_errors, ==, 0);
}

static void
test_converge_memory (void)
{
  run_converge (FALSE);
}

static void
test_converge_sqlite (void)
{
  run_converge (TRUE);
}

/* /Sync/states: the exact notifications through connect, edit, a server
 * that dies, offline edits, and the server back on the same port */

static void
test_states (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autoptr(Peer) a = peer_new (url, "doc");
  g_autoptr(Peer) b = NULL;
  g_autoptr(PatchesDocSyncState) state = NULL;
  guint n_dials;

  /* construction */
  g_assert_true (patches_sync_get_online (a->sync));
  g_assert_false (patches_sync_get_connected (a->sync));
  g_assert_cmpint (patches_sync_get_sync_status (a->sync), ==, PATCHES_SYNC_STATUS_UNSYNCED);
  g_assert_null (patches_sync_get_sync_error (a->sync));
  g_assert_cmpint (patches_sync_get_next_retry_time (a->sync), ==, 0);
  state = patches_sync_get_doc_state (a->sync, "doc");
  g_assert_nonnull (state);
  g_assert_cmpint (state->status, ==, PATCHES_SYNC_STATUS_UNSYNCED);
  g_assert_false (state->loaded);
  g_assert_null (patches_sync_get_doc_state (a->sync, "other"));

  /* connect → synced */
  peer_record (a);
  peer_connect (a);
  assert_log (a, "connected=1 status=syncing doc=syncing/r0/p0 doc=synced/r0/p0 status=synced");
  g_clear_pointer (&state, patches_doc_sync_state_free);
  state = patches_sync_get_doc_state (a->sync, "doc");
  g_assert_true (state->loaded);
  g_assert_cmpint (patches_doc_get_sync_status (a->doc), ==, PATCHES_SYNC_STATUS_SYNCED);
  g_assert_cmpint (patches_sync_get_connection_state (a->sync), ==, PATCHES_CONNECTION_STATE_CONNECTED);

  /* local edit → syncing → synced (the global status stays synced) */
  set_string (a->doc, "/title", "one");
  WAIT_UNTIL (peer_synced (a) && patches_doc_get_committed_rev (a->doc) == 1);
  assert_log (a, "doc=synced/r0/p1 doc=syncing/r0/p1 doc=syncing/r1/p0 doc=synced/r1/p0");

  /* server killed → disconnected, unsynced, reconnects scheduled */
  patches_test_server_kill (server);
  WAIT_UNTIL (!patches_sync_get_connected (a->sync));
  assert_log (a, "connected=0 status=unsynced");
  g_assert_null (patches_sync_get_sync_error (a->sync));
  WAIT_UNTIL (patches_sync_get_next_retry_time (a->sync) > 0);

  /* edits meanwhile stay pending */
  set_string (a->doc, "/title", "offline");
  set_string (a->doc, "/extra", "x");
  patches_test_sleep_ms (900);
  g_clear_pointer (&state, patches_doc_sync_state_free);
  state = patches_sync_get_doc_state (a->sync, "doc");
  g_assert_true (state->has_pending);
  g_assert_cmpint (state->status, ==, PATCHES_SYNC_STATUS_SYNCED);
  g_assert_cmpint (state->committed_rev, ==, 1);
  g_assert_true (patches_doc_get_has_pending (a->doc));
  g_assert_cmpuint (patches_doc_get_n_pending (a->doc), ==, 2);
  g_assert_cmpint (patches_sync_get_sync_status (a->sync), ==, PATCHES_SYNC_STATUS_UNSYNCED);
  g_assert_cmpuint (a->n_errors, ==, 0);
  assert_log (a, "doc=synced/r1/p1");

  /* failed dials back off: 100, 150, 225, 337 ms … after the drop (dial
   * 0 was the first connect, dial 1 the first retry); a timer never fires
   * early, so each gap is at least its delay */
  n_dials = a->dial_times->len;
  g_assert_cmpuint (n_dials, >=, 4);
  for (guint i = 2; i < n_dials; i++)
    {
      gint64 gap = g_array_index (a->dial_times, gint64, i) - g_array_index (a->dial_times, gint64, i - 1);
      double delay_ms = 100 * pow (1.5, i - 1);

      g_assert_cmpint (gap, >=, (gint64) (delay_ms * 1000) - 2000);
    }

  /* the server back on the same port and database */
  patches_test_server_restart (server);
  WAIT_UNTIL (peer_synced (a));
  assert_log (a, "connected=1 status=syncing doc=syncing/r1/p1 doc=syncing/r3/p0 doc=synced/r3/p0 status=synced");
  g_assert_cmpint (patches_sync_get_next_retry_time (a->sync), ==, 0);

  /* and another client sees the offline edits */
  b = peer_new (url, "doc");
  peer_connect (b);
  g_assert_cmpstr (doc_string (b->doc, "title"), ==, "offline");
  g_assert_cmpstr (doc_string (b->doc, "extra"), ==, "x");
  g_assert_cmpint (patches_doc_get_committed_rev (b->doc), ==, 3);

  /* disconnect: intent off, nothing scheduled */
  patches_sync_disconnect (a->sync);
  assert_log (a, "connected=0 status=unsynced");
  patches_test_sleep_ms (300);
  g_assert_false (patches_sync_get_connected (a->sync));
  g_assert_cmpint (patches_sync_get_next_retry_time (a->sync), ==, 0);
  g_assert_cmpint (patches_sync_get_connection_state (a->sync), ==, PATCHES_CONNECTION_STATE_DISCONNECTED);
}

/* /Sync/online: offline closes the socket and schedules nothing; online
 * dials at once */

static void
test_online (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autoptr(Peer) a = peer_new (patches_test_server_get_url (server), "doc");

  peer_connect (a);
  set_string (a->doc, "/n", "1");
  WAIT_UNTIL (peer_synced (a));

  peer_record (a);
  _patches_sync_set_online (a->sync, FALSE);
  assert_log (a, "online=0 connected=0 status=unsynced");
  patches_test_sleep_ms (400);
  g_assert_false (patches_sync_get_connected (a->sync));
  g_assert_cmpint (patches_sync_get_next_retry_time (a->sync), ==, 0);

  /* an edit while offline waits */
  set_string (a->doc, "/n", "2");
  patches_test_sleep_ms (100);
  g_assert_true (patches_doc_get_has_pending (a->doc));

  _patches_sync_set_online (a->sync, TRUE);
  WAIT_UNTIL (peer_synced (a));
  assert_log (a, "doc=synced/r1/p1 online=1 connected=1 status=syncing doc=syncing/r1/p1 "
                 "doc=syncing/r2/p0 doc=synced/r2/p0 status=synced");
}

/* /Sync/token-refused: a wrong token fails connect with an error status
 * that stays through the background retries; the right one connects */

static void
test_token_refused (void)
{
  g_autoptr(PatchesTestServer) server =
    patches_test_server_new_with_tokens ("goodtoken alice *:write\n", NULL);
  g_autoptr(Peer) a = peer_new (patches_test_server_get_url (server), "doc");
  const GError *sync_error;
  guint dials;

  patches_sync_set_header (a->sync, "Authorization", "Bearer wrongtoken");
  peer_record (a);
  peer_start_connect (a);
  WAIT_UNTIL (a->connect_done);

  g_assert_false (a->connect_ok);
  g_assert_error (a->connect_error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET);
  g_assert_nonnull (strstr (a->connect_error->message, "401"));
  g_assert_false (patches_sync_get_connected (a->sync));
  g_assert_cmpint (patches_sync_get_sync_status (a->sync), ==, PATCHES_SYNC_STATUS_ERROR);
  sync_error = patches_sync_get_sync_error (a->sync);
  g_assert_error (sync_error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET);
  g_assert_cmpuint (a->n_errors, ==, 1);
  g_assert_error (a->last_error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET);
  g_assert_cmpuint (patches_connection_get_last_http_status (patches_sync_get_connection (a->sync)), ==, 401);
  assert_log (a, "status=error");

  /* retried in the background, still refused, still an error, reported once */
  dials = a->dial_times->len;
  WAIT_UNTIL (a->dial_times->len >= dials + 2);
  WAIT_UNTIL (patches_sync_get_connection_state (a->sync) != PATCHES_CONNECTION_STATE_CONNECTING);
  g_assert_cmpint (patches_sync_get_sync_status (a->sync), ==, PATCHES_SYNC_STATUS_ERROR);
  g_assert_cmpuint (a->n_errors, ==, 1);
  assert_log (a, "");

  /* the right token */
  patches_sync_set_header (a->sync, "Authorization", "Bearer goodtoken");
  patches_sync_retry_now (a->sync);
  WAIT_UNTIL (peer_synced (a));
  g_assert_null (patches_sync_get_sync_error (a->sync));
  assert_log (a, "connected=1 status=syncing doc=syncing/r0/p0 doc=synced/r0/p0 status=synced");
}

/* /Sync/remote-deletion: a document deleted by another client is purged
 * here and its pending changes handed over */

static void
test_remote_deletion (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autoptr(Peer) a = peer_new (url, "gone");
  g_autoptr(Peer) b = peer_new (url, "gone");
  g_autoptr(Peer) c = peer_new (url, "gone");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) tombstones = NULL;
  g_autofree char *pending_a = NULL;
  g_autofree char *pending_b = NULL;
  GPtrArray *pending;

  peer_connect (a);
  peer_connect (b);
  peer_connect (c);
  set_string (a->doc, "/title", "doomed");
  WAIT_UNTIL (peer_synced (a) && patches_doc_get_committed_rev (b->doc) == 1 &&
              patches_doc_get_committed_rev (c->doc) == 1);

  /* a goes away and keeps editing */
  patches_sync_disconnect (a->sync);
  set_string (a->doc, "/title", "still here");
  set_string (a->doc, "/more", "text");
  pending = patches_doc_get_pending (a->doc);
  g_assert_cmpuint (pending->len, ==, 2);
  pending_a = g_strdup (((PatchesChange *) g_ptr_array_index (pending, 0))->id);
  pending_b = g_strdup (((PatchesChange *) g_ptr_array_index (pending, 1))->id);

  /* b deletes it: the server is told at once, c is notified */
  peer_record (c);
  g_assert_true (patches_client_delete_doc (b->client, "gone", &error));
  g_assert_no_error (error);
  WAIT_UNTIL (c->deleted_id != NULL);
  g_assert_cmpstr (c->deleted_id, ==, "gone");
  g_assert_cmpuint (c->deleted_pending->len, ==, 0);
  g_assert_false (patches_client_is_tracked (c->client, "gone"));
  g_assert_null (patches_client_get_open_doc (c->client, "gone"));
  g_assert_null (patches_sync_get_doc_state (c->sync, "gone"));
  assert_log (c, "gone=gone");
  WAIT_UNTIL (({ g_auto(GStrv) t = patches_client_list_tombstones (b->client); t == NULL || t[0] == NULL; }));
  g_assert_null (patches_sync_get_doc_state (b->sync, "gone"));

  /* a comes back: the deletion wins, its pending changes are handed over */
  peer_start_connect (a);
  WAIT_UNTIL (a->deleted_id != NULL);
  g_assert_cmpstr (a->deleted_id, ==, "gone");
  g_assert_cmpuint (a->deleted_pending->len, ==, 2);
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (a->deleted_pending, 0))->id, ==, pending_a);
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (a->deleted_pending, 1))->id, ==, pending_b);
  g_assert_false (patches_client_is_tracked (a->client, "gone"));
  g_assert_null (patches_client_get_open_doc (a->client, "gone"));
  g_assert_null (patches_sync_get_doc_state (a->sync, "gone"));
  tombstones = patches_client_list_tombstones (a->client);
  g_assert_true (tombstones == NULL || tombstones[0] == NULL);
  WAIT_UNTIL (patches_sync_get_sync_status (a->sync) == PATCHES_SYNC_STATUS_SYNCED);
  g_assert_cmpuint (a->n_errors, ==, 0);
}

/* /Sync/offline-deletion: deleted while disconnected → a tombstone, sent
 * as deleteDoc on the next connect, then purged */

static void
test_offline_deletion (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autoptr(Peer) a = peer_new (url, "old");
  g_autoptr(Peer) b = peer_new (url, "old");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) tombstones = NULL;

  peer_connect (a);
  peer_connect (b);
  set_string (a->doc, "/title", "old news");
  WAIT_UNTIL (peer_synced (a) && patches_doc_get_committed_rev (b->doc) == 1);

  patches_sync_disconnect (a->sync);
  g_clear_object (&a->doc);
  g_assert_true (patches_client_delete_doc (a->client, "old", &error));
  g_assert_no_error (error);
  tombstones = patches_client_list_tombstones (a->client);
  g_assert_cmpstrv (tombstones, ((const char * const[]) { "old", NULL }));
  g_assert_null (patches_sync_get_doc_state (a->sync, "old"));

  /* nothing reaches b while a is away */
  patches_test_sleep_ms (200);
  g_assert_null (b->deleted_id);

  g_clear_pointer (&a->doc_id, g_free);
  peer_connect (a);
  WAIT_UNTIL (b->deleted_id != NULL);
  g_assert_cmpstr (b->deleted_id, ==, "old");
  WAIT_UNTIL (({ g_auto(GStrv) t = patches_client_list_tombstones (a->client); t == NULL || t[0] == NULL; }));
  g_assert_cmpuint (a->n_errors, ==, 0);
}

/* /Sync/sqlite-offline: offline edits in a PatchesSqliteStore survive the
 * client being destroyed and created again, and go out on reconnect */

static void
test_sqlite_offline (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autofree char *path = tmp_file (server, "client.db");
  g_autoptr(GError) error = NULL;
  g_autoptr(Peer) a = NULL;
  g_autoptr(Peer) b = NULL;
  g_autoptr(PatchesDocSyncState) state = NULL;
  PatchesSqliteStore *store;

  store = patches_sqlite_store_new (path, &error);
  g_assert_no_error (error);
  a = peer_new_with_store (url, "draft", PATCHES_STORE (store));
  peer_connect (a);
  set_string (a->doc, "/title", "first");
  WAIT_UNTIL (peer_synced (a) && patches_doc_get_committed_rev (a->doc) == 1);

  /* offline: the server goes away, two edits */
  patches_test_server_stop (server);
  WAIT_UNTIL (!patches_sync_get_connected (a->sync));
  set_string (a->doc, "/title", "second");
  insert_text (a->doc, "/body", 0, "written offline");
  g_assert_cmpuint (patches_doc_get_n_pending (a->doc), ==, 2);

  /* the application quits */
  peer_detach (a);

  /* and starts again from the same file */
  store = patches_sqlite_store_new (path, &error);
  g_assert_no_error (error);
  a->store = PATCHES_STORE (store);
  peer_attach (a, url);
  g_assert_cmpuint (patches_doc_get_n_pending (a->doc), ==, 2);
  g_assert_cmpint (patches_doc_get_committed_rev (a->doc), ==, 1);
  g_assert_cmpstr (doc_string (a->doc, "title"), ==, "second");
  state = patches_sync_get_doc_state (a->sync, "draft");
  g_assert_nonnull (state);
  g_assert_true (state->has_pending);
  g_assert_cmpint (state->committed_rev, ==, 1);

  patches_test_server_restart (server);
  peer_connect (a);
  g_assert_cmpint (patches_doc_get_committed_rev (a->doc), ==, 3);
  g_assert_false (patches_doc_get_has_pending (a->doc));

  b = peer_new (url, "draft");
  peer_connect (b);
  {
    g_autofree char *json_a = doc_json (a->doc);
    g_autofree char *json_b = doc_json (b->doc);

    g_assert_cmpstr (json_a, ==, json_b);
    g_assert_nonnull (strstr (json_b, "written offline"));
    g_assert_cmpstr (doc_string (b->doc, "title"), ==, "second");
  }
}

/* /Sync/max-batch-size: a large upload goes out in several commits, each
 * change carrying batchId = the first pending change's id */

static void
test_max_batch_size (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autoptr(Peer) a = peer_new (url, "big");
  g_autoptr(Peer) b = peer_new (url, "big");
  g_autofree char *first_id = NULL;
  g_autofree char *client_id = NULL;
  guint n_before;

  peer_connect (a);
  peer_connect (b);
  client_id = patches_client_dup_client_id (a->client);
  g_assert_nonnull (client_id);

  patches_sync_disconnect (a->sync);
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *path = g_strdup_printf ("/k%u", i);
      g_autofree char *value = g_strnfill (60, (char) ('a' + i));

      set_string (a->doc, path, value);
    }
  first_id = g_strdup (((PatchesChange *) g_ptr_array_index (patches_doc_get_pending (a->doc), 0))->id);

  /* a budget for exactly two changes (with their batchId) a batch */
  {
    g_autoptr(PatchesChange) probe = patches_change_copy (g_ptr_array_index (patches_doc_get_pending (a->doc), 5));
    gsize size;

    probe->batch_id = g_strdup (first_id);
    size = patches_change_json_size (probe);
    g_object_set (a->sync, "max-batch-size", (guint) (2 + 2 * size + 1 + size / 2), NULL);
  }
  n_before = b->n_committed;
  peer_connect (a);
  WAIT_UNTIL (b->committed->len == 6);

  g_assert_cmpuint (b->n_committed - n_before, ==, 3);
  for (guint i = 0; i < b->committed->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (b->committed, i);

      g_assert_cmpstr (change->batch_id, ==, first_id);
      g_assert_cmpint (change->rev, ==, i + 1);
      /* the server stamps the client's stable id (X-Patches-Client-Id) */
      g_assert_cmpstr (change->client_id, ==, client_id);
    }
  {
    g_autofree char *json_a = doc_json (a->doc);
    g_autofree char *json_b = doc_json (b->doc);

    g_assert_cmpstr (json_a, ==, json_b);
  }
  g_assert_cmpint (patches_doc_get_committed_rev (a->doc), ==, 6);

  /* one change larger than the budget is split, and the store keeps the
   * pieces that were sent */
  {
    g_autoptr(PatchesPatch) patch = patches_patch_new ();

    for (guint i = 0; i < 5; i++)
      {
        g_autofree char *path = g_strdup_printf ("/big%u", i);
        g_autofree char *value = g_strnfill (80, 'z');

        patches_patch_replace (patch, path, patches_value_new_string (value), FALSE);
      }
    doc_change (a->doc, patch);
  }
  WAIT_UNTIL (peer_synced (a) && b->committed->len > 6 &&
              patches_doc_get_committed_rev (b->doc) == patches_doc_get_committed_rev (a->doc));
  g_assert_cmpint (patches_doc_get_committed_rev (a->doc), >, 7);
  {
    g_autofree char *json_a = doc_json (a->doc);
    g_autofree char *json_b = doc_json (b->doc);

    g_assert_cmpstr (json_a, ==, json_b);
    g_assert_nonnull (strstr (json_b, "\"big4\""));
  }
}

/* /Sync/batch-delay: edits within the delay go out as one commit */

static void
test_batch_delay (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autoptr(Peer) a = peer_new (url, "typing");
  g_autoptr(Peer) b = peer_new (url, "typing");

  g_object_set (a->sync, "batch-delay", (guint) 400, NULL);
  peer_connect (a);
  peer_connect (b);

  insert_text (a->doc, "/body", 0, "a");
  patches_test_sleep_ms (50);
  insert_text (a->doc, "/body", 1, "b");
  patches_test_sleep_ms (50);
  insert_text (a->doc, "/body", 2, "c");
  g_assert_cmpuint (patches_doc_get_n_pending (a->doc), ==, 3);

  WAIT_UNTIL (b->committed->len == 3);
  g_assert_cmpuint (b->n_committed, ==, 1);
  WAIT_UNTIL (peer_synced (a));
  g_assert_cmpint (patches_doc_get_committed_rev (a->doc), ==, 3);

  /* without the delay each edit goes at once (the next while the first
   * is in flight collapses into one follow-up) */
  g_object_set (a->sync, "batch-delay", (guint) 0, NULL);
  insert_text (a->doc, "/body", 3, "d");
  WAIT_UNTIL (b->committed->len == 4);
  g_assert_cmpuint (b->n_committed, ==, 2);
}

/* /Sync/server-behind: the client's committed revision is ahead of the
 * server (a server restored from an older database): the 409 reload
 * restamps the pending changes onto the server's head, no loop */

static void
test_server_behind (void)
{
  g_autoptr(PatchesTestServer) first = patches_test_server_new (NULL);
  g_autoptr(PatchesTestServer) second = patches_test_server_new (NULL);
  g_autoptr(Peer) a = peer_new (patches_test_server_get_url (first), "moved");
  g_autoptr(Peer) b = NULL;

  peer_connect (a);
  set_string (a->doc, "/one", "1");
  set_string (a->doc, "/two", "2");
  set_string (a->doc, "/three", "3");
  WAIT_UNTIL (peer_synced (a) && patches_doc_get_committed_rev (a->doc) == 3);

  patches_sync_disconnect (a->sync);
  set_string (a->doc, "/title", "kept");

  patches_sync_set_url (a->sync, patches_test_server_get_url (second));
  peer_connect (a);
  g_assert_cmpint (patches_doc_get_committed_rev (a->doc), ==, 1);
  g_assert_cmpstr (doc_string (a->doc, "title"), ==, "kept");
  g_assert_null (doc_string (a->doc, "one"));

  b = peer_new (patches_test_server_get_url (second), "moved");
  peer_connect (b);
  {
    g_autofree char *json_a = doc_json (a->doc);
    g_autofree char *json_b = doc_json (b->doc);

    g_assert_cmpstr (json_a, ==, json_b);
  }
}

/* /Sync/ping-timeout: a server that stops answering (SIGSTOP) is noticed
 * through unanswered pings; the sync reconnects once it runs again */

static void
test_ping_timeout (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autoptr(Peer) a = peer_new (url, "quiet");
  gint64 stopped;

  peer_connect (a);
  g_assert_cmpuint (patches_sync_get_connected (a->sync), ==, TRUE);

  patches_test_server_signal (server, SIGSTOP);
  stopped = g_get_monotonic_time ();
  WAIT_UNTIL (!patches_sync_get_connected (a->sync));
  /* ping interval 1 s, silent for 1 s more */
  g_assert_cmpint (g_get_monotonic_time () - stopped, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpint (patches_sync_get_sync_status (a->sync), ==, PATCHES_SYNC_STATUS_UNSYNCED);

  set_string (a->doc, "/title", "while it slept");
  patches_test_server_signal (server, SIGCONT);
  WAIT_UNTIL (peer_synced (a));
  g_assert_cmpint (patches_doc_get_committed_rev (a->doc), ==, 1);
  g_assert_cmpuint (a->n_errors, ==, 0);
}

/* /Sync/tracking: a document opened while connected is subscribed and
 * synced; an untracked one is forgotten and no longer followed */

static void
test_tracking (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autoptr(Peer) a = peer_new (url, NULL);
  g_autoptr(Peer) b = peer_new (url, "later");
  g_autoptr(PatchesDoc) doc = NULL;
  g_autoptr(PatchesDocSyncState) state = NULL;
  g_autoptr(GError) error = NULL;
  const char * const ids[] = { "later", NULL };
  guint n_committed;

  peer_connect (a);
  peer_connect (b);
  set_string (b->doc, "/title", "from b");
  WAIT_UNTIL (peer_synced (b) && patches_doc_get_committed_rev (b->doc) == 1);

  /* open while connected: subscribe, then a sync that loads it */
  g_assert_null (patches_sync_get_doc_state (a->sync, "later"));
  peer_record (a);
  doc = patches_client_open_doc (a->client, "later", &error);
  g_assert_no_error (error);
  WAIT_UNTIL (patches_doc_get_committed_rev (doc) == 1);
  WAIT_UNTIL (({ g_autoptr(PatchesDocSyncState) s = patches_sync_get_doc_state (a->sync, "later");
                 s != NULL && s->status == PATCHES_SYNC_STATUS_SYNCED; }));
  g_assert_cmpstr (doc_string (doc, "title"), ==, "from b");
  assert_log (a, "later=unsynced/r0/p0 later=syncing/r0/p0 later=syncing/r1/p0 later=synced/r1/p0");

  /* subscribed: b's next edit arrives as a notification */
  set_string (b->doc, "/title", "again");
  WAIT_UNTIL (patches_doc_get_committed_rev (doc) == 2);
  g_assert_cmpstr (doc_string (doc, "title"), ==, "again");
  state = patches_sync_get_doc_state (a->sync, "later");
  g_assert_cmpint (state->committed_rev, ==, 2);

  /* untracked: state gone, nothing applied any more */
  patches_client_close_doc (a->client, "later");
  g_assert_true (patches_client_untrack_docs (a->client, ids, &error));
  g_assert_no_error (error);
  g_assert_null (patches_sync_get_doc_state (a->sync, "later"));
  assert_log (a, "later=synced/r2/p0 later=gone");
  n_committed = a->n_committed;
  set_string (b->doc, "/title", "unheard");
  WAIT_UNTIL (peer_synced (b) && patches_doc_get_committed_rev (b->doc) == 3);
  patches_test_sleep_ms (200);
  g_assert_cmpuint (a->n_committed, ==, n_committed);
  g_assert_false (patches_client_is_tracked (a->client, "later"));
  g_assert_cmpuint (a->n_errors, ==, 0);
}

/* /Sync/give-up: max-reconnect-attempts stops the retries with an error;
 * retry_now starts over */

static void
test_give_up (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autoptr(Peer) a = peer_new (url, "doc");

  g_object_set (a->sync, "max-reconnect-attempts", (guint) 2, NULL);
  peer_connect (a);

  patches_test_server_kill (server);
  WAIT_UNTIL (patches_sync_get_sync_status (a->sync) == PATCHES_SYNC_STATUS_ERROR);
  g_assert_false (patches_sync_get_connected (a->sync));
  g_assert_error (patches_sync_get_sync_error (a->sync), G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE);
  g_assert_cmpuint (a->n_errors, ==, 1);
  g_assert_cmpint (patches_sync_get_next_retry_time (a->sync), ==, 0);
  /* the first dial plus two retries */
  g_assert_cmpuint (a->dial_times->len, ==, 3);
  patches_test_sleep_ms (500);
  g_assert_cmpuint (a->dial_times->len, ==, 3);

  patches_test_server_restart (server);
  patches_sync_retry_now (a->sync);
  WAIT_UNTIL (peer_synced (a));
  g_assert_null (patches_sync_get_sync_error (a->sync));
}

/* /Sync/reload-required: a first edit made offline on a document this
 * client never synced, which others created meanwhile: the server
 * commits it on top (docReloadRequired), the client drops it from
 * pending and reloads */

static void
test_reload_required (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autoptr(Peer) a = peer_new (url, "shared");
  g_autoptr(Peer) b = peer_new (url, "shared");

  peer_connect (b);
  set_string (b->doc, "/title", "by b");
  set_string (b->doc, "/owner", "b");
  WAIT_UNTIL (peer_synced (b) && patches_doc_get_committed_rev (b->doc) == 2);

  /* a has never been connected: its edit is based on revision 0 */
  set_string (a->doc, "/note", "by a");
  g_assert_cmpint (((PatchesChange *) g_ptr_array_index (patches_doc_get_pending (a->doc), 0))->base_rev, ==, 0);

  peer_connect (a);
  WAIT_UNTIL (patches_doc_get_committed_rev (b->doc) == 3);
  WAIT_UNTIL (peer_synced (a) && patches_doc_get_committed_rev (a->doc) == 3);
  g_assert_cmpstr (doc_string (a->doc, "title"), ==, "by b");
  g_assert_cmpstr (doc_string (a->doc, "note"), ==, "by a");
  {
    g_autofree char *json_a = doc_json (a->doc);
    g_autofree char *json_b = doc_json (b->doc);

    g_assert_cmpstr (json_a, ==, json_b);
  }
  g_assert_cmpuint (a->n_errors, ==, 0);
}

/* /Sync/request-timeout: a server that keeps the socket alive (it answers
 * pings) but never answers one getDoc (PROTOCOL.md §12 hazard 6): the call
 * times out, the document returns to its stable status without an error
 * and is synced again on the same connection */

typedef struct
{
  SoupServer       *server;
  char             *url;
  PatchesTransport *transport;
  PatchesRpc       *rpc;
  GPtrArray        *held;
  guint             n_get_doc;
} Mute;

static void
mute_subscribe (PatchesRpc        *rpc,
                PatchesRpcRequest *request,
                gpointer           user_data)
{
  patches_rpc_request_return_value (request, patches_rpc_request_get_param (request, 0));
}

static void
mute_get_doc (PatchesRpc        *rpc,
              PatchesRpcRequest *request,
              gpointer           user_data)
{
  Mute *mute = user_data;
  g_autoptr(PatchesValue) snapshot = NULL;

  if (mute->n_get_doc++ == 0)
    {
      g_ptr_array_add (mute->held, patches_rpc_request_ref (request));
      return;
    }

  snapshot = patches_test_parse ("{\"state\":{\"title\":\"late\"},\"rev\":1,\"changes\":[]}");
  patches_rpc_request_return_value (request, snapshot);
}

static void
mute_websocket_cb (SoupServer              *server,
                   SoupServerMessage       *msg,
                   const char              *path,
                   SoupWebsocketConnection *ws,
                   gpointer                 user_data)
{
  Mute *mute = user_data;

  g_assert_null (mute->transport);
  mute->transport = PATCHES_TRANSPORT (patches_websocket_transport_new (ws));
  mute->rpc = patches_rpc_new (mute->transport, PATCHES_RPC_ROLE_SERVER);
  patches_rpc_add_method (mute->rpc, "subscribe", mute_subscribe, mute, NULL);
  patches_rpc_add_method (mute->rpc, "getDoc", mute_get_doc, mute, NULL);
}

static void
test_request_timeout (void)
{
  Mute mute = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(Peer) a = NULL;
  g_autoptr(PatchesDocSyncState) state = NULL;
  GSList *uris;
  gint64 start;

  mute.held = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_rpc_request_unref);
  mute.server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (mute.server, NULL, NULL, NULL, mute_websocket_cb, &mute, NULL);
  soup_server_listen_local (mute.server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (mute.server);
  mute.url = g_strdup_printf ("ws://127.0.0.1:%d/sync", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  a = peer_new (mute.url, "mute");
  g_assert_cmpuint (patches_connection_get_request_timeout (patches_sync_get_connection (a->sync)), ==, 60);
  g_object_set (a->sync, "request-timeout", 1, NULL);
  g_assert_cmpuint (patches_connection_get_request_timeout (patches_sync_get_connection (a->sync)), ==, 1);

  start = g_get_monotonic_time ();
  peer_start_connect (a);
  WAIT_UNTIL (a->connect_done);
  g_assert_true (a->connect_ok);
  WAIT_UNTIL (mute.held->len == 1);

  /* Stuck until the timeout, then retried on the same socket */
  WAIT_UNTIL (mute.n_get_doc == 2);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 900 * G_TIME_SPAN_MILLISECOND);
  WAIT_UNTIL (peer_synced (a));
  state = patches_sync_get_doc_state (a->sync, "mute");
  g_assert_cmpint (state->committed_rev, ==, 1);
  g_assert_cmpstr (doc_string (a->doc, "title"), ==, "late");
  g_assert_cmpuint (a->n_errors, ==, 0);
  g_assert_cmpuint (a->dial_times->len, ==, 1);
  g_assert_true (patches_sync_get_connected (a->sync));

  /* The late answer to the first call changes nothing */
  patches_rpc_request_return_error (g_ptr_array_index (mute.held, 0), 500, "too late", NULL);
  start = g_get_monotonic_time ();
  while (g_get_monotonic_time () - start < 200 * G_TIME_SPAN_MILLISECOND)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (peer_synced (a));
  g_assert_cmpuint (a->n_errors, ==, 0);

  g_clear_pointer (&a, peer_free);
  g_clear_pointer (&mute.held, g_ptr_array_unref);
  g_clear_object (&mute.rpc);
  g_clear_object (&mute.transport);
  soup_server_disconnect (mute.server);
  g_clear_object (&mute.server);
  g_free (mute.url);
}

/* /Sync/throttle: the initial sync of 60 documents never has more than
 * PATCHES_SYNC_MAX_CONCURRENT_SYNCS syncDoc runs in progress, whether it
 * flushes local changes, loads documents never seen, or pulls changes,
 * and still ends with every document synced at the server's revision */

#define N_THROTTLE_DOCS 60

/* Counts the documents in the syncing state, as doc-state-changed tells */
typedef struct
{
  GHashTable *syncing;
  guint       peak;
} SyncingWatch;

static void
watch_doc_state_cb (PatchesSync  *sync,
                    const char   *doc_id,
                    SyncingWatch *watch)
{
  g_autoptr(PatchesDocSyncState) state = patches_sync_get_doc_state (sync, doc_id);

  if (state != NULL && state->status == PATCHES_SYNC_STATUS_SYNCING)
    g_hash_table_add (watch->syncing, g_strdup (doc_id));
  else
    g_hash_table_remove (watch->syncing, doc_id);
  watch->peak = MAX (watch->peak, g_hash_table_size (watch->syncing));
}

static void
watch_start (SyncingWatch *watch,
             PatchesSync  *sync)
{
  watch->syncing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  watch->peak = 0;
  g_signal_connect (sync, "doc-state-changed", G_CALLBACK (watch_doc_state_cb), watch);
}

static void
watch_stop (SyncingWatch *watch,
            PatchesSync  *sync)
{
  g_signal_handlers_disconnect_by_data (sync, watch);
  g_clear_pointer (&watch->syncing, g_hash_table_unref);
}

static char **
throttle_doc_ids (void)
{
  char **ids = g_new0 (char *, N_THROTTLE_DOCS + 1);

  for (guint i = 0; i < N_THROTTLE_DOCS; i++)
    ids[i] = g_strdup_printf ("note-%02u", i);

  return ids;
}

/* Connects @peer, waits for the initial sync, and checks that it never
 * ran more than the limit at once (and did use it) */
static void
throttle_connect (Peer *peer)
{
  SyncingWatch watch;

  watch_start (&watch, peer->sync);
  _patches_sync_get_peak_running (peer->sync, TRUE);
  peer_connect (peer);
  watch_stop (&watch, peer->sync);

  g_assert_cmpuint (watch.peak, <=, PATCHES_SYNC_MAX_CONCURRENT_SYNCS);
  g_assert_cmpuint (_patches_sync_get_peak_running (peer->sync, FALSE), ==,
                    PATCHES_SYNC_MAX_CONCURRENT_SYNCS);
}

/* Sets /body of every document of @docs to @value and waits until each
 * has committed revision @rev */
static void
set_bodies_committed (GPtrArray  *docs,
                      const char *value,
                      gint64      rev)
{
  for (guint i = 0; i < docs->len; i++)
    set_string (g_ptr_array_index (docs, i), "/body", value);
  WAIT_UNTIL (({ gboolean all = TRUE;
                 for (guint i = 0; i < docs->len && all; i++)
                   all = patches_doc_get_committed_rev (g_ptr_array_index (docs, i)) == rev;
                 all; }));
}

static void
assert_docs_synced (Peer        *peer,
                    char       **ids,
                    gint64       rev)
{
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr(PatchesDocSyncState) state = patches_sync_get_doc_state (peer->sync, ids[i]);

      g_assert_nonnull (state);
      g_assert_cmpint (state->status, ==, PATCHES_SYNC_STATUS_SYNCED);
      g_assert_cmpint (state->committed_rev, ==, rev);
      g_assert_false (state->has_pending);
      g_assert_cmpint (patches_client_get_committed_rev (peer->client, ids[i]), ==, rev);
    }
}

static void
test_throttle (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autoptr(Peer) w = peer_new (url, NULL);
  g_autoptr(Peer) r = peer_new (url, NULL);
  g_autoptr(GPtrArray) docs = g_ptr_array_new_with_free_func (g_object_unref);
  g_auto(GStrv) ids = throttle_doc_ids ();
  g_autoptr(GError) error = NULL;

  /* w writes every document offline: its initial sync flushes them */
  for (guint i = 0; ids[i] != NULL; i++)
    {
      PatchesDoc *doc = patches_client_open_doc (w->client, ids[i], &error);

      g_assert_no_error (error);
      set_string (doc, "/title", ids[i]);
      g_ptr_array_add (docs, doc);
    }
  throttle_connect (w);
  assert_docs_synced (w, ids, 1);

  /* r tracks them without ever having seen them: its initial sync loads
   * each one */
  g_assert_true (patches_client_track_docs (r->client, (const char * const *) ids, &error));
  g_assert_no_error (error);
  throttle_connect (r);
  assert_docs_synced (r, ids, 1);

  /* while r is away every document changes: its next initial sync pulls */
  patches_sync_disconnect (r->sync);
  set_bodies_committed (docs, "changed", 2);
  throttle_connect (r);
  assert_docs_synced (r, ids, 2);

  /* a disconnection in the middle empties the line: nothing more starts */
  patches_sync_disconnect (r->sync);
  set_bodies_committed (docs, "again", 3);
  _patches_sync_get_peak_running (r->sync, TRUE);
  peer_start_connect (r);
  WAIT_UNTIL (_patches_sync_get_peak_running (r->sync, FALSE) > 0);
  patches_sync_disconnect (r->sync);
  {
    SyncingWatch watch;
    guint n_updated = 0;

    watch_start (&watch, r->sync);
    patches_test_sleep_ms (300);
    watch_stop (&watch, r->sync);
    g_assert_cmpuint (watch.peak, ==, 0);
    g_assert_cmpint (patches_sync_get_sync_status (r->sync), ==, PATCHES_SYNC_STATUS_UNSYNCED);
    for (guint i = 0; ids[i] != NULL; i++)
      n_updated += patches_client_get_committed_rev (r->client, ids[i]) == 3;
    g_assert_cmpuint (n_updated, <, N_THROTTLE_DOCS);
  }
  throttle_connect (r);
  assert_docs_synced (r, ids, 3);

  g_assert_cmpuint (w->n_errors, ==, 0);
  g_assert_cmpuint (r->n_errors, ==, 0);
}

/* /Sync/offline-deletions-throttled: many documents deleted offline go
 * out as deleteDoc calls through the initial sync's line, never more
 * than PATCHES_SYNC_MAX_CONCURRENT_SYNCS at once, and all arrive */

static void
test_offline_deletions_throttled (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_auto(GStrv) ids = throttle_doc_ids ();
  g_autoptr(Peer) a = peer_new (url, NULL);
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  peer_connect (a);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr(PatchesDoc) doc = patches_client_open_doc (a->client, ids[i], &error);

      g_assert_no_error (error);
      set_string (doc, "/title", ids[i]);
    }
  WAIT_UNTIL (peer_synced (a));

  patches_sync_disconnect (a->sync);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_assert_true (patches_client_delete_doc (a->client, ids[i], &error));
      g_assert_no_error (error);
    }

  _patches_sync_get_peak_running (a->sync, TRUE);
  peer_connect (a);
  WAIT_UNTIL (({ g_auto(GStrv) t = patches_client_list_tombstones (a->client); t == NULL || t[0] == NULL; }));
  g_assert_cmpuint (_patches_sync_get_peak_running (a->sync, FALSE), ==,
                    PATCHES_SYNC_MAX_CONCURRENT_SYNCS);
  g_assert_cmpuint (a->n_errors, ==, 0);

  /* Gone on the server: no history left, a tombstone each */
  g_assert_cmpint (sqlite3_open_v2 (patches_test_server_get_db (server), &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT (SELECT count(*) FROM changes), (SELECT count(*) FROM tombstones)",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 0);
  g_assert_cmpint (sqlite3_column_int (stmt, 1), ==, N_THROTTLE_DOCS);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

/* /Sync/throttle-edit: a local edit to a document still waiting for its
 * turn in the initial sync goes out at once, and reaches the server */

typedef struct
{
  const char *doc_id;
  char      **ids;
  gint64      target_rev;
  gboolean    seen;
  guint       still_waiting;   /* documents not yet synced when it ran */
} JumpWatch;

static void
jump_doc_state_cb (PatchesSync *sync,
                   const char  *doc_id,
                   JumpWatch   *watch)
{
  g_autoptr(PatchesDocSyncState) state = NULL;

  if (watch->seen || g_strcmp0 (doc_id, watch->doc_id) != 0)
    return;
  state = patches_sync_get_doc_state (sync, doc_id);
  if (state == NULL || state->status != PATCHES_SYNC_STATUS_SYNCING || !state->has_pending)
    return;

  watch->seen = TRUE;
  for (guint i = 0; watch->ids[i] != NULL; i++)
    {
      g_autoptr(PatchesDocSyncState) other = patches_sync_get_doc_state (sync, watch->ids[i]);

      if (other->status != PATCHES_SYNC_STATUS_SYNCING && other->committed_rev < watch->target_rev)
        watch->still_waiting++;
    }
}

static void
test_throttle_edit (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autofree char *url = g_strdup (patches_test_server_get_url (server));
  g_autoptr(Peer) w = peer_new (url, NULL);
  g_autoptr(Peer) r = peer_new (url, NULL);
  g_autoptr(GPtrArray) docs = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(PatchesDoc) edited = NULL;
  g_auto(GStrv) ids = throttle_doc_ids ();
  g_autoptr(GError) error = NULL;
  JumpWatch watch = { NULL, ids, 2, FALSE, 0 };
  const char *queued = NULL;

  for (guint i = 0; ids[i] != NULL; i++)
    {
      PatchesDoc *doc = patches_client_open_doc (w->client, ids[i], &error);

      g_assert_no_error (error);
      set_string (doc, "/title", "first");
      g_ptr_array_add (docs, doc);
    }
  peer_connect (w);
  g_assert_true (patches_client_track_docs (r->client, (const char * const *) ids, &error));
  g_assert_no_error (error);
  peer_connect (r);
  assert_docs_synced (r, ids, 1);

  /* every document changes on the server while r is away */
  patches_sync_disconnect (r->sync);
  set_bodies_committed (docs, "server", 2);

  /* r connects; once its line is moving, a document still in it */
  _patches_sync_get_peak_running (r->sync, TRUE);
  g_assert_cmpuint (_patches_sync_get_peak_running (r->sync, FALSE), ==, 0);
  peer_start_connect (r);
  WAIT_UNTIL (_patches_sync_get_peak_running (r->sync, FALSE) > 0);
  for (guint i = 0; ids[i] != NULL && queued == NULL; i++)
    {
      g_autoptr(PatchesDocSyncState) state = patches_sync_get_doc_state (r->sync, ids[i]);

      if (state->status != PATCHES_SYNC_STATUS_SYNCING && state->committed_rev == 1)
        queued = ids[i];
    }
  g_assert_nonnull (queued);
  g_assert_cmpint (patches_sync_get_sync_status (r->sync), ==, PATCHES_SYNC_STATUS_SYNCING);

  /* edited locally: its sync starts before the line reaches it */
  watch.doc_id = queued;
  g_signal_connect (r->sync, "doc-state-changed", G_CALLBACK (jump_doc_state_cb), &watch);
  edited = patches_client_open_doc (r->client, queued, &error);
  g_assert_no_error (error);
  set_string (edited, "/note", "typed while syncing");
  WAIT_UNTIL (watch.seen);
  g_signal_handlers_disconnect_by_data (r->sync, &watch);
  g_assert_cmpuint (watch.still_waiting, >, 0);

  /* everything ends synced, the edit on the server too */
  WAIT_UNTIL (peer_synced (r));
  WAIT_UNTIL (!patches_doc_get_has_pending (edited) && patches_doc_get_committed_rev (edited) == 3);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr(PatchesDocSyncState) state = patches_sync_get_doc_state (r->sync, ids[i]);

      g_assert_cmpint (state->status, ==, PATCHES_SYNC_STATUS_SYNCED);
      g_assert_cmpint (state->committed_rev, ==, g_str_equal (ids[i], queued) ? 3 : 2);
    }
  for (guint i = 0; i < docs->len; i++)
    {
      PatchesDoc *doc = g_ptr_array_index (docs, i);

      if (g_str_equal (patches_doc_get_id (doc), queued))
        {
          WAIT_UNTIL (patches_doc_get_committed_rev (doc) == 3);
          g_assert_cmpstr (doc_string (doc, "note"), ==, "typed while syncing");
          g_assert_cmpstr (doc_string (doc, "body"), ==, "server");
        }
    }
  g_assert_cmpstr (doc_string (edited, "body"), ==, "server");
  g_assert_cmpuint (_patches_sync_get_peak_running (r->sync, FALSE), <=,
                    PATCHES_SYNC_MAX_CONCURRENT_SYNCS + 1);
  g_assert_cmpuint (w->n_errors, ==, 0);
  g_assert_cmpuint (r->n_errors, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_setenv ("PATCHES_SYNC_FORCE_ONLINE", "1", TRUE);

  g_test_add_func ("/Sync/converge/memory", test_converge_memory);
  g_test_add_func ("/Sync/converge/sqlite", test_converge_sqlite);
  g_test_add_func ("/Sync/states", test_states);
  g_test_add_func ("/Sync/online", test_online);
  g_test_add_func ("/Sync/token-refused", test_token_refused);
  g_test_add_func ("/Sync/remote-deletion", test_remote_deletion);
  g_test_add_func ("/Sync/offline-deletion", test_offline_deletion);
  g_test_add_func ("/Sync/offline-deletions-throttled", test_offline_deletions_throttled);
  g_test_add_func ("/Sync/sqlite-offline", test_sqlite_offline);
  g_test_add_func ("/Sync/max-batch-size", test_max_batch_size);
  g_test_add_func ("/Sync/batch-delay", test_batch_delay);
  g_test_add_func ("/Sync/server-behind", test_server_behind);
  g_test_add_func ("/Sync/ping-timeout", test_ping_timeout);
  g_test_add_func ("/Sync/request-timeout", test_request_timeout);
  g_test_add_func ("/Sync/tracking", test_tracking);
  g_test_add_func ("/Sync/give-up", test_give_up);
  g_test_add_func ("/Sync/reload-required", test_reload_required);
  g_test_add_func ("/Sync/quarantine", test_quarantine);
  g_test_add_func ("/Sync/quarantine-limit", test_quarantine_limit);
  g_test_add_func ("/Sync/refused-but-valid", test_refused_but_valid);
  g_test_add_func ("/Sync/committed-unappliable", test_committed_unappliable);
  g_test_add_func ("/Sync/lost-ack", test_lost_ack);
  g_test_add_func ("/Sync/throttle", test_throttle);
  g_test_add_func ("/Sync/throttle-edit", test_throttle_edit);

  return g_test_run ();
}
