/* patches-apply.c: applyPatch (OPERATIONS.md §2, §4, §5, §6.10)
 *
 * Documents are trees of reference-counted values changed copy-on-write:
 * a write makes every container on its path unshared first
 * (patches_value_make_mutable), so a caller that keeps a reference to
 * the old document still sees it unchanged, and a caller that hands over
 * its only reference gets the edit in place, without copies.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-error.h"
#include "patches-js-private.h"
#include "patches-patch-private.h"
#include "patches-pointer.h"
#include "patches-text.h"
#include "patches-value-private.h"

/* Largest hole a write past the end of an array may leave (see
 * walk_create()).  A deliberate limit: the reference would build a sparse
 * array whose JSON form no peer could hold. */
#define MAX_ARRAY_GAP 100000

/* What one op handler returns (§1.6, §4.3). */
typedef enum {
  OP_OK,
  OP_FAILED,    /* an ordinary failure, handled by the apply policy */
  OP_HARD,      /* the reference throws a runtime error: always aborts */
} OpResult;

typedef struct {
  PatchesValue      **root;      /* working document; *root NULL = none */
  GPtrArray          *temps;     /* values made up while reading */
  PatchesApplyFlags   flags;
  char               *message;   /* why the current op failed */
} Apply;

static OpResult G_GNUC_PRINTF (3, 4)
fail (Apply      *ap,
      OpResult    result,
      const char *format,
      ...)
{
  va_list args;

  g_free (ap->message);
  va_start (args, format);
  ap->message = g_strdup_vprintf (format, args);
  va_end (args);

  return result;
}

static PatchesValue *
keep_temp (Apply        *ap,
           PatchesValue *value)
{
  if (ap->temps == NULL)
    ap->temps = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_value_unref);
  g_ptr_array_add (ap->temps, value);
  return value;
}

static gboolean
is_canonical_index (const char *key,
                    guint64    *index)
{
  guint64 v = 0;
  gsize len = strlen (key);

  if (len == 0 || len > 15 || (key[0] == '0' && len > 1))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (key[i] < '0' || key[i] > '9')
        return FALSE;
      v = v * 10 + (key[i] - '0');
    }
  *index = v;
  return TRUE;
}

static gboolean
is_primitive (const PatchesValue *value)
{
  return value != NULL && !patches_value_is_container (value);
}

/* UTF-16 length of a UTF-8 string. */
static guint64
utf16_length (const char *s)
{
  guint64 n = 0;

  for (const guchar *p = (const guchar *) s; *p; p++)
    {
      if ((*p & 0xC0) != 0x80)
        n += (*p >= 0xF0) ? 2 : 1;
    }
  return n;
}

/* JavaScript property read `holder[key]` (§2.5): object members, array
 * elements at canonical indexes and `length`, a string's code units and
 * `length`; a rich-text value is a Delta whose only property is `ops`. */
static PatchesValue *
js_get (Apply        *ap,
        PatchesValue *holder,
        const char   *key)
{
  guint64 index;

  if (holder == NULL)
    return NULL;

  switch (patches_value_get_kind (holder))
    {
    case PATCHES_VALUE_OBJECT:
      return patches_value_object_get (holder, key);

    case PATCHES_VALUE_ARRAY:
      if (strcmp (key, "length") == 0)
        return keep_temp (ap, patches_value_new_number (patches_value_array_get_length (holder)));
      if (!is_canonical_index (key, &index) || index >= patches_value_array_get_length (holder))
        return NULL;
      return patches_value_array_get (holder, (guint) index);

    case PATCHES_VALUE_STRING:
      {
        const char *s = patches_value_get_string (holder);

        if (strcmp (key, "length") == 0)
          return keep_temp (ap, patches_value_new_number (utf16_length (s)));
        if (!is_canonical_index (key, &index))
          return NULL;
        for (const char *p = s; *p; p = g_utf8_next_char (p))
          {
            gunichar c = g_utf8_get_char (p);
            guint units = c >= 0x10000 ? 2 : 1;

            if (index < units)
              return keep_temp (ap, patches_value_new_string_len (p, g_utf8_next_char (p) - p));
            index -= units;
          }
        return NULL;
      }

    case PATCHES_VALUE_TEXT:
      if (strcmp (key, "ops") == 0)
        {
          g_autoptr(PatchesValue) json = patches_text_to_value (patches_value_get_text (holder));
          return keep_temp (ap, patches_value_ref (patches_value_object_get (json, "ops")));
        }
      return NULL;

    case PATCHES_VALUE_NULL:
    case PATCHES_VALUE_BOOL:
    case PATCHES_VALUE_NUMBER:
    default:
      return NULL;
    }
}

/* A parsed path.  keys[0] is the root holder's key: "" for a normal
 * pointer; anything else means the path addresses a slot beside the
 * document (§2.2). */
typedef struct {
  char  **keys;
  guint   n_keys;
} Path;

static void
path_init (Path       *p,
           const char *path)
{
  p->keys = patches_pointer_decode_packed (path, &p->n_keys);
}

static void
path_clear (Path *p)
{
  g_clear_pointer (&p->keys, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Path, path_clear)

static gboolean
path_is_beside (const Path *p)
{
  return p->keys[0][0] != 0;
}

static const char *
path_last (const Path *p)
{
  return p->keys[p->n_keys - 1];
}

/* Walks every key but the last from the document (§2.5).  Returns FALSE
 * ("parent not found") when a step is falsy. */
static gboolean
find_parent (Apply         *ap,
             const Path    *p,
             PatchesValue **parent)
{
  PatchesValue *cur;

  if (path_is_beside (p))
    {
      /* The holder of a beside path is a fresh object: one key reads
       * "missing", a deeper path has no parent. */
      if (p->n_keys == 1)
        {
          *parent = keep_temp (ap, patches_value_new_object ());
          return TRUE;
        }
      return FALSE;
    }

  cur = *ap->root;
  for (guint i = 1; i + 1 < p->n_keys; i++)
    {
      if (!patches_value_truthy (cur))
        return FALSE;
      cur = js_get (ap, cur, p->keys[i]);
    }

  if (!patches_value_truthy (cur))
    return FALSE;

  *parent = cur;
  return TRUE;
}

/* The value at @path read with plain property access (the custom ops and
 * `@txt` read their current value this way). */
static PatchesValue *
read_value (Apply      *ap,
            const Path *p)
{
  PatchesValue *parent;

  if (p->n_keys == 1 && !path_is_beside (p))
    return *ap->root;
  if (!find_parent (ap, p, &parent))
    return NULL;
  return js_get (ap, parent, path_last (p));
}

static PatchesValue *
new_container (gboolean    add_flavour,
               const char *next_key)
{
  if (add_flavour && (strcmp (next_key, "0") == 0 || strcmp (next_key, "-") == 0))
    return patches_value_new_array ();
  return patches_value_new_object ();
}

/* Makes *slot a writable container for @next_key: falsy values become a
 * fresh container (§2.6), a rich-text value becomes its JSON object, a
 * truthy primitive cannot hold properties (HARD). */
static OpResult
prepare_container (Apply          *ap,
                   PatchesValue  **slot,
                   gboolean        add_flavour,
                   const char     *next_key)
{
  if (!patches_value_truthy (*slot))
    {
      g_clear_pointer (slot, patches_value_unref);
      *slot = new_container (add_flavour, next_key);
      return OP_OK;
    }

  if (is_primitive (*slot))
    return fail (ap, OP_HARD, "Cannot create property '%s' on a primitive value", next_key);

  if (patches_value_get_kind (*slot) == PATCHES_VALUE_TEXT)
    {
      PatchesValue *json = patches_text_to_value (patches_value_get_text (*slot));

      patches_value_unref (*slot);
      *slot = json;
      return OP_OK;
    }

  patches_value_make_mutable (slot);
  return OP_OK;
}

/* Walks to the container of the last key, making every container on the
 * way writable and creating missing ones (§2.6).  *out is NULL when the
 * write is silently lost (a beside path, a named property of an array). */
static OpResult
walk_create (Apply           *ap,
             const Path      *p,
             gboolean         add_flavour,
             PatchesValue  ***out)
{
  PatchesValue **slot = ap->root;
  OpResult r;

  *out = NULL;
  if (path_is_beside (p))
    return OP_OK;

  r = prepare_container (ap, slot, add_flavour, p->keys[1]);
  if (r != OP_OK)
    return r;

  for (guint i = 1; i + 1 < p->n_keys; i++)
    {
      PatchesValue *cur = *slot;
      const char *key = p->keys[i];
      PatchesValue **child;

      if (patches_value_get_kind (cur) == PATCHES_VALUE_ARRAY)
        {
          guint len = patches_value_array_get_length (cur);
          guint64 index;

          if (strcmp (key, "-") == 0)
            {
              /* "-" in the middle of a path is the last element. */
              if (len == 0)
                patches_value_array_append (cur, new_container (add_flavour, p->keys[i + 1]));
              index = patches_value_array_get_length (cur) - 1;
            }
          else if (!is_canonical_index (key, &index))
            return OP_OK;   /* a named property of an array: lost */

          /* JavaScript makes a sparse array here; its JSON has a null per
           * hole.  Refuse gaps that would take gigabytes to represent. */
          if (index > len + MAX_ARRAY_GAP)
            return fail (ap, OP_FAILED, "array index %s is too far past the end (%u elements)", key, len);

          if (index >= patches_value_array_get_length (cur))
            patches_value_array_set (cur, (guint) index, new_container (add_flavour, p->keys[i + 1]));
          child = patches_value_array_get_slot (cur, (guint) index);
        }
      else
        {
          child = patches_value_object_get_slot (cur, key);
          if (child == NULL)
            {
              patches_value_object_set (cur, key, new_container (add_flavour, p->keys[i + 1]));
              child = patches_value_object_get_slot (cur, key);
            }
        }

      r = prepare_container (ap, child, add_flavour, p->keys[i + 1]);
      if (r != OP_OK)
        return r;
      slot = child;
    }

  *out = slot;
  return OP_OK;
}

/* Stores @value (transfer full) under the last key of a container
 * obtained from walk_create(). */
static void
container_store (PatchesValue *container,
                 const char   *key,
                 PatchesValue *value)
{
  if (patches_value_get_kind (container) == PATCHES_VALUE_ARRAY)
    {
      guint64 index;

      if (strcmp (key, "-") == 0)
        patches_value_array_append (container, value);
      else if (is_canonical_index (key, &index) &&
               index <= patches_value_array_get_length (container) + MAX_ARRAY_GAP)
        patches_value_array_set (container, (guint) index, value);
      else
        patches_value_unref (value);   /* a named array property: lost */
      return;
    }

  patches_value_object_set (container, key, value);
}

/* The slot of an existing element or member of a writable container. */
static PatchesValue **
container_slot (PatchesValue *container,
                const char   *key)
{
  if (patches_value_get_kind (container) == PATCHES_VALUE_ARRAY)
    {
      guint64 index;

      if (!is_canonical_index (key, &index) || index > G_MAXUINT32)
        return NULL;
      return patches_value_array_get_slot (container, (guint) index);
    }
  return patches_value_object_get_slot (container, key);
}

static void
set_root (Apply        *ap,
          PatchesValue *value)
{
  g_clear_pointer (ap->root, patches_value_unref);
  *ap->root = value;
}

/* §5.1 add */
static OpResult
op_add (Apply        *ap,
        const char   *path,
        PatchesValue *value)
{
  g_auto(Path) p = { 0 };
  PatchesValue *parent = NULL;
  PatchesValue **container;
  gboolean found;
  OpResult r;

  if (value == NULL)
    return fail (ap, OP_FAILED, "[op:add] require value, but got undefined");

  if (path[0] == 0)
    {
      set_root (ap, patches_value_ref (value));
      return OP_OK;
    }

  path_init (&p, path);
  found = find_parent (ap, &p, &parent);

  if (found && patches_value_get_kind (parent) == PATCHES_VALUE_ARRAY)
    {
      guint index;

      if (!patches_pointer_parse_index (path_last (&p), patches_value_array_get_length (parent), TRUE, &index) ||
          index > patches_value_array_get_length (parent))
        return fail (ap, OP_FAILED, "[op:add] invalid array index: %s", path);

      r = walk_create (ap, &p, TRUE, &container);
      if (r != OP_OK || container == NULL)
        return r;
      patches_value_array_insert (*container, index, patches_value_ref (value));
      return OP_OK;
    }

  if (found && patches_value_equal (js_get (ap, parent, path_last (&p)), value))
    return OP_OK;

  r = walk_create (ap, &p, TRUE, &container);
  if (r != OP_OK || container == NULL)
    return r;
  container_store (*container, path_last (&p), patches_value_ref (value));
  return OP_OK;
}

/* Deleting a property of a string parent: its characters and `length`
 * cannot be deleted (HARD); other names are a silent success. */
static OpResult
primitive_delete (Apply        *ap,
                  PatchesValue *parent,
                  const char   *key)
{
  guint64 index;

  if (patches_value_get_kind (parent) == PATCHES_VALUE_STRING &&
      (strcmp (key, "length") == 0 ||
       (is_canonical_index (key, &index) && index < utf16_length (patches_value_get_string (parent)))))
    return fail (ap, OP_HARD, "Cannot delete property '%s' of a string", key);

  return OP_OK;
}

/* Removes the value at a path whose parent exists; *taken receives it
 * (NULL if it was missing).  Shared by remove and move. */
static OpResult
take_value (Apply          *ap,
            const Path     *p,
            PatchesValue   *parent,
            const char     *op_name,
            const char     *index_error_path,
            PatchesValue  **taken)
{
  const char *key = path_last (p);
  PatchesValue **container;
  OpResult r;

  *taken = NULL;

  switch (patches_value_get_kind (parent))
    {
    case PATCHES_VALUE_ARRAY:
      {
        guint len = patches_value_array_get_length (parent);
        guint index;

        if (!patches_pointer_parse_index (key, len, TRUE, &index) || index >= len)
          return fail (ap, OP_FAILED, "[op:%s] invalid array index: %s", op_name, index_error_path);
        r = walk_create (ap, p, TRUE, &container);
        if (r != OP_OK || container == NULL)
          return r;
        *taken = patches_value_array_steal (*container, index);
        return OP_OK;
      }

    case PATCHES_VALUE_OBJECT:
    case PATCHES_VALUE_TEXT:
      if (js_get (ap, parent, key) == NULL)
        return OP_OK;
      r = walk_create (ap, p, TRUE, &container);
      if (r != OP_OK || container == NULL)
        return r;
      *taken = patches_value_object_steal (*container, key);
      return OP_OK;

    case PATCHES_VALUE_NULL:
    case PATCHES_VALUE_BOOL:
    case PATCHES_VALUE_NUMBER:
    case PATCHES_VALUE_STRING:
    default:
      {
        PatchesValue *v = js_get (ap, parent, key);

        r = primitive_delete (ap, parent, key);
        if (r == OP_OK && v != NULL)
          *taken = patches_value_ref (v);
        return r;
      }
    }
}

/* §5.2 remove */
static OpResult
op_remove (Apply      *ap,
           const char *path)
{
  g_auto(Path) p = { 0 };
  g_autoptr(PatchesValue) taken = NULL;
  PatchesValue *parent;

  if (path[0] == 0)
    {
      set_root (ap, NULL);
      return OP_OK;
    }

  path_init (&p, path);
  if (path_is_beside (&p) || !find_parent (ap, &p, &parent))
    return OP_OK;

  return take_value (ap, &p, parent, "remove", path, &taken);
}

/* §5.3 replace, also the store step of @inc, @bit, @max, @min and @txt. */
static OpResult
op_replace (Apply        *ap,
            const char   *path,
            PatchesValue *value)
{
  g_auto(Path) p = { 0 };
  PatchesValue *parent = NULL;
  PatchesValue **container;
  gboolean found;
  OpResult r;

  if (value == NULL)
    return fail (ap, OP_FAILED, "[op:replace] require value, but got undefined");

  if (path[0] == 0)
    {
      set_root (ap, patches_value_ref (value));
      return OP_OK;
    }

  path_init (&p, path);
  found = find_parent (ap, &p, &parent);

  if (found && patches_value_get_kind (parent) == PATCHES_VALUE_ARRAY)
    {
      guint len = patches_value_array_get_length (parent);
      guint index;

      if (!patches_pointer_parse_index (path_last (&p), len, FALSE, &index) || index >= len)
        return fail (ap, OP_FAILED, "[op:replace] invalid array index: %s", path);
      if (patches_value_equal (patches_value_array_get (parent, index), value))
        return OP_OK;
      r = walk_create (ap, &p, TRUE, &container);
      if (r != OP_OK || container == NULL)
        return r;
      patches_value_array_set (*container, index, patches_value_ref (value));
      return OP_OK;
    }

  if (found && patches_value_equal (js_get (ap, parent, path_last (&p)), value))
    return OP_OK;

  r = walk_create (ap, &p, FALSE, &container);
  if (r != OP_OK || container == NULL)
    return r;
  container_store (*container, path_last (&p), patches_value_ref (value));
  return OP_OK;
}

/* §5.4 move */
static OpResult
op_move (Apply      *ap,
         const char *from,
         const char *path)
{
  g_auto(Path) p = { 0 };
  g_autoptr(PatchesValue) taken = NULL;
  PatchesValue *parent;
  OpResult r;

  if (from == NULL || from[0] == 0)
    return fail (ap, OP_HARD, "[op:move] has no source (\"from\" is empty)");

  if (strcmp (from, path) == 0)
    return OP_OK;

  path_init (&p, from);
  if (!find_parent (ap, &p, &parent))
    return fail (ap, OP_FAILED, "[op:move] path not found: %s", from);

  if (!path_is_beside (&p))
    {
      r = take_value (ap, &p, parent, "move", path, &taken);
      if (r != OP_OK)
        return r;
    }

  return op_add (ap, path, taken);
}

/* §5.5 copy */
static OpResult
op_copy (Apply      *ap,
         const char *from,
         const char *path)
{
  g_auto(Path) p = { 0 };
  g_autoptr(PatchesValue) value = NULL;
  PatchesValue *parent;

  if (from == NULL || from[0] == 0)
    return fail (ap, OP_HARD, "[op:copy] has no source (\"from\" is empty)");

  path_init (&p, from);
  if (!find_parent (ap, &p, &parent))
    return fail (ap, OP_FAILED, "[op:copy] path not found: %s", from);

  /* Values are shared copy-on-write, so a reference is an independent
   * copy (§5.5, §15.7): later writes through either path copy first. */
  value = js_get (ap, parent, path_last (&p));
  if (value != NULL)
    patches_value_ref (value);

  return op_add (ap, path, value);
}

static char *
json_or_undefined (const PatchesValue *value)
{
  return value ? patches_value_to_json (value) : g_strdup ("undefined");
}

/* §5.6 test */
static OpResult
op_test (Apply        *ap,
         const char   *path,
         PatchesValue *value)
{
  g_auto(Path) p = { 0 };
  PatchesValue *parent;
  PatchesValue *actual;
  gboolean matched;

  if (path[0] == 0)
    actual = *ap->root;
  else
    {
      path_init (&p, path);
      if (!find_parent (ap, &p, &parent))
        return fail (ap, OP_FAILED, "[op:test] path not found: %s", path);
      actual = js_get (ap, parent, path_last (&p));
    }

  matched = value == NULL ? actual == NULL : patches_value_equal (actual, value);
  if (!matched)
    {
      g_autofree char *a = json_or_undefined (actual);
      g_autofree char *e = json_or_undefined (value);

      return fail (ap, OP_FAILED, "[op:test] not matched: %s %s", a, e);
    }

  return OP_OK;
}

/* §5.7 @inc */
static OpResult
op_inc (Apply        *ap,
        const char   *path,
        PatchesValue *value)
{
  g_auto(Path) p = { 0 };
  g_autoptr(PatchesValue) zero = patches_value_new_number (0);
  g_autoptr(PatchesValue) result = NULL;
  PatchesValue *current;

  path_init (&p, path);
  current = read_value (ap, &p);
  result = patches_js_add (patches_value_truthy (current) ? current : zero, value);

  return op_replace (ap, path, result);
}

/* §5.8 @bit */
static OpResult
op_bit (Apply        *ap,
        const char   *path,
        PatchesValue *value)
{
  g_auto(Path) p = { 0 };
  g_autoptr(PatchesValue) result = NULL;
  PatchesValue *current;
  gint32 cur, mask, on, off;

  path_init (&p, path);
  current = read_value (ap, &p);
  cur = patches_value_truthy (current) ? patches_js_to_int32 (patches_js_to_number (current)) : 0;
  mask = patches_value_truthy (value) ? patches_js_to_int32 (patches_js_to_number (value)) : 0;
  on = mask & 0x7FFF;
  off = (mask >> 15) & 0x7FFF;
  result = patches_value_new_number ((cur & ~off) | on);

  return op_replace (ap, path, result);
}

/* §5.9 @max / @min */
static OpResult
op_extreme (Apply        *ap,
            const char   *path,
            PatchesValue *value,
            gboolean      is_max)
{
  g_auto(Path) p = { 0 };
  PatchesValue *current;

  path_init (&p, path);
  current = read_value (ap, &p);
  if (current == NULL || patches_value_get_kind (current) == PATCHES_VALUE_NULL ||
      (is_max ? patches_js_less_than (current, value) : patches_js_less_than (value, current)))
    return op_replace (ap, path, value);

  return OP_OK;
}

/* §6.10 step 2: the document a `@txt` op starts from. */
static OpResult
text_base (Apply         *ap,
           PatchesValue  *current,
           PatchesDelta **base)
{
  static const gunichar2 newline[] = { '\n' };
  PatchesValue *ops;

  *base = NULL;

  if (current != NULL && patches_value_get_kind (current) == PATCHES_VALUE_ARRAY &&
      patches_value_array_get_length (current) > 0)
    {
      PatchesValue *first = patches_value_array_get (current, 0);

      if (patches_value_get_kind (first) == PATCHES_VALUE_NULL)
        return fail (ap, OP_HARD, "Cannot read properties of null (reading 'insert')");
      if (patches_value_get_kind (first) == PATCHES_VALUE_OBJECT &&
          patches_value_truthy (patches_value_object_get (first, "insert")))
        {
          *base = patches_delta_from_value (current, NULL);
          if (*base == NULL)
            return fail (ap, OP_FAILED, "Invalid delta");
          return OP_OK;
        }
    }
  else if (current != NULL && patches_value_get_kind (current) == PATCHES_VALUE_OBJECT &&
           patches_value_truthy (ops = patches_value_object_get (current, "ops")))
    {
      if (patches_value_get_kind (ops) == PATCHES_VALUE_ARRAY)
        {
          *base = patches_delta_from_value (ops, NULL);
          if (*base == NULL)
            return fail (ap, OP_FAILED, "Invalid delta");
        }
      else
        *base = patches_delta_new ();
      return OP_OK;
    }

  *base = patches_delta_new ();
  patches_delta_insert_utf16 (*base, newline, 1, NULL);
  return OP_OK;
}

static void
note_overrun (gint64      overrun,
              const char *path)
{
  if (overrun > 0)
    g_debug ("@txt at %s reached %" G_GINT64_FORMAT " units past the end of the text; dropped",
             path, overrun);
}

/* §6.10 @txt */
static OpResult
op_txt (Apply     *ap,
        PatchesOp *op,
        const char *path)
{
  g_auto(Path) p = { 0 };
  g_autoptr(PatchesDelta) base = NULL;
  g_autoptr(PatchesValue) text = NULL;
  gboolean legacy = (ap->flags & PATCHES_APPLY_LEGACY_TEXT_PADDING) != 0;
  const PatchesDelta *change = patches_op_get_delta (op);
  PatchesValue *current;
  OpResult r;

  if (change == NULL)
    return fail (ap, OP_FAILED, "Invalid delta");

  path_init (&p, path);
  current = read_value (ap, &p);

  if (current != NULL && patches_value_get_kind (current) == PATCHES_VALUE_TEXT)
    {
      PatchesValue **slot;

      /* The common case: edit the stored text in place. */
      if (p.n_keys == 1 && !path_is_beside (&p))
        slot = ap->root;
      else
        {
          PatchesValue *parent = NULL;
          PatchesValue **container;

          if (find_parent (ap, &p, &parent) && patches_value_get_kind (parent) == PATCHES_VALUE_ARRAY)
            {
              guint len = patches_value_array_get_length (parent);
              guint index;

              if (!patches_pointer_parse_index (path_last (&p), len, FALSE, &index) || index >= len)
                return fail (ap, OP_FAILED, "[op:replace] invalid array index: %s", path);
            }

          r = walk_create (ap, &p, FALSE, &container);
          if (r != OP_OK)
            return r;
          slot = container ? container_slot (*container, path_last (&p)) : NULL;
        }

      if (slot != NULL && *slot != NULL && patches_value_get_kind (*slot) == PATCHES_VALUE_TEXT)
        {
          patches_value_make_mutable (slot);
          note_overrun (patches_text_apply (patches_value_get_text (*slot), change, legacy), path);
          return OP_OK;
        }
    }

  r = text_base (ap, current, &base);
  if (r != OP_OK)
    return r;

  text = patches_value_new_text_take (patches_text_new_from_delta (g_steal_pointer (&base)));
  note_overrun (patches_text_apply (patches_value_get_text (text), change, legacy), path);

  return op_replace (ap, path, text);
}

static OpResult
apply_op (Apply      *ap,
          PatchesOp  *op,
          const char *path,
          const char *from)
{
  /* The handler gets `from` when it is a non-empty string, otherwise
   * `value` (§3): an add carrying a from stores the from string. */
  g_autoptr(PatchesValue) from_as_value = NULL;
  PatchesValue *value = op->value;

  if (op->kind == PATCHES_OP_TXT && op->value == NULL)
    ;
  else if (op->from != NULL && op->from[0] != 0 && op->kind != PATCHES_OP_MOVE && op->kind != PATCHES_OP_COPY)
    value = from_as_value = patches_value_new_string (op->from);

  switch (op->kind)
    {
    case PATCHES_OP_ADD:
      return op_add (ap, path, value);
    case PATCHES_OP_REMOVE:
      return op_remove (ap, path);
    case PATCHES_OP_REPLACE:
      return op_replace (ap, path, value);
    case PATCHES_OP_MOVE:
    case PATCHES_OP_COPY:
      /* Without a from the handler reads its source from `value`. */
      if ((from == NULL || from[0] == 0) && value != NULL &&
          patches_value_get_kind (value) == PATCHES_VALUE_STRING)
        from = patches_value_get_string (value);
      if (op->kind == PATCHES_OP_MOVE)
        return op_move (ap, from, path);
      return op_copy (ap, from, path);
    case PATCHES_OP_TEST:
      return op_test (ap, path, value);
    case PATCHES_OP_INC:
      return op_inc (ap, path, value);
    case PATCHES_OP_BIT:
      return op_bit (ap, path, value);
    case PATCHES_OP_MAX:
      return op_extreme (ap, path, value, TRUE);
    case PATCHES_OP_MIN:
      return op_extreme (ap, path, value, FALSE);
    case PATCHES_OP_TXT:
      if (from_as_value != NULL)
        return fail (ap, OP_FAILED, "Invalid delta");
      return op_txt (ap, op, path);
    case PATCHES_OP_UNKNOWN:
    default:
      return fail (ap, OP_FAILED, "[op:%s] unknown", op->name);
    }
}

/* §4.2 step 1: `soft === true`, or an `add` of an empty container. */
static gboolean
op_skips_when_present (const PatchesOp *op)
{
  if (op->soft != NULL && patches_value_get_kind (op->soft) == PATCHES_VALUE_BOOL &&
      patches_value_get_bool (op->soft))
    return TRUE;
  return op->kind == PATCHES_OP_ADD && patches_value_is_empty_container (op->value);
}

/* Whether a patch can leave the document half-changed when it fails, so
 * that the original must be kept to restore it.  Every single-op
 * handler checks before it writes, except move (§4.4). */
static gboolean
needs_backup (GPtrArray *ops)
{
  if (ops->len > 1)
    return TRUE;
  return ops->len == 1 && ((PatchesOp *) g_ptr_array_index (ops, 0))->kind == PATCHES_OP_MOVE;
}

static void
set_op_error (GError     **error,
              OpResult     result,
              guint        index,
              PatchesOp   *op,
              const char  *message)
{
  g_autofree char *what = patches_op_describe (op);
  int code;

  if (result == OP_HARD)
    code = PATCHES_ERROR_HARD;
  else if (op->kind == PATCHES_OP_TEST)
    code = PATCHES_ERROR_TEST_FAILED;
  else if (op->kind == PATCHES_OP_TXT && g_str_equal (message, "Invalid delta"))
    code = PATCHES_ERROR_INVALID_DELTA;
  else
    code = PATCHES_ERROR_OP_FAILED;

  g_set_error (error, PATCHES_ERROR, code, "Op %u (%s): %s", index, what, message);
}

/**
 * patches_ops_apply: (skip)
 * @ops: (element-type PatchesOp): the ops
 * @doc: (inout) (transfer full) (nullable): the document; %NULL stands
 *   for no document (what `remove ""` leaves)
 * @flags: apply options
 * @at_path: (nullable): prefix for every op's path and from
 * @report: (out caller-allocates) (optional): failed and aborting ops
 * @error: return location for a #GError
 *
 * applyPatch.  On an error *@doc is left as it was.
 *
 * Returns: %FALSE with @error set when an op failed in strict mode, or
 *   an op could not be applied in any mode (HARD)
 */
gboolean
patches_ops_apply (GPtrArray           *ops,
                   PatchesValue       **doc,
                   PatchesApplyFlags    flags,
                   const char          *at_path,
                   PatchesApplyReport  *report,
                   GError             **error)
{
  g_autoptr(PatchesValue) original = NULL;
  PatchesValue *working = *doc;
  Apply ap = { &working, NULL, flags, NULL };
  gboolean ok = TRUE;
  gboolean aborted = FALSE;

  if (report != NULL)
    {
      report->abort_op = -1;
      report->failed_ops = NULL;
    }

  if (ops->len == 0)
    return TRUE;

  if (needs_backup (ops) && working != NULL)
    original = patches_value_ref (working);

  for (guint i = 0; i < ops->len && ok && !aborted; i++)
    {
      PatchesOp *op = g_ptr_array_index (ops, i);
      g_autofree char *prefixed_path = NULL;
      g_autofree char *prefixed_from = NULL;
      const char *path = op->path;
      const char *from = op->from;
      OpResult r;

      /* Ops are immutable, so their strings serve as they are unless
       * an at_path prefix is asked for (no copies per keystroke). */
      if (at_path != NULL && at_path[0] != 0)
        {
          path = prefixed_path = g_strconcat (at_path, op->path, NULL);
          from = prefixed_from = op->from ? g_strconcat (at_path, op->from, NULL) : NULL;
        }

      if (op_skips_when_present (op) && patches_pointer_exists (working, path))
        continue;

      r = apply_op (&ap, op, path, from);
      if (r == OP_OK)
        continue;

      if (report != NULL && r == OP_FAILED && !(flags & PATCHES_APPLY_STRICT))
        {
          if (report->failed_ops == NULL)
            report->failed_ops = g_array_new (FALSE, FALSE, sizeof (guint));
          g_array_append_val (report->failed_ops, i);
        }

      if (r == OP_HARD || (flags & PATCHES_APPLY_STRICT))
        {
          set_op_error (error, r, i, op, ap.message);
          ok = FALSE;
        }
      else if ((flags & PATCHES_APPLY_RIGID) || op->kind == PATCHES_OP_TEST)
        {
          aborted = TRUE;
          if (report != NULL)
            report->abort_op = i;
        }
      else
        g_debug ("Skipping op %u: %s", i, ap.message);
    }

  g_clear_pointer (&ap.temps, g_ptr_array_unref);
  g_clear_pointer (&ap.message, g_free);

  if (!ok || (aborted && !(flags & PATCHES_APPLY_PARTIAL) &&
              patches_value_truthy (needs_backup (ops) ? original : working)))
    {
      /* Restore the original.  Without a backup, the single op changed
       * nothing before it failed. */
      if (needs_backup (ops))
        {
          g_clear_pointer (&working, patches_value_unref);
          *doc = g_steal_pointer (&original);
        }
      else
        *doc = working;
      return ok;
    }

  *doc = working;
  return TRUE;
}

/**
 * patches_patch_apply:
 * @self: a patch
 * @doc: (inout) (transfer full) (nullable): the document; %NULL stands for
 *   no document.  Keep your own reference if you need the old state: the
 *   change is made copy-on-write, in place when nothing else holds it.
 * @flags: apply options
 * @at_path: (nullable): prefix for every op's path and from
 * @report: (out caller-allocates) (optional): failed and aborting ops
 * @error: return location for a #GError
 *
 * Applies the ops in order with the reference's semantics (OPERATIONS.md
 * §4–§6).  Errors are in the %PATCHES_ERROR domain and name the op index,
 * the op and its path.
 *
 * Returns: %FALSE with @error set on failure; *@doc is then unchanged
 */
gboolean
patches_patch_apply (const PatchesPatch  *self,
                     PatchesValue       **doc,
                     PatchesApplyFlags    flags,
                     const char          *at_path,
                     PatchesApplyReport  *report,
                     GError             **error)
{
  return patches_ops_apply (patches_patch_get_ops (self), doc, flags, at_path, report, error);
}
