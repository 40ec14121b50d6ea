/* patches-server-connection.h
 *
 * One client connection of patches-server: its transport and JSON-RPC
 * peer, who it is, what it subscribed to, and how far behind it is.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "patches-rpc.h"
#include "patches-server-auth.h"

G_BEGIN_DECLS

/**
 * PATCHES_SERVER_CONNECTION_MAX_SEND_QUEUE_DEFAULT:
 *
 * Default of #PatchesServerConnection:max-send-queue: 32 MiB of frames
 * handed to the socket and not yet acknowledged by the peer.
 */
#define PATCHES_SERVER_CONNECTION_MAX_SEND_QUEUE_DEFAULT (G_GUINT64_CONSTANT (32) * 1024 * 1024)

/**
 * PATCHES_SERVER_CLOSE_SEND_QUEUE_FULL:
 *
 * The WebSocket close code of a connection dropped because it fell too
 * far behind (1008, policy violation).
 */
#define PATCHES_SERVER_CLOSE_SEND_QUEUE_FULL 1008

#define PATCHES_TYPE_SERVER_CONNECTION (patches_server_connection_get_type ())

G_DECLARE_FINAL_TYPE (PatchesServerConnection, patches_server_connection, PATCHES, SERVER_CONNECTION, GObject)

PatchesServerConnection *patches_server_connection_new              (PatchesTransport         *transport,
                                                                     GSocket                  *socket,
                                                                     PatchesServerAuthToken   *token,
                                                                     const char               *client_id,
                                                                     gboolean                  stable_client_id) G_GNUC_WARN_UNUSED_RESULT;
PatchesRpc              *patches_server_connection_get_rpc          (PatchesServerConnection  *self);
PatchesTransport        *patches_server_connection_get_transport    (PatchesServerConnection  *self);
PatchesServerAuthToken  *patches_server_connection_get_token        (PatchesServerConnection  *self);
const char              *patches_server_connection_get_client_id    (PatchesServerConnection  *self);
gboolean                 patches_server_connection_has_stable_client_id (PatchesServerConnection *self);
const char              *patches_server_connection_get_peer         (PatchesServerConnection  *self);
void                     patches_server_connection_set_peer         (PatchesServerConnection  *self,
                                                                     const char               *peer);
gboolean                 patches_server_connection_is_open          (PatchesServerConnection  *self);
void                     patches_server_connection_close            (PatchesServerConnection  *self,
                                                                     gushort                   code,
                                                                     const char               *reason);

/* Outgoing frames */
gboolean                 patches_server_connection_send             (PatchesServerConnection  *self,
                                                                     GBytes                   *frame);
guint64                  patches_server_connection_get_send_queue_bytes (PatchesServerConnection *self);
guint64                  patches_server_connection_get_max_send_queue (PatchesServerConnection *self);
void                     patches_server_connection_set_max_send_queue (PatchesServerConnection *self,
                                                                     guint64                   max_bytes);
guint64                  patches_server_connection_get_max_frame_bytes (PatchesServerConnection *self);
void                     patches_server_connection_set_max_frame_bytes (PatchesServerConnection *self,
                                                                     guint64                   max_bytes);

/* Subscriptions */
gboolean                 patches_server_connection_add_subscription    (PatchesServerConnection *self,
                                                                        const char              *doc_id);
gboolean                 patches_server_connection_remove_subscription (PatchesServerConnection *self,
                                                                        const char              *doc_id);
gboolean                 patches_server_connection_is_subscribed       (PatchesServerConnection *self,
                                                                        const char              *doc_id);
guint                    patches_server_connection_get_n_subscriptions (PatchesServerConnection *self);
GPtrArray               *patches_server_connection_list_subscriptions  (PatchesServerConnection *self) G_GNUC_WARN_UNUSED_RESULT;

/* The 409 reload loop of reference clients (PROTOCOL.md §12 #11) */
guint                    patches_server_connection_note_conflict       (PatchesServerConnection *self,
                                                                        const char              *doc_id);
void                     patches_server_connection_clear_conflict      (PatchesServerConnection *self,
                                                                        const char              *doc_id);

G_END_DECLS
