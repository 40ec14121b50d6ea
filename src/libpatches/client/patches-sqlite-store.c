/* patches-sqlite-store.c
 *
 * A #PatchesStore in one SQLite file (PROTOCOL.md appendix E.2): one
 * connection, prepared statements cached for the life of the store.
 *
 * Schema (version 1, `PRAGMA user_version`; `PRAGMA application_id` is
 * APPLICATION_ID below):
 *
 *   docs               one row per document the store holds data or a
 *                      tombstone for: `committed_rev`, and `deleted` = 1
 *                      for a tombstone (then no other table has rows for
 *                      the document).
 *   snapshots          the committed base: the state at `rev`
 *                      (`state_json` NULL for "no state").
 *   committed_changes  the committed log after the snapshot, each change
 *                      exactly as patches_change_write_json() wrote it.
 *                      The committed state is the snapshot with the rows
 *                      `snapshot.rev < rev <= docs.committed_rev` replayed.
 *                      When the log is long enough to be worth replacing
 *                      (see log_is_due()), or would get a gap, the state
 *                      handed to save_committed becomes the new snapshot
 *                      and the log is emptied.
 *   pending_changes    the pending queue, ordered by `rev`.
 *   tracked            the tracked set; independent of `docs`, so a
 *                      document can be tracked before it has any data.
 *   meta               small string settings (the client id).
 *
 * Migrations are an ordered list of SQL scripts, migration k bringing a
 * file from version k to k + 1; the pending ones run in one transaction
 * that also sets `user_version`.  A file of a newer version, a file that
 * is no database or fails `PRAGMA quick_check`, and another program's
 * database are refused before anything is written to them.
 *
 * Every write is one `BEGIN IMMEDIATE … COMMIT` transaction, rolled back
 * on failure.  A write of the store's own data (local edits, tracking,
 * deletions, settings) is durable once COMMIT returns (WAL,
 * synchronous=FULL); a write of what the server sent skips the fsync
 * (synchronous=NORMAL, see "Transactions" below).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "patches-ot.h"
#include "patches-sqlite-private.h"
#include "patches-sqlite-store.h"
#include "patches-sqlite-store-private.h"

#define BUSY_TIMEOUT_MS 5000
#define COMPACT_AFTER 200
#define COMPACT_MAX 4000
#define LOG_SHARE 4
#define APPLICATION_ID 0x50744373 /* "PtCs" */

/* Schema */

static const char * const migrations[] = {
  /* 0 → 1 */
  "CREATE TABLE docs ("
  "  doc_id         TEXT PRIMARY KEY NOT NULL,"
  "  committed_rev  INTEGER NOT NULL DEFAULT 0 CHECK (committed_rev >= 0),"
  "  algorithm      TEXT NOT NULL DEFAULT 'ot',"
  "  deleted        INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))"
  ");"
  "CREATE TABLE snapshots ("
  "  doc_id      TEXT PRIMARY KEY NOT NULL REFERENCES docs (doc_id) ON DELETE CASCADE,"
  "  rev         INTEGER NOT NULL CHECK (rev >= 0),"
  "  state_json  TEXT"
  ");"
  "CREATE TABLE committed_changes ("
  "  doc_id  TEXT NOT NULL REFERENCES docs (doc_id) ON DELETE CASCADE,"
  "  rev     INTEGER NOT NULL CHECK (rev >= 1),"
  "  json    TEXT NOT NULL,"
  "  PRIMARY KEY (doc_id, rev)"
  ");"
  "CREATE TABLE pending_changes ("
  "  doc_id  TEXT NOT NULL REFERENCES docs (doc_id) ON DELETE CASCADE,"
  "  rev     INTEGER NOT NULL CHECK (rev >= 1),"
  "  id      TEXT NOT NULL,"
  "  json    TEXT NOT NULL,"
  "  PRIMARY KEY (doc_id, rev)"
  ");"
  "CREATE TABLE tracked ("
  "  doc_id  TEXT PRIMARY KEY NOT NULL"
  ") WITHOUT ROWID;"
  "CREATE TABLE meta ("
  "  key    TEXT PRIMARY KEY NOT NULL,"
  "  value  TEXT NOT NULL"
  ") WITHOUT ROWID;",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == PATCHES_SQLITE_STORE_SCHEMA_VERSION);

/* Cached statements */

typedef enum {
  STMT_GET_DOC,
  STMT_GET_DOC_INFO,
  STMT_ENSURE_DOC,
  STMT_SET_REV,
  STMT_MARK_DELETED,
  STMT_DELETE_DOC,
  STMT_GET_SNAPSHOT,
  STMT_PUT_SNAPSHOT,
  STMT_DELETE_SNAPSHOT,
  STMT_LIST_COMMITTED,
  STMT_INSERT_COMMITTED,
  STMT_SNAPSHOT_REV,
  STMT_LOG_SIZES,
  STMT_DELETE_COMMITTED,
  STMT_LIST_PENDING,
  STMT_LAST_PENDING,
  STMT_INSERT_PENDING,
  STMT_DELETE_PENDING,
  STMT_TRACK,
  STMT_UNTRACK,
  STMT_LIST_TRACKED,
  STMT_LIST_TOMBSTONES,
  STMT_GET_META,
  STMT_SET_META,
  STMT_DELETE_META,
  STMT_SYNC_FULL,
  STMT_SYNC_NORMAL,
  N_STMTS
} StmtId;

static const char * const stmt_sql[N_STMTS] = {
  [STMT_GET_DOC] = "SELECT committed_rev, deleted FROM docs WHERE doc_id = ?1",
  [STMT_GET_DOC_INFO] =
    "SELECT d.committed_rev, d.deleted, "
    "(SELECT count(*) FROM pending_changes AS p WHERE p.doc_id = d.doc_id) "
    "FROM docs AS d WHERE d.doc_id = ?1",
  [STMT_ENSURE_DOC] = "INSERT INTO docs (doc_id) VALUES (?1) ON CONFLICT (doc_id) DO NOTHING",
  [STMT_SET_REV] = "UPDATE docs SET committed_rev = ?2 WHERE doc_id = ?1",
  [STMT_MARK_DELETED] =
    "INSERT INTO docs (doc_id, committed_rev, deleted) VALUES (?1, 0, 1) "
    "ON CONFLICT (doc_id) DO UPDATE SET committed_rev = 0, deleted = 1",
  [STMT_DELETE_DOC] = "DELETE FROM docs WHERE doc_id = ?1",
  [STMT_GET_SNAPSHOT] = "SELECT rev, state_json FROM snapshots WHERE doc_id = ?1",
  [STMT_PUT_SNAPSHOT] =
    "INSERT INTO snapshots (doc_id, rev, state_json) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (doc_id) DO UPDATE SET rev = excluded.rev, state_json = excluded.state_json",
  [STMT_DELETE_SNAPSHOT] = "DELETE FROM snapshots WHERE doc_id = ?1",
  [STMT_LIST_COMMITTED] =
    "SELECT rev, json FROM committed_changes WHERE doc_id = ?1 AND rev > ?2 AND rev <= ?3 "
    "ORDER BY rev",
  [STMT_INSERT_COMMITTED] =
    "INSERT OR REPLACE INTO committed_changes (doc_id, rev, json) VALUES (?1, ?2, ?3)",
  [STMT_SNAPSHOT_REV] = "SELECT rev FROM snapshots WHERE doc_id = ?1",
  [STMT_LOG_SIZES] =
    "SELECT (SELECT length (CAST (state_json AS BLOB)) FROM snapshots WHERE doc_id = ?1), "
    "(SELECT total (length (CAST (json AS BLOB))) FROM committed_changes WHERE doc_id = ?1)",
  [STMT_DELETE_COMMITTED] = "DELETE FROM committed_changes WHERE doc_id = ?1",
  [STMT_LIST_PENDING] = "SELECT rev, json FROM pending_changes WHERE doc_id = ?1 ORDER BY rev",
  [STMT_LAST_PENDING] = "SELECT max(rev) FROM pending_changes WHERE doc_id = ?1",
  [STMT_INSERT_PENDING] =
    "INSERT INTO pending_changes (doc_id, rev, id, json) VALUES (?1, ?2, ?3, ?4)",
  [STMT_DELETE_PENDING] = "DELETE FROM pending_changes WHERE doc_id = ?1",
  [STMT_TRACK] = "INSERT INTO tracked (doc_id) VALUES (?1) ON CONFLICT (doc_id) DO NOTHING",
  [STMT_UNTRACK] = "DELETE FROM tracked WHERE doc_id = ?1",
  [STMT_LIST_TRACKED] =
    "SELECT t.doc_id FROM tracked AS t LEFT JOIN docs AS d ON d.doc_id = t.doc_id "
    "WHERE coalesce (d.deleted, 0) = 0 ORDER BY t.doc_id",
  [STMT_LIST_TOMBSTONES] = "SELECT doc_id FROM docs WHERE deleted = 1 ORDER BY doc_id",
  [STMT_GET_META] = "SELECT value FROM meta WHERE key = ?1",
  [STMT_SET_META] =
    "INSERT INTO meta (key, value) VALUES (?1, ?2) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  [STMT_DELETE_META] = "DELETE FROM meta WHERE key = ?1",
  [STMT_SYNC_FULL] = "PRAGMA synchronous = FULL",
  [STMT_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
};

struct _PatchesSqliteStore
{
  GObject       parent_instance;

  char          *path;
  PatchesSqlite  sql;
  GString       *json;          /* scratch buffer for serialising */
  gboolean       relaxed;       /* synchronous=NORMAL is in force */
};

enum {
  PROP_0,
  PROP_PATH,
  N_PROPS
};

static void patches_sqlite_store_initable_iface_init (GInitableIface *iface);
static void patches_sqlite_store_store_iface_init (PatchesStoreInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PatchesSqliteStore, patches_sqlite_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      patches_sqlite_store_initable_iface_init)
                               G_IMPLEMENT_INTERFACE (PATCHES_TYPE_STORE,
                                                      patches_sqlite_store_store_iface_init))

static GParamSpec *properties[N_PROPS];

/* Errors */

static int
error_code_for_sqlite (int rc)
{
  switch (rc & 0xff)
    {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return PATCHES_STORE_ERROR_CORRUPT;

    default:
      return PATCHES_STORE_ERROR_IO;
    }
}

static gboolean
check_open (PatchesSqliteStore  *self,
            GError             **error)
{
  if (self->sql.db != NULL)
    return TRUE;

  g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_IO,
               "%s: the store is closed", self->path);
  return FALSE;
}

static gboolean
set_deleted_error (const char  *doc_id,
                   GError     **error)
{
  g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
               "Document %s is deleted", doc_id);
  return FALSE;
}

/* Transactions
 *
 * A write that holds something only this store has (a local edit, the
 * tracked set, a deletion, a setting) commits with synchronous=FULL:
 * once the call returns it survives a power cut.  A write of what came
 * from the server (save_committed, save_snapshot) commits with
 * synchronous=NORMAL, which skips the fsync: WAL keeps it atomic and
 * safe from a crash of the process, and after a power cut at worst the
 * last of it is gone and the file is back at an earlier write, whose
 * pending queue the server still accepts (it recognises change ids it
 * has committed) and whose revision the next sync moves on from.  The
 * next FULL commit syncs the log, and with it everything before.  The
 * setting is switched only when it changes, before BEGIN. */

static gboolean
set_relaxed (PatchesSqliteStore  *self,
             gboolean             relaxed,
             GError             **error)
{
  g_autoptr(PatchesCachedStmt) stmt = NULL;

  if (self->relaxed == relaxed)
    return TRUE;

  stmt = patches_sqlite_get_stmt (&self->sql, relaxed ? STMT_SYNC_NORMAL : STMT_SYNC_FULL, error);
  if (stmt == NULL ||
      !patches_sqlite_step_done (&self->sql, stmt, "Could not set the sync level", error))
    return FALSE;

  self->relaxed = relaxed;
  return TRUE;
}

static gboolean
begin_write_at (PatchesSqliteStore  *self,
                gboolean             relaxed,
                GError             **error)
{
  return check_open (self, error) &&
         set_relaxed (self, relaxed, error) &&
         patches_sqlite_run_tx (&self->sql, PATCHES_SQLITE_TX_BEGIN,
                                "Could not begin a transaction", error);
}

/* A write of this store's own data */
static gboolean
begin_write (PatchesSqliteStore  *self,
             GError             **error)
{
  return begin_write_at (self, FALSE, error);
}

/* A write of what the server can give again */
static gboolean
begin_write_refetchable (PatchesSqliteStore  *self,
                         GError             **error)
{
  return begin_write_at (self, TRUE, error);
}

static gboolean
begin_read (PatchesSqliteStore  *self,
            GError             **error)
{
  return check_open (self, error) &&
         patches_sqlite_run_tx (&self->sql, PATCHES_SQLITE_TX_BEGIN_READ,
                                "Could not begin a transaction", error);
}

/* Ends the transaction begun by begin_write() or begin_read(): commits
 * when @ok, else (or when the commit fails) rolls back. */
static gboolean
finish (PatchesSqliteStore  *self,
        gboolean             ok,
        GError             **error)
{
  if (!ok)
    {
      patches_sqlite_rollback (&self->sql);
      return FALSE;
    }

  return patches_sqlite_commit (&self->sql, error);
}

/* Rows */

static PatchesChange *
parse_change_row (sqlite3_stmt  *stmt,
                  const char    *doc_id,
                  const char    *what,
                  GError       **error)
{
  g_autoptr(PatchesValue) value = NULL;
  g_autoptr(GError) local_error = NULL;
  PatchesChange *change = NULL;
  gint64 rev = sqlite3_column_int64 (stmt, 0);
  const char *text;
  gsize length;

  text = patches_sqlite_column_text (stmt, 1, &length);
  if (text == NULL)
    g_set_error_literal (&local_error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_CORRUPT,
                         "no JSON");
  else if ((value = patches_value_parse (text, length, &local_error)) != NULL)
    change = patches_change_from_value (value, &local_error);

  if (change != NULL && change->rev != rev)
    {
      g_clear_pointer (&change, patches_change_unref);
      g_set_error_literal (&local_error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_CORRUPT,
                           "the change has another revision");
    }

  if (change == NULL)
    g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_CORRUPT,
                 "Document %s: the %s change at revision %" G_GINT64_FORMAT
                 " does not parse: %s", doc_id, what, rev, local_error->message);
  return change;
}

/* Reads the docs row: FALSE on error, else *exists and, when it does,
 * the committed revision and tombstone flag. */
static gboolean
get_doc_row (PatchesSqliteStore  *self,
             const char          *doc_id,
             gboolean            *exists,
             gint64              *committed_rev,
             gboolean            *deleted,
             GError             **error)
{
  g_autoptr(PatchesCachedStmt) stmt =
    patches_sqlite_get_stmt_for (&self->sql, STMT_GET_DOC, doc_id, error);

  if (stmt == NULL ||
      !patches_sqlite_step_row (&self->sql, stmt, exists, "Could not read a document", error))
    return FALSE;

  *committed_rev = *exists ? sqlite3_column_int64 (stmt, 0) : 0;
  *deleted = *exists && sqlite3_column_int (stmt, 1) != 0;
  return TRUE;
}

static gboolean
read_snapshot (PatchesSqliteStore  *self,
               const char          *doc_id,
               PatchesValue       **state,
               gint64              *rev,
               GError             **error)
{
  g_autoptr(PatchesCachedStmt) stmt =
    patches_sqlite_get_stmt_for (&self->sql, STMT_GET_SNAPSHOT, doc_id, error);
  g_autoptr(GError) local_error = NULL;
  const char *text;
  gboolean has_row;
  gsize length;

  *state = NULL;
  *rev = 0;
  if (stmt == NULL ||
      !patches_sqlite_step_row (&self->sql, stmt, &has_row, "Could not read a snapshot", error))
    return FALSE;
  if (!has_row)
    return TRUE;

  *rev = sqlite3_column_int64 (stmt, 0);
  text = patches_sqlite_column_text (stmt, 1, &length);
  if (text == NULL)
    return TRUE;

  *state = patches_value_parse (text, length, &local_error);
  if (*state == NULL)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_CORRUPT,
                   "Document %s: the snapshot at revision %" G_GINT64_FORMAT
                   " does not parse: %s", doc_id, *rev, local_error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_changes (PatchesSqliteStore  *self,
              PatchesCachedStmt   *stmt,
              const char          *doc_id,
              const char          *what,
              GPtrArray           *out,
              GError             **error)
{
  gboolean has_row;

  for (;;)
    {
      PatchesChange *change;

      if (!patches_sqlite_step_row (&self->sql, stmt, &has_row, "Could not read changes", error))
        return FALSE;
      if (!has_row)
        return TRUE;

      change = parse_change_row (stmt, doc_id, what, error);
      if (change == NULL)
        return FALSE;
      g_ptr_array_add (out, change);
    }
}

static PatchesStoredDoc *
read_doc (PatchesSqliteStore  *self,
          const char          *doc_id,
          GError             **error)
{
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(PatchesValue) state = NULL;
  g_autoptr(GPtrArray) log = NULL;
  g_autoptr(GError) local_error = NULL;
  gint64 committed_rev, snapshot_rev;
  gboolean exists, deleted;

  if (!get_doc_row (self, doc_id, &exists, &committed_rev, &deleted, error))
    return NULL;
  if (!exists)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND,
                   "Document %s is not in the store", doc_id);
      return NULL;
    }

  stored = patches_stored_doc_new (doc_id);
  if (deleted)
    {
      stored->deleted = TRUE;
      return g_steal_pointer (&stored);
    }
  stored->committed_rev = committed_rev;

  if (!read_snapshot (self, doc_id, &state, &snapshot_rev, error))
    return NULL;

  log = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_change_unref);
  {
    g_autoptr(PatchesCachedStmt) stmt =
      patches_sqlite_get_stmt_for (&self->sql, STMT_LIST_COMMITTED, doc_id, error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64 (stmt, 2, snapshot_rev);
    sqlite3_bind_int64 (stmt, 3, committed_rev);
    if (!read_changes (self, stmt, doc_id, "committed", log, error))
      return NULL;
  }

  if (!patches_changes_apply (&state, log, &local_error))
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_CORRUPT,
                   "Document %s: the committed changes after revision %" G_GINT64_FORMAT
                   " do not apply to the snapshot: %s",
                   doc_id, snapshot_rev, local_error->message);
      return NULL;
    }
  stored->state = g_steal_pointer (&state);

  {
    g_autoptr(PatchesCachedStmt) stmt =
      patches_sqlite_get_stmt_for (&self->sql, STMT_LIST_PENDING, doc_id, error);

    if (stmt == NULL ||
        !read_changes (self, stmt, doc_id, "pending", stored->pending, error))
      return NULL;
  }

  return g_steal_pointer (&stored);
}

/* Writes */

static gboolean
ensure_doc (PatchesSqliteStore  *self,
            const char          *doc_id,
            GError             **error)
{
  return patches_sqlite_run_for (&self->sql, STMT_ENSURE_DOC, doc_id,
                                 "Could not create a document", error);
}

/* The docs row for a write: fails on a tombstone, which only purge
 * removes; *committed_rev is 0 for a document not stored yet. */
static gboolean
get_writable_doc (PatchesSqliteStore  *self,
                  const char          *doc_id,
                  gint64              *committed_rev,
                  GError             **error)
{
  gboolean exists, deleted;

  if (!get_doc_row (self, doc_id, &exists, committed_rev, &deleted, error))
    return FALSE;
  if (deleted)
    return set_deleted_error (doc_id, error);
  return TRUE;
}

static gboolean
put_snapshot (PatchesSqliteStore  *self,
              const char          *doc_id,
              PatchesValue        *state,
              gint64               rev,
              GError             **error)
{
  g_autoptr(PatchesCachedStmt) stmt =
    patches_sqlite_get_stmt_for (&self->sql, STMT_PUT_SNAPSHOT, doc_id, error);

  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 2, rev);
  if (state != NULL)
    {
      g_string_truncate (self->json, 0);
      patches_value_write_json (state, self->json);
      sqlite3_bind_text64 (stmt, 3, self->json->str, self->json->len,
                           SQLITE_TRANSIENT, SQLITE_UTF8);
    }
  else
    sqlite3_bind_null (stmt, 3);

  return patches_sqlite_step_done (&self->sql, stmt, "Could not save a snapshot", error);
}

static gboolean
insert_committed (PatchesSqliteStore  *self,
                  const char          *doc_id,
                  const PatchesChange *change,
                  GError             **error)
{
  g_autoptr(PatchesCachedStmt) stmt =
    patches_sqlite_get_stmt_for (&self->sql, STMT_INSERT_COMMITTED, doc_id, error);

  if (stmt == NULL)
    return FALSE;

  g_string_truncate (self->json, 0);
  patches_change_write_json (change, self->json);
  sqlite3_bind_int64 (stmt, 2, change->rev);
  sqlite3_bind_text64 (stmt, 3, self->json->str, self->json->len, SQLITE_TRANSIENT, SQLITE_UTF8);

  return patches_sqlite_step_done (&self->sql, stmt, "Could not save a committed change", error);
}

static gboolean
insert_pending (PatchesSqliteStore  *self,
                const char          *doc_id,
                GPtrArray           *changes,
                GError             **error)
{
  for (guint i = 0; i < changes->len; i++)
    {
      const PatchesChange *change = g_ptr_array_index (changes, i);
      g_autoptr(PatchesCachedStmt) stmt =
        patches_sqlite_get_stmt_for (&self->sql, STMT_INSERT_PENDING, doc_id, error);

      if (stmt == NULL)
        return FALSE;

      g_string_truncate (self->json, 0);
      patches_change_write_json (change, self->json);
      sqlite3_bind_int64 (stmt, 2, change->rev);
      sqlite3_bind_text (stmt, 3, change->id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text64 (stmt, 4, self->json->str, self->json->len,
                           SQLITE_TRANSIENT, SQLITE_UTF8);
      if (!patches_sqlite_step_done (&self->sql, stmt, "Could not save a pending change", error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
replace_pending (PatchesSqliteStore  *self,
                 const char          *doc_id,
                 GPtrArray           *pending,
                 GError             **error)
{
  return patches_sqlite_run_for (&self->sql, STMT_DELETE_PENDING, doc_id,
                                 "Could not delete pending changes", error) &&
         insert_pending (self, doc_id, pending, error);
}

/* Deletes the document's snapshot, committed log and pending queue */
static gboolean
delete_doc_data (PatchesSqliteStore  *self,
                 const char          *doc_id,
                 GError             **error)
{
  return patches_sqlite_run_for (&self->sql, STMT_DELETE_SNAPSHOT, doc_id,
                                 "Could not delete a snapshot", error) &&
         patches_sqlite_run_for (&self->sql, STMT_DELETE_COMMITTED, doc_id,
                                 "Could not delete committed changes", error) &&
         patches_sqlite_run_for (&self->sql, STMT_DELETE_PENDING, doc_id,
                                 "Could not delete pending changes", error);
}

/* The length of a dense log: the revisions after the snapshot's (a
 * document without a snapshot has had a dense log from revision 1, or
 * it would have been compacted).  Cheaper than counting the rows, which
 * a long log makes slow. */
static gboolean
log_length (PatchesSqliteStore  *self,
            const char          *doc_id,
            gint64               rev,
            gint64              *count,
            GError             **error)
{
  g_autoptr(PatchesCachedStmt) stmt =
    patches_sqlite_get_stmt_for (&self->sql, STMT_SNAPSHOT_REV, doc_id, error);
  gboolean has_row;

  if (stmt == NULL ||
      !patches_sqlite_step_row (&self->sql, stmt, &has_row,
                                "Could not read a snapshot", error))
    return FALSE;

  *count = rev - (has_row ? sqlite3_column_int64 (stmt, 0) : 0);
  return TRUE;
}

/* Whether the log of @doc_id, @n_rows long of which @n_added are new, is
 * due to become the snapshot.  Writing a snapshot costs its size (about
 * 15 ms for 1 MiB, on the main loop), replaying the log when the
 * document loads costs the log's: so a log is kept until it holds more
 * than COMPACT_AFTER rows and a LOG_SHARE-th of the snapshot's bytes
 * (checked each time it passes a multiple of COMPACT_AFTER rows, as the
 * sizes cost a read of the snapshot), and never beyond COMPACT_MAX rows.
 * A small document's log is replaced every COMPACT_AFTER changes, a
 * 1 MiB note's every two thousand or so. */
static gboolean
log_is_due (PatchesSqliteStore  *self,
            const char          *doc_id,
            gint64               n_rows,
            gint64               n_added,
            gboolean            *due,
            GError             **error)
{
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  gboolean has_row;

  *due = FALSE;
  if (n_rows <= COMPACT_AFTER)
    return TRUE;
  if (n_rows > COMPACT_MAX)
    {
      *due = TRUE;
      return TRUE;
    }
  if ((n_rows - 1) / COMPACT_AFTER == (n_rows - 1 - n_added) / COMPACT_AFTER)
    return TRUE;

  stmt = patches_sqlite_get_stmt_for (&self->sql, STMT_LOG_SIZES, doc_id, error);
  if (stmt == NULL ||
      !patches_sqlite_step_row (&self->sql, stmt, &has_row,
                                "Could not measure committed changes", error))
    return FALSE;

  *due = !has_row ||
         sqlite3_column_double (stmt, 1) * LOG_SHARE >= (double) sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

static gboolean
save_committed_locked (PatchesSqliteStore  *self,
                       const char          *doc_id,
                       GPtrArray           *changes,
                       PatchesValue        *state,
                       gint64               rev,
                       GPtrArray           *pending,
                       GError             **error)
{
  gint64 old_rev, expected, n_rows, n_added = 0;
  gboolean dense = TRUE;
  gboolean due;

  if (!get_writable_doc (self, doc_id, &old_rev, error))
    return FALSE;
  if (rev < old_rev)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                   "Document %s: committed revision %" G_GINT64_FORMAT
                   " is below the stored %" G_GINT64_FORMAT,
                   doc_id, rev, old_rev);
      return FALSE;
    }

  if (!ensure_doc (self, doc_id, error))
    return FALSE;

  expected = old_rev + 1;
  if (changes != NULL)
    for (guint i = 0; i < changes->len; i++)
      {
        const PatchesChange *change = g_ptr_array_index (changes, i);

        if (change->rev <= old_rev)
          continue;
        if (change->rev != expected)
          dense = FALSE;
        expected = change->rev + 1;
        if (!insert_committed (self, doc_id, change, error))
          return FALSE;
        n_added++;
      }
  if (expected != rev + 1)
    dense = FALSE;

  {
    g_autoptr(PatchesCachedStmt) stmt =
      patches_sqlite_get_stmt_for (&self->sql, STMT_SET_REV, doc_id, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 2, rev);
    if (!patches_sqlite_step_done (&self->sql, stmt,
                                   "Could not save the committed revision", error))
      return FALSE;
  }

  if (pending != NULL && !replace_pending (self, doc_id, pending, error))
    return FALSE;

  /* Compact: a log that is due, or one the replay could not cross (a
   * gap, or a revision reached without changes), is replaced by the
   * given state. */
  if (state == NULL)
    return TRUE;
  if (dense)
    {
      if (!log_length (self, doc_id, rev, &n_rows, error) ||
          !log_is_due (self, doc_id, n_rows, n_added, &due, error))
        return FALSE;
      if (!due)
        return TRUE;
    }

  return put_snapshot (self, doc_id, state, rev, error) &&
         patches_sqlite_run_for (&self->sql, STMT_DELETE_COMMITTED, doc_id,
                                 "Could not compact committed changes", error);
}

/* PatchesStore */

static PatchesStoredDoc *
patches_sqlite_store_load_doc (PatchesStore  *store,
                               const char    *doc_id,
                               GError       **error)
{
  PatchesSqliteStore *self = PATCHES_SQLITE_STORE (store);
  g_autoptr(PatchesStoredDoc) stored = NULL;

  if (!begin_read (self, error))
    return NULL;

  stored = read_doc (self, doc_id, error);
  if (!finish (self, stored != NULL, stored != NULL ? error : NULL))
    return NULL;

  return g_steal_pointer (&stored);
}

/* One query on the primary keys: no state is read or parsed */
static gboolean
patches_sqlite_store_get_doc_info (PatchesStore  *store,
                                   const char    *doc_id,
                                   gint64        *committed_rev,
                                   guint         *n_pending,
                                   gboolean      *deleted,
                                   GError       **error)
{
  PatchesSqliteStore *self = PATCHES_SQLITE_STORE (store);
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  gboolean has_row;

  if (!check_open (self, error))
    return FALSE;

  stmt = patches_sqlite_get_stmt_for (&self->sql, STMT_GET_DOC_INFO, doc_id, error);
  if (stmt == NULL ||
      !patches_sqlite_step_row (&self->sql, stmt, &has_row, "Could not read a document", error))
    return FALSE;

  if (!has_row)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND,
                   "Document %s is not in the store", doc_id);
      return FALSE;
    }

  *deleted = sqlite3_column_int (stmt, 1) != 0;
  *committed_rev = *deleted ? 0 : sqlite3_column_int64 (stmt, 0);
  *n_pending = *deleted ? 0 : (guint) MIN (sqlite3_column_int64 (stmt, 2), G_MAXUINT);

  return TRUE;
}

static gboolean
patches_sqlite_store_save_committed (PatchesStore  *store,
                                     const char    *doc_id,
                                     GPtrArray     *changes,
                                     PatchesValue  *state,
                                     gint64         rev,
                                     GPtrArray     *pending,
                                     GError       **error)
{
  PatchesSqliteStore *self = PATCHES_SQLITE_STORE (store);

  if (!begin_write_refetchable (self, error))
    return FALSE;

  return finish (self,
                 save_committed_locked (self, doc_id, changes, state, rev, pending, error),
                 error);
}

static gboolean
patches_sqlite_store_save_snapshot (PatchesStore  *store,
                                    const char    *doc_id,
                                    PatchesValue  *state,
                                    gint64         rev,
                                    GPtrArray     *pending,
                                    GError       **error)
{
  PatchesSqliteStore *self = PATCHES_SQLITE_STORE (store);
  gint64 old_rev;
  gboolean ok;

  if (!begin_write_refetchable (self, error))
    return FALSE;

  ok = get_writable_doc (self, doc_id, &old_rev, error) &&
       ensure_doc (self, doc_id, error) &&
       put_snapshot (self, doc_id, state, rev, error) &&
       patches_sqlite_run_for (&self->sql, STMT_DELETE_COMMITTED, doc_id,
                               "Could not delete committed changes", error);

  if (ok)
    {
      g_autoptr(PatchesCachedStmt) stmt =
        patches_sqlite_get_stmt_for (&self->sql, STMT_SET_REV, doc_id, error);

      ok = stmt != NULL;
      if (ok)
        {
          sqlite3_bind_int64 (stmt, 2, rev);
          ok = patches_sqlite_step_done (&self->sql, stmt,
                                         "Could not save the committed revision", error);
        }
    }

  if (ok && pending != NULL)
    ok = replace_pending (self, doc_id, pending, error);

  return finish (self, ok, error);
}

static gboolean
append_pending_locked (PatchesSqliteStore  *self,
                       const char          *doc_id,
                       GPtrArray           *changes,
                       GError             **error)
{
  gint64 committed_rev;

  if (!get_writable_doc (self, doc_id, &committed_rev, error))
    return FALSE;

  if (changes->len > 0)
    {
      const PatchesChange *first = g_ptr_array_index (changes, 0);
      g_autoptr(PatchesCachedStmt) stmt =
        patches_sqlite_get_stmt_for (&self->sql, STMT_LAST_PENDING, doc_id, error);
      gboolean has_row;

      if (stmt == NULL ||
          !patches_sqlite_step_row (&self->sql, stmt, &has_row,
                                    "Could not read pending changes", error))
        return FALSE;

      if (has_row && sqlite3_column_type (stmt, 0) != SQLITE_NULL &&
          first->rev <= sqlite3_column_int64 (stmt, 0))
        {
          g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                       "Document %s: pending change %s has revision %" G_GINT64_FORMAT
                       ", not above the last pending %" G_GINT64_FORMAT,
                       doc_id, first->id, first->rev, (gint64) sqlite3_column_int64 (stmt, 0));
          return FALSE;
        }
    }

  return ensure_doc (self, doc_id, error) &&
         insert_pending (self, doc_id, changes, error);
}

static gboolean
patches_sqlite_store_append_pending (PatchesStore  *store,
                                     const char    *doc_id,
                                     GPtrArray     *changes,
                                     GError       **error)
{
  PatchesSqliteStore *self = PATCHES_SQLITE_STORE (store);

  if (!begin_write (self, error))
    return FALSE;

  return finish (self, append_pending_locked (self, doc_id, changes, error), error);
}

static gboolean
patches_sqlite_store_replace_pending (PatchesStore  *store,
                                      const char    *doc_id,
                                      GPtrArray     *pending,
                                      GError       **error)
{
  PatchesSqliteStore *self = PATCHES_SQLITE_STORE (store);
  gint64 committed_rev;
  gboolean ok;

  if (!begin_write (self, error))
    return FALSE;

  ok = get_writable_doc (self, doc_id, &committed_rev, error) &&
       ensure_doc (self, doc_id, error) &&
       replace_pending (self, doc_id, pending, error);

  return finish (self, ok, error);
}

static gboolean
patches_sqlite_store_track_docs (PatchesStore  *store,
                                 const char   **doc_ids,
                                 GError       **error)
{
  PatchesSqliteStore *self = PATCHES_SQLITE_STORE (store);
  gboolean ok = TRUE;

  if (!begin_write (self, error))
    return FALSE;

  for (guint i = 0; ok && doc_ids[i] != NULL; i++)
    ok = patches_sqlite_run_for (&self->sql, STMT_TRACK, doc_ids[i],
                                 "Could not track a document", error);

  return finish (self, ok, error);
}

static gboolean
untrack_one (PatchesSqliteStore  *self,
             const char          *doc_id,
             GError             **error)
{
  gint64 committed_rev;
  gboolean exists, deleted;

  if (!patches_sqlite_run_for (&self->sql, STMT_UNTRACK, doc_id,
                               "Could not untrack a document", error) ||
      !get_doc_row (self, doc_id, &exists, &committed_rev, &deleted, error))
    return FALSE;

  if (!exists || deleted)
    return TRUE;

  return delete_doc_data (self, doc_id, error) &&
         patches_sqlite_run_for (&self->sql, STMT_DELETE_DOC, doc_id,
                                 "Could not delete a document", error);
}

static gboolean
patches_sqlite_store_untrack_docs (PatchesStore  *store,
                                   const char   **doc_ids,
                                   GError       **error)
{
  PatchesSqliteStore *self = PATCHES_SQLITE_STORE (store);
  gboolean ok = TRUE;

  if (!begin_write (self, error))
    return FALSE;

  for (guint i = 0; ok && doc_ids[i] != NULL; i++)
    ok = untrack_one (self, doc_ids[i], error);

  return finish (self, ok, error);
}

static char **
list_ids (PatchesSqliteStore  *self,
          StmtId               id,
          GError             **error)
{
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  gboolean has_row;

  if (!check_open (self, error))
    return NULL;

  stmt = patches_sqlite_get_stmt (&self->sql, id, error);
  if (stmt == NULL)
    return NULL;

  builder = g_strv_builder_new ();
  for (;;)
    {
      if (!patches_sqlite_step_row (&self->sql, stmt, &has_row, "Could not list documents", error))
        return NULL;
      if (!has_row)
        break;
      g_strv_builder_add (builder, (const char *) sqlite3_column_text (stmt, 0));
    }

  return g_strv_builder_end (builder);
}

static char **
patches_sqlite_store_list_tracked (PatchesStore  *store,
                                   GError       **error)
{
  return list_ids (PATCHES_SQLITE_STORE (store), STMT_LIST_TRACKED, error);
}

/* Deletes the document's data, runs @id (which leaves a tombstone or
 * removes the docs row) and untracks the document, in one transaction */
static gboolean
remove_doc (PatchesSqliteStore  *self,
            const char          *doc_id,
            StmtId               id,
            const char          *what,
            GError             **error)
{
  gboolean ok;

  if (!begin_write (self, error))
    return FALSE;

  ok = delete_doc_data (self, doc_id, error) &&
       patches_sqlite_run_for (&self->sql, id, doc_id, what, error) &&
       patches_sqlite_run_for (&self->sql, STMT_UNTRACK, doc_id,
                               "Could not untrack a document", error);

  return finish (self, ok, error);
}

static gboolean
patches_sqlite_store_delete_doc (PatchesStore  *store,
                                 const char    *doc_id,
                                 GError       **error)
{
  return remove_doc (PATCHES_SQLITE_STORE (store), doc_id, STMT_MARK_DELETED,
                     "Could not delete a document", error);
}

static gboolean
patches_sqlite_store_purge_doc (PatchesStore  *store,
                                const char    *doc_id,
                                GError       **error)
{
  return remove_doc (PATCHES_SQLITE_STORE (store), doc_id, STMT_DELETE_DOC,
                     "Could not purge a document", error);
}

static char **
patches_sqlite_store_list_tombstones (PatchesStore  *store,
                                      GError       **error)
{
  return list_ids (PATCHES_SQLITE_STORE (store), STMT_LIST_TOMBSTONES, error);
}

static char *
patches_sqlite_store_get_meta (PatchesStore  *store,
                               const char    *key,
                               GError       **error)
{
  PatchesSqliteStore *self = PATCHES_SQLITE_STORE (store);
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  gboolean has_row;

  if (!check_open (self, error))
    return NULL;

  stmt = patches_sqlite_get_stmt_for (&self->sql, STMT_GET_META, key, error);
  if (stmt == NULL ||
      !patches_sqlite_step_row (&self->sql, stmt, &has_row, "Could not read a setting", error) ||
      !has_row)
    return NULL;

  return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
}

static gboolean
patches_sqlite_store_set_meta (PatchesStore  *store,
                               const char    *key,
                               const char    *value,
                               GError       **error)
{
  PatchesSqliteStore *self = PATCHES_SQLITE_STORE (store);
  gboolean ok;

  /* A write like any other, so that it is durable like any other */
  if (!begin_write (self, error))
    return FALSE;

  {
    g_autoptr(PatchesCachedStmt) stmt =
      patches_sqlite_get_stmt_for (&self->sql, value != NULL ? STMT_SET_META : STMT_DELETE_META,
                                   key, error);

    ok = stmt != NULL;
    if (ok && value != NULL)
      sqlite3_bind_text (stmt, 2, value, -1, SQLITE_TRANSIENT);
    ok = ok && patches_sqlite_step_done (&self->sql, stmt, "Could not save a setting", error);
  }

  return finish (self, ok, error);
}

static void
patches_sqlite_store_store_iface_init (PatchesStoreInterface *iface)
{
  iface->load_doc = patches_sqlite_store_load_doc;
  iface->get_doc_info = patches_sqlite_store_get_doc_info;
  iface->save_committed = patches_sqlite_store_save_committed;
  iface->save_snapshot = patches_sqlite_store_save_snapshot;
  iface->append_pending = patches_sqlite_store_append_pending;
  iface->replace_pending = patches_sqlite_store_replace_pending;
  iface->track_docs = patches_sqlite_store_track_docs;
  iface->untrack_docs = patches_sqlite_store_untrack_docs;
  iface->list_tracked = patches_sqlite_store_list_tracked;
  iface->delete_doc = patches_sqlite_store_delete_doc;
  iface->purge_doc = patches_sqlite_store_purge_doc;
  iface->list_tombstones = patches_sqlite_store_list_tombstones;
  iface->get_meta = patches_sqlite_store_get_meta;
  iface->set_meta = patches_sqlite_store_set_meta;
}

/* Opening and migrating */

/* A PatchesSqliteCheckFunc */
static gboolean
check_version (PatchesSqlite  *sql,
               gint64          version,
               gpointer        user_data,
               GError        **error)
{
  if (version > PATCHES_SQLITE_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_VERSION,
                   "%s: schema version %" G_GINT64_FORMAT " is newer than version %d, "
                   "the newest this version of libpatches knows",
                   sql->path, version, PATCHES_SQLITE_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  if (version < 0)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_CORRUPT,
                   "%s: invalid schema version %" G_GINT64_FORMAT, sql->path, version);
      return FALSE;
    }
  return TRUE;
}

/* Checks the file before anything is written to it: a database of ours
 * (or an empty one), of a version we know, that passes quick_check. */
static gboolean
check_file (PatchesSqliteStore  *self,
            GError             **error)
{
  g_autofree char *check = NULL;
  gint64 version = 0;
  gboolean ours;

  if (!patches_sqlite_query_single (&self->sql, "PRAGMA user_version", &version, NULL, error) ||
      !check_version (&self->sql, version, NULL, error))
    return FALSE;

  if (!patches_sqlite_query_single (&self->sql, "PRAGMA quick_check", NULL, &check, error))
    return FALSE;
  if (g_strcmp0 (check, "ok") != 0)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_CORRUPT,
                   "%s: the database is damaged (%s)", self->path, check ? check : "no answer");
      return FALSE;
    }

  if (!patches_sqlite_is_ours (&self->sql, APPLICATION_ID, &ours, error))
    return FALSE;
  if (!ours)
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_CORRUPT,
                   "%s: not a Patches client store", self->path);
      return FALSE;
    }

  return TRUE;
}

static gboolean
patches_sqlite_store_initable_init (GInitable     *initable,
                                    GCancellable  *cancellable,
                                    GError       **error)
{
  PatchesSqliteStore *self = PATCHES_SQLITE_STORE (initable);

  if (self->path == NULL || self->path[0] == '\0')
    {
      g_set_error_literal (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                           "No database path given");
      return FALSE;
    }
  if (self->sql.db != NULL)
    return TRUE;

  if (strcmp (self->path, ":memory:") != 0)
    {
      g_autofree char *dir = g_path_get_dirname (self->path);

      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          int saved_errno = errno;

          g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_IO,
                       "Could not create the directory %s: %s", dir, g_strerror (saved_errno));
          return FALSE;
        }
    }

  if (!patches_sqlite_open (&self->sql, self->path, BUSY_TIMEOUT_MS, error))
    return FALSE;

  if (!check_file (self, error) ||
      !patches_sqlite_enable_wal (&self->sql, error) ||
      !patches_sqlite_exec (&self->sql, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                            "Could not configure the database", error) ||
      !patches_sqlite_migrate (&self->sql, migrations, G_N_ELEMENTS (migrations), APPLICATION_ID,
                               check_version, NULL, error))
    goto failed;

  return TRUE;

failed:
  patches_sqlite_close (&self->sql);
  return FALSE;
}

static void
patches_sqlite_store_initable_iface_init (GInitableIface *iface)
{
  iface->init = patches_sqlite_store_initable_init;
}

/* GObject */

static void
patches_sqlite_store_finalize (GObject *object)
{
  PatchesSqliteStore *self = (PatchesSqliteStore *)object;

  patches_sqlite_clear (&self->sql);
  g_clear_pointer (&self->path, g_free);
  if (self->json != NULL)
    g_string_free (g_steal_pointer (&self->json), TRUE);

  G_OBJECT_CLASS (patches_sqlite_store_parent_class)->finalize (object);
}

static void
patches_sqlite_store_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  PatchesSqliteStore *self = PATCHES_SQLITE_STORE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_sqlite_store_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  PatchesSqliteStore *self = PATCHES_SQLITE_STORE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_free (self->path);
      self->path = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_sqlite_store_class_init (PatchesSqliteStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = patches_sqlite_store_finalize;
  object_class->get_property = patches_sqlite_store_get_property;
  object_class->set_property = patches_sqlite_store_set_property;

  /**
   * PatchesSqliteStore:path:
   *
   * The database file (created with its parent directories when
   * missing), or `:memory:` for a database that lives and dies with the
   * store.
   */
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
patches_sqlite_store_init (PatchesSqliteStore *self)
{
  patches_sqlite_init (&self->sql, stmt_sql, N_STMTS,
                       PATCHES_STORE_ERROR, error_code_for_sqlite, TRUE);
  self->json = g_string_new (NULL);
}

/* Public API */

/**
 * patches_sqlite_store_new:
 * @path: (type filename): the database file; it and its parent
 *   directories are created when missing
 * @error: return location for a #GError
 *
 * Opens the store in @path (WAL, foreign keys on), creating or migrating
 * its schema.  Local edits, the tracked set, deletions and settings are
 * durable once the call that writes them returns (synchronous=FULL);
 * what the server sent is written without waiting for the disk
 * (synchronous=NORMAL): a power cut may take the last of it, which the
 * next sync fetches again, never a local edit.  A file written by a newer schema
 * fails with %PATCHES_STORE_ERROR_VERSION, a file that is no SQLite
 * database, is damaged or belongs to another program with
 * %PATCHES_STORE_ERROR_CORRUPT; such files are left exactly as they are.
 *
 * Returns: (transfer full) (nullable): the store, or %NULL with @error set
 */
PatchesSqliteStore *
patches_sqlite_store_new (const char  *path,
                          GError     **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (PATCHES_TYPE_SQLITE_STORE, NULL, error,
                         "path", path,
                         NULL);
}

static gboolean
is_valid_path_component (const char *name)
{
  return name[0] != '\0' &&
         strcmp (name, ".") != 0 &&
         strcmp (name, "..") != 0 &&
         strchr (name, '/') == NULL &&
         strchr (name, G_DIR_SEPARATOR) == NULL;
}

/**
 * patches_sqlite_store_new_for_profile:
 * @application: the application's directory name, such as its id
 * @profile: (nullable): the profile name, or %NULL for `default`
 * @error: return location for a #GError
 *
 * Opens the store of a profile: the file
 * `$XDG_DATA_HOME/@application/@profile/patches.db` (see
 * g_get_user_data_dir()), as patches_sqlite_store_new() does.
 * @application and @profile must be single path components.
 *
 * Returns: (transfer full) (nullable): the store, or %NULL with @error set
 */
PatchesSqliteStore *
patches_sqlite_store_new_for_profile (const char  *application,
                                      const char  *profile,
                                      GError     **error)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (application != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (profile == NULL)
    profile = "default";

  if (!is_valid_path_component (application) || !is_valid_path_component (profile))
    {
      g_set_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID,
                   "Invalid application or profile name: “%s”, “%s”", application, profile);
      return NULL;
    }

  path = g_build_filename (g_get_user_data_dir (), application, profile, "patches.db", NULL);
  return patches_sqlite_store_new (path, error);
}

/**
 * patches_sqlite_store_get_path:
 * @self: a #PatchesSqliteStore
 *
 * Returns: (type filename): the database file
 */
const char *
patches_sqlite_store_get_path (PatchesSqliteStore *self)
{
  g_return_val_if_fail (PATCHES_IS_SQLITE_STORE (self), NULL);

  return self->path;
}

/**
 * patches_sqlite_store_close:
 * @self: a #PatchesSqliteStore
 *
 * Closes the database.  Every later call on the store fails with
 * %PATCHES_STORE_ERROR_IO.  Closing twice is harmless; finalizing the
 * store closes it too.
 */
void
patches_sqlite_store_close (PatchesSqliteStore *self)
{
  g_return_if_fail (PATCHES_IS_SQLITE_STORE (self));

  patches_sqlite_close (&self->sql);
}

sqlite3 *
patches_sqlite_store_get_database (PatchesSqliteStore *self)
{
  g_return_val_if_fail (PATCHES_IS_SQLITE_STORE (self), NULL);

  return self->sql.db;
}
