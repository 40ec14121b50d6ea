/* patches-transport.h
 *
 * A message transport: text frames in both directions, binary frames
 * reported, one close.  PatchesRpc runs over it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * PatchesTransportState:
 * @PATCHES_TRANSPORT_STATE_OPEN: frames can be sent and arrive
 * @PATCHES_TRANSPORT_STATE_CLOSING: a close was started (by either side);
 *   nothing more is sent
 * @PATCHES_TRANSPORT_STATE_CLOSED: the transport is closed for good;
 *   #PatchesTransport::closed was emitted
 *
 * The life of a #PatchesTransport.  A transport is created open and never
 * reopens: a reconnect makes a new transport.
 */
typedef enum {
  PATCHES_TRANSPORT_STATE_OPEN,
  PATCHES_TRANSPORT_STATE_CLOSING,
  PATCHES_TRANSPORT_STATE_CLOSED,
} PatchesTransportState;

#define PATCHES_TYPE_TRANSPORT_STATE (patches_transport_state_get_type ())
GType patches_transport_state_get_type (void) G_GNUC_CONST;

#define PATCHES_TYPE_TRANSPORT (patches_transport_get_type ())

G_DECLARE_INTERFACE (PatchesTransport, patches_transport, PATCHES, TRANSPORT, GObject)

/**
 * PatchesTransportInterface:
 * @parent_iface: the parent interface
 * @send_bytes: queues one text frame; @text is valid UTF-8.  Does nothing
 *   unless the transport is open.
 * @close: starts closing with a WebSocket close @code and @reason
 * @get_state: returns the current state
 *
 * The virtual methods of #PatchesTransport.  An implementation emits
 * #PatchesTransport::message for every text frame,
 * #PatchesTransport::binary for every binary frame, notifies
 * #PatchesTransport:state, and emits #PatchesTransport::closed exactly
 * once (after which it emits nothing else).
 */
struct _PatchesTransportInterface
{
  GTypeInterface parent_iface;

  void                  (*send_bytes) (PatchesTransport *self,
                                       GBytes           *text);
  void                  (*close)      (PatchesTransport *self,
                                       gushort           code,
                                       const char       *reason);
  PatchesTransportState (*get_state)  (PatchesTransport *self);

  /*< private >*/
  gpointer padding[8];
};

void                  patches_transport_send_text  (PatchesTransport *self,
                                                    const char       *text);
void                  patches_transport_send_bytes (PatchesTransport *self,
                                                    GBytes           *text);
void                  patches_transport_close      (PatchesTransport *self,
                                                    gushort           code,
                                                    const char       *reason);
PatchesTransportState patches_transport_get_state  (PatchesTransport *self);

/* For implementations */
void                  patches_transport_emit_message (PatchesTransport *self,
                                                      GBytes           *text);
void                  patches_transport_emit_binary  (PatchesTransport *self,
                                                      GBytes           *data);
void                  patches_transport_emit_closed  (PatchesTransport *self,
                                                      gushort           code,
                                                      const char       *reason);

G_END_DECLS
