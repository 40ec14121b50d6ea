/* notes-secret.h
 *
 * Where Patches Notes keeps the access token of each server and profile:
 * the desktop's secret service (libsecret) when there is one, otherwise
 * memory for the rest of the run.  Every call is asynchronous, so a slow
 * or missing keyring never blocks the window.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define NOTES_TYPE_SECRET (notes_secret_get_type ())

G_DECLARE_FINAL_TYPE (NotesSecret, notes_secret, NOTES, SECRET, GObject)

NotesSecret *notes_secret_new              (gboolean              use_secret_service) G_GNUC_WARN_UNUSED_RESULT;
gboolean     notes_secret_get_available    (NotesSecret          *self);
void         notes_secret_lookup_async     (NotesSecret          *self,
                                            const char           *server,
                                            const char           *profile,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
char        *notes_secret_lookup_finish    (NotesSecret          *self,
                                            GAsyncResult         *result,
                                            GError              **error) G_GNUC_WARN_UNUSED_RESULT;
void         notes_secret_store_async      (NotesSecret          *self,
                                            const char           *server,
                                            const char           *profile,
                                            const char           *token,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
gboolean     notes_secret_store_finish     (NotesSecret          *self,
                                            GAsyncResult         *result,
                                            GError              **error);

G_END_DECLS
