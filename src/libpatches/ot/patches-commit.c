/* patches-commit.c
 *
 * The server side of the OT layer, computing what OTServer of
 * @dabble/patches 0.28.1 computes (PROTOCOL.md §7).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "patches-commit.h"
#include "patches-ot.h"

/* Errors */

typedef struct {
  char  *doc_id;
  char  *change_id;
  char  *version_id;
  char **ids;
} PatchesCommitErrorPrivate;

static void
patches_commit_error_private_init (PatchesCommitErrorPrivate *priv)
{
  if (priv == NULL)
    return;
  priv->doc_id = NULL;
  priv->change_id = NULL;
  priv->version_id = NULL;
  priv->ids = NULL;
}

static void
patches_commit_error_private_copy (const PatchesCommitErrorPrivate *src,
                                   PatchesCommitErrorPrivate       *dest)
{
  if (src == NULL || dest == NULL)
    return;
  dest->doc_id = g_strdup (src->doc_id);
  dest->change_id = g_strdup (src->change_id);
  dest->version_id = g_strdup (src->version_id);
  dest->ids = g_strdupv (src->ids);
}

static void
patches_commit_error_private_clear (PatchesCommitErrorPrivate *priv)
{
  if (priv == NULL)
    return;
  g_clear_pointer (&priv->doc_id, g_free);
  g_clear_pointer (&priv->change_id, g_free);
  g_clear_pointer (&priv->version_id, g_free);
  g_clear_pointer (&priv->ids, g_strfreev);
}

/**
 * patches_commit_error_quark:
 *
 * Returns: the #PATCHES_COMMIT_ERROR domain
 */
G_DEFINE_EXTENDED_ERROR (PatchesCommitError, patches_commit_error)

static PatchesCommitErrorPrivate *
error_private (GError **error)
{
  if (error == NULL || *error == NULL || (*error)->domain != PATCHES_COMMIT_ERROR)
    return NULL;
  return patches_commit_error_get_private (*error);
}

/**
 * patches_commit_error_get_status:
 * @error: (nullable): an error
 *
 * The `code` the reference server puts in the JSON-RPC error member
 * for @error: 409, 400 or 503 for the errors of #PATCHES_COMMIT_ERROR that
 * have an HTTP-like status, otherwise %PATCHES_JSONRPC_SERVER_ERROR
 * (-32000), for every other domain too.
 *
 * Returns: the status
 */
int
patches_commit_error_get_status (const GError *error)
{
  if (error == NULL || error->domain != PATCHES_COMMIT_ERROR)
    return PATCHES_JSONRPC_SERVER_ERROR;

  switch ((PatchesCommitError) error->code)
    {
    case PATCHES_COMMIT_ERROR_BASE_REV_AHEAD:
    case PATCHES_COMMIT_ERROR_FOREIGN_CONTINUATION:
      return 409;
    case PATCHES_COMMIT_ERROR_INCONSISTENT_BASE_REV:
    case PATCHES_COMMIT_ERROR_ROOT_OP:
      return 400;
    case PATCHES_COMMIT_ERROR_STATE_UNAVAILABLE:
      return 503;
    case PATCHES_COMMIT_ERROR_DUPLICATE_IDS:
    case PATCHES_COMMIT_ERROR_REV_CONFLICT:
    case PATCHES_COMMIT_ERROR_INVALID:
    case PATCHES_COMMIT_ERROR_FAILED:
    default:
      return PATCHES_JSONRPC_SERVER_ERROR;
    }
}

/**
 * patches_commit_error_get_data:
 * @error: (nullable): an error
 *
 * The `data` the reference server puts in the JSON-RPC error member
 * for @error: `{"scope": "doc"}` for 409 and the inconsistent-baseRev 400,
 * `{"changeId": …, "scope": "change"}` for the root-op 400 and
 * `{"docId": …, "versionId": …}` for 503.
 *
 * Returns: (transfer full) (nullable): the data, or %NULL when the wire
 *   error has none
 */
PatchesValue *
patches_commit_error_get_data (const GError *error)
{
  PatchesCommitErrorPrivate *priv;
  PatchesValue *data;

  if (error == NULL || error->domain != PATCHES_COMMIT_ERROR)
    return NULL;

  if ((priv = patches_commit_error_get_private (error)) == NULL)
    return NULL;

  switch ((PatchesCommitError) error->code)
    {
    case PATCHES_COMMIT_ERROR_BASE_REV_AHEAD:
    case PATCHES_COMMIT_ERROR_FOREIGN_CONTINUATION:
    case PATCHES_COMMIT_ERROR_INCONSISTENT_BASE_REV:
      data = patches_value_new_object ();
      patches_value_object_set (data, "scope", patches_value_new_string ("doc"));
      return data;

    case PATCHES_COMMIT_ERROR_ROOT_OP:
      data = patches_value_new_object ();
      if (priv->change_id != NULL)
        patches_value_object_set (data, "changeId", patches_value_new_string (priv->change_id));
      patches_value_object_set (data, "scope", patches_value_new_string ("change"));
      return data;

    case PATCHES_COMMIT_ERROR_STATE_UNAVAILABLE:
      data = patches_value_new_object ();
      if (priv->doc_id != NULL)
        patches_value_object_set (data, "docId", patches_value_new_string (priv->doc_id));
      if (priv->version_id != NULL)
        patches_value_object_set (data, "versionId", patches_value_new_string (priv->version_id));
      return data;

    case PATCHES_COMMIT_ERROR_DUPLICATE_IDS:
    case PATCHES_COMMIT_ERROR_REV_CONFLICT:
    case PATCHES_COMMIT_ERROR_INVALID:
    case PATCHES_COMMIT_ERROR_FAILED:
    default:
      return NULL;
    }
}

/**
 * patches_commit_error_get_duplicate_ids:
 * @error: (nullable): an error
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): the ids a
 *   %PATCHES_COMMIT_ERROR_DUPLICATE_IDS error names, or %NULL
 */
const char * const *
patches_commit_error_get_duplicate_ids (const GError *error)
{
  PatchesCommitErrorPrivate *priv;

  if (error == NULL ||
      !g_error_matches (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_DUPLICATE_IDS))
    return NULL;

  priv = patches_commit_error_get_private (error);
  return priv ? (const char * const *) priv->ids : NULL;
}

/**
 * patches_commit_set_duplicate_ids_error:
 * @error: return location for a #GError, or %NULL
 * @doc_id: the document
 * @ids: (array zero-terminated=1): the change ids that are already
 *   committed
 *
 * Sets the error a store's `save_changes` reports when the
 * `(docId, change id)` uniqueness guard fails (PROTOCOL.md §7.1).
 */
void
patches_commit_set_duplicate_ids_error (GError             **error,
                                        const char          *doc_id,
                                        const char * const  *ids)
{
  g_autofree char *joined = NULL;
  PatchesCommitErrorPrivate *priv;

  joined = g_strjoinv (", ", (char **) ids);
  g_set_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_DUPLICATE_IDS,
               "Changes with these ids are already committed for doc %s: %s",
               doc_id, joined);

  if ((priv = error_private (error)) != NULL)
    {
      priv->doc_id = g_strdup (doc_id);
      priv->ids = g_strdupv ((char **) ids);
    }
}

static void
set_state_unavailable_error (GError     **error,
                             const char  *doc_id,
                             const char  *version_id)
{
  PatchesCommitErrorPrivate *priv;

  g_set_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_STATE_UNAVAILABLE,
               "State for version %s of doc %s is unavailable; retry later.",
               version_id, doc_id);

  if ((priv = error_private (error)) != NULL)
    {
      priv->doc_id = g_strdup (doc_id);
      priv->version_id = g_strdup (version_id);
    }
}

/* Options and configuration */

/**
 * patches_commit_config_init:
 * @config: a configuration to initialise
 *
 * Sets the reference server's defaults: a 30 minute session timeout and
 * a version every 1000 changes.
 */
void
patches_commit_config_init (PatchesCommitConfig *config)
{
  g_return_if_fail (config != NULL);

  config->session_timeout_ms = PATCHES_SESSION_TIMEOUT_MS_DEFAULT;
  config->max_changes_per_version = PATCHES_MAX_CHANGES_PER_VERSION_DEFAULT;
}

static gboolean
member_truthy (const PatchesValue *object,
               const char         *key)
{
  PatchesValue *member = patches_value_object_get (object, key);

  return member != NULL && patches_value_truthy (member);
}

/**
 * patches_commit_options_from_value:
 * @options: (out caller-allocates): the options to fill
 * @value: (nullable): the `options` parameter of `commitChanges`
 *
 * Reads `CommitChangesOptions` the way the reference does: each flag is
 * on when its member is truthy; anything that is not an object means no
 * options.  `maxChangesPerVersion` is ignored, as the reference server
 * overwrites it with its own setting.
 */
void
patches_commit_options_from_value (PatchesCommitOptions *options,
                                   const PatchesValue   *value)
{
  g_return_if_fail (options != NULL);

  memset (options, 0, sizeof *options);

  if (value == NULL || patches_value_get_kind (value) != PATCHES_VALUE_OBJECT)
    return;

  options->force_commit = member_truthy (value, "forceCommit");
  options->allow_root_replace = member_truthy (value, "allowRootReplace");
  options->historical_import = member_truthy (value, "historicalImport");
}

/* PatchesCommit */

struct _PatchesCommit {
  gatomicrefcount       ref_count;

  char                 *doc_id;
  char                 *client_id;
  GPtrArray            *changes;        /* normalised copies */
  PatchesCommitOptions  options;
  PatchesCommitConfig   config;
  gint64                now;

  /* prepare */
  gboolean              prepared;
  gint64                head_rev;
  gint64                base_rev;
  char                 *batch_id;
  const char           *sender;         /* client id of the first change having one */
  GHashTable           *incoming_ids;
  gboolean              doc_reload_required;
  gboolean              upload_resume;

  /* resolve */
  GHashTable           *excluded;
  GPtrArray            *catchup;
  GPtrArray            *new_changes;
  gboolean              resolved;
  gboolean              fast_forward;
  gboolean              offline_or_batch;
  gboolean              session_versions_done;
};

G_DEFINE_BOXED_TYPE (PatchesCommit, patches_commit, patches_commit_ref, patches_commit_unref)

static GPtrArray *
changes_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) patches_change_unref);
}

/**
 * patches_commit_new:
 * @doc_id: the document
 * @changes: (element-type PatchesChange): the changes as sent
 * @options: (nullable): the commit options, %NULL for none
 * @client_id: (nullable): the committing connection's client id, %NULL
 *   when the call has no connection context (a server-side commit)
 * @now: the server clock in milliseconds since the epoch
 * @config: (nullable): the server's settings, %NULL for the defaults
 *
 * Starts one `commitChanges` request (PROTOCOL.md §7.2).  The changes are
 * copied, and stamped with @client_id when it is given (step 1); @changes
 * itself is not modified.
 *
 * Returns: (transfer full): the request
 */
PatchesCommit *
patches_commit_new (const char                 *doc_id,
                    GPtrArray                  *changes,
                    const PatchesCommitOptions *options,
                    const char                 *client_id,
                    gint64                      now,
                    const PatchesCommitConfig  *config)
{
  PatchesCommit *self;

  g_return_val_if_fail (doc_id != NULL, NULL);

  self = g_new0 (PatchesCommit, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->doc_id = g_strdup (doc_id);
  self->client_id = g_strdup (client_id);
  self->now = now;
  self->head_rev = 0;
  self->base_rev = 0;
  if (options != NULL)
    self->options = *options;
  if (config != NULL)
    self->config = *config;
  else
    patches_commit_config_init (&self->config);

  self->changes = changes_new ();
  self->incoming_ids = g_hash_table_new (g_str_hash, g_str_equal);
  self->excluded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; changes != NULL && i < changes->len; i++)
    {
      const PatchesChange *change = g_ptr_array_index (changes, i);
      PatchesChange *copy;

      if (change == NULL)
        continue;

      copy = patches_change_copy (change);
      if (copy->id == NULL)
        copy->id = g_strdup ("");
      if (client_id != NULL)
        {
          g_free (copy->client_id);
          copy->client_id = g_strdup (client_id);
        }
      g_ptr_array_add (self->changes, copy);
      g_hash_table_add (self->incoming_ids, copy->id);
    }

  return self;
}

/**
 * patches_commit_ref:
 * @self: a request
 *
 * Returns: (transfer full): @self
 */
PatchesCommit *
patches_commit_ref (PatchesCommit *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * patches_commit_unref:
 * @self: (transfer full): a request
 */
void
patches_commit_unref (PatchesCommit *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_free (self->doc_id);
  g_free (self->client_id);
  g_free (self->batch_id);
  g_clear_pointer (&self->incoming_ids, g_hash_table_unref);
  g_clear_pointer (&self->excluded, g_hash_table_unref);
  g_clear_pointer (&self->changes, g_ptr_array_unref);
  g_clear_pointer (&self->catchup, g_ptr_array_unref);
  g_clear_pointer (&self->new_changes, g_ptr_array_unref);
  g_free (self);
}

static PatchesChange *
first_change (PatchesCommit *self)
{
  return self->changes->len > 0 ? g_ptr_array_index (self->changes, 0) : NULL;
}

/* JavaScript truthiness of a time member (-1 = absent) */
static gboolean
time_truthy (double value)
{
  return value != -1 && value != 0 && !isnan (value);
}

static const PatchesChange *
find_root_op_change (PatchesCommit *self)
{
  for (guint i = 0; i < self->changes->len; i++)
    {
      const PatchesChange *change = g_ptr_array_index (self->changes, i);

      for (guint j = 0; change->ops != NULL && j < change->ops->len; j++)
        {
          const PatchesOp *op = g_ptr_array_index (change->ops, j);

          if (op->path != NULL && op->path[0] == '\0')
            return change;
        }
    }

  return NULL;
}

/**
 * patches_commit_is_empty:
 * @self: a request
 *
 * Returns: %TRUE when the request has no changes (step 3: the answer is
 *   `{"changes": []}` and nothing is broadcast)
 */
gboolean
patches_commit_is_empty (PatchesCommit *self)
{
  g_return_val_if_fail (self != NULL, TRUE);

  return self->changes->len == 0;
}

/**
 * patches_commit_needs_oldest_change:
 * @self: a request
 * @head_rev: the document's current revision
 *
 * Whether patches_commit_prepare() needs the document's oldest committed
 * change (to tell whether this upload created the document, step 5).
 * A server that reads it only when this returns %TRUE reads what the
 * reference reads.
 *
 * Returns: %TRUE if the oldest change is needed
 */
gboolean
patches_commit_needs_oldest_change (PatchesCommit *self,
                                    gint64         head_rev)
{
  PatchesChange *first;

  g_return_val_if_fail (self != NULL, FALSE);

  if (head_rev <= 0 || (first = first_change (self)) == NULL)
    return FALSE;

  if (first->base_rev == 0)
    return TRUE;

  return !self->options.allow_root_replace && find_root_op_change (self) != NULL;
}

static gboolean
is_own_upload (PatchesCommit       *self,
               const PatchesChange *oldest)
{
  if (oldest == NULL)
    return FALSE;

  if (self->batch_id != NULL && oldest->batch_id != NULL &&
      strcmp (self->batch_id, oldest->batch_id) == 0)
    return TRUE;

  return oldest->id != NULL && g_hash_table_contains (self->incoming_ids, oldest->id);
}

/**
 * patches_commit_prepare:
 * @self: a request
 * @head_rev: the document's current revision (`getCurrentRev`)
 * @oldest_change: (nullable): the document's oldest committed change, when
 *   patches_commit_needs_oldest_change() asked for it
 * @error: return location for a #GError
 *
 * Steps 4 to 7 of `commitChanges`: the existing-document guards, the
 * `baseRev` 0 heal, the normalisation of every change (`baseRev`, `rev`,
 * `committedAt`, `createdAt` clamped to now) and the ahead check.
 *
 * Errors are in the #PATCHES_COMMIT_ERROR domain: root op on an existing
 * document (400), inconsistent `baseRev` (400), `baseRev` ahead of the
 * head (409), foreign `baseRev` 0 continuation (409).
 *
 * Returns: %TRUE on success
 */
gboolean
patches_commit_prepare (PatchesCommit        *self,
                        gint64                head_rev,
                        const PatchesChange  *oldest_change,
                        GError              **error)
{
  PatchesChange *first;
  gint64 base_rev;
  gint64 next;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (!self->prepared, FALSE);

  self->prepared = TRUE;
  self->head_rev = MAX (head_rev, 0);

  if ((first = first_change (self)) == NULL)
    return TRUE;

  /* Step 4 */
  self->batch_id = g_strdup (first->batch_id);
  base_rev = first->base_rev >= 0 ? first->base_rev : self->head_rev;

  for (guint i = 0; i < self->changes->len; i++)
    {
      const PatchesChange *change = g_ptr_array_index (self->changes, i);

      if (change->client_id != NULL)
        {
          self->sender = change->client_id;
          break;
        }
    }

  /* Step 5 */
  if (self->head_rev > 0)
    {
      gboolean continuation = first->rev > 1 && !self->options.historical_import;
      const PatchesChange *root_change = NULL;

      if (!self->options.allow_root_replace)
        root_change = find_root_op_change (self);

      if (root_change != NULL && !is_own_upload (self, oldest_change))
        {
          PatchesCommitErrorPrivate *priv;

          g_set_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_ROOT_OP,
                       "Document %s already exists (rev %" G_GINT64_FORMAT "). "
                       "Cannot apply root-level replace (path: '') - this would "
                       "overwrite the existing document. Load the existing "
                       "document first, or use nested paths instead of "
                       "replacing at root.",
                       self->doc_id, self->head_rev);
          if ((priv = error_private (error)) != NULL)
            priv->change_id = g_strdup (root_change->id);
          return FALSE;
        }

      if (first->base_rev == 0)
        {
          if (is_own_upload (self, oldest_change))
            self->upload_resume = TRUE;
          else if (continuation)
            {
              g_set_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_FOREIGN_CONTINUATION,
                           "Document %s already exists (rev %" G_GINT64_FORMAT ") and "
                           "was not created by this upload. Cannot continue a "
                           "baseRev 0 upload onto it - these changes were made "
                           "against state the client has since reloaded. Reload "
                           "the document and re-send them on the current revision.",
                           self->doc_id, self->head_rev);
              return FALSE;
            }
          else
            {
              self->doc_reload_required = TRUE;
              base_rev = self->head_rev;
              for (guint i = 0; i < self->changes->len; i++)
                ((PatchesChange *) g_ptr_array_index (self->changes, i))->base_rev = base_rev;
            }
        }
    }

  /* Step 6 */
  next = base_rev + 1;
  for (guint i = 0; i < self->changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (self->changes, i);

      if (change->base_rev < 0)
        change->base_rev = base_rev;
      else if (change->base_rev != base_rev && !self->options.historical_import)
        {
          g_set_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_INCONSISTENT_BASE_REV,
                       "Client changes must have consistent baseRev in all changes for doc %s.",
                       self->doc_id);
          return FALSE;
        }

      if (change->rev < 0)
        change->rev = next++;
      else
        next = change->rev + 1;

      if (!self->options.historical_import || !time_truthy (change->committed_at))
        change->committed_at = (double) self->now;

      if (time_truthy (change->created_at))
        change->created_at = MIN (change->created_at, (double) self->now);
      else
        change->created_at = (double) self->now;
    }

  self->base_rev = base_rev;

  /* Step 7 */
  if (base_rev > self->head_rev)
    {
      g_set_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_BASE_REV_AHEAD,
                   "Client baseRev (%" G_GINT64_FORMAT ") is ahead of server revision "
                   "(%" G_GINT64_FORMAT ") for doc %s. Client needs to reload the document.",
                   base_rev, self->head_rev, self->doc_id);
      return FALSE;
    }

  return TRUE;
}

/**
 * patches_commit_needs_catch_up:
 * @self: a prepared request
 * @last_change: (nullable): the document's latest committed change
 * @drain_fully: (out) (optional): whether the catch-up must cover every
 *   change up to @last_change (a session gap) rather than whole blocks
 *
 * Step 8: whether main-timeline versions must be caught up to
 * @last_change's revision before committing, because a session gap
 * passed since it was made or because this request crosses a multiple of
 * `maxChangesPerVersion`.  Pass the result to
 * patches_history_catch_up_versions().
 *
 * Returns: %TRUE if versions must be caught up
 */
gboolean
patches_commit_needs_catch_up (PatchesCommit       *self,
                               const PatchesChange *last_change,
                               gboolean            *drain_fully)
{
  PatchesChange *first;
  PatchesChange *last;
  double compare;
  gboolean session_gap;
  gboolean crosses = FALSE;
  gint64 projected;
  gint64 n = self->config.max_changes_per_version;

  if (drain_fully != NULL)
    *drain_fully = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);

  if (last_change == NULL || (first = first_change (self)) == NULL)
    return FALSE;

  last = g_ptr_array_index (self->changes, self->changes->len - 1);

  compare = self->options.historical_import ? first->created_at : (double) self->now;
  session_gap = compare - last_change->created_at > (double) self->config.session_timeout_ms;

  projected = MAX (self->head_rev + (gint64) self->changes->len, last->rev);
  if (n > 0)
    crosses = self->head_rev / n < projected / n;

  if (drain_fully != NULL)
    *drain_fully = session_gap;

  return session_gap || crosses;
}

static gboolean
same_origin (PatchesCommit       *self,
             const PatchesChange *committed)
{
  return self->sender == NULL ||
         committed->client_id == NULL ||
         strcmp (committed->client_id, self->sender) == 0;
}

static gboolean
own_origin (PatchesCommit       *self,
            const PatchesChange *committed)
{
  return same_origin (self, committed) ||
         (self->upload_resume && committed->rev <= self->head_rev);
}

static gboolean
is_own_committed (const PatchesChange *committed,
                  gpointer             user_data)
{
  PatchesCommit *self = user_data;

  if (!own_origin (self, committed))
    return FALSE;

  if (self->batch_id != NULL && committed->batch_id != NULL &&
      strcmp (self->batch_id, committed->batch_id) == 0)
    return TRUE;

  return committed->id != NULL && g_hash_table_contains (self->incoming_ids, committed->id);
}

/**
 * patches_commit_resolve:
 * @self: a prepared request
 * @committed: (element-type PatchesChange): every committed change after
 *   the request's `baseRev` (patches_commit_get_base_rev()), ascending
 * @current_rev: the document's current revision at this attempt
 * @error: return location for a #GError
 *
 * One attempt of step 9 without its writes: recognises the sender's own
 * echoes, drops already committed, excluded and repeated ids, and either
 * fast-forwards (offline work or a multi-batch upload with nothing
 * foreign to transform over) or transforms the queue with
 * patches_transform_incoming_changes().  Afterwards
 * patches_commit_get_catchup() and patches_commit_get_new_changes() hold
 * the answer; the new changes (if any) are what to save, and
 * patches_commit_get_session_origin() tells whether session versions are
 * due after saving.  Calling it again (a retry after a store conflict)
 * replaces the previous outcome.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_commit_resolve (PatchesCommit  *self,
                        GPtrArray      *committed,
                        gint64          current_rev,
                        GError        **error)
{
  g_autoptr(GHashTable) own_ids = NULL;
  g_autoptr(GHashTable) seen = NULL;
  g_autoptr(GPtrArray) incoming = NULL;
  g_autoptr(GPtrArray) queue = NULL;
  g_autoptr(GPtrArray) foreign = NULL;
  g_autoptr(GPtrArray) catchup = NULL;
  g_autoptr(GPtrArray) all = NULL;
  PatchesChange *head_incoming;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->prepared, FALSE);

  g_clear_pointer (&self->catchup, g_ptr_array_unref);
  g_clear_pointer (&self->new_changes, g_ptr_array_unref);
  self->resolved = TRUE;
  self->fast_forward = FALSE;
  self->offline_or_batch = FALSE;

  all = changes_new ();
  for (guint i = 0; committed != NULL && i < committed->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (committed, i);

      if (change != NULL && change->rev > self->base_rev)
        g_ptr_array_add (all, patches_change_ref (change));
    }

  own_ids = g_hash_table_new (g_str_hash, g_str_equal);
  foreign = changes_new ();
  catchup = changes_new ();

  for (guint i = 0; i < all->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (all, i);
      gboolean own = own_origin (self, change);
      gboolean resent = own && change->id != NULL &&
                        g_hash_table_contains (self->incoming_ids, change->id);

      if (own && change->id != NULL)
        g_hash_table_add (own_ids, change->id);

      if (!is_own_committed (change, self))
        {
          g_ptr_array_add (foreign, patches_change_ref (change));
          g_ptr_array_add (catchup, patches_change_ref (change));
        }
      else if (resent)
        g_ptr_array_add (catchup, patches_change_ref (change));
    }

  incoming = changes_new ();
  queue = changes_new ();
  seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < self->changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (self->changes, i);

      if (g_hash_table_contains (seen, change->id))
        continue;
      g_hash_table_add (seen, change->id);

      if (g_hash_table_contains (self->excluded, change->id))
        continue;

      g_ptr_array_add (queue, patches_change_ref (change));
      if (!g_hash_table_contains (own_ids, change->id))
        g_ptr_array_add (incoming, patches_change_ref (change));
    }

  self->catchup = g_steal_pointer (&catchup);

  if (incoming->len == 0)
    {
      self->new_changes = changes_new ();
      return TRUE;
    }

  head_incoming = g_ptr_array_index (incoming, 0);
  self->offline_or_batch =
    (double) self->now - head_incoming->created_at > (double) self->config.session_timeout_ms ||
    self->batch_id != NULL;

  if (self->offline_or_batch && foreign->len == 0)
    {
      self->fast_forward = TRUE;
      self->new_changes = changes_new ();

      for (guint i = 0; i < incoming->len; i++)
        {
          PatchesChange *change = g_ptr_array_index (incoming, i);

          if (self->options.historical_import)
            g_ptr_array_add (self->new_changes, patches_change_ref (change));
          else
            {
              PatchesChange *copy = patches_change_copy (change);

              copy->rev = current_rev + 1 + i;
              g_ptr_array_add (self->new_changes, copy);
            }
        }

      return TRUE;
    }

  self->new_changes = patches_transform_incoming_changes (all,
                                                          queue,
                                                          current_rev,
                                                          self->options.force_commit,
                                                          is_own_committed,
                                                          self,
                                                          NULL);
  if (self->new_changes == NULL)
    {
      g_set_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_FAILED,
                   "Could not transform the incoming changes for doc %s.",
                   self->doc_id);
      self->new_changes = changes_new ();
      return FALSE;
    }

  return TRUE;
}

/**
 * patches_commit_exclude_ids:
 * @self: a request
 * @ids: (array zero-terminated=1) (nullable): change ids a store reported
 *   as already committed
 *
 * Records ids to leave out of the next attempt (step 9.13).
 *
 * Returns: %TRUE if at least one id was not excluded yet (a retry can make
 *   progress)
 */
gboolean
patches_commit_exclude_ids (PatchesCommit      *self,
                            const char * const *ids)
{
  gboolean added = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);

  for (guint i = 0; ids != NULL && ids[i] != NULL; i++)
    if (g_hash_table_add (self->excluded, g_strdup (ids[i])))
      added = TRUE;

  return added;
}

/**
 * patches_commit_get_doc_id:
 * @self: a request
 *
 * Returns: the document id
 */
const char *
patches_commit_get_doc_id (PatchesCommit *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->doc_id;
}

/**
 * patches_commit_get_base_rev:
 * @self: a prepared request
 *
 * Returns: the `baseRev` the request is transformed from (after the
 *   `baseRev` 0 heal); committed changes after it are what
 *   patches_commit_resolve() needs
 */
gint64
patches_commit_get_base_rev (PatchesCommit *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->base_rev;
}

/**
 * patches_commit_get_changes:
 * @self: a request
 *
 * Returns: (transfer none) (element-type PatchesChange): the request's
 *   changes, stamped and (once prepared) normalised
 */
GPtrArray *
patches_commit_get_changes (PatchesCommit *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->changes;
}

/**
 * patches_commit_get_doc_reload_required:
 * @self: a prepared request
 *
 * Returns: %TRUE when the changes were committed on top of history the
 *   client never saw (the `baseRev` 0 heal), so the answer carries
 *   `"docReloadRequired": true`
 */
gboolean
patches_commit_get_doc_reload_required (PatchesCommit *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->doc_reload_required;
}

/**
 * patches_commit_get_catchup:
 * @self: a resolved request
 *
 * Returns: (transfer none) (element-type PatchesChange): the committed
 *   changes the client has not seen (and its re-sent ones), ascending
 */
GPtrArray *
patches_commit_get_catchup (PatchesCommit *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->catchup == NULL)
    self->catchup = changes_new ();
  return self->catchup;
}

/**
 * patches_commit_get_new_changes:
 * @self: a resolved request
 *
 * Returns: (transfer none) (element-type PatchesChange): the changes to
 *   commit (and to broadcast once saved), ascending
 */
GPtrArray *
patches_commit_get_new_changes (PatchesCommit *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->new_changes == NULL)
    self->new_changes = changes_new ();
  return self->new_changes;
}

/**
 * patches_commit_get_fast_forward:
 * @self: a resolved request
 *
 * Returns: %TRUE when the new changes were fast-forwarded (offline work
 *   or a multi-batch upload with nothing foreign committed since its
 *   `baseRev`) rather than transformed
 */
gboolean
patches_commit_get_fast_forward (PatchesCommit *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->fast_forward;
}

/**
 * patches_commit_get_session_origin:
 * @self: a resolved request
 *
 * Whether the new changes, once saved, get offline/batch session versions
 * (PROTOCOL.md §7.4.2), and with which origin.
 *
 * Returns: (nullable): %PATCHES_VERSION_ORIGIN_MAIN,
 *   %PATCHES_VERSION_ORIGIN_OFFLINE_BRANCH, or %NULL for none
 */
const char *
patches_commit_get_session_origin (PatchesCommit *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (!self->resolved || !self->offline_or_batch ||
      self->new_changes == NULL || self->new_changes->len == 0)
    return NULL;

  if (self->fast_forward || self->options.historical_import)
    return PATCHES_VERSION_ORIGIN_MAIN;

  return PATCHES_VERSION_ORIGIN_OFFLINE_BRANCH;
}

/**
 * patches_commit_result_to_value:
 * @self: a request that ran
 *
 * Returns: (transfer full): the `commitChanges` result:
 *   `{"changes": catch-up ++ new, "docReloadRequired": true}`, the last
 *   member only when set
 */
PatchesValue *
patches_commit_result_to_value (PatchesCommit *self)
{
  PatchesValue *result;
  PatchesValue *changes;
  GPtrArray *parts[2];

  g_return_val_if_fail (self != NULL, NULL);

  parts[0] = self->catchup;
  parts[1] = self->new_changes;

  result = patches_value_new_object ();
  changes = patches_value_new_array ();
  for (guint p = 0; p < G_N_ELEMENTS (parts); p++)
    for (guint i = 0; parts[p] != NULL && i < parts[p]->len; i++)
      patches_value_array_append (changes, patches_change_to_value (g_ptr_array_index (parts[p], i)));
  patches_value_object_set (result, "changes", changes);

  if (self->doc_reload_required)
    patches_value_object_set (result, "docReloadRequired", patches_value_new_bool (TRUE));

  return result;
}

/* Versioning */

/**
 * patches_versioning_catch_up_step:
 * @end_rev: the `endRev` of the latest version so far (0 for none)
 * @target_rev: the revision to catch up to
 * @max_changes_per_version: the server's `maxChangesPerVersion`
 * @drain_fully: whether to cover everything up to @target_rev (a session
 *   gap) or only whole blocks of @max_changes_per_version
 * @range_end: (out): the last revision the next version covers
 *
 * One step of the main-timeline catch-up (PROTOCOL.md §7.4.1): whether
 * another version is due after @end_rev, and where it ends.  With
 * @max_changes_per_version ≤ 0 the single version covers everything up to
 * @target_rev.
 *
 * Returns: %TRUE if a version covering (@end_rev, @range_end] is due
 */
gboolean
patches_versioning_catch_up_step (gint64    end_rev,
                                  gint64    target_rev,
                                  gint64    max_changes_per_version,
                                  gboolean  drain_fully,
                                  gint64   *range_end)
{
  g_return_val_if_fail (range_end != NULL, FALSE);

  if (max_changes_per_version <= 0)
    {
      *range_end = target_rev;
      return target_rev > end_rev;
    }

  if (target_rev - end_rev < (drain_fully ? 1 : max_changes_per_version))
    return FALSE;

  *range_end = MIN (target_rev, end_rev + max_changes_per_version);
  return TRUE;
}

/**
 * patches_versioning_split_sessions:
 * @changes: (element-type PatchesChange): changes, ascending
 * @session_timeout_ms: the session timeout
 *
 * Splits @changes into sessions wherever consecutive `createdAt` values
 * differ by more than @session_timeout_ms (PROTOCOL.md §7.4.2).
 *
 * Returns: (transfer full) (element-type GPtrArray): the sessions, each an
 *   array of changes
 */
GPtrArray *
patches_versioning_split_sessions (GPtrArray *changes,
                                   gint64     session_timeout_ms)
{
  GPtrArray *sessions = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  GPtrArray *current = NULL;
  const PatchesChange *previous = NULL;

  for (guint i = 0; changes != NULL && i < changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (changes, i);

      if (current == NULL ||
          change->created_at - previous->created_at > (double) session_timeout_ms)
        {
          current = changes_new ();
          g_ptr_array_add (sessions, current);
        }

      g_ptr_array_add (current, patches_change_ref (change));
      previous = change;
    }

  return sessions;
}

/**
 * patches_version_metadata_new:
 * @origin: the version's origin
 * @changes: (element-type PatchesChange): the changes it covers, ascending,
 *   at least one
 * @parent_id: (nullable): the previous version in the chain
 * @id: the version id
 *
 * Builds the metadata the reference server gives the versions it makes:
 * `origin, startedAt, endedAt, endRev, startRev, parentId?, id`, in that
 * order.
 *
 * Returns: (transfer full): the metadata object
 */
PatchesValue *
patches_version_metadata_new (const char *origin,
                              GPtrArray  *changes,
                              const char *parent_id,
                              const char *id)
{
  const PatchesChange *first;
  const PatchesChange *last;
  PatchesValue *meta;

  g_return_val_if_fail (origin != NULL, NULL);
  g_return_val_if_fail (changes != NULL && changes->len > 0, NULL);
  g_return_val_if_fail (id != NULL, NULL);

  first = g_ptr_array_index (changes, 0);
  last = g_ptr_array_index (changes, changes->len - 1);

  meta = patches_value_new_object ();
  patches_value_object_set (meta, "origin", patches_value_new_string (origin));
  patches_value_object_set (meta, "startedAt", patches_value_new_number (first->created_at));
  patches_value_object_set (meta, "endedAt", patches_value_new_number (last->created_at));
  patches_value_object_set (meta, "endRev", patches_value_new_number ((double) last->rev));
  patches_value_object_set (meta, "startRev", patches_value_new_number ((double) first->rev));
  if (parent_id != NULL)
    patches_value_object_set (meta, "parentId", patches_value_new_string (parent_id));
  patches_value_object_set (meta, "id", patches_value_new_string (id));

  return meta;
}

static const char base62_alphabet[] =
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * patches_version_id_new:
 * @now: the clock in milliseconds since the epoch
 *
 * Makes a sortable version id like the reference's: @now in base 62,
 * left-padded with `0` to 8 characters, then 8 random base-62
 * characters; ids made within one millisecond increase.
 *
 * Returns: (transfer full): a 16-character id
 */
char *
patches_version_id_new (gint64 now)
{
  static GMutex lock;
  static gint64 last_ms = -1;
  static char last_random[8];
  g_autofree char *time_part = NULL;
  GString *id;

  time_part = patches_base62_encode ((guint64) MAX (now, 0));
  id = g_string_new (NULL);
  for (gsize len = strlen (time_part); len < 8; len++)
    g_string_append_c (id, '0');
  g_string_append (id, time_part);

  g_mutex_lock (&lock);
  if (now == last_ms)
    {
      /* Increment the random part as a base-62 number */
      for (int i = 7; i >= 0; i--)
        {
          const char *pos = strchr (base62_alphabet, last_random[i]);
          int digit = pos ? (int) (pos - base62_alphabet) : 0;

          if (digit < 61)
            {
              last_random[i] = base62_alphabet[digit + 1];
              break;
            }
          last_random[i] = '0';
        }
    }
  else
    {
      last_ms = now;
      for (guint i = 0; i < 8; i++)
        last_random[i] = base62_alphabet[g_random_int_range (0, 62)];
    }
  g_string_append_len (id, last_random, 8);
  g_mutex_unlock (&lock);

  return g_string_free (id, FALSE);
}

static const char *
meta_get_string (const PatchesValue *meta,
                 const char         *key)
{
  PatchesValue *member;

  if (meta == NULL || patches_value_get_kind (meta) != PATCHES_VALUE_OBJECT)
    return NULL;
  member = patches_value_object_get (meta, key);
  if (member == NULL || patches_value_get_kind (member) != PATCHES_VALUE_STRING)
    return NULL;
  return patches_value_get_string (member);
}

static gint64
meta_get_rev (const PatchesValue *meta,
              const char         *key)
{
  PatchesValue *member;
  double n;

  if (meta == NULL || patches_value_get_kind (meta) != PATCHES_VALUE_OBJECT)
    return 0;
  member = patches_value_object_get (meta, key);
  if (member == NULL || patches_value_get_kind (member) != PATCHES_VALUE_NUMBER)
    return 0;
  n = patches_value_get_number (member);
  if (!isfinite (n) || n < 0)
    return 0;
  return (gint64) n;
}

static gboolean
check_funcs (const PatchesHistoryFuncs  *funcs,
             GError                    **error)
{
  if (funcs == NULL || funcs->get_current_rev == NULL ||
      funcs->list_changes == NULL || funcs->save_changes == NULL)
    {
      g_set_error (error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_FAILED,
                   "The history store lacks get_current_rev, list_changes or save_changes");
      return FALSE;
    }

  return TRUE;
}

/* Creates a main version covering (after, upto]; *created is FALSE when
 * the range holds no change. */
static gboolean
create_main_range (const PatchesHistoryFuncs  *funcs,
                   gpointer                    store,
                   const char                 *doc_id,
                   gint64                      after,
                   gint64                      upto,
                   const char                 *parent_id,
                   gint64                      now,
                   char                      **new_id,
                   gint64                     *new_end,
                   gboolean                   *created,
                   GError                    **error)
{
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(PatchesValue) meta = NULL;
  g_autofree char *id = NULL;

  *created = FALSE;

  changes = funcs->list_changes (store, doc_id, after, upto + 1, 0, FALSE, error);
  if (changes == NULL)
    return FALSE;
  if (changes->len == 0)
    return TRUE;

  id = patches_version_id_new (now);
  meta = patches_version_metadata_new (PATCHES_VERSION_ORIGIN_MAIN, changes, parent_id, id);
  if (!funcs->create_version (store, doc_id, meta, changes, error))
    return FALSE;

  *new_end = ((PatchesChange *) g_ptr_array_index (changes, changes->len - 1))->rev;
  *new_id = g_steal_pointer (&id);
  *created = TRUE;
  return TRUE;
}

/**
 * patches_history_catch_up_versions: (skip)
 * @funcs: the store's functions
 * @store: the store
 * @doc_id: the document
 * @target_rev: the revision to catch up to (the latest committed change's)
 * @config: (nullable): the server's settings, %NULL for the defaults
 * @drain_fully: cover everything up to @target_rev, not only whole blocks
 * @now: the clock, for version ids
 * @error: return location for a #GError
 *
 * Main-timeline catch-up (PROTOCOL.md §7.4.1): creates `main` versions
 * after the latest version (by `endRev`, of any origin), each covering at
 * most `maxChangesPerVersion` changes and chained by `parentId`.  Does
 * nothing when the store keeps no versions.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_history_catch_up_versions (const PatchesHistoryFuncs  *funcs,
                                   gpointer                    store,
                                   const char                 *doc_id,
                                   gint64                      target_rev,
                                   const PatchesCommitConfig  *config,
                                   gboolean                    drain_fully,
                                   gint64                      now,
                                   GError                    **error)
{
  g_autoptr(PatchesValue) latest = NULL;
  g_autofree char *parent = NULL;
  PatchesCommitConfig defaults;
  gint64 end;
  gint64 range_end;
  GError *local_error = NULL;

  if (!check_funcs (funcs, error))
    return FALSE;
  if (funcs->create_version == NULL || funcs->find_version == NULL)
    return TRUE;

  if (config == NULL)
    {
      patches_commit_config_init (&defaults);
      config = &defaults;
    }

  latest = funcs->find_version (store, doc_id, NULL, G_MAXINT64, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  end = latest ? meta_get_rev (latest, "endRev") : 0;
  parent = g_strdup (meta_get_string (latest, "id"));

  while (patches_versioning_catch_up_step (end, target_rev, config->max_changes_per_version,
                                           drain_fully, &range_end))
    {
      g_autofree char *new_id = NULL;
      gint64 new_end = end;
      gboolean created;

      if (!create_main_range (funcs, store, doc_id, end, range_end, parent, now,
                              &new_id, &new_end, &created, error))
        return FALSE;
      if (!created)
        break;

      g_free (parent);
      parent = g_steal_pointer (&new_id);
      if (new_end <= end)
        break;
      end = new_end;
    }

  return TRUE;
}

/**
 * patches_history_create_session_versions: (skip)
 * @funcs: the store's functions
 * @store: the store
 * @doc_id: the document
 * @changes: (element-type PatchesChange): the changes just saved, ascending
 * @origin: the versions' origin (see patches_commit_get_session_origin())
 * @config: (nullable): the server's settings, %NULL for the defaults
 * @now: the clock, for version ids
 * @error: return location for a #GError
 *
 * Offline and multi-batch session versions (PROTOCOL.md §7.4.2): one
 * version per session of @changes, chained from the latest `main`
 * version that ends before them.  Does nothing when the store keeps no
 * versions.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_history_create_session_versions (const PatchesHistoryFuncs  *funcs,
                                         gpointer                    store,
                                         const char                 *doc_id,
                                         GPtrArray                  *changes,
                                         const char                 *origin,
                                         const PatchesCommitConfig  *config,
                                         gint64                      now,
                                         GError                    **error)
{
  g_autoptr(PatchesValue) parent_meta = NULL;
  g_autoptr(GPtrArray) sessions = NULL;
  g_autofree char *parent = NULL;
  PatchesCommitConfig defaults;
  const PatchesChange *first;
  GError *local_error = NULL;

  if (!check_funcs (funcs, error))
    return FALSE;
  if (funcs->create_version == NULL || funcs->find_version == NULL ||
      changes == NULL || changes->len == 0)
    return TRUE;

  if (config == NULL)
    {
      patches_commit_config_init (&defaults);
      config = &defaults;
    }

  first = g_ptr_array_index (changes, 0);
  parent_meta = funcs->find_version (store, doc_id, PATCHES_VERSION_ORIGIN_MAIN,
                                     first->rev - 1, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  parent = g_strdup (meta_get_string (parent_meta, "id"));

  sessions = patches_versioning_split_sessions (changes, config->session_timeout_ms);
  for (guint i = 0; i < sessions->len; i++)
    {
      GPtrArray *session = g_ptr_array_index (sessions, i);
      g_autoptr(PatchesValue) meta = NULL;
      char *id = patches_version_id_new (now);

      meta = patches_version_metadata_new (origin, session, parent, id);
      g_free (parent);
      parent = id;

      if (!funcs->create_version (store, doc_id, meta, session, error))
        return FALSE;
    }

  return TRUE;
}

static PatchesChange *
read_one_change (const PatchesHistoryFuncs  *funcs,
                 gpointer                    store,
                 const char                 *doc_id,
                 gboolean                    reverse,
                 GError                    **error)
{
  g_autoptr(GPtrArray) changes = NULL;

  changes = funcs->list_changes (store, doc_id, -1, -1, 1, reverse, error);
  if (changes == NULL)
    return NULL;
  if (changes->len == 0)
    return NULL;
  return patches_change_ref (g_ptr_array_index (changes, 0));
}

/**
 * patches_commit_run: (skip)
 * @self: a request, not prepared yet
 * @funcs: the store's functions
 * @store: the store
 * @error: return location for a #GError
 *
 * Runs `commitChanges` (PROTOCOL.md §7.2, steps 3 to 9) against a store:
 * reads the head, checks and normalises the changes, catches versions up,
 * transforms, saves (retrying on revision conflicts and duplicate ids, at
 * most %PATCHES_COMMIT_MAX_ATTEMPTS times) and creates session versions.
 * The caller holds the per-document lock around it and, on success,
 * answers with patches_commit_result_to_value() and broadcasts
 * patches_commit_get_new_changes() when there are any.
 *
 * Errors are those of patches_commit_prepare() and whatever the store
 * reports; patches_commit_error_get_status() gives their wire code.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_commit_run (PatchesCommit              *self,
                    const PatchesHistoryFuncs  *funcs,
                    gpointer                    store,
                    GError                    **error)
{
  g_autoptr(PatchesChange) oldest = NULL;
  gint64 head = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (!self->prepared, FALSE);

  if (!check_funcs (funcs, error))
    return FALSE;

  /* Step 3 */
  if (patches_commit_is_empty (self))
    {
      self->prepared = TRUE;
      self->resolved = TRUE;
      return TRUE;
    }

  /* Steps 4 to 7 */
  if (!funcs->get_current_rev (store, self->doc_id, &head, error))
    return FALSE;

  if (patches_commit_needs_oldest_change (self, head))
    {
      GError *local_error = NULL;

      oldest = read_one_change (funcs, store, self->doc_id, FALSE, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
    }

  if (!patches_commit_prepare (self, head, oldest, error))
    return FALSE;

  /* Step 8 */
  if (funcs->create_version != NULL && funcs->find_version != NULL && self->head_rev > 0)
    {
      g_autoptr(PatchesChange) last = NULL;
      GError *local_error = NULL;
      gboolean drain_fully;

      last = read_one_change (funcs, store, self->doc_id, TRUE, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }

      if (last != NULL &&
          patches_commit_needs_catch_up (self, last, &drain_fully) &&
          !patches_history_catch_up_versions (funcs, store, self->doc_id, last->rev,
                                              &self->config, drain_fully, self->now, error))
        return FALSE;
    }

  /* Step 9 */
  for (guint attempt = 1; ; attempt++)
    {
      g_autoptr(GPtrArray) all = NULL;
      g_autoptr(GError) save_error = NULL;
      gint64 cur = self->head_rev;
      const char *origin;

      if (attempt > 1 && !funcs->get_current_rev (store, self->doc_id, &cur, error))
        return FALSE;

      all = funcs->list_changes (store, self->doc_id, self->base_rev, -1, 0, FALSE, error);
      if (all == NULL)
        return FALSE;

      if (!patches_commit_resolve (self, all, cur, error))
        return FALSE;

      if (self->new_changes->len == 0)
        return TRUE;

      if (funcs->save_changes (store, self->doc_id, self->new_changes, &save_error))
        {
          origin = patches_commit_get_session_origin (self);
          if (origin != NULL && !self->session_versions_done)
            {
              self->session_versions_done = TRUE;
              if (!patches_history_create_session_versions (funcs, store, self->doc_id,
                                                            self->new_changes, origin,
                                                            &self->config, self->now, error))
                return FALSE;
            }
          return TRUE;
        }

      if (attempt < PATCHES_COMMIT_MAX_ATTEMPTS &&
          g_error_matches (save_error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_DUPLICATE_IDS))
        {
          if (patches_commit_exclude_ids (self, patches_commit_error_get_duplicate_ids (save_error)))
            continue;
        }
      else if (attempt < PATCHES_COMMIT_MAX_ATTEMPTS &&
               g_error_matches (save_error, PATCHES_COMMIT_ERROR, PATCHES_COMMIT_ERROR_REV_CONFLICT))
        continue;

      g_clear_pointer (&self->new_changes, g_ptr_array_unref);
      g_propagate_error (error, g_steal_pointer (&save_error));
      return FALSE;
    }
}

/* Reads */

/**
 * patches_history_get_doc: (skip)
 * @funcs: the store's functions
 * @store: the store
 * @doc_id: the document
 * @rev: the revision asked for, or -1 for the head
 * @error: return location for a #GError
 *
 * `getDoc` (PROTOCOL.md §7.5): the latest `main` version at or before
 * min(@rev, head) supplies `state` and `rev`, followed by the committed
 * changes after it (up to @rev).  A document without versions gives
 * `{"state": null, "rev": 0, "changes": […]}`.  A version whose state is
 * not built yet fails with %PATCHES_COMMIT_ERROR_STATE_UNAVAILABLE (503).
 *
 * Returns: (transfer full) (nullable): the snapshot
 *   `{"state", "rev", "changes"}`, or %NULL with @error set
 */
PatchesValue *
patches_history_get_doc (const PatchesHistoryFuncs  *funcs,
                         gpointer                    store,
                         const char                 *doc_id,
                         gint64                      rev,
                         GError                    **error)
{
  g_autoptr(PatchesValue) version = NULL;
  g_autoptr(PatchesValue) state = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  PatchesValue *result;
  gint64 head = 0;
  gint64 version_rev = 0;

  if (!check_funcs (funcs, error))
    return NULL;

  if (!funcs->get_current_rev (store, doc_id, &head, error))
    return NULL;

  if (funcs->find_version != NULL)
    {
      GError *local_error = NULL;

      version = funcs->find_version (store, doc_id, PATCHES_VERSION_ORIGIN_MAIN,
                                     rev >= 0 ? MIN (rev, head) : head, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return NULL;
        }
    }

  if (version != NULL)
    {
      const char *version_id = meta_get_string (version, "id");
      GError *local_error = NULL;

      version_rev = meta_get_rev (version, "endRev");
      if (funcs->load_version_state != NULL && version_id != NULL)
        state = funcs->load_version_state (store, doc_id, version_id, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return NULL;
        }
      if (state == NULL)
        {
          set_state_unavailable_error (error, doc_id, version_id ? version_id : "");
          return NULL;
        }
    }

  changes = funcs->list_changes (store, doc_id, version_rev, rev >= 0 ? rev + 1 : -1,
                                 0, FALSE, error);
  if (changes == NULL)
    return NULL;

  result = patches_value_new_object ();
  patches_value_object_set (result, "state",
                            state ? g_steal_pointer (&state) : patches_value_new_null ());
  patches_value_object_set (result, "rev", patches_value_new_number ((double) version_rev));
  patches_value_object_set (result, "changes", patches_changes_to_value (changes));

  return result;
}

/**
 * patches_history_get_changes_since: (skip)
 * @funcs: the store's functions
 * @store: the store
 * @doc_id: the document
 * @rev: a revision
 * @error: return location for a #GError
 *
 * `getChangesSince`: every committed change after @rev, ascending.
 *
 * Returns: (transfer full) (nullable) (element-type PatchesChange): the
 *   changes, or %NULL with @error set
 */
GPtrArray *
patches_history_get_changes_since (const PatchesHistoryFuncs  *funcs,
                                   gpointer                    store,
                                   const char                 *doc_id,
                                   gint64                      rev,
                                   GError                    **error)
{
  if (!check_funcs (funcs, error))
    return NULL;

  return funcs->list_changes (store, doc_id, MAX (rev, 0), -1, 0, FALSE, error);
}

/**
 * patches_history_delete_doc: (skip)
 * @funcs: the store's functions
 * @store: the store
 * @doc_id: the document
 * @client_id: (nullable): the deleting connection's client id
 * @skip_tombstone: do not record a tombstone
 * @now: the clock
 * @error: return location for a #GError
 *
 * `deleteDoc` (PROTOCOL.md §5.6): records the tombstone
 * `{docId, deletedAt, lastRev, deletedByClientId?}` unless asked not to
 * or the store keeps none, then removes the document's changes and
 * versions.  The caller then sends `docDeleted` to the other subscribers.
 *
 * Returns: %TRUE on success
 */
gboolean
patches_history_delete_doc (const PatchesHistoryFuncs  *funcs,
                            gpointer                    store,
                            const char                 *doc_id,
                            const char                 *client_id,
                            gboolean                    skip_tombstone,
                            gint64                      now,
                            GError                    **error)
{
  gint64 head = 0;

  if (!check_funcs (funcs, error))
    return FALSE;

  if (!funcs->get_current_rev (store, doc_id, &head, error))
    return FALSE;

  if (!skip_tombstone && funcs->create_tombstone != NULL)
    {
      g_autoptr(PatchesValue) tombstone = patches_value_new_object ();

      patches_value_object_set (tombstone, "docId", patches_value_new_string (doc_id));
      patches_value_object_set (tombstone, "deletedAt", patches_value_new_number ((double) now));
      patches_value_object_set (tombstone, "lastRev", patches_value_new_number ((double) head));
      if (client_id != NULL)
        patches_value_object_set (tombstone, "deletedByClientId", patches_value_new_string (client_id));

      if (!funcs->create_tombstone (store, doc_id, tombstone, error))
        return FALSE;
    }

  if (funcs->delete_doc != NULL && !funcs->delete_doc (store, doc_id, error))
    return FALSE;

  return TRUE;
}

/**
 * patches_history_undelete_doc: (skip)
 * @funcs: the store's functions
 * @store: the store
 * @doc_id: the document
 * @removed: (out): whether a tombstone existed and was removed
 * @error: return location for a #GError
 *
 * `undeleteDoc`: removes the tombstone only (the data is gone).
 *
 * Returns: %TRUE on success
 */
gboolean
patches_history_undelete_doc (const PatchesHistoryFuncs  *funcs,
                              gpointer                    store,
                              const char                 *doc_id,
                              gboolean                   *removed,
                              GError                    **error)
{
  g_return_val_if_fail (removed != NULL, FALSE);

  *removed = FALSE;

  if (!check_funcs (funcs, error))
    return FALSE;

  if (funcs->remove_tombstone == NULL)
    return TRUE;

  return funcs->remove_tombstone (store, doc_id, removed, error);
}
