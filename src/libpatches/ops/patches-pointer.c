/* patches-pointer.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-pointer.h"

/**
 * patches_pointer_unescape:
 * @token: one token of a pointer
 * @length: its length in bytes, or -1
 *
 * Decodes `~0` to `~` and `~1` to `/` in one left-to-right scan; any other
 * `~` is kept as is.
 *
 * Returns: (transfer full): the key
 */
char *
patches_pointer_unescape (const char *token,
                          gssize      length)
{
  GString *key;

  if (length < 0)
    length = strlen (token);

  key = g_string_sized_new (length);
  for (gssize i = 0; i < length; i++)
    {
      if (token[i] == '~' && i + 1 < length && (token[i + 1] == '0' || token[i + 1] == '1'))
        {
          g_string_append_c (key, token[i + 1] == '0' ? '~' : '/');
          i++;
        }
      else
        g_string_append_c (key, token[i]);
    }

  return g_string_free (key, FALSE);
}

/**
 * patches_pointer_decode_packed: (skip)
 * @path: a JSON Pointer
 * @n_keys: (out): number of keys
 *
 * Like patches_pointer_decode(), but the key array and the keys share one
 * allocation, freed with g_free(): apply decodes a path per op.
 *
 * Returns: (transfer full): the keys, %NULL-terminated
 */
char **
patches_pointer_decode_packed (const char *path,
                               guint      *n_keys)
{
  gsize length = strlen (path);
  guint n = 1;
  guint k = 0;
  char **keys;
  char *out;

  for (const char *c = path; *c; c++)
    n += *c == '/';

  keys = g_malloc ((n + 1) * sizeof (char *) + length + n);
  out = (char *) (keys + n + 1);

  keys[k++] = out;
  for (const char *c = path;; c++)
    {
      if (*c == '/' || *c == 0)
        {
          *out++ = 0;
          if (*c == 0)
            break;
          keys[k++] = out;
        }
      else if (*c == '~' && (c[1] == '0' || c[1] == '1'))
        {
          *out++ = c[1] == '0' ? '~' : '/';
          c++;
        }
      else
        *out++ = *c;
    }
  keys[n] = NULL;

  if (n_keys != NULL)
    *n_keys = n;
  return keys;
}

/**
 * patches_pointer_decode:
 * @path: a JSON Pointer
 *
 * Splits @path on every `/` and unescapes each piece (`~0` to `~` and
 * `~1` to `/` in one left-to-right scan).  For a normal path the first
 * element is the empty key of the root holder: `"/a/b"` gives
 * `["", "a", "b"]`.
 *
 * Returns: (transfer full) (array zero-terminated=1): the keys
 */
char **
patches_pointer_decode (const char *path)
{
  g_autofree char **packed = patches_pointer_decode_packed (path, NULL);

  return g_strdupv (packed);
}

/**
 * patches_pointer_escape:
 * @key: an object key
 *
 * Returns: (transfer full): @key with `~` written `~0` and `/` written `~1`
 */
char *
patches_pointer_escape (const char *key)
{
  GString *out = g_string_sized_new (strlen (key) + 2);

  for (const char *p = key; *p; p++)
    {
      if (*p == '~')
        g_string_append (out, "~0");
      else if (*p == '/')
        g_string_append (out, "~1");
      else
        g_string_append_c (out, *p);
    }

  return g_string_free (out, FALSE);
}

/**
 * patches_pointer_append:
 * @path: a pointer
 * @key: an unescaped key
 *
 * Returns: (transfer full): the pointer to @key inside @path
 */
char *
patches_pointer_append (const char *path,
                        const char *key)
{
  g_autofree char *escaped = patches_pointer_escape (key);

  return g_strconcat (path, "/", escaped, NULL);
}

/**
 * patches_pointer_format:
 * @keys: (array zero-terminated=1): unescaped keys, root first excluded
 *
 * Returns: (transfer full): the pointer, `""` for no keys
 */
char *
patches_pointer_format (const char * const *keys)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autofree char *escaped = patches_pointer_escape (keys[i]);

      g_string_append_c (out, '/');
      g_string_append (out, escaped);
    }

  return g_string_free (out, FALSE);
}

/* A canonical non-negative integer: 0 or [1-9][0-9]* */
static gboolean
is_canonical_index (const char *s,
                    gsize       len)
{
  if (len == 0)
    return FALSE;
  if (s[0] == '0')
    return len == 1;
  for (gsize i = 0; i < len; i++)
    if (s[i] < '0' || s[i] > '9')
      return FALSE;
  return TRUE;
}

/**
 * patches_pointer_is_array_path:
 * @path: a pointer
 *
 * How transforms classify a path when no document is given (every
 * protocol path): its last key is a canonical non-negative integer.
 *
 * Returns: %TRUE if @path addresses an array element
 */
gboolean
patches_pointer_is_array_path (const char *path)
{
  const char *last = strrchr (path, '/');

  if (last == NULL)
    return FALSE;
  last++;
  return is_canonical_index (last, strlen (last));
}

/**
 * patches_pointer_is_under:
 * @path: a pointer
 * @ancestor: another pointer
 *
 * Returns: %TRUE if @path starts with @ancestor followed by `/`
 */
gboolean
patches_pointer_is_under (const char *path,
                          const char *ancestor)
{
  gsize n = strlen (ancestor);

  return strncmp (path, ancestor, n) == 0 && path[n] == '/';
}

/**
 * patches_pointer_parse_index:
 * @token: the last key of a path whose container is an array
 * @array_length: the array's length
 * @allow_dash: whether `-` (the length) is accepted
 * @index: (out): the index
 *
 * Converts an array token the way apply does: `-` is the length, a token
 * of ASCII digits (leading zeros allowed, the empty token is 0) is its
 * value, anything else is invalid.
 *
 * Returns: %TRUE if @token is an index token
 */
gboolean
patches_pointer_parse_index (const char *token,
                             guint       array_length,
                             gboolean    allow_dash,
                             guint      *index)
{
  guint64 v = 0;

  if (strcmp (token, "-") == 0)
    {
      if (!allow_dash)
        return FALSE;
      *index = array_length;
      return TRUE;
    }

  for (const char *p = token; *p; p++)
    {
      if (*p < '0' || *p > '9')
        return FALSE;
      v = v * 10 + (*p - '0');
      if (v > G_MAXUINT32)
        v = G_MAXUINT32;
    }

  *index = (guint) MIN (v, G_MAXUINT);
  return TRUE;
}

/* Plain JavaScript property lookup of @key on @holder (no index
 * conversion): arrays answer canonical digit keys, strings their
 * characters' code units are not modelled beyond single characters. */
static PatchesValue *
property_get (PatchesValue *holder,
              const char   *key)
{
  switch (patches_value_get_kind (holder))
    {
    case PATCHES_VALUE_OBJECT:
      return patches_value_object_get (holder, key);
    case PATCHES_VALUE_ARRAY:
      {
        gsize len = strlen (key);
        guint64 v = 0;

        if (!is_canonical_index (key, len) || len > 10)
          return NULL;
        for (gsize i = 0; i < len; i++)
          v = v * 10 + (key[i] - '0');
        if (v >= patches_value_array_get_length (holder))
          return NULL;
        return patches_value_array_get (holder, (guint) v);
      }
    case PATCHES_VALUE_NULL:
    case PATCHES_VALUE_BOOL:
    case PATCHES_VALUE_NUMBER:
    case PATCHES_VALUE_STRING:
    case PATCHES_VALUE_TEXT:
    default:
      return NULL;
    }
}

/**
 * patches_pointer_lookup:
 * @doc: (nullable): a document
 * @path: a pointer
 *
 * Reads the value at @path with plain property access, as `test` and
 * `copy` read it.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if missing
 */
PatchesValue *
patches_pointer_lookup (PatchesValue *doc,
                        const char   *path)
{
  g_auto(GStrv) keys = NULL;
  PatchesValue *cur = doc;

  if (path[0] == 0)
    return doc;
  if (path[0] != '/')
    return NULL;

  keys = patches_pointer_decode (path);
  for (guint i = 1; keys[i] != NULL && cur != NULL; i++)
    {
      if (!patches_value_truthy (cur) && keys[i + 1] != NULL)
        return NULL;
      cur = property_get (cur, keys[i]);
    }

  return cur;
}

/* Names every JavaScript object inherits from Object.prototype: the `in`
 * operator behind soft writes finds them on any object or array (a quirk
 * the reference has, OPERATIONS.md §2.5 and §16 #4). */
static gboolean
is_inherited_name (const char *key)
{
  static const char * const names[] = {
    "constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable",
    "toLocaleString", "toString", "valueOf", "__proto__", "__defineGetter__",
    "__defineSetter__", "__lookupGetter__", "__lookupSetter__",
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (key, names[i]) == 0)
      return TRUE;
  return FALSE;
}

/**
 * patches_pointer_exists:
 * @doc: (nullable): a document
 * @path: a pointer
 *
 * The existence test behind soft writes: `""` exists unless there is no
 * document; otherwise every key must be present and every step before
 * the last must be an object or array.
 *
 * Returns: %TRUE if @path exists in @doc
 */
gboolean
patches_pointer_exists (PatchesValue *doc,
                        const char   *path)
{
  g_auto(GStrv) keys = NULL;
  PatchesValue *cur = doc;

  if (path[0] == 0)
    return doc != NULL;
  if (doc == NULL)
    return FALSE;

  keys = patches_pointer_decode (path);
  for (guint i = 1; keys[i] != NULL; i++)
    {
      PatchesValueType kind;

      if (cur == NULL)
        return FALSE;
      kind = patches_value_get_kind (cur);
      if (kind != PATCHES_VALUE_OBJECT && kind != PATCHES_VALUE_ARRAY && kind != PATCHES_VALUE_TEXT)
        return FALSE;
      if (kind == PATCHES_VALUE_ARRAY && strcmp (keys[i], "length") == 0)
        {
          cur = NULL;
          if (keys[i + 1] != NULL)
            return FALSE;
          return TRUE;
        }
      if (kind == PATCHES_VALUE_TEXT)
        return (strcmp (keys[i], "ops") == 0 || is_inherited_name (keys[i])) && keys[i + 1] == NULL;
      if (keys[i + 1] == NULL && is_inherited_name (keys[i]))
        return TRUE;
      cur = property_get (cur, keys[i]);
      if (cur == NULL)
        return FALSE;
    }

  return TRUE;
}
