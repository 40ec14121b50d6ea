/* patches-text.c
 *
 * The rich-text value a `@txt` op keeps inside a document.
 *
 * Two representations, one of them authoritative at any time:
 *
 *  - a rope (patches-rope.c) while the document is "regular": a
 *    normalised document delta, that is only inserts, no empty text
 *    insert, no empty attribute map, no two neighbouring text inserts with
 *    equal attributes, and a last op that is a text insert ending in "\n".
 *    Every op of the document is then a "run" of the rope: an embed leaf,
 *    or the maximal sequence of text leaves sharing one attributes
 *    pointer.  The delta form is built on demand and cached until the
 *    next edit;
 *  - the delta itself, exactly as stored or computed, in any other case
 *    (a stored value in a non-canonical shape must be kept op for op:
 *    op boundaries are visible in its JSON).  The next plain edit turns it
 *    into a rope if it is regular by then.
 *
 * patches_text_apply() must give exactly compose(base, change) followed by
 * the overrun repair.  The slow path does literally that with the delta
 * engine.  The fast path edits the rope in place (what it shares with
 * copies of the text is copied on the way, patches-rope.c), for a
 * regular document and a change made only of attribute-free retains,
 * inserts (text or embeds, with or without attributes) and deletes, all
 * non-empty, that stays before the final "\n" (inserts and deletes end
 * at or before length − 1, retains at or before length).  Why that gives
 * the very same result, op boundaries and JSON bytes included, is argued
 * next to apply_fast() below.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-delta-private.h"
#include "patches-rope-private.h"
#include "patches-text.h"
#include "patches-text-private.h"

struct _PatchesText
{
  /* The text when not %NULL. */
  PatchesRope  *rope;
  /* The text when @rope is %NULL; otherwise the delta form built from the
   * rope, or %NULL until asked for.  Being a cache it is filled in by
   * const getters, so a PatchesText must not be read from several threads
   * at once (no GLib container may either). */
  PatchesDelta *delta;
  /* With @rope %NULL: @delta is known not to be regular, do not look again
   * until it changes. */
  gboolean      irregular;
};

static const gunichar2 newline[1] = { '\n' };

static inline gboolean
is_high_surrogate (gunichar2 c)
{
  return c >= 0xD800 && c <= 0xDBFF;
}

static inline gboolean
is_low_surrogate (gunichar2 c)
{
  return c >= 0xDC00 && c <= 0xDFFF;
}

/* ------------------------------------------------------------------ */
/* Between the two representations                                     */
/* ------------------------------------------------------------------ */

/* Whether @delta is a regular document (see the top of the file). */
static gboolean
delta_is_regular (const PatchesDelta *delta)
{
  const PatchesDeltaOp *previous = NULL;
  const PatchesDeltaOp *last;
  guint n = patches_delta_get_n_ops (delta);

  if (n == 0)
    return FALSE;

  for (guint i = 0; i < n; i++)
    {
      const PatchesDeltaOp *op = patches_delta_get_op (delta, i);

      if (op->kind != PATCHES_DELTA_INSERT)
        return FALSE;
      if (op->attributes != NULL &&
          (patches_value_get_kind (op->attributes) != PATCHES_VALUE_OBJECT ||
           patches_value_object_get_size (op->attributes) == 0))
        return FALSE;

      if (op->text != NULL)
        {
          if (op->length == 0)
            return FALSE;
          if (previous != NULL && previous->text != NULL &&
              patches_attributes_equal (previous->attributes, op->attributes))
            return FALSE;
        }
      else if (op->embed == NULL)
        return FALSE;

      previous = op;
    }

  last = patches_delta_get_op (delta, n - 1);
  return last->text != NULL && last->text[last->length - 1] == '\n';
}

static PatchesRope *
rope_new_from_delta (const PatchesDelta *delta)
{
  PatchesRope *rope = patches_rope_new ();
  guint n = patches_delta_get_n_ops (delta);

  for (guint i = 0; i < n; i++)
    {
      const PatchesDeltaOp *op = patches_delta_get_op (delta, i);

      patches_rope_append (rope, op->text, op->length, op->embed, op->attributes,
                           patches_delta_get_attributes_first (delta, i));
    }

  return rope;
}

/* The run starting at the leaf @iter is on: its text and length.  @iter
 * is left on the run's last leaf.  The text is contiguous only when the
 * run is one leaf; otherwise it is gathered in @scratch. */
static void
run_text (PatchesRopeIter  *iter,
          GArray           *scratch,
          const gunichar2 **text,
          gsize            *length)
{
  const PatchesRopeLeaf *leaf = patches_rope_iter_get_leaf (iter);

  if (!patches_rope_leaf_same_run (leaf, patches_rope_iter_peek_next (iter)))
    {
      *text = leaf->text;
      *length = leaf->length;
      return;
    }

  g_array_set_size (scratch, 0);
  g_array_append_vals (scratch, leaf->text, leaf->length);
  while (patches_rope_leaf_same_run (leaf, patches_rope_iter_peek_next (iter)))
    {
      leaf = patches_rope_iter_next (iter);
      g_array_append_vals (scratch, leaf->text, leaf->length);
    }
  *text = (const gunichar2 *) scratch->data;
  *length = scratch->len;
}

static PatchesDelta *
rope_to_delta (const PatchesRope *rope)
{
  g_autoptr(GArray) scratch = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  PatchesDelta *delta = patches_delta_new ();
  PatchesRopeIter iter;
  const PatchesRopeLeaf *leaf;

  for (leaf = patches_rope_iter_init_first (&iter, rope); leaf != NULL; leaf = patches_rope_iter_next (&iter))
    {
      PatchesDeltaOp op = { PATCHES_DELTA_INSERT, 1, NULL, leaf->embed, leaf->attributes };
      gboolean attributes_first = leaf->attributes_first;

      if (leaf->embed == NULL)
        {
          const gunichar2 *text;
          gsize length;

          run_text (&iter, scratch, &text, &length);
          op.text = (gunichar2 *) text;
          op.length = length;
        }

      patches_delta_append_raw_ordered (delta, &op, attributes_first);
    }

  return delta;
}

/* Makes the rope authoritative if the document allows it.  The delta is
 * kept as the cache: the rope was built from it. */
static gboolean
ensure_rope (PatchesText *self)
{
  if (self->rope != NULL)
    return TRUE;
  if (self->irregular)
    return FALSE;

  if (!delta_is_regular (self->delta))
    {
      self->irregular = TRUE;
      return FALSE;
    }

  self->rope = rope_new_from_delta (self->delta);
  return TRUE;
}

/* The text is about to change: the delta form no longer describes it. */
static inline void
invalidate_delta (PatchesText *self)
{
  g_clear_pointer (&self->delta, patches_delta_free);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

static PatchesText *
text_alloc (void)
{
  return g_new0 (PatchesText, 1);
}

/**
 * patches_text_new_from_delta: (skip)
 * @document: (transfer full): the document (normally inserts only, ending
 *   in "\n"; any delta is accepted and kept exactly as it is)
 *
 * Returns: (transfer full): a text value holding @document
 */
PatchesText *
patches_text_new_from_delta (PatchesDelta *document)
{
  PatchesText *self;

  g_return_val_if_fail (document != NULL, NULL);

  self = text_alloc ();
  self->delta = document;

  return self;
}

/**
 * patches_text_new_plain: (skip)
 * @utf8: plain text
 *
 * Creates a document holding @utf8 as one run without attributes.  Every
 * document ends with a newline, so "\n" is added unless @utf8 already ends
 * with one (the empty string gives the one-line document "\n").
 *
 * Returns: (transfer full): a new text value
 */
PatchesText *
patches_text_new_plain (const char *utf8)
{
  g_autofree gunichar2 *units = NULL;
  PatchesText *self = text_alloc ();
  gsize length = 0;

  g_return_val_if_fail (utf8 != NULL, NULL);

  units = patches_utf8_to_utf16 (utf8, -1, &length);
  if (length == 0 || units[length - 1] != '\n')
    {
      units = g_renew (gunichar2, units, length + 1);
      units[length++] = '\n';
    }

  self->rope = patches_rope_new ();
  patches_rope_append (self->rope, units, length, NULL, NULL, FALSE);

  return self;
}

/**
 * patches_text_copy: (skip)
 * @self: a text value
 *
 * Copies the text.  A rope is shared, not copied (O(1)): either text
 * copies only the path to what it edits later (patches-rope.c).  A text
 * held as a delta is copied op by op, attribute and embed values being
 * shared, immutable as they are.
 *
 * Returns: (transfer full): the copy
 */
PatchesText *
patches_text_copy (const PatchesText *self)
{
  PatchesText *copy = text_alloc ();

  if (self->rope != NULL)
    copy->rope = patches_rope_copy (self->rope);
  else
    {
      copy->delta = patches_delta_copy (self->delta);
      copy->irregular = self->irregular;
    }

  return copy;
}

/**
 * patches_text_free:
 * @self: (transfer full) (nullable): a text value
 */
void
patches_text_free (PatchesText *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->rope, patches_rope_free);
  g_clear_pointer (&self->delta, patches_delta_free);
  g_free (self);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

/**
 * patches_text_get_delta:
 * @self: a text value
 *
 * The document as a delta, op for op as the reference holds it.  Built
 * from the rope when needed and kept until the next edit.
 *
 * Returns: (transfer none): the document; valid until @self changes
 */
const PatchesDelta *
patches_text_get_delta (const PatchesText *self)
{
  PatchesText *mutable_self = (PatchesText *) self;

  if (self->delta == NULL)
    mutable_self->delta = rope_to_delta (self->rope);

  return self->delta;
}

/**
 * patches_text_get_length:
 * @self: a text value
 *
 * Returns: the length of the document in UTF-16 code units (an embed
 *   counts 1), the newline at the end included
 */
gint64
patches_text_get_length (const PatchesText *self)
{
  if (self->rope != NULL)
    return self->rope->length;
  return patches_delta_length (self->delta);
}

/* Character counting over the delta form, for a text that has no rope.
 * Units of anything but text count one character each. */
typedef struct {
  const PatchesDelta *delta;
  guint               index;
  gint64              offset;
  gboolean            after_high;
} UnitWalk;

/* Steps over one unit; returns whether it starts a character, or -1 at
 * the end. */
static int
unit_walk_next (UnitWalk *walk)
{
  guint n = patches_delta_get_n_ops (walk->delta);
  const PatchesDeltaOp *op = NULL;
  gunichar2 c;

  for (; walk->index < n; walk->index++, walk->offset = 0)
    {
      op = patches_delta_get_op (walk->delta, walk->index);
      if (walk->offset < op->length)
        break;
    }
  if (walk->index >= n)
    return -1;

  if (op->kind != PATCHES_DELTA_INSERT || op->text == NULL)
    {
      walk->offset++;
      walk->after_high = FALSE;
      return 1;
    }

  c = op->text[walk->offset++];
  if (walk->after_high && is_low_surrogate (c))
    {
      walk->after_high = FALSE;
      return 0;
    }
  walk->after_high = is_high_surrogate (c);
  return 1;
}

/**
 * patches_text_get_n_chars:
 * @self: a text value
 *
 * Returns: the length of the document in characters as GtkTextBuffer
 *   counts them: a surrogate pair is one, and so is an embed (which a
 *   buffer holds as one U+FFFC) or a lone surrogate
 */
gint64
patches_text_get_n_chars (const PatchesText *self)
{
  UnitWalk walk = { self->delta, 0, 0, FALSE };
  gint64 n = 0;
  int starts;

  if (self->rope != NULL)
    return self->rope->n_chars;

  while ((starts = unit_walk_next (&walk)) >= 0)
    n += starts;

  return n;
}

/**
 * patches_text_char_offset_from_utf16_offset:
 * @self: a text value
 * @utf16_offset: an offset in UTF-16 code units, as the protocol counts
 *
 * An offset between the two halves of a surrogate pair maps to the
 * character they encode.  Offsets are clamped to the document.
 *
 * Returns: the same position in characters (see
 *   patches_text_get_n_chars())
 */
gint64
patches_text_char_offset_from_utf16_offset (const PatchesText *self,
                                            gint64             utf16_offset)
{
  UnitWalk walk = { self->delta, 0, 0, FALSE };
  gint64 chars = 0;
  int starts = 0;

  if (self->rope != NULL)
    return patches_rope_char_offset (self->rope, utf16_offset);

  for (gint64 i = 0; i <= utf16_offset; i++)
    {
      starts = unit_walk_next (&walk);
      if (starts < 0)
        return chars;
      if (i < utf16_offset)
        chars += starts;
    }

  /* Inside a pair: the character that pair encodes. */
  return starts == 0 ? chars - 1 : chars;
}

/**
 * patches_text_utf16_offset_from_char_offset:
 * @self: a text value
 * @char_offset: an offset in characters, as GtkTextBuffer counts
 *
 * Returns: the same position in UTF-16 code units, clamped to the
 *   document
 */
gint64
patches_text_utf16_offset_from_char_offset (const PatchesText *self,
                                            gint64             char_offset)
{
  UnitWalk walk = { self->delta, 0, 0, FALSE };
  gint64 units = 0;
  gint64 chars = 0;
  int starts;

  if (self->rope != NULL)
    return patches_rope_utf16_offset (self->rope, char_offset);

  if (char_offset <= 0)
    return 0;

  while ((starts = unit_walk_next (&walk)) >= 0)
    {
      if (starts && chars++ == char_offset)
        return units;
      units++;
    }

  return units;
}

/* UTF-16 to UTF-8 for display: a lone surrogate, which UTF-8 cannot carry,
 * becomes U+FFFD.  The pending high surrogate is kept across calls so that
 * a pair cut between two pieces still makes one character. */
typedef struct {
  GString   *out;
  gunichar2  high;
} PlainWriter;

static void
plain_writer_add (PlainWriter     *writer,
                  const gunichar2 *text,
                  gsize            length)
{
  for (gsize i = 0; i < length; i++)
    {
      gunichar2 c = text[i];

      if (c < 0x80 && writer->high == 0)
        {
          g_string_append_c (writer->out, (char) c);
          continue;
        }

      if (writer->high != 0)
        {
          gunichar2 high = writer->high;

          writer->high = 0;
          if (is_low_surrogate (c))
            {
              g_string_append_unichar (writer->out,
                                       0x10000 + (((gunichar) high - 0xD800) << 10) + (c - 0xDC00));
              continue;
            }
          g_string_append_unichar (writer->out, 0xFFFD);
        }

      if (is_high_surrogate (c))
        writer->high = c;
      else if (is_low_surrogate (c))
        g_string_append_unichar (writer->out, 0xFFFD);
      else
        g_string_append_unichar (writer->out, c);
    }
}

static void
plain_writer_flush (PlainWriter *writer)
{
  if (writer->high != 0)
    g_string_append_unichar (writer->out, 0xFFFD);
  writer->high = 0;
}

/**
 * patches_text_to_plain:
 * @self: a text value
 *
 * The text of the document as UTF-8, the final newline included.  Each
 * embed is written as U+FFFC OBJECT REPLACEMENT CHARACTER (what
 * GtkTextBuffer reports for a child anchor or a paintable), so that
 * character offsets in the result are those of
 * patches_text_char_offset_from_utf16_offset().  A lone surrogate becomes
 * U+FFFD.
 *
 * Returns: (transfer full): the text
 */
char *
patches_text_to_plain (const PatchesText *self)
{
  PlainWriter writer = { g_string_sized_new (patches_text_get_length (self) + 1), 0 };

  if (self->rope != NULL)
    {
      PatchesRopeIter iter;

      for (const PatchesRopeLeaf *leaf = patches_rope_iter_init_first (&iter, self->rope);
           leaf != NULL;
           leaf = patches_rope_iter_next (&iter))
        {
          if (leaf->embed != NULL)
            {
              plain_writer_flush (&writer);
              g_string_append_unichar (writer.out, 0xFFFC);
            }
          else
            plain_writer_add (&writer, leaf->text, leaf->length);
        }
    }
  else
    {
      guint n = patches_delta_get_n_ops (self->delta);

      for (guint i = 0; i < n; i++)
        {
          const PatchesDeltaOp *op = patches_delta_get_op (self->delta, i);

          if (op->kind != PATCHES_DELTA_INSERT)
            continue;
          if (op->text != NULL)
            plain_writer_add (&writer, op->text, op->length);
          else
            {
              plain_writer_flush (&writer);
              g_string_append_unichar (writer.out, 0xFFFC);
            }
        }
    }

  plain_writer_flush (&writer);
  return g_string_free (writer.out, FALSE);
}

/**
 * patches_text_to_value:
 * @self: a text value
 *
 * Returns: (transfer full): the JSON form `{"ops": [...]}` as plain values
 */
PatchesValue *
patches_text_to_value (const PatchesText *self)
{
  PatchesValue *object = patches_value_new_object ();

  patches_value_object_set (object, "ops", patches_delta_to_value (patches_text_get_delta (self)));

  return object;
}

static void
write_attributes (PatchesValue *attributes,
                  GString      *out)
{
  g_autoptr(PatchesValue) clean = patches_attributes_strip_undefined (attributes);

  patches_value_write_json (clean, out);
}

static gsize
attributes_json_size (PatchesValue *attributes)
{
  g_autoptr(PatchesValue) clean = patches_attributes_strip_undefined (attributes);

  return patches_value_json_size (clean);
}

/**
 * patches_text_write_json:
 * @self: a text value
 * @out: string to append to
 *
 * Appends `{"ops":[...]}` exactly as JSON.stringify writes it.
 */
void
patches_text_write_json (const PatchesText *self,
                         GString           *out)
{
  g_autoptr(GArray) scratch = NULL;
  const PatchesRopeLeaf *leaf;
  PatchesRopeIter iter;
  gboolean first = TRUE;

  if (self->rope == NULL)
    {
      g_string_append (out, "{\"ops\":");
      patches_delta_write_json (self->delta, out);
      g_string_append_c (out, '}');
      return;
    }

  /* Straight from the rope, as patches_delta_write_json() would write
   * the delta form, without building it. */
  scratch = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  g_string_append (out, "{\"ops\":[");
  for (leaf = patches_rope_iter_init_first (&iter, self->rope); leaf != NULL; leaf = patches_rope_iter_next (&iter))
    {
      PatchesValue *attributes = leaf->attributes;
      gboolean attributes_first = attributes != NULL && leaf->attributes_first;

      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      g_string_append_c (out, '{');
      if (attributes_first)
        {
          g_string_append (out, "\"attributes\":");
          write_attributes (attributes, out);
          g_string_append_c (out, ',');
        }
      g_string_append (out, "\"insert\":");
      if (leaf->embed != NULL)
        patches_value_write_json (leaf->embed, out);
      else
        {
          const gunichar2 *text;
          gsize length;

          run_text (&iter, scratch, &text, &length);
          patches_utf16_append_json (out, text, length);
        }
      if (attributes != NULL && !attributes_first)
        {
          g_string_append (out, ",\"attributes\":");
          write_attributes (attributes, out);
        }
      g_string_append_c (out, '}');
    }
  g_string_append (out, "]}");
}

/**
 * patches_text_json_size:
 * @self: a text value
 *
 * Returns: the size in bytes of what patches_text_write_json() writes
 */
gsize
patches_text_json_size (const PatchesText *self)
{
  const PatchesRopeLeaf *leaf;
  PatchesRopeIter iter;
  gsize size;

  if (self->rope == NULL)
    return strlen ("{\"ops\":}") + patches_delta_json_size (self->delta);

  size = strlen ("{\"ops\":[]}");
  for (leaf = patches_rope_iter_init_first (&iter, self->rope); leaf != NULL; leaf = patches_rope_iter_next (&iter))
    {
      if (patches_rope_iter_get_start (&iter) > 0)
        size += 1;
      size += strlen ("{\"insert\":}");
      if (leaf->attributes != NULL)
        size += strlen (",\"attributes\":") + attributes_json_size (leaf->attributes);

      if (leaf->embed != NULL)
        {
          size += patches_value_json_size (leaf->embed);
          continue;
        }

      /* Sized leaf by leaf: the quotes once per run, and a pair cut
       * between two leaves is 4 bytes, not two 6-byte escapes. */
      size += 2;
      for (;;)
        {
          const PatchesRopeLeaf *next = patches_rope_iter_peek_next (&iter);

          size += patches_utf16_json_size (leaf->text, leaf->length) - 2;
          if (!patches_rope_leaf_same_run (leaf, next))
            break;
          if (is_high_surrogate (leaf->text[leaf->length - 1]) && is_low_surrogate (next->text[0]))
            size -= 8;
          leaf = patches_rope_iter_next (&iter);
        }
    }

  return size;
}

/* JSON deep equality of two attribute maps (absent ≠ present). */
static gboolean
attributes_json_equal (PatchesValue *a,
                       PatchesValue *b)
{
  g_autoptr(PatchesValue) clean_a = NULL;
  g_autoptr(PatchesValue) clean_b = NULL;

  if (a == b)
    return TRUE;
  if (a == NULL || b == NULL)
    return FALSE;

  clean_a = patches_attributes_strip_undefined (a);
  clean_b = patches_attributes_strip_undefined (b);
  return patches_value_equal (clean_a, clean_b);
}

/**
 * patches_text_equal:
 * @a: a text value
 * @b: a text value
 *
 * Returns: whether the JSON forms of @a and @b are deep-equal (the same
 *   ops, member order aside)
 */
gboolean
patches_text_equal (const PatchesText *a,
                    const PatchesText *b)
{
  const PatchesDelta *da;
  const PatchesDelta *db;
  guint n;

  if (a == b)
    return TRUE;
  /* Two regular documents: their runs are their ops.  Comparing the ropes
   * skips what they share, which after an edit of a copy is nearly all. */
  if (a->rope != NULL && b->rope != NULL)
    return patches_rope_equal (a->rope, b->rope, attributes_json_equal);

  da = patches_text_get_delta (a);
  db = patches_text_get_delta (b);
  n = patches_delta_get_n_ops (da);
  if (n != patches_delta_get_n_ops (db))
    return FALSE;

  for (guint i = 0; i < n; i++)
    {
      const PatchesDeltaOp *x = patches_delta_get_op (da, i);
      const PatchesDeltaOp *y = patches_delta_get_op (db, i);

      if (x->kind != y->kind || x->length != y->length)
        return FALSE;
      if ((x->text == NULL) != (y->text == NULL) ||
          (x->text != NULL && memcmp (x->text, y->text, x->length * sizeof (gunichar2)) != 0))
        return FALSE;
      if ((x->embed == NULL) != (y->embed == NULL) ||
          (x->embed != NULL && !patches_value_equal (x->embed, y->embed)))
        return FALSE;
      if (!attributes_json_equal (x->attributes, y->attributes))
        return FALSE;
    }

  return TRUE;
}

/* ------------------------------------------------------------------ */
/* The slow path: compose, then repair (OPERATIONS.md §6.10)           */
/* ------------------------------------------------------------------ */

static inline gboolean
op_is_text_ending_in_newline (const PatchesDeltaOp *op)
{
  return op->kind == PATCHES_DELTA_INSERT && op->text != NULL && op->length > 0 &&
         op->text[op->length - 1] == '\n';
}

/* See patches-text-private.h.  Follows the reference's fixBadDeltaDoc()
 * step by step, keeping each op's JSON member order as its push would. */
PatchesDelta *
patches_text_apply_reference (const PatchesDelta *base,
                              const PatchesDelta *change,
                              gboolean            legacy_overrun_padding,
                              gint64             *overrun)
{
  g_autoptr(PatchesDelta) doc = patches_delta_compose (base, change);
  PatchesDelta *fixed;
  gint64 dropped = 0;
  guint n = patches_delta_get_n_ops (doc);
  guint keep = n;
  gboolean inner_non_insert = FALSE;

  /* 4.1: what trails the last insert referred to content past the end. */
  while (keep > 0 && patches_delta_get_op (doc, keep - 1)->kind != PATCHES_DELTA_INSERT)
    {
      dropped += patches_delta_get_op (doc, keep - 1)->length;
      keep--;
    }

  if (keep < n)
    {
      PatchesDelta *head = patches_delta_new ();

      for (guint i = 0; i < keep; i++)
        patches_delta_append_raw_ordered (head, patches_delta_get_op (doc, i),
                                          patches_delta_get_attributes_first (doc, i));
      g_clear_pointer (&doc, patches_delta_free);
      doc = head;
    }

  /* 4.2: a document ends with a newline. */
  if (keep == 0 || !op_is_text_ending_in_newline (patches_delta_get_op (doc, keep - 1)))
    {
      PatchesDeltaOp op = { PATCHES_DELTA_INSERT, 1, (gunichar2 *) newline, NULL, NULL };

      patches_delta_push (doc, &op);
    }

  n = patches_delta_get_n_ops (doc);
  for (guint i = 0; i < n && !inner_non_insert; i++)
    inner_non_insert = patches_delta_get_op (doc, i)->kind != PATCHES_DELTA_INSERT;

  if (!inner_non_insert)
    fixed = g_steal_pointer (&doc);
  else
    {
      /* 4.3: rebuild, merging the inserts around what goes. */
      fixed = patches_delta_new ();
      for (guint i = 0; i < n; i++)
        {
          const PatchesDeltaOp *op = patches_delta_get_op (doc, i);

          if (op->kind == PATCHES_DELTA_INSERT)
            patches_delta_push_ordered (fixed, op, patches_delta_get_attributes_first (doc, i));
          else if (legacy_overrun_padding && op->kind == PATCHES_DELTA_RETAIN && op->length > 0)
            {
              /* Old history was written against space padding. */
              g_autofree gunichar2 *spaces = g_new (gunichar2, op->length);
              PatchesDeltaOp pad = { PATCHES_DELTA_INSERT, op->length, spaces, NULL, op->attributes };

              for (gint64 k = 0; k < op->length; k++)
                spaces[k] = ' ';
              patches_delta_push (fixed, &pad);
            }
          else
            dropped += op->length;
        }
    }

  /* 4.4: only a live apply reports (and so warns about) an overrun. */
  if (overrun != NULL)
    *overrun = legacy_overrun_padding ? 0 : dropped;

  return fixed;
}

/* ------------------------------------------------------------------ */
/* The fast path                                                       */
/* ------------------------------------------------------------------ */

/* The attributes an insert ends up with once pushed: push treats an
 * empty map as none. */
static inline PatchesValue *
insert_attributes (const PatchesDeltaOp *op)
{
  if (op->attributes != NULL && patches_value_object_get_size (op->attributes) == 0)
    return NULL;
  return op->attributes;
}

/* Whether @change may take the fast path on a regular document of
 * @length units.  *@styled tells whether it inserts attributed text or
 * embeds. */
static gboolean
change_is_plain_edit (const PatchesDelta *change,
                      gint64              length,
                      gboolean           *styled)
{
  guint n = patches_delta_get_n_ops (change);
  gint64 base = 0;

  *styled = FALSE;

  for (guint i = 0; i < n; i++)
    {
      const PatchesDeltaOp *op = patches_delta_get_op (change, i);

      if (op->length <= 0)
        return FALSE;

      switch (op->kind)
        {
        case PATCHES_DELTA_INSERT:
          if (base > length - 1)
            return FALSE;
          if (op->embed != NULL || insert_attributes (op) != NULL)
            *styled = TRUE;
          else if (op->text == NULL)
            return FALSE;
          break;
        case PATCHES_DELTA_RETAIN:
          if (op->attributes != NULL)
            return FALSE;
          base += op->length;
          if (base > length)
            return FALSE;
          break;
        case PATCHES_DELTA_DELETE:
        default:
          base += op->length;
          if (base > length - 1)
            return FALSE;
          break;
        }
    }

  return TRUE;
}

/* A short list of positions, on the stack unless it grows. */
typedef struct {
  gint64 *items;
  guint   len;
  guint   alloc;
  gint64  stack[8];
} PosList;

static void
pos_list_init (PosList *list)
{
  list->items = list->stack;
  list->len = 0;
  list->alloc = G_N_ELEMENTS (list->stack);
}

static void
pos_list_add (PosList *list,
              gint64   pos)
{
  if (list->len == list->alloc)
    {
      list->alloc *= 2;
      if (list->items == list->stack)
        list->items = g_memdup2 (list->stack, sizeof list->stack);
      list->items = g_renew (gint64, list->items, list->alloc);
    }
  list->items[list->len++] = pos;
}

static void
pos_list_clear (PosList *list)
{
  if (list->items != list->stack)
    g_free (list->items);
}

/* Whether units @pos − 1 and @pos belong to one attributed text run. */
static gboolean
inside_attributed_run (const PatchesRope *rope,
                       gint64             pos)
{
  PatchesRopeLeaf *leaf;
  PatchesRopeIter iter;
  gint64 offset;

  if (pos <= 0 || pos >= rope->length)
    return FALSE;

  leaf = patches_rope_iter_init_at (&iter, rope, pos, &offset);
  if (leaf->embed != NULL || leaf->attributes == NULL)
    return FALSE;
  return offset > 0 || patches_rope_leaf_same_run (patches_rope_iter_peek_prev (&iter), leaf);
}

/* Once the change is applied: two attributed runs that now meet at @pos
 * with equal (but not identical) attribute maps are one op, as push
 * merges them, and the merged op carries the attributes of its later
 * piece.  Runs meet only where a delete closed a gap or an attributed
 * insert landed, and those places are all in the cut list. */
static void
join_runs (PatchesRope *rope,
           gint64       pos)
{
  g_autoptr(PatchesValue) old = NULL;
  PatchesRopeLeaf *right;
  PatchesRopeLeaf *left;
  PatchesValue *attributes;
  PatchesRopeIter iter;
  gint64 offset;

  if (pos <= 0 || pos >= rope->length)
    return;

  right = patches_rope_iter_init_at (&iter, rope, pos, &offset);
  left = patches_rope_iter_peek_prev (&iter);
  if (offset > 0 || left == NULL ||
      left->embed != NULL || right->embed != NULL ||
      left->attributes == NULL || right->attributes == NULL ||
      left->attributes == right->attributes ||
      !patches_attributes_equal (left->attributes, right->attributes))
    return;

  /* The right run stays as it is: its attributes outlive the walk. */
  attributes = right->attributes;
  old = patches_value_ref (left->attributes);
  for (PatchesRopeLeaf *l = patches_rope_iter_prev (&iter);
       l != NULL && l->embed == NULL && l->attributes == old;
       l = patches_rope_iter_prev (&iter))
    {
      l = patches_rope_iter_make_mutable (rope, &iter);
      patches_rope_leaf_set_attributes (rope, l, attributes);
    }
}

/* Sets the JSON member order of the attributed run holding unit @pos
 * (see apply_fast()): 0 when a cut lies inside it, else 1 when it holds a
 * partial piece, else unchanged. */
static void
mark_run (PatchesRope   *rope,
          gint64         pos,
          const PosList *cuts,
          gboolean       partial)
{
  PatchesRopeLeaf *leaf;
  PatchesRopeIter iter;
  gint64 offset;
  gint64 start;
  gint64 end;
  gboolean merged = FALSE;
  guint lo = 0;
  guint hi = cuts->len;

  if (pos < 0 || pos >= rope->length)
    return;

  leaf = patches_rope_iter_init_at (&iter, rope, pos, &offset);
  if (leaf->embed != NULL || leaf->attributes == NULL)
    return;

  /* The run's last leaf, then back to its first. */
  while (patches_rope_leaf_same_run (leaf, patches_rope_iter_peek_next (&iter)))
    leaf = patches_rope_iter_next (&iter);
  end = patches_rope_iter_get_start (&iter) + leaf->length;
  while (patches_rope_leaf_same_run (patches_rope_iter_peek_prev (&iter), leaf))
    leaf = patches_rope_iter_prev (&iter);
  start = patches_rope_iter_get_start (&iter);

  /* The first cut after @start (cuts are in ascending order). */
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (cuts->items[mid] <= start)
        lo = mid + 1;
      else
        hi = mid;
    }
  merged = lo < cuts->len && cuts->items[lo] < end;

  if (!merged && !partial)
    return;

  /* Leaves already right are left alone: they may be shared. */
  for (;;)
    {
      if (leaf->attributes_first != !merged)
        {
          leaf = patches_rope_iter_make_mutable (rope, &iter);
          leaf->attributes_first = !merged;
        }
      if (patches_rope_iter_get_start (&iter) + leaf->length >= end)
        break;
      leaf = patches_rope_iter_next (&iter);
    }
}

/*
 * Why the fast path computes exactly what compose + repair computes.
 *
 * Let D be the (regular) document and C the change.  compose(D, C)
 * (OPERATIONS.md §6.4) goes as follows when C has only plain retains,
 * inserts and deletes, none empty, and never reaches the final "\n" with
 * an insert or a delete:
 *
 *  - C's inserts are pushed as they come;
 *  - D has no deletes, and C's deletes only ever meet D's inserts
 *    (they end before D does), so every delete just drops what it covers;
 *  - every other step takes a piece of D under a plain retain of C (or
 *    under the exhausted marker once C is done) and pushes it unchanged:
 *    a plain retain composes no attributes, so "a unchanged" is emitted;
 *  - the leading fast path and the early finish append some of D's ops
 *    raw instead of through push.  Those ops are whole ops of D that come
 *    right after each other (or after an op they cannot merge with), and
 *    D is normalised, so push would not have merged them either; the
 *    first op of the early finish does go through push.
 *
 * So the result is "push, in document order, the pieces of D that survive
 * and C's inserts", where D is cut into pieces at its own op boundaries
 * and wherever one of C's retains or deletes ends.  chop removes nothing
 * (there are no retains), and the repair does nothing: no retain or delete
 * is left, and the last op is still D's final text insert, ending in
 * "\n", since nothing was inserted after that newline or deleted from it.
 *
 * Push merges two neighbouring text pieces with deep-equal attributes and
 * nothing else (it drops an empty attribute map first).  For plain text
 * that is simply "plain text next to plain text is one op", which is what
 * the rope's runs are: the result is again regular, and applying the
 * edits to the rope is all there is to do.
 *
 * Attributed runs need two more things to come out byte for byte:
 *
 *  - which attribute object a merged op keeps: push keeps the one of the
 *    piece pushed last.  Two different runs only meet where a delete
 *    removed what was between them or where an attributed insert landed;
 *    join_runs() then gives the left run the right run's attributes
 *    pointer, left to right, so a chain ends with its last piece's;
 *  - the JSON member order.  An op that is one whole op of D or C keeps
 *    its order; one that is a single partial piece of D was built by the
 *    iterator, which writes "attributes" first; one that push merged from
 *    several pieces is written "insert" first.  A run of the result is
 *    made of several pieces exactly when one of the cut positions (the
 *    result positions where a retain or delete of C ends, and both ends
 *    of an attributed insert) lies strictly inside it.  A piece is partial when a cut fell strictly inside the run of D
 *    it came from; the pieces next to such a cut are remembered as they
 *    are produced (the one before, if a retain kept it; the one after,
 *    unless a delete drops it).  mark_run() applies these rules to every
 *    run next to a cut once the whole change is done.  Positions noted
 *    during the walk stay valid: later edits only happen further right.
 */
static void
apply_fast (PatchesText        *self,
            const PatchesDelta *change,
            gboolean            styled)
{
  PatchesRope *rope = self->rope;
  /* Without attributed runs, and none inserted, there is nothing to join
   * or mark. */
  gboolean track = rope->n_attributed > 0 || styled;
  gboolean piece_after_cut = FALSE;
  guint n = patches_delta_get_n_ops (change);
  gint64 pos = 0;
  PosList cuts;
  PosList partial;

  pos_list_init (&cuts);
  pos_list_init (&partial);

  for (guint i = 0; i < n; i++)
    {
      const PatchesDeltaOp *op = patches_delta_get_op (change, i);

      switch (op->kind)
        {
        case PATCHES_DELTA_INSERT:
          {
            PatchesValue *attributes = insert_attributes (op);

            if (op->embed == NULL && attributes == NULL)
              patches_rope_insert_plain (rope, pos, op->text, op->length);
            else
              {
                patches_rope_insert_run (rope, pos, op->text, op->length, op->embed, attributes,
                                         attributes != NULL && patches_delta_get_attributes_first (change, i));
                /* Where it may have merged with its neighbours. */
                pos_list_add (&cuts, pos);
                pos_list_add (&cuts, pos + op->length);
              }
            pos += op->length;
          }
          break;

        case PATCHES_DELTA_RETAIN:
          if (piece_after_cut)
            pos_list_add (&partial, pos);
          piece_after_cut = FALSE;
          pos += op->length;
          if (track)
            {
              pos_list_add (&cuts, pos);
              if (inside_attributed_run (rope, pos))
                {
                  pos_list_add (&partial, pos - 1);
                  piece_after_cut = TRUE;
                }
            }
          break;

        case PATCHES_DELTA_DELETE:
        default:
          {
            gboolean inside = track && inside_attributed_run (rope, pos + op->length);

            patches_rope_delete (rope, pos, op->length);
            piece_after_cut = inside;
            if (track)
              pos_list_add (&cuts, pos);
          }
          break;
        }
    }

  if (piece_after_cut)
    pos_list_add (&partial, pos);

  if (track)
    {
      /* Left to right, so that a chain of equal runs ends up with the
       * attributes of its last piece. */
      for (guint i = 0; i < cuts.len; i++)
        join_runs (rope, cuts.items[i]);
      for (guint i = 0; i < cuts.len; i++)
        {
          mark_run (rope, cuts.items[i] - 1, &cuts, FALSE);
          mark_run (rope, cuts.items[i], &cuts, FALSE);
        }
      for (guint i = 0; i < partial.len; i++)
        mark_run (rope, partial.items[i], &cuts, TRUE);
    }

  pos_list_clear (&cuts);
  pos_list_clear (&partial);
}

/**
 * patches_text_apply:
 * @self: a text value (not shared: it is changed in place)
 * @change: the change
 * @legacy_overrun_padding: replay of old history: a retain past the end
 *   pads with spaces instead of being dropped
 *
 * The `@txt` rule: the document becomes compose(document, @change)
 * followed by the overrun repair (OPERATIONS.md §6.10 steps 3 and 4).
 *
 * Returns: the number of UTF-16 units that overran the document and were
 *   dropped, which the reference warns about (always 0 with
 *   @legacy_overrun_padding, where the reference stays silent)
 */
gint64
patches_text_apply (PatchesText        *self,
                    const PatchesDelta *change,
                    gboolean            legacy_overrun_padding)
{
  PatchesDelta *result;
  gint64 overrun = 0;
  gboolean styled;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (change != NULL, 0);

  if (change_is_plain_edit (change, patches_text_get_length (self), &styled) && ensure_rope (self))
    {
      invalidate_delta (self);
      apply_fast (self, change, styled);
      return 0;
    }

  result = patches_text_apply_reference (patches_text_get_delta (self), change,
                                         legacy_overrun_padding, &overrun);
  g_clear_pointer (&self->rope, patches_rope_free);
  invalidate_delta (self);
  self->delta = result;
  self->irregular = FALSE;

  return overrun;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

gboolean
patches_text_has_rope (const PatchesText *self)
{
  return self->rope != NULL;
}

void
patches_text_check (const PatchesText *self)
{
  const PatchesRopeLeaf *leaf;
  PatchesRopeIter iter;

  if (self->rope == NULL)
    {
      g_assert (self->delta != NULL);
      return;
    }

  patches_rope_check (self->rope);

  /* Runs: neighbours never have equal attributes, members share their
   * member order, and the document ends with a text "\n". */
  for (leaf = patches_rope_iter_init_first (&iter, self->rope); leaf != NULL; leaf = patches_rope_iter_next (&iter))
    {
      const PatchesRopeLeaf *next = patches_rope_iter_peek_next (&iter);

      if (patches_rope_leaf_same_run (leaf, next))
        g_assert (leaf->attributes_first == next->attributes_first);
      else if (next != NULL && patches_rope_leaf_is_text (leaf) && patches_rope_leaf_is_text (next))
        g_assert (!patches_attributes_equal (leaf->attributes, next->attributes));
      if (leaf->attributes == NULL)
        g_assert (!leaf->attributes_first);
    }
  leaf = patches_rope_iter_init_last (&iter, self->rope);
  g_assert (patches_rope_leaf_is_text (leaf));
  g_assert (leaf->text[leaf->length - 1] == '\n');
}
