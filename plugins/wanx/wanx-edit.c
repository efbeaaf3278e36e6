/* wanx-edit.c — image editing: wanx2.1-imageedit (input.function, async),
 * wan2.5-i2i (input.images[], async) and qwen-image-edit (multimodal
 * generation, synchronous).  The input is fitted to the model's documented
 * limits first, and the output is asked for at the input's aspect ratio. */
#include <math.h>
#include <string.h>
#include "wanx-private.h"

#define I2I_PATH   "/services/aigc/image2image/image-synthesis"
#define QWEN_PATH  "/services/aigc/multimodal-generation/generation"

/* A data URI may not exceed 10 485 760 bytes; base64 grows by 4/3, and the
 * documentation advises files under ~7 MB.  OSS uploads take 10 MB. */
#define MAX_BASE64_INPUT ((gsize) 7 * 1024 * 1024)
#define MAX_OSS_INPUT    ((gsize) 10 * 1000 * 1000)

static void
input_limits (const Wanx *w, VhImageLimits *l)
{
  memset (l, 0, sizeof *l);
  l->format = VH_FORMAT_UNKNOWN;
  l->max_bytes = w->upload == WANX_UPLOAD_OSS ? MAX_OSS_INPUT : MAX_BASE64_INPUT;
  switch (w->mode)
    {
    case WANX_MODE_IMAGEEDIT:   /* each side in [512, 4096] */
      l->min_side = 512;
      l->max_side = 4096;
      break;
    case WANX_MODE_QWEN_EDIT:   /* each side in [384, 3072] */
      l->min_side = 384;
      l->max_side = 3072;
      break;
    default:                    /* wan2.5-i2i: [384, 5000] per integrators; stay well inside */
      l->min_side = 384;
      l->max_side = 4096;
      break;
    }
}

/* "W*H" with about target_pixels at the aspect of width:height (clamped to
 * the 1:4..4:1 the APIs accept), sides multiples of `multiple` inside
 * [min_side, max_side]. */
gchar *
wanx_size_for_aspect (gint width, gint height, gint64 target_pixels, gint min_side, gint max_side, gint multiple)
{
  double ar = CLAMP ((double) width / MAX (height, 1), 0.25, 4.0);
  double w = sqrt ((double) target_pixels * ar);
  double h = sqrt ((double) target_pixels / ar);
  double scale = 1.0;
  if (MAX (w, h) > max_side)
    scale = max_side / MAX (w, h);
  if (MIN (w, h) * scale < min_side)
    scale = min_side / MIN (w, h);
  w *= scale;
  h *= scale;
  gint lo = ((min_side + multiple - 1) / multiple) * multiple;
  gint hi = (max_side / multiple) * multiple;
  gint wi = CLAMP ((gint) lround (w / multiple) * multiple, lo, hi);
  gint hi_ = CLAMP ((gint) lround (h / multiple) * multiple, lo, hi);
  return g_strdup_printf ("%d*%d", wi, hi_);
}

/* ------------------------------------------------------------ mask */

/* The mask for this row: the `mask` option with {index} replaced; absent
 * file = no mask.  Scaled to the base image's exact size (required) and
 * forced to pure black/white (other colours may be misread). */
static VhImage *
load_mask (WanxCall *c, const VhImage *base, GError **error)
{
  if (c->w->mask == NULL)
    return NULL;
  GString *path = g_string_new (c->w->mask);
  g_string_replace (path, "{index}", c->task->index, 0);
  if (!g_file_test (path->str, G_FILE_TEST_IS_REGULAR))
    {
      vh_log (VH_LOG_DEBUG, WANX_LOG, "%s: row %s: no mask at %s", c->w->instance, c->task->index, path->str);
      g_string_free (path, TRUE);
      return NULL;
    }
  g_autoptr(VhImage) raw = vh_image_new_from_file (path->str, error);
  g_string_free (path, TRUE);
  if (raw == NULL)
    return NULL;
  g_autoptr(VhPixels) px = vh_image_decode (raw, error);
  if (px == NULL)
    return NULL;
  g_autoptr(VhPixels) bpx = NULL;
  gint bw = base->width, bh = base->height;
  if (bw <= 0 || bh <= 0)
    {
      bpx = vh_image_decode (base, error);
      if (bpx == NULL)
        return NULL;
      bw = bpx->width;
      bh = bpx->height;
    }
  g_autoptr(VhPixels) sized = vh_pixels_resize (px, bw, bh);
  gsize n = (gsize) bw * bh;
  for (gsize i = 0; i < n; i++)
    {
      guint8 *p = sized->rgb + i * 3;
      guint8 v = (p[0] + p[1] + p[2]) >= 3 * 128 ? 255 : 0;
      p[0] = p[1] = p[2] = v;
    }
  return vh_image_encode_png (sized, error);
}

/* ------------------------------------------------------------ bodies */

static const char *
pick_function (WanxCall *c, gboolean have_mask)
{
  Wanx *w = c->w;
  const char *f = w->function;
  if (c->task->type == VH_TASK_VTTIE && w->vttie_function != NULL)
    f = w->vttie_function;
  if (g_strcmp0 (f, "auto") != 0)
    return f;
  /* Text edits (vttie) and scene edits (tie) are both instructions; a mask
   * confines the change to the region it marks, which is what keeps the
   * rest of a text-bearing photo intact. */
  return have_mask ? "description_edit_with_mask" : "description_edit";
}

static json_object *
imageedit_body (WanxCall *c, const char *base_ref, const char *mask_ref, const char *function)
{
  Wanx *w = c->w;
  json_object *body = json_object_new_object ();
  json_object *input = json_object_new_object ();
  json_object *params = json_object_new_object ();
  json_object_object_add (body, "model", json_object_new_string (w->model));
  json_object_object_add (input, "function", json_object_new_string (function));
  json_object_object_add (input, "prompt", json_object_new_string (c->task->prompt));
  json_object_object_add (input, "base_image_url", json_object_new_string (base_ref));
  if (mask_ref != NULL)
    json_object_object_add (input, "mask_image_url", json_object_new_string (mask_ref));
  json_object_object_add (params, "n", json_object_new_int (1));
  if (w->seed >= 0)
    json_object_object_add (params, "seed", json_object_new_int64 (w->seed));
  json_object_object_add (params, "watermark", json_object_new_boolean (w->watermark));
  /* strength is documented only for these two functions. */
  if (w->strength >= 0 && (g_strcmp0 (function, "description_edit") == 0
                           || g_strcmp0 (function, "stylization_all") == 0))
    json_object_object_add (params, "strength", json_object_new_double (w->strength));
  json_object_object_add (body, "input", input);
  json_object_object_add (body, "parameters", params);
  return body;
}

static gchar *
edit_size (WanxCall *c, const VhImage *fitted)
{
  Wanx *w = c->w;
  if (g_ascii_strcasecmp (w->size, "none") == 0)
    return NULL;
  if (g_ascii_strcasecmp (w->size, "auto") != 0)
    return g_strdelimit (g_strdup (w->size), "xX", '*');
  if (w->mode == WANX_MODE_QWEN_EDIT)
    {
      /* The first qwen-image-edit takes no size (and keeps the input's
       * aspect by itself); -plus/-max take sides in [512, 2048]. */
      if (g_strcmp0 (w->model, "qwen-image-edit") == 0)
        return NULL;
      return wanx_size_for_aspect (fitted->width, fitted->height, 1024 * 1024, 512, 2048, 16);
    }
  /* wan2.5-i2i: total pixels in [768*768, 1440*1440], ratio 1:4..4:1. */
  return wanx_size_for_aspect (fitted->width, fitted->height, 1280 * 1280, 384, 2880, 16);
}

static json_object *
i2i_body (WanxCall *c, const char *ref, const char *size)
{
  Wanx *w = c->w;
  json_object *body = json_object_new_object ();
  json_object *input = json_object_new_object ();
  json_object *params = json_object_new_object ();
  json_object *images = json_object_new_array ();
  json_object_object_add (body, "model", json_object_new_string (w->model));
  json_object_object_add (input, "prompt", json_object_new_string (c->task->prompt));
  json_object_array_add (images, json_object_new_string (ref));
  json_object_object_add (input, "images", images);
  if (w->negative_prompt != NULL)
    json_object_object_add (input, "negative_prompt", json_object_new_string (w->negative_prompt));
  if (size != NULL)
    json_object_object_add (params, "size", json_object_new_string (size));
  json_object_object_add (params, "n", json_object_new_int (1));
  if (w->seed >= 0)
    json_object_object_add (params, "seed", json_object_new_int64 (w->seed));
  json_object_object_add (params, "watermark", json_object_new_boolean (w->watermark));
  json_object_object_add (params, "prompt_extend", json_object_new_boolean (w->prompt_extend));
  json_object_object_add (body, "input", input);
  json_object_object_add (body, "parameters", params);
  return body;
}

static json_object *
qwen_body (WanxCall *c, const char *ref, const char *size)
{
  Wanx *w = c->w;
  json_object *body = json_object_new_object ();
  json_object *input = json_object_new_object ();
  json_object *params = json_object_new_object ();
  json_object *messages = json_object_new_array ();
  json_object *msg = json_object_new_object ();
  json_object *content = json_object_new_array ();
  json_object *image = json_object_new_object ();
  json_object *text = json_object_new_object ();

  json_object_object_add (image, "image", json_object_new_string (ref));
  json_object_object_add (text, "text", json_object_new_string (c->task->prompt));
  json_object_array_add (content, image);
  json_object_array_add (content, text);
  json_object_object_add (msg, "role", json_object_new_string ("user"));
  json_object_object_add (msg, "content", content);
  json_object_array_add (messages, msg);
  json_object_object_add (input, "messages", messages);

  json_object_object_add (body, "model", json_object_new_string (w->model));
  json_object_object_add (params, "n", json_object_new_int (1));
  if (w->negative_prompt != NULL)
    json_object_object_add (params, "negative_prompt", json_object_new_string (w->negative_prompt));
  if (size != NULL)
    json_object_object_add (params, "size", json_object_new_string (size));
  if (w->seed >= 0)
    json_object_object_add (params, "seed", json_object_new_int64 (w->seed));
  json_object_object_add (params, "watermark", json_object_new_boolean (w->watermark));
  json_object_object_add (params, "prompt_extend", json_object_new_boolean (w->prompt_extend));
  json_object_object_add (body, "input", input);
  json_object_object_add (body, "parameters", params);
  return body;
}

/* The synchronous endpoint: one long request, then the download. */
static gchar *
qwen_call (WanxCall *c, json_object *body, GError **error)
{
  json_object *obj = wanx_request_json (c, "POST", QWEN_PATH, body, FALSE,
                                        wanx_timeout_ms (c, c->w->sync_timeout_ms), "qwen edit", NULL, error);
  if (obj == NULL)
    return NULL;
  gchar *url = NULL;
  if (vh_json_str (obj, "code") != NULL && *vh_json_str (obj, "code") != '\0')
    wanx_set_api_error (error, NULL, obj, "qwen edit");
  else
    {
      /* The generation is over once this answer is in: free the quota slot
       * before the download, as the asynchronous flow does. */
      vh_task_release_slot (c->task);
      url = wanx_first_result_url (vh_json_member (obj, "output"), "qwen edit", error);
    }
  const char *rid = vh_json_str (obj, "request_id");
  if (rid != NULL)
    wanx_note_string (c, "wanx_request_id", rid);
  json_object_put (obj);
  return url;
}

/* ------------------------------------------------------------ run */

static VhImage *
fit_input (WanxCall *c, const VhImage *input, GError **error)
{
  VhImageLimits limits;
  input_limits (c->w, &limits);
  return vh_provider_fit_input (input, &limits, error);
}

gboolean
wanx_edit_run (WanxCall *c, const VhImage *input, VhImage **output, GError **error)
{
  Wanx *w = c->w;
  if (input == NULL)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "model %s edits an image; row %s has none",
                    w->model, c->task->index);
      return FALSE;
    }
  if (c->task->prompt == NULL || *c->task->prompt == '\0')
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "an edit needs an instruction; row %s has none",
                    c->task->index);
      return FALSE;
    }

  g_autoptr(VhImage) fitted = fit_input (c, input, error);
  if (fitted == NULL)
    return FALSE;
  g_autofree gchar *ref = wanx_image_ref (c, fitted, error);
  if (ref == NULL)
    return FALSE;

  json_object *body = NULL;
  g_autofree gchar *url = NULL;
  switch (w->mode)
    {
    case WANX_MODE_IMAGEEDIT:
      {
        GError *mask_error = NULL;
        g_autoptr(VhImage) mask = load_mask (c, fitted, &mask_error);
        if (mask_error != NULL)
          {
            g_prefix_error (&mask_error, "mask: ");
            g_propagate_error (error, mask_error);
            return FALSE;
          }
        const char *function = pick_function (c, mask != NULL);
        g_autofree gchar *mask_ref = NULL;
        if (g_strcmp0 (function, "description_edit_with_mask") == 0)
          {
            if (mask == NULL)
              {
                vh_set_error (error, VH_ERROR_INVALID_INPUT, -1,
                              "function description_edit_with_mask needs a mask; row %s has none",
                              c->task->index);
                return FALSE;
              }
            mask_ref = wanx_image_ref (c, mask, error);
            if (mask_ref == NULL)
              return FALSE;
          }
        body = imageedit_body (c, ref, mask_ref, function);
        url = wanx_task_run (c, I2I_PATH, body, error);
        break;
      }
    case WANX_MODE_I2I:
      {
        g_autofree gchar *size = edit_size (c, fitted);
        body = i2i_body (c, ref, size);
        url = wanx_task_run (c, I2I_PATH, body, error);
        break;
      }
    case WANX_MODE_QWEN_EDIT:
      {
        g_autofree gchar *size = edit_size (c, fitted);
        body = qwen_body (c, ref, size);
        url = qwen_call (c, body, error);
        break;
      }
    default:
      g_assert_not_reached ();
    }
  json_object_put (body);
  if (url == NULL)
    return FALSE;
  *output = wanx_download (c, url, error);
  return *output != NULL;
}
