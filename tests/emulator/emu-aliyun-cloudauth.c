/* Alibaba Cloud ID Verification face deepfake detection under
 * /aliyun-cloudauth (a client's endpoint is http://127.0.0.1:PORT/aliyun-cloudauth),
 * following /work/shared/protocols/aliyun-cloudauth-deepfake.md:
 *   DeepfakeDetect (2019-03-07, OuterOrderNo), DeepfakeDetectIntl and
 *   DeepfakeDetectIntlStream (2022-08-09, ProductCode=FACE_DEEPFAKE, MerchantBizId),
 * POST with a form body, V3 or RPC signed (emu-detectors.c).
 *
 * Endpoint name for settings and faults: "aliyun.cloudauth" (3 QPS per
 * AccessKey, the documented beta limit; over it 403 Throttling.Api as the
 * Intl error table says; latency 200-800 ms).
 *
 * Verdict, from d = SHA-256 of the image bytes, s = d[0] / 255:
 *   RiskScore {SuspectDeepForgery: s, SuspectPSFace: 0.6 s, SuspectAIGCFace: 0.3 s,
 *              SuspectRemake: 0, SuspectWaterMark: 0.2 s} (strings, 4 decimals)
 *   Result "1" when s >= 0.8, "2" when s >= 0.5, else "0"
 *   RiskTag: SuspectDeepForgery when s >= 0.5, and the tag list's other
 *            spelling SuspectWarterMark when d[1] >= 128. */
#include "emu-detectors.h"
#include <string.h>

#define MAX_IMAGE (10 * 1024 * 1024)

static GHashTable *orders;     /* order ids already used (Forbidden.ExceptionRepeatedInvoke) */

static void
business_error (EmuRequest *req, guint status, const char *code, const char *message)
{
  emu_det_pop_error (req, status, code, message);
}

static GBytes *
face_bytes (EmuRequest *req, GHashTable *p, gboolean stream)
{
  const char *b64 = g_hash_table_lookup (p, "FaceBase64");
  const char *url = g_hash_table_lookup (p, "FaceUrl");
  const char *file = stream ? g_hash_table_lookup (p, "FaceFile") : NULL;
  int given = (b64 != NULL) + (url != NULL) + (file != NULL);
  if (given != 1)
    {
      business_error (req, 400, given == 0 ? "MissingParameter" : "InvalidParameter",
                      stream ? "Exactly one of FaceFile, FaceUrl or FaceBase64 is required."
                             : "Exactly one of FaceUrl or FaceBase64 is required.");
      return NULL;
    }
  GBytes *bytes = NULL;
  if (b64 != NULL)
    {
      bytes = emu_det_base64 (b64);
      if (bytes == NULL)
        {
          business_error (req, 400, "InvalidParameter", "FaceBase64 is not valid base64.");
          return NULL;
        }
    }
  else
    {
      const char *ref = url != NULL ? url : file;
      g_autofree gchar *bucket = NULL;
      g_autofree gchar *key = NULL;
      gsize blen = strlen (req->emu->base_url);
      if (emu_det_object_url (ref, &bucket, &key))
        bytes = emu_det_object_get (bucket, key);
      else if (strncmp (ref, req->emu->base_url, blen) == 0)
        bytes = emu_results_lookup_bytes (req->emu, ref + blen);
      if (bytes == NULL)
        {
          business_error (req, 401, "DownloadTimeout", "Failed to download the face image in time.");
          return NULL;
        }
    }
  if (g_bytes_get_size (bytes) > MAX_IMAGE)
    {
      g_bytes_unref (bytes);
      business_error (req, 401, "ToolargeImage", "The image is too large.");
      return NULL;
    }
  if (!emu_det_is_image (bytes))
    {
      g_bytes_unref (bytes);
      business_error (req, 401, "UnqualifiedPhoto", "The photo does not meet the requirements.");
      return NULL;
    }
  return bytes;
}

static gchar *
score_text (gdouble v)
{
  return g_strdup_printf ("%.4f", v);
}

static json_object *
verdict (GBytes *bytes)
{
  guint8 d[32];
  emu_det_digest (bytes, d);
  gdouble s = d[0] / 255.0;
  json_object *scores = json_object_new_object ();
  static const struct { const char *tag; gdouble f; } part[] = {
    { "SuspectDeepForgery", 1.0 }, { "SuspectPSFace", 0.6 }, { "SuspectAIGCFace", 0.3 },
    { "SuspectRemake", 0.0 }, { "SuspectWaterMark", 0.2 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (part); i++)
    {
      gchar *t = score_text (s * part[i].f);
      json_object_object_add (scores, part[i].tag, json_object_new_string (t));
      g_free (t);
    }
  GString *tags = g_string_new (NULL);
  if (s >= 0.5)
    g_string_append (tags, "SuspectDeepForgery");
  if (d[1] >= 128)
    g_string_append_printf (tags, "%sSuspectWarterMark", tags->len > 0 ? "," : "");
  json_object *r = json_object_new_object ();
  json_object_object_add (r, "Result", json_object_new_string (s >= 0.8 ? "1" : s >= 0.5 ? "2" : "0"));
  json_object_object_add (r, "RiskTag", json_object_new_string (tags->str));
  json_object_object_add (r, "RiskScore", scores);
  g_string_free (tags, TRUE);
  return r;
}

static void
cloudauth_handle (EmuRequest *req)
{
  EmuServer *emu = req->emu;
  emu_request_set_endpoint (req, "aliyun.cloudauth", EMU_KIND_SUBMIT, NULL);
  if (emu_faults_request (req, emu_det_pop_error))
    return;
  if (strcmp (req->method, "POST") != 0)
    {
      emu_det_pop_error (req, 400, "UnsupportedHTTPMethod", "This action does not support this http method.");
      return;
    }
  GHashTable *p = emu_det_params (req);
  gchar *order_key = NULL;      /* no g_autofree: the gotos below jump over declarations */
  const char *key_id = NULL, *action = NULL;
  if (!emu_det_aliyun_verify (req, p, &key_id, &action))
    goto out;
  const char *version = emu_request_header (req, "x-acs-version");
  if (version == NULL)
    version = g_hash_table_lookup (p, "Version");
  gboolean china = g_strcmp0 (action, "DeepfakeDetect") == 0;
  gboolean intl = g_strcmp0 (action, "DeepfakeDetectIntl") == 0;
  gboolean stream = g_strcmp0 (action, "DeepfakeDetectIntlStream") == 0;
  if (!china && !intl && !stream)
    {
      emu_det_pop_error (req, 404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.");
      goto out;
    }
  if (g_strcmp0 (version, china ? "2019-03-07" : "2022-08-09") != 0)
    {
      emu_det_pop_error (req, 400, "InvalidVersion", "Specified parameter Version is not valid.");
      goto out;
    }
  EmuSettings s;
  emu_det_settings (emu, "aliyun.cloudauth", 3, 200, 800, &s);
  gdouble wait = 1;
  if (!emu_det_admit (req, &s, key_id, &wait))
    {
      if (s.retry_after_s > 0)
        emu_reply_retry_after (req, MAX (wait, s.retry_after_s));
      business_error (req, 403, "Throttling.Api", "Request was denied due to api flow control.");
      goto out;
    }
  const char *order = g_hash_table_lookup (p, china ? "OuterOrderNo" : "MerchantBizId");
  if (order == NULL || *order == '\0')
    {
      business_error (req, 400, "MissingParameter", china ? "OuterOrderNo is mandatory for this action."
                                                          : "MerchantBizId is mandatory for this action.");
      goto out;
    }
  if (!china && g_strcmp0 (g_hash_table_lookup (p, "ProductCode"), "FACE_DEEPFAKE") != 0)
    {
      business_error (req, 400, "InvalidParameter", "ProductCode must be FACE_DEEPFAKE.");
      goto out;
    }
  const char *type = g_hash_table_lookup (p, "FaceInputType");
  if (type != NULL && strcmp (type, "IMAGE") != 0 && !(strcmp (type, "VIDEO") == 0 && !intl))
    {
      business_error (req, 400, "InvalidParameter", "FaceInputType is not valid.");
      goto out;
    }
  if (orders == NULL)
    orders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  order_key = g_strdup_printf ("%s\t%s", key_id, order);
  if (g_hash_table_contains (orders, order_key))
    {
      business_error (req, 401, "Forbidden.ExceptionRepeatedInvoke", "Repeated invocation with the same id.");
      goto out;
    }
  GBytes *bytes = face_bytes (req, p, stream);
  if (bytes == NULL)
    goto out;
  if (g_hash_table_size (orders) > 8192)
    g_hash_table_remove_all (orders);
  g_hash_table_add (orders, g_steal_pointer (&order_key));
  json_object *o = json_object_new_object ();
  gchar *rid = emu_new_id (emu, NULL);
  json_object_object_add (o, "RequestId", json_object_new_string (rid));
  /* Code is a string; one Intl doc example shows "Success" for the stream action. */
  json_object_object_add (o, "Code", json_object_new_string (stream ? "Success" : "200"));
  json_object_object_add (o, "Message", json_object_new_string ("success"));
  json_object_object_add (o, "ResultObject", verdict (bytes));
  g_free (rid);
  g_bytes_unref (bytes);
  emu_reply_delay (req, emu_config_sample_latency_us (emu, &s));
  emu_reply_json (req, 200, o);
out:
  g_free (order_key);
  g_hash_table_destroy (p);
}

const EmuFamily emu_family_aliyun_cloudauth = { "aliyun-cloudauth", "/aliyun-cloudauth", TRUE, cloudauth_handle };
