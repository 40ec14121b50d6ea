/* patches-rope-private.h
 *
 * The storage behind a rich-text value (PatchesText): a B+tree of leaves
 * in document order, each leaf a piece of UTF-16 text with one attribute
 * map, or one embed.  Branches keep, per child, the UTF-16 length and the
 * character count below it, so positions in either unit are found in
 * O(log n) and an edit touches one leaf plus the path to the root.
 *
 * The tree is persistent: branches and leaves are reference counted and
 * never changed while shared, so patches_rope_copy() is O(1) and an edit
 * of a copy copies only the path it walks (at most one leaf and its
 * ancestors); an edit of a rope that shares nothing is made in place.
 * Nodes therefore know neither their parent nor their neighbours: walks
 * go through a #PatchesRopeIter, which holds the path from the root.
 *
 * The rope knows nothing of delta semantics: which leaves form one op
 * (a "run": adjacent text leaves sharing one attributes pointer) and what
 * an edit does to runs is decided in patches-text.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-delta.h"

G_BEGIN_DECLS

typedef struct _PatchesRope     PatchesRope;
typedef struct _PatchesRopeLeaf PatchesRopeLeaf;
typedef struct _PatchesRopeNode PatchesRopeNode;
typedef struct _PatchesRopeIter PatchesRopeIter;

/**
 * PatchesRopeLeaf:
 * @attributes: (nullable): the attribute map, %NULL for plain text.  All
 *   leaves of one run share one pointer; two runs next to each other never
 *   do (patches-text.c keeps that true)
 * @embed: (nullable): for an embed leaf, its value; the leaf then has
 *   length 1 and no text
 * @text: UTF-16 units (%NULL for an embed)
 * @length: units in the leaf (never 0)
 * @attributes_first: JSON member order of the run's op ("attributes"
 *   before "insert"); the same on every leaf of a run
 *
 * Fields may be read freely.  A leaf may be shared by several ropes: it
 * may be written only as returned by patches_rope_iter_make_mutable(),
 * and then only @attributes (through patches_rope_leaf_set_attributes())
 * and @attributes_first.  The characters starting in a leaf depend on
 * the leaf before it (a low surrogate after a high one starts none), so
 * they are kept by the branch above, not in the leaf.
 */
struct _PatchesRopeLeaf
{
  gatomicrefcount  ref_count;
  guint            length;
  guint            capacity;
  guint            attributes_first : 1;
  PatchesValue    *attributes;
  PatchesValue    *embed;
  gunichar2       *text;
};

struct _PatchesRope
{
  PatchesRopeNode *root;
  gint64           length;
  gint64           n_chars;
  /* Surrogate units in the text.  While it is 0 every leaf has as many
   * characters as units and no scan is needed to count them. */
  gint64           n_surrogates;
  /* Text leaves with attributes; while 0 no run can need re-marking. */
  gint64           n_attributed;
};

/* Deeper than any tree can grow: a branch that splits leaves two of at
 * least two children each, so the height stays under log2 of the leaves. */
#define PATCHES_ROPE_MAX_DEPTH 48

/**
 * PatchesRopeIter:
 *
 * A position on one leaf of a rope: the path from the root.  Valid until
 * the rope changes, except through patches_rope_iter_make_mutable() on
 * this very iterator.  Fields are private.
 */
struct _PatchesRopeIter
{
  /*< private >*/
  guint            depth;
  gint64           start;
  PatchesRopeNode *nodes[PATCHES_ROPE_MAX_DEPTH];
  guint            slots[PATCHES_ROPE_MAX_DEPTH];
};

static inline gboolean
patches_rope_leaf_is_text (const PatchesRopeLeaf *leaf)
{
  return leaf != NULL && leaf->embed == NULL;
}

/* A text leaf without attributes. */
static inline gboolean
patches_rope_leaf_is_plain (const PatchesRopeLeaf *leaf)
{
  return leaf != NULL && leaf->embed == NULL && leaf->attributes == NULL;
}

/* Whether @a and @b (adjacent) belong to the same run (op). */
static inline gboolean
patches_rope_leaf_same_run (const PatchesRopeLeaf *a,
                            const PatchesRopeLeaf *b)
{
  return a != NULL && b != NULL && a->embed == NULL && b->embed == NULL &&
         a->attributes == b->attributes;
}

PatchesRope     *patches_rope_new                 (void) G_GNUC_WARN_UNUSED_RESULT;
/* O(1): the copy shares the whole tree until one of the two changes. */
PatchesRope     *patches_rope_copy                (const PatchesRope *self) G_GNUC_WARN_UNUSED_RESULT;
void             patches_rope_free                (PatchesRope       *self);

/* Appends one run at the end (text, or an embed when @embed is set). */
void             patches_rope_append              (PatchesRope       *self,
                                                   const gunichar2   *text,
                                                   gsize              length,
                                                   PatchesValue      *embed,
                                                   PatchesValue      *attributes,
                                                   gboolean           attributes_first);

/* The leaf holding unit @pos, and @pos's offset in it; at the very end the
 * last leaf with *@offset equal to its length.  %NULL when empty. */
PatchesRopeLeaf *patches_rope_seek                (const PatchesRope *self,
                                                   gint64             pos,
                                                   gint64            *offset);

/* Inserts plain (attribute-free) text at @pos.  It joins a plain text leaf
 * it touches (the one before @pos first), otherwise it gets new leaves,
 * splitting an attributed leaf when @pos falls inside one. */
void             patches_rope_insert_plain        (PatchesRope       *self,
                                                   gint64             pos,
                                                   const gunichar2   *text,
                                                   gsize              length);
/* Inserts a run of its own at @pos: text with @attributes, or an embed
 * when @embed is set.  It never joins an existing leaf (leaves of the same
 * attributes pointer on either side make one run with it, though). */
void             patches_rope_insert_run          (PatchesRope       *self,
                                                   gint64             pos,
                                                   const gunichar2   *text,
                                                   gsize              length,
                                                   PatchesValue      *embed,
                                                   PatchesValue      *attributes,
                                                   gboolean           attributes_first);
/* Removes @length units from @pos. */
void             patches_rope_delete              (PatchesRope       *self,
                                                   gint64             pos,
                                                   gint64             length);

/* @leaf: as returned by patches_rope_iter_make_mutable() on @self. */
void             patches_rope_leaf_set_attributes (PatchesRope       *self,
                                                   PatchesRopeLeaf   *leaf,
                                                   PatchesValue      *attributes);

/* Offsets: characters (code points; a lone surrogate or an embed is one)
 * versus UTF-16 units.  A unit offset inside a surrogate pair maps to the
 * character that pair encodes. */
gint64           patches_rope_char_offset         (const PatchesRope *self,
                                                   gint64             utf16_offset);
gint64           patches_rope_utf16_offset        (const PatchesRope *self,
                                                   gint64             char_offset);

/* Whether @a and @b hold the same runs: the same units, run boundaries
 * and embeds (patches_value_equal()), and attribute maps that
 * @attributes_equal finds equal (called for distinct pointers only).
 * Member order is not compared.  Subtrees the two share are skipped, so
 * comparing a rope with an edited copy of itself costs about the edits. */
gboolean         patches_rope_equal               (const PatchesRope *a,
                                                   const PatchesRope *b,
                                                   gboolean         (*attributes_equal) (PatchesValue *a,
                                                                                         PatchesValue *b));

/* Iterators: the first (or last) leaf, the leaf holding unit @pos as
 * patches_rope_seek() finds it, stepping (%NULL at either end, leaving
 * the iterator where it was), and the neighbours without moving.  All
 * return %NULL on an empty rope. */
PatchesRopeLeaf *patches_rope_iter_init_first     (PatchesRopeIter   *iter,
                                                   const PatchesRope *rope);
PatchesRopeLeaf *patches_rope_iter_init_last      (PatchesRopeIter   *iter,
                                                   const PatchesRope *rope);
PatchesRopeLeaf *patches_rope_iter_init_at        (PatchesRopeIter   *iter,
                                                   const PatchesRope *rope,
                                                   gint64             pos,
                                                   gint64            *offset);
PatchesRopeLeaf *patches_rope_iter_get_leaf       (const PatchesRopeIter *iter);
/* The unit position where the current leaf starts. */
gint64           patches_rope_iter_get_start      (const PatchesRopeIter *iter);
PatchesRopeLeaf *patches_rope_iter_next           (PatchesRopeIter   *iter);
PatchesRopeLeaf *patches_rope_iter_prev           (PatchesRopeIter   *iter);
PatchesRopeLeaf *patches_rope_iter_peek_next      (const PatchesRopeIter *iter);
PatchesRopeLeaf *patches_rope_iter_peek_prev      (const PatchesRopeIter *iter);
/* Makes the current leaf, and the path to it, @rope's own (copying what
 * is shared), so that its attributes may be changed; the iterator stays
 * valid.  Returns the leaf, which may be a new one. */
PatchesRopeLeaf *patches_rope_iter_make_mutable   (PatchesRope       *rope,
                                                   PatchesRopeIter   *iter);

/* Consistency check for the tests: aborts on a broken invariant. */
void             patches_rope_check               (const PatchesRope *self);
/* Tests only: leaf size and branch fan-out (0 restores the default) for
 * the ropes changed from now on.  Not thread-safe. */
void             patches_rope_set_limits_for_testing (guint           leaf_max,
                                                   guint              node_max);

G_END_DECLS
