/* patches-text-private.h
 *
 * PatchesText internals used by the tests.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-text.h"

G_BEGIN_DECLS

/* The @txt rule done literally with the delta engine (OPERATIONS.md §6.10
 * steps 3 and 4): compose @base with @change, then repair the overrun.
 * This is patches_text_apply()'s slow path.  *@overrun receives what
 * patches_text_apply() returns. */
PatchesDelta *patches_text_apply_reference (const PatchesDelta *base,
                                            const PatchesDelta *change,
                                            gboolean            legacy_overrun_padding,
                                            gint64             *overrun) G_GNUC_WARN_UNUSED_RESULT;

/* Whether @self holds its text in a rope at the moment (rather than as a
 * delta), i.e. whether the next plain edit takes the fast path. */
gboolean      patches_text_has_rope        (const PatchesText  *self);

/* Aborts when an internal invariant does not hold. */
void          patches_text_check           (const PatchesText  *self);

G_END_DECLS
