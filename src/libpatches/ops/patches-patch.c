/* patches-patch.c: the op list, its JSON form and the builder
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-error.h"
#include "patches-patch-private.h"

struct _PatchesPatch {
  gatomicrefcount  ref_count;
  GPtrArray       *ops;
};

G_DEFINE_BOXED_TYPE (PatchesPatch, patches_patch, patches_patch_ref, patches_patch_unref)

GPtrArray *
patches_ops_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) patches_op_unref);
}

/**
 * patches_patch_new:
 *
 * Returns: (transfer full): an empty patch
 */
PatchesPatch *
patches_patch_new (void)
{
  return patches_patch_new_take (patches_ops_new ());
}

/**
 * patches_patch_new_take:
 * @ops: (transfer full) (element-type PatchesOp): ops, freed with
 *   patches_op_unref()
 *
 * Returns: (transfer full): a patch holding @ops
 */
PatchesPatch *
patches_patch_new_take (GPtrArray *ops)
{
  PatchesPatch *self = g_new0 (PatchesPatch, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->ops = ops;

  return self;
}

/**
 * patches_patch_ref:
 * @self: a patch
 *
 * Returns: (transfer full): @self
 */
PatchesPatch *
patches_patch_ref (PatchesPatch *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
patches_patch_unref (PatchesPatch *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_ptr_array_unref (self->ops);
  g_free (self);
}

/**
 * patches_patch_copy:
 * @self: a patch
 *
 * Returns: (transfer full): a new list sharing the (immutable) ops
 */
PatchesPatch *
patches_patch_copy (const PatchesPatch *self)
{
  PatchesPatch *copy = patches_patch_new ();

  patches_patch_concat (copy, self);
  return copy;
}

guint
patches_patch_get_n_ops (const PatchesPatch *self)
{
  return self->ops->len;
}

/**
 * patches_patch_get_op:
 * @self: a patch
 * @index: position
 *
 * Returns: (transfer none): the op at @index
 */
PatchesOp *
patches_patch_get_op (const PatchesPatch *self,
                      guint               index)
{
  g_return_val_if_fail (index < self->ops->len, NULL);
  return g_ptr_array_index (self->ops, index);
}

/**
 * patches_patch_get_ops:
 * @self: a patch
 *
 * Returns: (transfer none) (element-type PatchesOp): the ops
 */
GPtrArray *
patches_patch_get_ops (const PatchesPatch *self)
{
  return self->ops;
}

gboolean
patches_patch_is_empty (const PatchesPatch *self)
{
  return self->ops->len == 0;
}

/**
 * patches_patch_append_op:
 * @self: a patch
 * @op: (transfer full): the op
 */
void
patches_patch_append_op (PatchesPatch *self,
                         PatchesOp    *op)
{
  g_ptr_array_add (self->ops, op);
}

void
patches_patch_concat (PatchesPatch       *self,
                      const PatchesPatch *other)
{
  for (guint i = 0; i < other->ops->len; i++)
    g_ptr_array_add (self->ops, patches_op_ref (g_ptr_array_index (other->ops, i)));
}

/* JSON */

GPtrArray *
patches_ops_from_value (const PatchesValue  *value,
                        GError             **error)
{
  g_autoptr(GPtrArray) ops = NULL;

  if (patches_value_get_kind (value) != PATCHES_VALUE_ARRAY)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_OP,
                   "Invalid patch: expected an array of ops");
      return NULL;
    }

  ops = patches_ops_new ();
  for (guint i = 0; i < patches_value_array_get_length (value); i++)
    {
      g_autoptr(GError) local_error = NULL;
      PatchesOp *op = patches_op_from_value (patches_value_array_get (value, i), &local_error);

      if (op == NULL)
        {
          g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_OP,
                       "Op %u: %s", i, local_error->message);
          return NULL;
        }
      g_ptr_array_add (ops, op);
    }

  return g_steal_pointer (&ops);
}

/**
 * patches_patch_from_value:
 * @value: an array of op objects
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the patch, or %NULL with @error set
 */
PatchesPatch *
patches_patch_from_value (const PatchesValue  *value,
                          GError             **error)
{
  GPtrArray *ops = patches_ops_from_value (value, error);

  return ops ? patches_patch_new_take (ops) : NULL;
}

/**
 * patches_patch_from_json:
 * @json: JSON text of an op array
 * @length: length in bytes, or -1
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the patch, or %NULL with @error set
 */
PatchesPatch *
patches_patch_from_json (const char  *json,
                         gssize       length,
                         GError     **error)
{
  g_autoptr(PatchesValue) value = patches_value_parse (json, length, error);

  if (value == NULL)
    return NULL;
  return patches_patch_from_value (value, error);
}

PatchesValue *
patches_ops_to_value (GPtrArray *ops)
{
  PatchesValue *array = patches_value_new_array ();

  for (guint i = 0; i < ops->len; i++)
    patches_value_array_append (array, patches_op_to_value (g_ptr_array_index (ops, i)));

  return array;
}

/**
 * patches_patch_to_value:
 * @self: a patch
 *
 * Returns: (transfer full): the op array
 */
PatchesValue *
patches_patch_to_value (const PatchesPatch *self)
{
  return patches_ops_to_value (self->ops);
}

void
patches_ops_write_json (GPtrArray *ops,
                        GString   *out)
{
  g_string_append_c (out, '[');
  for (guint i = 0; i < ops->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      patches_op_write_json (g_ptr_array_index (ops, i), out);
    }
  g_string_append_c (out, ']');
}

void
patches_patch_write_json (const PatchesPatch *self,
                          GString            *out)
{
  patches_ops_write_json (self->ops, out);
}

/**
 * patches_patch_to_json:
 * @self: a patch
 *
 * Returns: (transfer full): the op array as `JSON.stringify` writes it
 */
char *
patches_patch_to_json (const PatchesPatch *self)
{
  GString *out = g_string_new (NULL);

  patches_ops_write_json (self->ops, out);
  return g_string_free (out, FALSE);
}

gsize
patches_ops_json_size (GPtrArray *ops)
{
  gsize size = 2 + (ops->len > 0 ? ops->len - 1 : 0);

  for (guint i = 0; i < ops->len; i++)
    size += patches_op_json_size (g_ptr_array_index (ops, i));

  return size;
}

gsize
patches_patch_json_size (const PatchesPatch *self)
{
  return patches_ops_json_size (self->ops);
}

/* Builder (OPERATIONS.md §10.1) */

static char *
builder_path (const char *path)
{
  if (path[0] != 0 && path[0] != '/')
    return g_strconcat ("/", path, NULL);
  return g_strdup (path);
}

static PatchesOp *
builder_op (PatchesOpKind  kind,
            const char    *path,
            const char    *from,
            PatchesValue  *value,
            gboolean       soft)
{
  g_autofree char *p = builder_path (path);
  g_autofree char *f = from && from[0] ? builder_path (from) : NULL;
  PatchesOp *op = patches_op_new (kind, p, f, value);

  if (soft)
    op->soft = patches_value_new_bool (TRUE);

  return op;
}

/**
 * patches_patch_add:
 * @self: a patch
 * @path: target
 * @value: (transfer full): the value
 * @soft: do not overwrite an existing value
 */
void
patches_patch_add (PatchesPatch *self,
                   const char   *path,
                   PatchesValue *value,
                   gboolean      soft)
{
  g_ptr_array_add (self->ops, builder_op (PATCHES_OP_ADD, path, NULL, value, soft));
}

void
patches_patch_remove (PatchesPatch *self,
                      const char   *path)
{
  g_ptr_array_add (self->ops, builder_op (PATCHES_OP_REMOVE, path, NULL, NULL, FALSE));
}

/**
 * patches_patch_replace:
 * @self: a patch
 * @path: target
 * @value: (transfer full) (nullable): the value; %NULL emits `remove`, as
 *   the reference does for `undefined`
 * @soft: do not overwrite an existing value
 */
void
patches_patch_replace (PatchesPatch *self,
                       const char   *path,
                       PatchesValue *value,
                       gboolean      soft)
{
  if (value == NULL)
    {
      patches_patch_remove (self, path);
      return;
    }
  g_ptr_array_add (self->ops, builder_op (PATCHES_OP_REPLACE, path, NULL, value, soft));
}

/**
 * patches_patch_move:
 * @self: a patch
 * @from: source
 * @path: destination, interpreted after the removal
 *
 * Adds nothing when @from equals @path.
 */
void
patches_patch_move (PatchesPatch *self,
                    const char   *from,
                    const char   *path)
{
  if (g_strcmp0 (from, path) == 0)
    return;
  g_ptr_array_add (self->ops, builder_op (PATCHES_OP_MOVE, path, from, NULL, FALSE));
}

void
patches_patch_copy_op (PatchesPatch *self,
                       const char   *from,
                       const char   *path,
                       gboolean      soft)
{
  g_ptr_array_add (self->ops, builder_op (PATCHES_OP_COPY, path, from, NULL, soft));
}

/**
 * patches_patch_test:
 * @self: a patch
 * @path: target
 * @value: (transfer full): expected value
 */
void
patches_patch_test (PatchesPatch *self,
                    const char   *path,
                    PatchesValue *value)
{
  g_ptr_array_add (self->ops, builder_op (PATCHES_OP_TEST, path, NULL, value, FALSE));
}

/**
 * patches_patch_increment:
 * @self: a patch
 * @path: target counter
 * @amount: how much to add (negative to decrement)
 */
void
patches_patch_increment (PatchesPatch *self,
                         const char   *path,
                         double        amount)
{
  g_ptr_array_add (self->ops, builder_op (PATCHES_OP_INC, path, NULL,
                                          patches_value_new_number (amount), FALSE));
}

/**
 * patches_patch_bit:
 * @self: a patch
 * @path: target flags
 * @index: flag number, 0…14
 * @on: set or clear the flag
 * @error: return location for a #GError
 *
 * Returns: %FALSE with @error set when @index is out of range
 */
gboolean
patches_patch_bit (PatchesPatch  *self,
                   const char    *path,
                   guint          index,
                   gboolean       on,
                   GError       **error)
{
  double mask;

  if (index > 14)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_OP,
                   "Index must be between 0 and 14");
      return FALSE;
    }

  mask = on ? (double) (1u << index) : (double) (1u << (index + 15));
  g_ptr_array_add (self->ops, builder_op (PATCHES_OP_BIT, path, NULL,
                                          patches_value_new_number (mask), FALSE));
  return TRUE;
}

/**
 * patches_patch_max:
 * @self: a patch
 * @path: target
 * @value: (transfer full): candidate maximum
 */
void
patches_patch_max (PatchesPatch *self,
                   const char   *path,
                   PatchesValue *value)
{
  g_ptr_array_add (self->ops, builder_op (PATCHES_OP_MAX, path, NULL, value, FALSE));
}

/**
 * patches_patch_min:
 * @self: a patch
 * @path: target
 * @value: (transfer full): candidate minimum
 */
void
patches_patch_min (PatchesPatch *self,
                   const char   *path,
                   PatchesValue *value)
{
  g_ptr_array_add (self->ops, builder_op (PATCHES_OP_MIN, path, NULL, value, FALSE));
}

/**
 * patches_patch_text:
 * @self: a patch
 * @path: target rich-text value
 * @delta: (transfer full): the change
 */
void
patches_patch_text (PatchesPatch *self,
                    const char   *path,
                    PatchesDelta *delta)
{
  g_autofree char *p = builder_path (path);

  g_ptr_array_add (self->ops, patches_op_new_text (p, delta));
}

void
patches_apply_report_clear (PatchesApplyReport *report)
{
  g_clear_pointer (&report->failed_ops, g_array_unref);
  report->abort_op = -1;
}
