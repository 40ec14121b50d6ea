/* test-notes-notebook.c: the notebook model keeps its notes' documents
 * closed
 *
 * A notebook lists its notes from what the store holds and keeps them in
 * sync without opening their documents (a notebook of 1,000 notes would
 * otherwise hold 1,000 document states): the items follow changes from
 * the server, waiting changes and sync badges all the same, and open
 * their document when it is asked for.  Runs against the real
 * patches-server (PATCHES_SERVER), with another device committing over
 * its own connection; needs no display.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "patches-connection.h"
#include "patches-fractional.h"
#include "patches-memory-store.h"
#include "patches-patch.h"

#include "notes-notebook.h"

#include "patches-test-server.h"

#define NOTEBOOK_ID "notebook/tests"

typedef struct
{
  PatchesTestServer *server;
  PatchesConnection *remote;    /* another device */
  PatchesStore      *store;
  PatchesClient     *client;
  PatchesSync       *sync;
  NotesNotebook     *notebook;
  guint              items_changed;
} Fixture;

static void
got_result (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

/* The other device commits @patch to @doc_id on top of @base_rev */
static void
remote_commit (Fixture      *f,
               const char   *doc_id,
               gint64        base_rev,
               PatchesPatch *patch)
{
  g_autoptr(GPtrArray) changes = patches_changes_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(PatchesCommitResult) commit = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *change_id = patches_change_id_new ();

  g_ptr_array_add (changes, patches_change_new (change_id, base_rev, base_rev + 1,
                                                g_ptr_array_ref (patches_patch_get_ops (patch)),
                                                (double) (g_get_real_time () / 1000)));
  patches_connection_commit_changes_async (f->remote, doc_id, changes, NULL, NULL, got_result, &result);
  PATCHES_TEST_WAIT_UNTIL (result != NULL);
  commit = patches_connection_commit_changes_finish (f->remote, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (commit);
}

/* A note as the app writes it, and its entry in the notebook */
static void
remote_create_note (Fixture    *f,
                    const char *note_id,
                    const char *title,
                    const char *body_json,
                    gint64      updated_at)
{
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  g_autofree char *doc_id = g_strconcat ("note/", note_id, NULL);

  patches_patch_add (patch, "/title", patches_value_new_string (title), FALSE);
  patches_patch_add (patch, "/body", patches_value_parse (body_json, -1, NULL), FALSE);
  patches_patch_add (patch, "/tags", patches_value_new_array (), FALSE);
  patches_patch_add (patch, "/pinned", patches_value_new_bool (FALSE), FALSE);
  patches_patch_add (patch, "/updatedAt", patches_value_new_number ((double) updated_at), FALSE);
  remote_commit (f, doc_id, 0, patch);
}

static void
remote_create_notebook (Fixture            *f,
                        const char * const *note_ids)
{
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  PatchesValue *notes = patches_value_new_object ();
  g_autofree char *order = NULL;

  for (guint i = 0; note_ids[i] != NULL; i++)
    {
      PatchesValue *entry = patches_value_new_object ();
      g_autofree char *next = patches_fractional_key_between (order, NULL, NULL);

      patches_value_object_set (entry, "order", patches_value_new_string (next));
      patches_value_object_set (entry, "createdAt", patches_value_new_number (1000.0 * (i + 1)));
      patches_value_object_set (notes, note_ids[i], entry);
      g_free (order);
      order = g_steal_pointer (&next);
    }

  patches_patch_add (patch, "/title", patches_value_new_string ("Tests"), FALSE);
  patches_patch_add (patch, "/notes", notes, FALSE);
  remote_commit (f, NOTEBOOK_ID, 0, patch);
}

static void
connect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  /* The sync engine reports and retries failures itself */
  patches_sync_connect_finish (PATCHES_SYNC (source), result, NULL);
}

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Fixture    *f)
{
  f->items_changed++;
}

static void
loaded_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  gboolean *loaded = user_data;
  g_autoptr(GError) error = NULL;

  *loaded = notes_notebook_load_finish (NOTES_NOTEBOOK (source), result, &error);
  g_assert_no_error (error);
}

/* The notebook over the fixture's client, loaded */
static void
open_notebook (Fixture *f)
{
  gboolean loaded = FALSE;

  f->notebook = notes_notebook_new (f->client, NOTEBOOK_ID);
  notes_notebook_set_sync (f->notebook, f->sync);
  g_signal_connect (f->notebook, "items-changed", G_CALLBACK (items_changed_cb), f);
  notes_notebook_load_async (f->notebook, NULL, loaded_cb, &loaded);
  PATCHES_TEST_WAIT_UNTIL (loaded);
  g_assert_true (notes_notebook_get_loaded (f->notebook));
}

static gboolean
all_listed (Fixture *f,
            guint    n_items)
{
  if (g_list_model_get_n_items (G_LIST_MODEL (f->notebook)) != n_items)
    return FALSE;

  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(NotesNoteItem) item = g_list_model_get_item (G_LIST_MODEL (f->notebook), i);

      if (notes_note_item_get_updated_at (item) <= 0 ||
          notes_note_item_get_badge (item) != NOTES_SYNC_BADGE_SAVED)
        return FALSE;
    }

  return TRUE;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GAsyncResult) opened = NULL;
  g_autoptr(GError) error = NULL;

  f->server = patches_test_server_new (NULL);
  f->remote = patches_connection_new (patches_test_server_get_url (f->server));
  patches_connection_open_async (f->remote, NULL, got_result, &opened);
  PATCHES_TEST_WAIT_UNTIL (opened != NULL);
  g_assert_true (patches_connection_open_finish (f->remote, opened, &error));
  g_assert_no_error (error);

  f->store = PATCHES_STORE (patches_memory_store_new ());
  f->client = patches_client_new (f->store);
  f->sync = patches_sync_new (f->client, patches_test_server_get_url (f->server));
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->notebook);
  if (f->sync != NULL)
    patches_sync_disconnect (f->sync);
  g_clear_object (&f->sync);
  g_clear_object (&f->client);
  g_clear_object (&f->store);
  if (f->remote != NULL)
    patches_connection_close (f->remote);
  g_clear_object (&f->remote);
  g_clear_pointer (&f->server, patches_test_server_free);
}

/* Listed, kept fresh and synced without an open document; opened when
 * asked for */
static void
test_closed_documents (Fixture       *f,
                       gconstpointer  data)
{
  static const char * const ids[] = { "alpha", "beta", "gamma", NULL };
  g_autoptr(PatchesPatch) edit = patches_patch_new ();
  g_autoptr(GError) error = NULL;
  NotesNoteItem *alpha, *beta;
  PatchesDoc *doc;
  guint changes_before;

  remote_create_note (f, "alpha", "Alpha", "{\"ops\":[{\"insert\":\"First line\\nSecond\\n\"}]}", 1000);
  remote_create_note (f, "beta", "Beta", "{\"ops\":[{\"insert\":\"\\nSecond line first\\n\"}]}", 2000);
  remote_create_note (f, "gamma", "Gamma", "{\"ops\":[{\"insert\":\"Gamma rays\",\"attributes\":{\"bold\":true}},"
                                           "{\"insert\":\"\\n\"}]}", 3000);
  remote_create_notebook (f, ids);

  patches_sync_connect_async (f->sync, NULL, connect_cb, NULL);
  open_notebook (f);
  PATCHES_TEST_WAIT_UNTIL (all_listed (f, 3));

  alpha = notes_notebook_find (f->notebook, "alpha");
  beta = notes_notebook_find (f->notebook, "note/beta");
  g_assert_nonnull (alpha);
  g_assert_nonnull (beta);
  g_assert_cmpstr (notes_note_item_get_title (alpha), ==, "Alpha");
  g_assert_cmpstr (notes_note_item_get_snippet (alpha), ==, "First line");
  g_assert_cmpstr (notes_note_item_get_snippet (beta), ==, "Second line first");
  g_assert_cmpstr (notes_note_item_get_snippet (notes_notebook_find (f->notebook, "gamma")), ==, "Gamma rays");
  g_assert_cmpint (notes_note_item_get_updated_at (beta), ==, 2000);
  g_assert_true (notes_note_item_matches (beta, "second line"));
  g_assert_false (notes_note_item_matches (beta, "rays"));

  /* Tracked, synced, and not open */
  for (guint i = 0; ids[i] != NULL; i++)
    {
      NotesNoteItem *item = notes_notebook_find (f->notebook, ids[i]);
      g_autoptr(PatchesDocSyncState) state = patches_sync_get_doc_state (f->sync, notes_note_item_get_doc_id (item));

      g_assert_null (notes_note_item_peek_doc (item));
      g_assert_null (patches_client_get_open_doc (f->client, notes_note_item_get_doc_id (item)));
      g_assert_true (patches_client_is_tracked (f->client, notes_note_item_get_doc_id (item)));
      g_assert_nonnull (state);
      g_assert_cmpint (state->committed_rev, ==, 1);
      g_assert_cmpuint (notes_note_item_get_n_pending (item), ==, 0);
    }
  g_assert_cmpuint (notes_notebook_get_n_pending (f->notebook), ==, 0);

  /* Another device renames a note: the item follows, still closed, and
   * the list hears of it (sorting and filtering look again) */
  changes_before = f->items_changed;
  patches_patch_replace (edit, "/title", patches_value_new_string ("Beta, edited elsewhere"), FALSE);
  patches_patch_replace (edit, "/updatedAt", patches_value_new_number (4000), FALSE);
  remote_commit (f, "note/beta", 1, edit);
  PATCHES_TEST_WAIT_UNTIL (g_strcmp0 (notes_note_item_get_title (beta), "Beta, edited elsewhere") == 0);
  g_assert_cmpint (notes_note_item_get_updated_at (beta), ==, 4000);
  g_assert_null (notes_note_item_peek_doc (beta));
  PATCHES_TEST_WAIT_UNTIL (f->items_changed > changes_before);
  g_assert_true (notes_notebook_find (f->notebook, "beta") == beta);

  /* Asked for, the document opens, and stays the item's */
  doc = notes_note_item_get_doc (alpha);
  g_assert_nonnull (doc);
  g_assert_true (notes_note_item_peek_doc (alpha) == doc);
  g_assert_true (notes_note_item_get_doc (alpha) == doc);
  g_assert_true (patches_client_get_open_doc (f->client, "note/alpha") == doc);
  g_assert_cmpstr (patches_value_get_string (patches_value_object_get (patches_doc_get_state (doc), "title")),
                   ==, "Alpha");

  /* A change made here shows at once, waits, then is sent */
  changes_before = f->items_changed;
  g_assert_true (notes_notebook_rename_note (f->notebook, alpha, "Alpha, renamed here", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (notes_note_item_get_title (alpha), ==, "Alpha, renamed here");
  g_assert_cmpuint (f->items_changed, >, changes_before);
  g_assert_cmpuint (notes_note_item_get_n_pending (alpha), ==, 1);
  g_assert_cmpuint (notes_notebook_get_n_pending (f->notebook), ==, 1);
  PATCHES_TEST_WAIT_UNTIL (notes_notebook_get_n_pending (f->notebook) == 0 &&
                           notes_note_item_get_badge (alpha) == NOTES_SYNC_BADGE_SAVED);
  g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, 2);

  /* The others are still closed */
  g_assert_null (notes_note_item_peek_doc (beta));
  g_assert_null (patches_client_get_open_doc (f->client, "note/gamma"));
}

/* Changes made while offline, in an earlier run (the document closed
 * since), are counted and shown as waiting until they are sent */
static void
test_closed_pending (Fixture       *f,
                     gconstpointer  data)
{
  static const char * const ids[] = { "delta", NULL };
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  g_autoptr(PatchesChange) change = NULL;
  g_autoptr(PatchesDoc) doc = NULL;
  g_autoptr(GError) error = NULL;
  NotesNoteItem *delta;

  remote_create_note (f, "delta", "Delta", "{\"ops\":[{\"insert\":\"Body\\n\"}]}", 1000);
  remote_create_notebook (f, ids);

  /* A first run: synced, then offline, one edit, closed */
  patches_sync_connect_async (f->sync, NULL, connect_cb, NULL);
  open_notebook (f);
  PATCHES_TEST_WAIT_UNTIL (all_listed (f, 1));
  g_clear_object (&f->notebook);
  patches_sync_disconnect (f->sync);

  doc = patches_client_open_doc (f->client, "note/delta", &error);
  g_assert_no_error (error);
  patches_patch_replace (patch, "/title", patches_value_new_string ("Delta, written offline"), FALSE);
  change = patches_doc_change (doc, patch, &error);
  g_assert_no_error (error);
  g_assert_nonnull (change);
  g_clear_object (&doc);
  patches_client_close_doc (f->client, "note/delta");

  /* The next run lists it as waiting, without opening it */
  open_notebook (f);
  PATCHES_TEST_WAIT_UNTIL (g_list_model_get_n_items (G_LIST_MODEL (f->notebook)) == 1);
  delta = notes_notebook_find (f->notebook, "delta");
  g_assert_nonnull (delta);
  g_assert_null (notes_note_item_peek_doc (delta));
  g_assert_cmpstr (notes_note_item_get_title (delta), ==, "Delta, written offline");
  g_assert_cmpuint (notes_note_item_get_n_pending (delta), ==, 1);
  g_assert_cmpuint (notes_notebook_get_n_pending (f->notebook), ==, 1);
  g_assert_cmpint (notes_note_item_get_badge (delta), ==, NOTES_SYNC_BADGE_PENDING);

  /* Online again: sent, and the item says so, still closed */
  patches_sync_connect_async (f->sync, NULL, connect_cb, NULL);
  PATCHES_TEST_WAIT_UNTIL (notes_note_item_get_badge (delta) == NOTES_SYNC_BADGE_SAVED &&
                           notes_notebook_get_n_pending (f->notebook) == 0);
  g_assert_cmpuint (notes_note_item_get_n_pending (delta), ==, 0);
  g_assert_null (notes_note_item_peek_doc (delta));
  g_assert_cmpstr (notes_note_item_get_title (delta), ==, "Delta, written offline");
  PATCHES_TEST_WAIT_UNTIL (patches_client_get_committed_rev (f->client, "note/delta") == 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/Notes/Notebook/closed-documents", Fixture, NULL,
              fixture_setup, test_closed_documents, fixture_teardown);
  g_test_add ("/Notes/Notebook/closed-pending", Fixture, NULL,
              fixture_setup, test_closed_pending, fixture_teardown);

  return g_test_run ();
}
