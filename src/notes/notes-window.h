/* notes-window.h
 *
 * The main window: the notebook's notes on the left (search, pinned
 * first, newest first), the selected note on the right, the sync status
 * in the header bar.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "notes-application.h"
#include "notes-notebook.h"
#include "notes-status-indicator.h"

G_BEGIN_DECLS

#define NOTES_TYPE_WINDOW (notes_window_get_type ())

G_DECLARE_FINAL_TYPE (NotesWindow, notes_window, NOTES, WINDOW, AdwApplicationWindow)

GtkWidget            *notes_window_new                  (NotesApplication *application,
                                                         const char       *notebook_id);
const char           *notes_window_get_notebook_id      (NotesWindow      *self);
NotesNotebook        *notes_window_get_notebook         (NotesWindow      *self);
NotesStatusIndicator *notes_window_get_status_indicator (NotesWindow      *self);
GListModel           *notes_window_get_visible_notes    (NotesWindow      *self);
NotesNoteItem        *notes_window_get_selected_note    (NotesWindow      *self);
gboolean              notes_window_select_note          (NotesWindow      *self,
                                                         NotesNoteItem    *item);
void                  notes_window_set_search_text      (NotesWindow      *self,
                                                         const char       *text);
GtkWidget            *notes_window_get_editor           (NotesWindow      *self);

G_END_DECLS
