/* patches-fast-diff-private.h
 *
 * A port of the text diff of the npm package fast-diff 1.3.0 (the
 * diff-match-patch core) working on UTF-16 code units.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * PatchesDiffOp:
 * @PATCHES_DIFF_DELETE: the run is only in the old text
 * @PATCHES_DIFF_EQUAL: the run is in both texts
 * @PATCHES_DIFF_INSERT: the run is only in the new text
 *
 * The kind of a #PatchesDiffRun. The values are those fast-diff uses.
 */
typedef enum {
  PATCHES_DIFF_DELETE = -1,
  PATCHES_DIFF_EQUAL  = 0,
  PATCHES_DIFF_INSERT = 1,
} PatchesDiffOp;

/**
 * PatchesDiffRun:
 * @op: what the run is
 * @text: (array length=length): the run's UTF-16 code units, owned by the
 *   run; not nul-terminated
 * @length: the number of code units in @text
 *
 * One run of a diff.
 */
typedef struct {
  PatchesDiffOp  op;
  gunichar2     *text;
  gsize          length;
} PatchesDiffRun;

GArray *patches_fast_diff (const gunichar2 *a,
                           gsize            a_len,
                           const gunichar2 *b,
                           gsize            b_len,
                           gssize           cursor_pos);

G_END_DECLS
