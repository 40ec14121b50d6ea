/* notes-notebook.h
 *
 * The notes of one notebook as a #GListModel of #NotesNoteItem.  The
 * notebook is a document, `notebook/<id>`: {"title": …, "notes": {"<note
 * id>": {"order": <fractional key>, "createdAt": ms}}}; each listed note
 * is its own document, `note/<id>`, tracked while it is listed, so that
 * its title and sync badge stay fresh, and opened when it is edited.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "patches-client.h"
#include "patches-sync.h"

#include "notes-note-item.h"

G_BEGIN_DECLS

#define NOTES_TYPE_NOTEBOOK (notes_notebook_get_type ())

G_DECLARE_FINAL_TYPE (NotesNotebook, notes_notebook, NOTES, NOTEBOOK, GObject)

NotesNotebook *notes_notebook_new              (PatchesClient        *client,
                                                const char           *notebook_id) G_GNUC_WARN_UNUSED_RESULT;
char          *notes_notebook_normalize_id     (const char           *notebook_id) G_GNUC_WARN_UNUSED_RESULT;
PatchesClient *notes_notebook_get_client       (NotesNotebook        *self);
PatchesSync   *notes_notebook_get_sync         (NotesNotebook        *self);
void           notes_notebook_set_sync         (NotesNotebook        *self,
                                                PatchesSync          *sync);
const char    *notes_notebook_get_id           (NotesNotebook        *self);
PatchesDoc    *notes_notebook_get_doc          (NotesNotebook        *self);
const char    *notes_notebook_get_title        (NotesNotebook        *self);
gboolean       notes_notebook_get_loaded       (NotesNotebook        *self);
guint          notes_notebook_get_n_pending    (NotesNotebook        *self);

void           notes_notebook_load_async       (NotesNotebook        *self,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
gboolean       notes_notebook_load_finish      (NotesNotebook        *self,
                                                GAsyncResult         *result,
                                                GError              **error);

NotesNoteItem *notes_notebook_find             (NotesNotebook        *self,
                                                const char           *note_or_doc_id);
NotesNoteItem *notes_notebook_create_note      (NotesNotebook        *self,
                                                const char           *title,
                                                PatchesValue         *body,
                                                GError              **error);
gboolean       notes_notebook_rename_note      (NotesNotebook        *self,
                                                NotesNoteItem        *item,
                                                const char           *title,
                                                GError              **error);
gboolean       notes_notebook_set_pinned       (NotesNotebook        *self,
                                                NotesNoteItem        *item,
                                                gboolean              pinned,
                                                GError              **error);
gboolean       notes_notebook_delete_note      (NotesNotebook        *self,
                                                NotesNoteItem        *item,
                                                GError              **error);
gboolean       notes_notebook_undo_delete      (NotesNotebook        *self,
                                                const char           *note_id,
                                                GError              **error);
void           notes_notebook_finish_delete    (NotesNotebook        *self,
                                                const char           *note_id);
void           notes_notebook_finish_all_deletes (NotesNotebook      *self);
void           notes_notebook_forget_note      (NotesNotebook        *self,
                                                const char           *note_or_doc_id);

G_END_DECLS
