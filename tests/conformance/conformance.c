/* conformance.c: helpers shared by the conformance suites
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "conformance.h"
#include "patches-patch-private.h"

PatchesValue *
conformance_get_value (JsonObject *kase,
                       const char *name)
{
  JsonNode *node = json_object_get_member (kase, name);

  if (node == NULL)
    return NULL;
  return patches_value_from_json_node (node);
}

static char *
json_or_absent (const PatchesValue *value)
{
  return value ? patches_value_to_json (value) : g_strdup ("(absent)");
}

gboolean
conformance_check_value (const char   *what,
                         PatchesValue *got,
                         PatchesValue *expect,
                         char        **why)
{
  g_autofree char *g = NULL;
  g_autofree char *e = NULL;

  if (got == NULL && expect == NULL)
    return TRUE;
  if (got != NULL && expect != NULL)
    {
      /* Compare JSON forms: the vectors were recorded as JSON, where a
       * non-finite number (kept in memory, as JavaScript does) is null. */
      g_autofree char *text = patches_value_to_json (got);
      g_autoptr(PatchesValue) reparsed = patches_value_parse (text, -1, NULL);

      if (reparsed != NULL && patches_value_equal (reparsed, expect))
        return TRUE;
    }

  g = json_or_absent (got);
  e = json_or_absent (expect);
  *why = g_strdup_printf ("%s: got %s, expected %s", what, g, e);
  return FALSE;
}

gboolean
conformance_check_equal (const char   *what,
                         PatchesValue *got,
                         JsonObject   *kase,
                         const char   *name,
                         char        **why)
{
  g_autoptr(PatchesValue) expect = conformance_get_value (kase, name);

  return conformance_check_value (what, got, expect, why);
}

GPtrArray *
conformance_get_ops (JsonObject  *kase,
                     const char  *name,
                     GError     **error)
{
  g_autoptr(PatchesValue) value = conformance_get_value (kase, name);

  if (value == NULL)
    return patches_ops_new ();
  return patches_ops_from_value (value, error);
}
