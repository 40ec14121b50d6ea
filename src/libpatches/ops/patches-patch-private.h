/* patches-patch-private.h
 *
 * The algorithms on plain op lists (GPtrArray of PatchesOp), shared by
 * the public PatchesPatch wrappers and the OT layer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-patch.h"

G_BEGIN_DECLS

GPtrArray    *patches_ops_new          (void);
GPtrArray    *patches_ops_from_value   (const PatchesValue  *value,
                                        GError             **error);
PatchesValue *patches_ops_to_value     (GPtrArray           *ops);
void          patches_ops_write_json   (GPtrArray           *ops,
                                        GString             *out);
gsize         patches_ops_json_size    (GPtrArray           *ops);

/* Applies @ops to *@doc (transfer full in and out; NULL = no document).
 * On an error *@doc is left as it was.  Implemented in patches-apply.c. */
gboolean      patches_ops_apply        (GPtrArray           *ops,
                                        PatchesValue       **doc,
                                        PatchesApplyFlags    flags,
                                        const char          *at_path,
                                        PatchesApplyReport  *report,
                                        GError             **error);

/* transformPatch (null document): @other_ops rewritten to apply after
 * @this_ops.  Implemented in patches-transform.c. */
GPtrArray    *patches_ops_transform    (GPtrArray           *this_ops,
                                        GPtrArray           *other_ops,
                                        gboolean             other_ops_first);

/* composePatch and invertPatch.  Implemented in patches-compose.c and
 * patches-invert.c. */
GPtrArray    *patches_ops_compose      (GPtrArray           *ops,
                                        GError             **error);
GPtrArray    *patches_ops_invert       (GPtrArray           *ops,
                                        PatchesValue        *doc,
                                        GError             **error);

G_END_DECLS
