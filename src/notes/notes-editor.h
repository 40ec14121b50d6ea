/* notes-editor.h
 *
 * The note editor: a title entry and the rich-text body of one note
 * document, with formatting, links and undo of the user's own edits.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "patches-doc.h"
#include "notes-text-binding.h"
#include "notes-undo-manager.h"

G_BEGIN_DECLS

#define NOTES_TYPE_EDITOR (notes_editor_get_type ())

G_DECLARE_FINAL_TYPE (NotesEditor, notes_editor, NOTES, EDITOR, AdwBin)

NotesEditor      *notes_editor_new               (void) G_GNUC_WARN_UNUSED_RESULT;
void              notes_editor_set_doc           (NotesEditor *self,
                                                  PatchesDoc  *doc);
PatchesDoc       *notes_editor_get_doc           (NotesEditor *self);
GtkTextView      *notes_editor_get_text_view     (NotesEditor *self);
GtkEditable      *notes_editor_get_title_entry   (NotesEditor *self);
NotesUndoManager *notes_editor_get_undo_manager  (NotesEditor *self);
NotesTextBinding *notes_editor_get_binding       (NotesEditor *self);
void              notes_editor_flush             (NotesEditor *self);

G_END_DECLS
