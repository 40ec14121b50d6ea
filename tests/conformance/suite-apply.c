/* suite-apply.c: apply.json
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "conformance.h"
#include "patches-patch-private.h"

static PatchesApplyFlags
flags_from_options (JsonObject  *options,
                    const char **at_path)
{
  PatchesApplyFlags flags = PATCHES_APPLY_DEFAULT;

  *at_path = NULL;
  if (options == NULL)
    return flags;
  if (json_object_get_boolean_member_with_default (options, "strict", FALSE))
    flags |= PATCHES_APPLY_STRICT;
  if (json_object_get_boolean_member_with_default (options, "rigid", FALSE))
    flags |= PATCHES_APPLY_RIGID;
  if (json_object_get_boolean_member_with_default (options, "partial", FALSE))
    flags |= PATCHES_APPLY_PARTIAL;
  if (json_object_get_boolean_member_with_default (options, "legacyTextOverrunPadding", FALSE))
    flags |= PATCHES_APPLY_LEGACY_TEXT_PADDING;
  *at_path = json_object_get_string_member_with_default (options, "atPath", NULL);
  return flags;
}

static gboolean
check_index_list (const char  *what,
                  GArray      *got,
                  JsonObject  *kase,
                  const char  *name,
                  char       **why)
{
  g_autoptr(PatchesValue) value = patches_value_new_array ();

  if (!json_object_has_member (kase, name))
    return TRUE;
  for (guint i = 0; got != NULL && i < got->len; i++)
    patches_value_array_append (value, patches_value_new_number (g_array_index (got, guint, i)));
  return conformance_check_equal (what, value, kase, name, why);
}

gboolean
conformance_run_apply (JsonObject  *kase,
                       JsonObject  *root,
                       char       **why)
{
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(PatchesValue) doc = conformance_get_value (kase, "doc");
  g_autoptr(GError) error = NULL;
  PatchesApplyReport report = { -1, NULL };
  const char *at_path;
  PatchesApplyFlags flags;
  gboolean ok;
  gboolean result = FALSE;

  flags = flags_from_options (json_object_get_object_member (kase, "options"), &at_path);

  ops = conformance_get_ops (kase, "ops", &error);
  if (ops == NULL)
    {
      *why = g_strdup_printf ("could not parse ops: %s", error->message);
      return FALSE;
    }

  ok = patches_ops_apply (ops, &doc, flags, at_path, &report, &error);

  if (json_object_has_member (kase, "error") || json_object_has_member (kase, "value_semantics_error"))
    {
      /* A defect case may expect success under value semantics. */
      if (json_object_has_member (kase, "value_semantics_expect"))
        goto expect_doc;
      if (ok)
        {
          g_autofree char *got = doc ? patches_value_to_json (doc) : g_strdup ("undefined");
          *why = g_strdup_printf ("expected error \"%s\", got %s",
                                  json_object_get_string_member_with_default (kase, "error", "?"), got);
          goto out;
        }
      if (g_strcmp0 (json_object_get_string_member_with_default (kase, "error_kind", ""), "hard") == 0 &&
          !g_error_matches (error, PATCHES_ERROR, PATCHES_ERROR_HARD))
        {
          *why = g_strdup_printf ("expected a hard error, got: %s", error->message);
          goto out;
        }
      result = TRUE;
      goto out;
    }

  if (!ok)
    {
      *why = g_strdup_printf ("unexpected error: %s", error->message);
      goto out;
    }

expect_doc:
  if (json_object_has_member (kase, "expect_undefined"))
    {
      if (doc != NULL)
        {
          g_autofree char *got = patches_value_to_json (doc);
          *why = g_strdup_printf ("expected no document, got %s", got);
          goto out;
        }
    }
  else if (!conformance_check_equal ("document", doc, kase,
                                     json_object_has_member (kase, "value_semantics_expect")
                                       ? "value_semantics_expect" : "expect", why))
    goto out;

  if (json_object_has_member (kase, "abort_op"))
    {
      gint64 expect = json_object_get_int_member (kase, "abort_op");

      if (report.abort_op != expect)
        {
          *why = g_strdup_printf ("abort_op: got %d, expected %" G_GINT64_FORMAT, report.abort_op, expect);
          goto out;
        }
    }

  if (!check_index_list ("failed_ops", report.failed_ops, kase, "failed_ops", why))
    goto out;

  result = TRUE;

out:
  patches_apply_report_clear (&report);
  return result;
}
