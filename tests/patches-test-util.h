/* patches-test-util.h
 *
 * Small helpers the library's tests share: values and changes from JSON
 * text (asserting that it parses), the name of a sync status for logs,
 * and closing a store the way a client that quits does.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches.h"
#include "patches-store.h"
#include "patches-sync.h"

G_BEGIN_DECLS

PatchesValue  *patches_test_parse             (const char         *json);
PatchesChange *patches_test_parse_change      (const char         *json);
GPtrArray     *patches_test_parse_changes     (const char         *json);
void           patches_test_assert_value_json (const PatchesValue *value,
                                               const char         *expected);

const char    *patches_test_sync_status_name  (PatchesSyncStatus   status);

void           patches_test_store_close       (PatchesStore      **store);

G_END_DECLS
