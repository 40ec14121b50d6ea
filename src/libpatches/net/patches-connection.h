/* patches-connection.h
 *
 * A client's connection to a Patches server: a libsoup WebSocket
 * (ws:// or wss://, custom headers, TLS through GIO) carrying one
 * #PatchesRpc, with a typed _async/_finish call for every method the
 * server serves (PROTOCOL.md §5) and a signal for each notification
 * (§6).  It dials once per patches_connection_open_async(); reconnecting
 * is #PatchesSync's business.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "patches-change.h"
#include "patches-rpc.h"

G_BEGIN_DECLS

/**
 * PatchesConnectionState:
 * @PATCHES_CONNECTION_STATE_DISCONNECTED: no socket
 * @PATCHES_CONNECTION_STATE_CONNECTING: dialling
 * @PATCHES_CONNECTION_STATE_CONNECTED: the socket is open
 * @PATCHES_CONNECTION_STATE_ERROR: the last dial or socket failed
 *
 * The transport states of PROTOCOL.md §2.5.
 */
typedef enum {
  PATCHES_CONNECTION_STATE_DISCONNECTED,
  PATCHES_CONNECTION_STATE_CONNECTING,
  PATCHES_CONNECTION_STATE_CONNECTED,
  PATCHES_CONNECTION_STATE_ERROR,
} PatchesConnectionState;

#define PATCHES_TYPE_CONNECTION_STATE (patches_connection_state_get_type ())
GType patches_connection_state_get_type (void) G_GNUC_CONST;

/**
 * PatchesSnapshot:
 * @state: the state at @rev
 * @rev: the snapshot's revision
 * @changes: (element-type PatchesChange): committed changes after @rev
 *
 * The result of `getDoc` (PROTOCOL.md §4.5).
 */
typedef struct {
  /*< private >*/
  gatomicrefcount  ref_count;
  /*< public >*/
  PatchesValue    *state;
  gint64           rev;
  GPtrArray       *changes;
} PatchesSnapshot;

#define PATCHES_TYPE_SNAPSHOT (patches_snapshot_get_type ())
GType            patches_snapshot_get_type   (void) G_GNUC_CONST;
PatchesSnapshot *patches_snapshot_from_value (PatchesValue    *value,
                                              GError         **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesSnapshot *patches_snapshot_ref        (PatchesSnapshot *self);
void             patches_snapshot_unref      (PatchesSnapshot *self);
gint64           patches_snapshot_get_head_rev (PatchesSnapshot *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesSnapshot, patches_snapshot_unref)

/**
 * PatchesCommitResult:
 * @changes: (element-type PatchesChange): catch-up plus the newly
 *   committed changes, ascending by rev
 * @doc_reload_required: the server asks for a reload (PROTOCOL.md §4.7)
 *
 * The result of `commitChanges`.
 */
typedef struct {
  /*< private >*/
  gatomicrefcount  ref_count;
  /*< public >*/
  GPtrArray       *changes;
  gboolean         doc_reload_required;
} PatchesCommitResult;

#define PATCHES_TYPE_COMMIT_RESULT (patches_commit_result_get_type ())
GType                patches_commit_result_get_type   (void) G_GNUC_CONST;
PatchesCommitResult *patches_commit_result_from_value (PatchesValue        *value,
                                                       GError             **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesCommitResult *patches_commit_result_ref        (PatchesCommitResult *self);
void                 patches_commit_result_unref      (PatchesCommitResult *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesCommitResult, patches_commit_result_unref)

#define PATCHES_TYPE_CONNECTION (patches_connection_get_type ())

G_DECLARE_FINAL_TYPE (PatchesConnection, patches_connection, PATCHES, CONNECTION, GObject)

PatchesConnection     *patches_connection_new               (const char          *url) G_GNUC_WARN_UNUSED_RESULT;
const char            *patches_connection_get_url           (PatchesConnection   *self);
GTlsDatabase          *patches_connection_get_tls_database  (PatchesConnection   *self);
void                   patches_connection_set_tls_database  (PatchesConnection   *self,
                                                             GTlsDatabase        *database);
PatchesConnectionState patches_connection_get_state         (PatchesConnection   *self);
PatchesRpc            *patches_connection_get_rpc           (PatchesConnection   *self);
void                   patches_connection_set_header        (PatchesConnection   *self,
                                                             const char          *name,
                                                             const char          *value);
void                   patches_connection_set_protocols     (PatchesConnection   *self,
                                                             const char * const  *protocols);
guint                  patches_connection_get_last_http_status (PatchesConnection *self);
guint                  patches_connection_get_ping_interval (PatchesConnection   *self);
void                   patches_connection_set_ping_interval (PatchesConnection   *self,
                                                             guint                seconds);
guint                  patches_connection_get_request_timeout (PatchesConnection *self);
void                   patches_connection_set_request_timeout (PatchesConnection *self,
                                                             guint                seconds);
void                   patches_connection_open_async        (PatchesConnection   *self,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
gboolean               patches_connection_open_finish       (PatchesConnection   *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);
void                   patches_connection_close             (PatchesConnection   *self);

/* Generic call, for methods this header does not wrap */
void                   patches_connection_call_async        (PatchesConnection   *self,
                                                             const char          *method,
                                                             PatchesValue        *params,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
PatchesValue          *patches_connection_call_finish       (PatchesConnection   *self,
                                                             GAsyncResult        *result,
                                                             GError             **error) G_GNUC_WARN_UNUSED_RESULT;

/* Documents (PROTOCOL.md §5.1–5.7) */
void                   patches_connection_subscribe_async   (PatchesConnection   *self,
                                                             const char * const  *doc_ids,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
char                 **patches_connection_subscribe_finish  (PatchesConnection   *self,
                                                             GAsyncResult        *result,
                                                             GError             **error) G_GNUC_WARN_UNUSED_RESULT;
void                   patches_connection_unsubscribe_async (PatchesConnection   *self,
                                                             const char * const  *doc_ids,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
char                 **patches_connection_unsubscribe_finish (PatchesConnection  *self,
                                                             GAsyncResult        *result,
                                                             GError             **error) G_GNUC_WARN_UNUSED_RESULT;
void                   patches_connection_get_doc_async     (PatchesConnection   *self,
                                                             const char          *doc_id,
                                                             gint64               at_rev,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
PatchesSnapshot       *patches_connection_get_doc_finish    (PatchesConnection   *self,
                                                             GAsyncResult        *result,
                                                             GError             **error) G_GNUC_WARN_UNUSED_RESULT;
void                   patches_connection_get_changes_since_async (PatchesConnection *self,
                                                             const char          *doc_id,
                                                             gint64               rev,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
GPtrArray             *patches_connection_get_changes_since_finish (PatchesConnection *self,
                                                             GAsyncResult        *result,
                                                             GError             **error) G_GNUC_WARN_UNUSED_RESULT;
void                   patches_connection_commit_changes_async (PatchesConnection *self,
                                                             const char          *doc_id,
                                                             GPtrArray           *changes,
                                                             PatchesValue        *options,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
PatchesCommitResult   *patches_connection_commit_changes_finish (PatchesConnection *self,
                                                             GAsyncResult        *result,
                                                             GError             **error) G_GNUC_WARN_UNUSED_RESULT;
void                   patches_connection_delete_doc_async  (PatchesConnection   *self,
                                                             const char          *doc_id,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
gboolean               patches_connection_delete_doc_finish (PatchesConnection   *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);
void                   patches_connection_undelete_doc_async (PatchesConnection  *self,
                                                             const char          *doc_id,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
gboolean               patches_connection_undelete_doc_finish (PatchesConnection *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);

/* Versions and branches (PROTOCOL.md §5.8–5.18): results as JSON values */
void                   patches_connection_list_versions_async (PatchesConnection *self,
                                                             const char          *doc_id,
                                                             PatchesValue        *options,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
void                   patches_connection_create_version_async (PatchesConnection *self,
                                                             const char          *doc_id,
                                                             PatchesValue        *metadata,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
void                   patches_connection_update_version_async (PatchesConnection *self,
                                                             const char          *doc_id,
                                                             const char          *version_id,
                                                             PatchesValue        *metadata,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
void                   patches_connection_get_version_state_async (PatchesConnection *self,
                                                             const char          *doc_id,
                                                             const char          *version_id,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
void                   patches_connection_get_version_changes_async (PatchesConnection *self,
                                                             const char          *doc_id,
                                                             const char          *version_id,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
void                   patches_connection_get_state_before_version_async (PatchesConnection *self,
                                                             const char          *doc_id,
                                                             const char          *version_id,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
void                   patches_connection_list_branches_async (PatchesConnection *self,
                                                             const char          *doc_id,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
void                   patches_connection_create_branch_async (PatchesConnection *self,
                                                             const char          *doc_id,
                                                             gint64               rev,
                                                             PatchesValue        *metadata,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
void                   patches_connection_update_branch_async (PatchesConnection *self,
                                                             const char          *branch_id,
                                                             PatchesValue        *metadata,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
void                   patches_connection_delete_branch_async (PatchesConnection *self,
                                                             const char          *branch_id,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
void                   patches_connection_merge_branch_async (PatchesConnection  *self,
                                                             const char          *branch_id,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
PatchesValue          *patches_connection_value_finish      (PatchesConnection   *self,
                                                             GAsyncResult        *result,
                                                             GError             **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
