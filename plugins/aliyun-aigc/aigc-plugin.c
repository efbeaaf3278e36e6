/* aigc-plugin.c — options, descriptor and run() of the Alibaba Cloud
 * "is this image AI-generated?" detector stage (Content Moderation 2.0
 * ImageModeration, service aigcDetector_global by default). */
#include <string.h>
#include "aigc-private.h"

static const VhOption aigc_options[] = {
  { "endpoint", VH_OPT_STRING, "https://green-cip.ap-southeast-1.aliyuncs.com",
    "API endpoint: https://green-cip.ap-southeast-1.aliyuncs.com (Singapore), "
    "https://green-cip.us-east-1.aliyuncs.com (Virginia); China: https://green-cip.cn-shanghai.aliyuncs.com ...", NULL },
  { "region", VH_OPT_STRING, "ap-southeast-1", "region id of the endpoint (informational)", NULL },
  { "service", VH_OPT_STRING, "aigcDetector_global",
    "Service code: aigcDetector_global (international), aigcDetector or aigcCheck (China)", NULL },
  { "oss_network", VH_OPT_ENUM, "internet",
    "upload through the token's OssInternetEndPoint, or OssInternalEndPoint inside Alibaba Cloud", "internet,internal" },
  VH_ACS_OPTIONS,
  VH_DETECT_OPTIONS,
  { NULL, 0, NULL, NULL, NULL },
};

/* The limits of ImageModeration itself are not published; Alibaba's other
 * image moderation front-end takes 20 MB and 30,000 px a side and must
 * download within 3 s: stay well under (the notes advise under 10 MB). */
static const VhImageLimits aigc_limits = {
  .max_side = 4096,
  .max_bytes = 5 * 1024 * 1024,
  .format = VH_FORMAT_UNKNOWN,
};

static void aigc_destroy (gpointer self);

static gpointer
aigc_create (VhHost *host, const VhConfig *config, GError **error)
{
  Aigc *a = g_new0 (Aigc, 1);
  g_mutex_init (&a->lock);
  if (!vh_detect_common_init (&a->common, config, error))
    {
      aigc_destroy (a);
      return NULL;
    }
  a->service = g_strdup (vh_config_get_string (config, "service"));
  a->internal_oss = g_strcmp0 (vh_config_get_string (config, "oss_network"), "internal") == 0;
  a->endpoint = vh_detect_base_url (config, "endpoint", vh_config_get_string (config, "endpoint"), error);
  if (a->endpoint == NULL)
    {
      aigc_destroy (a);
      return NULL;
    }
  if (a->service == NULL || *a->service == '\0')
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "[instance %s] service must name a Service code",
                    a->common.instance);
      aigc_destroy (a);
      return NULL;
    }
  if (!vh_acs_client_init (&a->acs, config, &a->common, error))
    {
      aigc_destroy (a);
      return NULL;
    }
  return a;
}

static gboolean
aigc_run (gpointer self, const VhTask *task, const VhImage *input, VhImage **output, GCancellable *cancel,
          GError **error)
{
  Aigc *a = self;
  *output = NULL;
  if (input == NULL)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1,
                    "%s is a detector stage: put it after a generator in the chain (row %s has no image)",
                    a->common.instance, task->index);
      return FALSE;
    }
  g_autofree gchar *service = g_strconcat ("aliyun-green/", a->service, NULL);
  VhVerdict v;
  vh_verdict_init (&v, service);
  gboolean ok = FALSE;
  g_autofree gchar *bucket = NULL;
  g_autofree gchar *object = NULL;
  g_autofree gchar *data_id = g_strdup_printf ("vhost-%s", task->index);
  g_autoptr (VhImage) fitted = vh_detect_fit (input, &aigc_limits, "ImageModeration", error);
  if (fitted != NULL && aigc_upload (a, fitted, cancel, &bucket, &object, error)
      && aigc_moderate (a, bucket, object, data_id, cancel, &v, error))
    ok = vh_detect_finish (&a->common, task, input, &v, output, error);
  vh_verdict_clear (&v);
  return ok;
}

static void
aigc_destroy (gpointer self)
{
  Aigc *a = self;
  if (a == NULL)
    return;
  vh_acs_client_clear (&a->acs);
  vh_detect_common_clear (&a->common);
  aigc_token_free (a->token);
  g_mutex_clear (&a->lock);
  g_free (a->endpoint);
  g_free (a->service);
  g_free (a);
}

static const VhPlugin aigc_plugin = {
  .abi = VH_PLUGIN_ABI,
  .struct_size = sizeof (VhPlugin),
  .name = "aliyun-aigc",
  .version = "0.1.0",
  .summary = "detector stage: Alibaba Cloud Content Moderation ImageModeration, AIGC detection (aigcDetector_global)",
  .task_types = VH_TASK_ALL,
  .options = aigc_options,
  .create = aigc_create,
  .run = aigc_run,
  .destroy = aigc_destroy,
};

VH_PLUGIN_DEFINE (aigc_plugin)
