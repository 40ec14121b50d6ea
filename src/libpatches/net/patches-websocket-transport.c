/* patches-websocket-transport.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "patches-websocket-transport.h"

/**
 * PatchesWebsocketTransport:
 *
 * A #PatchesTransport over a #SoupWebsocketConnection, on either side: the
 * client wraps what soup_session_websocket_connect_finish() returns, the
 * server what its #SoupServerWebsocketCallback receives.
 *
 * It raises the connection's incoming payload limit (libsoup's default of
 * 128 KiB is far below the 1 MB commit batches clients send,
 * PROTOCOL.md §2.4) and can ping the peer: with
 * #PatchesWebsocketTransport:keepalive-interval set, libsoup sends a ping
 * every that many seconds, and when neither a pong nor any frame has
 * arrived for the interval plus #PatchesWebsocketTransport:keepalive-timeout
 * seconds the connection counts as lost: #PatchesTransport::closed is
 * emitted at once with code 1006 and the connection is closed.  (libsoup
 * 3.2 has no pong timeout of its own; it arrived in 3.6.)
 *
 * The transport owns the connection: disposing it closes the connection.
 */

struct _PatchesWebsocketTransport
{
  GObject                  parent_instance;

  SoupWebsocketConnection *connection;
  GSource                 *keepalive_source;
  GSource                 *closed_idle;

  char                    *error_reason;

  guint64                  max_incoming_payload_size;
  gint64                   last_activity;
  guint                    keepalive_interval;
  guint                    keepalive_timeout;
  gushort                  error_code;
  PatchesTransportState    state;

  guint                    closed_emitted : 1;
};

enum {
  PROP_0,
  PROP_CONNECTION,
  PROP_MAX_INCOMING_PAYLOAD_SIZE,
  PROP_KEEPALIVE_INTERVAL,
  PROP_KEEPALIVE_TIMEOUT,
  N_PROPS,

  /* Overridden from PatchesTransport */
  PROP_STATE = N_PROPS,
};

static void transport_iface_init (PatchesTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PatchesWebsocketTransport, patches_websocket_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (PATCHES_TYPE_TRANSPORT, transport_iface_init))

static GParamSpec *properties[N_PROPS];

static void
set_state (PatchesWebsocketTransport *self,
           PatchesTransportState      state)
{
  if (self->state == state)
    return;

  self->state = state;
  g_object_notify (G_OBJECT (self), "state");
}

static void
keepalive_stop (PatchesWebsocketTransport *self)
{
  if (self->keepalive_source != NULL)
    {
      g_source_destroy (self->keepalive_source);
      g_clear_pointer (&self->keepalive_source, g_source_unref);
    }
}

/* Emits PatchesTransport::closed, once. */
static void
finish_closed (PatchesWebsocketTransport *self,
               gushort                    code,
               const char                *reason)
{
  if (self->closed_emitted)
    return;

  g_object_ref (self);
  self->closed_emitted = TRUE;
  keepalive_stop (self);
  if (self->closed_idle != NULL)
    {
      g_source_destroy (self->closed_idle);
      g_clear_pointer (&self->closed_idle, g_source_unref);
    }

  set_state (self, PATCHES_TRANSPORT_STATE_CLOSED);
  patches_transport_emit_closed (PATCHES_TRANSPORT (self), code, reason);
  g_object_unref (self);
}

static gboolean
keepalive_source_dispatch (GSource     *source,
                           GSourceFunc  callback,
                           gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs keepalive_source_funcs = {
  .dispatch = keepalive_source_dispatch,
};

static gint64
keepalive_deadline (PatchesWebsocketTransport *self)
{
  return self->last_activity
         + ((gint64) self->keepalive_interval + self->keepalive_timeout) * G_USEC_PER_SEC;
}

static gboolean
keepalive_check_cb (gpointer user_data)
{
  PatchesWebsocketTransport *self = user_data;
  gint64 deadline = keepalive_deadline (self);

  /* Activity since the source was armed moved the deadline: re-arm.  The
   * source is only touched here, never on every frame. */
  if (g_get_monotonic_time () < deadline)
    {
      g_source_set_ready_time (self->keepalive_source, deadline);
      return G_SOURCE_CONTINUE;
    }

  g_debug ("WebSocket peer silent for %u s after a ping: connection lost",
           self->keepalive_interval + self->keepalive_timeout);

  g_clear_pointer (&self->keepalive_source, g_source_unref);

  /* Report the loss now: a close handshake with a dead peer would wait for
   * libsoup's own close timeout first. */
  g_object_ref (self);
  finish_closed (self, SOUP_WEBSOCKET_CLOSE_ABNORMAL, "keepalive timeout");
  if (soup_websocket_connection_get_state (self->connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (self->connection,
                                     SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
                                     "keepalive timeout");
  g_object_unref (self);

  return G_SOURCE_REMOVE;
}

static void
keepalive_apply (PatchesWebsocketTransport *self)
{
  if (self->connection == NULL)
    return;

  if (self->state != PATCHES_TRANSPORT_STATE_OPEN)
    {
      keepalive_stop (self);
      return;
    }

  soup_websocket_connection_set_keepalive_interval (self->connection, self->keepalive_interval);

  if (self->keepalive_interval == 0 || self->keepalive_timeout == 0)
    {
      keepalive_stop (self);
      return;
    }

  self->last_activity = g_get_monotonic_time ();

  if (self->keepalive_source == NULL)
    {
      self->keepalive_source = g_source_new (&keepalive_source_funcs, sizeof (GSource));
      g_source_set_static_name (self->keepalive_source, "[patches] websocket keepalive");
      g_source_set_callback (self->keepalive_source, keepalive_check_cb, self, NULL);
      g_source_attach (self->keepalive_source, g_main_context_get_thread_default ());
    }

  g_source_set_ready_time (self->keepalive_source, keepalive_deadline (self));
}

static void
on_connection_message (PatchesWebsocketTransport *self,
                       SoupWebsocketDataType      type,
                       GBytes                    *message,
                       SoupWebsocketConnection   *connection)
{
  if (self->closed_emitted)
    return;

  self->last_activity = g_get_monotonic_time ();

  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    patches_transport_emit_message (PATCHES_TRANSPORT (self), message);
  else
    patches_transport_emit_binary (PATCHES_TRANSPORT (self), message);
}

static void
on_connection_pong (PatchesWebsocketTransport *self,
                    GBytes                    *message,
                    SoupWebsocketConnection   *connection)
{
  self->last_activity = g_get_monotonic_time ();
}

static void
on_connection_closing (PatchesWebsocketTransport *self,
                       SoupWebsocketConnection   *connection)
{
  keepalive_stop (self);
  if (self->state == PATCHES_TRANSPORT_STATE_OPEN)
    set_state (self, PATCHES_TRANSPORT_STATE_CLOSING);
}

static void
on_connection_error (PatchesWebsocketTransport *self,
                     const GError              *error,
                     SoupWebsocketConnection   *connection)
{
  g_debug ("WebSocket error: %s", error->message);

  /* libsoup closes without a handshake on some errors (a frame over the
   * payload limit): remember why, for ::closed */
  if (error->domain == SOUP_WEBSOCKET_ERROR && self->error_code == 0)
    {
      self->error_code = error->code;
      g_free (self->error_reason);
      self->error_reason = g_strdup (error->message);
    }
}

static void
on_connection_closed (PatchesWebsocketTransport *self,
                      SoupWebsocketConnection   *connection)
{
  gushort code = soup_websocket_connection_get_close_code (connection);
  const char *reason = soup_websocket_connection_get_close_data (connection);

  if (code == 0 && self->error_code != 0)
    {
      code = self->error_code;
      reason = self->error_reason;
    }

  finish_closed (self, code != 0 ? code : SOUP_WEBSOCKET_CLOSE_ABNORMAL, reason);
}

static gboolean
closed_idle_cb (gpointer user_data)
{
  PatchesWebsocketTransport *self = user_data;

  g_clear_pointer (&self->closed_idle, g_source_unref);
  on_connection_closed (self, self->connection);

  return G_SOURCE_REMOVE;
}

static void
patches_websocket_transport_send_bytes (PatchesTransport *transport,
                                        GBytes           *text)
{
  PatchesWebsocketTransport *self = PATCHES_WEBSOCKET_TRANSPORT (transport);

  if (self->state != PATCHES_TRANSPORT_STATE_OPEN)
    {
      g_debug ("Dropping a frame of %" G_GSIZE_FORMAT " bytes: transport not open",
               g_bytes_get_size (text));
      return;
    }

  soup_websocket_connection_send_message (self->connection, SOUP_WEBSOCKET_DATA_TEXT, text);
}

static void
patches_websocket_transport_close (PatchesTransport *transport,
                                   gushort           code,
                                   const char       *reason)
{
  PatchesWebsocketTransport *self = PATCHES_WEBSOCKET_TRANSPORT (transport);

  if (self->state != PATCHES_TRANSPORT_STATE_OPEN)
    return;

  set_state (self, PATCHES_TRANSPORT_STATE_CLOSING);
  keepalive_stop (self);
  soup_websocket_connection_close (self->connection, code, reason);
}

static PatchesTransportState
patches_websocket_transport_get_state (PatchesTransport *transport)
{
  return PATCHES_WEBSOCKET_TRANSPORT (transport)->state;
}

static void
transport_iface_init (PatchesTransportInterface *iface)
{
  iface->send_bytes = patches_websocket_transport_send_bytes;
  iface->close = patches_websocket_transport_close;
  iface->get_state = patches_websocket_transport_get_state;
}

static void
patches_websocket_transport_constructed (GObject *object)
{
  PatchesWebsocketTransport *self = (PatchesWebsocketTransport *)object;

  G_OBJECT_CLASS (patches_websocket_transport_parent_class)->constructed (object);

  g_return_if_fail (SOUP_IS_WEBSOCKET_CONNECTION (self->connection));

  soup_websocket_connection_set_max_incoming_payload_size (self->connection,
                                                           self->max_incoming_payload_size);

  g_signal_connect_object (self->connection, "message",
                           G_CALLBACK (on_connection_message), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->connection, "pong",
                           G_CALLBACK (on_connection_pong), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->connection, "closing",
                           G_CALLBACK (on_connection_closing), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->connection, "error",
                           G_CALLBACK (on_connection_error), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->connection, "closed",
                           G_CALLBACK (on_connection_closed), self, G_CONNECT_SWAPPED);

  switch (soup_websocket_connection_get_state (self->connection))
    {
    case SOUP_WEBSOCKET_STATE_OPEN:
      self->state = PATCHES_TRANSPORT_STATE_OPEN;
      break;

    case SOUP_WEBSOCKET_STATE_CLOSING:
      self->state = PATCHES_TRANSPORT_STATE_CLOSING;
      break;

    case SOUP_WEBSOCKET_STATE_CLOSED:
    default:
      /* Nobody could have connected to ::closed yet: emit it later. */
      self->state = PATCHES_TRANSPORT_STATE_CLOSING;
      self->closed_idle = g_idle_source_new ();
      g_source_set_static_name (self->closed_idle, "[patches] websocket closed");
      g_source_set_callback (self->closed_idle, closed_idle_cb, self, NULL);
      g_source_attach (self->closed_idle, g_main_context_get_thread_default ());
      break;
    }

  keepalive_apply (self);
}

static void
patches_websocket_transport_dispose (GObject *object)
{
  PatchesWebsocketTransport *self = (PatchesWebsocketTransport *)object;

  keepalive_stop (self);

  if (self->closed_idle != NULL)
    {
      g_source_destroy (self->closed_idle);
      g_clear_pointer (&self->closed_idle, g_source_unref);
    }

  if (self->connection != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->connection, self);
      if (soup_websocket_connection_get_state (self->connection) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
      g_clear_object (&self->connection);
    }

  G_OBJECT_CLASS (patches_websocket_transport_parent_class)->dispose (object);
}

static void
patches_websocket_transport_finalize (GObject *object)
{
  PatchesWebsocketTransport *self = (PatchesWebsocketTransport *)object;

  g_clear_pointer (&self->error_reason, g_free);

  G_OBJECT_CLASS (patches_websocket_transport_parent_class)->finalize (object);
}

static void
patches_websocket_transport_get_property (GObject    *object,
                                          guint       prop_id,
                                          GValue     *value,
                                          GParamSpec *pspec)
{
  PatchesWebsocketTransport *self = PATCHES_WEBSOCKET_TRANSPORT (object);

  switch (prop_id)
    {
    case PROP_CONNECTION:
      g_value_set_object (value, self->connection);
      break;

    case PROP_MAX_INCOMING_PAYLOAD_SIZE:
      g_value_set_uint64 (value, self->max_incoming_payload_size);
      break;

    case PROP_KEEPALIVE_INTERVAL:
      g_value_set_uint (value, self->keepalive_interval);
      break;

    case PROP_KEEPALIVE_TIMEOUT:
      g_value_set_uint (value, self->keepalive_timeout);
      break;

    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_websocket_transport_set_property (GObject      *object,
                                          guint         prop_id,
                                          const GValue *value,
                                          GParamSpec   *pspec)
{
  PatchesWebsocketTransport *self = PATCHES_WEBSOCKET_TRANSPORT (object);

  switch (prop_id)
    {
    case PROP_CONNECTION:
      self->connection = g_value_dup_object (value);
      break;

    case PROP_MAX_INCOMING_PAYLOAD_SIZE:
      self->max_incoming_payload_size = g_value_get_uint64 (value);
      break;

    case PROP_KEEPALIVE_INTERVAL:
      patches_websocket_transport_set_keepalive_interval (self, g_value_get_uint (value));
      break;

    case PROP_KEEPALIVE_TIMEOUT:
      patches_websocket_transport_set_keepalive_timeout (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_websocket_transport_class_init (PatchesWebsocketTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = patches_websocket_transport_constructed;
  object_class->dispose = patches_websocket_transport_dispose;
  object_class->finalize = patches_websocket_transport_finalize;
  object_class->get_property = patches_websocket_transport_get_property;
  object_class->set_property = patches_websocket_transport_set_property;

  /**
   * PatchesWebsocketTransport:connection:
   *
   * The open #SoupWebsocketConnection, client or server side.
   */
  properties[PROP_CONNECTION] =
    g_param_spec_object ("connection", NULL, NULL,
                         SOUP_TYPE_WEBSOCKET_CONNECTION,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesWebsocketTransport:max-incoming-payload-size:
   *
   * The largest frame accepted, in bytes; 0 for no limit.  A larger frame
   * makes libsoup close the connection (1009).  Set on the connection at
   * construction.
   */
  properties[PROP_MAX_INCOMING_PAYLOAD_SIZE] =
    g_param_spec_uint64 ("max-incoming-payload-size", NULL, NULL,
                         0, G_MAXUINT64, PATCHES_WEBSOCKET_MAX_INCOMING_PAYLOAD_SIZE_DEFAULT,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesWebsocketTransport:keepalive-interval:
   *
   * Seconds between WebSocket pings sent to the peer; 0 (the default)
   * sends none.
   */
  properties[PROP_KEEPALIVE_INTERVAL] =
    g_param_spec_uint ("keepalive-interval", NULL, NULL,
                       0, G_MAXUINT / 2, 0,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * PatchesWebsocketTransport:keepalive-timeout:
   *
   * With pings on, the connection counts as lost when nothing (no pong,
   * no frame) arrived for #PatchesWebsocketTransport:keepalive-interval
   * plus this many seconds.  0 only pings, never declares a loss.
   */
  properties[PROP_KEEPALIVE_TIMEOUT] =
    g_param_spec_uint ("keepalive-timeout", NULL, NULL,
                       0, G_MAXUINT / 2, PATCHES_WEBSOCKET_KEEPALIVE_TIMEOUT_DEFAULT,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_object_class_override_property (object_class, PROP_STATE, "state");
}

static void
patches_websocket_transport_init (PatchesWebsocketTransport *self)
{
  self->max_incoming_payload_size = PATCHES_WEBSOCKET_MAX_INCOMING_PAYLOAD_SIZE_DEFAULT;
  self->keepalive_timeout = PATCHES_WEBSOCKET_KEEPALIVE_TIMEOUT_DEFAULT;
  self->state = PATCHES_TRANSPORT_STATE_OPEN;
}

/**
 * patches_websocket_transport_new:
 * @connection: an open #SoupWebsocketConnection
 *
 * Wraps @connection with the default payload limit and no keepalive.  Use
 * g_object_new() to set #PatchesWebsocketTransport:max-incoming-payload-size
 * or the keepalive at construction.
 *
 * Returns: (transfer full): a new #PatchesWebsocketTransport
 */
PatchesWebsocketTransport *
patches_websocket_transport_new (SoupWebsocketConnection *connection)
{
  g_return_val_if_fail (SOUP_IS_WEBSOCKET_CONNECTION (connection), NULL);

  return g_object_new (PATCHES_TYPE_WEBSOCKET_TRANSPORT,
                       "connection", connection,
                       NULL);
}

/**
 * patches_websocket_transport_get_connection:
 * @self: a #PatchesWebsocketTransport
 *
 * Returns: (transfer none): the wrapped connection
 */
SoupWebsocketConnection *
patches_websocket_transport_get_connection (PatchesWebsocketTransport *self)
{
  g_return_val_if_fail (PATCHES_IS_WEBSOCKET_TRANSPORT (self), NULL);

  return self->connection;
}

/**
 * patches_websocket_transport_get_max_incoming_payload_size:
 * @self: a #PatchesWebsocketTransport
 *
 * Returns: the largest frame accepted, in bytes (0: no limit)
 */
guint64
patches_websocket_transport_get_max_incoming_payload_size (PatchesWebsocketTransport *self)
{
  g_return_val_if_fail (PATCHES_IS_WEBSOCKET_TRANSPORT (self), 0);

  return self->max_incoming_payload_size;
}

/**
 * patches_websocket_transport_get_keepalive_interval:
 * @self: a #PatchesWebsocketTransport
 *
 * Returns: seconds between pings, 0 when off
 */
guint
patches_websocket_transport_get_keepalive_interval (PatchesWebsocketTransport *self)
{
  g_return_val_if_fail (PATCHES_IS_WEBSOCKET_TRANSPORT (self), 0);

  return self->keepalive_interval;
}

/**
 * patches_websocket_transport_set_keepalive_interval:
 * @self: a #PatchesWebsocketTransport
 * @interval: seconds between pings, 0 for none
 *
 * Sets #PatchesWebsocketTransport:keepalive-interval.
 */
void
patches_websocket_transport_set_keepalive_interval (PatchesWebsocketTransport *self,
                                                    guint                      interval)
{
  g_return_if_fail (PATCHES_IS_WEBSOCKET_TRANSPORT (self));

  if (self->keepalive_interval == interval)
    return;

  self->keepalive_interval = interval;
  keepalive_apply (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEEPALIVE_INTERVAL]);
}

/**
 * patches_websocket_transport_get_keepalive_timeout:
 * @self: a #PatchesWebsocketTransport
 *
 * Returns: the grace period after a ping, in seconds
 */
guint
patches_websocket_transport_get_keepalive_timeout (PatchesWebsocketTransport *self)
{
  g_return_val_if_fail (PATCHES_IS_WEBSOCKET_TRANSPORT (self), 0);

  return self->keepalive_timeout;
}

/**
 * patches_websocket_transport_set_keepalive_timeout:
 * @self: a #PatchesWebsocketTransport
 * @timeout: seconds of silence after a ping before the connection counts
 *   as lost; 0 to never declare it lost
 *
 * Sets #PatchesWebsocketTransport:keepalive-timeout.
 */
void
patches_websocket_transport_set_keepalive_timeout (PatchesWebsocketTransport *self,
                                                   guint                      timeout)
{
  g_return_if_fail (PATCHES_IS_WEBSOCKET_TRANSPORT (self));

  if (self->keepalive_timeout == timeout)
    return;

  self->keepalive_timeout = timeout;
  keepalive_apply (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEEPALIVE_TIMEOUT]);
}
