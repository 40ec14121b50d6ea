/* suite-delta.c: conformance cases of delta.json (OPERATIONS.md §6)
 *
 * Each case calls one Delta function of @dabble/delta 1.2.5 and compares
 * the result with the recorded one: by value, and byte for byte as
 * JSON.stringify wrote it (member order included).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "conformance.h"
#include "patches-delta.h"

static PatchesDelta *
member_delta (JsonObject  *kase,
              const char  *name,
              char       **why)
{
  g_autoptr(PatchesValue) value = NULL;
  g_autoptr(GError) error = NULL;
  PatchesDelta *delta;

  if (!json_object_has_member (kase, name))
    {
      *why = g_strdup_printf ("case has no member \"%s\"", name);
      return NULL;
    }

  value = patches_value_from_json_node (json_object_get_member (kase, name));
  delta = patches_delta_from_value (value, &error);
  if (delta == NULL)
    *why = g_strdup_printf ("cannot read \"%s\": %s", name, error->message);

  return delta;
}

static gboolean
check_delta (PatchesDelta  *got,
             JsonObject    *kase,
             char         **why)
{
  g_autoptr(PatchesValue) expect = NULL;
  g_autoptr(PatchesValue) got_value = NULL;
  g_autoptr(GString) got_json = g_string_new (NULL);
  g_autoptr(GString) expect_json = g_string_new (NULL);
  g_autofree char *via_value = NULL;

  if (!json_object_has_member (kase, "expect"))
    {
      *why = g_strdup ("case has neither expect nor error");
      return FALSE;
    }

  expect = patches_value_from_json_node (json_object_get_member (kase, "expect"));
  got_value = patches_delta_to_value (got);
  patches_delta_write_json (got, got_json);
  patches_value_write_json (expect, expect_json);

  if (!patches_value_equal (got_value, expect))
    {
      *why = g_strdup_printf ("expected %s, got %s", expect_json->str, got_json->str);
      return FALSE;
    }

  /* The vectors were written by JSON.stringify, so member order and
   * number formatting must match too. */
  if (!g_str_equal (got_json->str, expect_json->str))
    {
      *why = g_strdup_printf ("equal values, but JSON differs: expected %s, got %s",
                              expect_json->str, got_json->str);
      return FALSE;
    }

  via_value = patches_value_to_json (got_value);
  if (!g_str_equal (via_value, got_json->str))
    {
      *why = g_strdup_printf ("write_json %s and to_value %s disagree", got_json->str, via_value);
      return FALSE;
    }

  if (patches_delta_json_size (got) != got_json->len)
    {
      *why = g_strdup_printf ("json_size %" G_GSIZE_FORMAT " for %" G_GSIZE_FORMAT " bytes",
                              patches_delta_json_size (got), got_json->len);
      return FALSE;
    }

  return TRUE;
}

gboolean
conformance_run_delta (JsonObject  *kase,
                       JsonObject  *root,
                       char       **why)
{
  g_autoptr(PatchesDelta) a = NULL;
  g_autoptr(PatchesDelta) b = NULL;
  g_autoptr(PatchesDelta) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *fn;
  gboolean priority;

  fn = json_object_get_string_member_with_default (kase, "fn", "");
  priority = json_object_get_boolean_member_with_default (kase, "priority", FALSE);

  if ((a = member_delta (kase, "a", why)) == NULL)
    return FALSE;

  if (g_str_equal (fn, "transformPosition"))
    {
      double index = json_object_get_double_member_with_default (kase, "b", NAN);
      double expect = json_object_get_double_member_with_default (kase, "expect", NAN);
      gint64 got;

      if (isnan (index) || isnan (expect))
        {
          *why = g_strdup ("transformPosition case without numeric b and expect");
          return FALSE;
        }

      got = patches_delta_transform_position (a, (gint64) index, priority);
      if ((double) got != expect)
        {
          *why = g_strdup_printf ("expected %.17g, got %" G_GINT64_FORMAT, expect, got);
          return FALSE;
        }
      return TRUE;
    }

  if ((b = member_delta (kase, "b", why)) == NULL)
    return FALSE;

  if (g_str_equal (fn, "compose") || g_str_equal (fn, "apply"))
    result = patches_delta_compose (a, b);
  else if (g_str_equal (fn, "transform"))
    result = patches_delta_transform (a, b, priority);
  else if (g_str_equal (fn, "invert"))
    result = patches_delta_invert (a, b);
  else if (g_str_equal (fn, "diff"))
    result = patches_delta_diff (a, b, &error);
  else
    {
      *why = g_strdup_printf ("unknown fn \"%s\"", fn);
      return FALSE;
    }

  if (json_object_has_member (kase, "error"))
    {
      if (result != NULL)
        {
          g_autoptr(GString) got = g_string_new (NULL);

          patches_delta_write_json (result, got);
          *why = g_strdup_printf ("expected error \"%s\", got %s",
                                  json_object_get_string_member_with_default (kase, "error", ""),
                                  got->str);
          return FALSE;
        }
      return TRUE;
    }

  if (result == NULL)
    {
      *why = g_strdup_printf ("unexpected error: %s", error ? error->message : "(none)");
      return FALSE;
    }

  /* Inputs must come out untouched. */
  {
    g_autoptr(PatchesValue) a_value = patches_delta_to_value (a);
    g_autoptr(PatchesValue) a_input = patches_value_from_json_node (json_object_get_member (kase, "a"));

    if (!patches_value_equal (a_value, a_input))
      {
        *why = g_strdup ("input a was modified");
        return FALSE;
      }
  }

  return check_delta (result, kase, why);
}
