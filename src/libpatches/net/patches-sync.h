/* patches-sync.h
 *
 * Keeps a #PatchesClient's tracked documents and a server in step
 * (PROTOCOL.md §8): reconnects with backoff, subscribes, catches up,
 * flushes pending changes (one commit in flight per document), applies
 * what others commit, and tells a UI through properties and signals on
 * the main loop whether it is online, connected and synced.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "patches-client.h"
#include "patches-connection.h"

G_BEGIN_DECLS

/**
 * PatchesDocSyncState:
 * @committed_rev: the committed revision
 * @has_pending: whether pending changes wait to be sent
 * @status: the document's sync status
 * @error: (nullable): the error when @status is %PATCHES_SYNC_STATUS_ERROR
 * @loaded: latched once the document has data (PROTOCOL.md §4.11)
 *
 * One tracked document's sync state, a copy owned by the caller.
 */
typedef struct {
  gint64             committed_rev;
  gboolean           has_pending;
  PatchesSyncStatus  status;
  GError            *error;
  gboolean           loaded;
} PatchesDocSyncState;

#define PATCHES_TYPE_DOC_SYNC_STATE (patches_doc_sync_state_get_type ())
GType                patches_doc_sync_state_get_type (void) G_GNUC_CONST;
PatchesDocSyncState *patches_doc_sync_state_copy     (const PatchesDocSyncState *self) G_GNUC_WARN_UNUSED_RESULT;
void                 patches_doc_sync_state_free     (PatchesDocSyncState       *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesDocSyncState, patches_doc_sync_state_free)

#define PATCHES_TYPE_SYNC (patches_sync_get_type ())

G_DECLARE_FINAL_TYPE (PatchesSync, patches_sync, PATCHES, SYNC, GObject)

PatchesSync          *patches_sync_new                    (PatchesClient       *client,
                                                           const char          *url) G_GNUC_WARN_UNUSED_RESULT;
PatchesClient        *patches_sync_get_client             (PatchesSync         *self);
const char           *patches_sync_get_url                (PatchesSync         *self);
void                  patches_sync_set_url                (PatchesSync         *self,
                                                           const char          *url);
void                  patches_sync_set_header             (PatchesSync         *self,
                                                           const char          *name,
                                                           const char          *value);
gboolean              patches_sync_get_online             (PatchesSync         *self);
gboolean              patches_sync_get_connected          (PatchesSync         *self);
PatchesConnectionState patches_sync_get_connection_state  (PatchesSync         *self);
PatchesSyncStatus     patches_sync_get_sync_status        (PatchesSync         *self);
const GError         *patches_sync_get_sync_error         (PatchesSync         *self);
gint64                patches_sync_get_next_retry_time    (PatchesSync         *self);
PatchesConnection    *patches_sync_get_connection         (PatchesSync         *self);

void                  patches_sync_connect_async          (PatchesSync         *self,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean              patches_sync_connect_finish         (PatchesSync         *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                  patches_sync_disconnect             (PatchesSync         *self);
void                  patches_sync_retry_now              (PatchesSync         *self);

PatchesDocSyncState  *patches_sync_get_doc_state          (PatchesSync         *self,
                                                           const char          *doc_id) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
