/* test-sync-reference.c: our client against the reference server, replayed
 *
 * The reference server of @dabble/patches 0.28.1 cannot run here, but its
 * frames with the reference client were captured (tests/server/transcripts,
 * README.md there; PROTOCOL.md §9 annotates them).  Each test starts a
 * stand-in: a libsoup WebSocket server on 127.0.0.1 that plays the
 * reference server's side of recorded connections, one recorded
 * connection per WebSocket our client opens.  Whatever our client sends
 * must be the next frame the reference client sent on that connection:
 * the same method and the same params once what legitimately differs is
 * masked (the request id, the ids our client mints for its changes, and
 * their createdAt; baseRev, rev, ops, document ids and order must be
 * equal).  The stand-in answers with the recorded response, its request
 * id rewritten to ours and the ids and createdAt of our own changes
 * written back in, and sends the recorded notifications at the recorded
 * points.  The tests make the same local edits as the reference client
 * did (the ops of its recorded commitChanges, through PatchesDoc), go
 * offline, disconnect and reconnect where the recording does, and check
 * that our client accepts every answer (no PatchesSync::error, synced) and
 * ends with the state and revision the recorded committed changes give.
 *
 * Where our client legitimately differs from the reference client, the
 * test says so and checks that what it does is valid (PROTOCOL.md):
 *
 * - every WebSocket handshake carries an X-Patches-Client-Id header (an
 *   HTTP header, not a frame; PROTOCOL.md §2.1, §12 #1): the same non-empty
 *   value on every connection of one client;
 * - request ids: the server only echoes them, so the stand-in masks them
 *   and answers with ours; where our client sends what the reference
 *   client sent they are also checked to be the recorded ones (from 1,
 *   counting on across reconnects, §2.7);
 * - our client does not pull getChangesSince right after a commit whose
 *   answer carried the catch-up (§8.4 step 4); the reference's extra pull
 *   in concurrent.jsonl came from its tracking sync racing the first edit
 *   (§5.1), so that exchange is optional;
 * - after a 409 `scope: "doc"` our client restamps pending changes whose
 *   baseRev is above the reloaded head (§12 #11) where the reference loops
 *   on 409s; the commit it sends then is one the reference server accepted
 *   in errors.jsonl;
 * - our client never sends changes of different baseRevs in one request
 *   (§8.4 step 3), so the recorded 400 for such a request (errors.jsonl
 *   frame 12) is fed to it as the answer to an ordinary commit.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <libsoup/soup.h>

#include "patches.h"
#include "patches-client.h"
#include "patches-connection.h"
#include "patches-memory-store.h"
#include "patches-sync.h"
#include "patches-sync-private.h"
#include "patches-test-util.h"

#define WAIT_MS 20000

/* Transcripts */

typedef struct
{
  gint64        seq;      /* 0 for events */
  char         *conn;
  char         *event;    /* "open", "close", or NULL for a frame */
  gboolean      in;       /* client → server */
  PatchesValue *frame;
} Record;

typedef struct
{
  char      *name;
  GPtrArray *records;
} Transcript;

static void
record_free (gpointer data)
{
  Record *record = data;

  g_free (record->conn);
  g_free (record->event);
  g_clear_pointer (&record->frame, patches_value_unref);
  g_free (record);
}

static void
transcript_free (Transcript *t)
{
  g_ptr_array_unref (t->records);
  g_free (t->name);
  g_free (t);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Transcript, transcript_free)

static PatchesValue *
member (PatchesValue *value,
        const char   *key)
{
  if (value == NULL || patches_value_get_kind (value) != PATCHES_VALUE_OBJECT)
    return NULL;
  return patches_value_object_get (value, key);
}

static const char *
member_string (PatchesValue *value,
               const char   *key)
{
  PatchesValue *m = member (value, key);

  if (m == NULL || patches_value_get_kind (m) != PATCHES_VALUE_STRING)
    return NULL;
  return patches_value_get_string (m);
}

static gint64
member_int (PatchesValue *value,
            const char   *key)
{
  PatchesValue *m = member (value, key);

  if (m == NULL || patches_value_get_kind (m) != PATCHES_VALUE_NUMBER)
    return -1;
  return (gint64) patches_value_get_number (m);
}

static PatchesValue *
param (PatchesValue *frame,
       guint         index)
{
  PatchesValue *params = member (frame, "params");

  if (params == NULL || patches_value_get_kind (params) != PATCHES_VALUE_ARRAY ||
      index >= patches_value_array_get_length (params))
    return NULL;
  return patches_value_array_get (params, index);
}

/* tests/server/transcripts/@name, through G_TEST_SRCDIR */
static Transcript *
transcript_load (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "server", "transcripts", name, NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  Transcript *t;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);

  t = g_new0 (Transcript, 1);
  t->name = g_strdup (name);
  t->records = g_ptr_array_new_with_free_func (record_free);

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(PatchesValue) value = NULL;
      Record *record;

      if (lines[i][0] == '\0')
        continue;

      value = patches_value_parse (lines[i], -1, &error);
      g_assert_no_error (error);

      record = g_new0 (Record, 1);
      record->conn = g_strdup (member_string (value, "conn"));
      g_assert_nonnull (record->conn);
      if (member (value, "event") != NULL)
        record->event = g_strdup (member_string (value, "event"));
      else
        {
          record->seq = member_int (value, "seq");
          record->in = g_strcmp0 (member_string (value, "dir"), "in") == 0;
          record->frame = patches_value_ref (member (value, "frame"));
          g_assert_cmpint (record->seq, >, 0);
        }
      g_ptr_array_add (t->records, record);
    }

  return t;
}

static Record *
transcript_find (Transcript *t,
                 gint64      seq)
{
  for (guint i = 0; i < t->records->len; i++)
    {
      Record *record = g_ptr_array_index (t->records, i);

      if (record->event == NULL && record->seq == seq)
        return record;
    }

  g_error ("%s has no frame %" G_GINT64_FORMAT, t->name, seq);
  return NULL;
}

/* Every committed change the recorded server returned or announced
 * (objects with a positive committedAt), whatever frame carried it */
static void
collect_committed (PatchesValue *value,
                   GHashTable   *by_rev)
{
  switch (patches_value_get_kind (value))
    {
    case PATCHES_VALUE_ARRAY:
      for (guint i = 0; i < patches_value_array_get_length (value); i++)
        collect_committed (patches_value_array_get (value, i), by_rev);
      break;

    case PATCHES_VALUE_OBJECT:
      if (member_string (value, "id") != NULL && member (value, "ops") != NULL &&
          member_int (value, "rev") > 0 && member_int (value, "committedAt") > 0)
        {
          g_autoptr(GError) error = NULL;
          PatchesChange *change = patches_change_from_value (value, &error);
          PatchesChange *known;

          g_assert_no_error (error);
          known = g_hash_table_lookup (by_rev, GINT_TO_POINTER ((int) change->rev));
          if (known != NULL)
            {
              /* the same revision is always the same change */
              g_assert_cmpstr (known->id, ==, change->id);
              patches_change_unref (change);
            }
          else
            g_hash_table_insert (by_rev, GINT_TO_POINTER ((int) change->rev), change);
          break;
        }
      for (guint i = 0; i < patches_value_object_get_size (value); i++)
        collect_committed (patches_value_object_value_at (value, i), by_rev);
      break;

    case PATCHES_VALUE_NULL:
    case PATCHES_VALUE_BOOL:
    case PATCHES_VALUE_NUMBER:
    case PATCHES_VALUE_STRING:
    case PATCHES_VALUE_TEXT:
    default:
      break;
    }
}

/* The document the recorded committed changes 1..@rev give: what the
 * reference client ends with at @rev */
static PatchesValue *
transcript_state_at (Transcript *t,
                     gint64      rev)
{
  g_autoptr(GHashTable) by_rev = g_hash_table_new_full (NULL, NULL, NULL,
                                                        (GDestroyNotify) patches_change_unref);
  g_autoptr(GPtrArray) changes = patches_changes_new ();
  g_autoptr(GError) error = NULL;
  PatchesValue *state = patches_value_new_object ();

  for (guint i = 0; i < t->records->len; i++)
    {
      Record *record = g_ptr_array_index (t->records, i);

      if (record->frame != NULL && !record->in)
        collect_committed (record->frame, by_rev);
    }

  for (gint64 r = 1; r <= rev; r++)
    {
      PatchesChange *change = g_hash_table_lookup (by_rev, GINT_TO_POINTER ((int) r));

      g_assert_nonnull (change);
      g_ptr_array_add (changes, patches_change_ref (change));
    }

  g_assert_true (patches_changes_apply (&state, changes, &error));
  g_assert_no_error (error);

  return state;
}

/* Scripts: what the stand-in plays on one connection */

typedef enum {
  STEP_IN,     /* a frame our client must send */
  STEP_OUT,    /* a frame the stand-in sends */
  STEP_CLOSE,  /* the stand-in closes the socket */
} StepKind;

typedef struct
{
  StepKind      kind;
  gint64        seq;
  PatchesValue *frame;     /* as recorded */
  int           pair;      /* STEP_OUT response: index of the request it answers */
  gboolean      optional;  /* an exchange our client may leave out */
  gboolean      gated;     /* STEP_OUT held until the test opens it */
  gboolean      edited;    /* STEP_IN commitChanges: no edit to make for it */
  gint64        our_id;    /* STEP_IN: our request id */
} Step;

typedef struct
{
  char      *name;
  GPtrArray *steps;
} Script;

static void
step_free (gpointer data)
{
  Step *step = data;

  g_clear_pointer (&step->frame, patches_value_unref);
  g_free (step);
}

static Script *
script_new (const char *name)
{
  Script *script = g_new0 (Script, 1);

  script->name = g_strdup (name);
  script->steps = g_ptr_array_new_with_free_func (step_free);

  return script;
}

static void
script_free (Script *script)
{
  g_ptr_array_unref (script->steps);
  g_free (script->name);
  g_free (script);
}

static Step *
script_step (Script *script,
             guint   index)
{
  return g_ptr_array_index (script->steps, index);
}

static const char *
step_method (Step *step)
{
  return member_string (step->frame, "method");
}

static gboolean
step_is_commit (Step *step)
{
  return step->kind == STEP_IN && g_strcmp0 (step_method (step), "commitChanges") == 0;
}

/* Appends frame @seq of @t; a response answers the latest request with
 * its id, or else the latest request (for exchanges put together from
 * frames recorded apart) */
static Step *
script_add (Script     *script,
            Transcript *t,
            gint64      seq)
{
  Record *record = transcript_find (t, seq);
  Step *step = g_new0 (Step, 1);
  PatchesValue *id = member (record->frame, "id");

  step->kind = record->in ? STEP_IN : STEP_OUT;
  step->seq = seq;
  step->frame = patches_value_ref (record->frame);
  step->pair = -1;
  step->our_id = -1;

  if (!record->in && id != NULL)
    {
      int latest = -1;

      for (int i = (int) script->steps->len - 1; i >= 0 && step->pair < 0; i--)
        {
          Step *other = script_step (script, i);

          if (other->kind != STEP_IN)
            continue;
          if (latest < 0)
            latest = i;
          if (patches_value_equal (member (other->frame, "id"), id))
            step->pair = i;
        }
      if (step->pair < 0)
        step->pair = latest;
      g_assert_cmpint (step->pair, >=, 0);
    }

  g_ptr_array_add (script->steps, step);
  return step;
}

/* A request our client sends again (a retry or a resend), not a new edit */
static void
script_add_resend (Script     *script,
                   Transcript *t,
                   gint64      seq)
{
  script_add (script, t, seq)->edited = TRUE;
}

static void
script_add_close (Script *script)
{
  Step *step = g_new0 (Step, 1);

  step->kind = STEP_CLOSE;
  step->pair = -1;
  step->our_id = -1;
  g_ptr_array_add (script->steps, step);
}

/* Every frame of recorded connection @conn, in order */
static Script *
script_for_conn (Transcript *t,
                 const char *conn)
{
  Script *script = script_new (conn);

  for (guint i = 0; i < t->records->len; i++)
    {
      Record *record = g_ptr_array_index (t->records, i);

      if (record->event == NULL && g_str_equal (record->conn, conn))
        script_add (script, t, record->seq);
    }

  g_assert_cmpuint (script->steps->len, >, 0);
  return script;
}

static int
script_find (Script *script,
             gint64  seq)
{
  for (guint i = 0; i < script->steps->len; i++)
    if (script_step (script, i)->seq == seq)
      return (int) i;

  g_error ("Script %s has no frame %" G_GINT64_FORMAT, script->name, seq);
  return -1;
}

/* Request @seq and its answer are an exchange our client may leave out */
static void
script_set_optional (Script *script,
                     gint64  seq)
{
  int index = script_find (script, seq);

  script_step (script, index)->optional = TRUE;
  for (guint i = index + 1; i < script->steps->len; i++)
    if (script_step (script, i)->pair == index)
      script_step (script, i)->optional = TRUE;
}

static void
script_set_gated (Script *script,
                  gint64  seq)
{
  Step *step = script_step (script, script_find (script, seq));

  g_assert_cmpint (step->kind, ==, STEP_OUT);
  step->gated = TRUE;
}

/* The stand-in server */

typedef struct _StandIn StandIn;

typedef struct
{
  StandIn                 *si;
  Script                  *script;
  SoupWebsocketConnection *ws;
  guint                    cursor;
  gboolean                 closed;
  char                    *client_id;   /* X-Patches-Client-Id */
  char                    *protocols;   /* Sec-WebSocket-Protocol offered */
  gint64                   last_id;     /* our latest request id */
} Conn;

struct _StandIn
{
  SoupServer *server;
  char       *url;
  GPtrArray  *scripts;    /* Script, for successive connections */
  GPtrArray  *conns;      /* Conn */
  GPtrArray  *failures;   /* char * */
  GHashTable *ids;        /* recorded change id → our id */
  GHashTable *recorded;   /* our change id → recorded id */
  GHashTable *created;    /* recorded change id → our createdAt */
  gboolean    lenient_ids;
};

static void stand_in_fail (StandIn    *si,
                           const char *format,
                           ...) G_GNUC_PRINTF (2, 3);

static void
stand_in_fail (StandIn    *si,
               const char *format,
               ...)
{
  va_list args;
  char *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_test_message ("stand-in: %s", message);
  g_ptr_array_add (si->failures, message);
}

static void
stand_in_assert_no_failures (StandIn *si)
{
  g_autoptr(GString) all = g_string_new (NULL);

  for (guint i = 0; i < si->failures->len; i++)
    g_string_append_printf (all, "%s%s", i ? "\n" : "", (char *) g_ptr_array_index (si->failures, i));

  g_assert_cmpstr (all->str, ==, "");
}

static gboolean
heartbeat_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the main context until @cond holds; fails at once when the
 * stand-in saw something wrong */
#define WAIT_UNTIL(si, cond)                                                  \
  G_STMT_START {                                                              \
    gint64 _deadline = g_get_monotonic_time () + (gint64) WAIT_MS * 1000;     \
    guint _beat = g_timeout_add (20, heartbeat_cb, NULL);                     \
    while (!(cond) && (si)->failures->len == 0 &&                             \
           g_get_monotonic_time () < _deadline)                               \
      g_main_context_iteration (NULL, TRUE);                                  \
    g_source_remove (_beat);                                                  \
    stand_in_assert_no_failures (si);                                         \
    if (!(cond))                                                              \
      g_error ("Timed out waiting for %s", #cond);                            \
  } G_STMT_END

static void
spin_ms (guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;
  guint beat = g_timeout_add (10, heartbeat_cb, NULL);

  while (g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (beat);
}

/* A request with what legitimately differs masked: no request id, and
 * in commitChanges every change's id replaced by a placeholder and its
 * createdAt removed; the ids and createdAt values are returned */
static PatchesValue *
mask_request (PatchesValue *frame,
              GPtrArray    *ids,
              GPtrArray    *created)
{
  PatchesValue *masked = patches_value_copy_deep (frame);
  PatchesValue *changes;

  patches_value_object_remove (masked, "id");

  if (g_strcmp0 (member_string (masked, "method"), "commitChanges") != 0 ||
      (changes = param (masked, 1)) == NULL ||
      patches_value_get_kind (changes) != PATCHES_VALUE_ARRAY)
    return masked;

  for (guint i = 0; i < patches_value_array_get_length (changes); i++)
    {
      PatchesValue *change = patches_value_array_get (changes, i);
      PatchesValue *value;

      if (patches_value_get_kind (change) != PATCHES_VALUE_OBJECT)
        continue;
      value = member (change, "id");
      g_ptr_array_add (ids, g_strdup (value && patches_value_get_kind (value) == PATCHES_VALUE_STRING
                                      ? patches_value_get_string (value) : ""));
      patches_value_object_set (change, "id", patches_value_new_string ("<id>"));
      value = member (change, "createdAt");
      g_ptr_array_add (created, value ? patches_value_ref (value) : patches_value_new_null ());
      patches_value_object_remove (change, "createdAt");
    }

  return masked;
}

/* Whether @ours is what the reference client sent as @step; on a match
 * the ids of our changes are recorded for the answers */
static gboolean
request_matches (StandIn       *si,
                 Step          *step,
                 PatchesValue  *ours,
                 char         **why)
{
  g_autoptr(GPtrArray) our_ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) rec_ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) our_created = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_value_unref);
  g_autoptr(GPtrArray) rec_created = g_ptr_array_new_with_free_func ((GDestroyNotify) patches_value_unref);
  g_autoptr(PatchesValue) masked_ours = mask_request (ours, our_ids, our_created);
  g_autoptr(PatchesValue) masked_rec = mask_request (step->frame, rec_ids, rec_created);

  if (!patches_value_equal (masked_ours, masked_rec))
    {
      g_autofree char *a = patches_value_to_json (masked_ours);
      g_autofree char *b = patches_value_to_json (masked_rec);

      *why = g_strdup_printf ("sent %s, the reference client sent %s", a, b);
      return FALSE;
    }

  g_assert_cmpuint (our_ids->len, ==, rec_ids->len);
  for (guint i = 0; i < our_ids->len; i++)
    {
      const char *our_id = g_ptr_array_index (our_ids, i);
      const char *rec_id = g_ptr_array_index (rec_ids, i);
      const char *known = g_hash_table_lookup (si->ids, rec_id);
      const char *known_rec = g_hash_table_lookup (si->recorded, our_id);
      PatchesValue *created = g_ptr_array_index (our_created, i);

      /* a change sent again keeps its id (idempotent resends, §4.4) */
      if (known != NULL && g_strcmp0 (known, our_id) != 0)
        {
          *why = g_strdup_printf ("change %s went out as %s before, now as %s", rec_id, known, our_id);
          return FALSE;
        }
      /* and different changes of the reference client are different here */
      if (!si->lenient_ids && known_rec != NULL && g_strcmp0 (known_rec, rec_id) != 0)
        {
          *why = g_strdup_printf ("change id %s stands for %s and %s", our_id, known_rec, rec_id);
          return FALSE;
        }
      if (our_id[0] == '\0')
        {
          *why = g_strdup ("a change without id");
          return FALSE;
        }
      /* createdAt: integer milliseconds (§4.1) */
      if (patches_value_get_kind (created) != PATCHES_VALUE_NUMBER ||
          patches_value_get_number (created) <= 0 ||
          patches_value_get_number (created) != (double) (gint64) patches_value_get_number (created))
        {
          g_autofree char *json = patches_value_to_json (created);

          *why = g_strdup_printf ("createdAt %s is not a positive integer", json);
          return FALSE;
        }
    }

  for (guint i = 0; i < our_ids->len; i++)
    {
      const char *rec_id = g_ptr_array_index (rec_ids, i);

      g_hash_table_replace (si->ids, g_strdup (rec_id), g_strdup (g_ptr_array_index (our_ids, i)));
      g_hash_table_replace (si->recorded, g_strdup (g_ptr_array_index (our_ids, i)), g_strdup (rec_id));
      g_hash_table_replace (si->created, g_strdup (rec_id),
                            patches_value_ref (g_ptr_array_index (our_created, i)));
    }

  return TRUE;
}

/* Writes our ids and createdAt into the recorded copies of our changes */
static void
rewrite_changes (StandIn      *si,
                 PatchesValue *value)
{
  switch (patches_value_get_kind (value))
    {
    case PATCHES_VALUE_ARRAY:
      for (guint i = 0; i < patches_value_array_get_length (value); i++)
        rewrite_changes (si, patches_value_array_get (value, i));
      break;

    case PATCHES_VALUE_OBJECT:
      {
        const char *id = member_string (value, "id");
        const char *ours = id ? g_hash_table_lookup (si->ids, id) : NULL;

        if (ours != NULL)
          {
            PatchesValue *created = g_hash_table_lookup (si->created, id);

            if (created != NULL && member (value, "createdAt") != NULL)
              patches_value_object_set (value, "createdAt", patches_value_ref (created));
            patches_value_object_set (value, "id", patches_value_new_string (ours));
          }
        for (guint i = 0; i < patches_value_object_get_size (value); i++)
          rewrite_changes (si, patches_value_object_value_at (value, i));
      }
      break;

    case PATCHES_VALUE_NULL:
    case PATCHES_VALUE_BOOL:
    case PATCHES_VALUE_NUMBER:
    case PATCHES_VALUE_STRING:
    case PATCHES_VALUE_TEXT:
    default:
      break;
    }
}

static gboolean
conn_is_open (Conn *conn)
{
  return conn->ws != NULL &&
         soup_websocket_connection_get_state (conn->ws) == SOUP_WEBSOCKET_STATE_OPEN;
}

/* Sends what the server sent next, up to the next request, a gate or a close */
static void
conn_pump (Conn *conn)
{
  StandIn *si = conn->si;

  while (conn->script != NULL && conn->cursor < conn->script->steps->len)
    {
      Step *step = script_step (conn->script, conn->cursor);
      g_autoptr(PatchesValue) frame = NULL;
      g_autofree char *json = NULL;

      if (step->kind == STEP_IN || (step->kind == STEP_OUT && step->gated))
        return;

      if (step->optional)
        {
          conn->cursor++;
          continue;
        }

      if (!conn_is_open (conn))
        {
          stand_in_fail (si, "%s: the socket closed before frame %" G_GINT64_FORMAT " was sent",
                         conn->script->name, step->seq);
          return;
        }

      conn->cursor++;

      if (step->kind == STEP_CLOSE)
        {
          soup_websocket_connection_close (conn->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
          return;
        }

      frame = patches_value_copy_deep (step->frame);
      if (step->pair >= 0)
        patches_value_object_set (frame, "id",
                                  patches_value_new_number ((double) script_step (conn->script, step->pair)->our_id));
      rewrite_changes (si, frame);
      json = patches_value_to_json (frame);
      soup_websocket_connection_send_text (conn->ws, json);
    }
}

/* A frame from our client */
static void
conn_receive (Conn       *conn,
              const char *text)
{
  StandIn *si = conn->si;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) frame = patches_value_parse (text, -1, &error);
  PatchesValue *id;
  gint64 our_id;

  if (frame == NULL || patches_value_get_kind (frame) != PATCHES_VALUE_OBJECT)
    {
      stand_in_fail (si, "%s: not a JSON object: %s", conn->script->name, text);
      return;
    }

  /* §3.1: exactly jsonrpc, id, method and a positional params array */
  id = member (frame, "id");
  if (patches_value_object_get_size (frame) != 4 ||
      g_strcmp0 (member_string (frame, "jsonrpc"), "2.0") != 0 ||
      member_string (frame, "method") == NULL ||
      param (frame, 0) == NULL ||
      id == NULL || patches_value_get_kind (id) != PATCHES_VALUE_NUMBER ||
      patches_value_get_number (id) < 1 ||
      patches_value_get_number (id) != (double) (gint64) patches_value_get_number (id))
    {
      stand_in_fail (si, "%s: not a request as the reference client makes them: %s",
                     conn->script->name, text);
      return;
    }

  /* ids increase within a connection (matched by the server, §2.8) */
  our_id = (gint64) patches_value_get_number (id);
  if (our_id <= conn->last_id)
    {
      stand_in_fail (si, "%s: request id %" G_GINT64_FORMAT " after %" G_GINT64_FORMAT,
                     conn->script->name, our_id, conn->last_id);
      return;
    }
  conn->last_id = our_id;

  for (;;)
    {
      Step *step = conn->cursor < conn->script->steps->len
                   ? script_step (conn->script, conn->cursor) : NULL;
      g_autofree char *why = NULL;

      if (step == NULL || step->kind != STEP_IN)
        {
          stand_in_fail (si, "%s: our client sent %s where the reference client sent nothing "
                         "(the reference server's frame %" G_GINT64_FORMAT " is next)",
                         conn->script->name, text, step ? step->seq : 0);
          return;
        }

      if (request_matches (si, step, frame, &why))
        {
          step->our_id = our_id;
          conn->cursor++;
          g_test_message ("%s: frame %" G_GINT64_FORMAT " (%s) matched: %s",
                          conn->script->name, step->seq, step_method (step), text);
          break;
        }

      if (!step->optional)
        {
          stand_in_fail (si, "%s: frame %" G_GINT64_FORMAT " (%s): our client %s",
                         conn->script->name, step->seq, step_method (step), why);
          return;
        }

      /* the reference's extra exchange, left out: skip it and its answer */
      g_test_message ("%s: optional frame %" G_GINT64_FORMAT " (%s) left out",
                      conn->script->name, step->seq, step_method (step));
      while (conn->cursor < conn->script->steps->len &&
             script_step (conn->script, conn->cursor)->optional)
        conn->cursor++;
    }

  conn_pump (conn);
}

static void
on_ws_message (SoupWebsocketConnection *ws,
               int                      type,
               GBytes                  *message,
               Conn                    *conn)
{
  g_autofree char *text = NULL;
  gsize size;
  const char *data = g_bytes_get_data (message, &size);

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      stand_in_fail (conn->si, "%s: a binary frame", conn->script ? conn->script->name : "?");
      return;
    }

  if (conn->script == NULL)
    return;

  text = g_strndup (data, size);
  conn_receive (conn, text);
}

static void
on_ws_closed (SoupWebsocketConnection *ws,
              Conn                    *conn)
{
  conn->closed = TRUE;
}

static void
on_websocket (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *ws,
              gpointer                 user_data)
{
  StandIn *si = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  Conn *conn = g_new0 (Conn, 1);

  conn->si = si;
  conn->ws = g_object_ref (ws);
  conn->client_id = g_strdup (soup_message_headers_get_one (headers, "X-Patches-Client-Id"));
  conn->protocols = g_strdup (soup_message_headers_get_one (headers, "Sec-WebSocket-Protocol"));
  g_ptr_array_add (si->conns, conn);

  g_signal_connect (ws, "message", G_CALLBACK (on_ws_message), conn);
  g_signal_connect (ws, "closed", G_CALLBACK (on_ws_closed), conn);

  if (si->conns->len > si->scripts->len)
    {
      stand_in_fail (si, "connection %u: the recording has no such connection", si->conns->len);
      soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      return;
    }

  conn->script = g_ptr_array_index (si->scripts, si->conns->len - 1);
  g_test_message ("connection %u plays %s", si->conns->len, conn->script->name);
  conn_pump (conn);
}

static void
conn_free (Conn *conn)
{
  g_signal_handlers_disconnect_by_data (conn->ws, conn);
  if (conn_is_open (conn))
    soup_websocket_connection_close (conn->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
  g_clear_object (&conn->ws);
  g_free (conn->client_id);
  g_free (conn->protocols);
  g_free (conn);
}

/* A stand-in playing @first and the scripts after it (NULL-terminated)
 * on successive connections; it owns them */
static StandIn *
stand_in_new (Script *first,
              ...)
{
  StandIn *si = g_new0 (StandIn, 1);
  g_autoptr(GError) error = NULL;
  GSList *uris;
  va_list args;

  si->scripts = g_ptr_array_new_with_free_func ((GDestroyNotify) script_free);
  si->conns = g_ptr_array_new_with_free_func ((GDestroyNotify) conn_free);
  si->failures = g_ptr_array_new_with_free_func (g_free);
  si->ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  si->recorded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  si->created = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) patches_value_unref);

  va_start (args, first);
  for (Script *script = first; script != NULL; script = va_arg (args, Script *))
    g_ptr_array_add (si->scripts, script);
  va_end (args);

  si->server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (si->server, "/sync", NULL, NULL, on_websocket, si, NULL);
  soup_server_listen_local (si->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (si->server);
  g_assert_nonnull (uris);
  si->url = g_strdup_printf ("ws://127.0.0.1:%d/sync", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  return si;
}

static void
stand_in_free (StandIn *si)
{
  g_ptr_array_unref (si->conns);
  soup_server_disconnect (si->server);
  g_clear_object (&si->server);
  g_ptr_array_unref (si->scripts);
  g_ptr_array_unref (si->failures);
  g_hash_table_unref (si->ids);
  g_hash_table_unref (si->recorded);
  g_hash_table_unref (si->created);
  g_free (si->url);
  g_free (si);

  /* let the sockets finish closing */
  spin_ms (50);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StandIn, stand_in_free)

static Conn *
stand_in_conn (StandIn *si,
               guint    index)
{
  return index < si->conns->len ? g_ptr_array_index (si->conns, index) : NULL;
}

static gboolean
conn_closed (StandIn *si,
             guint    index)
{
  Conn *conn = stand_in_conn (si, index);

  return conn != NULL && conn->closed;
}

static Script *
stand_in_script (StandIn *si,
                 guint    index)
{
  return g_ptr_array_index (si->scripts, index);
}

/* Whether connection @conn waits for our client's frame @index: every
 * step before it is done, a held answer, or an exchange left out;
 * @gated says whether an answer is held */
static gboolean
conn_ready_for (Conn     *conn,
                guint     index,
                gboolean *gated)
{
  *gated = FALSE;

  if (conn == NULL || conn->cursor > index)
    return FALSE;

  for (guint j = conn->cursor; j < index; j++)
    {
      Step *step = script_step (conn->script, j);

      if (step->kind == STEP_OUT && step->gated)
        *gated = TRUE;
      else if (!step->optional)
        return FALSE;
    }

  return TRUE;
}

/* Every frame of the connection's script was exchanged */
static gboolean
conn_done (Conn *conn)
{
  gboolean gated;

  if (conn == NULL)
    return FALSE;

  return conn_ready_for (conn, conn->script->steps->len, &gated) && !gated;
}

/* Sends the held answers of @conn before its step @limit */
static void
conn_open_gates (Conn  *conn,
                 guint  limit)
{
  for (guint j = conn->cursor; j < limit; j++)
    script_step (conn->script, j)->gated = FALSE;
  conn_pump (conn);
}

static void
stand_in_open_gate (StandIn *si,
                    guint    conn_index,
                    gint64   seq)
{
  Conn *conn = stand_in_conn (si, conn_index);
  Step *step;

  if (conn == NULL)
    g_error ("No connection %u", conn_index);

  step = script_step (conn->script, script_find (conn->script, seq));
  g_assert_true (step->gated);
  step->gated = FALSE;
  conn_pump (conn);
}

/* Our client */

typedef struct
{
  PatchesStore  *store;
  PatchesClient *client;
  PatchesSync   *sync;
  PatchesDoc    *doc;
  char          *doc_id;

  GPtrArray     *errors;            /* GError, from PatchesSync::error */
  GPtrArray     *statuses;          /* the document's status changes */
  char          *deleted_id;        /* PatchesSync::remote-doc-deleted */
  GPtrArray     *deleted_pending;

  gboolean       connect_done;
  gboolean       connect_ok;
  GError        *connect_error;
} Peer;

static void
on_sync_error (PatchesSync  *sync,
               const GError *error,
               const char   *doc_id,
               Peer         *peer)
{
  g_test_message ("PatchesSync::error (%s): %s", doc_id ? doc_id : "-", error->message);
  g_ptr_array_add (peer->errors, g_error_copy (error));
}

static void
on_doc_state_changed (PatchesSync *sync,
                      const char  *doc_id,
                      Peer        *peer)
{
  g_autoptr(PatchesDocSyncState) state = patches_sync_get_doc_state (sync, doc_id);
  g_autofree char *entry = NULL;

  if (g_strcmp0 (doc_id, peer->doc_id) != 0)
    return;

  if (state == NULL)
    entry = g_strdup ("gone");
  else if (state->status == PATCHES_SYNC_STATUS_ERROR && state->error != NULL &&
           g_error_matches (state->error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE))
    entry = g_strdup_printf ("error(%d)", patches_rpc_error_get_code (state->error));
  else
    entry = g_strdup (patches_test_sync_status_name (state->status));

  if (peer->statuses->len == 0 ||
      g_strcmp0 (g_ptr_array_index (peer->statuses, peer->statuses->len - 1), entry) != 0)
    g_ptr_array_add (peer->statuses, g_steal_pointer (&entry));
}

static void
on_remote_doc_deleted (PatchesSync *sync,
                       const char  *doc_id,
                       GPtrArray   *pending,
                       Peer        *peer)
{
  g_free (peer->deleted_id);
  peer->deleted_id = g_strdup (doc_id);
  g_clear_pointer (&peer->deleted_pending, g_ptr_array_unref);
  peer->deleted_pending = g_ptr_array_ref (pending);
}

/* A client over @store (a new memory store when %NULL) with @doc_id open */
static Peer *
peer_new (const char   *url,
          const char   *doc_id,
          PatchesStore *store)
{
  Peer *peer = g_new0 (Peer, 1);
  g_autoptr(GError) error = NULL;

  peer->doc_id = g_strdup (doc_id);
  peer->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  peer->statuses = g_ptr_array_new_with_free_func (g_free);
  peer->store = store ? g_object_ref (store) : PATCHES_STORE (patches_memory_store_new ());
  peer->client = patches_client_new (peer->store);
  peer->sync = g_object_new (PATCHES_TYPE_SYNC,
                             "client", peer->client,
                             "url", url,
                             "reconnect-interval", 100,
                             NULL);
  g_signal_connect (peer->sync, "error", G_CALLBACK (on_sync_error), peer);
  g_signal_connect (peer->sync, "doc-state-changed", G_CALLBACK (on_doc_state_changed), peer);
  g_signal_connect (peer->sync, "remote-doc-deleted", G_CALLBACK (on_remote_doc_deleted), peer);

  peer->doc = patches_client_open_doc (peer->client, doc_id, &error);
  g_assert_no_error (error);
  g_assert_nonnull (peer->doc);

  return peer;
}

static void
peer_free (Peer *peer)
{
  patches_sync_disconnect (peer->sync);
  g_signal_handlers_disconnect_by_data (peer->sync, peer);
  g_clear_object (&peer->sync);
  g_clear_object (&peer->doc);
  g_clear_object (&peer->client);
  g_clear_object (&peer->store);
  g_ptr_array_unref (peer->errors);
  g_ptr_array_unref (peer->statuses);
  g_clear_pointer (&peer->deleted_pending, g_ptr_array_unref);
  g_clear_error (&peer->connect_error);
  g_free (peer->deleted_id);
  g_free (peer->doc_id);
  g_free (peer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Peer, peer_free)

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Peer *peer = user_data;

  g_clear_error (&peer->connect_error);
  peer->connect_ok = patches_sync_connect_finish (PATCHES_SYNC (object), result, &peer->connect_error);
  peer->connect_done = TRUE;
}

static void
peer_connect (StandIn *si,
              Peer    *peer)
{
  peer->connect_done = FALSE;
  patches_sync_connect_async (peer->sync, NULL, connect_cb, peer);
  WAIT_UNTIL (si, peer->connect_done);
  g_assert_no_error (peer->connect_error);
  g_assert_true (peer->connect_ok);
}

/* The document is synced at @rev with nothing pending */
static gboolean
peer_at (Peer   *peer,
         gint64  rev)
{
  g_autoptr(PatchesDocSyncState) state = patches_sync_get_doc_state (peer->sync, peer->doc_id);

  return state != NULL &&
         state->status == PATCHES_SYNC_STATUS_SYNCED &&
         !state->has_pending &&
         state->committed_rev == rev;
}

static gint64
peer_rev (Peer *peer)
{
  g_autoptr(PatchesDocSyncState) state = patches_sync_get_doc_state (peer->sync, peer->doc_id);

  return state != NULL ? state->committed_rev : -1;
}

static void
assert_doc_state (PatchesDoc   *doc,
                  PatchesValue *expected,
                  gint64        rev)
{
  g_autofree char *want = patches_value_to_json (expected);
  g_autofree char *got = patches_value_to_json (patches_doc_get_state (doc));
  g_autofree char *committed = patches_value_to_json (patches_doc_get_committed_state (doc));

  g_assert_cmpstr (got, ==, want);
  g_assert_cmpstr (committed, ==, want);
  g_assert_true (patches_value_equal (patches_doc_get_state (doc), expected));
  g_assert_cmpint (patches_doc_get_committed_rev (doc), ==, rev);
  g_assert_cmpuint (patches_doc_get_n_pending (doc), ==, 0);
}

/* What the reference client did: the ops of each change of recorded
 * commitChanges @step, one local change each, in order */
static void
make_edits (Peer *peer,
            Step *step)
{
  PatchesValue *changes = param (step->frame, 1);

  g_assert_true (step_is_commit (step));
  g_assert_nonnull (changes);

  for (guint i = 0; i < patches_value_array_get_length (changes); i++)
    {
      PatchesValue *ops = member (patches_value_array_get (changes, i), "ops");
      g_autoptr(PatchesPatch) patch = NULL;
      g_autoptr(PatchesChange) change = NULL;
      g_autoptr(GError) error = NULL;

      patch = patches_patch_from_value (ops, &error);
      g_assert_no_error (error);
      change = patches_doc_change (peer->doc, patch, &error);
      g_assert_no_error (error);
      g_assert_nonnull (change);
    }

  step->edited = TRUE;
}

/* Plays connection @index up to its frame @until (0: to its end): waits
 * for it, and makes the edits of every recorded commitChanges when the
 * reference client made them (after the frames before it; once its
 * baseRev is reached, unless an answer is held: then the edits are made
 * while the previous commit is in flight and the answer is sent after) */
static void
play (StandIn *si,
      Peer    *peer,
      guint    index,
      gint64   until)
{
  Script *script = stand_in_script (si, index);
  guint end = until > 0 ? (guint) script_find (script, until) : script->steps->len;
  gboolean gated;
  Conn *conn;

  WAIT_UNTIL (si, stand_in_conn (si, index) != NULL);
  conn = stand_in_conn (si, index);

  for (guint i = 0; i < end; i++)
    {
      Step *step = script_step (script, i);

      if (!step_is_commit (step) || step->edited)
        continue;

      WAIT_UNTIL (si, conn_ready_for (conn, i, &gated));
      if (!gated)
        {
          gint64 base_rev = member_int (patches_value_array_get (param (step->frame, 1), 0), "baseRev");

          /* the reference client edited at this revision */
          WAIT_UNTIL (si, peer_at (peer, base_rev) || peer_rev (peer) > base_rev);
          g_assert_cmpint (peer_rev (peer), ==, base_rev);
        }

      make_edits (peer, step);

      if (gated)
        {
          /* the edits are queued behind the commit in flight */
          spin_ms (100);
          conn_open_gates (conn, i);
        }

      WAIT_UNTIL (si, conn->cursor > i);
    }

  WAIT_UNTIL (si, conn_ready_for (conn, end, &gated));
}

/* After the last frame: nothing more comes from our client, and every
 * connection played its whole script */
static void
assert_all_played (StandIn *si)
{
  spin_ms (200);
  stand_in_assert_no_failures (si);
  g_assert_cmpuint (si->conns->len, ==, si->scripts->len);
  for (guint i = 0; i < si->conns->len; i++)
    g_assert_true (conn_done (stand_in_conn (si, i)));
}

/* The handshake differs from the reference client's by one header, the
 * client's stable id (PROTOCOL.md §2.1, §12 #1): present, non-empty and
 * the same on every connection of the client; no subprotocol is offered,
 * as the reference client offers none unless configured */
static void
assert_handshakes (StandIn *si)
{
  Conn *first = stand_in_conn (si, 0);

  if (first == NULL)
    g_error ("No connection");
  g_assert_nonnull (first->client_id);
  g_assert_cmpstr (first->client_id, !=, "");
  for (guint i = 0; i < si->conns->len; i++)
    {
      Conn *conn = stand_in_conn (si, i);

      g_assert_cmpstr (conn->client_id, ==, first->client_id);
      g_assert_null (conn->protocols);
    }
}

/* Our request ids are the reference client's: from 1 on the first
 * connection, counting on across reconnects (PROTOCOL.md §2.7) */
static void
assert_request_ids_as_recorded (StandIn *si)
{
  for (guint i = 0; i < si->scripts->len; i++)
    {
      Script *script = stand_in_script (si, i);

      for (guint j = 0; j < script->steps->len; j++)
        {
          Step *step = script_step (script, j);

          if (step->kind == STEP_IN)
            g_assert_cmpint (step->our_id, ==, member_int (step->frame, "id"));
        }
    }
}

static void
assert_no_errors (Peer *peer)
{
  for (guint i = 0; i < peer->errors->len; i++)
    g_test_message ("unexpected error: %s", ((GError *) g_ptr_array_index (peer->errors, i))->message);
  g_assert_cmpuint (peer->errors->len, ==, 0);
  g_assert_cmpint (patches_sync_get_sync_status (peer->sync), !=, PATCHES_SYNC_STATUS_ERROR);
}

/* Waits until the document is synced at @rev, then checks its state */
static void
wait_doc_state (StandIn      *si,
                Peer         *peer,
                PatchesValue *expected,
                gint64        rev)
{
  WAIT_UNTIL (si, peer_at (peer, rev));
  assert_doc_state (peer->doc, expected, rev);
}

/* The recording ends with the client closing its connection
 * @conn_index: every step was played, as the reference client's
 * handshakes and (when @ids_as_recorded) request ids, without an error */
static void
assert_session_end (StandIn  *si,
                    Peer     *peer,
                    guint     conn_index,
                    gboolean  ids_as_recorded)
{
  patches_sync_disconnect (peer->sync);
  WAIT_UNTIL (si, conn_closed (si, conn_index));

  assert_all_played (si);
  assert_handshakes (si);
  if (ids_as_recorded)
    assert_request_ids_as_recorded (si);
  assert_no_errors (peer);
}

static gboolean
statuses_contain (Peer       *peer,
                  const char *status)
{
  for (guint i = 0; i < peer->statuses->len; i++)
    if (g_str_equal (g_ptr_array_index (peer->statuses, i), status))
      return TRUE;
  return FALSE;
}

static gboolean
has_tombstones (Peer *peer)
{
  g_auto(GStrv) tombstones = patches_client_list_tombstones (peer->client);

  return tombstones != NULL && tombstones[0] != NULL;
}

/* session.jsonl c1: the writer.  Subscribe, getDoc of an empty document,
 * three commits, each after the previous answer; then another client
 * deletes the document and docDeleted arrives. */
static void
test_session_writer (void)
{
  g_autoptr(Transcript) t = transcript_load ("session.jsonl");
  g_autoptr(StandIn) si = NULL;
  g_autoptr(Peer) peer = NULL;
  g_autoptr(PatchesValue) expected = transcript_state_at (t, 3);
  Script *c1 = script_for_conn (t, "c1");

  /* the docDeleted waits until the state was checked */
  script_set_gated (c1, 23);
  si = stand_in_new (c1, NULL);

  peer = peer_new (si->url, "tdoc", NULL);
  peer_connect (si, peer);
  play (si, peer, 0, 0);

  wait_doc_state (si, peer, expected, 3);
  assert_no_errors (peer);

  /* §8.10: the document goes, with nothing pending to hand over */
  stand_in_open_gate (si, 0, 23);
  WAIT_UNTIL (si, peer->deleted_id != NULL);
  g_assert_cmpstr (peer->deleted_id, ==, "tdoc");
  g_assert_cmpuint (peer->deleted_pending->len, ==, 0);
  g_assert_false (patches_client_is_tracked (peer->client, "tdoc"));
  g_assert_null (patches_sync_get_doc_state (peer->sync, "tdoc"));

  /* the recording ends with the client closing */
  assert_session_end (si, peer, 0, TRUE);
}

/* session.jsonl c2 then c3: the reader.  getDoc of a document with one
 * change, changesCommitted for the second, a disconnect while the writer
 * commits the third, a reconnect that catches up with getChangesSince,
 * then the reader deletes the document (unsubscribe, deleteDoc). */
static void
test_session_reader (void)
{
  g_autoptr(Transcript) t = transcript_load ("session.jsonl");
  g_autoptr(StandIn) si = stand_in_new (script_for_conn (t, "c2"), script_for_conn (t, "c3"), NULL);
  g_autoptr(Peer) peer = NULL;
  g_autoptr(PatchesValue) at2 = transcript_state_at (t, 2);
  g_autoptr(PatchesValue) at3 = transcript_state_at (t, 3);
  g_autoptr(GError) error = NULL;

  peer = peer_new (si->url, "tdoc", NULL);
  peer_connect (si, peer);
  play (si, peer, 0, 0);

  wait_doc_state (si, peer, at2, 2);

  patches_sync_disconnect (peer->sync);
  WAIT_UNTIL (si, conn_closed (si, 0));

  peer_connect (si, peer);
  play (si, peer, 1, 20);
  wait_doc_state (si, peer, at3, 3);
  assert_no_errors (peer);

  /* §8.10 local deletion: unsubscribe, deleteDoc (answered without a
   * result member, §3.3), then the tombstone is purged */
  g_assert_true (patches_client_delete_doc (peer->client, "tdoc", &error));
  g_assert_no_error (error);
  WAIT_UNTIL (si, conn_done (stand_in_conn (si, 1)) && !has_tombstones (peer));

  assert_session_end (si, peer, 1, TRUE);
}

/* concurrent.jsonl c2 then c3: the offline client.  It loads the document
 * at rev 1, goes offline, makes five changes, comes back and sends them
 * in one commit based on rev 1, which the server transforms over four
 * changes of the other client; then both edit in turn. */
static void
test_concurrent_offline_batch (void)
{
  g_autoptr(Transcript) t = transcript_load ("concurrent.jsonl");
  g_autoptr(StandIn) si = stand_in_new (script_for_conn (t, "c2"), script_for_conn (t, "c3"), NULL);
  g_autoptr(Peer) peer = NULL;
  g_autoptr(PatchesValue) at1 = transcript_state_at (t, 1);
  g_autoptr(PatchesValue) at22 = transcript_state_at (t, 22);
  Script *c3 = stand_in_script (si, 1);
  Step *batch = script_step (c3, script_find (c3, 17));
  GPtrArray *pending;

  peer = peer_new (si->url, "shared", NULL);
  peer_connect (si, peer);
  play (si, peer, 0, 0);
  wait_doc_state (si, peer, at1, 1);

  /* offline: the socket closes, the edits stay pending */
  _patches_sync_set_online (peer->sync, FALSE);
  WAIT_UNTIL (si, conn_closed (si, 0));
  make_edits (peer, batch);

  /* pending as the reference client had it: baseRev 1, revs 2…6 */
  pending = patches_doc_get_pending (peer->doc);
  g_assert_cmpuint (pending->len, ==, 5);
  for (guint i = 0; i < pending->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (pending, i);

      g_assert_cmpint (change->base_rev, ==, 1);
      g_assert_cmpint (change->rev, ==, 2 + i);
      g_assert_cmpfloat (change->committed_at, ==, 0);
    }

  _patches_sync_set_online (peer->sync, TRUE);
  play (si, peer, 1, 0);

  wait_doc_state (si, peer, at22, 22);

  assert_session_end (si, peer, 1, TRUE);
}

/* concurrent.jsonl c1: the online writer.  Its first edit is made before
 * it connects; three edits are made while a commit is in flight and go
 * out together; the other client's batch arrives as a notification. */
static void
test_concurrent_online_writer (void)
{
  g_autoptr(Transcript) t = transcript_load ("concurrent.jsonl");
  g_autoptr(StandIn) si = NULL;
  g_autoptr(Peer) peer = NULL;
  g_autoptr(PatchesValue) at22 = transcript_state_at (t, 22);
  PatchesValue *value;
  Script *c1 = script_for_conn (t, "c1");

  /* The reference client made its first edit right after opening the
   * document and sent it before the subscribe answer; the sync its
   * tracking had queued then pulled getChangesSince(1) (PROTOCOL.md §5.1).
   * Ours sends the edit made before connecting as the first sync of the
   * document, after subscribe, and pulls nothing after a commit whose
   * answer carried the catch-up (§8.4 step 4): that pull may be left out. */
  script_set_optional (c1, 5);
  /* three edits while the commit of frame 11 is in flight */
  script_set_gated (c1, 12);
  si = stand_in_new (c1, NULL);

  peer = peer_new (si->url, "shared", NULL);
  make_edits (peer, script_step (c1, script_find (c1, 3)));
  peer_connect (si, peer);
  play (si, peer, 0, 0);

  wait_doc_state (si, peer, at22, 22);

  /* Leaving the pull out missed nothing: the reference server answered
   * it with no change (frame 6), and our next commit went out at the
   * same baseRev as the reference client's (frame 11) */
  g_assert_cmpint (script_step (c1, script_find (c1, 5))->our_id, ==, -1);
  value = member (transcript_find (t, 6)->frame, "result");
  g_assert_cmpint (patches_value_get_kind (value), ==, PATCHES_VALUE_ARRAY);
  g_assert_cmpuint (patches_value_array_get_length (value), ==, 0);
  g_assert_cmpint (script_step (c1, script_find (c1, 11))->our_id, >, 0);

  assert_session_end (si, peer, 0, FALSE);
}

/* concurrent.jsonl c4: a client that opens the document after all that:
 * subscribe, then getDoc with the whole history as the tail (22 changes
 * with every kind of op, transformed ones included) */
static void
test_concurrent_late_reader (void)
{
  g_autoptr(Transcript) t = transcript_load ("concurrent.jsonl");
  g_autoptr(StandIn) si = stand_in_new (script_for_conn (t, "c4"), NULL);
  g_autoptr(Peer) peer = NULL;
  g_autoptr(PatchesValue) at22 = transcript_state_at (t, 22);

  peer = peer_new (si->url, "shared", NULL);
  peer_connect (si, peer);
  play (si, peer, 0, 0);
  wait_doc_state (si, peer, at22, 22);

  assert_session_end (si, peer, 0, TRUE);
}

/* errors.jsonl, 409 "baseRev ahead" (frames 9–10): the client's storage
 * claims rev 5 and a pending change on it; the server is at 0.  §8.5.1
 * step 4.3: reload with getDoc.  The reference client would then resend
 * the same baseRev and loop on 409 (§12 #11); ours restamps the change
 * onto the reloaded head and sends the commit the reference server took
 * in frames 13–14.  A 409 reload is no error. */
static void
test_errors_conflict (void)
{
  g_autoptr(Transcript) t = transcript_load ("errors.jsonl");
  g_autoptr(StandIn) si = NULL;
  g_autoptr(Peer) peer = NULL;
  g_autoptr(PatchesStore) store = PATCHES_STORE (patches_memory_store_new ());
  g_autoptr(GPtrArray) pending = patches_changes_new ();
  g_autoptr(PatchesValue) state = patches_value_new_object ();
  g_autoptr(GError) error = NULL;
  PatchesValue *server_state;
  Script *script = script_new ("409");

  script_add (script, t, 1);     /* subscribe */
  script_add (script, t, 2);
  script_add (script, t, 9);     /* commitChanges baseRev 5 */
  script_add (script, t, 10);    /* 409 scope doc */
  script_add (script, t, 3);     /* getDoc */
  script_add (script, t, 4);     /* {"state":null,"rev":0,"changes":[]} */
  script_add_resend (script, t, 13); /* commitChanges baseRev 0 */
  script_add (script, t, 14);
  si = stand_in_new (script, NULL);
  /* one change, sent as the reference's "bad1" and then as its "ok1" */
  si->lenient_ids = TRUE;

  g_ptr_array_add (pending, patches_change_from_value (patches_value_array_get (param (transcript_find (t, 9)->frame, 1), 0),
                                                       &error));
  g_assert_no_error (error);
  g_assert_true (patches_store_save_snapshot (store, "e1", state, 5, pending, &error));
  g_assert_no_error (error);

  peer = peer_new (si->url, "e1", store);
  g_assert_cmpint (patches_doc_get_committed_rev (peer->doc), ==, 5);
  peer_connect (si, peer);

  WAIT_UNTIL (si, conn_done (stand_in_conn (si, 0)) && peer_at (peer, 1));

  /* what the reference server's getDoc gave afterwards (frame 18) */
  server_state = member (member (transcript_find (t, 18)->frame, "result"), "state");
  assert_doc_state (peer->doc, server_state, 1);
  g_assert_false (statuses_contain (peer, "error(409)"));

  assert_all_played (si);
  assert_handshakes (si);
  assert_no_errors (peer);
}

/* errors.jsonl, 400 "inconsistent baseRevs" (frame 12) as the answer to
 * our commit: our client never sends a request such as frame 11 (it
 * sends the leading run of one baseRev, §8.4 step 3), so the recorded
 * error answers its ordinary commit.  §8.9 row 6: the document's status
 * is error with the server's error, reported once, and retried with
 * backoff; the retry is the same change, which the server takes. */
static void
test_errors_invalid (void)
{
  g_autoptr(Transcript) t = transcript_load ("errors.jsonl");
  g_autoptr(StandIn) si = NULL;
  g_autoptr(Peer) peer = NULL;
  PatchesValue *recorded_error = member (transcript_find (t, 12)->frame, "error");
  PatchesValue *server_state;
  GError *reported;
  Script *script = script_new ("400");

  script_add (script, t, 1);     /* subscribe */
  script_add (script, t, 2);
  script_add (script, t, 3);     /* getDoc */
  script_add (script, t, 4);
  script_add (script, t, 13);    /* commitChanges baseRev 0 */
  script_add (script, t, 12);    /* 400 scope doc */
  script_add_resend (script, t, 13);
  script_add (script, t, 14);
  si = stand_in_new (script, NULL);

  peer = peer_new (si->url, "e1", NULL);
  peer_connect (si, peer);
  play (si, peer, 0, 0);
  WAIT_UNTIL (si, peer_at (peer, 1));

  server_state = member (member (transcript_find (t, 18)->frame, "result"), "state");
  assert_doc_state (peer->doc, server_state, 1);

  /* reported once, with the server's code, message and data */
  g_assert_cmpuint (peer->errors->len, ==, 1);
  reported = g_ptr_array_index (peer->errors, 0);
  g_assert_error (reported, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
  g_assert_cmpint (patches_rpc_error_get_code (reported), ==, 400);
  g_assert_cmpstr (reported->message, ==, member_string (recorded_error, "message"));
  g_assert_true (patches_value_equal (patches_rpc_error_get_data (reported),
                                      member (recorded_error, "data")));
  g_assert_true (statuses_contain (peer, "error(400)"));
  g_assert_cmpstr (g_ptr_array_index (peer->statuses, peer->statuses->len - 1), ==, "synced");

  assert_all_played (si);
  assert_handshakes (si);
  g_assert_cmpint (patches_sync_get_sync_status (peer->sync), ==, PATCHES_SYNC_STATUS_SYNCED);
}

/* errors.jsonl, idempotent resend (frames 13–16): the answer to our
 * commit is lost with the socket; after the reconnect our client sends
 * the same change again, at the same baseRev, without a getDoc first
 * (§9.3), and the server's answer for the resend (frame 16) settles it. */
static void
test_errors_lost_answer (void)
{
  g_autoptr(Transcript) t = transcript_load ("errors.jsonl");
  g_autoptr(StandIn) si = NULL;
  g_autoptr(Peer) peer = NULL;
  PatchesValue *server_state;
  Script *first = script_new ("lost");
  Script *second = script_new ("resend");

  script_add (first, t, 1);      /* subscribe */
  script_add (first, t, 2);
  script_add (first, t, 3);      /* getDoc */
  script_add (first, t, 4);
  script_add (first, t, 13);     /* commitChanges, never answered */
  script_add_close (first);
  script_add (second, t, 1);     /* subscribe */
  script_add (second, t, 2);
  script_add_resend (second, t, 15);
  script_add (second, t, 16);
  si = stand_in_new (first, second, NULL);

  peer = peer_new (si->url, "e1", NULL);
  peer_connect (si, peer);
  play (si, peer, 0, 0);
  WAIT_UNTIL (si, conn_closed (si, 0));

  /* reconnects by itself */
  WAIT_UNTIL (si, stand_in_conn (si, 1) != NULL && conn_done (stand_in_conn (si, 1)) && peer_at (peer, 1));

  server_state = member (member (transcript_find (t, 18)->frame, "result"), "state");
  assert_doc_state (peer->doc, server_state, 1);

  assert_all_played (si);
  assert_handshakes (si);
  assert_no_errors (peer);
}

/* errors.jsonl c1 as a whole through PatchesConnection: the same calls
 * with the same params as recorded (the request ids too, on a fresh
 * connection), and every answer of the reference server understood:
 * -32000 for an unknown method, 409 and 400 with their data, commit
 * results, a snapshot with state, createVersion's null, listVersions,
 * deleteDoc's answer without a result member, undeleteDoc's true. */

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

#define CALL(si, res, call)                                                   \
  G_STMT_START {                                                              \
    g_clear_object (&(res));                                                  \
    call;                                                                     \
    WAIT_UNTIL (si, (res) != NULL);                                           \
  } G_STMT_END

static GPtrArray *
recorded_changes (Transcript *t,
                  gint64      seq)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *changes = patches_changes_from_value (param (transcript_find (t, seq)->frame, 1), &error);

  g_assert_no_error (error);
  g_assert_nonnull (changes);
  return changes;
}

static void
assert_remote_error (GError     *error,
                     Transcript *t,
                     gint64      seq)
{
  PatchesValue *recorded = member (transcript_find (t, seq)->frame, "error");

  g_assert_error (error, PATCHES_RPC_ERROR, PATCHES_RPC_ERROR_REMOTE);
  g_assert_cmpint (patches_rpc_error_get_code (error), ==, member_int (recorded, "code"));
  g_assert_cmpstr (error->message, ==, member_string (recorded, "message"));
  g_assert_true (patches_value_equal (patches_rpc_error_get_data (error), member (recorded, "data")));
  g_assert_false (patches_rpc_error_is_network (error));
}

static void
test_errors_raw_calls (void)
{
  g_autoptr(Transcript) t = transcript_load ("errors.jsonl");
  g_autoptr(StandIn) si = stand_in_new (script_for_conn (t, "c1"), NULL);
  g_autoptr(PatchesConnection) connection = patches_connection_new (si->url);
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) params = NULL;
  g_autoptr(PatchesValue) value = NULL;
  g_autoptr(PatchesValue) metadata = NULL;
  g_autoptr(PatchesSnapshot) snapshot = NULL;
  g_autoptr(PatchesCommitResult) result = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_auto(GStrv) granted = NULL;
  const char *ids[] = { "e1", NULL };

  CALL (si, res, patches_connection_open_async (connection, NULL, store_result, &res));
  g_assert_true (patches_connection_open_finish (connection, res, &error));
  g_assert_no_error (error);

  /* 1–2 */
  CALL (si, res, patches_connection_subscribe_async (connection, ids, NULL, store_result, &res));
  granted = patches_connection_subscribe_finish (connection, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (granted, ids);

  /* 3–4: the empty envelope */
  CALL (si, res, patches_connection_get_doc_async (connection, "e1", 0, NULL, store_result, &res));
  snapshot = patches_connection_get_doc_finish (connection, res, &error);
  g_assert_no_error (error);
  g_assert_cmpint (patches_value_get_kind (snapshot->state), ==, PATCHES_VALUE_NULL);
  g_assert_cmpint (snapshot->rev, ==, 0);
  g_assert_cmpuint (snapshot->changes->len, ==, 0);
  g_assert_cmpint (patches_snapshot_get_head_rev (snapshot), ==, 0);
  g_clear_pointer (&snapshot, patches_snapshot_unref);

  /* 5–6: an unknown method is -32000, with a string as data */
  params = patches_value_new_array ();
  patches_value_array_append (params, patches_value_new_string ("e1"));
  CALL (si, res, patches_connection_call_async (connection, "noSuchMethod", params, NULL, store_result, &res));
  value = patches_connection_call_finish (connection, res, &error);
  g_assert_null (value);
  assert_remote_error (error, t, 6);
  g_assert_cmpint (patches_rpc_error_get_code (error), ==, PATCHES_RPC_CODE_SERVER_ERROR);
  g_clear_error (&error);

  /* 7–8 */
  CALL (si, res, patches_connection_get_changes_since_async (connection, "e1", 0, NULL, store_result, &res));
  changes = patches_connection_get_changes_since_finish (connection, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (changes->len, ==, 0);
  g_clear_pointer (&changes, g_ptr_array_unref);

  /* 9–10: 409 scope doc */
  changes = recorded_changes (t, 9);
  CALL (si, res, patches_connection_commit_changes_async (connection, "e1", changes, NULL, NULL,
                                                          store_result, &res));
  result = patches_connection_commit_changes_finish (connection, res, &error);
  g_assert_null (result);
  assert_remote_error (error, t, 10);
  g_clear_error (&error);
  g_clear_pointer (&changes, g_ptr_array_unref);

  /* 11–12: 400 scope doc */
  changes = recorded_changes (t, 11);
  CALL (si, res, patches_connection_commit_changes_async (connection, "e1", changes, NULL, NULL,
                                                          store_result, &res));
  result = patches_connection_commit_changes_finish (connection, res, &error);
  g_assert_null (result);
  assert_remote_error (error, t, 12);
  g_clear_error (&error);
  g_clear_pointer (&changes, g_ptr_array_unref);

  /* 13–16: a commit and its idempotent resend get the same answer */
  for (gint64 seq = 13; seq <= 15; seq += 2)
    {
      PatchesChange *committed;

      changes = recorded_changes (t, seq);
      CALL (si, res, patches_connection_commit_changes_async (connection, "e1", changes, NULL, NULL,
                                                              store_result, &res));
      result = patches_connection_commit_changes_finish (connection, res, &error);
      g_assert_no_error (error);
      g_assert_false (result->doc_reload_required);
      g_assert_cmpuint (result->changes->len, ==, 1);
      committed = g_ptr_array_index (result->changes, 0);
      g_assert_cmpstr (committed->id, ==, "ok1");
      g_assert_cmpint (committed->rev, ==, 1);
      g_assert_cmpfloat (committed->committed_at, >, 0);
      g_assert_cmpstr (committed->client_id, ==, "c1");
      g_clear_pointer (&result, patches_commit_result_unref);
      g_clear_pointer (&changes, g_ptr_array_unref);
    }

  /* 17–18: a snapshot with state and no tail */
  CALL (si, res, patches_connection_get_doc_async (connection, "e1", 0, NULL, store_result, &res));
  snapshot = patches_connection_get_doc_finish (connection, res, &error);
  g_assert_no_error (error);
  g_assert_true (patches_value_equal (snapshot->state,
                                      member (member (transcript_find (t, 18)->frame, "result"), "state")));
  g_assert_cmpint (snapshot->rev, ==, 1);
  g_assert_cmpint (patches_snapshot_get_head_rev (snapshot), ==, 1);
  g_clear_pointer (&snapshot, patches_snapshot_unref);

  /* 19–20: null when there is nothing to cover */
  metadata = patches_value_copy_deep (param (transcript_find (t, 19)->frame, 1));
  CALL (si, res, patches_connection_create_version_async (connection, "e1", metadata, NULL,
                                                          store_result, &res));
  g_clear_pointer (&value, patches_value_unref);
  value = patches_connection_value_finish (connection, res, &error);
  g_assert_no_error (error);
  g_assert_true (value == NULL || patches_value_get_kind (value) == PATCHES_VALUE_NULL);

  /* 21–22 */
  CALL (si, res, patches_connection_list_versions_async (connection, "e1", NULL, NULL,
                                                         store_result, &res));
  g_clear_pointer (&value, patches_value_unref);
  value = patches_connection_value_finish (connection, res, &error);
  g_assert_no_error (error);
  g_assert_true (patches_value_equal (value, member (transcript_find (t, 22)->frame, "result")));

  /* 23–24: the answer has no result member */
  CALL (si, res, patches_connection_delete_doc_async (connection, "e1", NULL, store_result, &res));
  g_assert_true (patches_connection_delete_doc_finish (connection, res, &error));
  g_assert_no_error (error);

  /* 25–26 */
  CALL (si, res, patches_connection_get_doc_async (connection, "e1", 0, NULL, store_result, &res));
  snapshot = patches_connection_get_doc_finish (connection, res, &error);
  g_assert_no_error (error);
  g_assert_cmpint (patches_snapshot_get_head_rev (snapshot), ==, 0);
  g_clear_pointer (&snapshot, patches_snapshot_unref);

  /* 27–28 */
  CALL (si, res, patches_connection_undelete_doc_async (connection, "e1", NULL, store_result, &res));
  g_assert_true (patches_connection_undelete_doc_finish (connection, res, &error));
  g_assert_no_error (error);

  patches_connection_close (connection);
  WAIT_UNTIL (si, conn_closed (si, 0));
  assert_all_played (si);

  /* a fresh connection numbers its calls as the reference client did */
  assert_request_ids_as_recorded (si);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sync-reference/session/writer", test_session_writer);
  g_test_add_func ("/sync-reference/session/reader", test_session_reader);
  g_test_add_func ("/sync-reference/concurrent/offline-batch", test_concurrent_offline_batch);
  g_test_add_func ("/sync-reference/concurrent/online-writer", test_concurrent_online_writer);
  g_test_add_func ("/sync-reference/concurrent/late-reader", test_concurrent_late_reader);
  g_test_add_func ("/sync-reference/errors/raw-calls", test_errors_raw_calls);
  g_test_add_func ("/sync-reference/errors/conflict-409", test_errors_conflict);
  g_test_add_func ("/sync-reference/errors/invalid-400", test_errors_invalid);
  g_test_add_func ("/sync-reference/errors/lost-answer", test_errors_lost_answer);

  return g_test_run ();
}
