/* notes-note-item.h
 *
 * One note of a notebook as the list shows it: title, the first line of
 * the body, when it changed, whether it is pinned, and how far it is
 * synced.  It follows its #PatchesDoc, or while that is closed what its
 * notebook tells it, so the list stays fresh while other people edit.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "patches-client.h"
#include "patches-doc.h"
#include "patches-sync.h"

G_BEGIN_DECLS

/**
 * NotesSyncBadge:
 * @NOTES_SYNC_BADGE_SAVED: saved on the server
 * @NOTES_SYNC_BADGE_PENDING: saved on this device, waiting to sync
 * @NOTES_SYNC_BADGE_SYNCING: being synced right now
 * @NOTES_SYNC_BADGE_ERROR: the last sync failed
 *
 * The sync badge of a note in the list.
 */
typedef enum {
  NOTES_SYNC_BADGE_SAVED,
  NOTES_SYNC_BADGE_PENDING,
  NOTES_SYNC_BADGE_SYNCING,
  NOTES_SYNC_BADGE_ERROR,
} NotesSyncBadge;

#define NOTES_TYPE_SYNC_BADGE (notes_sync_badge_get_type ())
GType notes_sync_badge_get_type (void) G_GNUC_CONST;

#define NOTES_TYPE_NOTE_ITEM (notes_note_item_get_type ())

G_DECLARE_FINAL_TYPE (NotesNoteItem, notes_note_item, NOTES, NOTE_ITEM, GObject)

NotesNoteItem  *notes_note_item_new               (const char    *note_id,
                                                   PatchesDoc    *doc) G_GNUC_WARN_UNUSED_RESULT;
NotesNoteItem  *notes_note_item_new_for_client    (const char    *note_id,
                                                   PatchesClient *client) G_GNUC_WARN_UNUSED_RESULT;
const char     *notes_note_item_get_note_id       (NotesNoteItem *self);
const char     *notes_note_item_get_doc_id        (NotesNoteItem *self);
PatchesDoc     *notes_note_item_get_doc           (NotesNoteItem *self);
PatchesDoc     *notes_note_item_peek_doc          (NotesNoteItem *self);
guint           notes_note_item_get_n_pending     (NotesNoteItem *self);
void            notes_note_item_set_sync          (NotesNoteItem *self,
                                                   PatchesSync   *sync);
const char     *notes_note_item_get_title         (NotesNoteItem *self);
const char     *notes_note_item_get_display_title (NotesNoteItem *self);
const char     *notes_note_item_get_snippet       (NotesNoteItem *self);
gint64          notes_note_item_get_updated_at    (NotesNoteItem *self);
gboolean        notes_note_item_get_pinned        (NotesNoteItem *self);
const char     *notes_note_item_get_order         (NotesNoteItem *self);
void            notes_note_item_set_order         (NotesNoteItem *self,
                                                   const char    *order);
gint64          notes_note_item_get_created_at    (NotesNoteItem *self);
void            notes_note_item_set_created_at    (NotesNoteItem *self,
                                                   gint64         created_at);
NotesSyncBadge  notes_note_item_get_badge         (NotesNoteItem *self);
const char     *notes_note_item_get_badge_icon_name (NotesNoteItem *self);
char           *notes_note_item_dup_badge_tooltip (NotesNoteItem *self) G_GNUC_WARN_UNUSED_RESULT;
gboolean        notes_note_item_matches           (NotesNoteItem *self,
                                                   const char    *casefolded_query);
void            notes_note_item_refresh           (NotesNoteItem *self);
void            notes_note_item_refresh_sync_state (NotesNoteItem *self);

char           *notes_plain_text_from_value       (PatchesValue  *value) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
