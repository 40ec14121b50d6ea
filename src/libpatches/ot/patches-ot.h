/* patches-ot.h
 *
 * The OT algorithms on changes (OPERATIONS.md §11): applying changes,
 * rebasing pending changes over committed ones (client), the server's
 * mirror walk, applying committed changes to a client snapshot, the
 * optimistic view and pending-change ejection.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-change.h"

G_BEGIN_DECLS

/**
 * PatchesEchoFunc:
 * @committed: a committed change met during the walk
 * @user_data: the data given with the function
 *
 * Decides whether @committed is the sender's own change coming back
 * (an "own echo"): such a change is not transformed, is not used to
 * transform the queue, and removes the first queued change with the same
 * id.
 *
 * Returns: %TRUE if @committed is an own echo
 */
typedef gboolean (*PatchesEchoFunc) (const PatchesChange *committed,
                                     gpointer             user_data);

/**
 * PatchesSkippedChangeFunc:
 * @change: the change that failed to apply and was skipped
 * @index: its index in the list being replayed
 * @error: why it failed
 * @user_data: the data given with the function
 *
 * Reports a change skipped by patches_changes_apply_for_reconstruction().
 */
typedef void (*PatchesSkippedChangeFunc) (const PatchesChange *change,
                                          guint                index,
                                          const GError        *error,
                                          gpointer             user_data);

gboolean   patches_changes_apply                    (PatchesValue           **state,
                                                     GPtrArray               *changes,
                                                     GError                 **error);
guint      patches_changes_apply_for_reconstruction (PatchesValue           **state,
                                                     GPtrArray               *changes,
                                                     gboolean                 legacy_text_overrun_padding,
                                                     PatchesSkippedChangeFunc skipped_func,
                                                     gpointer                 user_data);

GPtrArray *patches_rebase_changes                   (GPtrArray               *committed,
                                                     GPtrArray               *pending) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray *patches_transform_incoming_changes       (GPtrArray               *committed,
                                                     GPtrArray               *incoming,
                                                     gint64                   current_rev,
                                                     gboolean                 force_commit,
                                                     PatchesEchoFunc          is_echo,
                                                     gpointer                 user_data,
                                                     GPtrArray              **advanced) G_GNUC_WARN_UNUSED_RESULT;

gboolean   patches_apply_committed_changes          (PatchesValue           **state,
                                                     gint64                  *rev,
                                                     GPtrArray              **pending,
                                                     GPtrArray               *committed,
                                                     gboolean                 live,
                                                     GError                 **error);
gboolean   patches_apply_pending_for_view           (PatchesValue           **state,
                                                     gint64                   committed_rev,
                                                     GPtrArray               *pending,
                                                     GError                 **error);
gboolean   patches_compute_pending_ejection         (PatchesValue            *committed_state,
                                                     gint64                   committed_rev,
                                                     GPtrArray               *pending,
                                                     const char              *change_id,
                                                     PatchesChange          **poison,
                                                     GPtrArray              **new_pending,
                                                     GError                 **error);

G_END_DECLS
