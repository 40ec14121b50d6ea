/* patches-doc.h
 *
 * One document as an application sees it: the optimistic state
 * (committed state with the pending changes applied), the committed
 * revision, the pending changes, and how far it is synced.  Local edits
 * go through patches_doc_change(); every change of the state, local or
 * remote, is announced by the ::update signal with the ops that were
 * applied, so a view can follow incrementally.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "patches-change.h"

G_BEGIN_DECLS

/**
 * PatchesSyncStatus:
 * @PATCHES_SYNC_STATUS_UNSYNCED: not synced (never synced, or offline)
 * @PATCHES_SYNC_STATUS_SYNCING: a sync is running
 * @PATCHES_SYNC_STATUS_SYNCED: in step with the server as far as known
 * @PATCHES_SYNC_STATUS_ERROR: the last sync failed; see the sync error
 *
 * How far a document (or the whole client) is in step with the server
 * (PROTOCOL.md §4.11).
 */
typedef enum {
  PATCHES_SYNC_STATUS_UNSYNCED,
  PATCHES_SYNC_STATUS_SYNCING,
  PATCHES_SYNC_STATUS_SYNCED,
  PATCHES_SYNC_STATUS_ERROR,
} PatchesSyncStatus;

#define PATCHES_TYPE_SYNC_STATUS (patches_sync_status_get_type ())
GType       patches_sync_status_get_type  (void) G_GNUC_CONST;
const char *patches_sync_status_to_string (PatchesSyncStatus status);

#define PATCHES_TYPE_DOC (patches_doc_get_type ())

G_DECLARE_FINAL_TYPE (PatchesDoc, patches_doc, PATCHES, DOC, GObject)

const char        *patches_doc_get_id             (PatchesDoc    *self);
PatchesValue      *patches_doc_get_state          (PatchesDoc    *self);
JsonNode          *patches_doc_dup_state_node     (PatchesDoc    *self) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue      *patches_doc_get_committed_state (PatchesDoc   *self);
gint64             patches_doc_get_committed_rev  (PatchesDoc    *self);
GPtrArray         *patches_doc_get_pending        (PatchesDoc    *self);
gboolean           patches_doc_get_has_pending    (PatchesDoc    *self);
guint              patches_doc_get_n_pending      (PatchesDoc    *self);
PatchesSyncStatus  patches_doc_get_sync_status    (PatchesDoc    *self);
const GError      *patches_doc_get_sync_error     (PatchesDoc    *self);
gboolean           patches_doc_get_loaded         (PatchesDoc    *self);

PatchesChange     *patches_doc_change             (PatchesDoc    *self,
                                                   PatchesPatch  *patch,
                                                   GError       **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
