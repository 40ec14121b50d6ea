/* patches-delta.c
 *
 * The rich-text delta engine, a faithful port of @dabble/delta 1.2.5
 * (OPERATIONS.md §6).  Everything works on the C structures below; JSON
 * and PatchesValue appear only in from_value / to_value / write_json.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "patches-delta.h"
#include "patches-delta-private.h"
#include "patches-error.h"
#include "patches-fast-diff-private.h"
#include "patches-text.h"

/* Largest integer a JavaScript number holds exactly. */
#define JS_MAX_SAFE_INTEGER G_GINT64_CONSTANT (9007199254740991)

enum {
  /* JSON key order of the op: "attributes" before "insert"/"retain".  The
   * reference builds partial ops that way (OpIterator.next); it changes
   * only the bytes written, never a result. */
  OP_ATTRIBUTES_FIRST = 1 << 0,
};

typedef struct {
  PatchesDeltaOp op;
  gsize          text_cap;   /* units allocated for op.text */
  guint          flags;
} DeltaItem;

struct _PatchesDelta {
  DeltaItem *items;
  guint      n_items;
  guint      n_alloc;
};

/* An op handed around by the algorithms: pointers borrowed. */
typedef struct {
  PatchesDeltaOp op;
  guint          flags;
} OpView;

G_DEFINE_BOXED_TYPE (PatchesDelta, patches_delta, patches_delta_copy, patches_delta_free)

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static inline gint64
add_saturated (gint64 a,
               gint64 b)
{
  if (a > 0 && b > PATCHES_DELTA_INFINITY - a)
    return PATCHES_DELTA_INFINITY;
  return a + b;
}

static inline gboolean
op_is_text (const PatchesDeltaOp *op)
{
  return op->kind == PATCHES_DELTA_INSERT && op->text != NULL;
}

/**
 * patches_delta_op_has_insert:
 * @op: an op
 *
 * Returns: whether @op is an insert whose value is not null (a text or an
 *   embed), the reference's `op.insert != null`
 */
gboolean
patches_delta_op_has_insert (const PatchesDeltaOp *op)
{
  if (op->kind != PATCHES_DELTA_INSERT)
    return FALSE;
  if (op->text != NULL)
    return TRUE;
  return op->embed != NULL && patches_value_get_kind (op->embed) != PATCHES_VALUE_NULL;
}

/* JavaScript truthiness of `op.insert`. */
static gboolean
op_insert_truthy (const PatchesDeltaOp *op)
{
  if (op->kind != PATCHES_DELTA_INSERT)
    return FALSE;
  if (op->text != NULL)
    return op->length > 0;
  return op->embed != NULL && patches_value_truthy (op->embed);
}

/* isEqual(a.insert, b.insert) for two inserts. */
static gboolean
insert_equal (const PatchesDeltaOp *a,
              const PatchesDeltaOp *b)
{
  if (a->text != NULL || b->text != NULL)
    {
      if (a->text == NULL || b->text == NULL || a->length != b->length)
        return FALSE;
      return a->length == 0 || memcmp (a->text, b->text, a->length * sizeof (gunichar2)) == 0;
    }
  if (a->embed == NULL || b->embed == NULL)
    return a->embed == b->embed;
  return patches_value_equal (a->embed, b->embed);
}

/* ------------------------------------------------------------------ */
/* Attribute maps (AttributeMap.ts)                                    */
/* ------------------------------------------------------------------ */

static PatchesValue *undefined_marker;

/**
 * patches_attributes_undefined:
 *
 * Returns: (transfer none): the marker standing for JavaScript's
 *   `undefined` as a member value of an attribute map
 */
PatchesValue *
patches_attributes_undefined (void)
{
  if (g_once_init_enter (&undefined_marker))
    g_once_init_leave (&undefined_marker, patches_value_new_null ());

  return undefined_marker;
}

gboolean
patches_attributes_is_undefined (const PatchesValue *value)
{
  return value != NULL && value == patches_attributes_undefined ();
}

static inline gboolean
is_undef (const PatchesValue *value)
{
  return value == NULL || patches_attributes_is_undefined (value);
}

static inline gboolean
is_object (const PatchesValue *value)
{
  return value != NULL &&
         patches_value_get_kind (value) == PATCHES_VALUE_OBJECT &&
         !patches_attributes_is_undefined (value);
}

static inline PatchesValue *
member_get (const PatchesValue *object,
            const char         *key)
{
  if (object == NULL || patches_value_get_kind (object) != PATCHES_VALUE_OBJECT)
    return NULL;
  return patches_value_object_get (object, key);
}

static inline guint
object_size (const PatchesValue *object)
{
  if (object == NULL || patches_value_get_kind (object) != PATCHES_VALUE_OBJECT)
    return 0;
  return patches_value_object_get_size (object);
}

/* isEqual of two defined values, the undefined marker being equal only to
 * itself and objects compared member by member. */
static gboolean
value_equal (const PatchesValue *a,
             const PatchesValue *b)
{
  guint n;

  if (a == b)
    return TRUE;
  if (a == NULL || b == NULL ||
      patches_attributes_is_undefined (a) || patches_attributes_is_undefined (b))
    return FALSE;

  if (patches_value_get_kind (a) != PATCHES_VALUE_OBJECT ||
      patches_value_get_kind (b) != PATCHES_VALUE_OBJECT)
    return patches_value_equal (a, b);

  n = patches_value_object_get_size (b);
  if (n != patches_value_object_get_size (a))
    return FALSE;

  for (guint i = 0; i < n; i++)
    {
      const char *key = patches_value_object_key_at (b, i);
      PatchesValue *av = patches_value_object_get (a, key);

      if (av == NULL || !value_equal (patches_value_object_value_at (b, i), av))
        return FALSE;
    }

  return TRUE;
}

gboolean
patches_attributes_equal (const PatchesValue *a,
                          const PatchesValue *b)
{
  if (is_undef (a) || is_undef (b))
    return is_undef (a) && is_undef (b);
  return value_equal (a, b);
}

static gboolean
has_undefined (const PatchesValue *value)
{
  guint n;

  if (value == NULL)
    return FALSE;
  if (patches_attributes_is_undefined (value))
    return TRUE;
  if (patches_value_get_kind (value) != PATCHES_VALUE_OBJECT)
    return FALSE;

  n = patches_value_object_get_size (value);
  for (guint i = 0; i < n; i++)
    if (has_undefined (patches_value_object_value_at (value, i)))
      return TRUE;

  return FALSE;
}

static PatchesValue *
strip_undefined_copy (const PatchesValue *value)
{
  PatchesValue *copy = patches_value_new_object ();
  guint n = patches_value_object_get_size (value);

  for (guint i = 0; i < n; i++)
    {
      PatchesValue *member = patches_value_object_value_at (value, i);

      if (patches_attributes_is_undefined (member))
        continue;
      if (has_undefined (member))
        patches_value_object_set (copy, patches_value_object_key_at (value, i),
                                  strip_undefined_copy (member));
      else
        patches_value_object_set (copy, patches_value_object_key_at (value, i),
                                  patches_value_ref (member));
    }

  return copy;
}

/**
 * patches_attributes_strip_undefined:
 * @attributes: an attribute map
 *
 * Returns: (transfer full): @attributes as JSON sees it
 */
PatchesValue *
patches_attributes_strip_undefined (PatchesValue *attributes)
{
  if (!has_undefined (attributes))
    return patches_value_ref (attributes);
  return strip_undefined_copy (attributes);
}

/* Deep null: null, undefined, or an object of deep nulls. */
static gboolean
is_deep_null (const PatchesValue *value)
{
  guint n;

  if (is_undef (value) || patches_value_get_kind (value) == PATCHES_VALUE_NULL)
    return TRUE;
  if (patches_value_get_kind (value) != PATCHES_VALUE_OBJECT)
    return FALSE;

  n = patches_value_object_get_size (value);
  for (guint i = 0; i < n; i++)
    if (!is_deep_null (patches_value_object_value_at (value, i)))
      return FALSE;

  return TRUE;
}

static inline void
set_member (PatchesValue *object,
            const char   *key,
            PatchesValue *value)
{
  patches_value_object_set (object, key,
                            value != NULL ? value : patches_value_ref (patches_attributes_undefined ()));
}

static PatchesValue *
finish_map (PatchesValue *map)
{
  if (patches_value_object_get_size (map) > 0)
    return map;
  patches_value_unref (map);
  return NULL;
}

/**
 * patches_attributes_compose:
 * @a: (nullable): attributes of the earlier op
 * @b: (nullable): attributes of the later op
 * @keep_null: keep members set to null (composing two changes)
 *
 * AttributeMap.compose.
 *
 * Returns: (transfer full) (nullable): the composed map, %NULL if empty
 */
PatchesValue *
patches_attributes_compose (const PatchesValue *a,
                            const PatchesValue *b,
                            gboolean            keep_null)
{
  PatchesValue *attributes = patches_value_new_object ();
  guint na = object_size (a);
  guint nb = object_size (b);

  for (guint i = 0; i < nb; i++)
    patches_value_object_set (attributes, patches_value_object_key_at (b, i),
                              patches_value_ref (patches_value_object_value_at (b, i)));

  for (guint i = 0; i < na; i++)
    {
      const char *key = patches_value_object_key_at (a, i);
      PatchesValue *av = patches_value_object_value_at (a, i);
      PatchesValue *cv;

      if (!is_object (av))
        continue;
      cv = patches_value_object_get (attributes, key);
      if (is_object (cv))
        set_member (attributes, key, patches_attributes_compose (av, cv, keep_null));
    }

  if (!keep_null)
    {
      PatchesValue *filtered = patches_value_new_object ();
      guint n = patches_value_object_get_size (attributes);

      for (guint i = 0; i < n; i++)
        {
          PatchesValue *v = patches_value_object_value_at (attributes, i);

          if (!is_deep_null (v))
            patches_value_object_set (filtered, patches_value_object_key_at (attributes, i),
                                      patches_value_ref (v));
        }
      patches_value_unref (attributes);
      attributes = filtered;
    }

  for (guint i = 0; i < na; i++)
    {
      const char *key = patches_value_object_key_at (a, i);
      PatchesValue *av = patches_value_object_value_at (a, i);

      if (!patches_attributes_is_undefined (av) && is_undef (member_get (b, key)))
        patches_value_object_set (attributes, key, patches_value_ref (av));
    }

  return finish_map (attributes);
}

/**
 * patches_attributes_transform:
 * @a: (nullable): attributes of the op that happened first
 * @b: (nullable): attributes of the op being transformed
 * @priority: whether @a wins
 *
 * AttributeMap.transform.
 *
 * Returns: (transfer full) (nullable): @b as it applies after @a
 */
PatchesValue *
patches_attributes_transform (const PatchesValue *a,
                              const PatchesValue *b,
                              gboolean            priority)
{
  PatchesValue *attributes;
  guint nb;

  if (a == NULL)
    return b != NULL ? patches_value_ref ((PatchesValue *) b) : NULL;
  if (b == NULL)
    return NULL;
  if (!priority)
    return patches_value_ref ((PatchesValue *) b);

  attributes = patches_value_new_object ();
  nb = object_size (b);
  for (guint i = 0; i < nb; i++)
    {
      const char *key = patches_value_object_key_at (b, i);
      PatchesValue *bv = patches_value_object_value_at (b, i);
      PatchesValue *av = member_get (a, key);

      if (is_undef (av))
        patches_value_object_set (attributes, key, patches_value_ref (bv));
      else if (is_object (av) && is_object (bv))
        set_member (attributes, key, patches_attributes_transform (av, bv, TRUE));
    }

  return finish_map (attributes);
}

/**
 * patches_attributes_invert:
 * @attr: (nullable): attributes a retain applied
 * @base: (nullable): attributes of the document run it applied to
 *
 * AttributeMap.invert.
 *
 * Returns: (transfer full): the attributes undoing @attr (maybe empty)
 */
PatchesValue *
patches_attributes_invert (const PatchesValue *attr,
                           const PatchesValue *base)
{
  PatchesValue *memo = patches_value_new_object ();
  guint nbase = object_size (base);
  guint nattr = object_size (attr);

  for (guint i = 0; i < nbase; i++)
    {
      const char *key = patches_value_object_key_at (base, i);
      PatchesValue *bv = patches_value_object_value_at (base, i);
      PatchesValue *av = member_get (attr, key);

      if (is_undef (av) || patches_attributes_equal (bv, av))
        continue;
      if (is_object (av) && is_object (bv))
        patches_value_object_set (memo, key, patches_attributes_invert (av, bv));
      else
        patches_value_object_set (memo, key, patches_value_ref (bv));
    }

  for (guint i = 0; i < nattr; i++)
    {
      const char *key = patches_value_object_key_at (attr, i);
      PatchesValue *av = patches_value_object_value_at (attr, i);

      /* attr[key] !== base[key] && base[key] === undefined */
      if (is_undef (member_get (base, key)) && !patches_attributes_is_undefined (av))
        patches_value_object_set (memo, key, patches_value_new_null ());
    }

  return memo;
}

static void
diff_key (PatchesValue       *attributes,
          const char         *key,
          const PatchesValue *a,
          const PatchesValue *b)
{
  PatchesValue *av = member_get (a, key);
  PatchesValue *bv = member_get (b, key);

  if (patches_attributes_equal (av, bv))
    return;

  if (is_undef (bv))
    patches_value_object_set (attributes, key, patches_value_new_null ());
  else if (is_object (av) && is_object (bv))
    set_member (attributes, key, patches_attributes_diff (av, bv));
  else
    patches_value_object_set (attributes, key, patches_value_ref (bv));
}

/**
 * patches_attributes_diff:
 * @a: (nullable): attributes of the old run
 * @b: (nullable): attributes of the new run
 *
 * AttributeMap.diff.
 *
 * Returns: (transfer full) (nullable): what turns @a into @b
 */
PatchesValue *
patches_attributes_diff (const PatchesValue *a,
                         const PatchesValue *b)
{
  PatchesValue *attributes = patches_value_new_object ();
  guint na = object_size (a);
  guint nb = object_size (b);

  for (guint i = 0; i < na; i++)
    diff_key (attributes, patches_value_object_key_at (a, i), a, b);
  for (guint i = 0; i < nb; i++)
    {
      const char *key = patches_value_object_key_at (b, i);

      /* Keys of both were handled in a's pass (same result again). */
      if (member_get (a, key) == NULL)
        diff_key (attributes, key, a, b);
    }

  return finish_map (attributes);
}

static inline gboolean
attributes_non_empty (const PatchesValue *attributes)
{
  return attributes != NULL && object_size (attributes) > 0;
}

/* ------------------------------------------------------------------ */
/* Storage                                                             */
/* ------------------------------------------------------------------ */

static void
item_clear (DeltaItem *item)
{
  g_clear_pointer (&item->op.text, g_free);
  g_clear_pointer (&item->op.embed, patches_value_unref);
  g_clear_pointer (&item->op.attributes, patches_value_unref);
}

static void
item_init (DeltaItem    *item,
           const OpView *view)
{
  const PatchesDeltaOp *op = &view->op;

  item->op.kind = op->kind;
  item->op.length = op->length;
  item->op.text = NULL;
  item->op.embed = NULL;
  item->op.attributes = op->attributes != NULL ? patches_value_ref (op->attributes) : NULL;
  item->text_cap = 0;
  item->flags = op->attributes != NULL ? view->flags : 0;

  if (op->kind == PATCHES_DELTA_INSERT)
    {
      if (op->text != NULL)
        {
          item->text_cap = MAX (op->length, 1);
          item->op.text = g_new (gunichar2, item->text_cap);
          if (op->length > 0)
            memcpy (item->op.text, op->text, op->length * sizeof (gunichar2));
        }
      else if (op->embed != NULL)
        item->op.embed = patches_value_ref (op->embed);
    }
}

static void
delta_reserve (PatchesDelta *self,
               guint         extra)
{
  guint need = self->n_items + extra;

  if (need <= self->n_alloc)
    return;
  self->n_alloc = MAX (need, MAX (8, self->n_alloc * 2));
  self->items = g_renew (DeltaItem, self->items, self->n_alloc);
}

static void
delta_insert_at (PatchesDelta *self,
                 guint         index,
                 const OpView *view)
{
  delta_reserve (self, 1);
  if (index < self->n_items)
    memmove (&self->items[index + 1], &self->items[index],
             (self->n_items - index) * sizeof (DeltaItem));
  item_init (&self->items[index], view);
  self->n_items++;
}

static inline void
view_from_item (OpView          *view,
                const DeltaItem *item)
{
  view->op = item->op;
  view->flags = item->flags;
}

/* Appends text to the text insert at @index (amortised growth). */
static void
item_append_text (DeltaItem       *item,
                  const gunichar2 *text,
                  gint64           length)
{
  gsize need = item->op.length + length;

  if (length <= 0)
    return;

  if (need > item->text_cap)
    {
      gsize cap = MAX (need, item->text_cap * 2);

      /* The text may live inside this very buffer (pushing an op of the
       * same delta). */
      if (text >= item->op.text && text < item->op.text + item->text_cap)
        {
          gsize off = text - item->op.text;

          item->op.text = g_renew (gunichar2, item->op.text, cap);
          text = item->op.text + off;
        }
      else
        item->op.text = g_renew (gunichar2, item->op.text, cap);
      item->text_cap = cap;
    }

  memmove (item->op.text + item->op.length, text, length * sizeof (gunichar2));
  item->op.length = need;
}

static inline void
item_set_attributes (DeltaItem    *item,
                     PatchesValue *attributes)
{
  PatchesValue *old = item->op.attributes;

  item->op.attributes = attributes != NULL ? patches_value_ref (attributes) : NULL;
  if (old != NULL)
    patches_value_unref (old);
}

/* Delta.push */
static void
delta_push (PatchesDelta *self,
            const OpView *in)
{
  OpView view = *in;
  guint index = self->n_items;
  DeltaItem *last;

  /* 1.2.5: an empty attributes object on the appended op counts as none. */
  if (view.op.attributes != NULL && object_size (view.op.attributes) == 0)
    view.op.attributes = NULL;

  if (index > 0)
    {
      last = &self->items[index - 1];

      if (view.op.kind == PATCHES_DELTA_DELETE && last->op.kind == PATCHES_DELTA_DELETE)
        {
          /* { delete: lastOp.delete + newOp.delete } */
          last->op.length = add_saturated (last->op.length, view.op.length);
          g_clear_pointer (&last->op.attributes, patches_value_unref);
          last->flags = 0;
          return;
        }

      /* Inserts always precede an adjacent delete. */
      if (last->op.kind == PATCHES_DELTA_DELETE && patches_delta_op_has_insert (&view.op))
        {
          index -= 1;
          if (index == 0)
            {
              delta_insert_at (self, 0, &view);
              return;
            }
          last = &self->items[index - 1];
        }

      if (patches_attributes_equal (view.op.attributes, last->op.attributes))
        {
          if (op_is_text (&view.op) && op_is_text (&last->op))
            {
              item_append_text (last, view.op.text, view.op.length);
              item_set_attributes (last, view.op.attributes);
              last->flags = 0;
              return;
            }
          else if (view.op.kind == PATCHES_DELTA_RETAIN && last->op.kind == PATCHES_DELTA_RETAIN)
            {
              last->op.length = add_saturated (last->op.length, view.op.length);
              item_set_attributes (last, view.op.attributes);
              last->flags = 0;
              return;
            }
        }
    }

  delta_insert_at (self, index, &view);
}

static inline void
delta_append_raw (PatchesDelta *self,
                  const OpView *view)
{
  delta_insert_at (self, self->n_items, view);
}

static void
builder_retain (PatchesDelta *self,
                gint64        length,
                PatchesValue *attributes)
{
  OpView view = { { PATCHES_DELTA_RETAIN, length, NULL, NULL, NULL }, 0 };

  if (length <= 0)
    return;
  if (attributes_non_empty (attributes))
    view.op.attributes = attributes;
  delta_push (self, &view);
}

static void
builder_delete (PatchesDelta *self,
                gint64        length)
{
  OpView view = { { PATCHES_DELTA_DELETE, length, NULL, NULL, NULL }, 0 };

  if (length <= 0)
    return;
  delta_push (self, &view);
}

static void
delta_chop (PatchesDelta *self)
{
  DeltaItem *last;

  if (self->n_items == 0)
    return;
  last = &self->items[self->n_items - 1];
  /* lastOp.retain && !lastOp.attributes */
  if (last->op.kind == PATCHES_DELTA_RETAIN && last->op.length != 0 && last->op.attributes == NULL)
    {
      item_clear (last);
      self->n_items--;
    }
}

/* isEqual(delta.ops[last], newOp), with newOp as push stored it. */
static gboolean
item_equals_view (const DeltaItem *item,
                  const OpView    *view)
{
  PatchesValue *attributes = view->op.attributes;

  if (attributes != NULL && object_size (attributes) == 0)
    attributes = NULL;

  if (item->op.kind != view->op.kind)
    return FALSE;
  if (!patches_attributes_equal (item->op.attributes, attributes))
    return FALSE;
  if (item->op.kind == PATCHES_DELTA_INSERT)
    return insert_equal (&item->op, &view->op);
  return item->op.length == view->op.length;
}

/* ------------------------------------------------------------------ */
/* Public storage API                                                  */
/* ------------------------------------------------------------------ */

/**
 * patches_delta_new:
 *
 * Returns: (transfer full): an empty delta
 */
PatchesDelta *
patches_delta_new (void)
{
  return g_new0 (PatchesDelta, 1);
}

/**
 * patches_delta_copy:
 * @self: a #PatchesDelta
 *
 * Returns: (transfer full): a copy of @self, op for op
 */
PatchesDelta *
patches_delta_copy (const PatchesDelta *self)
{
  PatchesDelta *copy = patches_delta_new ();

  delta_reserve (copy, self->n_items);
  for (guint i = 0; i < self->n_items; i++)
    {
      OpView view;

      view_from_item (&view, &self->items[i]);
      delta_append_raw (copy, &view);
    }

  return copy;
}

/**
 * patches_delta_free:
 * @self: (transfer full): a #PatchesDelta
 */
void
patches_delta_free (PatchesDelta *self)
{
  if (self == NULL)
    return;

  for (guint i = 0; i < self->n_items; i++)
    item_clear (&self->items[i]);
  g_free (self->items);
  g_free (self);
}

/**
 * patches_delta_get_n_ops:
 * @self: a #PatchesDelta
 *
 * Returns: the number of ops
 */
guint
patches_delta_get_n_ops (const PatchesDelta *self)
{
  return self->n_items;
}

/**
 * patches_delta_get_op:
 * @self: a #PatchesDelta
 * @index: op position
 *
 * Returns: (transfer none): the op at @index; valid until @self changes.
 *   Its attributes must not be modified.
 */
const PatchesDeltaOp *
patches_delta_get_op (const PatchesDelta *self,
                      guint               index)
{
  g_return_val_if_fail (index < self->n_items, NULL);
  return &self->items[index].op;
}

/**
 * patches_delta_length:
 * @self: a #PatchesDelta
 *
 * Returns: the sum of the op lengths (Delta.length())
 */
gint64
patches_delta_length (const PatchesDelta *self)
{
  gint64 length = 0;

  for (guint i = 0; i < self->n_items; i++)
    length = add_saturated (length, self->items[i].op.length);

  return length;
}

/**
 * patches_delta_is_document:
 * @self: a #PatchesDelta
 *
 * Returns: whether every op is an insert
 */
gboolean
patches_delta_is_document (const PatchesDelta *self)
{
  for (guint i = 0; i < self->n_items; i++)
    if (self->items[i].op.kind != PATCHES_DELTA_INSERT)
      return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Iterator (Op.ts OpIterator)                                         */
/* ------------------------------------------------------------------ */

void
patches_delta_iter_init (PatchesDeltaIter   *iter,
                         const PatchesDelta *delta)
{
  iter->delta = delta;
  iter->index = 0;
  iter->offset = 0;
}

gboolean
patches_delta_iter_has_next (const PatchesDeltaIter *iter)
{
  return iter->index < iter->delta->n_items;
}

gint64
patches_delta_iter_peek_length (const PatchesDeltaIter *iter)
{
  if (iter->index < iter->delta->n_items)
    return iter->delta->items[iter->index].op.length - iter->offset;
  return PATCHES_DELTA_INFINITY;
}

PatchesDeltaOpKind
patches_delta_iter_peek_type (const PatchesDeltaIter *iter)
{
  if (iter->index < iter->delta->n_items)
    return iter->delta->items[iter->index].op.kind;
  return PATCHES_DELTA_RETAIN;
}

static void
iter_next (PatchesDeltaIter *iter,
           gint64            length,
           OpView           *view)
{
  const DeltaItem *item;
  gint64 offset;
  gint64 op_length;

  memset (view, 0, sizeof *view);

  if (iter->index >= iter->delta->n_items)
    {
      view->op.kind = PATCHES_DELTA_RETAIN;
      view->op.length = PATCHES_DELTA_INFINITY;
      return;
    }

  if (length <= 0)
    length = PATCHES_DELTA_INFINITY;

  item = &iter->delta->items[iter->index];
  offset = iter->offset;
  op_length = item->op.length;

  if (length >= op_length - offset)
    {
      length = op_length - offset;
      iter->index++;
      iter->offset = 0;
    }
  else
    iter->offset += length;

  if (item->op.kind == PATCHES_DELTA_DELETE)
    {
      view->op.kind = PATCHES_DELTA_DELETE;
      view->op.length = length;
      return;
    }

  if (op_length == length)
    {
      view_from_item (view, item);
      return;
    }

  view->op.kind = item->op.kind;
  view->op.attributes = item->op.attributes;
  view->flags = item->op.attributes != NULL ? OP_ATTRIBUTES_FIRST : 0;
  if (item->op.kind == PATCHES_DELTA_RETAIN)
    view->op.length = length;
  else if (item->op.text != NULL)
    {
      view->op.text = item->op.text + offset;
      view->op.length = length;
    }
  else
    {
      view->op.embed = item->op.embed;
      view->op.length = item->op.length;
    }
}

void
patches_delta_iter_next (PatchesDeltaIter *iter,
                         gint64            length,
                         PatchesDeltaOp   *view)
{
  OpView v;

  iter_next (iter, length, &v);
  *view = v.op;
}

#define iter_has_next     patches_delta_iter_has_next
#define iter_peek_length  patches_delta_iter_peek_length
#define iter_peek_type    patches_delta_iter_peek_type

/* ------------------------------------------------------------------ */
/* Builders                                                            */
/* ------------------------------------------------------------------ */

/**
 * patches_delta_push:
 * @self: a #PatchesDelta
 * @op: the op to append; copied (text) and referenced (embed, attributes)
 *
 * Appends @op through the reference's normalising `push`: merges with the
 * previous op when possible and places an insert before a trailing
 * delete.  An empty attributes object counts as none.
 */
void
patches_delta_push (PatchesDelta         *self,
                    const PatchesDeltaOp *op)
{
  OpView view = { *op, 0 };

  delta_push (self, &view);
}

/**
 * patches_delta_append_raw:
 * @self: a #PatchesDelta
 * @op: the op to append
 *
 * Appends @op as is, without merging (the reference's `ops.push`).
 */
void
patches_delta_append_raw (PatchesDelta         *self,
                          const PatchesDeltaOp *op)
{
  OpView view = { *op, 0 };

  delta_append_raw (self, &view);
}

/**
 * patches_delta_insert_utf16:
 * @self: a #PatchesDelta
 * @text: (array length=length): UTF-16 text
 * @length: units in @text
 * @attributes: (nullable) (transfer none): attributes; used only when a
 *   non-empty object, and must not be modified afterwards
 *
 * Delta.insert(text, attributes); an empty text is ignored.
 */
void
patches_delta_insert_utf16 (PatchesDelta    *self,
                            const gunichar2 *text,
                            gint64           length,
                            PatchesValue    *attributes)
{
  static const gunichar2 empty[1] = { 0 };
  OpView view = { { PATCHES_DELTA_INSERT, length, (gunichar2 *) (text ? text : empty), NULL, NULL }, 0 };

  g_return_if_fail (text != NULL || length <= 0);

  if (length <= 0)
    return;
  if (attributes_non_empty (attributes))
    view.op.attributes = attributes;
  delta_push (self, &view);
}

/**
 * patches_delta_insert_utf8:
 * @self: a #PatchesDelta
 * @text: UTF-8 text
 * @attributes: (nullable) (transfer none): attributes
 *
 * Like patches_delta_insert_utf16().
 */
void
patches_delta_insert_utf8 (PatchesDelta *self,
                           const char   *text,
                           PatchesValue *attributes)
{
  g_autofree gunichar2 *units = NULL;
  gsize length = 0;

  units = patches_utf8_to_utf16 (text, -1, &length);
  patches_delta_insert_utf16 (self, units, length, attributes);
}

/**
 * patches_delta_insert_embed:
 * @self: a #PatchesDelta
 * @embed: (transfer none): the embed (any non-string JSON value)
 * @attributes: (nullable) (transfer none): attributes
 *
 * Delta.insert(embed, attributes).
 */
void
patches_delta_insert_embed (PatchesDelta *self,
                            PatchesValue *embed,
                            PatchesValue *attributes)
{
  OpView view = { { PATCHES_DELTA_INSERT, 1, NULL, embed, NULL }, 0 };

  g_return_if_fail (embed != NULL);

  if (attributes_non_empty (attributes))
    view.op.attributes = attributes;
  delta_push (self, &view);
}

/**
 * patches_delta_retain:
 * @self: a #PatchesDelta
 * @length: units to retain; nothing happens when 0 or less
 * @attributes: (nullable) (transfer none): attributes
 */
void
patches_delta_retain (PatchesDelta *self,
                      gint64        length,
                      PatchesValue *attributes)
{
  builder_retain (self, length, attributes);
}

/**
 * patches_delta_delete:
 * @self: a #PatchesDelta
 * @length: units to delete; nothing happens when 0 or less
 */
void
patches_delta_delete (PatchesDelta *self,
                      gint64        length)
{
  builder_delete (self, length);
}

/**
 * patches_delta_chop:
 * @self: a #PatchesDelta
 *
 * Removes a trailing retain that has no attributes.
 */
void
patches_delta_chop (PatchesDelta *self)
{
  delta_chop (self);
}

/* ------------------------------------------------------------------ */
/* Algebra                                                             */
/* ------------------------------------------------------------------ */

static inline gboolean
view_is_exhausted (const OpView *view)
{
  return view->op.kind == PATCHES_DELTA_RETAIN && view->op.length == PATCHES_DELTA_INFINITY;
}

/* delta.concat(new Delta(iter.rest())) */
static void
delta_concat_rest (PatchesDelta     *self,
                   PatchesDeltaIter *iter)
{
  const PatchesDelta *src = iter->delta;
  OpView view;

  if (!iter_has_next (iter))
    return;

  if (iter->offset == 0)
    {
      view_from_item (&view, &src->items[iter->index]);
      iter->index++;
    }
  else
    iter_next (iter, 0, &view);
  delta_push (self, &view);

  delta_reserve (self, src->n_items - iter->index);
  for (; iter->index < src->n_items; iter->index++)
    {
      view_from_item (&view, &src->items[iter->index]);
      delta_append_raw (self, &view);
    }
}

/**
 * patches_delta_compose:
 * @a: the first change (or a document)
 * @b: the change applied after @a
 *
 * Delta.compose: one delta with the effect of @a then @b.
 *
 * Returns: (transfer full): the composition
 */
PatchesDelta *
patches_delta_compose (const PatchesDelta *a,
                       const PatchesDelta *b)
{
  PatchesDelta *delta = patches_delta_new ();
  PatchesDeltaIter this_iter;
  PatchesDeltaIter other_iter;
  OpView view;

  patches_delta_iter_init (&this_iter, a);
  patches_delta_iter_init (&other_iter, b);

  /* Fast path: whole inserts of A covered by B's leading plain retain are
   * moved as they are. */
  if (b->n_items > 0 &&
      b->items[0].op.kind == PATCHES_DELTA_RETAIN &&
      b->items[0].op.attributes == NULL)
    {
      gint64 first = b->items[0].op.length;
      gint64 first_left = first;

      while (iter_peek_type (&this_iter) == PATCHES_DELTA_INSERT &&
             iter_peek_length (&this_iter) <= first_left)
        {
          first_left -= iter_peek_length (&this_iter);
          iter_next (&this_iter, 0, &view);
          delta_append_raw (delta, &view);
        }
      if (first - first_left > 0)
        iter_next (&other_iter, first - first_left, &view);
    }

  while (iter_has_next (&this_iter) || iter_has_next (&other_iter))
    {
      if (iter_peek_type (&other_iter) == PATCHES_DELTA_INSERT)
        {
          iter_next (&other_iter, 0, &view);
          delta_push (delta, &view);
        }
      else if (iter_peek_type (&this_iter) == PATCHES_DELTA_DELETE)
        {
          iter_next (&this_iter, 0, &view);
          delta_push (delta, &view);
        }
      else
        {
          gint64 length = MIN (iter_peek_length (&this_iter), iter_peek_length (&other_iter));
          OpView this_op;
          OpView other_op;

          iter_next (&this_iter, length, &this_op);
          iter_next (&other_iter, length, &other_op);

          if (other_op.op.kind == PATCHES_DELTA_RETAIN)
            {
              g_autoptr(PatchesValue) attributes = NULL;
              OpView new_op;

              /* Preserve null when composing with a retain, otherwise
               * remove it for inserts. */
              if (other_op.op.attributes != NULL)
                attributes = patches_attributes_compose (this_op.op.attributes,
                                                         other_op.op.attributes,
                                                         this_op.op.kind == PATCHES_DELTA_RETAIN);

              if (other_op.op.attributes != NULL &&
                  !patches_attributes_equal (attributes, this_op.op.attributes))
                {
                  memset (&new_op, 0, sizeof new_op);
                  if (this_op.op.kind == PATCHES_DELTA_RETAIN)
                    {
                      new_op.op.kind = PATCHES_DELTA_RETAIN;
                      new_op.op.length = length;
                    }
                  else
                    {
                      new_op.op.kind = PATCHES_DELTA_INSERT;
                      new_op.op.text = this_op.op.text;
                      new_op.op.embed = this_op.op.embed;
                      new_op.op.length = this_op.op.length;
                    }
                  new_op.op.attributes = attributes;
                }
              else if (view_is_exhausted (&this_op))
                new_op = other_op;
              else
                new_op = this_op;

              delta_push (delta, &new_op);

              /* Optimisation if the rest of B is just retain. */
              if (other_op.op.length == PATCHES_DELTA_INFINITY ||
                  (!iter_has_next (&other_iter) &&
                   item_equals_view (&delta->items[delta->n_items - 1], &new_op)))
                {
                  delta_concat_rest (delta, &this_iter);
                  delta_chop (delta);
                  return delta;
                }
            }
          else if (other_op.op.kind == PATCHES_DELTA_DELETE &&
                   this_op.op.kind == PATCHES_DELTA_RETAIN)
            {
              delta_push (delta, &other_op);
            }
          /* insert + delete cancel out */
        }
    }

  delta_chop (delta);
  return delta;
}

/**
 * patches_delta_transform:
 * @a: the change that happened first
 * @b: the concurrent change to rewrite
 * @priority: %TRUE when @a's inserts win ties
 *
 * Delta.transform: @b rewritten to apply after @a.
 *
 * Returns: (transfer full): the transformed @b
 */
PatchesDelta *
patches_delta_transform (const PatchesDelta *a,
                         const PatchesDelta *b,
                         gboolean            priority)
{
  PatchesDelta *delta = patches_delta_new ();
  PatchesDeltaIter this_iter;
  PatchesDeltaIter other_iter;
  OpView view;

  priority = !!priority;
  patches_delta_iter_init (&this_iter, a);
  patches_delta_iter_init (&other_iter, b);

  while (iter_has_next (&this_iter) || iter_has_next (&other_iter))
    {
      if (iter_peek_type (&this_iter) == PATCHES_DELTA_INSERT &&
          (priority || iter_peek_type (&other_iter) != PATCHES_DELTA_INSERT))
        {
          iter_next (&this_iter, 0, &view);
          builder_retain (delta, view.op.length, NULL);
        }
      else if (iter_peek_type (&other_iter) == PATCHES_DELTA_INSERT)
        {
          iter_next (&other_iter, 0, &view);
          delta_push (delta, &view);
        }
      else
        {
          gint64 length = MIN (iter_peek_length (&this_iter), iter_peek_length (&other_iter));
          OpView this_op;
          OpView other_op;

          iter_next (&this_iter, length, &this_op);
          iter_next (&other_iter, length, &other_op);

          if (this_op.op.kind == PATCHES_DELTA_DELETE && this_op.op.length != 0)
            {
              /* Our delete makes their delete redundant or removes their
               * retain. */
              continue;
            }
          else if (other_op.op.kind == PATCHES_DELTA_DELETE && other_op.op.length != 0)
            {
              delta_push (delta, &other_op);
            }
          else
            {
              g_autoptr(PatchesValue) attributes = NULL;

              attributes = patches_attributes_transform (this_op.op.attributes,
                                                         other_op.op.attributes,
                                                         priority);
              builder_retain (delta, length, attributes);
            }
        }
    }

  delta_chop (delta);
  return delta;
}

/**
 * patches_delta_transform_position:
 * @a: a change
 * @index: an offset in the document before @a
 * @priority: %TRUE when an insert of @a at @index goes before it
 *
 * Delta.transformPosition.
 *
 * Returns: @index moved over @a
 */
gint64
patches_delta_transform_position (const PatchesDelta *a,
                                  gint64              index,
                                  gboolean            priority)
{
  PatchesDeltaIter iter;
  gint64 offset = 0;

  patches_delta_iter_init (&iter, a);

  while (iter_has_next (&iter) && offset <= index)
    {
      gint64 length = iter_peek_length (&iter);
      PatchesDeltaOpKind type = iter_peek_type (&iter);
      OpView view;

      iter_next (&iter, 0, &view);
      if (type == PATCHES_DELTA_DELETE)
        {
          index -= MIN (length, index - offset);
          continue;
        }
      else if (type == PATCHES_DELTA_INSERT && (offset < index || !priority))
        index += length;
      offset += length;
    }

  return index;
}

/* Delta.slice(start, end) collecting into @out, on an iterator that is
 * kept between calls with increasing @start (what a fresh iterator would
 * do, without walking from the beginning each time). */
typedef struct {
  PatchesDeltaIter iter;
  gint64           index;
} SliceCursor;

typedef void (*SliceFunc) (const OpView *view,
                           gpointer      user_data);

static void
slice_walk (SliceCursor *cursor,
            gint64       start,
            gint64       end,
            SliceFunc    func,
            gpointer     user_data)
{
  while (cursor->index < end && iter_has_next (&cursor->iter))
    {
      OpView view;

      if (cursor->index < start)
        iter_next (&cursor->iter, start - cursor->index, &view);
      else
        {
          iter_next (&cursor->iter, end - cursor->index, &view);
          func (&view, user_data);
        }
      cursor->index = add_saturated (cursor->index, view.op.length);
    }
}

typedef struct {
  PatchesDelta         *inverted;
  const PatchesDeltaOp *op;
} InvertData;

static void
invert_piece (const OpView *base_op,
              gpointer      user_data)
{
  InvertData *data = user_data;

  if (data->op->kind == PATCHES_DELTA_DELETE)
    delta_push (data->inverted, base_op);
  else if (data->op->kind == PATCHES_DELTA_RETAIN && data->op->attributes != NULL)
    {
      g_autoptr(PatchesValue) attributes = NULL;

      attributes = patches_attributes_invert (data->op->attributes, base_op->op.attributes);
      builder_retain (data->inverted, base_op->op.length, attributes);
    }
}

/**
 * patches_delta_invert:
 * @change: a change
 * @base: the document @change applies to
 *
 * Delta.invert: the change that undoes @change on @base.
 *
 * Returns: (transfer full): the inverse
 */
PatchesDelta *
patches_delta_invert (const PatchesDelta *change,
                      const PatchesDelta *base)
{
  PatchesDelta *inverted = patches_delta_new ();
  SliceCursor cursor;
  gint64 base_index = 0;

  patches_delta_iter_init (&cursor.iter, base);
  cursor.index = 0;

  for (guint i = 0; i < change->n_items; i++)
    {
      const PatchesDeltaOp *op = &change->items[i].op;

      if (op_insert_truthy (op))
        builder_delete (inverted, op->length);
      else if (op->kind == PATCHES_DELTA_RETAIN && op->length != 0 && op->attributes == NULL)
        {
          builder_retain (inverted, op->length, NULL);
          base_index = add_saturated (base_index, op->length);
        }
      else if ((op->kind == PATCHES_DELTA_DELETE || op->kind == PATCHES_DELTA_RETAIN) &&
               op->length != 0)
        {
          InvertData data = { inverted, op };
          gint64 end = add_saturated (base_index, op->length);

          slice_walk (&cursor, base_index, end, invert_piece, &data);
          base_index = end;
        }
    }

  delta_chop (inverted);
  return inverted;
}

static void
slice_collect (const OpView *view,
               gpointer      user_data)
{
  delta_append_raw (user_data, view);
}

/**
 * patches_delta_slice:
 * @self: a #PatchesDelta
 * @start: first offset
 * @end: end offset (exclusive); %PATCHES_DELTA_INFINITY for the rest
 *
 * Delta.slice: the ops between two offsets, unmerged.
 *
 * Returns: (transfer full): the slice
 */
PatchesDelta *
patches_delta_slice (const PatchesDelta *self,
                     gint64              start,
                     gint64              end)
{
  PatchesDelta *slice = patches_delta_new ();
  SliceCursor cursor;

  patches_delta_iter_init (&cursor.iter, self);
  cursor.index = 0;
  slice_walk (&cursor, start, end, slice_collect, slice);

  return slice;
}

static gunichar2 *
flatten_document (const PatchesDelta *self,
                  gsize              *out_len)
{
  gsize len = 0;
  gunichar2 *text;
  gsize pos = 0;

  for (guint i = 0; i < self->n_items; i++)
    len += self->items[i].op.length;

  text = g_new (gunichar2, MAX (len, 1));
  for (guint i = 0; i < self->n_items; i++)
    {
      const PatchesDeltaOp *op = &self->items[i].op;

      if (op->text != NULL)
        {
          if (op->length > 0)
            memcpy (text + pos, op->text, op->length * sizeof (gunichar2));
          pos += op->length;
        }
      else
        text[pos++] = 0;  /* embeds become U+0000 */
    }

  *out_len = pos;
  return text;
}

/**
 * patches_delta_diff:
 * @a: a document
 * @b: another document
 * @error: return location for a #GError
 *
 * Delta.diff: the change turning @a into @b, computed with the fast-diff
 * 1.3.0 algorithm over UTF-16 (embeds count as U+0000).
 *
 * Returns: (transfer full) (nullable): the change, or %NULL with
 *   %PATCHES_ERROR_INVALID_DELTA when @a or @b is not a document
 */
PatchesDelta *
patches_delta_diff (const PatchesDelta  *a,
                    const PatchesDelta  *b,
                    GError             **error)
{
  g_autoptr(PatchesDelta) delta = NULL;
  g_autofree gunichar2 *sa = NULL;
  g_autofree gunichar2 *sb = NULL;
  g_autoptr(GArray) runs = NULL;
  PatchesDeltaIter this_iter;
  PatchesDeltaIter other_iter;
  gsize la, lb;

  if (a == b)
    return patches_delta_new ();

  for (guint i = 0; i < a->n_items; i++)
    if (!patches_delta_op_has_insert (&a->items[i].op))
      {
        g_set_error_literal (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA,
                             "diff() called with non-document");
        return NULL;
      }
  for (guint i = 0; i < b->n_items; i++)
    if (!patches_delta_op_has_insert (&b->items[i].op))
      {
        g_set_error_literal (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA,
                             "diff() called on non-document");
        return NULL;
      }

  sa = flatten_document (a, &la);
  sb = flatten_document (b, &lb);
  runs = patches_fast_diff (sa, la, sb, lb, -1);

  delta = patches_delta_new ();
  patches_delta_iter_init (&this_iter, a);
  patches_delta_iter_init (&other_iter, b);

  for (guint r = 0; r < runs->len; r++)
    {
      const PatchesDiffRun *run = &g_array_index (runs, PatchesDiffRun, r);
      gint64 length = run->length;

      while (length > 0)
        {
          gint64 op_length = 0;
          OpView this_op;
          OpView other_op;

          switch (run->op)
            {
            case PATCHES_DIFF_INSERT:
              op_length = MIN (iter_peek_length (&other_iter), length);
              iter_next (&other_iter, op_length, &other_op);
              delta_push (delta, &other_op);
              break;

            case PATCHES_DIFF_DELETE:
              op_length = MIN (length, iter_peek_length (&this_iter));
              iter_next (&this_iter, op_length, &this_op);
              builder_delete (delta, op_length);
              break;

            case PATCHES_DIFF_EQUAL:
            default:
              op_length = MIN (MIN (iter_peek_length (&this_iter), iter_peek_length (&other_iter)), length);
              iter_next (&this_iter, op_length, &this_op);
              iter_next (&other_iter, op_length, &other_op);
              if (insert_equal (&this_op.op, &other_op.op))
                {
                  g_autoptr(PatchesValue) attributes = NULL;

                  attributes = patches_attributes_diff (this_op.op.attributes, other_op.op.attributes);
                  builder_retain (delta, op_length, attributes);
                }
              else
                {
                  delta_push (delta, &other_op);
                  builder_delete (delta, op_length);
                }
              break;
            }

          length -= op_length;
        }
    }

  delta_chop (delta);
  return g_steal_pointer (&delta);
}

/* ------------------------------------------------------------------ */
/* UTF-16                                                              */
/* ------------------------------------------------------------------ */

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

static const char hex_digits[] = "0123456789abcdef";

void
patches_utf16_append_json (GString         *out,
                           const gunichar2 *text,
                           gsize            length)
{
  char buf[64];
  gsize n = 0;

  g_string_append_c (out, '"');

  for (gsize i = 0; i < length; i++)
    {
      gunichar2 c = text[i];

      if (n > sizeof buf - 8)
        {
          g_string_append_len (out, buf, n);
          n = 0;
        }

      if (c < 0x80)
        {
          if (c >= 0x20 && c != '"' && c != '\\')
            buf[n++] = (char) c;
          else
            {
              buf[n++] = '\\';
              switch (c)
                {
                case '"': buf[n++] = '"'; break;
                case '\\': buf[n++] = '\\'; break;
                case '\b': buf[n++] = 'b'; break;
                case '\f': buf[n++] = 'f'; break;
                case '\n': buf[n++] = 'n'; break;
                case '\r': buf[n++] = 'r'; break;
                case '\t': buf[n++] = 't'; break;
                default:
                  buf[n++] = 'u';
                  buf[n++] = '0';
                  buf[n++] = '0';
                  buf[n++] = hex_digits[c >> 4];
                  buf[n++] = hex_digits[c & 15];
                  break;
                }
            }
        }
      else if (c < 0x800)
        {
          buf[n++] = (char) (0xC0 | (c >> 6));
          buf[n++] = (char) (0x80 | (c & 0x3F));
        }
      else if (is_high_surrogate (c) && i + 1 < length && is_low_surrogate (text[i + 1]))
        {
          gunichar u = 0x10000 + (((gunichar) c - 0xD800) << 10) + ((gunichar) text[i + 1] - 0xDC00);

          buf[n++] = (char) (0xF0 | (u >> 18));
          buf[n++] = (char) (0x80 | ((u >> 12) & 0x3F));
          buf[n++] = (char) (0x80 | ((u >> 6) & 0x3F));
          buf[n++] = (char) (0x80 | (u & 0x3F));
          i++;
        }
      else if (is_high_surrogate (c) || is_low_surrogate (c))
        {
          buf[n++] = '\\';
          buf[n++] = 'u';
          buf[n++] = hex_digits[(c >> 12) & 15];
          buf[n++] = hex_digits[(c >> 8) & 15];
          buf[n++] = hex_digits[(c >> 4) & 15];
          buf[n++] = hex_digits[c & 15];
        }
      else
        {
          buf[n++] = (char) (0xE0 | (c >> 12));
          buf[n++] = (char) (0x80 | ((c >> 6) & 0x3F));
          buf[n++] = (char) (0x80 | (c & 0x3F));
        }
    }

  g_string_append_len (out, buf, n);
  g_string_append_c (out, '"');
}

gsize
patches_utf16_json_size (const gunichar2 *text,
                         gsize            length)
{
  gsize size = 2;

  for (gsize i = 0; i < length; i++)
    {
      gunichar2 c = text[i];

      if (c < 0x80)
        {
          if (c >= 0x20 && c != '"' && c != '\\')
            size += 1;
          else if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
            size += 2;
          else
            size += 6;
        }
      else if (c < 0x800)
        size += 2;
      else if (is_high_surrogate (c) && i + 1 < length && is_low_surrogate (text[i + 1]))
        {
          size += 4;
          i++;
        }
      else if (is_high_surrogate (c) || is_low_surrogate (c))
        size += 6;
      else
        size += 3;
    }

  return size;
}

/**
 * patches_utf8_to_utf16:
 * @utf8: UTF-8 (or WTF-8) text
 * @len: length in bytes, or -1 if nul-terminated
 * @out_len: (out): number of units returned
 *
 * Returns: (transfer full): the UTF-16 units (never %NULL)
 */
gunichar2 *
patches_utf8_to_utf16 (const char *utf8,
                       gssize      len,
                       gsize      *out_len)
{
  const guchar *p = (const guchar *) utf8;
  const guchar *end;
  gunichar2 *out;
  gsize n = 0;

  if (utf8 == NULL)
    len = 0;
  else if (len < 0)
    len = strlen (utf8);
  end = p + len;

  /* At most one unit per byte. */
  out = g_new (gunichar2, MAX (len, 1));

  while (p < end)
    {
      guchar c = *p;
      gunichar u;
      gsize extra;

      if (c < 0x80)
        {
          out[n++] = c;
          p++;
          continue;
        }
      else if (c >= 0xC2 && c <= 0xDF)
        u = c & 0x1F, extra = 1;
      else if (c >= 0xE0 && c <= 0xEF)
        u = c & 0x0F, extra = 2;
      else if (c >= 0xF0 && c <= 0xF4)
        u = c & 0x07, extra = 3;
      else
        {
          out[n++] = 0xFFFD;
          p++;
          continue;
        }

      if ((gsize) (end - p) <= extra)
        {
          out[n++] = 0xFFFD;
          p++;
          continue;
        }

      {
        gboolean ok = TRUE;

        for (gsize k = 1; k <= extra; k++)
          {
            if ((p[k] & 0xC0) != 0x80)
              {
                ok = FALSE;
                break;
              }
            u = (u << 6) | (p[k] & 0x3F);
          }

        if (!ok ||
            (extra == 2 && u < 0x800) ||
            (extra == 3 && (u < 0x10000 || u > 0x10FFFF)))
          {
            out[n++] = 0xFFFD;
            p++;
            continue;
          }
      }

      if (u >= 0x10000)
        {
          u -= 0x10000;
          out[n++] = (gunichar2) (0xD800 + (u >> 10));
          out[n++] = (gunichar2) (0xDC00 + (u & 0x3FF));
        }
      else
        out[n++] = (gunichar2) u;   /* includes WTF-8 lone surrogates */

      p += extra + 1;
    }

  *out_len = n;
  return out;
}

/**
 * patches_utf16_to_utf8:
 * @text: (array length=length): UTF-16 units
 * @length: number of units
 * @out_len: (out) (optional): bytes written, without the nul
 *
 * Returns: (transfer full): nul-terminated UTF-8; lone surrogates are
 *   written as their 3-byte (WTF-8) encoding
 */
char *
patches_utf16_to_utf8 (const gunichar2 *text,
                       gsize            length,
                       gsize           *out_len)
{
  char *out = g_new (char, length * 3 + 1);
  gsize n = 0;

  for (gsize i = 0; i < length; i++)
    {
      gunichar u = text[i];

      if (is_high_surrogate (text[i]) && i + 1 < length && is_low_surrogate (text[i + 1]))
        {
          u = 0x10000 + ((u - 0xD800) << 10) + ((gunichar) text[i + 1] - 0xDC00);
          i++;
        }

      if (u < 0x80)
        out[n++] = (char) u;
      else if (u < 0x800)
        {
          out[n++] = (char) (0xC0 | (u >> 6));
          out[n++] = (char) (0x80 | (u & 0x3F));
        }
      else if (u < 0x10000)
        {
          out[n++] = (char) (0xE0 | (u >> 12));
          out[n++] = (char) (0x80 | ((u >> 6) & 0x3F));
          out[n++] = (char) (0x80 | (u & 0x3F));
        }
      else
        {
          out[n++] = (char) (0xF0 | (u >> 18));
          out[n++] = (char) (0x80 | ((u >> 12) & 0x3F));
          out[n++] = (char) (0x80 | ((u >> 6) & 0x3F));
          out[n++] = (char) (0x80 | (u & 0x3F));
        }
    }

  out[n] = 0;
  if (out_len != NULL)
    *out_len = n;
  return out;
}

/**
 * patches_utf16_length_of_utf8:
 * @utf8: UTF-8 text
 * @len: length in bytes, or -1 if nul-terminated
 *
 * Returns: the length of @utf8 in UTF-16 code units
 */
gint64
patches_utf16_length_of_utf8 (const char *utf8,
                              gssize      len)
{
  const guchar *p = (const guchar *) utf8;
  gint64 units = 0;

  if (len < 0)
    len = strlen (utf8);

  for (gssize i = 0; i < len; i++)
    {
      guchar c = p[i];

      if ((c & 0xC0) == 0x80)
        continue;
      units += c >= 0xF0 ? 2 : 1;
    }

  return units;
}

/**
 * patches_utf16_offset_from_char_offset:
 * @utf8: nul-terminated UTF-8 text
 * @char_offset: an offset in characters (as GtkTextBuffer counts)
 *
 * Returns: the same offset in UTF-16 code units (clamped to the end)
 */
gint64
patches_utf16_offset_from_char_offset (const char *utf8,
                                       gint64      char_offset)
{
  const guchar *p = (const guchar *) utf8;
  gint64 units = 0;

  for (gint64 i = 0; i < char_offset && *p != 0; i++)
    {
      units += *p >= 0xF0 ? 2 : 1;
      p = (const guchar *) g_utf8_next_char (p);
    }

  return units;
}

/**
 * patches_char_offset_from_utf16_offset:
 * @utf8: nul-terminated UTF-8 text
 * @utf16_offset: an offset in UTF-16 code units
 *
 * An offset between the two halves of a surrogate pair maps to the start
 * of that character.
 *
 * Returns: the offset in characters (clamped to the end)
 */
gint64
patches_char_offset_from_utf16_offset (const char *utf8,
                                       gint64      utf16_offset)
{
  const guchar *p = (const guchar *) utf8;
  gint64 units = 0;
  gint64 chars = 0;

  while (*p != 0)
    {
      gint64 w = *p >= 0xF0 ? 2 : 1;

      if (units + w > utf16_offset)
        break;
      units += w;
      chars++;
      p = (const guchar *) g_utf8_next_char (p);
    }

  return chars;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

static gboolean
get_length (const PatchesValue *value,
            guint               index,
            const char         *name,
            gint64             *out,
            GError            **error)
{
  double d;

  if (patches_value_get_kind (value) != PATCHES_VALUE_NUMBER)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA,
                   "Invalid delta: op %u has a non-numeric %s", index, name);
      return FALSE;
    }

  d = patches_value_get_number (value);
  if (!isfinite (d) || d != floor (d))
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA,
                   "Invalid delta: op %u has a non-integer %s", index, name);
      return FALSE;
    }
  if (d < 0)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA,
                   "Invalid delta: op %u has a negative %s", index, name);
      return FALSE;
    }
  if (d > (double) JS_MAX_SAFE_INTEGER)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA,
                   "Invalid delta: op %u has a %s that is too large", index, name);
      return FALSE;
    }

  *out = (gint64) d;
  return TRUE;
}

static gboolean
parse_op (PatchesDelta       *self,
          const PatchesValue *value,
          guint               index,
          GError            **error)
{
  static const char * const kinds[] = { "insert", "retain", "delete" };
  PatchesValue *members[3] = { NULL, NULL, NULL };
  PatchesValue *attributes = NULL;
  g_autofree gunichar2 *text = NULL;
  gint main_pos = -1;
  gint attributes_pos = -1;
  guint n_kinds = 0;
  OpView view;
  guint n;

  if (value == NULL || patches_value_get_kind (value) != PATCHES_VALUE_OBJECT)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA,
                   "Invalid delta: op %u is not an object", index);
      return FALSE;
    }

  n = patches_value_object_get_size (value);
  for (guint i = 0; i < n; i++)
    {
      const char *key = patches_value_object_key_at (value, i);

      for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
        if (strcmp (key, kinds[k]) == 0)
          {
            members[k] = patches_value_object_value_at (value, i);
            main_pos = i;
            n_kinds++;
          }
      if (strcmp (key, "attributes") == 0)
        {
          attributes = patches_value_object_value_at (value, i);
          attributes_pos = i;
        }
    }

  if (n_kinds != 1)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA,
                   n_kinds == 0 ? "Invalid delta: op %u has no insert, retain or delete"
                                : "Invalid delta: op %u has more than one of insert, retain and delete",
                   index);
      return FALSE;
    }

  if (attributes != NULL && patches_value_get_kind (attributes) != PATCHES_VALUE_OBJECT)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA,
                   "Invalid delta: op %u has attributes that are not an object", index);
      return FALSE;
    }

  memset (&view, 0, sizeof view);
  view.op.attributes = attributes;
  view.flags = attributes != NULL && attributes_pos < main_pos ? OP_ATTRIBUTES_FIRST : 0;

  if (members[2] != NULL)
    {
      view.op.kind = PATCHES_DELTA_DELETE;
      if (!get_length (members[2], index, "delete", &view.op.length, error))
        return FALSE;
    }
  else if (members[1] != NULL)
    {
      view.op.kind = PATCHES_DELTA_RETAIN;
      if (!get_length (members[1], index, "retain", &view.op.length, error))
        return FALSE;
    }
  else
    {
      PatchesValue *insert = members[0];

      view.op.kind = PATCHES_DELTA_INSERT;
      switch (patches_value_get_kind (insert))
        {
        case PATCHES_VALUE_STRING:
          {
            gsize len = 0;

            text = patches_utf8_to_utf16 (patches_value_get_string (insert),
                                          patches_value_get_string_len (insert), &len);
            view.op.text = text;
            view.op.length = len;
          }
          break;

        case PATCHES_VALUE_NULL:
          g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA,
                       "Invalid delta: op %u has a null insert", index);
          return FALSE;

        case PATCHES_VALUE_BOOL:
        case PATCHES_VALUE_NUMBER:
        case PATCHES_VALUE_ARRAY:
        case PATCHES_VALUE_OBJECT:
        case PATCHES_VALUE_TEXT:
        default:
          view.op.embed = insert;
          view.op.length = 1;
          break;
        }
    }

  delta_append_raw (self, &view);
  return TRUE;
}

/**
 * patches_delta_from_value:
 * @value: a bare op array, an object `{"ops": [...]}` or a rich-text value
 * @error: return location for a #GError
 *
 * Reads a delta (the reference's `new Delta(ops)`: ops are taken as they
 * are, without merging).  Each op must be an object with exactly one of
 * `insert` (a string or a non-null embed), `retain` or `delete` (a
 * non-negative integer), and optionally an object `attributes`.
 *
 * Returns: (transfer full) (nullable): the delta, or %NULL with
 *   %PATCHES_ERROR_INVALID_DELTA
 */
PatchesDelta *
patches_delta_from_value (const PatchesValue  *value,
                          GError             **error)
{
  g_autoptr(PatchesDelta) self = NULL;
  const PatchesValue *ops = NULL;
  guint n;

  if (value != NULL)
    {
      switch (patches_value_get_kind (value))
        {
        case PATCHES_VALUE_ARRAY:
          ops = value;
          break;
        case PATCHES_VALUE_OBJECT:
          ops = patches_value_object_get (value, "ops");
          if (ops != NULL && patches_value_get_kind (ops) != PATCHES_VALUE_ARRAY)
            ops = NULL;
          break;
        case PATCHES_VALUE_TEXT:
          return patches_delta_copy (patches_text_get_delta (patches_value_get_text (value)));
        case PATCHES_VALUE_NULL:
        case PATCHES_VALUE_BOOL:
        case PATCHES_VALUE_NUMBER:
        case PATCHES_VALUE_STRING:
        default:
          break;
        }
    }

  if (ops == NULL)
    {
      g_set_error_literal (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_DELTA,
                           "Invalid delta: not an op array or an object with an ops array");
      return NULL;
    }

  self = patches_delta_new ();
  n = patches_value_array_get_length (ops);
  delta_reserve (self, n);
  for (guint i = 0; i < n; i++)
    if (!parse_op (self, patches_value_array_get (ops, i), i, error))
      return NULL;

  return g_steal_pointer (&self);
}

/* A length as a JavaScript number (Infinity for the exhaustion marker,
 * which JSON.stringify writes as null). */
static inline double
length_to_double (gint64 length)
{
  return length == PATCHES_DELTA_INFINITY ? INFINITY : (double) length;
}

static PatchesValue *
op_to_value (const DeltaItem *item)
{
  const PatchesDeltaOp *op = &item->op;
  PatchesValue *object = patches_value_new_object ();
  gboolean attributes_first = op->attributes != NULL && (item->flags & OP_ATTRIBUTES_FIRST) != 0;

  if (attributes_first)
    patches_value_object_set (object, "attributes", patches_attributes_strip_undefined (op->attributes));

  switch (op->kind)
    {
    case PATCHES_DELTA_INSERT:
      if (op->text != NULL)
        {
          gsize len = 0;
          char *utf8 = patches_utf16_to_utf8 (op->text, op->length, &len);

          patches_value_object_set (object, "insert", patches_value_new_string_len (utf8, len));
          g_free (utf8);
        }
      else if (op->embed != NULL)
        patches_value_object_set (object, "insert", patches_value_ref (op->embed));
      break;
    case PATCHES_DELTA_RETAIN:
      patches_value_object_set (object, "retain", patches_value_new_number (length_to_double (op->length)));
      break;
    case PATCHES_DELTA_DELETE:
    default:
      patches_value_object_set (object, "delete", patches_value_new_number (length_to_double (op->length)));
      break;
    }

  if (op->attributes != NULL && !attributes_first)
    patches_value_object_set (object, "attributes", patches_attributes_strip_undefined (op->attributes));

  return object;
}

/**
 * patches_delta_to_value:
 * @self: a #PatchesDelta
 *
 * Returns: (transfer full): the op array as JSON values, with the member
 *   order JSON.stringify would print
 */
PatchesValue *
patches_delta_to_value (const PatchesDelta *self)
{
  PatchesValue *array = patches_value_new_array ();

  for (guint i = 0; i < self->n_items; i++)
    patches_value_array_append (array, op_to_value (&self->items[i]));

  return array;
}

static void
write_attributes (PatchesValue *attributes,
                  GString      *out)
{
  if (has_undefined (attributes))
    {
      g_autoptr(PatchesValue) clean = strip_undefined_copy (attributes);
      patches_value_write_json (clean, out);
    }
  else
    patches_value_write_json (attributes, out);
}

static gsize
attributes_json_size (PatchesValue *attributes)
{
  if (has_undefined (attributes))
    {
      g_autoptr(PatchesValue) clean = strip_undefined_copy (attributes);
      return patches_value_json_size (clean);
    }
  return patches_value_json_size (attributes);
}

/**
 * patches_delta_write_json:
 * @self: a #PatchesDelta
 * @out: string to append to
 *
 * Appends the op array exactly as JSON.stringify writes it.
 */
void
patches_delta_write_json (const PatchesDelta *self,
                          GString            *out)
{
  g_string_append_c (out, '[');

  for (guint i = 0; i < self->n_items; i++)
    {
      const DeltaItem *item = &self->items[i];
      const PatchesDeltaOp *op = &item->op;
      gboolean attributes_first = op->attributes != NULL && (item->flags & OP_ATTRIBUTES_FIRST) != 0;
      gboolean need_comma = FALSE;

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, '{');

      if (attributes_first)
        {
          g_string_append (out, "\"attributes\":");
          write_attributes (op->attributes, out);
          need_comma = TRUE;
        }

      switch (op->kind)
        {
        case PATCHES_DELTA_INSERT:
          if (op->text != NULL || op->embed != NULL)
            {
              if (need_comma)
                g_string_append_c (out, ',');
              g_string_append (out, "\"insert\":");
              if (op->text != NULL)
                patches_utf16_append_json (out, op->text, op->length);
              else
                patches_value_write_json (op->embed, out);
              need_comma = TRUE;
            }
          break;
        case PATCHES_DELTA_RETAIN:
        case PATCHES_DELTA_DELETE:
        default:
          if (need_comma)
            g_string_append_c (out, ',');
          g_string_append (out, op->kind == PATCHES_DELTA_RETAIN ? "\"retain\":" : "\"delete\":");
          patches_js_append_number (out, length_to_double (op->length));
          need_comma = TRUE;
          break;
        }

      if (op->attributes != NULL && !attributes_first)
        {
          if (need_comma)
            g_string_append_c (out, ',');
          g_string_append (out, "\"attributes\":");
          write_attributes (op->attributes, out);
        }

      g_string_append_c (out, '}');
    }

  g_string_append_c (out, ']');
}

/**
 * patches_delta_json_size:
 * @self: a #PatchesDelta
 *
 * Returns: the size in bytes of what patches_delta_write_json() writes
 */
gsize
patches_delta_json_size (const PatchesDelta *self)
{
  gsize size = 2;

  for (guint i = 0; i < self->n_items; i++)
    {
      const PatchesDeltaOp *op = &self->items[i].op;
      guint n_members = 0;

      if (i > 0)
        size += 1;
      size += 2;  /* {} */

      switch (op->kind)
        {
        case PATCHES_DELTA_INSERT:
          if (op->text != NULL)
            size += strlen ("\"insert\":") + patches_utf16_json_size (op->text, op->length), n_members++;
          else if (op->embed != NULL)
            size += strlen ("\"insert\":") + patches_value_json_size (op->embed), n_members++;
          break;
        case PATCHES_DELTA_RETAIN:
        case PATCHES_DELTA_DELETE:
        default:
          size += strlen ("\"retain\":") + patches_js_number_size (length_to_double (op->length));
          n_members++;
          break;
        }

      if (op->attributes != NULL)
        {
          size += strlen ("\"attributes\":") + attributes_json_size (op->attributes);
          n_members++;
        }

      if (n_members == 2)
        size += 1;
    }

  return size;
}

/* ------------------------------------------------------------------ */
/* Member order hooks for the rich-text rope (patches-text.c)          */
/* ------------------------------------------------------------------ */

/**
 * patches_delta_get_attributes_first:
 * @self: a #PatchesDelta
 * @index: op position
 *
 * Returns: whether the op at @index is written with "attributes" before
 *   its "insert"/"retain" member
 */
gboolean
patches_delta_get_attributes_first (const PatchesDelta *self,
                                    guint               index)
{
  g_return_val_if_fail (index < self->n_items, FALSE);
  return self->items[index].op.attributes != NULL &&
         (self->items[index].flags & OP_ATTRIBUTES_FIRST) != 0;
}

/**
 * patches_delta_push_ordered:
 * @self: a #PatchesDelta
 * @op: the op to append
 * @attributes_first: the op's JSON member order
 *
 * patches_delta_push() for an op whose member order is known (it is kept
 * when the op is not merged into the previous one).
 */
void
patches_delta_push_ordered (PatchesDelta         *self,
                            const PatchesDeltaOp *op,
                            gboolean              attributes_first)
{
  OpView view = { *op, attributes_first ? OP_ATTRIBUTES_FIRST : 0 };

  delta_push (self, &view);
}

/**
 * patches_delta_append_raw_ordered:
 * @self: a #PatchesDelta
 * @op: the op to append
 * @attributes_first: the op's JSON member order
 *
 * patches_delta_append_raw() keeping the op's member order.
 */
void
patches_delta_append_raw_ordered (PatchesDelta         *self,
                                  const PatchesDeltaOp *op,
                                  gboolean              attributes_first)
{
  OpView view = { *op, attributes_first ? OP_ATTRIBUTES_FIRST : 0 };

  delta_append_raw (self, &view);
}
