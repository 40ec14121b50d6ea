/* test-server.c: patches-server, the real binary, over real WebSockets
 *
 * Every test starts the patches-server executable (PATCHES_SERVER in the
 * environment) on 127.0.0.1 port 0 with a database in a temporary
 * directory, reads the port from the "listening on" line it prints, and
 * talks to it with SoupSession WebSocket clients (or, where a client must
 * misbehave at the frame level, raw TCP).  Frames are compared as text
 * against PROTOCOL.md and the reference transcripts (the .jsonl files in transcripts/,
 * captured between the reference client and server), after replacing the
 * values only the server's clock or randomness decide.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <signal.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "patches.h"

#define WAIT_MS 15000

/* Waiting */

static gboolean
heartbeat_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until @cond holds or @ms pass; evaluates to whether
 * it holds */
#define WAIT_FOR(cond, ms)                                                    \
  ({                                                                          \
    gint64 _deadline = g_get_monotonic_time () + (gint64) (ms) * 1000;        \
    guint _beat = g_timeout_add (5, heartbeat_cb, NULL);                      \
    while (!(cond) && g_get_monotonic_time () < _deadline)                    \
      g_main_context_iteration (NULL, TRUE);                                  \
    g_source_remove (_beat);                                                  \
    (cond);                                                                   \
  })

#define WAIT_UNTIL(cond)                                                      \
  G_STMT_START {                                                              \
    if (!WAIT_FOR (cond, WAIT_MS))                                            \
      g_error ("Timed out waiting for %s", #cond);                            \
  } G_STMT_END

static void
sleep_ms (guint ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;

  (void) WAIT_FOR (g_get_monotonic_time () >= until, ms + 1000);
}

/* JSON helpers */

static PatchesValue *
parse (const char *json)
{
  g_autoptr(GError) error = NULL;
  PatchesValue *value = patches_value_parse (json, -1, &error);

  g_assert_no_error (error);
  return value;
}

static PatchesValue *
member (PatchesValue *object,
        const char   *path)
{
  g_auto(GStrv) keys = g_strsplit (path, ".", -1);
  PatchesValue *cur = object;

  for (guint i = 0; keys[i] != NULL && cur != NULL; i++)
    {
      if (patches_value_get_kind (cur) == PATCHES_VALUE_ARRAY)
        cur = patches_value_array_get (cur, atoi (keys[i]));
      else if (patches_value_get_kind (cur) == PATCHES_VALUE_OBJECT)
        cur = patches_value_object_get (cur, keys[i]);
      else
        cur = NULL;
    }

  return cur;
}

static gint64
member_int (PatchesValue *object,
            const char   *path)
{
  PatchesValue *value = member (object, path);

  g_assert_nonnull (value);
  g_assert_cmpint (patches_value_get_kind (value), ==, PATCHES_VALUE_NUMBER);
  return (gint64) patches_value_get_number (value);
}

static const char *
member_str (PatchesValue *object,
            const char   *path)
{
  PatchesValue *value = member (object, path);

  g_assert_nonnull (value);
  g_assert_cmpint (patches_value_get_kind (value), ==, PATCHES_VALUE_STRING);
  return patches_value_get_string (value);
}

/* Replaces, in place, what only the server's clock and randomness decide:
 * committedAt and deletedAt become 0, clientId "C", a version's id and
 * parentId "V".  createdAt, startedAt and endedAt move by @shift ms (the
 * transcripts were captured at another time).  -32000 errors lose their
 * data (the reference's is a stack trace). */
static void
normalize (PatchesValue *value,
           gint64        shift)
{
  switch (patches_value_get_kind (value))
    {
    case PATCHES_VALUE_ARRAY:
      for (guint i = 0; i < patches_value_array_get_length (value); i++)
        normalize (patches_value_array_get (value, i), shift);
      break;

    case PATCHES_VALUE_OBJECT:
      {
        gboolean version = patches_value_object_has (value, "origin");
        PatchesValue *code = patches_value_object_get (value, "code");

        if (code != NULL && patches_value_object_has (value, "message") &&
            patches_value_get_kind (code) == PATCHES_VALUE_NUMBER &&
            patches_value_get_number (code) == -32000)
          patches_value_object_remove (value, "data");

        for (guint i = 0; i < patches_value_object_get_size (value); i++)
          {
            const char *key = patches_value_object_key_at (value, i);
            PatchesValue *v = patches_value_object_value_at (value, i);
            PatchesValueType kind = patches_value_get_kind (v);

            if ((strcmp (key, "committedAt") == 0 || strcmp (key, "deletedAt") == 0) &&
                kind == PATCHES_VALUE_NUMBER)
              patches_value_object_set (value, key, patches_value_new_number (0));
            else if (strcmp (key, "clientId") == 0 && kind == PATCHES_VALUE_STRING)
              patches_value_object_set (value, key, patches_value_new_string ("C"));
            else if (version && (strcmp (key, "id") == 0 || strcmp (key, "parentId") == 0))
              patches_value_object_set (value, key, patches_value_new_string ("V"));
            else if ((strcmp (key, "createdAt") == 0 || strcmp (key, "startedAt") == 0 ||
                      strcmp (key, "endedAt") == 0) &&
                     kind == PATCHES_VALUE_NUMBER && shift != 0 && patches_value_get_number (v) > 0)
              patches_value_object_set (value, key,
                                        patches_value_new_number (patches_value_get_number (v) + shift));
            else
              normalize (v, shift);
          }
      }
      break;

    case PATCHES_VALUE_NULL:
    case PATCHES_VALUE_BOOL:
    case PATCHES_VALUE_NUMBER:
    case PATCHES_VALUE_STRING:
    case PATCHES_VALUE_TEXT:
    default:
      break;
    }
}

static char *
normalized (const char *json,
            gint64      shift)
{
  g_autoptr(PatchesValue) value = parse (json);

  normalize (value, shift);
  return patches_value_to_json (value);
}

/* The server process */

typedef struct
{
  GSubprocess *process;
  char        *db;
  char        *url;
  guint16      port;
  gboolean     exited;
} Server;

static char *tmpdir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

static void
read_line_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  char **line = user_data;
  g_autoptr(GError) error = NULL;
  char *text = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL, &error);

  *line = text ? text : g_strdup ("");
}

static void
wait_exit_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Server *server = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  server->exited = TRUE;
}

/* The server dies with the test, even when an assertion aborts it */
static void
child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Starts the server on @db with @args; its standard error goes to
 * @log_path when not %NULL */
static Server *
server_start_full (const char         *db,
                   const char * const *args,
                   gboolean            expect_ready,
                   const char         *log_path)
{
  Server *server = g_new0 (Server, 1);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  const char *binary = g_getenv ("PATCHES_SERVER");

  g_assert_nonnull (binary);

  server->db = g_strdup (db);
  g_ptr_array_add (argv, (char *) binary);
  g_ptr_array_add (argv, (char *) "--listen");
  g_ptr_array_add (argv, (char *) "127.0.0.1:0");
  g_ptr_array_add (argv, (char *) "--db");
  g_ptr_array_add (argv, server->db);
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  if (log_path != NULL)
    g_subprocess_launcher_set_stderr_file_path (launcher, log_path);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  server->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  g_subprocess_wait_async (server->process, NULL, wait_exit_cb, server);

  if (!expect_ready)
    return server;

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, NULL, read_line_cb, &line);
  WAIT_UNTIL (line != NULL);

  g_assert_true (g_str_has_prefix (line, "listening on ws://127.0.0.1:"));
  server->port = (guint16) atoi (line + strlen ("listening on ws://127.0.0.1:"));
  g_assert_cmpuint (server->port, >, 0);
  server->url = g_strdup_printf ("ws://127.0.0.1:%u", server->port);

  return server;
}

static Server *
server_start_argv (const char         *db,
                   const char * const *args,
                   gboolean            expect_ready)
{
  return server_start_full (db, args, expect_ready, NULL);
}

static Server *
server_start (const char         *name,
              const char * const *args)
{
  g_autofree char *db = tmp_path (name);
  const char * const no_auth[] = { "--no-auth", NULL };

  return server_start_argv (db, args ? args : no_auth, TRUE);
}

/* Stops the server with @signum and checks how it ended: a clean exit
 * after SIGTERM (also free of leaks when built with a sanitizer) */
static void
server_stop (Server *server,
             int     signum)
{
  if (!server->exited)
    {
      g_subprocess_send_signal (server->process, signum);
      WAIT_UNTIL (server->exited);
    }

  if (signum == SIGTERM)
    {
      g_assert_true (g_subprocess_get_if_exited (server->process));
      g_assert_cmpint (g_subprocess_get_exit_status (server->process), ==, 0);
    }

  g_clear_object (&server->process);
  g_free (server->db);
  g_free (server->url);
  g_free (server);
}

/* WebSocket clients */

typedef struct
{
  SoupSession             *session;
  SoupMessage             *msg;
  SoupWebsocketConnection *ws;
  GQueue                   frames;
  gboolean                 done;
  gboolean                 closed;
  guint                    status;
  gushort                  close_code;
  gint64                   next_id;
  GError                  *error;
} Client;

static void
on_ws_message (SoupWebsocketConnection *ws,
               SoupWebsocketDataType    type,
               GBytes                  *message,
               Client                  *client)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  g_queue_push_tail (&client->frames, g_strndup (data ? data : "", len));
}

static void
on_ws_closed (SoupWebsocketConnection *ws,
              Client                  *client)
{
  client->closed = TRUE;
  client->close_code = soup_websocket_connection_get_close_code (ws);
}

static void
connect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Client *client = user_data;

  client->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &client->error);
  client->status = soup_message_get_status (client->msg);
  if (client->ws != NULL)
    {
      soup_websocket_connection_set_max_incoming_payload_size (client->ws, 0);
      g_signal_connect (client->ws, "message", G_CALLBACK (on_ws_message), client);
      g_signal_connect (client->ws, "closed", G_CALLBACK (on_ws_closed), client);
    }
  client->done = TRUE;
}

static void
client_free (Client *client)
{
  if (client->ws != NULL)
    {
      g_signal_handlers_disconnect_by_data (client->ws, client);
      if (soup_websocket_connection_get_state (client->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (client->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object (&client->ws);
    }
  g_clear_object (&client->msg);
  g_clear_object (&client->session);
  g_queue_clear_full (&client->frames, g_free);
  g_clear_error (&client->error);
  g_free (client);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Client, client_free)

/* Small frames go out at once (no Nagle delay on requests) */
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

/* Connects to @server at @path (with its query); returns the client even
 * when the handshake fails (see ->status) */
static Client *
client_try (Server             *server,
            const char         *path,
            const char         *authorization,
            const char         *client_id,
            const char * const *protocols)
{
  Client *client = g_new0 (Client, 1);
  g_autofree char *url = g_strconcat (server->url, path ? path : "/sync", NULL);

  client->session = soup_session_new ();
  client->msg = soup_message_new ("GET", url);
  client->next_id = 1;
  g_signal_connect (client->msg, "network-event", G_CALLBACK (on_network_event), NULL);
  if (authorization != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (client->msg),
                                  "Authorization", authorization);
  if (client_id != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (client->msg),
                                  "X-Patches-Client-Id", client_id);

  soup_session_websocket_connect_async (client->session, client->msg, NULL, (char **) protocols,
                                        G_PRIORITY_DEFAULT, NULL, connect_cb, client);
  WAIT_UNTIL (client->done);

  return client;
}

static Client *
client_new (Server     *server,
            const char *token,
            const char *client_id)
{
  g_autofree char *authorization = token ? g_strconcat ("Bearer ", token, NULL) : NULL;
  Client *client = client_try (server, NULL, authorization, client_id, NULL);

  g_assert_no_error (client->error);
  g_assert_nonnull (client->ws);

  return client;
}

static void
client_send (Client     *client,
             const char *text)
{
  soup_websocket_connection_send_text (client->ws, text);
}

/* The next frame, waiting for it */
static char *
client_next (Client *client)
{
  WAIT_UNTIL (!g_queue_is_empty (&client->frames) || client->closed);
  return g_queue_pop_head (&client->frames);
}

static gboolean
client_has_frame (Client *client)
{
  return !g_queue_is_empty (&client->frames);
}

/* Sends @text and checks that the next frame is @expected (both
 * normalized) */
static gint64 test_now;

/* @NOW@ in a frame stands for a fixed recent time, a createdAt the server
 * keeps as is */
static char *
expand_now (const char *text)
{
  g_autofree char *now = g_strdup_printf ("%" G_GINT64_FORMAT, test_now);
  GString *out = g_string_new (text);

  g_string_replace (out, "@NOW@", now, 0);
  return g_string_free (out, FALSE);
}

static void
client_exchange (Client     *client,
                 const char *text,
                 const char *expected)
{
  g_autofree char *frame = NULL;
  g_autofree char *got = NULL;
  g_autofree char *want = NULL;
  g_autofree char *expected_now = expand_now (expected);

  if (text != NULL)
    {
      g_autofree char *text_now = expand_now (text);

      client_send (client, text_now);
    }
  frame = client_next (client);
  g_assert_nonnull (frame);
  got = normalized (frame, 0);
  want = normalized (expected_now, 0);
  g_assert_cmpstr (got, ==, want);
}

static gint64
frame_id (const char *frame)
{
  static const char prefix[] = "{\"jsonrpc\":\"2.0\",\"id\":";
  g_autoptr(PatchesValue) value = NULL;
  PatchesValue *id;

  /* The server writes every frame in this key order: no need to parse */
  if (g_str_has_prefix (frame, prefix))
    return g_ascii_isdigit (frame[sizeof prefix - 1])
           ? g_ascii_strtoll (frame + sizeof prefix - 1, NULL, 10) : -1;
  if (g_str_has_prefix (frame, "{\"jsonrpc\":\"2.0\",\"method\":"))
    return -1;

  value = patches_value_parse (frame, -1, NULL);

  if (value == NULL || patches_value_get_kind (value) != PATCHES_VALUE_OBJECT ||
      patches_value_object_has (value, "method") ||
      !(id = patches_value_object_get (value, "id")) ||
      patches_value_get_kind (id) != PATCHES_VALUE_NUMBER)
    return -1;

  return (gint64) patches_value_get_number (id);
}

static gboolean
has_response (Client *client,
              gint64  id)
{
  for (GList *l = client->frames.head; l != NULL; l = l->next)
    if (frame_id (l->data) == id)
      return TRUE;
  return client->closed;
}

/* Takes the response to request @id out of the queue, leaving the
 * notifications */
static PatchesValue *
client_take_response (Client *client,
                      gint64  id)
{
  WAIT_UNTIL (has_response (client, id));

  for (GList *l = client->frames.head; l != NULL; l = l->next)
    if (frame_id (l->data) == id)
      {
        char *frame = l->data;
        PatchesValue *value;

        g_queue_delete_link (&client->frames, l);
        value = parse (frame);
        g_free (frame);
        return value;
      }

  g_error ("Connection closed before the answer to %" G_GINT64_FORMAT, id);
  return NULL;
}

/* Sends a call without waiting; returns its id */
static gint64
client_call_start (Client     *client,
                   const char *method,
                   const char *params)
{
  gint64 id = client->next_id++;
  g_autofree char *text = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":%" G_GINT64_FORMAT
                                           ",\"method\":\"%s\",\"params\":%s}", id, method, params);

  client_send (client, text);
  return id;
}

/* A call: returns the whole response frame */
static PatchesValue *
client_call (Client     *client,
             const char *method,
             const char *params)
{
  return client_take_response (client, client_call_start (client, method, params));
}

static PatchesValue *
client_result (Client     *client,
               const char *method,
               const char *params)
{
  g_autoptr(PatchesValue) frame = client_call (client, method, params);
  PatchesValue *result = patches_value_object_get (frame, "result");

  if (result == NULL)
    {
      g_autofree char *text = patches_value_to_json (frame);

      g_error ("%s %s failed: %s", method, params, text);
    }

  return patches_value_ref (result);
}

/* The first notification @method in the queue, taken out */
static PatchesValue *
client_take_notification (Client     *client,
                          const char *method,
                          guint       timeout_ms)
{
  g_autofree char *needle = g_strdup_printf ("\"method\":\"%s\"", method);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      for (GList *l = client->frames.head; l != NULL; l = l->next)
        if (strstr (l->data, needle) != NULL && frame_id (l->data) < 0)
          {
            char *frame = l->data;
            PatchesValue *value;

            g_queue_delete_link (&client->frames, l);
            value = parse (frame);
            g_free (frame);
            return value;
          }

      if (g_get_monotonic_time () >= deadline || client->closed)
        return NULL;
      (void) WAIT_FOR (FALSE, 5);
    }
}

static gint64
head_rev (Client     *client,
          const char *doc_id)
{
  g_autofree char *params = g_strdup_printf ("[\"%s\",0]", doc_id);
  g_autoptr(PatchesValue) changes = client_result (client, "getChangesSince", params);
  guint n = patches_value_array_get_length (changes);

  char path[32];

  if (n == 0)
    return 0;
  g_snprintf (path, sizeof path, "%u.rev", n - 1);
  return member_int (changes, path);
}

/* The document's current state: getDoc's snapshot with its tail applied */
static PatchesValue *
doc_state (Client     *client,
           const char *doc_id)
{
  g_autofree char *params = g_strdup_printf ("[\"%s\"]", doc_id);
  g_autoptr(PatchesValue) snapshot = client_result (client, "getDoc", params);
  g_autoptr(PatchesValue) state = patches_value_ref (member (snapshot, "state"));
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GError) error = NULL;

  changes = patches_changes_from_value (member (snapshot, "changes"), &error);
  g_assert_no_error (error);
  patches_changes_apply (&state, changes, &error);
  g_assert_no_error (error);

  return g_steal_pointer (&state);
}

static char *
doc_text (Client     *client,
          const char *doc_id,
          const char *key)
{
  g_autoptr(PatchesValue) state = doc_state (client, doc_id);
  PatchesValue *text = member (state, key);
  g_autoptr(PatchesValue) json = NULL;
  GString *out = g_string_new (NULL);
  PatchesValue *ops;

  g_assert_nonnull (text);
  if (patches_value_get_kind (text) == PATCHES_VALUE_TEXT)
    return patches_text_to_plain (patches_value_get_text (text));

  ops = patches_value_object_get (text, "ops");
  for (guint i = 0; i < patches_value_array_get_length (ops); i++)
    g_string_append (out, member_str (patches_value_array_get (ops, i), "insert"));
  return g_string_free (out, FALSE);
}

/* Raw TCP clients, for what SoupSession will not do: not read, not answer
 * pings */

typedef struct
{
  GSocket *socket;
  GString *in;
} Raw;

static void
raw_free (Raw *raw)
{
  g_clear_object (&raw->socket);
  if (raw->in != NULL)
    g_string_free (raw->in, TRUE);
  g_free (raw);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Raw, raw_free)

static Raw *
raw_connect (Server *server,
             int     rcvbuf)
{
  Raw *raw = g_new0 (Raw, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, server->port);
  g_autoptr(GError) error = NULL;
  g_autofree char *request = NULL;
  char buf[4096];

  raw->in = g_string_new (NULL);
  raw->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  if (rcvbuf > 0)
    g_socket_set_option (raw->socket, SOL_SOCKET, SO_RCVBUF, rcvbuf, NULL);
  g_socket_set_timeout (raw->socket, 10);
  g_socket_connect (raw->socket, address, NULL, &error);
  g_assert_no_error (error);

  request = g_strdup_printf ("GET /sync HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n\r\n", server->port);
  g_socket_send (raw->socket, request, strlen (request), NULL, &error);
  g_assert_no_error (error);

  while (strstr (raw->in->str, "\r\n\r\n") == NULL)
    {
      gssize n = g_socket_receive (raw->socket, buf, sizeof buf, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      g_string_append_len (raw->in, buf, n);
    }

  g_assert_true (g_str_has_prefix (raw->in->str, "HTTP/1.1 101"));
  g_string_erase (raw->in, 0, strstr (raw->in->str, "\r\n\r\n") + 4 - raw->in->str);

  return raw;
}

/* A masked text frame, as clients must send them (with a zero mask) */
static void
raw_send_text (Raw        *raw,
               const char *text)
{
  g_autoptr(GByteArray) frame = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  gsize len = strlen (text);
  guint8 header[14];
  gsize n = 0;

  header[n++] = 0x81;
  if (len < 126)
    header[n++] = 0x80 | len;
  else if (len < 65536)
    {
      header[n++] = 0x80 | 126;
      header[n++] = len >> 8;
      header[n++] = len & 0xff;
    }
  else
    {
      header[n++] = 0x80 | 127;
      for (int i = 7; i >= 0; i--)
        header[n++] = (len >> (8 * i)) & 0xff;
    }
  memset (header + n, 0, 4);
  n += 4;

  g_byte_array_append (frame, header, n);
  g_byte_array_append (frame, (const guint8 *) text, len);
  g_socket_send (raw->socket, (const char *) frame->data, frame->len, NULL, &error);
  g_assert_no_error (error);
}

/* Takes one whole frame out of what was read: its opcode, or -2 when
 * more bytes are needed */
static int
raw_parse_frame (Raw      *raw,
                 GString **payload)
{
  const guint8 *p = (const guint8 *) raw->in->str;
  guint64 len;
  gsize header = 2;
  int opcode;

  if (raw->in->len < 2)
    return -2;

  len = p[1] & 0x7f;
  if (len == 126)
    {
      if (raw->in->len < 4)
        return -2;
      len = (p[2] << 8) | p[3];
      header = 4;
    }
  else if (len == 127)
    {
      if (raw->in->len < 10)
        return -2;
      len = 0;
      for (int i = 0; i < 8; i++)
        len = (len << 8) | p[2 + i];
      header = 10;
    }

  if (raw->in->len < header + len)
    return -2;

  opcode = p[0] & 0x0f;
  if (payload != NULL)
    *payload = g_string_new_len (raw->in->str + header, len);
  g_string_erase (raw->in, 0, header + len);

  return opcode;
}

/* Reads what is there without blocking; FALSE at the end of the stream */
static gboolean
raw_pull (Raw *raw)
{
  char buf[65536];
  gssize n;

  if (!g_socket_condition_check (raw->socket, G_IO_IN | G_IO_HUP | G_IO_ERR))
    return TRUE;

  n = g_socket_receive (raw->socket, buf, sizeof buf, NULL, NULL);
  if (n <= 0)
    return FALSE;

  g_string_append_len (raw->in, buf, n);
  return TRUE;
}

/* Waits for one frame, running the main loop meanwhile: returns its
 * opcode and payload, or -1 at the end of the stream or after @ms */
static int
raw_read_frame_timeout (Raw      *raw,
                        GString **payload,
                        guint     ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;

  for (;;)
    {
      int opcode = raw_parse_frame (raw, payload);

      if (opcode != -2)
        return opcode;
      if (!raw_pull (raw) || g_get_monotonic_time () > deadline)
        return -1;
      if (!g_socket_condition_check (raw->socket, G_IO_IN | G_IO_HUP | G_IO_ERR))
        (void) WAIT_FOR (FALSE, 2);
    }
}

static int
raw_read_frame (Raw      *raw,
                GString **payload)
{
  return raw_read_frame_timeout (raw, payload, WAIT_MS);
}

/* Fixtures */

static void
setup_tmpdir (void)
{
  g_autoptr(GError) error = NULL;

  tmpdir = g_dir_make_tmp ("test-server-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static char *
write_tokens (const char *name,
              const char *contents)
{
  char *path = tmp_path (name);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  g_chmod (path, 0600);

  return path;
}

/* Startup and command line */

static void
test_startup (void)
{
  g_autofree char *db = tmp_path ("startup.db");
  Server *server = server_start ("startup.db", NULL);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/healthz", server->port);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = soup_session_send_and_read (session, msg, NULL, NULL);

  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  g_assert_cmpstr (g_bytes_get_data (body, NULL), ==, "ok\n");

  {
    g_autofree char *other = g_strdup_printf ("http://127.0.0.1:%u/sync", server->port);
    g_autoptr(SoupMessage) plain = soup_message_new ("GET", other);
    g_autoptr(GBytes) ignored = soup_session_send_and_read (session, plain, NULL, NULL);

    g_assert_cmpuint (soup_message_get_status (plain), ==, 426);
  }

  server_stop (server, SIGTERM);
  g_assert_true (g_file_test (db, G_FILE_TEST_EXISTS));
}

static int
run_server_command (const char * const *args,
                    char              **out)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, (char *) g_getenv ("PATCHES_SERVER"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, out, NULL, &error);
  g_assert_no_error (error);

  return g_subprocess_get_exit_status (process);
}

static void
test_command_line (void)
{
  g_autofree char *help = NULL;
  g_autofree char *out = NULL;
  g_autofree char *db = tmp_path ("cmdline.db");
  const char * const help_args[] = { "--help", NULL };
  const char * const flags[] = {
    "--listen", "--db", "--tokens", "--no-auth", "--max-frame-bytes", "--max-changes-per-commit",
    "--max-ops-per-change", "--max-docs-per-subscribe", "--max-connections-per-token",
    "--max-send-queue", "--keepalive-interval", "--keepalive-timeout", "--verbose", "--version",
  };

  g_assert_cmpint (run_server_command (help_args, &help), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (flags); i++)
    if (strstr (help, flags[i]) == NULL)
      g_error ("--help does not document %s", flags[i]);

  /* --no-auth only on loopback */
  {
    const char * const args[] = { "--listen", "0.0.0.0:0", "--db", db, "--no-auth", NULL };

    g_assert_cmpint (run_server_command (args, &out), ==, 1);
    g_assert_nonnull (strstr (out, "loopback"));
    g_clear_pointer (&out, g_free);
  }

  /* A frame limit below what reference clients send */
  {
    const char * const args[] = { "--listen", "127.0.0.1:0", "--db", db, "--no-auth",
                                  "--max-frame-bytes", "100000", NULL };

    g_assert_cmpint (run_server_command (args, &out), ==, 2);
    g_assert_nonnull (strstr (out, "max-frame-bytes"));
    g_clear_pointer (&out, g_free);
  }

  /* A malformed tokens file, named by line */
  {
    g_autofree char *tokens = write_tokens ("bad-tokens", "# ok\nabc alice doc:admin\n");
    const char * const args[] = { "--listen", "127.0.0.1:0", "--db", db, "--tokens", tokens, NULL };

    g_assert_cmpint (run_server_command (args, &out), ==, 1);
    g_assert_nonnull (strstr (out, "line 2"));
    g_clear_pointer (&out, g_free);
  }
}

/* The reference transcripts, frame by frame */

typedef struct
{
  const char *file;
  gint64      seq;
  const char *frame;
} Override;

/* Where this server answers differently on purpose (patches-server(1),
 * PROTOCOL NOTES): a deleted document answers 410, as PROTOCOL.md §7.6
 * recommends; the reference harness checks no tombstones. */
static const Override overrides[] = {
  { "errors.jsonl", 26,
    "{\"jsonrpc\":\"2.0\",\"id\":13,\"error\":{\"code\":410,\"message\":\"Document e1 was deleted\","
    "\"data\":{\"deletedAt\":0,\"lastRev\":1}}}" },
};

static void
replay_transcript (gconstpointer data)
{
  const char *file = data;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "transcripts", file, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         (GDestroyNotify) client_free);
  g_auto(GStrv) lines = NULL;
  g_autofree char *db_name = g_strconcat (file, ".db", NULL);
  Server *server = server_start (db_name, NULL);
  gint64 shift = 0;
  guint n_frames = 0;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (contents, "\n", -1);

  /* The captured clock, moved so that the last event is now: every
   * createdAt stays in the past (the server clamps later ones) */
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != 0)
      {
        g_autoptr(PatchesValue) event = parse (lines[i]);

        shift = g_get_real_time () / 1000 - member_int (event, "t");
      }

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(PatchesValue) event = NULL;
      const char *conn;
      Client *client;

      if (lines[i][0] == 0)
        continue;

      event = parse (lines[i]);
      conn = member_str (event, "conn");
      client = g_hash_table_lookup (clients, conn);


      if (patches_value_object_has (event, "event"))
        {
          if (strcmp (member_str (event, "event"), "open") == 0)
            g_hash_table_insert (clients, g_strdup (conn), client_new (server, NULL, NULL));
          else if (client != NULL)
            {
              /* Whatever arrived was matched already */
              g_assert_true (g_queue_is_empty (&client->frames));
              g_hash_table_remove (clients, conn);
            }
          continue;
        }

      g_assert_nonnull (client);
      n_frames++;

      if (strcmp (member_str (event, "dir"), "in") == 0)
        {
          /* The captured clock, moved to now */
          PatchesValue *frame = member (event, "frame");
          g_autofree char *text = NULL;
          g_autoptr(PatchesValue) copy = patches_value_copy_deep (frame);

          normalize (copy, shift);
          text = patches_value_to_json (copy);
          client_send (client, text);
        }
      else
        {
          g_autoptr(PatchesValue) expected = patches_value_copy_deep (member (event, "frame"));
          g_autofree char *want = NULL;
          g_autofree char *got = NULL;
          g_autofree char *frame = NULL;
          gint64 seq = member_int (event, "seq");

          for (guint k = 0; k < G_N_ELEMENTS (overrides); k++)
            if (strcmp (overrides[k].file, file) == 0 && overrides[k].seq == seq)
              {
                g_clear_pointer (&expected, patches_value_unref);
                expected = parse (overrides[k].frame);
              }

          normalize (expected, shift);
          want = patches_value_to_json (expected);

          frame = client_next (client);
          g_assert_nonnull (frame);
          got = normalized (frame, 0);
          if (g_strcmp0 (got, want) != 0)
            g_error ("%s seq %" G_GINT64_FORMAT " (%s):\n  expected %s\n  got      %s",
                     file, seq, conn, want, got);
        }
    }

  g_test_message ("%s: %u frames matched", file, n_frames);

  /* Nothing more than the transcript */
  {
    GHashTableIter iter;
    gpointer value;

    sleep_ms (50);
    g_hash_table_iter_init (&iter, clients);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      g_assert_true (g_queue_is_empty (&((Client *) value)->frames));
  }

  g_hash_table_remove_all (clients);
  server_stop (server, SIGTERM);
}

/* Every method, frame by frame (PROTOCOL.md §5, §6) */

static void
test_methods (void)
{
  Server *server = server_start ("methods.db", NULL);
  g_autoptr(Client) a = client_new (server, NULL, NULL);
  g_autoptr(Client) b = client_new (server, NULL, NULL);
  g_autoptr(Client) c = client_new (server, NULL, NULL);
  g_autoptr(PatchesValue) note = NULL;
  g_autoptr(PatchesValue) versions = NULL;
  g_autofree char *version_id = NULL;
  g_autofree char *frame = NULL;

  /* subscribe: an array, or one string; the result lists the ids */
  client_exchange (a, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscribe\",\"params\":[[\"m1\",\"m2\"]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[\"m1\",\"m2\"]}");
  client_exchange (b, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscribe\",\"params\":[\"m1\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[\"m1\"]}");
  /* Non-string ids are no documents */
  client_exchange (c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscribe\",\"params\":[[\"m2\",5,\"\",null]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[\"m2\"]}");

  /* getDoc of a document that never existed: no error */
  client_exchange (a, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"getDoc\",\"params\":[\"m1\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"state\":null,\"rev\":0,\"changes\":[]}}");
  client_exchange (a, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"getChangesSince\",\"params\":[\"m1\",0]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":[]}");

  /* commitChanges: the committed change back, stamped; the other
   * subscriber notified; the committer not */
  client_exchange (a,
                   "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"commitChanges\",\"params\":[\"m1\",[{\"id\":\"mA1\","
                   "\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/title\",\"value\":\"Hi\"},"
                   "{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"insert\":\"Hello\"}]}],\"createdAt\":@NOW@,"
                   "\"committedAt\":0,\"userId\":\"u1\"}]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"changes\":[{\"id\":\"mA1\",\"baseRev\":0,\"rev\":1,"
                   "\"ops\":[{\"op\":\"add\",\"path\":\"/title\",\"value\":\"Hi\"},{\"op\":\"@txt\",\"path\":\"/body\","
                   "\"value\":[{\"insert\":\"Hello\"}]}],\"createdAt\":@NOW@,\"committedAt\":0,\"userId\":\"u1\","
                   "\"clientId\":\"C\"}]}}");
  client_exchange (b, NULL,
                   "{\"jsonrpc\":\"2.0\",\"method\":\"changesCommitted\",\"params\":{\"docId\":\"m1\",\"changes\":[{"
                   "\"id\":\"mA1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/title\",\"value\":\"Hi\"},"
                   "{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"insert\":\"Hello\"}]}],\"createdAt\":@NOW@,"
                   "\"committedAt\":0,\"userId\":\"u1\",\"clientId\":\"C\"}]}}");
  g_assert_false (client_has_frame (a));
  g_assert_false (client_has_frame (c));

  /* committedAt is the server's clock; createdAt 1 was kept (≤ now) */
  note = client_result (a, "getChangesSince", "[\"m1\",0]");
  g_assert_cmpint (member_int (note, "0.committedAt"), >, 1700000000000);
  g_assert_cmpstr (member_str (note, "0.clientId"), ==, member_str (note, "0.clientId"));
  g_assert_true (g_str_has_prefix (member_str (note, "0.clientId"), "conn-"));

  /* Options travel with the broadcast (server-only ones stripped) */
  client_exchange (b,
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"commitChanges\",\"params\":[\"m1\",[{\"id\":\"mB1\","
                   "\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":5},"
                   "{\"insert\":\"!\"}]}],\"createdAt\":@NOW@,\"committedAt\":0}],{\"forceCommit\":true,\"note\":1}]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"changes\":[{\"id\":\"mB1\",\"baseRev\":1,\"rev\":2,"
                   "\"ops\":[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":5},{\"insert\":\"!\"}]}],"
                   "\"createdAt\":@NOW@,\"committedAt\":0,\"clientId\":\"C\"}]}}");
  client_exchange (a, NULL,
                   "{\"jsonrpc\":\"2.0\",\"method\":\"changesCommitted\",\"params\":{\"docId\":\"m1\",\"changes\":[{"
                   "\"id\":\"mB1\",\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":["
                   "{\"retain\":5},{\"insert\":\"!\"}]}],\"createdAt\":@NOW@,\"committedAt\":0,\"clientId\":\"C\"}],"
                   "\"options\":{\"note\":1}}}");

  /* An empty commit: {"changes": []}, no broadcast */
  client_exchange (a, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"commitChanges\",\"params\":[\"m1\",[]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"changes\":[]}}");

  /* getDoc with {"rev": n}; getChangesSince */
  client_exchange (c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"getDoc\",\"params\":[\"m1\",{\"rev\":1}]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"state\":null,\"rev\":0,\"changes\":[{\"id\":\"mA1\","
                   "\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/title\",\"value\":\"Hi\"},{\"op\":\"@txt\","
                   "\"path\":\"/body\",\"value\":[{\"insert\":\"Hello\"}]}],\"createdAt\":@NOW@,\"committedAt\":0,"
                   "\"userId\":\"u1\",\"clientId\":\"C\"}]}}");
  client_exchange (c, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"getChangesSince\",\"params\":[\"m1\",1]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":[{\"id\":\"mB1\",\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":"
                   "\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":5},{\"insert\":\"!\"}]}],\"createdAt\":@NOW@,"
                   "\"committedAt\":0,\"clientId\":\"C\"}]}");

  /* Versions: createVersion returns the id, then null with nothing new */
  {
    g_autoptr(PatchesValue) id = client_result (a, "createVersion", "[\"m1\",{\"name\":\"v1\"}]");

    g_assert_cmpint (patches_value_get_kind (id), ==, PATCHES_VALUE_STRING);
    version_id = g_strdup (patches_value_get_string (id));
  }
  client_exchange (a, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"createVersion\",\"params\":[\"m1\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":null}");
  client_exchange (a, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"listVersions\",\"params\":[\"m1\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":8,\"result\":[{\"origin\":\"main\",\"startedAt\":@NOW@,\"endedAt\":@NOW@,"
                   "\"endRev\":2,\"startRev\":1,\"name\":\"v1\",\"id\":\"V\"}]}");
  frame = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"updateVersion\",\"params\":[\"m1\",\"%s\","
                           "{\"name\":\"renamed\"}]}", version_id);
  client_exchange (a, frame, "{\"jsonrpc\":\"2.0\",\"id\":9}");
  g_clear_pointer (&frame, g_free);
  frame = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"updateVersion\",\"params\":[\"m1\",\"%s\","
                           "{\"id\":\"x\"}]}", version_id);
  client_exchange (a, frame,
                   "{\"jsonrpc\":\"2.0\",\"id\":10,\"error\":{\"code\":-32000,\"message\":\"Cannot modify version field id\"}}");
  g_clear_pointer (&frame, g_free);
  frame = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"getVersionState\",\"params\":[\"m1\",\"%s\"]}",
                           version_id);
  client_exchange (a, frame,
                   "{\"jsonrpc\":\"2.0\",\"id\":11,\"result\":{\"title\":\"Hi\",\"body\":{\"ops\":[{\"insert\":\"Hello!\\n\"}]}}}");
  g_clear_pointer (&frame, g_free);
  frame = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"getVersionChanges\",\"params\":[\"m1\",\"%s\"]}",
                           version_id);
  {
    g_autoptr(PatchesValue) changes = NULL;

    client_send (a, frame);
    changes = client_take_response (a, 12);
    g_assert_cmpuint (patches_value_array_get_length (member (changes, "result")), ==, 2);
    g_assert_cmpstr (member_str (changes, "result.1.id"), ==, "mB1");
  }
  g_clear_pointer (&frame, g_free);
  frame = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"getStateBeforeVersion\",\"params\":[\"m1\",\"%s\"]}",
                           version_id);
  client_exchange (a, frame, "{\"jsonrpc\":\"2.0\",\"id\":13,\"result\":null}");
  client_exchange (a, "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"getVersionState\",\"params\":[\"m1\",\"nope\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":14,\"error\":{\"code\":404,\"message\":\"Version nope not found for doc m1.\"}}");
  client_exchange (a, "{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"getStateBeforeVersion\",\"params\":[\"m1\",\"nope\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":15,\"error\":{\"code\":404,\"message\":\"Version nope not found for doc m1.\"}}");
  client_exchange (a, "{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"getVersionChanges\",\"params\":[\"m1\",\"nope\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":16,\"error\":{\"code\":-32000,\"message\":\"Could not load changes for version nope.\"}}");
  client_exchange (a, "{\"jsonrpc\":\"2.0\",\"id\":17,\"method\":\"listVersions\",\"params\":[\"m1\",{\"reverse\":true,\"limit\":1,\"orderBy\":\"endRev\"}]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":17,\"result\":[{\"origin\":\"main\",\"startedAt\":@NOW@,\"endedAt\":@NOW@,"
                   "\"endRev\":2,\"startRev\":1,\"name\":\"renamed\",\"id\":\"V\"}]}");

  /* unsubscribe: the ids removed; no more notifications */
  client_exchange (b, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"unsubscribe\",\"params\":[[\"m1\",\"zz\"]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":[\"m1\"]}");

  /* deleteDoc: no result key; docDeleted to the others; then 410 */
  client_exchange (c, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"subscribe\",\"params\":[[\"m1\"]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":[\"m1\"]}");
  client_exchange (c, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"deleteDoc\",\"params\":[\"m1\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":5}");
  client_exchange (a, NULL, "{\"jsonrpc\":\"2.0\",\"method\":\"docDeleted\",\"params\":{\"docId\":\"m1\"}}");
  g_assert_false (client_has_frame (b));
  client_exchange (a, "{\"jsonrpc\":\"2.0\",\"id\":18,\"method\":\"getChangesSince\",\"params\":[\"m1\",7]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":18,\"error\":{\"code\":410,\"message\":\"Document m1 was deleted\","
                   "\"data\":{\"deletedAt\":0,\"lastRev\":2}}}");
  client_exchange (a,
                   "{\"jsonrpc\":\"2.0\",\"id\":19,\"method\":\"commitChanges\",\"params\":[\"m1\",[{\"id\":\"late\","
                   "\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}]}]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":19,\"error\":{\"code\":410,\"message\":\"Document m1 was deleted\","
                   "\"data\":{\"deletedAt\":0,\"lastRev\":2}}}");
  /* subscribe to a deleted document: docDeleted first, then [] */
  client_exchange (b, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"subscribe\",\"params\":[[\"m1\"]]}",
                   "{\"jsonrpc\":\"2.0\",\"method\":\"docDeleted\",\"params\":{\"docId\":\"m1\"}}");
  client_exchange (b, NULL, "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":[]}");
  /* Deleting again is fine; undeleteDoc says whether there was one */
  client_exchange (c, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"deleteDoc\",\"params\":[\"m1\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":6}");
  client_exchange (a, NULL, "{\"jsonrpc\":\"2.0\",\"method\":\"docDeleted\",\"params\":{\"docId\":\"m1\"}}");
  client_exchange (c, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"undeleteDoc\",\"params\":[\"m1\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":true}");
  client_exchange (c, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"undeleteDoc\",\"params\":[\"m1\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":8,\"result\":false}");
  client_exchange (c, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"getDoc\",\"params\":[\"m1\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"state\":null,\"rev\":0,\"changes\":[]}}");

  /* The doc-id check of every doc method (PROTOCOL.md §3.7 rule 6) */
  {
    static const char * const doc_methods[] = {
      "getDoc", "getChangesSince", "commitChanges", "deleteDoc", "undeleteDoc", "listVersions",
      "createVersion", "updateVersion", "getVersionState", "getVersionChanges", "getStateBeforeVersion",
    };
    static const struct { const char *params; const char *got; } bad[] = {
      { "[]", "undefined" }, { "null", "null" }, { "{\"docId\":\"x\"}", "[object Object]" },
      { "[\"\"]", "empty string" }, { "[5]", "5" }, { "[[1,null,2]]", "1,,2" }, { "[true]", "true" },
    };

    for (guint m = 0; m < G_N_ELEMENTS (doc_methods); m++)
      for (guint k = 0; k < G_N_ELEMENTS (bad); k++)
        {
          g_autofree char *request =
            g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"%s\",\"params\":%s}",
                             doc_methods[m], bad[k].params);
          g_autofree char *answer =
            g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":77,\"error\":{\"code\":400,\"message\":"
                             "\"INVALID_REQUEST: docId is required (got %s)\"}}", bad[k].got);

          client_exchange (c, request, answer);
        }
  }

  /* The request id is echoed whatever it is; a notification is never
   * run (PROTOCOL.md §3.5) */
  client_exchange (c, "{\"jsonrpc\":\"2.0\",\"id\":\"s-1\",\"method\":\"getChangesSince\",\"params\":[\"m2\",0]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":\"s-1\",\"result\":[]}");
  client_exchange (c, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"getChangesSince\",\"params\":[\"m2\",0]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":[]}");
  client_send (c, "{\"jsonrpc\":\"2.0\",\"method\":\"commitChanges\",\"params\":[\"m2\",[{\"id\":\"n1\",\"ops\":["
                  "{\"op\":\"add\",\"path\":\"/x\",\"value\":1}]}]]}");
  client_exchange (c, "{\"jsonrpc\":\"2.0\",\"id\":20,\"method\":\"getChangesSince\",\"params\":[\"m2\",0]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":20,\"result\":[]}");

  g_assert_false (client_has_frame (a));
  g_assert_false (client_has_frame (b));
  g_assert_false (client_has_frame (c));

  server_stop (server, SIGTERM);
}

/* Authentication and access */

static void
test_auth (void)
{
  g_autofree char *tokens = write_tokens ("tokens",
                                          "# test tokens\n"
                                          "wtok  writer  a-*:write\n"
                                          "rtok  reader  a-*:read\n"
                                          "sha256:bb5fbddbc7e22671eaff18bb37e0175ef5cb5d51f2e579bc93f9e38c7b12f585  hashed  a-1:write\n"
                                          "otok  other   b-*:write\n"
                                          "ttok  trusted *:write +trusted\n");
  const char * const args[] = { "--tokens", tokens, "--max-connections-per-token", "3", NULL };
  Server *server = server_start ("auth.db", args);
  g_autoptr(Client) writer = NULL;
  g_autoptr(Client) reader = NULL;
  g_autoptr(Client) other = NULL;

  /* No token, an unknown one: the handshake is refused */
  {
    g_autoptr(Client) none = client_try (server, NULL, NULL, NULL, NULL);
    g_autoptr(Client) wrong = client_try (server, NULL, "Bearer nope", NULL, NULL);
    g_autoptr(Client) scheme = client_try (server, NULL, "Basic d3Rvazp4", NULL, NULL);

    g_assert_null (none->ws);
    g_assert_cmpuint (none->status, ==, 401);
    g_assert_null (wrong->ws);
    g_assert_cmpuint (wrong->status, ==, 401);
    g_assert_null (scheme->ws);
    g_assert_cmpuint (scheme->status, ==, 401);
  }

  /* The three ways to present a token */
  writer = client_new (server, "wtok", NULL);
  {
    const char * const protocols[] = { "patches", "bearer.rtok", NULL };
    g_autoptr(Client) browser = client_try (server, NULL, NULL, NULL, protocols);
    g_autoptr(Client) query = client_try (server, "/sync?access_token=otok", NULL, NULL, NULL);
    g_autoptr(Client) hashed = client_new (server, "hashtok", NULL);

    g_assert_nonnull (browser->ws);
    g_assert_cmpstr (soup_websocket_connection_get_protocol (browser->ws), ==, "patches");
    g_assert_nonnull (query->ws);
    client_exchange (hashed, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getChangesSince\",\"params\":[\"a-1\",0]}",
                     "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[]}");
    client_exchange (hashed, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"getChangesSince\",\"params\":[\"a-2\",0]}",
                     "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":403,\"message\":\"READ_FORBIDDEN:a-2\"}}");
  }
  reader = client_new (server, "rtok", NULL);
  other = client_new (server, "otok", NULL);

  client_exchange (writer,
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"commitChanges\",\"params\":[\"a-1\",[{\"id\":\"w1\","
                   "\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}],\"createdAt\":5}]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"changes\":[{\"id\":\"w1\",\"baseRev\":0,\"rev\":1,"
                   "\"ops\":[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}],\"createdAt\":5,\"committedAt\":0,"
                   "\"clientId\":\"C\"}]}}");

  /* A read-only token: reads work, every write is 403 */
  client_exchange (reader, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscribe\",\"params\":[[\"a-1\",\"b-1\"]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[\"a-1\"]}");
  client_exchange (reader,
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"commitChanges\",\"params\":[\"a-1\",[{\"id\":\"r1\","
                   "\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/y\",\"value\":1}]}]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":403,\"message\":\"WRITE_FORBIDDEN:a-1\"}}");
  client_exchange (reader, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"deleteDoc\",\"params\":[\"a-1\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":403,\"message\":\"WRITE_FORBIDDEN:a-1\"}}");
  client_exchange (reader, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"createVersion\",\"params\":[\"a-1\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":403,\"message\":\"WRITE_FORBIDDEN:a-1\"}}");
  client_exchange (reader, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"undeleteDoc\",\"params\":[\"a-1\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":403,\"message\":\"WRITE_FORBIDDEN:a-1\"}}");

  /* A token for other documents: 403 for reads and writes */
  client_exchange (other, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getDoc\",\"params\":[\"a-1\"]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":403,\"message\":\"READ_FORBIDDEN:a-1\"}}");
  client_exchange (other,
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"commitChanges\",\"params\":[\"a-1\",[{\"id\":\"o1\","
                   "\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/z\",\"value\":1}]}]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":403,\"message\":\"WRITE_FORBIDDEN:a-1\"}}");
  client_exchange (other, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"subscribe\",\"params\":[[\"a-1\"]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":[]}");

  /* Nothing of the refused writes was stored, nothing was broadcast */
  g_assert_cmpint (head_rev (writer, "a-1"), ==, 1);
  sleep_ms (50);
  g_assert_false (client_has_frame (reader));

  /* Server-only options are stripped unless the token is trusted */
  {
    g_autoptr(Client) trusted = client_new (server, "ttok", NULL);
#define ROOT_PARAMS(id) "[\"a-1\",[{\"id\":\"" id "\",\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"replace\"," \
                            "\"path\":\"\",\"value\":{\"fresh\":true}}]}],{\"allowRootReplace\":true}]"
    const char *p1 = ROOT_PARAMS ("root1");
    const char *p2 = ROOT_PARAMS ("root2");
#undef ROOT_PARAMS
    g_autoptr(PatchesValue) refused = client_call (writer, "commitChanges", p1);
    g_autoptr(PatchesValue) allowed = NULL;

    g_assert_cmpint (member_int (refused, "error.code"), ==, 400);
    g_assert_cmpstr (member_str (refused, "error.data.changeId"), ==, "root1");
    allowed = client_result (trusted, "commitChanges", p2);
    g_assert_cmpint (member_int (allowed, "changes.0.rev"), ==, 2);
  }

  /* Connections per token: the fourth handshake is refused with 429 */
  {
    g_autoptr(Client) w2 = client_new (server, "wtok", NULL);
    g_autoptr(Client) w3 = client_new (server, "wtok", NULL);
    g_autoptr(Client) w4 = client_try (server, NULL, "Bearer wtok", NULL, NULL);

    g_assert_null (w4->ws);
    g_assert_cmpuint (w4->status, ==, 429);
  }

  server_stop (server, SIGTERM);

  /* Without a tokens file (and without --no-auth) everything is refused */
  {
    const char * const none[] = { "--verbose", NULL };
    Server *closed = server_start ("auth-none.db", none);
    g_autoptr(Client) refused = client_try (closed, NULL, "Bearer wtok", NULL, NULL);

    g_assert_null (refused->ws);
    g_assert_cmpuint (refused->status, ==, 401);
    server_stop (closed, SIGTERM);
  }
}

/* SIGHUP reloads the tokens file */

static gboolean
client_accepted (Server     *server,
                 const char *token)
{
  g_autofree char *authorization = g_strconcat ("Bearer ", token, NULL);
  g_autoptr(Client) client = client_try (server, NULL, authorization, NULL, NULL);

  g_assert_true (client->ws != NULL || client->status == 401);
  return client->ws != NULL;
}

/* Whether the server's log has @count lines containing @text */
static gboolean
log_has (const char *log_path,
         const char *text,
         guint       count)
{
  g_autofree char *contents = NULL;
  guint found = 0;

  if (!g_file_get_contents (log_path, &contents, NULL, NULL))
    return FALSE;
  for (const char *p = strstr (contents, text); p != NULL; p = strstr (p + 1, text))
    found++;

  return found >= count;
}

static void
test_auth_reload (void)
{
  g_autofree char *tokens = write_tokens ("reload-tokens",
                                          "old  alice  r-*:write\n"
                                          "keep bob    r-*:read\n");
  g_autofree char *db = tmp_path ("reload.db");
  g_autofree char *log_path = tmp_path ("reload.log");
  const char * const args[] = { "--tokens", tokens, NULL };
  Server *server = server_start_full (db, args, TRUE, log_path);
  g_autoptr(Client) old_conn = NULL;

  g_assert_true (client_accepted (server, "old"));
  g_assert_true (client_accepted (server, "keep"));
  g_assert_false (client_accepted (server, "new"));
  old_conn = client_new (server, "old", NULL);

  /* "new" is added, "old" removed, "keep" loses its write access… */
  g_free (write_tokens ("reload-tokens",
                        "# reloaded\n"
                        "keep bob    r-*:write\n"
                        "new  carol  r-*:write\n"));
  g_subprocess_send_signal (server->process, SIGHUP);
  WAIT_UNTIL (log_has (log_path, "Reloaded the tokens file", 1));

  /* …which new handshakes see at once */
  g_assert_true (client_accepted (server, "new"));
  g_assert_false (client_accepted (server, "old"));
  {
    g_autoptr(Client) keep = client_new (server, "keep", NULL);
    g_autoptr(Client) fresh = client_new (server, "new", NULL);
    g_autoptr(PatchesValue) committed = NULL;

    committed = client_result (keep, "commitChanges",
                               "[\"r-1\",[{\"id\":\"k1\",\"ops\":[{\"op\":\"add\",\"path\":\"/k\",\"value\":1}]}]]");
    g_assert_cmpint (member_int (committed, "changes.0.rev"), ==, 1);
    g_assert_cmpint (head_rev (fresh, "r-1"), ==, 1);
  }

  /* The connection opened with the removed token keeps its access */
  {
    g_autoptr(PatchesValue) committed = NULL;

    committed = client_result (old_conn, "commitChanges",
                               "[\"r-1\",[{\"id\":\"o1\",\"baseRev\":1,\"ops\":[{\"op\":\"add\","
                               "\"path\":\"/o\",\"value\":1}]}]]");
    g_assert_cmpint (member_int (committed, "changes.0.rev"), ==, 2);
  }

  /* A file that does not parse keeps the tokens as they were, and the log
   * says why */
  g_free (write_tokens ("reload-tokens",
                        "keep bob r-*:write\n"
                        "bad  eve r-*:admin\n"));
  g_subprocess_send_signal (server->process, SIGHUP);
  WAIT_UNTIL (log_has (log_path, "Keeping the previous tokens", 1));
  g_assert_true (log_has (log_path, "reload-tokens: line 2: access", 1));
  g_assert_true (client_accepted (server, "new"));
  g_assert_true (client_accepted (server, "keep"));
  g_assert_false (client_accepted (server, "bad"));

  /* So does a file that went missing */
  g_unlink (tokens);
  g_subprocess_send_signal (server->process, SIGHUP);
  WAIT_UNTIL (log_has (log_path, "Keeping the previous tokens", 2));
  g_assert_true (client_accepted (server, "new"));

  server_stop (server, SIGTERM);

  /* Without --tokens, SIGHUP is logged and does nothing else */
  {
    g_autofree char *no_auth_log = tmp_path ("reload-no-auth.log");
    const char * const no_auth[] = { "--no-auth", NULL };
    Server *open_server = server_start_full (db, no_auth, TRUE, no_auth_log);

    g_subprocess_send_signal (open_server->process, SIGHUP);
    WAIT_UNTIL (log_has (no_auth_log, "no tokens file to reload", 1));
    g_assert_false (open_server->exited);
    g_assert_true (client_accepted (open_server, "anything"));
    server_stop (open_server, SIGTERM);
  }
}

/* Concurrency: N clients, one commit in flight each */

typedef struct
{
  Client     *client;
  guint       index;
  const char *doc_id;
  guint       sent;
  guint       acked;
  gint64      pending_id;
  gint64      rev;
  GHashTable *own_revs;     /* rev → id */
  GHashTable *seen;         /* "doc:rev" notified → count */
} Writer;

static void
writer_track (Writer       *writer,
              PatchesValue *changes,
              const char   *doc_id)
{
  for (guint i = 0; i < patches_value_array_get_length (changes); i++)
    {
      gint64 rev = member_int (patches_value_array_get (changes, i), "rev");

      if (strcmp (doc_id, writer->doc_id) == 0 && rev > writer->rev)
        writer->rev = rev;
    }
}

static void
writer_pump (Writer *writer,
             guint   total)
{
  /* Notifications */
  for (;;)
    {
      g_autoptr(PatchesValue) note = client_take_notification (writer->client, "changesCommitted", 0);
      PatchesValue *changes;

      if (note == NULL)
        break;
      changes = member (note, "params.changes");
      for (guint i = 0; i < patches_value_array_get_length (changes); i++)
        {
          g_autofree char *key = g_strdup_printf ("%s:%" G_GINT64_FORMAT, member_str (note, "params.docId"),
                                                  member_int (patches_value_array_get (changes, i), "rev"));

          g_hash_table_insert (writer->seen, g_strdup (key),
                               GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (writer->seen, key)) + 1));
        }
      writer_track (writer, changes, member_str (note, "params.docId"));
    }

  /* The answer to the commit in flight */
  if (writer->pending_id > 0 && has_response (writer->client, writer->pending_id))
    {
      g_autoptr(PatchesValue) frame = client_take_response (writer->client, writer->pending_id);
      PatchesValue *changes = member (frame, "result.changes");
      guint n;

      g_assert_nonnull (changes);
      n = patches_value_array_get_length (changes);
      g_assert_cmpuint (n, >, 0);
      g_hash_table_insert (writer->own_revs,
                           GINT_TO_POINTER (member_int (patches_value_array_get (changes, n - 1), "rev")),
                           g_strdup (member_str (patches_value_array_get (changes, n - 1), "id")));
      writer_track (writer, changes, writer->doc_id);
      writer->pending_id = 0;
      writer->acked++;
    }

  if (writer->pending_id == 0 && writer->sent < total)
    {
      g_autofree char *params =
        g_strdup_printf ("[\"%s\",[{\"id\":\"w%u-%u\",\"baseRev\":%" G_GINT64_FORMAT ",\"rev\":%" G_GINT64_FORMAT
                         ",\"ops\":[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"insert\":\"%c\"}]},"
                         "{\"op\":\"@inc\",\"path\":\"/n\",\"value\":1}],\"createdAt\":%" G_GINT64_FORMAT
                         ",\"committedAt\":0}]]",
                         writer->doc_id, writer->index, writer->sent, writer->rev, writer->rev + 1,
                         'a' + writer->index, g_get_real_time () / 1000);

      writer->pending_id = client_call_start (writer->client, "commitChanges", params);
      writer->sent++;
    }
}

static void
run_concurrency (guint n_docs)
{
  enum { N_CLIENTS = 8, PER_CLIENT = 25 };
  g_autofree char *db = g_strdup_printf ("concurrency-%u.db", n_docs);
  Server *server = server_start (db, NULL);
  Writer writers[N_CLIENTS];
  char doc_ids[4][16];
  g_autoptr(GString) subscribe = g_string_new ("[[");

  for (guint d = 0; d < n_docs; d++)
    {
      g_snprintf (doc_ids[d], sizeof doc_ids[d], "cc-%u", d);
      g_string_append_printf (subscribe, "%s\"%s\"", d ? "," : "", doc_ids[d]);
    }
  g_string_append (subscribe, "]]");

  for (guint i = 0; i < N_CLIENTS; i++)
    {
      g_autoptr(PatchesValue) ids = NULL;

      writers[i] = (Writer) { 0 };
      writers[i].client = client_new (server, NULL, NULL);
      writers[i].index = i;
      writers[i].doc_id = doc_ids[i % n_docs];
      writers[i].own_revs = g_hash_table_new_full (NULL, NULL, NULL, g_free);
      writers[i].seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      ids = client_result (writers[i].client, "subscribe", subscribe->str);
      g_assert_cmpuint (patches_value_array_get_length (ids), ==, n_docs);
    }

  /* All at once, one commit in flight per client */
  for (;;)
    {
      gboolean done = TRUE;

      for (guint i = 0; i < N_CLIENTS; i++)
        {
          writer_pump (&writers[i], PER_CLIENT);
          if (writers[i].acked < PER_CLIENT)
            done = FALSE;
        }
      if (done)
        break;
      g_main_context_iteration (NULL, TRUE);
    }

  for (guint d = 0; d < n_docs; d++)
    {
      g_autofree char *params = g_strdup_printf ("[\"%s\",0]", doc_ids[d]);
      g_autoptr(PatchesValue) log = client_result (writers[0].client, "getChangesSince", params);
      g_autoptr(GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
      guint n = patches_value_array_get_length (log);
      guint expected = PER_CLIENT * (N_CLIENTS / n_docs);
      g_autoptr(PatchesValue) state = doc_state (writers[0].client, doc_ids[d]);

      /* Dense revisions, every change exactly once */
      g_assert_cmpuint (n, ==, expected);
      for (guint r = 0; r < n; r++)
        {
          PatchesValue *change = patches_value_array_get (log, r);

          g_assert_cmpint (member_int (change, "rev"), ==, r + 1);
          g_assert_true (g_hash_table_add (ids, (gpointer) member_str (change, "id")));
        }
      g_assert_cmpint (member_int (state, "n"), ==, expected);

    }

  /* Every other subscriber was notified of every change, once: each
   * client, of every change of every document but its own */
  for (guint i = 0; i < N_CLIENTS; i++)
    {
      Writer *w = &writers[i];
      guint expected = PER_CLIENT * N_CLIENTS - PER_CLIENT;

      if (!WAIT_FOR ((writer_pump (w, PER_CLIENT), g_hash_table_size (w->seen) >= expected), 5000))
        g_error ("client %u was notified of %u changes, not %u", i, g_hash_table_size (w->seen), expected);
      g_assert_cmpuint (g_hash_table_size (w->seen), ==, expected);

      for (guint d = 0; d < n_docs; d++)
        for (guint r = 1; r <= PER_CLIENT * (N_CLIENTS / n_docs); r++)
          {
            g_autofree char *key = g_strdup_printf ("%s:%u", doc_ids[d], r);
            gboolean own = strcmp (w->doc_id, doc_ids[d]) == 0 &&
                           g_hash_table_contains (w->own_revs, GUINT_TO_POINTER (r));

            if (!own && GPOINTER_TO_UINT (g_hash_table_lookup (w->seen, key)) != 1)
              g_error ("client %u was notified of %s %u times", i, key,
                       GPOINTER_TO_UINT (g_hash_table_lookup (w->seen, key)));
          }
    }

  for (guint i = 0; i < N_CLIENTS; i++)
    {
      /* Own changes are never echoed back */
      GHashTableIter iter;
      gpointer rev;

      g_hash_table_iter_init (&iter, writers[i].own_revs);
      while (g_hash_table_iter_next (&iter, &rev, NULL))
        {
          g_autofree char *key = g_strdup_printf ("%s:%d", writers[i].doc_id, GPOINTER_TO_INT (rev));

          g_assert_false (g_hash_table_contains (writers[i].seen, key));
        }

      g_hash_table_unref (writers[i].own_revs);
      g_hash_table_unref (writers[i].seen);
      client_free (writers[i].client);
    }

  server_stop (server, SIGTERM);
}

static void
test_concurrency_one_doc (void)
{
  run_concurrency (1);
}

static void
test_concurrency_several_docs (void)
{
  run_concurrency (4);
}

/* A lost response (PROTOCOL.md §9.3, §12 #1) */

static void
run_lost_response (gboolean    stable,
                   const char *expected_text,
                   const char *expected_a3)
{
  g_autofree char *db = g_strdup_printf ("lost-%d.db", stable);
  Server *server = server_start (db, NULL);
  g_autoptr(Client) setup = client_new (server, NULL, NULL);
  g_autoptr(Client) first = client_new (server, NULL, stable ? "device-A" : NULL);
  g_autoptr(Client) second = NULL;
  g_autoptr(PatchesValue) result = NULL;
  g_autoptr(PatchesValue) log = NULL;
  g_autofree char *text = NULL;
  g_autofree char *a3 = NULL;

  g_clear_pointer (&result, patches_value_unref);
  result = client_result (setup, "commitChanges",
                          "[\"lost\",[{\"id\":\"a1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\","
                          "\"value\":[{\"insert\":\"abc\"}]}]}]]");

  /* a2 is committed; its answer is lost with the connection */
  g_clear_pointer (&result, patches_value_unref);
  result = client_result (first, "commitChanges",
                          "[\"lost\",[{\"id\":\"a2\",\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\","
                          "\"value\":[{\"retain\":1},{\"insert\":\"X\"}]}]}]]");
  g_clear_pointer (&first, client_free);

  /* The same ids again from a new connection: nothing twice */
  second = client_new (server, NULL, stable ? "device-A" : NULL);
  g_clear_pointer (&result, patches_value_unref);
  result = client_result (second, "commitChanges",
                          "[\"lost\",[{\"id\":\"a2\",\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\","
                          "\"value\":[{\"retain\":1},{\"insert\":\"X\"}]}]}]]");
  g_assert_cmpuint (patches_value_array_get_length (member (result, "changes")), ==, 1);
  g_assert_cmpstr (member_str (result, "changes.0.id"), ==, "a2");
  g_assert_cmpint (member_int (result, "changes.0.rev"), ==, 2);
  g_assert_cmpint (head_rev (setup, "lost"), ==, 2);

  /* The resend with a change typed on top of the lost one */
  g_clear_pointer (&result, patches_value_unref);
  result = client_result (second, "commitChanges",
                          "[\"lost\",[{\"id\":\"a2\",\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\","
                          "\"value\":[{\"retain\":1},{\"insert\":\"X\"}]}]},{\"id\":\"a3\",\"baseRev\":1,\"rev\":3,"
                          "\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":2},{\"insert\":\"Y\"}]}]}]]");
  g_assert_cmpstr (member_str (result, "changes.0.id"), ==, "a2");
  g_assert_cmpstr (member_str (result, "changes.1.id"), ==, "a3");

  log = client_result (setup, "getChangesSince", "[\"lost\",0]");
  g_assert_cmpuint (patches_value_array_get_length (log), ==, 3);
  a3 = patches_value_to_json (member (log, "2.ops.0.value"));
  g_assert_cmpstr (a3, ==, expected_a3);
  text = doc_text (setup, "lost", "t");
  g_assert_cmpstr (text, ==, expected_text);

  server_stop (server, SIGTERM);
}

static void
test_lost_response_stable_id (void)
{
  /* The stable id recognises a2 as the client's own: a3 lands where it
   * was typed */
  run_lost_response (TRUE, "aXYbc\n", "[{\"retain\":2},{\"insert\":\"Y\"}]");
}

static void
test_lost_response_connection_id (void)
{
  /* A reference client, one id per connection: the reference's outcome
   * (PROTOCOL.md §12 #1, server_commit.json
   * edge/resend-from-new-connection-duplicate-ids) */
  run_lost_response (FALSE, "aXbYc\n", "[{\"retain\":3},{\"insert\":\"Y\"}]");
}

/* Durability: kill -9 in the middle of a commit storm */

static void
test_durability (void)
{
  enum { N_CLIENTS = 6 };
  g_autofree char *db = tmp_path ("durable.db");
  const char * const args[] = { "--no-auth", NULL };
  Server *server = server_start_argv (db, args, TRUE);
  g_autoptr(GHashTable) acked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  Writer writers[N_CLIENTS];
  const char *doc_ids[] = { "dur-0", "dur-1" };
  gint64 deadline = g_get_monotonic_time () + 700 * 1000;
  guint total = 0;

  for (guint i = 0; i < N_CLIENTS; i++)
    {
      writers[i] = (Writer) { 0 };
      writers[i].client = client_new (server, NULL, NULL);
      writers[i].index = i;
      writers[i].doc_id = doc_ids[i % 2];
      writers[i].own_revs = g_hash_table_new_full (NULL, NULL, NULL, g_free);
      writers[i].seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    }

  /* Storm until the deadline, then SIGKILL with commits in flight */
  while (g_get_monotonic_time () < deadline)
    {
      for (guint i = 0; i < N_CLIENTS; i++)
        writer_pump (&writers[i], G_MAXUINT);
      g_main_context_iteration (NULL, TRUE);
    }
  g_subprocess_send_signal (server->process, SIGKILL);
  WAIT_UNTIL (server->exited);

  for (guint i = 0; i < N_CLIENTS; i++)
    {
      GHashTableIter iter;
      gpointer id;

      g_hash_table_iter_init (&iter, writers[i].own_revs);
      while (g_hash_table_iter_next (&iter, NULL, &id))
        g_hash_table_insert (acked, g_strdup (id), g_strdup (writers[i].doc_id));
      g_assert_true (writers[i].pending_id > 0 || writers[i].acked > 0);
      total += writers[i].acked;
    }
  g_test_message ("%u commits acknowledged before the kill", total);
  g_assert_cmpuint (total, >, 10);

  server_stop (server, SIGKILL);
  for (guint i = 0; i < N_CLIENTS; i++)
    {
      g_hash_table_unref (writers[i].own_revs);
      g_hash_table_unref (writers[i].seen);
      client_free (writers[i].client);
    }

  /* Restart on the same database */
  server = server_start_argv (db, args, TRUE);
  {
    g_autoptr(Client) reader = client_new (server, NULL, NULL);
    g_autoptr(GHashTable) present = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter iter;
    gpointer id;

    for (guint d = 0; d < G_N_ELEMENTS (doc_ids); d++)
      {
        g_autofree char *params = g_strdup_printf ("[\"%s\",0]", doc_ids[d]);
        g_autoptr(PatchesValue) log = client_result (reader, "getChangesSince", params);

        for (guint r = 0; r < patches_value_array_get_length (log); r++)
          {
            PatchesValue *change = patches_value_array_get (log, r);

            g_assert_cmpint (member_int (change, "rev"), ==, r + 1);
            g_assert_true (g_hash_table_add (present, g_strdup (member_str (change, "id"))));
          }
      }

    g_hash_table_iter_init (&iter, acked);
    while (g_hash_table_iter_next (&iter, &id, NULL))
      if (!g_hash_table_contains (present, id))
        g_error ("acknowledged change %s lost", (char *) id);

    /* And the server takes commits again */
    {
      g_autoptr(PatchesValue) result =
        client_result (reader, "commitChanges",
                       "[\"dur-0\",[{\"id\":\"after\",\"ops\":[{\"op\":\"add\",\"path\":\"/after\",\"value\":1}]}]]");

      g_assert_cmpstr (member_str (result, "changes.0.id"), ==, "after");
    }
  }
  server_stop (server, SIGTERM);
}

/* Bad input: every frame gets its answer, the server keeps serving */

static void
test_bad_input (void)
{
  const char * const args[] = { "--no-auth", "--max-frame-bytes", "1100000", NULL };
  Server *server = server_start ("bad.db", args);
  g_autoptr(Client) bad = client_new (server, NULL, NULL);
  g_autoptr(Client) good = client_new (server, NULL, NULL);
  g_autoptr(Client) watcher = client_new (server, NULL, NULL);
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autoptr(GString) big = NULL;
  /* answer NULL: only the code is checked (0: a success) */
  static const struct { const char *frame; const char *answer; int code; } corpus[] = {
    /* Not JSON; not an object; no method */
    { "not json", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error\",\"data\":{}}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error\",\"data\":{}}}" },
    { "[1,2]", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request\",\"data\":null}}" },
    { "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getDoc\",\"params\":[\"x\"]}]",
      "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request\",\"data\":null}}" },
    { "42", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request\",\"data\":null}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":7}", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request\",\"data\":7}}" },
    /* Unknown methods */
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getDocument\",\"params\":[\"x\"]}",
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32000,\"message\":\"Unknown method 'getDocument'.\"}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":5}",
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32000,\"message\":\"Unknown method '5'.\"}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"__proto__\"}",
      "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32000,\"message\":\"Unknown method '__proto__'.\"}}" },
    /* Wrong types */
    { "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"getChangesSince\",\"params\":[\"x\",\"abc\"]}",
      "{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":400,\"message\":\"INVALID_REQUEST: rev must be a number (got abc)\"}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"commitChanges\",\"params\":[\"x\",{\"id\":\"c\"}]}",
      "{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":400,\"message\":\"INVALID_REQUEST: changes must be an array (got [object Object])\"}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"commitChanges\",\"params\":[\"x\"]}",
      "{\"jsonrpc\":\"2.0\",\"id\":6,\"error\":{\"code\":400,\"message\":\"INVALID_REQUEST: changes must be an array (got undefined)\"}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"commitChanges\",\"params\":[\"x\",[5]]}",
      "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":400,\"message\":\"INVALID_REQUEST: change 0: Invalid change: expected an object\"}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"commitChanges\",\"params\":[\"x\",[{\"ops\":[]}]]}",
      "{\"jsonrpc\":\"2.0\",\"id\":8,\"error\":{\"code\":400,\"message\":\"INVALID_REQUEST: change 0: Invalid change: member \\\"id\\\" must be a string\"}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"commitChanges\",\"params\":[\"x\",[{\"id\":\"c9\",\"ops\":{}}]]}", NULL, 400 },
    { "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"updateVersion\",\"params\":[\"x\",5,{}]}",
      "{\"jsonrpc\":\"2.0\",\"id\":10,\"error\":{\"code\":400,\"message\":\"INVALID_REQUEST: versionId must be a string (got 5)\"}}" },
    /* Huge numbers */
    { "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"getChangesSince\",\"params\":[\"x\",1e308]}",
      "{\"jsonrpc\":\"2.0\",\"id\":11,\"result\":[]}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"getDoc\",\"params\":[\"x\",{\"rev\":-1e300}]}",
      "{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":{\"state\":null,\"rev\":0,\"changes\":[]}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"commitChanges\",\"params\":[\"x\",[{\"id\":\"h1\",\"baseRev\":1e300,\"ops\":[]}]]}", NULL, 400 },
    { "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"commitChanges\",\"params\":[\"x\",[{\"id\":\"h2\",\"baseRev\":9007199254740993,\"ops\":[]}]]}", NULL, 409 },
    { "{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"commitChanges\",\"params\":[\"y\",[{\"id\":\"h3\",\"baseRev\":0,\"rev\":9007199254740992,"
      "\"ops\":[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":1e308}],\"createdAt\":-5}]]}", NULL, 0 },
    /* Invalid ops, paths, deltas */
    { "{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"commitChanges\",\"params\":[\"x\",[{\"id\":\"o1\",\"ops\":[{\"op\":\"frob\",\"path\":\"/a\"}]}]]}",
      "{\"jsonrpc\":\"2.0\",\"id\":16,\"error\":{\"code\":400,\"message\":\"INVALID_REQUEST: change o1, op 0 (\\\"frob\\\") is not an operation the server knows\",\"data\":{\"changeId\":\"o1\",\"scope\":\"change\"}}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":17,\"method\":\"commitChanges\",\"params\":[\"x\",[{\"id\":\"o2\",\"ops\":[{\"op\":\"add\",\"path\":\"a/b\",\"value\":1}]}]]}",
      "{\"jsonrpc\":\"2.0\",\"id\":17,\"error\":{\"code\":400,\"message\":\"INVALID_REQUEST: change o2, op 0 (\\\"add\\\") needs a \\\"path\\\" that is a JSON Pointer\",\"data\":{\"changeId\":\"o2\",\"scope\":\"change\"}}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":18,\"method\":\"commitChanges\",\"params\":[\"x\",[{\"id\":\"o3\",\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":\"abc\"}]}]]}",
      "{\"jsonrpc\":\"2.0\",\"id\":18,\"error\":{\"code\":400,\"message\":\"INVALID_REQUEST: change o3, op 0 (\\\"@txt\\\") needs a delta \\\"value\\\"\",\"data\":{\"changeId\":\"o3\",\"scope\":\"change\"}}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":19,\"method\":\"commitChanges\",\"params\":[\"x\",[{\"id\":\"o4\",\"ops\":[{\"op\":\"move\",\"path\":\"/a\"}]}]]}",
      "{\"jsonrpc\":\"2.0\",\"id\":19,\"error\":{\"code\":400,\"message\":\"INVALID_REQUEST: change o4, op 0 (\\\"move\\\") needs a \\\"from\\\" pointer that is not the root\",\"data\":{\"changeId\":\"o4\",\"scope\":\"change\"}}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":20,\"method\":\"commitChanges\",\"params\":[\"x\",[{\"id\":\"o5\",\"ops\":[{\"op\":\"add\",\"path\":\"/a\"}]}]]}",
      "{\"jsonrpc\":\"2.0\",\"id\":20,\"error\":{\"code\":400,\"message\":\"INVALID_REQUEST: change o5, op 0 (\\\"add\\\") needs a \\\"value\\\"\",\"data\":{\"changeId\":\"o5\",\"scope\":\"change\"}}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"commitChanges\",\"params\":[\"x\",[{\"id\":\"o6\",\"ops\":[{\"op\":\"add\",\"value\":1}]}]]}", NULL, 400 },
    { "{\"jsonrpc\":\"2.0\",\"id\":22,\"method\":\"commitChanges\",\"params\":[\"x\",[{\"id\":\"o7\",\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":-3}]}]}]]}", NULL, 400 },
    /* baseRev ahead, inconsistent baseRevs */
    { "{\"jsonrpc\":\"2.0\",\"id\":23,\"method\":\"commitChanges\",\"params\":[\"x\",[{\"id\":\"ahead\",\"baseRev\":5,\"rev\":6,\"ops\":[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]}]]}",
      "{\"jsonrpc\":\"2.0\",\"id\":23,\"error\":{\"code\":409,\"message\":\"Client baseRev (5) is ahead of server revision (0) for doc x. Client needs to reload the document.\",\"data\":{\"scope\":\"doc\"}}}" },
    { "{\"jsonrpc\":\"2.0\",\"id\":24,\"method\":\"commitChanges\",\"params\":[\"x\",[{\"id\":\"i1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]},{\"id\":\"i2\",\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/b\",\"value\":1}]}]]}",
      "{\"jsonrpc\":\"2.0\",\"id\":24,\"error\":{\"code\":400,\"message\":\"Client changes must have consistent baseRev in all changes for doc x.\",\"data\":{\"scope\":\"doc\"}}}" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (corpus); i++)
    {
      if (corpus[i].answer != NULL)
        client_exchange (bad, corpus[i].frame, corpus[i].answer);
      else
        {
          g_autofree char *frame = NULL;
          g_autoptr(PatchesValue) answer = NULL;

          client_send (bad, corpus[i].frame);
          frame = client_next (bad);
          answer = parse (frame);
          if ((corpus[i].code == 0) != (member (answer, "result") != NULL) ||
              (corpus[i].code != 0 && member_int (answer, "error.code") != corpus[i].code))
            g_error ("%s: expected %d, got %s", corpus[i].frame, corpus[i].code, frame);
        }

      /* Other connections are served all along */
      if (i % 8 == 0)
        {
          g_autofree char *params = g_strdup_printf ("[\"ok\",[{\"id\":\"ok%u\",\"ops\":[{\"op\":\"add\",\"path\":\"/k%u\",\"value\":%u}]}]]",
                                                     i, i, i);
          g_autoptr(PatchesValue) result = client_result (good, "commitChanges", params);

          g_assert_nonnull (member (result, "changes.0.rev"));
        }
    }

  /* A too long doc id */
  {
    g_autoptr(GString) frame = g_string_new ("{\"jsonrpc\":\"2.0\",\"id\":26,\"method\":\"getDoc\",\"params\":[\"");
    g_autoptr(PatchesValue) answer = NULL;

    for (guint i = 0; i < 2000; i++)
      g_string_append_c (frame, 'd');
    g_string_append (frame, "\"]}");
    client_send (bad, frame->str);
    answer = client_take_response (bad, 26);
    g_assert_cmpint (member_int (answer, "error.code"), ==, 400);
  }

  /* A text frame that is not UTF-8: libsoup closes the connection (1007) */
  {
    g_autoptr(Raw) raw = raw_connect (server, 0);
    GString *payload = NULL;
    guint code;
    int opcode;

    raw_send_text (raw, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getDoc\",\"params\":[\"\xff\xfe\"]}");
    for (;;)
      {
        opcode = raw_read_frame (raw, &payload);
        if (opcode < 0 || opcode == 0x8)
          break;
        g_string_free (payload, TRUE);
      }
    g_assert_cmpint (opcode, ==, 0x8);
    code = ((guint8) payload->str[0] << 8) | (guint8) payload->str[1];
    g_string_free (payload, TRUE);
    g_assert_cmpuint (code, ==, SOUP_WEBSOCKET_CLOSE_BAD_DATA);
  }

  /* Binary frames are unparseable */
  {
    g_autofree char *frame = NULL;

    soup_websocket_connection_send_binary (bad->ws, "\x00\x01\x02", 3);
    frame = client_next (bad);
    g_assert_cmpstr (frame, ==, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error\",\"data\":{}}}");
  }

  /* Deep nesting: refused by the parser, not by the stack */
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  client_exchange (bad, deep->str,
                   "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error\",\"data\":{}}}");
  g_string_assign (deep, "{\"jsonrpc\":\"2.0\",\"id\":27,\"method\":\"getDoc\",\"params\":[\"x\",");
  for (guint i = 0; i < 5000; i++)
    g_string_append (deep, "{\"a\":");
  g_string_append (deep, "1");
  for (guint i = 0; i < 5000; i++)
    g_string_append_c (deep, '}');
  g_string_append (deep, "]}");
  client_exchange (bad, deep->str,
                   "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error\",\"data\":{}}}");

  /* A frame over --max-frame-bytes: 413 naming the limit, unparsed */
  big = g_string_new ("{\"jsonrpc\":\"2.0\",\"id\":28,\"method\":\"commitChanges\",\"params\":[\"x\",[{\"id\":\"big\",\"ops\":"
                      "[{\"op\":\"add\",\"path\":\"/big\",\"value\":\"");
  while (big->len < 1200000)
    g_string_append (big, "0123456789abcdef");
  g_string_append (big, "\"}]}]]}");
  {
    g_autofree char *expected =
      g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":28,\"error\":{\"code\":413,\"message\":\"Frame of %" G_GSIZE_FORMAT
                       " bytes is over the server's limit of 1100000 bytes (max-frame-bytes)\",\"data\":"
                       "{\"limit\":\"max-frame-bytes\",\"max\":1100000}}}", big->len);

    client_exchange (bad, big->str, expected);
  }

  /* Nothing of all that was written */
  g_assert_cmpint (head_rev (bad, "x"), ==, 0);

  /* Far over it: libsoup drops the connection without reading the frame
   * (no close handshake: it does not wait for the rest), the others go on */
  while (big->len < 3000000)
    g_string_append (big, "0123456789abcdef");
  client_send (bad, big->str);
  WAIT_UNTIL (bad->closed);
  g_assert_cmpuint (bad->close_code, !=, SOUP_WEBSOCKET_CLOSE_NORMAL);

  {
    g_autoptr(PatchesValue) ids = client_result (watcher, "subscribe", "[[\"ok\"]]");
    g_autoptr(PatchesValue) result =
      client_result (good, "commitChanges", "[\"ok\",[{\"id\":\"last\",\"ops\":[{\"op\":\"add\",\"path\":\"/last\",\"value\":1}]}]]");
    g_autoptr(PatchesValue) note = client_take_notification (watcher, "changesCommitted", WAIT_MS);

    g_assert_nonnull (note);
    g_assert_cmpstr (member_str (note, "params.changes.0.id"), ==, "last");
  }

  server_stop (server, SIGTERM);
}

/* Limits */

static void
test_limits (void)
{
  const char * const args[] = { "--no-auth", "--max-changes-per-commit", "3", "--max-ops-per-change", "2",
                                "--max-docs-per-subscribe", "2", NULL };
  Server *server = server_start ("limits.db", args);
  g_autoptr(Client) client = client_new (server, NULL, NULL);

  client_exchange (client,
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"commitChanges\",\"params\":[\"l\",[{\"id\":\"1\",\"ops\":[]},"
                   "{\"id\":\"2\",\"ops\":[]},{\"id\":\"3\",\"ops\":[]},{\"id\":\"4\",\"ops\":[]}]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":413,\"message\":\"Too many changes in one commit: 4, the "
                   "limit is 3 (max-changes-per-commit)\",\"data\":{\"limit\":\"max-changes-per-commit\",\"max\":3}}}");
  client_exchange (client,
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"commitChanges\",\"params\":[\"l\",[{\"id\":\"c1\",\"ops\":["
                   "{\"op\":\"add\",\"path\":\"/a\",\"value\":1},{\"op\":\"add\",\"path\":\"/b\",\"value\":1},"
                   "{\"op\":\"add\",\"path\":\"/c\",\"value\":1}]}]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":413,\"message\":\"Change c1 has 3 ops, the limit is 2 "
                   "(max-ops-per-change)\",\"data\":{\"changeId\":\"c1\",\"scope\":\"change\",\"limit\":\"max-ops-per-change\",\"max\":2}}}");
  client_exchange (client, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"subscribe\",\"params\":[[\"a\",\"b\",\"c\"]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":413,\"message\":\"Too many documents in one call: 3, the "
                   "limit is 2 (max-docs-per-subscribe)\",\"data\":{\"limit\":\"max-docs-per-subscribe\",\"max\":2}}}");
  client_exchange (client, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"subscribe\",\"params\":[[\"a\",\"b\"]]}",
                   "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":[\"a\",\"b\"]}");
  g_assert_cmpint (head_rev (client, "l"), ==, 0);

  server_stop (server, SIGTERM);
}

/* A client that stops reading is dropped; commits never wait for it */

static void
test_slow_client (void)
{
  const char * const args[] = { "--no-auth", "--max-send-queue", "300000", NULL };
  Server *server = server_start ("slow.db", args);
  g_autoptr(Raw) slow = raw_connect (server, 8192);
  g_autoptr(Client) writer = client_new (server, NULL, NULL);
  g_autoptr(Client) reader = client_new (server, NULL, NULL);
  g_autoptr(GString) payload = g_string_new (NULL);
  g_autoptr(PatchesValue) ids = NULL;
  gint64 worst = 0;
  guint received = 0;
  gboolean eof = FALSE;
  int opcode;

  raw_send_text (slow, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscribe\",\"params\":[[\"slow\"]]}");
  ids = client_result (reader, "subscribe", "[[\"slow\"]]");
  sleep_ms (100);

  while (payload->len < 60000)
    g_string_append (payload, "lorem ipsum ");

  for (guint i = 0; i < 150; i++)
    {
      g_autofree char *params = g_strdup_printf ("[\"slow\",[{\"id\":\"s%u\",\"ops\":[{\"op\":\"replace\",\"path\":\"/p\","
                                                 "\"value\":\"%s\"}]}]]", i, payload->str);
      gint64 start = g_get_monotonic_time ();
      g_autoptr(PatchesValue) result = client_result (writer, "commitChanges", params);

      worst = MAX (worst, g_get_monotonic_time () - start);
      g_assert_nonnull (member (result, "changes.0.rev"));
    }
  /* Had a commit waited for the stalled client, it would never have been
   * answered; the times only show how the server fared */
  g_test_message ("slowest commit with a stalled subscriber: %" G_GINT64_FORMAT " ms", worst / 1000);

  /* An answer far bigger than the send queue limit does not count as
   * falling behind: the client asked for it */
  {
    g_autoptr(PatchesValue) snapshot = client_result (writer, "getChangesSince", "[\"slow\",0]");

    g_assert_cmpuint (patches_value_array_get_length (snapshot), ==, 150);
    g_assert_false (writer->closed);
  }

  /* The reader got everything */
  while (received < 150)
    {
      g_autoptr(PatchesValue) note = client_take_notification (reader, "changesCommitted", WAIT_MS);

      g_assert_nonnull (note);
      received++;
    }

  /* The stalled one was cut off: its stream ends early */
  received = 0;
  while ((opcode = raw_read_frame (slow, NULL)) >= 0)
    {
      if (opcode == 0x8)
        {
          eof = TRUE;
          break;
        }
      received++;
    }
  g_test_message ("the stalled client got %u frames before it was dropped", received);
  g_assert_true (eof || opcode < 0);
  g_assert_cmpuint (received, <, 150);

  server_stop (server, SIGTERM);
}

/* Keepalive: a peer that answers no ping is closed */

static void
test_keepalive (void)
{
  const char * const args[] = { "--no-auth", "--keepalive-interval", "1", "--keepalive-timeout", "1", NULL };
  Server *server = server_start ("keepalive.db", args);
  g_autoptr(Raw) silent = raw_connect (server, 0);
  g_autoptr(Client) alive = client_new (server, NULL, NULL);
  gboolean pinged = FALSE;
  gint64 start = g_get_monotonic_time ();
  int opcode;

  while ((opcode = raw_read_frame (silent, NULL)) >= 0 && opcode != 0x8)
    if (opcode == 0x9)
      pinged = TRUE;

  g_assert_true (pinged);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 8 * G_USEC_PER_SEC);

  /* A client that answers (libsoup does) stays */
  sleep_ms (2500);
  g_assert_false (alive->closed);
  {
    g_autoptr(PatchesValue) result = client_result (alive, "getChangesSince", "[\"k\",0]");

    g_assert_cmpuint (patches_value_array_get_length (result), ==, 0);
  }

  server_stop (server, SIGTERM);
}

/* The 409 loop of reference clients is slowed down */

static void
test_conflict_throttle (void)
{
  Server *server = server_start ("throttle.db", NULL);
  g_autoptr(Client) client = client_new (server, NULL, NULL);
  gint64 elapsed[5];

  for (guint i = 0; i < G_N_ELEMENTS (elapsed); i++)
    {
      gint64 start = g_get_monotonic_time ();
      g_autoptr(PatchesValue) answer =
        client_call (client, "commitChanges",
                     "[\"t\",[{\"id\":\"p1\",\"baseRev\":3,\"rev\":4,\"ops\":[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]}]]");

      elapsed[i] = g_get_monotonic_time () - start;
      g_assert_cmpint (member_int (answer, "error.code"), ==, 409);
    }

  g_assert_cmpint (elapsed[4], >=, 200 * 1000);
  g_assert_cmpint (elapsed[0], <, elapsed[4]);

  server_stop (server, SIGTERM);
}

/* SIGTERM: clients get 1001, acknowledged commits are there after */

static void
test_sigterm (void)
{
  g_autofree char *db = tmp_path ("sigterm.db");
  const char * const args[] = { "--no-auth", NULL };
  Server *server = server_start_argv (db, args, TRUE);
  g_autoptr(Client) client = client_new (server, NULL, NULL);
  g_autoptr(PatchesValue) result = NULL;
  gint64 ids[20];

  /* Commits in flight when the signal comes are finished and answered */
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autofree char *params = g_strdup_printf ("[\"term\",[{\"id\":\"t%u\",\"ops\":[{\"op\":\"add\",\"path\":\"/k%u\","
                                                 "\"value\":%u}]}]]", i, i, i);

      ids[i] = client_call_start (client, "commitChanges", params);
    }
  g_subprocess_send_signal (server->process, SIGTERM);

  WAIT_UNTIL (client->closed);
  g_assert_cmpuint (client->close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  WAIT_UNTIL (server->exited);
  server_stop (server, SIGTERM);

  server = server_start_argv (db, args, TRUE);
  {
    g_autoptr(Client) reader = client_new (server, NULL, NULL);
    guint answered = 0;

    for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
      for (GList *l = client->frames.head; l != NULL; l = l->next)
        if (frame_id (l->data) == ids[i] && strstr (l->data, "\"result\"") != NULL)
          answered++;

    g_assert_cmpint (head_rev (reader, "term"), >=, answered);
    g_test_message ("%u of %u commits answered before the shutdown", answered, (guint) G_N_ELEMENTS (ids));
  }
  server_stop (server, SIGTERM);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  setup_tmpdir ();
  test_now = g_get_real_time () / 1000 - 1000;

  g_test_add_func ("/Server/startup", test_startup);
  g_test_add_func ("/Server/command-line", test_command_line);
  g_test_add_data_func ("/Server/transcript/session", "session.jsonl", replay_transcript);
  g_test_add_data_func ("/Server/transcript/errors", "errors.jsonl", replay_transcript);
  g_test_add_data_func ("/Server/transcript/concurrent", "concurrent.jsonl", replay_transcript);
  g_test_add_func ("/Server/methods", test_methods);
  g_test_add_func ("/Server/auth", test_auth);
  g_test_add_func ("/Server/auth-reload", test_auth_reload);
  g_test_add_func ("/Server/concurrency/one-doc", test_concurrency_one_doc);
  g_test_add_func ("/Server/concurrency/several-docs", test_concurrency_several_docs);
  g_test_add_func ("/Server/lost-response/stable-client-id", test_lost_response_stable_id);
  g_test_add_func ("/Server/lost-response/connection-client-id", test_lost_response_connection_id);
  g_test_add_func ("/Server/durability", test_durability);
  g_test_add_func ("/Server/bad-input", test_bad_input);
  g_test_add_func ("/Server/limits", test_limits);
  g_test_add_func ("/Server/slow-client", test_slow_client);
  g_test_add_func ("/Server/keepalive", test_keepalive);
  g_test_add_func ("/Server/conflict-throttle", test_conflict_throttle);
  g_test_add_func ("/Server/sigterm", test_sigterm);

  ret = g_test_run ();

  remove_tree (tmpdir);
  g_free (tmpdir);

  return ret;
}
