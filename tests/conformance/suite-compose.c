/* suite-compose.c: compose.json
 *
 * expect = composePatch(ops) (OPERATIONS.md §8).  When a case has a
 * document, the ops are also applied strictly: the result must be
 * expect_doc (or fail as expect_doc_error, or leave no document), and the
 * composed ops must give the same outcome (composed_doc when the case
 * says they differ; no case does).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "conformance.h"
#include "patches-patch-private.h"

/* Strictly applies @ops to @doc and compares with member @name of @kase,
 * `@name_error` or `@name_undefined`. */
static gboolean
check_apply (const char   *what,
             PatchesValue *doc,
             GPtrArray    *ops,
             JsonObject   *kase,
             const char   *name,
             char        **why)
{
  g_autofree char *error_name = g_strconcat (name, "_error", NULL);
  g_autofree char *undefined_name = g_strconcat (name, "_undefined", NULL);
  g_autoptr(PatchesValue) state = doc != NULL ? patches_value_ref (doc) : NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = patches_ops_apply (ops, &state, PATCHES_APPLY_STRICT, NULL, NULL, &error);

  if (json_object_has_member (kase, error_name))
    {
      if (ok)
        {
          g_autofree char *got = state ? patches_value_to_json (state) : g_strdup ("undefined");

          *why = g_strdup_printf ("%s: expected error \"%s\", got %s", what,
                                  json_object_get_string_member (kase, error_name), got);
          return FALSE;
        }
      return TRUE;
    }

  if (!ok)
    {
      *why = g_strdup_printf ("%s: unexpected error: %s", what, error->message);
      return FALSE;
    }

  if (json_object_get_boolean_member_with_default (kase, undefined_name, FALSE))
    {
      if (state != NULL)
        {
          g_autofree char *got = patches_value_to_json (state);

          *why = g_strdup_printf ("%s: expected no document, got %s", what, got);
          return FALSE;
        }
      return TRUE;
    }

  return conformance_check_equal (what, state, kase, name, why);
}

gboolean
conformance_run_compose (JsonObject  *kase,
                         JsonObject  *root,
                         char       **why)
{
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(GPtrArray) composed = NULL;
  g_autoptr(PatchesValue) got = NULL;
  g_autoptr(PatchesValue) doc = NULL;
  g_autoptr(GError) error = NULL;

  ops = conformance_get_ops (kase, "ops", &error);
  if (ops == NULL)
    {
      *why = g_strdup_printf ("could not parse ops: %s", error->message);
      return FALSE;
    }

  composed = patches_ops_compose (ops, &error);

  if (json_object_has_member (kase, "error"))
    {
      if (composed != NULL)
        {
          g_autoptr(PatchesValue) value = patches_ops_to_value (composed);
          g_autofree char *json = patches_value_to_json (value);

          *why = g_strdup_printf ("expected error \"%s\", got %s",
                                  json_object_get_string_member (kase, "error"), json);
          return FALSE;
        }
      return TRUE;
    }

  if (composed == NULL)
    {
      *why = g_strdup_printf ("unexpected error: %s", error->message);
      return FALSE;
    }

  got = patches_ops_to_value (composed);
  if (!conformance_check_equal ("composed", got, kase, "expect", why))
    return FALSE;

  if (!json_object_has_member (kase, "doc"))
    return TRUE;

  doc = conformance_get_value (kase, "doc");
  if (!check_apply ("ops applied", doc, ops, kase, "expect_doc", why))
    return FALSE;

  return check_apply ("composed ops applied", doc, composed, kase,
                      json_object_get_boolean_member_with_default (kase, "composed_doc_differs", FALSE)
                        ? "composed_doc" : "expect_doc",
                      why);
}
