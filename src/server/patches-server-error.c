/* patches-server-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "patches-commit.h"
#include "patches-server-error.h"

/**
 * patches_server_error_quark:
 *
 * Returns: the #PATCHES_SERVER_ERROR domain
 */
G_DEFINE_QUARK (patches-server-error-quark, patches_server_error)

/**
 * patches_server_error_get_status:
 * @error: (nullable): an error
 *
 * The `code` of the JSON-RPC error answering a call that failed with
 * @error: 404 and 503 for %PATCHES_SERVER_ERROR_NOT_FOUND and
 * %PATCHES_SERVER_ERROR_STATE_UNAVAILABLE, the HTTP-like status of an
 * error of the #PATCHES_COMMIT_ERROR domain, and
 * %PATCHES_JSONRPC_SERVER_ERROR (-32000) for everything else.
 *
 * Returns: the status
 */
int
patches_server_error_get_status (const GError *error)
{
  if (error == NULL)
    return PATCHES_JSONRPC_SERVER_ERROR;

  if (error->domain == PATCHES_SERVER_ERROR)
    {
      switch ((PatchesServerError) error->code)
        {
        case PATCHES_SERVER_ERROR_NOT_FOUND:
          return 404;
        case PATCHES_SERVER_ERROR_STATE_UNAVAILABLE:
          return 503;
        case PATCHES_SERVER_ERROR_FAILED:
        case PATCHES_SERVER_ERROR_INVALID:
        case PATCHES_SERVER_ERROR_BUSY:
        case PATCHES_SERVER_ERROR_IO:
        case PATCHES_SERVER_ERROR_CORRUPT:
        case PATCHES_SERVER_ERROR_NOT_OURS:
        case PATCHES_SERVER_ERROR_SCHEMA_TOO_NEW:
        case PATCHES_SERVER_ERROR_TOKENS_FILE:
        case PATCHES_SERVER_ERROR_CONFIG:
        default:
          return PATCHES_JSONRPC_SERVER_ERROR;
        }
    }

  return patches_commit_error_get_status (error);
}
