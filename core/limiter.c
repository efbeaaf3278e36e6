#include "limiter.h"

struct _VhLimiter {
  GMutex   lock;
  GCond    cond;
  guint    concurrency, in_flight, max_in_flight;
  gint64   interval_us;      /* 1 / qps */
  gint64   next_start_us;    /* monotonic time the next start may happen */
  guint64  started;
};

VhLimiter *
vh_limiter_new (guint concurrency, gdouble qps)
{
  VhLimiter *l = g_new0 (VhLimiter, 1);
  g_mutex_init (&l->lock);
  g_cond_init (&l->cond);
  l->concurrency = concurrency;
  l->interval_us = qps > 0 ? (gint64) (1e6 / qps) : 0;
  return l;
}

void
vh_limiter_free (VhLimiter *l)
{
  if (l == NULL)
    return;
  g_mutex_clear (&l->lock);
  g_cond_clear (&l->cond);
  g_free (l);
}

static gboolean
cancelled (GCancellable *cancel, GError **error)
{
  if (cancel && g_cancellable_is_cancelled (cancel))
    {
      vh_set_error (error, VH_ERROR_CANCELLED, -1, "%s", _("cancelled"));
      return TRUE;
    }
  return FALSE;
}

gboolean
vh_limiter_acquire (VhLimiter *l, GCancellable *cancel, GError **error)
{
  g_mutex_lock (&l->lock);
  /* The slot first, then the start token: a token taken while waiting for a
   * slot would let a burst through when slots free up together. */
  while (l->concurrency > 0 && l->in_flight >= l->concurrency)
    {
      if (cancelled (cancel, error))
        {
          g_mutex_unlock (&l->lock);
          return FALSE;
        }
      /* Timed wait: cancellation is polled, there is no fd to wake us. */
      g_cond_wait_until (&l->cond, &l->lock, g_get_monotonic_time () + 50000);
    }
  l->in_flight++;
  l->max_in_flight = MAX (l->max_in_flight, l->in_flight);
  gint64 start = g_get_monotonic_time ();
  if (l->interval_us > 0)
    {
      start = MAX (start, l->next_start_us);
      l->next_start_us = start + l->interval_us;
    }
  g_mutex_unlock (&l->lock);
  /* Sleep until our reserved start time outside the lock. */
  for (gint64 now; (now = g_get_monotonic_time ()) < start;)
    {
      if (cancelled (cancel, error))
        {
          vh_limiter_release (l);
          return FALSE;
        }
      g_usleep (MIN (start - now, 50000));
    }
  g_mutex_lock (&l->lock);
  l->started++;
  g_mutex_unlock (&l->lock);
  return TRUE;
}

void
vh_limiter_release (VhLimiter *l)
{
  g_mutex_lock (&l->lock);
  l->in_flight--;
  g_cond_signal (&l->cond);
  g_mutex_unlock (&l->lock);
}

guint
vh_limiter_max_in_flight (VhLimiter *l)
{
  g_mutex_lock (&l->lock);
  guint m = l->max_in_flight;
  g_mutex_unlock (&l->lock);
  return m;
}

guint64
vh_limiter_started (VhLimiter *l)
{
  g_mutex_lock (&l->lock);
  guint64 s = l->started;
  g_mutex_unlock (&l->lock);
  return s;
}
