/* patches-change.h
 *
 * A change: one atomic list of ops plus its revision metadata
 * (PROTOCOL.md §4.3), with an exact JSON round trip.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-patch.h"

G_BEGIN_DECLS

/**
 * PatchesChange:
 * @id: unique per document; recognises a client's own echo
 * @ops: (element-type PatchesOp): the ops
 * @base_rev: revision the ops are expressed against, or -1 when absent
 * @rev: revision (provisional while pending), or -1 when absent
 * @created_at: client clock in ms; -1 when absent
 * @committed_at: server commit time in ms, 0 while pending; -1 when absent
 * @batch_id: (nullable): id of the first change of a split upload
 * @client_id: (nullable): the committing client, stamped by the server
 * @metadata: (nullable): every other member, kept verbatim and in order
 *
 * Fields that JSON had as `null` are treated like absent ones, as the
 * reference does.  A change is shared by reference; copy it with
 * patches_change_copy() before editing.
 */
typedef struct {
  /*< private >*/
  gatomicrefcount  ref_count;
  /*< public >*/
  char            *id;
  GPtrArray       *ops;
  gint64           base_rev;
  gint64           rev;
  double           created_at;
  double           committed_at;
  char            *batch_id;
  char            *client_id;
  PatchesValue    *metadata;
} PatchesChange;

#define PATCHES_TYPE_CHANGE (patches_change_get_type ())

GType          patches_change_get_type     (void) G_GNUC_CONST;

PatchesChange *patches_change_new          (const char          *id,
                                            gint64               base_rev,
                                            gint64               rev,
                                            GPtrArray           *ops,
                                            double               created_at) G_GNUC_WARN_UNUSED_RESULT;
PatchesChange *patches_change_ref          (PatchesChange       *self);
void           patches_change_unref        (PatchesChange       *self);
PatchesChange *patches_change_copy         (const PatchesChange *self) G_GNUC_WARN_UNUSED_RESULT;

PatchesChange *patches_change_from_value   (const PatchesValue  *value,
                                            GError             **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue  *patches_change_to_value     (const PatchesChange *self) G_GNUC_WARN_UNUSED_RESULT;
void           patches_change_write_json   (const PatchesChange *self,
                                            GString             *out);
gsize          patches_change_json_size    (const PatchesChange *self);

GPtrArray     *patches_changes_new         (void) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray     *patches_changes_from_value  (const PatchesValue  *value,
                                            GError             **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue  *patches_changes_to_value    (GPtrArray           *changes) G_GNUC_WARN_UNUSED_RESULT;

/* Ids (PROTOCOL.md §4.4) */
char          *patches_change_id_new       (void) G_GNUC_WARN_UNUSED_RESULT;
char          *patches_change_id_for_rev   (gint64               rev) G_GNUC_WARN_UNUSED_RESULT;
char          *patches_base62_encode       (guint64              value) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesChange, patches_change_unref)

G_END_DECLS
