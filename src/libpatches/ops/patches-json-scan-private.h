/* patches-json-scan-private.h
 *
 * A strict, linear pre-pass over JSON text,
 * run by patches_value_parse() before json-glib parses it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * PATCHES_JSON_SCAN_MAX_DEPTH:
 *
 * Nesting depth (arrays and objects) beyond which a frame is refused.
 * json-glib parses recursively and overflows the stack somewhere below
 * 100 000 levels; so do the recursive walks over #PatchesValue.
 */
#define PATCHES_JSON_SCAN_MAX_DEPTH 1000

gboolean patches_json_scan (const char  *text,
                            gsize        length,
                            guint        max_depth,
                            char       **rewritten,
                            gsize       *rewritten_length,
                            GError     **error);

G_END_DECLS
