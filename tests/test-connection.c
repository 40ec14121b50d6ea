/* test-connection.c: PatchesConnection (net/)
 *
 * Most tests talk to the real patches-server (PATCHES_SERVER, started by
 * patches-test-server.c on 127.0.0.1 with a temporary database): states,
 * typed calls and their results, notifications between two connections,
 * remote errors, a server that is killed, stopped or paused, refused
 * dials and tokens.  The exact shape of every request (PROTOCOL.md §3.2)
 * and the handling of malformed results and notifications are checked
 * against a scripted in-process SoupServer that records the frames it
 * receives and answers what the test tells it to.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#include <string.h>

#include <libsoup/soup.h>

#include "patches.h"
#include "patches-connection.h"
#include "patches-websocket-transport.h"
#include "patches-test-server.h"
#include "patches-test-util.h"

#define WAIT_UNTIL PATCHES_TEST_WAIT_UNTIL

/* Helpers */

static void
assert_json (PatchesValue *value,
             const char   *expected)
{
  g_autofree char *json = patches_value_to_json (value);

  g_assert_cmpstr (json, ==, expected);
}

static char *
change_json (const char *id,
             gint64      base_rev,
             const char *path,
             const char *value_json)
{
  return g_strdup_printf ("{\"id\":\"%s\",\"baseRev\":%" G_GINT64_FORMAT ",\"rev\":%" G_GINT64_FORMAT ","
                          "\"ops\":[{\"op\":\"add\",\"path\":\"%s\",\"value\":%s}],"
                          "\"createdAt\":%" G_GINT64_FORMAT ",\"committedAt\":0}",
                          id, base_rev, base_rev + 1, path, value_json,
                          g_get_real_time () / 1000);
}

/* One pending change, as a list */
static GPtrArray *
one_change (const char *id,
            gint64      base_rev,
            const char *path,
            const char *value_json)
{
  g_autofree char *json = change_json (id, base_rev, path, value_json);
  g_autoptr(PatchesValue) value = patches_test_parse (json);
  g_autoptr(GError) error = NULL;
  GPtrArray *changes = patches_changes_new ();
  PatchesChange *change = patches_change_from_value (value, &error);

  g_assert_no_error (error);
  g_ptr_array_add (changes, change);
  return changes;
}

static void
got_result (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

static GAsyncResult *
await_result (GAsyncResult **slot)
{
  WAIT_UNTIL (*slot != NULL);
  return *slot;
}

static gboolean
open_sync (PatchesConnection  *conn,
           GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  patches_connection_open_async (conn, NULL, got_result, &result);
  return patches_connection_open_finish (conn, await_result (&result), error);
}

static PatchesConnection *
connect_to (const char *url)
{
  PatchesConnection *conn = patches_connection_new (url);
  g_autoptr(GError) error = NULL;

  g_assert_true (open_sync (conn, &error));
  g_assert_no_error (error);
  g_assert_cmpint (patches_connection_get_state (conn), ==, PATCHES_CONNECTION_STATE_CONNECTED);

  return conn;
}

static char **
subscribe (PatchesConnection  *conn,
           const char * const *ids,
           GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  patches_connection_subscribe_async (conn, ids, NULL, got_result, &result);
  return patches_connection_subscribe_finish (conn, await_result (&result), error);
}

static void
subscribe_one (PatchesConnection *conn,
               const char        *doc_id)
{
  const char * const ids[] = { doc_id, NULL };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) subscribed = subscribe (conn, ids, &error);

  g_assert_no_error (error);
  g_assert_cmpstrv (subscribed, ids);
}

static PatchesSnapshot *
get_doc (PatchesConnection  *conn,
         const char         *doc_id,
         gint64              at_rev,
         GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  patches_connection_get_doc_async (conn, doc_id, at_rev, NULL, got_result, &result);
  return patches_connection_get_doc_finish (conn, await_result (&result), error);
}

static GPtrArray *
get_changes_since (PatchesConnection  *conn,
                   const char         *doc_id,
                   gint64              rev,
                   GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  patches_connection_get_changes_since_async (conn, doc_id, rev, NULL, got_result, &result);
  return patches_connection_get_changes_since_finish (conn, await_result (&result), error);
}

static PatchesCommitResult *
commit (PatchesConnection  *conn,
        const char         *doc_id,
        GPtrArray          *changes,
        PatchesValue       *options,
        GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  patches_connection_commit_changes_async (conn, doc_id, changes, options, NULL, got_result, &result);
  return patches_connection_commit_changes_finish (conn, await_result (&result), error);
}

static PatchesCommitResult *
commit_one (PatchesConnection *conn,
            const char        *doc_id,
            const char        *change_id,
            gint64             base_rev,
            const char        *path,
            const char        *value_json)
{
  g_autoptr(GPtrArray) changes = one_change (change_id, base_rev, path, value_json);
  g_autoptr(GError) error = NULL;
  PatchesCommitResult *result = commit (conn, doc_id, changes, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static gboolean
delete_doc (PatchesConnection  *conn,
            const char         *doc_id,
            GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  patches_connection_delete_doc_async (conn, doc_id, NULL, got_result, &result);
  return patches_connection_delete_doc_finish (conn, await_result (&result), error);
}

static gboolean
undelete_doc (PatchesConnection  *conn,
              const char         *doc_id,
              GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  patches_connection_undelete_doc_async (conn, doc_id, NULL, got_result, &result);
  return patches_connection_undelete_doc_finish (conn, await_result (&result), error);
}

static PatchesValue *
value_finish (PatchesConnection  *conn,
              GAsyncResult      **slot,
              GError            **error)
{
  return patches_connection_value_finish (conn, await_result (slot), error);
}

/* What a connection emitted */

typedef struct
{
  char         *doc_id;
  GPtrArray    *changes;
  PatchesValue *options;
} Committed;

static void
committed_free (Committed *c)
{
  g_free (c->doc_id);
  g_ptr_array_unref (c->changes);
  g_clear_pointer (&c->options, patches_value_unref);
  g_free (c);
}

typedef struct
{
  PatchesConnection *conn;
  GArray            *states;
  GPtrArray         *committed;
  GPtrArray         *deleted;
  guint              closed;
} Recorder;

static void
on_notify_state (PatchesConnection *conn,
                 GParamSpec        *pspec,
                 Recorder          *rec)
{
  PatchesConnectionState state = patches_connection_get_state (conn);

  g_array_append_val (rec->states, state);
}

static void
on_changes_committed (PatchesConnection *conn,
                      const char        *doc_id,
                      GPtrArray         *changes,
                      PatchesValue      *options,
                      Recorder          *rec)
{
  Committed *c = g_new0 (Committed, 1);

  c->doc_id = g_strdup (doc_id);
  c->changes = g_ptr_array_ref (changes);
  c->options = options ? patches_value_ref (options) : NULL;
  g_ptr_array_add (rec->committed, c);
}

static void
on_doc_deleted (PatchesConnection *conn,
                const char        *doc_id,
                Recorder          *rec)
{
  g_ptr_array_add (rec->deleted, g_strdup (doc_id));
}

static void
on_closed (PatchesConnection *conn,
           Recorder          *rec)
{
  rec->closed++;
}

static Recorder *
recorder_new (PatchesConnection *conn)
{
  Recorder *rec = g_new0 (Recorder, 1);

  rec->conn = g_object_ref (conn);
  rec->states = g_array_new (FALSE, FALSE, sizeof (PatchesConnectionState));
  rec->committed = g_ptr_array_new_with_free_func ((GDestroyNotify) committed_free);
  rec->deleted = g_ptr_array_new_with_free_func (g_free);

  g_signal_connect (conn, "notify::state", G_CALLBACK (on_notify_state), rec);
  g_signal_connect (conn, "changes-committed", G_CALLBACK (on_changes_committed), rec);
  g_signal_connect (conn, "doc-deleted", G_CALLBACK (on_doc_deleted), rec);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), rec);

  return rec;
}

static void
recorder_free (Recorder *rec)
{
  g_signal_handlers_disconnect_by_data (rec->conn, rec);
  g_object_unref (rec->conn);
  g_array_unref (rec->states);
  g_ptr_array_unref (rec->committed);
  g_ptr_array_unref (rec->deleted);
  g_free (rec);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Recorder, recorder_free)

static void
assert_states (Recorder *rec,
               ...)
{
  va_list args;
  guint i = 0;
  int state;

  va_start (args, rec);
  while ((state = va_arg (args, int)) != -1)
    {
      g_assert_cmpuint (i, <, rec->states->len);
      g_assert_cmpint (g_array_index (rec->states, PatchesConnectionState, i), ==, state);
      i++;
    }
  va_end (args);

  g_assert_cmpuint (rec->states->len, ==, i);
}

/* A TCP port nothing listens on */
static guint16
closed_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &effective, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_socket_listener_close (listener);

  return port;
}

/* A scripted server */

typedef struct
{
  SoupServer              *server;
  char                    *url;
  SoupWebsocketConnection *ws;
  GQueue                   frames;
} Fake;

static void
on_fake_message (SoupWebsocketConnection *ws,
                 SoupWebsocketDataType    type,
                 GBytes                  *message,
                 Fake                    *fake)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  g_queue_push_tail (&fake->frames, g_strndup (data ? data : "", len));
}

static void
fake_websocket_cb (SoupServer              *server,
                   SoupServerMessage       *msg,
                   const char              *path,
                   SoupWebsocketConnection *ws,
                   gpointer                 user_data)
{
  Fake *fake = user_data;

  g_assert_null (fake->ws);
  fake->ws = g_object_ref (ws);
  g_signal_connect (ws, "message", G_CALLBACK (on_fake_message), fake);
}

/* A fake on ws://, or on wss:// with @certificate */
static Fake *
fake_new_full (GTlsCertificate *certificate)
{
  Fake *fake = g_new0 (Fake, 1);
  g_autoptr(GError) error = NULL;
  GSList *uris;

  fake->server = soup_server_new ("tls-certificate", certificate, NULL);
  soup_server_add_websocket_handler (fake->server, NULL, NULL, NULL, fake_websocket_cb, fake, NULL);
  soup_server_listen_local (fake->server, 0,
                            SOUP_SERVER_LISTEN_IPV4_ONLY | (certificate ? SOUP_SERVER_LISTEN_HTTPS : 0),
                            &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (fake->server);
  g_assert_nonnull (uris);
  fake->url = g_strdup_printf ("%s://127.0.0.1:%d/sync", certificate ? "wss" : "ws",
                               g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  return fake;
}

static Fake *
fake_new (void)
{
  return fake_new_full (NULL);
}

static void
fake_free (Fake *fake)
{
  if (fake->ws != NULL)
    {
      g_signal_handlers_disconnect_by_data (fake->ws, fake);
      if (soup_websocket_connection_get_state (fake->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (fake->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object (&fake->ws);
    }
  soup_server_disconnect (fake->server);
  g_clear_object (&fake->server);
  g_queue_clear_full (&fake->frames, g_free);
  g_free (fake->url);
  g_free (fake);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fake, fake_free)

/* The next frame the fake received */
static char *
fake_next (Fake *fake)
{
  WAIT_UNTIL (!g_queue_is_empty (&fake->frames));
  return g_queue_pop_head (&fake->frames);
}

/* Checks the next request against @expected, in which ID stands for its
 * id, and returns the id */
static gint64
fake_expect (Fake       *fake,
             const char *method,
             const char *params)
{
  g_autofree char *frame = fake_next (fake);
  g_autoptr(PatchesValue) value = patches_test_parse (frame);
  PatchesValue *id = patches_value_object_get (value, "id");
  g_autofree char *expected = NULL;

  g_assert_nonnull (id);
  expected = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":%" G_GINT64_FORMAT ",\"method\":\"%s\",\"params\":%s}",
                              (gint64) patches_value_get_number (id), method, params);
  g_assert_cmpstr (frame, ==, expected);

  return (gint64) patches_value_get_number (id);
}

/* Takes the next request whatever it is, and returns its id */
static gint64
fake_take_id (Fake *fake)
{
  g_autofree char *frame = fake_next (fake);
  g_autoptr(PatchesValue) value = patches_test_parse (frame);
  PatchesValue *id = patches_value_object_get (value, "id");

  g_assert_nonnull (id);
  return (gint64) patches_value_get_number (id);
}

static void
fake_send (Fake       *fake,
           const char *text)
{
  soup_websocket_connection_send_text (fake->ws, text);
}

/* Answers request @id with @member, e.g. "\"result\":[]" */
static void
fake_answer (Fake       *fake,
             gint64      id,
             const char *member)
{
  g_autofree char *frame = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":%" G_GINT64_FORMAT "%s%s}",
                                            id, member[0] ? "," : "", member);

  fake_send (fake, frame);
}

static PatchesConnection *
fake_connect (Fake *fake)
{
  PatchesConnection *conn = connect_to (fake->url);

  WAIT_UNTIL (fake->ws != NULL);
  return conn;
}

/* Tests: states */

/* /Connection/state/wss: over TLS, a server whose certificate is not
 * trusted is refused with a TLS error before any frame; trusted through
 * PatchesConnection:tls-database, calls go through */
static void
test_wss (void)
{
  g_autofree char *cert_path = g_test_build_filename (G_TEST_DIST, "data", "tls", "test-cert.pem", NULL);
  g_autofree char *key_path = g_test_build_filename (G_TEST_DIST, "data", "tls", "test-key.pem", NULL);
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(PatchesConnection) untrusting = NULL;
  g_autoptr(PatchesConnection) conn = NULL;
  g_autoptr(Fake) fake = NULL;
  g_autoptr(GError) error = NULL;

#ifdef __SANITIZE_ADDRESS__
  /* Once the TLS backend (glib-networking, GnuTLS) has run in a process,
   * LeakSanitizer's scan at exit reads a thread's dynamic TLS block as
   * a bogus range and aborts; the plain build runs this test. */
  g_test_skip ("TLS and LeakSanitizer do not mix (glibc dynamic TLS)");
  return;
#endif

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip ("No TLS backend (glib-networking)");
      return;
    }

  certificate = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  fake = fake_new_full (certificate);
  g_assert_true (g_str_has_prefix (fake->url, "wss://"));

  untrusting = patches_connection_new (fake->url);
  g_assert_null (patches_connection_get_tls_database (untrusting));
  g_assert_false (open_sync (untrusting, &error));
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_cmpint (patches_connection_get_state (untrusting), ==, PATCHES_CONNECTION_STATE_ERROR);
  g_assert_null (fake->ws);
  g_clear_error (&error);

  database = g_tls_file_database_new (cert_path, &error);
  g_assert_no_error (error);
  conn = patches_connection_new (fake->url);
  g_object_set (conn, "tls-database", database, NULL);
  g_assert_true (patches_connection_get_tls_database (conn) == database);
  g_assert_true (open_sync (conn, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (fake->ws != NULL);

  {
    g_autoptr(GAsyncResult) r = NULL;
    g_autoptr(PatchesSnapshot) snapshot = NULL;
    gint64 id;

    patches_connection_get_doc_async (conn, "d", 0, NULL, got_result, &r);
    id = fake_expect (fake, "getDoc", "[\"d\"]");
    fake_answer (fake, id, "\"result\":{\"state\":{\"over\":\"tls\"},\"rev\":2,\"changes\":[]}");
    snapshot = patches_connection_get_doc_finish (conn, await_result (&r), &error);
    g_assert_no_error (error);
    g_assert_cmpint (snapshot->rev, ==, 2);
  }

  patches_connection_set_tls_database (conn, NULL);
  g_assert_null (patches_connection_get_tls_database (conn));
}

static void
test_open_close (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autoptr(PatchesConnection) conn = patches_connection_new (patches_test_server_get_url (server));
  g_autoptr(Recorder) rec = recorder_new (conn);
  g_autoptr(GAsyncResult) first = NULL;
  g_autoptr(GAsyncResult) second = NULL;
  g_autoptr(GAsyncResult) again = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (patches_connection_get_url (conn), ==, patches_test_server_get_url (server));
  g_assert_cmpint (patches_connection_get_state (conn), ==, PATCHES_CONNECTION_STATE_DISCONNECTED);
  g_assert_cmpuint (patches_connection_get_ping_interval (conn), ==, 30);
  g_assert_nonnull (patches_connection_get_rpc (conn));
  g_assert_null (patches_rpc_get_transport (patches_connection_get_rpc (conn)));

  /* A second open while dialling fails with PENDING; the first succeeds */
  patches_connection_open_async (conn, NULL, got_result, &first);
  g_assert_cmpint (patches_connection_get_state (conn), ==, PATCHES_CONNECTION_STATE_CONNECTING);
  patches_connection_open_async (conn, NULL, got_result, &second);

  g_assert_false (patches_connection_open_finish (conn, await_result (&second), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_clear_error (&error);

  g_assert_true (patches_connection_open_finish (conn, await_result (&first), &error));
  g_assert_no_error (error);
  assert_states (rec, PATCHES_CONNECTION_STATE_CONNECTING, PATCHES_CONNECTION_STATE_CONNECTED, -1);
  g_assert_nonnull (patches_rpc_get_transport (patches_connection_get_rpc (conn)));

  /* Open while open: done at once, no state change */
  patches_connection_open_async (conn, NULL, got_result, &again);
  g_assert_true (patches_connection_open_finish (conn, await_result (&again), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rec->states->len, ==, 2);

  /* Close: disconnected at once, closed once */
  patches_connection_close (conn);
  assert_states (rec, PATCHES_CONNECTION_STATE_CONNECTING, PATCHES_CONNECTION_STATE_CONNECTED,
                 PATCHES_CONNECTION_STATE_DISCONNECTED, -1);
  g_assert_cmpuint (rec->closed, ==, 1);
  g_assert_null (patches_rpc_get_transport (patches_connection_get_rpc (conn)));

  /* Closing again changes nothing */
  patches_connection_close (conn);
  g_assert_cmpuint (rec->states->len, ==, 3);
  g_assert_cmpuint (rec->closed, ==, 1);

  /* The same object opens again */
  g_assert_true (open_sync (conn, &error));
  g_assert_no_error (error);
  g_assert_cmpint (patches_connection_get_state (conn), ==, PATCHES_CONNECTION_STATE_CONNECTED);
  subscribe_one (conn, "reopened");

  /* The server sees the close handshake finish: it stops cleanly with no
   * client left behind */
  patches_connection_close (conn);
  patches_test_sleep_ms (100);
  patches_test_server_stop (server);
  g_assert_cmpuint (rec->closed, ==, 2);
}

static void
test_open_cancel (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autoptr(PatchesConnection) conn = patches_connection_new (patches_test_server_get_url (server));
  g_autoptr(Recorder) rec = recorder_new (conn);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) cancelled = NULL;
  g_autoptr(GAsyncResult) closed = NULL;
  g_autoptr(GError) error = NULL;

  /* Cancelled while dialling */
  patches_connection_open_async (conn, cancellable, got_result, &cancelled);
  g_cancellable_cancel (cancellable);
  g_assert_false (patches_connection_open_finish (conn, await_result (&cancelled), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  assert_states (rec, PATCHES_CONNECTION_STATE_CONNECTING, PATCHES_CONNECTION_STATE_DISCONNECTED, -1);

  /* Closed while dialling */
  patches_connection_open_async (conn, NULL, got_result, &closed);
  patches_connection_close (conn);
  g_assert_cmpint (patches_connection_get_state (conn), ==, PATCHES_CONNECTION_STATE_DISCONNECTED);
  g_assert_false (patches_connection_open_finish (conn, await_result (&closed), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (rec->closed, ==, 0);

  /* Whatever the aborted dials left behind does not disturb the next one */
  g_assert_true (open_sync (conn, &error));
  g_assert_no_error (error);
  patches_test_sleep_ms (200);
  g_assert_cmpint (patches_connection_get_state (conn), ==, PATCHES_CONNECTION_STATE_CONNECTED);
  subscribe_one (conn, "after-cancel");
  assert_states (rec,
                 PATCHES_CONNECTION_STATE_CONNECTING, PATCHES_CONNECTION_STATE_DISCONNECTED,
                 PATCHES_CONNECTION_STATE_CONNECTING, PATCHES_CONNECTION_STATE_DISCONNECTED,
                 PATCHES_CONNECTION_STATE_CONNECTING, PATCHES_CONNECTION_STATE_CONNECTED, -1);
}

static void
test_not_connected (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autoptr(PatchesConnection) conn = patches_connection_new (patches_test_server_get_url (server));
  const char * const ids[] = { "x", NULL };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) subscribed = NULL;
  g_autoptr(PatchesSnapshot) snapshot = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  /* Before the first open */
  subscribed = subscribe (conn, ids, &error);
  g_assert_null (subscribed);
  g_assert_error (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_NOT_CONNECTED);
  g_assert_true (patches_rpc_error_is_network (error));
  g_clear_error (&error);

  /* While dialling */
  patches_connection_open_async (conn, NULL, got_result, &result);
  snapshot = get_doc (conn, "x", 0, &error);
  g_assert_null (snapshot);
  g_assert_error (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_NOT_CONNECTED);
  g_clear_error (&error);
  g_assert_true (patches_connection_open_finish (conn, await_result (&result), &error));
  g_assert_no_error (error);

  /* After a close */
  patches_connection_close (conn);
  g_assert_false (delete_doc (conn, "x", &error));
  g_assert_error (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_NOT_CONNECTED);
}

/* Tests: calls against the real server */

static void
test_subscribe (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autoptr(PatchesConnection) conn = connect_to (patches_test_server_get_url (server));
  const char * const ids[] = { "sub-a", "sub-b", NULL };
  const char * const none[] = { NULL };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) subscribed = NULL;
  g_auto(GStrv) removed = NULL;
  g_auto(GStrv) empty = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  subscribed = subscribe (conn, ids, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (subscribed, ids);

  patches_connection_unsubscribe_async (conn, ids, NULL, got_result, &result);
  removed = patches_connection_unsubscribe_finish (conn, await_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (removed, ids);

  empty = subscribe (conn, none, &error);
  g_assert_no_error (error);
  g_assert_nonnull (empty);
  g_assert_cmpuint (g_strv_length (empty), ==, 0);
}

static void
test_commit_and_notify (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autoptr(PatchesConnection) a = connect_to (patches_test_server_get_url (server));
  g_autoptr(PatchesConnection) b = connect_to (patches_test_server_get_url (server));
  g_autoptr(Recorder) rec_a = recorder_new (a);
  g_autoptr(Recorder) rec_b = recorder_new (b);
  g_autoptr(PatchesCommitResult) first = NULL;
  g_autoptr(PatchesCommitResult) second = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(PatchesValue) options = patches_test_parse ("{\"note\":\"from a test\"}");
  g_autoptr(GError) error = NULL;
  PatchesChange *change;
  Committed *c;

  subscribe_one (a, "doc");
  subscribe_one (b, "doc");

  /* The committed change comes back with its revision */
  first = commit_one (a, "doc", "change-one", 0, "/title", "\"Hello\"");
  g_assert_false (first->doc_reload_required);
  g_assert_cmpuint (first->changes->len, ==, 1);
  change = g_ptr_array_index (first->changes, 0);
  g_assert_cmpstr (change->id, ==, "change-one");
  g_assert_cmpint (change->base_rev, ==, 0);
  g_assert_cmpint (change->rev, ==, 1);
  g_assert_cmpfloat (change->committed_at, >, 0);
  g_assert_nonnull (change->client_id);

  /* The other subscriber is told, the committer is not */
  WAIT_UNTIL (rec_b->committed->len == 1);
  c = g_ptr_array_index (rec_b->committed, 0);
  g_assert_cmpstr (c->doc_id, ==, "doc");
  g_assert_null (c->options);
  g_assert_cmpuint (c->changes->len, ==, 1);
  change = g_ptr_array_index (c->changes, 0);
  g_assert_cmpstr (change->id, ==, "change-one");
  g_assert_cmpint (change->rev, ==, 1);
  g_assert_cmpuint (change->ops->len, ==, 1);

  /* Options travel with the commit and its notification */
  changes = one_change ("change-two", 1, "/n", "2");
  second = commit (a, "doc", changes, options, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (second->changes->len, ==, 1);
  g_assert_cmpint (((PatchesChange *) g_ptr_array_index (second->changes, 0))->rev, ==, 2);

  WAIT_UNTIL (rec_b->committed->len == 2);
  c = g_ptr_array_index (rec_b->committed, 1);
  g_assert_nonnull (c->options);
  assert_json (c->options, "{\"note\":\"from a test\"}");
  g_assert_cmpint (((PatchesChange *) g_ptr_array_index (c->changes, 0))->rev, ==, 2);

  /* One more round trip on a: nothing was addressed to it */
  subscribe_one (a, "doc");
  g_assert_cmpuint (rec_a->committed->len, ==, 0);
}

static void
test_get_doc (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autoptr(PatchesConnection) conn = connect_to (patches_test_server_get_url (server));
  g_autoptr(PatchesSnapshot) empty = NULL;
  g_autoptr(PatchesSnapshot) head = NULL;
  g_autoptr(PatchesSnapshot) past = NULL;
  g_autoptr(PatchesSnapshot) copy = NULL;
  g_autoptr(PatchesCommitResult) r1 = NULL;
  g_autoptr(PatchesCommitResult) r2 = NULL;
  g_autoptr(GPtrArray) since = NULL;
  g_autoptr(GPtrArray) none = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) state = NULL;

  /* A document that never existed */
  empty = get_doc (conn, "gd", 0, &error);
  g_assert_no_error (error);
  g_assert_nonnull (empty->state);
  g_assert_cmpint (patches_value_get_kind (empty->state), ==, PATCHES_VALUE_NULL);
  g_assert_cmpint (empty->rev, ==, 0);
  g_assert_cmpuint (empty->changes->len, ==, 0);
  g_assert_cmpint (patches_snapshot_get_head_rev (empty), ==, 0);

  r1 = commit_one (conn, "gd", "gd-1", 0, "/a", "1");
  r2 = commit_one (conn, "gd", "gd-2", 1, "/b", "2");

  /* The head: state + changes gives the document */
  head = get_doc (conn, "gd", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (patches_snapshot_get_head_rev (head), ==, 2);
  g_assert_cmpint (head->rev + (gint64) head->changes->len, ==, 2);
  state = head->state && patches_value_get_kind (head->state) != PATCHES_VALUE_NULL
          ? patches_value_ref (head->state) : NULL;
  g_assert_true (patches_changes_apply (&state, head->changes, &error));
  g_assert_no_error (error);
  assert_json (state, "{\"a\":1,\"b\":2}");

  copy = patches_snapshot_ref (head);
  g_assert_true (copy == head);
  g_assert_true (G_TYPE_IS_BOXED (PATCHES_TYPE_SNAPSHOT));

  /* At a past revision */
  past = get_doc (conn, "gd", 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (patches_snapshot_get_head_rev (past), ==, 1);

  /* getChangesSince */
  since = get_changes_since (conn, "gd", 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (since->len, ==, 1);
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (since, 0))->id, ==, "gd-2");
  g_assert_cmpint (((PatchesChange *) g_ptr_array_index (since, 0))->rev, ==, 2);

  none = get_changes_since (conn, "gd", 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (none->len, ==, 0);
}

static void
test_remote_errors (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autoptr(PatchesConnection) conn = connect_to (patches_test_server_get_url (server));
  g_autoptr(GPtrArray) ahead = one_change ("ahead", 5, "/a", "1");
  g_autoptr(PatchesCommitResult) result = NULL;
  g_autoptr(PatchesValue) branches = NULL;
  g_autoptr(GAsyncResult) async = NULL;
  g_autoptr(GError) error = NULL;
  PatchesValue *data;

  /* 409 with its data */
  result = commit (conn, "re", ahead, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
  g_assert_false (patches_rpc_error_is_network (error));
  g_assert_cmpint (patches_rpc_error_get_code (error), ==, 409);
  data = patches_rpc_error_get_data (error);
  g_assert_nonnull (data);
  assert_json (data, "{\"scope\":\"doc\"}");
  g_clear_error (&error);

  /* 400 for an empty document id */
  g_assert_false (delete_doc (conn, "", &error));
  g_assert_error (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
  g_assert_cmpint (patches_rpc_error_get_code (error), ==, 400);
  g_clear_error (&error);

  /* The connection is still fine */
  subscribe_one (conn, "re");

  /* A method the server does not serve is -32000 */
  patches_connection_list_branches_async (conn, "re", NULL, got_result, &async);
  branches = value_finish (conn, &async, &error);
  if (error != NULL)
    {
      g_assert_error (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
      g_assert_cmpint (patches_rpc_error_get_code (error), ==, PATCHES_RPC_CODE_SERVER_ERROR);
    }
  else
    g_assert_cmpint (patches_value_get_kind (branches), ==, PATCHES_VALUE_ARRAY);
}

static void
test_delete (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autoptr(PatchesConnection) a = connect_to (patches_test_server_get_url (server));
  g_autoptr(PatchesConnection) b = connect_to (patches_test_server_get_url (server));
  g_autoptr(Recorder) rec_a = recorder_new (a);
  g_autoptr(Recorder) rec_b = recorder_new (b);
  g_autoptr(PatchesCommitResult) result = NULL;
  g_autoptr(PatchesSnapshot) deleted = NULL;
  g_autoptr(PatchesSnapshot) revived = NULL;
  g_autoptr(GError) error = NULL;
  PatchesValue *data;

  subscribe_one (a, "del");
  subscribe_one (b, "del");
  result = commit_one (a, "del", "del-1", 0, "/a", "1");

  g_assert_true (delete_doc (a, "del", &error));
  g_assert_no_error (error);

  WAIT_UNTIL (rec_b->deleted->len == 1);
  g_assert_cmpstr (g_ptr_array_index (rec_b->deleted, 0), ==, "del");

  /* A deleted document answers 410 with the tombstone's data */
  deleted = get_doc (b, "del", 0, &error);
  g_assert_null (deleted);
  g_assert_error (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
  g_assert_cmpint (patches_rpc_error_get_code (error), ==, 410);
  g_assert_false (patches_rpc_error_is_network (error));
  data = patches_rpc_error_get_data (error);
  g_assert_nonnull (data);
  g_assert_nonnull (patches_value_object_get (data, "deletedAt"));
  g_assert_cmpfloat (patches_value_get_number (patches_value_object_get (data, "lastRev")), ==, 1);
  g_clear_error (&error);

  /* The deleter was not told (one more round trip to be sure) */
  subscribe_one (a, "other");
  g_assert_cmpuint (rec_a->deleted->len, ==, 0);

  /* undeleteDoc: TRUE when a tombstone went, FALSE the second time */
  g_assert_true (undelete_doc (a, "del", &error));
  g_assert_no_error (error);
  g_assert_false (undelete_doc (a, "del", &error));
  g_assert_no_error (error);

  revived = get_doc (b, "del", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (patches_snapshot_get_head_rev (revived), ==, 0);
}

static void
test_versions (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autoptr(PatchesConnection) conn = connect_to (patches_test_server_get_url (server));
  g_autoptr(PatchesCommitResult) result = NULL;
  g_autoptr(PatchesValue) metadata = patches_test_parse ("{\"name\":\"v1\"}");
  g_autoptr(PatchesValue) created = NULL;
  g_autoptr(PatchesValue) versions = NULL;
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GError) error = NULL;
  guint found = 0;

  result = commit_one (conn, "ver", "ver-1", 0, "/a", "1");

  patches_connection_create_version_async (conn, "ver", metadata, NULL, got_result, &r1);
  created = value_finish (conn, &r1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (created);
  g_assert_true (patches_value_get_kind (created) == PATCHES_VALUE_STRING ||
                 patches_value_get_kind (created) == PATCHES_VALUE_NULL);

  patches_connection_list_versions_async (conn, "ver", NULL, NULL, got_result, &r2);
  versions = value_finish (conn, &r2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (patches_value_get_kind (versions), ==, PATCHES_VALUE_ARRAY);
  g_assert_cmpuint (patches_value_array_get_length (versions), >=, 1);

  /* The state of the version that ends at rev 1 */
  for (guint i = 0; i < patches_value_array_get_length (versions); i++)
    {
      PatchesValue *version = patches_value_array_get (versions, i);
      PatchesValue *end_rev = patches_value_object_get (version, "endRev");
      g_autoptr(GAsyncResult) r3 = NULL;
      g_autoptr(PatchesValue) state = NULL;

      if (end_rev == NULL || patches_value_get_number (end_rev) != 1)
        continue;

      patches_connection_get_version_state_async (conn, "ver",
                                                  patches_value_get_string (patches_value_object_get (version, "id")),
                                                  NULL, got_result, &r3);
      state = value_finish (conn, &r3, &error);
      g_assert_no_error (error);
      assert_json (state, "{\"a\":1}");
      found++;
    }
  g_assert_cmpuint (found, ==, 1);
}

static void
test_client_id_header (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autoptr(PatchesConnection) conn = patches_connection_new (patches_test_server_get_url (server));
  g_autoptr(PatchesCommitResult) result = NULL;
  g_autoptr(GError) error = NULL;

  patches_connection_set_header (conn, "X-Patches-Client-Id", "stable-client-7");
  g_assert_true (open_sync (conn, &error));
  g_assert_no_error (error);

  result = commit_one (conn, "cid", "cid-1", 0, "/a", "1");
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (result->changes, 0))->client_id, ==, "stable-client-7");
}

/* Tests: failures */

static void
test_refused (void)
{
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u/sync?access_token=secret", closed_port ());
  g_autoptr(PatchesConnection) conn = patches_connection_new (url);
  g_autoptr(Recorder) rec = recorder_new (conn);
  g_autoptr(PatchesConnection) bad = patches_connection_new ("ftp://example.invalid/x");
  g_autoptr(GError) error = NULL;

  g_assert_false (open_sync (conn, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_nonnull (strstr (error->message, "ws://127.0.0.1:"));
  g_assert_null (strstr (error->message, "secret"));
  g_assert_cmpint (patches_connection_get_state (conn), ==, PATCHES_CONNECTION_STATE_ERROR);
  /* no HTTP answer at all */
  g_assert_cmpuint (patches_connection_get_last_http_status (conn), ==, 0);
  assert_states (rec, PATCHES_CONNECTION_STATE_CONNECTING, PATCHES_CONNECTION_STATE_ERROR, -1);
  g_assert_cmpuint (rec->closed, ==, 0);
  g_clear_error (&error);

  /* Not a WebSocket URL */
  g_assert_false (open_sync (bad, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (patches_connection_get_state (bad), ==, PATCHES_CONNECTION_STATE_ERROR);
}

static void
test_tokens (void)
{
  g_autoptr(PatchesTestServer) server =
    patches_test_server_new_with_tokens ("good-token  alice  *:write\n", NULL);
  g_autofree char *query_url = g_strconcat (patches_test_server_get_url (server), "?access_token=wrong-one", NULL);
  g_autoptr(PatchesConnection) wrong = patches_connection_new (patches_test_server_get_url (server));
  g_autoptr(PatchesConnection) query = patches_connection_new (query_url);
  g_autoptr(PatchesConnection) right = patches_connection_new (patches_test_server_get_url (server));
  g_autoptr(PatchesConnection) browser = patches_connection_new (patches_test_server_get_url (server));
  const char * const protocols[] = { "patches", "bearer.good-token", NULL };
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *ws;

  /* A wrong token: the handshake is refused with 401 */
  patches_connection_set_header (wrong, "Authorization", "Bearer nope");
  g_assert_false (open_sync (wrong, &error));
  g_assert_error (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET);
  g_assert_nonnull (strstr (error->message, "HTTP 401"));
  g_assert_nonnull (strstr (error->message, patches_test_server_get_url (server)));
  g_assert_cmpint (patches_connection_get_state (wrong), ==, PATCHES_CONNECTION_STATE_ERROR);
  g_assert_cmpuint (patches_connection_get_last_http_status (wrong), ==, 401);
  g_clear_error (&error);

  /* In the query: refused too, and the token stays out of the message */
  g_assert_false (open_sync (query, &error));
  g_assert_nonnull (strstr (error->message, "HTTP 401"));
  g_assert_null (strstr (error->message, "wrong-one"));
  g_clear_error (&error);

  /* A header replaced, a header removed */
  patches_connection_set_header (wrong, "Authorization", "Bearer good-token");
  g_assert_true (open_sync (wrong, &error));
  g_assert_no_error (error);
  /* a dial that succeeds forgets the refusal */
  g_assert_cmpuint (patches_connection_get_last_http_status (wrong), ==, 0);
  patches_connection_close (wrong);
  patches_connection_set_header (wrong, "Authorization", NULL);
  g_assert_false (open_sync (wrong, &error));
  g_assert_nonnull (strstr (error->message, "HTTP 401"));
  g_clear_error (&error);

  /* The right one */
  patches_connection_set_header (right, "Authorization", "Bearer good-token");
  g_assert_true (open_sync (right, &error));
  g_assert_no_error (error);
  subscribe_one (right, "tok");

  /* As a browser offers it, as subprotocols */
  patches_connection_set_protocols (browser, protocols);
  g_assert_true (open_sync (browser, &error));
  g_assert_no_error (error);
  ws = patches_websocket_transport_get_connection (
         PATCHES_WEBSOCKET_TRANSPORT (patches_rpc_get_transport (patches_connection_get_rpc (browser))));
  g_assert_cmpstr (soup_websocket_connection_get_protocol (ws), ==, "patches");
  subscribe_one (browser, "tok");
}

static void
test_server_killed (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autoptr(PatchesConnection) conn = connect_to (patches_test_server_get_url (server));
  g_autoptr(Recorder) rec = recorder_new (conn);
  g_autoptr(PatchesCommitResult) committed = NULL;
  g_autoptr(PatchesSnapshot) snapshot = NULL;
  g_autoptr(PatchesSnapshot) lost = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  committed = commit_one (conn, "k", "k-1", 0, "/a", "1");

  /* A call the server will never answer: it is paused, then killed */
  patches_test_server_signal (server, SIGSTOP);
  patches_connection_get_doc_async (conn, "k", 0, NULL, got_result, &result);
  patches_test_sleep_ms (50);
  g_assert_null (result);
  patches_test_server_kill (server);

  WAIT_UNTIL (patches_connection_get_state (conn) != PATCHES_CONNECTION_STATE_CONNECTED);
  g_assert_cmpint (patches_connection_get_state (conn), ==, PATCHES_CONNECTION_STATE_ERROR);
  g_assert_cmpuint (rec->closed, ==, 1);

  lost = patches_connection_get_doc_finish (conn, await_result (&result), &error);
  g_assert_null (lost);
  g_assert_error (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_DISCONNECTED);
  g_assert_true (patches_rpc_error_is_network (error));
  g_clear_error (&error);

  /* Back on the same port and database: the same object reconnects */
  patches_test_server_restart (server);
  g_assert_true (open_sync (conn, &error));
  g_assert_no_error (error);
  snapshot = get_doc (conn, "k", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (patches_snapshot_get_head_rev (snapshot), ==, 1);
  assert_states (rec, PATCHES_CONNECTION_STATE_ERROR,
                 PATCHES_CONNECTION_STATE_CONNECTING, PATCHES_CONNECTION_STATE_CONNECTED, -1);
}

static void
test_server_stopped (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autoptr(PatchesConnection) conn = connect_to (patches_test_server_get_url (server));
  g_autoptr(Recorder) rec = recorder_new (conn);

  /* A clean shutdown closes the socket with a close frame */
  patches_test_server_stop (server);
  WAIT_UNTIL (patches_connection_get_state (conn) != PATCHES_CONNECTION_STATE_CONNECTED);
  g_assert_cmpint (patches_connection_get_state (conn), ==, PATCHES_CONNECTION_STATE_DISCONNECTED);
  g_assert_cmpuint (rec->closed, ==, 1);
  assert_states (rec, PATCHES_CONNECTION_STATE_DISCONNECTED, -1);
}

static void
test_ping_timeout (void)
{
  g_autoptr(PatchesTestServer) server = patches_test_server_new (NULL);
  g_autoptr(PatchesConnection) conn = patches_connection_new (patches_test_server_get_url (server));
  g_autoptr(Recorder) rec = recorder_new (conn);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = NULL;
  gint64 paused;

  patches_connection_set_ping_interval (conn, 1);
  g_assert_cmpuint (patches_connection_get_ping_interval (conn), ==, 1);
  g_assert_true (open_sync (conn, &error));
  g_assert_no_error (error);

  /* Pongs keep a quiet connection alive well past interval + timeout */
  patches_test_sleep_ms (3500);
  g_assert_cmpint (patches_connection_get_state (conn), ==, PATCHES_CONNECTION_STATE_CONNECTED);

  /* A peer that stops answering is lost within a few seconds */
  patches_test_server_signal (server, SIGSTOP);
  paused = g_get_monotonic_time ();
  {
    const char * const doc[] = { "ping", NULL };

    patches_connection_subscribe_async (conn, doc, NULL, got_result, &result);
  }
  WAIT_UNTIL (patches_connection_get_state (conn) != PATCHES_CONNECTION_STATE_CONNECTED);
  g_assert_cmpint (g_get_monotonic_time () - paused, <, 6 * G_USEC_PER_SEC);
  g_assert_cmpint (patches_connection_get_state (conn), ==, PATCHES_CONNECTION_STATE_ERROR);
  g_assert_cmpuint (rec->closed, ==, 1);

  ids = patches_connection_subscribe_finish (conn, await_result (&result), &error);
  g_assert_null (ids);
  g_assert_error (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_DISCONNECTED);
  g_clear_error (&error);

  patches_test_server_signal (server, SIGCONT);

  /* And the server is still there to reconnect to */
  g_assert_true (open_sync (conn, &error));
  g_assert_no_error (error);
  subscribe_one (conn, "ping");
}

/* Tests: the wire, against a scripted server */

static void
test_wire_params (void)
{
  g_autoptr(Fake) fake = fake_new ();
  g_autoptr(PatchesConnection) conn = fake_connect (fake);
  const char * const ids[] = { "a", "b", NULL };
  const char * const one[] = { "a", NULL };
  g_autofree char *json = change_json ("c1", 3, "/x", "1");
  g_autofree char *expected = NULL;
  g_autoptr(PatchesValue) change_value = patches_test_parse (json);
  g_autoptr(GPtrArray) changes = patches_changes_new ();
  g_autoptr(PatchesValue) options = patches_test_parse ("{\"forceCommit\":true}");
  g_autoptr(PatchesValue) metadata = patches_test_parse ("{\"name\":\"n\"}");
  g_autoptr(PatchesValue) raw_params = patches_test_parse ("[1,\"two\"]");
  g_autoptr(GError) error = NULL;
  gint64 id;

  g_ptr_array_add (changes, patches_change_from_value (change_value, &error));
  g_assert_no_error (error);

  /* subscribe: the ids as one array argument */
  {
    g_autoptr(GAsyncResult) r = NULL;
    g_auto(GStrv) result = NULL;

    patches_connection_subscribe_async (conn, ids, NULL, got_result, &r);
    id = fake_expect (fake, "subscribe", "[[\"a\",\"b\"]]");
    g_assert_cmpint (id, ==, 1);
    fake_answer (fake, id, "\"result\":[\"a\"]");
    result = patches_connection_subscribe_finish (conn, await_result (&r), &error);
    g_assert_no_error (error);
    g_assert_cmpstrv (result, one);
  }

  /* unsubscribe */
  {
    g_autoptr(GAsyncResult) r = NULL;
    g_auto(GStrv) result = NULL;

    patches_connection_unsubscribe_async (conn, one, NULL, got_result, &r);
    id = fake_expect (fake, "unsubscribe", "[[\"a\"]]");
    fake_answer (fake, id, "\"result\":[\"a\"]");
    result = patches_connection_unsubscribe_finish (conn, await_result (&r), &error);
    g_assert_no_error (error);
    g_assert_cmpstrv (result, one);
  }

  /* getDoc: [docId], and [docId, {"rev": n}] for a past revision */
  {
    g_autoptr(GAsyncResult) r = NULL;
    g_autoptr(PatchesSnapshot) snapshot = NULL;

    patches_connection_get_doc_async (conn, "d", 0, NULL, got_result, &r);
    id = fake_expect (fake, "getDoc", "[\"d\"]");
    fake_answer (fake, id, "\"result\":{\"state\":{\"x\":0},\"rev\":3,\"changes\":[]}");
    snapshot = patches_connection_get_doc_finish (conn, await_result (&r), &error);
    g_assert_no_error (error);
    assert_json (snapshot->state, "{\"x\":0}");
    g_assert_cmpint (snapshot->rev, ==, 3);
    g_assert_cmpint (patches_snapshot_get_head_rev (snapshot), ==, 3);
  }
  {
    g_autoptr(GAsyncResult) r = NULL;
    g_autoptr(PatchesSnapshot) snapshot = NULL;
    g_autofree char *answer = g_strdup_printf ("\"result\":{\"state\":null,\"rev\":0,\"changes\":[%s]}", json);

    patches_connection_get_doc_async (conn, "d", 5, NULL, got_result, &r);
    id = fake_expect (fake, "getDoc", "[\"d\",{\"rev\":5}]");
    fake_answer (fake, id, answer);
    snapshot = patches_connection_get_doc_finish (conn, await_result (&r), &error);
    g_assert_no_error (error);
    g_assert_cmpint (patches_value_get_kind (snapshot->state), ==, PATCHES_VALUE_NULL);
    g_assert_cmpint (patches_snapshot_get_head_rev (snapshot), ==, 4);
  }

  /* getChangesSince: [docId, rev] */
  {
    g_autoptr(GAsyncResult) r = NULL;
    g_autoptr(GPtrArray) result = NULL;
    g_autofree char *answer = g_strdup_printf ("\"result\":[%s]", json);

    patches_connection_get_changes_since_async (conn, "d", 3, NULL, got_result, &r);
    id = fake_expect (fake, "getChangesSince", "[\"d\",3]");
    fake_answer (fake, id, answer);
    result = patches_connection_get_changes_since_finish (conn, await_result (&r), &error);
    g_assert_no_error (error);
    g_assert_cmpuint (result->len, ==, 1);
    g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (result, 0))->id, ==, "c1");
  }

  /* commitChanges: [docId, changes] without options, the change exactly
   * as it was read */
  {
    g_autoptr(GAsyncResult) r = NULL;
    g_autoptr(PatchesCommitResult) result = NULL;
    g_autofree char *params = g_strdup_printf ("[\"d\",[%s]]", json);
    g_autofree char *answer = g_strdup_printf ("\"result\":{\"changes\":[%s],\"docReloadRequired\":true}", json);

    patches_connection_commit_changes_async (conn, "d", changes, NULL, NULL, got_result, &r);
    id = fake_expect (fake, "commitChanges", params);
    fake_answer (fake, id, answer);
    result = patches_connection_commit_changes_finish (conn, await_result (&r), &error);
    g_assert_no_error (error);
    g_assert_true (result->doc_reload_required);
    g_assert_cmpuint (result->changes->len, ==, 1);
    g_assert_true (G_TYPE_IS_BOXED (PATCHES_TYPE_COMMIT_RESULT));
  }
  {
    g_autoptr(GAsyncResult) r = NULL;
    g_autoptr(PatchesCommitResult) result = NULL;
    g_autofree char *params = g_strdup_printf ("[\"d\",[%s],{\"forceCommit\":true}]", json);

    patches_connection_commit_changes_async (conn, "d", changes, options, NULL, got_result, &r);
    id = fake_expect (fake, "commitChanges", params);
    fake_answer (fake, id, "\"result\":{\"changes\":[]}");
    result = patches_connection_commit_changes_finish (conn, await_result (&r), &error);
    g_assert_no_error (error);
    g_assert_false (result->doc_reload_required);
    g_assert_cmpuint (result->changes->len, ==, 0);
  }

  /* deleteDoc: a void result; undeleteDoc: the server's boolean */
  {
    g_autoptr(GAsyncResult) r = NULL;

    patches_connection_delete_doc_async (conn, "d", NULL, got_result, &r);
    id = fake_expect (fake, "deleteDoc", "[\"d\"]");
    fake_answer (fake, id, "");
    g_assert_true (patches_connection_delete_doc_finish (conn, await_result (&r), &error));
    g_assert_no_error (error);
  }
  {
    g_autoptr(GAsyncResult) r = NULL;

    patches_connection_undelete_doc_async (conn, "d", NULL, got_result, &r);
    id = fake_expect (fake, "undeleteDoc", "[\"d\"]");
    fake_answer (fake, id, "\"result\":false");
    g_assert_false (patches_connection_undelete_doc_finish (conn, await_result (&r), &error));
    g_assert_no_error (error);
  }

  /* Versions and branches: trailing absent arguments are left out */
  {
    struct {
      const char *method;
      const char *params;
    } expect[] = {
      { "listVersions", "[\"d\"]" },
      { "listVersions", "[\"d\",{\"name\":\"n\"}]" },
      { "createVersion", "[\"d\"]" },
      { "createVersion", "[\"d\",{\"name\":\"n\"}]" },
      { "updateVersion", "[\"d\",\"v\",{\"name\":\"n\"}]" },
      { "getVersionState", "[\"d\",\"v\"]" },
      { "getVersionChanges", "[\"d\",\"v\"]" },
      { "getStateBeforeVersion", "[\"d\",\"v\"]" },
      { "listBranches", "[\"d\"]" },
      { "createBranch", "[\"d\",7]" },
      { "createBranch", "[\"d\",7,{\"name\":\"n\"}]" },
      { "updateBranch", "[\"br\",{\"name\":\"n\"}]" },
      { "deleteBranch", "[\"br\"]" },
      { "mergeBranch", "[\"br\"]" },
    };
    GAsyncResult *r[G_N_ELEMENTS (expect)] = { NULL, };

    patches_connection_list_versions_async (conn, "d", NULL, NULL, got_result, &r[0]);
    patches_connection_list_versions_async (conn, "d", metadata, NULL, got_result, &r[1]);
    patches_connection_create_version_async (conn, "d", NULL, NULL, got_result, &r[2]);
    patches_connection_create_version_async (conn, "d", metadata, NULL, got_result, &r[3]);
    patches_connection_update_version_async (conn, "d", "v", metadata, NULL, got_result, &r[4]);
    patches_connection_get_version_state_async (conn, "d", "v", NULL, got_result, &r[5]);
    patches_connection_get_version_changes_async (conn, "d", "v", NULL, got_result, &r[6]);
    patches_connection_get_state_before_version_async (conn, "d", "v", NULL, got_result, &r[7]);
    patches_connection_list_branches_async (conn, "d", NULL, got_result, &r[8]);
    patches_connection_create_branch_async (conn, "d", 7, NULL, NULL, got_result, &r[9]);
    patches_connection_create_branch_async (conn, "d", 7, metadata, NULL, got_result, &r[10]);
    patches_connection_update_branch_async (conn, "br", metadata, NULL, got_result, &r[11]);
    patches_connection_delete_branch_async (conn, "br", NULL, got_result, &r[12]);
    patches_connection_merge_branch_async (conn, "br", NULL, got_result, &r[13]);

    for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
      {
        id = fake_expect (fake, expect[i].method, expect[i].params);
        /* void for the even ones, a value for the odd ones */
        fake_answer (fake, id, i % 2 == 0 ? "" : "\"result\":{\"i\":1}");
      }

    for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
      {
        g_autoptr(PatchesValue) value = value_finish (conn, &r[i], &error);

        g_assert_no_error (error);
        if (i % 2 == 0)
          g_assert_null (value);
        else
          assert_json (value, "{\"i\":1}");
        g_clear_object (&r[i]);
      }
  }

  /* The generic call */
  {
    g_autoptr(GAsyncResult) r = NULL;
    g_autoptr(PatchesValue) value = NULL;

    patches_connection_call_async (conn, "custom", raw_params, NULL, got_result, &r);
    id = fake_expect (fake, "custom", "[1,\"two\"]");
    fake_answer (fake, id, "\"result\":null");
    value = patches_connection_call_finish (conn, await_result (&r), &error);
    g_assert_no_error (error);
    g_assert_cmpint (patches_value_get_kind (value), ==, PATCHES_VALUE_NULL);
  }
}

static void
test_wire_bad_results (void)
{
  g_autoptr(Fake) fake = fake_new ();
  g_autoptr(PatchesConnection) conn = fake_connect (fake);
  const char * const ids[] = { "a", NULL };
  g_autoptr(GError) error = NULL;
  gint64 id;

  {
    g_autoptr(GAsyncResult) r = NULL;
    g_auto(GStrv) result = NULL;

    patches_connection_subscribe_async (conn, ids, NULL, got_result, &r);
    id = fake_expect (fake, "subscribe", "[[\"a\"]]");
    fake_answer (fake, id, "\"result\":{\"a\":true}");
    result = patches_connection_subscribe_finish (conn, await_result (&r), &error);
    g_assert_null (result);
    g_assert_error (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_PARSE);
    g_assert_nonnull (strstr (error->message, "subscribe"));
    g_clear_error (&error);
  }
  {
    g_autoptr(GAsyncResult) r = NULL;
    g_autoptr(PatchesSnapshot) result = NULL;

    patches_connection_get_doc_async (conn, "d", 0, NULL, got_result, &r);
    id = fake_expect (fake, "getDoc", "[\"d\"]");
    fake_answer (fake, id, "\"result\":[1,2]");
    result = patches_connection_get_doc_finish (conn, await_result (&r), &error);
    g_assert_null (result);
    g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE);
    g_assert_nonnull (strstr (error->message, "getDoc"));
    g_clear_error (&error);
  }
  {
    g_autoptr(GAsyncResult) r = NULL;
    g_autoptr(PatchesSnapshot) result = NULL;

    patches_connection_get_doc_async (conn, "d", 0, NULL, got_result, &r);
    id = fake_expect (fake, "getDoc", "[\"d\"]");
    fake_answer (fake, id, "\"result\":{\"state\":null,\"rev\":-1,\"changes\":[]}");
    result = patches_connection_get_doc_finish (conn, await_result (&r), &error);
    g_assert_null (result);
    g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE);
    g_clear_error (&error);
  }
  {
    g_autoptr(GAsyncResult) r = NULL;
    g_autoptr(GPtrArray) result = NULL;

    patches_connection_get_changes_since_async (conn, "d", 0, NULL, got_result, &r);
    id = fake_expect (fake, "getChangesSince", "[\"d\",0]");
    fake_answer (fake, id, "\"result\":[{\"ops\":\"no\"}]");
    result = patches_connection_get_changes_since_finish (conn, await_result (&r), &error);
    g_assert_null (result);
    g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE);
    g_assert_nonnull (strstr (error->message, "getChangesSince"));
    g_clear_error (&error);
  }
  {
    g_autoptr(GAsyncResult) r = NULL;
    g_autoptr(PatchesCommitResult) result = NULL;
    g_autoptr(GPtrArray) changes = one_change ("c", 0, "/a", "1");

    /* A bare array is not a commit result (PROTOCOL.md §4.7) */
    patches_connection_commit_changes_async (conn, "d", changes, NULL, NULL, got_result, &r);
    id = fake_take_id (fake);
    fake_answer (fake, id, "\"result\":[]");
    result = patches_connection_commit_changes_finish (conn, await_result (&r), &error);
    g_assert_null (result);
    g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE);
    g_assert_nonnull (strstr (error->message, "commitChanges"));
    g_clear_error (&error);
  }

  /* A remote error, string code included */
  {
    g_autoptr(GAsyncResult) r = NULL;
    g_autoptr(PatchesValue) value = NULL;

    patches_connection_merge_branch_async (conn, "br", NULL, got_result, &r);
    id = fake_expect (fake, "mergeBranch", "[\"br\"]");
    fake_answer (fake, id, "\"error\":{\"code\":\"MERGE_PARTIAL_PROGRESS\",\"message\":\"partial\"}");
    value = value_finish (conn, &r, &error);
    g_assert_null (value);
    g_assert_error (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
    g_assert_cmpstr (patches_rpc_error_get_code_string (error), ==, "MERGE_PARTIAL_PROGRESS");
    g_assert_cmpstr (error->message, ==, "partial");
  }

  g_assert_cmpint (patches_connection_get_state (conn), ==, PATCHES_CONNECTION_STATE_CONNECTED);
}

static void
test_wire_notifications (void)
{
  g_autoptr(Fake) fake = fake_new ();
  g_autoptr(PatchesConnection) conn = fake_connect (fake);
  g_autoptr(Recorder) rec = recorder_new (conn);
  g_autofree char *json = change_json ("n1", 4, "/x", "1");
  g_autofree char *valid = NULL;
  const char *malformed[] = {
    "{\"jsonrpc\":\"2.0\",\"method\":\"changesCommitted\"}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"changesCommitted\",\"params\":null}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"changesCommitted\",\"params\":[\"d\",[]]}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"changesCommitted\",\"params\":{\"docId\":5,\"changes\":[]}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"changesCommitted\",\"params\":{\"docId\":\"\",\"changes\":[]}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"changesCommitted\",\"params\":{\"docId\":\"d\"}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"changesCommitted\",\"params\":{\"docId\":\"d\",\"changes\":{\"0\":1}}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"changesCommitted\",\"params\":{\"docId\":\"d\",\"changes\":[{\"ops\":7}]}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"docDeleted\"}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"docDeleted\",\"params\":{}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"docDeleted\",\"params\":[\"d\"]}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"docDeleted\",\"params\":{\"docId\":null}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"peer-signal\",\"params\":{\"docId\":\"d\"}}",
    "{\"jsonrpc\":\"2.0\",\"method\":7,\"params\":{\"docId\":\"d\"}}",
    "not json at all",
  };
  Committed *c;

  for (guint i = 0; i < G_N_ELEMENTS (malformed); i++)
    fake_send (fake, malformed[i]);

  valid = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"method\":\"changesCommitted\","
                           "\"params\":{\"docId\":\"d\",\"changes\":[%s],\"options\":{\"k\":1}}}", json);
  fake_send (fake, valid);
  fake_send (fake, "{\"jsonrpc\":\"2.0\",\"method\":\"changesCommitted\","
                   "\"params\":{\"docId\":\"e\",\"changes\":[],\"options\":3}}");
  fake_send (fake, "{\"jsonrpc\":\"2.0\",\"method\":\"docDeleted\",\"params\":{\"docId\":\"gone\"}}");

  WAIT_UNTIL (rec->deleted->len == 1);
  g_assert_cmpstr (g_ptr_array_index (rec->deleted, 0), ==, "gone");

  g_assert_cmpuint (rec->committed->len, ==, 2);
  c = g_ptr_array_index (rec->committed, 0);
  g_assert_cmpstr (c->doc_id, ==, "d");
  g_assert_cmpuint (c->changes->len, ==, 1);
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (c->changes, 0))->id, ==, "n1");
  assert_json (c->options, "{\"k\":1}");

  /* Options that are not an object are dropped, the changes kept */
  c = g_ptr_array_index (rec->committed, 1);
  g_assert_cmpstr (c->doc_id, ==, "e");
  g_assert_cmpuint (c->changes->len, ==, 0);
  g_assert_null (c->options);

  g_assert_cmpint (patches_connection_get_state (conn), ==, PATCHES_CONNECTION_STATE_CONNECTED);
  g_assert_cmpuint (rec->closed, ==, 0);
}

static void
test_wire_peer_close (void)
{
  struct {
    gushort                code;
    PatchesConnectionState state;
  } cases[] = {
    { SOUP_WEBSOCKET_CLOSE_NORMAL, PATCHES_CONNECTION_STATE_DISCONNECTED },
    { SOUP_WEBSOCKET_CLOSE_GOING_AWAY, PATCHES_CONNECTION_STATE_DISCONNECTED },
    { SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, PATCHES_CONNECTION_STATE_ERROR },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(Fake) fake = fake_new ();
      g_autoptr(PatchesConnection) conn = fake_connect (fake);
      g_autoptr(Recorder) rec = recorder_new (conn);
      g_autoptr(GAsyncResult) r = NULL;
      g_autoptr(PatchesSnapshot) snapshot = NULL;
      g_autoptr(GError) error = NULL;

      patches_connection_get_doc_async (conn, "d", 0, NULL, got_result, &r);
      fake_expect (fake, "getDoc", "[\"d\"]");

      soup_websocket_connection_close (fake->ws, cases[i].code, "bye");
      WAIT_UNTIL (rec->closed > 0);
      assert_states (rec, cases[i].state, -1);
      g_assert_cmpuint (rec->closed, ==, 1);

      snapshot = patches_connection_get_doc_finish (conn, await_result (&r), &error);
      g_assert_null (snapshot);
      g_assert_error (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_DISCONNECTED);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Connection/state/open-close", test_open_close);
  g_test_add_func ("/Connection/state/open-cancel", test_open_cancel);
  g_test_add_func ("/Connection/state/not-connected", test_not_connected);
  g_test_add_func ("/Connection/state/wss", test_wss);
  g_test_add_func ("/Connection/server/subscribe", test_subscribe);
  g_test_add_func ("/Connection/server/commit-and-notify", test_commit_and_notify);
  g_test_add_func ("/Connection/server/get-doc", test_get_doc);
  g_test_add_func ("/Connection/server/remote-errors", test_remote_errors);
  g_test_add_func ("/Connection/server/delete", test_delete);
  g_test_add_func ("/Connection/server/versions", test_versions);
  g_test_add_func ("/Connection/server/client-id-header", test_client_id_header);
  g_test_add_func ("/Connection/failure/refused", test_refused);
  g_test_add_func ("/Connection/failure/tokens", test_tokens);
  g_test_add_func ("/Connection/failure/server-killed", test_server_killed);
  g_test_add_func ("/Connection/failure/server-stopped", test_server_stopped);
  g_test_add_func ("/Connection/failure/ping-timeout", test_ping_timeout);
  g_test_add_func ("/Connection/wire/params", test_wire_params);
  g_test_add_func ("/Connection/wire/bad-results", test_wire_bad_results);
  g_test_add_func ("/Connection/wire/notifications", test_wire_notifications);
  g_test_add_func ("/Connection/wire/peer-close", test_wire_peer_close);

  return g_test_run ();
}
