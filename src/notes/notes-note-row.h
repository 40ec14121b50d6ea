/* notes-note-row.h
 *
 * A note in the sidebar list: title, first line, when it changed ("5 min
 * ago") and its sync badge.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "notes-note-item.h"

G_BEGIN_DECLS

#define NOTES_TYPE_NOTE_ROW (notes_note_row_get_type ())

G_DECLARE_FINAL_TYPE (NotesNoteRow, notes_note_row, NOTES, NOTE_ROW, GtkWidget)

GtkWidget     *notes_note_row_new         (void);
NotesNoteItem *notes_note_row_get_item    (NotesNoteRow *self);
void           notes_note_row_set_item    (NotesNoteRow *self,
                                           NotesNoteItem *item);
char          *notes_format_relative_time (gint64        unix_ms,
                                           GDateTime    *now) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
