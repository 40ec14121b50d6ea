/* patches-cli-session.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "patches-cli-session.h"

#include <stdio.h>

#include <libsoup/soup.h>

#include "patches-memory-store.h"
#include "patches-rpc.h"
#include "patches-sqlite-store.h"

/* A CLI run is short: come back quickly after the server returns */
#define RECONNECT_INTERVAL_MS 500

/* At exit, how many pending main-loop events are let run so that
 * cancelled operations finish and free what they hold */
#define DRAIN_ITERATIONS      1000

/* Whether a tracked document has been through a whole sync since it was
 * tracked or the connection came up: only then does its state reflect
 * the server's */
typedef struct
{
  PatchesSyncStatus last;
  gboolean          fresh;
} Freshness;

struct _PatchesCliSession
{
  GObject        parent_instance;

  PatchesStore  *store;
  PatchesClient *client;
  PatchesSync   *sync;

  GHashTable    *freshness;     /* doc id → Freshness */
  gboolean       connecting;    /* connect() reports the first dial's error */
  gboolean       intent;        /* connected, or trying to be */
  gboolean       interrupted;
};

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_SYNC,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (PatchesCliSession, patches_cli_session, G_TYPE_OBJECT)

G_DEFINE_QUARK (patches-cli-error-quark, patches_cli_error)

static GParamSpec *properties[N_PROPS];

/* Whether the wait is over; @why (when not NULL) is told what is
 * missing; @fatal is set when waiting longer cannot help */
typedef gboolean (*Condition) (PatchesCliSession  *self,
                               gpointer            data,
                               GString            *why,
                               GError            **fatal);

static gboolean
flag_cb (gpointer user_data)
{
  gboolean *flag = user_data;

  *flag = TRUE;

  return G_SOURCE_REMOVE;
}

/* Runs the main loop until @cond holds, @timeout_ms pass or the session
 * is interrupted.  On a timeout the error says what @cond still lacks. */
static gboolean
session_wait (PatchesCliSession  *self,
              Condition           cond,
              gpointer            data,
              guint               timeout_ms,
              const char         *what,
              GError            **error)
{
  g_autoptr(GError) fatal = NULL;
  gboolean expired = FALSE;
  guint source;

  if (cond (self, data, NULL, &fatal))
    return TRUE;
  if (fatal != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&fatal));
      return FALSE;
    }

  source = g_timeout_add (timeout_ms, flag_cb, &expired);

  while (!cond (self, data, NULL, &fatal))
    {
      if (fatal != NULL)
        {
          if (!expired)
            g_source_remove (source);
          g_propagate_error (error, g_steal_pointer (&fatal));
          return FALSE;
        }

      if (expired || self->interrupted)
        {
          g_autoptr(GString) why = g_string_new (NULL);

          if (!expired)
            g_source_remove (source);

          if (self->interrupted)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "Interrupted while waiting for %s", what);
              return FALSE;
            }

          cond (self, data, why, NULL);
          g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_TIMEOUT,
                       "Timed out after %u ms waiting for %s: %s", timeout_ms, what, why->str);
          return FALSE;
        }

      g_main_context_iteration (NULL, TRUE);
    }

  if (!expired)
    g_source_remove (source);

  return TRUE;
}

/* Sync signals */

static void
on_doc_state_changed (PatchesSync       *sync,
                      const char        *doc_id,
                      PatchesCliSession *self)
{
  g_autoptr(PatchesDocSyncState) state = patches_sync_get_doc_state (sync, doc_id);
  Freshness *freshness;

  if (state == NULL)
    {
      g_hash_table_remove (self->freshness, doc_id);
      return;
    }

  freshness = g_hash_table_lookup (self->freshness, doc_id);
  if (freshness == NULL)
    {
      freshness = g_new0 (Freshness, 1);
      freshness->last = PATCHES_SYNC_STATUS_UNSYNCED;
      g_hash_table_insert (self->freshness, g_strdup (doc_id), freshness);
    }

  switch (state->status)
    {
    case PATCHES_SYNC_STATUS_SYNCING:
      freshness->fresh = FALSE;
      break;

    case PATCHES_SYNC_STATUS_SYNCED:
      /* the end of a run; later refreshes keep what the run found */
      if (freshness->last == PATCHES_SYNC_STATUS_SYNCING)
        freshness->fresh = TRUE;
      break;

    case PATCHES_SYNC_STATUS_UNSYNCED:
    case PATCHES_SYNC_STATUS_ERROR:
    default:
      freshness->fresh = FALSE;
      break;
    }

  freshness->last = state->status;
}

static void
on_connected_changed (PatchesSync       *sync,
                      GParamSpec        *pspec,
                      PatchesCliSession *self)
{
  GHashTableIter iter;
  gpointer value;

  /* A new connection syncs every document again: wait for that */
  g_hash_table_iter_init (&iter, self->freshness);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    ((Freshness *) value)->fresh = FALSE;
}

static void
on_sync_error (PatchesSync       *sync,
               const GError      *error,
               const char        *doc_id,
               PatchesCliSession *self)
{
  if (doc_id != NULL)
    g_printerr ("patches-cli: %s: %s\n", doc_id, error->message);
  else if (!self->connecting)
    g_printerr ("patches-cli: %s\n", error->message);
}

static void
on_remote_doc_deleted (PatchesSync       *sync,
                       const char        *doc_id,
                       GPtrArray         *pending,
                       PatchesCliSession *self)
{
  g_printerr ("patches-cli: %s was deleted on the server (%u unsent changes dropped)\n",
              doc_id, pending != NULL ? pending->len : 0);
}

/* Conditions */

/* An error the server answered a document's sync with that no retry
 * will cure: the token may not read or write it */
static gboolean
is_forbidden (const GError *error)
{
  int code;

  if (!g_error_matches (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE))
    return FALSE;

  code = patches_rpc_error_get_code (error);

  return code == 401 || code == 403;
}

static gboolean
synced_cond (PatchesCliSession  *self,
             gpointer            data,
             GString            *why,
             GError            **fatal)
{
  g_auto(GStrv) tombstones = NULL;
  g_auto(GStrv) tracked = NULL;
  PatchesSyncStatus status;

  if (self->sync == NULL || !patches_sync_get_connected (self->sync))
    {
      if (why != NULL)
        {
          const GError *sync_error = self->sync ? patches_sync_get_sync_error (self->sync) : NULL;

          g_string_append (why, "not connected");
          if (sync_error != NULL)
            g_string_append_printf (why, " (%s)", sync_error->message);
        }
      return FALSE;
    }

  status = patches_sync_get_sync_status (self->sync);
  if (status != PATCHES_SYNC_STATUS_SYNCED)
    {
      if (why != NULL)
        g_string_append_printf (why, "the initial sync is not done (status %s)",
                                patches_sync_status_to_string (status));
      return FALSE;
    }

  tombstones = patches_client_list_tombstones (self->client);
  if (tombstones[0] != NULL)
    {
      if (why != NULL)
        g_string_append_printf (why, "the server has not confirmed the deletion of %s",
                                tombstones[0]);
      return FALSE;
    }

  tracked = patches_client_list_tracked (self->client);
  for (guint i = 0; tracked[i] != NULL; i++)
    {
      g_autoptr(PatchesDocSyncState) state = patches_sync_get_doc_state (self->sync, tracked[i]);
      Freshness *freshness = g_hash_table_lookup (self->freshness, tracked[i]);

      if (fatal != NULL && state != NULL && state->status == PATCHES_SYNC_STATUS_ERROR &&
          state->error != NULL && is_forbidden (state->error))
        {
          g_set_error (fatal, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_FAILED,
                       "The server refuses %s: %s", tracked[i], state->error->message);
          return FALSE;
        }

      if (patches_client_has_pending (self->client, tracked[i]))
        {
          if (why != NULL)
            g_string_append_printf (why, "%s has pending changes", tracked[i]);
          return FALSE;
        }

      if (state == NULL || state->status != PATCHES_SYNC_STATUS_SYNCED ||
          freshness == NULL || !freshness->fresh)
        {
          if (why != NULL)
            {
              g_string_append_printf (why, "%s is not synced yet (status %s", tracked[i],
                                      patches_sync_status_to_string (state ? state->status
                                                                           : PATCHES_SYNC_STATUS_UNSYNCED));
              if (state != NULL && state->error != NULL)
                g_string_append_printf (why, ": %s", state->error->message);
              g_string_append_c (why, ')');
            }
          return FALSE;
        }
    }

  return TRUE;
}

typedef struct
{
  const char *doc_id;
  gint64      rev;
} RevWait;

static gboolean
rev_cond (PatchesCliSession  *self,
          gpointer            data,
          GString            *why,
          GError            **fatal)
{
  RevWait *wait = data;
  gint64 rev = patches_client_get_committed_rev (self->client, wait->doc_id);

  if (rev >= wait->rev)
    return TRUE;

  if (why != NULL)
    g_string_append_printf (why, "%s is at rev %" G_GINT64_FORMAT "%s", wait->doc_id, rev,
                            self->sync && patches_sync_get_connected (self->sync) ? ""
                                                                                  : " (not connected)");

  return FALSE;
}

static gboolean
never_cond (PatchesCliSession  *self,
            gpointer            data,
            GString            *why,
            GError            **fatal)
{
  return FALSE;
}

/* GObject */

static void
patches_cli_session_dispose (GObject *object)
{
  PatchesCliSession *self = (PatchesCliSession *)object;

  if (self->sync != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->sync, self);
      patches_sync_disconnect (self->sync);
      g_clear_object (&self->sync);

      /* Let the cancelled calls complete, so that they free what they hold */
      for (guint i = 0; i < DRAIN_ITERATIONS && g_main_context_iteration (NULL, FALSE); i++)
        ;
    }

  g_clear_object (&self->client);

  if (self->store != NULL && PATCHES_IS_SQLITE_STORE (self->store))
    patches_sqlite_store_close (PATCHES_SQLITE_STORE (self->store));
  g_clear_object (&self->store);

  G_OBJECT_CLASS (patches_cli_session_parent_class)->dispose (object);
}

static void
patches_cli_session_finalize (GObject *object)
{
  PatchesCliSession *self = (PatchesCliSession *)object;

  g_clear_pointer (&self->freshness, g_hash_table_unref);

  G_OBJECT_CLASS (patches_cli_session_parent_class)->finalize (object);
}

static void
patches_cli_session_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  PatchesCliSession *self = PATCHES_CLI_SESSION (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;

    case PROP_SYNC:
      g_value_set_object (value, self->sync);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_cli_session_class_init (PatchesCliSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = patches_cli_session_dispose;
  object_class->finalize = patches_cli_session_finalize;
  object_class->get_property = patches_cli_session_get_property;

  /**
   * PatchesCliSession:client:
   *
   * The client holding the documents.
   */
  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL,
                         PATCHES_TYPE_CLIENT,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesCliSession:sync:
   *
   * The sync engine, created by the first connect; %NULL before.
   */
  properties[PROP_SYNC] =
    g_param_spec_object ("sync", NULL, NULL,
                         PATCHES_TYPE_SYNC,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
patches_cli_session_init (PatchesCliSession *self)
{
  self->freshness = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/* Public API */

/**
 * patches_cli_session_new:
 * @store_path: (nullable): an SQLite store file, or %NULL to keep
 *   everything in memory
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a new session, or %NULL with @error set when
 *   the store cannot be opened
 */
PatchesCliSession *
patches_cli_session_new (const char  *store_path,
                         GError     **error)
{
  g_autoptr(PatchesCliSession) self = g_object_new (PATCHES_CLI_TYPE_SESSION, NULL);

  if (store_path != NULL)
    {
      PatchesSqliteStore *store = patches_sqlite_store_new (store_path, error);

      if (store == NULL)
        return NULL;
      self->store = PATCHES_STORE (store);
    }
  else
    self->store = PATCHES_STORE (patches_memory_store_new ());

  self->client = patches_client_new (self->store);

  return g_steal_pointer (&self);
}

/**
 * patches_cli_session_get_client:
 * @self: a #PatchesCliSession
 *
 * Returns: (transfer none): the client
 */
PatchesClient *
patches_cli_session_get_client (PatchesCliSession *self)
{
  g_return_val_if_fail (PATCHES_CLI_IS_SESSION (self), NULL);

  return self->client;
}

/**
 * patches_cli_session_get_sync:
 * @self: a #PatchesCliSession
 *
 * Returns: (transfer none) (nullable): the sync engine, once connected
 */
PatchesSync *
patches_cli_session_get_sync (PatchesCliSession *self)
{
  g_return_val_if_fail (PATCHES_CLI_IS_SESSION (self), NULL);

  return self->sync;
}

/**
 * patches_cli_session_interrupt:
 * @self: a #PatchesCliSession
 *
 * Ends the current wait (with %G_IO_ERROR_CANCELLED) and every later one,
 * and patches_cli_session_run(): for SIGINT.
 */
void
patches_cli_session_interrupt (PatchesCliSession *self)
{
  g_return_if_fail (PATCHES_CLI_IS_SESSION (self));

  self->interrupted = TRUE;
  g_main_context_wakeup (NULL);
}

/**
 * patches_cli_session_get_interrupted:
 * @self: a #PatchesCliSession
 *
 * Returns: whether patches_cli_session_interrupt() was called
 */
gboolean
patches_cli_session_get_interrupted (PatchesCliSession *self)
{
  g_return_val_if_fail (PATCHES_CLI_IS_SESSION (self), FALSE);

  return self->interrupted;
}

typedef struct
{
  gboolean  done;
  gboolean  ok;
  GError   *error;
} ConnectResult;

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  ConnectResult *connect = user_data;

  connect->ok = patches_sync_connect_finish (PATCHES_SYNC (object), result, &connect->error);
  connect->done = TRUE;
}

/* The server answered the handshake and said no: retrying will not help */
static gboolean
is_refusal (const GError *error)
{
  return error->domain == SOUP_WEBSOCKET_ERROR ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
}

/**
 * patches_cli_session_connect:
 * @self: a #PatchesCliSession
 * @url: the server's WebSocket URL
 * @token: (nullable): a bearer token, sent as `Authorization: Bearer`
 * @timeout_ms: how long to wait for the first dial
 * @allow_offline: whether an unreachable server is only a warning
 * @error: return location for a #GError
 *
 * Connects (or points the existing connection at @url) and waits for the
 * first dial.  A handshake the server refuses (bad token) is an error.
 * An unreachable server is an error too, unless @allow_offline: then a
 * warning is printed and the sync keeps dialling in the background, so
 * that later waits see the server once it is up.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_cli_session_connect (PatchesCliSession  *self,
                             const char         *url,
                             const char         *token,
                             guint               timeout_ms,
                             gboolean            allow_offline,
                             GError            **error)
{
  g_autoptr(GCancellable) cancellable = NULL;
  ConnectResult connect = { 0 };
  gboolean expired = FALSE;
  guint source;

  g_return_val_if_fail (PATCHES_CLI_IS_SESSION (self), FALSE);
  g_return_val_if_fail (url != NULL, FALSE);

  if (!g_str_has_prefix (url, "ws://") && !g_str_has_prefix (url, "wss://"))
    {
      g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_USAGE,
                   "Not a WebSocket URL (ws:// or wss://): %s", url);
      return FALSE;
    }

  if (self->sync == NULL)
    {
      self->sync = g_object_new (PATCHES_TYPE_SYNC,
                                 "client", self->client,
                                 "url", url,
                                 "reconnect-interval", RECONNECT_INTERVAL_MS,
                                 NULL);
      g_signal_connect (self->sync, "doc-state-changed", G_CALLBACK (on_doc_state_changed), self);
      g_signal_connect (self->sync, "notify::connected", G_CALLBACK (on_connected_changed), self);
      g_signal_connect (self->sync, "error", G_CALLBACK (on_sync_error), self);
      g_signal_connect (self->sync, "remote-doc-deleted", G_CALLBACK (on_remote_doc_deleted), self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNC]);
    }
  else
    patches_sync_set_url (self->sync, url);

  if (token != NULL && token[0] != '\0')
    {
      g_autofree char *value = g_strdup_printf ("Bearer %s", token);

      patches_sync_set_header (self->sync, "Authorization", value);
    }
  else
    patches_sync_set_header (self->sync, "Authorization", NULL);

  self->intent = TRUE;

  if (patches_sync_get_connected (self->sync))
    return TRUE;

  cancellable = g_cancellable_new ();
  self->connecting = TRUE;
  patches_sync_connect_async (self->sync, cancellable, connect_cb, &connect);

  source = g_timeout_add (timeout_ms, flag_cb, &expired);
  while (!connect.done)
    {
      if ((expired || self->interrupted) && !g_cancellable_is_cancelled (cancellable))
        g_cancellable_cancel (cancellable);
      g_main_context_iteration (NULL, TRUE);
    }
  if (!expired)
    g_source_remove (source);
  self->connecting = FALSE;

  if (connect.ok)
    return TRUE;

  if (self->interrupted)
    {
      g_propagate_error (error, connect.error);
      return FALSE;
    }

  if (g_error_matches (connect.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_error (&connect.error);
      connect.error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                   "No connection to %s after %u ms", url, timeout_ms);
    }

  if (!allow_offline || is_refusal (connect.error))
    {
      self->intent = FALSE;
      patches_sync_disconnect (self->sync);
      g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_FAILED,
                   "%s", connect.error->message);
      g_clear_error (&connect.error);
      return FALSE;
    }

  g_printerr ("patches-cli: %s; working offline and retrying in the background\n",
              connect.error->message);
  g_clear_error (&connect.error);

  return TRUE;
}

/**
 * patches_cli_session_disconnect:
 * @self: a #PatchesCliSession
 *
 * Closes the connection and stops reconnecting.  Pending changes stay
 * in the store.
 */
void
patches_cli_session_disconnect (PatchesCliSession *self)
{
  g_return_if_fail (PATCHES_CLI_IS_SESSION (self));

  self->intent = FALSE;
  if (self->sync != NULL)
    patches_sync_disconnect (self->sync);
}

/**
 * patches_cli_session_open:
 * @self: a #PatchesCliSession
 * @doc_id: a document id
 * @error: return location for a #GError
 *
 * Opens (and so tracks) a document.
 *
 * Returns: (transfer none): the document, or %NULL with @error set
 */
PatchesDoc *
patches_cli_session_open (PatchesCliSession  *self,
                          const char         *doc_id,
                          GError            **error)
{
  g_autoptr(PatchesDoc) doc = NULL;

  g_return_val_if_fail (PATCHES_CLI_IS_SESSION (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);

  doc = patches_client_open_doc (self->client, doc_id, error);
  if (doc == NULL)
    return NULL;

  /* the client keeps it open */
  return patches_client_get_open_doc (self->client, doc_id);
}

/**
 * patches_cli_session_lookup:
 * @self: a #PatchesCliSession
 * @doc_id: a document id
 * @error: return location for a #GError
 *
 * Returns: (transfer none): the open document, or %NULL with @error set
 *   when it is not open
 */
PatchesDoc *
patches_cli_session_lookup (PatchesCliSession  *self,
                            const char         *doc_id,
                            GError            **error)
{
  PatchesDoc *doc;

  g_return_val_if_fail (PATCHES_CLI_IS_SESSION (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);

  doc = patches_client_get_open_doc (self->client, doc_id);
  if (doc == NULL)
    g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_FAILED,
                 "Document %s is not open", doc_id);

  return doc;
}

/**
 * patches_cli_session_close:
 * @self: a #PatchesCliSession
 * @doc_id: a document id
 * @error: return location for a #GError
 *
 * Closes an open document; it stays tracked, so it is still synced.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_cli_session_close (PatchesCliSession  *self,
                           const char         *doc_id,
                           GError            **error)
{
  g_return_val_if_fail (PATCHES_CLI_IS_SESSION (self), FALSE);

  if (patches_cli_session_lookup (self, doc_id, error) == NULL)
    return FALSE;

  patches_client_close_doc (self->client, doc_id);

  return TRUE;
}

/**
 * patches_cli_session_delete:
 * @self: a #PatchesCliSession
 * @doc_id: a document id
 * @error: return location for a #GError
 *
 * Deletes a document: locally at once, on the server when connected.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_cli_session_delete (PatchesCliSession  *self,
                            const char         *doc_id,
                            GError            **error)
{
  g_return_val_if_fail (PATCHES_CLI_IS_SESSION (self), FALSE);

  return patches_client_delete_doc (self->client, doc_id, error);
}

/**
 * patches_cli_session_change:
 * @self: a #PatchesCliSession
 * @doc_id: an open document
 * @patch: the ops, applied as one change
 * @error: return location for a #GError
 *
 * Makes a local change; the sync sends it.  An empty @patch does nothing.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_cli_session_change (PatchesCliSession  *self,
                            const char         *doc_id,
                            PatchesPatch       *patch,
                            GError            **error)
{
  g_autoptr(PatchesChange) change = NULL;
  g_autoptr(GError) local_error = NULL;
  PatchesDoc *doc;

  g_return_val_if_fail (PATCHES_CLI_IS_SESSION (self), FALSE);
  g_return_val_if_fail (patch != NULL, FALSE);

  if (!(doc = patches_cli_session_lookup (self, doc_id, error)))
    return FALSE;

  change = patches_doc_change (doc, patch, &local_error);
  if (change == NULL && local_error != NULL)
    {
      g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_FAILED,
                   "The ops do not apply to %s: %s", doc_id, local_error->message);
      return FALSE;
    }

  return TRUE;
}

/**
 * patches_cli_session_dup_export:
 * @self: a #PatchesCliSession
 * @doc_id: an open document
 * @error: return location for a #GError
 *
 * Returns: (transfer full): `{"doc": ID, "rev": REV, "state": STATE}` with
 *   the committed revision and the current state, or %NULL with @error
 *   set when the document is not open
 */
PatchesValue *
patches_cli_session_dup_export (PatchesCliSession  *self,
                                const char         *doc_id,
                                GError            **error)
{
  PatchesValue *value;
  PatchesDoc *doc;

  g_return_val_if_fail (PATCHES_CLI_IS_SESSION (self), NULL);

  if (!(doc = patches_cli_session_lookup (self, doc_id, error)))
    return NULL;

  value = patches_value_new_object ();
  patches_value_object_set (value, "doc", patches_value_new_string (doc_id));
  patches_value_object_set (value, "rev",
                            patches_value_new_number ((double) patches_doc_get_committed_rev (doc)));
  patches_value_object_set (value, "state", patches_value_ref (patches_doc_get_state (doc)));

  return value;
}

/**
 * patches_cli_session_wait_synced:
 * @self: a #PatchesCliSession
 * @timeout_ms: the longest wait
 * @error: return location for a #GError
 *
 * Waits until connected, the initial sync is done, every tracked
 * document went through a sync on this connection and has nothing
 * pending, and no local deletion waits for the server.  Fails at once
 * when not connecting at all, and as soon as the server refuses a
 * document (401, 403).
 *
 * Returns: %TRUE once synced; %FALSE with %PATCHES_CLI_ERROR_TIMEOUT
 *   (or %G_IO_ERROR_CANCELLED when interrupted)
 */
gboolean
patches_cli_session_wait_synced (PatchesCliSession  *self,
                                 guint               timeout_ms,
                                 GError            **error)
{
  g_return_val_if_fail (PATCHES_CLI_IS_SESSION (self), FALSE);

  if (self->sync == NULL || !self->intent)
    {
      g_set_error_literal (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_FAILED,
                           "Not connected: connect first");
      return FALSE;
    }

  return session_wait (self, synced_cond, NULL, timeout_ms, "the sync", error);
}

/**
 * patches_cli_session_wait_rev:
 * @self: a #PatchesCliSession
 * @doc_id: a tracked document
 * @rev: a revision
 * @timeout_ms: the longest wait
 * @error: return location for a #GError
 *
 * Waits until the committed revision of @doc_id is at least @rev.
 *
 * Returns: %TRUE once there; %FALSE with %PATCHES_CLI_ERROR_TIMEOUT (or
 *   %G_IO_ERROR_CANCELLED when interrupted)
 */
gboolean
patches_cli_session_wait_rev (PatchesCliSession  *self,
                              const char         *doc_id,
                              gint64              rev,
                              guint               timeout_ms,
                              GError            **error)
{
  g_autofree char *what = NULL;
  RevWait wait = { doc_id, rev };

  g_return_val_if_fail (PATCHES_CLI_IS_SESSION (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);

  if (!patches_client_is_tracked (self->client, doc_id))
    {
      g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_FAILED,
                   "Document %s is not open", doc_id);
      return FALSE;
    }

  what = g_strdup_printf ("%s to reach rev %" G_GINT64_FORMAT, doc_id, rev);

  return session_wait (self, rev_cond, &wait, timeout_ms, what, error);
}

/**
 * patches_cli_session_sleep:
 * @self: a #PatchesCliSession
 * @ms: milliseconds
 *
 * Runs the main loop for @ms milliseconds.
 *
 * Returns: %FALSE when interrupted
 */
gboolean
patches_cli_session_sleep (PatchesCliSession *self,
                           guint              ms)
{
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (PATCHES_CLI_IS_SESSION (self), FALSE);

  session_wait (self, never_cond, NULL, ms, "nothing", &error);

  return !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/**
 * patches_cli_session_run:
 * @self: a #PatchesCliSession
 *
 * Runs the main loop until patches_cli_session_interrupt().
 */
void
patches_cli_session_run (PatchesCliSession *self)
{
  g_return_if_fail (PATCHES_CLI_IS_SESSION (self));

  while (!self->interrupted)
    g_main_context_iteration (NULL, TRUE);
}

/**
 * patches_cli_plain_value:
 * @value: a value
 *
 * Returns: (transfer full): @value as plain JSON, text values turned into
 *   the `{"ops": [...]}` objects the wire carries
 */
PatchesValue *
patches_cli_plain_value (PatchesValue *value)
{
  g_autoptr(GString) json = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  PatchesValue *plain;

  patches_value_write_json (value, json);
  plain = patches_value_parse (json->str, json->len, &error);
  g_assert_no_error (error);

  return plain;
}

/**
 * patches_cli_print_value:
 * @value: a value
 *
 * Prints @value as `JSON.stringify` writes it, on one line of standard
 * output, and flushes.
 */
void
patches_cli_print_value (PatchesValue *value)
{
  g_autoptr(GString) line = g_string_new (NULL);

  patches_value_write_json (value, line);
  g_string_append_c (line, '\n');
  fwrite (line->str, 1, line->len, stdout);
  fflush (stdout);
}

/**
 * patches_cli_read_input:
 * @path: a file, or `-` for standard input
 * @what: what the file is, for the error message
 * @data: (out) (transfer full): the contents, nul-terminated
 * @length: (out): the length of @data
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success; %FALSE with a %PATCHES_CLI_ERROR_USAGE error
 */
gboolean
patches_cli_read_input (const char  *path,
                        const char  *what,
                        char       **data,
                        gsize       *length,
                        GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  if (g_str_equal (path, "-"))
    {
      g_autoptr(GString) contents = g_string_new (NULL);
      char buffer[8192];
      size_t n;

      while ((n = fread (buffer, 1, sizeof buffer, stdin)) > 0)
        g_string_append_len (contents, buffer, n);

      if (ferror (stdin))
        {
          g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_USAGE,
                       "Cannot read %s from standard input", what);
          return FALSE;
        }

      *length = contents->len;
      *data = g_string_free (g_steal_pointer (&contents), FALSE);
      return TRUE;
    }

  if (!g_file_get_contents (path, data, length, &local_error))
    {
      g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_USAGE,
                   "Cannot read %s: %s", what, local_error->message);
      return FALSE;
    }

  return TRUE;
}
