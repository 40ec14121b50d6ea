/* patches-rpc.h
 *
 * A JSON-RPC 2.0 peer over a PatchesTransport (PROTOCOL.md §3): calls,
 * notifications and method handlers, in both directions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-transport.h"
#include "patches-value.h"

G_BEGIN_DECLS

/**
 * PATCHES_RPC_ERROR:
 *
 * Error domain of #PatchesRpc.  Errors in this domain come from the
 * #PatchesRpcError enumeration; every one of them also carries a JSON-RPC
 * code and maybe data (patches_rpc_error_get_code(),
 * patches_rpc_error_get_data()).
 */
#define PATCHES_RPC_ERROR (patches_rpc_error_quark ())

/**
 * PatchesRpcError:
 * @PATCHES_RPC_ERROR_REMOTE: the peer answered with a JSON-RPC error
 *   object.  The message is the peer's; the code and data are the peer's
 *   (a positive code is an HTTP-like status such as 409, a negative one a
 *   JSON-RPC code such as -32000; a string code is kept as a string).
 *   The peer received and handled the call.
 * @PATCHES_RPC_ERROR_DISCONNECTED: network class: the transport closed
 *   (or was replaced) while the call was in flight.  The peer may or may
 *   not have run it.
 * @PATCHES_RPC_ERROR_NOT_CONNECTED: network class: the call was made
 *   while the transport was not open; nothing was sent.
 * @PATCHES_RPC_ERROR_PARSE: network class: the peer sent a frame that
 *   could not be parsed (or a binary frame) while the call was in flight;
 *   as the reference client does (PROTOCOL.md §3.6), every pending call
 *   fails this way.  Code -32700.
 *
 * Error codes in the #PATCHES_RPC_ERROR domain.  Callers retry the network
 * class (patches_rpc_error_is_network()) once connected again; the
 * reference relies on idempotent retries (PROTOCOL.md §2.7).  A cancelled
 * call fails with %G_IO_ERROR_CANCELLED instead, and one that got no
 * response within #PatchesRpc:request-timeout with %G_IO_ERROR_TIMED_OUT
 * (also network class).
 */
typedef enum {
  PATCHES_RPC_ERROR_REMOTE,
  PATCHES_RPC_ERROR_DISCONNECTED,
  PATCHES_RPC_ERROR_NOT_CONNECTED,
  PATCHES_RPC_ERROR_PARSE,
} PatchesRpcError;

/**
 * PATCHES_RPC_CODE_PARSE_ERROR:
 *
 * JSON-RPC code for an unparseable frame (-32700).
 */
#define PATCHES_RPC_CODE_PARSE_ERROR (-32700)

/**
 * PATCHES_RPC_CODE_INVALID_REQUEST:
 *
 * JSON-RPC code for a frame that is not an object with a `method` (-32600).
 */
#define PATCHES_RPC_CODE_INVALID_REQUEST (-32600)

/**
 * PATCHES_RPC_CODE_SERVER_ERROR:
 *
 * JSON-RPC code of every error without a code of its own, and of an
 * unknown method (-32000; the reference never uses -32601).
 */
#define PATCHES_RPC_CODE_SERVER_ERROR (-32000)

/**
 * PatchesRpcRole:
 * @PATCHES_RPC_ROLE_CLIENT: the side that dialled.  Frames that are not
 *   requests, notifications or responses are logged and ignored
 *   (PROTOCOL.md §3.6): no error frame is ever sent back for them.
 * @PATCHES_RPC_ROLE_SERVER: the side that accepted.  An unparseable frame
 *   is answered with -32700 and a frame that is neither a request, a
 *   notification nor a response to one of our own calls with -32600
 *   (PROTOCOL.md §3.7).
 *
 * Which malformed-frame rules a #PatchesRpc follows.  Both roles can call,
 * notify and serve methods.
 */
typedef enum {
  PATCHES_RPC_ROLE_CLIENT,
  PATCHES_RPC_ROLE_SERVER,
} PatchesRpcRole;

#define PATCHES_TYPE_RPC_ROLE (patches_rpc_role_get_type ())
GType patches_rpc_role_get_type (void) G_GNUC_CONST;

/**
 * PatchesRpcRequest:
 *
 * An incoming request, handed to a #PatchesRpcMethodFunc.  Answer it once
 * with patches_rpc_request_return_value(), _return_json(),
 * _return_error() or _return_gerror(), right away or later (keep a
 * reference with patches_rpc_request_ref() to answer later).
 */
typedef struct _PatchesRpcRequest PatchesRpcRequest;

#define PATCHES_TYPE_RPC_REQUEST (patches_rpc_request_get_type ())

#define PATCHES_TYPE_RPC (patches_rpc_get_type ())

G_DECLARE_FINAL_TYPE (PatchesRpc, patches_rpc, PATCHES, RPC, GObject)

/**
 * PatchesRpcMethodFunc:
 * @rpc: the #PatchesRpc
 * @request: (transfer none): the request; ref it to answer after returning
 * @user_data: the data given to patches_rpc_add_method()
 *
 * Serves one request.  A request dropped without an answer is answered
 * with a -32000 error (and a warning) when its last reference goes.
 */
typedef void (*PatchesRpcMethodFunc) (PatchesRpc        *rpc,
                                      PatchesRpcRequest *request,
                                      gpointer           user_data);

GQuark            patches_rpc_error_quark            (void);
GError           *patches_rpc_error_from_remote      (int                  code,
                                                      const char          *message,
                                                      PatchesValue        *data) G_GNUC_WARN_UNUSED_RESULT;
GError           *patches_rpc_error_from_remote_string (const char          *code,
                                                       const char          *message,
                                                       PatchesValue        *data) G_GNUC_WARN_UNUSED_RESULT;
int               patches_rpc_error_get_code         (const GError        *error);
const char       *patches_rpc_error_get_code_string  (const GError        *error);
PatchesValue     *patches_rpc_error_get_data         (const GError        *error);
gboolean          patches_rpc_error_is_network       (const GError        *error);

PatchesRpc       *patches_rpc_new                    (PatchesTransport    *transport,
                                                      PatchesRpcRole       role) G_GNUC_WARN_UNUSED_RESULT;
PatchesTransport *patches_rpc_get_transport          (PatchesRpc          *self);
void              patches_rpc_set_transport          (PatchesRpc          *self,
                                                      PatchesTransport    *transport);
PatchesRpcRole    patches_rpc_get_role               (PatchesRpc          *self);
guint             patches_rpc_get_request_timeout    (PatchesRpc          *self);
void              patches_rpc_set_request_timeout    (PatchesRpc          *self,
                                                      guint                seconds);

void              patches_rpc_add_method             (PatchesRpc          *self,
                                                      const char          *name,
                                                      PatchesRpcMethodFunc func,
                                                      gpointer             user_data,
                                                      GDestroyNotify       destroy);
gboolean          patches_rpc_remove_method          (PatchesRpc          *self,
                                                      const char          *name);

void              patches_rpc_call_async             (PatchesRpc          *self,
                                                      const char          *method,
                                                      PatchesValue        *params,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
PatchesValue     *patches_rpc_call_finish            (PatchesRpc          *self,
                                                      GAsyncResult        *result,
                                                      GError             **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean          patches_rpc_notify                 (PatchesRpc          *self,
                                                      const char          *method,
                                                      PatchesValue        *params);

GType             patches_rpc_request_get_type       (void) G_GNUC_CONST;
PatchesRpcRequest *patches_rpc_request_ref           (PatchesRpcRequest   *self);
void              patches_rpc_request_unref          (PatchesRpcRequest   *self);
const char       *patches_rpc_request_get_method     (PatchesRpcRequest   *self);
PatchesValue     *patches_rpc_request_get_id         (PatchesRpcRequest   *self);
PatchesValue     *patches_rpc_request_get_params     (PatchesRpcRequest   *self);
guint             patches_rpc_request_get_n_params   (PatchesRpcRequest   *self);
PatchesValue     *patches_rpc_request_get_param      (PatchesRpcRequest   *self,
                                                      guint                index);
gsize             patches_rpc_request_get_frame_size (PatchesRpcRequest   *self);
GCancellable     *patches_rpc_request_get_cancellable (PatchesRpcRequest  *self);
gboolean          patches_rpc_request_is_answered    (PatchesRpcRequest   *self);
void              patches_rpc_request_return_value   (PatchesRpcRequest   *self,
                                                      PatchesValue        *value);
void              patches_rpc_request_return_json    (PatchesRpcRequest   *self,
                                                      const char          *json,
                                                      gssize               length);
void              patches_rpc_request_return_error   (PatchesRpcRequest   *self,
                                                      int                  code,
                                                      const char          *message,
                                                      PatchesValue        *data);
void              patches_rpc_request_return_gerror  (PatchesRpcRequest   *self,
                                                      const GError        *error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesRpcRequest, patches_rpc_request_unref)

G_END_DECLS
