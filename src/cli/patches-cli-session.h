/* patches-cli-session.h
 *
 * What one patches-cli run holds: a #PatchesClient over a store (SQLite
 * with --store, else memory), a #PatchesSync once connected, and the
 * blocking waits that commands and scripts are made of ("synced", "at
 * revision N", "sleep").  Waits run the main loop, so that the sync goes
 * on while a step waits.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "patches.h"
#include "patches-client.h"
#include "patches-sync.h"

G_BEGIN_DECLS

/**
 * PATCHES_CLI_ERROR:
 *
 * Error domain of patches-cli.  The codes are the process exit statuses.
 */
#define PATCHES_CLI_ERROR (patches_cli_error_quark ())

/**
 * PatchesCliError:
 * @PATCHES_CLI_ERROR_USAGE: bad command line, script or input file (exit 2)
 * @PATCHES_CLI_ERROR_TIMEOUT: a wait timed out (exit 3)
 * @PATCHES_CLI_ERROR_MISMATCH: an `expect` step did not match (exit 4)
 * @PATCHES_CLI_ERROR_FAILED: a step or command failed (exit 5)
 *
 * Error codes of %PATCHES_CLI_ERROR, equal to the exit statuses.
 */
typedef enum {
  PATCHES_CLI_ERROR_USAGE    = 2,
  PATCHES_CLI_ERROR_TIMEOUT  = 3,
  PATCHES_CLI_ERROR_MISMATCH = 4,
  PATCHES_CLI_ERROR_FAILED   = 5,
} PatchesCliError;

GQuark patches_cli_error_quark (void);

#define PATCHES_CLI_TYPE_SESSION (patches_cli_session_get_type ())

G_DECLARE_FINAL_TYPE (PatchesCliSession, patches_cli_session, PATCHES_CLI, SESSION, GObject)

PatchesCliSession *patches_cli_session_new           (const char         *store_path,
                                                      GError            **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesClient     *patches_cli_session_get_client    (PatchesCliSession  *self);
PatchesSync       *patches_cli_session_get_sync      (PatchesCliSession  *self);
void               patches_cli_session_interrupt     (PatchesCliSession  *self);
gboolean           patches_cli_session_get_interrupted (PatchesCliSession *self);

gboolean           patches_cli_session_connect       (PatchesCliSession  *self,
                                                      const char         *url,
                                                      const char         *token,
                                                      guint               timeout_ms,
                                                      gboolean            allow_offline,
                                                      GError            **error);
void               patches_cli_session_disconnect    (PatchesCliSession  *self);

PatchesDoc        *patches_cli_session_open          (PatchesCliSession  *self,
                                                      const char         *doc_id,
                                                      GError            **error);
PatchesDoc        *patches_cli_session_lookup        (PatchesCliSession  *self,
                                                      const char         *doc_id,
                                                      GError            **error);
gboolean           patches_cli_session_close         (PatchesCliSession  *self,
                                                      const char         *doc_id,
                                                      GError            **error);
gboolean           patches_cli_session_delete        (PatchesCliSession  *self,
                                                      const char         *doc_id,
                                                      GError            **error);
gboolean           patches_cli_session_change        (PatchesCliSession  *self,
                                                      const char         *doc_id,
                                                      PatchesPatch       *patch,
                                                      GError            **error);
PatchesValue      *patches_cli_session_dup_export    (PatchesCliSession  *self,
                                                      const char         *doc_id,
                                                      GError            **error) G_GNUC_WARN_UNUSED_RESULT;

gboolean           patches_cli_session_wait_synced   (PatchesCliSession  *self,
                                                      guint               timeout_ms,
                                                      GError            **error);
gboolean           patches_cli_session_wait_rev      (PatchesCliSession  *self,
                                                      const char         *doc_id,
                                                      gint64              rev,
                                                      guint               timeout_ms,
                                                      GError            **error);
gboolean           patches_cli_session_sleep         (PatchesCliSession  *self,
                                                      guint               ms);
void               patches_cli_session_run           (PatchesCliSession  *self);

PatchesValue      *patches_cli_plain_value           (PatchesValue       *value) G_GNUC_WARN_UNUSED_RESULT;
void               patches_cli_print_value           (PatchesValue       *value);
gboolean           patches_cli_read_input            (const char         *path,
                                                      const char         *what,
                                                      char              **data,
                                                      gsize              *length,
                                                      GError            **error);

G_END_DECLS
