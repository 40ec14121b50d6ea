/* patches-sqlite-store.h
 *
 * A #PatchesStore in one SQLite file: WAL, local edits durable when the
 * call returns (synchronous=FULL), what the server sent written without
 * waiting for the disk, and a versioned schema with migrations.  A
 * damaged file or one written by a newer schema is refused with a clear
 * error, never reset.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "patches-store.h"

G_BEGIN_DECLS

/**
 * PATCHES_SQLITE_STORE_SCHEMA_VERSION:
 *
 * The schema version this library writes (SQLite `user_version`).
 */
#define PATCHES_SQLITE_STORE_SCHEMA_VERSION 1

#define PATCHES_TYPE_SQLITE_STORE (patches_sqlite_store_get_type ())

G_DECLARE_FINAL_TYPE (PatchesSqliteStore, patches_sqlite_store, PATCHES, SQLITE_STORE, GObject)

PatchesSqliteStore *patches_sqlite_store_new              (const char         *path,
                                                           GError            **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesSqliteStore *patches_sqlite_store_new_for_profile  (const char         *application,
                                                           const char         *profile,
                                                           GError            **error) G_GNUC_WARN_UNUSED_RESULT;
const char         *patches_sqlite_store_get_path         (PatchesSqliteStore *self);
void                patches_sqlite_store_close            (PatchesSqliteStore *self);

G_END_DECLS
