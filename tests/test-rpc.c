/* test-rpc.c: the JSON-RPC peer and the WebSocket transport (net/)
 *
 * Every test runs a real SoupServer on 127.0.0.1, port 0, whose WebSocket
 * handler wraps each connection in a PatchesWebsocketTransport and a
 * server-role PatchesRpc, and a SoupSession client wrapped the same way
 * in the client role.  Raw frames are recorded on both sides so that the
 * wire form can be compared byte for byte with PROTOCOL.md §3.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches.h"
#include "patches-json-scan-private.h"
#include "patches-rpc.h"
#include "patches-websocket-transport.h"

#define WAIT_SECONDS 20

/* Runs the main loop until @cond holds; a heartbeat source keeps the loop
 * from blocking forever so that the deadline is checked. */
#define WAIT_UNTIL(cond)                                                      \
  G_STMT_START {                                                              \
    gint64 _deadline = g_get_monotonic_time () + WAIT_SECONDS * G_USEC_PER_SEC; \
    while (!(cond))                                                           \
      {                                                                       \
        if (g_get_monotonic_time () > _deadline)                              \
          g_error ("Timed out waiting for %s", #cond);                        \
        g_main_context_iteration (NULL, TRUE);                                \
      }                                                                       \
  } G_STMT_END

typedef struct
{
  SoupServer                *server;
  SoupSession               *session;
  guint                      port;
  guint                      heartbeat;

  /* Server side of the current connection */
  PatchesWebsocketTransport *server_transport;
  PatchesRpc                *server_rpc;
  GPtrArray                 *server_rx;       /* raw frames received */
  GPtrArray                 *server_notes;    /* "method params" */
  GPtrArray                 *held;            /* PatchesRpcRequest */
  guint                      server_closed;
  guint                      server_close_code;
  guint                      server_keepalive;
  guint                      server_pongs;
  guint64                    server_max_payload;

  /* Client side */
  PatchesWebsocketTransport *client_transport;
  PatchesRpc                *client_rpc;
  GPtrArray                 *client_rx;
  GPtrArray                 *client_notes;
  guint                      client_closed;
  gboolean                   connecting;
} Fixture;

typedef struct
{
  gboolean      done;
  PatchesValue *result;
  GError       *error;
} CallResult;

static void
call_result_free (CallResult *r)
{
  g_clear_pointer (&r->result, patches_value_unref);
  g_clear_error (&r->error);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CallResult, call_result_free)

static PatchesValue *
parse (const char *json)
{
  g_autoptr(GError) error = NULL;
  PatchesValue *value = patches_value_parse (json, -1, &error);

  g_assert_no_error (error);
  return value;
}

static void
assert_json (const PatchesValue *value,
             const char         *expected)
{
  g_autofree char *text = patches_value_to_json (value);

  g_assert_cmpstr (text, ==, expected);
}

/* Handlers of the server */

static void
method_echo (PatchesRpc        *rpc,
             PatchesRpcRequest *request,
             gpointer           user_data)
{
  patches_rpc_request_return_value (request, patches_rpc_request_get_params (request));
}

static void
method_void (PatchesRpc        *rpc,
             PatchesRpcRequest *request,
             gpointer           user_data)
{
  patches_rpc_request_return_value (request, NULL);
}

static void
method_null (PatchesRpc        *rpc,
             PatchesRpcRequest *request,
             gpointer           user_data)
{
  g_autoptr(PatchesValue) null = patches_value_new_null ();

  patches_rpc_request_return_value (request, null);
}

static void
method_raw (PatchesRpc        *rpc,
            PatchesRpcRequest *request,
            gpointer           user_data)
{
  patches_rpc_request_return_json (request, "{\"state\":null,\"rev\":0,\"changes\":[]}", -1);
}

/* fail [code, message, data?]: a string code goes through a GError */
static void
method_fail (PatchesRpc        *rpc,
             PatchesRpcRequest *request,
             gpointer           user_data)
{
  PatchesValue *code = patches_rpc_request_get_param (request, 0);
  PatchesValue *message = patches_rpc_request_get_param (request, 1);
  PatchesValue *data = patches_rpc_request_get_param (request, 2);

  if (patches_value_get_kind (code) == PATCHES_VALUE_STRING)
    {
      g_autoptr(GError) error = patches_rpc_error_from_remote_string (patches_value_get_string (code),
                                                                      patches_value_get_string (message),
                                                                      data);
      patches_rpc_request_return_gerror (request, error);
    }
  else
    patches_rpc_request_return_error (request, (int) patches_value_get_number (code),
                                      patches_value_get_string (message), data);
}

static void
method_gerror (PatchesRpc        *rpc,
               PatchesRpcRequest *request,
               gpointer           user_data)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "disk on fire");

  patches_rpc_request_return_gerror (request, error);
}

static void
method_frame_size (PatchesRpc        *rpc,
                   PatchesRpcRequest *request,
                   gpointer           user_data)
{
  g_autoptr(PatchesValue) size = patches_value_new_number (patches_rpc_request_get_frame_size (request));

  patches_rpc_request_return_value (request, size);
}

static void
method_hold (PatchesRpc        *rpc,
             PatchesRpcRequest *request,
             gpointer           user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->held, patches_rpc_request_ref (request));
}

static void
method_whoami (PatchesRpc        *rpc,
               PatchesRpcRequest *request,
               gpointer           user_data)
{
  g_autoptr(PatchesValue) value = patches_value_new_string (user_data);

  patches_rpc_request_return_value (request, value);
}

/* Recording */

static void
on_frame (PatchesTransport *transport,
          GBytes           *text,
          GPtrArray        *frames)
{
  gsize len;
  const char *data = g_bytes_get_data (text, &len);

  g_ptr_array_add (frames, g_strndup (data, len));
}

static void
on_notification (PatchesRpc   *rpc,
                 const char   *method,
                 PatchesValue *params,
                 GPtrArray    *notes)
{
  g_autofree char *text = params ? patches_value_to_json (params) : g_strdup ("(none)");

  g_ptr_array_add (notes, g_strdup_printf ("%s %s", method, text));
}

static void
on_server_closed (PatchesTransport *transport,
                  guint             code,
                  const char       *reason,
                  Fixture          *f)
{
  f->server_closed++;
  f->server_close_code = code;
}

static void
on_client_closed (PatchesTransport *transport,
                  guint             code,
                  const char       *reason,
                  Fixture          *f)
{
  f->client_closed++;
}

static void
on_server_pong (SoupWebsocketConnection *connection,
                GBytes                  *message,
                Fixture                 *f)
{
  f->server_pongs++;
}

static void
server_websocket_cb (SoupServer              *server,
                     SoupServerMessage       *msg,
                     const char              *path,
                     SoupWebsocketConnection *connection,
                     gpointer                 user_data)
{
  Fixture *f = user_data;

  if (f->server_transport != NULL)
    {
      g_signal_handlers_disconnect_by_data (f->server_transport, f);
      g_signal_handlers_disconnect_by_data (f->server_transport, f->server_rx);
      g_signal_handlers_disconnect_by_data (patches_websocket_transport_get_connection (f->server_transport), f);
    }
  if (f->server_rpc != NULL)
    g_signal_handlers_disconnect_by_data (f->server_rpc, f->server_notes);
  g_clear_object (&f->server_rpc);
  g_clear_object (&f->server_transport);
  f->server_closed = 0;

  f->server_transport = g_object_new (PATCHES_TYPE_WEBSOCKET_TRANSPORT,
                                      "connection", connection,
                                      "keepalive-interval", f->server_keepalive,
                                      "keepalive-timeout", f->server_keepalive,
                                      "max-incoming-payload-size",
                                      f->server_max_payload ? f->server_max_payload
                                                            : PATCHES_WEBSOCKET_MAX_INCOMING_PAYLOAD_SIZE_DEFAULT,
                                      NULL);
  g_signal_connect (f->server_transport, "message", G_CALLBACK (on_frame), f->server_rx);
  g_signal_connect (f->server_transport, "closed", G_CALLBACK (on_server_closed), f);
  g_signal_connect (connection, "pong", G_CALLBACK (on_server_pong), f);

  f->server_rpc = patches_rpc_new (PATCHES_TRANSPORT (f->server_transport), PATCHES_RPC_ROLE_SERVER);
  g_signal_connect (f->server_rpc, "notification", G_CALLBACK (on_notification), f->server_notes);
  patches_rpc_add_method (f->server_rpc, "echo", method_echo, NULL, NULL);
  patches_rpc_add_method (f->server_rpc, "void", method_void, NULL, NULL);
  patches_rpc_add_method (f->server_rpc, "null", method_null, NULL, NULL);
  patches_rpc_add_method (f->server_rpc, "raw", method_raw, NULL, NULL);
  patches_rpc_add_method (f->server_rpc, "fail", method_fail, NULL, NULL);
  patches_rpc_add_method (f->server_rpc, "gerror", method_gerror, NULL, NULL);
  patches_rpc_add_method (f->server_rpc, "frameSize", method_frame_size, NULL, NULL);
  patches_rpc_add_method (f->server_rpc, "hold", method_hold, f, NULL);
  patches_rpc_add_method (f->server_rpc, "whoami", method_whoami, g_strdup ("server"), g_free);
}

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Fixture *f = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupWebsocketConnection) connection = NULL;

  connection = soup_session_websocket_connect_finish (SOUP_SESSION (object), result, &error);
  g_assert_no_error (error);

  if (f->client_transport != NULL)
    {
      g_signal_handlers_disconnect_by_data (f->client_transport, f);
      g_signal_handlers_disconnect_by_data (f->client_transport, f->client_rx);
    }
  g_clear_object (&f->client_transport);
  f->client_closed = 0;
  f->client_transport = patches_websocket_transport_new (connection);
  g_signal_connect (f->client_transport, "message", G_CALLBACK (on_frame), f->client_rx);
  g_signal_connect (f->client_transport, "closed", G_CALLBACK (on_client_closed), f);

  /* The client object outlives connections: ids keep counting */
  if (f->client_rpc == NULL)
    {
      f->client_rpc = patches_rpc_new (PATCHES_TRANSPORT (f->client_transport), PATCHES_RPC_ROLE_CLIENT);
      g_signal_connect (f->client_rpc, "notification", G_CALLBACK (on_notification), f->client_notes);
      patches_rpc_add_method (f->client_rpc, "whoami", method_whoami, g_strdup ("client"), g_free);
    }
  else
    patches_rpc_set_transport (f->client_rpc, PATCHES_TRANSPORT (f->client_transport));

  f->connecting = FALSE;
}

static void
fixture_connect (Fixture *f)
{
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u/rpc", f->port);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  PatchesWebsocketTransport *old_server = f->server_transport;

  f->connecting = TRUE;
  soup_session_websocket_connect_async (f->session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        NULL, connect_cb, f);
  WAIT_UNTIL (!f->connecting && f->server_transport != NULL && f->server_transport != old_server);
}

static gboolean
heartbeat_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
fixture_start (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  GSList *uris;

  f->heartbeat = g_timeout_add (100, heartbeat_cb, NULL);
  f->server_rx = g_ptr_array_new_with_free_func (g_free);
  f->server_notes = g_ptr_array_new_with_free_func (g_free);
  f->client_rx = g_ptr_array_new_with_free_func (g_free);
  f->client_notes = g_ptr_array_new_with_free_func (g_free);
  f->held = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_rpc_request_unref);

  f->server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (f->server, "/rpc", NULL, NULL, server_websocket_cb, f, NULL);
  soup_server_listen (f->server, address, 0, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (f->server);
  g_assert_nonnull (uris);
  f->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_assert_cmpuint (f->port, >, 0);

  f->session = soup_session_new ();
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  fixture_start (f);
  fixture_connect (f);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->client_transport != NULL &&
      patches_transport_get_state (PATCHES_TRANSPORT (f->client_transport)) == PATCHES_TRANSPORT_STATE_OPEN)
    patches_transport_close (PATCHES_TRANSPORT (f->client_transport), SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  if (f->client_transport != NULL)
    WAIT_UNTIL (f->client_closed > 0);
  if (f->server_transport != NULL)
    WAIT_UNTIL (f->server_closed > 0);

  g_clear_pointer (&f->held, g_ptr_array_unref);
  g_clear_object (&f->client_rpc);
  g_clear_object (&f->client_transport);
  g_clear_object (&f->server_rpc);
  g_clear_object (&f->server_transport);

  soup_server_disconnect (f->server);
  g_clear_object (&f->server);
  g_clear_object (&f->session);
  g_clear_handle_id (&f->heartbeat, g_source_remove);

  while (g_main_context_iteration (NULL, FALSE))
    ;

  g_clear_pointer (&f->server_rx, g_ptr_array_unref);
  g_clear_pointer (&f->server_notes, g_ptr_array_unref);
  g_clear_pointer (&f->client_rx, g_ptr_array_unref);
  g_clear_pointer (&f->client_notes, g_ptr_array_unref);
}

/* Calls */

static void
call_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  CallResult *r = user_data;

  r->result = patches_rpc_call_finish (PATCHES_RPC (object), result, &r->error);
  r->done = TRUE;
}

static CallResult *
call_start (PatchesRpc   *rpc,
            const char   *method,
            const char   *params_json,
            GCancellable *cancellable)
{
  CallResult *r = g_new0 (CallResult, 1);
  g_autoptr(PatchesValue) params = params_json ? parse (params_json) : NULL;

  patches_rpc_call_async (rpc, method, params, cancellable, call_cb, r);
  return r;
}

static CallResult *
call_sync (PatchesRpc *rpc,
           const char *method,
           const char *params_json)
{
  CallResult *r = call_start (rpc, method, params_json, NULL);

  WAIT_UNTIL (r->done);
  return r;
}

static const char *
last_frame (GPtrArray *frames)
{
  g_assert_cmpuint (frames->len, >, 0);
  return g_ptr_array_index (frames, frames->len - 1);
}

/* Tests */

static void
test_call_out_of_order (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(CallResult) r1 = call_start (f->client_rpc, "hold", "[1]", NULL);
  g_autoptr(CallResult) r2 = call_start (f->client_rpc, "hold", "[2]", NULL);
  g_autoptr(CallResult) r3 = call_start (f->client_rpc, "hold", "[3]", NULL);
  static const guint order[] = { 2, 0, 1 };
  CallResult *results[] = { r1, r2, r3 };

  WAIT_UNTIL (f->held->len == 3);

  /* PROTOCOL.md §3.1: key order jsonrpc, id, method, params; ids from 1 */
  g_assert_cmpstr (g_ptr_array_index (f->server_rx, 0), ==, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hold\",\"params\":[1]}");
  g_assert_cmpstr (g_ptr_array_index (f->server_rx, 1), ==, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"hold\",\"params\":[2]}");
  g_assert_cmpstr (g_ptr_array_index (f->server_rx, 2), ==, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"hold\",\"params\":[3]}");

  /* Answer 3, then 1, then 2, each with ten times its parameter */
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      PatchesRpcRequest *request = g_ptr_array_index (f->held, order[i]);
      double n = patches_value_get_number (patches_rpc_request_get_param (request, 0));
      g_autoptr(PatchesValue) answer = patches_value_new_number (n * 10);

      g_assert_cmpstr (patches_rpc_request_get_method (request), ==, "hold");
      patches_rpc_request_return_value (request, answer);
      g_assert_true (patches_rpc_request_is_answered (request));
      WAIT_UNTIL (results[order[i]]->done);
      for (guint j = i + 1; j < G_N_ELEMENTS (order); j++)
        g_assert_false (results[order[j]]->done);
    }

  for (guint i = 0; i < 3; i++)
    {
      g_assert_no_error (results[i]->error);
      g_assert_cmpfloat (patches_value_get_number (results[i]->result), ==, (i + 1) * 10);
    }

  g_assert_cmpstr (g_ptr_array_index (f->client_rx, 0), ==, "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":30}");
  g_assert_cmpstr (g_ptr_array_index (f->client_rx, 1), ==, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":10}");
  g_assert_cmpstr (g_ptr_array_index (f->client_rx, 2), ==, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":20}");
}

static void
test_call_void_and_null (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(CallResult) r1 = call_sync (f->client_rpc, "void", "[\"doc\"]");
  g_autoptr(CallResult) r2 = NULL;
  g_autoptr(CallResult) r3 = NULL;
  g_autoptr(CallResult) r4 = NULL;

  /* PROTOCOL.md §3.3: no result key for a void result */
  g_assert_cmpstr (last_frame (f->client_rx), ==, "{\"jsonrpc\":\"2.0\",\"id\":1}");
  g_assert_no_error (r1->error);
  g_assert_null (r1->result);

  r2 = call_sync (f->client_rpc, "null", "[]");
  g_assert_cmpstr (last_frame (f->client_rx), ==, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":null}");
  g_assert_no_error (r2->error);
  g_assert_nonnull (r2->result);
  g_assert_cmpint (patches_value_get_kind (r2->result), ==, PATCHES_VALUE_NULL);

  /* A result spliced in as raw JSON text */
  r3 = call_sync (f->client_rpc, "raw", "[\"doc\"]");
  g_assert_cmpstr (last_frame (f->client_rx), ==,
                   "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"state\":null,\"rev\":0,\"changes\":[]}}");
  g_assert_no_error (r3->error);
  assert_json (r3->result, "{\"state\":null,\"rev\":0,\"changes\":[]}");

  /* No params: the key is omitted, and the handler sees [] */
  r4 = call_sync (f->client_rpc, "echo", NULL);
  g_assert_cmpstr (last_frame (f->server_rx), ==, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"echo\"}");
  assert_json (r4->result, "[]");
}

static void
test_call_errors (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(CallResult) r = NULL;
  g_autoptr(PatchesValue) expected = parse ("{\"scope\":\"doc\"}");

  r = call_sync (f->client_rpc, "fail",
                 "[409,\"Client baseRev (5) is ahead of server revision (0) for doc e1. Client needs to reload the document.\",{\"scope\":\"doc\"}]");
  g_assert_cmpstr (last_frame (f->client_rx), ==,
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":409,\"message\":\"Client baseRev (5) is ahead of server revision (0) for doc e1. Client needs to reload the document.\",\"data\":{\"scope\":\"doc\"}}}");
  g_assert_error (r->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
  g_assert_cmpstr (r->error->message, ==,
                   "Client baseRev (5) is ahead of server revision (0) for doc e1. Client needs to reload the document.");
  g_assert_cmpint (patches_rpc_error_get_code (r->error), ==, 409);
  g_assert_null (patches_rpc_error_get_code_string (r->error));
  g_assert_true (patches_value_equal (patches_rpc_error_get_data (r->error), expected));
  g_assert_false (patches_rpc_error_is_network (r->error));
  g_assert_null (r->result);
  g_clear_pointer (&r, call_result_free);

  /* Coded errors without data carry only code and message */
  r = call_sync (f->client_rpc, "fail", "[403,\"READ_FORBIDDEN:d\"]");
  g_assert_cmpstr (last_frame (f->client_rx), ==,
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":403,\"message\":\"READ_FORBIDDEN:d\"}}");
  g_assert_error (r->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
  g_assert_cmpint (patches_rpc_error_get_code (r->error), ==, 403);
  g_assert_null (patches_rpc_error_get_data (r->error));
  g_clear_pointer (&r, call_result_free);

  /* String codes (branch merge errors) */
  r = call_sync (f->client_rpc, "fail", "[\"MERGE_PARTIAL_PROGRESS\",\"Merge stopped\"]");
  g_assert_cmpstr (last_frame (f->client_rx), ==,
                   "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":\"MERGE_PARTIAL_PROGRESS\",\"message\":\"Merge stopped\"}}");
  g_assert_cmpstr (patches_rpc_error_get_code_string (r->error), ==, "MERGE_PARTIAL_PROGRESS");
  g_assert_cmpint (patches_rpc_error_get_code (r->error), ==, 0);
  g_clear_pointer (&r, call_result_free);

  /* A data member that is null is kept apart from no data */
  r = call_sync (f->client_rpc, "fail", "[503,\"later\",null]");
  g_assert_cmpstr (last_frame (f->client_rx), ==,
                   "{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":503,\"message\":\"later\",\"data\":null}}");
  g_assert_nonnull (patches_rpc_error_get_data (r->error));
  g_assert_cmpint (patches_value_get_kind (patches_rpc_error_get_data (r->error)), ==, PATCHES_VALUE_NULL);
  g_clear_pointer (&r, call_result_free);

  /* Any other GError: -32000 with its message, no data */
  r = call_sync (f->client_rpc, "gerror", "[\"doc\"]");
  g_assert_cmpstr (last_frame (f->client_rx), ==,
                   "{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":-32000,\"message\":\"disk on fire\"}}");
  g_assert_cmpint (patches_rpc_error_get_code (r->error), ==, PATCHES_RPC_CODE_SERVER_ERROR);
  g_clear_pointer (&r, call_result_free);

  /* Unknown method: -32000 (not -32601) with a stack-like string as data */
  r = call_sync (f->client_rpc, "getDocument", "[\"notes\"]");
  g_assert_cmpstr (last_frame (f->client_rx), ==,
                   "{\"jsonrpc\":\"2.0\",\"id\":6,\"error\":{\"code\":-32000,\"message\":\"Unknown method 'getDocument'.\",\"data\":\"Error: Unknown method 'getDocument'.\"}}");
  g_assert_error (r->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
  g_assert_cmpstr (r->error->message, ==, "Unknown method 'getDocument'.");
  g_assert_cmpint (patches_rpc_error_get_code (r->error), ==, -32000);
  g_clear_pointer (&r, call_result_free);

  /* A removed method is unknown */
  g_assert_true (patches_rpc_remove_method (f->server_rpc, "echo"));
  g_assert_false (patches_rpc_remove_method (f->server_rpc, "echo"));
  r = call_sync (f->client_rpc, "echo", "[]");
  g_assert_cmpstr (r->error->message, ==, "Unknown method 'echo'.");
}

static void
test_notify_both_ways (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(PatchesValue) params = parse ("{\"docId\":\"doc1\",\"changes\":[]}");
  g_autoptr(PatchesValue) hello = parse ("{\"a\":1}");
  g_autoptr(GPtrArray) detailed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(CallResult) r = NULL;

  g_signal_connect (f->client_rpc, "notification::changesCommitted",
                    G_CALLBACK (on_notification), detailed);

  /* Server → client, PROTOCOL.md §3.5: no id key, named params */
  g_assert_true (patches_rpc_notify (f->server_rpc, "changesCommitted", params));
  g_assert_true (patches_rpc_notify (f->server_rpc, "docDeleted", NULL));
  WAIT_UNTIL (f->client_notes->len == 2);
  g_assert_cmpstr (g_ptr_array_index (f->client_rx, 0), ==,
                   "{\"jsonrpc\":\"2.0\",\"method\":\"changesCommitted\",\"params\":{\"docId\":\"doc1\",\"changes\":[]}}");
  g_assert_cmpstr (g_ptr_array_index (f->client_rx, 1), ==, "{\"jsonrpc\":\"2.0\",\"method\":\"docDeleted\"}");
  g_assert_cmpstr (g_ptr_array_index (f->client_notes, 0), ==, "changesCommitted {\"docId\":\"doc1\",\"changes\":[]}");
  g_assert_cmpstr (g_ptr_array_index (f->client_notes, 1), ==, "docDeleted (none)");
  g_assert_cmpuint (detailed->len, ==, 1);

  /* Client → server */
  g_assert_true (patches_rpc_notify (f->client_rpc, "hello", hello));
  WAIT_UNTIL (f->server_notes->len == 1);
  g_assert_cmpstr (last_frame (f->server_rx), ==, "{\"jsonrpc\":\"2.0\",\"method\":\"hello\",\"params\":{\"a\":1}}");
  g_assert_cmpstr (g_ptr_array_index (f->server_notes, 0), ==, "hello {\"a\":1}");

  /* The server calls the client: both directions share one id space per
   * peer, each starting at 1 */
  r = call_sync (f->server_rpc, "whoami", "[]");
  g_assert_no_error (r->error);
  assert_json (r->result, "\"client\"");
  g_assert_cmpstr (last_frame (f->client_rx), ==, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"whoami\",\"params\":[]}");
  g_assert_cmpstr (last_frame (f->server_rx), ==, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"client\"}");
  g_clear_pointer (&r, call_result_free);

  r = call_sync (f->client_rpc, "whoami", "[]");
  assert_json (r->result, "\"server\"");
}

typedef struct
{
  const char *frame;
  const char *reply;   /* NULL: no reply at all */
} CorpusCase;

/* Sends a request that the server answers at once and checks that its
 * answer is the next frame, so that nothing was sent in between. */
static void
assert_no_reply (Fixture *f)
{
  guint n = f->client_rx->len;

  patches_transport_send_text (PATCHES_TRANSPORT (f->client_transport),
                               "{\"jsonrpc\":\"2.0\",\"id\":\"probe\",\"method\":\"echo\",\"params\":[\"probe\"]}");
  WAIT_UNTIL (f->client_rx->len > n);
  g_assert_cmpstr (g_ptr_array_index (f->client_rx, n), ==,
                   "{\"jsonrpc\":\"2.0\",\"id\":\"probe\",\"result\":[\"probe\"]}");
}

#define PARSE_ERROR "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error\",\"data\":{}}}"
#define INVALID(data) "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request\",\"data\":" data "}}"

static void
test_corpus_server (Fixture       *f,
                    gconstpointer  data)
{
  static const CorpusCase corpus[] = {
    /* §3.7 rule 1 */
    { "not json", PARSE_ERROR },
    { "", PARSE_ERROR },
    { "   ", PARSE_ERROR },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":[1]", PARSE_ERROR },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"} x", PARSE_ERROR },
    /* what json-glib accepts and JSON.parse() does not */
    { "{'jsonrpc':'2.0','id':1,'method':'echo'}", PARSE_ERROR },
    { "/* c */ {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}", PARSE_ERROR },
    { "{\"jsonrpc\":\"2.0\",\"id\":0x10,\"method\":\"echo\"}", PARSE_ERROR },
    { "{\"jsonrpc\":\"2.0\",\"id\":01,\"method\":\"echo\"}", PARSE_ERROR },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":[.5]}", PARSE_ERROR },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":[\"\\x41\"]}", PARSE_ERROR },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":[\"a\tb\"]}", PARSE_ERROR },
    { "\xef\xbb\xbf{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}", PARSE_ERROR },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":[1,]}", PARSE_ERROR },
    /* §3.7 rule 2: not an object with a method key */
    { "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":[]}]", INVALID ("null") },
    { "42", INVALID ("null") },
    { "null", INVALID ("null") },
    { "\"echo\"", INVALID ("null") },
    { "{}", INVALID ("null") },
    { "{\"jsonrpc\":\"2.0\",\"id\":7,\"params\":[]}", INVALID ("7") },
    { "{\"jsonrpc\":\"2.0\",\"id\":\"abc\"}", INVALID ("\"abc\"") },
    { "{\"jsonrpc\":\"2.0\",\"id\":null,\"params\":[]}", INVALID ("null") },
    /* responses to calls the server never made */
    { "{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":1}", INVALID ("99") },
    { "{\"jsonrpc\":\"2.0\",\"id\":98,\"result\":1,\"error\":{\"code\":1,\"message\":\"x\"}}", INVALID ("98") },
    /* §3.7 rule 3: an id key, even null, makes a request */
    { "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"echo\",\"params\":[1]}",
      "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":[1]}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":\"s-1\",\"method\":\"echo\",\"params\":[1]}",
      "{\"jsonrpc\":\"2.0\",\"id\":\"s-1\",\"result\":[1]}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":[1]},\"method\":\"echo\",\"params\":[]}",
      "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":[1]},\"result\":[]}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":1.0,\"method\":\"echo\",\"params\":[]}",
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[]}" },
    /* the jsonrpc member is not checked */
    { "{\"id\":9,\"method\":\"echo\",\"params\":[true]}", "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":[true]}" },
    { "{\"params\":[],\"method\":\"echo\",\"jsonrpc\":\"1.0\",\"id\":10}", "{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":[]}" },
    /* §3.7 rule 5: params normalised */
    { "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"echo\",\"params\":{\"docId\":\"x\"}}",
      "{\"jsonrpc\":\"2.0\",\"id\":11,\"result\":[{\"docId\":\"x\"}]}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"echo\",\"params\":null}",
      "{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":[null]}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"echo\"}", "{\"jsonrpc\":\"2.0\",\"id\":13,\"result\":[]}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"echo\",\"params\":\"doc\"}",
      "{\"jsonrpc\":\"2.0\",\"id\":14,\"result\":[\"doc\"]}" },
    /* §3.7 rule 4 */
    { "{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"nope\",\"params\":[]}",
      "{\"jsonrpc\":\"2.0\",\"id\":15,\"error\":{\"code\":-32000,\"message\":\"Unknown method 'nope'.\",\"data\":\"Error: Unknown method 'nope'.\"}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":5}",
      "{\"jsonrpc\":\"2.0\",\"id\":16,\"error\":{\"code\":-32000,\"message\":\"Unknown method '5'.\",\"data\":\"Error: Unknown method '5'.\"}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":17,\"method\":[\"a\",null,1]}",
      "{\"jsonrpc\":\"2.0\",\"id\":17,\"error\":{\"code\":-32000,\"message\":\"Unknown method 'a,,1'.\",\"data\":\"Error: Unknown method 'a,,1'.\"}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":18,\"method\":{\"a\":1}}",
      "{\"jsonrpc\":\"2.0\",\"id\":18,\"error\":{\"code\":-32000,\"message\":\"Unknown method '[object Object]'.\",\"data\":\"Error: Unknown method '[object Object]'.\"}}" },
    /* a method member that is null names the method "null" */
    { "{\"jsonrpc\":\"2.0\",\"id\":18,\"method\":null}", "{\"jsonrpc\":\"2.0\",\"id\":18,\"result\":null}" },
    /* numbers as JavaScript reads and writes them */
    { "{\"jsonrpc\":\"2.0\",\"id\":19,\"method\":\"echo\",\"params\":[123456789012345678901234567890,-18446744073709551616,9007199254740993,1e400,-0,1E2,0.1]}",
      "{\"jsonrpc\":\"2.0\",\"id\":19,\"result\":[1.2345678901234568e+29,-18446744073709552000,9007199254740992,null,0,100,0.1]}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":20,\"method\":\"echo\",\"params\":[\"\\ud83d\\ude00 \\u00e9\\/\\\"\"]}",
      "{\"jsonrpc\":\"2.0\",\"id\":20,\"result\":[\"\xf0\x9f\x98\x80 \xc3\xa9/\\\"\"]}" },
    /* §3.5: notifications never run a method and get no reply */
    { "{\"jsonrpc\":\"2.0\",\"method\":\"hold\",\"params\":[1]}", NULL },
    { "{\"jsonrpc\":\"2.0\",\"method\":\"commitChanges\",\"params\":[\"doc\",[]]}", NULL },
    { "{\"method\":\"nope\"}", NULL },
  };
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autoptr(CallResult) r = NULL;
  SoupWebsocketConnection *connection;
  guint n;

  for (guint i = 0; i < G_N_ELEMENTS (corpus); i++)
    {
      n = f->client_rx->len;

      g_test_message ("frame %u: %s", i, corpus[i].frame);
      patches_transport_send_text (PATCHES_TRANSPORT (f->client_transport), corpus[i].frame);
      if (corpus[i].reply != NULL)
        {
          WAIT_UNTIL (f->client_rx->len > n);
          g_assert_cmpstr (g_ptr_array_index (f->client_rx, n), ==, corpus[i].reply);
        }
      else
        assert_no_reply (f);
    }

  g_assert_cmpuint (f->held->len, ==, 0);
  g_assert_cmpuint (f->server_notes->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (f->server_notes, 0), ==, "hold [1]");
  g_assert_cmpstr (g_ptr_array_index (f->server_notes, 2), ==, "nope (none)");

  /* Binary frames are a protocol error: answered as unparseable */
  connection = patches_websocket_transport_get_connection (f->client_transport);
  n = f->client_rx->len;
  soup_websocket_connection_send_binary (connection, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}", 39);
  WAIT_UNTIL (f->client_rx->len > n);
  g_assert_cmpstr (g_ptr_array_index (f->client_rx, n), ==, PARSE_ERROR);

  /* Nesting deep enough to crash a recursive parser */
  for (guint i = 0; i < 200000; i++)
    g_string_append_c (deep, '[');
  for (guint i = 0; i < 200000; i++)
    g_string_append_c (deep, ']');
  n = f->client_rx->len;
  patches_transport_send_text (PATCHES_TRANSPORT (f->client_transport), deep->str);
  WAIT_UNTIL (f->client_rx->len > n);
  g_assert_cmpstr (g_ptr_array_index (f->client_rx, n), ==, PARSE_ERROR);

  /* Nesting within the limit is fine */
  g_string_truncate (deep, 0);
  g_string_append (deep, "{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"echo\",\"params\":");
  for (guint i = 0; i < PATCHES_JSON_SCAN_MAX_DEPTH - 2; i++)
    g_string_append_c (deep, '[');
  for (guint i = 0; i < PATCHES_JSON_SCAN_MAX_DEPTH - 2; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, '}');
  n = f->client_rx->len;
  patches_transport_send_text (PATCHES_TRANSPORT (f->client_transport), deep->str);
  WAIT_UNTIL (f->client_rx->len > n);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (f->client_rx, n), "{\"jsonrpc\":\"2.0\",\"id\":21,\"result\":[[[["));

  /* The peer keeps working, and the client ignored every error frame */
  r = call_sync (f->client_rpc, "echo", "[\"still here\"]");
  g_assert_no_error (r->error);
  assert_json (r->result, "[\"still here\"]");
  g_assert_cmpint (patches_transport_get_state (PATCHES_TRANSPORT (f->server_transport)), ==,
                   PATCHES_TRANSPORT_STATE_OPEN);
}

static void
test_corpus_client (Fixture       *f,
                    gconstpointer  data)
{
  static const char * const ignored[] = {
    "[{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":1}]",
    "42",
    "null",
    "{\"jsonrpc\":\"2.0\"}",
    "{\"jsonrpc\":\"2.0\",\"result\":1}",
    "{\"jsonrpc\":\"2.0\",\"id\":777,\"result\":1}",
    "{\"jsonrpc\":\"2.0\",\"id\":\"2\",\"result\":1}",
    "{\"jsonrpc\":\"2.0\",\"id\":2.5,\"result\":1}",
    "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":1}",
    "{\"jsonrpc\":\"2.0\",\"id\":-1,\"error\":{\"code\":1,\"message\":\"x\"}}",
  };
  PatchesTransport *server = PATCHES_TRANSPORT (f->server_transport);
  SoupWebsocketConnection *connection;
  g_autoptr(CallResult) pending = NULL;
  g_autoptr(CallResult) other = NULL;
  g_autoptr(CallResult) probe = NULL;
  guint n;

  /* §3.6 rule 1: an unparseable frame fails every pending call, sends
   * nothing back and keeps the socket */
  pending = call_start (f->client_rpc, "hold", "[1]", NULL);
  other = call_start (f->client_rpc, "hold", "[2]", NULL);
  WAIT_UNTIL (f->held->len == 2);
  n = f->server_rx->len;
  patches_transport_send_text (server, "<html>502 Bad Gateway</html>");
  WAIT_UNTIL (pending->done && other->done);
  g_assert_error (pending->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_PARSE);
  g_assert_error (other->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_PARSE);
  g_assert_cmpint (patches_rpc_error_get_code (pending->error), ==, PATCHES_RPC_CODE_PARSE_ERROR);
  g_assert_true (patches_rpc_error_is_network (pending->error));
  g_clear_pointer (&pending, call_result_free);
  g_clear_pointer (&other, call_result_free);

  /* The late answers to the failed calls are ignored */
  for (guint i = 0; i < f->held->len; i++)
    patches_rpc_request_return_value (g_ptr_array_index (f->held, i), NULL);
  g_ptr_array_set_size (f->held, 0);

  probe = call_sync (f->server_rpc, "whoami", "[]");
  assert_json (probe->result, "\"client\"");
  g_clear_pointer (&probe, call_result_free);

  /* §3.6 rules 3 and 4: frames that answer nothing are dropped */
  pending = call_start (f->client_rpc, "hold", "[3]", NULL);   /* id 3 */
  WAIT_UNTIL (f->held->len == 1);
  for (guint i = 0; i < G_N_ELEMENTS (ignored); i++)
    patches_transport_send_text (server, ignored[i]);
  probe = call_sync (f->server_rpc, "whoami", "[]");
  g_assert_false (pending->done);
  g_clear_pointer (&probe, call_result_free);

  /* An error key wins over a result key */
  patches_transport_send_text (server, "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":\"r\",\"error\":{\"code\":500,\"message\":\"boom\",\"data\":[1]}}");
  WAIT_UNTIL (pending->done);
  g_assert_error (pending->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
  g_assert_cmpstr (pending->error->message, ==, "boom");
  g_assert_cmpint (patches_rpc_error_get_code (pending->error), ==, 500);
  assert_json (patches_rpc_error_get_data (pending->error), "[1]");
  g_clear_pointer (&pending, call_result_free);

  /* §3.6 rule 5 defaults: code -32000, message "Unknown error" */
  pending = call_start (f->client_rpc, "hold", "[4]", NULL);   /* id 4 */
  WAIT_UNTIL (f->held->len == 2);
  patches_transport_send_text (server, "{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":null}");
  WAIT_UNTIL (pending->done);
  g_assert_error (pending->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
  g_assert_cmpstr (pending->error->message, ==, "Unknown error");
  g_assert_cmpint (patches_rpc_error_get_code (pending->error), ==, -32000);
  g_assert_null (patches_rpc_error_get_data (pending->error));
  g_clear_pointer (&pending, call_result_free);

  /* A frame with an id and neither result nor error is a void success */
  pending = call_start (f->client_rpc, "hold", "[5]", NULL);   /* id 5 */
  WAIT_UNTIL (f->held->len == 3);
  patches_transport_send_text (server, "{\"id\":5}");
  WAIT_UNTIL (pending->done);
  g_assert_no_error (pending->error);
  g_assert_null (pending->result);
  g_clear_pointer (&pending, call_result_free);

  /* A binary frame counts as unparseable */
  pending = call_start (f->client_rpc, "hold", "[6]", NULL);   /* id 6 */
  WAIT_UNTIL (f->held->len == 4);
  connection = patches_websocket_transport_get_connection (f->server_transport);
  soup_websocket_connection_send_binary (connection, "{\"id\":6}", 8);
  WAIT_UNTIL (pending->done);
  g_assert_error (pending->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_PARSE);
  g_clear_pointer (&pending, call_result_free);

  /* Nothing was ever sent back, and everything still works */
  probe = call_sync (f->server_rpc, "whoami", "[]");
  g_clear_pointer (&probe, call_result_free);
  probe = call_sync (f->client_rpc, "echo", "[7]");
  assert_json (probe->result, "[7]");

  {
    static const char * const expected[] = {
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"client\"}",
      "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"hold\",\"params\":[3]}",
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":\"client\"}",
      "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"hold\",\"params\":[4]}",
      "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"hold\",\"params\":[5]}",
      "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"hold\",\"params\":[6]}",
      "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":\"client\"}",
      "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"echo\",\"params\":[7]}",
    };

    g_assert_cmpuint (f->server_rx->len, ==, n + G_N_ELEMENTS (expected));
    for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
      g_assert_cmpstr (g_ptr_array_index (f->server_rx, n + i), ==, expected[i]);
  }
}

static void
test_close_fails_pending (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(CallResult) r1 = call_start (f->client_rpc, "hold", "[1]", NULL);
  g_autoptr(CallResult) r2 = call_start (f->client_rpc, "hold", "[2]", NULL);
  g_autoptr(CallResult) r3 = NULL;
  GCancellable *held_cancellable;

  WAIT_UNTIL (f->held->len == 2);
  held_cancellable = patches_rpc_request_get_cancellable (g_ptr_array_index (f->held, 0));
  g_assert_false (g_cancellable_is_cancelled (held_cancellable));

  patches_transport_close (PATCHES_TRANSPORT (f->server_transport), SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "bye");
  g_assert_cmpint (patches_transport_get_state (PATCHES_TRANSPORT (f->server_transport)), ==,
                   PATCHES_TRANSPORT_STATE_CLOSING);
  WAIT_UNTIL (r1->done && r2->done && f->server_closed > 0 && f->client_closed > 0);

  g_assert_error (r1->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_DISCONNECTED);
  g_assert_error (r2->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_DISCONNECTED);
  g_assert_true (patches_rpc_error_is_network (r1->error));
  g_assert_cmpint (patches_transport_get_state (PATCHES_TRANSPORT (f->client_transport)), ==,
                   PATCHES_TRANSPORT_STATE_CLOSED);

  /* Server-side requests learn that their answer cannot be delivered;
   * answering anyway is harmless */
  g_assert_true (g_cancellable_is_cancelled (held_cancellable));
  g_assert_true (g_cancellable_is_cancelled (patches_rpc_request_get_cancellable (g_ptr_array_index (f->held, 1))));
  patches_rpc_request_return_value (g_ptr_array_index (f->held, 0), NULL);

  /* A call on a closed transport fails at once, nothing sent */
  r3 = call_sync (f->client_rpc, "echo", "[]");
  g_assert_error (r3->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_NOT_CONNECTED);
  g_assert_true (patches_rpc_error_is_network (r3->error));
  g_assert_false (patches_rpc_notify (f->client_rpc, "hello", NULL));

  /* Each side saw one close */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (f->server_closed, ==, 1);
  g_assert_cmpuint (f->client_closed, ==, 1);
}

static void
test_reconnect_keeps_ids (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(CallResult) r1 = call_sync (f->client_rpc, "echo", "[1]");
  g_autoptr(CallResult) r2 = NULL;
  g_autoptr(CallResult) r3 = NULL;
  PatchesWebsocketTransport *old;

  assert_json (r1->result, "[1]");

  /* A call in flight when the transport is replaced fails */
  r2 = call_start (f->client_rpc, "hold", "[2]", NULL);
  WAIT_UNTIL (f->held->len == 1);
  old = g_object_ref (f->client_transport);
  fixture_connect (f);
  WAIT_UNTIL (r2->done);
  g_assert_error (r2->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_DISCONNECTED);
  g_assert_true (patches_rpc_get_transport (f->client_rpc) == PATCHES_TRANSPORT (f->client_transport));

  patches_transport_close (PATCHES_TRANSPORT (old), SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_object_unref (old);

  /* PROTOCOL.md §2.7: ids are not reset on reconnect */
  r3 = call_sync (f->client_rpc, "echo", "[3]");
  assert_json (r3->result, "[3]");
  g_assert_cmpstr (last_frame (f->server_rx), ==, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"echo\",\"params\":[3]}");
}

static void
test_big_frame (Fixture       *f,
                gconstpointer  data)
{
  gsize size = 2 * 1024 * 1024;
  g_autoptr(GString) text = g_string_sized_new (size + 64);
  g_autoptr(PatchesValue) params = patches_value_new_array ();
  g_autoptr(CallResult) r = NULL;
  g_autoptr(CallResult) s = NULL;
  PatchesValue *echoed;

  g_assert_cmpuint (soup_websocket_connection_get_max_incoming_payload_size (patches_websocket_transport_get_connection (f->client_transport)),
                    ==, PATCHES_WEBSOCKET_MAX_INCOMING_PAYLOAD_SIZE_DEFAULT);
  g_assert_cmpuint (soup_websocket_connection_get_max_incoming_payload_size (patches_websocket_transport_get_connection (f->server_transport)),
                    ==, 16 * 1024 * 1024);

  /* 2 MB each way, with escapes and multibyte characters in it */
  while (text->len < size)
    g_string_append (text, "ab\"c\\\n\xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80 0123456789");
  patches_value_array_append (params, patches_value_new_string_len (text->str, text->len));

  r = g_new0 (CallResult, 1);
  patches_rpc_call_async (f->client_rpc, "echo", params, NULL, call_cb, r);
  WAIT_UNTIL (r->done);
  g_assert_no_error (r->error);
  g_assert_cmpuint (patches_value_array_get_length (r->result), ==, 1);
  echoed = patches_value_array_get (r->result, 0);
  g_assert_cmpuint (patches_value_get_string_len (echoed), ==, text->len);
  g_assert_true (memcmp (patches_value_get_string (echoed), text->str, text->len) == 0);
  g_assert_cmpuint (strlen (last_frame (f->server_rx)), >, size);
  g_assert_cmpuint (strlen (last_frame (f->client_rx)), >, size);

  s = g_new0 (CallResult, 1);
  patches_rpc_call_async (f->client_rpc, "frameSize", params, NULL, call_cb, s);
  WAIT_UNTIL (s->done);
  g_assert_cmpfloat (patches_value_get_number (s->result), ==, strlen (last_frame (f->server_rx)));
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GCancellable) cancellable_fresh = g_cancellable_new ();
  g_autoptr(CallResult) r1 = call_start (f->client_rpc, "hold", "[1]", cancellable);
  g_autoptr(CallResult) r2 = NULL;
  g_autoptr(CallResult) r3 = NULL;
  guint n;

  WAIT_UNTIL (f->held->len == 1);
  g_assert_false (r1->done);
  g_cancellable_cancel (cancellable);
  WAIT_UNTIL (r1->done);
  g_assert_error (r1->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* The answer arriving later is logged and dropped */
  n = f->client_rx->len;
  patches_rpc_request_return_value (g_ptr_array_index (f->held, 0), NULL);
  WAIT_UNTIL (f->client_rx->len > n);

  /* Cancelled before it starts: nothing is sent, no id is used */
  g_cancellable_cancel (cancelled);
  r2 = call_start (f->client_rpc, "echo", "[2]", cancelled);
  WAIT_UNTIL (r2->done);
  g_assert_error (r2->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* A cancellable that is never cancelled does not get in the way */
  r3 = call_start (f->client_rpc, "echo", "[3]", cancellable_fresh);
  WAIT_UNTIL (r3->done);
  g_assert_no_error (r3->error);
  assert_json (r3->result, "[3]");
  g_assert_cmpstr (last_frame (f->server_rx), ==, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"echo\",\"params\":[3]}");
}

/* PROTOCOL.md §12 hazard 6: a peer that keeps the socket up but never
 * answers a call */
static void
test_request_timeout (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(CallResult) r1 = NULL;
  g_autoptr(CallResult) r2 = NULL;
  g_autoptr(CallResult) r3 = NULL;
  gint64 start;
  guint n;

  g_assert_cmpuint (patches_rpc_get_request_timeout (f->client_rpc), ==, 0);
  patches_rpc_set_request_timeout (f->client_rpc, 1);
  g_assert_cmpuint (patches_rpc_get_request_timeout (f->client_rpc), ==, 1);

  /* Answered in time: the timer does not fire afterwards */
  r1 = call_start (f->client_rpc, "echo", "[1]", NULL);
  WAIT_UNTIL (r1->done);
  g_assert_no_error (r1->error);
  assert_json (r1->result, "[1]");

  start = g_get_monotonic_time ();
  r2 = call_start (f->client_rpc, "hold", "[2]", NULL);
  WAIT_UNTIL (f->held->len == 1);
  WAIT_UNTIL (r2->done);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 900 * G_TIME_SPAN_MILLISECOND);
  g_assert_error (r2->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_true (patches_rpc_error_is_network (r2->error));
  g_assert_nonnull (strstr (r2->error->message, "hold"));

  /* The socket stays open; the late answer is dropped */
  g_assert_cmpint (patches_transport_get_state (PATCHES_TRANSPORT (f->client_transport)), ==,
                   PATCHES_TRANSPORT_STATE_OPEN);
  n = f->client_rx->len;
  patches_rpc_request_return_value (g_ptr_array_index (f->held, 0), NULL);
  WAIT_UNTIL (f->client_rx->len > n);

  /* Calls go on working, and 0 waits again */
  patches_rpc_set_request_timeout (f->client_rpc, 0);
  r3 = call_start (f->client_rpc, "hold", "[3]", NULL);
  WAIT_UNTIL (f->held->len == 2);
  start = g_get_monotonic_time ();
  while (g_get_monotonic_time () - start < 1200 * G_TIME_SPAN_MILLISECOND)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (r3->done);
  patches_rpc_request_return_value (g_ptr_array_index (f->held, 1), NULL);
  WAIT_UNTIL (r3->done);
  g_assert_no_error (r3->error);
}

static void
method_drop (PatchesRpc        *rpc,
             PatchesRpcRequest *request,
             gpointer           user_data)
{
}

static void
test_unanswered_request (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(CallResult) r = NULL;
  GLogLevelFlags fatal;

  /* A handler that drops its request (a bug, hence a warning): the peer
   * still gets an answer */
  fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK);
  patches_rpc_add_method (f->server_rpc, "dropped", method_drop, NULL, NULL);
  r = call_sync (f->client_rpc, "dropped", "[]");
  g_log_set_always_fatal (fatal);

  g_assert_error (r->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
  g_assert_cmpstr (last_frame (f->client_rx), ==,
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32000,\"message\":\"Method 'dropped' returned no answer\"}}");
}

static void
test_frame_too_big (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GString) big = g_string_new ("[\"");
  g_autoptr(CallResult) small = NULL;
  g_autoptr(CallResult) r = NULL;

  f->server_max_payload = 1024;
  fixture_setup (f, data);
  g_assert_cmpuint (patches_websocket_transport_get_max_incoming_payload_size (f->server_transport), ==, 1024);

  small = call_sync (f->client_rpc, "echo", "[1]");
  g_assert_no_error (small->error);

  /* Beyond the limit libsoup closes the connection (1009); the call in
   * flight fails as a network error */
  while (big->len < 4096)
    g_string_append (big, "0123456789");
  g_string_append (big, "\"]");
  r = call_start (f->client_rpc, "echo", big->str, NULL);
  WAIT_UNTIL (r->done && f->server_closed > 0 && f->client_closed > 0);
  g_assert_error (r->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_DISCONNECTED);
  g_assert_cmpuint (f->server_close_code, ==, SOUP_WEBSOCKET_CLOSE_TOO_BIG);
}

/* Keepalive */

static void
test_keepalive_alive (Fixture       *f,
                      gconstpointer  data)
{
  gint64 start = g_get_monotonic_time ();

  f->server_keepalive = 1;
  fixture_setup (f, data);

  g_assert_cmpuint (patches_websocket_transport_get_keepalive_interval (f->server_transport), ==, 1);
  g_assert_cmpuint (soup_websocket_connection_get_keepalive_interval (patches_websocket_transport_get_connection (f->server_transport)), ==, 1);

  /* A peer that answers pings stays connected well past interval + timeout */
  WAIT_UNTIL (f->server_pongs >= 3);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2 * G_USEC_PER_SEC);
  g_assert_cmpuint (f->server_closed, ==, 0);
  g_assert_cmpint (patches_transport_get_state (PATCHES_TRANSPORT (f->server_transport)), ==,
                   PATCHES_TRANSPORT_STATE_OPEN);
}

static void
test_keepalive_lost (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) socket = NULL;
  g_autofree char *handshake = NULL;
  g_autoptr(CallResult) r = NULL;
  gint64 start;

  f->server_keepalive = 1;
  fixture_start (f);

  /* A peer that completes the handshake, then never reads nor answers */
  socket = g_socket_client_connect_to_host (client, "127.0.0.1", f->port, NULL, &error);
  g_assert_no_error (error);
  handshake = g_strdup_printf ("GET /rpc HTTP/1.1\r\n"
                               "Host: 127.0.0.1:%u\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: Upgrade\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                               "Sec-WebSocket-Version: 13\r\n"
                               "\r\n", f->port);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (socket)),
                             handshake, strlen (handshake), NULL, NULL, &error);
  g_assert_no_error (error);

  WAIT_UNTIL (f->server_rpc != NULL);
  start = g_get_monotonic_time ();
  r = call_start (f->server_rpc, "whoami", "[]", NULL);

  /* Lost after about interval + timeout = 2 s without a pong */
  WAIT_UNTIL (f->server_closed > 0);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC);
  g_assert_cmpuint (f->server_close_code, ==, SOUP_WEBSOCKET_CLOSE_ABNORMAL);
  g_assert_cmpint (patches_transport_get_state (PATCHES_TRANSPORT (f->server_transport)), ==,
                   PATCHES_TRANSPORT_STATE_CLOSED);
  WAIT_UNTIL (r->done);
  g_assert_error (r->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_DISCONNECTED);

  g_io_stream_close (G_IO_STREAM (socket), NULL, NULL);
}

/* The strict pre-pass */

static void
test_json_scan (void)
{
  static const char * const good[] = {
    "0", "-0", "1.5e-3", "1E+2", "\"\"", "\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\"", "true", "false", "null",
    " [ ] ", "{}", "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}", "\t\r\n[1]\n", "\"\xc3\xa9\"", "[1e400]",
  };
  static const char * const bad[] = {
    "", " ", "[", "]", "{\"a\"}", "{\"a\":}", "{a:1}", "{'a':1}", "[1,]", "[,1]", "{\"a\":1,}", "[1 2]",
    "01", "1.", ".5", "+1", "-", "1e", "1e+", "0x10", "NaN", "Infinity", "tru", "nul", "\"\\x41\"",
    "\"\\'\"", "\"\\u12\"", "\"a\tb\"", "\"abc", "\xef\xbb\xbf[]", "[] []", "/**/[]", "[] // c", "[1]x",
  };
  g_autoptr(GString) deep = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *rewritten = NULL;

      g_test_message ("good: %s", good[i]);
      g_assert_true (patches_json_scan (good[i], strlen (good[i]), 100, &rewritten, NULL, &error));
      g_assert_no_error (error);
      g_assert_null (rewritten);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *rewritten = NULL;

      g_test_message ("bad: %s", bad[i]);
      g_assert_false (patches_json_scan (bad[i], strlen (bad[i]), 100, &rewritten, NULL, &error));
      g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_JSON);
      g_assert_null (rewritten);
    }

  /* Not nul-terminated: the length rules */
  {
    g_autofree char *rewritten = NULL;

    g_assert_true (patches_json_scan ("[1]garbage", 3, 100, &rewritten, NULL, NULL));
    g_assert_false (patches_json_scan ("[1]", 2, 100, &rewritten, NULL, NULL));
  }

  /* Depth */
  for (guint i = 0; i < 100; i++)
    g_string_append_c (deep, '[');
  for (guint i = 0; i < 100; i++)
    g_string_append_c (deep, ']');
  {
    g_autofree char *rewritten = NULL;

    g_assert_true (patches_json_scan (deep->str, deep->len, 100, &rewritten, NULL, NULL));
    g_assert_false (patches_json_scan (deep->str, deep->len, 99, &rewritten, NULL, NULL));
  }

  /* Integers json-glib cannot hold are read as doubles */
  {
    const char *text = "[123456789012345678901234567890,-9223372036854775809,922337203685477580,1.5,12345678901234567890e0]";
    g_autofree char *rewritten = NULL;
    gsize len = 0;

    g_assert_true (patches_json_scan (text, strlen (text), 100, &rewritten, &len, NULL));
    g_assert_cmpstr (rewritten, ==, "[123456789012345678901234567890.0,-9223372036854775809.0,922337203685477580,1.5,12345678901234567890e0]");
    g_assert_cmpuint (len, ==, strlen (rewritten));
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Net/JsonScan/strict", test_json_scan);

#define ADD(path, func) \
  g_test_add ("/Net/Rpc/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("call/out-of-order", test_call_out_of_order);
  ADD ("call/void-and-null", test_call_void_and_null);
  ADD ("call/errors", test_call_errors);
  ADD ("call/cancel", test_cancel);
  ADD ("call/request-timeout", test_request_timeout);
  ADD ("call/big-frame", test_big_frame);
  ADD ("call/unanswered-request", test_unanswered_request);
  ADD ("notify/both-ways", test_notify_both_ways);
  ADD ("corpus/server-role", test_corpus_server);
  ADD ("corpus/client-role", test_corpus_client);
  ADD ("close/fails-pending", test_close_fails_pending);
  ADD ("close/reconnect-keeps-ids", test_reconnect_keeps_ids);

#undef ADD

  g_test_add ("/Net/WebsocketTransport/max-incoming-payload-size", Fixture, NULL,
              NULL, test_frame_too_big, fixture_teardown);
  g_test_add ("/Net/WebsocketTransport/keepalive/alive", Fixture, NULL,
              NULL, test_keepalive_alive, fixture_teardown);
  g_test_add ("/Net/WebsocketTransport/keepalive/lost", Fixture, NULL,
              NULL, test_keepalive_lost, fixture_teardown);

  return g_test_run ();
}
