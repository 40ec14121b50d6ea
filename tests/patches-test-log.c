/* patches-test-log.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "patches-test-log.h"

/**
 * patches_test_log_head:
 * @log: (element-type PatchesChange): the log
 *
 * Returns: the last change's revision, 0 for an empty log
 */
gint64
patches_test_log_head (GPtrArray *log)
{
  return log->len > 0 ? ((PatchesChange *) g_ptr_array_index (log, log->len - 1))->rev : 0;
}

/**
 * patches_test_log_range:
 * @log: (element-type PatchesChange): the log
 * @start_after: only revisions above this one (-1: no bound)
 * @end_before: only revisions below this one (-1: no bound)
 * @limit: at most this many (0: all)
 * @reverse: newest first
 *
 * Returns: (transfer full) (element-type PatchesChange): the changes
 */
GPtrArray *
patches_test_log_range (GPtrArray *log,
                        gint64     start_after,
                        gint64     end_before,
                        guint      limit,
                        gboolean   reverse)
{
  GPtrArray *out = patches_changes_new ();
  guint n = log->len;

  for (guint k = 0; k < n; k++)
    {
      PatchesChange *change = g_ptr_array_index (log, reverse ? n - 1 - k : k);

      if ((start_after >= 0 && change->rev <= start_after) ||
          (end_before >= 0 && change->rev >= end_before))
        continue;
      g_ptr_array_add (out, patches_change_ref (change));
      if (limit > 0 && out->len >= limit)
        break;
    }

  return out;
}

/**
 * patches_test_log_check_ids:
 * @log: (element-type PatchesChange): the log
 * @doc_id: the document, for the error
 * @changes: (element-type PatchesChange): changes about to be saved
 * @error: return location for a #GError
 *
 * Returns: %FALSE, with the duplicate-ids error of
 *   patches_commit_set_duplicate_ids_error() naming them, when some of
 *   @changes have an id already in @log
 */
gboolean
patches_test_log_check_ids (GPtrArray   *log,
                            const char  *doc_id,
                            GPtrArray   *changes,
                            GError     **error)
{
  g_autoptr(GPtrArray) dups = g_ptr_array_new ();
  g_autoptr(GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint j = 0; j < log->len; j++)
    {
      const char *id = ((PatchesChange *) g_ptr_array_index (log, j))->id;

      if (id != NULL)
        g_hash_table_add (ids, (gpointer) id);
    }

  for (guint i = 0; i < changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (changes, i);

      if (change->id != NULL && g_hash_table_contains (ids, change->id))
        g_ptr_array_add (dups, change->id);
    }
  if (dups->len == 0)
    return TRUE;

  g_ptr_array_add (dups, NULL);
  patches_commit_set_duplicate_ids_error (error, doc_id, (const char * const *) dups->pdata);
  return FALSE;
}

/**
 * patches_test_log_append:
 * @log: (element-type PatchesChange): the log
 * @doc_id: the document, for the error
 * @changes: (element-type PatchesChange): what to append
 * @error: return location for a #GError
 *
 * Appends @changes, or nothing: a change id already in @log fails with
 * the duplicate-ids error of patches_commit_set_duplicate_ids_error(), a
 * revision other than the next with %PATCHES_COMMIT_ERROR_REV_CONFLICT.
 *
 * Returns: %TRUE when appended
 */
gboolean
patches_test_log_append (GPtrArray   *log,
                         const char  *doc_id,
                         GPtrArray   *changes,
                         GError     **error)
{
  gint64 head = patches_test_log_head (log);

  if (!patches_test_log_check_ids (log, doc_id, changes, error))
    return FALSE;

  for (guint i = 0; i < changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (changes, i);

      if (change->rev != head + 1 + i)
        {
          g_set_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_REV_CONFLICT,
                       "Revision %" G_GINT64_FORMAT " does not follow the head %"
                       G_GINT64_FORMAT, change->rev, head + i);
          return FALSE;
        }
    }

  for (guint i = 0; i < changes->len; i++)
    g_ptr_array_add (log, patches_change_ref (g_ptr_array_index (changes, i)));
  return TRUE;
}

static gboolean
log_get_current_rev (gpointer     data,
                     const char  *doc_id,
                     gint64      *rev,
                     GError     **error)
{
  *rev = patches_test_log_head (data);
  return TRUE;
}

static GPtrArray *
log_list_changes (gpointer     data,
                  const char  *doc_id,
                  gint64       start_after,
                  gint64       end_before,
                  guint        limit,
                  gboolean     reverse,
                  GError     **error)
{
  return patches_test_log_range (data, start_after, end_before, limit, reverse);
}

static gboolean
log_save_changes (gpointer     data,
                  const char  *doc_id,
                  GPtrArray   *changes,
                  GError     **error)
{
  return patches_test_log_append (data, doc_id, changes, error);
}

const PatchesHistoryFuncs patches_test_log_funcs = {
  .get_current_rev = log_get_current_rev,
  .list_changes = log_list_changes,
  .save_changes = log_save_changes,
};
