/* test-compose-invert.c
 *
 * composePatch and invertPatch (OPERATIONS.md §8, §9): the catalogue of
 * §14.4, the quirks the reference has and a port must keep, the
 * JavaScript operators behind `@inc`/`@bit`/`@max`/`@min`, and two
 * property tests over random patches (seed printed; set
 * PATCHES_TEST_SEED to replay one, PATCHES_LONG_TESTS=1 for 100× more
 * cases):
 *
 *  - invert round trip: apply(apply(doc, P), invert(doc, P)) == doc for
 *    patches of every op kind, avoiding the shapes the reference does not
 *    promise to restore (a move onto an existing key, `-` in a move or in
 *    an object key, `@txt` on a non-text value or past the final newline,
 *    a soft add or an empty container added at an existing array index,
 *    which also covers the removal of an empty container from an array);
 *  - compose: apply(doc, compose(P)) == apply(doc, P) for chains of
 *    composable ops (integers, so that `@inc` sums are exact).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "patches.h"
#include "patches-js-private.h"
#include "patches-patch-private.h"

/* Helpers */

static PatchesValue *
parse (const char *json)
{
  g_autoptr(GError) error = NULL;
  PatchesValue *value = patches_value_parse (json, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (value);
  return value;
}

static GPtrArray *
parse_ops (const char *json)
{
  g_autoptr(PatchesValue) value = parse (json);
  g_autoptr(GError) error = NULL;
  GPtrArray *ops = patches_ops_from_value (value, &error);

  g_assert_no_error (error);
  return ops;
}

/* Compares the JSON forms, as the library's results are seen: a NaN
 * number is written (and so compares) as null. */
static void
assert_value_json (PatchesValue *got,
                   const char   *expect_json)
{
  g_autoptr(PatchesValue) expect = parse (expect_json);
  g_autofree char *got_json = got ? patches_value_to_json (got) : g_strdup ("(none)");
  g_autoptr(PatchesValue) reparsed = got ? parse (got_json) : NULL;

  if (reparsed == NULL || !patches_value_equal (reparsed, expect))
    g_error ("got %s, expected %s", got_json, expect_json);
}

static void
assert_ops_json (GPtrArray  *ops,
                 const char *expect_json)
{
  g_autoptr(PatchesValue) value = NULL;

  g_assert_nonnull (ops);
  value = patches_ops_to_value (ops);
  assert_value_json (value, expect_json);
}

static GPtrArray *
compose_json (const char *ops_json)
{
  g_autoptr(GPtrArray) ops = parse_ops (ops_json);
  g_autoptr(GError) error = NULL;
  GPtrArray *composed = patches_ops_compose (ops, &error);

  g_assert_no_error (error);
  return composed;
}

static void
assert_compose (const char *ops_json,
                const char *expect_json)
{
  g_autoptr(GPtrArray) composed = compose_json (ops_json);

  assert_ops_json (composed, expect_json);
}

static GPtrArray *
invert_json (const char  *doc_json,
             const char  *ops_json,
             GError     **error)
{
  g_autoptr(PatchesValue) doc = doc_json ? parse (doc_json) : NULL;
  g_autoptr(GPtrArray) ops = parse_ops (ops_json);

  return patches_ops_invert (ops, doc, error);
}

static void
assert_invert (const char *doc_json,
               const char *ops_json,
               const char *expect_json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) inverse = invert_json (doc_json, ops_json, &error);

  g_assert_no_error (error);
  assert_ops_json (inverse, expect_json);
}

static void
assert_invert_error (const char *doc_json,
                     const char *ops_json,
                     const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) inverse = invert_json (doc_json, ops_json, &error);

  g_assert_null (inverse);
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_CANNOT_INVERT);
  if (message != NULL)
    g_assert_cmpstr (error->message, ==, message);
}

/* Applies @ops then their inverse (both strictly) and checks @doc comes
 * back. */
static void
assert_round_trip (const char *doc_json,
                   const char *ops_json)
{
  g_autoptr(PatchesValue) doc = parse (doc_json);
  g_autoptr(PatchesValue) state = patches_value_ref (doc);
  g_autoptr(GPtrArray) ops = parse_ops (ops_json);
  g_autoptr(GPtrArray) inverse = NULL;
  g_autoptr(GError) error = NULL;

  inverse = patches_ops_invert (ops, doc, &error);
  g_assert_no_error (error);
  g_assert_true (patches_ops_apply (ops, &state, PATCHES_APPLY_STRICT, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (patches_ops_apply (inverse, &state, PATCHES_APPLY_STRICT, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_value_json (state, doc_json);
}

#define MISMATCH "Patch mismatch. This patch was not applied to the provided object and cannot be inverted. "

/* §14.4 catalogue */

static void
test_catalogue_61 (void)
{
  assert_compose ("[{\"op\":\"@inc\",\"path\":\"/y\",\"value\":4},{\"op\":\"@inc\",\"path\":\"/y\",\"value\":4},"
                  "{\"op\":\"replace\",\"path\":\"/x\",\"value\":4},{\"op\":\"replace\",\"path\":\"/x\",\"value\":7},"
                  "{\"op\":\"replace\",\"path\":\"/y\",\"value\":2},{\"op\":\"replace\",\"path\":\"/x\",\"value\":8},"
                  "{\"op\":\"@inc\",\"path\":\"/y\",\"value\":4}]",
                  "[{\"op\":\"@inc\",\"path\":\"/y\",\"value\":8},{\"op\":\"replace\",\"path\":\"/x\",\"value\":8},"
                  "{\"op\":\"replace\",\"path\":\"/y\",\"value\":2},{\"op\":\"@inc\",\"path\":\"/y\",\"value\":4}]");
  /* An add breaks every chain. */
  assert_compose ("[{\"op\":\"@inc\",\"path\":\"/y\",\"value\":4},{\"op\":\"@inc\",\"path\":\"/y\",\"value\":4},"
                  "{\"op\":\"replace\",\"path\":\"/x\",\"value\":4},{\"op\":\"replace\",\"path\":\"/x\",\"value\":7},"
                  "{\"op\":\"add\",\"path\":\"/y\",\"value\":2},{\"op\":\"replace\",\"path\":\"/x\",\"value\":8},"
                  "{\"op\":\"@inc\",\"path\":\"/y\",\"value\":4}]",
                  "[{\"op\":\"@inc\",\"path\":\"/y\",\"value\":8},{\"op\":\"replace\",\"path\":\"/x\",\"value\":7},"
                  "{\"op\":\"add\",\"path\":\"/y\",\"value\":2},{\"op\":\"replace\",\"path\":\"/x\",\"value\":8},"
                  "{\"op\":\"@inc\",\"path\":\"/y\",\"value\":4}]");
}

static void
test_catalogue_62 (void)
{
  assert_compose ("[{\"op\":\"@inc\",\"path\":\"/x/y\",\"value\":1},{\"op\":\"@inc\",\"path\":\"/x/y\",\"value\":1},"
                  "{\"op\":\"replace\",\"path\":\"/x\",\"value\":{\"y\":0}},"
                  "{\"op\":\"@inc\",\"path\":\"/x/y\",\"value\":1},{\"op\":\"@inc\",\"path\":\"/x/y\",\"value\":1}]",
                  "[{\"op\":\"@inc\",\"path\":\"/x/y\",\"value\":2},{\"op\":\"replace\",\"path\":\"/x\",\"value\":{\"y\":0}},"
                  "{\"op\":\"@inc\",\"path\":\"/x/y\",\"value\":2}]");
}

static void
test_catalogue_63 (void)
{
  const char *doc = "{\"test\":false,\"name\":\"test\"}";

  assert_invert (doc, "[{\"op\":\"add\",\"path\":\"/test\",\"value\":true}]",
                 "[{\"op\":\"replace\",\"path\":\"/test\",\"value\":false}]");
  assert_invert (doc, "[{\"op\":\"add\",\"path\":\"/newProp\",\"value\":true}]",
                 "[{\"op\":\"remove\",\"path\":\"/newProp\"}]");
  assert_invert (doc, "[{\"op\":\"move\",\"from\":\"/test2\",\"path\":\"/test\"}]",
                 "[{\"op\":\"move\",\"from\":\"/test\",\"path\":\"/test2\"}]");
  assert_invert (doc, "[{\"op\":\"test\",\"path\":\"/test\",\"value\":true}]", "[]");
}

static void
test_catalogue_64 (void)
{
  const char *doc = "{\"test\":false,\"name\":\"test\",\"tags\":[\"test\"]}";

  assert_invert (doc, "[{\"op\":\"add\",\"path\":\"/tags/0\",\"value\":\"foo\"}]",
                 "[{\"op\":\"remove\",\"path\":\"/tags/0\"}]");
  assert_invert (doc, "[{\"op\":\"copy\",\"from\":\"/name\",\"path\":\"/tags/0\"}]",
                 "[{\"op\":\"remove\",\"path\":\"/tags/0\"}]");
  assert_invert (doc, "[{\"op\":\"add\",\"path\":\"/tags/-\",\"value\":\"x\"}]",
                 "[{\"op\":\"remove\",\"path\":\"/tags/1\"}]");
}

static void
test_catalogue_65 (void)
{
  assert_invert_error ("{}", "[{\"op\":\"remove\",\"path\":\"/x/y\"}]",
                       MISMATCH "Cannot read properties of undefined (reading 'y')");
}

static void
test_catalogue_66 (void)
{
  /* Numeric keys of an object are not array indexes here: the add
   * overwrote a value. */
  assert_invert ("{\"versions\":{\"0\":\"v0\"}}",
                 "[{\"op\":\"add\",\"path\":\"/versions/0\",\"value\":\"new\"}]",
                 "[{\"op\":\"replace\",\"path\":\"/versions/0\",\"value\":\"v0\"}]");
}

static void
test_catalogue_67 (void)
{
  const char *ops = "[{\"op\":\"remove\",\"path\":\"/list/0\"},{\"op\":\"remove\",\"path\":\"/list/0\"}]";

  assert_invert ("{\"list\":[\"a\",\"b\",\"c\"]}", ops,
                 "[{\"op\":\"add\",\"path\":\"/list/0\",\"value\":\"b\"},"
                 "{\"op\":\"add\",\"path\":\"/list/0\",\"value\":\"a\"}]");
  assert_round_trip ("{\"list\":[\"a\",\"b\",\"c\"]}", ops);
}

/* compose */

static void
test_compose_text_chain (void)
{
  assert_compose ("[{\"op\":\"@txt\",\"path\":\"/x\",\"value\":[{\"insert\":\"How about th\"}]},"
                  "{\"op\":\"@txt\",\"path\":\"/x\",\"value\":[{\"retain\":12},{\"insert\":\"at!\"}]},"
                  "{\"op\":\"@txt\",\"path\":\"/x\",\"value\":[{\"delete\":3},{\"insert\":\"Who\"},{\"retain\":1},"
                  "{\"delete\":5},{\"insert\":\"is\"}]}]",
                  "[{\"op\":\"@txt\",\"path\":\"/x\",\"value\":[{\"insert\":\"Who is that!\"}]}]");

  /* An {"ops": [...]} value is read as a delta; the result is an array. */
  assert_compose ("[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":{\"ops\":[{\"insert\":\"x\"}]}},"
                  "{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":1},{\"insert\":\"y\"}]}]",
                  "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"xy\"}]}]");
}

static void
test_compose_text_builder_ops (void)
{
  /* Ops made by the builder hold a delta and no JSON value. */
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  g_autoptr(PatchesPatch) composed = NULL;
  g_autoptr(PatchesValue) value = NULL;
  PatchesDelta *a = patches_delta_new ();
  PatchesDelta *b = patches_delta_new ();

  patches_delta_insert_utf8 (a, "ab", NULL);
  patches_delta_retain (b, 1, NULL);
  patches_delta_insert_utf8 (b, "X", NULL);
  patches_patch_text (patch, "/t", a);
  patches_patch_text (patch, "/t", b);

  composed = patches_patch_compose (patch, NULL);
  g_assert_nonnull (composed);
  value = patches_patch_to_value (composed);
  assert_value_json (value, "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"aXb\"}]}]");
}

static void
test_compose_text_not_delta (void)
{
  g_autoptr(GPtrArray) ops = parse_ops ("[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":\"abc\"},"
                                        "{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"x\"}]}]");
  g_autoptr(GPtrArray) composed = NULL;
  g_autoptr(PatchesPatch) patch = NULL;
  g_autoptr(GError) error = NULL;

  composed = patches_ops_compose (ops, &error);
  g_assert_null (composed);
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA);

  /* The public wrapper reports it too. */
  g_clear_error (&error);
  patch = patches_patch_new_take (g_ptr_array_ref (ops));
  g_assert_null (patches_patch_compose (patch, &error));
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA);

  /* A lone op is never composed, so its value is never read. */
  assert_compose ("[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":\"abc\"},{\"op\":\"@txt\",\"path\":\"/u\",\"value\":5}]",
                  "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":\"abc\"},{\"op\":\"@txt\",\"path\":\"/u\",\"value\":5}]");
}

static void
test_compose_quirks (void)
{
  /* A chain keeps every field of its first op but the value. */
  assert_compose ("[{\"op\":\"replace\",\"path\":\"/x\",\"value\":2,\"soft\":true},"
                  "{\"op\":\"replace\",\"path\":\"/x\",\"value\":3}]",
                  "[{\"op\":\"replace\",\"path\":\"/x\",\"value\":3,\"soft\":true}]");
  /* Another composable kind on the same path starts a new chain. */
  assert_compose ("[{\"op\":\"replace\",\"path\":\"/x\",\"value\":1},{\"op\":\"@inc\",\"path\":\"/x\",\"value\":2},"
                  "{\"op\":\"@inc\",\"path\":\"/x\",\"value\":3}]",
                  "[{\"op\":\"replace\",\"path\":\"/x\",\"value\":1},{\"op\":\"@inc\",\"path\":\"/x\",\"value\":5}]");
  assert_compose ("[{\"op\":\"@max\",\"path\":\"/x\",\"value\":2},{\"op\":\"@min\",\"path\":\"/x\",\"value\":3},"
                  "{\"op\":\"@min\",\"path\":\"/x\",\"value\":1}]",
                  "[{\"op\":\"@max\",\"path\":\"/x\",\"value\":2},{\"op\":\"@min\",\"path\":\"/x\",\"value\":1}]");
  /* Moves and copies onto themselves vanish. */
  assert_compose ("[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a\"},{\"op\":\"copy\",\"from\":\"/b\",\"path\":\"/b\"},"
                  "{\"op\":\"@inc\",\"path\":\"/n\",\"value\":1},{\"op\":\"@inc\",\"path\":\"/n\",\"value\":1}]",
                  "[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":2}]");
  /* A replace whose later value is absent keeps no value. */
  assert_compose ("[{\"op\":\"replace\",\"path\":\"/x\",\"value\":1},{\"op\":\"replace\",\"path\":\"/x\"}]",
                  "[{\"op\":\"replace\",\"path\":\"/x\"}]");
}

static void
test_compose_paths (void)
{
  /* Ops on other paths do not break a chain. */
  assert_compose ("[{\"op\":\"@inc\",\"path\":\"/a\",\"value\":1},{\"op\":\"@inc\",\"path\":\"/b\",\"value\":1},"
                  "{\"op\":\"@inc\",\"path\":\"/a\",\"value\":1},{\"op\":\"@inc\",\"path\":\"/b\",\"value\":2}]",
                  "[{\"op\":\"@inc\",\"path\":\"/a\",\"value\":2},{\"op\":\"@inc\",\"path\":\"/b\",\"value\":3}]");
  /* A descendant never folds into an ancestor, and a write to one ends
   * the other's chain in both directions. */
  assert_compose ("[{\"op\":\"replace\",\"path\":\"/docs/d1/body/comments\",\"value\":{}},"
                  "{\"op\":\"replace\",\"path\":\"/docs/d1/body/comments/tc1\",\"value\":{\"id\":\"tc1\"}}]",
                  "[{\"op\":\"replace\",\"path\":\"/docs/d1/body/comments\",\"value\":{}},"
                  "{\"op\":\"replace\",\"path\":\"/docs/d1/body/comments/tc1\",\"value\":{\"id\":\"tc1\"}}]");
  assert_compose ("[{\"op\":\"replace\",\"path\":\"/o\",\"value\":{\"a\":3}},{\"op\":\"replace\",\"path\":\"/o/a\",\"value\":4},"
                  "{\"op\":\"replace\",\"path\":\"/o\",\"value\":{\"a\":5}}]",
                  "[{\"op\":\"replace\",\"path\":\"/o\",\"value\":{\"a\":3}},{\"op\":\"replace\",\"path\":\"/o/a\",\"value\":4},"
                  "{\"op\":\"replace\",\"path\":\"/o\",\"value\":{\"a\":5}}]");
  /* The root is everyone's ancestor. */
  assert_compose ("[{\"op\":\"replace\",\"path\":\"/a\",\"value\":1},{\"op\":\"replace\",\"path\":\"\",\"value\":{}},"
                  "{\"op\":\"replace\",\"path\":\"/a\",\"value\":2}]",
                  "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":1},{\"op\":\"replace\",\"path\":\"\",\"value\":{}},"
                  "{\"op\":\"replace\",\"path\":\"/a\",\"value\":2}]");
  /* A shared prefix is not an ancestor. */
  assert_compose ("[{\"op\":\"replace\",\"path\":\"/a\",\"value\":2},{\"op\":\"replace\",\"path\":\"/ab\",\"value\":3},"
                  "{\"op\":\"replace\",\"path\":\"/a\",\"value\":4}]",
                  "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":4},{\"op\":\"replace\",\"path\":\"/ab\",\"value\":3}]");
  /* A deeper chain survives a sibling subtree's new chain. */
  assert_compose ("[{\"op\":\"@inc\",\"path\":\"/o/a/x\",\"value\":1},{\"op\":\"replace\",\"path\":\"/o/b\",\"value\":1},"
                  "{\"op\":\"@inc\",\"path\":\"/o/a/x\",\"value\":1}]",
                  "[{\"op\":\"@inc\",\"path\":\"/o/a/x\",\"value\":2},{\"op\":\"replace\",\"path\":\"/o/b\",\"value\":1}]");
}

static void
test_compose_values (void)
{
  /* combineMasks: the later mask wins a flag both touch. */
  assert_compose ("[{\"op\":\"@bit\",\"path\":\"/f\",\"value\":2},{\"op\":\"@bit\",\"path\":\"/f\",\"value\":65536}]",
                  "[{\"op\":\"@bit\",\"path\":\"/f\",\"value\":65536}]");
  assert_compose ("[{\"op\":\"@bit\",\"path\":\"/f\",\"value\":8},{\"op\":\"@bit\",\"path\":\"/f\",\"value\":262144},"
                  "{\"op\":\"@bit\",\"path\":\"/f\",\"value\":65538}]",
                  "[{\"op\":\"@bit\",\"path\":\"/f\",\"value\":327682}]");
  /* @inc is JavaScript `+`. */
  assert_compose ("[{\"op\":\"@inc\",\"path\":\"/x\",\"value\":0.1},{\"op\":\"@inc\",\"path\":\"/x\",\"value\":0.2}]",
                  "[{\"op\":\"@inc\",\"path\":\"/x\",\"value\":0.30000000000000004}]");
  assert_compose ("[{\"op\":\"@inc\",\"path\":\"/x\",\"value\":\"a\"},{\"op\":\"@inc\",\"path\":\"/x\",\"value\":1}]",
                  "[{\"op\":\"@inc\",\"path\":\"/x\",\"value\":\"a1\"}]");
  assert_compose ("[{\"op\":\"@inc\",\"path\":\"/x\",\"value\":null},{\"op\":\"@inc\",\"path\":\"/x\",\"value\":true}]",
                  "[{\"op\":\"@inc\",\"path\":\"/x\",\"value\":1}]");
  /* undefined + 1 is NaN, which JSON writes as null. */
  assert_compose ("[{\"op\":\"@inc\",\"path\":\"/x\"},{\"op\":\"@inc\",\"path\":\"/x\",\"value\":1}]",
                  "[{\"op\":\"@inc\",\"path\":\"/x\",\"value\":null}]");
  /* @max / @min keep whichever JavaScript's comparison picks. */
  assert_compose ("[{\"op\":\"@max\",\"path\":\"/t\",\"value\":\"2024-03-01\"},"
                  "{\"op\":\"@max\",\"path\":\"/t\",\"value\":\"2024-02-01\"}]",
                  "[{\"op\":\"@max\",\"path\":\"/t\",\"value\":\"2024-03-01\"}]");
  assert_compose ("[{\"op\":\"@max\",\"path\":\"/x\",\"value\":5},{\"op\":\"@max\",\"path\":\"/x\",\"value\":\"a\"}]",
                  "[{\"op\":\"@max\",\"path\":\"/x\",\"value\":\"a\"}]");
  assert_compose ("[{\"op\":\"@min\",\"path\":\"/x\",\"value\":\"10\"},{\"op\":\"@min\",\"path\":\"/x\",\"value\":9}]",
                  "[{\"op\":\"@min\",\"path\":\"/x\",\"value\":9}]");
  assert_compose ("[{\"op\":\"@min\",\"path\":\"/x\",\"value\":\"10\"},{\"op\":\"@min\",\"path\":\"/x\",\"value\":\"9\"}]",
                  "[{\"op\":\"@min\",\"path\":\"/x\",\"value\":\"10\"}]");
}

static void
test_compose_input_untouched (void)
{
  const char *json = "[{\"op\":\"@inc\",\"path\":\"/x\",\"value\":1,\"soft\":true,\"ts\":5},"
                     "{\"op\":\"@inc\",\"path\":\"/x\",\"value\":2}]";
  g_autoptr(GPtrArray) ops = parse_ops (json);
  g_autoptr(GPtrArray) composed = NULL;
  g_autoptr(PatchesValue) before = patches_ops_to_value (ops);
  g_autoptr(PatchesValue) after = NULL;
  g_autoptr(GError) error = NULL;

  composed = patches_ops_compose (ops, &error);
  g_assert_no_error (error);
  assert_ops_json (composed, "[{\"op\":\"@inc\",\"path\":\"/x\",\"value\":3,\"soft\":true,\"ts\":5}]");
  after = patches_ops_to_value (ops);
  g_assert_true (patches_value_equal (before, after));
}

/* invert */

static void
test_invert_basic (void)
{
  assert_invert ("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"b\":2}}]",
                 "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"a\":1}}]");
  assert_invert ("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":{\"b\":2}}]",
                 "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"a\":1}}]");
  assert_invert ("{\"a/b\":5,\"c~d\":6}",
                 "[{\"op\":\"replace\",\"path\":\"/a~1b\",\"value\":60},{\"op\":\"replace\",\"path\":\"/c~0d\",\"value\":70}]",
                 "[{\"op\":\"replace\",\"path\":\"/c~0d\",\"value\":6},{\"op\":\"replace\",\"path\":\"/a~1b\",\"value\":5}]");
  assert_invert ("{\"my-list\":[1]}", "[{\"op\":\"add\",\"path\":\"/my-list/-\",\"value\":2}]",
                 "[{\"op\":\"remove\",\"path\":\"/my-list/1\"}]");
  assert_invert ("{\"n\":5}", "[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":3},{\"op\":\"@max\",\"path\":\"/m\",\"value\":1},"
                 "{\"op\":\"@bit\",\"path\":\"/n\",\"value\":2},{\"op\":\"@min\",\"path\":\"/n\",\"value\":1}]",
                 "[{\"op\":\"replace\",\"path\":\"/n\",\"value\":10},{\"op\":\"replace\",\"path\":\"/n\",\"value\":8},"
                 "{\"op\":\"remove\",\"path\":\"/m\"},{\"op\":\"replace\",\"path\":\"/n\",\"value\":5}]");
  /* Removing a missing key gives an add without a value (it fails when
   * applied, as in the library). */
  assert_invert ("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", "[{\"op\":\"add\",\"path\":\"/b\"}]");
  /* null is a value, not a missing key. */
  assert_invert ("{\"a\":null}", "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":1}]",
                 "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":null}]");
  /* Array indexes through ToNumber: "" and "01" count as indexes. */
  assert_invert ("{\"a\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":9}]",
                 "[{\"op\":\"remove\",\"path\":\"/a/01\"}]");
  /* A replace at `-` is rewritten to the length (it fails to apply). */
  assert_invert ("{\"a\":[1,2]}", "[{\"op\":\"replace\",\"path\":\"/a/-\",\"value\":9}]",
                 "[{\"op\":\"remove\",\"path\":\"/a/2\"}]");
  /* Each op reads the state the ops before it made. */
  assert_invert ("{}", "[{\"op\":\"add\",\"path\":\"/o\",\"value\":{}},{\"op\":\"add\",\"path\":\"/o/a\",\"value\":1},"
                 "{\"op\":\"@inc\",\"path\":\"/o/a\",\"value\":2}]",
                 "[{\"op\":\"replace\",\"path\":\"/o/a\",\"value\":1},{\"op\":\"remove\",\"path\":\"/o/a\"},"
                 "{\"op\":\"remove\",\"path\":\"/o\"}]");
  assert_invert ("{\"a\":1}", "[]", "[]");
}

static void
test_invert_errors (void)
{
  assert_invert_error ("{\"a\":1}", "[{\"op\":\"frob\",\"path\":\"/a\"}]",
                       "Unknown patch operation, cannot invert");
  assert_invert_error ("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/x/y/z\"}]",
                       MISMATCH "Cannot read properties of undefined (reading 'y')");
  assert_invert_error ("{\"a\":null}", "[{\"op\":\"replace\",\"path\":\"/a/b\",\"value\":1}]",
                       MISMATCH "Cannot read properties of null (reading 'b')");
  /* Even where apply would create the parent. */
  assert_invert_error ("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/x/y\",\"value\":6}]",
                       MISMATCH "Cannot read properties of undefined (reading 'y')");
  /* The path walk comes before the unknown-op check. */
  assert_invert_error ("{}", "[{\"op\":\"frob\",\"path\":\"/x/y\"}]",
                       MISMATCH "Cannot read properties of undefined (reading 'y')");
  /* No document at all. */
  assert_invert_error (NULL, "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]",
                       MISMATCH "Cannot read properties of undefined (reading 'a')");
  assert_invert_error ("{}", "[{\"op\":\"remove\",\"path\":\"\"},{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]",
                       MISMATCH "Cannot read properties of undefined (reading 'a')");
}

static void
test_invert_no_document (void)
{
  /* Root ops work without a document: the prior value is missing. */
  assert_invert (NULL, "[{\"op\":\"add\",\"path\":\"\",\"value\":{\"a\":1}}]", "[{\"op\":\"remove\",\"path\":\"\"}]");
  assert_invert ("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]",
                 "[{\"op\":\"add\",\"path\":\"\",\"value\":{\"a\":1}}]");
  /* A path without a leading slash is beside the document. */
  assert_invert ("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"abc\",\"value\":1}]",
                 "[{\"op\":\"remove\",\"path\":\"abc\"}]");
}

static void
test_invert_primitive_parents (void)
{
  /* Plain property reads: a string's characters and length, nothing on
   * numbers (the next read then throws). */
  assert_invert ("{\"s\":\"xyz\"}", "[{\"op\":\"test\",\"path\":\"/s/1\",\"value\":\"y\"}]", "[]");
  assert_invert_error ("{\"n\":5}", "[{\"op\":\"remove\",\"path\":\"/n/a/b\"}]",
                       MISMATCH "Cannot read properties of undefined (reading 'b')");
  /* Falsy holders other than null and undefined do not throw. */
  assert_invert ("{\"n\":0}", "[{\"op\":\"remove\",\"path\":\"/n/a\"}]", "[{\"op\":\"add\",\"path\":\"/n/a\"}]");
}

static void
test_invert_text (void)
{
  /* An {"ops": [...]} prior, as parsed. */
  assert_invert ("{\"t\":{\"ops\":[{\"insert\":\"Hello\",\"attributes\":{\"bold\":true}},{\"insert\":\" world\\n\"}]}}",
                 "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":2},{\"delete\":5},"
                 "{\"retain\":2,\"attributes\":{\"italic\":true}}]}]",
                 "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":2},{\"insert\":\"llo\",\"attributes\":{\"bold\":true}},"
                 "{\"insert\":\" w\"},{\"retain\":2,\"attributes\":{\"italic\":null}}]}]");
  /* A bare op array is sliced by character, not by op. */
  assert_invert ("{\"text\":[{\"insert\":\"seedtext\\n\"}]}",
                 "[{\"op\":\"@txt\",\"path\":\"/text\",\"value\":[{\"insert\":\"ccc\"},{\"delete\":1}]}]",
                 "[{\"op\":\"@txt\",\"path\":\"/text\",\"value\":[{\"insert\":\"s\"},{\"delete\":3}]}]");
  /* A text value written by an earlier @txt. */
  assert_invert ("{\"t\":{\"ops\":[{\"insert\":\"ab\\n\"}]}}",
                 "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"x\"}]},"
                 "{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":2},{\"delete\":1}]}]",
                 "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":2},{\"insert\":\"b\"}]},"
                 "{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"delete\":1}]}]");
  /* Embeds and characters outside the BMP. */
  assert_invert ("{\"t\":{\"ops\":[{\"insert\":\"a\"},{\"insert\":{\"image\":\"x\"}},{\"insert\":\"\\n\"}]}}",
                 "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":1},{\"delete\":1}]}]",
                 "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":1},{\"insert\":{\"image\":\"x\"}}]}]");
  assert_invert ("{\"t\":{\"ops\":[{\"insert\":\"a\\ud83d\\ude00b\\n\"}]}}",
                 "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":1},{\"delete\":2},"
                 "{\"insert\":\"\\ud83d\\udc4d\"}]}]",
                 "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":1},{\"insert\":\"\\ud83d\\ude00\"},{\"delete\":2}]}]");
  /* Missing → remove; a value written by the patch itself is read too
   * (the library throws there, §16 #5). */
  assert_invert ("{}", "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"Hi\"}]}]",
                 "[{\"op\":\"remove\",\"path\":\"/t\"}]");
  assert_invert ("{}", "[{\"op\":\"add\",\"path\":\"/t\",\"value\":{\"ops\":[{\"insert\":\"abc\\n\"}]}},"
                 "{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"delete\":1}]}]",
                 "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"a\"}]},{\"op\":\"remove\",\"path\":\"/t\"}]");
  assert_round_trip ("{\"l\":[{\"ops\":[{\"insert\":\"xworld\\n\"}]}]}",
                     "[{\"op\":\"@txt\",\"path\":\"/l/0\",\"value\":[{\"retain\":1,\"attributes\":{\"bold\":true}},{\"delete\":2}]}]");
  /* A value that is no document: an insert-only change needs none of it,
   * anything else cannot be inverted. */
  assert_invert ("{\"t\":5}", "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":1},{\"insert\":\"Hi\"}]}]",
                 "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"retain\":1},{\"delete\":2}]}]");
  assert_invert_error ("{\"t\":\"hello\"}", "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"delete\":1}]}]", NULL);
  assert_invert_error ("{\"t\":null}", "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"delete\":1}]}]", NULL);
  /* A change that is not a delta is an empty one. */
  assert_invert ("{\"t\":{\"ops\":[{\"insert\":\"ab\\n\"}]}}", "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":\"abc\"}]",
                 "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[]}]");
}

static void
test_invert_move_copy (void)
{
  assert_invert ("{\"a\":[1,2,3]}", "[{\"op\":\"move\",\"from\":\"/a/0\",\"path\":\"/a/2\"}]",
                 "[{\"op\":\"move\",\"from\":\"/a/2\",\"path\":\"/a/0\"}]");
  assert_round_trip ("{\"a\":[1,2,3]}", "[{\"op\":\"move\",\"from\":\"/a/0\",\"path\":\"/a/2\"}]");
  assert_invert ("{\"a\":1,\"b\":2}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]",
                 "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]");
  assert_invert ("{\"a\":[1,2]}", "[{\"op\":\"copy\",\"from\":\"/a/0\",\"path\":\"/a/-\"}]",
                 "[{\"op\":\"remove\",\"path\":\"/a/2\"}]");
  /* A move without a source cannot be inverted (it has no path to go
   * back to); with one from a value, the library's apply moves. */
  assert_invert_error ("{\"a\":1}", "[{\"op\":\"move\",\"path\":\"/b\",\"value\":\"/a\"}]", NULL);
}

static void
test_invert_document_untouched (void)
{
  /* The caller's document, and values the inverse holds, survive the
   * lenient applies that advance the state. */
  const char *doc_json = "{\"t\":{\"ops\":[{\"insert\":\"ab\\n\"}]},\"o\":{\"x\":[1]}}";
  g_autoptr(PatchesValue) doc = parse (doc_json);
  g_autoptr(GPtrArray) ops = parse_ops ("[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"x\"}]},"
                                        "{\"op\":\"copy\",\"from\":\"/t\",\"path\":\"/u\"},"
                                        "{\"op\":\"replace\",\"path\":\"/u\",\"value\":1},"
                                        "{\"op\":\"copy\",\"from\":\"/o\",\"path\":\"/p\"},"
                                        "{\"op\":\"remove\",\"path\":\"/p\"},"
                                        "{\"op\":\"add\",\"path\":\"/o/x/-\",\"value\":2},"
                                        "{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"insert\":\"y\"}]}]");
  g_autoptr(GPtrArray) inverse = NULL;
  g_autoptr(GError) error = NULL;

  inverse = patches_ops_invert (ops, doc, &error);
  g_assert_no_error (error);
  assert_value_json (doc, doc_json);
  assert_ops_json (inverse,
                   "[{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"delete\":1}]},"
                   "{\"op\":\"remove\",\"path\":\"/o/x/1\"},"
                   "{\"op\":\"add\",\"path\":\"/p\",\"value\":{\"x\":[1]}},"
                   "{\"op\":\"remove\",\"path\":\"/p\"},"
                   "{\"op\":\"replace\",\"path\":\"/u\",\"value\":{\"ops\":[{\"insert\":\"xab\\n\"}]}},"
                   "{\"op\":\"remove\",\"path\":\"/u\"},"
                   "{\"op\":\"@txt\",\"path\":\"/t\",\"value\":[{\"delete\":1}]}]");
}

static void
test_invert_public (void)
{
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  g_autoptr(PatchesPatch) inverse = NULL;
  g_autoptr(PatchesPatch) bad = NULL;
  g_autoptr(PatchesValue) doc = parse ("{\"n\":1,\"tags\":[\"a\"]}");
  g_autoptr(PatchesValue) value = NULL;
  g_autoptr(GError) error = NULL;

  patches_patch_increment (patch, "/n", 2);
  patches_patch_add (patch, "/tags/-", patches_value_new_string ("b"), FALSE);
  inverse = patches_patch_invert (patch, doc, &error);
  g_assert_no_error (error);
  value = patches_patch_to_value (inverse);
  assert_value_json (value, "[{\"op\":\"remove\",\"path\":\"/tags/1\"},{\"op\":\"replace\",\"path\":\"/n\",\"value\":1}]");

  patches_patch_remove (patch, "/x/y");
  bad = patches_patch_invert (patch, doc, &error);
  g_assert_null (bad);
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_CANNOT_INVERT);
}

/* JavaScript operators */

static double
string_to_number (const char *s)
{
  return patches_js_string_to_number (s, strlen (s));
}

static void
test_js_to_number (void)
{
  g_assert_cmpfloat (string_to_number (""), ==, 0);
  g_assert_cmpfloat (string_to_number("  \n\t "), ==, 0);
  g_assert_cmpfloat (string_to_number (" 12 "), ==, 12);
  g_assert_cmpfloat (string_to_number ("\xc2\xa0" "7\xe2\x80\xa8"), ==, 7);
  g_assert_cmpfloat (string_to_number ("007"), ==, 7);
  g_assert_cmpfloat (string_to_number ("-1.5e3"), ==, -1500);
  g_assert_cmpfloat (string_to_number (".5"), ==, 0.5);
  g_assert_cmpfloat (string_to_number ("5."), ==, 5);
  g_assert_cmpfloat (string_to_number ("0x1F"), ==, 31);
  g_assert_cmpfloat (string_to_number ("0b101"), ==, 5);
  g_assert_cmpfloat (string_to_number ("0o17"), ==, 15);
  g_assert_cmpfloat (string_to_number ("-Infinity"), ==, -INFINITY);
  g_assert_true (isnan (string_to_number ("-")));
  g_assert_true (isnan (string_to_number ("1e")));
  g_assert_true (isnan (string_to_number ("inf")));
  g_assert_true (isnan (string_to_number ("nan")));
  g_assert_true (isnan (string_to_number ("-0x10")));
  g_assert_true (isnan (string_to_number ("0x")));
  g_assert_true (isnan (string_to_number ("1_000")));
  g_assert_true (isnan (string_to_number ("12px")));
  g_assert_true (isnan (string_to_number (".")));

  {
    g_autoptr(PatchesValue) arr = parse ("[[7]]");
    g_autoptr(PatchesValue) arr2 = parse ("[1,2]");
    g_autoptr(PatchesValue) obj = parse ("{}");
    g_autoptr(PatchesValue) t = parse ("true");
    g_autoptr(PatchesValue) n = parse ("null");

    g_assert_cmpfloat (patches_js_to_number (arr), ==, 7);
    g_assert_true (isnan (patches_js_to_number (arr2)));
    g_assert_true (isnan (patches_js_to_number (obj)));
    g_assert_true (isnan (patches_js_to_number (NULL)));
    g_assert_cmpfloat (patches_js_to_number (t), ==, 1);
    g_assert_cmpfloat (patches_js_to_number (n), ==, 0);
  }

  g_assert_cmpint (patches_js_to_int32 (NAN), ==, 0);
  g_assert_cmpint (patches_js_to_int32 (INFINITY), ==, 0);
  g_assert_cmpint (patches_js_to_int32 (-1.9), ==, -1);
  g_assert_cmpint (patches_js_to_int32 (4294967297.0), ==, 1);
  g_assert_cmpint (patches_js_to_int32 (2147483648.0), ==, G_MININT32);
  g_assert_cmpint (patches_js_to_int32 (-2147483649.0), ==, G_MAXINT32);
}

static void
assert_js_add (const char *a,
               const char *b,
               const char *expect)
{
  g_autoptr(PatchesValue) va = a ? parse (a) : NULL;
  g_autoptr(PatchesValue) vb = b ? parse (b) : NULL;
  g_autoptr(PatchesValue) sum = patches_js_add (va, vb);

  assert_value_json (sum, expect);
}

static void
test_js_add (void)
{
  assert_js_add ("1", "2", "3");
  assert_js_add ("\"a\"", "1", "\"a1\"");
  assert_js_add ("1", "\"a\"", "\"1a\"");
  assert_js_add ("1.5", "\"\"", "\"1.5\"");
  assert_js_add ("1e21", "\"\"", "\"1e+21\"");
  assert_js_add ("null", "\"x\"", "\"nullx\"");
  assert_js_add (NULL, "\"x\"", "\"undefinedx\"");
  assert_js_add ("true", "true", "2");
  assert_js_add ("[1,[2,null],{}]", "1", "\"1,2,,[object Object]1\"");
  assert_js_add ("{}", "[]", "\"[object Object]\"");
  assert_js_add ("[]", "[]", "\"\"");
  assert_js_add ("[5]", "1", "\"51\"");

  {
    g_autoptr(PatchesValue) nan = patches_js_add (NULL, NULL);
    g_autoptr(PatchesValue) b = parse ("\"x\"");
    g_autoptr(PatchesValue) s = patches_js_add (nan, b);

    g_assert_true (isnan (patches_value_get_number (nan)));
    assert_value_json (s, "\"NaNx\"");
  }
}

static gboolean
js_less (const char *a,
         const char *b)
{
  g_autoptr(PatchesValue) va = a ? parse (a) : NULL;
  g_autoptr(PatchesValue) vb = b ? parse (b) : NULL;

  return patches_js_less_than (va, vb);
}

static void
test_js_less_than (void)
{
  g_assert_true (js_less ("1", "2"));
  g_assert_false (js_less ("2", "2"));
  g_assert_true (js_less ("\"10\"", "\"9\""));
  g_assert_false (js_less ("\"10\"", "9"));
  g_assert_true (js_less ("null", "1"));
  g_assert_false (js_less (NULL, "1"));
  g_assert_false (js_less ("\"a\"", "1"));
  g_assert_false (js_less ("1", "\"a\""));
  g_assert_true (js_less ("\"\"", "\"a\""));
  g_assert_true (js_less ("[1]", "[2]"));
  g_assert_true (js_less ("false", "true"));
  /* UTF-16 order: a supplementary character sorts below U+FF5E. */
  g_assert_true (js_less ("\"\\ud83d\\ude00\"", "\"\\uff5e\""));
  g_assert_true (js_less ("\"a\"", "\"ab\""));
}

/* Property tests */

static GRand *
test_rand_new (guint *out_iterations)
{
  const char *env = g_getenv ("PATCHES_TEST_SEED");
  guint32 seed = env ? (guint32) g_ascii_strtoull (env, NULL, 10) : (guint32) g_get_real_time ();
  guint iterations = 10000;

  if (g_strcmp0 (g_getenv ("PATCHES_LONG_TESTS"), "1") == 0)
    iterations *= 100;
  g_test_message ("seed %u (set PATCHES_TEST_SEED=%u to replay), %u cases", seed, seed, iterations);

  *out_iterations = iterations;
  return g_rand_new_with_seed (seed);
}

static const char * const object_keys[] = { "a", "b", "c", "x", "y", "sl/ash", "ti~lde", "5", "10", "" };

static PatchesValue *
random_scalar (GRand *rand)
{
  static const char * const strings[] = { "", "a", "m", "z", "hello", "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80" };

  switch (g_rand_int_range (rand, 0, 6))
    {
    case 0:
      return patches_value_new_null ();
    case 1:
      return patches_value_new_bool (g_rand_boolean (rand));
    case 2:
      return patches_value_new_number (g_rand_int_range (rand, -3, 100) / (g_rand_boolean (rand) ? 1.0 : 4.0));
    case 3:
    default:
      return patches_value_new_string (strings[g_rand_int_range (rand, 0, G_N_ELEMENTS (strings))]);
    case 4:
    case 5:
      return patches_value_new_number (g_rand_int_range (rand, 0, 1000));
    }
}

static PatchesValue *
random_value (GRand *rand,
              int    depth)
{
  int kind = g_rand_int_range (rand, 0, depth > 0 ? 8 : 5);

  if (kind < 5)
    return random_scalar (rand);

  if (kind == 5)
    {
      PatchesValue *arr = patches_value_new_array ();
      int n = g_rand_int_range (rand, 0, 4);

      for (int i = 0; i < n; i++)
        patches_value_array_append (arr, random_value (rand, depth - 1));
      return arr;
    }
  else
    {
      PatchesValue *obj = patches_value_new_object ();
      int n = g_rand_int_range (rand, 0, 4);

      for (int i = 0; i < n; i++)
        patches_value_object_set (obj, object_keys[g_rand_int_range (rand, 0, G_N_ELEMENTS (object_keys))],
                                  random_value (rand, depth - 1));
      return obj;
    }
}

/* A rich-text document in canonical form: runs with different
 * attributes, ending in a plain "\n". */
static PatchesValue *
random_text (GRand *rand)
{
  static const char * const pieces[] = { "Hello", " world", "ab", "\xf0\x9f\x98\x80", "\xc3\xa9", "line\n", "x" };
  g_autoptr(PatchesDelta) delta = patches_delta_new ();
  g_autoptr(PatchesValue) ops = NULL;
  PatchesValue *text = patches_value_new_object ();
  int n = g_rand_int_range (rand, 0, 4);

  for (int i = 0; i < n; i++)
    {
      g_autoptr(PatchesValue) attrs = NULL;

      if (g_rand_int_range (rand, 0, 3) == 0)
        {
          attrs = patches_value_new_object ();
          patches_value_object_set (attrs, "bold", patches_value_new_bool (TRUE));
        }
      if (g_rand_int_range (rand, 0, 6) == 0)
        {
          g_autoptr(PatchesValue) embed = parse ("{\"image\":\"a.png\"}");

          patches_delta_insert_embed (delta, embed, attrs);
        }
      else
        patches_delta_insert_utf8 (delta, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))], attrs);
    }
  patches_delta_insert_utf8 (delta, "\n", NULL);

  ops = patches_delta_to_value (delta);
  patches_value_object_set (text, "ops", g_steal_pointer (&ops));
  return text;
}

static PatchesValue *
random_document (GRand *rand)
{
  PatchesValue *doc = patches_value_new_object ();

  patches_value_object_set (doc, "title", patches_value_new_string ("Title"));
  patches_value_object_set (doc, "n", patches_value_new_number (g_rand_int_range (rand, 0, 50)));
  patches_value_object_set (doc, "list", random_value (rand, 2));
  if (patches_value_get_kind (patches_value_object_get (doc, "list")) != PATCHES_VALUE_ARRAY)
    patches_value_object_set (doc, "list", parse ("[0,{\"v\":1},20]"));
  patches_value_object_set (doc, "map", random_value (rand, 2));
  patches_value_object_set (doc, "text", random_text (rand));
  if (g_rand_boolean (rand))
    patches_value_object_set (doc, "notes", parse ("{\"n1\":{\"body\":{\"ops\":[{\"insert\":\"hi\\n\"}]}},\"5\":[]}"));

  return doc;
}

typedef struct {
  char         *path;
  PatchesValue *value;   /* borrowed from the document */
} Node;

static void
node_clear (gpointer data)
{
  Node *node = data;

  g_free (node->path);
}

static gboolean
is_text_value (PatchesValue *value)
{
  PatchesValue *ops;

  if (patches_value_get_kind (value) == PATCHES_VALUE_TEXT)
    return TRUE;
  if (patches_value_get_kind (value) != PATCHES_VALUE_OBJECT || patches_value_object_get_size (value) != 1)
    return FALSE;
  ops = patches_value_object_get (value, "ops");
  return ops != NULL && patches_value_get_kind (ops) == PATCHES_VALUE_ARRAY;
}

/* Every value of @value with its path; text values are leaves. */
static void
collect_nodes (PatchesValue *value,
               const char   *path,
               GArray       *nodes)
{
  Node node = { g_strdup (path), value };

  g_array_append_val (nodes, node);

  if (is_text_value (value))
    return;

  if (patches_value_get_kind (value) == PATCHES_VALUE_ARRAY)
    for (guint i = 0; i < patches_value_array_get_length (value); i++)
      {
        g_autofree char *key = g_strdup_printf ("%u", i);
        g_autofree char *child = patches_pointer_append (path, key);

        collect_nodes (patches_value_array_get (value, i), child, nodes);
      }
  else if (patches_value_get_kind (value) == PATCHES_VALUE_OBJECT)
    for (guint i = 0; i < patches_value_object_get_size (value); i++)
      {
        g_autofree char *child = patches_pointer_append (path, patches_value_object_key_at (value, i));

        collect_nodes (patches_value_object_value_at (value, i), child, nodes);
      }
}

static Node *
pick_node (GRand    *rand,
           GArray   *nodes,
           gboolean  with_root)
{
  guint start = with_root ? 0 : 1;

  if (nodes->len <= start)
    return NULL;
  return &g_array_index (nodes, Node, g_rand_int_range (rand, start, nodes->len));
}

static Node *
pick_container (GRand  *rand,
                GArray *nodes)
{
  for (int tries = 0; tries < 8; tries++)
    {
      Node *node = pick_node (rand, nodes, TRUE);
      PatchesValueType kind;

      if (node == NULL)
        return NULL;
      kind = patches_value_get_kind (node->value);
      if ((kind == PATCHES_VALUE_OBJECT || kind == PATCHES_VALUE_ARRAY) && !is_text_value (node->value))
        return node;
    }
  return NULL;
}

static gboolean
is_object (Node *node)
{
  return node != NULL && patches_value_get_kind (node->value) == PATCHES_VALUE_OBJECT;
}

/* The UTF-16 units of a text value (an embed is one unit, 'E'). */
static GArray *
text_units (PatchesValue *value)
{
  g_autoptr(PatchesDelta) owned = NULL;
  const PatchesDelta *delta;
  GArray *units = g_array_new (FALSE, FALSE, sizeof (gunichar2));

  if (patches_value_get_kind (value) == PATCHES_VALUE_TEXT)
    delta = patches_text_get_delta (patches_value_get_text (value));
  else
    delta = owned = patches_delta_from_value (value, NULL);

  for (guint i = 0; delta && i < patches_delta_get_n_ops (delta); i++)
    {
      const PatchesDeltaOp *op = patches_delta_get_op (delta, i);

      if (op->text != NULL)
        g_array_append_vals (units, op->text, op->length);
      else
        {
          gunichar2 e = 'E';

          for (gint64 k = 0; k < op->length; k++)
            g_array_append_val (units, e);
        }
    }

  return units;
}

/* A length from @pos that does not end inside a surrogate pair. */
static gint64
random_run (GRand  *rand,
            GArray *units,
            gint64  pos,
            gint64  limit)
{
  gint64 end;

  if (limit <= pos)
    return 0;
  end = pos + g_rand_int_range (rand, 1, (gint32) MIN (limit - pos, 6) + 1);
  while (end < limit && end > pos &&
         (g_array_index (units, gunichar2, end) & 0xFC00) == 0xDC00)
    end++;
  if (end > limit)
    return 0;
  return end - pos;
}

/* A change that stays before the final newline of @units (a change past
 * it is repaired on apply and could not be undone exactly). */
static PatchesValue *
random_text_change (GRand  *rand,
                    GArray *units)
{
  static const char * const inserts[] = { "X", "yz", "\xf0\x9f\x91\x8d", "\n", "\xc3\xa9" };
  g_autoptr(PatchesDelta) change = patches_delta_new ();
  gint64 limit = units->len > 0 ? (gint64) units->len - 1 : 0;
  gint64 pos = 0;
  int steps = g_rand_int_range (rand, 1, 5);

  for (int i = 0; i < steps; i++)
    {
      gint64 run = random_run (rand, units, pos, limit);
      g_autoptr(PatchesValue) attrs = NULL;

      switch (g_rand_int_range (rand, 0, 5))
        {
        case 0:
          patches_delta_retain (change, run, NULL);
          pos += run;
          break;
        case 1:
          attrs = parse (g_rand_boolean (rand) ? "{\"bold\":null}" : "{\"italic\":true}");
          patches_delta_retain (change, run, attrs);
          pos += run;
          break;
        case 2:
          patches_delta_delete (change, run);
          pos += run;
          break;
        case 3:
          if (g_rand_boolean (rand))
            attrs = parse ("{\"bold\":true}");
          patches_delta_insert_utf8 (change, inserts[g_rand_int_range (rand, 0, G_N_ELEMENTS (inserts))], attrs);
          break;
        default:
          {
            g_autoptr(PatchesValue) embed = parse ("{\"image\":\"b.png\"}");

            patches_delta_insert_embed (change, embed, NULL);
          }
          break;
        }
    }

  return patches_delta_to_value (change);
}

static char *
new_key_path (GRand        *rand,
              Node         *container,
              gboolean      must_be_new)
{
  for (int tries = 0; tries < 6; tries++)
    {
      const char *key = object_keys[g_rand_int_range (rand, 0, G_N_ELEMENTS (object_keys))];

      if (!must_be_new || !patches_value_object_has (container->value, key))
        return patches_pointer_append (container->path, key);
    }
  return NULL;
}

static char *
array_slot_path (GRand    *rand,
                 Node     *container,
                 gboolean  allow_dash,
                 gint      extra)
{
  guint len = patches_value_array_get_length (container->value);
  g_autofree char *key = NULL;

  if (allow_dash && g_rand_int_range (rand, 0, 4) == 0)
    return patches_pointer_append (container->path, "-");
  if ((gint) len + extra < 0)
    return NULL;
  key = g_strdup_printf ("%d", g_rand_int_range (rand, 0, (gint) len + extra + 1));
  return patches_pointer_append (container->path, key);
}

static gboolean
path_is_within (const char *path,
                const char *ancestor)
{
  return strcmp (path, ancestor) == 0 || patches_pointer_is_under (path, ancestor);
}

static char *
parent_path (const char *path)
{
  const char *slash = strrchr (path, '/');

  return slash ? g_strndup (path, slash - path) : g_strdup ("");
}

/* One op that applies strictly to @state and that the reference promises
 * to undo, or %NULL. */
static PatchesOp *
random_invertible_op (GRand        *rand,
                      PatchesValue *state)
{
  g_autoptr(GArray) nodes = g_array_new (FALSE, FALSE, sizeof (Node));
  g_autofree char *path = NULL;
  g_autoptr(PatchesOp) op = NULL;
  Node *node, *container;

  g_array_set_clear_func (nodes, node_clear);
  collect_nodes (state, "", nodes);

  switch (g_rand_int_range (rand, 0, 13))
    {
    case 0: /* add */
    case 1:
      container = pick_container (rand, nodes);
      if (container == NULL)
        return NULL;
      op = patches_op_new (PATCHES_OP_ADD, "", NULL, random_value (rand, 2));
      if (patches_value_get_kind (container->value) == PATCHES_VALUE_ARRAY)
        {
          /* A soft add (an empty container is one) is skipped where the
           * index exists, yet inverts to a remove there: not undone. */
          if (patches_value_is_empty_container (op->value))
            return NULL;
          path = array_slot_path (rand, container, TRUE, 0);
        }
      else
        {
          path = new_key_path (rand, container, FALSE);
          if (g_rand_int_range (rand, 0, 6) == 0)
            op->soft = patches_value_new_bool (TRUE);
        }
      if (path == NULL)
        return NULL;
      patches_op_set_path (op, path);
      break;

    case 2: /* remove */
      node = pick_node (rand, nodes, FALSE);
      if (node == NULL)
        return NULL;
      /* Its inverse would add an empty container at an index that
       * exists, which is a soft add and skipped (§4.2). */
      if (patches_value_is_empty_container (node->value))
        {
          g_autofree char *parent = parent_path (node->path);

          if (patches_value_get_kind (patches_pointer_lookup (state, parent)) == PATCHES_VALUE_ARRAY)
            return NULL;
        }
      op = patches_op_new (PATCHES_OP_REMOVE, node->path, NULL, NULL);
      break;

    case 3: /* replace, at the root sometimes */
      node = pick_node (rand, nodes, g_rand_int_range (rand, 0, 10) == 0);
      if (node == NULL)
        return NULL;
      op = patches_op_new (PATCHES_OP_REPLACE, node->path, NULL, random_value (rand, 2));
      break;

    case 4: /* replace of a missing key */
      container = pick_container (rand, nodes);
      if (!is_object (container) || (path = new_key_path (rand, container, TRUE)) == NULL)
        return NULL;
      op = patches_op_new (PATCHES_OP_REPLACE, path, NULL, random_value (rand, 1));
      break;

    case 5: /* copy */
    case 6: /* move */
      {
        gboolean is_move = g_rand_boolean (rand);
        g_autofree char *from_parent = NULL;

        node = pick_node (rand, nodes, FALSE);
        container = pick_container (rand, nodes);
        if (node == NULL || container == NULL || path_is_within (container->path, node->path))
          return NULL;
        from_parent = parent_path (node->path);
        if (is_move)
          {
            PatchesValue *parent = patches_pointer_lookup (state, from_parent);

            /* The destination is read after the removal: keep it out of
             * an array whose indexes that shifts. */
            if (patches_value_get_kind (parent) == PATCHES_VALUE_ARRAY &&
                patches_pointer_is_under (container->path, from_parent))
              return NULL;
          }
        if (patches_value_get_kind (container->value) == PATCHES_VALUE_ARRAY)
          path = array_slot_path (rand, container, !is_move,
                                  is_move && strcmp (container->path, from_parent) == 0 ? -1 : 0);
        else
          /* A move onto an existing key is not undone (the key's value
           * is lost). */
          path = new_key_path (rand, container, is_move);
        if (path == NULL)
          return NULL;
        op = patches_op_new (is_move ? PATCHES_OP_MOVE : PATCHES_OP_COPY, path, node->path, NULL);
      }
      break;

    case 7: /* test */
      node = pick_node (rand, nodes, TRUE);
      if (node == NULL)
        return NULL;
      op = patches_op_new (PATCHES_OP_TEST, node->path, NULL, patches_value_ref (node->value));
      break;

    case 8: /* @inc @bit @max @min */
    case 9:
      {
        static const PatchesOpKind kinds[] = { PATCHES_OP_INC, PATCHES_OP_BIT, PATCHES_OP_MAX, PATCHES_OP_MIN };
        PatchesOpKind kind = kinds[g_rand_int_range (rand, 0, G_N_ELEMENTS (kinds))];
        PatchesValue *value;

        if (g_rand_boolean (rand))
          {
            node = pick_node (rand, nodes, FALSE);
            if (node == NULL || is_text_value (node->value))
              return NULL;
            path = g_strdup (node->path);
          }
        else
          {
            container = pick_container (rand, nodes);
            if (!is_object (container) || (path = new_key_path (rand, container, TRUE)) == NULL)
              return NULL;
          }
        if (kind == PATCHES_OP_BIT)
          value = patches_value_new_number (g_rand_int_range (rand, 0, 1 << 30));
        else if (kind != PATCHES_OP_INC && g_rand_int_range (rand, 0, 4) == 0)
          value = patches_value_new_string (g_rand_boolean (rand) ? "m" : "a");
        else
          value = patches_value_new_number (g_rand_int_range (rand, -50, 50));
        op = patches_op_new (kind, path, NULL, value);
      }
      break;

    default: /* @txt on a text value, or a missing key */
      {
        g_autoptr(GArray) units = NULL;

        for (guint i = 0; i < nodes->len && path == NULL; i++)
          {
            Node *candidate = &g_array_index (nodes, Node, g_rand_int_range (rand, 0, nodes->len));

            if (is_text_value (candidate->value))
              {
                path = g_strdup (candidate->path);
                units = text_units (candidate->value);
              }
          }
        if (path == NULL || g_rand_int_range (rand, 0, 5) == 0)
          {
            g_clear_pointer (&path, g_free);
            g_clear_pointer (&units, g_array_unref);
            container = pick_container (rand, nodes);
            if (!is_object (container) || (path = new_key_path (rand, container, TRUE)) == NULL)
              return NULL;
            units = g_array_new (FALSE, FALSE, sizeof (gunichar2));
            g_array_append_val (units, (gunichar2) { '\n' });
          }
        op = patches_op_new (PATCHES_OP_TXT, path, NULL, random_text_change (rand, units));
      }
      break;
    }

  return g_steal_pointer (&op);
}

static char *
ops_to_json (GPtrArray *ops)
{
  g_autoptr(PatchesValue) value = patches_ops_to_value (ops);

  return patches_value_to_json (value);
}

static void
test_property_invert_round_trip (void)
{
  guint iterations;
  g_autoptr(GRand) rand = test_rand_new (&iterations);
  guint total_ops = 0;

  for (guint iter = 0; iter < iterations; iter++)
    {
      g_autoptr(PatchesValue) doc = random_document (rand);
      g_autoptr(PatchesValue) state = patches_value_ref (doc);
      g_autoptr(GPtrArray) ops = patches_ops_new ();
      g_autoptr(GPtrArray) inverse = NULL;
      g_autoptr(GError) error = NULL;
      int n = g_rand_int_range (rand, 1, 7);

      for (int tries = 0; tries < 40 && (int) ops->len < n; tries++)
        {
          g_autoptr(PatchesOp) op = random_invertible_op (rand, state);
          g_autoptr(GPtrArray) one = NULL;

          if (op == NULL)
            continue;
          one = patches_ops_new ();
          g_ptr_array_add (one, patches_op_ref (op));
          if (!patches_ops_apply (one, &state, PATCHES_APPLY_STRICT, NULL, NULL, NULL))
            continue;
          g_ptr_array_add (ops, g_steal_pointer (&op));
        }
      total_ops += ops->len;

      inverse = patches_ops_invert (ops, doc, &error);
      if (inverse == NULL ||
          !patches_ops_apply (inverse, &state, PATCHES_APPLY_STRICT, NULL, NULL, &error) ||
          !patches_value_equal (state, doc))
        {
          g_autofree char *doc_json = patches_value_to_json (doc);
          g_autofree char *ops_json = ops_to_json (ops);
          g_autofree char *inv_json = inverse ? ops_to_json (inverse) : g_strdup ("(none)");
          g_autofree char *got_json = state ? patches_value_to_json (state) : g_strdup ("(no document)");

          g_error ("case %u: doc %s\nops %s\ninverse %s\nerror %s\nrestored %s", iter, doc_json, ops_json,
                   inv_json, error ? error->message : "(none)", got_json);
        }
    }

  g_test_message ("%u ops inverted", total_ops);
}

/* A chain of composable ops over a few related paths, and now and then an
 * op without a compose rule. */
static PatchesOp *
random_composable_op (GRand        *rand,
                      PatchesValue *state)
{
  static const char * const leaves[] = { "/a", "/b", "/o/x", "/o/y" };
  const char *leaf = leaves[g_rand_int_range (rand, 0, G_N_ELEMENTS (leaves))];

  switch (g_rand_int_range (rand, 0, 16))
    {
    case 0:
    case 1:
      return patches_op_new (PATCHES_OP_REPLACE, leaf, NULL, patches_value_new_number (g_rand_int_range (rand, -9, 10)));
    case 2:
      {
        g_autofree char *json = g_strdup_printf ("{\"x\":%d}", g_rand_int_range (rand, 0, 9));

        return patches_op_new (PATCHES_OP_REPLACE, "/o", NULL, parse (json));
      }
    case 3:
    case 4:
    case 5:
      return patches_op_new (PATCHES_OP_INC, leaf, NULL, patches_value_new_number (g_rand_int_range (rand, -20, 21)));
    case 6:
    case 7:
      return patches_op_new (PATCHES_OP_BIT, leaf, NULL, patches_value_new_number (g_rand_int_range (rand, 0, 1 << 30)));
    case 8:
      return patches_op_new (PATCHES_OP_MAX, leaf, NULL, patches_value_new_number (g_rand_int_range (rand, -20, 21)));
    case 9:
      return patches_op_new (PATCHES_OP_MIN, leaf, NULL, patches_value_new_number (g_rand_int_range (rand, -20, 21)));
    case 10:
      return patches_op_new (PATCHES_OP_ADD, "/z", NULL, patches_value_new_number (1));
    case 11:
      return patches_op_new (PATCHES_OP_REPLACE, "/t", NULL, parse ("{\"ops\":[{\"insert\":\"new\\n\"}]}"));
    default:
      {
        PatchesValue *text = patches_pointer_lookup (state, "/t");
        g_autoptr(GArray) units = NULL;

        if (text != NULL)
          units = text_units (text);
        else
          {
            units = g_array_new (FALSE, FALSE, sizeof (gunichar2));
            g_array_append_val (units, (gunichar2) { '\n' });
          }
        return patches_op_new (PATCHES_OP_TXT, "/t", NULL, random_text_change (rand, units));
      }
    }
}

static void
test_property_compose_apply (void)
{
  guint iterations;
  g_autoptr(GRand) rand = test_rand_new (&iterations);
  guint total_in = 0, total_out = 0;

  for (guint iter = 0; iter < iterations; iter++)
    {
      g_autoptr(PatchesValue) doc = parse (g_rand_boolean (rand)
                                           ? "{\"a\":1,\"o\":{\"x\":2},\"t\":{\"ops\":[{\"insert\":\"Hello world\\n\"}]}}"
                                           : "{}");
      g_autoptr(PatchesValue) state = patches_value_ref (doc);
      g_autoptr(PatchesValue) composed_state = patches_value_ref (doc);
      g_autoptr(GPtrArray) ops = patches_ops_new ();
      g_autoptr(GPtrArray) composed = NULL;
      g_autoptr(GError) error = NULL;
      int n = g_rand_int_range (rand, 1, 12);

      for (int i = 0; i < n; i++)
        {
          g_autoptr(PatchesOp) op = random_composable_op (rand, state);
          g_autoptr(GPtrArray) one = patches_ops_new ();

          g_ptr_array_add (one, patches_op_ref (op));
          if (patches_ops_apply (one, &state, PATCHES_APPLY_STRICT, NULL, NULL, NULL))
            g_ptr_array_add (ops, g_steal_pointer (&op));
        }

      composed = patches_ops_compose (ops, &error);
      total_in += ops->len;
      total_out += composed ? composed->len : 0;
      if (composed == NULL ||
          !patches_ops_apply (composed, &composed_state, PATCHES_APPLY_STRICT, NULL, NULL, &error) ||
          !patches_value_equal (state, composed_state))
        {
          g_autofree char *doc_json = patches_value_to_json (doc);
          g_autofree char *ops_json = ops_to_json (ops);
          g_autofree char *composed_json = composed ? ops_to_json (composed) : g_strdup ("(none)");
          g_autofree char *want = patches_value_to_json (state);
          g_autofree char *got = composed_state ? patches_value_to_json (composed_state) : g_strdup ("(none)");

          g_error ("case %u: doc %s\nops %s\ncomposed %s\nerror %s\nsequential %s\ncomposed gave %s", iter,
                   doc_json, ops_json, composed_json, error ? error->message : "(none)", want, got);
        }
    }

  g_test_message ("%u ops composed into %u", total_in, total_out);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Compose/catalogue/61-chains-across-paths", test_catalogue_61);
  g_test_add_func ("/Compose/catalogue/62-ancestor-breaks-chain", test_catalogue_62);
  g_test_add_func ("/Compose/text/chain", test_compose_text_chain);
  g_test_add_func ("/Compose/text/builder-ops", test_compose_text_builder_ops);
  g_test_add_func ("/Compose/text/not-a-delta", test_compose_text_not_delta);
  g_test_add_func ("/Compose/quirks", test_compose_quirks);
  g_test_add_func ("/Compose/paths", test_compose_paths);
  g_test_add_func ("/Compose/values", test_compose_values);
  g_test_add_func ("/Compose/input-untouched", test_compose_input_untouched);

  g_test_add_func ("/Invert/catalogue/63-object", test_catalogue_63);
  g_test_add_func ("/Invert/catalogue/64-array", test_catalogue_64);
  g_test_add_func ("/Invert/catalogue/65-mismatch", test_catalogue_65);
  g_test_add_func ("/Invert/catalogue/66-numeric-object-key", test_catalogue_66);
  g_test_add_func ("/Invert/catalogue/67-round-trip", test_catalogue_67);
  g_test_add_func ("/Invert/basic", test_invert_basic);
  g_test_add_func ("/Invert/errors", test_invert_errors);
  g_test_add_func ("/Invert/no-document", test_invert_no_document);
  g_test_add_func ("/Invert/primitive-parents", test_invert_primitive_parents);
  g_test_add_func ("/Invert/text", test_invert_text);
  g_test_add_func ("/Invert/move-copy", test_invert_move_copy);
  g_test_add_func ("/Invert/document-untouched", test_invert_document_untouched);
  g_test_add_func ("/Invert/public", test_invert_public);

  g_test_add_func ("/Js/to-number", test_js_to_number);
  g_test_add_func ("/Js/add", test_js_add);
  g_test_add_func ("/Js/less-than", test_js_less_than);

  g_test_add_func ("/Property/invert-round-trip", test_property_invert_round_trip);
  g_test_add_func ("/Property/compose-then-apply", test_property_compose_apply);

  return g_test_run ();
}
