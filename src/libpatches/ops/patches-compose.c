/* patches-compose.c
 *
 * composePatch (OPERATIONS.md §8): collapse runs of ops on the same path
 * into one op, exactly as @dabble/patches 0.28.1 does.  A utility only:
 * the sync protocol never composes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-error.h"
#include "patches-js-private.h"
#include "patches-patch-private.h"
#include "patches-pointer.h"
#include "patches-text.h"

/* One chain: the op already emitted for a path, which later ops of the
 * same kind fold into.  The reference mutates that emitted op in place
 * (§8); here the op is our own copy, referenced by the output list, so
 * editing it before the list is returned is safe. */
typedef struct {
  PatchesOp    *op;       /* borrowed from the output list */
  PatchesDelta *running;  /* @txt: the composed change, written to op when the link dies */
} ChainLink;

typedef struct {
  GHashTable *links;      /* path → ChainLink */
  GHashTable *ancestors;  /* path → number of linked paths under it */
} Chain;

static void
chain_link_free (gpointer data)
{
  ChainLink *link = data;

  /* The composed text is turned into the op's value only once, when the
   * chain for this path ends: a long run of keystrokes costs one
   * conversion, not one per op.  compose emits an op array (§6.10). */
  if (link->running != NULL)
    {
      patches_op_set_value (link->op, patches_delta_to_value (link->running));
      patches_delta_free (link->running);
    }

  g_free (link);
}

static void
chain_init (Chain *chain)
{
  chain->links = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, chain_link_free);
  chain->ancestors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
chain_clear (Chain *chain)
{
  g_clear_pointer (&chain->links, g_hash_table_unref);
  g_clear_pointer (&chain->ancestors, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Chain, chain_clear)

/* Counts @path in (or out of) the tally of every path it is under: the
 * prefixes of @path that end just before one of its `/`.  The tally lets
 * a new chain find its descendants without scanning every chain. */
static void
chain_count_ancestors (Chain      *chain,
                       const char *path,
                       int         delta)
{
  for (const char *p = strchr (path, '/'); p != NULL; p = strchr (p + 1, '/'))
    {
      g_autofree char *prefix = g_strndup (path, p - path);
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (chain->ancestors, prefix));

      if (delta > 0)
        g_hash_table_insert (chain->ancestors, g_steal_pointer (&prefix), GUINT_TO_POINTER (count + 1));
      else if (count > 1)
        g_hash_table_insert (chain->ancestors, g_steal_pointer (&prefix), GUINT_TO_POINTER (count - 1));
      else
        g_hash_table_remove (chain->ancestors, prefix);
    }
}

static void
chain_forget (Chain      *chain,
              const char *path)
{
  if (g_hash_table_contains (chain->links, path))
    {
      chain_count_ancestors (chain, path, -1);
      g_hash_table_remove (chain->links, path);
    }
}

static void
chain_forget_all (Chain *chain)
{
  g_hash_table_remove_all (chain->links);
  g_hash_table_remove_all (chain->ancestors);
}

/* A new chain at @path ends every chain on a path under it and every chain
 * on one of its ancestors: a write to an ancestor replaces the value a
 * descendant chain worked on, and a descendant is never folded into an
 * ancestor (§8). */
static void
chain_forget_related (Chain      *chain,
                      const char *path)
{
  if (g_hash_table_contains (chain->ancestors, path))
    {
      g_autoptr(GPtrArray) under = g_ptr_array_new_with_free_func (g_free);
      GHashTableIter iter;
      const char *key;

      g_hash_table_iter_init (&iter, chain->links);
      while (g_hash_table_iter_next (&iter, (gpointer *) &key, NULL))
        if (patches_pointer_is_under (key, path))
          g_ptr_array_add (under, g_strdup (key));

      for (guint i = 0; i < under->len; i++)
        chain_forget (chain, g_ptr_array_index (under, i));
    }

  for (const char *p = strchr (path, '/'); p != NULL; p = strchr (p + 1, '/'))
    {
      g_autofree char *prefix = g_strndup (path, p - path);

      chain_forget (chain, prefix);
    }
}

static void
chain_start (Chain      *chain,
             const char *path,
             PatchesOp  *op)
{
  ChainLink *link = g_new0 (ChainLink, 1);

  chain_forget (chain, path);
  link->op = op;
  g_hash_table_insert (chain->links, g_strdup (path), link);
  chain_count_ancestors (chain, path, +1);
}

static gboolean
has_compose_rule (PatchesOpKind kind)
{
  switch (kind)
    {
    case PATCHES_OP_REPLACE:
    case PATCHES_OP_INC:
    case PATCHES_OP_BIT:
    case PATCHES_OP_MAX:
    case PATCHES_OP_MIN:
    case PATCHES_OP_TXT:
      return TRUE;
    case PATCHES_OP_ADD:
    case PATCHES_OP_REMOVE:
    case PATCHES_OP_MOVE:
    case PATCHES_OP_COPY:
    case PATCHES_OP_TEST:
    case PATCHES_OP_UNKNOWN:
    default:
      return FALSE;
    }
}

/* combineMasks (§8): the low 15 bits turn flags on, the next 15 turn them
 * off; the later mask wins where both touch a flag.  JavaScript's bit
 * operators see the values through ToInt32. */
static PatchesValue *
combine_masks (const PatchesValue *a,
               const PatchesValue *b)
{
  gint32 ma = patches_js_to_int32 (patches_js_to_number (a));
  gint32 mb = patches_js_to_int32 (patches_js_to_number (b));
  gint32 a_off = (ma >> 15) & 0x7FFF;
  gint32 a_on = ma & 0x7FFF;
  gint32 b_off = (mb >> 15) & 0x7FFF;
  gint32 b_on = mb & 0x7FFF;
  gint32 on = (a_on & ~b_off) | b_on;
  gint32 off = (a_off & ~b_on) | b_off;

  return patches_value_new_number ((double) ((off << 15) | on));
}

/* The change a `@txt` op carries, or %NULL when its value is not a delta
 * (a bare op array or an `{"ops": [...]}` object, §6.10). */
static const PatchesDelta *
op_get_text_change (PatchesOp *op)
{
  if (op->value != NULL && patches_value_get_kind (op->value) == PATCHES_VALUE_TEXT)
    return patches_text_get_delta (patches_value_get_text (op->value));

  return patches_op_get_delta (op);
}

static PatchesValue *
ref_or_null (PatchesValue *value)
{
  return value != NULL ? patches_value_ref (value) : NULL;
}

/* Folds @op into the op of @link (same path, same kind).  A %NULL value
 * is JavaScript's `undefined` and goes through the operators as such. */
static gboolean
chain_fold (ChainLink  *link,
            PatchesOp  *op,
            GError    **error)
{
  PatchesOp *last = link->op;

  switch (op->kind)
    {
    case PATCHES_OP_REPLACE:
      patches_op_set_value (last, ref_or_null (op->value));
      return TRUE;

    case PATCHES_OP_INC:
      patches_op_set_value (last, patches_js_add (last->value, op->value));
      return TRUE;

    case PATCHES_OP_BIT:
      patches_op_set_value (last, combine_masks (last->value, op->value));
      return TRUE;

    case PATCHES_OP_MAX:
      /* `a > b ? a : b` */
      if (!patches_js_less_than (op->value, last->value))
        patches_op_set_value (last, ref_or_null (op->value));
      return TRUE;

    case PATCHES_OP_MIN:
      /* `a < b ? a : b` */
      if (!patches_js_less_than (last->value, op->value))
        patches_op_set_value (last, ref_or_null (op->value));
      return TRUE;

    case PATCHES_OP_TXT:
      {
        const PatchesDelta *a = link->running ? link->running : op_get_text_change (last);
        const PatchesDelta *b = op_get_text_change (op);
        PatchesDelta *composed;

        if (a == NULL || b == NULL)
          {
            g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA,
                         "Cannot compose @txt at %s: %s value is not a delta",
                         op->path, a == NULL ? "the first" : "a later");
            return FALSE;
          }

        composed = patches_delta_compose (a, b);
        g_clear_pointer (&link->running, patches_delta_free);
        link->running = composed;
        return TRUE;
      }

    case PATCHES_OP_ADD:
    case PATCHES_OP_REMOVE:
    case PATCHES_OP_MOVE:
    case PATCHES_OP_COPY:
    case PATCHES_OP_TEST:
    case PATCHES_OP_UNKNOWN:
    default:
      g_assert_not_reached ();
    }
}

/**
 * patches_ops_compose:
 * @ops: (element-type PatchesOp): a patch
 * @error: return location for a #GError
 *
 * composePatch (OPERATIONS.md §8).  Ops with a compose rule (`replace`,
 * `@inc`, `@bit`, `@max`, `@min`, `@txt`) fold into the op emitted for
 * their path when that op has the same kind; ops on other paths do not
 * break a chain, any op without a rule ends them all, and a new chain
 * ends the chains of its ancestors and descendants.  `move`/`copy` ops
 * whose `from` equals their `path` vanish (§7.3).
 *
 * Returns: (transfer full) (element-type PatchesOp) (nullable): the
 *   composed ops, or %NULL with @error set to %PATCHES_ERROR_INVALID_DELTA
 *   when two `@txt` ops fold and a value is not a delta (the reference
 *   throws there)
 */
GPtrArray *
patches_ops_compose (GPtrArray  *ops,
                     GError    **error)
{
  g_autoptr(GPtrArray) out = patches_ops_new ();
  g_auto(Chain) chain = { 0 };

  g_return_val_if_fail (ops != NULL, NULL);

  chain_init (&chain);

  for (guint i = 0; i < ops->len; i++)
    {
      PatchesOp *op = g_ptr_array_index (ops, i);
      const char *path = op->path != NULL ? op->path : "";
      ChainLink *link;
      PatchesOp *copy;

      /* WALK step 1: a move or copy onto itself is a no-op. */
      if (op->from != NULL && strcmp (op->from, path) == 0)
        continue;

      if (!has_compose_rule (op->kind))
        {
          chain_forget_all (&chain);
          g_ptr_array_add (out, patches_op_ref (op));
          continue;
        }

      link = g_hash_table_lookup (chain.links, path);
      if (link != NULL && link->op->kind == op->kind)
        {
          if (!chain_fold (link, op, error))
            return NULL;
          continue;
        }

      /* A chain keeps every field of its first op but `value` (so `soft`
       * stays), hence the copy. */
      chain_forget_related (&chain, path);
      copy = patches_op_copy (op);
      g_ptr_array_add (out, copy);
      chain_start (&chain, path, copy);
    }

  /* Ending the chains writes the composed text values. */
  chain_clear (&chain);

  return g_steal_pointer (&out);
}

/**
 * patches_patch_compose:
 * @self: a patch
 * @error: return location for a #GError
 *
 * Collapses runs of ops on the same path into one op, as the reference's
 * composePatch() does (see patches_ops_compose()).
 *
 * Returns: (transfer full) (nullable): the composed patch, or %NULL with
 *   @error set to %PATCHES_ERROR_INVALID_DELTA when two `@txt` ops on the
 *   same path would fold and one of their values is not a delta
 */
PatchesPatch *
patches_patch_compose (const PatchesPatch  *self,
                       GError             **error)
{
  GPtrArray *ops;

  g_return_val_if_fail (self != NULL, NULL);

  ops = patches_ops_compose (patches_patch_get_ops (self), error);
  if (ops == NULL)
    return NULL;

  return patches_patch_new_take (ops);
}
