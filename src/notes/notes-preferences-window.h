/* notes-preferences-window.h
 *
 * Preferences: the server address, the display name, the access token
 * (kept in the keyring) and whether to connect at all.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "notes-application.h"

G_BEGIN_DECLS

#define NOTES_TYPE_PREFERENCES_WINDOW (notes_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (NotesPreferencesWindow, notes_preferences_window, NOTES, PREFERENCES_WINDOW, AdwPreferencesWindow)

GtkWidget *notes_preferences_window_new (NotesApplication *application);

G_END_DECLS
