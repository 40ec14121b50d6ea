/* fuzz-patch.c: libFuzzer target for patch parse + apply + transform
 *
 * Input: a JSON array [doc, opsA, opsB].  Every public algorithm runs on
 * it; errors are fine, crashes and sanitizer reports are not.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches.h"
#include "patches-patch-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
apply_all_modes (GPtrArray    *ops,
                 PatchesValue *doc)
{
  static const PatchesApplyFlags modes[] = {
    PATCHES_APPLY_DEFAULT, PATCHES_APPLY_STRICT, PATCHES_APPLY_RIGID,
    PATCHES_APPLY_RIGID | PATCHES_APPLY_PARTIAL, PATCHES_APPLY_LEGACY_TEXT_PADDING,
  };

  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      PatchesValue *working = doc ? patches_value_ref (doc) : NULL;
      PatchesApplyReport report;

      if (patches_ops_apply (ops, &working, modes[i], NULL, &report, NULL) && working != NULL)
        {
          g_autofree char *json = patches_value_to_json (working);
          g_assert (strlen (json) == patches_value_json_size (working));
        }
      patches_apply_report_clear (&report);
      g_clear_pointer (&working, patches_value_unref);
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(PatchesValue) input = NULL;
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GPtrArray) b = NULL;
  PatchesValue *doc;

  input = patches_value_parse ((const char *) data, size, NULL);
  if (input == NULL || patches_value_get_kind (input) != PATCHES_VALUE_ARRAY ||
      patches_value_array_get_length (input) < 3)
    return 0;

  doc = patches_value_array_get (input, 0);
  a = patches_ops_from_value (patches_value_array_get (input, 1), NULL);
  b = patches_ops_from_value (patches_value_array_get (input, 2), NULL);
  if (a == NULL || b == NULL)
    return 0;

  apply_all_modes (a, doc);

  {
    g_autoptr(GPtrArray) t1 = patches_ops_transform (a, b, FALSE);
    g_autoptr(GPtrArray) t2 = patches_ops_transform (b, a, TRUE);
    g_autoptr(GPtrArray) composed = patches_ops_compose (b, NULL);
    g_autoptr(GPtrArray) inverse = patches_ops_invert (a, doc, NULL);
    g_autoptr(PatchesValue) j1 = patches_ops_to_value (t1);
    g_autoptr(PatchesValue) j2 = patches_ops_to_value (t2);

    apply_all_modes (t1, doc);
    (void) composed;
    (void) inverse;
    (void) j1;
    (void) j2;
  }

  return 0;
}
