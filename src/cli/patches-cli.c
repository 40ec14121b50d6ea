/* patches-cli.c: the command-line client of a Patches server
 *
 * patches-cli [--server URL] [--token TOKEN] [--store FILE] COMMAND
 *
 * Every command is built on PatchesClient, a store and PatchesSync, as an
 * application is: no JSON-RPC frame is written here.  See patches-cli(1).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <locale.h>
#include <signal.h>
#include <stdio.h>

#include <glib-unix.h>

#include "patches-cli-script.h"
#include "patches-cli-session.h"

#define DEFAULT_TIMEOUT_MS 30000

static char *opt_server;
static char *opt_token;
static char *opt_store;
static int opt_timeout = DEFAULT_TIMEOUT_MS;
static gboolean opt_version;

static const GOptionEntry entries[] = {
  { "server", 's', 0, G_OPTION_ARG_STRING, &opt_server,
    "The server's WebSocket URL (ws:// or wss://)", "URL" },
  { "token", 't', 0, G_OPTION_ARG_STRING, &opt_token,
    "A bearer token for the server (default: $PATCHES_TOKEN)", "TOKEN" },
  { "store", 0, 0, G_OPTION_ARG_FILENAME, &opt_store,
    "Keep documents and unsent changes in this SQLite file (default: in memory)", "FILE" },
  { "timeout", 0, 0, G_OPTION_ARG_INT, &opt_timeout,
    "How long to wait for the server, in ms (default 30000)", "MS" },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
    "Print the version and exit", NULL },
  { NULL }
};

static const char description[] =
  "Commands:\n"
  "  get DOC             Sync DOC and print its state as one line of JSON.\n"
  "  patch DOC OPS.json  Apply a JSON array of ops to DOC as one change and\n"
  "                      wait until the server has it.\n"
  "  watch DOC...        Print every change committed to DOC from now on, one\n"
  "                      line {\"doc\": DOC, \"change\": CHANGE} each, until SIGINT.\n"
  "  export DOC          Print {\"doc\": DOC, \"rev\": REV, \"state\": STATE}.\n"
  "  import DOC FILE     Make FILE's JSON the state of DOC and wait until the\n"
  "                      server has it.\n"
  "  run SCRIPT.json     Run a script (below).\n"
  "A file name of - reads standard input.  Text values are printed as\n"
  "{\"ops\": [...]}, as the wire carries them.  Commands other than run need\n"
  "--server and fail when the server cannot be reached.\n"
  "\n"
  "A script is a JSON array of one-key steps, run in order:\n"
  "  {\"connect\": URL}          (or true for --server, or {\"url\", \"token\",\n"
  "                            \"timeout_ms\"}); an unreachable server is a\n"
  "                            warning: edits are kept and sent later\n"
  "  {\"open\": DOC}             {\"close\": DOC}          {\"delete\": DOC}\n"
  "  {\"change\": {\"doc\": DOC, \"ops\": [OP...]}}\n"
  "  {\"wait_synced\": {\"timeout_ms\": N}}\n"
  "  {\"wait_rev\": {\"doc\": DOC, \"rev\": N, \"timeout_ms\": N}}\n"
  "  {\"sleep\": MS}             {\"log\": TEXT}           {\"disconnect\": true}\n"
  "  {\"print\": DOC}            prints {\"doc\": DOC, \"rev\": N, \"state\": STATE}\n"
  "  {\"expect\": {\"doc\": DOC, \"state\": STATE, \"rev\": N}}\n"
  "Steps are numbered from 0 in messages.\n"
  "\n"
  "Exit status: 0 ok, 2 usage or script error, 3 a wait timed out,\n"
  "4 an expect did not match, 5 a step or command failed.\n"
  "See patches-cli(1).";

typedef gboolean (*CommandFunc) (PatchesCliSession  *session,
                                 char              **args,
                                 GError            **error);

/* Logging: everything to stderr, so that stdout carries only JSON lines */
static GLogWriterOutput
log_writer (GLogLevelFlags   log_level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  g_autofree char *line = NULL;
  const char *domain = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
      domain = fields[i].value;

  if (g_log_writer_default_would_drop (log_level, domain))
    return G_LOG_WRITER_HANDLED;

  line = g_log_writer_format_fields (log_level, fields, n_fields, FALSE);
  fprintf (stderr, "%s\n", line);
  fflush (stderr);

  return G_LOG_WRITER_HANDLED;
}

static gboolean
need_server (GError **error)
{
  if (opt_server != NULL)
    return TRUE;

  g_set_error_literal (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_USAGE,
                       "This command needs --server URL");
  return FALSE;
}

/* Opens @doc_ids, connects and waits until they are synced */
static gboolean
open_synced (PatchesCliSession   *session,
             const char * const  *doc_ids,
             GError             **error)
{
  if (!need_server (error))
    return FALSE;

  for (guint i = 0; doc_ids[i] != NULL; i++)
    if (!patches_cli_session_open (session, doc_ids[i], error))
      return FALSE;

  if (!patches_cli_session_connect (session, opt_server, opt_token, (guint) opt_timeout,
                                    FALSE, error) ||
      !patches_cli_session_wait_synced (session, (guint) opt_timeout, error))
    return FALSE;

  /* The sync forgets a document the server deleted */
  for (guint i = 0; doc_ids[i] != NULL; i++)
    if (patches_client_get_open_doc (patches_cli_session_get_client (session), doc_ids[i]) == NULL)
      {
        g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_FAILED,
                     "Document %s was deleted on the server", doc_ids[i]);
        return FALSE;
      }

  return TRUE;
}

static gboolean
command_get (PatchesCliSession  *session,
             char              **args,
             GError            **error)
{
  g_autoptr(PatchesValue) export = NULL;

  if (!open_synced (session, (const char * const *) args, error) ||
      !(export = patches_cli_session_dup_export (session, args[0], error)))
    return FALSE;

  patches_cli_print_value (patches_value_object_get (export, "state"));

  return TRUE;
}

static gboolean
command_export (PatchesCliSession  *session,
                char              **args,
                GError            **error)
{
  g_autoptr(PatchesValue) export = NULL;

  if (!open_synced (session, (const char * const *) args, error) ||
      !(export = patches_cli_session_dup_export (session, args[0], error)))
    return FALSE;

  patches_cli_print_value (export);

  return TRUE;
}

static gboolean
command_patch (PatchesCliSession  *session,
               char              **args,
               GError            **error)
{
  const char *doc_ids[] = { args[0], NULL };
  g_autoptr(PatchesPatch) patch = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *data = NULL;
  gsize length = 0;

  if (!patches_cli_read_input (args[1], "the ops file", &data, &length, error))
    return FALSE;

  patch = patches_patch_from_json (data, length, &local_error);
  if (patch == NULL)
    {
      g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_USAGE,
                   "%s is not a JSON array of ops: %s", args[1], local_error->message);
      return FALSE;
    }

  return open_synced (session, doc_ids, error) &&
         patches_cli_session_change (session, args[0], patch, error) &&
         patches_cli_session_wait_synced (session, (guint) opt_timeout, error);
}

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

/* The ops that turn @doc's state into @target.  The server refuses ops
 * at the root of a document that has history (PROTOCOL.md §7.2 step 5),
 * so an object is imported member by member: a remove for each member
 * @target lacks, an add for each member that is new or differs.  A root
 * replace is only used for a document without history. */
static PatchesPatch *
import_patch (PatchesDoc    *doc,
              PatchesValue  *target,
              GError       **error)
{
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  PatchesValue *current = patches_doc_get_state (doc);

  if (patches_value_get_kind (target) == PATCHES_VALUE_OBJECT &&
      patches_value_get_kind (current) == PATCHES_VALUE_OBJECT)
    {
      for (guint i = 0; i < patches_value_object_get_size (current); i++)
        {
          const char *key = patches_value_object_key_at (current, i);

          if (!patches_value_object_has (target, key))
            {
              g_autoptr(GString) path = g_string_new (NULL);

              append_pointer_token (path, key);
              patches_patch_remove (patch, path->str);
            }
        }

      for (guint i = 0; i < patches_value_object_get_size (target); i++)
        {
          const char *key = patches_value_object_key_at (target, i);
          PatchesValue *value = patches_value_object_value_at (target, i);
          PatchesValue *old = patches_value_object_get (current, key);

          if (old == NULL || !patches_value_equal (old, value))
            {
              g_autoptr(GString) path = g_string_new (NULL);

              append_pointer_token (path, key);
              patches_patch_add (patch, path->str, patches_value_ref (value), FALSE);
            }
        }

      return g_steal_pointer (&patch);
    }

  if (patches_value_equal (current, target))
    return g_steal_pointer (&patch);

  if (patches_doc_get_committed_rev (doc) > 0 || patches_doc_get_has_pending (doc))
    {
      g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_FAILED,
                   "%s has history and its state or the file is not an object: the server "
                   "refuses to replace the root of an existing document",
                   patches_doc_get_id (doc));
      return NULL;
    }

  patches_patch_replace (patch, "", patches_value_ref (target), FALSE);

  return g_steal_pointer (&patch);
}

static gboolean
command_import (PatchesCliSession  *session,
                char              **args,
                GError            **error)
{
  const char *doc_ids[] = { args[0], NULL };
  g_autoptr(PatchesValue) target = NULL;
  g_autoptr(PatchesPatch) patch = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *data = NULL;
  PatchesDoc *doc;
  gsize length = 0;

  if (!patches_cli_read_input (args[1], "the file", &data, &length, error))
    return FALSE;

  target = patches_value_parse (data, length, &local_error);
  if (target == NULL)
    {
      g_set_error (error, PATCHES_CLI_ERROR, PATCHES_CLI_ERROR_USAGE,
                   "%s: %s", args[1], local_error->message);
      return FALSE;
    }

  if (!open_synced (session, doc_ids, error) ||
      !(doc = patches_cli_session_lookup (session, args[0], error)) ||
      !(patch = import_patch (doc, target, error)))
    return FALSE;

  return patches_cli_session_change (session, args[0], patch, error) &&
         patches_cli_session_wait_synced (session, (guint) opt_timeout, error);
}

static void
on_committed (PatchesClient *client,
              const char    *doc_id,
              GPtrArray     *changes,
              GHashTable    *watched)
{
  g_autoptr(GString) lines = g_string_new (NULL);

  if (!g_hash_table_contains (watched, doc_id))
    return;

  for (guint i = 0; i < changes->len; i++)
    {
      g_string_append (lines, "{\"doc\":");
      patches_js_append_string (lines, doc_id, -1);
      g_string_append (lines, ",\"change\":");
      patches_change_write_json (g_ptr_array_index (changes, i), lines);
      g_string_append (lines, "}\n");
    }

  fwrite (lines->str, 1, lines->len, stdout);
  fflush (stdout);
}

static gboolean
on_stop_signal (gpointer user_data)
{
  patches_cli_session_interrupt (user_data);

  return G_SOURCE_CONTINUE;
}

static gboolean
command_watch (PatchesCliSession  *session,
               char              **args,
               GError            **error)
{
  g_autoptr(GHashTable) watched = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GString) ready = g_string_new ("patches-cli: watching");
  PatchesClient *client = patches_cli_session_get_client (session);
  g_autoptr(GError) local_error = NULL;
  guint sigint, sigterm;
  gboolean ok;

  sigint = g_unix_signal_add (SIGINT, on_stop_signal, session);
  sigterm = g_unix_signal_add (SIGTERM, on_stop_signal, session);

  ok = open_synced (session, (const char * const *) args, &local_error);

  if (ok)
    {
      /* From here on: what the initial sync brought is not news */
      for (guint i = 0; args[i] != NULL; i++)
        {
          g_hash_table_add (watched, args[i]);
          g_string_append_printf (ready, " %s (rev %" G_GINT64_FORMAT ")", args[i],
                                  patches_client_get_committed_rev (client, args[i]));
        }
      g_signal_connect (client, "committed", G_CALLBACK (on_committed), watched);
      g_printerr ("%s\n", ready->str);

      patches_cli_session_run (session);

      g_signal_handlers_disconnect_by_data (client, watched);
    }

  g_source_remove (sigint);
  g_source_remove (sigterm);

  /* interrupted: a clean stop */
  if (!ok && !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  return TRUE;
}

static gboolean
command_run (PatchesCliSession  *session,
             char              **args,
             GError            **error)
{
  PatchesCliScriptOptions options = {
    .url = opt_server,
    .token = opt_token,
    .timeout_ms = (guint) opt_timeout,
  };
  g_autoptr(PatchesCliScript) script = NULL;

  if (!(script = patches_cli_script_new_from_file (args[0], &options, error)))
    return FALSE;

  return patches_cli_script_run (script, session, error);
}

static const struct {
  const char  *name;
  guint        min_args;
  guint        max_args;
  CommandFunc  func;
  const char  *usage;
} commands[] = {
  { "get", 1, 1, command_get, "get DOC" },
  { "patch", 2, 2, command_patch, "patch DOC OPS.json" },
  { "watch", 1, G_MAXUINT, command_watch, "watch DOC..." },
  { "export", 1, 1, command_export, "export DOC" },
  { "import", 2, 2, command_import, "import DOC FILE" },
  { "run", 1, 1, command_run, "run SCRIPT.json" },
};

static int
exit_status (const GError *error)
{
  if (error == NULL)
    return 0;
  if (error->domain == PATCHES_CLI_ERROR)
    return error->code;

  return PATCHES_CLI_ERROR_FAILED;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(PatchesCliSession) session = NULL;
  g_autoptr(GError) error = NULL;
  guint n_args;
  guint command;

  setlocale (LC_ALL, "");
  signal (SIGPIPE, SIG_IGN);
  g_log_set_writer_func (log_writer, NULL, NULL);
  g_set_prgname ("patches-cli");

  context = g_option_context_new ("COMMAND [ARG…] - a scriptable Patches client");
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("patches-cli: %s\n", error->message);
      return PATCHES_CLI_ERROR_USAGE;
    }

  if (opt_version)
    {
      g_print ("patches-cli %s\n", PATCHES_VERSION);
      return 0;
    }

  if (opt_token == NULL && g_getenv ("PATCHES_TOKEN") != NULL)
    opt_token = g_strdup (g_getenv ("PATCHES_TOKEN"));

  if (opt_timeout < 0)
    {
      g_printerr ("patches-cli: --timeout must not be negative\n");
      return PATCHES_CLI_ERROR_USAGE;
    }

  if (argc < 2)
    {
      g_printerr ("patches-cli: no command (try --help)\n");
      return PATCHES_CLI_ERROR_USAGE;
    }

  for (command = 0; command < G_N_ELEMENTS (commands); command++)
    if (g_str_equal (argv[1], commands[command].name))
      break;

  if (command == G_N_ELEMENTS (commands))
    {
      g_printerr ("patches-cli: unknown command \"%s\" (try --help)\n", argv[1]);
      return PATCHES_CLI_ERROR_USAGE;
    }

  n_args = (guint) argc - 2;
  if (n_args < commands[command].min_args || n_args > commands[command].max_args)
    {
      g_printerr ("patches-cli: usage: patches-cli [OPTION…] %s\n", commands[command].usage);
      return PATCHES_CLI_ERROR_USAGE;
    }

  for (guint i = 2; i < (guint) argc; i++)
    if (argv[i][0] == '\0')
      {
        g_printerr ("patches-cli: %s: an argument is empty\n", commands[command].name);
        return PATCHES_CLI_ERROR_USAGE;
      }

  if (!(session = patches_cli_session_new (opt_store, &error)) ||
      !commands[command].func (session, argv + 2, &error))
    g_printerr ("patches-cli: %s\n", error->message);

  g_clear_object (&session);
  g_clear_pointer (&opt_server, g_free);
  g_clear_pointer (&opt_token, g_free);
  g_clear_pointer (&opt_store, g_free);

  return exit_status (error);
}
