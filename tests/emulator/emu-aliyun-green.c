/* Alibaba Cloud Content Moderation 2.0 (green-cip 2022-03-02) under
 * /aliyun-green (a client's endpoint is http://127.0.0.1:PORT/aliyun-green),
 * following /work/shared/protocols/aliyun-green-aigc.md:
 *   DescribeUploadToken  STS credentials for the emulator's OSS bucket
 *                        (OssInternetEndPoint = localhost:PORT/aliyun-oss, so
 *                        <bucket>.localhost:PORT resolves to us), Expiration in s
 *   ImageModeration      Service + ServiceParameters (JSON) in the form body;
 *                        the image from {ossBucketName, ossObjectName} or an
 *                        imageUrl of this emulator; integer Code in the body.
 * V3 or RPC signed (emu-detectors.c).
 *
 * Endpoint name: "aliyun.green" (100 QPS per AccessKey; over it HTTP 429
 * Throttling.User; latency 200-1000 ms).
 *
 * Verdict, from d = SHA-256 of the image bytes, s = d[0] / 255:
 *   s >= 0.5: label "aigc", Confidence 100 s, RiskLevel high (s >= 0.8) or medium
 *   else:     label "ugc",  Confidence 100 (1 - s), RiskLevel none
 * (the real label strings are unpublished; the plugin matches substrings). */
#include "emu-detectors.h"
#include <string.h>

#define TOKEN_TTL_S 3600
#define BUCKET "vh-green-emu"

static const char *const services[] = {
  "aigcDetector_global", "aigcDetector", "aigcCheck", "aigcDetector_pro", "aigcDetector_ultra",
  "baselineCheck_global", "baselineCheck", NULL,
};

static void
reply_code (EmuRequest *req, gint code, const char *msg, json_object *data)
{
  gchar *rid = emu_new_id (req->emu, NULL);
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "RequestId", json_object_new_string (rid));
  json_object_object_add (o, "Code", json_object_new_int (code));       /* an integer, unlike cloudauth */
  json_object_object_add (o, "Msg", json_object_new_string (msg));
  if (data != NULL)
    json_object_object_add (o, "Data", data);
  emu_reply_json (req, 200, o);
  g_free (rid);
}

static gchar *
random_hex (EmuServer *emu, guint words)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < words; i++)
    g_string_append_printf (s, "%08x", g_rand_int (emu->rand));
  return g_string_free (s, FALSE);
}

static void
upload_token (EmuRequest *req, const char *key_id)
{
  EmuServer *emu = req->emu;
  gint64 expires = req->now_us / G_USEC_PER_SEC + TOKEN_TTL_S;
  g_autofree gchar *r1 = random_hex (emu, 3);
  g_autofree gchar *r2 = random_hex (emu, 6);
  g_autofree gchar *r3 = random_hex (emu, 12);
  g_autofree gchar *id = g_strconcat ("STS.emu", r1, NULL);
  g_autofree gchar *token = g_strconcat ("CAIS", r3, NULL);
  g_autofree gchar *acct = g_compute_checksum_for_string (G_CHECKSUM_SHA1, key_id, -1);
  g_autofree gchar *prefix = g_strdup_printf ("upload/%.12s/", acct);
  g_autofree gchar *endpoint = g_strdup_printf ("localhost:%u%s", emu->port, EMU_DET_OSS_PREFIX);
  emu_det_sts_add (id, r2, token, prefix, expires);
  json_object *d = json_object_new_object ();
  json_object_object_add (d, "AccessKeyId", json_object_new_string (id));
  json_object_object_add (d, "AccessKeySecret", json_object_new_string (r2));
  json_object_object_add (d, "SecurityToken", json_object_new_string (token));
  json_object_object_add (d, "BucketName", json_object_new_string (BUCKET));
  json_object_object_add (d, "FileNamePrefix", json_object_new_string (prefix));
  json_object_object_add (d, "OssInternetEndPoint", json_object_new_string (endpoint));
  json_object_object_add (d, "OssInternalEndPoint", json_object_new_string (endpoint));
  json_object_object_add (d, "Expiration", json_object_new_int64 (expires));
  reply_code (req, 200, "OK", d);
}

static json_object *
verdict (GBytes *bytes, const char *data_id)
{
  guint8 d[32];
  emu_det_digest (bytes, d);
  gdouble s = d[0] / 255.0;
  gboolean aigc = s >= 0.5;
  const char *level = !aigc ? "none" : s >= 0.8 ? "high" : "medium";
  gdouble conf = (gdouble) (gint) ((aigc ? s : 1.0 - s) * 10000 + 0.5) / 100.0;   /* two decimals */
  json_object *item = json_object_new_object ();
  json_object_object_add (item, "Label", json_object_new_string (aigc ? "aigc" : "ugc"));
  json_object_object_add (item, "Confidence", json_object_new_double (conf));
  json_object_object_add (item, "Description", json_object_new_string (aigc ? "AI-generated image" : "not AI-generated"));
  json_object_object_add (item, "RiskLevel", json_object_new_string (level));
  json_object *results = json_object_new_array ();
  json_object_array_add (results, item);
  json_object *data = json_object_new_object ();
  if (data_id != NULL)
    json_object_object_add (data, "DataId", json_object_new_string (data_id));
  json_object_object_add (data, "RiskLevel", json_object_new_string (level));
  json_object_object_add (data, "Result", results);
  json_object_object_add (data, "Ext", json_object_new_object ());
  json_object_object_add (data, "ManualTaskId", NULL);
  return data;
}

static void
moderate (EmuRequest *req, GHashTable *p, const EmuSettings *s)
{
  EmuServer *emu = req->emu;
  const char *service = g_hash_table_lookup (p, "Service");
  const char *sp_text = g_hash_table_lookup (p, "ServiceParameters");
  if (service == NULL || sp_text == NULL)
    return reply_code (req, 400, "Service and ServiceParameters are required.", NULL);
  if (!g_strv_contains (services, service))
    return reply_code (req, 404, "The Service code does not exist.", NULL);
  json_object *sp = json_tokener_parse (sp_text);
  if (sp == NULL || !json_object_is_type (sp, json_type_object))
    {
      json_object_put (sp);
      return reply_code (req, 400, "ServiceParameters is not a JSON object.", NULL);
    }
  const char *url = emu_json_string (sp, "imageUrl");
  const char *bucket = emu_json_string (sp, "ossBucketName");
  const char *object = emu_json_string (sp, "ossObjectName");
  GBytes *bytes = NULL;
  if (url == NULL && (bucket == NULL || object == NULL))
    {
      json_object_put (sp);
      return reply_code (req, 400, "imageUrl or ossBucketName and ossObjectName are required.", NULL);
    }
  if (bucket != NULL && object != NULL)
    bytes = emu_det_object_get (bucket, object);
  else
    {
      gsize blen = strlen (emu->base_url);
      g_autofree gchar *b = NULL;
      g_autofree gchar *k = NULL;
      if (emu_det_object_url (url, &b, &k))
        bytes = emu_det_object_get (b, k);
      else if (strncmp (url, emu->base_url, blen) == 0)
        bytes = emu_results_lookup_bytes (emu, url + blen);
    }
  if (bytes == NULL || !emu_det_is_image (bytes))
    {
      if (bytes != NULL)
        g_bytes_unref (bytes);
      json_object_put (sp);
      return reply_code (req, 480, "Download image failed.", NULL);
    }
  json_object *data = verdict (bytes, emu_json_string (sp, "dataId"));
  g_bytes_unref (bytes);
  json_object_put (sp);
  emu_reply_delay (req, emu_config_sample_latency_us (emu, s));
  reply_code (req, 200, "OK", data);
}

static void
green_handle (EmuRequest *req)
{
  EmuServer *emu = req->emu;
  emu_request_set_endpoint (req, "aliyun.green", EMU_KIND_SUBMIT, NULL);
  if (emu_faults_request (req, emu_det_pop_error))
    return;
  if (strcmp (req->method, "POST") != 0 && strcmp (req->method, "GET") != 0)
    {
      emu_det_pop_error (req, 400, "UnsupportedHTTPMethod", "This action does not support this http method.");
      return;
    }
  GHashTable *p = emu_det_params (req);
  const char *key_id = NULL, *action = NULL;
  if (!emu_det_aliyun_verify (req, p, &key_id, &action))
    goto out;
  const char *version = emu_request_header (req, "x-acs-version");
  if (version == NULL)
    version = g_hash_table_lookup (p, "Version");
  if (g_strcmp0 (version, "2022-03-02") != 0)
    {
      emu_det_pop_error (req, 400, "InvalidVersion", "Specified parameter Version is not valid.");
      goto out;
    }
  EmuSettings s;
  emu_det_settings (emu, "aliyun.green", 100, 200, 1000, &s);
  gdouble wait = 1;
  if (!emu_det_admit (req, &s, key_id, &wait))
    {
      if (s.retry_after_s > 0)
        emu_reply_retry_after (req, MAX (wait, s.retry_after_s));
      emu_det_pop_error (req, 429, "Throttling.User", "Request was denied due to user flow control.");
      goto out;
    }
  if (g_strcmp0 (action, "DescribeUploadToken") == 0)
    upload_token (req, key_id);
  else if (g_strcmp0 (action, "ImageModeration") == 0)
    moderate (req, p, &s);
  else
    emu_det_pop_error (req, 404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.");
out:
  g_hash_table_destroy (p);
}

const EmuFamily emu_family_aliyun_green = { "aliyun-green", "/aliyun-green", TRUE, green_handle };
