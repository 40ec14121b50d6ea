/* patches-delta.h
 *
 * The rich-text delta engine: insert / retain / delete runs with attribute
 * maps, exactly as @dabble/delta 1.2.5 computes them.  Lengths and offsets
 * count UTF-16 code units; text is held as UTF-16 so that slicing is exact.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-value.h"

G_BEGIN_DECLS

/**
 * PatchesDeltaOpKind:
 * @PATCHES_DELTA_INSERT: insert text or an embed
 * @PATCHES_DELTA_RETAIN: keep (and optionally re-format) a run
 * @PATCHES_DELTA_DELETE: remove a run
 */
typedef enum {
  PATCHES_DELTA_INSERT,
  PATCHES_DELTA_RETAIN,
  PATCHES_DELTA_DELETE,
} PatchesDeltaOpKind;

/* Retain length standing for JavaScript's Infinity (iterator exhaustion). */
#define PATCHES_DELTA_INFINITY G_MAXINT64

/**
 * PatchesDeltaOp:
 * @kind: what the op does
 * @length: run length in UTF-16 code units (1 for an embed)
 * @text: (nullable): UTF-16 text of a text insert, @length units, owned
 * @embed: (nullable): value of an embed insert (any non-string JSON value)
 * @attributes: (nullable): attribute object, or %NULL when absent
 *
 * One run of a delta.  An insert has either @text (never %NULL for a text
 * insert, even an empty one) or @embed (length 1); an insert with neither
 * can only be built in C and behaves like the reference's op whose
 * `insert` is undefined (length 1).  patches_delta_from_value() rejects
 * such ops.  @attributes may hold members whose value is the "undefined"
 * marker of patches-delta-private.h; JSON output leaves them out.
 */
typedef struct {
  PatchesDeltaOpKind  kind;
  gint64              length;
  gunichar2          *text;
  PatchesValue       *embed;
  PatchesValue       *attributes;
} PatchesDeltaOp;

typedef struct _PatchesDelta PatchesDelta;

#define PATCHES_TYPE_DELTA (patches_delta_get_type ())

GType          patches_delta_get_type        (void) G_GNUC_CONST;

PatchesDelta  *patches_delta_new             (void) G_GNUC_WARN_UNUSED_RESULT;
PatchesDelta  *patches_delta_copy            (const PatchesDelta   *self) G_GNUC_WARN_UNUSED_RESULT;
void           patches_delta_free            (PatchesDelta         *self);

guint          patches_delta_get_n_ops       (const PatchesDelta   *self);
const PatchesDeltaOp *patches_delta_get_op   (const PatchesDelta   *self,
                                              guint                 index);
gint64         patches_delta_length          (const PatchesDelta   *self);
gboolean       patches_delta_is_document     (const PatchesDelta   *self);

/* Parsing and JSON: accepts a bare op array or an object {"ops": [...]}. */
PatchesDelta  *patches_delta_from_value      (const PatchesValue   *value,
                                              GError              **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue  *patches_delta_to_value        (const PatchesDelta   *self) G_GNUC_WARN_UNUSED_RESULT;
void           patches_delta_write_json      (const PatchesDelta   *self,
                                              GString              *out);
gsize          patches_delta_json_size       (const PatchesDelta   *self);

/* Builders (the reference's push/insert/retain/delete/chop) */
void           patches_delta_push            (PatchesDelta         *self,
                                              const PatchesDeltaOp *op);
void           patches_delta_append_raw      (PatchesDelta         *self,
                                              const PatchesDeltaOp *op);
void           patches_delta_insert_utf8     (PatchesDelta         *self,
                                              const char           *text,
                                              PatchesValue         *attributes);
void           patches_delta_insert_utf16    (PatchesDelta         *self,
                                              const gunichar2      *text,
                                              gint64                length,
                                              PatchesValue         *attributes);
void           patches_delta_insert_embed    (PatchesDelta         *self,
                                              PatchesValue         *embed,
                                              PatchesValue         *attributes);
void           patches_delta_retain          (PatchesDelta         *self,
                                              gint64                length,
                                              PatchesValue         *attributes);
void           patches_delta_delete          (PatchesDelta         *self,
                                              gint64                length);
void           patches_delta_chop            (PatchesDelta         *self);

/* Algebra */
PatchesDelta  *patches_delta_compose         (const PatchesDelta   *a,
                                              const PatchesDelta   *b) G_GNUC_WARN_UNUSED_RESULT;
PatchesDelta  *patches_delta_transform       (const PatchesDelta   *a,
                                              const PatchesDelta   *b,
                                              gboolean              priority) G_GNUC_WARN_UNUSED_RESULT;
gint64         patches_delta_transform_position (const PatchesDelta *a,
                                              gint64                index,
                                              gboolean              priority);
PatchesDelta  *patches_delta_invert          (const PatchesDelta   *change,
                                              const PatchesDelta   *base) G_GNUC_WARN_UNUSED_RESULT;
PatchesDelta  *patches_delta_slice           (const PatchesDelta   *self,
                                              gint64                start,
                                              gint64                end) G_GNUC_WARN_UNUSED_RESULT;
PatchesDelta  *patches_delta_diff            (const PatchesDelta   *a,
                                              const PatchesDelta   *b,
                                              GError              **error) G_GNUC_WARN_UNUSED_RESULT;

/* UTF-16 helpers (GtkTextBuffer counts characters, the protocol UTF-16) */
gint64         patches_utf16_length_of_utf8  (const char           *utf8,
                                              gssize                len);
gint64         patches_utf16_offset_from_char_offset (const char   *utf8,
                                              gint64                char_offset);
gint64         patches_char_offset_from_utf16_offset (const char   *utf8,
                                              gint64                utf16_offset);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesDelta, patches_delta_free)

G_END_DECLS
