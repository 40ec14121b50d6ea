/* notes-status-indicator.h
 *
 * The connection and sync status in the header bar: "Connected",
 * "Connecting in 3 s…", "Offline"; a spinner while syncing; "All changes
 * saved" or how many changes wait; and a button explaining a sync error
 * with a Retry button.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "patches-sync.h"

#include "notes-notebook.h"

G_BEGIN_DECLS

#define NOTES_TYPE_STATUS_INDICATOR (notes_status_indicator_get_type ())

G_DECLARE_FINAL_TYPE (NotesStatusIndicator, notes_status_indicator, NOTES, STATUS_INDICATOR, GtkWidget)

GtkWidget     *notes_status_indicator_new                 (void);
PatchesSync   *notes_status_indicator_get_sync            (NotesStatusIndicator *self);
void           notes_status_indicator_set_sync            (NotesStatusIndicator *self,
                                                           PatchesSync          *sync);
NotesNotebook *notes_status_indicator_get_notebook        (NotesStatusIndicator *self);
void           notes_status_indicator_set_notebook        (NotesStatusIndicator *self,
                                                           NotesNotebook        *notebook);
gboolean       notes_status_indicator_get_work_offline    (NotesStatusIndicator *self);
void           notes_status_indicator_set_work_offline    (NotesStatusIndicator *self,
                                                           gboolean              work_offline);
const char    *notes_status_indicator_get_connection_text (NotesStatusIndicator *self);
const char    *notes_status_indicator_get_saved_text      (NotesStatusIndicator *self);

G_END_DECLS
