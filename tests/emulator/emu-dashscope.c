/* DashScope native API (/api/v1): the async text2image and image2image
 * task protocol, the synchronous multimodal-generation endpoint of the Qwen
 * image models, task polling and cancel, and getPolicy of the temporary
 * upload.  Field names, defaults (n = 4 for t2i), limits and error codes
 * follow /work/shared/protocols/dashscope.md; every refusal uses the flat
 * {code, message, request_id} body with the documented HTTP status. */
#include "emu.h"
#include <math.h>
#include <string.h>

#define DS_MAX_FILE (10 * 1024 * 1024)
#define DS_MAX_DATA_URI 10485760

/* ------------------------------------------------------------ replies */

static void
ds_error (EmuRequest *req, guint status, const char *code, const char *message)
{
  if (!code)
    code = status == 429 ? "Throttling.RateQuota" : status == 503 ? "ModelUnavailable" : "InternalError";
  if (!message)
    message = status == 429 ? "Requests rate limit exceeded, please try again later."
              : status == 503 ? "Model is unavailable, please try again later."
                              : "An internal error has occured, please try again later or contact service support.";
  json_object *o = json_object_new_object ();
  gchar *rid = emu_new_id (req->emu, NULL);
  json_object_object_add (o, "code", json_object_new_string (code));
  json_object_object_add (o, "message", json_object_new_string (message));
  json_object_object_add (o, "request_id", json_object_new_string (rid));
  g_free (rid);
  emu_reply_json (req, status, o);
}

static void
ds_ok (EmuRequest *req, json_object *body)
{
  gchar *rid = emu_new_id (req->emu, NULL);
  json_object_object_add (body, "request_id", json_object_new_string (rid));
  g_free (rid);
  emu_reply_json (req, 200, body);
}

/* ------------------------------------------------------------ helpers */

static gboolean
parse_size (const char *text, gint *w, gint *h)
{
  if (!text)
    return FALSE;
  const char *star = strchr (text, '*');
  if (!star || star == text || !star[1])
    return FALSE;
  for (const char *p = text; *p; p++)
    if (p != star && !g_ascii_isdigit (*p))
      return FALSE;
  *w = atoi (text);
  *h = atoi (star + 1);
  return *w > 0 && *h > 0;
}

static gint64
get_int (json_object *obj, const char *path, gint64 fallback, gboolean *bad)
{
  json_object *v = emu_json_get (obj, path);
  if (!v)
    return fallback;
  if (!json_object_is_type (v, json_type_int))
    {
      *bad = TRUE;
      return fallback;
    }
  return json_object_get_int64 (v);
}

static gboolean
get_bool (json_object *obj, const char *path, gboolean fallback)
{
  json_object *v = emu_json_get (obj, path);
  return v ? json_object_get_boolean (v) : fallback;
}

static gchar *
truncate_utf8 (const char *s, glong max_chars)
{
  if (!g_utf8_validate (s, -1, NULL))
    return g_strdup (s);
  return g_utf8_strlen (s, -1) > max_chars ? g_utf8_substring (s, 0, max_chars) : g_strdup (s);
}

/* Scale w x h to about `area` pixels keeping the ratio, sides rounded to 16. */
static void
fit_area (gint w, gint h, gdouble area, gint *ow, gint *oh)
{
  gdouble ratio = (gdouble) w / MAX (1, h);
  gdouble fw = sqrt (area * ratio), fh = fw / ratio;
  *ow = MAX (16, (gint) (fw / 16 + 0.5) * 16);
  *oh = MAX (16, (gint) (fh / 16 + 0.5) * 16);
}

static void
cap_side (gint *w, gint *h, gint max)
{
  gint side = MAX (*w, *h);
  if (side > max)
    {
      *w = MAX (1, (gint) ((gint64) *w * max / side));
      *h = MAX (1, (gint) ((gint64) *h * max / side));
    }
}

/* Loads one input image and answers the documented error when it fails.
 * Returns NULL when the request was answered. */
static EmuInput *
ds_input (EmuRequest *req, const char *ref, const char *field, gint min_side, gint max_side)
{
  gboolean resolve = !g_strcmp0 (emu_request_header (req, "X-DashScope-OssResourceResolve"), "enable");
  EmuInput *in = NULL;
  gchar *msg = NULL;
  switch (emu_input_load (req, ref, DS_MAX_FILE, DS_MAX_DATA_URI, FALSE, resolve, req->model, &in))
    {
    case EMU_INPUT_OK:
      if (in->width < min_side || in->height < min_side || in->width > max_side || in->height > max_side)
        {
          msg = g_strdup_printf ("The resolution of %s is %dx%d; width and height must be in [%d, %d].", field,
                                 in->width, in->height, min_side, max_side);
          ds_error (req, 400, "InvalidImageResolution", msg);
          g_free (msg);
          emu_input_free (in);
          return NULL;
        }
      return in;
    case EMU_INPUT_TOO_BIG:
      if (g_str_has_prefix (ref, "data:") && strlen (ref) > DS_MAX_DATA_URI)
        ds_error (req, 400, "InvalidParameter", "Exceeded limit on max bytes per data-uri item : 10485760");
      else
        ds_error (req, 400, "InvalidFile.Size", "The image file size exceeds the limit of 10MB.");
      return NULL;
    case EMU_INPUT_NEEDS_RESOLVE:
      ds_error (req, 400, "invalid_parameter_error",
                "The provided URL does not appear to be valid. Ensure it is correctly formatted.");
      return NULL;
    case EMU_INPUT_DOWNLOAD_FAILED:
      ds_error (req, 400, "InvalidParameter.DataInspection",
                "Unable to download the media resource during the data inspection process.");
      return NULL;
    case EMU_INPUT_BAD_DATA:
    default:
      msg = g_strdup_printf ("The image in %s is not a valid JPG, JPEG, PNG, BMP, TIFF or WEBP file.", field);
      ds_error (req, 400, "InvalidImageFormat", msg);
      g_free (msg);
      return NULL;
    }
}

/* Quota check for a submission; answers 429 itself. */
static gboolean
ds_admit (EmuRequest *req, const EmuSettings *s)
{
  gdouble retry = 0;
  EmuQuotaVerdict v = emu_quota_admit (req->emu, s, req->api_key, req->model, &retry);
  if (v == EMU_QUOTA_OK)
    return TRUE;
  if (s->retry_after_s > 0)
    emu_reply_retry_after (req, MAX (s->retry_after_s, retry));
  if (v == EMU_QUOTA_QPS)
    ds_error (req, 429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.");
  else
    ds_error (req, 429, "Throttling.RateQuota",
              "Too many tasks in flight for this model, please try again after a running task finishes.");
  return FALSE;
}

/* Task-stage fault for a new submission; moderation of the input is
 * refused at once like the real input inspection. */
static gboolean
ds_take_task_fault (EmuRequest *req, EmuFaultHit *hit)
{
  emu_faults_take (req->emu, req->endpoint, EMU_KIND_SUBMIT, req->model, EMU_STAGE_TASK, hit);
  if (hit->type == EMU_FAULT_MODERATION_INPUT)
    {
      if (req->record)
        json_object_object_add (req->record, "fault", json_object_new_string ("moderation_input"));
      ds_error (req, 400, hit->code ? hit->code : "DataInspectionFailed",
                hit->message ? hit->message : "Input data may contain inappropriate content.");
      emu_fault_hit_clear (hit);
      return FALSE;
    }
  if (hit->type != EMU_FAULT_NONE && req->record)
    json_object_object_add (req->record, "fault", json_object_new_string (emu_fault_type_name (hit->type)));
  return TRUE;
}

static EmuTask *
ds_new_task (EmuRequest *req, const EmuSettings *s, EmuGenSpec *spec, gint n, EmuFaultHit *hit)
{
  EmuTask *t = emu_task_new (req->emu, "dashscope", req->endpoint, req->api_key, req->model, s, NULL);
  t->spec = spec;
  t->n = n;
  emu_task_apply_fault (t, hit);
  emu_task_make_results (req->emu, t, s, hit->type == EMU_FAULT_EXPIRED_URL);
  emu_quota_note_in_flight (req->emu, req->api_key, req->model);
  emu_fault_hit_clear (hit);
  return t;
}

static void
ds_submitted (EmuRequest *req, EmuTask *t)
{
  json_object *o = json_object_new_object (), *out = json_object_new_object ();
  json_object_object_add (out, "task_id", json_object_new_string (t->id));
  json_object_object_add (out, "task_status", json_object_new_string ("PENDING"));
  json_object_object_add (o, "output", out);
  ds_ok (req, o);
}

static gboolean
ds_require_async (EmuRequest *req)
{
  if (!g_strcmp0 (emu_request_header (req, "X-DashScope-Async"), "enable"))
    return TRUE;
  ds_error (req, 403, "AccessDenied", "current user api does not support synchronous calls");
  return FALSE;
}

static gboolean
ds_require_json (EmuRequest *req)
{
  if (req->json && json_object_is_type (req->json, json_type_object))
    return TRUE;
  ds_error (req, 400, "InvalidParameter", "Required body invalid, please check the request body format.");
  return FALSE;
}

static gboolean
ds_check_common (EmuRequest *req, gint n, gint n_max, gboolean bad_type)
{
  gboolean bad = FALSE;
  gint64 seed = get_int (req->json, "parameters.seed", 0, &bad);
  if (bad || bad_type)
    {
      ds_error (req, 400, "InvalidParameter", "parameters.n and parameters.seed must be integers.");
      return FALSE;
    }
  if (seed < 0 || seed > 2147483647)
    {
      ds_error (req, 400, "InvalidParameter", "parameters.seed must be in [0, 2147483647].");
      return FALSE;
    }
  if (n < 1 || n > n_max)
    {
      gchar *m = g_strdup_printf ("parameters.n must be in [1, %d].", n_max);
      ds_error (req, 400, "InvalidParameter", m);
      g_free (m);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------ text2image */

typedef enum { SIZE_SIDES, SIZE_WAN25, SIZE_QWEN } SizeRule;

static const struct {
  const char *model;
  glong       max_prompt;
  SizeRule    size;
  gint        n_max;
} t2i_models[] = {
  { "wan2.5-t2i-preview", 2000, SIZE_WAN25, 4 },
  { "wan2.2-t2i-flash", 500, SIZE_SIDES, 4 },
  { "wan2.2-t2i-plus", 500, SIZE_SIDES, 4 },
  { "wanx2.1-t2i-turbo", 500, SIZE_SIDES, 4 },
  { "wanx2.1-t2i-plus", 500, SIZE_SIDES, 4 },
  { "wanx2.0-t2i-turbo", 800, SIZE_SIDES, 4 },
  { "qwen-image", 800, SIZE_QWEN, 1 },
  { "qwen-image-plus", 800, SIZE_QWEN, 1 },
};

static const char *const qwen_sizes[] = { "1664*928", "1328*1328", "928*1664", "1472*1104", "1104*1472",
                                          "1472*1140", "1140*1472", NULL };

static gboolean
check_size (EmuRequest *req, SizeRule rule, const char *size, gint *w, gint *h)
{
  if (!size)
    {
      *w = *h = rule == SIZE_WAN25 ? 1280 : rule == SIZE_QWEN ? 1328 : 1024;
      return TRUE;
    }
  if (!parse_size (size, w, h))
    {
      ds_error (req, 400, "InvalidParameter", "The size parameter is invalid; use the form \"1024*1024\".");
      return FALSE;
    }
  gboolean ok;
  const char *why;
  if (rule == SIZE_SIDES)
    ok = *w >= 512 && *w <= 1440 && *h >= 512 && *h <= 1440, why = "each side must be in [512, 1440]";
  else if (rule == SIZE_WAN25)
    {
      gint64 px = (gint64) *w * *h;
      ok = px >= 1280 * 1280 && px <= 1440 * 1440 && *w * 4 >= *h && *h * 4 >= *w;
      why = "total pixels must be in [1280*1280, 1440*1440] with an aspect ratio between 1:4 and 4:1";
    }
  else
    ok = g_strv_contains (qwen_sizes, size), why = "size must be one of 1664*928, 1328*1328, 928*1664, 1472*1104, 1104*1472";
  if (!ok)
    {
      gchar *m = g_strdup_printf ("The size %s is not supported: %s.", size, why);
      ds_error (req, 400, "InvalidParameter", m);
      g_free (m);
    }
  return ok;
}

static void
ds_text2image (EmuRequest *req)
{
  guint i;
  for (i = 0; i < G_N_ELEMENTS (t2i_models); i++)
    if (!g_strcmp0 (t2i_models[i].model, req->model))
      break;
  if (!req->model)
    return ds_error (req, 400, "BadRequest.EmptyModel", "Required parameter \"model\" missing from request.");
  if (i == G_N_ELEMENTS (t2i_models))
    return ds_error (req, 404, "ModelNotFound", "Model not exist.");
  if (!emu_json_get (req->json, "input"))
    return ds_error (req, 400, "BadRequest.EmptyInput", "Required input parameter missing from request.");
  const char *prompt = emu_json_string (req->json, "input.prompt");
  if (!prompt || !*prompt)
    return ds_error (req, 400, "InvalidParameter", "Field required: input.prompt");
  gboolean bad = FALSE;
  gint n = (gint) get_int (req->json, "parameters.n", 4, &bad);   /* documented default: 4 */
  if (!ds_check_common (req, n, t2i_models[i].n_max, bad))
    return;
  gint w, h;
  if (!check_size (req, t2i_models[i].size, emu_json_string (req->json, "parameters.size"), &w, &h))
    return;
  EmuSettings s;
  emu_config_settings (req->emu, req->endpoint, req->model, &s);
  if (!ds_admit (req, &s))
    return;
  EmuFaultHit hit;
  if (!ds_take_task_fault (req, &hit))
    return;
  gchar *actual = truncate_utf8 (prompt, t2i_models[i].max_prompt);   /* silent, as documented */
  gint64 seed = get_int (req->json, "parameters.seed", 0, &bad);
  EmuTask *t = ds_new_task (req, &s, emu_gen_spec_new (actual, seed, w, h, VH_FORMAT_PNG, NULL), n, &hit);
  json_object_object_add (t->extra, "orig_prompt", json_object_new_string (prompt));
  if (get_bool (req->json, "parameters.prompt_extend", TRUE))
    {
      gchar *ext = g_strdup_printf ("%s, highly detailed, natural light, sharp focus", actual);
      json_object_object_add (t->extra, "actual_prompt", json_object_new_string (ext));
      g_free (ext);
    }
  json_object_object_add (t->extra, "t2i", json_object_new_boolean (TRUE));
  g_free (actual);
  ds_submitted (req, t);
}

/* ------------------------------------------------------------ image2image */

static const char *const edit_functions[] = {
  "stylization_all", "stylization_local", "description_edit", "description_edit_with_mask",
  "remove_watermark", "expand", "super_resolution", "colorization", "doodle", "control_cartoon_feature", NULL
};

static gboolean
range_param (EmuRequest *req, const char *path, gdouble lo, gdouble hi, gdouble fallback, gdouble *out)
{
  json_object *v = emu_json_get (req->json, path);
  *out = v ? json_object_get_double (v) : fallback;
  if (*out < lo || *out > hi)
    {
      gchar *m = g_strdup_printf ("%s must be in [%g, %g].", path, lo, hi);
      ds_error (req, 400, "InvalidParameter", m);
      g_free (m);
      return FALSE;
    }
  return TRUE;
}

static void
ds_imageedit (EmuRequest *req)
{
  const char *function = emu_json_string (req->json, "input.function");
  const char *prompt = emu_json_string (req->json, "input.prompt");
  const char *base = emu_json_string (req->json, "input.base_image_url");
  const char *mask = emu_json_string (req->json, "input.mask_image_url");
  if (!function || !g_strv_contains (edit_functions, function))
    return ds_error (req, 400, "InvalidParameter", "input.function is missing or not supported.");
  if (!prompt || !*prompt)
    return ds_error (req, 400, "InvalidParameter", "Field required: input.prompt");
  if (!base)
    return ds_error (req, 400, "InvalidParameter", "Field required: input.base_image_url");
  gboolean with_mask = !strcmp (function, "description_edit_with_mask");
  if (with_mask && !mask)
    return ds_error (req, 400, "InvalidParameter", "Field required: input.mask_image_url");
  gboolean bad = FALSE;
  gint n = (gint) get_int (req->json, "parameters.n", 1, &bad);
  if (!ds_check_common (req, n, 4, bad))
    return;
  gdouble strength, ls, rs, ts, bs, up;
  if (!range_param (req, "parameters.strength", 0, 1, 0.5, &strength)
      || !range_param (req, "parameters.left_scale", 1, 2, 1, &ls)
      || !range_param (req, "parameters.right_scale", 1, 2, 1, &rs)
      || !range_param (req, "parameters.top_scale", 1, 2, 1, &ts)
      || !range_param (req, "parameters.bottom_scale", 1, 2, 1, &bs)
      || !range_param (req, "parameters.upscale_factor", 1, 4, 1, &up))
    return;
  EmuInput *in = ds_input (req, base, "base_image_url", 512, 4096);
  if (!in)
    return;
  if (with_mask)
    {
      EmuInput *m = ds_input (req, mask, "mask_image_url", 512, 4096);
      if (!m)
        return emu_input_free (in);
      gboolean same = m->width == in->width && m->height == in->height;
      emu_input_free (m);
      if (!same)
        {
          emu_input_free (in);
          return ds_error (req, 400, "InvalidParameter", "The mask image must have the same resolution as the base image.");
        }
    }
  gint w = in->width, h = in->height;
  if (!strcmp (function, "expand"))
    w = (gint) (w * (ls + rs - 1)), h = (gint) (h * (ts + bs - 1));
  else if (!strcmp (function, "super_resolution"))
    w = (gint) (w * (gint) up), h = (gint) (h * (gint) up);
  /* Bounded so an emulated 4x upscale stays cheap to encode. */
  cap_side (&w, &h, 4096);
  EmuSettings s;
  emu_config_settings (req->emu, req->endpoint, req->model, &s);
  EmuFaultHit hit;
  if (!ds_admit (req, &s) || !ds_take_task_fault (req, &hit))
    return emu_input_free (in);
  gint64 seed = get_int (req->json, "parameters.seed", 0, &bad);
  gchar *p = truncate_utf8 (prompt, 800);
  EmuTask *t = ds_new_task (req, &s, emu_gen_spec_new (p, seed, w, h, VH_FORMAT_PNG, in->pixels), n, &hit);
  g_free (p);
  emu_input_free (in);
  ds_submitted (req, t);
}

static void
ds_wan25_edit (EmuRequest *req)
{
  const char *prompt = emu_json_string (req->json, "input.prompt");
  json_object *images = emu_json_get (req->json, "input.images");
  if (!prompt || !*prompt)
    return ds_error (req, 400, "InvalidParameter", "Field required: input.prompt");
  if (!images || !json_object_is_type (images, json_type_array) || json_object_array_length (images) < 1
      || json_object_array_length (images) > 3)
    return ds_error (req, 400, "InvalidParameter", "input.images must hold 1 to 3 images.");
  gboolean bad = FALSE;
  gint n = (gint) get_int (req->json, "parameters.n", 4, &bad);
  if (!ds_check_common (req, n, 4, bad))
    return;
  EmuInput *first = NULL;
  for (size_t i = 0; i < json_object_array_length (images); i++)
    {
      EmuInput *in = ds_input (req, json_object_get_string (json_object_array_get_idx (images, i)), "input.images",
                               384, 5000);
      if (!in)
        return emu_input_free (first);
      if (first)
        emu_input_free (in);
      else
        first = in;
    }
  gint w, h;
  const char *size = emu_json_string (req->json, "parameters.size");
  if (size)
    {
      gint64 px;
      if (!parse_size (size, &w, &h) || (px = (gint64) w * h) < 768 * 768 || px > 1440 * 1440 || w * 4 < h || h * 4 < w)
        {
          emu_input_free (first);
          return ds_error (req, 400, "InvalidParameter", "The size parameter is invalid: total pixels in [768*768, 1440*1440], ratio 1:4 to 4:1.");
        }
    }
  else
    fit_area (first->width, first->height, 1280.0 * 1280.0, &w, &h);
  EmuSettings s;
  emu_config_settings (req->emu, req->endpoint, req->model, &s);
  EmuFaultHit hit;
  if (!ds_admit (req, &s) || !ds_take_task_fault (req, &hit))
    return emu_input_free (first);
  gint64 seed = get_int (req->json, "parameters.seed", 0, &bad);
  EmuTask *t = ds_new_task (req, &s, emu_gen_spec_new (prompt, seed, w, h, VH_FORMAT_PNG, first->pixels), n, &hit);
  emu_input_free (first);
  ds_submitted (req, t);
}

static void
ds_image2image (EmuRequest *req)
{
  if (!req->model)
    return ds_error (req, 400, "BadRequest.EmptyModel", "Required parameter \"model\" missing from request.");
  if (!strcmp (req->model, "wanx2.1-imageedit"))
    return ds_imageedit (req);
  if (!strcmp (req->model, "wan2.5-i2i-preview"))
    return ds_wan25_edit (req);
  ds_error (req, 404, "ModelNotFound", "Model not exist.");
}

/* ------------------------------------------------------------ multimodal (sync) */

static void
ds_multimodal (EmuRequest *req)
{
  if (!g_strcmp0 (emu_request_header (req, "X-DashScope-Async"), "enable"))
    return ds_error (req, 403, "AccessDenied", "current user api does not support asynchronous calls");
  const char *model = req->model;
  if (!model)
    return ds_error (req, 400, "BadRequest.EmptyModel", "Required parameter \"model\" missing from request.");
  gboolean edit_v1 = !strcmp (model, "qwen-image-edit");
  gboolean edit_plus = g_str_has_prefix (model, "qwen-image-edit-plus") || g_str_has_prefix (model, "qwen-image-edit-max");
  gboolean t2i = !strcmp (model, "qwen-image") || !strcmp (model, "qwen-image-plus") || !strcmp (model, "qwen-image-max");
  if (!edit_v1 && !edit_plus && !t2i)
    return ds_error (req, 404, "ModelNotFound", "Model not exist.");
  json_object *messages = emu_json_get (req->json, "input.messages");
  if (!messages || !json_object_is_type (messages, json_type_array) || json_object_array_length (messages) != 1)
    return ds_error (req, 400, "InvalidParameter", "messages length only support 1");
  json_object *m0 = json_object_array_get_idx (messages, 0);
  json_object *content = emu_json_get (m0, "content");
  if (g_strcmp0 (emu_json_string (m0, "role"), "user") || !content || !json_object_is_type (content, json_type_array))
    return ds_error (req, 400, "InvalidParameter", "The message must have role \"user\" and a content array.");
  GPtrArray *images = g_ptr_array_new ();
  const char *text = NULL;
  guint texts = 0;
  for (size_t i = 0; i < json_object_array_length (content); i++)
    {
      json_object *item = json_object_array_get_idx (content, i);
      const char *img = emu_json_string (item, "image"), *txt = emu_json_string (item, "text");
      if (img)
        g_ptr_array_add (images, (gpointer) img);
      else if (txt)
        text = txt, texts++;
    }
  guint max_images = t2i ? 0 : edit_v1 ? 1 : 3;
  const char *problem = NULL;
  if (texts != 1)
    problem = "The content must hold exactly one text item.";
  else if (edit_v1 && json_object_array_length (content) != 2)
    problem = "content length only support 2";
  else if (images->len > max_images || (!t2i && images->len == 0))
    problem = t2i ? "This model takes no image input." : "The number of images is not supported by this model.";
  if (problem)
    {
      g_ptr_array_free (images, TRUE);
      return ds_error (req, 400, "InvalidParameter", problem);
    }
  gboolean bad = FALSE;
  gint n = (gint) get_int (req->json, "parameters.n", 1, &bad);
  if (edit_v1 && n != 1)
    {
      g_ptr_array_free (images, TRUE);
      return ds_error (req, 400, "InvalidParameter", "num_images_per_prompt must be 1");
    }
  if (!ds_check_common (req, n, edit_plus ? 6 : 1, bad))
    return (void) g_ptr_array_free (images, TRUE);
  const char *size = emu_json_string (req->json, "parameters.size");
  gint w = 0, h = 0;
  if (size && edit_v1)
    {
      g_ptr_array_free (images, TRUE);
      return ds_error (req, 400, "InvalidParameter", "qwen-image-edit does not accept parameters.size.");
    }
  if (t2i && !check_size (req, SIZE_QWEN, size, &w, &h))
    return (void) g_ptr_array_free (images, TRUE);
  if (edit_plus && size && (!parse_size (size, &w, &h) || w < 512 || w > 2048 || h < 512 || h > 2048))
    {
      g_ptr_array_free (images, TRUE);
      return ds_error (req, 400, "InvalidParameter", "The size parameter is invalid: each side must be in [512, 2048].");
    }
  EmuInput *last = NULL;
  for (guint i = 0; i < images->len; i++)
    {
      EmuInput *in = ds_input (req, images->pdata[i], "image", 384, 3072);
      if (!in)
        {
          emu_input_free (last);
          return (void) g_ptr_array_free (images, TRUE);
        }
      emu_input_free (last);
      last = in;   /* the last image decides the output's aspect ratio */
    }
  g_ptr_array_free (images, TRUE);
  if (last && w == 0)
    fit_area (last->width, last->height, 1024.0 * 1024.0, &w, &h);

  EmuSettings s;
  emu_config_settings (req->emu, req->endpoint, model, &s);
  EmuFaultHit hit;
  if (!ds_admit (req, &s) || !ds_take_task_fault (req, &hit))
    return emu_input_free (last);
  gint64 seed = get_int (req->json, "parameters.seed", 0, &bad);
  gchar *p = truncate_utf8 (text, 800);
  EmuFaultType fault = hit.type;
  gchar *fcode = g_strdup (hit.code), *fmsg = g_strdup (hit.message);
  EmuTask *t = ds_new_task (req, &s, emu_gen_spec_new (p, seed, w, h, VH_FORMAT_PNG, last ? last->pixels : NULL), n, &hit);
  g_free (p);
  emu_input_free (last);
  gint64 delay = MAX (0, t->done_us - g_get_real_time ());

  if (fault == EMU_FAULT_STUCK)
    emu_reply_hang (req);           /* a synchronous call that never returns */
  else if (t->outcome == EMU_OUTCOME_MOD_OUTPUT)
    ds_error (req, 400, fcode ? fcode : "DataInspectionFailed", fmsg ? fmsg : "Output data may contain inappropriate content.");
  else if (t->outcome == EMU_OUTCOME_FAILED)
    ds_error (req, 500, fcode ? fcode : "InternalError", fmsg);
  else
    {
      json_object *items = json_object_new_array ();
      for (guint i = 0; i < t->urls->len; i++)
        {
          json_object *it = json_object_new_object ();
          json_object_object_add (it, "image", json_object_new_string (t->urls->pdata[i]));
          json_object_array_add (items, it);
        }
      json_object *msg = json_object_new_object ();
      json_object_object_add (msg, "role", json_object_new_string ("assistant"));
      json_object_object_add (msg, "content", items);
      json_object *choice = json_object_new_object ();
      json_object_object_add (choice, "finish_reason", json_object_new_string ("stop"));
      json_object_object_add (choice, "message", msg);
      json_object *choices = json_object_new_array ();
      json_object_array_add (choices, choice);
      json_object *output = json_object_new_object ();
      json_object_object_add (output, "choices", choices);
      json_object *usage = json_object_new_object ();
      json_object_object_add (usage, "width", json_object_new_int (w));
      json_object_object_add (usage, "height", json_object_new_int (h));
      json_object_object_add (usage, "image_count", json_object_new_int ((int) t->urls->len));
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "output", output);
      json_object_object_add (o, "usage", usage);
      ds_ok (req, o);
    }
  g_free (fcode);
  g_free (fmsg);
  if (fault != EMU_FAULT_STUCK)
    emu_reply_delay (req, delay);
}

/* ------------------------------------------------------------ tasks */

static json_object *
task_output (EmuTask *t, gint64 now, json_object **usage)
{
  static const char *const names[] = { "PENDING", "RUNNING", "SUCCEEDED", "CANCELED" };
  EmuPhase phase = emu_task_phase (t, now);
  json_object *out = json_object_new_object ();
  json_object_object_add (out, "task_id", json_object_new_string (t->id));
  const char *status = names[phase];
  gboolean failed = phase == EMU_PHASE_DONE && t->outcome != EMU_OUTCOME_OK && t->outcome != EMU_OUTCOME_PARTIAL;
  if (failed)
    status = "FAILED";
  json_object_object_add (out, "task_status", json_object_new_string (status));
  gchar *ts = emu_format_time (t->submit_us);
  json_object_object_add (out, "submit_time", json_object_new_string (ts));
  g_free (ts);
  if (phase == EMU_PHASE_PENDING || phase == EMU_PHASE_CANCELED)
    return out;
  ts = emu_format_time (t->start_us);
  json_object_object_add (out, "scheduled_time", json_object_new_string (ts));
  g_free (ts);
  gint ok = phase == EMU_PHASE_DONE ? (gint) t->urls->len : 0;
  gint fail = phase == EMU_PHASE_DONE ? t->n - ok : 0;
  if (phase == EMU_PHASE_DONE)
    {
      ts = emu_format_time (t->done_us);
      json_object_object_add (out, "end_time", json_object_new_string (ts));
      g_free (ts);
      if (failed)
        {
          gboolean mod = t->outcome == EMU_OUTCOME_MOD_OUTPUT || t->outcome == EMU_OUTCOME_MOD_INPUT;
          json_object_object_add (out, "code", json_object_new_string (t->code ? t->code : mod ? "DataInspectionFailed" : "InternalError"));
          json_object_object_add (out, "message", json_object_new_string (
            t->message ? t->message : mod ? "Output data may contain inappropriate content."
                                          : "An internal error has occured during execution, please try again later or contact service support."));
        }
      else
        {
          json_object *results = json_object_new_array ();
          json_object *t2i = NULL;
          json_object_object_get_ex (t->extra, "t2i", &t2i);
          for (gint i = 0; i < t->n; i++)
            {
              json_object *r = json_object_new_object ();
              if (i < ok)
                {
                  json_object *v;
                  if (t2i && json_object_object_get_ex (t->extra, "orig_prompt", &v))
                    json_object_object_add (r, "orig_prompt", json_object_get (v));
                  if (t2i && json_object_object_get_ex (t->extra, "actual_prompt", &v))
                    json_object_object_add (r, "actual_prompt", json_object_get (v));
                  json_object_object_add (r, "url", json_object_new_string (t->urls->pdata[i]));
                }
              else
                {
                  json_object_object_add (r, "code", json_object_new_string (t->code ? t->code : "InternalError.Timeout"));
                  json_object_object_add (r, "message", json_object_new_string (
                    t->message ? t->message : "An internal timeout error has occured during execution, please try again later or contact service support."));
                }
              json_object_array_add (results, r);
            }
          json_object_object_add (out, "results", results);
          *usage = json_object_new_object ();
          json_object_object_add (*usage, "image_count", json_object_new_int (ok));
        }
    }
  json_object *metrics = json_object_new_object ();
  json_object_object_add (metrics, "TOTAL", json_object_new_int (t->n));
  json_object_object_add (metrics, "SUCCEEDED", json_object_new_int (ok));
  json_object_object_add (metrics, "FAILED", json_object_new_int (fail));
  json_object_object_add (out, "task_metrics", metrics);
  return out;
}

static void
ds_unknown_task (EmuRequest *req, const char *id)
{
  json_object *o = json_object_new_object (), *out = json_object_new_object ();
  json_object_object_add (out, "task_id", json_object_new_string (id));
  json_object_object_add (out, "task_status", json_object_new_string ("UNKNOWN"));
  json_object_object_add (o, "output", out);
  ds_ok (req, o);
}

static void
ds_task (EmuRequest *req, const char *rest)
{
  gchar *id = g_strdup (rest);
  gchar *slash = strchr (id, '/');
  gboolean cancel = FALSE;
  if (slash)
    {
      cancel = !strcmp (slash, "/cancel");
      *slash = '\0';
      if (!cancel)
        {
          g_free (id);
          return ds_error (req, 404, "NotFound", "Not Found");
        }
    }
  EmuSettings s;
  emu_config_settings (req->emu, req->endpoint, NULL, &s);
  gdouble retry = 0;
  /* Task queries have their own rate (documented 20 QPS); counted per key. */
  if (!cancel && emu_quota_admit (req->emu, &s, req->api_key, "GET /tasks", &retry) != EMU_QUOTA_OK)
    {
      if (s.retry_after_s > 0)
        emu_reply_retry_after (req, MAX (s.retry_after_s, retry));
      ds_error (req, 429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.");
      g_free (id);
      return;
    }
  EmuTask *t = emu_task_lookup (req->emu, id);
  /* Another account's task is as invisible as an unknown one. */
  if (t && (g_strcmp0 (t->key, req->api_key) || g_strcmp0 (t->family, "dashscope")))
    t = NULL;
  if (req->fault.type == EMU_FAULT_TASK_NOT_FOUND)
    t = NULL;
  gint64 now = g_get_real_time ();
  if (cancel)
    {
      if (!strcmp (req->method, "POST") && t && emu_task_phase (t, now) == EMU_PHASE_PENDING)
        {
          t->cancel_us = now;
          ds_ok (req, json_object_new_object ());
        }
      else
        ds_error (req, 400, "UnsupportedOperation", "Failed to cancel the task, please confirm if the task is in PENDING status.");
    }
  else if (!t)
    ds_unknown_task (req, id);
  else
    {
      json_object *usage = NULL;
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "output", task_output (t, now, &usage));
      if (usage)
        json_object_object_add (o, "usage", usage);
      ds_ok (req, o);
    }
  g_free (id);
}

/* ------------------------------------------------------------ uploads */

static void
ds_uploads (EmuRequest *req)
{
  if (g_strcmp0 (emu_request_query (req, "action"), "getPolicy"))
    return ds_error (req, 400, "InvalidParameter", "Unsupported action; only action=getPolicy is available.");
  if (!req->model || !*req->model)
    return ds_error (req, 400, "InvalidParameter", "Required query parameter \"model\" is missing.");
  EmuSettings s;
  emu_config_settings (req->emu, req->endpoint, req->model, &s);
  gdouble retry = 0;
  if (emu_quota_admit (req->emu, &s, req->api_key, req->model, &retry) != EMU_QUOTA_OK)
    {
      if (s.retry_after_s > 0)
        emu_reply_retry_after (req, MAX (s.retry_after_s, retry));
      return ds_error (req, 429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.");
    }
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "data", emu_oss_policy (req->emu, req->model, req->api_key));
  ds_ok (req, o);
}

/* ------------------------------------------------------------ dispatch */

static void
ds_handle (EmuRequest *req)
{
  const char *rest = req->path + strlen ("/api/v1");
  const char *endpoint = "dashscope.other";
  EmuEndpointKind kind = EMU_KIND_OTHER;
  const char *model = req->json ? emu_json_string (req->json, "model") : NULL;
  gboolean post = !strcmp (req->method, "POST"), get = !strcmp (req->method, "GET");
  void (*handler) (EmuRequest *) = NULL;
  if (post && !strcmp (rest, "/services/aigc/text2image/image-synthesis"))
    endpoint = "dashscope.text2image", kind = EMU_KIND_SUBMIT, handler = ds_text2image;
  else if (post && !strcmp (rest, "/services/aigc/image2image/image-synthesis"))
    endpoint = "dashscope.image2image", kind = EMU_KIND_SUBMIT, handler = ds_image2image;
  else if (post && !strcmp (rest, "/services/aigc/multimodal-generation/generation"))
    endpoint = "dashscope.multimodal", kind = EMU_KIND_SUBMIT, handler = ds_multimodal;
  else if (g_str_has_prefix (rest, "/tasks/") && rest[7])
    endpoint = "dashscope.tasks", kind = EMU_KIND_POLL;
  else if (get && !strcmp (rest, "/uploads"))
    endpoint = "dashscope.uploads", model = emu_request_query (req, "model"), handler = ds_uploads;
  emu_request_set_endpoint (req, endpoint, kind, model);

  const char *auth = emu_request_header (req, "Authorization");
  if (!auth || !*auth)
    return ds_error (req, 401, "InvalidApiKey", "No API-key provided.");
  if (!g_str_has_prefix (auth, "Bearer ") || !emu_key_valid (req->emu, "dashscope", auth + 7))
    return ds_error (req, 401, "InvalidApiKey", "Invalid API-key provided.");
  req->api_key = auth + 7;
  if (!strcmp (endpoint, "dashscope.other"))
    return ds_error (req, 404, "NotFound", "Not Found");
  if (emu_faults_request (req, ds_error))
    return;
  if (kind == EMU_KIND_POLL)
    return ds_task (req, rest + 7);
  if (kind == EMU_KIND_SUBMIT)
    {
      if (strcmp (endpoint, "dashscope.multimodal") && !ds_require_async (req))
        return;
      if (!ds_require_json (req))
        return;
    }
  handler (req);
}

const EmuFamily emu_family_dashscope = { "dashscope", "/api/v1", TRUE, ds_handle };
