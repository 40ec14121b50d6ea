/* patches-server-private.h
 *
 * What patches-server.c (connections, handshake) and
 * patches-server-methods.c (the protocol's methods, the commit queue)
 * share.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "patches-server.h"
#include "patches-server-cache.h"

G_BEGIN_DECLS

/**
 * PATCHES_SERVER_MAX_JOBS_PER_TRANSACTION:
 *
 * The most queued writes (commits, deletions) one SQLite transaction
 * takes; more wait for the next one.
 */
#define PATCHES_SERVER_MAX_JOBS_PER_TRANSACTION 512

struct _PatchesServer
{
  GObject              parent_instance;

  PatchesServerStore  *store;
  PatchesServerCache  *cache;
  PatchesServerAuth   *auth;
  SoupServer          *soup;
  char                *uri;

  /* PatchesServerConnection, owned */
  GPtrArray           *connections;
  /* token key → number of connections */
  GHashTable          *token_counts;
  /* doc id → GPtrArray of PatchesServerConnection (unowned; a
   * connection leaves every array when it closes) */
  GHashTable          *subscribers;

  /* Job, in arrival order: the per-document FIFO of writes */
  GQueue               jobs;
  GSource             *flush_source;
  guint                trim_source;
  gint64               last_flush;
  /* Jobs whose answer is held back (409 loop), to cancel at dispose */
  GPtrArray           *delayed;
  /* Notifications being gathered during one transaction's answers, in
   * order, and indexed by (connection, doc id) */
  GPtrArray           *fanout;
  GHashTable          *fanout_index;

  PatchesCommitConfig  config;
  guint64              max_frame_bytes;
  guint64              max_send_queue;
  guint                max_changes_per_commit;
  guint                max_ops_per_change;
  guint                max_docs_per_subscribe;
  guint                max_connections_per_token;
  guint                keepalive_interval;
  guint                keepalive_timeout;

  guint64              n_accepted;
  guint64              n_transactions;
  guint64              n_jobs;

  guint                stopped : 1;
};

void     patches_server_add_methods         (PatchesServer           *self,
                                             PatchesServerConnection *connection);
void     patches_server_drop_subscriptions  (PatchesServer           *self,
                                             PatchesServerConnection *connection);
void     patches_server_clear_jobs          (PatchesServer           *self);
gint64   patches_server_now_ms              (void);

G_END_DECLS
