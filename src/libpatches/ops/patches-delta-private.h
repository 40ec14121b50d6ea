/* patches-delta-private.h
 *
 * Internals of the delta engine shared with other library files: the op
 * iterator and the attribute-map rules of @dabble/delta 1.2.5
 * (OPERATIONS.md §6.3 and §6.9).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-delta.h"

G_BEGIN_DECLS

/*
 * JavaScript's `undefined` inside attribute maps.
 *
 * The reference can build attribute maps holding a member whose value is
 * `undefined` (for example transforming {style:{color:"red"}} against
 * {style:{color:"blue"}} with priority gives {style: undefined}).  Such a
 * member counts as a key (the map is not empty, so the op is not chopped,
 * and it takes part in equality) but JSON.stringify leaves it out, so
 * the op is written as {"retain":2,"attributes":{}}.  The engine models it
 * with one immutable marker value (of kind null, told apart by identity).
 * patches_delta_to_value(), patches_delta_write_json() and
 * patches_delta_json_size() never show it; attribute maps reached through
 * patches_delta_get_op() may contain it.
 */
PatchesValue *patches_attributes_undefined    (void);
gboolean      patches_attributes_is_undefined (const PatchesValue *value);
/* A copy of @attributes without undefined members (at any depth), or a
 * new reference to @attributes when it has none. */
PatchesValue *patches_attributes_strip_undefined (PatchesValue    *attributes) G_GNUC_WARN_UNUSED_RESULT;

/* JavaScript isEqual of two attribute values; %NULL (absent) and the
 * undefined marker are both `undefined`. */
gboolean      patches_attributes_equal        (const PatchesValue *a,
                                               const PatchesValue *b);
/* AttributeMap.compose/transform/invert/diff.  %NULL in and out means
 * absent (`undefined`).  Results never share a container with the inputs
 * that the caller could modify; members are shared by reference and must
 * not be modified. */
PatchesValue *patches_attributes_compose      (const PatchesValue *a,
                                               const PatchesValue *b,
                                               gboolean            keep_null) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue *patches_attributes_transform    (const PatchesValue *a,
                                               const PatchesValue *b,
                                               gboolean            priority) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue *patches_attributes_invert       (const PatchesValue *attr,
                                               const PatchesValue *base) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue *patches_attributes_diff         (const PatchesValue *a,
                                               const PatchesValue *b) G_GNUC_WARN_UNUSED_RESULT;

/**
 * PatchesDeltaIter:
 *
 * The reference's OpIterator.  Ops handed out by
 * patches_delta_iter_next() are views: their pointers borrow from the
 * delta (text points inside the op's text) and stay valid while the delta
 * is not modified.  Exhaustion yields a retain of %PATCHES_DELTA_INFINITY.
 */
typedef struct {
  const PatchesDelta *delta;
  guint               index;
  gint64              offset;
} PatchesDeltaIter;

void                patches_delta_iter_init        (PatchesDeltaIter   *iter,
                                                    const PatchesDelta *delta);
gboolean            patches_delta_iter_has_next    (const PatchesDeltaIter *iter);
gint64              patches_delta_iter_peek_length (const PatchesDeltaIter *iter);
PatchesDeltaOpKind  patches_delta_iter_peek_type   (const PatchesDeltaIter *iter);
/* Takes up to @length units (0 or less: the rest of the current op). */
void                patches_delta_iter_next        (PatchesDeltaIter   *iter,
                                                    gint64              length,
                                                    PatchesDeltaOp     *view);

/* Whether an insert op is `insert != null` in the reference (a text or a
 * non-null embed). */
gboolean            patches_delta_op_has_insert    (const PatchesDeltaOp *op);

/* UTF-16 text as JSON.stringify writes a string (lone surrogates as
 * \udXXX), and its size in bytes. */
void                patches_utf16_append_json      (GString         *out,
                                                    const gunichar2 *text,
                                                    gsize            length);
gsize               patches_utf16_json_size        (const gunichar2 *text,
                                                    gsize            length);
/* Conversions.  UTF-8 → UTF-16 accepts the 3-byte encodings of lone
 * surrogates (WTF-8) and maps other invalid bytes to U+FFFD; UTF-16 →
 * UTF-8 writes lone surrogates that way (WTF-8), so nothing is lost. */
gunichar2          *patches_utf8_to_utf16          (const char      *utf8,
                                                    gssize           len,
                                                    gsize           *out_len) G_GNUC_WARN_UNUSED_RESULT;
char               *patches_utf16_to_utf8          (const gunichar2 *text,
                                                    gsize            length,
                                                    gsize           *out_len) G_GNUC_WARN_UNUSED_RESULT;

/* JSON member order of single ops, for the rich-text rope
 * (patches-text.c), which takes documents apart into runs and rebuilds
 * them: JSON.stringify writes "attributes" first for an op the reference
 * built as a partial piece (OpIterator.next), and the rope has to give
 * back the same bytes. */
gboolean            patches_delta_get_attributes_first (const PatchesDelta   *self,
                                                        guint                 index);
void                patches_delta_push_ordered         (PatchesDelta         *self,
                                                        const PatchesDeltaOp *op,
                                                        gboolean              attributes_first);
void                patches_delta_append_raw_ordered   (PatchesDelta         *self,
                                                        const PatchesDeltaOp *op,
                                                        gboolean              attributes_first);

G_END_DECLS
