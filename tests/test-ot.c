/* test-ot.c: changes, rebase, committed changes, ejection and splitting
 *
 * The OPERATIONS.md §11, §12 and §14.5 examples, then property tests over
 * a seeded PRNG (the seed is printed; rerun with PATCHES_TEST_SEED=N;
 * PATCHES_LONG_TESTS=1 runs 100 times more cases).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches.h"
#include "patches-batch.h"
#include "patches-change.h"
#include "patches-ot.h"
#include "patches-patch-private.h"
#include "patches-test-util.h"

static guint
n_cases (guint base)
{
  return g_getenv ("PATCHES_LONG_TESTS") ? base * 100 : base;
}

static void
assert_changes_json (GPtrArray  *changes,
                     const char *expected)
{
  g_autoptr(PatchesValue) value = patches_changes_to_value (changes);

  patches_test_assert_value_json (value, expected);
}

static void
assert_ops_json (GPtrArray  *ops,
                 const char *expected)
{
  g_autoptr(PatchesValue) value = patches_ops_to_value (ops);

  patches_test_assert_value_json (value, expected);
}

static gboolean
is_base62_string (const char *s)
{
  for (; *s; s++)
    if (!g_ascii_isalnum (*s))
      return FALSE;
  return TRUE;
}

static PatchesChange *
change_at (GPtrArray *changes,
           guint      index)
{
  g_assert_cmpuint (index, <, changes->len);
  return g_ptr_array_index (changes, index);
}

/* Changes: JSON round trip and ids */

static void
test_change_round_trip (void)
{
  const char *json =
    "{\"id\":\"k3Vq9ZbT1mXa\",\"baseRev\":3,\"rev\":4,"
    "\"ops\":[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"Notes\"},"
    "{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b\"},"
    "{\"op\":\"add\",\"path\":\"/t\",\"value\":{},\"soft\":true}],"
    "\"createdAt\":1764230400123,\"committedAt\":0,\"userId\":\"u-17\","
    "\"extra\":{\"n\":0.1,\"big\":1e+21,\"s\":\"\\u001f\\u007f\\\"/é😀\"},"
    "\"batchId\":\"k3Vq9ZbT1mXa\",\"clientId\":\"c1\"}";
  g_autoptr(PatchesValue) value = patches_test_parse (json);
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesChange) change = patches_change_from_value (value, &error);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(PatchesChange) copy = NULL;
  g_autoptr(PatchesValue) back = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (change->id, ==, "k3Vq9ZbT1mXa");
  g_assert_cmpint (change->base_rev, ==, 3);
  g_assert_cmpint (change->rev, ==, 4);
  g_assert_cmpuint (change->ops->len, ==, 3);
  g_assert_cmpfloat (change->created_at, ==, 1764230400123.0);
  g_assert_cmpfloat (change->committed_at, ==, 0);
  g_assert_cmpstr (change->batch_id, ==, "k3Vq9ZbT1mXa");
  g_assert_cmpstr (change->client_id, ==, "c1");
  g_assert_nonnull (change->metadata);
  g_assert_cmpuint (patches_value_object_get_size (change->metadata), ==, 2);

  /* \u007f is written raw by JSON.stringify */
  patches_change_write_json (change, out);
  g_assert_cmpstr (out->str, ==,
    "{\"id\":\"k3Vq9ZbT1mXa\",\"baseRev\":3,\"rev\":4,"
    "\"ops\":[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"Notes\"},"
    "{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b\"},"
    "{\"op\":\"add\",\"path\":\"/t\",\"value\":{},\"soft\":true}],"
    "\"createdAt\":1764230400123,\"committedAt\":0,\"userId\":\"u-17\","
    "\"extra\":{\"n\":0.1,\"big\":1e+21,\"s\":\"\\u001f\x7f\\\"/é😀\"},"
    "\"batchId\":\"k3Vq9ZbT1mXa\",\"clientId\":\"c1\"}");
  g_assert_cmpuint (patches_change_json_size (change), ==, out->len);

  copy = patches_change_copy (change);
  g_assert_true (copy != change);
  g_assert_true (copy->ops != change->ops);
  back = patches_change_to_value (copy);
  g_assert_true (patches_value_equal (back, value));
}

static void
test_change_absent_and_null (void)
{
  g_autoptr(PatchesValue) value =
    patches_test_parse ("{\"id\":\"x\",\"baseRev\":null,\"ops\":[],\"batchId\":null,\"note\":null}");
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesChange) change = patches_change_from_value (value, &error);
  g_autoptr(PatchesValue) back = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (change->base_rev, ==, -1);
  g_assert_cmpint (change->rev, ==, -1);
  g_assert_cmpfloat (change->created_at, ==, -1);
  g_assert_null (change->batch_id);

  /* null fixed fields are dropped; null metadata is a real value */
  back = patches_change_to_value (change);
  patches_test_assert_value_json (back, "{\"id\":\"x\",\"ops\":[],\"note\":null}");
}

static void
test_change_invalid (void)
{
  const char *bad[] = {
    "[]",
    "{\"ops\":[]}",
    "{\"id\":5,\"ops\":[]}",
    "{\"id\":\"x\"}",
    "{\"id\":\"x\",\"ops\":{}}",
    "{\"id\":\"x\",\"ops\":[5]}",
    "{\"id\":\"x\",\"ops\":[],\"rev\":\"3\"}",
    "{\"id\":\"x\",\"ops\":[],\"rev\":1.5}",
    "{\"id\":\"x\",\"ops\":[],\"baseRev\":-1}",
    "{\"id\":\"x\",\"ops\":[],\"createdAt\":\"now\"}",
    "{\"id\":\"x\",\"ops\":[],\"clientId\":7}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(PatchesValue) value = patches_test_parse (bad[i]);
      g_autoptr(GError) error = NULL;
      g_autoptr(PatchesChange) change = patches_change_from_value (value, &error);

      g_assert_null (change);
      g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE);
    }
}

static void
test_change_ids (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *zero = patches_base62_encode (0);
  g_autofree char *big = patches_base62_encode (1234);
  g_autofree char *max = patches_base62_encode (G_MAXUINT64);
  g_autofree char *piece = patches_change_id_for_rev (1234);
  g_autoptr(PatchesChange) change = patches_change_new (NULL, 1, 2, NULL, 5);

  g_assert_cmpstr (zero, ==, "0");
  g_assert_cmpstr (big, ==, "Ju");
  g_assert_cmpstr (max, ==, "LygHa16AHYF");
  g_assert_cmpuint (strlen (piece), ==, 6);
  g_assert_true (g_str_has_prefix (piece, "Ju"));
  g_assert_true (is_base62_string (piece));

  g_assert_cmpuint (strlen (change->id), ==, 12);
  g_assert_cmpfloat (change->committed_at, ==, 0);
  g_assert_cmpuint (change->ops->len, ==, 0);

  for (guint i = 0; i < n_cases (10000); i++)
    {
      char *id = patches_change_id_new ();

      g_assert_cmpuint (strlen (id), ==, 12);
      g_assert_true (is_base62_string (id));
      g_assert_false (g_hash_table_contains (seen, id));
      g_hash_table_add (seen, id);
    }
}

/* applyChanges */

static void
test_apply_changes (void)
{
  g_autoptr(GPtrArray) changes = patches_test_parse_changes (
    "[{\"id\":\"a\",\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}]},"
    " {\"id\":\"b\",\"rev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/y\",\"value\":2},"
    "                              {\"op\":\"add\",\"path\":\"/arr/5\",\"value\":0}]},"
    " {\"id\":\"c\",\"rev\":3,\"ops\":[{\"op\":\"add\",\"path\":\"/z\",\"value\":3}]}]");
  g_autoptr(PatchesValue) original = patches_test_parse ("{\"arr\":[]}");
  g_autoptr(PatchesValue) state = patches_value_ref (original);
  g_autoptr(GPtrArray) empty = patches_changes_new ();
  g_autoptr(GError) error = NULL;
  guint skipped;

  g_assert_true (patches_changes_apply (&state, empty, &error));
  g_assert_no_error (error);
  g_assert_true (state == original);

  g_assert_false (patches_changes_apply (&state, changes, &error));
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_APPLY_CHANGES);
  g_assert_true (g_str_has_prefix (error->message,
                                   "Failed to apply change b (rev 2, index 1 of batch): "));
  /* untouched, even though change a applied before the failure */
  g_assert_true (state == original);
  patches_test_assert_value_json (state, "{\"arr\":[]}");

  /* reconstruction skips b whole (its first op too) and carries on */
  skipped = patches_changes_apply_for_reconstruction (&state, changes, FALSE, NULL, NULL);
  g_assert_cmpuint (skipped, ==, 1);
  patches_test_assert_value_json (state, "{\"arr\":[],\"x\":1,\"z\":3}");
  patches_test_assert_value_json (original, "{\"arr\":[]}");
}

/* rebaseChanges (§11.3, §14.5) */

static GPtrArray *
rebase_json (const char *committed,
             const char *pending)
{
  g_autoptr(GPtrArray) c = patches_test_parse_changes (committed);
  g_autoptr(GPtrArray) p = patches_test_parse_changes (pending);

  return patches_rebase_changes (c, p);
}

static PatchesValue *
apply_all (const char *doc,
           GPtrArray  *first,
           GPtrArray  *second)
{
  PatchesValue *state = patches_test_parse (doc);
  g_autoptr(GError) error = NULL;

  g_assert_true (patches_changes_apply (&state, first, &error));
  g_assert_no_error (error);
  if (second != NULL)
    {
      g_assert_true (patches_changes_apply (&state, second, &error));
      g_assert_no_error (error);
    }
  return state;
}

static void
test_rebase_array_shift (void)
{
  /* §14.5 #68 */
  g_autoptr(GPtrArray) result = rebase_json (
    "[{\"id\":\"s\",\"baseRev\":5,\"rev\":6,\"ops\":[{\"op\":\"add\",\"path\":\"/list/10\",\"value\":\"X\"}]}]",
    "[{\"id\":\"l1\",\"baseRev\":5,\"rev\":6,\"ops\":[{\"op\":\"remove\",\"path\":\"/list/0\"}]},"
    " {\"id\":\"l2\",\"baseRev\":5,\"rev\":7,\"ops\":[{\"op\":\"replace\",\"path\":\"/list/9\",\"value\":\"NEW\"}]}]");

  assert_changes_json (result,
    "[{\"id\":\"l1\",\"baseRev\":6,\"rev\":7,\"ops\":[{\"op\":\"remove\",\"path\":\"/list/0\"}]},"
    " {\"id\":\"l2\",\"baseRev\":6,\"rev\":8,\"ops\":[{\"op\":\"replace\",\"path\":\"/list/10\",\"value\":\"NEW\"}]}]");
}

static void
test_rebase_echo_position (void)
{
  /* §14.5 #69: the foreign change before the echo still meets own1 */
  g_autoptr(GPtrArray) result = rebase_json (
    "[{\"id\":\"f1\",\"baseRev\":3,\"rev\":4,\"ops\":[{\"op\":\"remove\",\"path\":\"/list/2\"}]},"
    " {\"id\":\"own1\",\"baseRev\":3,\"rev\":5,\"ops\":[{\"op\":\"remove\",\"path\":\"/list/0\"}]}]",
    "[{\"id\":\"own1\",\"baseRev\":3,\"rev\":4,\"ops\":[{\"op\":\"remove\",\"path\":\"/list/0\"}]},"
    " {\"id\":\"l2\",\"baseRev\":3,\"rev\":5,\"ops\":[{\"op\":\"replace\",\"path\":\"/list/1\",\"value\":\"C2\"}]}]");

  assert_changes_json (result,
    "[{\"id\":\"l2\",\"baseRev\":5,\"rev\":6,\"ops\":[{\"op\":\"add\",\"path\":\"/list/1\",\"value\":\"C2\"}]}]");
}

static void
test_rebase_echo_then_text (void)
{
  /* §14.5 #70 */
  g_autoptr(GPtrArray) committed = patches_test_parse_changes (
    "[{\"id\":\"L1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"X\"}]}]},"
    " {\"id\":\"S\",\"baseRev\":1,\"rev\":2,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":1},{\"delete\":1}]}]}]");
  g_autoptr(GPtrArray) pending = patches_test_parse_changes (
    "[{\"id\":\"L1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"X\"}]}]},"
    " {\"id\":\"L2\",\"baseRev\":0,\"rev\":2,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":2},{\"insert\":\"Y\"}]}]}]");
  g_autoptr(GPtrArray) result = patches_rebase_changes (committed, pending);
  g_autoptr(PatchesValue) state = NULL;

  g_assert_cmpuint (result->len, ==, 1);
  g_assert_cmpstr (change_at (result, 0)->id, ==, "L2");
  g_assert_cmpint (change_at (result, 0)->base_rev, ==, 2);
  g_assert_cmpint (change_at (result, 0)->rev, ==, 3);

  state = apply_all ("{\"t\":{\"ops\":[{\"insert\":\"abc\\n\"}]}}", committed, result);
  patches_test_assert_value_json (state, "{\"t\":{\"ops\":[{\"insert\":\"XYbc\\n\"}]}}");
}

static void
test_rebase_shared_echo (void)
{
  /* §14.5 #71 */
  g_autoptr(GPtrArray) result = rebase_json (
    "[{\"id\":\"s1\",\"baseRev\":2,\"rev\":3,\"ops\":[{\"op\":\"replace\",\"path\":\"/a\",\"value\":1}]},"
    " {\"id\":\"shared\",\"baseRev\":2,\"rev\":4,\"ops\":[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]},"
    " {\"id\":\"s2\",\"baseRev\":4,\"rev\":5,\"ops\":[{\"op\":\"replace\",\"path\":\"/c\",\"value\":3}]}]",
    "[{\"id\":\"l1\",\"baseRev\":2,\"rev\":3,\"ops\":[{\"op\":\"replace\",\"path\":\"/d\",\"value\":4}]},"
    " {\"id\":\"shared\",\"baseRev\":2,\"rev\":4,\"ops\":[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]},"
    " {\"id\":\"l2\",\"baseRev\":2,\"rev\":5,\"ops\":[{\"op\":\"replace\",\"path\":\"/e\",\"value\":5}]}]");

  assert_changes_json (result,
    "[{\"id\":\"l1\",\"baseRev\":5,\"rev\":6,\"ops\":[{\"op\":\"replace\",\"path\":\"/d\",\"value\":4}]},"
    " {\"id\":\"l2\",\"baseRev\":5,\"rev\":7,\"ops\":[{\"op\":\"replace\",\"path\":\"/e\",\"value\":5}]}]");
}

static void
test_rebase_text_examples (void)
{
  /* §11.3 worked example: no off-by-N */
  {
    g_autoptr(GPtrArray) committed = patches_test_parse_changes (
      "[{\"id\":\"S\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":1},{\"delete\":1}]}]}]");
    g_autoptr(GPtrArray) pending = patches_test_parse_changes (
      "[{\"id\":\"L1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":1},{\"insert\":\"12345\"}]}]},"
      " {\"id\":\"L2\",\"baseRev\":0,\"rev\":2,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":2},{\"delete\":1}]}]}]");
    g_autoptr(GPtrArray) result = patches_rebase_changes (committed, pending);
    g_autoptr(PatchesValue) state = apply_all ("{\"t\":{\"ops\":[{\"insert\":\"abc\\n\"}]}}", committed, result);

    patches_test_assert_value_json (state, "{\"t\":{\"ops\":[{\"insert\":\"a1345c\\n\"}]}}");
  }

  /* §11.3 same-offset inserts */
  {
    g_autoptr(GPtrArray) committed = patches_test_parse_changes (
      "[{\"id\":\"S\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"S\"}]}]}]");
    g_autoptr(GPtrArray) pending = patches_test_parse_changes (
      "[{\"id\":\"L1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"L\"}]}]},"
      " {\"id\":\"L2\",\"baseRev\":0,\"rev\":2,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":1},{\"insert\":\"M\"}]}]}]");
    g_autoptr(GPtrArray) result = patches_rebase_changes (committed, pending);
    g_autoptr(PatchesValue) state = apply_all ("{\"t\":{\"ops\":[{\"insert\":\"abc\\n\"}]}}", committed, result);

    assert_ops_json (change_at (result, 0)->ops,
                     "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":1},{\"insert\":\"L\"}]}]");
    assert_ops_json (change_at (result, 1)->ops,
                     "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":2},{\"insert\":\"M\"}]}]");
    patches_test_assert_value_json (state, "{\"t\":{\"ops\":[{\"insert\":\"SLMabc\\n\"}]}}");
  }

  /* §11.3 the one-frame-off quirk, reproduced */
  {
    g_autoptr(GPtrArray) committed = patches_test_parse_changes (
      "[{\"id\":\"S\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"z\"}]}]}]");
    g_autoptr(GPtrArray) pending = patches_test_parse_changes (
      "[{\"id\":\"L1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"XY\"}]}]},"
      " {\"id\":\"L2\",\"baseRev\":0,\"rev\":2,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":1},{\"delete\":1}]}]}]");
    g_autoptr(GPtrArray) result = patches_rebase_changes (committed, pending);
    g_autoptr(PatchesValue) state = apply_all ("{\"t\":{\"ops\":[{\"insert\":\"abc\\n\"}]}}", committed, result);

    patches_test_assert_value_json (state, "{\"t\":{\"ops\":[{\"insert\":\"zYabc\\n\"}]}}");
  }
}

static void
test_rebase_drops_empty (void)
{
  /* §11.3: a change transformed away uses no rev */
  g_autoptr(GPtrArray) result = rebase_json (
    "[{\"id\":\"s\",\"baseRev\":4,\"rev\":5,\"ops\":[{\"op\":\"remove\",\"path\":\"/item\"}]}]",
    "[{\"id\":\"l1\",\"baseRev\":4,\"rev\":5,\"ops\":[{\"op\":\"replace\",\"path\":\"/item/name\",\"value\":\"x\"}]},"
    " {\"id\":\"l2\",\"baseRev\":4,\"rev\":6,\"ops\":[{\"op\":\"add\",\"path\":\"/other\",\"value\":1}],\"userId\":\"u\"}]");

  assert_changes_json (result,
    "[{\"id\":\"l2\",\"baseRev\":5,\"rev\":6,\"ops\":[{\"op\":\"add\",\"path\":\"/other\",\"value\":1}],\"userId\":\"u\"}]");
}

static void
test_rebase_empty_lists (void)
{
  g_autoptr(GPtrArray) pending = patches_test_parse_changes (
    "[{\"id\":\"l1\",\"baseRev\":4,\"rev\":3,\"ops\":[]}]");
  g_autoptr(GPtrArray) none = patches_changes_new ();
  g_autoptr(GPtrArray) a = patches_rebase_changes (none, pending);
  g_autoptr(GPtrArray) b = patches_rebase_changes (pending, none);

  /* returned unchanged, even with odd revs and empty ops */
  g_assert_cmpuint (a->len, ==, 1);
  g_assert_true (g_ptr_array_index (a, 0) == g_ptr_array_index (pending, 0));
  g_assert_cmpuint (b->len, ==, 0);
}

/* transformIncomingChanges (§11.4, §14.5) */

static gboolean
echo_by_id (const PatchesChange *committed,
            gpointer             user_data)
{
  return g_strcmp0 (committed->id, user_data) == 0;
}

static void
test_transform_incoming (void)
{
  /* §14.5 #74 (D1) */
  {
    g_autoptr(GPtrArray) committed = patches_test_parse_changes (
      "[{\"id\":\"c1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/x\",\"value\":[9]},"
      "                                             {\"op\":\"move\",\"from\":\"/x\",\"path\":\"/z\"}]}]");
    g_autoptr(GPtrArray) incoming = patches_test_parse_changes (
      "[{\"id\":\"Q\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/x\",\"value\":5}]},"
      " {\"id\":\"E\",\"baseRev\":0,\"rev\":2,\"ops\":[{\"op\":\"remove\",\"path\":\"/z/2\"}]}]");
    g_autoptr(GPtrArray) advanced = NULL;
    g_autoptr(GPtrArray) result =
      patches_transform_incoming_changes (committed, incoming, 1, FALSE, NULL, NULL, &advanced);
    g_autoptr(PatchesValue) state = apply_all ("{\"z\":[1,2,3]}", committed, result);

    g_assert_cmpuint (result->len, ==, 1);
    g_assert_cmpstr (change_at (result, 0)->id, ==, "Q");
    g_assert_cmpint (change_at (result, 0)->base_rev, ==, 0);
    g_assert_cmpint (change_at (result, 0)->rev, ==, 2);
    patches_test_assert_value_json (state, "{\"x\":5,\"z\":[9]}");
    g_assert_cmpuint (advanced->len, ==, 1);
  }

  /* §14.5 #75 (D2b) */
  {
    g_autoptr(GPtrArray) committed = patches_test_parse_changes (
      "[{\"id\":\"c1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/arr/1\",\"value\":\"w\"}]}]");
    g_autoptr(GPtrArray) incoming = patches_test_parse_changes (
      "[{\"id\":\"a\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"replace\",\"path\":\"/arr/1\",\"value\":\"q\"}]},"
      " {\"id\":\"b\",\"baseRev\":0,\"rev\":2,\"ops\":[{\"op\":\"remove\",\"path\":\"/arr/2\"}]}]");
    g_autoptr(GPtrArray) result =
      patches_transform_incoming_changes (committed, incoming, 1, FALSE, NULL, NULL, NULL);
    g_autoptr(PatchesValue) state = apply_all ("{\"arr\":[\"a0\",\"a1\",\"a2\"]}", committed, result);

    assert_changes_json (result,
      "[{\"id\":\"a\",\"baseRev\":0,\"rev\":2,\"ops\":[{\"op\":\"replace\",\"path\":\"/arr/2\",\"value\":\"q\"}]},"
      " {\"id\":\"b\",\"baseRev\":0,\"rev\":3,\"ops\":[{\"op\":\"remove\",\"path\":\"/arr/3\"}]}]");
    patches_test_assert_value_json (state, "{\"arr\":[\"a0\",\"w\",\"q\"]}");
  }

  /* own echoes by predicate; forceCommit keeps empty changes */
  {
    g_autoptr(GPtrArray) committed = patches_test_parse_changes (
      "[{\"id\":\"f\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"remove\",\"path\":\"/obj\"}]},"
      " {\"id\":\"mine\",\"baseRev\":0,\"rev\":2,\"ops\":[{\"op\":\"add\",\"path\":\"/m\",\"value\":1}]}]");
    g_autoptr(GPtrArray) incoming = patches_test_parse_changes (
      "[{\"id\":\"mine\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/m\",\"value\":1}]},"
      " {\"id\":\"gone\",\"baseRev\":0,\"rev\":2,\"ops\":[{\"op\":\"replace\",\"path\":\"/obj/a\",\"value\":1}]},"
      " {\"id\":\"kept\",\"baseRev\":0,\"rev\":3,\"ops\":[{\"op\":\"add\",\"path\":\"/k\",\"value\":2}]}]");
    g_autoptr(GPtrArray) dropped =
      patches_transform_incoming_changes (committed, incoming, 2, FALSE, echo_by_id, (gpointer) "mine", NULL);
    g_autoptr(GPtrArray) forced =
      patches_transform_incoming_changes (committed, incoming, 2, TRUE, echo_by_id, (gpointer) "mine", NULL);

    assert_changes_json (dropped,
      "[{\"id\":\"kept\",\"baseRev\":0,\"rev\":3,\"ops\":[{\"op\":\"add\",\"path\":\"/k\",\"value\":2}]}]");
    assert_changes_json (forced,
      "[{\"id\":\"gone\",\"baseRev\":0,\"rev\":3,\"ops\":[]},"
      " {\"id\":\"kept\",\"baseRev\":0,\"rev\":4,\"ops\":[{\"op\":\"add\",\"path\":\"/k\",\"value\":2}]}]");
  }
}

/* applyCommittedChanges (§11.5, §14.5) */

static void
test_apply_committed_gaps (void)
{
  g_autoptr(PatchesValue) state = patches_test_parse ("{\"text\":\"hello\"}");
  g_autoptr(GPtrArray) pending = patches_test_parse_changes (
    "[{\"id\":\"p\",\"baseRev\":2,\"rev\":3,\"ops\":[{\"op\":\"replace\",\"path\":\"/text\",\"value\":\"mine\"}]}]");
  GPtrArray *original_pending = pending;
  gint64 rev = 2;
  g_autoptr(GError) error = NULL;

  /* §14.5 #72: a leading gap */
  {
    g_autoptr(GPtrArray) committed = patches_test_parse_changes (
      "[{\"id\":\"c4\",\"baseRev\":3,\"rev\":4,\"ops\":[{\"op\":\"replace\",\"path\":\"/text\",\"value\":\"w\"}]}]");

    g_assert_false (patches_apply_committed_changes (&state, &rev, &pending, committed, FALSE, &error));
    g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_MISSING_CHANGES);
    g_assert_cmpstr (error->message, ==,
                     "Missing changes from the server. Expected rev 3, got 4. Request changes since 2.");
    g_assert_cmpint (rev, ==, 2);
    g_assert_true (pending == original_pending);
    g_clear_error (&error);
  }

  /* an interior gap: accepted by the helper, rejected by the live path */
  {
    g_autoptr(PatchesValue) s = patches_test_parse ("{\"title\":\"a\"}");
    g_autoptr(GPtrArray) p = patches_changes_new ();
    g_autoptr(GPtrArray) committed = patches_test_parse_changes (
      "[{\"id\":\"S6\",\"baseRev\":5,\"rev\":6,\"ops\":[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"b\"}]},"
      " {\"id\":\"S8\",\"baseRev\":7,\"rev\":8,\"ops\":[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"c\"}]}]");
    gint64 r = 5;

    g_assert_false (patches_apply_committed_changes (&s, &r, &p, committed, TRUE, &error));
    g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_MISSING_CHANGES);
    g_assert_cmpstr (error->message, ==,
                     "Missing changes from the server. Expected rev 7, got 8. Request changes since 5.");
    g_clear_error (&error);

    g_assert_true (patches_apply_committed_changes (&s, &r, &p, committed, FALSE, &error));
    g_assert_no_error (error);
    g_assert_cmpint (r, ==, 8);
    patches_test_assert_value_json (s, "{\"title\":\"c\"}");
  }

  /* §14.5 #72: a root replace may skip revs and empties the queue */
  {
    g_autoptr(GPtrArray) committed = patches_test_parse_changes (
      "[{\"id\":\"c10\",\"baseRev\":9,\"rev\":10,\"ops\":[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"text\":\"server\"}}]}]");

    g_assert_true (patches_apply_committed_changes (&state, &rev, &pending, committed, TRUE, &error));
    g_assert_no_error (error);
    g_assert_cmpint (rev, ==, 10);
    g_assert_cmpuint (pending->len, ==, 0);
    patches_test_assert_value_json (state, "{\"text\":\"server\"}");
  }
}

static void
test_apply_committed_echoes (void)
{
  g_autoptr(GError) error = NULL;

  /* §14.5 #73: a redelivered own change confirms the pending copy */
  {
    g_autoptr(PatchesValue) state = patches_test_parse ("{\"a\":1}");
    g_autoptr(GPtrArray) pending = patches_test_parse_changes (
      "[{\"id\":\"own-change-1\",\"baseRev\":28794,\"rev\":28795,\"ops\":[{\"op\":\"replace\",\"path\":\"/a\",\"value\":2}]}]");
    g_autoptr(GPtrArray) committed = patches_test_parse_changes (
      "[{\"id\":\"own-change-1\",\"baseRev\":28794,\"rev\":28795,\"ops\":[{\"op\":\"replace\",\"path\":\"/a\",\"value\":2}]}]");
    gint64 rev = 28795;

    g_assert_true (patches_apply_committed_changes (&state, &rev, &pending, committed, FALSE, &error));
    g_assert_no_error (error);
    g_assert_cmpint (rev, ==, 28795);
    g_assert_cmpuint (pending->len, ==, 0);
    patches_test_assert_value_json (state, "{\"a\":1}");
  }

  /* an echo among new changes is applied once and leaves the queue */
  {
    g_autoptr(PatchesValue) state = patches_test_parse ("{\"n\":[]}");
    g_autoptr(GPtrArray) pending = patches_test_parse_changes (
      "[{\"id\":\"L1\",\"baseRev\":5,\"rev\":6,\"ops\":[{\"op\":\"add\",\"path\":\"/n/0\",\"value\":\"mine\"}]},"
      " {\"id\":\"L2\",\"baseRev\":5,\"rev\":7,\"ops\":[{\"op\":\"add\",\"path\":\"/n/1\",\"value\":\"next\"}]}]");
    g_autoptr(GPtrArray) committed = patches_test_parse_changes (
      "[{\"id\":\"S6\",\"baseRev\":5,\"rev\":6,\"ops\":[{\"op\":\"add\",\"path\":\"/n/0\",\"value\":\"theirs\"}]},"
      " {\"id\":\"L1\",\"baseRev\":5,\"rev\":7,\"ops\":[{\"op\":\"add\",\"path\":\"/n/1\",\"value\":\"mine\"}]}]");
    gint64 rev = 5;

    g_assert_true (patches_apply_committed_changes (&state, &rev, &pending, committed, TRUE, &error));
    g_assert_no_error (error);
    g_assert_cmpint (rev, ==, 7);
    g_assert_cmpuint (pending->len, ==, 1);
    g_assert_cmpstr (change_at (pending, 0)->id, ==, "L2");
    g_assert_cmpint (change_at (pending, 0)->base_rev, ==, 7);
    g_assert_cmpint (change_at (pending, 0)->rev, ==, 8);
    patches_test_assert_value_json (state, "{\"n\":[\"theirs\",\"mine\"]}");
  }

  /* an apply failure changes nothing */
  {
    g_autoptr(PatchesValue) state = patches_test_parse ("{\"arr\":[1,2,3]}");
    PatchesValue *before = state;
    g_autoptr(GPtrArray) pending = patches_changes_new ();
    g_autoptr(GPtrArray) committed = patches_test_parse_changes (
      "[{\"id\":\"S6\",\"baseRev\":5,\"rev\":6,\"ops\":[{\"op\":\"add\",\"path\":\"/arr/5\",\"value\":\"bad\"}]}]");
    gint64 rev = 5;

    g_assert_false (patches_apply_committed_changes (&state, &rev, &pending, committed, FALSE, &error));
    g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_APPLY_CHANGES);
    g_assert_true (g_str_has_prefix (error->message, "Failed to apply change S6 (rev 6, index 0 of batch): "));
    g_assert_true (state == before);
    g_assert_cmpint (rev, ==, 5);
  }
}

/* applyPendingForView */

static void
test_pending_for_view (void)
{
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(PatchesValue) state = patches_test_parse ("{\"a\":[]}");
    g_autoptr(GPtrArray) pending = patches_test_parse_changes (
      "[{\"id\":\"old\",\"baseRev\":3,\"rev\":6,\"ops\":[{\"op\":\"add\",\"path\":\"/a/4\",\"value\":1}]},"
      " {\"id\":\"cur\",\"baseRev\":5,\"rev\":7,\"ops\":[{\"op\":\"add\",\"path\":\"/b\",\"value\":2}]}]");

    g_assert_true (patches_apply_pending_for_view (&state, 5, pending, &error));
    g_assert_no_error (error);
    patches_test_assert_value_json (state, "{\"a\":[],\"b\":2}");
  }

  {
    g_autoptr(PatchesValue) state = patches_test_parse ("{\"a\":[]}");
    g_autoptr(GPtrArray) pending = patches_test_parse_changes (
      "[{\"id\":\"bad\",\"baseRev\":5,\"rev\":6,\"ops\":[{\"op\":\"add\",\"path\":\"/a/4\",\"value\":1}]}]");

    g_assert_false (patches_apply_pending_for_view (&state, 5, pending, &error));
    g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_APPLY_CHANGES);
    patches_test_assert_value_json (state, "{\"a\":[]}");
  }
}

/* computePendingEjection (§11.6) */

static void
test_ejection (void)
{
  g_autoptr(PatchesValue) committed = patches_test_parse ("{\"t\":{\"ops\":[{\"insert\":\"hello\\n\"}]}}");
  g_autoptr(GPtrArray) pending = patches_test_parse_changes (
    "[{\"id\":\"p1\",\"baseRev\":4,\"rev\":5,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"XXX\"}]}]},"
    " {\"id\":\"p2\",\"baseRev\":4,\"rev\":6,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":3},{\"insert\":\"Y\"}]}]}]");
  g_autoptr(PatchesChange) poison = NULL;
  g_autoptr(GPtrArray) new_pending = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) view = NULL;

  g_assert_true (patches_compute_pending_ejection (committed, 4, pending, "nope",
                                                   &poison, &new_pending, &error));
  g_assert_null (poison);
  g_assert_null (new_pending);

  g_assert_true (patches_compute_pending_ejection (committed, 4, pending, "p1",
                                                   &poison, &new_pending, &error));
  g_assert_no_error (error);
  g_assert_true (poison == g_ptr_array_index (pending, 0));
  g_assert_cmpuint (new_pending->len, ==, 1);
  g_assert_cmpstr (change_at (new_pending, 0)->id, ==, "p2");
  g_assert_cmpint (change_at (new_pending, 0)->base_rev, ==, 4);
  g_assert_cmpint (change_at (new_pending, 0)->rev, ==, 5);

  view = patches_value_ref (committed);
  g_assert_true (patches_changes_apply (&view, new_pending, &error));
  patches_test_assert_value_json (view, "{\"t\":{\"ops\":[{\"insert\":\"Yhello\\n\"}]}}");
  g_clear_pointer (&poison, patches_change_unref);
  g_clear_pointer (&new_pending, g_ptr_array_unref);

  /* the last change: nothing to rebase, earlier ones renumbered */
  g_assert_true (patches_compute_pending_ejection (committed, 4, pending, "p2",
                                                   &poison, &new_pending, &error));
  g_assert_cmpuint (new_pending->len, ==, 1);
  g_assert_cmpstr (change_at (new_pending, 0)->id, ==, "p1");
  g_assert_cmpint (change_at (new_pending, 0)->rev, ==, 5);
  g_clear_pointer (&poison, patches_change_unref);
  g_clear_pointer (&new_pending, g_ptr_array_unref);

  /* a poison that does not apply to its own frame cannot be ejected */
  {
    g_autoptr(GPtrArray) bad = patches_test_parse_changes (
      "[{\"id\":\"b1\",\"baseRev\":4,\"rev\":5,\"ops\":[{\"op\":\"move\",\"from\":\"/no/such\",\"path\":\"/x\"}]},"
      " {\"id\":\"b2\",\"baseRev\":4,\"rev\":6,\"ops\":[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}]}]");

    g_assert_false (patches_compute_pending_ejection (committed, 4, bad, "b1",
                                                      &poison, &new_pending, &error));
    g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_CANNOT_INVERT);
    g_assert_cmpstr (error->message, ==,
                     "Cannot eject change b1: it does not apply cleanly to its own frame, "
                     "so its inverse cannot be trusted");
  }
}

/* breakChanges / breakChangesIntoBatches (§12, §14.5) */

typedef struct {
  guint n_reports;
  guint n_refused;
} ReportCount;

static void
count_report (const PatchesOversizedOpReport *report,
              gpointer                        user_data)
{
  ReportCount *count = user_data;

  count->n_reports++;
  if (!report->emitted)
    count->n_refused++;
}

static void
test_break_text_example (void)
{
  /* §12.2: 10 pieces, including raw no-op retains */
  g_autoptr(GString) json = g_string_new (
    "[{\"id\":\"c1\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":"
    "[{\"retain\":5},{\"insert\":\"");
  const gint64 starts[] = { 0, 5, 53, 101, 149, 155, 157, 203, 249, 295 };
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GPtrArray) pieces = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) whole = NULL;
  g_autoptr(PatchesValue) split = NULL;

  for (guint i = 0; i < 150; i++)
    g_string_append_c (json, 'x');
  g_string_append (json, "\"},{\"retain\":2},{\"insert\":\"");
  for (guint i = 0; i < 150; i++)
    g_string_append_c (json, 'y');
  g_string_append (json, "\"}]}],\"createdAt\":1,\"committedAt\":0}]");

  changes = patches_test_parse_changes (json->str);
  g_assert_cmpuint (patches_change_json_size (change_at (changes, 0)), ==, 459);
  pieces = patches_break_changes (changes, 200, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pieces->len, ==, G_N_ELEMENTS (starts));

  for (guint i = 0; i < pieces->len; i++)
    {
      PatchesChange *piece = change_at (pieces, i);
      PatchesOp *op = g_ptr_array_index (piece->ops, 0);
      PatchesValue *first = patches_value_array_get (op->value, 0);

      g_assert_cmpint (piece->rev, ==, 1 + i);
      if (i == 0)
        g_assert_cmpstr (piece->id, ==, "c1");
      else
        {
          g_autofree char *prefix = patches_base62_encode (1 + i);

          g_assert_true (g_str_has_prefix (piece->id, prefix));
          g_assert_cmpuint (strlen (piece->id), ==, strlen (prefix) + 4);
        }
      if (starts[i] > 0)
        g_assert_cmpfloat (patches_value_get_number (patches_value_object_get (first, "retain")),
                           ==, (double) starts[i]);
      g_assert_cmpuint (patches_change_json_size (piece), <=, 200);
    }

  assert_ops_json (change_at (pieces, 0)->ops,
                   "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":5}]}]");
  assert_ops_json (change_at (pieces, 5)->ops,
                   "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":155},{\"retain\":2}]}]");

  /* applying the pieces in order equals applying the change */
  whole = apply_all ("{\"t\":{\"ops\":[{\"insert\":\"0123456789\\n\"}]}}", changes, NULL);
  split = apply_all ("{\"t\":{\"ops\":[{\"insert\":\"0123456789\\n\"}]}}", pieces, NULL);
  g_assert_true (patches_value_equal (whole, split));
}

static void
test_break_rev_shift (void)
{
  /* §14.5 #76 */
  g_autoptr(GString) big = g_string_new (NULL);
  g_autofree char *json = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GPtrArray) pieces = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 120; i++)
    g_string_append_c (big, 'v');
  json = g_strdup_printf (
    "[{\"id\":\"first\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"replace\",\"path\":\"/a\",\"value\":\"%s\"},"
    "{\"op\":\"replace\",\"path\":\"/b\",\"value\":\"%s\"}],\"createdAt\":1,\"committedAt\":0},"
    "{\"id\":\"second\",\"baseRev\":0,\"rev\":2,\"ops\":[{\"op\":\"replace\",\"path\":\"/c\",\"value\":1}],"
    "\"createdAt\":1,\"committedAt\":0}]", big->str, big->str);
  changes = patches_test_parse_changes (json);

  pieces = patches_break_changes (changes, 250, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pieces->len, ==, 3);
  g_assert_cmpstr (change_at (pieces, 0)->id, ==, "first");
  g_assert_true (g_str_has_prefix (change_at (pieces, 1)->id, "2"));
  g_assert_cmpstr (change_at (pieces, 2)->id, ==, "second");
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (change_at (pieces, i)->rev, ==, 1 + i);
}

static void
test_break_two_passes (void)
{
  /* §12.1: storage 330 then payload 250 */
  g_autoptr(GString) v = g_string_new (NULL);
  g_autoptr(GString) json = g_string_new ("[");
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GPtrArray) batches = NULL;
  g_autoptr(GError) error = NULL;
  PatchesSplitOptions options = { .max_payload_bytes = 250, .max_storage_bytes = 330 };
  const char *ids[] = { "first", "2", "2", "second", "5", "4" };
  guint n = 0;

  for (guint i = 0; i < 60; i++)
    g_string_append_c (v, 'v');
  for (guint c = 0; c < 2; c++)
    g_string_append_printf (json,
      "%s{\"id\":\"%s\",\"baseRev\":0,\"rev\":%u,\"ops\":["
      "{\"op\":\"replace\",\"path\":\"/k0\",\"value\":\"%s\"},"
      "{\"op\":\"replace\",\"path\":\"/k1\",\"value\":\"%s\"},"
      "{\"op\":\"replace\",\"path\":\"/k2\",\"value\":\"%s\"}],\"createdAt\":1,\"committedAt\":0}",
      c ? "," : "", c ? "second" : "first", c + 1, v->str, v->str, v->str);
  g_string_append_c (json, ']');
  changes = patches_test_parse_changes (json->str);

  batches = patches_break_changes_into_batches (changes, &options, &error);
  g_assert_no_error (error);
  for (guint b = 0; b < batches->len; b++)
    {
      GPtrArray *batch = g_ptr_array_index (batches, b);

      for (guint i = 0; i < batch->len; i++, n++)
        {
          PatchesChange *change = change_at (batch, i);

          g_assert_cmpuint (n, <, G_N_ELEMENTS (ids));
          g_assert_cmpint (change->rev, ==, n + 1);
          g_assert_cmpstr (change->batch_id, ==, "first");
          if (strlen (ids[n]) > 1)
            g_assert_cmpstr (change->id, ==, ids[n]);
          else
            {
              g_assert_true (g_str_has_prefix (change->id, ids[n]));
              g_assert_cmpuint (strlen (change->id), ==, 5);
            }
        }
    }
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (ids));
}

static void
test_batches_ids_and_empty (void)
{
  /* §14.5 #77 */
  g_autoptr(GPtrArray) none = patches_changes_new ();
  g_autoptr(GPtrArray) empty_batches = NULL;
  g_autoptr(GPtrArray) changes = patches_test_parse_changes (
    "[{\"id\":\"c1\",\"baseRev\":3,\"rev\":4,\"ops\":[{\"op\":\"replace\",\"path\":\"/a\",\"value\":1}],\"createdAt\":1,\"committedAt\":0},"
    " {\"id\":\"c2\",\"baseRev\":3,\"rev\":5,\"ops\":[{\"op\":\"replace\",\"path\":\"/b\",\"value\":\"two\"}],\"createdAt\":1,\"committedAt\":0}]");
  PatchesSplitOptions options = { .max_payload_bytes = 150 };
  PatchesSplitOptions roomy = { .max_payload_bytes = 1000 };
  g_autoptr(GError) error = NULL;

  empty_batches = patches_break_changes_into_batches (none, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (empty_batches->len, ==, 1);
  g_assert_cmpuint (((GPtrArray *) g_ptr_array_index (empty_batches, 0))->len, ==, 0);

  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(GPtrArray) batches = patches_break_changes_into_batches (changes, &options, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (batches->len, ==, 2);
      for (guint b = 0; b < batches->len; b++)
        {
          GPtrArray *batch = g_ptr_array_index (batches, b);

          g_assert_cmpuint (batch->len, ==, 1);
          g_assert_cmpstr (change_at (batch, 0)->batch_id, ==, "c1");
        }
    }

  /* fits: one batch, unchanged, no batchId */
  {
    g_autoptr(GPtrArray) batches = patches_break_changes_into_batches (changes, &roomy, &error);
    GPtrArray *batch = g_ptr_array_index (batches, 0);

    g_assert_cmpuint (batches->len, ==, 1);
    g_assert_true (g_ptr_array_index (batch, 0) == g_ptr_array_index (changes, 0));
    g_assert_null (change_at (batch, 1)->batch_id);
  }
}

static void
test_break_extract_text (void)
{
  /* §14.5 #78 */
  g_autoptr(GPtrArray) changes = patches_test_parse_changes (
    "[{\"id\":\"v\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"replace\",\"path\":\"\",\"value\":"
    "{\"docs\":{\"scene1\":{\"body\":{\"content\":{\"ops\":[{\"insert\":\"This is the whole text\\n\"}]}}}}}}],"
    "\"createdAt\":1,\"committedAt\":0}]");
  gsize size = patches_change_json_size (change_at (changes, 0));
  g_autoptr(GPtrArray) pieces = NULL;
  g_autoptr(GError) error = NULL;

  pieces = patches_break_changes (changes, size - 1, NULL, &error);
  g_assert_no_error (error);
  /* the structural replace with a stub, then the text as its own piece */
  g_assert_cmpuint (pieces->len, ==, 2);
  g_assert_cmpstr (change_at (pieces, 0)->id, ==, "v");
  g_assert_true (g_str_has_prefix (change_at (pieces, 1)->id, "2"));
  assert_ops_json (change_at (pieces, 0)->ops,
    "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"docs\":{\"scene1\":{\"body\":{\"content\":{}}}}}}]");
  assert_ops_json (change_at (pieces, 1)->ops,
    "[{\"op\":\"@txt\",\"path\":\"/docs/scene1/body/content\",\"value\":[{\"insert\":\"This is the whole text\\n\"}]}]");

  /* §12.3 quirk: sibling keys of the text object are lost */
  {
    g_autoptr(GPtrArray) quirk = patches_test_parse_changes (
      "[{\"id\":\"q\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"replace\",\"path\":\"/d\",\"value\":"
      "{\"title\":\"T\",\"body\":{\"ops\":[{\"insert\":\"hello world\\n\"}],\"meta\":1}}}],"
      "\"createdAt\":1,\"committedAt\":0}]");
    g_autoptr(GPtrArray) split = patches_break_changes (
      quirk, patches_change_json_size (change_at (quirk, 0)) - 1, NULL, &error);
    g_autoptr(PatchesValue) state = apply_all ("{}", split, NULL);

    g_assert_no_error (error);
    patches_test_assert_value_json (state,
      "{\"d\":{\"title\":\"T\",\"body\":{\"ops\":[{\"insert\":\"hello world\\n\\n\"}]}}}");
  }
}

static void
test_break_unsplittable (void)
{
  g_autoptr(GString) blob = g_string_new (NULL);
  g_autofree char *json = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GError) error = NULL;
  ReportCount count = { 0 };
  PatchesSplitOptions options = { .oversized_func = count_report, .oversized_data = &count };

  for (guint i = 0; i < 600; i++)
    g_string_append_c (blob, 'b');
  json = g_strdup_printf (
    "[{\"id\":\"u\",\"baseRev\":0,\"rev\":1,\"ops\":[{\"op\":\"replace\",\"path\":\"/blob\",\"value\":\"%s\"}],"
    "\"createdAt\":1,\"committedAt\":0}]", blob->str);
  changes = patches_test_parse_changes (json);

  {
    g_autoptr(GPtrArray) pieces = patches_break_changes (changes, 200, &options, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (pieces->len, ==, 1);
    g_assert_cmpuint (count.n_reports, ==, 1);
    g_assert_cmpuint (count.n_refused, ==, 0);
    /* the emitted piece got a generated id, then the original one back */
    g_assert_cmpstr (change_at (pieces, 0)->id, ==, "u");
  }

  options.max_unsplittable_bytes = 400;
  {
    g_autoptr(GPtrArray) pieces = patches_break_changes (changes, 200, &options, &error);
    g_autofree char *expected = NULL;
    gsize bytes;

    g_assert_null (pieces);
    g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_UNSPLITTABLE);
    g_assert_cmpuint (count.n_refused, ==, 1);
    /* measured on the piece, whose generated id is 1 + 4 characters */
    bytes = patches_change_json_size (change_at (changes, 0)) + 4;
    expected = g_strdup_printf ("Operation replace at \"/blob\" is %" G_GSIZE_FORMAT
                                " bytes, cannot be split, and exceeds the 400-byte limit", bytes);
    g_assert_cmpstr (error->message, ==, expected);
  }
}

/* A size calculator: half the JSON size, so the verify passes run. */
static double
half_size (const PatchesChange *change,
           gpointer             user_data)
{
  guint *calls = user_data;

  (*calls)++;
  return patches_change_json_size (change) * 0.5;
}

static void
test_break_size_calculator (void)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *json = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GPtrArray) pieces = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) whole = NULL;
  g_autoptr(PatchesValue) split = NULL;
  guint calls = 0;
  PatchesSplitOptions options = { .size_func = half_size, .size_data = &calls };

  for (guint i = 0; i < 2000; i++)
    g_string_append_c (text, 'a' + i % 26);
  json = g_strdup_printf (
    "[{\"id\":\"z\",\"baseRev\":0,\"rev\":7,\"ops\":[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"%s\"}]}],"
    "\"createdAt\":1,\"committedAt\":0}]", text->str);
  changes = patches_test_parse_changes (json);

  pieces = patches_break_changes (changes, 300, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pieces->len, >, 1);
  g_assert_cmpuint (calls, >, 0);
  for (guint i = 0; i < pieces->len; i++)
    {
      g_assert_cmpint (change_at (pieces, i)->rev, ==, 7 + i);
      g_assert_cmpfloat (half_size (change_at (pieces, i), &calls), <=, 300);
    }
  g_assert_cmpstr (change_at (pieces, 0)->id, ==, "z");

  whole = apply_all ("{}", changes, NULL);
  split = apply_all ("{}", pieces, NULL);
  g_assert_true (patches_value_equal (whole, split));
}

/* Property tests */

#define property_check(cond, seed, ...)                                          \
  G_STMT_START {                                                                 \
    if (!(cond))                                                                 \
      {                                                                          \
        g_test_message ("property failed with seed %u "                          \
                        "(rerun with PATCHES_TEST_SEED=%u): ", seed, seed);      \
        g_test_message (__VA_ARGS__);                                            \
        g_assert_true (cond);                                                    \
      }                                                                          \
  } G_STMT_END

static guint32
property_seed (void)
{
  const char *env = g_getenv ("PATCHES_TEST_SEED");

  if (env != NULL)
    return (guint32) g_ascii_strtoull (env, NULL, 10);

  return (guint32) g_test_rand_int ();
}

static const char *const text_pieces[] = {
  "a", "b", "c", " ", "x", "é", "ß", "中", "😀", "🎉", "\"", "\\", "/", "\n", "\t", "\x01", "\x7f",
  "\xe2\x80\xa8",
};

static void
append_random_text (GRand   *rand,
                    GString *out,
                    guint    max_units)
{
  guint n = g_rand_int_range (rand, 0, max_units + 1);

  for (guint i = 0; i < n; i++)
    {
      /* mostly ASCII letters, sometimes anything from the list */
      if (g_rand_int_range (rand, 0, 4) != 0)
        g_string_append_c (out, 'a' + g_rand_int_range (rand, 0, 26));
      else
        g_string_append (out, text_pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (text_pieces))]);
    }
}

static PatchesValue *
random_string_value (GRand *rand,
                     guint  max_units)
{
  g_autoptr(GString) s = g_string_new (NULL);

  append_random_text (rand, s, max_units);
  return patches_value_new_string (s->str);
}

/* No newline: delta edits below never touch the final "\n". */
static PatchesValue *
random_line_value (GRand *rand,
                   guint  max_units)
{
  g_autoptr(GString) s = g_string_new (NULL);

  append_random_text (rand, s, max_units);
  for (char *p = s->str; *p; p++)
    if (*p == '\n')
      *p = ' ';
  return patches_value_new_string (s->str);
}

/* Code points of a text as UTF-16 widths (1 or 2), so that generated
 * retains and deletes never cut a surrogate pair. */
static void
insert_widths (GArray     *widths,
               guint       pos,
               const char *utf8)
{
  guint at = pos;

  for (const char *p = utf8; *p; p = g_utf8_next_char (p))
    {
      guint8 w = g_utf8_get_char (p) > 0xffff ? 2 : 1;

      g_array_insert_val (widths, at, w);
      at++;
    }
}

static gint64
sum_widths (GArray *widths,
            guint   pos,
            guint   count)
{
  gint64 units = 0;

  for (guint i = pos; i < pos + count; i++)
    units += g_array_index (widths, guint8, i);
  return units;
}

static PatchesValue *
delta_op_new (const char   *key,
              PatchesValue *value,
              gboolean      bold)
{
  PatchesValue *op = patches_value_new_object ();

  patches_value_object_set (op, key, value);
  if (bold)
    {
      PatchesValue *attributes = patches_value_new_object ();

      patches_value_object_set (attributes, "bold", patches_value_new_bool (TRUE));
      patches_value_object_set (op, "attributes", attributes);
    }
  return op;
}

/* A `@txt` change valid against the text whose code points (before the
 * final newline, which it never touches) are @widths; updates @widths. */
static PatchesOp *
random_text_op (GRand  *rand,
                GArray *widths,
                guint   max_insert)
{
  PatchesValue *delta = patches_value_new_array ();
  guint pos = 0;
  guint n = g_rand_int_range (rand, 1, 6);

  for (guint i = 0; i < n; i++)
    {
      guint kind = g_rand_int_range (rand, 0, 10);
      guint room = widths->len - pos;

      if (kind < 3 && room > 0)
        {
          guint r = g_rand_int_range (rand, 1, (gint32) MIN (room, 1000) + 1);

          patches_value_array_append (delta,
                                      delta_op_new ("retain",
                                                    patches_value_new_number ((double) sum_widths (widths, pos, r)),
                                                    g_rand_int_range (rand, 0, 5) == 0));
          pos += r;
        }
      else if (kind < 5 && room > 0)
        {
          guint d = g_rand_int_range (rand, 1, (gint32) MIN (room, 50) + 1);

          patches_value_array_append (delta,
                                      delta_op_new ("delete",
                                                    patches_value_new_number ((double) sum_widths (widths, pos, d)),
                                                    FALSE));
          g_array_remove_range (widths, pos, d);
        }
      else if (kind == 5)
        {
          PatchesValue *embed = patches_value_new_object ();
          guint8 one = 1;

          patches_value_object_set (embed, "image", random_string_value (rand, max_insert / 2));
          patches_value_array_append (delta, delta_op_new ("insert", embed, FALSE));
          g_array_insert_val (widths, pos, one);
          pos++;
        }
      else
        {
          g_autoptr(PatchesValue) text = random_line_value (rand, max_insert);
          guint before = widths->len;

          if (patches_value_get_string_len (text) == 0)
            continue;
          insert_widths (widths, pos, patches_value_get_string (text));
          pos += widths->len - before;
          patches_value_array_append (delta, delta_op_new ("insert", g_steal_pointer (&text),
                                                           g_rand_int_range (rand, 0, 3) == 0));
        }
    }

  return patches_op_new (PATCHES_OP_TXT, "/t", NULL, delta);
}

static PatchesOp *
random_op (GRand  *rand,
           GArray *widths,
           guint  *key)
{
  g_autofree char *path = NULL;

  switch (g_rand_int_range (rand, 0, 6))
    {
    case 0:
    case 1:
      return random_text_op (rand, widths, g_rand_int_range (rand, 0, 4) == 0 ? 600 : 60);
    case 2:
      path = g_strdup_printf ("/k%u", (*key)++);
      return patches_op_new (PATCHES_OP_ADD, path, NULL,
                             random_string_value (rand, g_rand_int_range (rand, 0, 4) == 0 ? 500 : 40));
    case 3:
      return patches_op_new (PATCHES_OP_INC, "/n", NULL,
                             patches_value_new_number (g_rand_int_range (rand, -100, 100) / 4.0));
    case 4:
      return patches_op_new (PATCHES_OP_ADD, "/arr/-", NULL,
                             patches_value_new_number (g_rand_int_range (rand, 0, 1000)));
    default:
      {
        PatchesValue *obj = patches_value_new_object ();

        patches_value_object_set (obj, "s", random_string_value (rand, 80));
        patches_value_object_set (obj, "n", patches_value_new_number (g_rand_double (rand)));
        path = g_strdup_printf ("/o%u", (*key)++);
        return patches_op_new (PATCHES_OP_REPLACE, path, NULL, obj);
      }
    }
}

static PatchesValue *
random_doc (GRand  *rand,
            GArray *widths)
{
  g_autoptr(GString) json = g_string_new (NULL);
  g_autoptr(PatchesValue) line = random_line_value (rand, 80);
  g_autofree char *line_json = patches_value_to_json (line);
  g_autoptr(GString) text = g_string_new (NULL);

  /* the line plus its final newline */
  g_string_append_len (text, line_json, strlen (line_json) - 1);
  g_string_append (text, "\\n\"");
  g_string_append_printf (json, "{\"t\":{\"ops\":[{\"insert\":%s}]},\"n\":0,\"arr\":[]}", text->str);
  g_array_set_size (widths, 0);
  insert_widths (widths, 0, patches_value_get_string (line));

  return patches_test_parse (json->str);
}

static PatchesChange *
random_change (GRand  *rand,
               gint64  rev,
               GArray *widths,
               guint  *key)
{
  GPtrArray *ops = patches_ops_new ();
  guint n = g_rand_int_range (rand, 1, 7);
  PatchesChange *change;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (ops, random_op (rand, widths, key));

  change = patches_change_new (NULL, 100, rev, ops, 1700000000000.0 + g_rand_int_range (rand, 0, 100000));
  if (g_rand_int_range (rand, 0, 3) == 0)
    {
      change->metadata = patches_value_new_object ();
      patches_value_object_set (change->metadata, "userId", random_string_value (rand, 10));
    }

  return change;
}

static gboolean
apply_changes_quiet (PatchesValue **state,
                     GPtrArray     *changes,
                     char         **why)
{
  g_autoptr(GError) error = NULL;

  if (patches_changes_apply (state, changes, &error))
    return TRUE;
  *why = g_strdup (error->message);
  return FALSE;
}

static void
test_property_split_apply (void)
{
  guint32 seed = property_seed ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint n = n_cases (10000);

  g_test_message ("seed %u", seed);

  for (guint c = 0; c < n; c++)
    {
      g_autoptr(GArray) widths = g_array_new (FALSE, FALSE, sizeof (guint8));
      guint key = 0;
      g_autoptr(PatchesValue) doc = random_doc (rand, widths);
      g_autoptr(PatchesValue) whole = patches_value_ref (doc);
      g_autoptr(PatchesValue) split = patches_value_ref (doc);
      g_autoptr(GPtrArray) changes = patches_changes_new ();
      g_autoptr(GPtrArray) pieces = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *why = NULL;
      g_autofree char *change_json = NULL;
      g_autoptr(PatchesValue) change_value = NULL;
      gint64 rev = g_rand_int_range (rand, 1, 5000);
      gsize budget = g_rand_int_range (rand, 150, 900);
      ReportCount count = { 0 };
      PatchesSplitOptions options = { .oversized_func = count_report, .oversized_data = &count };
      PatchesChange *change = random_change (rand, rev, widths, &key);

      g_ptr_array_add (changes, change);
      change_value = patches_changes_to_value (changes);
      change_json = patches_value_to_json (change_value);

      property_check (apply_changes_quiet (&whole, changes, &why), seed,
                      "case %u: generated change does not apply: %s: %s", c, why, change_json);

      pieces = patches_break_changes (changes, budget, &options, &error);
      property_check (pieces != NULL && pieces->len > 0, seed, "case %u: split failed", c);
      property_check (apply_changes_quiet (&split, pieces, &why), seed,
                      "case %u: pieces do not apply: %s: %s", c, why, change_json);
      property_check (patches_value_equal (whole, split), seed,
                      "case %u: pieces give another document (budget %" G_GSIZE_FORMAT "): %s",
                      c, budget, change_json);

      property_check (g_strcmp0 (change_at (pieces, 0)->id, change->id) == 0, seed,
                      "case %u: first piece lost the id", c);
      for (guint i = 0; i < pieces->len; i++)
        {
          PatchesChange *piece = change_at (pieces, i);

          property_check (piece->rev == rev + i, seed, "case %u: piece %u has rev %" G_GINT64_FORMAT,
                          c, i, piece->rev);
          property_check (piece->base_rev == 100 && piece->created_at == change->created_at, seed,
                          "case %u: piece %u lost fields", c, i);
          if (i > 0)
            property_check (strlen (piece->id) >= 5 && is_base62_string (piece->id), seed,
                            "case %u: piece %u has id %s", c, i, piece->id);
          if (count.n_reports == 0)
            property_check (patches_change_json_size (piece) <= budget, seed,
                            "case %u: piece %u is %" G_GSIZE_FORMAT " bytes over %" G_GSIZE_FORMAT
                            " without a report", c, i, patches_change_json_size (piece), budget);
        }
      if (patches_change_json_size (change) <= budget)
        property_check (pieces->len == 1 && g_ptr_array_index (pieces, 0) == change, seed,
                        "case %u: a change that fits was split", c);
    }
}

static void
test_property_batches (void)
{
  guint32 seed = property_seed ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint n = n_cases (10000);

  g_test_message ("seed %u", seed);

  for (guint c = 0; c < n; c++)
    {
      g_autoptr(GArray) widths = g_array_new (FALSE, FALSE, sizeof (guint8));
      guint key = 0;
      g_autoptr(PatchesValue) doc = random_doc (rand, widths);
      g_autoptr(PatchesValue) whole = patches_value_ref (doc);
      g_autoptr(PatchesValue) split = patches_value_ref (doc);
      g_autoptr(GPtrArray) changes = patches_changes_new ();
      g_autoptr(GPtrArray) batches = NULL;
      g_autoptr(GPtrArray) flat = patches_changes_new ();
      g_autoptr(GError) error = NULL;
      g_autofree char *why = NULL;
      guint n_changes = g_rand_int_range (rand, 1, 6);
      gint64 rev = g_rand_int_range (rand, 1, 5000);
      ReportCount count = { 0 };
      PatchesSplitOptions options = {
        .max_payload_bytes = g_rand_int_range (rand, 200, 3000),
        .oversized_func = count_report,
        .oversized_data = &count,
      };
      gboolean fits;

      if (g_rand_int_range (rand, 0, 4) == 0)
        options.max_storage_bytes = g_rand_int_range (rand, 150, 1500);

      for (guint i = 0; i < n_changes; i++)
        g_ptr_array_add (changes, random_change (rand, rev + i, widths, &key));
      property_check (apply_changes_quiet (&whole, changes, &why), seed,
                      "case %u: generated changes do not apply: %s", c, why);

      batches = patches_break_changes_into_batches (changes, &options, &error);
      property_check (batches != NULL && batches->len > 0, seed, "case %u: batching failed", c);

      fits = options.max_storage_bytes == 0 &&
             patches_changes_json_size (changes) < options.max_payload_bytes;
      if (fits)
        property_check (batches->len == 1 &&
                        ((GPtrArray *) g_ptr_array_index (batches, 0))->len == changes->len, seed,
                        "case %u: a list that fits was split", c);

      for (guint b = 0; b < batches->len; b++)
        {
          GPtrArray *batch = g_ptr_array_index (batches, b);
          gsize size = patches_changes_json_size (batch);

          property_check (batch->len > 0 || changes->len == 0, seed, "case %u: empty batch", c);
          /* Over budget only alone, and only because of an op that cannot
           * be split, or by the batchId added after splitting, or by the
           * piece's own id and rev: a piece is estimated with the
           * envelope of the change it is cut from (OPERATIONS.md §12.1),
           * and a piece cut again in the payload pass gets an id made
           * from its later rev, which can take one more base-62 digit,
           * and a rev with one more decimal digit. */
          if (size > options.max_payload_bytes)
            {
              g_autoptr(PatchesChange) bare = patches_change_copy (change_at (batch, 0));

              g_clear_pointer (&bare->batch_id, g_free);
              property_check (batch->len == 1, seed,
                              "case %u: batch %u of %u changes is %" G_GSIZE_FORMAT " bytes",
                              c, b, batch->len, size);
              property_check (count.n_reports > 0 ||
                              patches_change_json_size (bare) <= options.max_payload_bytes + 2, seed,
                              "case %u: batch %u is over budget without a report", c, b);
            }

          for (guint i = 0; i < batch->len; i++)
            {
              PatchesChange *change = change_at (batch, i);

              /* no batchId when the list went as it was, else the head's id */
              property_check (g_strcmp0 (change->batch_id,
                                         change_at (g_ptr_array_index (batches, 0), 0)->batch_id) == 0 &&
                              (change->batch_id == NULL ?
                                 batches->len == 1 :
                                 strcmp (change->batch_id, change_at (changes, 0)->id) == 0), seed,
                              "case %u: wrong batchId", c);
              property_check (change->rev == rev + flat->len, seed,
                              "case %u: revs not consecutive", c);
              g_ptr_array_add (flat, patches_change_ref (change));
            }
        }

      property_check (apply_changes_quiet (&split, flat, &why), seed,
                      "case %u: batched changes do not apply: %s", c, why);
      property_check (patches_value_equal (whole, split), seed,
                      "case %u: batched changes give another document", c);
    }
}

static void
test_property_rebase (void)
{
  guint32 seed = property_seed ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GPtrArray) none = patches_changes_new ();
  guint n = n_cases (10000);

  g_test_message ("seed %u", seed);

  for (guint c = 0; c < n; c++)
    {
      g_autoptr(GArray) widths = g_array_new (FALSE, FALSE, sizeof (guint8));
      g_autoptr(GArray) server_widths = NULL;
      guint key = 0, server_key = 1000;
      g_autoptr(PatchesValue) doc = random_doc (rand, widths);
      g_autoptr(GPtrArray) pending = patches_changes_new ();
      g_autoptr(GPtrArray) committed = patches_changes_new ();
      g_autoptr(GPtrArray) same = NULL;
      g_autoptr(GPtrArray) nothing = NULL;
      g_autoptr(GPtrArray) echoed = NULL;
      g_autoptr(GPtrArray) rebased = NULL;
      g_autoptr(GPtrArray) mirrored = NULL;
      g_autoptr(PatchesValue) state = patches_value_ref (doc);
      g_autofree char *why = NULL;
      guint n_pending = g_rand_int_range (rand, 1, 5);
      guint n_committed = g_rand_int_range (rand, 1, 4);

      server_widths = g_array_copy (widths);
      for (guint i = 0; i < n_pending; i++)
        g_ptr_array_add (pending, random_change (rand, 101 + i, widths, &key));
      for (guint i = 0; i < n_committed; i++)
        g_ptr_array_add (committed, random_change (rand, 101 + i, server_widths, &server_key));

      /* rebasing over nothing is the identity */
      same = patches_rebase_changes (none, pending);
      property_check (same->len == pending->len, seed, "case %u: identity lost changes", c);
      for (guint i = 0; i < same->len; i++)
        property_check (g_ptr_array_index (same, i) == g_ptr_array_index (pending, i), seed,
                        "case %u: identity changed change %u", c, i);
      nothing = patches_rebase_changes (committed, none);
      property_check (nothing->len == 0, seed, "case %u: rebase of nothing", c);

      /* the server committing exactly our queue leaves nothing pending */
      echoed = patches_rebase_changes (pending, pending);
      property_check (echoed->len == 0, seed, "case %u: own echoes left %u changes", c, echoed->len);

      /* client rebase and server walk agree; the result applies */
      rebased = patches_rebase_changes (committed, pending);
      mirrored = patches_transform_incoming_changes (committed, pending, 100 + n_committed,
                                                     FALSE, NULL, NULL, NULL);
      property_check (rebased->len == mirrored->len, seed, "case %u: mirror walk differs", c);
      for (guint i = 0; i < rebased->len; i++)
        {
          PatchesChange *a = change_at (rebased, i);
          PatchesChange *b = change_at (mirrored, i);
          g_autoptr(PatchesValue) ops_a = patches_ops_to_value (a->ops);
          g_autoptr(PatchesValue) ops_b = patches_ops_to_value (b->ops);

          property_check (g_strcmp0 (a->id, b->id) == 0 && a->rev == b->rev &&
                          patches_value_equal (ops_a, ops_b), seed,
                          "case %u: mirror walk differs at %u", c, i);
          property_check (a->base_rev == 100 + n_committed && a->rev == 101 + n_committed + i, seed,
                          "case %u: rebased revs wrong at %u", c, i);
          property_check (b->base_rev == 100, seed, "case %u: server walk changed baseRev", c);
        }

      property_check (apply_changes_quiet (&state, committed, &why), seed,
                      "case %u: committed changes do not apply: %s", c, why);
    }
}

static void
append_random_value (GRand   *rand,
                     GString *out,
                     guint    depth)
{
  static const double numbers[] = {
    0, 1, -1, 0.1, 0.30000000000000004, 1e21, 1e-7, 123456.789, -2.5e-10, 9007199254740991, 5e-324,
  };

  switch (g_rand_int_range (rand, 0, depth > 2 ? 4 : 6))
    {
    case 0:
      g_string_append (out, g_rand_boolean (rand) ? "true" : (g_rand_boolean (rand) ? "false" : "null"));
      break;
    case 1:
      if (g_rand_boolean (rand))
        patches_js_append_number (out, numbers[g_rand_int_range (rand, 0, G_N_ELEMENTS (numbers))]);
      else
        patches_js_append_number (out, g_rand_double_range (rand, -1e6, 1e6));
      break;
    case 2:
    case 3:
      {
        g_autoptr(GString) s = g_string_new (NULL);

        append_random_text (rand, s, 12);
        patches_js_append_string (out, s->str, -1);
        break;
      }
    case 4:
      {
        guint n = g_rand_int_range (rand, 0, 4);

        g_string_append_c (out, '[');
        for (guint i = 0; i < n; i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            append_random_value (rand, out, depth + 1);
          }
        g_string_append_c (out, ']');
        break;
      }
    default:
      {
        guint n = g_rand_int_range (rand, 0, 4);

        g_string_append_c (out, '{');
        for (guint i = 0; i < n; i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            g_string_append_printf (out, "\"m%u\":", i);
            append_random_value (rand, out, depth + 1);
          }
        g_string_append_c (out, '}');
        break;
      }
    }
}

static void
test_property_round_trip (void)
{
  guint32 seed = property_seed ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint n = n_cases (10000);

  g_test_message ("seed %u", seed);

  for (guint c = 0; c < n; c++)
    {
      g_autoptr(GString) json = g_string_new ("{");
      g_autoptr(GString) out = g_string_new (NULL);
      g_autoptr(PatchesValue) value = NULL;
      g_autoptr(PatchesChange) change = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *id = patches_change_id_new ();
      guint n_ops = g_rand_int_range (rand, 0, 4);
      guint n_meta = g_rand_int_range (rand, 0, 3);

      if (g_rand_int_range (rand, 0, 10) == 0)
        g_string_append (json, "\"7\":1,");   /* JavaScript puts it first */
      g_string_append_printf (json, "\"id\":\"%s\"", id);
      if (g_rand_boolean (rand))
        g_string_append_printf (json, ",\"baseRev\":%u", g_rand_int_range (rand, 0, 100000));
      if (g_rand_boolean (rand))
        g_string_append_printf (json, ",\"rev\":%u", g_rand_int_range (rand, 0, 100000));
      g_string_append (json, ",\"ops\":[");
      for (guint i = 0; i < n_ops; i++)
        {
          static const char *const names[] = { "add", "replace", "move", "@txt", "@inc", "remove", "x-op" };
          const char *name = names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))];

          if (i > 0)
            g_string_append_c (json, ',');
          g_string_append_printf (json, "{\"op\":\"%s\"", name);
          if (strcmp (name, "move") == 0)
            g_string_append (json, ",\"from\":\"/a~1b\"");
          g_string_append (json, ",\"path\":\"/p/0\"");
          if (strcmp (name, "@txt") == 0)
            g_string_append (json, ",\"value\":[{\"retain\":3},{\"insert\":\"é😀\",\"attributes\":{\"bold\":true}}]");
          else if (strcmp (name, "remove") != 0 && strcmp (name, "move") != 0)
            {
              g_string_append (json, ",\"value\":");
              append_random_value (rand, json, 0);
            }
          if (g_rand_int_range (rand, 0, 5) == 0)
            g_string_append (json, ",\"soft\":true");
          g_string_append_c (json, '}');
        }
      g_string_append_c (json, ']');
      if (g_rand_boolean (rand))
        g_string_append_printf (json, ",\"createdAt\":%" G_GINT64_FORMAT,
                                (gint64) 1700000000000 + g_rand_int_range (rand, 0, G_MAXINT32));
      if (g_rand_boolean (rand))
        g_string_append (json, ",\"committedAt\":0");
      for (guint i = 0; i < n_meta; i++)
        {
          g_string_append_printf (json, ",\"meta%u\":", i);
          append_random_value (rand, json, 0);
        }
      if (g_rand_boolean (rand))
        g_string_append_printf (json, ",\"batchId\":\"%s\"", id);
      if (g_rand_boolean (rand))
        g_string_append (json, ",\"clientId\":\"client-\\u0001\"");
      g_string_append_c (json, '}');

      value = patches_value_parse (json->str, json->len, &error);
      property_check (value != NULL, seed, "case %u: bad generated JSON %s", c, json->str);
      change = patches_change_from_value (value, &error);
      property_check (change != NULL, seed, "case %u: %s: %s", c, error ? error->message : "", json->str);
      patches_change_write_json (change, out);
      property_check (strcmp (out->str, json->str) == 0, seed,
                      "case %u: round trip\n  in  %s\n  out %s", c, json->str, out->str);
      property_check (patches_change_json_size (change) == out->len, seed,
                      "case %u: json size %" G_GSIZE_FORMAT " for %" G_GSIZE_FORMAT " bytes",
                      c, patches_change_json_size (change), out->len);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ot/change/round-trip", test_change_round_trip);
  g_test_add_func ("/ot/change/absent-and-null", test_change_absent_and_null);
  g_test_add_func ("/ot/change/invalid", test_change_invalid);
  g_test_add_func ("/ot/change/ids", test_change_ids);
  g_test_add_func ("/ot/apply-changes", test_apply_changes);
  g_test_add_func ("/ot/rebase/array-shift", test_rebase_array_shift);
  g_test_add_func ("/ot/rebase/echo-position", test_rebase_echo_position);
  g_test_add_func ("/ot/rebase/echo-then-text", test_rebase_echo_then_text);
  g_test_add_func ("/ot/rebase/shared-echo", test_rebase_shared_echo);
  g_test_add_func ("/ot/rebase/text-examples", test_rebase_text_examples);
  g_test_add_func ("/ot/rebase/drops-empty", test_rebase_drops_empty);
  g_test_add_func ("/ot/rebase/empty-lists", test_rebase_empty_lists);
  g_test_add_func ("/ot/transform-incoming", test_transform_incoming);
  g_test_add_func ("/ot/apply-committed/gaps", test_apply_committed_gaps);
  g_test_add_func ("/ot/apply-committed/echoes", test_apply_committed_echoes);
  g_test_add_func ("/ot/pending-for-view", test_pending_for_view);
  g_test_add_func ("/ot/ejection", test_ejection);
  g_test_add_func ("/ot/break/text-example", test_break_text_example);
  g_test_add_func ("/ot/break/rev-shift", test_break_rev_shift);
  g_test_add_func ("/ot/break/two-passes", test_break_two_passes);
  g_test_add_func ("/ot/break/batches-ids-and-empty", test_batches_ids_and_empty);
  g_test_add_func ("/ot/break/extract-text", test_break_extract_text);
  g_test_add_func ("/ot/break/unsplittable", test_break_unsplittable);
  g_test_add_func ("/ot/break/size-calculator", test_break_size_calculator);
  g_test_add_func ("/ot/property/split-apply", test_property_split_apply);
  g_test_add_func ("/ot/property/batches", test_property_batches);
  g_test_add_func ("/ot/property/rebase", test_property_rebase);
  g_test_add_func ("/ot/property/round-trip", test_property_round_trip);

  return g_test_run ();
}
