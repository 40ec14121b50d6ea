/* patches-server-store.h
 *
 * The server's durable history store: every document's change log,
 * versions and tombstones in one SQLite database (PROTOCOL.md §7.1).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "patches-commit.h"
#include "patches-server-error.h"

G_BEGIN_DECLS

/**
 * PATCHES_SERVER_STORE_SCHEMA_VERSION:
 *
 * The schema version this build writes (`PRAGMA user_version`).  A
 * database with a greater version is refused with
 * %PATCHES_SERVER_ERROR_SCHEMA_TOO_NEW.
 */
#define PATCHES_SERVER_STORE_SCHEMA_VERSION 1

/**
 * PATCHES_SERVER_STORE_APPLICATION_ID:
 *
 * The `PRAGMA application_id` marking a patches-server database ("PtSv").
 */
#define PATCHES_SERVER_STORE_APPLICATION_ID 0x50745376

#define PATCHES_TYPE_SERVER_STORE (patches_server_store_get_type ())

G_DECLARE_FINAL_TYPE (PatchesServerStore, patches_server_store, PATCHES, SERVER_STORE, GObject)

PatchesServerStore        *patches_server_store_open                  (const char          *path,
                                                                       GError             **error) G_GNUC_WARN_UNUSED_RESULT;
const char                *patches_server_store_get_path              (PatchesServerStore  *self);
int                        patches_server_store_get_schema_version    (PatchesServerStore  *self);
const PatchesHistoryFuncs *patches_server_store_get_history_funcs     (void);

/* Transactions */
gboolean       patches_server_store_begin                 (PatchesServerStore  *self,
                                                           GError             **error);
gboolean       patches_server_store_commit                (PatchesServerStore  *self,
                                                           GError             **error);
void           patches_server_store_rollback              (PatchesServerStore  *self);
guint          patches_server_store_get_transaction_depth (PatchesServerStore  *self);
gboolean       patches_server_store_checkpoint            (PatchesServerStore  *self,
                                                           GError             **error);
void           patches_server_store_wait_checkpoint       (PatchesServerStore  *self);

/* commitChanges */
gboolean       patches_server_store_run_commit            (PatchesServerStore  *self,
                                                           PatchesCommit       *commit,
                                                           GError             **error);

/* Reads */
gboolean       patches_server_store_get_current_rev       (PatchesServerStore  *self,
                                                           const char          *doc_id,
                                                           gint64              *rev,
                                                           GError             **error);
PatchesValue  *patches_server_store_get_doc               (PatchesServerStore  *self,
                                                           const char          *doc_id,
                                                           gint64               rev,
                                                           GError             **error) G_GNUC_WARN_UNUSED_RESULT;
char          *patches_server_store_get_doc_json          (PatchesServerStore  *self,
                                                           const char          *doc_id,
                                                           gint64               rev,
                                                           GError             **error) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray     *patches_server_store_get_changes_since     (PatchesServerStore  *self,
                                                           const char          *doc_id,
                                                           gint64               rev,
                                                           GError             **error) G_GNUC_WARN_UNUSED_RESULT;
char          *patches_server_store_get_changes_since_json (PatchesServerStore *self,
                                                           const char          *doc_id,
                                                           gint64               rev,
                                                           GError             **error) G_GNUC_WARN_UNUSED_RESULT;

/* Versions */
PatchesValue  *patches_server_store_list_versions         (PatchesServerStore  *self,
                                                           const char          *doc_id,
                                                           const PatchesValue  *options,
                                                           GError             **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean       patches_server_store_create_version        (PatchesServerStore  *self,
                                                           const char          *doc_id,
                                                           const PatchesValue  *metadata,
                                                           gint64               now,
                                                           char               **version_id,
                                                           GError             **error);
gboolean       patches_server_store_update_version        (PatchesServerStore  *self,
                                                           const char          *doc_id,
                                                           const char          *version_id,
                                                           const PatchesValue  *metadata,
                                                           GError             **error);
PatchesValue  *patches_server_store_get_version           (PatchesServerStore  *self,
                                                           const char          *doc_id,
                                                           const char          *version_id,
                                                           GError             **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue  *patches_server_store_get_version_state     (PatchesServerStore  *self,
                                                           const char          *doc_id,
                                                           const char          *version_id,
                                                           GError             **error) G_GNUC_WARN_UNUSED_RESULT;
char          *patches_server_store_get_version_state_json (PatchesServerStore *self,
                                                           const char          *doc_id,
                                                           const char          *version_id,
                                                           GError             **error) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray     *patches_server_store_get_version_changes   (PatchesServerStore  *self,
                                                           const char          *doc_id,
                                                           const char          *version_id,
                                                           GError             **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue  *patches_server_store_get_state_before_version (PatchesServerStore *self,
                                                           const char          *doc_id,
                                                           const char          *version_id,
                                                           GError             **error) G_GNUC_WARN_UNUSED_RESULT;

/* Deletion */
gboolean       patches_server_store_delete_doc            (PatchesServerStore  *self,
                                                           const char          *doc_id,
                                                           const char          *client_id,
                                                           gboolean             skip_tombstone,
                                                           gint64               now,
                                                           GError             **error);
gboolean       patches_server_store_undelete_doc          (PatchesServerStore  *self,
                                                           const char          *doc_id,
                                                           gboolean            *removed,
                                                           GError             **error);
PatchesValue  *patches_server_store_get_tombstone         (PatchesServerStore  *self,
                                                           const char          *doc_id,
                                                           GError             **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
