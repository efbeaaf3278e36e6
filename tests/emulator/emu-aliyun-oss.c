/* The uploads the Alibaba detectors rely on:
 *
 * /aliyun-openplatform   AuthorizeFileUpload (openplatform 2019-12-19, V3 or
 *                        RPC signed, Product=Cloudauth-intl): a PostObject
 *                        policy for the cloudauth-intl stream input
 *                        (aliyun-cloudauth-deepfake.md 1.3).
 * /aliyun-oss            the bucket, reached virtual-hosted style as
 *                        http://<bucket>.localhost:PORT/aliyun-oss/<key>
 *                        (curl resolves *.localhost to the loopback):
 *   POST  PostObject form (OSSAccessKeyId, policy, Signature, key,
 *         success_action_status, file last), policy signed HMAC-SHA1;
 *   PUT   PutObject signed OSS V1 with the STS credentials of the green
 *         upload token (x-oss-security-token), Date within 15 minutes,
 *         key under the token's FileNamePrefix;
 *   GET   refused: the bucket is private, as Alibaba's are.
 * Errors are OSS XML.  Endpoint names "aliyun.openplatform", "aliyun.oss". */
#include "emu-detectors.h"
#include <string.h>

#define OSS_SKEW_S (15 * 60)
#define POLICY_TTL_S 900
#define MAX_OBJECT (20 * 1024 * 1024)
#define CLOUDAUTH_BUCKET "vh-cloudauth-emu"
#define UPLOAD_KEY_ID "LTAIemuCloudauthUpload"

static gchar *upload_secret;      /* signs the PostObject policies we hand out */

static const char *
policy_secret (EmuServer *emu)
{
  if (upload_secret == NULL)
    upload_secret = g_strdup_printf ("%08x%08x%08x", g_rand_int (emu->rand), g_rand_int (emu->rand),
                                     g_rand_int (emu->rand));
  return upload_secret;
}

static gchar *
hmac_sha1_b64 (const char *key, const char *msg)
{
  guint8 d[20];
  gsize n = sizeof d;
  GHmac *h = g_hmac_new (G_CHECKSUM_SHA1, (const guchar *) key, strlen (key));
  g_hmac_update (h, (const guchar *) msg, -1);
  g_hmac_get_digest (h, d, &n);
  g_hmac_unref (h);
  return g_base64_encode (d, n);
}

static void
oss_error (EmuRequest *req, guint status, const char *code, const char *message)
{
  gchar *rid = emu_new_id (req->emu, NULL);
  gchar *body = g_strdup_printf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>%s</Code>\n"
                                 "  <Message>%s</Message>\n  <RequestId>%s</RequestId>\n"
                                 "  <HostId>localhost</HostId>\n</Error>\n",
                                 code != NULL ? code : (status == 429 || status == 503 ? "SlowDown" : "InternalError"),
                                 message != NULL ? message : "Please try again.", rid);
  emu_reply_text (req, status, "application/xml", body);
  g_free (body);
  g_free (rid);
}

/* ------------------------------------------------------------ openplatform */

static void
authorize_upload (EmuRequest *req, const char *key_id)
{
  EmuServer *emu = req->emu;
  gint64 now = req->now_us / G_USEC_PER_SEC;
  g_autofree gchar *id = emu_new_id (emu, NULL);
  g_autofree gchar *key = g_strdup_printf ("cloudauth-intl/%s/%s.jpg", key_id, id);
  g_autofree gchar *expiration = vh_sign_iso8601 (now + POLICY_TTL_S);
  json_object *pol = json_object_new_object ();
  json_object_object_add (pol, "expiration", json_object_new_string (expiration));
  json_object *conds = json_object_new_array ();
  json_object *eq = json_object_new_array ();
  json_object_array_add (eq, json_object_new_string ("eq"));
  json_object_array_add (eq, json_object_new_string ("$key"));
  json_object_array_add (eq, json_object_new_string (key));
  json_object_array_add (conds, eq);
  json_object *range = json_object_new_array ();
  json_object_array_add (range, json_object_new_string ("content-length-range"));
  json_object_array_add (range, json_object_new_int (0));
  json_object_array_add (range, json_object_new_int (MAX_OBJECT));
  json_object_array_add (conds, range);
  json_object_object_add (pol, "conditions", conds);
  const char *ptext = json_object_to_json_string_ext (pol, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  g_autofree gchar *policy = g_base64_encode ((const guchar *) ptext, strlen (ptext));
  json_object_put (pol);
  g_autofree gchar *signature = hmac_sha1_b64 (policy_secret (emu), policy);
  g_autofree gchar *endpoint = g_strdup_printf ("localhost:%u%s", emu->port, EMU_DET_OSS_PREFIX);
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "RequestId", json_object_new_string (id));
  json_object_object_add (o, "AccessKeyId", json_object_new_string (UPLOAD_KEY_ID));
  json_object_object_add (o, "EncodedPolicy", json_object_new_string (policy));
  json_object_object_add (o, "Signature", json_object_new_string (signature));
  json_object_object_add (o, "Bucket", json_object_new_string (CLOUDAUTH_BUCKET));
  json_object_object_add (o, "Endpoint", json_object_new_string (endpoint));
  json_object_object_add (o, "ObjectKey", json_object_new_string (key));
  json_object_object_add (o, "UseAccelerate", json_object_new_boolean (FALSE));
  emu_reply_json (req, 200, o);
}

static void
openplatform_handle (EmuRequest *req)
{
  emu_request_set_endpoint (req, "aliyun.openplatform", EMU_KIND_OTHER, NULL);
  if (emu_faults_request (req, emu_det_pop_error))
    return;
  GHashTable *p = emu_det_params (req);
  const char *key_id = NULL, *action = NULL;
  if (!emu_det_aliyun_verify (req, p, &key_id, &action))
    goto out;
  if (g_strcmp0 (action, "AuthorizeFileUpload") != 0)
    {
      emu_det_pop_error (req, 404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.");
      goto out;
    }
  if (g_strcmp0 (g_hash_table_lookup (p, "Product"), "Cloudauth-intl") != 0)
    {
      emu_det_pop_error (req, 400, "InvalidParameter", "Specified parameter Product is not valid.");
      goto out;
    }
  authorize_upload (req, key_id);
out:
  g_hash_table_destroy (p);
}

const EmuFamily emu_family_aliyun_openplatform = { "aliyun-openplatform", "/aliyun-openplatform", TRUE,
                                                   openplatform_handle };

/* ------------------------------------------------------------ bucket */

/* "<bucket>.localhost:PORT" -> bucket */
static gchar *
bucket_of (EmuRequest *req)
{
  const char *host = emu_request_header (req, "Host");
  const char *dot = host != NULL ? strchr (host, '.') : NULL;
  return dot != NULL ? g_strndup (host, (gsize) (dot - host)) : NULL;
}

static void
post_object (EmuRequest *req, const char *bucket)
{
  EmuServer *emu = req->emu;
  SoupMultipart *mp = soup_multipart_new_from_message (soup_server_message_get_request_headers (req->msg), req->body);
  if (mp == NULL)
    return oss_error (req, 400, "InvalidArgument", "The body of your POST request is not well-formed multipart/form-data.");
  GHashTable *f = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GBytes *file = NULL;
  gboolean file_last = FALSE;
  int n = soup_multipart_get_length (mp);
  for (int i = 0; i < n; i++)
    {
      SoupMessageHeaders *ph;
      GBytes *pb;
      char *disp = NULL;
      GHashTable *params = NULL;
      if (!soup_multipart_get_part (mp, i, &ph, &pb) || !soup_message_headers_get_content_disposition (ph, &disp, &params))
        continue;
      const char *name = g_hash_table_lookup (params, "name");
      if (g_strcmp0 (name, "file") == 0)
        {
          if (file != NULL)
            g_bytes_unref (file);
          file = g_bytes_ref (pb);
          file_last = i == n - 1;
        }
      else if (name != NULL)
        g_hash_table_replace (f, g_strdup (name), g_strndup (g_bytes_get_data (pb, NULL), g_bytes_get_size (pb)));
      g_free (disp);
      g_hash_table_destroy (params);
    }
  soup_multipart_free (mp);
  const char *policy = g_hash_table_lookup (f, "policy"), *sig = g_hash_table_lookup (f, "Signature");
  const char *key = g_hash_table_lookup (f, "key"), *akid = g_hash_table_lookup (f, "OSSAccessKeyId");
  json_object *pol = NULL;
  g_autofree gchar *expected = NULL;
  if (policy == NULL || sig == NULL || key == NULL || akid == NULL)
    oss_error (req, 400, "InvalidArgument", "Missing one of the form fields policy, Signature, key, OSSAccessKeyId.");
  else if (file == NULL || !file_last)
    oss_error (req, 400, "InvalidArgument", "The file field must be the last form field.");
  else if (strcmp (akid, UPLOAD_KEY_ID) != 0)
    oss_error (req, 403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.");
  else if (!vh_sign_equal ((expected = hmac_sha1_b64 (policy_secret (emu), policy)), sig))
    oss_error (req, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.");
  else
    {
      gsize plen = 0;
      guchar *ptext = g_base64_decode (policy, &plen);
      gchar *pstr = g_strndup ((const char *) ptext, plen);
      pol = json_tokener_parse (pstr);
      g_free (ptext);
      g_free (pstr);
      const char *exp = emu_json_string (pol, "expiration");
      GDateTime *dt = exp != NULL ? g_date_time_new_from_iso8601 (exp, NULL) : NULL;
      gboolean expired = dt == NULL || g_date_time_to_unix (dt) <= req->now_us / G_USEC_PER_SEC;
      if (dt != NULL)
        g_date_time_unref (dt);
      json_object *c0 = emu_json_get (pol, "conditions");
      json_object *eq = c0 != NULL && json_object_is_type (c0, json_type_array) ? json_object_array_get_idx (c0, 0) : NULL;
      const char *want = eq != NULL && json_object_is_type (eq, json_type_array) && json_object_array_length (eq) == 3
                         ? json_object_get_string (json_object_array_get_idx (eq, 2)) : NULL;
      if (expired)
        oss_error (req, 403, "AccessDenied", "Invalid according to Policy: Policy expired.");
      else if (g_strcmp0 (want, key) != 0 || strcmp (bucket, CLOUDAUTH_BUCKET) != 0)
        oss_error (req, 403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$key\"]");
      else if (g_bytes_get_size (file) > MAX_OBJECT)
        oss_error (req, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.");
      else
        {
          emu_det_object_put (bucket, key, file);
          emu_stat_inc (emu, "oss_uploads");
          const char *status = g_hash_table_lookup (f, "success_action_status");
          if (g_strcmp0 (status, "201") == 0)
            {
              g_autofree gchar *xml = g_strdup_printf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse>"
                                                       "<Bucket>%s</Bucket><Key>%s</Key></PostResponse>\n", bucket, key);
              emu_reply_text (req, 201, "application/xml", xml);
            }
          else
            emu_reply_text (req, g_strcmp0 (status, "200") == 0 ? 200 : 204, "text/plain", "");
        }
    }
  if (pol != NULL)
    json_object_put (pol);
  if (file != NULL)
    g_bytes_unref (file);
  g_hash_table_destroy (f);
}

static void
put_object (EmuRequest *req, const char *bucket, const char *key)
{
  EmuServer *emu = req->emu;
  const char *auth = emu_request_header (req, "Authorization");
  const char *token = emu_request_header (req, "x-oss-security-token");
  const char *date = emu_request_header (req, "Date");
  if (auth == NULL || !g_str_has_prefix (auth, "OSS ") || strchr (auth, ':') == NULL)
    return oss_error (req, 403, "AccessDenied", "Anonymous access is forbidden for this operation.");
  g_autofree gchar *id = g_strndup (auth + 4, strcspn (auth + 4, ":"));
  const char *signature = strchr (auth, ':') + 1;
  const char *prefix = NULL;
  gboolean expired = FALSE;
  const char *secret = emu_det_sts_lookup (id, token, &prefix, &expired);
  if (secret == NULL)
    return oss_error (req, 403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.");
  if (expired)
    return oss_error (req, 403, "SecurityTokenExpired", "The security token you provided has expired.");
  GDateTime *dt = date != NULL ? soup_date_time_new_from_http_string (date) : NULL;
  gint64 t = dt != NULL ? g_date_time_to_unix (dt) : 0;
  if (dt != NULL)
    g_date_time_unref (dt);
  if (dt == NULL || ABS (req->now_us / G_USEC_PER_SEC - t) > OSS_SKEW_S)
    return oss_error (req, 403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.");
  GArray *headers = g_array_new (FALSE, FALSE, sizeof (VhSignParam));
  SoupMessageHeadersIter it;
  const char *name, *value;
  soup_message_headers_iter_init (&it, soup_server_message_get_request_headers (req->msg));
  while (soup_message_headers_iter_next (&it, &name, &value))
    {
      VhSignParam p = { name, value };
      g_array_append_val (headers, p);
    }
  g_autofree gchar *resource = g_strdup_printf ("/%s/%s", bucket, key);
  VhSignature s;
  vh_sign_oss_v1 ("PUT", emu_request_header (req, "Content-MD5"), emu_request_header (req, "Content-Type"), date,
                  (const VhSignParam *) (gpointer) headers->data, headers->len, resource, id, secret, &s);
  gboolean ok = vh_sign_equal (s.signature, signature);
  vh_signature_clear (&s);
  g_array_free (headers, TRUE);
  if (!ok)
    return oss_error (req, 403, "SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you provided. "
                      "Check your key and signing method.");
  if (prefix != NULL && !g_str_has_prefix (key, prefix))
    return oss_error (req, 403, "AccessDenied", "You have no right to access this object.");
  if (g_bytes_get_size (req->body) > MAX_OBJECT)
    return oss_error (req, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.");
  emu_det_object_put (bucket, key, req->body);
  emu_stat_inc (emu, "oss_uploads");
  g_autofree gchar *md5 = g_compute_checksum_for_bytes (G_CHECKSUM_MD5, req->body);
  g_autofree gchar *etag = g_strdup_printf ("\"%s\"", md5);
  emu_reply_header (req, "ETag", etag);
  emu_reply_text (req, 200, "text/plain", "");
}

static void
bucket_handle (EmuRequest *req)
{
  emu_request_set_endpoint (req, "aliyun.oss", EMU_KIND_OTHER, NULL);
  if (emu_faults_request (req, oss_error))
    return;
  g_autofree gchar *bucket = bucket_of (req);
  const char *key = req->path + strlen (EMU_DET_OSS_PREFIX);
  if (*key == '/')
    key++;
  if (bucket == NULL)
    oss_error (req, 400, "InvalidBucketName", "Address the bucket as <bucket>.localhost:PORT.");
  else if (strcmp (req->method, "POST") == 0 && *key == '\0')
    post_object (req, bucket);
  else if (strcmp (req->method, "PUT") == 0 && *key != '\0')
    put_object (req, bucket, key);
  else
    oss_error (req, 403, "AccessDenied", "You have no right to access this object because of bucket acl.");
}

const EmuFamily emu_family_aliyun_oss = { "aliyun-oss", EMU_DET_OSS_PREFIX, TRUE, bucket_handle };
