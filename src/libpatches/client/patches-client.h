/* patches-client.h
 *
 * The coordinator of a client's documents (the TypeScript library calls
 * it "Patches"): it opens, tracks, untracks and deletes documents over a
 * #PatchesStore, persists every local change before anyone may send it,
 * and applies what the server committed (PROTOCOL.md §8.1, §8.2, §8.6,
 * §8.8, §8.10).  It knows nothing of the network: #PatchesSync drives it
 * through the "for sync engines" part of this API.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "patches-doc.h"
#include "patches-store.h"

G_BEGIN_DECLS

#define PATCHES_TYPE_CLIENT (patches_client_get_type ())

G_DECLARE_FINAL_TYPE (PatchesClient, patches_client, PATCHES, CLIENT, GObject)

PatchesClient *patches_client_new                 (PatchesStore         *store) G_GNUC_WARN_UNUSED_RESULT;
PatchesStore  *patches_client_get_store           (PatchesClient        *self);
PatchesValue  *patches_client_get_metadata        (PatchesClient        *self);
void           patches_client_set_metadata        (PatchesClient        *self,
                                                   PatchesValue         *metadata);

/* Documents */
void           patches_client_open_doc_async      (PatchesClient        *self,
                                                   const char           *doc_id,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
PatchesDoc    *patches_client_open_doc_finish     (PatchesClient        *self,
                                                   GAsyncResult         *result,
                                                   GError              **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesDoc    *patches_client_open_doc            (PatchesClient        *self,
                                                   const char           *doc_id,
                                                   GError              **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesDoc    *patches_client_get_open_doc        (PatchesClient        *self,
                                                   const char           *doc_id);
void           patches_client_close_doc           (PatchesClient        *self,
                                                   const char           *doc_id);
void           patches_client_track_docs_async    (PatchesClient        *self,
                                                   const char * const   *doc_ids,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean       patches_client_track_docs_finish   (PatchesClient        *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);
gboolean       patches_client_track_docs          (PatchesClient        *self,
                                                   const char * const   *doc_ids,
                                                   GError              **error);
void           patches_client_untrack_docs_async  (PatchesClient        *self,
                                                   const char * const   *doc_ids,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean       patches_client_untrack_docs_finish (PatchesClient        *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);
gboolean       patches_client_untrack_docs        (PatchesClient        *self,
                                                   const char * const   *doc_ids,
                                                   GError              **error);
gboolean       patches_client_is_tracked          (PatchesClient        *self,
                                                   const char           *doc_id);
char         **patches_client_list_tracked        (PatchesClient        *self) G_GNUC_WARN_UNUSED_RESULT;
gboolean       patches_client_delete_doc          (PatchesClient        *self,
                                                   const char           *doc_id,
                                                   GError              **error);

/* For sync engines (PatchesSync); applications do not need these. */
gint64         patches_client_get_committed_rev   (PatchesClient        *self,
                                                   const char           *doc_id);
GPtrArray     *patches_client_dup_pending         (PatchesClient        *self,
                                                   const char           *doc_id,
                                                   GError              **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean       patches_client_has_pending         (PatchesClient        *self,
                                                   const char           *doc_id);
gboolean       patches_client_apply_committed     (PatchesClient        *self,
                                                   const char           *doc_id,
                                                   GPtrArray            *changes,
                                                   GError              **error);
gboolean       patches_client_remove_pending      (PatchesClient        *self,
                                                   const char           *doc_id,
                                                   const char * const   *change_ids,
                                                   GError              **error);
gboolean       patches_client_replace_pending     (PatchesClient        *self,
                                                   const char           *doc_id,
                                                   GPtrArray            *pending,
                                                   GError              **error);
gboolean       patches_client_install_snapshot    (PatchesClient        *self,
                                                   const char           *doc_id,
                                                   PatchesValue         *state,
                                                   gint64                rev,
                                                   GPtrArray            *changes,
                                                   GPtrArray            *tail,
                                                   GError              **error);
GPtrArray     *patches_client_take_remote_deleted (PatchesClient        *self,
                                                   const char           *doc_id,
                                                   GError              **error) G_GNUC_WARN_UNUSED_RESULT;
char         **patches_client_list_tombstones     (PatchesClient        *self) G_GNUC_WARN_UNUSED_RESULT;
gboolean       patches_client_purge_tombstone     (PatchesClient        *self,
                                                   const char           *doc_id,
                                                   GError              **error);
void           patches_client_set_doc_sync_status (PatchesClient        *self,
                                                   const char           *doc_id,
                                                   PatchesSyncStatus     status,
                                                   const GError         *error);
char          *patches_client_dup_client_id       (PatchesClient        *self) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
