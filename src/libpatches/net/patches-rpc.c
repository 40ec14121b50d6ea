/* patches-rpc.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "patches-rpc.h"

/**
 * PatchesRpc:
 *
 * A JSON-RPC 2.0 peer over a #PatchesTransport, framed exactly as the
 * reference peers frame it (PROTOCOL.md §3).  One implementation serves
 * the client and each server-side connection: both can call, notify and
 * serve methods.
 *
 * Outgoing frames:
 *
 * - a call is `{"jsonrpc":"2.0","id":N,"method":M,"params":[...]}` with
 *   integer ids from 1 that never repeat for the life of the object (a
 *   reconnect replaces the transport with patches_rpc_set_transport() and
 *   keeps counting);
 * - a notification is `{"jsonrpc":"2.0","method":M,"params":{...}}`, no
 *   `id` key;
 * - a success is `{"jsonrpc":"2.0","id":ID,"result":R}`, without the
 *   `result` key for a void result; an error is
 *   `{"jsonrpc":"2.0","id":ID,"error":{"code":C,"message":M,"data":D}}`,
 *   without `data` when there is none.  ID echoes the request's id value,
 *   whatever its type.
 *
 * Incoming frames, in order:
 *
 * 1. text that is not one JSON value (or a binary frame): every pending
 *    call fails with %PATCHES_RPC_ERROR_PARSE and the transport stays up;
 *    the server role also answers
 *    `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error","data":{}}}`;
 * 2. an object with a `method` key and an `id` key (even `null`): a
 *    request.  An unknown method is answered with -32000
 *    `Unknown method 'NAME'.`; the params reach the handler normalised as
 *    the reference does: an array as is, no `params` as `[]`, anything
 *    else (`null` too) as a one-element array.  This holds in the client
 *    role too, so that a server can call its clients (the reference
 *    client, which serves no methods, would take such a frame for a
 *    response and drop it);
 * 3. an object with `method` and no `id`: a notification, emitted as
 *    #PatchesRpc::notification and never run as a method;
 * 4. an object with an `id` and no `method`: a response, matched by id
 *    (an `error` key, whatever else is there, makes it a failure).  The
 *    client role logs and drops one that matches no pending call; the
 *    server role answers it, as the reference server does any frame
 *    without `method`, with
 *    `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request","data":ID}}`;
 * 5. anything else (arrays, scalars, objects with neither key): the
 *    client role logs and drops it, the server role answers -32600 as
 *    above with `data` the frame's id or `null`.
 *
 * The `jsonrpc` member is never checked.  Nothing a peer sends can crash
 * the peer: frames are parsed by a strict linear scan first (see
 * patches-json-scan.c), nested at most %PATCHES_JSON_SCAN_MAX_DEPTH deep.
 */

struct _PatchesRpc
{
  GObject           parent_instance;

  PatchesTransport *transport;
  gulong            message_handler;
  gulong            binary_handler;
  gulong            closed_handler;

  PatchesRpcRole    role;
  gint64            last_id;
  /* seconds a call may wait for its response; 0 = forever */
  guint             request_timeout;

  /* gint64 id (inside the Call) → Call */
  GHashTable       *calls;
  /* name → Method */
  GHashTable       *methods;
  /* PatchesRpcRequest in flight, linked through their own GList */
  GQueue            requests;
};

struct _PatchesRpcRequest
{
  grefcount         ref_count;

  PatchesRpc       *rpc;
  PatchesTransport *transport;
  char             *method;
  PatchesValue     *id;
  PatchesValue     *params;
  GCancellable     *cancellable;
  gsize             frame_size;
  GList             link;

  guint             answered : 1;
  guint             in_queue : 1;
  guint             cancelled : 1;
};

typedef struct
{
  gint64      id;
  PatchesRpc *rpc;
  GTask      *task;
  GSource    *cancel_source;
  GSource    *timeout_source;
  char       *method;
} Call;

typedef struct
{
  PatchesRpcMethodFunc func;
  gpointer             user_data;
  GDestroyNotify       destroy;
} Method;

enum {
  PROP_0,
  PROP_TRANSPORT,
  PROP_ROLE,
  PROP_REQUEST_TIMEOUT,
  N_PROPS
};

enum {
  NOTIFICATION,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (PatchesRpc, patches_rpc, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE (PatchesRpcRequest, patches_rpc_request, patches_rpc_request_ref, patches_rpc_request_unref)

G_DEFINE_ENUM_TYPE (PatchesRpcRole, patches_rpc_role,
                    G_DEFINE_ENUM_VALUE (PATCHES_RPC_ROLE_CLIENT, "client"),
                    G_DEFINE_ENUM_VALUE (PATCHES_RPC_ROLE_SERVER, "server"))

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* Errors */

typedef struct
{
  PatchesValue *code;   /* a number or a string */
  PatchesValue *data;   /* NULL when absent */
} PatchesRpcErrorPrivate;

static void
patches_rpc_error_private_init (PatchesRpcErrorPrivate *priv)
{
  if (priv == NULL)
    return;
  priv->code = NULL;
  priv->data = NULL;
}

static void
patches_rpc_error_private_copy (const PatchesRpcErrorPrivate *src,
                                PatchesRpcErrorPrivate       *dest)
{
  if (src == NULL || dest == NULL)
    return;
  dest->code = src->code ? patches_value_ref (src->code) : NULL;
  dest->data = src->data ? patches_value_ref (src->data) : NULL;
}

static void
patches_rpc_error_private_clear (PatchesRpcErrorPrivate *priv)
{
  if (priv == NULL)
    return;
  g_clear_pointer (&priv->code, patches_value_unref);
  g_clear_pointer (&priv->data, patches_value_unref);
}

/**
 * patches_rpc_error_quark:
 *
 * Returns: the #PATCHES_RPC_ERROR domain
 */
G_DEFINE_EXTENDED_ERROR (PatchesRpcError, patches_rpc_error)

/* Takes @code, not @data */
static GError *
rpc_error_new (PatchesRpcError  kind,
               PatchesValue    *code,
               const char      *message,
               PatchesValue    *data)
{
  GError *error = g_error_new_literal (PATCHES_RPC_ERROR, kind, message);
  PatchesRpcErrorPrivate *priv = patches_rpc_error_get_private (error);

  if (priv == NULL)
    {
      g_clear_pointer (&code, patches_value_unref);
      return error;
    }

  priv->code = code;
  priv->data = data ? patches_value_ref (data) : NULL;

  return error;
}

/**
 * patches_rpc_error_from_remote: (skip)
 * @code: a JSON-RPC code or HTTP-like status
 * @message: the message
 * @data: (nullable): the error data, or %NULL for none
 *
 * Makes the error a peer's error object stands for.  Handy to answer a
 * request with patches_rpc_request_return_gerror() from code that
 * produces #GErrors.
 *
 * Returns: (transfer full): a %PATCHES_RPC_ERROR_REMOTE error
 */
GError *
patches_rpc_error_from_remote (int           code,
                               const char   *message,
                               PatchesValue *data)
{
  g_return_val_if_fail (message != NULL, NULL);

  return rpc_error_new (PATCHES_RPC_ERROR_REMOTE, patches_value_new_number (code), message, data);
}

/**
 * patches_rpc_error_from_remote_string: (skip)
 * @code: a string code, such as `MERGE_PARTIAL_PROGRESS`
 * @message: the message
 * @data: (nullable): the error data, or %NULL for none
 *
 * Like patches_rpc_error_from_remote() with a string code, as the
 * reference's branch errors have.
 *
 * Returns: (transfer full): a %PATCHES_RPC_ERROR_REMOTE error
 */
GError *
patches_rpc_error_from_remote_string (const char   *code,
                                      const char   *message,
                                      PatchesValue *data)
{
  g_return_val_if_fail (code != NULL, NULL);
  g_return_val_if_fail (message != NULL, NULL);

  return rpc_error_new (PATCHES_RPC_ERROR_REMOTE, patches_value_new_string (code), message, data);
}

static PatchesRpcErrorPrivate *
error_private (const GError *error)
{
  if (error == NULL || error->domain != PATCHES_RPC_ERROR)
    return NULL;

  return patches_rpc_error_get_private (error);
}

/**
 * patches_rpc_error_get_code:
 * @error: (nullable): an error
 *
 * The JSON-RPC code of an error of the #PATCHES_RPC_ERROR domain: for
 * %PATCHES_RPC_ERROR_REMOTE the peer's code (positive: an HTTP-like
 * status; -32000 when the peer sent none), -32700 for
 * %PATCHES_RPC_ERROR_PARSE.
 *
 * Returns: the code; 0 for a string code, for the other network errors
 *   and for other domains
 */
int
patches_rpc_error_get_code (const GError *error)
{
  PatchesRpcErrorPrivate *priv = error_private (error);
  double code;

  if (priv == NULL || priv->code == NULL ||
      patches_value_get_kind (priv->code) != PATCHES_VALUE_NUMBER)
    return 0;

  code = patches_value_get_number (priv->code);
  if (!(code >= G_MININT && code <= G_MAXINT))
    return 0;

  return (int) code;
}

/**
 * patches_rpc_error_get_code_string:
 * @error: (nullable): an error
 *
 * Returns: (nullable): the code of a %PATCHES_RPC_ERROR_REMOTE error whose
 *   peer sent a string code, or %NULL
 */
const char *
patches_rpc_error_get_code_string (const GError *error)
{
  PatchesRpcErrorPrivate *priv = error_private (error);

  if (priv == NULL || priv->code == NULL ||
      patches_value_get_kind (priv->code) != PATCHES_VALUE_STRING)
    return NULL;

  return patches_value_get_string (priv->code);
}

/**
 * patches_rpc_error_get_data:
 * @error: (nullable): an error
 *
 * Returns: (transfer none) (nullable): the `data` member of the peer's
 *   error object (a `null` member is a value of kind
 *   %PATCHES_VALUE_NULL), or %NULL when it had none
 */
PatchesValue *
patches_rpc_error_get_data (const GError *error)
{
  PatchesRpcErrorPrivate *priv = error_private (error);

  return priv != NULL ? priv->data : NULL;
}

/**
 * patches_rpc_error_is_network:
 * @error: (nullable): an error
 *
 * Whether @error is of the network class: the call's fate is unknown and
 * it should be retried on the next connection (PROTOCOL.md §2.7).
 *
 * Returns: %TRUE for %PATCHES_RPC_ERROR_DISCONNECTED,
 *   %PATCHES_RPC_ERROR_NOT_CONNECTED, %PATCHES_RPC_ERROR_PARSE and
 *   %G_IO_ERROR_TIMED_OUT (a call that got no response within
 *   #PatchesRpc:request-timeout)
 */
gboolean
patches_rpc_error_is_network (const GError *error)
{
  if (error == NULL)
    return FALSE;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return TRUE;

  return error->domain == PATCHES_RPC_ERROR &&
         error->code != PATCHES_RPC_ERROR_REMOTE;
}

/* Error objects from the peer (PROTOCOL.md §3.6 rule 5) */
static GError *
error_from_member (PatchesValue *member)
{
  PatchesValue *code = NULL;
  PatchesValue *message = NULL;
  PatchesValue *data = NULL;

  if (member != NULL && patches_value_get_kind (member) == PATCHES_VALUE_OBJECT)
    {
      code = patches_value_object_get (member, "code");
      message = patches_value_object_get (member, "message");
      data = patches_value_object_get (member, "data");
    }

  if (code != NULL &&
      patches_value_get_kind (code) != PATCHES_VALUE_NUMBER &&
      patches_value_get_kind (code) != PATCHES_VALUE_STRING)
    code = NULL;

  if (message != NULL &&
      (patches_value_get_kind (message) != PATCHES_VALUE_STRING ||
       patches_value_get_string_len (message) == 0))
    message = NULL;

  return rpc_error_new (PATCHES_RPC_ERROR_REMOTE,
                        code ? patches_value_ref (code)
                             : patches_value_new_number (PATCHES_RPC_CODE_SERVER_ERROR),
                        message ? patches_value_get_string (message) : "Unknown error",
                        data);
}

/* Frames */

static GString *
frame_begin (gsize hint)
{
  GString *out = g_string_sized_new (hint + 64);

  g_string_append_len (out, "{\"jsonrpc\":\"2.0\"", 16);
  return out;
}

static void
append_id (GString      *out,
           PatchesValue *id)
{
  g_string_append_len (out, ",\"id\":", 6);
  if (id != NULL)
    patches_value_write_json (id, out);
  else
    g_string_append_len (out, "null", 4);
}

static void
append_error (GString      *out,
              PatchesValue *code,
              const char   *message,
              PatchesValue *data)
{
  g_string_append_len (out, ",\"error\":{\"code\":", 17);
  patches_value_write_json (code, out);
  g_string_append_len (out, ",\"message\":", 11);
  patches_js_append_string (out, message, -1);
  if (data != NULL)
    {
      g_string_append_len (out, ",\"data\":", 8);
      patches_value_write_json (data, out);
    }
  g_string_append_c (out, '}');
}

static void
send_frame (PatchesTransport *transport,
            GString          *frame)
{
  g_autoptr(GBytes) bytes = NULL;

  g_string_append_c (frame, '}');
  bytes = g_string_free_to_bytes (frame);

  if (transport == NULL || patches_transport_get_state (transport) != PATCHES_TRANSPORT_STATE_OPEN)
    {
      g_debug ("Dropping a JSON-RPC frame: transport not open");
      return;
    }

  patches_transport_send_bytes (transport, bytes);
}

/* The frame-level error replies of the server role (PROTOCOL.md §3.4) */
static void
send_parse_error (PatchesRpc *self)
{
  GString *out = frame_begin (0);
  g_autoptr(PatchesValue) code = patches_value_new_number (PATCHES_RPC_CODE_PARSE_ERROR);
  g_autoptr(PatchesValue) data = patches_value_new_object ();

  append_id (out, NULL);
  append_error (out, code, "Parse error", data);
  send_frame (self->transport, out);
}

static void
send_invalid_request (PatchesRpc   *self,
                      PatchesValue *id)
{
  GString *out = frame_begin (0);
  g_autoptr(PatchesValue) code = patches_value_new_number (PATCHES_RPC_CODE_INVALID_REQUEST);
  g_autoptr(PatchesValue) null = patches_value_new_null ();

  append_id (out, NULL);
  append_error (out, code, "Invalid Request", id ? id : null);
  send_frame (self->transport, out);
}

/* JavaScript's String (value), for a `method` member that is not a string */
static void
append_js_string_of (GString            *out,
                     const PatchesValue *value)
{
  switch (patches_value_get_kind (value))
    {
    case PATCHES_VALUE_NULL:
      g_string_append (out, "null");
      break;

    case PATCHES_VALUE_BOOL:
      g_string_append (out, patches_value_get_bool (value) ? "true" : "false");
      break;

    case PATCHES_VALUE_NUMBER:
      {
        double n = patches_value_get_number (value);

        if (isinf (n))
          g_string_append (out, n > 0 ? "Infinity" : "-Infinity");
        else
          patches_js_append_number (out, n);
      }
      break;

    case PATCHES_VALUE_STRING:
      g_string_append_len (out, patches_value_get_string (value), patches_value_get_string_len (value));
      break;

    case PATCHES_VALUE_ARRAY:
      for (guint i = 0; i < patches_value_array_get_length (value); i++)
        {
          PatchesValue *element = patches_value_array_get (value, i);

          if (i > 0)
            g_string_append_c (out, ',');
          if (patches_value_get_kind (element) != PATCHES_VALUE_NULL)
            append_js_string_of (out, element);
        }
      break;

    case PATCHES_VALUE_OBJECT:
    case PATCHES_VALUE_TEXT:
    default:
      g_string_append (out, "[object Object]");
      break;
    }
}

static char *
method_name (PatchesValue *value)
{
  GString *out;

  if (patches_value_get_kind (value) == PATCHES_VALUE_STRING)
    return g_strdup (patches_value_get_string (value));

  out = g_string_new (NULL);
  append_js_string_of (out, value);
  return g_string_free (out, FALSE);
}

/* Calls */

static void
call_free (Call *call)
{
  if (call->cancel_source != NULL)
    {
      g_source_destroy (call->cancel_source);
      g_clear_pointer (&call->cancel_source, g_source_unref);
    }
  if (call->timeout_source != NULL)
    {
      g_source_destroy (call->timeout_source);
      g_clear_pointer (&call->timeout_source, g_source_unref);
    }
  g_clear_object (&call->task);
  g_free (call->method);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Call, call_free)

static Call *
steal_call (PatchesRpc *self,
            gint64      id)
{
  Call *call = g_hash_table_lookup (self->calls, &id);

  /* Not g_hash_table_steal_extended(): the key points into the value, so
   * the table stays in its keys-are-values mode, where GLib 2.74 returns
   * the stolen value as NULL. */
  if (call != NULL)
    g_hash_table_steal (self->calls, &id);

  return call;
}

/* Fails every pending call with the given error. */
static void
fail_all_calls (PatchesRpc      *self,
                PatchesRpcError  kind,
                PatchesValue    *code,
                const char      *message)
{
  g_autoptr(GList) calls = NULL;

  if (g_hash_table_size (self->calls) == 0)
    return;

  calls = g_hash_table_get_values (self->calls);
  g_hash_table_steal_all (self->calls);

  for (const GList *l = calls; l != NULL; l = l->next)
    {
      g_autoptr(Call) call = l->data;

      g_task_return_error (call->task,
                           rpc_error_new (kind,
                                          code ? patches_value_ref (code) : NULL,
                                          message, NULL));
    }
}

static gboolean
call_cancelled_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  Call *call = user_data;
  g_autoptr(Call) stolen = steal_call (call->rpc, call->id);

  g_assert (stolen == call);

  g_clear_pointer (&stolen->cancel_source, g_source_unref);
  g_task_return_error_if_cancelled (stolen->task);

  return G_SOURCE_REMOVE;
}

/* PROTOCOL.md §12 hazard 6: a peer that keeps the socket alive but never
 * answers would leave the call pending until the transport drops */
static gboolean
call_timeout_cb (gpointer user_data)
{
  Call *call = user_data;
  g_autoptr(Call) stolen = steal_call (call->rpc, call->id);
  guint timeout = call->rpc->request_timeout;

  g_assert (stolen == call);

  g_clear_pointer (&stolen->timeout_source, g_source_unref);
  g_debug ("JSON-RPC call %" G_GINT64_FORMAT " (%s) got no response within %u s",
           stolen->id, stolen->method, timeout);
  g_task_return_new_error (stolen->task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                           "The server did not answer %s within %u seconds",
                           stolen->method, timeout);

  return G_SOURCE_REMOVE;
}

/* The id of one of our calls that @id may stand for.  Ids are compared
 * as JavaScript's Map does: the number 3 matches, "3" does not. */
static gboolean
call_id_from_value (PatchesRpc   *self,
                    PatchesValue *id,
                    gint64       *call_id)
{
  double n;

  if (id == NULL || patches_value_get_kind (id) != PATCHES_VALUE_NUMBER)
    return FALSE;

  n = patches_value_get_number (id);
  if (!(n >= 1 && n <= (double) self->last_id && n == floor (n)))
    return FALSE;

  *call_id = (gint64) n;
  return TRUE;
}

static void
handle_response (PatchesRpc   *self,
                 PatchesValue *frame,
                 PatchesValue *id)
{
  g_autoptr(Call) call = NULL;
  PatchesValue *member;
  gint64 call_id;

  if (call_id_from_value (self, id, &call_id))
    call = steal_call (self, call_id);

  if (call == NULL)
    {
      if (!g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
        {
          g_autofree char *text = patches_value_to_json (id);

          g_debug ("Ignoring a JSON-RPC response to unknown id %.64s", text);
        }
      return;
    }

  /* PROTOCOL.md §3.6 rule 3: the key's presence decides */
  if ((member = patches_value_object_get (frame, "error")) != NULL)
    {
      g_task_return_error (call->task, error_from_member (member));
      return;
    }

  member = patches_value_object_get (frame, "result");
  g_task_return_pointer (call->task,
                         member ? patches_value_ref (member) : NULL,
                         (GDestroyNotify) patches_value_unref);
}

/* Requests */

static void
request_detach (PatchesRpcRequest *self)
{
  if (self->in_queue && self->rpc != NULL)
    g_queue_unlink (&self->rpc->requests, &self->link);
  self->in_queue = FALSE;

  g_clear_object (&self->transport);
  g_clear_object (&self->rpc);
}

static PatchesRpcRequest *
request_new (PatchesRpc   *self,
             char         *method,
             PatchesValue *id,
             PatchesValue *params,
             gsize         frame_size)
{
  PatchesRpcRequest *request = g_new0 (PatchesRpcRequest, 1);

  g_ref_count_init (&request->ref_count);
  request->rpc = g_object_ref (self);
  request->transport = g_object_ref (self->transport);
  request->method = method;
  request->id = patches_value_ref (id);
  request->frame_size = frame_size;
  request->link.data = request;

  /* PROTOCOL.md §3.7 rule 5 */
  if (params == NULL)
    request->params = patches_value_new_array ();
  else if (patches_value_get_kind (params) == PATCHES_VALUE_ARRAY)
    request->params = patches_value_ref (params);
  else
    {
      request->params = patches_value_new_array ();
      patches_value_array_append (request->params, patches_value_ref (params));
    }

  g_queue_push_tail_link (&self->requests, &request->link);
  request->in_queue = TRUE;

  return request;
}

static void
request_cancel (PatchesRpcRequest *self)
{
  self->cancelled = TRUE;
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

/* Cancels the requests that came through @transport. */
static void
cancel_requests (PatchesRpc       *self,
                 PatchesTransport *transport)
{
  g_autoptr(GPtrArray) requests = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_rpc_request_unref);

  for (const GList *l = self->requests.head; l != NULL; l = l->next)
    {
      PatchesRpcRequest *request = l->data;

      if (request->transport == transport && !request->cancelled)
        g_ptr_array_add (requests, patches_rpc_request_ref (request));
    }

  for (guint i = 0; i < requests->len; i++)
    request_cancel (g_ptr_array_index (requests, i));
}

static void
handle_request (PatchesRpc   *self,
                PatchesValue *frame,
                PatchesValue *method,
                PatchesValue *id,
                gsize         frame_size)
{
  g_autoptr(PatchesRpcRequest) request = NULL;
  Method *m;

  request = request_new (self, method_name (method), id,
                         patches_value_object_get (frame, "params"), frame_size);

  m = g_hash_table_lookup (self->methods, request->method);
  if (m == NULL)
    {
      g_autofree char *message = g_strdup_printf ("Unknown method '%s'.", request->method);
      g_autofree char *stack = g_strdup_printf ("Error: %s", message);
      g_autoptr(PatchesValue) data = patches_value_new_string (stack);

      patches_rpc_request_return_error (request, PATCHES_RPC_CODE_SERVER_ERROR, message, data);
      return;
    }

  m->func (self, request, m->user_data);
}

static void
handle_notification (PatchesRpc   *self,
                     PatchesValue *frame,
                     PatchesValue *method)
{
  g_autofree char *name = method_name (method);

  g_signal_emit (self, signals[NOTIFICATION], g_quark_try_string (name),
                 name, patches_value_object_get (frame, "params"));
}

/* Incoming frames */

static void
handle_unparseable (PatchesRpc *self)
{
  g_autoptr(PatchesValue) code = patches_value_new_number (PATCHES_RPC_CODE_PARSE_ERROR);

  /* PROTOCOL.md §3.6 rule 1 (the caller's side) and §3.7 rule 1 */
  if (self->role == PATCHES_RPC_ROLE_SERVER)
    send_parse_error (self);

  fail_all_calls (self, PATCHES_RPC_ERROR_PARSE, code, "Parse error");
}

static void
handle_frame (PatchesRpc *self,
              const char *text,
              gsize       length)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) frame = NULL;
  PatchesValue *method;
  PatchesValue *id;

  if (!(frame = patches_value_parse (text, length, &error)))
    {
      g_debug ("Unparseable JSON-RPC frame of %" G_GSIZE_FORMAT " bytes: %s",
               length, error->message);
      handle_unparseable (self);
      return;
    }

  if (patches_value_get_kind (frame) != PATCHES_VALUE_OBJECT)
    {
      if (self->role == PATCHES_RPC_ROLE_SERVER)
        send_invalid_request (self, NULL);
      else
        g_debug ("Ignoring a JSON-RPC frame that is not an object");
      return;
    }

  method = patches_value_object_get (frame, "method");
  id = patches_value_object_get (frame, "id");

  if (method != NULL)
    {
      if (id != NULL)
        handle_request (self, frame, method, id, length);
      else
        handle_notification (self, frame, method);
      return;
    }

  if (id != NULL)
    {
      gint64 call_id;

      if (self->role == PATCHES_RPC_ROLE_CLIENT ||
          (call_id_from_value (self, id, &call_id) &&
           g_hash_table_contains (self->calls, &call_id)))
        {
          handle_response (self, frame, id);
          return;
        }
    }

  if (self->role == PATCHES_RPC_ROLE_SERVER)
    send_invalid_request (self, id);
  else
    g_debug ("Ignoring a JSON-RPC frame with neither method nor id");
}

static void
on_transport_message (PatchesRpc       *self,
                      GBytes           *text,
                      PatchesTransport *transport)
{
  gsize length;
  const char *data = g_bytes_get_data (text, &length);

  g_object_ref (self);
  handle_frame (self, data != NULL ? data : "", length);
  g_object_unref (self);
}

static void
on_transport_binary (PatchesRpc       *self,
                     GBytes           *data,
                     PatchesTransport *transport)
{
  /* A browser fails JSON.parse() on a Blob (PROTOCOL.md §2.2) */
  g_debug ("Binary frame of %" G_GSIZE_FORMAT " bytes on a JSON-RPC connection",
           g_bytes_get_size (data));
  g_object_ref (self);
  handle_unparseable (self);
  g_object_unref (self);
}

static void
on_transport_closed (PatchesRpc       *self,
                     guint             code,
                     const char       *reason,
                     PatchesTransport *transport)
{
  g_object_ref (self);
  fail_all_calls (self, PATCHES_RPC_ERROR_DISCONNECTED, NULL, "Transport disconnected");
  cancel_requests (self, transport);
  g_object_unref (self);
}

static void
disconnect_transport (PatchesRpc *self)
{
  g_autoptr(PatchesTransport) old = g_steal_pointer (&self->transport);

  if (old == NULL)
    return;

  g_clear_signal_handler (&self->message_handler, old);
  g_clear_signal_handler (&self->binary_handler, old);
  g_clear_signal_handler (&self->closed_handler, old);

  fail_all_calls (self, PATCHES_RPC_ERROR_DISCONNECTED, NULL, "Transport disconnected");
  cancel_requests (self, old);
}

/* GObject */

static void
method_free (Method *m)
{
  if (m->destroy != NULL)
    m->destroy (m->user_data);
  g_free (m);
}

static void
patches_rpc_dispose (GObject *object)
{
  PatchesRpc *self = (PatchesRpc *)object;

  disconnect_transport (self);

  /* Requests hold a reference on us, so this only runs with requests in
   * flight when disposed explicitly: they can still be answered. */
  while (self->requests.head != NULL)
    {
      PatchesRpcRequest *request = self->requests.head->data;

      g_queue_unlink (&self->requests, &request->link);
      request->in_queue = FALSE;
    }

  g_hash_table_remove_all (self->methods);

  G_OBJECT_CLASS (patches_rpc_parent_class)->dispose (object);
}

static void
patches_rpc_finalize (GObject *object)
{
  PatchesRpc *self = (PatchesRpc *)object;

  g_clear_pointer (&self->calls, g_hash_table_unref);
  g_clear_pointer (&self->methods, g_hash_table_unref);

  G_OBJECT_CLASS (patches_rpc_parent_class)->finalize (object);
}

static void
patches_rpc_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  PatchesRpc *self = PATCHES_RPC (object);

  switch (prop_id)
    {
    case PROP_TRANSPORT:
      g_value_set_object (value, self->transport);
      break;

    case PROP_ROLE:
      g_value_set_enum (value, self->role);
      break;

    case PROP_REQUEST_TIMEOUT:
      g_value_set_uint (value, self->request_timeout);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_rpc_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  PatchesRpc *self = PATCHES_RPC (object);

  switch (prop_id)
    {
    case PROP_TRANSPORT:
      patches_rpc_set_transport (self, g_value_get_object (value));
      break;

    case PROP_ROLE:
      self->role = g_value_get_enum (value);
      break;

    case PROP_REQUEST_TIMEOUT:
      patches_rpc_set_request_timeout (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_rpc_class_init (PatchesRpcClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = patches_rpc_dispose;
  object_class->finalize = patches_rpc_finalize;
  object_class->get_property = patches_rpc_get_property;
  object_class->set_property = patches_rpc_set_property;

  /**
   * PatchesRpc:transport:
   *
   * The transport frames travel on, or %NULL.  Replacing it fails the
   * calls in flight with %PATCHES_RPC_ERROR_DISCONNECTED; ids keep
   * counting.  Requests that arrived on the old transport are answered
   * there (if it is still open).
   */
  properties[PROP_TRANSPORT] =
    g_param_spec_object ("transport", NULL, NULL,
                         PATCHES_TYPE_TRANSPORT,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesRpc:role:
   *
   * Which malformed-frame rules apply: see #PatchesRpcRole.
   */
  properties[PROP_ROLE] =
    g_param_spec_enum ("role", NULL, NULL,
                       PATCHES_TYPE_RPC_ROLE,
                       PATCHES_RPC_ROLE_CLIENT,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesRpc:request-timeout:
   *
   * Seconds a call waits for its response before it fails with
   * %G_IO_ERROR_TIMED_OUT (network class, see
   * patches_rpc_error_is_network()); a response arriving later is
   * ignored.  0, the default, waits as long as the transport stays open.
   * A change applies to calls made afterwards.
   */
  properties[PROP_REQUEST_TIMEOUT] =
    g_param_spec_uint ("request-timeout", NULL, NULL,
                       0, G_MAXUINT / 1000, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PatchesRpc::notification:
   * @self: a #PatchesRpc
   * @method: the notification's method (its JavaScript string form if the
   *   peer sent another type)
   * @params: (nullable): the `params` member as sent (a named object in
   *   this protocol), or %NULL if there was none
   *
   * Emitted for every incoming notification; detailed by @method, so
   * `notification::changesCommitted` sees only those.  A notification is
   * never run as a method, even when one of that name is registered.
   */
  signals[NOTIFICATION] =
    g_signal_new ("notification",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 2,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  PATCHES_TYPE_VALUE | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
patches_rpc_init (PatchesRpc *self)
{
  self->calls = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->methods = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) method_free);
  g_queue_init (&self->requests);
}

/* Public API */

/**
 * patches_rpc_new:
 * @transport: (nullable): the transport, or %NULL to set one later
 * @role: which side of the connection this peer is
 *
 * Returns: (transfer full): a new #PatchesRpc
 */
PatchesRpc *
patches_rpc_new (PatchesTransport *transport,
                 PatchesRpcRole    role)
{
  g_return_val_if_fail (!transport || PATCHES_IS_TRANSPORT (transport), NULL);

  return g_object_new (PATCHES_TYPE_RPC,
                       "transport", transport,
                       "role", role,
                       NULL);
}

/**
 * patches_rpc_get_transport:
 * @self: a #PatchesRpc
 *
 * Returns: (transfer none) (nullable): the transport
 */
PatchesTransport *
patches_rpc_get_transport (PatchesRpc *self)
{
  g_return_val_if_fail (PATCHES_IS_RPC (self), NULL);

  return self->transport;
}

/**
 * patches_rpc_set_transport:
 * @self: a #PatchesRpc
 * @transport: (nullable): the new transport
 *
 * Sets #PatchesRpc:transport, for instance after a reconnect.
 */
void
patches_rpc_set_transport (PatchesRpc       *self,
                           PatchesTransport *transport)
{
  g_return_if_fail (PATCHES_IS_RPC (self));
  g_return_if_fail (!transport || PATCHES_IS_TRANSPORT (transport));

  if (self->transport == transport)
    return;

  disconnect_transport (self);

  if (transport != NULL)
    {
      self->transport = g_object_ref (transport);
      self->message_handler =
        g_signal_connect_object (transport, "message",
                                 G_CALLBACK (on_transport_message), self, G_CONNECT_SWAPPED);
      self->binary_handler =
        g_signal_connect_object (transport, "binary",
                                 G_CALLBACK (on_transport_binary), self, G_CONNECT_SWAPPED);
      self->closed_handler =
        g_signal_connect_object (transport, "closed",
                                 G_CALLBACK (on_transport_closed), self, G_CONNECT_SWAPPED);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRANSPORT]);
}

/**
 * patches_rpc_get_role:
 * @self: a #PatchesRpc
 *
 * Returns: the #PatchesRpcRole
 */
PatchesRpcRole
patches_rpc_get_role (PatchesRpc *self)
{
  g_return_val_if_fail (PATCHES_IS_RPC (self), PATCHES_RPC_ROLE_CLIENT);

  return self->role;
}

/**
 * patches_rpc_get_request_timeout:
 * @self: a #PatchesRpc
 *
 * Returns: #PatchesRpc:request-timeout, in seconds (0: none)
 */
guint
patches_rpc_get_request_timeout (PatchesRpc *self)
{
  g_return_val_if_fail (PATCHES_IS_RPC (self), 0);

  return self->request_timeout;
}

/**
 * patches_rpc_set_request_timeout:
 * @self: a #PatchesRpc
 * @seconds: seconds a call waits for its response, 0 for no limit
 *
 * Sets #PatchesRpc:request-timeout.  Calls already in flight keep the
 * timeout they started with.
 */
void
patches_rpc_set_request_timeout (PatchesRpc *self,
                                 guint       seconds)
{
  g_return_if_fail (PATCHES_IS_RPC (self));

  seconds = MIN (seconds, G_MAXUINT / 1000);
  if (self->request_timeout == seconds)
    return;

  self->request_timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REQUEST_TIMEOUT]);
}

/**
 * patches_rpc_add_method:
 * @self: a #PatchesRpc
 * @name: the method name
 * @func: (scope notified): the handler
 * @user_data: (closure func): data for @func
 * @destroy: (destroy user_data) (nullable): frees @user_data
 *
 * Registers @func to serve requests for @name, replacing any handler of
 * that name.
 */
void
patches_rpc_add_method (PatchesRpc           *self,
                        const char           *name,
                        PatchesRpcMethodFunc  func,
                        gpointer              user_data,
                        GDestroyNotify        destroy)
{
  Method *m;

  g_return_if_fail (PATCHES_IS_RPC (self));
  g_return_if_fail (name != NULL);
  g_return_if_fail (func != NULL);

  m = g_new0 (Method, 1);
  m->func = func;
  m->user_data = user_data;
  m->destroy = destroy;

  g_hash_table_replace (self->methods, g_strdup (name), m);
}

/**
 * patches_rpc_remove_method:
 * @self: a #PatchesRpc
 * @name: the method name
 *
 * Unregisters the handler of @name; requests for it are then answered as
 * unknown methods.
 *
 * Returns: %TRUE if there was one
 */
gboolean
patches_rpc_remove_method (PatchesRpc *self,
                           const char *name)
{
  g_return_val_if_fail (PATCHES_IS_RPC (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return g_hash_table_remove (self->methods, name);
}

/**
 * patches_rpc_call_async:
 * @self: a #PatchesRpc
 * @method: the method name
 * @params: (nullable): the positional parameters, an array; %NULL omits
 *   the `params` member
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response
 * @user_data: closure data for @callback
 *
 * Sends a request with the next id and waits for its response, at most
 * #PatchesRpc:request-timeout seconds when that is set (the call then
 * fails with %G_IO_ERROR_TIMED_OUT).  Cancelling fails the call at once
 * with %G_IO_ERROR_CANCELLED; a response arriving after either is
 * ignored.
 */
void
patches_rpc_call_async (PatchesRpc          *self,
                        const char          *method,
                        PatchesValue        *params,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  PatchesTransport *transport;
  GString *out;
  Call *call;

  g_return_if_fail (PATCHES_IS_RPC (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (params == NULL || patches_value_get_kind (params) == PATCHES_VALUE_ARRAY);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, patches_rpc_call_async);

  if (g_task_return_error_if_cancelled (task))
    return;

  transport = self->transport;
  if (transport == NULL || patches_transport_get_state (transport) != PATCHES_TRANSPORT_STATE_OPEN)
    {
      g_task_return_error (task,
                           rpc_error_new (PATCHES_RPC_ERROR_NOT_CONNECTED, NULL,
                                          "Transport is not connected", NULL));
      return;
    }

  call = g_new0 (Call, 1);
  call->id = ++self->last_id;
  call->rpc = self;
  call->task = g_steal_pointer (&task);
  call->method = g_strdup (method);

  if (self->request_timeout > 0)
    {
      call->timeout_source = g_timeout_source_new (self->request_timeout * 1000);
      g_source_set_static_name (call->timeout_source, "[patches] rpc call timeout");
      g_source_set_callback (call->timeout_source, call_timeout_cb, call, NULL);
      g_source_attach (call->timeout_source, g_main_context_get_thread_default ());
    }

  if (cancellable != NULL)
    {
      call->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_static_name (call->cancel_source, "[patches] rpc call cancelled");
      g_source_set_callback (call->cancel_source, (GSourceFunc) G_CALLBACK (call_cancelled_cb), call, NULL);
      g_source_attach (call->cancel_source, g_main_context_get_thread_default ());
    }

  g_hash_table_insert (self->calls, &call->id, call);

  /* PROTOCOL.md §3.1: jsonrpc, id, method, params */
  out = frame_begin (0);
  g_string_append_len (out, ",\"id\":", 6);
  patches_js_append_number (out, (double) call->id);
  g_string_append_len (out, ",\"method\":", 10);
  patches_js_append_string (out, method, -1);
  if (params != NULL)
    {
      g_string_append_len (out, ",\"params\":", 10);
      patches_value_write_json (params, out);
    }
  send_frame (transport, out);
}

/**
 * patches_rpc_call_finish:
 * @self: a #PatchesRpc
 * @result: the #GAsyncResult given to the callback
 * @error: a location for a #GError
 *
 * Completes patches_rpc_call_async().  A response without a `result`
 * member (a void method) gives %NULL without an error; `"result":null`
 * gives a value of kind %PATCHES_VALUE_NULL.  So check @error, not the
 * return value.
 *
 * Returns: (transfer full) (nullable): the result, or %NULL
 */
PatchesValue *
patches_rpc_call_finish (PatchesRpc    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_RPC (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == patches_rpc_call_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * patches_rpc_notify:
 * @self: a #PatchesRpc
 * @method: the notification's method
 * @params: (nullable): its parameters, a named object in this protocol;
 *   %NULL omits the `params` member
 *
 * Sends a notification: no id, no response.
 *
 * Returns: %TRUE if it was handed to an open transport
 */
gboolean
patches_rpc_notify (PatchesRpc   *self,
                    const char   *method,
                    PatchesValue *params)
{
  GString *out;

  g_return_val_if_fail (PATCHES_IS_RPC (self), FALSE);
  g_return_val_if_fail (method != NULL, FALSE);

  if (self->transport == NULL ||
      patches_transport_get_state (self->transport) != PATCHES_TRANSPORT_STATE_OPEN)
    return FALSE;

  /* PROTOCOL.md §3.5: jsonrpc, method, params */
  out = frame_begin (0);
  g_string_append_len (out, ",\"method\":", 10);
  patches_js_append_string (out, method, -1);
  if (params != NULL)
    {
      g_string_append_len (out, ",\"params\":", 10);
      patches_value_write_json (params, out);
    }
  send_frame (self->transport, out);

  return TRUE;
}

/* PatchesRpcRequest */

/**
 * patches_rpc_request_ref:
 * @self: a #PatchesRpcRequest
 *
 * Returns: (transfer full): @self
 */
PatchesRpcRequest *
patches_rpc_request_ref (PatchesRpcRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * patches_rpc_request_unref:
 * @self: (transfer full): a #PatchesRpcRequest
 *
 * Drops a reference.  Dropping the last one of a request never answered
 * answers it with a -32000 error, so that the peer does not wait forever.
 */
void
patches_rpc_request_unref (PatchesRpcRequest *self)
{
  g_return_if_fail (self != NULL);

  if (!g_ref_count_dec (&self->ref_count))
    return;

  if (!self->answered)
    {
      g_autofree char *message = g_strdup_printf ("Method '%s' returned no answer", self->method);

      if (!self->cancelled &&
          self->transport != NULL &&
          patches_transport_get_state (self->transport) == PATCHES_TRANSPORT_STATE_OPEN)
        g_warning ("%s", message);
      patches_rpc_request_return_error (self, PATCHES_RPC_CODE_SERVER_ERROR, message, NULL);
    }

  request_detach (self);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->method, g_free);
  g_clear_pointer (&self->id, patches_value_unref);
  g_clear_pointer (&self->params, patches_value_unref);
  g_free (self);
}

/**
 * patches_rpc_request_get_method:
 * @self: a #PatchesRpcRequest
 *
 * Returns: the method name
 */
const char *
patches_rpc_request_get_method (PatchesRpcRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->method;
}

/**
 * patches_rpc_request_get_id:
 * @self: a #PatchesRpcRequest
 *
 * Returns: (transfer none): the request's id as sent: normally a number,
 *   but a string or `null` are echoed just the same
 */
PatchesValue *
patches_rpc_request_get_id (PatchesRpcRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->id;
}

/**
 * patches_rpc_request_get_params:
 * @self: a #PatchesRpcRequest
 *
 * The argument list, normalised as the reference server does
 * (PROTOCOL.md §3.7 rule 5): a `params` array as is, no `params` as an
 * empty array, any other value (`null` and objects too) as its only
 * element.
 *
 * Returns: (transfer none): an array
 */
PatchesValue *
patches_rpc_request_get_params (PatchesRpcRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->params;
}

/**
 * patches_rpc_request_get_n_params:
 * @self: a #PatchesRpcRequest
 *
 * Returns: the number of arguments
 */
guint
patches_rpc_request_get_n_params (PatchesRpcRequest *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return patches_value_array_get_length (self->params);
}

/**
 * patches_rpc_request_get_param:
 * @self: a #PatchesRpcRequest
 * @index: an argument position
 *
 * Returns: (transfer none) (nullable): argument @index, or %NULL past the
 *   end (JavaScript's `undefined`)
 */
PatchesValue *
patches_rpc_request_get_param (PatchesRpcRequest *self,
                               guint              index)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (index >= patches_value_array_get_length (self->params))
    return NULL;

  return patches_value_array_get (self->params, index);
}

/**
 * patches_rpc_request_get_frame_size:
 * @self: a #PatchesRpcRequest
 *
 * Returns: the size in bytes of the frame the request came in, for
 *   limits
 */
gsize
patches_rpc_request_get_frame_size (PatchesRpcRequest *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->frame_size;
}

/**
 * patches_rpc_request_get_cancellable:
 * @self: a #PatchesRpcRequest
 *
 * A cancellable that is cancelled when the transport the request came on
 * closes (or is replaced) before it was answered: the answer could not be
 * delivered any more.
 *
 * Returns: (transfer none): a #GCancellable
 */
GCancellable *
patches_rpc_request_get_cancellable (PatchesRpcRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->cancellable == NULL)
    {
      self->cancellable = g_cancellable_new ();
      if (self->cancelled ||
          self->transport == NULL ||
          patches_transport_get_state (self->transport) == PATCHES_TRANSPORT_STATE_CLOSED)
        g_cancellable_cancel (self->cancellable);
    }

  return self->cancellable;
}

/**
 * patches_rpc_request_is_answered:
 * @self: a #PatchesRpcRequest
 *
 * Returns: whether the request was answered
 */
gboolean
patches_rpc_request_is_answered (PatchesRpcRequest *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->answered;
}

static GString *
request_response_begin (PatchesRpcRequest *self,
                        gsize              hint)
{
  GString *out = frame_begin (hint);

  append_id (out, self->id);
  return out;
}

static void
request_send (PatchesRpcRequest *self,
              GString           *frame)
{
  g_autoptr(PatchesTransport) transport = g_steal_pointer (&self->transport);

  self->answered = TRUE;
  request_detach (self);
  send_frame (transport, frame);
}

/**
 * patches_rpc_request_return_value:
 * @self: a #PatchesRpcRequest
 * @value: (nullable): the result, or %NULL for a void method
 *
 * Answers with success: `{"jsonrpc":"2.0","id":ID,"result":VALUE}`, or
 * `{"jsonrpc":"2.0","id":ID}` without a `result` member when @value is
 * %NULL, as the reference server answers its void methods.
 */
void
patches_rpc_request_return_value (PatchesRpcRequest *self,
                                  PatchesValue      *value)
{
  GString *out;

  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->answered);

  out = request_response_begin (self, 0);
  if (value != NULL)
    {
      g_string_append_len (out, ",\"result\":", 10);
      patches_value_write_json (value, out);
    }
  request_send (self, out);
}

/**
 * patches_rpc_request_return_json:
 * @self: a #PatchesRpcRequest
 * @json: the result as JSON text, trusted to be valid
 * @length: its length, or -1 if nul-terminated
 *
 * Answers with success, splicing @json in as the result without parsing
 * it, as the reference server streams stored snapshots (PROTOCOL.md §3.3).
 */
void
patches_rpc_request_return_json (PatchesRpcRequest *self,
                                 const char        *json,
                                 gssize             length)
{
  GString *out;

  g_return_if_fail (self != NULL);
  g_return_if_fail (json != NULL);
  g_return_if_fail (!self->answered);

  if (length < 0)
    length = strlen (json);

  out = request_response_begin (self, length);
  g_string_append_len (out, ",\"result\":", 10);
  g_string_append_len (out, json, length);
  request_send (self, out);
}

static void
request_return_error_value (PatchesRpcRequest *self,
                            PatchesValue      *code,
                            const char        *message,
                            PatchesValue      *data)
{
  GString *out = request_response_begin (self, 0);

  append_error (out, code, message, data);
  request_send (self, out);
}

/**
 * patches_rpc_request_return_error:
 * @self: a #PatchesRpcRequest
 * @code: an HTTP-like status (400, 403, 404, 409, 410, 413, 503, …) or a
 *   JSON-RPC code (-32000 for errors without a status)
 * @message: the message
 * @data: (nullable): the `data` member, or %NULL to leave it out
 *
 * Answers with an error:
 * `{"jsonrpc":"2.0","id":ID,"error":{"code":CODE,"message":MESSAGE,"data":DATA}}`
 * (PROTOCOL.md §3.4).
 */
void
patches_rpc_request_return_error (PatchesRpcRequest *self,
                                  int                code,
                                  const char        *message,
                                  PatchesValue      *data)
{
  g_autoptr(PatchesValue) code_value = NULL;

  g_return_if_fail (self != NULL);
  g_return_if_fail (message != NULL);
  g_return_if_fail (!self->answered);

  code_value = patches_value_new_number (code);
  request_return_error_value (self, code_value, message, data);
}

/**
 * patches_rpc_request_return_gerror:
 * @self: a #PatchesRpcRequest
 * @error: the error
 *
 * Answers with @error: a %PATCHES_RPC_ERROR_REMOTE error (see
 * patches_rpc_error_from_remote()) keeps its code, message and data, string
 * codes included; any other error is answered with -32000, its message and
 * no data (the reference sends a stack trace there; no client reads it).
 */
void
patches_rpc_request_return_gerror (PatchesRpcRequest *self,
                                   const GError      *error)
{
  PatchesRpcErrorPrivate *priv;

  g_return_if_fail (self != NULL);
  g_return_if_fail (error != NULL);
  g_return_if_fail (!self->answered);

  priv = error_private (error);
  if (priv != NULL && priv->code != NULL && error->code == PATCHES_RPC_ERROR_REMOTE)
    request_return_error_value (self, priv->code, error->message, priv->data);
  else
    patches_rpc_request_return_error (self, PATCHES_RPC_CODE_SERVER_ERROR, error->message, NULL);
}
