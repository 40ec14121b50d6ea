/* test-value.c: the JSON value model and JavaScript-exact serialisation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "patches.h"
#include "patches-value.h"

static char *
number_json (double n)
{
  GString *out = g_string_new (NULL);

  patches_js_append_number (out, n);
  g_assert_cmpuint (out->len, ==, patches_js_number_size (n));
  return g_string_free (out, FALSE);
}

static void
test_number_format (void)
{
  static const struct { double n; const char *js; } cases[] = {
    { 0, "0" }, { -0.0, "0" }, { 1, "1" }, { -1, "-1" }, { 0.1, "0.1" },
    { 0.1 + 0.2, "0.30000000000000004" }, { 1e21, "1e+21" }, { 1e20, "100000000000000000000" },
    { 123456789012345678.0, "123456789012345680" }, { 1e-7, "1e-7" }, { 1e-6, "0.000001" },
    { 1.5e-7, "1.5e-7" }, { 2.5e+25, "2.5e+25" }, { 5e-324, "5e-324" },
    { 1.7976931348623157e308, "1.7976931348623157e+308" }, { 1700000000000, "1700000000000" },
    { 3.14159, "3.14159" }, { -2.5, "-2.5" }, { 100, "100" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *s = number_json (cases[i].n);
      g_assert_cmpstr (s, ==, cases[i].js);
    }

  {
    g_autofree char *inf = number_json (INFINITY);
    g_autofree char *nan = number_json (NAN);
    g_assert_cmpstr (inf, ==, "null");
    g_assert_cmpstr (nan, ==, "null");
  }
}

static void
test_string_escape (void)
{
  g_autoptr(PatchesValue) v = patches_value_new_string ("a\"b\\c\n\t\x01\x1f\x7f/é😀");
  g_autofree char *json = patches_value_to_json (v);

  g_assert_cmpstr (json, ==, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\x7f/é😀\"");
  g_assert_cmpuint (strlen (json), ==, patches_value_json_size (v));
}

static void
test_parse_roundtrip (void)
{
  static const char *docs[] = {
    "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"x\"}}",
    "[]",
    "{}",
    "\"s\"",
    "1.5",
    "{\"z\":1,\"2\":2,\"a\":3,\"1\":4}",
  };
  static const char *expected[] = {
    "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"x\"}}",
    "[]",
    "{}",
    "\"s\"",
    "1.5",
    /* JavaScript enumerates index-like keys first, ascending */
    "{\"1\":4,\"2\":2,\"z\":1,\"a\":3}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (docs); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PatchesValue) v = patches_value_parse (docs[i], -1, &error);
      g_autofree char *json = NULL;

      g_assert_no_error (error);
      json = patches_value_to_json (v);
      g_assert_cmpstr (json, ==, expected[i]);
      g_assert_cmpuint (strlen (json), ==, patches_value_json_size (v));
    }
}

static void
test_parse_error (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) v = patches_value_parse ("{\"a\":", -1, &error);

  g_assert_null (v);
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_JSON);
}

static void
test_equality (void)
{
  g_autoptr(PatchesValue) a = patches_value_parse ("{\"x\":1,\"y\":[1,2]}", -1, NULL);
  g_autoptr(PatchesValue) b = patches_value_parse ("{\"y\":[1.0,2],\"x\":1.0}", -1, NULL);
  g_autoptr(PatchesValue) c = patches_value_parse ("{\"y\":[2,1],\"x\":1}", -1, NULL);
  g_autoptr(PatchesValue) zero = patches_value_new_number (0);
  g_autoptr(PatchesValue) no = patches_value_new_bool (FALSE);

  g_assert_true (patches_value_equal (a, b));
  g_assert_false (patches_value_equal (a, c));
  g_assert_false (patches_value_equal (zero, no));
  g_assert_false (patches_value_truthy (zero));
  g_assert_false (patches_value_truthy (NULL));
  g_assert_true (patches_value_truthy (a));
}

static void
test_copy_on_write (void)
{
  g_autoptr(PatchesValue) doc = patches_value_parse ("{\"a\":{\"b\":1}}", -1, NULL);
  g_autoptr(PatchesValue) snapshot = patches_value_ref (doc);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  /* A shared value is copied before it is changed. */
  patches_value_make_mutable (&doc);
  g_assert_true (doc != snapshot);
  patches_value_object_set (doc, "c", patches_value_new_number (2));
  before = patches_value_to_json (snapshot);
  after = patches_value_to_json (doc);
  g_assert_cmpstr (before, ==, "{\"a\":{\"b\":1}}");
  g_assert_cmpstr (after, ==, "{\"a\":{\"b\":1},\"c\":2}");

  /* An unshared value is changed in place. */
  {
    PatchesValue *same = doc;
    patches_value_make_mutable (&doc);
    g_assert_true (same == doc);
  }
}

static void
test_object_order (void)
{
  g_autoptr(PatchesValue) obj = patches_value_new_object ();
  g_autofree char *json = NULL;

  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *key = g_strdup_printf ("k%u", i);
      patches_value_object_set (obj, key, patches_value_new_number (i));
    }
  patches_value_object_set (obj, "k3", patches_value_new_number (-3));
  g_assert_true (patches_value_object_remove (obj, "k0"));
  g_assert_false (patches_value_object_remove (obj, "k0"));
  patches_value_object_set (obj, "k0", patches_value_new_number (0));

  g_assert_cmpuint (patches_value_object_get_size (obj), ==, 40);
  g_assert_cmpstr (patches_value_object_key_at (obj, 0), ==, "k1");
  g_assert_cmpstr (patches_value_object_key_at (obj, 39), ==, "k0");
  g_assert_cmpfloat (patches_value_get_number (patches_value_object_get (obj, "k3")), ==, -3);
  g_assert_cmpfloat (patches_value_get_number (patches_value_object_get (obj, "k39")), ==, 39);
}

static void
test_utf16_order (void)
{
  /* U+FF21 sorts after U+1F600 by code point but before it in UTF-16. */
  g_assert_cmpint (patches_utf16_strcmp ("\xef\xbc\xa1", "😀"), >, 0);
  g_assert_cmpint (patches_utf16_strcmp ("a", "b"), <, 0);
  g_assert_cmpint (patches_utf16_strcmp ("ab", "a"), >, 0);
  g_assert_cmpint (patches_utf16_strcmp ("2026-01-01T00:00:00Z", "2025-12-31T23:59:59Z"), >, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/value/number-format", test_number_format);
  g_test_add_func ("/value/string-escape", test_string_escape);
  g_test_add_func ("/value/parse-roundtrip", test_parse_roundtrip);
  g_test_add_func ("/value/parse-error", test_parse_error);
  g_test_add_func ("/value/equality", test_equality);
  g_test_add_func ("/value/copy-on-write", test_copy_on_write);
  g_test_add_func ("/value/object-order", test_object_order);
  g_test_add_func ("/value/utf16-order", test_utf16_order);

  return g_test_run ();
}
