/* notes-undo-manager.c
 *
 * Undo/redo of the user's own edits.
 *
 * The undo stack holds, for each step, the patch that reverts it, as it
 * applies to the document's current state; the redo stack the patch that
 * does it again.  A local change recorded through
 * notes_undo_manager_change() pushes its inverse (or joins the step on
 * top, for typing).  Any other update of the document — a collaborator's
 * committed change, an edit made elsewhere in the app — is not undoable:
 * every entry is transformed over it, top to bottom, the update counting
 * as committed first (patches_patch_transform (update, entry, FALSE)),
 * and the update itself is advanced past each entry on the way down the
 * stack (patches_patch_transform (entry, update, TRUE), as the client's
 * rebase advances committed ops through its pending queue).  An entry
 * left with nothing to do is dropped.
 *
 * Undo applies the top entry through patches_doc_change(), so an undo is
 * an ordinary change that syncs like any other, and pushes its inverse,
 * computed against the state just before, onto the redo stack.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "notes-undo-manager.h"

#include "patches-patch.h"

/* Older steps are forgotten past this many. */
#define MAX_STEPS 500

#define DEFAULT_MERGE_INTERVAL_MS 500

typedef struct {
  PatchesPatch   *patch;
  NotesUndoMerge  merge;
  gint64          time;
} Entry;

struct _NotesUndoManager
{
  GObject              parent_instance;

  PatchesDoc          *doc;
  gulong               update_handler;

  GPtrArray           *undo_stack;
  GPtrArray           *redo_stack;
  guint                merge_interval;

  /* > 0 while our own change is being applied */
  guint                busy;
  /* the step on top of the undo stack may take more changes */
  gboolean             can_merge;
  guint                group_depth;
  gboolean             group_has_change;

  NotesUndoInvertFunc  invert_func;
  gpointer             invert_data;
  GDestroyNotify       invert_destroy;
};

enum {
  PROP_0,
  PROP_DOC,
  PROP_CAN_UNDO,
  PROP_CAN_REDO,
  PROP_MERGE_INTERVAL,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (NotesUndoManager, notes_undo_manager, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_clear_pointer (&entry->patch, patches_patch_unref);
  g_free (entry);
}

static Entry *
entry_new (PatchesPatch   *patch,
           NotesUndoMerge  merge)
{
  Entry *entry = g_new0 (Entry, 1);

  entry->patch = patch;
  entry->merge = merge;
  entry->time = g_get_monotonic_time ();

  return entry;
}

/* Whether applying @patch would change nothing: no ops, or only `@txt`
 * ops that retain without formatting. */
static gboolean
patch_is_noop (PatchesPatch *patch)
{
  guint n = patches_patch_get_n_ops (patch);

  for (guint i = 0; i < n; i++)
    {
      PatchesOp *op = patches_patch_get_op (patch, i);
      const PatchesDelta *delta;

      if (op->kind != PATCHES_OP_TXT)
        return FALSE;
      delta = patches_op_get_delta (op);
      if (delta == NULL)
        return FALSE;
      for (guint j = 0; j < patches_delta_get_n_ops (delta); j++)
        {
          const PatchesDeltaOp *dop = patches_delta_get_op (delta, j);

          if (dop->kind != PATCHES_DELTA_RETAIN || dop->attributes != NULL)
            return FALSE;
        }
    }

  return TRUE;
}

typedef struct {
  gboolean can_undo;
  gboolean can_redo;
} State;

static State
state_get (NotesUndoManager *self)
{
  return (State) { self->undo_stack->len > 0, self->redo_stack->len > 0 };
}

static void
state_notify (NotesUndoManager *self,
              State             before)
{
  State now = state_get (self);

  if (now.can_undo != before.can_undo)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_UNDO]);
  if (now.can_redo != before.can_redo)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_REDO]);
}

static void
transform_stack (GPtrArray    *stack,
                 PatchesPatch *update)
{
  g_autoptr(PatchesPatch) remote = patches_patch_ref (update);

  for (guint i = stack->len; i-- > 0;)
    {
      Entry *entry = g_ptr_array_index (stack, i);
      PatchesPatch *mine = patches_patch_transform (remote, entry->patch, FALSE);

      if (i > 0)
        {
          PatchesPatch *advanced = patches_patch_transform (entry->patch, remote, TRUE);

          patches_patch_unref (remote);
          remote = advanced;
        }

      patches_patch_unref (entry->patch);
      entry->patch = mine;

      if (patch_is_noop (entry->patch))
        g_ptr_array_remove_index (stack, i);
    }
}

static void
on_doc_update (PatchesDoc       *doc,
               PatchesPatch     *ops,
               gboolean          local,
               NotesUndoManager *self)
{
  State before;

  if (self->busy > 0 || ops == NULL)
    return;

  before = state_get (self);
  transform_stack (self->undo_stack, ops);
  transform_stack (self->redo_stack, ops);
  state_notify (self, before);
}

static PatchesPatch *
invert (NotesUndoManager  *self,
        PatchesPatch      *patch,
        GError           **error)
{
  PatchesPatch *inverse = NULL;

  if (self->invert_func != NULL)
    inverse = self->invert_func (self, patch, self->invert_data);
  if (inverse == NULL)
    inverse = patches_patch_invert (patch, patches_doc_get_state (self->doc), error);

  return inverse;
}

static void
trim (GPtrArray *stack)
{
  if (stack->len > MAX_STEPS)
    g_ptr_array_remove_range (stack, 0, stack->len - MAX_STEPS);
}

static void
notes_undo_manager_set_doc (NotesUndoManager *self,
                            PatchesDoc       *doc)
{
  self->doc = g_object_ref (doc);
  self->update_handler = g_signal_connect (doc, "update", G_CALLBACK (on_doc_update), self);
}

static void
notes_undo_manager_dispose (GObject *object)
{
  NotesUndoManager *self = NOTES_UNDO_MANAGER (object);

  if (self->doc != NULL)
    g_clear_signal_handler (&self->update_handler, self->doc);
  g_clear_object (&self->doc);
  notes_undo_manager_set_invert_func (self, NULL, NULL, NULL);

  G_OBJECT_CLASS (notes_undo_manager_parent_class)->dispose (object);
}

static void
notes_undo_manager_finalize (GObject *object)
{
  NotesUndoManager *self = NOTES_UNDO_MANAGER (object);

  g_clear_pointer (&self->undo_stack, g_ptr_array_unref);
  g_clear_pointer (&self->redo_stack, g_ptr_array_unref);

  G_OBJECT_CLASS (notes_undo_manager_parent_class)->finalize (object);
}

static void
notes_undo_manager_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  NotesUndoManager *self = NOTES_UNDO_MANAGER (object);

  switch (prop_id)
    {
    case PROP_DOC:
      g_value_set_object (value, self->doc);
      break;

    case PROP_CAN_UNDO:
      g_value_set_boolean (value, notes_undo_manager_get_can_undo (self));
      break;

    case PROP_CAN_REDO:
      g_value_set_boolean (value, notes_undo_manager_get_can_redo (self));
      break;

    case PROP_MERGE_INTERVAL:
      g_value_set_uint (value, self->merge_interval);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_undo_manager_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  NotesUndoManager *self = NOTES_UNDO_MANAGER (object);

  switch (prop_id)
    {
    case PROP_DOC:
      notes_undo_manager_set_doc (self, g_value_get_object (value));
      break;

    case PROP_MERGE_INTERVAL:
      notes_undo_manager_set_merge_interval (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_undo_manager_class_init (NotesUndoManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = notes_undo_manager_dispose;
  object_class->finalize = notes_undo_manager_finalize;
  object_class->get_property = notes_undo_manager_get_property;
  object_class->set_property = notes_undo_manager_set_property;

  /**
   * NotesUndoManager:doc:
   *
   * The document whose local edits are undone.
   */
  properties[PROP_DOC] =
    g_param_spec_object ("doc", NULL, NULL,
                         PATCHES_TYPE_DOC,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesUndoManager:can-undo:
   *
   * Whether there is a step to undo.
   */
  properties[PROP_CAN_UNDO] =
    g_param_spec_boolean ("can-undo", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesUndoManager:can-redo:
   *
   * Whether there is a step to redo.
   */
  properties[PROP_CAN_REDO] =
    g_param_spec_boolean ("can-redo", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesUndoManager:merge-interval:
   *
   * Changes of one kind that follow each other within this many
   * milliseconds join one undo step.
   */
  properties[PROP_MERGE_INTERVAL] =
    g_param_spec_uint ("merge-interval", NULL, NULL,
                       0, G_MAXUINT, DEFAULT_MERGE_INTERVAL_MS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
notes_undo_manager_init (NotesUndoManager *self)
{
  self->undo_stack = g_ptr_array_new_with_free_func (entry_free);
  self->redo_stack = g_ptr_array_new_with_free_func (entry_free);
  self->merge_interval = DEFAULT_MERGE_INTERVAL_MS;
}

/**
 * notes_undo_manager_new:
 * @doc: the document
 *
 * Returns: (transfer full): a new undo manager for the local edits of @doc
 */
NotesUndoManager *
notes_undo_manager_new (PatchesDoc *doc)
{
  g_return_val_if_fail (PATCHES_IS_DOC (doc), NULL);

  return g_object_new (NOTES_TYPE_UNDO_MANAGER,
                       "doc", doc,
                       NULL);
}

/**
 * notes_undo_manager_get_doc:
 * @self: a #NotesUndoManager
 *
 * Returns: (transfer none): the document
 */
PatchesDoc *
notes_undo_manager_get_doc (NotesUndoManager *self)
{
  g_return_val_if_fail (NOTES_IS_UNDO_MANAGER (self), NULL);

  return self->doc;
}

/**
 * notes_undo_manager_get_can_undo:
 * @self: a #NotesUndoManager
 *
 * Returns: whether there is a step to undo
 */
gboolean
notes_undo_manager_get_can_undo (NotesUndoManager *self)
{
  g_return_val_if_fail (NOTES_IS_UNDO_MANAGER (self), FALSE);

  return self->undo_stack->len > 0;
}

/**
 * notes_undo_manager_get_can_redo:
 * @self: a #NotesUndoManager
 *
 * Returns: whether there is a step to redo
 */
gboolean
notes_undo_manager_get_can_redo (NotesUndoManager *self)
{
  g_return_val_if_fail (NOTES_IS_UNDO_MANAGER (self), FALSE);

  return self->redo_stack->len > 0;
}

/**
 * notes_undo_manager_get_n_undo:
 * @self: a #NotesUndoManager
 *
 * Returns: the number of steps that can be undone
 */
guint
notes_undo_manager_get_n_undo (NotesUndoManager *self)
{
  g_return_val_if_fail (NOTES_IS_UNDO_MANAGER (self), 0);

  return self->undo_stack->len;
}

/**
 * notes_undo_manager_get_n_redo:
 * @self: a #NotesUndoManager
 *
 * Returns: the number of steps that can be redone
 */
guint
notes_undo_manager_get_n_redo (NotesUndoManager *self)
{
  g_return_val_if_fail (NOTES_IS_UNDO_MANAGER (self), 0);

  return self->redo_stack->len;
}

/**
 * notes_undo_manager_get_merge_interval:
 * @self: a #NotesUndoManager
 *
 * Returns: the merge interval in milliseconds
 */
guint
notes_undo_manager_get_merge_interval (NotesUndoManager *self)
{
  g_return_val_if_fail (NOTES_IS_UNDO_MANAGER (self), 0);

  return self->merge_interval;
}

/**
 * notes_undo_manager_set_merge_interval:
 * @self: a #NotesUndoManager
 * @interval_ms: the interval in milliseconds
 *
 * Sets how close in time two changes of the same kind must be to join
 * one undo step (changes inside one word join regardless).
 */
void
notes_undo_manager_set_merge_interval (NotesUndoManager *self,
                                       guint             interval_ms)
{
  g_return_if_fail (NOTES_IS_UNDO_MANAGER (self));

  if (self->merge_interval == interval_ms)
    return;

  self->merge_interval = interval_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MERGE_INTERVAL]);
}

/**
 * notes_undo_manager_set_invert_func:
 * @self: a #NotesUndoManager
 * @func: (nullable): the function, or %NULL for patches_patch_invert() only
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * Sets a function that inverts patches before undo and redo, tried
 * before patches_patch_invert().
 */
void
notes_undo_manager_set_invert_func (NotesUndoManager    *self,
                                    NotesUndoInvertFunc  func,
                                    gpointer             user_data,
                                    GDestroyNotify       destroy)
{
  g_return_if_fail (NOTES_IS_UNDO_MANAGER (self));

  if (self->invert_destroy != NULL)
    self->invert_destroy (self->invert_data);

  self->invert_func = func;
  self->invert_data = user_data;
  self->invert_destroy = destroy;
}

static void
record (NotesUndoManager *self,
        PatchesPatch     *inverse,
        NotesUndoMerge    merge,
        gboolean          same_word)
{
  Entry *top = self->undo_stack->len > 0
    ? g_ptr_array_index (self->undo_stack, self->undo_stack->len - 1)
    : NULL;
  gint64 now = g_get_monotonic_time ();
  gboolean join = FALSE;

  if (top != NULL)
    {
      /* Inside a group, every change after the first joins its step */
      if (self->group_depth > 0 && self->group_has_change)
        join = TRUE;
      else if (self->can_merge && merge != NOTES_UNDO_MERGE_NEVER && top->merge == merge &&
               (now - top->time < (gint64) self->merge_interval * 1000 || same_word))
        join = TRUE;
    }

  if (join)
    {
      g_autoptr(PatchesPatch) both = patches_patch_copy (inverse);
      PatchesPatch *composed;

      /* The newer change is reverted first */
      patches_patch_concat (both, top->patch);
      composed = patches_patch_compose (both, NULL);
      patches_patch_unref (top->patch);
      top->patch = composed != NULL ? composed : g_steal_pointer (&both);
      top->merge = merge;
      top->time = now;
    }
  else
    {
      g_ptr_array_add (self->undo_stack, entry_new (patches_patch_ref (inverse), merge));
      trim (self->undo_stack);
    }

  self->can_merge = TRUE;
  if (self->group_depth > 0)
    self->group_has_change = TRUE;
  g_ptr_array_set_size (self->redo_stack, 0);
}

/**
 * notes_undo_manager_change:
 * @self: a #NotesUndoManager
 * @patch: a local edit
 * @inverse: (nullable): the patch that reverts @patch, or %NULL to
 *   compute it against the current state
 * @merge: whether the edit may join the step before it
 * @same_word: the edit continues the word of the previous one (it joins
 *   regardless of the merge interval)
 * @error: return location for a #GError
 *
 * Applies @patch to the document with patches_doc_change() and records
 * it as an undo step.  The redo stack is cleared.
 *
 * Returns: (transfer full) (nullable): the change, or %NULL on failure
 *   with @error set (or for an empty @patch, with no error)
 */
PatchesChange *
notes_undo_manager_change (NotesUndoManager  *self,
                           PatchesPatch      *patch,
                           PatchesPatch      *inverse,
                           NotesUndoMerge     merge,
                           gboolean           same_word,
                           GError           **error)
{
  g_autoptr(PatchesPatch) computed = NULL;
  g_autoptr(PatchesChange) change = NULL;
  State before;

  g_return_val_if_fail (NOTES_IS_UNDO_MANAGER (self), NULL);
  g_return_val_if_fail (patch != NULL, NULL);

  if (patches_patch_is_empty (patch))
    return NULL;

  if (inverse == NULL)
    {
      computed = invert (self, patch, error);
      if (computed == NULL)
        return NULL;
      inverse = computed;
    }

  self->busy++;
  change = patches_doc_change (self->doc, patch, error);
  self->busy--;

  if (change == NULL)
    return NULL;

  before = state_get (self);
  record (self, inverse, merge, same_word);
  state_notify (self, before);

  return g_steal_pointer (&change);
}

static gboolean
step (NotesUndoManager  *self,
      GPtrArray         *from,
      GPtrArray         *to,
      GError           **error)
{
  g_autoptr(PatchesPatch) patch = NULL;
  g_autoptr(PatchesPatch) back = NULL;
  g_autoptr(PatchesChange) change = NULL;
  g_autoptr(GError) local_error = NULL;
  Entry *entry;
  State before;

  if (from->len == 0)
    return FALSE;

  before = state_get (self);
  entry = g_ptr_array_index (from, from->len - 1);
  patch = patches_patch_ref (entry->patch);

  back = invert (self, patch, &local_error);
  if (back == NULL)
    {
      /* An entry that cannot be inverted can never be applied either */
      g_ptr_array_remove_index (from, from->len - 1);
      state_notify (self, before);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  self->busy++;
  change = patches_doc_change (self->doc, patch, &local_error);
  self->busy--;

  if (change == NULL && local_error != NULL)
    {
      g_ptr_array_remove_index (from, from->len - 1);
      state_notify (self, before);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_ptr_array_remove_index (from, from->len - 1);
  g_ptr_array_add (to, entry_new (g_steal_pointer (&back), NOTES_UNDO_MERGE_NEVER));
  trim (to);
  self->can_merge = FALSE;
  state_notify (self, before);

  return TRUE;
}

/**
 * notes_undo_manager_undo:
 * @self: a #NotesUndoManager
 * @error: return location for a #GError
 *
 * Reverts the last step of the user's own edits, with the edits of others
 * made since left in place.
 *
 * Returns: %TRUE if a step was undone; %FALSE with @error set on failure
 *   (the step is dropped), or without error when there was nothing to undo
 */
gboolean
notes_undo_manager_undo (NotesUndoManager  *self,
                         GError           **error)
{
  g_return_val_if_fail (NOTES_IS_UNDO_MANAGER (self), FALSE);

  return step (self, self->undo_stack, self->redo_stack, error);
}

/**
 * notes_undo_manager_redo:
 * @self: a #NotesUndoManager
 * @error: return location for a #GError
 *
 * Does the last undone step again.
 *
 * Returns: %TRUE if a step was redone; %FALSE with @error set on failure,
 *   or without error when there was nothing to redo
 */
gboolean
notes_undo_manager_redo (NotesUndoManager  *self,
                         GError           **error)
{
  g_return_val_if_fail (NOTES_IS_UNDO_MANAGER (self), FALSE);

  return step (self, self->redo_stack, self->undo_stack, error);
}

/**
 * notes_undo_manager_begin_group:
 * @self: a #NotesUndoManager
 *
 * Starts a group: the changes recorded until the matching
 * notes_undo_manager_end_group() form one step with the first of them
 * (a deleted selection and the text typed over it).  Groups nest.
 */
void
notes_undo_manager_begin_group (NotesUndoManager *self)
{
  g_return_if_fail (NOTES_IS_UNDO_MANAGER (self));

  if (self->group_depth++ == 0)
    self->group_has_change = FALSE;
}

/**
 * notes_undo_manager_end_group:
 * @self: a #NotesUndoManager
 *
 * Ends a group started with notes_undo_manager_begin_group().
 */
void
notes_undo_manager_end_group (NotesUndoManager *self)
{
  g_return_if_fail (NOTES_IS_UNDO_MANAGER (self));
  g_return_if_fail (self->group_depth > 0);

  if (--self->group_depth == 0)
    self->group_has_change = FALSE;
}

/**
 * notes_undo_manager_break_merge:
 * @self: a #NotesUndoManager
 *
 * Makes the next change start a step of its own (after the cursor moved,
 * for instance).
 */
void
notes_undo_manager_break_merge (NotesUndoManager *self)
{
  g_return_if_fail (NOTES_IS_UNDO_MANAGER (self));

  self->can_merge = FALSE;
}

/**
 * notes_undo_manager_clear:
 * @self: a #NotesUndoManager
 *
 * Forgets every step.
 */
void
notes_undo_manager_clear (NotesUndoManager *self)
{
  State before;

  g_return_if_fail (NOTES_IS_UNDO_MANAGER (self));

  before = state_get (self);
  g_ptr_array_set_size (self->undo_stack, 0);
  g_ptr_array_set_size (self->redo_stack, 0);
  self->can_merge = FALSE;
  state_notify (self, before);
}
