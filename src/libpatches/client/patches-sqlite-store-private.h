/* patches-sqlite-store-private.h: for the tests; not installed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <sqlite3.h>

#include "patches-sqlite-store.h"

G_BEGIN_DECLS

/* The store's connection (NULL once closed); not to be written through */
sqlite3 *patches_sqlite_store_get_database (PatchesSqliteStore *self);

G_END_DECLS
