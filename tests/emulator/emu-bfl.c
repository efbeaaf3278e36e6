/* Black Forest Labs API under /bfl (a client's base_url is
 * http://127.0.0.1:PORT/bfl): submit to /v1/<model>, poll the returned
 * polling_url, download result.sample.  Validation answers 422 with
 * FastAPI's {"detail": [{loc, msg, type}]}; auth, credits (402) and the
 * active-task limit (429) follow /work/shared/protocols/bfl-flux.md. */
#include "emu.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define BFL_MAX_INPUT (20 * 1024 * 1024)

typedef enum { BFL_SIZE_WH, BFL_SIZE_RATIO } BflSizing;

static const struct {
  const char *name;
  BflSizing   sizing;
  gboolean    kontext;
  gdouble     cost;         /* credits, from BFL's price notes */
  gdouble     megapixels;   /* output size for aspect-ratio models */
} bfl_models[] = {
  { "flux-pro-1.1", BFL_SIZE_WH, FALSE, 4, 0 },
  { "flux-dev", BFL_SIZE_WH, FALSE, 2.5, 0 },
  { "flux-pro-1.1-ultra", BFL_SIZE_RATIO, FALSE, 6, 4 },
  { "flux-kontext-pro", BFL_SIZE_RATIO, TRUE, 4, 1 },
  { "flux-kontext-max", BFL_SIZE_RATIO, TRUE, 8, 1 },
};

/* ------------------------------------------------------------ replies */

static void
bfl_detail (EmuRequest *req, guint status, const char *detail)
{
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "detail", json_object_new_string (detail));
  emu_reply_json (req, status, o);
}

static void
bfl_error (EmuRequest *req, guint status, const char *code, const char *message)
{
  (void) code;
  if (!message)
    message = status == 429 ? "Too many requests, please slow down." : status >= 500 ? "Internal Server Error" : "Error";
  bfl_detail (req, status, message);
}

static void
bfl_422 (EmuRequest *req, const char *field, const char *msg, const char *type)
{
  json_object *item = json_object_new_object ();
  json_object *loc = json_object_new_array ();
  json_object_array_add (loc, json_object_new_string ("body"));
  if (field)
    json_object_array_add (loc, json_object_new_string (field));
  json_object_object_add (item, "loc", loc);
  json_object_object_add (item, "msg", json_object_new_string (msg));
  json_object_object_add (item, "type", json_object_new_string (type));
  json_object *list = json_object_new_array ();
  json_object_array_add (list, item);
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "detail", list);
  emu_reply_json (req, 422, o);
}

/* ------------------------------------------------------------ validation */

static gboolean
int_field (EmuRequest *req, const char *name, gint64 lo, gint64 hi, gint64 fallback, gint64 *out)
{
  json_object *v = emu_json_get (req->json, name);
  *out = fallback;
  if (!v)
    return TRUE;
  if (!json_object_is_type (v, json_type_int))
    {
      bfl_422 (req, name, "Input should be a valid integer", "int_type");
      return FALSE;
    }
  *out = json_object_get_int64 (v);
  if (*out < lo || *out > hi)
    {
      gchar *m = g_strdup_printf ("Input should be between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT, lo, hi);
      bfl_422 (req, name, m, "value_error");
      g_free (m);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_ratio (const char *text, gint *a, gint *b)
{
  if (!text || sscanf (text, "%d:%d", a, b) != 2 || *a <= 0 || *b <= 0)
    return FALSE;
  /* between 21:9 and 9:21 */
  return (gdouble) *a / *b <= 21.0 / 9 + 1e-9 && (gdouble) *a / *b >= 9.0 / 21 - 1e-9;
}

static void
size_for_area (gdouble ratio, gdouble megapixels, gint *w, gint *h)
{
  gdouble area = megapixels * 1024 * 1024;
  gdouble fw = sqrt (area * ratio);
  *w = MAX (32, (gint) (fw / 32 + 0.5) * 32);
  *h = MAX (32, (gint) (fw / ratio / 32 + 0.5) * 32);
}

/* ------------------------------------------------------------ submit */

static void
bfl_submit (EmuRequest *req, guint m)
{
  EmuServer *emu = req->emu;
  if (!req->json || !json_object_is_type (req->json, json_type_object))
    return bfl_422 (req, NULL, "Input should be a valid dictionary or object to extract fields from", "model_attributes_type");
  const char *prompt = emu_json_string (req->json, "prompt");
  json_object *pv = emu_json_get (req->json, "prompt");
  if (pv && !json_object_is_type (pv, json_type_string))
    return bfl_422 (req, "prompt", "Input should be a valid string", "string_type");
  if (bfl_models[m].kontext && (!prompt || !*prompt))
    return bfl_422 (req, "prompt", "Field required", "missing");
  gint64 width = 1024, height = 768, v;
  if (!int_field (req, "safety_tolerance", 0, 6, 2, &v) || !int_field (req, "seed", 0, G_MAXINT64, 0, &v))
    return;
  gint64 seed = v;
  const char *fmt = emu_json_string (req->json, "output_format");
  if (fmt && strcmp (fmt, "jpeg") && strcmp (fmt, "png") && strcmp (fmt, "webp"))
    return bfl_422 (req, "output_format", "Input should be 'jpeg', 'png' or 'webp'", "enum");
  if (!fmt)
    fmt = bfl_models[m].kontext ? "png" : "jpeg";    /* documented defaults */
  if (!strcmp (bfl_models[m].name, "flux-dev"))
    {
      if (!int_field (req, "steps", 1, 50, 28, &v))
        return;
      json_object *g = emu_json_get (req->json, "guidance");
      if (g && (json_object_get_double (g) < 1.5 || json_object_get_double (g) > 5))
        return bfl_422 (req, "guidance", "Input should be between 1.5 and 5", "value_error");
    }
  EmuInput *in = NULL;
  gint w, h;
  if (bfl_models[m].sizing == BFL_SIZE_WH)
    {
      if (!int_field (req, "width", 256, 1440, 1024, &width) || !int_field (req, "height", 256, 1440, 768, &height))
        return;
      if (width % 32 || height % 32)
        return bfl_422 (req, width % 32 ? "width" : "height", "Value must be a multiple of 32", "value_error");
      w = (gint) width, h = (gint) height;
    }
  else
    {
      const char *ar = emu_json_string (req->json, "aspect_ratio");
      gint a = 16, b = 9;
      if (ar && !parse_ratio (ar, &a, &b))
        return bfl_422 (req, "aspect_ratio", "Aspect ratio must be between 21:9 and 9:21", "value_error");
      const char *image = emu_json_string (req->json, "input_image");
      if (bfl_models[m].kontext && image)
        {
          switch (emu_input_load (req, image, BFL_MAX_INPUT, BFL_MAX_INPUT * 4 / 3 + 64, TRUE, FALSE, NULL, &in))
            {
            case EMU_INPUT_OK:
              break;
            case EMU_INPUT_TOO_BIG:
              return bfl_422 (req, "input_image", "Input image exceeds the maximum size of 20MB", "value_error");
            case EMU_INPUT_DOWNLOAD_FAILED:
              return bfl_422 (req, "input_image", "Could not download the input image", "value_error");
            default:
              return bfl_422 (req, "input_image", "Invalid input image: expected base64-encoded image data or an image URL", "value_error");
            }
          if (!ar)   /* no aspect_ratio: follow the input image */
            a = in->width, b = in->height;
        }
      size_for_area ((gdouble) a / b, bfl_models[m].megapixels, &w, &h);
    }

  EmuSettings s;
  emu_config_settings (emu, req->endpoint, req->model, &s);
  /* Credits before quota: an empty account is refused whatever its load. */
  json_object *credits = emu_json_get (emu->config, "bfl_credits");
  if (credits && !json_object_is_type (credits, json_type_null) && json_object_get_double (credits) < bfl_models[m].cost)
    {
      emu_input_free (in);
      return bfl_detail (req, 402, "Insufficient credits. Please add credits at https://dashboard.bfl.ai.");
    }
  gdouble retry = 0;
  if (emu_quota_admit (emu, &s, req->api_key, req->model, &retry) != EMU_QUOTA_OK)
    {
      emu_input_free (in);
      if (s.retry_after_s > 0)
        emu_reply_retry_after (req, MAX (s.retry_after_s, retry));
      gchar *msg = g_strdup_printf ("You have reached the maximum number of active tasks (%g) for %s. "
                                    "Wait for a task to finish before submitting another.",
                                    s.concurrency, req->model);
      bfl_detail (req, 429, msg);
      g_free (msg);
      return;
    }
  if (credits && !json_object_is_type (credits, json_type_null))
    json_object_object_add (emu->config, "bfl_credits",
                            json_object_new_double (json_object_get_double (credits) - bfl_models[m].cost));

  EmuFaultHit hit;
  emu_faults_take (emu, req->endpoint, EMU_KIND_SUBMIT, req->model, EMU_STAGE_TASK, &hit);
  if (hit.type != EMU_FAULT_NONE && req->record)
    json_object_object_add (req->record, "fault", json_object_new_string (emu_fault_type_name (hit.type)));
  EmuTask *t = emu_task_new (emu, "bfl", req->endpoint, req->api_key, req->model, &s, NULL);
  VhImageFormat format = !strcmp (fmt, "png") ? VH_FORMAT_PNG : VH_FORMAT_JPEG;   /* webp: served as JPEG */
  t->spec = emu_gen_spec_new (prompt ? prompt : "", seed, w, h, format, in ? in->pixels : NULL);
  t->n = 1;
  emu_task_apply_fault (t, &hit);
  emu_task_make_results (emu, t, &s, hit.type == EMU_FAULT_EXPIRED_URL);
  emu_quota_note_in_flight (emu, req->api_key, req->model);
  emu_fault_hit_clear (&hit);
  json_object_object_add (t->extra, "prompt", json_object_new_string (prompt ? prompt : ""));
  json_object_object_add (t->extra, "seed", json_object_new_int64 (seed));
  emu_input_free (in);

  json_object *o = json_object_new_object ();
  gchar *poll = g_strdup_printf ("%s/bfl/v1/get_result?id=%s", emu->base_url, t->id);
  json_object_object_add (o, "id", json_object_new_string (t->id));
  json_object_object_add (o, "polling_url", json_object_new_string (poll));
  json_object_object_add (o, "cost", json_object_new_double (bfl_models[m].cost));
  json_object_object_add (o, "input_mp", json_object_new_double (0));
  json_object_object_add (o, "output_mp", json_object_new_double ((gdouble) w * h / 1e6));
  g_free (poll);
  emu_reply_json (req, 200, o);
}

/* ------------------------------------------------------------ poll */

static void
bfl_get_result (EmuRequest *req)
{
  const char *id = emu_request_query (req, "id");
  EmuTask *t = id ? emu_task_lookup (req->emu, id) : NULL;
  if (t && (g_strcmp0 (t->family, "bfl") || g_strcmp0 (t->key, req->api_key)))
    t = NULL;
  if (req->fault.type == EMU_FAULT_TASK_NOT_FOUND)
    t = NULL;
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "id", json_object_new_string (id ? id : ""));
  if (!t)
    {
      json_object_object_add (o, "status", json_object_new_string ("Task not found"));
      return emu_reply_json (req, 200, o);
    }
  gint64 now = g_get_real_time ();
  EmuPhase phase = emu_task_phase (t, now);
  const char *status = "Pending";
  json_object *result = NULL, *details = NULL;
  gdouble progress = 0;
  if (phase == EMU_PHASE_RUNNING && t->done_us > t->submit_us && t->outcome != EMU_OUTCOME_STUCK)
    progress = (gdouble) (now - t->submit_us) / (gdouble) (t->done_us - t->submit_us);
  if (phase == EMU_PHASE_DONE)
    {
      switch (t->outcome)
        {
        case EMU_OUTCOME_MOD_INPUT:
          status = "Request Moderated";
          details = json_object_new_object ();
          json_object_object_add (details, "moderation_reasons", json_object_new_string (t->message ? t->message : "Derivative Works Filter"));
          break;
        case EMU_OUTCOME_MOD_OUTPUT:
          status = "Content Moderated";
          details = json_object_new_object ();
          json_object_object_add (details, "moderation_reasons", json_object_new_string (t->message ? t->message : "NSFW"));
          break;
        case EMU_OUTCOME_FAILED:
        case EMU_OUTCOME_PARTIAL:
          status = "Error";
          break;
        default:
          status = "Ready";
          result = json_object_new_object ();
          json_object_object_add (result, "sample", json_object_new_string (t->urls->pdata[0]));
          json_object *v;
          if (json_object_object_get_ex (t->extra, "prompt", &v))
            json_object_object_add (result, "prompt", json_object_get (v));
          if (json_object_object_get_ex (t->extra, "seed", &v))
            json_object_object_add (result, "seed", json_object_get (v));
          json_object_object_add (result, "start_time", json_object_new_double (t->start_us / 1e6));
          json_object_object_add (result, "end_time", json_object_new_double (t->done_us / 1e6));
          json_object_object_add (result, "duration", json_object_new_double ((t->done_us - t->start_us) / 1e6));
          progress = 1;
          break;
        }
    }
  json_object_object_add (o, "status", json_object_new_string (status));
  json_object_object_add (o, "result", result);
  json_object_object_add (o, "progress", phase == EMU_PHASE_DONE && !result ? NULL : json_object_new_double (progress));
  json_object_object_add (o, "details", details);
  json_object_object_add (o, "preview", NULL);
  emu_reply_json (req, 200, o);
}

/* ------------------------------------------------------------ dispatch */

static void
bfl_handle (EmuRequest *req)
{
  const char *rest = req->path + strlen ("/bfl");
  gint model = -1;
  if (!strcmp (req->method, "POST") && g_str_has_prefix (rest, "/v1/"))
    for (guint i = 0; i < G_N_ELEMENTS (bfl_models); i++)
      if (!strcmp (rest + 4, bfl_models[i].name))
        model = (gint) i;
  gboolean poll = !strcmp (req->method, "GET") && !strcmp (rest, "/v1/get_result");
  gboolean credits = !strcmp (req->method, "GET") && !strcmp (rest, "/v1/credits");
  /* Endpoint names are static strings: "bfl." + model. */
  static const char *const endpoint_names[] = { "bfl.flux-pro-1.1", "bfl.flux-dev", "bfl.flux-pro-1.1-ultra",
                                                "bfl.flux-kontext-pro", "bfl.flux-kontext-max" };
  G_STATIC_ASSERT (G_N_ELEMENTS (endpoint_names) == G_N_ELEMENTS (bfl_models));
  if (model >= 0)
    emu_request_set_endpoint (req, endpoint_names[model], EMU_KIND_SUBMIT, bfl_models[model].name);
  else if (poll)
    emu_request_set_endpoint (req, "bfl.get_result", EMU_KIND_POLL, NULL);
  else
    emu_request_set_endpoint (req, credits ? "bfl.credits" : "bfl.other", EMU_KIND_OTHER, NULL);

  const char *key = emu_request_header (req, "x-key");
  if (!key || !*key)
    return bfl_detail (req, 403, "Not authenticated");
  if (!emu_key_valid (req->emu, "bfl", key))
    return bfl_detail (req, 401, "Invalid API key");
  req->api_key = key;
  if (model < 0 && !poll && !credits)
    return bfl_detail (req, 404, "Not Found");
  if (emu_faults_request (req, bfl_error))
    return;
  if (poll)
    return bfl_get_result (req);
  if (credits)
    {
      json_object *c = emu_json_get (req->emu->config, "bfl_credits");
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "credits", json_object_new_double (c ? json_object_get_double (c) : 1000000.0));
      return emu_reply_json (req, 200, o);
    }
  bfl_submit (req, (guint) model);
}

const EmuFamily emu_family_bfl = { "bfl", "/bfl", TRUE, bfl_handle };
