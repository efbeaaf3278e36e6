/* aigc-upload.c — local images reach ImageModeration through Alibaba's own
 * bucket, as documented (aliyun-green-aigc.md section 4):
 *   1. DescribeUploadToken (same endpoint and version, no parameters):
 *      STS credentials, bucket, key prefix, OSS endpoints, Expiration (s);
 *      cached per instance and refreshed when it expires, as the official
 *      sample does;
 *   2. OSS PutObject to https://<BucketName>.<OssInternetEndPoint>/<key>,
 *      key = FileNamePrefix + a unique name + extension, signed with the STS
 *      credentials (OSS V1, x-oss-security-token);
 *   3. the caller names {ossBucketName, ossObjectName} in ServiceParameters. */
#include <string.h>
#include "aigc-private.h"

#define MAX_UPLOAD_ANSWER ((gsize) 64 * 1024)
#define TOKEN_MARGIN_S 60        /* never start an upload on a token about to expire */

static void
wipe (gchar *s)
{
  if (s != NULL)
    memset (s, 0, strlen (s));
  g_free (s);
}

void
aigc_token_free (AigcToken *t)
{
  if (t == NULL)
    return;
  wipe (t->access_key_id);
  wipe (t->access_key_secret);
  wipe (t->security_token);
  g_free (t->bucket);
  g_free (t->prefix);
  g_free (t->oss_endpoint);
  g_free (t);
}

static AigcToken *
token_copy (const AigcToken *t)
{
  AigcToken *c = g_new0 (AigcToken, 1);
  c->access_key_id = g_strdup (t->access_key_id);
  c->access_key_secret = g_strdup (t->access_key_secret);
  c->security_token = g_strdup (t->security_token);
  c->bucket = g_strdup (t->bucket);
  c->prefix = g_strdup (t->prefix);
  c->oss_endpoint = g_strdup (t->oss_endpoint);
  c->expiration = t->expiration;
  return c;
}

static AigcToken *
describe_upload_token (Aigc *a, GCancellable *cancel, GError **error)
{
  VhAcsCall call = { .endpoint = a->endpoint, .method = "POST", .action = "DescribeUploadToken",
                     .version = AIGC_VERSION };
  VhAcsReply reply;
  json_object *body = vh_acs_call (&a->acs, &call, cancel, &reply, error);
  if (body == NULL)
    return NULL;
  AigcToken *t = NULL;
  json_object *code = vh_json_member (body, "Code");
  json_object *data = vh_json_member (body, "Data");
  if (!(reply.status >= 200 && reply.status < 300) || code == NULL || json_object_get_int64 (code) != 200)
    {
      gint64 n;
      if (vh_json_int (code, &n))
        {
          VhErrorClass klass = aigc_code_class (n);
          vh_set_error (error, klass, klass == VH_ERROR_QUOTA ? reply.retry_after_ms : -1,
                        "DescribeUploadToken: Code %" G_GINT64_FORMAT " (HTTP %ld)", n, reply.status);
        }
      else
        vh_acs_set_error (error, call.action, &reply, body, "Code", "Message");
    }
  else
    {
      const char *endpoint = vh_json_str (data, a->internal_oss ? "OssInternalEndPoint" : "OssInternetEndPoint");
      gdouble expiration = 0;
      if (vh_json_str (data, "AccessKeyId") == NULL || vh_json_str (data, "AccessKeySecret") == NULL
          || vh_json_str (data, "BucketName") == NULL || endpoint == NULL
          || !vh_json_number (vh_json_member (data, "Expiration"), &expiration))
        vh_set_error (error, VH_ERROR_INTERNAL, -1, "DescribeUploadToken: answer without the upload fields");
      else
        {
          t = g_new0 (AigcToken, 1);
          t->access_key_id = g_strdup (vh_json_str (data, "AccessKeyId"));
          t->access_key_secret = g_strdup (vh_json_str (data, "AccessKeySecret"));
          t->security_token = g_strdup (vh_json_str (data, "SecurityToken"));
          t->bucket = g_strdup (vh_json_str (data, "BucketName"));
          t->prefix = g_strdup (vh_json_str (data, "FileNamePrefix") != NULL ? vh_json_str (data, "FileNamePrefix") : "");
          t->oss_endpoint = g_strdup (endpoint);
          t->expiration = (gint64) expiration;
          /* Temporary credentials go through the log redaction like ours. */
          vh_redact_register (t->access_key_secret);
          if (t->security_token != NULL && *t->security_token != '\0')
            vh_redact_register (t->security_token);
        }
    }
  json_object_put (body);
  return t;
}

/* A private copy of a valid token, fetching a new one when needed. */
static AigcToken *
current_token (Aigc *a, gboolean force_new, GCancellable *cancel, GError **error)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_mutex_lock (&a->lock);
  if (force_new || (a->token != NULL && a->token->expiration <= now + TOKEN_MARGIN_S))
    g_clear_pointer (&a->token, aigc_token_free);
  if (a->token == NULL)
    a->token = describe_upload_token (a, cancel, error);   /* under the lock: one refresh for all workers */
  AigcToken *copy = a->token != NULL ? token_copy (a->token) : NULL;
  g_mutex_unlock (&a->lock);
  return copy;
}

static const char *
extension (VhImageFormat f)
{
  return f == VH_FORMAT_PNG ? ".png" : f == VH_FORMAT_WEBP ? ".webp" : ".jpg";
}

gboolean
aigc_upload (Aigc *a, const VhImage *image, GCancellable *cancel, gchar **bucket, gchar **object, GError **error)
{
  for (int attempt = 0; attempt < 2; attempt++)
    {
      AigcToken *t = current_token (a, attempt > 0, cancel, error);
      if (t == NULL)
        return FALSE;
      VhImageFormat fmt = vh_image_sniff (image->bytes);
      const char *mime = vh_image_mime (fmt) != NULL ? vh_image_mime (fmt) : "image/jpeg";
      g_autofree gchar *uuid = g_uuid_string_random ();
      g_autofree gchar *key = g_strconcat (t->prefix, uuid, extension (fmt), NULL);
      g_autofree gchar *resource = g_strdup_printf ("/%s/%s", t->bucket, key);
      g_autofree gchar *date = vh_sign_http_date (g_get_real_time () / G_USEC_PER_SEC);
      VhSignParam oss_headers[] = { { "x-oss-security-token", t->security_token } };
      gsize n_oss = t->security_token != NULL && *t->security_token != '\0' ? 1 : 0;
      VhSignature sig;
      vh_sign_oss_v1 ("PUT", NULL, mime, date, oss_headers, n_oss, resource, t->access_key_id, t->access_key_secret, &sig);
      /* The scheme of our own endpoint: https for the real service. */
      const char *scheme = g_str_has_prefix (a->endpoint, "http://") ? "http" : "https";
      g_autofree gchar *url = g_strdup_printf ("%s://%s.%s/%s", scheme, t->bucket, t->oss_endpoint, key);
      g_autofree gchar *h_date = g_strdup_printf ("Date: %s", date);
      g_autofree gchar *h_type = g_strdup_printf ("Content-Type: %s", mime);
      g_autofree gchar *h_auth = g_strdup_printf ("Authorization: %s", sig.authorization);
      g_autofree gchar *h_token = n_oss > 0 ? g_strdup_printf ("x-oss-security-token: %s", t->security_token) : NULL;
      vh_signature_clear (&sig);
      const char *headers[] = { h_date, h_type, h_auth, h_token, NULL };
      gsize len = 0;
      const void *data = g_bytes_get_data (image->bytes, &len);
      VhHttpRequest req = {
        .method = "PUT",
        .url = url,
        .headers = headers,
        .body = data,
        .body_len = len,
        .connect_timeout_ms = a->common.connect_timeout_ms,
        .timeout_ms = a->common.request_timeout_ms,
        .max_response_bytes = MAX_UPLOAD_ANSWER,
      };
      GError *local = NULL;
      VhHttpResponse *resp = vh_http_send (&req, cancel, &local);
      if (resp == NULL)
        {
          aigc_token_free (t);
          g_prefix_error (&local, "OSS PutObject: ");
          g_propagate_error (error, local);
          return FALSE;
        }
      glong status = resp->status;
      gint64 retry_after = resp->retry_after_ms;
      vh_http_response_free (resp);
      if (status == 200)
        {
          *bucket = g_strdup (t->bucket);
          *object = g_steal_pointer (&key);
          aigc_token_free (t);
          return TRUE;
        }
      aigc_token_free (t);
      /* A token refused before its announced expiry: one fresh token, once. */
      if (status == 403 && attempt == 0)
        continue;
      VhErrorClass klass = status == 429 || status == 503 ? VH_ERROR_QUOTA
                           : status == 403 || status >= 500 ? VH_ERROR_TRANSIENT : VH_ERROR_INVALID_INPUT;
      vh_set_error (error, klass, klass == VH_ERROR_INVALID_INPUT ? -1 : retry_after, "OSS PutObject: HTTP %ld",
                    status);
      return FALSE;
    }
  return FALSE;
}
