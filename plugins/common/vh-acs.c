/* vh-acs.c — Alibaba Cloud POP (RPC-style OpenAPI) calls: one signed
 * request (V3 ACS3-HMAC-SHA256 by default, legacy RPC HMAC-SHA1 on demand),
 * the JSON answer, and the mapping of error codes to classes
 * (aliyun-signing.md section 3, aliyun-cloudauth-deepfake.md section 3). */
#include <string.h>
#include "vh-detect.h"

#define MAX_ANSWER_BYTES ((gsize) 1024 * 1024)

gboolean
vh_acs_client_init (VhAcsClient *c, const VhConfig *config, const VhDetectCommon *common, GError **error)
{
  memset (c, 0, sizeof *c);
  c->access_key_id = vh_config_get_secret (config, "access_key_id_env", error);
  if (c->access_key_id == NULL)
    return FALSE;
  c->access_key_secret = vh_config_get_secret (config, "access_key_secret_env", error);
  if (c->access_key_secret == NULL)
    {
      vh_acs_client_clear (c);
      return FALSE;
    }
  c->signing = g_strcmp0 (vh_config_get_string (config, "signing"), "rpc") == 0 ? VH_ACS_SIGN_RPC : VH_ACS_SIGN_V3;
  c->connect_timeout_ms = common->connect_timeout_ms;
  c->timeout_ms = common->request_timeout_ms;
  return TRUE;
}

static void
wipe (gchar **s)
{
  if (*s != NULL)
    memset (*s, 0, strlen (*s));
  g_clear_pointer (s, g_free);
}

void
vh_acs_client_clear (VhAcsClient *c)
{
  wipe (&c->access_key_id);
  wipe (&c->access_key_secret);
}

/* "name=value&..." percent-encoded, in the order given. */
static void
append_query (GString *url, const VhSignParam *p, gsize n, gboolean *first)
{
  for (gsize i = 0; i < n; i++)
    {
      g_autofree gchar *k = vh_sign_percent_encode (p[i].name, -1);
      g_autofree gchar *v = vh_sign_percent_encode (p[i].value != NULL ? p[i].value : "", -1);
      g_string_append_printf (url, "%c%s=%s", *first ? '?' : '&', k, v);
      *first = FALSE;
    }
}

json_object *
vh_acs_call (const VhAcsClient *c, const VhAcsCall *call, GCancellable *cancel, VhAcsReply *reply, GError **error)
{
  reply->status = 0;
  reply->retry_after_ms = -1;
  g_autoptr (GUri) uri = g_uri_parse (call->endpoint, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "%s: bad endpoint", call->action);
      return NULL;
    }
  /* Host as curl sends it (the port only when given), and the path the
   * request really goes to: "/" for the real endpoints. */
  g_autofree gchar *host = g_uri_get_port (uri) > 0
                           ? g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri))
                           : g_strdup (g_uri_get_host (uri));
  g_autofree gchar *path = g_strconcat (g_uri_get_path (uri), "/", NULL);
  g_autofree gchar *base = g_strconcat (call->endpoint, "/", NULL);

  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree gchar *nonce = vh_sign_nonce ();
  g_autofree gchar *stamp = vh_sign_iso8601 (now);
  g_autofree gchar *body = call->n_form > 0 ? vh_sign_form_body (call->form, call->n_form) : NULL;
  gsize body_len = body != NULL ? strlen (body) : 0;
  GString *url = g_string_new (base);
  gboolean first = TRUE;
  GPtrArray *headers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (headers, g_strdup_printf ("Host: %s", host));
  g_ptr_array_add (headers, g_strdup ("Accept: application/json"));
  if (body != NULL)
    g_ptr_array_add (headers, g_strdup ("Content-Type: application/x-www-form-urlencoded"));
  VhSignature sig;

  if (c->signing == VH_ACS_SIGN_V3)
    {
      g_autofree gchar *hash = vh_sign_sha256_hex (body, body_len);
      VhSignParam signed_headers[] = {
        { "host", host },
        { "x-acs-action", call->action },
        { "x-acs-version", call->version },
        { "x-acs-date", stamp },
        { "x-acs-signature-nonce", nonce },
        { "x-acs-content-sha256", hash },
        { "content-type", "application/x-www-form-urlencoded" },
      };
      VhAcs3Input in = { call->method, path, call->query, call->n_query, signed_headers,
                         G_N_ELEMENTS (signed_headers) - (body != NULL ? 0 : 1), body, body_len,
                         c->access_key_id, c->access_key_secret };
      vh_sign_acs3 (&in, &sig);
      for (guint i = 1; i < G_N_ELEMENTS (signed_headers) - 1; i++)
        g_ptr_array_add (headers, g_strdup_printf ("%s: %s", signed_headers[i].name, signed_headers[i].value));
      g_ptr_array_add (headers, g_strdup_printf ("Authorization: %s", sig.authorization));
      append_query (url, call->query, call->n_query, &first);
    }
  else
    {
      VhSignParam common[] = {
        { "Action", call->action }, { "Version", call->version }, { "Format", "JSON" },
        { "AccessKeyId", c->access_key_id }, { "SignatureMethod", "HMAC-SHA1" }, { "SignatureVersion", "1.0" },
        { "SignatureNonce", nonce }, { "Timestamp", stamp },
      };
      /* Body parameters are signed too, as the official SDK does. */
      GArray *all = g_array_new (FALSE, FALSE, sizeof (VhSignParam));
      g_array_append_vals (all, common, G_N_ELEMENTS (common));
      g_array_append_vals (all, call->query, (guint) call->n_query);
      g_array_append_vals (all, call->form, (guint) call->n_form);
      vh_sign_rpc (call->method, (const VhSignParam *) (gpointer) all->data, all->len, c->access_key_secret, &sig);
      g_array_free (all, TRUE);
      VhSignParam s = { "Signature", sig.signature };
      append_query (url, common, G_N_ELEMENTS (common), &first);
      append_query (url, call->query, call->n_query, &first);
      append_query (url, &s, 1, &first);
    }
  vh_signature_clear (&sig);
  g_ptr_array_add (headers, NULL);

  VhHttpRequest req = {
    .method = call->method,
    .url = url->str,
    .headers = (const char **) headers->pdata,
    .body = body,
    .body_len = body_len,
    .connect_timeout_ms = c->connect_timeout_ms,
    .timeout_ms = c->timeout_ms,
    .max_response_bytes = MAX_ANSWER_BYTES,
  };
  GError *local = NULL;
  VhHttpResponse *resp = vh_http_send (&req, cancel, &local);
  g_string_free (url, TRUE);
  g_ptr_array_unref (headers);
  if (resp == NULL)
    {
      g_prefix_error (&local, "%s: ", call->action);
      g_propagate_error (error, local);
      return NULL;
    }
  reply->status = resp->status;
  reply->retry_after_ms = resp->retry_after_ms;
  json_object *obj = vh_json_parse (resp->body, call->action, resp->status >= 200 && resp->status < 300 ? error : NULL);
  if (obj == NULL && !(resp->status >= 200 && resp->status < 300))
    {
      VhErrorClass klass = vh_http_status_class (resp->status);
      vh_set_error (error, klass, klass == VH_ERROR_QUOTA || klass == VH_ERROR_TRANSIENT ? resp->retry_after_ms : -1,
                    "%s: HTTP %ld", call->action, resp->status);
    }
  vh_http_response_free (resp);
  return obj;
}

static gboolean
code_in (const char *code, const char *const *list)
{
  for (; *list != NULL; list++)
    {
      gsize n = strlen (*list);
      /* "Throttling" matches "Throttling.User"; an exact name matches itself. */
      if (strcmp (code, *list) == 0 || (strncmp (code, *list, n) == 0 && code[n] == '.'))
        return TRUE;
    }
  return FALSE;
}

VhErrorClass
vh_acs_error_class (glong status, const char *code)
{
  static const char *const quota[] = { "Throttling", "SuspiciousActivity", "LimitExceeded", NULL };
  static const char *const auth[] = {
    "SignatureDoesNotMatch", "IncompleteSignature", "InvalidAccessKeyId", "InvalidSecurityToken",
    "InvalidTimeStamp", "Forbidden", "NoPermission", "InvalidAuthorization", "MissingSecurityToken", NULL,
  };
  /* Retryable: a fresh nonce / order id on the next call, or the server. */
  static const char *const transient[] = {
    "SignatureNonceUsed", "Forbidden.ExceptionRepeatedInvoke", "DownloadTimeout", "InternalError",
    "UnknownError", "ServiceUnavailable", "Timeout", NULL,
  };
  static const char *const invalid[] = {
    "MissingParameter", "InvalidParameter", "UnqualifiedPhoto", "ToolargeImage", "DataDuplication",
    "InvalidFile", "InvalidImage", NULL,
  };
  if (code != NULL && *code != '\0')
    {
      if (code_in (code, quota))
        return VH_ERROR_QUOTA;
      if (code_in (code, transient))      /* before auth: Forbidden.ExceptionRepeatedInvoke */
        return VH_ERROR_TRANSIENT;
      if (code_in (code, auth))
        return VH_ERROR_AUTH;
      if (code_in (code, invalid))
        return VH_ERROR_INVALID_INPUT;
    }
  if (status >= 200 && status < 300)
    return VH_ERROR_INTERNAL;
  return vh_http_status_class (status);
}

void
vh_acs_set_error (GError **error, const char *what, const VhAcsReply *reply, json_object *body,
                  const char *code_key, const char *message_key)
{
  json_object *cv = vh_json_member (body, code_key);
  const char *code = cv != NULL ? json_object_get_string (cv) : NULL;
  const char *message = vh_json_str (body, message_key);
  const char *request_id = vh_json_str (body, "RequestId");
  VhErrorClass klass = vh_acs_error_class (reply->status, code);
  g_autofree gchar *text = g_strdup (message != NULL ? message : "");
  if (strlen (text) > 300)
    strcpy (text + 297, "...");
  vh_set_error (error, klass, klass == VH_ERROR_QUOTA || klass == VH_ERROR_TRANSIENT ? reply->retry_after_ms : -1,
                "%s: %s%s%s (HTTP %ld%s%s)", what, code != NULL ? code : "error", *text != '\0' ? ": " : "", text,
                reply->status, request_id != NULL ? ", RequestId " : "", request_id != NULL ? request_id : "");
}
