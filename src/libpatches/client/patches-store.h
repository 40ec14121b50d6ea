/* patches-store.h
 *
 * Where a client keeps its documents between runs: the committed state
 * and revision of each document, its pending changes (durable before
 * they are sent), which documents are tracked, tombstones for documents
 * deleted while offline, and a few key/value settings such as the
 * stable client id (PROTOCOL.md §8.1, appendix E.2).
 *
 * Every call is synchronous and atomic: it either happens completely or
 * not at all, and a failure is a GError (PATCHES_STORE_ERROR).  Stores
 * are used from one thread, the main loop's.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-change.h"

G_BEGIN_DECLS

/**
 * PATCHES_STORE_ERROR:
 *
 * Error domain for #PatchesStore failures.
 */
#define PATCHES_STORE_ERROR (patches_store_error_quark ())

/**
 * PatchesStoreError:
 * @PATCHES_STORE_ERROR_IO: the storage could not be read or written
 * @PATCHES_STORE_ERROR_CORRUPT: the storage holds data that cannot be
 *   understood (a damaged file, a row that does not parse)
 * @PATCHES_STORE_ERROR_VERSION: the storage was written by a newer
 *   version of the library (its schema version is unknown)
 * @PATCHES_STORE_ERROR_NOT_FOUND: the document is not in the store
 * @PATCHES_STORE_ERROR_INVALID: the caller passed something the store
 *   refuses (a change without id, a revision that goes backwards, a
 *   write to a document that is only a tombstone: purge it first)
 *
 * Error codes of %PATCHES_STORE_ERROR.
 */
typedef enum {
  PATCHES_STORE_ERROR_IO,
  PATCHES_STORE_ERROR_CORRUPT,
  PATCHES_STORE_ERROR_VERSION,
  PATCHES_STORE_ERROR_NOT_FOUND,
  PATCHES_STORE_ERROR_INVALID,
} PatchesStoreError;

/**
 * PatchesStoredDoc:
 * @doc_id: the document id
 * @state: (nullable): the committed state at @committed_rev, or %NULL
 *   for a document that has never been synced
 * @committed_rev: the committed revision, 0 when never synced
 * @pending: (element-type PatchesChange): pending changes, ascending by rev
 * @deleted: %TRUE when only a local tombstone remains
 *
 * Everything a store knows about one document, as returned by
 * patches_store_load_doc().
 */
typedef struct {
  /*< private >*/
  gatomicrefcount  ref_count;
  /*< public >*/
  char            *doc_id;
  PatchesValue    *state;
  gint64           committed_rev;
  GPtrArray       *pending;
  gboolean         deleted;
} PatchesStoredDoc;

#define PATCHES_TYPE_STORED_DOC (patches_stored_doc_get_type ())

GType             patches_stored_doc_get_type (void) G_GNUC_CONST;
PatchesStoredDoc *patches_stored_doc_new      (const char       *doc_id) G_GNUC_WARN_UNUSED_RESULT;
PatchesStoredDoc *patches_stored_doc_ref      (PatchesStoredDoc *self);
void              patches_stored_doc_unref    (PatchesStoredDoc *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesStoredDoc, patches_stored_doc_unref)

#define PATCHES_TYPE_STORE (patches_store_get_type ())

G_DECLARE_INTERFACE (PatchesStore, patches_store, PATCHES, STORE, GObject)

/**
 * PatchesStoreInterface:
 * @load_doc: see patches_store_load_doc()
 * @save_committed: see patches_store_save_committed()
 * @save_snapshot: see patches_store_save_snapshot()
 * @append_pending: see patches_store_append_pending()
 * @replace_pending: see patches_store_replace_pending()
 * @track_docs: see patches_store_track_docs()
 * @untrack_docs: see patches_store_untrack_docs()
 * @list_tracked: see patches_store_list_tracked()
 * @delete_doc: see patches_store_delete_doc()
 * @purge_doc: see patches_store_purge_doc()
 * @list_tombstones: see patches_store_list_tombstones()
 * @get_meta: see patches_store_get_meta()
 * @set_meta: see patches_store_set_meta()
 *
 * The virtual methods of #PatchesStore.  All are required.
 */
struct _PatchesStoreInterface
{
  GTypeInterface parent_iface;

  PatchesStoredDoc *(*load_doc)        (PatchesStore  *self,
                                        const char    *doc_id,
                                        GError       **error);
  gboolean          (*save_committed)  (PatchesStore  *self,
                                        const char    *doc_id,
                                        GPtrArray     *changes,
                                        PatchesValue  *state,
                                        gint64         rev,
                                        GPtrArray     *pending,
                                        GError       **error);
  gboolean          (*save_snapshot)   (PatchesStore  *self,
                                        const char    *doc_id,
                                        PatchesValue  *state,
                                        gint64         rev,
                                        GPtrArray     *pending,
                                        GError       **error);
  gboolean          (*append_pending)  (PatchesStore  *self,
                                        const char    *doc_id,
                                        GPtrArray     *changes,
                                        GError       **error);
  gboolean          (*replace_pending) (PatchesStore  *self,
                                        const char    *doc_id,
                                        GPtrArray     *pending,
                                        GError       **error);
  gboolean          (*track_docs)      (PatchesStore  *self,
                                        const char   **doc_ids,
                                        GError       **error);
  gboolean          (*untrack_docs)    (PatchesStore  *self,
                                        const char   **doc_ids,
                                        GError       **error);
  char            **(*list_tracked)    (PatchesStore  *self,
                                        GError       **error);
  gboolean          (*delete_doc)      (PatchesStore  *self,
                                        const char    *doc_id,
                                        GError       **error);
  gboolean          (*purge_doc)       (PatchesStore  *self,
                                        const char    *doc_id,
                                        GError       **error);
  char            **(*list_tombstones) (PatchesStore  *self,
                                        GError       **error);
  char             *(*get_meta)        (PatchesStore  *self,
                                        const char    *key,
                                        GError       **error);
  gboolean          (*set_meta)        (PatchesStore  *self,
                                        const char    *key,
                                        const char    *value,
                                        GError       **error);
  gboolean          (*get_doc_info)    (PatchesStore  *self,
                                        const char    *doc_id,
                                        gint64        *committed_rev,
                                        guint         *n_pending,
                                        gboolean      *deleted,
                                        GError       **error);

  /*< private >*/
  gpointer padding[7];
};

GQuark            patches_store_error_quark    (void);

PatchesStoredDoc *patches_store_load_doc       (PatchesStore  *self,
                                                const char    *doc_id,
                                                GError       **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean          patches_store_get_doc_info   (PatchesStore  *self,
                                                const char    *doc_id,
                                                gint64        *committed_rev,
                                                guint         *n_pending,
                                                gboolean      *deleted,
                                                GError       **error);
gboolean          patches_store_save_committed (PatchesStore  *self,
                                                const char    *doc_id,
                                                GPtrArray     *changes,
                                                PatchesValue  *state,
                                                gint64         rev,
                                                GPtrArray     *pending,
                                                GError       **error);
gboolean          patches_store_save_snapshot  (PatchesStore  *self,
                                                const char    *doc_id,
                                                PatchesValue  *state,
                                                gint64         rev,
                                                GPtrArray     *pending,
                                                GError       **error);
gboolean          patches_store_append_pending (PatchesStore  *self,
                                                const char    *doc_id,
                                                GPtrArray     *changes,
                                                GError       **error);
gboolean          patches_store_replace_pending (PatchesStore *self,
                                                const char    *doc_id,
                                                GPtrArray     *pending,
                                                GError       **error);
gboolean          patches_store_track_docs     (PatchesStore  *self,
                                                const char   **doc_ids,
                                                GError       **error);
gboolean          patches_store_untrack_docs   (PatchesStore  *self,
                                                const char   **doc_ids,
                                                GError       **error);
char            **patches_store_list_tracked   (PatchesStore  *self,
                                                GError       **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean          patches_store_delete_doc     (PatchesStore  *self,
                                                const char    *doc_id,
                                                GError       **error);
gboolean          patches_store_purge_doc      (PatchesStore  *self,
                                                const char    *doc_id,
                                                GError       **error);
char            **patches_store_list_tombstones (PatchesStore *self,
                                                GError       **error) G_GNUC_WARN_UNUSED_RESULT;
char             *patches_store_get_meta       (PatchesStore  *self,
                                                const char    *key,
                                                GError       **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean          patches_store_set_meta       (PatchesStore  *self,
                                                const char    *key,
                                                const char    *value,
                                                GError       **error);
char             *patches_store_dup_client_id  (PatchesStore  *self,
                                                GError       **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
