/* patches-op.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-error.h"
#include "patches-op.h"

G_DEFINE_BOXED_TYPE (PatchesOp, patches_op, patches_op_ref, patches_op_unref)

static const char * const op_names[] = {
  [PATCHES_OP_ADD] = "add",
  [PATCHES_OP_REMOVE] = "remove",
  [PATCHES_OP_REPLACE] = "replace",
  [PATCHES_OP_MOVE] = "move",
  [PATCHES_OP_COPY] = "copy",
  [PATCHES_OP_TEST] = "test",
  [PATCHES_OP_INC] = "@inc",
  [PATCHES_OP_BIT] = "@bit",
  [PATCHES_OP_MAX] = "@max",
  [PATCHES_OP_MIN] = "@min",
  [PATCHES_OP_TXT] = "@txt",
};

/**
 * patches_op_kind_from_name:
 * @name: an op name
 *
 * Returns: the kind, %PATCHES_OP_UNKNOWN for names the library does not know
 */
PatchesOpKind
patches_op_kind_from_name (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (op_names); i++)
    if (strcmp (name, op_names[i]) == 0)
      return i;
  return PATCHES_OP_UNKNOWN;
}

/**
 * patches_op_kind_to_name:
 * @kind: a known op kind
 *
 * Returns: (nullable): its wire name, %NULL for %PATCHES_OP_UNKNOWN
 */
const char *
patches_op_kind_to_name (PatchesOpKind kind)
{
  if (kind >= G_N_ELEMENTS (op_names))
    return NULL;
  return op_names[kind];
}

static PatchesOp *
op_alloc (PatchesOpKind  kind,
          const char    *name)
{
  PatchesOp *self = g_new0 (PatchesOp, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->kind = kind;
  self->name = g_strdup (name ? name : op_names[kind]);

  return self;
}

/**
 * patches_op_new:
 * @kind: a known op kind
 * @path: target pointer
 * @from: (nullable): source pointer for `move` and `copy`
 * @value: (nullable) (transfer full): the value
 *
 * Returns: (transfer full): a new op
 */
PatchesOp *
patches_op_new (PatchesOpKind  kind,
                const char    *path,
                const char    *from,
                PatchesValue  *value)
{
  PatchesOp *self;

  g_return_val_if_fail (kind != PATCHES_OP_UNKNOWN, NULL);

  self = op_alloc (kind, NULL);
  self->path = g_strdup (path);
  self->from = g_strdup (from);
  self->value = value;

  return self;
}

/**
 * patches_op_new_text:
 * @path: target pointer
 * @delta: (transfer full): the change
 *
 * Creates a `@txt` op without building its JSON value: the value is made
 * from @delta only when the op is serialised.
 *
 * Returns: (transfer full): a new op
 */
PatchesOp *
patches_op_new_text (const char   *path,
                     PatchesDelta *delta)
{
  PatchesOp *self = op_alloc (PATCHES_OP_TXT, NULL);

  self->path = g_strdup (path);
  self->delta = delta;
  self->delta_parsed = TRUE;

  return self;
}

/**
 * patches_op_ref:
 * @self: an op
 *
 * Returns: (transfer full): @self
 */
PatchesOp *
patches_op_ref (PatchesOp *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
patches_op_unref (PatchesOp *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_free (self->name);
  g_free (self->path);
  g_free (self->from);
  g_clear_pointer (&self->value, patches_value_unref);
  g_clear_pointer (&self->soft, patches_value_unref);
  g_clear_pointer (&self->extra, patches_value_unref);
  g_clear_pointer (&self->delta, patches_delta_free);
  g_free (self);
}

/**
 * patches_op_copy:
 * @self: an op
 *
 * Returns: (transfer full): an unshared copy that may be edited
 */
PatchesOp *
patches_op_copy (const PatchesOp *self)
{
  PatchesOp *copy = op_alloc (self->kind, self->name);

  copy->path = g_strdup (self->path);
  copy->from = g_strdup (self->from);
  copy->value = self->value ? patches_value_ref (self->value) : NULL;
  copy->soft = self->soft ? patches_value_ref (self->soft) : NULL;
  copy->extra = self->extra ? patches_value_ref (self->extra) : NULL;
  if (self->delta_parsed)
    {
      copy->delta = self->delta ? patches_delta_copy (self->delta) : NULL;
      copy->delta_parsed = TRUE;
    }

  return copy;
}

void
patches_op_set_path (PatchesOp  *self,
                     const char *path)
{
  char *old = self->path;

  self->path = g_strdup (path);
  g_free (old);
}

void
patches_op_set_from (PatchesOp  *self,
                     const char *from)
{
  char *old = self->from;

  self->from = g_strdup (from);
  g_free (old);
}

/**
 * patches_op_set_value:
 * @self: an unshared op
 * @value: (transfer full) (nullable): the new value
 */
void
patches_op_set_value (PatchesOp    *self,
                      PatchesValue *value)
{
  g_clear_pointer (&self->value, patches_value_unref);
  g_clear_pointer (&self->delta, patches_delta_free);
  self->delta_parsed = FALSE;
  self->value = value;
}

/**
 * patches_op_like:
 * @self: an op
 *
 * Returns: the category that drives generic behaviour: the custom ops
 *   `@inc`, `@bit`, `@max`, `@min` and `@txt` behave like `replace`
 */
PatchesOpKind
patches_op_like (const PatchesOp *self)
{
  switch (self->kind)
    {
    case PATCHES_OP_INC:
    case PATCHES_OP_BIT:
    case PATCHES_OP_MAX:
    case PATCHES_OP_MIN:
    case PATCHES_OP_TXT:
      return PATCHES_OP_REPLACE;
    case PATCHES_OP_ADD:
    case PATCHES_OP_REMOVE:
    case PATCHES_OP_REPLACE:
    case PATCHES_OP_MOVE:
    case PATCHES_OP_COPY:
    case PATCHES_OP_TEST:
    case PATCHES_OP_UNKNOWN:
    default:
      return self->kind;
    }
}

/**
 * patches_op_is_soft:
 * @self: an op
 *
 * Returns: %TRUE if the op carries `soft` with a truthy value
 */
gboolean
patches_op_is_soft (const PatchesOp *self)
{
  return patches_value_truthy (self->soft);
}

/**
 * patches_op_get_delta:
 * @self: a `@txt` op
 *
 * Returns: (transfer none) (nullable): the op's value as a delta, or %NULL
 *   when the value is not a delta
 */
const PatchesDelta *
patches_op_get_delta (PatchesOp *self)
{
  if (!self->delta_parsed)
    {
      self->delta_parsed = TRUE;
      if (self->value != NULL)
        self->delta = patches_delta_from_value (self->value, NULL);
    }

  return self->delta;
}

static PatchesValue *
op_value (const PatchesOp *self)
{
  if (self->value != NULL)
    return patches_value_ref (self->value);
  if (self->delta_parsed && self->delta != NULL)
    return patches_delta_to_value (self->delta);
  return NULL;
}

/**
 * patches_op_from_value:
 * @value: an op object
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the op, or %NULL with @error set to
 *   %PATCHES_ERROR_INVALID_OP when @value is not an op object
 */
PatchesOp *
patches_op_from_value (const PatchesValue  *value,
                       GError             **error)
{
  g_autoptr(PatchesOp) self = NULL;
  PatchesValue *name, *path, *from;

  if (patches_value_get_kind (value) != PATCHES_VALUE_OBJECT)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_OP,
                   "Invalid op: expected an object");
      return NULL;
    }

  name = patches_value_object_get (value, "op");
  if (name == NULL || patches_value_get_kind (name) != PATCHES_VALUE_STRING)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_OP,
                   "Invalid op: member \"op\" must be a string");
      return NULL;
    }

  path = patches_value_object_get (value, "path");
  if (path == NULL || patches_value_get_kind (path) != PATCHES_VALUE_STRING)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_OP,
                   "Invalid op \"%s\": member \"path\" must be a string",
                   patches_value_get_string (name));
      return NULL;
    }

  from = patches_value_object_get (value, "from");
  if (from != NULL &&
      patches_value_get_kind (from) != PATCHES_VALUE_STRING &&
      patches_value_get_kind (from) != PATCHES_VALUE_NULL)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_OP,
                   "Invalid op \"%s\" at %s: member \"from\" must be a string",
                   patches_value_get_string (name), patches_value_get_string (path));
      return NULL;
    }

  self = op_alloc (patches_op_kind_from_name (patches_value_get_string (name)),
                   patches_value_get_string (name));
  self->path = g_strdup (patches_value_get_string (path));
  if (from != NULL && patches_value_get_kind (from) == PATCHES_VALUE_STRING)
    self->from = g_strdup (patches_value_get_string (from));

  for (guint i = 0; i < patches_value_object_get_size (value); i++)
    {
      const char *key = patches_value_object_key_at (value, i);
      PatchesValue *member = patches_value_object_value_at (value, i);

      if (strcmp (key, "op") == 0 || strcmp (key, "path") == 0 || strcmp (key, "from") == 0)
        continue;
      if (strcmp (key, "value") == 0)
        self->value = patches_value_ref (member);
      else if (strcmp (key, "soft") == 0)
        self->soft = patches_value_ref (member);
      else
        {
          if (self->extra == NULL)
            self->extra = patches_value_new_object ();
          patches_value_object_set (self->extra, key, patches_value_ref (member));
        }
    }

  return g_steal_pointer (&self);
}

/**
 * patches_op_to_value:
 * @self: an op
 *
 * Returns: (transfer full): the op as a JSON object, members in the order
 *   the reference's builder writes them: op, from, path, value, soft
 */
PatchesValue *
patches_op_to_value (const PatchesOp *self)
{
  PatchesValue *obj = patches_value_new_object ();
  PatchesValue *value;

  patches_value_object_set (obj, "op", patches_value_new_string (self->name));
  if (self->from != NULL)
    patches_value_object_set (obj, "from", patches_value_new_string (self->from));
  patches_value_object_set (obj, "path", patches_value_new_string (self->path));
  value = op_value (self);
  if (value != NULL)
    patches_value_object_set (obj, "value", value);
  if (self->soft != NULL)
    patches_value_object_set (obj, "soft", patches_value_ref (self->soft));
  if (self->extra != NULL)
    for (guint i = 0; i < patches_value_object_get_size (self->extra); i++)
      patches_value_object_set (obj, patches_value_object_key_at (self->extra, i),
                                patches_value_ref (patches_value_object_value_at (self->extra, i)));

  return obj;
}

/**
 * patches_op_write_json:
 * @self: an op
 * @out: string to append to
 *
 * Appends the op as `JSON.stringify` writes it.
 */
void
patches_op_write_json (const PatchesOp *self,
                       GString         *out)
{
  g_autoptr(PatchesValue) value = NULL;

  if (self->value == NULL && self->delta_parsed && self->delta != NULL && self->extra == NULL)
    {
      /* Fast path for locally made text ops: no intermediate value. */
      g_string_append (out, "{\"op\":");
      patches_js_append_string (out, self->name, -1);
      g_string_append (out, ",\"path\":");
      patches_js_append_string (out, self->path, -1);
      g_string_append (out, ",\"value\":");
      patches_delta_write_json (self->delta, out);
      if (self->soft != NULL)
        {
          g_string_append (out, ",\"soft\":");
          patches_value_write_json (self->soft, out);
        }
      g_string_append_c (out, '}');
      return;
    }

  value = patches_op_to_value (self);
  patches_value_write_json (value, out);
}

/**
 * patches_op_json_size:
 * @self: an op
 *
 * Returns: the UTF-8 byte length of the op's `JSON.stringify` form
 */
gsize
patches_op_json_size (const PatchesOp *self)
{
  g_autoptr(PatchesValue) value = NULL;

  if (self->value == NULL && self->delta_parsed && self->delta != NULL && self->extra == NULL)
    {
      /* {"op":NAME,"path":PATH,"value":DELTA[,"soft":SOFT]} */
      gsize size = strlen ("{\"op\":,\"path\":,\"value\":}") +
                   patches_js_string_size (self->name, -1) +
                   patches_js_string_size (self->path, -1) +
                   patches_delta_json_size (self->delta);

      if (self->soft != NULL)
        size += strlen (",\"soft\":") + patches_value_json_size (self->soft);
      return size;
    }

  value = patches_op_to_value (self);
  return patches_value_json_size (value);
}

/**
 * patches_op_describe:
 * @self: an op
 *
 * Returns: (transfer full): a short description for error messages
 */
char *
patches_op_describe (const PatchesOp *self)
{
  if (self->from != NULL)
    return g_strdup_printf ("%s %s → %s", self->name, self->from, self->path);
  return g_strdup_printf ("%s %s", self->name, self->path);
}
