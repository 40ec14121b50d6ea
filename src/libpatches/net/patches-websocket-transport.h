/* patches-websocket-transport.h
 *
 * PatchesTransport over a libsoup WebSocket, client or server side.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "patches-transport.h"

G_BEGIN_DECLS

/**
 * PATCHES_WEBSOCKET_MAX_INCOMING_PAYLOAD_SIZE_DEFAULT:
 *
 * Default of #PatchesWebsocketTransport:max-incoming-payload-size: 16 MiB,
 * far above the 1 MB commit batches clients send (PROTOCOL.md §2.4) and
 * libsoup's own 128 KiB.
 */
#define PATCHES_WEBSOCKET_MAX_INCOMING_PAYLOAD_SIZE_DEFAULT (G_GUINT64_CONSTANT (16) * 1024 * 1024)

/**
 * PATCHES_WEBSOCKET_KEEPALIVE_TIMEOUT_DEFAULT:
 *
 * Default of #PatchesWebsocketTransport:keepalive-timeout, in seconds.
 */
#define PATCHES_WEBSOCKET_KEEPALIVE_TIMEOUT_DEFAULT 10

#define PATCHES_TYPE_WEBSOCKET_TRANSPORT (patches_websocket_transport_get_type ())

G_DECLARE_FINAL_TYPE (PatchesWebsocketTransport, patches_websocket_transport, PATCHES, WEBSOCKET_TRANSPORT, GObject)

PatchesWebsocketTransport *patches_websocket_transport_new                    (SoupWebsocketConnection   *connection) G_GNUC_WARN_UNUSED_RESULT;
SoupWebsocketConnection   *patches_websocket_transport_get_connection         (PatchesWebsocketTransport *self);
guint64                    patches_websocket_transport_get_max_incoming_payload_size (PatchesWebsocketTransport *self);
guint                      patches_websocket_transport_get_keepalive_interval (PatchesWebsocketTransport *self);
void                       patches_websocket_transport_set_keepalive_interval (PatchesWebsocketTransport *self,
                                                                               guint                      interval);
guint                      patches_websocket_transport_get_keepalive_timeout  (PatchesWebsocketTransport *self);
void                       patches_websocket_transport_set_keepalive_timeout  (PatchesWebsocketTransport *self,
                                                                               guint                      timeout);

G_END_DECLS
