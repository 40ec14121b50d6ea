/* patches-server.h
 *
 * The sync server: WebSocket connections, the protocol's methods and
 * notifications (PROTOCOL.md §5, §6), over a PatchesServerStore.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "patches-server-auth.h"
#include "patches-server-connection.h"
#include "patches-server-store.h"

G_BEGIN_DECLS

/**
 * PATCHES_SERVER_MAX_FRAME_BYTES_DEFAULT:
 *
 * Default of #PatchesServer:max-frame-bytes: 4 MiB.
 */
#define PATCHES_SERVER_MAX_FRAME_BYTES_DEFAULT (G_GUINT64_CONSTANT (4) * 1024 * 1024)

/**
 * PATCHES_SERVER_MAX_FRAME_BYTES_MIN:
 *
 * The smallest #PatchesServer:max-frame-bytes accepted: a reference client
 * sends up to 1,000,000 bytes of changes per request plus the envelope
 * (PROTOCOL.md §2.4), so no limit may be below 1.1 MB.
 */
#define PATCHES_SERVER_MAX_FRAME_BYTES_MIN (G_GUINT64_CONSTANT (1100000))

/**
 * PATCHES_SERVER_MAX_CHANGES_PER_COMMIT_DEFAULT:
 *
 * Default of #PatchesServer:max-changes-per-commit.
 */
#define PATCHES_SERVER_MAX_CHANGES_PER_COMMIT_DEFAULT 10000

/**
 * PATCHES_SERVER_MAX_OPS_PER_CHANGE_DEFAULT:
 *
 * Default of #PatchesServer:max-ops-per-change.
 */
#define PATCHES_SERVER_MAX_OPS_PER_CHANGE_DEFAULT 10000

/**
 * PATCHES_SERVER_MAX_DOCS_PER_SUBSCRIBE_DEFAULT:
 *
 * Default of #PatchesServer:max-docs-per-subscribe.
 */
#define PATCHES_SERVER_MAX_DOCS_PER_SUBSCRIBE_DEFAULT 10000

/**
 * PATCHES_SERVER_MAX_CONNECTIONS_PER_TOKEN_DEFAULT:
 *
 * Default of #PatchesServer:max-connections-per-token.
 */
#define PATCHES_SERVER_MAX_CONNECTIONS_PER_TOKEN_DEFAULT 64

/**
 * PATCHES_SERVER_KEEPALIVE_INTERVAL_DEFAULT:
 *
 * Default of #PatchesServer:keepalive-interval, in seconds.
 */
#define PATCHES_SERVER_KEEPALIVE_INTERVAL_DEFAULT 30

/**
 * PATCHES_SERVER_KEEPALIVE_TIMEOUT_DEFAULT:
 *
 * Default of #PatchesServer:keepalive-timeout, in seconds.
 */
#define PATCHES_SERVER_KEEPALIVE_TIMEOUT_DEFAULT 10

/**
 * PATCHES_SERVER_MAX_DOC_ID_BYTES:
 *
 * The longest document id accepted, in bytes.
 */
#define PATCHES_SERVER_MAX_DOC_ID_BYTES 1024

/**
 * PATCHES_SERVER_MAX_CLIENT_ID_BYTES:
 *
 * The longest client id accepted, in bytes.
 */
#define PATCHES_SERVER_MAX_CLIENT_ID_BYTES 128

/**
 * PATCHES_SERVER_SUBPROTOCOL:
 *
 * The WebSocket subprotocol the server selects when a client offers it.
 * A browser, which cannot set headers, passes its token by offering this
 * and `bearer.TOKEN` (PROTOCOL.md §2.1).
 */
#define PATCHES_SERVER_SUBPROTOCOL "patches"

/**
 * PATCHES_SERVER_CLIENT_ID_HEADER:
 *
 * The handshake header carrying a client's stable id.
 */
#define PATCHES_SERVER_CLIENT_ID_HEADER "X-Patches-Client-Id"

#define PATCHES_TYPE_SERVER (patches_server_get_type ())

G_DECLARE_FINAL_TYPE (PatchesServer, patches_server, PATCHES, SERVER, GObject)

PatchesServer           *patches_server_new                (PatchesServerStore      *store,
                                                            PatchesServerAuth       *auth) G_GNUC_WARN_UNUSED_RESULT;
PatchesServerStore      *patches_server_get_store          (PatchesServer           *self);
PatchesServerAuth       *patches_server_get_auth           (PatchesServer           *self);

gboolean                 patches_server_listen             (PatchesServer           *self,
                                                            const char              *address,
                                                            gboolean                 require_loopback,
                                                            GError                 **error);
char                    *patches_server_get_uri            (PatchesServer           *self) G_GNUC_WARN_UNUSED_RESULT;
SoupServer              *patches_server_get_soup_server    (PatchesServer           *self);

PatchesServerConnection *patches_server_accept             (PatchesServer           *self,
                                                            PatchesTransport        *transport,
                                                            GSocket                 *socket,
                                                            PatchesServerAuthToken  *token,
                                                            const char              *client_id);
guint                    patches_server_get_n_connections  (PatchesServer           *self);
void                     patches_server_flush              (PatchesServer           *self);
void                     patches_server_stop               (PatchesServer           *self);
gboolean                 patches_server_is_stopped         (PatchesServer           *self);

guint64                  patches_server_get_max_frame_bytes (PatchesServer          *self);
void                     patches_server_set_max_frame_bytes (PatchesServer          *self,
                                                            guint64                  max_bytes);

G_END_DECLS
