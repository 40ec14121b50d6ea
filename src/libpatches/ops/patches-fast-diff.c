/* patches-fast-diff.c
 *
 * A port of fast-diff 1.3.0, the diff-match-patch core used by Delta.diff
 * (OPERATIONS.md §6.8). Every step mirrors the JavaScript one so that the
 * runs, and where their boundaries fall, are the same: common prefix and
 * suffix trimming (never ending a prefix on a high surrogate nor starting a
 * suffix on a low one), the "one text inside the other" shortcut, the
 * half-match split, the Myers bisection, and the merge cleanup with its
 * surrogate-pair repair at the top level. There is no semantic cleanup and
 * no deadline. A cursor hint enables the single-edit fast path.
 *
 * Texts are handled as views (pointer and length) into the caller's
 * arrays; only runs own copies. Indices are signed so that the arithmetic
 * matches the JavaScript one, including its out-of-range reads, which are
 * spelled out where they can happen.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-fast-diff-private.h"

#define IS_HIGH_SURROGATE(u) ((u) >= 0xD800 && (u) <= 0xDBFF)
#define IS_LOW_SURROGATE(u)  ((u) >= 0xDC00 && (u) <= 0xDFFF)

#define RUN(diffs, i) (&g_array_index ((diffs), PatchesDiffRun, (i)))

/* Stands in for a NULL pointer of an empty text so that no arithmetic is
 * ever done on NULL. Read-only. */
static const gunichar2 no_units[1] = { 0 };

/* A read-only view of UTF-16 code units. */
typedef struct {
  const gunichar2 *p;
  glong            len;
} Str;

static inline Str
str_make (const gunichar2 *p,
          glong            len)
{
  Str s = { len > 0 ? p : no_units, len };
  return s;
}

/* JavaScript's String.prototype.substring: both ends clamped to the text,
 * swapped when reversed. */
static inline Str
str_sub (Str   s,
         glong start,
         glong end)
{
  start = CLAMP (start, 0, s.len);
  end = CLAMP (end, 0, s.len);
  if (start > end)
    {
      glong t = start;
      start = end;
      end = t;
    }
  return str_make (s.p + start, end - start);
}

/* From @start to the end. */
static inline Str
str_from (Str   s,
          glong start)
{
  return str_sub (s, start, s.len);
}

/* The code unit at @i, or -1 where JavaScript's charAt() gives "". */
static inline gint
str_at (Str   s,
        glong i)
{
  return (i >= 0 && i < s.len) ? (gint) s.p[i] : -1;
}

static gboolean
str_equal (Str a,
           Str b)
{
  return a.len == b.len &&
         (a.len == 0 || memcmp (a.p, b.p, a.len * sizeof (gunichar2)) == 0);
}

static inline gboolean
ends_with_pair_start (Str s)
{
  return s.len > 0 && IS_HIGH_SURROGATE (s.p[s.len - 1]);
}

static inline gboolean
starts_with_pair_end (Str s)
{
  return s.len > 0 && IS_LOW_SURROGATE (s.p[0]);
}

/* String.prototype.indexOf with a start position. */
static glong
str_index_of (Str   hay,
              Str   needle,
              glong from)
{
  from = CLAMP (from, 0, hay.len);
  if (needle.len == 0)
    return from;

  for (glong i = from; i + needle.len <= hay.len; i++)
    {
      if (hay.p[i] == needle.p[0] &&
          memcmp (hay.p + i, needle.p, needle.len * sizeof (gunichar2)) == 0)
        return i;
    }

  return -1;
}

/* Length of the common prefix, shortened by one when it would end on a
 * high surrogate (fast-diff's diff_commonPrefix). */
static glong
common_prefix (Str a,
               Str b)
{
  glong n = MIN (a.len, b.len);
  glong i = 0;

  while (i < n && a.p[i] == b.p[i])
    i++;
  if (i > 0 && IS_HIGH_SURROGATE (a.p[i - 1]))
    i--;

  return i;
}

/* Length of the common suffix, shortened by one when it would start on a
 * low surrogate (fast-diff's diff_commonSuffix). */
static glong
common_suffix (Str a,
               Str b)
{
  glong n = MIN (a.len, b.len);
  glong i = 0;

  while (i < n && a.p[a.len - 1 - i] == b.p[b.len - 1 - i])
    i++;
  if (i > 0 && IS_LOW_SURROGATE (a.p[a.len - i]))
    i--;

  return i;
}

/* A growable text used by the merge cleanup. */
typedef GArray Buf;

static Buf *
buf_new (void)
{
  return g_array_new (FALSE, FALSE, sizeof (gunichar2));
}

static inline Str
buf_str (Buf *buf)
{
  return str_make ((const gunichar2 *) buf->data, buf->len);
}

static inline void
buf_append (Buf *buf,
            Str  s)
{
  if (s.len > 0)
    g_array_append_vals (buf, s.p, s.len);
}

static inline void
buf_prepend (Buf *buf,
             Str  s)
{
  if (s.len > 0)
    g_array_prepend_vals (buf, s.p, s.len);
}

static inline void
buf_drop_head (Buf   *buf,
               glong  n)
{
  if (n > 0)
    g_array_remove_range (buf, 0, n);
}

static inline void
buf_drop_tail (Buf   *buf,
               glong  n)
{
  if (n > 0)
    g_array_set_size (buf, buf->len - n);
}

/* Runs. */

static void
run_clear (gpointer data)
{
  PatchesDiffRun *run = data;

  g_clear_pointer (&run->text, g_free);
  run->length = 0;
}

static GArray *
runs_new (void)
{
  GArray *runs = g_array_new (FALSE, FALSE, sizeof (PatchesDiffRun));

  g_array_set_clear_func (runs, run_clear);
  return runs;
}

static inline Str
run_str (const PatchesDiffRun *run)
{
  return str_make (run->text, run->length);
}

/* Sets the text of @run to @head followed by @tail; either may be a view of
 * the run's current text. */
static void
run_set (PatchesDiffRun *run,
         Str             head,
         Str             tail)
{
  gsize len = head.len + tail.len;
  gunichar2 *text = NULL;

  if (len > 0)
    {
      text = g_new (gunichar2, len);
      if (head.len > 0)
        memcpy (text, head.p, head.len * sizeof (gunichar2));
      if (tail.len > 0)
        memcpy (text + head.len, tail.p, tail.len * sizeof (gunichar2));
    }

  g_free (run->text);
  run->text = text;
  run->length = len;
}

static void
runs_insert (GArray        *runs,
             glong          index,
             PatchesDiffOp  op,
             Str            text)
{
  PatchesDiffRun run = { op, NULL, 0 };

  run_set (&run, text, str_make (NULL, 0));
  g_array_insert_vals (runs, index, &run, 1);
}

static inline void
runs_append (GArray        *runs,
             PatchesDiffOp  op,
             Str            text)
{
  runs_insert (runs, runs->len, op, text);
}

/* Moves the runs of @src to the end of @dest and frees @src. */
static void
runs_take (GArray *dest,
           GArray *src)
{
  g_array_append_vals (dest, src->data, src->len);
  g_array_set_clear_func (src, NULL);
  g_array_unref (src);
}

static GArray *diff_main (Str      text1,
                          Str      text2,
                          gssize   cursor_pos,
                          gboolean fix_unicode);

/* The cursor fast path (find_cursor_edit_diff with a numeric cursor). */

static GArray *
make_edit_splice (Str before,
                  Str old_middle,
                  Str new_middle,
                  Str after)
{
  GArray *diffs;

  if (ends_with_pair_start (before) || starts_with_pair_end (after))
    return NULL;

  diffs = runs_new ();
  if (before.len > 0)
    runs_append (diffs, PATCHES_DIFF_EQUAL, before);
  if (old_middle.len > 0)
    runs_append (diffs, PATCHES_DIFF_DELETE, old_middle);
  if (new_middle.len > 0)
    runs_append (diffs, PATCHES_DIFF_INSERT, new_middle);
  if (after.len > 0)
    runs_append (diffs, PATCHES_DIFF_EQUAL, after);

  return diffs;
}

static GArray *
find_cursor_edit_diff (Str   old_text,
                       Str   new_text,
                       glong cursor)
{
  glong old_length = old_text.len;
  glong new_length = new_text.len;
  glong new_cursor;
  Str old_before;
  Str old_after;
  Str new_before;
  Str new_after;

  /* Past the end of the old text neither an edit before the cursor (the
   * new cursor would be past the new text) nor one after it (the new text
   * would have to start with the whole old one and be as long as the
   * cursor) can match. */
  if (cursor > old_length)
    return NULL;

  old_before = str_sub (old_text, 0, cursor);
  old_after = str_from (old_text, cursor);

  /* An insertion or deletion just before the cursor. */
  new_cursor = cursor + new_length - old_length;
  if (new_cursor >= 0 && new_cursor <= new_length)
    {
      new_before = str_sub (new_text, 0, new_cursor);
      new_after = str_from (new_text, new_cursor);

      if (str_equal (new_after, old_after))
        {
          glong prefix_length = MIN (cursor, new_cursor);
          Str old_prefix = str_sub (old_before, 0, prefix_length);
          Str new_prefix = str_sub (new_before, 0, prefix_length);

          /* A match here is final, even when it would split a pair. */
          if (str_equal (old_prefix, new_prefix))
            return make_edit_splice (old_prefix,
                                     str_from (old_before, prefix_length),
                                     str_from (new_before, prefix_length),
                                     old_after);
        }
    }

  /* An insertion or deletion just after the cursor. */
  new_before = str_sub (new_text, 0, cursor);
  new_after = str_from (new_text, cursor);
  if (str_equal (new_before, old_before))
    {
      glong suffix_length = MIN (old_length - cursor, new_length - cursor);
      Str old_suffix = str_from (old_after, old_after.len - suffix_length);
      Str new_suffix = str_from (new_after, new_after.len - suffix_length);

      if (str_equal (old_suffix, new_suffix))
        return make_edit_splice (old_before,
                                 str_sub (old_after, 0, old_after.len - suffix_length),
                                 str_sub (new_after, 0, new_after.len - suffix_length),
                                 old_suffix);
    }

  return NULL;
}

/* Half-match: a common substring at least half as long as the longer
 * text splits the problem in two. */

typedef struct {
  Str long_a;
  Str long_b;
  Str short_a;
  Str short_b;
  Str common;
} HalfMatch;

/* Seeds with the quarter of @longtext that starts at @i. */
static gboolean
half_match_at (Str        longtext,
               Str        shorttext,
               glong      i,
               HalfMatch *out)
{
  Str seed = str_sub (longtext, i, i + longtext.len / 4);
  Str empty = str_make (NULL, 0);
  HalfMatch best = { empty, empty, empty, empty, empty };
  glong j = -1;

  while ((j = str_index_of (shorttext, seed, j + 1)) != -1)
    {
      glong prefix_length = common_prefix (str_from (longtext, i),
                                           str_from (shorttext, j));
      glong suffix_length = common_suffix (str_sub (longtext, 0, i),
                                           str_sub (shorttext, 0, j));

      if (best.common.len < suffix_length + prefix_length)
        {
          best.common = str_sub (shorttext, j - suffix_length, j + prefix_length);
          best.long_a = str_sub (longtext, 0, i - suffix_length);
          best.long_b = str_from (longtext, i + prefix_length);
          best.short_a = str_sub (shorttext, 0, j - suffix_length);
          best.short_b = str_from (shorttext, j + prefix_length);
        }
    }

  if (best.common.len * 2 >= longtext.len)
    {
      *out = best;
      return TRUE;
    }

  return FALSE;
}

/* On success fills @parts with text1's prefix and suffix, text2's prefix
 * and suffix, and the common middle. */
static gboolean
half_match (Str  text1,
            Str  text2,
            Str  parts[5])
{
  Str longtext = text1.len > text2.len ? text1 : text2;
  Str shorttext = text1.len > text2.len ? text2 : text1;
  HalfMatch hm1;
  HalfMatch hm2;
  const HalfMatch *hm;
  gboolean have1;
  gboolean have2;

  if (longtext.len < 4 || shorttext.len * 2 < longtext.len)
    return FALSE;

  /* Seed with the second quarter, then with the third. */
  have1 = half_match_at (longtext, shorttext, (longtext.len + 3) / 4, &hm1);
  have2 = half_match_at (longtext, shorttext, (longtext.len + 1) / 2, &hm2);

  if (!have1 && !have2)
    return FALSE;
  else if (!have2)
    hm = &hm1;
  else if (!have1)
    hm = &hm2;
  else
    hm = hm1.common.len > hm2.common.len ? &hm1 : &hm2;

  if (text1.len > text2.len)
    {
      parts[0] = hm->long_a;
      parts[1] = hm->long_b;
      parts[2] = hm->short_a;
      parts[3] = hm->short_b;
    }
  else
    {
      parts[0] = hm->short_a;
      parts[1] = hm->short_b;
      parts[2] = hm->long_a;
      parts[3] = hm->long_b;
    }
  parts[4] = hm->common;

  return TRUE;
}

/* Myers' bisection: find the middle snake and diff both halves. */

static GArray *
bisect_split (Str   text1,
              Str   text2,
              glong x,
              glong y)
{
  Str text1a = str_sub (text1, 0, x);
  Str text2a = str_sub (text2, 0, y);
  Str text1b = str_from (text1, x);
  Str text2b = str_from (text2, y);
  GArray *diffs;

  /* A split that leaves one half with both whole texts would diff the same
   * pair again, forever: fast-diff overflows its stack ("Maximum call stack
   * size exceeded") and throws. It happens only with lone surrogates, when
   * the surrogate-aware prefix or suffix trimming has kept a common unit
   * that the bisection then walks through. No output exists to copy, so
   * give the plain replacement that bisect() falls back to. */
  if ((text1a.len == text1.len && text2a.len == text2.len) ||
      (text1b.len == text1.len && text2b.len == text2.len))
    {
      diffs = runs_new ();
      runs_append (diffs, PATCHES_DIFF_DELETE, text1);
      runs_append (diffs, PATCHES_DIFF_INSERT, text2);
      return diffs;
    }

  diffs = diff_main (text1a, text2a, -1, FALSE);
  runs_take (diffs, diff_main (text1b, text2b, -1, FALSE));
  return diffs;
}

static GArray *
bisect (Str text1,
        Str text2)
{
  glong text1_length = text1.len;
  glong text2_length = text2.len;
  glong max_d = (text1_length + text2_length + 1) / 2;
  glong v_offset = max_d;
  glong v_length = 2 * max_d;
  glong delta = text1_length - text2_length;
  /* With an odd delta the forward path finds the overlap. */
  gboolean front = (delta % 2) != 0;
  glong k1start = 0;
  glong k1end = 0;
  glong k2start = 0;
  glong k2end = 0;
  g_autofree glong *v1 = g_new (glong, v_length);
  g_autofree glong *v2 = g_new (glong, v_length);
  GArray *diffs;

  for (glong x = 0; x < v_length; x++)
    {
      v1[x] = -1;
      v2[x] = -1;
    }
  v1[v_offset + 1] = 0;
  v2[v_offset + 1] = 0;

  for (glong d = 0; d < max_d; d++)
    {
      /* Forward path. Every index read below stays inside [0, v_length):
       * k lies in [-d, d] with d < max_d, and v[k + 1] is only read for
       * k < d or at k == -d. */
      for (glong k1 = -d + k1start; k1 <= d - k1end; k1 += 2)
        {
          glong k1_offset = v_offset + k1;
          glong x1;
          glong y1;

          if (k1 == -d || (k1 != d && v1[k1_offset - 1] < v1[k1_offset + 1]))
            x1 = v1[k1_offset + 1];
          else
            x1 = v1[k1_offset - 1] + 1;
          y1 = x1 - k1;

          while (x1 < text1_length && y1 < text2_length &&
                 str_at (text1, x1) == str_at (text2, y1))
            {
              x1++;
              y1++;
            }
          v1[k1_offset] = x1;

          if (x1 > text1_length)
            {
              /* Ran off the right of the graph. */
              k1end += 2;
            }
          else if (y1 > text2_length)
            {
              /* Ran off the bottom of the graph. */
              k1start += 2;
            }
          else if (front)
            {
              glong k2_offset = v_offset + delta - k1;

              if (k2_offset >= 0 && k2_offset < v_length && v2[k2_offset] != -1)
                {
                  /* Mirror x2 onto the top-left coordinate system. */
                  glong x2 = text1_length - v2[k2_offset];

                  if (x1 >= x2)
                    return bisect_split (text1, text2, x1, y1);
                }
            }
        }

      /* Reverse path. */
      for (glong k2 = -d + k2start; k2 <= d - k2end; k2 += 2)
        {
          glong k2_offset = v_offset + k2;
          glong x2;
          glong y2;

          if (k2 == -d || (k2 != d && v2[k2_offset - 1] < v2[k2_offset + 1]))
            x2 = v2[k2_offset + 1];
          else
            x2 = v2[k2_offset - 1] + 1;
          y2 = x2 - k2;

          while (x2 < text1_length && y2 < text2_length &&
                 str_at (text1, text1_length - x2 - 1) ==
                 str_at (text2, text2_length - y2 - 1))
            {
              x2++;
              y2++;
            }
          v2[k2_offset] = x2;

          if (x2 > text1_length)
            {
              /* Ran off the left of the graph. */
              k2end += 2;
            }
          else if (y2 > text2_length)
            {
              /* Ran off the top of the graph. */
              k2start += 2;
            }
          else if (!front)
            {
              glong k1_offset = v_offset + delta - k2;

              if (k1_offset >= 0 && k1_offset < v_length && v1[k1_offset] != -1)
                {
                  glong x1 = v1[k1_offset];
                  glong y1 = v_offset + x1 - k1_offset;

                  /* Mirror x2 onto the top-left coordinate system. */
                  x2 = text1_length - x2;
                  if (x1 >= x2)
                    return bisect_split (text1, text2, x1, y1);
                }
            }
        }
    }

  /* No common subsequence at all (only reached when the number of edits
   * is the maximum). */
  diffs = runs_new ();
  runs_append (diffs, PATCHES_DIFF_DELETE, text1);
  runs_append (diffs, PATCHES_DIFF_INSERT, text2);
  return diffs;
}

/* diff_compute_: the two texts have no common prefix or suffix. */
static GArray *
diff_compute (Str text1,
              Str text2)
{
  GArray *diffs;
  Str parts[5];

  diffs = runs_new ();

  if (text1.len == 0)
    {
      runs_append (diffs, PATCHES_DIFF_INSERT, text2);
      return diffs;
    }

  if (text2.len == 0)
    {
      runs_append (diffs, PATCHES_DIFF_DELETE, text1);
      return diffs;
    }

  {
    Str longtext = text1.len > text2.len ? text1 : text2;
    Str shorttext = text1.len > text2.len ? text2 : text1;
    glong i = str_index_of (longtext, shorttext, 0);

    if (i != -1)
      {
        /* The shorter text is inside the longer one. The runs around it may
         * be empty; the merge cleanup drops them. */
        PatchesDiffOp op = text1.len > text2.len ? PATCHES_DIFF_DELETE : PATCHES_DIFF_INSERT;

        runs_append (diffs, op, str_sub (longtext, 0, i));
        runs_append (diffs, PATCHES_DIFF_EQUAL, shorttext);
        runs_append (diffs, op, str_from (longtext, i + shorttext.len));
        return diffs;
      }

    if (shorttext.len == 1)
      {
        /* A single unit that is not in the other text. */
        runs_append (diffs, PATCHES_DIFF_DELETE, text1);
        runs_append (diffs, PATCHES_DIFF_INSERT, text2);
        return diffs;
      }
  }

  g_array_unref (diffs);

  if (half_match (text1, text2, parts))
    {
      diffs = diff_main (parts[0], parts[2], -1, FALSE);
      runs_append (diffs, PATCHES_DIFF_EQUAL, parts[4]);
      runs_take (diffs, diff_main (parts[1], parts[3], -1, FALSE));
      return diffs;
    }

  return bisect (text1, text2);
}

/* The first half of diff_cleanupMerge: joins neighbouring runs of one
 * kind, factors common prefixes and suffixes of edits into the equalities
 * around them and drops empty runs. With @fix_unicode no equality may end
 * on a high surrogate or start on a low one: the stray unit moves into the
 * edits on both sides. */
static void
merge_pass (GArray   *diffs,
            gboolean  fix_unicode)
{
  g_autoptr(GArray) text_delete = buf_new ();
  g_autoptr(GArray) text_insert = buf_new ();
  glong pointer = 0;
  glong count_delete = 0;
  glong count_insert = 0;

  /* A dummy equality at the end flushes the last edits. */
  runs_append (diffs, PATCHES_DIFF_EQUAL, str_make (NULL, 0));

  while (pointer < (glong) diffs->len)
    {
      PatchesDiffRun *run = RUN (diffs, pointer);
      glong previous_equality;
      glong commonlength;
      glong n;

      if (pointer < (glong) diffs->len - 1 && run->length == 0)
        {
          g_array_remove_index (diffs, pointer);
          continue;
        }

      switch (run->op)
        {
        case PATCHES_DIFF_INSERT:
          count_insert++;
          buf_append (text_insert, run_str (run));
          pointer++;
          break;

        case PATCHES_DIFF_DELETE:
          count_delete++;
          buf_append (text_delete, run_str (run));
          pointer++;
          break;

        case PATCHES_DIFF_EQUAL:
        default:
          previous_equality = pointer - count_insert - count_delete - 1;

          if (fix_unicode)
            {
              PatchesDiffRun *prev = previous_equality >= 0 ? RUN (diffs, previous_equality) : NULL;

              if (prev != NULL && ends_with_pair_start (run_str (prev)))
                {
                  gunichar2 stray = prev->text[prev->length - 1];
                  Str stray_str = str_make (&stray, 1);

                  prev->length--;
                  buf_prepend (text_delete, stray_str);
                  buf_prepend (text_insert, stray_str);

                  if (prev->length == 0)
                    {
                      /* The previous equality is gone: its own edits join
                       * the pending ones. */
                      glong k = previous_equality - 1;

                      g_array_remove_index (diffs, previous_equality);
                      pointer--;

                      if (k >= 0 && RUN (diffs, k)->op == PATCHES_DIFF_INSERT)
                        {
                          count_insert++;
                          buf_prepend (text_insert, run_str (RUN (diffs, k)));
                          k--;
                        }
                      if (k >= 0 && RUN (diffs, k)->op == PATCHES_DIFF_DELETE)
                        {
                          count_delete++;
                          buf_prepend (text_delete, run_str (RUN (diffs, k)));
                          k--;
                        }
                      previous_equality = k;
                    }
                }

              run = RUN (diffs, pointer);
              if (starts_with_pair_end (run_str (run)))
                {
                  gunichar2 stray = run->text[0];
                  Str stray_str = str_make (&stray, 1);

                  run_set (run, str_from (run_str (run), 1), str_make (NULL, 0));
                  buf_append (text_delete, stray_str);
                  buf_append (text_insert, stray_str);
                }
            }

          run = RUN (diffs, pointer);
          if (pointer < (glong) diffs->len - 1 && run->length == 0)
            {
              /* An emptied equality that is not the last: keep collecting
               * edits up to the next one. */
              g_array_remove_index (diffs, pointer);
              break;
            }

          if (text_delete->len > 0 || text_insert->len > 0)
            {
              if (text_delete->len > 0 && text_insert->len > 0)
                {
                  /* Move a common prefix into the previous equality. */
                  commonlength = common_prefix (buf_str (text_insert), buf_str (text_delete));
                  if (commonlength != 0)
                    {
                      Str head = str_sub (buf_str (text_insert), 0, commonlength);

                      if (previous_equality >= 0)
                        {
                          PatchesDiffRun *prev = RUN (diffs, previous_equality);

                          run_set (prev, run_str (prev), head);
                        }
                      else
                        {
                          runs_insert (diffs, 0, PATCHES_DIFF_EQUAL, head);
                          pointer++;
                        }
                      buf_drop_head (text_insert, commonlength);
                      buf_drop_head (text_delete, commonlength);
                    }

                  /* Move a common suffix into this equality. */
                  commonlength = common_suffix (buf_str (text_insert), buf_str (text_delete));
                  if (commonlength != 0)
                    {
                      Str ins = buf_str (text_insert);

                      run = RUN (diffs, pointer);
                      run_set (run, str_from (ins, ins.len - commonlength), run_str (run));
                      buf_drop_tail (text_insert, commonlength);
                      buf_drop_tail (text_delete, commonlength);
                    }
                }

              /* Replace the pending edits by at most one delete and one
               * insert. */
              n = count_insert + count_delete;
              g_array_remove_range (diffs, pointer - n, n);
              pointer -= n;
              if (text_delete->len > 0)
                {
                  runs_insert (diffs, pointer, PATCHES_DIFF_DELETE, buf_str (text_delete));
                  pointer++;
                }
              if (text_insert->len > 0)
                {
                  runs_insert (diffs, pointer, PATCHES_DIFF_INSERT, buf_str (text_insert));
                  pointer++;
                }
            }

          if (pointer != 0 && RUN (diffs, pointer - 1)->op == PATCHES_DIFF_EQUAL)
            {
              /* Merge this equality into the previous one. */
              PatchesDiffRun *prev = RUN (diffs, pointer - 1);

              run_set (prev, run_str (prev), run_str (RUN (diffs, pointer)));
              g_array_remove_index (diffs, pointer);
            }
          else
            {
              pointer++;
            }

          count_insert = 0;
          count_delete = 0;
          g_array_set_size (text_delete, 0);
          g_array_set_size (text_insert, 0);
          break;
        }
    }

  /* Drop the dummy if it is still there and empty. */
  if (diffs->len > 0 && RUN (diffs, diffs->len - 1)->length == 0)
    g_array_remove_index (diffs, diffs->len - 1);
}

/* The second half of diff_cleanupMerge: an edit between two equalities
 * that ends with the text of the equality before it slides left over it
 * (A<ins>BA</ins>C becomes <ins>AB</ins>AC), or one that starts with the
 * text of the equality after it slides right. The first and last runs need
 * no look. Returns whether anything slid. */
static gboolean
shift_pass (GArray *diffs)
{
  gboolean changes = FALSE;
  glong pointer = 1;

  while (pointer < (glong) diffs->len - 1)
    {
      PatchesDiffRun *prev = RUN (diffs, pointer - 1);
      PatchesDiffRun *run = RUN (diffs, pointer);
      PatchesDiffRun *next = RUN (diffs, pointer + 1);

      if (prev->op == PATCHES_DIFF_EQUAL && next->op == PATCHES_DIFF_EQUAL)
        {
          Str p = run_str (prev);
          Str r = run_str (run);
          Str nx = run_str (next);

          if (p.len <= r.len && str_equal (str_from (r, r.len - p.len), p))
            {
              /* Slide the edit over the previous equality. */
              run_set (next, p, nx);
              run_set (run, p, str_sub (r, 0, r.len - p.len));
              g_array_remove_index (diffs, pointer - 1);
              changes = TRUE;
            }
          else if (nx.len <= r.len && str_equal (str_sub (r, 0, nx.len), nx))
            {
              /* Slide the edit over the next equality. */
              run_set (prev, p, nx);
              run_set (run, str_from (r, nx.len), nx);
              g_array_remove_index (diffs, pointer + 1);
              changes = TRUE;
            }
        }
      pointer++;
    }

  return changes;
}

static gboolean
runs_equal (GArray *a,
            GArray *b)
{
  if (a->len != b->len)
    return FALSE;

  for (guint i = 0; i < a->len; i++)
    {
      if (RUN (a, i)->op != RUN (b, i)->op ||
          !str_equal (run_str (RUN (a, i)), run_str (RUN (b, i))))
        return FALSE;
    }

  return TRUE;
}

static GArray *
runs_copy (GArray *runs)
{
  GArray *copy = runs_new ();

  for (guint i = 0; i < runs->len; i++)
    runs_append (copy, RUN (runs, i)->op, run_str (RUN (runs, i)));

  return copy;
}

/* diff_cleanupMerge. fast-diff calls itself again after a pass that slid
 * an edit; this loops instead.
 *
 * With lone surrogates the surrogate repair of one sweep can undo the
 * slides of the previous one, and fast-diff then recurses until its stack
 * overflows and throws. Such a cycle is spotted (Brent's method: compare
 * each state with one saved at steps 1, 2, 4, 8, ...) and ended after one
 * more merge pass, which leaves non-empty runs that alternate in kind.
 * Without a cycle the result is fast-diff's. */
static void
cleanup_merge (GArray   *diffs,
               gboolean  fix_unicode)
{
  g_autoptr(GArray) saved = NULL;
  guint power = 1;
  guint steps = 0;

  for (;;)
    {
      merge_pass (diffs, fix_unicode);
      if (!shift_pass (diffs))
        break;

      if (saved != NULL && runs_equal (saved, diffs))
        {
          merge_pass (diffs, fix_unicode);
          break;
        }

      if (saved == NULL || ++steps == power)
        {
          g_clear_pointer (&saved, g_array_unref);
          saved = runs_copy (diffs);
          power *= 2;
          steps = 0;
        }
    }
}

/* diff_main without the semantic cleanup. Only the top-level call gets the
 * cursor hint and the surrogate repair, as in fast-diff. */
static GArray *
diff_main (Str      text1,
           Str      text2,
           gssize   cursor_pos,
           gboolean fix_unicode)
{
  GArray *diffs;
  Str prefix;
  Str suffix;
  glong n;

  if (str_equal (text1, text2))
    {
      diffs = runs_new ();
      if (text1.len > 0)
        runs_append (diffs, PATCHES_DIFF_EQUAL, text1);
      return diffs;
    }

  if (cursor_pos >= 0)
    {
      diffs = find_cursor_edit_diff (text1, text2, cursor_pos);
      if (diffs != NULL)
        return diffs;
    }

  n = common_prefix (text1, text2);
  prefix = str_sub (text1, 0, n);
  text1 = str_from (text1, n);
  text2 = str_from (text2, n);

  n = common_suffix (text1, text2);
  suffix = str_from (text1, text1.len - n);
  text1 = str_sub (text1, 0, text1.len - n);
  text2 = str_sub (text2, 0, text2.len - n);

  diffs = diff_compute (text1, text2);

  if (prefix.len > 0)
    runs_insert (diffs, 0, PATCHES_DIFF_EQUAL, prefix);
  if (suffix.len > 0)
    runs_append (diffs, PATCHES_DIFF_EQUAL, suffix);

  cleanup_merge (diffs, fix_unicode);

  return diffs;
}

/**
 * patches_fast_diff:
 * @a: (array length=a_len): the old text in UTF-16 code units
 * @a_len: the length of @a
 * @b: (array length=b_len): the new text in UTF-16 code units
 * @b_len: the length of @b
 * @cursor_pos: the cursor position hint (a UTF-16 offset into @a), or a
 *   negative value for none
 *
 * Diffs @a against @b exactly as `diff(a, b, cursor_pos)` of fast-diff
 * 1.3.0 does (`diff(a, b)` for a negative @cursor_pos). No run is empty,
 * no two neighbours have the same op, the equal and deleted runs make up
 * @a and the equal and inserted runs make up @b.
 *
 * Where fast-diff has no result, because it recurses until its stack
 * overflows and throws (only ever seen with lone surrogates), the runs are
 * still sound: the endless step is replaced by a plain delete and insert,
 * or the endless merge sweeps are stopped.
 *
 * Returns: (transfer full) (element-type PatchesDiffRun): the runs; freeing
 *   the array frees their texts
 */
GArray *
patches_fast_diff (const gunichar2 *a,
                   gsize            a_len,
                   const gunichar2 *b,
                   gsize            b_len,
                   gssize           cursor_pos)
{
  g_return_val_if_fail (a != NULL || a_len == 0, NULL);
  g_return_val_if_fail (b != NULL || b_len == 0, NULL);
  g_return_val_if_fail (a_len <= G_MAXLONG / 2 && b_len <= G_MAXLONG / 2, NULL);

  return diff_main (str_make (a, a_len), str_make (b, b_len), cursor_pos, TRUE);
}
