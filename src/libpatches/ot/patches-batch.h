/* patches-batch.h
 *
 * Splitting changes under a byte budget and packing them into upload
 * batches, exactly as @dabble/patches 0.28.1 does (OPERATIONS.md §12).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-change.h"

G_BEGIN_DECLS

/**
 * PATCHES_DEFAULT_MAX_PAYLOAD_BYTES:
 *
 * The reference's default wire budget of one upload request.
 */
#define PATCHES_DEFAULT_MAX_PAYLOAD_BYTES 1000000

/**
 * PatchesSplitBudget:
 * @PATCHES_SPLIT_BUDGET_STORAGE: the per-change storage budget
 *   (`maxStorageBytes`, measured by the size function if any)
 * @PATCHES_SPLIT_BUDGET_PAYLOAD: the wire budget (`maxPayloadBytes`, raw
 *   JSON bytes)
 *
 * Which budget a split enforces, as stamped on oversized-op reports.
 */
typedef enum {
  PATCHES_SPLIT_BUDGET_STORAGE,
  PATCHES_SPLIT_BUDGET_PAYLOAD,
} PatchesSplitBudget;

/**
 * PatchesOversizedReason:
 * @PATCHES_OVERSIZED_OP_TYPE: the op type has no splitter (`op-type`)
 * @PATCHES_OVERSIZED_DELTA_OP: a single delta op that is not a string
 *   insert: an embed or a retain (`delta-op`)
 * @PATCHES_OVERSIZED_VALUE_NOT_OBJECT: a `replace`/`add` whose value is not
 *   a plain object (`value-not-object`)
 * @PATCHES_OVERSIZED_VALUE_NO_TEXT: a `replace`/`add` object value with no
 *   rich text to extract (`value-no-text`)
 * @PATCHES_OVERSIZED_INSERT_CHUNK: one code point of an insert that still
 *   measures over budget (`insert-chunk`)
 *
 * Why the splitter found no seam to cut an op on.
 */
typedef enum {
  PATCHES_OVERSIZED_OP_TYPE,
  PATCHES_OVERSIZED_DELTA_OP,
  PATCHES_OVERSIZED_VALUE_NOT_OBJECT,
  PATCHES_OVERSIZED_VALUE_NO_TEXT,
  PATCHES_OVERSIZED_INSERT_CHUNK,
} PatchesOversizedReason;

/**
 * PatchesOversizedOpReport:
 * @op: the op name (`@txt`, `replace`, …)
 * @path: the op's path
 * @bytes: measured size of the piece carrying the op
 * @max_bytes: the budget it overshot
 * @budget: which budget that is
 * @change_id: (nullable): id of the change being split
 * @emitted: %TRUE when the op went out anyway, %FALSE when it was refused
 *   (the split then fails with %PATCHES_ERROR_UNSPLITTABLE)
 * @reason: why it could not be split
 *
 * Describes an op the splitter could not break below the budget.
 */
typedef struct {
  const char             *op;
  const char             *path;
  double                  bytes;
  double                  max_bytes;
  PatchesSplitBudget      budget;
  const char             *change_id;
  gboolean                emitted;
  PatchesOversizedReason  reason;
} PatchesOversizedOpReport;

/**
 * PatchesOversizedOpFunc:
 * @report: the report
 * @user_data: the data given with the function
 *
 * Receives every op the splitter cannot break below the budget.
 */
typedef void   (*PatchesOversizedOpFunc) (const PatchesOversizedOpReport *report,
                                          gpointer                        user_data);

/**
 * PatchesSizeFunc:
 * @change: a change (possibly a throw-away candidate piece)
 * @user_data: the data given with the function
 *
 * Measures the storage size of a change (e.g. its compressed size).
 *
 * Returns: the size in bytes
 */
typedef double (*PatchesSizeFunc)        (const PatchesChange          *change,
                                          gpointer                      user_data);

/**
 * PatchesSplitOptions:
 * @max_payload_bytes: wire budget of one batch; 0 means
 *   %PATCHES_DEFAULT_MAX_PAYLOAD_BYTES (patches_break_changes_into_batches()
 *   only)
 * @max_storage_bytes: per-change storage budget; 0 means no storage split
 *   (patches_break_changes_into_batches() only)
 * @max_unsplittable_bytes: ceiling above which an op that cannot be split
 *   is refused instead of emitted; 0 means no ceiling
 * @size_func: (nullable): storage size calculator; %NULL measures JSON bytes
 * @size_data: data for @size_func
 * @oversized_func: (nullable): receives oversized-op reports
 * @oversized_data: data for @oversized_func
 * @budget: what patches_break_changes() stamps on its reports
 *
 * Options of the splitter.  A zero-filled structure gives the reference's
 * defaults.
 */
typedef struct {
  gsize                   max_payload_bytes;
  gsize                   max_storage_bytes;
  gsize                   max_unsplittable_bytes;
  PatchesSizeFunc         size_func;
  gpointer                size_data;
  PatchesOversizedOpFunc  oversized_func;
  gpointer                oversized_data;
  PatchesSplitBudget      budget;
} PatchesSplitOptions;

const char *patches_oversized_reason_to_string  (PatchesOversizedReason     reason);

GPtrArray  *patches_break_changes               (GPtrArray                 *changes,
                                                 gsize                      max_bytes,
                                                 const PatchesSplitOptions *options,
                                                 GError                   **error) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray  *patches_break_changes_into_batches  (GPtrArray                 *changes,
                                                 const PatchesSplitOptions *options,
                                                 GError                   **error) G_GNUC_WARN_UNUSED_RESULT;
gsize       patches_changes_json_size           (GPtrArray                 *changes);

G_END_DECLS
