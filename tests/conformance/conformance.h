/* conformance.h: shared helpers of the conformance suites
 *
 * Each suite file exports one function
 *   gboolean conformance_run_SUITE (JsonObject *kase, JsonObject *root, char **why);
 * called once per case of SUITE.json.  It returns TRUE when the case
 * passes; otherwise it sets *why to a newly allocated explanation.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "patches.h"

G_BEGIN_DECLS

typedef gboolean (*ConformanceRunFunc) (JsonObject *kase,
                                        JsonObject *root,
                                        char      **why);

/* Member @name of @object as an integer, or @fallback; as a string, or
 * NULL */
gint64        conformance_get_int    (JsonObject   *object,
                                      const char   *name,
                                      gint64        fallback);
const char   *conformance_get_string (JsonObject   *object,
                                      const char   *name);
/* Member @name of @kase as a PatchesValue, or NULL when absent. */
PatchesValue *conformance_get_value  (JsonObject   *kase,
                                      const char   *name);
/* Deep equality of @got with member @name of @kase (numbers by value,
 * member order ignored).  On mismatch sets *why with both JSON texts,
 * prefixed by @what. */
gboolean      conformance_check_equal (const char  *what,
                                       PatchesValue *got,
                                       JsonObject   *kase,
                                       const char   *name,
                                       char        **why);
gboolean      conformance_check_value (const char   *what,
                                       PatchesValue *got,
                                       PatchesValue *expect,
                                       char        **why);
/* Parses member @name (an op array) into a GPtrArray of PatchesOp. */
GPtrArray    *conformance_get_ops    (JsonObject   *kase,
                                      const char   *name,
                                      GError      **error);

/* How an error from a commit maps to the HTTP-like status the vectors
 * record (the pure commit and the server store have their own domains). */
typedef int (*ConformanceStatusFunc) (const GError *error);

/* Checks one server_commit step against what @commit did: the
 * expected error (status, message, data) or result ("expect"), and the
 * changesCommitted payload ("expect_broadcast"). */
gboolean      conformance_check_commit_step (const char            *what,
                                             JsonObject            *step,
                                             PatchesCommit         *commit,
                                             gboolean               ok,
                                             const GError          *error,
                                             ConformanceStatusFunc  status_func,
                                             char                 **why);

gboolean conformance_run_pointer         (JsonObject *kase, JsonObject *root, char **why);
gboolean conformance_run_apply           (JsonObject *kase, JsonObject *root, char **why);
gboolean conformance_run_delta           (JsonObject *kase, JsonObject *root, char **why);
gboolean conformance_run_transform       (JsonObject *kase, JsonObject *root, char **why);
gboolean conformance_run_compose         (JsonObject *kase, JsonObject *root, char **why);
gboolean conformance_run_invert          (JsonObject *kase, JsonObject *root, char **why);
gboolean conformance_run_rebase          (JsonObject *kase, JsonObject *root, char **why);
gboolean conformance_run_apply_committed (JsonObject *kase, JsonObject *root, char **why);
gboolean conformance_run_batches         (JsonObject *kase, JsonObject *root, char **why);
gboolean conformance_run_server_commit   (JsonObject *kase, JsonObject *root, char **why);
gboolean conformance_run_convergence     (JsonObject *kase, JsonObject *root, char **why);

G_END_DECLS
