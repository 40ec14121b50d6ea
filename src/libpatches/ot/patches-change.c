/* patches-change.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <math.h>
#include <string.h>

#if defined(__linux__)
# include <sys/random.h>
#endif

#include "patches-error.h"
#include "patches-change.h"
#include "patches-patch-private.h"

G_DEFINE_BOXED_TYPE (PatchesChange, patches_change, patches_change_ref, patches_change_unref)

static const char base62_alphabet[] =
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static PatchesChange *
change_alloc (void)
{
  PatchesChange *self = g_new0 (PatchesChange, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->base_rev = -1;
  self->rev = -1;
  self->created_at = -1;
  self->committed_at = -1;

  return self;
}

/**
 * patches_change_new:
 * @id: (nullable): the change id, or %NULL to mint a new 12-character id
 * @base_rev: revision the ops are expressed against
 * @rev: provisional revision of the change
 * @ops: (transfer full) (nullable) (element-type PatchesOp): the ops, an
 *   array freeing its elements with patches_op_unref(); %NULL for none
 * @created_at: creation time in ms since the epoch
 *
 * Creates a change as the reference's `createChange()` does: `committedAt`
 * is 0 and no other member is set.
 *
 * Returns: (transfer full): a new change
 */
PatchesChange *
patches_change_new (const char *id,
                    gint64      base_rev,
                    gint64      rev,
                    GPtrArray  *ops,
                    double      created_at)
{
  PatchesChange *self = change_alloc ();

  self->id = id ? g_strdup (id) : patches_change_id_new ();
  self->base_rev = base_rev;
  self->rev = rev;
  self->ops = ops ? ops : patches_ops_new ();
  self->created_at = created_at;
  self->committed_at = 0;

  return self;
}

/**
 * patches_change_ref:
 * @self: a change
 *
 * Returns: (transfer full): @self
 */
PatchesChange *
patches_change_ref (PatchesChange *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * patches_change_unref:
 * @self: (transfer full): a change
 */
void
patches_change_unref (PatchesChange *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_free (self->id);
  g_clear_pointer (&self->ops, g_ptr_array_unref);
  g_free (self->batch_id);
  g_free (self->client_id);
  g_clear_pointer (&self->metadata, patches_value_unref);
  g_free (self);
}

/**
 * patches_change_copy:
 * @self: a change
 *
 * Copies the change with all its members.  The op array is new (the
 * immutable ops in it are shared), so the copy's @ops may be replaced or
 * edited freely.
 *
 * Returns: (transfer full): an unshared copy
 */
PatchesChange *
patches_change_copy (const PatchesChange *self)
{
  PatchesChange *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = change_alloc ();
  copy->id = g_strdup (self->id);
  copy->ops = patches_ops_new ();
  if (self->ops != NULL)
    for (guint i = 0; i < self->ops->len; i++)
      g_ptr_array_add (copy->ops, patches_op_ref (g_ptr_array_index (self->ops, i)));
  copy->base_rev = self->base_rev;
  copy->rev = self->rev;
  copy->created_at = self->created_at;
  copy->committed_at = self->committed_at;
  copy->batch_id = g_strdup (self->batch_id);
  copy->client_id = g_strdup (self->client_id);
  copy->metadata = self->metadata ? patches_value_ref (self->metadata) : NULL;

  return copy;
}

/* JSON */

static const char *
change_label (const char *id)
{
  return id ? id : "(no id)";
}

static gboolean
parse_rev (const PatchesValue  *member,
           const char          *name,
           const char          *id,
           gint64              *out,
           GError             **error)
{
  double n;

  if (patches_value_get_kind (member) == PATCHES_VALUE_NULL)
    {
      *out = -1;
      return TRUE;
    }

  if (patches_value_get_kind (member) == PATCHES_VALUE_NUMBER)
    {
      n = patches_value_get_number (member);
      if (isfinite (n) && n >= 0 && n == floor (n) && n <= 9007199254740992.0)
        {
          *out = (gint64) n;
          return TRUE;
        }
    }

  g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE,
               "Invalid change %s: member \"%s\" must be a non-negative integer",
               change_label (id), name);
  return FALSE;
}

static gboolean
parse_time (const PatchesValue  *member,
            const char          *name,
            const char          *id,
            double              *out,
            GError             **error)
{
  if (patches_value_get_kind (member) == PATCHES_VALUE_NULL)
    {
      *out = -1;
      return TRUE;
    }

  if (patches_value_get_kind (member) == PATCHES_VALUE_NUMBER &&
      isfinite (patches_value_get_number (member)))
    {
      *out = patches_value_get_number (member);
      return TRUE;
    }

  g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE,
               "Invalid change %s: member \"%s\" must be a number",
               change_label (id), name);
  return FALSE;
}

static gboolean
parse_string (const PatchesValue  *member,
              const char          *name,
              const char          *id,
              char               **out,
              GError             **error)
{
  if (patches_value_get_kind (member) == PATCHES_VALUE_NULL)
    {
      g_clear_pointer (out, g_free);
      return TRUE;
    }

  if (patches_value_get_kind (member) == PATCHES_VALUE_STRING)
    {
      g_free (*out);
      *out = g_strndup (patches_value_get_string (member),
                        patches_value_get_string_len (member));
      return TRUE;
    }

  g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE,
               "Invalid change %s: member \"%s\" must be a string",
               change_label (id), name);
  return FALSE;
}

/**
 * patches_change_from_value:
 * @value: a change object
 * @error: return location for a #GError
 *
 * Reads a change.  `id` (a string) and `ops` (an op array) are required;
 * `baseRev` and `rev` must be non-negative integers, `createdAt` and
 * `committedAt` numbers, `batchId` and `clientId` strings.  Any of these
 * that is `null` counts as absent.  Every other member is kept in
 * @metadata, in order.
 *
 * Returns: (transfer full) (nullable): the change, or %NULL with @error
 *   set to %PATCHES_ERROR_INVALID_CHANGE
 */
PatchesChange *
patches_change_from_value (const PatchesValue  *value,
                           GError             **error)
{
  g_autoptr(PatchesChange) self = NULL;
  PatchesValue *id;

  if (value == NULL || patches_value_get_kind (value) != PATCHES_VALUE_OBJECT)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE,
                   "Invalid change: expected an object");
      return NULL;
    }

  id = patches_value_object_get (value, "id");
  if (id == NULL || patches_value_get_kind (id) != PATCHES_VALUE_STRING)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE,
                   "Invalid change: member \"id\" must be a string");
      return NULL;
    }

  self = change_alloc ();
  self->id = g_strndup (patches_value_get_string (id), patches_value_get_string_len (id));

  for (guint i = 0; i < patches_value_object_get_size (value); i++)
    {
      const char *key = patches_value_object_key_at (value, i);
      PatchesValue *member = patches_value_object_value_at (value, i);
      gboolean ok = TRUE;

      if (strcmp (key, "id") == 0)
        continue;
      else if (strcmp (key, "ops") == 0)
        {
          g_autoptr(GError) local_error = NULL;

          self->ops = patches_ops_from_value (member, &local_error);
          if (self->ops == NULL)
            {
              g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE,
                           "Invalid change %s: %s", self->id, local_error->message);
              return NULL;
            }
        }
      else if (strcmp (key, "baseRev") == 0)
        ok = parse_rev (member, key, self->id, &self->base_rev, error);
      else if (strcmp (key, "rev") == 0)
        ok = parse_rev (member, key, self->id, &self->rev, error);
      else if (strcmp (key, "createdAt") == 0)
        ok = parse_time (member, key, self->id, &self->created_at, error);
      else if (strcmp (key, "committedAt") == 0)
        ok = parse_time (member, key, self->id, &self->committed_at, error);
      else if (strcmp (key, "batchId") == 0)
        ok = parse_string (member, key, self->id, &self->batch_id, error);
      else if (strcmp (key, "clientId") == 0)
        ok = parse_string (member, key, self->id, &self->client_id, error);
      else
        {
          if (self->metadata == NULL)
            self->metadata = patches_value_new_object ();
          patches_value_object_set (self->metadata, key, patches_value_ref (member));
        }

      if (!ok)
        return NULL;
    }

  if (self->ops == NULL)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE,
                   "Invalid change %s: member \"ops\" must be an array of ops", self->id);
      return NULL;
    }

  return g_steal_pointer (&self);
}

/**
 * patches_change_to_value:
 * @self: a change
 *
 * Returns: (transfer full): the change as a JSON object, members in the
 *   reference's order: id, baseRev, rev, ops, createdAt, committedAt, the
 *   metadata members, batchId, clientId; absent members are left out
 */
PatchesValue *
patches_change_to_value (const PatchesChange *self)
{
  PatchesValue *obj = patches_value_new_object ();

  if (self->id != NULL)
    patches_value_object_set (obj, "id", patches_value_new_string (self->id));
  if (self->base_rev >= 0)
    patches_value_object_set (obj, "baseRev", patches_value_new_number ((double) self->base_rev));
  if (self->rev >= 0)
    patches_value_object_set (obj, "rev", patches_value_new_number ((double) self->rev));
  patches_value_object_set (obj, "ops",
                            self->ops ? patches_ops_to_value (self->ops) : patches_value_new_array ());
  if (self->created_at != -1)
    patches_value_object_set (obj, "createdAt", patches_value_new_number (self->created_at));
  if (self->committed_at != -1)
    patches_value_object_set (obj, "committedAt", patches_value_new_number (self->committed_at));
  if (self->metadata != NULL)
    for (guint i = 0; i < patches_value_object_get_size (self->metadata); i++)
      patches_value_object_set (obj, patches_value_object_key_at (self->metadata, i),
                                patches_value_ref (patches_value_object_value_at (self->metadata, i)));
  if (self->batch_id != NULL)
    patches_value_object_set (obj, "batchId", patches_value_new_string (self->batch_id));
  if (self->client_id != NULL)
    patches_value_object_set (obj, "clientId", patches_value_new_string (self->client_id));

  return obj;
}

/* JavaScript enumerates keys that look like array indexes first. */
static gboolean
key_is_array_index (const char *key)
{
  guint64 v = 0;

  if (key[0] == 0 || (key[0] == '0' && key[1] != 0))
    return FALSE;
  for (const char *p = key; *p; p++)
    {
      if (*p < '0' || *p > '9')
        return FALSE;
      v = v * 10 + (guint64) (*p - '0');
      if (v > G_MAXUINT32 - 1)
        return FALSE;
    }
  return TRUE;
}

static gboolean
metadata_has_index_keys (const PatchesChange *self)
{
  if (self->metadata == NULL)
    return FALSE;
  for (guint i = 0; i < patches_value_object_get_size (self->metadata); i++)
    if (key_is_array_index (patches_value_object_key_at (self->metadata, i)))
      return TRUE;
  return FALSE;
}

static void
write_key (GString    *out,
           gboolean   *first,
           const char *key)
{
  if (!*first)
    g_string_append_c (out, ',');
  *first = FALSE;
  patches_js_append_string (out, key, -1);
  g_string_append_c (out, ':');
}

/**
 * patches_change_write_json:
 * @self: a change
 * @out: string to append to
 *
 * Appends the change exactly as `JSON.stringify` writes the reference's
 * change object (members in the order of patches_change_to_value()).
 */
void
patches_change_write_json (const PatchesChange *self,
                           GString             *out)
{
  gboolean first = TRUE;

  if (metadata_has_index_keys (self))
    {
      /* Index-like keys move to the front in JavaScript; let the value
       * writer order them. */
      g_autoptr(PatchesValue) value = patches_change_to_value (self);

      patches_value_write_json (value, out);
      return;
    }

  g_string_append_c (out, '{');
  if (self->id != NULL)
    {
      write_key (out, &first, "id");
      patches_js_append_string (out, self->id, -1);
    }
  if (self->base_rev >= 0)
    {
      write_key (out, &first, "baseRev");
      patches_js_append_number (out, (double) self->base_rev);
    }
  if (self->rev >= 0)
    {
      write_key (out, &first, "rev");
      patches_js_append_number (out, (double) self->rev);
    }
  write_key (out, &first, "ops");
  if (self->ops != NULL)
    patches_ops_write_json (self->ops, out);
  else
    g_string_append (out, "[]");
  if (self->created_at != -1)
    {
      write_key (out, &first, "createdAt");
      patches_js_append_number (out, self->created_at);
    }
  if (self->committed_at != -1)
    {
      write_key (out, &first, "committedAt");
      patches_js_append_number (out, self->committed_at);
    }
  if (self->metadata != NULL)
    for (guint i = 0; i < patches_value_object_get_size (self->metadata); i++)
      {
        write_key (out, &first, patches_value_object_key_at (self->metadata, i));
        patches_value_write_json (patches_value_object_value_at (self->metadata, i), out);
      }
  if (self->batch_id != NULL)
    {
      write_key (out, &first, "batchId");
      patches_js_append_string (out, self->batch_id, -1);
    }
  if (self->client_id != NULL)
    {
      write_key (out, &first, "clientId");
      patches_js_append_string (out, self->client_id, -1);
    }
  g_string_append_c (out, '}');
}

static inline gsize
member_size (const char *key,
             gsize       value_size)
{
  return patches_js_string_size (key, -1) + 1 + value_size;
}

/**
 * patches_change_json_size:
 * @self: a change
 *
 * Returns: the number of UTF-8 bytes of the change's `JSON.stringify`
 *   form, computed without building it
 */
gsize
patches_change_json_size (const PatchesChange *self)
{
  gsize size = 0;
  guint n = 0;

  if (self->id != NULL)
    size += member_size ("id", patches_js_string_size (self->id, -1)), n++;
  if (self->base_rev >= 0)
    size += member_size ("baseRev", patches_js_number_size ((double) self->base_rev)), n++;
  if (self->rev >= 0)
    size += member_size ("rev", patches_js_number_size ((double) self->rev)), n++;
  size += member_size ("ops", self->ops ? patches_ops_json_size (self->ops) : 2), n++;
  if (self->created_at != -1)
    size += member_size ("createdAt", patches_js_number_size (self->created_at)), n++;
  if (self->committed_at != -1)
    size += member_size ("committedAt", patches_js_number_size (self->committed_at)), n++;
  if (self->metadata != NULL)
    for (guint i = 0; i < patches_value_object_get_size (self->metadata); i++)
      {
        size += member_size (patches_value_object_key_at (self->metadata, i),
                             patches_value_json_size (patches_value_object_value_at (self->metadata, i)));
        n++;
      }
  if (self->batch_id != NULL)
    size += member_size ("batchId", patches_js_string_size (self->batch_id, -1)), n++;
  if (self->client_id != NULL)
    size += member_size ("clientId", patches_js_string_size (self->client_id, -1)), n++;

  return size + 2 + (n > 0 ? n - 1 : 0);
}

/**
 * patches_changes_new:
 *
 * Returns: (transfer full) (element-type PatchesChange): an empty array
 *   that frees its elements with patches_change_unref()
 */
GPtrArray *
patches_changes_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) patches_change_unref);
}

/**
 * patches_changes_from_value:
 * @value: an array of change objects
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable) (element-type PatchesChange): the
 *   changes, or %NULL with @error set to %PATCHES_ERROR_INVALID_CHANGE
 */
GPtrArray *
patches_changes_from_value (const PatchesValue  *value,
                            GError             **error)
{
  g_autoptr(GPtrArray) changes = NULL;

  if (value == NULL || patches_value_get_kind (value) != PATCHES_VALUE_ARRAY)
    {
      g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE,
                   "Invalid changes: expected an array");
      return NULL;
    }

  changes = patches_changes_new ();
  for (guint i = 0; i < patches_value_array_get_length (value); i++)
    {
      g_autoptr(GError) local_error = NULL;
      PatchesChange *change = patches_change_from_value (patches_value_array_get (value, i),
                                                         &local_error);

      if (change == NULL)
        {
          g_set_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_CHANGE,
                       "Change %u: %s", i, local_error->message);
          return NULL;
        }
      g_ptr_array_add (changes, change);
    }

  return g_steal_pointer (&changes);
}

/**
 * patches_changes_to_value:
 * @changes: (element-type PatchesChange): changes
 *
 * Returns: (transfer full): the changes as a JSON array
 */
PatchesValue *
patches_changes_to_value (GPtrArray *changes)
{
  PatchesValue *array = patches_value_new_array ();

  for (guint i = 0; i < changes->len; i++)
    patches_value_array_append (array, patches_change_to_value (g_ptr_array_index (changes, i)));

  return array;
}

/* Ids (PROTOCOL.md §4.4) */

/* Random bytes for ids.  The reference uses crypto.getRandomValues; the
 * kernel CSPRNG (getrandom) is the equivalent.  Only where it is not
 * available do we fall back to GLib's global GRand, a Mersenne Twister
 * seeded from /dev/urandom: not unpredictable, but ids only need to be
 * unique per document (PROTOCOL.md §4.4), which 71 bits of it give. */
static void
random_bytes (guint8 *buf,
              gsize   len)
{
  gsize done = 0;

#if defined(__linux__)
  while (done < len)
    {
      ssize_t r = getrandom (buf + done, len - done, 0);

      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      done += (gsize) r;
    }
#endif

  for (; done < len; done++)
    buf[done] = (guint8) g_random_int_range (0, 256);
}

/* Appends @count random base-62 characters, using bytes 0…247 only (so
 * that `b % 62` is uniform), as crypto-id does. */
static void
append_random_base62 (GString *out,
                      guint    count)
{
  while (count > 0)
    {
      guint8 buf[32];

      random_bytes (buf, sizeof buf);
      for (guint i = 0; i < sizeof buf && count > 0; i++)
        if (buf[i] < 248)
          {
            g_string_append_c (out, base62_alphabet[buf[i] % 62]);
            count--;
          }
    }
}

/**
 * patches_change_id_new:
 *
 * Returns: (transfer full): a new change id: 12 random base-62 characters
 */
char *
patches_change_id_new (void)
{
  GString *out = g_string_sized_new (13);

  append_random_base62 (out, 12);
  return g_string_free (out, FALSE);
}

/**
 * patches_base62_encode:
 * @value: a number
 *
 * Returns: (transfer full): @value in base 62 (alphabet `0-9A-Za-z`), no
 *   padding; 0 is `"0"`
 */
char *
patches_base62_encode (guint64 value)
{
  char buf[16];
  int pos = sizeof buf - 1;

  buf[pos] = 0;
  do
    {
      buf[--pos] = base62_alphabet[value % 62];
      value /= 62;
    }
  while (value > 0);

  return g_strdup (buf + pos);
}

/**
 * patches_change_id_for_rev:
 * @rev: the revision the change has when the id is made
 *
 * Returns: (transfer full): the id of a split piece or a server-side
 *   change: base-62 of @rev followed by 4 random base-62 characters
 */
char *
patches_change_id_for_rev (gint64 rev)
{
  g_autofree char *prefix = patches_base62_encode (rev > 0 ? (guint64) rev : 0);
  GString *out = g_string_new (prefix);

  append_random_base62 (out, 4);
  return g_string_free (out, FALSE);
}
