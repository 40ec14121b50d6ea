/* patches-transform.c: transformPatch with a null document
 *
 * Rewrites a list of ops ("other") so that it applies after another list
 * ("this"), computing exactly what @dabble/patches 0.28.1 computes with
 * `transformPatch(null, thisOps, otherOps, otherOpsFirst)`.  The procedure
 * names below (WALK, SHIFT, CLOBBER, GONE, SOFTMERGE, MOVE, FIND_KILLER,
 * TEXTMERGE) are those of OPERATIONS.md §7.
 *
 * Only the null-document behaviour exists here: every protocol path passes
 * null (§7.2), so a path is an array path iff its last key is a canonical
 * integer and `move` never takes the same-array route of §7.7.5.
 *
 * Ops are immutable and shared by reference: an op that changes is copied
 * first, an op that does not is passed on with a new reference.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "patches-patch-private.h"
#include "patches-pointer.h"

typedef struct {
  gboolean oof;   /* otherOpsFirst, §7.9 */
} Transform;

/* The running earlier delta of TEXTMERGE (§7.8). */
typedef struct {
  const PatchesDelta *running;
  PatchesDelta       *owned;
} TextMerge;

/* A slice of an op list (borrowed). */
typedef struct {
  PatchesOp * const *v;
  guint              n;
} Ops;

static GPtrArray *transform_one (Transform *tr, PatchesOp *t, Ops ops);
static GPtrArray *shift_ops     (Transform *tr, const char *this_path, Ops ops,
                                 int modifier, gboolean is_remove);
static GPtrArray *clobber_ops   (Transform *tr, const char *this_path, Ops ops,
                                 gboolean in_place, TextMerge *merge, PatchesOp *winner);
static GPtrArray *move_ops      (Transform *tr, PatchesOp *t, const char *from,
                                 const char *path, Ops ops);

/* Small helpers {{{ */

static inline Ops
ops_of (GPtrArray *array)
{
  return (Ops) { (PatchesOp * const *) array->pdata, array->len };
}

static inline Ops
ops_tail (Ops ops,
          guint start)
{
  if (start >= ops.n)
    return (Ops) { NULL, 0 };
  return (Ops) { ops.v + start, ops.n - start };
}

/* An op's path; hand-made ops might lack one, which then matches nothing
 * but the empty path. */
static inline const char *
op_path (const PatchesOp *op)
{
  return op->path != NULL ? op->path : "";
}

/* JavaScript `a === b` where either may be undefined (NULL) and undefined
 * is only ever compared with strings. */
static inline gboolean
str_eq (const char *a,
        const char *b)
{
  return a != NULL && b != NULL && strcmp (a, b) == 0;
}

/* `s.startsWith(prefix + "/")`, i.e. @s is under @prefix. */
static inline gboolean
str_under (const char *s,
           const char *prefix)
{
  return s != NULL && prefix != NULL && patches_pointer_is_under (s, prefix);
}

static inline gboolean
str_has_prefix (const char *s,
                const char *prefix)
{
  return s != NULL && strncmp (s, prefix, strlen (prefix)) == 0;
}

/* WALK step 1 (§7.3): a move/copy onto its own source is a no-op. */
static inline gboolean
op_is_noop_move (const PatchesOp *op)
{
  return str_eq (op->from, op_path (op));
}

/* isInsertLike(op, "path") of §7.3. */
static inline gboolean
op_is_insert_like (const PatchesOp *op)
{
  PatchesOpKind like = patches_op_like (op);

  return like == PATCHES_OP_ADD || like == PATCHES_OP_COPY || like == PATCHES_OP_MOVE;
}

static inline gboolean
is_array_path (const char *path)
{
  return path != NULL && patches_pointer_is_array_path (path);
}

/* HARDSET(op, P) of §7.5: @op unconditionally sets a whole new value at
 * @path (an insert at an array index or an append does not). */
static gboolean
op_is_hard_set (const PatchesOp *op,
                const char      *path)
{
  PatchesOpKind like;

  if (!str_eq (op_path (op), path) || patches_op_is_soft (op))
    return FALSE;

  like = patches_op_like (op);
  if (like == PATCHES_OP_REPLACE)
    return TRUE;
  if (like == PATCHES_OP_ADD || like == PATCHES_OP_COPY || like == PATCHES_OP_MOVE)
    return !is_array_path (path) && !g_str_has_suffix (path, "/-");
  return FALSE;
}

/* INDEX_AT(p, start) of §7.3: the key of @p starting at @start, when it is
 * a canonical array index.  Indexes are JavaScript numbers (doubles), so
 * absurdly long keys round and print the way the reference's do. */
static gboolean
index_at (const char *p,
          gsize       start,
          double     *index,
          gsize      *end)
{
  const char *key;
  const char *slash;
  gsize len;

  if (p == NULL || *p == '\0' || start == 0 || strlen (p) < start || p[start - 1] != '/')
    return FALSE;

  key = p + start;
  slash = strchr (key, '/');
  len = slash != NULL ? (gsize) (slash - key) : strlen (key);

  if (len == 0 || (key[0] == '0' && len > 1))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (key[i]))
      return FALSE;

  if (len <= 15)
    {
      guint64 v = 0;

      for (gsize i = 0; i < len; i++)
        v = v * 10 + (guint64) (key[i] - '0');
      *index = (double) v;
    }
  else
    {
      /* g_ascii_strtod() stops at the '/' that ends the key */
      *index = g_ascii_strtod (key, NULL);
    }

  if (end != NULL)
    *end = start + len;

  return TRUE;
}

/* Appends a JavaScript number used as an array index. */
static void
append_index (GString *out,
              double   index)
{
  if (index == floor (index) && fabs (index) < 9007199254740992.0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, (gint64) index);
  else
    patches_js_append_number (out, index);
}

static GPtrArray *
ops_ref_all (Ops ops)
{
  GPtrArray *out = g_ptr_array_new_full (ops.n, (GDestroyNotify) patches_op_unref);

  for (guint i = 0; i < ops.n; i++)
    g_ptr_array_add (out, patches_op_ref (ops.v[i]));

  return out;
}

/* Appends the rest of the input verbatim (STOP-KEEP, §7.3). */
static void
append_rest (GPtrArray *out,
             Ops        ops,
             guint      start)
{
  for (guint i = start; i < ops.n; i++)
    g_ptr_array_add (out, patches_op_ref (ops.v[i]));
}

/* Appends a list a visitor returned (never filtered, §7.3). */
static void
append_take (GPtrArray *out,
             GPtrArray *list)
{
  if (list == NULL)
    return;
  for (guint i = 0; i < list->len; i++)
    g_ptr_array_add (out, patches_op_ref (g_ptr_array_index (list, i)));
  g_ptr_array_unref (list);
}

/* Appends one op a visitor returned: a single op whose `from` equals its
 * `path` is dropped (WALK step 2, §7.3). */
static void
append_single (GPtrArray *out,
               PatchesOp *op)
{
  if (op == NULL)
    return;
  if (op_is_noop_move (op))
    {
      patches_op_unref (op);
      return;
    }
  g_ptr_array_add (out, op);
}

/* A fresh `{"op":"remove","path":path}`. */
static PatchesOp *
remove_op_new (const char *path)
{
  return patches_op_new (PATCHES_OP_REMOVE, path, NULL, NULL);
}

static PatchesOp *
op_copy_with_path (const PatchesOp *op,
                   const char      *path)
{
  PatchesOp *copy = patches_op_copy (op);

  patches_op_set_path (copy, path);
  return copy;
}

static PatchesOp *
op_copy_with_from (const PatchesOp *op,
                   const char      *from)
{
  PatchesOp *copy = patches_op_copy (op);

  patches_op_set_from (copy, from);
  return copy;
}

/* }}} */

/* GONE and SOFTMERGE {{{ */

/* GONE(P, L, isRemove) of §7.5: what the later ops see when the value at
 * @path disappeared. */
static GPtrArray *
gone_ops (Transform  *tr,
          const char *path,
          Ops         ops,
          gboolean    is_remove)
{
  if (is_array_path (path))
    return shift_ops (tr, path, ops, -1, is_remove);
  return clobber_ops (tr, path, ops, FALSE, NULL, NULL);
}

/* SOFTMERGE(P, L, v) of §7.6: two clients that both initialise a
 * container with an empty one of the same kind do not clobber each
 * other's children. */
static GPtrArray *
softmerge_ops (const char         *path,
               Ops                 ops,
               const PatchesValue *value)
{
  gboolean value_is_array = patches_value_get_kind (value) == PATCHES_VALUE_ARRAY;
  GPtrArray *out = patches_ops_new ();

  for (guint i = 0; i < ops.n; i++)
    {
      PatchesOp *op = ops.v[i];

      if (op_is_noop_move (op))
        continue;

      if (op->kind == PATCHES_OP_ADD &&
          str_eq (op_path (op), path) &&
          patches_value_is_empty_container (op->value) &&
          (patches_value_get_kind (op->value) == PATCHES_VALUE_ARRAY) == value_is_array)
        continue;

      g_ptr_array_add (out, patches_op_ref (op));
    }

  return out;
}

/* }}} */

/* SHIFT {{{ */

/* SHIFT_ONE(op, field, prefix, k, d) of §7.4.  Returns the op to keep
 * (a new reference, possibly a copy) or %NULL to drop it.  When a
 * like-replace op other than `replace` lands on the removed element,
 * *@placeholder receives the `add null` that must precede it. */
static PatchesOp *
shift_one (PatchesOp   *op,
           gboolean     field_is_from,
           const char  *prefix,
           gsize        prefix_len,
           double       this_index,
           int          modifier,
           PatchesOp  **placeholder)
{
  const char *v = field_is_from ? op->from : op->path;
  PatchesOpKind like = patches_op_like (op);
  gboolean insert_like = !field_is_from && op_is_insert_like (op);
  double other_index;
  double from_index;
  gsize end;
  gboolean whole;

  if (v == NULL || *v == '\0' || strncmp (v, prefix, prefix_len) != 0)
    return patches_op_ref (op);

  /* Non-numeric keys (an append at /arr/-) have no index to shift */
  if (!index_at (v, prefix_len, &other_index, &end))
    return patches_op_ref (op);

  /* A move upwards in the array removes its element below this index
   * first, so the insertion point is one lower in that frame. */
  if (like == PATCHES_OP_MOVE && !field_is_from &&
      str_has_prefix (op->from, prefix) &&
      index_at (op->from, prefix_len, &from_index, NULL) &&
      from_index < other_index)
    this_index -= 1;

  if (other_index < this_index)
    return patches_op_ref (op);

  whole = v[end] == '\0';

  if (other_index == this_index && modifier == -1)
    {
      /* The very element that was removed */
      if (whole)
        {
          if (insert_like)
            return patches_op_ref (op);   /* re-inserting into the gap */

          if (op->kind == PATCHES_OP_REPLACE)
            {
              PatchesOp *copy = patches_op_copy (op);

              copy->kind = PATCHES_OP_ADD;
              g_free (copy->name);
              copy->name = g_strdup ("add");
              return copy;
            }

          if (like == PATCHES_OP_REPLACE)
            {
              /* @inc, @txt, … keep their target by re-creating the slot */
              *placeholder = patches_op_new (PATCHES_OP_ADD, op_path (op), NULL,
                                             patches_value_new_null ());
              return patches_op_ref (op);
            }
        }

      return NULL;
    }

  if (insert_like && other_index == this_index && whole)
    {
      /* Same-index insert: the later one is not shifted (§7.1) */
      if (patches_op_is_soft (op))
        return NULL;
      return patches_op_ref (op);
    }

  {
    g_autoptr(GString) shifted = g_string_new_len (v, prefix_len);

    append_index (shifted, other_index + modifier);
    g_string_append (shifted, v + end);

    return field_is_from ? op_copy_with_from (op, shifted->str)
                         : op_copy_with_path (op, shifted->str);
  }
}

/* ADVANCE(k, o, prefix, d) of §7.4: moves the tracked index into the frame
 * after the original other op @o.  Sets *@stop_keep when the rest of the
 * list already works in a frame where this op's effect is accounted for. */
static double
advance_index (const char      *prefix,
               gsize            prefix_len,
               double           index,
               int              modifier,
               const PatchesOp *o,
               gboolean        *stop_keep)
{
  PatchesOpKind like = patches_op_like (o);
  const char *path = op_path (o);
  double other_index;
  gsize end;

  /* The remove half of a move happens before its add half */
  if (like == PATCHES_OP_MOVE && str_has_prefix (o->from, prefix))
    {
      double from_index;

      if (index_at (o->from, prefix_len, &from_index, &end) &&
          o->from[end] == '\0' &&
          from_index < index)
        index -= 1;
    }

  if (strncmp (path, prefix, prefix_len) != 0)
    return index;
  if (!index_at (path, prefix_len, &other_index, &end) || path[end] != '\0')
    return index;

  if (op_is_insert_like (o))
    {
      if (other_index <= index)
        index += 1;
    }
  else if (like == PATCHES_OP_REMOVE)
    {
      if (other_index < index)
        index -= 1;
      else if (other_index == index && modifier == -1)
        *stop_keep = TRUE;   /* both removed the same element */
    }
  else if (modifier == -1 && other_index == index && like == PATCHES_OP_REPLACE)
    {
      *stop_keep = TRUE;     /* the other side wrote into the hole */
    }

  return index;
}

/* SHIFT(P, L, d, isRemove) of §7.4: the earlier op inserted (@modifier
 * +1) or removed (-1) the array element at @this_path. */
static GPtrArray *
shift_ops (Transform  *tr,
           const char *this_path,
           Ops         ops,
           int         modifier,
           gboolean    is_remove)
{
  const char *last_slash = strrchr (this_path, '/');
  gsize prefix_len = last_slash != NULL ? (gsize) (last_slash - this_path) + 1 : 0;
  g_autofree char *prefix = g_strndup (this_path, prefix_len);
  g_autoptr(GString) here = g_string_new (NULL);
  GPtrArray *out = patches_ops_new ();
  double index;

  if (!index_at (this_path, prefix_len, &index, NULL))
    {
      /* Callers only shift at array paths; be safe with anything else */
      append_rest (out, ops, 0);
      return out;
    }

  for (guint i = 0; i < ops.n; i++)
    {
      PatchesOp *op = ops.v[i];
      PatchesOp *placeholder = NULL;
      PatchesOp *result;
      gboolean stop_keep = FALSE;

      if (op_is_noop_move (op))
        continue;

      g_string_truncate (here, 0);
      g_string_append_len (here, prefix, prefix_len);
      append_index (here, index);

      if (is_remove && str_eq (op->from, here->str))
        {
          PatchesOpKind like = patches_op_like (op);

          /* The moved/copied value no longer exists: drop the op and treat
           * the rest as if its destination had been removed as well. */
          if (like == PATCHES_OP_MOVE)
            {
              append_take (out, gone_ops (tr, op_path (op), ops_tail (ops, i + 1), FALSE));
              return out;
            }
          if (like == PATCHES_OP_COPY)
            {
              g_autoptr(GPtrArray) rest = gone_ops (tr, here->str, ops_tail (ops, i + 1), FALSE);

              append_take (out, gone_ops (tr, op_path (op), ops_of (rest), FALSE));
              return out;
            }
        }

      if (patches_op_is_soft (op) && op_is_insert_like (op) && str_eq (op_path (op), here->str))
        {
          append_rest (out, ops, i + 1);
          return out;
        }

      result = shift_one (op, TRUE, prefix, prefix_len, index, modifier, &placeholder);
      if (result != NULL && placeholder == NULL)
        {
          PatchesOp *next = shift_one (result, FALSE, prefix, prefix_len, index, modifier,
                                       &placeholder);
          patches_op_unref (result);
          result = next;
        }

      index = advance_index (prefix, prefix_len, index, modifier, op, &stop_keep);

      if (placeholder != NULL)
        {
          /* A returned pair is a list: not subject to the from == path filter */
          g_ptr_array_add (out, placeholder);
          g_ptr_array_add (out, result);
        }
      else
        append_single (out, result);

      if (stop_keep)
        {
          append_rest (out, ops, i + 1);
          return out;
        }
    }

  return out;
}

/* }}} */

/* TEXTMERGE {{{ */

static void
text_merge_init (TextMerge *tm,
                 PatchesOp *t)
{
  tm->running = patches_op_get_delta (t);
  tm->owned = NULL;
}

static void
text_merge_clear (TextMerge *tm)
{
  g_clear_pointer (&tm->owned, patches_delta_free);
  tm->running = NULL;
}

/* TEXTMERGE(op) of §7.8: the later @txt is transformed against the
 * earlier delta (which wins ties), and the earlier delta is advanced past
 * the later one so the next later @txt meets it in the right frame.
 * Returns %NULL when either side is not a delta. */
static PatchesOp *
text_merge (TextMerge *tm,
            PatchesOp *op)
{
  const PatchesDelta *other = patches_op_get_delta (op);
  PatchesDelta *transformed;
  PatchesDelta *advanced;
  PatchesOp *result;

  if (tm->running == NULL || other == NULL)
    return NULL;

  transformed = patches_delta_transform (tm->running, other, TRUE);
  advanced = patches_delta_transform (other, tm->running, FALSE);
  g_clear_pointer (&tm->owned, patches_delta_free);
  tm->owned = advanced;
  tm->running = advanced;

  /* The merged value is always an op array, whatever shape came in; any
   * other member of the op (soft, from, ts, …) is kept. */
  if (op->from == NULL && op->soft == NULL && op->extra == NULL &&
      op->path != NULL && strcmp (op->name, "@txt") == 0)
    return patches_op_new_text (op->path, transformed);

  result = patches_op_copy (op);
  patches_op_set_value (result, patches_delta_to_value (transformed));
  patches_delta_free (transformed);

  return result;
}

/* }}} */

/* CLOBBER {{{ */

typedef struct {
  const char *path;         /* P */
  PatchesOp  *superseded;   /* (OOF) held later-losing set, borrowed */
  PatchesOp  *owed_remove;  /* (OOF) `remove <from>` a held move owes */
  GPtrArray  *trailing;     /* (OOF) buffered in-place edits of the held value */
} Clobber;

/* RELEASE of §7.9: forget the held set; returns the owed remove, if any. */
static PatchesOp *
clobber_release (Clobber *cl)
{
  PatchesOp *owed = g_steal_pointer (&cl->owed_remove);

  cl->superseded = NULL;
  if (cl->trailing != NULL)
    g_ptr_array_set_size (cl->trailing, 0);

  return owed;
}

/* TOUCHES of §7.9: @op's path or from equals, is under or is an ancestor
 * of the held op's source. */
static gboolean
clobber_touches_source (Clobber         *cl,
                        const PatchesOp *op)
{
  const char *src = cl->superseded != NULL ? cl->superseded->from : NULL;
  const char *fields[2] = { op_path (op), op->from };

  if (src == NULL || *src == '\0')
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      const char *p = fields[i];

      if (p != NULL && *p != '\0' &&
          (strcmp (p, src) == 0 || str_under (p, src) || str_under (src, p)))
        return TRUE;
    }

  return FALSE;
}

/* Whether a superseded set can be held and composed with a later escape:
 * literal sets compose by value, copy/move by reference only when their
 * source is disjoint from P. */
static gboolean
clobber_is_composable (Clobber         *cl,
                       const PatchesOp *op)
{
  if (op->kind == PATCHES_OP_ADD || op->kind == PATCHES_OP_REPLACE)
    return TRUE;
  if (op->kind == PATCHES_OP_COPY || op->kind == PATCHES_OP_MOVE)
    return op->from != NULL && *op->from != '\0' &&
           !str_under (op->from, cl->path) &&
           !str_under (cl->path, op->from);
  return FALSE;
}

/* Re-roots a buffered edit of the held value from P onto @dest. */
static PatchesOp *
clobber_reroot (Clobber         *cl,
                const PatchesOp *op,
                const char      *dest)
{
  gsize len = strlen (cl->path);
  PatchesOp *copy = patches_op_copy (op);

  if (str_under (op_path (op), cl->path))
    {
      g_autofree char *p = g_strconcat (dest, op_path (op) + len, NULL);
      patches_op_set_path (copy, p);
    }
  if (str_under (op->from, cl->path))
    {
      g_autofree char *f = g_strconcat (dest, op->from + len, NULL);
      patches_op_set_from (copy, f);
    }

  return copy;
}

/* emit() of CLOBBER: what a visit returns, preceded by an op flushed before
 * it.  @single and @list are the visit's result (at most one is set). */
static void
clobber_emit (GPtrArray *out,
              PatchesOp *flushed,
              PatchesOp *single,
              GPtrArray *list)
{
  if (flushed == NULL)
    {
      if (list != NULL)
        append_take (out, list);
      else
        append_single (out, single);
      return;
    }

  if (single == NULL && list == NULL)
    {
      append_single (out, flushed);
      return;
    }

  /* [flushed, ...value] is a list, so nothing in it is filtered */
  g_ptr_array_add (out, flushed);
  if (list != NULL)
    append_take (out, list);
  else
    g_ptr_array_add (out, single);
}

/* The composition of the held set with a later move/copy from P (the
 * "escape" of §7.9).  Returns %TRUE and appends to @out when composition
 * is possible. */
static gboolean
clobber_escape (Clobber   *cl,
                PatchesOp *op,
                PatchesOp *flushed,
                GPtrArray *out)
{
  PatchesOpKind like = patches_op_like (op);
  PatchesOp *held = cl->superseded;
  const char *dest = op_path (op);
  g_autoptr(PatchesOp) composed = NULL;
  GPtrArray *result;

  if (held->kind == PATCHES_OP_ADD || held->kind == PATCHES_OP_REPLACE)
    {
      composed = patches_op_new (PATCHES_OP_ADD, dest, NULL,
                                 held->value != NULL ? patches_value_ref (held->value) : NULL);
    }
  else
    {
      /* A copy escape must not consume the source: only a move escape of a
       * held move whose source removal is still owed composes into a move. */
      PatchesOpKind kind = (held->kind == PATCHES_OP_MOVE && like == PATCHES_OP_MOVE &&
                            cl->owed_remove != NULL) ? PATCHES_OP_MOVE : PATCHES_OP_COPY;

      composed = patches_op_new (kind, dest, held->from, NULL);
    }

  if (composed->from != NULL && *composed->from != '\0' &&
      (str_under (composed->path, composed->from) || str_under (composed->from, composed->path)))
    return FALSE;   /* entangled: rule C's normal dropping applies */

  result = patches_ops_new ();

  /* A composed move/copy back onto its own source is a no-op, and the
   * value is back home, so no removal of the source is owed any more. */
  if (str_eq (composed->from, composed->path))
    g_clear_pointer (&cl->owed_remove, patches_op_unref);
  else
    g_ptr_array_add (result, g_steal_pointer (&composed));

  for (guint i = 0; i < cl->trailing->len; i++)
    g_ptr_array_add (result, clobber_reroot (cl, g_ptr_array_index (cl->trailing, i), dest));

  if (like == PATCHES_OP_MOVE)
    {
      PatchesOp *flush;

      /* The value escaped: P is gone in the earlier patch's frame */
      if (held->kind == PATCHES_OP_MOVE)
        g_clear_pointer (&cl->owed_remove, patches_op_unref);
      flush = clobber_release (cl);
      if (flush != NULL)
        g_ptr_array_add (result, flush);
    }

  clobber_emit (out, flushed, NULL, result);
  return TRUE;
}

/* CLOBBER(P, L, inPlace, merge, winner) of §7.5, with the OOF state
 * machine of §7.9. */
static GPtrArray *
clobber_ops (Transform  *tr,
             const char *this_path,
             Ops         ops,
             gboolean    in_place,
             TextMerge  *merge,
             PatchesOp  *winner)
{
  Clobber cl = { this_path, NULL, NULL, NULL };
  gboolean soft_seen = FALSE;
  gboolean winning = tr->oof && winner != NULL && op_is_hard_set (winner, this_path);
  gboolean can_compose = winning && !is_array_path (this_path);
  GPtrArray *out = patches_ops_new ();

  if (winning)
    cl.trailing = patches_ops_new ();

  for (guint i = 0; i < ops.n; i++)
    {
      PatchesOp *op = ops.v[i];
      PatchesOpKind like = patches_op_like (op);
      const char *path = op_path (op);
      const char *from = op->from;
      gboolean can_merge = merge != NULL && op->kind == PATCHES_OP_TXT;
      gboolean is_escape;
      PatchesOp *flushed = NULL;

      if (op_is_noop_move (op))
        continue;

      /* (OOF) An op touching a held move's source consumes or recreates it:
       * the owed removal must land before it.  Escapes are handled below. */
      is_escape = !in_place && str_eq (from, this_path) &&
                  (like == PATCHES_OP_MOVE || like == PATCHES_OP_COPY);
      if (cl.superseded != NULL && !is_escape && clobber_touches_source (&cl, op))
        flushed = clobber_release (&cl);

      /* A. another write exactly at P */
      if (strcmp (path, this_path) == 0 && like != PATCHES_OP_REMOVE &&
          !can_merge && !patches_op_is_soft (op))
        {
          if (winning && op_is_hard_set (op, this_path))
            {
              /* (OOF) The committed set is superseded by the queue's */
              PatchesOp *prior = clobber_release (&cl);
              PatchesOp *residual = NULL;

              if (can_compose && clobber_is_composable (&cl, op))
                {
                  cl.superseded = op;
                  if (op->kind == PATCHES_OP_MOVE)
                    cl.owed_remove = remove_op_new (op->from);
                  clobber_emit (out, flushed, prior, NULL);
                  continue;
                }

              /* A losing move-in still consumed its source */
              if (like == PATCHES_OP_MOVE && from != NULL)
                residual = remove_op_new (from);

              if (prior != NULL && residual != NULL)
                {
                  GPtrArray *pair = patches_ops_new ();

                  g_ptr_array_add (pair, prior);
                  g_ptr_array_add (pair, residual);
                  clobber_emit (out, flushed, NULL, pair);
                }
              else
                clobber_emit (out, flushed, prior != NULL ? prior : residual, NULL);
              continue;
            }

          /* The later ops were written against this new value: keep them */
          if (op->kind != PATCHES_OP_TEST)
            {
              PatchesOp *owed = cl.superseded != NULL ? clobber_release (&cl) : NULL;

              if (owed != NULL)
                {
                  g_clear_pointer (&flushed, patches_op_unref);
                  flushed = owed;
                }
              clobber_emit (out, flushed, patches_op_ref (op), NULL);
              append_rest (out, ops, i + 1);
              goto done;
            }

          if (cl.superseded != NULL)
            {
              PatchesOp *owed = clobber_release (&cl);

              if (owed != NULL)
                {
                  g_clear_pointer (&flushed, patches_op_unref);
                  flushed = owed;
                }
            }
          clobber_emit (out, flushed, patches_op_ref (op), NULL);
          continue;
        }

      /* B. text merge */
      if (can_merge && strcmp (path, this_path) == 0)
        {
          PatchesOp *merged = text_merge (merge, op);

          if (merged != NULL)
            {
              clobber_emit (out, flushed, merged, NULL);
              continue;
            }
        }

      /* C. the value at P is moved or copied away */
      if (!in_place && str_eq (from, this_path))
        {
          if (cl.superseded != NULL && (like == PATCHES_OP_MOVE || like == PATCHES_OP_COPY))
            {
              if (clobber_escape (&cl, op, flushed, out))
                continue;
            }

          if (like == PATCHES_OP_MOVE)
            {
              clobber_emit (out, flushed, NULL,
                            gone_ops (tr, path, ops_tail (ops, i + 1), FALSE));
              goto done;
            }
          if (like == PATCHES_OP_COPY)
            {
              g_autoptr(GPtrArray) rest = gone_ops (tr, this_path, ops_tail (ops, i + 1), FALSE);

              clobber_emit (out, flushed, NULL, gone_ops (tr, path, ops_of (rest), FALSE));
              goto done;
            }
        }

      /* D. a soft write at P: later ops under P now merge into the value */
      if (patches_op_is_soft (op) && strcmp (path, this_path) == 0)
        {
          soft_seen = TRUE;
          clobber_emit (out, flushed, NULL, NULL);
          continue;
        }

      /* E. ops on or under P */
      if ((!in_place && strcmp (path, this_path) == 0) ||
          (!soft_seen && str_under (path, this_path)) ||
          (!in_place && str_eq (from, this_path)) ||
          (!soft_seen && str_under (from, this_path)))
        {
          if (cl.superseded != NULL)
            {
              if (strcmp (path, this_path) == 0 && like == PATCHES_OP_REMOVE)
                {
                  /* The held value was removed before it could escape */
                  clobber_emit (out, flushed, clobber_release (&cl), NULL);
                  continue;
                }

              if (str_under (path, this_path) &&
                  (from == NULL || *from == '\0' || str_under (from, this_path)))
                {
                  /* An in-place edit of the held value: buffer it */
                  g_ptr_array_add (cl.trailing, patches_op_ref (op));
                  clobber_emit (out, flushed, NULL, NULL);
                  continue;
                }

              clobber_emit (out, flushed, clobber_release (&cl), NULL);
              continue;
            }

          clobber_emit (out, flushed, NULL, NULL);
          continue;
        }

      clobber_emit (out, flushed, patches_op_ref (op), NULL);
    }

done:
  /* A held move's source removal that was never emitted is still owed */
  if (cl.owed_remove != NULL)
    g_ptr_array_add (out, g_steal_pointer (&cl.owed_remove));
  g_clear_pointer (&cl.trailing, g_ptr_array_unref);

  return out;
}

/* }}} */

/* MOVE {{{ */

/* MARK of §7.7.5: a `$` makes a path invisible to SHIFT and CLOBBER. */
static PatchesOp *
mark_op (const PatchesOp *op)
{
  PatchesOp *copy = patches_op_copy (op);
  g_autofree char *path = g_strconcat ("$", op_path (op), NULL);

  patches_op_set_path (copy, path);
  if (op->from != NULL && *op->from != '\0')
    {
      g_autofree char *from = g_strconcat ("$", op->from, NULL);
      patches_op_set_from (copy, from);
    }

  return copy;
}

static GPtrArray *
mark_all (Ops ops)
{
  GPtrArray *out = patches_ops_new ();

  for (guint i = 0; i < ops.n; i++)
    g_ptr_array_add (out, mark_op (ops.v[i]));

  return out;
}

/* The reference relocates with `value.replace(from, to)`, a String.replace
 * whose replacement string interprets `$$`, `$&`, `` $` `` and `$'`.  The
 * match is always at the start of @value. */
static void
append_replacement (GString    *out,
                    const char *value,
                    const char *from,
                    const char *to)
{
  gsize from_len = strlen (from);

  for (const char *p = to; *p != '\0'; p++)
    {
      if (*p == '$')
        {
          switch (p[1])
            {
            case '$':
              g_string_append_c (out, '$');
              p++;
              continue;
            case '&':
              g_string_append (out, from);
              p++;
              continue;
            case '`':
              p++;      /* nothing precedes a match at 0 */
              continue;
            case '\'':
              g_string_append (out, value + from_len);
              p++;
              continue;
            default:
              break;
            }
        }
      g_string_append_c (out, *p);
    }

  g_string_append (out, value + from_len);
}

/* RELOCATE(op, field) of §7.7.5: ops on the moved value follow it to its
 * destination, marked so the later shifting leaves them alone. */
static PatchesOp *
relocate (PatchesOp  *op,
          gboolean    field_is_from,
          const char *from,
          const char *to)
{
  const char *v = field_is_from ? op->from : op->path;
  g_autoptr(GString) moved = NULL;
  PatchesOp *copy;

  if (v == NULL || *v == '\0')
    return op;

  /* A new value put into the vacated place stays there */
  if (!field_is_from && op_is_insert_like (op) && str_eq (op->path, from))
    return op;

  if (!(strcmp (v, from) == 0 || str_under (v, from)))
    return op;

  moved = g_string_new ("$");
  append_replacement (moved, v, from, to);

  copy = patches_op_copy (op);
  if (field_is_from)
    patches_op_set_from (copy, moved->str);
  else
    patches_op_set_path (copy, moved->str);
  patches_op_unref (op);

  return copy;
}

/* UNMARK of §7.7.5: strip one leading `$` from path and from. */
static GPtrArray *
unmark_ops (Ops ops)
{
  GPtrArray *out = patches_ops_new ();

  for (guint i = 0; i < ops.n; i++)
    {
      PatchesOp *op = ops.v[i];
      gboolean path_marked = op->path != NULL && op->path[0] == '$';
      gboolean from_marked = op->from != NULL && op->from[0] == '$';
      PatchesOp *copy;

      if (op_is_noop_move (op))
        continue;

      if (!path_marked && !from_marked)
        {
          g_ptr_array_add (out, patches_op_ref (op));
          continue;
        }

      copy = patches_op_copy (op);
      if (path_marked)
        patches_op_set_path (copy, op->path + 1);
      if (from_marked)
        patches_op_set_from (copy, op->from + 1);
      append_single (out, copy);
    }

  return out;
}

typedef enum {
  KILLER_NONE,
  KILLER_MOVE,
  KILLER_SET,
} KillerKind;

/* FIND_KILLER(L, F) of §7.9: simulates the mirror half of the diamond to
 * learn whether the queue move from @from dies there, and by which op
 * (returned as its index in @ops, -1 for none). */
static int
find_killer (Ops         ops,
             const char *from,
             KillerKind *kind)
{
  const char *src = from;
  int followed = -1;

  *kind = KILLER_NONE;

  for (guint i = 0; i < ops.n; i++)
    {
      PatchesOp *op = ops.v[i];
      PatchesOpKind like = patches_op_like (op);
      const char *path = op_path (op);
      gboolean exact = FALSE;
      gboolean kills;

      if (like == PATCHES_OP_MOVE && str_eq (op->from, src))
        {
          if (followed < 0)
            followed = (int) i;
          src = path;
          continue;
        }

      if (strcmp (path, src) == 0 && !patches_op_is_soft (op))
        {
          if (strcmp (src, from) == 0)
            exact = (op_is_insert_like (op) || op->kind == PATCHES_OP_REPLACE) &&
                    !is_array_path (src);
          else
            exact = op->kind == PATCHES_OP_REPLACE ||
                    (op_is_insert_like (op) && !is_array_path (src));
        }

      kills = exact ||
              (*path != '\0' && str_under (src, path) && op_is_hard_set (op, path)) ||
              (like == PATCHES_OP_REMOVE &&
               (str_under (src, path) || (strcmp (path, src) == 0 && strcmp (src, from) != 0)));

      if (kills)
        {
          if (followed >= 0)
            {
              *kind = KILLER_MOVE;
              return followed;
            }
          *kind = KILLER_SET;
          return (int) i;
        }
    }

  return -1;
}

/* MOVE(t, L) of §7.7.5 with the OOF rules of §7.9.  @t is the move op (it
 * may be synthetic), moving @from to @path. */
static GPtrArray *
move_ops (Transform  *tr,
          PatchesOp  *t,
          const char *from,
          const char *path,
          Ops         ops)
{
  g_autoptr(GPtrArray) walked = NULL;
  g_autoptr(GPtrArray) removed_from = NULL;
  g_autoptr(GPtrArray) inserted = NULL;
  KillerKind killer_kind = KILLER_NONE;
  int killer = -1;
  gboolean removed = FALSE;

  if (strcmp (from, path) == 0)
    return ops_ref_all (ops);

  if (tr->oof)
    killer = find_killer (ops, from, &killer_kind);

  walked = patches_ops_new ();

  for (guint i = 0; i < ops.n; i++)
    {
      PatchesOp *op = ops.v[i];
      PatchesOpKind like;
      PatchesOp *result;

      if (op_is_noop_move (op))
        continue;

      /* The moved value was removed by an earlier op of this list: its
       * state (moved, then removed) matches the frame of the rest. */
      if (removed)
        {
          append_single (walked, mark_op (op));
          continue;
        }

      like = patches_op_like (op);
      if (like == PATCHES_OP_REMOVE && strcmp (from, op_path (op)) == 0)
        removed = TRUE;

      /* (OOF) A committed move of the same source loses to the queue move
       * when the mirror lets the queue move survive: the ops after it are
       * re-expressed at our destination. */
      if (tr->oof && like == PATCHES_OP_MOVE && str_eq (op->from, from) && killer < 0)
        {
          Ops rest = ops_tail (ops, i + 1);

          if (strcmp (op_path (op), path) == 0)
            append_take (walked, mark_all (rest));
          else
            {
              g_autoptr(PatchesOp) synthetic = patches_op_new (PATCHES_OP_MOVE, path,
                                                               op_path (op), NULL);
              g_autoptr(GPtrArray) moved = move_ops (tr, synthetic, op_path (op), path, rest);

              append_take (walked, mark_all (ops_of (moved)));
            }
          break;
        }

      if (killer == (int) i)
        {
          if (killer_kind == KILLER_MOVE)
            {
              /* The committed move keeps the value: take it from where the
               * queue move put it, or drop it when both went to one place. */
              if (strcmp (op_path (op), path) == 0)
                {
                  append_take (walked, mark_all (ops_tail (ops, i + 1)));
                  break;
                }
              {
                g_autoptr(PatchesOp) redirected = op_copy_with_from (op, path);
                append_single (walked, mark_op (redirected));
              }
              continue;
            }

          /* Ghost kill: the queue move never happened in the committed
           * frame, so what it left at the destination goes. */
          {
            g_autoptr(PatchesOp) ghost = remove_op_new (path);

            g_ptr_array_add (walked, mark_op (ghost));
            g_ptr_array_add (walked, patches_op_ref (op));
          }
          continue;
        }

      result = relocate (patches_op_ref (op), FALSE, from, path);
      result = relocate (result, TRUE, from, path);
      append_single (walked, result);
    }

  /* Then the siblings: a remove at the source and an insert (or an
   * overwrite) at the destination.  Marked ops are invisible here. */
  if (is_array_path (from))
    removed_from = shift_ops (tr, from, ops_of (walked), -1, FALSE);
  else
    removed_from = clobber_ops (tr, from, ops_of (walked), FALSE, NULL, NULL);

  /* A mirror-killed move has no claim on its destination, so committed
   * sets there survive (§7.9 (4)). */
  if (is_array_path (path))
    inserted = shift_ops (tr, path, ops_of (removed_from), +1, FALSE);
  else
    inserted = clobber_ops (tr, path, ops_of (removed_from), FALSE, NULL,
                            killer >= 0 ? NULL : t);

  return unmark_ops (ops_of (inserted));
}

/* }}} */

/* Handlers {{{ */

/* handler[t.op](t, L) of §7.7. */
static GPtrArray *
transform_one (Transform *tr,
               PatchesOp *t,
               Ops        ops)
{
  const char *path = op_path (t);

  switch (t->kind)
    {
    case PATCHES_OP_ADD:
      if (is_array_path (path))
        return shift_ops (tr, path, ops, +1, FALSE);
      if (patches_value_is_empty_container (t->value))
        return softmerge_ops (path, ops, t->value);
      return clobber_ops (tr, path, ops, FALSE, NULL, t);

    case PATCHES_OP_REMOVE:
      return gone_ops (tr, path, ops, TRUE);

    case PATCHES_OP_REPLACE:
      return clobber_ops (tr, path, ops, FALSE, NULL, t);

    case PATCHES_OP_COPY:
      if (is_array_path (path))
        return shift_ops (tr, path, ops, +1, FALSE);
      return clobber_ops (tr, path, ops, FALSE, NULL, t);

    case PATCHES_OP_MOVE:
      /* A move without a source moves nothing out; only its destination
       * matters.  (The reference misbehaves on such a hand-made op.) */
      if (t->from == NULL)
        {
          if (is_array_path (path))
            return shift_ops (tr, path, ops, +1, FALSE);
          return clobber_ops (tr, path, ops, FALSE, NULL, t);
        }
      return move_ops (tr, t, t->from, path, ops);

    case PATCHES_OP_INC:
    case PATCHES_OP_BIT:
    case PATCHES_OP_MAX:
    case PATCHES_OP_MIN:
      return clobber_ops (tr, path, ops, TRUE, NULL, NULL);

    case PATCHES_OP_TXT:
      {
        TextMerge tm;
        GPtrArray *out;

        text_merge_init (&tm, t);
        out = clobber_ops (tr, path, ops, TRUE, &tm, NULL);
        text_merge_clear (&tm);

        return out;
      }

    case PATCHES_OP_TEST:
    case PATCHES_OP_UNKNOWN:
    default:
      /* No handler: the list is left exactly as it is */
      return ops_ref_all (ops);
    }
}

/* }}} */

/**
 * patches_ops_transform:
 * @this_ops: (element-type PatchesOp): the ops that happened first
 * @other_ops: (element-type PatchesOp): the ops to rewrite
 * @other_ops_first: the `otherOpsFirst` flag: %TRUE when advancing
 *   already-committed ops (@other_ops) through a local queue (@this_ops)
 *
 * transformPatch(null, thisOps, otherOps, otherOpsFirst) of OPERATIONS.md
 * §7: a left fold over @this_ops, each op rewriting the whole list.
 *
 * Returns: (transfer full) (element-type PatchesOp): @other_ops rewritten
 *   to apply after @this_ops
 */
GPtrArray *
patches_ops_transform (GPtrArray *this_ops,
                       GPtrArray *other_ops,
                       gboolean   other_ops_first)
{
  Transform tr = { other_ops_first };
  GPtrArray *list;

  g_return_val_if_fail (other_ops != NULL, NULL);

  list = ops_ref_all (ops_of (other_ops));

  if (this_ops == NULL)
    return list;

  for (guint i = 0; i < this_ops->len; i++)
    {
      GPtrArray *next = transform_one (&tr, g_ptr_array_index (this_ops, i), ops_of (list));

      g_ptr_array_unref (list);
      list = next;
    }

  return list;
}

/**
 * patches_patch_transform:
 * @self: the patch that happened first
 * @other: the patch to rewrite
 * @other_ops_first: see patches_ops_transform()
 *
 * Rewrites @other so that it applies after @self (the reference's
 * `transformPatch(null, self, other, otherOpsFirst)`).  Ops that no longer
 * make sense are dropped; neither patch is modified.
 *
 * Returns: (transfer full): the rewritten @other
 */
PatchesPatch *
patches_patch_transform (const PatchesPatch *self,
                         const PatchesPatch *other,
                         gboolean            other_ops_first)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (other != NULL, NULL);

  return patches_patch_new_take (patches_ops_transform (patches_patch_get_ops (self),
                                                        patches_patch_get_ops (other),
                                                        other_ops_first));
}
