/* deepfake-upload.c — the FaceFile input of DeepfakeDetectIntlStream, as the
 * official SDK's "advance" helper does it (aliyun-cloudauth-deepfake.md 1.3):
 *   1. AuthorizeFileUpload (openplatform 2019-12-19, GET, signed with the AK)
 *   2. OSS PostObject of the bytes with the returned policy (file part last)
 *   3. FaceFile = "http://<Bucket>.<Endpoint>/<ObjectKey>"
 * The policy's lifetime is not documented, so a fresh one is asked for
 * every image, immediately before the call. */
#include <string.h>
#include "deepfake-private.h"

#define MAX_UPLOAD_ANSWER ((gsize) 64 * 1024)

/* Where the bucket answers: virtual-hosted style under the endpoint, with
 * the scheme of our own upload_endpoint (https for the real one). */
static gchar *
bucket_url (Deepfake *d, const char *bucket, const char *endpoint)
{
  const char *scheme = g_str_has_prefix (d->upload_endpoint, "http://") ? "http" : "https";
  return g_strdup_printf ("%s://%s.%s", scheme, bucket, endpoint);
}

static gboolean
post_object (Deepfake *d, json_object *auth, const VhImage *image, GCancellable *cancel, GError **error)
{
  const char *bucket = vh_json_str (auth, "Bucket");
  const char *endpoint = vh_json_str (auth, "Endpoint");
  json_object *accel = vh_json_member (auth, "UseAccelerate");
  gboolean use_accel = accel != NULL && json_object_get_boolean (accel);
  g_autofree gchar *url = bucket_url (d, bucket, use_accel ? "oss-accelerate.aliyuncs.com" : endpoint);
  const char *mime = vh_image_mime (vh_image_sniff (image->bytes));
  VhHttpPart parts[] = {
    { "OSSAccessKeyId", vh_json_str (auth, "AccessKeyId"), NULL, NULL, NULL },
    { "policy", vh_json_str (auth, "EncodedPolicy"), NULL, NULL, NULL },
    { "Signature", vh_json_str (auth, "Signature"), NULL, NULL, NULL },
    { "key", vh_json_str (auth, "ObjectKey"), NULL, NULL, NULL },
    { "success_action_status", "201", NULL, NULL, NULL },
    { "file", NULL, image->bytes, "face.jpg", mime != NULL ? mime : "image/jpeg" },   /* last, as OSS requires */
    { NULL, NULL, NULL, NULL, NULL },
  };
  VhHttpRequest req = {
    .method = "POST",
    .url = url,
    .parts = parts,
    .connect_timeout_ms = d->common.connect_timeout_ms,
    .timeout_ms = d->common.request_timeout_ms,
    .max_response_bytes = MAX_UPLOAD_ANSWER,
  };
  GError *local = NULL;
  g_autoptr (VhHttpResponse) resp = vh_http_send (&req, cancel, &local);
  if (resp == NULL)
    {
      g_prefix_error (&local, "OSS upload: ");
      g_propagate_error (error, local);
      return FALSE;
    }
  if (resp->status == 201 || resp->status == 200 || resp->status == 204)
    return TRUE;
  /* The policy is the service's, not ours: a 403 is an expired or refused
   * policy that a new one can fix, not a bad key of ours. */
  VhErrorClass klass = resp->status == 429 || resp->status == 503 ? VH_ERROR_QUOTA
                       : resp->status == 403 || resp->status >= 500 ? VH_ERROR_TRANSIENT
                       : VH_ERROR_INVALID_INPUT;
  vh_set_error (error, klass, klass == VH_ERROR_INVALID_INPUT ? -1 : resp->retry_after_ms,
                "OSS upload: HTTP %ld", resp->status);
  return FALSE;
}

gchar *
deepfake_upload (Deepfake *d, const VhImage *image, GCancellable *cancel, GError **error)
{
  VhSignParam query[] = { { "Product", "Cloudauth-intl" }, { "RegionId", d->region } };
  VhAcsCall call = {
    .endpoint = d->upload_endpoint, .method = "GET", .action = "AuthorizeFileUpload", .version = "2019-12-19",
    .query = query, .n_query = G_N_ELEMENTS (query),
  };
  VhAcsReply reply;
  json_object *auth = vh_acs_call (&d->acs, &call, cancel, &reply, error);
  if (auth == NULL)
    return NULL;
  gchar *face_file = NULL;
  if (!(reply.status >= 200 && reply.status < 300) || vh_json_member (auth, "Code") != NULL)
    vh_acs_set_error (error, call.action, &reply, auth, "Code", "Message");
  else if (vh_json_str (auth, "Bucket") == NULL || vh_json_str (auth, "Endpoint") == NULL
           || vh_json_str (auth, "ObjectKey") == NULL || vh_json_str (auth, "EncodedPolicy") == NULL
           || vh_json_str (auth, "Signature") == NULL || vh_json_str (auth, "AccessKeyId") == NULL)
    vh_set_error (error, VH_ERROR_INTERNAL, -1, "%s: answer without the upload policy fields", call.action);
  else if (post_object (d, auth, image, cancel, error))
    /* Plain http and the non-accelerated endpoint, exactly as the SDK builds it. */
    face_file = g_strdup_printf ("http://%s.%s/%s", vh_json_str (auth, "Bucket"), vh_json_str (auth, "Endpoint"),
                                 vh_json_str (auth, "ObjectKey"));
  json_object_put (auth);
  return face_file;
}
