/* suite-apply-committed.c: conformance cases of apply_committed.json
 *
 * Every case runs twice: through the reference's applyCommittedChanges
 * (`expect` / `error`) and through the stricter live path (`live_expect` /
 * `live_error` when the case has them, else the same results).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "conformance.h"
#include "patches-ot.h"

static const char *
member_string (JsonObject *kase,
               const char *name)
{
  if (!json_object_has_member (kase, name))
    return NULL;
  return json_object_get_string_member (kase, name);
}

static const char *
error_type_name (const GError *error)
{
  if (g_error_matches (error, PATCHES_ERROR, PATCHES_ERROR_MISSING_CHANGES))
    return "MissingChangesError";
  if (g_error_matches (error, PATCHES_ERROR, PATCHES_ERROR_APPLY_CHANGES))
    return "ApplyChangesError";
  return "(other)";
}

/* The prefix of an ApplyChangesError message is ours; the cause after it
 * is the apply engine's wording, which only has to fail in the same cases. */
static gboolean
messages_agree (const char *got,
                const char *expect)
{
  const char *colon;

  if (g_strcmp0 (got, expect) == 0)
    return TRUE;
  if (!g_str_has_prefix (expect, "Failed to apply change "))
    return FALSE;
  colon = strstr (expect, "): ");
  if (colon == NULL)
    return FALSE;
  colon += 3;
  if (strncmp (got, expect, colon - expect) != 0)
    return FALSE;
  g_debug ("apply error cause differs: got \"%s\", expected \"%s\"", got, expect);
  return TRUE;
}

static gboolean
run_variant (JsonObject  *kase,
             gboolean     live,
             const char  *expect_name,
             const char  *error_name,
             const char  *error_type_member,
             char       **why)
{
  g_autoptr(PatchesValue) snapshot = conformance_get_value (kase, "snapshot");
  g_autoptr(PatchesValue) committed_value = conformance_get_value (kase, "committed");
  g_autoptr(GPtrArray) committed = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(PatchesValue) state = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) got = NULL;
  const char *variant = live ? "live" : "applyCommittedChanges";
  const char *expect_error = member_string (kase, error_name);
  PatchesValue *rev_value, *state_value, *changes_value;
  gint64 rev;

  if (snapshot == NULL || committed_value == NULL ||
      patches_value_get_kind (snapshot) != PATCHES_VALUE_OBJECT)
    {
      *why = g_strdup ("case lacks snapshot or committed");
      return FALSE;
    }

  state_value = patches_value_object_get (snapshot, "state");
  rev_value = patches_value_object_get (snapshot, "rev");
  changes_value = patches_value_object_get (snapshot, "changes");
  if (rev_value == NULL || changes_value == NULL)
    {
      *why = g_strdup ("snapshot lacks rev or changes");
      return FALSE;
    }

  state = state_value ? patches_value_ref (state_value) : NULL;
  rev = (gint64) patches_value_get_number (rev_value);
  pending = patches_changes_from_value (changes_value, &error);
  if (pending != NULL)
    committed = patches_changes_from_value (committed_value, &error);
  if (committed == NULL)
    {
      *why = g_strdup_printf ("cannot read changes: %s", error->message);
      return FALSE;
    }

  if (!patches_apply_committed_changes (&state, &rev, &pending, committed, live, &error))
    {
      const char *expect_type = member_string (kase, error_type_member);

      if (expect_error == NULL)
        {
          *why = g_strdup_printf ("%s: unexpected error: %s", variant, error->message);
          return FALSE;
        }
      if (expect_type != NULL && g_strcmp0 (expect_type, error_type_name (error)) != 0)
        {
          *why = g_strdup_printf ("%s: error type %s, expected %s (%s)", variant,
                                  error_type_name (error), expect_type, error->message);
          return FALSE;
        }
      if (!messages_agree (error->message, expect_error))
        {
          *why = g_strdup_printf ("%s: error \"%s\", expected \"%s\"", variant,
                                  error->message, expect_error);
          return FALSE;
        }
      return TRUE;
    }

  if (expect_error != NULL)
    {
      *why = g_strdup_printf ("%s: succeeded, expected error \"%s\"", variant, expect_error);
      return FALSE;
    }

  got = patches_value_new_object ();
  patches_value_object_set (got, "state", state ? patches_value_ref (state) : patches_value_new_null ());
  patches_value_object_set (got, "rev", patches_value_new_number ((double) rev));
  patches_value_object_set (got, "changes", patches_changes_to_value (pending));

  return conformance_check_equal (variant, got, kase, expect_name, why);
}

gboolean
conformance_run_apply_committed (JsonObject  *kase,
                                 JsonObject  *root,
                                 char       **why)
{
  gboolean has_live = json_object_has_member (kase, "live_expect") ||
                      json_object_has_member (kase, "live_error");

  if (!run_variant (kase, FALSE, "expect", "error", "error_type", why))
    return FALSE;

  if (has_live)
    return run_variant (kase, TRUE, "live_expect", "live_error", "live_error_type", why);
  return run_variant (kase, TRUE, "expect", "error", "error_type", why);
}
