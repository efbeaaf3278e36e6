#include "limiter.h"

struct _VhLimiter {
  GMutex   lock;
  GCond    cond;
  guint    concurrency, in_flight, max_in_flight;
  guint    eff_concurrency;  /* <= concurrency, lowered by QUOTA answers */
  gint64   interval_us;      /* 1 / qps as configured */
  gint64   eff_interval_us;  /* >= interval_us, raised by QUOTA answers */
  gint64   next_start_us;    /* monotonic time the next start may happen */
  gint64   paused_until_us;  /* Retry-After: no start before this */
  guint    successes;        /* in a row, for the additive increase */
  guint    waiting;          /* threads blocked in acquire() */
  guint    slot_waiting;     /* of which still waiting for a slot */
  guint64  started;
};

/* Waiters sleep until a release (or a cancellation, which wakes them
 * through a handler on their GCancellable); the timeout is only a safety
 * net.  Polling every 50 ms, a thousand rows waiting for two slots woke
 * 20 000 times a second. */
#define WAIT_SAFETY_US G_USEC_PER_SEC

#define RECOVER_AFTER 8       /* successes in a row before one step back up */
#define MAX_SLOWDOWN 16       /* the rate never drops below 1/16 of the configured one */

VhLimiter *
vh_limiter_new (guint concurrency, gdouble qps)
{
  VhLimiter *l = g_new0 (VhLimiter, 1);
  g_mutex_init (&l->lock);
  g_cond_init (&l->cond);
  l->concurrency = l->eff_concurrency = concurrency;
  l->interval_us = l->eff_interval_us = qps > 0 ? (gint64) (1e6 / qps) : 0;
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

/* Any limiter's slot freed: wakes callers of vh_limiter_acquire_any(), who
 * wait on several limiters at once.  A generation count, so a release between
 * their scan and their wait is not missed. */
static GMutex any_lock;
static GCond any_cond;
static guint64 any_generation;

static void
any_notify (void)
{
  g_mutex_lock (&any_lock);
  any_generation++;
  g_cond_broadcast (&any_cond);
  g_mutex_unlock (&any_lock);
}

static guint64
any_current (void)
{
  g_mutex_lock (&any_lock);
  guint64 g = any_generation;
  g_mutex_unlock (&any_lock);
  return g;
}

/* Waits for a release after `seen` (or a cancellation: see wake_any). */
static void
any_wait (guint64 seen)
{
  g_mutex_lock (&any_lock);
  gint64 until = g_get_monotonic_time () + WAIT_SAFETY_US;
  while (any_generation == seen && g_cond_wait_until (&any_cond, &any_lock, until))
    ;
  g_mutex_unlock (&any_lock);
}

static gboolean
slot_free_locked (VhLimiter *l)
{
  return l->eff_concurrency == 0 || l->in_flight < l->eff_concurrency;
}

/* The earliest this limiter could start a call now, under its lock. */
static gint64
start_time_locked (VhLimiter *l)
{
  gint64 start = MAX (g_get_monotonic_time (), l->paused_until_us);
  if (l->eff_interval_us > 0)
    start = MAX (start, l->next_start_us);
  return start;
}

/* Takes a free slot and reserves its start time, under the lock. */
static gint64
take_slot_locked (VhLimiter *l)
{
  l->in_flight++;
  l->max_in_flight = MAX (l->max_in_flight, l->in_flight);
  gint64 start = start_time_locked (l);
  if (l->eff_interval_us > 0)
    l->next_start_us = start + l->eff_interval_us;
  return start;
}

/* With a slot held, sleeps until the reserved start time outside the lock;
 * on cancellation gives the slot back. */
static gboolean
wait_start (VhLimiter *l, gint64 start, GCancellable *cancel, GError **error)
{
  for (gint64 now; (now = g_get_monotonic_time ()) < start;)
    {
      if (cancelled (cancel, error))
        {
          g_mutex_lock (&l->lock);
          l->waiting--;
          /* Hand the reserved start back unless a later caller queued
           * behind it (then theirs stays as reserved). */
          if (l->eff_interval_us > 0 && l->next_start_us == start + l->eff_interval_us)
            l->next_start_us = start;
          g_mutex_unlock (&l->lock);
          vh_limiter_release (l);
          return FALSE;
        }
      g_usleep (MIN (start - now, 50000));
    }
  g_mutex_lock (&l->lock);
  l->started++;
  l->waiting--;
  g_mutex_unlock (&l->lock);
  return TRUE;
}

static void
wake_limiter (GCancellable *cancel, gpointer data)
{
  VhLimiter *l = data;
  g_mutex_lock (&l->lock);
  g_cond_broadcast (&l->cond);
  g_mutex_unlock (&l->lock);
}

static void
wake_any (GCancellable *cancel, gpointer data)
{
  any_notify ();
}

gboolean
vh_limiter_acquire (VhLimiter *l, GCancellable *cancel, GError **error)
{
  return vh_limiter_acquire_at (l, cancel, NULL, error);
}

gboolean
vh_limiter_acquire_at (VhLimiter *l, GCancellable *cancel, gint64 *start_us, GError **error)
{
  /* Connected before taking the lock: the handler runs at once, here,
   * when `cancel` has already fired, and it takes the lock itself. */
  gulong handler = cancel ? g_cancellable_connect (cancel, G_CALLBACK (wake_limiter), l, NULL) : 0;
  g_mutex_lock (&l->lock);
  l->waiting++;
  l->slot_waiting++;
  /* The slot first, then the start token: a token taken while waiting for a
   * slot would let a burst through when slots free up together. */
  gboolean ok = TRUE;
  while (!slot_free_locked (l))
    {
      if (cancelled (cancel, error))
        {
          l->waiting--;
          ok = FALSE;
          /* A release may have signalled us: pass it on. */
          if (slot_free_locked (l))
            g_cond_signal (&l->cond);
          break;
        }
      g_cond_wait_until (&l->cond, &l->lock, g_get_monotonic_time () + WAIT_SAFETY_US);
    }
  l->slot_waiting--;
  gint64 start = ok ? take_slot_locked (l) : 0;
  g_mutex_unlock (&l->lock);
  if (start_us)
    *start_us = start;
  if (handler)
    g_cancellable_disconnect (cancel, handler);   /* never under the lock: it waits for a running handler */
  return ok && wait_start (l, start, cancel, error);
}

gint
vh_limiter_acquire_any (VhLimiter *const *ls, guint n, GCancellable *cancel, GError **error)
{
  /* Waiting on all of them: each one's load and slot_waiters count us, so
   * every candidate's plugin polls briskly while we wait. */
  for (guint i = 0; i < n; i++)
    {
      g_mutex_lock (&ls[i]->lock);
      ls[i]->waiting++;
      ls[i]->slot_waiting++;
      g_mutex_unlock (&ls[i]->lock);
    }
  gulong handler = cancel ? g_cancellable_connect (cancel, G_CALLBACK (wake_any), NULL, NULL) : 0;
  gint chosen = -1;
  gint64 start = 0;
  while (chosen < 0)
    {
      guint64 seen = any_current ();
      /* Of the limiters with a free slot, the one that can start soonest
       * (a start token far ahead is worse than a free slot elsewhere);
       * ties go to the earlier in the list. */
      gint best = -1;
      gint64 best_start = G_MAXINT64;
      for (guint i = 0; i < n; i++)
        {
          g_mutex_lock (&ls[i]->lock);
          gint64 at = slot_free_locked (ls[i]) ? start_time_locked (ls[i]) : G_MAXINT64;
          g_mutex_unlock (&ls[i]->lock);
          if (at < best_start)
            best = (gint) i, best_start = at;
        }
      if (best >= 0)
        {
          /* Take it if it is still free; another caller may have won it. */
          VhLimiter *l = ls[best];
          g_mutex_lock (&l->lock);
          if (slot_free_locked (l))
            {
              chosen = best;
              start = take_slot_locked (l);
            }
          g_mutex_unlock (&l->lock);
          continue;
        }
      if (cancelled (cancel, error))
        break;
      any_wait (seen);
    }
  if (handler)
    g_cancellable_disconnect (cancel, handler);
  for (guint i = 0; i < n; i++)
    {
      g_mutex_lock (&ls[i]->lock);
      ls[i]->slot_waiting--;
      if ((gint) i != chosen)
        ls[i]->waiting--;
      g_mutex_unlock (&ls[i]->lock);
    }
  if (chosen < 0)
    return -1;
  return wait_start (ls[chosen], start, cancel, error) ? chosen : -1;
}

void
vh_limiter_release (VhLimiter *l)
{
  g_mutex_lock (&l->lock);
  l->in_flight--;
  g_cond_signal (&l->cond);
  g_mutex_unlock (&l->lock);
  any_notify ();
}

void
vh_limiter_feedback (VhLimiter *l, gboolean success, VhErrorClass klass, gint64 retry_after_ms)
{
  gboolean more_slots = FALSE;
  g_mutex_lock (&l->lock);
  if (success)
    {
      if (++l->successes >= RECOVER_AFTER)
        {
          l->successes = 0;
          more_slots = l->eff_concurrency < l->concurrency;
          if (more_slots)
            l->eff_concurrency++;
          if (l->eff_interval_us > l->interval_us)
            {
              /* additive increase of the rate: +10% of the configured qps */
              gdouble rate = 1e6 / l->eff_interval_us + 0.1 * 1e6 / l->interval_us;
              l->eff_interval_us = MAX (l->interval_us, (gint64) (1e6 / rate));
            }
          g_cond_broadcast (&l->cond);
        }
    }
  else if (klass == VH_ERROR_QUOTA)
    {
      l->successes = 0;
      if (l->concurrency > 0 && l->eff_concurrency > 1)
        l->eff_concurrency--;
      if (l->interval_us > 0)
        l->eff_interval_us = MIN (l->eff_interval_us * 2, l->interval_us * MAX_SLOWDOWN);
      gint64 pause_ms = retry_after_ms > 0 ? retry_after_ms : MAX (250, l->eff_interval_us / 1000);
      l->paused_until_us = MAX (l->paused_until_us, g_get_monotonic_time () + pause_ms * 1000);
    }
  g_mutex_unlock (&l->lock);
  if (more_slots)
    any_notify ();
}

void
vh_limiter_effective (VhLimiter *l, guint *concurrency, gdouble *qps)
{
  g_mutex_lock (&l->lock);
  if (concurrency)
    *concurrency = l->eff_concurrency;
  if (qps)
    *qps = l->eff_interval_us > 0 ? 1e6 / l->eff_interval_us : 0;
  g_mutex_unlock (&l->lock);
}

gdouble
vh_limiter_load (VhLimiter *l)
{
  g_mutex_lock (&l->lock);
  gdouble busy = l->in_flight + l->waiting;
  gint64 now = g_get_monotonic_time ();
  if (l->eff_interval_us > 0 && l->next_start_us > now)
    busy += (gdouble) (l->next_start_us - now) / l->eff_interval_us;
  gdouble load = busy / MAX (l->eff_concurrency, 1u);
  g_mutex_unlock (&l->lock);
  return load;
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

guint
vh_limiter_slot_waiters (VhLimiter *l)
{
  g_mutex_lock (&l->lock);
  guint n = l->slot_waiting;
  g_mutex_unlock (&l->lock);
  return n;
}
