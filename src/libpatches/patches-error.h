/* patches-error.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * PATCHES_ERROR:
 *
 * Error domain of libpatches.  Errors in this domain come from the
 * #PatchesError enumeration.
 */
#define PATCHES_ERROR (patches_error_quark ())

/**
 * PatchesError:
 * @PATCHES_ERROR_INVALID_JSON: input is not valid JSON
 * @PATCHES_ERROR_INVALID_OP: an op object is malformed (missing or wrongly
 *   typed member)
 * @PATCHES_ERROR_INVALID_PATH: a JSON Pointer is malformed
 * @PATCHES_ERROR_INVALID_DELTA: a `@txt` value is not a delta
 * @PATCHES_ERROR_OP_FAILED: an op could not be applied (path not found,
 *   invalid array index, missing value, unknown op)
 * @PATCHES_ERROR_TEST_FAILED: a `test` op did not match
 * @PATCHES_ERROR_HARD: an op wrote into or through a primitive value (the
 *   reference throws a runtime error here in every mode)
 * @PATCHES_ERROR_CANNOT_INVERT: a patch cannot be inverted against the
 *   given document
 * @PATCHES_ERROR_APPLY_CHANGES: a change failed to apply
 * @PATCHES_ERROR_MISSING_CHANGES: committed changes have a revision gap
 * @PATCHES_ERROR_UNSPLITTABLE: an op is larger than the configured ceiling
 * @PATCHES_ERROR_INVALID_CHANGE: a change object is malformed
 * @PATCHES_ERROR_INVALID_KEY: a fractional index key is malformed
 * @PATCHES_ERROR_CONFLICT: a commit cannot be accepted as sent (HTTP 409)
 * @PATCHES_ERROR_BAD_REQUEST: a request is inconsistent (HTTP 400)
 *
 * Error codes in the #PATCHES_ERROR domain.
 */
typedef enum {
  PATCHES_ERROR_INVALID_JSON,
  PATCHES_ERROR_INVALID_OP,
  PATCHES_ERROR_INVALID_PATH,
  PATCHES_ERROR_INVALID_DELTA,
  PATCHES_ERROR_OP_FAILED,
  PATCHES_ERROR_TEST_FAILED,
  PATCHES_ERROR_HARD,
  PATCHES_ERROR_CANNOT_INVERT,
  PATCHES_ERROR_APPLY_CHANGES,
  PATCHES_ERROR_MISSING_CHANGES,
  PATCHES_ERROR_UNSPLITTABLE,
  PATCHES_ERROR_INVALID_CHANGE,
  PATCHES_ERROR_INVALID_KEY,
  PATCHES_ERROR_CONFLICT,
  PATCHES_ERROR_BAD_REQUEST,
} PatchesError;

GQuark patches_error_quark (void);

G_END_DECLS
