/* wanx-api.c — JSON over HTTP to DashScope, error classification, downloads. */
#include <string.h>
#include "wanx-private.h"

/* Result images are PNGs of a few MB; the cap only stops a runaway body. */
#define MAX_DOWNLOAD_BYTES ((gsize) 48 * 1024 * 1024)
/* API answers are small JSON documents. */
#define MAX_JSON_BYTES     ((gsize) 4 * 1024 * 1024)
/* A download right after a long poll still gets this much time. */
#define MIN_DOWNLOAD_MS    15000

gint64
wanx_remaining_ms (const WanxCall *c)
{
  return (c->deadline_us - g_get_monotonic_time ()) / 1000;
}

/* Every exchange is bounded by its own timeout and by the row's deadline;
 * at least one second so a call made just before the deadline can answer. */
gint64
wanx_timeout_ms (const WanxCall *c, gint64 wanted_ms)
{
  return CLAMP (wanx_remaining_ms (c), 1000, wanted_ms);
}

/* ------------------------------------------------------------ errors */

static gboolean
code_in (const char *code, const char *const *list)
{
  for (; *list != NULL; list++)
    if (g_ascii_strcasecmp (code, *list) == 0)
      return TRUE;
  return FALSE;
}

/* DashScope's error codes (dashscope.md, section 7) mapped to the host's
 * classes.  `http_status` is 0 for codes found inside a task body. */
VhErrorClass
wanx_classify (glong http_status, const char *code, const char *message)
{
  static const char *const moderation[] = {
    "DataInspectionFailed", "data_inspection_failed", "IPInfringementSuspect", "CustomRoleBlocked", NULL };
  static const char *const account[] = {
    /* bad key, wrong region/workspace, not entitled, unpaid, unknown model:
     * no retry can help and every row of the instance would fail alike. */
    "InvalidApiKey", "invalid_api_key", "NOT AUTHORIZED", "Arrearage", "CommodityNotPurchased",
    "PrepaidBillOverdue", "PostpaidBillOverdue", "AccessDenied.Unpurchased", "Model.AccessDenied",
    "Workspace.AccessDenied", "AllocationQuota.FreeTierOnly", "ModelNotFound", "model_not_found",
    "model_not_supported", "NotFound", NULL };
  static const char *const fetch_failed[] = {
    "BadRequest.InputDownloadFailed", "InvalidURL.Timeout", "InvalidURL.ConnectionRefused", NULL };
  static const char *const server[] = {
    "SystemError", "ModelServiceFailed", "RequestTimeOut", "ModelServingError", "ModelUnavailable", NULL };
  static const char *const throttled[] = {
    "limit_requests", "limit_burst_rate", "insufficient_quota", NULL };
  const char *m = message != NULL ? message : "";

  if (code == NULL || *code == '\0')
    {
      if (strstr (m, "inappropriate content") != NULL || strstr (m, "green network") != NULL)
        return VH_ERROR_REJECTED;
      return http_status >= 400 ? vh_http_status_class (http_status) : VH_ERROR_INTERNAL;
    }
  if (code_in (code, moderation) || strstr (m, "inappropriate content") != NULL
      || strstr (m, "green network") != NULL)
    return VH_ERROR_REJECTED;
  if (code_in (code, account))
    return VH_ERROR_AUTH;
  if (g_str_has_prefix (code, "Throttling") || code_in (code, throttled))
    /* "Free allocated quota exceeded": a model without a paid tier is used
     * up for good; waiting would never end. */
    return strstr (m, "Free allocated quota exceeded") != NULL ? VH_ERROR_AUTH : VH_ERROR_QUOTA;
  if (g_ascii_strcasecmp (code, "AccessDenied") == 0)
    {
      if (strstr (m, "synchronous calls") != NULL)   /* also matches "asynchronous" */
        return VH_ERROR_INVALID_INPUT;                /* our request is wrong: fail loudly */
      if (strstr (m, "Policy expired") != NULL)
        return VH_ERROR_TRANSIENT;
      return VH_ERROR_AUTH;
    }
  /* The server could not fetch our input: a network condition on its side. */
  if (code_in (code, fetch_failed)
      || (g_str_has_prefix (code, "InvalidParameter.DataInspection") && strstr (m, "download") != NULL)
      || (g_str_has_prefix (code, "InternalError") && strstr (m, "download") != NULL))
    return VH_ERROR_TRANSIENT;
  if (g_str_has_prefix (code, "InternalError"))
    /* On a 400 the prefix does not mean a server fault (dashscope.md, 9). */
    return http_status == 400 ? VH_ERROR_INVALID_INPUT : VH_ERROR_TRANSIENT;
  if (code_in (code, server))
    return VH_ERROR_TRANSIENT;
  if (g_str_has_prefix (code, "InvalidParameter") || g_str_has_prefix (code, "BadRequest")
      || g_str_has_prefix (code, "InvalidFile") || g_str_has_prefix (code, "InvalidImage")
      || g_str_has_prefix (code, "InvalidURL") || g_ascii_strcasecmp (code, "invalid_parameter_error") == 0)
    return VH_ERROR_INVALID_INPUT;
  return http_status >= 400 ? vh_http_status_class (http_status) : VH_ERROR_INTERNAL;
}

/* An error from a flat {code, message|msg, request_id} body or a task's
 * output.{code, message}; the response carries the HTTP status and
 * Retry-After (either may be absent). */
void
wanx_set_api_error (GError **error, const VhHttpResponse *response, json_object *body, const char *what)
{
  const char *code = vh_json_str (body, "code");
  const char *message = vh_json_str (body, "message");
  if (message == NULL)
    message = vh_json_str (body, "msg");
  if (code == NULL)
    {
      code = vh_json_str (body, "output.code");
      if (message == NULL)
        message = vh_json_str (body, "output.message");
    }
  const char *request_id = vh_json_str (body, "request_id");
  glong status = response != NULL ? response->status : 0;
  VhErrorClass klass = wanx_classify (status, code, message);
  gint64 retry_after = response != NULL ? response->retry_after_ms : -1;

  GString *s = g_string_new (what);
  if (status != 0)
    g_string_append_printf (s, ": HTTP %ld", status);
  g_string_append_printf (s, ": %s", code != NULL ? code : "(no code)");
  if (message != NULL)
    g_string_append_printf (s, ": %s", message);
  if (request_id != NULL)
    g_string_append_printf (s, " (request %s)", request_id);
  vh_set_error (error, klass, klass == VH_ERROR_QUOTA || klass == VH_ERROR_TRANSIENT ? retry_after : -1,
                "%s", s->str);
  g_string_free (s, TRUE);
}

/* ------------------------------------------------------------ requests */

/* One JSON exchange with the API.  Returns the parsed object of a 2xx
 * answer; otherwise NULL with a classified error.  *response_out (when
 * given) receives the response whenever one arrived, for callers that
 * look at the status (the poll loop keeps going on 5xx). */
/* A non-2xx answer: its body is DashScope's {code, message} (or HTML). */
static void
map_api_error (GError **error, const VhHttpResponse *resp, const char *what)
{
  json_object *err_body = vh_json_parse (resp->body, what, NULL);
  wanx_set_api_error (error, resp, err_body, what);
  json_object_put (err_body);
}

json_object *
wanx_request_json (WanxCall *c, const char *method, const char *path, json_object *body,
                   gboolean async, gint64 timeout_ms, const char *what,
                   VhHttpResponse **response_out, GError **error)
{
  Wanx *w = c->w;
  const char *headers[8];
  guint n = 0;
  headers[n++] = w->auth_header;
  headers[n++] = "Accept: application/json";
  if (body != NULL)
    headers[n++] = "Content-Type: application/json";
  if (async)
    headers[n++] = "X-DashScope-Async: enable";
  if (c->uses_oss && body != NULL)
    headers[n++] = "X-DashScope-OssResourceResolve: enable";
  if (w->workspace_header != NULL)
    headers[n++] = w->workspace_header;
  headers[n] = NULL;

  g_autofree gchar *url = g_strconcat (w->base_url, path, NULL);
  const char *text = body != NULL ? json_object_to_json_string_ext (body, JSON_C_TO_STRING_PLAIN
                                                                          | JSON_C_TO_STRING_NOSLASHESCAPE)
                                  : NULL;
  VhHttpRequest req = {
    .method = method,
    .url = url,
    .headers = headers,
    .body = text,
    .body_len = text != NULL ? strlen (text) : 0,
    .connect_timeout_ms = w->connect_timeout_ms,
    .timeout_ms = timeout_ms,
    .max_response_bytes = MAX_JSON_BYTES,
  };
  return vh_provider_send_json (&req, c->cancel, what, map_api_error, response_out, error);
}

/* The result lives at a signed OSS URL for 24 h: fetch it now, without the
 * DashScope key (OSS must never see it), and make sure it is a whole image. */
VhImage *
wanx_download (WanxCall *c, const char *url, GError **error)
{
  /* The result lives at a signed OSS URL for 24 h: fetched now. */
  return vh_http_download_image (url, c->w->connect_timeout_ms,
                                 CLAMP (wanx_remaining_ms (c), MIN_DOWNLOAD_MS, MAX (c->w->request_timeout_ms, MIN_DOWNLOAD_MS)),
                                 MAX_DOWNLOAD_BYTES, c->cancel, error);
}

void
wanx_note_string (const WanxCall *c, const char *key, const char *value)
{
  if (c->task == NULL || value == NULL)
    return;
  json_object *s = json_object_new_string (value);
  vh_task_note (c->task, key, json_object_to_json_string_ext (s, JSON_C_TO_STRING_PLAIN));
  json_object_put (s);
}
