/* patches-test-log.h
 *
 * An in-memory committed log, for the tests that run the commit walk
 * (patches-commit.h) without a database: one document's changes in
 * revision order, read by range the way #PatchesHistoryFuncs reads, and
 * appended to only as the server's schema allows (no change id twice,
 * each revision the one after the head).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches.h"
#include "patches-commit.h"

G_BEGIN_DECLS

gint64     patches_test_log_head      (GPtrArray   *log);
GPtrArray *patches_test_log_range     (GPtrArray   *log,
                                       gint64       start_after,
                                       gint64       end_before,
                                       guint        limit,
                                       gboolean     reverse);
gboolean   patches_test_log_check_ids (GPtrArray   *log,
                                       const char  *doc_id,
                                       GPtrArray   *changes,
                                       GError     **error);
gboolean   patches_test_log_append    (GPtrArray   *log,
                                       const char  *doc_id,
                                       GPtrArray   *changes,
                                       GError     **error);

/* The log alone as a history (no versions): the data is the GPtrArray */
extern const PatchesHistoryFuncs patches_test_log_funcs;

G_END_DECLS
