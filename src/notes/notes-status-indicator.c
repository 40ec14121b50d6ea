/* notes-status-indicator.c
 *
 * Follows a #PatchesSync (online, connected, connection-state,
 * sync-status, sync-error, next-retry-time) and a #NotesNotebook
 * (n-pending).  The countdown to the next reconnect attempt ticks once
 * a second, and only while there is one to wait for.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "notes-status-indicator.h"

struct _NotesStatusIndicator
{
  GtkWidget      parent_instance;

  PatchesSync   *sync;
  NotesNotebook *notebook;
  gboolean       work_offline;
  guint          countdown;

  /* Template widgets */
  GtkWidget     *box;
  GtkSpinner    *spinner;
  GtkImage      *connection_icon;
  GtkLabel      *connection_label;
  GtkLabel      *saved_label;
  GtkMenuButton *error_button;
  GtkLabel      *error_label;
  GtkButton     *retry_button;
};

enum {
  PROP_0,
  PROP_SYNC,
  PROP_NOTEBOOK,
  PROP_WORK_OFFLINE,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (NotesStatusIndicator, notes_status_indicator, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];

static void notes_status_indicator_update (NotesStatusIndicator *self);

static gboolean
notes_status_indicator_countdown_cb (gpointer user_data)
{
  NotesStatusIndicator *self = user_data;

  notes_status_indicator_update (self);

  return self->countdown != 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
notes_status_indicator_set_countdown (NotesStatusIndicator *self,
                                      gboolean              running)
{
  if (running && self->countdown == 0)
    self->countdown = g_timeout_add_seconds (1, notes_status_indicator_countdown_cb, self);
  else if (!running && self->countdown != 0)
    {
      /* From inside the callback, returning G_SOURCE_REMOVE ends it */
      GSource *current = g_main_current_source ();

      if (current != NULL && g_source_get_id (current) == self->countdown)
        self->countdown = 0;
      else
        g_clear_handle_id (&self->countdown, g_source_remove);
    }
}

static void
notes_status_indicator_update_connection (NotesStatusIndicator *self)
{
  g_autofree char *text = NULL;
  const char *icon_name;
  const char *tooltip;
  gboolean counting_down = FALSE;

  if (self->sync == NULL || self->work_offline || !patches_sync_get_online (self->sync))
    {
      text = g_strdup (_("Offline"));
      icon_name = "network-offline-symbolic";
      tooltip = self->work_offline
        ? _("Working offline: changes are saved on this device")
        : _("No network: changes are saved on this device");
    }
  else if (patches_sync_get_connected (self->sync))
    {
      text = g_strdup (_("Connected"));
      icon_name = "network-transmit-receive-symbolic";
      tooltip = _("Connected to the server");
    }
  else if (patches_sync_get_connection_state (self->sync) == PATCHES_CONNECTION_STATE_CONNECTING)
    {
      text = g_strdup (_("Connecting…"));
      icon_name = "network-idle-symbolic";
      tooltip = _("Connecting to the server");
    }
  else if (patches_sync_get_next_retry_time (self->sync) > 0)
    {
      gint64 wait = patches_sync_get_next_retry_time (self->sync) - g_get_monotonic_time ();
      guint seconds = (guint) MAX (1, (wait + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);

      /* Translators: %u is a number of seconds */
      text = g_strdup_printf (_("Connecting in %u s…"), seconds);
      icon_name = "network-idle-symbolic";
      tooltip = _("The server cannot be reached; trying again soon");
      counting_down = TRUE;
    }
  else
    {
      text = g_strdup (_("Not connected"));
      icon_name = "network-error-symbolic";
      tooltip = _("Not connected to the server");
    }

  notes_status_indicator_set_countdown (self, counting_down);

  if (g_strcmp0 (gtk_label_get_label (self->connection_label), text) != 0)
    gtk_label_set_label (self->connection_label, text);
  gtk_image_set_from_icon_name (self->connection_icon, icon_name);
  gtk_widget_set_tooltip_text (self->box, tooltip);
}

static void
notes_status_indicator_update_sync (NotesStatusIndicator *self)
{
  PatchesSyncStatus status = self->sync ? patches_sync_get_sync_status (self->sync) : PATCHES_SYNC_STATUS_UNSYNCED;
  guint n_pending = self->notebook ? notes_notebook_get_n_pending (self->notebook) : 0;
  g_autofree char *saved = NULL;
  gboolean syncing = (status == PATCHES_SYNC_STATUS_SYNCING);
  gboolean failed = (status == PATCHES_SYNC_STATUS_ERROR);

  gtk_widget_set_visible (GTK_WIDGET (self->spinner), syncing);
  gtk_spinner_set_spinning (self->spinner, syncing);

  if (n_pending == 0)
    saved = g_strdup (_("All changes saved"));
  else
    saved = g_strdup_printf (ngettext ("%u change waiting", "%u changes waiting", n_pending),
                             n_pending);
  if (g_strcmp0 (gtk_label_get_label (self->saved_label), saved) != 0)
    gtk_label_set_label (self->saved_label, saved);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->saved_label),
                               n_pending == 0
                               ? _("Every change is saved on this device and sent to the server")
                               : _("Changes are saved on this device and wait to be sent to the server"));

  gtk_widget_set_visible (GTK_WIDGET (self->error_button), failed);
  if (failed)
    {
      const GError *error = patches_sync_get_sync_error (self->sync);

      gtk_label_set_label (self->error_label,
                           error != NULL ? error->message : _("The last sync failed."));
    }
  else
    {
      gtk_menu_button_popdown (self->error_button);
    }
}

static void
notes_status_indicator_update (NotesStatusIndicator *self)
{
  notes_status_indicator_update_connection (self);
  notes_status_indicator_update_sync (self);
}

static void
notes_status_indicator_sync_notify_cb (GObject              *object,
                                       GParamSpec           *pspec,
                                       NotesStatusIndicator *self)
{
  notes_status_indicator_update (self);
}

static void
notes_status_indicator_retry_cb (NotesStatusIndicator *self,
                                 GtkButton            *button)
{
  gtk_menu_button_popdown (self->error_button);
  if (self->sync != NULL)
    patches_sync_retry_now (self->sync);
}

static void
notes_status_indicator_dispose (GObject *object)
{
  NotesStatusIndicator *self = NOTES_STATUS_INDICATOR (object);

  g_clear_handle_id (&self->countdown, g_source_remove);
  if (self->sync != NULL)
    g_signal_handlers_disconnect_by_data (self->sync, self);
  g_clear_object (&self->sync);
  if (self->notebook != NULL)
    g_signal_handlers_disconnect_by_data (self->notebook, self);
  g_clear_object (&self->notebook);

  gtk_widget_dispose_template (GTK_WIDGET (self), NOTES_TYPE_STATUS_INDICATOR);

  G_OBJECT_CLASS (notes_status_indicator_parent_class)->dispose (object);
}

static void
notes_status_indicator_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  NotesStatusIndicator *self = NOTES_STATUS_INDICATOR (object);

  switch (prop_id)
    {
    case PROP_SYNC:
      g_value_set_object (value, self->sync);
      break;

    case PROP_NOTEBOOK:
      g_value_set_object (value, self->notebook);
      break;

    case PROP_WORK_OFFLINE:
      g_value_set_boolean (value, self->work_offline);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_status_indicator_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  NotesStatusIndicator *self = NOTES_STATUS_INDICATOR (object);

  switch (prop_id)
    {
    case PROP_SYNC:
      notes_status_indicator_set_sync (self, g_value_get_object (value));
      break;

    case PROP_NOTEBOOK:
      notes_status_indicator_set_notebook (self, g_value_get_object (value));
      break;

    case PROP_WORK_OFFLINE:
      notes_status_indicator_set_work_offline (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_status_indicator_class_init (NotesStatusIndicatorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = notes_status_indicator_dispose;
  object_class->get_property = notes_status_indicator_get_property;
  object_class->set_property = notes_status_indicator_set_property;

  /**
   * NotesStatusIndicator:sync:
   *
   * The sync engine whose state is shown.
   */
  properties[PROP_SYNC] =
    g_param_spec_object ("sync", NULL, NULL,
                         PATCHES_TYPE_SYNC,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesStatusIndicator:notebook:
   *
   * The notebook whose waiting changes are counted.
   */
  properties[PROP_NOTEBOOK] =
    g_param_spec_object ("notebook", NULL, NULL,
                         NOTES_TYPE_NOTEBOOK,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesStatusIndicator:work-offline:
   *
   * Whether the person chose to work offline (shown as "Offline").
   */
  properties[PROP_WORK_OFFLINE] =
    g_param_spec_boolean ("work-offline", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, APPLICATION_PATH "/ui/notes-status-indicator.ui");
  gtk_widget_class_bind_template_child (widget_class, NotesStatusIndicator, box);
  gtk_widget_class_bind_template_child (widget_class, NotesStatusIndicator, spinner);
  gtk_widget_class_bind_template_child (widget_class, NotesStatusIndicator, connection_icon);
  gtk_widget_class_bind_template_child (widget_class, NotesStatusIndicator, connection_label);
  gtk_widget_class_bind_template_child (widget_class, NotesStatusIndicator, saved_label);
  gtk_widget_class_bind_template_child (widget_class, NotesStatusIndicator, error_button);
  gtk_widget_class_bind_template_child (widget_class, NotesStatusIndicator, error_label);
  gtk_widget_class_bind_template_child (widget_class, NotesStatusIndicator, retry_button);
  gtk_widget_class_bind_template_callback (widget_class, notes_status_indicator_retry_cb);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "statusindicator");
}

static void
notes_status_indicator_init (NotesStatusIndicator *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_accessible_update_property (GTK_ACCESSIBLE (self->error_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Sync problem"),
                                  -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->spinner),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Syncing"),
                                  -1);

  notes_status_indicator_update (self);
}

/**
 * notes_status_indicator_new:
 *
 * Returns: (transfer floating): a new status indicator
 */
GtkWidget *
notes_status_indicator_new (void)
{
  return g_object_new (NOTES_TYPE_STATUS_INDICATOR, NULL);
}

/**
 * notes_status_indicator_get_sync:
 * @self: a #NotesStatusIndicator
 *
 * Returns: (transfer none) (nullable): the sync engine shown
 */
PatchesSync *
notes_status_indicator_get_sync (NotesStatusIndicator *self)
{
  g_return_val_if_fail (NOTES_IS_STATUS_INDICATOR (self), NULL);

  return self->sync;
}

/**
 * notes_status_indicator_set_sync:
 * @self: a #NotesStatusIndicator
 * @sync: (nullable): the sync engine to show
 *
 * Follows @sync.
 */
void
notes_status_indicator_set_sync (NotesStatusIndicator *self,
                                 PatchesSync          *sync)
{
  static const char * const names[] = {
    "notify::online", "notify::connected", "notify::connection-state",
    "notify::sync-status", "notify::sync-error", "notify::next-retry-time",
  };

  g_return_if_fail (NOTES_IS_STATUS_INDICATOR (self));
  g_return_if_fail (sync == NULL || PATCHES_IS_SYNC (sync));

  if (self->sync == sync)
    return;

  if (self->sync != NULL)
    g_signal_handlers_disconnect_by_data (self->sync, self);
  g_set_object (&self->sync, sync);
  if (sync != NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        g_signal_connect (sync, names[i], G_CALLBACK (notes_status_indicator_sync_notify_cb), self);
    }

  notes_status_indicator_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNC]);
}

/**
 * notes_status_indicator_get_notebook:
 * @self: a #NotesStatusIndicator
 *
 * Returns: (transfer none) (nullable): the notebook whose changes are counted
 */
NotesNotebook *
notes_status_indicator_get_notebook (NotesStatusIndicator *self)
{
  g_return_val_if_fail (NOTES_IS_STATUS_INDICATOR (self), NULL);

  return self->notebook;
}

/**
 * notes_status_indicator_set_notebook:
 * @self: a #NotesStatusIndicator
 * @notebook: (nullable): the notebook whose waiting changes to count
 *
 * Counts the changes of @notebook that wait to be sent.
 */
void
notes_status_indicator_set_notebook (NotesStatusIndicator *self,
                                     NotesNotebook        *notebook)
{
  g_return_if_fail (NOTES_IS_STATUS_INDICATOR (self));
  g_return_if_fail (notebook == NULL || NOTES_IS_NOTEBOOK (notebook));

  if (self->notebook == notebook)
    return;

  if (self->notebook != NULL)
    g_signal_handlers_disconnect_by_data (self->notebook, self);
  g_set_object (&self->notebook, notebook);
  if (notebook != NULL)
    g_signal_connect (notebook, "notify::n-pending",
                      G_CALLBACK (notes_status_indicator_sync_notify_cb), self);

  notes_status_indicator_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NOTEBOOK]);
}

/**
 * notes_status_indicator_get_work_offline:
 * @self: a #NotesStatusIndicator
 *
 * Returns: whether "work offline" is shown
 */
gboolean
notes_status_indicator_get_work_offline (NotesStatusIndicator *self)
{
  g_return_val_if_fail (NOTES_IS_STATUS_INDICATOR (self), FALSE);

  return self->work_offline;
}

/**
 * notes_status_indicator_set_work_offline:
 * @self: a #NotesStatusIndicator
 * @work_offline: whether the person chose to work offline
 *
 * Shows "Offline" while @work_offline is set.
 */
void
notes_status_indicator_set_work_offline (NotesStatusIndicator *self,
                                         gboolean              work_offline)
{
  g_return_if_fail (NOTES_IS_STATUS_INDICATOR (self));

  work_offline = !!work_offline;
  if (self->work_offline == work_offline)
    return;

  self->work_offline = work_offline;
  notes_status_indicator_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WORK_OFFLINE]);
}

/**
 * notes_status_indicator_get_connection_text:
 * @self: a #NotesStatusIndicator
 *
 * Returns: the connection state as shown ("Connected", "Offline", …)
 */
const char *
notes_status_indicator_get_connection_text (NotesStatusIndicator *self)
{
  g_return_val_if_fail (NOTES_IS_STATUS_INDICATOR (self), NULL);

  return gtk_label_get_label (self->connection_label);
}

/**
 * notes_status_indicator_get_saved_text:
 * @self: a #NotesStatusIndicator
 *
 * Returns: the saved state as shown ("All changes saved", …)
 */
const char *
notes_status_indicator_get_saved_text (NotesStatusIndicator *self)
{
  g_return_val_if_fail (NOTES_IS_STATUS_INDICATOR (self), NULL);

  return gtk_label_get_label (self->saved_label);
}
