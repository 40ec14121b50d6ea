/* patches-test-util.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "patches-sqlite-store.h"
#include "patches-test-util.h"

/**
 * patches_test_parse:
 * @json: JSON text that must parse
 *
 * Returns: (transfer full): the value
 */
PatchesValue *
patches_test_parse (const char *json)
{
  g_autoptr(GError) error = NULL;
  PatchesValue *value = patches_value_parse (json, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (value);
  return value;
}

/**
 * patches_test_parse_change:
 * @json: a change as JSON text, which must be valid
 *
 * Returns: (transfer full): the change
 */
PatchesChange *
patches_test_parse_change (const char *json)
{
  g_autoptr(PatchesValue) value = patches_test_parse (json);
  g_autoptr(GError) error = NULL;
  PatchesChange *change = patches_change_from_value (value, &error);

  g_assert_no_error (error);
  g_assert_nonnull (change);
  return change;
}

/**
 * patches_test_parse_changes:
 * @json: an array of changes as JSON text, which must be valid
 *
 * Returns: (transfer full) (element-type PatchesChange): the changes
 */
GPtrArray *
patches_test_parse_changes (const char *json)
{
  g_autoptr(PatchesValue) value = patches_test_parse (json);
  g_autoptr(GError) error = NULL;
  GPtrArray *changes = patches_changes_from_value (value, &error);

  g_assert_no_error (error);
  return changes;
}

/**
 * patches_test_assert_value_json:
 * @value: a value
 * @expected: the JSON text it must equal (patches_value_equal())
 *
 * Fails the test, logging both, when they differ.
 */
void
patches_test_assert_value_json (const PatchesValue *value,
                                const char         *expected)
{
  g_autoptr(PatchesValue) want = patches_test_parse (expected);

  if (!patches_value_equal (value, want))
    {
      g_autofree char *got = patches_value_to_json (value);

      g_test_message ("got      %s", got);
      g_test_message ("expected %s", expected);
      g_assert_not_reached ();
    }
}

/**
 * patches_test_sync_status_name:
 * @status: a sync status
 *
 * Returns: its name for logs: "unsynced", "syncing", "synced" or "error"
 */
const char *
patches_test_sync_status_name (PatchesSyncStatus status)
{
  switch (status)
    {
    case PATCHES_SYNC_STATUS_UNSYNCED: return "unsynced";
    case PATCHES_SYNC_STATUS_SYNCING: return "syncing";
    case PATCHES_SYNC_STATUS_SYNCED: return "synced";
    case PATCHES_SYNC_STATUS_ERROR: return "error";
    default: return "?";
    }
}

/**
 * patches_test_store_close:
 * @store: (inout) (nullable): a store, or %NULL
 *
 * Closes an SQLite store's file and drops the reference, as a client that
 * quits does.
 */
void
patches_test_store_close (PatchesStore **store)
{
  if (*store != NULL && PATCHES_IS_SQLITE_STORE (*store))
    patches_sqlite_store_close (PATCHES_SQLITE_STORE (*store));
  g_clear_object (store);
}
