/* notes-rich-text.h
 *
 * The mapping between the attributes of a note's rich text (the attribute
 * maps of a delta) and the GtkTextTags of a GtkTextBuffer.  Every
 * attribute key/value pair has one tag, named "patches-attr:KEY=JSON";
 * the ones the app knows (bold, italic, underline, strike, link, header,
 * list) are styled, any other is an invisible tag that only keeps the
 * attribute in the buffer so that it is never lost.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "patches-delta.h"
#include "patches-value.h"

G_BEGIN_DECLS

/**
 * NotesTagKind:
 * @NOTES_TAG_KIND_NONE: a tag that does not carry an attribute
 * @NOTES_TAG_KIND_INLINE: an attribute of the characters it covers
 * @NOTES_TAG_KIND_LINE: a line attribute (`header`, `list`): the
 *   attribute belongs to the line's "\n"; the tag covers the whole line so
 *   that the line is shown with it
 * @NOTES_TAG_KIND_EMBED: marks a U+FFFC character that stands for an
 *   embed of the delta (a non-text insert)
 *
 * What a tag of the buffer means to the binding.
 */
typedef enum {
  NOTES_TAG_KIND_NONE,
  NOTES_TAG_KIND_INLINE,
  NOTES_TAG_KIND_LINE,
  NOTES_TAG_KIND_EMBED,
} NotesTagKind;

/* The character a buffer holds for an embed. */
#define NOTES_EMBED_CHAR 0xFFFC

#define NOTES_TYPE_RICH_TEXT (notes_rich_text_get_type ())

G_DECLARE_FINAL_TYPE (NotesRichText, notes_rich_text, NOTES, RICH_TEXT, GObject)

NotesRichText   *notes_rich_text_new               (GtkTextTagTable   *table) G_GNUC_WARN_UNUSED_RESULT;
GtkTextTagTable *notes_rich_text_get_tag_table     (NotesRichText     *self);

gboolean         notes_rich_text_is_line_key       (const char        *key);
char            *notes_rich_text_tag_name          (const char        *key,
                                                    PatchesValue      *value) G_GNUC_WARN_UNUSED_RESULT;
GtkTextTag      *notes_rich_text_ensure_tag        (NotesRichText     *self,
                                                    const char        *key,
                                                    PatchesValue      *value);
GtkTextTag      *notes_rich_text_lookup_tag        (NotesRichText     *self,
                                                    const char        *key,
                                                    PatchesValue      *value);
GtkTextTag      *notes_rich_text_ensure_embed_tag  (NotesRichText     *self,
                                                    PatchesValue      *embed);
GPtrArray       *notes_rich_text_get_tags_for_key  (NotesRichText     *self,
                                                    const char        *key);
GPtrArray       *notes_rich_text_get_line_tags     (NotesRichText     *self);

NotesTagKind     notes_rich_text_tag_get_kind      (GtkTextTag        *tag);
const char      *notes_rich_text_tag_get_key       (GtkTextTag        *tag);
PatchesValue    *notes_rich_text_tag_get_value     (GtkTextTag        *tag);

PatchesValue    *notes_rich_text_dup_attributes    (NotesRichText     *self,
                                                    const GtkTextIter *iter,
                                                    gboolean           with_line) G_GNUC_WARN_UNUSED_RESULT;
void             notes_rich_text_apply_attributes  (NotesRichText     *self,
                                                    GtkTextBuffer     *buffer,
                                                    const GtkTextIter *start,
                                                    const GtkTextIter *end,
                                                    PatchesValue      *attributes,
                                                    NotesTagKind       kind);
void             notes_rich_text_remove_key        (NotesRichText     *self,
                                                    GtkTextBuffer     *buffer,
                                                    const char        *key,
                                                    const GtkTextIter *start,
                                                    const GtkTextIter *end);
void             notes_rich_text_append_range      (NotesRichText     *self,
                                                    PatchesDelta      *delta,
                                                    const GtkTextIter *start,
                                                    const GtkTextIter *end);

PatchesValue    *notes_rich_text_attributes_set    (PatchesValue      *attributes,
                                                    const char        *key,
                                                    PatchesValue      *value) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
