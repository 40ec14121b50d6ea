/* patches-sync.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "patches-sync.h"
#include "patches-sync-private.h"

#include <string.h>

#include <libsoup/soup.h>

#include "patches-batch.h"
#include "patches-error.h"
#include "patches-ot.h"
#include "patches-rpc.h"

/**
 * PatchesSync:
 *
 * Keeps the documents a #PatchesClient tracks in step with a server, as
 * the reference client's `PatchesSync` does (PROTOCOL.md §8):
 *
 * - the connection: patches_sync_connect_async() sets the intent to be
 *   connected and dials; a socket that drops is re-dialled after
 *   #PatchesSync:reconnect-interval ms, 1.5 times longer after each
 *   failed attempt, at most 30 s apart, back to the first delay once a
 *   socket opens (§2.6).  Nothing is dialled while the host is offline
 *   (#GNetworkMonitor), and the socket is closed when it goes offline.
 * - on every connect (§8.3): one `subscribe` with every tracked document,
 *   then a sync of each and a `deleteDoc` for every local tombstone.
 * - per document (§8.4–§8.9): one sync at a time (further requests
 *   collapse into one follow-up), pending changes are sent in batches
 *   under #PatchesSync:max-batch-size bytes, committed changes of others
 *   are applied as they are announced, a document the server cannot
 *   continue is reloaded, and failures are retried or reported.  A
 *   pending change the server refuses by name (a 4xx error whose data
 *   has `changeId` and `scope: "change"`) that does not apply locally
 *   either is set aside: kept in the store's meta under
 *   `quarantine/<docId>` (a JSON array of `{docId, changeId, change,
 *   reason, quarantinedAt}`), reported through #PatchesSync::error, and
 *   the changes after it go out without it; at most three per document
 *   while the #PatchesSync lives (§8.9 row 5).  A committed change that
 *   does not apply is reported, the document reloaded, and if it still
 *   does not apply it counts as an empty change (§8.9 row 2).
 * - the state a UI shows: #PatchesSync:online, #PatchesSync:connected,
 *   #PatchesSync:sync-status and #PatchesSync:sync-error, with
 *   #PatchesSync::state-changed after any of them changed, and a
 *   #PatchesDocSyncState per tracked document
 *   (patches_sync_get_doc_state(), #PatchesSync::doc-state-changed), also
 *   mirrored into the open #PatchesDoc.
 *
 * Two behaviours are ours, not the reference's (it has no such options):
 * #PatchesSync:batch-delay waits after a local change to gather more
 * edits into one commit, and a handshake the server refuses (HTTP 401,
 * 403, …) keeps #PatchesSync:sync-status at %PATCHES_SYNC_STATUS_ERROR
 * across the background retries, so that a wrong token stays visible.
 * Every connection also sends the client's stable id in an
 * `X-Patches-Client-Id` header (PROTOCOL.md §12 #1).
 *
 * For tests, the environment variable `PATCHES_SYNC_FORCE_ONLINE` (`1` or
 * `0`) overrides what the network monitor says; a server on a loopback
 * address counts as reachable whatever the monitor says.
 */

#define CLIENT_ID_HEADER            "X-Patches-Client-Id"
#define DEFAULT_RECONNECT_INTERVAL  1000
#define MAX_RECONNECT_DELAY         30000
#define DEFAULT_PING_INTERVAL       30
#define DEFAULT_REQUEST_TIMEOUT     60
#define DOC_RETRY_BASE_MS           1000
#define DOC_RETRY_MAX_MS            30000
#define DOC_RETRY_ATTEMPTS          10
#define REPROBE_RETRYABLE_MS        (5 * 60 * 1000)
#define REPROBE_TERMINAL_MS         (10 * 60 * 1000)
#define MAX_CONFLICT_RELOADS        3

/* The shared back pointer of asynchronous operations that outlive no
 * object: cleared in dispose */
typedef struct
{
  grefcount    ref_count;
  PatchesSync *sync;
} SyncHandle;

typedef struct _DocEntry DocEntry;
typedef struct _SyncAll SyncAll;

typedef void (*DocWaiterFunc) (DocEntry *entry,
                               gpointer  data);

typedef struct
{
  DocWaiterFunc func;
  gpointer      data;
} DocWaiter;

/* One tracked document */
struct _DocEntry
{
  grefcount            ref_count;
  PatchesSync         *sync;            /* unowned; NULL once dropped */
  char                *doc_id;
  PatchesDocSyncState  state;

  /* syncDoc runs one at a time; requests collapse into one follow-up */
  gboolean             running;
  gboolean             queued;
  gboolean             carry_waiters;   /* the follow-up finishes this run's work */
  GSList              *waiters;         /* DocWaiter, for the running run */
  GSList              *next_waiters;    /* DocWaiter, for the follow-up */
  gboolean             in_sync_queue;   /* waits in syncAllKnownDocs' line */

  /* changesCommitted buffered while a reload runs (§8.8) */
  guint                reloading;
  GPtrArray           *buffer;

  guint                retry_source;
  guint                retry_attempt;
  guint                flush_source;
  gboolean             error_reported;  /* once per connection session */

  /* 409 reloads since the last commit that went through (§12 #11) */
  guint                conflict_reloads;

  /* §8.9 row 5: pending changes set aside, over the entry's life */
  guint                n_ejections;
  /* §8.9 row 2: ids of committed changes reported as skipped */
  GHashTable          *skipped_reported;
};

struct _PatchesSync
{
  GObject                 parent_instance;

  PatchesClient          *client;
  char                   *url;
  GPtrArray              *headers;            /* "Name: value" */
  GPtrArray              *applied_headers;    /* names set on the connection */
  guint                   reconnect_interval;
  guint                   max_reconnect_attempts;
  guint                   ping_interval;
  guint                   request_timeout;
  guint                   max_batch_size;
  guint                   batch_delay;

  SyncHandle             *handle;
  GCancellable           *cancellable;

  GNetworkMonitor        *monitor;
  int                     forced_online;      /* -1: ask the monitor */
  gboolean                loopback;
  gboolean                online;

  PatchesConnection      *connection;
  PatchesConnectionState  connection_state;
  gboolean                connected;
  gboolean                intent;
  gboolean                dialing;
  GCancellable           *dial_cancellable;
  GPtrArray              *connect_tasks;
  guint                   session;

  guint                   reconnect_source;
  gint64                  next_retry_time;
  double                  backoff;
  guint                   reconnect_attempts;

  PatchesSyncStatus       sync_status;
  GError                 *sync_error;

  GHashTable             *docs;               /* id → DocEntry */
  GHashTable             *subscribed;         /* ids granted by subscribe */

  /* the syncAllKnownDocs whose line of documents is not empty yet */
  SyncAll                *sync_all;
  guint                   n_running;          /* syncDoc runs (and initial-sync
                                                 * deletions) in progress */
  guint                   peak_running;       /* the most at one time */

  GError                 *last_dial_error;
  gboolean                constructed;
};

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_URL,
  PROP_HEADERS,
  PROP_RECONNECT_INTERVAL,
  PROP_MAX_RECONNECT_ATTEMPTS,
  PROP_PING_INTERVAL,
  PROP_REQUEST_TIMEOUT,
  PROP_MAX_BATCH_SIZE,
  PROP_BATCH_DELAY,
  PROP_ONLINE,
  PROP_CONNECTED,
  PROP_CONNECTION_STATE,
  PROP_SYNC_STATUS,
  PROP_SYNC_ERROR,
  PROP_NEXT_RETRY_TIME,
  N_PROPS
};

enum {
  STATE_CHANGED,
  ERROR,
  DOC_STATE_CHANGED,
  REMOTE_DOC_DELETED,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (PatchesSync, patches_sync, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE (PatchesDocSyncState, patches_doc_sync_state,
                     patches_doc_sync_state_copy, patches_doc_sync_state_free)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void request_sync          (PatchesSync   *self,
                                   DocEntry      *entry,
                                   DocWaiterFunc  func,
                                   gpointer       data);
static void schedule_reconnect    (PatchesSync   *self);
static void dial                  (PatchesSync   *self);
static void remote_deleted        (PatchesSync   *self,
                                   const char    *doc_id);
static void doc_reload_async      (PatchesSync         *self,
                                   DocEntry            *entry,
                                   gboolean             flush_first,
                                   gboolean             report_skipped,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
static void doc_flush_async       (PatchesSync         *self,
                                   DocEntry            *entry,
                                   GPtrArray           *pending,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);

/* Doc sync state */

/**
 * patches_doc_sync_state_copy:
 * @self: a #PatchesDocSyncState
 *
 * Returns: (transfer full): a copy of @self
 */
PatchesDocSyncState *
patches_doc_sync_state_copy (const PatchesDocSyncState *self)
{
  PatchesDocSyncState *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_new0 (PatchesDocSyncState, 1);
  *copy = *self;
  copy->error = self->error ? g_error_copy (self->error) : NULL;

  return copy;
}

/**
 * patches_doc_sync_state_free:
 * @self: (nullable): a #PatchesDocSyncState
 *
 * Frees @self and its error.
 */
void
patches_doc_sync_state_free (PatchesDocSyncState *self)
{
  if (self == NULL)
    return;

  g_clear_error (&self->error);
  g_free (self);
}

/* Small helpers */

static SyncHandle *
sync_handle_ref (SyncHandle *handle)
{
  g_ref_count_inc (&handle->ref_count);
  return handle;
}

static void
sync_handle_unref (SyncHandle *handle)
{
  if (g_ref_count_dec (&handle->ref_count))
    g_free (handle);
}

static PatchesSync *
sync_handle_dup (SyncHandle *handle)
{
  return handle->sync ? g_object_ref (handle->sync) : NULL;
}

static gboolean
errors_equal (const GError *a,
              const GError *b)
{
  if (a == NULL || b == NULL)
    return a == b;

  return a->domain == b->domain &&
         a->code == b->code &&
         g_strcmp0 (a->message, b->message) == 0;
}

static gboolean
can_send (PatchesSync *self)
{
  return self->online && self->connected && self->connection != NULL;
}

static GError *
not_connected_error (void)
{
  return g_error_new_literal (PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_NOT_CONNECTED,
                              "Not connected to the server");
}

static GError *
gone_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                              "The document is no longer synced");
}

/* The status code of an error the server answered with, or 0 */
static int
remote_status (const GError *error)
{
  if (error == NULL || !g_error_matches (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE))
    return 0;

  return patches_rpc_error_get_code (error);
}

/* A string member of the `data` object of a server error, or NULL */
static const char *
remote_data_string (const GError *error,
                    const char   *key)
{
  PatchesValue *data;
  PatchesValue *member;

  if (remote_status (error) == 0)
    return NULL;

  data = patches_rpc_error_get_data (error);
  if (data == NULL || patches_value_get_kind (data) != PATCHES_VALUE_OBJECT)
    return NULL;

  member = patches_value_object_get (data, key);
  if (member == NULL || patches_value_get_kind (member) != PATCHES_VALUE_STRING)
    return NULL;

  return patches_value_get_string (member);
}

static gboolean
is_network_error (const GError *error)
{
  return patches_rpc_error_is_network (error);
}

static gboolean
is_cancelled_error (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* A handshake the server answered and refused for good (a wrong token, a
 * wrong path): retrying will not help until something changes on either
 * side.  A busy or restarting server (429, 5xx) is only transient. */
static gboolean
is_refusal_error (PatchesConnection *connection,
                  const GError      *error)
{
  guint status;

  if (error == NULL)
    return FALSE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    return TRUE;
  if (error->domain != SOUP_WEBSOCKET_ERROR)
    return FALSE;

  status = patches_connection_get_last_http_status (connection);
  return status != 429 && status < 500;
}

/* The leading run of @pending sharing the first change's baseRev
 * (PROTOCOL.md §8.4 step 3) */
static GPtrArray *
leading_run (GPtrArray *pending)
{
  GPtrArray *run = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_change_unref);
  gint64 base_rev;

  if (pending == NULL || pending->len == 0)
    return run;

  base_rev = ((PatchesChange *) g_ptr_array_index (pending, 0))->base_rev;
  for (guint i = 0; i < pending->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (pending, i);

      if (change->base_rev != base_rev)
        break;
      g_ptr_array_add (run, patches_change_ref (change));
    }

  return run;
}

static GPtrArray *
dup_pending (PatchesSync  *self,
             DocEntry     *entry,
             GError      **error)
{
  GPtrArray *pending = patches_client_dup_pending (self->client, entry->doc_id, error);

  if (pending == NULL && error != NULL && *error == NULL)
    pending = patches_changes_new ();

  return pending;
}

/* Global state */

static void
set_global_state (PatchesSync       *self,
                  gboolean           online,
                  gboolean           connected,
                  PatchesSyncStatus  status,
                  const GError      *error)
{
  gboolean online_changed = self->online != online;
  gboolean connected_changed = self->connected != connected;
  gboolean status_changed = self->sync_status != status;
  gboolean error_changed;

  if (status != PATCHES_SYNC_STATUS_ERROR)
    error = NULL;
  error_changed = !errors_equal (self->sync_error, error);

  /* every field first, so that each notification sees the new state */
  self->online = online;
  self->connected = connected;
  self->sync_status = status;
  if (error_changed)
    {
      g_clear_error (&self->sync_error);
      self->sync_error = error ? g_error_copy (error) : NULL;
    }

  if (online_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ONLINE]);
  if (connected_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTED]);
  if (status_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNC_STATUS]);
  if (error_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNC_ERROR]);

  if (online_changed || connected_changed || status_changed || error_changed)
    g_signal_emit (self, signals[STATE_CHANGED], 0);
}

static void
set_sync_status (PatchesSync       *self,
                 PatchesSyncStatus  status,
                 const GError      *error)
{
  set_global_state (self, self->online, self->connected, status, error);
}

static void
set_next_retry_time (PatchesSync *self,
                     gint64       when)
{
  if (self->next_retry_time == when)
    return;

  self->next_retry_time = when;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NEXT_RETRY_TIME]);
}

static void
report_error (PatchesSync  *self,
              const GError *error,
              const char   *doc_id)
{
  g_debug ("Sync error%s%s: %s", doc_id ? " for " : "", doc_id ? doc_id : "", error->message);
  g_signal_emit (self, signals[ERROR], 0, error, doc_id);
}

/* Doc entries */

static DocEntry *
doc_entry_ref (DocEntry *entry)
{
  g_ref_count_inc (&entry->ref_count);
  return entry;
}

static void
doc_waiters_free (GSList *waiters)
{
  g_slist_free_full (waiters, g_free);
}

static void
doc_entry_unref (DocEntry *entry)
{
  if (!g_ref_count_dec (&entry->ref_count))
    return;

  g_assert (entry->waiters == NULL);
  g_assert (entry->next_waiters == NULL);
  g_clear_pointer (&entry->buffer, g_ptr_array_unref);
  g_clear_pointer (&entry->skipped_reported, g_hash_table_unref);
  g_clear_error (&entry->state.error);
  g_free (entry->doc_id);
  g_free (entry);
}

static PatchesSync *
doc_entry_dup_sync (DocEntry *entry)
{
  return entry->sync ? g_object_ref (entry->sync) : NULL;
}

static void
doc_entry_cancel_timers (DocEntry *entry)
{
  g_clear_handle_id (&entry->retry_source, g_source_remove);
  g_clear_handle_id (&entry->flush_source, g_source_remove);
}

/* Called when the table lets go of an entry: operations still running
 * for it find it detached and stop */
static void
doc_entry_detach (gpointer data)
{
  DocEntry *entry = data;

  if (entry->running && entry->sync != NULL)
    entry->sync->n_running--;
  entry->sync = NULL;
  entry->queued = FALSE;
  doc_entry_cancel_timers (entry);
  doc_entry_unref (entry);
}

static PatchesSyncStatus
doc_entry_stable_status (DocEntry *entry)
{
  return (entry->state.committed_rev > 0 || entry->state.has_pending)
         ? PATCHES_SYNC_STATUS_SYNCED
         : PATCHES_SYNC_STATUS_UNSYNCED;
}

/* Changes @entry's state and tells whoever listens; @refresh reads the
 * committed revision and pending flag from the client */
static void
doc_entry_update (PatchesSync       *self,
                  DocEntry          *entry,
                  gboolean           refresh,
                  PatchesSyncStatus  status,
                  const GError      *error)
{
  PatchesDocSyncState *state = &entry->state;
  gboolean changed = FALSE;
  gboolean status_changed = FALSE;
  gboolean loaded;

  if (entry->sync == NULL)
    return;

  if (status != PATCHES_SYNC_STATUS_ERROR)
    error = NULL;

  if (refresh)
    {
      gint64 rev = patches_client_get_committed_rev (self->client, entry->doc_id);
      gboolean has_pending = patches_client_has_pending (self->client, entry->doc_id);

      if (rev != state->committed_rev || has_pending != state->has_pending)
        {
          state->committed_rev = rev;
          state->has_pending = has_pending;
          changed = TRUE;
        }
    }

  if (state->status != status || !errors_equal (state->error, error))
    {
      GError *copy = error ? g_error_copy (error) : NULL;

      state->status = status;
      g_clear_error (&state->error);
      state->error = copy;
      changed = status_changed = TRUE;
    }

  loaded = state->loaded ||
           state->committed_rev > 0 ||
           state->has_pending ||
           state->status == PATCHES_SYNC_STATUS_SYNCED ||
           state->status == PATCHES_SYNC_STATUS_ERROR;
  if (loaded != state->loaded)
    {
      state->loaded = loaded;
      changed = TRUE;
    }

  if (status_changed)
    patches_client_set_doc_sync_status (self->client, entry->doc_id, state->status, state->error);

  if (changed)
    g_signal_emit (self, signals[DOC_STATE_CHANGED], 0, entry->doc_id);
}

static void
doc_entry_set_status (PatchesSync       *self,
                      DocEntry          *entry,
                      PatchesSyncStatus  status,
                      const GError      *error)
{
  doc_entry_update (self, entry, FALSE, status, error);
}

static void
doc_entry_refresh (PatchesSync *self,
                   DocEntry    *entry)
{
  doc_entry_update (self, entry, TRUE, entry->state.status, entry->state.error);
}

static DocEntry *
lookup_entry (PatchesSync *self,
              const char  *doc_id)
{
  return doc_id ? g_hash_table_lookup (self->docs, doc_id) : NULL;
}

/* Creates the entry of a tracked document (§8.12: committed revision and
 * pending flag from storage, unsynced when never synced) */
static DocEntry *
ensure_entry (PatchesSync *self,
              const char  *doc_id,
              gboolean    *created)
{
  DocEntry *entry = lookup_entry (self, doc_id);

  if (created)
    *created = entry == NULL;

  if (entry != NULL)
    return entry;

  entry = g_new0 (DocEntry, 1);
  g_ref_count_init (&entry->ref_count);
  entry->sync = self;
  entry->doc_id = g_strdup (doc_id);
  entry->state.committed_rev = patches_client_get_committed_rev (self->client, doc_id);
  entry->state.has_pending = patches_client_has_pending (self->client, doc_id);
  entry->state.status = entry->state.committed_rev > 0
                        ? PATCHES_SYNC_STATUS_SYNCED
                        : PATCHES_SYNC_STATUS_UNSYNCED;
  entry->state.loaded = entry->state.committed_rev > 0 ||
                        entry->state.has_pending ||
                        entry->state.status == PATCHES_SYNC_STATUS_SYNCED;
  g_hash_table_insert (self->docs, entry->doc_id, entry);

  patches_client_set_doc_sync_status (self->client, doc_id, entry->state.status, NULL);

  return entry;
}

/* Forgets a document (untracked or deleted); returns whether it was known */
static gboolean
drop_entry (PatchesSync *self,
            const char  *doc_id)
{
  g_autofree char *id = g_strdup (doc_id);

  if (!g_hash_table_remove (self->docs, id))
    return FALSE;

  g_signal_emit (self, signals[DOC_STATE_CHANGED], 0, id);

  return TRUE;
}

/* A strong list of the entries, safe to walk while signals run */
static GPtrArray *
list_entries (PatchesSync *self)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) doc_entry_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->docs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (entries, doc_entry_ref (value));

  return entries;
}

/* Applies committed changes through the client (§8.6) and refreshes the
 * entry's revision and pending flag */
static gboolean
doc_apply (PatchesSync  *self,
           DocEntry     *entry,
           GPtrArray    *changes,
           GError      **error)
{
  gboolean ok = TRUE;

  if (changes != NULL && changes->len > 0)
    ok = patches_client_apply_committed (self->client, entry->doc_id, changes, error);

  doc_entry_refresh (self, entry);

  return ok;
}

static gboolean
doc_op_finish (GAsyncResult  *result,
               GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static GTask *
doc_op_new (DocEntry            *entry,
            gpointer             source_tag,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, doc_entry_ref (entry), (GDestroyNotify) doc_entry_unref);

  return task;
}

/* Pull: getChangesSince(R), applied (§8.4 step 5, gap recovery) */

static void
doc_pull_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  DocEntry *entry = g_task_get_task_data (task);
  g_autoptr(PatchesSync) self = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  GError *error = NULL;

  changes = patches_connection_get_changes_since_finish (PATCHES_CONNECTION (object), result, &error);
  if (changes == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  if (!(self = doc_entry_dup_sync (entry)))
    {
      g_task_return_error (task, gone_error ());
      return;
    }

  if (!doc_apply (self, entry, changes, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
doc_pull_async (PatchesSync         *self,
                DocEntry            *entry,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  g_autoptr(GTask) task = doc_op_new (entry, doc_pull_async, callback, user_data);

  if (!can_send (self))
    {
      g_task_return_error (task, not_connected_error ());
      return;
    }

  patches_connection_get_changes_since_async (self->connection, entry->doc_id,
                                              patches_client_get_committed_rev (self->client, entry->doc_id),
                                              self->cancellable, doc_pull_cb, g_steal_pointer (&task));
}

/* Flush (§8.5.1) */

typedef struct
{
  DocEntry            *entry;
  GPtrArray           *batches;
  guint                index;
  char                *head_id;
  PatchesCommitResult *result;
  gboolean             reloaded;
  gboolean             conflict;
} FlushData;

static void
flush_data_free (FlushData *data)
{
  g_clear_pointer (&data->entry, doc_entry_unref);
  g_clear_pointer (&data->batches, g_ptr_array_unref);
  g_clear_pointer (&data->result, patches_commit_result_unref);
  g_free (data->head_id);
  g_free (data);
}

static void flush_next_batch (GTask *task);

/* §12 #11: after a 409 reload, pending changes that claim a base above
 * the server's head are restamped onto it instead of being refused
 * again and again */
static gboolean
restamp_pending (PatchesSync  *self,
                 DocEntry     *entry,
                 GError      **error)
{
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GPtrArray) restamped = NULL;
  gint64 rev = patches_client_get_committed_rev (self->client, entry->doc_id);
  gint64 next;

  if (!(pending = dup_pending (self, entry, error)))
    return FALSE;

  if (pending->len == 0 || ((PatchesChange *) g_ptr_array_index (pending, 0))->base_rev <= rev)
    return TRUE;

  g_debug ("Restamping %u pending changes of %s onto revision %" G_GINT64_FORMAT,
           pending->len, entry->doc_id, rev);

  restamped = patches_changes_new ();
  next = rev;
  for (guint i = 0; i < pending->len; i++)
    {
      PatchesChange *copy = patches_change_copy (g_ptr_array_index (pending, i));

      copy->base_rev = rev;
      copy->rev = ++next;
      g_ptr_array_add (restamped, copy);
    }

  return patches_client_replace_pending (self->client, entry->doc_id, restamped, error);
}

static void
flush_done (GTask *task)
{
  FlushData *data = g_task_get_task_data (task);
  g_autoptr(PatchesSync) self = doc_entry_dup_sync (data->entry);
  g_autoptr(GPtrArray) pending = NULL;
  GError *error = NULL;

  if (self == NULL)
    {
      g_task_return_error (task, gone_error ());
      return;
    }

  doc_entry_refresh (self, data->entry);

  /* §8.5.1 step 5: more to send after a reload or after edits made
   * during this flush → one more sync */
  if (!(pending = dup_pending (self, data->entry, &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  if (pending->len > 0 &&
      (data->reloaded ||
       g_strcmp0 (((PatchesChange *) g_ptr_array_index (pending, 0))->id, data->head_id) != 0))
    data->entry->queued = TRUE;

  g_task_return_boolean (task, TRUE);
}

static void
flush_reload_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FlushData *data = g_task_get_task_data (task);
  g_autoptr(PatchesSync) self = NULL;
  GError *error = NULL;

  if (!doc_op_finish (result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  if (!(self = doc_entry_dup_sync (data->entry)))
    {
      g_task_return_error (task, gone_error ());
      return;
    }

  data->reloaded = TRUE;
  if (data->conflict && !restamp_pending (self, data->entry, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  flush_done (task);
}

/* Drops from the pending queue every change of the batch the server did
 * not return (transformed to nothing, or an already committed copy) */
static gboolean
flush_drop_absent (PatchesSync  *self,
                   FlushData    *data,
                   GPtrArray    *batch,
                   GError      **error)
{
  g_autoptr(GHashTable) returned = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) absent = g_ptr_array_new ();

  for (guint i = 0; data->result->changes != NULL && i < data->result->changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (data->result->changes, i);

      if (change->id != NULL)
        g_hash_table_add (returned, change->id);
    }

  for (guint i = 0; i < batch->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (batch, i);

      if (!g_hash_table_contains (returned, change->id))
        g_ptr_array_add (absent, change->id);
    }

  if (absent->len == 0)
    return TRUE;

  g_ptr_array_add (absent, NULL);

  return patches_client_remove_pending (self->client, data->entry->doc_id,
                                        (const char * const *) absent->pdata, error);
}

/* Consumes the task */
static void
flush_batch_applied (GTask *task)
{
  g_autoptr(GTask) owned = task;
  FlushData *data = g_task_get_task_data (task);
  g_autoptr(PatchesSync) self = doc_entry_dup_sync (data->entry);
  GError *error = NULL;

  if (self == NULL)
    {
      g_task_return_error (task, gone_error ());
      return;
    }

  if (!flush_drop_absent (self, data, g_ptr_array_index (data->batches, data->index), &error))
    {
      g_task_return_error (task, error);
      return;
    }

  doc_entry_refresh (self, data->entry);
  g_clear_pointer (&data->result, patches_commit_result_unref);
  data->index++;
  flush_next_batch (g_steal_pointer (&owned));
}

static void
flush_gap_pulled_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!doc_op_finish (result, &error))
    g_task_return_error (task, error);
  else
    flush_batch_applied (g_steal_pointer (&task));
}

static void
flush_commit_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FlushData *data = g_task_get_task_data (task);
  g_autoptr(PatchesCommitResult) res = NULL;
  g_autoptr(PatchesSync) self = NULL;
  GPtrArray *batch;
  GError *error = NULL;

  res = patches_connection_commit_changes_finish (PATCHES_CONNECTION (object), result, &error);

  if (!(self = doc_entry_dup_sync (data->entry)))
    {
      g_clear_error (&error);
      g_task_return_error (task, gone_error ());
      return;
    }

  batch = g_ptr_array_index (data->batches, data->index);

  if (res == NULL)
    {
      /* §8.5.1 step 4.3: the document is the problem: reload it; the
       * remaining batches were minted against the old base */
      if (remote_status (error) == 409 &&
          g_strcmp0 (remote_data_string (error, "scope"), "doc") == 0)
        {
          /* §12 #11: a server that refuses again after each reload is not
           * reloaded from at full speed forever: after a few rounds the
           * 409 is an ordinary error, retried with the backoff of §8.9,
           * and the next attempt may reload again */
          if (data->entry->conflict_reloads >= MAX_CONFLICT_RELOADS)
            {
              data->entry->conflict_reloads = 0;
              g_task_return_error (task, error);
              return;
            }

          data->entry->conflict_reloads++;
          g_debug ("Commit of %s refused (%s), reloading", data->entry->doc_id, error->message);
          g_clear_error (&error);
          data->conflict = TRUE;
          doc_reload_async (self, data->entry, FALSE, FALSE, flush_reload_cb, g_steal_pointer (&task));
          return;
        }

      g_task_return_error (task, error);
      return;
    }

  /* the server took the batch */
  data->entry->conflict_reloads = 0;

  if (res->doc_reload_required)
    {
      /* §8.5.1 step 4.5: committed on top of history we never saw */
      g_autoptr(GPtrArray) ids = g_ptr_array_new ();

      g_debug ("The server asks to reload %s", data->entry->doc_id);

      for (guint i = 0; i < batch->len; i++)
        g_ptr_array_add (ids, ((PatchesChange *) g_ptr_array_index (batch, i))->id);
      g_ptr_array_add (ids, NULL);

      if (!patches_client_remove_pending (self->client, data->entry->doc_id,
                                          (const char * const *) ids->pdata, &error))
        {
          g_task_return_error (task, error);
          return;
        }

      doc_reload_async (self, data->entry, FALSE, FALSE, flush_reload_cb, g_steal_pointer (&task));
      return;
    }

  data->result = g_steal_pointer (&res);

  if (!doc_apply (self, data->entry, data->result->changes, &error))
    {
      if (g_error_matches (error, PATCHES_ERROR, PATCHES_ERROR_MISSING_CHANGES))
        {
          g_debug ("%s: %s", data->entry->doc_id, error->message);
          g_clear_error (&error);
          doc_pull_async (self, data->entry, flush_gap_pulled_cb, g_steal_pointer (&task));
          return;
        }

      g_task_return_error (task, error);
      return;
    }

  flush_batch_applied (g_steal_pointer (&task));
}

static void
flush_next_batch (GTask *task)
{
  FlushData *data = g_task_get_task_data (task);
  g_autoptr(PatchesSync) self = doc_entry_dup_sync (data->entry);

  if (self == NULL)
    {
      g_task_return_error (task, gone_error ());
      g_object_unref (task);
      return;
    }

  if (data->index >= data->batches->len)
    {
      flush_done (task);
      g_object_unref (task);
      return;
    }

  if (!can_send (self))
    {
      g_task_return_error (task, not_connected_error ());
      g_object_unref (task);
      return;
    }

  patches_connection_commit_changes_async (self->connection, data->entry->doc_id,
                                           g_ptr_array_index (data->batches, data->index),
                                           NULL, self->cancellable, flush_commit_cb, task);
}

/* Sends @pending (the leading run of the pending queue) batch after
 * batch (§8.5.1) */
static void
doc_flush_async (PatchesSync         *self,
                 DocEntry            *entry,
                 GPtrArray           *pending,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, callback, user_data);
  PatchesSplitOptions options = { 0 };
  FlushData *data;
  guint n_pieces = 0;
  GError *error = NULL;

  g_task_set_source_tag (task, doc_flush_async);
  data = g_new0 (FlushData, 1);
  data->entry = doc_entry_ref (entry);
  g_task_set_task_data (task, data, (GDestroyNotify) flush_data_free);

  if (!patches_client_is_tracked (self->client, entry->doc_id))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               "Document %s is not tracked", entry->doc_id);
      return;
    }

  if (!can_send (self))
    {
      g_task_return_error (task, not_connected_error ());
      return;
    }

  if (pending->len == 0)
    {
      data->batches = g_ptr_array_new ();
      flush_next_batch (g_steal_pointer (&task));
      return;
    }

  options.max_payload_bytes = self->max_batch_size;
  if (!(data->batches = patches_break_changes_into_batches (pending, &options, &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  for (guint i = 0; i < data->batches->len; i++)
    n_pieces += ((GPtrArray *) g_ptr_array_index (data->batches, i))->len;

  /* §8.5.1 step 3: the store must hold exactly the ids that are sent */
  if (n_pieces != pending->len)
    {
      g_autoptr(GPtrArray) all = NULL;
      g_autoptr(GPtrArray) replaced = patches_changes_new ();

      if (!(all = dup_pending (self, entry, &error)))
        {
          g_task_return_error (task, error);
          return;
        }

      for (guint i = 0; i < data->batches->len; i++)
        {
          GPtrArray *batch = g_ptr_array_index (data->batches, i);

          for (guint j = 0; j < batch->len; j++)
            g_ptr_array_add (replaced, patches_change_ref (g_ptr_array_index (batch, j)));
        }
      for (guint i = pending->len; i < all->len; i++)
        g_ptr_array_add (replaced, patches_change_ref (g_ptr_array_index (all, i)));

      if (!patches_client_replace_pending (self->client, entry->doc_id, replaced, &error))
        {
          g_task_return_error (task, error);
          return;
        }
    }

  g_debug ("Sending %u pending changes of %s in %u batches",
           n_pieces, entry->doc_id, data->batches->len);
  data->head_id = g_strdup (((PatchesChange *) g_ptr_array_index (pending, 0))->id);
  flush_next_batch (g_steal_pointer (&task));
}

/* Reload (§8.8) */

typedef struct
{
  DocEntry        *entry;
  gboolean         flush_first;
  gboolean         report_skipped;
  gint64           base_rev;
  PatchesSnapshot *snapshot;
  gint64           head;
} ReloadData;

static void
reload_data_free (ReloadData *data)
{
  g_clear_pointer (&data->entry, doc_entry_unref);
  g_clear_pointer (&data->snapshot, patches_snapshot_unref);
  g_free (data);
}

/* Every way out of a reload goes through here: stop buffering */
static void
reload_return (GTask  *task,
               GError *error)
{
  ReloadData *data = g_task_get_task_data (task);
  DocEntry *entry = data->entry;

  g_assert (entry->reloading > 0);
  if (--entry->reloading == 0)
    g_clear_pointer (&entry->buffer, g_ptr_array_unref);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static int
compare_change_rev (gconstpointer a,
                    gconstpointer b)
{
  const PatchesChange *ca = *(PatchesChange * const *) a;
  const PatchesChange *cb = *(PatchesChange * const *) b;

  return (ca->rev > cb->rev) - (ca->rev < cb->rev);
}

static void reload_drain (GTask *task);

/* A pull or flush of the reloading document ended: drain what arrived */
static void
reload_drain_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!doc_op_finish (result, &error))
    reload_return (task, error);
  else
    reload_drain (g_steal_pointer (&task));
}

/* §8.8 step 8: what arrived during the reload; consumes the task */
static void
reload_drain (GTask *task)
{
  g_autoptr(GTask) owned = task;
  ReloadData *data = g_task_get_task_data (task);
  DocEntry *entry = data->entry;
  g_autoptr(PatchesSync) self = doc_entry_dup_sync (entry);
  g_autoptr(GPtrArray) fresh = NULL;
  g_autoptr(GPtrArray) ordered = NULL;
  gint64 rev;
  gboolean contiguous = TRUE;
  GError *error = NULL;

  if (self == NULL)
    {
      reload_return (task, gone_error ());
      return;
    }

  rev = patches_client_get_committed_rev (self->client, entry->doc_id);
  fresh = patches_changes_new ();
  for (guint i = 0; entry->buffer != NULL && i < entry->buffer->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (entry->buffer, i);

      if (change->rev > rev)
        g_ptr_array_add (fresh, patches_change_ref (change));
    }
  if (entry->buffer != NULL)
    g_ptr_array_set_size (entry->buffer, 0);

  if (fresh->len == 0)
    {
      reload_return (task, NULL);
      return;
    }

  g_ptr_array_sort (fresh, compare_change_rev);
  ordered = patches_changes_new ();
  for (guint i = 0; i < fresh->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (fresh, i);

      /* the same change may have been announced twice */
      if (ordered->len > 0 &&
          ((PatchesChange *) g_ptr_array_index (ordered, ordered->len - 1))->rev == change->rev)
        continue;
      if (change->rev != rev + 1 + (gint64) ordered->len)
        {
          contiguous = FALSE;
          break;
        }
      g_ptr_array_add (ordered, patches_change_ref (change));
    }

  if (!contiguous)
    {
      doc_pull_async (self, entry, reload_drain_cb, g_steal_pointer (&owned));
      return;
    }

  if (!doc_apply (self, entry, ordered, &error))
    {
      if (g_error_matches (error, PATCHES_ERROR, PATCHES_ERROR_MISSING_CHANGES))
        {
          g_clear_error (&error);
          doc_pull_async (self, entry, reload_drain_cb, g_steal_pointer (&owned));
          return;
        }
      reload_return (task, error);
      return;
    }

  reload_drain (g_steal_pointer (&owned));
}

typedef struct
{
  PatchesSync *sync;
  DocEntry    *entry;
} SkippedReport;

static void
reload_skipped_cb (const PatchesChange *change,
                   guint                index,
                   const GError        *error,
                   gpointer             user_data)
{
  SkippedReport *report = user_data;
  DocEntry *entry = report->entry;
  g_autoptr(GError) skipped = NULL;

  if (change->id == NULL)
    return;

  if (entry->skipped_reported == NULL)
    entry->skipped_reported = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (!g_hash_table_add (entry->skipped_reported, g_strdup (change->id)))
    return;

  skipped = g_error_new (PATCHES_ERROR, PATCHES_ERROR_APPLY_CHANGES,
                         "Committed change %s (rev %" G_GINT64_FORMAT ") of %s does not apply "
                         "even after a reload; it counts as an empty change (%s)",
                         change->id, change->rev, entry->doc_id, error->message);
  report_error (report->sync, skipped, entry->doc_id);
}

/* §8.9 row 2, second strike: the reload follows a committed change that
 * did not apply; the snapshot is installed with every change that still
 * does not apply counting as empty (revision kept, as the client's
 * install does), and each such change is reported once */
static void
reload_report_skipped (PatchesSync     *self,
                       DocEntry        *entry,
                       PatchesSnapshot *snapshot)
{
  g_autoptr(PatchesValue) probe = NULL;
  SkippedReport report = { self, entry };

  if (snapshot->changes == NULL || snapshot->changes->len == 0)
    return;

  probe = snapshot->state ? patches_value_ref (snapshot->state) : NULL;
  patches_changes_apply_for_reconstruction (&probe, snapshot->changes, FALSE,
                                            reload_skipped_cb, &report);
}

/* §8.8 steps 6–7 */
static void
reload_install (GTask     *task,
                GPtrArray *tail)
{
  g_autoptr(GTask) owned = task;
  ReloadData *data = g_task_get_task_data (task);
  g_autoptr(PatchesSync) self = doc_entry_dup_sync (data->entry);
  PatchesSnapshot *snapshot = data->snapshot;
  GError *error = NULL;

  if (self == NULL)
    {
      reload_return (task, gone_error ());
      return;
    }

  /* A document neither side has a revision of: nothing to install, the
   * local (empty) document stays as it is.  (When we had a revision and
   * the server has none, its empty document is installed.) */
  if (data->head == 0 && data->base_rev == 0 &&
      (snapshot->changes == NULL || snapshot->changes->len == 0) &&
      (snapshot->state == NULL || patches_value_get_kind (snapshot->state) == PATCHES_VALUE_NULL))
    {
      reload_drain (g_steal_pointer (&owned));
      return;
    }

  if (data->report_skipped)
    reload_report_skipped (self, data->entry, snapshot);

  if (!patches_client_install_snapshot (self->client, data->entry->doc_id,
                                        snapshot->state, snapshot->rev, snapshot->changes,
                                        tail, &error))
    {
      reload_return (task, error);
      return;
    }

  doc_entry_refresh (self, data->entry);
  reload_drain (g_steal_pointer (&owned));
}

static void
reload_tail_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ReloadData *data = g_task_get_task_data (task);
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GPtrArray) tail = NULL;
  GError *error = NULL;

  if (!(changes = patches_connection_get_changes_since_finish (PATCHES_CONNECTION (object), result, &error)))
    {
      reload_return (task, error);
      return;
    }

  tail = patches_changes_new ();
  for (guint i = 0; i < changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (changes, i);

      if (change->rev <= data->head)
        g_ptr_array_add (tail, patches_change_ref (change));
    }

  reload_install (g_steal_pointer (&task), tail);
}

static void
reload_snapshot_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ReloadData *data = g_task_get_task_data (task);
  g_autoptr(PatchesSync) self = NULL;
  gboolean has_pending;
  GError *error = NULL;

  if (!(data->snapshot = patches_connection_get_doc_finish (PATCHES_CONNECTION (object), result, &error)))
    {
      reload_return (task, error);
      return;
    }

  if (!(self = doc_entry_dup_sync (data->entry)))
    {
      reload_return (task, gone_error ());
      return;
    }

  data->head = patches_snapshot_get_head_rev (data->snapshot);
  has_pending = patches_client_has_pending (self->client, data->entry->doc_id);

  /* §8.8 step 3: an edit made during the fetch goes out at its true
   * baseRev, so that the server's guards apply */
  if (data->flush_first && data->snapshot->rev > 0 && has_pending)
    {
      g_autoptr(GPtrArray) pending = NULL;
      g_autoptr(GPtrArray) run = NULL;

      if (!(pending = dup_pending (self, data->entry, &error)))
        {
          reload_return (task, error);
          return;
        }
      run = leading_run (pending);
      doc_flush_async (self, data->entry, run, reload_drain_cb, g_steal_pointer (&task));
      return;
    }

  /* §8.8 step 5: rebase pending changes through what was committed
   * between our revision and the snapshot's head */
  if (has_pending && data->head > data->base_rev)
    {
      if (!can_send (self))
        {
          reload_return (task, not_connected_error ());
          return;
        }
      patches_connection_get_changes_since_async (self->connection, data->entry->doc_id,
                                                  data->base_rev, self->cancellable,
                                                  reload_tail_cb, g_steal_pointer (&task));
      return;
    }

  reload_install (g_steal_pointer (&task), NULL);
}

static void
doc_reload_async (PatchesSync         *self,
                  DocEntry            *entry,
                  gboolean             flush_first,
                  gboolean             report_skipped,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, callback, user_data);
  ReloadData *data;

  g_task_set_source_tag (task, doc_reload_async);
  data = g_new0 (ReloadData, 1);
  data->entry = doc_entry_ref (entry);
  data->flush_first = flush_first;
  data->report_skipped = report_skipped;
  data->base_rev = patches_client_get_committed_rev (self->client, entry->doc_id);
  g_task_set_task_data (task, data, (GDestroyNotify) reload_data_free);

  /* §8.8 step 1: from now on changesCommitted for the doc is buffered */
  if (entry->reloading++ == 0)
    entry->buffer = patches_changes_new ();

  if (!can_send (self))
    {
      reload_return (task, not_connected_error ());
      return;
    }

  patches_connection_get_doc_async (self->connection, entry->doc_id, 0, self->cancellable,
                                    reload_snapshot_cb, g_steal_pointer (&task));
}

/* syncDoc (§8.4) */

typedef struct
{
  DocEntry *entry;
  gboolean  skipped;
  gboolean  apply_reloaded;
} RunData;

static void
run_data_free (RunData *data)
{
  g_clear_pointer (&data->entry, doc_entry_unref);
  g_free (data);
}

static void
run_step_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RunData *data = g_task_get_task_data (task);
  g_autoptr(PatchesSync) self = NULL;
  GError *error = NULL;

  if (doc_op_finish (result, &error))
    {
      /* the reload after an apply failure installs, it does not send:
       * what is still pending goes out in a follow-up run */
      if (data->apply_reloaded &&
          (self = doc_entry_dup_sync (data->entry)) != NULL &&
          patches_client_has_pending (self->client, data->entry->doc_id))
        data->entry->queued = TRUE;
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* §8.9 row 2: a committed change that does not apply: report it and
   * reload the document (once per run) */
  if (g_error_matches (error, PATCHES_ERROR, PATCHES_ERROR_APPLY_CHANGES) &&
      !data->apply_reloaded &&
      (self = doc_entry_dup_sync (data->entry)) != NULL)
    {
      report_error (self, error, data->entry->doc_id);
      g_clear_error (&error);
      data->apply_reloaded = TRUE;
      if (!can_send (self))
        {
          g_task_return_error (task, not_connected_error ());
          return;
        }
      doc_reload_async (self, data->entry, FALSE, TRUE, run_step_cb, g_steal_pointer (&task));
      return;
    }

  g_task_return_error (task, error);
}

static void
doc_run_async (PatchesSync         *self,
               DocEntry            *entry,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, callback, user_data);
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GPtrArray) run = NULL;
  RunData *data;
  GError *error = NULL;

  g_task_set_source_tag (task, doc_run_async);
  data = g_new0 (RunData, 1);
  data->entry = doc_entry_ref (entry);
  g_task_set_task_data (task, data, (GDestroyNotify) run_data_free);

  /* step 1 */
  if (!can_send (self) || !patches_client_is_tracked (self->client, entry->doc_id))
    {
      data->skipped = TRUE;
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* step 2 */
  doc_entry_set_status (self, entry, PATCHES_SYNC_STATUS_SYNCING, NULL);

  /* steps 3–6 */
  if (!(pending = dup_pending (self, entry, &error)))
    {
      g_task_return_error (task, error);
      return;
    }
  run = leading_run (pending);

  if (run->len > 0)
    doc_flush_async (self, entry, run, run_step_cb, g_steal_pointer (&task));
  else if (patches_client_get_committed_rev (self->client, entry->doc_id) > 0)
    doc_pull_async (self, entry, run_step_cb, g_steal_pointer (&task));
  else
    doc_reload_async (self, entry, TRUE, FALSE, run_step_cb, g_steal_pointer (&task));
}

static gboolean
doc_retry_cb (gpointer user_data)
{
  DocEntry *entry = user_data;
  g_autoptr(PatchesSync) self = doc_entry_dup_sync (entry);

  entry->retry_source = 0;

  if (self != NULL && can_send (self))
    request_sync (self, entry, NULL, NULL);

  return G_SOURCE_REMOVE;
}

static void
schedule_doc_retry (DocEntry *entry,
                    guint     delay_ms)
{
  g_clear_handle_id (&entry->retry_source, g_source_remove);
  entry->retry_source = g_timeout_add_full (G_PRIORITY_DEFAULT, delay_ms, doc_retry_cb,
                                            doc_entry_ref (entry),
                                            (GDestroyNotify) doc_entry_unref);
}

/* The next step of the retry ladder: min(1000·2^a, 30000) ms for
 * a = 0…9, then a slow re-probe when something is left to send */
static void
schedule_doc_retry_ladder (PatchesSync *self,
                           DocEntry    *entry,
                           gboolean     retryable)
{
  if (retryable && can_send (self) && entry->retry_attempt < DOC_RETRY_ATTEMPTS)
    {
      guint delay = MIN (DOC_RETRY_BASE_MS << entry->retry_attempt, DOC_RETRY_MAX_MS);

      entry->retry_attempt++;
      schedule_doc_retry (entry, delay);
      return;
    }

  if (entry->state.has_pending)
    {
      guint base = retryable ? REPROBE_RETRYABLE_MS : REPROBE_TERMINAL_MS;

      schedule_doc_retry (entry, (guint) (base * g_random_double_range (0.8, 1.0)));
    }
}

static gboolean
error_is_retryable (const GError *error)
{
  int status = remote_status (error);

  if (status == 401 || status == 402 || status == 403 || status == 404 || status == 410)
    return FALSE;
  if (status == 413 && g_strcmp0 (remote_data_string (error, "scope"), "change") == 0)
    return FALSE;
  if (g_error_matches (error, PATCHES_ERROR, PATCHES_ERROR_UNSPLITTABLE))
    return FALSE;

  return TRUE;
}

/* Quarantine (§8.9 row 5) */

/* The committed state and revision of @doc_id, from the open document or
 * the store (`{}` at 0 when the store does not know it) */
static gboolean
load_committed (PatchesSync   *self,
                const char    *doc_id,
                PatchesValue **state,
                gint64        *rev,
                GError       **error)
{
  PatchesDoc *doc = patches_client_get_open_doc (self->client, doc_id);
  g_autoptr(PatchesStoredDoc) stored = NULL;
  GError *local_error = NULL;

  if (doc != NULL)
    {
      PatchesValue *committed = patches_doc_get_committed_state (doc);

      *state = committed ? patches_value_ref (committed) : patches_value_new_object ();
      *rev = patches_doc_get_committed_rev (doc);
      return TRUE;
    }

  stored = patches_store_load_doc (patches_client_get_store (self->client), doc_id, &local_error);
  if (stored == NULL)
    {
      if (!g_error_matches (local_error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      g_clear_error (&local_error);
      *state = patches_value_new_object ();
      *rev = 0;
      return TRUE;
    }

  *state = stored->state ? patches_value_ref (stored->state) : patches_value_new_object ();
  *rev = stored->committed_rev;
  return TRUE;
}

/* Appends @change to the document's quarantine record in the store's
 * meta (PATCHES_SYNC_QUARANTINE_PREFIX): a JSON array of
 * QuarantinedChange objects (PROTOCOL.md §4.11).  A change already there
 * is not added twice. */
static gboolean
record_quarantine (PatchesSync    *self,
                   const char     *doc_id,
                   PatchesChange  *change,
                   const char     *reason,
                   GError        **error)
{
  PatchesStore *store = patches_client_get_store (self->client);
  g_autofree char *key = g_strconcat (PATCHES_SYNC_QUARANTINE_PREFIX, doc_id, NULL);
  g_autofree char *old = NULL;
  g_autofree char *json = NULL;
  g_autoptr(PatchesValue) list = NULL;
  PatchesValue *record;
  GError *local_error = NULL;

  old = patches_store_get_meta (store, key, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  if (old != NULL)
    {
      list = patches_value_parse (old, -1, NULL);
      /* never overwrite what was set aside earlier */
      if (list == NULL || patches_value_get_kind (list) != PATCHES_VALUE_ARRAY)
        {
          g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_CORRUPT,
                       "The quarantine record of %s cannot be read", doc_id);
          return FALSE;
        }
    }
  else
    list = patches_value_new_array ();

  for (guint i = 0; i < patches_value_array_get_length (list); i++)
    {
      PatchesValue *item = patches_value_array_get (list, i);
      PatchesValue *id = patches_value_get_kind (item) == PATCHES_VALUE_OBJECT
                         ? patches_value_object_get (item, "changeId") : NULL;

      if (id != NULL && patches_value_get_kind (id) == PATCHES_VALUE_STRING &&
          g_strcmp0 (patches_value_get_string (id), change->id) == 0)
        return TRUE;
    }

  record = patches_value_new_object ();
  patches_value_object_set (record, "docId", patches_value_new_string (doc_id));
  patches_value_object_set (record, "changeId", patches_value_new_string (change->id));
  patches_value_object_set (record, "change", patches_change_to_value (change));
  patches_value_object_set (record, "reason", patches_value_new_string (reason));
  patches_value_object_set (record, "quarantinedAt",
                            patches_value_new_number ((double) (g_get_real_time () / 1000)));
  patches_value_array_append (list, record);

  json = patches_value_to_json (list);
  return patches_store_set_meta (store, key, json, error);
}

/* §8.9 row 5: the server refused one pending change by name
 * (`data.changeId` with `data.scope == "change"`).  When that change does
 * not apply here either, in its own frame (the committed state and the
 * changes before it), it is moved to the quarantine and the queue goes on
 * without it; at most PATCHES_SYNC_MAX_EJECTIONS times per document.
 * Returns whether it was set aside (the caller syncs again). */
static gboolean
quarantine_refused_change (PatchesSync  *self,
                           DocEntry     *entry,
                           const GError *error)
{
  int status = remote_status (error);
  const char *change_id;
  g_autoptr(PatchesValue) frame = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) alone = NULL;
  g_autoptr(GPtrArray) rest = NULL;
  g_autoptr(GError) probe_error = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GError) report = NULL;
  g_autoptr(PatchesChange) poison = NULL;
  gint64 rev, next;

  if (status < 400 || status > 499 ||
      g_strcmp0 (remote_data_string (error, "scope"), "change") != 0 ||
      (change_id = remote_data_string (error, "changeId")) == NULL)
    return FALSE;

  if (entry->n_ejections >= PATCHES_SYNC_MAX_EJECTIONS)
    {
      g_debug ("%s: %u changes set aside already, not %s", entry->doc_id,
               entry->n_ejections, change_id);
      return FALSE;
    }

  if (!load_committed (self, entry->doc_id, &frame, &rev, &local_error) ||
      !(pending = dup_pending (self, entry, &local_error)))
    {
      g_debug ("%s: cannot probe change %s: %s", entry->doc_id, change_id, local_error->message);
      return FALSE;
    }

  before = patches_changes_new ();
  for (guint i = 0; i < pending->len && poison == NULL; i++)
    {
      PatchesChange *change = g_ptr_array_index (pending, i);

      if (g_strcmp0 (change->id, change_id) == 0)
        poison = patches_change_ref (change);
      else
        g_ptr_array_add (before, patches_change_ref (change));
    }

  if (poison == NULL)
    return FALSE;

  /* Its own frame, as the view has it: a change before it that does not
   * apply shows as nothing there */
  patches_changes_apply_for_reconstruction (&frame, before, FALSE, NULL, NULL);

  alone = patches_changes_new ();
  g_ptr_array_add (alone, patches_change_ref (poison));
  if (patches_changes_apply (&frame, alone, &probe_error))
    {
      g_debug ("%s: the server refused change %s, which applies here: not set aside",
               entry->doc_id, change_id);
      return FALSE;
    }

  /* A change that does not apply strictly applies as a whole or not at
   * all, so the view never showed it, and the changes after it were made
   * without it: they stay as they are (no inverse to rebase them
   * through, which patches_compute_pending_ejection() would refuse to
   * compute for such a change), and the queue is renumbered from the
   * committed revision (OPERATIONS.md §11.6 step 3). */
  rest = patches_changes_new ();
  next = rev;
  for (guint i = 0; i < pending->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (pending, i);
      PatchesChange *copy;

      if (change == poison)
        continue;
      copy = patches_change_copy (change);
      copy->rev = ++next;
      g_ptr_array_add (rest, copy);
    }

  if (!record_quarantine (self, entry->doc_id, poison, error->message, &local_error) ||
      !patches_client_replace_pending (self->client, entry->doc_id, rest, &local_error))
    {
      g_warning ("Cannot set change %s of %s aside: %s", change_id, entry->doc_id,
                 local_error->message);
      return FALSE;
    }

  entry->n_ejections++;
  g_debug ("%s: change %s set aside (%s)", entry->doc_id, change_id, probe_error->message);

  /* the server's error, with its code and data, named and explained */
  report = g_error_copy (error);
  g_prefix_error (&report, "Change %s was set aside (quarantined): it does not apply here either (%s); ",
                  poison->id, probe_error->message);
  report_error (self, report, entry->doc_id);

  return TRUE;
}

/* §8.9: what a failed syncDoc means */
static void
doc_sync_failed (PatchesSync  *self,
                 DocEntry     *entry,
                 const GError *error)
{
  if (is_cancelled_error (error))
    {
      doc_entry_set_status (self, entry, doc_entry_stable_status (entry), NULL);
      return;
    }

  /* row 1 */
  if (remote_status (error) == 410)
    {
      remote_deleted (self, entry->doc_id);
      return;
    }

  /* row 3: connection trouble is not the document's */
  if (is_network_error (error))
    {
      doc_entry_update (self, entry, TRUE, doc_entry_stable_status (entry), NULL);
      schedule_doc_retry_ladder (self, entry, TRUE);
      return;
    }

  /* row 5: a change the server refuses by name: set aside, sync again */
  if (quarantine_refused_change (self, entry, error))
    {
      doc_entry_refresh (self, entry);
      entry->queued = TRUE;
      entry->carry_waiters = TRUE;
      return;
    }

  /* row 6 */
  doc_entry_update (self, entry, TRUE, PATCHES_SYNC_STATUS_ERROR, error);
  if (!entry->error_reported)
    {
      entry->error_reported = TRUE;
      report_error (self, error, entry->doc_id);
    }
  schedule_doc_retry_ladder (self, entry, error_is_retryable (error));
}

static void
doc_sync_succeeded (PatchesSync *self,
                    DocEntry    *entry)
{
  g_clear_handle_id (&entry->retry_source, g_source_remove);
  entry->retry_attempt = 0;
  doc_entry_update (self, entry, TRUE, PATCHES_SYNC_STATUS_SYNCED, NULL);
}

static void doc_run_start (PatchesSync *self,
                           DocEntry    *entry);
static void sync_all_unqueue (PatchesSync *self,
                              DocEntry    *entry);

static void
call_waiters (DocEntry *entry,
              GSList   *waiters)
{
  for (GSList *l = waiters; l != NULL; l = l->next)
    {
      DocWaiter *waiter = l->data;

      waiter->func (entry, waiter->data);
    }
  doc_waiters_free (waiters);
}

static void
doc_run_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  DocEntry *entry = user_data;
  RunData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(PatchesSync) self = doc_entry_dup_sync (entry);
  g_autoptr(GError) error = NULL;
  gboolean ok = doc_op_finish (result, &error);
  GSList *waiters;

  if (self != NULL)
    {
      if (!ok)
        doc_sync_failed (self, entry, error);
      else if (!data->skipped)
        doc_sync_succeeded (self, entry);
    }

  /* (a detached entry was counted out when the table let it go) */
  if (entry->sync != NULL)
    entry->sync->n_running--;
  entry->running = FALSE;
  waiters = g_steal_pointer (&entry->waiters);

  /* those waiting for this run wait for the follow-up that finishes its
   * work (after a change was set aside) */
  if (entry->carry_waiters && entry->sync != NULL && entry->queued)
    {
      entry->next_waiters = g_slist_concat (waiters, entry->next_waiters);
      waiters = NULL;
    }
  entry->carry_waiters = FALSE;
  call_waiters (entry, waiters);

  if (entry->sync != NULL && entry->queued)
    {
      entry->queued = FALSE;
      doc_run_start (entry->sync, entry);
    }
  else
    {
      /* detached: nobody will run the follow-up */
      entry->queued = FALSE;
      waiters = g_steal_pointer (&entry->next_waiters);
      call_waiters (entry, waiters);
    }

  doc_entry_unref (entry);
}

static void
running_started (PatchesSync *self)
{
  self->n_running++;
  self->peak_running = MAX (self->peak_running, self->n_running);
}

static void
doc_run_start (PatchesSync *self,
               DocEntry    *entry)
{
  g_assert (!entry->running);

  entry->running = TRUE;
  running_started (self);
  entry->waiters = g_steal_pointer (&entry->next_waiters);
  doc_run_async (self, entry, doc_run_done_cb, doc_entry_ref (entry));
}

/* syncDoc: one run at a time per document; a request during a run
 * becomes (or joins) the one follow-up run.  @func is called when the
 * run that serves the request has finished. */
static void
request_sync (PatchesSync   *self,
              DocEntry      *entry,
              DocWaiterFunc  func,
              gpointer       data)
{
  /* dropped meanwhile (a signal handler untracked it) */
  if (entry->sync == NULL)
    {
      if (func != NULL)
        func (entry, data);
      return;
    }

  /* a document waiting in syncAllKnownDocs' line is wanted now (a local
   * edit, a gap, a retry): it leaves the line and runs at once */
  if (entry->in_sync_queue)
    sync_all_unqueue (self, entry);

  if (func != NULL)
    {
      DocWaiter *waiter = g_new0 (DocWaiter, 1);

      waiter->func = func;
      waiter->data = data;
      entry->next_waiters = g_slist_append (entry->next_waiters, waiter);
    }

  if (entry->running)
    {
      entry->queued = TRUE;
      return;
    }

  doc_run_start (self, entry);
}

/* Remote deletion (§8.10): a `docDeleted` notification or a 410 */
static void
remote_deleted (PatchesSync *self,
                const char  *doc_id)
{
  g_autoptr(GPtrArray) pending = NULL;
  g_autofree char *id = g_strdup (doc_id);
  g_autoptr(GError) error = NULL;
  gboolean known;

  /* Forget it first, so that the client untracking it sends no
   * unsubscribe (the reference does not) */
  g_hash_table_remove (self->subscribed, id);
  known = g_hash_table_remove (self->docs, id);

  if (!known && !patches_client_is_tracked (self->client, id))
    {
      g_debug ("Ignoring the deletion of %s, which is not tracked", id);
      return;
    }

  g_debug ("Document %s was deleted on the server", id);

  if (!(pending = patches_client_take_remote_deleted (self->client, id, &error)))
    {
      report_error (self, error, id);
      pending = patches_changes_new ();
    }

  if (known)
    g_signal_emit (self, signals[DOC_STATE_CHANGED], 0, id);

  g_signal_emit (self, signals[REMOTE_DOC_DELETED], 0, id, pending);
}

/* deleteDoc for a local tombstone, then purge it (§8.10 local deletion,
 * §8.3 step 5) */
typedef struct
{
  SyncHandle *handle;
  char       *doc_id;
  DocWaiterFunc func;
  gpointer    data;
} DeleteData;

static void
delete_data_free (DeleteData *data)
{
  g_clear_pointer (&data->handle, sync_handle_unref);
  g_free (data->doc_id);
  g_free (data);
}

static void
delete_doc_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  DeleteData *data = user_data;
  g_autoptr(PatchesSync) self = sync_handle_dup (data->handle);
  g_autoptr(GError) error = NULL;

  if (!patches_connection_delete_doc_finish (PATCHES_CONNECTION (object), result, &error))
    {
      if (self != NULL && !is_network_error (error) && !is_cancelled_error (error))
        report_error (self, error, data->doc_id);
    }
  else if (self != NULL)
    {
      g_debug ("Deleted %s on the server", data->doc_id);
      if (!patches_client_purge_tombstone (self->client, data->doc_id, &error))
        report_error (self, error, data->doc_id);
    }

  if (data->func != NULL)
    data->func (NULL, data->data);

  delete_data_free (data);
}

static void
send_delete_doc (PatchesSync   *self,
                 const char    *doc_id,
                 DocWaiterFunc  func,
                 gpointer       func_data)
{
  DeleteData *data = g_new0 (DeleteData, 1);

  data->handle = sync_handle_ref (self->handle);
  data->doc_id = g_strdup (doc_id);
  data->func = func;
  data->data = func_data;

  patches_connection_delete_doc_async (self->connection, doc_id, self->cancellable,
                                       delete_doc_cb, data);
}

/* syncAllKnownDocs (§8.3), run on every transition to connected.
 *
 * Step 5 does not start every syncDoc at once: with a thousand tracked
 * documents that would be a thousand requests, then a thousand answers
 * applied (and saved) back to back, and the application's main loop
 * would not get a turn for seconds.  At most
 * PATCHES_SYNC_MAX_CONCURRENT_SYNCS of its runs are in progress at a
 * time; the other documents wait in line, in order, and the next one
 * starts when a run finishes, whatever its outcome.  A document that is
 * wanted for another reason while it waits (a local edit, a gap in the
 * notifications, a retry) leaves the line and runs at once; its run
 * counts for this syncAllKnownDocs.  The deleteDoc calls for local
 * tombstones wait in the same line, after the documents, and take a
 * place each while in flight: a thousand notes deleted offline are as
 * many requests and as many purges saved.  A disconnection empties the
 * line. */

struct _SyncAll
{
  SyncHandle *handle;
  guint       session;
  guint       outstanding;   /* documents and deletions not finished */
  GQueue      queue;         /* DocEntry, waiting for their turn */
  GQueue      deletions;     /* doc ids of tombstones, waiting for theirs */
  guint       running;       /* runs and deletions started from the line */
};

static void
sync_all_release (DocEntry *entry,
                  gpointer  user_data)
{
  SyncAll *all = user_data;
  g_autoptr(PatchesSync) self = NULL;

  if (--all->outstanding > 0)
    return;

  g_assert (g_queue_is_empty (&all->queue));
  g_assert (g_queue_is_empty (&all->deletions));

  /* step 6: per-document failures do not change the global status */
  self = sync_handle_dup (all->handle);
  if (self != NULL && self->sync_all == all)
    self->sync_all = NULL;
  if (self != NULL && self->session == all->session && self->connected)
    set_sync_status (self, PATCHES_SYNC_STATUS_SYNCED, NULL);

  sync_handle_unref (all->handle);
  g_free (all);
}

static void sync_all_doc_done (DocEntry *entry,
                               gpointer  user_data);
static void sync_all_delete_done (DocEntry *entry,
                                  gpointer  user_data);

/* Starts documents from the line while there is room */
static void
sync_all_pump (PatchesSync *self,
               SyncAll     *all)
{
  /* keeps @all alive while runs start */
  all->outstanding++;

  while (all->running < PATCHES_SYNC_MAX_CONCURRENT_SYNCS && !g_queue_is_empty (&all->queue))
    {
      DocEntry *entry = g_queue_pop_head (&all->queue);

      entry->in_sync_queue = FALSE;
      if (entry->sync == NULL || self->session != all->session || !can_send (self))
        sync_all_release (entry, all);
      else
        {
          all->running++;
          request_sync (self, entry, sync_all_doc_done, all);
        }
      doc_entry_unref (entry);
    }

  while (all->running < PATCHES_SYNC_MAX_CONCURRENT_SYNCS && !g_queue_is_empty (&all->deletions))
    {
      g_autofree char *doc_id = g_queue_pop_head (&all->deletions);

      if (self->session != all->session || !can_send (self))
        sync_all_release (NULL, all);
      else
        {
          all->running++;
          running_started (self);
          send_delete_doc (self, doc_id, sync_all_delete_done, all);
        }
    }

  sync_all_release (NULL, all);
}

/* A deletion started from the line has been answered (or failed) */
static void
sync_all_delete_done (DocEntry *entry,
                      gpointer  user_data)
{
  SyncAll *all = user_data;
  g_autoptr(PatchesSync) self = sync_handle_dup (all->handle);

  /* It counted as a run while in flight; the rest is a run's end */
  if (self != NULL)
    self->n_running--;
  sync_all_doc_done (NULL, all);
}

/* A run started from the line has finished: the next one's turn */
static void
sync_all_doc_done (DocEntry *entry,
                   gpointer  user_data)
{
  SyncAll *all = user_data;
  g_autoptr(PatchesSync) self = sync_handle_dup (all->handle);

  g_assert (all->running > 0);
  all->running--;

  if (self != NULL)
    sync_all_pump (self, all);

  sync_all_release (entry, all);
}

/* @entry waits in line and is wanted now: it leaves the line, and the
 * run about to serve the request also ends its part of the sync */
static void
sync_all_unqueue (PatchesSync *self,
                  DocEntry    *entry)
{
  SyncAll *all = self->sync_all;
  DocWaiter *waiter;

  entry->in_sync_queue = FALSE;
  if (all == NULL || !g_queue_remove (&all->queue, entry))
    return;

  waiter = g_new0 (DocWaiter, 1);
  waiter->func = sync_all_release;
  waiter->data = all;
  entry->next_waiters = g_slist_append (entry->next_waiters, waiter);
  doc_entry_unref (entry);
}

/* Empties the line: those documents are not synced in this session */
static void
sync_all_clear_queue (PatchesSync *self)
{
  SyncAll *all = g_steal_pointer (&self->sync_all);
  DocEntry *entry;

  if (all == NULL)
    return;

  all->outstanding++;
  while ((entry = g_queue_pop_head (&all->queue)) != NULL)
    {
      entry->in_sync_queue = FALSE;
      sync_all_release (entry, all);
      doc_entry_unref (entry);
    }
  while (all->running < PATCHES_SYNC_MAX_CONCURRENT_SYNCS && !g_queue_is_empty (&all->deletions))
    {
      g_free (g_queue_pop_head (&all->deletions));
      sync_all_release (NULL, all);
    }
  sync_all_release (NULL, all);
}

static void
sync_all_run (PatchesSync *self,
              SyncAll     *all)
{
  g_autoptr(GPtrArray) entries = NULL;
  g_auto(GStrv) tombstones = NULL;

  all->outstanding = 1;

  if (self->session != all->session || !can_send (self))
    {
      sync_all_release (NULL, all);
      return;
    }

  /* step 5, through the line: documents with local changes first */
  sync_all_clear_queue (self);
  self->sync_all = all;
  entries = list_entries (self);
  tombstones = patches_client_list_tombstones (self->client);

  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < entries->len; i++)
      {
        DocEntry *entry = g_ptr_array_index (entries, i);

        if (entry->in_sync_queue || entry->state.has_pending != (pass == 0))
          continue;
        all->outstanding++;
        entry->in_sync_queue = TRUE;
        g_queue_push_tail (&all->queue, doc_entry_ref (entry));
      }

  for (guint i = 0; tombstones != NULL && tombstones[i] != NULL; i++)
    {
      all->outstanding++;
      g_queue_push_tail (&all->deletions, g_strdup (tombstones[i]));
    }

  sync_all_pump (self, all);
  sync_all_release (NULL, all);
}

/* The answer to a subscribe sent in @session: the granted ids are
 * recorded while that session lasts; a failure is reported and otherwise
 * ignored */
static void
record_subscribed (PatchesSync   *self,
                   guint          session,
                   char         **granted,
                   const GError  *error)
{
  if (granted == NULL)
    {
      if (!is_network_error (error) && !is_cancelled_error (error))
        report_error (self, error, NULL);
      return;
    }

  if (self->session != session)
    return;
  for (guint i = 0; granted[i] != NULL; i++)
    g_hash_table_add (self->subscribed, g_strdup (granted[i]));
}

static void
sync_all_subscribed_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  SyncAll *all = user_data;
  g_autoptr(PatchesSync) self = sync_handle_dup (all->handle);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) granted = NULL;

  granted = patches_connection_subscribe_finish (PATCHES_CONNECTION (object), result, &error);

  if (self == NULL)
    {
      sync_handle_unref (all->handle);
      g_free (all);
      return;
    }

  /* step 4: a failure is reported and otherwise ignored */
  record_subscribed (self, all->session, granted, error);

  sync_all_run (self, all);
}

static void
sync_all_start (PatchesSync *self)
{
  g_autoptr(GPtrArray) entries = NULL;
  g_auto(GStrv) tracked = NULL;
  SyncAll *all;

  /* step 1 */
  entries = list_entries (self);
  for (guint i = 0; i < entries->len; i++)
    {
      DocEntry *entry = g_ptr_array_index (entries, i);

      g_clear_handle_id (&entry->retry_source, g_source_remove);
      entry->retry_attempt = 0;
      entry->error_reported = FALSE;
    }
  g_clear_pointer (&entries, g_ptr_array_unref);

  set_sync_status (self, PATCHES_SYNC_STATUS_SYNCING, NULL);

  /* step 3: the tracked documents from storage, their states rebuilt */
  tracked = patches_client_list_tracked (self->client);
  {
    g_autoptr(GHashTable) keep = g_hash_table_new (g_str_hash, g_str_equal);

    for (guint i = 0; tracked != NULL && tracked[i] != NULL; i++)
      g_hash_table_add (keep, tracked[i]);

    entries = list_entries (self);
    for (guint i = 0; i < entries->len; i++)
      {
        DocEntry *entry = g_ptr_array_index (entries, i);

        if (!g_hash_table_contains (keep, entry->doc_id))
          drop_entry (self, entry->doc_id);
      }
  }

  for (guint i = 0; tracked != NULL && tracked[i] != NULL; i++)
    {
      gboolean created;
      DocEntry *entry = ensure_entry (self, tracked[i], &created);

      if (created)
        {
          g_signal_emit (self, signals[DOC_STATE_CHANGED], 0, tracked[i]);
          continue;
        }

      if ((entry = lookup_entry (self, tracked[i])) != NULL)
        {
          gint64 rev = patches_client_get_committed_rev (self->client, tracked[i]);

          doc_entry_update (self, entry, TRUE,
                            rev > 0 ? PATCHES_SYNC_STATUS_SYNCED : PATCHES_SYNC_STATUS_UNSYNCED,
                            NULL);
        }
    }

  all = g_new0 (SyncAll, 1);
  all->handle = sync_handle_ref (self->handle);
  all->session = self->session;

  /* step 4: one subscribe with every tracked document */
  if (tracked != NULL && tracked[0] != NULL && can_send (self))
    {
      patches_connection_subscribe_async (self->connection, (const char * const *) tracked,
                                          self->cancellable, sync_all_subscribed_cb, all);
      return;
    }

  sync_all_run (self, all);
}

/* Tracking (§8.11) */

typedef struct
{
  SyncHandle  *handle;
  guint        session;
  GStrv        doc_ids;
} TrackData;

static void
track_subscribed_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  TrackData *data = user_data;
  g_autoptr(PatchesSync) self = sync_handle_dup (data->handle);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) granted = NULL;

  granted = patches_connection_subscribe_finish (PATCHES_CONNECTION (object), result, &error);

  if (self != NULL)
    {
      record_subscribed (self, data->session, granted, error);

      /* the sync runs whatever subscribe said */
      for (guint i = 0; data->doc_ids[i] != NULL; i++)
        {
          DocEntry *entry = lookup_entry (self, data->doc_ids[i]);

          if (entry != NULL && can_send (self))
            request_sync (self, entry, NULL, NULL);
        }
    }

  sync_handle_unref (data->handle);
  g_strfreev (data->doc_ids);
  g_free (data);
}

static void
on_docs_tracked (PatchesClient  *client,
                 char          **doc_ids,
                 PatchesSync    *self)
{
  g_autoptr(GPtrArray) subscribe = g_ptr_array_new ();
  TrackData *data;

  for (guint i = 0; doc_ids != NULL && doc_ids[i] != NULL; i++)
    {
      gboolean created;

      ensure_entry (self, doc_ids[i], &created);
      if (created)
        g_signal_emit (self, signals[DOC_STATE_CHANGED], 0, doc_ids[i]);
      if (!g_hash_table_contains (self->subscribed, doc_ids[i]))
        g_ptr_array_add (subscribe, doc_ids[i]);
    }

  if (!can_send (self) || doc_ids == NULL || doc_ids[0] == NULL)
    return;

  data = g_new0 (TrackData, 1);
  data->handle = sync_handle_ref (self->handle);
  data->session = self->session;
  data->doc_ids = g_strdupv (doc_ids);

  if (subscribe->len == 0)
    {
      for (guint i = 0; doc_ids[i] != NULL; i++)
        {
          DocEntry *entry = lookup_entry (self, doc_ids[i]);

          if (entry != NULL)
            request_sync (self, entry, NULL, NULL);
        }
      sync_handle_unref (data->handle);
      g_strfreev (data->doc_ids);
      g_free (data);
      return;
    }

  g_ptr_array_add (subscribe, NULL);
  patches_connection_subscribe_async (self->connection, (const char * const *) subscribe->pdata,
                                      self->cancellable, track_subscribed_cb, data);
}

static void
unsubscribe_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_auto(GStrv) removed = NULL;
  g_autoptr(GError) error = NULL;

  removed = patches_connection_unsubscribe_finish (PATCHES_CONNECTION (object), result, &error);
  if (removed == NULL)
    g_debug ("unsubscribe failed: %s", error->message);
}

static void
on_docs_untracked (PatchesClient  *client,
                   char          **doc_ids,
                   PatchesSync    *self)
{
  g_autoptr(GPtrArray) unsubscribe = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; doc_ids != NULL && doc_ids[i] != NULL; i++)
    {
      if (g_hash_table_remove (self->subscribed, doc_ids[i]))
        g_ptr_array_add (unsubscribe, g_strdup (doc_ids[i]));
      drop_entry (self, doc_ids[i]);
    }

  if (unsubscribe->len == 0 || !can_send (self))
    return;

  g_ptr_array_add (unsubscribe, NULL);
  patches_connection_unsubscribe_async (self->connection, (const char * const *) unsubscribe->pdata,
                                        self->cancellable, unsubscribe_cb, NULL);
}

/* Local changes: flush after batch-delay ms */

static gboolean
flush_timeout_cb (gpointer user_data)
{
  DocEntry *entry = user_data;
  g_autoptr(PatchesSync) self = doc_entry_dup_sync (entry);

  entry->flush_source = 0;

  if (self != NULL && can_send (self))
    request_sync (self, entry, NULL, NULL);

  return G_SOURCE_REMOVE;
}

static void
on_pending_changed (PatchesClient *client,
                    const char    *doc_id,
                    PatchesSync   *self)
{
  DocEntry *entry = lookup_entry (self, doc_id);
  gboolean created = FALSE;

  if (entry == NULL)
    {
      if (!patches_client_is_tracked (client, doc_id))
        return;
      entry = ensure_entry (self, doc_id, &created);
    }

  /* §8.11: hasPending := true */
  if (!entry->state.has_pending || !entry->state.loaded || created)
    {
      entry->state.has_pending = TRUE;
      entry->state.loaded = TRUE;
      g_signal_emit (self, signals[DOC_STATE_CHANGED], 0, doc_id);
      if ((entry = lookup_entry (self, doc_id)) == NULL)
        return;
    }

  /* The window starts at the first edit and is not pushed back by later
   * ones, so that continuous typing still goes out every batch-delay ms.
   * Even without a delay the flush waits for the main loop, out of the
   * client's change emission. */
  if (entry->flush_source == 0)
    entry->flush_source = g_timeout_add_full (G_PRIORITY_DEFAULT, self->batch_delay,
                                              flush_timeout_cb, doc_entry_ref (entry),
                                              (GDestroyNotify) doc_entry_unref);
}

static void
on_doc_deleted (PatchesClient *client,
                const char    *doc_id,
                PatchesSync   *self)
{
  g_autofree char *id = g_strdup (doc_id);

  /* The client untracked it already; in case it did not say so */
  if (lookup_entry (self, id) != NULL)
    {
      char *ids[] = { id, NULL };

      on_docs_untracked (client, ids, self);
    }

  /* Otherwise the tombstone waits for the next connect (§8.3 step 5) */
  if (can_send (self))
    send_delete_doc (self, id, NULL, NULL);
}

static void
on_doc_opened (PatchesClient *client,
               PatchesDoc    *doc,
               PatchesSync   *self)
{
  DocEntry *entry = lookup_entry (self, patches_doc_get_id (doc));

  if (entry != NULL)
    patches_client_set_doc_sync_status (client, entry->doc_id, entry->state.status, entry->state.error);
}

/* Notifications (§8.7) */

static void
on_changes_committed (PatchesConnection *connection,
                      const char        *doc_id,
                      GPtrArray         *changes,
                      PatchesValue      *options,
                      PatchesSync       *self)
{
  DocEntry *entry = lookup_entry (self, doc_id);
  g_autoptr(GError) error = NULL;

  /* The reference applies them even for untracked documents; we do not */
  if (entry == NULL || changes == NULL || changes->len == 0)
    return;

  if (entry->reloading > 0)
    {
      for (guint i = 0; i < changes->len; i++)
        g_ptr_array_add (entry->buffer, patches_change_ref (g_ptr_array_index (changes, i)));
      return;
    }

  if (doc_apply (self, entry, changes, &error))
    return;

  if (g_error_matches (error, PATCHES_ERROR, PATCHES_ERROR_MISSING_CHANGES) ||
      g_error_matches (error, PATCHES_ERROR, PATCHES_ERROR_APPLY_CHANGES))
    {
      /* a gap: the sync's flush or pull brings the missing changes; an
       * apply error: the sync meets it again and reloads */
      g_debug ("%s: %s", doc_id, error->message);
      if ((entry = lookup_entry (self, doc_id)) != NULL && can_send (self))
        request_sync (self, entry, NULL, NULL);
      return;
    }

  report_error (self, error, doc_id);
}

static void
on_doc_deleted_remotely (PatchesConnection *connection,
                         const char        *doc_id,
                         PatchesSync       *self)
{
  remote_deleted (self, doc_id);
}

/* The connection (§2.5, §2.6) */

static void
complete_connect_tasks (PatchesSync  *self,
                        const GError *error)
{
  g_autoptr(GPtrArray) tasks = g_steal_pointer (&self->connect_tasks);

  self->connect_tasks = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < tasks->len; i++)
    {
      GTask *task = g_ptr_array_index (tasks, i);
      GCancellable *cancellable = g_task_get_cancellable (task);
      gulong handler = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (task), "cancel-handler"));

      if (cancellable != NULL && handler != 0)
        g_cancellable_disconnect (cancellable, handler);

      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_boolean (task, TRUE);
    }
}

/* Per-doc syncs that were running when the socket went are not running
 * any more: back to their stable status (§8.12) */
static void
reset_doc_states (PatchesSync *self)
{
  g_autoptr(GPtrArray) entries = list_entries (self);

  for (guint i = 0; i < entries->len; i++)
    {
      DocEntry *entry = g_ptr_array_index (entries, i);

      g_clear_handle_id (&entry->retry_source, g_source_remove);
      if (entry->state.status == PATCHES_SYNC_STATUS_SYNCING)
        doc_entry_set_status (self, entry, doc_entry_stable_status (entry), NULL);
    }
}

/* The socket is gone (closed, failed, or closed by us) */
static void
handle_disconnected (PatchesSync *self)
{
  g_hash_table_remove_all (self->subscribed);
  set_global_state (self, self->online, FALSE, PATCHES_SYNC_STATUS_UNSYNCED, NULL);
  sync_all_clear_queue (self);
  reset_doc_states (self);

  if (self->intent && self->online)
    schedule_reconnect (self);
}

static gboolean
reconnect_timeout_cb (gpointer user_data)
{
  PatchesSync *self = user_data;

  self->reconnect_source = 0;
  set_next_retry_time (self, 0);

  if (self->intent && self->online && !self->connected)
    dial (self);

  return G_SOURCE_REMOVE;
}

static void
cancel_reconnect (PatchesSync *self)
{
  g_clear_handle_id (&self->reconnect_source, g_source_remove);
  set_next_retry_time (self, 0);
}

static void
schedule_reconnect (PatchesSync *self)
{
  guint delay;

  /* one timer at a time: an error followed by a close schedules once */
  if (self->reconnect_source != 0 || self->dialing || self->connected)
    return;

  if (self->max_reconnect_attempts > 0 &&
      self->reconnect_attempts >= self->max_reconnect_attempts)
    {
      g_autoptr(GError) error = NULL;

      error = g_error_new (G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE,
                           "Gave up reconnecting to %s after %u attempts%s%s",
                           self->url, self->reconnect_attempts,
                           self->last_dial_error ? ": " : "",
                           self->last_dial_error ? self->last_dial_error->message : "");
      set_sync_status (self, PATCHES_SYNC_STATUS_ERROR, error);
      report_error (self, error, NULL);
      return;
    }

  delay = (guint) self->backoff;
  self->backoff = MIN (self->backoff * 1.5, MAX ((double) MAX_RECONNECT_DELAY,
                                                 (double) self->reconnect_interval));
  self->reconnect_attempts++;

  g_debug ("Reconnecting to %s in %u ms", self->url, delay);
  self->reconnect_source = g_timeout_add (delay, reconnect_timeout_cb, self);
  set_next_retry_time (self, g_get_monotonic_time () + (gint64) delay * 1000);
}

static void
open_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  SyncHandle *handle = user_data;
  PatchesConnection *connection = PATCHES_CONNECTION (object);
  g_autoptr(PatchesSync) self = sync_handle_dup (handle);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = patches_connection_open_finish (connection, result, &error);
  sync_handle_unref (handle);

  if (self == NULL || connection != self->connection)
    return;

  self->dialing = FALSE;
  g_clear_object (&self->dial_cancellable);

  if (!ok && is_cancelled_error (error))
    return;

  if (ok && patches_connection_get_state (connection) == PATCHES_CONNECTION_STATE_CONNECTED)
    {
      g_debug ("Socket to %s open", self->url);
      g_clear_error (&self->last_dial_error);
      self->backoff = self->reconnect_interval;
      self->reconnect_attempts = 0;
      self->session++;
      g_hash_table_remove_all (self->subscribed);
      set_global_state (self, self->online, TRUE, self->sync_status, self->sync_error);
      complete_connect_tasks (self, NULL);
      if (self->connected)
        sync_all_start (self);
      return;
    }

  if (ok)
    error = g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                         "The connection to %s closed at once", self->url);

  g_debug ("Could not connect to %s: %s", self->url, error->message);
  g_clear_error (&self->last_dial_error);
  self->last_dial_error = g_error_copy (error);

  if (self->connect_tasks->len > 0 || is_refusal_error (connection, error))
    {
      /* §8.12: connect()'s first dial failed; a refused handshake is
       * kept visible across the background retries too */
      gboolean report = !errors_equal (self->sync_error, error);

      set_global_state (self, self->online, FALSE, PATCHES_SYNC_STATUS_ERROR, error);
      if (report)
        report_error (self, error, NULL);
      complete_connect_tasks (self, error);
    }
  else
    set_global_state (self, self->online, FALSE, PATCHES_SYNC_STATUS_UNSYNCED, NULL);

  if (self->intent && self->online)
    schedule_reconnect (self);
}

static void
apply_headers (PatchesSync *self)
{
  g_autofree char *client_id = patches_client_dup_client_id (self->client);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < self->headers->len; i++)
    {
      const char *header = g_ptr_array_index (self->headers, i);
      const char *colon = strchr (header, ':');
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (colon == NULL)
        continue;
      name = g_strstrip (g_strndup (header, colon - header));
      value = g_strstrip (g_strdup (colon + 1));
      patches_connection_set_header (self->connection, name, value);
      g_ptr_array_add (names, g_steal_pointer (&name));
    }

  /* headers that were removed since the last dial */
  for (guint i = 0; i < self->applied_headers->len; i++)
    {
      const char *name = g_ptr_array_index (self->applied_headers, i);
      gboolean still = FALSE;

      for (guint j = 0; j < names->len && !still; j++)
        still = g_ascii_strcasecmp (name, g_ptr_array_index (names, j)) == 0;
      if (!still)
        patches_connection_set_header (self->connection, name, NULL);
    }

  if (client_id != NULL)
    patches_connection_set_header (self->connection, CLIENT_ID_HEADER, client_id);

  g_ptr_array_unref (self->applied_headers);
  self->applied_headers = g_steal_pointer (&names);
}

static void
dial (PatchesSync *self)
{
  if (self->dialing || self->connected || self->connection == NULL)
    return;

  cancel_reconnect (self);
  apply_headers (self);
  patches_connection_set_ping_interval (self->connection, self->ping_interval);
  patches_connection_set_request_timeout (self->connection, self->request_timeout);

  self->dialing = TRUE;
  self->dial_cancellable = g_cancellable_new ();
  g_debug ("Dialling %s", self->url);
  patches_connection_open_async (self->connection, self->dial_cancellable, open_cb,
                                 sync_handle_ref (self->handle));
}

static void
on_connection_state (PatchesConnection *connection,
                     GParamSpec        *pspec,
                     PatchesSync       *self)
{
  PatchesConnectionState state = patches_connection_get_state (connection);

  if (connection != self->connection)
    return;

  if (self->connection_state != state)
    {
      self->connection_state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTION_STATE]);
    }

  if (self->connected && state != PATCHES_CONNECTION_STATE_CONNECTED)
    {
      g_debug ("Disconnected from %s", self->url);
      handle_disconnected (self);
    }
}

/* Closes the socket (or the dial) without clearing the intent */
static void
close_connection (PatchesSync *self)
{
  cancel_reconnect (self);

  if (self->dial_cancellable != NULL)
    g_cancellable_cancel (self->dial_cancellable);
  g_clear_object (&self->dial_cancellable);
  self->dialing = FALSE;

  if (self->connection != NULL)
    patches_connection_close (self->connection);

  if (self->connected)
    handle_disconnected (self);
}

static void
set_online (PatchesSync *self,
            gboolean     online)
{
  if (self->online == online)
    return;

  g_debug ("Now %s", online ? "online" : "offline");

  if (!online)
    {
      /* the open socket is closed, no reconnect while offline */
      set_global_state (self, FALSE, self->connected, self->sync_status, self->sync_error);
      close_connection (self);
      return;
    }

  set_global_state (self, TRUE, self->connected, self->sync_status, self->sync_error);
  if (self->intent && !self->connected && !self->dialing)
    dial (self);
}

static gboolean
compute_online (PatchesSync *self)
{
  if (self->forced_online >= 0)
    return self->forced_online;
  if (self->loopback)
    return TRUE;
  if (self->monitor != NULL)
    return g_network_monitor_get_network_available (self->monitor);
  return TRUE;
}

static void
on_network_changed (GNetworkMonitor *monitor,
                    gboolean         available,
                    PatchesSync     *self)
{
  set_online (self, compute_online (self));
}

/* Whether @url names this machine: such a server is reachable whatever
 * the network monitor says */
static gboolean
url_is_loopback (const char *url)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GInetAddress) address = NULL;
  const char *host;

  if (url == NULL || !(uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL)))
    return FALSE;

  host = g_uri_get_host (uri);
  if (host == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;

  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

static void
connection_detach (PatchesSync *self)
{
  if (self->connection == NULL)
    return;

  if (self->dial_cancellable != NULL)
    g_cancellable_cancel (self->dial_cancellable);
  g_clear_object (&self->dial_cancellable);
  self->dialing = FALSE;

  g_signal_handlers_disconnect_by_data (self->connection, self);
  patches_connection_close (self->connection);
  g_clear_object (&self->connection);
}

static void
connection_attach (PatchesSync *self)
{
  self->connection = patches_connection_new (self->url);
  g_ptr_array_set_size (self->applied_headers, 0);
  patches_connection_set_ping_interval (self->connection, self->ping_interval);
  patches_connection_set_request_timeout (self->connection, self->request_timeout);

  g_signal_connect (self->connection, "notify::state",
                    G_CALLBACK (on_connection_state), self);
  g_signal_connect (self->connection, "changes-committed",
                    G_CALLBACK (on_changes_committed), self);
  g_signal_connect (self->connection, "doc-deleted",
                    G_CALLBACK (on_doc_deleted_remotely), self);

  if (self->connection_state != patches_connection_get_state (self->connection))
    {
      self->connection_state = patches_connection_get_state (self->connection);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTION_STATE]);
    }
}

/* For tests: pretends the host went online or offline */
void
_patches_sync_set_online (PatchesSync *self,
                          gboolean     online)
{
  g_return_if_fail (PATCHES_IS_SYNC (self));

  self->forced_online = online ? 1 : 0;
  set_online (self, online);
}

/* For tests: the most syncDoc runs and initial-sync deletions that were
 * in progress at one time (since construction or the last @reset) */
guint
_patches_sync_get_peak_running (PatchesSync *self,
                                gboolean     reset)
{
  guint peak;

  g_return_val_if_fail (PATCHES_IS_SYNC (self), 0);

  peak = self->peak_running;
  if (reset)
    self->peak_running = self->n_running;

  return peak;
}

static gboolean
connect_cancelled_idle (gpointer user_data)
{
  GTask *task = user_data;
  PatchesSync *self = g_task_get_source_object (task);
  guint index;

  if (g_ptr_array_find (self->connect_tasks, task, &index))
    {
      GCancellable *cancellable = g_task_get_cancellable (task);
      gulong handler = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (task), "cancel-handler"));

      if (handler != 0)
        g_cancellable_disconnect (cancellable, handler);
      g_task_return_error_if_cancelled (task);
      g_ptr_array_remove_index (self->connect_tasks, index);
    }

  return G_SOURCE_REMOVE;
}

/* Completes a cancelled patches_sync_connect_async() from an idle: not
 * from inside the cancellable's emission, where g_cancellable_disconnect()
 * would deadlock */
static void
connect_cancelled_cb (GCancellable *cancellable,
                      gpointer      user_data)
{
  g_idle_add_full (G_PRIORITY_DEFAULT, connect_cancelled_idle,
                   g_object_ref (user_data), g_object_unref);
}

/* Headers */

static int
find_header (PatchesSync *self,
             const char  *name)
{
  gsize len = strlen (name);

  for (guint i = 0; i < self->headers->len; i++)
    {
      const char *header = g_ptr_array_index (self->headers, i);

      if (g_ascii_strncasecmp (header, name, len) == 0 && header[len] == ':')
        return (int) i;
    }

  return -1;
}

static void
set_headers (PatchesSync        *self,
             const char * const *headers)
{
  g_ptr_array_set_size (self->headers, 0);

  for (guint i = 0; headers != NULL && headers[i] != NULL; i++)
    {
      if (strchr (headers[i], ':') == NULL)
        {
          g_warning ("Ignoring header “%s”: not of the form “Name: value”", headers[i]);
          continue;
        }
      g_ptr_array_add (self->headers, g_strdup (headers[i]));
    }
}

/* GObject */

static void
patches_sync_constructed (GObject *object)
{
  PatchesSync *self = PATCHES_SYNC (object);
  const char *forced = g_getenv ("PATCHES_SYNC_FORCE_ONLINE");
  g_auto(GStrv) tracked = NULL;

  G_OBJECT_CLASS (patches_sync_parent_class)->constructed (object);

  g_return_if_fail (PATCHES_IS_CLIENT (self->client));

  if (forced != NULL && forced[0] != '\0')
    self->forced_online = g_strcmp0 (forced, "0") != 0 ? 1 : 0;
  self->loopback = url_is_loopback (self->url);

  if (self->forced_online < 0)
    {
      self->monitor = g_object_ref (g_network_monitor_get_default ());
      g_signal_connect (self->monitor, "network-changed",
                        G_CALLBACK (on_network_changed), self);
    }
  self->online = compute_online (self);

  if (self->url != NULL)
    connection_attach (self);

  g_signal_connect (self->client, "pending-changed", G_CALLBACK (on_pending_changed), self);
  g_signal_connect (self->client, "docs-tracked", G_CALLBACK (on_docs_tracked), self);
  g_signal_connect (self->client, "docs-untracked", G_CALLBACK (on_docs_untracked), self);
  g_signal_connect (self->client, "doc-deleted", G_CALLBACK (on_doc_deleted), self);
  g_signal_connect (self->client, "doc-opened", G_CALLBACK (on_doc_opened), self);

  tracked = patches_client_list_tracked (self->client);
  for (guint i = 0; tracked != NULL && tracked[i] != NULL; i++)
    ensure_entry (self, tracked[i], NULL);

  self->constructed = TRUE;
}

static void
patches_sync_dispose (GObject *object)
{
  PatchesSync *self = PATCHES_SYNC (object);

  if (self->handle != NULL)
    {
      self->handle->sync = NULL;
      g_clear_pointer (&self->handle, sync_handle_unref);
    }

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->reconnect_source, g_source_remove);
  self->intent = FALSE;
  sync_all_clear_queue (self);

  if (self->docs != NULL)
    g_hash_table_remove_all (self->docs);

  connection_detach (self);

  if (self->client != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->client, self);
      g_clear_object (&self->client);
    }

  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_clear_object (&self->monitor);
    }

  G_OBJECT_CLASS (patches_sync_parent_class)->dispose (object);
}

static void
patches_sync_finalize (GObject *object)
{
  PatchesSync *self = PATCHES_SYNC (object);

  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->headers, g_ptr_array_unref);
  g_clear_pointer (&self->applied_headers, g_ptr_array_unref);
  g_clear_pointer (&self->connect_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->docs, g_hash_table_unref);
  g_clear_pointer (&self->subscribed, g_hash_table_unref);
  g_clear_error (&self->sync_error);
  g_clear_error (&self->last_dial_error);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (patches_sync_parent_class)->finalize (object);
}

static void
patches_sync_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  PatchesSync *self = PATCHES_SYNC (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;

    case PROP_URL:
      g_value_set_string (value, self->url);
      break;

    case PROP_HEADERS:
      {
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

        for (guint i = 0; i < self->headers->len; i++)
          g_strv_builder_add (builder, g_ptr_array_index (self->headers, i));
        g_value_take_boxed (value, g_strv_builder_end (builder));
      }
      break;

    case PROP_RECONNECT_INTERVAL:
      g_value_set_uint (value, self->reconnect_interval);
      break;

    case PROP_MAX_RECONNECT_ATTEMPTS:
      g_value_set_uint (value, self->max_reconnect_attempts);
      break;

    case PROP_PING_INTERVAL:
      g_value_set_uint (value, self->ping_interval);
      break;

    case PROP_REQUEST_TIMEOUT:
      g_value_set_uint (value, self->request_timeout);
      break;

    case PROP_MAX_BATCH_SIZE:
      g_value_set_uint (value, self->max_batch_size);
      break;

    case PROP_BATCH_DELAY:
      g_value_set_uint (value, self->batch_delay);
      break;

    case PROP_ONLINE:
      g_value_set_boolean (value, self->online);
      break;

    case PROP_CONNECTED:
      g_value_set_boolean (value, self->connected);
      break;

    case PROP_CONNECTION_STATE:
      g_value_set_enum (value, self->connection_state);
      break;

    case PROP_SYNC_STATUS:
      g_value_set_enum (value, self->sync_status);
      break;

    case PROP_SYNC_ERROR:
      g_value_set_boxed (value, self->sync_error);
      break;

    case PROP_NEXT_RETRY_TIME:
      g_value_set_int64 (value, self->next_retry_time);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_sync_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  PatchesSync *self = PATCHES_SYNC (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;

    case PROP_URL:
      patches_sync_set_url (self, g_value_get_string (value));
      break;

    case PROP_HEADERS:
      set_headers (self, g_value_get_boxed (value));
      break;

    case PROP_RECONNECT_INTERVAL:
      if (self->reconnect_interval != g_value_get_uint (value))
        {
          self->reconnect_interval = g_value_get_uint (value);
          if (!self->connected && self->reconnect_attempts == 0)
            self->backoff = self->reconnect_interval;
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    case PROP_MAX_RECONNECT_ATTEMPTS:
      if (self->max_reconnect_attempts != g_value_get_uint (value))
        {
          self->max_reconnect_attempts = g_value_get_uint (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    case PROP_PING_INTERVAL:
      if (self->ping_interval != g_value_get_uint (value))
        {
          self->ping_interval = g_value_get_uint (value);
          if (self->connection != NULL)
            patches_connection_set_ping_interval (self->connection, self->ping_interval);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    case PROP_REQUEST_TIMEOUT:
      if (self->request_timeout != g_value_get_uint (value))
        {
          self->request_timeout = g_value_get_uint (value);
          if (self->connection != NULL)
            patches_connection_set_request_timeout (self->connection, self->request_timeout);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    case PROP_MAX_BATCH_SIZE:
      if (self->max_batch_size != g_value_get_uint (value))
        {
          self->max_batch_size = g_value_get_uint (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    case PROP_BATCH_DELAY:
      if (self->batch_delay != g_value_get_uint (value))
        {
          self->batch_delay = g_value_get_uint (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_sync_class_init (PatchesSyncClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = patches_sync_constructed;
  object_class->dispose = patches_sync_dispose;
  object_class->finalize = patches_sync_finalize;
  object_class->get_property = patches_sync_get_property;
  object_class->set_property = patches_sync_set_property;

  /**
   * PatchesSync:client:
   *
   * The client whose tracked documents are synced.
   */
  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL,
                         PATCHES_TYPE_CLIENT,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesSync:url:
   *
   * The server's WebSocket URL (`ws://` or `wss://`).  Changing it drops
   * the current connection and, when connecting is wanted, dials the new
   * URL at once.
   */
  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * PatchesSync:headers:
   *
   * Extra HTTP headers of the WebSocket handshake, each a
   * `"Name: value"` string (for example `"Authorization: Bearer …"`).
   * They take effect at the next dial.  The `X-Patches-Client-Id` header
   * is always added.  See also patches_sync_set_header().
   */
  properties[PROP_HEADERS] =
    g_param_spec_boxed ("headers", NULL, NULL,
                        G_TYPE_STRV,
                        (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesSync:reconnect-interval:
   *
   * Milliseconds before the first reconnect attempt after a drop; each
   * further attempt waits 1.5 times longer, at most 30 s, and a socket
   * that opens resets the delay (PROTOCOL.md §2.6).
   */
  properties[PROP_RECONNECT_INTERVAL] =
    g_param_spec_uint ("reconnect-interval", NULL, NULL,
                       1, G_MAXINT, DEFAULT_RECONNECT_INTERVAL,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * PatchesSync:max-reconnect-attempts:
   *
   * How many reconnect attempts in a row are made before giving up
   * (status %PATCHES_SYNC_STATUS_ERROR); 0 retries forever, as the
   * reference does.  patches_sync_retry_now() or a new connect starts
   * over.
   */
  properties[PROP_MAX_RECONNECT_ATTEMPTS] =
    g_param_spec_uint ("max-reconnect-attempts", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * PatchesSync:ping-interval:
   *
   * Seconds between WebSocket pings; a connection whose pings go
   * unanswered is closed and re-dialled.  0 sends no pings.
   */
  properties[PROP_PING_INTERVAL] =
    g_param_spec_uint ("ping-interval", NULL, NULL,
                       0, G_MAXINT, DEFAULT_PING_INTERVAL,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * PatchesSync:request-timeout:
   *
   * Seconds a call to the server may go unanswered (see
   * #PatchesConnection:request-timeout).  A document whose call times out
   * goes back to its stable status and is retried like after a network
   * error, instead of staying stuck while the socket lives on
   * (PROTOCOL.md §12 hazard 6).  0 waits forever.
   */
  properties[PROP_REQUEST_TIMEOUT] =
    g_param_spec_uint ("request-timeout", NULL, NULL,
                       0, G_MAXUINT / 1000, DEFAULT_REQUEST_TIMEOUT,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * PatchesSync:max-batch-size:
   *
   * The byte budget of one `commitChanges` changes array (the
   * reference's `maxPayloadBytes`): a larger upload is split into
   * batches carrying a `batchId` (OPERATIONS.md §12).  0 means the
   * default, 1000000.
   */
  properties[PROP_MAX_BATCH_SIZE] =
    g_param_spec_uint ("max-batch-size", NULL, NULL,
                       0, G_MAXUINT, PATCHES_DEFAULT_MAX_PAYLOAD_BYTES,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * PatchesSync:batch-delay:
   *
   * Milliseconds to wait after a local change before sending, so that
   * edits made meanwhile go out in the same commit.  The window starts at
   * the first edit and later edits do not push it back.  Still only one
   * commit per document is in flight.
   */
  properties[PROP_BATCH_DELAY] =
    g_param_spec_uint ("batch-delay", NULL, NULL,
                       0, G_MAXINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * PatchesSync:online:
   *
   * Whether the host is online, as #GNetworkMonitor says (a server on a
   * loopback address is always reachable).
   */
  properties[PROP_ONLINE] =
    g_param_spec_boolean ("online", NULL, NULL,
                          TRUE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesSync:connected:
   *
   * Whether a socket to the server is open.
   */
  properties[PROP_CONNECTED] =
    g_param_spec_boolean ("connected", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesSync:connection-state:
   *
   * The transport state of the connection (PROTOCOL.md §2.5).
   */
  properties[PROP_CONNECTION_STATE] =
    g_param_spec_enum ("connection-state", NULL, NULL,
                       PATCHES_TYPE_CONNECTION_STATE,
                       PATCHES_CONNECTION_STATE_DISCONNECTED,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesSync:sync-status:
   *
   * The global sync status (PROTOCOL.md §8.12): unsynced until a
   * connection's initial sync, syncing during it, synced after it, error
   * when connecting failed; unsynced again when the socket drops.
   */
  properties[PROP_SYNC_STATUS] =
    g_param_spec_enum ("sync-status", NULL, NULL,
                       PATCHES_TYPE_SYNC_STATUS,
                       PATCHES_SYNC_STATUS_UNSYNCED,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesSync:sync-error:
   *
   * The error while #PatchesSync:sync-status is
   * %PATCHES_SYNC_STATUS_ERROR, else %NULL.
   */
  properties[PROP_SYNC_ERROR] =
    g_param_spec_boxed ("sync-error", NULL, NULL,
                        G_TYPE_ERROR,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesSync:next-retry-time:
   *
   * The monotonic time (g_get_monotonic_time(), µs) of the next
   * reconnect attempt, or 0 when none is scheduled.
   */
  properties[PROP_NEXT_RETRY_TIME] =
    g_param_spec_int64 ("next-retry-time", NULL, NULL,
                        0, G_MAXINT64, 0,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PatchesSync::state-changed:
   * @self: a #PatchesSync
   *
   * Emitted after #PatchesSync:online, #PatchesSync:connected,
   * #PatchesSync:sync-status or #PatchesSync:sync-error changed (once
   * for changes made together).
   */
  signals[STATE_CHANGED] =
    g_signal_new ("state-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 0);

  /**
   * PatchesSync::error:
   * @self: a #PatchesSync
   * @error: the error
   * @doc_id: (nullable): the document it concerns, if any
   *
   * Reports a failure the application may want to show: a failed
   * connect, a refused subscribe, a document that failed to sync (once
   * per document and connection), a committed change that does not
   * apply (and, once, that it still did not after a reload), a pending
   * change set aside in the quarantine (the server's error, its message
   * prefixed with `Change <id> was set aside`).  Connection trouble
   * during a sync is not reported here.
   */
  signals[ERROR] =
    g_signal_new ("error",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 2, G_TYPE_ERROR, G_TYPE_STRING);

  /**
   * PatchesSync::doc-state-changed:
   * @self: a #PatchesSync
   * @doc_id: the document
   *
   * Emitted when patches_sync_get_doc_state() for @doc_id changed, or
   * when the document is no longer tracked (it then returns %NULL).
   */
  signals[DOC_STATE_CHANGED] =
    g_signal_new ("doc-state-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * PatchesSync::remote-doc-deleted:
   * @self: a #PatchesSync
   * @doc_id: the document
   * @pending: (element-type PatchesChange): the changes that were not
   *   sent yet, now gone from the store
   *
   * Emitted after a document was deleted on the server and purged here
   * (PROTOCOL.md §8.10).
   */
  signals[REMOTE_DOC_DELETED] =
    g_signal_new ("remote-doc-deleted",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_PTR_ARRAY);
}

static void
patches_sync_init (PatchesSync *self)
{
  self->handle = g_new0 (SyncHandle, 1);
  g_ref_count_init (&self->handle->ref_count);
  self->handle->sync = self;

  self->cancellable = g_cancellable_new ();
  self->headers = g_ptr_array_new_with_free_func (g_free);
  self->applied_headers = g_ptr_array_new_with_free_func (g_free);
  self->connect_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  self->docs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, doc_entry_detach);
  self->subscribed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->forced_online = -1;
  self->online = TRUE;
  self->reconnect_interval = DEFAULT_RECONNECT_INTERVAL;
  self->backoff = DEFAULT_RECONNECT_INTERVAL;
  self->ping_interval = DEFAULT_PING_INTERVAL;
  self->request_timeout = DEFAULT_REQUEST_TIMEOUT;
  self->max_batch_size = PATCHES_DEFAULT_MAX_PAYLOAD_BYTES;
  self->sync_status = PATCHES_SYNC_STATUS_UNSYNCED;
  self->connection_state = PATCHES_CONNECTION_STATE_DISCONNECTED;
}

/* Public API */

/**
 * patches_sync_new:
 * @client: the client whose tracked documents to sync
 * @url: the server's WebSocket URL
 *
 * Creates a sync engine for @client.  Nothing is dialled before
 * patches_sync_connect_async().
 *
 * Returns: (transfer full): a new #PatchesSync
 */
PatchesSync *
patches_sync_new (PatchesClient *client,
                  const char    *url)
{
  g_return_val_if_fail (PATCHES_IS_CLIENT (client), NULL);

  return g_object_new (PATCHES_TYPE_SYNC,
                       "client", client,
                       "url", url,
                       NULL);
}

/**
 * patches_sync_get_client:
 * @self: a #PatchesSync
 *
 * Returns: (transfer none): the client
 */
PatchesClient *
patches_sync_get_client (PatchesSync *self)
{
  g_return_val_if_fail (PATCHES_IS_SYNC (self), NULL);

  return self->client;
}

/**
 * patches_sync_get_url:
 * @self: a #PatchesSync
 *
 * Returns: (nullable): the server URL
 */
const char *
patches_sync_get_url (PatchesSync *self)
{
  g_return_val_if_fail (PATCHES_IS_SYNC (self), NULL);

  return self->url;
}

/**
 * patches_sync_set_url:
 * @self: a #PatchesSync
 * @url: (nullable): the server's WebSocket URL
 *
 * Points @self at another server: the current connection is closed and,
 * if connecting is wanted, the new URL is dialled at once.
 */
void
patches_sync_set_url (PatchesSync *self,
                      const char  *url)
{
  gboolean was_connected;

  g_return_if_fail (PATCHES_IS_SYNC (self));

  if (g_strcmp0 (self->url, url) == 0)
    return;

  g_free (self->url);
  self->url = g_strdup (url);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URL]);

  /* during construction: constructed() attaches the connection */
  if (!self->constructed)
    return;

  was_connected = self->connected;
  cancel_reconnect (self);
  connection_detach (self);
  if (was_connected)
    {
      g_hash_table_remove_all (self->subscribed);
      set_global_state (self, self->online, FALSE, PATCHES_SYNC_STATUS_UNSYNCED, NULL);
      reset_doc_states (self);
    }

  self->loopback = url_is_loopback (self->url);
  if (self->url != NULL)
    connection_attach (self);
  set_online (self, compute_online (self));

  if (self->intent && self->online && !self->dialing)
    {
      self->backoff = self->reconnect_interval;
      self->reconnect_attempts = 0;
      dial (self);
    }
}

/**
 * patches_sync_set_header:
 * @self: a #PatchesSync
 * @name: a header name, such as `Authorization`
 * @value: (nullable): its value, or %NULL to remove it
 *
 * Sets (or removes) one header of the WebSocket handshake
 * (#PatchesSync:headers).  It takes effect at the next dial: call
 * patches_sync_retry_now() or reconnect to use it at once.
 */
void
patches_sync_set_header (PatchesSync *self,
                         const char  *name,
                         const char  *value)
{
  int index;

  g_return_if_fail (PATCHES_IS_SYNC (self));
  g_return_if_fail (name != NULL && *name != '\0' && strchr (name, ':') == NULL);

  index = find_header (self, name);

  if (value == NULL)
    {
      if (index < 0)
        return;
      g_ptr_array_remove_index (self->headers, index);
    }
  else
    {
      char *header = g_strdup_printf ("%s: %s", name, value);

      if (index >= 0)
        {
          g_free (g_ptr_array_index (self->headers, index));
          g_ptr_array_index (self->headers, index) = header;
        }
      else
        g_ptr_array_add (self->headers, header);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HEADERS]);
}

/**
 * patches_sync_get_online:
 * @self: a #PatchesSync
 *
 * Returns: whether the host is online
 */
gboolean
patches_sync_get_online (PatchesSync *self)
{
  g_return_val_if_fail (PATCHES_IS_SYNC (self), FALSE);

  return self->online;
}

/**
 * patches_sync_get_connected:
 * @self: a #PatchesSync
 *
 * Returns: whether a socket to the server is open
 */
gboolean
patches_sync_get_connected (PatchesSync *self)
{
  g_return_val_if_fail (PATCHES_IS_SYNC (self), FALSE);

  return self->connected;
}

/**
 * patches_sync_get_connection_state:
 * @self: a #PatchesSync
 *
 * Returns: the connection's transport state
 */
PatchesConnectionState
patches_sync_get_connection_state (PatchesSync *self)
{
  g_return_val_if_fail (PATCHES_IS_SYNC (self), PATCHES_CONNECTION_STATE_DISCONNECTED);

  return self->connection_state;
}

/**
 * patches_sync_get_sync_status:
 * @self: a #PatchesSync
 *
 * Returns: the global sync status
 */
PatchesSyncStatus
patches_sync_get_sync_status (PatchesSync *self)
{
  g_return_val_if_fail (PATCHES_IS_SYNC (self), PATCHES_SYNC_STATUS_UNSYNCED);

  return self->sync_status;
}

/**
 * patches_sync_get_sync_error:
 * @self: a #PatchesSync
 *
 * Returns: (nullable) (transfer none): the error while the sync status
 *   is %PATCHES_SYNC_STATUS_ERROR
 */
const GError *
patches_sync_get_sync_error (PatchesSync *self)
{
  g_return_val_if_fail (PATCHES_IS_SYNC (self), NULL);

  return self->sync_error;
}

/**
 * patches_sync_get_next_retry_time:
 * @self: a #PatchesSync
 *
 * Returns: the monotonic time in µs of the next reconnect attempt, or 0
 */
gint64
patches_sync_get_next_retry_time (PatchesSync *self)
{
  g_return_val_if_fail (PATCHES_IS_SYNC (self), 0);

  return self->next_retry_time;
}

/**
 * patches_sync_get_connection:
 * @self: a #PatchesSync
 *
 * The connection, for calls this class does not make itself (versions,
 * branches).  It is replaced when #PatchesSync:url changes.
 *
 * Returns: (transfer none) (nullable): the connection
 */
PatchesConnection *
patches_sync_get_connection (PatchesSync *self)
{
  g_return_val_if_fail (PATCHES_IS_SYNC (self), NULL);

  return self->connection;
}

/**
 * patches_sync_connect_async:
 * @self: a #PatchesSync
 * @cancellable: (nullable): a #GCancellable, to stop waiting (the wish
 *   to be connected stays)
 * @callback: called when the first socket opened, or the dial failed
 * @user_data: data for @callback
 *
 * Sets the wish to be connected and dials (PROTOCOL.md §2.5, §8.3).  The
 * operation completes when a socket opens; it fails when that dial
 * fails, and the sync status becomes %PATCHES_SYNC_STATUS_ERROR, but
 * reconnect attempts go on in the background until
 * patches_sync_disconnect().  While offline nothing is dialled: the
 * operation completes once a later connection opens.  Every connection
 * subscribes to and syncs every tracked document.
 */
void
patches_sync_connect_async (PatchesSync         *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (PATCHES_IS_SYNC (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, patches_sync_connect_async);

  if (g_task_return_error_if_cancelled (task))
    return;

  if (self->connection == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "No server URL to connect to");
      return;
    }

  self->intent = TRUE;

  if (self->connected)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (cancellable != NULL)
    {
      gulong handler = g_cancellable_connect (cancellable, G_CALLBACK (connect_cancelled_cb),
                                              task, NULL);

      g_object_set_data (G_OBJECT (task), "cancel-handler", GSIZE_TO_POINTER (handler));
    }
  g_ptr_array_add (self->connect_tasks, g_steal_pointer (&task));

  if (self->online && !self->dialing)
    {
      self->reconnect_attempts = 0;
      dial (self);
    }
}

/**
 * patches_sync_connect_finish:
 * @self: a #PatchesSync
 * @result: the #GAsyncResult given to the callback
 * @error: a location for a #GError
 *
 * Returns: %TRUE once connected, %FALSE with @error set if the dial failed
 */
gboolean
patches_sync_connect_finish (PatchesSync   *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_SYNC (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == patches_sync_connect_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * patches_sync_disconnect:
 * @self: a #PatchesSync
 *
 * Clears the wish to be connected: cancels the reconnect timer and any
 * dial, closes the socket, and sets the sync status to
 * %PATCHES_SYNC_STATUS_UNSYNCED.  A pending
 * patches_sync_connect_async() fails with %G_IO_ERROR_CANCELLED.
 * Pending changes stay in the store for the next connection.
 */
void
patches_sync_disconnect (PatchesSync *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (PATCHES_IS_SYNC (self));

  self->intent = FALSE;
  cancel_reconnect (self);
  self->backoff = self->reconnect_interval;
  self->reconnect_attempts = 0;

  close_connection (self);

  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Disconnected");
  complete_connect_tasks (self, error);

  set_global_state (self, self->online, FALSE, PATCHES_SYNC_STATUS_UNSYNCED, NULL);
  reset_doc_states (self);
}

/**
 * patches_sync_retry_now:
 * @self: a #PatchesSync
 *
 * Skips the waiting: dials at once when a reconnect is pending (or was
 * given up), or, when connected, syncs at once every document waiting
 * for a retry or in error.
 */
void
patches_sync_retry_now (PatchesSync *self)
{
  g_autoptr(GPtrArray) entries = NULL;

  g_return_if_fail (PATCHES_IS_SYNC (self));

  if (!self->connected)
    {
      if (self->intent && self->online && !self->dialing)
        {
          self->reconnect_attempts = 0;
          dial (self);
        }
      return;
    }

  entries = list_entries (self);
  for (guint i = 0; i < entries->len; i++)
    {
      DocEntry *entry = g_ptr_array_index (entries, i);

      if (entry->sync == NULL)
        continue;
      if (entry->retry_source != 0 || entry->state.status == PATCHES_SYNC_STATUS_ERROR)
        {
          g_clear_handle_id (&entry->retry_source, g_source_remove);
          entry->retry_attempt = 0;
          request_sync (self, entry, NULL, NULL);
        }
    }
}

/**
 * patches_sync_get_doc_state:
 * @self: a #PatchesSync
 * @doc_id: a document id
 *
 * Returns: (transfer full) (nullable): a copy of the sync state of
 *   @doc_id, or %NULL when it is not tracked
 */
PatchesDocSyncState *
patches_sync_get_doc_state (PatchesSync *self,
                            const char  *doc_id)
{
  DocEntry *entry;

  g_return_val_if_fail (PATCHES_IS_SYNC (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);

  entry = lookup_entry (self, doc_id);

  return entry ? patches_doc_sync_state_copy (&entry->state) : NULL;
}
