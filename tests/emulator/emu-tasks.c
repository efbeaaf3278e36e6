/* The task table shared by every asynchronous family.  A task's whole
 * timeline is fixed when it is submitted (PENDING for the first fifth of
 * its latency, RUNNING for the rest, then its outcome), so polling is a
 * comparison with the clock and no timer runs per task.  A "stuck" task
 * simply has no end. */
#include "emu.h"

static void
task_free (EmuTask *t)
{
  g_free (t->id);
  g_free (t->family);
  g_free (t->endpoint);
  g_free (t->key);
  g_free (t->model);
  g_free (t->code);
  g_free (t->message);
  if (t->urls)
    g_ptr_array_unref (t->urls);
  if (t->extra)
    json_object_put (t->extra);
  if (t->spec)
    emu_gen_spec_unref (t->spec);
  g_free (t);
}

EmuTask *
emu_task_new (EmuServer *emu, const char *family, const char *endpoint, const char *key,
              const char *model, const EmuSettings *s, const char *id_prefix)
{
  EmuTask *t = g_new0 (EmuTask, 1);
  t->id = emu_new_id (emu, id_prefix);
  t->family = g_strdup (family);
  t->endpoint = g_strdup (endpoint);
  t->key = g_strdup (key);
  t->model = g_strdup (model);
  t->submit_us = g_get_real_time ();
  gint64 latency = emu_config_sample_latency_us (emu, s);
  t->start_us = t->submit_us + latency / 5;
  t->done_us = t->submit_us + latency;
  t->expires_us = t->done_us + s->task_ttl_ms * 1000;
  t->n = 1;
  t->urls = g_ptr_array_new_with_free_func (g_free);
  t->extra = json_object_new_object ();
  g_hash_table_insert (emu->tasks, t->id, t);
  emu_stat_inc (emu, "tasks_created");
  gchar *stat = g_strdup_printf ("tasks_%s", family);
  emu_stat_inc (emu, stat);
  g_free (stat);
  return t;
}

EmuTask *
emu_task_lookup (EmuServer *emu, const char *id)
{
  EmuTask *t = id ? g_hash_table_lookup (emu->tasks, id) : NULL;
  /* Past its retention a task is gone, exactly like an id never issued. */
  if (t && t->outcome != EMU_OUTCOME_STUCK && g_get_real_time () >= t->expires_us)
    return NULL;
  return t;
}

EmuPhase
emu_task_phase (const EmuTask *t, gint64 now)
{
  if (t->cancel_us)
    return EMU_PHASE_CANCELED;
  if (now < t->start_us)
    return EMU_PHASE_PENDING;
  if (t->outcome == EMU_OUTCOME_STUCK || now < t->done_us)
    return EMU_PHASE_RUNNING;
  return EMU_PHASE_DONE;
}

gboolean
emu_task_in_flight (const EmuTask *t, gint64 now)
{
  EmuPhase p = emu_task_phase (t, now);
  return p == EMU_PHASE_PENDING || p == EMU_PHASE_RUNNING;
}

guint
emu_tasks_in_flight (EmuServer *emu, const char *key, const char *model)
{
  gint64 now = g_get_real_time ();
  guint n = 0;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, emu->tasks);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      EmuTask *t = v;
      if (!g_strcmp0 (t->key, key) && !g_strcmp0 (t->model, model) && emu_task_in_flight (t, now))
        n++;
    }
  return n;
}

void
emu_tasks_clear (EmuServer *emu)
{
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, emu->tasks);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      g_hash_table_iter_steal (&it);
      task_free (v);
    }
}

void
emu_tasks_sweep (EmuServer *emu)
{
  gint64 now = g_get_real_time ();
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, emu->tasks);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      EmuTask *t = v;
      if (t->outcome != EMU_OUTCOME_STUCK && now >= t->expires_us)
        {
          g_hash_table_iter_steal (&it);
          task_free (t);
        }
    }
}

void
emu_task_apply_fault (EmuTask *t, const EmuFaultHit *hit)
{
  switch (hit->type)
    {
    case EMU_FAULT_MODERATION_INPUT: t->outcome = EMU_OUTCOME_MOD_INPUT; break;
    case EMU_FAULT_MODERATION_OUTPUT: t->outcome = EMU_OUTCOME_MOD_OUTPUT; break;
    case EMU_FAULT_STUCK:
      t->outcome = EMU_OUTCOME_STUCK;
      t->done_us = G_MAXINT64;
      t->expires_us = G_MAXINT64;
      break;
    case EMU_FAULT_TASK_FAILED: t->outcome = EMU_OUTCOME_FAILED; break;
    /* With one image a partial failure is a whole failure. */
    case EMU_FAULT_PARTIAL: t->outcome = t->n > 1 ? EMU_OUTCOME_PARTIAL : EMU_OUTCOME_FAILED; break;
    default: return;
    }
  g_free (t->code);
  g_free (t->message);
  t->code = g_strdup (hit->code);
  t->message = g_strdup (hit->message);
}

void
emu_task_make_results (EmuServer *emu, EmuTask *t, const EmuSettings *s, gboolean force_expired)
{
  if (t->outcome != EMU_OUTCOME_OK && t->outcome != EMU_OUTCOME_PARTIAL)
    return;
  gint ok = t->outcome == EMU_OUTCOME_PARTIAL ? t->n - 1 : t->n;
  for (gint i = 0; i < ok; i++)
    g_ptr_array_add (t->urls, emu_results_add (emu, t->family, t->spec, i,
                                               t->done_us + s->result_ttl_ms * 1000, force_expired));
}
