/* patches-server-auth.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "patches-server-auth.h"
#include "patches-server-error.h"

/**
 * PatchesServerAuth:
 *
 * The tokens patches-server accepts, read from a tokens file (see
 * patches-server(1)).  One line per token, fields separated by blanks:
 *
 * |[
 * # TOKEN              USER   RULE…                              FLAG…
 * 3f9c2a7e51d04b8c     alice  alice-*:write shared-*:read
 * sha256:9f86d081…     bob    shared-*:read
 * 0b7d6c1fa9e24d35     sync   *:write                            +trusted
 * ]|
 *
 * - TOKEN is the secret clients present, or `sha256:` and the SHA-256 of
 *   it in lower-case hexadecimal, so that the file need not hold the
 *   secret itself.  Tokens carried in a WebSocket subprotocol must be
 *   HTTP token characters (letters, digits and `!#$%&'*+-.^_`|~`).
 * - USER names the token's holder in logs.
 * - Each RULE is `PATTERN:ACCESS`: PATTERN is a document-id glob (`*`
 *   matches any run of characters, `/` included, `?` any one character;
 *   the last `:` of the rule separates it from ACCESS), ACCESS is `read`
 *   or `write` (which includes read).  When several rules match a
 *   document the widest access wins; when none does, the token may not
 *   touch it.
 * - `+trusted` lets the token pass the commit options the protocol
 *   describes as server-only (`allowRootReplace`, `historicalImport`,
 *   `forceCommit`) and deleteDoc's `skipTombstone`; the server strips
 *   them from every other caller.
 *
 * `#` starts a comment line; blank lines are skipped.  Any other line
 * that does not parse makes the whole file fail to load, naming the line.
 *
 * Presented tokens are looked up by their SHA-256 digest, so a lookup
 * takes the same time whichever prefix of a token matches.
 *
 * patches_server_auth_reload() reads the file again (patches-server does
 * on SIGHUP): new handshakes see the new tokens at once, connections
 * already open keep the token they authenticated with.  A file that no
 * longer parses leaves the tokens as they were.
 */

typedef struct
{
  GPatternSpec        *pattern;
  PatchesServerAccess  access;
} Rule;

struct _PatchesServerAuthToken
{
  grefcount  ref_count;

  char      *key;
  char      *user;
  GArray    *rules;
  gboolean   trusted;
};

struct _PatchesServerAuth
{
  GObject                 parent_instance;

  /* SHA-256 hex digest → PatchesServerAuthToken */
  GHashTable             *tokens;
  PatchesServerAuthToken *anonymous;
  /* The tokens file, for patches_server_auth_reload() */
  char                   *path;
};

G_DEFINE_FINAL_TYPE (PatchesServerAuth, patches_server_auth, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE (PatchesServerAuthToken, patches_server_auth_token,
                     patches_server_auth_token_ref, patches_server_auth_token_unref)

/* Tokens */

static void
rule_clear (gpointer data)
{
  Rule *rule = data;

  g_clear_pointer (&rule->pattern, g_pattern_spec_free);
}

static PatchesServerAuthToken *
token_new (const char *key,
           const char *user)
{
  PatchesServerAuthToken *token = g_new0 (PatchesServerAuthToken, 1);

  g_ref_count_init (&token->ref_count);
  token->key = g_strdup (key);
  token->user = g_strdup (user);
  token->rules = g_array_new (FALSE, FALSE, sizeof (Rule));
  g_array_set_clear_func (token->rules, rule_clear);

  return token;
}

static void
token_add_rule (PatchesServerAuthToken *token,
                const char             *pattern,
                PatchesServerAccess     access)
{
  Rule rule = { g_pattern_spec_new (pattern), access };

  g_array_append_val (token->rules, rule);
}

/**
 * patches_server_auth_token_ref:
 * @self: a #PatchesServerAuthToken
 *
 * Returns: (transfer full): @self
 */
PatchesServerAuthToken *
patches_server_auth_token_ref (PatchesServerAuthToken *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * patches_server_auth_token_unref:
 * @self: (transfer full): a #PatchesServerAuthToken
 *
 * Drops a reference.
 */
void
patches_server_auth_token_unref (PatchesServerAuthToken *self)
{
  g_return_if_fail (self != NULL);

  if (!g_ref_count_dec (&self->ref_count))
    return;

  g_free (self->key);
  g_free (self->user);
  g_array_unref (self->rules);
  g_free (self);
}

/**
 * patches_server_auth_token_get_user:
 * @self: a #PatchesServerAuthToken
 *
 * Returns: the user name the tokens file gives the token
 */
const char *
patches_server_auth_token_get_user (PatchesServerAuthToken *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->user;
}

/**
 * patches_server_auth_token_get_key:
 * @self: a #PatchesServerAuthToken
 *
 * A name for the token that is not the secret: the SHA-256 digest of
 * the token (the empty string for the anonymous token of a server without
 * authentication).  Limits per token count by it.
 *
 * Returns: the key
 */
const char *
patches_server_auth_token_get_key (PatchesServerAuthToken *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->key;
}

/**
 * patches_server_auth_token_is_trusted:
 * @self: a #PatchesServerAuthToken
 *
 * Returns: whether the token has the `+trusted` flag
 */
gboolean
patches_server_auth_token_is_trusted (PatchesServerAuthToken *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->trusted;
}

/**
 * patches_server_auth_token_get_access:
 * @self: a #PatchesServerAuthToken
 * @doc_id: a document id
 *
 * Returns: the widest access any rule of the token grants on @doc_id
 */
PatchesServerAccess
patches_server_auth_token_get_access (PatchesServerAuthToken *self,
                                      const char             *doc_id)
{
  PatchesServerAccess access = PATCHES_SERVER_ACCESS_NONE;

  g_return_val_if_fail (self != NULL, PATCHES_SERVER_ACCESS_NONE);
  g_return_val_if_fail (doc_id != NULL, PATCHES_SERVER_ACCESS_NONE);

  for (guint i = 0; i < self->rules->len && access < PATCHES_SERVER_ACCESS_WRITE; i++)
    {
      const Rule *rule = &g_array_index (self->rules, Rule, i);

      if (rule->access > access && g_pattern_spec_match_string (rule->pattern, doc_id))
        access = rule->access;
    }

  return access;
}

/* The tokens file */

static char *
digest_of (const char *token)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
}

static gboolean
is_sha256_hex (const char *text)
{
  if (strlen (text) != 64)
    return FALSE;

  for (const char *p = text; *p; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;

  return TRUE;
}

static gboolean
parse_line (PatchesServerAuth  *self,
            char               *line,
            guint               lineno,
            GError            **error)
{
  g_auto(GStrv) fields = NULL;
  g_autoptr(PatchesServerAuthToken) token = NULL;
  g_autofree char *key = NULL;
  guint n_fields;

  g_strstrip (line);
  if (line[0] == 0 || line[0] == '#')
    return TRUE;

  fields = g_regex_split_simple ("[ \t]+", line, 0, 0);
  n_fields = g_strv_length (fields);

  if (n_fields < 3)
    {
      g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_TOKENS_FILE,
                   "line %u: expected TOKEN USER PATTERN:ACCESS…", lineno);
      return FALSE;
    }

  if (g_str_has_prefix (fields[0], "sha256:"))
    {
      key = g_ascii_strdown (fields[0] + strlen ("sha256:"), -1);
      if (!is_sha256_hex (key))
        {
          g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_TOKENS_FILE,
                       "line %u: a sha256: token needs 64 hexadecimal digits", lineno);
          return FALSE;
        }
    }
  else
    key = digest_of (fields[0]);

  if (g_hash_table_contains (self->tokens, key))
    {
      g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_TOKENS_FILE,
                   "line %u: the token is listed twice", lineno);
      return FALSE;
    }

  token = token_new (key, fields[1]);

  for (guint i = 2; i < n_fields; i++)
    {
      const char *field = fields[i];
      const char *colon;
      g_autofree char *pattern = NULL;
      PatchesServerAccess access;

      if (field[0] == '+')
        {
          if (strcmp (field, "+trusted") == 0)
            token->trusted = TRUE;
          else
            {
              g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_TOKENS_FILE,
                           "line %u: unknown flag “%s”", lineno, field);
              return FALSE;
            }
          continue;
        }

      colon = strrchr (field, ':');
      if (colon == NULL || colon == field)
        {
          g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_TOKENS_FILE,
                       "line %u: “%s” is not PATTERN:ACCESS", lineno, field);
          return FALSE;
        }

      if (strcmp (colon + 1, "read") == 0)
        access = PATCHES_SERVER_ACCESS_READ;
      else if (strcmp (colon + 1, "write") == 0)
        access = PATCHES_SERVER_ACCESS_WRITE;
      else
        {
          g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_TOKENS_FILE,
                       "line %u: access “%s” is neither read nor write", lineno, colon + 1);
          return FALSE;
        }

      pattern = g_strndup (field, colon - field);
      token_add_rule (token, pattern, access);
    }

  if (token->rules->len == 0)
    {
      g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_TOKENS_FILE,
                   "line %u: the token has no PATTERN:ACCESS rule", lineno);
      return FALSE;
    }

  g_hash_table_insert (self->tokens, g_steal_pointer (&key), g_steal_pointer (&token));

  return TRUE;
}

static gboolean
parse_data (PatchesServerAuth  *self,
            const char         *data,
            gsize               length,
            GError            **error)
{
  g_auto(GStrv) lines = NULL;
  g_autofree char *text = NULL;

  if (!g_utf8_validate_len (data, length, NULL))
    {
      g_set_error (error, PATCHES_SERVER_ERROR, PATCHES_SERVER_ERROR_TOKENS_FILE,
                   "the tokens file is not UTF-8 text");
      return FALSE;
    }

  text = g_strndup (data, length);
  lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (!parse_line (self, lines[i], i + 1, error))
      return FALSE;

  return TRUE;
}

/* GObject */

static void
patches_server_auth_finalize (GObject *object)
{
  PatchesServerAuth *self = (PatchesServerAuth *)object;

  g_clear_pointer (&self->tokens, g_hash_table_unref);
  g_clear_pointer (&self->anonymous, patches_server_auth_token_unref);
  g_clear_pointer (&self->path, g_free);

  G_OBJECT_CLASS (patches_server_auth_parent_class)->finalize (object);
}

static void
patches_server_auth_class_init (PatchesServerAuthClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = patches_server_auth_finalize;
}

static void
patches_server_auth_init (PatchesServerAuth *self)
{
  self->tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) patches_server_auth_token_unref);
}

/* Public API */

/**
 * patches_server_auth_new_from_data:
 * @data: the contents of a tokens file
 * @length: the length of @data, or -1 if nul-terminated
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the tokens, or %NULL with @error set
 *   to %PATCHES_SERVER_ERROR_TOKENS_FILE
 */
PatchesServerAuth *
patches_server_auth_new_from_data (const char  *data,
                                   gssize       length,
                                   GError     **error)
{
  g_autoptr(PatchesServerAuth) self = NULL;

  g_return_val_if_fail (data != NULL, NULL);

  if (length < 0)
    length = strlen (data);

  self = g_object_new (PATCHES_TYPE_SERVER_AUTH, NULL);
  if (!parse_data (self, data, length, error))
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * patches_server_auth_new_from_file:
 * @path: the tokens file
 * @error: return location for a #GError
 *
 * Reads a tokens file.  A file that others than its owner may read is
 * loaded with a warning.
 *
 * Returns: (transfer full) (nullable): the tokens, or %NULL with @error set
 */
PatchesServerAuth *
patches_server_auth_new_from_file (const char  *path,
                                   GError     **error)
{
  g_autoptr(PatchesServerAuth) self = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (PATCHES_TYPE_SERVER_AUTH, NULL);
  self->path = g_strdup (path);
  if (!patches_server_auth_reload (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * patches_server_auth_reload:
 * @self: a #PatchesServerAuth made by patches_server_auth_new_from_file()
 * @error: return location for a #GError
 *
 * Reads the tokens file again and, if it parses, puts its tokens in place
 * of the current ones: later lookups see them; the #PatchesServerAuthToken
 * entries already handed out stay valid, unchanged.  When the file cannot
 * be read or does not parse, the current tokens are kept.  A file that
 * others than its owner may read is loaded with a warning.
 *
 * Returns: %TRUE if the tokens were replaced, %FALSE with @error set
 *   (the message names the file and, for a malformed one, the line)
 */
gboolean
patches_server_auth_reload (PatchesServerAuth  *self,
                            GError            **error)
{
  g_autoptr(PatchesServerAuth) fresh = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autofree char *data = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize length;

  g_return_val_if_fail (PATCHES_IS_SERVER_AUTH (self), FALSE);
  g_return_val_if_fail (self->path != NULL, FALSE);

  file = g_file_new_for_path (self->path);
  info = g_file_query_info (file, G_FILE_ATTRIBUTE_UNIX_MODE, G_FILE_QUERY_INFO_NONE, NULL, NULL);
  if (info != NULL &&
      g_file_info_has_attribute (info, G_FILE_ATTRIBUTE_UNIX_MODE) &&
      (g_file_info_get_attribute_uint32 (info, G_FILE_ATTRIBUTE_UNIX_MODE) & 0077) != 0)
    g_warning ("The tokens file %s can be read by other users; chmod 600 it", self->path);

  if (!g_file_get_contents (self->path, &data, &length, error))
    return FALSE;

  if (!(fresh = patches_server_auth_new_from_data (data, length, &local_error)))
    {
      g_set_error (error, local_error->domain, local_error->code,
                   "%s: %s", self->path, local_error->message);
      return FALSE;
    }

  g_clear_pointer (&self->tokens, g_hash_table_unref);
  self->tokens = g_steal_pointer (&fresh->tokens);

  return TRUE;
}

/**
 * patches_server_auth_get_path:
 * @self: a #PatchesServerAuth
 *
 * Returns: (nullable): the tokens file @self reads, or %NULL when it was
 *   not made by patches_server_auth_new_from_file()
 */
const char *
patches_server_auth_get_path (PatchesServerAuth *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_AUTH (self), NULL);

  return self->path;
}

/**
 * patches_server_auth_new_allow_all:
 *
 * The authentication of `--no-auth`: every connection gets one anonymous
 * token with write access to every document, not trusted.
 *
 * Returns: (transfer full): a new #PatchesServerAuth
 */
PatchesServerAuth *
patches_server_auth_new_allow_all (void)
{
  PatchesServerAuth *self = g_object_new (PATCHES_TYPE_SERVER_AUTH, NULL);

  self->anonymous = token_new ("", "anonymous");
  token_add_rule (self->anonymous, "*", PATCHES_SERVER_ACCESS_WRITE);

  return self;
}

/**
 * patches_server_auth_get_allow_all:
 * @self: a #PatchesServerAuth
 *
 * Returns: whether every connection is accepted without a token
 */
gboolean
patches_server_auth_get_allow_all (PatchesServerAuth *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_AUTH (self), FALSE);

  return self->anonymous != NULL;
}

/**
 * patches_server_auth_get_n_tokens:
 * @self: a #PatchesServerAuth
 *
 * Returns: how many tokens the file lists
 */
guint
patches_server_auth_get_n_tokens (PatchesServerAuth *self)
{
  g_return_val_if_fail (PATCHES_IS_SERVER_AUTH (self), 0);

  return g_hash_table_size (self->tokens);
}

/**
 * patches_server_auth_lookup:
 * @self: a #PatchesServerAuth
 * @token: (nullable): the token a client presented, or %NULL for none
 *
 * Finds the entry for @token.  A server without authentication returns
 * its anonymous entry whatever is presented.
 *
 * Returns: (transfer full) (nullable): the entry, or %NULL when @token is
 *   missing or unknown
 */
PatchesServerAuthToken *
patches_server_auth_lookup (PatchesServerAuth *self,
                            const char        *token)
{
  g_autofree char *key = NULL;
  PatchesServerAuthToken *entry;

  g_return_val_if_fail (PATCHES_IS_SERVER_AUTH (self), NULL);

  if (self->anonymous != NULL)
    return patches_server_auth_token_ref (self->anonymous);

  if (token == NULL || token[0] == 0)
    return NULL;

  key = digest_of (token);
  entry = g_hash_table_lookup (self->tokens, key);

  return entry ? patches_server_auth_token_ref (entry) : NULL;
}
