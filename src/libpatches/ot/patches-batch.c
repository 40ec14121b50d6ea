/* patches-batch.c
 *
 * breakChanges / breakChangesIntoBatches of @dabble/patches 0.28.1
 * (OPERATIONS.md §12).  Split points depend on JSON.stringify sizes byte
 * for byte, so every size here is measured exactly as the reference
 * measures it, on the same (sometimes odd) candidate objects.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "patches-batch.h"
#include "patches-error.h"
#include "patches-patch-private.h"
#include "patches-text.h"

/* A piece compresses a little worse than its whole change. */
#define PIECE_COMPRESSION_MARGIN 1.1
#define MAX_VERIFY_PASSES        3
#define VERIFY_TIGHTEN           0.8

typedef struct {
  double                  max_bytes;
  double                  max_unsplittable;
  PatchesSizeFunc         size_func;
  gpointer                size_data;
  PatchesOversizedOpFunc  oversized_func;
  gpointer                oversized_data;
  const char             *change_id;
  PatchesSplitBudget      budget;
  gboolean                resplit;
} SplitContext;

static GPtrArray *break_single (const SplitContext *ctx,
                                PatchesChange      *orig,
                                guint               verify_pass,
                                double              known_size,
                                GError            **error);

/**
 * patches_oversized_reason_to_string:
 * @reason: a reason
 *
 * Returns: the reference's name of @reason (`op-type`, …)
 */
const char *
patches_oversized_reason_to_string (PatchesOversizedReason reason)
{
  switch (reason)
    {
    case PATCHES_OVERSIZED_OP_TYPE:
      return "op-type";
    case PATCHES_OVERSIZED_DELTA_OP:
      return "delta-op";
    case PATCHES_OVERSIZED_VALUE_NOT_OBJECT:
      return "value-not-object";
    case PATCHES_OVERSIZED_VALUE_NO_TEXT:
      return "value-no-text";
    case PATCHES_OVERSIZED_INSERT_CHUNK:
      return "insert-chunk";
    default:
      return "unknown";
    }
}

/* Sizes */

/**
 * patches_changes_json_size:
 * @changes: (element-type PatchesChange): changes
 *
 * Returns: the UTF-8 byte length of `JSON.stringify (changes)`
 */
gsize
patches_changes_json_size (GPtrArray *changes)
{
  gsize size = 2 + (changes->len > 0 ? changes->len - 1 : 0);

  for (guint i = 0; i < changes->len; i++)
    size += patches_change_json_size (g_ptr_array_index (changes, i));

  return size;
}

static double
storage_size (const SplitContext  *ctx,
              const PatchesChange *change)
{
  if (ctx->size_func != NULL)
    return ctx->size_func (change, ctx->size_data);
  return (double) patches_change_json_size (change);
}

/* {...change, ops} (all other members kept, the id included) */
static PatchesChange *
change_with_ops (const PatchesChange *change,
                 GPtrArray           *ops)
{
  PatchesChange *copy = patches_change_copy (change);

  g_ptr_array_unref (copy->ops);
  copy->ops = g_ptr_array_ref (ops);

  return copy;
}

static GPtrArray *
ops_of_one (PatchesOp *op)
{
  GPtrArray *ops = patches_ops_new ();

  g_ptr_array_add (ops, patches_op_ref (op));
  return ops;
}

/* The reference's deriveNewChange: createChange (orig.baseRev, rev, ops,
 * metadata) where metadata is every member of @orig but id, ops, rev,
 * baseRev and `created`.  A new id is made from @rev. */
static PatchesChange *
derive_change (const PatchesChange *orig,
               gint64               rev,
               GPtrArray           *ops)
{
  g_autofree char *id = patches_change_id_for_rev (rev);
  PatchesChange *piece = patches_change_new (id, orig->base_rev, rev, g_ptr_array_ref (ops),
                                             orig->created_at != -1
                                               ? orig->created_at
                                               : (double) (g_get_real_time () / 1000));

  if (orig->committed_at != -1)
    piece->committed_at = orig->committed_at;
  piece->batch_id = g_strdup (orig->batch_id);
  piece->client_id = g_strdup (orig->client_id);
  if (orig->metadata != NULL)
    {
      if (patches_value_object_has (orig->metadata, "created"))
        {
          piece->metadata = patches_value_copy_shallow (orig->metadata);
          patches_value_object_remove (piece->metadata, "created");
          if (patches_value_object_get_size (piece->metadata) == 0)
            g_clear_pointer (&piece->metadata, patches_value_unref);
        }
      else
        piece->metadata = patches_value_ref (orig->metadata);
    }

  return piece;
}

static PatchesChange *
derive_change_one (const PatchesChange *orig,
                   gint64               rev,
                   PatchesOp           *op)
{
  g_autoptr(GPtrArray) ops = ops_of_one (op);

  return derive_change (orig, rev, ops);
}

/* The op's value as JSON (a locally made `@txt` op may hold only a delta). */
static PatchesValue *
op_dup_value (PatchesOp *op)
{
  if (op->value != NULL)
    return patches_value_ref (op->value);
  if (op->kind == PATCHES_OP_TXT)
    {
      const PatchesDelta *delta = patches_op_get_delta (op);

      if (delta != NULL)
        return patches_delta_to_value (delta);
    }
  return NULL;
}

/* {...op, value} */
static PatchesOp *
op_with_value (PatchesOp    *op,
               PatchesValue *value)
{
  PatchesOp *copy = patches_op_copy (op);

  patches_op_set_value (copy, value);
  return copy;
}

/* The unsplittable guard: report, and refuse above the ceiling. */
static gboolean
guard_unsplittable (const SplitContext      *ctx,
                    const char              *op,
                    const char              *path,
                    double                   bytes,
                    PatchesOversizedReason   reason,
                    GError                 **error)
{
  gboolean emitted = bytes <= ctx->max_unsplittable;

  if (!ctx->resplit && ctx->oversized_func != NULL)
    {
      PatchesOversizedOpReport report = {
        .op = op,
        .path = path,
        .bytes = bytes,
        .max_bytes = ctx->max_bytes,
        .budget = ctx->budget,
        .change_id = ctx->change_id,
        .emitted = emitted,
        .reason = reason,
      };

      ctx->oversized_func (&report, ctx->oversized_data);
    }

  if (!emitted)
    {
      GString *bytes_str = g_string_new (NULL);
      GString *max_str = g_string_new (NULL);

      patches_js_append_number (bytes_str, bytes);
      patches_js_append_number (max_str, ctx->max_unsplittable);
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_UNSPLITTABLE,
                   "Operation %s at \"%s\" is %s bytes, cannot be split, and exceeds the %s-byte limit",
                   op, path, bytes_str->str, max_str->str);
      g_string_free (bytes_str, TRUE);
      g_string_free (max_str, TRUE);
      return FALSE;
    }


  return TRUE;
}

static void
append_all (GPtrArray *to,
            GPtrArray *from)
{
  for (guint i = 0; i < from->len; i++)
    g_ptr_array_add (to, patches_change_ref (g_ptr_array_index (from, i)));
}

/* Splitting one large @txt op (OPERATIONS.md §12.2) */

typedef struct {
  const SplitContext  *ctx;
  const PatchesChange *orig;
  PatchesOp           *text_op;
  double               per_json_byte;
  double               text_base;       /* JSON size of the change with value [] minus 2 */
  GPtrArray           *results;
  gint64               rev;
} TextSplit;

static double
estimate (double per_json_byte,
          double json_bytes)
{
  return json_bytes * per_json_byte;
}

static double
json_budget (double per_json_byte,
             double storage_bytes)
{
  return per_json_byte > 0 ? storage_bytes / per_json_byte : storage_bytes;
}

/* Storage size of {...orig, ops: [{...textOp, value: delta_ops}]} */
static double
text_measure (TextSplit    *ts,
              PatchesValue *delta_ops)
{
  g_autoptr(PatchesOp) op = NULL;
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(PatchesChange) change = NULL;

  if (ts->ctx->size_func == NULL)
    return ts->text_base + (double) patches_value_json_size (delta_ops);

  op = op_with_value (ts->text_op, patches_value_ref (delta_ops));
  ops = ops_of_one (op);
  change = change_with_ops (ts->orig, ops);
  return storage_size (ts->ctx, change);
}

static void
text_emit_piece (TextSplit    *ts,
                 PatchesValue *delta_ops)
{
  g_autoptr(PatchesOp) op = op_with_value (ts->text_op, patches_value_ref (delta_ops));

  g_ptr_array_add (ts->results, derive_change_one (ts->orig, ts->rev++, op));
}

static PatchesValue *
retain_op_new (double n)
{
  PatchesValue *op = patches_value_new_object ();

  patches_value_object_set (op, "retain", patches_value_new_number (n));
  return op;
}

static double
retain_op_size (double n)
{
  /* {"retain":N} */
  return 11 + (double) patches_js_number_size (n);
}

static PatchesValue *
with_start_retain (double        start,
                   PatchesValue *ops)
{
  PatchesValue *result = patches_value_new_array ();

  if (start > 0)
    patches_value_array_append (result, retain_op_new (start));
  for (guint i = 0; i < patches_value_array_get_length (ops); i++)
    patches_value_array_append (result, patches_value_ref (patches_value_array_get (ops, i)));

  return result;
}

static PatchesValue *
delta_op_member (PatchesValue *op,
                 const char   *key)
{
  if (op == NULL || patches_value_get_kind (op) != PATCHES_VALUE_OBJECT)
    return NULL;
  return patches_value_object_get (op, key);
}

static gint64
utf16_length (const char *utf8,
              gsize       len)
{
  return patches_utf16_length_of_utf8 (utf8, (gssize) len);
}

/* Width an op occupies in the document after it applies. */
static double
delta_op_advance (PatchesValue *op)
{
  PatchesValue *retain = delta_op_member (op, "retain");
  PatchesValue *insert = delta_op_member (op, "insert");

  if (patches_value_truthy (retain))
    {
      if (patches_value_get_kind (retain) == PATCHES_VALUE_NUMBER)
        return patches_value_get_number (retain);
      return 1;
    }
  if (insert != NULL && patches_value_get_kind (insert) == PATCHES_VALUE_STRING)
    return (double) utf16_length (patches_value_get_string (insert),
                                  patches_value_get_string_len (insert));
  if (insert != NULL)
    return 1;
  return 0;
}

/* Never cut between a surrogate pair. */
static gint64
safe_split_index (const gunichar2 *text,
                  gint64           len,
                  gint64           index)
{
  if (index > 0 && index < len && text[index] >= 0xdc00 && text[index] <= 0xdfff)
    return index - 1;
  return index;
}

typedef struct {
  TextSplit       *ts;
  const gunichar2 *text;
  PatchesValue    *attributes;   /* nullable: absent */
  double           position;
} InsertSplit;

static PatchesValue *
spread_attributes (PatchesValue *attributes)
{
  PatchesValue *copy;

  /* {...attributes} */
  if (patches_value_get_kind (attributes) == PATCHES_VALUE_OBJECT)
    return patches_value_copy_shallow (attributes);

  copy = patches_value_new_object ();
  if (patches_value_get_kind (attributes) == PATCHES_VALUE_ARRAY)
    for (guint i = 0; i < patches_value_array_get_length (attributes); i++)
      {
        char key[16];

        g_snprintf (key, sizeof key, "%u", i);
        patches_value_object_set (copy, key, patches_value_ref (patches_value_array_get (attributes, i)));
      }

  return copy;
}

static gboolean
insert_emit (InsertSplit  *is,
             gint64        start,
             gint64        len,
             GPtrArray    *pieces,
             GError      **error)
{
  g_autoptr(PatchesValue) delta_ops = patches_value_new_array ();
  g_autofree char *chunk = NULL;
  PatchesValue *insert;
  double bytes;

  chunk = g_utf16_to_utf8 (is->text + start, len, NULL, NULL, NULL);
  if (chunk == NULL)
    chunk = g_strdup ("");

  if (is->position > 0)
    patches_value_array_append (delta_ops, retain_op_new (is->position));
  insert = patches_value_new_object ();
  patches_value_object_set (insert, "insert", patches_value_new_string (chunk));
  if (patches_value_truthy (is->attributes))
    patches_value_object_set (insert, "attributes", spread_attributes (is->attributes));
  patches_value_array_append (delta_ops, insert);

  bytes = text_measure (is->ts, delta_ops);
  if (bytes > is->ts->ctx->max_bytes)
    {
      gint64 mid = safe_split_index (is->text + start, len, (len + 1) / 2);

      if (mid > 0 && mid < len)
        return insert_emit (is, start, mid, pieces, error) &&
               insert_emit (is, start + mid, len - mid, pieces, error);

      if (!guard_unsplittable (is->ts->ctx, is->ts->text_op->name, is->ts->text_op->path,
                               bytes, PATCHES_OVERSIZED_INSERT_CHUNK, error))
        return FALSE;
    }

  g_ptr_array_add (pieces, g_steal_pointer (&delta_ops));
  is->position += (double) len;
  return TRUE;
}

/* The delta-op arrays of the pieces carrying one big string insert. */
static GPtrArray *
split_large_insert (TextSplit     *ts,
                    const char    *text_utf8,
                    gsize          text_len,
                    PatchesValue  *attributes,
                    double         start_pos,
                    GError       **error)
{
  g_autoptr(GPtrArray) pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_value_unref);
  g_autofree gunichar2 *text = NULL;
  glong len = 0;
  InsertSplit is = { ts, NULL, attributes, start_pos };
  double overhead, seed_d;
  gint64 seed;

  text = g_utf8_to_utf16 (text_utf8, (glong) text_len, NULL, &len, NULL);
  if (text == NULL)
    {
      text = g_new0 (gunichar2, 1);
      len = 0;
    }
  is.text = text;

  /* The seed chunk length: {...orig, ops: [{...textOp, value:
   * [{retain: startPos || 1}, {insert: '', attributes}]}]} */
  {
    g_autoptr(PatchesValue) probe = patches_value_new_array ();
    PatchesValue *insert = patches_value_new_object ();
    g_autoptr(PatchesOp) op = NULL;
    g_autoptr(GPtrArray) ops = NULL;
    g_autoptr(PatchesChange) change = NULL;

    patches_value_array_append (probe, retain_op_new (start_pos > 0 ? start_pos : 1));
    patches_value_object_set (insert, "insert", patches_value_new_string (""));
    if (attributes != NULL)
      patches_value_object_set (insert, "attributes", patches_value_ref (attributes));
    patches_value_array_append (probe, insert);

    op = op_with_value (ts->text_op, g_steal_pointer (&probe));
    ops = ops_of_one (op);
    change = change_with_ops (ts->orig, ops);
    overhead = (double) patches_change_json_size (change);
  }

  seed_d = floor (json_budget (ts->per_json_byte, ts->ctx->max_bytes)) - overhead - 20;
  seed = seed_d < 1 ? 1 : (gint64) seed_d;

  for (gint64 i = 0; i < len;)
    {
      gint64 end = MIN ((gint64) len, i + seed);

      if (end < len)
        end = safe_split_index (text, len, end);
      if (end <= i)
        end = MIN ((gint64) len, i + 2);
      if (!insert_emit (&is, i, end - i, pieces, error))
        return NULL;
      i = end;
    }

  return g_steal_pointer (&pieces);
}

static PatchesValue *
text_op_delta_ops (PatchesValue *value)
{
  PatchesValue *ops;

  switch (patches_value_get_kind (value))
    {
    case PATCHES_VALUE_ARRAY:
      return patches_value_ref (value);
    case PATCHES_VALUE_OBJECT:
      ops = patches_value_object_get (value, "ops");
      if (patches_value_truthy (ops) && patches_value_get_kind (ops) == PATCHES_VALUE_ARRAY)
        return patches_value_ref (ops);
      ops = patches_value_new_array ();
      patches_value_array_append (ops, patches_value_ref (value));
      return ops;
    case PATCHES_VALUE_TEXT:
      {
        g_autoptr(PatchesValue) json = patches_text_to_value (patches_value_get_text (value));

        return text_op_delta_ops (json);
      }
    case PATCHES_VALUE_NULL:
    case PATCHES_VALUE_BOOL:
    case PATCHES_VALUE_NUMBER:
    case PATCHES_VALUE_STRING:
    default:
      return patches_value_new_array ();
    }
}

static GPtrArray *
break_text_op (const SplitContext  *ctx,
               const PatchesChange *orig,
               PatchesOp           *text_op,
               PatchesValue        *value,
               gint64               start_rev,
               double               per_json_byte,
               GError             **error)
{
  g_autoptr(GPtrArray) results = patches_changes_new ();
  g_autoptr(PatchesValue) delta_ops = text_op_delta_ops (value);
  g_autoptr(PatchesValue) piece_ops = patches_value_new_array ();
  TextSplit ts = { ctx, orig, text_op, per_json_byte, 0, results, start_rev };
  double text_envelope;
  double piece_start = 0, piece_advance = 0, piece_bytes = 0;

  {
    g_autoptr(PatchesOp) op = op_with_value (text_op, patches_value_new_array ());
    g_autoptr(GPtrArray) ops = ops_of_one (op);
    g_autoptr(PatchesChange) change = change_with_ops (orig, ops);

    text_envelope = (double) patches_change_json_size (change);
    ts.text_base = text_envelope - 2;
  }

#define ESTIMATE_PIECE(content, count) \
  estimate (per_json_byte, text_envelope \
                             + (piece_start > 0 ? retain_op_size (piece_start) : 0) \
                             + (content) \
                             + MAX (0, (double) (count) + (piece_start > 0 ? 1 : 0) - 1))

  for (guint i = 0; i < patches_value_array_get_length (delta_ops); i++)
    {
      PatchesValue *op = patches_value_array_get (delta_ops, i);
      double op_bytes = (double) patches_value_json_size (op);
      guint n_piece = patches_value_array_get_length (piece_ops);

      if (n_piece > 0 && ESTIMATE_PIECE (piece_bytes + op_bytes, n_piece + 1) > ctx->max_bytes)
        {
          g_autoptr(PatchesValue) full = with_start_retain (piece_start, piece_ops);

          text_emit_piece (&ts, full);
          piece_start += piece_advance;
          g_clear_pointer (&piece_ops, patches_value_unref);
          piece_ops = patches_value_new_array ();
          piece_advance = 0;
          piece_bytes = 0;
          n_piece = 0;
        }

      if (n_piece == 0 && ESTIMATE_PIECE (op_bytes, 1) > ctx->max_bytes)
        {
          g_autoptr(PatchesValue) single = patches_value_new_array ();
          g_autoptr(PatchesValue) standalone = NULL;
          double standalone_size;
          PatchesValue *insert;

          patches_value_array_append (single, patches_value_ref (op));
          standalone = with_start_retain (piece_start, single);
          standalone_size = text_measure (&ts, standalone);

          if (standalone_size > ctx->max_bytes)
            {
              insert = delta_op_member (op, "insert");
              if (insert != NULL &&
                  patches_value_get_kind (insert) == PATCHES_VALUE_STRING &&
                  patches_value_get_string_len (insert) > 0)
                {
                  g_autoptr(GPtrArray) pieces = NULL;

                  pieces = split_large_insert (&ts,
                                               patches_value_get_string (insert),
                                               patches_value_get_string_len (insert),
                                               delta_op_member (op, "attributes"),
                                               piece_start, error);
                  if (pieces == NULL)
                    return NULL;
                  for (guint p = 0; p < pieces->len; p++)
                    text_emit_piece (&ts, g_ptr_array_index (pieces, p));
                  piece_start += (double) utf16_length (patches_value_get_string (insert),
                                                        patches_value_get_string_len (insert));
                  continue;
                }

              if (!guard_unsplittable (ctx, text_op->name, text_op->path, standalone_size,
                                       PATCHES_OVERSIZED_DELTA_OP, error))
                return NULL;
              text_emit_piece (&ts, standalone);
              piece_start += delta_op_advance (op);
              continue;
            }
        }

      patches_value_array_append (piece_ops, patches_value_ref (op));
      piece_advance += delta_op_advance (op);
      piece_bytes += op_bytes;
    }

#undef ESTIMATE_PIECE

  if (patches_value_array_get_length (piece_ops) > 0)
    {
      g_autoptr(PatchesValue) full = with_start_retain (piece_start, piece_ops);

      text_emit_piece (&ts, full);
    }

  return g_steal_pointer (&results);
}

/* Extracting text from a large replace/add (OPERATIONS.md §12.3) */

static gboolean
key_is_array_index (const char *key,
                    guint32    *index)
{
  guint64 v = 0;

  if (key[0] == 0 || (key[0] == '0' && key[1] != 0))
    return FALSE;
  for (const char *p = key; *p; p++)
    {
      if (*p < '0' || *p > '9')
        return FALSE;
      v = v * 10 + (guint64) (*p - '0');
      if (v > G_MAXUINT32 - 1)
        return FALSE;
    }
  *index = (guint32) v;
  return TRUE;
}

typedef struct {
  guint32 index;
  guint   position;
} IndexKey;

static int
index_key_compare (gconstpointer a,
                   gconstpointer b)
{
  const IndexKey *ka = a, *kb = b;

  return ka->index < kb->index ? -1 : ka->index > kb->index;
}

/* Member positions of @object in JavaScript enumeration order. */
static GArray *
js_member_order (PatchesValue *object)
{
  guint n = patches_value_object_get_size (object);
  g_autoptr(GArray) indexes = g_array_new (FALSE, FALSE, sizeof (IndexKey));
  GArray *order = g_array_sized_new (FALSE, FALSE, sizeof (guint), n);

  for (guint i = 0; i < n; i++)
    {
      IndexKey k = { 0, i };

      if (key_is_array_index (patches_value_object_key_at (object, i), &k.index))
        g_array_append_val (indexes, k);
    }
  g_array_sort (indexes, index_key_compare);
  for (guint i = 0; i < indexes->len; i++)
    g_array_append_val (order, g_array_index (indexes, IndexKey, i).position);
  for (guint i = 0; i < n; i++)
    {
      guint32 ignored;

      if (!key_is_array_index (patches_value_object_key_at (object, i), &ignored))
        g_array_append_val (order, i);
    }

  return order;
}

static gboolean
is_text_document (PatchesValue *object)
{
  PatchesValue *ops = patches_value_object_get (object, "ops");

  if (ops == NULL || patches_value_get_kind (ops) != PATCHES_VALUE_ARRAY)
    return FALSE;
  for (guint i = 0; i < patches_value_array_get_length (ops); i++)
    if (delta_op_member (patches_value_array_get (ops, i), "insert") != NULL)
      return TRUE;
  return FALSE;
}

/* Replaces every rich-text object inside @value by a stub (the object
 * without `ops`) and records a @txt op for it.  Paths are joined without
 * escaping, as the reference does. */
static PatchesValue *
strip_text_deltas (PatchesValue *value,
                   const char   *base_path,
                   GPtrArray    *text_ops)
{
  g_autoptr(PatchesValue) json = NULL;
  g_autoptr(GArray) order = NULL;
  PatchesValue *result;

  if (!patches_value_truthy (value))
    return value ? patches_value_ref (value) : NULL;

  if (patches_value_get_kind (value) == PATCHES_VALUE_TEXT)
    {
      json = patches_text_to_value (patches_value_get_text (value));
      value = json;
    }

  if (patches_value_get_kind (value) != PATCHES_VALUE_OBJECT)
    return patches_value_ref (value);

  if (is_text_document (value))
    {
      PatchesValue *stub = patches_value_copy_shallow (value);

      g_ptr_array_add (text_ops,
                       patches_op_new (PATCHES_OP_TXT, base_path, NULL,
                                       patches_value_ref (patches_value_object_get (value, "ops"))));
      patches_value_object_remove (stub, "ops");
      return stub;
    }

  order = js_member_order (value);
  result = patches_value_new_object ();
  for (guint i = 0; i < order->len; i++)
    {
      guint pos = g_array_index (order, guint, i);
      const char *key = patches_value_object_key_at (value, pos);
      g_autofree char *path = g_strconcat (base_path, "/", key, NULL);

      patches_value_object_set (result, key,
                                strip_text_deltas (patches_value_object_value_at (value, pos),
                                                   path, text_ops));
    }

  return result;
}

static GPtrArray *
break_large_value_op (const SplitContext  *ctx,
                      PatchesChange       *orig,
                      PatchesOp           *op,
                      gint64               start_rev,
                      GError             **error)
{
  g_autoptr(PatchesValue) value = op_dup_value (op);
  g_autoptr(GPtrArray) text_ops = NULL;
  g_autoptr(PatchesValue) stripped = NULL;
  g_autoptr(GPtrArray) all_ops = NULL;
  g_autoptr(PatchesChange) combined = NULL;
  PatchesOversizedReason reason;
  double combined_size;

  if (!patches_value_truthy (value) ||
      (patches_value_get_kind (value) != PATCHES_VALUE_OBJECT &&
       patches_value_get_kind (value) != PATCHES_VALUE_TEXT))
    {
      reason = PATCHES_OVERSIZED_VALUE_NOT_OBJECT;
      goto as_is;
    }

  text_ops = patches_ops_new ();
  stripped = strip_text_deltas (value, op->path, text_ops);
  if (text_ops->len == 0)
    {
      reason = PATCHES_OVERSIZED_VALUE_NO_TEXT;
      goto as_is;
    }

  all_ops = patches_ops_new ();
  g_ptr_array_add (all_ops, op_with_value (op, g_steal_pointer (&stripped)));
  for (guint i = 0; i < text_ops->len; i++)
    g_ptr_array_add (all_ops, patches_op_ref (g_ptr_array_index (text_ops, i)));
  combined = derive_change (orig, start_rev, all_ops);

  combined_size = storage_size (ctx, combined);
  if (combined_size <= ctx->max_bytes)
    {
      GPtrArray *result = patches_changes_new ();

      g_ptr_array_add (result, g_steal_pointer (&combined));
      return result;
    }

  return break_single (ctx, combined, 0, combined_size, error);

as_is:
  {
    g_autoptr(PatchesChange) piece = derive_change_one (orig, start_rev, op);
    GPtrArray *result;

    if (!guard_unsplittable (ctx, op->name, op->path, storage_size (ctx, piece), reason, error))
      return NULL;
    result = patches_changes_new ();
    g_ptr_array_add (result, g_steal_pointer (&piece));
    return result;
  }
}

/* Splitting one change (OPERATIONS.md §12.1) */

static GPtrArray *
verify_pieces (const SplitContext   *ctx,
               GPtrArray            *pieces,
               const PatchesChange  *orig,
               guint                 pass,
               GError              **error)
{
  g_autoptr(GPtrArray) checked = NULL;
  gboolean resplit = FALSE;
  GPtrArray *result;

  if (ctx->size_func == NULL || pass >= MAX_VERIFY_PASSES || pieces->len == 0)
    return g_ptr_array_ref (pieces);

  checked = patches_changes_new ();
  for (guint i = 0; i < pieces->len; i++)
    {
      PatchesChange *piece = g_ptr_array_index (pieces, i);
      double size = piece->ops->len == 0 ? 0 : storage_size (ctx, piece);
      SplitContext tightened;
      g_autoptr(GPtrArray) again = NULL;

      if (size <= ctx->max_bytes)
        {
          g_ptr_array_add (checked, patches_change_ref (piece));
          continue;
        }

      resplit = TRUE;
      tightened = *ctx;
      tightened.max_bytes = floor (ctx->max_bytes * VERIFY_TIGHTEN);
      tightened.resplit = TRUE;
      again = break_single (&tightened, piece, pass + 1, size, error);
      if (again == NULL)
        return NULL;
      append_all (checked, again);
    }

  if (!resplit)
    return g_ptr_array_ref (pieces);

  result = patches_changes_new ();
  for (guint i = 0; i < checked->len; i++)
    {
      PatchesChange *copy = patches_change_copy (g_ptr_array_index (checked, i));

      copy->rev = orig->rev + i;
      if (i == 0)
        {
          g_free (copy->id);
          copy->id = g_strdup (orig->id);
        }
      g_ptr_array_add (result, copy);
    }

  return result;
}

static GPtrArray *
break_single (const SplitContext  *ctx,
              PatchesChange       *orig,
              guint                verify_pass,
              double               known_size,
              GError             **error)
{
  g_autoptr(GPtrArray) by_ops = NULL;
  g_autoptr(GPtrArray) group = NULL;
  double exact_size, json_size, per_json_byte, envelope;
  double group_bytes = 0;
  gint64 rev = orig->rev;

  exact_size = known_size >= 0 ? known_size : storage_size (ctx, orig);
  if (exact_size <= ctx->max_bytes)
    {
      GPtrArray *result = patches_changes_new ();

      g_ptr_array_add (result, patches_change_ref (orig));
      return result;
    }

  json_size = (double) patches_change_json_size (orig);
  per_json_byte = (json_size > 0 ? exact_size / json_size : 1)
                  * (ctx->size_func ? PIECE_COMPRESSION_MARGIN : 1);
  {
    g_autoptr(GPtrArray) none = patches_ops_new ();
    g_autoptr(PatchesChange) bare = change_with_ops (orig, none);

    envelope = (double) patches_change_json_size (bare);
  }

  by_ops = patches_changes_new ();
  group = patches_ops_new ();

  for (guint i = 0; i < orig->ops->len; i++)
    {
      PatchesOp *op = g_ptr_array_index (orig->ops, i);
      double op_bytes = (double) patches_op_json_size (op);

      if (group->len > 0 &&
          estimate (per_json_byte, envelope + group_bytes + op_bytes + group->len) > ctx->max_bytes)
        {
          g_ptr_array_add (by_ops, derive_change (orig, rev++, group));
          g_clear_pointer (&group, g_ptr_array_unref);
          group = patches_ops_new ();
          group_bytes = 0;
        }

      if (group->len == 0 && estimate (per_json_byte, envelope + op_bytes) > ctx->max_bytes)
        {
          g_autoptr(GPtrArray) solo_ops = ops_of_one (op);
          g_autoptr(PatchesChange) solo = change_with_ops (orig, solo_ops);
          double solo_size = storage_size (ctx, solo);

          if (solo_size > ctx->max_bytes)
            {
              g_autoptr(PatchesValue) value = NULL;
              g_autoptr(GPtrArray) pieces = NULL;

              if (strcmp (op->name, "@txt") == 0 &&
                  patches_value_truthy (value = op_dup_value (op)))
                pieces = break_text_op (ctx, orig, op, value, rev, per_json_byte, error);
              else if (strcmp (op->name, "replace") == 0 || strcmp (op->name, "add") == 0)
                pieces = break_large_value_op (ctx, orig, op, rev, error);
              else
                {
                  if (!guard_unsplittable (ctx, op->name, op->path, solo_size,
                                           PATCHES_OVERSIZED_OP_TYPE, error))
                    return NULL;
                  g_ptr_array_add (group, patches_op_ref (op));
                  group_bytes += op_bytes;
                  continue;
                }

              if (pieces == NULL)
                return NULL;
              append_all (by_ops, pieces);
              if (pieces->len > 0)
                rev = ((PatchesChange *) g_ptr_array_index (pieces, pieces->len - 1))->rev + 1;
              continue;
            }
        }

      g_ptr_array_add (group, patches_op_ref (op));
      group_bytes += op_bytes;
    }

  if (group->len > 0)
    g_ptr_array_add (by_ops, derive_change (orig, rev++, group));

  /* The first piece keeps the original id. */
  if (by_ops->len > 0)
    {
      PatchesChange *old = g_ptr_array_index (by_ops, 0);
      PatchesChange *first = patches_change_copy (old);

      g_free (first->id);
      first->id = g_strdup (orig->id);
      g_ptr_array_index (by_ops, 0) = first;
      patches_change_unref (old);
    }

  return verify_pieces (ctx, by_ops, orig, verify_pass, error);
}

static void
context_init (SplitContext              *ctx,
              double                     max_bytes,
              const PatchesSplitOptions *options)
{
  memset (ctx, 0, sizeof *ctx);
  ctx->max_bytes = max_bytes;
  ctx->max_unsplittable = INFINITY;
  if (options != NULL)
    {
      if (options->max_unsplittable_bytes > 0)
        ctx->max_unsplittable = (double) options->max_unsplittable_bytes;
      ctx->size_func = options->size_func;
      ctx->size_data = options->size_data;
      ctx->oversized_func = options->oversized_func;
      ctx->oversized_data = options->oversized_data;
      ctx->budget = options->budget;
    }
}

static GPtrArray *
break_changes_with (const SplitContext  *base,
                    GPtrArray           *changes,
                    GError             **error)
{
  g_autoptr(GPtrArray) results = patches_changes_new ();
  gint64 shift = 0;

  for (guint i = 0; i < changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (changes, i);
      g_autoptr(PatchesChange) shifted = NULL;
      g_autoptr(GPtrArray) pieces = NULL;
      SplitContext ctx = *base;

      if (shift != 0)
        {
          shifted = patches_change_copy (change);
          shifted->rev = change->rev + shift;
        }
      else
        shifted = patches_change_ref (change);

      ctx.change_id = change->id;
      pieces = break_single (&ctx, shifted, 0, -1, error);
      if (pieces == NULL)
        return NULL;
      shift += (gint64) pieces->len - 1;
      append_all (results, pieces);
    }

  return g_steal_pointer (&results);
}

/**
 * patches_break_changes:
 * @changes: (element-type PatchesChange): changes, in rev order
 * @max_bytes: the budget per change
 * @options: (nullable): size function, unsplittable ceiling, reporting
 * @error: return location for a #GError
 *
 * Splits every change whose size exceeds @max_bytes into sequential pieces
 * (OPERATIONS.md §12.1): by ops, then a large `@txt` op by its delta, a
 * large `replace`/`add` by extracting its rich text.  The first piece keeps
 * the change's id, the others get ids made from their rev; later changes
 * shift up so revs never collide.  Fails with %PATCHES_ERROR_UNSPLITTABLE
 * when an op that cannot be split exceeds @options' ceiling.
 *
 * Returns: (transfer full) (nullable) (element-type PatchesChange): the
 *   pieces, or %NULL with @error set
 */
GPtrArray *
patches_break_changes (GPtrArray                 *changes,
                       gsize                      max_bytes,
                       const PatchesSplitOptions *options,
                       GError                   **error)
{
  SplitContext ctx;

  g_return_val_if_fail (changes != NULL, NULL);

  context_init (&ctx, (double) max_bytes, options);
  return break_changes_with (&ctx, changes, error);
}

/**
 * patches_break_changes_into_batches:
 * @changes: (element-type PatchesChange): the pending changes
 * @options: (nullable): budgets and callbacks
 * @error: return location for a #GError
 *
 * Splits pending changes for upload (OPERATIONS.md §12.4): first under the
 * storage budget if one is set; then, unless the whole list is smaller
 * than the payload budget (returned as one batch, unchanged), under the
 * payload budget, and packs the result greedily into batches, every change
 * carrying `batchId` = the id of the first change passed in.
 *
 * Returns: (transfer full) (nullable) (element-type GPtrArray): the
 *   batches, each an array of #PatchesChange, or %NULL with @error set
 */
GPtrArray *
patches_break_changes_into_batches (GPtrArray                 *changes,
                                    const PatchesSplitOptions *options,
                                    GError                   **error)
{
  g_autoptr(GPtrArray) processed = NULL;
  g_autoptr(GPtrArray) batches = NULL;
  g_autoptr(GPtrArray) current = NULL;
  SplitContext ctx;
  double max_payload = PATCHES_DEFAULT_MAX_PAYLOAD_BYTES;
  double size;
  const char *batch_id;

  g_return_val_if_fail (changes != NULL, NULL);

  if (options != NULL && options->max_payload_bytes > 0)
    max_payload = (double) options->max_payload_bytes;

  batches = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);

  if (options != NULL && options->max_storage_bytes > 0)
    {
      context_init (&ctx, (double) options->max_storage_bytes, options);
      ctx.budget = PATCHES_SPLIT_BUDGET_STORAGE;
      processed = break_changes_with (&ctx, changes, error);
      if (processed == NULL)
        return NULL;
    }
  else
    processed = g_ptr_array_ref (changes);

  if ((double) patches_changes_json_size (processed) < max_payload || changes->len == 0)
    {
      GPtrArray *batch = patches_changes_new ();

      append_all (batch, processed);
      g_ptr_array_add (batches, batch);
      return g_steal_pointer (&batches);
    }

  /* Stable across retries: the id of the queue head as passed in. */
  batch_id = ((PatchesChange *) g_ptr_array_index (changes, 0))->id;

  /* The wire re-split: raw JSON sizes, no ceiling. */
  context_init (&ctx, max_payload, NULL);
  if (options != NULL)
    {
      ctx.oversized_func = options->oversized_func;
      ctx.oversized_data = options->oversized_data;
    }
  ctx.budget = PATCHES_SPLIT_BUDGET_PAYLOAD;
  {
    GPtrArray *split = break_changes_with (&ctx, processed, error);

    if (split == NULL)
      return NULL;
    g_ptr_array_unref (processed);
    processed = split;
  }

  current = patches_changes_new ();
  size = 2;
  for (guint i = 0; i < processed->len; i++)
    {
      PatchesChange *item = patches_change_copy (g_ptr_array_index (processed, i));
      double item_size;

      g_free (item->batch_id);
      item->batch_id = g_strdup (batch_id);
      item_size = (double) patches_change_json_size (item);

      if (current->len > 0 && size + item_size + 1 > max_payload)
        {
          g_ptr_array_add (batches, g_steal_pointer (&current));
          current = patches_changes_new ();
          size = 2;
        }

      size += item_size + (current->len > 0 ? 1 : 0);
      g_ptr_array_add (current, item);
    }

  if (current->len > 0)
    g_ptr_array_add (batches, g_steal_pointer (&current));

  return g_steal_pointer (&batches);
}
