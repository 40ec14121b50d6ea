/* notes-note-row.c
 *
 * The row binds to its item's properties; the relative time is written
 * again when the item changes and once a minute while the row shows an
 * item.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "notes-note-row.h"

struct _NotesNoteRow
{
  GtkWidget      parent_instance;

  NotesNoteItem *item;
  GPtrArray     *bindings;
  guint          minute_timer;

  /* Template widgets */
  GtkWidget     *box;
  GtkLabel      *title_label;
  GtkLabel      *snippet_label;
  GtkLabel      *time_label;
  GtkImage      *pin_icon;
  GtkImage      *badge_icon;
};

enum {
  PROP_0,
  PROP_ITEM,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (NotesNoteRow, notes_note_row, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];

/**
 * notes_format_relative_time:
 * @unix_ms: a time in ms since the epoch (0 or less: unknown)
 * @now: the current local time
 *
 * Formats @unix_ms relative to @now: "Just now", "5 min ago", "3 hours
 * ago", "Yesterday", a weekday within a week, then a date.
 *
 * Returns: (transfer full): the text ("" for an unknown time)
 */
char *
notes_format_relative_time (gint64     unix_ms,
                            GDateTime *now)
{
  g_autoptr(GDateTime) then = NULL;
  g_autoptr(GDateTime) then_day = NULL;
  g_autoptr(GDateTime) now_day = NULL;
  GTimeSpan diff;
  int days;

  g_return_val_if_fail (now != NULL, NULL);

  if (unix_ms <= 0)
    return g_strdup ("");

  /* In @now's time zone, which is looked up once rather than for each
   * date made here */
  {
    g_autoptr(GDateTime) then_utc = g_date_time_new_from_unix_utc (unix_ms / 1000);

    if (then_utc == NULL)
      return g_strdup ("");
    then = g_date_time_to_timezone (then_utc, g_date_time_get_timezone (now));
    if (then == NULL)
      return g_strdup ("");
  }

  diff = g_date_time_difference (now, then);

  if (diff < G_TIME_SPAN_MINUTE)
    return g_strdup (_("Just now"));

  if (diff < G_TIME_SPAN_HOUR)
    {
      int minutes = (int) (diff / G_TIME_SPAN_MINUTE);

      return g_strdup_printf (ngettext ("%d min ago", "%d min ago", minutes), minutes);
    }

  now_day = g_date_time_new (g_date_time_get_timezone (now),
                             g_date_time_get_year (now), g_date_time_get_month (now),
                             g_date_time_get_day_of_month (now), 0, 0, 0);
  then_day = g_date_time_new (g_date_time_get_timezone (now),
                              g_date_time_get_year (then), g_date_time_get_month (then),
                              g_date_time_get_day_of_month (then), 0, 0, 0);
  days = (int) ((g_date_time_difference (now_day, then_day) + G_TIME_SPAN_HOUR * 2) / G_TIME_SPAN_DAY);

  if (days == 0 || diff < 6 * G_TIME_SPAN_HOUR)
    {
      int hours = (int) (diff / G_TIME_SPAN_HOUR);

      return g_strdup_printf (ngettext ("%d hour ago", "%d hours ago", hours), hours);
    }

  if (days == 1)
    return g_strdup (_("Yesterday"));

  if (days < 7)
    /* Translators: a weekday, see the GDateTime format codes */
    return g_date_time_format (then, _("%A"));

  if (g_date_time_get_year (then) == g_date_time_get_year (now))
    /* Translators: a day of this year, e.g. "27 Nov"; see the GDateTime format codes */
    return g_date_time_format (then, _("%e %b"));

  /* Translators: a date in another year, e.g. "27 Nov 2025"; see the GDateTime format codes */
  return g_date_time_format (then, _("%e %b %Y"));
}

/* The local time zone, looked up again at most every ten seconds: rows
 * are bound many times a second while notes sync, and each lookup reads
 * the file system */
static GTimeZone *
notes_note_row_local_time_zone (void)
{
  static GTimeZone *local;
  static gint64 looked_up;
  gint64 now = g_get_monotonic_time ();

  if (local == NULL || now - looked_up > 10 * G_USEC_PER_SEC)
    {
      g_clear_pointer (&local, g_time_zone_unref);
      local = g_time_zone_new_local ();
      looked_up = now;
    }

  return local;
}

static void
notes_note_row_update_time (NotesNoteRow *self)
{
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *text = NULL;
  gint64 updated_at = self->item ? notes_note_item_get_updated_at (self->item) : 0;

  if (updated_at <= 0)
    {
      gtk_label_set_label (self->time_label, "");
      return;
    }

  now = g_date_time_new_now (notes_note_row_local_time_zone ());
  text = notes_format_relative_time (updated_at, now);
  gtk_label_set_label (self->time_label, g_strstrip (text));
}

/* The exact time, written only when a tooltip is about to show: setting
 * a tooltip makes GTK ask the display where the pointer is, a round trip
 * on X11, and rows are bound again and again while notes sync */
static gboolean
notes_note_row_time_query_tooltip_cb (GtkWidget    *label,
                                      int           x,
                                      int           y,
                                      gboolean      keyboard_mode,
                                      GtkTooltip   *tooltip,
                                      NotesNoteRow *self)
{
  gint64 updated_at = self->item ? notes_note_item_get_updated_at (self->item) : 0;
  g_autoptr(GDateTime) then = NULL;
  g_autofree char *exact = NULL;

  if (updated_at <= 0 || (then = g_date_time_new_from_unix_local (updated_at / 1000)) == NULL)
    return FALSE;

  exact = g_date_time_format (then, "%c");
  gtk_tooltip_set_text (tooltip, exact);

  return TRUE;
}

/* The badge's tooltip, set only when its text changes (see above) */
static void
notes_note_row_update_badge_tooltip (NotesNoteRow *self)
{
  g_autofree char *text = NULL;

  if (self->item == NULL)
    return;

  text = notes_note_item_dup_badge_tooltip (self->item);
  if (g_strcmp0 (text, gtk_widget_get_tooltip_text (GTK_WIDGET (self->badge_icon))) != 0)
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->badge_icon), text);
}

static void
notes_note_row_update_accessible (NotesNoteRow *self)
{
  g_autofree char *badge = NULL;

  if (self->item == NULL)
    return;

  badge = notes_note_item_dup_badge_tooltip (self->item);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, notes_note_item_get_display_title (self->item),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, badge,
                                  -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->badge_icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, badge,
                                  -1);
}

static void
notes_note_row_update_badge_class (NotesNoteRow *self)
{
  static const char * const classes[] = {
    [NOTES_SYNC_BADGE_SAVED] = "badge-saved",
    [NOTES_SYNC_BADGE_PENDING] = "badge-pending",
    [NOTES_SYNC_BADGE_SYNCING] = "badge-syncing",
    [NOTES_SYNC_BADGE_ERROR] = "badge-error",
  };
  NotesSyncBadge badge = self->item ? notes_note_item_get_badge (self->item) : NOTES_SYNC_BADGE_SAVED;

  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    {
      if (i == badge)
        gtk_widget_add_css_class (GTK_WIDGET (self->badge_icon), classes[i]);
      else
        gtk_widget_remove_css_class (GTK_WIDGET (self->badge_icon), classes[i]);
    }
}

static gboolean
notes_note_row_minute_cb (gpointer user_data)
{
  notes_note_row_update_time (user_data);

  return G_SOURCE_CONTINUE;
}

static void
notes_note_row_item_notify_cb (NotesNoteItem *item,
                               GParamSpec    *pspec,
                               NotesNoteRow  *self)
{
  notes_note_row_update_time (self);
  notes_note_row_update_accessible (self);
  notes_note_row_update_badge_class (self);
  notes_note_row_update_badge_tooltip (self);
}

static gboolean
snippet_to_visible (GBinding     *binding,
                    const GValue *from,
                    GValue       *to,
                    gpointer      user_data)
{
  const char *snippet = g_value_get_string (from);

  g_value_set_boolean (to, snippet != NULL && snippet[0] != '\0');

  return TRUE;
}

static void
notes_note_row_unbind (NotesNoteRow *self)
{
  for (guint i = 0; i < self->bindings->len; i++)
    g_binding_unbind (g_ptr_array_index (self->bindings, i));
  g_ptr_array_set_size (self->bindings, 0);

  if (self->item != NULL)
    g_signal_handlers_disconnect_by_data (self->item, self);
  g_clear_object (&self->item);
  g_clear_handle_id (&self->minute_timer, g_source_remove);
}

static void
notes_note_row_bind (NotesNoteRow  *self,
                     NotesNoteItem *item,
                     const char    *source,
                     gpointer       target,
                     const char    *target_property)
{
  g_ptr_array_add (self->bindings,
                   g_object_bind_property (item, source, target, target_property, G_BINDING_SYNC_CREATE));
}

static void
notes_note_row_dispose (GObject *object)
{
  NotesNoteRow *self = NOTES_NOTE_ROW (object);

  if (self->bindings != NULL)
    notes_note_row_unbind (self);
  g_clear_pointer (&self->bindings, g_ptr_array_unref);

  gtk_widget_dispose_template (GTK_WIDGET (self), NOTES_TYPE_NOTE_ROW);

  G_OBJECT_CLASS (notes_note_row_parent_class)->dispose (object);
}

static void
notes_note_row_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  NotesNoteRow *self = NOTES_NOTE_ROW (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      g_value_set_object (value, self->item);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_note_row_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  NotesNoteRow *self = NOTES_NOTE_ROW (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      notes_note_row_set_item (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
notes_note_row_class_init (NotesNoteRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = notes_note_row_dispose;
  object_class->get_property = notes_note_row_get_property;
  object_class->set_property = notes_note_row_set_property;

  /**
   * NotesNoteRow:item:
   *
   * The note shown.
   */
  properties[PROP_ITEM] =
    g_param_spec_object ("item", NULL, NULL,
                         NOTES_TYPE_NOTE_ITEM,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, APPLICATION_PATH "/ui/notes-note-row.ui");
  gtk_widget_class_bind_template_child (widget_class, NotesNoteRow, box);
  gtk_widget_class_bind_template_child (widget_class, NotesNoteRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, NotesNoteRow, snippet_label);
  gtk_widget_class_bind_template_child (widget_class, NotesNoteRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, NotesNoteRow, pin_icon);
  gtk_widget_class_bind_template_child (widget_class, NotesNoteRow, badge_icon);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "noterow");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
notes_note_row_init (NotesNoteRow *self)
{
  self->bindings = g_ptr_array_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_set_has_tooltip (GTK_WIDGET (self->time_label), TRUE);
  g_signal_connect (self->time_label, "query-tooltip",
                    G_CALLBACK (notes_note_row_time_query_tooltip_cb), self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->pin_icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Pinned"),
                                  -1);
}

/**
 * notes_note_row_new:
 *
 * Returns: (transfer floating): a new, empty row
 */
GtkWidget *
notes_note_row_new (void)
{
  return g_object_new (NOTES_TYPE_NOTE_ROW, NULL);
}

/**
 * notes_note_row_get_item:
 * @self: a #NotesNoteRow
 *
 * Returns: (transfer none) (nullable): the note shown
 */
NotesNoteItem *
notes_note_row_get_item (NotesNoteRow *self)
{
  g_return_val_if_fail (NOTES_IS_NOTE_ROW (self), NULL);

  return self->item;
}

/**
 * notes_note_row_set_item:
 * @self: a #NotesNoteRow
 * @item: (nullable): the note to show
 *
 * Shows @item (list factories bind and unbind rows with this).
 */
void
notes_note_row_set_item (NotesNoteRow  *self,
                         NotesNoteItem *item)
{
  g_return_if_fail (NOTES_IS_NOTE_ROW (self));
  g_return_if_fail (item == NULL || NOTES_IS_NOTE_ITEM (item));

  if (self->item == item)
    return;

  notes_note_row_unbind (self);

  if (item != NULL)
    {
      self->item = g_object_ref (item);
      notes_note_row_bind (self, item, "display-title", self->title_label, "label");
      notes_note_row_bind (self, item, "snippet", self->snippet_label, "label");
      g_ptr_array_add (self->bindings,
                       g_object_bind_property_full (item, "snippet", self->snippet_label, "visible",
                                                    G_BINDING_SYNC_CREATE,
                                                    snippet_to_visible, NULL, NULL, NULL));
      notes_note_row_bind (self, item, "pinned", self->pin_icon, "visible");
      notes_note_row_bind (self, item, "badge-icon-name", self->badge_icon, "icon-name");

      g_signal_connect (item, "notify::updated-at", G_CALLBACK (notes_note_row_item_notify_cb), self);
      g_signal_connect (item, "notify::display-title", G_CALLBACK (notes_note_row_item_notify_cb), self);
      g_signal_connect (item, "notify::badge-tooltip", G_CALLBACK (notes_note_row_item_notify_cb), self);
      g_signal_connect (item, "notify::badge", G_CALLBACK (notes_note_row_item_notify_cb), self);
      self->minute_timer = g_timeout_add_seconds (60, notes_note_row_minute_cb, self);
    }

  notes_note_row_update_time (self);
  notes_note_row_update_accessible (self);
  notes_note_row_update_badge_class (self);
  notes_note_row_update_badge_tooltip (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEM]);
}
