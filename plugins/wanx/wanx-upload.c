/* wanx-upload.c — how a local image reaches DashScope.
 *
 * base64: a data URI inside the JSON body; one request, no storage, works
 *         in every region; the URI must stay under 10 MiB.
 * oss:    DashScope's free temporary storage (Beijing only): fetch an upload
 *         policy, POST the file to OSS as a form, refer to it as oss://KEY
 *         and send X-DashScope-OssResourceResolve on the model call.  The
 *         file lives 48 h and is bound to the model name used here.
 */
#include <string.h>
#include "wanx-private.h"

/* Renew a cached policy this long before the server says it expires. */
#define POLICY_MARGIN_US (30 * G_USEC_PER_SEC)
#define UPLOAD_TIMEOUT_MS 120000

void
wanx_policy_free (WanxPolicy *p)
{
  if (p == NULL)
    return;
  g_free (p->policy);
  g_free (p->signature);
  g_free (p->upload_dir);
  g_free (p->upload_host);
  g_free (p->access_key_id);
  g_free (p->acl);
  g_free (p->forbid_overwrite);
  g_free (p);
}

/* The documentation types these members as strings, its example shows
 * numbers: accept both. */
static gchar *
member_text (json_object *data, const char *key)
{
  json_object *v = vh_json_member (data, key);
  if (v == NULL || json_object_is_type (v, json_type_null))
    return NULL;
  if (json_object_is_type (v, json_type_string))
    return g_strdup (json_object_get_string (v));
  return g_strdup (json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN));
}

static WanxPolicy *
fetch_policy (WanxCall *c, GError **error)
{
  g_autofree gchar *model = g_uri_escape_string (c->w->model, NULL, FALSE);
  g_autofree gchar *path = g_strdup_printf ("/uploads?action=getPolicy&model=%s", model);
  WanxCall plain = *c;
  plain.uses_oss = FALSE;
  json_object *obj = wanx_request_json (&plain, "GET", path, NULL, FALSE,
                                        wanx_timeout_ms (c, c->w->request_timeout_ms), "upload policy", NULL,
                                        error);
  if (obj == NULL)
    return NULL;
  json_object *data = vh_json_member (obj, "data");
  WanxPolicy *p = g_new0 (WanxPolicy, 1);
  p->policy = member_text (data, "policy");
  p->signature = member_text (data, "signature");
  p->upload_dir = member_text (data, "upload_dir");
  p->upload_host = member_text (data, "upload_host");
  p->access_key_id = member_text (data, "oss_access_key_id");
  p->acl = member_text (data, "x_oss_object_acl");
  p->forbid_overwrite = member_text (data, "x_oss_forbid_overwrite");
  g_autofree gchar *expire = member_text (data, "expire_in_seconds");
  gint64 secs = expire != NULL ? g_ascii_strtoll (expire, NULL, 10) : 0;
  if (secs <= 0)
    secs = 300;
  p->expires_us = g_get_monotonic_time () + secs * G_USEC_PER_SEC - POLICY_MARGIN_US;
  json_object_put (obj);
  if (p->policy == NULL || p->signature == NULL || p->upload_dir == NULL || p->upload_host == NULL
      || p->access_key_id == NULL)
    {
      vh_set_error (error, VH_ERROR_INTERNAL, -1, "upload policy: answer lacks policy, signature, "
                    "upload_dir, upload_host or oss_access_key_id");
      wanx_policy_free (p);
      return NULL;
    }
  return p;
}

static WanxPolicy *
policy_copy (const WanxPolicy *p)
{
  WanxPolicy *copy = g_new0 (WanxPolicy, 1);
  copy->policy = g_strdup (p->policy);
  copy->signature = g_strdup (p->signature);
  copy->upload_dir = g_strdup (p->upload_dir);
  copy->upload_host = g_strdup (p->upload_host);
  copy->access_key_id = g_strdup (p->access_key_id);
  copy->acl = g_strdup (p->acl);
  copy->forbid_overwrite = g_strdup (p->forbid_overwrite);
  copy->expires_us = p->expires_us;
  return copy;
}

/* A copy of the instance's cached policy, fetched when missing or stale. */
static WanxPolicy *
get_policy (WanxCall *c, gboolean force_new, GError **error)
{
  Wanx *w = c->w;
  WanxPolicy *copy = NULL;
  g_mutex_lock (&w->policy_lock);
  if (force_new || (w->policy != NULL && w->policy->expires_us <= g_get_monotonic_time ()))
    g_clear_pointer (&w->policy, wanx_policy_free);
  if (w->policy != NULL)
    copy = policy_copy (w->policy);
  g_mutex_unlock (&w->policy_lock);
  if (copy != NULL)
    return copy;

  /* Fetched outside the lock: two rows may both fetch one, harmlessly. */
  WanxPolicy *fresh = fetch_policy (c, error);
  if (fresh == NULL)
    return NULL;
  copy = policy_copy (fresh);
  g_mutex_lock (&w->policy_lock);
  wanx_policy_free (w->policy);
  w->policy = fresh;
  g_mutex_unlock (&w->policy_lock);
  return copy;
}

static const char *
extension_of (VhImageFormat format)
{
  switch (format)
    {
    case VH_FORMAT_PNG: return "png";
    case VH_FORMAT_WEBP: return "webp";
    default: return "jpg";
    }
}

typedef enum { UPLOAD_OK, UPLOAD_RENEW, UPLOAD_FAILED } UploadResult;

static UploadResult
post_form (WanxCall *c, const WanxPolicy *p, const char *key, GBytes *bytes, const char *mime,
           const char *filename, GError **error)
{
  VhHttpPart parts[] = {
    { .name = "OSSAccessKeyId", .value = p->access_key_id },
    { .name = "Signature", .value = p->signature },
    { .name = "policy", .value = p->policy },
    { .name = "key", .value = key },
    { .name = "x-oss-object-acl", .value = p->acl != NULL ? p->acl : "private" },
    { .name = "x-oss-forbid-overwrite", .value = p->forbid_overwrite != NULL ? p->forbid_overwrite : "true" },
    { .name = "x-oss-content-type", .value = mime },
    { .name = "success_action_status", .value = "200" },
    /* OSS ignores every field after `file`: it must come last. */
    { .name = "file", .data = bytes, .filename = filename, .content_type = mime },
    { .name = NULL },
  };
  VhHttpRequest req = {
    .method = "POST",
    .url = p->upload_host,
    .parts = parts,
    .connect_timeout_ms = c->w->connect_timeout_ms,
    .timeout_ms = wanx_timeout_ms (c, UPLOAD_TIMEOUT_MS),
    .max_response_bytes = 256 * 1024,
  };
  GError *local = NULL;
  g_autoptr(VhHttpResponse) resp = vh_http_send (&req, c->cancel, &local);
  if (resp == NULL)
    {
      g_prefix_error (&local, "upload to OSS: ");
      g_propagate_error (error, local);
      return UPLOAD_FAILED;
    }
  if (resp->status >= 200 && resp->status < 300)
    return UPLOAD_OK;
  /* The key names the content's hash, so an existing object is this very
   * image uploaded by an earlier attempt. */
  if (resp->status == 409)
    return UPLOAD_OK;
  if (resp->status == 403)
    {
      /* "Policy expired" (or any refusal of the signed form): one renewal. */
      vh_set_error (error, VH_ERROR_TRANSIENT, -1, "upload to OSS: HTTP 403 (policy refused)");
      return UPLOAD_RENEW;
    }
  VhErrorClass klass = resp->status == 429 ? VH_ERROR_QUOTA
                       : resp->status >= 500 ? VH_ERROR_TRANSIENT : VH_ERROR_INTERNAL;
  vh_set_error (error, klass, resp->retry_after_ms, "upload to OSS: HTTP %ld", resp->status);
  return UPLOAD_FAILED;
}

static gchar *
upload_oss (WanxCall *c, const VhImage *image, GError **error)
{
  VhImageFormat format = vh_image_sniff (image->bytes);
  const char *mime = vh_image_mime (format);
  if (mime == NULL)
    mime = "application/octet-stream";
  g_autofree gchar *hash = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, image->bytes);
  g_autofree gchar *filename = g_strdup_printf ("%.32s.%s", hash, extension_of (format));

  for (int attempt = 0; attempt < 2; attempt++)
    {
      WanxPolicy *p = get_policy (c, attempt > 0, error);
      if (p == NULL)
        return NULL;
      gchar *key = g_strdup_printf ("%s/%s", p->upload_dir, filename);
      GError *local = NULL;
      UploadResult r = post_form (c, p, key, image->bytes, mime, filename, &local);
      wanx_policy_free (p);
      if (r == UPLOAD_OK)
        {
          gchar *url = g_strconcat ("oss://", key, NULL);
          g_free (key);
          c->uses_oss = TRUE;
          return url;
        }
      g_free (key);
      if (r == UPLOAD_FAILED || attempt == 1)
        {
          g_propagate_error (error, local);
          return NULL;
        }
      g_clear_error (&local);
    }
  g_assert_not_reached ();
}

/* The string to put in an image field of the request. */
gchar *
wanx_image_ref (WanxCall *c, const VhImage *image, GError **error)
{
  if (c->w->upload == WANX_UPLOAD_OSS)
    return upload_oss (c, image, error);
  return vh_image_to_data_uri (image);
}
