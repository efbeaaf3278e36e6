/* Quotas enforced like the providers: a submission rate (sliding window
 * per key+model) and a number of tasks in flight per key+model.  A task is
 * in flight from submission until its timeline says it is finished, whether
 * or not anyone polled it, which is how the real services count. */
#include "emu.h"

static gchar *
slot_name (const char *key, const char *model)
{
  return g_strdup_printf ("%s\t%s", key ? key : "", model ? model : "");
}

EmuQuotaVerdict
emu_quota_admit (EmuServer *emu, const EmuSettings *s, const char *key, const char *model,
                 gdouble *retry_after_s)
{
  gint64 now = g_get_real_time ();
  *retry_after_s = 1.0;
  if (s->concurrency > 0 && emu_tasks_in_flight (emu, key, model) >= (guint) s->concurrency)
    {
      emu_stat_inc (emu, "quota_429_concurrency");
      return EMU_QUOTA_CONCURRENCY;
    }
  gchar *slot = slot_name (key, model);
  GQueue *q = g_hash_table_lookup (emu->qps_windows, slot);
  if (!q)
    {
      q = g_queue_new ();
      g_hash_table_insert (emu->qps_windows, g_strdup (slot), q);
    }
  g_free (slot);
  if (s->qps > 0)
    {
      /* qps >= 1: floor(qps) submissions in any 1 s window; qps < 1: one per 1/qps s. */
      gint64 window = s->qps >= 1 ? G_USEC_PER_SEC : (gint64) (G_USEC_PER_SEC / s->qps);
      guint limit = s->qps >= 1 ? (guint) s->qps : 1;
      while (!g_queue_is_empty (q) && GPOINTER_TO_SIZE (g_queue_peek_head (q)) + (gsize) window <= (gsize) now)
        g_queue_pop_head (q);
      if (g_queue_get_length (q) >= limit)
        {
          gint64 oldest = (gint64) GPOINTER_TO_SIZE (g_queue_peek_head (q));
          *retry_after_s = (oldest + window - now) / 1e6;
          emu_stat_inc (emu, "quota_429_qps");
          return EMU_QUOTA_QPS;
        }
    }
  g_queue_push_tail (q, GSIZE_TO_POINTER ((gsize) now));
  /* Bound memory when no qps limit trims the window. */
  while (g_queue_get_length (q) > 1024)
    g_queue_pop_head (q);
  return EMU_QUOTA_OK;
}

void
emu_quota_note_in_flight (EmuServer *emu, const char *key, const char *model)
{
  guint now = emu_tasks_in_flight (emu, key, model);
  gchar *slot = slot_name (key, model);
  guint prev = GPOINTER_TO_UINT (g_hash_table_lookup (emu->max_in_flight, slot));
  if (now > prev)
    g_hash_table_insert (emu->max_in_flight, slot, GUINT_TO_POINTER (now));
  else
    g_free (slot);
}

void
emu_quota_reset (EmuServer *emu)
{
  g_hash_table_remove_all (emu->qps_windows);
  g_hash_table_remove_all (emu->max_in_flight);
}

/* {"<key> <model>": {"in_flight": n, "max_in_flight": m}} */
json_object *
emu_quota_stats (EmuServer *emu)
{
  json_object *out = json_object_new_object ();
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, emu->max_in_flight);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      gchar **kv = g_strsplit (k, "\t", 2);
      gchar *name = g_strdup_printf ("%s %s", kv[0], kv[1] ? kv[1] : "");
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "key", json_object_new_string (kv[0]));
      json_object_object_add (o, "model", json_object_new_string (kv[1] ? kv[1] : ""));
      json_object_object_add (o, "in_flight", json_object_new_int ((int) emu_tasks_in_flight (emu, kv[0], kv[1])));
      json_object_object_add (o, "max_in_flight", json_object_new_int ((int) GPOINTER_TO_UINT (v)));
      json_object_object_add (out, name, o);
      g_free (name);
      g_strfreev (kv);
    }
  return out;
}
