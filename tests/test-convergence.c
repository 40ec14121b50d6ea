/* test-convergence.c: clients and the real server converge
 *
 * A randomised end-to-end test of the client layer: four clients, each a
 * PatchesClient over a PatchesMemoryStore or a PatchesSqliteStore with a
 * PatchesSync, share one document on the real patches-server.  Driven by
 * one seeded GRand they make random JSON edits (replace, add and remove
 * of a few keys, array inserts and removals, increments, nested
 * replaces) and @txt edits, sometimes several in one change, while they
 * go offline and online, the clients over SQLite restart, and the server
 * is killed, stopped and started again on the same database and port.
 *
 * At the end everyone reconnects and, once every client is synced with
 * nothing pending, the test checks that
 *
 * - every client's state and committed state equal the server's getDoc
 *   state (read over a fresh PatchesConnection), which equals the server
 *   log replayed from {};
 * - the server log is dense (revs 1..N) and no change id occurs twice;
 * - every change id acknowledged to its author (its own change in a
 *   PatchesClient::committed emission) is in the log; a change that is not
 *   in the log was never acknowledged, and holds only ops that a
 *   concurrent edit can cancel (no increment, no array insert, no text
 *   insert): it was transformed away;
 * - no edit was lost: the counter is the sum of every increment made; each
 *   array /lN, where only client N inserts and everyone removes, holds
 *   exactly the values inserted and not removed; the shared array /list
 *   holds only values inserted, once each (with several writers, a change
 *   queued after a same-index insert may act one element off, as in the
 *   reference, so which values remain there is not defined).
 *
 * A seed fixes the sequence of choices (who acts, which kinds of edit,
 * which incident, how long the main loop runs in between); the network's
 * timing is not fixed, and the details of an edit follow the state its
 * client has at that moment.  Each seed is one test
 * case; a failure prints the seed and a command that runs it alone:
 *
 *   PATCHES_CONVERGENCE_SEED=N test-convergence   (one seed)
 *   PATCHES_CONVERGENCE_SEEDS=N test-convergence  (N seeds)
 *
 * The default run has 50 seeds (the seeds come from g_test_rand_int(), so
 * `--seed` reproduces a whole run); PATCHES_LONG_TESTS=1 runs 2000 seeds
 * of longer sessions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "patches.h"
#include "patches-client.h"
#include "patches-connection.h"
#include "patches-memory-store.h"
#include "patches-sqlite-store.h"
#include "patches-sync.h"
#include "patches-test-server.h"
#include "patches-test-util.h"

#define N_PEERS            4
#define DEFAULT_SEEDS      50
#define LONG_SEEDS         2000
#define DEFAULT_STEPS      60
#define LONG_STEPS         120
#define SETTLE_TIMEOUT_MS  30000
#define DOC_ID             "shared"
#define KEYS               "abc"

typedef struct _Run Run;

typedef struct
{
  Run           *run;
  guint          index;
  char          *db_path;        /* NULL: a memory store */

  PatchesStore  *store;
  PatchesClient *client;
  PatchesSync   *sync;
  PatchesDoc    *doc;
  gboolean       online;         /* whether we want it connected */

  GHashTable    *minted;         /* change id → PatchesChange as made */
  GHashTable    *acked;          /* change id → itself */
  guint          n_restarts;
} Peer;

struct _Run
{
  guint32            seed;
  guint              n_steps;
  GRand             *rand;
  PatchesTestServer *server;
  char              *url;
  Peer               peers[N_PEERS];

  double             inc_total;
  GHashTable        *inserted;   /* array values inserted */
  GHashTable        *removed;    /* array values removed */
  guint              next_value;

  GPtrArray         *actions;    /* what happened, for a failure report */
  guint              n_edits;
  guint              n_kills;
  guint              n_stops;
  guint              n_disconnects;
  guint              n_client_restarts;
};

static const char *argv0;

/* Failures */

static char *
repro_command (Run *run)
{
  return g_strdup_printf ("PATCHES_CONVERGENCE_SEED=%u PATCHES_SERVER=%s %s",
                          run->seed, g_getenv ("PATCHES_SERVER"), argv0);
}

static void run_fail (Run        *run,
                      const char *strloc,
                      const char *format,
                      ...) G_GNUC_PRINTF (3, 4) G_GNUC_NORETURN;

static void
run_fail (Run        *run,
          const char *strloc,
          const char *format,
          ...)
{
  g_autofree char *message = NULL;
  g_autofree char *repro = repro_command (run);
  g_autoptr(GString) report = g_string_new (NULL);
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_string_append_printf (report, "seed %u failed at %s: %s\n", run->seed, strloc, message);
  g_string_append (report, "last actions:");
  for (guint i = run->actions->len > 30 ? run->actions->len - 30 : 0; i < run->actions->len; i++)
    g_string_append_printf (report, " %s;", (char *) g_ptr_array_index (run->actions, i));
  g_string_append_printf (report, "\nrepro: %s\n", repro);

  g_printerr ("%s", report->str);
  g_test_message ("%s", report->str);
  g_assertion_message (G_LOG_DOMAIN, strloc, 0, G_STRFUNC, message);
  abort ();
}

#define CHECK(run, cond, ...)                                                 \
  G_STMT_START {                                                              \
    if (G_UNLIKELY (!(cond)))                                                 \
      run_fail ((run), G_STRLOC, __VA_ARGS__);                                \
  } G_STMT_END

#define CHECK_NO_ERROR(run, error)                                            \
  CHECK ((run), (error) == NULL, "unexpected error: %s", (error)->message)

static void run_log (Run        *run,
                     const char *format,
                     ...) G_GNUC_PRINTF (2, 3);

static void
run_log (Run        *run,
         const char *format,
         ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (run->actions, g_strdup_vprintf (format, args));
  va_end (args);
}

/* Peers */

static void
on_committed (PatchesClient *client,
              const char    *doc_id,
              GPtrArray     *changes,
              Peer          *peer)
{
  for (guint i = 0; i < changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (changes, i);

      if (g_hash_table_contains (peer->minted, change->id))
        g_hash_table_add (peer->acked, g_strdup (change->id));
    }
}

static void
peer_attach (Peer *peer)
{
  Run *run = peer->run;
  g_autoptr(GError) error = NULL;

  if (peer->db_path != NULL)
    {
      PatchesSqliteStore *store = patches_sqlite_store_new (peer->db_path, &error);

      CHECK_NO_ERROR (run, error);
      peer->store = PATCHES_STORE (store);
    }
  else
    peer->store = PATCHES_STORE (patches_memory_store_new ());

  peer->client = patches_client_new (peer->store);
  g_signal_connect (peer->client, "committed", G_CALLBACK (on_committed), peer);

  /* Fast reconnects; a server that was killed drops the socket at once */
  peer->sync = g_object_new (PATCHES_TYPE_SYNC,
                             "client", peer->client,
                             "url", run->url,
                             "reconnect-interval", 50,
                             "ping-interval", 1,
                             NULL);

  peer->doc = patches_client_open_doc (peer->client, DOC_ID, &error);
  CHECK_NO_ERROR (run, error);
  CHECK (run, peer->doc != NULL, "peer %u: no document", peer->index);

  if (peer->online)
    patches_sync_connect_async (peer->sync, NULL, NULL, NULL);
}

static void
peer_detach (Peer *peer)
{
  if (peer->sync != NULL)
    patches_sync_disconnect (peer->sync);
  g_clear_object (&peer->sync);
  g_clear_object (&peer->doc);
  if (peer->client != NULL)
    g_signal_handlers_disconnect_by_data (peer->client, peer);
  g_clear_object (&peer->client);
  patches_test_store_close (&peer->store);
}

static void
peer_init (Peer    *peer,
           Run     *run,
           guint    index,
           gboolean sqlite)
{
  peer->run = run;
  peer->index = index;
  peer->minted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) patches_change_unref);
  peer->acked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (sqlite)
    {
      g_autofree char *name = g_strdup_printf ("client-%u.db", index);

      peer->db_path = g_build_filename (patches_test_server_get_dir (run->server), name, NULL);
    }
  peer_attach (peer);
}

static void
peer_clear (Peer *peer)
{
  peer_detach (peer);
  g_clear_pointer (&peer->minted, g_hash_table_unref);
  g_clear_pointer (&peer->acked, g_hash_table_unref);
  g_clear_pointer (&peer->db_path, g_free);
}

static gboolean
peer_settled (Peer *peer)
{
  g_autoptr(PatchesDocSyncState) state = NULL;

  if (!patches_sync_get_connected (peer->sync) ||
      patches_sync_get_sync_status (peer->sync) != PATCHES_SYNC_STATUS_SYNCED)
    return FALSE;

  state = patches_sync_get_doc_state (peer->sync, DOC_ID);
  return state != NULL &&
         state->status == PATCHES_SYNC_STATUS_SYNCED &&
         !state->has_pending &&
         patches_doc_get_n_pending (peer->doc) == 0;
}

static char *
peer_describe (Peer *peer)
{
  g_autoptr(PatchesDocSyncState) state = patches_sync_get_doc_state (peer->sync, DOC_ID);

  return g_strdup_printf ("peer %u: connected %d, status %s, doc %s, rev %" G_GINT64_FORMAT ", pending %u",
                          peer->index,
                          patches_sync_get_connected (peer->sync),
                          patches_sync_status_to_string (patches_sync_get_sync_status (peer->sync)),
                          state ? patches_sync_status_to_string (state->status) : "untracked",
                          patches_doc_get_committed_rev (peer->doc),
                          patches_doc_get_n_pending (peer->doc));
}

/* Edits, chosen against the peer's current state */

typedef enum {
  EDIT_TEXT,
  EDIT_INC,
  EDIT_LIST,
  EDIT_KEY,
  EDIT_NESTED,
  N_EDIT_KINDS
} EditKind;

static const guint edit_weights[N_EDIT_KINDS] = { 35, 15, 20, 20, 10 };

static EditKind
random_kind (GRand *rand)
{
  guint total = 0;
  guint pick;

  for (guint i = 0; i < N_EDIT_KINDS; i++)
    total += edit_weights[i];
  pick = g_rand_int_range (rand, 0, total);
  for (guint i = 0; i < N_EDIT_KINDS; i++)
    {
      if (pick < edit_weights[i])
        return i;
      pick -= edit_weights[i];
    }
  return EDIT_TEXT;
}

static PatchesValue *
random_value (GRand *rand)
{
  PatchesValue *object;

  switch (g_rand_int_range (rand, 0, 4))
    {
    case 0:
      return patches_value_new_number (g_rand_int_range (rand, -100, 100));
    case 1:
      return patches_value_new_string_take (g_strdup_printf ("s%d", g_rand_int_range (rand, 0, 1000)));
    case 2:
      return patches_value_new_bool (g_rand_boolean (rand));
    default:
      object = patches_value_new_object ();
      patches_value_object_set (object, "x", patches_value_new_number (g_rand_int_range (rand, 0, 10)));
      return object;
    }
}

/* The length of /text in UTF-16 units.  A state read back from a store
 * may hold it as its JSON form, {"ops": […]}, rather than as a text value */
static gint64
text_length (Run          *run,
             PatchesValue *state)
{
  PatchesValue *text = patches_value_object_get (state, "text");
  PatchesValue *ops = NULL;
  g_autoptr(PatchesDelta) delta = NULL;
  g_autoptr(GError) error = NULL;

  CHECK (run, text != NULL, "/text is missing");
  if (patches_value_get_kind (text) == PATCHES_VALUE_TEXT)
    return patches_text_get_length (patches_value_get_text (text));

  if (patches_value_get_kind (text) == PATCHES_VALUE_OBJECT)
    ops = patches_value_object_get (text, "ops");
  CHECK (run, ops != NULL, "/text is not a text");
  delta = patches_delta_from_value (ops, &error);
  CHECK_NO_ERROR (run, error);
  return patches_delta_length (delta);
}

static void
add_text_edit (Run          *run,
               PatchesPatch *patch,
               PatchesValue *state)
{
  static const char alphabet[] = "abcdefghij XYZ";
  gint64 length = text_length (run, state);   /* with the final newline */
  PatchesDelta *delta = patches_delta_new ();
  gint64 pos = g_rand_int_range (run->rand, 0, length);
  int what = g_rand_int_range (run->rand, 0, 100);

  if (pos > 0)
    patches_delta_retain (delta, pos, NULL);
  if (what >= 60 && pos < length - 1)
    patches_delta_delete (delta, g_rand_int_range (run->rand, 1, MIN (4, length - 1 - pos) + 1));
  if (what < 60 || what >= 85)
    {
      char insert[5] = { 0 };
      int n = g_rand_int_range (run->rand, 1, 5);

      for (int i = 0; i < n; i++)
        insert[i] = alphabet[g_rand_int_range (run->rand, 0, sizeof alphabet - 1)];
      patches_delta_insert_utf8 (delta, insert, NULL);
    }
  if (patches_delta_get_n_ops (delta) == 0 ||
      patches_delta_get_op (delta, patches_delta_get_n_ops (delta) - 1)->kind == PATCHES_DELTA_RETAIN)
    patches_delta_insert_utf8 (delta, "q", NULL);

  patches_patch_text (patch, "/text", delta);
}

/* Returns the increment, added to the total once the change is made */
static double
add_edit (Run          *run,
          Peer         *peer,
          EditKind      kind,
          PatchesPatch *patch,
          PatchesValue *state,
          GPtrArray    *inserted,
          GPtrArray    *removed)
{
  PatchesValue *list;
  g_autofree char *path = NULL;
  g_autofree char *name = NULL;
  guint length;
  int owner;
  double amount;

  switch (kind)
    {
    case EDIT_TEXT:
      add_text_edit (run, patch, state);
      return 0;

    case EDIT_INC:
      amount = g_rand_int_range (run->rand, 1, 6);
      patches_patch_increment (patch, "/n", amount);
      return amount;

    case EDIT_LIST:
      /* Either the shared array, or one owned by a peer: only its owner
       * inserts there, anyone removes */
      owner = g_rand_int_range (run->rand, -1, N_PEERS);
      name = owner < 0 ? g_strdup ("list") : g_strdup_printf ("l%d", owner);
      list = patches_value_object_get (state, name);
      CHECK (run, list != NULL && patches_value_get_kind (list) == PATCHES_VALUE_ARRAY, "/%s is not an array", name);
      length = patches_value_array_get_length (list);
      if (length > 0 && (owner != (int) peer->index || g_rand_int_range (run->rand, 0, 100) < 35))
        {
          guint index = g_rand_int_range (run->rand, 0, length);
          PatchesValue *value = patches_value_array_get (list, index);

          path = g_strdup_printf ("/%s/%u", name, index);
          patches_patch_remove (patch, path);
          g_ptr_array_add (removed, g_strdup (patches_value_get_string (value)));
        }
      else
        {
          char *value;

          if (owner >= 0 && owner != (int) peer->index)
            {
              /* not ours, and empty: insert into the shared one */
              g_free (name);
              name = g_strdup ("list");
              list = patches_value_object_get (state, name);
              length = patches_value_array_get_length (list);
            }
          value = g_strdup_printf ("%s-p%u-%u", name, peer->index, run->next_value++);
          path = g_strdup_printf ("/%s/%u", name, g_rand_int_range (run->rand, 0, length + 1));
          patches_patch_add (patch, path, patches_value_new_string (value), FALSE);
          g_ptr_array_add (inserted, value);
        }
      return 0;

    case EDIT_KEY:
      path = g_strdup_printf ("/%c", KEYS[g_rand_int_range (run->rand, 0, strlen (KEYS))]);
      switch (g_rand_int_range (run->rand, 0, 4))
        {
        case 0:
          patches_patch_remove (patch, path);
          break;
        case 1:
          patches_patch_add (patch, path, random_value (run->rand), FALSE);
          break;
        default:
          patches_patch_replace (patch, path, random_value (run->rand), FALSE);
          break;
        }
      return 0;

    case EDIT_NESTED:
    case N_EDIT_KINDS:
    default:
      path = g_strdup_printf ("/m/k%d", g_rand_int_range (run->rand, 0, 4));
      patches_patch_replace (patch, path, patches_value_new_number (g_rand_int_range (run->rand, 0, 100)), FALSE);
      return 0;
    }
}

static void
peer_edit (Peer *peer)
{
  Run *run = peer->run;
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  g_autoptr(PatchesValue) state = patches_value_ref (patches_doc_get_state (peer->doc));
  g_autoptr(PatchesChange) change = NULL;
  g_autoptr(GPtrArray) inserted = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  gboolean used[N_EDIT_KINDS] = { FALSE, };
  guint n_ops = 1 + (g_rand_int_range (run->rand, 0, 100) < 25) + (g_rand_int_range (run->rand, 0, 100) < 10);
  double amount = 0;

  /* Distinct kinds touch distinct paths: each op is valid on @state */
  for (guint i = 0; i < n_ops; i++)
    {
      EditKind kind = random_kind (run->rand);

      if (used[kind])
        continue;
      used[kind] = TRUE;
      amount += add_edit (run, peer, kind, patch, state, inserted, removed);
    }

  json = patches_patch_to_json (patch);
  change = patches_doc_change (peer->doc, patch, &error);
  CHECK_NO_ERROR (run, error);
  CHECK (run, change != NULL, "peer %u: no change for %s", peer->index, json);
  g_hash_table_insert (peer->minted, g_strdup (change->id), patches_change_copy (change));

  run->inc_total += amount;
  for (guint i = 0; i < inserted->len; i++)
    g_hash_table_add (run->inserted, g_strdup (g_ptr_array_index (inserted, i)));
  for (guint i = 0; i < removed->len; i++)
    g_hash_table_add (run->removed, g_strdup (g_ptr_array_index (removed, i)));

  run->n_edits++;
  run_log (run, "p%u edit %s", peer->index, json);
}

/* The main loop */

static void
pump (Run  *run,
      guint ms)
{
  if (ms > 0)
    patches_test_sleep_ms (ms);
  else
    for (guint i = 0; i < 20 && g_main_context_iteration (NULL, FALSE); i++)
      ;
}

/* One random step */

static Peer *
random_peer (Run *run)
{
  return &run->peers[g_rand_int_range (run->rand, 0, N_PEERS)];
}

static void
step (Run *run)
{
  int pick = g_rand_int_range (run->rand, 0, 100);
  gboolean server_up = patches_test_server_is_running (run->server);
  Peer *peer = random_peer (run);

  if (!server_up && g_rand_int_range (run->rand, 0, 100) < 25)
    {
      patches_test_server_restart (run->server);
      run_log (run, "server restart");
    }
  else if (pick < 70)
    peer_edit (peer);
  else if (pick < 78)
    {
      if (peer->online)
        {
          patches_sync_disconnect (peer->sync);
          peer->online = FALSE;
          run->n_disconnects++;
          run_log (run, "p%u disconnect", peer->index);
        }
    }
  else if (pick < 90)
    {
      if (!peer->online)
        {
          peer->online = TRUE;
          patches_sync_connect_async (peer->sync, NULL, NULL, NULL);
          run_log (run, "p%u connect", peer->index);
        }
    }
  else if (pick < 93)
    {
      if (peer->db_path != NULL)
        {
          peer_detach (peer);
          peer_attach (peer);
          peer->n_restarts++;
          run->n_client_restarts++;
          run_log (run, "p%u client restart", peer->index);
        }
    }
  else if (pick < 98)
    {
      if (server_up)
        {
          patches_test_server_kill (run->server);
          run->n_kills++;
          run_log (run, "server kill");
        }
    }
  else if (server_up)
    {
      patches_test_server_stop (run->server);
      run->n_stops++;
      run_log (run, "server stop");
    }

  pump (run, g_rand_int_range (run->rand, 0, 8));
}

/* The server's view, over a connection of our own */

static void
got_result (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

static GAsyncResult *
await_result (Run           *run,
              GAsyncResult **slot)
{
  CHECK (run, PATCHES_TEST_WAIT_FOR (*slot != NULL, SETTLE_TIMEOUT_MS), "no answer from the server");
  return *slot;
}

typedef struct
{
  GPtrArray    *log;      /* getChangesSince(0) */
  PatchesValue *state;    /* getDoc, with its changes applied */
  gint64        rev;
} ServerView;

static void
server_view_clear (ServerView *view)
{
  g_clear_pointer (&view->log, g_ptr_array_unref);
  g_clear_pointer (&view->state, patches_value_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ServerView, server_view_clear)

static void
read_server (Run        *run,
             ServerView *view)
{
  g_autoptr(PatchesConnection) conn = patches_connection_new (run->url);
  g_autoptr(GAsyncResult) opened = NULL;
  g_autoptr(GAsyncResult) since = NULL;
  g_autoptr(GAsyncResult) got = NULL;
  g_autoptr(PatchesSnapshot) snapshot = NULL;
  g_autoptr(GError) error = NULL;

  patches_connection_open_async (conn, NULL, got_result, &opened);
  patches_connection_open_finish (conn, await_result (run, &opened), &error);
  CHECK_NO_ERROR (run, error);

  patches_connection_get_changes_since_async (conn, DOC_ID, 0, NULL, got_result, &since);
  view->log = patches_connection_get_changes_since_finish (conn, await_result (run, &since), &error);
  CHECK_NO_ERROR (run, error);

  patches_connection_get_doc_async (conn, DOC_ID, 0, NULL, got_result, &got);
  snapshot = patches_connection_get_doc_finish (conn, await_result (run, &got), &error);
  CHECK_NO_ERROR (run, error);

  view->state = patches_value_ref (snapshot->state);
  patches_changes_apply (&view->state, snapshot->changes, &error);
  CHECK_NO_ERROR (run, error);
  view->rev = patches_snapshot_get_head_rev (snapshot);

  patches_connection_close (conn);
}

/* Whether every op of @change could have been cancelled by a concurrent
 * edit: no increment, no array insert, no text insert */
static gboolean
change_can_vanish (PatchesChange *change)
{
  for (guint i = 0; i < change->ops->len; i++)
    {
      PatchesOp *op = g_ptr_array_index (change->ops, i);

      if (op->kind == PATCHES_OP_INC)
        return FALSE;
      if (op->kind == PATCHES_OP_ADD && g_str_has_prefix (op->path, "/l"))
        return FALSE;
      if (op->kind == PATCHES_OP_TXT)
        {
          const PatchesDelta *delta = patches_op_get_delta (op);

          for (guint j = 0; delta != NULL && j < patches_delta_get_n_ops (delta); j++)
            if (patches_delta_get_op (delta, j)->kind == PATCHES_DELTA_INSERT)
              return FALSE;
        }
    }
  return TRUE;
}

static gboolean
all_settled (Run    *run,
             gint64  rev)
{
  for (guint i = 0; i < N_PEERS; i++)
    if (!peer_settled (&run->peers[i]) ||
        (rev >= 0 && patches_doc_get_committed_rev (run->peers[i].doc) != rev))
      return FALSE;
  return TRUE;
}

static char *
describe_peers (Run *run)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < N_PEERS; i++)
    {
      g_autofree char *line = peer_describe (&run->peers[i]);

      g_string_append_printf (out, "%s%s", i ? "; " : "", line);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* The values of /lN (@owner N) or of /list (@owner -1) */
static void
check_list (Run        *run,
            ServerView *view,
            int         owner)
{
  g_autofree char *name = owner < 0 ? g_strdup ("list") : g_strdup_printf ("l%d", owner);
  g_autofree char *prefix = g_strconcat (name, "-", NULL);
  g_autofree char *json = patches_value_to_json (view->state);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  PatchesValue *list = patches_value_object_get (view->state, name);
  GHashTableIter iter;
  gpointer key;
  guint n_expected = 0;

  CHECK (run, list != NULL && patches_value_get_kind (list) == PATCHES_VALUE_ARRAY, "/%s is gone: %s", name, json);

  for (guint i = 0; i < patches_value_array_get_length (list); i++)
    {
      const char *value = patches_value_get_string (patches_value_array_get (list, i));

      CHECK (run, value != NULL && g_str_has_prefix (value, prefix), "a stranger in /%s: %s", name, json);
      CHECK (run, g_hash_table_add (seen, (gpointer) value), "%s is twice in /%s", value, name);
      CHECK (run, g_hash_table_contains (run->inserted, value), "%s was never inserted", value);
    }

  /* With several writers, the reference's transform lets a change queued
   * after a same-index insert act one element off (OPERATIONS.md §11.3):
   * which values remain is not defined.  With one writer it is. */
  if (owner < 0)
    return;

  g_hash_table_iter_init (&iter, run->inserted);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      if (!g_str_has_prefix (key, prefix))
        continue;
      if (g_hash_table_contains (run->removed, key))
        CHECK (run, !g_hash_table_contains (seen, key), "%s was removed but is in /%s", (char *) key, name);
      else
        {
          n_expected++;
          CHECK (run, g_hash_table_contains (seen, key), "%s was inserted, never removed, and is lost", (char *) key);
        }
    }
  CHECK (run, n_expected == g_hash_table_size (seen), "/%s has %u values, expected %u",
         name, g_hash_table_size (seen), n_expected);
}

static void
finish (Run *run)
{
  g_auto(ServerView) view = { 0 };
  g_autoptr(GHashTable) log_ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(PatchesValue) replayed = patches_value_new_object ();
  g_autoptr(GError) error = NULL;
  g_autofree char *server_json = NULL;
  PatchesValue *counter;
  guint n_dropped = 0;

  if (!patches_test_server_is_running (run->server))
    {
      patches_test_server_restart (run->server);
      run_log (run, "server restart");
    }
  for (guint i = 0; i < N_PEERS; i++)
    {
      Peer *peer = &run->peers[i];

      if (!peer->online)
        {
          peer->online = TRUE;
          patches_sync_connect_async (peer->sync, NULL, NULL, NULL);
        }
      patches_sync_retry_now (peer->sync);
    }

  if (!PATCHES_TEST_WAIT_FOR (all_settled (run, -1), SETTLE_TIMEOUT_MS))
    {
      g_autofree char *peers = describe_peers (run);

      CHECK (run, FALSE, "the clients did not settle: %s", peers);
    }

  /* Nobody has anything pending: the server's head no longer moves */
  read_server (run, &view);
  if (!PATCHES_TEST_WAIT_FOR (all_settled (run, view.rev), SETTLE_TIMEOUT_MS))
    {
      g_autofree char *peers = describe_peers (run);

      CHECK (run, FALSE, "the clients did not reach rev %" G_GINT64_FORMAT ": %s", view.rev, peers);
    }

  /* The log: dense, unique ids, and it makes the getDoc state */
  for (guint i = 0; i < view.log->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (view.log, i);

      CHECK (run, change->rev == (gint64) i + 1, "log entry %u has rev %" G_GINT64_FORMAT, i, change->rev);
      CHECK (run, g_hash_table_add (log_ids, change->id), "change %s is twice in the log", change->id);
    }
  CHECK (run, view.rev == (gint64) view.log->len,
         "getDoc is at rev %" G_GINT64_FORMAT ", the log has %u changes", view.rev, view.log->len);
  patches_changes_apply (&replayed, view.log, &error);
  CHECK_NO_ERROR (run, error);
  server_json = patches_value_to_json (view.state);
  {
    g_autofree char *replayed_json = patches_value_to_json (replayed);

    CHECK (run, patches_value_equal (replayed, view.state),
           "the log replays to %s, getDoc says %s", replayed_json, server_json);
  }

  /* Every client holds the server's state, with nothing pending */
  for (guint i = 0; i < N_PEERS; i++)
    {
      Peer *peer = &run->peers[i];
      g_autofree char *json = patches_value_to_json (patches_doc_get_state (peer->doc));
      g_autofree char *committed = patches_value_to_json (patches_doc_get_committed_state (peer->doc));

      CHECK (run, patches_value_equal (patches_doc_get_state (peer->doc), view.state),
             "peer %u has %s, the server %s", i, json, server_json);
      CHECK (run, patches_value_equal (patches_doc_get_committed_state (peer->doc), view.state),
             "peer %u has committed %s, the server %s", i, committed, server_json);
      CHECK (run, patches_doc_get_n_pending (peer->doc) == 0, "peer %u has pending changes", i);
      CHECK (run, !patches_client_has_pending (peer->client, DOC_ID), "peer %u has pending changes stored", i);
    }

  /* Acknowledged changes are in the log; missing ones were cancelled */
  for (guint i = 0; i < N_PEERS; i++)
    {
      Peer *peer = &run->peers[i];
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, peer->minted);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          g_autoptr(PatchesValue) change_value = NULL;
          g_autofree char *json = NULL;

          if (g_hash_table_contains (log_ids, key))
            continue;

          change_value = patches_change_to_value (value);
          json = patches_value_to_json (change_value);
          CHECK (run, !g_hash_table_contains (peer->acked, key),
                 "peer %u's change %s was acknowledged but is not in the log", i, (char *) key);
          CHECK (run, change_can_vanish (value),
                 "peer %u's change %s is not in the log, and nothing could cancel it", i, json);
          n_dropped++;
        }
    }

  /* No edit was lost */
  counter = patches_value_object_get (view.state, "n");
  if (run->inc_total > 0)
    {
      CHECK (run, counter != NULL && patches_value_get_kind (counter) == PATCHES_VALUE_NUMBER, "/n is missing");
      CHECK (run, fabs (patches_value_get_number (counter) - run->inc_total) < 0.5,
             "/n is %g, the increments add up to %g", patches_value_get_number (counter), run->inc_total);
    }
  else
    CHECK (run, counter == NULL, "/n exists without increments");

  for (int owner = -1; owner < N_PEERS; owner++)
    check_list (run, &view, owner);

  g_test_message ("seed %u: %u steps, %u edits, %u revs, %u cancelled, %u disconnects, "
                  "%u client restarts, %u server kills, %u server stops",
                  run->seed, run->n_steps, run->n_edits, view.log->len, n_dropped,
                  run->n_disconnects, run->n_client_restarts, run->n_kills, run->n_stops);
}

/* The first state: everyone starts from the same document */
static void
seed_document (Run *run)
{
  Peer *first = &run->peers[0];
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  g_autoptr(PatchesChange) change = NULL;
  g_autoptr(GError) error = NULL;
  PatchesDelta *delta = patches_delta_new ();

  patches_patch_add (patch, "/list", patches_value_new_array (), FALSE);
  for (guint i = 0; i < N_PEERS; i++)
    {
      g_autofree char *path = g_strdup_printf ("/l%u", i);

      patches_patch_add (patch, path, patches_value_new_array (), FALSE);
    }
  patches_patch_add (patch, "/m", patches_value_new_object (), FALSE);
  patches_delta_insert_utf8 (delta, "hello world", NULL);
  patches_patch_text (patch, "/text", delta);
  change = patches_doc_change (first->doc, patch, &error);
  CHECK_NO_ERROR (run, error);
  CHECK (run, change != NULL, "no first change");
  g_hash_table_insert (first->minted, g_strdup (change->id), patches_change_copy (change));

  if (!PATCHES_TEST_WAIT_FOR (all_settled (run, 1), SETTLE_TIMEOUT_MS))
    {
      g_autofree char *peers = describe_peers (run);

      CHECK (run, FALSE, "the first change did not reach everyone: %s", peers);
    }
}

static void
run_seed (guint32 seed,
          guint   n_steps)
{
  Run run = { 0 };

  run.seed = seed;
  run.n_steps = n_steps;
  run.rand = g_rand_new_with_seed (seed);
  run.inserted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  run.removed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  run.actions = g_ptr_array_new_with_free_func (g_free);
  run.server = patches_test_server_new (NULL);
  run.url = g_strdup (patches_test_server_get_url (run.server));

  {
    g_autofree char *repro = repro_command (&run);

    g_test_message ("seed %u; alone: %s", seed, repro);
  }

  /* Two clients over memory, two over SQLite (they may restart) */
  for (guint i = 0; i < N_PEERS; i++)
    {
      run.peers[i].online = TRUE;
      peer_init (&run.peers[i], &run, i, i >= N_PEERS / 2);
    }

  seed_document (&run);

  for (guint i = 0; i < n_steps; i++)
    step (&run);

  finish (&run);

  for (guint i = 0; i < N_PEERS; i++)
    peer_clear (&run.peers[i]);
  /* Let the closed sockets' sources run before the server goes */
  pump (&run, 0);
  patches_test_server_free (run.server);
  g_free (run.url);
  g_hash_table_unref (run.inserted);
  g_hash_table_unref (run.removed);
  g_ptr_array_unref (run.actions);
  g_rand_free (run.rand);
}

static guint n_steps = DEFAULT_STEPS;

static void
test_seed (gconstpointer data)
{
  run_seed (GPOINTER_TO_UINT (data), n_steps);
}

int
main (int   argc,
      char *argv[])
{
  const char *one = g_getenv ("PATCHES_CONVERGENCE_SEED");
  const char *count = g_getenv ("PATCHES_CONVERGENCE_SEEDS");
  gboolean long_tests = g_strcmp0 (g_getenv ("PATCHES_LONG_TESTS"), "1") == 0;
  guint n_seeds = long_tests ? LONG_SEEDS : DEFAULT_SEEDS;

  g_test_init (&argc, &argv, NULL);
  argv0 = argv[0];

  if (long_tests)
    n_steps = LONG_STEPS;
  if (count != NULL)
    n_seeds = MAX (1, atoi (count));

  if (one != NULL)
    {
      guint32 seed = (guint32) g_ascii_strtoull (one, NULL, 10);
      g_autofree char *path = g_strdup_printf ("/convergence/seed-%u", seed);

      g_test_add_data_func (path, GUINT_TO_POINTER (seed), test_seed);
    }
  else
    for (guint i = 0; i < n_seeds; i++)
      {
        guint32 seed = (guint32) g_test_rand_int ();
        g_autofree char *path = g_strdup_printf ("/convergence/seed-%u", seed);

        g_test_add_data_func (path, GUINT_TO_POINTER (seed), test_seed);
      }

  return g_test_run ();
}
