/* patches-op.h
 *
 * One JSON Patch operation, held as a plain C structure.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-delta.h"
#include "patches-value.h"

G_BEGIN_DECLS

/**
 * PatchesOpKind:
 * @PATCHES_OP_ADD: `add`
 * @PATCHES_OP_REMOVE: `remove`
 * @PATCHES_OP_REPLACE: `replace`
 * @PATCHES_OP_MOVE: `move`
 * @PATCHES_OP_COPY: `copy`
 * @PATCHES_OP_TEST: `test`
 * @PATCHES_OP_INC: `@inc`, a counter increment
 * @PATCHES_OP_BIT: `@bit`, flags packed into an integer
 * @PATCHES_OP_MAX: `@max`
 * @PATCHES_OP_MIN: `@min`
 * @PATCHES_OP_TXT: `@txt`, a rich-text delta
 * @PATCHES_OP_UNKNOWN: any other op name (kept and carried along)
 */
typedef enum {
  PATCHES_OP_ADD,
  PATCHES_OP_REMOVE,
  PATCHES_OP_REPLACE,
  PATCHES_OP_MOVE,
  PATCHES_OP_COPY,
  PATCHES_OP_TEST,
  PATCHES_OP_INC,
  PATCHES_OP_BIT,
  PATCHES_OP_MAX,
  PATCHES_OP_MIN,
  PATCHES_OP_TXT,
  PATCHES_OP_UNKNOWN,
} PatchesOpKind;

/**
 * PatchesOp:
 * @kind: the op
 * @name: the `op` member as written (needed for unknown ops)
 * @path: the `path` member
 * @from: (nullable): the `from` member, %NULL when absent
 * @value: (nullable): the `value` member, %NULL when absent (a JSON
 *   `null` is a #PatchesValue of kind %PATCHES_VALUE_NULL)
 * @soft: (nullable): the `soft` member as given, %NULL when absent
 * @extra: (nullable): any other members (`ts`, `rev`, …), kept verbatim
 *
 * An immutable, reference-counted op.  Algorithms that change an op make
 * a copy (patches_op_copy()) and edit the copy before sharing it.
 */
typedef struct {
  /*< private >*/
  gatomicrefcount  ref_count;
  /*< public >*/
  PatchesOpKind    kind;
  char            *name;
  char            *path;
  char            *from;
  PatchesValue    *value;
  PatchesValue    *soft;
  PatchesValue    *extra;
  /*< private >*/
  PatchesDelta    *delta;        /* parsed @txt value, lazily */
  guint            delta_parsed : 1;
} PatchesOp;

#define PATCHES_TYPE_OP (patches_op_get_type ())

GType          patches_op_get_type      (void) G_GNUC_CONST;

PatchesOp     *patches_op_new           (PatchesOpKind       kind,
                                         const char         *path,
                                         const char         *from,
                                         PatchesValue       *value) G_GNUC_WARN_UNUSED_RESULT;
PatchesOp     *patches_op_new_text      (const char         *path,
                                         PatchesDelta       *delta) G_GNUC_WARN_UNUSED_RESULT;
PatchesOp     *patches_op_copy          (const PatchesOp    *self) G_GNUC_WARN_UNUSED_RESULT;
PatchesOp     *patches_op_ref           (PatchesOp          *self);
void           patches_op_unref         (PatchesOp          *self);

PatchesOp     *patches_op_from_value    (const PatchesValue *value,
                                         GError            **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue  *patches_op_to_value      (const PatchesOp    *self) G_GNUC_WARN_UNUSED_RESULT;
void           patches_op_write_json    (const PatchesOp    *self,
                                         GString            *out);
gsize          patches_op_json_size     (const PatchesOp    *self);
char          *patches_op_describe      (const PatchesOp    *self) G_GNUC_WARN_UNUSED_RESULT;

PatchesOpKind  patches_op_kind_from_name (const char        *name);
const char    *patches_op_kind_to_name  (PatchesOpKind       kind);
PatchesOpKind  patches_op_like          (const PatchesOp    *self);
gboolean       patches_op_is_soft       (const PatchesOp    *self);
void           patches_op_set_path      (PatchesOp          *self,
                                         const char         *path);
void           patches_op_set_from      (PatchesOp          *self,
                                         const char         *from);
void           patches_op_set_value     (PatchesOp          *self,
                                         PatchesValue       *value);
const PatchesDelta *patches_op_get_delta (PatchesOp         *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesOp, patches_op_unref)

G_END_DECLS
