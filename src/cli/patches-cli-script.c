/* patches-cli-script.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "patches-cli-script.h"

#include <math.h>
#include <stdio.h>

/* How much of a value a message quotes */
#define QUOTE_MAX 200

typedef enum {
  STEP_CONNECT,
  STEP_OPEN,
  STEP_CHANGE,
  STEP_WAIT_SYNCED,
  STEP_WAIT_REV,
  STEP_SLEEP,
  STEP_PRINT,
  STEP_EXPECT,
  STEP_CLOSE,
  STEP_DELETE,
  STEP_DISCONNECT,
  STEP_LOG,
} StepKind;

static const char * const step_names[] = {
  [STEP_CONNECT] = "connect",
  [STEP_OPEN] = "open",
  [STEP_CHANGE] = "change",
  [STEP_WAIT_SYNCED] = "wait_synced",
  [STEP_WAIT_REV] = "wait_rev",
  [STEP_SLEEP] = "sleep",
  [STEP_PRINT] = "print",
  [STEP_EXPECT] = "expect",
  [STEP_CLOSE] = "close",
  [STEP_DELETE] = "delete",
  [STEP_DISCONNECT] = "disconnect",
  [STEP_LOG] = "log",
};

typedef struct
{
  StepKind       kind;
  guint          index;
  char          *doc;
  char          *url;
  char          *token;
  char          *text;
  PatchesPatch  *patch;
  PatchesValue  *state;         /* expect: the expected state, or NULL */
  gint64         rev;           /* wait_rev, expect: -1 when absent */
  guint          ms;            /* timeouts, sleep */
} Step;

struct _PatchesCliScript
{
  GPtrArray *steps;
};

static void
step_free (gpointer data)
{
  Step *step = data;

  g_free (step->doc);
  g_free (step->url);
  g_free (step->token);
  g_free (step->text);
  g_clear_pointer (&step->patch, patches_patch_unref);
  g_clear_pointer (&step->state, patches_value_unref);
  g_free (step);
}

static char *
quote_value (PatchesValue *value)
{
  g_autoptr(GString) json = g_string_new (NULL);

  patches_value_write_json (value, json);
  if (json->len > QUOTE_MAX)
    {
      g_string_truncate (json, QUOTE_MAX);
      /* not inside a UTF-8 sequence */
      while (json->len > 0 && (json->str[json->len - 1] & 0xc0) == 0x80)
        g_string_truncate (json, json->len - 1);
      if (json->len > 0 && (json->str[json->len - 1] & 0x80) != 0)
        g_string_truncate (json, json->len - 1);
      g_string_append (json, "…");
    }

  return g_string_free (g_steal_pointer (&json), FALSE);
}

/* Checking */

static const char *
kind_name (PatchesValue *value)
{
  switch (patches_value_get_kind (value))
    {
    case PATCHES_VALUE_NULL: return "null";
    case PATCHES_VALUE_BOOL: return "a boolean";
    case PATCHES_VALUE_NUMBER: return "a number";
    case PATCHES_VALUE_STRING: return "a string";
    case PATCHES_VALUE_ARRAY: return "an array";
    case PATCHES_VALUE_OBJECT:
    case PATCHES_VALUE_TEXT:
    default: return "an object";
    }
}

static gboolean
usage_error (GError     **error,
             const char  *format,
             ...) G_GNUC_PRINTF (2, 3);

static gboolean
usage_error (GError     **error,
             const char  *format,
             ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_USAGE,
                                                format, args));
  va_end (args);

  return FALSE;
}

static gboolean
get_string (PatchesValue  *value,
            const char    *what,
            gboolean       non_empty,
            char         **out,
            GError       **error)
{
  if (value == NULL)
    return usage_error (error, "%s is missing", what);
  if (patches_value_get_kind (value) != PATCHES_VALUE_STRING)
    return usage_error (error, "%s must be a string, not %s", what, kind_name (value));
  if (non_empty && patches_value_get_string_len (value) == 0)
    return usage_error (error, "%s must not be empty", what);

  *out = g_strdup (patches_value_get_string (value));

  return TRUE;
}

static gboolean
get_integer (PatchesValue  *value,
             const char    *what,
             double         max,
             double        *out,
             GError       **error)
{
  double number;

  if (value == NULL)
    return usage_error (error, "%s is missing", what);
  if (patches_value_get_kind (value) != PATCHES_VALUE_NUMBER)
    return usage_error (error, "%s must be a number, not %s", what, kind_name (value));

  number = patches_value_get_number (value);
  if (number < 0 || number > max || floor (number) != number)
    return usage_error (error, "%s must be a whole number from 0 to %.0f", what, max);

  *out = number;

  return TRUE;
}

static gboolean
get_ms (PatchesValue  *value,
        const char    *what,
        guint         *out,
        GError       **error)
{
  double number;

  if (!get_integer (value, what, (double) G_MAXINT, &number, error))
    return FALSE;

  *out = (guint) number;

  return TRUE;
}

/* Refuses members of @object outside @allowed (NULL-terminated) */
static gboolean
check_members (PatchesValue        *object,
               const char * const  *allowed,
               GError             **error)
{
  for (guint i = 0; i < patches_value_object_get_size (object); i++)
    {
      const char *key = patches_value_object_key_at (object, i);

      if (!g_strv_contains (allowed, key))
        {
          g_autofree char *list = g_strjoinv ("\", \"", (char **) allowed);

          return usage_error (error, "unknown member \"%s\" (allowed: \"%s\")", key, list);
        }
    }

  return TRUE;
}

static gboolean
require_object (PatchesValue  *value,
                GError       **error)
{
  if (patches_value_get_kind (value) != PATCHES_VALUE_OBJECT)
    return usage_error (error, "the value must be an object, not %s", kind_name (value));

  return TRUE;
}

static gboolean
parse_connect (Step                          *step,
               PatchesValue                  *value,
               const PatchesCliScriptOptions *options,
               GError                       **error)
{
  static const char * const allowed[] = { "url", "token", "timeout_ms", NULL };
  PatchesValue *member;

  step->ms = options->timeout_ms;
  step->token = g_strdup (options->token);

  switch (patches_value_get_kind (value))
    {
    case PATCHES_VALUE_STRING:
      if (!get_string (value, "the URL", TRUE, &step->url, error))
        return FALSE;
      break;

    case PATCHES_VALUE_BOOL:
      if (!patches_value_get_bool (value))
        return usage_error (error, "the value must be a URL, true or an object");
      break;

    case PATCHES_VALUE_OBJECT:
      if (!check_members (value, allowed, error))
        return FALSE;
      if ((member = patches_value_object_get (value, "url")) != NULL &&
          !get_string (member, "\"url\"", TRUE, &step->url, error))
        return FALSE;
      if ((member = patches_value_object_get (value, "token")) != NULL)
        {
          g_clear_pointer (&step->token, g_free);
          if (patches_value_get_kind (member) != PATCHES_VALUE_NULL &&
              !get_string (member, "\"token\"", FALSE, &step->token, error))
            return FALSE;
        }
      if ((member = patches_value_object_get (value, "timeout_ms")) != NULL &&
          !get_ms (member, "\"timeout_ms\"", &step->ms, error))
        return FALSE;
      break;

    case PATCHES_VALUE_NULL:
    case PATCHES_VALUE_NUMBER:
    case PATCHES_VALUE_ARRAY:
    case PATCHES_VALUE_TEXT:
    default:
      return usage_error (error, "the value must be a URL, true or an object, not %s",
                          kind_name (value));
    }

  if (step->url == NULL)
    {
      if (options->url == NULL)
        return usage_error (error, "no URL: name one or pass --server");
      step->url = g_strdup (options->url);
    }

  if (!g_str_has_prefix (step->url, "ws://") && !g_str_has_prefix (step->url, "wss://"))
    return usage_error (error, "not a WebSocket URL (ws:// or wss://): %s", step->url);

  return TRUE;
}

static gboolean
parse_change (Step          *step,
              PatchesValue  *value,
              GError       **error)
{
  static const char * const allowed[] = { "doc", "ops", NULL };
  g_autoptr(GError) local_error = NULL;
  PatchesValue *ops;

  if (!require_object (value, error) ||
      !check_members (value, allowed, error) ||
      !get_string (patches_value_object_get (value, "doc"), "\"doc\"", TRUE, &step->doc, error))
    return FALSE;

  ops = patches_value_object_get (value, "ops");
  if (ops == NULL)
    return usage_error (error, "\"ops\" is missing");
  if (patches_value_get_kind (ops) != PATCHES_VALUE_ARRAY)
    return usage_error (error, "\"ops\" must be an array of ops, not %s", kind_name (ops));

  step->patch = patches_patch_from_value (ops, &local_error);
  if (step->patch == NULL)
    return usage_error (error, "\"ops\" is not a list of ops: %s", local_error->message);

  return TRUE;
}

static gboolean
parse_wait_synced (Step                          *step,
                   PatchesValue                  *value,
                   const PatchesCliScriptOptions *options,
                   GError                       **error)
{
  static const char * const allowed[] = { "timeout_ms", NULL };
  PatchesValue *member;

  step->ms = options->timeout_ms;

  if (patches_value_get_kind (value) == PATCHES_VALUE_BOOL && patches_value_get_bool (value))
    return TRUE;

  if (patches_value_get_kind (value) != PATCHES_VALUE_OBJECT)
    return usage_error (error, "the value must be an object, not %s", kind_name (value));

  if (!check_members (value, allowed, error))
    return FALSE;

  if ((member = patches_value_object_get (value, "timeout_ms")) != NULL &&
      !get_ms (member, "\"timeout_ms\"", &step->ms, error))
    return FALSE;

  return TRUE;
}

static gboolean
parse_wait_rev (Step                          *step,
                PatchesValue                  *value,
                const PatchesCliScriptOptions *options,
                GError                       **error)
{
  static const char * const allowed[] = { "doc", "rev", "timeout_ms", NULL };
  PatchesValue *member;
  double rev;

  step->ms = options->timeout_ms;

  if (!require_object (value, error) ||
      !check_members (value, allowed, error) ||
      !get_string (patches_value_object_get (value, "doc"), "\"doc\"", TRUE, &step->doc, error) ||
      !get_integer (patches_value_object_get (value, "rev"), "\"rev\"", 9007199254740991.0,
                    &rev, error))
    return FALSE;

  step->rev = (gint64) rev;

  if ((member = patches_value_object_get (value, "timeout_ms")) != NULL &&
      !get_ms (member, "\"timeout_ms\"", &step->ms, error))
    return FALSE;

  return TRUE;
}

static gboolean
parse_expect (Step          *step,
              PatchesValue  *value,
              GError       **error)
{
  static const char * const allowed[] = { "doc", "state", "rev", NULL };
  PatchesValue *member;

  if (!require_object (value, error) ||
      !check_members (value, allowed, error) ||
      !get_string (patches_value_object_get (value, "doc"), "\"doc\"", TRUE, &step->doc, error))
    return FALSE;

  if ((member = patches_value_object_get (value, "rev")) != NULL)
    {
      double rev;

      if (!get_integer (member, "\"rev\"", 9007199254740991.0, &rev, error))
        return FALSE;
      step->rev = (gint64) rev;
    }

  if ((member = patches_value_object_get (value, "state")) != NULL)
    step->state = patches_value_ref (member);

  return TRUE;
}

static Step *
parse_step (PatchesValue                  *value,
            guint                          index,
            const PatchesCliScriptOptions *options,
            GError                       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree Step *step = NULL;
  PatchesValue *arg;
  const char *key;
  gboolean ok = FALSE;
  guint kind;

  if (patches_value_get_kind (value) != PATCHES_VALUE_OBJECT ||
      patches_value_object_get_size (value) != 1)
    {
      g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_USAGE,
                   "step %u: a step is an object with exactly one key", index);
      return NULL;
    }

  key = patches_value_object_key_at (value, 0);
  arg = patches_value_object_value_at (value, 0);

  for (kind = 0; kind < G_N_ELEMENTS (step_names); kind++)
    if (g_str_equal (key, step_names[kind]))
      break;

  if (kind == G_N_ELEMENTS (step_names))
    {
      g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_USAGE,
                   "step %u (%s): unknown step", index, key);
      return NULL;
    }

  step = g_new0 (Step, 1);
  step->kind = kind;
  step->index = index;
  step->rev = -1;

  switch (step->kind)
    {
    case STEP_CONNECT:
      ok = parse_connect (step, arg, options, &local_error);
      break;

    case STEP_OPEN:
    case STEP_PRINT:
    case STEP_CLOSE:
    case STEP_DELETE:
      ok = get_string (arg, "the document id", TRUE, &step->doc, &local_error);
      break;

    case STEP_CHANGE:
      ok = parse_change (step, arg, &local_error);
      break;

    case STEP_WAIT_SYNCED:
      ok = parse_wait_synced (step, arg, options, &local_error);
      break;

    case STEP_WAIT_REV:
      ok = parse_wait_rev (step, arg, options, &local_error);
      break;

    case STEP_SLEEP:
      ok = get_ms (arg, "the duration in ms", &step->ms, &local_error);
      break;

    case STEP_EXPECT:
      ok = parse_expect (step, arg, &local_error);
      break;

    case STEP_DISCONNECT:
      ok = (patches_value_get_kind (arg) == PATCHES_VALUE_BOOL && patches_value_get_bool (arg)) ||
           usage_error (&local_error, "the value must be true");
      break;

    case STEP_LOG:
      ok = get_string (arg, "the text", FALSE, &step->text, &local_error);
      break;

    default:
      g_assert_not_reached ();
    }

  if (!ok)
    {
      g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_USAGE,
                   "step %u (%s): %s", index, key, local_error->message);
      step_free (g_steal_pointer (&step));
      return NULL;
    }

  return g_steal_pointer (&step);
}

/* expect */

static void
append_pointer_token (GString    *path,
                      const char *token)
{
  g_string_append_c (path, '/');
  for (const char *p = token; *p != '\0'; p++)
    {
      if (*p == '~')
        g_string_append (path, "~0");
      else if (*p == '/')
        g_string_append (path, "~1");
      else
        g_string_append_c (path, *p);
    }
}

/* Finds the first place where two plain JSON values differ: sets @path
 * to its JSON Pointer and @what to a description */
static void
describe_difference (PatchesValue *expected,
                     PatchesValue *actual,
                     GString      *path,
                     GString      *what)
{
  PatchesValueType kind = patches_value_get_kind (expected);

  if (kind == PATCHES_VALUE_OBJECT && patches_value_get_kind (actual) == PATCHES_VALUE_OBJECT)
    {
      for (guint i = 0; i < patches_value_object_get_size (expected); i++)
        {
          const char *key = patches_value_object_key_at (expected, i);
          PatchesValue *want = patches_value_object_value_at (expected, i);
          PatchesValue *have = patches_value_object_get (actual, key);

          if (have == NULL)
            {
              g_autofree char *quoted = quote_value (want);

              append_pointer_token (path, key);
              g_string_append_printf (what, "missing, expected %s", quoted);
              return;
            }
          if (!patches_value_equal (want, have))
            {
              append_pointer_token (path, key);
              describe_difference (want, have, path, what);
              return;
            }
        }

      for (guint i = 0; i < patches_value_object_get_size (actual); i++)
        {
          const char *key = patches_value_object_key_at (actual, i);

          if (!patches_value_object_has (expected, key))
            {
              g_autofree char *quoted = quote_value (patches_value_object_value_at (actual, i));

              append_pointer_token (path, key);
              g_string_append_printf (what, "not expected, got %s", quoted);
              return;
            }
        }
    }
  else if (kind == PATCHES_VALUE_ARRAY && patches_value_get_kind (actual) == PATCHES_VALUE_ARRAY)
    {
      guint n_expected = patches_value_array_get_length (expected);
      guint n_actual = patches_value_array_get_length (actual);

      for (guint i = 0; i < MIN (n_expected, n_actual); i++)
        {
          PatchesValue *want = patches_value_array_get (expected, i);
          PatchesValue *have = patches_value_array_get (actual, i);

          if (!patches_value_equal (want, have))
            {
              g_string_append_printf (path, "/%u", i);
              describe_difference (want, have, path, what);
              return;
            }
        }

      if (n_expected != n_actual)
        {
          g_string_append_printf (what, "expected %u items, got %u", n_expected, n_actual);
          return;
        }
    }

  {
    g_autofree char *want = quote_value (expected);
    g_autofree char *have = quote_value (actual);

    g_string_append_printf (what, "expected %s, got %s", want, have);
  }
}

/* Running */

static gboolean
run_expect (Step               *step,
            PatchesCliSession  *session,
            GError            **error)
{
  g_autoptr(PatchesValue) export = NULL;
  g_autoptr(GString) message = g_string_new (NULL);
  PatchesValue *state;
  gint64 rev;

  if (!(export = patches_cli_session_dup_export (session, step->doc, error)))
    return FALSE;

  rev = (gint64) patches_value_get_number (patches_value_object_get (export, "rev"));
  state = patches_value_object_get (export, "state");

  if (step->rev >= 0 && rev != step->rev)
    g_string_append_printf (message, "%s is at rev %" G_GINT64_FORMAT ", expected rev %" G_GINT64_FORMAT,
                            step->doc, rev, step->rev);

  if (step->state != NULL)
    {
      g_autoptr(PatchesValue) plain = patches_cli_plain_value (state);

      if (!patches_value_equal (step->state, plain))
        {
          g_autoptr(GString) path = g_string_new (NULL);
          g_autoptr(GString) what = g_string_new (NULL);
          g_autoptr(GString) want = g_string_new (NULL);
          g_autoptr(GString) have = g_string_new (NULL);

          describe_difference (step->state, plain, path, what);
          patches_value_write_json (step->state, want);
          patches_value_write_json (plain, have);

          if (message->len > 0)
            g_string_append (message, "; ");
          g_string_append_printf (message,
                                  "the state of %s differs at \"%s\": %s\n"
                                  "  expected: %s\n"
                                  "  actual:   %s",
                                  step->doc, path->str, what->str, want->str, have->str);
        }
    }

  if (message->len > 0)
    {
      g_set_error_literal (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_MISMATCH, message->str);
      return FALSE;
    }

  return TRUE;
}

static gboolean
run_step (Step               *step,
          PatchesCliSession  *session,
          GError            **error)
{
  switch (step->kind)
    {
    case STEP_CONNECT:
      return patches_cli_session_connect (session, step->url, step->token, step->ms, TRUE, error);

    case STEP_OPEN:
      return patches_cli_session_open (session, step->doc, error) != NULL;

    case STEP_CHANGE:
      return patches_cli_session_change (session, step->doc, step->patch, error);

    case STEP_WAIT_SYNCED:
      return patches_cli_session_wait_synced (session, step->ms, error);

    case STEP_WAIT_REV:
      return patches_cli_session_wait_rev (session, step->doc, step->rev, step->ms, error);

    case STEP_SLEEP:
      if (!patches_cli_session_sleep (session, step->ms))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Interrupted");
          return FALSE;
        }
      return TRUE;

    case STEP_PRINT:
      {
        g_autoptr(PatchesValue) export = patches_cli_session_dup_export (session, step->doc, error);

        if (export == NULL)
          return FALSE;
        patches_cli_print_value (export);
        return TRUE;
      }

    case STEP_EXPECT:
      return run_expect (step, session, error);

    case STEP_CLOSE:
      return patches_cli_session_close (session, step->doc, error);

    case STEP_DELETE:
      return patches_cli_session_delete (session, step->doc, error);

    case STEP_DISCONNECT:
      patches_cli_session_disconnect (session);
      return TRUE;

    case STEP_LOG:
      g_printerr ("%s\n", step->text);
      return TRUE;

    default:
      g_assert_not_reached ();
    }
}

/* Public API */

/**
 * patches_cli_script_new_from_data:
 * @data: the script's JSON
 * @length: the length of @data, or -1 when nul-terminated
 * @options: what the command line gives the steps
 * @error: return location for a #GError
 *
 * Parses and checks a whole script.  Every problem is a
 * %PATCHES_CLI_ERROR_USAGE error naming the step index (from 0) and key.
 *
 * Returns: (transfer full): the script, or %NULL with @error set
 */
PatchesCliScript *
patches_cli_script_new_from_data (const char                    *data,
                                  gssize                         length,
                                  const PatchesCliScriptOptions *options,
                                  GError                       **error)
{
  g_autoptr(PatchesCliScript) self = NULL;
  g_autoptr(PatchesValue) value = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (options != NULL, NULL);

  value = patches_value_parse (data, length, &local_error);
  if (value == NULL)
    {
      g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_USAGE,
                   "The script is not JSON: %s", local_error->message);
      return NULL;
    }

  if (patches_value_get_kind (value) != PATCHES_VALUE_ARRAY)
    {
      g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_USAGE,
                   "A script is a JSON array of steps, not %s", kind_name (value));
      return NULL;
    }

  self = g_new0 (PatchesCliScript, 1);
  self->steps = g_ptr_array_new_with_free_func (step_free);

  for (guint i = 0; i < patches_value_array_get_length (value); i++)
    {
      Step *step = parse_step (patches_value_array_get (value, i), i, options, error);

      if (step == NULL)
        return NULL;
      g_ptr_array_add (self->steps, step);
    }

  return g_steal_pointer (&self);
}

/**
 * patches_cli_script_new_from_file:
 * @path: a script file, or `-` for standard input
 * @options: what the command line gives the steps
 * @error: return location for a #GError
 *
 * Reads and checks a script, as patches_cli_script_new_from_data().
 *
 * Returns: (transfer full): the script, or %NULL with @error set
 */
PatchesCliScript *
patches_cli_script_new_from_file (const char                    *path,
                                  const PatchesCliScriptOptions *options,
                                  GError                       **error)
{
  g_autofree char *data = NULL;
  gsize length = 0;

  g_return_val_if_fail (path != NULL, NULL);

  if (!patches_cli_read_input (path, "the script", &data, &length, error))
    return NULL;

  return patches_cli_script_new_from_data (data, length, options, error);
}

/**
 * patches_cli_script_free:
 * @self: (transfer full): a script
 */
void
patches_cli_script_free (PatchesCliScript *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->steps, g_ptr_array_unref);
  g_free (self);
}

/**
 * patches_cli_script_get_n_steps:
 * @self: a script
 *
 * Returns: the number of steps
 */
guint
patches_cli_script_get_n_steps (PatchesCliScript *self)
{
  return self->steps->len;
}

/**
 * patches_cli_script_run:
 * @self: a script
 * @session: where to run it
 * @error: return location for a #GError
 *
 * Runs the steps in order and stops at the first that fails.  The error
 * names the step index and key; its code is the exit status
 * (%PATCHES_CLI_ERROR_TIMEOUT, %PATCHES_CLI_ERROR_MISMATCH, …), or it is
 * an error of another domain for a step that failed otherwise (exit 5),
 * or %G_IO_ERROR_CANCELLED when the session was interrupted.
 *
 * Returns: %TRUE when every step ran
 */
gboolean
patches_cli_script_run (PatchesCliScript   *self,
                        PatchesCliSession  *session,
                        GError            **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (PATCHES_CLI_IS_SESSION (session), FALSE);

  for (guint i = 0; i < self->steps->len; i++)
    {
      Step *step = g_ptr_array_index (self->steps, i);

      if (!run_step (step, session, error))
        {
          g_prefix_error (error, "step %u (%s): ", step->index, step_names[step->kind]);
          return FALSE;
        }
    }

  return TRUE;
}
