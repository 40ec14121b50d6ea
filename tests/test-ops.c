/* test-ops.c: pointers, the patch builder and applyPatch
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches.h"
#include "patches-patch-private.h"

static guint
n_cases (guint base)
{
  return g_getenv ("PATCHES_LONG_TESTS") ? base * 100 : base;
}

static PatchesValue *
parse (const char *json)
{
  g_autoptr(GError) error = NULL;
  PatchesValue *v = patches_value_parse (json, -1, &error);

  g_assert_no_error (error);
  return v;
}

static void
assert_json (const PatchesValue *value,
             const char         *expected)
{
  g_autofree char *json = value ? patches_value_to_json (value) : g_strdup ("undefined");

  g_assert_cmpstr (json, ==, expected);
}

/* Applies @ops_json to @doc_json and returns the result as JSON, or the
 * error message prefixed with "error:". */
static char *
apply_json (const char        *doc_json,
            const char        *ops_json,
            PatchesApplyFlags  flags)
{
  g_autoptr(PatchesValue) doc = doc_json ? parse (doc_json) : NULL;
  g_autoptr(PatchesPatch) patch = NULL;
  g_autoptr(GError) error = NULL;

  patch = patches_patch_from_json (ops_json, -1, &error);
  g_assert_no_error (error);

  if (!patches_patch_apply (patch, &doc, flags, NULL, NULL, &error))
    return g_strdup_printf ("error:%s", error->message);

  return doc ? patches_value_to_json (doc) : g_strdup ("undefined");
}

static void
check_apply (const char        *doc,
             const char        *ops,
             PatchesApplyFlags  flags,
             const char        *expected)
{
  g_autofree char *got = apply_json (doc, ops, flags);

  if (g_str_has_prefix (expected, "error:"))
    g_assert_true (g_str_has_prefix (got, "error:"));
  else
    g_assert_cmpstr (got, ==, expected);
}

static void
test_pointer_decode (void)
{
  g_auto(GStrv) keys = patches_pointer_decode ("/a~1b/c~0d/~01/");
  g_autofree char *escaped = patches_pointer_escape ("~/x");
  const char *plain[] = { "a/b", "c~d", NULL };
  g_autofree char *formatted = patches_pointer_format (plain);

  g_assert_cmpuint (g_strv_length (keys), ==, 5);
  g_assert_cmpstr (keys[0], ==, "");
  g_assert_cmpstr (keys[1], ==, "a/b");
  g_assert_cmpstr (keys[2], ==, "c~d");
  g_assert_cmpstr (keys[3], ==, "~1");
  g_assert_cmpstr (keys[4], ==, "");
  g_assert_cmpstr (escaped, ==, "~0~1x");
  g_assert_cmpstr (formatted, ==, "/a~1b/c~0d");

  g_assert_true (patches_pointer_is_array_path ("/versions/5"));
  g_assert_false (patches_pointer_is_array_path ("/arr/05"));
  g_assert_false (patches_pointer_is_array_path ("/arr/-"));
  g_assert_true (patches_pointer_is_under ("/a/b", "/a"));
  g_assert_false (patches_pointer_is_under ("/ab", "/a"));
}

/* The builder emits the reference builder's JSON, key order included
 * (OPERATIONS.md §10.1). */
static void
test_builder_json (void)
{
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  g_autoptr(PatchesDelta) delta = patches_delta_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;

  patches_patch_add (patch, "tags", patches_value_new_object (), TRUE);
  patches_patch_replace (patch, "/title", patches_value_new_string ("Notes"), FALSE);
  patches_patch_replace (patch, "/gone", NULL, FALSE);
  patches_patch_move (patch, "/items/0", "/items/3");
  patches_patch_move (patch, "/same", "/same");
  patches_patch_copy_op (patch, "", "/x", FALSE);
  patches_patch_increment (patch, "/count", 1);
  patches_patch_increment (patch, "/count", -2);
  g_assert_true (patches_patch_bit (patch, "/flags", 1, TRUE, &error));
  g_assert_true (patches_patch_bit (patch, "/flags", 0, FALSE, &error));
  g_assert_false (patches_patch_bit (patch, "/flags", 15, TRUE, &error));
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_OP);
  patches_patch_max (patch, "/seen", patches_value_new_string ("2026-01-01"));
  patches_delta_retain (delta, 5, NULL);
  patches_delta_insert_utf8 (delta, "!", NULL);
  patches_patch_text (patch, "/body", g_steal_pointer (&delta));

  json = patches_patch_to_json (patch);
  g_assert_cmpstr (json, ==,
                   "[{\"op\":\"add\",\"path\":\"/tags\",\"value\":{},\"soft\":true},"
                   "{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"Notes\"},"
                   "{\"op\":\"remove\",\"path\":\"/gone\"},"
                   "{\"op\":\"move\",\"from\":\"/items/0\",\"path\":\"/items/3\"},"
                   "{\"op\":\"copy\",\"path\":\"/x\"},"
                   "{\"op\":\"@inc\",\"path\":\"/count\",\"value\":1},"
                   "{\"op\":\"@inc\",\"path\":\"/count\",\"value\":-2},"
                   "{\"op\":\"@bit\",\"path\":\"/flags\",\"value\":2},"
                   "{\"op\":\"@bit\",\"path\":\"/flags\",\"value\":32768},"
                   "{\"op\":\"@max\",\"path\":\"/seen\",\"value\":\"2026-01-01\"},"
                   "{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":5},{\"insert\":\"!\"}]}]");
  g_assert_cmpuint (strlen (json), ==, patches_patch_json_size (patch));
}

static void
test_parse_errors (void)
{
  static const char *bad[] = {
    "{}", "[1]", "[{\"path\":\"/a\"}]", "[{\"op\":\"add\"}]", "[{\"op\":3,\"path\":\"/a\"}]",
    "[{\"op\":\"move\",\"path\":\"/a\",\"from\":5}]",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PatchesPatch) patch = patches_patch_from_json (bad[i], -1, &error);

      g_assert_null (patch);
      g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_OP);
    }
}

/* Items of OPERATIONS.md §14.1 */
static void
test_apply_catalogue (void)
{
  check_apply ("{}", "[{\"op\":\"replace\",\"path\":\"/obj/sub/0/foo\",\"value\":\"bar\"}]",
               PATCHES_APPLY_STRICT, "{\"obj\":{\"sub\":{\"0\":{\"foo\":\"bar\"}}}}");
  check_apply ("{}", "[{\"op\":\"add\",\"path\":\"/obj/sub/0/foo\",\"value\":\"bar\"}]",
               PATCHES_APPLY_STRICT, "{\"obj\":{\"sub\":[{\"foo\":\"bar\"}]}}");
  check_apply ("{}", "[{\"op\":\"add\",\"path\":\"/obj/-/-/foo\",\"value\":\"bar\"}]",
               PATCHES_APPLY_STRICT, "{\"obj\":[[{\"foo\":\"bar\"}]]}");
  check_apply ("{\"list\":[{\"a\":1}]}", "[{\"op\":\"add\",\"path\":\"/list/-/name\",\"value\":\"x\"}]",
               PATCHES_APPLY_STRICT, "{\"list\":[{\"a\":1,\"name\":\"x\"}]}");
  check_apply ("{\"x\":{\"a\":1}}", "[{\"op\":\"move\",\"from\":\"/x\",\"path\":\"/x/b\"}]",
               PATCHES_APPLY_STRICT, "{\"x\":{\"b\":{\"a\":1}}}");
  check_apply ("{\"count\":1,\"name\":\"a\"}",
               "[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"b\"},"
               "{\"op\":\"test\",\"path\":\"/count\",\"value\":2},"
               "{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"c\"}]",
               PATCHES_APPLY_DEFAULT, "{\"count\":1,\"name\":\"a\"}");
  check_apply ("{\"count\":1,\"name\":\"a\"}",
               "[{\"op\":\"test\",\"path\":\"/count\",\"value\":2}]",
               PATCHES_APPLY_STRICT, "error:");
  check_apply ("{\"arr\":[1],\"name\":\"a\"}",
               "[{\"op\":\"add\",\"path\":\"/arr/5\",\"value\":\"x\"},"
               "{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"b\"}]",
               PATCHES_APPLY_DEFAULT, "{\"arr\":[1],\"name\":\"b\"}");
  check_apply ("{\"arr\":[1],\"name\":\"a\"}",
               "[{\"op\":\"add\",\"path\":\"/arr/5\",\"value\":\"x\"},"
               "{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"b\"}]",
               PATCHES_APPLY_RIGID, "{\"arr\":[1],\"name\":\"a\"}");
  check_apply ("{\"a\":5}", "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1}]",
               PATCHES_APPLY_DEFAULT, "error:");
  check_apply ("{\"x\":[1,2,3]}", "[{\"op\":\"move\",\"from\":\"/x/0\",\"path\":\"/x/3\"}]",
               PATCHES_APPLY_DEFAULT, "{\"x\":[2,3]}");
  check_apply ("{\"x\":[1,2,3]}", "[{\"op\":\"move\",\"from\":\"/x/0\",\"path\":\"/x/3\"}]",
               PATCHES_APPLY_STRICT, "error:");
  check_apply ("{\"a\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":9}]",
               PATCHES_APPLY_STRICT, "{\"a\":[1,9,2]}");
  check_apply ("{\"a/b\":1,\"c~d\":2}",
               "[{\"op\":\"replace\",\"path\":\"/a~1b\",\"value\":3},{\"op\":\"remove\",\"path\":\"/c~0d\"}]",
               PATCHES_APPLY_STRICT, "{\"a/b\":3}");
  check_apply ("{\"x\":0}", "[{\"op\":\"@max\",\"path\":\"/x\",\"value\":-5}]",
               PATCHES_APPLY_STRICT, "{\"x\":0}");
  check_apply ("{\"x\":5}", "[{\"op\":\"@bit\",\"path\":\"/x\",\"value\":32770}]",
               PATCHES_APPLY_STRICT, "{\"x\":6}");
  check_apply ("{\"x\":0.1}", "[{\"op\":\"@inc\",\"path\":\"/x\",\"value\":0.2}]",
               PATCHES_APPLY_STRICT, "{\"x\":0.30000000000000004}");
  check_apply ("null", "[{\"op\":\"add\",\"path\":\"/y\",\"value\":1},{\"op\":\"test\",\"path\":\"/x\",\"value\":1}]",
               PATCHES_APPLY_DEFAULT, "{\"y\":1}");
  check_apply ("{\"x\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]", PATCHES_APPLY_STRICT, "undefined");
  check_apply ("{}", "[{\"op\":\"@txt\",\"path\":\"/text\",\"value\":[{\"insert\":\"hi\"}]}]",
               PATCHES_APPLY_STRICT, "{\"text\":{\"ops\":[{\"insert\":\"hi\\n\"}]}}");
  check_apply ("{\"t\":\"hello\"}", "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":2},{\"insert\":\"X\"}]}]",
               PATCHES_APPLY_STRICT, "{\"t\":{\"ops\":[{\"insert\":\"\\nX\\n\"}]}}");
  check_apply ("{}", "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":\"abc\"}]", PATCHES_APPLY_STRICT, "error:");
}

/* Found by fuzz-patch: a write through an index two billion past the end
 * of an array tried to fill the gap with nulls. */
static void
test_apply_huge_array_gap (void)
{
  check_apply ("{\"name\":[[\"beta\"],3]}",
               "[{\"op\":\"add\",\"path\":\"/name/1999999999/x\",\"value\":1}]",
               PATCHES_APPLY_STRICT, "error:");
  check_apply ("{\"name\":[[\"beta\"],3]}",
               "[{\"op\":\"add\",\"path\":\"/name/1999999999/x\",\"value\":1}]",
               PATCHES_APPLY_DEFAULT, "{\"name\":[[\"beta\"],3]}");
  /* A modest hole is still filled as JavaScript's JSON would show it. */
  check_apply ("{\"arr\":[1]}", "[{\"op\":\"add\",\"path\":\"/arr/3/x\",\"value\":2}]",
               PATCHES_APPLY_STRICT, "{\"arr\":[1,null,null,{\"x\":2}]}");
}

static void
test_apply_error_names_op (void)
{
  g_autoptr(PatchesValue) doc = parse ("{\"a\":[1,2]}");
  g_autoptr(PatchesPatch) patch = patches_patch_from_json (
    "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1},{\"op\":\"remove\",\"path\":\"/a/7\"}]", -1, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (patches_patch_apply (patch, &doc, PATCHES_APPLY_STRICT, NULL, NULL, &error));
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_OP_FAILED);
  g_assert_nonnull (strstr (error->message, "Op 1"));
  g_assert_nonnull (strstr (error->message, "remove /a/7"));
  /* A failed strict apply leaves the document as it was. */
  assert_json (doc, "{\"a\":[1,2]}");
}

/* Random documents and patches for the copy-on-write properties. */

static const char *keys[] = { "a", "b", "c", "0", "1", "-", "t" };

static PatchesValue *
random_value (GRand *rand,
              guint  depth)
{
  switch (g_rand_int_range (rand, 0, depth > 2 ? 4 : 7))
    {
    case 0: return patches_value_new_number (g_rand_int_range (rand, -3, 10));
    case 1: return patches_value_new_string (keys[g_rand_int_range (rand, 0, G_N_ELEMENTS (keys))]);
    case 2: return patches_value_new_null ();
    case 3: return patches_value_new_bool (g_rand_boolean (rand));
    case 4:
    case 5:
      {
        PatchesValue *obj = patches_value_new_object ();
        guint n = g_rand_int_range (rand, 0, 4);

        for (guint i = 0; i < n; i++)
          patches_value_object_set (obj, keys[g_rand_int_range (rand, 0, 3)], random_value (rand, depth + 1));
        return obj;
      }
    default:
      {
        PatchesValue *arr = patches_value_new_array ();
        guint n = g_rand_int_range (rand, 0, 4);

        for (guint i = 0; i < n; i++)
          patches_value_array_append (arr, random_value (rand, depth + 1));
        return arr;
      }
    }
}

static char *
random_path (GRand *rand)
{
  GString *path = g_string_new (NULL);
  guint n = g_rand_int_range (rand, 1, 4);

  for (guint i = 0; i < n; i++)
    {
      g_string_append_c (path, '/');
      g_string_append (path, keys[g_rand_int_range (rand, 0, G_N_ELEMENTS (keys))]);
    }
  return g_string_free (path, FALSE);
}

static PatchesOp *
random_op (GRand *rand)
{
  static const PatchesOpKind kinds[] = {
    PATCHES_OP_ADD, PATCHES_OP_REMOVE, PATCHES_OP_REPLACE, PATCHES_OP_MOVE, PATCHES_OP_COPY,
    PATCHES_OP_TEST, PATCHES_OP_INC, PATCHES_OP_BIT, PATCHES_OP_MAX, PATCHES_OP_MIN, PATCHES_OP_TXT,
  };
  PatchesOpKind kind = kinds[g_rand_int_range (rand, 0, G_N_ELEMENTS (kinds))];
  g_autofree char *path = random_path (rand);
  g_autofree char *from = NULL;

  if (kind == PATCHES_OP_MOVE || kind == PATCHES_OP_COPY)
    from = random_path (rand);

  if (kind == PATCHES_OP_TXT)
    {
      PatchesDelta *delta = patches_delta_new ();

      patches_delta_retain (delta, g_rand_int_range (rand, 0, 4), NULL);
      patches_delta_insert_utf8 (delta, "xy", NULL);
      patches_delta_delete (delta, g_rand_int_range (rand, 0, 3));
      return patches_op_new_text (path, delta);
    }

  if (kind == PATCHES_OP_REMOVE || kind == PATCHES_OP_MOVE || kind == PATCHES_OP_COPY)
    return patches_op_new (kind, path, from, NULL);

  if (kind == PATCHES_OP_INC || kind == PATCHES_OP_BIT)
    return patches_op_new (kind, path, NULL, patches_value_new_number (g_rand_int_range (rand, 1, 70000)));

  return patches_op_new (kind, path, from, random_value (rand, 1));
}

/* Applying never changes a document somebody else still holds; the
 * in-place result equals the copy-on-write result; a failed strict apply
 * leaves the document untouched; every result serialises to as many
 * bytes as patches_value_json_size() says. */
static void
test_apply_copy_on_write_property (void)
{
  guint32 seed = g_test_rand_int ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint cases = n_cases (10000);

  g_test_message ("seed %u, %u cases", seed, cases);

  for (guint i = 0; i < cases; i++)
    {
      g_autoptr(PatchesValue) doc = random_value (rand, 0);
      g_autoptr(GPtrArray) ops = patches_ops_new ();
      g_autofree char *before = patches_value_to_json (doc);
      PatchesApplyFlags flags = g_rand_boolean (rand) ? PATCHES_APPLY_STRICT : PATCHES_APPLY_DEFAULT;
      PatchesValue *shared = patches_value_ref (doc);
      PatchesValue *owned = patches_value_copy_deep (doc);
      g_autoptr(GError) e1 = NULL;
      g_autoptr(GError) e2 = NULL;
      gboolean ok1, ok2;
      guint n = g_rand_int_range (rand, 1, 4);

      for (guint k = 0; k < n; k++)
        g_ptr_array_add (ops, random_op (rand));

      ok1 = patches_ops_apply (ops, &shared, flags, NULL, NULL, &e1);
      ok2 = patches_ops_apply (ops, &owned, flags, NULL, NULL, &e2);

      {
        g_autofree char *after_original = patches_value_to_json (doc);
        g_autofree char *r1 = shared ? patches_value_to_json (shared) : g_strdup ("undefined");
        g_autofree char *r2 = owned ? patches_value_to_json (owned) : g_strdup ("undefined");
        g_autofree char *ops_json = NULL;
        GString *s = g_string_new (NULL);

        patches_ops_write_json (ops, s);
        ops_json = g_string_free (s, FALSE);
        if (g_strcmp0 (before, after_original) != 0 || ok1 != ok2 || g_strcmp0 (r1, r2) != 0 ||
            (!ok1 && g_strcmp0 (r1, before) != 0) ||
            (shared && strlen (r1) != patches_value_json_size (shared)))
          g_error ("seed %u case %u: doc %s ops %s: original now %s, shared %s (%d), owned %s (%d)",
                   seed, i, before, ops_json, after_original, r1, ok1, r2, ok2);
      }

      g_clear_pointer (&shared, patches_value_unref);
      g_clear_pointer (&owned, patches_value_unref);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ops/pointer/decode", test_pointer_decode);
  g_test_add_func ("/ops/builder/json", test_builder_json);
  g_test_add_func ("/ops/parse/errors", test_parse_errors);
  g_test_add_func ("/ops/apply/catalogue", test_apply_catalogue);
  g_test_add_func ("/ops/apply/error-names-op", test_apply_error_names_op);
  g_test_add_func ("/ops/apply/huge-array-gap", test_apply_huge_array_gap);
  g_test_add_func ("/ops/apply/copy-on-write", test_apply_copy_on_write_property);

  return g_test_run ();
}
