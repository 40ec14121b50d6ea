/* suite-batches.c: conformance cases of batches.json
 *
 * Ids generated for split pieces end in 4 random characters, written
 * `????` in the vectors: the prefix is compared exactly and the rest must
 * be 4 base-62 characters.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "conformance.h"
#include "patches-batch.h"

static gboolean
is_base62 (char c)
{
  return g_ascii_isalnum (c);
}

/* Where @expect has a `????` id and @got a matching generated one, copy
 * the expected id into @got so that deep equality can do the rest. */
static void
normalise_change_ids (PatchesValue *got,
                      PatchesValue *expect)
{
  PatchesValue *got_id, *expect_id;
  const char *g, *e;
  gsize elen;

  if (got == NULL || expect == NULL ||
      patches_value_get_kind (got) != PATCHES_VALUE_OBJECT ||
      patches_value_get_kind (expect) != PATCHES_VALUE_OBJECT)
    return;

  got_id = patches_value_object_get (got, "id");
  expect_id = patches_value_object_get (expect, "id");
  if (got_id == NULL || expect_id == NULL ||
      patches_value_get_kind (got_id) != PATCHES_VALUE_STRING ||
      patches_value_get_kind (expect_id) != PATCHES_VALUE_STRING)
    return;

  g = patches_value_get_string (got_id);
  e = patches_value_get_string (expect_id);
  elen = strlen (e);
  if (elen < 4 || strcmp (e + elen - 4, "????") != 0 || strlen (g) != elen ||
      strncmp (g, e, elen - 4) != 0)
    return;
  for (gsize i = elen - 4; i < elen; i++)
    if (!is_base62 (g[i]))
      return;

  patches_value_object_set (got, "id", patches_value_new_string (e));
}

static void
normalise_list (PatchesValue *got,
                PatchesValue *expect,
                gboolean      nested)
{
  if (got == NULL || expect == NULL ||
      patches_value_get_kind (got) != PATCHES_VALUE_ARRAY ||
      patches_value_get_kind (expect) != PATCHES_VALUE_ARRAY)
    return;

  for (guint i = 0; i < patches_value_array_get_length (got) &&
                    i < patches_value_array_get_length (expect); i++)
    {
      if (nested)
        normalise_list (patches_value_array_get (got, i), patches_value_array_get (expect, i), FALSE);
      else
        normalise_change_ids (patches_value_array_get (got, i), patches_value_array_get (expect, i));
    }
}

static void
collect_report (const PatchesOversizedOpReport *report,
                gpointer                        user_data)
{
  PatchesValue *reports = user_data;
  PatchesValue *r = patches_value_new_object ();

  patches_value_object_set (r, "op", patches_value_new_string (report->op));
  patches_value_object_set (r, "path", patches_value_new_string (report->path));
  patches_value_object_set (r, "bytes", patches_value_new_number (report->bytes));
  patches_value_object_set (r, "maxBytes", patches_value_new_number (report->max_bytes));
  patches_value_object_set (r, "budget", patches_value_new_string (
                              report->budget == PATCHES_SPLIT_BUDGET_PAYLOAD ? "payload" : "storage"));
  patches_value_object_set (r, "emitted", patches_value_new_bool (report->emitted));
  patches_value_object_set (r, "reason",
                            patches_value_new_string (patches_oversized_reason_to_string (report->reason)));
  patches_value_array_append (reports, r);
}

static gsize
option_size (PatchesValue *options,
             const char   *name)
{
  PatchesValue *v = options ? patches_value_object_get (options, name) : NULL;

  if (v == NULL || patches_value_get_kind (v) != PATCHES_VALUE_NUMBER)
    return 0;
  return (gsize) patches_value_get_number (v);
}

gboolean
conformance_run_batches (JsonObject  *kase,
                         JsonObject  *root,
                         char       **why)
{
  g_autoptr(PatchesValue) changes_value = conformance_get_value (kase, "changes");
  g_autoptr(PatchesValue) options_value = conformance_get_value (kase, "options");
  g_autoptr(PatchesValue) expect = conformance_get_value (kase, "expect");
  g_autoptr(PatchesValue) expect_reports = conformance_get_value (kase, "oversized_reports");
  g_autoptr(PatchesValue) reports = patches_value_new_array ();
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GPtrArray) result = NULL;
  g_autoptr(PatchesValue) got = NULL;
  g_autoptr(GError) error = NULL;
  PatchesSplitOptions options = { 0 };
  const char *fn = json_object_get_string_member_with_default (kase, "fn", "");
  const char *expect_error = json_object_get_string_member_with_default (kase, "error", NULL);
  gboolean batches = g_strcmp0 (fn, "breakChangesIntoBatches") == 0;

  if (changes_value == NULL || !(changes = patches_changes_from_value (changes_value, &error)))
    {
      *why = g_strdup_printf ("cannot read changes: %s", error ? error->message : "absent");
      return FALSE;
    }

  options.max_payload_bytes = option_size (options_value, "maxPayloadBytes");
  options.max_storage_bytes = option_size (options_value, "maxStorageBytes");
  options.max_unsplittable_bytes = option_size (options_value, "maxUnsplittableBytes");
  options.oversized_func = collect_report;
  options.oversized_data = reports;

  if (batches)
    result = patches_break_changes_into_batches (changes, &options, &error);
  else if (g_strcmp0 (fn, "breakChanges") == 0)
    result = patches_break_changes (changes, option_size (options_value, "maxBytes"), &options, &error);
  else
    {
      *why = g_strdup_printf ("unknown fn \"%s\"", fn);
      return FALSE;
    }

  if (result == NULL)
    {
      if (expect_error == NULL)
        {
          *why = g_strdup_printf ("unexpected error: %s", error->message);
          return FALSE;
        }
      if (!g_error_matches (error, PATCHES_ERROR, PATCHES_ERROR_UNSPLITTABLE) ||
          g_strcmp0 (error->message, expect_error) != 0)
        {
          *why = g_strdup_printf ("error \"%s\", expected \"%s\"", error->message, expect_error);
          return FALSE;
        }
    }
  else
    {
      if (expect_error != NULL)
        {
          *why = g_strdup_printf ("succeeded, expected error \"%s\"", expect_error);
          return FALSE;
        }

      if (batches)
        {
          got = patches_value_new_array ();
          for (guint i = 0; i < result->len; i++)
            patches_value_array_append (got, patches_changes_to_value (g_ptr_array_index (result, i)));
        }
      else
        got = patches_changes_to_value (result);

      normalise_list (got, expect, batches);
      if (!conformance_check_value (fn, got, expect, why))
        return FALSE;
    }

  if (expect_reports != NULL)
    return conformance_check_value ("oversized reports", reports, expect_reports, why);

  if (patches_value_array_get_length (reports) > 0)
    {
      g_autofree char *text = patches_value_to_json (reports);

      *why = g_strdup_printf ("unexpected oversized reports: %s", text);
      return FALSE;
    }

  return TRUE;
}
