/* patches-value.h
 *
 * A JSON value with JavaScript semantics: the document model of libpatches.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * PatchesValueType:
 * @PATCHES_VALUE_NULL: JSON `null`
 * @PATCHES_VALUE_BOOL: `true` or `false`
 * @PATCHES_VALUE_NUMBER: an IEEE-754 double (JSON numbers, as JavaScript
 *   holds them)
 * @PATCHES_VALUE_STRING: a UTF-8 string
 * @PATCHES_VALUE_ARRAY: an ordered list of values
 * @PATCHES_VALUE_OBJECT: members in insertion order
 * @PATCHES_VALUE_TEXT: a rich-text document written by a `@txt` op; its
 *   JSON form is `{"ops": [...]}`
 *
 * The kinds of #PatchesValue.
 */
typedef enum {
  PATCHES_VALUE_NULL,
  PATCHES_VALUE_BOOL,
  PATCHES_VALUE_NUMBER,
  PATCHES_VALUE_STRING,
  PATCHES_VALUE_ARRAY,
  PATCHES_VALUE_OBJECT,
  PATCHES_VALUE_TEXT,
} PatchesValueType;

typedef struct _PatchesValue PatchesValue;
typedef struct _PatchesText  PatchesText;

#define PATCHES_TYPE_VALUE (patches_value_get_type ())

GType             patches_value_get_type        (void) G_GNUC_CONST;

PatchesValue     *patches_value_new_null        (void) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue     *patches_value_new_bool        (gboolean             value) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue     *patches_value_new_number      (double               value) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue     *patches_value_new_string      (const char          *value) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue     *patches_value_new_string_len  (const char          *value,
                                                 gssize               len) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue     *patches_value_new_string_take (char                *value) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue     *patches_value_new_array       (void) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue     *patches_value_new_object      (void) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue     *patches_value_new_text_take   (PatchesText         *text) G_GNUC_WARN_UNUSED_RESULT;

PatchesValue     *patches_value_ref             (PatchesValue        *self);
void              patches_value_unref           (PatchesValue        *self);
gboolean          patches_value_is_shared       (const PatchesValue  *self);

PatchesValueType  patches_value_get_kind        (const PatchesValue  *self);
gboolean          patches_value_is_container    (const PatchesValue  *self);
gboolean          patches_value_get_bool        (const PatchesValue  *self);
double            patches_value_get_number      (const PatchesValue  *self);
const char       *patches_value_get_string      (const PatchesValue  *self);
gsize             patches_value_get_string_len  (const PatchesValue  *self);
PatchesText      *patches_value_get_text        (const PatchesValue  *self);

/* Arrays.  Setters take ownership of @value. */
guint             patches_value_array_get_length (const PatchesValue *self);
PatchesValue     *patches_value_array_get       (const PatchesValue  *self,
                                                 guint                index);
void              patches_value_array_append    (PatchesValue        *self,
                                                 PatchesValue        *value);
void              patches_value_array_insert    (PatchesValue        *self,
                                                 guint                index,
                                                 PatchesValue        *value);
void              patches_value_array_set       (PatchesValue        *self,
                                                 guint                index,
                                                 PatchesValue        *value);
PatchesValue     *patches_value_array_steal     (PatchesValue        *self,
                                                 guint                index) G_GNUC_WARN_UNUSED_RESULT;
void              patches_value_array_remove    (PatchesValue        *self,
                                                 guint                index);

/* Objects: members keep insertion order; setting an existing key keeps its
 * place.  Setters take ownership of @value. */
guint             patches_value_object_get_size (const PatchesValue  *self);
PatchesValue     *patches_value_object_get      (const PatchesValue  *self,
                                                 const char          *key);
gboolean          patches_value_object_has      (const PatchesValue  *self,
                                                 const char          *key);
void              patches_value_object_set      (PatchesValue        *self,
                                                 const char          *key,
                                                 PatchesValue        *value);
PatchesValue     *patches_value_object_steal    (PatchesValue        *self,
                                                 const char          *key) G_GNUC_WARN_UNUSED_RESULT;
gboolean          patches_value_object_remove   (PatchesValue        *self,
                                                 const char          *key);
const char       *patches_value_object_key_at   (const PatchesValue  *self,
                                                 guint                index);
PatchesValue     *patches_value_object_value_at (const PatchesValue  *self,
                                                 guint                index);

/* Copies */
PatchesValue     *patches_value_copy_shallow    (const PatchesValue  *self) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue     *patches_value_copy_deep       (const PatchesValue  *self) G_GNUC_WARN_UNUSED_RESULT;
void              patches_value_make_mutable    (PatchesValue       **self);

/* JavaScript semantics */
gboolean          patches_value_equal          (const PatchesValue  *a,
                                                const PatchesValue  *b);
gboolean          patches_value_truthy         (const PatchesValue  *self);
gboolean          patches_value_is_empty_container (const PatchesValue *self);
int               patches_utf16_strcmp         (const char          *a,
                                                const char          *b);

/* JSON at the edges */
PatchesValue     *patches_value_from_json_node (JsonNode            *node) G_GNUC_WARN_UNUSED_RESULT;
JsonNode         *patches_value_to_json_node   (const PatchesValue  *self) G_GNUC_WARN_UNUSED_RESULT;
PatchesValue     *patches_value_parse          (const char          *json,
                                                gssize               length,
                                                GError             **error) G_GNUC_WARN_UNUSED_RESULT;
char             *patches_value_to_json        (const PatchesValue  *self) G_GNUC_WARN_UNUSED_RESULT;
void              patches_value_write_json     (const PatchesValue  *self,
                                                GString             *out);
gsize             patches_value_json_size      (const PatchesValue  *self);

/* JavaScript-exact serialisation primitives (JSON.stringify) */
void              patches_js_append_number     (GString             *out,
                                                double               value);
void              patches_js_append_string     (GString             *out,
                                                const char          *utf8,
                                                gssize               len);
gsize             patches_js_number_size       (double               value);
gsize             patches_js_string_size       (const char          *utf8,
                                                gssize               len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesValue, patches_value_unref)

G_END_DECLS
