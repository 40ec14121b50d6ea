/* patches-server-methods.c
 *
 * The protocol's methods (PROTOCOL.md §5) and notifications (§6), and the
 * queue that makes every write durable before it is answered.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <math.h>
#include <string.h>
#ifdef __GLIBC__
# include <malloc.h>
#endif

#include "patches-server-private.h"

/*
 * Dispatch follows the reference server (PROTOCOL.md §3.7): unknown
 * methods are answered by PatchesRpc; then, for every method but
 * subscribe and unsubscribe, the document id is checked (400), then the
 * token's access to it (403), then the tombstone (410; not for deleteDoc
 * and undeleteDoc, which must work on deleted documents).
 *
 * Writes (commitChanges, deleteDoc, undeleteDoc) go through one FIFO of
 * jobs, which keeps them in arrival order per document.  The queue is
 * flushed from an idle callback: every job waiting then runs in one
 * SQLite transaction, each in a savepoint of its own (a failing job
 * loses only its own writes), and nothing is answered or broadcast before
 * the transaction is durable.  Under load the frames that arrive while
 * one transaction is being synced all join the next, so the cost of the
 * sync is shared.  The main loop runs nothing else while a transaction is
 * open, so reads never see uncommitted writes and a SIGTERM, which is
 * handled from the main loop too, always finds the queue between
 * transactions.
 */

typedef enum {
  JOB_COMMIT,
  JOB_DELETE,
  JOB_UNDELETE,
} JobKind;

typedef struct
{
  JobKind                  kind;
  PatchesServer           *server;
  PatchesRpcRequest       *request;
  PatchesServerConnection *connection;
  char                    *doc_id;

  /* commitChanges */
  GPtrArray               *changes;
  PatchesCommitOptions     options;
  PatchesValue            *options_value;
  gboolean                 has_options;
  PatchesCommit           *commit;

  /* deleteDoc */
  gboolean                 skip_tombstone;
  /* undeleteDoc */
  gboolean                 removed;

  GError                  *error;
  guint                    delay_source;
} Job;

static void
job_free (Job *job)
{
  g_clear_handle_id (&job->delay_source, g_source_remove);
  g_clear_pointer (&job->request, patches_rpc_request_unref);
  g_clear_object (&job->connection);
  g_clear_pointer (&job->doc_id, g_free);
  g_clear_pointer (&job->changes, g_ptr_array_unref);
  g_clear_pointer (&job->options_value, patches_value_unref);
  g_clear_pointer (&job->commit, patches_commit_unref);
  g_clear_error (&job->error);
  g_free (job);
}

gint64
patches_server_now_ms (void)
{
  return g_get_real_time () / 1000;
}

static PatchesServerConnection *
connection_of (PatchesRpc *rpc)
{
  return PATCHES_SERVER_CONNECTION (patches_rpc_get_transport (rpc));
}

/* Errors */

/* JavaScript's String (value), for the 400 of the doc-id check */
static void
append_js_string_of (GString            *out,
                     const PatchesValue *value)
{
  if (value == NULL)
    {
      g_string_append (out, "undefined");
      return;
    }

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
      for (guint i = 0; i < patches_value_array_get_length (value) && out->len < 256; i++)
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
describe_value (const PatchesValue *value)
{
  GString *out = g_string_new (NULL);

  if (value != NULL && patches_value_get_kind (value) == PATCHES_VALUE_STRING &&
      patches_value_get_string_len (value) == 0)
    g_string_append (out, "empty string");
  else
    append_js_string_of (out, value);

  if (out->len > 256)
    {
      g_string_truncate (out, 256);
      /* Do not cut a UTF-8 sequence */
      while (out->len > 0 && ((guchar) out->str[out->len - 1] & 0xC0) == 0x80)
        g_string_truncate (out, out->len - 1);
      if (out->len > 0 && ((guchar) out->str[out->len - 1] & 0x80))
        g_string_truncate (out, out->len - 1);
      g_string_append (out, "…");
    }

  return g_string_free (out, FALSE);
}

static PatchesValue *
limit_data (const char *limit,
            guint64     max,
            const char *change_id)
{
  PatchesValue *data = patches_value_new_object ();

  if (change_id != NULL)
    {
      patches_value_object_set (data, "changeId", patches_value_new_string (change_id));
      patches_value_object_set (data, "scope", patches_value_new_string ("change"));
    }
  patches_value_object_set (data, "limit", patches_value_new_string (limit));
  patches_value_object_set (data, "max", patches_value_new_number ((double) max));

  return data;
}

static PatchesValue *
version_data (const char *doc_id,
              const char *version_id)
{
  PatchesValue *data = patches_value_new_object ();

  patches_value_object_set (data, "docId", patches_value_new_string (doc_id));
  patches_value_object_set (data, "versionId", patches_value_new_string (version_id));

  return data;
}

/* Answers with @error: its JSON-RPC code and data when it has them
 * (PATCHES_RPC_ERROR_REMOTE, PATCHES_COMMIT_ERROR), the status of the
 * server domain otherwise, and -32000 for anything else. */
static void
return_error (PatchesRpcRequest *request,
              const GError      *error)
{
  g_autoptr(PatchesValue) data = NULL;

  g_return_if_fail (error != NULL);

  if (error->domain == PATCHES_RPC_ERROR)
    {
      patches_rpc_request_return_gerror (request, error);
      return;
    }

  data = patches_commit_error_get_data (error);
  patches_rpc_request_return_error (request, patches_server_error_get_status (error),
                                    error->message, data);
}

static int
error_status (const GError *error)
{
  if (error->domain == PATCHES_RPC_ERROR)
    return patches_rpc_error_get_code (error);

  return patches_server_error_get_status (error);
}

/* The access check (PROTOCOL.md §3.7 rules 6 and 7, §7.6) */

static gboolean
valid_doc_id (PatchesRpcRequest  *request,
              PatchesValue       *value,
              GError            **error)
{
  g_autofree char *got = NULL;

  if (value != NULL &&
      patches_value_get_kind (value) == PATCHES_VALUE_STRING &&
      patches_value_get_string_len (value) > 0)
    {
      gsize len = patches_value_get_string_len (value);

      if (len > PATCHES_SERVER_MAX_DOC_ID_BYTES)
        {
          g_autofree char *message =
            g_strdup_printf ("INVALID_REQUEST: docId is longer than %u bytes (got %" G_GSIZE_FORMAT ")",
                             PATCHES_SERVER_MAX_DOC_ID_BYTES, len);

          *error = patches_rpc_error_from_remote (400, message, NULL);
          return FALSE;
        }

      if (strlen (patches_value_get_string (value)) != len)
        {
          *error = patches_rpc_error_from_remote (400, "INVALID_REQUEST: docId contains a NUL character", NULL);
          return FALSE;
        }

      return TRUE;
    }

  got = describe_value (value);
  {
    g_autofree char *message = g_strdup_printf ("INVALID_REQUEST: docId is required (got %s)", got);

    *error = patches_rpc_error_from_remote (400, message, NULL);
  }
  return FALSE;
}

static GError *
forbidden_error (const char          *doc_id,
                 PatchesServerAccess  needed)
{
  g_autofree char *message =
    g_strdup_printf ("%s:%s", needed == PATCHES_SERVER_ACCESS_WRITE ? "WRITE_FORBIDDEN" : "READ_FORBIDDEN",
                     doc_id);

  return patches_rpc_error_from_remote (403, message, NULL);
}

/* 410 when the document has a tombstone.  Returns FALSE with @error set
 * for a deleted document or a store failure. */
static gboolean
check_tombstone (PatchesServer  *self,
                 const char     *doc_id,
                 GError        **error)
{
  g_autoptr(PatchesValue) tombstone = NULL;
  g_autoptr(PatchesValue) data = NULL;
  g_autofree char *message = NULL;
  GError *local_error = NULL;
  PatchesValue *member;

  tombstone = patches_server_store_get_tombstone (self->store, doc_id, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (tombstone == NULL)
    return TRUE;

  data = patches_value_new_object ();
  if ((member = patches_value_object_get (tombstone, "deletedAt")) != NULL)
    patches_value_object_set (data, "deletedAt", patches_value_ref (member));
  if ((member = patches_value_object_get (tombstone, "lastRev")) != NULL)
    patches_value_object_set (data, "lastRev", patches_value_ref (member));

  message = g_strdup_printf ("Document %s was deleted", doc_id);
  *error = patches_rpc_error_from_remote (410, message, data);
  return FALSE;
}

/* Rules 6 and 7 for a doc method; answers the request and returns NULL
 * when the call may not go on. */
static const char *
check_doc_request (PatchesServer           *self,
                   PatchesServerConnection *connection,
                   PatchesRpcRequest       *request,
                   PatchesServerAccess      needed,
                   gboolean                 tombstone)
{
  g_autoptr(GError) error = NULL;
  PatchesValue *param = patches_rpc_request_get_param (request, 0);
  const char *doc_id;

  if (!valid_doc_id (request, param, &error))
    {
      return_error (request, error);
      return NULL;
    }

  doc_id = patches_value_get_string (param);

  if (patches_server_auth_token_get_access (patches_server_connection_get_token (connection),
                                            doc_id) < needed)
    {
      error = forbidden_error (doc_id, needed);
      return_error (request, error);
      return NULL;
    }

  if (tombstone && !check_tombstone (self, doc_id, &error))
    {
      return_error (request, error);
      return NULL;
    }

  return doc_id;
}

static const char *
string_param (PatchesRpcRequest *request,
              guint              index,
              const char        *name)
{
  PatchesValue *param = patches_rpc_request_get_param (request, index);
  g_autofree char *got = NULL;
  g_autofree char *message = NULL;

  if (param != NULL &&
      patches_value_get_kind (param) == PATCHES_VALUE_STRING &&
      strlen (patches_value_get_string (param)) == patches_value_get_string_len (param))
    return patches_value_get_string (param);

  got = describe_value (param);
  message = g_strdup_printf ("INVALID_REQUEST: %s must be a string (got %s)", name, got);
  patches_rpc_request_return_error (request, 400, message, NULL);
  return NULL;
}

/* Subscribers */

static void
add_subscriber (PatchesServer           *self,
                const char              *doc_id,
                PatchesServerConnection *connection)
{
  GPtrArray *list = g_hash_table_lookup (self->subscribers, doc_id);

  if (list == NULL)
    {
      list = g_ptr_array_new ();
      g_hash_table_insert (self->subscribers, g_strdup (doc_id), list);
    }

  g_ptr_array_add (list, connection);
}

static void
remove_subscriber (PatchesServer           *self,
                   const char              *doc_id,
                   PatchesServerConnection *connection)
{
  GPtrArray *list = g_hash_table_lookup (self->subscribers, doc_id);

  if (list == NULL)
    return;

  g_ptr_array_remove (list, connection);
  if (list->len == 0)
    g_hash_table_remove (self->subscribers, doc_id);
}

void
patches_server_drop_subscriptions (PatchesServer           *self,
                                   PatchesServerConnection *connection)
{
  g_autoptr(GPtrArray) ids = patches_server_connection_list_subscriptions (connection);

  for (guint i = 0; i < ids->len; i++)
    {
      const char *doc_id = g_ptr_array_index (ids, i);

      patches_server_connection_remove_subscription (connection, doc_id);
      remove_subscriber (self, doc_id, connection);
    }
}

/* Sends @frame to every connection subscribed to @doc_id but @origin
 * (PROTOCOL.md §6).  A client too far behind is dropped, never waited
 * for. */
static void
broadcast (PatchesServer           *self,
           const char              *doc_id,
           PatchesServerConnection *origin,
           GBytes                  *frame)
{
  GPtrArray *list = g_hash_table_lookup (self->subscribers, doc_id);
  g_autoptr(GPtrArray) targets = NULL;

  if (list == NULL)
    return;

  /* Sending may drop a client, which changes the list */
  targets = g_ptr_array_new_full (list->len, g_object_unref);
  for (guint i = 0; i < list->len; i++)
    if (g_ptr_array_index (list, i) != origin)
      g_ptr_array_add (targets, g_object_ref (g_ptr_array_index (list, i)));

  for (guint i = 0; i < targets->len; i++)
    patches_server_connection_send (g_ptr_array_index (targets, i), frame);
}

/* `{"jsonrpc":"2.0","method":M,"params":{"docId":D` (PROTOCOL.md §3.5) */
static void
notification_begin_doc (GString    *out,
                        const char *method,
                        const char *doc_id)
{
  g_string_append (out, "{\"jsonrpc\":\"2.0\",\"method\":");
  patches_js_append_string (out, method, -1);
  g_string_append (out, ",\"params\":{\"docId\":");
  patches_js_append_string (out, doc_id, -1);
}

static GBytes *
doc_deleted_frame (const char *doc_id)
{
  GString *out = g_string_new (NULL);

  notification_begin_doc (out, "docDeleted", doc_id);
  g_string_append (out, "}}");
  return g_string_free_to_bytes (out);
}

static void
append_changes (GString   *out,
                GPtrArray *changes,
                gboolean  *first)
{
  for (guint i = 0; changes != NULL && i < changes->len; i++)
    {
      if (!*first)
        g_string_append_c (out, ',');
      *first = FALSE;
      patches_change_write_json (g_ptr_array_index (changes, i), out);
    }
}

/* The same, with the texts the cache keeps: a change committed once is
 * written once, however many answers and notifications carry it */
static void
append_cached_changes (PatchesServer *self,
                       const char    *doc_id,
                       GString       *out,
                       GPtrArray     *changes,
                       gboolean      *first)
{
  for (guint i = 0; changes != NULL && i < changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (changes, i);
      const char *json;
      gsize length;

      if (!*first)
        g_string_append_c (out, ',');
      *first = FALSE;

      if ((json = patches_server_cache_get_json (self->cache, doc_id, change, &length)) != NULL)
        g_string_append_len (out, json, length);
      else
        patches_change_write_json (change, out);
    }
}

/* subscribe / unsubscribe (PROTOCOL.md §5.1, §5.2) */

static PatchesValue *
ids_param (PatchesServer     *self,
           PatchesRpcRequest *request)
{
  PatchesValue *param = patches_rpc_request_get_param (request, 0);
  PatchesValue *ids;

  /* A string or an array of them; anything else names no document */
  if (param != NULL && patches_value_get_kind (param) == PATCHES_VALUE_ARRAY)
    {
      guint n = patches_value_array_get_length (param);

      if (n > self->max_docs_per_subscribe)
        {
          g_autofree char *message =
            g_strdup_printf ("Too many documents in one call: %u, the limit is %u (max-docs-per-subscribe)",
                             n, self->max_docs_per_subscribe);
          g_autoptr(PatchesValue) data = limit_data ("max-docs-per-subscribe",
                                                     self->max_docs_per_subscribe, NULL);

          patches_rpc_request_return_error (request, 413, message, data);
          return NULL;
        }

      return patches_value_ref (param);
    }

  ids = patches_value_new_array ();
  if (param != NULL)
    patches_value_array_append (ids, patches_value_ref (param));

  return ids;
}

static void
method_subscribe (PatchesRpc        *rpc,
                  PatchesRpcRequest *request,
                  gpointer           user_data)
{
  PatchesServer *self = user_data;
  PatchesServerConnection *connection = connection_of (rpc);
  PatchesServerAuthToken *token = patches_server_connection_get_token (connection);
  g_autoptr(PatchesValue) ids = NULL;
  g_autoptr(PatchesValue) result = NULL;

  if (!(ids = ids_param (self, request)))
    return;

  result = patches_value_new_array ();

  for (guint i = 0; i < patches_value_array_get_length (ids); i++)
    {
      PatchesValue *id = patches_value_array_get (ids, i);
      g_autoptr(GError) error = NULL;
      const char *doc_id;

      if (!valid_doc_id (request, id, &error))
        continue;
      doc_id = patches_value_get_string (id);

      if (patches_server_auth_token_get_access (token, doc_id) < PATCHES_SERVER_ACCESS_READ)
        continue;

      if (!check_tombstone (self, doc_id, &error))
        {
          /* PROTOCOL.md §5.1 step 2: a 410 becomes a docDeleted, sent
           * before the answer */
          if (error_status (error) == 410)
            {
              g_autoptr(GBytes) frame = doc_deleted_frame (doc_id);

              patches_server_connection_send (connection, frame);
            }
          else
            g_warning ("subscribe %s: %s", doc_id, error->message);
          continue;
        }

      if (patches_server_connection_add_subscription (connection, doc_id))
        add_subscriber (self, doc_id, connection);
      patches_value_array_append (result, patches_value_ref (id));
    }

  patches_rpc_request_return_value (request, result);
}

static void
method_unsubscribe (PatchesRpc        *rpc,
                    PatchesRpcRequest *request,
                    gpointer           user_data)
{
  PatchesServer *self = user_data;
  PatchesServerConnection *connection = connection_of (rpc);
  g_autoptr(PatchesValue) ids = NULL;
  g_autoptr(PatchesValue) result = NULL;

  if (!(ids = ids_param (self, request)))
    return;

  result = patches_value_new_array ();

  for (guint i = 0; i < patches_value_array_get_length (ids); i++)
    {
      PatchesValue *id = patches_value_array_get (ids, i);
      const char *doc_id;

      if (patches_value_get_kind (id) != PATCHES_VALUE_STRING)
        continue;
      doc_id = patches_value_get_string (id);

      if (patches_server_connection_remove_subscription (connection, doc_id))
        {
          remove_subscriber (self, doc_id, connection);
          patches_value_array_append (result, patches_value_ref (id));
        }
    }

  patches_rpc_request_return_value (request, result);
}

/* Reads (PROTOCOL.md §5.3, §5.4) */

static void
method_get_doc (PatchesRpc        *rpc,
                PatchesRpcRequest *request,
                gpointer           user_data)
{
  PatchesServer *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  PatchesValue *options;
  const char *doc_id;
  gint64 rev = -1;

  if (!(doc_id = check_doc_request (self, connection_of (rpc), request, PATCHES_SERVER_ACCESS_READ, TRUE)))
    return;

  /* [docId, {"rev": n}]: the state as of rev n */
  options = patches_rpc_request_get_param (request, 1);
  if (options != NULL && patches_value_get_kind (options) == PATCHES_VALUE_OBJECT)
    {
      PatchesValue *member = patches_value_object_get (options, "rev");

      if (member != NULL && patches_value_get_kind (member) == PATCHES_VALUE_NUMBER)
        {
          double n = patches_value_get_number (member);

          if (isfinite (n) && n >= 0)
            rev = (gint64) MIN (floor (n), 9007199254740992.0);
        }
    }

  if (!(json = patches_server_store_get_doc_json (self->store, doc_id, rev, &error)))
    {
      return_error (request, error);
      return;
    }

  patches_rpc_request_return_json (request, json, -1);
}

static void
method_get_changes_since (PatchesRpc        *rpc,
                          PatchesRpcRequest *request,
                          gpointer           user_data)
{
  PatchesServer *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  PatchesValue *param;
  const char *doc_id;
  gint64 rev = 0;

  if (!(doc_id = check_doc_request (self, connection_of (rpc), request, PATCHES_SERVER_ACCESS_READ, TRUE)))
    return;

  param = patches_rpc_request_get_param (request, 1);
  if (param != NULL && patches_value_get_kind (param) == PATCHES_VALUE_NUMBER)
    {
      double n = patches_value_get_number (param);

      if (n > 0)
        rev = (gint64) MIN (floor (n), 9007199254740992.0);
    }
  else if (param != NULL && patches_value_get_kind (param) != PATCHES_VALUE_NULL)
    {
      g_autofree char *got = describe_value (param);
      g_autofree char *message = g_strdup_printf ("INVALID_REQUEST: rev must be a number (got %s)", got);

      patches_rpc_request_return_error (request, 400, message, NULL);
      return;
    }

  if (!(json = patches_server_store_get_changes_since_json (self->store, doc_id, rev, &error)))
    {
      return_error (request, error);
      return;
    }

  patches_rpc_request_return_json (request, json, -1);
}

/* The write queue */

static gboolean flush_cb (gpointer user_data);

static void
schedule_flush (PatchesServer *self)
{
  if (self->flush_source != NULL || g_queue_is_empty (&self->jobs))
    return;

  /* Default priority, so that it also runs while sockets stay busy; it
   * comes after the frames already read in this iteration. */
  self->flush_source = g_idle_source_new ();
  g_source_set_priority (self->flush_source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (self->flush_source, "[patches-server] commit queue");
  g_source_set_callback (self->flush_source, flush_cb, self, NULL);
  g_source_attach (self->flush_source, g_main_context_get_thread_default ());
}

static void
enqueue (PatchesServer *self,
         Job           *job)
{
  g_queue_push_tail (&self->jobs, job);
  schedule_flush (self);
}

static Job *
job_new (PatchesServer           *self,
         JobKind                  kind,
         PatchesRpcRequest       *request,
         PatchesServerConnection *connection,
         const char              *doc_id)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  job->server = self;
  job->request = patches_rpc_request_ref (request);
  job->connection = g_object_ref (connection);
  job->doc_id = g_strdup (doc_id);

  return job;
}

static void
run_job (PatchesServer *self,
         Job           *job,
         gint64         now)
{
  switch (job->kind)
    {
    case JOB_COMMIT:
      /* Under the queue, so a deletion queued first is seen */
      if (!check_tombstone (self, job->doc_id, &job->error))
        return;

      job->commit = patches_commit_new (job->doc_id, job->changes, &job->options,
                                        patches_server_connection_get_client_id (job->connection),
                                        now, &self->config);

      /* In a savepoint of its own, over the cached tail of the log */
      if (!patches_server_store_begin (self->store, &job->error))
        break;
      if (!patches_commit_run (job->commit, patches_server_cache_get_funcs (), self->cache, &job->error))
        patches_server_store_rollback (self->store);
      else if (patches_server_store_commit (self->store, &job->error))
        break;

      /* Rolled back: the cache may hold what was undone */
      patches_server_cache_invalidate (self->cache, job->doc_id);
      break;

    case JOB_DELETE:
      patches_server_cache_invalidate (self->cache, job->doc_id);
      patches_server_store_delete_doc (self->store, job->doc_id,
                                       patches_server_connection_get_client_id (job->connection),
                                       job->skip_tombstone, now, &job->error);
      break;

    case JOB_UNDELETE:
      patches_server_store_undelete_doc (self->store, job->doc_id, &job->removed, &job->error);
      break;

    default:
      g_assert_not_reached ();
    }
}

static gboolean
delayed_answer_cb (gpointer user_data)
{
  Job *job = user_data;
  PatchesServer *self = job->server;

  job->delay_source = 0;
  return_error (job->request, job->error);
  g_ptr_array_remove_fast (self->delayed, job);
  job_free (job);

  return G_SOURCE_REMOVE;
}

/* Notifications of one transaction's commits.
 *
 * When one transaction commits several changes to a document, a
 * subscriber gets them in as few changesCommitted notifications as keep
 * its view contiguous: consecutive commits of other clients are merged
 * into one notification (their changes follow each other, ascending);
 * one is cut where the subscriber's own commit falls, and sent before
 * that commit's answer, so that the subscriber sees every revision in
 * order and never its own change.  A commit that carried options gets a
 * notification of its own, as the options belong to it.  Under light
 * load every transaction holds one commit per document and this is the
 * reference's one notification per commit; under load it saves most of
 * the frames (each client handles a changesCommitted of several changes
 * like a catch-up, PROTOCOL.md §8.6). */

typedef struct
{
  PatchesServerConnection *connection;
  char                    *doc_id;
  GString                 *frame;
} Pending;

static guint
pending_hash (gconstpointer key)
{
  const Pending *pending = key;

  return g_direct_hash (pending->connection) ^ g_str_hash (pending->doc_id);
}

static gboolean
pending_equal (gconstpointer a,
               gconstpointer b)
{
  const Pending *pa = a;
  const Pending *pb = b;

  return pa->connection == pb->connection && strcmp (pa->doc_id, pb->doc_id) == 0;
}

static void
pending_free (Pending *pending)
{
  g_clear_object (&pending->connection);
  g_free (pending->doc_id);
  if (pending->frame != NULL)
    g_string_free (pending->frame, TRUE);
  g_free (pending);
}

static void
pending_send (PatchesServer *self,
              Pending       *pending)
{
  g_autoptr(GBytes) bytes = NULL;

  if (pending->frame == NULL)
    return;

  g_string_append (pending->frame, "]}}");
  bytes = g_string_free_to_bytes (g_steal_pointer (&pending->frame));
  patches_server_connection_send (pending->connection, bytes);
}

/* Sends what @connection has waiting for @doc_id (every document when
 * %NULL) */
static void
fanout_flush (PatchesServer           *self,
              PatchesServerConnection *connection,
              const char              *doc_id)
{
  if (self->fanout == NULL)
    return;

  for (guint i = 0; i < self->fanout->len; i++)
    {
      Pending *pending = g_ptr_array_index (self->fanout, i);

      if ((connection == NULL || pending->connection == connection) &&
          (doc_id == NULL || strcmp (pending->doc_id, doc_id) == 0))
        pending_send (self, pending);
    }
}

static void
fanout_flush_all (PatchesServer *self)
{
  if (self->fanout == NULL)
    return;

  fanout_flush (self, NULL, NULL);
  g_hash_table_remove_all (self->fanout_index);
  g_ptr_array_set_size (self->fanout, 0);
}

/* Queues @changes for every subscriber of @doc_id but @origin */
static void
fanout_add (PatchesServer           *self,
            const char              *doc_id,
            PatchesServerConnection *origin,
            GPtrArray               *changes)
{
  GPtrArray *list = g_hash_table_lookup (self->subscribers, doc_id);
  g_autoptr(GString) text = NULL;
  gboolean first = TRUE;

  if (list == NULL || changes == NULL || changes->len == 0)
    return;

  if (self->fanout == NULL)
    {
      self->fanout = g_ptr_array_new_with_free_func ((GDestroyNotify) pending_free);
      self->fanout_index = g_hash_table_new (pending_hash, pending_equal);
    }

  text = g_string_new (NULL);
  append_cached_changes (self, doc_id, text, changes, &first);

  for (guint i = 0; i < list->len; i++)
    {
      PatchesServerConnection *connection = g_ptr_array_index (list, i);
      Pending key = { connection, (char *) doc_id, NULL };
      Pending *pending;

      if (connection == origin)
        continue;

      if ((pending = g_hash_table_lookup (self->fanout_index, &key)) == NULL)
        {
          pending = g_new0 (Pending, 1);
          pending->connection = g_object_ref (connection);
          pending->doc_id = g_strdup (doc_id);
          g_ptr_array_add (self->fanout, pending);
          g_hash_table_add (self->fanout_index, pending);
        }

      if (pending->frame == NULL)
        {
          pending->frame = g_string_sized_new (text->len + 128);
          notification_begin_doc (pending->frame, "changesCommitted", doc_id);
          g_string_append (pending->frame, ",\"changes\":[");
        }
      else
        g_string_append_c (pending->frame, ',');
      g_string_append_len (pending->frame, text->str, text->len);
    }
}

static void
answer_commit (PatchesServer *self,
               Job           *job)
{
  GPtrArray *new_changes = patches_commit_get_new_changes (job->commit);
  g_autoptr(GString) out = NULL;
  gboolean first = TRUE;

  patches_server_connection_clear_conflict (job->connection, job->doc_id);

  /* PROTOCOL.md §6.1: the new changes only, to the other subscribers */
  if (new_changes != NULL && new_changes->len > 0 && !job->has_options)
    fanout_add (self, job->doc_id, job->connection, new_changes);
  else if (new_changes != NULL && new_changes->len > 0 &&
           g_hash_table_contains (self->subscribers, job->doc_id))
    {
      GString *frame = g_string_new (NULL);
      g_autoptr(GBytes) bytes = NULL;

      notification_begin_doc (frame, "changesCommitted", job->doc_id);
      g_string_append (frame, ",\"changes\":[");
      append_cached_changes (self, job->doc_id, frame, new_changes, &first);
      g_string_append_c (frame, ']');
      if (job->has_options)
        {
          g_string_append (frame, ",\"options\":");
          patches_value_write_json (job->options_value, frame);
        }
      g_string_append (frame, "}}");

      bytes = g_string_free_to_bytes (frame);
      fanout_flush (self, NULL, job->doc_id);
      broadcast (self, job->doc_id, job->connection, bytes);
    }

  /* The committer's view stays contiguous: what it is owed of this
   * document goes before the answer */
  fanout_flush (self, job->connection, job->doc_id);

  /* §4.7: catch-up ++ new */
  out = g_string_new ("{\"changes\":[");
  first = TRUE;
  append_cached_changes (self, job->doc_id, out, patches_commit_get_catchup (job->commit), &first);
  append_cached_changes (self, job->doc_id, out, new_changes, &first);
  g_string_append_c (out, ']');
  if (patches_commit_get_doc_reload_required (job->commit))
    g_string_append (out, ",\"docReloadRequired\":true");
  g_string_append_c (out, '}');

  patches_rpc_request_return_json (job->request, out->str, out->len);
}

/* Answers a job after its transaction; returns TRUE when the job is done
 * with, FALSE when its answer is held back and the job kept. */
static gboolean
answer_job (PatchesServer *self,
            Job           *job)
{
  if (job->error != NULL)
    {
      guint delay = 0;

      if (job->kind == JOB_COMMIT && error_status (job->error) == 409)
        delay = patches_server_connection_note_conflict (job->connection, job->doc_id);

      if (delay > 0 && patches_server_connection_is_open (job->connection))
        {
          job->delay_source = g_timeout_add (delay, delayed_answer_cb, job);
          g_ptr_array_add (self->delayed, job);
          return FALSE;
        }

      return_error (job->request, job->error);
      return TRUE;
    }

  switch (job->kind)
    {
    case JOB_COMMIT:
      answer_commit (self, job);
      break;

    case JOB_DELETE:
      {
        g_autoptr(GBytes) frame = doc_deleted_frame (job->doc_id);

        fanout_flush (self, NULL, job->doc_id);
        broadcast (self, job->doc_id, job->connection, frame);
        patches_rpc_request_return_value (job->request, NULL);
      }
      break;

    case JOB_UNDELETE:
      {
        g_autoptr(PatchesValue) value = patches_value_new_bool (job->removed);

        patches_rpc_request_return_value (job->request, value);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  return TRUE;
}

/**
 * patches_server_flush:
 * @self: a #PatchesServer
 *
 * Runs every queued write now, in as many transactions as it takes, and
 * answers them.  The main loop does this by itself; this is for
 * shutting down and for tests.
 */
void
patches_server_flush (PatchesServer *self)
{
  g_return_if_fail (PATCHES_IS_SERVER (self));

  g_object_ref (self);

  while (!g_queue_is_empty (&self->jobs))
    {
      g_autoptr(GPtrArray) group = g_ptr_array_new ();
      g_autoptr(GError) error = NULL;
      gint64 now = patches_server_now_ms ();

      while (!g_queue_is_empty (&self->jobs) && group->len < PATCHES_SERVER_MAX_JOBS_PER_TRANSACTION)
        g_ptr_array_add (group, g_queue_pop_head (&self->jobs));

      if (patches_server_store_begin (self->store, &error))
        {
          for (guint i = 0; i < group->len; i++)
            run_job (self, g_ptr_array_index (group, i), now);

          /* Durable here, or not at all */
          if (!patches_server_store_commit (self->store, &error))
            patches_server_cache_clear (self->cache);
        }

      if (error != NULL)
        {
          g_warning ("Could not commit %u queued writes: %s", group->len, error->message);
          for (guint i = 0; i < group->len; i++)
            {
              Job *job = g_ptr_array_index (group, i);

              if (job->error == NULL)
                job->error = g_error_copy (error);
            }
        }

      self->n_transactions++;
      self->n_jobs += group->len;

      for (guint i = 0; i < group->len; i++)
        {
          Job *job = g_ptr_array_index (group, i);

          if (answer_job (self, job))
            job_free (job);
        }
      fanout_flush_all (self);
    }

  g_object_unref (self);
}

/* Once the server has been idle for a while, hand the memory a burst of
 * traffic left free back to the system, and copy the write-ahead log into
 * the database */
#define TRIM_IDLE_SECONDS 2

static gboolean
trim_cb (gpointer user_data)
{
  PatchesServer *self = user_data;
  g_autoptr(GError) error = NULL;

  if (g_get_monotonic_time () - self->last_flush < TRIM_IDLE_SECONDS * G_USEC_PER_SEC)
    return G_SOURCE_CONTINUE;

  if (!patches_server_store_checkpoint (self->store, &error))
    g_warning ("%s", error->message);

#ifdef __GLIBC__
  malloc_trim (0);
#endif
  self->trim_source = 0;
  return G_SOURCE_REMOVE;
}

static gboolean
flush_cb (gpointer user_data)
{
  PatchesServer *self = user_data;

  g_clear_pointer (&self->flush_source, g_source_unref);
  patches_server_flush (self);

  self->last_flush = g_get_monotonic_time ();
  if (self->trim_source == 0)
    self->trim_source = g_timeout_add_seconds (TRIM_IDLE_SECONDS, trim_cb, self);

  return G_SOURCE_REMOVE;
}

void
patches_server_clear_jobs (PatchesServer *self)
{
  Job *job;

  g_clear_handle_id (&self->trim_source, g_source_remove);

  if (self->flush_source != NULL)
    {
      g_source_destroy (self->flush_source);
      g_clear_pointer (&self->flush_source, g_source_unref);
    }

  while ((job = g_queue_pop_head (&self->jobs)) != NULL)
    job_free (job);

  /* Held-back 409s: answer them now */
  while (self->delayed != NULL && self->delayed->len > 0)
    {
      job = g_ptr_array_steal_index_fast (self->delayed, self->delayed->len - 1);
      g_clear_handle_id (&job->delay_source, g_source_remove);
      return_error (job->request, job->error);
      job_free (job);
    }
}

/* commitChanges (PROTOCOL.md §5.5) */

static gboolean
valid_pointer (const char *path)
{
  return path != NULL && (path[0] == 0 || path[0] == '/');
}

/* What a change may carry: known ops, JSON Pointer paths, the members
 * each op needs, deltas that parse.  The reference stores anything and
 * lets replicas choke on it; here a bad change gets a 400 naming it,
 * which the reference client answers by quarantining that change
 * (PROTOCOL.md §8.9 row 5). */
static gboolean
validate_change (PatchesServer  *self,
                 PatchesChange  *change,
                 GError        **error)
{
  g_autoptr(PatchesValue) data = NULL;
  g_autofree char *message = NULL;

  if (change->ops->len > self->max_ops_per_change)
    {
      message = g_strdup_printf ("Change %s has %u ops, the limit is %u (max-ops-per-change)",
                                 change->id, change->ops->len, self->max_ops_per_change);
      data = limit_data ("max-ops-per-change", self->max_ops_per_change, change->id);
      *error = patches_rpc_error_from_remote (413, message, data);
      return FALSE;
    }

  for (guint i = 0; i < change->ops->len; i++)
    {
      PatchesOp *op = g_ptr_array_index (change->ops, i);
      const char *problem = NULL;

      switch (op->kind)
        {
        case PATCHES_OP_UNKNOWN:
          problem = "is not an operation the server knows";
          break;

        case PATCHES_OP_MOVE:
        case PATCHES_OP_COPY:
          if (op->from == NULL || op->from[0] != '/')
            problem = "needs a \"from\" pointer that is not the root";
          break;

        case PATCHES_OP_ADD:
        case PATCHES_OP_REPLACE:
        case PATCHES_OP_TEST:
        case PATCHES_OP_MAX:
        case PATCHES_OP_MIN:
          if (op->value == NULL)
            problem = "needs a \"value\"";
          break;

        case PATCHES_OP_INC:
        case PATCHES_OP_BIT:
          if (op->value == NULL || patches_value_get_kind (op->value) != PATCHES_VALUE_NUMBER)
            problem = "needs a number \"value\"";
          break;

        case PATCHES_OP_TXT:
          if (op->value == NULL || patches_op_get_delta (op) == NULL)
            problem = "needs a delta \"value\"";
          break;

        case PATCHES_OP_REMOVE:
        default:
          break;
        }

      if (problem == NULL && !valid_pointer (op->path))
        problem = "needs a \"path\" that is a JSON Pointer";

      if (problem != NULL)
        {
          g_autofree char *name = g_utf8_make_valid (op->name, -1);

          message = g_strdup_printf ("INVALID_REQUEST: change %s, op %u (\"%s\") %s",
                                     change->id, i, name, problem);
          data = patches_value_new_object ();
          patches_value_object_set (data, "changeId", patches_value_new_string (change->id));
          patches_value_object_set (data, "scope", patches_value_new_string ("change"));
          *error = patches_rpc_error_from_remote (400, message, data);
          return FALSE;
        }
    }

  return TRUE;
}

static GPtrArray *
parse_changes (PatchesServer      *self,
               PatchesValue       *param,
               GError            **error)
{
  g_autoptr(GPtrArray) changes = NULL;
  guint n;

  if (param == NULL || patches_value_get_kind (param) != PATCHES_VALUE_ARRAY)
    {
      g_autofree char *got = describe_value (param);
      g_autofree char *message = g_strdup_printf ("INVALID_REQUEST: changes must be an array (got %s)", got);

      *error = patches_rpc_error_from_remote (400, message, NULL);
      return NULL;
    }

  n = patches_value_array_get_length (param);
  if (n > self->max_changes_per_commit)
    {
      g_autofree char *message =
        g_strdup_printf ("Too many changes in one commit: %u, the limit is %u (max-changes-per-commit)",
                         n, self->max_changes_per_commit);
      g_autoptr(PatchesValue) data = limit_data ("max-changes-per-commit", self->max_changes_per_commit, NULL);

      *error = patches_rpc_error_from_remote (413, message, data);
      return NULL;
    }

  changes = g_ptr_array_new_full (n, (GDestroyNotify) patches_change_unref);

  for (guint i = 0; i < n; i++)
    {
      PatchesValue *element = patches_value_array_get (param, i);
      g_autoptr(GError) local_error = NULL;
      PatchesChange *change;

      if (!(change = patches_change_from_value (element, &local_error)))
        {
          g_autofree char *message = g_strdup_printf ("INVALID_REQUEST: change %u: %s", i, local_error->message);
          g_autoptr(PatchesValue) data = NULL;
          PatchesValue *id;

          /* Name the change when it has an id, so that the client can
           * set that one aside */
          if (patches_value_get_kind (element) == PATCHES_VALUE_OBJECT &&
              (id = patches_value_object_get (element, "id")) != NULL &&
              patches_value_get_kind (id) == PATCHES_VALUE_STRING)
            {
              data = patches_value_new_object ();
              patches_value_object_set (data, "changeId", patches_value_ref (id));
              patches_value_object_set (data, "scope", patches_value_new_string ("change"));
            }

          *error = patches_rpc_error_from_remote (400, message, data);
          return NULL;
        }

      g_ptr_array_add (changes, change);

      if (!validate_change (self, change, error))
        return NULL;
    }

  return g_steal_pointer (&changes);
}

static const char * const server_only_options[] = {
  "allowRootReplace", "historicalImport", "forceCommit",
};

static void
method_commit_changes (PatchesRpc        *rpc,
                       PatchesRpcRequest *request,
                       gpointer           user_data)
{
  PatchesServer *self = user_data;
  PatchesServerConnection *connection = connection_of (rpc);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  PatchesValue *options;
  const char *doc_id;
  Job *job;

  if (!(doc_id = check_doc_request (self, connection, request, PATCHES_SERVER_ACCESS_WRITE, FALSE)))
    return;

  if (!(changes = parse_changes (self, patches_rpc_request_get_param (request, 1), &error)))
    {
      return_error (request, error);
      return;
    }

  job = job_new (self, JOB_COMMIT, request, connection, doc_id);
  job->changes = g_steal_pointer (&changes);

  /* PROTOCOL.md §3.7 security notes: the server-only options only from a
   * trusted token.  The broadcast carries the options as applied. */
  if ((options = patches_rpc_request_get_param (request, 2)) != NULL)
    {
      job->has_options = TRUE;
      if (patches_value_get_kind (options) == PATCHES_VALUE_OBJECT &&
          !patches_server_auth_token_is_trusted (patches_server_connection_get_token (connection)))
        {
          job->options_value = patches_value_copy_shallow (options);
          for (guint i = 0; i < G_N_ELEMENTS (server_only_options); i++)
            patches_value_object_remove (job->options_value, server_only_options[i]);
        }
      else
        job->options_value = patches_value_ref (options);

      patches_commit_options_from_value (&job->options, job->options_value);
    }

  enqueue (self, job);
}

/* deleteDoc / undeleteDoc (PROTOCOL.md §5.6, §5.7) */

static void
method_delete_doc (PatchesRpc        *rpc,
                   PatchesRpcRequest *request,
                   gpointer           user_data)
{
  PatchesServer *self = user_data;
  PatchesServerConnection *connection = connection_of (rpc);
  PatchesValue *options;
  const char *doc_id;
  Job *job;

  if (!(doc_id = check_doc_request (self, connection, request, PATCHES_SERVER_ACCESS_WRITE, FALSE)))
    return;

  job = job_new (self, JOB_DELETE, request, connection, doc_id);

  options = patches_rpc_request_get_param (request, 1);
  if (options != NULL && patches_value_get_kind (options) == PATCHES_VALUE_OBJECT &&
      patches_server_auth_token_is_trusted (patches_server_connection_get_token (connection)))
    {
      PatchesValue *skip = patches_value_object_get (options, "skipTombstone");

      job->skip_tombstone = skip != NULL && patches_value_truthy (skip);
    }

  enqueue (self, job);
}

static void
method_undelete_doc (PatchesRpc        *rpc,
                     PatchesRpcRequest *request,
                     gpointer           user_data)
{
  PatchesServer *self = user_data;
  PatchesServerConnection *connection = connection_of (rpc);
  const char *doc_id;

  if (!(doc_id = check_doc_request (self, connection, request, PATCHES_SERVER_ACCESS_WRITE, FALSE)))
    return;

  enqueue (self, job_new (self, JOB_UNDELETE, request, connection, doc_id));
}

/* Versions (PROTOCOL.md §5.8 to §5.13) */

static void
method_list_versions (PatchesRpc        *rpc,
                      PatchesRpcRequest *request,
                      gpointer           user_data)
{
  PatchesServer *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) result = NULL;
  const char *doc_id;

  if (!(doc_id = check_doc_request (self, connection_of (rpc), request, PATCHES_SERVER_ACCESS_READ, TRUE)))
    return;

  if (!(result = patches_server_store_list_versions (self->store, doc_id,
                                                     patches_rpc_request_get_param (request, 1),
                                                     &error)))
    {
      return_error (request, error);
      return;
    }

  patches_rpc_request_return_value (request, result);
}

static void
method_create_version (PatchesRpc        *rpc,
                       PatchesRpcRequest *request,
                       gpointer           user_data)
{
  PatchesServer *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) result = NULL;
  g_autofree char *version_id = NULL;
  const char *doc_id;

  if (!(doc_id = check_doc_request (self, connection_of (rpc), request, PATCHES_SERVER_ACCESS_WRITE, TRUE)))
    return;

  if (!patches_server_store_create_version (self->store, doc_id,
                                            patches_rpc_request_get_param (request, 1),
                                            patches_server_now_ms (), &version_id, &error))
    {
      return_error (request, error);
      return;
    }

  /* The new id, or null when nothing changed since the last version */
  result = version_id ? patches_value_new_string (version_id) : patches_value_new_null ();
  patches_rpc_request_return_value (request, result);
}

static void
method_update_version (PatchesRpc        *rpc,
                       PatchesRpcRequest *request,
                       gpointer           user_data)
{
  PatchesServer *self = user_data;
  g_autoptr(GError) error = NULL;
  const char *doc_id;
  const char *version_id;

  if (!(doc_id = check_doc_request (self, connection_of (rpc), request, PATCHES_SERVER_ACCESS_WRITE, TRUE)))
    return;
  if (!(version_id = string_param (request, 1, "versionId")))
    return;

  if (!patches_server_store_update_version (self->store, doc_id, version_id,
                                            patches_rpc_request_get_param (request, 2), &error))
    {
      return_error (request, error);
      return;
    }

  patches_rpc_request_return_value (request, NULL);
}

/* The version errors of PROTOCOL.md §5.11: 404, 503 with its data, and
 * -32000 with the reference's message for anything else */
static void
return_version_error (PatchesRpcRequest *request,
                      const GError      *error,
                      const char        *doc_id,
                      const char        *version_id,
                      const char        *what)
{
  if (g_error_matches (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_NOT_FOUND))
    patches_rpc_request_return_error (request, 404, error->message, NULL);
  else if (g_error_matches (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_STATE_UNAVAILABLE) ||
           g_error_matches (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_STATE_UNAVAILABLE))
    {
      g_autoptr(PatchesValue) data = version_data (doc_id, version_id);

      patches_rpc_request_return_error (request, 503, error->message, data);
    }
  else
    {
      g_autofree char *message = g_strdup_printf ("Could not load %s for version %s.", what, version_id);

      g_debug ("%s: %s", message, error->message);
      patches_rpc_request_return_error (request, PATCHES_JSONRPC_SERVER_ERROR, message, NULL);
    }
}

static void
method_get_version_state (PatchesRpc        *rpc,
                          PatchesRpcRequest *request,
                          gpointer           user_data)
{
  PatchesServer *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  const char *doc_id;
  const char *version_id;

  if (!(doc_id = check_doc_request (self, connection_of (rpc), request, PATCHES_SERVER_ACCESS_READ, TRUE)))
    return;
  if (!(version_id = string_param (request, 1, "versionId")))
    return;

  /* The bare state, streamed as stored (PROTOCOL.md §5.11) */
  if (!(json = patches_server_store_get_version_state_json (self->store, doc_id, version_id, &error)))
    {
      return_version_error (request, error, doc_id, version_id, "state");
      return;
    }

  patches_rpc_request_return_json (request, json, -1);
}

static void
method_get_version_changes (PatchesRpc        *rpc,
                            PatchesRpcRequest *request,
                            gpointer           user_data)
{
  PatchesServer *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GString) out = NULL;
  gboolean first = TRUE;
  const char *doc_id;
  const char *version_id;

  if (!(doc_id = check_doc_request (self, connection_of (rpc), request, PATCHES_SERVER_ACCESS_READ, TRUE)))
    return;
  if (!(version_id = string_param (request, 1, "versionId")))
    return;

  if (!(changes = patches_server_store_get_version_changes (self->store, doc_id, version_id, &error)))
    {
      return_version_error (request, error, doc_id, version_id, "changes");
      return;
    }

  out = g_string_new ("[");
  append_changes (out, changes, &first);
  g_string_append_c (out, ']');
  patches_rpc_request_return_json (request, out->str, out->len);
}

static void
method_get_state_before_version (PatchesRpc        *rpc,
                                 PatchesRpcRequest *request,
                                 gpointer           user_data)
{
  PatchesServer *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) state = NULL;
  const char *doc_id;
  const char *version_id;

  if (!(doc_id = check_doc_request (self, connection_of (rpc), request, PATCHES_SERVER_ACCESS_READ, TRUE)))
    return;
  if (!(version_id = string_param (request, 1, "versionId")))
    return;

  if (!(state = patches_server_store_get_state_before_version (self->store, doc_id, version_id, &error)))
    {
      return_version_error (request, error, doc_id, version_id, "state");
      return;
    }

  patches_rpc_request_return_value (request, state);
}

static const struct {
  const char           *name;
  PatchesRpcMethodFunc  func;
} methods[] = {
  { "subscribe", method_subscribe },
  { "unsubscribe", method_unsubscribe },
  { "getDoc", method_get_doc },
  { "getChangesSince", method_get_changes_since },
  { "commitChanges", method_commit_changes },
  { "deleteDoc", method_delete_doc },
  { "undeleteDoc", method_undelete_doc },
  { "listVersions", method_list_versions },
  { "createVersion", method_create_version },
  { "updateVersion", method_update_version },
  { "getVersionState", method_get_version_state },
  { "getVersionChanges", method_get_version_changes },
  { "getStateBeforeVersion", method_get_state_before_version },
};

void
patches_server_add_methods (PatchesServer           *self,
                            PatchesServerConnection *connection)
{
  PatchesRpc *rpc = patches_server_connection_get_rpc (connection);

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    patches_rpc_add_method (rpc, methods[i].name, methods[i].func, self, NULL);
}
