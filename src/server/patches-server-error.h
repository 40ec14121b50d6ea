/* patches-server-error.h
 *
 * The error domain of patches-server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * PATCHES_SERVER_ERROR:
 *
 * Error domain of the server.  Errors in this domain come from the
 * #PatchesServerError enumeration; patches_server_error_get_status()
 * gives the `code` a JSON-RPC error answer carries for them.
 */
#define PATCHES_SERVER_ERROR (patches_server_error_quark ())

/**
 * PatchesServerError:
 * @PATCHES_SERVER_ERROR_FAILED: any other failure, such as an SQLite error
 *   (JSON-RPC -32000)
 * @PATCHES_SERVER_ERROR_INVALID: a request the store refuses, with a
 *   message meant for the client, e.g. `Cannot modify version field id`
 *   (-32000)
 * @PATCHES_SERVER_ERROR_NOT_FOUND: a version that does not exist (404)
 * @PATCHES_SERVER_ERROR_STATE_UNAVAILABLE: a version whose state is not
 *   built (503, the data being `{"docId": …, "versionId": …}`)
 * @PATCHES_SERVER_ERROR_BUSY: the database is locked by another process
 * @PATCHES_SERVER_ERROR_IO: the database could not be read or written
 *   (disk full, I/O error, permissions)
 * @PATCHES_SERVER_ERROR_CORRUPT: the file is not an SQLite database or is
 *   damaged
 * @PATCHES_SERVER_ERROR_NOT_OURS: the file is an SQLite database of some
 *   other program
 * @PATCHES_SERVER_ERROR_SCHEMA_TOO_NEW: the database was written by a
 *   newer patches-server, with a schema this one does not know
 * @PATCHES_SERVER_ERROR_TOKENS_FILE: the tokens file is malformed (the
 *   message names the line)
 * @PATCHES_SERVER_ERROR_CONFIG: the server was configured in a way it
 *   refuses, such as `--no-auth` on an address that is not loopback
 *
 * Error codes in the #PATCHES_SERVER_ERROR domain.
 */
typedef enum {
  PATCHES_SERVER_ERROR_FAILED,
  PATCHES_SERVER_ERROR_INVALID,
  PATCHES_SERVER_ERROR_NOT_FOUND,
  PATCHES_SERVER_ERROR_STATE_UNAVAILABLE,
  PATCHES_SERVER_ERROR_BUSY,
  PATCHES_SERVER_ERROR_IO,
  PATCHES_SERVER_ERROR_CORRUPT,
  PATCHES_SERVER_ERROR_NOT_OURS,
  PATCHES_SERVER_ERROR_SCHEMA_TOO_NEW,
  PATCHES_SERVER_ERROR_TOKENS_FILE,
  PATCHES_SERVER_ERROR_CONFIG,
} PatchesServerError;

GQuark patches_server_error_quark      (void);
int    patches_server_error_get_status (const GError *error);

G_END_DECLS
