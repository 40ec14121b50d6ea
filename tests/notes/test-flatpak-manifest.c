/* test-flatpak-manifest.c
 *
 * The Flatpak manifest (flatpak/<application id>.json) agrees with the
 * build: the app id is meson's `application_id`, the runtime and the
 * permissions are the ones the app needs, the module builds this
 * repository with meson, and its config-opts carry every option that
 * build-aux/run.sh passes to `meson setup`.
 *
 * G_TEST_SRCDIR is the repository root (set by data/meson.build).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#ifndef APPLICATION_ID
# error "APPLICATION_ID must be defined by the build"
#endif

static JsonObject *
load_manifest (JsonParser **parser_out)
{
  g_autofree char *path = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  path = g_test_build_filename (G_TEST_DIST, "flatpak", APPLICATION_ID ".json", NULL);
  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);

  root = json_parser_get_root (parser);
  g_assert_nonnull (root);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));

  *parser_out = g_steal_pointer (&parser);
  return json_node_get_object (root);
}

static const char *
member_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
array_has_string (JsonArray  *array,
                  const char *wanted)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (node) &&
          json_node_get_value_type (node) == G_TYPE_STRING &&
          g_strcmp0 (json_node_get_string (node), wanted) == 0)
        return TRUE;
    }
  return FALSE;
}

static JsonObject *
last_module (JsonObject *manifest)
{
  JsonArray *modules;
  JsonNode *node;

  g_assert_true (json_object_has_member (manifest, "modules"));
  modules = json_object_get_array_member (manifest, "modules");
  g_assert_nonnull (modules);
  g_assert_cmpuint (json_array_get_length (modules), >, 0);

  node = json_array_get_element (modules, json_array_get_length (modules) - 1);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_node_get_object (node);
}

/* The options that a shell script passes to `meson setup`: the
 * `--buildtype=…` / `--buildtype …` and `-Dname=value` / `-D name=value`
 * words of every `meson setup` command in it (backslash continuations
 * joined, comments skipped).  Each is returned in its one-word form. */
static GPtrArray *
meson_setup_options (const char *script)
{
  g_autoptr(GPtrArray) options = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) joined = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;

  /* Join continuation lines first */
  lines = g_strsplit (script, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      gsize len = strlen (lines[i]);

      if (len > 0 && lines[i][len - 1] == '\\')
        g_string_append_len (joined, lines[i], len - 1);
      else
        {
          g_string_append (joined, lines[i]);
          g_string_append_c (joined, '\n');
        }
    }

  g_strfreev (lines);
  lines = g_strsplit (joined->str, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      const char *setup;
      g_auto(GStrv) argv = NULL;

      while (g_ascii_isspace (*line))
        line++;
      if (*line == '#')
        continue;
      setup = strstr (line, "meson setup");
      if (setup == NULL)
        continue;
      if (!g_shell_parse_argv (setup, NULL, &argv, NULL))
        continue;

      for (guint j = 2; argv[j] != NULL; j++)
        {
          const char *word = argv[j];

          /* The end of the command: another command or a comment */
          if (g_str_equal (word, ";") || g_str_equal (word, "&&") ||
              g_str_equal (word, "||") || g_str_equal (word, "|") ||
              word[0] == '#')
            break;

          if (g_str_has_prefix (word, "--buildtype="))
            g_ptr_array_add (options, g_strdup (word));
          else if (g_str_equal (word, "--buildtype") && argv[j + 1] != NULL)
            g_ptr_array_add (options, g_strconcat ("--buildtype=", argv[++j], NULL));
          else if (g_str_equal (word, "-D") && argv[j + 1] != NULL)
            g_ptr_array_add (options, g_strconcat ("-D", argv[++j], NULL));
          else if (g_str_has_prefix (word, "-D"))
            g_ptr_array_add (options, g_strdup (word));
        }
    }

  return g_steal_pointer (&options);
}

static void
test_app_id (void)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *manifest = load_manifest (&parser);
  const char *id = member_string (manifest, "id");

  /* flatpak-builder accepts the older spelling "app-id" too */
  if (id == NULL)
    id = member_string (manifest, "app-id");
  g_assert_cmpstr (id, ==, APPLICATION_ID);
}

static void
test_runtime (void)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *manifest = load_manifest (&parser);
  const char *version;

  g_assert_cmpstr (member_string (manifest, "runtime"), ==, "org.gnome.Platform");
  g_assert_cmpstr (member_string (manifest, "sdk"), ==, "org.gnome.Sdk");

  version = member_string (manifest, "runtime-version");
  g_assert_nonnull (version);
  /* GTK 4.8 and libadwaita 1.2 are the oldest the app supports: the GNOME
   * 43 runtime; a number, not "master" */
  g_assert_cmpint (g_ascii_strtoll (version, NULL, 10), >=, 43);
}

static void
test_command_matches_desktop_file (void)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *manifest = load_manifest (&parser);
  g_autoptr(GKeyFile) desktop = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *exec = NULL;
  g_auto(GStrv) exec_argv = NULL;

  g_assert_cmpstr (member_string (manifest, "command"), ==, "patches-notes");

  /* The launcher runs the same program as `flatpak run` */
  path = g_test_build_filename (G_TEST_DIST, "data", "io.github.patches.Notes.desktop.in", NULL);
  g_key_file_load_from_file (desktop, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  exec = g_key_file_get_string (desktop, G_KEY_FILE_DESKTOP_GROUP,
                                G_KEY_FILE_DESKTOP_KEY_EXEC, &error);
  g_assert_no_error (error);
  g_assert_true (g_shell_parse_argv (exec, NULL, &exec_argv, NULL));
  g_assert_cmpstr (exec_argv[0], ==, member_string (manifest, "command"));
}

static void
test_finish_args (void)
{
  static const char * const required[] = {
    "--share=network",
    "--share=ipc",
    "--socket=wayland",
    "--socket=fallback-x11",
    "--device=dri",
    "--talk-name=org.freedesktop.secrets",
  };
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *manifest = load_manifest (&parser);
  JsonArray *finish_args;

  g_assert_true (json_object_has_member (manifest, "finish-args"));
  finish_args = json_object_get_array_member (manifest, "finish-args");
  g_assert_nonnull (finish_args);

  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    {
      if (!array_has_string (finish_args, required[i]))
        g_test_fail_printf ("finish-args lack %s", required[i]);
    }

  /* No blanket access that the app has no use for */
  g_assert_false (array_has_string (finish_args, "--filesystem=host"));
  g_assert_false (array_has_string (finish_args, "--socket=x11"));
}

static void
test_module_builds_this_repository (void)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *manifest = load_manifest (&parser);
  JsonObject *module = last_module (manifest);
  JsonArray *sources;
  g_autofree char *manifest_dir = NULL;
  g_autofree char *root = NULL;
  guint n_dirs = 0;

  g_assert_cmpstr (member_string (module, "buildsystem"), ==, "meson");

  manifest_dir = g_test_build_filename (G_TEST_DIST, "flatpak", NULL);
  root = realpath (g_test_get_dir (G_TEST_DIST), NULL);
  g_assert_nonnull (root);

  g_assert_true (json_object_has_member (module, "sources"));
  sources = json_object_get_array_member (module, "sources");
  g_assert_nonnull (sources);

  for (guint i = 0; i < json_array_get_length (sources); i++)
    {
      JsonNode *node = json_array_get_element (sources, i);
      JsonObject *source;
      const char *path;
      g_autofree char *joined = NULL;
      g_autofree char *resolved = NULL;
      g_autofree char *meson_build = NULL;
      g_autofree char *contents = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
      source = json_node_get_object (node);
      if (g_strcmp0 (member_string (source, "type"), "dir") != 0)
        continue;
      n_dirs++;

      /* Relative to the manifest's directory, as flatpak-builder reads it */
      path = member_string (source, "path");
      g_assert_nonnull (path);
      g_assert_false (g_path_is_absolute (path));
      joined = g_build_filename (manifest_dir, path, NULL);
      resolved = realpath (joined, NULL);
      g_assert_nonnull (resolved);
      g_assert_cmpstr (resolved, ==, root);

      meson_build = g_build_filename (resolved, "meson.build", NULL);
      g_file_get_contents (meson_build, &contents, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (strstr (contents, "project('patches'") != NULL);
    }

  g_assert_cmpuint (n_dirs, ==, 1);
}

static void
test_config_opts_match_run_sh (void)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *manifest = load_manifest (&parser);
  JsonObject *module = last_module (manifest);
  JsonArray *config_opts;
  g_autofree char *run_sh = NULL;
  g_autofree char *script = NULL;
  g_autoptr(GPtrArray) options = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (json_object_has_member (module, "config-opts"));
  config_opts = json_object_get_array_member (module, "config-opts");
  g_assert_nonnull (config_opts);

  run_sh = g_test_build_filename (G_TEST_DIST, "build-aux", "run.sh", NULL);
  g_file_get_contents (run_sh, &script, NULL, &error);
  g_assert_no_error (error);

  options = meson_setup_options (script);
  /* run.sh makes a release build: an empty list would mean the parser
   * lost the `meson setup` line */
  g_assert_true (g_ptr_array_find_with_equal_func (options, "--buildtype=release",
                                                   g_str_equal, NULL));

  for (guint i = 0; i < options->len; i++)
    {
      const char *option = g_ptr_array_index (options, i);

      if (!array_has_string (config_opts, option))
        g_test_fail_printf ("build-aux/run.sh passes %s to meson setup, "
                            "the manifest's config-opts do not", option);
    }

  /* And the manifest builds the app */
  g_assert_true (array_has_string (config_opts, "-Dnotes=true"));
}

static void
test_meson_setup_options_parser (void)
{
  static const char script[] =
    "#!/bin/bash\n"
    "# meson setup _old -Dcommented=true\n"
    "if [ ! -f \"$b/build.ninja\" ]; then\n"
    "  meson setup \"$b\" --buildtype=release -Dnotes=true \\\n"
    "    -D long_tests=false --prefix=/usr && echo -Dnot=this\n"
    "fi\n"
    "meson compile -C \"$b\" -Dnot=this_either\n"
    "meson setup other --buildtype debug\n";
  g_autoptr(GPtrArray) options = meson_setup_options (script);

  g_assert_cmpuint (options->len, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (options, 0), ==, "--buildtype=release");
  g_assert_cmpstr (g_ptr_array_index (options, 1), ==, "-Dnotes=true");
  g_assert_cmpstr (g_ptr_array_index (options, 2), ==, "-Dlong_tests=false");
  g_assert_cmpstr (g_ptr_array_index (options, 3), ==, "--buildtype=debug");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Notes/Flatpak/manifest/app-id", test_app_id);
  g_test_add_func ("/Notes/Flatpak/manifest/runtime", test_runtime);
  g_test_add_func ("/Notes/Flatpak/manifest/command", test_command_matches_desktop_file);
  g_test_add_func ("/Notes/Flatpak/manifest/finish-args", test_finish_args);
  g_test_add_func ("/Notes/Flatpak/manifest/module-source", test_module_builds_this_repository);
  g_test_add_func ("/Notes/Flatpak/manifest/config-opts", test_config_opts_match_run_sh);
  g_test_add_func ("/Notes/Flatpak/run-sh/meson-setup-options", test_meson_setup_options_parser);

  return g_test_run ();
}
