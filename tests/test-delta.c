/* test-delta.c: the rich-text delta engine (OPERATIONS.md §6)
 *
 * Examples of the specification, checked byte for byte against what
 * JSON.stringify prints for the reference, and property tests over random
 * documents and changes (seeded; PATCHES_LONG_TESTS=1 runs 100x more,
 * PATCHES_TEST_SEED=N replays a seed).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "patches.h"
#include "patches-delta.h"
#include "patches-delta-private.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static PatchesDelta *
delta_parse (const char *json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) value = patches_value_parse (json, -1, &error);
  PatchesDelta *delta;

  g_assert_no_error (error);
  delta = patches_delta_from_value (value, &error);
  g_assert_no_error (error);
  g_assert_nonnull (delta);

  return delta;
}

static char *
delta_json (const PatchesDelta *delta)
{
  GString *out = g_string_new (NULL);

  patches_delta_write_json (delta, out);
  g_assert_cmpuint (patches_delta_json_size (delta), ==, out->len);

  return g_string_free (out, FALSE);
}

#define assert_delta(delta, expect) G_STMT_START {          \
    g_autofree char *_json = delta_json (delta);            \
    g_assert_cmpstr (_json, ==, expect);                    \
  } G_STMT_END

static void
assert_compose (const char *a,
                const char *b,
                const char *expect)
{
  g_autoptr(PatchesDelta) da = delta_parse (a);
  g_autoptr(PatchesDelta) db = delta_parse (b);
  g_autoptr(PatchesDelta) result = patches_delta_compose (da, db);

  assert_delta (result, expect);
  /* Inputs are not modified. */
  assert_delta (da, a);
  assert_delta (db, b);
}

static void
assert_transform (const char *a,
                  const char *b,
                  gboolean    priority,
                  const char *expect)
{
  g_autoptr(PatchesDelta) da = delta_parse (a);
  g_autoptr(PatchesDelta) db = delta_parse (b);
  g_autoptr(PatchesDelta) result = patches_delta_transform (da, db, priority);

  assert_delta (result, expect);
}

/* ------------------------------------------------------------------ */
/* §6.2 push and chop                                                  */
/* ------------------------------------------------------------------ */

static void
test_push_empty_attributes (void)
{
  g_autoptr(PatchesDelta) d = delta_parse ("[{\"insert\":\"a\"}]");
  g_autoptr(PatchesDelta) raw = delta_parse ("[{\"insert\":\"a\",\"attributes\":{}}]");
  g_autoptr(PatchesValue) empty = patches_value_new_object ();
  PatchesDeltaOp op = { PATCHES_DELTA_INSERT, 1, (gunichar2 *) u"b", NULL, empty };

  /* [insert "a"] + push insert "b" {} → [insert "ab"] */
  patches_delta_push (d, &op);
  assert_delta (d, "[{\"insert\":\"ab\"}]");

  /* raw [insert "a" {}] + push insert "b" → two ops */
  op.attributes = NULL;
  patches_delta_push (raw, &op);
  assert_delta (raw, "[{\"insert\":\"a\",\"attributes\":{}},{\"insert\":\"b\"}]");
}

static void
test_push_builders (void)
{
  g_autoptr(PatchesDelta) d = patches_delta_new ();
  g_autoptr(PatchesValue) bold = patches_value_parse ("{\"bold\":true}", -1, NULL);
  g_autoptr(PatchesValue) empty = patches_value_new_object ();
  g_autoptr(PatchesValue) image = patches_value_parse ("{\"image\":\"a.png\"}", -1, NULL);

  /* retain(1).delete(2).insert("x") */
  patches_delta_retain (d, 1, NULL);
  patches_delta_delete (d, 2);
  patches_delta_insert_utf8 (d, "x", NULL);
  assert_delta (d, "[{\"retain\":1},{\"insert\":\"x\"},{\"delete\":2}]");

  /* Ignored: empty text, n <= 0; attributes only when non-empty. */
  patches_delta_insert_utf8 (d, "", bold);
  patches_delta_retain (d, 0, bold);
  patches_delta_retain (d, -3, NULL);
  patches_delta_delete (d, 0);
  assert_delta (d, "[{\"retain\":1},{\"insert\":\"x\"},{\"delete\":2}]");

  /* An insert goes before the trailing delete and merges with "x". */
  patches_delta_insert_utf8 (d, "y", empty);
  assert_delta (d, "[{\"retain\":1},{\"insert\":\"xy\"},{\"delete\":2}]");
  patches_delta_delete (d, 3);
  assert_delta (d, "[{\"retain\":1},{\"insert\":\"xy\"},{\"delete\":5}]");

  /* Embeds never merge. */
  patches_delta_insert_embed (d, image, NULL);
  patches_delta_insert_embed (d, image, NULL);
  assert_delta (d, "[{\"retain\":1},{\"insert\":\"xy\"},{\"insert\":{\"image\":\"a.png\"}},"
                   "{\"insert\":{\"image\":\"a.png\"}},{\"delete\":5}]");

  /* An insert before a lone delete goes to the front. */
  {
    g_autoptr(PatchesDelta) e = patches_delta_new ();

    patches_delta_delete (e, 1);
    patches_delta_insert_utf8 (e, "B", NULL);
    assert_delta (e, "[{\"insert\":\"B\"},{\"delete\":1}]");
  }

  /* Retains merge when attributes are deep-equal. */
  {
    g_autoptr(PatchesDelta) e = patches_delta_new ();
    g_autoptr(PatchesValue) bold2 = patches_value_parse ("{\"bold\":true}", -1, NULL);

    patches_delta_retain (e, 2, bold);
    patches_delta_retain (e, 3, bold2);
    patches_delta_retain (e, 1, NULL);
    assert_delta (e, "[{\"retain\":5,\"attributes\":{\"bold\":true}},{\"retain\":1}]");
    patches_delta_chop (e);
    /* chop: a retain carrying attributes stays */
    assert_delta (e, "[{\"retain\":5,\"attributes\":{\"bold\":true}}]");
    patches_delta_chop (e);
    assert_delta (e, "[{\"retain\":5,\"attributes\":{\"bold\":true}}]");
  }
}

/* ------------------------------------------------------------------ */
/* §6.3 zero-length ops                                                */
/* ------------------------------------------------------------------ */

static void
test_zero_length_ops (void)
{
  assert_compose ("[{\"insert\":\"abc\\n\"}]", "[{\"retain\":0},{\"insert\":\"X\"}]",
                  "[{\"insert\":\"abc\\nX\"}]");
  assert_compose ("[{\"insert\":\"abc\\n\"}]", "[{\"retain\":1},{\"delete\":0},{\"insert\":\"X\"}]",
                  "[{\"insert\":\"aX\"}]");
  assert_compose ("[{\"insert\":\"abc\\n\"}]", "[{\"retain\":1},{\"insert\":\"\"},{\"insert\":\"X\"}]",
                  "[{\"insert\":\"aXbc\\n\"}]");
  assert_transform ("[{\"retain\":0},{\"insert\":\"A\"}]", "[{\"retain\":2},{\"insert\":\"B\"}]", TRUE,
                    "[{\"retain\":1},{\"insert\":\"B\"}]");
}

/* ------------------------------------------------------------------ */
/* §6.4 compose                                                        */
/* ------------------------------------------------------------------ */

static void
test_compose (void)
{
  /* A null attribute of an inserted op is kept, even in a document. */
  assert_compose ("[{\"insert\":\"ab\\n\"}]", "[{\"insert\":\"x\",\"attributes\":{\"bold\":null}}]",
                  "[{\"insert\":\"x\",\"attributes\":{\"bold\":null}},{\"insert\":\"ab\\n\"}]");
  /* A retain running past the end survives (the @txt overrun). */
  assert_compose ("[{\"insert\":\"Short\\n\"}]", "[{\"retain\":21},{\"insert\":\"Long\"}]",
                  "[{\"insert\":\"Short\\n\"},{\"retain\":15},{\"insert\":\"Long\"}]");
  /* null on a retain: dropped on an insert, kept on a retain; partial
   * ops print attributes first. */
  assert_compose ("[{\"insert\":\"Hello\",\"attributes\":{\"bold\":true}},{\"insert\":\"\\n\"}]",
                  "[{\"retain\":2,\"attributes\":{\"bold\":null,\"italic\":true}}]",
                  "[{\"insert\":\"He\",\"attributes\":{\"italic\":true}},"
                  "{\"attributes\":{\"bold\":true},\"insert\":\"llo\"},{\"insert\":\"\\n\"}]");
  assert_compose ("[{\"retain\":2,\"attributes\":{\"bold\":true}}]",
                  "[{\"retain\":1,\"attributes\":{\"bold\":null}}]",
                  "[{\"retain\":1,\"attributes\":{\"bold\":null}},{\"attributes\":{\"bold\":true},\"retain\":1}]");
  /* Nested attribute maps compose recursively. */
  assert_compose ("[{\"retain\":3,\"attributes\":{\"style\":{\"color\":\"red\",\"size\":1}}}]",
                  "[{\"retain\":2,\"attributes\":{\"style\":{\"color\":null,\"weight\":2}}}]",
                  "[{\"retain\":2,\"attributes\":{\"style\":{\"color\":null,\"weight\":2,\"size\":1}}},"
                  "{\"attributes\":{\"style\":{\"color\":\"red\",\"size\":1}},\"retain\":1}]");
  /* Fast path moves whole inserts raw; the rest is concatenated. */
  assert_compose ("[{\"insert\":\"ab\"},{\"insert\":\"cd\",\"attributes\":{\"b\":true}},{\"insert\":\"ef\"}]",
                  "[{\"retain\":4},{\"insert\":\"X\"}]",
                  "[{\"insert\":\"ab\"},{\"insert\":\"cd\",\"attributes\":{\"b\":true}},{\"insert\":\"Xef\"}]");
  assert_compose ("[{\"insert\":\"A\",\"attributes\":{\"bold\":true}},{\"insert\":\"B\"},"
                  "{\"insert\":\"C\",\"attributes\":{\"bold\":true}},{\"insert\":\"D\"}]",
                  "[{\"retain\":1},{\"delete\":1}]",
                  "[{\"insert\":\"AC\",\"attributes\":{\"bold\":true}},{\"insert\":\"D\"}]");
  /* Emoji count two units. */
  assert_compose ("[{\"insert\":\"a\xf0\x9f\x98\x80" "b\"}]", "[{\"retain\":3},{\"insert\":\"X\"}]",
                  "[{\"insert\":\"a\xf0\x9f\x98\x80" "Xb\"}]");
  assert_compose ("[{\"delete\":1}]", "[{\"insert\":\"B\"}]", "[{\"insert\":\"B\"},{\"delete\":1}]");
  assert_compose ("[]", "[]", "[]");
}

/* ------------------------------------------------------------------ */
/* §6.5 transform, §6.6 transformPosition                              */
/* ------------------------------------------------------------------ */

static void
test_transform (void)
{
  assert_transform ("[{\"retain\":1},{\"delete\":3}]", "[{\"retain\":2},{\"delete\":3}]", TRUE,
                    "[{\"retain\":1},{\"delete\":1}]");
  assert_transform ("[{\"retain\":2},{\"insert\":\"XY\"}]", "[{\"retain\":1},{\"delete\":3}]", TRUE,
                    "[{\"retain\":1},{\"delete\":1},{\"retain\":2},{\"delete\":2}]");
  assert_transform ("[{\"insert\":\"A\"}]", "[{\"insert\":\"B\"}]", TRUE,
                    "[{\"retain\":1},{\"insert\":\"B\"}]");
  assert_transform ("[{\"insert\":\"A\"}]", "[{\"insert\":\"B\"}]", FALSE, "[{\"insert\":\"B\"}]");
  /* §6.9 example: transformAttributes */
  assert_transform ("[{\"retain\":1,\"attributes\":{\"bold\":true,\"color\":\"red\"}}]",
                    "[{\"retain\":1,\"attributes\":{\"bold\":null,\"size\":2}}]", TRUE,
                    "[{\"retain\":1,\"attributes\":{\"size\":2}}]");
  assert_transform ("[{\"retain\":1,\"attributes\":{\"bold\":true,\"color\":\"red\"}}]",
                    "[{\"retain\":1,\"attributes\":{\"bold\":null,\"size\":2}}]", FALSE,
                    "[{\"retain\":1,\"attributes\":{\"bold\":null,\"size\":2}}]");
  assert_transform ("[{\"retain\":2,\"attributes\":{\"style\":{\"color\":\"red\"}}}]",
                    "[{\"retain\":2,\"attributes\":{\"style\":{\"color\":\"blue\",\"size\":2}}}]", TRUE,
                    "[{\"retain\":2,\"attributes\":{\"style\":{\"size\":2}}}]");
}

/* The reference builds {style: undefined} here: a non-empty map that
 * JSON.stringify prints as {}, so the op is not chopped. */
static void
test_transform_undefined_member (void)
{
  g_autoptr(PatchesDelta) a = delta_parse ("[{\"retain\":2,\"attributes\":{\"style\":{\"color\":\"red\"}}}]");
  g_autoptr(PatchesDelta) b = delta_parse ("[{\"retain\":2,\"attributes\":{\"style\":{\"color\":\"blue\"}}}]");
  g_autoptr(PatchesDelta) t = patches_delta_transform (a, b, TRUE);
  g_autoptr(PatchesValue) value = patches_delta_to_value (t);
  g_autofree char *json = patches_value_to_json (value);
  g_autoptr(PatchesDelta) doc = delta_parse ("[{\"insert\":\"ab\",\"attributes\":{\"style\":{\"color\":\"red\"}}}]");
  g_autoptr(PatchesDelta) after = patches_delta_compose (doc, t);
  const PatchesDeltaOp *op;

  assert_delta (t, "[{\"retain\":2,\"attributes\":{}}]");
  g_assert_cmpstr (json, ==, "[{\"retain\":2,\"attributes\":{}}]");

  op = patches_delta_get_op (t, 0);
  g_assert_cmpuint (patches_value_object_get_size (op->attributes), ==, 1);
  g_assert_true (patches_attributes_is_undefined (patches_value_object_get (op->attributes, "style")));

  /* Applied in memory, the undefined member leaves the run as it was. */
  assert_delta (after, "[{\"insert\":\"ab\",\"attributes\":{\"style\":{\"color\":\"red\"}}}]");
}

static void
test_transform_position (void)
{
  g_autoptr(PatchesDelta) a = delta_parse ("[{\"retain\":2},{\"insert\":\"XY\"},{\"delete\":2}]");
  static const gint64 plain[] = { 0, 1, 4, 4, 4, 5, 6 };
  static const gint64 prio[] = { 0, 1, 2, 4, 4, 5, 6 };

  for (guint i = 0; i < G_N_ELEMENTS (plain); i++)
    {
      g_assert_cmpint (patches_delta_transform_position (a, i, FALSE), ==, plain[i]);
      g_assert_cmpint (patches_delta_transform_position (a, i, TRUE), ==, prio[i]);
    }
}

/* ------------------------------------------------------------------ */
/* §6.7 invert, slice                                                  */
/* ------------------------------------------------------------------ */

static void
test_invert (void)
{
  g_autoptr(PatchesDelta) change = delta_parse ("[{\"retain\":6,\"attributes\":{\"bold\":true}},"
                                                "{\"insert\":\"!\"},{\"delete\":5}]");
  g_autoptr(PatchesDelta) base = delta_parse ("[{\"insert\":\"Hello\\n\"},{\"insert\":\"World\"}]");
  g_autoptr(PatchesDelta) inverted = patches_delta_invert (change, base);
  g_autoptr(PatchesDelta) change2 = delta_parse ("[{\"retain\":6,\"attributes\":{\"bold\":null,\"italic\":true}}]");
  g_autoptr(PatchesDelta) base2 = delta_parse ("[{\"insert\":\"Hel\",\"attributes\":{\"bold\":true}},"
                                               "{\"insert\":\"lo\",\"attributes\":{\"bold\":true,\"italic\":true}},"
                                               "{\"insert\":\"\\n\"}]");
  g_autoptr(PatchesDelta) inverted2 = patches_delta_invert (change2, base2);
  g_autoptr(PatchesDelta) change3 = delta_parse ("[{\"insert\":\"\"},{\"retain\":1},{\"delete\":1}]");
  g_autoptr(PatchesDelta) base3 = delta_parse ("[{\"insert\":\"ab\\n\"}]");
  g_autoptr(PatchesDelta) inverted3 = patches_delta_invert (change3, base3);

  assert_delta (inverted, "[{\"retain\":6,\"attributes\":{\"bold\":null}},{\"insert\":\"World\"},{\"delete\":1}]");
  assert_delta (inverted2, "[{\"retain\":3,\"attributes\":{\"bold\":true,\"italic\":null}},"
                           "{\"retain\":2,\"attributes\":{\"bold\":true}},"
                           "{\"retain\":1,\"attributes\":{\"bold\":null,\"italic\":null}}]");
  /* An empty insert is ignored. */
  assert_delta (inverted3, "[{\"retain\":1},{\"insert\":\"b\"}]");
}

static void
test_slice_surrogates (void)
{
  /* "a😀b": slicing between the halves of the pair leaves lone
   * surrogates, written as JSON.stringify does. */
  g_autoptr(PatchesDelta) d = delta_parse ("[{\"insert\":\"a\xf0\x9f\x98\x80" "b\",\"attributes\":{\"x\":1}},{\"retain\":3}]");
  g_autoptr(PatchesDelta) s1 = patches_delta_slice (d, 0, 2);
  g_autoptr(PatchesDelta) s2 = patches_delta_slice (d, 2, PATCHES_DELTA_INFINITY);
  g_autoptr(PatchesValue) v1 = patches_delta_to_value (s1);
  g_autoptr(PatchesDelta) back = patches_delta_from_value (v1, NULL);
  const PatchesDeltaOp *op;

  assert_delta (s1, "[{\"attributes\":{\"x\":1},\"insert\":\"a\\ud83d\"}]");
  assert_delta (s2, "[{\"attributes\":{\"x\":1},\"insert\":\"\\ude00b\"},{\"retain\":3}]");

  /* to_value keeps the lone surrogate (as WTF-8), from_value reads it back. */
  g_assert_nonnull (back);
  op = patches_delta_get_op (back, 0);
  g_assert_cmpint (op->length, ==, 2);
  g_assert_cmpuint (op->text[1], ==, 0xD83D);
  assert_delta (back, "[{\"attributes\":{\"x\":1},\"insert\":\"a\\ud83d\"}]");
}

/* ------------------------------------------------------------------ */
/* §6.8 diff                                                           */
/* ------------------------------------------------------------------ */

static void
test_diff (void)
{
  g_autoptr(PatchesDelta) a = delta_parse ("[{\"insert\":\"abc\",\"attributes\":{\"b\":true}}]");
  g_autoptr(PatchesDelta) b = delta_parse ("[{\"insert\":\"abXc\"}]");
  g_autoptr(PatchesDelta) d = patches_delta_diff (a, b, NULL);
  g_autoptr(PatchesDelta) w1 = delta_parse ("[{\"insert\":\"The quick brown fox\\n\"}]");
  g_autoptr(PatchesDelta) w2 = delta_parse ("[{\"insert\":\"The slow brown dog jumped\\n\"}]");
  g_autoptr(PatchesDelta) dw = patches_delta_diff (w1, w2, NULL);
  g_autoptr(PatchesDelta) e1 = delta_parse ("[{\"insert\":{\"image\":\"a\"}}]");
  g_autoptr(PatchesDelta) e2 = delta_parse ("[{\"insert\":{\"image\":\"b\"}}]");
  g_autoptr(PatchesDelta) de = patches_delta_diff (e1, e2, NULL);
  g_autoptr(PatchesDelta) change = delta_parse ("[{\"retain\":1}]");
  g_autoptr(GError) error = NULL;
  PatchesDelta *bad;

  assert_delta (d, "[{\"retain\":2,\"attributes\":{\"b\":null}},{\"insert\":\"X\"},"
                   "{\"retain\":1,\"attributes\":{\"b\":null}}]");
  assert_delta (dw, "[{\"retain\":4},{\"insert\":\"slow\"},{\"delete\":5},{\"retain\":7},"
                    "{\"insert\":\"d\"},{\"delete\":1},{\"retain\":1},{\"insert\":\"g jumped\"},{\"delete\":1}]");
  assert_delta (de, "[{\"insert\":{\"image\":\"b\"}},{\"delete\":1}]");

  bad = patches_delta_diff (a, change, &error);
  g_assert_null (bad);
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA);
  g_assert_cmpstr (error->message, ==, "diff() called on non-document");
  g_clear_error (&error);
  bad = patches_delta_diff (change, a, &error);
  g_assert_null (bad);
  g_assert_cmpstr (error->message, ==, "diff() called with non-document");
}

/* ------------------------------------------------------------------ */
/* §6.10 values: parsing and errors                                    */
/* ------------------------------------------------------------------ */

static void
test_from_value (void)
{
  static const struct {
    const char *json;
    const char *message;  /* substring of the error, NULL when valid */
  } cases[] = {
    { "[]", NULL },
    { "{\"ops\":[{\"insert\":\"hi\"}]}", NULL },
    { "[{\"attributes\":{\"b\":1},\"insert\":\"x\"},{\"retain\":0},{\"delete\":0},{\"insert\":\"\"}]", NULL },
    { "[{\"insert\":{\"image\":\"a\"}},{\"insert\":1},{\"insert\":false},{\"insert\":[1]}]", NULL },
    { "\"abc\"", "not an op array" },
    { "{\"foo\":1}", "not an op array" },
    { "{\"ops\":\"x\"}", "not an op array" },
    { "null", "not an op array" },
    { "3", "not an op array" },
    { "[5]", "op 0 is not an object" },
    { "[{\"insert\":\"a\"},{\"retain\":-1}]", "op 1 has a negative retain" },
    { "[{\"delete\":1.5}]", "op 0 has a non-integer delete" },
    { "[{\"delete\":\"3\"}]", "op 0 has a non-numeric delete" },
    { "[{\"retain\":1e300}]", "op 0 has a retain that is too large" },
    { "[{\"insert\":null}]", "op 0 has a null insert" },
    { "[{}]", "op 0 has no insert, retain or delete" },
    { "[{\"retain\":1,\"insert\":\"x\"}]", "op 0 has more than one" },
    { "[{\"insert\":\"x\",\"attributes\":5}]", "op 0 has attributes that are not an object" },
    { "[{\"insert\":\"x\",\"attributes\":null}]", "op 0 has attributes that are not an object" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PatchesValue) value = patches_value_parse (cases[i].json, -1, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(PatchesDelta) delta = patches_delta_from_value (value, &error);

      if (cases[i].message == NULL)
        {
          g_assert_no_error (error);
          g_assert_nonnull (delta);
        }
      else
        {
          g_assert_null (delta);
          g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA);
          g_assert_nonnull (strstr (error->message, cases[i].message));
          g_assert_true (g_str_has_prefix (error->message, "Invalid delta"));
        }
    }

  {
    g_autoptr(GError) error = NULL;
    g_assert_null (patches_delta_from_value (NULL, &error));
    g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA);
  }
}

static void
test_json_output (void)
{
  /* Member order as given is kept for raw ops; escapes as JSON.stringify. */
  const char *json = "[{\"attributes\":{\"b\":1},\"insert\":\"x\\\"\\\\\\b\\t\\n\\f\\r\\u0001\\u001f\x7f\xe2\x80\xa8/\"},"
                     "{\"insert\":{\"image\":\"a\"}},{\"retain\":3,\"attributes\":{\"2\":1,\"a\":2}},{\"delete\":2}]";
  g_autoptr(PatchesDelta) d = delta_parse (json);
  g_autoptr(PatchesValue) value = patches_delta_to_value (d);
  g_autofree char *via_value = patches_value_to_json (value);

  assert_delta (d, json);
  g_assert_cmpstr (via_value, ==, json);
  g_assert_cmpint (patches_delta_length (d), ==, 1 + 13 + 1 + 3 + 2 - 1);
  g_assert_false (patches_delta_is_document (d));
}

static void
test_utf16_offsets (void)
{
  const char *s = "a\xc3\xa9\xf0\x9f\x98\x80" "b";  /* a é 😀 b */

  g_assert_cmpint (patches_utf16_length_of_utf8 (s, -1), ==, 5);
  g_assert_cmpint (patches_utf16_length_of_utf8 (s, 3), ==, 2);
  g_assert_cmpint (patches_utf16_offset_from_char_offset (s, 0), ==, 0);
  g_assert_cmpint (patches_utf16_offset_from_char_offset (s, 2), ==, 2);
  g_assert_cmpint (patches_utf16_offset_from_char_offset (s, 3), ==, 4);
  g_assert_cmpint (patches_utf16_offset_from_char_offset (s, 4), ==, 5);
  g_assert_cmpint (patches_utf16_offset_from_char_offset (s, 99), ==, 5);
  g_assert_cmpint (patches_char_offset_from_utf16_offset (s, 2), ==, 2);
  g_assert_cmpint (patches_char_offset_from_utf16_offset (s, 3), ==, 2);
  g_assert_cmpint (patches_char_offset_from_utf16_offset (s, 4), ==, 3);
  g_assert_cmpint (patches_char_offset_from_utf16_offset (s, 5), ==, 4);
  g_assert_cmpint (patches_char_offset_from_utf16_offset (s, 99), ==, 4);
}

/* A long document and a one-character change: the compose must not cost
 * more than a copy of the document. */
static void
test_large_compose (void)
{
  g_autoptr(PatchesDelta) doc = patches_delta_new ();
  g_autoptr(PatchesValue) bold = patches_value_parse ("{\"bold\":true}", -1, NULL);
  g_autoptr(PatchesDelta) result = NULL;
  g_autoptr(PatchesDelta) change = patches_delta_new ();
  gint64 length;

  for (guint i = 0; i < 20000; i++)
    patches_delta_insert_utf8 (doc, "word word word ", (i % 2) ? bold : NULL);
  patches_delta_insert_utf8 (doc, "\n", NULL);
  length = patches_delta_length (doc);

  patches_delta_retain (change, length / 2, NULL);
  patches_delta_insert_utf8 (change, "X", NULL);

  for (guint i = 0; i < 50; i++)
    {
      g_autoptr(PatchesDelta) next = patches_delta_compose (result ? result : doc, change);

      g_clear_pointer (&result, patches_delta_free);
      result = g_steal_pointer (&next);
    }

  g_assert_cmpint (patches_delta_length (result), ==, length + 50);
  g_assert_cmpuint (patches_delta_get_n_ops (result), ==, 20001);
}

/* ------------------------------------------------------------------ */
/* Property tests                                                      */
/* ------------------------------------------------------------------ */

static guint
n_property_cases (void)
{
  const char *env = g_getenv ("PATCHES_LONG_TESTS");

  return (env != NULL && g_str_equal (env, "1")) ? 1000000 : 10000;
}

static guint32
property_seed (void)
{
  const char *env = g_getenv ("PATCHES_TEST_SEED");

  if (env != NULL)
    return (guint32) g_ascii_strtoull (env, NULL, 10);
  return (guint32) g_test_rand_int ();
}

/* Property generators.  @nested_null allows change attributes that set an
 * object-valued key to null, or hold a null or an empty map inside a
 * nested map.  The reference does not satisfy the algebraic properties
 * for those (each case below was checked against the JavaScript library),
 * so the compose, convergence and diff properties leave them out:
 *  - compose is not associative: a∘b keeps {"font":{"sub":{"a":null}}}
 *    inside a map that survives, so doc∘(a∘b) stores the null while
 *    (doc∘a)∘b removes it; and {"style":null} then {"style":{"color":"g"}}
 *    composes to the second map alone, which doc∘(a∘b) merges into the old
 *    style instead of replacing it;
 *  - transform does not converge: {"style":{"color":"blue"}} against a
 *    concurrent {"style":null} merges on one side and replaces on the
 *    other, and {"style":{}} counts as setting "style" in
 *    transformAttributes but is a no-op in compose;
 *  - diff is not undone by compose for documents holding {"style":{}} or
 *    a null (an insert keeps the attributes it is given; diff emits them
 *    on a retain, and compose drops them there as deep null).
 * Without @nested_null, inserted text only gets document attributes. */
static PatchesValue *
random_attributes (GRand    *rand,
                   gboolean  for_change,
                   gboolean  nested_null)
{
  static const char * const doc_pool[] = {
    "{\"bold\":true}", "{\"color\":\"red\"}", "{\"bold\":true,\"color\":\"blue\"}",
    "{\"style\":{\"color\":\"red\",\"size\":1}}", "{\"style\":{\"color\":\"blue\"}}",
    "{\"font\":{\"family\":\"x\",\"sub\":{\"a\":1}}}", "{\"link\":[1,2]}", "{\"1\":true,\"z\":2}",
  };
  static const char * const change_pool[] = {
    "{\"bold\":null}", "{\"color\":null,\"italic\":true}", "{\"style\":{\"color\":null}}",
    "{\"style\":{\"color\":\"green\",\"weight\":2}}", "{\"style\":null}", "{\"font\":{\"sub\":{\"a\":null}}}",
    "{\"style\":{}}", "{\"bold\":false}",
  };
  /* change_pool without those */
  static const char * const flat_change_pool[] = {
    "{\"bold\":null}", "{\"color\":null,\"italic\":true}", "{\"style\":{\"color\":\"green\",\"weight\":2}}",
    "{\"bold\":false}",
  };
  const char *json;

  if (for_change && g_rand_boolean (rand))
    json = nested_null ? change_pool[g_rand_int_range (rand, 0, G_N_ELEMENTS (change_pool))]
                       : flat_change_pool[g_rand_int_range (rand, 0, G_N_ELEMENTS (flat_change_pool))];
  else
    json = doc_pool[g_rand_int_range (rand, 0, G_N_ELEMENTS (doc_pool))];

  return patches_value_parse (json, -1, NULL);
}

static void
random_insert (PatchesDelta *delta,
               GRand        *rand,
               gboolean      for_change,
               gboolean      nested_null)
{
  static const char * const pieces[] = {
    "a", "bc", "hello ", "\n", "\xc3\xa9", "\xf0\x9f\x98\x80", "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", "\"\\",
  };
  g_autoptr(PatchesValue) attributes = NULL;

  if (g_rand_int_range (rand, 0, 100) < 40)
    attributes = random_attributes (rand, for_change && nested_null && g_rand_int_range (rand, 0, 4) == 0,
                                    nested_null);

  if (g_rand_int_range (rand, 0, 100) < 12)
    {
      g_autoptr(PatchesValue) embed = NULL;

      embed = patches_value_parse (g_rand_boolean (rand) ? "{\"image\":\"a.png\"}" : "7", -1, NULL);
      patches_delta_insert_embed (delta, embed, attributes);
    }
  else
    {
      g_autoptr(GString) text = g_string_new (NULL);
      guint n = g_rand_int_range (rand, 1, 4);

      for (guint i = 0; i < n; i++)
        g_string_append (text, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
      patches_delta_insert_utf8 (delta, text->str, attributes);
    }
}

static PatchesDelta *
random_document (GRand *rand)
{
  PatchesDelta *doc = patches_delta_new ();
  guint n = g_rand_int_range (rand, 0, 7);

  for (guint i = 0; i < n; i++)
    random_insert (doc, rand, FALSE, FALSE);
  patches_delta_insert_utf8 (doc, "\n", NULL);

  return doc;
}

/* Offsets of character boundaries of a document (never inside a
 * surrogate pair), including its end. */
static GArray *
char_boundaries (const PatchesDelta *doc)
{
  GArray *bounds = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 pos = 0;

  g_array_append_val (bounds, pos);
  for (guint i = 0; i < patches_delta_get_n_ops (doc); i++)
    {
      const PatchesDeltaOp *op = patches_delta_get_op (doc, i);

      for (gint64 k = 0; k < op->length; k++)
        {
          pos++;
          if (op->text != NULL && k + 1 < op->length &&
              op->text[k] >= 0xD800 && op->text[k] <= 0xDBFF &&
              op->text[k + 1] >= 0xDC00 && op->text[k + 1] <= 0xDFFF)
            continue;  /* inside a pair */
          g_array_append_val (bounds, pos);
        }
    }

  return bounds;
}

/* A change valid against @doc: retains and deletes never run past its end
 * and never cut a surrogate pair. */
static PatchesDelta *
random_change (GRand              *rand,
               const PatchesDelta *doc,
               gboolean            nested_null)
{
  g_autoptr(GArray) bounds = char_boundaries (doc);
  PatchesDelta *change = patches_delta_new ();
  guint at = 0;   /* index into bounds */
  guint n = g_rand_int_range (rand, 1, 6);

  for (guint i = 0; i < n; i++)
    {
      guint r = g_rand_int_range (rand, 0, 100);
      guint left = bounds->len - 1 - at;

      if (r < 35 || left == 0)
        random_insert (change, rand, TRUE, nested_null);
      else
        {
          guint k = g_rand_int_range (rand, 1, MIN (left, 5) + 1);
          gint64 units = g_array_index (bounds, gint64, at + k) - g_array_index (bounds, gint64, at);

          if (r < 70)
            {
              g_autoptr(PatchesValue) attributes = NULL;

              if (g_rand_boolean (rand))
                attributes = random_attributes (rand, TRUE, nested_null);
              patches_delta_retain (change, units, attributes);
            }
          else
            patches_delta_delete (change, units);
          at += k;
        }
    }

  patches_delta_chop (change);
  return change;
}

/* Documents compared by content: adjacent runs with equal attributes
 * merged, member order ignored. */
static gboolean
documents_equal (const PatchesDelta *a,
                 const PatchesDelta *b)
{
  g_autoptr(PatchesDelta) na = patches_delta_new ();
  g_autoptr(PatchesDelta) nb = patches_delta_new ();
  g_autoptr(PatchesValue) va = NULL;
  g_autoptr(PatchesValue) vb = NULL;

  if (!patches_delta_is_document (a) || !patches_delta_is_document (b))
    return FALSE;

  for (guint i = 0; i < patches_delta_get_n_ops (a); i++)
    patches_delta_push (na, patches_delta_get_op (a, i));
  for (guint i = 0; i < patches_delta_get_n_ops (b); i++)
    patches_delta_push (nb, patches_delta_get_op (b, i));

  va = patches_delta_to_value (na);
  vb = patches_delta_to_value (nb);
  return patches_value_equal (va, vb);
}

#define report_failure(what, seed, i, ...) G_STMT_START {                      \
    g_autofree char *_detail = g_strdup_printf (__VA_ARGS__);                 \
    g_test_fail_printf ("%s failed: seed %u case %u (PATCHES_TEST_SEED=%u): %s", \
                        what, seed, i, seed, _detail);                        \
  } G_STMT_END

static void
test_property_transform_convergence (void)
{
  guint32 seed = property_seed ();
  guint n = n_property_cases ();

  g_test_message ("transform convergence: seed %u, %u cases", seed, n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (seed + i);
      g_autoptr(PatchesDelta) doc = random_document (rand);
      g_autoptr(PatchesDelta) a = random_change (rand, doc, FALSE);
      g_autoptr(PatchesDelta) b = random_change (rand, doc, FALSE);
      g_autoptr(PatchesDelta) b2 = patches_delta_transform (a, b, TRUE);
      g_autoptr(PatchesDelta) a2 = patches_delta_transform (b, a, FALSE);
      g_autoptr(PatchesDelta) da = patches_delta_compose (doc, a);
      g_autoptr(PatchesDelta) db = patches_delta_compose (doc, b);
      g_autoptr(PatchesDelta) left = patches_delta_compose (da, b2);
      g_autoptr(PatchesDelta) right = patches_delta_compose (db, a2);

      if (!documents_equal (left, right))
        {
          g_autofree char *jd = delta_json (doc), *ja = delta_json (a), *jb = delta_json (b);
          g_autofree char *jl = delta_json (left), *jr = delta_json (right);

          report_failure ("transform convergence", seed, i,
                          "doc %s a %s b %s: %s != %s", jd, ja, jb, jl, jr);
          return;
        }
    }
}

static void
test_property_invert (void)
{
  guint32 seed = property_seed ();
  guint n = n_property_cases ();

  g_test_message ("invert round trip: seed %u, %u cases", seed, n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (seed ^ 0x5bd1e995u ^ i);
      g_autoptr(PatchesDelta) doc = random_document (rand);
      g_autoptr(PatchesDelta) change = random_change (rand, doc, TRUE);
      g_autoptr(PatchesDelta) inverted = patches_delta_invert (change, doc);
      g_autoptr(PatchesDelta) after = patches_delta_compose (doc, change);
      g_autoptr(PatchesDelta) back = patches_delta_compose (after, inverted);

      if (!documents_equal (back, doc))
        {
          g_autofree char *jd = delta_json (doc), *jc = delta_json (change);
          g_autofree char *ji = delta_json (inverted), *jb = delta_json (back);

          report_failure ("invert round trip", seed, i,
                          "doc %s change %s inverse %s gives %s", jd, jc, ji, jb);
          return;
        }
    }
}

static void
test_property_compose (void)
{
  guint32 seed = property_seed ();
  guint n = n_property_cases ();

  g_test_message ("compose = sequential apply: seed %u, %u cases", seed, n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (seed ^ 0x9e3779b9u ^ i);
      g_autoptr(PatchesDelta) doc = random_document (rand);
      g_autoptr(PatchesDelta) a = random_change (rand, doc, FALSE);
      g_autoptr(PatchesDelta) da = patches_delta_compose (doc, a);
      g_autoptr(PatchesDelta) b = random_change (rand, da, FALSE);
      g_autoptr(PatchesDelta) ab = patches_delta_compose (a, b);
      g_autoptr(PatchesDelta) sequential = patches_delta_compose (da, b);
      g_autoptr(PatchesDelta) composed = patches_delta_compose (doc, ab);

      if (!documents_equal (sequential, composed))
        {
          g_autofree char *jd = delta_json (doc), *ja = delta_json (a), *jb = delta_json (b);
          g_autofree char *js = delta_json (sequential), *jc = delta_json (composed);

          report_failure ("compose", seed, i, "doc %s a %s b %s: (doc∘a)∘b %s, doc∘(a∘b) %s",
                          jd, ja, jb, js, jc);
          return;
        }
    }
}

/* diff(a, b) applied to a gives b. */
static void
test_property_diff (void)
{
  guint32 seed = property_seed ();
  guint n = n_property_cases ();

  g_test_message ("diff: seed %u, %u cases", seed, n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (seed ^ 0x85ebca6bu ^ i);
      g_autoptr(PatchesDelta) doc = random_document (rand);
      g_autoptr(PatchesDelta) change = random_change (rand, doc, FALSE);
      g_autoptr(PatchesDelta) other = patches_delta_compose (doc, change);
      g_autoptr(GError) error = NULL;
      g_autoptr(PatchesDelta) diff = patches_delta_diff (doc, other, &error);
      g_autoptr(PatchesDelta) applied = NULL;

      g_assert_no_error (error);
      applied = patches_delta_compose (doc, diff);
      if (!documents_equal (applied, other))
        {
          g_autofree char *jd = delta_json (doc), *jo = delta_json (other);
          g_autofree char *jf = delta_json (diff), *ja = delta_json (applied);

          report_failure ("diff", seed, i, "diff(%s, %s) = %s gives %s", jd, jo, jf, ja);
          return;
        }
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/delta/push/empty-attributes", test_push_empty_attributes);
  g_test_add_func ("/delta/push/builders", test_push_builders);
  g_test_add_func ("/delta/iterator/zero-length-ops", test_zero_length_ops);
  g_test_add_func ("/delta/compose", test_compose);
  g_test_add_func ("/delta/compose/large", test_large_compose);
  g_test_add_func ("/delta/transform", test_transform);
  g_test_add_func ("/delta/transform/undefined-member", test_transform_undefined_member);
  g_test_add_func ("/delta/transform-position", test_transform_position);
  g_test_add_func ("/delta/invert", test_invert);
  g_test_add_func ("/delta/slice/surrogates", test_slice_surrogates);
  g_test_add_func ("/delta/diff", test_diff);
  g_test_add_func ("/delta/json/from-value", test_from_value);
  g_test_add_func ("/delta/json/output", test_json_output);
  g_test_add_func ("/delta/utf16/offsets", test_utf16_offsets);
  g_test_add_func ("/delta/property/transform-convergence", test_property_transform_convergence);
  g_test_add_func ("/delta/property/invert-round-trip", test_property_invert);
  g_test_add_func ("/delta/property/compose-sequential", test_property_compose);
  g_test_add_func ("/delta/property/diff", test_property_diff);

  return g_test_run ();
}
