/* limiter.c: the per-instance semaphore (concurrency) and start-rate
 * bucket (qps) under many threads, and cancellation of a waiter; and the
 * polling schedule plugins use to give a finished task's slot back soon. */
#include "util.h"
#include "limiter.h"
#include <stdlib.h>

#define THREADS 32

/* ------------------------------------------------------------ concurrency */

typedef struct {
  VhLimiter *limiter;
  gint       in_flight;      /* counted by the callers themselves */
  gint       max_seen;
  guint      rounds;
} Hammer;

static void
note_max (gint *max, gint value)
{
  for (gint old = g_atomic_int_get (max); value > old; old = g_atomic_int_get (max))
    if (g_atomic_int_compare_and_exchange (max, old, value))
      break;
}

static gpointer
hammer_thread (gpointer data)
{
  Hammer *h = data;
  GRand *rand = g_rand_new ();
  for (guint i = 0; i < h->rounds; i++)
    {
      GError *error = NULL;
      gboolean ok = vh_limiter_acquire (h->limiter, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      /* Inside the critical section: count ourselves. */
      note_max (&h->max_seen, g_atomic_int_add (&h->in_flight, 1) + 1);
      g_usleep (g_rand_int_range (rand, 100, 1500));
      g_atomic_int_add (&h->in_flight, -1);
      vh_limiter_release (h->limiter);
    }
  g_rand_free (rand);
  return NULL;
}

static void
test_concurrency (void)
{
  Hammer h = { vh_limiter_new (3, 0), 0, 0, 25 };
  GThread *threads[THREADS];
  for (guint i = 0; i < THREADS; i++)
    threads[i] = g_thread_new ("hammer", hammer_thread, &h);
  for (guint i = 0; i < THREADS; i++)
    g_thread_join (threads[i]);
  g_assert_cmpint (h.max_seen, <=, 3);
  g_assert_cmpint (h.max_seen, ==, 3);       /* and the limit is actually used */
  g_assert_cmpint (h.in_flight, ==, 0);
  g_assert_cmpuint (vh_limiter_max_in_flight (h.limiter), ==, 3);
  g_assert_cmpuint (vh_limiter_started (h.limiter), ==, THREADS * 25);
  vh_limiter_free (h.limiter);
}

static void
test_unbounded (void)
{
  /* concurrency 0 = no bound: all threads get in at once. */
  Hammer h = { vh_limiter_new (0, 0), 0, 0, 3 };
  GThread *threads[8];
  for (guint i = 0; i < 8; i++)
    threads[i] = g_thread_new ("hammer", hammer_thread, &h);
  for (guint i = 0; i < 8; i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (vh_limiter_started (h.limiter), ==, 24);
  g_assert_cmpint (h.max_seen, >, 3);
  vh_limiter_free (h.limiter);
}

/* ------------------------------------------------------------ qps */

#define QPS_STARTS 60

typedef struct {
  VhLimiter *limiter;
  gint       tickets;                  /* acquisitions left to hand out */
  gint       n;
  gint64     starts[QPS_STARTS];       /* monotonic µs each start was granted for */
  gint       early;                    /* acquire() returned before its granted start */
} Rate;

static gpointer
rate_thread (gpointer data)
{
  Rate *r = data;
  while (g_atomic_int_add (&r->tickets, -1) > 0)
    {
      gint64 granted = 0;
      gboolean ok = vh_limiter_acquire_at (r->limiter, NULL, &granted, NULL);
      gint64 now = g_get_monotonic_time ();
      g_assert_true (ok);
      if (now < granted)
        g_atomic_int_inc (&r->early);
      r->starts[g_atomic_int_add (&r->n, 1)] = granted;
      vh_limiter_release (r->limiter);
    }
  return NULL;
}

static gint
cmp_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static void
test_qps (void)
{
  Rate *r = g_new0 (Rate, 1);
  r->limiter = vh_limiter_new (0, 20);
  r->tickets = QPS_STARTS;
  gint64 t0 = g_get_monotonic_time ();
  GThread *threads[THREADS];
  for (guint i = 0; i < THREADS; i++)
    threads[i] = g_thread_new ("rate", rate_thread, r);
  for (guint i = 0; i < THREADS; i++)
    g_thread_join (threads[i]);
  gint64 elapsed = g_get_monotonic_time () - t0;

  g_assert_cmpint (r->n, ==, QPS_STARTS);
  g_assert_cmpuint (vh_limiter_started (r->limiter), ==, QPS_STARTS);
  /* 60 starts, one every 50 ms, the first at once: 59 intervals = 2.95 s. */
  g_assert_cmpint (elapsed, >=, 2800000);
  qsort (r->starts, QPS_STARTS, sizeof (gint64), cmp_i64);
  /* No call returned before the start it was granted, and no 1-second
   * window holds more than 21 granted starts: any 22 consecutive ones span
   * more than a second.  The granted times are the limiter's decisions, so
   * this holds exactly even under valgrind, where a thread may run late
   * after its start (return-time stamps then bunch up). */
  g_assert_cmpint (r->early, ==, 0);
  for (guint i = 0; i + 21 < QPS_STARTS; i++)
    {
      gint64 span = r->starts[i + 21] - r->starts[i];
      if (span <= 1000000)
        g_test_fail_printf ("starts %u..%u within %" G_GINT64_FORMAT " µs", i, i + 21, span);
    }
  vh_limiter_free (r->limiter);
  g_free (r);
}

/* ------------------------------------------------------------ cancellation */

typedef struct {
  VhLimiter    *limiter;
  GCancellable *cancel;
  gboolean      ok;
  GError       *error;
  gint64        returned_at;
} Waiter;

static gpointer
waiter_thread (gpointer data)
{
  Waiter *w = data;
  w->ok = vh_limiter_acquire (w->limiter, w->cancel, &w->error);
  w->returned_at = g_get_monotonic_time ();
  return NULL;
}

/* Starts a waiter, cancels it after 150 ms and checks it gave up promptly. */
static void
cancel_waiter (VhLimiter *limiter)
{
  Waiter w = { limiter, g_cancellable_new (), TRUE, NULL, 0 };
  GThread *thread = g_thread_new ("waiter", waiter_thread, &w);
  g_usleep (150000);
  g_assert_cmpint (w.returned_at, ==, 0);     /* still waiting */
  gint64 cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (w.cancel);
  g_thread_join (thread);
  g_assert_false (w.ok);
  g_assert_error (w.error, VH_ERROR, VH_ERROR_CANCELLED);
  g_assert_cmpint (w.returned_at - cancelled_at, <, 500000);
  g_clear_error (&w.error);
  g_object_unref (w.cancel);
}

static void
test_cancel_waiting_for_slot (void)
{
  VhLimiter *l = vh_limiter_new (1, 0);
  g_assert_true (vh_limiter_acquire (l, NULL, NULL));   /* the only slot is taken */
  cancel_waiter (l);
  vh_limiter_release (l);
  /* The cancelled waiter holds nothing: the slot is free again. */
  g_assert_true (vh_limiter_acquire (l, NULL, NULL));
  vh_limiter_release (l);
  g_assert_cmpuint (vh_limiter_started (l), ==, 2);
  vh_limiter_free (l);
}

typedef struct {
  GCancellable *cancel;
  gint          done;
} Guard;

/* Cancels after 5 s unless told the test is done. */
static gpointer
guard_thread (gpointer data)
{
  Guard *g = data;
  for (int i = 0; i < 100 && !g_atomic_int_get (&g->done); i++)
    g_usleep (50000);
  if (!g_atomic_int_get (&g->done))
    g_cancellable_cancel (g->cancel);
  return NULL;
}

static void
test_cancel_waiting_for_token (void)
{
  VhLimiter *l = vh_limiter_new (1, 2);   /* one start every 500 ms */
  g_assert_true (vh_limiter_acquire (l, NULL, NULL));
  vh_limiter_release (l);
  cancel_waiter (l);                       /* it had the slot, waiting for its start time */
  /* It gave its slot back: the next caller gets in (or the guard cancels it). */
  Guard guard = { g_cancellable_new (), 0 };
  GThread *timer = g_thread_new ("guard", guard_thread, &guard);
  GError *error = NULL;
  gboolean ok = vh_limiter_acquire (l, guard.cancel, &error);
  g_atomic_int_set (&guard.done, 1);
  g_thread_join (timer);
  g_assert_no_error (error);
  g_clear_error (&error);
  g_assert_true (ok);
  if (ok)
    vh_limiter_release (l);
  g_object_unref (guard.cancel);
  vh_limiter_free (l);
}

static gpointer
acquire_release_thread (gpointer data)
{
  VhLimiter *l = data;
  g_assert_true (vh_limiter_acquire (l, NULL, NULL));
  vh_limiter_release (l);
  return NULL;
}

/* vh_task_slot_wanted() rests on this count: callers blocked for a slot. */
static void
test_slot_waiters (void)
{
  VhLimiter *l = vh_limiter_new (1, 0);
  g_assert_cmpuint (vh_limiter_slot_waiters (l), ==, 0);
  g_assert_true (vh_limiter_acquire (l, NULL, NULL));
  g_assert_cmpuint (vh_limiter_slot_waiters (l), ==, 0);   /* the holder is not waiting */
  GThread *t = g_thread_new ("waiter", acquire_release_thread, l);
  for (int i = 0; i < 500 && vh_limiter_slot_waiters (l) == 0; i++)
    g_usleep (10000);
  g_assert_cmpuint (vh_limiter_slot_waiters (l), ==, 1);
  vh_limiter_release (l);
  g_thread_join (t);
  g_assert_cmpuint (vh_limiter_slot_waiters (l), ==, 0);
  vh_limiter_free (l);
}

typedef struct {
  VhLimiter **ls;
  gint        got;
} AnyWaiter;

static gpointer
acquire_any_thread (gpointer data)
{
  AnyWaiter *w = data;
  g_atomic_int_set (&w->got, vh_limiter_acquire_any (w->ls, 2, NULL, NULL));
  return NULL;
}

/* Waiting on two accounts at once: the row takes whichever frees first,
 * counts as a waiter on both meanwhile, and among free ones prefers the one
 * that may start at once. */
static void
test_acquire_any (void)
{
  VhLimiter *ls[2] = { vh_limiter_new (1, 0), vh_limiter_new (1, 0) };
  g_assert_cmpint (vh_limiter_acquire_any (ls, 2, NULL, NULL), ==, 0);   /* both free: the first */
  g_assert_cmpint (vh_limiter_acquire_any (ls, 2, NULL, NULL), ==, 1);   /* the first is taken */
  AnyWaiter w = { ls, -2 };
  GThread *t = g_thread_new ("any", acquire_any_thread, &w);
  for (int i = 0; i < 500 && vh_limiter_slot_waiters (ls[1]) == 0; i++)
    g_usleep (10000);
  g_assert_cmpuint (vh_limiter_slot_waiters (ls[0]), ==, 1);
  g_assert_cmpuint (vh_limiter_slot_waiters (ls[1]), ==, 1);
  g_usleep (100000);
  g_assert_cmpint (g_atomic_int_get (&w.got), ==, -2);                    /* still waiting */
  vh_limiter_release (ls[1]);                                             /* the second frees first */
  g_thread_join (t);
  g_assert_cmpint (w.got, ==, 1);
  g_assert_cmpuint (vh_limiter_slot_waiters (ls[0]), ==, 0);
  g_assert_cmpuint (vh_limiter_slot_waiters (ls[1]), ==, 0);
  g_assert_cmpuint (vh_limiter_started (ls[0]) + vh_limiter_started (ls[1]), ==, 3);
  vh_limiter_release (ls[0]);
  vh_limiter_release (ls[1]);
  vh_limiter_free (ls[0]);
  vh_limiter_free (ls[1]);

  /* Both have a free slot, but the first just started a call and may not
   * start another for a second: the second account is taken. */
  VhLimiter *q[2] = { vh_limiter_new (2, 1), vh_limiter_new (2, 1) };
  g_assert_true (vh_limiter_acquire (q[0], NULL, NULL));
  g_assert_cmpint (vh_limiter_acquire_any (q, 2, NULL, NULL), ==, 1);
  vh_limiter_release (q[0]);
  vh_limiter_release (q[1]);
  vh_limiter_free (q[0]);
  vh_limiter_free (q[1]);

  /* Cancelled while waiting: -1, CANCELLED, nothing held. */
  VhLimiter *c[2] = { vh_limiter_new (1, 0), vh_limiter_new (1, 0) };
  g_assert_true (vh_limiter_acquire (c[0], NULL, NULL));
  g_assert_true (vh_limiter_acquire (c[1], NULL, NULL));
  GCancellable *cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  GError *error = NULL;
  g_assert_cmpint (vh_limiter_acquire_any (c, 2, cancel, &error), ==, -1);
  g_assert_error (error, VH_ERROR, VH_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (vh_limiter_slot_waiters (c[0]) + vh_limiter_slot_waiters (c[1]), ==, 0);
  vh_limiter_release (c[0]);
  vh_limiter_release (c[1]);
  g_assert_cmpint (vh_limiter_acquire_any (c, 2, NULL, NULL), ==, 0);
  vh_limiter_release (c[0]);
  g_object_unref (cancel);
  vh_limiter_free (c[0]);
  vh_limiter_free (c[1]);
}

/* VhPollBackoff (plugin.h): the gaps grow x1.5 to the cap, are cut to
 * busy_ms only while others wait for the slot, and a Retry-After is a floor. */
static void
test_poll_backoff (void)
{
  VhPollBackoff b;
  vh_poll_backoff_init (&b, 250, 800);
  g_assert_cmpint (vh_poll_backoff_next (&b, -1, FALSE), ==, 250);
  g_assert_cmpint (vh_poll_backoff_next (&b, -1, FALSE), ==, 375);
  g_assert_cmpint (vh_poll_backoff_next (&b, -1, TRUE), ==, 562);    /* no busy cap set */
  g_assert_cmpint (vh_poll_backoff_next (&b, -1, FALSE), ==, 800);
  g_assert_cmpint (vh_poll_backoff_next (&b, -1, FALSE), ==, 800);

  vh_poll_backoff_init (&b, 250, 800);
  vh_poll_backoff_set_busy (&b, 300);
  g_assert_cmpint (vh_poll_backoff_next (&b, -1, TRUE), ==, 250);
  g_assert_cmpint (vh_poll_backoff_next (&b, -1, TRUE), ==, 300);
  g_assert_cmpint (vh_poll_backoff_next (&b, -1, FALSE), ==, 562);   /* nobody waits: the long gaps */
  g_assert_cmpint (vh_poll_backoff_next (&b, -1, TRUE), ==, 300);
  g_assert_cmpint (vh_poll_backoff_next (&b, 2000, TRUE), ==, 2000); /* the server's floor wins */
  vh_poll_backoff_set_busy (&b, 0);
  g_assert_cmpint (vh_poll_backoff_next (&b, -1, TRUE), ==, 800);

  /* The learned first wait: the given one until 4 tasks were seen, then
   * 3/4 of the shortest, then the steady gap at once. */
  vh_poll_backoff_init_learned (&b, 2000, 250, 800, 4000, 3);
  g_assert_cmpint (vh_poll_backoff_next (&b, -1, FALSE), ==, 2000);
  vh_poll_backoff_init_learned (&b, 2000, 250, 800, 4000, 4);
  vh_poll_backoff_set_busy (&b, 300);
  g_assert_cmpint (vh_poll_backoff_next (&b, -1, TRUE), ==, 3000);
  g_assert_cmpint (vh_poll_backoff_next (&b, -1, FALSE), ==, 800);
  g_assert_cmpint (vh_poll_backoff_next (&b, -1, TRUE), ==, 300);

  gint shortest = 0, seen = 0;
  vh_poll_learn_shortest (&shortest, &seen, 5000);
  vh_poll_learn_shortest (&shortest, &seen, 3000);
  vh_poll_learn_shortest (&shortest, &seen, 4000);
  g_assert_cmpint (shortest, ==, 3000);
  g_assert_cmpint (seen, ==, 3);
}

int
main (int argc, char **argv)
{
  tu_init (&argc, &argv);
  g_test_add_func ("/limiter/concurrency", test_concurrency);
  g_test_add_func ("/limiter/unbounded", test_unbounded);
  g_test_add_func ("/limiter/qps", test_qps);
  g_test_add_func ("/limiter/cancel-waiting-for-slot", test_cancel_waiting_for_slot);
  g_test_add_func ("/limiter/cancel-waiting-for-token", test_cancel_waiting_for_token);
  g_test_add_func ("/limiter/slot-waiters", test_slot_waiters);
  g_test_add_func ("/limiter/acquire-any", test_acquire_any);
  g_test_add_func ("/limiter/poll-backoff", test_poll_backoff);
  return g_test_run ();
}
