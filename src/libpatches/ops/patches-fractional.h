/* patches-fractional.h
 *
 * Fractional indexing: order keys that sort as plain strings, so that an
 * ordered collection can be kept as an object keyed by id with an `order`
 * string per item instead of an array.  Generates exactly the keys of
 * @dabble/patches 0.28.1 (`fractionalIndex`, `fractionalIndex.sort`,
 * `fractionalIndex.heal`).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "patches-value.h"

G_BEGIN_DECLS

char          *patches_fractional_key_between  (const char          *a,
                                                const char          *b,
                                                GError             **error) G_GNUC_WARN_UNUSED_RESULT;
char         **patches_fractional_keys_between (const char          *a,
                                                const char          *b,
                                                guint                count,
                                                GError             **error) G_GNUC_WARN_UNUSED_RESULT;
int            patches_fractional_collate      (const char          *a,
                                                const char          *b);
GPtrArray     *patches_fractional_sort         (const PatchesValue  *items,
                                                const char          *field) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue  *patches_fractional_heal         (const PatchesValue  *items,
                                                const char          *field,
                                                GError             **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
