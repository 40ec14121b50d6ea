/* patches-bench-transform.c
 *
 * How fast concurrent edits are rewritten over each other, the work a
 * server does for every incoming change and a client for every pending
 * change when a remote one arrives:
 *
 *  - delta transform: random concurrent rich-text changes (typing,
 *    deleting, formatting, several edits per change) against the same
 *    document, rewritten with patches_delta_transform();
 *  - op list transform: random concurrent JSON Patch op lists on a note
 *    shaped document (title, rich-text body, tags, items, counters),
 *    rewritten with patches_ops_transform() (the transformPatch of
 *    OPERATIONS.md §7 with a null document, as the protocol calls it).
 *
 * Inputs are generated from a fixed seed before timing.  The last line of
 * output is one JSON object with the figures.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <sys/resource.h>

#include "patches.h"
#include "patches-patch-private.h"

#define DOC_LENGTH 4000

typedef struct {
  PatchesDelta *a;
  PatchesDelta *b;
} DeltaPair;

typedef struct {
  GPtrArray *committed;
  GPtrArray *incoming;
} OpsPair;

static PatchesValue *bold_attributes;
static PatchesValue *link_attributes;

static gunichar2 *
random_text (GRand *rand,
             gsize *length)
{
  static const char alphabet[] = "etaoin shrdlu\n";
  gsize n = 1 + g_rand_int_range (rand, 0, g_rand_boolean (rand) ? 2 : 8);
  gunichar2 *text = g_new (gunichar2, n);

  for (gsize i = 0; i < n; i++)
    text[i] = alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)];
  *length = n;
  return text;
}

/* A change against a document of DOC_LENGTH units: one to four edits,
 * left to right, each an insert, a delete or (rarely) a formatting
 * retain. */
static PatchesDelta *
random_change (GRand *rand)
{
  PatchesDelta *delta = patches_delta_new ();
  int n_edits = g_rand_double (rand) < 0.7 ? 1 : g_rand_int_range (rand, 2, 5);
  gint64 pos = 0;

  for (int e = 0; e < n_edits && pos < DOC_LENGTH - 20; e++)
    {
      gint64 gap = g_rand_int_range (rand, 0, (DOC_LENGTH - 20 - pos) / (n_edits - e) + 1);
      double kind = g_rand_double (rand);

      patches_delta_retain (delta, gap, NULL);
      pos += gap;

      if (kind < 0.6)
        {
          gsize length;
          g_autofree gunichar2 *text = random_text (rand, &length);

          patches_delta_insert_utf16 (delta, text, length, g_rand_double (rand) < 0.1 ? bold_attributes : NULL);
        }
      else if (kind < 0.9)
        {
          gint64 n = g_rand_int_range (rand, 1, 8);

          patches_delta_delete (delta, n);
          pos += n;
        }
      else
        {
          gint64 n = g_rand_int_range (rand, 1, 12);

          patches_delta_retain (delta, n, g_rand_boolean (rand) ? bold_attributes : link_attributes);
          pos += n;
        }
    }

  return delta;
}

static char *
random_path (GRand *rand)
{
  switch (g_rand_int_range (rand, 0, 8))
    {
    case 0:
      return g_strdup ("/title");
    case 1:
      return g_strdup_printf ("/tags/%d", g_rand_int_range (rand, 0, 6));
    case 2:
      return g_strdup ("/tags/-");
    case 3:
      return g_strdup_printf ("/items/%d", g_rand_int_range (rand, 0, 8));
    case 4:
      return g_strdup_printf ("/items/%d/done", g_rand_int_range (rand, 0, 8));
    case 5:
      return g_strdup ("/count");
    case 6:
      return g_strdup_printf ("/meta/k%d", g_rand_int_range (rand, 0, 4));
    default:
      return g_strdup ("/body");
    }
}

/* One to three ops of the kinds a notes client makes. */
static GPtrArray *
random_ops (GRand *rand)
{
  GPtrArray *ops = patches_ops_new ();
  int n = g_rand_int_range (rand, 1, 4);

  for (int i = 0; i < n; i++)
    {
      g_autofree char *path = random_path (rand);
      double kind = g_rand_double (rand);
      PatchesOp *op;

      if (g_str_equal (path, "/body") || kind < 0.35)
        op = patches_op_new_text ("/body", random_change (rand));
      else if (g_str_equal (path, "/count"))
        op = patches_op_new (PATCHES_OP_INC, path, NULL, patches_value_new_number (1));
      else if (kind < 0.55)
        op = patches_op_new (PATCHES_OP_REPLACE, path, NULL, patches_value_new_string ("x"));
      else if (kind < 0.75)
        op = patches_op_new (PATCHES_OP_ADD, path, NULL, patches_value_new_bool (TRUE));
      else if (kind < 0.9)
        op = patches_op_new (PATCHES_OP_REMOVE, path, NULL, NULL);
      else
        {
          g_autofree char *to = g_strdup_printf ("/items/%d", g_rand_int_range (rand, 0, 8));
          g_autofree char *from = g_strdup_printf ("/items/%d", g_rand_int_range (rand, 0, 8));

          op = patches_op_new (PATCHES_OP_MOVE, to, from, NULL);
        }

      g_ptr_array_add (ops, op);
    }

  return ops;
}

static gint64
max_rss_kb (void)
{
  struct rusage usage;

  if (getrusage (RUSAGE_SELF, &usage) != 0)
    return -1;
  return usage.ru_maxrss;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = NULL;
  g_autoptr(GString) report = g_string_new (NULL);
  int n_pairs = 20000;
  int rounds = 10;
  int seed = 1;
  const GOptionEntry entries[] = {
    { "pairs", 'n', 0, G_OPTION_ARG_INT, &n_pairs, "Concurrent pairs to generate", "N" },
    { "rounds", 'r', 0, G_OPTION_ARG_INT, &rounds, "Times each pair is transformed", "R" },
    { "seed", 's', 0, G_OPTION_ARG_INT, &seed, "Random seed", "SEED" },
    G_OPTION_ENTRY_NULL
  };
  DeltaPair *deltas;
  OpsPair *ops;
  gint64 begin;
  gint64 delta_us;
  gint64 ops_us;
  guint64 delta_count = 0;
  guint64 ops_count = 0;
  guint64 checksum = 0;

  context = g_option_context_new ("— transform throughput for text deltas and op lists");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || n_pairs < 1 || rounds < 1)
    {
      g_printerr ("%s\n", error ? error->message : "invalid arguments");
      return 2;
    }

  rand = g_rand_new_with_seed (seed);
  bold_attributes = patches_value_parse ("{\"bold\":true}", -1, NULL);
  link_attributes = patches_value_parse ("{\"link\":\"https://gnome.org\"}", -1, NULL);

  deltas = g_new (DeltaPair, n_pairs);
  ops = g_new (OpsPair, n_pairs);
  for (int i = 0; i < n_pairs; i++)
    {
      deltas[i].a = random_change (rand);
      deltas[i].b = random_change (rand);
      ops[i].committed = random_ops (rand);
      ops[i].incoming = random_ops (rand);
    }

  begin = g_get_monotonic_time ();
  for (int r = 0; r < rounds; r++)
    for (int i = 0; i < n_pairs; i++)
      {
        PatchesDelta *t = patches_delta_transform (deltas[i].a, deltas[i].b, (i + r) & 1);

        checksum += patches_delta_get_n_ops (t);
        patches_delta_free (t);
        delta_count++;
      }
  delta_us = MAX (1, g_get_monotonic_time () - begin);

  begin = g_get_monotonic_time ();
  for (int r = 0; r < rounds; r++)
    for (int i = 0; i < n_pairs; i++)
      {
        GPtrArray *t = patches_ops_transform (ops[i].committed, ops[i].incoming, FALSE);

        checksum += t->len;
        g_ptr_array_unref (t);
        ops_count++;
      }
  ops_us = MAX (1, g_get_monotonic_time () - begin);

  g_print ("delta transform: %" G_GUINT64_FORMAT " in %.1f ms (%.0f ns each)\n",
           delta_count, delta_us / 1000.0, delta_us * 1000.0 / delta_count);
  g_print ("op list transform: %" G_GUINT64_FORMAT " in %.1f ms (%.0f ns each)\n",
           ops_count, ops_us / 1000.0, ops_us * 1000.0 / ops_count);
  g_print ("checksum %" G_GUINT64_FORMAT "\n", checksum);

  g_string_append_printf (report,
                          "{\"delta_transforms\":%" G_GUINT64_FORMAT ",\"delta_ms\":%.2f,\"delta_transforms_per_s\":%.0f,"
                          "\"ops_transforms\":%" G_GUINT64_FORMAT ",\"ops_ms\":%.2f,\"ops_transforms_per_s\":%.0f,"
                          "\"max_rss_kb\":%" G_GINT64_FORMAT "}",
                          delta_count, delta_us / 1000.0, delta_count / (delta_us / 1e6),
                          ops_count, ops_us / 1000.0, ops_count / (ops_us / 1e6),
                          max_rss_kb ());
  g_print ("%s\n", report->str);

  for (int i = 0; i < n_pairs; i++)
    {
      patches_delta_free (deltas[i].a);
      patches_delta_free (deltas[i].b);
      g_ptr_array_unref (ops[i].committed);
      g_ptr_array_unref (ops[i].incoming);
    }
  g_free (deltas);
  g_free (ops);
  g_clear_pointer (&bold_attributes, patches_value_unref);
  g_clear_pointer (&link_attributes, patches_value_unref);

  return 0;
}
