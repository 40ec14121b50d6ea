/* patches-cli-script.h
 *
 * The script runner of `patches-cli run`: a JSON array of one-key steps
 * (connect, open, change, wait_synced, wait_rev, sleep, print, expect,
 * close, delete, disconnect, log), checked as a whole before the first
 * step runs, then run in order on a #PatchesCliSession.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "patches-cli-session.h"

G_BEGIN_DECLS

/**
 * PatchesCliScriptOptions:
 * @url: (nullable): the URL `connect` uses when the step names none
 *   (`--server`)
 * @token: (nullable): the bearer token `connect` uses when the step names
 *   none (`--token`)
 * @timeout_ms: the wait of `connect`, `wait_synced` and `wait_rev` when
 *   the step names none (`--timeout`)
 *
 * What the command line gives the steps.
 */
typedef struct {
  const char *url;
  const char *token;
  guint       timeout_ms;
} PatchesCliScriptOptions;

typedef struct _PatchesCliScript PatchesCliScript;

PatchesCliScript *patches_cli_script_new_from_data (const char                    *data,
                                                    gssize                         length,
                                                    const PatchesCliScriptOptions *options,
                                                    GError                       **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesCliScript *patches_cli_script_new_from_file (const char                    *path,
                                                    const PatchesCliScriptOptions *options,
                                                    GError                       **error) G_GNUC_WARN_UNUSED_RESULT;
void              patches_cli_script_free          (PatchesCliScript              *self);
guint             patches_cli_script_get_n_steps   (PatchesCliScript              *self);
gboolean          patches_cli_script_run           (PatchesCliScript              *self,
                                                    PatchesCliSession             *session,
                                                    GError                       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesCliScript, patches_cli_script_free)

G_END_DECLS
