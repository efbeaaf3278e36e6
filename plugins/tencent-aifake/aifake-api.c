/* aifake-api.c — one TC3-signed DetectAIFakeFaces call and its answer. */
#include <string.h>
#include "aifake-private.h"

#define MAX_ANSWER_BYTES ((gsize) 1024 * 1024)
#define CONTENT_TYPE "application/json; charset=utf-8"

static gboolean
code_is (const char *code, const char *name)
{
  gsize n = strlen (name);
  return strcmp (code, name) == 0 || (strncmp (code, name, n) == 0 && code[n] == '.');
}

/* Section 3 and 4.3 of the notes; the code decides, the HTTP status only
 * when there is no code (API 3.0 errors normally arrive with HTTP 200). */
VhErrorClass
aifake_error_class (glong status, const char *code)
{
  if (code != NULL && *code != '\0')
    {
      if (code_is (code, "AuthFailure") || code_is (code, "UnauthorizedOperation")
          || code_is (code, "InvalidAction") || code_is (code, "NoSuchVersion"))
        return VH_ERROR_AUTH;           /* every row would fail alike: stop this instance */
      if (code_is (code, "RequestLimitExceeded") || code_is (code, "LimitExceeded"))
        return VH_ERROR_QUOTA;
      if (code_is (code, "InternalError") || code_is (code, "ResourceUnavailable")
          || code_is (code, "FailedOperation.UnKnown") || code_is (code, "FailedOperation.DownLoadError"))
        return VH_ERROR_TRANSIENT;
      if (code_is (code, "FailedOperation.ImageDecodeFailed") || code_is (code, "FailedOperation.ImageSizeTooLarge")
          || code_is (code, "FailedOperation.ImageBlur") || code_is (code, "FailedOperation.EmptyImageError")
          || code_is (code, "FailedOperation.DecryptSystemError") || code_is (code, "InvalidParameter")
          || code_is (code, "InvalidParameterValue") || code_is (code, "MissingParameter")
          || code_is (code, "UnknownParameter") || code_is (code, "UnsupportedOperation"))
        return VH_ERROR_INVALID_INPUT;
      if (code_is (code, "FailedOperation"))
        return VH_ERROR_TRANSIENT;      /* "transient or state problem: retry a few times" */
    }
  if (status >= 200 && status < 300)
    return VH_ERROR_INTERNAL;
  return vh_http_status_class (status);
}

json_object *
aifake_call (AiFake *a, const VhImage *image, GCancellable *cancel, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (a->endpoint, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "%s: bad endpoint", AIFAKE_ACTION);
      return NULL;
    }
  g_autofree gchar *host = g_uri_get_port (uri) > 0
                           ? g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri))
                           : g_strdup (g_uri_get_host (uri));
  g_autofree gchar *path = g_strconcat (g_uri_get_path (uri), "/", NULL);
  g_autofree gchar *url = g_strconcat (a->endpoint, "/", NULL);

  /* The exact bytes hashed are the bytes sent. */
  g_autofree gchar *b64 = vh_image_to_base64 (image);
  json_object *body = json_object_new_object ();
  json_object_object_add (body, "FaceInput", json_object_new_string (b64));
  json_object_object_add (body, "FaceInputType", json_object_new_int (1));   /* 1 = image */
  g_autofree gchar *text = g_strdup (json_object_to_json_string_ext (body, JSON_C_TO_STRING_PLAIN
                                                                              | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put (body);

  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  VhSignParam signed_headers[] = {
    { "content-type", CONTENT_TYPE }, { "host", host }, { "x-tc-action", AIFAKE_ACTION },
  };
  VhTc3Input in = { "POST", path, "", signed_headers, G_N_ELEMENTS (signed_headers), text, strlen (text),
                    AIFAKE_SERVICE, now, a->secret_id, a->secret_key };
  VhSignature sig;
  vh_sign_tc3 (&in, &sig);
  g_autofree gchar *h_host = g_strdup_printf ("Host: %s", host);
  g_autofree gchar *h_ts = g_strdup_printf ("X-TC-Timestamp: %" G_GINT64_FORMAT, now);
  g_autofree gchar *h_region = a->region != NULL ? g_strdup_printf ("X-TC-Region: %s", a->region) : NULL;
  g_autofree gchar *h_auth = g_strdup_printf ("Authorization: %s", sig.authorization);
  vh_signature_clear (&sig);
  const char *headers[] = {
    h_host, "Content-Type: " CONTENT_TYPE, "X-TC-Action: " AIFAKE_ACTION, "X-TC-Version: " AIFAKE_VERSION,
    h_ts, h_auth, h_region, NULL,
  };
  VhHttpRequest req = {
    .method = "POST",
    .url = url,
    .headers = headers,
    .body = text,
    .body_len = strlen (text),
    .connect_timeout_ms = a->common.connect_timeout_ms,
    .timeout_ms = a->common.request_timeout_ms,
    .max_response_bytes = MAX_ANSWER_BYTES,
  };
  GError *local = NULL;
  g_autoptr (VhHttpResponse) resp = vh_http_send (&req, cancel, &local);
  if (resp == NULL)
    {
      g_prefix_error (&local, "%s: ", AIFAKE_ACTION);
      g_propagate_error (error, local);
      return NULL;
    }
  gboolean ok_status = resp->status >= 200 && resp->status < 300;
  json_object *root = vh_json_parse (resp->body, AIFAKE_ACTION, ok_status ? error : NULL);
  if (root == NULL)
    {
      if (!ok_status)
        {
          VhErrorClass klass = vh_http_status_class (resp->status);
          vh_set_error (error, klass, klass == VH_ERROR_QUOTA || klass == VH_ERROR_TRANSIENT ? resp->retry_after_ms : -1,
                        "%s: HTTP %ld", AIFAKE_ACTION, resp->status);
        }
      return NULL;
    }
  json_object *response = vh_json_member (root, "Response");
  json_object *err = vh_json_member (response, "Error");
  if (response == NULL || err != NULL || !ok_status)
    {
      const char *code = vh_json_str (err, "Code");
      const char *message = vh_json_str (err, "Message");
      const char *rid = vh_json_str (response, "RequestId");
      VhErrorClass klass = response == NULL && ok_status ? VH_ERROR_INTERNAL : aifake_error_class (resp->status, code);
      g_autofree gchar *msg = g_strdup (message != NULL ? message : "");
      if (strlen (msg) > 300)
        strcpy (msg + 297, "...");
      vh_set_error (error, klass, klass == VH_ERROR_QUOTA || klass == VH_ERROR_TRANSIENT ? resp->retry_after_ms : -1,
                    "%s: %s%s%s (HTTP %ld%s%s)", AIFAKE_ACTION,
                    code != NULL ? code : (response == NULL ? "answer without Response" : "error"),
                    *msg != '\0' ? ": " : "", msg, resp->status, rid != NULL ? ", RequestId " : "",
                    rid != NULL ? rid : "");
      json_object_put (root);
      return NULL;
    }
  json_object_get (response);
  json_object_put (root);
  return response;
}

/* Score (0..1, how likely an attack): AttackRiskLevel Low -> 0, Mid -> 0.5,
 * High -> 1.  The level is the service's only graded output (Tencent's
 * advice: reject High, accept Mid/Low), so the score keeps its three steps;
 * reject_above = 0.75 rejects High only, 0.25 rejects Mid and High. */
gboolean
aifake_verdict (json_object *response, VhVerdict *v, GError **error)
{
  const char *level = vh_json_str (response, "AttackRiskLevel");
  if (g_strcmp0 (level, "Low") == 0)
    v->score = 0.0;
  else if (g_strcmp0 (level, "Mid") == 0)
    v->score = 0.5;
  else if (g_strcmp0 (level, "High") == 0)
    v->score = 1.0;
  else
    {
      vh_set_error (error, VH_ERROR_INTERNAL, -1, "%s: unexpected AttackRiskLevel %s", AIFAKE_ACTION,
                    level != NULL ? level : "(none)");
      return FALSE;
    }
  v->level = g_strdup (level);
  json_object *list = vh_json_member (response, "AttackRiskDetailList");
  if (list != NULL && json_object_is_type (list, json_type_array))
    for (size_t i = 0; i < json_object_array_length (list); i++)
      {
        const char *type = vh_json_str (json_object_array_get_idx (list, i), "Type");
        /* Older SDK comments spell it with an extra "e": accept both, report one. */
        if (g_strcmp0 (type, "SuspectedeAnomalyAttack") == 0)
          type = "SuspectedAnomalyAttack";
        vh_verdict_add_label (v, type);     /* a null or empty Type is skipped, unknown ones kept */
      }
  return TRUE;
}
