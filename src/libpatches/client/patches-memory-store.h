/* patches-memory-store.h
 *
 * A #PatchesStore that keeps everything in memory: for tests and for
 * clients that do not need to survive a restart.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-store.h"

G_BEGIN_DECLS

#define PATCHES_TYPE_MEMORY_STORE (patches_memory_store_get_type ())

G_DECLARE_FINAL_TYPE (PatchesMemoryStore, patches_memory_store, PATCHES, MEMORY_STORE, GObject)

PatchesMemoryStore *patches_memory_store_new (void) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
