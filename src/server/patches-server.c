/* patches-server.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "patches-server-private.h"
#include "patches-websocket-transport.h"

/**
 * PatchesServer:
 *
 * The sync server.  It listens with a #SoupServer and accepts WebSocket
 * upgrades on any path (clients usually dial `ws://HOST:PORT/sync`);
 * `GET /healthz` answers `ok` for monitors, and any other plain HTTP
 * request is refused with 426.
 *
 * The handshake is checked before the upgrade, by an ordinary handler
 * for the same paths (libsoup 3.2 runs it before the WebSocket handler,
 * and a status it sets refuses the upgrade):
 *
 * - the token: `Authorization: Bearer TOKEN`; or, for browsers, which
 *   cannot set headers, a `Sec-WebSocket-Protocol` offer of
 *   `patches, bearer.TOKEN` (the server selects `patches`, PROTOCOL.md
 *   §2.1); or an `access_token=TOKEN` query parameter.  A missing or
 *   unknown token is refused with 401, a token already holding
 *   #PatchesServer:max-connections-per-token connections with 429;
 * - the client's stable id: an `X-Patches-Client-Id` header or a
 *   `client_id` query parameter, 1 to 128 characters among letters,
 *   digits and `-._~:@`.  It becomes the `clientId` of everything the
 *   connection commits, so a client that reconnects is recognised in the
 *   history it wrote before (PROTOCOL.md §12 #1).  A client without one
 *   (every reference client) gets a random id for the connection, as the
 *   reference server does.
 *
 * permessage-deflate is not offered: it would make the send-queue
 * accounting of #PatchesServerConnection guess, and a compressed frame
 * can inflate far beyond the frame limit.
 *
 * The protocol itself is in patches-server-methods.c.
 */

enum {
  PROP_0,
  PROP_STORE,
  PROP_AUTH,
  PROP_MAX_FRAME_BYTES,
  PROP_MAX_SEND_QUEUE,
  PROP_MAX_CHANGES_PER_COMMIT,
  PROP_MAX_OPS_PER_CHANGE,
  PROP_MAX_DOCS_PER_SUBSCRIBE,
  PROP_MAX_CONNECTIONS_PER_TOKEN,
  PROP_KEEPALIVE_INTERVAL,
  PROP_KEEPALIVE_TIMEOUT,
  PROP_N_CONNECTIONS,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (PatchesServer, patches_server, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];

static char *subprotocols[] = { (char *) PATCHES_SERVER_SUBPROTOCOL, NULL };

/* Connections */

static void
on_connection_closed (PatchesServer           *self,
                      guint                    code,
                      const char              *reason,
                      PatchesServerConnection *connection)
{
  const char *key = patches_server_auth_token_get_key (patches_server_connection_get_token (connection));
  guint count;

  g_debug ("Client %s (%s) closed: %u %s",
           patches_server_connection_get_client_id (connection),
           patches_server_connection_get_peer (connection) ?: "?",
           code, reason ?: "");

  patches_server_drop_subscriptions (self, connection);

  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->token_counts, key));
  if (count > 1)
    g_hash_table_insert (self->token_counts, g_strdup (key), GUINT_TO_POINTER (count - 1));
  else
    g_hash_table_remove (self->token_counts, key);

  g_signal_handlers_disconnect_by_data (connection, self);
  g_ptr_array_remove (self->connections, connection);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CONNECTIONS]);
}

/**
 * patches_server_accept:
 * @self: a #PatchesServer
 * @transport: an open transport to a client
 * @socket: (nullable): its TCP socket
 * @token: the client's tokens-file entry
 * @client_id: (nullable): the client's stable id, or %NULL to make one
 *   for this connection
 *
 * Serves the protocol on @transport.  The WebSocket handler calls this;
 * tests and the fuzzer call it with transports of their own.
 *
 * Returns: (transfer none): the connection, which the server keeps until
 *   it closes
 */
PatchesServerConnection *
patches_server_accept (PatchesServer          *self,
                       PatchesTransport       *transport,
                       GSocket                *socket,
                       PatchesServerAuthToken *token,
                       const char             *client_id)
{
  g_autofree char *made_id = NULL;
  PatchesServerConnection *connection;
  const char *key;

  g_return_val_if_fail (PATCHES_IS_SERVER (self), NULL);
  g_return_val_if_fail (PATCHES_IS_TRANSPORT (transport), NULL);
  g_return_val_if_fail (token != NULL, NULL);

  if (client_id == NULL)
    {
      /* Random, never a counter: ids outlive the process in the history,
       * and a reused one would pass for that old client's echo */
      g_autofree char *random = patches_change_id_new ();

      made_id = g_strconcat ("conn-", random, NULL);
    }

  connection = patches_server_connection_new (transport, socket, token,
                                              client_id ? client_id : made_id,
                                              client_id != NULL);
  patches_server_connection_set_max_send_queue (connection, self->max_send_queue);
  patches_server_connection_set_max_frame_bytes (connection, self->max_frame_bytes);
  patches_server_add_methods (self, connection);

  g_signal_connect_object (connection, "closed",
                           G_CALLBACK (on_connection_closed), self, G_CONNECT_SWAPPED);
  g_ptr_array_add (self->connections, connection);

  key = patches_server_auth_token_get_key (token);
  g_hash_table_insert (self->token_counts, g_strdup (key),
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (self->token_counts, key)) + 1));

  self->n_accepted++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CONNECTIONS]);

  return connection;
}

/* The handshake */

static const char *
bearer_from_authorization (SoupMessageHeaders *headers)
{
  const char *value = soup_message_headers_get_one (headers, "Authorization");

  if (value == NULL || g_ascii_strncasecmp (value, "Bearer ", 7) != 0)
    return NULL;

  value += 7;
  while (*value == ' ')
    value++;

  return *value ? value : NULL;
}

static char *
bearer_from_subprotocols (SoupMessageHeaders *headers)
{
  const char *value = soup_message_headers_get_list (headers, "Sec-WebSocket-Protocol");
  g_auto(GStrv) offers = NULL;

  if (value == NULL)
    return NULL;

  offers = g_strsplit (value, ",", -1);
  for (guint i = 0; offers[i] != NULL; i++)
    {
      const char *offer = g_strstrip (offers[i]);

      if (g_str_has_prefix (offer, "bearer.") && offer[7] != 0)
        return g_strdup (offer + 7);
    }

  return NULL;
}

static gboolean
valid_client_id (const char *id)
{
  gsize len = strlen (id);

  if (len == 0 || len > PATCHES_SERVER_MAX_CLIENT_ID_BYTES)
    return FALSE;

  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && strchr ("-._~:@", *p) == NULL)
      return FALSE;

  return TRUE;
}

static void
refuse (SoupServerMessage *msg,
        guint              status,
        const char        *text)
{
  g_autofree char *body = g_strdup_printf ("%u %s\n", status, text);
  const char *phrase = NULL;

  /* Phrases libsoup 3.2 does not know */
  if (status == 426)
    phrase = "Upgrade Required";
  else if (status == 429)
    phrase = "Too Many Requests";

  soup_server_message_set_status (msg, status, phrase);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_COPY,
                                    body, strlen (body));
}

static void
server_handler_cb (SoupServer        *server,
                   SoupServerMessage *msg,
                   const char        *path,
                   GHashTable        *query,
                   gpointer           user_data)
{
  PatchesServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr(PatchesServerAuthToken) token = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *subprotocol_token = NULL;
  const char *secret;
  const char *client_id;
  guint count;

  if (self->stopped)
    {
      refuse (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "server shutting down");
      return;
    }

  if (strcmp (path, "/healthz") == 0 &&
      soup_message_headers_get_one (headers, "Upgrade") == NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC, "ok\n", 3);
      return;
    }

  if (soup_message_headers_get_one (headers, "Upgrade") == NULL)
    {
      refuse (msg, 426, "this is a WebSocket endpoint");
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Upgrade", "websocket");
      return;
    }

  if (!soup_websocket_server_check_handshake (msg, NULL, subprotocols, NULL, &error))
    {
      refuse (msg, SOUP_STATUS_BAD_REQUEST, error->message);
      return;
    }

  secret = bearer_from_authorization (headers);
  if (secret == NULL && (subprotocol_token = bearer_from_subprotocols (headers)) != NULL)
    secret = subprotocol_token;
  if (secret == NULL && query != NULL)
    secret = g_hash_table_lookup (query, "access_token");

  if (!(token = patches_server_auth_lookup (self->auth, secret)))
    {
      g_message ("Refused %s: %s token", soup_server_message_get_remote_host (msg) ?: "?",
                 secret ? "unknown" : "no");
      refuse (msg, SOUP_STATUS_UNAUTHORIZED, secret ? "unknown token" : "missing token");
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "WWW-Authenticate", "Bearer realm=\"patches-server\"");
      return;
    }

  client_id = soup_message_headers_get_one (headers, PATCHES_SERVER_CLIENT_ID_HEADER);
  if (client_id == NULL && query != NULL)
    client_id = g_hash_table_lookup (query, "client_id");
  if (client_id != NULL && !valid_client_id (client_id))
    {
      refuse (msg, SOUP_STATUS_BAD_REQUEST,
              "the client id must be 1 to 128 letters, digits or -._~:@");
      return;
    }

  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->token_counts,
                                                 patches_server_auth_token_get_key (token)));
  if (!patches_server_auth_get_allow_all (self->auth) &&
      self->max_connections_per_token > 0 &&
      count >= self->max_connections_per_token)
    {
      g_message ("Refused %s: user %s already has %u connections",
                 soup_server_message_get_remote_host (msg) ?: "?",
                 patches_server_auth_token_get_user (token), count);
      refuse (msg, 429, "too many connections for this token (max-connections-per-token)");
      return;
    }

  /* For the WebSocket handler, which runs once the upgrade is written */
  g_object_set_data_full (G_OBJECT (msg), "patches-server-token",
                          g_steal_pointer (&token), (GDestroyNotify) patches_server_auth_token_unref);
  g_object_set_data_full (G_OBJECT (msg), "patches-server-client-id",
                          g_strdup (client_id), g_free);
}

static void
websocket_cb (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *websocket,
              gpointer                 user_data)
{
  PatchesServer *self = user_data;
  PatchesServerAuthToken *token = g_object_get_data (G_OBJECT (msg), "patches-server-token");
  const char *client_id = g_object_get_data (G_OBJECT (msg), "patches-server-client-id");
  g_autoptr(PatchesWebsocketTransport) transport = NULL;
  g_autoptr(GError) error = NULL;
  PatchesServerConnection *connection;
  GSocket *socket;

  if (token == NULL || self->stopped)
    {
      soup_websocket_connection_close (websocket, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
      return;
    }

  /* Small frames go out at once: no Nagle delay on answers and
   * notifications */
  socket = soup_server_message_get_socket (msg);
  if (socket != NULL &&
      g_socket_get_family (socket) != G_SOCKET_FAMILY_UNIX &&
      !g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, &error))
    g_debug ("TCP_NODELAY: %s", error->message);

  transport = g_object_new (PATCHES_TYPE_WEBSOCKET_TRANSPORT,
                            "connection", websocket,
                            /* Frames up to this size reach the server, which
                             * answers those over max-frame-bytes with a 413;
                             * libsoup closes the connection on larger ones */
                            "max-incoming-payload-size", MAX (self->max_frame_bytes * 2,
                                                              self->max_frame_bytes + 1024 * 1024),
                            "keepalive-interval", self->keepalive_interval,
                            "keepalive-timeout", self->keepalive_timeout,
                            NULL);

  connection = patches_server_accept (self, PATCHES_TRANSPORT (transport),
                                      socket != NULL && g_socket_get_family (socket) != G_SOCKET_FAMILY_UNIX
                                        ? socket : NULL,
                                      token, client_id);
  patches_server_connection_set_peer (connection, soup_server_message_get_remote_host (msg));

  g_debug ("Client %s (%s, user %s) connected",
           patches_server_connection_get_client_id (connection),
           soup_server_message_get_remote_host (msg) ?: "?",
           patches_server_auth_token_get_user (token));
}

/* GObject */

static void
patches_server_dispose (GObject *object)
{
  PatchesServer *self = (PatchesServer *)object;

  patches_server_clear_jobs (self);

  if (self->soup != NULL)
    {
      soup_server_disconnect (self->soup);
      g_clear_object (&self->soup);
    }

  if (self->connections != NULL)
    {
      while (self->connections->len > 0)
        {
          g_autoptr(PatchesServerConnection) connection =
            g_object_ref (g_ptr_array_index (self->connections, self->connections->len - 1));

          patches_server_drop_subscriptions (self, connection);
          g_signal_handlers_disconnect_by_data (connection, self);
          patches_server_connection_close (connection, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
          g_ptr_array_remove_index (self->connections, self->connections->len - 1);
          /* Its peer and it hold each other until it closes, which no
           * main loop may report any more */
          g_object_run_dispose (G_OBJECT (connection));
        }
    }

  G_OBJECT_CLASS (patches_server_parent_class)->dispose (object);
}

static void
patches_server_finalize (GObject *object)
{
  PatchesServer *self = (PatchesServer *)object;

  g_clear_pointer (&self->cache, patches_server_cache_free);
  g_clear_object (&self->store);
  g_clear_object (&self->auth);
  g_clear_pointer (&self->uri, g_free);
  g_clear_pointer (&self->connections, g_ptr_array_unref);
  g_clear_pointer (&self->token_counts, g_hash_table_unref);
  g_clear_pointer (&self->subscribers, g_hash_table_unref);
  g_clear_pointer (&self->delayed, g_ptr_array_unref);
  g_clear_pointer (&self->fanout_index, g_hash_table_unref);
  g_clear_pointer (&self->fanout, g_ptr_array_unref);

  G_OBJECT_CLASS (patches_server_parent_class)->finalize (object);
}

static void
patches_server_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  PatchesServer *self = PATCHES_SERVER (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_AUTH:
      g_value_set_object (value, self->auth);
      break;

    case PROP_MAX_FRAME_BYTES:
      g_value_set_uint64 (value, self->max_frame_bytes);
      break;

    case PROP_MAX_SEND_QUEUE:
      g_value_set_uint64 (value, self->max_send_queue);
      break;

    case PROP_MAX_CHANGES_PER_COMMIT:
      g_value_set_uint (value, self->max_changes_per_commit);
      break;

    case PROP_MAX_OPS_PER_CHANGE:
      g_value_set_uint (value, self->max_ops_per_change);
      break;

    case PROP_MAX_DOCS_PER_SUBSCRIBE:
      g_value_set_uint (value, self->max_docs_per_subscribe);
      break;

    case PROP_MAX_CONNECTIONS_PER_TOKEN:
      g_value_set_uint (value, self->max_connections_per_token);
      break;

    case PROP_KEEPALIVE_INTERVAL:
      g_value_set_uint (value, self->keepalive_interval);
      break;

    case PROP_KEEPALIVE_TIMEOUT:
      g_value_set_uint (value, self->keepalive_timeout);
      break;

    case PROP_N_CONNECTIONS:
      g_value_set_uint (value, patches_server_get_n_connections (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_server_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  PatchesServer *self = PATCHES_SERVER (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      if (self->store != NULL)
        self->cache = patches_server_cache_new (self->store);
      break;

    case PROP_AUTH:
      self->auth = g_value_dup_object (value);
      break;

    case PROP_MAX_FRAME_BYTES:
      patches_server_set_max_frame_bytes (self, g_value_get_uint64 (value));
      break;

    case PROP_MAX_SEND_QUEUE:
      self->max_send_queue = g_value_get_uint64 (value);
      break;

    case PROP_MAX_CHANGES_PER_COMMIT:
      self->max_changes_per_commit = g_value_get_uint (value);
      break;

    case PROP_MAX_OPS_PER_CHANGE:
      self->max_ops_per_change = g_value_get_uint (value);
      break;

    case PROP_MAX_DOCS_PER_SUBSCRIBE:
      self->max_docs_per_subscribe = g_value_get_uint (value);
      break;

    case PROP_MAX_CONNECTIONS_PER_TOKEN:
      self->max_connections_per_token = g_value_get_uint (value);
      break;

    case PROP_KEEPALIVE_INTERVAL:
      self->keepalive_interval = g_value_get_uint (value);
      break;

    case PROP_KEEPALIVE_TIMEOUT:
      self->keepalive_timeout = g_value_get_uint (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_server_class_init (PatchesServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = patches_server_dispose;
  object_class->finalize = patches_server_finalize;
  object_class->get_property = patches_server_get_property;
  object_class->set_property = patches_server_set_property;

  /**
   * PatchesServer:store:
   *
   * The history store.
   */
  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         PATCHES_TYPE_SERVER_STORE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesServer:auth:
   *
   * The tokens the server accepts.
   */
  properties[PROP_AUTH] =
    g_param_spec_object ("auth", NULL, NULL,
                         PATCHES_TYPE_SERVER_AUTH,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesServer:max-frame-bytes:
   *
   * The largest frame a client may send; larger ones get a 413 error.
   * Never below %PATCHES_SERVER_MAX_FRAME_BYTES_MIN.
   */
  properties[PROP_MAX_FRAME_BYTES] =
    g_param_spec_uint64 ("max-frame-bytes", NULL, NULL,
                         PATCHES_SERVER_MAX_FRAME_BYTES_MIN, G_MAXUINT32,
                         PATCHES_SERVER_MAX_FRAME_BYTES_DEFAULT,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesServer:max-send-queue:
   *
   * How many bytes sent to a client may wait unacknowledged before the
   * client is dropped; 0 for no limit.
   */
  properties[PROP_MAX_SEND_QUEUE] =
    g_param_spec_uint64 ("max-send-queue", NULL, NULL,
                         0, G_MAXUINT64, PATCHES_SERVER_CONNECTION_MAX_SEND_QUEUE_DEFAULT,
                         (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesServer:max-changes-per-commit:
   *
   * The most changes one commitChanges may carry (413 beyond).
   */
  properties[PROP_MAX_CHANGES_PER_COMMIT] =
    g_param_spec_uint ("max-changes-per-commit", NULL, NULL,
                       1, G_MAXUINT, PATCHES_SERVER_MAX_CHANGES_PER_COMMIT_DEFAULT,
                       (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesServer:max-ops-per-change:
   *
   * The most ops one change may carry (413 beyond).
   */
  properties[PROP_MAX_OPS_PER_CHANGE] =
    g_param_spec_uint ("max-ops-per-change", NULL, NULL,
                       1, G_MAXUINT, PATCHES_SERVER_MAX_OPS_PER_CHANGE_DEFAULT,
                       (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesServer:max-docs-per-subscribe:
   *
   * The most document ids one subscribe or unsubscribe may carry (413
   * beyond).
   */
  properties[PROP_MAX_DOCS_PER_SUBSCRIBE] =
    g_param_spec_uint ("max-docs-per-subscribe", NULL, NULL,
                       1, G_MAXUINT, PATCHES_SERVER_MAX_DOCS_PER_SUBSCRIBE_DEFAULT,
                       (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesServer:max-connections-per-token:
   *
   * How many connections one token may hold at once (the handshake is
   * refused with 429 beyond); 0 for no limit.  Not applied without
   * authentication.
   */
  properties[PROP_MAX_CONNECTIONS_PER_TOKEN] =
    g_param_spec_uint ("max-connections-per-token", NULL, NULL,
                       0, G_MAXUINT, PATCHES_SERVER_MAX_CONNECTIONS_PER_TOKEN_DEFAULT,
                       (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesServer:keepalive-interval:
   *
   * Seconds between the WebSocket pings sent to every client; 0 for
   * none.
   */
  properties[PROP_KEEPALIVE_INTERVAL] =
    g_param_spec_uint ("keepalive-interval", NULL, NULL,
                       0, 3600, PATCHES_SERVER_KEEPALIVE_INTERVAL_DEFAULT,
                       (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesServer:keepalive-timeout:
   *
   * A client silent for #PatchesServer:keepalive-interval plus this many
   * seconds is disconnected.
   */
  properties[PROP_KEEPALIVE_TIMEOUT] =
    g_param_spec_uint ("keepalive-timeout", NULL, NULL,
                       0, 3600, PATCHES_SERVER_KEEPALIVE_TIMEOUT_DEFAULT,
                       (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesServer:n-connections:
   *
   * How many clients are connected.
   */
  properties[PROP_N_CONNECTIONS] =
    g_param_spec_uint ("n-connections", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
patches_server_init (PatchesServer *self)
{
  self->connections = g_ptr_array_new_with_free_func (g_object_unref);
  self->token_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->subscribers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) g_ptr_array_unref);
  self->delayed = g_ptr_array_new ();
  g_queue_init (&self->jobs);

  patches_commit_config_init (&self->config);
  self->max_frame_bytes = PATCHES_SERVER_MAX_FRAME_BYTES_DEFAULT;
  self->max_send_queue = PATCHES_SERVER_CONNECTION_MAX_SEND_QUEUE_DEFAULT;
  self->max_changes_per_commit = PATCHES_SERVER_MAX_CHANGES_PER_COMMIT_DEFAULT;
  self->max_ops_per_change = PATCHES_SERVER_MAX_OPS_PER_CHANGE_DEFAULT;
  self->max_docs_per_subscribe = PATCHES_SERVER_MAX_DOCS_PER_SUBSCRIBE_DEFAULT;
  self->max_connections_per_token = PATCHES_SERVER_MAX_CONNECTIONS_PER_TOKEN_DEFAULT;
  self->keepalive_interval = PATCHES_SERVER_KEEPALIVE_INTERVAL_DEFAULT;
  self->keepalive_timeout = PATCHES_SERVER_KEEPALIVE_TIMEOUT_DEFAULT;
}

/* Public API */

/**
 * patches_server_new:
 * @store: the history store
 * @auth: the tokens to accept
 *
 * Returns: (transfer full): a new #PatchesServer, not listening yet
 */
PatchesServer *
patches_server_new (PatchesServerStore *store,
                    PatchesServerAuth  *auth)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (store), NULL);
  g_return_val_if_fail (PATCHES_IS_SERVER_AUTH (auth), NULL);

  return g_object_new (PATCHES_TYPE_SERVER,
                       "store", store,
                       "auth", auth,
                       NULL);
}

/**
 * patches_server_get_store:
 * @self: a #PatchesServer
 *
 * Returns: (transfer none): the history store
 */
PatchesServerStore *
patches_server_get_store (PatchesServer *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER (self), NULL);

  return self->store;
}

/**
 * patches_server_get_auth:
 * @self: a #PatchesServer
 *
 * Returns: (transfer none): the accepted tokens
 */
PatchesServerAuth *
patches_server_get_auth (PatchesServer *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER (self), NULL);

  return self->auth;
}

static gboolean
split_address (const char  *address,
               char       **host,
               guint16     *port,
               GError     **error)
{
  const char *colon;
  guint64 value;

  if (address[0] == '[')
    {
      const char *close = strchr (address, ']');

      if (close == NULL || close[1] != ':')
        goto invalid;
      *host = g_strndup (address + 1, close - address - 1);
      colon = close + 1;
    }
  else
    {
      colon = strrchr (address, ':');
      if (colon == NULL || colon == address)
        goto invalid;
      *host = g_strndup (address, colon - address);
    }

  if (!g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &value, NULL))
    {
      g_clear_pointer (host, g_free);
      goto invalid;
    }

  *port = (guint16) value;
  return TRUE;

invalid:
  g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_CONFIG,
               "“%s” is not ADDRESS:PORT (an IPv6 address goes in brackets: [::1]:8080)", address);
  return FALSE;
}

/**
 * patches_server_listen:
 * @self: a #PatchesServer
 * @address: `HOST:PORT` (`[V6ADDR]:PORT` for IPv6); port 0 picks a free
 *   one, and a host name listens on every address it resolves to
 * @require_loopback: refuse any address that is not a loopback address
 *   (for a server without authentication)
 * @error: return location for a #GError
 *
 * Starts listening.  patches_server_get_uri() then gives the address to
 * dial.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_server_listen (PatchesServer  *self,
                       const char     *address,
                       gboolean        require_loopback,
                       GError        **error)
{
  g_autofree char *host = NULL;
  g_autolist(GInetAddress) addresses = NULL;
  GInetAddress *literal;
  guint16 port;

  g_return_val_if_fail (PATCHES_IS_SERVER (self), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);
  g_return_val_if_fail (self->uri == NULL, FALSE);

  if (!split_address (address, &host, &port, error))
    return FALSE;

  if ((literal = g_inet_address_new_from_string (host)) != NULL)
    addresses = g_list_prepend (NULL, literal);
  else if (!(addresses = g_resolver_lookup_by_name (g_resolver_get_default (), host, NULL, error)))
    return FALSE;

  for (const GList *l = addresses; l != NULL; l = l->next)
    if (require_loopback && !g_inet_address_get_is_loopback (l->data))
      {
        g_autofree char *text = g_inet_address_to_string (l->data);

        g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_CONFIG,
                     "--no-auth is accepted only on a loopback address, and %s is not one", text);
        return FALSE;
      }

  if (self->soup == NULL)
    {
      self->soup = soup_server_new ("server-header", "patches-server ", NULL);
      soup_server_remove_websocket_extension (self->soup, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
      soup_server_add_handler (self->soup, NULL, server_handler_cb, self, NULL);
      soup_server_add_websocket_handler (self->soup, NULL, NULL, subprotocols, websocket_cb, self, NULL);
    }

  for (const GList *l = addresses; l != NULL; l = l->next)
    {
      g_autoptr(GSocketAddress) socket_address = g_inet_socket_address_new (l->data, port);

      if (!soup_server_listen (self->soup, socket_address, 0, error))
        return FALSE;

      if (port == 0)
        {
          /* Every other address on the port the first one got */
          g_autoptr(GSList) listeners = soup_server_get_listeners (self->soup);
          g_autoptr(GSocketAddress) local = g_socket_get_local_address (g_slist_last (listeners)->data, error);

          if (local == NULL)
            return FALSE;
          port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
        }
    }

  if (strchr (host, ':') != NULL)
    self->uri = g_strdup_printf ("ws://[%s]:%u", host, port);
  else
    self->uri = g_strdup_printf ("ws://%s:%u", host, port);

  return TRUE;
}

/**
 * patches_server_get_uri:
 * @self: a #PatchesServer
 *
 * Returns: (transfer full) (nullable): `ws://HOST:PORT` once listening
 */
char *
patches_server_get_uri (PatchesServer *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER (self), NULL);

  return g_strdup (self->uri);
}

/**
 * patches_server_get_soup_server:
 * @self: a #PatchesServer
 *
 * Returns: (transfer none) (nullable): the HTTP server, once listening
 */
SoupServer *
patches_server_get_soup_server (PatchesServer *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER (self), NULL);

  return self->soup;
}

/**
 * patches_server_get_n_connections:
 * @self: a #PatchesServer
 *
 * Returns: how many clients are connected
 */
guint
patches_server_get_n_connections (PatchesServer *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER (self), 0);

  return self->connections->len;
}

/**
 * patches_server_stop:
 * @self: a #PatchesServer
 *
 * Shuts down cleanly: stops listening, runs and answers every queued
 * write (each is committed or rolled back whole, never half), then closes
 * every connection with 1001.  #PatchesServer:n-connections drops to 0 as
 * the close handshakes finish.
 */
void
patches_server_stop (PatchesServer *self)
{
  g_autoptr(GPtrArray) connections = NULL;

  g_return_if_fail (PATCHES_IS_SERVER (self));

  if (self->stopped)
    return;
  self->stopped = TRUE;

  if (self->soup != NULL)
    soup_server_disconnect (self->soup);

  patches_server_flush (self);
  patches_server_clear_jobs (self);

  g_debug ("%" G_GUINT64_FORMAT " writes in %" G_GUINT64_FORMAT " transactions",
           self->n_jobs, self->n_transactions);

  connections = g_ptr_array_new_full (self->connections->len, g_object_unref);
  for (guint i = 0; i < self->connections->len; i++)
    g_ptr_array_add (connections, g_object_ref (g_ptr_array_index (self->connections, i)));
  for (guint i = 0; i < connections->len; i++)
    patches_server_connection_close (g_ptr_array_index (connections, i),
                                     SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server shutting down");
}

/**
 * patches_server_is_stopped:
 * @self: a #PatchesServer
 *
 * Returns: whether patches_server_stop() was called
 */
gboolean
patches_server_is_stopped (PatchesServer *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER (self), TRUE);

  return self->stopped;
}

/**
 * patches_server_get_max_frame_bytes:
 * @self: a #PatchesServer
 *
 * Returns: the frame limit in bytes
 */
guint64
patches_server_get_max_frame_bytes (PatchesServer *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER (self), 0);

  return self->max_frame_bytes;
}

/**
 * patches_server_set_max_frame_bytes:
 * @self: a #PatchesServer
 * @max_bytes: the frame limit, at least %PATCHES_SERVER_MAX_FRAME_BYTES_MIN
 *
 * Sets #PatchesServer:max-frame-bytes for the connections accepted from
 * now on.
 */
void
patches_server_set_max_frame_bytes (PatchesServer *self,
                                    guint64        max_bytes)
{
  g_return_if_fail (PATCHES_IS_SERVER (self));
  g_return_if_fail (max_bytes >= PATCHES_SERVER_MAX_FRAME_BYTES_MIN);

  if (self->max_frame_bytes == max_bytes)
    return;

  self->max_frame_bytes = max_bytes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_FRAME_BYTES]);
}
