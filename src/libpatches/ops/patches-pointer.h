/* patches-pointer.h
 *
 * JSON Pointer (RFC 6901) with the reference library's rules
 * (OPERATIONS.md §2).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-value.h"

G_BEGIN_DECLS

char         **patches_pointer_decode        (const char         *path) G_GNUC_WARN_UNUSED_RESULT;
char         **patches_pointer_decode_packed (const char         *path,
                                              guint              *n_keys) G_GNUC_WARN_UNUSED_RESULT;
char          *patches_pointer_escape        (const char         *key) G_GNUC_WARN_UNUSED_RESULT;
char          *patches_pointer_unescape      (const char         *token,
                                              gssize              length) G_GNUC_WARN_UNUSED_RESULT;
char          *patches_pointer_format        (const char * const *keys) G_GNUC_WARN_UNUSED_RESULT;
char          *patches_pointer_append        (const char         *path,
                                              const char         *key) G_GNUC_WARN_UNUSED_RESULT;
gboolean       patches_pointer_is_array_path (const char         *path);
gboolean       patches_pointer_is_under      (const char         *path,
                                              const char         *ancestor);
gboolean       patches_pointer_parse_index   (const char         *token,
                                              guint               array_length,
                                              gboolean            allow_dash,
                                              guint              *index);
PatchesValue  *patches_pointer_lookup        (PatchesValue       *doc,
                                              const char         *path);
gboolean       patches_pointer_exists        (PatchesValue       *doc,
                                              const char         *path);

G_END_DECLS
