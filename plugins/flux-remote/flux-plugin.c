/* flux-plugin.c — options, descriptor and run() of the BFL plugin.
 *
 * The endpoint is {base_url}/v1/{model}, so a new model works without a
 * rebuild.  `kind = auto` derives the body shape from the model name:
 *   "*kontext*"  -> kontext (aspect_ratio, input_image: t2i and edits)
 *   "*ultra*"    -> ultra   (aspect_ratio; t2i only)
 *   otherwise    -> sized   (width/height multiples of 32 in [256, 1440]; t2i only)
 */
#include <string.h>
#include "flux-private.h"

const VhOption flux_options[] = {
  { "model", VH_OPT_STRING, "flux-kontext-pro",
    "BFL endpoint name: flux-kontext-pro, flux-kontext-max (edits and t2i), flux-pro-1.1, flux-dev, "
    "flux-pro-1.1-ultra (t2i)", NULL },
  { "kind", VH_OPT_ENUM, "auto", "request shape: auto (from the model name), sized, ultra, kontext",
    "auto,sized,ultra,kontext" },
  { "base_url", VH_OPT_STRING, "https://api.bfl.ai",
    "API base: https://api.bfl.ai (global), https://api.eu.bfl.ai, https://api.us.bfl.ai", NULL },
  { "api_key_env", VH_OPT_ENV, "BFL_API_KEY", "environment variable holding the x-key", NULL },
  { "width", VH_OPT_INT, "0",
    "sized models: output width, multiple of 32 in [256, 1440]; 0 = 1024, or the input's aspect", NULL },
  { "height", VH_OPT_INT, "0", "sized models: output height; 0 = as width", NULL },
  { "aspect_ratio", VH_OPT_STRING, "auto",
    "ultra/kontext: W:H between 21:9 and 9:21; auto = the input's ratio for edits, 1:1 for t2i", NULL },
  { "seed", VH_OPT_INT, "-1", "seed; -1 = random", NULL },
  { "safety_tolerance", VH_OPT_INT, "2", "moderation tolerance, 0 (strict) .. 6 (permissive)", NULL },
  { "output_format", VH_OPT_ENUM, "png", "format of the result (the host re-encodes to JPEG once)",
    "jpeg,png,webp" },
  { "prompt_upsampling", VH_OPT_BOOL, "false", "let BFL rewrite the prompt", NULL },
  { "raw", VH_OPT_BOOL, "false", "ultra: raw mode (less processed look)", NULL },
  { "steps", VH_OPT_INT, "0", "flux-dev: steps (1..50); 0 = server default", NULL },
  { "guidance", VH_OPT_DOUBLE, "0", "flux-dev: guidance (1.5..5); 0 = server default", NULL },
  { "poll_first", VH_OPT_DURATION, "2s", "wait before the first poll of a task (no image task ends sooner); after 4 finished tasks, 3/4 of the shortest seen instead", NULL },
  { "poll_initial", VH_OPT_DURATION, "250ms", "wait between the first polls; grows x1.5 up to poll_max", NULL },
  { "poll_max", VH_OPT_DURATION, "800ms", "longest wait between two polls (short: a finished task holds a quota slot until it is seen)", NULL },
  { "poll_busy", VH_OPT_DURATION, "300ms", "longest wait between two polls while other rows wait for this instance's quota slot (0 = poll_max); keep tasks in flight / poll_busy under the provider's query rate", NULL },
  { "deadline", VH_OPT_DURATION, "5m", "total time for one row: submit, polls and download", NULL },
  { "request_timeout", VH_OPT_DURATION, "60s", "timeout of one submit/poll/download exchange", NULL },
  { "connect_timeout", VH_OPT_DURATION, "10s", "TCP+TLS connect timeout", NULL },
  { NULL, 0, NULL, NULL, NULL },
};

static FluxKind
kind_of (const char *kind, const char *model)
{
  if (g_strcmp0 (kind, "sized") == 0)
    return FLUX_KIND_SIZED;
  if (g_strcmp0 (kind, "ultra") == 0)
    return FLUX_KIND_ULTRA;
  if (g_strcmp0 (kind, "kontext") == 0)
    return FLUX_KIND_KONTEXT;
  if (strstr (model, "kontext") != NULL)
    return FLUX_KIND_KONTEXT;
  if (strstr (model, "ultra") != NULL)
    return FLUX_KIND_ULTRA;
  return FLUX_KIND_SIZED;
}

static gboolean
valid_aspect (const char *ar)
{
  guint64 p = 0, q = 0;
  g_auto(GStrv) parts = g_strsplit (ar, ":", -1);
  if (g_strv_length (parts) != 2
      || !g_ascii_string_to_unsigned (parts[0], 10, 1, 100, &p, NULL)
      || !g_ascii_string_to_unsigned (parts[1], 10, 1, 100, &q, NULL))
    return FALSE;
  double r = (double) p / q;
  return r <= 21.0 / 9.0 + 1e-9 && r >= 9.0 / 21.0 - 1e-9;
}

static gboolean
valid_side (gint64 v)
{
  return v == 0 || (v >= 256 && v <= 1440 && v % 32 == 0);
}

static gpointer
flux_create (VhHost *host, const VhConfig *config, GError **error)
{
  const char *instance = vh_config_instance_name (config);
  const char *model = vh_config_get_string (config, "model");
  const char *base_url = vh_config_get_string (config, "base_url");
  const char *ar = vh_config_get_string (config, "aspect_ratio");
  gint64 width = vh_config_get_int (config, "width");
  gint64 height = vh_config_get_int (config, "height");
  gint64 tolerance = vh_config_get_int (config, "safety_tolerance");

  if (model == NULL || *model == '\0' || strchr (model, '/') != NULL || strchr (model, '?') != NULL)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "[instance %s] model must be an endpoint name", instance);
      return NULL;
    }
  if (base_url == NULL || !(g_str_has_prefix (base_url, "https://") || g_str_has_prefix (base_url, "http://")))
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "[instance %s] base_url must be an http(s) URL", instance);
      return NULL;
    }
  if (!valid_side (width) || !valid_side (height))
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1,
                    "[instance %s] width and height must be multiples of 32 in [256, 1440] (or 0)", instance);
      return NULL;
    }
  if (ar != NULL && *ar != '\0' && g_strcmp0 (ar, "auto") != 0 && !valid_aspect (ar))
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1,
                    "[instance %s] aspect_ratio must be W:H between 21:9 and 9:21, or auto", instance);
      return NULL;
    }
  if (tolerance < 0 || tolerance > 6)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "[instance %s] safety_tolerance must be in 0..6", instance);
      return NULL;
    }

  gchar *key = vh_config_get_secret (config, "api_key_env", error);
  if (key == NULL)
    return NULL;

  Flux *f = g_new0 (Flux, 1);
  f->instance = g_strdup (instance);
  f->model = g_strdup (model);
  f->kind = kind_of (vh_config_get_string (config, "kind"), model);
  f->base_url = g_strdup (base_url);
  while (g_str_has_suffix (f->base_url, "/"))
    f->base_url[strlen (f->base_url) - 1] = '\0';
  f->key_header = g_strconcat ("x-key: ", key, NULL);
  g_free (key);
  f->width = (gint) width;
  f->height = (gint) (height > 0 ? height : width);
  if (f->width == 0 && f->height > 0)
    f->width = f->height;
  f->aspect_ratio = ar != NULL && *ar != '\0' && g_strcmp0 (ar, "auto") != 0 ? g_strdup (ar) : NULL;
  gint64 seed = vh_config_get_int (config, "seed");
  f->seed = seed < 0 ? -1 : seed;
  f->safety_tolerance = (gint) tolerance;
  f->output_format = g_strdup (vh_config_get_string (config, "output_format"));
  f->prompt_upsampling = vh_config_get_bool (config, "prompt_upsampling");
  f->raw = vh_config_get_bool (config, "raw");
  f->steps = (gint) CLAMP (vh_config_get_int (config, "steps"), 0, 50);
  f->guidance = vh_config_get_double (config, "guidance");
  f->poll_first_ms = vh_config_get_duration_ms (config, "poll_first");
  f->poll_initial_ms = MAX (vh_config_get_duration_ms (config, "poll_initial"), 10);
  f->poll_max_ms = MAX (vh_config_get_duration_ms (config, "poll_max"), f->poll_initial_ms);
  f->poll_busy_ms = vh_config_get_duration_ms (config, "poll_busy");
  f->deadline_ms = MAX (vh_config_get_duration_ms (config, "deadline"), 1000);
  f->request_timeout_ms = MAX (vh_config_get_duration_ms (config, "request_timeout"), 1000);
  f->connect_timeout_ms = MAX (vh_config_get_duration_ms (config, "connect_timeout"), 500);
  vh_log (VH_LOG_DEBUG, FLUX_LOG, "[instance %s] model %s, base %s", f->instance, f->model, f->base_url);
  return f;
}

static gboolean
flux_run (gpointer self, const VhTask *task, const VhImage *input, VhImage **output,
          GCancellable *cancel, GError **error)
{
  Flux *f = self;
  FluxCall c = {
    .f = f,
    .task = task,
    .cancel = cancel,
    .deadline_us = g_get_monotonic_time () + f->deadline_ms * 1000,
  };
  *output = NULL;
  if (cancel != NULL && g_cancellable_is_cancelled (cancel))
    {
      vh_set_error (error, VH_ERROR_CANCELLED, -1, "cancelled");
      return FALSE;
    }
  if (task->prompt == NULL || *task->prompt == '\0')
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "row %s has no prompt", task->index);
      return FALSE;
    }
  gboolean edit = task->type == VH_TASK_TIE || task->type == VH_TASK_VTTIE;
  if (task->type == VH_TASK_DEEPFAKE)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "flux-remote does not do face swaps (row %s)", task->index);
      return FALSE;
    }
  if (edit && f->kind != FLUX_KIND_KONTEXT)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1,
                    "model %s only generates from text; a %s row needs flux-kontext-pro or -max",
                    f->model, task->type_name);
      return FALSE;
    }
  if (edit && input == NULL)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "%s row %s has no input image", task->type_name, task->index);
      return FALSE;
    }

  /* A t2i row never sends an image; an input (a chained stage) still sets
   * the geometry unless width/height or aspect_ratio are configured. */
  g_autoptr(VhImage) fitted = NULL;
  if (input != NULL)
    {
      fitted = flux_fit_input (input, error);
      if (fitted == NULL)
        return FALSE;
    }
  json_object *body = flux_build_body (&c, fitted, edit, error);
  if (body == NULL)
    return FALSE;
  *output = flux_generate (&c, body, error);
  json_object_put (body);
  return *output != NULL;
}

static void
flux_destroy (gpointer self)
{
  Flux *f = self;
  if (f == NULL)
    return;
  g_free (f->instance);
  g_free (f->model);
  g_free (f->base_url);
  if (f->key_header != NULL)
    memset (f->key_header, 0, strlen (f->key_header));
  g_free (f->key_header);
  g_free (f->aspect_ratio);
  g_free (f->output_format);
  g_free (f);
}

static const VhPlugin flux_plugin = {
  .abi = VH_PLUGIN_ABI,
  .struct_size = sizeof (VhPlugin),
  .name = "flux-remote",
  .version = "0.1.0",
  .summary = "Black Forest Labs API: FLUX1.1 pro/dev/ultra text-to-image, Kontext pro/max edits",
  .task_types = VH_TASK_T2I | VH_TASK_TIE | VH_TASK_VTTIE,
  .options = flux_options,
  .create = flux_create,
  .run = flux_run,
  .destroy = flux_destroy,
};

VH_PLUGIN_DEFINE (flux_plugin)
