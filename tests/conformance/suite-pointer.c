/* suite-pointer.c: pointer.json
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "conformance.h"
#include "patches-pointer.h"

gboolean
conformance_run_pointer (JsonObject  *kase,
                         JsonObject  *root,
                         char       **why)
{
  const char *fn = json_object_get_string_member (kase, "fn");
  const char *input = json_object_get_string_member (kase, "input");
  g_autoptr(PatchesValue) got = NULL;

  if (g_str_equal (fn, "decode"))
    {
      g_auto(GStrv) keys = patches_pointer_decode (input);

      got = patches_value_new_array ();
      for (guint i = 0; keys[i] != NULL; i++)
        patches_value_array_append (got, patches_value_new_string (keys[i]));
    }
  else if (g_str_equal (fn, "escape"))
    got = patches_value_new_string_take (patches_pointer_escape (input));
  else if (g_str_equal (fn, "isArrayPath"))
    got = patches_value_new_bool (patches_pointer_is_array_path (input));
  else if (g_str_equal (fn, "pathExists"))
    {
      g_autoptr(PatchesValue) doc = conformance_get_value (kase, "doc");
      got = patches_value_new_bool (patches_pointer_exists (doc, input));
    }
  else
    {
      *why = g_strdup_printf ("unknown fn %s", fn);
      return FALSE;
    }

  return conformance_check_equal (fn, got, kase, "expect", why);
}
