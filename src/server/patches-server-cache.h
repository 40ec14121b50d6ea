/* patches-server-cache.h
 *
 * The recent tail of each busy document's change log, kept in memory in
 * front of the SQLite history store.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "patches-server-store.h"

G_BEGIN_DECLS

/**
 * PATCHES_SERVER_CACHE_MAX_PER_DOC:
 *
 * The most recent changes kept per document: the main timeline gets a
 * version of PATCHES_MAX_CHANGES_PER_VERSION_DEFAULT changes once the
 * head is a whole such step past the last version, so a version is made
 * of changes up to twice that far back; with this many cached, making
 * one reads none back from the database.
 */
#define PATCHES_SERVER_CACHE_MAX_PER_DOC (2 * PATCHES_MAX_CHANGES_PER_VERSION_DEFAULT + 128)

/**
 * PATCHES_SERVER_CACHE_MAX_TOTAL:
 *
 * The most changes kept for all documents together: beyond it, the
 * documents used least recently keep only their last
 * %PATCHES_SERVER_CACHE_MIN_PER_DOC changes, then are forgotten.
 */
#define PATCHES_SERVER_CACHE_MAX_TOTAL 6144

/**
 * PATCHES_SERVER_CACHE_MIN_PER_DOC:
 *
 * What a document used less recently keeps when the cache is full.
 */
#define PATCHES_SERVER_CACHE_MIN_PER_DOC 16

typedef struct _PatchesServerCache PatchesServerCache;

PatchesServerCache        *patches_server_cache_new             (PatchesServerStore  *store) G_GNUC_WARN_UNUSED_RESULT;
void                       patches_server_cache_free            (PatchesServerCache  *self);
const PatchesHistoryFuncs *patches_server_cache_get_funcs       (void);
void                       patches_server_cache_invalidate      (PatchesServerCache  *self,
                                                                 const char          *doc_id);
void                       patches_server_cache_clear           (PatchesServerCache  *self);
const char                *patches_server_cache_get_json        (PatchesServerCache  *self,
                                                                 const char          *doc_id,
                                                                 PatchesChange       *change,
                                                                 gsize               *length);
guint                      patches_server_cache_get_n_changes   (PatchesServerCache  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesServerCache, patches_server_cache_free)

G_END_DECLS
