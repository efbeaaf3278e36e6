/* core/http.c against a tiny canned-answer server on loopback: headers,
 * Retry-After (seconds and HTTP date), the size cap enforced while
 * receiving, timeouts, cancellation, multipart, redirects, status classes,
 * and error messages that never show a URL's query string. */
#include <stdio.h>
#include <string.h>
#include <gio/gio.h>
#include "vhost/plugin.h"
#include "vh-private.h"

static guint port;

/* ------------------------------------------------------------ server */

static void
send_all (GSocket *s, const char *data, gsize len)
{
  while (len > 0)
    {
      gssize n = g_socket_send (s, data, len, NULL, NULL);
      if (n <= 0)
        return;
      data += n;
      len -= n;
    }
}

static void
reply (GSocket *s, const char *status, const char *headers, const char *body)
{
  g_autofree gchar *head = g_strdup_printf ("HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
                                            status, strlen (body), headers);
  send_all (s, head, strlen (head));
  send_all (s, body, strlen (body));
}

static gpointer
serve_one (gpointer data)
{
  GSocket *s = data;
  GString *req = g_string_new (NULL);
  char buf[65536];
  gssize header_end = -1;
  gsize content_length = 0;
  /* Read the head, then the body by Content-Length. */
  for (;;)
    {
      gssize n = g_socket_receive (s, buf, sizeof buf, NULL, NULL);
      if (n <= 0)
        break;
      g_string_append_len (req, buf, n);
      if (header_end < 0)
        {
          char *e = strstr (req->str, "\r\n\r\n");
          if (e != NULL)
            {
              header_end = e - req->str + 4;
              g_autofree gchar *lower = g_ascii_strdown (req->str, header_end);
              char *cl = strstr (lower, "\r\ncontent-length:");
              if (cl != NULL)
                content_length = g_ascii_strtoull (cl + 17, NULL, 10);
            }
        }
      if (header_end >= 0 && req->len >= (gsize) header_end + content_length)
        break;
    }
  char path[256] = "";
  sscanf (req->str, "%*s %255s", path);
  path[strcspn (path, "?")] = '\0';

  if (g_str_has_prefix (path, "/ok"))
    reply (s, "200 OK", "Content-Type: text/plain\r\nX-Test: Value\r\n", "hello");
  else if (!strcmp (path, "/retry-secs"))
    reply (s, "429 Too Many Requests", "Retry-After: 7\r\n", "{}");
  else if (!strcmp (path, "/retry-date"))
    {
      GDateTime *t = g_date_time_new_now_utc ();
      GDateTime *later = g_date_time_add_seconds (t, 30);
      g_autofree gchar *date = g_date_time_format (later, "%a, %d %b %Y %H:%M:%S GMT");
      g_autofree gchar *h = g_strdup_printf ("Retry-After: %s\r\n", date);
      reply (s, "503 Service Unavailable", h, "");
      g_date_time_unref (later);
      g_date_time_unref (t);
    }
  else if (!strcmp (path, "/big"))
    {
      /* No Content-Length: only the streaming cap can stop it. */
      const char *head = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
      send_all (s, head, strlen (head));
      memset (buf, 'x', sizeof buf);
      for (int i = 0; i < 64; i++)
        send_all (s, buf, sizeof buf);
    }
  else if (!strcmp (path, "/big-cl"))
    {
      const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n";
      send_all (s, head, strlen (head));
    }
  else if (!strcmp (path, "/short"))
    {
      const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nonly a little";
      send_all (s, head, strlen (head));
    }
  else if (!strcmp (path, "/hang"))
    g_usleep (8 * G_USEC_PER_SEC);
  else if (!strcmp (path, "/redirect"))
    reply (s, "302 Found", "Location: /ok-redirected\r\n", "");
  else if (!strcmp (path, "/echo"))
    reply (s, "200 OK", "Content-Type: text/plain\r\n", req->str);
  else
    reply (s, "404 Not Found", "", "no");
  g_socket_shutdown (s, FALSE, TRUE, NULL);
  g_usleep (50 * 1000);
  g_socket_close (s, NULL);
  g_object_unref (s);
  g_string_free (req, TRUE);
  return NULL;
}

static gpointer
server_loop (gpointer data)
{
  GSocket *listener = data;
  for (;;)
    {
      GSocket *c = g_socket_accept (listener, NULL, NULL);
      if (c == NULL)
        return NULL;
      g_thread_unref (g_thread_new ("conn", serve_one, c));
    }
}

static void
start_server (void)
{
  GError *error = NULL;
  GSocket *listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0);
  g_assert_true (g_socket_bind (listener, addr, TRUE, &error));
  g_assert_true (g_socket_listen (listener, &error));
  GSocketAddress *bound = g_socket_get_local_address (listener, &error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_thread_unref (g_thread_new ("server", server_loop, listener));
}

static gchar *
url (const char *path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
}

/* ------------------------------------------------------------ tests */

static void
test_get_headers (void)
{
  g_autofree gchar *u = url ("/ok");
  VhHttpRequest req = { .url = u };
  GError *error = NULL;
  g_autoptr(VhHttpResponse) r = vh_http_send (&req, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r->status, ==, 200);
  g_assert_cmpmem (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body), "hello", 5);
  g_assert_cmpstr (r->content_type, ==, "text/plain");
  g_assert_cmpstr (vh_http_response_header (r, "x-test"), ==, "Value");
  g_assert_cmpstr (vh_http_response_header (r, "X-TEST"), ==, "Value");
  g_assert_cmpint (r->retry_after_ms, ==, -1);
  gboolean lower = FALSE;
  for (gchar **h = r->headers; *h; h++)
    if (g_str_has_prefix (*h, "x-test: "))
      lower = TRUE;
  g_assert_true (lower);
}

static void
test_reuse_many (void)
{
  /* The per-thread handle is reused across calls and threads. */
  for (int i = 0; i < 20; i++)
    {
      g_autofree gchar *u = url ("/ok");
      VhHttpRequest req = { .url = u };
      g_autoptr(VhHttpResponse) r = vh_http_send (&req, NULL, NULL);
      g_assert_nonnull (r);
      g_assert_cmpint (r->status, ==, 200);
    }
}

static gpointer
worker (gpointer data)
{
  for (int i = 0; i < 10; i++)
    {
      g_autofree gchar *u = url ("/ok");
      VhHttpRequest req = { .url = u };
      g_autoptr(VhHttpResponse) r = vh_http_send (&req, NULL, NULL);
      g_assert_nonnull (r);
      g_assert_cmpint (r->status, ==, 200);
    }
  return NULL;
}

static void
test_threads (void)
{
  GThread *t[6];
  for (int i = 0; i < 6; i++)
    t[i] = g_thread_new ("w", worker, NULL);
  for (int i = 0; i < 6; i++)
    g_thread_join (t[i]);
}

static void
test_retry_after_seconds (void)
{
  g_autofree gchar *u = url ("/retry-secs");
  VhHttpRequest req = { .url = u };
  g_autoptr(VhHttpResponse) r = vh_http_send (&req, NULL, NULL);
  g_assert_cmpint (r->status, ==, 429);
  g_assert_cmpint (r->retry_after_ms, ==, 7000);
  g_assert_cmpint (vh_http_status_class (r->status), ==, VH_ERROR_QUOTA);
}

static void
test_retry_after_date (void)
{
  g_autofree gchar *u = url ("/retry-date");
  VhHttpRequest req = { .url = u };
  g_autoptr(VhHttpResponse) r = vh_http_send (&req, NULL, NULL);
  g_assert_cmpint (r->status, ==, 503);
  g_assert_cmpint (r->retry_after_ms, >, 25000);
  g_assert_cmpint (r->retry_after_ms, <=, 31000);
}

static void
test_cap_streaming (void)
{
  g_autofree gchar *u = url ("/big");
  VhHttpRequest req = { .url = u, .max_response_bytes = 100000 };
  GError *error = NULL;
  VhHttpResponse *r = vh_http_send (&req, NULL, &error);
  g_assert_null (r);
  g_assert_cmpint (vh_error_class (error), ==, VH_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "cap"));
  g_clear_error (&error);
}

static void
test_cap_content_length (void)
{
  g_autofree gchar *u = url ("/big-cl");
  VhHttpRequest req = { .url = u, .max_response_bytes = 1000 };
  GError *error = NULL;
  g_assert_null (vh_http_send (&req, NULL, &error));
  g_assert_cmpint (vh_error_class (error), ==, VH_ERROR_INVALID_INPUT);
  g_clear_error (&error);
}

static void
test_truncated (void)
{
  g_autofree gchar *u = url ("/short");
  VhHttpRequest req = { .url = u };
  GError *error = NULL;
  g_assert_null (vh_http_send (&req, NULL, &error));
  g_assert_cmpint (vh_error_class (error), ==, VH_ERROR_TRANSIENT);
  g_clear_error (&error);
}

static void
test_timeout_hides_query (void)
{
  g_autofree gchar *u = url ("/hang?Signature=SECRETSIG&Expires=1");
  VhHttpRequest req = { .method = "GET", .url = u, .timeout_ms = 400 };
  GError *error = NULL;
  gint64 start = g_get_monotonic_time ();
  g_assert_null (vh_http_send (&req, NULL, &error));
  g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, <, 3000);
  g_assert_cmpint (vh_error_class (error), ==, VH_ERROR_TRANSIENT);
  g_assert_nonnull (strstr (error->message, "GET http://127.0.0.1"));
  g_assert_nonnull (strstr (error->message, "/hang"));
  g_assert_null (strstr (error->message, "SECRETSIG"));
  g_clear_error (&error);
}

static void
test_connect_refused (void)
{
  /* A port nobody listens on (bound then closed). */
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0);
  g_socket_bind (s, addr, TRUE, NULL);
  GSocketAddress *bound = g_socket_get_local_address (s, NULL);
  guint p = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (s, NULL);
  g_object_unref (s);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_autofree gchar *u = g_strdup_printf ("http://127.0.0.1:%u/x", p);
  VhHttpRequest req = { .url = u };
  GError *error = NULL;
  g_assert_null (vh_http_send (&req, NULL, &error));
  g_assert_cmpint (vh_error_class (error), ==, VH_ERROR_TRANSIENT);
  g_clear_error (&error);
}

static gpointer
cancel_soon (gpointer c)
{
  g_usleep (200 * 1000);
  g_cancellable_cancel (c);
  return NULL;
}

static void
test_cancel (void)
{
  g_autofree gchar *u = url ("/hang");
  GCancellable *cancel = g_cancellable_new ();
  GThread *t = g_thread_new ("c", cancel_soon, cancel);
  VhHttpRequest req = { .url = u, .timeout_ms = 10000 };
  GError *error = NULL;
  gint64 start = g_get_monotonic_time ();
  g_assert_null (vh_http_send (&req, cancel, &error));
  g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, <, 2500);
  g_assert_cmpint (vh_error_class (error), ==, VH_ERROR_CANCELLED);
  g_clear_error (&error);
  g_thread_join (t);
  g_object_unref (cancel);
}

static void
test_post_body_and_headers (void)
{
  g_autofree gchar *u = url ("/echo");
  const char *headers[] = { "Content-Type: application/json", "X-Custom: 42", NULL };
  const char *body = "{\"a\":1}";
  VhHttpRequest req = { .url = u, .headers = headers, .body = body, .body_len = strlen (body) };
  g_autoptr(VhHttpResponse) r = vh_http_send (&req, NULL, NULL);
  g_assert_nonnull (r);
  g_autofree gchar *text = g_strndup (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body));
  g_assert_true (g_str_has_prefix (text, "POST /echo"));
  g_assert_nonnull (strstr (text, "X-Custom: 42"));
  g_assert_nonnull (strstr (text, "{\"a\":1}"));
  g_assert_null (strstr (text, "Expect: 100"));
}

static void
test_multipart (void)
{
  g_autofree gchar *u = url ("/echo");
  GBytes *data = g_bytes_new_static ("PNGDATA", 7);
  VhHttpPart parts[] = {
    { .name = "key", .value = "dir/file.png" },
    { .name = "file", .data = data, .filename = "file.png", .content_type = "image/png" },
    { .name = NULL },
  };
  VhHttpRequest req = { .url = u, .parts = parts };
  g_autoptr(VhHttpResponse) r = vh_http_send (&req, NULL, NULL);
  g_assert_nonnull (r);
  g_autofree gchar *text = g_strndup (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body));
  g_assert_nonnull (strstr (text, "multipart/form-data"));
  char *k = strstr (text, "name=\"key\"");
  char *f = strstr (text, "name=\"file\"; filename=\"file.png\"");
  g_assert_nonnull (k);
  g_assert_nonnull (f);
  g_assert_true (k < f);
  g_assert_nonnull (strstr (text, "PNGDATA"));
  g_bytes_unref (data);
}

static void
test_redirect (void)
{
  /* Followed when the request has no headers of its own (downloads)... */
  g_autofree gchar *u = url ("/redirect");
  VhHttpRequest req = { .url = u };
  g_autoptr(VhHttpResponse) r = vh_http_send (&req, NULL, NULL);
  g_assert_cmpint (r->status, ==, 200);
  g_assert_cmpstr (vh_http_response_header (r, "x-test"), ==, "Value");
  /* ...never with a key header that could travel to another host. */
  const char *headers[] = { "x-key: secret", NULL };
  VhHttpRequest req2 = { .url = u, .headers = headers };
  g_autoptr(VhHttpResponse) r2 = vh_http_send (&req2, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 302);
}

static void
test_status_classes (void)
{
  g_assert_cmpint (vh_http_status_class (401), ==, VH_ERROR_AUTH);
  g_assert_cmpint (vh_http_status_class (403), ==, VH_ERROR_AUTH);
  g_assert_cmpint (vh_http_status_class (429), ==, VH_ERROR_QUOTA);
  g_assert_cmpint (vh_http_status_class (408), ==, VH_ERROR_TRANSIENT);
  g_assert_cmpint (vh_http_status_class (500), ==, VH_ERROR_TRANSIENT);
  g_assert_cmpint (vh_http_status_class (503), ==, VH_ERROR_TRANSIENT);
  g_assert_cmpint (vh_http_status_class (400), ==, VH_ERROR_INVALID_INPUT);
  g_assert_cmpint (vh_http_status_class (422), ==, VH_ERROR_INVALID_INPUT);
}

static void
test_bad_scheme (void)
{
  VhHttpRequest req = { .url = "file:///etc/passwd" };
  GError *error = NULL;
  g_assert_null (vh_http_send (&req, NULL, &error));
  g_assert_cmpint (vh_error_class (error), ==, VH_ERROR_INVALID_INPUT);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  vh_http_global_init ();
  start_server ();
  g_test_add_func ("/http/get-headers", test_get_headers);
  g_test_add_func ("/http/reuse-many", test_reuse_many);
  g_test_add_func ("/http/threads", test_threads);
  g_test_add_func ("/http/retry-after-seconds", test_retry_after_seconds);
  g_test_add_func ("/http/retry-after-date", test_retry_after_date);
  g_test_add_func ("/http/cap-streaming", test_cap_streaming);
  g_test_add_func ("/http/cap-content-length", test_cap_content_length);
  g_test_add_func ("/http/truncated", test_truncated);
  g_test_add_func ("/http/timeout-hides-query", test_timeout_hides_query);
  g_test_add_func ("/http/connect-refused", test_connect_refused);
  g_test_add_func ("/http/cancel", test_cancel);
  g_test_add_func ("/http/post-body-and-headers", test_post_body_and_headers);
  g_test_add_func ("/http/multipart", test_multipart);
  g_test_add_func ("/http/redirect", test_redirect);
  g_test_add_func ("/http/status-classes", test_status_classes);
  g_test_add_func ("/http/bad-scheme", test_bad_scheme);
  return g_test_run ();
}
