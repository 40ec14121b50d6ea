/* fuzz-delta.c: libFuzzer target for the rich-text delta engine
 *
 * Input: a JSON array [a, b, doc] of delta op arrays.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "patches.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(PatchesValue) input = NULL;
  g_autoptr(PatchesDelta) a = NULL;
  g_autoptr(PatchesDelta) b = NULL;
  g_autoptr(PatchesDelta) doc = NULL;

  input = patches_value_parse ((const char *) data, size, NULL);
  if (input == NULL || patches_value_get_kind (input) != PATCHES_VALUE_ARRAY ||
      patches_value_array_get_length (input) < 3)
    return 0;

  a = patches_delta_from_value (patches_value_array_get (input, 0), NULL);
  b = patches_delta_from_value (patches_value_array_get (input, 1), NULL);
  doc = patches_delta_from_value (patches_value_array_get (input, 2), NULL);
  if (a == NULL || b == NULL || doc == NULL)
    return 0;

  {
    g_autoptr(PatchesDelta) ab = patches_delta_compose (a, b);
    g_autoptr(PatchesDelta) t1 = patches_delta_transform (a, b, TRUE);
    g_autoptr(PatchesDelta) t2 = patches_delta_transform (b, a, FALSE);
    g_autoptr(PatchesDelta) inv = patches_delta_invert (a, doc);
    g_autoptr(PatchesDelta) diff = patches_delta_diff (doc, a, NULL);
    g_autoptr(PatchesValue) json = patches_delta_to_value (ab);
    g_autoptr(PatchesText) text = NULL;

    (void) patches_delta_transform_position (a, patches_delta_length (b), TRUE);
    (void) t1; (void) t2; (void) inv; (void) diff; (void) json;

    if (patches_delta_is_document (doc))
      {
        text = patches_text_new_from_delta (patches_delta_copy (doc));
        patches_text_apply (text, a, FALSE);
        patches_text_apply (text, b, TRUE);
        g_free (patches_text_to_plain (text));
      }
  }

  return 0;
}
