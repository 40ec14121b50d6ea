/* patches-fractional.c
 *
 * Fractional indexing as @dabble/patches 0.28.1 does it (OPERATIONS.md §13).
 *
 * Keys are handled as sequences of Unicode characters.  For keys made of
 * characters of the Basic Multilingual Plane (in practice: ASCII) this is
 * exactly what the reference does with UTF-16 code units, including its
 * quirks on characters that are not base-62 digits.  Outside the BMP the
 * reference splits surrogate pairs, which a UTF-8 string cannot express;
 * such characters are handled whole here.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-error.h"
#include "patches-fractional.h"

#define BASE 62

static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#define INTEGER_ZERO     "a0"
#define SMALLEST_INTEGER "A00000000000000000000000000"
#define LARGEST_INTEGER  "zzzzzzzzzzzzzzzzzzzzzzzzzzz"

/* Sort key of a character under JavaScript's `<` on strings (UTF-16 code
 * unit order): characters past U+FFFF are encoded with surrogates
 * (U+D800..U+DFFF), which sort below U+E000..U+FFFF. */
static inline guint32
js_char_key (gunichar c)
{
  if (c >= 0xE000 && c <= 0xFFFF)
    return c + 0x110000;
  return c;
}

/* JavaScript string comparison of two valid UTF-8 strings. */
static int
js_strcmp (const char *a,
           const char *b)
{
  while (*a != '\0' && *a == *b)
    {
      a++;
      b++;
    }

  if ((guchar) *a < 0x80 && (guchar) *b < 0x80)
    return (int) (guchar) *a - (int) (guchar) *b;

  /* Back up to the start of the characters that differ. */
  while ((*a & 0xC0) == 0x80 || (*b & 0xC0) == 0x80)
    {
      a--;
      b--;
    }

  {
    guint32 ka = *a != '\0' ? js_char_key (g_utf8_get_char (a)) : 0;
    guint32 kb = *b != '\0' ? js_char_key (g_utf8_get_char (b)) : 0;

    return ka < kb ? -1 : ka > kb ? 1 : 0;
  }
}

static int
chars_cmp (const gunichar *a,
           gsize           a_len,
           const gunichar *b,
           gsize           b_len)
{
  gsize n = MIN (a_len, b_len);

  for (gsize i = 0; i < n; i++)
    {
      if (a[i] != b[i])
        return js_char_key (a[i]) < js_char_key (b[i]) ? -1 : 1;
    }

  return a_len < b_len ? -1 : a_len > b_len ? 1 : 0;
}

static void
append_chars (GString        *out,
              const gunichar *chars,
              gsize           len)
{
  for (gsize i = 0; i < len; i++)
    {
      if (chars[i] < 0x80)
        g_string_append_c (out, (char) chars[i]);
      else
        g_string_append_unichar (out, chars[i]);
    }
}

/* `digits.indexOf(c)`: -1 when @c is not a base-62 digit. */
static int
digit_value (gunichar c)
{
  if (c >= '0' && c <= '9')
    return (int) (c - '0');
  if (c >= 'A' && c <= 'Z')
    return (int) (c - 'A') + 10;
  if (c >= 'a' && c <= 'z')
    return (int) (c - 'a') + 36;
  return -1;
}

/* Length of the integer part announced by @head, or -1 for a bad head. */
static int
integer_length (gunichar head)
{
  if (head >= 'a' && head <= 'z')
    return (int) (head - 'a') + 2;
  if (head >= 'A' && head <= 'Z')
    return (int) ('Z' - head) + 2;
  return -1;
}

static void
set_invalid_key (GError     **error,
                 const char  *key)
{
  g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_KEY,
               "Invalid order key: %s", key);
}

/* Appends the midpoint of fractions @x and @y (@y empty = open end). */
static gboolean
midpoint (const gunichar  *x,
          gsize            x_len,
          const gunichar  *y,
          gsize            y_len,
          GString         *out,
          GError         **error)
{
  for (;;)
    {
      int dx, dy;

      if (x_len > 0 && y_len > 0 && chars_cmp (x, x_len, y, y_len) >= 0)
        {
          const gunichar *t = x;
          gsize t_len = x_len;

          x = y;
          x_len = y_len;
          y = t;
          y_len = t_len;
        }

      if ((x_len > 0 && x[x_len - 1] == '0') || (y_len > 0 && y[y_len - 1] == '0'))
        {
          g_set_error_literal (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_KEY,
                               "Trailing zero");
          return FALSE;
        }

      if (y_len > 0)
        {
          gsize n = 0;

          /* Common prefix, reading `x` as padded with zeros. */
          while (n < y_len && (n < x_len ? x[n] : '0') == y[n])
            n++;

          if (n > 0)
            {
              gsize skip = MIN (n, x_len);

              append_chars (out, y, n);
              x += skip;
              x_len -= skip;
              y += n;
              y_len -= n;
              continue;
            }
        }

      dx = x_len > 0 ? digit_value (x[0]) : 0;
      dy = y_len > 0 ? digit_value (y[0]) : BASE;

      if (dy - dx > 1)
        {
          /* Math.round (0.5 * (dx + dy)); the sum is never negative here. */
          g_string_append_c (out, digits[(dx + dy + 1) / 2]);
          return TRUE;
        }

      if (y_len > 1)
        {
          append_chars (out, y, 1);
          return TRUE;
        }

      /* `digits[-1]` is undefined, which JavaScript concatenates as text. */
      if (dx < 0)
        g_string_append (out, "undefined");
      else
        g_string_append_c (out, digits[dx]);

      if (x_len > 0)
        {
          x++;
          x_len--;
        }
      y = NULL;
      y_len = 0;
    }
}

/* Builds a key from a head and digits; a digit 0 stands for an array
 * hole (`undefined`), which `Array.join` turns into nothing. */
static char *
build_integer (gunichar        head,
               const gunichar *digs,
               gsize           n_digs)
{
  GString *out = g_string_sized_new (n_digs + 2);

  append_chars (out, &head, 1);
  for (gsize i = 0; i < n_digs; i++)
    {
      if (digs[i] != 0)
        append_chars (out, &digs[i], 1);
    }

  return g_string_free (out, FALSE);
}

/* Returns "" on overflow. */
static char *
increment_integer (const gunichar *x,
                   gsize           len)
{
  g_autofree gunichar *digs = g_new (gunichar, len + 1);
  gunichar head = x[0];
  gsize n = len - 1;
  gboolean carry = TRUE;

  memcpy (digs, x + 1, n * sizeof (gunichar));

  for (gsize i = n; carry && i > 0; i--)
    {
      int d = digit_value (digs[i - 1]) + 1;

      if (d == BASE)
        digs[i - 1] = '0';
      else
        {
          digs[i - 1] = (gunichar) digits[d];
          carry = FALSE;
        }
    }

  if (carry)
    {
      if (head == 'Z')
        return g_strdup (INTEGER_ZERO);
      if (head == 'z')
        return g_strdup ("");

      head++;
      if (head > 'a')
        digs[n++] = '0';
      else if (n > 0)
        n--;
    }

  return build_integer (head, digs, n);
}

/* Returns "" on underflow. */
static char *
decrement_integer (const gunichar *x,
                   gsize           len)
{
  g_autofree gunichar *digs = g_new (gunichar, len + 1);
  gunichar head = x[0];
  gsize n = len - 1;
  gboolean borrow = TRUE;

  memcpy (digs, x + 1, n * sizeof (gunichar));

  for (gsize i = n; borrow && i > 0; i--)
    {
      int d = digit_value (digs[i - 1]) - 1;

      if (d == -1)
        digs[i - 1] = 'z';
      else
        {
          /* A non-digit gives `digits[-2]`, an undefined hole. */
          digs[i - 1] = d >= 0 ? (gunichar) digits[d] : 0;
          borrow = FALSE;
        }
    }

  if (borrow)
    {
      if (head == 'a')
        return g_strdup ("Zz");
      if (head == 'A')
        return g_strdup ("");

      head--;
      if (head < 'Z')
        digs[n++] = 'z';
      else if (n > 0)
        n--;
    }

  return build_integer (head, digs, n);
}

/* Validates @key and returns the length of its integer part, or -1. */
static int
validate_key (const char      *key,
              const gunichar  *chars,
              gsize            len,
              gboolean         low,
              GError         **error)
{
  int int_len;

  if ((low && strcmp (key, LARGEST_INTEGER) == 0) ||
      (!low && strcmp (key, SMALLEST_INTEGER) == 0))
    {
      set_invalid_key (error, key);
      return -1;
    }

  int_len = integer_length (chars[0]);
  if (int_len < 0)
    {
      g_autoptr(GString) head = g_string_new (NULL);

      append_chars (head, chars, 1);
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_KEY,
                   "Invalid order key head: %s", head->str);
      return -1;
    }

  if ((gsize) int_len > len || (len > (gsize) int_len && chars[len - 1] == '0'))
    {
      set_invalid_key (error, key);
      return -1;
    }

  return int_len;
}

static gboolean
is_smallest_integer (const gunichar *chars,
                     gsize           len)
{
  if (len != strlen (SMALLEST_INTEGER) || chars[0] != 'A')
    return FALSE;

  for (gsize i = 1; i < len; i++)
    {
      if (chars[i] != '0')
        return FALSE;
    }

  return TRUE;
}

static char *
integer_plus_midpoint (const gunichar  *integer,
                       gsize            int_len,
                       const gunichar  *x,
                       gsize            x_len,
                       const gunichar  *y,
                       gsize            y_len,
                       GError         **error)
{
  g_autoptr(GString) out = g_string_new (NULL);

  append_chars (out, integer, int_len);
  if (!midpoint (x, x_len, y, y_len, out, error))
    return NULL;

  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
check_utf8 (const char  *key,
            GError     **error)
{
  if (!g_utf8_validate (key, -1, NULL))
    {
      g_autofree char *valid = g_utf8_make_valid (key, -1);

      set_invalid_key (error, valid);
      return FALSE;
    }

  return TRUE;
}

/**
 * patches_fractional_key_between:
 * @a: (nullable): the key to sort after, or %NULL (or "") for the start
 * @b: (nullable): the key to sort before, or %NULL (or "") for the end
 * @error: return location for a #GError
 *
 * Generates an order key that sorts (as a plain string) strictly between
 * @a and @b, exactly as `fractionalIndex(a, b)` of @dabble/patches does.
 * With neither bound the first key, `a0`, is returned; with only @a the
 * next integer after it; with only @b the integer before it.  If @a does
 * not sort before @b the two are swapped.
 *
 * Keys are validated: a head that is not a letter gives
 * `Invalid order key head: <c>`; a key shorter than its integer part, a
 * fraction ending in `0`, an @a equal to the largest integer or a @b equal
 * to the smallest gives `Invalid order key: <key>`.  Both in the
 * %PATCHES_ERROR domain with code %PATCHES_ERROR_INVALID_KEY.
 *
 * Returns: (transfer full) (nullable): the new key, or %NULL with @error
 *   set
 */
char *
patches_fractional_key_between (const char  *a,
                                const char  *b,
                                GError     **error)
{
  g_autofree gunichar *ac = NULL;
  g_autofree gunichar *bc = NULL;
  glong al = 0;
  glong bl = 0;
  gboolean has_a = a != NULL && a[0] != '\0';
  gboolean has_b = b != NULL && b[0] != '\0';
  int ia_len = 0;
  int ib_len = 0;
  char *next;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if ((has_a && !check_utf8 (a, error)) || (has_b && !check_utf8 (b, error)))
    return NULL;

  if (has_a && has_b && js_strcmp (a, b) >= 0)
    {
      const char *t = a;

      a = b;
      b = t;
    }

  if (!has_a && !has_b)
    return g_strdup (INTEGER_ZERO);

  if (has_a)
    {
      ac = g_utf8_to_ucs4_fast (a, -1, &al);
      if ((ia_len = validate_key (a, ac, al, TRUE, error)) < 0)
        return NULL;
    }

  if (has_b)
    {
      bc = g_utf8_to_ucs4_fast (b, -1, &bl);
      if ((ib_len = validate_key (b, bc, bl, FALSE, error)) < 0)
        return NULL;
    }

  if (!has_a)
    {
      if (is_smallest_integer (bc, ib_len))
        return integer_plus_midpoint (bc, ib_len, NULL, 0, bc + ib_len, bl - ib_len, error);
      if (ib_len < bl)
        return build_integer (bc[0], bc + 1, ib_len - 1);
      return decrement_integer (bc, ib_len);
    }

  if (!has_b)
    {
      next = increment_integer (ac, ia_len);
      if (next[0] != '\0')
        return next;
      g_free (next);
      return integer_plus_midpoint (ac, ia_len, ac + ia_len, al - ia_len, NULL, 0, error);
    }

  if (ia_len == ib_len && chars_cmp (ac, ia_len, bc, ib_len) == 0)
    return integer_plus_midpoint (ac, ia_len, ac + ia_len, al - ia_len,
                                  bc + ib_len, bl - ib_len, error);

  next = increment_integer (ac, ia_len);
  if (js_strcmp (next, b) < 0)
    return next;
  g_free (next);

  return integer_plus_midpoint (ac, ia_len, ac + ia_len, al - ia_len, NULL, 0, error);
}

static gboolean
keys_between_into (const char  *a,
                   const char  *b,
                   guint        count,
                   GPtrArray   *out,
                   GError     **error)
{
  g_autofree char *c = NULL;

  if (count == 0)
    return TRUE;

  if (!(c = patches_fractional_key_between (a, b, error)))
    return FALSE;

  if (count == 1)
    {
      g_ptr_array_add (out, g_steal_pointer (&c));
      return TRUE;
    }

  if (b == NULL || b[0] == '\0')
    {
      const char *prev = c;

      g_ptr_array_add (out, g_steal_pointer (&c));
      for (guint i = 1; i < count; i++)
        {
          char *k = patches_fractional_key_between (prev, b, error);

          if (k == NULL)
            return FALSE;
          g_ptr_array_add (out, k);
          prev = k;
        }
      return TRUE;
    }

  if (a == NULL || a[0] == '\0')
    {
      guint first = out->len;
      const char *prev = c;

      g_ptr_array_add (out, g_steal_pointer (&c));
      for (guint i = 1; i < count; i++)
        {
          char *k = patches_fractional_key_between (a, prev, error);

          if (k == NULL)
            return FALSE;
          g_ptr_array_add (out, k);
          prev = k;
        }

      for (guint i = first, j = out->len - 1; i < j; i++, j--)
        {
          gpointer t = out->pdata[i];

          out->pdata[i] = out->pdata[j];
          out->pdata[j] = t;
        }
      return TRUE;
    }

  {
    guint half = count / 2;

    if (!keys_between_into (a, c, half, out, error))
      return FALSE;
    g_ptr_array_add (out, g_strdup (c));
    return keys_between_into (c, b, count - half - 1, out, error);
  }
}

/**
 * patches_fractional_keys_between:
 * @a: (nullable): the key to sort after, or %NULL (or "") for the start
 * @b: (nullable): the key to sort before, or %NULL (or "") for the end
 * @count: how many keys to generate
 * @error: return location for a #GError
 *
 * Generates @count keys between @a and @b, as `fractionalIndex(a, b,
 * count)` of @dabble/patches does: after @a one after another when @b is
 * open, before @b when @a is open, and otherwise by splitting the range at
 * its midpoint recursively so that the keys stay short.  The keys are in
 * ascending order when @a sorts before @b.
 *
 * Errors are those of patches_fractional_key_between().
 *
 * Returns: (transfer full) (array zero-terminated=1) (nullable): the
 *   keys (an empty array when @count is 0), or %NULL with @error set
 */
char **
patches_fractional_keys_between (const char  *a,
                                 const char  *b,
                                 guint        count,
                                 GError     **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_full (MIN (count, 4096) + 1, g_free);

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!keys_between_into (a, b, count, out, error))
    return NULL;

  g_ptr_array_add (out, NULL);

  return (char **) g_ptr_array_steal (out, NULL);
}

/* Primary collation weights of ASCII under the root collation of ICU (as
 * `String.prototype.localeCompare` uses it): 0 = completely ignorable.
 * Whitespace, then punctuation and symbols, then digits, then letters with
 * upper and lower case sharing a weight. */
static const char collation_order[] =
  "\t\n\v\f\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789";

static guint8 ascii_primary[128];

static void
init_ascii_primary (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      guint w = 1;

      for (const char *p = collation_order; *p != '\0'; p++)
        ascii_primary[(guchar) *p] = (guint8) w++;
      for (char c = 'a'; c <= 'z'; c++, w++)
        {
          ascii_primary[(guchar) c] = (guint8) w;
          ascii_primary[(guchar) g_ascii_toupper (c)] = (guint8) w;
        }

      g_once_init_leave (&initialized, 1);
    }
}

static guint32
primary_weight (gunichar c)
{
  if (c < 0x80)
    return ascii_primary[c];

  /* Beyond ASCII: an approximation, in code unit order after ASCII. */
  return 0x100 + js_char_key (c);
}

/* Next character of @p with a non-zero primary weight, or 0 at the end. */
static gunichar
next_collating_char (const char **p,
                     guint32     *weight)
{
  while (**p != '\0')
    {
      gunichar c = g_utf8_get_char (*p);

      *p = g_utf8_next_char (*p);
      if ((*weight = primary_weight (c)) != 0)
        return c;
    }

  *weight = 0;
  return 0;
}

/**
 * patches_fractional_collate:
 * @a: a UTF-8 string
 * @b: a UTF-8 string
 *
 * Compares two strings as `a.localeCompare(b)` does in Node.js with its
 * default (root / `en`) ICU collation, which is how @dabble/patches sorts
 * orders and item keys in patches_fractional_sort(): control characters
 * are ignored, punctuation sorts before digits and digits before letters,
 * letters compare without regard to case first, and then lower case
 * before upper case.  Exact for ASCII; other characters sort after ASCII
 * in code unit order (an approximation of ICU).
 *
 * Returns: a negative value if @a sorts first, a positive value if @b
 *   does, 0 if they collate equal
 */
int
patches_fractional_collate (const char *a,
                            const char *b)
{
  const char *pa = a;
  const char *pb = b;

  g_return_val_if_fail (a != NULL, 0);
  g_return_val_if_fail (b != NULL, 0);

  init_ascii_primary ();

  /* Primary level */
  for (;;)
    {
      guint32 wa, wb;

      next_collating_char (&pa, &wa);
      next_collating_char (&pb, &wb);

      if (wa != wb)
        return wa < wb ? -1 : 1;
      if (wa == 0)
        break;
    }

  /* Tertiary level (ASCII has no secondary differences): lower case first */
  pa = a;
  pb = b;
  for (;;)
    {
      guint32 wa, wb;
      gunichar ca = next_collating_char (&pa, &wa);
      gunichar cb = next_collating_char (&pb, &wb);
      gboolean ua = ca >= 'A' && ca <= 'Z';
      gboolean ub = cb >= 'A' && cb <= 'Z';

      if (wa == 0)
        break;
      if (ua != ub)
        return ua ? 1 : -1;
    }

  return 0;
}

typedef struct
{
  const char *key;
  const char *order;    /* NULL when not a string */
} Entry;

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const Entry *ea = a;
  const Entry *eb = b;
  int cmp;

  cmp = patches_fractional_collate (ea->order ? ea->order : "",
                                    eb->order ? eb->order : "");
  if (cmp != 0)
    return cmp;

  return patches_fractional_collate (ea->key, eb->key);
}

static GArray *
sorted_entries (const PatchesValue *items,
                const char         *field)
{
  guint n = patches_value_object_get_size (items);
  GArray *entries = g_array_sized_new (FALSE, FALSE, sizeof (Entry), n);

  for (guint i = 0; i < n; i++)
    {
      PatchesValue *value = patches_value_object_value_at (items, i);
      Entry entry = { patches_value_object_key_at (items, i), NULL };

      if (field != NULL)
        value = patches_value_get_kind (value) == PATCHES_VALUE_OBJECT
                ? patches_value_object_get (value, field)
                : NULL;

      if (value != NULL && patches_value_get_kind (value) == PATCHES_VALUE_STRING)
        entry.order = patches_value_get_string (value);

      g_array_append_val (entries, entry);
    }

  /* Stable, as Array.prototype.sort is. */
  g_array_sort (entries, compare_entries);

  return entries;
}

/**
 * patches_fractional_sort:
 * @items: an object value keyed by item id
 * @field: (nullable): the member of each item holding its order string,
 *   usually `"order"`; %NULL when the values are the order strings
 *
 * Sorts the members of @items by their order strings, ties broken by
 * key, as `fractionalIndex.sort` of @dabble/patches does.  Like the
 * reference it compares with `localeCompare` (see
 * patches_fractional_collate()), not plain string order.  Members whose
 * order is missing or not a string sort as if it were empty.
 *
 * Returns: (transfer full) (element-type utf8): the member keys in order
 */
GPtrArray *
patches_fractional_sort (const PatchesValue *items,
                         const char         *field)
{
  g_autoptr(GArray) entries = NULL;
  GPtrArray *keys;

  g_return_val_if_fail (items != NULL, NULL);
  g_return_val_if_fail (patches_value_get_kind (items) == PATCHES_VALUE_OBJECT, NULL);

  entries = sorted_entries (items, field);
  keys = g_ptr_array_new_full (entries->len, g_free);

  for (guint i = 0; i < entries->len; i++)
    g_ptr_array_add (keys, g_strdup (g_array_index (entries, Entry, i).key));

  return keys;
}

/**
 * patches_fractional_heal:
 * @items: an object value keyed by item id
 * @field: (nullable): the member of each item holding its order string,
 *   usually `"order"`; %NULL when the values are the order strings
 * @error: return location for a #GError
 *
 * Finds items whose order does not sort strictly after the previous one
 * (duplicates made by clients inserting concurrently) and computes new
 * orders for them, as `fractionalIndex.heal` of @dabble/patches does.
 * @items is not modified; the caller applies the fixes.
 *
 * An error is set when a new key cannot be generated from the existing
 * ones (see patches_fractional_key_between()), or when one of at least two
 * items has no string order (the reference throws a TypeError there).
 *
 * Returns: (transfer full) (nullable): an object mapping item keys to
 *   their new order strings, or %NULL when there is nothing to fix (or on
 *   error)
 */
PatchesValue *
patches_fractional_heal (const PatchesValue  *items,
                         const char          *field,
                         GError             **error)
{
  g_autoptr(GArray) entries = NULL;
  g_autoptr(PatchesValue) fixes = NULL;
  g_autofree char *prev_owned = NULL;
  const char *prev;

  g_return_val_if_fail (items != NULL, NULL);
  g_return_val_if_fail (patches_value_get_kind (items) == PATCHES_VALUE_OBJECT, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  entries = sorted_entries (items, field);
  if (entries->len < 2)
    return NULL;

  for (guint i = 0; i < entries->len; i++)
    {
      const Entry *entry = &g_array_index (entries, Entry, i);

      if (entry->order == NULL)
        {
          g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_KEY,
                       "Order of item \"%s\" is not a string", entry->key);
          return NULL;
        }
    }

  fixes = patches_value_new_object ();
  prev = g_array_index (entries, Entry, 0).order;

  for (guint i = 1; i < entries->len; i++)
    {
      const Entry *entry = &g_array_index (entries, Entry, i);
      const char *next = NULL;
      char *fixed;

      if (js_strcmp (entry->order, prev) > 0)
        {
          prev = entry->order;
          continue;
        }

      for (guint j = i + 1; j < entries->len; j++)
        {
          const char *candidate = g_array_index (entries, Entry, j).order;

          if (js_strcmp (candidate, prev) > 0)
            {
              next = candidate;
              break;
            }
        }

      if (!(fixed = patches_fractional_key_between (prev, next, error)))
        return NULL;

      patches_value_object_set (fixes, entry->key, patches_value_new_string (fixed));
      g_free (prev_owned);
      prev = prev_owned = fixed;
    }

  if (patches_value_object_get_size (fixes) == 0)
    return NULL;

  return g_steal_pointer (&fixes);
}
