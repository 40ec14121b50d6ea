/* patches-bench-trace.c
 *
 * Replays a sequential editing trace (the editing-traces format, see
 * tests/data/README.md) through the document apply path: every edit
 * becomes one `@txt` op (a delta [retain pos, delete n, insert s]) applied
 * with patches_ops_apply() to the document {"text": …}, exactly as a
 * client applies a local keystroke.  The final text must equal the
 * trace's endContent.
 *
 * The last line of output is one JSON object with the figures:
 *   {"trace": NAME, "edits": N, "ms": T, "edits_per_s": R,
 *    "max_rss_kb": M, "ok": true|false}
 * where ms is the replay time alone (reading and parsing the trace are
 * not counted).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <sys/resource.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "patches.h"
#include "patches-delta-private.h"
#include "patches-patch-private.h"

typedef struct {
  gint64 pos;        /* in code points, as the trace counts */
  gint64 n_delete;   /* code points */
  gsize  text;       /* offset of the inserted UTF-16 text in Trace.units */
  gsize  length;     /* its length in UTF-16 units */
  gint64 n_chars;    /* and in code points */
} Edit;

typedef struct {
  char      *name;
  char      *start;
  char      *end;
  GArray    *edits;   /* of Edit */
  GArray    *units;   /* gunichar2: every inserted text, back to back */
  /* Some text outside the BMP: code points and UTF-16 units differ, and
   * positions must be converted edit by edit. */
  gboolean   astral;
} Trace;

static void
trace_clear (Trace *trace)
{
  g_free (trace->name);
  g_free (trace->start);
  g_free (trace->end);
  g_clear_pointer (&trace->edits, g_array_unref);
  g_clear_pointer (&trace->units, g_array_unref);
}

static gboolean
has_astral (const char *utf8)
{
  for (const guchar *p = (const guchar *) utf8; *p; p++)
    if (*p >= 0xF0)
      return TRUE;
  return FALSE;
}

static gboolean
trace_load (Trace       *trace,
            const char  *path,
            GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_commandline_arg (path);
  g_autoptr(GInputStream) raw = NULL;
  g_autoptr(GConverter) gunzip = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autofree char *basename = g_file_get_basename (file);
  JsonObject *root;
  JsonArray *txns;

  raw = G_INPUT_STREAM (g_file_read (file, NULL, error));
  if (raw == NULL)
    return FALSE;

  if (g_str_has_suffix (basename, ".gz"))
    {
      gunzip = G_CONVERTER (g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP));
      stream = g_converter_input_stream_new (raw, gunzip);
    }
  else
    stream = g_object_ref (raw);

  if (!json_parser_load_from_stream (parser, stream, NULL, error))
    return FALSE;

  root = json_node_get_object (json_parser_get_root (parser));
  if (root == NULL ||
      !json_object_has_member (root, "txns") ||
      !json_object_has_member (root, "endContent") ||
      g_strcmp0 (json_object_get_string_member_with_default (root, "kind", "sequential"), "sequential") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is not a sequential editing trace", path);
      return FALSE;
    }

  *strstr (basename, ".json") = 0;
  trace->name = g_steal_pointer (&basename);
  trace->start = g_strdup (json_object_get_string_member_with_default (root, "startContent", ""));
  trace->end = g_strdup (json_object_get_string_member (root, "endContent"));
  trace->edits = g_array_new (FALSE, FALSE, sizeof (Edit));
  trace->units = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  trace->astral = has_astral (trace->start);

  txns = json_object_get_array_member (root, "txns");
  for (guint t = 0; t < json_array_get_length (txns); t++)
    {
      JsonArray *patches = json_object_get_array_member (json_array_get_object_element (txns, t), "patches");

      for (guint p = 0; p < json_array_get_length (patches); p++)
        {
          JsonArray *patch = json_array_get_array_element (patches, p);
          const char *text = json_array_get_string_element (patch, 2);
          g_autofree gunichar2 *units = NULL;
          gsize length = 0;
          Edit edit;

          units = patches_utf8_to_utf16 (text, -1, &length);
          edit.pos = json_array_get_int_element (patch, 0);
          edit.n_delete = json_array_get_int_element (patch, 1);
          edit.text = trace->units->len;
          edit.length = length;
          edit.n_chars = g_utf8_strlen (text, -1);
          g_array_append_vals (trace->units, units, length);
          g_array_append_val (trace->edits, edit);
          trace->astral |= (gint64) length != edit.n_chars;
        }
    }

  return TRUE;
}

static PatchesText *
document_text (PatchesValue *doc)
{
  return patches_value_get_text (patches_value_object_get (doc, "text"));
}

/* One replay; returns the elapsed microseconds, or -1 on an error. */
static gint64
replay (const Trace   *trace,
        PatchesValue **out_doc,
        GError       **error)
{
  g_autoptr(GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_op_unref);
  g_autofree char *start = g_strconcat (trace->start, "\n", NULL);
  PatchesValue *doc = patches_value_new_object ();
  const gunichar2 *units = (const gunichar2 *) trace->units->data;
  gint64 begin;
  gint64 elapsed;

  patches_value_object_set (doc, "text", patches_value_new_text_take (patches_text_new_plain (start)));
  g_ptr_array_add (ops, NULL);

  begin = g_get_monotonic_time ();
  for (guint i = 0; i < trace->edits->len; i++)
    {
      const Edit *edit = &g_array_index (trace->edits, Edit, i);
      PatchesDelta *delta = patches_delta_new ();
      gint64 pos = edit->pos;
      gint64 n_delete = edit->n_delete;

      if (trace->astral)
        {
          const PatchesText *text = document_text (doc);

          pos = patches_text_utf16_offset_from_char_offset (text, edit->pos);
          n_delete = patches_text_utf16_offset_from_char_offset (text, edit->pos + edit->n_delete) - pos;
        }

      patches_delta_retain (delta, pos, NULL);
      patches_delta_delete (delta, n_delete);
      patches_delta_insert_utf16 (delta, units + edit->text, edit->length, NULL);

      g_clear_pointer (&g_ptr_array_index (ops, 0), patches_op_unref);
      g_ptr_array_index (ops, 0) = patches_op_new_text ("/text", delta);

      if (!patches_ops_apply (ops, &doc, PATCHES_APPLY_STRICT, NULL, NULL, error))
        {
          g_prefix_error (error, "edit %u: ", i);
          patches_value_unref (doc);
          return -1;
        }
    }
  elapsed = g_get_monotonic_time () - begin;

  *out_doc = doc;
  return elapsed;
}

static gint64
max_rss_kb (void)
{
  struct rusage usage;

  if (getrusage (RUSAGE_SELF, &usage) != 0)
    return -1;
  return usage.ru_maxrss;   /* kilobytes on Linux */
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) report = g_string_new (NULL);
  g_auto(GStrv) files = NULL;
  int runs = 1;
  const GOptionEntry entries[] = {
    { "runs", 'r', 0, G_OPTION_ARG_INT, &runs, "Replay RUNS times and report the fastest", "RUNS" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "TRACE.json.gz" },
    G_OPTION_ENTRY_NULL
  };
  Trace trace = { 0 };
  gint64 best = G_MAXINT64;
  gboolean ok = TRUE;
  double ms;

  context = g_option_context_new ("TRACE.json.gz — replay an editing trace through @txt ops");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      files == NULL || g_strv_length (files) != 1 || runs < 1)
    {
      g_printerr ("%s\n", error ? error->message : "usage: patches-bench-trace [--runs N] TRACE.json.gz");
      return 2;
    }

  if (!trace_load (&trace, files[0], &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  g_print ("trace %s: %u edits, %s\n", trace.name, trace.edits->len,
           trace.astral ? "text outside the BMP, positions converted per edit"
                        : "BMP-only text, code points are UTF-16 offsets");

  for (int r = 0; r < runs && ok; r++)
    {
      g_autoptr(PatchesValue) doc = NULL;
      g_autofree char *plain = NULL;
      g_autofree char *expect = NULL;
      gint64 elapsed = replay (&trace, &doc, &error);

      if (elapsed < 0)
        {
          g_printerr ("replay failed: %s\n", error->message);
          ok = FALSE;
          break;
        }

      plain = patches_text_to_plain (document_text (doc));
      expect = g_strconcat (trace.end, "\n", NULL);
      if (g_strcmp0 (plain, expect) != 0)
        {
          g_printerr ("final text differs from endContent (%zu vs %zu bytes)\n",
                      strlen (plain), strlen (expect));
          ok = FALSE;
        }

      g_print ("run %d: %.2f ms\n", r + 1, elapsed / 1000.0);
      best = MIN (best, elapsed);
    }

  if (best == G_MAXINT64)
    best = 0;
  ms = best / 1000.0;

  g_string_append (report, "{\"trace\":");
  patches_js_append_string (report, trace.name, -1);
  g_string_append_printf (report,
                          ",\"edits\":%u,\"ms\":%.2f,\"edits_per_s\":%.0f,\"max_rss_kb\":%" G_GINT64_FORMAT ",\"ok\":%s}",
                          trace.edits->len, ms,
                          best > 0 ? trace.edits->len / (best / 1e6) : 0.0,
                          max_rss_kb (), ok ? "true" : "false");
  g_print ("%s\n", report->str);

  trace_clear (&trace);
  return ok ? 0 : 1;
}
