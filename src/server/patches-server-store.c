/* patches-server-store.c
 *
 * The server's history store over SQLite (PROTOCOL.md §7.1): one
 * connection, prepared statements cached for the life of the store.
 *
 * Schema (version 1, `PRAGMA user_version`; `PRAGMA application_id` is
 * PATCHES_SERVER_STORE_APPLICATION_ID):
 *
 *   docs        one row per document that has history: `head_rev`, the
 *               highest committed revision, is a cache kept by the
 *               trigger below, so reading the head is one lookup.
 *               Deleting the row deletes the document's changes and
 *               versions (foreign keys with ON DELETE CASCADE).
 *   changes     the change log: `(doc_id, rev)` and `(doc_id, change_id)`
 *               are UNIQUE (PROTOCOL.md §7.1: a violation is a revision
 *               conflict, resp. duplicate ids).  `json` is the whole change
 *               as committed (every field, metadata included), written by
 *               patches_change_write_json(); the other columns are copies
 *               for queries.  A BEFORE INSERT trigger refuses any revision
 *               other than head + 1, so revisions stay dense; an AFTER
 *               INSERT trigger advances `docs.head_rev`; committed changes
 *               cannot be updated.
 *   versions    version metadata (`meta_json`, exactly as listVersions
 *               returns it, with the fields queries need copied into
 *               columns), the changes the version covers (`changes_json`,
 *               for getVersionChanges) and its state at `end_rev`
 *               (`state_json`, NULL while not built, which readers answer
 *               with 503).  `seq` numbers versions in creation order and is
 *               never reused.  States are built inline, in reconstruction
 *               mode, from the nearest earlier `main` version that has a
 *               state, so no read ever replays a whole history.
 *   tombstones  one row per deleted document (PROTOCOL.md §4.10); they
 *               outlive the document's data.
 *
 * Migrations are an ordered list of SQL scripts, migration k bringing a
 * database from version k to k + 1; the pending ones run in one
 * transaction that also sets `user_version`, so a database is always at
 * one known version.  A database of a newer version is refused.
 *
 * Every write the history functions make is atomic on its own
 * (save_changes works inside a savepoint); patches_server_store_begin()
 * and friends group several writes into one transaction, nesting as
 * savepoints, so the server can answer a group of commits once they are
 * durable together (WAL with synchronous=FULL: durable when COMMIT
 * returns).  A failed commitChanges leaves nothing behind, not even the
 * catch-up versions it made before failing (the reference's
 * non-transactional stores keep those).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <math.h>
#include <string.h>

#include <sqlite3.h>

#include "patches-ot.h"
#include "patches-sqlite-private.h"
#include "patches-server-store.h"
#include "patches-server-store-private.h"

#define BUSY_TIMEOUT_MS 5000
/* The page size of a new database (an existing one keeps its own) */
#define STORE_PAGE_SIZE 1024
/* A checkpoint starts once the log holds this many pages; it runs on a
 * worker thread while it has more than CHECKPOINT_TAIL_PAGES to copy,
 * and the last few are copied in the write path so that the log can
 * start over */
#define CHECKPOINT_START_PAGES 10000
#define CHECKPOINT_TAIL_PAGES 1000
/* ... and in any case once the log holds this many times the first */
#define CHECKPOINT_LIMIT_FACTOR 4
/* SQLite's page cache, kept small: the server's resident target is 30 MB */
#define CACHE_KIB 4096

struct _PatchesServerStore
{
  GObject        parent_instance;

  char          *path;
  PatchesSqlite  sql;
  guint          depth;
  int            schema_version;

  /* The state of the version built last, so that the next version of
   * the same document starts from it instead of parsing its JSON again
   * (the version id ties it to that row: a rolled-back version and a
   * later one never share an id) */
  char          *memo_doc_id;
  char          *memo_version_id;
  PatchesValue  *memo_state;

  /* Background checkpoints: the worker's own connection, whether one
   * runs, and how far the log had been copied when the last one ended */
  struct Checkpointer *checkpointer;
  gboolean       checkpoint_running;
  int            checkpoint_copied;
  int            checkpoint_start;
  int            checkpoint_tail;
  guint          n_checkpoints;
};

enum {
  PROP_0,
  PROP_PATH,
  N_PROPS
};

static void patches_server_store_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PatchesServerStore, patches_server_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      patches_server_store_initable_iface_init))

static GParamSpec *properties[N_PROPS];

/* Schema */

static const char * const migrations[] = {
  /* 0 → 1 */
  "CREATE TABLE docs ("
  "  doc_id      TEXT PRIMARY KEY NOT NULL,"
  "  head_rev    INTEGER NOT NULL DEFAULT 0 CHECK (head_rev >= 0),"
  "  created_at  INTEGER NOT NULL,"
  "  updated_at  INTEGER NOT NULL"
  ");"
  "CREATE TABLE changes ("
  "  doc_id        TEXT NOT NULL REFERENCES docs (doc_id) ON DELETE CASCADE,"
  "  rev           INTEGER NOT NULL CHECK (rev >= 1),"
  "  change_id     TEXT NOT NULL,"
  "  batch_id      TEXT,"
  "  client_id     TEXT,"
  "  created_at    INTEGER NOT NULL,"
  "  committed_at  INTEGER NOT NULL,"
  "  json          TEXT NOT NULL,"
  "  UNIQUE (doc_id, rev),"
  "  UNIQUE (doc_id, change_id)"
  ");"
  "CREATE TRIGGER changes_dense BEFORE INSERT ON changes "
  "BEGIN"
  "  SELECT RAISE (ABORT, 'revisions must be dense')"
  "  WHERE NEW.rev <> coalesce ((SELECT head_rev FROM docs WHERE doc_id = NEW.doc_id), 0) + 1;"
  "END;"
  "CREATE TRIGGER changes_head AFTER INSERT ON changes "
  "BEGIN"
  "  UPDATE docs SET head_rev = NEW.rev WHERE doc_id = NEW.doc_id;"
  "END;"
  "CREATE TRIGGER changes_immutable BEFORE UPDATE ON changes "
  "BEGIN"
  "  SELECT RAISE (ABORT, 'committed changes are immutable');"
  "END;"
  "CREATE TABLE versions ("
  "  seq           INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  doc_id        TEXT NOT NULL REFERENCES docs (doc_id) ON DELETE CASCADE,"
  "  version_id    TEXT NOT NULL,"
  "  origin        TEXT NOT NULL,"
  "  start_rev     INTEGER NOT NULL,"
  "  end_rev       INTEGER NOT NULL,"
  "  started_at    INTEGER,"
  "  ended_at      INTEGER,"
  "  parent_id     TEXT,"
  "  group_id      TEXT,"
  "  created_at    INTEGER NOT NULL,"
  "  meta_json     TEXT NOT NULL,"
  "  state_json    TEXT,"
  "  changes_json  TEXT NOT NULL,"
  "  UNIQUE (doc_id, version_id)"
  ");"
  "CREATE INDEX versions_by_end_rev ON versions (doc_id, end_rev);"
  "CREATE INDEX versions_by_origin ON versions (doc_id, origin, end_rev);"
  "CREATE TABLE tombstones ("
  "  doc_id                TEXT PRIMARY KEY NOT NULL,"
  "  deleted_at            INTEGER NOT NULL,"
  "  last_rev              INTEGER NOT NULL,"
  "  deleted_by_client_id  TEXT,"
  "  expires_at            INTEGER,"
  "  json                  TEXT NOT NULL"
  ");",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == PATCHES_SERVER_STORE_SCHEMA_VERSION);

/* Cached statements */

typedef enum {
  STMT_GET_HEAD,
  STMT_TOUCH_DOC,
  STMT_LIST_CHANGES,
  STMT_LIST_CHANGES_REVERSE,
  STMT_INSERT_CHANGE,
  STMT_CHANGE_ID_EXISTS,
  STMT_FIND_VERSION,
  STMT_FIND_VERSION_ORIGIN,
  STMT_SNAPSHOT,
  STMT_BASE_STATE,
  STMT_INSERT_VERSION,
  STMT_VERSION_META,
  STMT_VERSION_STATE,
  STMT_VERSION_CHANGES,
  STMT_UPDATE_VERSION_META,
  STMT_DELETE_CHANGES,
  STMT_DELETE_VERSIONS,
  STMT_DELETE_DOC,
  STMT_PUT_TOMBSTONE,
  STMT_GET_TOMBSTONE,
  STMT_DELETE_TOMBSTONE,
  N_STMTS
} StmtId;

static const char * const stmt_sql[N_STMTS] = {
  [STMT_GET_HEAD] = "SELECT head_rev FROM docs WHERE doc_id = ?1",
  [STMT_TOUCH_DOC] =
    "INSERT INTO docs (doc_id, head_rev, created_at, updated_at) VALUES (?1, 0, ?2, ?2) "
    "ON CONFLICT (doc_id) DO UPDATE SET updated_at = excluded.updated_at",
  [STMT_LIST_CHANGES] =
    "SELECT rev, json FROM changes WHERE doc_id = ?1 AND rev > ?2 AND rev < ?3 "
    "ORDER BY rev LIMIT ?4",
  [STMT_LIST_CHANGES_REVERSE] =
    "SELECT rev, json FROM changes WHERE doc_id = ?1 AND rev > ?2 AND rev < ?3 "
    "ORDER BY rev DESC LIMIT ?4",
  [STMT_INSERT_CHANGE] =
    "INSERT INTO changes (doc_id, rev, change_id, batch_id, client_id, created_at, committed_at, json) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
  [STMT_CHANGE_ID_EXISTS] = "SELECT 1 FROM changes WHERE doc_id = ?1 AND change_id = ?2",
  [STMT_FIND_VERSION] =
    "SELECT meta_json FROM versions WHERE doc_id = ?1 AND end_rev <= ?2 "
    "ORDER BY end_rev DESC, seq DESC LIMIT 1",
  [STMT_FIND_VERSION_ORIGIN] =
    "SELECT meta_json FROM versions WHERE doc_id = ?1 AND origin = ?3 AND end_rev <= ?2 "
    "ORDER BY end_rev DESC, seq DESC LIMIT 1",
  [STMT_SNAPSHOT] =
    "SELECT end_rev, state_json FROM versions WHERE doc_id = ?1 AND origin = 'main' AND end_rev <= ?2 "
    "ORDER BY end_rev DESC, seq DESC LIMIT 1",
  [STMT_BASE_STATE] =
    "SELECT end_rev, state_json, version_id FROM versions WHERE doc_id = ?1 AND origin = 'main' "
    "AND end_rev <= ?2 AND state_json IS NOT NULL ORDER BY end_rev DESC, seq DESC LIMIT 1",
  [STMT_INSERT_VERSION] =
    "INSERT INTO versions (doc_id, version_id, origin, start_rev, end_rev, started_at, ended_at, "
    "parent_id, group_id, created_at, meta_json, state_json, changes_json) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
  [STMT_VERSION_META] =
    "SELECT meta_json, start_rev FROM versions WHERE doc_id = ?1 AND version_id = ?2",
  [STMT_VERSION_STATE] = "SELECT state_json FROM versions WHERE doc_id = ?1 AND version_id = ?2",
  [STMT_VERSION_CHANGES] = "SELECT changes_json FROM versions WHERE doc_id = ?1 AND version_id = ?2",
  [STMT_UPDATE_VERSION_META] =
    "UPDATE versions SET meta_json = ?3 WHERE doc_id = ?1 AND version_id = ?2",
  [STMT_DELETE_CHANGES] = "DELETE FROM changes WHERE doc_id = ?1",
  [STMT_DELETE_VERSIONS] = "DELETE FROM versions WHERE doc_id = ?1",
  [STMT_DELETE_DOC] = "DELETE FROM docs WHERE doc_id = ?1",
  [STMT_PUT_TOMBSTONE] =
    "INSERT OR REPLACE INTO tombstones (doc_id, deleted_at, last_rev, deleted_by_client_id, expires_at, json) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  [STMT_GET_TOMBSTONE] = "SELECT json FROM tombstones WHERE doc_id = ?1",
  [STMT_DELETE_TOMBSTONE] = "DELETE FROM tombstones WHERE doc_id = ?1",
};

/* Errors */

static int
error_code_for_sqlite (int rc)
{
  switch (rc & 0xff)
    {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return PATCHES_SERVER_ERROR_BUSY;

    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return PATCHES_SERVER_ERROR_CORRUPT;

    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOMEM:
    case SQLITE_NOLFS:
      return PATCHES_SERVER_ERROR_IO;

    default:
      return PATCHES_SERVER_ERROR_FAILED;
    }
}

static void
set_version_not_found (GError     **error,
                       const char  *doc_id,
                       const char  *version_id)
{
  g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_NOT_FOUND,
               "Version %s not found for doc %s.", version_id, doc_id);
}

/* Statement helpers */

static void
bind_text (sqlite3_stmt *stmt,
           int           index,
           const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, index);
}

/* A JSON number: an integer column value when it is one, else a real */
static void
bind_number (sqlite3_stmt *stmt,
             int           index,
             double        value)
{
  if (!isfinite (value))
    sqlite3_bind_null (stmt, index);
  else if (value == floor (value) && fabs (value) < 9007199254740992.0)
    sqlite3_bind_int64 (stmt, index, (sqlite3_int64) value);
  else
    sqlite3_bind_double (stmt, index, value);
}

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

/* JSON */

static PatchesValue *
parse_stored (const char  *text,
              gsize        length,
              const char  *what,
              const char  *doc_id,
              GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  PatchesValue *value;

  value = patches_value_parse (text ? text : "null", text ? (gssize) length : -1, &local_error);
  if (value == NULL)
    g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_CORRUPT,
                 "Stored %s of doc %s is unreadable: %s", what, doc_id, local_error->message);
  return value;
}

static PatchesChange *
parse_stored_change (const char  *text,
                     gsize        length,
                     const char  *doc_id,
                     gint64       rev,
                     GError     **error)
{
  g_autoptr(PatchesValue) value = NULL;
  g_autoptr(GError) local_error = NULL;
  PatchesChange *change;

  value = patches_value_parse (text ? text : "null", text ? (gssize) length : -1, &local_error);
  if (value != NULL)
    change = patches_change_from_value (value, &local_error);
  else
    change = NULL;

  if (change == NULL)
    g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_CORRUPT,
                 "Stored change %" G_GINT64_FORMAT " of doc %s is unreadable: %s",
                 rev, doc_id, local_error->message);
  return change;
}

static const char *
meta_string (const PatchesValue *meta,
             const char         *key)
{
  PatchesValue *member;

  if (meta == NULL || patches_value_get_kind (meta) != PATCHES_VALUE_OBJECT)
    return NULL;
  member = patches_value_object_get (meta, key);
  if (member == NULL || patches_value_get_kind (member) != PATCHES_VALUE_STRING)
    return NULL;
  return patches_value_get_string (member);
}

static gboolean
meta_number (const PatchesValue *meta,
             const char         *key,
             double             *number)
{
  PatchesValue *member;

  if (meta == NULL || patches_value_get_kind (meta) != PATCHES_VALUE_OBJECT)
    return FALSE;
  member = patches_value_object_get (meta, key);
  if (member == NULL || patches_value_get_kind (member) != PATCHES_VALUE_NUMBER)
    return FALSE;
  *number = patches_value_get_number (member);
  return isfinite (*number);
}

/* Transactions */

/**
 * patches_server_store_begin:
 * @self: a #PatchesServerStore
 * @error: return location for a #GError
 *
 * Opens a transaction (`BEGIN IMMEDIATE`, so the write lock is taken at
 * once), or, inside one, a savepoint: transactions nest, and each level
 * ends with patches_server_store_commit() or
 * patches_server_store_rollback().  Only the outermost commit makes the
 * writes durable.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_server_store_begin (PatchesServerStore  *self,
                            GError             **error)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), FALSE);

  if (self->depth > 0 && sqlite3_get_autocommit (self->sql.db))
    {
      /* SQLite rolled the transaction back itself (I/O error, disk full) */
      g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_FAILED,
                   "The enclosing transaction was rolled back");
      return FALSE;
    }

  if (!patches_sqlite_run_tx (&self->sql,
                              self->depth == 0 ? PATCHES_SQLITE_TX_BEGIN
                                               : PATCHES_SQLITE_TX_SAVEPOINT,
                              "Could not begin a transaction", error))
    return FALSE;

  self->depth++;
  return TRUE;
}

static void memo_clear (PatchesServerStore *self);

/**
 * patches_server_store_commit:
 * @self: a #PatchesServerStore
 * @error: return location for a #GError
 *
 * Ends the innermost transaction level opened by
 * patches_server_store_begin(), keeping its writes.  For the outermost
 * level this is `COMMIT`: when it returns %TRUE the writes are durable
 * (WAL, synchronous=FULL); when it fails, the whole transaction has been
 * rolled back.  An inner level that fails is rolled back alone, unless
 * SQLite itself abandoned the whole transaction (disk full, I/O error):
 * then every level fails until the outermost one is ended.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_server_store_commit (PatchesServerStore  *self,
                             GError             **error)
{
  gboolean ok;

  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (self->depth > 0, FALSE);

  if (self->depth > 1 && !sqlite3_get_autocommit (self->sql.db))
    {
      if (!patches_sqlite_run_tx (&self->sql, PATCHES_SQLITE_TX_RELEASE,
                                  "Could not release a savepoint", error))
        {
          patches_server_store_rollback (self);
          return FALSE;
        }
      self->depth--;
      return TRUE;
    }

  /* The outermost level, or any level once SQLite rolled everything back
   * itself (then it fails, and the levels stay paired) */
  ok = patches_sqlite_commit (&self->sql, error);
  self->depth--;
  if (!ok)
    memo_clear (self);
  return ok;
}

/**
 * patches_server_store_rollback:
 * @self: a #PatchesServerStore
 *
 * Ends the innermost transaction level opened by
 * patches_server_store_begin(), undoing its writes.
 */
void
patches_server_store_rollback (PatchesServerStore *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (PATCHES_IS_SERVER_STORE (self));
  g_return_if_fail (self->depth > 0);

  /* The kept state may be of a version being undone */
  memo_clear (self);
  if (self->depth > 1 && !sqlite3_get_autocommit (self->sql.db))
    {
      if (!patches_sqlite_rollback_savepoint (&self->sql, "Could not roll back to a savepoint",
                                              &error))
        g_warning ("%s", error->message);
    }
  else
    patches_sqlite_rollback (&self->sql);
  self->depth--;
}

/**
 * patches_server_store_checkpoint:
 * @self: a #PatchesServerStore
 * @error: return location for a #GError
 *
 * Copies what the write-ahead log holds into the database file, so that
 * the log starts over at its beginning with the next write.  Writes do
 * this by themselves every few thousand pages; the server also does it
 * when it has been idle for a moment.  Does nothing inside a transaction.
 * It also lets go of the last version's state kept for building the
 * next one (an idle server hands memory back).
 *
 * Returns: %TRUE on success (including when the database is busy and the
 *   log could be copied only in part)
 */
gboolean
patches_server_store_checkpoint (PatchesServerStore  *self,
                                 GError             **error)
{
  int rc;

  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), FALSE);

  if (self->depth > 0)
    return TRUE;

  memo_clear (self);
  rc = sqlite3_wal_checkpoint_v2 (self->sql.db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
    return patches_sqlite_set_error (&self->sql, rc,
                                     "Could not checkpoint the write-ahead log", error);

  return TRUE;
}

/**
 * patches_server_store_wait_checkpoint:
 * @self: a #PatchesServerStore
 *
 * Runs the thread-default main context until the background copy of the
 * write-ahead log, if one is running, has finished and let go of the
 * store.  For shutting down: once the store is then released, it closes
 * like any SQLite database (the last connection copies what is left and
 * removes the log) instead of being kept alive, half-way through a
 * copy, until the process exits.
 */
void
patches_server_store_wait_checkpoint (PatchesServerStore *self)
{
  g_return_if_fail (PATCHES_IS_SERVER_STORE (self));

  while (self->checkpoint_running)
    g_main_context_iteration (NULL, TRUE);
}

/**
 * patches_server_store_get_transaction_depth:
 * @self: a #PatchesServerStore
 *
 * Returns: how many levels of patches_server_store_begin() are open
 */
guint
patches_server_store_get_transaction_depth (PatchesServerStore *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), 0);

  return self->depth;
}

/* The history functions (PatchesHistoryFuncs) */

static gboolean
store_get_current_rev (gpointer     data,
                       const char  *doc_id,
                       gint64      *rev,
                       GError     **error)
{
  PatchesServerStore *self = data;
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  gboolean has_row;

  *rev = 0;

  if (!(stmt = patches_sqlite_get_stmt (&self->sql, STMT_GET_HEAD, error)))
    return FALSE;
  bind_text (stmt, 1, doc_id);
  if (!patches_sqlite_step_row (&self->sql, stmt, &has_row,
                                "Could not read the head revision", error))
    return FALSE;
  if (has_row)
    *rev = sqlite3_column_int64 (stmt, 0);

  return TRUE;
}

/* Calls @func for each stored change of @doc_id in (after, before) */
typedef gboolean (*ChangeRowFunc) (gint64       rev,
                                   const char  *json,
                                   gsize        length,
                                   gpointer     user_data,
                                   GError     **error);

static gboolean
foreach_change (PatchesServerStore  *self,
                const char          *doc_id,
                gint64               start_after,
                gint64               end_before,
                guint                limit,
                gboolean             reverse,
                ChangeRowFunc        func,
                gpointer             user_data,
                GError             **error)
{
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  int rc;

  if (!(stmt = patches_sqlite_get_stmt (&self->sql,
                                        reverse ? STMT_LIST_CHANGES_REVERSE : STMT_LIST_CHANGES,
                                        error)))
    return FALSE;

  bind_text (stmt, 1, doc_id);
  sqlite3_bind_int64 (stmt, 2, start_after >= 0 ? start_after : G_MININT64);
  sqlite3_bind_int64 (stmt, 3, end_before >= 0 ? end_before : G_MAXINT64);
  sqlite3_bind_int64 (stmt, 4, limit > 0 ? (sqlite3_int64) limit : -1);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gsize length;
      const char *json = patches_sqlite_column_text (stmt, 1, &length);

      if (!func (sqlite3_column_int64 (stmt, 0), json, length, user_data, error))
        return FALSE;
    }

  if (rc != SQLITE_DONE)
    return patches_sqlite_set_error (&self->sql, rc, "Could not read changes", error);

  return TRUE;
}

typedef struct {
  const char *doc_id;
  GPtrArray  *changes;
} ParseChanges;

static gboolean
parse_change_row (gint64       rev,
                  const char  *json,
                  gsize        length,
                  gpointer     user_data,
                  GError     **error)
{
  ParseChanges *parse = user_data;
  PatchesChange *change = parse_stored_change (json, length, parse->doc_id, rev, error);

  if (change == NULL)
    return FALSE;
  g_ptr_array_add (parse->changes, change);
  return TRUE;
}

static GPtrArray *
store_list_changes (gpointer     data,
                    const char  *doc_id,
                    gint64       start_after,
                    gint64       end_before,
                    guint        limit,
                    gboolean     reverse,
                    GError     **error)
{
  g_autoptr(GPtrArray) changes = patches_changes_new ();
  ParseChanges parse = { doc_id, changes };

  if (!foreach_change (data, doc_id, start_after, end_before, limit, reverse,
                       parse_change_row, &parse, error))
    return NULL;

  return g_steal_pointer (&changes);
}

static gboolean
append_change_row (gint64       rev,
                   const char  *json,
                   gsize        length,
                   gpointer     user_data,
                   GError     **error)
{
  GString *out = user_data;

  if (out->str[out->len - 1] != '[')
    g_string_append_c (out, ',');
  g_string_append_len (out, json ? json : "null", json ? (gssize) length : 4);
  return TRUE;
}

/* Appends `[change,…]` with the stored JSON texts */
static gboolean
append_changes_json (PatchesServerStore  *self,
                     const char          *doc_id,
                     gint64               start_after,
                     gint64               end_before,
                     GString             *out,
                     GError             **error)
{
  g_string_append_c (out, '[');
  if (!foreach_change (self, doc_id, start_after, end_before, 0, FALSE,
                       append_change_row, out, error))
    return FALSE;
  g_string_append_c (out, ']');
  return TRUE;
}

static int
compare_by_rev (gconstpointer a,
                gconstpointer b)
{
  const PatchesChange *ca = *(PatchesChange **) a;
  const PatchesChange *cb = *(PatchesChange **) b;

  return ca->rev < cb->rev ? -1 : ca->rev > cb->rev;
}

/* After a failed insert: says why, like PROTOCOL.md §7.1 wants it.  Ids
 * already committed (or repeated within @changes) make a duplicate-ids
 * error; a revision already taken a revision conflict; anything else
 * would leave a gap. */
static gboolean
explain_conflict (PatchesServerStore  *self,
                  const char          *doc_id,
                  GPtrArray           *changes,
                  GError             **error)
{
  g_autoptr(GPtrArray) dups = g_ptr_array_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) revs = g_hash_table_new (g_int64_hash, g_int64_equal);
  gint64 head;

  for (guint i = 0; i < changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (changes, i);
      g_autoptr(PatchesCachedStmt) stmt = NULL;
      gboolean has_row;

      if (!(stmt = patches_sqlite_get_stmt (&self->sql, STMT_CHANGE_ID_EXISTS, error)))
        return FALSE;
      bind_text (stmt, 1, doc_id);
      bind_text (stmt, 2, change->id);
      if (!patches_sqlite_step_row (&self->sql, stmt, &has_row,
                                    "Could not look up change ids", error))
        return FALSE;

      if (has_row || !g_hash_table_add (seen, change->id))
        g_ptr_array_add (dups, change->id);
    }

  if (dups->len > 0)
    {
      g_ptr_array_add (dups, NULL);
      patches_commit_set_duplicate_ids_error (error, doc_id, (const char * const *) dups->pdata);
      return FALSE;
    }

  if (!store_get_current_rev (self, doc_id, &head, error))
    return FALSE;

  for (guint i = 0; i < changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (changes, i);

      if (change->rev <= head || !g_hash_table_add (revs, &change->rev))
        {
          g_set_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_REV_CONFLICT,
                       "Revision %" G_GINT64_FORMAT " already exists for doc %s",
                       change->rev, doc_id);
          return FALSE;
        }
    }

  g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_INVALID,
               "Revisions of doc %s must be dense: the head is %" G_GINT64_FORMAT,
               doc_id, head);
  return FALSE;
}

static gboolean
insert_changes (PatchesServerStore  *self,
                const char          *doc_id,
                GPtrArray           *sorted,
                GPtrArray           *jsons,
                gboolean            *conflict,
                GError             **error)
{
  g_autoptr(GString) json = g_string_new (NULL);
  g_autoptr(PatchesCachedStmt) touch = NULL;
  PatchesCachedStmt *insert;

  *conflict = FALSE;

  if (!(touch = patches_sqlite_get_stmt (&self->sql, STMT_TOUCH_DOC, error)))
    return FALSE;
  bind_text (touch, 1, doc_id);
  sqlite3_bind_int64 (touch, 2, now_ms ());
  if (!patches_sqlite_step_done (&self->sql, touch, "Could not record the document", error))
    return FALSE;

  if (!(insert = patches_sqlite_get_stmt (&self->sql, STMT_INSERT_CHANGE, error)))
    return FALSE;

  for (guint i = 0; i < sorted->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (sorted, i);
      const char *text;
      gsize length;
      int rc;

      if (jsons != NULL)
        {
          text = g_ptr_array_index (jsons, i);
          length = strlen (text);
        }
      else
        {
          g_string_truncate (json, 0);
          patches_change_write_json (change, json);
          text = json->str;
          length = json->len;
        }

      bind_text (insert, 1, doc_id);
      sqlite3_bind_int64 (insert, 2, change->rev);
      bind_text (insert, 3, change->id);
      bind_text (insert, 4, change->batch_id);
      bind_text (insert, 5, change->client_id);
      sqlite3_bind_int64 (insert, 6, isfinite (change->created_at) ? (gint64) change->created_at : 0);
      sqlite3_bind_int64 (insert, 7, isfinite (change->committed_at) ? (gint64) change->committed_at : 0);
      sqlite3_bind_text (insert, 8, text, (int) length, SQLITE_STATIC);

      rc = sqlite3_step (insert);
      sqlite3_reset (insert);
      sqlite3_clear_bindings (insert);

      if (rc != SQLITE_DONE)
        {
          *conflict = (rc & 0xff) == SQLITE_CONSTRAINT;
          return patches_sqlite_set_error (&self->sql, rc, "Could not save a change", error);
        }
    }

  return TRUE;
}

/* Saves @sorted, changes of @doc_id in ascending revision order, whose
 * JSON texts are @jsons (written here when %NULL) */
static gboolean
save_sorted_changes (PatchesServerStore  *self,
                     const char          *doc_id,
                     GPtrArray           *sorted,
                     GPtrArray           *jsons,
                     GError             **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean conflict;

  for (guint i = 0; i < sorted->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (sorted, i);

      if (change->id == NULL || change->rev < 1)
        {
          g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_INVALID,
                       "A change to save needs an id and a revision");
          return FALSE;
        }
    }

  if (!patches_sqlite_run_tx (&self->sql, PATCHES_SQLITE_TX_SAVEPOINT,
                              "Could not begin saving changes", error))
    return FALSE;

  if (insert_changes (self, doc_id, sorted, jsons, &conflict, &local_error))
    return patches_sqlite_run_tx (&self->sql, PATCHES_SQLITE_TX_RELEASE,
                                  "Could not save changes", error);

  if (!patches_sqlite_rollback_savepoint (&self->sql, "Could not undo a failed save", NULL))
    conflict = FALSE;

  if (conflict)
    return explain_conflict (self, doc_id, sorted, error);

  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static gboolean
store_save_changes (gpointer     data,
                    const char  *doc_id,
                    GPtrArray   *changes,
                    GError     **error)
{
  PatchesServerStore *self = data;
  g_autoptr(GPtrArray) sorted = NULL;

  if (changes->len == 0)
    return TRUE;

  /* Insert in revision order: the trigger wants each one to be head + 1 */
  sorted = g_ptr_array_sized_new (changes->len);
  for (guint i = 0; i < changes->len; i++)
    g_ptr_array_add (sorted, g_ptr_array_index (changes, i));
  g_ptr_array_sort (sorted, compare_by_rev);

  return save_sorted_changes (self, doc_id, sorted, NULL, error);
}

/**
 * patches_server_store_save_sorted_changes:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @sorted: (element-type PatchesChange): changes of @doc_id, in ascending
 *   revision order
 * @jsons: (element-type utf8): the JSON text of each of @sorted, as
 *   patches_change_write_json() writes it
 * @error: return location for a #GError
 *
 * What the history functions' `save_changes` does, for a caller that has
 * the changes' JSON already (the cache keeps it for answers and
 * notifications), so that it is written once.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_server_store_save_sorted_changes (PatchesServerStore  *self,
                                          const char          *doc_id,
                                          GPtrArray           *sorted,
                                          GPtrArray           *jsons,
                                          GError             **error)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);
  g_return_val_if_fail (sorted != NULL && jsons != NULL && jsons->len == sorted->len, FALSE);

  if (sorted->len == 0)
    return TRUE;

  return save_sorted_changes (self, doc_id, sorted, jsons, error);
}

static PatchesValue *
store_find_version (gpointer     data,
                    const char  *doc_id,
                    const char  *origin,
                    gint64       max_end_rev,
                    GError     **error)
{
  PatchesServerStore *self = data;
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  gboolean has_row;
  const char *json;
  gsize length;

  if (!(stmt = patches_sqlite_get_stmt (&self->sql,
                                        origin ? STMT_FIND_VERSION_ORIGIN : STMT_FIND_VERSION,
                                        error)))
    return NULL;
  bind_text (stmt, 1, doc_id);
  sqlite3_bind_int64 (stmt, 2, max_end_rev);
  if (origin != NULL)
    bind_text (stmt, 3, origin);

  if (!patches_sqlite_step_row (&self->sql, stmt, &has_row,
                                "Could not look up versions", error) || !has_row)
    return NULL;

  json = patches_sqlite_column_text (stmt, 0, &length);
  return parse_stored (json, length, "version metadata", doc_id, error);
}

static void
skipped_change_cb (const PatchesChange *change,
                   guint                index,
                   const GError        *error,
                   gpointer             user_data)
{
  g_message ("Version state of doc %s: skipping change %s (rev %" G_GINT64_FORMAT "): %s",
             (const char *) user_data, change->id, change->rev, error->message);
}

static void
memo_clear (PatchesServerStore *self)
{
  g_clear_pointer (&self->memo_doc_id, g_free);
  g_clear_pointer (&self->memo_version_id, g_free);
  g_clear_pointer (&self->memo_state, patches_value_unref);
}

static void
memo_state (PatchesServerStore *self,
            const char         *doc_id,
            const char         *version_id,
            PatchesValue       *state)
{
  memo_clear (self);
  self->memo_doc_id = g_strdup (doc_id);
  self->memo_version_id = g_strdup (version_id);
  self->memo_state = patches_value_ref (state);
}

/* The state of @doc_id at @target_rev: the nearest `main` version at or
 * before it that has a state, then the log after it replayed in
 * reconstruction mode (PROTOCOL.md Appendix A.3).  *state is %NULL for a
 * document that has no value yet. */
static gboolean
build_state (PatchesServerStore  *self,
             const char          *doc_id,
             gint64               target_rev,
             GPtrArray           *known,
             PatchesValue       **state,
             GError             **error)
{
  g_autoptr(PatchesValue) value = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  gint64 base_rev = 0;

  *state = NULL;

  if (target_rev > 0)
    {
      g_autoptr(PatchesCachedStmt) stmt = NULL;
      gboolean has_row;

      if (!(stmt = patches_sqlite_get_stmt (&self->sql, STMT_BASE_STATE, error)))
        return FALSE;
      bind_text (stmt, 1, doc_id);
      sqlite3_bind_int64 (stmt, 2, target_rev);
      if (!patches_sqlite_step_row (&self->sql, stmt, &has_row,
                                    "Could not look up versions", error))
        return FALSE;

      if (has_row)
        {
          const char *version_id = (const char *) sqlite3_column_text (stmt, 2);

          base_rev = sqlite3_column_int64 (stmt, 0);
          if (self->memo_state != NULL && g_strcmp0 (self->memo_doc_id, doc_id) == 0 &&
              g_strcmp0 (self->memo_version_id, version_id) == 0)
            {
              /* Shared: applying changes copies on write */
              value = patches_value_ref (self->memo_state);
            }
          else
            {
              gsize length;
              const char *json = patches_sqlite_column_text (stmt, 1, &length);

              if (!(value = parse_stored (json, length, "version state", doc_id, error)))
                return FALSE;
            }
          if (patches_value_get_kind (value) == PATCHES_VALUE_NULL)
            g_clear_pointer (&value, patches_value_unref);
        }
    }

  if (base_rev < target_rev)
    {
      /* The changes the caller has at hand, when they are exactly the
       * ones to replay (a new version on top of the previous one), save
       * reading and parsing them again */
      if (known != NULL && known->len == target_rev - base_rev &&
          ((PatchesChange *) g_ptr_array_index (known, 0))->rev == base_rev + 1 &&
          ((PatchesChange *) g_ptr_array_index (known, known->len - 1))->rev == target_rev)
        changes = g_ptr_array_ref (known);
      else if (!(changes = store_list_changes (self, doc_id, base_rev, target_rev + 1, 0, FALSE, error)))
        return FALSE;
      patches_changes_apply_for_reconstruction (&value, changes, FALSE,
                                                skipped_change_cb, (gpointer) doc_id);
    }

  *state = g_steal_pointer (&value);
  return TRUE;
}

static gboolean
touch_doc (PatchesServerStore  *self,
           const char          *doc_id,
           GError             **error)
{
  g_autoptr(PatchesCachedStmt) stmt = NULL;

  if (!(stmt = patches_sqlite_get_stmt (&self->sql, STMT_TOUCH_DOC, error)))
    return FALSE;
  bind_text (stmt, 1, doc_id);
  sqlite3_bind_int64 (stmt, 2, now_ms ());
  return patches_sqlite_step_done (&self->sql, stmt, "Could not record the document", error);
}

static gboolean
store_create_version (gpointer       data,
                      const char    *doc_id,
                      PatchesValue  *metadata,
                      GPtrArray     *changes,
                      GError       **error)
{
  PatchesServerStore *self = data;
  g_autoptr(PatchesValue) state = NULL;
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  g_autofree char *meta_json = NULL;
  g_autofree char *state_json = NULL;
  g_autoptr(GString) changes_json = NULL;
  const char *id = meta_string (metadata, "id");
  const char *origin = meta_string (metadata, "origin");
  double start_rev, end_rev, started_at, ended_at;
  int rc;

  if (id == NULL || origin == NULL ||
      !meta_number (metadata, "endRev", &end_rev) || end_rev < 0 ||
      !meta_number (metadata, "startRev", &start_rev))
    {
      g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_INVALID,
                   "Version metadata needs an id, an origin, a startRev and an endRev");
      return FALSE;
    }

  if (!touch_doc (self, doc_id, error))
    return FALSE;

  if (!build_state (self, doc_id, (gint64) end_rev, changes, &state, error))
    return FALSE;

  meta_json = patches_value_to_json (metadata);
  state_json = state ? patches_value_to_json (state) : g_strdup ("null");
  /* The changes' own writer: the same text as through a PatchesValue
   * list, without building one (a version holds up to
   * maxChangesPerVersion of them) */
  changes_json = g_string_sized_new (changes != NULL ? changes->len * 256 : 2);
  g_string_append_c (changes_json, '[');
  for (guint i = 0; changes != NULL && i < changes->len; i++)
    {
      if (i > 0)
        g_string_append_c (changes_json, ',');
      patches_change_write_json (g_ptr_array_index (changes, i), changes_json);
    }
  g_string_append_c (changes_json, ']');

  if (!(stmt = patches_sqlite_get_stmt (&self->sql, STMT_INSERT_VERSION, error)))
    return FALSE;
  bind_text (stmt, 1, doc_id);
  bind_text (stmt, 2, id);
  bind_text (stmt, 3, origin);
  bind_number (stmt, 4, start_rev);
  bind_number (stmt, 5, end_rev);
  if (meta_number (metadata, "startedAt", &started_at))
    bind_number (stmt, 6, started_at);
  if (meta_number (metadata, "endedAt", &ended_at))
    bind_number (stmt, 7, ended_at);
  bind_text (stmt, 8, meta_string (metadata, "parentId"));
  bind_text (stmt, 9, meta_string (metadata, "groupId"));
  sqlite3_bind_int64 (stmt, 10, now_ms ());
  sqlite3_bind_text (stmt, 11, meta_json, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 12, state_json, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 13, changes_json->str, changes_json->len, SQLITE_STATIC);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      if (state != NULL && strcmp (origin, "main") == 0)
        memo_state (self, doc_id, id, state);
      return TRUE;
    }

  if (rc == SQLITE_CONSTRAINT_UNIQUE)
    {
      g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_INVALID,
                   "Version %s already exists for doc %s", id, doc_id);
      return FALSE;
    }

  return patches_sqlite_set_error (&self->sql, rc, "Could not save a version", error);
}

static PatchesValue *
store_load_version_state (gpointer     data,
                          const char  *doc_id,
                          const char  *version_id,
                          GError     **error)
{
  PatchesServerStore *self = data;
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  gboolean has_row;
  const char *json;
  gsize length;

  if (!(stmt = patches_sqlite_get_stmt (&self->sql, STMT_VERSION_STATE, error)))
    return NULL;
  bind_text (stmt, 1, doc_id);
  bind_text (stmt, 2, version_id);
  if (!patches_sqlite_step_row (&self->sql, stmt, &has_row,
                                "Could not read a version state", error) || !has_row)
    return NULL;

  json = patches_sqlite_column_text (stmt, 0, &length);
  if (json == NULL || length == 0)
    return NULL;
  return parse_stored (json, length, "version state", doc_id, error);
}

static gboolean
store_delete_doc (gpointer     data,
                  const char  *doc_id,
                  GError     **error)
{
  PatchesServerStore *self = data;

  if (!patches_sqlite_run_tx (&self->sql, PATCHES_SQLITE_TX_SAVEPOINT,
                              "Could not begin deleting", error))
    return FALSE;

  if (patches_sqlite_run_for (&self->sql, STMT_DELETE_VERSIONS, doc_id,
                              "Could not delete versions", error) &&
      patches_sqlite_run_for (&self->sql, STMT_DELETE_CHANGES, doc_id,
                              "Could not delete changes", error) &&
      patches_sqlite_run_for (&self->sql, STMT_DELETE_DOC, doc_id,
                              "Could not delete the document", error))
    return patches_sqlite_run_tx (&self->sql, PATCHES_SQLITE_TX_RELEASE,
                                  "Could not delete the document", error);

  patches_sqlite_run_tx (&self->sql, PATCHES_SQLITE_TX_ROLLBACK_TO,
                         "Could not undo a failed delete", NULL);
  patches_sqlite_run_tx (&self->sql, PATCHES_SQLITE_TX_RELEASE,
                         "Could not undo a failed delete", NULL);
  return FALSE;
}

static gboolean
store_create_tombstone (gpointer       data,
                        const char    *doc_id,
                        PatchesValue  *tombstone,
                        GError       **error)
{
  PatchesServerStore *self = data;
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  g_autofree char *json = patches_value_to_json (tombstone);
  double deleted_at = 0, last_rev = 0, expires_at;

  meta_number (tombstone, "deletedAt", &deleted_at);
  meta_number (tombstone, "lastRev", &last_rev);

  if (!(stmt = patches_sqlite_get_stmt (&self->sql, STMT_PUT_TOMBSTONE, error)))
    return FALSE;
  bind_text (stmt, 1, doc_id);
  bind_number (stmt, 2, deleted_at);
  bind_number (stmt, 3, last_rev);
  bind_text (stmt, 4, meta_string (tombstone, "deletedByClientId"));
  if (meta_number (tombstone, "expiresAt", &expires_at))
    bind_number (stmt, 5, expires_at);
  bind_text (stmt, 6, json);

  return patches_sqlite_step_done (&self->sql, stmt, "Could not save a tombstone", error);
}

static gboolean
store_remove_tombstone (gpointer     data,
                        const char  *doc_id,
                        gboolean    *removed,
                        GError     **error)
{
  PatchesServerStore *self = data;

  *removed = FALSE;
  if (!patches_sqlite_run_for (&self->sql, STMT_DELETE_TOMBSTONE, doc_id,
                               "Could not remove a tombstone", error))
    return FALSE;

  *removed = sqlite3_changes (self->sql.db) > 0;
  return TRUE;
}

static const PatchesHistoryFuncs history_funcs = {
  .get_current_rev = store_get_current_rev,
  .list_changes = store_list_changes,
  .save_changes = store_save_changes,
  .find_version = store_find_version,
  .create_version = store_create_version,
  .load_version_state = store_load_version_state,
  .delete_doc = store_delete_doc,
  .create_tombstone = store_create_tombstone,
  .remove_tombstone = store_remove_tombstone,
};

/**
 * patches_server_store_get_history_funcs:
 *
 * The history functions of the SQLite store, for the algorithms of
 * patches-commit.h; the `store` they take is a #PatchesServerStore.
 * Each write is atomic on its own; wrap several in
 * patches_server_store_begin() / patches_server_store_commit() to make
 * them one transaction.
 *
 * Returns: (transfer none): the functions
 */
const PatchesHistoryFuncs *
patches_server_store_get_history_funcs (void)
{
  return &history_funcs;
}

/* Opening and migrating */

/* A PatchesSqliteCheckFunc: a database of ours (or an empty one) of a
 * version we know */
static gboolean
check_database (PatchesSqlite  *sql,
                gint64          version,
                gpointer        user_data,
                GError        **error)
{
  gboolean ours;

  if (!patches_sqlite_is_ours (sql, PATCHES_SERVER_STORE_APPLICATION_ID, &ours, error))
    return FALSE;

  if (!ours)
    {
      g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_NOT_OURS,
                   "Not a patches-server database");
      return FALSE;
    }

  if (version > PATCHES_SERVER_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_SCHEMA_TOO_NEW,
                   "Schema version %" G_GINT64_FORMAT " is newer than version %d, "
                   "the newest this patches-server knows; use a newer patches-server",
                   version, PATCHES_SERVER_STORE_SCHEMA_VERSION);
      return FALSE;
    }

  return TRUE;
}

/* Background checkpoints.
 *
 * SQLite's own checkpoints run inside the COMMIT that crosses the
 * threshold, and copying ten thousand pages there held up the answers
 * of a whole commit group (at 50 clients on one document the fan-out
 * p99 was 19-21 ms with them, 15-16 ms without).  Here the bulk of the
 * copy happens on a GTask worker with a connection of its own, which
 * SQLite allows beside a writer (PASSIVE mode never blocks it); the
 * write path copies only the last pages, after which the next write
 * starts the log over.  Durability is untouched: a commit is durable in
 * the log already. */

typedef struct Checkpointer
{
  char    *path;
  sqlite3 *db;        /* only ever used by one worker at a time */
} Checkpointer;

static void
checkpointer_clear (Checkpointer *checkpointer)
{
  g_clear_pointer (&checkpointer->path, g_free);
  g_clear_pointer (&checkpointer->db, sqlite3_close_v2);
}

static void
checkpointer_unref (Checkpointer *checkpointer)
{
  g_atomic_rc_box_release_full (checkpointer, (GDestroyNotify) checkpointer_clear);
}

static void
checkpoint_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  Checkpointer *checkpointer = task_data;
  int copied = 0;
  int rc;

  if (checkpointer->db == NULL)
    {
      rc = sqlite3_open_v2 (checkpointer->path, &checkpointer->db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
      if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout (checkpointer->db, BUSY_TIMEOUT_MS);
      /* A new connection knows the database is in WAL mode only once it
       * has read it; until then a checkpoint does nothing */
      if (rc == SQLITE_OK)
        rc = sqlite3_exec (checkpointer->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
      if (rc != SQLITE_OK)
        {
          g_task_return_new_error (task, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_IO,
                                   "Could not open %s for a checkpoint: %s", checkpointer->path,
                                   checkpointer->db ? sqlite3_errmsg (checkpointer->db) : sqlite3_errstr (rc));
          g_clear_pointer (&checkpointer->db, sqlite3_close_v2);
          return;
        }
    }

  rc = sqlite3_wal_checkpoint_v2 (checkpointer->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, &copied);
  if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
    {
      g_task_return_new_error (task, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_IO,
                               "Could not checkpoint %s: %s", checkpointer->path,
                               sqlite3_errmsg (checkpointer->db));
      return;
    }

  g_task_return_int (task, MAX (copied, 0));
}

static void
checkpoint_done_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(PatchesServerStore) self = user_data;
  g_autoptr(GError) error = NULL;
  gssize copied = g_task_propagate_int (G_TASK (result), &error);

  self->checkpoint_running = FALSE;
  if (error != NULL)
    {
      g_warning ("%s", error->message);
      return;
    }
  self->checkpoint_copied = (int) copied;
  self->n_checkpoints++;
}

void
patches_server_store_set_checkpoint_pages (PatchesServerStore *self,
                                           int                 start,
                                           int                 tail)
{
  g_return_if_fail (PATCHES_IS_SERVER_STORE (self));
  g_return_if_fail (start > tail && tail >= 0);

  self->checkpoint_start = start;
  self->checkpoint_tail = tail;
}

guint
patches_server_store_get_n_checkpoints (PatchesServerStore *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), 0);

  return self->n_checkpoints;
}

static int
wal_hook_cb (void       *user_data,
             sqlite3    *db,
             const char *name,
             int         n_pages)
{
  PatchesServerStore *self = user_data;
  g_autoptr(GTask) task = NULL;

  /* The log started over since the last checkpoint */
  if (n_pages < self->checkpoint_copied)
    self->checkpoint_copied = 0;

  if (n_pages < self->checkpoint_start || self->checkpoint_running)
    return SQLITE_OK;

  /* Copy the rest here when it is short, or when the log keeps growing
   * because each worker run ended with a long tail again */
  if (n_pages - self->checkpoint_copied <= self->checkpoint_tail ||
      n_pages >= CHECKPOINT_LIMIT_FACTOR * self->checkpoint_start)
    {
      sqlite3_wal_checkpoint_v2 (db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
      self->checkpoint_copied = 0;
      return SQLITE_OK;
    }

  if (self->checkpointer == NULL)
    {
      self->checkpointer = g_atomic_rc_box_new0 (Checkpointer);
      self->checkpointer->path = g_strdup (self->path);
    }

  /* The task keeps the store until its callback has run */
  self->checkpoint_running = TRUE;
  task = g_task_new (NULL, NULL, checkpoint_done_cb, g_object_ref (self));
  g_task_set_source_tag (task, wal_hook_cb);
  g_task_set_name (task, "[patches-server] checkpoint");
  g_task_set_task_data (task, g_atomic_rc_box_acquire (self->checkpointer),
                        (GDestroyNotify) checkpointer_unref);
  g_task_run_in_thread (task, checkpoint_thread);

  return SQLITE_OK;
}

static gboolean
patches_server_store_initable_init (GInitable     *initable,
                                    GCancellable  *cancellable,
                                    GError       **error)
{
  PatchesServerStore *self = PATCHES_SERVER_STORE (initable);

  if (self->path == NULL)
    {
      g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_INVALID,
                   "No database path given");
      return FALSE;
    }
  if (self->sql.db != NULL)
    return TRUE;

  if (!patches_sqlite_open (&self->sql, self->path, BUSY_TIMEOUT_MS, error))
    goto failed;

  /* A commit writes a page or two of each document it touches (its
   * revision and change-id index entries) to the WAL: small pages keep
   * that small.  It takes effect when the database is created. */
  if (!patches_sqlite_exec (&self->sql, "PRAGMA page_size = " G_STRINGIFY (STORE_PAGE_SIZE) ";",
                            "Could not configure the database", error) ||
      !patches_sqlite_enable_wal (&self->sql, error))
    goto failed;

  if (!patches_sqlite_exec (&self->sql,
                            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                            "PRAGMA cache_size = -" G_STRINGIFY (CACHE_KIB) ";",
                            "Could not configure the database", error))
    goto failed;

  /* Checkpoints far apart (each writes a hot page once however often it
   * changed), mostly on a worker (see wal_hook_cb()), and one more when
   * the server is idle (patches_server_store_checkpoint()).  This
   * replaces SQLite's automatic checkpoints. */
  sqlite3_wal_hook (self->sql.db, wal_hook_cb, self);

  if (!patches_sqlite_migrate (&self->sql, migrations, G_N_ELEMENTS (migrations),
                               PATCHES_SERVER_STORE_APPLICATION_ID, check_database, NULL, error))
    goto failed;

  self->schema_version = PATCHES_SERVER_STORE_SCHEMA_VERSION;
  return TRUE;

failed:
  g_prefix_error (error, "%s: ", self->path);
  patches_sqlite_close (&self->sql);
  return FALSE;
}

static void
patches_server_store_initable_iface_init (GInitableIface *iface)
{
  iface->init = patches_server_store_initable_init;
}

/* GObject */

static void
patches_server_store_finalize (GObject *object)
{
  PatchesServerStore *self = (PatchesServerStore *)object;

  patches_sqlite_clear (&self->sql);
  g_clear_pointer (&self->path, g_free);
  memo_clear (self);
  g_clear_pointer (&self->checkpointer, checkpointer_unref);

  G_OBJECT_CLASS (patches_server_store_parent_class)->finalize (object);
}

static void
patches_server_store_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  PatchesServerStore *self = PATCHES_SERVER_STORE (object);

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
patches_server_store_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  PatchesServerStore *self = PATCHES_SERVER_STORE (object);

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
patches_server_store_class_init (PatchesServerStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = patches_server_store_finalize;
  object_class->get_property = patches_server_store_get_property;
  object_class->set_property = patches_server_store_set_property;

  /**
   * PatchesServerStore:path:
   *
   * The database file (created when missing), or `:memory:` for a
   * database that lives and dies with the store.
   */
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
patches_server_store_init (PatchesServerStore *self)
{
  patches_sqlite_init (&self->sql, stmt_sql, N_STMTS,
                       PATCHES_SERVER_ERROR, error_code_for_sqlite, FALSE);
  self->checkpoint_start = CHECKPOINT_START_PAGES;
  self->checkpoint_tail = CHECKPOINT_TAIL_PAGES;
}

/* Public API */

/**
 * patches_server_store_open:
 * @path: (type filename): the database file, created when missing
 * @error: return location for a #GError
 *
 * Opens the history database at @path (WAL mode, synchronous=FULL,
 * foreign keys on), creating or migrating its schema.  A database of a
 * newer schema fails with %PATCHES_SERVER_ERROR_SCHEMA_TOO_NEW, a file
 * that is no SQLite database with %PATCHES_SERVER_ERROR_CORRUPT, another
 * program's database with %PATCHES_SERVER_ERROR_NOT_OURS.
 *
 * Returns: (transfer full) (nullable): the store, or %NULL with @error set
 */
PatchesServerStore *
patches_server_store_open (const char  *path,
                           GError     **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  return g_initable_new (PATCHES_TYPE_SERVER_STORE, NULL, error,
                         "path", path,
                         NULL);
}

/**
 * patches_server_store_get_path:
 * @self: a #PatchesServerStore
 *
 * Returns: (type filename): the database file
 */
const char *
patches_server_store_get_path (PatchesServerStore *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), NULL);

  return self->path;
}

/**
 * patches_server_store_get_schema_version:
 * @self: a #PatchesServerStore
 *
 * Returns: the schema version of the open database
 */
int
patches_server_store_get_schema_version (PatchesServerStore *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), 0);

  return self->schema_version;
}

/**
 * patches_server_store_run_commit:
 * @self: a #PatchesServerStore
 * @commit: a `commitChanges` request, not run yet
 * @error: return location for a #GError
 *
 * Runs patches_commit_run() over the store inside one transaction (a
 * savepoint when a transaction is already open, so that a group of
 * commits in one transaction loses only the failing one).  On failure
 * nothing of @commit stays in the database.  Outside a transaction the
 * commit is durable when this returns %TRUE.
 *
 * Returns: %TRUE on success; patches_commit_result_to_value() then gives
 *   the answer
 */
gboolean
patches_server_store_run_commit (PatchesServerStore  *self,
                                 PatchesCommit       *commit,
                                 GError             **error)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (commit != NULL, FALSE);

  if (!patches_server_store_begin (self, error))
    return FALSE;

  if (!patches_commit_run (commit, &history_funcs, self, error))
    {
      patches_server_store_rollback (self);
      return FALSE;
    }

  return patches_server_store_commit (self, error);
}

/**
 * patches_server_store_get_current_rev:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @rev: (out): the head revision, 0 for a document without history
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 */
gboolean
patches_server_store_get_current_rev (PatchesServerStore  *self,
                                      const char          *doc_id,
                                      gint64              *rev,
                                      GError             **error)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);
  g_return_val_if_fail (rev != NULL, FALSE);

  return store_get_current_rev (self, doc_id, rev, error);
}

/**
 * patches_server_store_get_doc:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @rev: the revision asked for, or -1 for the head
 * @error: return location for a #GError
 *
 * `getDoc` (PROTOCOL.md §4.5, §7.5): the latest `main` version at or
 * before min(@rev, head) and the changes after it.
 *
 * Returns: (transfer full) (nullable): `{"state", "rev", "changes"}`, or
 *   %NULL with @error set (503 when the version's state is not built)
 */
PatchesValue *
patches_server_store_get_doc (PatchesServerStore  *self,
                              const char          *doc_id,
                              gint64               rev,
                              GError             **error)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);

  return patches_history_get_doc (&history_funcs, self, doc_id, rev, error);
}

/**
 * patches_server_store_get_doc_json:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @rev: the revision asked for, or -1 for the head
 * @error: return location for a #GError
 *
 * Like patches_server_store_get_doc(), but writes the snapshot as JSON
 * straight from the stored texts, without parsing them.
 *
 * Returns: (transfer full) (nullable): the JSON text of the snapshot, or
 *   %NULL with @error set
 */
char *
patches_server_store_get_doc_json (PatchesServerStore  *self,
                                   const char          *doc_id,
                                   gint64               rev,
                                   GError             **error)
{
  g_autoptr(GString) out = NULL;
  gint64 head;
  gint64 version_rev = 0;

  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);

  if (!store_get_current_rev (self, doc_id, &head, error))
    return NULL;

  out = g_string_new ("{\"state\":");

  {
    g_autoptr(PatchesCachedStmt) stmt = NULL;
    gboolean has_row;

    if (!(stmt = patches_sqlite_get_stmt (&self->sql, STMT_SNAPSHOT, error)))
      return NULL;
    bind_text (stmt, 1, doc_id);
    sqlite3_bind_int64 (stmt, 2, rev >= 0 ? MIN (rev, head) : head);
    if (!patches_sqlite_step_row (&self->sql, stmt, &has_row, "Could not look up versions", error))
      return NULL;

    if (has_row)
      {
        gsize length;
        const char *state = patches_sqlite_column_text (stmt, 1, &length);

        if (state == NULL || length == 0)
          {
            /* Not built: the library's getDoc says so with the 503 */
            g_autoptr(PatchesValue) value = NULL;

            sqlite3_reset (stmt);
            value = patches_server_store_get_doc (self, doc_id, rev, error);
            return value ? patches_value_to_json (value) : NULL;
          }

        version_rev = sqlite3_column_int64 (stmt, 0);
        g_string_append_len (out, state, (gssize) length);
      }
    else
      g_string_append (out, "null");
  }

  g_string_append_printf (out, ",\"rev\":%" G_GINT64_FORMAT ",\"changes\":", version_rev);
  if (!append_changes_json (self, doc_id, version_rev, rev >= 0 ? rev + 1 : -1, out, error))
    return NULL;
  g_string_append_c (out, '}');

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * patches_server_store_get_changes_since:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @rev: a revision
 * @error: return location for a #GError
 *
 * `getChangesSince`: every committed change after @rev, ascending.
 *
 * Returns: (transfer full) (element-type PatchesChange) (nullable): the
 *   changes, or %NULL with @error set
 */
GPtrArray *
patches_server_store_get_changes_since (PatchesServerStore  *self,
                                        const char          *doc_id,
                                        gint64               rev,
                                        GError             **error)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);

  return patches_history_get_changes_since (&history_funcs, self, doc_id, rev, error);
}

/**
 * patches_server_store_get_changes_since_json:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @rev: a revision
 * @error: return location for a #GError
 *
 * Like patches_server_store_get_changes_since(), as the JSON array of
 * the stored texts.
 *
 * Returns: (transfer full) (nullable): the JSON text, or %NULL with
 *   @error set
 */
char *
patches_server_store_get_changes_since_json (PatchesServerStore  *self,
                                             const char          *doc_id,
                                             gint64               rev,
                                             GError             **error)
{
  g_autoptr(GString) out = g_string_new (NULL);

  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);

  if (!append_changes_json (self, doc_id, MAX (rev, 0), -1, out, error))
    return NULL;

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Versions */

static const char * const forbidden_version_keys[] = {
  "id", "parentId", "groupId", "origin", "startedAt", "endedAt", "startRev", "endRev",
};

/* EditableVersionMetadata (PROTOCOL.md §4.8): an object (or nothing)
 * without the keys the server manages */
static gboolean
check_editable_metadata (const PatchesValue  *metadata,
                         GError             **error)
{
  if (metadata == NULL || patches_value_get_kind (metadata) == PATCHES_VALUE_NULL)
    return TRUE;

  if (patches_value_get_kind (metadata) != PATCHES_VALUE_OBJECT)
    {
      g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_INVALID,
                   "Version metadata must be an object");
      return FALSE;
    }

  for (guint i = 0; i < patches_value_object_get_size (metadata); i++)
    {
      const char *key = patches_value_object_key_at (metadata, i);

      for (guint k = 0; k < G_N_ELEMENTS (forbidden_version_keys); k++)
        if (strcmp (key, forbidden_version_keys[k]) == 0)
          {
            g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_INVALID,
                         "Cannot modify version field %s", key);
            return FALSE;
          }
    }

  return TRUE;
}

static void
merge_metadata (PatchesValue       *meta,
                const PatchesValue *metadata)
{
  if (metadata == NULL || patches_value_get_kind (metadata) != PATCHES_VALUE_OBJECT)
    return;

  for (guint i = 0; i < patches_value_object_get_size (metadata); i++)
    patches_value_object_set (meta, patches_value_object_key_at (metadata, i),
                              patches_value_copy_deep (patches_value_object_value_at (metadata, i)));
}

typedef enum {
  ORDER_STARTED_AT,
  ORDER_END_REV,
  ORDER_START_REV,
} OrderBy;

static const char * const order_columns[] = { "started_at", "end_rev", "start_rev" };

/* A `startAfter` / `endBefore` cursor: a number, or a string holding one.
 * Returns FALSE for a cursor no value compares with (a non-numeric
 * string: every comparison with NaN is false in JavaScript). */
static gboolean
cursor_value (const PatchesValue *value,
              double             *number)
{
  if (patches_value_get_kind (value) == PATCHES_VALUE_NUMBER)
    {
      *number = patches_value_get_number (value);
      return !isnan (*number);
    }

  if (patches_value_get_kind (value) == PATCHES_VALUE_STRING)
    {
      const char *text = patches_value_get_string (value);
      char *end = NULL;

      while (g_ascii_isspace (*text))
        text++;
      if (*text == 0)
        {
          *number = 0;
          return TRUE;
        }
      *number = g_ascii_strtod (text, &end);
      while (end && g_ascii_isspace (*end))
        end++;
      return end != NULL && *end == 0 && !isnan (*number);
    }

  return FALSE;
}

/**
 * patches_server_store_list_versions:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @options: (nullable): `ListVersionsOptions` (PROTOCOL.md §4.8):
 *   `orderBy` (`startedAt`, the default, `endRev` or `startRev`),
 *   `reverse`, `startAfter` / `endBefore` cursors relative to the sort
 *   direction, `limit`, `origin`, `groupId`
 * @error: return location for a #GError
 *
 * `listVersions`.  Versions that sort equal keep their creation order
 * (reversed with `reverse`).
 *
 * Returns: (transfer full) (nullable): an array of `VersionMetadata`, or
 *   %NULL with @error set
 */
PatchesValue *
patches_server_store_list_versions (PatchesServerStore  *self,
                                    const char          *doc_id,
                                    const PatchesValue  *options,
                                    GError             **error)
{
  g_autoptr(PatchesValue) result = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GString) sql = NULL;
  OrderBy order_by = ORDER_STARTED_AT;
  gboolean reverse = FALSE;
  const char *origin = NULL;
  const char *group_id = NULL;
  PatchesValue *start_after = NULL;
  PatchesValue *end_before = NULL;
  double after = 0, before = 0;
  gint64 limit = -1;
  int rc;

  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);

  result = patches_value_new_array ();

  if (options != NULL && patches_value_get_kind (options) == PATCHES_VALUE_OBJECT)
    {
      PatchesValue *member;

      if ((member = patches_value_object_get (options, "orderBy")) != NULL &&
          patches_value_get_kind (member) != PATCHES_VALUE_NULL)
        {
          const char *name = patches_value_get_kind (member) == PATCHES_VALUE_STRING
            ? patches_value_get_string (member) : "";

          if (strcmp (name, "startedAt") == 0)
            order_by = ORDER_STARTED_AT;
          else if (strcmp (name, "endRev") == 0)
            order_by = ORDER_END_REV;
          else if (strcmp (name, "startRev") == 0)
            order_by = ORDER_START_REV;
          else
            {
              g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_INVALID,
                           "Cannot order versions by %s", name);
              return NULL;
            }
        }

      if ((member = patches_value_object_get (options, "reverse")) != NULL)
        reverse = patches_value_truthy (member);

      /* A limit of 0 (falsy) means none, as in the reference */
      if ((member = patches_value_object_get (options, "limit")) != NULL &&
          patches_value_get_kind (member) == PATCHES_VALUE_NUMBER &&
          isfinite (patches_value_get_number (member)) &&
          patches_value_get_number (member) >= 1)
        limit = (gint64) patches_value_get_number (member);

      origin = meta_string (options, "origin");
      group_id = meta_string (options, "groupId");

      start_after = patches_value_object_get (options, "startAfter");
      if (start_after != NULL && patches_value_get_kind (start_after) == PATCHES_VALUE_NULL)
        start_after = NULL;
      end_before = patches_value_object_get (options, "endBefore");
      if (end_before != NULL && patches_value_get_kind (end_before) == PATCHES_VALUE_NULL)
        end_before = NULL;

      if ((start_after != NULL && !cursor_value (start_after, &after)) ||
          (end_before != NULL && !cursor_value (end_before, &before)))
        return g_steal_pointer (&result);
    }

  sql = g_string_new ("SELECT meta_json FROM versions WHERE doc_id = ?1");
  if (origin != NULL)
    g_string_append (sql, " AND origin = ?2");
  if (group_id != NULL)
    g_string_append (sql, " AND group_id = ?3");
  if (start_after != NULL)
    g_string_append_printf (sql, " AND %s %c ?4", order_columns[order_by], reverse ? '<' : '>');
  if (end_before != NULL)
    g_string_append_printf (sql, " AND %s %c ?5", order_columns[order_by], reverse ? '>' : '<');
  g_string_append_printf (sql, " ORDER BY %s %s, seq %s LIMIT ?6",
                          order_columns[order_by],
                          reverse ? "DESC" : "ASC",
                          reverse ? "DESC" : "ASC");

  rc = sqlite3_prepare_v2 (self->sql.db, sql->str, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      patches_sqlite_set_error (&self->sql, rc, "Could not list versions", error);
      return NULL;
    }

  bind_text (stmt, 1, doc_id);
  if (origin != NULL)
    bind_text (stmt, 2, origin);
  if (group_id != NULL)
    bind_text (stmt, 3, group_id);
  if (start_after != NULL)
    sqlite3_bind_double (stmt, 4, after);
  if (end_before != NULL)
    sqlite3_bind_double (stmt, 5, before);
  sqlite3_bind_int64 (stmt, 6, limit);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gsize length;
      const char *json = patches_sqlite_column_text (stmt, 0, &length);
      PatchesValue *meta = parse_stored (json, length, "version metadata", doc_id, error);

      if (meta == NULL)
        return NULL;
      patches_value_array_append (result, meta);
    }

  if (rc != SQLITE_DONE)
    {
      patches_sqlite_set_error (&self->sql, rc, "Could not list versions", error);
      return NULL;
    }

  return g_steal_pointer (&result);
}

static gboolean
create_version_locked (PatchesServerStore  *self,
                       const char          *doc_id,
                       const PatchesValue  *metadata,
                       gint64               now,
                       char               **version_id,
                       GError             **error)
{
  g_autoptr(PatchesValue) parent = NULL;
  g_autoptr(PatchesValue) meta = NULL;
  g_autoptr(PatchesValue) id_value = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autofree char *id = NULL;
  GError *local_error = NULL;
  gint64 head;
  double parent_end = 0;

  if (!store_get_current_rev (self, doc_id, &head, error))
    return FALSE;

  parent = store_find_version (self, doc_id, PATCHES_VERSION_ORIGIN_MAIN, head, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (parent != NULL)
    meta_number (parent, "endRev", &parent_end);

  if (!(changes = store_list_changes (self, doc_id, (gint64) parent_end, head + 1, 0, FALSE, error)))
    return FALSE;
  if (changes->len == 0)
    return TRUE;

  id = patches_version_id_new (now);
  meta = patches_version_metadata_new (PATCHES_VERSION_ORIGIN_MAIN, changes,
                                       meta_string (parent, "id"), id);

  /* Key order of §4.8: the fixed fields, the caller's metadata, then id */
  id_value = patches_value_object_steal (meta, "id");
  merge_metadata (meta, metadata);
  patches_value_object_set (meta, "id", g_steal_pointer (&id_value));

  if (!store_create_version (self, doc_id, meta, changes, error))
    return FALSE;

  *version_id = g_steal_pointer (&id);
  return TRUE;
}

/**
 * patches_server_store_create_version:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @metadata: (nullable): `EditableVersionMetadata` to merge in
 * @now: the clock in milliseconds, for the version id
 * @version_id: (out) (transfer full) (nullable): the new version's id, or
 *   %NULL when there is no change since the latest `main` version
 * @error: return location for a #GError
 *
 * `createVersion` (PROTOCOL.md §5.9): a `main` version covering every
 * change after the latest `main` version, chained to it by `parentId`.
 * Metadata with a key the server manages fails with
 * %PATCHES_SERVER_ERROR_INVALID (`Cannot modify version field K`).
 *
 * Returns: %TRUE on success
 */
gboolean
patches_server_store_create_version (PatchesServerStore  *self,
                                     const char          *doc_id,
                                     const PatchesValue  *metadata,
                                     gint64               now,
                                     char               **version_id,
                                     GError             **error)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);
  g_return_val_if_fail (version_id != NULL, FALSE);

  *version_id = NULL;

  if (!check_editable_metadata (metadata, error))
    return FALSE;

  if (!patches_server_store_begin (self, error))
    return FALSE;

  if (!create_version_locked (self, doc_id, metadata, now, version_id, error))
    {
      patches_server_store_rollback (self);
      return FALSE;
    }

  if (!patches_server_store_commit (self, error))
    {
      g_clear_pointer (version_id, g_free);
      return FALSE;
    }

  return TRUE;
}

static PatchesValue *
load_version_meta (PatchesServerStore  *self,
                   const char          *doc_id,
                   const char          *version_id,
                   gint64              *start_rev,
                   GError             **error)
{
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  gboolean has_row;
  const char *json;
  gsize length;

  if (!(stmt = patches_sqlite_get_stmt (&self->sql, STMT_VERSION_META, error)))
    return NULL;
  bind_text (stmt, 1, doc_id);
  bind_text (stmt, 2, version_id);
  if (!patches_sqlite_step_row (&self->sql, stmt, &has_row, "Could not read a version", error))
    return NULL;
  if (!has_row)
    {
      set_version_not_found (error, doc_id, version_id);
      return NULL;
    }

  if (start_rev != NULL)
    *start_rev = sqlite3_column_int64 (stmt, 1);
  json = patches_sqlite_column_text (stmt, 0, &length);
  return parse_stored (json, length, "version metadata", doc_id, error);
}

/**
 * patches_server_store_get_version:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @version_id: a version id
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the version's metadata, or %NULL
 *   with @error set (%PATCHES_SERVER_ERROR_NOT_FOUND when it does not
 *   exist)
 */
PatchesValue *
patches_server_store_get_version (PatchesServerStore  *self,
                                  const char          *doc_id,
                                  const char          *version_id,
                                  GError             **error)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);
  g_return_val_if_fail (version_id != NULL, NULL);

  return load_version_meta (self, doc_id, version_id, NULL, error);
}

static gboolean
update_version_locked (PatchesServerStore  *self,
                       const char          *doc_id,
                       const char          *version_id,
                       const PatchesValue  *metadata,
                       GError             **error)
{
  g_autoptr(PatchesValue) meta = NULL;
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  g_autofree char *json = NULL;

  if (!(meta = load_version_meta (self, doc_id, version_id, NULL, error)))
    return FALSE;

  merge_metadata (meta, metadata);
  json = patches_value_to_json (meta);

  if (!(stmt = patches_sqlite_get_stmt (&self->sql, STMT_UPDATE_VERSION_META, error)))
    return FALSE;
  bind_text (stmt, 1, doc_id);
  bind_text (stmt, 2, version_id);
  bind_text (stmt, 3, json);
  return patches_sqlite_step_done (&self->sql, stmt, "Could not update a version", error);
}

/**
 * patches_server_store_update_version:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @version_id: a version id
 * @metadata: `EditableVersionMetadata` to merge into the version's
 * @error: return location for a #GError
 *
 * `updateVersion` (PROTOCOL.md §5.10).  A key the server manages fails
 * with %PATCHES_SERVER_ERROR_INVALID (`Cannot modify version field K`),
 * an unknown version with %PATCHES_SERVER_ERROR_NOT_FOUND.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_server_store_update_version (PatchesServerStore  *self,
                                     const char          *doc_id,
                                     const char          *version_id,
                                     const PatchesValue  *metadata,
                                     GError             **error)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);
  g_return_val_if_fail (version_id != NULL, FALSE);

  if (!check_editable_metadata (metadata, error))
    return FALSE;

  if (!patches_server_store_begin (self, error))
    return FALSE;

  if (!update_version_locked (self, doc_id, version_id, metadata, error))
    {
      patches_server_store_rollback (self);
      return FALSE;
    }

  return patches_server_store_commit (self, error);
}

/**
 * patches_server_store_get_version_state_json:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @version_id: a version id
 * @error: return location for a #GError
 *
 * `getVersionState` (PROTOCOL.md §5.11): the version's state, bare, as
 * stored.  Fails with %PATCHES_SERVER_ERROR_NOT_FOUND (404, `Version V
 * not found for doc D.`) or %PATCHES_SERVER_ERROR_STATE_UNAVAILABLE
 * (503).
 *
 * Returns: (transfer full) (nullable): the JSON text, or %NULL with
 *   @error set
 */
char *
patches_server_store_get_version_state_json (PatchesServerStore  *self,
                                             const char          *doc_id,
                                             const char          *version_id,
                                             GError             **error)
{
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  gboolean has_row;
  const char *json;
  gsize length;

  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);
  g_return_val_if_fail (version_id != NULL, NULL);

  if (!(stmt = patches_sqlite_get_stmt (&self->sql, STMT_VERSION_STATE, error)))
    return NULL;
  bind_text (stmt, 1, doc_id);
  bind_text (stmt, 2, version_id);
  if (!patches_sqlite_step_row (&self->sql, stmt, &has_row,
                                "Could not read a version state", error))
    return NULL;
  if (!has_row)
    {
      set_version_not_found (error, doc_id, version_id);
      return NULL;
    }

  json = patches_sqlite_column_text (stmt, 0, &length);
  if (json == NULL || length == 0)
    {
      g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_STATE_UNAVAILABLE,
                   "State for version %s of doc %s is unavailable; retry later.",
                   version_id, doc_id);
      return NULL;
    }

  return g_strndup (json, length);
}

/**
 * patches_server_store_get_version_state:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @version_id: a version id
 * @error: return location for a #GError
 *
 * Like patches_server_store_get_version_state_json(), parsed.
 *
 * Returns: (transfer full) (nullable): the state (a JSON `null` for a
 *   document without a value), or %NULL with @error set
 */
PatchesValue *
patches_server_store_get_version_state (PatchesServerStore  *self,
                                        const char          *doc_id,
                                        const char          *version_id,
                                        GError             **error)
{
  g_autofree char *json = patches_server_store_get_version_state_json (self, doc_id, version_id, error);

  if (json == NULL)
    return NULL;
  return parse_stored (json, strlen (json), "version state", doc_id, error);
}

/**
 * patches_server_store_get_version_changes:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @version_id: a version id
 * @error: return location for a #GError
 *
 * `getVersionChanges` (PROTOCOL.md §5.12): the changes stored with the
 * version.  An unknown version fails with %PATCHES_SERVER_ERROR_FAILED
 * (`Could not load changes for version V.`, as the reference answers).
 *
 * Returns: (transfer full) (element-type PatchesChange) (nullable): the
 *   changes, or %NULL with @error set
 */
GPtrArray *
patches_server_store_get_version_changes (PatchesServerStore  *self,
                                          const char          *doc_id,
                                          const char          *version_id,
                                          GError             **error)
{
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  g_autoptr(PatchesValue) value = NULL;
  gboolean has_row;
  const char *json;
  gsize length;

  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);
  g_return_val_if_fail (version_id != NULL, NULL);

  if (!(stmt = patches_sqlite_get_stmt (&self->sql, STMT_VERSION_CHANGES, error)))
    return NULL;
  bind_text (stmt, 1, doc_id);
  bind_text (stmt, 2, version_id);
  if (!patches_sqlite_step_row (&self->sql, stmt, &has_row,
                                "Could not read version changes", error))
    return NULL;
  if (!has_row)
    {
      g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_FAILED,
                   "Could not load changes for version %s.", version_id);
      return NULL;
    }

  json = patches_sqlite_column_text (stmt, 0, &length);
  if (!(value = parse_stored (json, length, "version changes", doc_id, error)))
    return NULL;

  return patches_changes_from_value (value, error);
}

/**
 * patches_server_store_get_state_before_version:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @version_id: a version id
 * @error: return location for a #GError
 *
 * `getStateBeforeVersion` (PROTOCOL.md §5.13): the document state at the
 * version's `startRev − 1`, replayed in reconstruction mode from the
 * nearest `main` version before it.
 *
 * Returns: (transfer full) (nullable): the state (a JSON `null` for a
 *   document without a value), or %NULL with @error set (404 for an
 *   unknown version)
 */
PatchesValue *
patches_server_store_get_state_before_version (PatchesServerStore  *self,
                                               const char          *doc_id,
                                               const char          *version_id,
                                               GError             **error)
{
  g_autoptr(PatchesValue) meta = NULL;
  g_autoptr(PatchesValue) state = NULL;
  gint64 start_rev = 0;

  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);
  g_return_val_if_fail (version_id != NULL, NULL);

  if (!(meta = load_version_meta (self, doc_id, version_id, &start_rev, error)))
    return NULL;

  if (!build_state (self, doc_id, MAX (start_rev - 1, 0), NULL, &state, error))
    return NULL;

  return state ? g_steal_pointer (&state) : patches_value_new_null ();
}

/* Deletion */

/**
 * patches_server_store_delete_doc:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @client_id: (nullable): the deleting connection's client id
 * @skip_tombstone: do not record a tombstone
 * @now: the clock in milliseconds
 * @error: return location for a #GError
 *
 * `deleteDoc` (PROTOCOL.md §5.6), in one transaction: the tombstone,
 * then every change and version of the document go.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_server_store_delete_doc (PatchesServerStore  *self,
                                 const char          *doc_id,
                                 const char          *client_id,
                                 gboolean             skip_tombstone,
                                 gint64               now,
                                 GError             **error)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);

  if (!patches_server_store_begin (self, error))
    return FALSE;

  if (!patches_history_delete_doc (&history_funcs, self, doc_id, client_id,
                                   skip_tombstone, now, error))
    {
      patches_server_store_rollback (self);
      return FALSE;
    }

  return patches_server_store_commit (self, error);
}

/**
 * patches_server_store_undelete_doc:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @removed: (out): whether there was a tombstone
 * @error: return location for a #GError
 *
 * `undeleteDoc` (PROTOCOL.md §5.7): removes the tombstone only.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_server_store_undelete_doc (PatchesServerStore  *self,
                                   const char          *doc_id,
                                   gboolean            *removed,
                                   GError             **error)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (doc_id != NULL, FALSE);
  g_return_val_if_fail (removed != NULL, FALSE);

  *removed = FALSE;
  return patches_history_undelete_doc (&history_funcs, self, doc_id, removed, error);
}

/**
 * patches_server_store_get_tombstone:
 * @self: a #PatchesServerStore
 * @doc_id: a document id
 * @error: return location for a #GError
 *
 * The tombstone of a deleted document (PROTOCOL.md §4.10): `{docId,
 * deletedAt, lastRev, deletedByClientId?}`, for the access check that
 * answers 410 (§7.6).
 *
 * Returns: (transfer full) (nullable): the tombstone, or %NULL (with
 *   @error set only on failure)
 */
PatchesValue *
patches_server_store_get_tombstone (PatchesServerStore  *self,
                                    const char          *doc_id,
                                    GError             **error)
{
  g_autoptr(PatchesCachedStmt) stmt = NULL;
  gboolean has_row;
  const char *json;
  gsize length;

  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);

  if (!(stmt = patches_sqlite_get_stmt (&self->sql, STMT_GET_TOMBSTONE, error)))
    return NULL;
  bind_text (stmt, 1, doc_id);
  if (!patches_sqlite_step_row (&self->sql, stmt, &has_row,
                                "Could not read a tombstone", error) || !has_row)
    return NULL;

  json = patches_sqlite_column_text (stmt, 0, &length);
  return parse_stored (json, length, "tombstone", doc_id, error);
}

/* Private */

sqlite3 *
patches_server_store_get_database (PatchesServerStore *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_STORE (self), NULL);

  return self->sql.db;
}
