/* patches-invert.c
 *
 * invertPatch (OPERATIONS.md §9): the patch that undoes a patch, computed
 * against the document it was applied to, exactly as @dabble/patches
 * 0.28.1 computes it (with the correct Delta inverse for rich text, §16 #5).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-error.h"
#include "patches-js-private.h"
#include "patches-patch-private.h"
#include "patches-pointer.h"
#include "patches-text.h"

#define PATCH_MISMATCH \
  "Patch mismatch. This patch was not applied to the provided object and cannot be inverted. "

/* Where an op's prior value was read from (§9). */
typedef struct {
  PatchesValue *holder;       /* the container the last key is read from */
  gboolean      in_wrapper;   /* the holder is the wrapper around the state */
  const char   *key;          /* the last key, decoded */
  PatchesValue *value;        /* the prior value, %NULL when missing */
  gboolean      is_index;
} Prior;

/* A canonical array index as JavaScript property names spell one:
 * "0" or [1-9][0-9]*, below 2³² − 1. */
static gboolean
parse_canonical_index (const char *key,
                       guint      *index)
{
  gsize len = strlen (key);
  guint64 v = 0;

  if (len == 0 || len > 10 || (key[0] == '0' && len > 1))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (key[i]))
        return FALSE;
      v = v * 10 + (key[i] - '0');
    }
  if (v >= G_MAXUINT32)
    return FALSE;

  *index = (guint) v;
  return TRUE;
}

/* `holder[key]` with plain JavaScript property access.  Values made up on
 * the way (a string's character, a length, a text's `ops`) are kept alive
 * by @keep.  Names every object inherits (`constructor`, `toString`, …)
 * are not modelled (§16 #4). */
static PatchesValue *
js_property_get (PatchesValue *holder,
                 const char   *key,
                 GPtrArray    *keep)
{
  guint index;

  switch (patches_value_get_kind (holder))
    {
    case PATCHES_VALUE_OBJECT:
      return patches_value_object_get (holder, key);

    case PATCHES_VALUE_ARRAY:
      if (strcmp (key, "length") == 0)
        {
          PatchesValue *length = patches_value_new_number (patches_value_array_get_length (holder));

          g_ptr_array_add (keep, length);
          return length;
        }
      if (parse_canonical_index (key, &index) && index < patches_value_array_get_length (holder))
        return patches_value_array_get (holder, index);
      return NULL;

    case PATCHES_VALUE_STRING:
      {
        /* A string's characters and length count UTF-16 code units (§1.2).
         * Half of a surrogate pair has no UTF-8 form: U+FFFD stands in
         * for it (§16 #3). */
        glong n_units = 0;
        g_autofree gunichar2 *units = g_utf8_to_utf16 (patches_value_get_string (holder),
                                                       patches_value_get_string_len (holder),
                                                       NULL, &n_units, NULL);
        PatchesValue *result = NULL;

        if (units == NULL)
          return NULL;

        if (strcmp (key, "length") == 0)
          result = patches_value_new_number (n_units);
        else if (parse_canonical_index (key, &index) && index < (guint) n_units)
          {
            char utf8[8] = { 0 };
            gunichar c = units[index];

            if (c >= 0xD800 && c <= 0xDFFF)
              c = 0xFFFD;
            g_unichar_to_utf8 (c, utf8);
            result = patches_value_new_string (utf8);
          }

        if (result != NULL)
          g_ptr_array_add (keep, result);
        return result;
      }

    case PATCHES_VALUE_TEXT:
      /* In the library a text value is a Delta instance; its one data
       * property is `ops`. */
      if (strcmp (key, "ops") == 0)
        {
          PatchesValue *json = patches_text_to_value (patches_value_get_text (holder));

          g_ptr_array_add (keep, json);
          return patches_value_object_get (json, "ops");
        }
      return NULL;

    case PATCHES_VALUE_NULL:
    case PATCHES_VALUE_BOOL:
    case PATCHES_VALUE_NUMBER:
    default:
      return NULL;
    }
}

/* JavaScript throws when a property is read from `undefined` or `null`;
 * the library wraps that TypeError into its "Patch mismatch" error. */
static gboolean
check_holder (PatchesValue  *holder,
              const char    *key,
              GError       **error)
{
  if (holder != NULL && patches_value_get_kind (holder) != PATCHES_VALUE_NULL)
    return TRUE;

  g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_CANNOT_INVERT,
               PATCH_MISMATCH "Cannot read properties of %s (reading '%s')",
               holder == NULL ? "undefined" : "null", key);
  return FALSE;
}

/* Reads the value an op is about to change (§9).  The walk starts at a
 * wrapper `{"": state}` and follows every decoded key with plain property
 * access, so `""` reads the whole state, and a path with no leading `/`
 * reads a slot beside the document (missing, as apply sees it, §2.2).
 * Unlike apply, nothing is created: a missing holder on the way is an
 * error, even for an `add` whose parent apply would create. */
static gboolean
read_prior (PatchesValue  *state,
            char         **keys,
            GPtrArray     *keep,
            Prior         *prior,
            GError       **error)
{
  guint n_keys = g_strv_length (keys);
  PatchesValue *holder;

  memset (prior, 0, sizeof *prior);

  /* patches_pointer_decode() never returns an empty list, but a
   * malformed op must not crash us. */
  if (n_keys == 0)
    {
      prior->in_wrapper = TRUE;
      prior->key = "";
      prior->value = state;
      return TRUE;
    }

  prior->key = keys[n_keys - 1];

  if (n_keys == 1)
    {
      prior->in_wrapper = TRUE;
      prior->value = keys[0][0] == 0 ? state : NULL;
      return TRUE;
    }

  holder = keys[0][0] == 0 ? state : NULL;
  for (guint i = 1; i + 1 < n_keys; i++)
    {
      if (!check_holder (holder, keys[i], error))
        return FALSE;
      holder = js_property_get (holder, keys[i], keep);
    }

  if (!check_holder (holder, prior->key, error))
    return FALSE;

  prior->holder = holder;
  prior->value = js_property_get (holder, prior->key, keep);
  /* `isIndex = key >= 0` on an array holder: the key goes through
   * ToNumber, so "" and "007" count, "-" does not. */
  prior->is_index = patches_value_get_kind (holder) == PATCHES_VALUE_ARRAY &&
                    patches_js_string_to_number (prior->key, strlen (prior->key)) >= 0;

  return TRUE;
}

static gboolean
is_append_path (const char *path)
{
  gsize len = strlen (path);

  return len >= 2 && strcmp (path + len - 2, "/-") == 0;
}

/* An append (`…/-`) is undone at the index it landed on: the path with
 * `-` replaced by the holder's length before the op. */
static char *
resolve_append_path (const char *path,
                     Prior      *prior,
                     GPtrArray  *keep)
{
  gsize len = strlen (path);
  PatchesValue *length = NULL;
  g_autofree char *length_str = NULL;

  if (!is_append_path (path))
    return g_strdup (path);

  if (!prior->in_wrapper && prior->holder != NULL)
    length = js_property_get (prior->holder, "length", keep);
  length_str = patches_js_to_string (length);

  return g_strdup_printf ("%.*s%s", (int) (len - 1), path, length_str);
}

static PatchesValue *
ref_or_null (PatchesValue *value)
{
  return value != NULL ? patches_value_ref (value) : NULL;
}

/* `new Delta(value)`: a Delta's ops, a bare op array, an `{"ops": [...]}`
 * object; anything else is a change with no ops. */
static PatchesDelta *
text_change_from_op (PatchesOp *op)
{
  const PatchesDelta *delta;

  if (op->value != NULL && patches_value_get_kind (op->value) == PATCHES_VALUE_TEXT)
    delta = patches_text_get_delta (patches_value_get_text (op->value));
  else
    delta = patches_op_get_delta (op);

  return delta != NULL ? patches_delta_copy (delta) : patches_delta_new ();
}

/* The prior value as a document Delta, whatever form it is stored in: a
 * text value written by `@txt`, an `{"ops": [...]}` object or a bare op
 * array (§9).  %NULL when it is none of these. */
static PatchesDelta *
text_base_from_value (PatchesValue *value)
{
  switch (patches_value_get_kind (value))
    {
    case PATCHES_VALUE_TEXT:
      return patches_delta_copy (patches_text_get_delta (patches_value_get_text (value)));
    case PATCHES_VALUE_OBJECT:
    case PATCHES_VALUE_ARRAY:
      return patches_delta_from_value (value, NULL);
    case PATCHES_VALUE_NULL:
    case PATCHES_VALUE_BOOL:
    case PATCHES_VALUE_NUMBER:
    case PATCHES_VALUE_STRING:
    default:
      return NULL;
    }
}

/* Delta.invert() only reads the base document under a delete or an
 * attributed retain (§6.7). */
static gboolean
text_change_reads_base (const PatchesDelta *change)
{
  for (guint i = 0; i < patches_delta_get_n_ops (change); i++)
    {
      const PatchesDeltaOp *dop = patches_delta_get_op (change, i);

      if (dop->length <= 0)
        continue;
      if (dop->kind == PATCHES_DELTA_DELETE)
        return TRUE;
      if (dop->kind == PATCHES_DELTA_RETAIN && dop->attributes != NULL)
        return TRUE;
    }

  return FALSE;
}

static PatchesOp *
invert_text (PatchesOp     *op,
             const char    *path,
             PatchesValue  *prior_value,
             GError       **error)
{
  g_autoptr(PatchesDelta) change = text_change_from_op (op);
  g_autoptr(PatchesDelta) base = NULL;

  base = text_base_from_value (prior_value);
  if (base == NULL)
    {
      /* The library calls base.slice() here and throws a TypeError; an
       * inverse that ignored the value could not restore it either. */
      if (text_change_reads_base (change))
        {
          g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_CANNOT_INVERT,
                       "Cannot invert @txt at %s: the value there is not a rich-text document",
                       path);
          return NULL;
        }
      base = patches_delta_new ();
    }

  /* compose and invert emit op arrays (§6.10); the op serialises its
   * delta as one. */
  return patches_op_new_text (path, patches_delta_invert (change, base));
}

/* The inverse of one op (§9 table).  Returns %FALSE with @error set when
 * the op cannot be inverted; *@inverse is %NULL for ops with no inverse
 * (`test`). */
static gboolean
invert_op (PatchesOp     *op,
           const char    *path,
           Prior         *prior,
           GPtrArray     *keep,
           PatchesOp    **inverse,
           GError       **error)
{
  g_autofree char *target = NULL;

  *inverse = NULL;

  switch (op->kind)
    {
    case PATCHES_OP_ADD:
    case PATCHES_OP_COPY:
      target = resolve_append_path (path, prior, keep);
      if (is_append_path (path) || prior->is_index || prior->value == NULL)
        *inverse = patches_op_new (PATCHES_OP_REMOVE, target, NULL, NULL);
      else
        *inverse = patches_op_new (PATCHES_OP_REPLACE, path, NULL, patches_value_ref (prior->value));
      return TRUE;

    case PATCHES_OP_REMOVE:
      /* A key that was not there gives an `add` without a value, which
       * fails when applied, as in the library. */
      *inverse = patches_op_new (PATCHES_OP_ADD, path, NULL, ref_or_null (prior->value));
      return TRUE;

    case PATCHES_OP_REPLACE:
    case PATCHES_OP_INC:
    case PATCHES_OP_BIT:
    case PATCHES_OP_MAX:
    case PATCHES_OP_MIN:
      target = resolve_append_path (path, prior, keep);
      if (prior->value == NULL)
        *inverse = patches_op_new (PATCHES_OP_REMOVE, target, NULL, NULL);
      else
        *inverse = patches_op_new (PATCHES_OP_REPLACE, target, NULL, patches_value_ref (prior->value));
      return TRUE;

    case PATCHES_OP_MOVE:
      /* Without a source the op itself fails hard when applied (§3); the
       * placeholder never leaves this file. */
      *inverse = patches_op_new (PATCHES_OP_MOVE, op->from != NULL ? op->from : "", path, NULL);
      return TRUE;

    case PATCHES_OP_TEST:
      return TRUE;

    case PATCHES_OP_TXT:
      target = resolve_append_path (path, prior, keep);
      if (prior->value == NULL)
        *inverse = patches_op_new (PATCHES_OP_REMOVE, target, NULL, NULL);
      else
        *inverse = invert_text (op, target, prior->value, error);
      return *inverse != NULL;

    case PATCHES_OP_UNKNOWN:
    default:
      g_set_error_literal (error, PATCHES_ERROR, PATCHES_ERROR_CANNOT_INVERT,
                           "Unknown patch operation, cannot invert");
      return FALSE;
    }
}

/**
 * patches_ops_invert:
 * @ops: (element-type PatchesOp): a patch
 * @doc: (nullable): the document before @ops, %NULL for no document
 * @error: return location for a #GError
 *
 * invertPatch (OPERATIONS.md §9).  Each op's prior value is read from
 * the state the ops before it produced (the state is advanced with a
 * lenient apply after each op); the inverses come back in the order in
 * which they must be applied, ops without one (`test`) omitted.
 *
 * A rich-text prior value is read as a document Delta whether it is a
 * text value, an `{"ops": [...]}` object or a bare op array, so `@txt`
 * inverts correctly where the library crashes or slices by op (§16 #5).
 *
 * Returns: (transfer full) (element-type PatchesOp) (nullable): the
 *   inverse ops, or %NULL with @error set: %PATCHES_ERROR_CANNOT_INVERT
 *   with the library's message ("Patch mismatch. …", "Unknown patch
 *   operation, cannot invert"), or the error of an op that fails hard
 *   when applied
 */
GPtrArray *
patches_ops_invert (GPtrArray     *ops,
                    PatchesValue  *doc,
                    GError       **error)
{
  g_autoptr(GPtrArray) inverses = patches_ops_new ();
  g_autoptr(PatchesValue) state = NULL;

  g_return_val_if_fail (ops != NULL, NULL);

  /* Our own reference: apply works copy-on-write, so the caller's
   * document and every prior value held by an inverse stay intact. */
  state = ref_or_null (doc);

  for (guint i = 0; i < ops->len; i++)
    {
      PatchesOp *op = g_ptr_array_index (ops, i);
      const char *path = op->path != NULL ? op->path : "";
      g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_value_unref);
      g_autoptr(GPtrArray) one = NULL;
      g_auto(GStrv) keys = patches_pointer_decode (path);
      PatchesOp *inverse = NULL;
      Prior prior;

      if (!read_prior (state, keys, keep, &prior, error))
        return NULL;

      if (!invert_op (op, path, &prior, keep, &inverse, error))
        return NULL;

      if (inverse != NULL)
        g_ptr_array_add (inverses, inverse);

      one = patches_ops_new ();
      g_ptr_array_add (one, patches_op_ref (op));
      if (!patches_ops_apply (one, &state, PATCHES_APPLY_DEFAULT, NULL, NULL, error))
        return NULL;

      if (op->kind == PATCHES_OP_MOVE && op->from == NULL)
        {
          g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_CANNOT_INVERT,
                       "Cannot invert move to %s: it has no from", path);
          return NULL;
        }
    }

  /* Undo the last op first. */
  for (guint i = 0; i < inverses->len / 2; i++)
    {
      gpointer *pdata = inverses->pdata;
      gpointer tmp = pdata[i];

      pdata[i] = pdata[inverses->len - 1 - i];
      pdata[inverses->len - 1 - i] = tmp;
    }

  return g_steal_pointer (&inverses);
}

/**
 * patches_patch_invert:
 * @self: a patch
 * @doc: (nullable): the document @self is applied to, %NULL for none
 * @error: return location for a #GError
 *
 * The patch that undoes @self: applying @self to @doc and then the
 * result gives @doc back (see patches_ops_invert() for the cases where
 * the reference does not promise that, such as a `move` that overwrote a
 * key).
 *
 * Returns: (transfer full) (nullable): the inverse, or %NULL with @error
 *   set (%PATCHES_ERROR_CANNOT_INVERT when @self was not made for @doc or
 *   holds an unknown op)
 */
PatchesPatch *
patches_patch_invert (const PatchesPatch  *self,
                      PatchesValue        *doc,
                      GError             **error)
{
  GPtrArray *ops;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ops = patches_ops_invert (patches_patch_get_ops (self), doc, error);
  if (ops == NULL)
    return NULL;

  return patches_patch_new_take (ops);
}
