/* aifake-plugin.c — options, descriptor and run() of the Tencent
 * DetectAIFakeFaces detector stage.  Placed after a generator in a chain:
 * it sends the image, notes the verdict as "verdict.<instance>" and passes
 * the image on unchanged (or fails the row as REJECTED above reject_above). */
#include <string.h>
#include "aifake-private.h"

static const VhOption aifake_options[] = {
  { "endpoint", VH_OPT_STRING, "https://faceid.tencentcloudapi.com",
    "API endpoint (international: https://faceid.intl.tencentcloudapi.com, availability unconfirmed)", NULL },
  { "region", VH_OPT_STRING, "ap-guangzhou", "X-TC-Region header; empty = not sent", NULL },
  { "secret_id_env", VH_OPT_ENV, "TENCENTCLOUD_SECRET_ID", "environment variable holding the SecretId", NULL },
  { "secret_key_env", VH_OPT_ENV, "TENCENTCLOUD_SECRET_KEY", "environment variable holding the SecretKey", NULL },
  VH_DETECT_OPTIONS,
  { NULL, 0, NULL, NULL, NULL },
};

/* JPG/PNG, at most 10 MB (3 MB recommended, and base64 grows it by a third),
 * 480x640 recommended: a generated image is sent as is when it fits. */
static const VhImageLimits aifake_limits = {
  .max_side = 2048,
  .max_bytes = 3 * 1024 * 1024,
  .format = VH_FORMAT_UNKNOWN,
};

static void aifake_destroy (gpointer self);

static gpointer
aifake_create (VhHost *host, const VhConfig *config, GError **error)
{
  AiFake *a = g_new0 (AiFake, 1);
  if (!vh_detect_common_init (&a->common, config, error))
    {
      g_free (a);
      return NULL;
    }
  a->endpoint = vh_detect_base_url (config, "endpoint", vh_config_get_string (config, "endpoint"), error);
  const char *region = vh_config_get_string (config, "region");
  a->region = region != NULL && *region != '\0' ? g_strdup (region) : NULL;
  if (a->endpoint == NULL
      || (a->secret_id = vh_config_get_secret (config, "secret_id_env", error)) == NULL
      || (a->secret_key = vh_config_get_secret (config, "secret_key_env", error)) == NULL)
    {
      aifake_destroy (a);
      return NULL;
    }
  return a;
}

static gboolean
aifake_run (gpointer self, const VhTask *task, const VhImage *input, VhImage **output, GCancellable *cancel,
            GError **error)
{
  AiFake *a = self;
  *output = NULL;
  if (input == NULL)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1,
                    "%s is a detector stage: put it after a generator in the chain (row %s has no image)",
                    a->common.instance, task->index);
      return FALSE;
    }
  VhVerdict v;
  vh_verdict_init (&v, "tencent-faceid/" AIFAKE_ACTION);
  gboolean ok = FALSE;
  g_autoptr (VhImage) fitted = vh_detect_fit (input, &aifake_limits, AIFAKE_ACTION, error);
  if (fitted != NULL)
    {
      json_object *response = aifake_call (a, fitted, cancel, error);
      if (response != NULL && aifake_verdict (response, &v, error))
        ok = vh_detect_finish (&a->common, task, input, &v, output, error);
      json_object_put (response);
    }
  vh_verdict_clear (&v);
  return ok;
}

static void
wipe (gchar *s)
{
  if (s != NULL)
    memset (s, 0, strlen (s));
  g_free (s);
}

static void
aifake_destroy (gpointer self)
{
  AiFake *a = self;
  if (a == NULL)
    return;
  vh_detect_common_clear (&a->common);
  g_free (a->endpoint);
  g_free (a->region);
  wipe (a->secret_id);
  wipe (a->secret_key);
  g_free (a);
}

static const VhPlugin aifake_plugin = {
  .abi = VH_PLUGIN_ABI,
  .struct_size = sizeof (VhPlugin),
  .name = "tencent-aifake",
  .version = "0.1.0",
  .summary = "detector stage: Tencent Cloud faceid DetectAIFakeFaces (AI-synthesised / spoofed faces)",
  .task_types = VH_TASK_ALL,
  .options = aifake_options,
  .create = aifake_create,
  .run = aifake_run,
  .destroy = aifake_destroy,
};

VH_PLUGIN_DEFINE (aifake_plugin)
