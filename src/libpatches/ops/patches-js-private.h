/* patches-js-private.h
 *
 * The few JavaScript operators whose results leak into what the reference
 * library computes: `+` (`@inc`), `<` and `>` (`@max`, `@min`), the int32
 * bit operators (`@bit`) and the number conversions behind them
 * (OPERATIONS.md §1).  They take any JSON value, as JavaScript does, so
 * that malformed ops give the library's answer instead of a crash.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-value.h"

G_BEGIN_DECLS

/* In each function a %NULL value stands for JavaScript's `undefined`. */

double        patches_js_to_number           (const PatchesValue *value);
double        patches_js_string_to_number    (const char         *str,
                                              gsize               len);
gint32        patches_js_to_int32            (double              number);
char         *patches_js_to_string           (const PatchesValue *value) G_GNUC_WARN_UNUSED_RESULT;
void          patches_js_append_number_string (GString           *out,
                                              double              number);
PatchesValue *patches_js_add                 (const PatchesValue *a,
                                              const PatchesValue *b) G_GNUC_WARN_UNUSED_RESULT;
gboolean      patches_js_less_than           (const PatchesValue *a,
                                              const PatchesValue *b);

G_END_DECLS
