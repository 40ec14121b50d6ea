/* patches-test-server.h
 *
 * A real patches-server for client tests: the binary named by the
 * PATCHES_SERVER environment variable (tests/meson.build sets it), run on
 * 127.0.0.1 with a database in a temporary directory.  It can be stopped,
 * killed, paused with a signal and started again on the same database and
 * the same port, as a server that crashes and comes back does.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * PATCHES_TEST_WAIT_MS:
 *
 * How long PATCHES_TEST_WAIT_UNTIL() waits before failing the test.
 */
#define PATCHES_TEST_WAIT_MS 20000

/**
 * PATCHES_TEST_WAIT_FOR:
 * @cond: an expression
 * @ms: the longest wait, in milliseconds
 *
 * Iterates the thread-default main context until @cond holds or @ms have
 * passed, and evaluates to whether @cond holds.
 */
#define PATCHES_TEST_WAIT_FOR(cond, ms)                                       \
  ({                                                                          \
    gint64 _patches_deadline = g_get_monotonic_time () + (gint64) (ms) * 1000; \
    guint _patches_beat = patches_test_heartbeat_add ();                      \
    while (!(cond) && g_get_monotonic_time () < _patches_deadline)            \
      g_main_context_iteration (NULL, TRUE);                                  \
    g_source_remove (_patches_beat);                                          \
    (cond);                                                                   \
  })

/**
 * PATCHES_TEST_WAIT_UNTIL:
 * @cond: an expression
 *
 * Iterates the main context until @cond holds; fails the test after
 * %PATCHES_TEST_WAIT_MS.
 */
#define PATCHES_TEST_WAIT_UNTIL(cond)                                         \
  G_STMT_START {                                                              \
    if (!PATCHES_TEST_WAIT_FOR (cond, PATCHES_TEST_WAIT_MS))                  \
      g_error ("Timed out waiting for %s", #cond);                            \
  } G_STMT_END

typedef struct _PatchesTestServer PatchesTestServer;

guint              patches_test_heartbeat_add         (void);
void               patches_test_sleep_ms              (guint               ms);

PatchesTestServer *patches_test_server_new            (const char * const *extra_args);
PatchesTestServer *patches_test_server_new_with_tokens (const char         *tokens,
                                                       const char * const *extra_args);
void               patches_test_server_free           (PatchesTestServer  *self);

const char        *patches_test_server_get_url        (PatchesTestServer  *self);
guint16            patches_test_server_get_port       (PatchesTestServer  *self);
const char        *patches_test_server_get_db         (PatchesTestServer  *self);
const char        *patches_test_server_get_dir        (PatchesTestServer  *self);
gboolean           patches_test_server_is_running     (PatchesTestServer  *self);

void               patches_test_server_signal         (PatchesTestServer  *self,
                                                       int                 signum);
void               patches_test_server_stop           (PatchesTestServer  *self);
void               patches_test_server_kill           (PatchesTestServer  *self);
void               patches_test_server_restart        (PatchesTestServer  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesTestServer, patches_test_server_free)

G_END_DECLS
