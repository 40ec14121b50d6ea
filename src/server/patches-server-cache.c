/* patches-server-cache.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "patches-server-cache.h"
#include "patches-server-store-private.h"

/*
 * Every commit reads the changes committed after its baseRev, and the
 * latest change (for versioning); on a document many clients edit at
 * once, that is the last few dozen changes again and again.  Parsing
 * them from SQLite each time costs far more than the commit itself, so
 * the server runs the commit algorithm over this cache: a
 * #PatchesHistoryFuncs table that answers reads of a document's recent
 * tail from memory and passes everything else to the store.
 *
 * For a document it holds, the cache knows the head revision and the
 * changes of revisions first_rev … head, contiguous, exactly as committed
 * (the #PatchesChange the store returned or the commit saved, and the
 * JSON text once it has been written).  It is filled by reads that reach
 * the head and by saves; a read that needs older changes goes to the
 * store.  Writes go to the store first and enter the cache only when the
 * store took them.  A write the server rolls back afterwards (a failed
 * commit's savepoint, a failed transaction) must be forgotten with
 * patches_server_cache_invalidate() or patches_server_cache_clear(); so
 * must a deletion (the history functions forget it themselves).
 */

typedef struct
{
  char       *doc_id;
  gint64      first_rev;
  gint64      head;
  GPtrArray  *changes;     /* PatchesChange, revs first_rev … head */
  GPtrArray  *json;        /* char *, or NULL until written */
  GList       link;        /* in the LRU, most recent first */
} Tail;

struct _PatchesServerCache
{
  PatchesServerStore        *store;
  const PatchesHistoryFuncs *store_funcs;
  GHashTable                *tails;    /* doc id → Tail */
  GQueue                     lru;
  guint                      n_changes;
};

static void
tail_free (Tail *tail)
{
  g_free (tail->doc_id);
  g_ptr_array_unref (tail->changes);
  g_ptr_array_unref (tail->json);
  g_free (tail);
}

static void
drop_tail (PatchesServerCache *self,
           Tail               *tail)
{
  self->n_changes -= tail->changes->len;
  g_queue_unlink (&self->lru, &tail->link);
  g_hash_table_remove (self->tails, tail->doc_id);
}

/* Keeps the last @keep changes of @tail */
static void
shorten (PatchesServerCache *self,
         Tail               *tail,
         guint               keep)
{
  guint excess;

  if (tail->changes->len <= keep)
    return;

  excess = tail->changes->len - keep;
  g_ptr_array_remove_range (tail->changes, 0, excess);
  g_ptr_array_remove_range (tail->json, 0, excess);
  tail->first_rev += excess;
  self->n_changes -= excess;
}

static void
trim (PatchesServerCache *self,
      Tail               *tail)
{
  GList *l;

  shorten (self, tail, PATCHES_SERVER_CACHE_MAX_PER_DOC);

  /* Over the total: the documents used least recently shrink, then go;
   * never the one in use */
  for (l = self->lru.tail; l != NULL && self->n_changes > PATCHES_SERVER_CACHE_MAX_TOTAL; l = l->prev)
    if (l != &tail->link)
      shorten (self, l->data, PATCHES_SERVER_CACHE_MIN_PER_DOC);

  while (self->n_changes > PATCHES_SERVER_CACHE_MAX_TOTAL && self->lru.tail != &tail->link)
    drop_tail (self, self->lru.tail->data);

  if (self->n_changes > PATCHES_SERVER_CACHE_MAX_TOTAL)
    shorten (self, tail, PATCHES_SERVER_CACHE_MAX_TOTAL);
}

static Tail *
lookup (PatchesServerCache *self,
        const char         *doc_id)
{
  Tail *tail = g_hash_table_lookup (self->tails, doc_id);

  if (tail != NULL && self->lru.head != &tail->link)
    {
      g_queue_unlink (&self->lru, &tail->link);
      g_queue_push_head_link (&self->lru, &tail->link);
    }

  return tail;
}

/* A tail that holds nothing yet, at @head */
static Tail *
tail_new (PatchesServerCache *self,
          const char         *doc_id,
          gint64              head)
{
  Tail *tail = g_new0 (Tail, 1);

  tail->doc_id = g_strdup (doc_id);
  tail->head = head;
  tail->first_rev = head + 1;
  tail->changes = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_change_unref);
  tail->json = g_ptr_array_new_with_free_func (g_free);
  tail->link.data = tail;

  g_hash_table_replace (self->tails, tail->doc_id, tail);
  g_queue_push_head_link (&self->lru, &tail->link);

  return tail;
}

/* The history functions */

static gboolean
cache_get_current_rev (gpointer     data,
                       const char  *doc_id,
                       gint64      *rev,
                       GError     **error)
{
  PatchesServerCache *self = data;
  Tail *tail = lookup (self, doc_id);

  if (tail != NULL)
    {
      *rev = tail->head;
      return TRUE;
    }

  if (!self->store_funcs->get_current_rev (self->store, doc_id, rev, error))
    return FALSE;

  tail_new (self, doc_id, *rev);
  return TRUE;
}

static GPtrArray *
cache_list_changes (gpointer     data,
                    const char  *doc_id,
                    gint64       start_after,
                    gint64       end_before,
                    guint        limit,
                    gboolean     reverse,
                    GError     **error)
{
  PatchesServerCache *self = data;
  Tail *tail = lookup (self, doc_id);
  GPtrArray *changes;
  gint64 lo, hi;

  if (tail != NULL)
    {
      /* The revisions asked for */
      lo = MAX (start_after + 1, 1);
      hi = end_before >= 0 ? MIN (end_before - 1, tail->head) : tail->head;
      if (limit > 0 && hi >= lo && hi - lo + 1 > (gint64) limit)
        {
          if (reverse)
            lo = hi - limit + 1;
          else
            hi = lo + limit - 1;
        }

      if (hi < lo || lo >= tail->first_rev)
        {
          changes = patches_changes_new ();
          for (gint64 r = lo; r <= hi; r++)
            {
              gint64 k = reverse ? hi - (r - lo) : r;

              g_ptr_array_add (changes, patches_change_ref (g_ptr_array_index (tail->changes, k - tail->first_rev)));
            }
          return changes;
        }
    }

  changes = self->store_funcs->list_changes (self->store, doc_id, start_after, end_before,
                                             limit, reverse, error);

  /* Everything from some revision to the head: the tail can start there */
  if (changes != NULL && tail != NULL && !reverse && limit == 0 && end_before < 0 &&
      changes->len > 0 &&
      ((PatchesChange *) g_ptr_array_index (changes, changes->len - 1))->rev == tail->head &&
      ((PatchesChange *) g_ptr_array_index (changes, 0))->rev < tail->first_rev &&
      ((PatchesChange *) g_ptr_array_index (changes, 0))->rev == tail->head - changes->len + 1)
    {
      self->n_changes -= tail->changes->len;
      g_ptr_array_set_size (tail->changes, 0);
      g_ptr_array_set_size (tail->json, 0);
      for (guint i = 0; i < changes->len; i++)
        {
          g_ptr_array_add (tail->changes, patches_change_ref (g_ptr_array_index (changes, i)));
          g_ptr_array_add (tail->json, NULL);
        }
      tail->first_rev = tail->head - changes->len + 1;
      self->n_changes += changes->len;
      trim (self, tail);
    }

  return changes;
}

static int
compare_by_rev (gconstpointer a,
                gconstpointer b)
{
  const PatchesChange *ca = *(PatchesChange **) a;
  const PatchesChange *cb = *(PatchesChange **) b;

  return ca->rev < cb->rev ? -1 : ca->rev > cb->rev;
}

static gboolean
cache_save_changes (gpointer     data,
                    const char  *doc_id,
                    GPtrArray   *changes,
                    GError     **error)
{
  PatchesServerCache *self = data;
  g_autoptr(GPtrArray) sorted = NULL;
  g_autoptr(GPtrArray) jsons = NULL;
  Tail *tail;

  if (changes->len == 0 || (tail = lookup (self, doc_id)) == NULL)
    return self->store_funcs->save_changes (self->store, doc_id, changes, error);

  /* Borrowed pointers (g_ptr_array_copy() would copy the free function) */
  sorted = g_ptr_array_sized_new (changes->len);
  for (guint i = 0; i < changes->len; i++)
    g_ptr_array_add (sorted, g_ptr_array_index (changes, i));
  g_ptr_array_sort (sorted, compare_by_rev);

  /* Written once, for the database and for every answer and
   * notification that carries the changes */
  jsons = g_ptr_array_new_full (sorted->len, g_free);
  for (guint i = 0; i < sorted->len; i++)
    {
      GString *out = g_string_sized_new (256);

      patches_change_write_json (g_ptr_array_index (sorted, i), out);
      g_ptr_array_add (jsons, g_string_free (out, FALSE));
    }

  if (!patches_server_store_save_sorted_changes (self->store, doc_id, sorted, jsons, error))
    return FALSE;

  for (guint i = 0; i < sorted->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (sorted, i);

      if (change->rev != tail->head + 1)
        {
          /* Not what the store holds now: forget the document */
          drop_tail (self, tail);
          return TRUE;
        }

      g_ptr_array_add (tail->changes, patches_change_ref (change));
      g_ptr_array_add (tail->json, g_steal_pointer (&jsons->pdata[i]));
      tail->head++;
      self->n_changes++;
    }

  trim (self, tail);
  return TRUE;
}

static PatchesValue *
cache_find_version (gpointer     data,
                    const char  *doc_id,
                    const char  *origin,
                    gint64       max_end_rev,
                    GError     **error)
{
  PatchesServerCache *self = data;

  return self->store_funcs->find_version (self->store, doc_id, origin, max_end_rev, error);
}

static gboolean
cache_create_version (gpointer       data,
                      const char    *doc_id,
                      PatchesValue  *metadata,
                      GPtrArray     *changes,
                      GError       **error)
{
  PatchesServerCache *self = data;

  return self->store_funcs->create_version (self->store, doc_id, metadata, changes, error);
}

static PatchesValue *
cache_load_version_state (gpointer     data,
                          const char  *doc_id,
                          const char  *version_id,
                          GError     **error)
{
  PatchesServerCache *self = data;

  return self->store_funcs->load_version_state (self->store, doc_id, version_id, error);
}

static gboolean
cache_delete_doc (gpointer     data,
                  const char  *doc_id,
                  GError     **error)
{
  PatchesServerCache *self = data;

  patches_server_cache_invalidate (self, doc_id);
  return self->store_funcs->delete_doc (self->store, doc_id, error);
}

static gboolean
cache_create_tombstone (gpointer       data,
                        const char    *doc_id,
                        PatchesValue  *tombstone,
                        GError       **error)
{
  PatchesServerCache *self = data;

  return self->store_funcs->create_tombstone (self->store, doc_id, tombstone, error);
}

static gboolean
cache_remove_tombstone (gpointer     data,
                        const char  *doc_id,
                        gboolean    *removed,
                        GError     **error)
{
  PatchesServerCache *self = data;

  return self->store_funcs->remove_tombstone (self->store, doc_id, removed, error);
}

static const PatchesHistoryFuncs cache_funcs = {
  .get_current_rev = cache_get_current_rev,
  .list_changes = cache_list_changes,
  .save_changes = cache_save_changes,
  .find_version = cache_find_version,
  .create_version = cache_create_version,
  .load_version_state = cache_load_version_state,
  .delete_doc = cache_delete_doc,
  .create_tombstone = cache_create_tombstone,
  .remove_tombstone = cache_remove_tombstone,
};

/* Public API */

/**
 * patches_server_cache_new:
 * @store: the store behind the cache
 *
 * Returns: (transfer full): an empty cache
 */
PatchesServerCache *
patches_server_cache_new (PatchesServerStore *store)
{
  PatchesServerCache *self = g_new0 (PatchesServerCache, 1);

  self->store = g_object_ref (store);
  self->store_funcs = patches_server_store_get_history_funcs ();
  self->tails = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) tail_free);
  g_queue_init (&self->lru);

  return self;
}

/**
 * patches_server_cache_free:
 * @self: (transfer full): a cache
 */
void
patches_server_cache_free (PatchesServerCache *self)
{
  if (self == NULL)
    return;

  g_hash_table_unref (self->tails);
  g_object_unref (self->store);
  g_free (self);
}

/**
 * patches_server_cache_get_funcs:
 *
 * The history functions to run the commit algorithm with, over the cache
 * as their `store`.
 *
 * Returns: (transfer none): the table
 */
const PatchesHistoryFuncs *
patches_server_cache_get_funcs (void)
{
  return &cache_funcs;
}

/**
 * patches_server_cache_invalidate:
 * @self: a cache
 * @doc_id: a document
 *
 * Forgets @doc_id, after writes to it were rolled back.
 */
void
patches_server_cache_invalidate (PatchesServerCache *self,
                                 const char         *doc_id)
{
  Tail *tail = g_hash_table_lookup (self->tails, doc_id);

  if (tail != NULL)
    drop_tail (self, tail);
}

/**
 * patches_server_cache_clear:
 * @self: a cache
 *
 * Forgets everything, after a transaction failed.
 */
void
patches_server_cache_clear (PatchesServerCache *self)
{
  g_queue_init (&self->lru);
  g_hash_table_remove_all (self->tails);
  self->n_changes = 0;
}

/**
 * patches_server_cache_get_json:
 * @self: a cache
 * @doc_id: a document
 * @change: a change of it, as the cache returned or saved it
 * @length: (out): the length of the text
 *
 * The change's JSON, written once and kept while the change is cached.
 *
 * Returns: (nullable): the text, or %NULL when @change is not cached
 */
const char *
patches_server_cache_get_json (PatchesServerCache *self,
                               const char         *doc_id,
                               PatchesChange      *change,
                               gsize              *length)
{
  Tail *tail = g_hash_table_lookup (self->tails, doc_id);
  guint index;
  char *json;

  if (tail == NULL || change->rev < tail->first_rev || change->rev > tail->head)
    return NULL;

  index = change->rev - tail->first_rev;
  if (g_ptr_array_index (tail->changes, index) != change)
    return NULL;

  if ((json = g_ptr_array_index (tail->json, index)) == NULL)
    {
      GString *out = g_string_sized_new (256);

      patches_change_write_json (change, out);
      json = g_string_free (out, FALSE);
      tail->json->pdata[index] = json;
    }

  *length = strlen (json);
  return json;
}

/**
 * patches_server_cache_get_n_changes:
 * @self: a cache
 *
 * Returns: how many changes the cache holds
 */
guint
patches_server_cache_get_n_changes (PatchesServerCache *self)
{
  return self->n_changes;
}
