/* patches-sync-private.h
 *
 * Parts of #PatchesSync for the library's own tests; not installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-sync.h"

G_BEGIN_DECLS

/**
 * PATCHES_SYNC_QUARANTINE_PREFIX:
 *
 * The #PatchesStore meta key of a document's quarantined changes is this
 * prefix followed by the document id.  Its value is a JSON array of
 * `{"docId", "changeId", "change", "reason", "quarantinedAt"}` objects
 * (PROTOCOL.md §4.11 `QuarantinedChange`), oldest first.
 */
#define PATCHES_SYNC_QUARANTINE_PREFIX "quarantine/"

/**
 * PATCHES_SYNC_MAX_EJECTIONS:
 *
 * How many pending changes #PatchesSync sets aside per document during
 * its lifetime before it stops doing so (PROTOCOL.md appendix D).
 */
#define PATCHES_SYNC_MAX_EJECTIONS 3

/**
 * PATCHES_SYNC_MAX_CONCURRENT_SYNCS:
 *
 * How many syncDoc runs and tombstone deleteDoc calls the initial sync
 * after a connect (syncAllKnownDocs, PROTOCOL.md §8.3 step 5) has in
 * progress at a time; the other documents and deletions wait in line.
 */
#define PATCHES_SYNC_MAX_CONCURRENT_SYNCS 8

void  _patches_sync_set_online        (PatchesSync *self,
                                       gboolean     online);
guint _patches_sync_get_peak_running  (PatchesSync *self,
                                       gboolean     reset);

G_END_DECLS
