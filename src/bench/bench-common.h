/* bench-common.h: what the client and server benchmarks share
 *
 * Starting a patches-server of the build tree on loopback, a temporary
 * directory's removal, and latency figures (percentiles in ms, in a
 * JSON report).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "patches.h"

G_BEGIN_DECLS

/* Samples are gint64 µs; sort with g_array_sort (samples, bench_compare_gint64) */
int          bench_compare_gint64  (gconstpointer   a,
                                    gconstpointer   b);
double       bench_percentile_ms   (GArray         *sorted,
                                    double          p);
void         bench_append_ms       (GString        *json,
                                    const char     *key,
                                    double          value);
gint64       bench_max_rss_kb      (void);

char        *bench_find_server     (const char     *argv0);
GSubprocess *bench_start_server    (const char     *program,
                                    const char     *db,
                                    char          **url,
                                    GError        **error);
void         bench_stop_server     (GSubprocess    *server);
void         bench_remove_db       (const char     *path);
void         bench_remove_dir      (const char     *path);

PatchesValue *bench_rich_text_new  (GRand          *rand,
                                    gsize           size);
char         *bench_replace_ops_json (const char   *path,
                                      PatchesValue *value);

G_END_DECLS
