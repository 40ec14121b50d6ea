/* notes-preferences-window.c
 *
 * Entry rows apply on Enter or their apply button; the server address is
 * checked (ws:// or wss://) before it is saved.  The Connect switch is
 * the inverse of "work offline".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "notes-preferences-window.h"

struct _NotesPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  NotesApplication     *application;

  /* Template widgets */
  AdwEntryRow          *server_row;
  AdwEntryRow          *token_row;
  AdwEntryRow          *name_row;
  GtkSwitch            *connect_switch;
};

enum {
  PROP_0,
  PROP_APPLICATION,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (NotesPreferencesWindow, notes_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static GParamSpec *properties[N_PROPS];

static gboolean
notes_preferences_window_url_is_valid (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  return uri != NULL &&
         g_uri_get_host (uri) != NULL && g_uri_get_host (uri)[0] != '\0' &&
         (g_str_equal (g_uri_get_scheme (uri), "ws") || g_str_equal (g_uri_get_scheme (uri), "wss"));
}

static void
notes_preferences_window_server_apply_cb (NotesPreferencesWindow *self,
                                          AdwEntryRow            *row)
{
  const char *url = gtk_editable_get_text (GTK_EDITABLE (row));
  GSettings *settings = notes_application_get_settings (self->application);

  if (!notes_preferences_window_url_is_valid (url))
    {
      gtk_widget_add_css_class (GTK_WIDGET (row), "error");
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                        adw_toast_new (_("The server address must start with ws:// or wss://")));
      return;
    }

  gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
  if (settings != NULL)
    g_settings_set_string (settings, "server-url", url);

  /* A --server given for this run gives way to the one chosen here */
  if (g_strcmp0 (notes_application_get_server_url (self->application), url) != 0)
    notes_application_set_server_url (self->application, url);
}

static void
notes_preferences_window_token_apply_cb (NotesPreferencesWindow *self,
                                         AdwEntryRow            *row)
{
  notes_application_set_token (self->application, gtk_editable_get_text (GTK_EDITABLE (row)));
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                    adw_toast_new (_("Access token saved")));
}

static void
notes_preferences_window_name_apply_cb (NotesPreferencesWindow *self,
                                        AdwEntryRow            *row)
{
  GSettings *settings = notes_application_get_settings (self->application);
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));

  if (settings != NULL)
    g_settings_set_string (settings, "display-name", name);
}

static void
notes_preferences_window_constructed (GObject *object)
{
  NotesPreferencesWindow *self = NOTES_PREFERENCES_WINDOW (object);
  GSettings *settings = notes_application_get_settings (self->application);
  const char *token = notes_application_get_token (self->application);

  G_OBJECT_CLASS (notes_preferences_window_parent_class)->constructed (object);

  gtk_editable_set_text (GTK_EDITABLE (self->server_row),
                         notes_application_get_server_url (self->application));
  gtk_editable_set_text (GTK_EDITABLE (self->token_row), token ? token : "");
  if (settings != NULL)
    {
      g_autofree char *name = g_settings_get_string (settings, "display-name");

      gtk_editable_set_text (GTK_EDITABLE (self->name_row), name);
    }

  g_object_bind_property (self->application, "work-offline",
                          self->connect_switch, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE | G_BINDING_INVERT_BOOLEAN);
}

static void
notes_preferences_window_dispose (GObject *object)
{
  NotesPreferencesWindow *self = NOTES_PREFERENCES_WINDOW (object);

  g_clear_object (&self->application);
  gtk_widget_dispose_template (GTK_WIDGET (self), NOTES_TYPE_PREFERENCES_WINDOW);

  G_OBJECT_CLASS (notes_preferences_window_parent_class)->dispose (object);
}

static void
notes_preferences_window_get_property (GObject    *object,
                                       guint       prop_id,
                                       GValue     *value,
                                       GParamSpec *pspec)
{
  NotesPreferencesWindow *self = NOTES_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_APPLICATION:
      g_value_set_object (value, self->application);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_preferences_window_set_property (GObject      *object,
                                       guint         prop_id,
                                       const GValue *value,
                                       GParamSpec   *pspec)
{
  NotesPreferencesWindow *self = NOTES_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_APPLICATION:
      self->application = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_preferences_window_class_init (NotesPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = notes_preferences_window_constructed;
  object_class->dispose = notes_preferences_window_dispose;
  object_class->get_property = notes_preferences_window_get_property;
  object_class->set_property = notes_preferences_window_set_property;

  /**
   * NotesPreferencesWindow:notes-application:
   *
   * The application whose preferences are shown.
   */
  properties[PROP_APPLICATION] =
    g_param_spec_object ("notes-application", NULL, NULL,
                         NOTES_TYPE_APPLICATION,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, APPLICATION_PATH "/ui/notes-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, NotesPreferencesWindow, server_row);
  gtk_widget_class_bind_template_child (widget_class, NotesPreferencesWindow, token_row);
  gtk_widget_class_bind_template_child (widget_class, NotesPreferencesWindow, name_row);
  gtk_widget_class_bind_template_child (widget_class, NotesPreferencesWindow, connect_switch);
  gtk_widget_class_bind_template_callback (widget_class, notes_preferences_window_server_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, notes_preferences_window_token_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, notes_preferences_window_name_apply_cb);
}

static void
notes_preferences_window_init (NotesPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * notes_preferences_window_new:
 * @application: the application whose preferences to show
 *
 * Returns: (transfer floating): a new preferences window
 */
GtkWidget *
notes_preferences_window_new (NotesApplication *application)
{
  g_return_val_if_fail (NOTES_IS_APPLICATION (application), NULL);

  return g_object_new (NOTES_TYPE_PREFERENCES_WINDOW,
                       "notes-application", application,
                       NULL);
}
