/* patches-sqlite.c
 *
 * The SQLite plumbing shared by the client store and the server's store
 * (patches-sqlite-private.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-sqlite-private.h"

static const char * const tx_sql[PATCHES_SQLITE_N_TX] = {
  [PATCHES_SQLITE_TX_BEGIN] = "BEGIN IMMEDIATE",
  [PATCHES_SQLITE_TX_BEGIN_READ] = "BEGIN DEFERRED",
  [PATCHES_SQLITE_TX_COMMIT] = "COMMIT",
  [PATCHES_SQLITE_TX_ROLLBACK] = "ROLLBACK",
  [PATCHES_SQLITE_TX_SAVEPOINT] = "SAVEPOINT patches_store",
  [PATCHES_SQLITE_TX_RELEASE] = "RELEASE patches_store",
  [PATCHES_SQLITE_TX_ROLLBACK_TO] = "ROLLBACK TO patches_store",
};

void
patches_cached_stmt_release (PatchesCachedStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

/* Connection */

/* @stmt_sql, @n_stmts long, must outlive @sql; @path_in_messages starts
 * every error message with the path given to patches_sqlite_open() */
void
patches_sqlite_init (PatchesSqlite              *sql,
                     const char * const         *stmt_sql,
                     guint                       n_stmts,
                     GQuark                      domain,
                     PatchesSqliteErrorCodeFunc  error_code,
                     gboolean                    path_in_messages)
{
  memset (sql, 0, sizeof *sql);
  sql->stmt_sql = stmt_sql;
  sql->n_stmts = n_stmts;
  sql->stmts = g_new0 (sqlite3_stmt *, n_stmts);
  sql->domain = domain;
  sql->error_code = error_code;
  sql->path_in_messages = path_in_messages;
}

/* Opens (creating it when needed) the database at @path, with extended
 * result codes and a busy timeout */
gboolean
patches_sqlite_open (PatchesSqlite  *sql,
                     const char     *path,
                     int             busy_timeout_ms,
                     GError        **error)
{
  int rc;

  g_return_val_if_fail (sql->db == NULL, FALSE);

  g_free (sql->path);
  sql->path = g_strdup (path);

  rc = sqlite3_open_v2 (path, &sql->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
  if (rc != SQLITE_OK)
    {
      patches_sqlite_set_error (sql, rc, "Could not open the database", error);
      patches_sqlite_close (sql);
      return FALSE;
    }

  sqlite3_extended_result_codes (sql->db, 1);
  sqlite3_busy_timeout (sql->db, busy_timeout_ms);
  return TRUE;
}

/* Rolls back an open transaction, finalizes the statements and closes
 * the connection; @sql can be opened again */
void
patches_sqlite_close (PatchesSqlite *sql)
{
  if (sql->db != NULL && !sqlite3_get_autocommit (sql->db))
    sqlite3_exec (sql->db, "ROLLBACK", NULL, NULL, NULL);

  for (guint i = 0; i < sql->n_stmts; i++)
    g_clear_pointer (&sql->stmts[i], sqlite3_finalize);
  for (guint i = 0; i < PATCHES_SQLITE_N_TX; i++)
    g_clear_pointer (&sql->tx_stmts[i], sqlite3_finalize);
  g_clear_pointer (&sql->db, sqlite3_close_v2);
}

/* Closes and frees what patches_sqlite_init() and _open() allocated */
void
patches_sqlite_clear (PatchesSqlite *sql)
{
  patches_sqlite_close (sql);
  g_clear_pointer (&sql->stmts, g_free);
  g_clear_pointer (&sql->path, g_free);
}

/* Errors */

/* Sets @error to "@what: SQLite's message"; returns FALSE */
gboolean
patches_sqlite_set_error (PatchesSqlite  *sql,
                          int             rc,
                          const char     *what,
                          GError        **error)
{
  const char *message = sql->db != NULL ? sqlite3_errmsg (sql->db) : sqlite3_errstr (rc);

  if (sql->path_in_messages)
    g_set_error (error, sql->domain, sql->error_code (rc),
                 "%s: %s: %s", sql->path, what, message);
  else
    g_set_error (error, sql->domain, sql->error_code (rc), "%s: %s", what, message);
  return FALSE;
}

/* Sets @error to @message, with the code for @rc; returns FALSE */
static gboolean
set_error_literal (PatchesSqlite  *sql,
                   int             rc,
                   const char     *message,
                   GError        **error)
{
  if (sql->path_in_messages)
    g_set_error (error, sql->domain, sql->error_code (rc), "%s: %s", sql->path, message);
  else
    g_set_error_literal (error, sql->domain, sql->error_code (rc), message);
  return FALSE;
}

/* Statements */

static PatchesCachedStmt *
get_cached (PatchesSqlite  *sql,
            sqlite3_stmt  **slot,
            const char     *text,
            GError        **error)
{
  if (*slot == NULL)
    {
      int rc = sqlite3_prepare_v3 (sql->db, text, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);

      if (rc != SQLITE_OK)
        {
          patches_sqlite_set_error (sql, rc, "Could not prepare a statement", error);
          return NULL;
        }
    }

  return *slot;
}

/* The caller's statement @id, prepared on first use */
PatchesCachedStmt *
patches_sqlite_get_stmt (PatchesSqlite  *sql,
                         guint           id,
                         GError        **error)
{
  g_return_val_if_fail (id < sql->n_stmts, NULL);

  return get_cached (sql, &sql->stmts[id], sql->stmt_sql[id], error);
}

/* The caller's statement @id with @key (a document id, a setting name)
 * bound as ?1 */
PatchesCachedStmt *
patches_sqlite_get_stmt_for (PatchesSqlite  *sql,
                             guint           id,
                             const char     *key,
                             GError        **error)
{
  PatchesCachedStmt *stmt = patches_sqlite_get_stmt (sql, id, error);

  if (stmt != NULL)
    sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  return stmt;
}

/* Runs a statement that returns no row, then resets it */
gboolean
patches_sqlite_step_done (PatchesSqlite  *sql,
                          sqlite3_stmt   *stmt,
                          const char     *what,
                          GError        **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    ;
  if (rc != SQLITE_DONE)
    patches_sqlite_set_error (sql, rc, what, error);

  patches_cached_stmt_release (stmt);
  return rc == SQLITE_DONE;
}

/* Steps once: TRUE with *has_row for a row or the end, FALSE on error */
gboolean
patches_sqlite_step_row (PatchesSqlite  *sql,
                         sqlite3_stmt   *stmt,
                         gboolean       *has_row,
                         const char     *what,
                         GError        **error)
{
  int rc = sqlite3_step (stmt);

  *has_row = rc == SQLITE_ROW;
  if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    return TRUE;

  return patches_sqlite_set_error (sql, rc, what, error);
}

/* Runs the caller's statement @id whose only parameter is @key */
gboolean
patches_sqlite_run_for (PatchesSqlite  *sql,
                        guint           id,
                        const char     *key,
                        const char     *what,
                        GError        **error)
{
  PatchesCachedStmt *stmt = patches_sqlite_get_stmt_for (sql, id, key, error);

  return stmt != NULL && patches_sqlite_step_done (sql, stmt, what, error);
}

/* Runs a transaction statement (cached too) */
gboolean
patches_sqlite_run_tx (PatchesSqlite    *sql,
                       PatchesSqliteTx   tx,
                       const char       *what,
                       GError          **error)
{
  PatchesCachedStmt *stmt;

  g_return_val_if_fail (tx < PATCHES_SQLITE_N_TX, FALSE);

  stmt = get_cached (sql, &sql->tx_stmts[tx], tx_sql[tx], error);
  return stmt != NULL && patches_sqlite_step_done (sql, stmt, what, error);
}

/* Runs @text, any number of statements, uncached */
gboolean
patches_sqlite_exec (PatchesSqlite  *sql,
                     const char     *text,
                     const char     *what,
                     GError        **error)
{
  int rc = sqlite3_exec (sql->db, text, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    return patches_sqlite_set_error (sql, rc, what, error);
  return TRUE;
}

/* The first column of the first row of @text as an integer (0 for no
 * row) or a string (%NULL for no row) */
gboolean
patches_sqlite_query_single (PatchesSqlite  *sql,
                             const char     *text,
                             gint64         *number,
                             char          **string,
                             GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean has_row;
  int rc;

  rc = sqlite3_prepare_v2 (sql->db, text, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    return patches_sqlite_set_error (sql, rc, "Could not read the database", error);
  if (!patches_sqlite_step_row (sql, stmt, &has_row, "Could not read the database", error))
    return FALSE;

  if (number != NULL)
    *number = has_row ? sqlite3_column_int64 (stmt, 0) : 0;
  if (string != NULL)
    *string = has_row ? g_strdup ((const char *) sqlite3_column_text (stmt, 0)) : NULL;
  return TRUE;
}

/* A text column and its length in bytes (0 for NULL) */
const char *
patches_sqlite_column_text (sqlite3_stmt *stmt,
                            int           column,
                            gsize        *length)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  *length = text ? (gsize) sqlite3_column_bytes (stmt, column) : 0;
  return text;
}

/* Setting up */

/* Turns the write-ahead log on; fails if SQLite keeps another journal
 * mode, except for an in-memory database */
gboolean
patches_sqlite_enable_wal (PatchesSqlite  *sql,
                           GError        **error)
{
  g_autofree char *journal_mode = NULL;
  g_autofree char *message = NULL;
  gboolean in_memory = sql->path == NULL || sql->path[0] == '\0' ||
                       strcmp (sql->path, ":memory:") == 0;

  if (!patches_sqlite_query_single (sql, "PRAGMA journal_mode = WAL", NULL, &journal_mode, error))
    return FALSE;
  if (in_memory || g_ascii_strcasecmp (journal_mode ? journal_mode : "", "wal") == 0)
    return TRUE;

  message = g_strdup_printf ("Could not turn WAL mode on (the journal mode is %s)",
                             journal_mode ? journal_mode : "unknown");
  return set_error_literal (sql, SQLITE_IOERR, message, error);
}

/* Sets *@ours to whether the database carries @application_id, or
 * carries none and is empty (a new file) */
gboolean
patches_sqlite_is_ours (PatchesSqlite  *sql,
                        int             application_id,
                        gboolean       *ours,
                        GError        **error)
{
  gint64 id = 0;
  gint64 n_objects = 0;

  if (!patches_sqlite_query_single (sql, "PRAGMA application_id", &id, NULL, error) ||
      !patches_sqlite_query_single (sql, "SELECT count(*) FROM sqlite_schema",
                                    &n_objects, NULL, error))
    return FALSE;

  *ours = id == 0 ? n_objects == 0 : id == application_id;
  return TRUE;
}

/* Brings the schema to version @n_migrations in one transaction:
 * migration k takes a database from version k to k + 1; then sets
 * `user_version` and `application_id`.  @check sees the version first,
 * under the write lock (another process may have migrated meanwhile). */
gboolean
patches_sqlite_migrate (PatchesSqlite           *sql,
                        const char * const      *migrations,
                        guint                    n_migrations,
                        int                      application_id,
                        PatchesSqliteCheckFunc   check,
                        gpointer                 user_data,
                        GError                 **error)
{
  gint64 version = 0;

  if (!patches_sqlite_exec (sql, "BEGIN IMMEDIATE", "Could not read the database", error))
    return FALSE;

  if (!patches_sqlite_query_single (sql, "PRAGMA user_version", &version, NULL, error) ||
      !check (sql, version, user_data, error))
    goto failed;

  if (version < 0)
    {
      g_autofree char *message = g_strdup_printf ("Invalid schema version %" G_GINT64_FORMAT,
                                                  version);

      set_error_literal (sql, SQLITE_CORRUPT, message, error);
      goto failed;
    }

  if (version < (gint64) n_migrations)
    {
      g_autofree char *pragmas = NULL;

      for (gint64 v = version; v < (gint64) n_migrations; v++)
        {
          g_autofree char *what = NULL;

          what = g_strdup_printf ("Could not migrate to schema version %" G_GINT64_FORMAT, v + 1);

          if (!patches_sqlite_exec (sql, migrations[v], what, error))
            goto failed;
        }

      pragmas = g_strdup_printf ("PRAGMA user_version = %u; PRAGMA application_id = %d;",
                                 n_migrations, application_id);
      if (!patches_sqlite_exec (sql, pragmas, "Could not record the schema version", error))
        goto failed;
    }

  if (!patches_sqlite_exec (sql, "COMMIT", "Could not migrate the database", error))
    goto failed;

  return TRUE;

failed:
  if (!sqlite3_get_autocommit (sql->db))
    sqlite3_exec (sql->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

/* Transactions */

/* Commits the transaction; when that fails, or SQLite already rolled it
 * back by itself (I/O error, disk full), it is rolled back and FALSE
 * returned */
gboolean
patches_sqlite_commit (PatchesSqlite  *sql,
                       GError        **error)
{
  if (sqlite3_get_autocommit (sql->db))
    return set_error_literal (sql, SQLITE_ABORT, "The transaction was rolled back", error);

  if (!patches_sqlite_run_tx (sql, PATCHES_SQLITE_TX_COMMIT, "Could not commit", error))
    {
      patches_sqlite_rollback (sql);
      return FALSE;
    }

  return TRUE;
}

/* Rolls the transaction back, if SQLite has not done so by itself */
void
patches_sqlite_rollback (PatchesSqlite *sql)
{
  g_autoptr(GError) error = NULL;

  if (sqlite3_get_autocommit (sql->db))
    return;
  if (!patches_sqlite_run_tx (sql, PATCHES_SQLITE_TX_ROLLBACK, "Could not roll back", &error))
    g_warning ("%s", error->message);
}

/* Undoes the writes since the savepoint and ends it */
gboolean
patches_sqlite_rollback_savepoint (PatchesSqlite  *sql,
                                   const char     *what,
                                   GError        **error)
{
  return patches_sqlite_run_tx (sql, PATCHES_SQLITE_TX_ROLLBACK_TO, what, error) &&
         patches_sqlite_run_tx (sql, PATCHES_SQLITE_TX_RELEASE, what, error);
}
