/* http.c — the one HTTP client of vhost, on libcurl.
 *
 * Policy lives here so plugins cannot get it wrong: TLS verified, no
 * signals (threads), connect and total timeouts, a response-size cap that
 * aborts the transfer while it is being received, cancellation through the
 * progress callback, and no retries (the scheduler owns the one retry loop).
 *
 * Each thread owns one easy handle, kept in a GPrivate and reused, so
 * keep-alive connections, the DNS cache and TLS sessions survive between the
 * calls of one worker while no connection cache is ever shared between two
 * threads (a long-standing libcurl hazard).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <curl/curl.h>

#include "vh-private.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

#define LOG_DOMAIN "http"

#define DEFAULT_CONNECT_TIMEOUT_MS (10 * 1000)
#define DEFAULT_TIMEOUT_MS         (120 * 1000)
#define DEFAULT_MAX_RESPONSE       ((gsize) 64 * 1024 * 1024)
#define MAX_REDIRECTS              5

/* ------------------------------------------------------------ global state */

static gsize global_init_done = 0;

/* curl_global_init is not thread-safe on older libcurl: the host calls this
 * once before any worker starts; vh_http_send calls it too so that tests and
 * tools that skip the host still work (g_once makes the second call free). */
void
vh_http_global_init (void)
{
  if (g_once_init_enter (&global_init_done))
    {
      CURLcode rc = curl_global_init (CURL_GLOBAL_DEFAULT);
      if (rc != CURLE_OK)
        g_error ("curl_global_init failed: %s", curl_easy_strerror (rc));
      g_once_init_leave (&global_init_done, 1);
    }
}

static void
easy_handle_free (gpointer handle)
{
  curl_easy_cleanup (handle);
}

/* One handle per thread, freed when the thread exits. */
static GPrivate thread_handle = G_PRIVATE_INIT (easy_handle_free);

static CURL *
thread_easy_handle (void)
{
  CURL *curl = g_private_get (&thread_handle);
  if (curl == NULL)
    {
      curl = curl_easy_init ();
      if (curl != NULL)
        g_private_set (&thread_handle, curl);
    }
  else
    {
      /* Options back to defaults; connections and caches are kept. */
      curl_easy_reset (curl);
    }
  return curl;
}

/* ------------------------------------------------------------ helpers */

/* The URL for messages: userinfo, query and fragment removed, because
 * signed result URLs carry their credentials in the query string. */
static gchar *
url_for_message (const char *url)
{
  if (url == NULL)
    return g_strdup ("(null)");
  gsize end = strcspn (url, "?#");
  gchar *s = g_strndup (url, end);
  char *scheme = strstr (s, "://");
  char *auth_start = scheme != NULL ? scheme + 3 : s;
  char *path = strchr (auth_start, '/');
  char *at = strchr (auth_start, '@');
  if (at != NULL && (path == NULL || at < path))
    memmove (auth_start, at + 1, strlen (at + 1) + 1);
  return s;
}

/* Retry-After is either delta-seconds or an HTTP date (RFC 9110 10.2.3). */
static gint64
parse_retry_after (const char *value)
{
  while (*value == ' ' || *value == '\t')
    value++;
  if (*value == '\0')
    return -1;
  if (g_ascii_isdigit (*value))
    {
      char *end = NULL;
      errno = 0;
      guint64 secs = g_ascii_strtoull (value, &end, 10);
      while (end != NULL && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
      if (errno != 0 || end == NULL || *end != '\0')
        return -1;
      /* Cap at a day: a larger value is a server bug, not advice. */
      if (secs > 86400)
        secs = 86400;
      return (gint64) secs * 1000;
    }
  time_t when = curl_getdate (value, NULL);
  if (when == (time_t) -1)
    return -1;
  gint64 delta_ms = ((gint64) when * 1000) - g_get_real_time () / 1000;
  return CLAMP (delta_ms, 0, (gint64) 86400 * 1000);
}

/* ------------------------------------------------------------ transfer state */

typedef struct {
  GByteArray   *body;
  gsize         max_bytes;
  gboolean      over_cap;
  GPtrArray    *headers;        /* "name: value", lower-case names; last response only */
  GCancellable *cancel;
} Transfer;

static size_t
on_body (char *data, size_t size, size_t nmemb, void *user)
{
  Transfer *t = user;
  gsize n = size * nmemb;
  if (t->body->len + n > t->max_bytes)
    {
      /* Returning less than given aborts the transfer (CURLE_WRITE_ERROR):
       * the cap bounds memory while receiving, not after. */
      t->over_cap = TRUE;
      return 0;
    }
  g_byte_array_append (t->body, (const guint8 *) data, n);
  return n;
}

static size_t
on_header (char *data, size_t size, size_t nitems, void *user)
{
  Transfer *t = user;
  gsize n = size * nitems;
  /* A status line starts a new response (redirect, 100 Continue): only the
   * final response's headers are reported. */
  if (n >= 5 && g_ascii_strncasecmp (data, "HTTP/", 5) == 0)
    {
      g_ptr_array_set_size (t->headers, 0);
      return n;
    }
  const char *colon = memchr (data, ':', n);
  if (colon == NULL)
    return n;
  gchar *name = g_ascii_strdown (data, colon - data);
  g_strstrip (name);
  gchar *value = g_strndup (colon + 1, n - (colon + 1 - data));
  g_strstrip (value);
  if (*name != '\0')
    g_ptr_array_add (t->headers, g_strdup_printf ("%s: %s", name, value));
  g_free (name);
  g_free (value);
  return n;
}

static int
on_progress (void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  Transfer *t = user;
  /* Non-zero aborts with CURLE_ABORTED_BY_CALLBACK.  libcurl calls this at
   * least once a second even on a silent connection. */
  return t->cancel != NULL && g_cancellable_is_cancelled (t->cancel) ? 1 : 0;
}

/* ------------------------------------------------------------ error mapping */

/* Maps a curl failure to the host's classes.  Retrying is decided from the
 * class alone, so the question is "can the same call succeed later?". */
static VhErrorClass
curl_error_class (CURLcode rc, const Transfer *t)
{
  if (t->over_cap)
    /* The ABI contract: a body over the cap is INVALID_INPUT.  The cap is a
     * property of the request (what we asked for and how big we let it be),
     * so the same call brings the same oversized answer: retrying would
     * only pay the provider again.  A body cut short by the server is a
     * different failure (CURLE_PARTIAL_FILE, TRANSIENT below). */
    return VH_ERROR_INVALID_INPUT;
  switch (rc)
    {
    case CURLE_ABORTED_BY_CALLBACK:
      return t->cancel != NULL && g_cancellable_is_cancelled (t->cancel)
             ? VH_ERROR_CANCELLED : VH_ERROR_INTERNAL;
    case CURLE_FILESIZE_EXCEEDED:            /* Content-Length announced over the cap */
      return VH_ERROR_INVALID_INPUT;
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:            /* handshake cut by a reset */
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_TOO_MANY_REDIRECTS:
#if LIBCURL_VERSION_NUM >= 0x074200
    case CURLE_HTTP3:
#endif
      return VH_ERROR_TRANSIENT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      /* A certificate that does not verify will not verify on the next
       * try either, and every row of this instance would hit it: stop
       * the instance (fallbacks take over) rather than hammer a host we
       * cannot trust.  AUTH is the class that means exactly that. */
      return VH_ERROR_AUTH;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return VH_ERROR_INVALID_INPUT;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_NOT_BUILT_IN:
    case CURLE_FAILED_INIT:
      return VH_ERROR_INTERNAL;
    default:
      /* Anything else on the wire (proxy, TLS read errors...) is most
       * likely a network condition. */
      return VH_ERROR_TRANSIENT;
    }
}

VhErrorClass
vh_http_status_class (glong status)
{
  if (status == 401 || status == 403)
    return VH_ERROR_AUTH;
  if (status == 429)
    return VH_ERROR_QUOTA;
  if (status == 408 || (status >= 500 && status <= 599))
    return VH_ERROR_TRANSIENT;
  if (status >= 400 && status <= 499)
    return VH_ERROR_INVALID_INPUT;
  /* 1xx/2xx/3xx are not failures; a caller asking treats them as an
   * unexpected answer. */
  return VH_ERROR_INTERNAL;
}

/* ------------------------------------------------------------ request setup */

static gboolean
has_header (const char **headers, const char *name)
{
  gsize len = strlen (name);
  for (const char **h = headers; h != NULL && *h != NULL; h++)
    if (g_ascii_strncasecmp (*h, name, len) == 0 && (*h)[len] == ':')
      return TRUE;
  return FALSE;
}

static curl_mime *
build_mime (CURL *curl, const VhHttpPart *parts, GError **error)
{
  curl_mime *mime = curl_mime_init (curl);
  for (const VhHttpPart *p = parts; p->name != NULL; p++)
    {
      curl_mimepart *part = curl_mime_addpart (mime);
      CURLcode rc = curl_mime_name (part, p->name);
      if (rc == CURLE_OK && p->value != NULL)
        rc = curl_mime_data (part, p->value, CURL_ZERO_TERMINATED);
      else if (rc == CURLE_OK)
        {
          gsize size = 0;
          const void *data = p->data != NULL ? g_bytes_get_data (p->data, &size) : "";
          rc = curl_mime_data (part, data, size);
          if (rc == CURLE_OK)
            rc = curl_mime_filename (part, p->filename != NULL ? p->filename : "file");
          if (rc == CURLE_OK)
            rc = curl_mime_type (part, p->content_type != NULL ? p->content_type
                                                               : "application/octet-stream");
        }
      if (rc != CURLE_OK)
        {
          vh_set_error (error, VH_ERROR_INTERNAL, -1, "multipart part '%s': %s",
                        p->name, curl_easy_strerror (rc));
          curl_mime_free (mime);
          return NULL;
        }
    }
  return mime;
}

/* ------------------------------------------------------------ public API */

VhHttpResponse *
vh_http_send (const VhHttpRequest *request, GCancellable *cancel, GError **error)
{
  g_return_val_if_fail (request != NULL && request->url != NULL, NULL);

  vh_http_global_init ();

  const char *method = request->method;
  if (method == NULL)
    method = (request->body != NULL || request->parts != NULL) ? "POST" : "GET";
  g_autofree gchar *shown_url = url_for_message (request->url);

  if (cancel != NULL && g_cancellable_is_cancelled (cancel))
    {
      vh_set_error (error, VH_ERROR_CANCELLED, -1, "%s %s: cancelled", method, shown_url);
      return NULL;
    }

  CURL *curl = thread_easy_handle ();
  if (curl == NULL)
    {
      vh_set_error (error, VH_ERROR_INTERNAL, -1, "%s %s: curl_easy_init failed", method, shown_url);
      return NULL;
    }

  Transfer t = {
    .body = g_byte_array_new (),
    .max_bytes = request->max_response_bytes != 0 ? request->max_response_bytes : DEFAULT_MAX_RESPONSE,
    .headers = g_ptr_array_new_with_free_func (g_free),
    .cancel = cancel,
  };
  char errbuf[CURL_ERROR_SIZE] = "";
  struct curl_slist *headers = NULL;
  curl_mime *mime = NULL;
  VhHttpResponse *response = NULL;

  curl_easy_setopt (curl, CURLOPT_URL, request->url);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYHOST, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt (curl, CURLOPT_REDIR_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS,
                    (long) (request->connect_timeout_ms > 0 ? request->connect_timeout_ms
                                                            : DEFAULT_CONNECT_TIMEOUT_MS));
  curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS,
                    (long) (request->timeout_ms > 0 ? request->timeout_ms : DEFAULT_TIMEOUT_MS));
  /* Rejects an announced Content-Length over the cap before any byte. */
  curl_easy_setopt (curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) t.max_bytes);
  curl_easy_setopt (curl, CURLOPT_USERAGENT, "vhost/" PACKAGE_VERSION);
  curl_easy_setopt (curl, CURLOPT_ACCEPT_ENCODING, "");   /* the cap applies to decoded bytes */
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt (curl, CURLOPT_XFERINFODATA, &t);

  /* Redirects are followed only for requests without headers of their own
   * (result downloads): libcurl keeps Authorization on the first host, but a
   * custom header such as BFL's x-key would travel to any redirect target. */
  if (request->headers == NULL || request->headers[0] == NULL)
    {
      curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt (curl, CURLOPT_MAXREDIRS, (long) MAX_REDIRECTS);
    }

  for (const char **h = request->headers; h != NULL && *h != NULL; h++)
    headers = curl_slist_append (headers, *h);
  /* No 100-continue round trip before large bodies (uploads): servers that
   * answer an error early still do so, without the extra second of wait. */
  if ((request->body != NULL || request->parts != NULL) && !has_header (request->headers, "Expect"))
    headers = curl_slist_append (headers, "Expect:");
  if (headers != NULL)
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);

  if (request->parts != NULL)
    {
      mime = build_mime (curl, request->parts, error);
      if (mime == NULL)
        goto out;
      curl_easy_setopt (curl, CURLOPT_MIMEPOST, mime);
      if (g_strcmp0 (method, "POST") != 0)
        curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
    }
  else if (request->body != NULL)
    {
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) request->body_len);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, request->body);
      if (g_strcmp0 (method, "POST") != 0)
        curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
    }
  else if (g_strcmp0 (method, "GET") == 0)
    curl_easy_setopt (curl, CURLOPT_HTTPGET, 1L);
  else if (g_strcmp0 (method, "HEAD") == 0)
    curl_easy_setopt (curl, CURLOPT_NOBODY, 1L);
  else if (g_strcmp0 (method, "POST") == 0)
    {
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) 0);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, "");
    }
  else
    curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);

  gint64 started = g_get_monotonic_time ();
  CURLcode rc = curl_easy_perform (curl);
  gint64 elapsed_ms = (g_get_monotonic_time () - started) / 1000;

  if (rc != CURLE_OK)
    {
      VhErrorClass klass = curl_error_class (rc, &t);
      /* The error buffer may quote the URL; keep it only when it cannot
       * contain the query string we are hiding. */
      const char *detail = errbuf[0] != '\0' && strchr (errbuf, '?') == NULL
                           ? errbuf : curl_easy_strerror (rc);
      if (klass == VH_ERROR_CANCELLED)
        vh_set_error (error, klass, -1, "%s %s: cancelled", method, shown_url);
      else if (t.over_cap || rc == CURLE_FILESIZE_EXCEEDED)
        vh_set_error (error, klass, -1, "%s %s: response larger than the %" G_GSIZE_FORMAT
                      "-byte cap, transfer aborted", method, shown_url, t.max_bytes);
      else
        vh_set_error (error, klass, -1, "%s %s: %s (curl %d, after %" G_GINT64_FORMAT " ms)",
                      method, shown_url, detail, (int) rc, elapsed_ms);
      vh_log (VH_LOG_DEBUG, LOG_DOMAIN, "%s %s failed: curl %d %s", method, shown_url, (int) rc,
              curl_easy_strerror (rc));
      goto out;
    }

  response = g_new0 (VhHttpResponse, 1);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &response->status);
  const char *ctype = NULL;
  if (curl_easy_getinfo (curl, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype != NULL)
    response->content_type = g_strdup (ctype);
  response->body = g_byte_array_free_to_bytes (t.body);
  t.body = NULL;
  g_ptr_array_add (t.headers, NULL);
  response->headers = (gchar **) g_ptr_array_free (t.headers, FALSE);
  t.headers = NULL;
  const char *ra = vh_http_response_header (response, "retry-after");
  response->retry_after_ms = ra != NULL ? parse_retry_after (ra) : -1;

  vh_log (VH_LOG_DEBUG, LOG_DOMAIN, "%s %s -> %ld (%" G_GSIZE_FORMAT " bytes, %" G_GINT64_FORMAT " ms)",
          method, shown_url, response->status, g_bytes_get_size (response->body), elapsed_ms);

out:
  /* The handle outlives this call: drop every pointer into our stack
   * before returning (curl_easy_reset on the next call does the rest). */
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, NULL);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt (curl, CURLOPT_MIMEPOST, NULL);
  if (mime != NULL)
    curl_mime_free (mime);
  curl_slist_free_all (headers);
  if (t.body != NULL)
    g_byte_array_unref (t.body);
  if (t.headers != NULL)
    g_ptr_array_unref (t.headers);
  return response;
}

void
vh_http_response_free (VhHttpResponse *response)
{
  if (response == NULL)
    return;
  if (response->body != NULL)
    g_bytes_unref (response->body);
  g_free (response->content_type);
  g_strfreev (response->headers);
  g_free (response);
}

const char *
vh_http_response_header (const VhHttpResponse *response, const char *name)
{
  g_return_val_if_fail (response != NULL && name != NULL, NULL);
  gsize len = strlen (name);
  for (gchar **h = response->headers; h != NULL && *h != NULL; h++)
    if (g_ascii_strncasecmp (*h, name, len) == 0 && (*h)[len] == ':')
      return *h + len + (((*h)[len + 1] == ' ') ? 2 : 1);
  return NULL;
}

/* One GET of a result; *again says whether another attempt may succeed. */
static VhImage *
download_once (const char *url, gint64 connect_timeout_ms, gint64 timeout_ms, gsize max_bytes,
               GCancellable *cancel, gboolean *again, GError **error)
{
  *again = FALSE;
  VhHttpRequest req = {
    .method = "GET",
    .url = url,
    .connect_timeout_ms = connect_timeout_ms,
    .timeout_ms = timeout_ms,
    .max_response_bytes = max_bytes,
  };
  GError *local = NULL;
  g_autoptr(VhHttpResponse) resp = vh_http_send (&req, cancel, &local);
  if (resp == NULL)
    {
      *again = vh_error_class (local) == VH_ERROR_TRANSIENT;   /* reset, timeout; not a body over the cap */
      g_prefix_error (&local, "download result: ");
      g_propagate_error (error, local);
      return NULL;
    }
  if (resp->status != 200)
    {
      /* Even a 403 is TRANSIENT here, never AUTH: the storage host never
       * saw our key; the URL expired or the copy is gone. */
      VhErrorClass klass = resp->status == 429 ? VH_ERROR_QUOTA : VH_ERROR_TRANSIENT;
      *again = resp->status == 429 || resp->status == 408 || resp->status >= 500;
      vh_set_error (error, klass, resp->retry_after_ms, "download result: HTTP %ld%s", resp->status,
                    resp->status == 403 || resp->status == 404 || resp->status == 410
                    ? " (result URL expired or gone)" : "");
      return NULL;
    }
  VhImage *image = vh_image_new_from_bytes (resp->body, &local);
  if (image != NULL)
    {
      /* A body cut short without a Content-Length still sniffs as an image:
       * decoding it is the only proof it is whole. */
      g_autoptr(VhPixels) px = vh_image_decode (image, &local);
      if (px != NULL)
        {
          image->width = px->width;
          image->height = px->height;
          return image;
        }
      vh_image_free (image);
    }
  *again = TRUE;   /* cut short on the way */
  vh_set_error (error, VH_ERROR_TRANSIENT, -1, "download result: not a whole image (%" G_GSIZE_FORMAT
                " bytes): %s", g_bytes_get_size (resp->body), local != NULL ? local->message : "?");
  g_clear_error (&local);
  return NULL;
}

#define DOWNLOAD_ATTEMPTS 3
#define DOWNLOAD_BACKOFF_MS 250

VhImage *
vh_http_download_image (const char *url, gint64 connect_timeout_ms, gint64 timeout_ms, gsize max_bytes,
                        GCancellable *cancel, GError **error)
{
  if (url == NULL || !(g_str_has_prefix (url, "https://") || g_str_has_prefix (url, "http://")))
    {
      vh_set_error (error, VH_ERROR_INTERNAL, -1, "result: not an http(s) URL");
      return NULL;
    }
  /* The image exists and its URL stays valid for hours: a gateway error or
   * a cut transfer is retried here, because giving up would make the caller
   * pay a whole new generation (and its quota slot) for one lost copy. */
  gint64 backoff_ms = DOWNLOAD_BACKOFF_MS;
  for (guint attempt = 1;; attempt++)
    {
      gboolean again = FALSE;
      GError *local = NULL;
      VhImage *image = download_once (url, connect_timeout_ms, timeout_ms, max_bytes, cancel, &again, &local);
      if (image != NULL)
        return image;
      if (!again || attempt >= DOWNLOAD_ATTEMPTS)
        {
          if (attempt > 1)
            g_prefix_error (&local, "attempt %u of %u: ", attempt, DOWNLOAD_ATTEMPTS);
          g_propagate_error (error, local);
          return NULL;
        }
      gint64 wait = MAX (backoff_ms, vh_error_retry_after_ms (local));
      vh_log (VH_LOG_DEBUG, LOG_DOMAIN, "%s; trying again in %" G_GINT64_FORMAT " ms", local->message, wait);
      g_error_free (local);
      if (!vh_sleep_ms (wait, cancel, error))
        return NULL;
      backoff_ms *= 2;
    }
}
