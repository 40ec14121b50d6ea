/* patches-transport.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-transport.h"

/**
 * PatchesTransport:
 *
 * A bidirectional message pipe: the minimum #PatchesRpc needs from a
 * WebSocket.  #PatchesWebsocketTransport is the implementation over
 * libsoup; tests may provide others.
 *
 * Frames are text (one JSON-RPC message each, PROTOCOL.md §2.2).  A binary
 * frame is never valid in this protocol, but it is reported through
 * #PatchesTransport::binary so that the layer above can answer it as the
 * protocol error it is.
 */

enum {
  MESSAGE,
  BINARY,
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_ENUM_TYPE (PatchesTransportState, patches_transport_state,
                    G_DEFINE_ENUM_VALUE (PATCHES_TRANSPORT_STATE_OPEN, "open"),
                    G_DEFINE_ENUM_VALUE (PATCHES_TRANSPORT_STATE_CLOSING, "closing"),
                    G_DEFINE_ENUM_VALUE (PATCHES_TRANSPORT_STATE_CLOSED, "closed"))

G_DEFINE_INTERFACE (PatchesTransport, patches_transport, G_TYPE_OBJECT)

static void
patches_transport_default_init (PatchesTransportInterface *iface)
{
  /**
   * PatchesTransport:state:
   *
   * The #PatchesTransportState.  Notified on every change.
   */
  g_object_interface_install_property (iface,
                                       g_param_spec_enum ("state", NULL, NULL,
                                                          PATCHES_TYPE_TRANSPORT_STATE,
                                                          PATCHES_TRANSPORT_STATE_OPEN,
                                                          (G_PARAM_READABLE |
                                                           G_PARAM_EXPLICIT_NOTIFY |
                                                           G_PARAM_STATIC_STRINGS)));

  /**
   * PatchesTransport::message:
   * @self: a #PatchesTransport
   * @text: the UTF-8 payload of one text frame (not nul-terminated in
   *   general; use its size)
   *
   * Emitted for every text frame received.
   */
  signals[MESSAGE] =
    g_signal_new ("message",
                  G_TYPE_FROM_INTERFACE (iface),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  g_cclosure_marshal_VOID__BOXED,
                  G_TYPE_NONE, 1, G_TYPE_BYTES | G_SIGNAL_TYPE_STATIC_SCOPE);
  /* Every frame goes through here: no libffi on the way */
  g_signal_set_va_marshaller (signals[MESSAGE], G_TYPE_FROM_INTERFACE (iface),
                              g_cclosure_marshal_VOID__BOXEDv);

  /**
   * PatchesTransport::binary:
   * @self: a #PatchesTransport
   * @data: the payload of one binary frame
   *
   * Emitted for every binary frame received.  The protocol has none
   * (PROTOCOL.md §2.2): receivers treat one as an unparseable frame.
   */
  signals[BINARY] =
    g_signal_new ("binary",
                  G_TYPE_FROM_INTERFACE (iface),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  g_cclosure_marshal_VOID__BOXED,
                  G_TYPE_NONE, 1, G_TYPE_BYTES | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * PatchesTransport::closed:
   * @self: a #PatchesTransport
   * @code: the WebSocket close code (1005 when none was received, 1006 for
   *   a connection that was lost without a close frame)
   * @reason: (nullable): the close reason, if any
   *
   * Emitted exactly once, when the transport is closed for good, whoever
   * closed it and however.  Nothing is emitted after it.
   */
  signals[CLOSED] =
    g_signal_new ("closed",
                  G_TYPE_FROM_INTERFACE (iface),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_STRING);
}

/**
 * patches_transport_send_text:
 * @self: a #PatchesTransport
 * @text: a nul-terminated UTF-8 string
 *
 * Queues @text as one text frame.  Nothing is sent unless the transport
 * is %PATCHES_TRANSPORT_STATE_OPEN.
 */
void
patches_transport_send_text (PatchesTransport *self,
                             const char       *text)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_if_fail (PATCHES_IS_TRANSPORT (self));
  g_return_if_fail (text != NULL);

  bytes = g_bytes_new (text, strlen (text));
  patches_transport_send_bytes (self, bytes);
}

/**
 * patches_transport_send_bytes:
 * @self: a #PatchesTransport
 * @text: the UTF-8 payload of a text frame
 *
 * Queues @text as one text frame, without copying it first when the
 * implementation allows.  Nothing is sent unless the transport is
 * %PATCHES_TRANSPORT_STATE_OPEN.
 */
void
patches_transport_send_bytes (PatchesTransport *self,
                              GBytes           *text)
{
  g_return_if_fail (PATCHES_IS_TRANSPORT (self));
  g_return_if_fail (text != NULL);

  PATCHES_TRANSPORT_GET_IFACE (self)->send_bytes (self, text);
}

/**
 * patches_transport_close:
 * @self: a #PatchesTransport
 * @code: a WebSocket close code, such as 1000 (normal) or 1001 (going away)
 * @reason: (nullable): a short reason
 *
 * Starts closing the transport.  #PatchesTransport::closed follows once
 * it is closed.  Does nothing when already closing or closed.
 */
void
patches_transport_close (PatchesTransport *self,
                         gushort           code,
                         const char       *reason)
{
  g_return_if_fail (PATCHES_IS_TRANSPORT (self));

  PATCHES_TRANSPORT_GET_IFACE (self)->close (self, code, reason);
}

/**
 * patches_transport_get_state:
 * @self: a #PatchesTransport
 *
 * Returns: the current #PatchesTransportState
 */
PatchesTransportState
patches_transport_get_state (PatchesTransport *self)
{
  g_return_val_if_fail (PATCHES_IS_TRANSPORT (self), PATCHES_TRANSPORT_STATE_CLOSED);

  return PATCHES_TRANSPORT_GET_IFACE (self)->get_state (self);
}

/**
 * patches_transport_emit_message:
 * @self: a #PatchesTransport
 * @text: the payload of a text frame
 *
 * Emits #PatchesTransport::message.  For implementations.
 */
void
patches_transport_emit_message (PatchesTransport *self,
                                GBytes           *text)
{
  g_return_if_fail (PATCHES_IS_TRANSPORT (self));
  g_return_if_fail (text != NULL);

  g_signal_emit (self, signals[MESSAGE], 0, text);
}

/**
 * patches_transport_emit_binary:
 * @self: a #PatchesTransport
 * @data: the payload of a binary frame
 *
 * Emits #PatchesTransport::binary.  For implementations.
 */
void
patches_transport_emit_binary (PatchesTransport *self,
                               GBytes           *data)
{
  g_return_if_fail (PATCHES_IS_TRANSPORT (self));
  g_return_if_fail (data != NULL);

  g_signal_emit (self, signals[BINARY], 0, data);
}

/**
 * patches_transport_emit_closed:
 * @self: a #PatchesTransport
 * @code: the close code
 * @reason: (nullable): the close reason
 *
 * Emits #PatchesTransport::closed.  For implementations, which call it
 * once.
 */
void
patches_transport_emit_closed (PatchesTransport *self,
                               gushort           code,
                               const char       *reason)
{
  g_return_if_fail (PATCHES_IS_TRANSPORT (self));

  g_signal_emit (self, signals[CLOSED], 0, (guint) code, reason);
}
