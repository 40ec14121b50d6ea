/* patches-patch.h
 *
 * An ordered list of JSON Patch ops: builder, JSON, apply, transform,
 * compose and invert, computing what @dabble/patches 0.28.1 computes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-op.h"

G_BEGIN_DECLS

typedef struct _PatchesPatch PatchesPatch;

#define PATCHES_TYPE_PATCH (patches_patch_get_type ())

/**
 * PatchesApplyFlags:
 * @PATCHES_APPLY_DEFAULT: lenient: a failed op is logged and skipped, a
 *   failed `test` aborts and returns the original document
 * @PATCHES_APPLY_STRICT: the first failing op is an error
 * @PATCHES_APPLY_RIGID: the first failing op aborts without an error
 * @PATCHES_APPLY_PARTIAL: an abort returns the state reached so far
 * @PATCHES_APPLY_LEGACY_TEXT_PADDING: replay of old history: a `@txt`
 *   retain past the end pads with spaces (OPERATIONS.md §6.10)
 *
 * Options of patches_patch_apply().
 */
typedef enum {
  PATCHES_APPLY_DEFAULT              = 0,
  PATCHES_APPLY_STRICT               = 1 << 0,
  PATCHES_APPLY_RIGID                = 1 << 1,
  PATCHES_APPLY_PARTIAL              = 1 << 2,
  PATCHES_APPLY_LEGACY_TEXT_PADDING  = 1 << 3,
} PatchesApplyFlags;

/**
 * PatchesApplyReport:
 * @abort_op: index of the op that aborted the patch, or -1
 * @failed_ops: (element-type guint): indexes of the ops that failed, in order
 *
 * What a lenient apply reports besides its result.
 */
typedef struct {
  int     abort_op;
  GArray *failed_ops;
} PatchesApplyReport;

GType          patches_patch_get_type     (void) G_GNUC_CONST;

PatchesPatch  *patches_patch_new          (void) G_GNUC_WARN_UNUSED_RESULT;
PatchesPatch  *patches_patch_new_take     (GPtrArray          *ops) G_GNUC_WARN_UNUSED_RESULT;
PatchesPatch  *patches_patch_ref          (PatchesPatch       *self);
void           patches_patch_unref        (PatchesPatch       *self);
PatchesPatch  *patches_patch_copy         (const PatchesPatch *self) G_GNUC_WARN_UNUSED_RESULT;

guint          patches_patch_get_n_ops    (const PatchesPatch *self);
PatchesOp     *patches_patch_get_op       (const PatchesPatch *self,
                                           guint               index);
GPtrArray     *patches_patch_get_ops      (const PatchesPatch *self);
gboolean       patches_patch_is_empty     (const PatchesPatch *self);
void           patches_patch_append_op    (PatchesPatch       *self,
                                           PatchesOp          *op);
void           patches_patch_concat       (PatchesPatch       *self,
                                           const PatchesPatch *other);

/* JSON */
PatchesPatch  *patches_patch_from_value   (const PatchesValue *value,
                                           GError            **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesPatch  *patches_patch_from_json    (const char         *json,
                                           gssize              length,
                                           GError            **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue  *patches_patch_to_value     (const PatchesPatch *self) G_GNUC_WARN_UNUSED_RESULT;
char          *patches_patch_to_json      (const PatchesPatch *self) G_GNUC_WARN_UNUSED_RESULT;
void           patches_patch_write_json   (const PatchesPatch *self,
                                           GString            *out);
gsize          patches_patch_json_size    (const PatchesPatch *self);

/* Builder: emits what the reference's JSONPatch builder emits (§10.1) */
void           patches_patch_add          (PatchesPatch       *self,
                                           const char         *path,
                                           PatchesValue       *value,
                                           gboolean            soft);
void           patches_patch_remove       (PatchesPatch       *self,
                                           const char         *path);
void           patches_patch_replace      (PatchesPatch       *self,
                                           const char         *path,
                                           PatchesValue       *value,
                                           gboolean            soft);
void           patches_patch_move         (PatchesPatch       *self,
                                           const char         *from,
                                           const char         *path);
void           patches_patch_copy_op      (PatchesPatch       *self,
                                           const char         *from,
                                           const char         *path,
                                           gboolean            soft);
void           patches_patch_test         (PatchesPatch       *self,
                                           const char         *path,
                                           PatchesValue       *value);
void           patches_patch_increment    (PatchesPatch       *self,
                                           const char         *path,
                                           double              amount);
gboolean       patches_patch_bit          (PatchesPatch       *self,
                                           const char         *path,
                                           guint               index,
                                           gboolean            on,
                                           GError            **error);
void           patches_patch_max          (PatchesPatch       *self,
                                           const char         *path,
                                           PatchesValue       *value);
void           patches_patch_min          (PatchesPatch       *self,
                                           const char         *path,
                                           PatchesValue       *value);
void           patches_patch_text         (PatchesPatch       *self,
                                           const char         *path,
                                           PatchesDelta       *delta);

/* Algorithms */
gboolean       patches_patch_apply        (const PatchesPatch *self,
                                           PatchesValue      **doc,
                                           PatchesApplyFlags   flags,
                                           const char         *at_path,
                                           PatchesApplyReport *report,
                                           GError            **error);
PatchesPatch  *patches_patch_transform    (const PatchesPatch *self,
                                           const PatchesPatch *other,
                                           gboolean            other_ops_first) G_GNUC_WARN_UNUSED_RESULT;
PatchesPatch  *patches_patch_compose      (const PatchesPatch *self,
                                           GError            **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesPatch  *patches_patch_invert       (const PatchesPatch *self,
                                           PatchesValue       *doc,
                                           GError            **error) G_GNUC_WARN_UNUSED_RESULT;

void           patches_apply_report_clear (PatchesApplyReport *report);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesPatch, patches_patch_unref)

G_END_DECLS
