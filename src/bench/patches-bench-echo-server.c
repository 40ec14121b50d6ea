/* patches-bench-echo-server.c: the load generators' ceiling
 *
 * Usage: patches-bench-echo-server [--listen 127.0.0.1:PORT]
 *
 * A calibration stand-in for patches-server, NOT a server of the
 * protocol: it keeps nothing but a revision counter per document.  It
 * speaks just enough of PROTOCOL.md for patches-bench-load and
 * ../shared/tools/patches-load.mjs to run against it: `subscribe`
 * answers the ids, `getDoc` an empty document at the counter's revision,
 * and `commitChanges` gives each change the next revision and a commit
 * time, answers `{"changes":[…]}` (no catch-up, no transform, no
 * storage) and sends each other subscriber a `changesCommitted` right
 * away, one per commit as the reference server does.  Every frame is
 * parsed with json-glib and every answer written with it, as a real
 * server must at least do.
 *
 * What a load generator measures against it is what the generator,
 * libsoup, json-glib and the loopback network cost on this machine: the
 * most any server built on them can show with that generator here.  It
 * accepts and ignores --db and --no-auth so that anything that starts
 * patches-server can start it instead.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

typedef struct
{
  GHashTable *heads;        /* doc id → gint64 * */
  GHashTable *subscribers;  /* doc id → GPtrArray of SoupWebsocketConnection */
} Echo;

static Echo echo;

static char *
node_text (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, NULL);
}

static void
send_node (SoupWebsocketConnection *ws,
           JsonNode                *node)
{
  g_autofree char *text = node_text (node);

  if (soup_websocket_connection_get_state (ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (ws, text);
}

static void
answer (SoupWebsocketConnection *ws,
        JsonNode                *id,
        JsonNode                *result)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) frame = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "jsonrpc");
  json_builder_add_string_value (builder, "2.0");
  json_builder_set_member_name (builder, "id");
  json_builder_add_value (builder, json_node_copy (id));
  json_builder_set_member_name (builder, "result");
  json_builder_add_value (builder, result);
  json_builder_end_object (builder);

  frame = json_builder_get_root (builder);
  send_node (ws, frame);
}

static void
answer_error (SoupWebsocketConnection *ws,
              JsonNode                *id,
              int                      code,
              const char              *message)
{
  g_autofree char *text = NULL;
  g_autofree char *id_text = id != NULL ? node_text (id) : g_strdup ("null");

  text = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":%d,\"message\":\"%s\"}}",
                          id_text, code, message);
  soup_websocket_connection_send_text (ws, text);
}

/* The string at @index of @array, or NULL (no warning for other types) */
static const char *
string_at (JsonArray *array,
           guint      index)
{
  JsonNode *node = index < json_array_get_length (array) ? json_array_get_element (array, index) : NULL;

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
    ? json_node_get_string (node) : NULL;
}

static void
subscribe (SoupWebsocketConnection *ws,
           JsonArray               *ids)
{
  for (guint i = 0; i < json_array_get_length (ids); i++)
    {
      const char *doc_id = string_at (ids, i);
      GPtrArray *list;

      if (doc_id == NULL)
        continue;
      if ((list = g_hash_table_lookup (echo.subscribers, doc_id)) == NULL)
        {
          list = g_ptr_array_new_with_free_func (g_object_unref);
          g_hash_table_insert (echo.subscribers, g_strdup (doc_id), list);
        }
      if (!g_ptr_array_find (list, ws, NULL))
        g_ptr_array_add (list, g_object_ref (ws));
    }
}

static gint64 *
head_of (const char *doc_id)
{
  gint64 *head = g_hash_table_lookup (echo.heads, doc_id);

  if (head == NULL)
    {
      head = g_new0 (gint64, 1);
      g_hash_table_insert (echo.heads, g_strdup (doc_id), head);
    }
  return head;
}

static JsonNode *
get_doc (const char *doc_id)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "state");
  json_builder_begin_object (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "rev");
  json_builder_add_int_value (builder, *head_of (doc_id));
  json_builder_set_member_name (builder, "changes");
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* Numbers the changes in place and tells the other subscribers */
static void
commit (SoupWebsocketConnection *ws,
        const char              *doc_id,
        JsonNode                *changes)
{
  JsonArray *array = json_node_get_array (changes);
  gint64 *head = head_of (doc_id);
  gint64 now = g_get_real_time () / 1000;
  GPtrArray *list = g_hash_table_lookup (echo.subscribers, doc_id);
  g_autofree char *frame = NULL;

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *change = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (change == NULL)
        continue;
      json_object_set_int_member (change, "rev", ++*head);
      json_object_set_int_member (change, "committedAt", now);
    }

  if (list == NULL || list->len < 2)
    return;

  {
    g_autofree char *changes_text = node_text (changes);

    frame = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"method\":\"changesCommitted\","
                             "\"params\":{\"docId\":\"%s\",\"changes\":%s}}",
                             doc_id, changes_text);
  }

  for (guint i = 0; i < list->len; i++)
    {
      SoupWebsocketConnection *other = g_ptr_array_index (list, i);

      if (other != ws && soup_websocket_connection_get_state (other) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_send_text (other, frame);
    }
}

static void
on_message (SoupWebsocketConnection *ws,
            SoupWebsocketDataType    type,
            GBytes                  *message,
            gpointer                 user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  gsize size;
  const char *data = g_bytes_get_data (message, &size);
  JsonObject *frame;
  JsonNode *id;
  JsonNode *params_node;
  JsonNode *method_node;
  JsonArray *params;
  const char *method;

  if (!json_parser_load_from_data (parser, data, size, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      answer_error (ws, NULL, -32700, "Parse error");
      return;
    }

  frame = json_node_get_object (json_parser_get_root (parser));
  id = json_object_get_member (frame, "id");
  method_node = json_object_get_member (frame, "method");
  method = method_node != NULL && JSON_NODE_HOLDS_VALUE (method_node) &&
           json_node_get_value_type (method_node) == G_TYPE_STRING
    ? json_node_get_string (method_node) : "";
  params_node = json_object_get_member (frame, "params");
  params = params_node != NULL && JSON_NODE_HOLDS_ARRAY (params_node) ? json_node_get_array (params_node) : NULL;
  if (id == NULL)
    return;
  if (params == NULL || json_array_get_length (params) < 1)
    {
      answer_error (ws, id, -32602, "Invalid params");
      return;
    }

  if (strcmp (method, "subscribe") == 0 && JSON_NODE_HOLDS_ARRAY (json_array_get_element (params, 0)))
    {
      subscribe (ws, json_array_get_array_element (params, 0));
      answer (ws, id, json_node_copy (json_array_get_element (params, 0)));
    }
  else if (strcmp (method, "getDoc") == 0 && string_at (params, 0) != NULL)
    answer (ws, id, get_doc (string_at (params, 0)));
  else if (strcmp (method, "commitChanges") == 0 && json_array_get_length (params) >= 2 &&
           string_at (params, 0) != NULL &&
           JSON_NODE_HOLDS_ARRAY (json_array_get_element (params, 1)))
    {
      g_autoptr(JsonNode) changes = json_node_copy (json_array_get_element (params, 1));
      JsonObject *result = json_object_new ();
      JsonNode *node = json_node_new (JSON_NODE_OBJECT);

      commit (ws, string_at (params, 0), changes);
      json_object_set_member (result, "changes", g_steal_pointer (&changes));
      json_node_take_object (node, result);
      answer (ws, id, node);
    }
  else
    answer_error (ws, id, -32601, "Method not found");
}

static void
forget (gpointer key,
        gpointer value,
        gpointer user_data)
{
  g_ptr_array_remove (value, user_data);
}

static void
on_closed (SoupWebsocketConnection *ws,
           gpointer                 user_data)
{
  g_hash_table_foreach (echo.subscribers, forget, ws);
  g_object_unref (ws);
}

static void
on_websocket (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *ws,
              gpointer                 user_data)
{
  soup_websocket_connection_set_max_incoming_payload_size (ws, 64 << 20);
  g_signal_connect (ws, "message", G_CALLBACK (on_message), NULL);
  g_signal_connect (ws, "closed", G_CALLBACK (on_closed), NULL);
  g_object_ref (ws);
}

/* A numeric loopback ADDR:PORT, or NULL */
static GSocketAddress *
loopback_address (const char *text)
{
  g_autoptr(GSocketConnectable) connectable = g_network_address_parse (text, 0, NULL);
  g_autoptr(GInetAddress) inet = NULL;

  if (connectable == NULL)
    return NULL;
  inet = g_inet_address_new_from_string (g_network_address_get_hostname (G_NETWORK_ADDRESS (connectable)));
  if (inet == NULL || !g_inet_address_get_is_loopback (inet))
    return NULL;

  return g_inet_socket_address_new (inet, g_network_address_get_port (G_NETWORK_ADDRESS (connectable)));
}

static char *opt_listen = NULL;
static char *opt_ignored = NULL;
static gboolean opt_ignored_flag = FALSE;

static const GOptionEntry entries[] = {
  { "listen", 'l', 0, G_OPTION_ARG_STRING, &opt_listen, "Loopback address and port (default 127.0.0.1:0)", "ADDR:PORT" },
  { "db", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &opt_ignored, "Ignored", NULL },
  { "no-auth", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &opt_ignored_flag, "Ignored", NULL },
  { NULL }
};

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- the load generators' ceiling");
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupServer) server = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GSList) uris = NULL;
  g_autofree char *uri = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("patches-bench-echo-server: %s\n", error->message);
      return 2;
    }

  if ((address = loopback_address (opt_listen ? opt_listen : "127.0.0.1:0")) == NULL)
    {
      g_printerr ("patches-bench-echo-server: --listen takes a loopback ADDR:PORT\n");
      return 2;
    }

  echo.heads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  echo.subscribers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) g_ptr_array_unref);

  server = soup_server_new ("server-header", "patches-bench-echo-server ", NULL);
  soup_server_remove_websocket_extension (server, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  soup_server_add_websocket_handler (server, NULL, NULL, NULL, on_websocket, NULL, NULL);
  if (!soup_server_listen (server, address, 0, &error))
    {
      g_printerr ("patches-bench-echo-server: %s\n", error->message);
      return 1;
    }

  uris = soup_server_get_uris (server);
  uri = g_uri_to_string_partial (uris->data, G_URI_HIDE_PASSWORD);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
  if (g_str_has_suffix (uri, "/"))
    uri[strlen (uri) - 1] = '\0';
  /* http://… → ws://… */
  printf ("listening on ws%s\n", uri + strlen ("http"));
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_main_loop_run (loop);

  return 0;
}
