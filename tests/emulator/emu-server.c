/* The HTTP side: one catch-all libsoup handler that records the request,
 * picks the family owning the path prefix and lets it answer.  Also the
 * reply helpers every family shares, including the two that libsoup does
 * not offer directly: a connection that never answers and a body cut short
 * (both need the raw connection, so we steal it from libsoup). */
#include "emu.h"
#include <string.h>

/* Longest string kept verbatim in a recorded JSON body: data URIs of
 * several MB would make /_emu/requests useless, the prefix is what tests
 * check ("data:image/jpeg;base64,..."). */
#define EMU_RECORD_MAX_STRING 96

static const EmuFamily *const families[] = {
  &emu_family_control,
  &emu_family_dashscope,
  &emu_family_bfl,
  &emu_family_oss,
  &emu_family_results,
  &emu_family_aliyun_cloudauth,
  &emu_family_aliyun_green,
  &emu_family_aliyun_openplatform,
  &emu_family_aliyun_oss,
  &emu_family_tencent_faceid,
};

typedef struct {
  EmuServer         *emu;
  SoupServerMessage *msg;        /* paused, delayed answer */
  GIOStream         *stream;     /* stolen connection (hang / truncated) */
  GBytes            *pending;    /* bytes being written on `stream` */
  guint              timeout_id;
  gulong             disconnected_id;
} EmuHeld;

static void
held_free (EmuHeld *h)
{
  if (h->timeout_id)
    g_source_remove (h->timeout_id);
  if (h->msg)
    {
      if (h->disconnected_id)
        g_signal_handler_disconnect (h->msg, h->disconnected_id);
      g_object_unref (h->msg);
    }
  if (h->stream)
    {
      g_io_stream_close (h->stream, NULL, NULL);
      g_object_unref (h->stream);
    }
  if (h->pending)
    g_bytes_unref (h->pending);
  g_free (h);
}

/* ------------------------------------------------------------ helpers */

const char *
emu_request_header (EmuRequest *req, const char *name)
{
  return soup_message_headers_get_one (soup_server_message_get_request_headers (req->msg), name);
}

const char *
emu_request_query (EmuRequest *req, const char *name)
{
  return req->query ? g_hash_table_lookup (req->query, name) : NULL;
}

void
emu_request_set_endpoint (EmuRequest *req, const char *endpoint, EmuEndpointKind kind, const char *model)
{
  req->endpoint = endpoint;
  req->kind = kind;
  req->model = model;
  if (!req->record)
    return;
  json_object_object_add (req->record, "endpoint", json_object_new_string (endpoint));
  if (model)
    json_object_object_add (req->record, "model", json_object_new_string (model));
}

gchar *
emu_new_id (EmuServer *emu, const char *prefix)
{
  guint32 a = g_rand_int (emu->rand), b = g_rand_int (emu->rand), c = g_rand_int (emu->rand);
  emu->id_counter++;
  return g_strdup_printf ("%s%08x-%04x-%04x-%04x-%04x%08x", prefix ? prefix : "", a, b & 0xffff,
                          (b >> 16) & 0xffff, (guint) (emu->id_counter & 0xffff), c & 0xffff,
                          (guint32) emu->id_counter);
}

gchar *
emu_format_time (gint64 us)
{
  GDateTime *dt = g_date_time_new_from_unix_local (us / G_USEC_PER_SEC);
  gchar *date = g_date_time_format (dt, "%Y-%m-%d %H:%M:%S");
  gchar *s = g_strdup_printf ("%s.%03d", date, (int) ((us % G_USEC_PER_SEC) / 1000));
  g_free (date);
  g_date_time_unref (dt);
  return s;
}

json_object *
emu_json_get (json_object *obj, const char *dotted_path)
{
  gchar **parts = g_strsplit (dotted_path, ".", -1);
  json_object *cur = obj;
  for (gchar **p = parts; cur && *p; p++)
    {
      json_object *next = NULL;
      if (!json_object_is_type (cur, json_type_object) || !json_object_object_get_ex (cur, *p, &next))
        next = NULL;
      cur = next;
    }
  g_strfreev (parts);
  return cur;
}

const char *
emu_json_string (json_object *obj, const char *dotted_path)
{
  json_object *v = emu_json_get (obj, dotted_path);
  return v && json_object_is_type (v, json_type_string) ? json_object_get_string (v) : NULL;
}

/* ------------------------------------------------------------ recording */

static json_object *
clip_json (json_object *v)
{
  switch (json_object_get_type (v))
    {
    case json_type_string:
      {
        const char *s = json_object_get_string (v);
        gsize len = strlen (s);
        if (len <= EMU_RECORD_MAX_STRING)
          return json_object_get (v);
        gchar *clip = g_strdup_printf ("%.*s...(%zu chars)", EMU_RECORD_MAX_STRING, s, len);
        json_object *out = json_object_new_string (clip);
        g_free (clip);
        return out;
      }
    case json_type_object:
      {
        json_object *out = json_object_new_object ();
        json_object_object_foreach (v, k, child)
          json_object_object_add (out, k, child ? clip_json (child) : NULL);
        return out;
      }
    case json_type_array:
      {
        json_object *out = json_object_new_array ();
        for (size_t i = 0; i < json_object_array_length (v); i++)
          {
            json_object *child = json_object_array_get_idx (v, i);
            json_object_array_add (out, child ? clip_json (child) : NULL);
          }
        return out;
      }
    default:
      return json_object_get (v);
    }
}

static json_object *
make_record (EmuRequest *req)
{
  json_object *rec = json_object_new_object ();
  json_object_object_add (rec, "time", json_object_new_double (req->now_us / 1e6));
  json_object_object_add (rec, "method", json_object_new_string (req->method));
  json_object_object_add (rec, "path", json_object_new_string (req->path));
  json_object *q = json_object_new_object ();
  if (req->query)
    {
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init (&it, req->query);
      while (g_hash_table_iter_next (&it, &k, &v))
        json_object_object_add (q, k, json_object_new_string (v ? v : ""));
    }
  json_object_object_add (rec, "query", q);
  /* Header names lower-cased; auth values kept on purpose (tests check them). */
  json_object *h = json_object_new_object ();
  SoupMessageHeadersIter hit;
  const char *name, *value;
  soup_message_headers_iter_init (&hit, soup_server_message_get_request_headers (req->msg));
  while (soup_message_headers_iter_next (&hit, &name, &value))
    {
      gchar *lower = g_ascii_strdown (name, -1);
      json_object *prev = NULL;
      if (json_object_object_get_ex (h, lower, &prev))
        {
          gchar *joined = g_strdup_printf ("%s, %s", json_object_get_string (prev), value);
          json_object_object_add (h, lower, json_object_new_string (joined));
          g_free (joined);
        }
      else
        json_object_object_add (h, lower, json_object_new_string (value));
      g_free (lower);
    }
  json_object_object_add (rec, "headers", h);
  json_object_object_add (rec, "body_size", json_object_new_int64 ((gint64) g_bytes_get_size (req->body)));
  if (req->json)
    json_object_object_add (rec, "json", clip_json (req->json));
  json_object_object_add (rec, "family", json_object_new_string (req->family->name));
  json_object_object_add (rec, "status", NULL);
  return rec;
}

static void
record_status (EmuRequest *req, guint status)
{
  if (!req->family->recorded)
    return;     /* the control API does not count as traffic */
  emu_stat_inc (req->emu, "responses");
  gchar *name = g_strdup_printf ("status_%u", status);
  emu_stat_inc (req->emu, name);
  g_free (name);
  if (status == 429)
    emu_stat_inc (req->emu, "sent_429");
  if (req->record)
    json_object_object_add (req->record, "status", json_object_new_int ((int) status));
}

/* ------------------------------------------------------------ replies */

/* libsoup knows no phrase for some statuses the providers use. */
static const char *
status_phrase (guint status)
{
  switch (status)
    {
    case 402: return "Payment Required";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    default: return soup_status_get_phrase (status);
    }
}

void
emu_reply_bytes (EmuRequest *req, guint status, const char *content_type, GBytes *bytes)
{
  gsize len = 0;
  gconstpointer data = g_bytes_get_data (bytes, &len);
  soup_server_message_set_status (req->msg, status, status_phrase (status));
  soup_server_message_set_response (req->msg, content_type, SOUP_MEMORY_COPY, data, len);
  record_status (req, status);
}

void
emu_reply_text (EmuRequest *req, guint status, const char *content_type, const char *text)
{
  GBytes *b = g_bytes_new_static (text, strlen (text));
  emu_reply_bytes (req, status, content_type, b);
  g_bytes_unref (b);
}

void
emu_reply_json (EmuRequest *req, guint status, json_object *body)
{
  emu_reply_text (req, status, "application/json",
                  json_object_to_json_string_ext (body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put (body);
}

void
emu_reply_header (EmuRequest *req, const char *name, const char *value)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (req->msg), name, value);
}

void
emu_reply_retry_after (EmuRequest *req, gdouble seconds)
{
  /* Retry-After carries whole seconds (RFC 9110); never advertise 0. */
  gchar *v = g_strdup_printf ("%d", MAX (1, (int) (seconds + 0.999)));
  emu_reply_header (req, "Retry-After", v);
  g_free (v);
}

static gboolean
delay_done (gpointer data)
{
  EmuHeld *h = data;
  h->timeout_id = 0;
  soup_server_message_unpause (h->msg);
  g_ptr_array_remove_fast (h->emu->held, h);   /* frees h */
  return G_SOURCE_REMOVE;
}

static void
delay_disconnected (SoupServerMessage *msg, gpointer data)
{
  EmuHeld *h = data;
  (void) msg;
  g_ptr_array_remove_fast (h->emu->held, h);
}

void
emu_reply_delay (EmuRequest *req, gint64 delay_us)
{
  if (delay_us <= 0 || req->truncate)
    return;
  EmuHeld *h = g_new0 (EmuHeld, 1);
  h->emu = req->emu;
  h->msg = g_object_ref (req->msg);
  soup_server_message_pause (req->msg);
  h->timeout_id = g_timeout_add ((guint) MAX (1, delay_us / 1000), delay_done, h);
  h->disconnected_id = g_signal_connect (req->msg, "disconnected", G_CALLBACK (delay_disconnected), h);
  g_ptr_array_add (req->emu->held, h);
}

void
emu_reply_hang (EmuRequest *req)
{
  /* Owning the raw stream (rather than pausing the message) means nothing
   * in libsoup will time it out or answer it; it is closed at reset/exit. */
  EmuHeld *h = g_new0 (EmuHeld, 1);
  h->emu = req->emu;
  h->stream = soup_server_message_steal_connection (req->msg);
  g_ptr_array_add (req->emu->held, h);
  if (req->record)
    json_object_object_add (req->record, "status", json_object_new_string ("hang"));
  emu_stat_inc (req->emu, "hung_connections");
}

static void
truncated_written (GObject *source, GAsyncResult *res, gpointer data)
{
  EmuHeld *h = data;
  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL, NULL);
  g_ptr_array_remove_fast (h->emu->held, h);    /* closes the stream */
}

void
emu_reply_truncated (EmuRequest *req, guint status, const char *content_type, GBytes *bytes)
{
  gsize len = g_bytes_get_size (bytes);
  gsize half = len / 2;
  GString *raw = g_string_new (NULL);
  g_string_append_printf (raw, "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                          "Connection: close\r\n\r\n",
                          status, status_phrase (status), content_type, len);
  g_string_append_len (raw, g_bytes_get_data (bytes, NULL), (gssize) half);
  EmuHeld *h = g_new0 (EmuHeld, 1);
  h->emu = req->emu;
  h->stream = soup_server_message_steal_connection (req->msg);
  h->pending = g_string_free_to_bytes (raw);
  g_ptr_array_add (req->emu->held, h);
  if (req->record)
    json_object_object_add (req->record, "status", json_object_new_int ((int) status));
  emu_stat_inc (req->emu, "truncated_bodies");
  if (!h->stream)
    {
      g_ptr_array_remove_fast (req->emu->held, h);
      return;
    }
  g_output_stream_write_all_async (g_io_stream_get_output_stream (h->stream),
                                   g_bytes_get_data (h->pending, NULL), g_bytes_get_size (h->pending),
                                   G_PRIORITY_DEFAULT, NULL, truncated_written, h);
}

/* ------------------------------------------------------------ dispatch */

static void
server_callback (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                 gpointer data)
{
  EmuServer *emu = data;
  (void) server;
  EmuRequest req = { 0 };
  req.emu = emu;
  req.msg = msg;
  req.method = soup_server_message_get_method (msg);
  req.path = path;
  req.query = query;
  req.now_us = g_get_real_time ();
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  req.body = body ? soup_message_body_flatten (body) : g_bytes_new (NULL, 0);
  gsize blen = 0;
  const char *bdata = g_bytes_get_data (req.body, &blen);
  if (blen > 0 && (bdata[0] == '{' || bdata[0] == '[' || bdata[0] == ' ' || bdata[0] == '\n'))
    {
      json_tokener *tok = json_tokener_new ();
      req.json = json_tokener_parse_ex (tok, bdata, (int) blen);
      if (json_tokener_get_error (tok) != json_tokener_success)
        {
          if (req.json)
            json_object_put (req.json);
          req.json = NULL;
        }
      json_tokener_free (tok);
    }

  req.family = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (families); i++)
    {
      gsize plen = strlen (families[i]->prefix);
      if (g_str_has_prefix (path, families[i]->prefix) && (path[plen] == '/' || path[plen] == '\0'))
        {
          req.family = families[i];
          break;
        }
    }

  if (!req.family)
    {
      static const EmuFamily unknown = { "unknown", "", TRUE, NULL };
      req.family = &unknown;
    }
  if (req.family->recorded)
    {
      emu_stat_inc (emu, "requests");
      json_object *rec = make_record (&req);
      req.record = rec;
      emu_recorder_add (emu, rec);
    }
  if (req.family->handle)
    req.family->handle (&req);
  else
    emu_reply_text (&req, 404, "text/plain", "no such endpoint\n");

  if (req.truncate && soup_server_message_get_status (msg) != 0)
    {
      /* truncated_body fault: whatever the family answered goes out with its
       * full Content-Length but only half of the bytes. */
      GBytes *whole = soup_message_body_flatten (soup_server_message_get_response_body (msg));
      const char *ct = soup_message_headers_get_content_type (soup_server_message_get_response_headers (msg), NULL);
      emu_reply_truncated (&req, soup_server_message_get_status (msg), ct ? ct : "application/octet-stream", whole);
      g_bytes_unref (whole);
    }
  emu_fault_hit_clear (&req.fault);

  if (req.json)
    json_object_put (req.json);
  g_bytes_unref (req.body);
}

/* A demo run can create thousands of tasks: expired ones are forgotten and
 * expired images dropped, so memory follows the retention settings. */
static gboolean
sweep (gpointer data)
{
  EmuServer *emu = data;
  emu_tasks_sweep (emu);
  emu_results_sweep (emu);
  return G_SOURCE_CONTINUE;
}

EmuServer *
emu_server_new (guint port, json_object *config, const char *keys, GError **error)
{
  EmuServer *emu = g_new0 (EmuServer, 1);
  emu->rand = g_rand_new ();
  emu->tasks = g_hash_table_new (g_str_hash, g_str_equal);
  emu->results = g_hash_table_new (g_str_hash, g_str_equal);
  emu->renderer = emu_renderer_new ();
  emu->oss_objects = g_hash_table_new (g_str_hash, g_str_equal);
  emu->qps_windows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_queue_free);
  emu->max_in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  emu->stats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  emu->requests = g_queue_new ();
  emu->held = g_ptr_array_new_with_free_func ((GDestroyNotify) held_free);
  emu->faults = g_ptr_array_new ();
  emu->oss_secret = g_strdup_printf ("%08x%08x", g_rand_int (emu->rand), g_rand_int (emu->rand));
  emu->config = json_object_new_object ();
  if (keys && *keys)
    {
      emu->cli_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      gchar **list = g_strsplit (keys, ",", -1);
      for (gchar **k = list; *k; k++)
        {
          gchar *key = g_strstrip (*k);
          if (!*key)
            continue;
          const char *colon = strchr (key, ':');
          /* "bfl:KEY" / "dashscope:KEY" name a family; a bare key serves all. */
          if (colon && (g_str_has_prefix (key, "bfl:") || g_str_has_prefix (key, "dashscope:")))
            g_hash_table_add (emu->cli_keys, g_strdup_printf ("%.*s\t%s", (int) (colon - key), key, colon + 1));
          else
            g_hash_table_add (emu->cli_keys, g_strdup_printf ("*\t%s", key));
        }
      g_strfreev (list);
    }
  if (config)
    {
      emu->startup_config = json_object_get (config);
      if (!emu_config_apply (emu, config, error))
        {
          emu_server_free (emu);
          return NULL;
        }
    }

  emu->soup = soup_server_new ("server-header", "vh-emulator", NULL);
  soup_server_add_handler (emu->soup, NULL, server_callback, emu, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, port);
  g_object_unref (lo);
  gboolean ok = soup_server_listen (emu->soup, addr, 0, error);
  g_object_unref (addr);
  if (!ok)
    {
      emu_server_free (emu);
      return NULL;
    }
  GSList *uris = soup_server_get_uris (emu->soup);
  emu->port = uris ? (guint) g_uri_get_port (uris->data) : port;
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  emu->base_url = g_strdup_printf ("http://127.0.0.1:%u", emu->port);
  emu->sweep_id = g_timeout_add_seconds (10, sweep, emu);
  return emu;
}

void
emu_server_free (EmuServer *emu)
{
  if (!emu)
    return;
  if (emu->sweep_id)
    g_source_remove (emu->sweep_id);
  g_ptr_array_set_size (emu->held, 0);
  if (emu->soup)
    {
      soup_server_disconnect (emu->soup);
      g_object_unref (emu->soup);
    }
  emu_tasks_clear (emu);
  emu_results_clear (emu);
  emu_renderer_free (emu->renderer);
  emu_oss_clear (emu);
  emu_faults_clear (emu);
  emu_recorder_clear (emu);
  g_ptr_array_unref (emu->held);
  g_ptr_array_unref (emu->faults);
  g_hash_table_destroy (emu->tasks);
  g_hash_table_destroy (emu->results);
  g_hash_table_destroy (emu->oss_objects);
  g_hash_table_destroy (emu->qps_windows);
  g_hash_table_destroy (emu->max_in_flight);
  g_hash_table_destroy (emu->stats);
  if (emu->cli_keys)
    g_hash_table_destroy (emu->cli_keys);
  g_queue_free (emu->requests);
  if (emu->config)
    json_object_put (emu->config);
  if (emu->startup_config)
    json_object_put (emu->startup_config);
  g_rand_free (emu->rand);
  g_free (emu->oss_secret);
  g_free (emu->base_url);
  g_free (emu);
}
