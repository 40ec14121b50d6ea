/* suite-convergence.c: convergence.json
 *
 * Replays a script of 2–4 clients editing one document through the
 * library's commit algorithm (patches-commit.h, over an in-memory change
 * log) and its client-side apply (patches_apply_committed_changes()),
 * exactly as the conformance README describes, and checks that every
 * client ends in the server's head state.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "conformance.h"
#include "patches-commit.h"
#include "patches-ot.h"
#include "patches-patch-private.h"
#include "patches-test-log.h"

/* The server: one change log, no versions (they never change a commit's
 * outcome). */

typedef struct {
  GPtrArray *log;
} SimServer;

/* The clients */

typedef enum {
  MESSAGE_BROADCAST,
  MESSAGE_RESPONSE,
} MessageKind;

typedef struct {
  MessageKind  kind;
  GPtrArray   *changes;
} Message;

typedef struct {
  const char   *name;
  PatchesValue *state;
  gint64        rev;
  GPtrArray    *pending;
  GPtrArray    *in_flight;
  GQueue        inbox;
} SimClient;

static void
message_free (Message *message)
{
  g_ptr_array_unref (message->changes);
  g_free (message);
}

static void
sim_client_clear (SimClient *client)
{
  g_clear_pointer (&client->state, patches_value_unref);
  g_clear_pointer (&client->pending, g_ptr_array_unref);
  g_clear_pointer (&client->in_flight, g_ptr_array_unref);
  g_queue_clear_full (&client->inbox, (GDestroyNotify) message_free);
}

static void
post (SimClient   *client,
      MessageKind  kind,
      GPtrArray   *changes)
{
  Message *message = g_new0 (Message, 1);

  message->kind = kind;
  message->changes = g_ptr_array_ref (changes);
  g_queue_push_tail (&client->inbox, message);
}

static GPtrArray *
concat_changes (GPtrArray *a,
                GPtrArray *b)
{
  GPtrArray *out = patches_changes_new ();

  for (guint i = 0; i < a->len; i++)
    g_ptr_array_add (out, patches_change_ref (g_ptr_array_index (a, i)));
  for (guint i = 0; i < b->len; i++)
    g_ptr_array_add (out, patches_change_ref (g_ptr_array_index (b, i)));
  return out;
}

static gboolean
commit (SimServer   *server,
        const char  *doc_id,
        GPtrArray   *changes,
        const char  *client_id,
        gint64       now,
        GPtrArray  **response,
        GPtrArray  **broadcast,
        GError     **error)
{
  g_autoptr(PatchesCommit) request = NULL;

  request = patches_commit_new (doc_id, changes, NULL, client_id, now, NULL);
  if (!patches_commit_run (request, &patches_test_log_funcs, server->log, error))
    return FALSE;

  *response = concat_changes (patches_commit_get_catchup (request),
                              patches_commit_get_new_changes (request));
  *broadcast = g_ptr_array_ref (patches_commit_get_new_changes (request));
  return TRUE;
}

static gboolean
check_pairs (const char  *what,
             GPtrArray   *changes,
             JsonObject  *step,
             const char  *member,
             gboolean     with_ids,
             char       **why)
{
  g_autoptr(PatchesValue) got = patches_value_new_array ();

  if (!json_object_has_member (step, member))
    return TRUE;

  for (guint i = 0; i < changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (changes, i);

      if (with_ids)
        {
          PatchesValue *pair = patches_value_new_array ();

          patches_value_array_append (pair, patches_value_new_string (change->id));
          patches_value_array_append (pair, patches_value_new_number ((double) change->rev));
          patches_value_array_append (got, pair);
        }
      else
        patches_value_array_append (got, patches_value_new_number ((double) change->rev));
    }

  return conformance_check_equal (what, got, step, member, why);
}

static gboolean
run_edit (SimClient   *client,
          JsonObject  *step,
          const char  *what,
          char       **why)
{
  g_autoptr(PatchesValue) value = conformance_get_value (step, "change");
  g_autoptr(PatchesChange) change = NULL;
  g_autoptr(PatchesValue) view = NULL;
  g_autoptr(GPtrArray) one = NULL;
  g_autoptr(GError) error = NULL;

  change = patches_change_from_value (value, &error);
  if (change == NULL)
    {
      *why = g_strdup_printf ("%s: %s", what, error->message);
      return FALSE;
    }

  if (change->base_rev != client->rev ||
      change->rev != client->rev + (gint64) client->pending->len + 1)
    {
      *why = g_strdup_printf ("%s: change %s has baseRev %" G_GINT64_FORMAT " rev %" G_GINT64_FORMAT
                              ", but %s is at rev %" G_GINT64_FORMAT " with %u pending",
                              what, change->id, change->base_rev, change->rev,
                              client->name, client->rev, client->pending->len);
      return FALSE;
    }

  view = client->state ? patches_value_ref (client->state) : NULL;
  one = patches_changes_new ();
  g_ptr_array_add (one, patches_change_ref (change));
  if (!patches_changes_apply (&view, client->pending, &error) ||
      !patches_changes_apply (&view, one, &error))
    {
      *why = g_strdup_printf ("%s: change %s does not apply to %s's view: %s",
                              what, change->id, client->name, error->message);
      return FALSE;
    }

  g_ptr_array_add (client->pending, g_steal_pointer (&change));
  return TRUE;
}

static gboolean
run_deliver (SimClient   *client,
             JsonObject  *step,
             const char  *what,
             char       **why)
{
  const char *kind = json_object_get_string_member_with_default (step, "kind", "");
  MessageKind expect_kind = strcmp (kind, "response") == 0 ? MESSAGE_RESPONSE : MESSAGE_BROADCAST;
  g_autoptr(GError) error = NULL;
  Message *message;
  gboolean ok;

  message = g_queue_pop_head (&client->inbox);
  if (message == NULL)
    {
      *why = g_strdup_printf ("%s: %s's inbox is empty", what, client->name);
      return FALSE;
    }

  if (message->kind != expect_kind)
    {
      *why = g_strdup_printf ("%s: %s's next message is not a %s", what, client->name, kind);
      message_free (message);
      return FALSE;
    }

  if (!check_pairs (what, message->changes, step, "revs", FALSE, why))
    {
      message_free (message);
      return FALSE;
    }

  ok = patches_apply_committed_changes (&client->state, &client->rev, &client->pending,
                                        message->changes, FALSE, &error);
  if (ok && message->kind == MESSAGE_RESPONSE)
    {
      g_autoptr(GHashTable) echoed = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr(GPtrArray) kept = patches_changes_new ();
      g_autoptr(GHashTable) sent = g_hash_table_new (g_str_hash, g_str_equal);

      for (guint i = 0; i < message->changes->len; i++)
        g_hash_table_add (echoed, ((PatchesChange *) g_ptr_array_index (message->changes, i))->id);
      for (guint i = 0; client->in_flight != NULL && i < client->in_flight->len; i++)
        {
          const char *id = ((PatchesChange *) g_ptr_array_index (client->in_flight, i))->id;

          if (!g_hash_table_contains (echoed, id))
            g_hash_table_add (sent, (gpointer) id);
        }

      for (guint i = 0; i < client->pending->len; i++)
        {
          PatchesChange *change = g_ptr_array_index (client->pending, i);

          if (!g_hash_table_contains (sent, change->id))
            g_ptr_array_add (kept, patches_change_ref (change));
        }

      g_ptr_array_unref (client->pending);
      client->pending = g_steal_pointer (&kept);
      g_clear_pointer (&client->in_flight, g_ptr_array_unref);
    }
  message_free (message);

  if (!ok)
    {
      *why = g_strdup_printf ("%s: %s could not apply a %s: %s", what, client->name, kind, error->message);
      return FALSE;
    }

  return TRUE;
}

static gpointer
change_ref_copy (gconstpointer src,
                 gpointer      data)
{
  return patches_change_ref ((PatchesChange *) src);
}

static gboolean
run_script (SimServer   *server,
            SimClient   *clients,
            guint        n_clients,
            const char  *doc_id,
            JsonArray   *script,
            char       **why)
{
  for (guint s = 0; script != NULL && s < json_array_get_length (script); s++)
    {
      JsonObject *step = json_array_get_object_element (script, s);
      const char *t = step ? json_object_get_string_member_with_default (step, "t", "") : "";
      gint64 index = step ? conformance_get_int (step, "client", -1) : -1;
      g_autofree char *what = g_strdup_printf ("step %u (%s)", s, t);
      SimClient *client;

      if (index < 0 || index >= n_clients)
        {
          *why = g_strdup_printf ("%s: bad client index", what);
          return FALSE;
        }
      client = &clients[index];

      if (strcmp (t, "edit") == 0)
        {
          if (!run_edit (client, step, what, why))
            return FALSE;
        }
      else if (strcmp (t, "send") == 0)
        {
          g_autoptr(GPtrArray) batch = NULL;
          g_autoptr(GPtrArray) response = NULL;
          g_autoptr(GPtrArray) broadcast = NULL;
          g_autoptr(GError) error = NULL;

          if (client->in_flight != NULL || client->pending->len == 0)
            {
              *why = g_strdup_printf ("%s: %s cannot send now", what, client->name);
              return FALSE;
            }

          batch = g_ptr_array_copy (client->pending, change_ref_copy, NULL);
          g_ptr_array_set_free_func (batch, (GDestroyNotify) patches_change_unref);
          if (!commit (server, doc_id, batch, client->name, conformance_get_int (step, "now", 0),
                       &response, &broadcast, &error))
            {
              *why = g_strdup_printf ("%s: commit failed: %s", what, error->message);
              return FALSE;
            }
          if (!check_pairs (what, response, step, "expect_committed", TRUE, why))
            return FALSE;

          post (client, MESSAGE_RESPONSE, response);
          if (broadcast->len > 0)
            for (guint i = 0; i < n_clients; i++)
              if (i != index)
                post (&clients[i], MESSAGE_BROADCAST, broadcast);
          client->in_flight = g_steal_pointer (&batch);
        }
      else if (strcmp (t, "deliver") == 0)
        {
          if (!run_deliver (client, step, what, why))
            return FALSE;
        }
      else
        {
          *why = g_strdup_printf ("%s: unknown step", what);
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
check_end (SimServer   *server,
           SimClient   *clients,
           guint        n_clients,
           JsonObject  *expect,
           char       **why)
{
  g_autoptr(PatchesValue) expect_state = conformance_get_value (expect, "state");
  g_autoptr(PatchesValue) head = NULL;
  g_autoptr(PatchesValue) log = patches_value_new_array ();
  g_autoptr(GError) error = NULL;
  gint64 expect_rev = conformance_get_int (expect, "rev", -1);
  gint64 server_rev = 0;

  if (!patches_changes_apply (&head, server->log, &error))
    {
      *why = g_strdup_printf ("server log does not replay: %s", error->message);
      return FALSE;
    }
  if (!conformance_check_value ("server head state", head, expect_state, why))
    return FALSE;

  server_rev = patches_test_log_head (server->log);
  if (server_rev != expect_rev)
    {
      *why = g_strdup_printf ("server head is rev %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT,
                              server_rev, expect_rev);
      return FALSE;
    }

  for (guint i = 0; i < server->log->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (server->log, i);
      PatchesValue *entry = patches_value_new_object ();

      if (change->rev != (gint64) i + 1)
        {
          *why = g_strdup_printf ("server log is not dense at index %u (rev %" G_GINT64_FORMAT ")",
                                  i, change->rev);
          patches_value_unref (entry);
          return FALSE;
        }

      patches_value_object_set (entry, "id", patches_value_new_string (change->id));
      patches_value_object_set (entry, "baseRev", patches_value_new_number ((double) change->base_rev));
      patches_value_object_set (entry, "rev", patches_value_new_number ((double) change->rev));
      patches_value_object_set (entry, "ops", patches_ops_to_value (change->ops));
      patches_value_array_append (log, entry);
    }
  if (!conformance_check_equal ("server log", log, expect, "log", why))
    return FALSE;

  for (guint i = 0; i < n_clients; i++)
    {
      SimClient *client = &clients[i];
      g_autofree char *what = g_strdup_printf ("client %s state", client->name);

      if (client->pending->len > 0 || client->in_flight != NULL ||
          !g_queue_is_empty (&client->inbox))
        {
          *why = g_strdup_printf ("client %s ends with %u pending, %s in flight, %u messages",
                                  client->name, client->pending->len,
                                  client->in_flight ? "a commit" : "nothing",
                                  g_queue_get_length (&client->inbox));
          return FALSE;
        }
      if (client->rev != expect_rev)
        {
          *why = g_strdup_printf ("client %s ends at rev %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT,
                                  client->name, client->rev, expect_rev);
          return FALSE;
        }
      if (!conformance_check_value (what, client->state, expect_state, why))
        return FALSE;
    }

  return TRUE;
}

gboolean
conformance_run_convergence (JsonObject  *kase,
                             JsonObject  *root,
                             char       **why)
{
  const char *doc_id = json_object_get_string_member_with_default (kase, "doc_id", "doc1");
  JsonArray *names = json_object_get_array_member (kase, "clients");
  JsonObject *initial = json_object_get_object_member (kase, "initial");
  g_autoptr(PatchesValue) bootstrap_value = conformance_get_value (kase, "bootstrap");
  g_autoptr(PatchesChange) bootstrap = NULL;
  g_autoptr(GPtrArray) boot = NULL;
  g_autoptr(GPtrArray) response = NULL;
  g_autoptr(GPtrArray) broadcast = NULL;
  g_autoptr(GError) error = NULL;
  SimServer server = { patches_changes_new () };
  SimClient *clients = NULL;
  guint n_clients = names ? json_array_get_length (names) : 0;
  gboolean ok = FALSE;

  if (n_clients == 0 || initial == NULL || bootstrap_value == NULL)
    {
      *why = g_strdup ("malformed case");
      goto out;
    }

  /* The bootstrap change: committed by c0 with committedAt 0 and no
   * clientId of its own, at time bootstrap.committedAt. */
  bootstrap = patches_change_from_value (bootstrap_value, &error);
  if (bootstrap == NULL)
    {
      *why = g_strdup_printf ("bootstrap: %s", error->message);
      goto out;
    }
  {
    PatchesChange *copy = patches_change_copy (bootstrap);
    gint64 at = (gint64) bootstrap->committed_at;

    copy->committed_at = 0;
    g_clear_pointer (&copy->client_id, g_free);
    boot = patches_changes_new ();
    g_ptr_array_add (boot, copy);
    if (!commit (&server, doc_id, boot, json_array_get_string_element (names, 0), at,
                 &response, &broadcast, &error))
      {
        *why = g_strdup_printf ("bootstrap: %s", error->message);
        goto out;
      }
  }

  clients = g_new0 (SimClient, n_clients);
  for (guint i = 0; i < n_clients; i++)
    {
      g_autoptr(PatchesValue) state = NULL;

      clients[i].name = json_array_get_string_element (names, i);
      state = conformance_get_value (initial, "state");
      clients[i].state = (state && patches_value_get_kind (state) != PATCHES_VALUE_NULL)
        ? g_steal_pointer (&state) : NULL;
      clients[i].rev = conformance_get_int (initial, "rev", 0);
      clients[i].pending = patches_changes_new ();
      g_queue_init (&clients[i].inbox);
    }

  if (!run_script (&server, clients, n_clients, doc_id,
                   json_object_get_array_member (kase, "script"), why))
    goto out;

  ok = check_end (&server, clients, n_clients, json_object_get_object_member (kase, "expect"), why);

out:
  for (guint i = 0; clients != NULL && i < n_clients; i++)
    sim_client_clear (&clients[i]);
  g_free (clients);
  g_ptr_array_unref (server.log);
  return ok;
}
