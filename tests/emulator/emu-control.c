/* The control API for tests under /_emu (never recorded, never faulted):
 *   POST /_emu/config    merge a config document (see README.md)
 *   GET  /_emu/config    the live config
 *   GET  /_emu/requests  every recorded request (?clear=1 empties the list)
 *   GET  /_emu/stats     counters, per key+model in-flight maxima
 *   POST /_emu/reset     forget tasks, results, uploads, records, stats,
 *                        hung connections; restore the startup config
 * Also the request recorder and the counters themselves. */
#include "emu.h"
#include <string.h>

/* Enough for any test; an unbounded list would grow for a whole demo run. */
#define EMU_MAX_RECORDS 20000

void
emu_recorder_add (EmuServer *emu, json_object *record)
{
  g_queue_push_tail (emu->requests, record);
  while (g_queue_get_length (emu->requests) > EMU_MAX_RECORDS)
    json_object_put (g_queue_pop_head (emu->requests));
}

void
emu_recorder_clear (EmuServer *emu)
{
  json_object *r;
  while ((r = g_queue_pop_head (emu->requests)))
    json_object_put (r);
}

json_object *
emu_recorder_dump (EmuServer *emu)
{
  json_object *arr = json_object_new_array ();
  for (GList *l = emu->requests->head; l; l = l->next)
    json_object_array_add (arr, json_object_get (l->data));
  return arr;
}

void
emu_stat_add (EmuServer *emu, const char *name, gint64 delta)
{
  gint64 *v = g_hash_table_lookup (emu->stats, name);
  if (!v)
    {
      v = g_new0 (gint64, 1);
      g_hash_table_insert (emu->stats, g_strdup (name), v);
    }
  *v += delta;
}

void
emu_stat_inc (EmuServer *emu, const char *name)
{
  emu_stat_add (emu, name, 1);
}

json_object *
emu_stats_dump (EmuServer *emu)
{
  json_object *o = json_object_new_object ();
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, emu->stats);
  while (g_hash_table_iter_next (&it, &k, &v))
    json_object_object_add (o, k, json_object_new_int64 (*(gint64 *) v));
  /* Always present, so tests can read them without checking for absence. */
  static const char *const always[] = { "requests", "sent_429", "tasks_created", "faults_injected",
                                        "quota_429_qps", "quota_429_concurrency", NULL };
  for (const char *const *a = always; *a; a++)
    if (!json_object_object_get_ex (o, *a, NULL))
      json_object_object_add (o, *a, json_object_new_int64 (0));
  json_object_object_add (o, "in_flight", emu_quota_stats (emu));
  json_object_object_add (o, "tasks_live", json_object_new_int ((int) g_hash_table_size (emu->tasks)));
  json_object_object_add (o, "port", json_object_new_int ((int) emu->port));
  return o;
}

void
emu_state_reset (EmuServer *emu)
{
  g_ptr_array_set_size (emu->held, 0);
  emu_tasks_clear (emu);
  emu_results_clear (emu);
  emu_oss_clear (emu);
  emu_faults_clear (emu);
  emu_recorder_clear (emu);
  emu_quota_reset (emu);
  g_hash_table_remove_all (emu->stats);
  json_object_put (emu->config);
  emu->config = json_object_new_object ();
  if (emu->startup_config)
    emu_config_apply (emu, emu->startup_config, NULL);
}

static void
control_error (EmuRequest *req, guint status, const char *message)
{
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "error", json_object_new_string (message));
  emu_reply_json (req, status, o);
}

static void
control_handle (EmuRequest *req)
{
  EmuServer *emu = req->emu;
  const char *what = req->path + strlen ("/_emu");
  gboolean post = !strcmp (req->method, "POST"), get = !strcmp (req->method, "GET");
  if (post && !strcmp (what, "/config"))
    {
      GError *error = NULL;
      if (!req->json)
        return control_error (req, 400, "body is not a JSON object");
      if (!emu_config_apply (emu, req->json, &error))
        {
          control_error (req, 400, error->message);
          g_error_free (error);
          return;
        }
      return emu_reply_json (req, 200, json_object_get (emu->config));
    }
  if (get && !strcmp (what, "/config"))
    return emu_reply_json (req, 200, json_object_get (emu->config));
  if (get && !strcmp (what, "/requests"))
    {
      emu_reply_json (req, 200, emu_recorder_dump (emu));
      if (!g_strcmp0 (emu_request_query (req, "clear"), "1"))
        emu_recorder_clear (emu);
      return;
    }
  if (get && !strcmp (what, "/stats"))
    return emu_reply_json (req, 200, emu_stats_dump (emu));
  if (post && !strcmp (what, "/reset"))
    {
      emu_state_reset (emu);
      return emu_reply_json (req, 200, json_object_new_object ());
    }
  control_error (req, 404, "unknown control endpoint");
}

const EmuFamily emu_family_control = { "control", "/_emu", FALSE, control_handle };
