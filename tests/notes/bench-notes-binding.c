/* bench-notes-binding.c
 *
 * The editor's hot paths on a 1 MB note open in a NotesEditor (in a
 * window, on a PatchesClient over a PatchesMemoryStore):
 *
 *  (a) a remote single-character insert at a random position, from
 *      patches_client_apply_committed() to the buffer edited (and, inside
 *      it, the part spent in the document's ::update handlers, which is
 *      the binding's replay);
 *  (b) a local keystroke at a random position: the buffer insert, the
 *      binding's delta, patches_doc_change() with the memory store and
 *      the undo manager.
 *
 * 2,000 samples each; prints p50 / p99 / max in microseconds.  The main
 * loop runs between samples (GTK's layout work is not timed).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdio.h>
#include <string.h>

#include <adwaita.h>

#include "bench-common.h"
#include "patches.h"
#include "patches-client.h"
#include "patches-memory-store.h"
#include "patches-pointer.h"
#include "patches-text.h"

#include "notes-editor.h"
#include "notes-resources.h"

#define DOC_ID "note/bench"
#define N_SAMPLES 2000
#define TARGET_BYTES (1024 * 1024)

static gint64 update_started;
static gint64 update_time;

static void
update_first_cb (PatchesDoc   *doc,
                 PatchesPatch *ops,
                 gboolean      local,
                 gpointer      user_data)
{
  update_started = g_get_monotonic_time ();
}

static void
update_last_cb (PatchesDoc   *doc,
                PatchesPatch *ops,
                gboolean      local,
                gpointer      user_data)
{
  update_time = g_get_monotonic_time () - update_started;
}

static void
report (const char *what,
        GArray     *samples)
{
  g_array_sort (samples, bench_compare_gint64);
  printf ("%-44s p50 %7" G_GINT64_FORMAT " µs   p99 %7" G_GINT64_FORMAT " µs   max %7" G_GINT64_FORMAT " µs   (n=%u)\n",
          what,
          g_array_index (samples, gint64, samples->len / 2),
          g_array_index (samples, gint64, samples->len * 99 / 100),
          g_array_index (samples, gint64, samples->len - 1),
          samples->len);
}

static void
drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static PatchesChange *
make_change (gint64      rev,
             guint       n,
             const char *ops_json)
{
  g_autofree char *json = g_strdup_printf ("{\"id\":\"remote-%u\",\"ops\":%s,\"rev\":%" G_GINT64_FORMAT ","
                                           "\"baseRev\":%" G_GINT64_FORMAT ",\"createdAt\":1,\"committedAt\":2}",
                                           n, ops_json, rev + 1, rev);
  g_autoptr(PatchesValue) value = patches_value_parse (json, -1, NULL);

  return patches_change_from_value (value, NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  g_autoptr(PatchesMemoryStore) store = NULL;
  g_autoptr(PatchesClient) client = NULL;
  g_autoptr(PatchesDoc) doc = NULL;
  g_autoptr(PatchesValue) body = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) remote_total = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) remote_binding = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) local = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *ops_json = NULL;
  GtkTextBuffer *buffer;
  NotesEditor *editor;
  GtkWidget *window;
  gint64 t0;
  gint64 load_time;

  if (!gtk_init_check ())
    {
      fprintf (stderr, "bench-notes-binding: no display\n");
      return 77;
    }
  adw_init ();
  notes_register_resource ();

  store = patches_memory_store_new ();
  client = patches_client_new (PATCHES_STORE (store));
  doc = patches_client_open_doc (client, DOC_ID, &error);
  g_assert_no_error (error);

  /* The note, committed at rev 1 */
  body = bench_rich_text_new (rand, TARGET_BYTES);
  ops_json = bench_replace_ops_json ("/body", body);
  changes = patches_changes_new ();
  g_ptr_array_add (changes, make_change (0, 0, ops_json));
  patches_client_apply_committed (client, DOC_ID, changes, &error);
  g_assert_no_error (error);
  /* A first edit turns the stored value into a rope-backed text value, as
   * the first keystroke of a session would */
  g_clear_pointer (&changes, g_ptr_array_unref);
  changes = patches_changes_new ();
  g_ptr_array_add (changes, make_change (1, 1, "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"insert\":\"#\"}]}]"));
  patches_client_apply_committed (client, DOC_ID, changes, &error);
  g_assert_no_error (error);

  g_signal_connect (doc, "update", G_CALLBACK (update_first_cb), NULL);

  window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 800, 600);
  editor = notes_editor_new ();
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (editor));
  gtk_window_present (GTK_WINDOW (window));
  drain ();

  t0 = g_get_monotonic_time ();
  notes_editor_set_doc (editor, doc);
  load_time = g_get_monotonic_time () - t0;
  g_signal_connect_after (doc, "update", G_CALLBACK (update_last_cb), NULL);
  buffer = gtk_text_view_get_buffer (notes_editor_get_text_view (editor));
  drain ();

  printf ("note: %d characters, %" G_GINT64_FORMAT " UTF-16 units; loading it into the editor: %.1f ms\n",
          gtk_text_buffer_get_char_count (buffer),
          patches_text_get_length (patches_value_get_text (patches_pointer_lookup (patches_doc_get_state (doc), "/body"))),
          load_time / 1000.0);

  /* (a) remote single-character inserts */
  for (guint i = 0; i < N_SAMPLES; i++)
    {
      PatchesText *text = patches_value_get_text (patches_pointer_lookup (patches_doc_get_state (doc), "/body"));
      gint64 n_chars = patches_text_get_n_chars (text) - 1;
      gint64 at = patches_text_utf16_offset_from_char_offset (text, g_rand_int_range (rand, 0, n_chars));
      gint64 rev = patches_client_get_committed_rev (client, DOC_ID);
      g_autofree char *json = g_strdup_printf ("[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":"
                                               "[{\"retain\":%" G_GINT64_FORMAT "},{\"insert\":\"x\"}]}]", at);
      g_autoptr(GPtrArray) one = patches_changes_new ();
      gint64 start;

      g_ptr_array_add (one, make_change (rev, i + 2, json));
      update_time = 0;
      start = g_get_monotonic_time ();
      patches_client_apply_committed (client, DOC_ID, one, &error);
      g_array_append_val (remote_total, (gint64) { g_get_monotonic_time () - start });
      g_array_append_val (remote_binding, update_time);
      g_assert_no_error (error);
      drain ();
    }

  /* (b) local keystrokes */
  for (guint i = 0; i < N_SAMPLES; i++)
    {
      int n_chars = gtk_text_buffer_get_char_count (buffer);
      GtkTextIter iter;
      gint64 start;

      gtk_text_buffer_get_iter_at_offset (buffer, &iter, g_rand_int_range (rand, 0, n_chars + 1));
      start = g_get_monotonic_time ();
      gtk_text_buffer_begin_user_action (buffer);
      gtk_text_buffer_insert (buffer, &iter, "k", 1);
      gtk_text_buffer_end_user_action (buffer);
      g_array_append_val (local, (gint64) { g_get_monotonic_time () - start });
      drain ();
    }

  g_assert_cmpuint (patches_doc_get_n_pending (doc), >=, N_SAMPLES);

  report ("(a) remote insert, apply_committed → buffer", remote_total);
  report ("    of which ::update handlers (binding)", remote_binding);
  report ("(b) local keystroke → @txt → doc change", local);

  notes_editor_set_doc (editor, NULL);
  gtk_window_destroy (GTK_WINDOW (window));
  drain ();

  return 0;
}
