/* patches-js.c
 *
 * JavaScript operator semantics on JSON values (ECMA-262 ToPrimitive,
 * ToString, ToNumber, ToInt32, the `+` operator and IsLessThan), as far
 * as JSON values can reach them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "patches-js-private.h"

/* A primitive after ToPrimitive: what `+` and `<` actually operate on. */
typedef enum {
  JS_UNDEFINED,
  JS_NULL,
  JS_BOOLEAN,
  JS_NUMBER,
  JS_STRING,
} JsType;

typedef struct {
  JsType      type;
  gboolean    boolean;
  double      number;
  const char *str;       /* borrowed from the value, or owned_str */
  gsize       len;
  char       *owned_str;
} JsPrimitive;

static void
js_primitive_clear (JsPrimitive *prim)
{
  g_clear_pointer (&prim->owned_str, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (JsPrimitive, js_primitive_clear)

static void js_append_value_string (GString *out, const PatchesValue *value);

/* Array.prototype.join(","): `null` and `undefined` elements are empty,
 * everything else goes through ToString (nested arrays recurse). */
static void
js_append_array_join (GString            *out,
                      const PatchesValue *array)
{
  guint n = patches_value_array_get_length (array);

  for (guint i = 0; i < n; i++)
    {
      PatchesValue *element = patches_value_array_get (array, i);

      if (i > 0)
        g_string_append_c (out, ',');
      if (element == NULL || patches_value_get_kind (element) == PATCHES_VALUE_NULL)
        continue;
      js_append_value_string (out, element);
    }
}

/* ToPrimitive: arrays become their join, every other object (plain
 * objects, and the Delta instances that text values are in the library)
 * becomes "[object Object]". */
static void
js_to_primitive (const PatchesValue *value,
                 JsPrimitive        *prim)
{
  memset (prim, 0, sizeof *prim);

  if (value == NULL)
    {
      prim->type = JS_UNDEFINED;
      return;
    }

  switch (patches_value_get_kind (value))
    {
    case PATCHES_VALUE_NULL:
      prim->type = JS_NULL;
      break;

    case PATCHES_VALUE_BOOL:
      prim->type = JS_BOOLEAN;
      prim->boolean = patches_value_get_bool (value);
      break;

    case PATCHES_VALUE_NUMBER:
      prim->type = JS_NUMBER;
      prim->number = patches_value_get_number (value);
      break;

    case PATCHES_VALUE_STRING:
      prim->type = JS_STRING;
      prim->str = patches_value_get_string (value);
      prim->len = patches_value_get_string_len (value);
      break;

    case PATCHES_VALUE_ARRAY:
      {
        GString *joined = g_string_new (NULL);

        js_append_array_join (joined, value);
        prim->type = JS_STRING;
        prim->len = joined->len;
        prim->owned_str = g_string_free (joined, FALSE);
        prim->str = prim->owned_str;
      }
      break;

    case PATCHES_VALUE_OBJECT:
    case PATCHES_VALUE_TEXT:
    default:
      prim->type = JS_STRING;
      prim->str = "[object Object]";
      prim->len = strlen (prim->str);
      break;
    }
}

/**
 * patches_js_append_number_string:
 * @out: string to append to
 * @number: a number
 *
 * Appends `String(number)`.  Unlike JSON, JavaScript writes the
 * non-finite numbers as `NaN`, `Infinity` and `-Infinity`.
 */
void
patches_js_append_number_string (GString *out,
                                 double   number)
{
  if (isnan (number))
    g_string_append (out, "NaN");
  else if (isinf (number))
    g_string_append (out, number > 0 ? "Infinity" : "-Infinity");
  else
    patches_js_append_number (out, number);
}

static void
js_append_primitive_string (GString           *out,
                            const JsPrimitive *prim)
{
  switch (prim->type)
    {
    case JS_UNDEFINED:
      g_string_append (out, "undefined");
      break;
    case JS_NULL:
      g_string_append (out, "null");
      break;
    case JS_BOOLEAN:
      g_string_append (out, prim->boolean ? "true" : "false");
      break;
    case JS_NUMBER:
      patches_js_append_number_string (out, prim->number);
      break;
    case JS_STRING:
    default:
      g_string_append_len (out, prim->str, prim->len);
      break;
    }
}

static void
js_append_value_string (GString            *out,
                        const PatchesValue *value)
{
  g_auto(JsPrimitive) prim = { 0 };

  js_to_primitive (value, &prim);
  js_append_primitive_string (out, &prim);
}

/**
 * patches_js_to_string:
 * @value: (nullable): a value, %NULL for `undefined`
 *
 * Returns: (transfer full): `String(value)`
 */
char *
patches_js_to_string (const PatchesValue *value)
{
  GString *out = g_string_new (NULL);

  js_append_value_string (out, value);
  return g_string_free (out, FALSE);
}

/* WhiteSpace and LineTerminator of ECMA-262, which StringToNumber trims. */
static gboolean
js_is_space (gunichar c)
{
  switch (c)
    {
    case 0x0009: case 0x000A: case 0x000B: case 0x000C: case 0x000D:
    case 0x0020: case 0x00A0: case 0x2028: case 0x2029: case 0xFEFF:
      return TRUE;
    default:
      return g_unichar_type (c) == G_UNICODE_SPACE_SEPARATOR;
    }
}

static double
js_parse_radix (const char *digits,
                gsize       len,
                int         radix)
{
  double value = 0;

  if (len == 0)
    return NAN;

  for (gsize i = 0; i < len; i++)
    {
      int d = g_ascii_xdigit_value (digits[i]);

      if (d < 0 || d >= radix)
        return NAN;
      value = value * radix + d;
    }

  return value;
}

/**
 * patches_js_string_to_number:
 * @str: UTF-8 text
 * @len: its length in bytes
 *
 * ECMA-262 StringToNumber: surrounding white space is ignored, the empty
 * string is 0, `0x`/`0o`/`0b` literals and `Infinity` are accepted, and
 * anything that is not a whole decimal literal is NaN (unlike strtod,
 * which would accept `inf`, `nan`, hexadecimal floats or a prefix).
 *
 * Returns: the number
 */
double
patches_js_string_to_number (const char *str,
                             gsize       len)
{
  const char *start = str;
  const char *end = str + len;
  const char *p;
  g_autofree char *literal = NULL;
  gboolean digits_seen = FALSE;

  /* Trim, one character at a time (the white space set is not ASCII). */
  while (start < end)
    {
      const char *next = g_utf8_find_next_char (start, end);
      gunichar c = g_utf8_get_char_validated (start, (next ? next : end) - start);

      if (c >= 0x110000 || !js_is_space (c))
        break;
      start = next ? next : end;
    }
  while (end > start)
    {
      const char *prev = g_utf8_find_prev_char (start, end);
      gunichar c;

      if (prev == NULL)
        break;
      c = g_utf8_get_char_validated (prev, end - prev);
      if (c >= 0x110000 || !js_is_space (c))
        break;
      end = prev;
    }

  len = end - start;
  if (len == 0)
    return 0;

  if (len > 2 && start[0] == '0')
    {
      switch (start[1])
        {
        case 'x': case 'X':
          return js_parse_radix (start + 2, len - 2, 16);
        case 'o': case 'O':
          return js_parse_radix (start + 2, len - 2, 8);
        case 'b': case 'B':
          return js_parse_radix (start + 2, len - 2, 2);
        default:
          break;
        }
    }

  p = start;
  if (*p == '+' || *p == '-')
    p++;

  if ((gsize) (end - p) == 8 && memcmp (p, "Infinity", 8) == 0)
    return start[0] == '-' ? -INFINITY : INFINITY;

  /* StrUnsignedDecimalLiteral: digits [. digits] | . digits, then an
   * optional exponent. */
  while (p < end && g_ascii_isdigit (*p))
    p++, digits_seen = TRUE;
  if (p < end && *p == '.')
    {
      p++;
      while (p < end && g_ascii_isdigit (*p))
        p++, digits_seen = TRUE;
    }
  if (!digits_seen)
    return NAN;
  if (p < end && (*p == 'e' || *p == 'E'))
    {
      gboolean exponent_seen = FALSE;

      p++;
      if (p < end && (*p == '+' || *p == '-'))
        p++;
      while (p < end && g_ascii_isdigit (*p))
        p++, exponent_seen = TRUE;
      if (!exponent_seen)
        return NAN;
    }
  if (p != end)
    return NAN;

  literal = g_strndup (start, len);
  return g_ascii_strtod (literal, NULL);
}

static double
js_primitive_to_number (const JsPrimitive *prim)
{
  switch (prim->type)
    {
    case JS_UNDEFINED:
      return NAN;
    case JS_NULL:
      return 0;
    case JS_BOOLEAN:
      return prim->boolean ? 1 : 0;
    case JS_NUMBER:
      return prim->number;
    case JS_STRING:
    default:
      return patches_js_string_to_number (prim->str, prim->len);
    }
}

/**
 * patches_js_to_number:
 * @value: (nullable): a value, %NULL for `undefined`
 *
 * Returns: `Number(value)`
 */
double
patches_js_to_number (const PatchesValue *value)
{
  g_auto(JsPrimitive) prim = { 0 };

  js_to_primitive (value, &prim);
  return js_primitive_to_number (&prim);
}

/**
 * patches_js_to_int32:
 * @number: a number
 *
 * Returns: ECMA-262 ToInt32, what the bit operators see: NaN and the
 *   infinities are 0, other numbers are truncated and wrapped modulo 2³²
 */
gint32
patches_js_to_int32 (double number)
{
  double m;

  if (!isfinite (number))
    return 0;

  m = fmod (trunc (number), 4294967296.0);
  if (m < 0)
    m += 4294967296.0;

  return (gint32) (guint32) m;
}

/**
 * patches_js_add:
 * @a: (nullable): left operand, %NULL for `undefined`
 * @b: (nullable): right operand, %NULL for `undefined`
 *
 * JavaScript `a + b`: if either operand is (or converts to) a string the
 * result is the concatenation, otherwise the sum of the numbers.  This is
 * how `@inc` values compose (OPERATIONS.md §8).
 *
 * Returns: (transfer full): the result
 */
PatchesValue *
patches_js_add (const PatchesValue *a,
                const PatchesValue *b)
{
  g_auto(JsPrimitive) pa = { 0 };
  g_auto(JsPrimitive) pb = { 0 };
  PatchesValue *result;

  js_to_primitive (a, &pa);
  js_to_primitive (b, &pb);

  if (pa.type == JS_STRING || pb.type == JS_STRING)
    {
      GString *out = g_string_new (NULL);

      js_append_primitive_string (out, &pa);
      js_append_primitive_string (out, &pb);
      result = patches_value_new_string_len (out->str, out->len);
      g_string_free (out, TRUE);
      return result;
    }

  return patches_value_new_number (js_primitive_to_number (&pa) + js_primitive_to_number (&pb));
}

/* The next UTF-16 code unit of a UTF-8 string of known length (it may
 * hold NUL characters).  *pending carries the low surrogate of a
 * supplementary character. */
static guint
js_next_unit (const char **p,
              const char  *end,
              guint       *pending)
{
  gunichar c;
  const char *next;

  if (*pending != 0)
    {
      guint unit = *pending;

      *pending = 0;
      return unit;
    }

  c = g_utf8_get_char_validated (*p, end - *p);
  if (c >= 0x110000)
    {
      /* Not UTF-8 (cannot come from JSON): compare the byte. */
      c = (guchar) **p;
      *p += 1;
      return c;
    }

  next = g_utf8_next_char (*p);
  *p = next > end ? end : next;
  if (c < 0x10000)
    return c;

  c -= 0x10000;
  *pending = 0xDC00 + (c & 0x3FF);
  return 0xD800 + (c >> 10);
}

/* Compares two UTF-8 strings by UTF-16 code units, as JavaScript's
 * relational operators do (OPERATIONS.md §1.2). */
static int
js_string_compare (const char *a,
                   gsize       alen,
                   const char *b,
                   gsize       blen)
{
  const char *aend = a + alen;
  const char *bend = b + blen;
  guint apending = 0, bpending = 0;

  while ((a < aend || apending) && (b < bend || bpending))
    {
      guint ua = js_next_unit (&a, aend, &apending);
      guint ub = js_next_unit (&b, bend, &bpending);

      if (ua != ub)
        return ua < ub ? -1 : 1;
    }

  return (a < aend || apending) - (b < bend || bpending);
}

/**
 * patches_js_less_than:
 * @a: (nullable): left operand, %NULL for `undefined`
 * @b: (nullable): right operand, %NULL for `undefined`
 *
 * JavaScript `a < b`: two strings compare by UTF-16 code units, anything
 * else compares as numbers, and a NaN on either side makes it false.
 * `a > b` is patches_js_less_than (b, a).
 *
 * Returns: the result of `a < b`
 */
gboolean
patches_js_less_than (const PatchesValue *a,
                      const PatchesValue *b)
{
  g_auto(JsPrimitive) pa = { 0 };
  g_auto(JsPrimitive) pb = { 0 };
  double na, nb;

  js_to_primitive (a, &pa);
  js_to_primitive (b, &pb);

  if (pa.type == JS_STRING && pb.type == JS_STRING)
    return js_string_compare (pa.str, pa.len, pb.str, pb.len) < 0;

  na = js_primitive_to_number (&pa);
  nb = js_primitive_to_number (&pb);
  if (isnan (na) || isnan (nb))
    return FALSE;

  return na < nb;
}
