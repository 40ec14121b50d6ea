/* patches-memory-store.c
 *
 * A #PatchesStore kept in hash tables.  Every call computes its result
 * first and changes the tables only once nothing can fail any more, so
 * each call is atomic like the SQLite store's transactions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "patches-memory-store.h"
#include "patches-ot.h"

typedef struct {
  PatchesValue *state;          /* committed state at committed_rev */
  gint64        committed_rev;
  GPtrArray    *pending;        /* PatchesChange, ascending by rev */
  gboolean      deleted;
} MemoryDoc;

struct _PatchesMemoryStore
{
  GObject     parent_instance;

  GHashTable *docs;             /* doc id → MemoryDoc */
  GHashTable *tracked;          /* set of doc ids */
  GHashTable *meta;             /* key → value */
};

static void patches_memory_store_iface_init (PatchesStoreInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PatchesMemoryStore, patches_memory_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (PATCHES_TYPE_STORE,
                                                      patches_memory_store_iface_init))

static GPtrArray *
changes_dup (GPtrArray *changes)
{
  GPtrArray *copy;

  copy = g_ptr_array_new_full (changes ? changes->len : 0,
                               (GDestroyNotify) patches_change_unref);
  if (changes != NULL)
    for (guint i = 0; i < changes->len; i++)
      g_ptr_array_add (copy, patches_change_ref (g_ptr_array_index (changes, i)));

  return copy;
}

static MemoryDoc *
memory_doc_new (void)
{
  MemoryDoc *doc = g_new0 (MemoryDoc, 1);

  doc->pending = changes_dup (NULL);
  return doc;
}

static void
memory_doc_free (gpointer data)
{
  MemoryDoc *doc = data;

  g_clear_pointer (&doc->state, patches_value_unref);
  g_clear_pointer (&doc->pending, g_ptr_array_unref);
  g_free (doc);
}

/* Returns the record of @doc_id, creating it when missing; fails on a
 * tombstone, which only purge_doc() clears. */
static MemoryDoc *
ensure_writable_doc (PatchesMemoryStore  *self,
                     const char          *doc_id,
                     GError             **error)
{
  MemoryDoc *doc = g_hash_table_lookup (self->docs, doc_id);

  if (doc == NULL)
    {
      doc = memory_doc_new ();
      g_hash_table_insert (self->docs, g_strdup (doc_id), doc);
    }
  else if (doc->deleted)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                   "Document %s is deleted", doc_id);
      return NULL;
    }

  return doc;
}

static gboolean
check_not_deleted (PatchesMemoryStore  *self,
                   const char          *doc_id,
                   GError             **error)
{
  MemoryDoc *doc = g_hash_table_lookup (self->docs, doc_id);

  if (doc != NULL && doc->deleted)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                   "Document %s is deleted", doc_id);
      return FALSE;
    }
  return TRUE;
}

static void
replace_pending (MemoryDoc *doc,
                 GPtrArray *pending)
{
  g_clear_pointer (&doc->pending, g_ptr_array_unref);
  doc->pending = changes_dup (pending);
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static char **
sorted_strv (GPtrArray *ids)
{
  g_ptr_array_sort (ids, compare_ids);
  g_ptr_array_add (ids, NULL);
  return (char **) g_ptr_array_free (ids, FALSE);
}

static PatchesStoredDoc *
patches_memory_store_load_doc (PatchesStore  *store,
                               const char    *doc_id,
                               GError       **error)
{
  PatchesMemoryStore *self = PATCHES_MEMORY_STORE (store);
  MemoryDoc *doc = g_hash_table_lookup (self->docs, doc_id);
  PatchesStoredDoc *stored;

  if (doc == NULL)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND,
                   "Document %s is not in the store", doc_id);
      return NULL;
    }

  stored = patches_stored_doc_new (doc_id);
  stored->committed_rev = doc->committed_rev;
  stored->deleted = doc->deleted;
  if (doc->state != NULL)
    stored->state = patches_value_ref (doc->state);
  for (guint i = 0; i < doc->pending->len; i++)
    g_ptr_array_add (stored->pending, patches_change_ref (g_ptr_array_index (doc->pending, i)));

  return stored;
}

static gboolean
patches_memory_store_get_doc_info (PatchesStore  *store,
                                   const char    *doc_id,
                                   gint64        *committed_rev,
                                   guint         *n_pending,
                                   gboolean      *deleted,
                                   GError       **error)
{
  PatchesMemoryStore *self = PATCHES_MEMORY_STORE (store);
  MemoryDoc *doc = g_hash_table_lookup (self->docs, doc_id);

  if (doc == NULL)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND,
                   "Document %s is not in the store", doc_id);
      return FALSE;
    }

  *deleted = doc->deleted;
  *committed_rev = doc->deleted ? 0 : doc->committed_rev;
  *n_pending = doc->deleted ? 0 : doc->pending->len;

  return TRUE;
}

static gboolean
patches_memory_store_save_committed (PatchesStore  *store,
                                     const char    *doc_id,
                                     GPtrArray     *changes,
                                     PatchesValue  *state,
                                     gint64         rev,
                                     GPtrArray     *pending,
                                     GError       **error)
{
  PatchesMemoryStore *self = PATCHES_MEMORY_STORE (store);
  MemoryDoc *doc = g_hash_table_lookup (self->docs, doc_id);
  gint64 old_rev = doc ? doc->committed_rev : 0;
  g_autoptr(PatchesValue) new_state = NULL;

  if (!check_not_deleted (self, doc_id, error))
    return FALSE;

  if (rev < old_rev)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                   "Document %s: committed revision %" G_GINT64_FORMAT
                   " is below the stored %" G_GINT64_FORMAT,
                   doc_id, rev, old_rev);
      return FALSE;
    }

  if (state != NULL)
    new_state = patches_value_ref (state);
  else
    {
      /* No state given: replay the new changes on the stored one. */
      g_autoptr(GPtrArray) fresh = changes_dup (NULL);
      g_autoptr(GError) local_error = NULL;

      if (doc != NULL && doc->state != NULL)
        new_state = patches_value_ref (doc->state);
      if (changes != NULL)
        for (guint i = 0; i < changes->len; i++)
          {
            PatchesChange *change = g_ptr_array_index (changes, i);

            if (change->rev > old_rev)
              g_ptr_array_add (fresh, patches_change_ref (change));
          }
      if (!patches_changes_apply (&new_state, fresh, &local_error))
        {
          g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                       "Document %s: committed changes do not apply: %s",
                       doc_id, local_error->message);
          return FALSE;
        }
    }

  doc = ensure_writable_doc (self, doc_id, error);
  g_assert (doc != NULL);

  g_clear_pointer (&doc->state, patches_value_unref);
  doc->state = g_steal_pointer (&new_state);
  doc->committed_rev = rev;
  if (pending != NULL)
    replace_pending (doc, pending);

  return TRUE;
}

static gboolean
patches_memory_store_save_snapshot (PatchesStore  *store,
                                    const char    *doc_id,
                                    PatchesValue  *state,
                                    gint64         rev,
                                    GPtrArray     *pending,
                                    GError       **error)
{
  PatchesMemoryStore *self = PATCHES_MEMORY_STORE (store);
  MemoryDoc *doc;

  doc = ensure_writable_doc (self, doc_id, error);
  if (doc == NULL)
    return FALSE;

  g_clear_pointer (&doc->state, patches_value_unref);
  doc->state = state ? patches_value_ref (state) : NULL;
  doc->committed_rev = rev;
  if (pending != NULL)
    replace_pending (doc, pending);

  return TRUE;
}

static gboolean
patches_memory_store_append_pending (PatchesStore  *store,
                                     const char    *doc_id,
                                     GPtrArray     *changes,
                                     GError       **error)
{
  PatchesMemoryStore *self = PATCHES_MEMORY_STORE (store);
  MemoryDoc *doc = g_hash_table_lookup (self->docs, doc_id);

  if (!check_not_deleted (self, doc_id, error))
    return FALSE;

  if (doc != NULL && doc->pending->len > 0 && changes->len > 0)
    {
      const PatchesChange *last = g_ptr_array_index (doc->pending, doc->pending->len - 1);
      const PatchesChange *first = g_ptr_array_index (changes, 0);

      if (first->rev <= last->rev)
        {
          g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                       "Document %s: pending change %s has revision %" G_GINT64_FORMAT
                       ", not above the last pending %" G_GINT64_FORMAT,
                       doc_id, first->id, first->rev, last->rev);
          return FALSE;
        }
    }

  doc = ensure_writable_doc (self, doc_id, error);
  g_assert (doc != NULL);

  for (guint i = 0; i < changes->len; i++)
    g_ptr_array_add (doc->pending, patches_change_ref (g_ptr_array_index (changes, i)));

  return TRUE;
}

static gboolean
patches_memory_store_replace_pending (PatchesStore  *store,
                                      const char    *doc_id,
                                      GPtrArray     *pending,
                                      GError       **error)
{
  PatchesMemoryStore *self = PATCHES_MEMORY_STORE (store);
  MemoryDoc *doc;

  doc = ensure_writable_doc (self, doc_id, error);
  if (doc == NULL)
    return FALSE;

  replace_pending (doc, pending);
  return TRUE;
}

static gboolean
patches_memory_store_track_docs (PatchesStore  *store,
                                 const char   **doc_ids,
                                 GError       **error)
{
  PatchesMemoryStore *self = PATCHES_MEMORY_STORE (store);

  for (guint i = 0; doc_ids[i] != NULL; i++)
    g_hash_table_add (self->tracked, g_strdup (doc_ids[i]));

  return TRUE;
}

static gboolean
patches_memory_store_untrack_docs (PatchesStore  *store,
                                   const char   **doc_ids,
                                   GError       **error)
{
  PatchesMemoryStore *self = PATCHES_MEMORY_STORE (store);

  for (guint i = 0; doc_ids[i] != NULL; i++)
    {
      MemoryDoc *doc = g_hash_table_lookup (self->docs, doc_ids[i]);

      g_hash_table_remove (self->tracked, doc_ids[i]);
      if (doc != NULL && !doc->deleted)
        g_hash_table_remove (self->docs, doc_ids[i]);
    }

  return TRUE;
}

static char **
patches_memory_store_list_tracked (PatchesStore  *store,
                                   GError       **error)
{
  PatchesMemoryStore *self = PATCHES_MEMORY_STORE (store);
  GPtrArray *ids = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      MemoryDoc *doc = g_hash_table_lookup (self->docs, key);

      if (doc == NULL || !doc->deleted)
        g_ptr_array_add (ids, g_strdup (key));
    }

  return sorted_strv (ids);
}

static gboolean
patches_memory_store_delete_doc (PatchesStore  *store,
                                 const char    *doc_id,
                                 GError       **error)
{
  PatchesMemoryStore *self = PATCHES_MEMORY_STORE (store);
  MemoryDoc *doc = memory_doc_new ();

  doc->deleted = TRUE;
  g_hash_table_replace (self->docs, g_strdup (doc_id), doc);
  g_hash_table_remove (self->tracked, doc_id);

  return TRUE;
}

static gboolean
patches_memory_store_purge_doc (PatchesStore  *store,
                                const char    *doc_id,
                                GError       **error)
{
  PatchesMemoryStore *self = PATCHES_MEMORY_STORE (store);

  g_hash_table_remove (self->docs, doc_id);
  g_hash_table_remove (self->tracked, doc_id);

  return TRUE;
}

static char **
patches_memory_store_list_tombstones (PatchesStore  *store,
                                      GError       **error)
{
  PatchesMemoryStore *self = PATCHES_MEMORY_STORE (store);
  GPtrArray *ids = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->docs);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      MemoryDoc *doc = value;

      if (doc->deleted)
        g_ptr_array_add (ids, g_strdup (key));
    }

  return sorted_strv (ids);
}

static char *
patches_memory_store_get_meta (PatchesStore  *store,
                               const char    *key,
                               GError       **error)
{
  PatchesMemoryStore *self = PATCHES_MEMORY_STORE (store);

  return g_strdup (g_hash_table_lookup (self->meta, key));
}

static gboolean
patches_memory_store_set_meta (PatchesStore  *store,
                               const char    *key,
                               const char    *value,
                               GError       **error)
{
  PatchesMemoryStore *self = PATCHES_MEMORY_STORE (store);

  if (value == NULL)
    g_hash_table_remove (self->meta, key);
  else
    g_hash_table_replace (self->meta, g_strdup (key), g_strdup (value));

  return TRUE;
}

static void
patches_memory_store_iface_init (PatchesStoreInterface *iface)
{
  iface->load_doc = patches_memory_store_load_doc;
  iface->get_doc_info = patches_memory_store_get_doc_info;
  iface->save_committed = patches_memory_store_save_committed;
  iface->save_snapshot = patches_memory_store_save_snapshot;
  iface->append_pending = patches_memory_store_append_pending;
  iface->replace_pending = patches_memory_store_replace_pending;
  iface->track_docs = patches_memory_store_track_docs;
  iface->untrack_docs = patches_memory_store_untrack_docs;
  iface->list_tracked = patches_memory_store_list_tracked;
  iface->delete_doc = patches_memory_store_delete_doc;
  iface->purge_doc = patches_memory_store_purge_doc;
  iface->list_tombstones = patches_memory_store_list_tombstones;
  iface->get_meta = patches_memory_store_get_meta;
  iface->set_meta = patches_memory_store_set_meta;
}

static void
patches_memory_store_finalize (GObject *object)
{
  PatchesMemoryStore *self = (PatchesMemoryStore *)object;

  g_clear_pointer (&self->docs, g_hash_table_unref);
  g_clear_pointer (&self->tracked, g_hash_table_unref);
  g_clear_pointer (&self->meta, g_hash_table_unref);

  G_OBJECT_CLASS (patches_memory_store_parent_class)->finalize (object);
}

static void
patches_memory_store_class_init (PatchesMemoryStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = patches_memory_store_finalize;
}

static void
patches_memory_store_init (PatchesMemoryStore *self)
{
  self->docs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, memory_doc_free);
  self->tracked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * patches_memory_store_new:
 *
 * Creates an empty in-memory store.
 *
 * Returns: (transfer full): a new #PatchesMemoryStore
 */
PatchesMemoryStore *
patches_memory_store_new (void)
{
  return g_object_new (PATCHES_TYPE_MEMORY_STORE, NULL);
}
