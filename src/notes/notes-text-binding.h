/* notes-text-binding.h
 *
 * Keeps a GtkTextBuffer and a rich-text value of a PatchesDoc (at a JSON
 * pointer such as "/body") in step: the user's edits of the buffer become
 * `@txt` deltas given to patches_doc_change(), and the document's updates
 * are replayed on the buffer as inserts, deletes and tag changes, so that
 * the cursor and selection stay where they belong.
 *
 * The buffer holds the value's text without the final "\n" every
 * document ends with, so buffer and document character offsets are the
 * same numbers and no local edit can remove that newline.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "patches-doc.h"
#include "notes-rich-text.h"
#include "notes-undo-manager.h"

G_BEGIN_DECLS

#define NOTES_TYPE_TEXT_BINDING (notes_text_binding_get_type ())

G_DECLARE_FINAL_TYPE (NotesTextBinding, notes_text_binding, NOTES, TEXT_BINDING, GObject)

NotesTextBinding *notes_text_binding_new                (GtkTextBuffer     *buffer,
                                                         PatchesDoc        *doc,
                                                         const char        *path) G_GNUC_WARN_UNUSED_RESULT;
GtkTextBuffer    *notes_text_binding_get_buffer         (NotesTextBinding  *self);
PatchesDoc       *notes_text_binding_get_doc            (NotesTextBinding  *self);
const char       *notes_text_binding_get_path          (NotesTextBinding  *self);
NotesRichText    *notes_text_binding_get_rich_text     (NotesTextBinding  *self);
NotesUndoManager *notes_text_binding_get_undo_manager  (NotesTextBinding  *self);
void              notes_text_binding_set_undo_manager  (NotesTextBinding  *self,
                                                         NotesUndoManager  *undo_manager);

void              notes_text_binding_reload             (NotesTextBinding  *self);
gboolean          notes_text_binding_format             (NotesTextBinding  *self,
                                                         const GtkTextIter *start,
                                                         const GtkTextIter *end,
                                                         const char        *key,
                                                         PatchesValue      *value);
gboolean          notes_text_binding_range_has          (NotesTextBinding  *self,
                                                         const GtkTextIter *start,
                                                         const GtkTextIter *end,
                                                         const char        *key,
                                                         PatchesValue      *value);
PatchesValue     *notes_text_binding_dup_typing_attributes (NotesTextBinding *self) G_GNUC_WARN_UNUSED_RESULT;
void              notes_text_binding_set_typing_attribute (NotesTextBinding *self,
                                                         const char        *key,
                                                         PatchesValue      *value);

G_END_DECLS
