/* notes-rich-text.c
 *
 * Attribute ⇄ GtkTextTag mapping for the note body.
 *
 * A tag is made for every attribute key/value pair met, named
 * "patches-attr:KEY=JSON" (JSON being the value as JSON), and remembers
 * its key, value and kind.  Known pairs are styled:
 *
 *   bold: true        bold weight          italic: true   italic style
 *   underline: true   single underline     strike: true   strikethrough
 *   link: "URL"       underline + colour (a tag per URL)
 *   header: 1, 2, 3   line attribute, larger bold text
 *   list: "bullet"    line attribute, a left margin (the view draws "•")
 *
 * Every other pair (an unknown key, or a known key with another value)
 * gets a tag without any styling: text loaded with it keeps it, and the
 * binding writes it back in the deltas it builds from the buffer.
 *
 * Line attributes (`header`, `list`) belong to the "\n" that ends a line,
 * as in Quill; their tags cover the whole line so that the line is shown
 * with them, and only the tag on the "\n" counts when the buffer is read
 * back.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "notes-rich-text.h"

#include <string.h>

#define TAG_PREFIX "patches-attr:"
#define EMBED_TAG_PREFIX "patches-embed:"

/* Left margin of a bullet-list line, in pixels; the editor's text view
 * uses half of it as its own margin and draws the bullet in between. */
#define LIST_LEFT_MARGIN 48

struct _NotesRichText
{
  GObject          parent_instance;

  GtkTextTagTable *table;
  /* key → GPtrArray of the tags made for it */
  GHashTable      *tags_by_key;
  GPtrArray       *line_tags;
};

enum {
  PROP_0,
  PROP_TAG_TABLE,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (NotesRichText, notes_rich_text, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];

static GQuark quark_kind;
static GQuark quark_key;
static GQuark quark_value;

/**
 * notes_rich_text_is_line_key:
 * @key: an attribute key
 *
 * Returns: %TRUE for the keys of line attributes (`header`, `list`),
 *   which belong to the "\n" that ends a line
 */
gboolean
notes_rich_text_is_line_key (const char *key)
{
  return g_strcmp0 (key, "header") == 0 || g_strcmp0 (key, "list") == 0;
}

/**
 * notes_rich_text_tag_name:
 * @key: an attribute key
 * @value: its value
 *
 * Returns: (transfer full): the name of the tag for @key = @value
 */
char *
notes_rich_text_tag_name (const char   *key,
                          PatchesValue *value)
{
  g_autofree char *json = patches_value_to_json (value);

  return g_strconcat (TAG_PREFIX, key, "=", json, NULL);
}

static void
style_tag (GtkTextTag   *tag,
           const char   *key,
           PatchesValue *value)
{
  PatchesValueType kind = patches_value_get_kind (value);
  gboolean is_true = kind == PATCHES_VALUE_BOOL && patches_value_get_bool (value);

  if (strcmp (key, "bold") == 0 && is_true)
    g_object_set (tag, "weight", PANGO_WEIGHT_BOLD, NULL);
  else if (strcmp (key, "italic") == 0 && is_true)
    g_object_set (tag, "style", PANGO_STYLE_ITALIC, NULL);
  else if (strcmp (key, "underline") == 0 && is_true)
    g_object_set (tag, "underline", PANGO_UNDERLINE_SINGLE, NULL);
  else if (strcmp (key, "strike") == 0 && is_true)
    g_object_set (tag, "strikethrough", TRUE, NULL);
  else if (strcmp (key, "link") == 0 && kind == PATCHES_VALUE_STRING)
    g_object_set (tag,
                  "underline", PANGO_UNDERLINE_SINGLE,
                  "foreground", "#3584e4",
                  NULL);
  else if (strcmp (key, "header") == 0 && kind == PATCHES_VALUE_NUMBER)
    {
      double level = patches_value_get_number (value);
      double scale = 0;

      if (level == 1)
        scale = PANGO_SCALE_XX_LARGE;
      else if (level == 2)
        scale = PANGO_SCALE_X_LARGE;
      else if (level == 3)
        scale = PANGO_SCALE_LARGE;

      if (scale > 0)
        g_object_set (tag,
                      "scale", scale,
                      "weight", PANGO_WEIGHT_BOLD,
                      "pixels-above-lines", 6,
                      "pixels-below-lines", 3,
                      NULL);
    }
  else if (strcmp (key, "list") == 0 && kind == PATCHES_VALUE_STRING &&
           strcmp (patches_value_get_string (value), "bullet") == 0)
    g_object_set (tag,
                  "left-margin", LIST_LEFT_MARGIN,
                  "pixels-below-lines", 2,
                  NULL);
}

static void
index_tag (NotesRichText *self,
           GtkTextTag    *tag)
{
  NotesTagKind kind = notes_rich_text_tag_get_kind (tag);
  const char *key = notes_rich_text_tag_get_key (tag);
  GPtrArray *tags;

  if (kind != NOTES_TAG_KIND_INLINE && kind != NOTES_TAG_KIND_LINE)
    return;

  tags = g_hash_table_lookup (self->tags_by_key, key);
  if (tags == NULL)
    {
      tags = g_ptr_array_new ();
      g_hash_table_insert (self->tags_by_key, g_strdup (key), tags);
    }
  if (!g_ptr_array_find (tags, tag, NULL))
    g_ptr_array_add (tags, tag);

  if (kind == NOTES_TAG_KIND_LINE && !g_ptr_array_find (self->line_tags, tag, NULL))
    g_ptr_array_add (self->line_tags, tag);
}

static void
index_existing_tag (GtkTextTag *tag,
                    gpointer    user_data)
{
  index_tag (user_data, tag);
}

static void
notes_rich_text_constructed (GObject *object)
{
  NotesRichText *self = NOTES_RICH_TEXT (object);

  G_OBJECT_CLASS (notes_rich_text_parent_class)->constructed (object);

  if (self->table == NULL)
    self->table = gtk_text_tag_table_new ();

  /* A table shared with an earlier mapping already has tags */
  gtk_text_tag_table_foreach (self->table, index_existing_tag, self);
}

static void
notes_rich_text_dispose (GObject *object)
{
  NotesRichText *self = NOTES_RICH_TEXT (object);

  g_clear_object (&self->table);

  G_OBJECT_CLASS (notes_rich_text_parent_class)->dispose (object);
}

static void
notes_rich_text_finalize (GObject *object)
{
  NotesRichText *self = NOTES_RICH_TEXT (object);

  g_clear_pointer (&self->tags_by_key, g_hash_table_unref);
  g_clear_pointer (&self->line_tags, g_ptr_array_unref);

  G_OBJECT_CLASS (notes_rich_text_parent_class)->finalize (object);
}

static void
notes_rich_text_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  NotesRichText *self = NOTES_RICH_TEXT (object);

  switch (prop_id)
    {
    case PROP_TAG_TABLE:
      g_value_set_object (value, self->table);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_rich_text_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  NotesRichText *self = NOTES_RICH_TEXT (object);

  switch (prop_id)
    {
    case PROP_TAG_TABLE:
      self->table = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_rich_text_class_init (NotesRichTextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = notes_rich_text_constructed;
  object_class->dispose = notes_rich_text_dispose;
  object_class->finalize = notes_rich_text_finalize;
  object_class->get_property = notes_rich_text_get_property;
  object_class->set_property = notes_rich_text_set_property;

  /**
   * NotesRichText:tag-table:
   *
   * The tag table the tags are made in (a new one when none is given).
   */
  properties[PROP_TAG_TABLE] =
    g_param_spec_object ("tag-table", NULL, NULL,
                         GTK_TYPE_TEXT_TAG_TABLE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  quark_kind = g_quark_from_static_string ("notes-rich-text-kind");
  quark_key = g_quark_from_static_string ("notes-rich-text-key");
  quark_value = g_quark_from_static_string ("notes-rich-text-value");
}

static void
notes_rich_text_init (NotesRichText *self)
{
  self->tags_by_key = g_hash_table_new_full (g_str_hash, g_str_equal,
                                             g_free, (GDestroyNotify) g_ptr_array_unref);
  self->line_tags = g_ptr_array_new ();
}

/**
 * notes_rich_text_new:
 * @table: (nullable): the tag table of the buffer, or %NULL for a new one
 *
 * Returns: (transfer full): a new mapping that makes its tags in @table
 */
NotesRichText *
notes_rich_text_new (GtkTextTagTable *table)
{
  g_return_val_if_fail (table == NULL || GTK_IS_TEXT_TAG_TABLE (table), NULL);

  return g_object_new (NOTES_TYPE_RICH_TEXT,
                       "tag-table", table,
                       NULL);
}

/**
 * notes_rich_text_get_tag_table:
 * @self: a #NotesRichText
 *
 * Returns: (transfer none): the tag table
 */
GtkTextTagTable *
notes_rich_text_get_tag_table (NotesRichText *self)
{
  g_return_val_if_fail (NOTES_IS_RICH_TEXT (self), NULL);

  return self->table;
}

/**
 * notes_rich_text_tag_get_kind:
 * @tag: a tag
 *
 * Returns: what @tag stands for; %NOTES_TAG_KIND_NONE for tags not made
 *   by a #NotesRichText
 */
NotesTagKind
notes_rich_text_tag_get_kind (GtkTextTag *tag)
{
  return GPOINTER_TO_UINT (g_object_get_qdata (G_OBJECT (tag), quark_kind));
}

/**
 * notes_rich_text_tag_get_key:
 * @tag: a tag made by a #NotesRichText
 *
 * Returns: (nullable): the attribute key of @tag
 */
const char *
notes_rich_text_tag_get_key (GtkTextTag *tag)
{
  return g_object_get_qdata (G_OBJECT (tag), quark_key);
}

/**
 * notes_rich_text_tag_get_value:
 * @tag: a tag made by a #NotesRichText
 *
 * Returns: (transfer none) (nullable): the attribute value of @tag (the
 *   embed value for an embed tag)
 */
PatchesValue *
notes_rich_text_tag_get_value (GtkTextTag *tag)
{
  return g_object_get_qdata (G_OBJECT (tag), quark_value);
}

static void
set_tag_data (GtkTextTag   *tag,
              NotesTagKind  kind,
              const char   *key,
              PatchesValue *value)
{
  g_object_set_qdata (G_OBJECT (tag), quark_kind, GUINT_TO_POINTER (kind));
  g_object_set_qdata_full (G_OBJECT (tag), quark_key, g_strdup (key), g_free);
  g_object_set_qdata_full (G_OBJECT (tag), quark_value, patches_value_ref (value),
                           (GDestroyNotify) patches_value_unref);
}

/**
 * notes_rich_text_lookup_tag:
 * @self: a #NotesRichText
 * @key: an attribute key
 * @value: its value
 *
 * Returns: (transfer none) (nullable): the tag for @key = @value if it
 *   was made already
 */
GtkTextTag *
notes_rich_text_lookup_tag (NotesRichText *self,
                            const char    *key,
                            PatchesValue  *value)
{
  g_autofree char *name = NULL;
  GtkTextTag *tag;

  g_return_val_if_fail (NOTES_IS_RICH_TEXT (self), NULL);
  g_return_val_if_fail (key != NULL && value != NULL, NULL);

  name = notes_rich_text_tag_name (key, value);
  tag = gtk_text_tag_table_lookup (self->table, name);
  if (tag != NULL && notes_rich_text_tag_get_kind (tag) == NOTES_TAG_KIND_NONE)
    return NULL;

  return tag;
}

/**
 * notes_rich_text_ensure_tag:
 * @self: a #NotesRichText
 * @key: an attribute key
 * @value: its value (not `null`: a null attribute is the absence of one)
 *
 * Returns the tag that stands for @key = @value, making it (styled if the
 * pair is known, invisible otherwise) the first time.
 *
 * Returns: (transfer none): the tag
 */
GtkTextTag *
notes_rich_text_ensure_tag (NotesRichText *self,
                            const char    *key,
                            PatchesValue  *value)
{
  g_autofree char *name = NULL;
  g_autoptr(GtkTextTag) created = NULL;
  GtkTextTag *tag;

  g_return_val_if_fail (NOTES_IS_RICH_TEXT (self), NULL);
  g_return_val_if_fail (key != NULL && value != NULL, NULL);

  name = notes_rich_text_tag_name (key, value);
  tag = gtk_text_tag_table_lookup (self->table, name);
  if (tag != NULL)
    {
      if (notes_rich_text_tag_get_kind (tag) == NOTES_TAG_KIND_NONE)
        {
          set_tag_data (tag, notes_rich_text_is_line_key (key) ? NOTES_TAG_KIND_LINE : NOTES_TAG_KIND_INLINE,
                        key, value);
          index_tag (self, tag);
        }
      return tag;
    }

  created = gtk_text_tag_new (name);
  set_tag_data (created, notes_rich_text_is_line_key (key) ? NOTES_TAG_KIND_LINE : NOTES_TAG_KIND_INLINE,
                key, value);
  style_tag (created, key, value);
  gtk_text_tag_table_add (self->table, created);
  index_tag (self, created);

  return created;
}

/**
 * notes_rich_text_ensure_embed_tag:
 * @self: a #NotesRichText
 * @embed: the value of an embed insert
 *
 * Returns: (transfer none): the tag that marks the U+FFFC character
 *   standing for @embed
 */
GtkTextTag *
notes_rich_text_ensure_embed_tag (NotesRichText *self,
                                  PatchesValue  *embed)
{
  g_autofree char *json = NULL;
  g_autofree char *name = NULL;
  g_autoptr(GtkTextTag) created = NULL;
  GtkTextTag *tag;

  g_return_val_if_fail (NOTES_IS_RICH_TEXT (self), NULL);
  g_return_val_if_fail (embed != NULL, NULL);

  json = patches_value_to_json (embed);
  name = g_strconcat (EMBED_TAG_PREFIX, json, NULL);
  tag = gtk_text_tag_table_lookup (self->table, name);
  if (tag != NULL)
    return tag;

  created = gtk_text_tag_new (name);
  set_tag_data (created, NOTES_TAG_KIND_EMBED, NULL, embed);
  gtk_text_tag_table_add (self->table, created);

  return created;
}

/**
 * notes_rich_text_get_tags_for_key:
 * @self: a #NotesRichText
 * @key: an attribute key
 *
 * Returns: (transfer none) (nullable) (element-type GtkTextTag): the tags
 *   made so far for @key, whatever their value
 */
GPtrArray *
notes_rich_text_get_tags_for_key (NotesRichText *self,
                                  const char    *key)
{
  g_return_val_if_fail (NOTES_IS_RICH_TEXT (self), NULL);

  return g_hash_table_lookup (self->tags_by_key, key);
}

/**
 * notes_rich_text_get_line_tags:
 * @self: a #NotesRichText
 *
 * Returns: (transfer none) (element-type GtkTextTag): the line-attribute
 *   tags made so far
 */
GPtrArray *
notes_rich_text_get_line_tags (NotesRichText *self)
{
  g_return_val_if_fail (NOTES_IS_RICH_TEXT (self), NULL);

  return self->line_tags;
}

static int
compare_tags_by_key (gconstpointer a,
                     gconstpointer b)
{
  GtkTextTag *ta = *(GtkTextTag **) a;
  GtkTextTag *tb = *(GtkTextTag **) b;
  int cmp = strcmp (notes_rich_text_tag_get_key (ta), notes_rich_text_tag_get_key (tb));

  if (cmp != 0)
    return cmp;
  /* Of two tags for one key the one with the higher priority wins */
  return gtk_text_tag_get_priority (ta) - gtk_text_tag_get_priority (tb);
}

/**
 * notes_rich_text_dup_attributes:
 * @self: a #NotesRichText
 * @iter: a position in a buffer using the tag table
 * @with_line: whether line attributes count (only for a "\n")
 *
 * Reads the attributes of the character at @iter from its tags.  Keys
 * come out sorted.
 *
 * Returns: (transfer full) (nullable): an attribute object, or %NULL when
 *   the character has none
 */
PatchesValue *
notes_rich_text_dup_attributes (NotesRichText     *self,
                                const GtkTextIter *iter,
                                gboolean           with_line)
{
  g_autoptr(GPtrArray) ours = NULL;
  GSList *tags;
  PatchesValue *attributes = NULL;

  g_return_val_if_fail (NOTES_IS_RICH_TEXT (self), NULL);

  tags = gtk_text_iter_get_tags (iter);
  for (GSList *l = tags; l != NULL; l = l->next)
    {
      NotesTagKind kind = notes_rich_text_tag_get_kind (l->data);

      if (kind == NOTES_TAG_KIND_INLINE || (kind == NOTES_TAG_KIND_LINE && with_line))
        {
          if (ours == NULL)
            ours = g_ptr_array_new ();
          g_ptr_array_add (ours, l->data);
        }
    }
  g_slist_free (tags);

  if (ours == NULL)
    return NULL;

  g_ptr_array_sort (ours, compare_tags_by_key);
  attributes = patches_value_new_object ();
  for (guint i = 0; i < ours->len; i++)
    {
      GtkTextTag *tag = g_ptr_array_index (ours, i);

      patches_value_object_set (attributes, notes_rich_text_tag_get_key (tag),
                                patches_value_ref (notes_rich_text_tag_get_value (tag)));
    }

  return attributes;
}

/**
 * notes_rich_text_remove_key:
 * @self: a #NotesRichText
 * @buffer: a buffer using the tag table
 * @key: an attribute key
 * @start: start of the range
 * @end: end of the range
 *
 * Removes every tag of @key, whatever its value, from the range.
 */
void
notes_rich_text_remove_key (NotesRichText     *self,
                            GtkTextBuffer     *buffer,
                            const char        *key,
                            const GtkTextIter *start,
                            const GtkTextIter *end)
{
  GPtrArray *tags;

  g_return_if_fail (NOTES_IS_RICH_TEXT (self));

  tags = g_hash_table_lookup (self->tags_by_key, key);
  if (tags == NULL)
    return;

  for (guint i = 0; i < tags->len; i++)
    gtk_text_buffer_remove_tag (buffer, g_ptr_array_index (tags, i), start, end);
}

/**
 * notes_rich_text_apply_attributes:
 * @self: a #NotesRichText
 * @buffer: a buffer using the tag table
 * @start: start of the range
 * @end: end of the range
 * @attributes: (nullable): an attribute object
 * @kind: %NOTES_TAG_KIND_INLINE or %NOTES_TAG_KIND_LINE to apply only the
 *   attributes of that kind, %NOTES_TAG_KIND_NONE for all
 *
 * Tags the range with @attributes: a key set to a value replaces the tags
 * the range had for that key, a key set to `null` removes them.
 */
void
notes_rich_text_apply_attributes (NotesRichText     *self,
                                  GtkTextBuffer     *buffer,
                                  const GtkTextIter *start,
                                  const GtkTextIter *end,
                                  PatchesValue      *attributes,
                                  NotesTagKind       kind)
{
  guint n;

  g_return_if_fail (NOTES_IS_RICH_TEXT (self));

  if (attributes == NULL || patches_value_get_kind (attributes) != PATCHES_VALUE_OBJECT)
    return;

  n = patches_value_object_get_size (attributes);
  for (guint i = 0; i < n; i++)
    {
      const char *key = patches_value_object_key_at (attributes, i);
      PatchesValue *value = patches_value_object_value_at (attributes, i);
      gboolean is_line = notes_rich_text_is_line_key (key);
      GtkTextTag *tag;

      if ((kind == NOTES_TAG_KIND_INLINE && is_line) || (kind == NOTES_TAG_KIND_LINE && !is_line))
        continue;

      if (patches_value_get_kind (value) == PATCHES_VALUE_NULL)
        {
          notes_rich_text_remove_key (self, buffer, key, start, end);
          continue;
        }

      tag = notes_rich_text_ensure_tag (self, key, value);
      /* Only one value per key: drop the others first */
      {
        GPtrArray *tags = g_hash_table_lookup (self->tags_by_key, key);

        for (guint j = 0; tags != NULL && j < tags->len; j++)
          if (g_ptr_array_index (tags, j) != tag)
            gtk_text_buffer_remove_tag (buffer, g_ptr_array_index (tags, j), start, end);
      }
      gtk_text_buffer_apply_tag (buffer, tag, start, end);
    }
}

static GtkTextTag *
find_embed_tag (const GtkTextIter *iter)
{
  GSList *tags = gtk_text_iter_get_tags (iter);
  GtkTextTag *found = NULL;

  for (GSList *l = tags; l != NULL; l = l->next)
    if (notes_rich_text_tag_get_kind (l->data) == NOTES_TAG_KIND_EMBED)
      found = l->data;
  g_slist_free (tags);

  return found;
}

static void
append_text (PatchesDelta *delta,
             const char   *text,
             gsize         len,
             PatchesValue *attributes)
{
  g_autofree char *piece = NULL;

  if (len == 0)
    return;

  piece = g_strndup (text, len);
  patches_delta_insert_utf8 (delta, piece, attributes);
}

/**
 * notes_rich_text_append_range:
 * @self: a #NotesRichText
 * @delta: the delta to append to
 * @start: start of the range
 * @end: end of the range
 *
 * Appends inserts of the buffer's content between @start and @end, with
 * the attributes its tags carry (line attributes on "\n" only), to
 * @delta.  A U+FFFC marked as an embed becomes that embed again.
 */
void
notes_rich_text_append_range (NotesRichText     *self,
                              PatchesDelta      *delta,
                              const GtkTextIter *start,
                              const GtkTextIter *end)
{
  GtkTextIter pos = *start;

  g_return_if_fail (NOTES_IS_RICH_TEXT (self));

  while (gtk_text_iter_compare (&pos, end) < 0)
    {
      GtkTextIter next = pos;
      g_autoptr(PatchesValue) attributes = NULL;
      g_autoptr(PatchesValue) line_attributes = NULL;
      gboolean line_read = FALSE;
      GtkTextTag *embed_tag;
      g_autofree char *text = NULL;
      const char *run;
      const char *p;

      /* Every character between two toggles has the same tags */
      if (!gtk_text_iter_forward_to_tag_toggle (&next, NULL) || gtk_text_iter_compare (&next, end) > 0)
        next = *end;

      attributes = notes_rich_text_dup_attributes (self, &pos, FALSE);
      embed_tag = find_embed_tag (&pos);
      text = gtk_text_iter_get_slice (&pos, &next);

      run = text;
      for (p = text; *p != '\0'; p = g_utf8_next_char (p))
        {
          gunichar c = g_utf8_get_char (p);

          if (c == '\n')
            {
              append_text (delta, run, p - run, attributes);
              if (!line_read)
                {
                  line_attributes = notes_rich_text_dup_attributes (self, &pos, TRUE);
                  line_read = TRUE;
                }
              patches_delta_insert_utf8 (delta, "\n", line_attributes);
              run = p + 1;
            }
          else if (c == NOTES_EMBED_CHAR && embed_tag != NULL)
            {
              append_text (delta, run, p - run, attributes);
              patches_delta_insert_embed (delta, notes_rich_text_tag_get_value (embed_tag), attributes);
              run = g_utf8_next_char (p);
            }
        }
      append_text (delta, run, p - run, attributes);

      pos = next;
    }
}

/**
 * notes_rich_text_attributes_set:
 * @attributes: (nullable): an attribute object
 * @key: a key
 * @value: (nullable): its new value; %NULL or `null` removes the key
 *
 * Returns: (transfer full) (nullable): a copy of @attributes with @key
 *   set, or %NULL when no attribute is left
 */
PatchesValue *
notes_rich_text_attributes_set (PatchesValue *attributes,
                                const char   *key,
                                PatchesValue *value)
{
  g_autoptr(PatchesValue) result = NULL;

  if (attributes != NULL && patches_value_get_kind (attributes) == PATCHES_VALUE_OBJECT)
    result = patches_value_copy_shallow (attributes);
  else
    result = patches_value_new_object ();

  if (value == NULL || patches_value_get_kind (value) == PATCHES_VALUE_NULL)
    patches_value_object_remove (result, key);
  else
    patches_value_object_set (result, key, patches_value_ref (value));

  if (patches_value_object_get_size (result) == 0)
    return NULL;

  return g_steal_pointer (&result);
}
