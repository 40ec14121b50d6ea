/* notes-text-binding.c
 *
 * GtkTextBuffer ⇄ rich-text value of a PatchesDoc.
 *
 * The buffer holds the document's text WITHOUT its final "\n": a document
 * always ends with a newline (the `@txt` apply repairs it back), while a
 * GtkTextBuffer has no implicit one.  So buffer character offsets and
 * document character offsets are the same numbers, an insertion at the
 * end of the buffer lands before the document's final "\n", and no local
 * edit can ever delete that newline.  The attributes of the final "\n"
 * (the line attributes of the last line) are kept aside in
 * final_attributes.
 *
 * Offsets: GtkTextBuffer counts characters, deltas count UTF-16 code
 * units.  Conversions go through the document's own PatchesText, which is
 * rope-backed (O(log n) per conversion), never through the buffer's text:
 *  - a local edit is converted against the text before it is applied to
 *    the document (in insert-text's after handler only the inserted part
 *    has changed, and it lies after the converted offset);
 *  - a remote delta is walked against the text after it was applied:
 *    every op of a delta lies to the right of the ones before it, so when
 *    an op is reached the prefix of the new text up to it is exactly the
 *    buffer's current prefix.
 * A delete converts its length by walking the deleted characters (O(edit)).
 *
 * Line attributes (header, list) live on the "\n" of their line; their
 * tags cover the whole line for display, and the tags on the "\n" are the
 * truth (refresh_line() makes the rest of the line follow them).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "notes-text-binding.h"

#include <string.h>

#include "patches-patch.h"
#include "patches-pointer.h"
#include "patches-text.h"

struct _NotesTextBinding
{
  GObject           parent_instance;

  GtkTextBuffer    *buffer;
  PatchesDoc       *doc;
  char             *path;
  NotesRichText    *rich_text;
  NotesUndoManager *undo_manager;
  NotesUndoManager *group_manager;

  GSignalGroup     *buffer_signals;
  gulong            update_handler;

  /* > 0 while the binding edits the buffer itself */
  guint             suppress;
  /* > 0 while a change of the binding is applied to the document */
  guint             in_local_change;

  /* The attributes of the document's final "\n", which is not in the
   * buffer (%NULL: none) */
  PatchesValue     *final_attributes;
  /* UTF-16 length of the document value the buffer shows, final "\n"
   * included */
  gint64            length;

  /* The text of a document value that is not a text value (yet) */
  PatchesValue     *fallback_value;
  PatchesText      *fallback_text;

  /* A deletion between its two handlers */
  PatchesDelta     *pending_delete;
  PatchesDelta     *pending_delete_inverse;
  NotesUndoMerge    pending_delete_merge;
  gboolean          pending_delete_word;
  gboolean          pending_delete_contiguous;

  /* Formatting chosen for the next characters typed at typing_mark */
  PatchesValue     *typing_attributes;
  GtkTextMark      *typing_mark;

  /* Where the last local edit ended, and what it was */
  GtkTextMark      *merge_mark;
  NotesUndoMerge    last_merge;

  guint             user_action_depth;
  guint             reload_source;
};

enum {
  PROP_0,
  PROP_BUFFER,
  PROP_DOC,
  PROP_PATH,
  PROP_RICH_TEXT,
  PROP_UNDO_MANAGER,
  N_PROPS
};

enum {
  ERROR,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (NotesTextBinding, notes_text_binding, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void load (NotesTextBinding *self,
                  gboolean          keep_cursor);

/* ------------------------------------------------------------------ */
/* The document side                                                   */
/* ------------------------------------------------------------------ */

static PatchesValue *
lookup_value (NotesTextBinding *self)
{
  PatchesValue *state = patches_doc_get_state (self->doc);

  if (state == NULL)
    return NULL;

  return patches_pointer_lookup (state, self->path);
}

/* The document a `@txt` op would start from for @value (OPERATIONS.md
 * §6.10 step 2), normalised (final "\n" repaired) — except that a plain
 * string is shown rather than discarded; the first local edit writes it
 * back as rich text (see commit()). */
static PatchesText *
text_from_value (PatchesValue *value)
{
  g_autoptr(PatchesDelta) base = NULL;
  g_autoptr(PatchesDelta) empty = patches_delta_new ();
  PatchesText *text;

  if (value != NULL)
    {
      switch (patches_value_get_kind (value))
        {
        case PATCHES_VALUE_ARRAY:
          if (patches_value_array_get_length (value) > 0)
            {
              PatchesValue *first = patches_value_array_get (value, 0);

              if (patches_value_get_kind (first) == PATCHES_VALUE_OBJECT &&
                  patches_value_object_get (first, "insert") != NULL &&
                  patches_value_truthy (patches_value_object_get (first, "insert")))
                base = patches_delta_from_value (value, NULL);
            }
          break;

        case PATCHES_VALUE_OBJECT:
          {
            PatchesValue *ops = patches_value_object_get (value, "ops");

            if (ops != NULL && patches_value_truthy (ops))
              {
                if (patches_value_get_kind (ops) == PATCHES_VALUE_ARRAY)
                  base = patches_delta_from_value (ops, NULL);
                if (base == NULL)
                  base = patches_delta_new ();
              }
          }
          break;

        case PATCHES_VALUE_STRING:
          return patches_text_new_plain (patches_value_get_string (value));

        case PATCHES_VALUE_TEXT:
          return patches_text_copy (patches_value_get_text (value));

        case PATCHES_VALUE_NULL:
        case PATCHES_VALUE_BOOL:
        case PATCHES_VALUE_NUMBER:
        default:
          break;
        }
    }

  if (base == NULL)
    {
      base = patches_delta_new ();
      patches_delta_insert_utf8 (base, "\n", NULL);
    }

  text = patches_text_new_from_delta (g_steal_pointer (&base));
  patches_text_apply (text, empty, FALSE);

  return text;
}

/* The document's text as the buffer shows it. */
static const PatchesText *
get_text (NotesTextBinding *self)
{
  PatchesValue *value = lookup_value (self);

  if (value != NULL && patches_value_get_kind (value) == PATCHES_VALUE_TEXT)
    return patches_value_get_text (value);

  if (self->fallback_text != NULL && self->fallback_value == value)
    return self->fallback_text;

  g_clear_pointer (&self->fallback_text, patches_text_free);
  g_clear_pointer (&self->fallback_value, patches_value_unref);
  self->fallback_text = text_from_value (value);
  self->fallback_value = value != NULL ? patches_value_ref (value) : NULL;

  return self->fallback_text;
}

static inline gint64
utf16_at (const PatchesText *text,
          gint64             char_offset)
{
  return patches_text_utf16_offset_from_char_offset (text, char_offset);
}

static inline gint64
char_at (const PatchesText *text,
         gint64             utf16_offset)
{
  return patches_text_char_offset_from_utf16_offset (text, utf16_offset);
}

/* ------------------------------------------------------------------ */
/* Buffer helpers                                                      */
/* ------------------------------------------------------------------ */

static gboolean
is_newline (gunichar c,
            gpointer user_data)
{
  return c == '\n';
}

static gboolean
is_word_char (gunichar c)
{
  return g_unichar_isalnum (c) || c == '_' || c == '\'';
}

/* Moves @iter to the "\n" that ends its line, or to the end of the buffer
 * for the last line (whose "\n" is the document's final one).  GTK's own
 * line ends are tried first (fast); they also stop at "\r" and U+2029,
 * which are not line ends of a delta. */
static gboolean
to_newline (GtkTextIter *iter)
{
  if (gtk_text_iter_get_char (iter) == '\n')
    return TRUE;
  if (!gtk_text_iter_ends_line (iter))
    gtk_text_iter_forward_to_line_end (iter);
  if (gtk_text_iter_is_end (iter))
    return FALSE;
  if (gtk_text_iter_get_char (iter) == '\n')
    return TRUE;
  return gtk_text_iter_forward_find_char (iter, is_newline, NULL, NULL);
}

static void
to_line_start (GtkTextIter *iter)
{
  GtkTextIter gtk_start = *iter;
  GtkTextIter before;

  gtk_text_iter_set_line_offset (&gtk_start, 0);
  before = gtk_start;
  *iter = gtk_start;
  if (gtk_text_iter_is_start (&gtk_start) ||
      (gtk_text_iter_backward_char (&before) && gtk_text_iter_get_char (&before) == '\n'))
    return;

  /* GTK's line began after a "\r" or U+2029 */
  if (gtk_text_iter_backward_find_char (iter, is_newline, NULL, NULL))
    gtk_text_iter_forward_char (iter);
}

static void
append_utf16 (GString         *out,
              const gunichar2 *units,
              gint64           length,
              glong           *n_chars)
{
  for (gint64 i = 0; i < length; i++)
    {
      gunichar c = units[i];

      if (c >= 0xD800 && c <= 0xDBFF && i + 1 < length && units[i + 1] >= 0xDC00 && units[i + 1] <= 0xDFFF)
        {
          c = 0x10000 + ((c - 0xD800) << 10) + (units[i + 1] - 0xDC00);
          i++;
        }
      else if ((c >= 0xD800 && c <= 0xDFFF) || c == 0)
        c = 0xFFFD;

      g_string_append_unichar (out, c);
      (*n_chars)++;
    }
}

static gboolean
final_has_tag (NotesTextBinding *self,
               GtkTextTag       *tag)
{
  PatchesValue *value;

  if (self->final_attributes == NULL)
    return FALSE;

  value = patches_value_object_get (self->final_attributes, notes_rich_text_tag_get_key (tag));

  return value != NULL && patches_value_equal (value, notes_rich_text_tag_get_value (tag));
}

static void
ensure_final_tags (NotesTextBinding *self)
{
  guint n;

  if (self->final_attributes == NULL)
    return;

  n = patches_value_object_get_size (self->final_attributes);
  for (guint i = 0; i < n; i++)
    {
      const char *key = patches_value_object_key_at (self->final_attributes, i);
      PatchesValue *value = patches_value_object_value_at (self->final_attributes, i);

      if (notes_rich_text_is_line_key (key) && patches_value_get_kind (value) != PATCHES_VALUE_NULL)
        notes_rich_text_ensure_tag (self->rich_text, key, value);
    }
}

/* Makes the whole line around @in_line carry the line tags its "\n" has
 * (final_attributes for the last line).  The "\n" itself is not changed. */
static void
refresh_line (NotesTextBinding  *self,
              const GtkTextIter *in_line)
{
  GPtrArray *line_tags = notes_rich_text_get_line_tags (self->rich_text);
  GtkTextIter start = *in_line;
  GtkTextIter nl = *in_line;
  GtkTextIter after;
  gboolean last;

  if (line_tags->len == 0)
    return;

  to_line_start (&start);
  last = !to_newline (&nl);
  after = nl;
  if (!last)
    gtk_text_iter_forward_char (&after);

  for (guint i = 0; i < line_tags->len; i++)
    {
      GtkTextTag *tag = g_ptr_array_index (line_tags, i);
      gboolean want = last ? final_has_tag (self, tag) : gtk_text_iter_has_tag (&nl, tag);

      if (want)
        gtk_text_buffer_apply_tag (self->buffer, tag, &start, &after);
      else if (gtk_text_iter_compare (&start, &nl) < 0)
        gtk_text_buffer_remove_tag (self->buffer, tag, &start, &nl);
    }
}

static void
refresh_lines (NotesTextBinding  *self,
               const GtkTextIter *start,
               const GtkTextIter *end)
{
  GtkTextIter iter = *start;

  if (notes_rich_text_get_line_tags (self->rich_text)->len == 0)
    return;

  for (;;)
    {
      refresh_line (self, &iter);
      if (!to_newline (&iter) || gtk_text_iter_compare (&iter, end) >= 0)
        break;
      gtk_text_iter_forward_char (&iter);
    }
}

/* Gives a span inside one line the line tags of that line. */
static void
style_span_as_line (NotesTextBinding  *self,
                    const GtkTextIter *start,
                    const GtkTextIter *end)
{
  GPtrArray *line_tags = notes_rich_text_get_line_tags (self->rich_text);
  GtkTextIter nl = *end;
  gboolean last;

  if (line_tags->len == 0)
    return;

  last = !to_newline (&nl);
  for (guint i = 0; i < line_tags->len; i++)
    {
      GtkTextTag *tag = g_ptr_array_index (line_tags, i);

      if (last ? final_has_tag (self, tag) : gtk_text_iter_has_tag (&nl, tag))
        gtk_text_buffer_apply_tag (self->buffer, tag, start, end);
    }
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
  gint64        start;
  gint64        n_chars;
  PatchesValue *attributes;   /* borrowed from the delta */
  PatchesValue *embed;        /* borrowed from the delta */
} Run;

static gboolean
has_line_key (PatchesValue *attributes)
{
  guint n = patches_value_object_get_size (attributes);

  for (guint i = 0; i < n; i++)
    if (notes_rich_text_is_line_key (patches_value_object_key_at (attributes, i)))
      return TRUE;

  return FALSE;
}

static void
load (NotesTextBinding *self,
      gboolean          keep_cursor)
{
  const PatchesText *text = get_text (self);
  const PatchesDelta *delta = patches_text_get_delta (text);
  guint n = patches_delta_get_n_ops (delta);
  g_autoptr(GString) utf8 = g_string_new (NULL);
  g_autoptr(GArray) runs = g_array_new (FALSE, FALSE, sizeof (Run));
  gint64 chars = 0;
  gboolean skip_unit = FALSE;
  int cursor = -1;
  int bound = -1;
  GtkTextIter iter;
  GtkTextIter end;

  g_clear_handle_id (&self->reload_source, g_source_remove);
  g_clear_pointer (&self->final_attributes, patches_value_unref);
  g_clear_pointer (&self->typing_attributes, patches_value_unref);

  for (guint i = 0; i < n; i++)
    {
      const PatchesDeltaOp *op = patches_delta_get_op (delta, i);
      Run run = { chars, 0, op->attributes, NULL };

      if (op->kind != PATCHES_DELTA_INSERT)
        continue;

      if (op->text == NULL)
        {
          g_string_append_unichar (utf8, NOTES_EMBED_CHAR);
          run.n_chars = 1;
          run.embed = op->embed;
        }
      else
        {
          const gunichar2 *units = op->text;
          gint64 length = op->length;
          const PatchesDeltaOp *next = i + 1 < n ? patches_delta_get_op (delta, i + 1) : NULL;

          if (skip_unit)
            {
              units++;
              length--;
              skip_unit = FALSE;
            }

          if (i == n - 1 && length > 0 && units[length - 1] == '\n')
            {
              length--;
              if (op->attributes != NULL && patches_value_object_get_size (op->attributes) > 0)
                self->final_attributes = patches_value_ref (op->attributes);
            }

          /* A surrogate pair cut between two runs (they differ in
           * attributes) is one character, as the document counts it: it
           * goes with the first run */
          if (length > 0 && units[length - 1] >= 0xD800 && units[length - 1] <= 0xDBFF &&
              next != NULL && next->kind == PATCHES_DELTA_INSERT && next->text != NULL &&
              next->length > 0 && next->text[0] >= 0xDC00 && next->text[0] <= 0xDFFF)
            {
              gunichar2 pair[2] = { units[length - 1], next->text[0] };

              append_utf16 (utf8, units, length - 1, &run.n_chars);
              append_utf16 (utf8, pair, 2, &run.n_chars);
              skip_unit = TRUE;
            }
          else
            append_utf16 (utf8, units, length, &run.n_chars);
        }

      chars += run.n_chars;
      if (run.n_chars > 0 && (run.attributes != NULL || run.embed != NULL))
        g_array_append_val (runs, run);
    }

  if (keep_cursor)
    {
      GtkTextIter insert;
      GtkTextIter selection;

      gtk_text_buffer_get_iter_at_mark (self->buffer, &insert, gtk_text_buffer_get_insert (self->buffer));
      gtk_text_buffer_get_iter_at_mark (self->buffer, &selection, gtk_text_buffer_get_selection_bound (self->buffer));
      cursor = gtk_text_iter_get_offset (&insert);
      bound = gtk_text_iter_get_offset (&selection);
    }

  self->suppress++;

  gtk_text_buffer_set_text (self->buffer, utf8->str, utf8->len);

  for (guint i = 0; i < runs->len; i++)
    {
      Run *run = &g_array_index (runs, Run, i);
      GtkTextIter start;
      GtkTextIter stop;

      gtk_text_buffer_get_iter_at_offset (self->buffer, &start, run->start);
      gtk_text_buffer_get_iter_at_offset (self->buffer, &stop, run->start + run->n_chars);

      if (run->embed != NULL)
        gtk_text_buffer_apply_tag (self->buffer,
                                   notes_rich_text_ensure_embed_tag (self->rich_text, run->embed),
                                   &start, &stop);

      if (run->attributes == NULL)
        continue;

      notes_rich_text_apply_attributes (self->rich_text, self->buffer, &start, &stop,
                                        run->attributes, NOTES_TAG_KIND_INLINE);

      if (has_line_key (run->attributes))
        {
          /* On each "\n" of the run, then over its line */
          GtkTextIter nl = start;

          while (gtk_text_iter_compare (&nl, &stop) < 0 && to_newline (&nl) &&
                 gtk_text_iter_compare (&nl, &stop) < 0)
            {
              GtkTextIter line_start = nl;
              GtkTextIter after = nl;

              gtk_text_iter_forward_char (&after);
              to_line_start (&line_start);
              notes_rich_text_apply_attributes (self->rich_text, self->buffer, &line_start, &after,
                                                run->attributes, NOTES_TAG_KIND_LINE);
              nl = after;
            }
        }
    }

  ensure_final_tags (self);
  gtk_text_buffer_get_end_iter (self->buffer, &end);
  iter = end;
  refresh_line (self, &iter);

  if (keep_cursor)
    {
      GtkTextIter insert;
      GtkTextIter selection;

      gtk_text_buffer_get_iter_at_offset (self->buffer, &insert, cursor);
      gtk_text_buffer_get_iter_at_offset (self->buffer, &selection, bound);
      gtk_text_buffer_select_range (self->buffer, &insert, &selection);
    }
  else
    {
      gtk_text_buffer_get_start_iter (self->buffer, &iter);
      gtk_text_buffer_place_cursor (self->buffer, &iter);
    }

  self->suppress--;

  self->length = patches_text_get_length (text);
}

static gboolean
reload_cb (gpointer user_data)
{
  NotesTextBinding *self = user_data;

  self->reload_source = 0;
  load (self, TRUE);

  return G_SOURCE_REMOVE;
}

/* Rebuilds the buffer from the document once the current buffer signal
 * emission is over (changing the buffer inside one would invalidate the
 * iterators GTK is passing around). */
static void
schedule_reload (NotesTextBinding *self)
{
  if (self->reload_source == 0)
    self->reload_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE, reload_cb, self, NULL);
}

/* ------------------------------------------------------------------ */
/* Inverses read from the buffer                                       */
/* ------------------------------------------------------------------ */

/* The attributes that undo setting @attributes where @old were. */
static PatchesValue *
invert_attributes (PatchesValue *attributes,
                   PatchesValue *old)
{
  g_autoptr(PatchesValue) inverse = NULL;
  guint n = patches_value_object_get_size (attributes);

  for (guint i = 0; i < n; i++)
    {
      const char *key = patches_value_object_key_at (attributes, i);
      PatchesValue *value = patches_value_object_value_at (attributes, i);
      PatchesValue *before = old != NULL ? patches_value_object_get (old, key) : NULL;
      gboolean value_null = patches_value_get_kind (value) == PATCHES_VALUE_NULL;

      if (before == NULL ? value_null : patches_value_equal (before, value))
        continue;

      if (inverse == NULL)
        inverse = patches_value_new_object ();
      patches_value_object_set (inverse, key,
                                before != NULL ? patches_value_ref (before) : patches_value_new_null ());
    }

  return g_steal_pointer (&inverse);
}

/* Appends to @inverse the retains that restore the attributes of the
 * buffer's characters [@c0, @c1) after @attributes are set on them. */
static void
invert_format_span (NotesTextBinding  *self,
                    const PatchesText *text,
                    PatchesDelta      *inverse,
                    gint64             c0,
                    gint64             c1,
                    PatchesValue      *attributes)
{
  GtkTextIter pos;
  GtkTextIter end;

  gtk_text_buffer_get_iter_at_offset (self->buffer, &pos, c0);
  gtk_text_buffer_get_iter_at_offset (self->buffer, &end, c1);

  while (gtk_text_iter_compare (&pos, &end) < 0)
    {
      GtkTextIter next = pos;
      g_autoptr(PatchesValue) old = NULL;
      g_autoptr(PatchesValue) undo = NULL;
      gboolean newline = gtk_text_iter_get_char (&pos) == '\n';

      if (newline)
        gtk_text_iter_forward_char (&next);
      else
        {
          /* Up to the next toggle or "\n", whichever comes first */
          GtkTextIter nl = pos;

          if (!gtk_text_iter_forward_to_tag_toggle (&next, NULL) || gtk_text_iter_compare (&next, &end) > 0)
            next = end;
          if (to_newline (&nl) && gtk_text_iter_compare (&nl, &next) < 0)
            next = nl;
        }

      old = notes_rich_text_dup_attributes (self->rich_text, &pos, newline);
      undo = invert_attributes (attributes, old);
      patches_delta_retain (inverse,
                            utf16_at (text, gtk_text_iter_get_offset (&next)) -
                            utf16_at (text, gtk_text_iter_get_offset (&pos)),
                            undo);
      pos = next;
    }
}

/* The delta that undoes @delta, read from the buffer as it is before
 * @delta applies.  %NULL when @delta reaches the document's final "\n"
 * with anything but formatting (patches_patch_invert() handles that). */
static PatchesDelta *
build_inverse (NotesTextBinding   *self,
               const PatchesDelta *delta)
{
  const PatchesText *text = get_text (self);
  g_autoptr(PatchesDelta) inverse = patches_delta_new ();
  gint64 body = self->length - 1;   /* UTF-16 length the buffer shows */
  gint64 pos = 0;

  for (guint i = 0; i < patches_delta_get_n_ops (delta); i++)
    {
      const PatchesDeltaOp *op = patches_delta_get_op (delta, i);

      switch (op->kind)
        {
        case PATCHES_DELTA_INSERT:
          if (pos > body)
            return NULL;
          patches_delta_delete (inverse, op->length);
          break;

        case PATCHES_DELTA_DELETE:
          {
            GtkTextIter start;
            GtkTextIter end;

            if (pos + op->length > body)
              return NULL;
            gtk_text_buffer_get_iter_at_offset (self->buffer, &start, char_at (text, pos));
            gtk_text_buffer_get_iter_at_offset (self->buffer, &end, char_at (text, pos + op->length));
            notes_rich_text_append_range (self->rich_text, inverse, &start, &end);
            pos += op->length;
          }
          break;

        case PATCHES_DELTA_RETAIN:
        default:
          if (op->attributes == NULL)
            {
              if (op->length == PATCHES_DELTA_INFINITY)
                break;
              patches_delta_retain (inverse, op->length, NULL);
              pos += op->length;
              break;
            }
          else
            {
              gint64 in_body = MIN (op->length, body - pos);
              gint64 rest;

              if (in_body > 0)
                invert_format_span (self, text, inverse, char_at (text, pos),
                                    char_at (text, pos + in_body), op->attributes);
              else
                in_body = 0;

              rest = MIN (op->length - in_body, body + 1 - (pos + in_body));
              if (rest > 0)
                {
                  g_autoptr(PatchesValue) undo = invert_attributes (op->attributes, self->final_attributes);

                  patches_delta_retain (inverse, 1, undo);
                }
              pos += op->length;
            }
          break;
        }
    }

  patches_delta_chop (inverse);

  return g_steal_pointer (&inverse);
}

static PatchesPatch *
invert_for_undo (NotesUndoManager *manager,
                 PatchesPatch     *patch,
                 gpointer          user_data)
{
  NotesTextBinding *self = user_data;
  g_autoptr(PatchesDelta) composed = NULL;
  g_autoptr(PatchesDelta) inverse = NULL;
  PatchesPatch *result;
  guint n = patches_patch_get_n_ops (patch);

  if (n == 0)
    return NULL;

  for (guint i = 0; i < n; i++)
    {
      PatchesOp *op = patches_patch_get_op (patch, i);
      const PatchesDelta *delta;

      if (op->kind != PATCHES_OP_TXT || g_strcmp0 (op->path, self->path) != 0)
        return NULL;
      delta = patches_op_get_delta (op);
      if (delta == NULL)
        return NULL;

      if (composed == NULL)
        composed = patches_delta_copy (delta);
      else
        {
          PatchesDelta *next = patches_delta_compose (composed, delta);

          patches_delta_free (composed);
          composed = next;
        }
    }

  /* The buffer must show the document the patch applies to */
  if (lookup_value (self) == NULL || patches_value_get_kind (lookup_value (self)) != PATCHES_VALUE_TEXT)
    return NULL;

  inverse = build_inverse (self, composed);
  if (inverse == NULL)
    return NULL;

  result = patches_patch_new ();
  patches_patch_text (result, self->path, g_steal_pointer (&inverse));

  return result;
}

/* ------------------------------------------------------------------ */
/* Local edits → the document                                          */
/* ------------------------------------------------------------------ */

static void
commit (NotesTextBinding *self,
        PatchesDelta     *delta,
        PatchesDelta     *inverse,
        NotesUndoMerge    merge,
        gboolean          same_word)
{
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  g_autoptr(PatchesPatch) inverse_patch = patches_patch_new ();
  g_autoptr(PatchesChange) change = NULL;
  g_autoptr(GError) error = NULL;
  PatchesValue *value = lookup_value (self);
  g_autoptr(PatchesValue) old_string = NULL;

  /* A plain string is what the buffer shows, but `@txt` would discard it:
   * write it as rich text first. */
  if (value != NULL && patches_value_get_kind (value) == PATCHES_VALUE_STRING)
    {
      old_string = patches_value_ref (value);
      patches_patch_replace (patch, self->path,
                             patches_value_new_text_take (patches_text_copy (get_text (self))), FALSE);
    }

  patches_patch_text (patch, self->path, delta);
  if (inverse != NULL)
    {
      patches_patch_text (inverse_patch, self->path, inverse);
      if (old_string != NULL)
        patches_patch_replace (inverse_patch, self->path, g_steal_pointer (&old_string), FALSE);
    }
  else
    g_clear_pointer (&inverse_patch, patches_patch_unref);

  self->in_local_change++;
  if (self->undo_manager != NULL)
    change = notes_undo_manager_change (self->undo_manager, patch, inverse_patch, merge, same_word, &error);
  else
    change = patches_doc_change (self->doc, patch, &error);
  self->in_local_change--;

  if (error != NULL)
    {
      g_warning ("Could not save an edit of %s: %s", self->path, error->message);
      g_signal_emit (self, signals[ERROR], 0, error);
      schedule_reload (self);
      return;
    }

  self->length = patches_text_get_length (get_text (self));

  /* Two lone surrogates that an edit brings together make one character
   * in the document but stay two U+FFFD in the buffer */
  if (gtk_text_buffer_get_char_count (self->buffer) != patches_text_get_n_chars (get_text (self)) - 1)
    schedule_reload (self);
}

static gboolean
known_inline_key (const char *key)
{
  static const char * const keys[] = { "bold", "italic", "underline", "strike", "link", NULL };

  return g_strv_contains (keys, key);
}

static gboolean
typing_mark_at (NotesTextBinding  *self,
                const GtkTextIter *iter)
{
  GtkTextIter mark;

  if (self->typing_attributes == NULL || self->typing_mark == NULL)
    return FALSE;

  gtk_text_buffer_get_iter_at_mark (self->buffer, &mark, self->typing_mark);

  return gtk_text_iter_equal (&mark, iter);
}

/* The inline formatting text typed at @start takes: that of the
 * character before (the one after at the start of a line), links aside,
 * changed by the typing attributes chosen for this spot. */
static void
style_inserted (NotesTextBinding  *self,
                const GtkTextIter *start,
                const GtkTextIter *end,
                gboolean           has_newline)
{
  GtkTextIter from = *start;
  GtkTextIter nl = *end;
  GSList *tags = NULL;
  gboolean last;

  if (!gtk_text_iter_is_start (&from) && gtk_text_iter_backward_char (&from) &&
      gtk_text_iter_get_char (&from) != '\n')
    tags = gtk_text_iter_get_tags (&from);
  else if (!gtk_text_iter_is_end (end) && gtk_text_iter_get_char (end) != '\n')
    tags = gtk_text_iter_get_tags (end);

  for (GSList *l = tags; l != NULL; l = l->next)
    {
      GtkTextTag *tag = l->data;

      if (notes_rich_text_tag_get_kind (tag) == NOTES_TAG_KIND_INLINE &&
          g_strcmp0 (notes_rich_text_tag_get_key (tag), "link") != 0)
        gtk_text_buffer_apply_tag (self->buffer, tag, start, end);
    }
  g_slist_free (tags);

  if (typing_mark_at (self, start))
    notes_rich_text_apply_attributes (self->rich_text, self->buffer, start, end,
                                      self->typing_attributes, NOTES_TAG_KIND_INLINE);

  /* Line attributes: the line keeps its format on both sides of a new
   * "\n", like Quill does; the new "\n"s also keep the line's other
   * (unknown) attributes, such as alignment. */
  last = !to_newline (&nl);
  if (has_newline)
    {
      g_autoptr(GPtrArray) copy = g_ptr_array_new ();
      GtkTextIter iter = *start;

      if (last)
        {
          guint n = self->final_attributes != NULL ? patches_value_object_get_size (self->final_attributes) : 0;

          for (guint i = 0; i < n; i++)
            {
              const char *key = patches_value_object_key_at (self->final_attributes, i);
              PatchesValue *value = patches_value_object_value_at (self->final_attributes, i);

              if (!known_inline_key (key) && patches_value_get_kind (value) != PATCHES_VALUE_NULL)
                g_ptr_array_add (copy, notes_rich_text_ensure_tag (self->rich_text, key, value));
            }
        }
      else
        {
          tags = gtk_text_iter_get_tags (&nl);
          for (GSList *l = tags; l != NULL; l = l->next)
            {
              NotesTagKind kind = notes_rich_text_tag_get_kind (l->data);

              if (kind == NOTES_TAG_KIND_INLINE && !known_inline_key (notes_rich_text_tag_get_key (l->data)))
                g_ptr_array_add (copy, l->data);
            }
          g_slist_free (tags);
        }

      while (to_newline (&iter) && gtk_text_iter_compare (&iter, end) < 0)
        {
          GtkTextIter after = iter;

          gtk_text_iter_forward_char (&after);
          for (guint i = 0; i < copy->len; i++)
            gtk_text_buffer_apply_tag (self->buffer, g_ptr_array_index (copy, i), &iter, &after);
          iter = after;
        }
    }

  style_span_as_line (self, start, end);
}

static void
on_insert_text_after (GtkTextBuffer    *buffer,
                      GtkTextIter      *location,
                      const char       *text,
                      int               len,
                      NotesTextBinding *self)
{
  g_autoptr(PatchesDelta) delta = NULL;
  g_autoptr(PatchesDelta) inverse = NULL;
  const PatchesText *doc_text;
  GtkTextIter start;
  GtkTextIter end;
  GtkTextIter merge_at;
  glong n_chars;
  gint64 offset;
  gint64 p16;
  gint64 len16;
  gboolean has_newline;
  gboolean single;
  gboolean contiguous = FALSE;
  gboolean same_word = FALSE;

  if (self->suppress > 0)
    return;

  if (len < 0)
    len = strlen (text);
  n_chars = g_utf8_strlen (text, len);
  if (n_chars == 0)
    return;

  end = *location;
  start = end;
  gtk_text_iter_backward_chars (&start, n_chars);
  offset = gtk_text_iter_get_offset (&start);
  has_newline = memchr (text, '\n', len) != NULL;

  self->suppress++;
  style_inserted (self, &start, &end, has_newline);
  if (typing_mark_at (self, &start))
    gtk_text_buffer_move_mark (buffer, self->typing_mark, &end);
  self->suppress--;

  /* The document has not changed yet: convert against it */
  doc_text = get_text (self);
  p16 = utf16_at (doc_text, offset);

  delta = patches_delta_new ();
  patches_delta_retain (delta, p16, NULL);
  notes_rich_text_append_range (self->rich_text, delta, &start, &end);
  len16 = patches_delta_length (delta) - p16;

  inverse = patches_delta_new ();
  patches_delta_retain (inverse, p16, NULL);
  patches_delta_delete (inverse, len16);

  /* Undo steps: keystrokes typed one after the other join */
  single = n_chars == 1 && !has_newline;
  if (single && self->last_merge == NOTES_UNDO_MERGE_TYPING)
    {
      gtk_text_buffer_get_iter_at_mark (buffer, &merge_at, self->merge_mark);
      contiguous = gtk_text_iter_get_offset (&merge_at) == offset;
    }
  if (single && offset > 0)
    {
      GtkTextIter before = start;

      gtk_text_iter_backward_char (&before);
      gunichar c = g_utf8_get_char (text);

      /* A word and the space after it are one step */
      same_word = (is_word_char (c) || g_unichar_isspace (c)) && is_word_char (gtk_text_iter_get_char (&before));
    }
  if (self->undo_manager != NULL && !contiguous)
    notes_undo_manager_break_merge (self->undo_manager);

  gtk_text_buffer_move_mark (buffer, self->merge_mark, &end);
  self->last_merge = single ? NOTES_UNDO_MERGE_TYPING : NOTES_UNDO_MERGE_NEVER;

  commit (self, g_steal_pointer (&delta), g_steal_pointer (&inverse),
          self->last_merge, same_word);
}

static void
insert_object_char (NotesTextBinding *self,
                    GtkTextIter      *location)
{
  char utf8[8] = { 0 };

  g_unichar_to_utf8 (NOTES_EMBED_CHAR, utf8);
  on_insert_text_after (self->buffer, location, utf8, strlen (utf8), self);
}

static void
on_insert_paintable_after (GtkTextBuffer    *buffer,
                           GtkTextIter      *location,
                           GdkPaintable     *paintable,
                           NotesTextBinding *self)
{
  insert_object_char (self, location);
}

static void
on_insert_child_anchor_after (GtkTextBuffer      *buffer,
                              GtkTextIter        *location,
                              GtkTextChildAnchor *anchor,
                              NotesTextBinding   *self)
{
  insert_object_char (self, location);
}

static void
on_delete_range (GtkTextBuffer    *buffer,
                 GtkTextIter      *start,
                 GtkTextIter      *end,
                 NotesTextBinding *self)
{
  const PatchesText *text;
  gint64 s;
  gint64 e;
  gint64 p16;
  gint64 e16;
  GtkTextIter merge_at;

  if (self->suppress > 0)
    return;

  s = gtk_text_iter_get_offset (start);
  e = gtk_text_iter_get_offset (end);
  if (s >= e)
    return;

  text = get_text (self);
  p16 = utf16_at (text, s);
  e16 = utf16_at (text, e);

  g_clear_pointer (&self->pending_delete, patches_delta_free);
  g_clear_pointer (&self->pending_delete_inverse, patches_delta_free);

  self->pending_delete = patches_delta_new ();
  patches_delta_retain (self->pending_delete, p16, NULL);
  patches_delta_delete (self->pending_delete, e16 - p16);
  self->pending_delete_inverse = build_inverse (self, self->pending_delete);

  self->pending_delete_merge = e - s == 1 ? NOTES_UNDO_MERGE_DELETING : NOTES_UNDO_MERGE_NEVER;
  self->pending_delete_contiguous = FALSE;
  if (self->pending_delete_merge == NOTES_UNDO_MERGE_DELETING && self->last_merge == NOTES_UNDO_MERGE_DELETING)
    {
      gint64 at;

      gtk_text_buffer_get_iter_at_mark (buffer, &merge_at, self->merge_mark);
      at = gtk_text_iter_get_offset (&merge_at);
      /* Backspace (ends where the last one started) or Delete */
      self->pending_delete_contiguous = at == e || at == s;
    }
  self->pending_delete_word = e - s == 1 && is_word_char (gtk_text_iter_get_char (start));
}

static void
on_delete_range_after (GtkTextBuffer    *buffer,
                       GtkTextIter      *start,
                       GtkTextIter      *end,
                       NotesTextBinding *self)
{
  g_autoptr(PatchesDelta) delta = NULL;
  g_autoptr(PatchesDelta) inverse = NULL;

  if (self->suppress > 0 || self->pending_delete == NULL)
    return;

  delta = g_steal_pointer (&self->pending_delete);
  inverse = g_steal_pointer (&self->pending_delete_inverse);

  /* Two lines may have become one: it takes the format of the second */
  self->suppress++;
  refresh_line (self, start);
  self->suppress--;

  if (self->undo_manager != NULL && !self->pending_delete_contiguous)
    notes_undo_manager_break_merge (self->undo_manager);
  gtk_text_buffer_move_mark (buffer, self->merge_mark, start);
  self->last_merge = self->pending_delete_merge;

  commit (self, g_steal_pointer (&delta), g_steal_pointer (&inverse),
          self->pending_delete_merge, self->pending_delete_word);
}

/* Sets the inline attribute @key = @value (`null` removes it) on the
 * characters [@start, @end) and sends the change. */
static gboolean
format_inline (NotesTextBinding  *self,
               const GtkTextIter *start,
               const GtkTextIter *end,
               const char        *key,
               PatchesValue      *value)
{
  const PatchesText *text = get_text (self);
  g_autoptr(PatchesValue) attributes = patches_value_new_object ();
  g_autoptr(PatchesDelta) delta = patches_delta_new ();
  g_autoptr(PatchesDelta) inverse = NULL;
  gint64 p16 = utf16_at (text, gtk_text_iter_get_offset (start));
  gint64 e16 = utf16_at (text, gtk_text_iter_get_offset (end));

  if (e16 <= p16)
    return FALSE;

  patches_value_object_set (attributes, key, patches_value_ref (value));
  patches_delta_retain (delta, p16, NULL);
  patches_delta_retain (delta, e16 - p16, attributes);

  inverse = build_inverse (self, delta);
  if (patches_delta_get_n_ops (inverse) == 0)
    return FALSE;   /* nothing would change */

  self->suppress++;
  notes_rich_text_apply_attributes (self->rich_text, self->buffer, start, end, attributes,
                                    NOTES_TAG_KIND_INLINE);
  self->suppress--;

  if (self->undo_manager != NULL)
    notes_undo_manager_break_merge (self->undo_manager);
  self->last_merge = NOTES_UNDO_MERGE_NEVER;
  commit (self, g_steal_pointer (&delta), g_steal_pointer (&inverse), NOTES_UNDO_MERGE_NEVER, FALSE);

  return TRUE;
}

static void
set_final_attribute (NotesTextBinding *self,
                     const char       *key,
                     PatchesValue     *value)
{
  PatchesValue *updated = notes_rich_text_attributes_set (self->final_attributes, key, value);

  g_clear_pointer (&self->final_attributes, patches_value_unref);
  self->final_attributes = updated;
  ensure_final_tags (self);
}

/* Sets @key = @value on the "\n"s at the buffer offsets in @newlines (the
 * end of the buffer standing for the document's final "\n"), makes
 * their lines show it, and sends the change. */
static gboolean
format_lines (NotesTextBinding  *self,
              GArray            *newlines,
              const char        *key,
              PatchesValue      *value)
{
  const PatchesText *text = get_text (self);
  g_autoptr(PatchesValue) attributes = patches_value_new_object ();
  g_autoptr(PatchesDelta) delta = patches_delta_new ();
  g_autoptr(PatchesDelta) inverse = NULL;
  gint64 at16 = 0;

  if (newlines->len == 0)
    return FALSE;

  patches_value_object_set (attributes, key, patches_value_ref (value));

  for (guint i = 0; i < newlines->len; i++)
    {
      gint64 nl16 = utf16_at (text, g_array_index (newlines, gint64, i));

      patches_delta_retain (delta, nl16 - at16, NULL);
      patches_delta_retain (delta, 1, attributes);
      at16 = nl16 + 1;
    }

  inverse = build_inverse (self, delta);
  if (inverse == NULL || patches_delta_get_n_ops (inverse) == 0)
    return FALSE;

  self->suppress++;
  for (guint i = 0; i < newlines->len; i++)
    {
      gint64 offset = g_array_index (newlines, gint64, i);
      GtkTextIter nl;

      gtk_text_buffer_get_iter_at_offset (self->buffer, &nl, offset);
      if (gtk_text_iter_is_end (&nl))
        set_final_attribute (self, key, value);
      else
        {
          GtkTextIter after = nl;

          gtk_text_iter_forward_char (&after);
          notes_rich_text_apply_attributes (self->rich_text, self->buffer, &nl, &after, attributes,
                                            NOTES_TAG_KIND_LINE);
        }
      refresh_line (self, &nl);
    }
  self->suppress--;

  if (self->undo_manager != NULL)
    notes_undo_manager_break_merge (self->undo_manager);
  self->last_merge = NOTES_UNDO_MERGE_NEVER;
  commit (self, g_steal_pointer (&delta), g_steal_pointer (&inverse), NOTES_UNDO_MERGE_NEVER, FALSE);

  return TRUE;
}

/* Offsets of the "\n"s ending the lines [@start, @end] touches (the end
 * of the buffer for the last line); a non-empty range that ends at the
 * start of a line does not touch that line.  With @strict only the "\n"s
 * inside [@start, @end) count. */
static GArray *
collect_newlines (const GtkTextIter *start,
                  const GtkTextIter *end,
                  gboolean           strict)
{
  GArray *newlines = g_array_new (FALSE, FALSE, sizeof (gint64));
  GtkTextIter iter = *start;
  GtkTextIter limit = *end;

  if (!strict && gtk_text_iter_compare (start, end) < 0)
    {
      GtkTextIter before = *end;

      if (gtk_text_iter_backward_char (&before) && gtk_text_iter_get_char (&before) == '\n')
        limit = before;
    }

  for (;;)
    {
      gboolean found = to_newline (&iter);
      gint64 offset = gtk_text_iter_get_offset (&iter);

      if (strict && (!found || gtk_text_iter_compare (&iter, end) >= 0))
        break;

      g_array_append_val (newlines, offset);
      if (!found || (!strict && gtk_text_iter_compare (&iter, &limit) >= 0))
        break;
      gtk_text_iter_forward_char (&iter);
    }

  return newlines;
}

static void
on_apply_tag (GtkTextBuffer    *buffer,
              GtkTextTag       *tag,
              GtkTextIter      *start,
              GtkTextIter      *end,
              NotesTextBinding *self)
{
  NotesTagKind kind;
  GtkTextIter s = *start;
  GtkTextIter e = *end;

  if (self->suppress > 0)
    return;

  kind = notes_rich_text_tag_get_kind (tag);
  if (kind == NOTES_TAG_KIND_NONE)
    return;

  /* The binding applies it itself, as a change of the document */
  g_signal_stop_emission_by_name (buffer, "apply-tag");

  /* A pasted embed mark: the document got a plain U+FFFC with the text */
  if (kind == NOTES_TAG_KIND_EMBED)
    return;

  if (kind == NOTES_TAG_KIND_INLINE)
    format_inline (self, &s, &e, notes_rich_text_tag_get_key (tag), notes_rich_text_tag_get_value (tag));
  else
    {
      g_autoptr(GArray) newlines = collect_newlines (&s, &e, TRUE);

      if (!format_lines (self, newlines, notes_rich_text_tag_get_key (tag), notes_rich_text_tag_get_value (tag)))
        {
          /* A line tag on characters only (a rich paste): keep the lines
           * showing what their "\n"s say */
          self->suppress++;
          refresh_lines (self, &s, &e);
          self->suppress--;
        }
    }
}

static void
on_remove_tag (GtkTextBuffer    *buffer,
               GtkTextTag       *tag,
               GtkTextIter      *start,
               GtkTextIter      *end,
               NotesTextBinding *self)
{
  g_autoptr(PatchesValue) null = NULL;
  NotesTagKind kind;
  GtkTextIter s = *start;
  GtkTextIter e = *end;

  if (self->suppress > 0)
    return;

  kind = notes_rich_text_tag_get_kind (tag);
  if (kind != NOTES_TAG_KIND_INLINE && kind != NOTES_TAG_KIND_LINE)
    return;

  g_signal_stop_emission_by_name (buffer, "remove-tag");
  null = patches_value_new_null ();

  if (kind == NOTES_TAG_KIND_INLINE)
    {
      /* Only where the range has this very value */
      GtkTextIter pos = s;

      while (gtk_text_iter_compare (&pos, &e) < 0)
        {
          GtkTextIter next = pos;

          if (!gtk_text_iter_forward_to_tag_toggle (&next, tag) || gtk_text_iter_compare (&next, &e) > 0)
            next = e;
          /* Tags change, the text does not: the iterators stay valid */
          if (gtk_text_iter_has_tag (&pos, tag))
            format_inline (self, &pos, &next, notes_rich_text_tag_get_key (tag), null);
          pos = next;
        }
    }
  else
    {
      g_autoptr(GArray) newlines = collect_newlines (&s, &e, TRUE);

      format_lines (self, newlines, notes_rich_text_tag_get_key (tag), null);
    }
}

static void
on_mark_set (GtkTextBuffer    *buffer,
             GtkTextIter      *location,
             GtkTextMark      *mark,
             NotesTextBinding *self)
{
  if (self->suppress > 0 || self->typing_attributes == NULL)
    return;

  if (mark == gtk_text_buffer_get_insert (buffer) && !typing_mark_at (self, location))
    g_clear_pointer (&self->typing_attributes, patches_value_unref);
}

static void
on_begin_user_action (GtkTextBuffer    *buffer,
                      NotesTextBinding *self)
{
  if (self->user_action_depth++ == 0 && self->undo_manager != NULL)
    {
      self->group_manager = g_object_ref (self->undo_manager);
      notes_undo_manager_begin_group (self->group_manager);
    }
}

static void
on_end_user_action (GtkTextBuffer    *buffer,
                    NotesTextBinding *self)
{
  if (self->user_action_depth == 0)
    return;

  if (--self->user_action_depth == 0 && self->group_manager != NULL)
    {
      notes_undo_manager_end_group (self->group_manager);
      g_clear_object (&self->group_manager);
    }
}

/* ------------------------------------------------------------------ */
/* Document updates → the buffer                                       */
/* ------------------------------------------------------------------ */

static gboolean
path_touches (const char *bound,
              const char *path)
{
  return strcmp (bound, path) == 0 ||
         patches_pointer_is_under (bound, path) ||
         patches_pointer_is_under (path, bound);
}

/* Whether the character before buffer offset @c has as many UTF-16
 * units in the buffer as in the document.  A surrogate pair that an edit
 * splits, or two lone surrogates (U+FFFD in the buffer) that it joins,
 * show up as a difference right at the edit. */
static gboolean
boundary_in_step (NotesTextBinding  *self,
                  const PatchesText *text,
                  gint64             c)
{
  GtkTextIter iter;
  gint64 buffer_units;

  if (c <= 0)
    return TRUE;

  gtk_text_buffer_get_iter_at_offset (self->buffer, &iter, c - 1);
  buffer_units = gtk_text_iter_get_char (&iter) > 0xFFFF ? 2 : 1;

  return utf16_at (text, c) - utf16_at (text, c - 1) == buffer_units;
}

static gboolean
insert_span (NotesTextBinding     *self,
             const PatchesText    *text,
             gint64                new_pos,
             const PatchesDeltaOp *op)
{
  g_autoptr(GString) utf8 = g_string_new (NULL);
  GtkTextIter iter;
  GtkTextIter start;
  glong n_chars = 0;
  gint64 offset = char_at (text, new_pos);
  GtkTextMark *insert_mark = gtk_text_buffer_get_insert (self->buffer);
  GtkTextMark *bound_mark = gtk_text_buffer_get_selection_bound (self->buffer);
  gboolean keep_insert;
  gboolean keep_bound;
  gboolean has_newline;

  if (op->text != NULL)
    append_utf16 (utf8, op->text, op->length, &n_chars);
  else
    {
      g_string_append_unichar (utf8, NOTES_EMBED_CHAR);
      n_chars = 1;
    }
  if (n_chars == 0)
    return TRUE;

  has_newline = strchr (utf8->str, '\n') != NULL;

  /* A cursor right where the text goes stays before it, as Quill keeps
   * it for changes that are not the user's own */
  gtk_text_buffer_get_iter_at_mark (self->buffer, &iter, insert_mark);
  keep_insert = gtk_text_iter_get_offset (&iter) == offset;
  gtk_text_buffer_get_iter_at_mark (self->buffer, &iter, bound_mark);
  keep_bound = gtk_text_iter_get_offset (&iter) == offset;

  gtk_text_buffer_get_iter_at_offset (self->buffer, &iter, offset);
  gtk_text_buffer_insert (self->buffer, &iter, utf8->str, utf8->len);
  gtk_text_buffer_get_iter_at_offset (self->buffer, &start, offset);

  if (keep_insert)
    gtk_text_buffer_move_mark (self->buffer, insert_mark, &start);
  if (keep_bound)
    gtk_text_buffer_move_mark (self->buffer, bound_mark, &start);

  if (op->embed != NULL)
    gtk_text_buffer_apply_tag (self->buffer, notes_rich_text_ensure_embed_tag (self->rich_text, op->embed),
                               &start, &iter);

  if (op->attributes != NULL)
    {
      notes_rich_text_apply_attributes (self->rich_text, self->buffer, &start, &iter, op->attributes,
                                        NOTES_TAG_KIND_INLINE);
      if (has_newline && has_line_key (op->attributes))
        {
          GtkTextIter nl = start;

          while (to_newline (&nl) && gtk_text_iter_compare (&nl, &iter) < 0)
            {
              GtkTextIter after = nl;

              gtk_text_iter_forward_char (&after);
              notes_rich_text_apply_attributes (self->rich_text, self->buffer, &nl, &after, op->attributes,
                                                NOTES_TAG_KIND_LINE);
              nl = after;
            }
        }
    }

  if (has_newline)
    refresh_lines (self, &start, &iter);
  else
    style_span_as_line (self, &start, &iter);

  return boundary_in_step (self, text, offset) && boundary_in_step (self, text, offset + n_chars);
}

static gboolean
delete_span (NotesTextBinding  *self,
             const PatchesText *text,
             gint64             new_pos,
             gint64             length)
{
  GtkTextIter start;
  GtkTextIter end;
  gint64 left = length;

  gtk_text_buffer_get_iter_at_offset (self->buffer, &start, char_at (text, new_pos));
  end = start;
  while (left > 0 && !gtk_text_iter_is_end (&end))
    {
      left -= gtk_text_iter_get_char (&end) > 0xFFFF ? 2 : 1;
      gtk_text_iter_forward_char (&end);
    }

  gtk_text_buffer_delete (self->buffer, &start, &end);
  refresh_line (self, &start);

  /* left < 0: the delete ended inside a surrogate pair */
  return left == 0 && boundary_in_step (self, text, gtk_text_iter_get_offset (&start));
}

static void
format_span (NotesTextBinding  *self,
             const PatchesText *text,
             gint64             old_pos,
             gint64             new_pos,
             gint64             length,
             PatchesValue      *attributes)
{
  gint64 body = self->length - 1;
  gint64 in_body = MIN (length, body - old_pos);

  if (in_body > 0)
    {
      GtkTextIter start;
      GtkTextIter end;
      GtkTextIter nl;

      gtk_text_buffer_get_iter_at_offset (self->buffer, &start, char_at (text, new_pos));
      gtk_text_buffer_get_iter_at_offset (self->buffer, &end, char_at (text, new_pos + in_body));
      notes_rich_text_apply_attributes (self->rich_text, self->buffer, &start, &end, attributes,
                                        NOTES_TAG_KIND_INLINE);

      if (has_line_key (attributes))
        {
          nl = start;
          while (to_newline (&nl) && gtk_text_iter_compare (&nl, &end) < 0)
            {
              GtkTextIter after = nl;

              gtk_text_iter_forward_char (&after);
              notes_rich_text_apply_attributes (self->rich_text, self->buffer, &nl, &after, attributes,
                                                NOTES_TAG_KIND_LINE);
              refresh_line (self, &nl);
              nl = after;
            }
        }
    }
  else
    in_body = 0;

  if (length > in_body && old_pos + in_body == body)
    {
      /* The document's final "\n" */
      guint n = patches_value_object_get_size (attributes);
      GtkTextIter end;

      for (guint i = 0; i < n; i++)
        set_final_attribute (self, patches_value_object_key_at (attributes, i),
                             patches_value_object_value_at (attributes, i));
      gtk_text_buffer_get_end_iter (self->buffer, &end);
      refresh_line (self, &end);
    }
}

/* Replays @delta, which the document just applied, on the buffer.
 * Returns %FALSE when it cannot be replayed piecewise (it reached past
 * the final "\n", or the lengths do not add up): the caller reloads. */
static gboolean
apply_delta (NotesTextBinding   *self,
             const PatchesDelta *delta,
             gboolean            place_cursor)
{
  const PatchesText *text = get_text (self);
  gint64 old_length = self->length;
  gint64 new_length = patches_text_get_length (text);
  gint64 expected = old_length;
  gint64 old_pos = 0;
  gint64 new_pos = 0;
  gint64 cursor = -1;
  gboolean ok = TRUE;

  self->suppress++;

  for (guint i = 0; ok && i < patches_delta_get_n_ops (delta); i++)
    {
      const PatchesDeltaOp *op = patches_delta_get_op (delta, i);

      switch (op->kind)
        {
        case PATCHES_DELTA_INSERT:
          if (old_pos > old_length - 1)
            {
              ok = FALSE;
              break;
            }
          if (!insert_span (self, text, new_pos, op))
            ok = FALSE;
          new_pos += op->length;
          expected += op->length;
          cursor = new_pos;
          break;

        case PATCHES_DELTA_DELETE:
          if (old_pos + op->length > old_length - 1)
            {
              ok = FALSE;
              break;
            }
          if (!delete_span (self, text, new_pos, op->length))
            ok = FALSE;
          old_pos += op->length;
          expected -= op->length;
          cursor = new_pos;
          break;

        case PATCHES_DELTA_RETAIN:
        default:
          if (op->attributes != NULL && old_pos < old_length)
            format_span (self, text, old_pos, new_pos, MIN (op->length, old_length - old_pos), op->attributes);
          if (op->length >= old_length - old_pos)
            {
              /* Runs to (or past) the end: nothing after it can be
               * replayed piecewise */
              old_pos = old_length;
              new_pos = G_MAXINT64 / 2;
            }
          else
            {
              old_pos += op->length;
              new_pos += op->length;
            }
          break;
        }
    }

  self->suppress--;

  if (!ok || expected != new_length)
    return FALSE;

  self->length = new_length;

  if (gtk_text_buffer_get_char_count (self->buffer) != patches_text_get_n_chars (text) - 1)
    return FALSE;

  if (place_cursor && cursor >= 0)
    {
      GtkTextIter iter;

      gtk_text_buffer_get_iter_at_offset (self->buffer, &iter, char_at (text, cursor));
      self->suppress++;
      gtk_text_buffer_place_cursor (self->buffer, &iter);
      self->suppress--;
    }

  return TRUE;
}

static void
on_doc_update (PatchesDoc       *doc,
               PatchesPatch     *ops,
               gboolean          local,
               NotesTextBinding *self)
{
  g_autoptr(PatchesDelta) composed = NULL;
  gboolean reload = FALSE;
  guint n;

  if (self->in_local_change > 0 || ops == NULL)
    return;

  n = patches_patch_get_n_ops (ops);
  for (guint i = 0; i < n; i++)
    {
      PatchesOp *op = patches_patch_get_op (ops, i);

      if (op->path == NULL || op->kind == PATCHES_OP_TEST)
        continue;

      if (op->kind == PATCHES_OP_TXT && strcmp (op->path, self->path) == 0)
        {
          const PatchesDelta *delta = patches_op_get_delta (op);

          if (delta == NULL)
            reload = TRUE;
          else if (composed == NULL)
            composed = patches_delta_copy (delta);
          else
            {
              PatchesDelta *next = patches_delta_compose (composed, delta);

              patches_delta_free (composed);
              composed = next;
            }
        }
      else if (path_touches (self->path, op->path) ||
               (op->kind == PATCHES_OP_MOVE && op->from != NULL && path_touches (self->path, op->from)))
        reload = TRUE;
    }

  /* Text typed at the typing mark no longer follows a remote edit */
  if (reload || composed != NULL)
    {
      if (reload || !apply_delta (self, composed, local))
        load (self, TRUE);
    }
}

/* ------------------------------------------------------------------ */
/* GObject                                                             */
/* ------------------------------------------------------------------ */

static void
notes_text_binding_constructed (GObject *object)
{
  NotesTextBinding *self = NOTES_TEXT_BINDING (object);
  GtkTextIter start;

  G_OBJECT_CLASS (notes_text_binding_parent_class)->constructed (object);

  g_return_if_fail (GTK_IS_TEXT_BUFFER (self->buffer));
  g_return_if_fail (PATCHES_IS_DOC (self->doc));
  g_return_if_fail (self->path != NULL);

  self->rich_text = notes_rich_text_new (gtk_text_buffer_get_tag_table (self->buffer));

  /* Undo is the undo manager's: GTK's own would undo remote edits too */
  gtk_text_buffer_set_enable_undo (self->buffer, FALSE);

  gtk_text_buffer_get_start_iter (self->buffer, &start);
  self->merge_mark = gtk_text_buffer_create_mark (self->buffer, NULL, &start, TRUE);
  self->typing_mark = gtk_text_buffer_create_mark (self->buffer, NULL, &start, TRUE);

  self->buffer_signals = g_signal_group_new (GTK_TYPE_TEXT_BUFFER);
  g_signal_group_connect_object (self->buffer_signals, "insert-text",
                                 G_CALLBACK (on_insert_text_after), self, G_CONNECT_AFTER);
  g_signal_group_connect_object (self->buffer_signals, "insert-paintable",
                                 G_CALLBACK (on_insert_paintable_after), self, G_CONNECT_AFTER);
  g_signal_group_connect_object (self->buffer_signals, "insert-child-anchor",
                                 G_CALLBACK (on_insert_child_anchor_after), self, G_CONNECT_AFTER);
  g_signal_group_connect_object (self->buffer_signals, "delete-range",
                                 G_CALLBACK (on_delete_range), self, 0);
  g_signal_group_connect_object (self->buffer_signals, "delete-range",
                                 G_CALLBACK (on_delete_range_after), self, G_CONNECT_AFTER);
  g_signal_group_connect_object (self->buffer_signals, "apply-tag",
                                 G_CALLBACK (on_apply_tag), self, 0);
  g_signal_group_connect_object (self->buffer_signals, "remove-tag",
                                 G_CALLBACK (on_remove_tag), self, 0);
  g_signal_group_connect_object (self->buffer_signals, "mark-set",
                                 G_CALLBACK (on_mark_set), self, 0);
  g_signal_group_connect_object (self->buffer_signals, "begin-user-action",
                                 G_CALLBACK (on_begin_user_action), self, 0);
  g_signal_group_connect_object (self->buffer_signals, "end-user-action",
                                 G_CALLBACK (on_end_user_action), self, 0);

  load (self, FALSE);

  g_signal_group_set_target (self->buffer_signals, self->buffer);
  self->update_handler = g_signal_connect (self->doc, "update", G_CALLBACK (on_doc_update), self);
}

static void
notes_text_binding_dispose (GObject *object)
{
  NotesTextBinding *self = NOTES_TEXT_BINDING (object);

  g_clear_handle_id (&self->reload_source, g_source_remove);

  if (self->buffer_signals != NULL)
    g_signal_group_set_target (self->buffer_signals, NULL);
  g_clear_object (&self->buffer_signals);

  if (self->doc != NULL)
    g_clear_signal_handler (&self->update_handler, self->doc);

  if (self->group_manager != NULL)
    {
      notes_undo_manager_end_group (self->group_manager);
      g_clear_object (&self->group_manager);
    }
  notes_text_binding_set_undo_manager (self, NULL);

  if (self->buffer != NULL)
    {
      if (self->merge_mark != NULL)
        gtk_text_buffer_delete_mark (self->buffer, self->merge_mark);
      if (self->typing_mark != NULL)
        gtk_text_buffer_delete_mark (self->buffer, self->typing_mark);
      self->merge_mark = NULL;
      self->typing_mark = NULL;
    }

  g_clear_object (&self->rich_text);
  g_clear_object (&self->buffer);
  g_clear_object (&self->doc);

  G_OBJECT_CLASS (notes_text_binding_parent_class)->dispose (object);
}

static void
notes_text_binding_finalize (GObject *object)
{
  NotesTextBinding *self = NOTES_TEXT_BINDING (object);

  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->final_attributes, patches_value_unref);
  g_clear_pointer (&self->fallback_value, patches_value_unref);
  g_clear_pointer (&self->fallback_text, patches_text_free);
  g_clear_pointer (&self->pending_delete, patches_delta_free);
  g_clear_pointer (&self->pending_delete_inverse, patches_delta_free);
  g_clear_pointer (&self->typing_attributes, patches_value_unref);

  G_OBJECT_CLASS (notes_text_binding_parent_class)->finalize (object);
}

static void
notes_text_binding_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  NotesTextBinding *self = NOTES_TEXT_BINDING (object);

  switch (prop_id)
    {
    case PROP_BUFFER:
      g_value_set_object (value, self->buffer);
      break;

    case PROP_DOC:
      g_value_set_object (value, self->doc);
      break;

    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;

    case PROP_RICH_TEXT:
      g_value_set_object (value, self->rich_text);
      break;

    case PROP_UNDO_MANAGER:
      g_value_set_object (value, self->undo_manager);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_text_binding_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  NotesTextBinding *self = NOTES_TEXT_BINDING (object);

  switch (prop_id)
    {
    case PROP_BUFFER:
      self->buffer = g_value_dup_object (value);
      break;

    case PROP_DOC:
      self->doc = g_value_dup_object (value);
      break;

    case PROP_PATH:
      self->path = g_value_dup_string (value);
      break;

    case PROP_UNDO_MANAGER:
      notes_text_binding_set_undo_manager (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_text_binding_class_init (NotesTextBindingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = notes_text_binding_constructed;
  object_class->dispose = notes_text_binding_dispose;
  object_class->finalize = notes_text_binding_finalize;
  object_class->get_property = notes_text_binding_get_property;
  object_class->set_property = notes_text_binding_set_property;

  /**
   * NotesTextBinding:buffer:
   *
   * The text buffer.  Its own undo is turned off.
   */
  properties[PROP_BUFFER] =
    g_param_spec_object ("buffer", NULL, NULL,
                         GTK_TYPE_TEXT_BUFFER,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesTextBinding:doc:
   *
   * The document.
   */
  properties[PROP_DOC] =
    g_param_spec_object ("doc", NULL, NULL,
                         PATCHES_TYPE_DOC,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesTextBinding:path:
   *
   * JSON pointer of the rich-text value in the document, such as "/body".
   */
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesTextBinding:rich-text:
   *
   * The attribute ⇄ tag mapping of the buffer's tag table.
   */
  properties[PROP_RICH_TEXT] =
    g_param_spec_object ("rich-text", NULL, NULL,
                         NOTES_TYPE_RICH_TEXT,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * NotesTextBinding:undo-manager:
   *
   * When set, local edits go through it (and become undoable).
   */
  properties[PROP_UNDO_MANAGER] =
    g_param_spec_object ("undo-manager", NULL, NULL,
                         NOTES_TYPE_UNDO_MANAGER,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * NotesTextBinding::error:
   * @self: a #NotesTextBinding
   * @error: what went wrong
   *
   * Emitted when a local edit could not be applied to the document; the
   * buffer is then reloaded from the document.
   */
  signals[ERROR] =
    g_signal_new ("error",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
notes_text_binding_init (NotesTextBinding *self)
{
  self->last_merge = NOTES_UNDO_MERGE_NEVER;
}

/**
 * notes_text_binding_new:
 * @buffer: a text buffer
 * @doc: a document
 * @path: JSON pointer of a rich-text value in @doc, such as "/body"
 *
 * Loads the value into @buffer (replacing its text) and keeps the two in
 * step until the binding is disposed.
 *
 * Returns: (transfer full): a new binding
 */
NotesTextBinding *
notes_text_binding_new (GtkTextBuffer *buffer,
                        PatchesDoc    *doc,
                        const char    *path)
{
  g_return_val_if_fail (GTK_IS_TEXT_BUFFER (buffer), NULL);
  g_return_val_if_fail (PATCHES_IS_DOC (doc), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  return g_object_new (NOTES_TYPE_TEXT_BINDING,
                       "buffer", buffer,
                       "doc", doc,
                       "path", path,
                       NULL);
}

/**
 * notes_text_binding_get_buffer:
 * @self: a #NotesTextBinding
 *
 * Returns: (transfer none): the buffer
 */
GtkTextBuffer *
notes_text_binding_get_buffer (NotesTextBinding *self)
{
  g_return_val_if_fail (NOTES_IS_TEXT_BINDING (self), NULL);

  return self->buffer;
}

/**
 * notes_text_binding_get_doc:
 * @self: a #NotesTextBinding
 *
 * Returns: (transfer none): the document
 */
PatchesDoc *
notes_text_binding_get_doc (NotesTextBinding *self)
{
  g_return_val_if_fail (NOTES_IS_TEXT_BINDING (self), NULL);

  return self->doc;
}

/**
 * notes_text_binding_get_path:
 * @self: a #NotesTextBinding
 *
 * Returns: the JSON pointer of the bound value
 */
const char *
notes_text_binding_get_path (NotesTextBinding *self)
{
  g_return_val_if_fail (NOTES_IS_TEXT_BINDING (self), NULL);

  return self->path;
}

/**
 * notes_text_binding_get_rich_text:
 * @self: a #NotesTextBinding
 *
 * Returns: (transfer none): the attribute ⇄ tag mapping
 */
NotesRichText *
notes_text_binding_get_rich_text (NotesTextBinding *self)
{
  g_return_val_if_fail (NOTES_IS_TEXT_BINDING (self), NULL);

  return self->rich_text;
}

/**
 * notes_text_binding_get_undo_manager:
 * @self: a #NotesTextBinding
 *
 * Returns: (transfer none) (nullable): the undo manager
 */
NotesUndoManager *
notes_text_binding_get_undo_manager (NotesTextBinding *self)
{
  g_return_val_if_fail (NOTES_IS_TEXT_BINDING (self), NULL);

  return self->undo_manager;
}

/**
 * notes_text_binding_set_undo_manager:
 * @self: a #NotesTextBinding
 * @undo_manager: (nullable): an undo manager of the same document
 *
 * Sends local edits through @undo_manager, which also gets the binding's
 * cheap inverses for its undo and redo.
 */
void
notes_text_binding_set_undo_manager (NotesTextBinding *self,
                                     NotesUndoManager *undo_manager)
{
  g_return_if_fail (NOTES_IS_TEXT_BINDING (self));
  g_return_if_fail (undo_manager == NULL || NOTES_IS_UNDO_MANAGER (undo_manager));

  if (self->undo_manager == undo_manager)
    return;

  if (self->undo_manager != NULL)
    notes_undo_manager_set_invert_func (self->undo_manager, NULL, NULL, NULL);

  g_set_object (&self->undo_manager, undo_manager);

  if (self->undo_manager != NULL)
    notes_undo_manager_set_invert_func (self->undo_manager, invert_for_undo, self, NULL);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNDO_MANAGER]);
}

/**
 * notes_text_binding_reload:
 * @self: a #NotesTextBinding
 *
 * Reloads the buffer from the document, keeping the cursor offset.
 */
void
notes_text_binding_reload (NotesTextBinding *self)
{
  g_return_if_fail (NOTES_IS_TEXT_BINDING (self));

  load (self, TRUE);
}

/**
 * notes_text_binding_format:
 * @self: a #NotesTextBinding
 * @start: start of a range
 * @end: end of the range
 * @key: an attribute key
 * @value: (nullable): its value; %NULL or `null` removes the attribute
 *
 * Formats the range: an inline attribute is set on its characters
 * (`retain p, retain n {key: value}`), a line attribute (`header`,
 * `list`) on the "\n" of every line the range touches.  The buffer's tags
 * follow, and the change goes to the document (through the undo manager
 * when there is one).
 *
 * Returns: %TRUE if anything changed
 */
gboolean
notes_text_binding_format (NotesTextBinding  *self,
                           const GtkTextIter *start,
                           const GtkTextIter *end,
                           const char        *key,
                           PatchesValue      *value)
{
  g_autoptr(PatchesValue) null = NULL;
  GtkTextIter s;
  GtkTextIter e;

  g_return_val_if_fail (NOTES_IS_TEXT_BINDING (self), FALSE);
  g_return_val_if_fail (start != NULL && end != NULL && key != NULL, FALSE);

  if (value == NULL)
    value = null = patches_value_new_null ();

  s = *start;
  e = *end;
  gtk_text_iter_order (&s, &e);

  if (notes_rich_text_is_line_key (key))
    {
      g_autoptr(GArray) newlines = collect_newlines (&s, &e, FALSE);

      return format_lines (self, newlines, key, value);
    }

  return format_inline (self, &s, &e, key, value);
}

/**
 * notes_text_binding_range_has:
 * @self: a #NotesTextBinding
 * @start: start of a range
 * @end: end of the range
 * @key: an attribute key
 * @value: the value
 *
 * Whether the whole range has @key = @value: every character but the
 * "\n"s for an inline attribute, the "\n" of every line it touches for a
 * line attribute.  An empty range answers for the typing attributes at
 * the cursor (inline) or for its line.
 *
 * Returns: %TRUE if the range has the attribute throughout
 */
gboolean
notes_text_binding_range_has (NotesTextBinding  *self,
                              const GtkTextIter *start,
                              const GtkTextIter *end,
                              const char        *key,
                              PatchesValue      *value)
{
  GtkTextTag *tag;
  GtkTextIter s;
  GtkTextIter e;

  g_return_val_if_fail (NOTES_IS_TEXT_BINDING (self), FALSE);
  g_return_val_if_fail (key != NULL && value != NULL, FALSE);

  s = *start;
  e = *end;
  gtk_text_iter_order (&s, &e);
  tag = notes_rich_text_lookup_tag (self->rich_text, key, value);

  if (notes_rich_text_is_line_key (key))
    {
      g_autoptr(GArray) newlines = collect_newlines (&s, &e, FALSE);

      for (guint i = 0; i < newlines->len; i++)
        {
          GtkTextIter nl;

          gtk_text_buffer_get_iter_at_offset (self->buffer, &nl, g_array_index (newlines, gint64, i));
          if (gtk_text_iter_is_end (&nl) ? (tag == NULL || !final_has_tag (self, tag))
                                         : (tag == NULL || !gtk_text_iter_has_tag (&nl, tag)))
            return FALSE;
        }
      return newlines->len > 0;
    }

  if (gtk_text_iter_equal (&s, &e))
    {
      g_autoptr(PatchesValue) typing = notes_text_binding_dup_typing_attributes (self);
      PatchesValue *current = typing != NULL ? patches_value_object_get (typing, key) : NULL;

      return current != NULL && patches_value_equal (current, value);
    }

  if (tag == NULL)
    return FALSE;

  for (GtkTextIter pos = s; gtk_text_iter_compare (&pos, &e) < 0; gtk_text_iter_forward_char (&pos))
    {
      if (gtk_text_iter_has_tag (&pos, tag))
        {
          /* Skip to the end of the tagged run */
          if (!gtk_text_iter_forward_to_tag_toggle (&pos, tag) || gtk_text_iter_compare (&pos, &e) >= 0)
            return TRUE;
        }
      if (gtk_text_iter_get_char (&pos) != '\n')
        return FALSE;
    }

  return TRUE;
}

/**
 * notes_text_binding_dup_typing_attributes:
 * @self: a #NotesTextBinding
 *
 * The inline attributes that text typed at the cursor would get: those
 * of the character before it (links aside), changed by the typing
 * attributes chosen with notes_text_binding_set_typing_attribute().
 *
 * Returns: (transfer full) (nullable): an attribute object, or %NULL
 */
PatchesValue *
notes_text_binding_dup_typing_attributes (NotesTextBinding *self)
{
  g_autoptr(PatchesValue) attributes = NULL;
  GtkTextIter cursor;
  GtkTextIter from;

  g_return_val_if_fail (NOTES_IS_TEXT_BINDING (self), NULL);

  gtk_text_buffer_get_iter_at_mark (self->buffer, &cursor, gtk_text_buffer_get_insert (self->buffer));
  from = cursor;
  if (!gtk_text_iter_is_start (&from) && gtk_text_iter_backward_char (&from) &&
      gtk_text_iter_get_char (&from) != '\n')
    attributes = notes_rich_text_dup_attributes (self->rich_text, &from, FALSE);
  else if (!gtk_text_iter_is_end (&cursor) && gtk_text_iter_get_char (&cursor) != '\n')
    attributes = notes_rich_text_dup_attributes (self->rich_text, &cursor, FALSE);

  if (attributes != NULL)
    {
      PatchesValue *without_link = notes_rich_text_attributes_set (attributes, "link", NULL);

      patches_value_unref (attributes);
      attributes = without_link;
    }

  if (typing_mark_at (self, &cursor))
    {
      guint n = patches_value_object_get_size (self->typing_attributes);

      for (guint i = 0; i < n; i++)
        {
          PatchesValue *next = notes_rich_text_attributes_set (attributes,
                                                               patches_value_object_key_at (self->typing_attributes, i),
                                                               patches_value_object_value_at (self->typing_attributes, i));

          g_clear_pointer (&attributes, patches_value_unref);
          attributes = next;
        }
    }

  return g_steal_pointer (&attributes);
}

/**
 * notes_text_binding_set_typing_attribute:
 * @self: a #NotesTextBinding
 * @key: an inline attribute key
 * @value: (nullable): its value; %NULL or `null` to type without it
 *
 * Chooses the formatting of the text typed next at the cursor (Ctrl+B
 * without a selection).  Forgotten when the cursor moves.
 */
void
notes_text_binding_set_typing_attribute (NotesTextBinding *self,
                                         const char       *key,
                                         PatchesValue     *value)
{
  g_autoptr(PatchesValue) updated = NULL;
  GtkTextIter cursor;

  g_return_if_fail (NOTES_IS_TEXT_BINDING (self));
  g_return_if_fail (key != NULL);

  gtk_text_buffer_get_iter_at_mark (self->buffer, &cursor, gtk_text_buffer_get_insert (self->buffer));

  if (self->typing_attributes != NULL && typing_mark_at (self, &cursor))
    updated = patches_value_copy_shallow (self->typing_attributes);
  else
    updated = patches_value_new_object ();

  /* An explicit null is kept: it turns off what the text before has */
  patches_value_object_set (updated, key, value != NULL ? patches_value_ref (value) : patches_value_new_null ());

  g_clear_pointer (&self->typing_attributes, patches_value_unref);
  self->typing_attributes = g_steal_pointer (&updated);
  gtk_text_buffer_move_mark (self->buffer, self->typing_mark, &cursor);
}
