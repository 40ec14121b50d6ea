/* notes-application.h
 *
 * Patches Notes: one instance per profile.  It owns the profile's local
 * store, the #PatchesClient, the #PatchesSync to the server, the
 * profile's settings and its access token.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "patches-client.h"
#include "patches-sync.h"

#include "notes-secret.h"

G_BEGIN_DECLS

#define NOTES_TYPE_APPLICATION (notes_application_get_type ())

G_DECLARE_FINAL_TYPE (NotesApplication, notes_application, NOTES, APPLICATION, AdwApplication)

NotesApplication *notes_application_new                 (const char        *application_id,
                                                         GApplicationFlags  flags) G_GNUC_WARN_UNUSED_RESULT;
gboolean          notes_application_profile_is_valid    (const char        *profile);
const char       *notes_application_get_profile         (NotesApplication  *self);
void              notes_application_set_profile         (NotesApplication  *self,
                                                         const char        *profile);
const char       *notes_application_get_server_url      (NotesApplication  *self);
void              notes_application_set_server_url      (NotesApplication  *self,
                                                         const char        *url);
const char       *notes_application_get_notebook_id     (NotesApplication  *self);
void              notes_application_set_notebook_id     (NotesApplication  *self,
                                                         const char        *notebook_id);
const char       *notes_application_get_token           (NotesApplication  *self);
void              notes_application_set_token           (NotesApplication  *self,
                                                         const char        *token);
gboolean          notes_application_get_work_offline    (NotesApplication  *self);
void              notes_application_set_work_offline    (NotesApplication  *self,
                                                         gboolean           work_offline);
GSettings        *notes_application_get_settings        (NotesApplication  *self);
PatchesClient    *notes_application_get_client          (NotesApplication  *self);
PatchesSync      *notes_application_get_sync            (NotesApplication  *self);
NotesSecret      *notes_application_get_secret          (NotesApplication  *self);

G_END_DECLS
