/* flux-api.c — JSON over HTTP to BFL, HTTP status classification, result
 * download. */
#include <string.h>
#include "flux-private.h"

#define MAX_JSON_BYTES     ((gsize) 4 * 1024 * 1024)
#define MAX_DOWNLOAD_BYTES ((gsize) 48 * 1024 * 1024)
#define MIN_DOWNLOAD_MS    15000

gint64
flux_remaining_ms (const FluxCall *c)
{
  return (c->deadline_us - g_get_monotonic_time ()) / 1000;
}

gint64
flux_timeout_ms (const FluxCall *c, gint64 wanted_ms)
{
  return CLAMP (flux_remaining_ms (c), 1000, wanted_ms);
}

/* A failed HTTP exchange with the API (bfl-flux.md, section 5). */
void
flux_set_http_error (GError **error, const VhHttpResponse *resp, const char *what)
{
  json_object *body = vh_json_parse (resp->body, what, NULL);   /* may be HTML or empty */
  json_object *detail = vh_json_member (body, "detail");
  g_autofree gchar *text = NULL;
  if (detail != NULL && json_object_is_type (detail, json_type_string))
    text = g_strdup (json_object_get_string (detail));
  else if (detail != NULL)
    text = g_strdup (json_object_to_json_string_ext (detail, JSON_C_TO_STRING_PLAIN));
  else if (vh_json_str (body, "message") != NULL)
    text = g_strdup (vh_json_str (body, "message"));
  else if (vh_json_str (body, "error") != NULL)
    text = g_strdup (vh_json_str (body, "error"));

  VhErrorClass klass;
  gint64 retry_after = resp->retry_after_ms;
  switch (resp->status)
    {
    case 402:
      /* Out of credits.  Not QUOTA: waiting does not refill an account,
       * and QUOTA would keep every row retrying until someone pays.  AUTH
       * stops this instance at once so the route's fallback takes over. */
      klass = VH_ERROR_AUTH;
      break;
    case 404:
      /* On submit: no such model endpoint; every row would fail alike. */
      klass = VH_ERROR_AUTH;
      break;
    case 422:
      /* A field list is schema validation; a plain string about the key
       * is a malformed key (seen by integrators). */
      klass = detail != NULL && json_object_is_type (detail, json_type_string)
              && text != NULL && (strstr (text, "key") != NULL || strstr (text, "Key") != NULL)
              ? VH_ERROR_AUTH : VH_ERROR_INVALID_INPUT;
      break;
    case 429:
      klass = VH_ERROR_QUOTA;
      if (retry_after < 0)
        {
          /* The header is authoritative; a body hint is a fallback only. */
          json_object *ra = vh_json_member (body, "retry_after");
          if (ra != NULL && (json_object_is_type (ra, json_type_int) || json_object_is_type (ra, json_type_double)))
            retry_after = (gint64) (json_object_get_double (ra) * 1000);
        }
      break;
    default:
      klass = vh_http_status_class (resp->status);
      if (resp->status < 400)
        klass = VH_ERROR_INTERNAL;
      break;
    }
  if (text != NULL && strlen (text) > 300)
    strcpy (text + 297, "...");
  vh_set_error (error, klass, klass == VH_ERROR_QUOTA || klass == VH_ERROR_TRANSIENT ? retry_after : -1,
                "%s: HTTP %ld%s%s", what, resp->status, text != NULL ? ": " : "", text != NULL ? text : "");
  json_object_put (body);
}

json_object *
flux_request_json (FluxCall *c, const char *method, const char *url, json_object *body, gboolean send_key,
                   const char *what, VhHttpResponse **response_out, GError **error)
{
  Flux *f = c->f;
  const char *headers[5];
  guint n = 0;
  if (send_key)
    headers[n++] = f->key_header;
  headers[n++] = "accept: application/json";
  if (body != NULL)
    headers[n++] = "Content-Type: application/json";
  headers[n] = NULL;

  const char *text = body != NULL ? json_object_to_json_string_ext (body, JSON_C_TO_STRING_PLAIN
                                                                          | JSON_C_TO_STRING_NOSLASHESCAPE)
                                  : NULL;
  VhHttpRequest req = {
    .method = method,
    .url = url,
    .headers = headers,
    .body = text,
    .body_len = text != NULL ? strlen (text) : 0,
    .connect_timeout_ms = f->connect_timeout_ms,
    .timeout_ms = flux_timeout_ms (c, f->request_timeout_ms),
    .max_response_bytes = MAX_JSON_BYTES,
  };
  return vh_provider_send_json (&req, c->cancel, what, flux_set_http_error, response_out, error);
}

/* result.sample expires after ten minutes: fetched at once, without the key
 * (the delivery host is a signed-URL CDN), and decoded to prove it whole. */
VhImage *
flux_download (FluxCall *c, const char *url, GError **error)
{
  /* result.sample expires after ten minutes: fetched at once. */
  return vh_http_download_image (url, c->f->connect_timeout_ms,
                                 CLAMP (flux_remaining_ms (c), MIN_DOWNLOAD_MS, MAX (c->f->request_timeout_ms, MIN_DOWNLOAD_MS)),
                                 MAX_DOWNLOAD_BYTES, c->cancel, error);
}
