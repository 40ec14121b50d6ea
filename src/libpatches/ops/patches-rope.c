/* patches-rope.c
 *
 * A persistent B+tree of UTF-16 text leaves (see patches-rope-private.h).
 *
 * Why this shape: typing must cost a few hundred nanoseconds whatever the
 * document size, so an edit may touch one leaf (a memmove of at most
 * LEAF_MAX units) and the O(log n) path above it, never the whole text.
 * A branch that overflows is split in two halves; one that falls under
 * half full is joined with a sibling when they fit in one, so the height
 * stays logarithmic whatever mix of inserts and deletes comes.  Leaves
 * are kept from getting tiny the same way (leaf_maybe_merge()).
 *
 * And documents are copied all the time: every holder of a state (the
 * committed state, the optimistic view, a store, a listener keeping the
 * previous state) takes a reference, and PatchesValue is copy-on-write.
 * So branches and leaves are reference counted and immutable while
 * shared: a copy takes a reference on the root, and an edit walks down
 * from the root making each node on its path its own (path_make_mutable()
 * copies a shared node, which takes a reference on each of its children,
 * so the copying goes on down exactly the path walked).  Whoever holds
 * the only reference edits in place as before.
 *
 * Nothing points up or sideways: a position is a path (PatchesRopeIter),
 * re-found from the root after every change of the tree's shape.  Every
 * leaf is at the same depth.
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
  gatomicrefcount  ref_count;
  guint            n_children;
  gboolean         leaves;   /* children are leaves, else branches */
  /* One spare entry: a branch may hold node_max + 1 children for the
   * moment between an insertion and the split it calls for.  n_chars[i]
   * counts the characters starting in child i (for a leaf, that depends
   * on the leaf before it). */
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

/* Characters starting in @text, @after_high when the unit before it is a
 * high surrogate. */
static gint64
count_chars (const gunichar2 *text,
             gsize            length,
             gboolean         after_high)
{
  gint64 n = 0;

  for (gsize i = 0; i < length; i++)
    {
      gunichar2 c = text[i];

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

static inline gboolean
leaf_ends_high (const PatchesRopeLeaf *leaf)
{
  return patches_rope_leaf_is_text (leaf) && is_high_surrogate (leaf->text[leaf->length - 1]);
}

/* ------------------------------------------------------------------ */
/* Leaves and branches                                                 */
/* ------------------------------------------------------------------ */

static PatchesRopeLeaf *
leaf_new (guint         capacity,
          PatchesValue *embed,
          PatchesValue *attributes,
          gboolean      attributes_first)
{
  PatchesRopeLeaf *leaf = g_new0 (PatchesRopeLeaf, 1);

  g_atomic_ref_count_init (&leaf->ref_count);
  leaf->attributes = attributes != NULL ? patches_value_ref (attributes) : NULL;
  leaf->attributes_first = attributes != NULL && attributes_first;
  if (embed != NULL)
    {
      leaf->embed = patches_value_ref (embed);
      leaf->length = 1;
    }
  else
    {
      leaf->capacity = MAX (capacity, 8);
      leaf->text = g_new (gunichar2, leaf->capacity);
    }

  return leaf;
}

static PatchesRopeLeaf *
leaf_new_text (const gunichar2 *text,
               gsize            length,
               PatchesValue    *attributes,
               gboolean         attributes_first)
{
  PatchesRopeLeaf *leaf = leaf_new (length, NULL, attributes, attributes_first);

  memcpy (leaf->text, text, length * sizeof (gunichar2));
  leaf->length = length;

  return leaf;
}

static void
leaf_unref (PatchesRopeLeaf *leaf)
{
  if (!g_atomic_ref_count_dec (&leaf->ref_count))
    return;

  g_clear_pointer (&leaf->attributes, patches_value_unref);
  g_clear_pointer (&leaf->embed, patches_value_unref);
  g_free (leaf->text);
  g_free (leaf);
}

static inline gboolean
leaf_is_shared (PatchesRopeLeaf *leaf)
{
  return !g_atomic_ref_count_compare (&leaf->ref_count, 1);
}

/* Room for @length units in a leaf of our own. */
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

/* A copy of @leaf for one rope to change, with room for @length units. */
static PatchesRopeLeaf *
leaf_clone (const PatchesRopeLeaf *leaf,
            guint                  length)
{
  PatchesRopeLeaf *copy;
  guint capacity;

  if (leaf->embed != NULL)
    return leaf_new (0, leaf->embed, leaf->attributes, leaf->attributes_first);

  /* Some room: an edit that copies a leaf is likely followed by more
   * typing in it. */
  capacity = MAX (length, leaf->length);
  if (capacity < LEAF_MAX)
    capacity = MIN (LEAF_MAX, capacity + capacity / 4 + 8);
  copy = leaf_new (capacity, NULL, leaf->attributes, leaf->attributes_first);
  memcpy (copy->text, leaf->text, leaf->length * sizeof (gunichar2));
  copy->length = leaf->length;

  return copy;
}

static PatchesRopeNode *
node_new (gboolean leaves)
{
  PatchesRopeNode *node = g_new (PatchesRopeNode, 1);

  g_atomic_ref_count_init (&node->ref_count);
  node->n_children = 0;
  node->leaves = leaves;

  return node;
}

static inline PatchesRopeNode *
node_ref (PatchesRopeNode *node)
{
  g_atomic_ref_count_inc (&node->ref_count);
  return node;
}

static inline void
child_ref (const PatchesRopeNode *node,
           gpointer               child)
{
  if (node->leaves)
    g_atomic_ref_count_inc (&((PatchesRopeLeaf *) child)->ref_count);
  else
    g_atomic_ref_count_inc (&((PatchesRopeNode *) child)->ref_count);
}

static void
node_unref (PatchesRopeNode *node)
{
  if (!g_atomic_ref_count_dec (&node->ref_count))
    return;

  for (guint i = 0; i < node->n_children; i++)
    {
      if (node->leaves)
        leaf_unref (node->children[i]);
      else
        node_unref (node->children[i]);
    }
  g_free (node);
}

static inline gboolean
node_is_shared (PatchesRopeNode *node)
{
  return !g_atomic_ref_count_compare (&node->ref_count, 1);
}

/* A copy of @node sharing its children. */
static PatchesRopeNode *
node_clone (const PatchesRopeNode *node)
{
  PatchesRopeNode *copy = node_new (node->leaves);
  guint n = node->n_children;

  copy->n_children = n;
  memcpy (copy->length, node->length, n * sizeof (gint64));
  memcpy (copy->n_chars, node->n_chars, n * sizeof (gint64));
  memcpy (copy->children, node->children, n * sizeof (gpointer));
  for (guint i = 0; i < n; i++)
    child_ref (node, node->children[i]);

  return copy;
}

/* Puts an entry at @slot of @node; nothing above changes. */
static void
node_put (PatchesRopeNode *node,
          guint            slot,
          gpointer         child,
          gint64           length,
          gint64           n_chars)
{
  guint n = node->n_children - slot;

  memmove (node->length + slot + 1, node->length + slot, n * sizeof (gint64));
  memmove (node->n_chars + slot + 1, node->n_chars + slot, n * sizeof (gint64));
  memmove (node->children + slot + 1, node->children + slot, n * sizeof (gpointer));
  node->length[slot] = length;
  node->n_chars[slot] = n_chars;
  node->children[slot] = child;
  node->n_children++;
}

/* Takes the entry at @slot out of @node (its reference goes with it);
 * nothing above changes. */
static void
node_take (PatchesRopeNode *node,
           guint            slot)
{
  guint n = node->n_children - slot - 1;

  memmove (node->length + slot, node->length + slot + 1, n * sizeof (gint64));
  memmove (node->n_chars + slot, node->n_chars + slot + 1, n * sizeof (gint64));
  memmove (node->children + slot, node->children + slot + 1, n * sizeof (gpointer));
  node->n_children--;
}

/* ------------------------------------------------------------------ */
/* Paths                                                               */
/* ------------------------------------------------------------------ */

typedef PatchesRopeIter Path;

static inline PatchesRopeLeaf *
path_leaf (const Path *path)
{
  return path->nodes[path->depth - 1]->children[path->slots[path->depth - 1]];
}

/* The entry standing for the current leaf in its branch. */
static inline gint64
path_leaf_chars (const Path *path)
{
  return path->nodes[path->depth - 1]->n_chars[path->slots[path->depth - 1]];
}

/* Walks down to the leaf holding unit @pos (see patches_rope_seek()). */
static PatchesRopeLeaf *
path_seek (const PatchesRope *rope,
           gint64             pos,
           Path              *path,
           gint64            *offset)
{
  PatchesRopeNode *node = rope->root;

  path->depth = 0;
  path->start = 0;

  if (node->n_children == 0)
    {
      *offset = 0;
      return NULL;
    }

  pos = CLAMP (pos, 0, rope->length);
  for (;;)
    {
      guint last = node->n_children - 1;
      guint i = 0;

      while (i < last && pos >= node->length[i])
        {
          pos -= node->length[i];
          path->start += node->length[i];
          i++;
        }

      g_assert (path->depth < PATCHES_ROPE_MAX_DEPTH);
      path->nodes[path->depth] = node;
      path->slots[path->depth] = i;
      path->depth++;

      if (node->leaves)
        {
          *offset = pos;
          return node->children[i];
        }
      node = node->children[i];
    }
}

/* Down the first (@last %FALSE) or last children from level @level, whose
 * slot is set already. */
static void
path_descend (Path     *path,
              guint     level,
              gboolean  last)
{
  for (guint d = level + 1; d < path->depth; d++)
    {
      PatchesRopeNode *node = path->nodes[d - 1]->children[path->slots[d - 1]];

      path->nodes[d] = node;
      path->slots[d] = last ? node->n_children - 1 : 0;
    }
}

static PatchesRopeLeaf *
path_init_end (const PatchesRope *rope,
               Path              *path,
               gboolean           last)
{
  PatchesRopeNode *node = rope->root;

  path->depth = 0;
  path->start = 0;
  if (node->n_children == 0)
    return NULL;

  for (;;)
    {
      g_assert (path->depth < PATCHES_ROPE_MAX_DEPTH);
      path->nodes[path->depth] = node;
      path->slots[path->depth] = last ? node->n_children - 1 : 0;
      path->depth++;
      if (node->leaves)
        break;
      node = node->children[last ? node->n_children - 1 : 0];
    }

  if (last)
    path->start = rope->length - path->nodes[path->depth - 1]->length[path->slots[path->depth - 1]];

  return path_leaf (path);
}

static PatchesRopeLeaf *
path_next (Path *path)
{
  gint64 length;

  if (path->depth == 0)
    return NULL;

  length = path->nodes[path->depth - 1]->length[path->slots[path->depth - 1]];
  for (guint d = path->depth; d-- > 0;)
    if (path->slots[d] + 1 < path->nodes[d]->n_children)
      {
        path->slots[d]++;
        path_descend (path, d, FALSE);
        path->start += length;
        return path_leaf (path);
      }

  return NULL;
}

static PatchesRopeLeaf *
path_prev (Path *path)
{
  if (path->depth == 0)
    return NULL;

  for (guint d = path->depth; d-- > 0;)
    if (path->slots[d] > 0)
      {
        path->slots[d]--;
        path_descend (path, d, TRUE);
        path->start -= path->nodes[path->depth - 1]->length[path->slots[path->depth - 1]];
        return path_leaf (path);
      }

  return NULL;
}

static PatchesRopeLeaf *
path_peek (const Path *path,
           gboolean    forward)
{
  if (path->depth == 0)
    return NULL;

  for (guint d = path->depth; d-- > 0;)
    {
      const PatchesRopeNode *node = path->nodes[d];
      guint slot = path->slots[d];
      gpointer child;

      if (forward ? slot + 1 >= node->n_children : slot == 0)
        continue;

      child = node->children[forward ? slot + 1 : slot - 1];
      for (guint e = d + 1; e < path->depth; e++)
        {
          const PatchesRopeNode *below = child;

          child = below->children[forward ? 0 : below->n_children - 1];
        }
      return child;
    }

  return NULL;
}

/* Makes every branch on @path the rope's own, top down: a shared one is
 * replaced by a copy, which makes its children shared in turn. */
static void
path_make_mutable (PatchesRope *rope,
                   Path        *path)
{
  for (guint d = 0; d < path->depth; d++)
    {
      PatchesRopeNode *node = path->nodes[d];
      PatchesRopeNode *copy;

      if (!node_is_shared (node))
        continue;

      copy = node_clone (node);
      if (d == 0)
        rope->root = copy;
      else
        path->nodes[d - 1]->children[path->slots[d - 1]] = copy;
      node_unref (node);
      path->nodes[d] = copy;
    }
}

/* Makes the path and the current leaf the rope's own, with room for
 * @length units; returns the leaf. */
static PatchesRopeLeaf *
path_make_leaf_mutable (PatchesRope *rope,
                        Path        *path,
                        guint        length)
{
  PatchesRopeNode *node;
  PatchesRopeLeaf *leaf;
  guint slot;

  path_make_mutable (rope, path);
  node = path->nodes[path->depth - 1];
  slot = path->slots[path->depth - 1];
  leaf = node->children[slot];

  if (leaf_is_shared (leaf))
    {
      PatchesRopeLeaf *copy = leaf_clone (leaf, length);

      node->children[slot] = copy;
      leaf_unref (leaf);
      leaf = copy;
    }
  if (leaf->embed == NULL)
    leaf_reserve (leaf, length);

  return leaf;
}

/* Adds to the entries of the current leaf and above, on a path of our
 * own. */
static void
path_add (PatchesRope *rope,
          Path        *path,
          gint64       length,
          gint64       n_chars)
{
  for (guint d = 0; d < path->depth; d++)
    {
      path->nodes[d]->length[path->slots[d]] += length;
      path->nodes[d]->n_chars[path->slots[d]] += n_chars;
    }
  rope->length += length;
  rope->n_chars += n_chars;
}

/* Characters starting in the current leaf. */
static gint64
path_count_chars (const PatchesRope *rope,
                  const Path        *path)
{
  const PatchesRopeLeaf *leaf = path_leaf (path);

  if (leaf->embed != NULL)
    return 1;
  if (rope->n_surrogates == 0)
    return leaf->length;

  return count_chars (leaf->text, leaf->length, leaf_ends_high (path_peek (path, FALSE)));
}

/* Brings the entries above the current leaf in line with its length and
 * characters (after the leaf changed, or the one before it). */
static void
path_sync (PatchesRope *rope,
           Path        *path)
{
  const PatchesRopeNode *node = path->nodes[path->depth - 1];
  guint slot = path->slots[path->depth - 1];
  gint64 d_length = (gint64) path_leaf (path)->length - node->length[slot];
  gint64 d_chars = path_count_chars (rope, path) - node->n_chars[slot];

  if (d_length == 0 && d_chars == 0)
    return;

  path_make_mutable (rope, path);
  path_add (rope, path, d_length, d_chars);
}

/* A change at the end of the current leaf can pair or unpair the first
 * unit of the leaf after it. */
static void
path_sync_next (PatchesRope *rope,
                const Path  *path)
{
  Path next;

  if (rope->n_surrogates == 0)
    return;

  next = *path;
  if (path_next (&next) != NULL)
    path_sync (rope, &next);
}

/* Splits branches that hold more than node_max children, from level
 * @level of @path up: the upper half moves to a new sibling right after
 * it.  The path is the rope's own; it is no longer valid afterwards. */
static void
path_fix_overflow (PatchesRope *rope,
                   Path        *path,
                   guint        level)
{
  for (guint d = level + 1; d-- > 0;)
    {
      PatchesRopeNode *node = path->nodes[d];
      PatchesRopeNode *right;
      guint n = node->n_children;
      guint keep = (n + 1) / 2;
      gint64 moved_length = 0;
      gint64 moved_chars = 0;

      if (n <= limits.node_max)
        return;

      right = node_new (node->leaves);
      for (guint i = keep; i < n; i++)
        {
          moved_length += node->length[i];
          moved_chars += node->n_chars[i];
        }
      right->n_children = n - keep;
      memcpy (right->length, node->length + keep, (n - keep) * sizeof (gint64));
      memcpy (right->n_chars, node->n_chars + keep, (n - keep) * sizeof (gint64));
      memcpy (right->children, node->children + keep, (n - keep) * sizeof (gpointer));
      node->n_children = keep;

      if (d == 0)
        {
          PatchesRopeNode *root = node_new (FALSE);

          node_put (root, 0, node, rope->length - moved_length, rope->n_chars - moved_chars);
          node_put (root, 1, right, moved_length, moved_chars);
          rope->root = root;
          return;
        }

      path->nodes[d - 1]->length[path->slots[d - 1]] -= moved_length;
      path->nodes[d - 1]->n_chars[path->slots[d - 1]] -= moved_chars;
      node_put (path->nodes[d - 1], path->slots[d - 1] + 1, right, moved_length, moved_chars);
    }
}

/* Joins branches that fell under half full with a sibling when both fit
 * in one, drops empty ones, from level @level of @path up, and lets a
 * root with a single branch child give way to it.  This keeps the height
 * logarithmic however inserts and deletes alternate.  The path is the
 * rope's own; it is no longer valid afterwards. */
static void
path_fix_underflow (PatchesRope *rope,
                    Path        *path,
                    guint        level)
{
  for (guint d = level; d > 0; d--)
    {
      PatchesRopeNode *node = path->nodes[d];
      PatchesRopeNode *parent = path->nodes[d - 1];
      guint slot = path->slots[d - 1];
      PatchesRopeNode *left;
      PatchesRopeNode *right;
      guint left_slot;
      gboolean right_shared;

      if (node->n_children == 0)
        {
          /* Its entry above is 0 already. */
          node_take (parent, slot);
          node_unref (node);
          continue;
        }

      if (node->n_children * 2 >= limits.node_max)
        break;

      if (slot + 1 < parent->n_children)
        left = node, right = parent->children[slot + 1], left_slot = slot;
      else if (slot > 0)
        left = parent->children[slot - 1], right = node, left_slot = slot - 1;
      else
        break;

      if (left->n_children + right->n_children > limits.node_max)
        break;

      /* The sibling may be shared: the left one is written, so it is
       * copied then; the right one is only read. */
      if (node_is_shared (left))
        {
          PatchesRopeNode *copy = node_clone (left);

          parent->children[left_slot] = copy;
          node_unref (left);
          left = copy;
        }

      right_shared = node_is_shared (right);
      for (guint i = 0; i < right->n_children; i++)
        {
          if (right_shared)
            child_ref (right, right->children[i]);
          node_put (left, left->n_children, right->children[i], right->length[i], right->n_chars[i]);
        }
      if (right_shared)
        node_unref (right);
      else
        g_free (right);

      parent->length[left_slot] += parent->length[left_slot + 1];
      parent->n_chars[left_slot] += parent->n_chars[left_slot + 1];
      node_take (parent, left_slot + 1);
    }

  /* Only reached through a path of our own: the root is ours. */
  while (rope->root->n_children == 1 && !rope->root->leaves)
    {
      PatchesRopeNode *old = rope->root;

      rope->root = node_ref (old->children[0]);
      node_unref (old);
    }
  if (rope->root->n_children == 0)
    rope->root->leaves = TRUE;
}

/* ------------------------------------------------------------------ */
/* Leaves in the tree                                                  */
/* ------------------------------------------------------------------ */

/* Links @leaf (a reference of its own) in at unit position @pos, which is
 * 0, the end, or where a leaf starts. */
static void
insert_leaf_at (PatchesRope     *rope,
                gint64           pos,
                PatchesRopeLeaf *leaf)
{
  PatchesRopeLeaf *at;
  PatchesRopeLeaf *before;
  Path path;
  gint64 offset;
  gint64 n_chars;
  guint slot;

  at = path_seek (rope, pos, &path, &offset);
  if (at == NULL)
    {
      path.depth = 1;
      path.nodes[0] = rope->root;
      path.slots[0] = 0;
      slot = 0;
      before = NULL;
    }
  else if (offset == 0)
    {
      slot = path.slots[path.depth - 1];
      before = path_peek (&path, FALSE);
    }
  else
    {
      g_assert (offset == at->length);
      slot = path.slots[path.depth - 1] + 1;
      before = at;
    }

  if (leaf->embed != NULL)
    n_chars = 1;
  else if (rope->n_surrogates == 0)
    n_chars = leaf->length;
  else
    n_chars = count_chars (leaf->text, leaf->length, leaf_ends_high (before));

  if (leaf->embed == NULL && leaf->attributes != NULL)
    rope->n_attributed++;

  path_make_mutable (rope, &path);
  node_put (path.nodes[path.depth - 1], slot, leaf, leaf->length, n_chars);
  for (guint d = 0; d + 1 < path.depth; d++)
    {
      path.nodes[d]->length[path.slots[d]] += leaf->length;
      path.nodes[d]->n_chars[path.slots[d]] += n_chars;
    }
  rope->length += leaf->length;
  rope->n_chars += n_chars;
  path_fix_overflow (rope, &path, path.depth - 1);
}

/* The leaf after a change at @pos (a leaf boundary) may start with a low
 * surrogate whose partner changed. */
static void
sync_at (PatchesRope *rope,
         gint64       pos)
{
  Path path;
  gint64 offset;

  if (rope->n_surrogates == 0 || pos <= 0 || pos >= rope->length)
    return;
  if (path_seek (rope, pos, &path, &offset) != NULL)
    path_sync (rope, &path);
}

/* New leaves holding @text (cut at LEAF_FILL), linked in at @pos (see
 * insert_leaf_at()). */
static void
leaves_insert_at (PatchesRope     *rope,
                  gint64           pos,
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

      insert_leaf_at (rope, pos + start,
                      leaf_new_text (text + start, end - start, attributes, attributes_first));
    }

  sync_at (rope, pos + length);
}

/* Unlinks the current leaf; the path is no longer valid afterwards. */
static void
path_remove_leaf (PatchesRope *rope,
                  Path        *path)
{
  PatchesRopeNode *node;
  PatchesRopeLeaf *leaf;
  guint slot;
  gint64 length;
  gint64 n_chars;

  path_make_mutable (rope, path);
  node = path->nodes[path->depth - 1];
  slot = path->slots[path->depth - 1];
  leaf = node->children[slot];
  length = node->length[slot];
  n_chars = node->n_chars[slot];

  if (leaf->embed == NULL && leaf->attributes != NULL)
    rope->n_attributed--;

  path_add (rope, path, -length, -n_chars);
  node_take (node, slot);
  leaf_unref (leaf);
  path_fix_underflow (rope, path, path->depth - 1);
}

/* Cuts the current leaf at @offset (0 < @offset < length); the right
 * half shares the attributes.  The path is no longer valid afterwards. */
static void
path_split_leaf (PatchesRope *rope,
                 Path        *path,
                 guint        offset)
{
  PatchesRopeLeaf *leaf = path_leaf (path);
  PatchesRopeLeaf *right;
  gint64 start = path->start;

  g_assert (leaf->embed == NULL && offset > 0 && offset < leaf->length);

  right = leaf_new_text (leaf->text + offset, leaf->length - offset,
                         leaf->attributes, leaf->attributes_first);
  leaf = path_make_leaf_mutable (rope, path, offset);
  leaf->length = offset;
  path_sync (rope, path);
  insert_leaf_at (rope, start + offset, right);
}

/* Inserts units into the current text leaf, cutting it into several
 * when it would overflow.  The path is no longer valid afterwards. */
static void
path_insert_units (PatchesRope     *rope,
                   Path            *path,
                   guint            offset,
                   const gunichar2 *text,
                   gsize            length)
{
  PatchesRopeLeaf *leaf = path_leaf (path);

  if (leaf->length + length <= LEAF_MAX)
    {
      leaf = path_make_leaf_mutable (rope, path, leaf->length + length);
      memmove (leaf->text + offset + length, leaf->text + offset,
               (leaf->length - offset) * sizeof (gunichar2));
      memcpy (leaf->text + offset, text, length * sizeof (gunichar2));
      leaf->length += length;
      path_sync (rope, path);
      path_sync_next (rope, path);
      return;
    }

  {
    gsize total = leaf->length + length;
    gsize n_leaves = MAX (2, (total + LEAF_FILL - 1) / LEAF_FILL);
    g_autofree gunichar2 *all = g_new (gunichar2, total);
    g_autoptr(PatchesValue) attributes = leaf->attributes ? patches_value_ref (leaf->attributes) : NULL;
    gboolean attributes_first = leaf->attributes_first;
    gint64 start = path->start;
    gsize first;

    memcpy (all, leaf->text, offset * sizeof (gunichar2));
    memcpy (all + offset, text, length * sizeof (gunichar2));
    memcpy (all + offset + length, leaf->text + offset, (leaf->length - offset) * sizeof (gunichar2));

    first = total / n_leaves;
    leaf = path_make_leaf_mutable (rope, path, first);
    memcpy (leaf->text, all, first * sizeof (gunichar2));
    leaf->length = first;
    path_sync (rope, path);
    leaves_insert_at (rope, start + first, all + first, total - first,
                      attributes, attributes_first);
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

/* Joins the small leaf holding unit @pos with a neighbour of the same
 * run, so that deleting does not leave the tree full of tiny leaves.
 * Returns where the leaf that now holds that unit ends. */
static gint64
leaf_maybe_merge (PatchesRope *rope,
                  gint64       pos)
{
  PatchesRopeLeaf *leaf;
  PatchesRopeLeaf *into;
  PatchesRopeLeaf *from;
  Path path;
  gint64 offset;
  gint64 from_start;
  guint into_length;

  leaf = path_seek (rope, pos, &path, &offset);
  if (leaf->embed != NULL || leaf->length >= LEAF_MAX / 4)
    return path.start + leaf->length;

  if (leaves_mergeable (leaf, path_peek (&path, TRUE)))
    into = leaf, from = path_peek (&path, TRUE);
  else if (leaves_mergeable (path_peek (&path, FALSE), leaf))
    {
      into = path_prev (&path);
      from = leaf;
    }
  else
    return path.start + leaf->length;

  /* The units stay in the same order: the characters starting in each
   * are the same, @from's now start in @into. */
  into_length = into->length;
  into = path_make_leaf_mutable (rope, &path, into_length + from->length);
  memcpy (into->text + into_length, from->text, from->length * sizeof (gunichar2));
  into->length += from->length;
  path_sync (rope, &path);

  from_start = path.start + into->length;
  leaf = path_seek (rope, from_start, &path, &offset);
  g_assert (leaf == from && offset == 0);
  path_remove_leaf (rope, &path);

  return from_start;
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
  if (self == NULL)
    return;

  node_unref (self->root);
  g_free (self);
}

/**
 * patches_rope_copy:
 * @self: a rope
 *
 * Returns: (transfer full): a rope with the same content, sharing the
 *   whole tree (O(1)); either may change afterwards without the other
 *   seeing it
 */
PatchesRope *
patches_rope_copy (const PatchesRope *self)
{
  PatchesRope *copy = g_new (PatchesRope, 1);

  *copy = *self;
  node_ref (copy->root);

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
      insert_leaf_at (self, self->length, leaf_new (0, embed, attributes, attributes_first));
      return;
    }

  if (length == 0)
    return;

  self->n_surrogates += count_surrogates (text, length);
  leaves_insert_at (self, self->length, text, length, attributes, attributes_first);
}

PatchesRopeLeaf *
patches_rope_seek (const PatchesRope *self,
                   gint64             pos,
                   gint64            *offset)
{
  Path path;

  return path_seek (self, pos, &path, offset);
}

void
patches_rope_insert_plain (PatchesRope     *self,
                           gint64           pos,
                           const gunichar2 *text,
                           gsize            length)
{
  PatchesRopeLeaf *leaf;
  PatchesRopeLeaf *next;
  Path path;
  gint64 offset;

  if (length == 0)
    return;

  self->n_surrogates += count_surrogates (text, length);

  leaf = path_seek (self, pos, &path, &offset);
  if (leaf == NULL)
    {
      leaves_insert_at (self, 0, text, length, NULL, FALSE);
      return;
    }

  /* Typing at the end of a plain run continues that run's leaf. */
  if (offset == 0 && patches_rope_leaf_is_plain (path_peek (&path, FALSE)))
    {
      leaf = path_prev (&path);
      offset = leaf->length;
    }

  if (patches_rope_leaf_is_plain (leaf))
    path_insert_units (self, &path, offset, text, length);
  else if (offset == 0)
    leaves_insert_at (self, path.start, text, length, NULL, FALSE);
  else if (offset == leaf->length)
    {
      next = path_next (&path);
      if (patches_rope_leaf_is_plain (next))
        path_insert_units (self, &path, 0, text, length);
      else
        leaves_insert_at (self, pos, text, length, NULL, FALSE);
    }
  else
    {
      path_split_leaf (self, &path, offset);
      leaves_insert_at (self, pos, text, length, NULL, FALSE);
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
  Path path;
  gint64 offset;

  if (embed == NULL && length == 0)
    return;

  leaf = path_seek (self, pos, &path, &offset);
  pos = path.start + offset;
  if (leaf != NULL && offset > 0 && offset < leaf->length)
    path_split_leaf (self, &path, offset);

  if (embed != NULL)
    {
      insert_leaf_at (self, pos, leaf_new (0, embed, attributes, attributes_first));
      sync_at (self, pos + 1);
    }
  else
    {
      self->n_surrogates += count_surrogates (text, length);
      leaves_insert_at (self, pos, text, length, attributes, attributes_first);
    }
}

void
patches_rope_delete (PatchesRope *self,
                     gint64       pos,
                     gint64       length)
{
  gboolean had_surrogates = self->n_surrogates > 0;

  if (length <= 0)
    return;

  while (length > 0)
    {
      PatchesRopeLeaf *leaf;
      Path path;
      gint64 offset;
      gint64 take;

      leaf = path_seek (self, pos, &path, &offset);
      if (leaf == NULL || offset == leaf->length)
        break;

      take = MIN (length, (gint64) leaf->length - offset);
      if (leaf->embed == NULL)
        self->n_surrogates -= count_surrogates (leaf->text + offset, take);

      if (take == leaf->length)
        path_remove_leaf (self, &path);
      else
        {
          leaf = path_make_leaf_mutable (self, &path, leaf->length);
          memmove (leaf->text + offset, leaf->text + offset + take,
                   (leaf->length - offset - take) * sizeof (gunichar2));
          leaf->length -= take;
          path_sync (self, &path);
        }

      length -= take;
    }

  /* The units now meeting at @pos may pair up (or no longer do), and the
   * last surrogate may have gone: recount around the junction. */
  if (had_surrogates && self->length > 0)
    {
      Path path;
      gint64 offset;

      if (pos > 0)
        {
          path_seek (self, pos - 1, &path, &offset);
          path_sync (self, &path);
        }
      if (pos < self->length)
        {
          path_seek (self, pos, &path, &offset);
          path_sync (self, &path);
        }
    }

  /* Both sides of the junction may have become small. */
  if (pos > 0)
    {
      gint64 end = leaf_maybe_merge (self, pos - 1);

      if (end < self->length)
        leaf_maybe_merge (self, end);
    }
  else if (self->length > 0)
    leaf_maybe_merge (self, 0);
}

void
patches_rope_leaf_set_attributes (PatchesRope     *self,
                                  PatchesRopeLeaf *leaf,
                                  PatchesValue    *attributes)
{
  PatchesValue *old = leaf->attributes;

  g_assert (!leaf_is_shared (leaf));

  if (old == attributes)
    return;

  if (leaf->embed == NULL)
    self->n_attributed += (attributes != NULL) - (old != NULL);
  leaf->attributes = attributes != NULL ? patches_value_ref (attributes) : NULL;
  if (old != NULL)
    patches_value_unref (old);
}

/* ------------------------------------------------------------------ */
/* Iterators                                                           */
/* ------------------------------------------------------------------ */

PatchesRopeLeaf *
patches_rope_iter_init_first (PatchesRopeIter   *iter,
                              const PatchesRope *rope)
{
  return path_init_end (rope, iter, FALSE);
}

PatchesRopeLeaf *
patches_rope_iter_init_last (PatchesRopeIter   *iter,
                             const PatchesRope *rope)
{
  return path_init_end (rope, iter, TRUE);
}

PatchesRopeLeaf *
patches_rope_iter_init_at (PatchesRopeIter   *iter,
                           const PatchesRope *rope,
                           gint64             pos,
                           gint64            *offset)
{
  return path_seek (rope, pos, iter, offset);
}

PatchesRopeLeaf *
patches_rope_iter_get_leaf (const PatchesRopeIter *iter)
{
  return iter->depth > 0 ? path_leaf (iter) : NULL;
}

gint64
patches_rope_iter_get_start (const PatchesRopeIter *iter)
{
  return iter->start;
}

PatchesRopeLeaf *
patches_rope_iter_next (PatchesRopeIter *iter)
{
  return path_next (iter);
}

PatchesRopeLeaf *
patches_rope_iter_prev (PatchesRopeIter *iter)
{
  return path_prev (iter);
}

PatchesRopeLeaf *
patches_rope_iter_peek_next (const PatchesRopeIter *iter)
{
  return path_peek (iter, TRUE);
}

PatchesRopeLeaf *
patches_rope_iter_peek_prev (const PatchesRopeIter *iter)
{
  return path_peek (iter, FALSE);
}

PatchesRopeLeaf *
patches_rope_iter_make_mutable (PatchesRope     *rope,
                                PatchesRopeIter *iter)
{
  g_return_val_if_fail (iter->depth > 0, NULL);

  return path_make_leaf_mutable (rope, iter, path_leaf (iter)->length);
}

/* ------------------------------------------------------------------ */
/* Offsets                                                             */
/* ------------------------------------------------------------------ */

/* Whether unit @i of the current leaf starts a character. */
static inline gboolean
unit_starts_char (const Path *path,
                  guint       i)
{
  const PatchesRopeLeaf *leaf = path_leaf (path);

  if (leaf->embed != NULL || !is_low_surrogate (leaf->text[i]))
    return TRUE;
  if (i > 0)
    return !is_high_surrogate (leaf->text[i - 1]);

  /* A low surrogate right after a high one completes a pair (a high
   * surrogate is never itself the second half of one). */
  return !leaf_ends_high (path_peek (path, FALSE));
}

gint64
patches_rope_char_offset (const PatchesRope *self,
                          gint64             utf16_offset)
{
  const PatchesRopeNode *node = self->root;
  gint64 pos = utf16_offset;
  gint64 chars = 0;
  Path path;

  if (pos <= 0)
    return 0;
  if (pos >= self->length)
    return self->n_chars;
  if (self->n_surrogates == 0)
    return pos;

  path.depth = 0;
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

      path.nodes[path.depth] = (PatchesRopeNode *) node;
      path.slots[path.depth] = i;
      path.depth++;
      if (node->leaves)
        break;
      node = node->children[i];
    }

  for (gint64 i = 0; i < pos; i++)
    chars += unit_starts_char (&path, i);

  /* Inside a pair: the character that pair encodes. */
  if (!unit_starts_char (&path, pos))
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
  Path path;

  if (chars <= 0)
    return 0;
  if (chars >= self->n_chars)
    return self->length;
  if (self->n_surrogates == 0)
    return chars;

  path.depth = 0;
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

      path.nodes[path.depth] = (PatchesRopeNode *) node;
      path.slots[path.depth] = i;
      path.depth++;
      if (node->leaves)
        break;
      node = node->children[i];
    }

  leaf = path_leaf (&path);
  for (guint i = 0; i < leaf->length; i++)
    if (unit_starts_char (&path, i))
      {
        if (chars == 0)
          return pos + i;
        chars--;
      }

  g_assert_not_reached ();
}

/* ------------------------------------------------------------------ */
/* Equality                                                            */
/* ------------------------------------------------------------------ */

/* Both paths are at the start of the same leaf: how many levels up the
 * subtree starting there is also one and the same node in both (0: the
 * leaf only). */
static guint
shared_height (const Path *a,
               const Path *b)
{
  guint h = 0;

  while (h < a->depth && h < b->depth)
    {
      guint la = a->depth - 1 - h;
      guint lb = b->depth - 1 - h;

      if (a->slots[la] != 0 || b->slots[lb] != 0 || a->nodes[la] != b->nodes[lb])
        break;
      h++;
    }

  return h;
}

/* Moves to the last leaf of the subtree @height levels above the current
 * leaf, which starts there. */
static void
path_skip_subtree (Path  *path,
                   guint  height)
{
  for (guint d = path->depth - height; d < path->depth; d++)
    {
      PatchesRopeNode *node;

      if (d > path->depth - height)
        {
          node = path->nodes[d - 1]->children[path->slots[d - 1]];
          path->nodes[d] = node;
          path->slots[d] = 0;
        }
      node = path->nodes[d];
      for (guint i = path->slots[d]; i + 1 < node->n_children; i++)
        path->start += node->length[i];
      path->slots[d] = node->n_children - 1;
    }
}

/* Whether a run (op) starts at the beginning of the current leaf. */
static inline gboolean
path_at_run_start (const Path *path)
{
  return !patches_rope_leaf_same_run (path_peek (path, FALSE), path_leaf (path));
}

gboolean
patches_rope_equal (const PatchesRope *a,
                    const PatchesRope *b,
                    gboolean         (*attributes_equal) (PatchesValue *a,
                                                           PatchesValue *b))
{
  PatchesRopeLeaf *la;
  PatchesRopeLeaf *lb;
  Path pa;
  Path pb;
  guint oa = 0;
  guint ob = 0;

  if (a->length != b->length || a->n_chars != b->n_chars)
    return FALSE;
  if (a->root == b->root)
    return TRUE;

  la = path_init_end (a, &pa, FALSE);
  lb = path_init_end (b, &pb, FALSE);

  while (la != NULL && lb != NULL)
    {
      guint n;

      if (oa == 0 && ob == 0)
        {
          gboolean start = path_at_run_start (&pa);

          if (start != path_at_run_start (&pb))
            return FALSE;
          if (start)
            {
              if ((la->embed == NULL) != (lb->embed == NULL) ||
                  (la->embed != NULL && la->embed != lb->embed && !patches_value_equal (la->embed, lb->embed)))
                return FALSE;
              if (la->attributes != lb->attributes &&
                  (la->attributes == NULL || lb->attributes == NULL ||
                   !attributes_equal (la->attributes, lb->attributes)))
                return FALSE;
            }

          /* The same leaf, or the same subtree, from here on. */
          if (la == lb)
            {
              guint height = shared_height (&pa, &pb);

              if (height > 0)
                {
                  path_skip_subtree (&pa, height);
                  path_skip_subtree (&pb, height);
                  la = path_leaf (&pa);
                  lb = path_leaf (&pb);
                  g_assert (la == lb);
                }
              oa = la->length;
              ob = lb->length;
            }
        }
      else if (oa == 0 || ob == 0)
        {
          /* A run may go on over a leaf boundary on one side only. */
          if (path_at_run_start (oa == 0 ? &pa : &pb))
            return FALSE;
        }

      n = MIN (la->length - oa, lb->length - ob);
      if (n > 0 && la->embed == NULL &&
          memcmp (la->text + oa, lb->text + ob, n * sizeof (gunichar2)) != 0)
        return FALSE;
      oa += n;
      ob += n;

      if (oa == la->length)
        {
          la = path_next (&pa);
          oa = 0;
        }
      if (ob == lb->length)
        {
          lb = path_next (&pb);
          ob = 0;
        }
      /* The lengths are equal: both end together. */
      if ((la == NULL) != (lb == NULL))
        return FALSE;
    }

  return TRUE;
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

typedef struct {
  const PatchesRopeLeaf *prev;
  gint64                 surrogates;
  gint64                 attributed;
  guint                  leaf_depth;
} CheckState;

static void
check_node (const PatchesRope     *rope,
            const PatchesRopeNode *node,
            guint                  depth,
            CheckState            *state,
            gint64                *length,
            gint64                *n_chars)
{
  *length = 0;
  *n_chars = 0;

  g_assert_cmpuint (node->n_children, <=, NODE_MAX);
  g_assert (node == rope->root || node->n_children > 0);
  g_assert_cmpint (g_atomic_int_get ((gint *) &node->ref_count), >, 0);

  for (guint i = 0; i < node->n_children; i++)
    {
      gint64 l, c;

      if (node->leaves)
        {
          const PatchesRopeLeaf *leaf = node->children[i];

          if (state->leaf_depth == 0)
            state->leaf_depth = depth;
          g_assert_cmpuint (depth, ==, state->leaf_depth);
          g_assert_cmpint (g_atomic_int_get ((gint *) &leaf->ref_count), >, 0);
          g_assert_cmpuint (leaf->length, >, 0);
          g_assert (leaf->embed != NULL || leaf->length <= leaf->capacity);
          g_assert (leaf->embed == NULL || (leaf->length == 1 && leaf->text == NULL));
          l = leaf->length;
          if (leaf->embed != NULL)
            c = 1;
          else
            {
              c = count_chars (leaf->text, leaf->length, leaf_ends_high (state->prev));
              state->surrogates += count_surrogates (leaf->text, leaf->length);
              state->attributed += leaf->attributes != NULL;
            }
          state->prev = leaf;
        }
      else
        check_node (rope, node->children[i], depth + 1, state, &l, &c);

      g_assert_cmpint (node->length[i], ==, l);
      g_assert_cmpint (node->n_chars[i], ==, c);
      *length += l;
      *n_chars += c;
    }
}

void
patches_rope_check (const PatchesRope *self)
{
  CheckState state = { NULL, 0, 0, 0 };
  gint64 length, n_chars;

  check_node (self, self->root, 1, &state, &length, &n_chars);
  g_assert_cmpint (length, ==, self->length);
  g_assert_cmpint (n_chars, ==, self->n_chars);
  g_assert_cmpint (state.surrogates, ==, self->n_surrogates);
  g_assert_cmpint (state.attributed, ==, self->n_attributed);
}
