/* patches-sqlite-private.h
 *
 * The SQLite plumbing the client store (#PatchesSqliteStore) and the
 * server's history store share: one connection with its prepared
 * statements cached for its life, stepping helpers that turn SQLite
 * result codes into a #GError of the caller's domain, transactions and
 * savepoints, and the `user_version` migration runner.  Not installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* A cached statement in use: reset (and its bindings cleared) when it
 * goes out of scope, never finalized. */
typedef sqlite3_stmt PatchesCachedStmt;

void patches_cached_stmt_release (PatchesCachedStmt *stmt);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesCachedStmt, patches_cached_stmt_release)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* Maps an SQLite result code to a code of the caller's error domain */
typedef int (*PatchesSqliteErrorCodeFunc) (int rc);

typedef enum {
  PATCHES_SQLITE_TX_BEGIN,        /* BEGIN IMMEDIATE */
  PATCHES_SQLITE_TX_BEGIN_READ,   /* BEGIN DEFERRED */
  PATCHES_SQLITE_TX_COMMIT,
  PATCHES_SQLITE_TX_ROLLBACK,
  PATCHES_SQLITE_TX_SAVEPOINT,
  PATCHES_SQLITE_TX_RELEASE,
  PATCHES_SQLITE_TX_ROLLBACK_TO,
  PATCHES_SQLITE_N_TX
} PatchesSqliteTx;

typedef struct {
  sqlite3                    *db;
  char                       *path;
  /* the caller's statements, by the caller's ids, prepared on first use */
  const char * const         *stmt_sql;
  sqlite3_stmt              **stmts;
  guint                       n_stmts;
  sqlite3_stmt               *tx_stmts[PATCHES_SQLITE_N_TX];
  /* errors: the domain, the code for a result code, and whether each
   * message starts with the path */
  GQuark                      domain;
  PatchesSqliteErrorCodeFunc  error_code;
  gboolean                    path_in_messages;
} PatchesSqlite;

/* Called by patches_sqlite_migrate() under the write lock with the file's
 * `user_version`: FALSE (with @error set) refuses the file.  It must
 * refuse a version newer than the migrations know. */
typedef gboolean (*PatchesSqliteCheckFunc) (PatchesSqlite  *sql,
                                            gint64          version,
                                            gpointer        user_data,
                                            GError        **error);

void               patches_sqlite_init          (PatchesSqlite               *sql,
                                                 const char * const          *stmt_sql,
                                                 guint                        n_stmts,
                                                 GQuark                       domain,
                                                 PatchesSqliteErrorCodeFunc   error_code,
                                                 gboolean                     path_in_messages);
gboolean           patches_sqlite_open          (PatchesSqlite               *sql,
                                                 const char                  *path,
                                                 int                          busy_timeout_ms,
                                                 GError                     **error);
void               patches_sqlite_close         (PatchesSqlite               *sql);
void               patches_sqlite_clear         (PatchesSqlite               *sql);

gboolean           patches_sqlite_set_error     (PatchesSqlite               *sql,
                                                 int                          rc,
                                                 const char                  *what,
                                                 GError                     **error);

PatchesCachedStmt *patches_sqlite_get_stmt      (PatchesSqlite               *sql,
                                                 guint                        id,
                                                 GError                     **error);
PatchesCachedStmt *patches_sqlite_get_stmt_for  (PatchesSqlite               *sql,
                                                 guint                        id,
                                                 const char                  *key,
                                                 GError                     **error);
gboolean           patches_sqlite_step_done     (PatchesSqlite               *sql,
                                                 sqlite3_stmt                *stmt,
                                                 const char                  *what,
                                                 GError                     **error);
gboolean           patches_sqlite_step_row      (PatchesSqlite               *sql,
                                                 sqlite3_stmt                *stmt,
                                                 gboolean                    *has_row,
                                                 const char                  *what,
                                                 GError                     **error);
gboolean           patches_sqlite_run_for       (PatchesSqlite               *sql,
                                                 guint                        id,
                                                 const char                  *key,
                                                 const char                  *what,
                                                 GError                     **error);
gboolean           patches_sqlite_run_tx        (PatchesSqlite               *sql,
                                                 PatchesSqliteTx              tx,
                                                 const char                  *what,
                                                 GError                     **error);
gboolean           patches_sqlite_exec          (PatchesSqlite               *sql,
                                                 const char                  *text,
                                                 const char                  *what,
                                                 GError                     **error);
gboolean           patches_sqlite_query_single  (PatchesSqlite               *sql,
                                                 const char                  *text,
                                                 gint64                      *number,
                                                 char                       **string,
                                                 GError                     **error);
const char        *patches_sqlite_column_text   (sqlite3_stmt                *stmt,
                                                 int                          column,
                                                 gsize                       *length);

gboolean           patches_sqlite_enable_wal    (PatchesSqlite               *sql,
                                                 GError                     **error);
gboolean           patches_sqlite_is_ours       (PatchesSqlite               *sql,
                                                 int                          application_id,
                                                 gboolean                    *ours,
                                                 GError                     **error);
gboolean           patches_sqlite_migrate       (PatchesSqlite               *sql,
                                                 const char * const          *migrations,
                                                 guint                        n_migrations,
                                                 int                          application_id,
                                                 PatchesSqliteCheckFunc       check,
                                                 gpointer                     user_data,
                                                 GError                     **error);

gboolean           patches_sqlite_commit        (PatchesSqlite               *sql,
                                                 GError                     **error);
void               patches_sqlite_rollback      (PatchesSqlite               *sql);
gboolean           patches_sqlite_rollback_savepoint (PatchesSqlite          *sql,
                                                 const char                  *what,
                                                 GError                     **error);

G_END_DECLS
