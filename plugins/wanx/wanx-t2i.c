/* wanx-t2i.c — text-to-image on text2image/image-synthesis (async). */
#include <string.h>
#include "wanx-private.h"

#define T2I_PATH "/services/aigc/text2image/image-synthesis"

/* The size to ask for: the configured "W*H" ("WxH" accepted), or with
 * "auto" each model family's documented default — wan2.5/2.6 need at least
 * 1280*1280 pixels, qwen-image's 1:1 size is 1328*1328, older wan models
 * default to 1024*1024.  NULL for "none" (the server's own default). */
gchar *
wanx_t2i_size (const Wanx *w)
{
  if (g_ascii_strcasecmp (w->size, "none") == 0)
    return NULL;
  if (g_ascii_strcasecmp (w->size, "auto") != 0)
    return g_strdelimit (g_strdup (w->size), "xX", '*');
  if (g_str_has_prefix (w->model, "wan2.5") || g_str_has_prefix (w->model, "wan2.6"))
    return g_strdup ("1280*1280");
  if (g_str_has_prefix (w->model, "qwen-image"))
    return g_strdup ("1328*1328");
  return g_strdup ("1024*1024");
}

gboolean
wanx_t2i_run (WanxCall *c, VhImage **output, GError **error)
{
  Wanx *w = c->w;
  if (c->task->prompt == NULL || *c->task->prompt == '\0')
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "t2i needs a prompt; row %s has none", c->task->index);
      return FALSE;
    }

  json_object *body = json_object_new_object ();
  json_object *input = json_object_new_object ();
  json_object *params = json_object_new_object ();
  json_object_object_add (body, "model", json_object_new_string (w->model));
  json_object_object_add (input, "prompt", json_object_new_string (c->task->prompt));
  if (w->negative_prompt != NULL)
    json_object_object_add (input, "negative_prompt", json_object_new_string (w->negative_prompt));
  g_autofree gchar *size = wanx_t2i_size (w);
  if (size != NULL)
    json_object_object_add (params, "size", json_object_new_string (size));
  /* n defaults to 4 and every image is billed. */
  json_object_object_add (params, "n", json_object_new_int (1));
  if (w->seed >= 0)
    json_object_object_add (params, "seed", json_object_new_int64 (w->seed));
  json_object_object_add (params, "prompt_extend", json_object_new_boolean (w->prompt_extend));
  json_object_object_add (params, "watermark", json_object_new_boolean (w->watermark));
  json_object_object_add (body, "input", input);
  json_object_object_add (body, "parameters", params);

  g_autofree gchar *url = wanx_task_run (c, T2I_PATH, body, error);
  json_object_put (body);
  if (url == NULL)
    return FALSE;
  *output = wanx_download (c, url, error);
  return *output != NULL;
}
