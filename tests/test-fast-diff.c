/* test-fast-diff.c
 *
 * Tests of the fast-diff 1.3.0 port. The expected results in the tables
 * were produced by fast-diff 1.3.0 itself (`diff(a, b)` or
 * `diff(a, b, cursor)` under Node 20).
 *
 * Texts are written in a small notation: printable ASCII stands for
 * itself and `\uXXXX` for any other UTF-16 code unit, so lone surrogates
 * can be written. A diff is its runs joined by `|`, each run being `=`,
 * `-` or `+` (equal, delete, insert) followed by its text.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "patches-fast-diff-private.h"

typedef struct {
  gssize      cursor;
  const char *a;
  const char *b;
  const char *expected;
} DiffCase;

#define IS_HIGH_SURROGATE(u) ((u) >= 0xD800 && (u) <= 0xDBFF)
#define IS_LOW_SURROGATE(u)  ((u) >= 0xDC00 && (u) <= 0xDFFF)

/* Notation -> code units. */
static GArray *
units_from_notation (const char *s)
{
  GArray *units = g_array_new (FALSE, FALSE, sizeof (gunichar2));

  while (*s != '\0')
    {
      gunichar2 u;

      if (s[0] == '\\' && s[1] == 'u')
        {
          char hex[5] = { 0 };

          g_assert_true (g_ascii_isxdigit (s[2]) && g_ascii_isxdigit (s[3]) &&
                         g_ascii_isxdigit (s[4]) && g_ascii_isxdigit (s[5]));
          memcpy (hex, s + 2, 4);
          u = (gunichar2) g_ascii_strtoull (hex, NULL, 16);
          s += 6;
        }
      else
        {
          u = (guchar) *s;
          s++;
        }
      g_array_append_val (units, u);
    }

  return units;
}

static void
append_notation (GString         *out,
                 const gunichar2 *units,
                 gsize            len)
{
  for (gsize i = 0; i < len; i++)
    {
      gunichar2 u = units[i];

      if (u >= 0x20 && u < 0x7F && u != '\\' && u != '|' && u != '"')
        g_string_append_c (out, (char) u);
      else
        g_string_append_printf (out, "\\u%04X", u);
    }
}

/* Runs -> notation. */
static char *
diff_to_notation (GArray *runs)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < runs->len; i++)
    {
      const PatchesDiffRun *run = &g_array_index (runs, PatchesDiffRun, i);

      if (i > 0)
        g_string_append_c (out, '|');
      g_string_append_c (out,
                         run->op == PATCHES_DIFF_DELETE ? '-' :
                         run->op == PATCHES_DIFF_INSERT ? '+' : '=');
      append_notation (out, run->text, run->length);
    }

  return g_string_free (out, FALSE);
}

static gboolean
is_well_formed (const gunichar2 *units,
                gsize            len)
{
  for (gsize i = 0; i < len; i++)
    {
      if (IS_HIGH_SURROGATE (units[i]))
        {
          if (i + 1 >= len || !IS_LOW_SURROGATE (units[i + 1]))
            return FALSE;
          i++;
        }
      else if (IS_LOW_SURROGATE (units[i]))
        return FALSE;
    }

  return TRUE;
}

/* Checks what holds for every diff: the old text is the equal and deleted
 * runs, the new one the equal and inserted runs, no run is empty, no two
 * neighbours share an op. With well-formed texts no run boundary falls
 * inside a surrogate pair. Returns FALSE (after a test message) on a
 * failure, so that the caller can print the inputs. */
static gboolean
diff_is_sound (const gunichar2 *a,
               gsize            a_len,
               const gunichar2 *b,
               gsize            b_len,
               GArray          *runs)
{
  g_autoptr(GArray) old_text = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  g_autoptr(GArray) new_text = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  gboolean check_pairs = is_well_formed (a, a_len) && is_well_formed (b, b_len);

  for (guint i = 0; i < runs->len; i++)
    {
      const PatchesDiffRun *run = &g_array_index (runs, PatchesDiffRun, i);

      if (run->length == 0 || run->text == NULL)
        {
          g_test_message ("run %u is empty", i);
          return FALSE;
        }
      if (run->op != PATCHES_DIFF_DELETE && run->op != PATCHES_DIFF_EQUAL &&
          run->op != PATCHES_DIFF_INSERT)
        {
          g_test_message ("run %u has op %d", i, run->op);
          return FALSE;
        }
      if (i > 0 && g_array_index (runs, PatchesDiffRun, i - 1).op == run->op)
        {
          g_test_message ("runs %u and %u have the same op", i - 1, i);
          return FALSE;
        }
      if (check_pairs &&
          (IS_LOW_SURROGATE (run->text[0]) ||
           IS_HIGH_SURROGATE (run->text[run->length - 1])))
        {
          g_test_message ("run %u splits a surrogate pair", i);
          return FALSE;
        }

      if (run->op != PATCHES_DIFF_INSERT)
        g_array_append_vals (old_text, run->text, run->length);
      if (run->op != PATCHES_DIFF_DELETE)
        g_array_append_vals (new_text, run->text, run->length);
    }

  if (old_text->len != a_len ||
      (a_len > 0 && memcmp (old_text->data, a, a_len * sizeof (gunichar2)) != 0))
    {
      g_test_message ("equal and deleted runs do not rebuild the old text");
      return FALSE;
    }
  if (new_text->len != b_len ||
      (b_len > 0 && memcmp (new_text->data, b, b_len * sizeof (gunichar2)) != 0))
    {
      g_test_message ("equal and inserted runs do not rebuild the new text");
      return FALSE;
    }

  return TRUE;
}

static char *
run_case (const DiffCase *c)
{
  g_autoptr(GArray) a = units_from_notation (c->a);
  g_autoptr(GArray) b = units_from_notation (c->b);
  g_autoptr(GArray) runs = NULL;

  runs = patches_fast_diff ((const gunichar2 *) a->data, a->len,
                            (const gunichar2 *) b->data, b->len,
                            c->cursor);
  g_assert_nonnull (runs);
  if (!diff_is_sound ((const gunichar2 *) a->data, a->len,
                      (const gunichar2 *) b->data, b->len, runs))
    g_error ("unsound diff of \"%s\" and \"%s\" (cursor %" G_GSSIZE_FORMAT ")",
             c->a, c->b, c->cursor);

  return diff_to_notation (runs);
}

static void
check_cases (const DiffCase *cases,
             gsize           n_cases)
{
  for (gsize i = 0; i < n_cases; i++)
    {
      g_autofree char *got = run_case (&cases[i]);

      if (g_strcmp0 (got, cases[i].expected) != 0)
        g_test_message ("case %" G_GSIZE_FORMAT ": \"%s\" -> \"%s\" (cursor %"
                        G_GSSIZE_FORMAT ")", i, cases[i].a, cases[i].b,
                        cases[i].cursor);
      g_assert_cmpstr (got, ==, cases[i].expected);
    }
}

/* Equal and empty texts and the simplest edits. */
static void
test_basic (void)
{
  static const DiffCase cases[] = {
    { -1, "", "",
      "" },
    { -1, "abc", "abc",
      "=abc" },
    { -1, "", "abc",
      "+abc" },
    { -1, "abc", "",
      "-abc" },
    { -1, "abc", "abXc",
      "=ab|+X|=c" },
    { -1, "abc", "ab123c",
      "=ab|+123|=c" },
    { -1, "a123bc", "abc",
      "=a|-123|=bc" },
    { -1, "abc", "a123b456c",
      "=a|+123|=b|+456|=c" },
    { -1, "a123b456c", "abc",
      "=a|-123|=b|-456|=c" },
    { -1, "a", "b",
      "-a|+b" },
    { -1, "cat", "map",
      "-c|+m|=a|-t|+p" },
    {  1, "abc", "abc",
      "=abc" },
  };

  check_cases (cases, G_N_ELEMENTS (cases));
}

/* The classic diff-match-patch examples (common prefix and suffix,
 * "one text inside the other", half-match, bisection, merge cleanup). */
static void
test_dmp_examples (void)
{
  static const DiffCase cases[] = {
    { -1, "Apples are a fruit.", "Bananas are also fruit.",
      "-Apple|+Banana|=s are a|+lso|= fruit." },
    { -1, "ax\\u0009", "\\u0680x\\u0000",
      "-a|+\\u0680|=x|-\\u0009|+\\u0000" },
    { -1, "1ayb2", "abxab",
      "-1|=a|-y|=b|-2|+xab" },
    { -1, "abcy", "xaxcxabc",
      "+xaxcx|=abc|-y" },
    { -1, "ABCDa=bcd=efghijklmnopqrsEFGHIJKLMNOefg", "a-bcd-efghijklmnopqrs",
      "-ABCD|=a|-=|+-|=bcd|-=|+-|=efghijklmnopqrs|-EFGHIJKLMNOefg" },
    { -1, "a [[Pennsylvania]] and [[New", " and [[Pennsylvania]]",
      "+ |=a|+nd|= [[Pennsylvania]]|- and [[New" },
    { -1, "1234567890", "a345678z",
      "-12|+a|=345678|-90|+z" },
    { -1, "abc56789z", "1234567890",
      "-abc|+1234|=56789|-z|+0" },
    { -1, "a23456xyz", "1234567890",
      "-a|+1|=23456|-xyz|+7890" },
    { -1, "121231234123451234123121", "a1234123451234z",
      "-12123|+a|=1234123451234|-123121|+z" },
    { -1, "x-=-=-=-=-=-=-=-=-=-=-=-=", "xx-=-=-=-=-=-=-=",
      "=x|--=-=-=-=-=|+x|=-=-=-=-=-=-=-=" },
    { -1, "-=-=-=-=-=-=-=-=-=-=-=-=y", "-=-=-=-=-=-=-=yy",
      "=-=-=-=-=-=-=-=|--=-=-=-=-=|+y|=y" },
    { -1, "qHilloHelloHew", "xHelloHeHulloy",
      "-qHillo|+x|=HelloHe|-w|+Hulloy" },
    { -1, "The quick brown fox jumps over the lazy dog.", "That quick brown fox jumped over a lazy dog.",
      "=Th|-e|+at|= quick brown fox jump|-s|+ed|= over |-the|+a|= lazy dog." },
  };

  check_cases (cases, G_N_ELEMENTS (cases));
}

/* Surrogate pairs: trimming and the merge cleanup never split a pair. */
static void
test_surrogate_pairs (void)
{
  static const DiffCase cases[] = {
    { -1, "\\uD83D\\uDE00", "\\uD83D\\uDE01",
      "-\\uD83D\\uDE00|+\\uD83D\\uDE01" },
    { -1, "a\\uD83D\\uDE00b", "a\\uD83D\\uDE01b",
      "=a|-\\uD83D\\uDE00|+\\uD83D\\uDE01|=b" },
    { -1, "\\uD83D\\uDE00\\uD83D\\uDE01", "\\uD83D\\uDE01",
      "-\\uD83D\\uDE00|=\\uD83D\\uDE01" },
    { -1, "\\uD83D\\uDE00\\uD83D\\uDE01", "\\uD83D\\uDE01\\uD83D\\uDE00",
      "+\\uD83D\\uDE01|=\\uD83D\\uDE00|-\\uD83D\\uDE01" },
    { -1, "\\uD83D\\uDE4B\\uD83D\\uDE4B", "\\uD83D\\uDE4C\\uD83D\\uDE4C\\uD83D\\uDE4B",
      "-\\uD83D\\uDE4B|+\\uD83D\\uDE4C\\uD83D\\uDE4C|=\\uD83D\\uDE4B" },
    { -1, "a\\uD83D\\uDE00\\uD83D\\uDE00b", "a\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00b",
      "=a\\uD83D\\uDE00|+\\uD83D\\uDE01|=\\uD83D\\uDE00b" },
    { -1, "\\uD83D\\uDE00x\\uD83D\\uDE01", "\\uD83D\\uDE01x\\uD83D\\uDE00",
      "-\\uD83D\\uDE00|+\\uD83D\\uDE01|=x|-\\uD83D\\uDE01|+\\uD83D\\uDE00" },
    { -1, "\\uD835\\uDC00\\uD83D\\uDE00", "\\uD83D\\uDE00\\uD835\\uDC00",
      "+\\uD83D\\uDE00|=\\uD835\\uDC00|-\\uD83D\\uDE00" },
  };

  check_cases (cases, G_N_ELEMENTS (cases));
}

/* The cursor hint: the single-edit fast path puts the edit at the cursor
 * (cursor 0 included), a hint past the end is ignored, and a fast-path
 * splice that would split a pair makes fast-diff fall back to the plain
 * diff. */
static void
test_cursor (void)
{
  static const DiffCase cases[] = {
    { -1, "aaa", "aaaa",
      "=aaa|+a" },
    {  1, "aaa", "aaaa",
      "=a|+a|=aa" },
    {  2, "aaa", "aaaa",
      "=aa|+a|=a" },
    {  0, "aa", "aaa",
      "+a|=aa" },
    {  2, "abc", "ac",
      "=a|-b|=c" },
    {  1, "abc", "ac",
      "=a|-b|=c" },
    {  0, "xxx", "xx",
      "-x|=xx" },
    {  2, "xxx", "xx",
      "=x|-x|=x" },
    {  7, "ab", "abc",
      "=ab|+c" },
    {  3, "abcd", "aXd",
      "=a|-bc|+X|=d" },
    {  2, "abab", "ab",
      "-ab|=ab" },
    {  1, "\\uD83D\\uDE00", "\\uD83D\\uDE00\\uD83D\\uDE00",
      "=\\uD83D\\uDE00|+\\uD83D\\uDE00" },
    {  2, "\\uD83D\\uDE00", "\\uD83D\\uDE00\\uD83D\\uDE00",
      "=\\uD83D\\uDE00|+\\uD83D\\uDE00" },
    {  2, "\\uD83D\\uDE00\\uD83D\\uDE00", "\\uD83D\\uDE00",
      "-\\uD83D\\uDE00|=\\uD83D\\uDE00" },
    {  3, "\\uD83D\\uDE00\\uD83D\\uDE00", "\\uD83D\\uDE00",
      "=\\uD83D\\uDE00|-\\uD83D\\uDE00" },
  };

  check_cases (cases, G_N_ELEMENTS (cases));
}

/* Random cases, mostly with surrogate pairs and some with lone
 * surrogates, as fast-diff 1.3.0 diffs them. */
static void
test_reference (void)
{
  static const DiffCase cases[] = {
    { -1, "f avcswkxflekq", "f avcswkhwjekq",
      "=f avcswk|-xfl|+hwj|=ekq" },
    { -1, "\\u00E9", "\\u00E9a\\uD83D\\uDE00b",
      "=\\u00E9|+a\\uD83D\\uDE00b" },
    { 17, "\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00aa\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00aa", "\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01aa\\uD83D\\uDE01aa",
      "=\\uD83D\\uDE01\\uD83D\\uDE01|+\\uD83D\\uDE01|=\\uD83D\\uDE00|-\\uD83D\\uDE00|+\\uD83D\\uDE01|=aa\\uD83D\\uDE01|-\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00|=aa" },
    { -1, "\\uD83D\\uDE01\\uD83D\\uDE00", "",
      "-\\uD83D\\uDE01\\uD83D\\uDE00" },
    { -1, "a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE42a\\uD835\\uDC00\\uD835\\uDC00\\uD835\\uDC00\\uD83D\\uDE00\\uD83D\\uDE01", "a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE42a\\uD835\\uDC00\\uD835\\uDC00\\uD835\\uDC00\\uD83D\\uDE00\\uD835\\uDC00a\\uD83D\\uDE01",
      "=a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE42a\\uD835\\uDC00\\uD835\\uDC00\\uD835\\uDC00\\uD83D\\uDE00|+\\uD835\\uDC00a|=\\uD83D\\uDE01" },
    { -1, "babbbabbbbaaaaab", "aaaaba",
      "-b|=a|-bbbabbbb|=aaa|-a|+b|=a|-b" },
    {  3, "aabb", "abaaaabaab",
      "+abaa|=aab|+aa|=b" },
    { -1, "acbaabba", "bc",
      "-ac|=b|-aabba|+c" },
    { -1, "mp", "njpeftwkee",
      "-m|+nj|=p|+eftwkee" },
    { -1, "\\uD83D\\uDE42\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE42b\\uD83D\\uDE01", "\\uD83D\\uDE42\\uD835\\uDC00\\uD83D\\uDE42b\\uD83D\\uDE01",
      "=\\uD83D\\uDE42|-\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE01|+\\uD835\\uDC00|=\\uD83D\\uDE42b\\uD83D\\uDE01" },
    {  0, "", "",
      "" },
    {  1, "aa\\uD83D\\uD83D", "a\\uD83D\\uDE00a\\uD83D\\uD83D",
      "=a|+\\uD83D\\uDE00|=a\\uD83D\\uD83D" },
    { -1, "cbbbececbebeb", "cbbecbebeb",
      "=cbb|-bec|=ecbebeb" },
    { -1, "aaccbbccbaacbaa", "bbcacbaacbaa",
      "-aacc|=bbc|+a|=cbaacbaa" },
    {  0, "", "\\uD83D\\uDE00",
      "+\\uD83D\\uDE00" },
    { -1, "a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00ab", "b \\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00a",
      "-a|+b |=\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00a|-b" },
    { 12, "\\uDE00\\uDE00a\\uD83D\\uD83D\\uDE00\\uDE00a\\uD83D\\uDE00\\uDE00", "a\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uDE00",
      "-\\uDE00\\uDE00|=a\\uD83D\\uD83D\\uDE00|-\\uDE00a|+\\uD83D\\uDE00|=\\uD83D\\uDE00\\uDE00" },
    {  4, "bbaa", "aaacbbaa",
      "+aaac|=bbaa" },
    {  1, "a", "ab",
      "=a|+b" },
    {  3, "dea", "cdeecacddbdcbdd",
      "+c|=de|+ec|=a|+cddbdcbdd" },
    {  0, "c", "cbabb",
      "=c|+babb" },
    { -1, "bccee", "",
      "-bccee" },
    { -1, "aa\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00a\\uDE00\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00", "aa\\uDE00\\uD83D\\uDE00\\uD83Da\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83Da\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00",
      "=aa\\uDE00|-\\uD83D|=\\uD83D\\uDE00|+\\uD83Da|=\\uD83D\\uDE00a|-\\uDE00\\uDE00|+\\uD83D\\uDE00\\uD83D\\uDE00\\uD83Da\\uD83D\\uD83D\\uDE00|=\\uD83D\\uDE00\\uD83D\\uDE00" },
    { -1, "nhrb w", "jtibofldaoeymmlb",
      "-nhr|+jti|=b|- w|+ofldaoeymmlb" },
    {  0, "\\uD83D\\uD83Daa\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00", "",
      "-\\uD83D\\uD83Daa\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00" },
    {  6, "\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01", "\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00a",
      "+\\uD83D\\uDE00|=\\uD83D\\uDE01|-\\uD83D\\uDE01\\uD83D\\uDE01|+\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00a" },
    {  5, "\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00", "\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00",
      "=\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01|+\\uD83D\\uDE02|=\\uD83D\\uDE01|+\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00|=\\uD83D\\uDE01\\uD83D\\uDE00" },
    { -1, "a\\u0000a\\uD83D\\uDE00\\uD83D\\uDE00\\u0000\\uD83D\\uDE00", "a\\u0000a\\uD83D\\uDE00\\uD83D\\uDE00 \\u0000a",
      "=a\\u0000a\\uD83D\\uDE00\\uD83D\\uDE00|+ |=\\u0000|-\\uD83D\\uDE00|+a" },
    { -1, " b\\u0000 \\uD83D\\uDE00 b \\uD83D\\uDE00", " \\u0000b a a\\u0000 \\uD83D\\uDE00",
      "= |-b|=\\u0000|+b|= |-\\uD83D\\uDE00|+a|= |-b|+a\\u0000|= \\uD83D\\uDE00" },
    {  1, "\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02", "\\uD83D\\uDE02\\uD83D\\uDE02",
      "-\\uD83D\\uDE00\\uD83D\\uDE00|=\\uD83D\\uDE02\\uD83D\\uDE02" },
    { -1, "cc", "cccbcaa",
      "=cc|+cbcaa" },
    { -1, "\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02", "\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01",
      "=\\uD83D\\uDE01|+\\uD83D\\uDE01\\uD83D\\uDE00|=\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02|+\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01" },
    {  5, "\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02", "\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00",
      "+\\uD83D\\uDE01|=\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02|-\\uD83D\\uDE02|+\\uD83D\\uDE00\\uD83D\\uDE00" },
    { -1, "\\uD83D\\uDE42a\\uD83D\\uDE42\\uD83D\\uDE42\\uD83D\\uDE01\\uD835\\uDC00\\uD835\\uDC00\\uD835\\uDC00\\uD83D\\uDE01\\uD835\\uDC00\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE42b", "\\uD83D\\uDE42\\uD83D\\uDE01\\uD83D\\uDE42\\uD83D\\uDE01\\uD835\\uDC00\\uD835\\uDC00\\uD835\\uDC00\\uD83D\\uDE01\\uD835\\uDC00\\uD83D\\uDE42\\uD83D\\uDE00\\uD835\\uDC00\\uD835\\uDC00\\uD83D\\uDE01\\uD835\\uDC00\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE42b",
      "=\\uD83D\\uDE42|-a|+\\uD83D\\uDE01|=\\uD83D\\uDE42|-\\uD83D\\uDE42|+\\uD83D\\uDE01\\uD835\\uDC00\\uD835\\uDC00\\uD835\\uDC00|=\\uD83D\\uDE01\\uD835\\uDC00|+\\uD83D\\uDE42\\uD83D\\uDE00|=\\uD835\\uDC00\\uD835\\uDC00\\uD83D\\uDE01\\uD835\\uDC00\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE42b" },
    { -1, "lk", "exyz",
      "-lk|+exyz" },
    { -1, "eecbebcdceeddba", "adbeecbecdceed",
      "+adb|=eecbe|-b|=cdceed|-dba" },
    {  1, "a", "a",
      "=a" },
    { -1, "\\uD83D\\uDE01\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01a\\uD83D\\uDE01a\\uD83D\\uDE01\\uD83D\\uDE01aa\\uD83D\\uDE00a", "\\uD83D\\uDE01aa\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01a",
      "=\\uD83D\\uDE01|-\\uD83D\\uDE00|+a|=a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01|-\\uD83D\\uDE01a|+\\uD83D\\uDE00|=\\uD83D\\uDE01|-a|=\\uD83D\\uDE01\\uD83D\\uDE01a|-a\\uD83D\\uDE00a" },
    {  3, "jjyxakknpbxn", "jjxakknpbxn",
      "=jj|-y|=xakknpbxn" },
    {  3, "xmy", " pmwpxd sle m",
      "+ pmwp|=x|+d sle |=m|-y" },
    {  8, "\\uD83D\\uDE00\\uD83D\\uDE42\\uD83D\\uDE01\\uD83D\\uDE00\\uD835\\uDC00", "\\uD83D\\uDE00\\uD83D\\uDE42\\uD83D\\uDE01\\uD83D\\uDE00",
      "=\\uD83D\\uDE00\\uD83D\\uDE42\\uD83D\\uDE01\\uD83D\\uDE00|-\\uD835\\uDC00" },
    { -1, " aba\\u00E9\\u00E9", " ab\\u00E9a\\u00E9",
      "= ab|-a|=\\u00E9|+a|=\\u00E9" },
    {  1, "", "a\\uD83D\\uDE01",
      "+a\\uD83D\\uDE01" },
    {  4, "aa\\uD83D\\uD83D\\uDE00", "\\uDE00\\uDE00\\uD83D\\uDE00\\uD83Da\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00a\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uDE00a",
      "+\\uDE00\\uDE00\\uD83D\\uDE00\\uD83D|=a|+\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00|=a|-\\uD83D|+\\uDE00\\uD83D\\uDE00|=\\uD83D\\uDE00|+\\uDE00a" },
    { -1, "\\uD835\\uDC00b\\uD83D\\uDE01a\\uD83D\\uDE01\\uD83D\\uDE42\\uD835\\uDC00\\uD83D\\uDE42\\uD83D\\uDE42\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD835\\uDC00\\uD83D\\uDE42", "\\uD835\\uDC00b\\uD83D\\uDE01a\\uD83D\\uDE01\\uD83D\\uDE42\\uD835\\uDC00\\uD83D\\uDE42\\uD83D\\uDE42\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD835\\uDC00b\\uD835\\uDC00b",
      "=\\uD835\\uDC00b\\uD83D\\uDE01a\\uD83D\\uDE01\\uD83D\\uDE42\\uD835\\uDC00\\uD83D\\uDE42\\uD83D\\uDE42\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD835\\uDC00|-\\uD83D\\uDE42|+b\\uD835\\uDC00b" },
    {  7, "cabccaba", "cabccabb",
      "=cabccab|-a|+b" },
    { 15, "\\uD83D\\uDE00\\uDE00\\uD83Da\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83Da\\uDE00", "\\uDE00a\\uD83D\\uDE00a\\uDE00a",
      "-\\uD83D\\uDE00\\uDE00\\uD83D|+\\uDE00|=a|-\\uDE00\\uD83D\\uDE00|=\\uD83D\\uDE00a|-\\uD83D\\uDE00\\uD83D|+\\uDE00|=a|-\\uDE00" },
    { -1, "a\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00aa\\uDE00", "a\\uD83D\\uDE00",
      "=a|-\\uD83D|=\\uD83D\\uDE00|-\\uD83D\\uDE00aa\\uDE00" },
    { -1, "\\uD83D\\uDE42\\uD83D\\uDE42a", "\\uD83D\\uDE01bb\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01a\\uD83D\\uDE01\\uD83D\\uDE01",
      "-\\uD83D\\uDE42\\uD83D\\uDE42|+\\uD83D\\uDE01bb\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01|=a|+\\uD83D\\uDE01\\uD83D\\uDE01" },
    {  7, "abbabbabaabbbb", "abbabbababbbb",
      "=abbabbaba|-a|=bbbb" },
    {  4, "cadacbbbddbe", "cadaabbddbe",
      "=cada|-cb|+a|=bbddbe" },
    {  0, "a", "aabbba",
      "+aabbb|=a" },
    { -1, "l txbsgxxy", "l txbsgxxlby",
      "=l txbsgxx|+lb|=y" },
    { -1, "baccbcacbbc", "aabbcaabbccaac",
      "-b|=a|-cc|+ab|=bca|-c|+a|=bbc|+caac" },
    { 26, "\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00", "\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00",
      "=\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01|-\\uD83D\\uDE00|+\\uD83D\\uDE01|=\\uD83D\\uDE01\\uD83D\\uDE00" },
    {  9, "cbecbedbcb", "ceb",
      "=c|-b|=e|-cbedbc|=b" },
    {  7, "bbbacbabbacc", "bbbacbabbbacc",
      "=bbbacba|+b|=bbacc" },
    { -1, "\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01", "\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02",
      "-\\uD83D\\uDE01|=\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02|+\\uD83D\\uDE00|=\\uD83D\\uDE02\\uD83D\\uDE01|-\\uD83D\\uDE02\\uD83D\\uDE02|+\\uD83D\\uDE01\\uD83D\\uDE01|=\\uD83D\\uDE00\\uD83D\\uDE01|-\\uD83D\\uDE02|+\\uD83D\\uDE01|=\\uD83D\\uDE01|+\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02" },
    { -1, "cccbcacbbba", "ba",
      "-cccbcacbb|=ba" },
    { -1, " b ", "aaa ",
      "- b|+aaa|= " },
    {  8, "\\uD83D\\uDE00\\uDE00\\uD83D\\uDE00\\uDE00\\uDE00\\uDE00\\uD83Daa\\uD83D\\uDE00\\uD83Da\\uDE00\\uDE00a", "\\uD83D\\uDE00\\uDE00\\uD83D\\uDE00\\uDE00\\uD83D\\uDE00\\uD83Daa\\uD83D\\uDE00\\uD83Da\\uDE00\\uDE00a",
      "=\\uD83D\\uDE00\\uDE00\\uD83D\\uDE00\\uDE00|-\\uDE00\\uDE00|+\\uD83D\\uDE00|=\\uD83Daa\\uD83D\\uDE00\\uD83Da\\uDE00\\uDE00a" },
    { -1, "aabbbbababaaab", "aabbbababaabaabb",
      "=aabbb|-b|=ababaa|+b|=a|+ab|=b" },
    { -1, "eec", "ceeeeeedeece",
      "+ceeeeeed|=eec|+e" },
    { -1, "\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00a\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00a", "\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00a\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00a",
      "+\\uD83D\\uDE01|=\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00a\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00|+\\uD83D\\uDE00a|=\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00a" },
    { -1, "bba\\uD83D\\uDE00\\u00E9\\u0000a\\uD83D\\uDE00", "bba\\u0000a\\uD83D\\uDE00\\uD83D\\uDE00\\u00E9",
      "=bba|-\\uD83D\\uDE00\\u00E9|=\\u0000a\\uD83D\\uDE00|+\\uD83D\\uDE00\\u00E9" },
    { -1, "\\uD83D\\uD83D\\uDE00\\uD83Da", "\\uD83D\\uD83D\\uDE00\\uD83Daaa",
      "=\\uD83D\\uD83D\\uDE00\\uD83Da|+aa" },
    {  1, "a", "aabba",
      "=a|+abba" },
    { -1, "baacccbabbca", "baacababccb",
      "=baac|-cc|+a|=bab|-b|+c|=c|-a|+b" },
    { -1, "dedda", "adedd",
      "+a|=dedd|-a" },
    { -1, "\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00", "\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00",
      "+\\uD83D\\uDE00|=\\uD83D\\uDE00\\uD83D\\uDE02|-\\uD83D\\uDE01|+\\uD83D\\uDE00|=\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00" },
    {  1, "fdskxapudntxdwh", "fojhhnkuzdcio",
      "=f|-ds|+ojhhn|=k|-xap|=u|-dntx|+z|=d|-wh|+cio" },
    { -1, "zlvrg boju", "zl boluvrg",
      "=zl|-vrg|= bo|-j|+l|=u|+vrg" },
    { -1, "\\uD83D\\uDE00a\\uD83D\\uD83Da\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uD83D\\uD83D\\uD83D\\uDE00a", "\\uD83D\\uDE00a\\uD83D\\uD83D\\uDE00\\uD83D\\uD83D\\uD83D\\uD83D\\uDE00a\\uD83Da\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00",
      "=\\uD83D\\uDE00a|-\\uD83D\\uD83Da\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00|+\\uD83D|=\\uD83D\\uDE00\\uD83D\\uD83D\\uD83D\\uD83D\\uDE00a|+\\uD83Da\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00" },
    {  1, "umzrchx b", "ibmzrchx b",
      "-u|+ib|=mzrchx b" },
    { -1, "cccbcb", "ccbbcbbaa",
      "=cc|+bb|=cb|-c|=b|+aa" },
    {  4, "\\uD83D\\uDE00\\uDE00a", "\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00",
      "=\\uD83D\\uDE00|-\\uDE00a|+\\uD83D\\uDE00\\uD83D\\uDE00" },
    {  3, "b\\uD83D\\uDE42\\uD83D\\uDE42\\uD83D\\uDE01aa\\uD83D\\uDE42", "\\uD83D\\uDE42\\uD835\\uDC00\\uD835\\uDC00\\uD835\\uDC00\\uD835\\uDC00\\uD83D\\uDE42b",
      "-b|=\\uD83D\\uDE42|-\\uD83D\\uDE42\\uD83D\\uDE01aa|+\\uD835\\uDC00\\uD835\\uDC00\\uD835\\uDC00\\uD835\\uDC00|=\\uD83D\\uDE42|+b" },
    {  6, "nqgjntajv ci", "uycaure wqf",
      "-nqgjnt|+uyc|=a|-jv|+ure|= |-ci|+wqf" },
    {  2, "akfmpfil", "akfmpfkfmpflqry",
      "=akfmpf|-i|+kfmpf|=l|+qry" },
    { 12, "aa\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01a\\uD83D\\uDE00\\uD83D\\uDE00", "aa\\uD83D\\uDE01\\uD83D\\uDE01a\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01aa\\uD83D\\uDE00",
      "=aa\\uD83D\\uDE01|-\\uD83D\\uDE00|=\\uD83D\\uDE01|+a|=\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01a|-\\uD83D\\uDE00|+a|=\\uD83D\\uDE00" },
    { 17, "b\\uD83D\\uDE00\\uD835\\uDC00\\uD83D\\uDE42\\uD83D\\uDE01\\uD83D\\uDE00b\\uD83D\\uDE01\\uD83D\\uDE42\\uD83D\\uDE01baaaba", "b\\uD83D\\uDE00\\uD835\\uDC00\\uD83D\\uDE42\\uD83D\\uDE01\\uD83D\\uDE00b\\uD83D\\uDE01\\uD83D\\uDE42\\uD83D\\uDE01baa\\uD83D\\uDE42a\\uD83D\\uDE01\\uD83D\\uDE42aba",
      "=b\\uD83D\\uDE00\\uD835\\uDC00\\uD83D\\uDE42\\uD83D\\uDE01\\uD83D\\uDE00b\\uD83D\\uDE01\\uD83D\\uDE42\\uD83D\\uDE01baa|+\\uD83D\\uDE42a\\uD83D\\uDE01\\uD83D\\uDE42|=aba" },
    { -1, "\\uD83D\\uDE00\\uD83D\\uDE02", "\\uD83D\\uDE00\\uD83D\\uDE02",
      "=\\uD83D\\uDE00\\uD83D\\uDE02" },
    { -1, "\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00", "\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00",
      "=\\uD83D\\uDE01|-\\uD83D\\uDE01|+\\uD83D\\uDE00|=\\uD83D\\uDE01|-\\uD83D\\uDE02|+\\uD83D\\uDE00|=\\uD83D\\uDE01|-\\uD83D\\uDE00\\uD83D\\uDE00|+\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01|=\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01|-\\uD83D\\uDE02|=\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00" },
    { -1, "ab\\u0000\\u00E9 ba", "\\uD83D\\uDE00\\u0000\\u0000bbb",
      "-ab|+\\uD83D\\uDE00|=\\u0000|-\\u00E9 |+\\u0000bb|=b|-a" },
    {  0, "\\uD83D\\uDE00", "a\\uD83Da\\uD83Da\\uD83Daaa",
      "-\\uD83D\\uDE00|+a\\uD83Da\\uD83Da\\uD83Daaa" },
    { -1, "a\\uD835\\uDC00\\uD83D\\uDE42a\\uD835\\uDC00\\uD83D\\uDE00\\uD83D\\uDE42ab\\uD83D\\uDE42b\\uD83D\\uDE01", "a\\uD83D\\uDE00\\uD83D\\uDE42ab\\uD83D\\uDE42b\\uD83D\\uDE01\\uD83D\\uDE01\\uD835\\uDC00\\uD83D\\uDE01\\uD83D\\uDE42\\uD835\\uDC00",
      "=a|-\\uD835\\uDC00\\uD83D\\uDE42a\\uD835\\uDC00|=\\uD83D\\uDE00\\uD83D\\uDE42ab\\uD83D\\uDE42b\\uD83D\\uDE01|+\\uD83D\\uDE01\\uD835\\uDC00\\uD83D\\uDE01\\uD83D\\uDE42\\uD835\\uDC00" },
    { -1, "hjepfmaaq bkcw", "tpgky ihpv",
      "-hje|+t|=p|-fmaaq b|+g|=k|-cw|+y ihpv" },
    { -1, "bb\\uD83D\\uDE01a\\uD83D\\uDE42\\uD83D\\uDE01b\\uD83D\\uDE00\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE01", "bb\\uD83D\\uDE01a\\uD83D\\uDE42\\uD835\\uDC00\\uD83D\\uDE42\\uD83D\\uDE01\\uD83D\\uDE01b\\uD83D\\uDE00\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE01",
      "=bb\\uD83D\\uDE01a\\uD83D\\uDE42|+\\uD835\\uDC00\\uD83D\\uDE42\\uD83D\\uDE01|=\\uD83D\\uDE01b\\uD83D\\uDE00\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE01" },
    {  8, "baeaccdea", "decaeaaccdb",
      "-b|+dec|=aea|+a|=ccd|-ea|+b" },
    { -1, "cbddeaa", "eaa",
      "-cbdd|=eaa" },
    {  2, "cbbccac", "ccbbccac",
      "+c|=cbbccac" },
    {  5, "a\\uD83D\\uDE01aa\\uD83D\\uDE01a\\uD83D\\uDE00a\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00", "a\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01a\\uD83D\\uDE00a\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00",
      "=a\\uD83D\\uDE01|-aa|+\\uD83D\\uDE00\\uD83D\\uDE00|=\\uD83D\\uDE01a\\uD83D\\uDE00a\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00" },
    { -1, "\\uD83D\\uDE00\\uD835\\uDC00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE42\\uD835\\uDC00b\\uD83D\\uDE00\\uD83D\\uDE01\\uD835\\uDC00\\uD83D\\uDE42", "\\uD83D\\uDE00\\uD835\\uDC00\\uD83D\\uDE00\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE00a\\uD835\\uDC00\\uD83D\\uDE42\\uD835\\uDC00b\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00a\\uD83D\\uDE01\\uD83D\\uDE42\\uD83D\\uDE01",
      "=\\uD83D\\uDE00\\uD835\\uDC00\\uD83D\\uDE00|-\\uD83D\\uDE01|+\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE00a\\uD835\\uDC00|=\\uD83D\\uDE42\\uD835\\uDC00b\\uD83D\\uDE00\\uD83D\\uDE01|-\\uD835\\uDC00|+\\uD83D\\uDE00a\\uD83D\\uDE01|=\\uD83D\\uDE42|+\\uD83D\\uDE01" },
    { -1, "cabbbbc", "caacacaccabbaaaa",
      "+caacacac|=cabb|-bbc|+aaaa" },
    { -1, "grondnrv", "nhnlpcybeguin",
      "+nhnlpcybe|=g|-rond|+ui|=n|-rv" },
    { -1, "cac", "ccbccbacc",
      "=c|+cbccb|=ac|+c" },
    {  1, "a", "acb",
      "=a|+cb" },
    { 13, "\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00\\uDE00aa\\uDE00\\uD83D\\uDE00aa\\uD83Da", "\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00\\uDE00a\\uD83D\\uDE00a\\uD83D\\uDE00aa\\uD83Da",
      "=\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00\\uDE00a|+\\uD83D\\uDE00|=a|-\\uDE00|=\\uD83D\\uDE00aa\\uD83Da" },
    {  1, "d", "d",
      "=d" },
    { -1, "ceadb", "adb",
      "-ce|=adb" },
    { -1, "\\uD83D\\uDE01", "\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE02",
      "+\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00|=\\uD83D\\uDE01|+\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE02" },
    { 14, "eeadaeceabecebe", "eeadaeceabec",
      "=eeadaeceabec|-ebe" },
    {  1, "c", "b",
      "-c|+b" },
    {  0, " \\u0000\\uD83D\\uDE00", "\\u00E9\\u0000\\uD83D\\uDE00\\u0000\\uD83D\\uDE00 \\u0000 ",
      "- |+\\u00E9|=\\u0000\\uD83D\\uDE00|+\\u0000\\uD83D\\uDE00 \\u0000 " },
    {  6, "acbbbbcbbbaa", "acbbbbcbbbaacbccbb",
      "=acbbbbcbbbaa|+cbccbb" },
    { 16, "\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01", "\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE01",
      "=\\uD83D\\uDE01|+\\uD83D\\uDE02|=\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00|+\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02|=\\uD83D\\uDE01" },
    { -1, "\\uD83D\\uDE42\\uD835\\uDC00\\uD835\\uDC00b\\uD83D\\uDE42\\uD83D\\uDE42a\\uD83D\\uDE42\\uD83D\\uDE00", "\\uD83D\\uDE42\\uD83D\\uDE42\\uD835\\uDC00\\uD835\\uDC00\\uD83D\\uDE42a\\uD83D\\uDE42\\uD83D\\uDE00",
      "+\\uD83D\\uDE42|=\\uD83D\\uDE42\\uD835\\uDC00\\uD835\\uDC00|-b\\uD83D\\uDE42|=\\uD83D\\uDE42a\\uD83D\\uDE42\\uD83D\\uDE00" },
    { -1, "bebbeeecbeabdcd", "bebabaabeeecbeabdcd",
      "=beb|+abaa|=beeecbeabdcd" },
    { -1, "zap", "zapp",
      "=zap|+p" },
    {  2, "bc", "bcb",
      "=bc|+b" },
    { -1, "\\uD83D\\uDE00\\uDE00a\\uDE00", "\\uD83D\\uDE00\\uDE00a\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00aaa\\uDE00\\uDE00\\uDE00",
      "=\\uD83D\\uDE00\\uDE00a\\uDE00|+a\\uD83D\\uDE00\\uD83D\\uDE00aaa\\uDE00\\uDE00\\uDE00" },
    {  0, "", "a\\uD83D\\uDE42\\uD83D\\uDE42\\uD83D\\uDE00",
      "+a\\uD83D\\uDE42\\uD83D\\uDE42\\uD83D\\uDE00" },
    { -1, "decc", "acbcdedaeccbece",
      "+acbc|=de|+dae|=cc|+bece" },
    {  0, "a", "a\\uD83D\\uD83D\\uDE00",
      "=a|+\\uD83D\\uD83D\\uDE00" },
    { 11, "caccccbbcbca", "caccccbbcbca",
      "=caccccbbcbca" },
    { 13, "dadcdbaeedbbbabd", "dadcdbaeedbbbcabd",
      "=dadcdbaeedbbb|+c|=abd" },
    {  9, "zy jvibtz danbqe", "zy jvibtz danbqe",
      "=zy jvibtz danbqe" },
    { -1, "\\uD835\\uDC00\\uD83D\\uDE42\\uD83D\\uDE01b\\uD83D\\uDE01\\uD83D\\uDE42b\\uD835\\uDC00", "ab\\uD83D\\uDE01\\uD835\\uDC00bb\\uD83D\\uDE42\\uD83D\\uDE01b\\uD83D\\uDE00bb",
      "+ab\\uD83D\\uDE01|=\\uD835\\uDC00|+bb|=\\uD83D\\uDE42\\uD83D\\uDE01b|-\\uD83D\\uDE01\\uD83D\\uDE42|+\\uD83D\\uDE00|=b|-\\uD835\\uDC00|+b" },
    { -1, "abaabbccbaaacac", "ccbabacbcbab",
      "+ccb|=aba|-a|+c|=b|-bc|=cba|-aacac|+b" },
    { -1, "whuf", "whwwmcb ",
      "=wh|-uf|+wwmcb " },
    { -1, "sn", "xvbeypnslbdcln bhgdffawomqigqhtlqpkdipazdynwikhrwl",
      "+xvbeypn|=s|+lbdcl|=n|+ bhgdffawomqigqhtlqpkdipazdynwikhrwl" },
    { -1, "\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE42\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00a", "\\uD83D\\uDE00b",
      "-\\uD83D\\uDE42|=\\uD83D\\uDE00|-\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE42\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00a|+b" },
    {  2, "dacedccbecebadaacae", "dacedccbecebaaacae",
      "=dacedccbeceba|-d|=aacae" },
    { 36, "eacecedcbabacdddaadbccaebbdadeebbdedacabecdbdceee", "eacecedcbabacdddaadbcbbdadeebbdedacabecdbdcbe",
      "=eacecedcbabacdddaadbc|-cae|=bbdadeebbdedacabecdbdc|-ee|+b|=e" },
    {  2, "decc", "d",
      "=d|-ecc" },
    { -1, "a\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uD83D\\uD83D\\uDE00a\\uD83D\\uD83D\\uDE00\\uD83D\\uD83D\\uD83D\\uDE00a\\uDE00a\\uD83D\\uDE00\\uDE00\\uD83D\\uDE00\\uDE00aa\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00aaa\\uD83D\\uDE00aa\\uD83D\\uDE00a", "\\uD83D\\uD83Da\\uD83Daaaa\\uD83Da\\uDE00",
      "-a|=\\uD83D|-\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uD83D\\uD83D\\uDE00|+\\uD83D|=a|-\\uD83D\\uD83D\\uDE00\\uD83D\\uD83D\\uD83D\\uDE00|+\\uD83D|=a|-\\uDE00|=a|-\\uD83D\\uDE00\\uDE00\\uD83D\\uDE00\\uDE00|=aa|-\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00|+\\uD83D|=a|-aa\\uD83D\\uDE00aa\\uD83D\\uDE00a|+\\uDE00" },
    { -1, "knbgolnepoesvvvrxkez yqolgkfwewqmcdzyqlhdqzdj", "gyhokwsgfzsoejuaz ghvihrprcust",
      "-knb|=g|+yh|=o|-lnepoesvvvrx|=k|+wsgfzso|=e|+jua|=z |-yqol|=g|-kfwewqm|+hvihrpr|=c|-dzyqlhdqzdj|+ust" },
    { -1, "\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01", "\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02",
      "=\\uD83D\\uDE02|-\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02|+\\uD83D\\uDE00|=\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01|+\\uD83D\\uDE02\\uD83D\\uDE02" },
    {  0, "\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01", "\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01",
      "=\\uD83D\\uDE00|-\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02|+\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00|=\\uD83D\\uDE01\\uD83D\\uDE01" },
    {  9, "bcabbccbbbbcbccaccccab", "baabcabbacbccbbbbcbccacccca",
      "+baa|=bcab|+bac|=bccbbbbcbccacccca|-b" },
    { -1, "", "",
      "" },
    {  3, "a\\uD83D\\uDE00\\uDE00a\\uDE00\\uDE00\\uDE00\\uDE00a\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83Da\\uDE00\\uD83D\\uDE00\\uDE00\\uDE00\\uD83D\\uDE00\\uDE00\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uD83D\\uDE00", "a\\uD83D\\uDE00\\uDE00a\\uDE00\\uDE00\\uDE00a\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00\\uD83Da\\uDE00\\uD83D\\uDE00\\uDE00\\uDE00\\uD83D\\uDE00\\uDE00\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00\\uDE00\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uD83D\\uDE00",
      "=a\\uD83D\\uDE00\\uDE00a\\uDE00\\uDE00\\uDE00|-\\uDE00|+a\\uD83D\\uDE00|=a\\uD83D\\uDE00|-a|+\\uD83D\\uDE00|=\\uD83D\\uDE00\\uD83D\\uDE00|+\\uD83D|=\\uD83D\\uDE00\\uD83D\\uDE00\\uD83Da\\uDE00\\uD83D\\uDE00\\uDE00\\uDE00|+\\uD83D\\uDE00\\uDE00\\uDE00\\uD83D\\uD83D\\uDE00|=\\uD83D\\uDE00\\uDE00\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uD83D\\uDE00" },
    { 13, " bba\\uD83D\\uDE00\\u0000\\u00E9ab\\u00E9 ab\\u0000 baa\\u0000\\u0000b\\uD83D\\uDE00a \\u0000\\u0000\\u00E9\\u0000aa  \\uD83D\\uDE00 ba\\u00E9\\u0000bb\\u0000\\u00E9\\u00E9\\u0000\\u00E9\\uD83D\\uDE00\\u0000b  \\u00E9", "a\\uD83D\\uDE00\\u00E9\\u00E9\\u0000 a\\u0000a\\u00E9\\u00E9\\u00E9\\u00E9\\u0000\\uD83D\\uDE00\\u0000 \\uD83D\\uDE00b \\u00E9\\u0000ab\\u00E9a",
      "- bb|=a\\uD83D\\uDE00|-\\u0000|=\\u00E9|-ab|=\\u00E9|- ab|=\\u0000 |-ba|=a\\u0000|-\\u0000b\\uD83D\\uDE00|=a|- \\u0000\\u0000|=\\u00E9|-\\u0000aa  \\uD83D\\uDE00 ba|=\\u00E9|-\\u0000bb\\u0000|=\\u00E9\\u00E9\\u0000|-\\u00E9|=\\uD83D\\uDE00\\u0000|+ \\uD83D\\uDE00|=b|- |= \\u00E9|+\\u0000ab\\u00E9a" },
    { -1, "bedebaaecebcccbedbbecc", "bedebaadbccceeeabedbbecc",
      "=bedebaa|-ece|+d|=bccc|+eeea|=bedbbecc" },
    { -1, "\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01a\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01a\\uD83D\\uDE00a\\uD83D\\uDE01\\uD83D\\uDE00aaa\\uD83D\\uDE01\\uD83D\\uDE00a\\uD83D\\uDE01a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00aa\\uD83D\\uDE00\\uD83D\\uDE01a\\uD83D\\uDE00aa\\uD83D\\uDE01aa\\uD83D\\uDE00\\uD83D\\uDE01aa\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00a\\uD83D\\uDE00", "\\uD83D\\uDE01a\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01a\\uD83D\\uDE01aa\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01aaa\\uD83D\\uDE00aaa\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00a",
      "+\\uD83D\\uDE01a|=\\uD83D\\uDE00|+a|=\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01|-a\\uD83D\\uDE00\\uD83D\\uDE00|+\\uD83D\\uDE01\\uD83D\\uDE01|=a|-\\uD83D\\uDE00|=\\uD83D\\uDE01|+aa|=\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01|-a\\uD83D\\uDE00|+\\uD83D\\uDE01aa|=a|-\\uD83D\\uDE01|=\\uD83D\\uDE00aaa|-\\uD83D\\uDE01|=\\uD83D\\uDE00|-a|=\\uD83D\\uDE01|-a|=\\uD83D\\uDE00\\uD83D\\uDE00|+a|=\\uD83D\\uDE00|-aa|=\\uD83D\\uDE00\\uD83D\\uDE01|-a|=\\uD83D\\uDE00|-aa\\uD83D\\uDE01a|=a\\uD83D\\uDE00|-\\uD83D\\uDE01aa\\uD83D\\uDE01\\uD83D\\uDE01|=\\uD83D\\uDE00a|-\\uD83D\\uDE00" },
    { 36, "klxqroqbctuwgotytedbpzvresfe hzlhlyaa ", "klxqroqbctuwgotytedbpzvresfe hzlhlynja ",
      "=klxqroqbctuwgotytedbpzvresfe hzlhly|-a|+nj|=a " },
    { -1, "\\uD83Daa\\uD83D\\uDE00\\uD83D\\uDE00\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00\\uDE00\\uDE00\\uD83Da\\uDE00\\uD83Da\\uD83D\\uDE00\\uD83D\\uDE00aa\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uDE00\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83Daa\\uDE00a", "\\uD83D\\uD83D\\uDE00\\uDE00a\\uDE00aaaa\\uD83D\\uDE00\\uD83D\\uDE00\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00\\uDE00\\uDE00\\uD83Da\\uDE00\\uD83Da\\uD83D\\uDE00\\uD83D\\uDE00aa\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uDE00\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83Daa\\uDE00aa\\uDE00\\uD83D\\uDE00\\uDE00\\uDE00",
      "-\\uD83D|+\\uD83D\\uD83D\\uDE00\\uDE00a\\uDE00aa|=aa\\uD83D\\uDE00\\uD83D\\uDE00\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00\\uDE00\\uDE00\\uD83Da\\uDE00\\uD83Da\\uD83D\\uDE00\\uD83D\\uDE00aa\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uDE00\\uD83D\\uDE00\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83Daa\\uDE00a|+a\\uDE00\\uD83D\\uDE00\\uDE00\\uDE00" },
    { -1, "\\u00E9b\\u0000b\\u0000\\u0000\\uD83D\\uDE00  b b\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\u0000 \\u00E9aba\\u0000b\\uD83D\\uDE00\\u00E9aa\\uD83D\\uDE00\\u0000 a\\u0000a\\u00E9 a\\u00E9a\\u0000\\u0000", "\\u00E9b\\u0000b\\u0000\\u0000\\uD83D\\uDE00 \\uD83D\\uDE00  a\\u00E9a\\u0000\\u0000 b b\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\u0000 \\u00E9abaaa\\uD83D\\uDE00a\\u00E9\\u0000b\\uD83D\\uDE00\\u00E9aaa a\\u0000a\\u00E9",
      "=\\u00E9b\\u0000b\\u0000\\u0000\\uD83D\\uDE00 |+\\uD83D\\uDE00  a\\u00E9a\\u0000\\u0000|= b b\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\u0000 \\u00E9aba|+aa\\uD83D\\uDE00a\\u00E9|=\\u0000b\\uD83D\\uDE00\\u00E9aa|-\\uD83D\\uDE00\\u0000|+a|= a\\u0000a\\u00E9|- a\\u00E9a\\u0000\\u0000" },
    { -1, "\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE01\\uD83D\\uDE00a\\uD83D\\uDE00aa\\uD83D\\uDE01a\\uD83D\\uDE01\\uD83D\\uDE01a\\uD83D\\uDE01aa\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01aaa", "\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE01\\uD83D\\uDE00a\\uD83D\\uDE00aaa\\uD83D\\uDE01aa\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01a\\uD83D\\uDE01aa\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01a\\uD83D\\uDE01a\\uD83D\\uDE01a\\uD83D\\uDE01\\uD83D\\uDE01",
      "=\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE01\\uD83D\\uDE00a\\uD83D\\uDE00aa|+a|=\\uD83D\\uDE01a|-\\uD83D\\uDE01|+a\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00|=\\uD83D\\uDE01a\\uD83D\\uDE01aa\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01|-\\uD83D\\uDE00\\uD83D\\uDE00|+a|=\\uD83D\\uDE01a|-a|+\\uD83D\\uDE01|=a|+\\uD83D\\uDE01\\uD83D\\uDE01" },
    { 61, "dedcdeceacbbbbbcaecdaeeecadceeccbcebdabdadaebeebadcbbaebbedb", "cabcbbebcddceacd",
      "-dedcde|=c|-e|=a|-cb|=b|-b|+c|=bb|-caecdaeeecadc|=e|-ecc|=bc|-eb|=d|-ab|=d|-adaebe|+c|=e|-b|=a|-d|=c|-bbaebbe|=d|-b" },
    { -1, "\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02", "\\uD83D\\uDE01\\uD83D\\uDE01",
      "-\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00|=\\uD83D\\uDE01\\uD83D\\uDE01|-\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02" },
    { -1, "ba\\uD83D\\uDE01\\uD83D\\uDE01\\uD835\\uDC00\\uD83D\\uDE00\\uD835\\uDC00\\uD835\\uDC00a\\uD83D\\uDE42\\uD835\\uDC00\\uD83D\\uDE00a\\uD835\\uDC00b\\uD83D\\uDE42\\uD83D\\uDE42\\uD83D\\uDE42bab\\uD835\\uDC00\\uD835\\uDC00\\uD83D\\uDE00\\uD835\\uDC00a\\uD83D\\uDE00b\\uD83D\\uDE42\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE42\\uD83D\\uDE42\\uD83D\\uDE42\\uD83D\\uDE00\\uD835\\uDC00\\uD835\\uDC00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE42a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00", "\\uD83D\\uDE00\\uD83D\\uDE01\\uD835\\uDC00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE42\\uD83D\\uDE42\\uD835\\uDC00\\uD835\\uDC00a\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01b\\uD83D\\uDE01bb\\uD835\\uDC00b\\uD83D\\uDE01aa\\uD835\\uDC00\\uD83D\\uDE42b",
      "-ba\\uD83D\\uDE01|+\\uD83D\\uDE00|=\\uD83D\\uDE01\\uD835\\uDC00|-\\uD83D\\uDE00\\uD835\\uDC00\\uD835\\uDC00a|+\\uD83D\\uDE01\\uD83D\\uDE00|=\\uD83D\\uDE42|-\\uD835\\uDC00|=\\uD83D\\uDE00|-a\\uD835\\uDC00b|=\\uD83D\\uDE42\\uD83D\\uDE42|-\\uD83D\\uDE42bab|=\\uD835\\uDC00\\uD835\\uDC00|-\\uD83D\\uDE00\\uD835\\uDC00|=a\\uD83D\\uDE00|-b\\uD83D\\uDE42|=\\uD83D\\uDE01|-\\uD83D\\uDE00|+\\uD83D\\uDE01b|=\\uD83D\\uDE01|-\\uD83D\\uDE42\\uD83D\\uDE42\\uD83D\\uDE42\\uD83D\\uDE00|+bb|=\\uD835\\uDC00|+b\\uD83D\\uDE01aa|=\\uD835\\uDC00|-\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE42a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00|+\\uD83D\\uDE42b" },
    { -1, "\\uD83D\\uDE00baba\\uD83D\\uDE01\\uD83D\\uDE01a\\uD83D\\uDE42\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE42b\\uD83D\\uDE42aa\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE00\\uD835\\uDC00bb\\uD835\\uDC00ab\\uD83D\\uDE00\\uD835\\uDC00ab", "\\uD83D\\uDE42\\uD835\\uDC00\\uD835\\uDC00\\uD835\\uDC00\\uD835\\uDC00\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE42\\uD835\\uDC00\\uD83D\\uDE00a\\uD83D\\uDE01bb\\uD83D\\uDE01\\uD83D\\uDE00\\uD835\\uDC00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE42\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD835\\uDC00aa\\uD835\\uDC00\\uD835\\uDC00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00",
      "+\\uD83D\\uDE42\\uD835\\uDC00\\uD835\\uDC00\\uD835\\uDC00\\uD835\\uDC00\\uD83D\\uDE42|=\\uD83D\\uDE00|-bab|+\\uD83D\\uDE42\\uD835\\uDC00\\uD83D\\uDE00|=a\\uD83D\\uDE01|+bb|=\\uD83D\\uDE01|-a\\uD83D\\uDE42\\uD83D\\uDE42|+\\uD83D\\uDE00\\uD835\\uDC00\\uD83D\\uDE00|=\\uD83D\\uDE00\\uD83D\\uDE42|-b\\uD83D\\uDE42aa\\uD83D\\uDE42|+\\uD83D\\uDE00\\uD83D\\uDE01|=\\uD83D\\uDE00|-\\uD83D\\uDE00|+\\uD835\\uDC00aa|=\\uD835\\uDC00|-bb|=\\uD835\\uDC00|-ab|+\\uD83D\\uDE00\\uD83D\\uDE00|=\\uD83D\\uDE00|-\\uD835\\uDC00ab" },
    { -1, "\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE01", "\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00",
      "+\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE02|=\\uD83D\\uDE01\\uD83D\\uDE01|+\\uD83D\\uDE02|=\\uD83D\\uDE01|+\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00|=\\uD83D\\uDE02|+\\uD83D\\uDE01|=\\uD83D\\uDE00|+\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01|=\\uD83D\\uDE00\\uD83D\\uDE02|+\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE02\\uD83D\\uDE01|=\\uD83D\\uDE02\\uD83D\\uDE00\\uD83D\\uDE00|+\\uD83D\\uDE01\\uD83D\\uDE02|=\\uD83D\\uDE02|-\\uD83D\\uDE01|+\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE02\\uD83D\\uDE02\\uD83D\\uDE00" },
    /* the merge cleanup moving a common prefix of the edits out */
    { -1, "\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01a\\uD83D\\uDE00a\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01a\\uD83D\\uDE01a\\uD83D\\uDE00aa\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00", "\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00a\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01a\\uD83D\\uDE00\\uD83D\\uDE01a\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE00\\uD83D\\uDE01aa\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00",
      "=\\uD83D\\uDE01\\uD83D\\uDE01\\uD83D\\uDE01|+\\uD83D\\uDE01\\uD83D\\uDE00|=a|+\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00|=\\uD83D\\uDE00a\\uD83D\\uDE00a\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01|+\\uD83D\\uDE00\\uD83D\\uDE01a|=\\uD83D\\uDE00\\uD83D\\uDE01a\\uD83D\\uDE01|-a|+\\uD83D\\uDE01|=\\uD83D\\uDE00|+\\uD83D\\uDE01|=aa\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE01\\uD83D\\uDE00" },
    { 16, "\\uD83D\\uDE00a\\uD83D\\uDE00\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00a\\uD83D\\uD83D\\uDE00\\uDE00aa", "\\uD83D\\uDE00a\\uD83D\\uDE00a\\uD83D\\uD83D\\uDE00\\uDE00\\uDE00aa",
      "=\\uD83D\\uDE00a\\uD83D\\uDE00|-\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00|=a\\uD83D\\uD83D\\uDE00\\uDE00|+\\uDE00|=aa" },
    { -1, "a\\uD83D\\uD83D\\uDE00\\uDE00", "\\uD83D\\uDE00\\uDE00a\\uD83D\\uD83Da\\uD83D\\uDE00aa\\uDE00\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00aa\\uDE00a\\uD83Daa\\uDE00\\uD83D\\uD83D\\uD83D\\uD83D\\uD83Daa",
      "+\\uD83D\\uDE00\\uDE00|=a\\uD83D|-\\uD83D\\uDE00\\uDE00|+\\uD83Da\\uD83D\\uDE00aa\\uDE00\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00aa\\uDE00a\\uD83Daa\\uDE00\\uD83D\\uD83D\\uD83D\\uD83D\\uD83Daa" },
    {  0, "\\uDE00", "\\uDE00\\uDE00",
      "=\\uDE00|+\\uDE00" },
    { -1, "\\uDE00\\uDE00", "\\uDE00a",
      "=\\uDE00|-\\uDE00|+a" },
    { -1, "\\uDE00a", "\\uDE00aa",
      "=\\uDE00a|+a" },
  };

  check_cases (cases, G_N_ELEMENTS (cases));
}

/* With lone surrogates fast-diff can recurse until its stack overflows
 * (a bisection split that keeps both whole texts, or merge sweeps that
 * undo each other) and throws. The port must still end, with a sound
 * diff. */
static void
test_js_overflow (void)
{
  static const DiffCase cases[] = {
    /* endless merge sweeps */
    { -1, "a\\uD83D", "a\\uD83D\\uD83D", NULL },
    { 0, "a\\uD83D\\uD83D", "a\\uD83D", NULL },
    { -1, "\\uDE00a", "\\uDE00\\uDE00a", NULL },
    /* bisection split of the whole texts */
    { -1, "\\uD83Da\\uDE00", "\\uD83D\\uDE00", NULL },
    { 1, "\\uD83D\\uDE01", "\\uD83D\\uDE02\\uDE01", NULL },
    /* a longer one (endless merge sweeps) */
    { -1, "aa\\uDE00\\uD83D\\uD83D\\uDE00\\uD83Daaa\\uD83D\\uD83D\\uDE00\\uDE00\\uD83D\\uDE00\\uDE00\\uD83Da\\uD83Da\\uD83D\\uDE00a\\uD83D",
      "aa\\uDE00\\uD83D\\uD83D\\uDE00\\uD83Daaa\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00\\uDE00\\uDE00\\uD83D\\uDE00\\uDE00\\uD83Da\\uD83D\\uD83D\\uDE00\\uD83D\\uDE00\\uDE00\\uDE00\\uD83D\\uDE00\\uDE00\\uD83Da\\uD83Da\\uD83D\\uD83D", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = run_case (&cases[i]);

      g_test_message ("\"%s\" -> \"%s\": %s", cases[i].a, cases[i].b, got);
    }
}

/* Random texts: a code point or a lone surrogate. */
typedef struct {
  const gunichar *chars;
  guint           n_chars;
} Alphabet;

static const gunichar ab[] = { 'a', 'b' };
static const gunichar abcde[] = { 'a', 'b', 'c', 'd', 'e' };
static const gunichar letters[] = { 'a', 'e', 'i', 'n', 's', 't', ' ', 'x', 'y', 'z' };
static const gunichar emoji[] = { 'a', 0x1F600, 0x1F601, 0x1F642 };
static const gunichar mixed[] = { 'a', 'b', 0, 0xE9, 0x1F600, 0x1F601, 0x1D400 };
static const gunichar lone[] = { 'a', 0xD83D, 0xDE00, 0x1F600, 0x1F601 };

static const Alphabet alphabets[] = {
  { ab, G_N_ELEMENTS (ab) },
  { abcde, G_N_ELEMENTS (abcde) },
  { letters, G_N_ELEMENTS (letters) },
  { emoji, G_N_ELEMENTS (emoji) },
  { mixed, G_N_ELEMENTS (mixed) },
  { lone, G_N_ELEMENTS (lone) },
};

static void
append_char (GArray   *units,
             gunichar  c)
{
  gunichar2 u[2];

  if (c >= 0x10000)
    {
      u[0] = 0xD800 + ((c - 0x10000) >> 10);
      u[1] = 0xDC00 + ((c - 0x10000) & 0x3FF);
      g_array_append_vals (units, u, 2);
    }
  else
    {
      u[0] = c;
      g_array_append_vals (units, u, 1);
    }
}

static void
append_random (GRand          *rand,
               GArray         *units,
               const Alphabet *alphabet,
               guint           n)
{
  for (guint i = 0; i < n; i++)
    append_char (units, alphabet->chars[g_rand_int_range (rand, 0, alphabet->n_chars)]);
}

/* A random position in @units that does not split a pair. */
static guint
random_boundary (GRand  *rand,
                 GArray *units)
{
  guint pos = g_rand_int_range (rand, 0, units->len + 1);

  if (pos > 0 && pos < units->len &&
      IS_LOW_SURROGATE (g_array_index (units, gunichar2, pos)) &&
      IS_HIGH_SURROGATE (g_array_index (units, gunichar2, pos - 1)))
    pos--;

  return pos;
}

/* Replaces up to @max_del units at a random boundary by up to @max_ins
 * random characters. */
static guint
random_edit (GRand          *rand,
             GArray         *units,
             const Alphabet *alphabet,
             guint           max_del,
             guint           max_ins)
{
  guint pos = random_boundary (rand, units);
  guint del = g_rand_int_range (rand, 0, max_del + 1);
  g_autoptr(GArray) ins = g_array_new (FALSE, FALSE, sizeof (gunichar2));

  del = MIN (del, units->len - pos);
  /* Keep pairs whole at the end of the deletion too. */
  if (pos + del < units->len && del > 0 &&
      IS_LOW_SURROGATE (g_array_index (units, gunichar2, pos + del)) &&
      IS_HIGH_SURROGATE (g_array_index (units, gunichar2, pos + del - 1)))
    del++;

  append_random (rand, ins, alphabet, g_rand_int_range (rand, 0, max_ins + 1));
  g_array_remove_range (units, pos, del);
  g_array_insert_vals (units, pos, ins->data, ins->len);

  return pos;
}

static void
test_property (void)
{
  const char *env = g_getenv ("PATCHES_FAST_DIFF_SEED");
  guint32 seed = env != NULL ? (guint32) g_ascii_strtoull (env, NULL, 0) : 0x0FA57D1Fu;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint n_pairs = g_test_slow () ? 50000 : 4000;
  guint n_cursor = 0;

  g_test_message ("seed %" G_GUINT32_FORMAT " (set PATCHES_FAST_DIFF_SEED to change it)", seed);

  for (guint i = 0; i < n_pairs; i++)
    {
      const Alphabet *alphabet = &alphabets[g_rand_int_range (rand, 0, G_N_ELEMENTS (alphabets))];
      guint max_len = g_rand_int_range (rand, 0, 10) == 0 ? 200 : 30;
      g_autoptr(GArray) a = g_array_new (FALSE, FALSE, sizeof (gunichar2));
      g_autoptr(GArray) b = g_array_new (FALSE, FALSE, sizeof (gunichar2));
      g_autoptr(GArray) runs = NULL;
      gssize cursor = -1;
      guint mode = g_rand_int_range (rand, 0, 4);

      append_random (rand, a, alphabet, g_rand_int_range (rand, 0, max_len + 1));

      if (mode == 0)
        {
          /* Unrelated texts. */
          append_random (rand, b, alphabet, g_rand_int_range (rand, 0, max_len + 1));
        }
      else if (mode == 3)
        {
          /* One edit, with the cursor at it. */
          g_array_append_vals (b, a->data, a->len);
          cursor = random_edit (rand, b, alphabet, 3, 3);
          n_cursor++;
        }
      else
        {
          /* A few edits. */
          guint n_edits = g_rand_int_range (rand, 1, 6);

          g_array_append_vals (b, a->data, a->len);
          for (guint e = 0; e < n_edits; e++)
            random_edit (rand, b, alphabet, 6, 6);
          if (g_rand_boolean (rand))
            cursor = g_rand_int_range (rand, 0, a->len + 3);
        }

      runs = patches_fast_diff ((const gunichar2 *) a->data, a->len,
                                (const gunichar2 *) b->data, b->len, cursor);
      g_assert_nonnull (runs);

      if (!diff_is_sound ((const gunichar2 *) a->data, a->len,
                          (const gunichar2 *) b->data, b->len, runs))
        {
          g_autoptr(GString) msg = g_string_new (NULL);

          g_string_append_printf (msg, "pair %u (seed %" G_GUINT32_FORMAT
                                  ", cursor %" G_GSSIZE_FORMAT "): \"",
                                  i, seed, cursor);
          append_notation (msg, (const gunichar2 *) a->data, a->len);
          g_string_append (msg, "\" -> \"");
          append_notation (msg, (const gunichar2 *) b->data, b->len);
          g_string_append (msg, "\"");
          g_error ("%s", msg->str);
        }
    }

  g_test_message ("%u pairs, %u with a cursor at the edit", n_pairs, n_cursor);
}

/* Texts may be NULL when empty, and the runs own their texts. */
static void
test_api (void)
{
  static const gunichar2 abc[] = { 'a', 'b', 'c' };
  g_autoptr(GArray) none = patches_fast_diff (NULL, 0, NULL, 0, -1);
  g_autoptr(GArray) ins = patches_fast_diff (NULL, 0, abc, 3, 0);
  g_autoptr(GArray) del = patches_fast_diff (abc, 3, NULL, 0, 5);
  const PatchesDiffRun *run;

  g_assert_cmpuint (none->len, ==, 0);

  g_assert_cmpuint (ins->len, ==, 1);
  run = &g_array_index (ins, PatchesDiffRun, 0);
  g_assert_cmpint (run->op, ==, PATCHES_DIFF_INSERT);
  g_assert_cmpuint (run->length, ==, 3);
  g_assert_true (run->text != abc);
  g_assert_cmpmem (run->text, run->length * sizeof (gunichar2), abc, sizeof abc);

  g_assert_cmpuint (del->len, ==, 1);
  run = &g_array_index (del, PatchesDiffRun, 0);
  g_assert_cmpint (run->op, ==, PATCHES_DIFF_DELETE);
  g_assert_cmpmem (run->text, run->length * sizeof (gunichar2), abc, sizeof abc);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/fast-diff/api", test_api);
  g_test_add_func ("/fast-diff/basic", test_basic);
  g_test_add_func ("/fast-diff/dmp-examples", test_dmp_examples);
  g_test_add_func ("/fast-diff/surrogate-pairs", test_surrogate_pairs);
  g_test_add_func ("/fast-diff/cursor", test_cursor);
  g_test_add_func ("/fast-diff/reference", test_reference);
  g_test_add_func ("/fast-diff/js-overflow", test_js_overflow);
  g_test_add_func ("/fast-diff/property", test_property);

  return g_test_run ();
}
