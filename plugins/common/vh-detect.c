/* vh-detect.c — verdict note, gate and pass-through shared by the detector
 * stages (see vh-detect.h). */
#include <math.h>
#include <string.h>
#include "vh-detect.h"

gboolean
vh_detect_common_init (VhDetectCommon *c, const VhConfig *config, GError **error)
{
  memset (c, 0, sizeof *c);
  c->instance = g_strdup (vh_config_instance_name (config));
  c->reject_above = vh_config_get_double (config, "reject_above");
  if (!(c->reject_above >= 0 && c->reject_above <= 1))
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1,
                    "[instance %s] reject_above must be in 0..1 (0 = never reject)", c->instance);
      vh_detect_common_clear (c);
      return FALSE;
    }
  c->request_timeout_ms = MAX (vh_config_get_duration_ms (config, "request_timeout"), 500);
  c->connect_timeout_ms = MAX (vh_config_get_duration_ms (config, "connect_timeout"), 200);
  return TRUE;
}

void
vh_detect_common_clear (VhDetectCommon *c)
{
  g_clear_pointer (&c->instance, g_free);
}

gchar *
vh_detect_base_url (const VhConfig *config, const char *key, const char *value, GError **error)
{
  if (value == NULL || !(g_str_has_prefix (value, "https://") || g_str_has_prefix (value, "http://"))
      || strchr (value, '?') != NULL)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "[instance %s] %s must be an http(s) URL without a query",
                    vh_config_instance_name (config), key);
      return NULL;
    }
  gchar *url = g_strdup (value);
  while (g_str_has_suffix (url, "/"))
    url[strlen (url) - 1] = '\0';
  return url;
}

/* ------------------------------------------------------------ verdicts */

void
vh_verdict_init (VhVerdict *v, const char *service)
{
  memset (v, 0, sizeof *v);
  v->service = g_strdup (service);
  v->labels = g_ptr_array_new_with_free_func (g_free);
  v->started_us = g_get_monotonic_time ();
}

void
vh_verdict_add_label (VhVerdict *v, const char *label)
{
  if (label == NULL || *label == '\0')
    return;
  for (guint i = 0; i < v->labels->len; i++)
    if (strcmp (v->labels->pdata[i], label) == 0)
      return;
  g_ptr_array_add (v->labels, g_strdup (label));
}

void
vh_verdict_clear (VhVerdict *v)
{
  g_clear_pointer (&v->service, g_free);
  g_clear_pointer (&v->labels, g_ptr_array_unref);
  g_clear_pointer (&v->level, g_free);
}

gboolean
vh_detect_finish (const VhDetectCommon *c, const VhTask *task, const VhImage *input, VhVerdict *v,
                  VhImage **output, GError **error)
{
  gdouble score = isfinite (v->score) ? CLAMP (v->score, 0.0, 1.0) : 0.0;
  /* Rounded so the journal shows what a person would compare. */
  score = round (score * 10000.0) / 10000.0;
  gint64 latency_ms = (g_get_monotonic_time () - v->started_us) / 1000;
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "service", json_object_new_string (v->service));
  json_object *labels = json_object_new_array ();
  for (guint i = 0; i < v->labels->len; i++)
    json_object_array_add (labels, json_object_new_string (v->labels->pdata[i]));
  json_object_object_add (o, "labels", labels);
  /* Written as the four decimals it was rounded to, not 0.80000000000000004. */
  char text[32];
  g_ascii_formatd (text, sizeof text, "%.4f", score);
  json_object_object_add (o, "score", json_object_new_double_s (score, text));
  json_object_object_add (o, "level", json_object_new_string (v->level != NULL ? v->level : ""));
  json_object_object_add (o, "latency_ms", json_object_new_int64 (latency_ms));
  g_autofree gchar *key = g_strconcat ("verdict.", c->instance, NULL);
  vh_task_note (task, key, json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put (o);
  vh_log (VH_LOG_DEBUG, c->instance, "row %s: %s score %.4f level %s", task->index, v->service, score,
          v->level != NULL ? v->level : "");

  if (c->reject_above > 0 && score > c->reject_above)
    {
      g_autofree gchar *joined = NULL;
      g_ptr_array_add (v->labels, NULL);
      joined = g_strjoinv (",", (gchar **) v->labels->pdata);
      g_ptr_array_set_size (v->labels, v->labels->len - 1);
      vh_set_error (error, VH_ERROR_REJECTED, -1, "%s: score %.4f above reject_above %.4f (level %s%s%s)",
                    v->service, score, c->reject_above, v->level != NULL ? v->level : "",
                    *joined != '\0' ? ", labels " : "", joined);
      return FALSE;
    }
  *output = vh_image_new_from_bytes (input->bytes, error);
  if (*output == NULL)
    return FALSE;
  (*output)->width = input->width;
  (*output)->height = input->height;
  return TRUE;
}

VhImage *
vh_detect_fit (const VhImage *input, const VhImageLimits *limits, const char *what, GError **error)
{
  GError *local = NULL;
  VhImage *fitted = vh_image_fit (input, limits, &local);
  if (fitted == NULL)
    {
      /* The previous stage's image does not decode: that row can not be judged here. */
      vh_set_error (error, vh_error_class (local) == VH_ERROR_CANCELLED ? VH_ERROR_CANCELLED : VH_ERROR_INVALID_INPUT,
                    -1, "%s: %s", what, local->message);
      g_error_free (local);
    }
  return fitted;
}
