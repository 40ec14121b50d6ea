/* test-transform.c: transformPatch (OPERATIONS.md §7)
 *
 * The edge-case catalogue of §14.3 and the OOF table of §7.9 as unit
 * tests, and property tests on random ops with a seeded PRNG.  The
 * properties are ones the reference promises; pairwise convergence is not
 * one of them in general (§7.10), so it is only checked for plain-text
 * `@txt` pairs at one path without tied inserts, where the delta
 * transform's priority plays no part.
 *
 * Set PATCHES_TEST_SEED to replay a seed, PATCHES_LONG_TESTS=1 for 100×
 * more random cases.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches.h"
#include "patches-patch-private.h"

/* Helpers {{{ */

/* JSON written with single quotes, so the tables stay readable. */
static PatchesValue *
value_parse (const char *squoted)
{
  g_autofree char *json = g_strdup (squoted);
  g_autoptr(GError) error = NULL;
  PatchesValue *value;

  g_strdelimit (json, "'", '"');
  value = patches_value_parse (json, -1, &error);
  g_assert_no_error (error);

  return value;
}

static GPtrArray *
ops_parse (const char *squoted)
{
  g_autoptr(PatchesValue) value = value_parse (squoted);
  g_autoptr(GError) error = NULL;
  GPtrArray *ops = patches_ops_from_value (value, &error);

  g_assert_no_error (error);
  return ops;
}

static char *
ops_to_json (GPtrArray *ops)
{
  g_autoptr(PatchesValue) value = patches_ops_to_value (ops);

  return patches_value_to_json (value);
}

static void
assert_ops_equal (GPtrArray  *got,
                  const char *expect_squoted,
                  const char *context)
{
  g_autoptr(PatchesValue) got_value = patches_ops_to_value (got);
  g_autoptr(PatchesValue) expect = value_parse (expect_squoted);

  if (!patches_value_equal (got_value, expect))
    {
      g_autofree char *g = patches_value_to_json (got_value);
      g_autofree char *e = patches_value_to_json (expect);

      g_error ("%s: got %s, expected %s", context, g, e);
    }
}

/* T(thisOps; otherOps) with a null document. */
static void
assert_transform (const char *this_ops,
                  const char *other_ops,
                  gboolean    other_ops_first,
                  const char *expect)
{
  g_autoptr(GPtrArray) t = ops_parse (this_ops);
  g_autoptr(GPtrArray) o = ops_parse (other_ops);
  g_autoptr(GPtrArray) got = patches_ops_transform (t, o, other_ops_first);
  g_autofree char *context = g_strdup_printf ("T(%s; %s%s)", this_ops, other_ops,
                                              other_ops_first ? "; otherOpsFirst" : "");

  assert_ops_equal (got, expect, context);
}

/* Applies @first then @second (strict) to @doc and compares with @expect. */
static void
assert_replay (const char *doc,
               GPtrArray  *first,
               GPtrArray  *second,
               const char *expect)
{
  g_autoptr(PatchesValue) state = value_parse (doc);
  g_autoptr(PatchesValue) want = value_parse (expect);
  g_autoptr(GError) error = NULL;

  patches_ops_apply (first, &state, PATCHES_APPLY_STRICT, NULL, NULL, &error);
  g_assert_no_error (error);
  patches_ops_apply (second, &state, PATCHES_APPLY_STRICT, NULL, NULL, &error);
  g_assert_no_error (error);

  if (!patches_value_equal (state, want))
    {
      g_autofree char *g = patches_value_to_json (state);
      g_error ("replay on %s: got %s, expected %s", doc, g, expect);
    }
}

/* T(this; other), then both applied on @doc. */
static void
assert_transform_replay (const char *doc,
                         const char *this_ops,
                         const char *other_ops,
                         const char *expect_ops,
                         const char *expect_doc)
{
  g_autoptr(GPtrArray) t = ops_parse (this_ops);
  g_autoptr(GPtrArray) o = ops_parse (other_ops);
  g_autoptr(GPtrArray) got = patches_ops_transform (t, o, FALSE);

  if (expect_ops != NULL)
    assert_ops_equal (got, expect_ops, other_ops);
  assert_replay (doc, t, got, expect_doc);
}

/* }}} */

/* §14.3 catalogue {{{ */

/* 34: two clients initialising the same maps merge into one another. */
static void
test_catalogue_soft_merge (void)
{
  assert_transform ("[{'op':'add','path':'/obj','value':{}},{'op':'add','path':'/obj/foo','value':{}}]",
                    "[{'op':'add','path':'/obj','value':{}},{'op':'add','path':'/obj/foo','value':{}},"
                    " {'op':'add','path':'/obj/foo/bar','value':'hi1'}]",
                    FALSE,
                    "[{'op':'add','path':'/obj/foo/bar','value':'hi1'}]");
  assert_transform ("[{'op':'add','path':'/obj','value':{},'soft':true},"
                    " {'op':'add','path':'/obj/foo','value':{},'soft':true}]",
                    "[{'op':'add','path':'/obj','value':{},'soft':true},"
                    " {'op':'add','path':'/obj/foo','value':{},'soft':true},"
                    " {'op':'add','path':'/obj/foo/bar','value':'hi1','soft':true}]",
                    FALSE,
                    "[{'op':'add','path':'/obj/foo/bar','value':'hi1','soft':true}]");

  /* 35: empty objects and empty arrays do not cancel each other */
  assert_transform ("[{'op':'add','path':'/data','value':{}}]",
                    "[{'op':'add','path':'/data','value':[]}]",
                    FALSE,
                    "[{'op':'add','path':'/data','value':[]}]");
}

/* 36: a non-empty add clobbers later ops under it, unless they re-add it. */
static void
test_catalogue_add_clobbers (void)
{
  assert_transform ("[{'op':'add','path':'/obj','value':{'test':true}}]",
                    "[{'op':'add','path':'/obj/foo','value':1}]",
                    FALSE, "[]");
  assert_transform ("[{'op':'add','path':'/obj','value':{'test':true}}]",
                    "[{'op':'add','path':'/obj','value':{'x':1}},{'op':'add','path':'/obj/foo','value':1}]",
                    FALSE,
                    "[{'op':'add','path':'/obj','value':{'x':1}},{'op':'add','path':'/obj/foo','value':1}]");
}

/* 37, 38, 59: array inserts with a null document. */
static void
test_catalogue_array_insert (void)
{
  assert_transform ("[{'op':'add','path':'/array/0','value':1}]",
                    "[{'op':'add','path':'/array/1','value':2}]",
                    FALSE, "[{'op':'add','path':'/array/2','value':2}]");

  /* Without a document every canonical integer key is an index, even at
   * the root (the reference gives "unchanged" only with a real object). */
  assert_transform ("[{'op':'add','path':'/0','value':1}]",
                    "[{'op':'add','path':'/1','value':2}]",
                    FALSE, "[{'op':'add','path':'/2','value':2}]");

  /* Same index: the later insert is not shifted */
  assert_transform ("[{'op':'add','path':'/1','value':'b'}]",
                    "[{'op':'add','path':'/1','value':'a'}]",
                    FALSE, "[{'op':'add','path':'/1','value':'a'}]");

  /* A move inside one array is remove + insert without a document */
  assert_transform ("[{'op':'move','from':'/1','path':'/3'}]",
                    "[{'op':'add','path':'/3','value':'x'}]",
                    FALSE, "[{'op':'add','path':'/2','value':'x'}]");
}

/* 39, 40: writes at a removed index, removes at a replaced one. */
static void
test_catalogue_removed_index (void)
{
  assert_transform ("[{'op':'remove','path':'/1'}]",
                    "[{'op':'replace','path':'/1','value':'x'}]",
                    FALSE, "[{'op':'add','path':'/1','value':'x'}]");
  assert_transform ("[{'op':'remove','path':'/0'}]",
                    "[{'op':'@txt','path':'/0','value':[]}]",
                    FALSE,
                    "[{'op':'add','path':'/0','value':null},{'op':'@txt','path':'/0','value':[]}]");
  assert_transform ("[{'op':'replace','path':'/1','value':'hi1'}]",
                    "[{'op':'remove','path':'/1'}]",
                    FALSE, "[]");
  assert_transform ("[{'op':'replace','path':'/x','value':'hi1'}]",
                    "[{'op':'remove','path':'/x'}]",
                    FALSE, "[]");
}

/* 41: in-place ops keep later removes and sets; children are dropped. */
static void
test_catalogue_in_place (void)
{
  assert_transform ("[{'op':'@inc','path':'/x','value':4}]",
                    "[{'op':'remove','path':'/x'}]",
                    FALSE, "[{'op':'remove','path':'/x'}]");
  assert_transform ("[{'op':'@inc','path':'/x','value':4}]",
                    "[{'op':'@inc','path':'/x','value':2}]",
                    FALSE, "[{'op':'@inc','path':'/x','value':2}]");
  assert_transform ("[{'op':'@inc','path':'/1','value':4}]",
                    "[{'op':'add','path':'/1/foo','value':1}]",
                    FALSE, "[]");
}

/* 42–46: moves and copies. */
static void
test_catalogue_move_copy (void)
{
  assert_transform ("[{'op':'move','from':'/4','path':'/10'}]",
                    "[{'op':'remove','path':'/4'}]",
                    FALSE, "[{'op':'remove','path':'/10'}]");
  assert_transform ("[{'op':'move','from':'/4','path':'/10'}]",
                    "[{'op':'add','path':'/4/1','value':'a'}]",
                    FALSE, "[{'op':'add','path':'/10/1','value':'a'}]");
  assert_transform ("[{'op':'move','from':'/5','path':'/1'}]",
                    "[{'op':'remove','path':'/5'}]",
                    FALSE, "[{'op':'remove','path':'/1'}]");

  /* 43: a copy of a removed element is dropped and its destination is
   * treated as removed too */
  assert_transform ("[{'op':'remove','path':'/1'}]",
                    "[{'op':'copy','from':'/1','path':'/2'},{'op':'add','path':'/4','value':'foo'}]",
                    FALSE, "[{'op':'add','path':'/2','value':'foo'}]");

  /* 44 */
  assert_transform ("[{'op':'remove','path':'/5'}]",
                    "[{'op':'move','from':'/5','path':'/1'},{'op':'replace','path':'/3/x','value':'y'}]",
                    FALSE, "[{'op':'replace','path':'/2/x','value':'y'}]");

  /* 45: a later remove of the source follows the value */
  assert_transform ("[{'op':'move','from':'/x','path':'/y'}]",
                    "[{'op':'remove','path':'/x'},{'op':'add','path':'/x','value':true}]",
                    FALSE,
                    "[{'op':'remove','path':'/y'},{'op':'add','path':'/x','value':true}]");
  assert_transform ("[{'op':'move','from':'/x','path':'/y'},{'op':'move','from':'/y','path':'/z'}]",
                    "[{'op':'move','from':'/x/a','path':'/x/b'}]",
                    FALSE, "[{'op':'move','from':'/z/a','path':'/z/b'}]");

  /* 46 */
  assert_transform ("[{'op':'copy','from':'/y','path':'/x'}]",
                    "[{'op':'add','path':'/x/y','value':true}]",
                    FALSE, "[]");
}

/* 47–50: rich text. */
static void
test_catalogue_text (void)
{
  static const char *forms[] = {
    "[{'insert':'test'}]", "{'ops':[{'insert':'test'}]}",
  };
  static const char *later_forms[] = {
    "[{'insert':'testing'}]", "{'ops':[{'insert':'testing'}]}",
  };

  /* 47: the earlier insert stays first; output is always an op array */
  for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
    for (guint j = 0; j < G_N_ELEMENTS (later_forms); j++)
      {
        g_autofree char *t = g_strdup_printf ("[{'op':'@txt','path':'/text','value':%s}]", forms[i]);
        g_autofree char *o = g_strdup_printf ("[{'op':'@txt','path':'/text','value':%s}]", later_forms[j]);

        assert_transform (t, o, FALSE,
                          "[{'op':'@txt','path':'/text','value':[{'retain':4},{'insert':'testing'}]}]");
      }

  /* 48 */
  assert_transform ("[{'op':'@txt','path':'/a','value':[{'insert':'x'}]}]",
                    "[{'op':'@txt','path':'/a/text','value':[{'insert':'y'}]}]",
                    FALSE, "[]");
  assert_transform ("[{'op':'@txt','path':'/text','value':[{'insert':'x'}]}]",
                    "[{'op':'replace','path':'/text','value':true}]",
                    FALSE, "[{'op':'replace','path':'/text','value':true}]");

  /* 49: the earlier side is advanced past each later @txt */
  assert_transform_replay ("{'list':[{},{'text':{'ops':[{'insert':'bbb\\n'}]}}]}",
                           "[{'op':'@txt','path':'/list/1/text','value':[{'retain':1},{'insert':'AAA'}]},"
                           " {'op':'@txt','path':'/list/1/text','value':[{'retain':2},{'insert':'B'}]}]",
                           "[{'op':'@txt','path':'/list/1/text','value':[{'retain':2},{'insert':'S'}]}]",
                           "[{'op':'@txt','path':'/list/1/text','value':[{'retain':6},{'insert':'S'}]}]",
                           "{'list':[{},{'text':{'ops':[{'insert':'bABAAbSb\\n'}]}}]}");

  /* 50: a replaced text keeps a later edit of it, a replaced parent not */
  assert_transform_replay ("{'list':[{},{'text':{'ops':[{'insert':'old\\n'}]}}]}",
                           "[{'op':'replace','path':'/list/1/text','value':{'ops':[{'insert':'rewritten\\n'}]}}]",
                           "[{'op':'@txt','path':'/list/1/text','value':[{'insert':'x'}]}]",
                           "[{'op':'@txt','path':'/list/1/text','value':[{'insert':'x'}]}]",
                           "{'list':[{},{'text':{'ops':[{'insert':'xrewritten\\n'}]}}]}");
  assert_transform ("[{'op':'replace','path':'/list/1','value':{'text':{'ops':[{'insert':'new\\n'}]}}}]",
                    "[{'op':'@txt','path':'/list/1/text','value':[{'insert':'x'}]}]",
                    FALSE, "[]");
}

/* 51, 52: appends and index shifts, replayed. */
static void
test_catalogue_array_replay (void)
{
  assert_transform_replay ("{'arr':['a','b']}",
                           "[{'op':'add','path':'/arr/0','value':'S'}]",
                           "[{'op':'add','path':'/arr/-','value':'x'}]",
                           "[{'op':'add','path':'/arr/-','value':'x'}]",
                           "{'arr':['S','a','b','x']}");
  assert_transform ("[{'op':'remove','path':'/arr/0'}]",
                    "[{'op':'copy','from':'/arr/-','path':'/other'}]",
                    FALSE, "[{'op':'copy','from':'/arr/-','path':'/other'}]");

  assert_transform_replay ("['a','b','c']",
                           "[{'op':'remove','path':'/1'}]",
                           "[{'op':'remove','path':'/1'},{'op':'replace','path':'/1','value':'V'}]",
                           NULL, "['a','V']");
  assert_transform_replay ("['a','b','c']",
                           "[{'op':'remove','path':'/1'}]",
                           "[{'op':'replace','path':'/1','value':'B2'},{'op':'replace','path':'/2','value':'C2'}]",
                           NULL, "['a','B2','C2']");
  assert_transform_replay ("['a','b','c']",
                           "[{'op':'add','path':'/1','value':'S'}]",
                           "[{'op':'add','path':'/0','value':'X'},{'op':'replace','path':'/2','value':'V'}]",
                           NULL, "['X','a','S','V','c']");
}

/* 53, 60: a replaced source; unknown ops change nothing. */
static void
test_catalogue_misc (void)
{
  assert_transform ("[{'op':'replace','path':'/x','value':5}]",
                    "[{'op':'move','from':'/x','path':'/y'},{'op':'replace','path':'/y/foo','value':99}]",
                    FALSE, "[]");
  assert_transform ("[{'op':'frob','path':'/x','value':1}]",
                    "[{'op':'add','path':'/x','value':1}]",
                    FALSE, "[{'op':'add','path':'/x','value':1}]");
  assert_transform ("[{'op':'test','path':'/x','value':1}]",
                    "[{'op':'move','from':'/x','path':'/x'}]",
                    FALSE, "[{'op':'move','from':'/x','path':'/x'}]");
}

/* 54–58: otherOpsFirst. */
static void
test_catalogue_oof (void)
{
  /* 54: same-source moves, the queue move wins */
  assert_transform ("[{'op':'move','from':'/y','path':'/x'}]",
                    "[{'op':'move','from':'/y','path':'/foo'}]",
                    TRUE, "[]");
  assert_transform ("[{'op':'move','from':'/y','path':'/x'}]",
                    "[{'op':'move','from':'/y','path':'/foo'},{'op':'replace','path':'/foo/name','value':'a'}]",
                    TRUE, "[{'op':'replace','path':'/x/name','value':'a'}]");

  /* 55: a committed set at the source kills the queue move (ghost kill) */
  assert_transform ("[{'op':'move','from':'/y','path':'/x'}]",
                    "[{'op':'add','path':'/y','value':2}]",
                    TRUE, "[{'op':'remove','path':'/x'},{'op':'add','path':'/y','value':2}]");
  assert_transform ("[{'op':'move','from':'/y','path':'/x'}]",
                    "[{'op':'replace','path':'/y','value':2}]",
                    TRUE, "[{'op':'remove','path':'/x'},{'op':'replace','path':'/y','value':2}]");

  /* 56: later writer wins; a superseded move-in still consumed its source */
  assert_transform ("[{'op':'add','path':'/x','value':1}]",
                    "[{'op':'add','path':'/x','value':2}]",
                    TRUE, "[]");
  assert_transform ("[{'op':'add','path':'/x','value':1}]",
                    "[{'op':'add','path':'/x','value':2}]",
                    FALSE, "[{'op':'add','path':'/x','value':2}]");
  assert_transform ("[{'op':'add','path':'/x','value':1}]",
                    "[{'op':'move','from':'/y','path':'/x'}]",
                    TRUE, "[{'op':'remove','path':'/y'}]");

  /* 57: a superseded set that escapes by a later move is composed */
  assert_transform ("[{'op':'add','path':'/x','value':5}]",
                    "[{'op':'add','path':'/x','value':[9]},{'op':'move','from':'/x','path':'/z'}]",
                    TRUE, "[{'op':'add','path':'/z','value':[9]}]");
  assert_transform ("[{'op':'add','path':'/x','value':5}]",
                    "[{'op':'add','path':'/x','value':{'a':1}},{'op':'replace','path':'/x/a','value':2},"
                    " {'op':'move','from':'/x','path':'/z'}]",
                    TRUE,
                    "[{'op':'add','path':'/z','value':{'a':1}},{'op':'replace','path':'/z/a','value':2}]");
  assert_transform ("[{'op':'add','path':'/x','value':5}]",
                    "[{'op':'move','from':'/a','path':'/x'},{'op':'move','from':'/x','path':'/z'}]",
                    TRUE, "[{'op':'move','from':'/a','path':'/z'}]");

  /* 58: inserts at an array index are never superseded */
  assert_transform ("[{'op':'replace','path':'/arr/1','value':'q'}]",
                    "[{'op':'add','path':'/arr/1','value':'w'}]",
                    TRUE, "[{'op':'add','path':'/arr/1','value':'w'}]");
  assert_transform ("[{'op':'replace','path':'/arr/1','value':'q'}]",
                    "[{'op':'replace','path':'/arr/1','value':'w'}]",
                    TRUE, "[]");
  assert_transform ("[{'op':'add','path':'/tags/-','value':'b'}]",
                    "[{'op':'add','path':'/tags/-','value':'a'}]",
                    TRUE, "[{'op':'add','path':'/tags/-','value':'a'}]");
  assert_transform ("[{'op':'move','from':'/tags/1','path':'/tags/0'}]",
                    "[{'op':'add','path':'/tags/1','value':'w'}]",
                    TRUE, "[{'op':'add','path':'/tags/2','value':'w'}]");
}

/* The OOF outcome table of §7.9 (object paths, the queue op is thisOps). */
static void
test_oof_table (void)
{
  static const char *queue[] = {
    "{'op':'add','path':'/x','value':1}",
    "{'op':'replace','path':'/x','value':1}",
    "{'op':'copy','from':'/y','path':'/x'}",
    "{'op':'move','from':'/y','path':'/x'}",
    "{'op':'move','from':'/x','path':'/z'}",
    "{'op':'remove','path':'/x'}",
  };
  static const char *committed[] = {
    "{'op':'add','path':'/x','value':2}",
    "{'op':'replace','path':'/x','value':2}",
    "{'op':'copy','from':'/q','path':'/x'}",
    "{'op':'move','from':'/q','path':'/x'}",
    "{'op':'@inc','path':'/x','value':2}",
    "{'op':'move','from':'/x','path':'/w'}",
    "{'op':'add','path':'/x/c','value':2}",
  };
  static const char *expect[G_N_ELEMENTS (queue)][G_N_ELEMENTS (committed)] = {
    { "[]", "[]", "[]", "[{'op':'remove','path':'/q'}]", "[]", "[]", "[]" },
    { "[]", "[]", "[]", "[{'op':'remove','path':'/q'}]", "[]", "[]", "[]" },
    { "[]", "[]", "[]", "[{'op':'remove','path':'/q'}]", "[]", "[]", "[]" },
    { "[]", "[]", "[]", "[{'op':'remove','path':'/q'}]", "[]", "[]", "[]" },
    { "[{'op':'remove','path':'/z'},{'op':'add','path':'/x','value':2}]",
      "[{'op':'remove','path':'/z'},{'op':'replace','path':'/x','value':2}]",
      "[{'op':'remove','path':'/z'},{'op':'copy','from':'/q','path':'/x'}]",
      "[{'op':'remove','path':'/z'},{'op':'move','from':'/q','path':'/x'}]",
      "[{'op':'@inc','path':'/z','value':2}]",
      "[]",
      "[{'op':'add','path':'/z/c','value':2}]" },
    { "[{'op':'add','path':'/x','value':2}]",
      "[{'op':'replace','path':'/x','value':2}]",
      "[{'op':'copy','from':'/q','path':'/x'}]",
      "[{'op':'move','from':'/q','path':'/x'}]",
      "[{'op':'@inc','path':'/x','value':2}]",
      "[]", "[]" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (queue); i++)
    for (guint j = 0; j < G_N_ELEMENTS (committed); j++)
      {
        g_autofree char *t = g_strdup_printf ("[%s]", queue[i]);
        g_autofree char *o = g_strdup_printf ("[%s]", committed[j]);

        assert_transform (t, o, TRUE, expect[i][j]);
      }
}

/* }}} */

/* Properties {{{ */

static guint32 test_seed;

static guint
n_random_cases (void)
{
  const char *long_tests = g_getenv ("PATCHES_LONG_TESTS");

  if (long_tests != NULL && g_strcmp0 (long_tests, "0") != 0 && *long_tests != '\0')
    return 1000000;
  return 10000;
}

static GRand *
test_rand_new (const char *what)
{
  const char *env = g_getenv ("PATCHES_TEST_SEED");

  if (test_seed == 0)
    test_seed = env != NULL ? (guint32) g_ascii_strtoull (env, NULL, 0) : g_random_int ();

  g_test_message ("%s: seed %u (replay with PATCHES_TEST_SEED=%u)", what, test_seed, test_seed);
  return g_rand_new_with_seed (test_seed);
}

/* Path keys chosen to hit every classification: canonical and
 * non-canonical indexes, the append key, marks, escapes, huge numbers. */
static const char *path_keys[] = {
  "a", "b", "x", "0", "1", "2", "3", "10", "-", "", "01", "$", "$a", "~0", "~1",
  "99999999999999999999", "9007199254740993", "1e3", "ops", "text",
};

static char *
random_path (GRand *rand)
{
  GString *path;
  guint depth;

  switch (g_rand_int_range (rand, 0, 40))
    {
    case 0: return g_strdup ("");
    case 1: return g_strdup ("a");          /* no leading slash */
    case 2: return g_strdup ("$/a");        /* looks marked */
    default: break;
    }

  path = g_string_new (NULL);
  depth = g_rand_int_range (rand, 1, 5);
  for (guint i = 0; i < depth; i++)
    {
      g_string_append_c (path, '/');
      g_string_append (path, path_keys[g_rand_int_range (rand, 0, G_N_ELEMENTS (path_keys))]);
    }

  return g_string_free (path, FALSE);
}

static PatchesValue *
random_value (GRand *rand)
{
  static const char *values[] = {
    "null", "true", "false", "0", "1", "-2.5", "1e300", "'s'", "''", "{}", "[]",
    "{'a':1}", "[1,2]", "[{'insert':'ab'}]", "[{'retain':2},{'insert':'x'}]",
    "[{'retain':1},{'delete':1}]", "[{'insert':'q','attributes':{'bold':true}}]",
    "{'ops':[{'insert':'q'}]}", "{'ops':'x'}", "{'ops':[]}",
    "[{'retain':0},{'insert':''}]", "[{'insert':{'image':'a.png'}}]",
  };

  return value_parse (values[g_rand_int_range (rand, 0, G_N_ELEMENTS (values))]);
}

/* A random op, valid or not: unknown names, odd paths, from fields on any
 * op (equal to the path, empty, or pointing anywhere), soft flags of any
 * type, extra members. */
static PatchesOp *
random_op (GRand *rand)
{
  static const char *names[] = {
    "add", "remove", "replace", "move", "copy", "test",
    "@inc", "@bit", "@max", "@min", "@txt", "frob", "",
  };
  g_autoptr(PatchesValue) obj = patches_value_new_object ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = random_path (rand);
  PatchesOp *op;
  int r;

  patches_value_object_set (obj, "op",
                            patches_value_new_string (names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))]));
  patches_value_object_set (obj, "path", patches_value_new_string (path));

  r = g_rand_int_range (rand, 0, 10);
  if (r < 4)
    patches_value_object_set (obj, "from", patches_value_new_string_take (random_path (rand)));
  else if (r == 4)
    patches_value_object_set (obj, "from", patches_value_new_string (path));
  else if (r == 5)
    patches_value_object_set (obj, "from", patches_value_new_string (""));

  if (g_rand_int_range (rand, 0, 10) < 7)
    patches_value_object_set (obj, "value", random_value (rand));
  if (g_rand_int_range (rand, 0, 10) == 0)
    patches_value_object_set (obj, "soft", random_value (rand));
  if (g_rand_int_range (rand, 0, 20) == 0)
    patches_value_object_set (obj, "ts", patches_value_new_number (1));

  op = patches_op_from_value (obj, &error);
  g_assert_no_error (error);

  return op;
}

static GPtrArray *
random_ops (GRand *rand,
            guint  max)
{
  GPtrArray *ops = patches_ops_new ();
  guint n = g_rand_int_range (rand, 0, max + 1);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (ops, random_op (rand));

  return ops;
}

static void
assert_well_formed (GPtrArray  *ops,
                    const char *context)
{
  g_assert_nonnull (ops);
  for (guint i = 0; i < ops->len; i++)
    {
      PatchesOp *op = g_ptr_array_index (ops, i);

      if (op == NULL || op->path == NULL || op->name == NULL)
        g_error ("%s: op %u is incomplete (seed %u)", context, i, test_seed);
    }
}

/* Random (even garbage) ops: transform never crashes, yields complete ops,
 * leaves its inputs alone, is deterministic, and an empty side is
 * identity: T([]; L) = L and T(L'; []) = []. */
static void
test_property_garbage (void)
{
  g_autoptr(GRand) rand = test_rand_new ("garbage");
  g_autoptr(GPtrArray) empty = patches_ops_new ();
  guint n = n_random_cases ();

  for (guint c = 0; c < n; c++)
    {
      g_autoptr(GPtrArray) this_ops = random_ops (rand, 4);
      g_autoptr(GPtrArray) other_ops = random_ops (rand, 5);
      g_autofree char *this_before = ops_to_json (this_ops);
      g_autofree char *other_before = ops_to_json (other_ops);
      gboolean oof = g_rand_boolean (rand);
      g_autoptr(GPtrArray) got = patches_ops_transform (this_ops, other_ops, oof);
      g_autoptr(GPtrArray) again = patches_ops_transform (this_ops, other_ops, oof);
      g_autoptr(GPtrArray) none = patches_ops_transform (this_ops, empty, oof);
      g_autoptr(GPtrArray) same = patches_ops_transform (empty, other_ops, oof);
      g_autofree char *this_after = ops_to_json (this_ops);
      g_autofree char *other_after = ops_to_json (other_ops);
      g_autofree char *got_json = ops_to_json (got);
      g_autofree char *again_json = ops_to_json (again);
      g_autofree char *context = g_strdup_printf ("case %u, T(%s; %s%s)", c, this_before, other_before,
                                                  oof ? "; otherOpsFirst" : "");

      assert_well_formed (got, context);

      if (g_strcmp0 (this_before, this_after) != 0 || g_strcmp0 (other_before, other_after) != 0)
        g_error ("%s: inputs were modified (seed %u)", context, test_seed);
      if (g_strcmp0 (got_json, again_json) != 0)
        g_error ("%s: not deterministic: %s vs %s (seed %u)", context, got_json, again_json, test_seed);
      if (none->len != 0)
        g_error ("%s: transforming an empty list gave ops (seed %u)", context, test_seed);

      g_assert_cmpuint (same->len, ==, other_ops->len);
      for (guint i = 0; i < same->len; i++)
        if (g_ptr_array_index (same, i) != g_ptr_array_index (other_ops, i))
          g_error ("%s: T([]; L) is not L (seed %u)", context, test_seed);
    }
}

/* Ops confined to one subtree (/p or /q): object keys, indexes, appends,
 * odd keys below the first level; a from, when present, stays in the
 * same subtree. */
static PatchesOp *
random_subtree_op (GRand      *rand,
                   const char *root,
                   gboolean    allow_noop)
{
  static const char *names[] = {
    "add", "remove", "replace", "move", "copy", "test", "@inc", "@bit", "@max", "@min", "@txt",
  };
  g_autoptr(PatchesValue) obj = patches_value_new_object ();
  g_autoptr(GError) error = NULL;
  const char *name = names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))];
  g_autofree char *path = NULL;
  g_autofree char *from = NULL;

  do
    {
      GString *p = g_string_new (root);
      guint depth = g_rand_int_range (rand, 0, 3);

      for (guint i = 0; i < depth; i++)
        {
          g_string_append_c (p, '/');
          g_string_append (p, path_keys[g_rand_int_range (rand, 0, G_N_ELEMENTS (path_keys))]);
        }
      g_free (path);
      path = g_string_free (p, FALSE);

      g_clear_pointer (&from, g_free);
      if (strcmp (name, "move") == 0 || strcmp (name, "copy") == 0)
        from = g_strdup_printf ("%s/%s", root, path_keys[g_rand_int_range (rand, 0, G_N_ELEMENTS (path_keys))]);
    }
  while (!allow_noop && from != NULL && strcmp (from, path) == 0);

  patches_value_object_set (obj, "op", patches_value_new_string (name));
  patches_value_object_set (obj, "path", patches_value_new_string (path));
  if (from != NULL)
    patches_value_object_set (obj, "from", patches_value_new_string (from));
  if (strcmp (name, "remove") != 0 && strcmp (name, "move") != 0 && strcmp (name, "copy") != 0)
    patches_value_object_set (obj, "value", random_value (rand));
  if (g_rand_int_range (rand, 0, 10) == 0)
    patches_value_object_set (obj, "soft", patches_value_new_bool (TRUE));

  {
    PatchesOp *op = patches_op_from_value (obj, &error);
    g_assert_no_error (error);
    return op;
  }
}

/* Ops on disjoint subtrees do not interact: T(ops under /p; ops under /q)
 * leaves the later ops exactly as they are.  Likewise a list of `test`
 * ops changes nothing (§7.7.6). */
static void
test_property_independent (void)
{
  g_autoptr(GRand) rand = test_rand_new ("independent");
  guint n = n_random_cases ();

  for (guint c = 0; c < n; c++)
    {
      g_autoptr(GPtrArray) this_ops = patches_ops_new ();
      g_autoptr(GPtrArray) other_ops = patches_ops_new ();
      g_autoptr(GPtrArray) tests = patches_ops_new ();
      gboolean oof = g_rand_boolean (rand);
      guint n_this = g_rand_int_range (rand, 1, 5);
      guint n_other = g_rand_int_range (rand, 1, 6);
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GPtrArray) untouched = NULL;

      for (guint i = 0; i < n_this; i++)
        g_ptr_array_add (this_ops, random_subtree_op (rand, "/p", TRUE));
      for (guint i = 0; i < n_other; i++)
        g_ptr_array_add (other_ops, random_subtree_op (rand, "/q", FALSE));
      for (guint i = 0; i < n_this; i++)
        {
          g_autofree char *path = random_path (rand);
          g_ptr_array_add (tests, patches_op_new (PATCHES_OP_TEST, path, NULL, random_value (rand)));
        }

      got = patches_ops_transform (this_ops, other_ops, oof);
      untouched = patches_ops_transform (tests, other_ops, oof);

      for (guint k = 0; k < 2; k++)
        {
          GPtrArray *result = k == 0 ? got : untouched;
          g_autofree char *got_json = ops_to_json (result);
          g_autofree char *other_json = ops_to_json (other_ops);

          if (g_strcmp0 (got_json, other_json) != 0)
            {
              g_autofree char *this_json = ops_to_json (k == 0 ? this_ops : tests);

              g_error ("case %u: T(%s; %s%s) = %s changed unrelated ops (seed %u)",
                       c, this_json, other_json, oof ? "; otherOpsFirst" : "", got_json, test_seed);
            }
        }
    }
}

/* A random plain-text change of a document of @length UTF-16 units that
 * never touches the final newline (so the @txt repair of §6.10 plays no
 * part).  Records the base offsets at which it inserts. */
static PatchesDelta *
random_text_change (GRand  *rand,
                    gint64  length,
                    GArray *insert_offsets)
{
  static const char *pieces[] = { "a", "xy", "é", "Q!", " ", "zz z" };
  g_autoptr(PatchesDelta) change = patches_delta_new ();
  gint64 pos = 0;
  guint steps = g_rand_int_range (rand, 1, 6);

  for (guint s = 0; s < steps; s++)
    {
      switch (g_rand_int_range (rand, 0, 3))
        {
        case 0:
          patches_delta_insert_utf8 (change, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))], NULL);
          break;
        case 1:
          if (pos < length)
            {
              gint64 n = g_rand_int_range (rand, 1, (gint32) MIN (length - pos, 3) + 1);
              patches_delta_delete (change, n);
              pos += n;
            }
          break;
        default:
          if (pos < length)
            {
              gint64 n = g_rand_int_range (rand, 1, (gint32) (length - pos) + 1);
              patches_delta_retain (change, n, NULL);
              pos += n;
            }
          break;
        }
    }
  patches_delta_chop (change);

  /* Offsets from the normalised delta: push moves an insert in front of
   * an adjacent delete. */
  pos = 0;
  for (guint i = 0; i < patches_delta_get_n_ops (change); i++)
    {
      const PatchesDeltaOp *op = patches_delta_get_op (change, i);

      if (op->kind == PATCHES_DELTA_INSERT)
        g_array_append_val (insert_offsets, pos);
      else
        pos += op->length;
    }

  return g_steal_pointer (&change);
}

static gboolean
offsets_intersect (GArray *a,
                   GArray *b)
{
  for (guint i = 0; i < a->len; i++)
    for (guint j = 0; j < b->len; j++)
      if (g_array_index (a, gint64, i) == g_array_index (b, gint64, j))
        return TRUE;
  return FALSE;
}

static PatchesValue *
replay (const char *doc_json,
        GPtrArray  *first,
        GPtrArray  *second,
        const char *context)
{
  g_autoptr(GError) error = NULL;
  PatchesValue *state = patches_value_parse (doc_json, -1, &error);

  g_assert_no_error (error);
  if (!patches_ops_apply (first, &state, PATCHES_APPLY_STRICT, NULL, NULL, &error) ||
      !patches_ops_apply (second, &state, PATCHES_APPLY_STRICT, NULL, NULL, &error))
    g_error ("%s: apply failed: %s (seed %u)", context, error->message, test_seed);

  return state;
}

/* Plain-text @txt pairs at one path converge when no two inserts tie:
 * committed then T(committed; incoming) gives the same document as
 * incoming then T(incoming; committed; otherOpsFirst).  (With a tie both
 * calls give their thisOps priority, the documented one-frame-off
 * behaviour, so those pairs are skipped.) */
static void
test_property_text_converges (void)
{
  static const char *bases[] = { "", "a", "hello", "héllo wörld", "abc def ghi" };
  g_autoptr(GRand) rand = test_rand_new ("text-converges");
  guint n = n_random_cases ();
  guint checked = 0;

  for (guint c = 0; c < n; c++)
    {
      const char *base = bases[g_rand_int_range (rand, 0, G_N_ELEMENTS (bases))];
      gint64 length = patches_utf16_length_of_utf8 (base, -1);
      g_autoptr(GArray) c_offsets = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_autoptr(GArray) i_offsets = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_autoptr(GPtrArray) committed = patches_ops_new ();
      g_autoptr(GPtrArray) incoming = patches_ops_new ();
      g_autoptr(GPtrArray) transformed = NULL;
      g_autoptr(GPtrArray) advanced = NULL;
      g_autoptr(PatchesValue) a = NULL;
      g_autoptr(PatchesValue) b = NULL;
      g_autoptr(PatchesValue) doc = patches_value_new_object ();
      g_autoptr(PatchesValue) text = patches_value_new_object ();
      g_autoptr(PatchesValue) runs = patches_value_new_array ();
      g_autoptr(PatchesValue) run = patches_value_new_object ();
      g_autofree char *doc_json = NULL;
      g_autofree char *context = NULL;

      g_ptr_array_add (committed,
                       patches_op_new_text ("/t", random_text_change (rand, length, c_offsets)));
      g_ptr_array_add (incoming,
                       patches_op_new_text ("/t", random_text_change (rand, length, i_offsets)));
      if (offsets_intersect (c_offsets, i_offsets))
        continue;

      patches_value_object_set (run, "insert", patches_value_new_string_take (g_strconcat (base, "\n", NULL)));
      patches_value_array_append (runs, g_steal_pointer (&run));
      patches_value_object_set (text, "ops", g_steal_pointer (&runs));
      patches_value_object_set (doc, "t", g_steal_pointer (&text));
      doc_json = patches_value_to_json (doc);

      transformed = patches_ops_transform (committed, incoming, FALSE);
      advanced = patches_ops_transform (incoming, committed, TRUE);

      {
        g_autofree char *cj = ops_to_json (committed);
        g_autofree char *ij = ops_to_json (incoming);
        context = g_strdup_printf ("case %u, doc %s, committed %s, incoming %s", c, doc_json, cj, ij);
      }

      a = replay (doc_json, committed, transformed, context);
      b = replay (doc_json, incoming, advanced, context);

      if (!patches_value_equal (a, b))
        {
          g_autofree char *aj = patches_value_to_json (a);
          g_autofree char *bj = patches_value_to_json (b);

          g_error ("%s: diverged: %s vs %s (seed %u)", context, aj, bj, test_seed);
        }
      checked++;
    }

  g_test_message ("text-converges: %u of %u pairs had no tied insert", checked, n);
  g_assert_cmpuint (checked, >, n / 4);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/transform/catalogue/soft-merge", test_catalogue_soft_merge);
  g_test_add_func ("/transform/catalogue/add-clobbers", test_catalogue_add_clobbers);
  g_test_add_func ("/transform/catalogue/array-insert", test_catalogue_array_insert);
  g_test_add_func ("/transform/catalogue/removed-index", test_catalogue_removed_index);
  g_test_add_func ("/transform/catalogue/in-place", test_catalogue_in_place);
  g_test_add_func ("/transform/catalogue/move-copy", test_catalogue_move_copy);
  g_test_add_func ("/transform/catalogue/text", test_catalogue_text);
  g_test_add_func ("/transform/catalogue/array-replay", test_catalogue_array_replay);
  g_test_add_func ("/transform/catalogue/misc", test_catalogue_misc);
  g_test_add_func ("/transform/catalogue/other-ops-first", test_catalogue_oof);
  g_test_add_func ("/transform/oof-table", test_oof_table);
  g_test_add_func ("/transform/property/garbage", test_property_garbage);
  g_test_add_func ("/transform/property/independent", test_property_independent);
  g_test_add_func ("/transform/property/text-converges", test_property_text_converges);

  return g_test_run ();
}
