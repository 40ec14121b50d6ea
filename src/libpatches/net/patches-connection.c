/* patches-connection.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <libsoup/soup.h>

#include "patches-connection.h"
#include "patches-error.h"
#include "patches-websocket-transport.h"

/**
 * PatchesConnection:
 *
 * One client connection to a Patches server: a libsoup WebSocket carrying
 * a #PatchesRpc in the client role, with a typed call for each method of
 * PROTOCOL.md §5 and a signal for each notification of §6.
 *
 * Parameters are built exactly as the reference client builds them
 * (PROTOCOL.md §3.2): `subscribe` sends `[["a","b"]]`, `getDoc` sends
 * `[docId]` or, for a past revision, `[docId, {"rev": n}]`,
 * `commitChanges` sends `[docId, changes]` and adds the options only when
 * there are some; optional trailing arguments are left out, never sent as
 * `null`.
 *
 * The connection dials once per patches_connection_open_async().  When
 * the socket goes away (the peer closed it, the network dropped, or the
 * peer stopped answering pings) the state becomes
 * %PATCHES_CONNECTION_STATE_DISCONNECTED after a normal close (codes 1000
 * and 1001) and %PATCHES_CONNECTION_STATE_ERROR otherwise, every call in
 * flight fails with %PATCHES_RPC_ERROR_DISCONNECTED, and
 * #PatchesConnection::closed is emitted.  Reconnecting is #PatchesSync's
 * business; the #PatchesRpc (and so its request ids, PROTOCOL.md §2.7)
 * lives as long as the connection object, across opens.
 */

#define PING_INTERVAL_DEFAULT 30
#define REQUEST_TIMEOUT_DEFAULT 60

struct _PatchesConnection
{
  GObject                    parent_instance;

  char                      *url;
  char                      *display_url;
  SoupSession               *session;
  GTlsDatabase              *tls_database;
  SoupMessageHeaders        *headers;
  GStrv                      protocols;
  guint                      ping_interval;
  PatchesConnectionState     state;

  /* While connecting */
  GTask                     *open_task;

  /* The status of the last handshake the server refused, or 0 */
  guint                      last_http_status;

  /* While connected */
  PatchesWebsocketTransport *transport;
  gulong                     transport_closed_handler;

  /* Closed by us, finishing the close handshake */
  GPtrArray                 *closing;

  PatchesRpc                *rpc;
};

enum {
  PROP_0,
  PROP_URL,
  PROP_STATE,
  PROP_PING_INTERVAL,
  PROP_REQUEST_TIMEOUT,
  PROP_TLS_DATABASE,
  N_PROPS
};

enum {
  CHANGES_COMMITTED,
  DOC_DELETED,
  CLOSED,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (PatchesConnection, patches_connection, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (PatchesConnectionState, patches_connection_state,
                    G_DEFINE_ENUM_VALUE (PATCHES_CONNECTION_STATE_DISCONNECTED, "disconnected"),
                    G_DEFINE_ENUM_VALUE (PATCHES_CONNECTION_STATE_CONNECTING, "connecting"),
                    G_DEFINE_ENUM_VALUE (PATCHES_CONNECTION_STATE_CONNECTED, "connected"),
                    G_DEFINE_ENUM_VALUE (PATCHES_CONNECTION_STATE_ERROR, "error"))

G_DEFINE_BOXED_TYPE (PatchesSnapshot, patches_snapshot, patches_snapshot_ref, patches_snapshot_unref)

G_DEFINE_BOXED_TYPE (PatchesCommitResult, patches_commit_result, patches_commit_result_ref, patches_commit_result_unref)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* PatchesSnapshot */

/* A JSON number that is a revision: an integer from 0 to 2^53 */
static gboolean
value_get_rev (PatchesValue *value,
               gint64       *rev)
{
  double n;

  if (patches_value_get_kind (value) != PATCHES_VALUE_NUMBER)
    return FALSE;

  n = patches_value_get_number (value);
  if (!(n >= 0 && n <= 9007199254740992.0 && n == floor (n)))
    return FALSE;

  *rev = (gint64) n;
  return TRUE;
}

/* A `changes` member: absent and `null` count as none (PROTOCOL.md §4.1) */
static GPtrArray *
changes_member (PatchesValue  *object,
                const char    *what,
                GError       **error)
{
  PatchesValue *member = patches_value_object_get (object, "changes");
  GError *local_error = NULL;
  GPtrArray *changes;

  if (member == NULL || patches_value_get_kind (member) == PATCHES_VALUE_NULL)
    return patches_changes_new ();

  if (!(changes = patches_changes_from_value (member, &local_error)))
    {
      g_propagate_prefixed_error (error, local_error, "Invalid %s: ", what);
      return NULL;
    }

  return changes;
}

/**
 * patches_snapshot_from_value:
 * @value: a `getDoc` result, `{"state": …, "rev": n, "changes": […]}`
 * @error: a location for a #GError
 *
 * Reads a snapshot (PROTOCOL.md §4.5).  `state` is kept as sent (a `null`
 * state is a value of kind %PATCHES_VALUE_NULL; a missing one leaves
 * @state %NULL); a missing `rev` is 0 and missing `changes` none.
 *
 * Returns: (transfer full) (nullable): the snapshot, or %NULL with @error
 *   set to %PATCHES_ERROR_INVALID_CHANGE when @value has another shape
 */
PatchesSnapshot *
patches_snapshot_from_value (PatchesValue  *value,
                             GError       **error)
{
  g_autoptr(GPtrArray) changes = NULL;
  PatchesSnapshot *self;
  PatchesValue *state;
  PatchesValue *rev_value;
  gint64 rev = 0;

  if (value == NULL || patches_value_get_kind (value) != PATCHES_VALUE_OBJECT)
    {
      g_set_error_literal (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE,
                           "Invalid snapshot: expected an object");
      return NULL;
    }

  rev_value = patches_value_object_get (value, "rev");
  if (rev_value != NULL &&
      patches_value_get_kind (rev_value) != PATCHES_VALUE_NULL &&
      !value_get_rev (rev_value, &rev))
    {
      g_set_error_literal (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE,
                           "Invalid snapshot: rev is not a revision");
      return NULL;
    }

  if (!(changes = changes_member (value, "snapshot", error)))
    return NULL;

  state = patches_value_object_get (value, "state");

  self = g_new0 (PatchesSnapshot, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->state = state != NULL ? patches_value_ref (state) : NULL;
  self->rev = rev;
  self->changes = g_steal_pointer (&changes);

  return self;
}

/**
 * patches_snapshot_ref:
 * @self: a #PatchesSnapshot
 *
 * Returns: (transfer full): @self
 */
PatchesSnapshot *
patches_snapshot_ref (PatchesSnapshot *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * patches_snapshot_unref:
 * @self: (transfer full): a #PatchesSnapshot
 *
 * Drops a reference.
 */
void
patches_snapshot_unref (PatchesSnapshot *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_clear_pointer (&self->state, patches_value_unref);
  g_clear_pointer (&self->changes, g_ptr_array_unref);
  g_free (self);
}

/**
 * patches_snapshot_get_head_rev:
 * @self: a #PatchesSnapshot
 *
 * The document's head revision as of the snapshot: the last change's
 * revision, or #PatchesSnapshot.rev when there are no changes
 * (PROTOCOL.md §4.5).
 *
 * Returns: the head revision
 */
gint64
patches_snapshot_get_head_rev (PatchesSnapshot *self)
{
  g_return_val_if_fail (self != NULL, 0);

  if (self->changes != NULL && self->changes->len > 0)
    {
      PatchesChange *last = g_ptr_array_index (self->changes, self->changes->len - 1);

      if (last->rev >= 0)
        return last->rev;
    }

  return self->rev;
}

/* PatchesCommitResult */

/**
 * patches_commit_result_from_value:
 * @value: a `commitChanges` result, `{"changes": […], "docReloadRequired"?: true}`
 * @error: a location for a #GError
 *
 * Reads a commit result (PROTOCOL.md §4.7).
 *
 * Returns: (transfer full) (nullable): the result, or %NULL with @error
 *   set to %PATCHES_ERROR_INVALID_CHANGE when @value has another shape
 */
PatchesCommitResult *
patches_commit_result_from_value (PatchesValue  *value,
                                  GError       **error)
{
  g_autoptr(GPtrArray) changes = NULL;
  PatchesCommitResult *self;
  PatchesValue *reload;

  if (value == NULL || patches_value_get_kind (value) != PATCHES_VALUE_OBJECT)
    {
      g_set_error_literal (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE,
                           "Invalid commit result: expected an object");
      return NULL;
    }

  if (!(changes = changes_member (value, "commit result", error)))
    return NULL;

  reload = patches_value_object_get (value, "docReloadRequired");

  self = g_new0 (PatchesCommitResult, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->changes = g_steal_pointer (&changes);
  self->doc_reload_required = reload != NULL && patches_value_truthy (reload);

  return self;
}

/**
 * patches_commit_result_ref:
 * @self: a #PatchesCommitResult
 *
 * Returns: (transfer full): @self
 */
PatchesCommitResult *
patches_commit_result_ref (PatchesCommitResult *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * patches_commit_result_unref:
 * @self: (transfer full): a #PatchesCommitResult
 *
 * Drops a reference.
 */
void
patches_commit_result_unref (PatchesCommitResult *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_clear_pointer (&self->changes, g_ptr_array_unref);
  g_free (self);
}

/* State */

static void
set_state (PatchesConnection      *self,
           PatchesConnectionState  state)
{
  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

/* The URL without user info, query and fragment, which may carry a token:
 * for messages */
static char *
url_for_display (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return g_strdup (url);

  return g_uri_join (G_URI_FLAGS_NONE,
                     g_uri_get_scheme (uri), NULL,
                     g_uri_get_host (uri), g_uri_get_port (uri),
                     g_uri_get_path (uri), NULL, NULL);
}

/* With pings on, a peer silent for the interval plus this is lost: the
 * transport's default, or less for short intervals, so that a client
 * asking for quick pings also notices a dead peer quickly */
static guint
keepalive_timeout_for (guint ping_interval)
{
  return MAX (1, MIN (ping_interval, PATCHES_WEBSOCKET_KEEPALIVE_TIMEOUT_DEFAULT));
}

/* Notifications (PROTOCOL.md §6) */

static void
handle_changes_committed (PatchesConnection *self,
                          PatchesValue      *params)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  PatchesValue *doc_id;
  PatchesValue *changes_value;
  PatchesValue *options;

  if (params == NULL || patches_value_get_kind (params) != PATCHES_VALUE_OBJECT)
    {
      g_debug ("Ignoring changesCommitted: params is not an object");
      return;
    }

  doc_id = patches_value_object_get (params, "docId");
  if (doc_id == NULL ||
      patches_value_get_kind (doc_id) != PATCHES_VALUE_STRING ||
      patches_value_get_string_len (doc_id) == 0)
    {
      g_debug ("Ignoring changesCommitted without a docId");
      return;
    }

  changes_value = patches_value_object_get (params, "changes");
  if (!(changes = patches_changes_from_value (changes_value, &error)))
    {
      g_debug ("Ignoring changesCommitted for %s: %s",
               patches_value_get_string (doc_id), error->message);
      return;
    }

  options = patches_value_object_get (params, "options");
  if (options != NULL && patches_value_get_kind (options) != PATCHES_VALUE_OBJECT)
    {
      g_debug ("changesCommitted for %s: ignoring options that are not an object",
               patches_value_get_string (doc_id));
      options = NULL;
    }

  g_signal_emit (self, signals[CHANGES_COMMITTED], 0,
                 patches_value_get_string (doc_id), changes, options);
}

static void
handle_doc_deleted (PatchesConnection *self,
                    PatchesValue      *params)
{
  PatchesValue *doc_id = NULL;

  if (params != NULL && patches_value_get_kind (params) == PATCHES_VALUE_OBJECT)
    doc_id = patches_value_object_get (params, "docId");

  if (doc_id == NULL ||
      patches_value_get_kind (doc_id) != PATCHES_VALUE_STRING ||
      patches_value_get_string_len (doc_id) == 0)
    {
      g_debug ("Ignoring docDeleted without a docId");
      return;
    }

  g_signal_emit (self, signals[DOC_DELETED], 0, patches_value_get_string (doc_id));
}

static void
on_rpc_notification (PatchesConnection *self,
                     const char        *method,
                     PatchesValue      *params,
                     PatchesRpc        *rpc)
{
  g_object_ref (self);

  if (strcmp (method, "changesCommitted") == 0)
    handle_changes_committed (self, params);
  else if (strcmp (method, "docDeleted") == 0)
    handle_doc_deleted (self, params);
  else
    g_debug ("Ignoring notification %.64s", method);

  g_object_unref (self);
}

/* The socket */

static void
on_closing_transport_closed (PatchesConnection *self,
                             guint              code,
                             const char        *reason,
                             PatchesTransport  *transport)
{
  g_signal_handlers_disconnect_by_data (transport, self);
  g_ptr_array_remove_fast (self->closing, transport);
}

/* Takes the transport away from the connection and the RPC peer (failing
 * the calls in flight); returns it */
static PatchesWebsocketTransport *
detach_transport (PatchesConnection *self)
{
  PatchesWebsocketTransport *transport = g_steal_pointer (&self->transport);

  if (transport == NULL)
    return NULL;

  g_clear_signal_handler (&self->transport_closed_handler, transport);
  if (patches_rpc_get_transport (self->rpc) == PATCHES_TRANSPORT (transport))
    patches_rpc_set_transport (self->rpc, NULL);

  return transport;
}

static void
on_transport_closed (PatchesConnection *self,
                     guint              code,
                     const char        *reason,
                     PatchesTransport  *transport)
{
  g_autoptr(PatchesWebsocketTransport) old = NULL;
  gboolean normal;

  if (transport != PATCHES_TRANSPORT (self->transport))
    return;

  normal = code == SOUP_WEBSOCKET_CLOSE_NORMAL || code == SOUP_WEBSOCKET_CLOSE_GOING_AWAY;
  g_debug ("Connection to %s closed: %u %s", self->display_url, code, reason ? reason : "");

  g_object_ref (self);
  old = detach_transport (self);
  set_state (self, normal ? PATCHES_CONNECTION_STATE_DISCONNECTED : PATCHES_CONNECTION_STATE_ERROR);
  g_signal_emit (self, signals[CLOSED], 0);
  g_object_unref (self);
}

static void
attach (PatchesConnection       *self,
        SoupWebsocketConnection *ws)
{
  self->transport = g_object_new (PATCHES_TYPE_WEBSOCKET_TRANSPORT,
                                  "connection", ws,
                                  "keepalive-timeout", keepalive_timeout_for (self->ping_interval),
                                  "keepalive-interval", self->ping_interval,
                                  NULL);

  /* After the RPC peer's own handler: the calls in flight have failed by
   * the time the state changes */
  self->transport_closed_handler =
    g_signal_connect_object (self->transport, "closed",
                             G_CALLBACK (on_transport_closed), self,
                             G_CONNECT_SWAPPED | G_CONNECT_AFTER);

  patches_rpc_set_transport (self->rpc, PATCHES_TRANSPORT (self->transport));
}

/* Opening */

typedef struct
{
  SoupMessage  *msg;
  GCancellable *internal;
  GCancellable *cancellable;
  gulong        cancelled_handler;
} OpenData;

static void
open_data_disconnect (OpenData *data)
{
  if (data->cancellable != NULL && data->cancelled_handler != 0)
    g_cancellable_disconnect (data->cancellable, data->cancelled_handler);
  data->cancelled_handler = 0;
}

static void
open_data_free (OpenData *data)
{
  open_data_disconnect (data);
  g_clear_object (&data->msg);
  g_clear_object (&data->internal);
  g_clear_object (&data->cancellable);
  g_free (data);
}

static void
on_open_cancelled (GCancellable *cancellable,
                   GCancellable *internal)
{
  g_cancellable_cancel (internal);
}

/* Small frames go out at once: no Nagle delay on requests */
static void
on_network_event (SoupMessage        *msg,
                  GSocketClientEvent  event,
                  GIOStream          *connection,
                  gpointer            user_data)
{
  if (event == G_SOCKET_CLIENT_CONNECTED && G_IS_SOCKET_CONNECTION (connection))
    g_socket_set_option (g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection)),
                         IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

static void
copy_header (const char *name,
             const char *value,
             gpointer    user_data)
{
  soup_message_headers_append (user_data, name, value);
}

static GError *
open_error (PatchesConnection *self,
            SoupMessage       *msg,
            const GError      *error)
{
  guint status = soup_message_get_status (msg);

  /* A refused handshake (401, 403, 429, …) says why in its status */
  if (status >= 100 && status != SOUP_STATUS_SWITCHING_PROTOCOLS)
    return g_error_new (error->domain, error->code,
                        "Could not connect to %s: HTTP %u %s (%s)",
                        self->display_url, status,
                        soup_message_get_reason_phrase (msg) ? soup_message_get_reason_phrase (msg)
                                                             : soup_status_get_phrase (status),
                        error->message);

  return g_error_new (error->domain, error->code,
                      "Could not connect to %s: %s", self->display_url, error->message);
}

static void
open_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupWebsocketConnection) ws = NULL;
  PatchesConnection *self = g_task_get_source_object (task);
  OpenData *data = g_task_get_task_data (task);
  guint status;

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  open_data_disconnect (data);

  /* Closed while connecting: the task has already completed */
  if (self->open_task != task)
    {
      if (ws != NULL)
        soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
      return;
    }

  g_clear_object (&self->open_task);

  if (ws == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          set_state (self, PATCHES_CONNECTION_STATE_DISCONNECTED);
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }

      g_debug ("Could not connect to %s: %s", self->display_url, error->message);
      status = soup_message_get_status (data->msg);
      self->last_http_status = (status >= 100 && status != SOUP_STATUS_SWITCHING_PROTOCOLS) ? status : 0;
      set_state (self, PATCHES_CONNECTION_STATE_ERROR);
      g_task_return_error (task, open_error (self, data->msg, error));
      return;
    }

  g_debug ("Connected to %s", self->display_url);
  attach (self, ws);
  set_state (self, PATCHES_CONNECTION_STATE_CONNECTED);
  g_task_return_boolean (task, TRUE);
}

/* Calls */

typedef enum {
  RESULT_VALUE,
  RESULT_VOID,
  RESULT_BOOLEAN,
  RESULT_STRV,
  RESULT_CHANGES,
  RESULT_SNAPSHOT,
  RESULT_COMMIT,
} ResultKind;

typedef struct
{
  char       *method;
  ResultKind  kind;
} CallData;

static void
call_data_free (CallData *data)
{
  g_free (data->method);
  g_free (data);
}

static char **
strv_from_value (PatchesValue *value)
{
  g_autoptr(GStrvBuilder) builder = NULL;

  if (value == NULL || patches_value_get_kind (value) != PATCHES_VALUE_ARRAY)
    return NULL;

  builder = g_strv_builder_new ();
  for (guint i = 0; i < patches_value_array_get_length (value); i++)
    {
      PatchesValue *element = patches_value_array_get (value, i);

      if (patches_value_get_kind (element) != PATCHES_VALUE_STRING)
        return NULL;
      g_strv_builder_add (builder, patches_value_get_string (element));
    }

  return g_strv_builder_end (builder);
}

static void
call_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) value = NULL;
  CallData *data = g_task_get_task_data (task);

  value = patches_rpc_call_finish (PATCHES_RPC (source), result, &error);
  if (error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  switch (data->kind)
    {
    case RESULT_VALUE:
      g_task_return_pointer (task, g_steal_pointer (&value), (GDestroyNotify) patches_value_unref);
      break;

    case RESULT_VOID:
      g_task_return_boolean (task, TRUE);
      break;

    case RESULT_BOOLEAN:
      g_task_return_boolean (task, value != NULL && patches_value_truthy (value));
      break;

    case RESULT_STRV:
      {
        char **ids = strv_from_value (value);

        if (ids == NULL)
          g_task_return_new_error (task, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_PARSE,
                                   "Invalid result of %s: expected an array of document ids",
                                   data->method);
        else
          g_task_return_pointer (task, ids, (GDestroyNotify) g_strfreev);
      }
      break;

    case RESULT_CHANGES:
      {
        GPtrArray *changes = patches_changes_from_value (value, &error);

        if (changes == NULL)
          {
            g_prefix_error (&error, "Invalid result of %s: ", data->method);
            g_task_return_error (task, g_steal_pointer (&error));
          }
        else
          g_task_return_pointer (task, changes, (GDestroyNotify) g_ptr_array_unref);
      }
      break;

    case RESULT_SNAPSHOT:
      {
        PatchesSnapshot *snapshot = patches_snapshot_from_value (value, &error);

        if (snapshot == NULL)
          {
            g_prefix_error (&error, "Invalid result of %s: ", data->method);
            g_task_return_error (task, g_steal_pointer (&error));
          }
        else
          g_task_return_pointer (task, snapshot, (GDestroyNotify) patches_snapshot_unref);
      }
      break;

    case RESULT_COMMIT:
      {
        PatchesCommitResult *commit = patches_commit_result_from_value (value, &error);

        if (commit == NULL)
          {
            g_prefix_error (&error, "Invalid result of %s: ", data->method);
            g_task_return_error (task, g_steal_pointer (&error));
          }
        else
          g_task_return_pointer (task, commit, (GDestroyNotify) patches_commit_result_unref);
      }
      break;

    default:
      g_assert_not_reached ();
    }
}

/* Sends @method with @params (taken) and completes a task tagged
 * @source_tag with the result read as @kind */
static void
call (PatchesConnection   *self,
      const char          *method,
      PatchesValue        *params,
      ResultKind           kind,
      gpointer             source_tag,
      GCancellable        *cancellable,
      GAsyncReadyCallback  callback,
      gpointer             user_data)
{
  g_autoptr(PatchesValue) owned_params = params;
  g_autoptr(GTask) task = NULL;
  CallData *data;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  data = g_new0 (CallData, 1);
  data->method = g_strdup (method);
  data->kind = kind;
  g_task_set_task_data (task, data, (GDestroyNotify) call_data_free);

  patches_rpc_call_async (self->rpc, method, owned_params, cancellable,
                          call_cb, g_steal_pointer (&task));
}

static gpointer
call_finish_pointer (PatchesConnection  *self,
                     GAsyncResult       *result,
                     gpointer            source_tag,
                     GError            **error)
{
  g_return_val_if_fail (PATCHES_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
call_finish_boolean (PatchesConnection  *self,
                     GAsyncResult       *result,
                     gpointer            source_tag,
                     GError            **error)
{
  g_return_val_if_fail (PATCHES_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Parameter lists (PROTOCOL.md §3.2) */

static PatchesValue *
params_new (const char *first)
{
  PatchesValue *params = patches_value_new_array ();

  if (first != NULL)
    patches_value_array_append (params, patches_value_new_string (first));

  return params;
}

static void
params_add_number (PatchesValue *params,
                   gint64        number)
{
  patches_value_array_append (params, patches_value_new_number ((double) number));
}

/* Adds @value unless it is %NULL (a trailing `undefined`, dropped) */
static void
params_add_value (PatchesValue *params,
                  PatchesValue *value)
{
  if (value != NULL)
    patches_value_array_append (params, patches_value_ref (value));
}

/* `[first]`, then @second unless it is %NULL, then @last unless it is
 * %NULL */
static PatchesValue *
params_of (const char   *first,
           const char   *second,
           PatchesValue *last)
{
  PatchesValue *params = params_new (first);

  if (second != NULL)
    patches_value_array_append (params, patches_value_new_string (second));
  params_add_value (params, last);
  return params;
}

/* `[[ids…]]` */
static PatchesValue *
ids_params (const char * const *ids)
{
  PatchesValue *params = params_new (NULL);
  PatchesValue *array = patches_value_new_array ();

  for (guint i = 0; ids != NULL && ids[i] != NULL; i++)
    patches_value_array_append (array, patches_value_new_string (ids[i]));
  patches_value_array_append (params, array);

  return params;
}

/* GObject */

static void
patches_connection_dispose (GObject *object)
{
  PatchesConnection *self = (PatchesConnection *)object;
  g_autoptr(PatchesWebsocketTransport) transport = NULL;

  if (self->open_task != NULL)
    {
      g_autoptr(GTask) task = g_steal_pointer (&self->open_task);
      OpenData *data = g_task_get_task_data (task);

      g_cancellable_cancel (data->internal);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "Connection to %s closed while connecting", self->display_url);
    }

  if (self->rpc != NULL)
    {
      transport = detach_transport (self);
      g_signal_handlers_disconnect_by_data (self->rpc, self);
      patches_rpc_set_transport (self->rpc, NULL);
    }
  if (transport != NULL)
    patches_transport_close (PATCHES_TRANSPORT (transport), SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);

  if (self->closing != NULL)
    {
      for (guint i = 0; i < self->closing->len; i++)
        g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->closing, i), self);
      g_ptr_array_set_size (self->closing, 0);
    }

  g_clear_object (&self->rpc);
  g_clear_object (&self->session);
  g_clear_object (&self->tls_database);

  G_OBJECT_CLASS (patches_connection_parent_class)->dispose (object);
}

static void
patches_connection_finalize (GObject *object)
{
  PatchesConnection *self = (PatchesConnection *)object;

  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->display_url, g_free);
  g_clear_pointer (&self->headers, soup_message_headers_unref);
  g_clear_pointer (&self->protocols, g_strfreev);
  g_clear_pointer (&self->closing, g_ptr_array_unref);

  G_OBJECT_CLASS (patches_connection_parent_class)->finalize (object);
}

static void
patches_connection_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  PatchesConnection *self = PATCHES_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;

    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    case PROP_PING_INTERVAL:
      g_value_set_uint (value, self->ping_interval);
      break;

    case PROP_REQUEST_TIMEOUT:
      g_value_set_uint (value, patches_rpc_get_request_timeout (self->rpc));
      break;

    case PROP_TLS_DATABASE:
      g_value_set_object (value, patches_connection_get_tls_database (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_connection_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  PatchesConnection *self = PATCHES_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_URL:
      g_free (self->url);
      self->url = g_value_dup_string (value);
      g_free (self->display_url);
      self->display_url = self->url ? url_for_display (self->url) : NULL;
      break;

    case PROP_PING_INTERVAL:
      patches_connection_set_ping_interval (self, g_value_get_uint (value));
      break;

    case PROP_REQUEST_TIMEOUT:
      patches_connection_set_request_timeout (self, g_value_get_uint (value));
      break;

    case PROP_TLS_DATABASE:
      patches_connection_set_tls_database (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_connection_class_init (PatchesConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = patches_connection_dispose;
  object_class->finalize = patches_connection_finalize;
  object_class->get_property = patches_connection_get_property;
  object_class->set_property = patches_connection_set_property;

  /**
   * PatchesConnection:url:
   *
   * The server's `ws://` or `wss://` URL, used as is (PROTOCOL.md §2.1).
   */
  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesConnection:state:
   *
   * The transport state (PROTOCOL.md §2.5), notified only when it
   * changes.  %PATCHES_CONNECTION_STATE_ERROR follows a failed dial or a
   * socket that closed abnormally (no close frame, a close code other
   * than 1000 and 1001, or a peer that stopped answering pings).
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       PATCHES_TYPE_CONNECTION_STATE,
                       PATCHES_CONNECTION_STATE_DISCONNECTED,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesConnection:ping-interval:
   *
   * Seconds between WebSocket pings to the server; 0 sends none.  A
   * server that answers nothing (no pong, no frame) for the interval plus
   * the interval again (at most plus 10 s) counts as lost: the socket
   * closes and the state becomes %PATCHES_CONNECTION_STATE_ERROR.
   * Applies to the open socket at once.
   */
  properties[PROP_PING_INTERVAL] =
    g_param_spec_uint ("ping-interval", NULL, NULL,
                       0, G_MAXUINT / 4, PING_INTERVAL_DEFAULT,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesConnection:request-timeout:
   *
   * Seconds a call waits for the server's response before failing with
   * %G_IO_ERROR_TIMED_OUT, a network-class error
   * (patches_rpc_error_is_network()); 0 waits as long as the socket
   * stays open.  Guards against a server that answers pings but never
   * answers a call (PROTOCOL.md §12 hazard 6).  Applies to calls made
   * afterwards.
   */
  properties[PROP_REQUEST_TIMEOUT] =
    g_param_spec_uint ("request-timeout", NULL, NULL,
                       0, G_MAXUINT / 1000, REQUEST_TIMEOUT_DEFAULT,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesConnection:tls-database:
   *
   * The certificates a `wss://` server's certificate is checked against:
   * %NULL for the system's (the default).  Set one that holds a private
   * certificate authority to reach a server signed by it.  Applies to the
   * next dial.
   */
  properties[PROP_TLS_DATABASE] =
    g_param_spec_object ("tls-database", NULL, NULL,
                         G_TYPE_TLS_DATABASE,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PatchesConnection::changes-committed:
   * @self: a #PatchesConnection
   * @doc_id: the document
   * @changes: (element-type PatchesChange): the newly committed changes,
   *   ascending by rev
   * @options: (nullable): the committer's options, if it sent some
   *
   * The server's `changesCommitted` notification (PROTOCOL.md §6.1).
   * Receivers must tolerate duplicates, gaps and echoes (§8.7).  A
   * notification with malformed params is logged and dropped.
   */
  signals[CHANGES_COMMITTED] =
    g_signal_new ("changes-committed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 3,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_PTR_ARRAY | G_SIGNAL_TYPE_STATIC_SCOPE,
                  PATCHES_TYPE_VALUE | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * PatchesConnection::doc-deleted:
   * @self: a #PatchesConnection
   * @doc_id: the document
   *
   * The server's `docDeleted` notification (PROTOCOL.md §6.2): another
   * client deleted the document, or it was found deleted when
   * subscribing.
   */
  signals[DOC_DELETED] =
    g_signal_new ("doc-deleted",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * PatchesConnection::closed:
   * @self: a #PatchesConnection
   *
   * Emitted once for every open socket that went away, whoever closed it
   * (patches_connection_close() too), after #PatchesConnection:state
   * changed and the calls in flight failed.  Not emitted for a dial that
   * failed.
   */
  signals[CLOSED] =
    g_signal_new ("closed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 0);
}

static void
patches_connection_init (PatchesConnection *self)
{
  self->ping_interval = PING_INTERVAL_DEFAULT;
  self->state = PATCHES_CONNECTION_STATE_DISCONNECTED;
  self->session = soup_session_new ();
  self->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  self->closing = g_ptr_array_new_with_free_func (g_object_unref);
  self->rpc = patches_rpc_new (NULL, PATCHES_RPC_ROLE_CLIENT);
  patches_rpc_set_request_timeout (self->rpc, REQUEST_TIMEOUT_DEFAULT);

  g_signal_connect_object (self->rpc, "notification",
                           G_CALLBACK (on_rpc_notification), self, G_CONNECT_SWAPPED);
}

/* Public API */

/**
 * patches_connection_new:
 * @url: the server's URL, `ws://HOST:PORT/PATH` or `wss://…`
 *
 * Creates a connection; nothing is dialled until
 * patches_connection_open_async().
 *
 * Returns: (transfer full): a new #PatchesConnection
 */
PatchesConnection *
patches_connection_new (const char *url)
{
  g_return_val_if_fail (url != NULL, NULL);

  return g_object_new (PATCHES_TYPE_CONNECTION,
                       "url", url,
                       NULL);
}

/**
 * patches_connection_get_tls_database:
 * @self: a #PatchesConnection
 *
 * Gets #PatchesConnection:tls-database.
 *
 * Returns: (transfer none) (nullable): the database set, or %NULL when
 *   the system's is used
 */
GTlsDatabase *
patches_connection_get_tls_database (PatchesConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_CONNECTION (self), NULL);

  return self->tls_database;
}

/**
 * patches_connection_set_tls_database:
 * @self: a #PatchesConnection
 * @database: (nullable): the certificates to trust, or %NULL for the
 *   system's
 *
 * Sets #PatchesConnection:tls-database.
 */
void
patches_connection_set_tls_database (PatchesConnection *self,
                                     GTlsDatabase      *database)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));

  if (!g_set_object (&self->tls_database, database))
    return;

  if (database != NULL)
    soup_session_set_tls_database (self->session, database);
  else
    {
      /* What a SoupSession starts with */
      g_autoptr(GTlsDatabase) system = g_tls_backend_get_default_database (g_tls_backend_get_default ());

      soup_session_set_tls_database (self->session, system);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_DATABASE]);
}

/**
 * patches_connection_get_url:
 * @self: a #PatchesConnection
 *
 * Returns: the URL
 */
const char *
patches_connection_get_url (PatchesConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_CONNECTION (self), NULL);

  return self->url;
}

/**
 * patches_connection_get_state:
 * @self: a #PatchesConnection
 *
 * Returns: the #PatchesConnection:state
 */
PatchesConnectionState
patches_connection_get_state (PatchesConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_CONNECTION (self), PATCHES_CONNECTION_STATE_DISCONNECTED);

  return self->state;
}

/**
 * patches_connection_get_rpc:
 * @self: a #PatchesConnection
 *
 * The JSON-RPC peer the calls go through, for methods and notifications
 * this class does not wrap.  It is the same object for the connection's
 * whole life; its transport is the open socket, or %NULL.
 *
 * Returns: (transfer none): the #PatchesRpc
 */
PatchesRpc *
patches_connection_get_rpc (PatchesConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_CONNECTION (self), NULL);

  return self->rpc;
}

/**
 * patches_connection_set_header:
 * @self: a #PatchesConnection
 * @name: a header name, such as `Authorization` or `X-Patches-Client-Id`
 * @value: (nullable): its value, or %NULL to remove it
 *
 * Sets a header of the WebSocket handshake request, replacing any earlier
 * value.  Takes effect at the next patches_connection_open_async().
 */
void
patches_connection_set_header (PatchesConnection *self,
                               const char        *name,
                               const char        *value)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (name != NULL);

  if (value != NULL)
    soup_message_headers_replace (self->headers, name, value);
  else
    soup_message_headers_remove (self->headers, name);
}

/**
 * patches_connection_set_protocols:
 * @self: a #PatchesConnection
 * @protocols: (nullable) (array zero-terminated=1): the WebSocket
 *   subprotocols to offer, or %NULL for none
 *
 * Sets the subprotocols offered in the handshake (PROTOCOL.md §2.1).
 * Takes effect at the next patches_connection_open_async().
 */
void
patches_connection_set_protocols (PatchesConnection  *self,
                                  const char * const *protocols)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));

  g_strfreev (self->protocols);
  self->protocols = (protocols != NULL && protocols[0] != NULL) ? g_strdupv ((char **) protocols) : NULL;
}

/**
 * patches_connection_get_last_http_status:
 * @self: a #PatchesConnection
 *
 * The HTTP status with which the server refused the handshake of the
 * last dial (401 for a wrong token, 403, 404 for a wrong path, 429,
 * 503, …), so that callers need not read it from the error message.
 * It is 0 when that dial got no HTTP answer (a refused TCP connection, a
 * TLS failure, a cancelled dial), when it succeeded, and before the
 * first dial; a new dial resets it.
 *
 * Returns: the HTTP status of the last refused handshake, or 0
 */
guint
patches_connection_get_last_http_status (PatchesConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_CONNECTION (self), 0);

  return self->last_http_status;
}

/**
 * patches_connection_get_ping_interval:
 * @self: a #PatchesConnection
 *
 * Returns: seconds between pings, 0 for none
 */
guint
patches_connection_get_ping_interval (PatchesConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_CONNECTION (self), 0);

  return self->ping_interval;
}

/**
 * patches_connection_set_ping_interval:
 * @self: a #PatchesConnection
 * @seconds: seconds between pings, 0 for none
 *
 * Sets #PatchesConnection:ping-interval.
 */
void
patches_connection_set_ping_interval (PatchesConnection *self,
                                      guint              seconds)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));

  if (self->ping_interval == seconds)
    return;

  self->ping_interval = seconds;
  if (self->transport != NULL)
    {
      patches_websocket_transport_set_keepalive_timeout (self->transport, keepalive_timeout_for (seconds));
      patches_websocket_transport_set_keepalive_interval (self->transport, seconds);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PING_INTERVAL]);
}

/**
 * patches_connection_get_request_timeout:
 * @self: a #PatchesConnection
 *
 * Returns: seconds a call waits for its response, 0 for no limit
 */
guint
patches_connection_get_request_timeout (PatchesConnection *self)
{
  g_return_val_if_fail (PATCHES_IS_CONNECTION (self), 0);

  return patches_rpc_get_request_timeout (self->rpc);
}

/**
 * patches_connection_set_request_timeout:
 * @self: a #PatchesConnection
 * @seconds: seconds a call waits for its response, 0 for no limit
 *
 * Sets #PatchesConnection:request-timeout.
 */
void
patches_connection_set_request_timeout (PatchesConnection *self,
                                        guint              seconds)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));

  seconds = MIN (seconds, G_MAXUINT / 1000);
  if (patches_rpc_get_request_timeout (self->rpc) == seconds)
    return;

  patches_rpc_set_request_timeout (self->rpc, seconds);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REQUEST_TIMEOUT]);
}

/**
 * patches_connection_open_async:
 * @self: a #PatchesConnection
 * @cancellable: (nullable): a #GCancellable to abort the dial
 * @callback: called when the socket is open or the dial failed
 * @user_data: closure data for @callback
 *
 * Dials the server: a WebSocket handshake with the headers and
 * subprotocols set, then #PatchesConnection:state
 * %PATCHES_CONNECTION_STATE_CONNECTED.  When already connected it
 * completes at once; while a dial is in progress it fails with
 * %G_IO_ERROR_PENDING.
 */
void
patches_connection_open_async (PatchesConnection   *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GUri) uri = NULL;
  SoupMessage *msg;
  OpenData *data;
  const char *scheme;

  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, patches_connection_open_async);

  if (self->state == PATCHES_CONNECTION_STATE_CONNECTING)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               "Already connecting to %s", self->display_url);
      return;
    }

  if (self->state == PATCHES_CONNECTION_STATE_CONNECTED)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    return;

  self->last_http_status = 0;

  uri = g_uri_parse (self->url, SOUP_HTTP_URI_FLAGS, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' ||
      !(g_ascii_strcasecmp (scheme, "ws") == 0 || g_ascii_strcasecmp (scheme, "wss") == 0 ||
        g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0))
    {
      set_state (self, PATCHES_CONNECTION_STATE_ERROR);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "Could not connect to %s: not a ws:// or wss:// URL",
                               self->display_url);
      return;
    }

  msg = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  soup_message_headers_foreach (self->headers, copy_header, soup_message_get_request_headers (msg));
  g_signal_connect (msg, "network-event", G_CALLBACK (on_network_event), NULL);

  data = g_new0 (OpenData, 1);
  data->msg = msg;
  data->internal = g_cancellable_new ();
  if (cancellable != NULL)
    {
      data->cancellable = g_object_ref (cancellable);
      data->cancelled_handler = g_cancellable_connect (cancellable, G_CALLBACK (on_open_cancelled),
                                                       g_object_ref (data->internal), g_object_unref);
    }
  g_task_set_task_data (task, data, (GDestroyNotify) open_data_free);

  self->open_task = g_object_ref (task);

  g_debug ("Connecting to %s", self->display_url);
  soup_session_websocket_connect_async (self->session, msg, NULL, self->protocols,
                                        G_PRIORITY_DEFAULT, data->internal,
                                        open_cb, g_steal_pointer (&task));

  set_state (self, PATCHES_CONNECTION_STATE_CONNECTING);
}

/**
 * patches_connection_open_finish:
 * @self: a #PatchesConnection
 * @result: the #GAsyncResult given to the callback
 * @error: a location for a #GError
 *
 * Completes patches_connection_open_async().  A failed dial leaves the
 * state %PATCHES_CONNECTION_STATE_ERROR and gives libsoup's or GIO's
 * error (%G_IO_ERROR_CONNECTION_REFUSED, %SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET
 * for a refused handshake, …) with a message naming the URL (without its
 * query) and, for a refused handshake, the HTTP status (also given by
 * patches_connection_get_last_http_status()).  A dial cancelled
 * or closed with patches_connection_close() fails with
 * %G_IO_ERROR_CANCELLED and leaves the state
 * %PATCHES_CONNECTION_STATE_DISCONNECTED.
 *
 * Returns: %TRUE if the socket is open
 */
gboolean
patches_connection_open_finish (PatchesConnection  *self,
                                GAsyncResult       *result,
                                GError            **error)
{
  return call_finish_boolean (self, result, patches_connection_open_async, error);
}

/**
 * patches_connection_close:
 * @self: a #PatchesConnection
 *
 * Closes the socket (code 1000) or aborts the dial in progress.  The
 * state becomes %PATCHES_CONNECTION_STATE_DISCONNECTED at once, the calls
 * in flight fail with %PATCHES_RPC_ERROR_DISCONNECTED, and
 * #PatchesConnection::closed is emitted if a socket was open.
 */
void
patches_connection_close (PatchesConnection *self)
{
  g_autoptr(PatchesWebsocketTransport) transport = NULL;

  g_return_if_fail (PATCHES_IS_CONNECTION (self));

  g_object_ref (self);

  if (self->open_task != NULL)
    {
      g_autoptr(GTask) task = g_steal_pointer (&self->open_task);
      OpenData *data = g_task_get_task_data (task);

      g_cancellable_cancel (data->internal);
      set_state (self, PATCHES_CONNECTION_STATE_DISCONNECTED);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "Connection to %s closed while connecting", self->display_url);
    }
  else if ((transport = detach_transport (self)) != NULL)
    {
      if (patches_transport_get_state (PATCHES_TRANSPORT (transport)) != PATCHES_TRANSPORT_STATE_CLOSED)
        {
          /* Kept until the close handshake is over */
          g_signal_connect_object (transport, "closed",
                                   G_CALLBACK (on_closing_transport_closed), self,
                                   G_CONNECT_SWAPPED);
          g_ptr_array_add (self->closing, g_object_ref (transport));
          patches_transport_close (PATCHES_TRANSPORT (transport), SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
        }

      set_state (self, PATCHES_CONNECTION_STATE_DISCONNECTED);
      g_signal_emit (self, signals[CLOSED], 0);
    }
  else
    set_state (self, PATCHES_CONNECTION_STATE_DISCONNECTED);

  g_object_unref (self);
}

/**
 * patches_connection_call_async:
 * @self: a #PatchesConnection
 * @method: the method
 * @params: (nullable): the positional parameters, an array, or %NULL to
 *   send none
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response
 * @user_data: closure data for @callback
 *
 * Calls any method, for those this class does not wrap.  Fails at once
 * with %PATCHES_RPC_ERROR_NOT_CONNECTED when no socket is open.
 */
void
patches_connection_call_async (PatchesConnection   *self,
                               const char          *method,
                               PatchesValue        *params,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (params == NULL || patches_value_get_kind (params) == PATCHES_VALUE_ARRAY);

  call (self, method, params ? patches_value_ref (params) : NULL, RESULT_VALUE,
        patches_connection_call_async, cancellable, callback, user_data);
}

/**
 * patches_connection_call_finish:
 * @self: a #PatchesConnection
 * @result: the #GAsyncResult given to the callback
 * @error: a location for a #GError
 *
 * Completes patches_connection_call_async().  A void result (no `result`
 * member) is %NULL without an error: check @error.  Errors are those of
 * patches_rpc_call_finish(): %PATCHES_RPC_ERROR_REMOTE with the server's
 * code and data, or one of the network class.
 *
 * Returns: (transfer full) (nullable): the result
 */
PatchesValue *
patches_connection_call_finish (PatchesConnection  *self,
                                GAsyncResult       *result,
                                GError            **error)
{
  return call_finish_pointer (self, result, patches_connection_call_async, error);
}

/**
 * patches_connection_subscribe_async:
 * @self: a #PatchesConnection
 * @doc_ids: (array zero-terminated=1): the documents
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response
 * @user_data: closure data for @callback
 *
 * `subscribe` (PROTOCOL.md §5.1), sent as `[[ids…]]`.
 */
void
patches_connection_subscribe_async (PatchesConnection   *self,
                                    const char * const  *doc_ids,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));

  call (self, "subscribe", ids_params (doc_ids), RESULT_STRV,
        patches_connection_subscribe_async, cancellable, callback, user_data);
}

/**
 * patches_connection_subscribe_finish:
 * @self: a #PatchesConnection
 * @result: the #GAsyncResult given to the callback
 * @error: a location for a #GError
 *
 * Returns: (transfer full) (array zero-terminated=1) (nullable): the ids
 *   now subscribed (those the server allowed), or %NULL with @error set
 */
char **
patches_connection_subscribe_finish (PatchesConnection  *self,
                                     GAsyncResult       *result,
                                     GError            **error)
{
  return call_finish_pointer (self, result, patches_connection_subscribe_async, error);
}

/**
 * patches_connection_unsubscribe_async:
 * @self: a #PatchesConnection
 * @doc_ids: (array zero-terminated=1): the documents
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response
 * @user_data: closure data for @callback
 *
 * `unsubscribe` (PROTOCOL.md §5.2), sent as `[[ids…]]`.
 */
void
patches_connection_unsubscribe_async (PatchesConnection   *self,
                                      const char * const  *doc_ids,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));

  call (self, "unsubscribe", ids_params (doc_ids), RESULT_STRV,
        patches_connection_unsubscribe_async, cancellable, callback, user_data);
}

/**
 * patches_connection_unsubscribe_finish:
 * @self: a #PatchesConnection
 * @result: the #GAsyncResult given to the callback
 * @error: a location for a #GError
 *
 * Returns: (transfer full) (array zero-terminated=1) (nullable): the ids
 *   removed, or %NULL with @error set
 */
char **
patches_connection_unsubscribe_finish (PatchesConnection  *self,
                                       GAsyncResult       *result,
                                       GError            **error)
{
  return call_finish_pointer (self, result, patches_connection_unsubscribe_async, error);
}

/**
 * patches_connection_get_doc_async:
 * @self: a #PatchesConnection
 * @doc_id: the document
 * @at_rev: a past revision to read the document at, or 0 for the head
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response
 * @user_data: closure data for @callback
 *
 * `getDoc` (PROTOCOL.md §5.3): `[docId]`, or `[docId, {"rev": at_rev}]`
 * when @at_rev is positive.
 */
void
patches_connection_get_doc_async (PatchesConnection   *self,
                                  const char          *doc_id,
                                  gint64               at_rev,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  PatchesValue *params;

  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (doc_id != NULL);

  params = params_new (doc_id);
  if (at_rev > 0)
    {
      PatchesValue *options = patches_value_new_object ();

      patches_value_object_set (options, "rev", patches_value_new_number ((double) at_rev));
      patches_value_array_append (params, options);
    }
  call (self, "getDoc", params, RESULT_SNAPSHOT,
        patches_connection_get_doc_async, cancellable, callback, user_data);
}

/**
 * patches_connection_get_doc_finish:
 * @self: a #PatchesConnection
 * @result: the #GAsyncResult given to the callback
 * @error: a location for a #GError
 *
 * Completes patches_connection_get_doc_async().  A result that is not a
 * snapshot fails with %PATCHES_ERROR_INVALID_CHANGE.
 *
 * Returns: (transfer full) (nullable): the snapshot, or %NULL with @error
 *   set
 */
PatchesSnapshot *
patches_connection_get_doc_finish (PatchesConnection  *self,
                                   GAsyncResult       *result,
                                   GError            **error)
{
  return call_finish_pointer (self, result, patches_connection_get_doc_async, error);
}

/**
 * patches_connection_get_changes_since_async:
 * @self: a #PatchesConnection
 * @doc_id: the document
 * @rev: the last revision the caller has
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response
 * @user_data: closure data for @callback
 *
 * `getChangesSince` (PROTOCOL.md §5.4): `[docId, rev]`.
 */
void
patches_connection_get_changes_since_async (PatchesConnection   *self,
                                            const char          *doc_id,
                                            gint64               rev,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  PatchesValue *params;

  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (doc_id != NULL);

  params = params_new (doc_id);
  params_add_number (params, rev);
  call (self, "getChangesSince", params, RESULT_CHANGES,
        patches_connection_get_changes_since_async, cancellable, callback, user_data);
}

/**
 * patches_connection_get_changes_since_finish:
 * @self: a #PatchesConnection
 * @result: the #GAsyncResult given to the callback
 * @error: a location for a #GError
 *
 * Returns: (transfer full) (element-type PatchesChange) (nullable): every
 *   committed change after the revision, ascending, or %NULL with @error
 *   set (%PATCHES_ERROR_INVALID_CHANGE for a result that is not a list of
 *   changes)
 */
GPtrArray *
patches_connection_get_changes_since_finish (PatchesConnection  *self,
                                             GAsyncResult       *result,
                                             GError            **error)
{
  return call_finish_pointer (self, result, patches_connection_get_changes_since_async, error);
}

/**
 * patches_connection_commit_changes_async:
 * @self: a #PatchesConnection
 * @doc_id: the document
 * @changes: (element-type PatchesChange): the pending changes to commit
 * @options: (nullable): `CommitChangesOptions` (PROTOCOL.md §4.6), or
 *   %NULL to send none
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response
 * @user_data: closure data for @callback
 *
 * `commitChanges` (PROTOCOL.md §5.5): `[docId, changes]`, or
 * `[docId, changes, options]` when @options is given.
 */
void
patches_connection_commit_changes_async (PatchesConnection   *self,
                                         const char          *doc_id,
                                         GPtrArray           *changes,
                                         PatchesValue        *options,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  PatchesValue *params;

  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (doc_id != NULL);
  g_return_if_fail (changes != NULL);

  params = params_new (doc_id);
  patches_value_array_append (params, patches_changes_to_value (changes));
  params_add_value (params, options);
  call (self, "commitChanges", params, RESULT_COMMIT,
        patches_connection_commit_changes_async, cancellable, callback, user_data);
}

/**
 * patches_connection_commit_changes_finish:
 * @self: a #PatchesConnection
 * @result: the #GAsyncResult given to the callback
 * @error: a location for a #GError
 *
 * Completes patches_connection_commit_changes_async().  The server's
 * refusals (400, 409, …) are %PATCHES_RPC_ERROR_REMOTE errors with its
 * code and data (patches_rpc_error_get_code(),
 * patches_rpc_error_get_data()).
 *
 * Returns: (transfer full) (nullable): the commit result, or %NULL with
 *   @error set
 */
PatchesCommitResult *
patches_connection_commit_changes_finish (PatchesConnection  *self,
                                          GAsyncResult       *result,
                                          GError            **error)
{
  return call_finish_pointer (self, result, patches_connection_commit_changes_async, error);
}

/**
 * patches_connection_delete_doc_async:
 * @self: a #PatchesConnection
 * @doc_id: the document
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response
 * @user_data: closure data for @callback
 *
 * `deleteDoc` (PROTOCOL.md §5.6): `[docId]`.
 */
void
patches_connection_delete_doc_async (PatchesConnection   *self,
                                     const char          *doc_id,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (doc_id != NULL);

  call (self, "deleteDoc", params_new (doc_id), RESULT_VOID,
        patches_connection_delete_doc_async, cancellable, callback, user_data);
}

/**
 * patches_connection_delete_doc_finish:
 * @self: a #PatchesConnection
 * @result: the #GAsyncResult given to the callback
 * @error: a location for a #GError
 *
 * Returns: %TRUE if the server deleted the document
 */
gboolean
patches_connection_delete_doc_finish (PatchesConnection  *self,
                                      GAsyncResult       *result,
                                      GError            **error)
{
  return call_finish_boolean (self, result, patches_connection_delete_doc_async, error);
}

/**
 * patches_connection_undelete_doc_async:
 * @self: a #PatchesConnection
 * @doc_id: the document
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response
 * @user_data: closure data for @callback
 *
 * `undeleteDoc` (PROTOCOL.md §5.7): `[docId]`.
 */
void
patches_connection_undelete_doc_async (PatchesConnection   *self,
                                       const char          *doc_id,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (doc_id != NULL);

  call (self, "undeleteDoc", params_new (doc_id), RESULT_BOOLEAN,
        patches_connection_undelete_doc_async, cancellable, callback, user_data);
}

/**
 * patches_connection_undelete_doc_finish:
 * @self: a #PatchesConnection
 * @result: the #GAsyncResult given to the callback
 * @error: a location for a #GError
 *
 * Returns the server's answer: %TRUE if a tombstone was removed, %FALSE
 * (without @error) if there was none.  So check @error.
 *
 * Returns: whether a tombstone was removed
 */
gboolean
patches_connection_undelete_doc_finish (PatchesConnection  *self,
                                        GAsyncResult       *result,
                                        GError            **error)
{
  return call_finish_boolean (self, result, patches_connection_undelete_doc_async, error);
}

/* Versions and branches: results as values, one finish function */

static void
value_call (PatchesConnection   *self,
            const char          *method,
            PatchesValue        *params,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  call (self, method, params, RESULT_VALUE,
        patches_connection_value_finish, cancellable, callback, user_data);
}

/**
 * patches_connection_list_versions_async:
 * @self: a #PatchesConnection
 * @doc_id: the document
 * @options: (nullable): `ListVersionsOptions` (PROTOCOL.md §4.8)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response; finish with
 *   patches_connection_value_finish()
 * @user_data: closure data for @callback
 *
 * `listVersions` (PROTOCOL.md §5.8): `[docId]` or `[docId, options]`.
 * The result is an array of version metadata.
 */
void
patches_connection_list_versions_async (PatchesConnection   *self,
                                        const char          *doc_id,
                                        PatchesValue        *options,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (doc_id != NULL);

  value_call (self, "listVersions", params_of (doc_id, NULL, options),
              cancellable, callback, user_data);
}

/**
 * patches_connection_create_version_async:
 * @self: a #PatchesConnection
 * @doc_id: the document
 * @metadata: (nullable): the version's metadata, such as `{"name": …}`
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response; finish with
 *   patches_connection_value_finish()
 * @user_data: closure data for @callback
 *
 * `createVersion` (PROTOCOL.md §5.9): `[docId, metadata]` or `[docId]`.
 * The result is the new version's id, or `null` when nothing changed
 * since the last version.
 */
void
patches_connection_create_version_async (PatchesConnection   *self,
                                         const char          *doc_id,
                                         PatchesValue        *metadata,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (doc_id != NULL);

  value_call (self, "createVersion", params_of (doc_id, NULL, metadata),
              cancellable, callback, user_data);
}

/**
 * patches_connection_update_version_async:
 * @self: a #PatchesConnection
 * @doc_id: the document
 * @version_id: the version
 * @metadata: (nullable): the metadata to set
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response; finish with
 *   patches_connection_value_finish()
 * @user_data: closure data for @callback
 *
 * `updateVersion` (PROTOCOL.md §5.10): `[docId, versionId, metadata]`.
 * The result is void.
 */
void
patches_connection_update_version_async (PatchesConnection   *self,
                                         const char          *doc_id,
                                         const char          *version_id,
                                         PatchesValue        *metadata,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (doc_id != NULL);
  g_return_if_fail (version_id != NULL);

  value_call (self, "updateVersion", params_of (doc_id, version_id, metadata),
              cancellable, callback, user_data);
}

/**
 * patches_connection_get_version_state_async:
 * @self: a #PatchesConnection
 * @doc_id: the document
 * @version_id: the version
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response; finish with
 *   patches_connection_value_finish()
 * @user_data: closure data for @callback
 *
 * `getVersionState` (PROTOCOL.md §5.11): `[docId, versionId]`.  The
 * result is the version's state, bare (not wrapped in `{state, rev}`).
 */
void
patches_connection_get_version_state_async (PatchesConnection   *self,
                                            const char          *doc_id,
                                            const char          *version_id,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (doc_id != NULL);
  g_return_if_fail (version_id != NULL);

  value_call (self, "getVersionState", params_of (doc_id, version_id, NULL),
              cancellable, callback, user_data);
}

/**
 * patches_connection_get_version_changes_async:
 * @self: a #PatchesConnection
 * @doc_id: the document
 * @version_id: the version
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response; finish with
 *   patches_connection_value_finish()
 * @user_data: closure data for @callback
 *
 * `getVersionChanges` (PROTOCOL.md §5.12): `[docId, versionId]`.  The
 * result is an array of changes (patches_changes_from_value() reads it).
 */
void
patches_connection_get_version_changes_async (PatchesConnection   *self,
                                              const char          *doc_id,
                                              const char          *version_id,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (doc_id != NULL);
  g_return_if_fail (version_id != NULL);

  value_call (self, "getVersionChanges", params_of (doc_id, version_id, NULL),
              cancellable, callback, user_data);
}

/**
 * patches_connection_get_state_before_version_async:
 * @self: a #PatchesConnection
 * @doc_id: the document
 * @version_id: the version
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response; finish with
 *   patches_connection_value_finish()
 * @user_data: closure data for @callback
 *
 * `getStateBeforeVersion` (PROTOCOL.md §5.13): `[docId, versionId]`.  The
 * result is the bare state just before the version.
 */
void
patches_connection_get_state_before_version_async (PatchesConnection   *self,
                                                   const char          *doc_id,
                                                   const char          *version_id,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (doc_id != NULL);
  g_return_if_fail (version_id != NULL);

  value_call (self, "getStateBeforeVersion", params_of (doc_id, version_id, NULL),
              cancellable, callback, user_data);
}

/**
 * patches_connection_list_branches_async:
 * @self: a #PatchesConnection
 * @doc_id: the source document
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response; finish with
 *   patches_connection_value_finish()
 * @user_data: closure data for @callback
 *
 * `listBranches` (PROTOCOL.md §5.14): `[docId]`.  The result is an array
 * of branches.
 */
void
patches_connection_list_branches_async (PatchesConnection   *self,
                                        const char          *doc_id,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (doc_id != NULL);

  value_call (self, "listBranches", params_new (doc_id), cancellable, callback, user_data);
}

/**
 * patches_connection_create_branch_async:
 * @self: a #PatchesConnection
 * @doc_id: the source document
 * @rev: the source revision to branch from
 * @metadata: (nullable): `CreateBranchMetadata` (PROTOCOL.md §4.9)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response; finish with
 *   patches_connection_value_finish()
 * @user_data: closure data for @callback
 *
 * `createBranch` (PROTOCOL.md §5.15): `[docId, rev]` or
 * `[docId, rev, metadata]`.  The result is the branch id.
 */
void
patches_connection_create_branch_async (PatchesConnection   *self,
                                        const char          *doc_id,
                                        gint64               rev,
                                        PatchesValue        *metadata,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  PatchesValue *params;

  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (doc_id != NULL);

  params = params_new (doc_id);
  params_add_number (params, rev);
  params_add_value (params, metadata);
  value_call (self, "createBranch", params, cancellable, callback, user_data);
}

/**
 * patches_connection_update_branch_async:
 * @self: a #PatchesConnection
 * @branch_id: the branch
 * @metadata: (nullable): the metadata to set
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response; finish with
 *   patches_connection_value_finish()
 * @user_data: closure data for @callback
 *
 * `updateBranch` (PROTOCOL.md §5.16): `[branchId, metadata]`.  The result
 * is void.
 */
void
patches_connection_update_branch_async (PatchesConnection   *self,
                                        const char          *branch_id,
                                        PatchesValue        *metadata,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (branch_id != NULL);

  value_call (self, "updateBranch", params_of (branch_id, NULL, metadata),
              cancellable, callback, user_data);
}

/**
 * patches_connection_delete_branch_async:
 * @self: a #PatchesConnection
 * @branch_id: the branch
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response; finish with
 *   patches_connection_value_finish()
 * @user_data: closure data for @callback
 *
 * `deleteBranch` (PROTOCOL.md §5.17): `[branchId]`.  The result is void.
 */
void
patches_connection_delete_branch_async (PatchesConnection   *self,
                                        const char          *branch_id,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (branch_id != NULL);

  value_call (self, "deleteBranch", params_new (branch_id), cancellable, callback, user_data);
}

/**
 * patches_connection_merge_branch_async:
 * @self: a #PatchesConnection
 * @branch_id: the branch
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the response; finish with
 *   patches_connection_value_finish()
 * @user_data: closure data for @callback
 *
 * `mergeBranch` (PROTOCOL.md §5.18): `[branchId]`.  The result is the
 * array of changes the merge committed to the source document.
 */
void
patches_connection_merge_branch_async (PatchesConnection   *self,
                                       const char          *branch_id,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CONNECTION (self));
  g_return_if_fail (branch_id != NULL);

  value_call (self, "mergeBranch", params_new (branch_id), cancellable, callback, user_data);
}

/**
 * patches_connection_value_finish:
 * @self: a #PatchesConnection
 * @result: the #GAsyncResult given to the callback
 * @error: a location for a #GError
 *
 * Completes the version and branch calls.  A void result (no `result`
 * member) is %NULL without an error: check @error.
 *
 * Returns: (transfer full) (nullable): the result as sent
 */
PatchesValue *
patches_connection_value_finish (PatchesConnection  *self,
                                 GAsyncResult       *result,
                                 GError            **error)
{
  return call_finish_pointer (self, result, patches_connection_value_finish, error);
}
