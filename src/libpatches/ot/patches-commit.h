/* patches-commit.h
 *
 * The server side of the OT layer (PROTOCOL.md §7): the commitChanges
 * algorithm, versioning decisions, getDoc snapshot selection and
 * deletion.  The algorithm itself is pure; the few reads and writes it
 * needs go through a #PatchesHistoryFuncs table that a store implements.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-change.h"

G_BEGIN_DECLS

/**
 * PATCHES_COMMIT_ERROR:
 *
 * Error domain of the server algorithms.  Errors in this domain come from
 * the #PatchesCommitError enumeration and carry what the reference puts
 * on the wire: see patches_commit_error_get_status() and
 * patches_commit_error_get_data().
 */
#define PATCHES_COMMIT_ERROR (patches_commit_error_quark ())

/**
 * PatchesCommitError:
 * @PATCHES_COMMIT_ERROR_BASE_REV_AHEAD: the changes' `baseRev` is above the
 *   server's head (HTTP 409, `{"scope": "doc"}`)
 * @PATCHES_COMMIT_ERROR_FOREIGN_CONTINUATION: a `baseRev` 0 continuation of
 *   an upload that did not create the document (HTTP 409,
 *   `{"scope": "doc"}`)
 * @PATCHES_COMMIT_ERROR_INCONSISTENT_BASE_REV: the changes of one request
 *   disagree on `baseRev` (HTTP 400, `{"scope": "doc"}`)
 * @PATCHES_COMMIT_ERROR_ROOT_OP: an op at the root path of a document that
 *   already has history (HTTP 400, `{"changeId": …, "scope": "change"}`)
 * @PATCHES_COMMIT_ERROR_DUPLICATE_IDS: raised by a store: some change ids
 *   are already committed (the commit excludes them and retries; JSON-RPC
 *   -32000 if it escapes)
 * @PATCHES_COMMIT_ERROR_REV_CONFLICT: raised by a store: a revision is
 *   already taken (the commit retries; -32000 if it escapes)
 * @PATCHES_COMMIT_ERROR_STATE_UNAVAILABLE: a version's state is not built
 *   yet (HTTP 503, `{"docId": …, "versionId": …}`)
 * @PATCHES_COMMIT_ERROR_INVALID: malformed input (-32000)
 * @PATCHES_COMMIT_ERROR_FAILED: any other failure (-32000)
 *
 * Error codes in the #PATCHES_COMMIT_ERROR domain.
 */
typedef enum {
  PATCHES_COMMIT_ERROR_BASE_REV_AHEAD,
  PATCHES_COMMIT_ERROR_FOREIGN_CONTINUATION,
  PATCHES_COMMIT_ERROR_INCONSISTENT_BASE_REV,
  PATCHES_COMMIT_ERROR_ROOT_OP,
  PATCHES_COMMIT_ERROR_DUPLICATE_IDS,
  PATCHES_COMMIT_ERROR_REV_CONFLICT,
  PATCHES_COMMIT_ERROR_STATE_UNAVAILABLE,
  PATCHES_COMMIT_ERROR_INVALID,
  PATCHES_COMMIT_ERROR_FAILED,
} PatchesCommitError;

/**
 * PATCHES_JSONRPC_SERVER_ERROR:
 *
 * The JSON-RPC code of an error without an HTTP-like status (-32000).
 */
#define PATCHES_JSONRPC_SERVER_ERROR (-32000)

/**
 * PATCHES_SESSION_TIMEOUT_MS_DEFAULT:
 *
 * Default session timeout of the server: 30 minutes, in milliseconds.
 */
#define PATCHES_SESSION_TIMEOUT_MS_DEFAULT (30 * 60 * 1000)

/**
 * PATCHES_MAX_CHANGES_PER_VERSION_DEFAULT:
 *
 * Default number of changes after which the main timeline gets a
 * version; 0 or less disables the count trigger.
 */
#define PATCHES_MAX_CHANGES_PER_VERSION_DEFAULT 1000

/**
 * PATCHES_COMMIT_MAX_ATTEMPTS:
 *
 * How many times patches_commit_run() tries to save when the store reports
 * a revision conflict or duplicate ids.
 */
#define PATCHES_COMMIT_MAX_ATTEMPTS 5

/**
 * PATCHES_VERSION_ORIGIN_MAIN:
 *
 * Origin of a version on the main timeline (the ones getDoc serves).
 */
#define PATCHES_VERSION_ORIGIN_MAIN "main"

/**
 * PATCHES_VERSION_ORIGIN_OFFLINE_BRANCH:
 *
 * Origin of a version recording a session of offline work that had to be
 * transformed.
 */
#define PATCHES_VERSION_ORIGIN_OFFLINE_BRANCH "offline-branch"

/**
 * PatchesCommitOptions:
 * @force_commit: keep changes whose ops transform to nothing
 * @allow_root_replace: allow ops at the root path of an existing document
 *   (meant for server-originated commits only)
 * @historical_import: migration mode: keep given `committedAt`, keep
 *   client revs on fast-forward, detect sessions by the changes'
 *   `createdAt`, give versions the origin `main`
 *
 * `CommitChangesOptions` (PROTOCOL.md §4.6).  Zero-initialise for the
 * defaults.
 */
typedef struct {
  gboolean force_commit;
  gboolean allow_root_replace;
  gboolean historical_import;
} PatchesCommitOptions;

/**
 * PatchesCommitConfig:
 * @session_timeout_ms: the session timeout `T` in milliseconds
 * @max_changes_per_version: the count trigger `N` of main-timeline
 *   versions; 0 or less disables it
 *
 * The server's own settings.  Initialise with patches_commit_config_init().
 */
typedef struct {
  gint64 session_timeout_ms;
  gint64 max_changes_per_version;
} PatchesCommitConfig;

/**
 * PatchesHistoryFuncs:
 * @get_current_rev: stores in @rev the highest committed revision of the
 *   document, 0 when it has none
 * @list_changes: returns the committed changes with `start_after < rev <
 *   end_before` (either bound -1 for none), ascending by rev, or
 *   descending when @reverse is set; at most @limit of them (0 for no
 *   limit); %NULL only with an error
 * @save_changes: appends @changes atomically.  A revision that is already
 *   taken fails with %PATCHES_COMMIT_ERROR_REV_CONFLICT, an id that is
 *   already committed with %PATCHES_COMMIT_ERROR_DUPLICATE_IDS naming the
 *   ids (patches_commit_set_duplicate_ids_error()); nothing is written then
 * @find_version: (nullable): returns the metadata of the version with the
 *   greatest `endRev` ≤ @max_end_rev, restricted to @origin unless it is
 *   %NULL, or %NULL without an error when there is none.  May be %NULL
 *   when the store keeps no versions
 * @create_version: (nullable): stores a version: its @metadata, the
 *   @changes it covers, and (now or later) its state at `endRev`, built by
 *   replaying history in reconstruction mode.  May be %NULL when the store
 *   keeps no versions
 * @load_version_state: (nullable): returns the state of a version, or
 *   %NULL without an error when it is not built yet
 * @delete_doc: (nullable): removes every change and version of the
 *   document
 * @create_tombstone: (nullable): stores @tombstone for the document; %NULL
 *   when the store keeps no tombstones
 * @remove_tombstone: (nullable): removes the document's tombstone and sets
 *   @removed to whether there was one
 *
 * The reads and writes the server algorithms need from a history store
 * (PROTOCOL.md §7.1).  The first three are required.  Every function gets
 * the `store` pointer the caller passed along with the table, and returns
 * %FALSE (or %NULL) with @error set on failure.  Values returned are
 * owned by the caller.
 */
typedef struct {
  gboolean       (*get_current_rev)    (gpointer             store,
                                        const char          *doc_id,
                                        gint64              *rev,
                                        GError             **error);
  GPtrArray     *(*list_changes)       (gpointer             store,
                                        const char          *doc_id,
                                        gint64               start_after,
                                        gint64               end_before,
                                        guint                limit,
                                        gboolean             reverse,
                                        GError             **error);
  gboolean       (*save_changes)       (gpointer             store,
                                        const char          *doc_id,
                                        GPtrArray           *changes,
                                        GError             **error);
  PatchesValue  *(*find_version)       (gpointer             store,
                                        const char          *doc_id,
                                        const char          *origin,
                                        gint64               max_end_rev,
                                        GError             **error);
  gboolean       (*create_version)     (gpointer             store,
                                        const char          *doc_id,
                                        PatchesValue        *metadata,
                                        GPtrArray           *changes,
                                        GError             **error);
  PatchesValue  *(*load_version_state) (gpointer             store,
                                        const char          *doc_id,
                                        const char          *version_id,
                                        GError             **error);
  gboolean       (*delete_doc)         (gpointer             store,
                                        const char          *doc_id,
                                        GError             **error);
  gboolean       (*create_tombstone)   (gpointer             store,
                                        const char          *doc_id,
                                        PatchesValue        *tombstone,
                                        GError             **error);
  gboolean       (*remove_tombstone)   (gpointer             store,
                                        const char          *doc_id,
                                        gboolean            *removed,
                                        GError             **error);
  /*< private >*/
  gpointer padding[8];
} PatchesHistoryFuncs;

typedef struct _PatchesCommit PatchesCommit;

#define PATCHES_TYPE_COMMIT (patches_commit_get_type ())

GQuark         patches_commit_error_quark            (void);
int            patches_commit_error_get_status       (const GError         *error);
PatchesValue  *patches_commit_error_get_data         (const GError         *error) G_GNUC_WARN_UNUSED_RESULT;
const char * const *patches_commit_error_get_duplicate_ids (const GError   *error);
void           patches_commit_set_duplicate_ids_error (GError             **error,
                                                      const char          *doc_id,
                                                      const char * const  *ids);

void           patches_commit_config_init            (PatchesCommitConfig  *config);
void           patches_commit_options_from_value     (PatchesCommitOptions *options,
                                                      const PatchesValue   *value);

GType          patches_commit_get_type               (void) G_GNUC_CONST;

PatchesCommit *patches_commit_new                    (const char                 *doc_id,
                                                      GPtrArray                  *changes,
                                                      const PatchesCommitOptions *options,
                                                      const char                 *client_id,
                                                      gint64                      now,
                                                      const PatchesCommitConfig  *config) G_GNUC_WARN_UNUSED_RESULT;
PatchesCommit *patches_commit_ref                    (PatchesCommit        *self);
void           patches_commit_unref                  (PatchesCommit        *self);

/* The whole of commitChanges over a store */
gboolean       patches_commit_run                    (PatchesCommit             *self,
                                                      const PatchesHistoryFuncs *funcs,
                                                      gpointer                   store,
                                                      GError                   **error);

/* Step by step (pure) */
gboolean       patches_commit_is_empty               (PatchesCommit        *self);
gboolean       patches_commit_needs_oldest_change    (PatchesCommit        *self,
                                                      gint64                head_rev);
gboolean       patches_commit_prepare                (PatchesCommit        *self,
                                                      gint64                head_rev,
                                                      const PatchesChange  *oldest_change,
                                                      GError              **error);
gboolean       patches_commit_needs_catch_up         (PatchesCommit        *self,
                                                      const PatchesChange  *last_change,
                                                      gboolean             *drain_fully);
gboolean       patches_commit_resolve                (PatchesCommit        *self,
                                                      GPtrArray            *committed,
                                                      gint64                current_rev,
                                                      GError              **error);
gboolean       patches_commit_exclude_ids            (PatchesCommit        *self,
                                                      const char * const   *ids);

/* Results */
const char    *patches_commit_get_doc_id             (PatchesCommit        *self);
gint64         patches_commit_get_base_rev           (PatchesCommit        *self);
GPtrArray     *patches_commit_get_changes            (PatchesCommit        *self);
gboolean       patches_commit_get_doc_reload_required (PatchesCommit       *self);
GPtrArray     *patches_commit_get_catchup            (PatchesCommit        *self);
GPtrArray     *patches_commit_get_new_changes        (PatchesCommit        *self);
gboolean       patches_commit_get_fast_forward       (PatchesCommit        *self);
const char    *patches_commit_get_session_origin     (PatchesCommit        *self);
PatchesValue  *patches_commit_result_to_value        (PatchesCommit        *self) G_GNUC_WARN_UNUSED_RESULT;

/* Versioning (§7.4) */
gboolean       patches_versioning_catch_up_step      (gint64                end_rev,
                                                      gint64                target_rev,
                                                      gint64                max_changes_per_version,
                                                      gboolean              drain_fully,
                                                      gint64               *range_end);
GPtrArray     *patches_versioning_split_sessions     (GPtrArray            *changes,
                                                      gint64                session_timeout_ms) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue  *patches_version_metadata_new          (const char           *origin,
                                                      GPtrArray            *changes,
                                                      const char           *parent_id,
                                                      const char           *id) G_GNUC_WARN_UNUSED_RESULT;
char          *patches_version_id_new                (gint64                now) G_GNUC_WARN_UNUSED_RESULT;

/* Store-driven operations */
gboolean       patches_history_catch_up_versions     (const PatchesHistoryFuncs *funcs,
                                                      gpointer                   store,
                                                      const char                *doc_id,
                                                      gint64                     target_rev,
                                                      const PatchesCommitConfig *config,
                                                      gboolean                   drain_fully,
                                                      gint64                     now,
                                                      GError                   **error);
gboolean       patches_history_create_session_versions (const PatchesHistoryFuncs *funcs,
                                                      gpointer                   store,
                                                      const char                *doc_id,
                                                      GPtrArray                 *changes,
                                                      const char                *origin,
                                                      const PatchesCommitConfig *config,
                                                      gint64                     now,
                                                      GError                   **error);
PatchesValue  *patches_history_get_doc               (const PatchesHistoryFuncs *funcs,
                                                      gpointer                   store,
                                                      const char                *doc_id,
                                                      gint64                     rev,
                                                      GError                   **error) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray     *patches_history_get_changes_since     (const PatchesHistoryFuncs *funcs,
                                                      gpointer                   store,
                                                      const char                *doc_id,
                                                      gint64                     rev,
                                                      GError                   **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean       patches_history_delete_doc            (const PatchesHistoryFuncs *funcs,
                                                      gpointer                   store,
                                                      const char                *doc_id,
                                                      const char                *client_id,
                                                      gboolean                   skip_tombstone,
                                                      gint64                     now,
                                                      GError                   **error);
gboolean       patches_history_undelete_doc          (const PatchesHistoryFuncs *funcs,
                                                      gpointer                   store,
                                                      const char                *doc_id,
                                                      gboolean                  *removed,
                                                      GError                   **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesCommit, patches_commit_unref)

G_END_DECLS
