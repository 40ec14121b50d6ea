/* patches-value.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patches-error.h"
#include "patches-json-scan-private.h"
#include "patches-text.h"
#include "patches-value.h"
#include "patches-value-private.h"

/* Objects switch from a linear scan to a hash index at this size. */
#define OBJECT_INDEX_THRESHOLD 12

typedef struct {
  char         *key;
  PatchesValue *value;
} Member;

typedef struct {
  GArray     *members;   /* of Member */
  GHashTable *index;     /* key → position + 1, or NULL */
} Object;

struct _PatchesValue {
  gatomicrefcount  ref_count;
  PatchesValueType kind;
  union {
    gboolean     b;
    double       n;
    struct {
      char  *s;
      gsize  len;
    } str;
    GPtrArray   *arr;
    Object       obj;
    PatchesText *text;
  };
};

G_DEFINE_BOXED_TYPE (PatchesValue, patches_value, patches_value_ref, patches_value_unref)

static PatchesValue *
value_alloc (PatchesValueType kind)
{
  PatchesValue *self = g_new0 (PatchesValue, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->kind = kind;

  return self;
}

/**
 * patches_value_new_null:
 *
 * Returns: (transfer full): a new `null` value
 */
PatchesValue *
patches_value_new_null (void)
{
  return value_alloc (PATCHES_VALUE_NULL);
}

/**
 * patches_value_new_bool:
 * @value: the boolean
 *
 * Returns: (transfer full): a new boolean value
 */
PatchesValue *
patches_value_new_bool (gboolean value)
{
  PatchesValue *self = value_alloc (PATCHES_VALUE_BOOL);

  self->b = !!value;

  return self;
}

/**
 * patches_value_new_number:
 * @value: the number
 *
 * Returns: (transfer full): a new number value
 */
PatchesValue *
patches_value_new_number (double value)
{
  PatchesValue *self = value_alloc (PATCHES_VALUE_NUMBER);

  self->n = value;

  return self;
}

/**
 * patches_value_new_string_len:
 * @value: UTF-8 text
 * @len: length in bytes, or -1 if @value is nul-terminated
 *
 * Returns: (transfer full): a new string value
 */
PatchesValue *
patches_value_new_string_len (const char *value,
                              gssize      len)
{
  PatchesValue *self = value_alloc (PATCHES_VALUE_STRING);

  if (len < 0)
    len = strlen (value);
  self->str.s = g_strndup (value, len);
  self->str.len = len;

  return self;
}

/**
 * patches_value_new_string:
 * @value: nul-terminated UTF-8 text
 *
 * Returns: (transfer full): a new string value
 */
PatchesValue *
patches_value_new_string (const char *value)
{
  return patches_value_new_string_len (value, -1);
}

/**
 * patches_value_new_string_take:
 * @value: (transfer full): nul-terminated UTF-8 text
 *
 * Returns: (transfer full): a new string value owning @value
 */
PatchesValue *
patches_value_new_string_take (char *value)
{
  PatchesValue *self = value_alloc (PATCHES_VALUE_STRING);

  self->str.s = value;
  self->str.len = strlen (value);

  return self;
}

/**
 * patches_value_new_array:
 *
 * Returns: (transfer full): a new empty array
 */
PatchesValue *
patches_value_new_array (void)
{
  PatchesValue *self = value_alloc (PATCHES_VALUE_ARRAY);

  self->arr = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_value_unref);

  return self;
}

static void
member_clear (gpointer data)
{
  Member *m = data;

  g_free (m->key);
  g_clear_pointer (&m->value, patches_value_unref);
}

/**
 * patches_value_new_object:
 *
 * Returns: (transfer full): a new empty object
 */
PatchesValue *
patches_value_new_object (void)
{
  PatchesValue *self = value_alloc (PATCHES_VALUE_OBJECT);

  self->obj.members = g_array_new (FALSE, FALSE, sizeof (Member));
  g_array_set_clear_func (self->obj.members, member_clear);

  return self;
}

/**
 * patches_value_new_text_take:
 * @text: (transfer full): a rich-text document
 *
 * Returns: (transfer full): a new text value owning @text
 */
PatchesValue *
patches_value_new_text_take (PatchesText *text)
{
  PatchesValue *self = value_alloc (PATCHES_VALUE_TEXT);

  self->text = text;

  return self;
}

/**
 * patches_value_ref:
 * @self: a #PatchesValue
 *
 * Returns: (transfer full): @self
 */
PatchesValue *
patches_value_ref (PatchesValue *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * patches_value_unref:
 * @self: (transfer full): a #PatchesValue
 */
void
patches_value_unref (PatchesValue *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  switch (self->kind)
    {
    case PATCHES_VALUE_STRING:
      g_free (self->str.s);
      break;
    case PATCHES_VALUE_ARRAY:
      g_ptr_array_unref (self->arr);
      break;
    case PATCHES_VALUE_OBJECT:
      g_array_unref (self->obj.members);
      g_clear_pointer (&self->obj.index, g_hash_table_unref);
      break;
    case PATCHES_VALUE_TEXT:
      patches_text_free (self->text);
      break;
    case PATCHES_VALUE_NULL:
    case PATCHES_VALUE_BOOL:
    case PATCHES_VALUE_NUMBER:
    default:
      break;
    }

  g_free (self);
}

/**
 * patches_value_is_shared:
 * @self: a #PatchesValue
 *
 * Returns: %TRUE when more than one reference exists, so the value must be
 *   copied before it is changed
 */
gboolean
patches_value_is_shared (const PatchesValue *self)
{
  return !g_atomic_ref_count_compare ((gatomicrefcount *) &self->ref_count, 1);
}

PatchesValueType
patches_value_get_kind (const PatchesValue *self)
{
  return self->kind;
}

gboolean
patches_value_is_container (const PatchesValue *self)
{
  return self != NULL &&
         (self->kind == PATCHES_VALUE_ARRAY ||
          self->kind == PATCHES_VALUE_OBJECT ||
          self->kind == PATCHES_VALUE_TEXT);
}

gboolean
patches_value_get_bool (const PatchesValue *self)
{
  g_return_val_if_fail (self->kind == PATCHES_VALUE_BOOL, FALSE);
  return self->b;
}

double
patches_value_get_number (const PatchesValue *self)
{
  g_return_val_if_fail (self->kind == PATCHES_VALUE_NUMBER, 0);
  return self->n;
}

const char *
patches_value_get_string (const PatchesValue *self)
{
  g_return_val_if_fail (self->kind == PATCHES_VALUE_STRING, NULL);
  return self->str.s;
}

gsize
patches_value_get_string_len (const PatchesValue *self)
{
  g_return_val_if_fail (self->kind == PATCHES_VALUE_STRING, 0);
  return self->str.len;
}

/**
 * patches_value_get_text:
 * @self: a text value
 *
 * Returns: (transfer none): the rich-text document held by @self
 */
PatchesText *
patches_value_get_text (const PatchesValue *self)
{
  g_return_val_if_fail (self->kind == PATCHES_VALUE_TEXT, NULL);
  return self->text;
}

/* Arrays */

guint
patches_value_array_get_length (const PatchesValue *self)
{
  g_return_val_if_fail (self->kind == PATCHES_VALUE_ARRAY, 0);
  return self->arr->len;
}

/**
 * patches_value_array_get:
 * @self: an array
 * @index: position
 *
 * Returns: (transfer none) (nullable): the element, or %NULL past the end
 */
PatchesValue *
patches_value_array_get (const PatchesValue *self,
                         guint               index)
{
  g_return_val_if_fail (self->kind == PATCHES_VALUE_ARRAY, NULL);
  if (index >= self->arr->len)
    return NULL;
  return g_ptr_array_index (self->arr, index);
}

/**
 * patches_value_array_append:
 * @self: an array
 * @value: (transfer full): the element
 */
void
patches_value_array_append (PatchesValue *self,
                            PatchesValue *value)
{
  g_return_if_fail (self->kind == PATCHES_VALUE_ARRAY);
  g_ptr_array_add (self->arr, value);
}

/**
 * patches_value_array_insert:
 * @self: an array
 * @index: position, at most the length
 * @value: (transfer full): the element
 */
void
patches_value_array_insert (PatchesValue *self,
                            guint         index,
                            PatchesValue *value)
{
  g_return_if_fail (self->kind == PATCHES_VALUE_ARRAY);
  g_return_if_fail (index <= self->arr->len);
  g_ptr_array_insert (self->arr, index, value);
}

/**
 * patches_value_array_set:
 * @self: an array
 * @index: position; past the end the gap is filled with `null`s
 * @value: (transfer full): the element
 */
void
patches_value_array_set (PatchesValue *self,
                         guint         index,
                         PatchesValue *value)
{
  g_return_if_fail (self->kind == PATCHES_VALUE_ARRAY);

  while (self->arr->len < index)
    g_ptr_array_add (self->arr, patches_value_new_null ());

  if (index == self->arr->len)
    {
      g_ptr_array_add (self->arr, value);
      return;
    }

  patches_value_unref (g_ptr_array_index (self->arr, index));
  g_ptr_array_index (self->arr, index) = value;
}

/**
 * patches_value_array_steal:
 * @self: an array
 * @index: position
 *
 * Removes an element and returns it.
 *
 * Returns: (transfer full): the element
 */
PatchesValue *
patches_value_array_steal (PatchesValue *self,
                           guint         index)
{
  g_return_val_if_fail (self->kind == PATCHES_VALUE_ARRAY, NULL);
  g_return_val_if_fail (index < self->arr->len, NULL);
  return g_ptr_array_steal_index (self->arr, index);
}

void
patches_value_array_remove (PatchesValue *self,
                            guint         index)
{
  g_return_if_fail (self->kind == PATCHES_VALUE_ARRAY);
  g_return_if_fail (index < self->arr->len);
  g_ptr_array_remove_index (self->arr, index);
}

/* Objects */

static void
object_rebuild_index (Object *obj)
{
  g_clear_pointer (&obj->index, g_hash_table_unref);
  if (obj->members->len < OBJECT_INDEX_THRESHOLD)
    return;

  obj->index = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < obj->members->len; i++)
    {
      Member *m = &g_array_index (obj->members, Member, i);
      g_hash_table_insert (obj->index, m->key, GUINT_TO_POINTER (i + 1));
    }
}

static gssize
object_find (const Object *obj,
             const char   *key)
{
  if (obj->index != NULL)
    return (gssize) GPOINTER_TO_UINT (g_hash_table_lookup (obj->index, key)) - 1;

  for (guint i = 0; i < obj->members->len; i++)
    {
      const Member *m = &g_array_index (obj->members, Member, i);
      if (strcmp (m->key, key) == 0)
        return i;
    }

  return -1;
}

guint
patches_value_object_get_size (const PatchesValue *self)
{
  g_return_val_if_fail (self->kind == PATCHES_VALUE_OBJECT, 0);
  return self->obj.members->len;
}

/**
 * patches_value_object_get:
 * @self: an object
 * @key: member name
 *
 * Returns: (transfer none) (nullable): the member value, or %NULL
 */
PatchesValue *
patches_value_object_get (const PatchesValue *self,
                          const char         *key)
{
  gssize pos;

  g_return_val_if_fail (self->kind == PATCHES_VALUE_OBJECT, NULL);

  pos = object_find (&self->obj, key);
  if (pos < 0)
    return NULL;

  return g_array_index (self->obj.members, Member, pos).value;
}

gboolean
patches_value_object_has (const PatchesValue *self,
                          const char         *key)
{
  g_return_val_if_fail (self->kind == PATCHES_VALUE_OBJECT, FALSE);
  return object_find (&self->obj, key) >= 0;
}

/**
 * patches_value_object_set:
 * @self: an object
 * @key: member name
 * @value: (transfer full): the member value
 *
 * Sets a member; an existing member keeps its position.
 */
void
patches_value_object_set (PatchesValue *self,
                          const char   *key,
                          PatchesValue *value)
{
  gssize pos;
  Member m;

  g_return_if_fail (self->kind == PATCHES_VALUE_OBJECT);

  pos = object_find (&self->obj, key);
  if (pos >= 0)
    {
      Member *existing = &g_array_index (self->obj.members, Member, pos);
      patches_value_unref (existing->value);
      existing->value = value;
      return;
    }

  m.key = g_strdup (key);
  m.value = value;
  g_array_append_val (self->obj.members, m);

  if (self->obj.index != NULL)
    g_hash_table_insert (self->obj.index, m.key, GUINT_TO_POINTER (self->obj.members->len));
  else if (self->obj.members->len >= OBJECT_INDEX_THRESHOLD)
    object_rebuild_index (&self->obj);
}

/**
 * patches_value_object_steal:
 * @self: an object
 * @key: member name
 *
 * Removes a member and returns its value.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL if absent
 */
PatchesValue *
patches_value_object_steal (PatchesValue *self,
                            const char   *key)
{
  gssize pos;
  Member *m;
  PatchesValue *value;

  g_return_val_if_fail (self->kind == PATCHES_VALUE_OBJECT, NULL);

  pos = object_find (&self->obj, key);
  if (pos < 0)
    return NULL;

  m = &g_array_index (self->obj.members, Member, pos);
  value = g_steal_pointer (&m->value);
  g_array_remove_index (self->obj.members, pos);
  if (self->obj.index != NULL)
    object_rebuild_index (&self->obj);

  return value;
}

gboolean
patches_value_object_remove (PatchesValue *self,
                             const char   *key)
{
  PatchesValue *value = patches_value_object_steal (self, key);

  if (value == NULL)
    return FALSE;

  patches_value_unref (value);
  return TRUE;
}

const char *
patches_value_object_key_at (const PatchesValue *self,
                             guint               index)
{
  g_return_val_if_fail (self->kind == PATCHES_VALUE_OBJECT, NULL);
  g_return_val_if_fail (index < self->obj.members->len, NULL);
  return g_array_index (self->obj.members, Member, index).key;
}

/**
 * patches_value_object_value_at:
 * @self: an object
 * @index: member position
 *
 * Returns: (transfer none): the value of the member at @index
 */
PatchesValue *
patches_value_object_value_at (const PatchesValue *self,
                               guint               index)
{
  g_return_val_if_fail (self->kind == PATCHES_VALUE_OBJECT, NULL);
  g_return_val_if_fail (index < self->obj.members->len, NULL);
  return g_array_index (self->obj.members, Member, index).value;
}

/* Copies */

/**
 * patches_value_copy_shallow:
 * @self: a #PatchesValue
 *
 * Copies one level: a container gets a new member list whose entries
 * share the children of @self.
 *
 * Returns: (transfer full): the copy
 */
PatchesValue *
patches_value_copy_shallow (const PatchesValue *self)
{
  PatchesValue *copy;

  switch (self->kind)
    {
    case PATCHES_VALUE_NULL:
      return patches_value_new_null ();
    case PATCHES_VALUE_BOOL:
      return patches_value_new_bool (self->b);
    case PATCHES_VALUE_NUMBER:
      return patches_value_new_number (self->n);
    case PATCHES_VALUE_STRING:
      return patches_value_new_string_len (self->str.s, self->str.len);
    case PATCHES_VALUE_ARRAY:
      copy = patches_value_new_array ();
      g_ptr_array_set_size (copy->arr, 0);
      for (guint i = 0; i < self->arr->len; i++)
        g_ptr_array_add (copy->arr, patches_value_ref (g_ptr_array_index (self->arr, i)));
      return copy;
    case PATCHES_VALUE_OBJECT:
      copy = patches_value_new_object ();
      for (guint i = 0; i < self->obj.members->len; i++)
        {
          const Member *m = &g_array_index (self->obj.members, Member, i);
          Member c = { g_strdup (m->key), patches_value_ref (m->value) };
          g_array_append_val (copy->obj.members, c);
        }
      object_rebuild_index (&copy->obj);
      return copy;
    case PATCHES_VALUE_TEXT:
      return patches_value_new_text_take (patches_text_copy (self->text));
    default:
      g_assert_not_reached ();
    }
}

/**
 * patches_value_copy_deep:
 * @self: a #PatchesValue
 *
 * Returns: (transfer full): a copy sharing nothing with @self
 */
PatchesValue *
patches_value_copy_deep (const PatchesValue *self)
{
  PatchesValue *copy;

  switch (self->kind)
    {
    case PATCHES_VALUE_ARRAY:
      copy = patches_value_new_array ();
      for (guint i = 0; i < self->arr->len; i++)
        g_ptr_array_add (copy->arr, patches_value_copy_deep (g_ptr_array_index (self->arr, i)));
      return copy;
    case PATCHES_VALUE_OBJECT:
      copy = patches_value_new_object ();
      for (guint i = 0; i < self->obj.members->len; i++)
        {
          const Member *m = &g_array_index (self->obj.members, Member, i);
          Member c = { g_strdup (m->key), patches_value_copy_deep (m->value) };
          g_array_append_val (copy->obj.members, c);
        }
      object_rebuild_index (&copy->obj);
      return copy;
    case PATCHES_VALUE_NULL:
    case PATCHES_VALUE_BOOL:
    case PATCHES_VALUE_NUMBER:
    case PATCHES_VALUE_STRING:
    case PATCHES_VALUE_TEXT:
    default:
      return patches_value_copy_shallow (self);
    }
}

/**
 * patches_value_make_mutable:
 * @self: (inout) (transfer full): a value
 *
 * Copy-on-write: if @self is shared, replaces it with a shallow copy that
 * this caller owns alone, so it can be changed without affecting others.
 */
void
patches_value_make_mutable (PatchesValue **self)
{
  PatchesValue *copy;

  if (!patches_value_is_shared (*self))
    return;

  copy = patches_value_copy_shallow (*self);
  patches_value_unref (*self);
  *self = copy;
}

/* JavaScript semantics */

gboolean
patches_value_truthy (const PatchesValue *self)
{
  if (self == NULL)
    return FALSE;

  switch (self->kind)
    {
    case PATCHES_VALUE_NULL:
      return FALSE;
    case PATCHES_VALUE_BOOL:
      return self->b;
    case PATCHES_VALUE_NUMBER:
      return self->n != 0 && !isnan (self->n);
    case PATCHES_VALUE_STRING:
      return self->str.len > 0;
    case PATCHES_VALUE_ARRAY:
    case PATCHES_VALUE_OBJECT:
    case PATCHES_VALUE_TEXT:
    default:
      return TRUE;
    }
}

gboolean
patches_value_is_empty_container (const PatchesValue *self)
{
  if (self == NULL)
    return FALSE;
  if (self->kind == PATCHES_VALUE_ARRAY)
    return self->arr->len == 0;
  if (self->kind == PATCHES_VALUE_OBJECT)
    return self->obj.members->len == 0;
  return FALSE;
}

gboolean
patches_value_equal (const PatchesValue *a,
                     const PatchesValue *b)
{
  if (a == b)
    return TRUE;
  if (a == NULL || b == NULL)
    return FALSE;

  if (a->kind == PATCHES_VALUE_TEXT || b->kind == PATCHES_VALUE_TEXT)
    {
      g_autoptr(PatchesValue) ja = NULL;
      g_autoptr(PatchesValue) jb = NULL;

      if (a->kind == PATCHES_VALUE_TEXT && b->kind == PATCHES_VALUE_TEXT)
        return patches_text_equal (a->text, b->text);

      ja = a->kind == PATCHES_VALUE_TEXT ? patches_text_to_value (a->text) : patches_value_ref ((PatchesValue *) a);
      jb = b->kind == PATCHES_VALUE_TEXT ? patches_text_to_value (b->text) : patches_value_ref ((PatchesValue *) b);
      return patches_value_equal (ja, jb);
    }

  if (a->kind != b->kind)
    return FALSE;

  switch (a->kind)
    {
    case PATCHES_VALUE_NULL:
      return TRUE;
    case PATCHES_VALUE_BOOL:
      return a->b == b->b;
    case PATCHES_VALUE_NUMBER:
      return a->n == b->n;
    case PATCHES_VALUE_STRING:
      return a->str.len == b->str.len && memcmp (a->str.s, b->str.s, a->str.len) == 0;
    case PATCHES_VALUE_ARRAY:
      if (a->arr->len != b->arr->len)
        return FALSE;
      for (guint i = 0; i < a->arr->len; i++)
        if (!patches_value_equal (g_ptr_array_index (a->arr, i), g_ptr_array_index (b->arr, i)))
          return FALSE;
      return TRUE;
    case PATCHES_VALUE_OBJECT:
      if (a->obj.members->len != b->obj.members->len)
        return FALSE;
      for (guint i = 0; i < a->obj.members->len; i++)
        {
          const Member *m = &g_array_index (a->obj.members, Member, i);
          PatchesValue *other = patches_value_object_get (b, m->key);

          if (other == NULL || !patches_value_equal (m->value, other))
            return FALSE;
        }
      return TRUE;
    case PATCHES_VALUE_TEXT:
    default:
      g_assert_not_reached ();
    }
}

/* Compares two UTF-8 strings in UTF-16 code-unit order, as JavaScript's
 * relational operators do.  Byte order equals code-point order; the two
 * orders differ only between supplementary characters (surrogates
 * D800–DFFF) and U+E000–U+FFFF. */
int
patches_utf16_strcmp (const char *a,
                      const char *b)
{
  const guchar *pa = (const guchar *) a;
  const guchar *pb = (const guchar *) b;

  while (*pa != 0 && *pa == *pb)
    pa++, pb++;

  if (*pa == 0 || *pb == 0)
    return (int) *pa - (int) *pb;

  /* First differing byte.  4-byte sequences (lead byte ≥ 0xF0) encode
   * supplementary characters, which sort in UTF-16 below U+E000–U+FFFF
   * (3-byte sequences starting 0xEE/0xEF). */
  {
    const guchar *sa = pa, *sb = pb;
    gunichar ca, cb;

    while (sa > (const guchar *) a && (sa[0] & 0xC0) == 0x80)
      sa--;
    while (sb > (const guchar *) b && (sb[0] & 0xC0) == 0x80)
      sb--;
    ca = g_utf8_get_char_validated ((const char *) sa, -1);
    cb = g_utf8_get_char_validated ((const char *) sb, -1);
    if (ca < 0x110000 && cb < 0x110000)
      {
        guint ka = ca >= 0x10000 ? 0xD800 : ca;
        guint kb = cb >= 0x10000 ? 0xD800 : cb;

        if (ka >= 0xE000 && kb == 0xD800)
          return 1;
        if (kb >= 0xE000 && ka == 0xD800)
          return -1;
      }
  }

  return (int) *pa - (int) *pb;
}

/* JSON */

/**
 * patches_value_from_json_node:
 * @node: a json-glib node
 *
 * Converts parsed JSON into a value.  Numbers become doubles, as in
 * JavaScript.
 *
 * Returns: (transfer full): the value
 */
PatchesValue *
patches_value_from_json_node (JsonNode *node)
{
  PatchesValue *self;

  if (node == NULL)
    return patches_value_new_null ();

  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *object = json_node_get_object (node);
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;

        self = patches_value_new_object ();
        json_object_iter_init_ordered (&iter, object);
        while (json_object_iter_next_ordered (&iter, &name, &member))
          patches_value_object_set (self, name, patches_value_from_json_node (member));
        return self;
      }

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);
        guint len = json_array_get_length (array);

        self = patches_value_new_array ();
        for (guint i = 0; i < len; i++)
          g_ptr_array_add (self->arr, patches_value_from_json_node (json_array_get_element (array, i)));
        return self;
      }

    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_BOOLEAN:
          return patches_value_new_bool (json_node_get_boolean (node));
        case G_TYPE_INT64:
          return patches_value_new_number ((double) json_node_get_int (node));
        case G_TYPE_DOUBLE:
          return patches_value_new_number (json_node_get_double (node));
        case G_TYPE_STRING:
          return patches_value_new_string (json_node_get_string (node));
        default:
          return patches_value_new_null ();
        }

    case JSON_NODE_NULL:
    default:
      return patches_value_new_null ();
    }
}

/**
 * patches_value_to_json_node:
 * @self: a #PatchesValue
 *
 * Returns: (transfer full): a json-glib node holding the same JSON
 */
JsonNode *
patches_value_to_json_node (const PatchesValue *self)
{
  JsonNode *node;

  switch (self->kind)
    {
    case PATCHES_VALUE_NULL:
      return json_node_new (JSON_NODE_NULL);
    case PATCHES_VALUE_BOOL:
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_boolean (node, self->b);
      return node;
    case PATCHES_VALUE_NUMBER:
      if (!isfinite (self->n))
        return json_node_new (JSON_NODE_NULL);
      node = json_node_new (JSON_NODE_VALUE);
      if (self->n == floor (self->n) && fabs (self->n) < 9007199254740992.0)
        json_node_set_int (node, (gint64) self->n);
      else
        json_node_set_double (node, self->n);
      return node;
    case PATCHES_VALUE_STRING:
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (node, self->str.s);
      return node;
    case PATCHES_VALUE_ARRAY:
      {
        JsonArray *array = json_array_sized_new (self->arr->len);

        for (guint i = 0; i < self->arr->len; i++)
          json_array_add_element (array, patches_value_to_json_node (g_ptr_array_index (self->arr, i)));
        node = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (node, array);
        return node;
      }
    case PATCHES_VALUE_OBJECT:
      {
        JsonObject *object = json_object_new ();

        for (guint i = 0; i < self->obj.members->len; i++)
          {
            const Member *m = &g_array_index (self->obj.members, Member, i);
            json_object_set_member (object, m->key, patches_value_to_json_node (m->value));
          }
        node = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (node, object);
        return node;
      }
    case PATCHES_VALUE_TEXT:
      {
        g_autoptr(PatchesValue) json = patches_text_to_value (self->text);
        return patches_value_to_json_node (json);
      }
    default:
      g_assert_not_reached ();
    }
}

/**
 * patches_value_parse:
 * @json: JSON text
 * @length: length in bytes, or -1 if nul-terminated
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the parsed value, or %NULL with
 *   @error set to %PATCHES_ERROR_INVALID_JSON
 */
PatchesValue *
patches_value_parse (const char  *json,
                     gssize       length,
                     GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *rewritten = NULL;
  gsize rewritten_length = 0;

  if (length < 0)
    length = strlen (json);

  /* json-glib accepts more than JSON.parse does and recurses without a
   * limit; a strict linear pass first refuses what JavaScript refuses,
   * bounds the nesting depth and turns integers past 64 bits into
   * doubles, as JavaScript reads them. */
  if (!patches_json_scan (json, length, PATCHES_JSON_SCAN_MAX_DEPTH,
                          &rewritten, &rewritten_length, &local_error))
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_JSON,
                   "Invalid JSON: %s", local_error->message);
      return NULL;
    }
  if (rewritten != NULL)
    {
      json = rewritten;
      length = rewritten_length;
    }

  if (!json_parser_load_from_data (parser, json, length, &local_error))
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_JSON,
                   "Invalid JSON: %s", local_error->message);
      return NULL;
    }

  return patches_value_from_json_node (json_parser_get_root (parser));
}

/* JavaScript Number → string (ECMA-262 Number::toString, radix 10). */
static gsize
js_format_number (char   buf[40],
                  double value)
{
  char digits[32];
  char tmp[40];
  int ndigits = 0;
  int exponent = 0;   /* value = 0.DIGITS × 10^exponent */
  gboolean negative;
  gsize pos = 0;

  if (!isfinite (value))
    {
      memcpy (buf, "null", 5);
      return 4;
    }

  if (value == 0)
    {
      memcpy (buf, "0", 2);
      return 1;
    }

  /* Integers below 2^53 print as themselves (timestamps, revisions,
   * lengths: most numbers on the wire). */
  if (value == (double) (gint64) value && fabs (value) < 9007199254740992.0)
    return g_snprintf (buf, 40, "%" G_GINT64_FORMAT, (gint64) value);

  negative = value < 0;
  if (negative)
    value = -value;

  /* Shortest digit string that reads back as the same double. */
  for (int precision = 1; precision <= 17; precision++)
    {
      snprintf (tmp, sizeof tmp, "%.*e", precision - 1, value);
      if (strtod (tmp, NULL) == value)
        break;
    }

  {
    char *e = strchr (tmp, 'e');
    int exp10 = atoi (e + 1);

    for (char *p = tmp; p < e; p++)
      if (*p >= '0' && *p <= '9')
        digits[ndigits++] = *p;
    while (ndigits > 1 && digits[ndigits - 1] == '0')
      ndigits--;
    exponent = exp10 + 1;
  }

  if (negative)
    buf[pos++] = '-';

  if (ndigits <= exponent && exponent <= 21)
    {
      memcpy (buf + pos, digits, ndigits);
      pos += ndigits;
      for (int i = ndigits; i < exponent; i++)
        buf[pos++] = '0';
    }
  else if (0 < exponent && exponent <= 21)
    {
      memcpy (buf + pos, digits, exponent);
      pos += exponent;
      buf[pos++] = '.';
      memcpy (buf + pos, digits + exponent, ndigits - exponent);
      pos += ndigits - exponent;
    }
  else if (-6 < exponent && exponent <= 0)
    {
      buf[pos++] = '0';
      buf[pos++] = '.';
      for (int i = 0; i < -exponent; i++)
        buf[pos++] = '0';
      memcpy (buf + pos, digits, ndigits);
      pos += ndigits;
    }
  else
    {
      int e = exponent - 1;

      buf[pos++] = digits[0];
      if (ndigits > 1)
        {
          buf[pos++] = '.';
          memcpy (buf + pos, digits + 1, ndigits - 1);
          pos += ndigits - 1;
        }
      pos += snprintf (buf + pos, 40 - pos, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }

  buf[pos] = 0;
  return pos;
}

void
patches_js_append_number (GString *out,
                          double   value)
{
  char buf[40];
  gsize len = js_format_number (buf, value);

  g_string_append_len (out, buf, len);
}

gsize
patches_js_number_size (double value)
{
  char buf[40];

  return js_format_number (buf, value);
}

static const char hex_digits[] = "0123456789abcdef";

void
patches_js_append_string (GString    *out,
                          const char *utf8,
                          gssize      len)
{
  const char *p = utf8;
  const char *end;
  const char *run;

  if (len < 0)
    len = strlen (utf8);
  end = utf8 + len;

  g_string_append_c (out, '"');
  run = p;
  for (; p < end; p++)
    {
      guchar c = *p;
      const char *esc = NULL;

      /* A lone surrogate kept as WTF-8 (ED A0..BF xx) is written the way
       * JSON.stringify writes it: \udXXX. */
      if (c == 0xED && p + 2 < end && ((guchar) p[1] & 0xE0) == 0xA0)
        {
          guint unit = 0xD000 | (((guchar) p[1] & 0x3F) << 6) | ((guchar) p[2] & 0x3F);
          char u[7] = { '\\', 'u', 'd', hex_digits[(unit >> 8) & 15], hex_digits[(unit >> 4) & 15],
                        hex_digits[unit & 15], 0 };

          g_string_append_len (out, run, p - run);
          g_string_append_len (out, u, 6);
          p += 2;
          run = p + 1;
          continue;
        }

      if (c >= 0x20 && c != '"' && c != '\\')
        continue;

      g_string_append_len (out, run, p - run);
      switch (c)
        {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: break;
        }
      if (esc != NULL)
        g_string_append (out, esc);
      else
        {
          char u[7] = { '\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 15], 0 };
          g_string_append_len (out, u, 6);
        }
      run = p + 1;
    }
  g_string_append_len (out, run, end - run);
  g_string_append_c (out, '"');
}

gsize
patches_js_string_size (const char *utf8,
                        gssize      len)
{
  gsize size = 2;

  if (len < 0)
    len = strlen (utf8);

  for (gssize i = 0; i < len; i++)
    {
      guchar c = utf8[i];

      if (c == 0xED && i + 2 < len && ((guchar) utf8[i + 1] & 0xE0) == 0xA0)
        {
          size += 6;   /* a lone surrogate, written \udXXX */
          i += 2;
        }
      else if (c >= 0x20 && c != '"' && c != '\\')
        size++;
      else if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
        size += 2;
      else
        size += 6;
    }

  return size;
}

/* JavaScript enumerates keys that are canonical array indexes first, in
 * ascending order, then the others in insertion order. */
static gboolean
js_array_index_key (const char *key,
                    guint32    *index)
{
  guint64 v = 0;

  if (key[0] == 0 || (key[0] == '0' && key[1] != 0))
    return FALSE;
  for (const char *p = key; *p; p++)
    {
      if (*p < '0' || *p > '9')
        return FALSE;
      v = v * 10 + (*p - '0');
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

/* Member positions of an object in JavaScript enumeration order, or NULL
 * when that is insertion order. */
static GArray *
js_member_order (const PatchesValue *self)
{
  g_autoptr(GArray) indexes = NULL;
  GArray *order;
  guint n = self->obj.members->len;

  for (guint i = 0; i < n; i++)
    {
      IndexKey k;

      if (js_array_index_key (g_array_index (self->obj.members, Member, i).key, &k.index))
        {
          if (indexes == NULL)
            indexes = g_array_new (FALSE, FALSE, sizeof (IndexKey));
          k.position = i;
          g_array_append_val (indexes, k);
        }
    }

  if (indexes == NULL)
    return NULL;

  g_array_sort (indexes, index_key_compare);
  order = g_array_sized_new (FALSE, FALSE, sizeof (guint), n);
  for (guint i = 0; i < indexes->len; i++)
    g_array_append_val (order, g_array_index (indexes, IndexKey, i).position);
  for (guint i = 0; i < n; i++)
    {
      guint32 ignored;

      if (!js_array_index_key (g_array_index (self->obj.members, Member, i).key, &ignored))
        g_array_append_val (order, i);
    }

  return order;
}

/**
 * patches_value_write_json:
 * @self: a #PatchesValue
 * @out: string to append to
 *
 * Appends exactly what JavaScript's `JSON.stringify` writes for the value.
 */
void
patches_value_write_json (const PatchesValue *self,
                          GString            *out)
{
  switch (self->kind)
    {
    case PATCHES_VALUE_NULL:
      g_string_append_len (out, "null", 4);
      break;
    case PATCHES_VALUE_BOOL:
      if (self->b)
        g_string_append_len (out, "true", 4);
      else
        g_string_append_len (out, "false", 5);
      break;
    case PATCHES_VALUE_NUMBER:
      patches_js_append_number (out, self->n);
      break;
    case PATCHES_VALUE_STRING:
      patches_js_append_string (out, self->str.s, self->str.len);
      break;
    case PATCHES_VALUE_ARRAY:
      g_string_append_c (out, '[');
      for (guint i = 0; i < self->arr->len; i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          patches_value_write_json (g_ptr_array_index (self->arr, i), out);
        }
      g_string_append_c (out, ']');
      break;
    case PATCHES_VALUE_OBJECT:
      {
        g_autoptr(GArray) order = js_member_order (self);
        guint n = self->obj.members->len;

        g_string_append_c (out, '{');
        for (guint i = 0; i < n; i++)
          {
            guint pos = order ? g_array_index (order, guint, i) : i;
            const Member *m = &g_array_index (self->obj.members, Member, pos);

            if (i > 0)
              g_string_append_c (out, ',');
            patches_js_append_string (out, m->key, -1);
            g_string_append_c (out, ':');
            patches_value_write_json (m->value, out);
          }
        g_string_append_c (out, '}');
        break;
      }
    case PATCHES_VALUE_TEXT:
      patches_text_write_json (self->text, out);
      break;
    default:
      g_assert_not_reached ();
    }
}

/**
 * patches_value_to_json:
 * @self: a #PatchesValue
 *
 * Returns: (transfer full): the value as `JSON.stringify` writes it
 */
char *
patches_value_to_json (const PatchesValue *self)
{
  GString *out = g_string_new (NULL);

  patches_value_write_json (self, out);
  return g_string_free (out, FALSE);
}

/**
 * patches_value_json_size:
 * @self: a #PatchesValue
 *
 * Returns: the number of UTF-8 bytes of `JSON.stringify (value)`
 */
gsize
patches_value_json_size (const PatchesValue *self)
{
  gsize size;

  switch (self->kind)
    {
    case PATCHES_VALUE_NULL:
      return 4;
    case PATCHES_VALUE_BOOL:
      return self->b ? 4 : 5;
    case PATCHES_VALUE_NUMBER:
      return patches_js_number_size (self->n);
    case PATCHES_VALUE_STRING:
      return patches_js_string_size (self->str.s, self->str.len);
    case PATCHES_VALUE_ARRAY:
      size = 2 + (self->arr->len > 0 ? self->arr->len - 1 : 0);
      for (guint i = 0; i < self->arr->len; i++)
        size += patches_value_json_size (g_ptr_array_index (self->arr, i));
      return size;
    case PATCHES_VALUE_OBJECT:
      size = 2 + (self->obj.members->len > 0 ? self->obj.members->len - 1 : 0);
      for (guint i = 0; i < self->obj.members->len; i++)
        {
          const Member *m = &g_array_index (self->obj.members, Member, i);
          size += patches_js_string_size (m->key, -1) + 1 + patches_value_json_size (m->value);
        }
      return size;
    case PATCHES_VALUE_TEXT:
      return patches_text_json_size (self->text);
    default:
      g_assert_not_reached ();
    }
}

PatchesValue **
patches_value_object_get_slot (PatchesValue *self,
                               const char   *key)
{
  gssize pos;

  g_return_val_if_fail (self->kind == PATCHES_VALUE_OBJECT, NULL);

  pos = object_find (&self->obj, key);
  if (pos < 0)
    return NULL;

  return &g_array_index (self->obj.members, Member, pos).value;
}

PatchesValue **
patches_value_array_get_slot (PatchesValue *self,
                              guint         index)
{
  g_return_val_if_fail (self->kind == PATCHES_VALUE_ARRAY, NULL);

  if (index >= self->arr->len)
    return NULL;

  return (PatchesValue **) &g_ptr_array_index (self->arr, index);
}
