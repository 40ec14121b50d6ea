/* test-commit.c: the server's commit algorithm (PROTOCOL.md §7)
 *
 * Unit tests of each rule of commitChanges, of the versioning helpers
 * and of getDoc/delete, plus a seeded property test: random
 * interleavings of 2–4 simulated clients converge on the server's head
 * state with a dense log.  The seed is printed; set PATCHES_TEST_SEED to
 * replay one, PATCHES_LONG_TESTS=1 for 100 times more cases.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "patches.h"
#include "patches-commit.h"
#include "patches-ot.h"
#include "patches-text.h"
#include "patches-test-log.h"

/* A store: one change log per test (doc id ignored), versions as
 * metadata plus a state, and tombstones. */

typedef struct {
  GPtrArray  *log;
  GPtrArray  *versions;      /* metadata */
  GHashTable *tombstones;    /* doc id → tombstone */
  guint       n_saves;
  guint       fail_revs;     /* save_changes reports this many rev conflicts */
} Store;

static Store *
store_new (void)
{
  Store *store = g_new0 (Store, 1);

  store->log = patches_changes_new ();
  store->versions = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_value_unref);
  store->tombstones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) patches_value_unref);
  return store;
}

static void
store_free (Store *store)
{
  g_ptr_array_unref (store->log);
  g_ptr_array_unref (store->versions);
  g_hash_table_unref (store->tombstones);
  g_free (store);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Store, store_free)

static gboolean
store_get_current_rev (gpointer     data,
                       const char  *doc_id,
                       gint64      *rev,
                       GError     **error)
{
  Store *store = data;

  *rev = patches_test_log_head (store->log);
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
  Store *store = data;

  return patches_test_log_range (store->log, start_after, end_before, limit, reverse);
}

static gboolean
store_save_changes (gpointer     data,
                    const char  *doc_id,
                    GPtrArray   *changes,
                    GError     **error)
{
  Store *store = data;

  store->n_saves++;
  if (store->fail_revs > 0)
    {
      store->fail_revs--;
      g_set_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_REV_CONFLICT,
                   "Simulated revision conflict");
      return FALSE;
    }

  return patches_test_log_append (store->log, doc_id, changes, error);
}

static gint64
meta_int (PatchesValue *meta,
          const char   *key)
{
  PatchesValue *member = patches_value_object_get (meta, key);

  return member ? (gint64) patches_value_get_number (member) : -1;
}

static const char *
meta_str (PatchesValue *meta,
          const char   *key)
{
  PatchesValue *member = patches_value_object_get (meta, key);

  return member ? patches_value_get_string (member) : NULL;
}

static PatchesValue *
store_find_version (gpointer     data,
                    const char  *doc_id,
                    const char  *origin,
                    gint64       max_end_rev,
                    GError     **error)
{
  Store *store = data;
  PatchesValue *best = NULL;

  for (guint i = 0; i < store->versions->len; i++)
    {
      PatchesValue *meta = g_ptr_array_index (store->versions, i);

      if (origin != NULL && g_strcmp0 (meta_str (meta, "origin"), origin) != 0)
        continue;
      if (meta_int (meta, "endRev") > max_end_rev)
        continue;
      if (best == NULL || meta_int (meta, "endRev") >= meta_int (best, "endRev"))
        best = meta;
    }

  return best ? patches_value_ref (best) : NULL;
}

static gboolean
store_create_version (gpointer       data,
                      const char    *doc_id,
                      PatchesValue  *metadata,
                      GPtrArray     *changes,
                      GError       **error)
{
  Store *store = data;

  g_ptr_array_add (store->versions, patches_value_ref (metadata));
  return TRUE;
}

static PatchesValue *
store_load_version_state (gpointer     data,
                          const char  *doc_id,
                          const char  *version_id,
                          GError     **error)
{
  Store *store = data;
  g_autoptr(GPtrArray) history = NULL;
  PatchesValue *state = NULL;

  for (guint i = 0; i < store->versions->len; i++)
    {
      PatchesValue *meta = g_ptr_array_index (store->versions, i);

      if (g_strcmp0 (meta_str (meta, "id"), version_id) != 0)
        continue;
      if (patches_value_object_has (meta, "unbuilt"))
        return NULL;   /* not built yet */
      history = store_list_changes (store, doc_id, -1, meta_int (meta, "endRev") + 1, 0, FALSE, NULL);
      patches_changes_apply_for_reconstruction (&state, history, FALSE, NULL, NULL);
      return state ? state : patches_value_new_null ();
    }

  return NULL;
}

static gboolean
store_delete_doc (gpointer     data,
                  const char  *doc_id,
                  GError     **error)
{
  Store *store = data;

  g_ptr_array_set_size (store->log, 0);
  g_ptr_array_set_size (store->versions, 0);
  return TRUE;
}

static gboolean
store_create_tombstone (gpointer       data,
                        const char    *doc_id,
                        PatchesValue  *tombstone,
                        GError       **error)
{
  Store *store = data;

  g_hash_table_insert (store->tombstones, g_strdup (doc_id), patches_value_ref (tombstone));
  return TRUE;
}

static gboolean
store_remove_tombstone (gpointer     data,
                        const char  *doc_id,
                        gboolean    *removed,
                        GError     **error)
{
  Store *store = data;

  *removed = g_hash_table_remove (store->tombstones, doc_id);
  return TRUE;
}

static const PatchesHistoryFuncs store_funcs = {
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

/* Only the log: what the property test uses */
static const PatchesHistoryFuncs log_funcs = {
  .get_current_rev = store_get_current_rev,
  .list_changes = store_list_changes,
  .save_changes = store_save_changes,
};

/* Helpers */

#define T0 1700000000000

static PatchesValue *
parse (const char *json)
{
  g_autoptr(GError) error = NULL;
  PatchesValue *value = patches_value_parse (json, -1, &error);

  g_assert_no_error (error);
  return value;
}

static GPtrArray *
parse_changes (const char *json)
{
  g_autoptr(PatchesValue) value = parse (json);
  g_autoptr(GError) error = NULL;
  GPtrArray *changes = patches_changes_from_value (value, &error);

  g_assert_no_error (error);
  return changes;
}

static PatchesCommit *
commit_full (Store                      *store,
             const char                 *client_id,
             const char                 *changes_json,
             const PatchesCommitOptions *options,
             gint64                      now,
             GError                    **error)
{
  g_autoptr(GPtrArray) changes = parse_changes (changes_json);
  PatchesCommit *commit = patches_commit_new ("doc1", changes, options, client_id, now, NULL);

  if (!patches_commit_run (commit, &store_funcs, store, error))
    g_clear_pointer (&commit, patches_commit_unref);
  return commit;
}

static PatchesCommit *
commit_ok (Store      *store,
           const char *client_id,
           const char *changes_json,
           gint64      now)
{
  g_autoptr(GError) error = NULL;
  PatchesCommit *commit = commit_full (store, client_id, changes_json, NULL, now, &error);

  g_assert_no_error (error);
  g_assert_nonnull (commit);
  return commit;
}

static void
assert_json (PatchesValue *got,
             const char   *expect_json)
{
  g_autoptr(PatchesValue) expect = parse (expect_json);

  if (!patches_value_equal (got, expect))
    {
      g_autofree char *text = patches_value_to_json (got);

      g_error ("got %s\nexpected %s", text, expect_json);
    }
}

static void
assert_result (PatchesCommit *commit,
               const char    *expect_json)
{
  g_autoptr(PatchesValue) got = patches_commit_result_to_value (commit);

  assert_json (got, expect_json);
}

/* Returns "id@rev id@rev …" of the response (catch-up, then new) */
static char *
summary (PatchesCommit *commit)
{
  GString *out = g_string_new (NULL);
  GPtrArray *parts[] = { patches_commit_get_catchup (commit), patches_commit_get_new_changes (commit) };

  for (guint p = 0; p < G_N_ELEMENTS (parts); p++)
    for (guint i = 0; i < parts[p]->len; i++)
      {
        PatchesChange *change = g_ptr_array_index (parts[p], i);

        g_string_append_printf (out, "%s%s@%" G_GINT64_FORMAT, out->len ? " " : "", change->id, change->rev);
      }

  return g_string_free (out, FALSE);
}

static char *
log_summary (Store *store)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < store->log->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (store->log, i);

      g_string_append_printf (out, "%s%s@%" G_GINT64_FORMAT, out->len ? " " : "", change->id, change->rev);
    }

  return g_string_free (out, FALSE);
}

static void
seed_doc (Store *store)
{
  g_autoptr(PatchesCommit) c = commit_ok (store, "c1",
    "[{\"id\":\"a1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"replace\",\"path\":\"\","
    "\"value\":{\"title\":\"x\",\"list\":[],\"n\":0,\"item\":{\"name\":\"i\"}}}],"
    "\"createdAt\":1700000000000,\"committedAt\":0}]", T0);
}

/* Tests */

static void
test_empty (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesCommit) commit = commit_ok (store, "c1", "[]", T0);

  g_assert_true (patches_commit_is_empty (commit));
  assert_result (commit, "{\"changes\":[]}");
  g_assert_cmpuint (patches_commit_get_new_changes (commit)->len, ==, 0);
  g_assert_cmpuint (store->n_saves, ==, 0);
}

static void
test_first_commit (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesCommit) commit = NULL;

  commit = commit_ok (store, "c1",
    "[{\"id\":\"a1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}],"
    "\"createdAt\":1700000000500,\"committedAt\":0,\"userId\":\"u\",\"clientId\":\"spoof\"}]", T0);

  /* createdAt clamped to now, committedAt stamped, clientId overwritten,
   * metadata kept */
  assert_result (commit,
    "{\"changes\":[{\"id\":\"a1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}],"
    "\"createdAt\":1700000000000,\"committedAt\":1700000000000,\"userId\":\"u\",\"clientId\":\"c1\"}]}");
  g_assert_cmpuint (store->log->len, ==, 1);
  g_assert_false (patches_commit_get_doc_reload_required (commit));
}

static void
test_missing_fields (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesCommit) commit = NULL;

  seed_doc (store);
  /* No baseRev (head), no rev (filled), createdAt 0 and null (now) */
  commit = commit_ok (store, NULL,
    "[{\"id\":\"b1\",\"ops\":[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"y\"}],\"createdAt\":0},"
    " {\"id\":\"b2\",\"baseRev\":null,\"rev\":null,\"ops\":[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":1}],\"createdAt\":null}]",
    T0 + 1000);
  assert_result (commit,
    "{\"changes\":[{\"id\":\"b1\",\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"y\"}],"
    "\"createdAt\":1700000001000,\"committedAt\":1700000001000},"
    "{\"id\":\"b2\",\"baseRev\":1,\"rev\":3,\"ops\":[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":1}],"
    "\"createdAt\":1700000001000,\"committedAt\":1700000001000}]}");
}

static void
test_stale_base_rev (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesCommit) a = NULL;
  g_autoptr(PatchesCommit) b = NULL;
  g_autofree char *got = NULL;
  PatchesChange *mine;

  seed_doc (store);
  a = commit_ok (store, "c1",
    "[{\"id\":\"a2\",\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/list/0\",\"value\":\"A\"}],\"createdAt\":1700000001000}]",
    T0 + 1000);
  /* c2 never saw a2: its insert at index 0 is shifted, and a2 comes back
   * as catch-up before its own change */
  b = commit_ok (store, "c2",
    "[{\"id\":\"b2\",\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/list/1\",\"value\":\"B\"}],\"createdAt\":1700000002000}]",
    T0 + 2000);

  got = summary (b);
  g_assert_cmpstr (got, ==, "a2@2 b2@3");
  mine = g_ptr_array_index (patches_commit_get_new_changes (b), 0);
  g_assert_cmpint (mine->base_rev, ==, 1);   /* baseRev left as sent */
  g_assert_cmpstr (((PatchesOp *) g_ptr_array_index (mine->ops, 0))->path, ==, "/list/2");
}

static void
test_base_rev_ahead (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesCommit) commit = NULL;
  g_autoptr(PatchesValue) data = NULL;

  seed_doc (store);
  commit = commit_full (store, "c1",
    "[{\"id\":\"x\",\"baseRev\":5,\"rev\":6,\"ops\":[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]}]",
    NULL, T0 + 1000, &error);
  g_assert_null (commit);
  g_assert_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_BASE_REV_AHEAD);
  g_assert_cmpint (patches_commit_error_get_status (error), ==, 409);
  g_assert_cmpstr (error->message, ==,
                   "Client baseRev (5) is ahead of server revision (1) for doc doc1. "
                   "Client needs to reload the document.");
  data = patches_commit_error_get_data (error);
  assert_json (data, "{\"scope\":\"doc\"}");
  g_assert_cmpuint (store->log->len, ==, 1);
}

static void
test_inconsistent_base_rev (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) error2 = NULL;
  g_autoptr(PatchesCommit) commit = NULL;
  g_autoptr(PatchesValue) data = NULL;
  PatchesCommitOptions historical = { .historical_import = TRUE };

  seed_doc (store);
  commit = commit_full (store, "c1",
    "[{\"id\":\"x\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]},"
    " {\"id\":\"y\",\"baseRev\":0,\"ops\":[{\"op\":\"add\",\"path\":\"/b\",\"value\":1}]}]",
    NULL, T0 + 1000, &error);
  g_assert_null (commit);
  g_assert_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_INCONSISTENT_BASE_REV);
  g_assert_cmpint (patches_commit_error_get_status (error), ==, 400);
  g_assert_cmpstr (error->message, ==, "Client changes must have consistent baseRev in all changes for doc doc1.");
  data = patches_commit_error_get_data (error);
  assert_json (data, "{\"scope\":\"doc\"}");

  /* The 400 wins over the 409 of an ahead baseRev */
  commit = commit_full (store, "c1",
    "[{\"id\":\"x\",\"baseRev\":7,\"ops\":[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]},"
    " {\"id\":\"y\",\"baseRev\":8,\"ops\":[{\"op\":\"add\",\"path\":\"/b\",\"value\":1}]}]",
    NULL, T0 + 1000, &error2);
  g_assert_null (commit);
  g_assert_error (error2, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_INCONSISTENT_BASE_REV);

  /* historicalImport tolerates it */
  commit = commit_full (store, "c1",
    "[{\"id\":\"x\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]},"
    " {\"id\":\"y\",\"baseRev\":0,\"ops\":[{\"op\":\"add\",\"path\":\"/b\",\"value\":1}]}]",
    &historical, T0 + 1000, NULL);
  g_assert_nonnull (commit);
  g_assert_cmpuint (store->log->len, ==, 3);
}

static void
test_base_rev_zero_reload (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesCommit) commit = NULL;
  g_autoptr(PatchesCommit) more = NULL;
  PatchesChange *change;

  seed_doc (store);
  more = commit_ok (store, "c1",
    "[{\"id\":\"a2\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/list/0\",\"value\":\"A\"}]}]",
    T0 + 1000);

  /* A never-synced client: committed on top of the head, untransformed,
   * and told to reload */
  commit = commit_ok (store, "c2",
    "[{\"id\":\"z1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/list/0\",\"value\":\"Z\"}],\"createdAt\":1700000002000}]",
    T0 + 2000);
  g_assert_true (patches_commit_get_doc_reload_required (commit));
  g_assert_cmpint (patches_commit_get_base_rev (commit), ==, 2);
  change = g_ptr_array_index (patches_commit_get_new_changes (commit), 0);
  g_assert_cmpint (change->base_rev, ==, 2);
  g_assert_cmpint (change->rev, ==, 3);
  g_assert_cmpstr (((PatchesOp *) g_ptr_array_index (change->ops, 0))->path, ==, "/list/0");
  g_assert_cmpuint (patches_commit_get_catchup (commit)->len, ==, 0);
  {
    g_autoptr(PatchesValue) result = patches_commit_result_to_value (commit);
    g_assert_true (patches_value_truthy (patches_value_object_get (result, "docReloadRequired")));
  }
}

static void
test_base_rev_zero_continuation (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesCommit) first = NULL;
  g_autoptr(PatchesCommit) second = NULL;
  g_autoptr(PatchesCommit) foreign = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *got = NULL;
  g_autoptr(PatchesValue) data = NULL;

  /* A multi-batch upload creating the document: batch 1 … */
  first = commit_ok (store, "c1",
    "[{\"id\":\"u1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"l\":[]}}],\"createdAt\":1700000000000,\"batchId\":\"u1\"},"
    " {\"id\":\"u2\",\"baseRev\":0,\"rev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/l/-\",\"value\":1}],\"createdAt\":1700000000000,\"batchId\":\"u1\"}]",
    T0);
  g_assert_true (patches_commit_get_fast_forward (first));

  /* … batch 2 is a continuation of the same upload: accepted, and the
   * earlier batch's rows are not sent back (same batchId, same origin) */
  second = commit_ok (store, "c1",
    "[{\"id\":\"u3\",\"baseRev\":0,\"rev\":3,\"ops\":[{\"op\":\"add\",\"path\":\"/l/-\",\"value\":2}],\"createdAt\":1700000000000,\"batchId\":\"u1\"}]",
    T0 + 1000);
  got = summary (second);
  g_assert_cmpstr (got, ==, "u3@3");
  g_assert_false (patches_commit_get_doc_reload_required (second));

  /* A continuation of some other upload onto this document: 409 */
  foreign = commit_full (store, "c2",
    "[{\"id\":\"v5\",\"baseRev\":0,\"rev\":5,\"ops\":[{\"op\":\"add\",\"path\":\"/l/-\",\"value\":9}],\"batchId\":\"v1\"}]",
    NULL, T0 + 2000, &error);
  g_assert_null (foreign);
  g_assert_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_FOREIGN_CONTINUATION);
  g_assert_cmpint (patches_commit_error_get_status (error), ==, 409);
  data = patches_commit_error_get_data (error);
  assert_json (data, "{\"scope\":\"doc\"}");
}

static void
test_root_op_guard (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesCommit) commit = NULL;
  g_autoptr(PatchesValue) data = NULL;
  PatchesCommitOptions allow = { .allow_root_replace = TRUE };

  seed_doc (store);
  commit = commit_full (store, "c2",
    "[{\"id\":\"b1\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}]},"
    " {\"id\":\"b2\",\"baseRev\":1,\"ops\":[{\"op\":\"replace\",\"path\":\"\",\"value\":{}}]}]",
    NULL, T0 + 1000, &error);
  g_assert_null (commit);
  g_assert_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_ROOT_OP);
  g_assert_cmpint (patches_commit_error_get_status (error), ==, 400);
  data = patches_commit_error_get_data (error);
  assert_json (data, "{\"changeId\":\"b2\",\"scope\":\"change\"}");
  g_assert_true (g_str_has_prefix (error->message, "Document doc1 already exists (rev 1). Cannot apply root-level replace"));

  commit = commit_full (store, "c2",
    "[{\"id\":\"b2\",\"baseRev\":1,\"ops\":[{\"op\":\"replace\",\"path\":\"\",\"value\":{}}]}]",
    &allow, T0 + 1000, NULL);
  g_assert_nonnull (commit);
  g_assert_cmpuint (store->log->len, ==, 2);
}

static void
test_resend_same_connection (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesCommit) first = NULL;
  g_autoptr(PatchesCommit) again = NULL;
  g_autoptr(PatchesCommit) tail = NULL;
  g_autofree char *got = NULL;
  g_autofree char *got2 = NULL;
  g_autofree char *log = NULL;
  const char *batch =
    "[{\"id\":\"a2\",\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":1}],\"createdAt\":1700000001000}]";
  const char *batch_with_tail =
    "[{\"id\":\"a2\",\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":1}],\"createdAt\":1700000001000},"
    " {\"id\":\"a3\",\"baseRev\":1,\"rev\":3,\"ops\":[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":2}],\"createdAt\":1700000001000}]";

  seed_doc (store);
  first = commit_ok (store, "c1", batch, T0 + 1000);

  /* The ack was lost: the same request again commits nothing, and the
   * committed copy comes back as catch-up */
  again = commit_ok (store, "c1", batch, T0 + 2000);
  got = summary (again);
  g_assert_cmpstr (got, ==, "a2@2");
  g_assert_cmpuint (patches_commit_get_new_changes (again)->len, ==, 0);

  /* With a new tail: the echo is not transformed over, the tail lands */
  tail = commit_ok (store, "c1", batch_with_tail, T0 + 3000);
  got2 = summary (tail);
  g_assert_cmpstr (got2, ==, "a2@2 a3@3");
  log = log_summary (store);
  g_assert_cmpstr (log, ==, "a1@1 a2@2 a3@3");
}

static void
test_resend_new_connection (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesCommit) first = NULL;
  g_autoptr(PatchesCommit) again = NULL;
  g_autofree char *got = NULL;
  g_autofree char *log = NULL;

  seed_doc (store);
  first = commit_ok (store, "c1",
    "[{\"id\":\"a2\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":1}],\"createdAt\":1700000001000}]",
    T0 + 1000);

  /* From another connection the copy looks foreign; the store's
   * (doc, id) guard rejects it, the id is excluded and the retry commits
   * the rest */
  again = commit_ok (store, "c9",
    "[{\"id\":\"a2\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":1}],\"createdAt\":1700000001000},"
    " {\"id\":\"a3\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":2}],\"createdAt\":1700000001000}]",
    T0 + 2000);
  got = summary (again);
  g_assert_cmpstr (got, ==, "a2@2 a3@3");
  g_assert_cmpuint (store->n_saves, ==, 4);   /* seed, first, rejected, retry */
  log = log_summary (store);
  g_assert_cmpstr (log, ==, "a1@1 a2@2 a3@3");
}

static void
test_resend_at_or_below_base_rev (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesCommit) first = NULL;
  g_autoptr(PatchesCommit) again = NULL;

  seed_doc (store);
  first = commit_ok (store, "c1",
    "[{\"id\":\"a2\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":1}]}]",
    T0 + 1000);

  /* Re-sent with a baseRev that already includes it: only the store's
   * guard sees it; nothing is committed and nothing comes back */
  again = commit_ok (store, "c1",
    "[{\"id\":\"a2\",\"baseRev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":1}]}]",
    T0 + 2000);
  assert_result (again, "{\"changes\":[]}");
  g_assert_cmpuint (store->log->len, ==, 2);
}

static void
test_duplicate_within_request (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesCommit) commit = NULL;
  g_autofree char *got = NULL;

  seed_doc (store);
  commit = commit_ok (store, "c1",
    "[{\"id\":\"d\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":1}]},"
    " {\"id\":\"d\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":2}]},"
    " {\"id\":\"e\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":3}]}]",
    T0 + 1000);
  got = summary (commit);
  g_assert_cmpstr (got, ==, "d@2 e@3");
}

static void
test_noop_and_force_commit (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesCommit) removal = NULL;
  g_autoptr(PatchesCommit) dropped = NULL;
  g_autoptr(PatchesCommit) forced = NULL;
  g_autofree char *got = NULL;
  g_autofree char *got2 = NULL;
  PatchesCommitOptions force = { .force_commit = TRUE };
  PatchesChange *empty;

  seed_doc (store);
  removal = commit_ok (store, "c1",
    "[{\"id\":\"r\",\"baseRev\":1,\"ops\":[{\"op\":\"remove\",\"path\":\"/item\"}]}]", T0 + 1000);

  /* An edit inside the removed object transforms to nothing: dropped
   * without using a rev; the next change takes rev 3 */
  dropped = commit_ok (store, "c2",
    "[{\"id\":\"x1\",\"baseRev\":1,\"ops\":[{\"op\":\"replace\",\"path\":\"/item/name\",\"value\":\"j\"}]},"
    " {\"id\":\"x2\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/other\",\"value\":1}]}]",
    T0 + 2000);
  got = summary (dropped);
  g_assert_cmpstr (got, ==, "r@2 x2@3");

  /* forceCommit keeps it, with ops [] */
  {
    g_autoptr(GError) error = NULL;

    forced = commit_full (store, "c3",
      "[{\"id\":\"y1\",\"baseRev\":1,\"ops\":[{\"op\":\"replace\",\"path\":\"/item/name\",\"value\":\"k\"}]}]",
      &force, T0 + 3000, &error);
    g_assert_no_error (error);
  }
  got2 = summary (forced);
  g_assert_cmpstr (got2, ==, "r@2 x2@3 y1@4");
  empty = g_ptr_array_index (patches_commit_get_new_changes (forced), 0);
  g_assert_cmpuint (empty->ops->len, ==, 0);
}

static void
test_own_echo (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesCommit) b1 = NULL;
  g_autoptr(PatchesCommit) foreign = NULL;
  g_autoptr(PatchesCommit) b2 = NULL;
  g_autoptr(PatchesCommit) other = NULL;
  g_autofree char *got = NULL;
  g_autofree char *got2 = NULL;

  seed_doc (store);

  /* Batch 1 of a split upload from c1 (batchId "B") */
  b1 = commit_ok (store, "c1",
    "[{\"id\":\"B\",\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/list/0\",\"value\":\"b1\"}],\"createdAt\":1700000001000,\"batchId\":\"B\"}]",
    T0 + 1000);
  /* Meanwhile c2 commits, also carrying a batchId "B" (another client's
   * upload: same batchId, different origin) */
  foreign = commit_ok (store, "c2",
    "[{\"id\":\"f\",\"baseRev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/list/0\",\"value\":\"f\"}],\"batchId\":\"B\"}]",
    T0 + 1500);

  /* Batch 2 of c1's upload: its own batch-1 row is an echo (same origin,
   * same batchId) and is neither sent back nor transformed over; c2's row
   * is foreign */
  b2 = commit_ok (store, "c1",
    "[{\"id\":\"B2\",\"baseRev\":1,\"rev\":3,\"ops\":[{\"op\":\"add\",\"path\":\"/list/1\",\"value\":\"b2\"}],\"createdAt\":1700000001000,\"batchId\":\"B\"}]",
    T0 + 2000);
  got = summary (b2);
  g_assert_cmpstr (got, ==, "f@3 B2@4");
  /* transformed over f only: index 1 → 2 */
  g_assert_cmpstr (((PatchesOp *) g_ptr_array_index (((PatchesChange *) g_ptr_array_index (patches_commit_get_new_changes (b2), 0))->ops, 0))->path,
                   ==, "/list/2");

  /* The same rows seen by a third connection are all foreign */
  other = commit_ok (store, "c3",
    "[{\"id\":\"o\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}],\"batchId\":\"B\"}]",
    T0 + 3000);
  got2 = summary (other);
  g_assert_cmpstr (got2, ==, "B@2 f@3 B2@4 o@5");
}

static void
test_no_connection_id (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesCommit) a = NULL;
  g_autoptr(PatchesCommit) b = NULL;
  g_autofree char *got = NULL;

  seed_doc (store);
  a = commit_ok (store, "c1",
    "[{\"id\":\"a2\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":1}]}]", T0 + 1000);

  /* Without a sender every committed change has the same origin, but
   * only a matching batchId or id makes it an echo: a2 is caught up and
   * transformed over */
  b = commit_ok (store, NULL,
    "[{\"id\":\"s1\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/list/0\",\"value\":0}]}]", T0 + 2000);
  got = summary (b);
  g_assert_cmpstr (got, ==, "a2@2 s1@3");
  g_assert_null (((PatchesChange *) g_ptr_array_index (patches_commit_get_new_changes (b), 0))->client_id);
}

static void
test_rev_conflict_retry (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesCommit) commit = NULL;
  g_autoptr(GError) error = NULL;

  seed_doc (store);
  store->fail_revs = 2;
  commit = commit_ok (store, "c1",
    "[{\"id\":\"a2\",\"baseRev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":1}]}]", T0 + 1000);
  g_assert_cmpuint (store->log->len, ==, 2);

  /* Five failures in a row: the commit fails as a plain server error */
  store->fail_revs = 5;
  g_clear_pointer (&commit, patches_commit_unref);
  commit = commit_full (store, "c1",
    "[{\"id\":\"a3\",\"baseRev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":1}]}]",
    NULL, T0 + 2000, &error);
  g_assert_null (commit);
  g_assert_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_REV_CONFLICT);
  g_assert_cmpint (patches_commit_error_get_status (error), ==, PATCHES_JSONRPC_SERVER_ERROR);
}

static void
test_pure_steps (void)
{
  g_autoptr(GPtrArray) changes = parse_changes (
    "[{\"id\":\"p1\",\"baseRev\":3,\"ops\":[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}],\"createdAt\":1600000000000}]");
  g_autoptr(PatchesCommit) commit = patches_commit_new ("d", changes, NULL, "c1", T0, NULL);
  g_autoptr(GPtrArray) committed = parse_changes (
    "[{\"id\":\"f4\",\"baseRev\":3,\"rev\":4,\"ops\":[{\"op\":\"add\",\"path\":\"/b\",\"value\":1}],\"createdAt\":1,\"clientId\":\"c2\"}]");
  g_autoptr(PatchesChange) last = patches_change_ref (g_ptr_array_index (committed, 0));
  gboolean drain;

  g_assert_false (patches_commit_needs_oldest_change (commit, 4));
  g_assert_true (patches_commit_prepare (commit, 4, NULL, NULL));
  g_assert_cmpint (patches_commit_get_base_rev (commit), ==, 3);
  g_assert_cmpint (((PatchesChange *) g_ptr_array_index (patches_commit_get_changes (commit), 0))->rev, ==, 4);

  /* The last change is ancient: a session gap, drained fully */
  g_assert_true (patches_commit_needs_catch_up (commit, last, &drain));
  g_assert_true (drain);

  /* Offline work (createdAt long ago) over a foreign change: transformed,
   * session versions of origin offline-branch */
  g_assert_true (patches_commit_resolve (commit, committed, 4, NULL));
  g_assert_false (patches_commit_get_fast_forward (commit));
  g_assert_cmpstr (patches_commit_get_session_origin (commit), ==, PATCHES_VERSION_ORIGIN_OFFLINE_BRANCH);
  g_assert_cmpuint (patches_commit_get_new_changes (commit)->len, ==, 1);
  g_assert_cmpint (((PatchesChange *) g_ptr_array_index (patches_commit_get_new_changes (commit), 0))->rev, ==, 5);

  /* Nothing foreign: fast-forward, origin main */
  g_assert_true (patches_commit_resolve (commit, NULL, 3, NULL));
  g_assert_true (patches_commit_get_fast_forward (commit));
  g_assert_cmpstr (patches_commit_get_session_origin (commit), ==, PATCHES_VERSION_ORIGIN_MAIN);
  g_assert_cmpint (((PatchesChange *) g_ptr_array_index (patches_commit_get_new_changes (commit), 0))->rev, ==, 4);

  /* Excluded ids */
  {
    const char *ids[] = { "p1", NULL };

    g_assert_true (patches_commit_exclude_ids (commit, ids));
    g_assert_false (patches_commit_exclude_ids (commit, ids));
    g_assert_true (patches_commit_resolve (commit, NULL, 3, NULL));
    g_assert_cmpuint (patches_commit_get_new_changes (commit)->len, ==, 0);
  }
}

static void
test_count_trigger (void)
{
  PatchesCommitConfig config = { .session_timeout_ms = 30 * 60 * 1000, .max_changes_per_version = 3 };
  g_autoptr(GPtrArray) two = parse_changes (
    "[{\"id\":\"a\",\"baseRev\":2,\"ops\":[]},{\"id\":\"b\",\"baseRev\":2,\"ops\":[]}]");
  g_autoptr(GPtrArray) last_list = parse_changes (
    "[{\"id\":\"l\",\"baseRev\":1,\"rev\":2,\"ops\":[],\"createdAt\":1700000000000}]");
  PatchesChange *last = g_ptr_array_index (last_list, 0);
  gboolean drain = TRUE;
  gint64 end;

  {
    /* head 2 + 2 changes = 4 crosses 3 */
    g_autoptr(PatchesCommit) commit = patches_commit_new ("d", two, NULL, "c1", T0, &config);

    g_assert_true (patches_commit_prepare (commit, 2, NULL, NULL));
    g_assert_true (patches_commit_needs_catch_up (commit, last, &drain));
    g_assert_false (drain);
  }
  {
    /* head 0 + 2 changes: no last change, nothing to catch up */
    g_autoptr(PatchesCommit) commit = patches_commit_new ("d", two, NULL, "c1", T0, &config);
    g_autoptr(GError) error = NULL;

    g_assert_false (patches_commit_prepare (commit, 0, NULL, &error));
    g_assert_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_BASE_REV_AHEAD);
    g_assert_false (patches_commit_needs_catch_up (commit, NULL, &drain));
  }

  /* catch-up steps */
  g_assert_true (patches_versioning_catch_up_step (0, 7, 3, FALSE, &end));
  g_assert_cmpint (end, ==, 3);
  g_assert_true (patches_versioning_catch_up_step (3, 7, 3, FALSE, &end));
  g_assert_cmpint (end, ==, 6);
  g_assert_false (patches_versioning_catch_up_step (6, 7, 3, FALSE, &end));
  g_assert_true (patches_versioning_catch_up_step (6, 7, 3, TRUE, &end));
  g_assert_cmpint (end, ==, 7);
  g_assert_false (patches_versioning_catch_up_step (7, 7, 3, TRUE, &end));
  g_assert_true (patches_versioning_catch_up_step (2, 9, 0, TRUE, &end));
  g_assert_cmpint (end, ==, 9);
}

static void
test_sessions_and_metadata (void)
{
  g_autoptr(GPtrArray) changes = parse_changes (
    "[{\"id\":\"a\",\"rev\":5,\"ops\":[],\"createdAt\":0},"
    " {\"id\":\"b\",\"rev\":6,\"ops\":[],\"createdAt\":1000},"
    " {\"id\":\"c\",\"rev\":7,\"ops\":[],\"createdAt\":5000},"
    " {\"id\":\"d\",\"rev\":8,\"ops\":[],\"createdAt\":5500}]");
  g_autoptr(GPtrArray) sessions = patches_versioning_split_sessions (changes, 2000);
  g_autoptr(PatchesValue) meta = NULL;
  g_autofree char *id1 = patches_version_id_new (T0);
  g_autofree char *id2 = patches_version_id_new (T0);

  g_assert_cmpuint (sessions->len, ==, 2);
  g_assert_cmpuint (((GPtrArray *) g_ptr_array_index (sessions, 0))->len, ==, 2);
  g_assert_cmpuint (((GPtrArray *) g_ptr_array_index (sessions, 1))->len, ==, 2);

  meta = patches_version_metadata_new ("main", g_ptr_array_index (sessions, 1), "P", "I");
  assert_json (meta, "{\"origin\":\"main\",\"startedAt\":5000,\"endedAt\":5500,\"endRev\":8,\"startRev\":7,\"parentId\":\"P\",\"id\":\"I\"}");
  g_assert_cmpstr (patches_value_object_key_at (meta, 5), ==, "parentId");
  g_assert_cmpstr (patches_value_object_key_at (meta, 6), ==, "id");

  g_assert_cmpuint (strlen (id1), ==, 16);
  g_assert_cmpint (strcmp (id1, id2), <, 0);
  g_assert_true (strncmp (id1, id2, 8) == 0);
}

static void
test_versioning_over_store (void)
{
  g_autoptr(Store) store = store_new ();
  PatchesValue *v;

  seed_doc (store);
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *json = g_strdup_printf (
        "[{\"id\":\"n%d\",\"ops\":[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":1}],\"createdAt\":%" G_GINT64_FORMAT "}]",
        i, (gint64) T0 + 1000 * (i + 1));
      g_autoptr(PatchesCommit) commit = commit_ok (store, "c1", json, T0 + 1000 * (i + 1));
    }
  g_assert_cmpuint (store->versions->len, ==, 0);

  /* 31 minutes later: the first commit after the gap versions revs 1–4 */
  {
    g_autoptr(PatchesCommit) commit = commit_ok (store, "c1",
      "[{\"id\":\"late\",\"ops\":[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":1}]}]",
      T0 + 31 * 60 * 1000 + 4000);
    g_autoptr(PatchesValue) doc = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_cmpuint (store->versions->len, ==, 1);
    v = g_ptr_array_index (store->versions, 0);
    g_assert_cmpint (meta_int (v, "startRev"), ==, 1);
    g_assert_cmpint (meta_int (v, "endRev"), ==, 4);
    g_assert_null (patches_value_object_get (v, "parentId"));

    /* getDoc serves the version's state plus the tail */
    doc = patches_history_get_doc (&store_funcs, store, "doc1", -1, &error);
    g_assert_no_error (error);
    g_assert_cmpint (meta_int (doc, "rev"), ==, 4);
    g_assert_cmpint (patches_value_get_number (patches_value_object_get (patches_value_object_get (doc, "state"), "n")), ==, 3);
    g_assert_cmpuint (patches_value_array_get_length (patches_value_object_get (doc, "changes")), ==, 1);
  }

  /* An offline batch (createdAt long ago), nothing foreign: fast-forward
   * with a main session version chained to the previous one */
  {
    g_autoptr(PatchesCommit) commit = commit_ok (store, "c1",
      "[{\"id\":\"off1\",\"baseRev\":5,\"ops\":[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":1}],\"createdAt\":1600000000000},"
      " {\"id\":\"off2\",\"baseRev\":5,\"ops\":[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":1}],\"createdAt\":1600009000000}]",
      T0 + 40 * 60 * 1000);
    PatchesValue *first;

    g_assert_true (patches_commit_get_fast_forward (commit));
    g_assert_cmpuint (store->versions->len, ==, 3);
    first = g_ptr_array_index (store->versions, 1);
    v = g_ptr_array_index (store->versions, 2);
    g_assert_cmpstr (meta_str (first, "origin"), ==, "main");
    g_assert_cmpstr (meta_str (first, "parentId"), ==, meta_str (g_ptr_array_index (store->versions, 0), "id"));
    g_assert_cmpstr (meta_str (v, "parentId"), ==, meta_str (first, "id"));
    g_assert_cmpint (meta_int (v, "endRev"), ==, 7);
  }
}

static void
test_get_doc_and_delete (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesValue) doc = NULL;
  g_autoptr(PatchesValue) at1 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) since = NULL;
  gboolean removed;

  doc = patches_history_get_doc (&store_funcs, store, "doc1", -1, &error);
  g_assert_no_error (error);
  assert_json (doc, "{\"state\":null,\"rev\":0,\"changes\":[]}");

  seed_doc (store);
  {
    g_autoptr(PatchesCommit) c = commit_ok (store, "c1",
      "[{\"id\":\"a2\",\"ops\":[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":1}]}]", T0 + 1000);
  }
  at1 = patches_history_get_doc (&store_funcs, store, "doc1", 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (patches_value_array_get_length (patches_value_object_get (at1, "changes")), ==, 1);

  since = patches_history_get_changes_since (&store_funcs, store, "doc1", 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (since->len, ==, 1);

  /* A version beyond the head is never served */
  {
    g_autoptr(PatchesValue) meta = parse ("{\"origin\":\"main\",\"endRev\":9,\"id\":\"V9\"}");
    g_autoptr(PatchesValue) snapshot = NULL;

    g_ptr_array_add (store->versions, g_steal_pointer (&meta));
    snapshot = patches_history_get_doc (&store_funcs, store, "doc1", 20, &error);
    g_assert_no_error (error);
    g_assert_cmpint (meta_int (snapshot, "rev"), ==, 0);
    g_assert_cmpuint (patches_value_array_get_length (patches_value_object_get (snapshot, "changes")), ==, 2);
  }

  /* A version whose state is not built yet: 503 */
  {
    g_autoptr(PatchesValue) meta = parse ("{\"origin\":\"main\",\"endRev\":2,\"id\":\"V2\",\"unbuilt\":true}");
    g_autoptr(PatchesValue) none = NULL;
    g_autoptr(PatchesValue) data = NULL;

    g_ptr_array_add (store->versions, g_steal_pointer (&meta));
    none = patches_history_get_doc (&store_funcs, store, "doc1", -1, &error);
    g_assert_null (none);
    g_assert_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_STATE_UNAVAILABLE);
    g_assert_cmpint (patches_commit_error_get_status (error), ==, 503);
    g_assert_cmpstr (error->message, ==, "State for version V2 of doc doc1 is unavailable; retry later.");
    data = patches_commit_error_get_data (error);
    assert_json (data, "{\"docId\":\"doc1\",\"versionId\":\"V2\"}");
    g_clear_error (&error);
  }

  g_assert_true (patches_history_delete_doc (&store_funcs, store, "doc1", "c2", FALSE, T0 + 5000, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (store->log->len, ==, 0);
  assert_json (g_hash_table_lookup (store->tombstones, "doc1"),
               "{\"docId\":\"doc1\",\"deletedAt\":1700000005000,\"lastRev\":2,\"deletedByClientId\":\"c2\"}");

  /* A stale client after the delete: 409 */
  {
    g_autoptr(GError) e = NULL;
    g_autoptr(PatchesCommit) c = commit_full (store, "c1",
      "[{\"id\":\"a3\",\"baseRev\":2,\"ops\":[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":1}]}]",
      NULL, T0 + 6000, &e);
    g_assert_error (e, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_BASE_REV_AHEAD);
  }

  g_assert_true (patches_history_undelete_doc (&store_funcs, store, "doc1", &removed, &error));
  g_assert_true (removed);
  g_assert_true (patches_history_undelete_doc (&store_funcs, store, "doc1", &removed, &error));
  g_assert_false (removed);
}

static void
test_error_helpers (void)
{
  g_autoptr(GError) other = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  g_autoptr(GError) dup = NULL;
  g_autoptr(GError) copy = NULL;
  const char *ids[] = { "a", "b", NULL };
  const char * const *got;

  g_assert_cmpint (patches_commit_error_get_status (other), ==, -32000);
  g_assert_null (patches_commit_error_get_data (other));
  g_assert_null (patches_commit_error_get_duplicate_ids (other));
  g_assert_cmpint (patches_commit_error_get_status (NULL), ==, -32000);

  patches_commit_set_duplicate_ids_error (&dup, "doc1", ids);
  copy = g_error_copy (dup);
  got = patches_commit_error_get_duplicate_ids (copy);
  g_assert_nonnull (got);
  g_assert_cmpstr (got[0], ==, "a");
  g_assert_cmpstr (got[1], ==, "b");
  g_assert_null (got[2]);
  patches_commit_set_duplicate_ids_error (NULL, "doc1", ids);
}

static void
change_unref0 (gpointer change)
{
  if (change != NULL)
    patches_change_unref (change);
}

static void
test_malformed (void)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func (change_unref0);
  g_autoptr(PatchesCommit) commit = NULL;
  PatchesCommitOptions options;
  g_autoptr(PatchesValue) weird = parse ("[1,2]");
  g_autoptr(PatchesValue) truthy = parse ("{\"forceCommit\":1,\"allowRootReplace\":\"\",\"historicalImport\":null}");

  /* A change without ops (and a NULL hole) is tolerated: nothing to
   * commit */
  g_ptr_array_add (changes, patches_change_new (NULL, -1, -1, NULL, -1));
  g_ptr_array_add (changes, NULL);
  commit = patches_commit_new ("doc1", changes, NULL, NULL, T0, NULL);
  g_assert_true (patches_commit_run (commit, &store_funcs, store, NULL));
  g_assert_cmpuint (store->log->len, ==, 0);
  assert_result (commit, "{\"changes\":[]}");

  patches_commit_options_from_value (&options, weird);
  g_assert_false (options.force_commit || options.allow_root_replace || options.historical_import);
  patches_commit_options_from_value (&options, truthy);
  g_assert_true (options.force_commit);
  g_assert_false (options.allow_root_replace);
  g_assert_false (options.historical_import);
  patches_commit_options_from_value (&options, NULL);
  g_assert_false (options.force_commit);
}

/* Property test: 2–4 clients, random interleavings */

typedef struct {
  gboolean   response;
  GPtrArray *changes;
} Msg;

typedef struct {
  char         *name;
  PatchesValue *state;
  gint64        rev;
  GPtrArray    *pending;
  GPtrArray    *in_flight;
  GQueue        inbox;
  guint         minted;
} Sim;

static void
msg_free (Msg *msg)
{
  g_ptr_array_unref (msg->changes);
  g_free (msg);
}

static gint64
text_length (PatchesValue *doc)
{
  PatchesValue *text = patches_value_object_get (doc, "text");
  PatchesValue *ops;
  gint64 len = 0;

  if (patches_value_get_kind (text) == PATCHES_VALUE_TEXT)
    return patches_text_get_length (patches_value_get_text (text));

  ops = patches_value_object_get (text, "ops");
  for (guint i = 0; i < patches_value_array_get_length (ops); i++)
    len += patches_value_get_string_len (patches_value_object_get (patches_value_array_get (ops, i), "insert"));
  return len;
}

static PatchesValue *
view_of (Sim *sim)
{
  PatchesValue *view = sim->state ? patches_value_ref (sim->state) : NULL;
  g_autoptr(GError) error = NULL;

  if (!patches_changes_apply (&view, sim->pending, &error))
    g_error ("%s's pending changes do not apply to its state: %s", sim->name, error->message);
  return view;
}

static char *
random_ops (GRand        *rand,
            PatchesValue *view)
{
  static const char *words[] = { "a", "bc", "def", "XY", " ", "z" };
  gint64 len = text_length (view);
  guint n_tags = patches_value_array_get_length (patches_value_object_get (view, "tags"));

  switch (g_rand_int_range (rand, 0, 8))
    {
    case 0:
    case 1:
      return g_strdup_printf ("[{\"op\":\"@txt\",\"path\":\"/text\",\"value\":[{\"retain\":%d},{\"insert\":\"%s\"}]}]",
                              g_rand_int_range (rand, 0, (gint32) len),
                              words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
    case 2:
      if (len > 2)
        {
          gint32 at = g_rand_int_range (rand, 0, (gint32) len - 1);
          gint32 n = g_rand_int_range (rand, 1, MIN (3, (gint32) len - 1 - at) + 1);

          return g_strdup_printf ("[{\"op\":\"@txt\",\"path\":\"/text\",\"value\":[{\"retain\":%d},{\"delete\":%d}]}]", at, n);
        }
      G_GNUC_FALLTHROUGH;
    case 3:
      return g_strdup_printf ("[{\"op\":\"@inc\",\"path\":\"/count\",\"value\":%d}]", g_rand_int_range (rand, 1, 5));
    case 4:
      return g_strdup_printf ("[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"t%d\"}]", g_rand_int_range (rand, 0, 100));
    case 5:
      return g_strdup_printf ("[{\"op\":\"add\",\"path\":\"/tags/%u\",\"value\":\"g%d\"}]",
                              g_rand_int_range (rand, 0, (gint32) n_tags + 1), g_rand_int_range (rand, 0, 100));
    case 6:
      if (n_tags > 0)
        return g_strdup_printf ("[{\"op\":\"remove\",\"path\":\"/tags/%d\"}]", g_rand_int_range (rand, 0, (gint32) n_tags));
      G_GNUC_FALLTHROUGH;
    default:
      return g_strdup_printf ("[{\"op\":\"@max\",\"path\":\"/max\",\"value\":%d},"
                              "{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"m\"}]",
                              g_rand_int_range (rand, 0, 50));
    }
}

static void
sim_edit (Sim   *sim,
          GRand *rand,
          gint64 now)
{
  g_autoptr(PatchesValue) view = view_of (sim);
  g_autofree char *ops_json = random_ops (rand, view);
  g_autoptr(PatchesValue) ops_value = parse (ops_json);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = g_strdup_printf ("%s-%03u", sim->name, ++sim->minted);
  PatchesChange *change;

  {
    g_autoptr(PatchesValue) wrapper = patches_value_new_object ();

    patches_value_object_set (wrapper, "id", patches_value_new_string (id));
    patches_value_object_set (wrapper, "ops", patches_value_ref (ops_value));
    change = patches_change_from_value (wrapper, &error);
    g_assert_no_error (error);
  }
  change->base_rev = sim->rev;
  change->rev = sim->rev + sim->pending->len + 1;
  change->created_at = (double) now;
  change->committed_at = 0;
  g_ptr_array_add (sim->pending, change);
}

static gpointer
change_ref_copy (gconstpointer src,
                 gpointer      data)
{
  return patches_change_ref ((PatchesChange *) src);
}

static guint n_commits;
static guint n_transformed;

static void
sim_send (Sim   *sim,
          Sim   *sims,
          guint  n_sims,
          Store *store,
          gint64 now)
{
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(PatchesCommit) commit = NULL;
  g_autoptr(GError) error = NULL;
  Msg *response;

  batch = g_ptr_array_copy (sim->pending, change_ref_copy, NULL);
  g_ptr_array_set_free_func (batch, (GDestroyNotify) patches_change_unref);

  commit = patches_commit_new ("doc", batch, NULL, sim->name, now, NULL);
  if (!patches_commit_run (commit, &log_funcs, store, &error))
    g_error ("commit from %s failed: %s", sim->name, error->message);

  n_commits++;
  if (patches_commit_get_catchup (commit)->len > 0)
    n_transformed++;

  response = g_new0 (Msg, 1);
  response->response = TRUE;
  response->changes = patches_changes_new ();
  for (guint i = 0; i < patches_commit_get_catchup (commit)->len; i++)
    g_ptr_array_add (response->changes, patches_change_ref (g_ptr_array_index (patches_commit_get_catchup (commit), i)));
  for (guint i = 0; i < patches_commit_get_new_changes (commit)->len; i++)
    g_ptr_array_add (response->changes, patches_change_ref (g_ptr_array_index (patches_commit_get_new_changes (commit), i)));
  g_queue_push_tail (&sim->inbox, response);

  if (patches_commit_get_new_changes (commit)->len > 0)
    for (guint i = 0; i < n_sims; i++)
      if (&sims[i] != sim)
        {
          Msg *broadcast = g_new0 (Msg, 1);

          broadcast->changes = g_ptr_array_ref (patches_commit_get_new_changes (commit));
          g_queue_push_tail (&sims[i].inbox, broadcast);
        }

  sim->in_flight = g_steal_pointer (&batch);
}

static void
sim_deliver (Sim *sim)
{
  Msg *msg = g_queue_pop_head (&sim->inbox);
  g_autoptr(GError) error = NULL;

  if (!patches_apply_committed_changes (&sim->state, &sim->rev, &sim->pending, msg->changes, FALSE, &error))
    g_error ("%s could not apply committed changes: %s", sim->name, error->message);

  if (msg->response)
    {
      g_autoptr(GHashTable) echoed = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr(GHashTable) drop = g_hash_table_new (g_str_hash, g_str_equal);
      GPtrArray *kept = patches_changes_new ();

      for (guint i = 0; i < msg->changes->len; i++)
        g_hash_table_add (echoed, ((PatchesChange *) g_ptr_array_index (msg->changes, i))->id);
      for (guint i = 0; i < sim->in_flight->len; i++)
        {
          char *id = ((PatchesChange *) g_ptr_array_index (sim->in_flight, i))->id;

          if (!g_hash_table_contains (echoed, id))
            g_hash_table_add (drop, id);
        }
      for (guint i = 0; i < sim->pending->len; i++)
        {
          PatchesChange *change = g_ptr_array_index (sim->pending, i);

          if (!g_hash_table_contains (drop, change->id))
            g_ptr_array_add (kept, patches_change_ref (change));
        }
      g_ptr_array_unref (sim->pending);
      sim->pending = kept;
      g_clear_pointer (&sim->in_flight, g_ptr_array_unref);
    }

  msg_free (msg);
}

static void
run_property_case (GRand *rand,
                   guint  index)
{
  g_autoptr(Store) store = store_new ();
  g_autoptr(PatchesValue) head = NULL;
  g_autoptr(GError) error = NULL;
  guint n_sims = g_rand_int_range (rand, 2, 5);
  guint n_steps = g_rand_int_range (rand, 6, 40);
  Sim *sims = g_new0 (Sim, n_sims);
  gint64 now = T0;

  {
    g_autoptr(PatchesCommit) boot = commit_ok (store, "boot",
      "[{\"id\":\"init\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"replace\",\"path\":\"\",\"value\":"
      "{\"title\":\"T\",\"count\":0,\"max\":0,\"tags\":[\"a\",\"b\"],\"text\":{\"ops\":[{\"insert\":\"hello world\\n\"}]}}}]}]",
      now);
    g_assert_true (patches_changes_apply (&head, store->log, &error));
  }

  for (guint i = 0; i < n_sims; i++)
    {
      sims[i].name = g_strdup_printf ("c%u", i);
      sims[i].state = patches_value_ref (head);
      sims[i].rev = 1;
      sims[i].pending = patches_changes_new ();
      g_queue_init (&sims[i].inbox);
    }

  for (guint step = 0; step < n_steps; step++)
    {
      Sim *sim = &sims[g_rand_int_range (rand, 0, n_sims)];
      guint what = g_rand_int_range (rand, 0, 10);

      now += g_rand_int_range (rand, 1, 2000);
      if (what < 4)
        sim_edit (sim, rand, now);
      else if (what < 7 && sim->in_flight == NULL && sim->pending->len > 0)
        sim_send (sim, sims, n_sims, store, now);
      else if (!g_queue_is_empty (&sim->inbox))
        sim_deliver (sim);
    }

  /* Drain: deliver everything, send what is left, until quiet */
  for (gboolean busy = TRUE; busy; )
    {
      busy = FALSE;
      for (guint i = 0; i < n_sims; i++)
        {
          Sim *sim = &sims[i];

          while (!g_queue_is_empty (&sim->inbox))
            {
              sim_deliver (sim);
              busy = TRUE;
            }
          if (sim->in_flight == NULL && sim->pending->len > 0)
            {
              now += 10;
              sim_send (sim, sims, n_sims, store, now);
              busy = TRUE;
            }
        }
    }

  g_clear_pointer (&head, patches_value_unref);
  if (!patches_changes_apply (&head, store->log, &error))
    g_error ("case %u: the log does not replay: %s", index, error->message);

  for (guint i = 0; i < store->log->len; i++)
    g_assert_cmpint (((PatchesChange *) g_ptr_array_index (store->log, i))->rev, ==, (gint64) i + 1);

  for (guint i = 0; i < n_sims; i++)
    {
      if (!patches_value_equal (sims[i].state, head))
        {
          g_autofree char *a = patches_value_to_json (sims[i].state);
          g_autofree char *b = patches_value_to_json (head);

          g_error ("case %u: %s diverged:\n  %s\nserver:\n  %s", index, sims[i].name, a, b);
        }
      g_assert_cmpint (sims[i].rev, ==, (gint64) store->log->len);
      g_assert_cmpuint (sims[i].pending->len, ==, 0);

      g_free (sims[i].name);
      g_clear_pointer (&sims[i].state, patches_value_unref);
      g_ptr_array_unref (sims[i].pending);
      g_queue_clear_full (&sims[i].inbox, (GDestroyNotify) msg_free);
    }
  g_free (sims);
}

static void
test_property_convergence (void)
{
  const char *seed_env = g_getenv ("PATCHES_TEST_SEED");
  guint32 seed = seed_env ? (guint32) g_ascii_strtoull (seed_env, NULL, 0) : (guint32) g_test_rand_int ();
  guint n_cases = 10000;
  g_autoptr(GRand) rand = NULL;

  if (g_strcmp0 (g_getenv ("PATCHES_LONG_TESTS"), "1") == 0)
    n_cases *= 100;

  g_test_message ("seed %u (PATCHES_TEST_SEED=%u to replay), %u cases", seed, seed, n_cases);

  rand = g_rand_new_with_seed (seed);
  for (guint i = 0; i < n_cases; i++)
    run_property_case (rand, i);

  g_test_message ("%u commits, %u of them over concurrent changes", n_commits, n_transformed);
  g_assert_cmpuint (n_transformed, >, n_cases / 10);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/commit/empty", test_empty);
  g_test_add_func ("/commit/first-commit", test_first_commit);
  g_test_add_func ("/commit/missing-fields", test_missing_fields);
  g_test_add_func ("/commit/stale-base-rev", test_stale_base_rev);
  g_test_add_func ("/commit/base-rev-ahead-409", test_base_rev_ahead);
  g_test_add_func ("/commit/inconsistent-base-rev-400", test_inconsistent_base_rev);
  g_test_add_func ("/commit/base-rev-zero-reload", test_base_rev_zero_reload);
  g_test_add_func ("/commit/base-rev-zero-continuation", test_base_rev_zero_continuation);
  g_test_add_func ("/commit/root-op-guard", test_root_op_guard);
  g_test_add_func ("/commit/resend-same-connection", test_resend_same_connection);
  g_test_add_func ("/commit/resend-new-connection", test_resend_new_connection);
  g_test_add_func ("/commit/resend-at-or-below-base-rev", test_resend_at_or_below_base_rev);
  g_test_add_func ("/commit/duplicate-within-request", test_duplicate_within_request);
  g_test_add_func ("/commit/noop-and-force-commit", test_noop_and_force_commit);
  g_test_add_func ("/commit/own-echo", test_own_echo);
  g_test_add_func ("/commit/no-connection-id", test_no_connection_id);
  g_test_add_func ("/commit/rev-conflict-retry", test_rev_conflict_retry);
  g_test_add_func ("/commit/pure-steps", test_pure_steps);
  g_test_add_func ("/commit/count-trigger", test_count_trigger);
  g_test_add_func ("/commit/sessions-and-metadata", test_sessions_and_metadata);
  g_test_add_func ("/commit/versioning-over-store", test_versioning_over_store);
  g_test_add_func ("/commit/get-doc-and-delete", test_get_doc_and_delete);
  g_test_add_func ("/commit/error-helpers", test_error_helpers);
  g_test_add_func ("/commit/malformed", test_malformed);
  g_test_add_func ("/commit/property/convergence", test_property_convergence);

  return g_test_run ();
}
