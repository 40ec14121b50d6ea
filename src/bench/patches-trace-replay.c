/* patches-trace-replay.c: a concurrent editing trace through real clients
 *
 * Usage: patches-trace-replay [--server URL] TRACE.json.gz
 *
 * Replays a concurrent editing trace (the editing-traces "concurrent"
 * format, see tests/data/README.md) through one PatchesClient +
 * PatchesSync per agent and a patches-server, all on one main loop: each
 * transaction becomes one change of its agent's document {"text": @txt},
 * made with patches_doc_change() like a keystroke in an editor, and the
 * clients sync it as they would over any network.  At the end every
 * client's text must equal the trace's endContent.
 *
 * A transaction is released once its parents are visible to its agent:
 * the agent's document holds the commits of those transactions (its own
 * earlier ones are always there).  Its positions count code points of the
 * document its author saw, the state of exactly its parents.  When the
 * agent's document holds more than that (it already received concurrent
 * transactions of other agents), the positions are carried over those
 * changes: the trace is first run through a model of the text in which
 * every character keeps its place among all the others (a character
 * inserted goes right after its left neighbour), and the edit is
 * re-expressed on what the agent shows by character identity.
 *
 * OT and that model agree unless two concurrent inserts meet at one
 * offset, where OT puts the one committed first first.  The traces avoid
 * this, but not quite always (a character deleted by one agent next to
 * which the other inserted counts as the same offset for OT).  The model
 * finds such places, and a transaction inserting at one waits until its
 * agent has received the concurrent inserts there, so that it is not
 * concurrent with them any more.
 *
 * Without --server it starts its own patches-server on 127.0.0.1 port 0
 * with a database in a temporary directory: the binary named by the
 * environment variable PATCHES_SERVER, else ../server/patches-server next
 * to this program in the build tree, else patches-server from $PATH.
 *
 * The last line of output is one JSON object:
 *   {"trace": NAME, "txns": N, "ms": T, "ok": true|false}
 * where ms is the time from the first release until every client holds
 * the final state, and ok says whether every client's text equals
 * endContent.  The exit status is 0 when ok, 1 when not, 2 when the
 * trace or the server cannot be used.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "bench-common.h"
#include "patches.h"
#include "patches-client.h"
#include "patches-memory-store.h"
#include "patches-sync.h"

#define NONE            G_MAXUINT32
#define STALL_TIMEOUT_S 60

/* The trace and its model */

typedef struct
{
  gint64   pos;         /* code points */
  gint64   n_delete;    /* code points */
  char    *insert;      /* UTF-8 */
  guint32  ins_first;   /* first character id of the insert, or NONE */
  guint32  n_ins;
  GArray  *deleted;     /* guint32 character ids */
} Patch;

typedef struct
{
  guint32  agent;
  guint32  seq;         /* index among the agent's transactions */
  Patch   *patches;
  guint    n_patches;
  GArray  *tie_deps;    /* guint32 transactions, or NULL */

  /* replay */
  gboolean released;
  gboolean mapped;      /* positions carried over concurrent changes */
  gboolean dropped;     /* no change, or the server transformed it away */
  gint64   drop_rev;    /* its agent's committed rev when it was dropped */
  gint64   rev;         /* committed revision, 0 while not committed */
  char    *change_id;
} Txn;

typedef struct
{
  guint32 txn;
  guint32 del;          /* first deleting transaction, or NONE */
  guint32 more;         /* index in Trace.deleters, or NONE */
  guint16 patch;
  guint16 del_patch;
  guint8  units;        /* UTF-16 code units */
} Char;

typedef struct
{
  guint32 txn;
  guint32 next;
  guint16 patch;
} Deleter;

typedef struct
{
  char    *name;
  char    *end;
  guint    n_agents;
  guint    n_txns;
  guint    n_patches;
  Txn     *txns;
  guint32 *vv;          /* n_txns × n_agents: the version of the parents */
  GArray  *chains;      /* per agent, GArray of guint32 transactions */
  GArray  *chars;       /* Char */
  GArray  *deleters;    /* Deleter */
  GArray  *order;       /* guint32 character ids in document order */
  guint32 *gidx;        /* character id → index in order */
  gboolean astral;
  guint    n_ties;
} Trace;

static inline const guint32 *
txn_version (Trace   *trace,
             guint32  txn)
{
  return trace->vv + (gsize) txn * trace->n_agents;
}

/* Whether the edit (txn, patch) is in version @v, the state just before
 * patch @cur_patch of @cur */
static inline gboolean
edit_in (Trace         *trace,
         guint32        txn,
         guint16        patch,
         const guint32 *v,
         guint32        cur,
         guint16        cur_patch)
{
  if (txn == cur)
    return patch < cur_patch;
  return trace->txns[txn].seq < v[trace->txns[txn].agent];
}

static inline gboolean
char_deleted_in (Trace         *trace,
                 const Char    *c,
                 const guint32 *v,
                 guint32        cur,
                 guint16        cur_patch)
{
  if (c->del == NONE)
    return FALSE;
  if (edit_in (trace, c->del, c->del_patch, v, cur, cur_patch))
    return TRUE;
  for (guint32 d = c->more; d != NONE; d = g_array_index (trace->deleters, Deleter, d).next)
    {
      const Deleter *deleter = &g_array_index (trace->deleters, Deleter, d);

      if (edit_in (trace, deleter->txn, deleter->patch, v, cur, cur_patch))
        return TRUE;
    }
  return FALSE;
}

static inline gboolean
char_visible (Trace         *trace,
              const Char    *c,
              const guint32 *v,
              guint32        cur,
              guint16        cur_patch)
{
  return edit_in (trace, c->txn, c->patch, v, cur, cur_patch) &&
         !char_deleted_in (trace, c, v, cur, cur_patch);
}

static gboolean
char_deleted_by (Trace      *trace,
                 const Char *c,
                 guint32     txn,
                 guint16     patch)
{
  if (c->del == txn && c->del_patch == patch)
    return TRUE;
  for (guint32 d = c->more; d != NONE; d = g_array_index (trace->deleters, Deleter, d).next)
    {
      const Deleter *deleter = &g_array_index (trace->deleters, Deleter, d);

      if (deleter->txn == txn && deleter->patch == patch)
        return TRUE;
    }
  return FALSE;
}

static void
char_add_deleter (Trace   *trace,
                  guint32  id,
                  guint32  txn,
                  guint16  patch)
{
  Char *c = &g_array_index (trace->chars, Char, id);
  Deleter deleter = { txn, c->more, patch };

  if (c->del == NONE)
    {
      c->del = txn;
      c->del_patch = patch;
      return;
    }
  g_array_append_val (trace->deleters, deleter);
  c->more = trace->deleters->len - 1;
}

static void
add_tie_dep (Txn     *txn,
             guint32  dep)
{
  if (txn->tie_deps == NULL)
    txn->tie_deps = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (guint i = 0; i < txn->tie_deps->len; i++)
    if (g_array_index (txn->tie_deps, guint32, i) == dep)
      return;
  g_array_append_val (txn->tie_deps, dep);
}

/* A character that bounds a contested stretch: present in @v and deleted
 * by no transaction the model knows (so by none concurrent with @cur) */
static inline gboolean
char_stable (Trace         *trace,
             const Char    *c,
             const guint32 *v,
             guint32        cur,
             guint16        cur_patch)
{
  return c->del == NONE && edit_in (trace, c->txn, c->patch, v, cur, cur_patch);
}

/* Runs patch @k of transaction @t through the model */
static void
model_patch (Trace   *trace,
             guint32  t,
             guint16  k)
{
  Txn *txn = &trace->txns[t];
  Patch *patch = &txn->patches[k];
  const guint32 *v = txn_version (trace, t);
  const guint32 *order = (const guint32 *) trace->order->data;
  guint len = trace->order->len;
  gint64 seen = 0;
  gint64 left = -1;     /* order index of the visible character before pos */
  guint j;
  const char *p;

  patch->deleted = g_array_new (FALSE, FALSE, sizeof (guint32));

  for (j = 0; j < len && seen < patch->pos + patch->n_delete; j++)
    {
      const Char *c = &g_array_index (trace->chars, Char, order[j]);

      if (!char_visible (trace, c, v, t, k))
        continue;
      if (seen < patch->pos)
        left = j;
      else
        g_array_append_val (patch->deleted, order[j]);
      seen++;
    }
  for (guint i = 0; i < patch->deleted->len; i++)
    char_add_deleter (trace, g_array_index (patch->deleted, guint32, i), t, k);

  patch->ins_first = NONE;
  patch->n_ins = 0;
  if (patch->insert[0] == '\0')
    return;

  /* Concurrent inserts around the insertion point that OT could order
   * differently: they must be visible to the author first */
  for (gint64 i = left; i >= 0; i--)
    {
      const Char *c = &g_array_index (trace->chars, Char, order[i]);

      if (char_stable (trace, c, v, t, k))
        break;
      if (c->txn != t && !edit_in (trace, c->txn, c->patch, v, t, k))
        add_tie_dep (txn, c->txn);
    }
  for (guint i = left + 1; i < len; i++)
    {
      const Char *c = &g_array_index (trace->chars, Char, order[i]);

      if (char_stable (trace, c, v, t, k))
        break;
      if (c->txn != t && !edit_in (trace, c->txn, c->patch, v, t, k))
        add_tie_dep (txn, c->txn);
    }

  /* The new characters go right after the left neighbour */
  patch->ins_first = trace->chars->len;
  for (p = patch->insert; *p; p = g_utf8_next_char (p))
    {
      Char c = { t, NONE, NONE, k, 0, g_utf8_get_char (p) > 0xFFFF ? 2 : 1 };
      guint32 id = trace->chars->len;

      g_array_append_val (trace->chars, c);
      g_array_insert_val (trace->order, left + 1 + patch->n_ins, id);
      patch->n_ins++;
    }
}

/* Builds the model; returns whether it ends with endContent */
static gboolean
model_build (Trace *trace)
{
  g_autofree guint32 *all = g_new0 (guint32, trace->n_agents);
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint32 t = 0; t < trace->n_txns; t++)
    {
      Txn *txn = &trace->txns[t];

      for (guint k = 0; k < txn->n_patches; k++)
        model_patch (trace, t, k);
      if (txn->tie_deps != NULL)
        trace->n_ties++;
      all[txn->agent] = txn->seq + 1;
    }

  trace->gidx = g_new (guint32, trace->chars->len);
  for (guint i = 0; i < trace->order->len; i++)
    {
      guint32 id = g_array_index (trace->order, guint32, i);
      const Char *c = &g_array_index (trace->chars, Char, id);

      trace->gidx[id] = i;
      if (char_visible (trace, c, all, NONE, 0))
        {
          const Patch *patch = &trace->txns[c->txn].patches[c->patch];
          const char *p = g_utf8_offset_to_pointer (patch->insert, id - patch->ins_first);

          g_string_append_len (text, p, g_utf8_next_char (p) - p);
        }
    }

  return g_str_equal (text->str, trace->end);
}

static void
trace_free (Trace *trace)
{
  for (guint t = 0; t < trace->n_txns; t++)
    {
      Txn *txn = &trace->txns[t];

      for (guint k = 0; k < txn->n_patches; k++)
        {
          g_free (txn->patches[k].insert);
          g_clear_pointer (&txn->patches[k].deleted, g_array_unref);
        }
      g_free (txn->patches);
      g_free (txn->change_id);
      g_clear_pointer (&txn->tie_deps, g_array_unref);
    }
  for (guint a = 0; a < trace->n_agents && trace->chains != NULL; a++)
    g_array_unref (g_array_index (trace->chains, GArray *, a));
  g_clear_pointer (&trace->chains, g_array_unref);
  g_clear_pointer (&trace->chars, g_array_unref);
  g_clear_pointer (&trace->deleters, g_array_unref);
  g_clear_pointer (&trace->order, g_array_unref);
  g_free (trace->txns);
  g_free (trace->vv);
  g_free (trace->gidx);
  g_free (trace->name);
  g_free (trace->end);
  g_free (trace);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Trace, trace_free)

static Trace *
trace_load (const char  *path,
            GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_commandline_arg (path);
  g_autoptr(GInputStream) raw = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(Trace) trace = g_new0 (Trace, 1);
  g_autofree char *basename = g_file_get_basename (file);
  g_autofree guint32 *counts = NULL;
  JsonObject *root;
  JsonArray *txns;
  char *dot;

  raw = G_INPUT_STREAM (g_file_read (file, NULL, error));
  if (raw == NULL)
    return NULL;
  if (g_str_has_suffix (basename, ".gz"))
    {
      g_autoptr(GConverter) gunzip = G_CONVERTER (g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP));

      stream = g_converter_input_stream_new (raw, gunzip);
    }
  else
    stream = g_object_ref (raw);

  if (!json_parser_load_from_stream (parser, stream, NULL, error))
    return NULL;

  root = JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)) ? json_node_get_object (json_parser_get_root (parser)) : NULL;
  if (root == NULL ||
      g_strcmp0 (json_object_get_string_member_with_default (root, "kind", ""), "concurrent") != 0 ||
      !json_object_has_member (root, "txns") ||
      !json_object_has_member (root, "endContent") ||
      json_object_get_int_member_with_default (root, "numAgents", 0) < 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not a concurrent editing trace", path);
      return NULL;
    }

  if ((dot = strstr (basename, ".json")) != NULL)
    *dot = '\0';
  trace->name = g_steal_pointer (&basename);
  trace->end = g_strdup (json_object_get_string_member (root, "endContent"));
  trace->n_agents = json_object_get_int_member (root, "numAgents");
  txns = json_object_get_array_member (root, "txns");
  trace->n_txns = json_array_get_length (txns);
  trace->txns = g_new0 (Txn, trace->n_txns);
  trace->vv = g_new0 (guint32, (gsize) trace->n_txns * trace->n_agents);
  trace->chains = g_array_new (FALSE, FALSE, sizeof (GArray *));
  trace->chars = g_array_new (FALSE, FALSE, sizeof (Char));
  trace->deleters = g_array_new (FALSE, FALSE, sizeof (Deleter));
  trace->order = g_array_new (FALSE, FALSE, sizeof (guint32));
  counts = g_new0 (guint32, trace->n_agents);
  for (guint a = 0; a < trace->n_agents; a++)
    {
      GArray *chain = g_array_new (FALSE, FALSE, sizeof (guint32));

      g_array_append_val (trace->chains, chain);
    }

  for (guint32 t = 0; t < trace->n_txns; t++)
    {
      JsonObject *object = json_array_get_object_element (txns, t);
      JsonArray *parents = json_object_get_array_member (object, "parents");
      JsonArray *patches = json_object_get_array_member (object, "patches");
      Txn *txn = &trace->txns[t];
      guint32 *v = trace->vv + (gsize) t * trace->n_agents;
      gint64 agent = json_object_get_int_member (object, "agent");

      if (agent < 0 || agent >= trace->n_agents)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "transaction %u: bad agent", t);
          return NULL;
        }
      txn->agent = agent;
      txn->seq = counts[agent]++;
      g_array_append_val (g_array_index (trace->chains, GArray *, agent), t);

      /* The version of the parents: how many transactions of each agent */
      for (guint i = 0; i < json_array_get_length (parents); i++)
        {
          gint64 parent = json_array_get_int_element (parents, i);
          const guint32 *pv;

          if (parent < 0 || parent >= t)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "transaction %u: bad parent", t);
              return NULL;
            }
          pv = txn_version (trace, parent);
          for (guint a = 0; a < trace->n_agents; a++)
            v[a] = MAX (v[a], pv[a]);
          v[trace->txns[parent].agent] = MAX (v[trace->txns[parent].agent], trace->txns[parent].seq + 1);
        }
      /* An agent sees its own earlier transactions */
      if (v[agent] != txn->seq)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "transaction %u does not follow its agent's previous one", t);
          return NULL;
        }

      txn->n_patches = json_array_get_length (patches);
      txn->patches = g_new0 (Patch, txn->n_patches);
      for (guint k = 0; k < txn->n_patches; k++)
        {
          JsonArray *array = json_array_get_array_element (patches, k);
          Patch *patch = &txn->patches[k];
          const char *insert = json_array_get_string_element (array, 2);

          patch->pos = json_array_get_int_element (array, 0);
          patch->n_delete = json_array_get_int_element (array, 1);
          patch->insert = g_strdup (insert ? insert : "");
          for (const char *p = patch->insert; *p; p = g_utf8_next_char (p))
            trace->astral |= g_utf8_get_char (p) > 0xFFFF;
        }
      trace->n_patches += txn->n_patches;
    }

  return g_steal_pointer (&trace);
}

/* The replay */

typedef struct _Replay Replay;

typedef struct
{
  Replay        *replay;
  guint          index;
  PatchesStore  *store;
  PatchesClient *client;
  PatchesSync   *sync;
  PatchesDoc    *doc;
  GArray        *chain;         /* its transactions */
  guint          next;          /* how many it released */
  guint32       *seen;          /* per agent: a prefix of its chain in our document */
  GArray        *outstanding;   /* released, not known committed or dropped */
  guint          n_outstanding;
} Agent;

struct _Replay
{
  Trace         *trace;
  char          *url;
  char          *doc_id;
  Agent         *agents;
  GHashTable    *ids;           /* change id → transaction + 1 */
  guint          n_released;
  guint          n_mapped;
  guint          n_dropped;
  guint          n_foreign;
  guint          n_errors;
  gint64         last_progress;
};

static void
on_committed (PatchesClient *client,
              const char    *doc_id,
              GPtrArray     *changes,
              Agent         *agent)
{
  Replay *replay = agent->replay;

  for (guint i = 0; i < changes->len; i++)
    {
      PatchesChange *change = g_ptr_array_index (changes, i);
      guint32 t = GPOINTER_TO_UINT (g_hash_table_lookup (replay->ids, change->id));
      Txn *txn;

      if (t == 0)
        {
          replay->n_foreign++;
          continue;
        }
      txn = &replay->trace->txns[t - 1];
      if (txn->dropped)
        {
          g_printerr ("transaction %u was committed after it was dropped\n", t - 1);
          replay->n_errors++;
        }
      if (txn->rev == 0)
        {
          txn->rev = change->rev;
          replay->agents[txn->agent].n_outstanding--;
          replay->last_progress = g_get_monotonic_time ();
        }
    }
}

static void
on_sync_error (PatchesSync  *sync,
               const GError *error,
               const char   *doc_id,
               Agent        *agent)
{
  g_printerr ("agent %u: %s\n", agent->index, error->message);
}

/* Which transactions of @agent's chain our document holds, as a prefix */
static guint32
agent_seen (Agent *self,
            guint  agent,
            gint64 rev)
{
  Trace *trace = self->replay->trace;
  GArray *chain = g_array_index (trace->chains, GArray *, agent);
  guint32 p = self->seen[agent];

  while (p < chain->len)
    {
      Txn *txn = &trace->txns[g_array_index (chain, guint32, p)];
      guint32 q;

      if (txn->rev > 0)
        {
          if (txn->rev > rev)
            break;
          p++;
          continue;
        }
      if (!txn->dropped)
        break;
      if (txn->drop_rev <= rev)
        {
          p++;
          continue;
        }
      /* dropped, and what cancelled it may not be here yet: it is once a
       * later transaction of that agent is */
      for (q = p + 1; q < chain->len && trace->txns[g_array_index (chain, guint32, q)].dropped; q++)
        ;
      if (q < chain->len && trace->txns[g_array_index (chain, guint32, q)].rev > 0 &&
          trace->txns[g_array_index (chain, guint32, q)].rev <= rev)
        {
          p = q + 1;
          continue;
        }
      break;
    }

  self->seen[agent] = p;
  return p;
}

/* The version our document shows */
static void
agent_version (Agent   *self,
               guint32 *v)
{
  gint64 rev = patches_doc_get_committed_rev (self->doc);

  for (guint a = 0; a < self->replay->trace->n_agents; a++)
    v[a] = a == self->index ? self->next : agent_seen (self, a, rev);
}

/* Released changes no longer pending and never committed: transformed
 * away by the server */
static void
agent_find_dropped (Agent *self)
{
  Replay *replay = self->replay;
  g_autoptr(GHashTable) pending = NULL;
  GPtrArray *changes;
  guint kept = 0;

  if (self->n_outstanding <= patches_doc_get_n_pending (self->doc))
    return;

  changes = patches_doc_get_pending (self->doc);
  pending = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < changes->len; i++)
    g_hash_table_add (pending, ((PatchesChange *) g_ptr_array_index (changes, i))->id);

  for (guint i = 0; i < self->outstanding->len; i++)
    {
      guint32 t = g_array_index (self->outstanding, guint32, i);
      Txn *txn = &replay->trace->txns[t];

      if (txn->rev > 0)
        continue;
      if (g_hash_table_contains (pending, txn->change_id))
        {
          g_array_index (self->outstanding, guint32, kept++) = t;
          continue;
        }
      txn->dropped = TRUE;
      txn->drop_rev = patches_doc_get_committed_rev (self->doc);
      self->n_outstanding--;
      replay->n_dropped++;
      replay->last_progress = g_get_monotonic_time ();
    }
  g_array_set_size (self->outstanding, kept);
}

static gboolean
agent_ready (Agent         *self,
             guint32        t,
             const guint32 *v)
{
  Trace *trace = self->replay->trace;
  const Txn *txn = &trace->txns[t];
  const guint32 *need = txn_version (trace, t);

  for (guint a = 0; a < trace->n_agents; a++)
    if (v[a] < need[a])
      return FALSE;
  for (guint i = 0; txn->tie_deps != NULL && i < txn->tie_deps->len; i++)
    {
      const Txn *dep = &trace->txns[g_array_index (txn->tie_deps, guint32, i)];

      if (v[dep->agent] <= dep->seq)
        return FALSE;
    }
  return TRUE;
}

/* Patch @k of @t as a delta on the document of version @v, by character
 * identity */
static PatchesDelta *
map_patch (Trace         *trace,
           guint32        t,
           guint16        k,
           const guint32 *v)
{
  const Patch *patch = &trace->txns[t].patches[k];
  const guint32 *order = (const guint32 *) trace->order->data;
  PatchesDelta *delta = patches_delta_new ();
  gint64 retain = 0;
  guint n_deletes = 0;
  guint n_deleted = 0;
  gboolean inserted = patch->n_ins == 0;

  /* Characters it deletes that are still there */
  for (guint i = 0; i < patch->deleted->len; i++)
    {
      const Char *c = &g_array_index (trace->chars, Char, g_array_index (patch->deleted, guint32, i));

      if (char_visible (trace, c, v, t, k))
        n_deletes++;
    }

  for (guint j = 0; j < trace->order->len && (!inserted || n_deleted < n_deletes); j++)
    {
      const Char *c = &g_array_index (trace->chars, Char, order[j]);

      if (c->txn == t && c->patch == k)
        {
          if (order[j] == patch->ins_first)
            {
              if (retain > 0)
                patches_delta_retain (delta, retain, NULL);
              retain = 0;
              patches_delta_insert_utf8 (delta, patch->insert, NULL);
              inserted = TRUE;
            }
          continue;
        }
      if (!char_visible (trace, c, v, t, k))
        continue;
      if (char_deleted_by (trace, c, t, k))
        {
          if (retain > 0)
            patches_delta_retain (delta, retain, NULL);
          retain = 0;
          patches_delta_delete (delta, c->units);
          n_deleted++;
        }
      else
        retain += c->units;
    }

  return delta;
}

static void
agent_release (Agent         *self,
               guint32        t,
               const guint32 *v)
{
  Replay *replay = self->replay;
  Trace *trace = replay->trace;
  Txn *txn = &trace->txns[t];
  const guint32 *need = txn_version (trace, t);
  g_autoptr(PatchesPatch) patch = patches_patch_new ();
  g_autoptr(PatchesChange) change = NULL;
  g_autoptr(GError) error = NULL;
  gboolean exact = !trace->astral;

  for (guint a = 0; a < trace->n_agents; a++)
    exact &= v[a] == need[a];

  for (guint k = 0; k < txn->n_patches; k++)
    {
      const Patch *p = &txn->patches[k];
      PatchesDelta *delta;

      if (exact)
        {
          delta = patches_delta_new ();
          if (p->pos > 0)
            patches_delta_retain (delta, p->pos, NULL);
          if (p->n_delete > 0)
            patches_delta_delete (delta, p->n_delete);
          if (p->insert[0] != '\0')
            patches_delta_insert_utf8 (delta, p->insert, NULL);
        }
      else
        delta = map_patch (trace, t, k, v);

      if (patches_delta_get_n_ops (delta) == 0 ||
          (patches_delta_get_n_ops (delta) == 1 && patches_delta_get_op (delta, 0)->kind == PATCHES_DELTA_RETAIN))
        {
          patches_delta_free (delta);
          continue;
        }
      patches_patch_text (patch, "/text", delta);
    }

  txn->released = TRUE;
  txn->mapped = !exact;
  replay->n_mapped += !exact;
  replay->n_released++;
  self->next++;
  replay->last_progress = g_get_monotonic_time ();

  change = patches_doc_change (self->doc, patch, &error);
  if (error != NULL)
    {
      g_printerr ("agent %u, transaction %u: %s\n", self->index, t, error->message);
      replay->n_errors++;
    }
  if (change == NULL)
    {
      /* nothing left to do: what it deleted is gone already */
      txn->dropped = TRUE;
      txn->drop_rev = patches_doc_get_committed_rev (self->doc);
      replay->n_dropped++;
      return;
    }

  txn->change_id = g_strdup (change->id);
  g_hash_table_insert (replay->ids, g_strdup (change->id), GUINT_TO_POINTER (t + 1));
  g_array_append_val (self->outstanding, t);
  self->n_outstanding++;
}

/* Releases what is ready; returns whether anything was */
static gboolean
release_ready (Replay *replay)
{
  Trace *trace = replay->trace;
  g_autofree guint32 *v = g_new0 (guint32, trace->n_agents);
  gboolean progress = FALSE;

  for (guint a = 0; a < trace->n_agents; a++)
    {
      Agent *agent = &replay->agents[a];

      agent_find_dropped (agent);
      agent_version (agent, v);
      while (agent->next < agent->chain->len)
        {
          guint32 t = g_array_index (agent->chain, guint32, agent->next);

          if (!agent_ready (agent, t, v))
            break;
          agent_release (agent, t, v);
          v[a] = agent->next;
          progress = TRUE;
        }
    }

  return progress;
}

static gboolean
all_settled (Replay *replay)
{
  gint64 rev = -1;

  if (replay->n_released < replay->trace->n_txns)
    return FALSE;

  for (guint a = 0; a < replay->trace->n_agents; a++)
    {
      Agent *agent = &replay->agents[a];

      agent_find_dropped (agent);
      if (patches_doc_get_n_pending (agent->doc) > 0 ||
          agent->n_outstanding > 0 ||
          !patches_sync_get_connected (agent->sync) ||
          patches_sync_get_sync_status (agent->sync) != PATCHES_SYNC_STATUS_SYNCED)
        return FALSE;
      if (rev >= 0 && patches_doc_get_committed_rev (agent->doc) != rev)
        return FALSE;
      rev = patches_doc_get_committed_rev (agent->doc);
    }

  return TRUE;
}

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* The document's text, without the final newline every @txt ends with */
static char *
agent_text (Agent *self)
{
  PatchesValue *state = patches_doc_get_state (self->doc);
  PatchesValue *value = state != NULL ? patches_value_object_get (state, "text") : NULL;
  g_autoptr(PatchesText) owned = NULL;
  PatchesText *text = NULL;
  char *plain;
  gsize len;

  if (value != NULL && patches_value_get_kind (value) == PATCHES_VALUE_TEXT)
    text = patches_value_get_text (value);
  else if (value != NULL && patches_value_get_kind (value) == PATCHES_VALUE_OBJECT &&
           patches_value_object_get (value, "ops") != NULL)
    {
      PatchesDelta *delta = patches_delta_from_value (patches_value_object_get (value, "ops"), NULL);

      if (delta != NULL)
        text = owned = patches_text_new_from_delta (delta);
    }
  if (text == NULL)
    return g_strdup ("");

  plain = patches_text_to_plain (text);
  len = strlen (plain);
  if (len > 0 && plain[len - 1] == '\n')
    plain[len - 1] = '\0';
  return plain;
}

static gboolean
check_texts (Replay *replay)
{
  gboolean ok = TRUE;

  for (guint a = 0; a < replay->trace->n_agents; a++)
    {
      g_autofree char *text = agent_text (&replay->agents[a]);
      const char *end = replay->trace->end;
      const char *p = text;
      const char *q = end;

      if (g_str_equal (text, end))
        continue;
      ok = FALSE;
      while (*p && *p == *q)
        p++, q++;
      g_print ("agent %u: the text differs from endContent at code point %ld: \"%.20s\" instead of \"%.20s\" "
               "(%ld vs %ld code points)\n",
               a, g_utf8_pointer_to_offset (text, p), p, q,
               g_utf8_strlen (text, -1), g_utf8_strlen (end, -1));
    }

  return ok;
}

static gboolean
replay_run (Replay  *replay,
            double  *ms)
{
  Trace *trace = replay->trace;
  g_autoptr(GError) error = NULL;
  gint64 begin;
  gint64 deadline;
  guint tick;
  gboolean settled;

  replay->agents = g_new0 (Agent, trace->n_agents);
  for (guint a = 0; a < trace->n_agents; a++)
    {
      Agent *agent = &replay->agents[a];

      agent->replay = replay;
      agent->index = a;
      agent->chain = g_array_ref (g_array_index (trace->chains, GArray *, a));
      agent->seen = g_new0 (guint32, trace->n_agents);
      agent->outstanding = g_array_new (FALSE, FALSE, sizeof (guint32));
      agent->store = PATCHES_STORE (patches_memory_store_new ());
      agent->client = patches_client_new (agent->store);
      g_signal_connect (agent->client, "committed", G_CALLBACK (on_committed), agent);
      agent->doc = patches_client_open_doc (agent->client, replay->doc_id, &error);
      if (agent->doc == NULL)
        {
          g_printerr ("cannot open the document: %s\n", error->message);
          return FALSE;
        }
      agent->sync = patches_sync_new (agent->client, replay->url);
      g_signal_connect (agent->sync, "error", G_CALLBACK (on_sync_error), agent);
      patches_sync_connect_async (agent->sync, NULL, NULL, NULL);
    }

  tick = g_timeout_add (100, tick_cb, NULL);

  /* Everyone online before the first edit */
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  for (guint a = 0; a < trace->n_agents; a++)
    while ((!patches_sync_get_connected (replay->agents[a].sync) ||
            patches_sync_get_sync_status (replay->agents[a].sync) != PATCHES_SYNC_STATUS_SYNCED) &&
           g_get_monotonic_time () < deadline)
      g_main_context_iteration (NULL, TRUE);
  if (g_get_monotonic_time () >= deadline)
    {
      g_printerr ("the clients did not connect to %s\n", replay->url);
      g_source_remove (tick);
      return FALSE;
    }

  begin = replay->last_progress = g_get_monotonic_time ();
  while (!(settled = all_settled (replay)))
    {
      if (!release_ready (replay))
        g_main_context_iteration (NULL, TRUE);
      if (g_get_monotonic_time () - replay->last_progress > STALL_TIMEOUT_S * G_USEC_PER_SEC)
        break;
    }
  *ms = (g_get_monotonic_time () - begin) / 1000.0;
  g_source_remove (tick);

  if (!settled)
    {
      g_print ("stalled for %d s after %u of %u transactions\n", STALL_TIMEOUT_S, replay->n_released, trace->n_txns);
      for (guint a = 0; a < trace->n_agents; a++)
        {
          Agent *agent = &replay->agents[a];

          g_print ("agent %u: released %u of %u, %u pending, %u not known committed, rev %" G_GINT64_FORMAT
                   ", connected %d, %s\n",
                   a, agent->next, agent->chain->len, patches_doc_get_n_pending (agent->doc),
                   agent->n_outstanding, patches_doc_get_committed_rev (agent->doc),
                   patches_sync_get_connected (agent->sync),
                   patches_sync_status_to_string (patches_sync_get_sync_status (agent->sync)));
        }
      return FALSE;
    }

  g_print ("replayed in %.1f ms: %" G_GINT64_FORMAT " revisions, %u transactions carried over concurrent ones, "
           "%u cancelled\n",
           *ms, patches_doc_get_committed_rev (replay->agents[0].doc), replay->n_mapped, replay->n_dropped);
  if (replay->n_foreign > 0)
    g_print ("%u changes from other clients of the server\n", replay->n_foreign);

  return check_texts (replay) && replay->n_errors == 0;
}

static void
replay_clear (Replay *replay)
{
  for (guint a = 0; replay->agents != NULL && a < replay->trace->n_agents; a++)
    {
      Agent *agent = &replay->agents[a];

      if (agent->sync != NULL)
        {
          patches_sync_disconnect (agent->sync);
          g_signal_handlers_disconnect_by_data (agent->sync, agent);
        }
      g_clear_object (&agent->sync);
      g_clear_object (&agent->doc);
      if (agent->client != NULL)
        g_signal_handlers_disconnect_by_data (agent->client, agent);
      g_clear_object (&agent->client);
      g_clear_object (&agent->store);
      g_clear_pointer (&agent->chain, g_array_unref);
      g_clear_pointer (&agent->outstanding, g_array_unref);
      g_free (agent->seen);
    }
  g_clear_pointer (&replay->agents, g_free);
  g_clear_pointer (&replay->ids, g_hash_table_unref);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(Trace) trace = NULL;
  g_autoptr(GString) report = g_string_new (NULL);
  g_autofree char *server_url = NULL;
  g_autofree char *dir = NULL;
  g_auto(GStrv) files = NULL;
  const GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, &server_url,
      "Use the patches-server listening there (default: start one)", "URL" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "TRACE.json.gz" },
    G_OPTION_ENTRY_NULL
  };
  Replay replay = { 0 };
  gint64 begin;
  gboolean model_ok;
  gboolean ok;
  double ms = 0;

  context = g_option_context_new ("TRACE.json.gz — replay a concurrent editing trace through clients and a server");
  g_option_context_set_description (context,
    "Without --server, the patches-server started is $PATCHES_SERVER, else the one\n"
    "next to this program in the build tree (../server/patches-server), else the\n"
    "one in $PATH.  The last line of output is a JSON object with the result.\n");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      files == NULL || g_strv_length (files) != 1)
    {
      g_printerr ("%s\n", error ? error->message : "usage: patches-trace-replay [--server URL] TRACE.json.gz");
      return 2;
    }

  trace = trace_load (files[0], &error);
  if (trace == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  begin = g_get_monotonic_time ();
  model_ok = model_build (trace);
  g_print ("trace %s: %u transactions by %u agents, %u edits; model %s in %.1f ms, "
           "%u transactions held back at contested offsets\n",
           trace->name, trace->n_txns, trace->n_agents, trace->n_patches,
           model_ok ? "ends with endContent" : "DOES NOT end with endContent",
           (g_get_monotonic_time () - begin) / 1000.0, trace->n_ties);

  if (server_url == NULL)
    {
      g_autofree char *program = bench_find_server (argv[0]);
      g_autofree char *db = NULL;

      if (program == NULL)
        {
          g_printerr ("no patches-server found; set PATCHES_SERVER or use --server\n");
          return 2;
        }
      dir = g_dir_make_tmp ("patches-trace-replay-XXXXXX", &error);
      if (dir == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 2;
        }
      db = g_build_filename (dir, "server.db", NULL);
      server = bench_start_server (program, db, &server_url, &error);
      if (server == NULL)
        {
          g_printerr ("%s\n", error->message);
          bench_remove_dir (dir);
          return 2;
        }
    }
  g_print ("server %s, %u clients\n", server_url, trace->n_agents);

  replay.trace = trace;
  replay.url = server_url;
  replay.doc_id = g_strdup_printf ("trace-%s-%08x", trace->name, g_random_int ());
  replay.ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ok = replay_run (&replay, &ms) && model_ok;
  replay_clear (&replay);
  g_free (replay.doc_id);

  if (server != NULL)
    {
      bench_stop_server (server);
      bench_remove_dir (dir);
    }

  g_string_append (report, "{\"trace\":");
  patches_js_append_string (report, trace->name, -1);
  g_string_append_printf (report, ",\"txns\":%u,\"ms\":%.1f,\"ok\":%s}", trace->n_txns, ms, ok ? "true" : "false");
  g_print ("%s\n", report->str);

  return ok ? 0 : 1;
}
