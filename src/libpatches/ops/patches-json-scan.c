/* patches-json-scan.c
 *
 * json-glib 1.6 is laxer than JSON.parse() in some places and wrong in
 * others; this pass makes the network edge accept exactly what the
 * reference peers' JSON.parse() accepts (RFC 8259), with two exceptions
 * noted below, before json-glib builds anything:
 *
 *  - it refuses what JSON.parse() refuses and json-glib takes: comments,
 *    single-quoted strings, hexadecimal, `01`, `1.`, `.5`, `\x41` and `\'`
 *    escapes, raw control characters in strings, a byte order mark, and
 *    empty or blank text (json-glib returns an empty document);
 *  - it bounds the nesting depth (json-glib recurses without a limit and
 *    crashes on a deep enough frame); JSON.parse() has no such limit;
 *  - json-glib reads integer literals beyond the 64-bit range as garbage
 *    (`18446744073709551616` becomes -1); the pass rewrites such literals
 *    with a `.0` suffix so that they are read as doubles, which is what
 *    JavaScript makes of them anyway.
 *
 * Still different from JSON.parse() after this pass: json-glib refuses
 * lone surrogate escapes (`"\ud800"`), and cuts a string at `\u0000`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-error.h"
#include "patches-json-scan-private.h"

typedef struct
{
  const guchar *start;
  const guchar *p;
  const guchar *end;
  guint         depth;
  guint         max_depth;
  const char   *problem;
  GArray       *fixes;    /* offsets where ".0" goes */
} Scan;

static gboolean scan_value (Scan *scan);

static inline gboolean
fail (Scan       *scan,
      const char *problem)
{
  if (scan->problem == NULL)
    scan->problem = problem;
  return FALSE;
}

static inline void
skip_ws (Scan *scan)
{
  while (scan->p < scan->end &&
         (*scan->p == ' ' || *scan->p == '\t' || *scan->p == '\n' || *scan->p == '\r'))
    scan->p++;
}

static inline gboolean
is_digit (guchar c)
{
  return c >= '0' && c <= '9';
}

static gboolean
scan_string (Scan *scan)
{
  const guchar *p = scan->p + 1;
  const guchar *end = scan->end;

  while (p < end)
    {
      guchar c = *p;

      if (c == '"')
        {
          scan->p = p + 1;
          return TRUE;
        }

      if (c < 0x20)
        {
          scan->p = p;
          return fail (scan, "control character in string");
        }

      if (c != '\\')
        {
          /* UTF-8 validity is json-glib's to check */
          p++;
          continue;
        }

      if (++p >= end)
        break;

      switch (*p)
        {
        case '"': case '\\': case '/':
        case 'b': case 'f': case 'n': case 'r': case 't':
          p++;
          break;

        case 'u':
          if (end - p < 5 ||
              !g_ascii_isxdigit (p[1]) || !g_ascii_isxdigit (p[2]) ||
              !g_ascii_isxdigit (p[3]) || !g_ascii_isxdigit (p[4]))
            {
              scan->p = p;
              return fail (scan, "bad \\u escape");
            }
          p += 5;
          break;

        default:
          scan->p = p;
          return fail (scan, "bad escape");
        }
    }

  scan->p = end;
  return fail (scan, "unterminated string");
}

static gboolean
scan_number (Scan *scan)
{
  const guchar *p = scan->p;
  const guchar *end = scan->end;
  const guchar *digits;
  gboolean needs_fix;

  if (*p == '-')
    p++;

  digits = p;
  if (p < end && *p == '0')
    p++;
  else if (p < end && *p >= '1' && *p <= '9')
    while (p < end && is_digit (*p))
      p++;
  else
    {
      scan->p = p;
      return fail (scan, "bad number");
    }

  /* 19 digits and more may leave the 64-bit range json-glib reads
   * integers into; a double is what JavaScript makes of them. */
  needs_fix = (p - digits) >= 19;

  if (p < end && *p == '.')
    {
      p++;
      if (p >= end || !is_digit (*p))
        {
          scan->p = p;
          return fail (scan, "bad fraction");
        }
      while (p < end && is_digit (*p))
        p++;
      needs_fix = FALSE;
    }

  if (p < end && (*p == 'e' || *p == 'E'))
    {
      p++;
      if (p < end && (*p == '+' || *p == '-'))
        p++;
      if (p >= end || !is_digit (*p))
        {
          scan->p = p;
          return fail (scan, "bad exponent");
        }
      while (p < end && is_digit (*p))
        p++;
      needs_fix = FALSE;
    }

  if (needs_fix)
    {
      gsize offset = p - scan->start;

      if (scan->fixes == NULL)
        scan->fixes = g_array_new (FALSE, FALSE, sizeof (gsize));
      g_array_append_val (scan->fixes, offset);
    }

  scan->p = p;
  return TRUE;
}

static gboolean
scan_literal (Scan       *scan,
              const char *word,
              gsize       len)
{
  if ((gsize) (scan->end - scan->p) < len || memcmp (scan->p, word, len) != 0)
    return fail (scan, "unexpected token");

  scan->p += len;
  return TRUE;
}

static gboolean
enter (Scan *scan)
{
  if (++scan->depth > scan->max_depth)
    return fail (scan, "nesting too deep");

  scan->p++;
  skip_ws (scan);
  return TRUE;
}

static gboolean
scan_array (Scan *scan)
{
  if (!enter (scan))
    return FALSE;

  if (scan->p < scan->end && *scan->p == ']')
    goto done;

  for (;;)
    {
      if (!scan_value (scan))
        return FALSE;
      skip_ws (scan);
      if (scan->p >= scan->end)
        return fail (scan, "unterminated array");
      if (*scan->p == ']')
        break;
      if (*scan->p != ',')
        return fail (scan, "expected ',' or ']'");
      scan->p++;
      skip_ws (scan);
    }

done:
  scan->p++;
  scan->depth--;
  return TRUE;
}

static gboolean
scan_object (Scan *scan)
{
  if (!enter (scan))
    return FALSE;

  if (scan->p < scan->end && *scan->p == '}')
    goto done;

  for (;;)
    {
      if (scan->p >= scan->end || *scan->p != '"')
        return fail (scan, "expected a member name");
      if (!scan_string (scan))
        return FALSE;
      skip_ws (scan);
      if (scan->p >= scan->end || *scan->p != ':')
        return fail (scan, "expected ':'");
      scan->p++;
      skip_ws (scan);
      if (!scan_value (scan))
        return FALSE;
      skip_ws (scan);
      if (scan->p >= scan->end)
        return fail (scan, "unterminated object");
      if (*scan->p == '}')
        break;
      if (*scan->p != ',')
        return fail (scan, "expected ',' or '}'");
      scan->p++;
      skip_ws (scan);
    }

done:
  scan->p++;
  scan->depth--;
  return TRUE;
}

static gboolean
scan_value (Scan *scan)
{
  if (scan->p >= scan->end)
    return fail (scan, "unexpected end");

  switch (*scan->p)
    {
    case '{':
      return scan_object (scan);
    case '[':
      return scan_array (scan);
    case '"':
      return scan_string (scan);
    case 't':
      return scan_literal (scan, "true", 4);
    case 'f':
      return scan_literal (scan, "false", 5);
    case 'n':
      return scan_literal (scan, "null", 4);
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      return scan_number (scan);
    default:
      return fail (scan, "unexpected token");
    }
}

/*
 * patches_json_scan:
 * @text: JSON text (need not be nul-terminated)
 * @length: its length in bytes
 * @max_depth: the deepest nesting accepted
 * @rewritten: (out) (transfer full) (nullable): set to a rewritten,
 *   nul-terminated copy of @text when json-glib must not see the original
 *   (big integer literals), else to %NULL
 * @rewritten_length: (out) (optional): the length of *@rewritten
 * @error: a location for a #GError
 *
 * Checks that @text is one JSON value as JSON.parse() accepts it, nested
 * at most @max_depth deep.  Linear in @length.
 *
 * Returns: %TRUE if it is; %FALSE with %PATCHES_ERROR_INVALID_JSON
 */
gboolean
patches_json_scan (const char  *text,
                   gsize        length,
                   guint        max_depth,
                   char       **rewritten,
                   gsize       *rewritten_length,
                   GError     **error)
{
  Scan scan = {
    .start = (const guchar *) text,
    .p = (const guchar *) text,
    .end = (const guchar *) text + length,
    .max_depth = max_depth,
  };
  gboolean ok;

  g_return_val_if_fail (text != NULL || length == 0, FALSE);
  g_return_val_if_fail (rewritten != NULL, FALSE);

  *rewritten = NULL;
  if (rewritten_length != NULL)
    *rewritten_length = 0;

  skip_ws (&scan);
  ok = scan_value (&scan);
  if (ok)
    {
      skip_ws (&scan);
      if (scan.p != scan.end)
        ok = fail (&scan, "unexpected text after the value");
    }

  if (!ok)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_JSON,
                   "Invalid JSON at byte %" G_GSIZE_FORMAT ": %s",
                   (gsize) (scan.p - scan.start), scan.problem);
      g_clear_pointer (&scan.fixes, g_array_unref);
      return FALSE;
    }

  if (scan.fixes != NULL)
    {
      GString *out = g_string_sized_new (length + 2 * scan.fixes->len + 1);
      gsize from = 0;

      for (guint i = 0; i < scan.fixes->len; i++)
        {
          gsize at = g_array_index (scan.fixes, gsize, i);

          g_string_append_len (out, text + from, at - from);
          g_string_append_len (out, ".0", 2);
          from = at;
        }
      g_string_append_len (out, text + from, length - from);

      if (rewritten_length != NULL)
        *rewritten_length = out->len;
      *rewritten = g_string_free (out, FALSE);
      g_array_unref (scan.fixes);
    }

  return TRUE;
}
