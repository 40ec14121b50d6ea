/* patches-server-store-private.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <sqlite3.h>

#include "patches-server-store.h"

G_BEGIN_DECLS

/* The store's connection, for tests and maintenance tools only */
sqlite3  *patches_server_store_get_database        (PatchesServerStore  *self);

/* For the cache, which has the changes' JSON already */
gboolean  patches_server_store_save_sorted_changes (PatchesServerStore  *self,
                                                    const char          *doc_id,
                                                    GPtrArray           *sorted,
                                                    GPtrArray           *jsons,
                                                    GError             **error);

/* Background checkpoints: where they start and how much is left for the
 * write path (pages), and how many have run; for tests */
void      patches_server_store_set_checkpoint_pages (PatchesServerStore *self,
                                                     int                 start,
                                                     int                 tail);
guint     patches_server_store_get_n_checkpoints    (PatchesServerStore *self);

G_END_DECLS
