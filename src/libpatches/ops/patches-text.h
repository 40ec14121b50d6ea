/* patches-text.h
 *
 * A rich-text document stored in a JSON document by `@txt` ops.  Its JSON
 * form is `{"ops": [...]}` (a delta of inserts ending in "\n"); in memory
 * plain typing edits a rope, and the delta is built only at the edges.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-delta.h"
#include "patches-value.h"

G_BEGIN_DECLS

PatchesText  *patches_text_new_from_delta (PatchesDelta        *document) G_GNUC_WARN_UNUSED_RESULT;
PatchesText  *patches_text_new_plain      (const char          *utf8) G_GNUC_WARN_UNUSED_RESULT;
PatchesText  *patches_text_copy           (const PatchesText   *self) G_GNUC_WARN_UNUSED_RESULT;
void          patches_text_free           (PatchesText         *self);

const PatchesDelta *patches_text_get_delta (const PatchesText  *self);
gint64        patches_text_get_length     (const PatchesText   *self);
gint64        patches_text_get_n_chars    (const PatchesText   *self);
gint64        patches_text_char_offset_from_utf16_offset (const PatchesText *self,
                                           gint64               utf16_offset);
gint64        patches_text_utf16_offset_from_char_offset (const PatchesText *self,
                                           gint64               char_offset);
char         *patches_text_to_plain       (const PatchesText   *self) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue *patches_text_to_value       (const PatchesText   *self) G_GNUC_WARN_UNUSED_RESULT;
void          patches_text_write_json     (const PatchesText   *self,
                                           GString             *out);
gsize         patches_text_json_size      (const PatchesText   *self);
gboolean      patches_text_equal          (const PatchesText   *a,
                                           const PatchesText   *b);

/* The `@txt` apply rule: compose, then the overrun repair (OPERATIONS.md
 * §6.10).  Returns the number of UTF-16 units that overran the document
 * and were dropped (always 0 in legacy mode, where the reference does not
 * warn). */
gint64        patches_text_apply          (PatchesText         *self,
                                           const PatchesDelta  *change,
                                           gboolean             legacy_overrun_padding);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesText, patches_text_free)

G_END_DECLS
