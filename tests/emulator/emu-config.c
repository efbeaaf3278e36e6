/* Configuration: the live JSON document and the resolution of per-endpoint
 * settings.  Built-in defaults follow the protocol notes (DashScope wanx:
 * 2 submissions/s and 2 tasks in flight; BFL: 24 active tasks, 6 for
 * kontext-max; result URLs 24 h / 10 min) so an unconfigured emulator
 * behaves like the real services; tests override what they need. */
#include "emu.h"
#include <string.h>

gboolean
emu_glob_match (const char *pattern, const char *text)
{
  return g_pattern_match_simple (pattern, text ? text : "");
}

static void
builtin_settings (const char *endpoint, EmuSettings *s)
{
  memset (s, 0, sizeof *s);
  s->latency_min_ms = 3000;
  s->latency_max_ms = 15000;
  s->result_ttl_ms = 24 * 3600 * 1000LL;
  s->task_ttl_ms = 24 * 3600 * 1000LL;
  if (!g_strcmp0 (endpoint, "dashscope.text2image"))
    s->concurrency = 2, s->qps = 2;
  else if (!g_strcmp0 (endpoint, "dashscope.image2image"))
    s->concurrency = 2, s->qps = 2, s->latency_min_ms = 5000;
  else if (!g_strcmp0 (endpoint, "dashscope.multimodal"))
    s->latency_max_ms = 10000;
  else if (!g_strcmp0 (endpoint, "dashscope.tasks"))
    s->qps = 20;
  else if (!g_strcmp0 (endpoint, "dashscope.uploads"))
    s->qps = 100;
  else if (g_str_has_prefix (endpoint, "bfl."))
    {
      s->latency_max_ms = 10000;
      s->result_ttl_ms = 600 * 1000LL;
      if (!g_strcmp0 (endpoint, "bfl.flux-kontext-max"))
        s->concurrency = 6;
      else if (g_strcmp0 (endpoint, "bfl.get_result") && g_strcmp0 (endpoint, "bfl.credits"))
        s->concurrency = 24;
    }
}

static void
overlay (EmuSettings *s, json_object *o)
{
  json_object *v;
  if (!o || !json_object_is_type (o, json_type_object))
    return;
  if (json_object_object_get_ex (o, "latency_ms", &v))
    {
      if (json_object_is_type (v, json_type_array) && json_object_array_length (v) == 2)
        {
          s->latency_min_ms = json_object_get_double (json_object_array_get_idx (v, 0));
          s->latency_max_ms = json_object_get_double (json_object_array_get_idx (v, 1));
        }
      else if (json_object_is_type (v, json_type_object))
        {
          json_object *mn = NULL, *mx = NULL;
          json_object_object_get_ex (v, "min", &mn);
          json_object_object_get_ex (v, "max", &mx);
          if (mn)
            s->latency_min_ms = json_object_get_double (mn);
          s->latency_max_ms = mx ? json_object_get_double (mx) : s->latency_min_ms;
        }
      else
        s->latency_min_ms = s->latency_max_ms = json_object_get_double (v);
    }
  if (json_object_object_get_ex (o, "concurrency", &v))
    s->concurrency = json_object_get_double (v);
  if (json_object_object_get_ex (o, "qps", &v))
    s->qps = json_object_get_double (v);
  if (json_object_object_get_ex (o, "retry_after_s", &v))
    s->retry_after_s = json_object_get_double (v);
  if (json_object_object_get_ex (o, "result_ttl_ms", &v))
    s->result_ttl_ms = json_object_get_int64 (v);
  if (json_object_object_get_ex (o, "task_ttl_ms", &v))
    s->task_ttl_ms = json_object_get_int64 (v);
}

/* Glob entries apply from the least specific (fewest literal characters)
 * to the most specific, so "bfl.*" can set a family default and
 * "bfl.flux-kontext-max" refine it. */
static gint
specificity (const char *pattern)
{
  gint n = 0;
  for (const char *p = pattern; *p; p++)
    if (*p != '*' && *p != '?')
      n++;
  return n;
}

void
emu_config_settings (EmuServer *emu, const char *endpoint, const char *model, EmuSettings *out)
{
  builtin_settings (endpoint, out);
  json_object *defaults = NULL, *endpoints = NULL, *models = NULL;
  json_object_object_get_ex (emu->config, "defaults", &defaults);
  overlay (out, defaults);
  if (json_object_object_get_ex (emu->config, "endpoints", &endpoints)
      && json_object_is_type (endpoints, json_type_object))
    {
      GPtrArray *hits = g_ptr_array_new ();
      json_object_object_foreach (endpoints, pattern, settings)
        {
          (void) settings;
          if (emu_glob_match (pattern, endpoint))
            g_ptr_array_add (hits, pattern);
        }
      /* tiny lists: insertion sort by specificity */
      for (guint i = 1; i < hits->len; i++)
        for (guint j = i; j > 0 && specificity (hits->pdata[j - 1]) > specificity (hits->pdata[j]); j--)
          {
            gpointer t = hits->pdata[j];
            hits->pdata[j] = hits->pdata[j - 1];
            hits->pdata[j - 1] = t;
          }
      for (guint i = 0; i < hits->len; i++)
        {
          json_object *chosen = NULL;
          json_object_object_get_ex (endpoints, hits->pdata[i], &chosen);
          overlay (out, chosen);
        }
      g_ptr_array_free (hits, TRUE);
    }
  json_object *m = NULL;
  if (model && json_object_object_get_ex (emu->config, "models", &models)
      && json_object_object_get_ex (models, model, &m))
    overlay (out, m);
}

gdouble
emu_config_double (EmuServer *emu, const char *name, gdouble fallback)
{
  json_object *v = NULL;
  if (json_object_object_get_ex (emu->config, name, &v) && v)
    return json_object_get_double (v);
  return fallback;
}

gint64
emu_config_sample_latency_us (EmuServer *emu, const EmuSettings *s)
{
  gdouble lo = MAX (0.0, s->latency_min_ms), hi = MAX (lo, s->latency_max_ms);
  gdouble ms = hi > lo ? g_rand_double_range (emu->rand, lo, hi) : lo;
  gdouble scale = emu_config_double (emu, "time_scale", 1.0);
  return (gint64) (ms * MAX (0.0, scale) * 1000.0);
}

gboolean
emu_key_valid (EmuServer *emu, const char *family, const char *key)
{
  if (!key || !*key)
    return FALSE;
  json_object *keys = emu_json_get (emu->config, "keys");
  json_object *list = keys ? emu_json_get (keys, family) : NULL;
  if (list && json_object_is_type (list, json_type_array))
    {
      for (size_t i = 0; i < json_object_array_length (list); i++)
        if (!g_strcmp0 (json_object_get_string (json_object_array_get_idx (list, i)), key))
          return TRUE;
      return FALSE;
    }
  if (emu->cli_keys)
    {
      gchar *a = g_strdup_printf ("%s\t%s", family, key), *b = g_strdup_printf ("*\t%s", key);
      gboolean ok = g_hash_table_contains (emu->cli_keys, a) || g_hash_table_contains (emu->cli_keys, b);
      g_free (a);
      g_free (b);
      return ok;
    }
  if (!strcmp (family, "bfl"))
    return !strcmp (key, "bfl-test");
  return !strcmp (key, "sk-test");
}

gboolean
emu_config_apply (EmuServer *emu, json_object *doc, GError **error)
{
  if (!doc || !json_object_is_type (doc, json_type_object))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "config must be a JSON object");
      return FALSE;
    }
  static const char *const known[] = { "time_scale", "seed", "defaults", "endpoints", "models",
                                       "faults", "keys", "bfl_credits", NULL };
  json_object_object_foreach (doc, key, val)
    {
      (void) val;
      if (!g_strv_contains (known, key))
        {
          /* Unknown keys are errors: a typo silently ignored would make a test pass for the wrong reason. */
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "unknown config key \"%s\"", key);
          return FALSE;
        }
    }
  json_object *faults = NULL;
  if (json_object_object_get_ex (doc, "faults", &faults) && !emu_faults_load (emu, faults, error))
    return FALSE;
  json_object_object_foreach (doc, k2, v2)
    {
      if (!strcmp (k2, "faults"))
        continue;
      json_object_object_add (emu->config, k2, v2 ? json_object_get (v2) : NULL);
      if (!strcmp (k2, "seed") && v2)
        g_rand_set_seed (emu->rand, (guint32) json_object_get_int64 (v2));
    }
  return TRUE;
}
