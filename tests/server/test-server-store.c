/* test-server-store.c: the SQLite history store of patches-server
 *
 * Replays every scenario of conformance/server_commit.json against the
 * store (checking results as tests/conformance/suite-server-commit.c does
 * against its in-memory model, then again after reopening the file), and
 * checks durability, the schema, the constraints and transactions.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "conformance.h"
#include "patches-ot.h"
#include "patches-server-store.h"
#include "patches-server-store-private.h"

/* Temporary databases */

typedef struct {
  char *dir;
  char *path;
} TmpDb;

static TmpDb *
tmp_db_new (void)
{
  g_autoptr(GError) error = NULL;
  TmpDb *tmp = g_new0 (TmpDb, 1);

  tmp->dir = g_dir_make_tmp ("test-server-store-XXXXXX", &error);
  g_assert_no_error (error);
  tmp->path = g_build_filename (tmp->dir, "history.db", NULL);
  return tmp;
}

static void
tmp_db_free (TmpDb *tmp)
{
  const char *suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (tmp->path, suffixes[i], NULL);

      g_unlink (file);
    }
  g_rmdir (tmp->dir);
  g_free (tmp->path);
  g_free (tmp->dir);
  g_free (tmp);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TmpDb, tmp_db_free)

static PatchesServerStore *
open_store (const char *path)
{
  g_autoptr(GError) error = NULL;
  PatchesServerStore *store = patches_server_store_open (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

static void
exec_raw (PatchesServerStore *store,
          const char         *sql)
{
  char *message = NULL;
  int rc = sqlite3_exec (patches_server_store_get_database (store), sql, NULL, NULL, &message);

  if (rc != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

/* Helpers for the conformance replay (conformance.h has the JSON ones) */

static const char *
value_string (PatchesValue *object,
              const char   *key)
{
  PatchesValue *member = patches_value_object_get (object, key);

  return member && patches_value_get_kind (member) == PATCHES_VALUE_STRING
    ? patches_value_get_string (member) : NULL;
}

static gint64
value_int (PatchesValue *object,
           const char   *key)
{
  PatchesValue *member = patches_value_object_get (object, key);

  return member && patches_value_get_kind (member) == PATCHES_VALUE_NUMBER
    ? (gint64) patches_value_get_number (member) : -1;
}

static PatchesValue *
parse_value (const char *json)
{
  g_autoptr(GError) error = NULL;
  PatchesValue *value = patches_value_parse (json, -1, &error);

  g_assert_no_error (error);
  return value;
}

static GPtrArray *
parse_changes (const char *json)
{
  g_autoptr(PatchesValue) value = parse_value (json);
  g_autoptr(GError) error = NULL;
  GPtrArray *changes = patches_changes_from_value (value, &error);

  g_assert_no_error (error);
  return changes;
}

/* The replay of server_commit.json */

typedef struct {
  char               *path;
  PatchesServerStore *store;
  PatchesCommitConfig config;
} Replay;

static gboolean
replay_commit (Replay      *replay,
               JsonObject  *step,
               const char  *what,
               char       **why)
{
  g_autoptr(PatchesValue) changes_value = conformance_get_value (step, "changes");
  g_autoptr(PatchesValue) options_value = conformance_get_value (step, "options");
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(PatchesCommit) commit = NULL;
  g_autoptr(GError) error = NULL;
  const char *doc_id = conformance_get_string (step, "docId");
  PatchesCommitOptions options;
  gboolean ok;

  changes = patches_changes_from_value (changes_value, &error);
  if (changes == NULL)
    {
      *why = g_strdup_printf ("%s: could not parse changes: %s", what, error->message);
      return FALSE;
    }

  patches_commit_options_from_value (&options, options_value);
  commit = patches_commit_new (doc_id ? doc_id : "", changes, &options,
                               conformance_get_string (step, "clientId"),
                               conformance_get_int (step, "now", 0), &replay->config);
  ok = patches_server_store_run_commit (replay->store, commit, &error);

  if (patches_server_store_get_transaction_depth (replay->store) != 0)
    {
      *why = g_strdup_printf ("%s: a transaction was left open", what);
      return FALSE;
    }

  return conformance_check_commit_step (what, step, commit, ok, error,
                                        patches_server_error_get_status, why);
}

/* getDoc both ways: parsed, and written straight from the stored texts */
static PatchesValue *
replay_get_doc (Replay      *replay,
                const char  *doc_id,
                gint64       rev,
                const char  *what,
                char       **why)
{
  g_autoptr(PatchesValue) got = NULL;
  g_autoptr(PatchesValue) raw = NULL;
  g_autofree char *json = NULL;
  g_autoptr(GError) error = NULL;

  got = patches_server_store_get_doc (replay->store, doc_id, rev, &error);
  if (got == NULL)
    {
      *why = g_strdup_printf ("%s: unexpected error: %s", what, error->message);
      return NULL;
    }

  json = patches_server_store_get_doc_json (replay->store, doc_id, rev, &error);
  if (json == NULL)
    {
      *why = g_strdup_printf ("%s (JSON): unexpected error: %s", what, error->message);
      return NULL;
    }

  raw = patches_value_parse (json, -1, &error);
  if (raw == NULL || !patches_value_equal (raw, got))
    {
      g_autofree char *text = patches_value_to_json (got);

      *why = g_strdup_printf ("%s: the JSON snapshot %s differs from %s", what, json, text);
      return NULL;
    }

  return g_steal_pointer (&got);
}

static gboolean
replay_step (Replay      *replay,
             JsonObject  *step,
             guint        index,
             char       **why)
{
  const char *call = conformance_get_string (step, "call");
  const char *doc_id = conformance_get_string (step, "docId");
  g_autofree char *what = g_strdup_printf ("step %u (%s)", index, call ? call : "?");
  g_autoptr(PatchesValue) options = conformance_get_value (step, "options");
  g_autoptr(GError) error = NULL;

  if (call == NULL || doc_id == NULL)
    {
      *why = g_strdup_printf ("%s: malformed step", what);
      return FALSE;
    }

  if (strcmp (call, "commitChanges") == 0)
    return replay_commit (replay, step, what, why);

  if (strcmp (call, "deleteDoc") == 0)
    {
      PatchesValue *skip = NULL;

      if (options != NULL && patches_value_get_kind (options) == PATCHES_VALUE_OBJECT)
        skip = patches_value_object_get (options, "skipTombstone");

      if (!patches_server_store_delete_doc (replay->store, doc_id, conformance_get_string (step, "clientId"),
                                            skip != NULL && patches_value_truthy (skip),
                                            conformance_get_int (step, "now", 0), &error))
        {
          *why = g_strdup_printf ("%s: unexpected error: %s", what, error->message);
          return FALSE;
        }
      return TRUE;
    }

  if (strcmp (call, "undeleteDoc") == 0)
    {
      g_autoptr(PatchesValue) got = NULL;
      gboolean removed;

      if (!patches_server_store_undelete_doc (replay->store, doc_id, &removed, &error))
        {
          *why = g_strdup_printf ("%s: unexpected error: %s", what, error->message);
          return FALSE;
        }
      got = patches_value_new_bool (removed);
      return conformance_check_equal (what, got, step, "expect", why);
    }

  if (strcmp (call, "getDoc") == 0)
    {
      g_autoptr(PatchesValue) got = NULL;
      gint64 rev = -1;

      if (options != NULL && patches_value_get_kind (options) == PATCHES_VALUE_OBJECT)
        {
          PatchesValue *r = patches_value_object_get (options, "rev");

          if (r != NULL && patches_value_get_kind (r) == PATCHES_VALUE_NUMBER)
            rev = (gint64) patches_value_get_number (r);
        }

      if (!(got = replay_get_doc (replay, doc_id, rev, what, why)))
        return FALSE;
      return conformance_check_equal (what, got, step, "expect", why);
    }

  if (strcmp (call, "getChangesSince") == 0)
    {
      g_autoptr(GPtrArray) changes = NULL;
      g_autoptr(PatchesValue) got = NULL;
      g_autoptr(PatchesValue) raw = NULL;
      g_autofree char *json = NULL;
      gint64 rev = conformance_get_int (step, "rev", 0);

      changes = patches_server_store_get_changes_since (replay->store, doc_id, rev, &error);
      json = patches_server_store_get_changes_since_json (replay->store, doc_id, rev, &error);
      if (changes == NULL || json == NULL)
        {
          *why = g_strdup_printf ("%s: unexpected error: %s", what, error->message);
          return FALSE;
        }
      got = patches_changes_to_value (changes);
      raw = patches_value_parse (json, -1, NULL);
      if (raw == NULL || !patches_value_equal (raw, got))
        {
          *why = g_strdup_printf ("%s: the JSON changes %s differ", what, json);
          return FALSE;
        }
      return conformance_check_equal (what, got, step, "expect", why);
    }

  *why = g_strdup_printf ("%s: unknown call", what);
  return FALSE;
}

/* The versions of @doc_id in creation order, with ids renamed V<seq>:
 * `seq` counts every version the store made, in creation order, like
 * the in-memory model's V1, V2, … */
static PatchesValue *
list_versions_in_creation_order (PatchesServerStore *store,
                                 const char         *doc_id)
{
  sqlite3 *db = patches_server_store_get_database (store);
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  PatchesValue *versions = patches_value_new_array ();
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT seq, version_id FROM versions", -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_hash_table_insert (names, g_strdup ((const char *) sqlite3_column_text (stmt, 1)),
                         g_strdup_printf ("V%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (stmt, 0)));
  sqlite3_finalize (stmt);

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT meta_json FROM versions WHERE doc_id = ?1 ORDER BY seq",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, doc_id, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      PatchesValue *meta = parse_value ((const char *) sqlite3_column_text (stmt, 0));
      const char *keys[] = { "id", "parentId" };

      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        {
          const char *id = value_string (meta, keys[k]);
          const char *name = id ? g_hash_table_lookup (names, id) : NULL;

          if (name != NULL)
            patches_value_object_set (meta, keys[k], patches_value_new_string (name));
        }
      patches_value_array_append (versions, meta);
    }
  sqlite3_finalize (stmt);

  return versions;
}

static gboolean
check_final_doc (Replay      *replay,
                 const char  *doc_id,
                 JsonObject  *expect,
                 char       **why)
{
  const PatchesHistoryFuncs *funcs = patches_server_store_get_history_funcs ();
  g_autofree char *w_log = g_strdup_printf ("final %s log", doc_id);
  g_autofree char *w_get = g_strdup_printf ("final %s getDoc", doc_id);
  g_autofree char *w_state = g_strdup_printf ("final %s state", doc_id);
  g_autofree char *w_versions = g_strdup_printf ("final %s versions", doc_id);
  g_autofree char *w_tomb = g_strdup_printf ("final %s tombstone", doc_id);
  g_autoptr(GPtrArray) log = NULL;
  g_autoptr(PatchesValue) log_value = NULL;
  g_autoptr(PatchesValue) snapshot = NULL;
  g_autoptr(PatchesValue) state = NULL;
  g_autoptr(PatchesValue) versions = NULL;
  g_autoptr(PatchesValue) tombstone = NULL;
  g_autoptr(GPtrArray) tail = NULL;
  g_autoptr(GError) error = NULL;
  PatchesValue *member;

  log = funcs->list_changes (replay->store, doc_id, -1, -1, 0, FALSE, &error);
  if (log == NULL)
    {
      *why = g_strdup_printf ("%s: %s", w_log, error->message);
      return FALSE;
    }
  log_value = patches_changes_to_value (log);
  if (!conformance_check_equal (w_log, log_value, expect, "log", why))
    return FALSE;

  if (!(snapshot = replay_get_doc (replay, doc_id, -1, w_get, why)))
    return FALSE;
  if (!conformance_check_equal (w_get, snapshot, expect, "getDoc", why))
    return FALSE;

  member = patches_value_object_get (snapshot, "state");
  if (patches_value_get_kind (member) != PATCHES_VALUE_NULL)
    state = patches_value_ref (member);
  tail = patches_changes_from_value (patches_value_object_get (snapshot, "changes"), &error);
  if (tail == NULL || !patches_changes_apply (&state, tail, &error))
    {
      *why = g_strdup_printf ("%s: %s", w_state, error->message);
      return FALSE;
    }
  if (state == NULL)
    state = patches_value_new_null ();
  if (!conformance_check_equal (w_state, state, expect, "state", why))
    return FALSE;

  versions = list_versions_in_creation_order (replay->store, doc_id);
  if (!conformance_check_equal (w_versions, versions, expect, "versions", why))
    return FALSE;

  tombstone = patches_server_store_get_tombstone (replay->store, doc_id, &error);
  if (error != NULL)
    {
      *why = g_strdup_printf ("%s: %s", w_tomb, error->message);
      return FALSE;
    }
  if (json_object_has_member (expect, "tombstone"))
    return conformance_check_equal (w_tomb, tombstone, expect, "tombstone", why);
  if (tombstone != NULL)
    {
      g_autofree char *text = patches_value_to_json (tombstone);

      *why = g_strdup_printf ("%s: unexpected %s", w_tomb, text);
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_final (Replay      *replay,
             JsonObject  *final,
             char       **why)
{
  g_autoptr(GList) doc_ids = json_object_get_members (final);

  for (GList *l = doc_ids; l != NULL; l = l->next)
    if (!check_final_doc (replay, l->data, json_object_get_object_member (final, l->data), why))
      return FALSE;

  return TRUE;
}

static gboolean
replay_case (JsonObject  *kase,
             const char  *path,
             char       **why)
{
  Replay replay = { 0 };
  JsonObject *options = NULL;
  JsonObject *final;
  JsonArray *steps;
  gboolean ok = TRUE;

  replay.store = open_store (path);
  patches_commit_config_init (&replay.config);
  if (json_object_has_member (kase, "server_options"))
    options = json_object_get_object_member (kase, "server_options");
  if (options != NULL)
    {
      if (json_object_has_member (options, "sessionTimeoutMinutes"))
        replay.config.session_timeout_ms = conformance_get_int (options, "sessionTimeoutMinutes", 30) * 60 * 1000;
      if (json_object_has_member (options, "maxChangesPerVersion"))
        replay.config.max_changes_per_version = conformance_get_int (options, "maxChangesPerVersion", 1000);
    }

  steps = json_object_get_array_member (kase, "steps");
  for (guint i = 0; ok && steps != NULL && i < json_array_get_length (steps); i++)
    ok = replay_step (&replay, json_array_get_object_element (steps, i), i, why);

  final = json_object_has_member (kase, "final") ? json_object_get_object_member (kase, "final") : NULL;
  if (ok && final != NULL)
    {
      ok = check_final (&replay, final, why);

      /* Everything is still there after closing and reopening the file */
      g_clear_object (&replay.store);
      replay.store = open_store (path);
      if (ok && !check_final (&replay, final, why))
        {
          g_autofree char *inner = g_steal_pointer (why);

          *why = g_strdup_printf ("after reopening: %s", inner);
          ok = FALSE;
        }
    }

  g_clear_object (&replay.store);
  return ok;
}

static void
test_conformance_case (gconstpointer data)
{
  JsonObject *kase = (JsonObject *) data;
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autofree char *why = NULL;

  if (!replay_case (kase, tmp->path, &why))
    g_test_fail_printf ("%s", why ? why : "(no reason given)");
}

/* Commit helpers */

static PatchesCommit *
run_commit_json (PatchesServerStore  *store,
                 const char          *doc_id,
                 const char          *changes_json,
                 const char          *client_id,
                 gint64               now,
                 GError             **error)
{
  g_autoptr(GPtrArray) changes = parse_changes (changes_json);
  g_autoptr(PatchesCommit) commit = patches_commit_new (doc_id, changes, NULL, client_id, now, NULL);

  if (!patches_server_store_run_commit (store, commit, error))
    return NULL;
  return g_steal_pointer (&commit);
}

static void
commit_ok (PatchesServerStore *store,
           const char         *doc_id,
           const char         *changes_json,
           gint64              now)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesCommit) commit = run_commit_json (store, doc_id, changes_json, "c1", now, &error);

  g_assert_no_error (error);
  g_assert_nonnull (commit);
}

/* One `add` change at @base_rev + 1 */
static char *
simple_change (const char *id,
               gint64      base_rev,
               gint64      now)
{
  return g_strdup_printf ("[{\"id\":\"%s\",\"baseRev\":%" G_GINT64_FORMAT ",\"rev\":%" G_GINT64_FORMAT ","
                          "\"ops\":[{\"op\":\"add\",\"path\":\"/%s\",\"value\":%" G_GINT64_FORMAT "}],"
                          "\"createdAt\":%" G_GINT64_FORMAT ",\"committedAt\":0}]",
                          id, base_rev, base_rev + 1, id, base_rev, now);
}

static gint64
head_of (PatchesServerStore *store,
         const char         *doc_id)
{
  g_autoptr(GError) error = NULL;
  gint64 rev = -1;

  g_assert_true (patches_server_store_get_current_rev (store, doc_id, &rev, &error));
  g_assert_no_error (error);
  return rev;
}

static gint64
count_rows (PatchesServerStore *store,
            const char         *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 count;

  g_assert_cmpint (sqlite3_prepare_v2 (patches_server_store_get_database (store), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  count = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return count;
}

/* Checks that @doc_id's log is revisions 1..n with ids @prefix<rev> */
static void
assert_dense_log (PatchesServerStore *store,
                  const char         *doc_id,
                  const char         *prefix,
                  gint64              n)
{
  const PatchesHistoryFuncs *funcs = patches_server_store_get_history_funcs ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) log = funcs->list_changes (store, doc_id, -1, -1, 0, FALSE, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (log->len, ==, n);
  for (guint i = 0; i < log->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (log, i);
      g_autofree char *id = g_strdup_printf ("%s%u", prefix, i + 1);

      g_assert_cmpint (change->rev, ==, i + 1);
      g_assert_cmpstr (change->id, ==, id);
      g_assert_cmpfloat (change->committed_at, >, 0);
    }
  g_assert_cmpint (head_of (store, doc_id), ==, n);
}

/* Durability */

static void
test_reopen (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = open_store (tmp->path);
  const char *docs[] = { "note/a", "note/b", "notebook/1" };
  gint64 now = 1700000000000;

  for (guint i = 0; i < 60; i++)
    {
      const char *doc_id = docs[i % G_N_ELEMENTS (docs)];
      gint64 base = i / G_N_ELEMENTS (docs);
      g_autofree char *id = g_strdup_printf ("x%" G_GINT64_FORMAT, base + 1);
      g_autofree char *json = simple_change (id, base, now + i);

      commit_ok (store, doc_id, json, now + i);
    }

  /* A group of commits in one transaction */
  {
    g_autoptr(GError) error = NULL;

    g_assert_true (patches_server_store_begin (store, &error));
    for (guint i = 20; i < 30; i++)
      {
        g_autofree char *id = g_strdup_printf ("x%u", i + 1);
        g_autofree char *json = simple_change (id, i, now + 100 + i);

        commit_ok (store, "note/a", json, now + 100 + i);
      }
    g_assert_true (patches_server_store_commit (store, &error));
    g_assert_no_error (error);
  }

  g_clear_object (&store);
  store = open_store (tmp->path);

  assert_dense_log (store, "note/a", "x", 30);
  assert_dense_log (store, "note/b", "x", 20);
  assert_dense_log (store, "notebook/1", "x", 20);
  g_assert_cmpint (head_of (store, "unknown"), ==, 0);
}

/* A writer killed with SIGKILL in the middle of a commit storm: every
 * commit it acknowledged is in the database, and the log is dense */
static void
test_kill (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = NULL;
  gint64 acked = 0;
  int fds[2];
  pid_t pid;
  int status;

  g_assert_cmpint (pipe (fds), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);

  if (pid == 0)
    {
      PatchesServerStore *child = patches_server_store_open (tmp->path, NULL);

      close (fds[0]);
      if (child == NULL)
        _exit (2);
      for (gint64 i = 0; ; i++)
        {
          g_autofree char *id = g_strdup_printf ("k%" G_GINT64_FORMAT, i + 1);
          g_autofree char *json = simple_change (id, i, 1700000000000 + i);
          g_autoptr(PatchesCommit) commit = run_commit_json (child, "doc", json, "c1",
                                                             1700000000000 + i, NULL);

          if (commit == NULL)
            _exit (3);
          /* Acknowledge only after the commit returned */
          if (write (fds[1], &i, sizeof i) != sizeof i)
            _exit (4);
        }
    }

  close (fds[1]);
  for (;;)
    {
      gint64 i;

      if (read (fds[0], &i, sizeof i) != sizeof i)
        break;
      acked = i + 1;
      if (acked == 150)
        kill (pid, SIGKILL);
    }
  close (fds[0]);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (acked, >=, 150);

  store = open_store (tmp->path);
  g_assert_cmpint (head_of (store, "doc"), >=, acked);
  assert_dense_log (store, "doc", "k", head_of (store, "doc"));
}

/* Schema */

static void
test_schema_fresh (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = open_store (tmp->path);
  g_autofree char *mode = NULL;
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (patches_server_store_get_schema_version (store), ==, PATCHES_SERVER_STORE_SCHEMA_VERSION);
  g_assert_cmpstr (patches_server_store_get_path (store), ==, tmp->path);
  g_assert_cmpint (count_rows (store, "PRAGMA user_version"), ==, PATCHES_SERVER_STORE_SCHEMA_VERSION);
  g_assert_cmpint (count_rows (store, "PRAGMA application_id"), ==, PATCHES_SERVER_STORE_APPLICATION_ID);
  g_assert_cmpint (count_rows (store, "PRAGMA synchronous"), ==, 2);
  g_assert_cmpint (count_rows (store, "PRAGMA foreign_keys"), ==, 1);

  g_assert_cmpint (sqlite3_prepare_v2 (patches_server_store_get_database (store),
                                       "PRAGMA journal_mode", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  mode = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  g_assert_cmpstr (mode, ==, "wal");

  /* Reopening an up-to-date database changes nothing */
  g_clear_object (&store);
  store = open_store (tmp->path);
  g_assert_cmpint (count_rows (store, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"), >=, 4);
}

static void
test_schema_too_new (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = open_store (tmp->path);
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = g_strdup_printf ("PRAGMA user_version = %d", PATCHES_SERVER_STORE_SCHEMA_VERSION + 1);

  exec_raw (store, sql);
  g_clear_object (&store);

  store = patches_server_store_open (tmp->path, &error);
  g_assert_null (store);
  g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_SCHEMA_TOO_NEW);
  g_assert_nonnull (strstr (error->message, "newer"));
}

static void
test_schema_garbage (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesServerStore) store = NULL;
  g_autofree guint8 *garbage = g_malloc (16384);
  GRand *rand = g_rand_new_with_seed (42);

  for (guint i = 0; i < 16384; i++)
    garbage[i] = (guint8) g_rand_int_range (rand, 0, 256);
  g_rand_free (rand);

  g_assert_true (g_file_set_contents (tmp->path, (const char *) garbage, 16384, NULL));
  store = patches_server_store_open (tmp->path, &error);
  g_assert_null (store);
  g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_CORRUPT);
  g_clear_error (&error);

  /* A short text file */
  g_assert_true (g_file_set_contents (tmp->path, "hello, world\n", -1, NULL));
  store = patches_server_store_open (tmp->path, &error);
  g_assert_null (store);
  g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_CORRUPT);
  g_clear_error (&error);

  /* A directory */
  store = patches_server_store_open (tmp->dir, &error);
  g_assert_null (store);
  g_assert_nonnull (error);
  g_assert_true (error->domain == PATCHES_SERVER_ERROR);
  g_clear_error (&error);

  /* An empty file is a new database */
  g_assert_true (g_file_set_contents (tmp->path, "", 0, NULL));
  store = open_store (tmp->path);
}

/* Damaged pages after a valid header: every call fails with an error,
 * none crashes */
static void
test_schema_damaged (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = open_store (tmp->path);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length;

  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *id = g_strdup_printf ("a%u", i + 1);
      g_autofree char *json = simple_change (id, i, 1700000000000 + i);

      commit_ok (store, "doc", json, 1700000000000 + i);
    }
  g_clear_object (&store);

  g_assert_true (g_file_get_contents (tmp->path, &contents, &length, NULL));
  g_assert_cmpuint (length, >, 8192);
  for (gsize i = 4096; i < length; i++)
    contents[i] = (char) (i * 7919 % 251);
  g_assert_true (g_file_set_contents (tmp->path, contents, length, NULL));

  store = patches_server_store_open (tmp->path, &error);
  if (store == NULL)
    {
      g_test_message ("refused at open: %s", error->message);
      g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_CORRUPT);
      return;
    }

  {
    g_autoptr(PatchesValue) snapshot = patches_server_store_get_doc (store, "doc", -1, &error);
    g_autofree char *change = simple_change ("b1", 200, 1700000001000);
    g_autoptr(PatchesCommit) commit = NULL;

    g_assert_null (snapshot);
    g_test_message ("refused at getDoc: %s", error->message);
    g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_CORRUPT);
    g_clear_error (&error);

    commit = run_commit_json (store, "doc", change, "c1", 1700000001000, &error);
    g_assert_null (commit);
    g_assert_nonnull (error);
    g_assert_cmpuint (patches_server_store_get_transaction_depth (store), ==, 0);
  }
}

static void
test_schema_memory (void)
{
  g_autoptr(PatchesServerStore) store = open_store (":memory:");
  g_autofree char *change = simple_change ("a1", 0, 1700000000000);

  commit_ok (store, "doc", change, 1700000000000);
  assert_dense_log (store, "doc", "a", 1);
}

static void
test_schema_foreign (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesServerStore) store = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (tmp->path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE contacts (name TEXT)", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  store = patches_server_store_open (tmp->path, &error);
  g_assert_null (store);
  g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_NOT_OURS);
}

/* Constraints */

static void
test_constraints (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = open_store (tmp->path);
  const PatchesHistoryFuncs *funcs = patches_server_store_get_history_funcs ();
  sqlite3 *db = patches_server_store_get_database (store);
  gint64 now = 1700000000000;

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *id = g_strdup_printf ("a%u", i + 1);
      g_autofree char *json = simple_change (id, i, now + i);

      commit_ok (store, "doc", json, now + i);
    }

  /* An id already committed: duplicate ids naming every such id */
  {
    g_autoptr(GPtrArray) changes = parse_changes (
      "[{\"id\":\"new\",\"baseRev\":3,\"rev\":4,\"ops\":[],\"createdAt\":1,\"committedAt\":2},"
      " {\"id\":\"a2\",\"baseRev\":3,\"rev\":5,\"ops\":[],\"createdAt\":1,\"committedAt\":2},"
      " {\"id\":\"a3\",\"baseRev\":3,\"rev\":6,\"ops\":[],\"createdAt\":1,\"committedAt\":2}]");
    g_autoptr(GError) error = NULL;
    const char * const *ids;

    g_assert_false (funcs->save_changes (store, "doc", changes, &error));
    g_assert_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_DUPLICATE_IDS);
    ids = patches_commit_error_get_duplicate_ids (error);
    g_assert_nonnull (ids);
    g_assert_cmpuint (g_strv_length ((char **) ids), ==, 2);
    g_assert_cmpstr (ids[0], ==, "a2");
    g_assert_cmpstr (ids[1], ==, "a3");
  }

  /* A revision already taken: revision conflict */
  {
    g_autoptr(GPtrArray) changes = parse_changes (
      "[{\"id\":\"b1\",\"baseRev\":1,\"rev\":2,\"ops\":[],\"createdAt\":1,\"committedAt\":2}]");
    g_autoptr(GError) error = NULL;

    g_assert_false (funcs->save_changes (store, "doc", changes, &error));
    g_assert_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_REV_CONFLICT);
  }

  /* The same revision twice in one save */
  {
    g_autoptr(GPtrArray) changes = parse_changes (
      "[{\"id\":\"c1\",\"baseRev\":3,\"rev\":4,\"ops\":[],\"createdAt\":1,\"committedAt\":2},"
      " {\"id\":\"c2\",\"baseRev\":3,\"rev\":4,\"ops\":[],\"createdAt\":1,\"committedAt\":2}]");
    g_autoptr(GError) error = NULL;

    g_assert_false (funcs->save_changes (store, "doc", changes, &error));
    g_assert_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_REV_CONFLICT);
  }

  /* A gap */
  {
    g_autoptr(GPtrArray) changes = parse_changes (
      "[{\"id\":\"d1\",\"baseRev\":3,\"rev\":5,\"ops\":[],\"createdAt\":1,\"committedAt\":2}]");
    g_autoptr(GError) error = NULL;

    g_assert_false (funcs->save_changes (store, "doc", changes, &error));
    g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_INVALID);
  }

  /* Nothing of the failed saves stayed */
  assert_dense_log (store, "doc", "a", 3);
  g_assert_cmpint (count_rows (store, "SELECT count(*) FROM changes"), ==, 3);

  /* Out of order within one save is fine */
  {
    g_autoptr(GPtrArray) changes = parse_changes (
      "[{\"id\":\"a5\",\"baseRev\":3,\"rev\":5,\"ops\":[],\"createdAt\":1,\"committedAt\":2},"
      " {\"id\":\"a4\",\"baseRev\":3,\"rev\":4,\"ops\":[],\"createdAt\":1,\"committedAt\":2}]");
    g_autoptr(GError) error = NULL;

    g_assert_true (funcs->save_changes (store, "doc", changes, &error));
    g_assert_no_error (error);
    assert_dense_log (store, "doc", "a", 5);
  }

  /* The schema itself refuses, whoever writes */
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO changes VALUES ('doc', 3, 'z', NULL, NULL, 1, 1, '{}')",
                                 NULL, NULL, NULL) & 0xff, ==, SQLITE_CONSTRAINT);
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO changes VALUES ('doc', 6, 'a1', NULL, NULL, 1, 1, '{}')",
                                 NULL, NULL, NULL) & 0xff, ==, SQLITE_CONSTRAINT);
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO changes VALUES ('doc', 9, 'z', NULL, NULL, 1, 1, '{}')",
                                 NULL, NULL, NULL) & 0xff, ==, SQLITE_CONSTRAINT);
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO changes VALUES ('nodoc', 1, 'z', NULL, NULL, 1, 1, '{}')",
                                 NULL, NULL, NULL) & 0xff, ==, SQLITE_CONSTRAINT);
  g_assert_cmpint (sqlite3_exec (db, "UPDATE changes SET json = '{}' WHERE rev = 1",
                                 NULL, NULL, NULL) & 0xff, ==, SQLITE_CONSTRAINT);
  assert_dense_log (store, "doc", "a", 5);

  /* A resend through commitChanges dedupes (duplicate-ids path) */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(PatchesCommit) commit = NULL;

    commit = run_commit_json (store, "doc",
                              "[{\"id\":\"a1\",\"baseRev\":5,\"rev\":6,\"ops\":[{\"op\":\"add\",\"path\":\"/z\",\"value\":1}],"
                              "\"createdAt\":1700000000000,\"committedAt\":0}]", "c1", now + 10, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (patches_commit_get_new_changes (commit)->len, ==, 0);
    assert_dense_log (store, "doc", "a", 5);
  }
}

/* Transactions */

static void
test_rollback (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = open_store (tmp->path);
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesCommit) commit = NULL;
  const char *batch =
    "[{\"id\":\"p1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}],"
    "\"createdAt\":1700000000000,\"committedAt\":0,\"batchId\":\"p1\"},"
    " {\"id\":\"p2\",\"baseRev\":0,\"rev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/b\",\"value\":2}],"
    "\"createdAt\":1700000000001,\"committedAt\":0,\"batchId\":\"p1\"}]";

  /* A batch commit saves its changes, then makes a session version: make
   * the version fail after the changes were written */
  exec_raw (store, "CREATE TEMP TRIGGER fail_versions BEFORE INSERT ON versions "
                   "BEGIN SELECT RAISE (ABORT, 'injected failure'); END");

  commit = run_commit_json (store, "doc", batch, "c1", 1700000000100, &error);
  g_assert_null (commit);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "injected failure"));
  g_clear_error (&error);

  g_assert_cmpuint (patches_server_store_get_transaction_depth (store), ==, 0);
  g_assert_cmpint (head_of (store, "doc"), ==, 0);
  g_assert_cmpint (count_rows (store, "SELECT count(*) FROM changes"), ==, 0);
  g_assert_cmpint (count_rows (store, "SELECT count(*) FROM docs"), ==, 0);
  g_assert_cmpint (count_rows (store, "SELECT count(*) FROM versions"), ==, 0);

  /* The same commit goes through once the failure is gone */
  exec_raw (store, "DROP TRIGGER fail_versions");
  commit = run_commit_json (store, "doc", batch, "c1", 1700000000100, &error);
  g_assert_no_error (error);
  g_assert_cmpint (head_of (store, "doc"), ==, 2);
  g_assert_cmpint (count_rows (store, "SELECT count(*) FROM versions"), ==, 1);
}

static void
test_group (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = open_store (tmp->path);
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesCommit) failed = NULL;
  g_autofree char *a1 = simple_change ("a1", 0, 1700000000000);
  g_autofree char *b1 = simple_change ("b1", 0, 1700000000000);
  g_autofree char *ahead = simple_change ("x", 7, 1700000000000);
  g_autofree char *a2 = simple_change ("a2", 1, 1700000000001);

  /* One failing commit in a group loses only itself */
  g_assert_true (patches_server_store_begin (store, &error));
  commit_ok (store, "a", a1, 1700000000000);
  commit_ok (store, "b", b1, 1700000000000);
  failed = run_commit_json (store, "a", ahead, "c1", 1700000000000, &error);
  g_assert_null (failed);
  g_assert_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_BASE_REV_AHEAD);
  g_assert_cmpint (patches_server_error_get_status (error), ==, 409);
  g_clear_error (&error);
  commit_ok (store, "a", a2, 1700000000001);
  g_assert_cmpuint (patches_server_store_get_transaction_depth (store), ==, 1);
  g_assert_true (patches_server_store_commit (store, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (patches_server_store_get_transaction_depth (store), ==, 0);

  assert_dense_log (store, "a", "a", 2);
  assert_dense_log (store, "b", "b", 1);

  /* Rolling back the outer level undoes the inner, committed, levels */
  {
    g_autofree char *a3 = simple_change ("a3", 2, 1700000000002);

    g_assert_true (patches_server_store_begin (store, &error));
    commit_ok (store, "a", a3, 1700000000002);
    g_assert_true (patches_server_store_begin (store, &error));
    g_assert_true (patches_server_store_delete_doc (store, "b", "c1", FALSE, 1700000000003, &error));
    g_assert_true (patches_server_store_commit (store, &error));
    g_assert_cmpint (head_of (store, "a"), ==, 3);
    g_assert_cmpint (head_of (store, "b"), ==, 0);
    patches_server_store_rollback (store);
    g_assert_cmpuint (patches_server_store_get_transaction_depth (store), ==, 0);
  }

  assert_dense_log (store, "a", "a", 2);
  assert_dense_log (store, "b", "b", 1);
  g_assert_null (patches_server_store_get_tombstone (store, "b", &error));
  g_assert_no_error (error);

  /* The store can be closed with a transaction open: it is rolled back */
  {
    g_autofree char *a3 = simple_change ("a3", 2, 1700000000002);

    g_assert_true (patches_server_store_begin (store, &error));
    commit_ok (store, "a", a3, 1700000000002);
    g_clear_object (&store);
    store = open_store (tmp->path);
    assert_dense_log (store, "a", "a", 2);
  }
}

/* A change of about 30 KB */
static char *
big_change (const char *id,
            gint64      base_rev)
{
  g_autofree char *filler = g_strnfill (30000, 'x');

  return g_strdup_printf ("[{\"id\":\"%s\",\"baseRev\":%" G_GINT64_FORMAT ",\"rev\":%" G_GINT64_FORMAT ","
                          "\"ops\":[{\"op\":\"add\",\"path\":\"/%s\",\"value\":\"%s\"}],"
                          "\"createdAt\":1700000000000,\"committedAt\":0}]",
                          id, base_rev, base_rev + 1, id, filler);
}

/* A full disk: commits fail with an error and leave nothing half done,
 * alone or in a group, and the store works again once there is room */
static void
test_disk_full (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = open_store (tmp->path);
  g_autoptr(GError) error = NULL;
  gint64 head = 0;
  guint failures = 0;

  for (guint round = 0; round < 2; round++)
    {
      g_autofree char *limit = g_strdup_printf ("PRAGMA max_page_count = %" G_GINT64_FORMAT,
                                                count_rows (store, "PRAGMA page_count") + 40);
      gboolean group = round == 1;
      gint64 before = head;

      /* Room for a few changes */
      exec_raw (store, limit);

      if (group)
        g_assert_true (patches_server_store_begin (store, &error));

      for (guint i = 0; i < 100; i++)
        {
          g_autofree char *id = g_strdup_printf ("a%" G_GINT64_FORMAT, head + 1);
          g_autofree char *json = big_change (id, head);
          g_autoptr(PatchesCommit) commit = run_commit_json (store, "doc", json, "c1",
                                                             1700000000000, &error);

          if (commit == NULL)
            {
              g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_IO);
              g_clear_error (&error);
              failures++;
              break;
            }
          head++;
        }

      if (group)
        {
          if (!patches_server_store_commit (store, &error))
            {
              g_assert_nonnull (error);
              g_clear_error (&error);
            }
          head = head_of (store, "doc");
        }

      g_assert_cmpuint (patches_server_store_get_transaction_depth (store), ==, 0);
      g_assert_cmpint (head, >, before);
      assert_dense_log (store, "doc", "a", head);
    }

  g_assert_cmpuint (failures, ==, 2);

  exec_raw (store, "PRAGMA max_page_count = 1000000");
  {
    g_autofree char *id = g_strdup_printf ("a%" G_GINT64_FORMAT, head + 1);
    g_autofree char *json = big_change (id, head);

    commit_ok (store, "doc", json, 1700000000000);
  }
  assert_dense_log (store, "doc", "a", head + 1);

  g_clear_object (&store);
  store = open_store (tmp->path);
  assert_dense_log (store, "doc", "a", head + 1);
}

/* Versions */

static void
test_versions (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = open_store (tmp->path);
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) list = NULL;
  g_autoptr(PatchesValue) meta = NULL;
  g_autoptr(PatchesValue) state = NULL;
  g_autoptr(PatchesValue) expected = NULL;
  g_autoptr(PatchesValue) options = NULL;
  g_autoptr(PatchesValue) name = parse_value ("{\"name\":\"Draft 1\",\"tag\":[1]}");
  g_autoptr(GPtrArray) changes = NULL;
  g_autofree char *v1 = NULL;
  g_autofree char *v2 = NULL;
  g_autofree char *none = NULL;
  g_autofree char *json = NULL;
  gint64 now = 1700000000000;

  /* No change, no version */
  g_assert_true (patches_server_store_create_version (store, "doc", name, now, &none, &error));
  g_assert_no_error (error);
  g_assert_null (none);

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *id = g_strdup_printf ("a%u", i + 1);
      g_autofree char *change = simple_change (id, i, now + i);

      commit_ok (store, "doc", change, now + i);
    }

  g_assert_true (patches_server_store_create_version (store, "doc", name, now + 10, &v1, &error));
  g_assert_no_error (error);
  g_assert_nonnull (v1);
  g_assert_cmpuint (strlen (v1), ==, 16);

  /* Nothing new since v1 */
  g_assert_true (patches_server_store_create_version (store, "doc", NULL, now + 11, &none, &error));
  g_assert_null (none);

  list = patches_server_store_list_versions (store, "doc", NULL, &error);
  g_assert_no_error (error);
  json = patches_value_to_json (list);
  {
    g_autofree char *want = g_strdup_printf ("[{\"origin\":\"main\",\"startedAt\":1700000000000,"
                                             "\"endedAt\":1700000000002,\"endRev\":3,\"startRev\":1,"
                                             "\"name\":\"Draft 1\",\"tag\":[1],\"id\":\"%s\"}]", v1);

    g_assert_cmpstr (json, ==, want);
  }
  g_clear_pointer (&json, g_free);

  /* Forbidden keys */
  {
    g_autoptr(PatchesValue) bad = parse_value ("{\"name\":\"x\",\"origin\":\"branch\"}");
    g_autoptr(PatchesValue) not_object = parse_value ("[1]");

    g_assert_false (patches_server_store_create_version (store, "doc", bad, now, &none, &error));
    g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_INVALID);
    g_assert_cmpstr (error->message, ==, "Cannot modify version field origin");
    g_assert_cmpint (patches_server_error_get_status (error), ==, -32000);
    g_clear_error (&error);

    g_assert_false (patches_server_store_update_version (store, "doc", v1, bad, &error));
    g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_INVALID);
    g_clear_error (&error);

    g_assert_false (patches_server_store_update_version (store, "doc", v1, not_object, &error));
    g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_INVALID);
    g_clear_error (&error);
  }

  /* updateVersion merges */
  {
    g_autoptr(PatchesValue) update = parse_value ("{\"name\":\"Final\",\"note\":\"ok\"}");

    g_assert_true (patches_server_store_update_version (store, "doc", v1, update, &error));
    g_assert_no_error (error);
    meta = patches_server_store_get_version (store, "doc", v1, &error);
    g_assert_no_error (error);
    json = patches_value_to_json (meta);
    g_assert_nonnull (strstr (json, "\"name\":\"Final\",\"tag\":[1],\"id\":"));
    g_assert_nonnull (strstr (json, "\"note\":\"ok\"}"));
    g_clear_pointer (&json, g_free);
    g_clear_pointer (&meta, patches_value_unref);

    g_assert_false (patches_server_store_update_version (store, "doc", "nope", update, &error));
    g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }

  /* States and changes */
  state = patches_server_store_get_version_state (store, "doc", v1, &error);
  g_assert_no_error (error);
  expected = parse_value ("{\"a1\":0,\"a2\":1,\"a3\":2}");
  g_assert_true (patches_value_equal (state, expected));
  g_clear_pointer (&state, patches_value_unref);

  json = patches_server_store_get_version_state_json (store, "doc", v1, &error);
  g_assert_cmpstr (json, ==, "{\"a1\":0,\"a2\":1,\"a3\":2}");
  g_clear_pointer (&json, g_free);

  changes = patches_server_store_get_version_changes (store, "doc", v1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (changes->len, ==, 3);
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (changes, 2))->id, ==, "a3");
  g_clear_pointer (&changes, g_ptr_array_unref);

  state = patches_server_store_get_state_before_version (store, "doc", v1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (patches_value_get_kind (state), ==, PATCHES_VALUE_NULL);
  g_clear_pointer (&state, patches_value_unref);

  g_assert_null (patches_server_store_get_version_state (store, "doc", "nope", &error));
  g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "Version nope not found for doc doc.");
  g_assert_cmpint (patches_server_error_get_status (error), ==, 404);
  g_clear_error (&error);
  g_assert_null (patches_server_store_get_state_before_version (store, "doc", "nope", &error));
  g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (patches_server_store_get_version_changes (store, "doc", "nope", &error));
  g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "Could not load changes for version nope.");
  g_clear_error (&error);

  /* A second version chains to the first */
  for (guint i = 3; i < 5; i++)
    {
      g_autofree char *id = g_strdup_printf ("a%u", i + 1);
      g_autofree char *change = simple_change (id, i, now + 100 + i);

      commit_ok (store, "doc", change, now + 100 + i);
    }
  g_assert_true (patches_server_store_create_version (store, "doc", NULL, now + 200, &v2, &error));
  g_assert_no_error (error);
  meta = patches_server_store_get_version (store, "doc", v2, &error);
  g_assert_cmpstr (value_string (meta, "parentId"), ==, v1);
  g_assert_cmpint (value_int (meta, "startRev"), ==, 4);
  g_assert_cmpint (value_int (meta, "endRev"), ==, 5);
  g_clear_pointer (&meta, patches_value_unref);

  state = patches_server_store_get_state_before_version (store, "doc", v2, &error);
  g_assert_no_error (error);
  g_assert_true (patches_value_equal (state, expected));
  g_clear_pointer (&state, patches_value_unref);
  g_clear_pointer (&expected, patches_value_unref);

  /* getDoc serves the latest version and no change, or an older one */
  json = patches_server_store_get_doc_json (store, "doc", -1, &error);
  g_assert_cmpstr (json, ==, "{\"state\":{\"a1\":0,\"a2\":1,\"a3\":2,\"a4\":3,\"a5\":4},\"rev\":5,\"changes\":[]}");
  g_clear_pointer (&json, g_free);
  json = patches_server_store_get_doc_json (store, "doc", 4, &error);
  g_assert_true (g_str_has_prefix (json, "{\"state\":{\"a1\":0,\"a2\":1,\"a3\":2},\"rev\":3,\"changes\":[{\"id\":\"a4\""));
  g_clear_pointer (&json, g_free);

  /* listVersions options */
  g_clear_pointer (&list, patches_value_unref);
  options = parse_value ("{\"reverse\":true}");
  list = patches_server_store_list_versions (store, "doc", options, &error);
  g_assert_cmpuint (patches_value_array_get_length (list), ==, 2);
  g_assert_cmpstr (value_string (patches_value_array_get (list, 0), "id"), ==, v2);
  g_clear_pointer (&list, patches_value_unref);
  g_clear_pointer (&options, patches_value_unref);

  options = parse_value ("{\"orderBy\":\"endRev\",\"startAfter\":3}");
  list = patches_server_store_list_versions (store, "doc", options, &error);
  g_assert_cmpuint (patches_value_array_get_length (list), ==, 1);
  g_assert_cmpstr (value_string (patches_value_array_get (list, 0), "id"), ==, v2);
  g_clear_pointer (&list, patches_value_unref);
  g_clear_pointer (&options, patches_value_unref);

  options = parse_value ("{\"orderBy\":\"startRev\",\"reverse\":true,\"startAfter\":4}");
  list = patches_server_store_list_versions (store, "doc", options, &error);
  g_assert_cmpuint (patches_value_array_get_length (list), ==, 1);
  g_assert_cmpstr (value_string (patches_value_array_get (list, 0), "id"), ==, v1);
  g_clear_pointer (&list, patches_value_unref);
  g_clear_pointer (&options, patches_value_unref);

  options = parse_value ("{\"endBefore\":\"1700000000100\",\"limit\":5}");
  list = patches_server_store_list_versions (store, "doc", options, &error);
  g_assert_cmpuint (patches_value_array_get_length (list), ==, 1);
  g_clear_pointer (&list, patches_value_unref);
  g_clear_pointer (&options, patches_value_unref);

  options = parse_value ("{\"limit\":1,\"origin\":\"main\"}");
  list = patches_server_store_list_versions (store, "doc", options, &error);
  g_assert_cmpuint (patches_value_array_get_length (list), ==, 1);
  g_assert_cmpstr (value_string (patches_value_array_get (list, 0), "id"), ==, v1);
  g_clear_pointer (&list, patches_value_unref);
  g_clear_pointer (&options, patches_value_unref);

  options = parse_value ("{\"origin\":\"offline-branch\"}");
  list = patches_server_store_list_versions (store, "doc", options, &error);
  g_assert_cmpuint (patches_value_array_get_length (list), ==, 0);
  g_clear_pointer (&list, patches_value_unref);
  g_clear_pointer (&options, patches_value_unref);

  options = parse_value ("{\"orderBy\":\"name\"}");
  list = patches_server_store_list_versions (store, "doc", options, &error);
  g_assert_null (list);
  g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_INVALID);
  g_clear_error (&error);

  /* A version whose state is not built answers 503 */
  exec_raw (store, "UPDATE versions SET state_json = NULL");
  g_assert_null (patches_server_store_get_version_state (store, "doc", v1, &error));
  g_assert_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_STATE_UNAVAILABLE);
  g_assert_cmpint (patches_server_error_get_status (error), ==, 503);
  g_clear_error (&error);
  g_assert_null (patches_server_store_get_doc_json (store, "doc", -1, &error));
  g_assert_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_STATE_UNAVAILABLE);
  g_assert_cmpint (patches_server_error_get_status (error), ==, 503);
  g_clear_error (&error);
}

/* Versions made automatically keep getDoc short */
static void
test_auto_versions (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = open_store (tmp->path);
  const PatchesHistoryFuncs *funcs = patches_server_store_get_history_funcs ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) log = NULL;
  g_autoptr(PatchesValue) full = NULL;
  PatchesCommitConfig config;
  gint64 now = 1700000000000;
  guint n = 95;

  patches_commit_config_init (&config);
  config.max_changes_per_version = 10;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("a%u", i + 1);
      g_autofree char *json = g_strdup_printf ("[{\"id\":\"%s\",\"baseRev\":%u,\"rev\":%u,"
                                               "\"ops\":[{\"op\":\"replace\",\"path\":\"/n\",\"value\":%u}],"
                                               "\"createdAt\":%" G_GINT64_FORMAT ",\"committedAt\":0}]",
                                               id, i, i + 1, i + 1, now + i);
      g_autoptr(GPtrArray) changes = parse_changes (json);
      g_autoptr(PatchesCommit) commit = patches_commit_new ("doc", changes, NULL, "c1", now + i, &config);

      g_assert_true (patches_server_store_run_commit (store, commit, &error));
      g_assert_no_error (error);
    }

  g_assert_cmpint (count_rows (store, "SELECT count(*) FROM versions"), >=, 8);

  log = funcs->list_changes (store, "doc", -1, -1, 0, FALSE, &error);
  g_assert_true (patches_changes_apply (&full, log, &error));

  for (gint64 rev = -1; rev <= (gint64) n; rev += 7)
    {
      g_autoptr(PatchesValue) snapshot = patches_server_store_get_doc (store, "doc", rev, &error);
      g_autoptr(PatchesValue) state = NULL;
      g_autoptr(GPtrArray) tail = NULL;
      PatchesValue *member;

      g_assert_no_error (error);
      g_assert_cmpint (value_int (snapshot, "rev"), >=, MIN (rev < 0 ? (gint64) n : rev, (gint64) n) - 20);
      member = patches_value_object_get (snapshot, "state");
      if (patches_value_get_kind (member) != PATCHES_VALUE_NULL)
        state = patches_value_copy_deep (member);
      tail = patches_changes_from_value (patches_value_object_get (snapshot, "changes"), &error);
      g_assert_true (patches_changes_apply (&state, tail, &error));
      if (rev < 0 || rev >= (gint64) n)
        g_assert_true (patches_value_equal (state, full));
      else if (rev > 0)
        g_assert_cmpint (value_int (state, "n"), ==, rev);
    }
}

/* Commits to @doc_id one `@txt` insert of @text at offset 0 of /body as
 * rev @rev, id @prefix<rev> */
static void
commit_text (PatchesServerStore        *store,
             const PatchesCommitConfig *config,
             const char                *doc_id,
             const char                *prefix,
             guint                      rev,
             const char                *text,
             gint64                     now)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = g_strdup_printf ("[{\"id\":\"%s%u\",\"baseRev\":%u,\"rev\":%u,"
                                           "\"ops\":[{\"op\":\"@txt\",\"path\":\"/body\","
                                           "\"value\":[{\"insert\":\"%s\"}]}],"
                                           "\"createdAt\":%" G_GINT64_FORMAT ",\"committedAt\":0}]",
                                           prefix, rev, rev - 1, rev, text, now);
  g_autoptr(GPtrArray) changes = parse_changes (json);
  g_autoptr(PatchesCommit) commit = patches_commit_new (doc_id, changes, NULL, "c1", now, config);

  g_assert_true (patches_server_store_run_commit (store, commit, &error));
  g_assert_no_error (error);
}

/* Every `main` version of @doc_id has the state that replaying the log
 * from the start gives */
static void
assert_versions_replay (PatchesServerStore *store,
                        const char         *doc_id)
{
  const PatchesHistoryFuncs *funcs = patches_server_store_get_history_funcs ();
  sqlite3 *db = patches_server_store_get_database (store);
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt = NULL;
  guint n = 0;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT end_rev, state_json FROM versions "
                                           "WHERE origin = 'main' AND doc_id = ?1 ORDER BY end_rev",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, doc_id, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 end_rev = sqlite3_column_int64 (stmt, 0);
      g_autoptr(GPtrArray) log = funcs->list_changes (store, doc_id, 0, end_rev + 1, 0, FALSE, &error);
      g_autoptr(PatchesValue) expected = NULL;
      g_autoptr(PatchesValue) stored = NULL;

      g_assert_no_error (error);
      g_assert_true (patches_changes_apply (&expected, log, &error));
      stored = patches_value_parse ((const char *) sqlite3_column_text (stmt, 1), -1, &error);
      g_assert_no_error (error);
      if (!patches_value_equal (stored, expected))
        {
          g_autofree char *want = patches_value_to_json (expected);

          g_error ("version of %s ending at %" G_GINT64_FORMAT ": state %s, replay gives %s",
                   doc_id, end_rev, (const char *) sqlite3_column_text (stmt, 1), want);
        }
      n++;
    }
  sqlite3_finalize (stmt);
  g_assert_cmpuint (n, >, 0);
}

/* A version is built on the state of the one before, kept in memory:
 * text shared with it must not change under it, and a version that was
 * rolled back must not serve as a base for later ones */
static void
test_versions_chain (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = open_store (tmp->path);
  g_autoptr(GError) error = NULL;
  PatchesCommitConfig config;
  gint64 now = 1700000000000;
  guint rev = 0;

  patches_commit_config_init (&config);
  config.max_changes_per_version = 4;

  for (guint i = 0; i < 21; i++)
    commit_text (store, &config, "doc", "a", ++rev, i % 2 ? "x" : "yz", now + i);
  g_assert_cmpint (count_rows (store, "SELECT count(*) FROM versions"), >=, 4);
  assert_versions_replay (store, "doc");

  /* Versions made, then rolled back with the changes they cover; other
   * changes take those revisions */
  g_assert_true (patches_server_store_begin (store, &error));
  for (guint i = 0; i < 9; i++)
    commit_text (store, &config, "doc", "lost", rev + i + 1, "LOST", now + 100 + i);
  patches_server_store_rollback (store);
  g_assert_cmpint (head_of (store, "doc"), ==, rev);

  for (guint i = 0; i < 13; i++)
    commit_text (store, &config, "doc", "b", ++rev, "kept", now + 200 + i);
  assert_versions_replay (store, "doc");
  g_assert_cmpint (count_rows (store, "SELECT count(*) FROM versions WHERE state_json LIKE '%LOST%'"), ==, 0);
}

/* Documents edited in turn each keep their state; the changes a version
 * holds are the stored texts, byte for byte */
static void
test_versions_interleaved (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = open_store (tmp->path);
  PatchesCommitConfig config;
  gint64 now = 1700000000000;
  const char *docs[] = { "doc", "other", "third" };
  guint revs[G_N_ELEMENTS (docs)] = { 0 };

  patches_commit_config_init (&config);
  config.max_changes_per_version = 3;

  for (guint i = 0; i < 60; i++)
    {
      guint d = (i * 7) % G_N_ELEMENTS (docs);
      g_autofree char *text = g_strdup_printf ("%s %u \\u00e9\\n", docs[d], i);

      commit_text (store, &config, docs[d], docs[d], ++revs[d], text, now + i);
    }

  for (guint d = 0; d < G_N_ELEMENTS (docs); d++)
    assert_versions_replay (store, docs[d]);
  g_assert_cmpint (count_rows (store,
                               "SELECT count(*) FROM versions v WHERE v.changes_json <> "
                               "(SELECT '[' || group_concat (json, ',') || ']' FROM "
                               " (SELECT json FROM changes c WHERE c.doc_id = v.doc_id "
                               "  AND c.rev BETWEEN v.start_rev AND v.end_rev ORDER BY c.rev))"), ==, 0);
  g_assert_cmpint (count_rows (store, "SELECT count(*) FROM versions WHERE origin = 'main'"), >=, 15);
}

/* Checkpoints run on a worker beside the writer; the log starts over
 * instead of growing, and nothing committed is lost on the way */
static void
test_checkpoints (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = open_store (tmp->path);
  g_autofree char *wal_path = g_strconcat (tmp->path, "-wal", NULL);
  g_autofree char *filler = g_strnfill (900, 'f');
  g_autoptr(GError) error = NULL;
  GStatBuf st;
  guint n = 600;

  patches_server_store_set_checkpoint_pages (store, 200, 40);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *json = g_strdup_printf ("[{\"id\":\"k%u\",\"baseRev\":%u,\"rev\":%u,"
                                               "\"ops\":[{\"op\":\"add\",\"path\":\"/f%u\",\"value\":\"%s\"}],"
                                               "\"createdAt\":%u,\"committedAt\":0}]",
                                               i + 1, i, i + 1, i % 50, filler, 1700000000 + i);

      commit_ok (store, "doc", json, 1700000000000 + i);
      /* The worker's answer comes through the main context */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      if (i % 100 == 99)
        g_usleep (20 * 1000);
    }

  g_assert_cmpuint (patches_server_store_get_n_checkpoints (store), >, 0);

  /* Each commit writes some sixty 1 KiB pages: without checkpoints the
   * log would hold over 30,000 of them; it starts over past a few
   * hundred (plus what is written while a checkpoint runs) */
  g_assert_cmpint (g_stat (wal_path, &st), ==, 0);
  g_assert_cmpint (st.st_size, <, 2500 * (1024 + 24));

  assert_dense_log (store, "doc", "k", n);
  g_clear_object (&store);

  store = patches_server_store_open (tmp->path, &error);
  g_assert_no_error (error);
  assert_dense_log (store, "doc", "k", n);
}

/* Shutting down while the log is being copied in the background: after
 * waiting for the copy, releasing the store closes the database, and the
 * last connection removes the log */
static void
test_checkpoint_then_close (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  PatchesServerStore *store = open_store (tmp->path);
  g_autofree char *wal_path = g_strconcat (tmp->path, "-wal", NULL);
  g_autofree char *filler = g_strnfill (900, 'f');
  g_autoptr(GError) error = NULL;
  gpointer weak = store;

  patches_server_store_set_checkpoint_pages (store, 200, 40);

  /* The main context does not run: the first copy stays in flight */
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *json = g_strdup_printf ("[{\"id\":\"k%u\",\"baseRev\":%u,\"rev\":%u,"
                                               "\"ops\":[{\"op\":\"add\",\"path\":\"/f%u\",\"value\":\"%s\"}],"
                                               "\"createdAt\":%u,\"committedAt\":0}]",
                                               i + 1, i, i + 1, i, filler, 1700000000 + i);

      commit_ok (store, "doc", json, 1700000000000 + i);
    }
  g_assert_cmpuint (patches_server_store_get_n_checkpoints (store), ==, 0);

  patches_server_store_wait_checkpoint (store);
  g_assert_cmpuint (patches_server_store_get_n_checkpoints (store), ==, 1);

  g_object_add_weak_pointer (G_OBJECT (store), &weak);
  g_object_unref (store);
  g_assert_null (weak);
  g_assert_false (g_file_test (wal_path, G_FILE_TEST_EXISTS));

  store = patches_server_store_open (tmp->path, &error);
  g_assert_no_error (error);
  assert_dense_log (store, "doc", "k", 100);
  g_object_unref (store);
}

static void
test_tombstones (void)
{
  g_autoptr(TmpDb) tmp = tmp_db_new ();
  g_autoptr(PatchesServerStore) store = open_store (tmp->path);
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) tombstone = NULL;
  g_autoptr(PatchesValue) snapshot = NULL;
  g_autofree char *json = NULL;
  g_autofree char *change = simple_change ("a1", 0, 1700000000000);
  gboolean removed = FALSE;

  commit_ok (store, "doc", change, 1700000000000);
  g_assert_true (patches_server_store_delete_doc (store, "doc", "c9", FALSE, 1700000000500, &error));
  g_assert_no_error (error);

  tombstone = patches_server_store_get_tombstone (store, "doc", &error);
  json = patches_value_to_json (tombstone);
  g_assert_cmpstr (json, ==, "{\"docId\":\"doc\",\"deletedAt\":1700000000500,\"lastRev\":1,\"deletedByClientId\":\"c9\"}");
  g_clear_pointer (&json, g_free);

  g_assert_cmpint (head_of (store, "doc"), ==, 0);
  json = patches_server_store_get_doc_json (store, "doc", -1, &error);
  g_assert_cmpstr (json, ==, "{\"state\":null,\"rev\":0,\"changes\":[]}");
  g_clear_pointer (&json, g_free);
  g_assert_cmpint (count_rows (store, "SELECT count(*) FROM changes"), ==, 0);

  g_assert_true (patches_server_store_undelete_doc (store, "doc", &removed, &error));
  g_assert_true (removed);
  g_assert_true (patches_server_store_undelete_doc (store, "doc", &removed, &error));
  g_assert_false (removed);

  /* Deleting a document that never existed, without a tombstone */
  g_assert_true (patches_server_store_delete_doc (store, "ghost", NULL, TRUE, 1700000000600, &error));
  g_assert_null (patches_server_store_get_tombstone (store, "ghost", &error));
  g_assert_no_error (error);
  g_assert_true (patches_server_store_delete_doc (store, "ghost", NULL, FALSE, 1700000000600, &error));
  g_clear_pointer (&tombstone, patches_value_unref);
  tombstone = patches_server_store_get_tombstone (store, "ghost", &error);
  g_assert_cmpint (value_int (tombstone, "lastRev"), ==, 0);

  /* A recreated document starts again at revision 1 */
  commit_ok (store, "doc", change, 1700000001000);
  assert_dense_log (store, "doc", "a", 1);
  snapshot = patches_server_store_get_doc (store, "doc", -1, &error);
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) error = NULL;
  g_autofree char *vectors = NULL;
  JsonArray *cases;

  g_test_init (&argc, &argv, NULL);

  vectors = g_test_build_filename (G_TEST_DIST, "conformance", "server_commit.json", NULL);
  if (!json_parser_load_from_mapped_file (parser, vectors, &error))
    g_error ("%s: %s", vectors, error->message);

  cases = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "cases");
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *kase = json_array_get_object_element (cases, i);
      g_autofree char *name = g_strdup_printf ("/server-store/server-commit/%s",
                                               json_object_get_string_member (kase, "name"));

      g_test_add_data_func (name, kase, test_conformance_case);
    }

  g_test_add_func ("/server-store/durability/reopen", test_reopen);
  g_test_add_func ("/server-store/durability/kill", test_kill);
  g_test_add_func ("/server-store/schema/fresh", test_schema_fresh);
  g_test_add_func ("/server-store/schema/too-new", test_schema_too_new);
  g_test_add_func ("/server-store/schema/garbage", test_schema_garbage);
  g_test_add_func ("/server-store/schema/foreign", test_schema_foreign);
  g_test_add_func ("/server-store/schema/damaged", test_schema_damaged);
  g_test_add_func ("/server-store/schema/memory", test_schema_memory);
  g_test_add_func ("/server-store/constraints", test_constraints);
  g_test_add_func ("/server-store/transactions/rollback", test_rollback);
  g_test_add_func ("/server-store/transactions/group", test_group);
  g_test_add_func ("/server-store/transactions/disk-full", test_disk_full);
  g_test_add_func ("/server-store/versions/api", test_versions);
  g_test_add_func ("/server-store/versions/automatic", test_auto_versions);
  g_test_add_func ("/server-store/versions/chain", test_versions_chain);
  g_test_add_func ("/server-store/versions/interleaved", test_versions_interleaved);
  g_test_add_func ("/server-store/transactions/checkpoints", test_checkpoints);
  g_test_add_func ("/server-store/transactions/checkpoint-then-close", test_checkpoint_then_close);
  g_test_add_func ("/server-store/tombstones", test_tombstones);

  return g_test_run ();
}
