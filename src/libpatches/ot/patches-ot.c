/* patches-ot.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-error.h"
#include "patches-ot.h"
#include "patches-patch-private.h"

/* Revisions print as JavaScript prints them; an absent one is undefined. */
static char *
rev_to_string (gint64 rev)
{
  if (rev < 0)
    return g_strdup ("undefined");
  return g_strdup_printf ("%" G_GINT64_FORMAT, rev);
}

static gboolean
apply_one (PatchesValue        **doc,
           const PatchesChange  *change,
           guint                 index,
           PatchesApplyFlags     flags,
           GError              **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *rev = NULL;

  if (patches_ops_apply (change->ops, doc, flags, NULL, NULL, &local_error))
    return TRUE;

  rev = rev_to_string (change->rev);
  g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_APPLY_CHANGES,
               "Failed to apply change %s (rev %s, index %u of batch): %s",
               change->id ? change->id : "undefined", rev, index,
               local_error ? local_error->message : "unknown error");
  return FALSE;
}

/**
 * patches_changes_apply:
 * @state: (inout) (transfer full) (nullable): the document; %NULL for no
 *   document
 * @changes: (element-type PatchesChange): the changes, in order
 * @error: return location for a #GError
 *
 * Applies each change's ops in order, strictly (OPERATIONS.md §11.2).  A
 * change that fails is never skipped: the call fails with
 * %PATCHES_ERROR_APPLY_CHANGES, message `Failed to apply change <id> (rev
 * <rev>, index <i> of batch): <cause>`, and *@state is left as it was.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_changes_apply (PatchesValue **state,
                       GPtrArray     *changes,
                       GError       **error)
{
  PatchesValue *doc;

  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (changes != NULL, FALSE);

  if (changes->len == 0)
    return TRUE;

  /* Our own reference keeps the caller's document shared, so the ops
   * copy on write and *state survives a failure untouched. */
  doc = *state ? patches_value_ref (*state) : NULL;
  for (guint i = 0; i < changes->len; i++)
    if (!apply_one (&doc, g_ptr_array_index (changes, i), i, PATCHES_APPLY_STRICT, error))
      {
        g_clear_pointer (&doc, patches_value_unref);
        return FALSE;
      }

  g_clear_pointer (state, patches_value_unref);
  *state = doc;
  return TRUE;
}

/**
 * patches_changes_apply_for_reconstruction:
 * @state: (inout) (transfer full) (nullable): the document
 * @changes: (element-type PatchesChange): settled committed changes
 * @legacy_text_overrun_padding: replay `@txt` retains past the end as the
 *   old log was written (padding with spaces)
 * @skipped_func: (scope call) (nullable): called for each skipped change
 * @user_data: data for @skipped_func
 *
 * Replays history the way versions are rebuilt: like
 * patches_changes_apply(), but a change that fails is skipped as a whole
 * (none of its ops apply), reported, and the replay continues.  Never use
 * it for live state.
 *
 * Returns: the number of changes skipped
 */
guint
patches_changes_apply_for_reconstruction (PatchesValue           **state,
                                          GPtrArray               *changes,
                                          gboolean                 legacy_text_overrun_padding,
                                          PatchesSkippedChangeFunc skipped_func,
                                          gpointer                 user_data)
{
  PatchesApplyFlags flags = PATCHES_APPLY_STRICT;
  guint skipped = 0;

  g_return_val_if_fail (state != NULL, 0);
  g_return_val_if_fail (changes != NULL, 0);

  if (legacy_text_overrun_padding)
    flags |= PATCHES_APPLY_LEGACY_TEXT_PADDING;

  for (guint i = 0; i < changes->len; i++)
    {
      const PatchesChange *change = g_ptr_array_index (changes, i);
      g_autoptr(GError) local_error = NULL;

      if (apply_one (state, change, i, flags, &local_error))
        continue;

      skipped++;
      if (skipped_func != NULL)
        skipped_func (change, i, local_error, user_data);
      else
        g_debug ("Skipping invalid committed change: %s", local_error->message);
    }

  return skipped;
}

/* The OT diamond walk (OPERATIONS.md §11.3, PROTOCOL.md §7.3) */

typedef struct {
  PatchesChange *change;   /* borrowed */
  GPtrArray     *ops;      /* owned */
} Entry;

static void
entry_clear (gpointer data)
{
  Entry *entry = data;

  g_clear_pointer (&entry->ops, g_ptr_array_unref);
}

/* Walks @committed through the queue made of @queue_changes.  Returns the
 * surviving entries (GArray of Entry).  When @advanced is not NULL, a copy
 * of every foreign committed change carrying its ops advanced past the
 * whole queue is appended to it. */
static GArray *
diamond_walk (GPtrArray       *committed,
              GPtrArray       *queue_changes,
              PatchesEchoFunc  is_echo,
              gpointer         user_data,
              GPtrArray       *advanced)
{
  GArray *queue = g_array_sized_new (FALSE, FALSE, sizeof (Entry), queue_changes->len);

  g_array_set_clear_func (queue, entry_clear);

  for (guint i = 0; i < queue_changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (queue_changes, i);
      Entry entry = { change, g_ptr_array_ref (change->ops) };

      g_array_append_val (queue, entry);
    }

  for (guint c = 0; c < committed->len; c++)
    {
      PatchesChange *server = g_ptr_array_index (committed, c);
      g_autoptr(GPtrArray) f = NULL;

      if (is_echo (server, user_data))
        {
          for (guint i = 0; i < queue->len; i++)
            if (g_strcmp0 (g_array_index (queue, Entry, i).change->id, server->id) == 0)
              {
                g_array_remove_index (queue, i);
                break;
              }
          continue;
        }

      f = g_ptr_array_ref (server->ops);
      for (guint i = 0; i < queue->len; i++)
        {
          Entry *entry = &g_array_index (queue, Entry, i);
          GPtrArray *new_ops = patches_ops_transform (f, entry->ops, FALSE);
          GPtrArray *advanced_ops = patches_ops_transform (entry->ops, f, TRUE);

          g_ptr_array_unref (f);
          f = advanced_ops;
          g_ptr_array_unref (entry->ops);
          entry->ops = new_ops;
        }

      if (advanced != NULL)
        {
          PatchesChange *copy = patches_change_copy (server);

          g_ptr_array_unref (copy->ops);
          copy->ops = g_steal_pointer (&f);
          g_ptr_array_add (advanced, copy);
        }
    }

  return queue;
}

static PatchesChange *
derive (const PatchesChange *change,
        gint64               base_rev,
        gint64               rev,
        GPtrArray           *ops)
{
  PatchesChange *copy = patches_change_copy (change);

  copy->base_rev = base_rev;
  copy->rev = rev;
  g_ptr_array_unref (copy->ops);
  copy->ops = g_ptr_array_ref (ops);

  return copy;
}

static GPtrArray *
changes_copy_container (GPtrArray *changes)
{
  GPtrArray *copy = patches_changes_new ();

  for (guint i = 0; i < changes->len; i++)
    g_ptr_array_add (copy, patches_change_ref (g_ptr_array_index (changes, i)));

  return copy;
}

static gboolean
is_pending_id (const PatchesChange *committed,
               gpointer             user_data)
{
  GHashTable *ids = user_data;

  return committed->id != NULL && g_hash_table_contains (ids, committed->id);
}

/**
 * patches_rebase_changes:
 * @committed: (element-type PatchesChange): committed changes, in order
 * @pending: (element-type PatchesChange): the client's pending changes, a
 *   sequential program
 *
 * Rebases pending changes over committed ones (OPERATIONS.md §11.3): the
 * diamond walk, where a committed change with the id of a pending change
 * is the client's own echo (dropped at its position).  Survivors get
 * `baseRev` = the last committed change's rev and consecutive revs after
 * it; a change whose ops all transform away is dropped without using a
 * rev.  When either list is empty, @pending is returned unchanged.
 *
 * Returns: (transfer full) (element-type PatchesChange): the rebased
 *   pending changes (a new array; unchanged changes are shared)
 */
GPtrArray *
patches_rebase_changes (GPtrArray *committed,
                        GPtrArray *pending)
{
  g_autoptr(GHashTable) ids = NULL;
  g_autoptr(GArray) queue = NULL;
  GPtrArray *result;
  gint64 base_rev, rev;

  g_return_val_if_fail (committed != NULL, NULL);
  g_return_val_if_fail (pending != NULL, NULL);

  if (committed->len == 0 || pending->len == 0)
    return changes_copy_container (pending);

  ids = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < pending->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (pending, i);

      if (change->id != NULL)
        g_hash_table_add (ids, change->id);
    }

  queue = diamond_walk (committed, pending, is_pending_id, ids, NULL);

  base_rev = ((PatchesChange *) g_ptr_array_index (committed, committed->len - 1))->rev;
  rev = base_rev;
  result = patches_changes_new ();
  for (guint i = 0; i < queue->len; i++)
    {
      Entry *entry = &g_array_index (queue, Entry, i);

      if (entry->ops->len == 0)
        continue;
      g_ptr_array_add (result, derive (entry->change, base_rev, ++rev, entry->ops));
    }

  return result;
}

static gboolean
never_echo (const PatchesChange *committed,
            gpointer             user_data)
{
  return FALSE;
}

/**
 * patches_transform_incoming_changes:
 * @committed: (element-type PatchesChange): the changes committed since
 *   the incoming batch's baseRev, in rev order
 * @incoming: (element-type PatchesChange): the batch being committed, a
 *   sequential program
 * @current_rev: the head revision
 * @force_commit: keep changes whose ops transform away (committed with
 *   `ops: []`)
 * @is_echo: (scope call) (nullable): recognises the sender's own changes
 *   among @committed; %NULL treats every committed change as foreign
 * @user_data: data for @is_echo
 * @advanced: (out) (optional) (transfer full) (element-type PatchesChange):
 *   for each foreign committed change, a copy whose ops are advanced past
 *   the whole queue (used by branch merges)
 *
 * The server's mirror of patches_rebase_changes() (OPERATIONS.md §11.4,
 * PROTOCOL.md §7.3): the same walk, but surviving changes keep the
 * `baseRev` they were sent with and get revs @current_rev + 1, + 2, ….
 *
 * Returns: (transfer full) (element-type PatchesChange): the changes to
 *   commit
 */
GPtrArray *
patches_transform_incoming_changes (GPtrArray       *committed,
                                    GPtrArray       *incoming,
                                    gint64           current_rev,
                                    gboolean         force_commit,
                                    PatchesEchoFunc  is_echo,
                                    gpointer         user_data,
                                    GPtrArray      **advanced)
{
  g_autoptr(GArray) queue = NULL;
  g_autoptr(GPtrArray) advanced_changes = NULL;
  GPtrArray *result;
  gint64 rev = current_rev;

  g_return_val_if_fail (committed != NULL, NULL);
  g_return_val_if_fail (incoming != NULL, NULL);

  if (advanced != NULL)
    advanced_changes = patches_changes_new ();

  queue = diamond_walk (committed, incoming,
                        is_echo ? is_echo : never_echo, user_data,
                        advanced_changes);

  result = patches_changes_new ();
  for (guint i = 0; i < queue->len; i++)
    {
      Entry *entry = &g_array_index (queue, Entry, i);

      if (entry->ops->len == 0 && !force_commit)
        continue;
      g_ptr_array_add (result, derive (entry->change, entry->change->base_rev, ++rev, entry->ops));
    }

  if (advanced != NULL)
    *advanced = g_steal_pointer (&advanced_changes);

  return result;
}

/* Client helpers (OPERATIONS.md §11.5) */

static gboolean
is_root_replace_catchup (const PatchesChange *change)
{
  const PatchesOp *op;

  if (change->ops->len != 1)
    return FALSE;
  op = g_ptr_array_index (change->ops, 0);
  return g_strcmp0 (op->name, "replace") == 0 && g_strcmp0 (op->path, "") == 0;
}

static void
set_missing_error (GError **error,
                   gint64   expected,
                   gint64   got,
                   gint64   since)
{
  g_autofree char *got_str = rev_to_string (got);

  g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_MISSING_CHANGES,
               "Missing changes from the server. Expected rev %" G_GINT64_FORMAT
               ", got %s. Request changes since %" G_GINT64_FORMAT ".",
               expected, got_str, since);
}

/**
 * patches_apply_committed_changes:
 * @state: (inout) (transfer full) (nullable): the committed document
 * @rev: (inout): the committed revision
 * @pending: (inout) (transfer full) (element-type PatchesChange): the
 *   pending queue; replaced by a new array on success
 * @committed: (element-type PatchesChange): committed changes from the
 *   server, ascending by rev
 * @live: also reject a gap between two new changes, as the live client
 *   path does (PROTOCOL.md §8.6 step 2)
 * @error: return location for a #GError
 *
 * The reference's `applyCommittedChanges` (OPERATIONS.md §11.5): changes
 * at or below *@rev are stale (they only confirm pending changes with the
 * same ids, which are removed); the new ones must start at *@rev + 1
 * unless the first is a whole-document `replace ""`; they are applied
 * strictly, *@rev becomes the last one's rev and the pending queue is
 * rebased over them.
 *
 * On failure (%PATCHES_ERROR_MISSING_CHANGES or
 * %PATCHES_ERROR_APPLY_CHANGES) nothing is changed.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_apply_committed_changes (PatchesValue **state,
                                 gint64        *rev,
                                 GPtrArray    **pending,
                                 GPtrArray     *committed,
                                 gboolean       live,
                                 GError       **error)
{
  g_autoptr(GPtrArray) fresh = NULL;
  g_autoptr(GPtrArray) stale = NULL;
  g_autoptr(GPtrArray) kept = NULL;
  PatchesValue *doc = NULL;
  PatchesChange *first;

  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (rev != NULL, FALSE);
  g_return_val_if_fail (pending != NULL && *pending != NULL, FALSE);
  g_return_val_if_fail (committed != NULL, FALSE);

  fresh = patches_changes_new ();
  stale = patches_changes_new ();
  for (guint i = 0; i < committed->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (committed, i);

      g_ptr_array_add (change->rev > *rev ? fresh : stale, patches_change_ref (change));
    }

  /* A redelivered echo of our own change confirms the pending copy. */
  kept = patches_changes_new ();
  for (guint i = 0; i < (*pending)->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (*pending, i);
      gboolean confirmed = FALSE;

      for (guint j = 0; j < stale->len && !confirmed; j++)
        confirmed = g_strcmp0 (((PatchesChange *) g_ptr_array_index (stale, j))->id, change->id) == 0;
      if (!confirmed)
        g_ptr_array_add (kept, patches_change_ref (change));
    }

  if (fresh->len == 0)
    {
      g_ptr_array_unref (*pending);
      *pending = g_steal_pointer (&kept);
      return TRUE;
    }

  first = g_ptr_array_index (fresh, 0);
  if (first->rev != *rev + 1 && !is_root_replace_catchup (first))
    {
      set_missing_error (error, *rev + 1, first->rev, *rev);
      return FALSE;
    }

  if (live)
    for (guint i = 1; i < fresh->len; i++)
      {
        gint64 prev = ((PatchesChange *) g_ptr_array_index (fresh, i - 1))->rev;
        gint64 cur = ((PatchesChange *) g_ptr_array_index (fresh, i))->rev;

        if (cur != prev + 1)
          {
            set_missing_error (error, prev + 1, cur, *rev);
            return FALSE;
          }
      }

  doc = *state ? patches_value_ref (*state) : NULL;
  if (!patches_changes_apply (&doc, fresh, error))
    {
      g_clear_pointer (&doc, patches_value_unref);
      return FALSE;
    }

  g_clear_pointer (state, patches_value_unref);
  *state = doc;
  *rev = ((PatchesChange *) g_ptr_array_index (fresh, fresh->len - 1))->rev;
  g_ptr_array_unref (*pending);
  *pending = patches_rebase_changes (fresh, kept);

  return TRUE;
}

/**
 * patches_apply_pending_for_view:
 * @state: (inout) (transfer full) (nullable): the committed document in,
 *   the document the user sees out
 * @committed_rev: the committed revision
 * @pending: (element-type PatchesChange): the pending queue
 * @error: return location for a #GError
 *
 * Applies the pending changes to the committed state strictly (what the
 * user sees, OPERATIONS.md §11.5).  If that fails, retries with only the
 * changes whose `baseRev` is at least @committed_rev; if none was left
 * out, the first error stands.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_apply_pending_for_view (PatchesValue **state,
                                gint64         committed_rev,
                                GPtrArray     *pending,
                                GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) current = NULL;

  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (pending != NULL, FALSE);

  if (patches_changes_apply (state, pending, &local_error))
    return TRUE;

  current = patches_changes_new ();
  for (guint i = 0; i < pending->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (pending, i);

      if (change->base_rev >= 0 && change->base_rev >= committed_rev)
        g_ptr_array_add (current, patches_change_ref (change));
    }

  if (current->len == pending->len)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  return patches_changes_apply (state, current, error);
}

/**
 * patches_compute_pending_ejection:
 * @committed_state: (nullable): the committed document
 * @committed_rev: the committed revision
 * @pending: (element-type PatchesChange): the pending queue
 * @change_id: id of the change to eject
 * @poison: (out) (transfer full) (nullable): the ejected change, %NULL when
 *   @change_id is not pending
 * @new_pending: (out) (transfer full) (nullable) (element-type PatchesChange):
 *   the queue without it, renumbered; %NULL when @change_id is not pending
 * @error: return location for a #GError
 *
 * Removes one change from the pending queue as though it had never been
 * made (OPERATIONS.md §11.6): its inverse, computed against the state it
 * applied to, is rebased through the changes after it that share its
 * `baseRev`, and the queue is renumbered from @committed_rev.
 *
 * Fails with %PATCHES_ERROR_APPLY_CHANGES when the changes before it do not
 * apply, and %PATCHES_ERROR_CANNOT_INVERT when it does not apply to its own
 * frame or cannot be inverted.
 *
 * Returns: %TRUE on success (also when @change_id is not pending)
 */
gboolean
patches_compute_pending_ejection (PatchesValue   *committed_state,
                                  gint64          committed_rev,
                                  GPtrArray      *pending,
                                  const char     *change_id,
                                  PatchesChange **poison,
                                  GPtrArray     **new_pending,
                                  GError        **error)
{
  g_autoptr(GPtrArray) rebased = NULL;
  g_autoptr(GPtrArray) result = NULL;
  PatchesChange *bad = NULL;
  gint64 r = committed_rev;
  guint index = 0, j = 0;

  g_return_val_if_fail (pending != NULL, FALSE);
  g_return_val_if_fail (change_id != NULL, FALSE);
  g_return_val_if_fail (poison != NULL, FALSE);
  g_return_val_if_fail (new_pending != NULL, FALSE);

  *poison = NULL;
  *new_pending = NULL;

  for (index = 0; index < pending->len; index++)
    if (g_strcmp0 (((PatchesChange *) g_ptr_array_index (pending, index))->id, change_id) == 0)
      {
        bad = g_ptr_array_index (pending, index);
        break;
      }

  if (bad == NULL)
    return TRUE;

  rebased = patches_changes_new ();
  if (index + 1 < pending->len)
    {
      g_autoptr(PatchesValue) pre = committed_state ? patches_value_ref (committed_state) : NULL;
      g_autoptr(PatchesValue) probe = NULL;
      g_autoptr(GPtrArray) before = patches_changes_new ();
      g_autoptr(GPtrArray) same_base = patches_changes_new ();
      g_autoptr(GPtrArray) carriers = patches_changes_new ();
      g_autoptr(GPtrArray) inverse = NULL;
      g_autoptr(GError) local_error = NULL;

      for (guint i = 0; i < index; i++)
        g_ptr_array_add (before, patches_change_ref (g_ptr_array_index (pending, i)));
      if (!patches_changes_apply (&pre, before, error))
        return FALSE;

      probe = pre ? patches_value_ref (pre) : NULL;
      if (!patches_ops_apply (bad->ops, &probe, PATCHES_APPLY_STRICT, NULL, NULL, NULL))
        {
          g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_CANNOT_INVERT,
                       "Cannot eject change %s: it does not apply cleanly to its own frame, "
                       "so its inverse cannot be trusted", bad->id);
          return FALSE;
        }

      inverse = patches_ops_invert (bad->ops, pre, &local_error);
      if (inverse == NULL)
        {
          g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_CANNOT_INVERT,
                       "Cannot eject change %s: %s", bad->id,
                       local_error ? local_error->message : "it cannot be inverted");
          return FALSE;
        }

      g_ptr_array_add (carriers,
                       patches_change_new (NULL, bad->base_rev, bad->rev,
                                           g_steal_pointer (&inverse), 0));
      for (guint i = index + 1; i < pending->len; i++)
        {
          PatchesChange *change = g_ptr_array_index (pending, i);

          if (change->base_rev == bad->base_rev)
            g_ptr_array_add (same_base, patches_change_ref (change));
        }

      g_ptr_array_unref (rebased);
      rebased = patches_rebase_changes (carriers, same_base);
    }

  result = patches_changes_new ();
  for (guint i = 0; i < index; i++)
    {
      PatchesChange *copy = patches_change_copy (g_ptr_array_index (pending, i));

      copy->rev = ++r;
      g_ptr_array_add (result, copy);
    }

  for (guint i = index + 1; i < pending->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (pending, i);
      PatchesChange *copy;

      if (change->base_rev == bad->base_rev)
        {
          PatchesChange *survivor;

          /* rebased is a subsequence of the same-base changes, in order */
          if (j >= rebased->len)
            continue;
          survivor = g_ptr_array_index (rebased, j);
          if (g_strcmp0 (survivor->id, change->id) != 0)
            continue;
          j++;
          copy = patches_change_copy (survivor);
          copy->base_rev = change->base_rev;
        }
      else
        copy = patches_change_copy (change);

      copy->rev = ++r;
      g_ptr_array_add (result, copy);
    }

  *poison = patches_change_ref (bad);
  *new_pending = g_steal_pointer (&result);
  return TRUE;
}
