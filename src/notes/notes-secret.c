/* notes-secret.c
 *
 * Access tokens in the secret service, keyed by server URL and profile
 * (schema "<application id>.Token").  When the secret service cannot be
 * reached (no session bus, no keyring: tests, Xvfb, minimal desktops)
 * the tokens live in memory for the rest of the run; this is logged
 * once, and never shown as an error.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#if HAVE_LIBSECRET
# include <libsecret/secret.h>
#endif

#include "notes-secret.h"

struct _NotesSecret
{
  GObject     parent_instance;

  /* "server\nprofile" → token: what this run knows, always up to date */
  GHashTable *memory;
  gboolean    available;
  gboolean    logged;
};

enum {
  PROP_0,
  PROP_AVAILABLE,
  PROP_USE_SECRET_SERVICE,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (NotesSecret, notes_secret, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];

static char *
notes_secret_key (const char *server,
                  const char *profile)
{
  return g_strconcat (server, "\n", profile, NULL);
}

#if HAVE_LIBSECRET
static const SecretSchema *
notes_secret_get_schema (void)
{
  static const SecretSchema schema = {
    APPLICATION_ID ".Token",
    SECRET_SCHEMA_NONE,
    {
      { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "profile", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    },
  };

  return &schema;
}

static GHashTable *
notes_secret_attributes (const char *server,
                         const char *profile)
{
  GHashTable *attributes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);

  g_hash_table_insert (attributes, (gpointer) "server", g_strdup (server));
  g_hash_table_insert (attributes, (gpointer) "profile", g_strdup (profile));

  return attributes;
}

/* The first failure switches this run to memory; it is logged once */
static void
notes_secret_fall_back_to_memory (NotesSecret  *self,
                                  const GError *error)
{
  if (!self->logged)
    {
      g_message ("The secret service is not available (%s): access tokens are kept in memory "
                 "until Patches Notes quits", error->message);
      self->logged = TRUE;
    }

  if (self->available)
    {
      self->available = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AVAILABLE]);
    }
}

static void
notes_secret_lookup_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NotesSecret *self = g_task_get_source_object (task);
  const char *key = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  char *token;

  token = secret_password_lookup_finish (result, &error);

  if (error != NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }

      notes_secret_fall_back_to_memory (self, error);
      g_task_return_pointer (task, g_strdup (g_hash_table_lookup (self->memory, key)), g_free);
      return;
    }

  /* A token stored meanwhile in this run wins over the keyring's copy */
  if (g_hash_table_contains (self->memory, key))
    {
      secret_password_free (token);
      g_task_return_pointer (task, g_strdup (g_hash_table_lookup (self->memory, key)), g_free);
      return;
    }

  if (token != NULL)
    {
      g_hash_table_replace (self->memory, g_strdup (key), g_strdup (token));
      secret_password_free (token);
      g_task_return_pointer (task, g_strdup (g_hash_table_lookup (self->memory, key)), g_free);
      return;
    }

  g_task_return_pointer (task, NULL, NULL);
}

static void
notes_secret_store_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NotesSecret *self = g_task_get_source_object (task);
  gboolean clearing = GPOINTER_TO_INT (g_task_get_task_data (task));
  g_autoptr(GError) error = NULL;

  if (clearing)
    secret_password_clear_finish (result, &error);
  else
    secret_password_store_finish (result, &error);

  if (error != NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }

      notes_secret_fall_back_to_memory (self, error);
      g_task_return_boolean (task, FALSE);
      return;
    }

  g_task_return_boolean (task, TRUE);
}
#endif

static void
notes_secret_finalize (GObject *object)
{
  NotesSecret *self = NOTES_SECRET (object);

  g_clear_pointer (&self->memory, g_hash_table_unref);

  G_OBJECT_CLASS (notes_secret_parent_class)->finalize (object);
}

static void
notes_secret_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  NotesSecret *self = NOTES_SECRET (object);

  switch (prop_id)
    {
    case PROP_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_secret_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  NotesSecret *self = NOTES_SECRET (object);

  switch (prop_id)
    {
    case PROP_USE_SECRET_SERVICE:
#if HAVE_LIBSECRET
      self->available = g_value_get_boolean (value);
#else
      self->available = FALSE;
#endif
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_secret_class_init (NotesSecretClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = notes_secret_finalize;
  object_class->get_property = notes_secret_get_property;
  object_class->set_property = notes_secret_set_property;

  /**
   * NotesSecret:available:
   *
   * Whether tokens go to the secret service; %FALSE once it failed (or
   * when built without libsecret), and tokens stay in memory.
   */
  properties[PROP_AVAILABLE] =
    g_param_spec_boolean ("available", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NotesSecret:use-secret-service:
   *
   * Whether to try the secret service at all.
   */
  properties[PROP_USE_SECRET_SERVICE] =
    g_param_spec_boolean ("use-secret-service", NULL, NULL,
                          TRUE,
                          (G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
notes_secret_init (NotesSecret *self)
{
  self->memory = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * notes_secret_new:
 * @use_secret_service: whether to try the secret service (%FALSE keeps
 *   tokens in memory only)
 *
 * Returns: (transfer full): a new token keeper
 */
NotesSecret *
notes_secret_new (gboolean use_secret_service)
{
  return g_object_new (NOTES_TYPE_SECRET,
                       "use-secret-service", use_secret_service,
                       NULL);
}

/**
 * notes_secret_get_available:
 * @self: a #NotesSecret
 *
 * Returns: whether tokens are kept in the secret service
 */
gboolean
notes_secret_get_available (NotesSecret *self)
{
  g_return_val_if_fail (NOTES_IS_SECRET (self), FALSE);

  return self->available;
}

/**
 * notes_secret_lookup_async:
 * @self: a #NotesSecret
 * @server: the server URL
 * @profile: the profile name
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: closure data for @callback
 *
 * Looks up the token stored for @server and @profile.
 */
void
notes_secret_lookup_async (NotesSecret         *self,
                           const char          *server,
                           const char          *profile,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *key = NULL;

  g_return_if_fail (NOTES_IS_SECRET (self));
  g_return_if_fail (server != NULL);
  g_return_if_fail (profile != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, notes_secret_lookup_async);

  key = notes_secret_key (server, profile);

  if (!self->available || g_hash_table_contains (self->memory, key))
    {
      g_task_return_pointer (task, g_strdup (g_hash_table_lookup (self->memory, key)), g_free);
      return;
    }

#if HAVE_LIBSECRET
  {
    g_autoptr(GHashTable) attributes = notes_secret_attributes (server, profile);

    g_task_set_task_data (task, g_steal_pointer (&key), g_free);
    secret_password_lookupv (notes_secret_get_schema (), attributes, cancellable,
                             notes_secret_lookup_cb, g_steal_pointer (&task));
  }
#else
  g_task_return_pointer (task, NULL, NULL);
#endif
}

/**
 * notes_secret_lookup_finish:
 * @self: a #NotesSecret
 * @result: the result passed to the callback
 * @error: return location for a #GError (only cancellation is reported)
 *
 * Returns: (transfer full) (nullable): the token, or %NULL when none is
 *   stored
 */
char *
notes_secret_lookup_finish (NotesSecret   *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (NOTES_IS_SECRET (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == notes_secret_lookup_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * notes_secret_store_async:
 * @self: a #NotesSecret
 * @server: the server URL
 * @profile: the profile name
 * @token: (nullable): the token; %NULL or "" forgets it
 * @cancellable: (nullable): a #GCancellable
 * @callback: (nullable): called when it is stored
 * @user_data: closure data for @callback
 *
 * Stores (or forgets) the token for @server and @profile.  Later lookups
 * in this run see it at once, whether or not the secret service keeps it.
 */
void
notes_secret_store_async (NotesSecret         *self,
                          const char          *server,
                          const char          *profile,
                          const char          *token,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  gboolean clearing = (token == NULL || token[0] == '\0');

  g_return_if_fail (NOTES_IS_SECRET (self));
  g_return_if_fail (server != NULL);
  g_return_if_fail (profile != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, notes_secret_store_async);
  g_task_set_task_data (task, GINT_TO_POINTER (clearing), NULL);

  if (clearing)
    g_hash_table_replace (self->memory, notes_secret_key (server, profile), NULL);
  else
    g_hash_table_replace (self->memory, notes_secret_key (server, profile), g_strdup (token));

  if (!self->available)
    {
      g_task_return_boolean (task, FALSE);
      return;
    }

#if HAVE_LIBSECRET
  {
    g_autoptr(GHashTable) attributes = notes_secret_attributes (server, profile);

    if (clearing)
      {
        secret_password_clearv (notes_secret_get_schema (), attributes, cancellable,
                                notes_secret_store_cb, g_steal_pointer (&task));
      }
    else
      {
        /* Translators: the label of the token in the keyring; %s is a server URL */
        g_autofree char *label = g_strdup_printf (_("Patches Notes access token for %s"), server);

        secret_password_storev (notes_secret_get_schema (), attributes, SECRET_COLLECTION_DEFAULT,
                                label, token, cancellable,
                                notes_secret_store_cb, g_steal_pointer (&task));
      }
  }
#else
  g_task_return_boolean (task, FALSE);
#endif
}

/**
 * notes_secret_store_finish:
 * @self: a #NotesSecret
 * @result: the result passed to the callback
 * @error: return location for a #GError (only cancellation is reported)
 *
 * Returns: %TRUE when the secret service keeps the token, %FALSE when
 *   only this run remembers it
 */
gboolean
notes_secret_store_finish (NotesSecret   *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (NOTES_IS_SECRET (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == notes_secret_store_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
