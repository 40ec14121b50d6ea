/* test-text.c: the rich-text value of `@txt` (rope fast path, slow path,
 * overrun repair, JSON output, offsets)
 *
 * The central check: patches_text_apply() on a text value, fast path or
 * not, gives exactly what the reference rule gives (compose + overrun
 * repair done with the delta engine), JSON bytes included, over many
 * seeded random documents and changes.  Set PATCHES_TEST_SEED to replay a
 * seed and PATCHES_LONG_TESTS=1 to run 100 times as many cases.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches.h"
#include "patches-delta-private.h"
#include "patches-rope-private.h"
#include "patches-text-private.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static PatchesValue *
parse (const char *json)
{
  g_autoptr(GError) error = NULL;
  PatchesValue *value = patches_value_parse (json, -1, &error);

  g_assert_no_error (error);
  return value;
}

static PatchesDelta *
delta_parse (const char *json)
{
  g_autoptr(PatchesValue) value = parse (json);
  g_autoptr(GError) error = NULL;
  PatchesDelta *delta = patches_delta_from_value (value, &error);

  g_assert_no_error (error);
  return delta;
}

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

/* What the text's JSON must be: {"ops": <the reference delta>}. */
static char *
expected_json (const PatchesDelta *reference)
{
  g_autofree char *ops = delta_json (reference);

  return g_strdup_printf ("{\"ops\":%s}", ops);
}

/* Applies @change_json to a text built from @doc_json and returns the
 * resulting JSON. */
static char *
apply_json (const char *doc_json,
            const char *change_json,
            gboolean    legacy,
            gint64     *overrun)
{
  g_autoptr(PatchesText) text = patches_text_new_from_delta (delta_parse (doc_json));
  g_autoptr(PatchesDelta) change = delta_parse (change_json);
  gint64 n;

  n = patches_text_apply (text, change, legacy);
  if (overrun != NULL)
    *overrun = n;
  patches_text_check (text);
  return text_json (text);
}

/* ------------------------------------------------------------------ */
/* Fixed cases (OPERATIONS.md §6.10, §14.2)                            */
/* ------------------------------------------------------------------ */

static void
test_repair_examples (void)
{
  static const struct {
    const char *doc;
    const char *change;
    gboolean    legacy;
    const char *expect;
    gint64      overrun;
  } cases[] = {
    { "[{\"insert\":\"Short\\n\"}]", "[{\"retain\":21},{\"insert\":\"Long\"}]", FALSE,
      "{\"ops\":[{\"insert\":\"Short\\nLong\\n\"}]}", 15 },
    { "[{\"insert\":\"Short\\n\"}]", "[{\"retain\":21},{\"delete\":5}]", FALSE,
      "{\"ops\":[{\"insert\":\"Short\\n\"}]}", 20 },
    { "[{\"insert\":\"abc\\n\"}]", "[{\"retain\":10},{\"insert\":\"X\"}]", FALSE,
      "{\"ops\":[{\"insert\":\"abc\\nX\\n\"}]}", 6 },
    { "[{\"insert\":\"ab\\n\"}]", "[{\"retain\":30},{\"insert\":\"first\"},{\"retain\":5},{\"insert\":\"second\"}]", FALSE,
      "{\"ops\":[{\"insert\":\"ab\\nfirstsecond\\n\"}]}", 32 },
    { "[{\"insert\":\"ab\\n\"}]", "[{\"retain\":5},{\"insert\":\"X\"},{\"retain\":2},{\"insert\":\"Y\"}]", TRUE,
      "{\"ops\":[{\"insert\":\"ab\\n  X  Y\\n\"}]}", 0 },
    { "[{\"insert\":\"ab\\n\"}]", "[{\"retain\":2},{\"delete\":1}]", FALSE,
      "{\"ops\":[{\"insert\":\"ab\\n\"}]}", 0 },
    /* Empty base (an {"ops":[]} value): nothing to retain over. */
    { "[]", "[{\"retain\":2},{\"insert\":\"X\"}]", FALSE,
      "{\"ops\":[{\"insert\":\"X\\n\"}]}", 2 },
    { "[{\"insert\":\"\\n\"}]", "[{\"retain\":2},{\"insert\":\"X\"}]", FALSE,
      "{\"ops\":[{\"insert\":\"\\nX\\n\"}]}", 1 },
    /* A retain stored in the base is used as is (here chop drops it). */
    { "[{\"retain\":3}]", "[{\"insert\":\"q\"}]", FALSE,
      "{\"ops\":[{\"insert\":\"q\\n\"}]}", 0 },
    { "[{\"insert\":\"start \"},{\"insert\":{\"image\":\"a.png\"}},{\"insert\":\" end\\n\"}]",
      "[{\"retain\":40},{\"insert\":\"the note\"}]", FALSE,
      "{\"ops\":[{\"insert\":\"start \"},{\"insert\":{\"image\":\"a.png\"}},{\"insert\":\" end\\nthe note\\n\"}]}", 28 },
    /* Legacy padding carries the retain's attributes; a delete is
     * dropped either way. */
    { "[{\"insert\":\"a\\n\"}]", "[{\"retain\":4,\"attributes\":{\"b\":true}},{\"insert\":\"Z\"},{\"retain\":1},{\"delete\":2},{\"insert\":\"W\"}]", TRUE,
      "{\"ops\":[{\"insert\":\"a\\n  \",\"attributes\":{\"b\":true}},{\"insert\":\"Z W\\n\"}]}", 0 },
    /* A null attribute on an insert stays (§6.4). */
    { "[{\"insert\":\"ab\\n\"}]", "[{\"insert\":\"x\",\"attributes\":{\"bold\":null}}]", FALSE,
      "{\"ops\":[{\"insert\":\"x\",\"attributes\":{\"bold\":null}},{\"insert\":\"ab\\n\"}]}", 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gint64 overrun = -1;
      g_autofree char *got = apply_json (cases[i].doc, cases[i].change, cases[i].legacy, &overrun);

      g_test_message ("case %u: %s + %s", i, cases[i].doc, cases[i].change);
      g_assert_cmpstr (got, ==, cases[i].expect);
      g_assert_cmpint (overrun, ==, cases[i].overrun);
    }
}

/* §14.2 #30: live drops the overrun, legacy pads, and only the padded
 * text takes the follow-up delete cleanly. */
static void
test_repair_live_and_legacy (void)
{
  const char *opening = "she set the cup down ";
  g_autofree char *xs = g_strnfill (40, 'x');
  g_autofree char *doc = g_strdup_printf ("%s%s\n", xs, opening);
  gint64 length = strlen (doc);
  g_autofree char *doc_json = g_strdup_printf ("[{\"insert\":\"%s%s\\n\"}]", xs, opening);
  g_autofree char *change1 = g_strdup_printf ("[{\"retain\":%" G_GINT64_FORMAT "},{\"insert\":\"the note\"}]",
                                              length + (gint64) strlen (opening));
  g_autofree char *change2 = g_strdup_printf ("[{\"retain\":%" G_GINT64_FORMAT "},{\"delete\":%zu}]",
                                              length, strlen (opening));
  g_autoptr(PatchesText) live = patches_text_new_from_delta (delta_parse (doc_json));
  g_autoptr(PatchesText) legacy = patches_text_new_from_delta (delta_parse (doc_json));
  g_autoptr(PatchesDelta) c1 = delta_parse (change1);
  g_autoptr(PatchesDelta) c2 = delta_parse (change2);
  g_autofree char *expect_live = g_strdup_printf ("%sthe note\n", doc);
  g_autofree char *spaces = g_strnfill (strlen (opening), ' ');
  g_autofree char *expect_legacy = g_strdup_printf ("%s%sthe note\n", doc, spaces);
  g_autofree char *live_plain = NULL;
  g_autofree char *legacy_plain = NULL;
  g_autofree char *after_delete = NULL;

  g_assert_cmpint (patches_text_apply (live, c1, FALSE), ==, strlen (opening));
  g_assert_cmpint (patches_text_apply (legacy, c1, TRUE), ==, 0);
  live_plain = patches_text_to_plain (live);
  legacy_plain = patches_text_to_plain (legacy);
  g_assert_cmpstr (live_plain, ==, expect_live);
  g_assert_cmpstr (legacy_plain, ==, expect_legacy);

  g_assert_cmpint (patches_text_apply (legacy, c2, TRUE), ==, 0);
  after_delete = patches_text_to_plain (legacy);
  g_assert_cmpstr (after_delete, ==, expect_live);

  /* Live, the same delete eats real text. */
  patches_text_apply (live, c2, FALSE);
  g_clear_pointer (&live_plain, g_free);
  live_plain = patches_text_to_plain (live);
  g_assert_cmpstr (live_plain, !=, expect_live);
}

/* ------------------------------------------------------------------ */
/* JSON member order: what the reference's op objects look like        */
/* ------------------------------------------------------------------ */

static void
test_member_order (void)
{
  static const struct {
    const char *doc;
    const char *change;
    const char *expect;
  } cases[] = {
    /* Untouched: the stored order stays. */
    { "[{\"attributes\":{\"b\":1},\"insert\":\"abc\"},{\"insert\":\"\\n\"}]", "[{\"retain\":3}]",
      "{\"ops\":[{\"attributes\":{\"b\":1},\"insert\":\"abc\"},{\"insert\":\"\\n\"}]}" },
    { "[{\"insert\":\"abc\",\"attributes\":{\"b\":1}},{\"insert\":\"\\n\"}]", "[{\"retain\":4}]",
      "{\"ops\":[{\"insert\":\"abc\",\"attributes\":{\"b\":1}},{\"insert\":\"\\n\"}]}" },
    /* A retain ending inside the run: two pieces merged by push. */
    { "[{\"attributes\":{\"b\":1},\"insert\":\"abc\"},{\"insert\":\"\\n\"}]", "[{\"retain\":1}]",
      "{\"ops\":[{\"insert\":\"abc\",\"attributes\":{\"b\":1}},{\"insert\":\"\\n\"}]}" },
    /* An insert inside the run: two partial pieces. */
    { "[{\"insert\":\"abc\",\"attributes\":{\"b\":1}},{\"insert\":\"\\n\"}]", "[{\"retain\":1},{\"insert\":\"x\"}]",
      "{\"ops\":[{\"attributes\":{\"b\":1},\"insert\":\"a\"},{\"insert\":\"x\"},{\"attributes\":{\"b\":1},\"insert\":\"bc\"},{\"insert\":\"\\n\"}]}" },
    /* Deleting from the start: one partial piece. */
    { "[{\"insert\":\"abc\",\"attributes\":{\"b\":1}},{\"insert\":\"\\n\"}]", "[{\"delete\":1}]",
      "{\"ops\":[{\"attributes\":{\"b\":1},\"insert\":\"bc\"},{\"insert\":\"\\n\"}]}" },
    /* Deleting what separates two equal runs: merged, later attributes. */
    { "[{\"insert\":\"ab\",\"attributes\":{\"b\":1,\"i\":1}},{\"insert\":\"c\"},{\"attributes\":{\"i\":1,\"b\":1},\"insert\":\"de\"},{\"insert\":\"\\n\"}]",
      "[{\"retain\":2},{\"delete\":1}]",
      "{\"ops\":[{\"insert\":\"abde\",\"attributes\":{\"i\":1,\"b\":1}},{\"insert\":\"\\n\"}]}" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PatchesDelta) base = delta_parse (cases[i].doc);
      g_autoptr(PatchesDelta) change = delta_parse (cases[i].change);
      g_autoptr(PatchesDelta) reference = patches_text_apply_reference (base, change, FALSE, NULL);
      g_autofree char *reference_json = expected_json (reference);
      g_autoptr(PatchesText) text = patches_text_new_from_delta (patches_delta_copy (base));
      g_autofree char *got = NULL;

      patches_text_apply (text, change, FALSE);
      g_assert_true (patches_text_has_rope (text));
      got = text_json (text);
      g_assert_cmpstr (reference_json, ==, cases[i].expect);
      g_assert_cmpstr (got, ==, cases[i].expect);
    }
}

/* ------------------------------------------------------------------ */
/* Random documents and changes                                        */
/* ------------------------------------------------------------------ */

static const char * const attribute_pool[] = {
  "{\"bold\":true}",
  "{\"italic\":true}",
  "{\"bold\":true,\"italic\":true}",
  "{\"italic\":true,\"bold\":true}",
  "{\"link\":{\"href\":\"https://gnome.org\",\"title\":\"x\"}}",
  "{\"header\":1}",
  "{\"color\":\"#f00\",\"size\":1.5}",
};

static const char * const embed_pool[] = {
  "{\"image\":\"a.png\"}",
  "{\"formula\":\"e=mc^2\"}",
  "5",
};

typedef struct {
  GRand        *rand;
  PatchesValue *attributes[G_N_ELEMENTS (attribute_pool)];
  PatchesValue *embeds[G_N_ELEMENTS (embed_pool)];
} Gen;

static void
gen_init (Gen    *gen,
          guint32 seed)
{
  gen->rand = g_rand_new_with_seed (seed);
  for (guint i = 0; i < G_N_ELEMENTS (attribute_pool); i++)
    gen->attributes[i] = parse (attribute_pool[i]);
  for (guint i = 0; i < G_N_ELEMENTS (embed_pool); i++)
    gen->embeds[i] = parse (embed_pool[i]);
}

static void
gen_clear (Gen *gen)
{
  g_rand_free (gen->rand);
  for (guint i = 0; i < G_N_ELEMENTS (attribute_pool); i++)
    patches_value_unref (gen->attributes[i]);
  for (guint i = 0; i < G_N_ELEMENTS (embed_pool); i++)
    patches_value_unref (gen->embeds[i]);
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

/* Attributes: shared pointers or fresh but equal copies, so that both the
 * pointer and the deep comparisons are exercised. */
static PatchesValue *
gen_attributes (Gen *gen)
{
  guint i = gen_int (gen, G_N_ELEMENTS (attribute_pool));

  if (gen_chance (gen, 0.5))
    return patches_value_ref (gen->attributes[i]);
  return parse (attribute_pool[i]);
}

/* Random UTF-16 text: ASCII, a newline, Latin-1, a BMP CJK character and
 * astral emoji (surrogate pairs). */
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
      guint k = gen_int (gen, 20);
      gunichar2 c;

      if (k < 12)
        c = 'a' + gen_int (gen, 6);
      else if (k < 14)
        c = ' ';
      else if (k < 15)
        c = '\n';
      else if (k < 16)
        c = 0xE9;
      else if (k < 17)
        c = 0x6F22;
      else
        {
          gunichar2 pair[2] = { 0xD83D, 0xDE00 + gen_int (gen, 16) };

          g_array_append_vals (out, pair, 2);
          continue;
        }
      g_array_append_val (out, c);
    }
}

static void
push_text_op (PatchesDelta    *delta,
              const gunichar2 *text,
              gsize            length,
              PatchesValue    *attributes,
              gboolean         attributes_first)
{
  PatchesDeltaOp op = { PATCHES_DELTA_INSERT, length, (gunichar2 *) text, NULL, attributes };

  patches_delta_append_raw_ordered (delta, &op, attributes_first);
}

/* A document: usually regular, sometimes not (split plain runs, empty
 * attribute maps, no final newline, stray retains). */
static PatchesDelta *
gen_document (Gen *gen)
{
  g_autoptr(GArray) text = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  PatchesDelta *doc = patches_delta_new ();
  gboolean irregular = gen_chance (gen, 0.08);
  guint n_runs = gen_int (gen, gen_chance (gen, 0.1) ? 40 : 8);
  PatchesValue *previous = NULL;
  gboolean previous_text = FALSE;

  for (guint i = 0; i < n_runs; i++)
    {
      if (gen_chance (gen, 0.12))
        {
          g_autoptr(PatchesValue) attributes = gen_chance (gen, 0.3) ? gen_attributes (gen) : NULL;
          PatchesDeltaOp op = { PATCHES_DELTA_INSERT, 1, NULL, gen->embeds[gen_int (gen, G_N_ELEMENTS (embed_pool))], attributes };

          patches_delta_append_raw_ordered (doc, &op, gen_chance (gen, 0.5));
          previous_text = FALSE;
          continue;
        }

      {
        g_autoptr(PatchesValue) attributes = gen_chance (gen, 0.5) ? gen_attributes (gen) : NULL;

        /* Regular documents never have two equal runs side by side. */
        if (!irregular && previous_text && patches_attributes_equal (previous, attributes))
          continue;

        gen_text (gen, text, 1, gen_chance (gen, 0.05) ? 1200 : 12);
        push_text_op (doc, (gunichar2 *) text->data, text->len, attributes, gen_chance (gen, 0.5));
        previous = patches_delta_get_op (doc, patches_delta_get_n_ops (doc) - 1)->attributes;
        previous_text = TRUE;
      }
    }

  if (irregular)
    {
      switch (gen_int (gen, 4))
        {
        case 0:
          {
            g_autoptr(PatchesValue) empty = patches_value_new_object ();
            gunichar2 c[2] = { 'e', '\n' };

            push_text_op (doc, c, 2, empty, FALSE);
          }
          break;
        case 1:
          {
            PatchesDeltaOp op = { PATCHES_DELTA_RETAIN, 1 + gen_int (gen, 4), NULL, NULL, NULL };

            patches_delta_append_raw_ordered (doc, &op, FALSE);
          }
          break;
        case 2:
          push_text_op (doc, (const gunichar2 *) u"p", 1, NULL, FALSE);
          push_text_op (doc, (const gunichar2 *) u"q\n", 2, NULL, FALSE);
          break;
        default:
          /* No final newline. */
          return doc;
        }
      return doc;
    }

  /* End with a text insert ending in "\n". */
  {
    guint n = patches_delta_get_n_ops (doc);
    const PatchesDeltaOp *last = n > 0 ? patches_delta_get_op (doc, n - 1) : NULL;

    if (last == NULL || last->text == NULL || last->text[last->length - 1] != '\n')
      {
        g_autoptr(PatchesValue) attributes = gen_chance (gen, 0.2) ? gen_attributes (gen) : NULL;

        if (last != NULL && last->text != NULL && patches_attributes_equal (last->attributes, attributes))
          g_clear_pointer (&attributes, patches_value_unref);
        if (last != NULL && last->text != NULL && last->attributes == NULL && attributes == NULL)
          attributes = patches_value_ref (gen->attributes[5]);
        push_text_op (doc, (const gunichar2 *) u"\n", 1, attributes, gen_chance (gen, 0.5));
      }
  }

  return doc;
}

/* A change against a document of @length units: mostly plain edits inside
 * the text (the fast path), sometimes anything else. */
static PatchesDelta *
gen_change (Gen    *gen,
            gint64  length)
{
  g_autoptr(GArray) text = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  PatchesDelta *change = patches_delta_new ();
  gboolean wild = gen_chance (gen, 0.15);
  guint n_ops = 1 + gen_int (gen, gen_chance (gen, 0.2) ? 10 : 4);
  gint64 base = 0;

  for (guint i = 0; i < n_ops; i++)
    {
      guint k = gen_int (gen, 10);
      gint64 room = length - 1 - base;
      PatchesDeltaOp op = { PATCHES_DELTA_RETAIN, 0, NULL, NULL, NULL };
      g_autoptr(PatchesValue) attributes = NULL;

      if (wild && gen_chance (gen, 0.15))
        room += 1 + gen_int (gen, 6);

      if (k < 4)
        {
          op.kind = PATCHES_DELTA_RETAIN;
          if (room + 1 <= 0)
            continue;
          op.length = 1 + gen_int (gen, MIN (room + 1, gen_chance (gen, 0.3) ? 3 : 40));
          base += op.length;
        }
      else if (k < 7)
        {
          if (room < 0)
            continue;
          gen_text (gen, text, 1, gen_chance (gen, 0.05) ? 700 : 4);
          op.kind = PATCHES_DELTA_INSERT;
          op.text = (gunichar2 *) text->data;
          op.length = text->len;
          /* Typing with formatting on, and embeds. */
          if (gen_chance (gen, 0.25))
            op.attributes = attributes = gen_chance (gen, 0.1) ? patches_value_new_object () : gen_attributes (gen);
          if (gen_chance (gen, wild ? 0.2 : 0.05))
            {
              op.text = NULL;
              op.length = 1;
              op.embed = gen->embeds[gen_int (gen, G_N_ELEMENTS (embed_pool))];
            }
        }
      else
        {
          op.kind = PATCHES_DELTA_DELETE;
          if (room <= 0)
            continue;
          op.length = 1 + gen_int (gen, MIN (room, gen_chance (gen, 0.3) ? 2 : 20));
          base += op.length;
        }

      if (wild && op.kind != PATCHES_DELTA_DELETE && gen_chance (gen, 0.3))
        {
          /* Formatting; sometimes a null (removal), sometimes empty. */
          g_clear_pointer (&attributes, patches_value_unref);
          if (gen_chance (gen, 0.2))
            attributes = parse ("{\"bold\":null}");
          else if (gen_chance (gen, 0.1))
            attributes = patches_value_new_object ();
          else
            attributes = gen_attributes (gen);
          op.attributes = attributes;
        }
      /* Malformed but possible in JSON: {"retain":0}, {"insert":""}. */
      if (wild && op.embed == NULL && gen_chance (gen, 0.03))
        op.length = 0;

      patches_delta_append_raw_ordered (change, &op, gen_chance (gen, 0.5));
    }

  if (wild && gen_chance (gen, 0.3))
    {
      /* Past the end: an overrun, or a delete of the final newline. */
      if (gen_chance (gen, 0.5))
        patches_delta_retain (change, length - base + gen_int (gen, 5), NULL);
      else
        {
          if (length - 1 - base > 0)
            patches_delta_retain (change, length - 1 - base, NULL);
          patches_delta_delete (change, 1 + gen_int (gen, 3));
        }
    }

  return change;
}

/* Offsets and plain text, computed naively from the reference delta. */
static void
check_offsets (const PatchesText  *text,
               const PatchesDelta *reference,
               Gen                *gen)
{
  g_autoptr(GArray) units = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  g_autoptr(GArray) starts = g_array_new (FALSE, FALSE, sizeof (gboolean));
  g_autoptr(GString) plain = g_string_new (NULL);
  g_autofree char *got_plain = NULL;
  gint64 n_chars = 0;
  guint n = patches_delta_get_n_ops (reference);

  for (guint i = 0; i < n; i++)
    {
      const PatchesDeltaOp *op = patches_delta_get_op (reference, i);

      if (op->text != NULL)
        g_array_append_vals (units, op->text, op->length);
      else
        {
          gunichar2 c = 0xFFFC;

          g_array_append_val (units, c);
        }
    }

  for (guint i = 0; i < units->len; i++)
    {
      gunichar2 c = g_array_index (units, gunichar2, i);
      gboolean start = !(c >= 0xDC00 && c <= 0xDFFF && i > 0 &&
                         g_array_index (units, gunichar2, i - 1) >= 0xD800 &&
                         g_array_index (units, gunichar2, i - 1) <= 0xDBFF);

      g_array_append_val (starts, start);
      n_chars += start;

      if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units->len &&
          g_array_index (units, gunichar2, i + 1) >= 0xDC00 &&
          g_array_index (units, gunichar2, i + 1) <= 0xDFFF)
        {
          g_string_append_unichar (plain, 0x10000 + ((c - 0xD800) << 10) +
                                          (g_array_index (units, gunichar2, i + 1) - 0xDC00));
        }
      else if (!start)
        ;
      else if (c >= 0xD800 && c <= 0xDFFF)
        g_string_append_unichar (plain, 0xFFFD);
      else
        g_string_append_unichar (plain, c);
    }

  if (patches_text_get_length (text) != (gint64) units->len)
    {
      g_autofree char *a = text_json (text);
      g_autofree char *b = delta_json (reference);
      const PatchesDelta *td = patches_text_get_delta (text);
      g_printerr ("rope %d\n", patches_text_has_rope (text));
      for (guint i = 0; i < patches_delta_get_n_ops (td); i++)
        g_printerr ("t op %u kind %d len %ld text %d\n", i, patches_delta_get_op (td, i)->kind, (long) patches_delta_get_op (td, i)->length, patches_delta_get_op (td, i)->text != NULL);
      for (guint i = 0; i < patches_delta_get_n_ops (reference); i++)
        g_printerr ("r op %u kind %d len %ld text %d\n", i, patches_delta_get_op (reference, i)->kind, (long) patches_delta_get_op (reference, i)->length, patches_delta_get_op (reference, i)->text != NULL);
    }
  g_assert_cmpint (patches_text_get_length (text), ==, units->len);
  g_assert_cmpint (patches_text_get_n_chars (text), ==, n_chars);
  got_plain = patches_text_to_plain (text);
  g_assert_cmpstr (got_plain, ==, plain->str);
  g_assert_true (g_utf8_validate (got_plain, -1, NULL));
  g_assert_cmpint (g_utf8_strlen (got_plain, -1), ==, n_chars);

  for (guint k = 0; k < 4; k++)
    {
      gint64 u = gen_int (gen, units->len + 3) - 1;
      gint64 expect = 0;
      gint64 c;

      for (gint64 i = 0; i < MIN (u, (gint64) units->len); i++)
        expect += g_array_index (starts, gboolean, i);
      if (u > 0 && u < (gint64) units->len && !g_array_index (starts, gboolean, u))
        expect--;
      g_assert_cmpint (patches_text_char_offset_from_utf16_offset (text, u), ==, expect);

      c = gen_int (gen, n_chars + 3) - 1;
      expect = c <= 0 ? 0 : units->len;
      for (gint64 i = 0, seen = 0; c > 0 && i < (gint64) units->len; i++)
        if (g_array_index (starts, gboolean, i) && seen++ == c)
          {
            expect = i;
            break;
          }
      g_assert_cmpint (patches_text_utf16_offset_from_char_offset (text, c), ==, expect);
    }
}

static guint
n_random_cases_scaled (guint base,
                       guint long_factor)
{
  return g_getenv ("PATCHES_LONG_TESTS") != NULL ? base * long_factor : base;
}

static guint
n_random_cases (guint base)
{
  return n_random_cases_scaled (base, 100);
}

static guint32
test_seed (void)
{
  const char *env = g_getenv ("PATCHES_TEST_SEED");
  guint32 seed = env != NULL ? (guint32) g_ascii_strtoull (env, NULL, 0) : (guint32) g_test_rand_int ();

  g_test_message ("seed %u (replay with PATCHES_TEST_SEED=%u)", seed, seed);
  g_printerr ("# %s: seed %u\n", g_test_get_path (), seed);
  return seed;
}

/* Fast path (and everything else) against the reference, over sequences
 * of changes on one value, so that rope state carries from edit to edit. */
static void
run_against_reference (guint n_sequences,
                       guint n_min_applied)
{
  guint32 seed = test_seed ();
  guint n_applied = 0;
  guint n_fast = 0;
  guint n_attributed_fast = 0;
  Gen gen;

  gen_init (&gen, seed);

  for (guint s = 0; s < n_sequences; s++)
    {
      g_autoptr(PatchesDelta) reference = gen_document (&gen);
      g_autoptr(PatchesText) text = patches_text_new_from_delta (patches_delta_copy (reference));
      guint n_steps = 1 + gen_int (&gen, 6);

      for (guint step = 0; step < n_steps; step++)
        {
          g_autoptr(PatchesDelta) change = gen_change (&gen, patches_delta_length (reference));
          g_autoptr(PatchesDelta) next = NULL;
          g_autofree char *expect = NULL;
          g_autofree char *got = NULL;
          g_autofree char *got_delta = NULL;
          gboolean legacy = gen_chance (&gen, 0.2);
          gint64 expect_overrun = 0;
          gint64 overrun;

          g_autofree char *before = expected_json (reference);
          gboolean had_rope = patches_text_has_rope (text);

          next = patches_text_apply_reference (reference, change, legacy, &expect_overrun);
          overrun = patches_text_apply (text, change, legacy);
          n_applied++;
          if (patches_text_has_rope (text))
            {
              n_fast++;
              if (strstr (expect = expected_json (next), "attributes") != NULL)
                n_attributed_fast++;
              g_clear_pointer (&expect, g_free);
            }

          g_clear_pointer (&reference, patches_delta_free);
          reference = g_steal_pointer (&next);

          expect = expected_json (reference);
          got = text_json (text);
          if (g_strcmp0 (got, expect) != 0)
            {
              g_autofree char *change_json = delta_json (change);

              g_printerr ("# seed %u, sequence %u, step %u, rope before %d, change %s\n", seed, s, step, had_rope, change_json);
              g_printerr ("# before %s\n# got    %s\n# expect %s\n", before, got, expect);
              if (g_getenv ("PATCHES_TEST_DUMP") != NULL)
                {
                  g_autofree char *dump = g_strdup_printf ("%s\n%s\n%s\n%s\n", before, change_json, got, expect);

                  g_file_set_contents (g_getenv ("PATCHES_TEST_DUMP"), dump, -1, NULL);
                }
            }
          g_assert_cmpstr (got, ==, expect);
          g_assert_cmpint (overrun, ==, expect_overrun);
          patches_text_check (text);

          /* Every few steps, the other readers too (they fill caches, which
           * the next edit must drop). */
          if (gen_chance (&gen, 0.3))
            {
              g_autofree char *wrapped = NULL;

              got_delta = delta_json (patches_text_get_delta (text));
              wrapped = g_strdup_printf ("{\"ops\":%s}", got_delta);
              g_assert_cmpstr (wrapped, ==, expect);
            }
          if (gen_chance (&gen, 0.2))
            check_offsets (text, reference, &gen);
          if (gen_chance (&gen, 0.1))
            {
              g_autoptr(PatchesText) copy = patches_text_copy (text);
              g_autoptr(PatchesText) other = patches_text_new_from_delta (patches_delta_copy (reference));
              g_autoptr(PatchesValue) value = patches_text_to_value (text);
              g_autoptr(PatchesValue) wrapped = patches_value_new_text_take (patches_text_copy (text));
              g_autofree char *copy_json = text_json (copy);
              g_autofree char *value_json = patches_value_to_json (value);

              g_assert_cmpstr (copy_json, ==, expect);
              /* Plain values hold UTF-8, which has no lone surrogates
               * (they go through as WTF-8 bytes, not \\udXXX escapes). */
              if (strstr (expect, "\\ud") == NULL)
                g_assert_cmpstr (value_json, ==, expect);
              g_assert_true (patches_text_equal (copy, text));
              g_assert_true (patches_text_equal (other, text));
              g_assert_true (patches_value_equal (value, wrapped));
            }
        }
    }

  g_test_message ("%u changes applied, %u on the fast path (%u with attributed runs)",
                  n_applied, n_fast, n_attributed_fast);
  g_assert_cmpuint (n_applied, >=, n_min_applied);
  /* The generator is meant to exercise the fast path most of the time. */
  g_assert_cmpuint (n_fast, >, n_applied / 2);
  g_assert_cmpuint (n_attributed_fast, >, n_applied / 5);

  gen_clear (&gen);
}

static void
test_random_against_reference (void)
{
  run_against_reference (n_random_cases (4000), n_random_cases (10000));
}

/* ------------------------------------------------------------------ */
/* The rope on its own: long plain editing against a flat model        */
/* ------------------------------------------------------------------ */

static void
run_rope_model (guint n_edits)
{
  guint32 seed = test_seed ();
  g_autoptr(GArray) model = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  g_autoptr(GArray) text = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  g_autoptr(PatchesText) value = patches_text_new_plain ("");
  Gen gen;

  gen_init (&gen, seed);
  g_array_append_vals (model, u"\n", 1);

  for (guint i = 0; i < n_edits; i++)
    {
      g_autoptr(PatchesDelta) change = patches_delta_new ();
      gint64 length = model->len;
      gint64 pos = gen_int (&gen, length);

      if (gen_chance (&gen, 0.6) || length < 50)
        {
          gen_text (&gen, text, 1, gen_chance (&gen, 0.01) ? 3000 : 3);
          patches_delta_retain (change, pos, NULL);
          patches_delta_insert_utf16 (change, (gunichar2 *) text->data, text->len, NULL);
          g_array_insert_vals (model, pos, text->data, text->len);
        }
      else
        {
          gint64 n = 1 + gen_int (&gen, MIN (length - 1 - pos, gen_chance (&gen, 0.01) ? 2000 : 4) + 1);

          n = MIN (n, length - 1 - pos);
          if (n <= 0)
            continue;
          patches_delta_retain (change, pos, NULL);
          patches_delta_delete (change, n);
          g_array_remove_range (model, pos, n);
        }

      g_assert_cmpint (patches_text_apply (value, change, FALSE), ==, 0);
      g_assert_true (patches_text_has_rope (value));

      if (i % 997 == 0 || i + 1 == n_edits || g_getenv ("PATCHES_TEST_CHECK_ALL") != NULL)
        {
          g_autoptr(PatchesDelta) expect = patches_delta_new ();
          g_autofree char *expect_json = NULL;
          g_autofree char *got_json = NULL;

          patches_text_check (value);
          patches_delta_insert_utf16 (expect, (gunichar2 *) model->data, model->len, NULL);
          expect_json = expected_json (expect);
          got_json = text_json (value);
          g_assert_cmpstr (got_json, ==, expect_json);
          check_offsets (value, expect, &gen);
        }
    }

  gen_clear (&gen);
}

static void
test_rope_model (void)
{
  run_rope_model (n_random_cases (20000));
}

/* Tiny leaves and branches: every split, merge and height change of the
 * tree happens within small documents. */
static void
test_small_nodes (void)
{
  /* Tiny branches cost a whole branch each: long runs grow these
   * documents only ten times as much, not a hundred. */
  patches_rope_set_limits_for_testing (8, 3);
  run_rope_model (n_random_cases_scaled (3000, 10));
  run_against_reference (n_random_cases_scaled (1000, 100), n_random_cases_scaled (2500, 100));
  patches_rope_set_limits_for_testing (0, 0);
}

/* ------------------------------------------------------------------ */
/* Small API behaviour                                                 */
/* ------------------------------------------------------------------ */

static void
test_plain_and_offsets (void)
{
  g_autoptr(PatchesText) empty = patches_text_new_plain ("");
  g_autoptr(PatchesText) text = patches_text_new_plain ("a😀b\n");
  g_autoptr(PatchesText) no_newline = patches_text_new_plain ("hi");
  g_autoptr(PatchesText) with_embed = NULL;
  g_autoptr(PatchesValue) image = parse ("{\"image\":\"a.png\"}");
  g_autoptr(PatchesDelta) doc = patches_delta_new ();
  /* json-glib cannot read a lone surrogate escape, so build it. */
  const gunichar2 lone[2] = { 0xD83D, '\n' };
  g_autofree char *empty_json = text_json (empty);
  g_autofree char *no_newline_json = text_json (no_newline);
  g_autofree char *embed_plain = NULL;
  g_autofree char *embed_json = NULL;

  patches_delta_insert_utf8 (doc, "x", NULL);
  patches_delta_insert_embed (doc, image, NULL);
  patches_delta_insert_utf16 (doc, lone, 2, NULL);
  with_embed = patches_text_new_from_delta (g_steal_pointer (&doc));
  embed_plain = patches_text_to_plain (with_embed);
  embed_json = text_json (with_embed);

  g_assert_cmpstr (empty_json, ==, "{\"ops\":[{\"insert\":\"\\n\"}]}");
  g_assert_cmpstr (no_newline_json, ==, "{\"ops\":[{\"insert\":\"hi\\n\"}]}");

  g_assert_cmpint (patches_text_get_length (text), ==, 5);
  g_assert_cmpint (patches_text_get_n_chars (text), ==, 4);
  g_assert_cmpint (patches_text_char_offset_from_utf16_offset (text, 1), ==, 1);
  g_assert_cmpint (patches_text_char_offset_from_utf16_offset (text, 2), ==, 1);
  g_assert_cmpint (patches_text_char_offset_from_utf16_offset (text, 3), ==, 2);
  g_assert_cmpint (patches_text_char_offset_from_utf16_offset (text, 99), ==, 4);
  g_assert_cmpint (patches_text_utf16_offset_from_char_offset (text, 2), ==, 3);
  g_assert_cmpint (patches_text_utf16_offset_from_char_offset (text, 4), ==, 5);

  /* Embeds read as U+FFFC, a lone surrogate as U+FFFD (JSON keeps it). */
  g_assert_cmpstr (embed_plain, ==, "x\xef\xbf\xbc\xef\xbf\xbd\n");
  g_assert_cmpstr (embed_json, ==,
                   "{\"ops\":[{\"insert\":\"x\"},{\"insert\":{\"image\":\"a.png\"}},{\"insert\":\"\\ud83d\\n\"}]}");
  g_assert_cmpint (patches_text_get_n_chars (with_embed), ==, 4);
}

/* A text value that is not regular keeps its exact ops until an edit
 * rewrites them. */
static void
test_irregular_kept (void)
{
  const char *json = "[{\"insert\":\"a\"},{\"insert\":\"b\\n\"}]";
  g_autoptr(PatchesText) text = patches_text_new_from_delta (delta_parse (json));
  g_autoptr(PatchesDelta) change = delta_parse ("[{\"retain\":1},{\"insert\":\"x\"}]");
  g_autofree char *before = text_json (text);
  g_autofree char *after = NULL;

  g_assert_cmpstr (before, ==, "{\"ops\":[{\"insert\":\"a\"},{\"insert\":\"b\\n\"}]}");
  patches_text_apply (text, change, FALSE);
  after = text_json (text);
  g_assert_cmpstr (after, ==, "{\"ops\":[{\"insert\":\"axb\\n\"}]}");

  /* Normalised now: the next plain edit takes the rope. */
  patches_text_apply (text, change, FALSE);
  g_assert_true (patches_text_has_rope (text));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Text/repair/examples", test_repair_examples);
  g_test_add_func ("/Text/repair/live-and-legacy", test_repair_live_and_legacy);
  g_test_add_func ("/Text/json/member-order", test_member_order);
  g_test_add_func ("/Text/plain-and-offsets", test_plain_and_offsets);
  g_test_add_func ("/Text/irregular-kept", test_irregular_kept);
  g_test_add_func ("/Text/random/against-reference", test_random_against_reference);
  g_test_add_func ("/Text/random/rope-model", test_rope_model);
  g_test_add_func ("/Text/random/small-nodes", test_small_nodes);

  return g_test_run ();
}
