/* test-doc.c: PatchesDoc and PatchesClient over a memory store
 *
 * Every document under test is watched by a mirror: a listener that keeps
 * the state it saw last and applies each ::update's ops to it, asserting
 * that the result is the document's new state (a reset is a root
 * `replace`, which applies the same way).  So every test also checks
 * that the update ops are exactly what takes the old view to the new one.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <glib/gstdio.h>

#include "patches.h"
#include "patches-client.h"
#include "patches-doc-private.h"
#include "patches-memory-store.h"
#include "patches-sqlite-store.h"
#include "patches-patch-private.h"

/* Helpers */

static PatchesValue *
parse (const char *json)
{
  g_autoptr(GError) error = NULL;
  PatchesValue *value = patches_value_parse (json, -1, &error);

  g_assert_no_error (error);
  return value;
}

static void
assert_value_json (const PatchesValue *value,
                   const char         *expected)
{
  g_autoptr(PatchesValue) want = parse (expected);

  if (!patches_value_equal (value, want))
    {
      g_autofree char *got = patches_value_to_json (value);

      g_test_message ("got      %s", got);
      g_test_message ("expected %s", expected);
      g_test_fail ();
      g_assert_not_reached ();
    }
}

static void
assert_ops_json (GPtrArray  *ops,
                 const char *expected)
{
  g_autoptr(PatchesValue) value = patches_ops_to_value (ops);

  assert_value_json (value, expected);
}

static PatchesChange *
change_from_json (const char *json)
{
  g_autoptr(PatchesValue) value = parse (json);
  g_autoptr(GError) error = NULL;
  PatchesChange *change = patches_change_from_value (value, &error);

  g_assert_no_error (error);
  return change;
}

static GPtrArray *
changes_from_json (const char *json)
{
  g_autoptr(PatchesValue) value = parse (json);
  g_autoptr(GError) error = NULL;
  GPtrArray *changes = patches_changes_from_value (value, &error);

  g_assert_no_error (error);
  return changes;
}

static GPtrArray *
changes_of (PatchesChange *first,
            ...)
{
  GPtrArray *changes = patches_changes_new ();
  va_list args;

  va_start (args, first);
  for (PatchesChange *c = first; c != NULL; c = va_arg (args, PatchesChange *))
    g_ptr_array_add (changes, patches_change_ref (c));
  va_end (args);

  return changes;
}

/* A committed change as the server sends it */
static PatchesChange *
server_change (const char *id,
               gint64      base_rev,
               gint64      rev,
               const char *ops_json)
{
  g_autofree char *json =
    g_strdup_printf ("{\"id\":\"%s\",\"baseRev\":%" G_GINT64_FORMAT ",\"rev\":%" G_GINT64_FORMAT ","
                     "\"ops\":%s,\"createdAt\":1,\"committedAt\":2}",
                     id, base_rev, rev, ops_json);

  return change_from_json (json);
}

/* Our own pending change coming back committed at @rev */
static PatchesChange *
echo_of (const PatchesChange *pending,
         gint64               rev)
{
  PatchesChange *echo = patches_change_copy (pending);

  echo->rev = rev;
  echo->committed_at = 99;
  return echo;
}

static PatchesPatch *
patch_from_json (const char *json)
{
  g_autoptr(GError) error = NULL;
  PatchesPatch *patch = patches_patch_from_json (json, -1, &error);

  g_assert_no_error (error);
  return patch;
}

static PatchesChange *
edit (PatchesDoc *doc,
      const char *patch_json)
{
  g_autoptr(PatchesPatch) patch = patch_from_json (patch_json);
  g_autoptr(GError) error = NULL;
  PatchesChange *change = patches_doc_change (doc, patch, &error);

  g_assert_no_error (error);
  g_assert_nonnull (change);
  return change;
}

static PatchesStoredDoc *
load_stored (PatchesStore *store,
             const char   *doc_id)
{
  g_autoptr(GError) error = NULL;
  PatchesStoredDoc *stored = patches_store_load_doc (store, doc_id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (stored);
  return stored;
}

/* The view is the committed state with the pending changes applied;
 * pending changes a rebase left unappliable are skipped.  Returns whether
 * they all applied. */
static gboolean
assert_view_consistent (PatchesDoc *doc)
{
  g_autoptr(PatchesValue) view = patches_value_ref (patches_doc_get_committed_state (doc));
  gboolean all = TRUE;

  if (!patches_changes_apply (&view, patches_doc_get_pending (doc), NULL))
    {
      all = FALSE;
      patches_changes_apply_for_reconstruction (&view, patches_doc_get_pending (doc), FALSE, NULL, NULL);
    }

  if (!patches_value_equal (view, patches_doc_get_state (doc)))
    {
      g_autofree char *committed = patches_value_to_json (patches_doc_get_committed_state (doc));
      g_autofree char *rebuilt = patches_value_to_json (view);
      g_autofree char *state = patches_value_to_json (patches_doc_get_state (doc));
      g_autoptr(PatchesValue) pending = patches_changes_to_value (patches_doc_get_pending (doc));
      g_autofree char *pending_json = patches_value_to_json (pending);

      g_test_message ("committed %s", committed);
      g_test_message ("pending   %s", pending_json);
      g_test_message ("rebuilt   %s", rebuilt);
      g_test_message ("view      %s", state);
      g_assert_not_reached ();
    }

  return all;
}

/* Mirror: follows a document through its ::update signal */

typedef struct {
  PatchesDoc   *doc;
  PatchesValue *seen;
  GPtrArray    *updates;      /* PatchesPatch */
  GArray       *locals;       /* gboolean */
  GPtrArray    *changed;      /* PatchesChange */
  GHashTable   *notifies;     /* property name → count */
  GPtrArray    *order;        /* "update", "changed", "notify::x" */
} Mirror;

static void
mirror_update_cb (PatchesDoc   *doc,
                  PatchesPatch *patch,
                  gboolean      local,
                  Mirror       *mirror)
{
  g_autoptr(PatchesValue) view = patches_value_ref (mirror->seen);
  g_autoptr(GError) error = NULL;

  /* The ops take what we saw to what the document holds now. */
  g_assert_true (patches_patch_apply (patch, &view, PATCHES_APPLY_STRICT, NULL, NULL, &error));
  g_assert_no_error (error);
  if (!patches_value_equal (view, patches_doc_get_state (doc)))
    {
      g_autofree char *ops = patches_patch_to_json (patch);
      g_autofree char *got = patches_value_to_json (view);
      g_autofree char *want = patches_value_to_json (patches_doc_get_state (doc));

      g_test_message ("update %s gives %s, doc holds %s", ops, got, want);
      g_assert_not_reached ();
    }

  g_clear_pointer (&mirror->seen, patches_value_unref);
  mirror->seen = patches_value_ref (patches_doc_get_state (doc));
  g_ptr_array_add (mirror->updates, patches_patch_ref (patch));
  g_array_append_val (mirror->locals, local);
  g_ptr_array_add (mirror->order, g_strdup ("update"));
}

static void
mirror_changed_cb (PatchesDoc    *doc,
                   PatchesChange *change,
                   Mirror        *mirror)
{
  g_ptr_array_add (mirror->changed, patches_change_ref (change));
  g_ptr_array_add (mirror->order, g_strdup ("changed"));
}

static void
mirror_notify_cb (GObject    *object,
                  GParamSpec *pspec,
                  Mirror     *mirror)
{
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (mirror->notifies, pspec->name));

  g_hash_table_insert (mirror->notifies, g_strdup (pspec->name), GUINT_TO_POINTER (count + 1));
  g_ptr_array_add (mirror->order, g_strconcat ("notify::", pspec->name, NULL));
}

static Mirror *
mirror_new (PatchesDoc *doc)
{
  Mirror *mirror = g_new0 (Mirror, 1);

  mirror->doc = g_object_ref (doc);
  mirror->seen = patches_value_ref (patches_doc_get_state (doc));
  mirror->updates = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_patch_unref);
  mirror->locals = g_array_new (FALSE, FALSE, sizeof (gboolean));
  mirror->changed = patches_changes_new ();
  mirror->notifies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  mirror->order = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (doc, "update", G_CALLBACK (mirror_update_cb), mirror);
  g_signal_connect (doc, "changed", G_CALLBACK (mirror_changed_cb), mirror);
  g_signal_connect (doc, "notify", G_CALLBACK (mirror_notify_cb), mirror);

  return mirror;
}

static void
mirror_reset_counts (Mirror *mirror)
{
  g_ptr_array_set_size (mirror->updates, 0);
  g_array_set_size (mirror->locals, 0);
  g_ptr_array_set_size (mirror->changed, 0);
  g_hash_table_remove_all (mirror->notifies);
  g_ptr_array_set_size (mirror->order, 0);
}

static guint
mirror_notifies (Mirror     *mirror,
                 const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (mirror->notifies, name));
}

static PatchesPatch *
mirror_last_update (Mirror *mirror)
{
  g_assert_cmpuint (mirror->updates->len, >, 0);
  return g_ptr_array_index (mirror->updates, mirror->updates->len - 1);
}

static gboolean
patch_is_reset (PatchesPatch *patch)
{
  PatchesOp *op;

  if (patches_patch_get_n_ops (patch) != 1)
    return FALSE;
  op = patches_patch_get_op (patch, 0);
  return op->kind == PATCHES_OP_REPLACE && g_strcmp0 (op->path, "") == 0;
}

static void
mirror_free (Mirror *mirror)
{
  g_signal_handlers_disconnect_by_data (mirror->doc, mirror);
  g_clear_object (&mirror->doc);
  g_clear_pointer (&mirror->seen, patches_value_unref);
  g_ptr_array_unref (mirror->updates);
  g_array_unref (mirror->locals);
  g_ptr_array_unref (mirror->changed);
  g_hash_table_unref (mirror->notifies);
  g_ptr_array_unref (mirror->order);
  g_free (mirror);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Mirror, mirror_free)

/* Client signal log */

typedef struct {
  GPtrArray *events;          /* "name:arg" strings */
  GPtrArray *committed;       /* GPtrArray of the last committed signal */
} ClientLog;

static void
log_add (ClientLog  *log,
         const char *name,
         const char *arg)
{
  g_ptr_array_add (log->events, g_strdup_printf ("%s:%s", name, arg));
}

static void
log_doc_opened_cb (PatchesClient *client,
                   PatchesDoc    *doc,
                   ClientLog     *log)
{
  log_add (log, "doc-opened", patches_doc_get_id (doc));
}

static void
log_string_cb (PatchesClient *client,
               const char    *doc_id,
               ClientLog     *log)
{
  GSignalInvocationHint *hint = g_signal_get_invocation_hint (client);

  log_add (log, g_signal_name (hint->signal_id), doc_id);
}

static void
log_strv_cb (PatchesClient *client,
             char         **doc_ids,
             ClientLog     *log)
{
  GSignalInvocationHint *hint = g_signal_get_invocation_hint (client);
  g_autofree char *joined = g_strjoinv (",", doc_ids);

  log_add (log, g_signal_name (hint->signal_id), joined);
}

static void
log_committed_cb (PatchesClient *client,
                  const char    *doc_id,
                  GPtrArray     *changes,
                  ClientLog     *log)
{
  GString *revs = g_string_new (doc_id);

  for (guint i = 0; i < changes->len; i++)
    g_string_append_printf (revs, "%c%" G_GINT64_FORMAT, i ? ',' : '@',
                            ((PatchesChange *) g_ptr_array_index (changes, i))->rev);
  log_add (log, "committed", revs->str);
  g_string_free (revs, TRUE);

  g_clear_pointer (&log->committed, g_ptr_array_unref);
  log->committed = g_ptr_array_ref (changes);
}

static void
client_log_init (ClientLog     *log,
                 PatchesClient *client)
{
  log->events = g_ptr_array_new_with_free_func (g_free);
  log->committed = NULL;
  g_signal_connect (client, "doc-opened", G_CALLBACK (log_doc_opened_cb), log);
  g_signal_connect (client, "doc-closed", G_CALLBACK (log_string_cb), log);
  g_signal_connect (client, "pending-changed", G_CALLBACK (log_string_cb), log);
  g_signal_connect (client, "doc-deleted", G_CALLBACK (log_string_cb), log);
  g_signal_connect (client, "docs-tracked", G_CALLBACK (log_strv_cb), log);
  g_signal_connect (client, "docs-untracked", G_CALLBACK (log_strv_cb), log);
  g_signal_connect (client, "committed", G_CALLBACK (log_committed_cb), log);
}

static char *
client_log_take (ClientLog *log)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < log->events->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, g_ptr_array_index (log->events, i));
    }
  g_ptr_array_set_size (log->events, 0);

  return g_string_free (out, FALSE);
}

static void
client_log_clear (ClientLog *log)
{
  g_ptr_array_set_size (log->events, 0);
}

static void
assert_log (ClientLog  *log,
            const char *expected)
{
  g_autofree char *got = client_log_take (log);

  g_assert_cmpstr (got, ==, expected);
}

/* A store that can be told to fail, wrapping a memory store */

#define TEST_TYPE_FLAKY_STORE (test_flaky_store_get_type ())
G_DECLARE_FINAL_TYPE (TestFlakyStore, test_flaky_store, TEST, FLAKY_STORE, GObject)

struct _TestFlakyStore
{
  GObject       parent_instance;
  PatchesStore *inner;
  gboolean      fail_writes;
};

static void test_flaky_store_iface_init (PatchesStoreInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestFlakyStore, test_flaky_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (PATCHES_TYPE_STORE, test_flaky_store_iface_init))

static gboolean
flaky_fail (PatchesStore  *store,
            GError       **error)
{
  if (!TEST_FLAKY_STORE (store)->fail_writes)
    return FALSE;
  g_set_error_literal (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_IO, "disk full");
  return TRUE;
}

#define INNER(store) (TEST_FLAKY_STORE (store)->inner)

static PatchesStoredDoc *
flaky_load_doc (PatchesStore *s, const char *id, GError **e)
{
  return patches_store_load_doc (INNER (s), id, e);
}

static gboolean
flaky_save_committed (PatchesStore *s, const char *id, GPtrArray *c, PatchesValue *st,
                      gint64 rev, GPtrArray *p, GError **e)
{
  return !flaky_fail (s, e) && patches_store_save_committed (INNER (s), id, c, st, rev, p, e);
}

static gboolean
flaky_save_snapshot (PatchesStore *s, const char *id, PatchesValue *st, gint64 rev,
                     GPtrArray *p, GError **e)
{
  return !flaky_fail (s, e) && patches_store_save_snapshot (INNER (s), id, st, rev, p, e);
}

static gboolean
flaky_append_pending (PatchesStore *s, const char *id, GPtrArray *c, GError **e)
{
  return !flaky_fail (s, e) && patches_store_append_pending (INNER (s), id, c, e);
}

static gboolean
flaky_replace_pending (PatchesStore *s, const char *id, GPtrArray *p, GError **e)
{
  return !flaky_fail (s, e) && patches_store_replace_pending (INNER (s), id, p, e);
}

static gboolean
flaky_track_docs (PatchesStore *s, const char **ids, GError **e)
{
  return !flaky_fail (s, e) && patches_store_track_docs (INNER (s), ids, e);
}

static gboolean
flaky_untrack_docs (PatchesStore *s, const char **ids, GError **e)
{
  return !flaky_fail (s, e) && patches_store_untrack_docs (INNER (s), ids, e);
}

static char **
flaky_list_tracked (PatchesStore *s, GError **e)
{
  return patches_store_list_tracked (INNER (s), e);
}

static gboolean
flaky_delete_doc (PatchesStore *s, const char *id, GError **e)
{
  return !flaky_fail (s, e) && patches_store_delete_doc (INNER (s), id, e);
}

static gboolean
flaky_purge_doc (PatchesStore *s, const char *id, GError **e)
{
  return !flaky_fail (s, e) && patches_store_purge_doc (INNER (s), id, e);
}

static char **
flaky_list_tombstones (PatchesStore *s, GError **e)
{
  return patches_store_list_tombstones (INNER (s), e);
}

static char *
flaky_get_meta (PatchesStore *s, const char *key, GError **e)
{
  return patches_store_get_meta (INNER (s), key, e);
}

static gboolean
flaky_set_meta (PatchesStore *s, const char *key, const char *value, GError **e)
{
  return !flaky_fail (s, e) && patches_store_set_meta (INNER (s), key, value, e);
}

static void
test_flaky_store_iface_init (PatchesStoreInterface *iface)
{
  iface->load_doc = flaky_load_doc;
  iface->save_committed = flaky_save_committed;
  iface->save_snapshot = flaky_save_snapshot;
  iface->append_pending = flaky_append_pending;
  iface->replace_pending = flaky_replace_pending;
  iface->track_docs = flaky_track_docs;
  iface->untrack_docs = flaky_untrack_docs;
  iface->list_tracked = flaky_list_tracked;
  iface->delete_doc = flaky_delete_doc;
  iface->purge_doc = flaky_purge_doc;
  iface->list_tombstones = flaky_list_tombstones;
  iface->get_meta = flaky_get_meta;
  iface->set_meta = flaky_set_meta;
}

static void
test_flaky_store_finalize (GObject *object)
{
  g_clear_object (&TEST_FLAKY_STORE (object)->inner);
  G_OBJECT_CLASS (test_flaky_store_parent_class)->finalize (object);
}

static void
test_flaky_store_class_init (TestFlakyStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_flaky_store_finalize;
}

static void
test_flaky_store_init (TestFlakyStore *self)
{
}

/* Fixture */

/* Every client test runs over a memory store and over a SQLite file */
typedef struct {
  TestFlakyStore *flaky;
  PatchesStore   *store;
  PatchesClient  *client;
  ClientLog       log;
  char           *dir;
  char           *path;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->flaky = g_object_new (TEST_TYPE_FLAKY_STORE, NULL);
  if (GPOINTER_TO_INT (data))
    {
      g_autoptr(GError) error = NULL;

      f->dir = g_dir_make_tmp ("test-doc-XXXXXX", &error);
      g_assert_no_error (error);
      f->path = g_build_filename (f->dir, "client.db", NULL);
      f->flaky->inner = PATCHES_STORE (patches_sqlite_store_new (f->path, &error));
      g_assert_no_error (error);
    }
  else
    f->flaky->inner = PATCHES_STORE (patches_memory_store_new ());
  f->store = PATCHES_STORE (f->flaky);
  f->client = patches_client_new (f->store);
  client_log_init (&f->log, f->client);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_object_add_weak_pointer (G_OBJECT (f->client), (gpointer *) &f->client);
  g_object_unref (f->client);
  g_assert_null (f->client);
  g_clear_object (&f->flaky);
  g_ptr_array_unref (f->log.events);
  g_clear_pointer (&f->log.committed, g_ptr_array_unref);

  if (f->dir != NULL)
    {
      const char *suffixes[] = { "", "-wal", "-shm", "-journal" };

      for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
        {
          g_autofree char *file = g_strconcat (f->path, suffixes[i], NULL);

          g_unlink (file);
        }
      g_rmdir (f->dir);
      g_free (f->path);
      g_free (f->dir);
    }
}

static PatchesDoc *
open_doc (Fixture    *f,
          const char *doc_id)
{
  g_autoptr(GError) error = NULL;
  PatchesDoc *doc = patches_client_open_doc (f->client, doc_id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (doc);
  return doc;
}

static void
apply_committed (Fixture    *f,
                 const char *doc_id,
                 GPtrArray  *changes)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (patches_client_apply_committed (f->client, doc_id, changes, &error));
  g_assert_no_error (error);
}

/* Commits {"a":[1,2,3],"n":0} as rev 1 to @doc_id */
static void
seed_rev1 (Fixture    *f,
           const char *doc_id)
{
  g_autoptr(PatchesChange) c1 =
    server_change ("srv1", 0, 1,
                   "[{\"op\":\"add\",\"path\":\"/a\",\"value\":[1,2,3]},"
                   "{\"op\":\"add\",\"path\":\"/n\",\"value\":0}]");
  g_autoptr(GPtrArray) changes = changes_of (c1, NULL);

  apply_committed (f, doc_id, changes);
}

/* Tests */

static void
test_sync_status_enum (void)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (PATCHES_TYPE_SYNC_STATUS);
  GEnumValue *value = g_enum_get_value (klass, PATCHES_SYNC_STATUS_SYNCING);

  g_assert_nonnull (value);
  g_assert_cmpstr (value->value_nick, ==, "syncing");
  g_assert_cmpstr (patches_sync_status_to_string (PATCHES_SYNC_STATUS_UNSYNCED), ==, "unsynced");
  g_assert_cmpstr (patches_sync_status_to_string (PATCHES_SYNC_STATUS_SYNCED), ==, "synced");
  g_assert_cmpstr (patches_sync_status_to_string (PATCHES_SYNC_STATUS_ERROR), ==, "error");
}

static void
test_standalone_doc (void)
{
  g_autoptr(PatchesDoc) doc = patches_doc_new ("solo");
  g_autoptr(Mirror) mirror = mirror_new (doc);
  g_autoptr(PatchesChange) c1 = NULL;
  g_autoptr(PatchesChange) c2 = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *json = NULL;

  g_assert_cmpstr (patches_doc_get_id (doc), ==, "solo");
  assert_value_json (patches_doc_get_state (doc), "{}");
  g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, 0);
  g_assert_false (patches_doc_get_loaded (doc));

  c1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/title\",\"value\":\"Hi\"}]");
  c2 = edit (doc, "[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":2}]");

  g_assert_cmpuint (strlen (c1->id), ==, 12);
  g_assert_cmpstr (c1->id, !=, c2->id);
  g_assert_cmpint (c1->base_rev, ==, 0);
  g_assert_cmpint (c1->rev, ==, 1);
  g_assert_cmpint (c2->base_rev, ==, 0);
  g_assert_cmpint (c2->rev, ==, 2);
  g_assert_cmpfloat (c1->committed_at, ==, 0);
  g_assert_cmpfloat (c1->created_at, >, 1.6e12);
  g_assert_cmpfloat (c1->created_at, <=, (double) (g_get_real_time () / 1000));
  g_assert_null (c1->metadata);

  assert_value_json (patches_doc_get_state (doc), "{\"title\":\"Hi\",\"n\":2}");
  assert_value_json (patches_doc_get_committed_state (doc), "{}");
  g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 2);
  g_assert_true (patches_doc_get_loaded (doc));
  g_assert_cmpuint (mirror->updates->len, ==, 2);
  g_assert_true (g_array_index (mirror->locals, gboolean, 0));

  node = patches_doc_dup_state_node (doc);
  json = json_to_string (node, FALSE);
  g_assert_cmpstr (json, ==, "{\"title\":\"Hi\",\"n\":2}");
}

static void
test_local_change (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(Mirror) mirror = mirror_new (doc);
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(PatchesChange) c1 = NULL;
  g_autoptr(PatchesChange) c2 = NULL;
  g_autofree char *ops = NULL;

  assert_log (&f->log, "docs-tracked:doc doc-opened:doc");
  g_assert_true (patches_client_is_tracked (f->client, "doc"));
  assert_value_json (patches_doc_get_state (doc), "{}");

  c1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/title\",\"value\":\"Hello\"},"
                  "{\"op\":\"add\",\"path\":\"/tags\",\"value\":[]}]");

  /* State, pending, signals in order, store */
  assert_value_json (patches_doc_get_state (doc), "{\"title\":\"Hello\",\"tags\":[]}");
  assert_value_json (patches_doc_get_committed_state (doc), "{}");
  g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 1);
  g_assert_true (patches_doc_get_has_pending (doc));
  g_assert_true (g_ptr_array_index (patches_doc_get_pending (doc), 0) == c1);

  g_assert_cmpuint (mirror->updates->len, ==, 1);
  g_assert_true (g_array_index (mirror->locals, gboolean, 0));
  ops = patches_patch_to_json (mirror_last_update (mirror));
  g_assert_cmpstr (ops, ==,
                   "[{\"op\":\"add\",\"path\":\"/title\",\"value\":\"Hello\"},"
                   "{\"op\":\"add\",\"path\":\"/tags\",\"value\":[]}]");
  g_assert_cmpuint (mirror->changed->len, ==, 1);
  g_assert_true (g_ptr_array_index (mirror->changed, 0) == c1);
  g_assert_cmpstr (g_ptr_array_index (mirror->order, mirror->order->len - 2), ==, "update");
  g_assert_cmpstr (g_ptr_array_index (mirror->order, mirror->order->len - 1), ==, "changed");
  assert_log (&f->log, "pending-changed:doc");

  stored = load_stored (f->store, "doc");
  g_assert_cmpuint (stored->pending->len, ==, 1);
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (stored->pending, 0))->id, ==, c1->id);
  g_assert_cmpint (stored->committed_rev, ==, 0);

  /* A second edit continues the provisional revisions */
  c2 = edit (doc, "[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"Hello!\"}]");
  g_assert_cmpint (c2->base_rev, ==, 0);
  g_assert_cmpint (c2->rev, ==, 2);
  g_clear_pointer (&stored, patches_stored_doc_unref);
  stored = load_stored (f->store, "doc");
  g_assert_cmpuint (stored->pending->len, ==, 2);

  /* The sync engine's view of it */
  g_assert_true (patches_client_has_pending (f->client, "doc"));
  g_assert_cmpint (patches_client_get_committed_rev (f->client, "doc"), ==, 0);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) pending = patches_client_dup_pending (f->client, "doc", &error);

    g_assert_no_error (error);
    g_assert_cmpuint (pending->len, ==, 2);
    g_assert_true (g_ptr_array_index (pending, 1) == c2);
    /* A copy: changing it does not touch the document */
    g_ptr_array_set_size (pending, 0);
    g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 2);
  }

  /* Opening again gives the same object without signals */
  {
    g_autoptr(PatchesDoc) again = open_doc (f, "doc");

    g_assert_true (again == doc);
    g_assert_true (patches_client_get_open_doc (f->client, "doc") == doc);
    assert_log (&f->log, "pending-changed:doc");
  }
}

static void
test_empty_and_failed_patch (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(PatchesChange) c1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}]");
  g_autoptr(Mirror) mirror = mirror_new (doc);
  g_autoptr(PatchesPatch) empty = patches_patch_new ();
  g_autoptr(PatchesPatch) bad = NULL;
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) before = patches_value_ref (patches_doc_get_state (doc));
  PatchesChange *change;

  client_log_clear (&f->log);

  /* Empty: nothing, no error */
  change = patches_doc_change (doc, empty, &error);
  g_assert_no_error (error);
  g_assert_null (change);

  /* The second op fails: the first one must not stick either */
  bad = patch_from_json ("[{\"op\":\"replace\",\"path\":\"/x\",\"value\":2},"
                         "{\"op\":\"test\",\"path\":\"/x\",\"value\":42}]");
  change = patches_doc_change (doc, bad, &error);
  g_assert_null (change);
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_TEST_FAILED);
  g_clear_error (&error);

  g_clear_pointer (&bad, patches_patch_unref);
  /* Writing through a number: a hard error, single op (applied in place) */
  bad = patch_from_json ("[{\"op\":\"add\",\"path\":\"/x/y\",\"value\":1}]");
  change = patches_doc_change (doc, bad, &error);
  g_assert_null (change);
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_HARD);
  g_clear_error (&error);

  g_assert_true (patches_value_equal (patches_doc_get_state (doc), before));
  assert_value_json (patches_doc_get_state (doc), "{\"x\":1}");
  g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 1);
  g_assert_cmpuint (mirror->order->len, ==, 0);
  assert_log (&f->log, "");

  stored = load_stored (f->store, "doc");
  g_assert_cmpuint (stored->pending->len, ==, 1);
}

static void
test_persist_failure_rolls_back (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(PatchesChange) c1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}]");
  g_autoptr(Mirror) mirror = mirror_new (doc);
  g_autoptr(PatchesPatch) patch = patch_from_json ("[{\"op\":\"replace\",\"path\":\"/x\",\"value\":2}]");
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(GError) error = NULL;
  PatchesChange *change;

  client_log_clear (&f->log);

  f->flaky->fail_writes = TRUE;
  change = patches_doc_change (doc, patch, &error);
  f->flaky->fail_writes = FALSE;

  g_assert_null (change);
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_IO);
  assert_value_json (patches_doc_get_state (doc), "{\"x\":1}");
  g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 1);
  g_assert_cmpuint (mirror->order->len, ==, 0);
  assert_log (&f->log, "");
  stored = load_stored (f->store, "doc");
  g_assert_cmpuint (stored->pending->len, ==, 1);

  /* It works again once the store does */
  change = patches_doc_change (doc, patch, NULL);
  g_assert_nonnull (change);
  g_assert_cmpint (change->rev, ==, 2);
  assert_value_json (patches_doc_get_state (doc), "{\"x\":2}");
  patches_change_unref (change);
}

static void
test_own_echo_confirms (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(Mirror) mirror = mirror_new (doc);
  g_autoptr(PatchesChange) c1 = NULL;
  g_autoptr(PatchesChange) c2 = NULL;
  g_autoptr(PatchesChange) e1 = NULL;
  g_autoptr(PatchesChange) e2 = NULL;
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(PatchesStoredDoc) stored = NULL;

  c1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]");
  c2 = edit (doc, "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2}]");
  client_log_clear (&f->log);
  mirror_reset_counts (mirror);

  /* The commit response holds both, as revs 1 and 2 */
  e1 = echo_of (c1, 1);
  e2 = echo_of (c2, 2);
  batch = changes_of (e1, e2, NULL);
  apply_committed (f, "doc", batch);

  g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, 2);
  g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 0);
  g_assert_false (patches_doc_get_has_pending (doc));
  assert_value_json (patches_doc_get_committed_state (doc), "{\"a\":1,\"b\":2}");
  assert_value_json (patches_doc_get_state (doc), "{\"a\":1,\"b\":2}");
  /* Own echoes change nothing the user sees: no update */
  g_assert_cmpuint (mirror->updates->len, ==, 0);
  g_assert_cmpuint (mirror_notifies (mirror, "committed-rev"), ==, 1);
  g_assert_cmpuint (mirror_notifies (mirror, "has-pending"), ==, 1);
  g_assert_cmpuint (mirror_notifies (mirror, "n-pending"), ==, 1);
  assert_log (&f->log, "committed:doc@1,2");

  stored = load_stored (f->store, "doc");
  g_assert_cmpint (stored->committed_rev, ==, 2);
  g_assert_cmpuint (stored->pending->len, ==, 0);
  assert_value_json (stored->state, "{\"a\":1,\"b\":2}");
  g_assert_cmpint (patches_client_get_committed_rev (f->client, "doc"), ==, 2);
  g_assert_false (patches_client_has_pending (f->client, "doc"));
}

static void
test_remote_change_with_pending (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(Mirror) mirror = NULL;
  g_autoptr(PatchesChange) p1 = NULL;
  g_autoptr(PatchesChange) p2 = NULL;
  g_autoptr(PatchesChange) r2 = NULL;
  g_autoptr(PatchesChange) r3 = NULL;
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(PatchesValue) old_view = NULL;
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(GError) error = NULL;
  PatchesChange *rebased;

  seed_rev1 (f, "doc");
  mirror = mirror_new (doc);
  client_log_clear (&f->log);

  /* Two pending edits on {"a":[1,2,3],"n":0} */
  p1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/a/0\",\"value\":\"x\"}]");
  p2 = edit (doc, "[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":5}]");
  assert_value_json (patches_doc_get_state (doc), "{\"a\":[\"x\",1,2,3],\"n\":5}");
  mirror_reset_counts (mirror);
  client_log_clear (&f->log);
  old_view = patches_value_ref (patches_doc_get_state (doc));

  /* Someone else inserted at /a/2 and bumped n, committed as revs 2, 3 */
  r2 = server_change ("other2", 1, 2, "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":\"y\"}]");
  r3 = server_change ("other3", 2, 3, "[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":10},"
                                       "{\"op\":\"remove\",\"path\":\"/a/0\"}]");
  batch = changes_of (r2, r3, NULL);
  apply_committed (f, "doc", batch);

  /* The committed state moved; the pending changes were rebased */
  g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, 3);
  assert_value_json (patches_doc_get_committed_state (doc), "{\"a\":[2,\"y\",3],\"n\":10}");
  g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 2);
  rebased = g_ptr_array_index (patches_doc_get_pending (doc), 0);
  g_assert_cmpstr (rebased->id, ==, p1->id);
  g_assert_cmpint (rebased->base_rev, ==, 3);
  g_assert_cmpint (rebased->rev, ==, 4);
  assert_ops_json (rebased->ops, "[{\"op\":\"add\",\"path\":\"/a/0\",\"value\":\"x\"}]");
  rebased = g_ptr_array_index (patches_doc_get_pending (doc), 1);
  g_assert_cmpint (rebased->rev, ==, 5);
  assert_view_consistent (doc);
  assert_value_json (patches_doc_get_state (doc), "{\"a\":[\"x\",2,\"y\",3],\"n\":15}");

  /* One update, not local, with the remote ops moved past the pending
   * ones; the mirror checked they take the old view to the new one, and
   * so does this, on the reference we kept */
  g_assert_cmpuint (mirror->updates->len, ==, 1);
  g_assert_false (g_array_index (mirror->locals, gboolean, 0));
  assert_ops_json (patches_patch_get_ops (mirror_last_update (mirror)),
                   "[{\"op\":\"add\",\"path\":\"/a/3\",\"value\":\"y\"},"
                   "{\"op\":\"@inc\",\"path\":\"/n\",\"value\":10},"
                   "{\"op\":\"remove\",\"path\":\"/a/1\"}]");
  assert_value_json (old_view, "{\"a\":[\"x\",1,2,3],\"n\":5}");
  g_assert_true (patches_patch_apply (mirror_last_update (mirror), &old_view,
                                      PATCHES_APPLY_STRICT, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (patches_value_equal (old_view, patches_doc_get_state (doc)));

  g_assert_cmpuint (mirror_notifies (mirror, "committed-rev"), ==, 1);
  g_assert_cmpuint (mirror_notifies (mirror, "has-pending"), ==, 0);
  g_assert_cmpuint (mirror_notifies (mirror, "n-pending"), ==, 0);
  assert_log (&f->log, "committed:doc@2,3");
  g_assert_cmpuint (f->log.committed->len, ==, 2);

  /* Persisted: state, rev and the rebased queue */
  stored = load_stored (f->store, "doc");
  g_assert_cmpint (stored->committed_rev, ==, 3);
  assert_value_json (stored->state, "{\"a\":[2,\"y\",3],\"n\":10}");
  g_assert_cmpuint (stored->pending->len, ==, 2);
  g_assert_cmpint (((PatchesChange *) g_ptr_array_index (stored->pending, 0))->base_rev, ==, 3);

  /* A new edit is minted on the new base */
  {
    g_autoptr(PatchesChange) p3 = edit (doc, "[{\"op\":\"add\",\"path\":\"/z\",\"value\":true}]");

    g_assert_cmpint (p3->base_rev, ==, 3);
    g_assert_cmpint (p3->rev, ==, 6);
  }
}

static void
test_remote_change_no_pending (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(Mirror) mirror = mirror_new (doc);
  g_autoptr(PatchesChange) r2 = NULL;
  g_autoptr(GPtrArray) batch = NULL;

  seed_rev1 (f, "doc");
  g_assert_cmpuint (mirror->updates->len, ==, 1);
  assert_ops_json (patches_patch_get_ops (mirror_last_update (mirror)),
                   "[{\"op\":\"add\",\"path\":\"/a\",\"value\":[1,2,3]},"
                   "{\"op\":\"add\",\"path\":\"/n\",\"value\":0}]");
  g_assert_cmpuint (mirror_notifies (mirror, "loaded"), ==, 1);
  g_assert_true (patches_doc_get_loaded (doc));

  r2 = server_change ("other2", 1, 2, "[{\"op\":\"replace\",\"path\":\"/n\",\"value\":7}]");
  batch = changes_of (r2, NULL);
  apply_committed (f, "doc", batch);
  assert_ops_json (patches_patch_get_ops (mirror_last_update (mirror)),
                   "[{\"op\":\"replace\",\"path\":\"/n\",\"value\":7}]");
  assert_value_json (patches_doc_get_state (doc), "{\"a\":[1,2,3],\"n\":7}");
  g_assert_cmpuint (mirror_notifies (mirror, "loaded"), ==, 1);
  g_assert_cmpuint (mirror_notifies (mirror, "committed-rev"), ==, 2);
}

static void
test_gap (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(PatchesChange) p1 = NULL;
  g_autoptr(PatchesChange) r3 = NULL;
  g_autoptr(PatchesChange) r2 = NULL;
  g_autoptr(PatchesChange) r4 = NULL;
  g_autoptr(GPtrArray) gap = NULL;
  g_autoptr(GPtrArray) interior = NULL;
  g_autoptr(Mirror) mirror = NULL;
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(GError) error = NULL;

  seed_rev1 (f, "doc");
  p1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/p\",\"value\":1}]");
  mirror = mirror_new (doc);
  client_log_clear (&f->log);

  r3 = server_change ("o3", 2, 3, "[{\"op\":\"add\",\"path\":\"/q\",\"value\":3}]");
  gap = changes_of (r3, NULL);
  g_assert_false (patches_client_apply_committed (f->client, "doc", gap, &error));
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_MISSING_CHANGES);
  g_assert_cmpstr (error->message, ==,
                   "Missing changes from the server. Expected rev 2, got 3. Request changes since 1.");
  g_clear_error (&error);

  /* The live path also rejects a gap between new changes */
  r2 = server_change ("o2", 1, 2, "[{\"op\":\"add\",\"path\":\"/q\",\"value\":2}]");
  r4 = server_change ("o4", 3, 4, "[{\"op\":\"add\",\"path\":\"/q\",\"value\":4}]");
  interior = changes_of (r2, r4, NULL);
  g_assert_false (patches_client_apply_committed (f->client, "doc", interior, &error));
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_MISSING_CHANGES);
  g_assert_cmpstr (error->message, ==,
                   "Missing changes from the server. Expected rev 3, got 4. Request changes since 1.");

  /* Nothing changed anywhere */
  g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, 1);
  g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 1);
  assert_value_json (patches_doc_get_state (doc), "{\"a\":[1,2,3],\"n\":0,\"p\":1}");
  g_assert_cmpuint (mirror->order->len, ==, 0);
  assert_log (&f->log, "");
  stored = load_stored (f->store, "doc");
  g_assert_cmpint (stored->committed_rev, ==, 1);
  g_assert_cmpuint (stored->pending->len, ==, 1);
  g_assert_cmpint (((PatchesChange *) g_ptr_array_index (stored->pending, 0))->base_rev, ==, 1);
}

static void
test_same_index_inserts (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(Mirror) mirror = NULL;
  g_autoptr(PatchesChange) p1 = NULL;
  g_autoptr(PatchesChange) p2 = NULL;
  g_autoptr(PatchesChange) r2 = NULL;
  g_autoptr(GPtrArray) batch = NULL;

  /* Both sides insert at /a/0.  The rebased pending insert keeps index 0
   * (the reference's rule), so the server will end with ours first; the
   * view must show that, whatever the advanced remote op says. */
  seed_rev1 (f, "doc");
  p1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/a/0\",\"value\":\"L\"}]");
  p2 = edit (doc, "[{\"op\":\"remove\",\"path\":\"/a/1\"}]");
  mirror = mirror_new (doc);

  r2 = server_change ("o2", 1, 2, "[{\"op\":\"add\",\"path\":\"/a/0\",\"value\":\"R\"}]");
  batch = changes_of (r2, NULL);
  apply_committed (f, "doc", batch);

  assert_ops_json (((PatchesChange *) g_ptr_array_index (patches_doc_get_pending (doc), 0))->ops,
                   "[{\"op\":\"add\",\"path\":\"/a/0\",\"value\":\"L\"}]");
  g_assert_true (assert_view_consistent (doc));
  assert_value_json (patches_doc_get_state (doc), "{\"a\":[\"L\",\"R\",2,3],\"n\":0}");
  g_assert_cmpuint (mirror->updates->len, ==, 1);
  /* The advanced remote op (add /a/0 "R") would have put R first */
  g_assert_true (patch_is_reset (mirror_last_update (mirror)));
}

static void
test_stale_and_duplicate (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(PatchesChange) r2 = NULL;
  g_autoptr(PatchesChange) r3 = NULL;
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) overlap = NULL;
  g_autoptr(Mirror) mirror = NULL;

  seed_rev1 (f, "doc");
  r2 = server_change ("o2", 1, 2, "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2}]");
  r3 = server_change ("o3", 2, 3, "[{\"op\":\"add\",\"path\":\"/c\",\"value\":3}]");
  first = changes_of (r2, NULL);
  apply_committed (f, "doc", first);
  mirror = mirror_new (doc);
  client_log_clear (&f->log);

  /* Redelivered: nothing happens */
  apply_committed (f, "doc", first);
  g_assert_cmpuint (mirror->order->len, ==, 0);
  assert_log (&f->log, "");

  /* Overlapping: only rev 3 is new, and the update is incremental */
  overlap = changes_of (r2, r3, NULL);
  apply_committed (f, "doc", overlap);
  g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, 3);
  assert_value_json (patches_doc_get_state (doc), "{\"a\":[1,2,3],\"n\":0,\"b\":2,\"c\":3}");
  g_assert_cmpuint (mirror->updates->len, ==, 1);
  assert_ops_json (patches_patch_get_ops (mirror_last_update (mirror)),
                   "[{\"op\":\"add\",\"path\":\"/c\",\"value\":3}]");
  assert_log (&f->log, "committed:doc@3");
}

static void
test_stale_confirmation_resets (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(PatchesChange) p1 = NULL;
  g_autoptr(PatchesChange) e1 = NULL;
  g_autoptr(PatchesChange) r2 = NULL;
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(Mirror) mirror = NULL;
  PatchesValue *committed;

  /* A pending change whose commit we missed: the snapshot (installed
   * without a tail) already holds it as rev 2 */
  seed_rev1 (f, "doc");
  p1 = edit (doc, "[{\"op\":\"@inc\",\"path\":\"/n\",\"value\":1}]");
  e1 = echo_of (p1, 2);
  committed = parse ("{\"a\":[1,2,3],\"n\":1}");
  g_assert_true (patches_client_install_snapshot (f->client, "doc", committed, 2, NULL, NULL, NULL));
  patches_value_unref (committed);
  /* Pending kept (no tail to reconcile with): the view shows it twice */
  assert_value_json (patches_doc_get_state (doc), "{\"a\":[1,2,3],\"n\":2}");

  mirror = mirror_new (doc);
  client_log_clear (&f->log);

  /* The echo arrives stale, with a new change: confirm, then apply */
  r2 = server_change ("o3", 2, 3, "[{\"op\":\"add\",\"path\":\"/b\",\"value\":3}]");
  batch = changes_of (e1, r2, NULL);
  apply_committed (f, "doc", batch);

  g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 0);
  assert_value_json (patches_doc_get_state (doc), "{\"a\":[1,2,3],\"n\":1,\"b\":3}");
  g_assert_cmpuint (mirror->updates->len, ==, 1);
  g_assert_true (patch_is_reset (mirror_last_update (mirror)));
  g_assert_cmpuint (mirror_notifies (mirror, "has-pending"), ==, 1);
  assert_log (&f->log, "committed:doc@3");
}

static void
test_apply_error (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(PatchesChange) p1 = NULL;
  g_autoptr(PatchesChange) r2 = NULL;
  g_autoptr(PatchesChange) r3 = NULL;
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(Mirror) mirror = NULL;
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(GError) error = NULL;

  seed_rev1 (f, "doc");
  p1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/p\",\"value\":1}]");
  mirror = mirror_new (doc);
  client_log_clear (&f->log);

  r2 = server_change ("good2", 1, 2, "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2}]");
  r3 = server_change ("bad3", 2, 3, "[{\"op\":\"test\",\"path\":\"/n\",\"value\":99}]");
  batch = changes_of (r2, r3, NULL);
  g_assert_false (patches_client_apply_committed (f->client, "doc", batch, &error));
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_APPLY_CHANGES);
  g_assert_nonnull (strstr (error->message, "bad3"));
  g_assert_nonnull (strstr (error->message, "rev 3"));

  g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, 1);
  assert_value_json (patches_doc_get_committed_state (doc), "{\"a\":[1,2,3],\"n\":0}");
  assert_value_json (patches_doc_get_state (doc), "{\"a\":[1,2,3],\"n\":0,\"p\":1}");
  g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 1);
  g_assert_cmpuint (mirror->order->len, ==, 0);
  assert_log (&f->log, "");
  stored = load_stored (f->store, "doc");
  g_assert_cmpint (stored->committed_rev, ==, 1);
  assert_value_json (stored->state, "{\"a\":[1,2,3],\"n\":0}");
}

static void
test_store_failure_on_commit (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(PatchesChange) r2 = NULL;
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(Mirror) mirror = NULL;
  g_autoptr(GError) error = NULL;

  seed_rev1 (f, "doc");
  mirror = mirror_new (doc);
  client_log_clear (&f->log);

  r2 = server_change ("o2", 1, 2, "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2}]");
  batch = changes_of (r2, NULL);
  f->flaky->fail_writes = TRUE;
  g_assert_false (patches_client_apply_committed (f->client, "doc", batch, &error));
  f->flaky->fail_writes = FALSE;
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_IO);
  g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, 1);
  g_assert_cmpuint (mirror->order->len, ==, 0);
  assert_log (&f->log, "");

  apply_committed (f, "doc", batch);
  g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, 2);
}

static void
test_install_snapshot (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(PatchesChange) p1 = NULL;
  g_autoptr(PatchesChange) p2 = NULL;
  g_autoptr(GPtrArray) tail = NULL;
  g_autoptr(GPtrArray) snap_changes = NULL;
  g_autoptr(PatchesValue) snap_state = NULL;
  g_autoptr(Mirror) mirror = NULL;
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(GError) error = NULL;
  PatchesChange *rebased;

  seed_rev1 (f, "doc");
  p1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":\"x\"}]");
  p2 = edit (doc, "[{\"op\":\"add\",\"path\":\"/p\",\"value\":true}]");
  mirror = mirror_new (doc);
  client_log_clear (&f->log);

  /* Since rev 1: a foreign insert at /a/0 (rev 2), our p2 (rev 3), and
   * another foreign change (rev 4).  The snapshot is a version at rev 3
   * plus the change at rev 4. */
  tail = changes_from_json ("[{\"id\":\"f2\",\"baseRev\":1,\"rev\":2,"
                            "\"ops\":[{\"op\":\"add\",\"path\":\"/a/0\",\"value\":\"f\"}]},"
                            "{\"id\":\"P2\",\"baseRev\":1,\"rev\":3,"
                            "\"ops\":[{\"op\":\"add\",\"path\":\"/p\",\"value\":true}]},"
                            "{\"id\":\"f4\",\"baseRev\":3,\"rev\":4,"
                            "\"ops\":[{\"op\":\"replace\",\"path\":\"/n\",\"value\":4}]}]");
  g_free (((PatchesChange *) g_ptr_array_index (tail, 1))->id);
  ((PatchesChange *) g_ptr_array_index (tail, 1))->id = g_strdup (p2->id);
  snap_state = parse ("{\"a\":[\"f\",1,2,3],\"n\":0,\"p\":true}");
  snap_changes = changes_from_json ("[{\"id\":\"f4\",\"baseRev\":3,\"rev\":4,"
                                    "\"ops\":[{\"op\":\"replace\",\"path\":\"/n\",\"value\":4}]}]");

  g_assert_true (patches_client_install_snapshot (f->client, "doc", snap_state, 3,
                                                  snap_changes, tail, &error));
  g_assert_no_error (error);

  /* Committed = snapshot + its changes, at the head */
  g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, 4);
  assert_value_json (patches_doc_get_committed_state (doc),
                     "{\"a\":[\"f\",1,2,3],\"n\":4,\"p\":true}");
  /* p2 was in the tail: gone; p1 rebased over the foreign insert */
  g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 1);
  rebased = g_ptr_array_index (patches_doc_get_pending (doc), 0);
  g_assert_cmpstr (rebased->id, ==, p1->id);
  g_assert_cmpint (rebased->base_rev, ==, 4);
  g_assert_cmpint (rebased->rev, ==, 5);
  assert_ops_json (rebased->ops, "[{\"op\":\"add\",\"path\":\"/a/3\",\"value\":\"x\"}]");
  assert_value_json (patches_doc_get_state (doc),
                     "{\"a\":[\"f\",1,2,\"x\",3],\"n\":4,\"p\":true}");
  assert_view_consistent (doc);

  /* The view was rebuilt: one reset update */
  g_assert_cmpuint (mirror->updates->len, ==, 1);
  g_assert_true (patch_is_reset (mirror_last_update (mirror)));
  g_assert_cmpuint (mirror_notifies (mirror, "n-pending"), ==, 1);
  g_assert_cmpuint (mirror_notifies (mirror, "committed-rev"), ==, 1);
  assert_log (&f->log, "committed:doc@2,3,4");

  stored = load_stored (f->store, "doc");
  g_assert_cmpint (stored->committed_rev, ==, 4);
  assert_value_json (stored->state, "{\"a\":[\"f\",1,2,3],\"n\":4,\"p\":true}");
  g_assert_cmpuint (stored->pending->len, ==, 1);

  /* Live changes continue from the head */
  {
    g_autoptr(PatchesChange) r5 = server_change ("f5", 4, 5, "[{\"op\":\"add\",\"path\":\"/z\",\"value\":5}]");
    g_autoptr(GPtrArray) batch = changes_of (r5, NULL);

    apply_committed (f, "doc", batch);
    g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, 5);
    g_assert_false (patch_is_reset (mirror_last_update (mirror)));
  }
}

static void
test_install_snapshot_unknown_doc (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(PatchesDoc) doc = NULL;
  g_autoptr(GError) error = NULL;

  /* getDoc of a brand-new document: null state, rev 0, its changes
   * replayed in reconstruction mode (a broken one is skipped) */
  changes = changes_from_json ("[{\"id\":\"c1\",\"rev\":1,\"ops\":[{\"op\":\"add\",\"path\":\"/t\",\"value\":\"T\"}]},"
                               "{\"id\":\"c2\",\"rev\":2,\"ops\":[{\"op\":\"test\",\"path\":\"/t\",\"value\":\"no\"}]},"
                               "{\"id\":\"c3\",\"rev\":3,\"ops\":[{\"op\":\"add\",\"path\":\"/u\",\"value\":1}]}]");
  g_assert_true (patches_client_install_snapshot (f->client, "fresh", NULL, 0, changes, NULL, &error));
  g_assert_no_error (error);
  assert_log (&f->log, "committed:fresh@1,2,3");

  g_assert_cmpint (patches_client_get_committed_rev (f->client, "fresh"), ==, 3);
  doc = open_doc (f, "fresh");
  assert_value_json (patches_doc_get_state (doc), "{\"t\":\"T\",\"u\":1}");

  /* An empty document on the server */
  g_clear_object (&doc);
  g_assert_true (patches_client_install_snapshot (f->client, "empty", NULL, 0, NULL, NULL, &error));
  g_assert_no_error (error);
  doc = open_doc (f, "empty");
  assert_value_json (patches_doc_get_state (doc), "{}");
  g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, 0);
}

static void
test_remove_and_replace_pending (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(PatchesChange) p1 = NULL;
  g_autoptr(PatchesChange) p2 = NULL;
  g_autoptr(PatchesChange) p3 = NULL;
  g_autoptr(Mirror) mirror = NULL;
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(GPtrArray) split = NULL;
  g_autoptr(GError) error = NULL;
  const char *ids[3] = { NULL, "not-there", NULL };

  p1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]");
  p2 = edit (doc, "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2}]");
  p3 = edit (doc, "[{\"op\":\"add\",\"path\":\"/c\",\"value\":3},{\"op\":\"add\",\"path\":\"/d\",\"value\":4}]");
  mirror = mirror_new (doc);
  client_log_clear (&f->log);

  /* Unknown ids: nothing */
  g_assert_true (patches_client_remove_pending (f->client, "doc", ids + 1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mirror->order->len, ==, 0);

  ids[0] = p2->id;
  g_assert_true (patches_client_remove_pending (f->client, "doc", ids, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 2);
  assert_value_json (patches_doc_get_state (doc), "{\"a\":1,\"c\":3,\"d\":4}");
  g_assert_cmpuint (mirror->updates->len, ==, 1);
  g_assert_true (patch_is_reset (mirror_last_update (mirror)));
  stored = load_stored (f->store, "doc");
  g_assert_cmpuint (stored->pending->len, ==, 2);
  g_clear_pointer (&stored, patches_stored_doc_unref);

  /* Split p3 into two pieces: same view, so no update */
  {
    PatchesChange *a = patches_change_copy (p3);
    PatchesChange *b = patches_change_copy (p3);

    g_ptr_array_remove_index (a->ops, 1);
    g_ptr_array_remove_index (b->ops, 0);
    g_free (b->id);
    b->id = g_strdup ("piece2");
    b->rev = p3->rev + 1;
    split = changes_of (p1, a, b, NULL);
    patches_change_unref (a);
    patches_change_unref (b);
  }
  mirror_reset_counts (mirror);
  g_assert_true (patches_client_replace_pending (f->client, "doc", split, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 3);
  g_assert_cmpuint (mirror->updates->len, ==, 0);
  g_assert_cmpuint (mirror_notifies (mirror, "n-pending"), ==, 1);
  g_assert_cmpuint (mirror_notifies (mirror, "has-pending"), ==, 0);
  stored = load_stored (f->store, "doc");
  g_assert_cmpuint (stored->pending->len, ==, 3);
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (stored->pending, 2))->id, ==, "piece2");

  /* The next edit continues after the last piece */
  {
    g_autoptr(PatchesChange) p4 = edit (doc, "[{\"op\":\"add\",\"path\":\"/e\",\"value\":5}]");

    g_assert_cmpint (p4->rev, ==, p3->rev + 2);
  }
}

static void
test_take_remote_deleted (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(PatchesChange) p1 = NULL;
  g_autoptr(PatchesChange) p2 = NULL;
  g_autoptr(GPtrArray) lost = NULL;
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) tracked = NULL;

  seed_rev1 (f, "doc");
  p1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}]");
  p2 = edit (doc, "[{\"op\":\"add\",\"path\":\"/y\",\"value\":2}]");
  client_log_clear (&f->log);

  lost = patches_client_take_remote_deleted (f->client, "doc", &error);
  g_assert_no_error (error);
  g_assert_nonnull (lost);
  g_assert_cmpuint (lost->len, ==, 2);
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (lost, 0))->id, ==, p1->id);
  g_assert_cmpstr (((PatchesChange *) g_ptr_array_index (lost, 1))->id, ==, p2->id);

  /* Closed, untracked, purged; nothing for the server */
  assert_log (&f->log, "doc-closed:doc");
  g_assert_null (patches_client_get_open_doc (f->client, "doc"));
  g_assert_false (patches_client_is_tracked (f->client, "doc"));
  tracked = patches_client_list_tracked (f->client);
  g_assert_cmpuint (g_strv_length (tracked), ==, 0);
  stored = patches_store_load_doc (f->store, "doc", &error);
  g_assert_null (stored);
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (patches_client_get_committed_rev (f->client, "doc"), ==, 0);
  {
    g_auto(GStrv) tombstones = patches_client_list_tombstones (f->client);

    g_assert_cmpuint (g_strv_length (tombstones), ==, 0);
  }

  /* The closed document object no longer saves anything */
  {
    g_autoptr(PatchesChange) p3 = edit (doc, "[{\"op\":\"add\",\"path\":\"/z\",\"value\":3}]");

    stored = patches_store_load_doc (f->store, "doc", &error);
    g_assert_null (stored);
    g_clear_error (&error);
    assert_log (&f->log, "");
  }

  /* Unknown document: nothing pending */
  g_clear_pointer (&lost, g_ptr_array_unref);
  lost = patches_client_take_remote_deleted (f->client, "never", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (lost->len, ==, 0);
}

static void
test_delete_doc (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(PatchesChange) p1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}]");
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) tombstones = NULL;
  PatchesDoc *again;

  client_log_clear (&f->log);
  g_assert_true (patches_client_delete_doc (f->client, "doc", &error));
  g_assert_no_error (error);
  assert_log (&f->log, "doc-closed:doc docs-untracked:doc doc-deleted:doc");

  g_assert_null (patches_client_get_open_doc (f->client, "doc"));
  g_assert_false (patches_client_is_tracked (f->client, "doc"));
  stored = load_stored (f->store, "doc");
  g_assert_true (stored->deleted);
  g_assert_cmpuint (stored->pending->len, ==, 0);
  tombstones = patches_client_list_tombstones (f->client);
  g_assert_cmpstrv (tombstones, ((const char *[]) { "doc", NULL }));
  g_assert_false (patches_client_has_pending (f->client, "doc"));

  /* A tombstone cannot be opened, nor receive committed changes */
  again = patches_client_open_doc (f->client, "doc", &error);
  g_assert_null (again);
  g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  {
    g_autoptr(PatchesChange) r1 = server_change ("o1", 0, 1, "[{\"op\":\"add\",\"path\":\"/q\",\"value\":1}]");
    g_autoptr(GPtrArray) batch = changes_of (r1, NULL);

    g_assert_false (patches_client_apply_committed (f->client, "doc", batch, &error));
    g_assert_error (error, PATCHES_STORE_ERROR, PATCHES_STORE_ERROR_INVALID);
    g_clear_error (&error);
  }

  /* Once the server confirmed, the tombstone goes */
  g_assert_true (patches_client_purge_tombstone (f->client, "doc", &error));
  g_assert_no_error (error);
  g_clear_pointer (&tombstones, g_strfreev);
  tombstones = patches_client_list_tombstones (f->client);
  g_assert_cmpuint (g_strv_length (tombstones), ==, 0);
  g_clear_pointer (&stored, patches_stored_doc_unref);
  stored = patches_store_load_doc (f->store, "doc", &error);
  g_assert_null (stored);
  g_clear_error (&error);

  /* purge_tombstone leaves live documents alone */
  {
    g_autoptr(PatchesDoc) live = open_doc (f, "live");
    g_autoptr(PatchesChange) c = edit (live, "[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}]");

    g_assert_true (patches_client_purge_tombstone (f->client, "live", &error));
    g_assert_no_error (error);
    g_clear_pointer (&stored, patches_stored_doc_unref);
    stored = load_stored (f->store, "live");
    g_assert_cmpuint (stored->pending->len, ==, 1);
  }
}

static void
test_tracked_not_open (Fixture       *f,
                       gconstpointer  data)
{
  const char *ids[] = { "t1", "t2", "t1", NULL };
  g_autoptr(PatchesChange) r1 = NULL;
  g_autoptr(PatchesChange) r2 = NULL;
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(PatchesStoredDoc) stored = NULL;
  g_autoptr(PatchesDoc) doc = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) tracked = NULL;

  g_assert_true (patches_client_track_docs (f->client, ids, &error));
  g_assert_no_error (error);
  assert_log (&f->log, "docs-tracked:t1,t2");
  g_assert_true (patches_client_track_docs (f->client, ids, &error));
  assert_log (&f->log, "");
  tracked = patches_client_list_tracked (f->client);
  g_assert_cmpstrv (tracked, ((const char *[]) { "t1", "t2", NULL }));
  g_assert_cmpint (patches_client_get_committed_rev (f->client, "t1"), ==, 0);

  r1 = server_change ("o1", 0, 1, "[{\"op\":\"add\",\"path\":\"/title\",\"value\":\"One\"}]");
  r2 = server_change ("o2", 1, 2, "[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"Two\"}]");
  batch = changes_of (r1, r2, NULL);
  apply_committed (f, "t1", batch);
  assert_log (&f->log, "committed:t1@1,2");
  g_assert_cmpint (patches_client_get_committed_rev (f->client, "t1"), ==, 2);

  stored = load_stored (f->store, "t1");
  g_assert_cmpint (stored->committed_rev, ==, 2);
  assert_value_json (stored->state, "{\"title\":\"Two\"}");

  /* A gap on a closed document is refused the same way */
  {
    g_autoptr(PatchesChange) r4 = server_change ("o4", 3, 4, "[]");
    g_autoptr(GPtrArray) gap = changes_of (r4, NULL);

    g_assert_false (patches_client_apply_committed (f->client, "t1", gap, &error));
    g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_MISSING_CHANGES);
    g_clear_error (&error);
  }

  /* Opening shows them */
  doc = open_doc (f, "t1");
  assert_log (&f->log, "doc-opened:t1");
  g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, 2);
  assert_value_json (patches_doc_get_state (doc), "{\"title\":\"Two\"}");
  g_assert_true (patches_doc_get_loaded (doc));

  /* Edit, close, then the echo arrives while closed */
  {
    g_autoptr(PatchesChange) p3 = edit (doc, "[{\"op\":\"add\",\"path\":\"/body\",\"value\":\"b\"}]");
    g_autoptr(PatchesChange) e3 = echo_of (p3, 3);
    g_autoptr(PatchesChange) r4 = server_change ("o4", 3, 4, "[{\"op\":\"add\",\"path\":\"/more\",\"value\":4}]");
    g_autoptr(GPtrArray) echo = changes_of (e3, r4, NULL);

    patches_client_close_doc (f->client, "t1");
    g_clear_object (&doc);
    assert_log (&f->log, "pending-changed:t1 doc-closed:t1");
    g_assert_true (patches_client_is_tracked (f->client, "t1"));
    g_assert_true (patches_client_has_pending (f->client, "t1"));

    apply_committed (f, "t1", echo);
    assert_log (&f->log, "committed:t1@3,4");
    g_assert_false (patches_client_has_pending (f->client, "t1"));
    g_assert_cmpint (patches_client_get_committed_rev (f->client, "t1"), ==, 4);
  }

  doc = open_doc (f, "t1");
  assert_value_json (patches_doc_get_state (doc), "{\"title\":\"Two\",\"body\":\"b\",\"more\":4}");
  g_assert_false (patches_doc_get_has_pending (doc));

  /* Untracking closes and forgets */
  {
    const char *gone[] = { "t1", "nope", NULL };

    client_log_clear (&f->log);
    g_assert_true (patches_client_untrack_docs (f->client, gone, &error));
    g_assert_no_error (error);
    assert_log (&f->log, "doc-closed:t1 docs-untracked:t1");
    g_assert_null (patches_client_get_open_doc (f->client, "t1"));
    g_assert_false (patches_client_is_tracked (f->client, "t1"));
    g_assert_cmpint (patches_client_get_committed_rev (f->client, "t1"), ==, 0);
  }
}

static void
test_reopen_from_store (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(PatchesChange) p1 = NULL;
  g_autoptr(PatchesClient) second = NULL;
  g_autoptr(PatchesDoc) reopened = NULL;
  g_autoptr(GError) error = NULL;

  seed_rev1 (f, "doc");
  p1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":4}]");

  /* A new client over the same store (a restart) */
  second = patches_client_new (f->store);
  g_assert_true (patches_client_is_tracked (second, "doc"));
  g_assert_true (patches_client_has_pending (second, "doc"));
  reopened = patches_client_open_doc (second, "doc", &error);
  g_assert_no_error (error);
  g_assert_true (reopened != doc);
  g_assert_cmpint (patches_doc_get_committed_rev (reopened), ==, 1);
  g_assert_cmpuint (patches_doc_get_n_pending (reopened), ==, 1);
  assert_value_json (patches_doc_get_committed_state (reopened), "{\"a\":[1,2,3],\"n\":0}");
  assert_value_json (patches_doc_get_state (reopened), "{\"a\":[1,2,3,4],\"n\":0}");
  g_assert_true (patches_doc_get_loaded (reopened));
}

static void
test_text_edits (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "note");
  g_autoptr(Mirror) mirror = mirror_new (doc);
  g_autoptr(PatchesChange) seed = NULL;
  g_autoptr(PatchesChange) local = NULL;
  g_autoptr(PatchesChange) remote = NULL;
  g_autoptr(PatchesChange) echo = NULL;
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  g_autoptr(PatchesDelta) delta = patches_delta_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;

  seed = server_change ("s1", 0, 1,
                        "[{\"op\":\"add\",\"path\":\"/body\",\"value\":{\"ops\":[{\"insert\":\"hello\\n\"}]}}]");
  batch = changes_of (seed, NULL);
  apply_committed (f, "note", batch);
  g_clear_pointer (&batch, g_ptr_array_unref);

  /* Local: " world" after "hello", built with the delta builder */
  patches_delta_retain (delta, 5, NULL);
  patches_delta_insert_utf8 (delta, " world", NULL);
  patches_patch_text (patch, "/body", g_steal_pointer (&delta));
  local = patches_doc_change (doc, patch, &error);
  g_assert_no_error (error);
  g_assert_nonnull (local);
  assert_value_json (patches_doc_get_state (doc), "{\"body\":{\"ops\":[{\"insert\":\"hello world\\n\"}]}}");
  g_assert_true (g_array_index (mirror->locals, gboolean, mirror->locals->len - 1));

  /* Remote: ">> " at the start, bold, committed before ours */
  remote = server_change ("o2", 1, 2,
                          "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":"
                          "[{\"insert\":\">> \",\"attributes\":{\"bold\":true}}]}]");
  batch = changes_of (remote, NULL);
  apply_committed (f, "note", batch);
  g_clear_pointer (&batch, g_ptr_array_unref);

  g_assert_false (patch_is_reset (mirror_last_update (mirror)));
  assert_ops_json (patches_patch_get_ops (mirror_last_update (mirror)),
                   "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":"
                   "[{\"insert\":\">> \",\"attributes\":{\"bold\":true}}]}]");
  assert_value_json (patches_doc_get_state (doc),
                     "{\"body\":{\"ops\":[{\"insert\":\">> \",\"attributes\":{\"bold\":true}},"
                     "{\"insert\":\"hello world\\n\"}]}}");
  assert_ops_json (((PatchesChange *) g_ptr_array_index (patches_doc_get_pending (doc), 0))->ops,
                   "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":8},{\"insert\":\" world\"}]}]");
  assert_view_consistent (doc);

  /* Another local keystroke, then our first change comes back */
  {
    g_autoptr(PatchesChange) k = edit (doc, "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":14},{\"insert\":\"!\"}]}]");

    g_assert_cmpint (k->base_rev, ==, 2);
    g_assert_cmpint (k->rev, ==, 4);
  }
  echo = echo_of (g_ptr_array_index (patches_doc_get_pending (doc), 0), 3);
  batch = changes_of (echo, NULL);
  mirror_reset_counts (mirror);
  apply_committed (f, "note", batch);
  g_assert_cmpuint (mirror->updates->len, ==, 0);
  g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 1);
  assert_value_json (patches_doc_get_committed_state (doc),
                     "{\"body\":{\"ops\":[{\"insert\":\">> \",\"attributes\":{\"bold\":true}},"
                     "{\"insert\":\"hello world\\n\"}]}}");
  assert_value_json (patches_doc_get_state (doc),
                     "{\"body\":{\"ops\":[{\"insert\":\">> \",\"attributes\":{\"bold\":true}},"
                     "{\"insert\":\"hello world!\\n\"}]}}");

  /* The stored pending change is exactly what will be sent */
  {
    g_autoptr(PatchesStoredDoc) stored = load_stored (f->store, "note");
    GString *out = g_string_new (NULL);

    g_assert_cmpuint (stored->pending->len, ==, 1);
    patches_ops_write_json (((PatchesChange *) g_ptr_array_index (stored->pending, 0))->ops, out);
    json = g_string_free (out, FALSE);
    g_assert_cmpstr (json, ==, "[{\"op\":\"@txt\",\"path\":\"/body\",\"value\":[{\"retain\":14},{\"insert\":\"!\"}]}]");
  }
}

static void
test_notify_counts (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(Mirror) mirror = mirror_new (doc);
  g_autoptr(PatchesChange) p1 = NULL;
  g_autoptr(PatchesChange) p2 = NULL;
  g_autoptr(PatchesChange) e1 = NULL;
  g_autoptr(PatchesChange) e2 = NULL;
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(GError) sync_error = NULL;
  const GError *got;

  p1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]");
  p2 = edit (doc, "[{\"op\":\"add\",\"path\":\"/b\",\"value\":1}]");
  g_assert_cmpuint (mirror_notifies (mirror, "has-pending"), ==, 1);
  g_assert_cmpuint (mirror_notifies (mirror, "n-pending"), ==, 2);
  g_assert_cmpuint (mirror_notifies (mirror, "loaded"), ==, 1);
  g_assert_cmpuint (mirror_notifies (mirror, "committed-rev"), ==, 0);

  /* Echo of the first only: has-pending stays, n-pending drops */
  mirror_reset_counts (mirror);
  e1 = echo_of (p1, 1);
  batch = changes_of (e1, NULL);
  apply_committed (f, "doc", batch);
  g_assert_cmpuint (mirror_notifies (mirror, "has-pending"), ==, 0);
  g_assert_cmpuint (mirror_notifies (mirror, "n-pending"), ==, 1);
  g_assert_cmpuint (mirror_notifies (mirror, "committed-rev"), ==, 1);
  g_assert_cmpuint (mirror_notifies (mirror, "loaded"), ==, 0);
  g_clear_pointer (&batch, g_ptr_array_unref);

  mirror_reset_counts (mirror);
  e2 = echo_of (g_ptr_array_index (patches_doc_get_pending (doc), 0), 2);
  batch = changes_of (e2, NULL);
  apply_committed (f, "doc", batch);
  g_assert_cmpuint (mirror_notifies (mirror, "has-pending"), ==, 1);
  g_assert_false (patches_doc_get_has_pending (doc));
  g_assert_cmpuint (mirror->updates->len, ==, 0);

  /* Sync status: notified on change only; the error only with ERROR */
  mirror_reset_counts (mirror);
  patches_client_set_doc_sync_status (f->client, "doc", PATCHES_SYNC_STATUS_SYNCING, NULL);
  patches_client_set_doc_sync_status (f->client, "doc", PATCHES_SYNC_STATUS_SYNCING, NULL);
  g_assert_cmpuint (mirror_notifies (mirror, "sync-status"), ==, 1);
  g_assert_cmpint (patches_doc_get_sync_status (doc), ==, PATCHES_SYNC_STATUS_SYNCING);
  g_assert_cmpuint (mirror_notifies (mirror, "sync-error"), ==, 0);

  sync_error = g_error_new_literal (PATCHES_ERROR, PATCHES_ERROR_CONFLICT, "boom");
  patches_client_set_doc_sync_status (f->client, "doc", PATCHES_SYNC_STATUS_ERROR, sync_error);
  patches_client_set_doc_sync_status (f->client, "doc", PATCHES_SYNC_STATUS_ERROR, sync_error);
  g_assert_cmpuint (mirror_notifies (mirror, "sync-status"), ==, 2);
  g_assert_cmpuint (mirror_notifies (mirror, "sync-error"), ==, 1);
  got = patches_doc_get_sync_error (doc);
  g_assert_error (got, PATCHES_ERROR, PATCHES_ERROR_CONFLICT);
  g_assert_cmpstr (got->message, ==, "boom");
  {
    GError *prop = NULL;
    PatchesSyncStatus status;

    g_object_get (doc, "sync-error", &prop, "sync-status", &status, NULL);
    g_assert_error (prop, PATCHES_ERROR, PATCHES_ERROR_CONFLICT);
    g_assert_cmpint (status, ==, PATCHES_SYNC_STATUS_ERROR);
    g_error_free (prop);
  }

  /* An error with a non-error status is dropped */
  patches_client_set_doc_sync_status (f->client, "doc", PATCHES_SYNC_STATUS_SYNCED, sync_error);
  g_assert_null (patches_doc_get_sync_error (doc));
  g_assert_cmpuint (mirror_notifies (mirror, "sync-error"), ==, 2);

  /* Unknown documents are ignored */
  patches_client_set_doc_sync_status (f->client, "nope", PATCHES_SYNC_STATUS_SYNCED, NULL);
}

static void
test_loaded_latch (void)
{
  g_autoptr(PatchesDoc) doc = patches_doc_new ("d");
  g_autoptr(Mirror) mirror = mirror_new (doc);
  g_autoptr(GError) error = g_error_new_literal (PATCHES_ERROR, PATCHES_ERROR_CONFLICT, "x");

  patches_doc_set_sync_status (doc, PATCHES_SYNC_STATUS_SYNCING, NULL);
  g_assert_false (patches_doc_get_loaded (doc));
  patches_doc_set_sync_status (doc, PATCHES_SYNC_STATUS_SYNCED, NULL);
  g_assert_true (patches_doc_get_loaded (doc));
  patches_doc_set_sync_status (doc, PATCHES_SYNC_STATUS_UNSYNCED, NULL);
  g_assert_true (patches_doc_get_loaded (doc));
  g_assert_cmpuint (mirror_notifies (mirror, "loaded"), ==, 1);

  {
    g_autoptr(PatchesDoc) other = patches_doc_new ("e");

    patches_doc_set_sync_status (other, PATCHES_SYNC_STATUS_ERROR, error);
    g_assert_true (patches_doc_get_loaded (other));
  }
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_metadata (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(PatchesValue) metadata = parse ("{\"user\":\"ana\",\"rev\":99,\"id\":\"x\"}");
  g_autoptr(PatchesDoc) doc = open_doc (f, "doc");
  g_autoptr(PatchesChange) c1 = NULL;
  g_autoptr(PatchesChange) c2 = NULL;
  g_autoptr(PatchesValue) value = NULL;
  guint notified = 0;

  g_signal_connect (f->client, "notify::metadata", G_CALLBACK (count_notify_cb), &notified);

  patches_client_set_metadata (f->client, metadata);
  patches_client_set_metadata (f->client, metadata);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_true (patches_client_get_metadata (f->client) == metadata);
  c1 = edit (doc, "[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}]");
  g_assert_nonnull (c1->metadata);
  assert_value_json (c1->metadata, "{\"user\":\"ana\"}");
  g_assert_cmpint (c1->rev, ==, 1);
  value = patches_change_to_value (c1);
  g_assert_cmpstr (patches_value_get_string (patches_value_object_get (value, "user")), ==, "ana");
  g_assert_cmpstr (patches_value_get_string (patches_value_object_get (value, "id")), ==, c1->id);

  /* Cleared: later changes carry none */
  g_object_set (f->client, "metadata", NULL, NULL);
  g_assert_null (patches_client_get_metadata (f->client));
  c2 = edit (doc, "[{\"op\":\"add\",\"path\":\"/y\",\"value\":1}]");
  g_assert_null (c2->metadata);
  g_assert_cmpuint (notified, ==, 2);
}

static void
open_async_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  PatchesDoc **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = patches_client_open_doc_finish (PATCHES_CLIENT (source), result, &error);
  g_assert_no_error (error);
}

static void
bool_async_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  int *out = user_data;
  g_autoptr(GError) error = NULL;

  if (g_task_get_source_tag (G_TASK (result)) == patches_client_track_docs_async)
    *out = patches_client_track_docs_finish (PATCHES_CLIENT (source), result, &error);
  else
    *out = patches_client_untrack_docs_finish (PATCHES_CLIENT (source), result, &error);
  g_assert_no_error (error);
}

static void
test_async (Fixture       *f,
            gconstpointer  data)
{
  PatchesDoc *doc = NULL;
  int done = -1;
  const char *ids[] = { "x", "y", NULL };

  patches_client_open_doc_async (f->client, "doc", NULL, open_async_cb, &doc);
  /* The work is done, the callback waits for the main loop */
  g_assert_null (doc);
  g_assert_nonnull (patches_client_get_open_doc (f->client, "doc"));
  while (doc == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (doc == patches_client_get_open_doc (f->client, "doc"));
  g_object_unref (doc);

  patches_client_track_docs_async (f->client, ids, NULL, bool_async_cb, &done);
  while (done < 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (done, ==, TRUE);
  g_assert_true (patches_client_is_tracked (f->client, "y"));

  done = -1;
  patches_client_untrack_docs_async (f->client, ids, NULL, bool_async_cb, &done);
  while (done < 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (done, ==, TRUE);
  g_assert_false (patches_client_is_tracked (f->client, "y"));

  /* Cancelled before it starts: nothing happens */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();

    g_cancellable_cancel (cancellable);
    patches_client_open_doc_async (f->client, "other", cancellable, NULL, NULL);
    g_assert_null (patches_client_get_open_doc (f->client, "other"));
    while (g_main_context_iteration (NULL, FALSE))
      ;
  }

  assert_log (&f->log, "docs-tracked:doc doc-opened:doc docs-tracked:x,y docs-untracked:x,y");
}

static void
test_client_id (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *a = patches_client_dup_client_id (f->client);
  g_autofree char *b = patches_client_dup_client_id (f->client);

  g_assert_nonnull (a);
  g_assert_cmpuint (strlen (a), ==, 16);
  g_assert_cmpstr (a, ==, b);
  g_assert_true (patches_client_get_store (f->client) == f->store);
}

static void
test_close_releases (Fixture       *f,
                     gconstpointer  data)
{
  PatchesDoc *doc = open_doc (f, "doc");

  g_object_add_weak_pointer (G_OBJECT (doc), (gpointer *) &doc);
  g_object_unref (doc);
  g_assert_nonnull (doc);           /* the client holds it */
  patches_client_close_doc (f->client, "doc");
  g_assert_null (doc);
  patches_client_close_doc (f->client, "doc");
  assert_log (&f->log, "docs-tracked:doc doc-opened:doc doc-closed:doc");
  g_assert_true (patches_client_is_tracked (f->client, "doc"));
}

/* Random interleavings of local edits, foreign commits and own echoes.
 * After every step: the mirror (which checks every ::update) agrees,
 * and the view is the committed state with the pending changes applied.
 * The seed is printed; rerun with PATCHES_TEST_SEED=N (TEST_DOC_TRACE=1
 * prints every step). */

static guint32
property_seed (void)
{
  const char *env = g_getenv ("PATCHES_TEST_SEED");

  if (env != NULL)
    return (guint32) g_ascii_strtoull (env, NULL, 10);

  return (guint32) g_test_rand_int ();
}

/* A random op valid on @state, which has an array /a, a counter /n and
 * string members /k0../k3 */
static char *
random_op (GRand        *rand,
           PatchesValue *state,
           int           tag)
{
  guint len = patches_value_array_get_length (patches_value_object_get (state, "a"));

  switch (g_rand_int_range (rand, 0, len > 0 ? 5 : 3))
    {
    case 0:
      return g_strdup_printf ("{\"op\":\"add\",\"path\":\"/a/%u\",\"value\":%d}",
                              g_rand_int_range (rand, 0, len + 1), tag);
    case 1:
      return g_strdup_printf ("{\"op\":\"@inc\",\"path\":\"/n\",\"value\":%d}",
                              g_rand_int_range (rand, 1, 10));
    case 2:
      return g_strdup_printf ("{\"op\":\"replace\",\"path\":\"/k%d\",\"value\":\"v%d\"}",
                              g_rand_int_range (rand, 0, 4), tag);
    case 3:
      return g_strdup_printf ("{\"op\":\"remove\",\"path\":\"/a/%u\"}",
                              g_rand_int_range (rand, 0, len));
    default:
      return g_strdup_printf ("{\"op\":\"replace\",\"path\":\"/a/%u\",\"value\":%d}",
                              g_rand_int_range (rand, 0, len), tag);
    }
}

static char *
random_ops (GRand        *rand,
            PatchesValue *state,
            int           tag)
{
  g_autoptr(PatchesValue) work = patches_value_ref (state);
  GString *out = g_string_new ("[");
  guint n = g_rand_int_range (rand, 1, 4);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *op = random_op (rand, work, tag);
      g_autofree char *one = g_strdup_printf ("[%s]", op);
      g_autoptr(PatchesPatch) patch = patch_from_json (one);

      /* Later ops see the earlier ones */
      g_assert_true (patches_patch_apply (patch, &work, PATCHES_APPLY_STRICT, NULL, NULL, NULL));
      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append (out, op);
    }
  g_string_append_c (out, ']');

  return g_string_free (out, FALSE);
}

static void
test_property_interleavings (Fixture       *f,
                             gconstpointer  data)
{
  guint32 seed = property_seed ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint rounds = g_getenv ("PATCHES_LONG_TESTS") ? 300 : 20;
  guint broken = 0, ejected = 0;

  g_test_message ("seed %u (rerun with PATCHES_TEST_SEED=%u)", seed, seed);

  for (guint round = 0; round < rounds; round++)
    {
      g_autofree char *doc_id = g_strdup_printf ("prop%u", round);
      g_autoptr(PatchesDoc) doc = open_doc (f, doc_id);
      g_autoptr(Mirror) mirror = NULL;
      g_autoptr(PatchesChange) c1 =
        server_change ("seed", 0, 1,
                       "[{\"op\":\"add\",\"path\":\"/a\",\"value\":[1,2,3]},"
                       "{\"op\":\"add\",\"path\":\"/n\",\"value\":0},"
                       "{\"op\":\"add\",\"path\":\"/k0\",\"value\":\"\"}]");
      g_autoptr(GPtrArray) first = changes_of (c1, NULL);
      int tag = 0;

      apply_committed (f, doc_id, first);
      mirror = mirror_new (doc);

      for (guint step = 0; step < 40; step++)
        {
          int what = g_rand_int_range (rand, 0, 10);

          if (g_getenv ("TEST_DOC_TRACE"))
            {
              g_autofree char *st = patches_value_to_json (patches_doc_get_state (doc));
              g_test_message ("step %u what %d view %s", step, what, st);
            }

          if (what < 4)
            {
              /* Local edit on what the user sees */
              g_autofree char *ops = random_ops (rand, patches_doc_get_state (doc), ++tag);
              g_autoptr(PatchesChange) change = edit (doc, ops);

              if (g_getenv ("TEST_DOC_TRACE"))
                g_test_message ("  local %s", ops);
            }
          else if (what < 7)
            {
              /* 1–2 foreign changes committed on the server's state */
              g_autoptr(GPtrArray) batch = patches_changes_new ();
              g_autoptr(PatchesValue) server = patches_value_ref (patches_doc_get_committed_state (doc));
              gint64 rev = patches_doc_get_committed_rev (doc);
              guint n = g_rand_int_range (rand, 1, 3);

              for (guint i = 0; i < n; i++)
                {
                  g_autofree char *ops = random_ops (rand, server, ++tag);
                  g_autofree char *id = g_strdup_printf ("f%d", tag);
                  g_autoptr(PatchesChange) change = server_change (id, rev, rev + 1, ops);
                  g_autoptr(GPtrArray) one = changes_of (change, NULL);

                  g_assert_true (patches_changes_apply (&server, one, NULL));
                  if (g_getenv ("TEST_DOC_TRACE"))
                    g_test_message ("  remote %s", ops);
                  g_ptr_array_add (batch, g_steal_pointer (&change));
                  rev++;
                }
              apply_committed (f, doc_id, batch);
            }
          else if (patches_doc_get_n_pending (doc) > 0)
            {
              /* The server commits our first pending change (maybe
               * after a foreign one, sent in the same response) */
              PatchesChange *head = g_ptr_array_index (patches_doc_get_pending (doc), 0);
              gint64 rev = patches_doc_get_committed_rev (doc);
              g_autoptr(GPtrArray) batch = patches_changes_new ();
              g_autoptr(PatchesValue) probe = patches_value_ref (patches_doc_get_committed_state (doc));

              g_ptr_array_add (batch, echo_of (head, rev + 1));
              if (patches_changes_apply (&probe, batch, NULL))
                apply_committed (f, doc_id, batch);
              else
                {
                  /* The server would refuse it; the sync engine ejects it */
                  const char *ids[] = { head->id, NULL };

                  g_assert_true (patches_client_remove_pending (f->client, doc_id, ids, NULL));
                  ejected++;
                }
            }

          if (!assert_view_consistent (doc))
            broken++;
        }

      patches_client_close_doc (f->client, doc_id);
    }

  g_test_message ("%u steps had pending changes that no longer applied; %u were ejected",
                  broken, ejected);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  G_STMT_START { \
    g_test_add ("/client/memory/" path, Fixture, GINT_TO_POINTER (0), \
                fixture_setup, func, fixture_teardown); \
    g_test_add ("/client/sqlite/" path, Fixture, GINT_TO_POINTER (1), \
                fixture_setup, func, fixture_teardown); \
  } G_STMT_END

  g_test_add_func ("/doc/sync-status-enum", test_sync_status_enum);
  g_test_add_func ("/doc/standalone", test_standalone_doc);
  g_test_add_func ("/doc/loaded-latch", test_loaded_latch);
  ADD ("local-change", test_local_change);
  ADD ("empty-and-failed-patch", test_empty_and_failed_patch);
  ADD ("persist-failure-rolls-back", test_persist_failure_rolls_back);
  ADD ("own-echo-confirms", test_own_echo_confirms);
  ADD ("remote-change-with-pending", test_remote_change_with_pending);
  ADD ("remote-change-no-pending", test_remote_change_no_pending);
  ADD ("same-index-inserts", test_same_index_inserts);
  ADD ("gap", test_gap);
  ADD ("stale-and-duplicate", test_stale_and_duplicate);
  ADD ("stale-confirmation-resets", test_stale_confirmation_resets);
  ADD ("apply-error", test_apply_error);
  ADD ("store-failure-on-commit", test_store_failure_on_commit);
  ADD ("install-snapshot", test_install_snapshot);
  ADD ("install-snapshot-unknown-doc", test_install_snapshot_unknown_doc);
  ADD ("remove-and-replace-pending", test_remove_and_replace_pending);
  ADD ("take-remote-deleted", test_take_remote_deleted);
  ADD ("delete-doc", test_delete_doc);
  ADD ("tracked-not-open", test_tracked_not_open);
  ADD ("reopen-from-store", test_reopen_from_store);
  ADD ("text-edits", test_text_edits);
  ADD ("notify-counts", test_notify_counts);
  ADD ("metadata", test_metadata);
  ADD ("async", test_async);
  ADD ("client-id", test_client_id);
  ADD ("close-releases", test_close_releases);
  ADD ("property-interleavings", test_property_interleavings);

#undef ADD

  return g_test_run ();
}
