/* patches-client.c
 *
 * The client keeps one #PatchesDoc per open document and is the only
 * writer of its #PatchesStore.  An open document is the authority on its
 * own committed state, revision and pending list; for a tracked document
 * that is not open the store is, with a small cache of its revision and
 * pending list so that sync engines can ask cheaply.  Every mutation is
 * persisted first and becomes visible (document, cache, signals) only
 * once the store accepted it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "patches-client.h"
#include "patches-doc-private.h"
#include "patches-error.h"
#include "patches-ot.h"

typedef struct {
  gint64     rev;
  GPtrArray *pending;
} CachedDoc;

/* What the client knows of one document at a time. */
typedef struct {
  PatchesValue *state;          /* NULL unless asked for */
  gint64        rev;
  GPtrArray    *pending;        /* a container of our own */
  gboolean      deleted;        /* only a local tombstone remains */
} Record;

struct _PatchesClient
{
  GObject        parent_instance;

  PatchesStore  *store;
  PatchesValue  *metadata;

  GHashTable    *docs;          /* doc id → PatchesDoc (open documents) */
  GHashTable    *tracked;       /* set of tracked ids; NULL until loaded */
  GHashTable    *cache;         /* doc id → CachedDoc (closed documents) */
};

enum {
  PROP_0,
  PROP_STORE,
  PROP_METADATA,
  N_PROPS
};

enum {
  DOC_OPENED,
  DOC_CLOSED,
  PENDING_CHANGED,
  DOCS_TRACKED,
  DOCS_UNTRACKED,
  DOC_DELETED,
  COMMITTED,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (PatchesClient, patches_client, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static GPtrArray *
changes_copy_container (GPtrArray *changes)
{
  GPtrArray *copy = patches_changes_new ();

  if (changes != NULL)
    for (guint i = 0; i < changes->len; i++)
      g_ptr_array_add (copy, patches_change_ref (g_ptr_array_index (changes, i)));

  return copy;
}

static void
cached_doc_free (gpointer data)
{
  CachedDoc *cached = data;

  g_clear_pointer (&cached->pending, g_ptr_array_unref);
  g_free (cached);
}

static void
record_clear (Record *record)
{
  g_clear_pointer (&record->state, patches_value_unref);
  g_clear_pointer (&record->pending, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Record, record_clear)

static void
cache_set (PatchesClient *self,
           const char    *doc_id,
           gint64         rev,
           GPtrArray     *pending)
{
  CachedDoc *cached = g_new0 (CachedDoc, 1);

  cached->rev = rev;
  cached->pending = changes_copy_container (pending);
  g_hash_table_replace (self->cache, g_strdup (doc_id), cached);
}

/* Loads what is known of @doc_id: from the open document, else from the
 * cache (unless @need_state), else from the store.  A document the store
 * does not know is `{}` at revision 0; so is a local tombstone, flagged
 * in @out->deleted. */
static gboolean
load_record (PatchesClient  *self,
             const char     *doc_id,
             gboolean        need_state,
             Record         *out,
             GError        **error)
{
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(GError) local_error = NULL;
  PatchesDoc *doc;
  CachedDoc *cached;

  out->state = NULL;
  out->rev = 0;
  out->pending = NULL;
  out->deleted = FALSE;

  doc = g_hash_table_lookup (self->docs, doc_id);
  if (doc != NULL)
    {
      if (need_state)
        out->state = patches_value_ref (patches_doc_get_committed_state (doc));
      out->rev = patches_doc_get_committed_rev (doc);
      out->pending = changes_copy_container (patches_doc_get_pending (doc));
      return TRUE;
    }

  cached = g_hash_table_lookup (self->cache, doc_id);
  if (cached != NULL && !need_state)
    {
      out->rev = cached->rev;
      out->pending = changes_copy_container (cached->pending);
      return TRUE;
    }

  stored = patches_store_load_doc (self->store, doc_id, &local_error);
  if (stored == NULL)
    {
      if (!g_error_matches (local_error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (need_state)
        out->state = patches_value_new_object ();
      out->pending = patches_changes_new ();
      return TRUE;
    }

  if (stored->deleted)
    {
      if (need_state)
        out->state = patches_value_new_object ();
      out->pending = patches_changes_new ();
      out->deleted = TRUE;
      return TRUE;
    }

  if (need_state)
    out->state = stored->state ? patches_value_ref (stored->state) : patches_value_new_object ();
  out->rev = stored->committed_rev;
  out->pending = changes_copy_container (stored->pending);
  cache_set (self, doc_id, out->rev, out->pending);

  return TRUE;
}

/* The committed revision and pending count of @doc_id, without its state:
 * from the open document, the cache, or patches_store_get_doc_info()
 * (which does not parse anything).  Unknown documents and tombstones are
 * at 0 with nothing pending, as in load_record(). */
static gboolean
load_info (PatchesClient  *self,
           const char     *doc_id,
           gint64         *rev,
           guint          *n_pending,
           GError        **error)
{
  g_autoptr(GError) local_error = NULL;
  PatchesDoc *doc;
  CachedDoc *cached;
  gboolean deleted;

  *rev = 0;
  *n_pending = 0;

  doc = g_hash_table_lookup (self->docs, doc_id);
  if (doc != NULL)
    {
      *rev = patches_doc_get_committed_rev (doc);
      *n_pending = patches_doc_get_pending (doc)->len;
      return TRUE;
    }

  cached = g_hash_table_lookup (self->cache, doc_id);
  if (cached != NULL)
    {
      *rev = cached->rev;
      *n_pending = cached->pending->len;
      return TRUE;
    }

  if (!patches_store_get_doc_info (self->store, doc_id, rev, n_pending, &deleted, &local_error))
    {
      *rev = 0;
      *n_pending = 0;
      if (g_error_matches (local_error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (deleted)
    {
      *rev = 0;
      *n_pending = 0;
    }

  return TRUE;
}

static gboolean
ensure_tracked (PatchesClient  *self,
                GError        **error)
{
  g_auto(GStrv) ids = NULL;

  if (self->tracked != NULL)
    return TRUE;

  ids = patches_store_list_tracked (self->store, error);
  if (ids == NULL)
    return FALSE;

  self->tracked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; ids[i] != NULL; i++)
    g_hash_table_add (self->tracked, g_strdup (ids[i]));

  return TRUE;
}

static gboolean
persist_change (PatchesDoc     *doc,
                PatchesChange  *change,
                gpointer        user_data,
                GError        **error)
{
  PatchesClient *self = user_data;
  g_autoptr(GPtrArray) changes = patches_changes_new ();

  g_ptr_array_add (changes, patches_change_ref (change));

  return patches_store_append_pending (self->store, patches_doc_get_id (doc), changes, error);
}

static void
on_doc_changed (PatchesDoc    *doc,
                PatchesChange *change,
                PatchesClient *self)
{
  g_signal_emit (self, signals[PENDING_CHANGED], 0, patches_doc_get_id (doc));
}

static void
attach_doc (PatchesClient *self,
            PatchesDoc    *doc)
{
  patches_doc_set_persist_func (doc, persist_change, self);
  patches_doc_set_change_metadata (doc, self->metadata);
  g_signal_connect_object (doc, "changed", G_CALLBACK (on_doc_changed), self, 0);
}

static void
detach_doc (PatchesClient *self,
            PatchesDoc    *doc)
{
  g_signal_handlers_disconnect_by_data (doc, self);
  patches_doc_set_persist_func (doc, NULL, NULL);
}

static void
emit_ids (PatchesClient *self,
          guint          signal_id,
          GPtrArray     *ids)
{
  g_autoptr(GPtrArray) strv = g_ptr_array_new ();

  for (guint i = 0; i < ids->len; i++)
    g_ptr_array_add (strv, g_ptr_array_index (ids, i));
  g_ptr_array_add (strv, NULL);

  g_signal_emit (self, signals[signal_id], 0, (char **) strv->pdata);
}

static void
emit_one_id (PatchesClient *self,
             guint          signal_id,
             const char    *doc_id)
{
  const char *ids[] = { doc_id, NULL };

  g_signal_emit (self, signals[signal_id], 0, ids);
}

static GPtrArray *
changes_above (GPtrArray *changes,
               gint64     rev)
{
  GPtrArray *above = patches_changes_new ();

  if (changes != NULL)
    for (guint i = 0; i < changes->len; i++)
      {
        PatchesChange *change = g_ptr_array_index (changes, i);

        if (change->rev > rev)
          g_ptr_array_add (above, patches_change_ref (change));
      }

  return above;
}

static void
skipped_change_cb (const PatchesChange *change,
                   guint                index,
                   const GError        *error,
                   gpointer             user_data)
{
  g_message ("Document %s: skipping committed change that does not apply: %s",
             (const char *) user_data, error->message);
}

static void
patches_client_dispose (GObject *object)
{
  PatchesClient *self = (PatchesClient *)object;

  if (self->docs != NULL)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, self->docs);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        detach_doc (self, value);
      g_hash_table_remove_all (self->docs);
    }

  g_clear_object (&self->store);

  G_OBJECT_CLASS (patches_client_parent_class)->dispose (object);
}

static void
patches_client_finalize (GObject *object)
{
  PatchesClient *self = (PatchesClient *)object;

  g_clear_pointer (&self->metadata, patches_value_unref);
  g_clear_pointer (&self->docs, g_hash_table_unref);
  g_clear_pointer (&self->tracked, g_hash_table_unref);
  g_clear_pointer (&self->cache, g_hash_table_unref);

  G_OBJECT_CLASS (patches_client_parent_class)->finalize (object);
}

static void
patches_client_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  PatchesClient *self = PATCHES_CLIENT (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_METADATA:
      g_value_set_boxed (value, self->metadata);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_client_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  PatchesClient *self = PATCHES_CLIENT (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;

    case PROP_METADATA:
      patches_client_set_metadata (self, g_value_get_boxed (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_client_class_init (PatchesClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = patches_client_dispose;
  object_class->finalize = patches_client_finalize;
  object_class->get_property = patches_client_get_property;
  object_class->set_property = patches_client_set_property;

  /**
   * PatchesClient:store:
   *
   * Where documents are kept between runs.
   */
  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         PATCHES_TYPE_STORE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesClient:metadata:
   *
   * A #PatchesValue object whose members are added to every change
   * minted from now on in the open documents (the reference's
   * `metadata` option), or %NULL.  Members named like a change's own
   * fields are ignored.  Notified when it changes.
   */
  properties[PROP_METADATA] =
    g_param_spec_boxed ("metadata", NULL, NULL,
                        PATCHES_TYPE_VALUE,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PatchesClient::doc-opened:
   * @self: a #PatchesClient
   * @doc: the document
   *
   * Emitted when a document is opened (not when an open one is asked
   * for again).
   */
  signals[DOC_OPENED] =
    g_signal_new ("doc-opened",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1, PATCHES_TYPE_DOC);

  /**
   * PatchesClient::doc-closed:
   * @self: a #PatchesClient
   * @doc_id: the document id
   *
   * Emitted when an open document is closed (explicitly, or because it
   * was untracked or deleted).  The #PatchesDoc no longer saves edits.
   */
  signals[DOC_CLOSED] =
    g_signal_new ("doc-closed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * PatchesClient::pending-changed:
   * @self: a #PatchesClient
   * @doc_id: the document id
   *
   * Emitted after a local change was saved in the store and added to the
   * document's pending list: sync engines flush on it.
   */
  signals[PENDING_CHANGED] =
    g_signal_new ("pending-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * PatchesClient::docs-tracked:
   * @self: a #PatchesClient
   * @doc_ids: the ids that were not tracked before
   *
   * Emitted after documents became tracked (by
   * patches_client_track_docs() or by opening them).
   */
  signals[DOCS_TRACKED] =
    g_signal_new ("docs-tracked",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRV | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * PatchesClient::docs-untracked:
   * @self: a #PatchesClient
   * @doc_ids: the ids that were tracked before
   *
   * Emitted after documents stopped being tracked (by
   * patches_client_untrack_docs() or patches_client_delete_doc()).
   * Their local data is gone.
   */
  signals[DOCS_UNTRACKED] =
    g_signal_new ("docs-untracked",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRV | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * PatchesClient::doc-deleted:
   * @self: a #PatchesClient
   * @doc_id: the document id
   *
   * Emitted after patches_client_delete_doc() replaced the document's
   * local data by a tombstone: sync engines send `deleteDoc` and then
   * purge the tombstone (patches_client_purge_tombstone()).
   */
  signals[DOC_DELETED] =
    g_signal_new ("doc-deleted",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * PatchesClient::committed:
   * @self: a #PatchesClient
   * @doc_id: the document id
   * @changes: (element-type PatchesChange): the committed changes above
   *   the previous committed revision
   *
   * Emitted after committed changes from the server were applied and
   * saved (PROTOCOL.md §8.6 step 7), for open and closed documents.
   * After a snapshot was installed (patches_client_install_snapshot())
   * @changes holds the committed changes that call was given above the
   * previous revision, which may be fewer than all of them: the
   * document's state is what counts.
   */
  signals[COMMITTED] =
    g_signal_new ("committed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 2,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_PTR_ARRAY | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
patches_client_init (PatchesClient *self)
{
  self->docs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, cached_doc_free);
}

/**
 * patches_client_new:
 * @store: where documents are kept
 *
 * Returns: (transfer full): a new client
 */
PatchesClient *
patches_client_new (PatchesStore *store)
{
  g_return_val_if_fail (PATCHES_IS_STORE (store), NULL);

  return g_object_new (PATCHES_TYPE_CLIENT,
                       "store", store,
                       NULL);
}

/**
 * patches_client_get_store:
 * @self: a #PatchesClient
 *
 * Returns: (transfer none): the store
 */
PatchesStore *
patches_client_get_store (PatchesClient *self)
{
  g_return_val_if_fail (PATCHES_IS_CLIENT (self), NULL);

  return self->store;
}

/**
 * patches_client_get_metadata:
 * @self: a #PatchesClient
 *
 * Returns: (transfer none) (nullable): the metadata added to new changes
 */
PatchesValue *
patches_client_get_metadata (PatchesClient *self)
{
  g_return_val_if_fail (PATCHES_IS_CLIENT (self), NULL);

  return self->metadata;
}

/**
 * patches_client_set_metadata:
 * @self: a #PatchesClient
 * @metadata: (nullable): an object, or %NULL
 *
 * Sets #PatchesClient:metadata.
 */
void
patches_client_set_metadata (PatchesClient *self,
                             PatchesValue  *metadata)
{
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (PATCHES_IS_CLIENT (self));
  g_return_if_fail (metadata == NULL ||
                    patches_value_get_kind (metadata) == PATCHES_VALUE_OBJECT);

  if (metadata == self->metadata ||
      (metadata != NULL && self->metadata != NULL && patches_value_equal (metadata, self->metadata)))
    return;

  g_clear_pointer (&self->metadata, patches_value_unref);
  if (metadata != NULL)
    self->metadata = patches_value_ref (metadata);

  g_hash_table_iter_init (&iter, self->docs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    patches_doc_set_change_metadata (value, self->metadata);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_METADATA]);
}

/* Documents */

/**
 * patches_client_open_doc:
 * @self: a #PatchesClient
 * @doc_id: the document id
 * @error: return location for a #GError
 *
 * Opens a document: loads it from the store (a document the store does
 * not know starts as `{}` at revision 0) and tracks it.  There is one
 * #PatchesDoc per id: opening an open document returns the same object.
 * Its local edits are saved in the store before they are announced.  A
 * document deleted locally (a tombstone waiting for the server) cannot be
 * opened: %PATCHES_STORE_ERROR_NOT_FOUND.
 *
 * Returns: (transfer full): the document, or %NULL with @error set
 */
PatchesDoc *
patches_client_open_doc (PatchesClient  *self,
                         const char     *doc_id,
                         GError        **error)
{
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(PatchesDoc) doc = NULL;
  gboolean newly_tracked = FALSE;

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), NULL);
  g_return_val_if_fail (doc_id != NULL && doc_id[0] != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  doc = g_hash_table_lookup (self->docs, doc_id);
  if (doc != NULL)
    return g_object_ref (g_steal_pointer (&doc));

  stored = patches_store_load_doc (self->store, doc_id, &local_error);
  if (stored == NULL &&
      !g_error_matches (local_error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (stored != NULL && stored->deleted)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND,
                   "Document %s was deleted locally", doc_id);
      return NULL;
    }

  if (!ensure_tracked (self, error))
    return NULL;

  if (!g_hash_table_contains (self->tracked, doc_id))
    {
      const char *ids[] = { doc_id, NULL };

      if (!patches_store_track_docs (self->store, ids, error))
        return NULL;
      g_hash_table_add (self->tracked, g_strdup (doc_id));
      newly_tracked = TRUE;
    }

  doc = stored ? patches_doc_new_from_stored (stored) : patches_doc_new (doc_id);
  attach_doc (self, doc);
  g_hash_table_insert (self->docs, g_strdup (doc_id), g_object_ref (doc));
  g_hash_table_remove (self->cache, doc_id);

  if (newly_tracked)
    emit_one_id (self, DOCS_TRACKED, doc_id);
  g_signal_emit (self, signals[DOC_OPENED], 0, doc);

  return g_steal_pointer (&doc);
}

/**
 * patches_client_open_doc_async:
 * @self: a #PatchesClient
 * @doc_id: the document id
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the document is open
 * @user_data: closure data for @callback
 *
 * Opens a document as patches_client_open_doc() does; @callback runs
 * from the main loop.
 */
void
patches_client_open_doc_async (PatchesClient       *self,
                               const char          *doc_id,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  PatchesDoc *doc;

  g_return_if_fail (PATCHES_IS_CLIENT (self));
  g_return_if_fail (doc_id != NULL && doc_id[0] != '\0');
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, patches_client_open_doc_async);

  if (g_task_return_error_if_cancelled (task))
    return;

  doc = patches_client_open_doc (self, doc_id, &error);
  if (doc == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, doc, g_object_unref);
}

/**
 * patches_client_open_doc_finish:
 * @self: a #PatchesClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the document, or %NULL with @error set
 */
PatchesDoc *
patches_client_open_doc_finish (PatchesClient  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (PATCHES_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == patches_client_open_doc_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * patches_client_get_open_doc:
 * @self: a #PatchesClient
 * @doc_id: the document id
 *
 * Returns: (transfer none) (nullable): the open document, or %NULL
 */
PatchesDoc *
patches_client_get_open_doc (PatchesClient *self,
                             const char    *doc_id)
{
  g_return_val_if_fail (PATCHES_IS_CLIENT (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);

  return g_hash_table_lookup (self->docs, doc_id);
}

/**
 * patches_client_close_doc:
 * @self: a #PatchesClient
 * @doc_id: the document id
 *
 * Closes an open document: the client drops it and it stops saving
 * edits.  It stays tracked, so it is still kept in sync.  Does nothing
 * when @doc_id is not open.
 */
void
patches_client_close_doc (PatchesClient *self,
                          const char    *doc_id)
{
  g_autoptr(PatchesDoc) doc = NULL;
  g_autofree char *key = NULL;

  g_return_if_fail (PATCHES_IS_CLIENT (self));
  g_return_if_fail (doc_id != NULL);

  if (!g_hash_table_steal_extended (self->docs, doc_id, (gpointer *) &key, (gpointer *) &doc))
    return;

  detach_doc (self, doc);
  g_signal_emit (self, signals[DOC_CLOSED], 0, key);
}

/**
 * patches_client_track_docs:
 * @self: a #PatchesClient
 * @doc_ids: (array zero-terminated=1): document ids
 * @error: return location for a #GError
 *
 * Tracks documents: they are kept in sync even while not open.  Emits
 * #PatchesClient::docs-tracked with the ids that were not tracked yet.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_client_track_docs (PatchesClient       *self,
                           const char * const  *doc_ids,
                           GError             **error)
{
  g_autoptr(GPtrArray) fresh = NULL;

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (doc_ids != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ensure_tracked (self, error))
    return FALSE;

  fresh = g_ptr_array_new ();
  for (guint i = 0; doc_ids[i] != NULL; i++)
    if (!g_hash_table_contains (self->tracked, doc_ids[i]) &&
        !g_ptr_array_find_with_equal_func (fresh, doc_ids[i], g_str_equal, NULL))
      g_ptr_array_add (fresh, (gpointer) doc_ids[i]);

  if (fresh->len == 0)
    return TRUE;

  g_ptr_array_add (fresh, NULL);
  if (!patches_store_track_docs (self->store, (const char **) fresh->pdata, error))
    return FALSE;
  g_ptr_array_set_size (fresh, fresh->len - 1);

  for (guint i = 0; i < fresh->len; i++)
    g_hash_table_add (self->tracked, g_strdup (g_ptr_array_index (fresh, i)));

  emit_ids (self, DOCS_TRACKED, fresh);

  return TRUE;
}

/* The _async variants of the id-list calls: the work is synchronous
 * (the store is), the GTask only hands the result to the main loop */
typedef gboolean (*IdsFunc) (PatchesClient       *self,
                             const char * const  *doc_ids,
                             GError             **error);

static void
ids_task_run (PatchesClient       *self,
              IdsFunc              func,
              gpointer             source_tag,
              const char * const  *doc_ids,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;

  g_task_set_source_tag (task, source_tag);

  if (g_task_return_error_if_cancelled (task))
    return;

  if (func (self, doc_ids, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

static gboolean
ids_task_finish (PatchesClient  *self,
                 GAsyncResult   *result,
                 gpointer        source_tag,
                 GError        **error)
{
  g_return_val_if_fail (PATCHES_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * patches_client_track_docs_async:
 * @self: a #PatchesClient
 * @doc_ids: (array zero-terminated=1): document ids
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: closure data for @callback
 *
 * Tracks documents as patches_client_track_docs() does; @callback runs
 * from the main loop.
 */
void
patches_client_track_docs_async (PatchesClient       *self,
                                 const char * const  *doc_ids,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CLIENT (self));
  g_return_if_fail (doc_ids != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  ids_task_run (self, patches_client_track_docs, patches_client_track_docs_async,
                doc_ids, cancellable, callback, user_data);
}

/**
 * patches_client_track_docs_finish:
 * @self: a #PatchesClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 */
gboolean
patches_client_track_docs_finish (PatchesClient  *self,
                                  GAsyncResult   *result,
                                  GError        **error)
{
  return ids_task_finish (self, result, patches_client_track_docs_async, error);
}

/**
 * patches_client_untrack_docs:
 * @self: a #PatchesClient
 * @doc_ids: (array zero-terminated=1): document ids
 * @error: return location for a #GError
 *
 * Stops tracking documents and removes their local data (pending
 * changes included).  Open ones among them are closed.  Emits
 * #PatchesClient::docs-untracked with the ids that were tracked.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_client_untrack_docs (PatchesClient       *self,
                             const char * const  *doc_ids,
                             GError             **error)
{
  g_autoptr(GPtrArray) gone = NULL;

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (doc_ids != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ensure_tracked (self, error))
    return FALSE;

  /* Our own copies: closing a document may free the caller's strings. */
  gone = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; doc_ids[i] != NULL; i++)
    if (g_hash_table_contains (self->tracked, doc_ids[i]) &&
        !g_ptr_array_find_with_equal_func (gone, doc_ids[i], g_str_equal, NULL))
      g_ptr_array_add (gone, g_strdup (doc_ids[i]));

  if (gone->len == 0)
    return TRUE;

  g_ptr_array_add (gone, NULL);
  if (!patches_store_untrack_docs (self->store, (const char **) gone->pdata, error))
    return FALSE;
  g_ptr_array_set_size (gone, gone->len - 1);

  for (guint i = 0; i < gone->len; i++)
    {
      const char *doc_id = g_ptr_array_index (gone, i);

      patches_client_close_doc (self, doc_id);
      g_hash_table_remove (self->cache, doc_id);
      g_hash_table_remove (self->tracked, doc_id);
    }

  emit_ids (self, DOCS_UNTRACKED, gone);

  return TRUE;
}

/**
 * patches_client_untrack_docs_async:
 * @self: a #PatchesClient
 * @doc_ids: (array zero-terminated=1): document ids
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: closure data for @callback
 *
 * Untracks documents as patches_client_untrack_docs() does; @callback
 * runs from the main loop.
 */
void
patches_client_untrack_docs_async (PatchesClient       *self,
                                   const char * const  *doc_ids,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (PATCHES_IS_CLIENT (self));
  g_return_if_fail (doc_ids != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  ids_task_run (self, patches_client_untrack_docs, patches_client_untrack_docs_async,
                doc_ids, cancellable, callback, user_data);
}

/**
 * patches_client_untrack_docs_finish:
 * @self: a #PatchesClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 */
gboolean
patches_client_untrack_docs_finish (PatchesClient  *self,
                                    GAsyncResult   *result,
                                    GError        **error)
{
  return ids_task_finish (self, result, patches_client_untrack_docs_async, error);
}

/**
 * patches_client_is_tracked:
 * @self: a #PatchesClient
 * @doc_id: the document id
 *
 * Returns: whether @doc_id is tracked
 */
gboolean
patches_client_is_tracked (PatchesClient *self,
                           const char    *doc_id)
{
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);

  if (!ensure_tracked (self, &error))
    {
      g_warning ("Cannot list tracked documents: %s", error->message);
      return FALSE;
    }

  return g_hash_table_contains (self->tracked, doc_id);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/**
 * patches_client_list_tracked:
 * @self: a #PatchesClient
 *
 * Returns: (transfer full) (array zero-terminated=1): the tracked ids,
 *   sorted
 */
char **
patches_client_list_tracked (PatchesClient *self)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *ids;
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), NULL);

  ids = g_ptr_array_new ();
  if (ensure_tracked (self, &error))
    {
      g_hash_table_iter_init (&iter, self->tracked);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_ptr_array_add (ids, g_strdup (key));
      g_ptr_array_sort (ids, compare_strings);
    }
  else
    g_warning ("Cannot list tracked documents: %s", error->message);

  g_ptr_array_add (ids, NULL);
  return (char **) g_ptr_array_free (ids, FALSE);
}

/**
 * patches_client_delete_doc:
 * @self: a #PatchesClient
 * @doc_id: the document id
 * @error: return location for a #GError
 *
 * Deletes a document locally (PROTOCOL.md §8.10): its local data is
 * replaced by a tombstone, it is closed and untracked
 * (#PatchesClient::docs-untracked if it was tracked), then
 * #PatchesClient::doc-deleted tells sync engines to delete it on the
 * server.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_client_delete_doc (PatchesClient  *self,
                           const char     *doc_id,
                           GError        **error)
{
  g_autofree char *id = NULL;
  gboolean was_tracked;

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (doc_id != NULL && doc_id[0] != '\0', FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ensure_tracked (self, error))
    return FALSE;

  if (!patches_store_delete_doc (self->store, doc_id, error))
    return FALSE;

  /* @doc_id may be a key we are about to free. */
  id = g_strdup (doc_id);
  patches_client_close_doc (self, id);
  g_hash_table_remove (self->cache, id);
  was_tracked = g_hash_table_remove (self->tracked, id);

  if (was_tracked)
    emit_one_id (self, DOCS_UNTRACKED, id);
  g_signal_emit (self, signals[DOC_DELETED], 0, id);

  return TRUE;
}

/* For sync engines */

/**
 * patches_client_get_committed_rev:
 * @self: a #PatchesClient
 * @doc_id: the document id
 *
 * Returns: the committed revision of @doc_id (0 when unknown)
 */
gint64
patches_client_get_committed_rev (PatchesClient *self,
                                  const char    *doc_id)
{
  g_autoptr(GError) error = NULL;
  gint64 rev;
  guint n_pending;

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), 0);
  g_return_val_if_fail (doc_id != NULL, 0);

  if (!load_info (self, doc_id, &rev, &n_pending, &error))
    {
      g_warning ("Cannot load document %s: %s", doc_id, error->message);
      return 0;
    }

  return rev;
}

/**
 * patches_client_dup_pending:
 * @self: a #PatchesClient
 * @doc_id: the document id
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type PatchesChange): the pending
 *   changes of @doc_id, ascending by rev (empty when unknown), or %NULL
 *   with @error set
 */
GPtrArray *
patches_client_dup_pending (PatchesClient  *self,
                            const char     *doc_id,
                            GError        **error)
{
  g_auto(Record) record = { 0 };

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!load_record (self, doc_id, FALSE, &record, error))
    return NULL;

  return g_steal_pointer (&record.pending);
}

/**
 * patches_client_has_pending:
 * @self: a #PatchesClient
 * @doc_id: the document id
 *
 * Returns: whether @doc_id has pending changes
 */
gboolean
patches_client_has_pending (PatchesClient *self,
                            const char    *doc_id)
{
  g_autoptr(GError) error = NULL;
  gint64 rev;
  guint n_pending;

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);

  if (!load_info (self, doc_id, &rev, &n_pending, &error))
    {
      g_warning ("Cannot load document %s: %s", doc_id, error->message);
      return FALSE;
    }

  return n_pending > 0;
}

/**
 * patches_client_apply_committed:
 * @self: a #PatchesClient
 * @doc_id: the document id
 * @changes: (element-type PatchesChange): committed changes from the
 *   server, ascending by rev
 * @error: return location for a #GError
 *
 * Applies committed changes (PROTOCOL.md §8.6), to an open document or to
 * a closed one in the store.  Changes at or below the committed revision
 * are stale: they only confirm the pending changes with the same ids,
 * which are dropped.  The new ones must continue the committed revision
 * without a gap (else %PATCHES_ERROR_MISSING_CHANGES: `Missing changes
 * from the server. Expected rev X, got Y. Request changes since R.`); they
 * are applied strictly to the committed state (a failure is
 * %PATCHES_ERROR_APPLY_CHANGES naming the change), the pending changes
 * are rebased over them, and all of it is saved in one store call.  On
 * any error nothing changed.
 *
 * Then an open document's view follows (#PatchesDoc::update with the
 * transformed ops, or a reset when the revisions jumped or pending
 * changes were confirmed out of the stream) and
 * #PatchesClient::committed is emitted with the new changes.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_client_apply_committed (PatchesClient  *self,
                                const char     *doc_id,
                                GPtrArray      *changes,
                                GError        **error)
{
  g_auto(Record) record = { 0 };
  g_autoptr(PatchesValue) state = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GPtrArray) fresh = NULL;
  g_autoptr(GPtrArray) kept = NULL;
  g_autoptr(GHashTable) stale_ids = NULL;
  PatchesDoc *doc;
  gint64 old_rev, rev;
  gboolean incremental;

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (doc_id != NULL && doc_id[0] != '\0', FALSE);
  g_return_val_if_fail (changes != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (changes->len == 0)
    return TRUE;

  if (!load_record (self, doc_id, TRUE, &record, error))
    return FALSE;

  if (record.deleted)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                   "Document %s was deleted locally", doc_id);
      return FALSE;
    }

  old_rev = rev = record.rev;
  state = patches_value_ref (record.state);
  pending = changes_copy_container (record.pending);
  if (!patches_apply_committed_changes (&state, &rev, &pending, changes, TRUE, error))
    return FALSE;

  fresh = changes_above (changes, old_rev);
  stale_ids = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (changes, i);

      if (change->rev <= old_rev && change->id != NULL)
        g_hash_table_add (stale_ids, change->id);
    }
  kept = patches_changes_new ();
  for (guint i = 0; i < record.pending->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (record.pending, i);

      if (change->id == NULL || !g_hash_table_contains (stale_ids, change->id))
        g_ptr_array_add (kept, patches_change_ref (change));
    }

  /* Nothing new and nothing confirmed: a pure redelivery. */
  if (fresh->len == 0 && kept->len == record.pending->len)
    return TRUE;

  if (!patches_store_save_committed (self->store, doc_id, fresh, state, rev, pending, error))
    return FALSE;

  incremental = fresh->len > 0 && kept->len == record.pending->len &&
                ((PatchesChange *) g_ptr_array_index (fresh, 0))->rev == old_rev + 1;

  doc = g_hash_table_lookup (self->docs, doc_id);
  if (doc != NULL)
    patches_doc_install_committed (doc, state, rev, pending,
                                   incremental ? fresh : NULL,
                                   incremental ? kept : NULL);
  else
    cache_set (self, doc_id, rev, pending);

  if (fresh->len > 0)
    g_signal_emit (self, signals[COMMITTED], 0, doc_id, fresh);

  return TRUE;
}

static gboolean
store_pending (PatchesClient  *self,
               const char     *doc_id,
               gint64          rev,
               GPtrArray      *pending,
               GError        **error)
{
  PatchesDoc *doc;

  if (!patches_store_replace_pending (self->store, doc_id, pending, error))
    return FALSE;

  doc = g_hash_table_lookup (self->docs, doc_id);
  if (doc != NULL)
    patches_doc_install_pending (doc, pending);
  else
    cache_set (self, doc_id, rev, pending);

  return TRUE;
}

/**
 * patches_client_remove_pending:
 * @self: a #PatchesClient
 * @doc_id: the document id
 * @change_ids: (array zero-terminated=1): ids of pending changes
 * @error: return location for a #GError
 *
 * Drops pending changes by id (committed as nothing, or already
 * committed, PROTOCOL.md §8.5.1), in the store and in the open document,
 * whose view is rebuilt (a reset #PatchesDoc::update if it changed).
 *
 * Returns: %TRUE on success
 */
gboolean
patches_client_remove_pending (PatchesClient       *self,
                               const char          *doc_id,
                               const char * const  *change_ids,
                               GError             **error)
{
  g_auto(Record) record = { 0 };
  g_autoptr(GPtrArray) pending = NULL;

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (doc_id != NULL && doc_id[0] != '\0', FALSE);
  g_return_val_if_fail (change_ids != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!load_record (self, doc_id, FALSE, &record, error))
    return FALSE;

  pending = patches_changes_new ();
  for (guint i = 0; i < record.pending->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (record.pending, i);

      if (change->id == NULL || !g_strv_contains (change_ids, change->id))
        g_ptr_array_add (pending, patches_change_ref (change));
    }

  if (pending->len == record.pending->len)
    return TRUE;

  return store_pending (self, doc_id, record.rev, pending, error);
}

/**
 * patches_client_replace_pending:
 * @self: a #PatchesClient
 * @doc_id: the document id
 * @pending: (element-type PatchesChange): the whole new pending list
 * @error: return location for a #GError
 *
 * Replaces the pending list (after a split into the pieces that will be
 * sent, PROTOCOL.md §8.5.1 step 3).
 *
 * Returns: %TRUE on success
 */
gboolean
patches_client_replace_pending (PatchesClient  *self,
                                const char     *doc_id,
                                GPtrArray      *pending,
                                GError        **error)
{
  g_auto(Record) record = { 0 };

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (doc_id != NULL && doc_id[0] != '\0', FALSE);
  g_return_val_if_fail (pending != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!load_record (self, doc_id, FALSE, &record, error))
    return FALSE;

  return store_pending (self, doc_id, record.rev, pending, error);
}

/**
 * patches_client_install_snapshot:
 * @self: a #PatchesClient
 * @doc_id: the document id
 * @state: (nullable): the snapshot state (`getDoc`'s `state`)
 * @rev: the snapshot's revision (`getDoc`'s `rev`)
 * @changes: (nullable) (element-type PatchesChange): the committed
 *   changes after @rev (`getDoc`'s `changes`)
 * @tail: (nullable) (element-type PatchesChange): the committed changes
 *   after the previous committed revision up to the snapshot's head,
 *   when pending changes must be reconciled
 * @error: return location for a #GError
 *
 * Installs a snapshot from the server (PROTOCOL.md §8.8 steps 5–7): the
 * pending changes are rebased through @tail (those committed in it are
 * dropped), the committed state becomes @state with @changes replayed in
 * reconstruction mode (a change that does not apply is skipped and
 * logged) at the head revision (the last change's, or @rev), all saved
 * in one store call; an open document's view is rebuilt (a reset
 * #PatchesDoc::update if it changed).  #PatchesClient::committed follows
 * when the revision moved.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_client_install_snapshot (PatchesClient  *self,
                                 const char     *doc_id,
                                 PatchesValue   *state,
                                 gint64          rev,
                                 GPtrArray      *changes,
                                 GPtrArray      *tail,
                                 GError        **error)
{
  g_auto(Record) record = { 0 };
  g_autoptr(PatchesValue) committed = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  PatchesDoc *doc;
  gint64 head = rev;

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (doc_id != NULL && doc_id[0] != '\0', FALSE);
  g_return_val_if_fail (rev >= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!load_record (self, doc_id, FALSE, &record, error))
    return FALSE;

  if (record.deleted)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                   "Document %s was deleted locally", doc_id);
      return FALSE;
    }

  if (tail != NULL && tail->len > 0)
    pending = patches_rebase_changes (tail, record.pending);
  else
    pending = changes_copy_container (record.pending);

  committed = state ? patches_value_ref (state) : NULL;
  if (changes != NULL && changes->len > 0)
    {
      patches_changes_apply_for_reconstruction (&committed, changes, FALSE,
                                                skipped_change_cb, (gpointer) doc_id);
      head = ((PatchesChange *) g_ptr_array_index (changes, changes->len - 1))->rev;
    }
  if (committed == NULL)
    committed = patches_value_new_object ();

  if (!patches_store_save_snapshot (self->store, doc_id, committed, head, pending, error))
    return FALSE;

  doc = g_hash_table_lookup (self->docs, doc_id);
  if (doc != NULL)
    patches_doc_install_committed (doc, committed, head, pending, NULL, NULL);
  else
    cache_set (self, doc_id, head, pending);

  if (head != record.rev)
    {
      g_autoptr(GPtrArray) above = changes_above (tail && tail->len > 0 ? tail : changes,
                                                  record.rev);

      g_signal_emit (self, signals[COMMITTED], 0, doc_id, above);
    }

  return TRUE;
}

/**
 * patches_client_take_remote_deleted:
 * @self: a #PatchesClient
 * @doc_id: the document id
 * @error: return location for a #GError
 *
 * Handles a deletion on the server (PROTOCOL.md §8.10): collects the
 * pending changes, closes the document, stops tracking it and purges
 * every local trace of it (without #PatchesClient::docs-untracked or
 * #PatchesClient::doc-deleted: nothing is to be told to the server).
 *
 * Returns: (transfer container) (element-type PatchesChange): the pending
 *   changes that were lost, or %NULL with @error set
 */
GPtrArray *
patches_client_take_remote_deleted (PatchesClient  *self,
                                    const char     *doc_id,
                                    GError        **error)
{
  g_auto(Record) record = { 0 };
  g_autofree char *id = NULL;
  const char *ids[2] = { NULL, NULL };

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), NULL);
  g_return_val_if_fail (doc_id != NULL && doc_id[0] != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!load_record (self, doc_id, FALSE, &record, error))
    return NULL;

  id = g_strdup (doc_id);
  ids[0] = id;
  if (!patches_store_untrack_docs (self->store, ids, error) ||
      !patches_store_purge_doc (self->store, id, error))
    return NULL;

  patches_client_close_doc (self, id);
  g_hash_table_remove (self->cache, id);
  if (self->tracked != NULL)
    g_hash_table_remove (self->tracked, id);

  return g_steal_pointer (&record.pending);
}

/**
 * patches_client_list_tombstones:
 * @self: a #PatchesClient
 *
 * Returns: (transfer full) (array zero-terminated=1): the ids of
 *   documents deleted locally whose deletion the server has not
 *   confirmed, sorted
 */
char **
patches_client_list_tombstones (PatchesClient *self)
{
  g_autoptr(GError) error = NULL;
  char **ids;

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), NULL);

  ids = patches_store_list_tombstones (self->store, &error);
  if (ids == NULL)
    {
      g_warning ("Cannot list deleted documents: %s", error->message);
      ids = g_new0 (char *, 1);
    }

  return ids;
}

/**
 * patches_client_purge_tombstone:
 * @self: a #PatchesClient
 * @doc_id: the document id
 * @error: return location for a #GError
 *
 * Forgets the tombstone of a document whose deletion the server
 * confirmed.  Does nothing when @doc_id is not a tombstone.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_client_purge_tombstone (PatchesClient  *self,
                                const char     *doc_id,
                                GError        **error)
{
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (doc_id != NULL && doc_id[0] != '\0', FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  stored = patches_store_load_doc (self->store, doc_id, &local_error);
  if (stored == NULL)
    {
      if (g_error_matches (local_error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (!stored->deleted)
    return TRUE;

  return patches_store_purge_doc (self->store, doc_id, error);
}

/**
 * patches_client_set_doc_sync_status:
 * @self: a #PatchesClient
 * @doc_id: the document id
 * @status: the document's sync status
 * @error: (nullable): the error with %PATCHES_SYNC_STATUS_ERROR
 *
 * Mirrors a sync engine's per-document status into the open document
 * (#PatchesDoc:sync-status, #PatchesDoc:sync-error, #PatchesDoc:loaded).
 * Does nothing when @doc_id is not open.
 */
void
patches_client_set_doc_sync_status (PatchesClient     *self,
                                    const char        *doc_id,
                                    PatchesSyncStatus  status,
                                    const GError      *error)
{
  PatchesDoc *doc;

  g_return_if_fail (PATCHES_IS_CLIENT (self));
  g_return_if_fail (doc_id != NULL);

  doc = g_hash_table_lookup (self->docs, doc_id);
  if (doc != NULL)
    patches_doc_set_sync_status (doc, status, error);
}

/**
 * patches_client_dup_client_id:
 * @self: a #PatchesClient
 *
 * Returns: (transfer full) (nullable): the stable id of this client,
 *   kept in the store (created on first use), or %NULL if the store
 *   failed (logged)
 */
char *
patches_client_dup_client_id (PatchesClient *self)
{
  g_autoptr(GError) error = NULL;
  char *client_id;

  g_return_val_if_fail (PATCHES_IS_CLIENT (self), NULL);

  client_id = patches_store_dup_client_id (self->store, &error);
  if (client_id == NULL)
    g_warning ("Cannot read the client id: %s", error->message);

  return client_id;
}
