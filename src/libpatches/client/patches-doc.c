/* patches-doc.c
 *
 * The optimistic state is kept incrementally: a local patch is applied to
 * it in place (PatchesValue is copy-on-write, so a listener that keeps a
 * reference to an older state still sees that one), and committed changes
 * from the server are applied to it after being transformed over the
 * pending changes (the final `k` of the rebase walk, PROTOCOL.md §8.6
 * step 4).  The reference's transform does not always converge (two
 * inserts at one array index), so when pending changes were involved the
 * result is checked against the committed state with the rebased pending
 * changes applied, which is what the server will end with.  When the
 * ops do not converge, or cannot be computed (a revision jump, a
 * confirmed copy that leaves the queue out of order, a snapshot), the
 * view is rebuilt from the committed state and the pending changes, and
 * announced as a reset: one `replace ""` op carrying the whole new state.
 *
 * With nothing pending the optimistic state is the committed state
 * itself: one value, to which the client applied the committed changes
 * already.  When pending changes were verified, the rebuilt view is kept
 * rather than the incrementally updated one (they are equal): built from
 * the committed state, it shares all but the pending edits with it (a
 * text value is a persistent rope, PatchesValue is copy-on-write), so the
 * next verification compares little more than those edits.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-doc-private.h"
#include "patches-error.h"
#include "patches-ot.h"
#include "patches-patch-private.h"

struct _PatchesDoc
{
  GObject                parent_instance;

  char                  *id;
  PatchesValue          *committed;      /* committed state at committed_rev */
  gint64                 committed_rev;
  GPtrArray             *pending;        /* PatchesChange, ascending by rev */
  PatchesValue          *state;          /* optimistic: committed + pending */

  PatchesSyncStatus      sync_status;
  GError                *sync_error;
  gboolean               loaded;

  PatchesValue          *change_metadata;
  PatchesDocPersistFunc  persist_func;
  gpointer               persist_data;
};

enum {
  PROP_0,
  PROP_ID,
  PROP_COMMITTED_REV,
  PROP_HAS_PENDING,
  PROP_N_PENDING,
  PROP_SYNC_STATUS,
  PROP_SYNC_ERROR,
  PROP_LOADED,
  N_PROPS
};

enum {
  UPDATE,
  CHANGED,
  N_SIGNALS
};

G_DEFINE_ENUM_TYPE (PatchesSyncStatus, patches_sync_status,
                    G_DEFINE_ENUM_VALUE (PATCHES_SYNC_STATUS_UNSYNCED, "unsynced"),
                    G_DEFINE_ENUM_VALUE (PATCHES_SYNC_STATUS_SYNCING, "syncing"),
                    G_DEFINE_ENUM_VALUE (PATCHES_SYNC_STATUS_SYNCED, "synced"),
                    G_DEFINE_ENUM_VALUE (PATCHES_SYNC_STATUS_ERROR, "error"))

G_DEFINE_FINAL_TYPE (PatchesDoc, patches_doc, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* Members a change always writes itself; metadata may not shadow them. */
static const char * const reserved_change_keys[] = {
  "id", "baseRev", "rev", "ops", "createdAt", "committedAt", "batchId", "clientId", NULL
};

/**
 * patches_sync_status_to_string:
 * @status: a #PatchesSyncStatus
 *
 * Returns: the status as the reference names it (`"unsynced"`,
 *   `"syncing"`, `"synced"`, `"error"`)
 */
const char *
patches_sync_status_to_string (PatchesSyncStatus status)
{
  switch (status)
    {
    case PATCHES_SYNC_STATUS_UNSYNCED:
      return "unsynced";
    case PATCHES_SYNC_STATUS_SYNCING:
      return "syncing";
    case PATCHES_SYNC_STATUS_SYNCED:
      return "synced";
    case PATCHES_SYNC_STATUS_ERROR:
      return "error";
    default:
      return "unknown";
    }
}

static GPtrArray *
changes_copy_container (GPtrArray *changes)
{
  GPtrArray *copy = patches_changes_new ();

  if (changes != NULL)
    for (guint i = 0; i < changes->len; i++)
      g_ptr_array_add (copy, patches_change_ref (g_ptr_array_index (changes, i)));

  return copy;
}

static GPtrArray *
ops_copy_container (GPtrArray *ops)
{
  GPtrArray *copy = patches_ops_new ();

  for (guint i = 0; i < ops->len; i++)
    g_ptr_array_add (copy, patches_op_ref (g_ptr_array_index (ops, i)));

  return copy;
}

static gboolean
ops_equal (GPtrArray *a,
           GPtrArray *b)
{
  g_autoptr(GString) ja = NULL;
  g_autoptr(GString) jb = NULL;

  if (a == b)
    return TRUE;
  if (a->len != b->len)
    return FALSE;

  ja = g_string_new (NULL);
  jb = g_string_new (NULL);
  patches_ops_write_json (a, ja);
  patches_ops_write_json (b, jb);

  return g_string_equal (ja, jb);
}

/* The committed state with the pending changes applied (OPERATIONS.md
 * §11.5).  A rebase can leave a pending change that no longer applies
 * (the sync engine finds it when the server refuses it, and ejects it);
 * until then the view shows every pending change that does apply. */
static PatchesValue *
build_view (const char   *doc_id,
            PatchesValue *committed,
            gint64        committed_rev,
            GPtrArray    *pending)
{
  g_autoptr(GError) error = NULL;
  PatchesValue *view = patches_value_ref (committed);

  if (pending->len == 0)
    return view;

  if (!patches_apply_pending_for_view (&view, committed_rev, pending, &error))
    {
      g_message ("Document %s: pending changes do not apply to the committed state (%s); "
                 "showing those that do", doc_id, error->message);
      patches_changes_apply_for_reconstruction (&view, pending, FALSE, NULL, NULL);
    }

  return view;
}

static void
emit_reset (PatchesDoc *self)
{
  g_autoptr(PatchesPatch) patch = patches_patch_new ();

  patches_patch_replace (patch, "", patches_value_ref (self->state), FALSE);
  g_signal_emit (self, signals[UPDATE], 0, patch, FALSE);
}

/* Rebuilds the view from the committed state and the pending changes;
 * returns whether it differs from the one listeners saw last (then the
 * new one is installed, and the caller emits the reset). */
static gboolean
rebuild_view (PatchesDoc *self)
{
  g_autoptr(PatchesValue) view = build_view (self->id, self->committed, self->committed_rev, self->pending);

  if (patches_value_equal (view, self->state))
    return FALSE;

  g_clear_pointer (&self->state, patches_value_unref);
  self->state = g_steal_pointer (&view);
  return TRUE;
}

static void
update_loaded (PatchesDoc *self)
{
  if (self->loaded)
    return;

  if (self->committed_rev > 0 ||
      self->pending->len > 0 ||
      self->sync_status == PATCHES_SYNC_STATUS_SYNCED ||
      self->sync_status == PATCHES_SYNC_STATUS_ERROR)
    {
      self->loaded = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADED]);
    }
}

/* Installs @pending and notifies the properties that follow it. */
static void
set_pending (PatchesDoc *self,
             GPtrArray  *pending)
{
  guint old_len = self->pending->len;

  g_clear_pointer (&self->pending, g_ptr_array_unref);
  self->pending = changes_copy_container (pending);

  if (old_len != self->pending->len)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_PENDING]);
  if ((old_len > 0) != (self->pending->len > 0))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_PENDING]);
}

static void
set_committed (PatchesDoc   *self,
               PatchesValue *state,
               gint64        rev)
{
  g_autoptr(PatchesValue) old = g_steal_pointer (&self->committed);

  self->committed = state ? patches_value_ref (state) : patches_value_new_object ();
  if (self->committed_rev != rev)
    {
      self->committed_rev = rev;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMMITTED_REV]);
    }
}

/* The ops that take the current view to the view after @fresh committed
 * changes: each foreign change advanced through the pending queue @kept
 * (the walk of PROTOCOL.md §8.6 step 4); an own change coming back adds
 * nothing, the view holds it already.
 *
 * *@must_verify is set when that is not certain, and the result must be
 * compared with the committed state with the rebased queue applied (what
 * every peer converges to): when a foreign change went through a
 * non-empty queue (the transform does not always converge: two inserts
 * at one array index both keep the index, so the advanced op and the
 * rebased queue disagree), or an own change came back out of order or
 * with other ops than the queue holds. */
static GPtrArray *
transformed_remote_ops (GPtrArray *fresh,
                        GPtrArray *kept,
                        gboolean  *must_verify)
{
  g_autoptr(GPtrArray) queue_ids = g_ptr_array_new ();
  g_autoptr(GPtrArray) queue_ops = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GHashTable) local_ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) result = patches_ops_new ();

  *must_verify = FALSE;

  for (guint i = 0; i < kept->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (kept, i);

      g_ptr_array_add (queue_ids, change->id);
      g_ptr_array_add (queue_ops, g_ptr_array_ref (change->ops));
      if (change->id != NULL)
        g_hash_table_add (local_ids, change->id);
    }

  for (guint c = 0; c < fresh->len; c++)
    {
      PatchesChange *server = g_ptr_array_index (fresh, c);
      GPtrArray *k;

      if (server->id != NULL && g_hash_table_contains (local_ids, server->id))
        {
          for (guint i = 0; i < queue_ids->len; i++)
            if (g_strcmp0 (g_ptr_array_index (queue_ids, i), server->id) == 0)
              {
                /* The view holds this change exactly when it is the
                 * bottom of the queue, unchanged. */
                if (i != 0 || !ops_equal (g_ptr_array_index (queue_ops, i), server->ops))
                  *must_verify = TRUE;
                g_ptr_array_remove_index (queue_ids, i);
                g_ptr_array_remove_index (queue_ops, i);
                break;
              }
          continue;
        }

      if (queue_ops->len > 0)
        *must_verify = TRUE;

      k = g_ptr_array_ref (server->ops);
      for (guint i = 0; i < queue_ops->len; i++)
        {
          GPtrArray *entry_ops = g_ptr_array_index (queue_ops, i);
          GPtrArray *new_ops = patches_ops_transform (k, entry_ops, FALSE);
          GPtrArray *advanced = patches_ops_transform (entry_ops, k, TRUE);

          g_ptr_array_unref (k);
          k = advanced;
          queue_ops->pdata[i] = new_ops;
          g_ptr_array_unref (entry_ops);
        }

      for (guint i = 0; i < k->len; i++)
        g_ptr_array_add (result, patches_op_ref (g_ptr_array_index (k, i)));
      g_ptr_array_unref (k);
    }

  return g_steal_pointer (&result);
}

static void
patches_doc_finalize (GObject *object)
{
  PatchesDoc *self = (PatchesDoc *)object;

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->committed, patches_value_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_pointer (&self->state, patches_value_unref);
  g_clear_error (&self->sync_error);
  g_clear_pointer (&self->change_metadata, patches_value_unref);

  G_OBJECT_CLASS (patches_doc_parent_class)->finalize (object);
}

static void
patches_doc_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  PatchesDoc *self = PATCHES_DOC (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;

    case PROP_COMMITTED_REV:
      g_value_set_int64 (value, self->committed_rev);
      break;

    case PROP_HAS_PENDING:
      g_value_set_boolean (value, self->pending->len > 0);
      break;

    case PROP_N_PENDING:
      g_value_set_uint (value, self->pending->len);
      break;

    case PROP_SYNC_STATUS:
      g_value_set_enum (value, self->sync_status);
      break;

    case PROP_SYNC_ERROR:
      g_value_set_boxed (value, self->sync_error);
      break;

    case PROP_LOADED:
      g_value_set_boolean (value, self->loaded);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
patches_doc_class_init (PatchesDocClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = patches_doc_finalize;
  object_class->get_property = patches_doc_get_property;

  /**
   * PatchesDoc:id:
   *
   * The document id.
   */
  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesDoc:committed-rev:
   *
   * The last revision committed by the server that this document holds
   * (0 when never synced).  Notified when it changes.
   */
  properties[PROP_COMMITTED_REV] =
    g_param_spec_int64 ("committed-rev", NULL, NULL,
                        0, G_MAXINT64, 0,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesDoc:has-pending:
   *
   * Whether local changes wait to be committed.  Notified when it flips.
   */
  properties[PROP_HAS_PENDING] =
    g_param_spec_boolean ("has-pending", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesDoc:n-pending:
   *
   * How many local changes wait to be committed.  Notified when it
   * changes.
   */
  properties[PROP_N_PENDING] =
    g_param_spec_uint ("n-pending", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesDoc:sync-status:
   *
   * How far the document is in step with the server, as the sync engine
   * reports it.  Notified when it changes.
   */
  properties[PROP_SYNC_STATUS] =
    g_param_spec_enum ("sync-status", NULL, NULL,
                       PATCHES_TYPE_SYNC_STATUS,
                       PATCHES_SYNC_STATUS_UNSYNCED,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesDoc:sync-error:
   *
   * The error of the last sync while #PatchesDoc:sync-status is
   * %PATCHES_SYNC_STATUS_ERROR, else %NULL.  Notified when it changes.
   */
  properties[PROP_SYNC_ERROR] =
    g_param_spec_boxed ("sync-error", NULL, NULL,
                        G_TYPE_ERROR,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * PatchesDoc:loaded:
   *
   * Latches %TRUE once the document has data: a committed revision, a
   * pending change, or a sync that finished (PROTOCOL.md §4.11).
   */
  properties[PROP_LOADED] =
    g_param_spec_boolean ("loaded", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PatchesDoc::update:
   * @self: a #PatchesDoc
   * @ops: the ops that were applied
   * @local: %TRUE for a local edit, %FALSE for changes from the server
   *
   * Emitted after the optimistic state changed, with ops that take the
   * state a listener saw at the previous emission to the current one.  For
   * a local edit they are the edit's ops; for committed changes they are
   * those changes transformed over the pending ones.
   *
   * When the state cannot be followed op by op (a snapshot was installed,
   * pending changes were dropped, the server skipped revisions), @ops is
   * a single `{"op": "replace", "path": "", "value": STATE}`: listeners
   * must treat it as a reset to STATE.
   */
  signals[UPDATE] =
    g_signal_new ("update",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 2,
                  PATCHES_TYPE_PATCH | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_BOOLEAN);

  /**
   * PatchesDoc::changed:
   * @self: a #PatchesDoc
   * @change: the change minted for a local edit
   *
   * Emitted by patches_doc_change() after ::update, once the change is
   * in the pending list (and, for a document opened through a
   * #PatchesClient, saved in its store).
   */
  signals[CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1,
                  PATCHES_TYPE_CHANGE | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
patches_doc_init (PatchesDoc *self)
{
  self->committed = patches_value_new_object ();
  self->state = patches_value_ref (self->committed);
  self->pending = patches_changes_new ();
  self->sync_status = PATCHES_SYNC_STATUS_UNSYNCED;
}

/* Private API (patches-doc-private.h) */

/**
 * patches_doc_new:
 * @doc_id: the document id
 *
 * Creates a document never synced: state `{}`, revision 0, nothing
 * pending, not attached to any store.
 *
 * Returns: (transfer full): a new document
 */
PatchesDoc *
patches_doc_new (const char *doc_id)
{
  PatchesDoc *self;

  g_return_val_if_fail (doc_id != NULL, NULL);

  self = g_object_new (PATCHES_TYPE_DOC, NULL);
  self->id = g_strdup (doc_id);

  return self;
}

/**
 * patches_doc_new_from_stored:
 * @stored: a store's record
 *
 * Creates a document from what a store holds: its committed state (`{}`
 * when none), revision and pending changes.
 *
 * Returns: (transfer full): a new document
 */
PatchesDoc *
patches_doc_new_from_stored (PatchesStoredDoc *stored)
{
  PatchesDoc *self;

  g_return_val_if_fail (stored != NULL, NULL);

  self = patches_doc_new (stored->doc_id);

  g_clear_pointer (&self->committed, patches_value_unref);
  self->committed = stored->state ? patches_value_ref (stored->state) : patches_value_new_object ();
  self->committed_rev = stored->committed_rev;
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  self->pending = changes_copy_container (stored->pending);
  g_clear_pointer (&self->state, patches_value_unref);
  self->state = build_view (self->id, self->committed, self->committed_rev, self->pending);
  self->loaded = self->committed_rev > 0 || self->pending->len > 0;

  return self;
}

/**
 * patches_doc_set_persist_func:
 * @self: a #PatchesDoc
 * @func: (nullable) (scope notified): saves a local change, or %NULL
 * @user_data: data for @func
 *
 * Sets the hook that patches_doc_change() calls to make each change
 * durable before the edit becomes visible to listeners.
 */
void
patches_doc_set_persist_func (PatchesDoc            *self,
                              PatchesDocPersistFunc  func,
                              gpointer               user_data)
{
  g_return_if_fail (PATCHES_IS_DOC (self));

  self->persist_func = func;
  self->persist_data = func ? user_data : NULL;
}

/**
 * patches_doc_set_change_metadata:
 * @self: a #PatchesDoc
 * @metadata: (nullable): an object whose members are added to every
 *   change minted from now on, or %NULL
 *
 * Members named like the change's own fields (`id`, `rev`, `ops`, …) are
 * ignored.
 */
void
patches_doc_set_change_metadata (PatchesDoc   *self,
                                 PatchesValue *metadata)
{
  g_autoptr(PatchesValue) filtered = NULL;

  g_return_if_fail (PATCHES_IS_DOC (self));

  if (metadata != NULL && patches_value_get_kind (metadata) == PATCHES_VALUE_OBJECT)
    for (guint i = 0; i < patches_value_object_get_size (metadata); i++)
      {
        const char *key = patches_value_object_key_at (metadata, i);

        if (g_strv_contains (reserved_change_keys, key))
          continue;
        if (filtered == NULL)
          filtered = patches_value_new_object ();
        patches_value_object_set (filtered, key,
                                  patches_value_ref (patches_value_object_value_at (metadata, i)));
      }

  g_clear_pointer (&self->change_metadata, patches_value_unref);
  self->change_metadata = g_steal_pointer (&filtered);
}

/**
 * patches_doc_install_committed:
 * @self: a #PatchesDoc
 * @state: (nullable): the new committed state; %NULL stands for `{}`
 * @rev: the new committed revision
 * @pending: (element-type PatchesChange): the new pending list
 * @fresh: (nullable) (element-type PatchesChange): the committed changes
 *   that took the committed state from the document's revision to @rev,
 *   contiguous from the document's revision + 1
 * @kept: (nullable) (element-type PatchesChange): the document's pending
 *   list before @fresh was applied, without the changes that stale
 *   committed changes confirmed
 *
 * Installs the result of applying committed changes.  With @fresh and
 * @kept, the optimistic state follows incrementally: @fresh is
 * transformed over @kept and applied to it (when @kept and @pending are
 * both empty, it becomes @state itself, which @fresh took there), and
 * ::update carries those ops (nothing is emitted when they are empty, as
 * for an own echo).  When foreign changes went through pending ones, the
 * result is checked against @state with @pending applied (the state every
 * peer converges to), which is kept, and announced by a reset if they
 * differ.  Without @fresh and @kept, or when the
 * ops do not apply or do not converge, the view is rebuilt from @state
 * and @pending, and ::update announces a reset if it changed.
 */
void
patches_doc_install_committed (PatchesDoc   *self,
                               PatchesValue *state,
                               gint64        rev,
                               GPtrArray    *pending,
                               GPtrArray    *fresh,
                               GPtrArray    *kept)
{
  g_autoptr(GPtrArray) ops = NULL;
  gboolean must_verify = FALSE;
  gboolean reset = FALSE;

  g_return_if_fail (PATCHES_IS_DOC (self));
  g_return_if_fail (pending != NULL);

  if (fresh != NULL && kept != NULL)
    ops = transformed_remote_ops (fresh, kept, &must_verify);

  g_object_ref (self);
  g_object_freeze_notify (G_OBJECT (self));

  set_committed (self, state, rev);
  set_pending (self, pending);

  if (ops != NULL && ops->len > 0 && kept->len == 0 && self->pending->len == 0)
    {
      /* Nothing was pending, nothing is: the view was the committed state
       * and is again.  The client applied @fresh (which are @ops) to it
       * already; one value serves both. */
      g_clear_pointer (&self->state, patches_value_unref);
      self->state = patches_value_ref (self->committed);
    }
  else if (ops != NULL && ops->len > 0)
    {
      g_autoptr(GError) error = NULL;
      PatchesValue *view = g_steal_pointer (&self->state);

      if (!patches_ops_apply (ops, &view, PATCHES_APPLY_STRICT, NULL, NULL, &error))
        {
          g_debug ("Document %s: transformed committed ops do not apply to the view (%s); "
                   "rebuilding it", self->id, error->message);
          g_clear_pointer (&ops, g_ptr_array_unref);
        }
      self->state = view;
    }

  if (ops != NULL && must_verify)
    {
      g_autoptr(PatchesValue) rebuilt = build_view (self->id, self->committed,
                                                    self->committed_rev, self->pending);

      if (!patches_value_equal (rebuilt, self->state))
        {
          g_debug ("Document %s: the transformed committed ops do not converge with the "
                   "rebased pending changes; resetting the view", self->id);
          g_clear_pointer (&ops, g_ptr_array_unref);
          reset = TRUE;
        }
      /* Equal or not, the rebuilt view is the one to keep (see the top
       * of the file). */
      g_clear_pointer (&self->state, patches_value_unref);
      self->state = g_steal_pointer (&rebuilt);
    }

  if (ops == NULL && !reset)
    reset = rebuild_view (self);

  update_loaded (self);
  g_object_thaw_notify (G_OBJECT (self));

  if (reset)
    emit_reset (self);
  else if (ops != NULL && ops->len > 0)
    {
      g_autoptr(PatchesPatch) patch = patches_patch_new_take (g_steal_pointer (&ops));

      g_signal_emit (self, signals[UPDATE], 0, patch, FALSE);
    }

  g_object_unref (self);
}

/**
 * patches_doc_install_pending:
 * @self: a #PatchesDoc
 * @pending: (element-type PatchesChange): the new pending list
 *
 * Replaces the pending list (after changes were dropped or split) and
 * rebuilds the view, announcing a reset if it changed.
 */
void
patches_doc_install_pending (PatchesDoc *self,
                             GPtrArray  *pending)
{
  gboolean reset;

  g_return_if_fail (PATCHES_IS_DOC (self));
  g_return_if_fail (pending != NULL);

  g_object_ref (self);
  g_object_freeze_notify (G_OBJECT (self));
  set_pending (self, pending);
  reset = rebuild_view (self);
  update_loaded (self);
  g_object_thaw_notify (G_OBJECT (self));

  if (reset)
    emit_reset (self);

  g_object_unref (self);
}

/**
 * patches_doc_set_sync_status:
 * @self: a #PatchesDoc
 * @status: the status
 * @error: (nullable): the error, kept only with %PATCHES_SYNC_STATUS_ERROR
 *
 * Mirrors the sync engine's state for this document.
 */
void
patches_doc_set_sync_status (PatchesDoc        *self,
                             PatchesSyncStatus  status,
                             const GError      *error)
{
  gboolean error_changed;

  g_return_if_fail (PATCHES_IS_DOC (self));

  if (status != PATCHES_SYNC_STATUS_ERROR)
    error = NULL;

  error_changed = (error == NULL) != (self->sync_error == NULL) ||
                  (error != NULL &&
                   (error->domain != self->sync_error->domain ||
                    error->code != self->sync_error->code ||
                    g_strcmp0 (error->message, self->sync_error->message) != 0));

  g_object_freeze_notify (G_OBJECT (self));

  if (self->sync_status != status)
    {
      self->sync_status = status;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNC_STATUS]);
    }

  if (error_changed)
    {
      g_clear_error (&self->sync_error);
      if (error != NULL)
        self->sync_error = g_error_copy (error);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNC_ERROR]);
    }

  update_loaded (self);
  g_object_thaw_notify (G_OBJECT (self));
}

/* Public API */

/**
 * patches_doc_get_id:
 * @self: a #PatchesDoc
 *
 * Returns: the document id
 */
const char *
patches_doc_get_id (PatchesDoc *self)
{
  g_return_val_if_fail (PATCHES_IS_DOC (self), NULL);

  return self->id;
}

/**
 * patches_doc_get_state:
 * @self: a #PatchesDoc
 *
 * Gets the optimistic state: the committed state with the pending changes
 * applied, what the user sees.  The value changes with every edit; take a
 * reference (patches_value_ref()) to keep a snapshot of it, which later
 * edits will not touch.
 *
 * Returns: (transfer none): the state
 */
PatchesValue *
patches_doc_get_state (PatchesDoc *self)
{
  g_return_val_if_fail (PATCHES_IS_DOC (self), NULL);

  return self->state;
}

/**
 * patches_doc_dup_state_node:
 * @self: a #PatchesDoc
 *
 * Returns: (transfer full): the optimistic state as a json-glib node
 */
JsonNode *
patches_doc_dup_state_node (PatchesDoc *self)
{
  g_return_val_if_fail (PATCHES_IS_DOC (self), NULL);

  return patches_value_to_json_node (self->state);
}

/**
 * patches_doc_get_committed_state:
 * @self: a #PatchesDoc
 *
 * Returns: (transfer none): the state at #PatchesDoc:committed-rev,
 *   without the pending changes
 */
PatchesValue *
patches_doc_get_committed_state (PatchesDoc *self)
{
  g_return_val_if_fail (PATCHES_IS_DOC (self), NULL);

  return self->committed;
}

/**
 * patches_doc_get_committed_rev:
 * @self: a #PatchesDoc
 *
 * Returns: the committed revision, 0 when never synced
 */
gint64
patches_doc_get_committed_rev (PatchesDoc *self)
{
  g_return_val_if_fail (PATCHES_IS_DOC (self), 0);

  return self->committed_rev;
}

/**
 * patches_doc_get_pending:
 * @self: a #PatchesDoc
 *
 * Returns: (transfer none) (element-type PatchesChange): the pending
 *   changes, ascending by rev; do not modify
 */
GPtrArray *
patches_doc_get_pending (PatchesDoc *self)
{
  g_return_val_if_fail (PATCHES_IS_DOC (self), NULL);

  return self->pending;
}

/**
 * patches_doc_get_has_pending:
 * @self: a #PatchesDoc
 *
 * Returns: whether local changes wait to be committed
 */
gboolean
patches_doc_get_has_pending (PatchesDoc *self)
{
  g_return_val_if_fail (PATCHES_IS_DOC (self), FALSE);

  return self->pending->len > 0;
}

/**
 * patches_doc_get_n_pending:
 * @self: a #PatchesDoc
 *
 * Returns: the number of pending changes
 */
guint
patches_doc_get_n_pending (PatchesDoc *self)
{
  g_return_val_if_fail (PATCHES_IS_DOC (self), 0);

  return self->pending->len;
}

/**
 * patches_doc_get_sync_status:
 * @self: a #PatchesDoc
 *
 * Returns: the document's sync status
 */
PatchesSyncStatus
patches_doc_get_sync_status (PatchesDoc *self)
{
  g_return_val_if_fail (PATCHES_IS_DOC (self), PATCHES_SYNC_STATUS_UNSYNCED);

  return self->sync_status;
}

/**
 * patches_doc_get_sync_error:
 * @self: a #PatchesDoc
 *
 * Returns: (transfer none) (nullable): the last sync error while the
 *   status is %PATCHES_SYNC_STATUS_ERROR
 */
const GError *
patches_doc_get_sync_error (PatchesDoc *self)
{
  g_return_val_if_fail (PATCHES_IS_DOC (self), NULL);

  return self->sync_error;
}

/**
 * patches_doc_get_loaded:
 * @self: a #PatchesDoc
 *
 * Returns: whether the document has data (latched, PROTOCOL.md §4.11)
 */
gboolean
patches_doc_get_loaded (PatchesDoc *self)
{
  g_return_val_if_fail (PATCHES_IS_DOC (self), FALSE);

  return self->loaded;
}

/**
 * patches_doc_change:
 * @self: a #PatchesDoc
 * @patch: the edit, built with the patches_patch_*() builder
 * @error: return location for a #GError
 *
 * Makes a local edit (PROTOCOL.md §8.2).  The patch is applied strictly to
 * the optimistic state; if any op fails, nothing changes and the error is
 * returned.  Otherwise a change is minted (a new id, `baseRev` = the
 * committed revision, `rev` = the last pending rev or the committed
 * revision, plus one, `createdAt` = now in ms, `committedAt` = 0 and the
 * client's metadata), saved by the owning #PatchesClient's store if the
 * document was opened through one (a save failure undoes the edit and is
 * returned), appended to the pending list, and announced by ::update
 * (with @local %TRUE) then ::changed.
 *
 * An empty patch does nothing and returns %NULL without an error.
 *
 * Returns: (transfer full) (nullable): the change, or %NULL
 */
PatchesChange *
patches_doc_change (PatchesDoc    *self,
                    PatchesPatch  *patch,
                    GError       **error)
{
  g_autoptr(PatchesChange) change = NULL;
  g_autoptr(PatchesPatch) applied = NULL;
  g_autoptr(GPtrArray) ops = NULL;
  PatchesValue *view;
  gint64 rev;

  g_return_val_if_fail (PATCHES_IS_DOC (self), NULL);
  g_return_val_if_fail (patch != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (patches_patch_is_empty (patch))
    return NULL;

  /* Our own op list: the caller may keep building on @patch. */
  ops = ops_copy_container (patches_patch_get_ops (patch));

  /* In place when nothing else holds the view: a keystroke must not copy
   * the document.  On failure the view is left as it was. */
  view = g_steal_pointer (&self->state);
  if (!patches_ops_apply (ops, &view, PATCHES_APPLY_STRICT, NULL, NULL, error))
    {
      self->state = view;
      return NULL;
    }
  self->state = view;

  if (self->pending->len > 0)
    rev = ((PatchesChange *) g_ptr_array_index (self->pending, self->pending->len - 1))->rev + 1;
  else
    rev = self->committed_rev + 1;

  change = patches_change_new (NULL, self->committed_rev, rev,
                               ops_copy_container (ops),
                               (double) (g_get_real_time () / 1000));
  if (self->change_metadata != NULL)
    change->metadata = patches_value_ref (self->change_metadata);

  if (self->persist_func != NULL &&
      !self->persist_func (self, change, self->persist_data, error))
    {
      /* Roll back: what listeners saw is the committed state with the
       * (unchanged) pending list applied. */
      g_clear_pointer (&self->state, patches_value_unref);
      self->state = build_view (self->id, self->committed, self->committed_rev, self->pending);
      return NULL;
    }

  g_object_ref (self);
  g_object_freeze_notify (G_OBJECT (self));

  g_ptr_array_add (self->pending, patches_change_ref (change));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_PENDING]);
  if (self->pending->len == 1)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_PENDING]);
  update_loaded (self);

  g_object_thaw_notify (G_OBJECT (self));

  applied = patches_patch_new_take (g_steal_pointer (&ops));
  g_signal_emit (self, signals[UPDATE], 0, applied, TRUE);
  g_signal_emit (self, signals[CHANGED], 0, change);

  g_object_unref (self);

  return g_steal_pointer (&change);
}
