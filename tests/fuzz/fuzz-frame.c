/* fuzz-frame.c: libFuzzer target for patches-server's frame handling
 *
 * Input: lines, each one WebSocket text frame from a client (a line
 * starting with \x01 is sent as a binary frame instead; a line "#N"
 * switches to client N, 0 to 2).  Three clients with different tokens
 * and client ids, plus one subscribed watcher, talk to a PatchesServer
 * over in-memory transports, through the same PatchesRpc and method
 * dispatch as the daemon, with the history in an in-memory SQLite
 * database.  Every frame the server sends must be one JSON object; crashes,
 * sanitizer reports and criticals are failures, error answers are not.
 *
 * Seeds: one JSON-RPC frame per line, e.g. the "frame" members of
 * the transcripts in tests/server/transcripts/ with dir "in".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "patches.h"
#include "patches-server.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* An in-memory transport */

#define FUZZ_TYPE_TRANSPORT (fuzz_transport_get_type ())
G_DECLARE_FINAL_TYPE (FuzzTransport, fuzz_transport, FUZZ, TRANSPORT, GObject)

struct _FuzzTransport
{
  GObject                parent_instance;
  PatchesTransportState  state;
  guint                  n_sent;
  gsize                  bytes_sent;
};

enum {
  PROP_0,
  PROP_STATE,
};

static void fuzz_transport_iface_init (PatchesTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FuzzTransport, fuzz_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (PATCHES_TYPE_TRANSPORT, fuzz_transport_iface_init))

static void
fuzz_transport_send_bytes (PatchesTransport *transport,
                           GBytes           *text)
{
  FuzzTransport *self = FUZZ_TRANSPORT (transport);
  g_autoptr(PatchesValue) frame = NULL;
  gsize len;
  const char *data = g_bytes_get_data (text, &len);

  if (self->state != PATCHES_TRANSPORT_STATE_OPEN)
    return;

  /* Whatever the server sends is one JSON object (PROTOCOL.md §2.2) */
  frame = patches_value_parse (data, len, NULL);
  if (frame == NULL || patches_value_get_kind (frame) != PATCHES_VALUE_OBJECT)
    g_error ("The server sent something that is not a JSON object: %.*s", (int) MIN (len, 400), data);

  self->n_sent++;
  self->bytes_sent += len;
}

static void
fuzz_transport_close (PatchesTransport *transport,
                      gushort           code,
                      const char       *reason)
{
  FuzzTransport *self = FUZZ_TRANSPORT (transport);

  if (self->state != PATCHES_TRANSPORT_STATE_OPEN)
    return;

  self->state = PATCHES_TRANSPORT_STATE_CLOSED;
  g_object_notify (G_OBJECT (self), "state");
  patches_transport_emit_closed (transport, code, reason);
}

static PatchesTransportState
fuzz_transport_get_state (PatchesTransport *transport)
{
  return FUZZ_TRANSPORT (transport)->state;
}

static void
fuzz_transport_iface_init (PatchesTransportInterface *iface)
{
  iface->send_bytes = fuzz_transport_send_bytes;
  iface->close = fuzz_transport_close;
  iface->get_state = fuzz_transport_get_state;
}

static void
fuzz_transport_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, FUZZ_TRANSPORT (object)->state);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fuzz_transport_class_init (FuzzTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = fuzz_transport_get_property;
  g_object_class_override_property (object_class, PROP_STATE, "state");
}

static void
fuzz_transport_init (FuzzTransport *self)
{
  self->state = PATCHES_TRANSPORT_STATE_OPEN;
}

/* The server, rebuilt now and then so that the database stays small */

#define N_CLIENTS 3
#define RUNS_PER_SERVER 500

static PatchesServer *server;
static PatchesServerAuth *auth;
static guint runs;

static GLogWriterOutput
quiet_writer (GLogLevelFlags   level,
              const GLogField *fields,
              gsize            n_fields,
              gpointer         user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    return g_log_writer_standard_streams (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

static void
drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
ensure_server (void)
{
  g_autoptr(PatchesServerStore) store = NULL;
  g_autoptr(GError) error = NULL;

  if (server != NULL && runs++ % RUNS_PER_SERVER != 0)
    return;

  if (server == NULL)
    {
      g_log_set_writer_func (quiet_writer, NULL, NULL);
      g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
      auth = patches_server_auth_new_from_data ("w writer *:write +trusted\n"
                                                "x limited a*:write b*:read\n"
                                                "r reader *:read\n", -1, &error);
      g_assert_no_error (error);
    }

  g_clear_object (&server);
  drain ();

  store = patches_server_store_open (":memory:", &error);
  g_assert_no_error (error);
  server = g_object_new (PATCHES_TYPE_SERVER,
                         "store", store,
                         "auth", auth,
                         "max-changes-per-commit", 64,
                         "max-ops-per-change", 64,
                         "max-docs-per-subscribe", 16,
                         "max-send-queue", (guint64) 1 << 20,
                         NULL);
}

static PatchesServerConnection *
connect_client (const char *token,
                const char *client_id)
{
  g_autoptr(FuzzTransport) transport = g_object_new (FUZZ_TYPE_TRANSPORT, NULL);
  g_autoptr(PatchesServerAuthToken) entry = patches_server_auth_lookup (auth, token);

  g_assert_nonnull (entry);
  return g_object_ref (patches_server_accept (server, PATCHES_TRANSPORT (transport), NULL, entry, client_id));
}

static void
send_frame (PatchesServerConnection *connection,
            const char              *data,
            gsize                    len,
            gboolean                 binary)
{
  g_autoptr(GBytes) bytes = NULL;
  PatchesTransport *transport = patches_server_connection_get_transport (connection);

  if (patches_transport_get_state (transport) != PATCHES_TRANSPORT_STATE_OPEN)
    return;

  bytes = g_bytes_new (data, len);
  if (binary)
    patches_transport_emit_binary (transport, bytes);
  else if (g_utf8_validate_len (data, len, NULL))
    patches_transport_emit_message (transport, bytes);
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  static const struct { const char *token; const char *client_id; } who[N_CLIENTS] = {
    { "w", "fuzz-device" }, { "x", NULL }, { "r", "fuzz-device" },
  };
  PatchesServerConnection *clients[N_CLIENTS];
  PatchesServerConnection *watcher;
  const char *p = (const char *) data;
  const char *end = p + size;
  guint current = 0;

  ensure_server ();

  for (guint i = 0; i < N_CLIENTS; i++)
    clients[i] = connect_client (who[i].token, who[i].client_id);

  watcher = connect_client ("w", NULL);
  send_frame (watcher,
              "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscribe\",\"params\":[[\"a\",\"b\",\"doc\",\"e1\",\"tdoc\",\"shared\"]]}",
              strlen ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscribe\",\"params\":[[\"a\",\"b\",\"doc\",\"e1\",\"tdoc\",\"shared\"]]}"),
              FALSE);

  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      gsize len = (nl ? nl : end) - p;

      if (len == 2 && p[0] == '#' && p[1] >= '0' && p[1] < '0' + N_CLIENTS)
        current = p[1] - '0';
      else if (len > 0 && p[0] == '\x01')
        send_frame (clients[current], p + 1, len - 1, TRUE);
      else
        send_frame (clients[current], p, len, FALSE);

      /* Writes run from the main loop, as in the daemon */
      drain ();
      p = nl ? nl + 1 : end;
    }

  patches_server_flush (server);
  drain ();

  for (guint i = 0; i < N_CLIENTS; i++)
    {
      patches_server_connection_close (clients[i], 1000, NULL);
      g_object_unref (clients[i]);
    }
  patches_server_connection_close (watcher, 1000, NULL);
  g_object_unref (watcher);
  drain ();

  g_assert_cmpuint (patches_server_get_n_connections (server), ==, 0);

  return 0;
}
