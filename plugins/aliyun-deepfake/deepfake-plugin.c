/* deepfake-plugin.c — options, descriptor and run() of the Alibaba Cloud
 * face deepfake detector stage.  China endpoints (cloudauth*.aliyuncs.com)
 * speak DeepfakeDetect 2019-03-07, the international one
 * (cloudauth-intl.<region>.aliyuncs.com) DeepfakeDetectIntl 2022-08-09;
 * `api = auto` picks from the endpoint's host, then from the region. */
#include <string.h>
#include "deepfake-private.h"

static const VhOption deepfake_options[] = {
  { "endpoint", VH_OPT_STRING, "https://cloudauth-intl.ap-southeast-1.aliyuncs.com",
    "API endpoint: https://cloudauth-intl.ap-southeast-1.aliyuncs.com (international), "
    "https://cloudauth.aliyuncs.com, https://cloudauth.cn-shanghai.aliyuncs.com, "
    "https://cloudauth.cn-beijing.aliyuncs.com (China)", NULL },
  { "region", VH_OPT_STRING, "ap-southeast-1", "region id (RegionId of the upload authorisation; cn-* means China)", NULL },
  { "api", VH_OPT_ENUM, "auto", "auto (from the endpoint, then the region), china (DeepfakeDetect) or intl "
    "(DeepfakeDetectIntl)", "auto,china,intl" },
  { "input", VH_OPT_ENUM, "base64",
    "base64: FaceBase64 in the body; stream: DeepfakeDetectIntlStream with the image uploaded to Alibaba's OSS "
    "first (AuthorizeFileUpload), international only", "base64,stream" },
  { "upload_endpoint", VH_OPT_STRING, "https://openplatform.aliyuncs.com",
    "where AuthorizeFileUpload is called for input = stream", NULL },
  { "scene_code", VH_OPT_STRING, "vhost", "international: SceneCode, up to 10 characters [A-Za-z0-9_]", NULL },
  VH_ACS_OPTIONS,
  VH_DETECT_OPTIONS,
  { NULL, 0, NULL, NULL, NULL },
};

/* JPEG; 1 MB (the older limit, and what base64 in a form body tolerates);
 * up to 1920x1080. */
static const VhImageLimits deepfake_limits = {
  .max_side = 1920,
  .max_pixels = 1920 * 1080,
  .max_bytes = 1024 * 1024,
  .format = VH_FORMAT_JPEG,
};

static void deepfake_destroy (gpointer self);

static DfApi
api_of (const char *api, const char *endpoint, const char *region)
{
  if (g_strcmp0 (api, "china") == 0)
    return DF_API_CHINA;
  if (g_strcmp0 (api, "intl") == 0)
    return DF_API_INTL;
  if (strstr (endpoint, "cloudauth-intl") != NULL)
    return DF_API_INTL;
  if (strstr (endpoint, "://cloudauth.") != NULL || strstr (endpoint, "://cloudauth-dualstack.") != NULL)
    return DF_API_CHINA;
  return g_str_has_prefix (region, "cn-") ? DF_API_CHINA : DF_API_INTL;
}

static gboolean
valid_scene (const char *s)
{
  gsize n = strlen (s);
  if (n > 10)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (s[i]) && s[i] != '_')
      return FALSE;
  return TRUE;
}

static gpointer
deepfake_create (VhHost *host, const VhConfig *config, GError **error)
{
  Deepfake *d = g_new0 (Deepfake, 1);
  if (!vh_detect_common_init (&d->common, config, error))
    {
      g_free (d);
      return NULL;
    }
  const char *name = d->common.instance;
  d->region = g_strdup (vh_config_get_string (config, "region"));
  d->scene_code = g_strdup (vh_config_get_string (config, "scene_code"));
  d->stream = g_strcmp0 (vh_config_get_string (config, "input"), "stream") == 0;
  d->endpoint = vh_detect_base_url (config, "endpoint", vh_config_get_string (config, "endpoint"), error);
  if (d->endpoint == NULL)
    goto fail;
  d->api = api_of (vh_config_get_string (config, "api"), d->endpoint, d->region);
  d->upload_endpoint = vh_detect_base_url (config, "upload_endpoint", vh_config_get_string (config, "upload_endpoint"),
                                           error);
  if (d->upload_endpoint == NULL)
    goto fail;
  if (!valid_scene (d->scene_code))
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "[instance %s] scene_code: up to 10 characters [A-Za-z0-9_]",
                    name);
      goto fail;
    }
  if (d->stream && d->api == DF_API_CHINA)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1,
                    "[instance %s] input = stream exists only for the international API (DeepfakeDetectIntlStream)",
                    name);
      goto fail;
    }
  if (!vh_acs_client_init (&d->acs, config, &d->common, error))
    goto fail;
  return d;
fail:
  deepfake_destroy (d);
  return NULL;
}

static gboolean
deepfake_run (gpointer self, const VhTask *task, const VhImage *input, VhImage **output, GCancellable *cancel,
              GError **error)
{
  Deepfake *d = self;
  *output = NULL;
  if (input == NULL)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1,
                    "%s is a detector stage: put it after a generator in the chain (row %s has no image)",
                    d->common.instance, task->index);
      return FALSE;
    }
  VhVerdict v;
  vh_verdict_init (&v, d->api == DF_API_CHINA ? "aliyun-cloudauth/DeepfakeDetect"
                       : d->stream ? "aliyun-cloudauth/DeepfakeDetectIntlStream"
                       : "aliyun-cloudauth/DeepfakeDetectIntl");
  gboolean ok = FALSE;
  g_autoptr (VhImage) fitted = vh_detect_fit (input, &deepfake_limits, "deepfake", error);
  if (fitted != NULL && deepfake_detect (d, fitted, cancel, &v, error))
    ok = vh_detect_finish (&d->common, task, input, &v, output, error);
  vh_verdict_clear (&v);
  return ok;
}

static void
deepfake_destroy (gpointer self)
{
  Deepfake *d = self;
  if (d == NULL)
    return;
  vh_acs_client_clear (&d->acs);
  vh_detect_common_clear (&d->common);
  g_free (d->endpoint);
  g_free (d->upload_endpoint);
  g_free (d->region);
  g_free (d->scene_code);
  g_free (d);
}

static const VhPlugin deepfake_plugin = {
  .abi = VH_PLUGIN_ABI,
  .struct_size = sizeof (VhPlugin),
  .name = "aliyun-deepfake",
  .version = "0.1.0",
  .summary = "detector stage: Alibaba Cloud ID Verification DeepfakeDetect / DeepfakeDetectIntl (forged faces)",
  .task_types = VH_TASK_ALL,
  .options = deepfake_options,
  .create = deepfake_create,
  .run = deepfake_run,
  .destroy = deepfake_destroy,
};

VH_PLUGIN_DEFINE (deepfake_plugin)
