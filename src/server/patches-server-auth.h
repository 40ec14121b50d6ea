/* patches-server-auth.h
 *
 * Who may connect to patches-server and what each token may do: the
 * tokens file, and the access check of every method.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * PatchesServerAccess:
 * @PATCHES_SERVER_ACCESS_NONE: the token may not touch the document
 * @PATCHES_SERVER_ACCESS_READ: subscribe, getDoc, getChangesSince and the
 *   version readers
 * @PATCHES_SERVER_ACCESS_WRITE: everything read allows, plus
 *   commitChanges, deleteDoc, undeleteDoc, createVersion and
 *   updateVersion
 *
 * Access levels, ordered: each includes the ones before it.
 */
typedef enum {
  PATCHES_SERVER_ACCESS_NONE,
  PATCHES_SERVER_ACCESS_READ,
  PATCHES_SERVER_ACCESS_WRITE,
} PatchesServerAccess;

/**
 * PatchesServerAuthToken:
 *
 * One entry of the tokens file (or the single anonymous entry of a
 * server without authentication): a user name, document-id patterns
 * with their access, and flags.  Immutable and reference counted.
 */
typedef struct _PatchesServerAuthToken PatchesServerAuthToken;

#define PATCHES_TYPE_SERVER_AUTH_TOKEN (patches_server_auth_token_get_type ())

#define PATCHES_TYPE_SERVER_AUTH (patches_server_auth_get_type ())

G_DECLARE_FINAL_TYPE (PatchesServerAuth, patches_server_auth, PATCHES, SERVER_AUTH, GObject)

PatchesServerAuth      *patches_server_auth_new_from_file    (const char              *path,
                                                              GError                 **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesServerAuth      *patches_server_auth_new_from_data    (const char              *data,
                                                              gssize                   length,
                                                              GError                 **error) G_GNUC_WARN_UNUSED_RESULT;
PatchesServerAuth      *patches_server_auth_new_allow_all    (void) G_GNUC_WARN_UNUSED_RESULT;
gboolean                patches_server_auth_reload           (PatchesServerAuth       *self,
                                                              GError                 **error);
const char             *patches_server_auth_get_path         (PatchesServerAuth       *self);
gboolean                patches_server_auth_get_allow_all    (PatchesServerAuth       *self);
guint                   patches_server_auth_get_n_tokens     (PatchesServerAuth       *self);
PatchesServerAuthToken *patches_server_auth_lookup           (PatchesServerAuth       *self,
                                                              const char              *token) G_GNUC_WARN_UNUSED_RESULT;

GType                   patches_server_auth_token_get_type   (void) G_GNUC_CONST;
PatchesServerAuthToken *patches_server_auth_token_ref        (PatchesServerAuthToken  *self);
void                    patches_server_auth_token_unref      (PatchesServerAuthToken  *self);
const char             *patches_server_auth_token_get_user   (PatchesServerAuthToken  *self);
const char             *patches_server_auth_token_get_key    (PatchesServerAuthToken  *self);
gboolean                patches_server_auth_token_is_trusted (PatchesServerAuthToken  *self);
PatchesServerAccess     patches_server_auth_token_get_access (PatchesServerAuthToken  *self,
                                                              const char              *doc_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PatchesServerAuthToken, patches_server_auth_token_unref)

G_END_DECLS
