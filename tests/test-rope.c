/* test-rope.c: the persistent rope behind rich text (patches-rope.c)
 *
 * A rope is copied in O(1) and shares its tree with its copies; an edit
 * copies only the path it walks.  The random tests keep many versions of
 * one text (copies of copies), edit them independently in random order
 * and check, after every step, that every version still holds exactly
 * what a flat model of it says: units, runs, attribute and embed
 * pointers, member order flags, offsets, seeks and iteration both ways.
 * Before an edit a witness copy is often taken: it must come out of the
 * edit untouched, and the edited rope must still share all but a few of
 * its leaves with it.  patches_rope_equal() is checked against the
 * models, over copies, ropes built apart, and equal-but-distinct maps.
 * The same is then done one level up, through PatchesText and the delta
 * reference (patches_text_apply_reference()).
 *
 * Set PATCHES_TEST_SEED to replay a seed (it is printed with each test)
 * and PATCHES_LONG_TESTS=1 for many more steps.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches.h"
#include "patches-delta-private.h"
#include "patches-rope-private.h"
#include "patches-text-private.h"
#include "patches-test-util.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* @base steps, @long_factor times as many with PATCHES_LONG_TESTS set. */
static guint
n_cases (guint base,
         guint long_factor)
{
  return g_getenv ("PATCHES_LONG_TESTS") != NULL ? base * long_factor : base;
}

static guint32
test_seed (void)
{
  const char *env = g_getenv ("PATCHES_TEST_SEED");
  guint32 seed = env != NULL ? (guint32) g_ascii_strtoull (env, NULL, 0) : (guint32) g_test_rand_int ();

  g_test_message ("seed %u (replay with PATCHES_TEST_SEED=%u)", seed, seed);
  return seed;
}

/* How many times patches_rope_equal() asked about two attribute maps. */
static guint n_attribute_compares;

static gboolean
attributes_equal (PatchesValue *a,
                  PatchesValue *b)
{
  /* Documented: called for two distinct maps only. */
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_true (a != b);
  n_attribute_compares++;
  return patches_value_equal (a, b);
}

static gboolean
rope_equal (const PatchesRope *a,
            const PatchesRope *b)
{
  gboolean ab = patches_rope_equal (a, b, attributes_equal);

  g_assert_cmpint (ab, ==, patches_rope_equal (b, a, attributes_equal));
  return ab;
}

/* The rope as a string, run by run: plain text as is, an attributed run
 * in [brackets], an embed as {}.  A surrogate shows as '?' unless its
 * pair is in the same leaf. */
static char *
rope_dump (const PatchesRope *rope)
{
  GString *out = g_string_new (NULL);
  const PatchesRopeLeaf *previous = NULL;
  PatchesRopeIter iter;

  for (PatchesRopeLeaf *leaf = patches_rope_iter_init_first (&iter, rope);
       leaf != NULL;
       leaf = patches_rope_iter_next (&iter))
    {
      gboolean same_run = patches_rope_leaf_same_run (previous, leaf);

      if (previous != NULL && previous->attributes != NULL && !same_run)
        g_string_append_c (out, ']');
      if (leaf->attributes != NULL && !same_run)
        g_string_append_c (out, '[');

      if (leaf->embed != NULL)
        g_string_append (out, "{}");
      else
        for (guint i = 0; i < leaf->length; i++)
          {
            gunichar2 c = leaf->text[i];

            if (c >= 0xD800 && c <= 0xDBFF && i + 1 < leaf->length &&
                leaf->text[i + 1] >= 0xDC00 && leaf->text[i + 1] <= 0xDFFF)
              {
                g_string_append_unichar (out, 0x10000 + ((c - 0xD800) << 10) + (leaf->text[i + 1] - 0xDC00));
                i++;
              }
            else if (c >= 0xD800 && c <= 0xDFFF)
              g_string_append_c (out, '?');
            else
              g_string_append_unichar (out, c);
          }
      previous = leaf;
    }
  if (previous != NULL && previous->attributes != NULL)
    g_string_append_c (out, ']');

  return g_string_free (out, FALSE);
}

static guint
count_leaves (const PatchesRope *rope)
{
  PatchesRopeIter iter;
  guint n = 0;

  for (PatchesRopeLeaf *leaf = patches_rope_iter_init_first (&iter, rope);
       leaf != NULL;
       leaf = patches_rope_iter_next (&iter))
    n++;

  return n;
}

/* The leaves of @rope, as a set of pointers. */
static GHashTable *
leaf_set (const PatchesRope *rope)
{
  GHashTable *set = g_hash_table_new (NULL, NULL);
  PatchesRopeIter iter;

  for (PatchesRopeLeaf *leaf = patches_rope_iter_init_first (&iter, rope);
       leaf != NULL;
       leaf = patches_rope_iter_next (&iter))
    g_hash_table_add (set, leaf);

  return set;
}

/* Leaves of @rope that are not in @set. */
static guint
count_new_leaves (const PatchesRope *rope,
                  GHashTable        *set,
                  guint             *n_kept)
{
  PatchesRopeIter iter;
  guint n_new = 0;

  *n_kept = 0;
  for (PatchesRopeLeaf *leaf = patches_rope_iter_init_first (&iter, rope);
       leaf != NULL;
       leaf = patches_rope_iter_next (&iter))
    {
      if (g_hash_table_contains (set, leaf))
        (*n_kept)++;
      else
        n_new++;
    }

  return n_new;
}

/* ------------------------------------------------------------------ */
/* Fixed cases                                                         */
/* ------------------------------------------------------------------ */

static const gunichar2 ab_smile[] = { 'a', 'b', 0xD83D, 0xDE00 };
static const gunichar2 cd_newline[] = { 'c', 'd', '\n' };

/* "ab😀" plain, an embed in bold, "cd\n" in bold. */
static PatchesRope *
small_rope (PatchesValue *bold,
            PatchesValue *image)
{
  PatchesRope *rope = patches_rope_new ();

  patches_rope_append (rope, ab_smile, G_N_ELEMENTS (ab_smile), NULL, NULL, FALSE);
  patches_rope_append (rope, NULL, 0, image, bold, TRUE);
  patches_rope_append (rope, cd_newline, G_N_ELEMENTS (cd_newline), NULL, bold, FALSE);
  patches_rope_check (rope);

  return rope;
}

static void
test_basic_empty (void)
{
  PatchesRope *rope = patches_rope_new ();
  PatchesRope *copy = NULL;
  PatchesRopeIter iter;
  gint64 offset = -1;

  patches_rope_check (rope);
  g_assert_cmpint (rope->length, ==, 0);
  g_assert_cmpint (rope->n_chars, ==, 0);
  g_assert_null (patches_rope_seek (rope, 0, &offset));
  g_assert_cmpint (offset, ==, 0);
  offset = -1;
  g_assert_null (patches_rope_iter_init_at (&iter, rope, 3, &offset));
  g_assert_cmpint (offset, ==, 0);
  g_assert_null (patches_rope_iter_get_leaf (&iter));
  g_assert_null (patches_rope_iter_next (&iter));
  g_assert_null (patches_rope_iter_prev (&iter));
  g_assert_null (patches_rope_iter_init_first (&iter, rope));
  g_assert_null (patches_rope_iter_init_last (&iter, rope));
  g_assert_cmpint (patches_rope_char_offset (rope, 5), ==, 0);
  g_assert_cmpint (patches_rope_utf16_offset (rope, 5), ==, 0);

  /* Nothing to insert, nothing to delete: still empty. */
  patches_rope_insert_plain (rope, 0, ab_smile, 0);
  patches_rope_insert_run (rope, 0, ab_smile, 0, NULL, NULL, FALSE);
  patches_rope_delete (rope, 0, 10);
  patches_rope_check (rope);
  g_assert_cmpint (rope->length, ==, 0);

  copy = patches_rope_copy (rope);
  g_assert_true (rope_equal (rope, copy));
  patches_rope_insert_plain (copy, 0, ab_smile, 2);
  patches_rope_check (copy);
  g_assert_cmpint (rope->length, ==, 0);
  g_assert_null (patches_rope_iter_init_first (&iter, rope));
  g_assert_cmpint (copy->length, ==, 2);
  g_assert_false (rope_equal (rope, copy));

  /* Deleting everything leaves an empty rope equal to a new one. */
  patches_rope_delete (copy, 0, 2);
  patches_rope_check (copy);
  g_assert_cmpint (copy->length, ==, 0);
  g_assert_null (patches_rope_iter_init_first (&iter, copy));
  g_assert_true (rope_equal (rope, copy));

  patches_rope_free (copy);
  patches_rope_free (rope);
}

static void
test_basic_edits (void)
{
  g_autoptr(PatchesValue) bold = patches_test_parse ("{\"bold\":true}");
  g_autoptr(PatchesValue) italic = patches_test_parse ("{\"italic\":true}");
  g_autoptr(PatchesValue) image = patches_test_parse ("{\"image\":\"a.png\"}");
  PatchesRope *rope = small_rope (bold, image);
  PatchesRopeLeaf *leaf;
  PatchesRopeIter iter;
  g_autofree char *dump = rope_dump (rope);
  gint64 offset = -1;

  g_assert_cmpstr (dump, ==, "ab😀[{}][cd\n]");
  g_assert_cmpint (rope->length, ==, 8);
  g_assert_cmpint (rope->n_chars, ==, 7);

  /* Offsets: inside the pair maps to its character. */
  g_assert_cmpint (patches_rope_char_offset (rope, -1), ==, 0);
  g_assert_cmpint (patches_rope_char_offset (rope, 2), ==, 2);
  g_assert_cmpint (patches_rope_char_offset (rope, 3), ==, 2);
  g_assert_cmpint (patches_rope_char_offset (rope, 4), ==, 3);
  g_assert_cmpint (patches_rope_char_offset (rope, 5), ==, 4);
  g_assert_cmpint (patches_rope_char_offset (rope, 99), ==, 7);
  g_assert_cmpint (patches_rope_utf16_offset (rope, 2), ==, 2);
  g_assert_cmpint (patches_rope_utf16_offset (rope, 3), ==, 4);
  g_assert_cmpint (patches_rope_utf16_offset (rope, 4), ==, 5);
  g_assert_cmpint (patches_rope_utf16_offset (rope, 99), ==, 8);

  /* Seeking: the leaf holding the unit; at the end the last leaf. */
  leaf = patches_rope_seek (rope, 3, &offset);
  g_assert_nonnull (leaf);
  g_assert_cmpint (offset, ==, 3);
  g_assert_cmpuint (leaf->text[offset], ==, 0xDE00);
  leaf = patches_rope_seek (rope, 4, &offset);
  g_assert_nonnull (leaf);
  g_assert_cmpint (offset, ==, 0);
  g_assert_true (leaf->embed == image);
  g_assert_true (leaf->attributes == bold);
  g_assert_true (leaf->attributes_first);
  leaf = patches_rope_seek (rope, 8, &offset);
  g_assert_nonnull (leaf);
  g_assert_cmpint (offset, ==, 3);
  g_assert_cmpuint (leaf->length, ==, 3);
  g_assert_false (leaf->attributes_first);
  g_assert_true (patches_rope_iter_init_last (&iter, rope) == leaf);
  g_assert_cmpint (patches_rope_iter_get_start (&iter), ==, 5);
  g_assert_null (patches_rope_iter_next (&iter));
  g_assert_true (patches_rope_iter_get_leaf (&iter) == leaf);
  g_assert_true (patches_rope_iter_prev (&iter)->embed == image);
  g_assert_cmpint (patches_rope_iter_get_start (&iter), ==, 4);

  /* Plain text joins the plain leaf before it... */
  patches_rope_insert_plain (rope, 1, (const gunichar2 *) u"X", 1);
  patches_rope_insert_plain (rope, 5, (const gunichar2 *) u"Y", 1);
  patches_rope_check (rope);
  leaf = patches_rope_seek (rope, 0, &offset);
  g_assert_cmpuint (leaf->length, ==, 6);
  g_clear_pointer (&dump, g_free);
  dump = rope_dump (rope);
  g_assert_cmpstr (dump, ==, "aXb😀Y[{}][cd\n]");

  /* ...gets a leaf of its own between two attributed runs... */
  patches_rope_insert_plain (rope, 7, (const gunichar2 *) u"Z", 1);
  patches_rope_check (rope);
  leaf = patches_rope_seek (rope, 7, &offset);
  g_assert_cmpint (offset, ==, 0);
  g_assert_cmpuint (leaf->length, ==, 1);
  g_assert_null (leaf->attributes);
  g_clear_pointer (&dump, g_free);
  dump = rope_dump (rope);
  g_assert_cmpstr (dump, ==, "aXb😀Y[{}]Z[cd\n]");

  /* ...and splits an attributed leaf it falls into. */
  patches_rope_insert_plain (rope, 9, (const gunichar2 *) u"-", 1);
  patches_rope_check (rope);
  g_clear_pointer (&dump, g_free);
  dump = rope_dump (rope);
  g_assert_cmpstr (dump, ==, "aXb😀Y[{}]Z[c]-[d\n]");

  /* A run of its own; the same attributes pointer next to it is one run. */
  patches_rope_insert_run (rope, 8, (const gunichar2 *) u"ii", 2, NULL, italic, TRUE);
  patches_rope_insert_run (rope, 12, (const gunichar2 *) u"BB", 2, NULL, bold, FALSE);
  patches_rope_check (rope);
  g_clear_pointer (&dump, g_free);
  dump = rope_dump (rope);
  g_assert_cmpstr (dump, ==, "aXb😀Y[{}]Z[ii][c]-[BBd\n]");
  leaf = patches_rope_seek (rope, 8, &offset);
  g_assert_true (leaf->attributes == italic);
  g_assert_true (leaf->attributes_first);
  g_assert_cmpint (rope->length, ==, 16);

  /* Deleting across leaves; cutting a pair in two leaves lone halves,
   * each a character of its own. */
  patches_rope_delete (rope, 4, 6);
  patches_rope_check (rope);
  g_clear_pointer (&dump, g_free);
  dump = rope_dump (rope);
  g_assert_cmpstr (dump, ==, "aXb?[c]-[BBd\n]");
  g_assert_cmpint (rope->length, ==, 10);
  g_assert_cmpint (rope->n_chars, ==, 10);
  patches_rope_delete (rope, 4, 3);
  patches_rope_check (rope);
  g_clear_pointer (&dump, g_free);
  dump = rope_dump (rope);
  g_assert_cmpstr (dump, ==, "aXb?[Bd\n]");

  /* Past the end: only what is there goes. */
  patches_rope_delete (rope, 6, 100);
  patches_rope_check (rope);
  g_clear_pointer (&dump, g_free);
  dump = rope_dump (rope);
  g_assert_cmpstr (dump, ==, "aXb?[Bd]");

  patches_rope_free (rope);
}

/* Copies share the tree; an edit of either copies what it changes and
 * leaves the other as it was; an edit of a rope that shares nothing is
 * made in place. */
static void
test_copy_on_write (void)
{
  g_autoptr(PatchesValue) bold = patches_test_parse ("{\"bold\":true}");
  g_autoptr(GString) expect_rope = g_string_new (NULL);
  g_autoptr(GString) expect_copy = NULL;
  g_autoptr(GArray) units = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  g_autoptr(GHashTable) leaves = NULL;
  g_autofree char *dump = NULL;
  PatchesRope *rope = patches_rope_new ();
  PatchesRope *copy;
  PatchesRopeNode *root;
  PatchesRopeLeaf *leaf;
  PatchesRopeLeaf *mutable;
  PatchesRopeIter iter;
  gint64 offset;
  guint n_kept;

  /* Small leaves and branches: a tree several levels deep. */
  patches_rope_set_limits_for_testing (8, 3);
  for (guint i = 0; i < 300; i++)
    {
      gunichar2 c = 'a' + i % 26;

      g_array_append_val (units, c);
      g_string_append_c (expect_rope, c);
    }
  patches_rope_append (rope, (gunichar2 *) units->data, units->len, NULL, NULL, FALSE);
  patches_rope_check (rope);
  g_assert_cmpuint (count_leaves (rope), >=, 300 / 8);

  /* In place while nothing is shared: the same leaf, the same root. */
  root = rope->root;
  leaf = patches_rope_iter_init_at (&iter, rope, 100, &offset);
  mutable = patches_rope_iter_make_mutable (rope, &iter);
  g_assert_true (mutable == leaf);
  g_assert_true (rope->root == root);
  patches_rope_delete (rope, 100, 1);
  patches_rope_insert_plain (rope, 100, &g_array_index (units, gunichar2, 100), 1);
  g_assert_true (rope->root == root);

  copy = patches_rope_copy (rope);
  g_assert_true (copy->root == rope->root);
  g_assert_cmpint (copy->length, ==, rope->length);
  g_assert_true (rope_equal (rope, copy));
  leaves = leaf_set (rope);

  /* Edits of the copy: a plain insert, a delete, a run, attributes. */
  expect_copy = g_string_new (expect_rope->str);
  patches_rope_insert_plain (copy, 150, (const gunichar2 *) u"X", 1);
  /* It fits in the leaf it joins: one leaf copied, all others shared. */
  g_assert_cmpuint (count_new_leaves (copy, leaves, &n_kept), ==, 1);
  g_assert_cmpuint (n_kept, ==, count_leaves (rope) - 1);
  g_assert_cmpuint (count_leaves (copy), ==, count_leaves (rope));
  patches_rope_insert_plain (copy, 151, (const gunichar2 *) u"YZ", 2);
  g_string_insert (expect_copy, 150, "XYZ");
  patches_rope_delete (copy, 10, 20);
  g_string_erase (expect_copy, 10, 20);
  patches_rope_insert_run (copy, 200, (const gunichar2 *) u"B", 1, NULL, bold, FALSE);
  g_string_insert (expect_copy, 200, "[B]");
  leaf = patches_rope_iter_init_at (&iter, copy, 50, &offset);
  g_assert_true (g_hash_table_contains (leaves, leaf));
  mutable = patches_rope_iter_make_mutable (copy, &iter);
  g_assert_true (mutable != leaf);
  g_assert_true (patches_rope_iter_get_leaf (&iter) == mutable);
  g_assert_cmpuint (mutable->length, ==, leaf->length);
  g_assert_cmpmem (mutable->text, mutable->length * 2, leaf->text, leaf->length * 2);
  patches_rope_leaf_set_attributes (copy, mutable, bold);
  g_assert_true (mutable->attributes == bold);
  g_assert_null (leaf->attributes);
  g_string_insert_c (expect_copy, patches_rope_iter_get_start (&iter) + leaf->length, ']');
  g_string_insert_c (expect_copy, patches_rope_iter_get_start (&iter), '[');
  patches_rope_check (copy);
  patches_rope_check (rope);

  g_assert_true (rope->root == root);
  g_assert_true (copy->root != root);
  dump = rope_dump (rope);
  g_assert_cmpstr (dump, ==, expect_rope->str);
  g_clear_pointer (&dump, g_free);
  dump = rope_dump (copy);
  g_assert_cmpstr (dump, ==, expect_copy->str);
  g_assert_false (rope_equal (rope, copy));

  /* Four edits copy a few leaves each; the rest is still shared. */
  g_assert_cmpuint (count_new_leaves (copy, leaves, &n_kept), <=, 12);
  g_assert_cmpuint (n_kept, >=, count_leaves (rope) - 20);

  /* Now the original: the copy does not see it. */
  patches_rope_delete (rope, 0, 250);
  g_string_erase (expect_rope, 0, 250);
  patches_rope_insert_plain (rope, 5, (const gunichar2 *) u"!", 1);
  g_string_insert_c (expect_rope, 5, '!');
  patches_rope_check (rope);
  g_clear_pointer (&dump, g_free);
  dump = rope_dump (rope);
  g_assert_cmpstr (dump, ==, expect_rope->str);
  g_clear_pointer (&dump, g_free);
  dump = rope_dump (copy);
  g_assert_cmpstr (dump, ==, expect_copy->str);

  /* The copy outlives the original. */
  patches_rope_free (rope);
  patches_rope_check (copy);
  g_clear_pointer (&dump, g_free);
  dump = rope_dump (copy);
  g_assert_cmpstr (dump, ==, expect_copy->str);
  patches_rope_free (copy);

  patches_rope_set_limits_for_testing (0, 0);
}

/* Equality is about runs, not leaves or pointers. */
static void
test_equal (void)
{
  g_autoptr(PatchesValue) bold = patches_test_parse ("{\"bold\":true,\"size\":1}");
  g_autoptr(PatchesValue) bold_again = patches_test_parse ("{\"size\":1,\"bold\":true}");
  g_autoptr(PatchesValue) italic = patches_test_parse ("{\"italic\":true}");
  g_autoptr(PatchesValue) image = patches_test_parse ("{\"image\":\"a.png\"}");
  g_autoptr(PatchesValue) image_again = patches_test_parse ("{\"image\":\"a.png\"}");
  g_autoptr(PatchesValue) other_image = patches_test_parse ("{\"image\":\"b.png\"}");
  const gunichar2 *text = (const gunichar2 *) u"abcdefghijklmnopqrstuvwxyz\n";
  PatchesRope *a = patches_rope_new ();
  PatchesRope *b = patches_rope_new ();
  PatchesRope *c;
  guint n_compares;

  /* One leaf against many. */
  patches_rope_append (a, text, 27, NULL, NULL, FALSE);
  patches_rope_set_limits_for_testing (4, 3);
  for (guint i = 0; i < 27; i += 2)
    patches_rope_insert_plain (b, i, text + i, MIN (2, 27 - i));
  patches_rope_check (b);
  g_assert_cmpuint (count_leaves (b), >, count_leaves (a));
  g_assert_true (rope_equal (a, b));

  /* A different unit. */
  patches_rope_delete (b, 5, 1);
  patches_rope_insert_plain (b, 5, (const gunichar2 *) u"F", 1);
  g_assert_false (rope_equal (a, b));
  patches_rope_delete (b, 5, 1);
  patches_rope_insert_plain (b, 5, text + 5, 1);
  g_assert_true (rope_equal (a, b));

  /* Equal maps at distinct addresses compare inside; member order and
   * the member order flag do not count. */
  patches_rope_append (a, NULL, 0, image, bold, TRUE);
  patches_rope_append (b, NULL, 0, image_again, bold_again, FALSE);
  patches_rope_append (a, text, 3, NULL, bold, FALSE);
  patches_rope_append (b, text, 3, NULL, bold_again, TRUE);
  n_compares = n_attribute_compares;
  g_assert_true (rope_equal (a, b));
  g_assert_cmpuint (n_attribute_compares, >, n_compares);

  /* Run boundaries count: "abc" in bold as one run, or as two runs of
   * equal maps. */
  c = patches_rope_copy (b);
  patches_rope_delete (c, 28, 3);
  patches_rope_append (c, text, 1, NULL, bold_again, FALSE);
  patches_rope_append (c, text + 1, 2, NULL, bold, FALSE);
  patches_rope_check (c);
  g_assert_cmpint (c->length, ==, a->length);
  g_assert_false (rope_equal (a, c));
  g_assert_false (rope_equal (b, c));
  patches_rope_free (c);

  /* Other attributes, none, another embed. */
  c = patches_rope_copy (b);
  patches_rope_delete (c, 28, 3);
  patches_rope_append (c, text, 3, NULL, italic, FALSE);
  g_assert_false (rope_equal (a, c));
  patches_rope_delete (c, 28, 3);
  patches_rope_append (c, text, 3, NULL, NULL, FALSE);
  g_assert_false (rope_equal (a, c));
  patches_rope_free (c);
  c = patches_rope_copy (b);
  patches_rope_delete (c, 27, 1);
  patches_rope_insert_run (c, 27, NULL, 0, other_image, bold, FALSE);
  patches_rope_check (c);
  g_assert_false (rope_equal (a, c));
  patches_rope_delete (c, 27, 1);
  patches_rope_insert_run (c, 27, NULL, 0, image_again, bold, FALSE);
  g_assert_true (rope_equal (a, c));
  /* An embed against the same unit as text. */
  patches_rope_delete (c, 27, 1);
  patches_rope_insert_run (c, 27, (const gunichar2 *) u"\xFFFC", 1, NULL, bold, FALSE);
  g_assert_false (rope_equal (a, c));
  patches_rope_free (c);

  patches_rope_free (a);
  patches_rope_free (b);
  patches_rope_set_limits_for_testing (0, 0);
}

/* ------------------------------------------------------------------ */
/* Random generation                                                   */
/* ------------------------------------------------------------------ */

static const char * const attribute_pool[] = {
  "{\"bold\":true}",
  "{\"italic\":true}",
  "{\"bold\":true,\"italic\":true}",
  "{\"link\":{\"href\":\"https://gnome.org\",\"title\":\"x\"}}",
  "{\"header\":1}",
};

static const char * const embed_pool[] = {
  "{\"image\":\"a.png\"}",
  "{\"formula\":\"e=mc^2\"}",
  "5",
};

#define N_ATTRIBUTES (2 * G_N_ELEMENTS (attribute_pool))
#define N_EMBEDS     (2 * G_N_ELEMENTS (embed_pool))

typedef struct {
  GRand        *rand;
  /* Every map and embed twice: entries 2k and 2k + 1 are equal values at
   * distinct addresses, so that comparisons have to look inside. */
  PatchesValue *attributes[N_ATTRIBUTES];
  PatchesValue *embeds[N_EMBEDS];
  /* A removal, for formatting changes of text values */
  PatchesValue *no_bold;
  /* The rope limits in force */
  guint         leaf_max;
  guint         leaf_fill;
} Gen;

static void
gen_init (Gen    *gen,
          guint32 seed)
{
  gen->rand = g_rand_new_with_seed (seed);
  for (guint i = 0; i < N_ATTRIBUTES; i++)
    gen->attributes[i] = patches_test_parse (attribute_pool[i / 2]);
  for (guint i = 0; i < N_EMBEDS; i++)
    gen->embeds[i] = patches_test_parse (embed_pool[i / 2]);
  gen->no_bold = patches_test_parse ("{\"bold\":null}");
  gen->leaf_max = 0;
}

static void
gen_clear (Gen *gen)
{
  g_rand_free (gen->rand);
  for (guint i = 0; i < N_ATTRIBUTES; i++)
    patches_value_unref (gen->attributes[i]);
  for (guint i = 0; i < N_EMBEDS; i++)
    patches_value_unref (gen->embeds[i]);
  patches_value_unref (gen->no_bold);
}

/* Sets the rope limits (and remembers them for the checks). */
static void
gen_set_limits (Gen   *gen,
                guint  leaf_max,
                guint  node_max)
{
  patches_rope_set_limits_for_testing (leaf_max, node_max);
  gen->leaf_max = leaf_max;
  gen->leaf_fill = leaf_max * 3 / 4;
}

static inline guint
gen_int (Gen  *gen,
         guint n)
{
  return g_rand_int_range (gen->rand, 0, n);
}

static inline gboolean
gen_chance (Gen   *gen,
            double p)
{
  return g_rand_double (gen->rand) < p;
}

static PatchesValue *
gen_attributes (Gen *gen)
{
  return gen->attributes[gen_int (gen, N_ATTRIBUTES)];
}

static PatchesValue *
gen_embed (Gen *gen)
{
  return gen->embeds[gen_int (gen, N_EMBEDS)];
}

/* The equal map at the other address. */
static PatchesValue *
gen_twin (Gen          *gen,
          PatchesValue *attributes)
{
  for (guint i = 0; i < N_ATTRIBUTES; i++)
    if (gen->attributes[i] == attributes)
      return gen->attributes[i ^ 1];

  g_assert_not_reached ();
}

/* UTF-16 text: ASCII, newlines, Latin-1, a BMP CJK character, astral
 * emoji (surrogate pairs) and now and then a lone surrogate. */
static void
gen_text (Gen    *gen,
          GArray *out,
          guint   min_length,
          guint   max_length)
{
  guint length = min_length + gen_int (gen, max_length - min_length + 1);

  g_array_set_size (out, 0);
  while (out->len < length)
    {
      guint k = gen_int (gen, 40);
      gunichar2 c;

      if (k < 24)
        c = 'a' + gen_int (gen, 6);
      else if (k < 28)
        c = ' ';
      else if (k < 30)
        c = '\n';
      else if (k < 32)
        c = 0xE9;
      else if (k < 34)
        c = 0x6F22;
      else if (k < 35)
        c = gen_chance (gen, 0.5) ? 0xD83D : 0xDE01;
      else
        {
          gunichar2 pair[2] = { 0xD83D, 0xDE00 + gen_int (gen, 16) };

          g_array_append_vals (out, pair, 2);
          continue;
        }
      g_array_append_val (out, c);
    }
}

/* ------------------------------------------------------------------ */
/* The rope against a flat model                                       */
/* ------------------------------------------------------------------ */

/* One unit of a rope as the model sees it.  Runs and characters follow
 * from the units: a run is a stretch of text units with one attributes
 * pointer (an embed is a run of its own); a low surrogate right after a
 * high one starts no character. */
typedef struct {
  gunichar2     unit;          /* U+FFFC for an embed */
  gboolean      attributes_first;
  PatchesValue *embed;         /* borrowed from the Gen */
  PatchesValue *attributes;    /* borrowed from the Gen */
} Unit;

typedef struct {
  PatchesRope *rope;
  GArray      *units;
} RopeVersion;

typedef struct {
  guint n_steps;
  guint n_witnessed;
  guint n_kept;          /* leaves still shared with a witness */
  guint n_equal;         /* equal pairs of versions found */
  guint n_unequal;
  guint max_leaves;
} RopeStats;

static RopeVersion *
rope_version_new (PatchesRope *rope,
                  GArray      *units)
{
  RopeVersion *v = g_new0 (RopeVersion, 1);

  v->rope = rope;
  v->units = units;
  return v;
}

static void
rope_version_free (gpointer data)
{
  RopeVersion *v = data;

  patches_rope_free (v->rope);
  g_array_unref (v->units);
  g_free (v);
}

static inline Unit *
unit_at (GArray *units,
         gint64  i)
{
  return &g_array_index (units, Unit, i);
}

static inline gboolean
unit_is_high (const Unit *u)
{
  return u->embed == NULL && u->unit >= 0xD800 && u->unit <= 0xDBFF;
}

static inline gboolean
unit_is_low (const Unit *u)
{
  return u->embed == NULL && u->unit >= 0xDC00 && u->unit <= 0xDFFF;
}

static gboolean
model_starts_char (GArray *units,
                   gint64  i)
{
  return !(i > 0 && unit_is_low (unit_at (units, i)) && unit_is_high (unit_at (units, i - 1)));
}

static gboolean
model_starts_run (GArray *units,
                  gint64  i)
{
  const Unit *u = unit_at (units, i);
  const Unit *before = i > 0 ? unit_at (units, i - 1) : NULL;

  return before == NULL || u->embed != NULL || before->embed != NULL ||
         u->attributes != before->attributes;
}

static gboolean
model_attributes_equal (PatchesValue *a,
                        PatchesValue *b)
{
  return a == b || (a != NULL && b != NULL && patches_value_equal (a, b));
}

/* What patches_rope_equal() must say. */
static gboolean
model_equal (GArray *a,
             GArray *b)
{
  if (a->len != b->len)
    return FALSE;

  for (guint i = 0; i < a->len; i++)
    {
      const Unit *x = unit_at (a, i);
      const Unit *y = unit_at (b, i);

      if (x->unit != y->unit || (x->embed == NULL) != (y->embed == NULL))
        return FALSE;
      if (x->embed != NULL && !patches_value_equal (x->embed, y->embed))
        return FALSE;
      if (model_starts_run (a, i) != model_starts_run (b, i))
        return FALSE;
      if (!model_attributes_equal (x->attributes, y->attributes))
        return FALSE;
    }

  return TRUE;
}

static void
model_insert (GArray          *units,
              gint64           pos,
              const gunichar2 *text,
              gsize            length,
              PatchesValue    *embed,
              PatchesValue    *attributes,
              gboolean         attributes_first)
{
  Unit u = { 0xFFFC, attributes != NULL && attributes_first, embed, attributes };

  if (embed != NULL)
    {
      g_array_insert_val (units, pos, u);
      return;
    }
  for (gsize i = 0; i < length; i++)
    {
      u.unit = text[i];
      g_array_insert_val (units, pos + i, u);
    }
}

/* A rope built from scratch run by run: the same content as the model,
 * other leaves. */
static PatchesRope *
rope_from_model (GArray *units)
{
  g_autoptr(GArray) text = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  PatchesRope *rope = patches_rope_new ();
  guint i = 0;

  while (i < units->len)
    {
      const Unit *u = unit_at (units, i);

      if (u->embed != NULL)
        {
          patches_rope_append (rope, NULL, 0, u->embed, u->attributes, u->attributes_first);
          i++;
          continue;
        }

      g_array_set_size (text, 0);
      for (; i < units->len; i++)
        {
          const Unit *w = unit_at (units, i);

          if (w->embed != NULL || w->attributes != u->attributes ||
              w->attributes_first != u->attributes_first)
            break;
          g_array_append_val (text, w->unit);
        }
      patches_rope_append (rope, (gunichar2 *) text->data, text->len, NULL,
                           u->attributes, u->attributes_first);
    }

  return rope;
}

static void
check_leaf (const PatchesRopeLeaf *leaf,
            GArray                *units,
            gint64                 start,
            const Gen             *gen)
{
  g_assert_cmpuint (leaf->length, >, 0);
  g_assert_cmpint (start + leaf->length, <=, units->len);
  if (leaf->embed != NULL)
    {
      g_assert_cmpuint (leaf->length, ==, 1);
      g_assert_null (leaf->text);
    }
  else
    {
      g_assert_nonnull (leaf->text);
      g_assert_cmpuint (leaf->length, <=, gen->leaf_max);
    }

  for (guint i = 0; i < leaf->length; i++)
    {
      const Unit *u = unit_at (units, start + i);

      g_assert_true (leaf->embed == u->embed);
      g_assert_true (leaf->attributes == u->attributes);
      g_assert_cmpint (leaf->attributes_first, ==, u->attributes_first);
      if (leaf->embed == NULL)
        g_assert_cmpuint (leaf->text[i], ==, u->unit);
    }
}

/* Everything readable from @rope against @units: the leaves in both
 * directions, seeks, offsets, the counters. */
static void
check_rope (const PatchesRope *rope,
            GArray            *units,
            Gen               *gen)
{
  g_autoptr(GPtrArray) leaves = g_ptr_array_new ();
  g_autoptr(GArray) starts = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree gint64 *char_starts = NULL;
  g_autofree gint64 *n_chars_before = NULL;
  PatchesRopeLeaf *leaf;
  PatchesRopeIter iter;
  gint64 n_chars = 0;
  gint64 pos = 0;
  gint64 len = units->len;

  patches_rope_check (rope);

  /* Characters: where each starts, how many before each unit. */
  n_chars_before = g_new (gint64, len + 1);
  char_starts = g_new (gint64, len + 1);
  for (gint64 i = 0; i < len; i++)
    {
      n_chars_before[i] = n_chars;
      if (model_starts_char (units, i))
        char_starts[n_chars++] = i;
    }
  n_chars_before[len] = n_chars;
  g_assert_cmpint (rope->length, ==, len);
  g_assert_cmpint (rope->n_chars, ==, n_chars);

  /* Forwards */
  leaf = patches_rope_iter_init_first (&iter, rope);
  while (leaf != NULL)
    {
      PatchesRopeLeaf *peeked;

      g_assert_true (patches_rope_iter_get_leaf (&iter) == leaf);
      g_assert_cmpint (patches_rope_iter_get_start (&iter), ==, pos);
      g_assert_true (patches_rope_iter_peek_prev (&iter) ==
                     (leaves->len > 0 ? g_ptr_array_index (leaves, leaves->len - 1) : NULL));
      check_leaf (leaf, units, pos, gen);
      g_ptr_array_add (leaves, leaf);
      g_array_append_val (starts, pos);
      pos += leaf->length;

      peeked = patches_rope_iter_peek_next (&iter);
      leaf = patches_rope_iter_next (&iter);
      g_assert_true (leaf == peeked);
    }
  g_assert_cmpint (pos, ==, len);
  if (len == 0)
    g_assert_cmpuint (leaves->len, ==, 0);
  else
    {
      /* At the end the iterator stays on the last leaf. */
      g_assert_true (patches_rope_iter_get_leaf (&iter) == g_ptr_array_index (leaves, leaves->len - 1));
      g_assert_cmpint (patches_rope_iter_get_start (&iter), ==, g_array_index (starts, gint64, starts->len - 1));
    }

  /* Backwards */
  leaf = patches_rope_iter_init_last (&iter, rope);
  for (guint i = leaves->len; i-- > 0;)
    {
      g_assert_true (leaf == g_ptr_array_index (leaves, i));
      g_assert_cmpint (patches_rope_iter_get_start (&iter), ==, g_array_index (starts, gint64, i));
      leaf = patches_rope_iter_prev (&iter);
    }
  g_assert_null (leaf);
  if (leaves->len > 0)
    g_assert_true (patches_rope_iter_get_leaf (&iter) == g_ptr_array_index (leaves, 0));

  /* Seeking, at both ends and a few random places (clamped outside). */
  for (guint k = 0; k < 6; k++)
    {
      gint64 at = k == 0 ? 0 : k == 1 ? len : (gint64) gen_int (gen, len + 3) - 1;
      gint64 clamped = CLAMP (at, 0, len);
      gint64 offset = -1;
      gint64 iter_offset = -1;
      guint index;

      leaf = patches_rope_seek (rope, at, &offset);
      g_assert_true (patches_rope_iter_init_at (&iter, rope, at, &iter_offset) == leaf);
      g_assert_cmpint (iter_offset, ==, offset);
      if (len == 0)
        {
          g_assert_null (leaf);
          g_assert_cmpint (offset, ==, 0);
          continue;
        }

      g_assert_nonnull (leaf);
      g_assert_true (patches_rope_iter_get_leaf (&iter) == leaf);
      g_assert_cmpint (patches_rope_iter_get_start (&iter) + offset, ==, clamped);
      g_assert_true (g_ptr_array_find (leaves, leaf, &index));
      g_assert_cmpint (g_array_index (starts, gint64, index), ==, patches_rope_iter_get_start (&iter));
      if (clamped < len)
        g_assert_cmpint (offset, <, leaf->length);
      else
        {
          g_assert_cmpint (offset, ==, leaf->length);
          g_assert_cmpuint (index, ==, leaves->len - 1);
        }
      g_assert_true (patches_rope_iter_peek_prev (&iter) == (index > 0 ? g_ptr_array_index (leaves, index - 1) : NULL));
      g_assert_true (patches_rope_iter_peek_next (&iter) ==
                     (index + 1 < leaves->len ? g_ptr_array_index (leaves, index + 1) : NULL));
    }

  /* Offsets both ways, out of range included. */
  for (guint k = 0; k < 6; k++)
    {
      gint64 u = (gint64) gen_int (gen, len + 3) - 1;
      gint64 c = (gint64) gen_int (gen, n_chars + 3) - 1;
      gint64 expect;

      if (u <= 0)
        expect = 0;
      else if (u >= len)
        expect = n_chars;
      else
        /* Inside a pair: the character the pair encodes. */
        expect = n_chars_before[u] - !model_starts_char (units, u);
      g_assert_cmpint (patches_rope_char_offset (rope, u), ==, expect);

      expect = c <= 0 ? 0 : c >= n_chars ? len : char_starts[c];
      g_assert_cmpint (patches_rope_utf16_offset (rope, c), ==, expect);
    }
}

static void
check_rope_version (RopeVersion *v,
                    Gen         *gen)
{
  check_rope (v->rope, v->units, gen);
}

/* One random edit, so that it can be made on two versions alike. */
typedef enum {
  ROPE_OP_INSERT_PLAIN,
  ROPE_OP_INSERT_RUN,
  ROPE_OP_DELETE,
  ROPE_OP_SET_ATTRIBUTES,
} RopeOpKind;

typedef struct {
  RopeOpKind    kind;
  gint64        pos;
  gint64        length;        /* units to delete */
  GArray       *text;          /* gunichar2 */
  PatchesValue *embed;         /* borrowed from the Gen */
  PatchesValue *attributes;    /* borrowed from the Gen */
  gboolean      attributes_first;
} RopeOp;

/* An edit of a rope of @length units, which should stay around @target
 * units long. */
static void
gen_rope_op (Gen    *gen,
             RopeOp *op,
             gint64  length,
             gint64  target)
{
  double p_delete = length > target ? 0.65 : 0.3;

  op->pos = gen_int (gen, length + 1);
  op->length = 0;
  op->embed = NULL;
  op->attributes = NULL;
  op->attributes_first = gen_chance (gen, 0.5);
  g_array_set_size (op->text, 0);

  if (length > 0 && gen_chance (gen, 0.1))
    {
      op->kind = ROPE_OP_SET_ATTRIBUTES;
      op->pos = gen_int (gen, length);
      op->attributes = gen_chance (gen, 0.7) ? gen_attributes (gen) : NULL;
    }
  else if (length > 0 && gen_chance (gen, p_delete))
    {
      op->kind = ROPE_OP_DELETE;
      op->pos = gen_int (gen, length);
      /* Now and then a long one, sometimes past the end. */
      op->length = 1 + gen_int (gen, gen_chance (gen, 0.05) ? length : 6);
    }
  else if (gen_chance (gen, 0.6))
    {
      op->kind = ROPE_OP_INSERT_PLAIN;
      gen_text (gen, op->text, 1, gen_chance (gen, 0.03) ? 3 * gen->leaf_max : 3);
    }
  else
    {
      op->kind = ROPE_OP_INSERT_RUN;
      op->attributes = gen_chance (gen, 0.8) ? gen_attributes (gen) : NULL;
      if (gen_chance (gen, 0.25))
        op->embed = gen_embed (gen);
      else
        gen_text (gen, op->text, 1, gen_chance (gen, 0.05) ? 2 * gen->leaf_max : 4);
    }
}

static guint
div_up (guint a,
        guint b)
{
  return (a + b - 1) / b;
}

/* Makes @op on @v and its model.  @shared: @v's rope is known to share
 * its tree.  Returns how many leaves the edit may have made new. */
static guint
rope_op_apply (Gen          *gen,
               const RopeOp *op,
               RopeVersion  *v,
               gboolean      shared)
{
  const gunichar2 *text = (const gunichar2 *) op->text->data;
  guint length = op->text->len;

  switch (op->kind)
    {
    case ROPE_OP_INSERT_PLAIN:
      patches_rope_insert_plain (v->rope, op->pos, text, length);
      model_insert (v->units, op->pos, text, length, NULL, NULL, FALSE);
      /* The leaf written and what its overflow makes, or the two halves
       * of a split leaf and the new ones. */
      return 2 + div_up (gen->leaf_max + length, gen->leaf_fill);

    case ROPE_OP_INSERT_RUN:
      patches_rope_insert_run (v->rope, op->pos, text, length, op->embed, op->attributes,
                               op->attributes_first);
      model_insert (v->units, op->pos, text, length, op->embed, op->attributes,
                    op->attributes_first);
      return 2 + MAX (1, div_up (length, gen->leaf_fill));

    case ROPE_OP_DELETE:
      patches_rope_delete (v->rope, op->pos, op->length);
      g_array_remove_range (v->units, op->pos, MIN (op->length, (gint64) v->units->len - op->pos));
      /* The two leaves cut into, and two joined with small ones. */
      return 4;

    case ROPE_OP_SET_ATTRIBUTES:
    default:
      {
        PatchesRopeIter iter;
        PatchesRopeIter again;
        PatchesRopeLeaf *leaf;
        PatchesRopeLeaf *mutable;
        gint64 offset;
        gint64 start;
        gboolean attributes_first = op->attributes != NULL && op->attributes_first;

        leaf = patches_rope_iter_init_at (&iter, v->rope, op->pos, &offset);
        start = patches_rope_iter_get_start (&iter);
        mutable = patches_rope_iter_make_mutable (v->rope, &iter);
        g_assert_nonnull (mutable);
        if (shared)
          g_assert_true (mutable != leaf);

        /* The same content, and the iterator still valid. */
        g_assert_true (patches_rope_iter_get_leaf (&iter) == mutable);
        g_assert_cmpint (patches_rope_iter_get_start (&iter), ==, start);
        g_assert_true (patches_rope_iter_init_at (&again, v->rope, op->pos, &offset) == mutable);
        g_assert_true (patches_rope_iter_peek_prev (&iter) == patches_rope_iter_peek_prev (&again));
        g_assert_true (patches_rope_iter_peek_next (&iter) == patches_rope_iter_peek_next (&again));
        check_leaf (mutable, v->units, start, gen);

        patches_rope_leaf_set_attributes (v->rope, mutable, op->attributes);
        mutable->attributes_first = attributes_first;
        g_assert_true (mutable->attributes == op->attributes);
        for (guint i = 0; i < mutable->length; i++)
          {
            unit_at (v->units, start + i)->attributes = op->attributes;
            unit_at (v->units, start + i)->attributes_first = attributes_first;
          }
        return 1;
      }
    }
}

/* Makes @op on @v.  With @witness, a copy taken before must come out of
 * it unchanged, still sharing all but a few leaves with @v. */
static void
rope_op_apply_checked (Gen          *gen,
                       const RopeOp *op,
                       RopeVersion  *v,
                       gboolean      witness,
                       RopeStats    *stats)
{
  g_autoptr(GArray) old_units = NULL;
  g_autoptr(GHashTable) old_leaves = NULL;
  PatchesRope *old = NULL;
  PatchesRopeNode *old_root = NULL;
  guint bound;

  if (witness)
    {
      old = patches_rope_copy (v->rope);
      old_root = old->root;
      g_assert_true (old_root == v->rope->root);
      old_units = g_array_copy (v->units);
      old_leaves = leaf_set (old);
    }

  bound = rope_op_apply (gen, op, v, witness);
  check_rope_version (v, gen);
  stats->n_steps++;

  if (witness)
    {
      guint n_kept;
      guint n_new = count_new_leaves (v->rope, old_leaves, &n_kept);

      if (n_new > bound)
        g_test_message ("op %d at %" G_GINT64_FORMAT ": %u new leaves, at most %u expected",
                        op->kind, op->pos, n_new, bound);
      g_assert_cmpuint (n_new, <=, bound);
      stats->n_kept += n_kept;
      stats->n_witnessed++;

      g_assert_true (old->root == old_root);
      check_rope (old, old_units, gen);
      g_assert_cmpint (rope_equal (old, v->rope), ==, model_equal (old_units, v->units));
      patches_rope_free (old);
    }
}

/* @v against a rope built apart from its model, and against ropes built
 * from slightly changed models. */
static void
check_equal_rebuilt (Gen         *gen,
                     RopeVersion *v,
                     RopeStats   *stats)
{
  g_autoptr(GArray) units = g_array_copy (v->units);
  PatchesRope *rebuilt = rope_from_model (units);
  gint64 i;

  check_rope (rebuilt, units, gen);
  g_assert_true (rope_equal (v->rope, rebuilt));
  patches_rope_free (rebuilt);

  if (units->len == 0)
    return;

  i = gen_int (gen, units->len);
  switch (gen_int (gen, 4))
    {
    case 0:
      /* Another unit (or an embed in place of text, or the reverse) */
      if (unit_at (units, i)->embed != NULL)
        {
          unit_at (units, i)->embed = gen_chance (gen, 0.5) ? gen_embed (gen) : NULL;
          if (unit_at (units, i)->embed == NULL)
            unit_at (units, i)->unit = 'e';
        }
      else if (gen_chance (gen, 0.2))
        {
          unit_at (units, i)->embed = gen_embed (gen);
          unit_at (units, i)->unit = 0xFFFC;
        }
      else
        unit_at (units, i)->unit ^= 1 + gen_int (gen, 3);
      break;
    case 1:
      /* The same run with the equal map at the other address */
      {
        PatchesValue *attributes = unit_at (units, i)->attributes;
        gint64 start = i;
        gint64 end = i + 1;

        if (attributes == NULL)
          break;
        while (start > 0 && !model_starts_run (units, start))
          start--;
        while (end < units->len && !model_starts_run (units, end))
          end++;
        for (gint64 j = start; j < end; j++)
          unit_at (units, j)->attributes = gen_twin (gen, attributes);
      }
      break;
    case 2:
      /* Other attributes on one unit */
      unit_at (units, i)->attributes = gen_chance (gen, 0.3) ? NULL : gen_attributes (gen);
      unit_at (units, i)->attributes_first = unit_at (units, i)->attributes != NULL;
      break;
    default:
      /* The member order flag, which equality ignores */
      if (unit_at (units, i)->attributes != NULL)
        unit_at (units, i)->attributes_first = !unit_at (units, i)->attributes_first;
      break;
    }

  rebuilt = rope_from_model (units);
  check_rope (rebuilt, units, gen);
  if (model_equal (v->units, units))
    stats->n_equal++;
  else
    stats->n_unequal++;
  g_assert_cmpint (rope_equal (v->rope, rebuilt), ==, model_equal (v->units, units));
  patches_rope_free (rebuilt);
}

/* Versions of one rope edited in random order.  @target: the length the
 * ropes hover around. */
static void
run_rope_versions (guint n_steps,
                   guint leaf_max,
                   guint node_max,
                   guint target,
                   guint max_versions)
{
  guint32 seed = test_seed ();
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func (rope_version_free);
  g_autoptr(GArray) text = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  RopeOp op = { 0, };
  RopeStats stats = { 0, };
  guint n_compares = n_attribute_compares;
  Gen gen;

  gen_init (&gen, seed);
  gen_set_limits (&gen, leaf_max, node_max);
  op.text = g_array_new (FALSE, FALSE, sizeof (gunichar2));

  /* A start: random runs, up to the target length. */
  {
    GArray *units = g_array_new (FALSE, FALSE, sizeof (Unit));
    guint length = target / 2 + gen_int (&gen, target / 2 + 1);

    while (units->len < length)
      {
        PatchesValue *attributes = gen_chance (&gen, 0.5) ? gen_attributes (&gen) : NULL;

        if (gen_chance (&gen, 0.1))
          model_insert (units, units->len, NULL, 0, gen_embed (&gen), attributes, gen_chance (&gen, 0.5));
        else
          {
            gen_text (&gen, text, 1, 40);
            model_insert (units, units->len, (gunichar2 *) text->data, text->len, NULL,
                          attributes, gen_chance (&gen, 0.5));
          }
      }
    g_ptr_array_add (versions, rope_version_new (rope_from_model (units), units));
    check_rope_version (g_ptr_array_index (versions, 0), &gen);
  }

  for (guint step = 0; step < n_steps; step++)
    {
      RopeVersion *v = g_ptr_array_index (versions, gen_chance (&gen, 0.5) ? versions->len - 1 : gen_int (&gen, versions->len));

      if (gen_chance (&gen, 0.2))
        {
          RopeVersion *fork = rope_version_new (patches_rope_copy (v->rope), g_array_copy (v->units));

          g_assert_true (fork->rope->root == v->rope->root);
          g_assert_true (rope_equal (fork->rope, v->rope));
          g_ptr_array_add (versions, fork);

          /* The same edit on both: equal, though built apart. */
          if (gen_chance (&gen, 0.3))
            {
              do
                gen_rope_op (&gen, &op, v->units->len, target);
              while (op.kind == ROPE_OP_SET_ATTRIBUTES);
              rope_op_apply_checked (&gen, &op, v, FALSE, &stats);
              rope_op_apply_checked (&gen, &op, fork, gen_chance (&gen, 0.5), &stats);
              check_rope_version (v, &gen);
              g_assert_true (rope_equal (fork->rope, v->rope));
            }
          if (gen_chance (&gen, 0.5))
            v = fork;
        }

      gen_rope_op (&gen, &op, v->units->len, target);
      rope_op_apply_checked (&gen, &op, v, gen_chance (&gen, 0.4), &stats);

      /* Too many versions: drop one, the others must not mind. */
      if (versions->len > max_versions)
        g_ptr_array_remove_index_fast (versions, gen_int (&gen, versions->len));

      /* Every version is intact. */
      for (guint i = 0; i < versions->len; i++)
        {
          RopeVersion *w = g_ptr_array_index (versions, i);

          check_rope_version (w, &gen);
          stats.max_leaves = MAX (stats.max_leaves, count_leaves (w->rope));
        }

      /* Equality, against the models */
      for (guint k = 0; k < 2; k++)
        {
          RopeVersion *a = g_ptr_array_index (versions, gen_int (&gen, versions->len));
          RopeVersion *b = g_ptr_array_index (versions, gen_int (&gen, versions->len));
          gboolean expect = model_equal (a->units, b->units);

          g_assert_cmpint (rope_equal (a->rope, b->rope), ==, expect);
          if (expect)
            stats.n_equal++;
          else
            stats.n_unequal++;
        }
      if (gen_chance (&gen, 0.2))
        check_equal_rebuilt (&gen, g_ptr_array_index (versions, gen_int (&gen, versions->len)), &stats);
    }

  g_test_message ("%u edits, %u witnessed keeping %u leaves shared, up to %u leaves, "
                  "%u equal and %u unequal comparisons, %u attribute comparisons",
                  stats.n_steps, stats.n_witnessed, stats.n_kept, stats.max_leaves,
                  stats.n_equal, stats.n_unequal, n_attribute_compares - n_compares);

  /* The run did what it is for: big trees, shared leaves, both answers
   * of the comparison, and maps compared by content. */
  g_assert_cmpuint (stats.n_witnessed, >, n_steps / 5);
  g_assert_cmpuint (stats.max_leaves, >, 20);
  g_assert_cmpuint (stats.n_kept, >, stats.n_witnessed * 10);
  g_assert_cmpuint (stats.n_equal, >, n_steps / 20);
  g_assert_cmpuint (stats.n_unequal, >, n_steps / 20);
  g_assert_cmpuint (n_attribute_compares - n_compares, >, 0);

  g_array_unref (op.text);
  g_clear_pointer (&versions, g_ptr_array_unref);
  gen_clear (&gen);
  patches_rope_set_limits_for_testing (0, 0);
}

/* Leaves of 512 units, 32 children per branch (the defaults). */
static void
test_versions_default (void)
{
  run_rope_versions (n_cases (400, 15), 512, 32, 12000, 8);
}

/* Small leaves and branches: splits, merges and height changes all the
 * time. */
static void
test_versions_small_nodes (void)
{
  run_rope_versions (n_cases (2500, 15), 8, 3, 300, 12);
}

/* The smallest leaves allowed. */
static void
test_versions_tiny_leaves (void)
{
  run_rope_versions (n_cases (1500, 15), 4, 4, 150, 12);
}

/* ------------------------------------------------------------------ */
/* Text values: copies edited apart, against the delta reference       */
/* ------------------------------------------------------------------ */

static char *
delta_json (const PatchesDelta *delta)
{
  GString *out = g_string_new (NULL);

  patches_delta_write_json (delta, out);
  g_assert_cmpuint (out->len, ==, patches_delta_json_size (delta));
  return g_string_free (out, FALSE);
}

/* The JSON of a text value, checked against its computed size. */
static char *
text_json (const PatchesText *text)
{
  GString *out = g_string_new (NULL);

  patches_text_write_json (text, out);
  g_assert_cmpuint (out->len, ==, patches_text_json_size (text));
  return g_string_free (out, FALSE);
}

static char *
expected_json (const PatchesDelta *reference)
{
  g_autofree char *ops = delta_json (reference);

  return g_strdup_printf ("{\"ops\":%s}", ops);
}

/* A regular document: runs with or without attributes, embeds, a final
 * newline. */
static PatchesDelta *
gen_document (Gen *gen)
{
  g_autoptr(GArray) text = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  PatchesDelta *doc = patches_delta_new ();
  guint n_runs = gen_int (gen, gen_chance (gen, 0.2) ? 40 : 8);

  for (guint i = 0; i < n_runs; i++)
    {
      PatchesDeltaOp op = { PATCHES_DELTA_INSERT, 1, NULL, NULL, NULL };

      op.attributes = gen_chance (gen, 0.5) ? gen_attributes (gen) : NULL;
      if (gen_chance (gen, 0.1))
        op.embed = gen_embed (gen);
      else
        {
          gen_text (gen, text, 1, gen_chance (gen, 0.05) ? 4 * gen->leaf_max : 12);
          op.text = (gunichar2 *) text->data;
          op.length = text->len;
        }
      patches_delta_push_ordered (doc, &op, gen_chance (gen, 0.5));
    }
  patches_delta_insert_utf16 (doc, (const gunichar2 *) u"\n", 1, NULL);

  return doc;
}

/* A change against a document of @length units: mostly edits inside the
 * text, sometimes formatting, now and then past the end. */
static PatchesDelta *
gen_change (Gen    *gen,
            gint64  length)
{
  g_autoptr(GArray) text = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  PatchesDelta *change = patches_delta_new ();
  guint n_ops = 1 + gen_int (gen, 5);
  gint64 base = 0;

  for (guint i = 0; i < n_ops; i++)
    {
      PatchesDeltaOp op = { PATCHES_DELTA_RETAIN, 0, NULL, NULL, NULL };
      gint64 room = length - 1 - base;
      guint k = gen_int (gen, 10);

      if (k < 4)
        {
          if (room < 0)
            continue;
          op.length = 1 + gen_int (gen, MIN (room + 1, 30));
          if (gen_chance (gen, 0.1))
            op.attributes = gen_chance (gen, 0.3) ? gen->no_bold : gen_attributes (gen);
          base += op.length;
        }
      else if (k < 7)
        {
          if (room < 0)
            continue;
          op.kind = PATCHES_DELTA_INSERT;
          if (gen_chance (gen, 0.25))
            op.attributes = gen_attributes (gen);
          if (gen_chance (gen, 0.05))
            {
              op.length = 1;
              op.embed = gen_embed (gen);
            }
          else
            {
              gen_text (gen, text, 1, gen_chance (gen, 0.05) ? 2 * gen->leaf_max : 4);
              op.text = (gunichar2 *) text->data;
              op.length = text->len;
            }
        }
      else
        {
          if (room <= 0)
            continue;
          op.kind = PATCHES_DELTA_DELETE;
          op.length = 1 + gen_int (gen, MIN (room, 10));
          base += op.length;
        }
      patches_delta_push_ordered (change, &op, gen_chance (gen, 0.5));
    }

  /* Past the end: an overrun, or the final newline deleted */
  if (gen_chance (gen, 0.03))
    patches_delta_retain (change, length - base + gen_int (gen, 5), NULL);
  else if (gen_chance (gen, 0.02) && length - 1 - base >= 0)
    {
      patches_delta_retain (change, length - 1 - base, NULL);
      patches_delta_delete (change, 1 + gen_int (gen, 3));
    }

  return change;
}

typedef struct {
  PatchesText  *text;
  PatchesDelta *reference;
} TextVersion;

static void
text_version_free (gpointer data)
{
  TextVersion *v = data;

  patches_text_free (v->text);
  patches_delta_free (v->reference);
  g_free (v);
}

/* Two texts held as deltas compare as deltas, not as ropes. */
static gboolean
reference_equal (const PatchesDelta *a,
                 const PatchesDelta *b)
{
  g_autoptr(PatchesText) ta = patches_text_new_from_delta (patches_delta_copy (a));
  g_autoptr(PatchesText) tb = patches_text_new_from_delta (patches_delta_copy (b));

  g_assert_false (patches_text_has_rope (ta));
  g_assert_false (patches_text_has_rope (tb));
  return patches_text_equal (ta, tb);
}

static void
check_text_version (TextVersion *v)
{
  g_autofree char *expect = expected_json (v->reference);
  g_autofree char *got = text_json (v->text);

  g_assert_cmpstr (got, ==, expect);
  g_assert_cmpint (patches_text_get_length (v->text), ==, patches_delta_length (v->reference));
  patches_text_check (v->text);
}

/* Applies @change to @v, text and reference. */
static void
text_version_apply (TextVersion        *v,
                    const PatchesDelta *change,
                    gboolean            legacy)
{
  gint64 expect_overrun = 0;
  PatchesDelta *next = patches_text_apply_reference (v->reference, change, legacy, &expect_overrun);

  g_assert_cmpint (patches_text_apply (v->text, change, legacy), ==, expect_overrun);
  patches_delta_free (v->reference);
  v->reference = next;
}

static void
run_text_versions (guint n_sequences,
                   guint leaf_max,
                   guint node_max)
{
  guint32 seed = test_seed ();
  guint n_compares = 0;
  guint n_rope_compares = 0;
  guint n_equal = 0;
  guint n_applied = 0;
  guint n_rope = 0;
  Gen gen;

  gen_init (&gen, seed);
  gen_set_limits (&gen, leaf_max, node_max);

  for (guint s = 0; s < n_sequences; s++)
    {
      g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func (text_version_free);
      guint n_steps = 1 + gen_int (&gen, 30);
      TextVersion *v = g_new0 (TextVersion, 1);

      v->reference = gen_document (&gen);
      v->text = patches_text_new_from_delta (patches_delta_copy (v->reference));
      g_ptr_array_add (versions, v);

      for (guint step = 0; step < n_steps; step++)
        {
          g_autoptr(PatchesDelta) change = NULL;

          v = g_ptr_array_index (versions, gen_chance (&gen, 0.5) ? versions->len - 1 : gen_int (&gen, versions->len));
          if (gen_chance (&gen, 0.4))
            {
              TextVersion *fork = g_new0 (TextVersion, 1);

              fork->text = patches_text_copy (v->text);
              fork->reference = patches_delta_copy (v->reference);
              g_ptr_array_add (versions, fork);
              g_assert_cmpint (patches_text_has_rope (fork->text), ==, patches_text_has_rope (v->text));
              g_assert_true (patches_text_equal (fork->text, v->text));
              check_text_version (fork);

              /* The same change on both: equal, built apart */
              if (gen_chance (&gen, 0.3))
                {
                  g_autoptr(PatchesDelta) same = gen_change (&gen, patches_delta_length (v->reference));

                  text_version_apply (v, same, FALSE);
                  text_version_apply (fork, same, FALSE);
                  check_text_version (v);
                  check_text_version (fork);
                  g_assert_true (patches_text_equal (fork->text, v->text));
                }
              if (gen_chance (&gen, 0.5))
                v = fork;
            }

          change = gen_change (&gen, patches_delta_length (v->reference));
          text_version_apply (v, change, gen_chance (&gen, 0.1));
          n_applied++;
          n_rope += patches_text_has_rope (v->text);

          /* Every version is intact */
          for (guint i = 0; i < versions->len; i++)
            check_text_version (g_ptr_array_index (versions, i));

          /* Equality against the delta comparison */
          for (guint k = 0; k < 3; k++)
            {
              TextVersion *a = g_ptr_array_index (versions, gen_int (&gen, versions->len));
              TextVersion *b = g_ptr_array_index (versions, gen_int (&gen, versions->len));
              gboolean expect = reference_equal (a->reference, b->reference);

              g_assert_cmpint (patches_text_equal (a->text, b->text), ==, expect);
              n_compares++;
              n_rope_compares += patches_text_has_rope (a->text) && patches_text_has_rope (b->text);
              n_equal += expect;
            }
        }
    }

  g_test_message ("%u changes, %u leaving a rope; %u comparisons, %u of two ropes, %u equal",
                  n_applied, n_rope, n_compares, n_rope_compares, n_equal);
  /* Mostly ropes, both answers. */
  g_assert_cmpuint (n_rope, >, n_applied / 2);
  g_assert_cmpuint (n_rope_compares, >, n_compares / 2);
  g_assert_cmpuint (n_equal, >, n_compares / 20);
  g_assert_cmpuint (n_equal, <, n_compares);

  gen_clear (&gen);
  patches_rope_set_limits_for_testing (0, 0);
}

static void
test_text_versions (void)
{
  run_text_versions (n_cases (200, 15), 512, 32);
}

static void
test_text_versions_small_nodes (void)
{
  run_text_versions (n_cases (200, 15), 8, 3);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Rope/basic/empty", test_basic_empty);
  g_test_add_func ("/Rope/basic/edits", test_basic_edits);
  g_test_add_func ("/Rope/copy-on-write", test_copy_on_write);
  g_test_add_func ("/Rope/equal", test_equal);
  g_test_add_func ("/Rope/versions/default", test_versions_default);
  g_test_add_func ("/Rope/versions/small-nodes", test_versions_small_nodes);
  g_test_add_func ("/Rope/versions/tiny-leaves", test_versions_tiny_leaves);
  g_test_add_func ("/Rope/text/versions", test_text_versions);
  g_test_add_func ("/Rope/text/versions-small-nodes", test_text_versions_small_nodes);

  return g_test_run ();
}
