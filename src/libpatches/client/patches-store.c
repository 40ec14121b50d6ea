/* patches-store.c
 *
 * The #PatchesStore interface: argument checks shared by every store,
 * the stored-document record and the client id helper.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "patches-store.h"

/* Length of the persisted client id (meta key "client-id"). */
#define CLIENT_ID_LENGTH 16
#define CLIENT_ID_KEY "client-id"

G_DEFINE_QUARK (patches-store-error-quark, patches_store_error)

G_DEFINE_BOXED_TYPE (PatchesStoredDoc, patches_stored_doc,
                     patches_stored_doc_ref, patches_stored_doc_unref)

G_DEFINE_INTERFACE (PatchesStore, patches_store, G_TYPE_OBJECT)

static void
patches_store_default_init (PatchesStoreInterface *iface)
{
}

/**
 * patches_stored_doc_new:
 * @doc_id: the document id
 *
 * Creates an empty record: no state, revision 0, no pending change, not
 * deleted.
 *
 * Returns: (transfer full): a new #PatchesStoredDoc
 */
PatchesStoredDoc *
patches_stored_doc_new (const char *doc_id)
{
  PatchesStoredDoc *self;

  g_return_val_if_fail (doc_id != NULL, NULL);

  self = g_new0 (PatchesStoredDoc, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->doc_id = g_strdup (doc_id);
  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_change_unref);

  return self;
}

/**
 * patches_stored_doc_ref:
 * @self: a #PatchesStoredDoc
 *
 * Returns: (transfer full): @self
 */
PatchesStoredDoc *
patches_stored_doc_ref (PatchesStoredDoc *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * patches_stored_doc_unref:
 * @self: (transfer full): a #PatchesStoredDoc
 *
 * Drops a reference; the record is freed with the last one.
 */
void
patches_stored_doc_unref (PatchesStoredDoc *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_clear_pointer (&self->doc_id, g_free);
  g_clear_pointer (&self->state, patches_value_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_free (self);
}

/* Checks a list of changes before any store sees it: every change has an
 * id and a revision, and revisions strictly ascend.  @what names the list
 * in the error message. */
static gboolean
check_changes (const char  *doc_id,
               GPtrArray   *changes,
               const char  *what,
               GError     **error)
{
  gint64 last_rev = G_MININT64;

  if (changes == NULL)
    return TRUE;

  for (guint i = 0; i < changes->len; i++)
    {
      const PatchesChange *change = g_ptr_array_index (changes, i);

      if (change == NULL || change->id == NULL || change->id[0] == '\0')
        {
          g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                       "Document %s: %s change %u has no id", doc_id, what, i);
          return FALSE;
        }
      if (change->rev < 1)
        {
          g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                       "Document %s: %s change %s has no revision",
                       doc_id, what, change->id);
          return FALSE;
        }
      if (change->rev <= last_rev)
        {
          g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                       "Document %s: %s change %s has revision %" G_GINT64_FORMAT
                       ", not above the previous %" G_GINT64_FORMAT,
                       doc_id, what, change->id, change->rev, last_rev);
          return FALSE;
        }
      last_rev = change->rev;
    }

  return TRUE;
}

static gboolean
check_doc_id (const char  *doc_id,
              GError     **error)
{
  if (doc_id[0] == '\0')
    {
      g_set_error_literal (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                           "Empty document id");
      return FALSE;
    }
  return TRUE;
}

/* The checks for a document id and a new pending queue (may be %NULL) */
static gboolean
check_pending (const char  *doc_id,
               GPtrArray   *pending,
               GError     **error)
{
  return check_doc_id (doc_id, error) &&
         check_changes (doc_id, pending, "pending", error);
}

/* A revision to save: @what names it in the error message */
static gboolean
check_rev (const char  *doc_id,
           gint64       rev,
           const char  *what,
           GError     **error)
{
  if (rev >= 0)
    return TRUE;

  g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
               "Document %s: negative %s revision %" G_GINT64_FORMAT, doc_id, what, rev);
  return FALSE;
}

static gboolean
check_doc_ids (const char  **doc_ids,
               GError      **error)
{
  for (guint i = 0; doc_ids[i] != NULL; i++)
    if (!check_doc_id (doc_ids[i], error))
      return FALSE;
  return TRUE;
}

/**
 * patches_store_load_doc:
 * @self: a #PatchesStore
 * @doc_id: the document id
 * @error: return location for a #GError
 *
 * Reads everything stored about @doc_id: the committed state at the
 * committed revision (the base snapshot with the committed log replayed
 * on top), the pending changes in ascending revision order, and whether
 * only a tombstone remains (then the state is %NULL and nothing is
 * pending).
 *
 * Returns: (transfer full): the record, or %NULL with
 *   %PATCHES_STORE_ERROR_NOT_FOUND when the store does not know @doc_id
 *   (or another error)
 */
PatchesStoredDoc *
patches_store_load_doc (PatchesStore  *self,
                        const char    *doc_id,
                        GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_STORE (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return PATCHES_STORE_GET_IFACE (self)->load_doc (self, doc_id, error);
}

/**
 * patches_store_get_doc_info:
 * @self: a #PatchesStore
 * @doc_id: the document id
 * @committed_rev: (out) (optional): the committed revision (0 for a
 *   tombstone)
 * @n_pending: (out) (optional): how many changes are pending (0 for a
 *   tombstone)
 * @deleted: (out) (optional): whether only a tombstone remains
 * @error: return location for a #GError
 *
 * What patches_store_load_doc() would say about @doc_id, without its
 * state or changes: cheap enough to ask for every tracked document at
 * startup.  Stores that do not implement it fall back on
 * patches_store_load_doc().
 *
 * Returns: %TRUE on success; %FALSE with %PATCHES_STORE_ERROR_NOT_FOUND
 *   when the store does not know @doc_id (or another error)
 */
gboolean
patches_store_get_doc_info (PatchesStore  *self,
                            const char    *doc_id,
                            gint64        *committed_rev,
                            guint         *n_pending,
                            gboolean      *deleted,
                            GError       **error)
{
  PatchesStoreInterface *iface;
  g_autoptr(PatchesStoredDoc) stored = NULL;
  gint64 rev = 0;
  guint n = 0;
  gboolean gone = FALSE;

  g_return_val_if_fail (PATCHES_IS_STORE (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  iface = PATCHES_STORE_GET_IFACE (self);
  if (iface->get_doc_info != NULL)
    {
      if (!iface->get_doc_info (self, doc_id, &rev, &n, &gone, error))
        return FALSE;
    }
  else
    {
      stored = iface->load_doc (self, doc_id, error);
      if (stored == NULL)
        return FALSE;
      gone = stored->deleted;
      if (!gone)
        {
          rev = stored->committed_rev;
          n = stored->pending->len;
        }
    }

  if (committed_rev != NULL)
    *committed_rev = rev;
  if (n_pending != NULL)
    *n_pending = n;
  if (deleted != NULL)
    *deleted = gone;

  return TRUE;
}

/**
 * patches_store_save_committed:
 * @self: a #PatchesStore
 * @doc_id: the document id
 * @changes: (element-type PatchesChange) (nullable): newly committed
 *   changes in ascending revision order; those at or below the stored
 *   committed revision are skipped
 * @state: (nullable): the committed state after @changes, which the
 *   store may keep (by reference) or use to compact its log
 * @rev: the new committed revision; never below the stored one
 * @pending: (element-type PatchesChange) (nullable): the new pending
 *   queue, or %NULL to leave the stored one as it is
 * @error: return location for a #GError
 *
 * Records committed changes (PROTOCOL.md §8.6 step 5) in one atomic step:
 * appends @changes to the committed log, sets the committed revision to
 * @rev and, if @pending is given, replaces the pending queue.  Creates the
 * record when missing; a tombstone is refused with
 * %PATCHES_STORE_ERROR_INVALID (a late answer must not revive a document
 * deleted meanwhile).
 *
 * Returns: %TRUE on success
 */
gboolean
patches_store_save_committed (PatchesStore  *self,
                              const char    *doc_id,
                              GPtrArray     *changes,
                              PatchesValue  *state,
                              gint64         rev,
                              GPtrArray     *pending,
                              GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_STORE (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_doc_id (doc_id, error) ||
      !check_changes (doc_id, changes, "committed", error) ||
      !check_changes (doc_id, pending, "pending", error) ||
      !check_rev (doc_id, rev, "committed", error))
    return FALSE;
  if (changes != NULL && changes->len > 0)
    {
      const PatchesChange *last = g_ptr_array_index (changes, changes->len - 1);

      if (last->rev > rev)
        {
          g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                       "Document %s: committed change %s has revision %" G_GINT64_FORMAT
                       ", above the committed revision %" G_GINT64_FORMAT,
                       doc_id, last->id, last->rev, rev);
          return FALSE;
        }
    }

  return PATCHES_STORE_GET_IFACE (self)->save_committed (self, doc_id, changes, state,
                                                         rev, pending, error);
}

/**
 * patches_store_save_snapshot:
 * @self: a #PatchesStore
 * @doc_id: the document id
 * @state: (nullable): the committed state at @rev
 * @rev: its revision
 * @pending: (element-type PatchesChange) (nullable): the new pending
 *   queue, or %NULL to leave the stored one as it is
 * @error: return location for a #GError
 *
 * Replaces the document's committed base by @state at @rev and drops its
 * committed log (a reload, PROTOCOL.md §8.8).  Creates the record when
 * missing; a tombstone is refused with %PATCHES_STORE_ERROR_INVALID.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_store_save_snapshot (PatchesStore  *self,
                             const char    *doc_id,
                             PatchesValue  *state,
                             gint64         rev,
                             GPtrArray     *pending,
                             GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_STORE (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_pending (doc_id, pending, error) ||
      !check_rev (doc_id, rev, "snapshot", error))
    return FALSE;

  return PATCHES_STORE_GET_IFACE (self)->save_snapshot (self, doc_id, state, rev,
                                                        pending, error);
}

/**
 * patches_store_append_pending:
 * @self: a #PatchesStore
 * @doc_id: the document id
 * @changes: (element-type PatchesChange): new local changes, ascending
 *   by revision
 * @error: return location for a #GError
 *
 * Appends changes to the pending queue, creating the record when
 * missing.  A change without id, or whose revision is not above the last
 * pending one, and a tombstoned document are refused with
 * %PATCHES_STORE_ERROR_INVALID, and nothing is appended.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_store_append_pending (PatchesStore  *self,
                              const char    *doc_id,
                              GPtrArray     *changes,
                              GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_STORE (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);
  g_return_val_if_fail (changes != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_pending (doc_id, changes, error))
    return FALSE;

  return PATCHES_STORE_GET_IFACE (self)->append_pending (self, doc_id, changes, error);
}

/**
 * patches_store_replace_pending:
 * @self: a #PatchesStore
 * @doc_id: the document id
 * @pending: (element-type PatchesChange): the whole new pending queue,
 *   ascending by revision (may be empty)
 * @error: return location for a #GError
 *
 * Replaces the pending queue, creating the record when missing (a
 * tombstone is refused with %PATCHES_STORE_ERROR_INVALID).
 *
 * Returns: %TRUE on success
 */
gboolean
patches_store_replace_pending (PatchesStore  *self,
                               const char    *doc_id,
                               GPtrArray     *pending,
                               GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_STORE (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);
  g_return_val_if_fail (pending != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_pending (doc_id, pending, error))
    return FALSE;

  return PATCHES_STORE_GET_IFACE (self)->replace_pending (self, doc_id, pending, error);
}

/**
 * patches_store_track_docs:
 * @self: a #PatchesStore
 * @doc_ids: (array zero-terminated=1): ids to add to the tracked set
 * @error: return location for a #GError
 *
 * Adds documents to the tracked set (already tracked ones stay).
 *
 * Returns: %TRUE on success
 */
gboolean
patches_store_track_docs (PatchesStore  *self,
                          const char   **doc_ids,
                          GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_STORE (self), FALSE);
  g_return_val_if_fail (doc_ids != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_doc_ids (doc_ids, error))
    return FALSE;

  return PATCHES_STORE_GET_IFACE (self)->track_docs (self, doc_ids, error);
}

/**
 * patches_store_untrack_docs:
 * @self: a #PatchesStore
 * @doc_ids: (array zero-terminated=1): ids to remove from the tracked set
 * @error: return location for a #GError
 *
 * Removes documents from the tracked set and deletes their local data
 * (state, committed log, pending queue).  A tombstone is kept.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_store_untrack_docs (PatchesStore  *self,
                            const char   **doc_ids,
                            GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_STORE (self), FALSE);
  g_return_val_if_fail (doc_ids != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_doc_ids (doc_ids, error))
    return FALSE;

  return PATCHES_STORE_GET_IFACE (self)->untrack_docs (self, doc_ids, error);
}

/**
 * patches_store_list_tracked:
 * @self: a #PatchesStore
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (array zero-terminated=1): the tracked
 *   document ids in ascending byte order, without tombstoned documents;
 *   %NULL on error
 */
char **
patches_store_list_tracked (PatchesStore  *self,
                            GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return PATCHES_STORE_GET_IFACE (self)->list_tracked (self, error);
}

/**
 * patches_store_delete_doc:
 * @self: a #PatchesStore
 * @doc_id: the document id
 * @error: return location for a #GError
 *
 * Replaces everything stored about @doc_id by a tombstone (the document
 * was deleted locally and the server has yet to hear about it) and
 * untracks it.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_store_delete_doc (PatchesStore  *self,
                          const char    *doc_id,
                          GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_STORE (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_doc_id (doc_id, error))
    return FALSE;

  return PATCHES_STORE_GET_IFACE (self)->delete_doc (self, doc_id, error);
}

/**
 * patches_store_purge_doc:
 * @self: a #PatchesStore
 * @doc_id: the document id
 * @error: return location for a #GError
 *
 * Removes every trace of @doc_id, tombstone included.  Purging an
 * unknown document succeeds.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_store_purge_doc (PatchesStore  *self,
                         const char    *doc_id,
                         GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_STORE (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return PATCHES_STORE_GET_IFACE (self)->purge_doc (self, doc_id, error);
}

/**
 * patches_store_list_tombstones:
 * @self: a #PatchesStore
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (array zero-terminated=1): the ids of the
 *   tombstoned documents in ascending byte order; %NULL on error
 */
char **
patches_store_list_tombstones (PatchesStore  *self,
                               GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return PATCHES_STORE_GET_IFACE (self)->list_tombstones (self, error);
}

/**
 * patches_store_get_meta:
 * @self: a #PatchesStore
 * @key: a setting name
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the value stored under @key, or
 *   %NULL when unset (without error) or on error
 */
char *
patches_store_get_meta (PatchesStore  *self,
                        const char    *key,
                        GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_STORE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return PATCHES_STORE_GET_IFACE (self)->get_meta (self, key, error);
}

/**
 * patches_store_set_meta:
 * @self: a #PatchesStore
 * @key: a setting name
 * @value: (nullable): its new value, or %NULL to unset it
 * @error: return location for a #GError
 *
 * Stores a small string setting.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_store_set_meta (PatchesStore  *self,
                        const char    *key,
                        const char    *value,
                        GError       **error)
{
  g_return_val_if_fail (PATCHES_IS_STORE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return PATCHES_STORE_GET_IFACE (self)->set_meta (self, key, value, error);
}

/**
 * patches_store_dup_client_id:
 * @self: a #PatchesStore
 * @error: return location for a #GError
 *
 * Returns the stable id of this client installation (meta key
 * `client-id`), creating and saving a random 16-character base-62 id on
 * the first call.
 *
 * Returns: (transfer full): the client id, or %NULL on error
 */
char *
patches_store_dup_client_id (PatchesStore  *self,
                             GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *client_id = NULL;
  g_autoptr(GString) fresh = NULL;

  g_return_val_if_fail (PATCHES_IS_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  client_id = patches_store_get_meta (self, CLIENT_ID_KEY, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (client_id != NULL && client_id[0] != '\0')
    return g_steal_pointer (&client_id);

  fresh = g_string_sized_new (CLIENT_ID_LENGTH + 12);
  while (fresh->len < CLIENT_ID_LENGTH)
    {
      g_autofree char *part = patches_change_id_new ();

      g_string_append (fresh, part);
    }
  g_string_truncate (fresh, CLIENT_ID_LENGTH);

  if (!patches_store_set_meta (self, CLIENT_ID_KEY, fresh->str, error))
    return NULL;

  return g_string_free (g_steal_pointer (&fresh), FALSE);
}
