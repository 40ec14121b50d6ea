/* patches-doc-private.h
 *
 * What #PatchesClient uses to drive a #PatchesDoc: constructors, the hook
 * that persists a local change before anyone may send it, and the
 * mutators that install committed state, pending changes and sync status
 * while keeping the optimistic view and its ::update signal in step.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-doc.h"
#include "patches-store.h"

G_BEGIN_DECLS

/**
 * PatchesDocPersistFunc:
 * @doc: the document
 * @change: the change just minted by patches_doc_change()
 * @user_data: the data given with the function
 * @error: return location for a #GError
 *
 * Makes @change durable.  Called inside patches_doc_change(), after the
 * patch applied to the optimistic state and before the document's state,
 * pending list, properties and signals change.  Returning %FALSE rolls the
 * edit back and makes patches_doc_change() fail with @error.
 *
 * Returns: %TRUE when @change was saved
 */
typedef gboolean (*PatchesDocPersistFunc) (PatchesDoc     *doc,
                                           PatchesChange  *change,
                                           gpointer        user_data,
                                           GError        **error);

PatchesDoc *patches_doc_new                  (const char            *doc_id) G_GNUC_WARN_UNUSED_RESULT;
PatchesDoc *patches_doc_new_from_stored      (PatchesStoredDoc      *stored) G_GNUC_WARN_UNUSED_RESULT;

void        patches_doc_set_persist_func     (PatchesDoc            *self,
                                              PatchesDocPersistFunc  func,
                                              gpointer               user_data);
void        patches_doc_set_change_metadata  (PatchesDoc            *self,
                                              PatchesValue          *metadata);

void        patches_doc_install_committed    (PatchesDoc            *self,
                                              PatchesValue          *state,
                                              gint64                 rev,
                                              GPtrArray             *pending,
                                              GPtrArray             *fresh,
                                              GPtrArray             *kept);
void        patches_doc_install_pending      (PatchesDoc            *self,
                                              GPtrArray             *pending);
void        patches_doc_set_sync_status      (PatchesDoc            *self,
                                              PatchesSyncStatus      status,
                                              const GError          *error);

G_END_DECLS
