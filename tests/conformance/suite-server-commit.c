/* suite-server-commit.c: server_commit.json
 *
 * Replays each scenario against an in-memory history store driven by the
 * library's server algorithms (patches-commit.h).  Only the bookkeeping
 * of the store lives here: a change log per document, versions with
 * their states, tombstones, like the harness's MemoryOTBackend.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "conformance.h"
#include "patches-commit.h"
#include "patches-ot.h"
#include "patches-test-log.h"

typedef struct {
  PatchesValue *meta;
  PatchesValue *state;
  GPtrArray    *changes;
} MemVersion;

typedef struct {
  GPtrArray *log;        /* PatchesChange, ascending rev */
  GPtrArray *versions;   /* MemVersion, in creation order */
} MemDoc;

typedef struct {
  GHashTable *docs;           /* doc id → MemDoc */
  GHashTable *tombstones;     /* doc id → PatchesValue */
  GHashTable *version_names;  /* version id → "V<n>" in creation order */
  guint       n_versions;
} MemStore;

static void
mem_version_free (MemVersion *version)
{
  g_clear_pointer (&version->meta, patches_value_unref);
  g_clear_pointer (&version->state, patches_value_unref);
  g_clear_pointer (&version->changes, g_ptr_array_unref);
  g_free (version);
}

static void
mem_doc_free (MemDoc *doc)
{
  g_ptr_array_unref (doc->log);
  g_ptr_array_unref (doc->versions);
  g_free (doc);
}

static MemStore *
mem_store_new (void)
{
  MemStore *store = g_new0 (MemStore, 1);

  store->docs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) mem_doc_free);
  store->tombstones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) patches_value_unref);
  store->version_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return store;
}

static void
mem_store_free (MemStore *store)
{
  g_hash_table_unref (store->docs);
  g_hash_table_unref (store->tombstones);
  g_hash_table_unref (store->version_names);
  g_free (store);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MemStore, mem_store_free)

static MemDoc *
mem_doc (MemStore   *store,
         const char *doc_id,
         gboolean    create)
{
  MemDoc *doc = g_hash_table_lookup (store->docs, doc_id);

  if (doc == NULL && create)
    {
      doc = g_new0 (MemDoc, 1);
      doc->log = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_change_unref);
      doc->versions = g_ptr_array_new_with_free_func ((GDestroyNotify) mem_version_free);
      g_hash_table_insert (store->docs, g_strdup (doc_id), doc);
    }

  return doc;
}

static gboolean
mem_get_current_rev (gpointer     data,
                     const char  *doc_id,
                     gint64      *rev,
                     GError     **error)
{
  MemDoc *doc = mem_doc (data, doc_id, FALSE);

  *rev = doc != NULL ? patches_test_log_head (doc->log) : 0;
  return TRUE;
}

static GPtrArray *
mem_list_changes (gpointer     data,
                  const char  *doc_id,
                  gint64       start_after,
                  gint64       end_before,
                  guint        limit,
                  gboolean     reverse,
                  GError     **error)
{
  MemDoc *doc = mem_doc (data, doc_id, FALSE);

  if (doc == NULL)
    return patches_changes_new ();
  return patches_test_log_range (doc->log, start_after, end_before, limit, reverse);
}

static int
compare_rev (gconstpointer a,
             gconstpointer b)
{
  const PatchesChange *ca = *(PatchesChange **) a;
  const PatchesChange *cb = *(PatchesChange **) b;

  return ca->rev < cb->rev ? -1 : ca->rev > cb->rev;
}

static gboolean
mem_save_changes (gpointer     data,
                  const char  *doc_id,
                  GPtrArray   *changes,
                  GError     **error)
{
  MemDoc *doc = mem_doc (data, doc_id, TRUE);
  g_autoptr(GHashTable) revs = g_hash_table_new (g_int64_hash, g_int64_equal);

  if (!patches_test_log_check_ids (doc->log, doc_id, changes, error))
    return FALSE;

  for (guint i = 0; i < doc->log->len; i++)
    g_hash_table_add (revs, &((PatchesChange *) g_ptr_array_index (doc->log, i))->rev);

  for (guint i = 0; i < changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (changes, i);

      if (g_hash_table_contains (revs, &change->rev))
        {
          g_set_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_REV_CONFLICT,
                       "Revision %" G_GINT64_FORMAT " already exists for doc %s",
                       change->rev, doc_id);
          return FALSE;
        }
      g_hash_table_add (revs, &change->rev);
    }

  for (guint i = 0; i < changes->len; i++)
    g_ptr_array_add (doc->log, patches_change_ref (g_ptr_array_index (changes, i)));
  g_ptr_array_sort (doc->log, compare_rev);

  return TRUE;
}

static gint64
meta_rev (PatchesValue *meta,
          const char   *key)
{
  PatchesValue *member = patches_value_object_get (meta, key);

  return member ? (gint64) patches_value_get_number (member) : 0;
}

static const char *
meta_string (PatchesValue *meta,
             const char   *key)
{
  PatchesValue *member = patches_value_object_get (meta, key);

  return member && patches_value_get_kind (member) == PATCHES_VALUE_STRING
    ? patches_value_get_string (member) : NULL;
}

static PatchesValue *
mem_find_version (gpointer     data,
                  const char  *doc_id,
                  const char  *origin,
                  gint64       max_end_rev,
                  GError     **error)
{
  MemDoc *doc = mem_doc (data, doc_id, FALSE);
  MemVersion *best = NULL;

  for (guint i = 0; doc != NULL && i < doc->versions->len; i++)
    {
      MemVersion *version = g_ptr_array_index (doc->versions, i);
      const char *vorigin = meta_string (version->meta, "origin");
      gint64 end = meta_rev (version->meta, "endRev");

      if (origin != NULL && g_strcmp0 (origin, vorigin) != 0)
        continue;
      if (end > max_end_rev)
        continue;
      if (best == NULL || end >= meta_rev (best->meta, "endRev"))
        best = version;
    }

  return best ? patches_value_ref (best->meta) : NULL;
}

static gboolean
mem_create_version (gpointer       data,
                    const char    *doc_id,
                    PatchesValue  *metadata,
                    GPtrArray     *changes,
                    GError       **error)
{
  MemStore *store = data;
  MemDoc *doc = mem_doc (store, doc_id, TRUE);
  g_autoptr(GPtrArray) history = NULL;
  g_autoptr(PatchesValue) state = NULL;
  MemVersion *version;
  const char *id = meta_string (metadata, "id");

  /* Like the harness: the state replays the whole log up to endRev */
  history = mem_list_changes (store, doc_id, -1, meta_rev (metadata, "endRev") + 1, 0, FALSE, NULL);
  if (!patches_changes_apply (&state, history, error))
    return FALSE;

  version = g_new0 (MemVersion, 1);
  version->meta = patches_value_ref (metadata);
  version->state = state ? g_steal_pointer (&state) : patches_value_new_null ();
  version->changes = g_ptr_array_ref (changes);
  g_ptr_array_add (doc->versions, version);

  g_hash_table_insert (store->version_names, g_strdup (id ? id : ""),
                       g_strdup_printf ("V%u", ++store->n_versions));
  return TRUE;
}

static PatchesValue *
mem_load_version_state (gpointer     data,
                        const char  *doc_id,
                        const char  *version_id,
                        GError     **error)
{
  MemDoc *doc = mem_doc (data, doc_id, FALSE);

  for (guint i = 0; doc != NULL && i < doc->versions->len; i++)
    {
      MemVersion *version = g_ptr_array_index (doc->versions, i);

      if (g_strcmp0 (meta_string (version->meta, "id"), version_id) == 0)
        return patches_value_copy_deep (version->state);
    }

  return NULL;
}

static gboolean
mem_delete_doc (gpointer     data,
                const char  *doc_id,
                GError     **error)
{
  MemStore *store = data;

  g_hash_table_remove (store->docs, doc_id);
  return TRUE;
}

static gboolean
mem_create_tombstone (gpointer       data,
                      const char    *doc_id,
                      PatchesValue  *tombstone,
                      GError       **error)
{
  MemStore *store = data;

  g_hash_table_insert (store->tombstones, g_strdup (doc_id), patches_value_ref (tombstone));
  return TRUE;
}

static gboolean
mem_remove_tombstone (gpointer     data,
                      const char  *doc_id,
                      gboolean    *removed,
                      GError     **error)
{
  MemStore *store = data;

  *removed = g_hash_table_remove (store->tombstones, doc_id);
  return TRUE;
}

static const PatchesHistoryFuncs mem_funcs = {
  .get_current_rev = mem_get_current_rev,
  .list_changes = mem_list_changes,
  .save_changes = mem_save_changes,
  .find_version = mem_find_version,
  .create_version = mem_create_version,
  .load_version_state = mem_load_version_state,
  .delete_doc = mem_delete_doc,
  .create_tombstone = mem_create_tombstone,
  .remove_tombstone = mem_remove_tombstone,
};

/* Helpers */

/* Version metadata with ids renamed V1, V2, … in creation order */
static PatchesValue *
normalise_version (MemStore     *store,
                   PatchesValue *meta)
{
  PatchesValue *copy = patches_value_copy_deep (meta);
  const char *keys[] = { "id", "parentId" };

  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      const char *id = meta_string (copy, keys[k]);
      const char *name = id ? g_hash_table_lookup (store->version_names, id) : NULL;

      if (name != NULL)
        patches_value_object_set (copy, keys[k], patches_value_new_string (name));
    }

  return copy;
}

static gboolean
run_commit (MemStore                  *store,
            const PatchesCommitConfig *config,
            JsonObject                *step,
            const char                *what,
            char                     **why)
{
  g_autoptr(PatchesValue) changes_value = conformance_get_value (step, "changes");
  g_autoptr(PatchesValue) options_value = conformance_get_value (step, "options");
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(PatchesCommit) commit = NULL;
  g_autoptr(GError) error = NULL;
  PatchesCommitOptions options;
  const char *doc_id = conformance_get_string (step, "docId");
  gboolean ok;

  changes = patches_changes_from_value (changes_value, &error);
  if (changes == NULL)
    {
      *why = g_strdup_printf ("%s: could not parse changes: %s", what, error->message);
      return FALSE;
    }

  patches_commit_options_from_value (&options, options_value);
  commit = patches_commit_new (doc_id ? doc_id : "", changes, &options,
                               conformance_get_string (step, "clientId"),
                               conformance_get_int (step, "now", 0), config);
  ok = patches_commit_run (commit, &mem_funcs, store, &error);

  return conformance_check_commit_step (what, step, commit, ok, error,
                                        patches_commit_error_get_status, why);
}

static gboolean
run_step (MemStore                  *store,
          const PatchesCommitConfig *config,
          JsonObject                *step,
          guint                      index,
          char                     **why)
{
  const char *call = conformance_get_string (step, "call");
  const char *doc_id = conformance_get_string (step, "docId");
  g_autofree char *what = g_strdup_printf ("step %u (%s)", index, call ? call : "?");
  g_autoptr(PatchesValue) options = conformance_get_value (step, "options");
  g_autoptr(GError) error = NULL;

  if (call == NULL || doc_id == NULL)
    {
      *why = g_strdup_printf ("%s: malformed step", what);
      return FALSE;
    }

  if (strcmp (call, "commitChanges") == 0)
    return run_commit (store, config, step, what, why);

  if (strcmp (call, "deleteDoc") == 0)
    {
      PatchesValue *skip = NULL;

      if (options != NULL && patches_value_get_kind (options) == PATCHES_VALUE_OBJECT)
        skip = patches_value_object_get (options, "skipTombstone");

      if (!patches_history_delete_doc (&mem_funcs, store, doc_id, conformance_get_string (step, "clientId"),
                                       skip != NULL && patches_value_truthy (skip),
                                       conformance_get_int (step, "now", 0), &error))
        {
          *why = g_strdup_printf ("%s: unexpected error: %s", what, error->message);
          return FALSE;
        }
      if (!json_object_get_boolean_member_with_default (step, "expect_doc_deleted_notification", TRUE))
        {
          *why = g_strdup_printf ("%s: a successful delete always notifies", what);
          return FALSE;
        }
      return TRUE;
    }

  if (strcmp (call, "undeleteDoc") == 0)
    {
      gboolean removed;
      g_autoptr(PatchesValue) got = NULL;

      if (!patches_history_undelete_doc (&mem_funcs, store, doc_id, &removed, &error))
        {
          *why = g_strdup_printf ("%s: unexpected error: %s", what, error->message);
          return FALSE;
        }
      got = patches_value_new_bool (removed);
      return conformance_check_equal (what, got, step, "expect", why);
    }

  if (strcmp (call, "getDoc") == 0)
    {
      g_autoptr(PatchesValue) got = NULL;
      gint64 rev = -1;

      if (options != NULL && patches_value_get_kind (options) == PATCHES_VALUE_OBJECT)
        {
          PatchesValue *r = patches_value_object_get (options, "rev");

          if (r != NULL && patches_value_get_kind (r) == PATCHES_VALUE_NUMBER)
            rev = (gint64) patches_value_get_number (r);
        }

      got = patches_history_get_doc (&mem_funcs, store, doc_id, rev, &error);
      if (got == NULL)
        {
          *why = g_strdup_printf ("%s: unexpected error: %s", what, error->message);
          return FALSE;
        }
      return conformance_check_equal (what, got, step, "expect", why);
    }

  if (strcmp (call, "getChangesSince") == 0)
    {
      g_autoptr(GPtrArray) changes = NULL;
      g_autoptr(PatchesValue) got = NULL;

      changes = patches_history_get_changes_since (&mem_funcs, store, doc_id,
                                                   conformance_get_int (step, "rev", 0), &error);
      if (changes == NULL)
        {
          *why = g_strdup_printf ("%s: unexpected error: %s", what, error->message);
          return FALSE;
        }
      got = patches_changes_to_value (changes);
      return conformance_check_equal (what, got, step, "expect", why);
    }

  *why = g_strdup_printf ("%s: unknown call", what);
  return FALSE;
}

static gboolean
check_final_doc (MemStore    *store,
                 const char  *doc_id,
                 JsonObject  *expect,
                 char       **why)
{
  g_autofree char *w_log = g_strdup_printf ("final %s log", doc_id);
  g_autofree char *w_get = g_strdup_printf ("final %s getDoc", doc_id);
  g_autofree char *w_state = g_strdup_printf ("final %s state", doc_id);
  g_autofree char *w_versions = g_strdup_printf ("final %s versions", doc_id);
  g_autofree char *w_tomb = g_strdup_printf ("final %s tombstone", doc_id);
  g_autoptr(GPtrArray) log = NULL;
  g_autoptr(PatchesValue) log_value = NULL;
  g_autoptr(PatchesValue) snapshot = NULL;
  g_autoptr(PatchesValue) state = NULL;
  g_autoptr(PatchesValue) versions = patches_value_new_array ();
  g_autoptr(GPtrArray) tail = NULL;
  g_autoptr(GError) error = NULL;
  PatchesValue *tombstone;
  PatchesValue *member;
  MemDoc *doc;

  log = mem_list_changes (store, doc_id, -1, -1, 0, FALSE, NULL);
  log_value = patches_changes_to_value (log);
  if (!conformance_check_equal (w_log, log_value, expect, "log", why))
    return FALSE;

  snapshot = patches_history_get_doc (&mem_funcs, store, doc_id, -1, &error);
  if (snapshot == NULL)
    {
      *why = g_strdup_printf ("%s: %s", w_get, error->message);
      return FALSE;
    }
  if (!conformance_check_equal (w_get, snapshot, expect, "getDoc", why))
    return FALSE;

  member = patches_value_object_get (snapshot, "state");
  if (patches_value_get_kind (member) != PATCHES_VALUE_NULL)
    state = patches_value_ref (member);
  tail = patches_changes_from_value (patches_value_object_get (snapshot, "changes"), &error);
  if (tail == NULL || !patches_changes_apply (&state, tail, &error))
    {
      *why = g_strdup_printf ("%s: %s", w_state, error->message);
      return FALSE;
    }
  if (state == NULL)
    state = patches_value_new_null ();
  if (!conformance_check_equal (w_state, state, expect, "state", why))
    return FALSE;

  doc = mem_doc (store, doc_id, FALSE);
  for (guint i = 0; doc != NULL && i < doc->versions->len; i++)
    {
      MemVersion *version = g_ptr_array_index (doc->versions, i);

      patches_value_array_append (versions, normalise_version (store, version->meta));
    }
  if (!conformance_check_equal (w_versions, versions, expect, "versions", why))
    return FALSE;

  tombstone = g_hash_table_lookup (store->tombstones, doc_id);
  if (json_object_has_member (expect, "tombstone"))
    return conformance_check_equal (w_tomb, tombstone, expect, "tombstone", why);
  if (tombstone != NULL)
    {
      g_autofree char *text = patches_value_to_json (tombstone);

      *why = g_strdup_printf ("%s: unexpected %s", w_tomb, text);
      return FALSE;
    }

  return TRUE;
}

gboolean
conformance_run_server_commit (JsonObject  *kase,
                               JsonObject  *root,
                               char       **why)
{
  g_autoptr(MemStore) store = mem_store_new ();
  PatchesCommitConfig config;
  JsonObject *options = NULL;
  JsonArray *steps;
  JsonObject *final;
  g_autoptr(GList) doc_ids = NULL;

  patches_commit_config_init (&config);
  if (json_object_has_member (kase, "server_options"))
    options = json_object_get_object_member (kase, "server_options");
  if (options != NULL)
    {
      if (json_object_has_member (options, "sessionTimeoutMinutes"))
        config.session_timeout_ms = conformance_get_int (options, "sessionTimeoutMinutes", 30) * 60 * 1000;
      if (json_object_has_member (options, "maxChangesPerVersion"))
        config.max_changes_per_version = conformance_get_int (options, "maxChangesPerVersion", 1000);
    }

  steps = json_object_get_array_member (kase, "steps");
  for (guint i = 0; steps != NULL && i < json_array_get_length (steps); i++)
    if (!run_step (store, &config, json_array_get_object_element (steps, i), i, why))
      return FALSE;

  final = json_object_get_object_member (kase, "final");
  if (final == NULL)
    return TRUE;

  doc_ids = json_object_get_members (final);
  for (GList *l = doc_ids; l != NULL; l = l->next)
    if (!check_final_doc (store, l->data, json_object_get_object_member (final, l->data), why))
      return FALSE;

  return TRUE;
}
