/* suite-rebase.c: conformance cases of rebase.json
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "conformance.h"
#include "patches-ot.h"

static GPtrArray *
get_changes (JsonObject  *kase,
             const char  *name,
             char       **why)
{
  g_autoptr(PatchesValue) value = conformance_get_value (kase, name);
  g_autoptr(GError) error = NULL;
  GPtrArray *changes;

  if (value == NULL)
    {
      *why = g_strdup_printf ("case has no \"%s\"", name);
      return NULL;
    }

  changes = patches_changes_from_value (value, &error);
  if (changes == NULL)
    *why = g_strdup_printf ("cannot read \"%s\": %s", name, error->message);

  return changes;
}

gboolean
conformance_run_rebase (JsonObject  *kase,
                        JsonObject  *root,
                        char       **why)
{
  g_autoptr(GPtrArray) committed = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GPtrArray) result = NULL;
  g_autoptr(PatchesValue) got = NULL;

  if (!(committed = get_changes (kase, "committed", why)) ||
      !(pending = get_changes (kase, "pending", why)))
    return FALSE;

  result = patches_rebase_changes (committed, pending);
  got = patches_changes_to_value (result);

  return conformance_check_equal ("rebased pending", got, kase, "expect", why);
}
