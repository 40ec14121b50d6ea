/* patches-rope.c
 *
 * A B+tree of UTF-16 text leaves (see patches-rope-private.h).
 *
 * Why this shape: typing must cost a few hundred nanoseconds whatever the
 * document size, so an edit may touch one leaf (a memmove of at most
 * LEAF_MAX units) and the O(log n) path above it, never the whole text.
 * A branch that overflows is split in two halves; one that falls under
 * half full is joined with a sibling when they fit in one, so the height
 * stays logarithmic whatever mix of inserts and deletes comes.  Leaves
 * are kept from getting tiny the same way (leaf_maybe_merge()).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-rope-private.h"

/* Children per branch at most (the array size; the limit in force is
 * limits.node_max). */
#define NODE_MAX 32

/* Units a text leaf holds at most, the fill aimed at when leaves are cut
 * (room is left so that typing into a fresh leaf does not split it again
 * at once), and children per branch.  Variables only so that the tests can
 * make them tiny and reach every split and merge with small documents. */
static struct {
  guint leaf_max;
  guint leaf_fill;
  guint node_max;
} limits = { 512, 384, NODE_MAX };

#define LEAF_MAX  (limits.leaf_max)
#define LEAF_FILL (limits.leaf_fill)

struct _PatchesRopeNode
{
  PatchesRopeNode *parent;
  guint            slot;
  guint            n_children;
  gboolean         leaves;   /* children are leaves, else branches */
  /* One spare entry: a branch may hold node_max + 1 children for the
   * moment between an insertion and the split it calls for. */
  gint64           length[NODE_MAX + 1];
  gint64           n_chars[NODE_MAX + 1];
  gpointer         children[NODE_MAX + 1];
};

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

static gint64
count_surrogates (const gunichar2 *text,
                  gsize            length)
{
  gint64 n = 0;

  for (gsize i = 0; i < length; i++)
    n += (text[i] & 0xF800) == 0xD800;

  return n;
}

/* ------------------------------------------------------------------ */
/* Branches                                                            */
/* ------------------------------------------------------------------ */

static PatchesRopeNode *
node_new (gboolean leaves)
{
  PatchesRopeNode *node = g_new (PatchesRopeNode, 1);

  node->parent = NULL;
  node->slot = 0;
  node->n_children = 0;
  node->leaves = leaves;

  return node;
}

static void
node_free_tree (PatchesRopeNode *node)
{
  if (!node->leaves)
    for (guint i = 0; i < node->n_children; i++)
      node_free_tree (node->children[i]);
  g_free (node);
}

static inline void
node_set_child (PatchesRopeNode *node,
                guint            slot,
                gpointer         child)
{
  node->children[slot] = child;
  if (node->leaves)
    {
      PatchesRopeLeaf *leaf = child;

      leaf->parent = node;
      leaf->slot = slot;
    }
  else
    {
      PatchesRopeNode *branch = child;

      branch->parent = node;
      branch->slot = slot;
    }
}

static void
node_sums (const PatchesRopeNode *node,
           gint64                *length,
           gint64                *n_chars)
{
  *length = 0;
  *n_chars = 0;
  for (guint i = 0; i < node->n_children; i++)
    {
      *length += node->length[i];
      *n_chars += node->n_chars[i];
    }
}

/* Adds to the entries standing for @node in all its ancestors. */
static inline void
propagate (PatchesRopeNode *node,
           gint64           length,
           gint64           n_chars)
{
  for (PatchesRopeNode *p = node->parent; p != NULL; node = p, p = p->parent)
    {
      p->length[node->slot] += length;
      p->n_chars[node->slot] += n_chars;
    }
}

/* Puts an entry at @slot of @node; nothing above changes. */
static void
node_put (PatchesRopeNode *node,
          guint            slot,
          gpointer         child,
          gint64           length,
          gint64           n_chars)
{
  for (guint i = node->n_children; i > slot; i--)
    {
      node->length[i] = node->length[i - 1];
      node->n_chars[i] = node->n_chars[i - 1];
      node_set_child (node, i, node->children[i - 1]);
    }
  node->length[slot] = length;
  node->n_chars[slot] = n_chars;
  node_set_child (node, slot, child);
  node->n_children++;
}

/* Takes the entry at @slot out of @node; nothing above changes. */
static void
node_take (PatchesRopeNode *node,
           guint            slot)
{
  for (guint i = slot; i + 1 < node->n_children; i++)
    {
      node->length[i] = node->length[i + 1];
      node->n_chars[i] = node->n_chars[i + 1];
      node_set_child (node, i, node->children[i + 1]);
    }
  node->n_children--;
}

/* Splits branches that hold more than node_max children, from @node up:
 * the upper half moves to a new sibling right after it.  Moving entries
 * between siblings leaves every sum above as it was, so the tree is
 * consistent before and after each step. */
static void
node_fix_overflow (PatchesRope     *rope,
                   PatchesRopeNode *node)
{
  while (node != NULL && node->n_children > limits.node_max)
    {
      PatchesRopeNode *right = node_new (node->leaves);
      guint n = node->n_children;
      guint keep = (n + 1) / 2;
      gint64 moved_length = 0;
      gint64 moved_chars = 0;

      for (guint i = keep; i < n; i++)
        {
          right->length[i - keep] = node->length[i];
          right->n_chars[i - keep] = node->n_chars[i];
          node_set_child (right, i - keep, node->children[i]);
          moved_length += node->length[i];
          moved_chars += node->n_chars[i];
        }
      right->n_children = n - keep;
      node->n_children = keep;

      if (node->parent == NULL)
        {
          PatchesRopeNode *root = node_new (FALSE);
          gint64 length, n_chars;

          node_sums (node, &length, &n_chars);
          node_put (root, 0, node, length, n_chars);
          node_put (root, 1, right, moved_length, moved_chars);
          rope->root = root;
          return;
        }

      node->parent->length[node->slot] -= moved_length;
      node->parent->n_chars[node->slot] -= moved_chars;
      node_put (node->parent, node->slot + 1, right, moved_length, moved_chars);
      node = node->parent;
    }
}

/* Joins branches that fell under half full with a sibling when both fit
 * in one, frees empty ones, from @node up, and lets a root with a single
 * branch child give way to it.  This keeps the height logarithmic however
 * inserts and deletes alternate. */
static void
node_fix_underflow (PatchesRope     *rope,
                    PatchesRopeNode *node)
{
  while (node->parent != NULL)
    {
      PatchesRopeNode *parent = node->parent;
      PatchesRopeNode *left;
      PatchesRopeNode *right;

      if (node->n_children == 0)
        {
          /* Its entry above is 0 already. */
          node_take (parent, node->slot);
          g_free (node);
          node = parent;
          continue;
        }

      if (node->n_children * 2 >= limits.node_max)
        break;

      if (node->slot + 1 < parent->n_children)
        left = node, right = parent->children[node->slot + 1];
      else if (node->slot > 0)
        left = parent->children[node->slot - 1], right = node;
      else
        break;

      if (left->n_children + right->n_children > limits.node_max)
        break;

      for (guint i = 0; i < right->n_children; i++)
        node_put (left, left->n_children, right->children[i], right->length[i], right->n_chars[i]);
      parent->length[left->slot] += parent->length[right->slot];
      parent->n_chars[left->slot] += parent->n_chars[right->slot];
      node_take (parent, right->slot);
      g_free (right);
      node = parent;
    }

  while (rope->root->n_children == 1 && !rope->root->leaves)
    {
      PatchesRopeNode *old = rope->root;

      rope->root = old->children[0];
      rope->root->parent = NULL;
      rope->root->slot = 0;
      g_free (old);
    }
  if (rope->root->n_children == 0)
    rope->root->leaves = TRUE;
}

/* Adds @child at @slot of @node with the given sums, updating every sum
 * above and splitting what overflows. */
static void
node_insert_child (PatchesRope     *rope,
                   PatchesRopeNode *node,
                   guint            slot,
                   gpointer         child,
                   gint64           length,
                   gint64           n_chars)
{
  node_put (node, slot, child, length, n_chars);
  propagate (node, length, n_chars);
  node_fix_overflow (rope, node);
}

/* Removes the entry at @slot of @node, updating every sum above. */
static void
node_remove_child (PatchesRope     *rope,
                   PatchesRopeNode *node,
                   guint            slot)
{
  gint64 length = node->length[slot];
  gint64 n_chars = node->n_chars[slot];

  node_take (node, slot);
  propagate (node, -length, -n_chars);
  node_fix_underflow (rope, node);
}

/* ------------------------------------------------------------------ */
/* Leaves                                                              */
/* ------------------------------------------------------------------ */

static PatchesRopeLeaf *
leaf_new (PatchesRope  *rope,
          guint         capacity,
          PatchesValue *embed,
          PatchesValue *attributes,
          gboolean      attributes_first)
{
  PatchesRopeLeaf *leaf = g_new0 (PatchesRopeLeaf, 1);

  leaf->attributes = attributes != NULL ? patches_value_ref (attributes) : NULL;
  leaf->attributes_first = attributes != NULL && attributes_first;
  if (embed != NULL)
    {
      leaf->embed = patches_value_ref (embed);
      leaf->length = 1;
      leaf->n_chars = 1;
    }
  else
    {
      leaf->capacity = MAX (capacity, 8);
      leaf->text = g_new (gunichar2, leaf->capacity);
      if (attributes != NULL)
        rope->n_attributed++;
    }

  return leaf;
}

static void
leaf_free (PatchesRope     *rope,
           PatchesRopeLeaf *leaf)
{
  if (leaf->embed == NULL && leaf->attributes != NULL && rope != NULL)
    rope->n_attributed--;
  g_clear_pointer (&leaf->attributes, patches_value_unref);
  g_clear_pointer (&leaf->embed, patches_value_unref);
  g_free (leaf->text);
  g_free (leaf);
}

static void
leaf_reserve (PatchesRopeLeaf *leaf,
              guint            length)
{
  if (length <= leaf->capacity)
    return;
  leaf->capacity = MIN (MAX (length, leaf->capacity * 2), LEAF_MAX);
  leaf->capacity = MAX (leaf->capacity, length);
  leaf->text = g_renew (gunichar2, leaf->text, leaf->capacity);
}

/* Characters starting in @leaf (see PatchesRopeLeaf.n_chars). */
static guint
leaf_count_chars (const PatchesRope     *rope,
                  const PatchesRopeLeaf *leaf)
{
  gboolean after_high;
  guint n = 0;

  if (leaf->embed != NULL)
    return 1;
  if (rope->n_surrogates == 0)
    return leaf->length;

  after_high = patches_rope_leaf_is_text (leaf->prev) &&
               is_high_surrogate (leaf->prev->text[leaf->prev->length - 1]);
  for (guint i = 0; i < leaf->length; i++)
    {
      gunichar2 c = leaf->text[i];

      if (after_high && is_low_surrogate (c))
        {
          after_high = FALSE;
          continue;
        }
      n++;
      after_high = is_high_surrogate (c);
    }

  return n;
}

/* Brings the tree's sums in line with @leaf's length and characters. */
static void
leaf_sync (PatchesRope     *rope,
           PatchesRopeLeaf *leaf)
{
  PatchesRopeNode *node = leaf->parent;
  gint64 d_length;
  gint64 d_chars;

  leaf->n_chars = leaf_count_chars (rope, leaf);
  d_length = (gint64) leaf->length - node->length[leaf->slot];
  d_chars = (gint64) leaf->n_chars - node->n_chars[leaf->slot];
  if (d_length == 0 && d_chars == 0)
    return;

  node->length[leaf->slot] += d_length;
  node->n_chars[leaf->slot] += d_chars;
  propagate (node, d_length, d_chars);
  rope->length += d_length;
  rope->n_chars += d_chars;
}

/* A change at the end of @leaf (or of what precedes it) can pair or
 * unpair the first unit of the leaf after it. */
static inline void
leaf_sync_next (PatchesRope     *rope,
                PatchesRopeLeaf *leaf)
{
  if (rope->n_surrogates > 0 && leaf != NULL && leaf->next != NULL)
    leaf_sync (rope, leaf->next);
}

/* Links @leaf into the list and the tree after @after (at the front when
 * %NULL). */
static void
leaf_link_after (PatchesRope     *rope,
                 PatchesRopeLeaf *after,
                 PatchesRopeLeaf *leaf)
{
  PatchesRopeNode *node;
  guint slot;

  leaf->prev = after;
  leaf->next = after != NULL ? after->next : rope->first;
  if (leaf->prev != NULL)
    leaf->prev->next = leaf;
  else
    rope->first = leaf;
  if (leaf->next != NULL)
    leaf->next->prev = leaf;
  else
    rope->last = leaf;

  if (after != NULL)
    {
      node = after->parent;
      slot = after->slot + 1;
    }
  else if (leaf->next != NULL)
    {
      node = leaf->next->parent;
      slot = 0;
    }
  else
    {
      node = rope->root;
      slot = 0;
    }

  leaf->n_chars = leaf_count_chars (rope, leaf);
  node_insert_child (rope, node, slot, leaf, leaf->length, leaf->n_chars);
  rope->length += leaf->length;
  rope->n_chars += leaf->n_chars;
  leaf_sync_next (rope, leaf);
}

static void
leaf_unlink_and_free (PatchesRope     *rope,
                      PatchesRopeLeaf *leaf)
{
  PatchesRopeLeaf *next = leaf->next;

  if (leaf->prev != NULL)
    leaf->prev->next = leaf->next;
  else
    rope->first = leaf->next;
  if (leaf->next != NULL)
    leaf->next->prev = leaf->prev;
  else
    rope->last = leaf->prev;

  rope->length -= leaf->length;
  rope->n_chars -= leaf->n_chars;
  node_remove_child (rope, leaf->parent, leaf->slot);
  leaf_free (rope, leaf);

  if (rope->n_surrogates > 0 && next != NULL)
    leaf_sync (rope, next);
}

/* New leaves holding @text (cut at LEAF_FILL), linked after @after.
 * Returns the last one. */
static PatchesRopeLeaf *
leaves_insert_after (PatchesRope     *rope,
                     PatchesRopeLeaf *after,
                     const gunichar2 *text,
                     gsize            length,
                     PatchesValue    *attributes,
                     gboolean         attributes_first)
{
  gsize n_leaves = MAX (1, (length + LEAF_FILL - 1) / LEAF_FILL);

  /* Equal shares, so that no small leaf is left at the end. */
  for (gsize i = 0; i < n_leaves; i++)
    {
      gsize start = length * i / n_leaves;
      gsize end = length * (i + 1) / n_leaves;
      PatchesRopeLeaf *leaf = leaf_new (rope, end - start, NULL, attributes, attributes_first);

      memcpy (leaf->text, text + start, (end - start) * sizeof (gunichar2));
      leaf->length = end - start;
      leaf_link_after (rope, after, leaf);
      after = leaf;
    }

  return after;
}

/* Cuts @leaf at @offset (0 < @offset < length); returns the new right
 * half, which shares the attributes. */
static PatchesRopeLeaf *
leaf_split (PatchesRope     *rope,
            PatchesRopeLeaf *leaf,
            guint            offset)
{
  PatchesRopeLeaf *right;
  guint right_length = leaf->length - offset;

  g_assert (leaf->embed == NULL && offset > 0 && offset < leaf->length);

  right = leaf_new (rope, right_length, NULL, leaf->attributes, leaf->attributes_first);
  memcpy (right->text, leaf->text + offset, right_length * sizeof (gunichar2));
  right->length = right_length;
  leaf->length = offset;
  leaf_sync (rope, leaf);
  leaf_link_after (rope, leaf, right);

  return right;
}

/* Inserts units into a text leaf, cutting it into several when it would
 * overflow. */
static void
leaf_insert_units (PatchesRope     *rope,
                   PatchesRopeLeaf *leaf,
                   guint            offset,
                   const gunichar2 *text,
                   gsize            length)
{
  if (leaf->length + length <= LEAF_MAX)
    {
      leaf_reserve (leaf, leaf->length + length);
      memmove (leaf->text + offset + length, leaf->text + offset,
               (leaf->length - offset) * sizeof (gunichar2));
      memcpy (leaf->text + offset, text, length * sizeof (gunichar2));
      leaf->length += length;
      leaf_sync (rope, leaf);
      leaf_sync_next (rope, leaf);
      return;
    }

  {
    gsize total = leaf->length + length;
    gsize n_leaves = MAX (2, (total + LEAF_FILL - 1) / LEAF_FILL);
    g_autofree gunichar2 *all = g_new (gunichar2, total);
    gsize first;

    memcpy (all, leaf->text, offset * sizeof (gunichar2));
    memcpy (all + offset, text, length * sizeof (gunichar2));
    memcpy (all + offset + length, leaf->text + offset, (leaf->length - offset) * sizeof (gunichar2));

    first = total / n_leaves;
    leaf_reserve (leaf, first);
    memcpy (leaf->text, all, first * sizeof (gunichar2));
    leaf->length = first;
    leaf_sync (rope, leaf);
    leaves_insert_after (rope, leaf, all + first, total - first,
                         leaf->attributes, leaf->attributes_first);
  }
}

/* Whether @b's text may move into @a.  Besides being one run they must
 * agree on the member order: while an edit is under way, two runs of the
 * document that share an attributes pointer can meet and still be told
 * apart later (an insert may land between them), so each leaf keeps its
 * own. */
static inline gboolean
leaves_mergeable (const PatchesRopeLeaf *a,
                  const PatchesRopeLeaf *b)
{
  return patches_rope_leaf_same_run (a, b) &&
         a->attributes_first == b->attributes_first &&
         a->length + b->length <= LEAF_FILL;
}

/* Joins a small leaf with a neighbour of the same run, so that deleting
 * does not leave the tree full of tiny leaves.  Returns the leaf that now
 * holds @leaf's text. */
static PatchesRopeLeaf *
leaf_maybe_merge (PatchesRope     *rope,
                  PatchesRopeLeaf *leaf)
{
  PatchesRopeLeaf *into;
  PatchesRopeLeaf *from;

  if (leaf->embed != NULL || leaf->length >= LEAF_MAX / 4)
    return leaf;

  if (leaves_mergeable (leaf, leaf->next))
    into = leaf, from = leaf->next;
  else if (leaves_mergeable (leaf->prev, leaf))
    into = leaf->prev, from = leaf;
  else
    return leaf;

  leaf_reserve (into, into->length + from->length);
  memcpy (into->text + into->length, from->text, from->length * sizeof (gunichar2));
  into->length += from->length;
  leaf_sync (rope, into);
  leaf_unlink_and_free (rope, from);

  return into;
}

/* ------------------------------------------------------------------ */
/* Rope                                                                */
/* ------------------------------------------------------------------ */

PatchesRope *
patches_rope_new (void)
{
  PatchesRope *self = g_new0 (PatchesRope, 1);

  self->root = node_new (TRUE);

  return self;
}

void
patches_rope_free (PatchesRope *self)
{
  PatchesRopeLeaf *leaf;

  if (self == NULL)
    return;

  leaf = self->first;
  while (leaf != NULL)
    {
      PatchesRopeLeaf *next = leaf->next;

      leaf_free (NULL, leaf);
      leaf = next;
    }
  node_free_tree (self->root);
  g_free (self);
}

/* Appends an existing leaf's content as a new last leaf. */
static void
append_leaf_copy (PatchesRope           *self,
                  const PatchesRopeLeaf *src)
{
  PatchesRopeLeaf *leaf = leaf_new (self, src->length, src->embed, src->attributes, src->attributes_first);

  if (src->embed == NULL)
    {
      memcpy (leaf->text, src->text, src->length * sizeof (gunichar2));
      leaf->length = src->length;
    }
  leaf_link_after (self, self->last, leaf);
}

/**
 * patches_rope_copy:
 * @self: a rope
 *
 * Returns: (transfer full): a rope with the same leaves, sharing the
 *   (immutable) attribute and embed values
 */
PatchesRope *
patches_rope_copy (const PatchesRope *self)
{
  PatchesRope *copy = patches_rope_new ();

  /* Counting characters needs to know about surrogates from the start. */
  copy->n_surrogates = self->n_surrogates;
  for (const PatchesRopeLeaf *leaf = self->first; leaf != NULL; leaf = leaf->next)
    append_leaf_copy (copy, leaf);

  return copy;
}

void
patches_rope_append (PatchesRope     *self,
                     const gunichar2 *text,
                     gsize            length,
                     PatchesValue    *embed,
                     PatchesValue    *attributes,
                     gboolean         attributes_first)
{
  if (embed != NULL)
    {
      PatchesRopeLeaf *leaf = leaf_new (self, 0, embed, attributes, attributes_first);

      leaf_link_after (self, self->last, leaf);
      return;
    }

  if (length == 0)
    return;

  self->n_surrogates += count_surrogates (text, length);
  leaves_insert_after (self, self->last, text, length, attributes, attributes_first);
}

PatchesRopeLeaf *
patches_rope_seek (const PatchesRope *self,
                   gint64             pos,
                   gint64            *offset)
{
  const PatchesRopeNode *node = self->root;

  if (node->n_children == 0)
    {
      *offset = 0;
      return NULL;
    }

  for (;;)
    {
      guint last = node->n_children - 1;
      guint i = 0;

      while (i < last && pos >= node->length[i])
        {
          pos -= node->length[i];
          i++;
        }

      if (node->leaves)
        {
          *offset = pos;
          return node->children[i];
        }
      node = node->children[i];
    }
}

void
patches_rope_insert_plain (PatchesRope     *self,
                           gint64           pos,
                           const gunichar2 *text,
                           gsize            length)
{
  PatchesRopeLeaf *leaf;
  gint64 offset;

  if (length == 0)
    return;

  self->n_surrogates += count_surrogates (text, length);

  leaf = patches_rope_seek (self, pos, &offset);
  if (leaf == NULL)
    {
      leaves_insert_after (self, NULL, text, length, NULL, FALSE);
      return;
    }

  /* Typing at the end of a plain run continues that run's leaf. */
  if (offset == 0 && patches_rope_leaf_is_plain (leaf->prev))
    {
      leaf = leaf->prev;
      offset = leaf->length;
    }

  if (patches_rope_leaf_is_plain (leaf))
    leaf_insert_units (self, leaf, offset, text, length);
  else if (offset == 0)
    leaves_insert_after (self, leaf->prev, text, length, NULL, FALSE);
  else if (offset == leaf->length)
    {
      if (patches_rope_leaf_is_plain (leaf->next))
        leaf_insert_units (self, leaf->next, 0, text, length);
      else
        leaves_insert_after (self, leaf, text, length, NULL, FALSE);
    }
  else
    {
      leaf_split (self, leaf, offset);
      leaves_insert_after (self, leaf, text, length, NULL, FALSE);
    }
}

void
patches_rope_insert_run (PatchesRope     *self,
                         gint64           pos,
                         const gunichar2 *text,
                         gsize            length,
                         PatchesValue    *embed,
                         PatchesValue    *attributes,
                         gboolean         attributes_first)
{
  PatchesRopeLeaf *leaf;
  PatchesRopeLeaf *after;
  gint64 offset;

  if (embed == NULL && length == 0)
    return;

  leaf = patches_rope_seek (self, pos, &offset);
  if (leaf == NULL)
    after = NULL;
  else if (offset == 0)
    after = leaf->prev;
  else
    {
      if (offset < leaf->length)
        leaf_split (self, leaf, offset);
      after = leaf;
    }

  if (embed != NULL)
    leaf_link_after (self, after, leaf_new (self, 0, embed, attributes, attributes_first));
  else
    {
      self->n_surrogates += count_surrogates (text, length);
      leaves_insert_after (self, after, text, length, attributes, attributes_first);
    }
}

void
patches_rope_delete (PatchesRope *self,
                     gint64       pos,
                     gint64       length)
{
  PatchesRopeLeaf *leaf;
  PatchesRopeLeaf *before;
  gint64 offset;
  gboolean had_surrogates = self->n_surrogates > 0;

  if (length <= 0)
    return;

  leaf = patches_rope_seek (self, pos, &offset);
  if (leaf != NULL && offset == leaf->length)
    leaf = NULL;
  before = leaf != NULL && offset > 0 ? leaf : (leaf != NULL ? leaf->prev : NULL);

  while (leaf != NULL && length > 0)
    {
      PatchesRopeLeaf *next = leaf->next;
      gint64 take = MIN (length, (gint64) leaf->length - offset);

      if (leaf->embed == NULL)
        self->n_surrogates -= count_surrogates (leaf->text + offset, take);

      if (take == leaf->length)
        leaf_unlink_and_free (self, leaf);
      else
        {
          memmove (leaf->text + offset, leaf->text + offset + take,
                   (leaf->length - offset - take) * sizeof (gunichar2));
          leaf->length -= take;
          leaf_sync (self, leaf);
        }

      length -= take;
      offset = 0;
      leaf = next;
    }

  /* The units now meeting at @pos may pair up (or no longer do), and the
   * last surrogate may have gone: recount around the junction. */
  if (had_surrogates)
    {
      PatchesRopeLeaf *after = before != NULL ? before->next : self->first;

      if (before != NULL)
        leaf_sync (self, before);
      if (after != NULL)
        leaf_sync (self, after);
    }

  /* Both sides of the junction may have become small. */
  if (before != NULL)
    {
      before = leaf_maybe_merge (self, before);
      if (before->next != NULL)
        leaf_maybe_merge (self, before->next);
    }
  else if (self->first != NULL)
    leaf_maybe_merge (self, self->first);
}

void
patches_rope_leaf_set_attributes (PatchesRope     *self,
                                  PatchesRopeLeaf *leaf,
                                  PatchesValue    *attributes)
{
  PatchesValue *old = leaf->attributes;

  if (old == attributes)
    return;

  if (leaf->embed == NULL)
    self->n_attributed += (attributes != NULL) - (old != NULL);
  leaf->attributes = attributes != NULL ? patches_value_ref (attributes) : NULL;
  if (old != NULL)
    patches_value_unref (old);
}

/* ------------------------------------------------------------------ */
/* Offsets                                                             */
/* ------------------------------------------------------------------ */

/* Whether unit @i of @leaf starts a character. */
static inline gboolean
leaf_unit_starts_char (const PatchesRopeLeaf *leaf,
                       guint                  i)
{
  gunichar2 before;

  if (leaf->embed != NULL || !is_low_surrogate (leaf->text[i]))
    return TRUE;
  if (i > 0)
    before = leaf->text[i - 1];
  else if (patches_rope_leaf_is_text (leaf->prev))
    before = leaf->prev->text[leaf->prev->length - 1];
  else
    return TRUE;

  /* A low surrogate right after a high one completes a pair (a high
   * surrogate is never itself the second half of one). */
  return !is_high_surrogate (before);
}

gint64
patches_rope_char_offset (const PatchesRope *self,
                          gint64             utf16_offset)
{
  const PatchesRopeNode *node = self->root;
  const PatchesRopeLeaf *leaf;
  gint64 pos = utf16_offset;
  gint64 chars = 0;

  if (pos <= 0)
    return 0;
  if (pos >= self->length)
    return self->n_chars;
  if (self->n_surrogates == 0)
    return pos;

  for (;;)
    {
      guint last = node->n_children - 1;
      guint i = 0;

      while (i < last && pos >= node->length[i])
        {
          pos -= node->length[i];
          chars += node->n_chars[i];
          i++;
        }

      if (node->leaves)
        {
          leaf = node->children[i];
          break;
        }
      node = node->children[i];
    }

  for (gint64 i = 0; i < pos; i++)
    chars += leaf_unit_starts_char (leaf, i);

  /* Inside a pair: the character that pair encodes. */
  if (!leaf_unit_starts_char (leaf, pos))
    chars--;

  return chars;
}

gint64
patches_rope_utf16_offset (const PatchesRope *self,
                           gint64             char_offset)
{
  const PatchesRopeNode *node = self->root;
  const PatchesRopeLeaf *leaf;
  gint64 chars = char_offset;
  gint64 pos = 0;

  if (chars <= 0)
    return 0;
  if (chars >= self->n_chars)
    return self->length;
  if (self->n_surrogates == 0)
    return chars;

  for (;;)
    {
      guint last = node->n_children - 1;
      guint i = 0;

      while (i < last && chars >= node->n_chars[i])
        {
          chars -= node->n_chars[i];
          pos += node->length[i];
          i++;
        }

      if (node->leaves)
        {
          leaf = node->children[i];
          break;
        }
      node = node->children[i];
    }

  for (guint i = 0; i < leaf->length; i++)
    if (leaf_unit_starts_char (leaf, i))
      {
        if (chars == 0)
          return pos + i;
        chars--;
      }

  g_assert_not_reached ();
}

/* ------------------------------------------------------------------ */
/* Checks                                                              */
/* ------------------------------------------------------------------ */

void
patches_rope_set_limits_for_testing (guint leaf_max,
                                     guint node_max)
{
  g_return_if_fail (leaf_max == 0 || leaf_max >= 4);
  g_return_if_fail (node_max == 0 || (node_max >= 3 && node_max <= NODE_MAX));

  limits.leaf_max = leaf_max > 0 ? leaf_max : 512;
  limits.leaf_fill = limits.leaf_max * 3 / 4;
  limits.node_max = node_max > 0 ? node_max : NODE_MAX;
}

static void
check_node (const PatchesRope       *rope,
            const PatchesRopeNode   *node,
            const PatchesRopeLeaf  **expect_leaf,
            gint64                  *length,
            gint64                  *n_chars)
{
  *length = 0;
  *n_chars = 0;

  g_assert_cmpuint (node->n_children, <=, NODE_MAX);
  g_assert (node == rope->root || node->n_children > 0);

  for (guint i = 0; i < node->n_children; i++)
    {
      gint64 l, c;

      if (node->leaves)
        {
          const PatchesRopeLeaf *leaf = node->children[i];

          g_assert (leaf == *expect_leaf);
          g_assert (leaf->parent == node && leaf->slot == i);
          g_assert_cmpuint (leaf->length, >, 0);
          g_assert (leaf->embed != NULL || leaf->length <= leaf->capacity);
          g_assert_cmpuint (leaf->n_chars, ==, leaf_count_chars (rope, leaf));
          l = leaf->length;
          c = leaf->n_chars;
          *expect_leaf = leaf->next;
        }
      else
        {
          const PatchesRopeNode *child = node->children[i];

          g_assert (child->parent == node && child->slot == i);
          check_node (rope, child, expect_leaf, &l, &c);
        }

      g_assert_cmpint (node->length[i], ==, l);
      g_assert_cmpint (node->n_chars[i], ==, c);
      *length += l;
      *n_chars += c;
    }
}

void
patches_rope_check (const PatchesRope *self)
{
  const PatchesRopeLeaf *expect = self->first;
  gint64 length, n_chars, surrogates = 0, attributed = 0;

  g_assert (self->root->parent == NULL);
  check_node (self, self->root, &expect, &length, &n_chars);
  g_assert (expect == NULL);
  g_assert_cmpint (length, ==, self->length);
  g_assert_cmpint (n_chars, ==, self->n_chars);

  for (const PatchesRopeLeaf *leaf = self->first; leaf != NULL; leaf = leaf->next)
    {
      g_assert (leaf->next != NULL || leaf == self->last);
      g_assert (leaf->next == NULL || leaf->next->prev == leaf);
      if (leaf->embed == NULL)
        {
          surrogates += count_surrogates (leaf->text, leaf->length);
          attributed += leaf->attributes != NULL;
        }
    }
  g_assert_cmpint (surrogates, ==, self->n_surrogates);
  g_assert_cmpint (attributed, ==, self->n_attributed);
}
