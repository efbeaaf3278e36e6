/* Fault injection.  A fault matches an endpoint glob and a model glob and
 * fires by probability, for the next N matching requests, or both (each
 * draw that fires consumes one of N).  A fault only fires where it makes
 * sense: transport faults (429, 5xx, hang, malformed JSON, truncated body)
 * on any request; task outcomes (moderation, stuck, failed, partial,
 * expired result URL) only when a task is created; expired_url also on a
 * download; task_not_found only on a poll.  So "the next 2 submits get
 * stuck" is {"type":"stuck","next":2} with no endpoint to spell out. */
#include "emu.h"
#include <string.h>

typedef struct {
  EmuFaultType type;
  gchar       *endpoint, *model;
  gdouble      probability;
  gint64       remaining;        /* -1: unlimited */
  gint         status;
  gdouble      retry_after_s;
  gchar       *code, *message;
} EmuFault;

static const struct { const char *name; EmuFaultType type; gint status; } fault_names[] = {
  { "http_429", EMU_FAULT_HTTP_429, 429 },
  { "http_500", EMU_FAULT_HTTP_ERROR, 500 },
  { "http_502", EMU_FAULT_HTTP_ERROR, 502 },
  { "http_503", EMU_FAULT_HTTP_ERROR, 503 },
  { "http_504", EMU_FAULT_HTTP_ERROR, 504 },
  { "http_error", EMU_FAULT_HTTP_ERROR, 500 },
  { "hang", EMU_FAULT_HANG, 0 },
  { "malformed_json", EMU_FAULT_MALFORMED_JSON, 200 },
  { "truncated_body", EMU_FAULT_TRUNCATED, 0 },
  { "expired_url", EMU_FAULT_EXPIRED_URL, 0 },
  { "moderation", EMU_FAULT_MODERATION_INPUT, 0 },
  { "moderation_input", EMU_FAULT_MODERATION_INPUT, 0 },
  { "moderation_output", EMU_FAULT_MODERATION_OUTPUT, 0 },
  { "stuck", EMU_FAULT_STUCK, 0 },
  { "task_failed", EMU_FAULT_TASK_FAILED, 0 },
  { "partial_failure", EMU_FAULT_PARTIAL, 0 },
  { "task_not_found", EMU_FAULT_TASK_NOT_FOUND, 0 },
};

const char *
emu_fault_type_name (EmuFaultType type)
{
  for (guint i = 0; i < G_N_ELEMENTS (fault_names); i++)
    if (fault_names[i].type == type)
      return fault_names[i].name;
  return "none";
}

static void
fault_free (EmuFault *f)
{
  g_free (f->endpoint);
  g_free (f->model);
  g_free (f->code);
  g_free (f->message);
  g_free (f);
}

void
emu_faults_clear (EmuServer *emu)
{
  for (guint i = 0; i < emu->faults->len; i++)
    fault_free (emu->faults->pdata[i]);
  g_ptr_array_set_size (emu->faults, 0);
}

static const char *
get_str (json_object *o, const char *k)
{
  json_object *v = NULL;
  return json_object_object_get_ex (o, k, &v) && v ? json_object_get_string (v) : NULL;
}

gboolean
emu_faults_load (EmuServer *emu, json_object *list, GError **error)
{
  if (!list || !json_object_is_type (list, json_type_array))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "\"faults\" must be an array");
      return FALSE;
    }
  GPtrArray *loaded = g_ptr_array_new ();
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *o = json_object_array_get_idx (list, i);
      const char *type = o && json_object_is_type (o, json_type_object) ? get_str (o, "type") : NULL;
      guint t;
      for (t = 0; type && t < G_N_ELEMENTS (fault_names); t++)
        if (!strcmp (fault_names[t].name, type))
          break;
      if (!type || t == G_N_ELEMENTS (fault_names))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "faults[%zu]: unknown or missing \"type\" %s",
                       i, type ? type : "");
          for (guint j = 0; j < loaded->len; j++)
            fault_free (loaded->pdata[j]);
          g_ptr_array_free (loaded, TRUE);
          return FALSE;
        }
      EmuFault *f = g_new0 (EmuFault, 1);
      f->type = fault_names[t].type;
      f->status = fault_names[t].status;
      f->endpoint = g_strdup (get_str (o, "endpoint") ? get_str (o, "endpoint") : "*");
      f->model = g_strdup (get_str (o, "model") ? get_str (o, "model") : "*");
      f->code = g_strdup (get_str (o, "code"));
      f->message = g_strdup (get_str (o, "message"));
      json_object *v;
      f->remaining = json_object_object_get_ex (o, "next", &v) ? json_object_get_int64 (v) : -1;
      f->probability = json_object_object_get_ex (o, "probability", &v) ? json_object_get_double (v) : 1.0;
      f->retry_after_s = json_object_object_get_ex (o, "retry_after_s", &v) ? json_object_get_double (v) : 1.0;
      if (json_object_object_get_ex (o, "status", &v))
        f->status = json_object_get_int (v);
      g_ptr_array_add (loaded, f);
    }
  emu_faults_clear (emu);
  for (guint i = 0; i < loaded->len; i++)
    g_ptr_array_add (emu->faults, loaded->pdata[i]);
  g_ptr_array_free (loaded, TRUE);
  return TRUE;
}

static gboolean
applies (EmuFaultType t, EmuEndpointKind kind, EmuFaultStage stage)
{
  if (stage == EMU_STAGE_TASK)
    return kind == EMU_KIND_SUBMIT
           && (t == EMU_FAULT_MODERATION_INPUT || t == EMU_FAULT_MODERATION_OUTPUT || t == EMU_FAULT_STUCK
               || t == EMU_FAULT_TASK_FAILED || t == EMU_FAULT_PARTIAL || t == EMU_FAULT_EXPIRED_URL);
  switch (t)
    {
    case EMU_FAULT_HTTP_429:
    case EMU_FAULT_HTTP_ERROR:
    case EMU_FAULT_HANG:
    case EMU_FAULT_MALFORMED_JSON:
    case EMU_FAULT_TRUNCATED:
      return TRUE;
    case EMU_FAULT_EXPIRED_URL:
      return kind == EMU_KIND_DOWNLOAD;
    case EMU_FAULT_TASK_NOT_FOUND:
      return kind == EMU_KIND_POLL;
    default:
      return FALSE;
    }
}

void
emu_fault_hit_clear (EmuFaultHit *hit)
{
  g_clear_pointer (&hit->code, g_free);
  g_clear_pointer (&hit->message, g_free);
  hit->type = EMU_FAULT_NONE;
}

gboolean
emu_faults_take (EmuServer *emu, const char *endpoint, EmuEndpointKind kind, const char *model,
                 EmuFaultStage stage, EmuFaultHit *hit)
{
  memset (hit, 0, sizeof *hit);
  for (guint i = 0; i < emu->faults->len; i++)
    {
      EmuFault *f = emu->faults->pdata[i];
      if (f->remaining == 0 || !applies (f->type, kind, stage))
        continue;
      if (!emu_glob_match (f->endpoint, endpoint) || !emu_glob_match (f->model, model ? model : ""))
        continue;
      if (f->probability < 1.0 && g_rand_double (emu->rand) >= f->probability)
        continue;
      if (f->remaining > 0)
        f->remaining--;
      hit->type = f->type;
      hit->status = f->status;
      hit->retry_after_s = f->retry_after_s;
      hit->code = g_strdup (f->code);
      hit->message = g_strdup (f->message);
      gchar *stat = g_strdup_printf ("fault_%s", emu_fault_type_name (f->type));
      emu_stat_inc (emu, stat);
      emu_stat_inc (emu, "faults_injected");
      g_free (stat);
      return TRUE;
    }
  return FALSE;
}

gboolean
emu_faults_request (EmuRequest *req, EmuErrorFormatter fmt)
{
  EmuFaultHit hit;
  if (!emu_faults_take (req->emu, req->endpoint, req->kind, req->model, EMU_STAGE_REQUEST, &hit))
    return FALSE;
  if (req->record)
    json_object_object_add (req->record, "fault", json_object_new_string (emu_fault_type_name (hit.type)));
  gboolean answered = TRUE;
  switch (hit.type)
    {
    case EMU_FAULT_HTTP_429:
      emu_reply_retry_after (req, hit.retry_after_s);
      fmt (req, 429, hit.code, hit.message);
      break;
    case EMU_FAULT_HTTP_ERROR:
      fmt (req, (guint) hit.status, hit.code, hit.message);
      break;
    case EMU_FAULT_HANG:
      emu_reply_hang (req);
      break;
    case EMU_FAULT_MALFORMED_JSON:
      /* Valid HTTP, JSON content type, a body no parser accepts. */
      emu_reply_text (req, (guint) (hit.status ? hit.status : 200), "application/json",
                      "{\"output\": {\"task_id\": \"6f1c\", \"task_status\": SUCCEEDED,, \"results\": [{\"url\": ");
      break;
    case EMU_FAULT_TRUNCATED:
      req->truncate = TRUE;
      answered = FALSE;
      break;
    default:
      req->fault = hit;
      return FALSE;
    }
  emu_fault_hit_clear (&hit);
  return answered;
}
