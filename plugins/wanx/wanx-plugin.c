/* wanx-plugin.c — options, descriptor and the run() dispatch of the
 * DashScope plugin.
 *
 * Mode: `mode = auto` (default) derives the protocol from the model name,
 * so a new model of a known family works without a rebuild:
 *   "*imageedit*"          -> imageedit  (wanx2.1-imageedit, input.function)
 *   "qwen-image-edit*"     -> qwen-edit  (synchronous multimodal generation)
 *   "*-i2i*"               -> i2i        (wan2.5-i2i-preview, input.images[])
 *   anything else          -> t2i        (wanx2.x / wan2.x / qwen-image text-to-image)
 * Set `mode` explicitly for a model whose name does not follow the pattern.
 */
#include <string.h>
#include "wanx-private.h"

const VhOption wanx_options[] = {
  { "model", VH_OPT_STRING, "wanx2.1-t2i-turbo",
    "DashScope model name, e.g. wanx2.1-t2i-turbo, wan2.2-t2i-plus, wanx2.1-imageedit, qwen-image-edit-plus", NULL },
  { "mode", VH_OPT_ENUM, "auto",
    "protocol: auto (from the model name), t2i, imageedit, i2i (wan2.5-i2i), qwen-edit",
    "auto,t2i,imageedit,i2i,qwen-edit" },
  { "base_url", VH_OPT_STRING, "https://dashscope.aliyuncs.com/api/v1",
    "native API base of the key's region (Beijing default; Singapore https://dashscope-intl.aliyuncs.com/api/v1)", NULL },
  { "api_key_env", VH_OPT_ENV, "DASHSCOPE_API_KEY", "environment variable holding the API key", NULL },
  { "workspace", VH_OPT_STRING, "", "optional sub-workspace id (X-DashScope-WorkSpace)", NULL },
  { "size", VH_OPT_STRING, "auto",
    "output size W*H; auto = the model's default for t2i, the input's aspect ratio for edits; none = not sent", NULL },
  { "seed", VH_OPT_INT, "-1", "seed in [0, 2147483647]; -1 = random", NULL },
  { "negative_prompt", VH_OPT_STRING, "", "negative prompt (t2i, i2i, qwen-edit); empty = none", NULL },
  { "prompt_extend", VH_OPT_BOOL, "false", "let the service rewrite the prompt (slower, less literal)", NULL },
  { "watermark", VH_OPT_BOOL, "false", "add the \"AI生成\" mark", NULL },
  { "function", VH_OPT_STRING, "auto",
    "imageedit input.function; auto = description_edit, or description_edit_with_mask when a mask exists", NULL },
  { "vttie_function", VH_OPT_STRING, "",
    "input.function for vttie (text) rows; empty = as `function`", NULL },
  { "strength", VH_OPT_DOUBLE, "0.5",
    "imageedit strength in [0, 1] for description_edit/stylization_all (0 = close to the original); -1 = not sent", NULL },
  { "mask", VH_OPT_STRING, "",
    "imageedit mask file, {index} replaced by the row index (white = edit, black = keep); missing file = no mask", NULL },
  { "upload", VH_OPT_ENUM, "base64",
    "how local images reach the API: base64 data URI, or oss (temporary upload, Beijing only)", "base64,oss" },
  { "poll_first", VH_OPT_DURATION, "2s", "wait before the first poll of a task (no image task ends sooner); after 4 finished tasks, 3/4 of the shortest seen instead", NULL },
  { "poll_initial", VH_OPT_DURATION, "250ms", "wait between the first polls; grows x1.5 up to poll_max", NULL },
  { "poll_max", VH_OPT_DURATION, "800ms", "longest wait between two polls (short: a finished task holds a quota slot until it is seen)", NULL },
  { "poll_busy", VH_OPT_DURATION, "300ms", "longest wait between two polls while other rows wait for this instance's quota slot (0 = poll_max); keep tasks in flight per key / poll_busy under DashScope's 20 task queries/s per key", NULL },
  { "deadline", VH_OPT_DURATION, "10m", "total time for one row: submit, polls and download", NULL },
  { "request_timeout", VH_OPT_DURATION, "30s", "timeout of one submit/poll/download exchange", NULL },
  { "sync_timeout", VH_OPT_DURATION, "3m", "timeout of a synchronous qwen-image-edit call", NULL },
  { "connect_timeout", VH_OPT_DURATION, "10s", "TCP+TLS connect timeout", NULL },
  { NULL, 0, NULL, NULL, NULL },
};

static gchar *
dup_nonempty (const char *s)
{
  return s != NULL && *s != '\0' ? g_strdup (s) : NULL;
}

static WanxMode
mode_from_model (const char *mode, const char *model)
{
  if (g_strcmp0 (mode, "t2i") == 0)
    return WANX_MODE_T2I;
  if (g_strcmp0 (mode, "imageedit") == 0)
    return WANX_MODE_IMAGEEDIT;
  if (g_strcmp0 (mode, "i2i") == 0)
    return WANX_MODE_I2I;
  if (g_strcmp0 (mode, "qwen-edit") == 0)
    return WANX_MODE_QWEN_EDIT;
  if (strstr (model, "imageedit") != NULL)
    return WANX_MODE_IMAGEEDIT;
  if (g_str_has_prefix (model, "qwen-image-edit"))
    return WANX_MODE_QWEN_EDIT;
  if (strstr (model, "-i2i") != NULL)
    return WANX_MODE_I2I;
  return WANX_MODE_T2I;
}

static const char *
mode_name (WanxMode mode)
{
  static const char *const names[] = { "t2i", "imageedit", "i2i", "qwen-edit" };
  return names[mode];
}

static gboolean
valid_size (const char *size)
{
  if (g_ascii_strcasecmp (size, "auto") == 0 || g_ascii_strcasecmp (size, "none") == 0)
    return TRUE;
  g_auto(GStrv) parts = g_strsplit_set (size, "*xX", -1);
  if (g_strv_length (parts) != 2)
    return FALSE;
  for (int i = 0; i < 2; i++)
    {
      guint64 v = 0;
      if (!g_ascii_string_to_unsigned (parts[i], 10, 64, 10000, &v, NULL))
        return FALSE;
    }
  return TRUE;
}

static void wanx_destroy (gpointer self);

static gpointer
wanx_create (VhHost *host, const VhConfig *config, GError **error)
{
  const char *instance = vh_config_instance_name (config);
  const char *model = vh_config_get_string (config, "model");
  const char *base_url = vh_config_get_string (config, "base_url");
  const char *size = vh_config_get_string (config, "size");
  if (model == NULL || *model == '\0')
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "[instance %s] model is empty", instance);
      return NULL;
    }
  if (base_url == NULL || !(g_str_has_prefix (base_url, "https://") || g_str_has_prefix (base_url, "http://")))
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "[instance %s] base_url must be an http(s) URL", instance);
      return NULL;
    }
  if (size == NULL || !valid_size (size))
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1,
                    "[instance %s] size must be auto, none or W*H (e.g. 1024*1024)", instance);
      return NULL;
    }
  gdouble strength = vh_config_get_double (config, "strength");
  if (strength > 1.0 || (strength < 0.0 && strength != -1.0))
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "[instance %s] strength must be in [0, 1] or -1",
                    instance);
      return NULL;
    }
  gint64 seed = vh_config_get_int (config, "seed");
  if (seed > G_MAXINT32)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "[instance %s] seed must be in [0, 2147483647] or -1",
                    instance);
      return NULL;
    }

  gchar *key = vh_config_get_secret (config, "api_key_env", error);
  if (key == NULL)
    return NULL;

  Wanx *w = g_new0 (Wanx, 1);
  g_mutex_init (&w->policy_lock);
  w->host = host;
  w->instance = g_strdup (instance);
  w->model = g_strdup (model);
  w->mode = mode_from_model (vh_config_get_string (config, "mode"), model);
  w->base_url = g_strdup (base_url);
  while (g_str_has_suffix (w->base_url, "/"))
    w->base_url[strlen (w->base_url) - 1] = '\0';
  w->auth_header = g_strconcat ("Authorization: Bearer ", key, NULL);
  g_free (key);
  const char *ws = vh_config_get_string (config, "workspace");
  w->workspace_header = ws != NULL && *ws != '\0' ? g_strconcat ("X-DashScope-WorkSpace: ", ws, NULL) : NULL;
  w->size = g_strdup (size);
  w->seed = seed < 0 ? -1 : seed;
  w->negative_prompt = dup_nonempty (vh_config_get_string (config, "negative_prompt"));
  w->prompt_extend = vh_config_get_bool (config, "prompt_extend");
  w->watermark = vh_config_get_bool (config, "watermark");
  w->function = dup_nonempty (vh_config_get_string (config, "function"));
  if (w->function == NULL)
    w->function = g_strdup ("auto");
  w->vttie_function = dup_nonempty (vh_config_get_string (config, "vttie_function"));
  w->strength = strength;
  w->mask = dup_nonempty (vh_config_get_string (config, "mask"));
  w->upload = g_strcmp0 (vh_config_get_string (config, "upload"), "oss") == 0 ? WANX_UPLOAD_OSS
                                                                              : WANX_UPLOAD_BASE64;
  w->poll_first_ms = vh_config_get_duration_ms (config, "poll_first");
  w->poll_initial_ms = MAX (vh_config_get_duration_ms (config, "poll_initial"), 10);
  w->poll_max_ms = MAX (vh_config_get_duration_ms (config, "poll_max"), w->poll_initial_ms);
  w->poll_busy_ms = vh_config_get_duration_ms (config, "poll_busy");
  w->deadline_ms = MAX (vh_config_get_duration_ms (config, "deadline"), 1000);
  w->request_timeout_ms = MAX (vh_config_get_duration_ms (config, "request_timeout"), 1000);
  w->sync_timeout_ms = MAX (vh_config_get_duration_ms (config, "sync_timeout"), 1000);
  w->connect_timeout_ms = MAX (vh_config_get_duration_ms (config, "connect_timeout"), 500);

  vh_log (VH_LOG_DEBUG, WANX_LOG, "[instance %s] model %s, mode %s, upload %s, base %s", w->instance,
          w->model, mode_name (w->mode), w->upload == WANX_UPLOAD_OSS ? "oss" : "base64", w->base_url);
  return w;
}

static gboolean
wanx_run (gpointer self, const VhTask *task, const VhImage *input, VhImage **output,
          GCancellable *cancel, GError **error)
{
  Wanx *w = self;
  WanxCall c = {
    .w = w,
    .task = task,
    .cancel = cancel,
    .deadline_us = g_get_monotonic_time () + w->deadline_ms * 1000,
  };
  *output = NULL;

  if (cancel != NULL && g_cancellable_is_cancelled (cancel))
    {
      vh_set_error (error, VH_ERROR_CANCELLED, -1, "cancelled");
      return FALSE;
    }
  if (task->type == VH_TASK_DEEPFAKE)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "wanx does not do face swaps (row %s)", task->index);
      return FALSE;
    }

  gboolean ok;
  if (w->mode == WANX_MODE_T2I)
    {
      if (task->type != VH_TASK_T2I)
        {
          vh_set_error (error, VH_ERROR_INVALID_INPUT, -1,
                        "model %s is text-to-image; a %s row needs an editing model (mode imageedit/qwen-edit)",
                        w->model, task->type_name);
          return FALSE;
        }
      ok = wanx_t2i_run (&c, output, error);
    }
  else
    ok = wanx_edit_run (&c, input, output, error);

  if (ok && input != NULL && w->mode != WANX_MODE_T2I && input->width > 0 && input->height > 0
      && (*output)->width > 0 && (*output)->height > 0)
    {
      double want = (double) input->width / input->height;
      double got = (double) (*output)->width / (*output)->height;
      if (got / want > 1.02 || want / got > 1.02)
        vh_log (VH_LOG_WARNING, WANX_LOG, "[instance %s] row %s: output %dx%d does not keep the input's "
                "%dx%d aspect ratio", w->instance, task->index, (*output)->width, (*output)->height,
                input->width, input->height);
    }
  return ok;
}

static void
wanx_destroy (gpointer self)
{
  Wanx *w = self;
  if (w == NULL)
    return;
  g_free (w->instance);
  g_free (w->model);
  g_free (w->base_url);
  if (w->auth_header != NULL)
    memset (w->auth_header, 0, strlen (w->auth_header));
  g_free (w->auth_header);
  g_free (w->workspace_header);
  g_free (w->size);
  g_free (w->negative_prompt);
  g_free (w->function);
  g_free (w->vttie_function);
  g_free (w->mask);
  wanx_policy_free (w->policy);
  g_mutex_clear (&w->policy_lock);
  g_free (w);
}

static const VhPlugin wanx_plugin = {
  .abi = VH_PLUGIN_ABI,
  .struct_size = sizeof (VhPlugin),
  .name = "wanx",
  .version = "0.1.0",
  .summary = "Alibaba DashScope: wanx/wan/qwen text-to-image, wanx2.1-imageedit, wan2.5-i2i, qwen-image-edit",
  .task_types = VH_TASK_T2I | VH_TASK_TIE | VH_TASK_VTTIE,
  .options = wanx_options,
  .create = wanx_create,
  .run = wanx_run,
  .destroy = wanx_destroy,
};

VH_PLUGIN_DEFINE (wanx_plugin)
