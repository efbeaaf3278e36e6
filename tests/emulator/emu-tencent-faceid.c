/* Tencent Cloud faceid DetectAIFakeFaces (2018-03-01) under /tencent-faceid
 * (a client's endpoint is http://127.0.0.1:PORT/tencent-faceid), following
 * /work/shared/protocols/tencent-tc3-and-detectaifakefaces.md: POST JSON,
 * TC3-HMAC-SHA256 verified from the headers named in SignedHeaders and the
 * raw body, timestamps more than 300 s off refused (AuthFailure.SignatureExpire),
 * errors as HTTP 200 {"Response": {"Error": {Code, Message}, RequestId}}.
 *
 * Endpoint name: "tencent.faceid" (5 requests/s per SecretId, over it
 * RequestLimitExceeded; latency 300-1000 ms).
 *
 * Verdict, from d = SHA-256 of the image bytes:
 *   d[0] < 128 -> Low, []; d[0] < 204 -> Mid, [SuspectedWatermark];
 *   else High, [SuspectedSynthesisImage] plus the old spelling
 *   SuspectedeAnomalyAttack when d[1] >= 128. */
#include "emu-detectors.h"
#include <string.h>

#define TC3_SKEW_S 300
#define FACEID_MAX_INPUT (10 * 1024 * 1024)

static void
tc_error (EmuRequest *req, guint status, const char *code, const char *message)
{
  gchar *rid = emu_new_id (req->emu, NULL);
  json_object *err = json_object_new_object ();
  json_object_object_add (err, "Code", json_object_new_string (code != NULL ? code
                                                               : status == 429 ? "RequestLimitExceeded" : "InternalError"));
  json_object_object_add (err, "Message", json_object_new_string (message != NULL ? message
                                                                  : status == 429 ? "Request frequency exceeded."
                                                                  : "Internal error."));
  json_object *r = json_object_new_object ();
  json_object_object_add (r, "Error", err);
  json_object_object_add (r, "RequestId", json_object_new_string (rid));
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "Response", r);
  /* API 3.0 answers its errors with HTTP 200; injected transport faults keep their status. */
  emu_reply_json (req, status, o);
  g_free (rid);
}

static void
fail (EmuRequest *req, const char *code, const char *message)
{
  tc_error (req, 200, code, message);
}

/* TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b, Signature=hex */
static gboolean
verify (EmuRequest *req, const char **secret_id)
{
  EmuServer *emu = req->emu;
  const char *auth = emu_request_header (req, "Authorization");
  const char *ts_text = emu_request_header (req, "X-TC-Timestamp");
  const char *cred = auth != NULL ? strstr (auth, "Credential=") : NULL;
  const char *sh = auth != NULL ? strstr (auth, "SignedHeaders=") : NULL;
  const char *sg = auth != NULL ? strstr (auth, "Signature=") : NULL;
  if (auth == NULL || !g_str_has_prefix (auth, "TC3-HMAC-SHA256 ") || cred == NULL || sh == NULL || sg == NULL)
    {
      fail (req, "AuthFailure.InvalidAuthorization", "Authorization header is not in the TC3-HMAC-SHA256 format.");
      return FALSE;
    }
  g_autofree gchar *credential = g_strndup (cred + 11, strcspn (cred + 11, ", "));
  g_autofree gchar *signed_names = g_strndup (sh + 14, strcspn (sh + 14, ", "));
  g_autofree gchar *signature = g_strndup (sg + 10, strcspn (sg + 10, ", "));
  g_auto (GStrv) scope = g_strsplit (credential, "/", -1);
  if (g_strv_length (scope) != 4 || strcmp (scope[3], "tc3_request") != 0)
    {
      fail (req, "AuthFailure.InvalidAuthorization", "Credential is not ID/DATE/SERVICE/tc3_request.");
      return FALSE;
    }
  const char *secret = emu_det_secret (emu, "tencent", scope[0]);
  if (secret == NULL)
    {
      fail (req, "AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure that your SecretId is correct.");
      return FALSE;
    }
  guint64 ts = 0;
  gint64 now = req->now_us / G_USEC_PER_SEC;
  if (ts_text == NULL || !g_ascii_string_to_unsigned (ts_text, 10, 0, G_MAXINT64, &ts, NULL))
    {
      fail (req, "MissingParameter", "The request is missing a required parameter `Timestamp`.");
      return FALSE;
    }
  if (ABS (now - (gint64) ts) > TC3_SKEW_S)
    {
      g_autofree gchar *m = g_strdup_printf ("Signature expired. Timestamp time: %" G_GUINT64_FORMAT
                                             ", server time: %" G_GINT64_FORMAT, ts, now);
      fail (req, "AuthFailure.SignatureExpire", m);
      return FALSE;
    }
  g_auto (GStrv) names = g_strsplit (signed_names, ";", -1);
  guint nh = g_strv_length (names);
  VhSignParam *headers = g_new0 (VhSignParam, nh + 1);
  gboolean has_ct = FALSE, has_host = FALSE;
  for (guint i = 0; i < nh; i++)
    {
      headers[i].name = names[i];
      headers[i].value = emu_request_header (req, names[i]);
      if (headers[i].value == NULL)
        headers[i].value = "";
      has_ct |= g_ascii_strcasecmp (names[i], "content-type") == 0;
      has_host |= g_ascii_strcasecmp (names[i], "host") == 0;
    }
  gsize blen = 0;
  const void *body = g_bytes_get_data (req->body, &blen);
  /* The scope is the caller's; the server signs with its own service name
   * and the UTC day of the timestamp. */
  VhTc3Input in = { req->method, req->path, "", headers, nh, body, blen, "faceid", (gint64) ts, scope[0], secret };
  VhSignature s;
  vh_sign_tc3 (&in, &s);
  g_autofree gchar *expected_scope = g_strdup_printf ("%s/%s/%s/tc3_request", scope[0], scope[1], scope[2]);
  gboolean ok = has_ct && has_host && g_str_has_suffix (expected_scope, s.credential_scope)
                && vh_sign_equal (s.signature, signature);
  vh_signature_clear (&s);
  g_free (headers);
  if (!ok)
    {
      fail (req, "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.");
      return FALSE;
    }
  *secret_id = g_intern_string (scope[0]);
  return TRUE;
}

static json_object *
verdict (GBytes *bytes)
{
  guint8 d[32];
  emu_det_digest (bytes, d);
  const char *level = d[0] < 128 ? "Low" : d[0] < 204 ? "Mid" : "High";
  json_object *list = json_object_new_array ();
  const char *types[2] = { NULL, NULL };
  if (d[0] >= 204)
    {
      types[0] = "SuspectedSynthesisImage";
      if (d[1] >= 128)
        types[1] = "SuspectedeAnomalyAttack";
    }
  else if (d[0] >= 128)
    types[0] = "SuspectedWatermark";
  for (int i = 0; i < 2; i++)
    if (types[i] != NULL)
      {
        json_object *t = json_object_new_object ();
        json_object_object_add (t, "Type", json_object_new_string (types[i]));
        json_object_array_add (list, t);
      }
  json_object *extra = json_object_new_object ();
  json_object_object_add (extra, "RetrievalLivenessExtraInfo", json_object_new_array ());
  json_object *r = json_object_new_object ();
  json_object_object_add (r, "AttackRiskLevel", json_object_new_string (level));
  json_object_object_add (r, "AttackRiskDetailList", list);
  json_object_object_add (r, "ExtraInfo", extra);
  return r;
}

static void
faceid_handle (EmuRequest *req)
{
  EmuServer *emu = req->emu;
  emu_request_set_endpoint (req, "tencent.faceid", EMU_KIND_SUBMIT, NULL);
  if (emu_faults_request (req, tc_error))
    return;
  if (strcmp (req->method, "POST") != 0)
    {
      fail (req, "UnsupportedOperation", "Use POST with a JSON body.");
      return;
    }
  const char *secret_id = NULL;
  if (!verify (req, &secret_id))
    return;
  if (g_strcmp0 (emu_request_header (req, "X-TC-Action"), "DetectAIFakeFaces") != 0)
    {
      fail (req, "InvalidAction", "The action requested does not exist.");
      return;
    }
  if (g_strcmp0 (emu_request_header (req, "X-TC-Version"), "2018-03-01") != 0)
    {
      fail (req, "NoSuchVersion", "The requested version does not exist.");
      return;
    }
  EmuSettings s;
  emu_det_settings (emu, "tencent.faceid", 5, 300, 1000, &s);
  gdouble wait = 1;
  if (!emu_det_admit (req, &s, secret_id, &wait))
    {
      if (s.retry_after_s > 0)
        emu_reply_retry_after (req, MAX (wait, s.retry_after_s));
      g_autofree gchar *m = g_strdup_printf ("Your current request times exceeds the frequency limit `%g` per second.",
                                             s.qps);
      fail (req, "RequestLimitExceeded", m);
      return;
    }
  if (req->json == NULL || !json_object_is_type (req->json, json_type_object))
    {
      fail (req, "InvalidParameter", "The request body is not a JSON object.");
      return;
    }
  json_object *type = emu_json_get (req->json, "FaceInputType");
  if (type == NULL || !json_object_is_type (type, json_type_int)
      || (json_object_get_int (type) != 1 && json_object_get_int (type) != 2))
    {
      fail (req, "InvalidParameter", "FaceInputType must be 1 (image) or 2 (video).");
      return;
    }
  const char *input = emu_json_string (req->json, "FaceInput");
  if (input == NULL || *input == '\0')
    {
      fail (req, "FailedOperation.EmptyImageError", "The image is empty.");
      return;
    }
  GBytes *bytes = emu_det_base64 (input);
  if (bytes != NULL && g_bytes_get_size (bytes) > FACEID_MAX_INPUT)
    {
      g_bytes_unref (bytes);
      fail (req, "FailedOperation.ImageSizeTooLarge", "The image is too large.");
      return;
    }
  if (bytes == NULL || (json_object_get_int (type) == 1 && !emu_det_is_image (bytes)))
    {
      if (bytes != NULL)
        g_bytes_unref (bytes);
      fail (req, "FailedOperation.ImageDecodeFailed", "Image decoding failed.");
      return;
    }
  json_object *r = verdict (bytes);
  g_bytes_unref (bytes);
  gchar *rid = emu_new_id (emu, NULL);
  json_object_object_add (r, "RequestId", json_object_new_string (rid));
  g_free (rid);
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "Response", r);
  emu_reply_delay (req, emu_config_sample_latency_us (emu, &s));
  emu_reply_json (req, 200, o);
}

const EmuFamily emu_family_tencent_faceid = { "tencent-faceid", "/tencent-faceid", TRUE, faceid_handle };
