/* test-store.c: the client stores
 *
 * One contract suite run against both PatchesMemoryStore and
 * PatchesSqliteStore (the fixture builds the store; for SQLite, reopen()
 * closes and reopens the file so every contract test also checks that
 * the data survives a restart), then SQLite-only tests: exact JSON after
 * reopen, compaction, refused files left untouched, pragmas, damaged
 * rows, closing and per-profile paths.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "patches.h"
#include "patches-memory-store.h"
#include "patches-sqlite-store.h"
#include "patches-sqlite-store-private.h"
#include "patches-store.h"
#include "patches-test-util.h"

typedef struct
{
  PatchesStore *store;
  char         *path;   /* SQLite file, NULL for the memory store */
} Fixture;

/* Helpers */

/* A change setting /key to @number at @rev */
static PatchesChange *
make_change (const char *id,
             gint64      rev,
             const char *key,
             double      number)
{
  g_autofree char *json = NULL;

  json = g_strdup_printf ("{\"id\":\"%s\",\"baseRev\":%" G_GINT64_FORMAT ",\"rev\":%" G_GINT64_FORMAT ","
                          "\"ops\":[{\"op\":\"replace\",\"path\":\"/%s\",\"value\":%g}],"
                          "\"createdAt\":1700000000000,\"committedAt\":0}",
                          id, rev - 1, rev, key, number);
  return patches_test_parse_change (json);
}

static GPtrArray *
changes_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) patches_change_unref);
}

/* Takes ownership of the changes */
static GPtrArray *
changes_of (PatchesChange *first,
            ...)
{
  GPtrArray *changes = changes_new ();
  va_list args;

  va_start (args, first);
  for (PatchesChange *c = first; c != NULL; c = va_arg (args, PatchesChange *))
    g_ptr_array_add (changes, c);
  va_end (args);

  return changes;
}

static char *
change_json (const PatchesChange *change)
{
  GString *out = g_string_new (NULL);

  patches_change_write_json (change, out);
  return g_string_free (out, FALSE);
}

static char *
value_json (const PatchesValue *value)
{
  return value ? patches_value_to_json (value) : g_strdup ("(none)");
}

static void
assert_value_json (const PatchesValue *value,
                   const char         *expected)
{
  g_autofree char *json = value_json (value);
  g_autoptr(PatchesValue) want = expected ? patches_test_parse (expected) : NULL;
  g_autofree char *want_json = value_json (want);

  g_assert_cmpstr (json, ==, want_json);
}

/* The ids of the pending changes, space separated */
static char *
pending_ids (const PatchesStoredDoc *doc)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < doc->pending->len; i++)
    {
      const PatchesChange *c = g_ptr_array_index (doc->pending, i);

      g_string_append_printf (out, "%s%s@%" G_GINT64_FORMAT, i ? " " : "", c->id, c->rev);
    }
  return g_string_free (out, FALSE);
}

static PatchesStoredDoc *
load (Fixture    *fixture,
      const char *doc_id)
{
  g_autoptr(GError) error = NULL;
  PatchesStoredDoc *doc = patches_store_load_doc (fixture->store, doc_id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (doc);
  g_assert_cmpstr (doc->doc_id, ==, doc_id);
  return doc;
}

static void
assert_not_found (Fixture    *fixture,
                  const char *doc_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesStoredDoc) doc = patches_store_load_doc (fixture->store, doc_id, &error);

  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND);
  g_assert_null (doc);
}

static char *
joined (char **strv)
{
  g_assert_nonnull (strv);
  return g_strjoinv (" ", strv);
}

static char *
list_tracked (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = patches_store_list_tracked (fixture->store, &error);

  g_assert_no_error (error);
  return joined (ids);
}

static char *
list_tombstones (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = patches_store_list_tombstones (fixture->store, &error);

  g_assert_no_error (error);
  return joined (ids);
}

static PatchesStore *
open_sqlite (const char *path)
{
  g_autoptr(GError) error = NULL;
  PatchesSqliteStore *store = patches_sqlite_store_new (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return PATCHES_STORE (store);
}

/* SQLite: closes and reopens the file; memory: nothing to do */
static void
reopen (Fixture *fixture)
{
  if (fixture->path == NULL)
    return;

  patches_sqlite_store_close (PATCHES_SQLITE_STORE (fixture->store));
  g_clear_object (&fixture->store);
  fixture->store = open_sqlite (fixture->path);
}

/* Reopens the store, then checks what it holds for @doc_id: a live
 * record at @rev with the state @state (JSON, %NULL for none) and the
 * pending changes @pending (as pending_ids() writes them) */
static void
assert_reloaded (Fixture    *fixture,
                 const char *doc_id,
                 gint64      rev,
                 const char *state,
                 const char *pending)
{
  g_autoptr(PatchesStoredDoc) doc = NULL;
  g_autofree char *ids = NULL;

  reopen (fixture);
  doc = load (fixture, doc_id);
  g_assert_false (doc->deleted);
  g_assert_cmpint (doc->committed_rev, ==, rev);
  assert_value_json (doc->state, state);
  ids = pending_ids (doc);
  g_assert_cmpstr (ids, ==, pending);
}

/* The temporary XDG_DATA_HOME of this run, removed at the end */
static char *data_home;

/* A file in a directory of its own for the running test */
static char *
test_db_path (const char *name)
{
  g_autofree char *test = g_strdup (g_test_get_path ());

  g_strdelimit (test, "/", '_');
  return g_build_filename (data_home, test, "stores", name, NULL);
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
    }
  g_remove (path);
}

/* A second connection, as another process would have */
static sqlite3 *
open_raw (const char *path)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);

  g_assert_cmpint (rc, ==, SQLITE_OK);
  return db;
}

static void
raw_exec (sqlite3    *db,
          const char *sql)
{
  char *message = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &message);

  if (rc != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

static char *
raw_query (sqlite3    *db,
           const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  char *result = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    result = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return result;
}

static GBytes *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, length);
}

/* Opening @path fails with @code and an error naming the file, and the
 * file is left as it was; returns the error for further checks */
static GError *
assert_open_refused (const char *path,
                     int         code)
{
  g_autoptr(GBytes) before = read_file (path);
  g_autoptr(GBytes) after = NULL;
  g_autoptr(PatchesSqliteStore) store = NULL;
  GError *error = NULL;

  store = patches_sqlite_store_new (path, &error);
  g_assert_null (store);
  g_assert_error (error, PATCHES_STORE_ERROR, code);
  g_assert_nonnull (strstr (error->message, path));

  after = read_file (path);
  g_assert_true (g_bytes_equal (before, after));
  return error;
}

/* Fixtures */

static void
setup_memory (Fixture       *fixture,
              gconstpointer  data)
{
  fixture->store = PATCHES_STORE (patches_memory_store_new ());
}

static void
setup_sqlite (Fixture       *fixture,
              gconstpointer  data)
{
  fixture->path = test_db_path ("client.db");
  fixture->store = open_sqlite (fixture->path);
  g_assert_true (g_file_test (fixture->path, G_FILE_TEST_IS_REGULAR));
}

static void
teardown (Fixture       *fixture,
          gconstpointer  data)
{
  g_assert_finalize_object (fixture->store);
  g_clear_pointer (&fixture->path, g_free);
}

/* Contract tests (both stores) */

static void
test_unknown_doc (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autofree char *tracked = NULL;
  g_autofree char *tombstones = NULL;

  assert_not_found (fixture, "nope");
  tracked = list_tracked (fixture);
  tombstones = list_tombstones (fixture);
  g_assert_cmpstr (tracked, ==, "");
  g_assert_cmpstr (tombstones, ==, "");
}

static void
test_snapshot_round_trip (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) state = patches_test_parse ("{\"title\":\"Hello\",\"n\":[1,2.5,null,true],\"é\":{}}");
  g_autoptr(GPtrArray) pending = changes_of (make_change ("p1", 8, "n", 1),
                                             make_change ("p2", 9, "n", 2), NULL);
  g_autoptr(GPtrArray) log = changes_of (make_change ("c8", 8, "title", 3), NULL);
  g_autoptr(PatchesValue) later = NULL;

  g_assert_true (patches_store_save_snapshot (fixture->store, "doc", state, 7, pending, &error));
  g_assert_no_error (error);
  assert_reloaded (fixture, "doc", 7, "{\"title\":\"Hello\",\"n\":[1,2.5,null,true],\"é\":{}}",
                   "p1@8 p2@9");

  /* A log on top, then a new snapshot drops it; NULL pending keeps the queue */
  later = patches_test_parse ("{\"title\":3,\"n\":[1,2.5,null,true],\"é\":{}}");
  g_assert_true (patches_store_save_committed (fixture->store, "doc", log, later, 8, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_save_snapshot (fixture->store, "doc", state, 20, NULL, &error));
  g_assert_no_error (error);
  assert_reloaded (fixture, "doc", 20, "{\"title\":\"Hello\",\"n\":[1,2.5,null,true],\"é\":{}}",
                   "p1@8 p2@9");

  /* A never-synced document: no state at revision 0 */
  g_assert_true (patches_store_save_snapshot (fixture->store, "fresh", NULL, 0, NULL, &error));
  g_assert_no_error (error);
  assert_reloaded (fixture, "fresh", 0, NULL, "");
}

static void
test_save_committed (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) base = patches_test_parse ("{\"a\":0,\"b\":0}");
  g_autoptr(PatchesValue) after2 = patches_test_parse ("{\"a\":1,\"b\":2}");
  g_autoptr(PatchesValue) after3 = patches_test_parse ("{\"a\":3,\"b\":2}");
  g_autoptr(GPtrArray) first = changes_of (make_change ("c1", 1, "a", 1),
                                           make_change ("c2", 2, "b", 2), NULL);
  g_autoptr(GPtrArray) overlap = changes_of (make_change ("c1", 1, "a", 1),
                                             make_change ("c2", 2, "b", 2),
                                             make_change ("c3", 3, "a", 3), NULL);
  g_autoptr(GPtrArray) pending = changes_of (make_change ("p4", 4, "b", 9), NULL);
  g_autoptr(GPtrArray) empty = changes_new ();

  g_assert_true (patches_store_save_snapshot (fixture->store, "d", base, 0, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (patches_store_save_committed (fixture->store, "d", first, after2, 2, pending, &error));
  g_assert_no_error (error);
  assert_reloaded (fixture, "d", 2, "{\"a\":1,\"b\":2}", "p4@4");

  /* Rows at or below the stored revision are skipped; NULL pending is kept */
  g_assert_true (patches_store_save_committed (fixture->store, "d", overlap, after3, 3, NULL, &error));
  g_assert_no_error (error);
  assert_reloaded (fixture, "d", 3, "{\"a\":3,\"b\":2}", "p4@4");

  /* Only the revision and an emptied queue */
  g_assert_true (patches_store_save_committed (fixture->store, "d", NULL, after3, 3, empty, &error));
  g_assert_no_error (error);
  assert_reloaded (fixture, "d", 3, "{\"a\":3,\"b\":2}", "");
}

static void
test_save_committed_without_state (Fixture       *fixture,
                                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) base = patches_test_parse ("{\"a\":0,\"b\":0}");
  g_autoptr(GPtrArray) changes = changes_of (make_change ("c1", 1, "a", 5),
                                             make_change ("c2", 2, "b", 6), NULL);
  g_autoptr(PatchesStoredDoc) doc = NULL;

  g_assert_true (patches_store_save_snapshot (fixture->store, "d", base, 0, NULL, &error));
  g_assert_no_error (error);

  /* The store replays the changes itself */
  g_assert_true (patches_store_save_committed (fixture->store, "d", changes, NULL, 2, NULL, &error));
  g_assert_no_error (error);
  reopen (fixture);
  doc = load (fixture, "d");
  g_assert_cmpint (doc->committed_rev, ==, 2);
  assert_value_json (doc->state, "{\"a\":5,\"b\":6}");
}

static void
test_save_committed_creates_and_gaps (Fixture       *fixture,
                                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  /* "old" and "mid" come from revisions the store never sees */
  g_autoptr(PatchesValue) state = patches_test_parse ("{\"old\":true,\"a\":7,\"b\":8}");
  g_autoptr(PatchesValue) state2 = patches_test_parse ("{\"old\":true,\"a\":9,\"b\":8,\"mid\":1}");
  g_autoptr(GPtrArray) changes = changes_of (make_change ("c5", 5, "a", 7),
                                             make_change ("c6", 6, "b", 8), NULL);
  g_autoptr(GPtrArray) gap = changes_of (make_change ("c9", 9, "a", 9), NULL);
  g_autoptr(PatchesStoredDoc) doc = NULL;

  /* A document the store has never seen, joining at revision 5 */
  g_assert_true (patches_store_save_committed (fixture->store, "d", changes, state, 6, NULL, &error));
  g_assert_no_error (error);
  reopen (fixture);
  doc = load (fixture, "d");
  g_assert_cmpint (doc->committed_rev, ==, 6);
  assert_value_json (doc->state, "{\"old\":true,\"a\":7,\"b\":8}");
  g_clear_pointer (&doc, patches_stored_doc_unref);

  /* A gap in the log (7 and 8 never seen) */
  g_assert_true (patches_store_save_committed (fixture->store, "d", gap, state2, 10, NULL, &error));
  g_assert_no_error (error);
  reopen (fixture);
  doc = load (fixture, "d");
  g_assert_cmpint (doc->committed_rev, ==, 10);
  assert_value_json (doc->state, "{\"old\":true,\"a\":9,\"b\":8,\"mid\":1}");
}

static void
test_save_committed_invalid (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) state = patches_test_parse ("{\"a\":1}");
  g_autoptr(GPtrArray) ahead = changes_of (make_change ("c6", 6, "a", 1), NULL);
  g_autoptr(GPtrArray) descending = changes_of (make_change ("c6", 6, "a", 1),
                                                make_change ("c5", 5, "a", 1), NULL);
  g_autoptr(PatchesStoredDoc) doc = NULL;

  g_assert_true (patches_store_save_snapshot (fixture->store, "d", state, 5, NULL, &error));
  g_assert_no_error (error);

  /* The revision goes backwards */
  g_assert_false (patches_store_save_committed (fixture->store, "d", NULL, state, 4, NULL, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* A change above the new committed revision */
  g_assert_false (patches_store_save_committed (fixture->store, "d", ahead, state, 5, NULL, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* Changes out of order */
  g_assert_false (patches_store_save_committed (fixture->store, "d", descending, state, 6, NULL, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID);
  g_clear_error (&error);

  reopen (fixture);
  doc = load (fixture, "d");
  g_assert_cmpint (doc->committed_rev, ==, 5);
  assert_value_json (doc->state, "{\"a\":1}");
}

static void
test_pending_order (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) first = changes_of (make_change ("p1", 1, "a", 1),
                                           make_change ("p2", 2, "a", 2), NULL);
  g_autoptr(GPtrArray) second = changes_of (make_change ("p3", 3, "a", 3), NULL);
  g_autoptr(GPtrArray) replacement = changes_of (make_change ("q5", 5, "a", 1),
                                                 make_change ("q7", 7, "a", 2), NULL);
  g_autoptr(GPtrArray) empty = changes_new ();
  g_autoptr(PatchesStoredDoc) doc = NULL;
  g_autofree char *ids = NULL;

  /* Appending creates the record of an unknown document */
  g_assert_true (patches_store_append_pending (fixture->store, "d", first, &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_append_pending (fixture->store, "d", second, &error));
  g_assert_no_error (error);
  assert_reloaded (fixture, "d", 0, NULL, "p1@1 p2@2 p3@3");

  g_assert_true (patches_store_replace_pending (fixture->store, "d", replacement, &error));
  g_assert_no_error (error);
  reopen (fixture);
  doc = load (fixture, "d");
  ids = pending_ids (doc);
  g_assert_cmpstr (ids, ==, "q5@5 q7@7");
  g_clear_pointer (&doc, patches_stored_doc_unref);
  g_clear_pointer (&ids, g_free);

  g_assert_true (patches_store_replace_pending (fixture->store, "d", empty, &error));
  g_assert_no_error (error);
  reopen (fixture);
  doc = load (fixture, "d");
  g_assert_cmpuint (doc->pending->len, ==, 0);
}

static void
test_append_atomic (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) first = changes_of (make_change ("p1", 1, "a", 1),
                                           make_change ("p2", 2, "a", 2), NULL);
  g_autoptr(GPtrArray) stale = changes_of (make_change ("p2b", 2, "a", 1), NULL);
  g_autoptr(GPtrArray) unsorted = changes_of (make_change ("p3", 3, "a", 1),
                                              make_change ("p4", 4, "a", 1),
                                              make_change ("p0", 4, "a", 1), NULL);
  g_autoptr(GPtrArray) no_id = changes_of (make_change ("p3", 3, "a", 1),
                                           make_change ("x", 4, "a", 1), NULL);
  g_autoptr(GPtrArray) no_rev = changes_of (make_change ("p3", 3, "a", 1),
                                            make_change ("p4", 4, "a", 1), NULL);
  g_autoptr(PatchesStoredDoc) doc = NULL;
  g_autofree char *ids = NULL;
  PatchesChange *c;

  c = g_ptr_array_index (no_id, 1);
  g_clear_pointer (&c->id, g_free);
  c = g_ptr_array_index (no_rev, 1);
  c->rev = -1;

  g_assert_true (patches_store_append_pending (fixture->store, "d", first, &error));
  g_assert_no_error (error);

  /* Not above the last pending revision */
  g_assert_false (patches_store_append_pending (fixture->store, "d", stale, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* Each of these fails on a later change: the earlier ones are not kept */
  g_assert_false (patches_store_append_pending (fixture->store, "d", unsorted, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (patches_store_append_pending (fixture->store, "d", no_id, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (patches_store_append_pending (fixture->store, "d", no_rev, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* Nor is an unknown document created by a failed append */
  g_assert_false (patches_store_append_pending (fixture->store, "other", no_id, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID);
  g_clear_error (&error);

  reopen (fixture);
  doc = load (fixture, "d");
  ids = pending_ids (doc);
  g_assert_cmpstr (ids, ==, "p1@1 p2@2");
  assert_not_found (fixture, "other");
}

static void
test_tracking (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *three[] = { "b", "c", "a", NULL };
  const char *again[] = { "a", NULL };
  const char *drop[] = { "b", "unknown", NULL };
  g_autoptr(PatchesValue) state = patches_test_parse ("{\"x\":1}");
  g_autoptr(GPtrArray) pending = changes_of (make_change ("p", 3, "x", 2), NULL);
  g_autofree char *list = NULL;

  g_assert_true (patches_store_track_docs (fixture->store, three, &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_track_docs (fixture->store, again, &error));
  g_assert_no_error (error);
  reopen (fixture);
  list = list_tracked (fixture);
  g_assert_cmpstr (list, ==, "a b c");
  g_clear_pointer (&list, g_free);

  /* Tracking alone creates no record */
  assert_not_found (fixture, "a");

  /* Untracking deletes the document's data */
  g_assert_true (patches_store_save_snapshot (fixture->store, "b", state, 2, pending, &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_untrack_docs (fixture->store, drop, &error));
  g_assert_no_error (error);
  reopen (fixture);
  list = list_tracked (fixture);
  g_assert_cmpstr (list, ==, "a c");
  assert_not_found (fixture, "b");
}

static void
test_tombstones (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *ids[] = { "keep", "gone", NULL };
  const char *gone[] = { "gone", NULL };
  g_autoptr(PatchesValue) state = patches_test_parse ("{\"x\":1}");
  g_autoptr(GPtrArray) pending = changes_of (make_change ("p", 3, "x", 2), NULL);
  g_autoptr(GPtrArray) log = changes_of (make_change ("c", 3, "x", 2), NULL);
  g_autoptr(PatchesStoredDoc) doc = NULL;
  g_autofree char *list = NULL;
  g_autofree char *stones = NULL;

  g_assert_true (patches_store_track_docs (fixture->store, ids, &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_save_snapshot (fixture->store, "gone", state, 2, pending, &error));
  g_assert_no_error (error);

  g_assert_true (patches_store_delete_doc (fixture->store, "gone", &error));
  g_assert_no_error (error);
  reopen (fixture);

  doc = load (fixture, "gone");
  g_assert_true (doc->deleted);
  g_assert_null (doc->state);
  g_assert_cmpuint (doc->pending->len, ==, 0);
  list = list_tracked (fixture);
  g_assert_cmpstr (list, ==, "keep");
  stones = list_tombstones (fixture);
  g_assert_cmpstr (stones, ==, "gone");
  g_clear_pointer (&list, g_free);
  g_clear_pointer (&stones, g_free);
  g_clear_pointer (&doc, patches_stored_doc_unref);

  /* Writes do not revive a tombstone; only purge removes it */
  g_assert_false (patches_store_append_pending (fixture->store, "gone", pending, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (patches_store_save_committed (fixture->store, "gone", log, state, 3, NULL, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (patches_store_save_snapshot (fixture->store, "gone", state, 3, NULL, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (patches_store_replace_pending (fixture->store, "gone", pending, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* Untracking and re-tracking keep the tombstone, which stays unlisted */
  g_assert_true (patches_store_untrack_docs (fixture->store, gone, &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_track_docs (fixture->store, gone, &error));
  g_assert_no_error (error);
  reopen (fixture);
  doc = load (fixture, "gone");
  g_assert_true (doc->deleted);
  list = list_tracked (fixture);
  g_assert_cmpstr (list, ==, "keep");
  stones = list_tombstones (fixture);
  g_assert_cmpstr (stones, ==, "gone");
  g_clear_pointer (&list, g_free);
  g_clear_pointer (&stones, g_free);

  /* Deleting an unknown document leaves a tombstone too */
  g_assert_true (patches_store_delete_doc (fixture->store, "never", &error));
  g_assert_no_error (error);
  stones = list_tombstones (fixture);
  g_assert_cmpstr (stones, ==, "gone never");
  g_clear_pointer (&stones, g_free);

  /* Purge removes everything; the id can then be used again */
  g_assert_true (patches_store_purge_doc (fixture->store, "gone", &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_purge_doc (fixture->store, "never", &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_purge_doc (fixture->store, "nothing-here", &error));
  g_assert_no_error (error);
  reopen (fixture);
  assert_not_found (fixture, "gone");
  stones = list_tombstones (fixture);
  g_assert_cmpstr (stones, ==, "");
  list = list_tracked (fixture);
  g_assert_cmpstr (list, ==, "keep");

  g_assert_true (patches_store_save_snapshot (fixture->store, "gone", state, 9, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&doc, patches_stored_doc_unref);
  doc = load (fixture, "gone");
  g_assert_false (doc->deleted);
  g_assert_cmpint (doc->committed_rev, ==, 9);
}

/* patches_store_get_doc_info() agrees with patches_store_load_doc() */
static void
assert_info (PatchesStore *store,
             const char   *doc_id,
             gint64        rev,
             guint         n_pending,
             gboolean      deleted)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesStoredDoc) doc = NULL;
  gint64 got_rev = -1;
  guint got_pending = 99;
  gboolean got_deleted = !deleted;

  g_assert_true (patches_store_get_doc_info (store, doc_id, &got_rev, &got_pending, &got_deleted, &error));
  g_assert_no_error (error);
  g_assert_cmpint (got_rev, ==, rev);
  g_assert_cmpuint (got_pending, ==, n_pending);
  g_assert_cmpint (got_deleted, ==, deleted);

  /* Every out argument is optional */
  g_assert_true (patches_store_get_doc_info (store, doc_id, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  doc = patches_store_load_doc (store, doc_id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (doc->deleted ? 0 : doc->committed_rev, ==, rev);
  g_assert_cmpuint (doc->pending->len, ==, n_pending);
  g_assert_cmpint (doc->deleted, ==, deleted);
}

static void
test_doc_info (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) state = patches_test_parse ("{\"x\":1}");
  g_autoptr(GPtrArray) pending = changes_of (make_change ("p3", 3, "x", 2), NULL);
  g_autoptr(GPtrArray) more = changes_of (make_change ("p4", 4, "x", 3),
                                          make_change ("p5", 5, "x", 4), NULL);
  g_autoptr(GPtrArray) log = changes_of (make_change ("p3", 3, "x", 2), NULL);
  g_autoptr(GPtrArray) rest = changes_of (make_change ("p4", 4, "x", 3),
                                          make_change ("p5", 5, "x", 4), NULL);
  gint64 rev = 7;
  guint n_pending = 7;
  gboolean deleted = TRUE;

  g_assert_false (patches_store_get_doc_info (fixture->store, "d", &rev, &n_pending, &deleted, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Pending only */
  g_assert_true (patches_store_append_pending (fixture->store, "d", pending, &error));
  g_assert_no_error (error);
  assert_info (fixture->store, "d", 0, 1, FALSE);

  g_assert_true (patches_store_save_snapshot (fixture->store, "d", state, 2, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_append_pending (fixture->store, "d", more, &error));
  g_assert_no_error (error);
  assert_info (fixture->store, "d", 2, 3, FALSE);
  reopen (fixture);
  assert_info (fixture->store, "d", 2, 3, FALSE);

  /* A commit confirms one */
  g_assert_true (patches_store_save_committed (fixture->store, "d", log, NULL, 3, rest, &error));
  g_assert_no_error (error);
  assert_info (fixture->store, "d", 3, 2, FALSE);
  {
    g_autoptr(GPtrArray) none = changes_new ();

    g_assert_true (patches_store_replace_pending (fixture->store, "d", none, &error));
    g_assert_no_error (error);
    assert_info (fixture->store, "d", 3, 0, FALSE);
    g_assert_true (patches_store_replace_pending (fixture->store, "d", rest, &error));
    g_assert_no_error (error);
    assert_info (fixture->store, "d", 3, 2, FALSE);
  }

  /* Another document does not count */
  g_assert_true (patches_store_save_snapshot (fixture->store, "e", state, 5, pending, &error));
  g_assert_no_error (error);
  assert_info (fixture->store, "e", 5, 1, FALSE);
  assert_info (fixture->store, "d", 3, 2, FALSE);

  /* A tombstone */
  g_assert_true (patches_store_delete_doc (fixture->store, "d", &error));
  g_assert_no_error (error);
  reopen (fixture);
  assert_info (fixture->store, "d", 0, 0, TRUE);
  assert_info (fixture->store, "e", 5, 1, FALSE);
}

/* A store that implements only load_doc (and what the test needs): the
 * interface falls back on it */

#define TEST_TYPE_LOAD_ONLY_STORE (test_load_only_store_get_type ())
G_DECLARE_FINAL_TYPE (TestLoadOnlyStore, test_load_only_store, TEST, LOAD_ONLY_STORE, GObject)

struct _TestLoadOnlyStore
{
  GObject       parent_instance;
  PatchesStore *inner;
};

static PatchesStoredDoc *
test_load_only_store_load_doc (PatchesStore  *store,
                               const char    *doc_id,
                               GError       **error)
{
  guint *n_loads = g_object_get_data (G_OBJECT (store), "n-loads");

  (*n_loads)++;
  return patches_store_load_doc (TEST_LOAD_ONLY_STORE (store)->inner, doc_id, error);
}

static void
test_load_only_store_iface_init (PatchesStoreInterface *iface)
{
  iface->load_doc = test_load_only_store_load_doc;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestLoadOnlyStore, test_load_only_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (PATCHES_TYPE_STORE, test_load_only_store_iface_init))

static void
test_load_only_store_finalize (GObject *object)
{
  g_clear_object (&TEST_LOAD_ONLY_STORE (object)->inner);
  G_OBJECT_CLASS (test_load_only_store_parent_class)->finalize (object);
}

static void
test_load_only_store_class_init (TestLoadOnlyStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_load_only_store_finalize;
}

static void
test_load_only_store_init (TestLoadOnlyStore *self)
{
  self->inner = PATCHES_STORE (patches_memory_store_new ());
}

static void
test_doc_info_fallback (void)
{
  g_autoptr(TestLoadOnlyStore) store = g_object_new (TEST_TYPE_LOAD_ONLY_STORE, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) state = patches_test_parse ("{\"x\":1}");
  g_autoptr(GPtrArray) pending = changes_of (make_change ("p5", 5, "x", 2), NULL);
  guint n_loads = 0;
  gint64 rev = 0;
  guint n_pending = 0;
  gboolean deleted = TRUE;

  g_object_set_data (G_OBJECT (store), "n-loads", &n_loads);

  g_assert_false (patches_store_get_doc_info (PATCHES_STORE (store), "d", &rev, &n_pending, &deleted, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpuint (n_loads, ==, 1);

  g_assert_true (patches_store_save_snapshot (store->inner, "d", state, 4, pending, &error));
  g_assert_no_error (error);
  assert_info (PATCHES_STORE (store), "d", 4, 1, FALSE);
  g_assert_cmpuint (n_loads, >, 1);

  g_assert_true (patches_store_delete_doc (store->inner, "d", &error));
  g_assert_no_error (error);
  assert_info (PATCHES_STORE (store), "d", 0, 0, TRUE);
}

static void
test_meta_and_client_id (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *value = NULL;
  g_autofree char *id = NULL;
  g_autofree char *id2 = NULL;

  value = patches_store_get_meta (fixture->store, "theme", &error);
  g_assert_no_error (error);
  g_assert_null (value);

  g_assert_true (patches_store_set_meta (fixture->store, "theme", "dark", &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_set_meta (fixture->store, "theme", "light ☀", &error));
  g_assert_no_error (error);
  reopen (fixture);
  value = patches_store_get_meta (fixture->store, "theme", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (value, ==, "light ☀");
  g_clear_pointer (&value, g_free);

  g_assert_true (patches_store_set_meta (fixture->store, "theme", NULL, &error));
  g_assert_no_error (error);
  value = patches_store_get_meta (fixture->store, "theme", &error);
  g_assert_no_error (error);
  g_assert_null (value);

  id = patches_store_dup_client_id (fixture->store, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  g_assert_cmpuint (strlen (id), ==, 16);
  for (const char *p = id; *p; p++)
    g_assert_true (g_ascii_isalnum (*p));

  reopen (fixture);
  id2 = patches_store_dup_client_id (fixture->store, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id2, ==, id);
  g_clear_pointer (&value, g_free);
  value = patches_store_get_meta (fixture->store, "client-id", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (value, ==, id);
}

static void
test_client_ids_differ (void)
{
  g_autoptr(PatchesMemoryStore) a = patches_memory_store_new ();
  g_autoptr(PatchesMemoryStore) b = patches_memory_store_new ();
  g_autofree char *id_a = patches_store_dup_client_id (PATCHES_STORE (a), NULL);
  g_autofree char *id_b = patches_store_dup_client_id (PATCHES_STORE (b), NULL);

  g_assert_nonnull (id_a);
  g_assert_nonnull (id_b);
  g_assert_cmpstr (id_a, !=, id_b);
}

static void
test_large_text (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) text = g_string_sized_new (1 << 20);
  g_autoptr(GString) json = g_string_new (NULL);
  g_autoptr(PatchesValue) base = patches_test_parse ("{}");
  g_autoptr(PatchesValue) state = NULL;
  g_autoptr(PatchesValue) edited = NULL;
  g_autoptr(PatchesValue) edited_loaded = NULL;
  g_autoptr(GPtrArray) create = NULL;
  g_autoptr(GPtrArray) edit = NULL;
  g_autoptr(PatchesStoredDoc) doc = NULL;
  g_autoptr(PatchesStoredDoc) doc2 = NULL;
  g_autofree char *want = NULL;
  g_autofree char *got = NULL;
  g_autofree char *got2 = NULL;
  g_autofree char *want2 = NULL;

  /* 1 MB of text with multi-byte characters, quotes and newlines */
  while (text->len < (1 << 20))
    g_string_append (text, "Line «ünïcødé» \"quoted\" \\ tab\t€ 😀\n");

  g_string_append (json, "{\"id\":\"big\",\"baseRev\":0,\"rev\":1,\"ops\":"
                         "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"insert\":");
  patches_js_append_string (json, text->str, text->len);
  g_string_append (json, "}]}],\"createdAt\":1,\"committedAt\":2}");
  create = changes_of (patches_test_parse_change (json->str), NULL);
  edit = changes_of (patches_test_parse_change ("{\"id\":\"e\",\"baseRev\":1,\"rev\":2,\"ops\":"
                                                 "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":"
                                                 "[{\"retain\":5},{\"insert\":\"!\",\"attributes\":{\"bold\":true}}]}]}"),
                     NULL);

  state = patches_value_ref (base);
  g_assert_true (patches_changes_apply (&state, create, &error));
  g_assert_no_error (error);
  want = patches_value_to_json (state);
  g_assert_cmpuint (strlen (want), >, 1 << 20);

  /* Through the committed log (replayed on load)… */
  g_assert_true (patches_store_save_snapshot (fixture->store, "log", base, 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_save_committed (fixture->store, "log", create, state, 1, NULL, &error));
  g_assert_no_error (error);
  /* …and as a snapshot */
  g_assert_true (patches_store_save_snapshot (fixture->store, "snap", state, 1, create, &error));
  g_assert_no_error (error);
  reopen (fixture);

  doc = load (fixture, "log");
  got = patches_value_to_json (doc->state);
  g_assert_cmpstr (got, ==, want);
  doc2 = load (fixture, "snap");
  g_clear_pointer (&got, g_free);
  got = patches_value_to_json (doc2->state);
  g_assert_cmpstr (got, ==, want);
  g_assert_cmpuint (doc2->pending->len, ==, 1);

  /* The loaded text is still a text: a later @txt edit gives the same result */
  edited = patches_value_ref (state);
  g_assert_true (patches_changes_apply (&edited, edit, &error));
  g_assert_no_error (error);
  edited_loaded = patches_value_ref (doc2->state);
  g_assert_true (patches_changes_apply (&edited_loaded, edit, &error));
  g_assert_no_error (error);
  want2 = patches_value_to_json (edited);
  got2 = patches_value_to_json (edited_loaded);
  g_assert_cmpstr (got2, ==, want2);
}

/* SQLite only */

static void
test_sqlite_exact_json (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = test_db_path ("exact.db");
  /* Metadata in its order, odd numbers, escapes, batch and client ids */
  const char *json[] = {
    "{\"id\":\"A1\",\"baseRev\":3,\"rev\":4,\"ops\":[{\"op\":\"add\",\"path\":\"/n\",\"value\":1e+21},"
    "{\"op\":\"add\",\"path\":\"/f\",\"value\":0.1},{\"op\":\"add\",\"path\":\"/s\",\"value\":\"\\u0000é\\\"😀\"}],"
    "\"createdAt\":1700000000123,\"committedAt\":0,\"zeta\":{\"b\":1,\"a\":[null]},\"alpha\":\"x\"}",
    "{\"id\":\"A2\",\"baseRev\":3,\"rev\":5,\"ops\":[],\"createdAt\":1.5,\"committedAt\":0,"
    "\"batchId\":\"A1\",\"clientId\":\"me\"}",
  };
  g_autoptr(GPtrArray) pending = changes_of (patches_test_parse_change (json[0]), patches_test_parse_change (json[1]), NULL);
  g_autoptr(PatchesStore) store = open_sqlite (path);
  g_autoptr(PatchesStoredDoc) doc = NULL;
  sqlite3 *raw;

  g_assert_true (patches_store_append_pending (store, "d", pending, &error));
  g_assert_no_error (error);
  patches_sqlite_store_close (PATCHES_SQLITE_STORE (store));
  g_clear_object (&store);

  store = open_sqlite (path);
  doc = patches_store_load_doc (store, "d", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (doc->pending->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *before = change_json (g_ptr_array_index (pending, i));
      g_autofree char *after = change_json (g_ptr_array_index (doc->pending, i));

      g_assert_cmpstr (after, ==, before);
    }

  /* The row holds the exact JSON */
  raw = open_raw (path);
  {
    g_autofree char *row = raw_query (raw, "SELECT json FROM pending_changes WHERE rev = 4");
    g_autofree char *before = change_json (g_ptr_array_index (pending, 0));

    g_assert_cmpstr (row, ==, before);
  }
  sqlite3_close (raw);
}

static void
test_sqlite_compaction (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = test_db_path ("compact.db");
  g_autoptr(PatchesStore) store = open_sqlite (path);
  g_autoptr(PatchesValue) state = patches_test_parse ("{\"n\":0,\"list\":[]}");
  g_autoptr(PatchesStoredDoc) doc = NULL;
  g_autofree char *want = NULL;
  g_autofree char *got = NULL;
  gint64 max_rows = 0;
  sqlite3 *raw;

  g_assert_true (patches_store_save_snapshot (store, "d", state, 0, NULL, &error));
  g_assert_no_error (error);

  raw = open_raw (path);
  for (gint64 rev = 1; rev <= 450; rev++)
    {
      g_autofree char *json = g_strdup_printf (
        "{\"id\":\"c%" G_GINT64_FORMAT "\",\"baseRev\":%" G_GINT64_FORMAT ",\"rev\":%" G_GINT64_FORMAT ","
        "\"ops\":[{\"op\":\"replace\",\"path\":\"/n\",\"value\":%" G_GINT64_FORMAT "},"
        "{\"op\":\"add\",\"path\":\"/list/-\",\"value\":%" G_GINT64_FORMAT "}]}",
        rev, rev - 1, rev, rev, rev);
      g_autoptr(GPtrArray) changes = changes_of (patches_test_parse_change (json), NULL);
      g_autofree char *count = NULL;

      g_assert_true (patches_changes_apply (&state, changes, &error));
      g_assert_no_error (error);
      g_assert_true (patches_store_save_committed (store, "d", changes, state, rev, NULL, &error));
      g_assert_no_error (error);

      count = raw_query (raw, "SELECT count(*) FROM committed_changes");
      max_rows = MAX (max_rows, g_ascii_strtoll (count, NULL, 10));

      if (rev % 97 == 0 || rev == 201 || rev == 202)
        {
          g_autoptr(PatchesStoredDoc) mid = patches_store_load_doc (store, "d", &error);
          g_autofree char *mid_want = patches_value_to_json (state);
          g_autofree char *mid_got = NULL;

          g_assert_no_error (error);
          mid_got = patches_value_to_json (mid->state);
          g_assert_cmpstr (mid_got, ==, mid_want);
          g_assert_cmpint (mid->committed_rev, ==, rev);
        }
    }

  /* The log was compacted (more than 200 rows never stay) */
  g_assert_cmpint (max_rows, <=, 201);
  g_assert_cmpint (max_rows, >=, 200);
  {
    g_autofree char *snap_rev = raw_query (raw, "SELECT rev FROM snapshots WHERE doc_id = 'd'");

    g_assert_cmpstr (snap_rev, ==, "402");
  }
  sqlite3_close (raw);

  patches_sqlite_store_close (PATCHES_SQLITE_STORE (store));
  g_clear_object (&store);
  store = open_sqlite (path);
  doc = patches_store_load_doc (store, "d", &error);
  g_assert_no_error (error);
  want = patches_value_to_json (state);
  got = patches_value_to_json (doc->state);
  g_assert_cmpstr (got, ==, want);
  g_assert_cmpint (doc->committed_rev, ==, 450);
}

/* Commits @n changes setting /n to their rev over a document whose
 * /big is @big_bytes long, passing the true state each time; returns
 * the revisions at which the snapshot was rewritten */
static GArray *
compactions_over (const char *name,
                  gsize       big_bytes,
                  gint64      n)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = test_db_path (name);
  g_autoptr(PatchesStore) store = open_sqlite (path);
  g_autofree char *big = g_strnfill (big_bytes, 'x');
  g_autofree char *json = g_strdup_printf ("{\"big\":\"%s\",\"n\":0}", big);
  g_autoptr(PatchesValue) state = patches_test_parse (json);
  g_autoptr(PatchesStoredDoc) doc = NULL;
  GArray *revs = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 snapshot_rev = 0;
  sqlite3 *raw;

  g_assert_true (patches_store_save_snapshot (store, "d", state, 0, NULL, &error));
  g_assert_no_error (error);

  raw = open_raw (path);
  for (gint64 rev = 1; rev <= n; rev++)
    {
      g_autofree char *id = g_strdup_printf ("c%" G_GINT64_FORMAT, rev);
      g_autoptr(GPtrArray) changes = changes_of (make_change (id, rev, "n", rev), NULL);
      g_autofree char *now = NULL;

      g_assert_true (patches_changes_apply (&state, changes, &error));
      g_assert_no_error (error);
      g_assert_true (patches_store_save_committed (store, "d", changes, state, rev, NULL, &error));
      g_assert_no_error (error);

      now = raw_query (raw, "SELECT rev FROM snapshots WHERE doc_id = 'd'");
      if (g_ascii_strtoll (now, NULL, 10) != snapshot_rev)
        {
          snapshot_rev = g_ascii_strtoll (now, NULL, 10);
          g_assert_cmpint (snapshot_rev, ==, rev);
          g_array_append_val (revs, snapshot_rev);
        }
    }
  sqlite3_close (raw);

  /* Snapshot plus log is the state */
  doc = patches_store_load_doc (store, "d", &error);
  g_assert_no_error (error);
  g_assert_cmpint (doc->committed_rev, ==, n);
  {
    g_autofree char *want = patches_value_to_json (state);
    g_autofree char *got = patches_value_to_json (doc->state);

    g_assert_true (strcmp (want, got) == 0);
  }

  return revs;
}

/* A big document's log is kept until it is worth a quarter of the
 * snapshot's bytes (checked every 200 rows), and never past 4000 rows */
static void
test_sqlite_compaction_by_size (void)
{
  g_autoptr(GArray) small = compactions_over ("small.db", 100, 450);
  g_autoptr(GArray) mid = compactions_over ("mid.db", 150 * 1024, 900);
  g_autoptr(GArray) large = compactions_over ("large.db", 2 * 1024 * 1024, 4100);

  /* ~100-byte changes: 201 rows hold 20 KiB, 401 rows 40 KiB */
  g_assert_cmpuint (small->len, ==, 2);
  g_assert_cmpint (g_array_index (small, gint64, 0), ==, 201);
  g_assert_cmpint (g_array_index (small, gint64, 1), ==, 402);

  g_assert_cmpuint (mid->len, ==, 2);
  g_assert_cmpint (g_array_index (mid, gint64, 0), ==, 401);
  g_assert_cmpint (g_array_index (mid, gint64, 1), ==, 802);

  g_assert_cmpuint (large->len, ==, 1);
  g_assert_cmpint (g_array_index (large, gint64, 0), ==, 4001);
}

static void
test_sqlite_newer_version (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = test_db_path ("newer.db");
  g_autofree char *wal = NULL;
  sqlite3 *raw;

  {
    g_autofree char *dir = g_path_get_dirname (path);

    g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  }
  raw = open_raw (path);
  raw_exec (raw, "CREATE TABLE docs (doc_id TEXT PRIMARY KEY, future BLOB);"
                 "INSERT INTO docs VALUES ('x', x'00ff');"
                 "PRAGMA user_version = 99;");
  sqlite3_close (raw);

  error = assert_open_refused (path, PATCHES_STORE_ERROR_VERSION);
  g_assert_nonnull (strstr (error->message, "99"));
  g_assert_nonnull (strstr (error->message, "version 1"));
  wal = g_strconcat (path, "-wal", NULL);
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
}

static void
test_sqlite_garbage_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = test_db_path ("garbage.db");
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GString) garbage = g_string_new (NULL);

  while (garbage->len < 16384)
    g_string_append (garbage, "This is a text file, not a database. ");
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, garbage->str, garbage->len, &error);
  g_assert_no_error (error);

  error = assert_open_refused (path, PATCHES_STORE_ERROR_CORRUPT);
}

static void
test_sqlite_damaged_pages (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = test_db_path ("damaged.db");
  g_autoptr(PatchesStore) store = open_sqlite (path);
  g_autofree char *contents = NULL;
  gsize length;

  /* Enough data for several b-tree pages */
  for (gint64 rev = 1; rev <= 100; rev++)
    {
      g_autofree char *key = g_strdup_printf ("k%" G_GINT64_FORMAT, rev);
      g_autoptr(GPtrArray) changes = changes_of (make_change (key, rev, key, (double) rev), NULL);

      g_assert_true (patches_store_append_pending (store, "d", changes, &error));
      g_assert_no_error (error);
    }
  patches_sqlite_store_close (PATCHES_SQLITE_STORE (store));
  g_clear_object (&store);

  /* Scribble over everything after the first page (the header stays) */
  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, >, 8192);
  for (gsize i = 4096; i < length; i++)
    contents[i] = (char) (i * 7 + 13);
  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);

  error = assert_open_refused (path, PATCHES_STORE_ERROR_CORRUPT);
}

static void
test_sqlite_bad_row (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = test_db_path ("badrow.db");
  g_autoptr(PatchesStore) store = open_sqlite (path);
  g_autoptr(GPtrArray) changes = changes_of (make_change ("p1", 1, "a", 1),
                                             make_change ("p2", 2, "a", 2), NULL);
  g_autoptr(PatchesStoredDoc) doc = NULL;
  sqlite3 *raw;

  g_assert_true (patches_store_append_pending (store, "the-doc", changes, &error));
  g_assert_no_error (error);

  raw = open_raw (path);
  raw_exec (raw, "UPDATE pending_changes SET json = '{\"id\":\"p2\",\"rev\":2,' WHERE rev = 2");
  sqlite3_close (raw);

  doc = patches_store_load_doc (store, "the-doc", &error);
  g_assert_null (doc);
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "the-doc"));
  g_assert_nonnull (strstr (error->message, "revision 2"));
  g_clear_error (&error);

  /* A snapshot that does not parse */
  raw = open_raw (path);
  raw_exec (raw, "INSERT INTO snapshots (doc_id, rev, state_json) VALUES ('the-doc', 0, '[1,')");
  raw_exec (raw, "UPDATE pending_changes SET json = (SELECT json FROM pending_changes WHERE rev = 1) "
                 "WHERE rev = 2");
  sqlite3_close (raw);
  doc = patches_store_load_doc (store, "the-doc", &error);
  g_assert_null (doc);
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "the-doc"));
  g_assert_nonnull (strstr (error->message, "snapshot"));
  g_clear_error (&error);

  /* The cheap query reads no state, so it does not mind */
  {
    gint64 rev = -1;
    guint n_pending = 0;
    gboolean deleted = TRUE;

    g_assert_true (patches_store_get_doc_info (store, "the-doc", &rev, &n_pending, &deleted, &error));
    g_assert_no_error (error);
    g_assert_cmpint (rev, ==, 0);
    g_assert_cmpuint (n_pending, ==, 2);
    g_assert_false (deleted);
  }
}

static void
test_sqlite_pragmas (void)
{
  g_autofree char *path = test_db_path ("pragmas.db");
  g_autoptr(PatchesStore) store = open_sqlite (path);
  g_autofree char *journal = NULL;
  g_autofree char *version = NULL;
  g_autofree char *tables = NULL;
  g_autofree char *value = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *raw;

  g_assert_true (patches_store_set_meta (store, "k", "committed", &error));
  g_assert_no_error (error);

  raw = open_raw (path);
  /* A committed write is visible to another connection at once */
  value = raw_query (raw, "SELECT value FROM meta WHERE key = 'k'");
  g_assert_cmpstr (value, ==, "committed");
  /* journal_mode=WAL is a property of the file: visible from here */
  journal = raw_query (raw, "PRAGMA journal_mode");
  g_assert_cmpstr (journal, ==, "wal");
  version = raw_query (raw, "PRAGMA user_version");
  g_assert_cmpint (g_ascii_strtoll (version, NULL, 10), ==, PATCHES_SQLITE_STORE_SCHEMA_VERSION);
  tables = raw_query (raw, "SELECT group_concat (name, ' ') FROM "
                           "(SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name)");
  g_assert_cmpstr (tables, ==, "committed_changes docs meta pending_changes snapshots tracked");
  sqlite3_close (raw);

  /* synchronous and foreign_keys are settings of a connection, not of
   * the file: another connection cannot observe the store's. */
}

/* The connection's PRAGMA synchronous: 1 NORMAL, 2 FULL */
static gint64
sync_level (PatchesStore *store)
{
  sqlite3 *db = patches_sqlite_store_get_database (PATCHES_SQLITE_STORE (store));
  g_autofree char *level = raw_query (db, "PRAGMA synchronous");

  return g_ascii_strtoll (level, NULL, 10);
}

/* Local data is written with an fsync, what the server sent without */
static void
test_sqlite_sync_levels (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = test_db_path ("sync.db");
  g_autoptr(PatchesStore) store = open_sqlite (path);
  g_autoptr(PatchesValue) state = patches_test_parse ("{\"a\":1}");
  g_autoptr(GPtrArray) local = changes_of (make_change ("p1", 1, "a", 2), NULL);
  g_autoptr(GPtrArray) confirmed = changes_of (make_change ("p1", 1, "a", 2), NULL);
  g_autoptr(GPtrArray) none = changes_new ();
  const char *ids[] = { "d", NULL };

  g_assert_cmpint (sync_level (store), ==, 2);

  g_assert_true (patches_store_save_snapshot (store, "d", state, 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sync_level (store), ==, 1);

  /* A local edit right after: back to FULL before its transaction */
  g_assert_true (patches_store_append_pending (store, "d", local, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sync_level (store), ==, 2);

  g_assert_true (patches_store_save_committed (store, "d", confirmed, NULL, 1, none, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sync_level (store), ==, 1);

  g_assert_true (patches_store_track_docs (store, ids, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sync_level (store), ==, 2);

  g_assert_true (patches_store_save_committed (store, "d", none, NULL, 1, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_replace_pending (store, "d", none, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sync_level (store), ==, 2);

  g_assert_true (patches_store_save_committed (store, "d", none, NULL, 1, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_set_meta (store, "k", "v", &error));
  g_assert_no_error (error);
  g_assert_cmpint (sync_level (store), ==, 2);

  g_assert_true (patches_store_save_committed (store, "d", none, NULL, 1, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_delete_doc (store, "d", &error));
  g_assert_no_error (error);
  g_assert_cmpint (sync_level (store), ==, 2);
}

/* A process that dies without closing the store (no checkpoint, no
 * close) loses nothing it had written, at either sync level */
static void
test_sqlite_process_crash (void)
{
  const char *path = g_getenv ("PATCHES_TEST_CRASH_DB");

  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      PatchesStore *store = open_sqlite (path);
      g_autoptr(PatchesValue) state = patches_test_parse ("{\"a\":1}");
      g_autoptr(PatchesValue) after = patches_test_parse ("{\"a\":2}");
      g_autoptr(GPtrArray) edit = changes_of (make_change ("p1", 1, "a", 2), NULL);
      g_autoptr(GPtrArray) confirmed = changes_of (make_change ("p1", 1, "a", 2), NULL);
      g_autoptr(GPtrArray) other = changes_of (make_change ("q1", 1, "b", 7), NULL);
      g_autoptr(GPtrArray) none = changes_new ();

      g_assert_true (patches_store_save_snapshot (store, "d", state, 0, NULL, &error) &&
                     patches_store_append_pending (store, "d", edit, &error) &&
                     patches_store_save_committed (store, "d", confirmed, after, 1, none, &error) &&
                     patches_store_append_pending (store, "e", other, &error) &&
                     patches_store_save_committed (store, "e", none, NULL, 0, NULL, &error));
      g_assert_no_error (error);

      /* Like a crash: no close, no finalizer, no exit handlers */
      remove_tree (data_home);
      _exit (0);
    }

  {
    g_autofree char *db = test_db_path ("crash.db");
    g_autoptr(PatchesStore) store = NULL;
    g_autoptr(PatchesStoredDoc) d = NULL;
    g_autoptr(PatchesStoredDoc) e = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *json = NULL;
    g_autofree char *dir = g_path_get_dirname (db);
    g_autofree char *wal = g_strconcat (db, "-wal", NULL);

    g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
    g_setenv ("PATCHES_TEST_CRASH_DB", db, TRUE);
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed ();
    g_unsetenv ("PATCHES_TEST_CRASH_DB");

    /* The writes are in the log, not yet in the database file */
    g_assert_true (g_file_test (wal, G_FILE_TEST_EXISTS));

    store = open_sqlite (db);
    d = patches_store_load_doc (store, "d", &error);
    g_assert_no_error (error);
    g_assert_cmpint (d->committed_rev, ==, 1);
    g_assert_cmpuint (d->pending->len, ==, 0);
    json = patches_value_to_json (d->state);
    g_assert_cmpstr (json, ==, "{\"a\":2}");

    e = patches_store_load_doc (store, "e", &error);
    g_assert_no_error (error);
    g_assert_cmpuint (e->pending->len, ==, 1);
    g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (e->pending, 0))->id, ==, "q1");
  }
}

static void
test_sqlite_reopen_migrated (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = test_db_path ("again.db");
  g_autoptr(PatchesStore) store = open_sqlite (path);
  g_autofree char *id = patches_store_dup_client_id (store, &error);
  g_autofree char *id2 = NULL;
  g_autoptr(PatchesStore) second = NULL;

  g_assert_no_error (error);

  /* A second store on the same file while the first is open */
  second = open_sqlite (path);
  id2 = patches_store_dup_client_id (second, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id2, ==, id);
}

static void
test_sqlite_close (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = test_db_path ("closed.db");
  g_autoptr(PatchesStore) store = open_sqlite (path);
  g_autoptr(PatchesStoredDoc) doc = NULL;
  g_autoptr(GPtrArray) changes = changes_of (make_change ("p1", 1, "a", 1), NULL);
  g_auto(GStrv) ids = NULL;
  g_autofree char *value = NULL;

  g_assert_cmpstr (patches_sqlite_store_get_path (PATCHES_SQLITE_STORE (store)), ==, path);
  patches_sqlite_store_close (PATCHES_SQLITE_STORE (store));
  patches_sqlite_store_close (PATCHES_SQLITE_STORE (store));

  doc = patches_store_load_doc (store, "d", &error);
  g_assert_null (doc);
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_IO);
  g_clear_error (&error);
  g_assert_false (patches_store_append_pending (store, "d", changes, &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_IO);
  g_clear_error (&error);
  ids = patches_store_list_tracked (store, &error);
  g_assert_null (ids);
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_IO);
  g_clear_error (&error);
  value = patches_store_get_meta (store, "k", &error);
  g_assert_null (value);
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_IO);
  g_clear_error (&error);
  g_assert_false (patches_store_set_meta (store, "k", "v", &error));
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_IO);
}

static void
test_sqlite_profile (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesSqliteStore) store = NULL;
  g_autoptr(PatchesSqliteStore) work = NULL;
  g_autoptr(PatchesSqliteStore) bad = NULL;
  g_autofree char *expected = g_build_filename (g_get_user_data_dir (), "io.example.App",
                                                "default", "patches.db", NULL);
  g_autofree char *expected_work = g_build_filename (g_get_user_data_dir (), "io.example.App",
                                                     "work", "patches.db", NULL);

  store = patches_sqlite_store_new_for_profile ("io.example.App", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (patches_sqlite_store_get_path (store), ==, expected);
  g_assert_true (g_file_test (expected, G_FILE_TEST_IS_REGULAR));

  work = patches_sqlite_store_new_for_profile ("io.example.App", "work", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (patches_sqlite_store_get_path (work), ==, expected_work);
  g_assert_true (g_file_test (expected_work, G_FILE_TEST_IS_REGULAR));

  bad = patches_sqlite_store_new_for_profile ("io.example.App", "../escape", &error);
  g_assert_null (bad);
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID);
}

int
main (int   argc,
      char *argv[])
{
  static const struct {
    const char *name;
    void      (*func) (Fixture *, gconstpointer);
  } contract[] = {
    { "unknown-doc", test_unknown_doc },
    { "snapshot-round-trip", test_snapshot_round_trip },
    { "save-committed", test_save_committed },
    { "save-committed-without-state", test_save_committed_without_state },
    { "save-committed-creates-and-gaps", test_save_committed_creates_and_gaps },
    { "save-committed-invalid", test_save_committed_invalid },
    { "pending-order", test_pending_order },
    { "append-atomic", test_append_atomic },
    { "tracking", test_tracking },
    { "tombstones", test_tombstones },
    { "doc-info", test_doc_info },
    { "meta-and-client-id", test_meta_and_client_id },
    { "large-text", test_large_text },
  };

  g_autoptr(GError) error = NULL;
  int status;

  /* Before anything asks GLib for the user data directory */
  data_home = g_dir_make_tmp ("test-store-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);

  g_test_init (&argc, &argv, NULL);
  g_assert_cmpstr (g_get_user_data_dir (), ==, data_home);

  for (guint i = 0; i < G_N_ELEMENTS (contract); i++)
    {
      g_autofree char *memory = g_strdup_printf ("/store/memory/%s", contract[i].name);
      g_autofree char *sqlite = g_strdup_printf ("/store/sqlite/%s", contract[i].name);

      g_test_add (memory, Fixture, NULL, setup_memory, contract[i].func, teardown);
      g_test_add (sqlite, Fixture, NULL, setup_sqlite, contract[i].func, teardown);
    }

  g_test_add_func ("/store/memory/client-ids-differ", test_client_ids_differ);
  g_test_add_func ("/store/doc-info-fallback", test_doc_info_fallback);
  g_test_add_func ("/store/sqlite/exact-json", test_sqlite_exact_json);
  g_test_add_func ("/store/sqlite/compaction", test_sqlite_compaction);
  g_test_add_func ("/store/sqlite/compaction-by-size", test_sqlite_compaction_by_size);
  g_test_add_func ("/store/sqlite/newer-version", test_sqlite_newer_version);
  g_test_add_func ("/store/sqlite/garbage-file", test_sqlite_garbage_file);
  g_test_add_func ("/store/sqlite/damaged-pages", test_sqlite_damaged_pages);
  g_test_add_func ("/store/sqlite/bad-row", test_sqlite_bad_row);
  g_test_add_func ("/store/sqlite/pragmas", test_sqlite_pragmas);
  g_test_add_func ("/store/sqlite/sync-levels", test_sqlite_sync_levels);
  g_test_add_func ("/store/sqlite/process-crash", test_sqlite_process_crash);
  g_test_add_func ("/store/sqlite/second-connection", test_sqlite_reopen_migrated);
  g_test_add_func ("/store/sqlite/close", test_sqlite_close);
  g_test_add_func ("/store/sqlite/profile", test_sqlite_profile);

  status = g_test_run ();

  remove_tree (data_home);
  g_clear_pointer (&data_home, g_free);
  return status;
}
