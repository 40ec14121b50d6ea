/* patches-value-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-value.h"

G_BEGIN_DECLS

/* Address of the pointer holding a member or element, so copy-on-write
 * walks can replace a shared child in place.  NULL when absent. */
PatchesValue **patches_value_object_get_slot (PatchesValue *self,
                                              const char   *key);
PatchesValue **patches_value_array_get_slot  (PatchesValue *self,
                                              guint         index);

G_END_DECLS
