/* notes-undo-manager.h
 *
 * Undo and redo of the user's own edits of one document.  Each local
 * change comes with its inverse; edits by others (remote updates) are
 * never undone: they transform every stack entry instead, so that an undo
 * after a collaborator typed reverts only what this user did.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "patches-doc.h"

G_BEGIN_DECLS

/**
 * NotesUndoMerge:
 * @NOTES_UNDO_MERGE_NEVER: the change is an undo step of its own
 * @NOTES_UNDO_MERGE_TYPING: an insertion that continues the previous one
 *   (typed right where the last insertion ended)
 * @NOTES_UNDO_MERGE_DELETING: a deletion that continues the previous one
 *
 * How a change may join the undo step before it.  A change merges when
 * it continues a change of the same kind and comes within the merge
 * interval of it or continues the same word.
 */
typedef enum {
  NOTES_UNDO_MERGE_NEVER,
  NOTES_UNDO_MERGE_TYPING,
  NOTES_UNDO_MERGE_DELETING,
} NotesUndoMerge;

#define NOTES_TYPE_UNDO_MANAGER (notes_undo_manager_get_type ())

G_DECLARE_FINAL_TYPE (NotesUndoManager, notes_undo_manager, NOTES, UNDO_MANAGER, GObject)

/**
 * NotesUndoInvertFunc:
 * @self: the undo manager
 * @patch: a patch about to be applied to the document's current state
 * @user_data: the data given with the function
 *
 * Computes the inverse of @patch against the current state more cheaply
 * than patches_patch_invert() can (a text binding reads it from its
 * buffer), or returns %NULL to let the manager use patches_patch_invert().
 *
 * Returns: (transfer full) (nullable): the inverse
 */
typedef PatchesPatch *(*NotesUndoInvertFunc) (NotesUndoManager *self,
                                              PatchesPatch     *patch,
                                              gpointer          user_data);

NotesUndoManager *notes_undo_manager_new               (PatchesDoc          *doc) G_GNUC_WARN_UNUSED_RESULT;
PatchesDoc       *notes_undo_manager_get_doc           (NotesUndoManager    *self);
gboolean          notes_undo_manager_get_can_undo      (NotesUndoManager    *self);
gboolean          notes_undo_manager_get_can_redo      (NotesUndoManager    *self);
guint             notes_undo_manager_get_n_undo        (NotesUndoManager    *self);
guint             notes_undo_manager_get_n_redo        (NotesUndoManager    *self);
guint             notes_undo_manager_get_merge_interval (NotesUndoManager   *self);
void              notes_undo_manager_set_merge_interval (NotesUndoManager   *self,
                                                        guint                interval_ms);
void              notes_undo_manager_set_invert_func   (NotesUndoManager    *self,
                                                        NotesUndoInvertFunc  func,
                                                        gpointer             user_data,
                                                        GDestroyNotify       destroy);

PatchesChange    *notes_undo_manager_change            (NotesUndoManager    *self,
                                                        PatchesPatch        *patch,
                                                        PatchesPatch        *inverse,
                                                        NotesUndoMerge       merge,
                                                        gboolean             same_word,
                                                        GError             **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean          notes_undo_manager_undo              (NotesUndoManager    *self,
                                                        GError             **error);
gboolean          notes_undo_manager_redo              (NotesUndoManager    *self,
                                                        GError             **error);
void              notes_undo_manager_begin_group       (NotesUndoManager    *self);
void              notes_undo_manager_end_group         (NotesUndoManager    *self);
void              notes_undo_manager_break_merge       (NotesUndoManager    *self);
void              notes_undo_manager_clear             (NotesUndoManager    *self);

G_END_DECLS
