/* patches-server-connection.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <errno.h>
#include <string.h>

#ifdef __linux__
# include <sys/socket.h>
# include <netinet/in.h>
# include <linux/tcp.h>
#endif

#include "patches-server-connection.h"

/**
 * PatchesServerConnection:
 *
 * One client of patches-server.  It is the #PatchesTransport its own
 * #PatchesRpc (server role) runs on: every frame either way passes
 * through it, which is where two limits live.
 *
 * - Incoming frames larger than #PatchesServerConnection:max-frame-bytes
 *   never reach the JSON parser: the connection answers them itself with
 *   a 413 error naming the limit (the request id is found by a linear
 *   scan that builds nothing).  The WebSocket layer underneath refuses
 *   frames far beyond that (see patches-server(1)).
 *
 * - Outgoing frames go into libsoup's queue, which has no API to say how
 *   much of it is still waiting in libsoup 3.2.  The connection counts the
 *   bytes it hands over (payload plus the WebSocket frame header, as the
 *   server sends them: unmasked and uncompressed, since patches-server
 *   turns permessage-deflate off) and asks the kernel how many bytes the
 *   peer has acknowledged (`TCP_INFO`, `tcpi_bytes_acked`).  The
 *   difference is what sits in libsoup's queue plus the socket's send
 *   buffer: the client's backlog, exact to within the few bytes of pings
 *   and the HTTP upgrade response.  The kernel is only asked when the
 *   count alone passes the limit, so a client that keeps up costs
 *   nothing.  When the backlog passes #PatchesServerConnection:max-send-queue
 *   plus the largest frame still unacknowledged (a client that asked for a
 *   document bigger than the limit is not behind while it receives it) the
 *   connection is dropped (close code 1008 and a socket shutdown, so
 *   that libsoup frees the queue at once instead of waiting for a close
 *   handshake the peer is not reading); the client catches up when it
 *   reconnects.  Without a TCP socket (tests) only the count is used.
 *
 * It also carries who the client is (its #PatchesServerAuthToken and
 * client id), the documents it subscribed to, and the count of
 * consecutive 409 conflicts per document the server uses to slow down a
 * reload loop.
 */

struct _PatchesServerConnection
{
  GObject                 parent_instance;

  PatchesTransport       *transport;
  GSocket                *socket;
  PatchesRpc             *rpc;
  PatchesServerAuthToken *token;
  char                   *client_id;
  char                   *peer;

  /* doc id → itself */
  GHashTable             *subscriptions;
  /* doc id → consecutive 409 count */
  GHashTable             *conflicts;

  guint64                 sent_bytes;
  /* Large frames not acknowledged yet: (end offset, size) pairs */
  GArray                 *large;
  guint64                 acked_base;
  guint64                 acked;
  guint64                 max_send_queue;
  guint64                 max_frame_bytes;

  PatchesTransportState   state;

  guint                   stable_client_id : 1;
  guint                   has_tcp_info : 1;
};

enum {
  PROP_0,
  PROP_CLIENT_ID,
  PROP_MAX_SEND_QUEUE,
  PROP_MAX_FRAME_BYTES,
  N_PROPS,

  /* Overridden from PatchesTransport */
  PROP_STATE = N_PROPS,
};

static void transport_iface_init (PatchesTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PatchesServerConnection, patches_server_connection, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (PATCHES_TYPE_TRANSPORT, transport_iface_init))

static GParamSpec *properties[N_PROPS];

/* The acknowledged byte count of the socket */

static gboolean
read_bytes_acked (PatchesServerConnection *self,
                  guint64                 *acked)
{
#if defined(__linux__) && defined(TCP_INFO)
  struct tcp_info info;
  socklen_t len = sizeof info;

  if (self->socket == NULL)
    return FALSE;

  memset (&info, 0, sizeof info);
  if (getsockopt (g_socket_get_fd (self->socket), IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
    return FALSE;
  if (len < G_STRUCT_OFFSET (struct tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked)
    return FALSE;

  *acked = info.tcpi_bytes_acked;
  return TRUE;
#else
  return FALSE;
#endif
}

static guint64
frame_wire_size (gsize payload)
{
  /* RFC 6455 §5.2, server to client: no mask */
  if (payload < 126)
    return payload + 2;
  if (payload < 65536)
    return payload + 4;
  return payload + 10;
}

static void
set_state (PatchesServerConnection *self,
           PatchesTransportState    state)
{
  if (self->state == state)
    return;

  self->state = state;
  g_object_notify (G_OBJECT (self), "state");
}

/* Drops a client that is not reading: close code 1008, and a shutdown of
 * the socket so that libsoup fails the pending writes and frees its
 * queue now. */
static void
drop_lagging (PatchesServerConnection *self,
              guint64                  backlog)
{
  g_autoptr(GError) error = NULL;

  g_message ("Dropping client %s (%s): %" G_GUINT64_FORMAT " bytes not taken, limit %"
             G_GUINT64_FORMAT, self->client_id, self->peer ? self->peer : "?",
             backlog, self->max_send_queue);

  patches_server_connection_close (self, PATCHES_SERVER_CLOSE_SEND_QUEUE_FULL, "send queue full");

  if (self->socket != NULL && !g_socket_is_closed (self->socket) &&
      !g_socket_shutdown (self->socket, TRUE, TRUE, &error))
    g_debug ("shutdown: %s", error->message);
}

typedef struct
{
  guint64 end;
  guint64 size;
} LargeFrame;

/* Frames at least this big are remembered until acknowledged */
#define LARGE_FRAME (G_GUINT64_CONSTANT (64) * 1024)

/* How much backlog is allowed now: the limit, plus the largest frame
 * still on its way.  A client may ask for a document far bigger than the
 * limit (getDoc and getChangesSince are unbounded) and is not behind
 * while it receives it; one that stacks up more is. */
static guint64
allowance (PatchesServerConnection *self)
{
  guint64 largest = 0;
  guint done = 0;

  while (done < self->large->len && g_array_index (self->large, LargeFrame, done).end <= self->acked)
    done++;
  if (done > 0)
    g_array_remove_range (self->large, 0, done);

  for (guint i = 0; i < self->large->len; i++)
    largest = MAX (largest, g_array_index (self->large, LargeFrame, i).size);

  return self->max_send_queue + largest;
}

static guint64
backlog (PatchesServerConnection *self)
{
  return self->sent_bytes - MIN (self->acked, self->sent_bytes);
}

/* Checks the backlog after a send; returns FALSE when the client was
 * dropped. */
static gboolean
check_backlog (PatchesServerConnection *self)
{
  guint64 acked;

  if (self->max_send_queue == 0)
    return TRUE;

  if (backlog (self) <= allowance (self))
    return TRUE;

  if (self->has_tcp_info && read_bytes_acked (self, &acked))
    {
      self->acked = acked >= self->acked_base ? acked - self->acked_base : 0;
      if (backlog (self) <= allowance (self))
        return TRUE;
    }

  drop_lagging (self, backlog (self));
  return FALSE;
}

/* Oversized frames: answered without parsing them */

static gsize
skip_ws (const char *s,
         gsize       i,
         gsize       n)
{
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    i++;
  return i;
}

static gsize
skip_string (const char *s,
             gsize       i,
             gsize       n)
{
  /* s[i] is the opening quote */
  for (i++; i < n && s[i] != '"'; i++)
    if (s[i] == '\\')
      i++;
  return MIN (i + 1, n);
}

/* Skips one value; returns the index after it (at a ',' or '}' for a
 * scalar) */
static gsize
skip_value (const char *s,
            gsize       i,
            gsize       n)
{
  gsize depth = 0;

  while (i < n)
    {
      char c = s[i];

      if (c == '"')
        {
          i = skip_string (s, i, n);
          if (depth == 0)
            return i;
          continue;
        }

      if (c == '{' || c == '[')
        depth++;
      else if (c == '}' || c == ']')
        {
          if (depth == 0)
            return i;
          if (--depth == 0)
            return i + 1;
        }
      else if (depth == 0 && c == ',')
        return i;

      i++;
    }

  return n;
}

/* Finds the top-level `id` of a frame, as JSON text, and whether it has a
 * `method`, without building anything.  Returns FALSE when there is no
 * usable id. */
static gboolean
scan_frame_id (const char *s,
               gsize       n,
               GString    *id,
               gboolean   *has_method)
{
  gsize i = skip_ws (s, 0, n);
  gboolean found = FALSE;

  *has_method = FALSE;

  if (i >= n || s[i] != '{')
    return FALSE;
  i++;

  while (i < n)
    {
      gsize key_start, key_end, value_start;

      i = skip_ws (s, i, n);
      if (i >= n || s[i] == '}')
        break;
      if (s[i] != '"')
        return FALSE;

      key_start = i + 1;
      i = skip_string (s, i, n);
      key_end = i - 1;

      i = skip_ws (s, i, n);
      if (i >= n || s[i] != ':')
        return FALSE;
      i = skip_ws (s, i + 1, n);
      value_start = i;
      i = skip_value (s, i, n);

      if (key_end - key_start == 2 && memcmp (s + key_start, "id", 2) == 0)
        {
          gsize end = i;

          /* Only scalars make an id worth echoing */
          while (end > value_start && (s[end - 1] == ' ' || s[end - 1] == '\n' ||
                                       s[end - 1] == '\r' || s[end - 1] == '\t'))
            end--;
          if (end > value_start &&
              (s[value_start] == '"' || s[value_start] == '-' || g_ascii_isdigit (s[value_start]) ||
               (end - value_start == 4 && memcmp (s + value_start, "null", 4) == 0)) &&
              end - value_start <= 256 &&
              g_utf8_validate_len (s + value_start, end - value_start, NULL))
            {
              g_string_truncate (id, 0);
              g_string_append_len (id, s + value_start, end - value_start);
              found = TRUE;
            }
        }
      else if (key_end - key_start == 6 && memcmp (s + key_start, "method", 6) == 0)
        *has_method = TRUE;

      i = skip_ws (s, i, n);
      if (i < n && s[i] == ',')
        i++;
    }

  return found;
}

static void
answer_oversized (PatchesServerConnection *self,
                  GBytes                  *text)
{
  g_autoptr(GString) id = g_string_new (NULL);
  g_autoptr(GBytes) reply = NULL;
  gboolean has_method;
  gsize length;
  const char *data = g_bytes_get_data (text, &length);
  GString *out;

  g_message ("Client %s sent a frame of %" G_GSIZE_FORMAT " bytes, over the limit of %"
             G_GUINT64_FORMAT, self->client_id, length, self->max_frame_bytes);

  if (!scan_frame_id (data ? data : "", length, id, &has_method) || !has_method)
    return;

  out = g_string_new ("{\"jsonrpc\":\"2.0\",\"id\":");
  g_string_append_len (out, id->str, id->len);
  g_string_append_printf (out,
                          ",\"error\":{\"code\":413,\"message\":\"Frame of %" G_GSIZE_FORMAT
                          " bytes is over the server's limit of %" G_GUINT64_FORMAT
                          " bytes (max-frame-bytes)\",\"data\":{\"limit\":\"max-frame-bytes\","
                          "\"max\":%" G_GUINT64_FORMAT "}}}",
                          length, self->max_frame_bytes, self->max_frame_bytes);
  reply = g_string_free_to_bytes (out);
  patches_transport_send_bytes (PATCHES_TRANSPORT (self), reply);
}

/* The inner transport */

static void
on_transport_message (PatchesServerConnection *self,
                      GBytes                  *text,
                      PatchesTransport        *transport)
{
  if (self->state == PATCHES_TRANSPORT_STATE_CLOSED)
    return;

  if (self->max_frame_bytes > 0 && g_bytes_get_size (text) > self->max_frame_bytes)
    {
      answer_oversized (self, text);
      return;
    }

  patches_transport_emit_message (PATCHES_TRANSPORT (self), text);
}

static void
on_transport_binary (PatchesServerConnection *self,
                     GBytes                  *data,
                     PatchesTransport        *transport)
{
  if (self->state == PATCHES_TRANSPORT_STATE_CLOSED)
    return;

  patches_transport_emit_binary (PATCHES_TRANSPORT (self), data);
}

static void
on_transport_state (PatchesServerConnection *self,
                    GParamSpec              *pspec,
                    PatchesTransport        *transport)
{
  PatchesTransportState state = patches_transport_get_state (transport);

  if (state == PATCHES_TRANSPORT_STATE_CLOSING && self->state == PATCHES_TRANSPORT_STATE_OPEN)
    set_state (self, PATCHES_TRANSPORT_STATE_CLOSING);
}

static void
on_transport_closed (PatchesServerConnection *self,
                     guint                    code,
                     const char              *reason,
                     PatchesTransport        *transport)
{
  g_autoptr(PatchesRpc) rpc = NULL;

  if (self->state == PATCHES_TRANSPORT_STATE_CLOSED)
    return;

  g_object_ref (self);

  set_state (self, PATCHES_TRANSPORT_STATE_CLOSED);
  patches_transport_emit_closed (PATCHES_TRANSPORT (self), code, reason);

  /* The peer holds a reference on us (we are its transport): let it go
   * once the requests still in flight are answered. */
  rpc = g_steal_pointer (&self->rpc);

  g_object_unref (self);
}

/* PatchesTransport */

static void
patches_server_connection_send_bytes (PatchesTransport *transport,
                                      GBytes           *text)
{
  PatchesServerConnection *self = PATCHES_SERVER_CONNECTION (transport);
  guint64 size = frame_wire_size (g_bytes_get_size (text));

  if (self->state != PATCHES_TRANSPORT_STATE_OPEN)
    return;

  self->sent_bytes += size;
  if (size >= LARGE_FRAME)
    {
      LargeFrame frame = { self->sent_bytes, size };

      g_array_append_val (self->large, frame);
    }

  patches_transport_send_bytes (self->transport, text);
  check_backlog (self);
}

static void
patches_server_connection_transport_close (PatchesTransport *transport,
                                           gushort           code,
                                           const char       *reason)
{
  PatchesServerConnection *self = PATCHES_SERVER_CONNECTION (transport);

  if (self->state != PATCHES_TRANSPORT_STATE_OPEN)
    return;

  set_state (self, PATCHES_TRANSPORT_STATE_CLOSING);
  patches_transport_close (self->transport, code, reason);
}

static PatchesTransportState
patches_server_connection_get_state (PatchesTransport *transport)
{
  return PATCHES_SERVER_CONNECTION (transport)->state;
}

static void
transport_iface_init (PatchesTransportInterface *iface)
{
  iface->send_bytes = patches_server_connection_send_bytes;
  iface->close = patches_server_connection_transport_close;
  iface->get_state = patches_server_connection_get_state;
}

/* GObject */

static void
patches_server_connection_dispose (GObject *object)
{
  PatchesServerConnection *self = (PatchesServerConnection *)object;

  g_clear_object (&self->rpc);

  if (self->transport != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->transport, self);
      g_clear_object (&self->transport);
    }

  G_OBJECT_CLASS (patches_server_connection_parent_class)->dispose (object);
}

static void
patches_server_connection_finalize (GObject *object)
{
  PatchesServerConnection *self = (PatchesServerConnection *)object;

  g_clear_object (&self->socket);
  g_clear_pointer (&self->token, patches_server_auth_token_unref);
  g_clear_pointer (&self->client_id, g_free);
  g_clear_pointer (&self->peer, g_free);
  g_clear_pointer (&self->subscriptions, g_hash_table_unref);
  g_clear_pointer (&self->conflicts, g_hash_table_unref);
  g_clear_pointer (&self->large, g_array_unref);

  G_OBJECT_CLASS (patches_server_connection_parent_class)->finalize (object);
}

static void
patches_server_connection_get_property (GObject    *object,
                                        guint       prop_id,
                                        GValue     *value,
                                        GParamSpec *pspec)
{
  PatchesServerConnection *self = PATCHES_SERVER_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_CLIENT_ID:
      g_value_set_string (value, self->client_id);
      break;

    case PROP_MAX_SEND_QUEUE:
      g_value_set_uint64 (value, self->max_send_queue);
      break;

    case PROP_MAX_FRAME_BYTES:
      g_value_set_uint64 (value, self->max_frame_bytes);
      break;

    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_server_connection_set_property (GObject      *object,
                                        guint         prop_id,
                                        const GValue *value,
                                        GParamSpec   *pspec)
{
  PatchesServerConnection *self = PATCHES_SERVER_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_MAX_SEND_QUEUE:
      patches_server_connection_set_max_send_queue (self, g_value_get_uint64 (value));
      break;

    case PROP_MAX_FRAME_BYTES:
      patches_server_connection_set_max_frame_bytes (self, g_value_get_uint64 (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_server_connection_class_init (PatchesServerConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = patches_server_connection_dispose;
  object_class->finalize = patches_server_connection_finalize;
  object_class->get_property = patches_server_connection_get_property;
  object_class->set_property = patches_server_connection_set_property;

  /**
   * PatchesServerConnection:client-id:
   *
   * The `clientId` stamped on the changes this connection commits: the
   * stable id the client sent when it connected, or one made for this
   * connection.
   */
  properties[PROP_CLIENT_ID] =
    g_param_spec_string ("client-id", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesServerConnection:max-send-queue:
   *
   * The most bytes sent to the client and not yet acknowledged by it
   * before the connection is dropped; 0 for no limit.
   */
  properties[PROP_MAX_SEND_QUEUE] =
    g_param_spec_uint64 ("max-send-queue", NULL, NULL,
                         0, G_MAXUINT64, PATCHES_SERVER_CONNECTION_MAX_SEND_QUEUE_DEFAULT,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesServerConnection:max-frame-bytes:
   *
   * Incoming frames larger than this are answered with a 413 error
   * without being parsed; 0 for no limit.
   */
  properties[PROP_MAX_FRAME_BYTES] =
    g_param_spec_uint64 ("max-frame-bytes", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_object_class_override_property (object_class, PROP_STATE, "state");
}

static void
patches_server_connection_init (PatchesServerConnection *self)
{
  self->subscriptions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->conflicts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->large = g_array_new (FALSE, FALSE, sizeof (LargeFrame));
  self->max_send_queue = PATCHES_SERVER_CONNECTION_MAX_SEND_QUEUE_DEFAULT;
  self->state = PATCHES_TRANSPORT_STATE_OPEN;
}

/* Public API */

/**
 * patches_server_connection_new:
 * @transport: the client's transport, open
 * @socket: (nullable): its TCP socket, to measure the send queue
 * @token: the client's entry in the tokens file
 * @client_id: the client id
 * @stable_client_id: whether @client_id came from the client (it then
 *   survives reconnects) rather than being made for this connection
 *
 * Returns: (transfer full): a new #PatchesServerConnection, with a
 *   #PatchesRpc in the server role that has no methods yet
 */
PatchesServerConnection *
patches_server_connection_new (PatchesTransport       *transport,
                               GSocket                *socket,
                               PatchesServerAuthToken *token,
                               const char             *client_id,
                               gboolean                stable_client_id)
{
  PatchesServerConnection *self;
  guint64 acked;

  g_return_val_if_fail (PATCHES_IS_TRANSPORT (transport), NULL);
  g_return_val_if_fail (socket == NULL || G_IS_SOCKET (socket), NULL);
  g_return_val_if_fail (token != NULL, NULL);
  g_return_val_if_fail (client_id != NULL, NULL);

  self = g_object_new (PATCHES_TYPE_SERVER_CONNECTION, NULL);
  self->transport = g_object_ref (transport);
  self->socket = socket ? g_object_ref (socket) : NULL;
  self->token = patches_server_auth_token_ref (token);
  self->client_id = g_strdup (client_id);
  self->stable_client_id = !!stable_client_id;

  if (read_bytes_acked (self, &acked))
    {
      self->has_tcp_info = TRUE;
      self->acked_base = acked;
    }

  switch (patches_transport_get_state (transport))
    {
    case PATCHES_TRANSPORT_STATE_OPEN:
      self->state = PATCHES_TRANSPORT_STATE_OPEN;
      break;
    case PATCHES_TRANSPORT_STATE_CLOSING:
    case PATCHES_TRANSPORT_STATE_CLOSED:
    default:
      /* ::closed comes from the transport later */
      self->state = PATCHES_TRANSPORT_STATE_CLOSING;
      break;
    }

  g_signal_connect_object (transport, "message",
                           G_CALLBACK (on_transport_message), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (transport, "binary",
                           G_CALLBACK (on_transport_binary), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (transport, "notify::state",
                           G_CALLBACK (on_transport_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (transport, "closed",
                           G_CALLBACK (on_transport_closed), self, G_CONNECT_SWAPPED);

  self->rpc = patches_rpc_new (PATCHES_TRANSPORT (self), PATCHES_RPC_ROLE_SERVER);

  return self;
}

/**
 * patches_server_connection_get_rpc:
 * @self: a #PatchesServerConnection
 *
 * Returns: (transfer none) (nullable): the JSON-RPC peer, %NULL once the
 *   connection closed
 */
PatchesRpc *
patches_server_connection_get_rpc (PatchesServerConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), NULL);

  return self->rpc;
}

/**
 * patches_server_connection_get_transport:
 * @self: a #PatchesServerConnection
 *
 * Returns: (transfer none) (nullable): the client's transport underneath
 */
PatchesTransport *
patches_server_connection_get_transport (PatchesServerConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), NULL);

  return self->transport;
}

/**
 * patches_server_connection_get_token:
 * @self: a #PatchesServerConnection
 *
 * Returns: (transfer none): the client's tokens-file entry
 */
PatchesServerAuthToken *
patches_server_connection_get_token (PatchesServerConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), NULL);

  return self->token;
}

/**
 * patches_server_connection_get_client_id:
 * @self: a #PatchesServerConnection
 *
 * Returns: the client id
 */
const char *
patches_server_connection_get_client_id (PatchesServerConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), NULL);

  return self->client_id;
}

/**
 * patches_server_connection_has_stable_client_id:
 * @self: a #PatchesServerConnection
 *
 * Returns: whether the client id came from the client
 */
gboolean
patches_server_connection_has_stable_client_id (PatchesServerConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), FALSE);

  return self->stable_client_id;
}

/**
 * patches_server_connection_get_peer:
 * @self: a #PatchesServerConnection
 *
 * Returns: (nullable): the peer's address, for logs
 */
const char *
patches_server_connection_get_peer (PatchesServerConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), NULL);

  return self->peer;
}

/**
 * patches_server_connection_set_peer:
 * @self: a #PatchesServerConnection
 * @peer: (nullable): the peer's address
 *
 * Sets the address logs name the client by.
 */
void
patches_server_connection_set_peer (PatchesServerConnection *self,
                                    const char              *peer)
{
  g_return_if_fail (PATCHES_IS_SERVER_CONNECTION (self));

  g_free (self->peer);
  self->peer = g_strdup (peer);
}

/**
 * patches_server_connection_is_open:
 * @self: a #PatchesServerConnection
 *
 * Returns: whether frames can still be sent
 */
gboolean
patches_server_connection_is_open (PatchesServerConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), FALSE);

  return self->state == PATCHES_TRANSPORT_STATE_OPEN;
}

/**
 * patches_server_connection_close:
 * @self: a #PatchesServerConnection
 * @code: a WebSocket close code
 * @reason: (nullable): the close reason
 *
 * Starts closing; #PatchesTransport::closed follows.
 */
void
patches_server_connection_close (PatchesServerConnection *self,
                                 gushort                  code,
                                 const char              *reason)
{
  g_return_if_fail (PATCHES_IS_SERVER_CONNECTION (self));

  patches_transport_close (PATCHES_TRANSPORT (self), code, reason);
}

/**
 * patches_server_connection_send:
 * @self: a #PatchesServerConnection
 * @frame: a whole JSON-RPC frame, such as a notification serialised once
 *   for every subscriber
 *
 * Queues @frame, counting it against the send queue.  A client over its
 * limit is dropped.
 *
 * Returns: %TRUE if the frame was queued and the client kept
 */
gboolean
patches_server_connection_send (PatchesServerConnection *self,
                                GBytes                  *frame)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);

  if (self->state != PATCHES_TRANSPORT_STATE_OPEN)
    return FALSE;

  patches_server_connection_send_bytes (PATCHES_TRANSPORT (self), frame);

  return self->state == PATCHES_TRANSPORT_STATE_OPEN;
}

/**
 * patches_server_connection_get_send_queue_bytes:
 * @self: a #PatchesServerConnection
 *
 * Asks the kernel (when there is a TCP socket) how much of what was sent
 * the client has not acknowledged yet.
 *
 * Returns: the backlog in bytes
 */
guint64
patches_server_connection_get_send_queue_bytes (PatchesServerConnection *self)
{
  guint64 acked;

  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), 0);

  if (self->has_tcp_info && read_bytes_acked (self, &acked))
    self->acked = acked >= self->acked_base ? acked - self->acked_base : 0;

  return backlog (self);
}

/**
 * patches_server_connection_get_max_send_queue:
 * @self: a #PatchesServerConnection
 *
 * Returns: the backlog limit in bytes, 0 for none
 */
guint64
patches_server_connection_get_max_send_queue (PatchesServerConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), 0);

  return self->max_send_queue;
}

/**
 * patches_server_connection_set_max_send_queue:
 * @self: a #PatchesServerConnection
 * @max_bytes: the backlog limit in bytes, 0 for none
 *
 * Sets #PatchesServerConnection:max-send-queue.
 */
void
patches_server_connection_set_max_send_queue (PatchesServerConnection *self,
                                              guint64                  max_bytes)
{
  g_return_if_fail (PATCHES_IS_SERVER_CONNECTION (self));

  if (self->max_send_queue == max_bytes)
    return;

  self->max_send_queue = max_bytes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_SEND_QUEUE]);
}

/**
 * patches_server_connection_get_max_frame_bytes:
 * @self: a #PatchesServerConnection
 *
 * Returns: the incoming frame limit in bytes, 0 for none
 */
guint64
patches_server_connection_get_max_frame_bytes (PatchesServerConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), 0);

  return self->max_frame_bytes;
}

/**
 * patches_server_connection_set_max_frame_bytes:
 * @self: a #PatchesServerConnection
 * @max_bytes: the incoming frame limit in bytes, 0 for none
 *
 * Sets #PatchesServerConnection:max-frame-bytes.
 */
void
patches_server_connection_set_max_frame_bytes (PatchesServerConnection *self,
                                               guint64                  max_bytes)
{
  g_return_if_fail (PATCHES_IS_SERVER_CONNECTION (self));

  if (self->max_frame_bytes == max_bytes)
    return;

  self->max_frame_bytes = max_bytes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_FRAME_BYTES]);
}

/**
 * patches_server_connection_add_subscription:
 * @self: a #PatchesServerConnection
 * @doc_id: a document id
 *
 * Returns: %TRUE if the connection was not subscribed to @doc_id before
 */
gboolean
patches_server_connection_add_subscription (PatchesServerConnection *self,
                                            const char              *doc_id)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);

  if (g_hash_table_contains (self->subscriptions, doc_id))
    return FALSE;

  g_hash_table_add (self->subscriptions, g_strdup (doc_id));
  return TRUE;
}

/**
 * patches_server_connection_remove_subscription:
 * @self: a #PatchesServerConnection
 * @doc_id: a document id
 *
 * Returns: %TRUE if the connection was subscribed to @doc_id
 */
gboolean
patches_server_connection_remove_subscription (PatchesServerConnection *self,
                                               const char              *doc_id)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);

  return g_hash_table_remove (self->subscriptions, doc_id);
}

/**
 * patches_server_connection_is_subscribed:
 * @self: a #PatchesServerConnection
 * @doc_id: a document id
 *
 * Returns: whether the connection is subscribed to @doc_id
 */
gboolean
patches_server_connection_is_subscribed (PatchesServerConnection *self,
                                         const char              *doc_id)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);

  return g_hash_table_contains (self->subscriptions, doc_id);
}

/**
 * patches_server_connection_get_n_subscriptions:
 * @self: a #PatchesServerConnection
 *
 * Returns: how many documents the connection is subscribed to
 */
guint
patches_server_connection_get_n_subscriptions (PatchesServerConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), 0);

  return g_hash_table_size (self->subscriptions);
}

/**
 * patches_server_connection_list_subscriptions:
 * @self: a #PatchesServerConnection
 *
 * Returns: (transfer full) (element-type utf8): the subscribed ids
 */
GPtrArray *
patches_server_connection_list_subscriptions (PatchesServerConnection *self)
{
  GPtrArray *ids;
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), NULL);

  ids = g_ptr_array_new_full (g_hash_table_size (self->subscriptions), g_free);
  g_hash_table_iter_init (&iter, self->subscriptions);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (ids, g_strdup (key));

  return ids;
}

/**
 * patches_server_connection_note_conflict:
 * @self: a #PatchesServerConnection
 * @doc_id: the document a commit got 409 for
 *
 * Counts a 409 answer.  The reference client answers a 409 by reloading
 * and re-sending at once, and loops without pause when its pending
 * changes claim a base the server never reached (PROTOCOL.md §12 #11):
 * from the third 409 in a row on one document, the answer is held back
 * 50 ms, then twice as long each time, up to 5 s.
 *
 * Returns: how long to hold back the answer, in milliseconds
 */
guint
patches_server_connection_note_conflict (PatchesServerConnection *self,
                                         const char              *doc_id)
{
  guint count;

  g_return_val_if_fail (PATCHES_IS_SERVER_CONNECTION (self), 0);
  g_return_val_if_fail (doc_id != NULL, 0);

  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->conflicts, doc_id)) + 1;
  if (count == 1 && g_hash_table_size (self->conflicts) >= 1024)
    g_hash_table_remove_all (self->conflicts);
  g_hash_table_insert (self->conflicts, g_strdup (doc_id), GUINT_TO_POINTER (MIN (count, 1000)));

  if (count < 3)
    return 0;

  return MIN (50u << MIN (count - 3, 7u), 5000u);
}

/**
 * patches_server_connection_clear_conflict:
 * @self: a #PatchesServerConnection
 * @doc_id: a document a commit succeeded on
 *
 * Resets the count of patches_server_connection_note_conflict().
 */
void
patches_server_connection_clear_conflict (PatchesServerConnection *self,
                                          const char              *doc_id)
{
  g_return_if_fail (PATCHES_IS_SERVER_CONNECTION (self));
  g_return_if_fail (doc_id != NULL);

  if (g_hash_table_size (self->conflicts) > 0)
    g_hash_table_remove (self->conflicts, doc_id);
}
