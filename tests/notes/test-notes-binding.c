/* test-notes-binding.c
 *
 * The note editor's text binding, rich-text mapping and undo manager,
 * over a PatchesClient with a PatchesMemoryStore (no server): local
 * edits become @txt deltas counted in UTF-16, remote committed changes
 * are replayed on the buffer without moving the cursor wrongly, the
 * formatting actions send the expected deltas, unknown attributes
 * survive, and undo reverts only the user's own edits.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include <adwaita.h>

#include "patches.h"
#include "patches-client.h"
#include "patches-memory-store.h"
#include "patches-pointer.h"
#include "patches-text.h"

#include "notes-editor.h"
#include "notes-resources.h"

#define DOC_ID "note/test"

typedef struct {
  PatchesMemoryStore *store;
  PatchesClient      *client;
  PatchesDoc         *doc;
  GtkWidget          *window;
  NotesEditor        *editor;
  GtkTextBuffer      *buffer;
  guint               remote_count;
} Fixture;

/* A committed change from "someone else", at the next revision. */
static void
commit_remote (Fixture    *f,
               const char *ops_json)
{
  gint64 rev = patches_client_get_committed_rev (f->client, DOC_ID);
  g_autofree char *json = NULL;
  g_autoptr(PatchesValue) value = NULL;
  g_autoptr(PatchesChange) change = NULL;
  g_autoptr(GPtrArray) changes = patches_changes_new ();
  g_autoptr(GError) error = NULL;

  json = g_strdup_printf ("{\"id\":\"remote-%u\",\"ops\":%s,\"rev\":%" G_GINT64_FORMAT ","
                          "\"baseRev\":%" G_GINT64_FORMAT ",\"createdAt\":1,\"committedAt\":2,"
                          "\"clientId\":\"other\"}",
                          ++f->remote_count, ops_json, rev + 1, rev);
  value = patches_value_parse (json, -1, &error);
  g_assert_no_error (error);
  change = patches_change_from_value (value, &error);
  g_assert_no_error (error);
  g_ptr_array_add (changes, patches_change_ref (change));

  patches_client_apply_committed (f->client, DOC_ID, changes, &error);
  g_assert_no_error (error);
  g_assert_cmpint (patches_client_get_committed_rev (f->client, DOC_ID), ==, rev + 1);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  const char *body = data != NULL ? data : "{\"ops\":[{\"insert\":\"hello world\\n\"}]}";
  g_autofree char *ops = NULL;
  g_autoptr(GError) error = NULL;

  f->store = patches_memory_store_new ();
  f->client = patches_client_new (PATCHES_STORE (f->store));
  f->doc = patches_client_open_doc (f->client, DOC_ID, &error);
  g_assert_no_error (error);

  ops = g_strdup_printf ("[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"Test\"},"
                         "{\"op\":\"replace\",\"path\":\"/body\",\"value\":%s}]", body);
  commit_remote (f, ops);

  f->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (f->window), 600, 400);
  f->editor = notes_editor_new ();
  gtk_window_set_child (GTK_WINDOW (f->window), GTK_WIDGET (f->editor));
  notes_editor_set_doc (f->editor, f->doc);
  f->buffer = gtk_text_view_get_buffer (notes_editor_get_text_view (f->editor));
  gtk_window_present (GTK_WINDOW (f->window));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  notes_editor_set_doc (f->editor, NULL);
  gtk_window_destroy (GTK_WINDOW (f->window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&f->doc);
  g_clear_object (&f->client);
  g_clear_object (&f->store);
}

/* Helpers */

static char *
buffer_text (Fixture *f)
{
  GtkTextIter start;
  GtkTextIter end;

  gtk_text_buffer_get_bounds (f->buffer, &start, &end);
  return gtk_text_buffer_get_slice (f->buffer, &start, &end, TRUE);
}

static PatchesText *
doc_body (Fixture *f)
{
  PatchesValue *body = patches_pointer_lookup (patches_doc_get_state (f->doc), "/body");

  g_assert_nonnull (body);
  if (patches_value_get_kind (body) == PATCHES_VALUE_TEXT)
    return patches_text_copy (patches_value_get_text (body));

  return patches_text_new_from_delta (patches_delta_from_value (body, NULL));
}

static char *
doc_body_json (Fixture *f)
{
  g_autoptr(PatchesText) text = doc_body (f);
  g_autoptr(GString) out = g_string_new (NULL);

  patches_text_write_json (text, out);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* The document's text without its final "\n" must be the buffer's. */
static void
assert_in_step (Fixture *f)
{
  g_autoptr(PatchesText) text = doc_body (f);
  g_autofree char *plain = patches_text_to_plain (text);
  g_autofree char *shown = buffer_text (f);
  gsize len = strlen (plain);

  g_assert_cmpuint (len, >, 0);
  g_assert_cmpint (plain[len - 1], ==, '\n');
  plain[len - 1] = '\0';
  if (g_strcmp0 (shown, plain) != 0)
    {
      g_autofree char *a = g_strescape (shown, "\xc3\xa9\xf0\x9f\x98\x80\xf0\x9f\x8e\x89\xef\xbf\xbd");
      g_autofree char *b = g_strescape (plain, "\xc3\xa9\xf0\x9f\x98\x80\xf0\x9f\x8e\x89\xef\xbf\xbd");

      g_printerr ("buffer: %s\ndoc:    %s\n", a, b);
    }
  g_assert_cmpstr (shown, ==, plain);
}

/* Same JSON value (object members in any order). */
static void
assert_json_equal (const char *actual,
                   const char *expected)
{
  g_autoptr(PatchesValue) a = patches_value_parse (actual, -1, NULL);
  g_autoptr(PatchesValue) b = patches_value_parse (expected, -1, NULL);

  g_assert_nonnull (a);
  g_assert_nonnull (b);
  if (!patches_value_equal (a, b))
    g_assert_cmpstr (actual, ==, expected);
}

/* The value of the last pending @txt op at /body. */
static char *
last_body_delta (Fixture *f)
{
  GPtrArray *pending = patches_doc_get_pending (f->doc);

  for (guint i = pending->len; i-- > 0;)
    {
      PatchesChange *change = g_ptr_array_index (pending, i);

      for (guint j = change->ops->len; j-- > 0;)
        {
          PatchesOp *op = g_ptr_array_index (change->ops, j);

          if (op->kind == PATCHES_OP_TXT && g_strcmp0 (op->path, "/body") == 0)
            {
              g_autoptr(GString) out = g_string_new (NULL);

              patches_delta_write_json (patches_op_get_delta (op), out);
              return g_string_free (g_steal_pointer (&out), FALSE);
            }
        }
    }

  return NULL;
}

static guint
count_body_changes (Fixture *f)
{
  GPtrArray *pending = patches_doc_get_pending (f->doc);
  guint n = 0;

  for (guint i = 0; i < pending->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (pending, i);

      for (guint j = 0; j < change->ops->len; j++)
        {
          PatchesOp *op = g_ptr_array_index (change->ops, j);

          if (op->kind == PATCHES_OP_TXT && g_strcmp0 (op->path, "/body") == 0)
            n++;
        }
    }

  return n;
}

static void
type_at (Fixture    *f,
         int         offset,
         const char *text)
{
  GtkTextIter iter;

  gtk_text_buffer_begin_user_action (f->buffer);
  gtk_text_buffer_get_iter_at_offset (f->buffer, &iter, offset);
  gtk_text_buffer_insert (f->buffer, &iter, text, -1);
  gtk_text_buffer_end_user_action (f->buffer);
}

/* Types @text one character at a time, as keystrokes. */
static void
type_keys (Fixture    *f,
           int         offset,
           const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      char one[8] = { 0 };

      g_unichar_to_utf8 (g_utf8_get_char (p), one);
      type_at (f, offset++, one);
    }
}

static void
delete_range (Fixture *f,
              int      start,
              int      end)
{
  GtkTextIter s;
  GtkTextIter e;

  gtk_text_buffer_begin_user_action (f->buffer);
  gtk_text_buffer_get_iter_at_offset (f->buffer, &s, start);
  gtk_text_buffer_get_iter_at_offset (f->buffer, &e, end);
  gtk_text_buffer_delete (f->buffer, &s, &e);
  gtk_text_buffer_end_user_action (f->buffer);
}

static void
select_range (Fixture *f,
              int      insert,
              int      bound)
{
  GtkTextIter i;
  GtkTextIter b;

  gtk_text_buffer_get_iter_at_offset (f->buffer, &i, insert);
  gtk_text_buffer_get_iter_at_offset (f->buffer, &b, bound);
  gtk_text_buffer_select_range (f->buffer, &i, &b);
}

static int
mark_offset (Fixture     *f,
             GtkTextMark *mark)
{
  GtkTextIter iter;

  gtk_text_buffer_get_iter_at_mark (f->buffer, &iter, mark);
  return gtk_text_iter_get_offset (&iter);
}

static gboolean
has_tag_named (Fixture    *f,
               int         offset,
               const char *name)
{
  GtkTextTag *tag = gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (f->buffer), name);
  GtkTextIter iter;

  if (tag == NULL)
    return FALSE;
  gtk_text_buffer_get_iter_at_offset (f->buffer, &iter, offset);
  return gtk_text_iter_has_tag (&iter, tag);
}

/* Tests */

static void
test_load (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *text = buffer_text (f);
  g_autofree char *json = NULL;

  /* The buffer shows the text without the document's final "\n" */
  g_assert_cmpstr (text, ==, "Title\nbold plain odd");
  g_assert_true (has_tag_named (f, 0, "patches-attr:header=1"));
  g_assert_true (has_tag_named (f, 5, "patches-attr:header=1"));
  g_assert_true (has_tag_named (f, 6, "patches-attr:bold=true"));
  g_assert_false (has_tag_named (f, 11, "patches-attr:bold=true"));
  g_assert_true (has_tag_named (f, 17, "patches-attr:x-color=\"red\""));
  g_assert_true (has_tag_named (f, 6, "patches-attr:list=\"bullet\""));
  g_assert_cmpstr (gtk_editable_get_text (notes_editor_get_title_entry (f->editor)), ==, "Test");
  g_assert_false (patches_doc_get_has_pending (f->doc));

  /* Loading sends nothing; a local edit elsewhere keeps every attribute */
  type_at (f, 10, "!");
  json = doc_body_json (f);
  g_assert_cmpstr (json, ==,
                   "{\"ops\":[{\"insert\":\"Title\"},{\"insert\":\"\\n\",\"attributes\":{\"header\":1}},"
                   "{\"insert\":\"bold!\",\"attributes\":{\"bold\":true}},{\"insert\":\" plain \"},"
                   "{\"insert\":\"odd\",\"attributes\":{\"x-color\":\"red\"}},"
                   "{\"insert\":\"\\n\",\"attributes\":{\"list\":\"bullet\"}}]}");
  assert_in_step (f);
}

static void
test_type_utf16 (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *delta = NULL;
  g_autofree char *again = NULL;

  /* "a😀b": the emoji is one character but two UTF-16 units */
  type_at (f, 2, "X");
  delta = last_body_delta (f);
  g_assert_cmpstr (delta, ==, "[{\"retain\":3},{\"insert\":\"X\"}]");
  assert_in_step (f);

  /* A non-BMP character typed counts two units too */
  type_at (f, 4, "🎉");
  again = last_body_delta (f);
  g_assert_cmpstr (again, ==, "[{\"retain\":5},{\"insert\":\"🎉\"}]");
  assert_in_step (f);
  g_assert_cmpuint (count_body_changes (f), ==, 2);
}

static void
test_delete_utf16 (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  /* Delete "b" after the emoji: retain 3 units */
  delete_range (f, 2, 3);
  first = last_body_delta (f);
  g_assert_cmpstr (first, ==, "[{\"retain\":3},{\"delete\":1}]");
  assert_in_step (f);

  /* Delete the emoji itself: two units */
  delete_range (f, 1, 2);
  second = last_body_delta (f);
  g_assert_cmpstr (second, ==, "[{\"retain\":1},{\"delete\":2}]");
  assert_in_step (f);
}

static void
test_remote_insert_keeps_cursor (Fixture       *f,
                                 gconstpointer  data)
{
  GtkTextMark *insert = gtk_text_buffer_get_insert (f->buffer);
  GtkTextMark *bound = gtk_text_buffer_get_selection_bound (f->buffer);
  g_autofree char *text = NULL;

  /* "hello world": a pending local edit first, so the remote change is
   * rebased over it */
  type_at (f, 11, "!");
  g_assert_true (patches_doc_get_has_pending (f->doc));

  /* Selection from 2 to 9 */
  select_range (f, 9, 2);

  /* Inside the selection: the end moves, the start stays */
  commit_remote (f, "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":5},{\"insert\":\"XYZ\"}]}]");
  g_clear_pointer (&text, g_free);
  text = buffer_text (f);
  g_assert_cmpstr (text, ==, "helloXYZ world!");
  g_assert_cmpint (mark_offset (f, bound), ==, 2);
  g_assert_cmpint (mark_offset (f, insert), ==, 12);
  assert_in_step (f);

  /* Before both: both shift */
  commit_remote (f, "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"insert\":\"AB\"}]}]");
  g_clear_pointer (&text, g_free);
  text = buffer_text (f);
  g_assert_cmpstr (text, ==, "ABhelloXYZ world!");
  g_assert_cmpint (mark_offset (f, bound), ==, 4);
  g_assert_cmpint (mark_offset (f, insert), ==, 14);

  /* After both, with a non-BMP character before the spot: nothing moves */
  commit_remote (f, "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":1},{\"insert\":\"😀\"}]}]");
  commit_remote (f, "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":17},{\"insert\":\"?\"}]}]");
  g_clear_pointer (&text, g_free);
  text = buffer_text (f);
  g_assert_cmpstr (text, ==, "A😀BhelloXYZ worl?d!");
  g_assert_cmpint (mark_offset (f, bound), ==, 5);
  g_assert_cmpint (mark_offset (f, insert), ==, 15);

  /* Exactly at the cursor: it stays before the remote text */
  select_range (f, 8, 8);
  commit_remote (f, "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":9},{\"insert\":\"__\"}]}]");
  g_assert_cmpint (mark_offset (f, insert), ==, 8);
  g_assert_cmpint (mark_offset (f, bound), ==, 8);

  /* A remote delete before the cursor pulls it back */
  commit_remote (f, "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"delete\":1}]}]");
  g_assert_cmpint (mark_offset (f, insert), ==, 7);
  assert_in_step (f);

  /* The local edit is still pending and still in the text */
  g_clear_pointer (&text, g_free);
  text = buffer_text (f);
  g_assert_true (g_str_has_suffix (text, "?d!"));
  g_assert_true (patches_doc_get_has_pending (f->doc));
}

static void
test_bold_action (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *on = NULL;
  g_autofree char *off = NULL;

  select_range (f, 11, 6);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->editor), "editor.bold", NULL));
  on = last_body_delta (f);
  g_assert_cmpstr (on, ==, "[{\"retain\":6},{\"retain\":5,\"attributes\":{\"bold\":true}}]");
  g_assert_true (has_tag_named (f, 6, "patches-attr:bold=true"));
  g_assert_true (has_tag_named (f, 10, "patches-attr:bold=true"));
  g_assert_false (has_tag_named (f, 5, "patches-attr:bold=true"));

  /* Again: the whole selection is bold, so bold goes */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->editor), "editor.bold", NULL));
  off = last_body_delta (f);
  g_assert_cmpstr (off, ==, "[{\"retain\":6},{\"retain\":5,\"attributes\":{\"bold\":null}}]");
  g_assert_false (has_tag_named (f, 6, "patches-attr:bold=true"));
  assert_in_step (f);
}

static void
test_typing_attribute (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *delta = NULL;
  g_autofree char *json = NULL;

  /* Ctrl+I with no selection: the next characters typed are italic */
  select_range (f, 5, 5);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->editor), "editor.italic", NULL));
  g_assert_cmpuint (count_body_changes (f), ==, 0);
  type_keys (f, 5, "ab");
  delta = last_body_delta (f);
  g_assert_cmpstr (delta, ==, "[{\"retain\":6},{\"insert\":\"b\",\"attributes\":{\"italic\":true}}]");

  /* Text typed after formatted text takes its formatting */
  type_at (f, 7, "c");
  json = doc_body_json (f);
  g_assert_cmpstr (json, ==,
                   "{\"ops\":[{\"insert\":\"hello\"},{\"insert\":\"abc\",\"attributes\":{\"italic\":true}},"
                   "{\"insert\":\" world\\n\"}]}");
  assert_in_step (f);
}

static void
test_remote_attributes (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *json = NULL;
  g_autofree char *after_delete = NULL;
  GtkTextTag *bold;

  commit_remote (f, "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":"
                    "[{\"retain\":6},{\"retain\":5,\"attributes\":{\"bold\":true,\"x-color\":\"red\"}}]}]");

  bold = gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (f->buffer), "patches-attr:bold=true");
  g_assert_nonnull (bold);
  g_assert_true (has_tag_named (f, 6, "patches-attr:bold=true"));
  g_assert_true (has_tag_named (f, 10, "patches-attr:x-color=\"red\""));
  g_assert_false (has_tag_named (f, 5, "patches-attr:x-color=\"red\""));
  {
    /* Bold is styled, the unknown attribute only kept */
    int weight = 0;
    gboolean weight_set = FALSE;
    GtkTextTag *odd = gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (f->buffer),
                                                 "patches-attr:x-color=\"red\"");

    g_object_get (bold, "weight", &weight, NULL);
    g_assert_cmpint (weight, ==, PANGO_WEIGHT_BOLD);
    g_object_get (odd, "weight-set", &weight_set, NULL);
    g_assert_false (weight_set);
  }

  /* A local edit elsewhere: the document still has the attribute */
  type_at (f, 0, ">");
  json = doc_body_json (f);
  g_assert_cmpstr (json, ==,
                   "{\"ops\":[{\"insert\":\">hello \"},"
                   "{\"insert\":\"world\",\"attributes\":{\"bold\":true,\"x-color\":\"red\"}},"
                   "{\"insert\":\"\\n\"}]}");

  /* Deleting some of that text and undoing it brings the attribute back */
  delete_range (f, 8, 10);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->editor), "editor.undo", NULL));
  after_delete = doc_body_json (f);
  g_assert_cmpstr (after_delete, ==, json);
  g_assert_true (has_tag_named (f, 9, "patches-attr:x-color=\"red\""));
  assert_in_step (f);
}

static void
test_undo_after_remote (Fixture       *f,
                        gconstpointer  data)
{
  NotesUndoManager *undo = notes_editor_get_undo_manager (f->editor);
  g_autofree char *text = NULL;

  /* "hello world": the user types " again" at the end, one key at a time */
  type_keys (f, 11, " again");
  g_assert_cmpuint (notes_undo_manager_get_n_undo (undo), ==, 1);

  /* GTK's own undo is off (GtkTextView then disables its text.undo, so
   * Ctrl+Z falls through to the editor's shortcut) */
  g_assert_false (gtk_text_buffer_get_enable_undo (f->buffer));
  g_assert_false (gtk_text_buffer_get_can_undo (f->buffer));

  /* Someone else edits the start and the middle (their positions count
   * in the committed text, without the user's pending edit) */
  commit_remote (f, "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"insert\":\"Dear \"}]}]");
  commit_remote (f, "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":10},{\"insert\":\",\"}]}]");
  text = buffer_text (f);
  g_assert_cmpstr (text, ==, "Dear hello, world again");

  /* Undo reverts only what the user typed */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->editor), "editor.undo", NULL));
  g_clear_pointer (&text, g_free);
  text = buffer_text (f);
  g_assert_cmpstr (text, ==, "Dear hello, world");
  assert_in_step (f);
  g_assert_false (notes_undo_manager_get_can_undo (undo));
  g_assert_true (notes_undo_manager_get_can_redo (undo));

  /* Another remote edit, then redo */
  commit_remote (f, "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"delete\":5}]}]");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->editor), "editor.redo", NULL));
  g_clear_pointer (&text, g_free);
  text = buffer_text (f);
  g_assert_cmpstr (text, ==, "hello, world again");
  assert_in_step (f);

  /* A remote replace of the whole body forgets every step */
  commit_remote (f, "[{\"op\":\"replace\",\"path\":\"/body\",\"value\":{\"ops\":[{\"insert\":\"new\\n\"}]}}]");
  g_assert_false (notes_undo_manager_get_can_undo (undo));
  g_assert_false (notes_undo_manager_get_can_redo (undo));
}

static void
test_undo_grouping (Fixture       *f,
                    gconstpointer  data)
{
  NotesUndoManager *undo = notes_editor_get_undo_manager (f->editor);
  g_autofree char *text = NULL;

  /* No time window: keystrokes join only inside a word (with the space
   * after it): " ", "ab ", "cd" */
  notes_undo_manager_set_merge_interval (undo, 0);
  type_keys (f, 11, " ab cd");
  g_assert_cmpuint (notes_undo_manager_get_n_undo (undo), ==, 3);

  g_assert_true (notes_undo_manager_undo (undo, NULL));
  text = buffer_text (f);
  g_assert_cmpstr (text, ==, "hello world ab ");
  g_assert_true (notes_undo_manager_undo (undo, NULL));
  g_clear_pointer (&text, g_free);
  text = buffer_text (f);
  g_assert_cmpstr (text, ==, "hello world ");
  g_assert_true (notes_undo_manager_undo (undo, NULL));
  g_clear_pointer (&text, g_free);
  text = buffer_text (f);
  g_assert_cmpstr (text, ==, "hello world");

  /* A deleted selection and the text typed over it are one step */
  select_range (f, 5, 0);
  gtk_text_buffer_begin_user_action (f->buffer);
  gtk_text_buffer_delete_selection (f->buffer, TRUE, TRUE);
  type_at (f, 0, "H");
  gtk_text_buffer_end_user_action (f->buffer);
  g_clear_pointer (&text, g_free);
  text = buffer_text (f);
  g_assert_cmpstr (text, ==, "H world");
  g_assert_true (notes_undo_manager_undo (undo, NULL));
  g_clear_pointer (&text, g_free);
  text = buffer_text (f);
  g_assert_cmpstr (text, ==, "hello world");
  assert_in_step (f);
}

static void
test_heading_and_list (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *heading = NULL;
  g_autofree char *list = NULL;
  g_autofree char *json = NULL;

  /* "line one\nline two" with the cursor on the first line */
  select_range (f, 2, 2);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->editor), "editor.heading", "i", 2));
  heading = last_body_delta (f);
  g_assert_cmpstr (heading, ==, "[{\"retain\":8},{\"retain\":1,\"attributes\":{\"header\":2}}]");
  g_assert_true (has_tag_named (f, 0, "patches-attr:header=2"));
  g_assert_true (has_tag_named (f, 8, "patches-attr:header=2"));
  g_assert_false (has_tag_named (f, 9, "patches-attr:header=2"));

  /* Both lines become a list: the last one's "\n" is the document's final one */
  select_range (f, 12, 3);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->editor), "editor.bullet-list", NULL));
  list = last_body_delta (f);
  g_assert_cmpstr (list, ==,
                   "[{\"retain\":8},{\"retain\":1,\"attributes\":{\"list\":\"bullet\"}},"
                   "{\"retain\":8},{\"retain\":1,\"attributes\":{\"list\":\"bullet\"}}]");
  g_assert_true (has_tag_named (f, 10, "patches-attr:list=\"bullet\""));

  /* Enter in the middle of a heading: both halves stay headings */
  type_at (f, 4, "\n");
  json = doc_body_json (f);
  assert_json_equal (json,
                   "{\"ops\":[{\"insert\":\"line\"},{\"insert\":\"\\n\",\"attributes\":{\"header\":2,\"list\":\"bullet\"}},"
                   "{\"insert\":\" one\"},{\"insert\":\"\\n\",\"attributes\":{\"header\":2,\"list\":\"bullet\"}},"
                   "{\"insert\":\"line two\"},{\"insert\":\"\\n\",\"attributes\":{\"list\":\"bullet\"}}]}");
  g_assert_true (has_tag_named (f, 6, "patches-attr:header=2"));

  /* Heading 0 removes it */
  select_range (f, 0, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->editor), "editor.heading", "i", 0));
  g_assert_false (has_tag_named (f, 0, "patches-attr:header=2"));
  assert_in_step (f);
}

static void
test_remote_line_format (Fixture       *f,
                         gconstpointer  data)
{
  /* Remote formatting of the last line lands on the final "\n" */
  commit_remote (f, "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":11},{\"retain\":1,\"attributes\":{\"header\":1}}]}]");
  g_assert_true (has_tag_named (f, 0, "patches-attr:header=1"));
  g_assert_true (has_tag_named (f, 10, "patches-attr:header=1"));

  /* Text typed on that line is shown as a heading too, and sent plain */
  type_at (f, 5, ",");
  g_assert_true (has_tag_named (f, 5, "patches-attr:header=1"));
  {
    g_autofree char *delta = last_body_delta (f);

    g_assert_cmpstr (delta, ==, "[{\"retain\":5},{\"insert\":\",\"}]");
  }
  assert_in_step (f);
}

static void
test_reset_keeps_cursor (Fixture       *f,
                         gconstpointer  data)
{
  GtkTextMark *insert = gtk_text_buffer_get_insert (f->buffer);
  g_autofree char *text = NULL;

  select_range (f, 7, 7);
  commit_remote (f, "[{\"op\":\"replace\",\"path\":\"/body\",\"value\":{\"ops\":[{\"insert\":\"rewritten text\\n\"}]}}]");
  text = buffer_text (f);
  g_assert_cmpstr (text, ==, "rewritten text");
  g_assert_cmpint (mark_offset (f, insert), ==, 7);

  /* Shorter than the cursor offset: clamped */
  commit_remote (f, "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"title\":\"T\",\"body\":{\"ops\":[{\"insert\":\"abc\\n\"}]}}}]");
  g_clear_pointer (&text, g_free);
  text = buffer_text (f);
  g_assert_cmpstr (text, ==, "abc");
  g_assert_cmpint (mark_offset (f, insert), ==, 3);
  g_assert_cmpstr (gtk_editable_get_text (notes_editor_get_title_entry (f->editor)), ==, "T");

  /* Editing after a reset still works */
  type_at (f, 3, "d");
  assert_in_step (f);
}

static void
test_title (Fixture       *f,
            gconstpointer  data)
{
  GtkEditable *title = notes_editor_get_title_entry (f->editor);
  PatchesValue *value;

  /* A remote title keeps the cursor where it was */
  g_assert_cmpstr (gtk_editable_get_text (title), ==, "Test");
  gtk_editable_set_position (title, 2);
  commit_remote (f, "[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"Our note\"}]");
  g_assert_cmpstr (gtk_editable_get_text (title), ==, "Our note");
  g_assert_cmpint (gtk_editable_get_position (title), ==, 2);
  g_assert_false (patches_doc_get_has_pending (f->doc));

  /* Editing the entry replaces /title */
  gtk_editable_set_text (title, "My note");
  value = patches_pointer_lookup (patches_doc_get_state (f->doc), "/title");
  g_assert_cmpstr (patches_value_get_string (value), ==, "My note");

  /* A remote title meeting a pending local one: the local one is the later
   * write and stays */
  commit_remote (f, "[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"Their note\"}]");
  g_assert_cmpstr (gtk_editable_get_text (title), ==, "My note");
}

static guint
count_updated_at (Fixture *f)
{
  GPtrArray *pending = patches_doc_get_pending (f->doc);
  guint n = 0;

  for (guint i = 0; i < pending->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (pending, i);

      for (guint j = 0; j < change->ops->len; j++)
        if (g_strcmp0 (((PatchesOp *) g_ptr_array_index (change->ops, j))->path, "/updatedAt") == 0)
          n++;
    }

  return n;
}

static void
test_updated_at (Fixture       *f,
                 gconstpointer  data)
{
  PatchesValue *value;
  gint64 before = g_get_real_time () / 1000;

  g_assert_null (patches_pointer_lookup (patches_doc_get_state (f->doc), "/updatedAt"));
  type_at (f, 0, "x");
  /* Written from the main loop, not inside the keystroke */
  g_assert_cmpuint (count_updated_at (f), ==, 0);
  while (count_updated_at (f) == 0)
    g_main_context_iteration (NULL, TRUE);
  value = patches_pointer_lookup (patches_doc_get_state (f->doc), "/updatedAt");
  g_assert_cmpfloat (patches_value_get_number (value), >=, (double) before);

  /* Throttled: more typing does not write it again right away */
  type_at (f, 1, "y");
  gtk_editable_set_text (notes_editor_get_title_entry (f->editor), "Title");
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (count_updated_at (f), ==, 1);

  /* ...but it is written when the editor lets go of the note */
  notes_editor_set_doc (f->editor, NULL);
  g_assert_cmpuint (count_updated_at (f), ==, 2);
}

static void
test_string_body (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *text = buffer_text (f);
  g_autofree char *json = NULL;

  /* A plain string is shown, and kept when the first edit makes it rich text */
  g_assert_cmpstr (text, ==, "plain string");
  type_at (f, 5, "!");
  json = doc_body_json (f);
  g_assert_cmpstr (json, ==, "{\"ops\":[{\"insert\":\"plain! string\\n\"}]}");
  assert_in_step (f);
}

static void
test_link (Fixture       *f,
           gconstpointer  data)
{
  NotesTextBinding *binding = notes_editor_get_binding (f->editor);
  g_autoptr(PatchesValue) url = patches_value_new_string ("https://example.org/");
  g_autofree char *delta = NULL;
  GtkTextIter start;
  GtkTextIter end;
  GtkTextTag *tag;
  int underline = 0;

  gtk_text_buffer_get_iter_at_offset (f->buffer, &start, 0);
  gtk_text_buffer_get_iter_at_offset (f->buffer, &end, 5);
  g_assert_true (notes_text_binding_format (binding, &start, &end, "link", url));
  delta = last_body_delta (f);
  g_assert_cmpstr (delta, ==, "[{\"retain\":5,\"attributes\":{\"link\":\"https://example.org/\"}}]");

  tag = gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (f->buffer),
                                   "patches-attr:link=\"https://example.org/\"");
  g_assert_nonnull (tag);
  g_object_get (tag, "underline", &underline, NULL);
  g_assert_cmpint (underline, ==, PANGO_UNDERLINE_SINGLE);

  /* Typing right after a link does not extend it */
  type_at (f, 5, "s");
  g_assert_false (has_tag_named (f, 5, "patches-attr:link=\"https://example.org/\""));

  /* GTK tag calls are turned into changes too */
  gtk_text_buffer_get_iter_at_offset (f->buffer, &start, 0);
  gtk_text_buffer_get_iter_at_offset (f->buffer, &end, 5);
  gtk_text_buffer_remove_tag (f->buffer, tag, &start, &end);
  g_clear_pointer (&delta, g_free);
  delta = last_body_delta (f);
  g_assert_cmpstr (delta, ==, "[{\"retain\":5,\"attributes\":{\"link\":null}}]");
  assert_in_step (f);
}

static void
test_random (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
  static const char * const pieces[] = { "a", "b ", "😀", "é", "\n", "xyz", "🎉!" };
  NotesUndoManager *undo = notes_editor_get_undo_manager (f->editor);

  for (int i = 0; i < 300; i++)
    {
      int length = gtk_text_buffer_get_char_count (f->buffer);
      int what = g_rand_int_range (rand, 0, 10);

      if (what < 3)
        type_at (f, g_rand_int_range (rand, 0, length + 1),
                 pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
      else if (what < 5 && length > 0)
        {
          int start = g_rand_int_range (rand, 0, length);

          delete_range (f, start, MIN (length, start + g_rand_int_range (rand, 1, 4)));
        }
      else if (what < 6 && length > 0)
        {
          int start = g_rand_int_range (rand, 0, length);
          GtkTextIter s;
          GtkTextIter e;
          g_autoptr(PatchesValue) on = g_rand_boolean (rand) ? patches_value_new_bool (TRUE) : NULL;

          gtk_text_buffer_get_iter_at_offset (f->buffer, &s, start);
          gtk_text_buffer_get_iter_at_offset (f->buffer, &e, MIN (length, start + 3));
          notes_text_binding_format (notes_editor_get_binding (f->editor), &s, &e, "bold", on);
        }
      else if (what < 7)
        notes_undo_manager_undo (undo, NULL);
      else
        {
          /* A remote insert or delete somewhere, in UTF-16 units of the
           * committed text (what the server's clients see) */
          PatchesValue *committed = patches_pointer_lookup (patches_doc_get_committed_state (f->doc), "/body");
          g_autoptr(PatchesText) text = patches_value_get_kind (committed) == PATCHES_VALUE_TEXT
            ? patches_text_copy (patches_value_get_text (committed))
            : patches_text_new_from_delta (patches_delta_from_value (committed, NULL));
          gint64 units = patches_text_get_length (text) - 1;
          gint64 n_chars = patches_text_get_n_chars (text) - 1;
          gint64 at = patches_text_utf16_offset_from_char_offset (text, g_rand_int_range (rand, 0, n_chars + 1));
          g_autofree char *ops = NULL;

          if (g_rand_boolean (rand) || units == 0)
            ops = g_strdup_printf ("[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":%" G_GINT64_FORMAT "},"
                                   "{\"insert\":\"R\\u00e9\\ud83d\\ude00\"}]}]", at);
          else
            {
              gint64 end = patches_text_utf16_offset_from_char_offset (text, MIN (n_chars, patches_text_char_offset_from_utf16_offset (text, at) + 2));

              if (end <= at)
                continue;
              ops = g_strdup_printf ("[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":%" G_GINT64_FORMAT "},"
                                     "{\"delete\":%" G_GINT64_FORMAT "}]}]", at, end - at);
            }
          commit_remote (f, ops);
        }

      /* A reload after an edit that joined lone surrogates waits for idle */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      assert_in_step (f);
    }
}

static void
test_empty_note (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *text = buffer_text (f);
  g_autofree char *delta = NULL;
  g_autofree char *json = NULL;

  /* A new note's body is the one-line document "\n": an empty buffer */
  g_assert_cmpstr (text, ==, "");
  type_keys (f, 0, "Hi");
  delta = last_body_delta (f);
  g_assert_cmpstr (delta, ==, "[{\"retain\":1},{\"insert\":\"i\"}]");
  json = doc_body_json (f);
  g_assert_cmpstr (json, ==, "{\"ops\":[{\"insert\":\"Hi\\n\"}]}");
  assert_in_step (f);
}

static void
test_embed (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *text = buffer_text (f);
  g_autofree char *before = doc_body_json (f);
  g_autofree char *after = NULL;
  g_autofree char *delta = NULL;

  /* An embed is one U+FFFC, one UTF-16 unit */
  g_assert_cmpstr (text, ==, "a\xef\xbf\xbc" "b");
  type_at (f, 2, "!");
  delta = last_body_delta (f);
  g_assert_cmpstr (delta, ==, "[{\"retain\":2},{\"insert\":\"!\"}]");

  /* Deleted and undone, it comes back as the same embed */
  g_clear_pointer (&before, g_free);
  before = doc_body_json (f);
  delete_range (f, 1, 2);
  g_assert_true (notes_undo_manager_undo (notes_editor_get_undo_manager (f->editor), NULL));
  after = doc_body_json (f);
  g_assert_cmpstr (after, ==, before);
  g_assert_true (strstr (after, "{\"image\":\"cat.png\"}") != NULL);
  assert_in_step (f);
}

static void
test_shortcuts (Fixture       *f,
                gconstpointer  data)
{
  static const struct {
    const char *trigger;
    const char *action;
    int         argument;
  } expected[] = {
    { "<Control>b", "editor.bold", -1 },
    { "<Control>i", "editor.italic", -1 },
    { "<Control>u", "editor.underline", -1 },
    { "<Control>0", "editor.heading", 0 },
    { "<Control>1", "editor.heading", 1 },
    { "<Control>2", "editor.heading", 2 },
    { "<Control>3", "editor.heading", 3 },
    { "<Shift><Control>l", "editor.bullet-list", -1 },
    { "<Control>k", "editor.link", -1 },
    { "<Control>z", "editor.undo", -1 },
    { "<Shift><Control>z", "editor.redo", -1 },
  };
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (f->editor));
  GListModel *shortcuts = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_SHORTCUT_CONTROLLER (controller))
        shortcuts = G_LIST_MODEL (controller);
    }
  g_assert_nonnull (shortcuts);

  for (guint e = 0; e < G_N_ELEMENTS (expected); e++)
    {
      gboolean found = FALSE;

      for (guint i = 0; i < g_list_model_get_n_items (shortcuts) && !found; i++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (shortcuts, i);
          g_autofree char *trigger = gtk_shortcut_trigger_to_string (gtk_shortcut_get_trigger (shortcut));
          GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);
          GVariant *arguments = gtk_shortcut_get_arguments (shortcut);

          if (g_strcmp0 (trigger, expected[e].trigger) != 0)
            continue;
          g_assert_true (GTK_IS_NAMED_ACTION (action));
          g_assert_cmpstr (gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)), ==, expected[e].action);
          if (expected[e].argument >= 0)
            g_assert_cmpint (g_variant_get_int32 (arguments), ==, expected[e].argument);
          else
            g_assert_null (arguments);
          found = TRUE;
        }
      if (!found)
        g_error ("no shortcut %s", expected[e].trigger);
    }

  /* Every action is there, and a body-less editor disables them */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->editor), "editor.link", NULL));
  notes_editor_set_doc (f->editor, NULL);
  g_assert_null (notes_editor_get_undo_manager (f->editor));
  g_assert_false (gtk_text_view_get_editable (notes_editor_get_text_view (f->editor)));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (!gtk_init_check ())
    {
      g_test_skip ("no display");
      return g_test_run ();
    }
  adw_init ();
  notes_register_resource ();

#define ADD(name, body, func) \
  g_test_add ("/notes/binding/" name, Fixture, body, fixture_set_up, func, fixture_tear_down)

  ADD ("load", "{\"ops\":[{\"insert\":\"Title\"},{\"insert\":\"\\n\",\"attributes\":{\"header\":1}},"
               "{\"insert\":\"bold\",\"attributes\":{\"bold\":true}},{\"insert\":\" plain \"},"
               "{\"insert\":\"odd\",\"attributes\":{\"x-color\":\"red\"}},"
               "{\"insert\":\"\\n\",\"attributes\":{\"list\":\"bullet\"}}]}", test_load);
  ADD ("type-utf16", "{\"ops\":[{\"insert\":\"a😀b\\n\"}]}", test_type_utf16);
  ADD ("delete-utf16", "{\"ops\":[{\"insert\":\"a😀bc\\n\"}]}", test_delete_utf16);
  ADD ("remote-insert-keeps-cursor", NULL, test_remote_insert_keeps_cursor);
  ADD ("bold-action", NULL, test_bold_action);
  ADD ("typing-attribute", NULL, test_typing_attribute);
  ADD ("remote-attributes", NULL, test_remote_attributes);
  ADD ("undo-after-remote", NULL, test_undo_after_remote);
  ADD ("undo-grouping", NULL, test_undo_grouping);
  ADD ("heading-and-list", "{\"ops\":[{\"insert\":\"line one\\nline two\\n\"}]}", test_heading_and_list);
  ADD ("remote-line-format", NULL, test_remote_line_format);
  ADD ("reset-keeps-cursor", NULL, test_reset_keeps_cursor);
  ADD ("title", NULL, test_title);
  ADD ("updated-at", NULL, test_updated_at);
  ADD ("string-body", "\"plain string\"", test_string_body);
  ADD ("link", NULL, test_link);
  ADD ("empty-note", "{\"ops\":[{\"insert\":\"\\n\"}]}", test_empty_note);
  ADD ("embed", "{\"ops\":[{\"insert\":\"a\"},{\"insert\":{\"image\":\"cat.png\"}},{\"insert\":\"b\\n\"}]}", test_embed);
  ADD ("shortcuts", NULL, test_shortcuts);
  ADD ("random", NULL, test_random);

#undef ADD

  return g_test_run ();
}
