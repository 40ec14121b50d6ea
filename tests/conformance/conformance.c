/* conformance.c: helpers shared by the conformance suites
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "conformance.h"
#include "patches-patch-private.h"

/* Member @name of @object as an integer (JSON integers and doubles),
 * or @fallback */
gint64
conformance_get_int (JsonObject *object,
                     const char *name,
                     gint64      fallback)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return fallback;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return json_node_get_int (node);
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return (gint64) json_node_get_double (node);
  return fallback;
}

/* Member @name of @object when it is a string, else %NULL */
const char *
conformance_get_string (JsonObject *object,
                        const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

PatchesValue *
conformance_get_value (JsonObject *kase,
                       const char *name)
{
  JsonNode *node = json_object_get_member (kase, name);

  if (node == NULL)
    return NULL;
  return patches_value_from_json_node (node);
}

static char *
json_or_absent (const PatchesValue *value)
{
  return value ? patches_value_to_json (value) : g_strdup ("(absent)");
}

gboolean
conformance_check_value (const char   *what,
                         PatchesValue *got,
                         PatchesValue *expect,
                         char        **why)
{
  g_autofree char *g = NULL;
  g_autofree char *e = NULL;

  if (got == NULL && expect == NULL)
    return TRUE;
  if (got != NULL && expect != NULL)
    {
      /* Compare JSON forms: the vectors were recorded as JSON, where a
       * non-finite number (kept in memory, as JavaScript does) is null. */
      g_autofree char *text = patches_value_to_json (got);
      g_autoptr(PatchesValue) reparsed = patches_value_parse (text, -1, NULL);

      if (reparsed != NULL && patches_value_equal (reparsed, expect))
        return TRUE;
    }

  g = json_or_absent (got);
  e = json_or_absent (expect);
  *why = g_strdup_printf ("%s: got %s, expected %s", what, g, e);
  return FALSE;
}

gboolean
conformance_check_equal (const char   *what,
                         PatchesValue *got,
                         JsonObject   *kase,
                         const char   *name,
                         char        **why)
{
  g_autoptr(PatchesValue) expect = conformance_get_value (kase, name);

  return conformance_check_value (what, got, expect, why);
}

GPtrArray *
conformance_get_ops (JsonObject  *kase,
                     const char  *name,
                     GError     **error)
{
  g_autoptr(PatchesValue) value = conformance_get_value (kase, name);

  if (value == NULL)
    return patches_ops_new ();
  return patches_ops_from_value (value, error);
}

static gboolean
check_commit_error (const char            *what,
                    const GError          *error,
                    JsonObject            *expect,
                    ConformanceStatusFunc  status_func,
                    char                 **why)
{
  g_autoptr(PatchesValue) data = patches_commit_error_get_data (error);
  g_autoptr(PatchesValue) expect_data = conformance_get_value (expect, "data");
  g_autoptr(PatchesValue) expect_code = conformance_get_value (expect, "code");
  g_autoptr(PatchesValue) expect_message = conformance_get_value (expect, "message");
  gint64 code = 0;
  const char *message = NULL;
  int status = status_func (error);

  if (expect_code != NULL && patches_value_get_kind (expect_code) == PATCHES_VALUE_NUMBER)
    code = (gint64) patches_value_get_number (expect_code);
  if (expect_message != NULL && patches_value_get_kind (expect_message) == PATCHES_VALUE_STRING)
    message = patches_value_get_string (expect_message);

  if (status != code)
    {
      *why = g_strdup_printf ("%s: got error code %d (%s), expected %" G_GINT64_FORMAT " (%s)",
                              what, status, error->message, code, message);
      return FALSE;
    }
  if (message != NULL && strcmp (message, error->message) != 0)
    {
      *why = g_strdup_printf ("%s: got message \"%s\", expected \"%s\"", what, error->message, message);
      return FALSE;
    }

  return conformance_check_value (what, data, expect_data, why);
}

gboolean
conformance_check_commit_step (const char            *what,
                               JsonObject            *step,
                               PatchesCommit         *commit,
                               gboolean               ok,
                               const GError          *error,
                               ConformanceStatusFunc  status_func,
                               char                 **why)
{
  g_autoptr(PatchesValue) options_value = conformance_get_value (step, "options");
  g_autoptr(PatchesValue) expect_broadcast = conformance_get_value (step, "expect_broadcast");
  g_autoptr(PatchesValue) broadcast = NULL;
  g_autofree char *bwhat = g_strdup_printf ("%s broadcast", what);

  if (json_object_has_member (step, "error"))
    {
      if (ok)
        {
          g_autoptr(PatchesValue) got = patches_commit_result_to_value (commit);
          g_autofree char *text = patches_value_to_json (got);

          *why = g_strdup_printf ("%s: expected an error, got %s", what, text);
          return FALSE;
        }
      if (!check_commit_error (what, error, json_object_get_object_member (step, "error"),
                               status_func, why))
        return FALSE;
    }
  else
    {
      g_autoptr(PatchesValue) got = NULL;

      if (!ok)
        {
          *why = g_strdup_printf ("%s: unexpected error: %s", what, error->message);
          return FALSE;
        }
      got = patches_commit_result_to_value (commit);
      if (!conformance_check_equal (what, got, step, "expect", why))
        return FALSE;

      if (patches_commit_get_new_changes (commit)->len > 0)
        {
          PatchesValue *payload = patches_value_new_object ();

          patches_value_object_set (payload, "changes",
                                    patches_changes_to_value (patches_commit_get_new_changes (commit)));
          if (options_value != NULL)
            patches_value_object_set (payload, "options", patches_value_ref (options_value));
          broadcast = patches_value_new_array ();
          patches_value_array_append (broadcast, payload);
        }
    }

  if (broadcast == NULL)
    broadcast = patches_value_new_null ();
  if (expect_broadcast == NULL)
    expect_broadcast = patches_value_new_null ();
  return conformance_check_value (bwhat, broadcast, expect_broadcast, why);
}
