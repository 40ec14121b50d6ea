/* notes-application.c
 *
 * Profiles: `--profile NAME` gives its own settings path
 * (APPLICATION_PATH/profiles/NAME/), its own local store
 * ($XDG_DATA_HOME/patches-notes/NAME/patches.db) and its own token.  The
 * profile is part of the application id (APPLICATION_ID.Profile_NAME),
 * so each profile is a single instance on D-Bus: launching a profile
 * that already runs raises its window, while two different profiles run
 * side by side.  That keeps one process per store file.
 *
 * The order of things at start: handle-local-options (profile, settings
 * schema check) → startup (settings, store, client, sync) → command-line
 * (--server, --notebook, --token, --offline) → activate (window, then,
 * once it is drawn, the token lookup and the connection, both
 * asynchronous).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "patches-sqlite-store.h"

#include "notes-application.h"
#include "notes-notebook.h"
#include "notes-preferences-window.h"
#include "notes-resources.h"
#include "notes-window.h"

#define DEFAULT_PROFILE "default"
#define STORE_APPLICATION "patches-notes"
#define BATCH_DELAY_MS 150
#define START_CONNECTION_LATEST_MS 1000

struct _NotesApplication
{
  AdwApplication      parent_instance;

  char               *profile;
  char               *server_url_override;
  char               *server_url_setting;
  char               *notebook_id;
  char               *token;
  gboolean            token_ready;
  gboolean            work_offline;
  gboolean            connection_started;
  gboolean            connection_scheduled;
  gboolean            connect_requested;

  GSettings          *settings;
  PatchesSqliteStore *store;
  PatchesClient      *client;
  PatchesSync        *sync;
  NotesSecret        *secret;
  GError             *store_error;
  GCancellable       *token_cancellable;

  /* The connection waits for the first frame of the first window */
  GdkFrameClock      *start_clock;
  guint               start_timeout;

  /* Measurement hooks (NOTES_REPORT_*), see notes_application_report_hooks() */
  GtkWindow          *report_window;       /* weak */
  GdkFrameClock      *report_clock;
  gboolean            report_first_frame_done;
  guint               report_ready_source;
  guint               report_sigterm_source;
};

enum {
  PROP_0,
  PROP_PROFILE,
  PROP_SERVER_URL,
  PROP_NOTEBOOK_ID,
  PROP_WORK_OFFLINE,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (NotesApplication, notes_application, ADW_TYPE_APPLICATION)

static GParamSpec *properties[N_PROPS];

static const GOptionEntry option_entries[] = {
  { "profile", 'p', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    N_("Use a separate profile: its own settings, local notes and token"), N_("NAME") },
  { "server", 's', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    N_("Sync with this server for this run (ws:// or wss:// URL)"), N_("URL") },
  { "notebook", 'n', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    N_("Open this notebook"), N_("ID") },
  { "token", 't', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    N_("Access token for the server (kept in the keyring)"), N_("TOKEN") },
  { "offline", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
    N_("Start without connecting to the server"), NULL },
  { "version", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
    N_("Print the version and exit"), NULL },
  { NULL }
};

static gboolean
notes_application_schema_installed (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source == NULL)
    return FALSE;

  schema = g_settings_schema_source_lookup (source, APPLICATION_ID, TRUE);

  return schema != NULL;
}

static char *
notes_application_settings_path (NotesApplication *self)
{
  if (g_str_equal (self->profile, DEFAULT_PROFILE))
    return g_strdup (APPLICATION_PATH "/");

  return g_strdup_printf (APPLICATION_PATH "/profiles/%s/", self->profile);
}

static void
notes_application_apply_token (NotesApplication *self)
{
  g_autofree char *header = NULL;

  if (self->sync == NULL)
    return;

  if (self->token != NULL && self->token[0] != '\0')
    header = g_strdup_printf ("Bearer %s", self->token);

  patches_sync_set_header (self->sync, "Authorization", header);
}

static void
notes_application_update_metadata (NotesApplication *self)
{
  g_autofree char *name = NULL;
  g_autoptr(PatchesValue) metadata = NULL;

  if (self->client == NULL || self->settings == NULL)
    return;

  /* Spread into every change this device makes (PROTOCOL.md §4.3) */
  name = g_settings_get_string (self->settings, "display-name");
  if (name[0] != '\0')
    {
      metadata = patches_value_new_object ();
      patches_value_object_set (metadata, "userName", patches_value_new_string (name));
    }

  patches_client_set_metadata (self->client, metadata);
}

static void
notes_application_connect_cb (GObject      *source,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  g_autoptr(NotesApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  /* The status indicator shows failures; the sync keeps retrying */
  if (!patches_sync_connect_finish (PATCHES_SYNC (source), result, &error))
    g_debug ("First connection attempt failed: %s", error->message);
}

/* Brings the connection in line with what is wanted: disconnected while
 * working offline, connected once the token is known */
static void
notes_application_update_connection (NotesApplication *self)
{
  if (self->sync == NULL || !self->connection_started)
    return;

  if (self->work_offline)
    {
      if (self->connect_requested)
        {
          self->connect_requested = FALSE;
          patches_sync_disconnect (self->sync);
        }
      return;
    }

  if (!self->token_ready || self->connect_requested)
    return;

  self->connect_requested = TRUE;
  patches_sync_connect_async (self->sync, NULL, notes_application_connect_cb, g_object_ref (self));
}

/* After a change of server or token: a fresh connection */
static void
notes_application_reconnect (NotesApplication *self)
{
  if (self->sync != NULL && self->connect_requested)
    {
      self->connect_requested = FALSE;
      patches_sync_disconnect (self->sync);
    }

  notes_application_update_connection (self);
}

static void
notes_application_token_lookup_cb (GObject      *source,
                                   GAsyncResult *result,
                                   gpointer      user_data)
{
  g_autoptr(NotesApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *token = notes_secret_lookup_finish (NOTES_SECRET (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_free (self->token);
  self->token = g_steal_pointer (&token);
  self->token_ready = TRUE;

  notes_application_apply_token (self);
  notes_application_reconnect (self);
}

static void
notes_application_load_token (NotesApplication *self)
{
  g_cancellable_cancel (self->token_cancellable);
  g_clear_object (&self->token_cancellable);
  self->token_cancellable = g_cancellable_new ();
  self->token_ready = FALSE;

  notes_secret_lookup_async (self->secret,
                             notes_application_get_server_url (self),
                             self->profile,
                             self->token_cancellable,
                             notes_application_token_lookup_cb,
                             g_object_ref (self));
}

static void
notes_application_token_stored_cb (GObject      *source,
                                   GAsyncResult *result,
                                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!notes_secret_store_finish (NOTES_SECRET (source), result, &error) && error != NULL)
    g_debug ("Token not stored: %s", error->message);
}

static void
notes_application_set_work_offline_internal (NotesApplication *self,
                                             gboolean          work_offline,
                                             gboolean          save)
{
  work_offline = !!work_offline;

  if (save && self->settings != NULL &&
      g_settings_get_boolean (self->settings, "work-offline") != work_offline)
    g_settings_set_boolean (self->settings, "work-offline", work_offline);

  if (self->work_offline == work_offline)
    return;

  self->work_offline = work_offline;
  notes_application_update_connection (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WORK_OFFLINE]);
}

static void
notes_application_settings_changed_cb (GSettings        *settings,
                                       const char       *key,
                                       NotesApplication *self)
{
  if (g_str_equal (key, "server-url"))
    {
      g_free (self->server_url_setting);
      self->server_url_setting = g_settings_get_string (settings, key);

      if (self->server_url_override != NULL)
        return;

      if (self->sync != NULL)
        patches_sync_set_url (self->sync, notes_application_get_server_url (self));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_URL]);

      /* The token belongs to a server: look up the new server's */
      if (self->connection_started)
        {
          if (self->connect_requested)
            {
              self->connect_requested = FALSE;
              patches_sync_disconnect (self->sync);
            }
          notes_application_load_token (self);
        }
    }
  else if (g_str_equal (key, "display-name"))
    {
      notes_application_update_metadata (self);
    }
  else if (g_str_equal (key, "work-offline"))
    {
      notes_application_set_work_offline_internal (self, g_settings_get_boolean (settings, key), FALSE);
    }
}

/* Actions */

static void
notes_application_quit_action (GSimpleAction *action,
                               GVariant      *parameter,
                               gpointer       user_data)
{
  NotesApplication *self = user_data;
  g_autoptr(GPtrArray) windows = g_ptr_array_new_with_free_func (g_object_unref);

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    g_ptr_array_add (windows, g_object_ref (l->data));

  /* Closing saves each window's size and makes pending deletions final */
  for (guint i = 0; i < windows->len; i++)
    gtk_window_close (g_ptr_array_index (windows, i));

  g_application_quit (G_APPLICATION (self));
}

static void
notes_application_preferences_action (GSimpleAction *action,
                                      GVariant      *parameter,
                                      gpointer       user_data)
{
  NotesApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWidget *preferences = notes_preferences_window_new (self);

  gtk_window_set_application (GTK_WINDOW (preferences), GTK_APPLICATION (self));
  if (parent != NULL)
    gtk_window_set_transient_for (GTK_WINDOW (preferences), parent);
  gtk_window_present (GTK_WINDOW (preferences));
}

static void
notes_application_about_action (GSimpleAction *action,
                                GVariant      *parameter,
                                gpointer       user_data)
{
  NotesApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  const char *developers[] = { _("The Patches developers"), NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", parent,
                        "application-name", _("Patches Notes"),
                        "application-icon", APPLICATION_ID,
                        "version", PACKAGE_VERSION,
                        "developer-name", _("The Patches developers"),
                        "developers", developers,
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "website", "https://github.com/patches-notes/patches",
                        "issue-url", "https://github.com/patches-notes/patches/issues",
                        "copyright", _("© The Patches developers"),
                        /* Translators: your names, one per line */
                        "translator-credits", _("translator-credits"),
                        "comments", _("Notes that stay in sync between your devices, "
                                      "online and offline"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static const GActionEntry app_actions[] = {
  { "quit", notes_application_quit_action, NULL, NULL, NULL, { 0 } },
  { "preferences", notes_application_preferences_action, NULL, NULL, NULL, { 0 } },
  { "about", notes_application_about_action, NULL, NULL, NULL, { 0 } },
};

static void
notes_application_set_accels (NotesApplication *self)
{
  static const struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "win.show-help-overlay", { "<Control>question", NULL } },
    { "win.new-note", { "<Control>n", NULL } },
    { "win.search", { "<Control>f", NULL } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action, accels[i].accels);
}

/* Measurement hooks for the benchmarks (tests/notes/bench-notes-app.c),
 * each off unless its environment variable is set:
 *
 * - NOTES_REPORT_FIRST_FRAME=1: after the first frame of the main window
 *   is painted, prints `notes-first-frame monotonic-us=T since-start-ms=S`
 *   on stdout (T: g_get_monotonic_time(), comparable with the launching
 *   process's clock; S: since the process started, from /proc, to the
 *   clock tick); NOTES_EXIT_AFTER_FIRST_FRAME=1 then quits.  After the
 *   first frame painted with the notebook loaded (the window loads it
 *   once it is on screen) it prints `notes-listed items=N …`;
 *   NOTES_EXIT_AFTER_LISTED=1 then quits.
 * - NOTES_REPORT_READY=1: once the notebook document and every note it
 *   lists have data from the server, nothing pending and a synced status
 *   (and each listed note has its `updatedAt`, so the list shows it),
 *   prints `notes-ready items=N monotonic-us=T since-start-ms=S`;
 *   NOTES_EXIT_AFTER_READY=1 then quits.
 *
 * With any of them set, SIGTERM quits the application as app.quit does. */

#define REPORT_READY_INTERVAL_MS 10

static gboolean
notes_application_env_enabled (const char *name)
{
  const char *value = g_getenv (name);

  return value != NULL && value[0] != '\0' && !g_str_equal (value, "0");
}

/* Milliseconds since this process started (clock-tick resolution), or a
 * negative number when /proc does not say */
static double
notes_application_ms_since_process_start (void)
{
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_comm;
  struct timespec now;
  long ticks_per_second = sysconf (_SC_CLK_TCK);
  guint64 start_ticks;

  if (!g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL) ||
      (after_comm = strrchr (stat, ')')) == NULL ||
      ticks_per_second <= 0 ||
      clock_gettime (CLOCK_BOOTTIME, &now) != 0)
    return -1;

  /* After "pid (comm) ": field 3 (state) is fields[0], field 22
   * (starttime, in ticks since boot) is fields[19] */
  fields = g_strsplit (after_comm + 2, " ", 21);
  if (g_strv_length (fields) < 21)
    return -1;
  start_ticks = g_ascii_strtoull (fields[19], NULL, 10);

  return (now.tv_sec * 1000.0 + now.tv_nsec / 1e6) - start_ticks * 1000.0 / ticks_per_second;
}

static void
notes_application_report (const char *what,
                          const char *details)
{
  g_print ("%s%s%s monotonic-us=%" G_GINT64_FORMAT " since-start-ms=%.1f\n",
           what, details ? " " : "", details ? details : "",
           g_get_monotonic_time (), notes_application_ms_since_process_start ());
  fflush (stdout);
}

static gboolean
notes_application_report_quit_cb (gpointer user_data)
{
  g_action_group_activate_action (G_ACTION_GROUP (user_data), "quit", NULL);

  return G_SOURCE_REMOVE;
}

/* Quits from the main loop, not from inside a frame or a check */
static void
notes_application_report_quit (NotesApplication *self)
{
  g_idle_add_full (G_PRIORITY_DEFAULT, notes_application_report_quit_cb,
                   g_object_ref (self), g_object_unref);
}

static gboolean
notes_application_report_sigterm_cb (gpointer user_data)
{
  NotesApplication *self = user_data;

  self->report_sigterm_source = 0;
  g_action_group_activate_action (G_ACTION_GROUP (self), "quit", NULL);

  return G_SOURCE_REMOVE;
}

static void notes_application_report_after_paint_cb (GdkFrameClock    *clock,
                                                     NotesApplication *self);

static void
notes_application_report_stop_paint (NotesApplication *self)
{
  /* By function: GDK may have let go of the clock's handlers already */
  if (self->report_clock != NULL)
    g_signal_handlers_disconnect_by_func (self->report_clock, notes_application_report_after_paint_cb, self);
  g_clear_object (&self->report_clock);
}

static void
notes_application_report_after_paint_cb (GdkFrameClock    *clock,
                                         NotesApplication *self)
{
  NotesNotebook *notebook;

  /* A frame before the window is on screen draws nothing */
  if (self->report_window == NULL || !gtk_widget_get_mapped (GTK_WIDGET (self->report_window)))
    return;

  if (!self->report_first_frame_done)
    {
      self->report_first_frame_done = TRUE;
      notes_application_report ("notes-first-frame", NULL);

      if (notes_application_env_enabled ("NOTES_EXIT_AFTER_FIRST_FRAME"))
        {
          notes_application_report_stop_paint (self);
          notes_application_report_quit (self);
          return;
        }
    }

  notebook = NOTES_IS_WINDOW (self->report_window)
             ? notes_window_get_notebook (NOTES_WINDOW (self->report_window)) : NULL;
  if (notebook != NULL && notes_notebook_get_loaded (notebook))
    {
      g_autofree char *details = g_strdup_printf ("items=%u", g_list_model_get_n_items (G_LIST_MODEL (notebook)));

      notes_application_report ("notes-listed", details);
      notes_application_report_stop_paint (self);

      if (notes_application_env_enabled ("NOTES_EXIT_AFTER_LISTED"))
        notes_application_report_quit (self);
    }
  else
    {
      /* Another frame follows the load */
      gdk_frame_clock_request_phase (clock, GDK_FRAME_CLOCK_PHASE_PAINT);
    }
}

static gboolean
notes_application_report_ready_cb (gpointer user_data)
{
  NotesApplication *self = user_data;
  g_autofree char *details = NULL;
  NotesNotebook *notebook;
  PatchesDoc *doc;
  guint n_items;

  if (self->report_window == NULL || !NOTES_IS_WINDOW (self->report_window))
    {
      self->report_ready_source = 0;
      return G_SOURCE_REMOVE;
    }

  notebook = notes_window_get_notebook (NOTES_WINDOW (self->report_window));
  doc = notebook ? notes_notebook_get_doc (notebook) : NULL;
  if (doc == NULL || self->sync == NULL ||
      patches_sync_get_sync_status (self->sync) != PATCHES_SYNC_STATUS_SYNCED ||
      patches_doc_get_committed_rev (doc) <= 0 ||
      patches_doc_get_has_pending (doc))
    return G_SOURCE_CONTINUE;

  n_items = g_list_model_get_n_items (G_LIST_MODEL (notebook));
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(NotesNoteItem) item = g_list_model_get_item (G_LIST_MODEL (notebook), i);
      g_autoptr(PatchesDocSyncState) state = patches_sync_get_doc_state (self->sync,
                                                                       notes_note_item_get_doc_id (item));

      if (state == NULL ||
          state->committed_rev <= 0 ||
          state->has_pending ||
          state->status != PATCHES_SYNC_STATUS_SYNCED ||
          notes_note_item_get_updated_at (item) <= 0)
        return G_SOURCE_CONTINUE;
    }

  details = g_strdup_printf ("items=%u", n_items);
  notes_application_report ("notes-ready", details);
  self->report_ready_source = 0;

  if (notes_application_env_enabled ("NOTES_EXIT_AFTER_READY"))
    notes_application_report_quit (self);

  return G_SOURCE_REMOVE;
}

/* Called once, with the first window */
static void
notes_application_report_hooks (NotesApplication *self,
                                GtkWindow        *window)
{
  gboolean first_frame = notes_application_env_enabled ("NOTES_REPORT_FIRST_FRAME");
  gboolean ready = notes_application_env_enabled ("NOTES_REPORT_READY");

  if (!first_frame && !ready)
    return;

  self->report_window = window;
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &self->report_window);
  self->report_sigterm_source = g_unix_signal_add (SIGTERM, notes_application_report_sigterm_cb, self);

  if (first_frame && gtk_widget_get_frame_clock (GTK_WIDGET (window)) != NULL)
    {
      self->report_clock = g_object_ref (gtk_widget_get_frame_clock (GTK_WIDGET (window)));
      g_signal_connect (self->report_clock, "after-paint",
                        G_CALLBACK (notes_application_report_after_paint_cb), self);
    }

  if (ready)
    self->report_ready_source = g_timeout_add (REPORT_READY_INTERVAL_MS,
                                               notes_application_report_ready_cb, self);
}

static void
notes_application_report_clear (NotesApplication *self)
{
  notes_application_report_stop_paint (self);
  g_clear_handle_id (&self->report_ready_source, g_source_remove);
  g_clear_handle_id (&self->report_sigterm_source, g_source_remove);
  if (self->report_window != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->report_window), (gpointer *) &self->report_window);
  self->report_window = NULL;
}

/* GApplication */

static int
notes_application_handle_local_options (GApplication *application,
                                        GVariantDict *options)
{
  NotesApplication *self = NOTES_APPLICATION (application);
  const char *profile = NULL;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("%s %s\n", _("Patches Notes"), PACKAGE_VERSION);
      return 0;
    }

  if (g_variant_dict_lookup (options, "profile", "&s", &profile))
    {
      if (!notes_application_profile_is_valid (profile))
        {
          g_printerr (_("Invalid profile name “%s”: use up to 64 letters, digits, “-” and “_”\n"),
                      profile);
          return 1;
        }
      notes_application_set_profile (self, profile);
    }

  if (!notes_application_schema_installed ())
    {
      g_printerr (_("The settings schema %s is not installed; set GSETTINGS_SCHEMA_DIR "
                    "to the build's data directory to run from a build tree\n"),
                  APPLICATION_ID);
      return 1;
    }

  return G_APPLICATION_CLASS (notes_application_parent_class)->handle_local_options (application, options);
}

static void
notes_application_startup (GApplication *application)
{
  NotesApplication *self = NOTES_APPLICATION (application);
  g_autofree char *settings_path = notes_application_settings_path (self);
  g_autoptr(GError) error = NULL;

  G_APPLICATION_CLASS (notes_application_parent_class)->startup (application);

  gtk_window_set_default_icon_name (APPLICATION_ID);

  self->settings = g_settings_new_with_path (APPLICATION_ID, settings_path);
  g_signal_connect (self->settings, "changed", G_CALLBACK (notes_application_settings_changed_cb), self);
  self->server_url_setting = g_settings_get_string (self->settings, "server-url");

  if (self->notebook_id == NULL)
    self->notebook_id = g_settings_get_string (self->settings, "last-notebook");
  self->work_offline = self->work_offline || g_settings_get_boolean (self->settings, "work-offline");

  self->store = patches_sqlite_store_new_for_profile (STORE_APPLICATION, self->profile, &error);
  if (self->store == NULL)
    {
      self->store_error = g_steal_pointer (&error);
    }
  else
    {
      self->client = patches_client_new (PATCHES_STORE (self->store));
      self->sync = patches_sync_new (self->client, notes_application_get_server_url (self));
      g_object_set (self->sync, "batch-delay", BATCH_DELAY_MS, NULL);
      notes_application_update_metadata (self);
      notes_application_apply_token (self);
    }

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  notes_application_set_accels (self);
}

/* The first connection starts once the first window is on screen: a
 * server that answers at once with many documents to sync would keep the
 * main loop busy (network and store work runs before drawing) and the
 * window from showing for as long */
static void notes_application_start_after_paint_cb (GdkFrameClock    *clock,
                                                    NotesApplication *self);

static void
notes_application_start_connection (NotesApplication *self)
{
  if (self->start_clock != NULL)
    g_signal_handlers_disconnect_by_func (self->start_clock, notes_application_start_after_paint_cb, self);
  g_clear_object (&self->start_clock);
  g_clear_handle_id (&self->start_timeout, g_source_remove);

  if (self->connection_started)
    return;

  self->connection_started = TRUE;
  if (self->token_ready)
    notes_application_update_connection (self);
  else
    notes_application_load_token (self);
}

static void
notes_application_start_after_paint_cb (GdkFrameClock    *clock,
                                        NotesApplication *self)
{
  notes_application_start_connection (self);
}

static gboolean
notes_application_start_timeout_cb (gpointer user_data)
{
  NotesApplication *self = user_data;

  self->start_timeout = 0;
  notes_application_start_connection (self);

  return G_SOURCE_REMOVE;
}

static void
notes_application_schedule_connection (NotesApplication *self,
                                       GtkWindow        *window)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));

  /* A window that never draws (no display, minimized) does not hold the
   * connection back for long */
  self->start_timeout = g_timeout_add (START_CONNECTION_LATEST_MS,
                                       notes_application_start_timeout_cb, self);
  if (clock != NULL)
    {
      self->start_clock = g_object_ref (clock);
      g_signal_connect (clock, "after-paint", G_CALLBACK (notes_application_start_after_paint_cb), self);
    }
}

static void
notes_application_store_error_response_cb (AdwMessageDialog *dialog,
                                           const char       *response,
                                           NotesApplication *self)
{
  g_application_quit (G_APPLICATION (self));
}

static void
notes_application_activate (GApplication *application)
{
  NotesApplication *self = NOTES_APPLICATION (application);
  g_autofree char *notebook_id = NULL;
  GtkWindow *window = NULL;

  if (self->store_error != NULL)
    {
      GtkWidget *dialog;

      /* Never reset a store that cannot be opened: say why, and stop */
      dialog = adw_message_dialog_new (NULL, _("Your notes could not be opened"), NULL);
      adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog), "%s", self->store_error->message);
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "quit", _("_Quit"));
      gtk_window_set_application (GTK_WINDOW (dialog), GTK_APPLICATION (self));
      g_signal_connect (dialog, "response", G_CALLBACK (notes_application_store_error_response_cb), self);
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }

  notebook_id = notes_notebook_normalize_id (self->notebook_id);
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    {
      if (NOTES_IS_WINDOW (l->data) &&
          g_strcmp0 (notes_window_get_notebook_id (l->data), notebook_id) == 0)
        {
          window = l->data;
          break;
        }
    }

  if (window == NULL)
    window = GTK_WINDOW (notes_window_new (self, notebook_id));

  gtk_window_present (window);

  if (!self->connection_scheduled)
    {
      self->connection_scheduled = TRUE;
      notes_application_report_hooks (self, window);
      notes_application_schedule_connection (self, window);
    }
}

static int
notes_application_command_line (GApplication            *application,
                                GApplicationCommandLine *command_line)
{
  NotesApplication *self = NOTES_APPLICATION (application);
  GVariantDict *options = g_application_command_line_get_options_dict (command_line);
  const char *server = NULL;
  const char *notebook = NULL;
  const char *token = NULL;

  if (g_variant_dict_lookup (options, "server", "&s", &server))
    {
      g_autoptr(GUri) uri = g_uri_parse (server, G_URI_FLAGS_NONE, NULL);

      if (uri == NULL ||
          (g_strcmp0 (g_uri_get_scheme (uri), "ws") != 0 && g_strcmp0 (g_uri_get_scheme (uri), "wss") != 0))
        {
          g_application_command_line_printerr (command_line,
                                               _("Invalid server URL “%s”: expected ws://HOST:PORT/PATH or wss://…\n"),
                                               server);
          return 1;
        }
      notes_application_set_server_url (self, server);
    }

  if (g_variant_dict_lookup (options, "notebook", "&s", &notebook))
    notes_application_set_notebook_id (self, notebook);

  if (g_variant_dict_lookup (options, "token", "&s", &token))
    notes_application_set_token (self, token);

  if (g_variant_dict_contains (options, "offline"))
    notes_application_set_work_offline_internal (self, TRUE, FALSE);

  g_application_activate (application);

  return 0;
}

static void
notes_application_shutdown (GApplication *application)
{
  NotesApplication *self = NOTES_APPLICATION (application);

  g_cancellable_cancel (self->token_cancellable);
  if (self->sync != NULL)
    patches_sync_disconnect (self->sync);
  notes_application_report_clear (self);
  if (self->start_clock != NULL)
    g_signal_handlers_disconnect_by_func (self->start_clock, notes_application_start_after_paint_cb, self);
  g_clear_object (&self->start_clock);
  g_clear_handle_id (&self->start_timeout, g_source_remove);

  G_APPLICATION_CLASS (notes_application_parent_class)->shutdown (application);
}

/* GObject */

static void
notes_application_dispose (GObject *object)
{
  NotesApplication *self = NOTES_APPLICATION (object);

  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  g_clear_object (&self->sync);
  g_clear_object (&self->client);
  g_clear_object (&self->store);
  g_clear_object (&self->secret);
  g_clear_object (&self->token_cancellable);
  g_clear_error (&self->store_error);
  notes_application_report_clear (self);
  if (self->start_clock != NULL)
    g_signal_handlers_disconnect_by_func (self->start_clock, notes_application_start_after_paint_cb, self);
  g_clear_object (&self->start_clock);
  g_clear_handle_id (&self->start_timeout, g_source_remove);

  G_OBJECT_CLASS (notes_application_parent_class)->dispose (object);
}

static void
notes_application_finalize (GObject *object)
{
  NotesApplication *self = NOTES_APPLICATION (object);

  g_clear_pointer (&self->profile, g_free);
  g_clear_pointer (&self->server_url_override, g_free);
  g_clear_pointer (&self->server_url_setting, g_free);
  g_clear_pointer (&self->notebook_id, g_free);
  g_clear_pointer (&self->token, g_free);

  G_OBJECT_CLASS (notes_application_parent_class)->finalize (object);
}

static void
notes_application_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  NotesApplication *self = NOTES_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_PROFILE:
      g_value_set_string (value, self->profile);
      break;

    case PROP_SERVER_URL:
      g_value_set_string (value, notes_application_get_server_url (self));
      break;

    case PROP_NOTEBOOK_ID:
      g_value_set_string (value, notes_application_get_notebook_id (self));
      break;

    case PROP_WORK_OFFLINE:
      g_value_set_boolean (value, self->work_offline);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_application_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  NotesApplication *self = NOTES_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_PROFILE:
      notes_application_set_profile (self, g_value_get_string (value));
      break;

    case PROP_NOTEBOOK_ID:
      notes_application_set_notebook_id (self, g_value_get_string (value));
      break;

    case PROP_WORK_OFFLINE:
      notes_application_set_work_offline (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_application_class_init (NotesApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *application_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = notes_application_dispose;
  object_class->finalize = notes_application_finalize;
  object_class->get_property = notes_application_get_property;
  object_class->set_property = notes_application_set_property;

  application_class->handle_local_options = notes_application_handle_local_options;
  application_class->startup = notes_application_startup;
  application_class->activate = notes_application_activate;
  application_class->command_line = notes_application_command_line;
  application_class->shutdown = notes_application_shutdown;

  /**
   * NotesApplication:profile:
   *
   * The profile ("default" unless `--profile` names another).  Set it
   * before the application is registered.
   */
  properties[PROP_PROFILE] =
    g_param_spec_string ("profile", NULL, NULL,
                         DEFAULT_PROFILE,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesApplication:server-url:
   *
   * The server synced with: `--server` for this run, otherwise the
   * `server-url` setting.
   */
  properties[PROP_SERVER_URL] =
    g_param_spec_string ("server-url", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesApplication:notebook-id:
   *
   * The notebook to open, `notebook/<id>`.
   */
  properties[PROP_NOTEBOOK_ID] =
    g_param_spec_string ("notebook-id", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesApplication:work-offline:
   *
   * Whether to stay disconnected from the server; edits are kept on this
   * device and sent when this is turned off.
   */
  properties[PROP_WORK_OFFLINE] =
    g_param_spec_boolean ("work-offline", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  notes_register_resource ();
}

static void
notes_application_init (NotesApplication *self)
{
  self->profile = g_strdup (DEFAULT_PROFILE);
  self->secret = notes_secret_new (TRUE);

  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), NULL);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Notes that stay in sync between your devices."));
}

/* Public API */

/**
 * notes_application_new:
 * @application_id: the application id (APPLICATION_ID; tests pass their own)
 * @flags: application flags (%G_APPLICATION_HANDLES_COMMAND_LINE is
 *   always added; tests add %G_APPLICATION_NON_UNIQUE)
 *
 * Returns: (transfer full): a new application
 */
NotesApplication *
notes_application_new (const char        *application_id,
                       GApplicationFlags  flags)
{
  g_return_val_if_fail (g_application_id_is_valid (application_id), NULL);

  return g_object_new (NOTES_TYPE_APPLICATION,
                       "application-id", application_id,
                       "flags", flags | G_APPLICATION_HANDLES_COMMAND_LINE,
                       "resource-base-path", APPLICATION_PATH,
                       NULL);
}

/**
 * notes_application_profile_is_valid:
 * @profile: a profile name
 *
 * Profile names go into a file path, a settings path and a D-Bus name:
 * 1 to 64 ASCII letters, digits, "-" and "_".
 *
 * Returns: whether @profile is a valid profile name
 */
gboolean
notes_application_profile_is_valid (const char *profile)
{
  gsize len;

  if (profile == NULL)
    return FALSE;

  len = strlen (profile);
  if (len == 0 || len > 64)
    return FALSE;

  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isalnum (profile[i]) && profile[i] != '-' && profile[i] != '_')
        return FALSE;
    }

  return TRUE;
}

/**
 * notes_application_get_profile:
 * @self: a #NotesApplication
 *
 * Returns: the profile name
 */
const char *
notes_application_get_profile (NotesApplication *self)
{
  g_return_val_if_fail (NOTES_IS_APPLICATION (self), NULL);

  return self->profile;
}

/**
 * notes_application_set_profile:
 * @self: a #NotesApplication
 * @profile: (nullable): a valid profile name, or %NULL for the default
 *
 * Chooses the profile, before the application is registered.  A profile
 * other than the default also becomes part of the application id.
 */
void
notes_application_set_profile (NotesApplication *self,
                               const char       *profile)
{
  g_autofree char *base_id = NULL;
  const char *id;
  const char *marker;

  g_return_if_fail (NOTES_IS_APPLICATION (self));
  g_return_if_fail (profile == NULL || notes_application_profile_is_valid (profile));
  g_return_if_fail (!g_application_get_is_registered (G_APPLICATION (self)));

  if (profile == NULL)
    profile = DEFAULT_PROFILE;

  if (g_strcmp0 (self->profile, profile) == 0)
    return;

  g_free (self->profile);
  self->profile = g_strdup (profile);

  id = g_application_get_application_id (G_APPLICATION (self));
  if (id != NULL)
    {
      marker = strstr (id, ".Profile_");
      base_id = marker ? g_strndup (id, marker - id) : g_strdup (id);

      if (g_str_equal (profile, DEFAULT_PROFILE))
        g_application_set_application_id (G_APPLICATION (self), base_id);
      else
        {
          g_autofree char *profile_id = g_strdup_printf ("%s.Profile_%s", base_id, profile);

          g_application_set_application_id (G_APPLICATION (self), profile_id);
        }
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROFILE]);
}

/**
 * notes_application_get_server_url:
 * @self: a #NotesApplication
 *
 * Returns: the server URL in use
 */
const char *
notes_application_get_server_url (NotesApplication *self)
{
  g_return_val_if_fail (NOTES_IS_APPLICATION (self), NULL);

  if (self->server_url_override != NULL)
    return self->server_url_override;

  if (self->server_url_setting != NULL)
    return self->server_url_setting;

  return "ws://127.0.0.1:8080/sync";
}

/**
 * notes_application_set_server_url:
 * @self: a #NotesApplication
 * @url: (nullable): a ws:// or wss:// URL for this run, or %NULL to use
 *   the `server-url` setting again
 *
 * Syncs with @url for this run (`--server`), without changing the setting.
 */
void
notes_application_set_server_url (NotesApplication *self,
                                  const char       *url)
{
  g_return_if_fail (NOTES_IS_APPLICATION (self));

  if (g_strcmp0 (self->server_url_override, url) == 0)
    return;

  g_free (self->server_url_override);
  self->server_url_override = g_strdup (url);

  if (self->sync != NULL)
    patches_sync_set_url (self->sync, notes_application_get_server_url (self));

  if (self->connection_started)
    {
      if (self->connect_requested)
        {
          self->connect_requested = FALSE;
          patches_sync_disconnect (self->sync);
        }
      notes_application_load_token (self);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_URL]);
}

/**
 * notes_application_get_notebook_id:
 * @self: a #NotesApplication
 *
 * Returns: the notebook to open, `notebook/<id>`
 */
const char *
notes_application_get_notebook_id (NotesApplication *self)
{
  g_return_val_if_fail (NOTES_IS_APPLICATION (self), NULL);

  if (self->notebook_id == NULL)
    return "notebook/main";

  return self->notebook_id;
}

/**
 * notes_application_set_notebook_id:
 * @self: a #NotesApplication
 * @notebook_id: (nullable): `notebook/<id>` or `<id>`
 *
 * Chooses the notebook that the next window opens (and remembers it).
 */
void
notes_application_set_notebook_id (NotesApplication *self,
                                   const char       *notebook_id)
{
  g_autofree char *normalized = NULL;

  g_return_if_fail (NOTES_IS_APPLICATION (self));

  normalized = notes_notebook_normalize_id (notebook_id);
  if (g_strcmp0 (self->notebook_id, normalized) == 0)
    return;

  g_free (self->notebook_id);
  self->notebook_id = g_steal_pointer (&normalized);

  if (self->settings != NULL)
    g_settings_set_string (self->settings, "last-notebook", self->notebook_id);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NOTEBOOK_ID]);
}

/**
 * notes_application_get_token:
 * @self: a #NotesApplication
 *
 * Returns: (nullable): the access token in use
 */
const char *
notes_application_get_token (NotesApplication *self)
{
  g_return_val_if_fail (NOTES_IS_APPLICATION (self), NULL);

  return self->token;
}

/**
 * notes_application_set_token:
 * @self: a #NotesApplication
 * @token: (nullable): the access token; %NULL or "" for none
 *
 * Uses @token for the current server (a fresh connection) and keeps it
 * in the keyring, asynchronously.
 */
void
notes_application_set_token (NotesApplication *self,
                             const char       *token)
{
  g_return_if_fail (NOTES_IS_APPLICATION (self));

  if (token != NULL && token[0] == '\0')
    token = NULL;

  g_cancellable_cancel (self->token_cancellable);
  g_free (self->token);
  self->token = g_strdup (token);
  self->token_ready = TRUE;

  notes_secret_store_async (self->secret,
                            notes_application_get_server_url (self),
                            self->profile,
                            token,
                            NULL,
                            notes_application_token_stored_cb,
                            NULL);

  notes_application_apply_token (self);
  notes_application_reconnect (self);
}

/**
 * notes_application_get_work_offline:
 * @self: a #NotesApplication
 *
 * Returns: whether the application stays disconnected
 */
gboolean
notes_application_get_work_offline (NotesApplication *self)
{
  g_return_val_if_fail (NOTES_IS_APPLICATION (self), FALSE);

  return self->work_offline;
}

/**
 * notes_application_set_work_offline:
 * @self: a #NotesApplication
 * @work_offline: whether to stay disconnected
 *
 * Disconnects from the server (edits stay on this device) or connects
 * again, and remembers the choice in the `work-offline` setting.
 */
void
notes_application_set_work_offline (NotesApplication *self,
                                    gboolean          work_offline)
{
  g_return_if_fail (NOTES_IS_APPLICATION (self));

  notes_application_set_work_offline_internal (self, work_offline, TRUE);
}

/**
 * notes_application_get_settings:
 * @self: a #NotesApplication
 *
 * Returns: (transfer none) (nullable): the profile's settings, once started
 */
GSettings *
notes_application_get_settings (NotesApplication *self)
{
  g_return_val_if_fail (NOTES_IS_APPLICATION (self), NULL);

  return self->settings;
}

/**
 * notes_application_get_client:
 * @self: a #NotesApplication
 *
 * Returns: (transfer none) (nullable): the documents' client, once started
 */
PatchesClient *
notes_application_get_client (NotesApplication *self)
{
  g_return_val_if_fail (NOTES_IS_APPLICATION (self), NULL);

  return self->client;
}

/**
 * notes_application_get_sync:
 * @self: a #NotesApplication
 *
 * Returns: (transfer none) (nullable): the sync engine, once started
 */
PatchesSync *
notes_application_get_sync (NotesApplication *self)
{
  g_return_val_if_fail (NOTES_IS_APPLICATION (self), NULL);

  return self->sync;
}

/**
 * notes_application_get_secret:
 * @self: a #NotesApplication
 *
 * Returns: (transfer none): where tokens are kept
 */
NotesSecret *
notes_application_get_secret (NotesApplication *self)
{
  g_return_val_if_fail (NOTES_IS_APPLICATION (self), NULL);

  return self->secret;
}
