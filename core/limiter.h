/* Per-instance limits the host applies around every call: a semaphore for
 * calls in flight and a token bucket (burst 1) for call starts per second.
 * Plugins never re-implement them. */
#ifndef VH_LIMITER_H
#define VH_LIMITER_H
#include "vh-private.h"

G_BEGIN_DECLS

typedef struct _VhLimiter VhLimiter;

/* concurrency 0 = unbounded; qps 0 = unlimited. */
VhLimiter *vh_limiter_new (guint concurrency, gdouble qps);
void       vh_limiter_free (VhLimiter *limiter);
/* Blocks until a slot and a start token are available; FALSE with a
 * CANCELLED error when `cancel` fires first. */
gboolean   vh_limiter_acquire (VhLimiter *limiter, GCancellable *cancel, GError **error);
/* The same, also saying the monotonic time (µs) the call was allowed to
 * start at, as the limiter decided it (tests check the decisions exactly). */
gboolean   vh_limiter_acquire_at (VhLimiter *limiter, GCancellable *cancel, gint64 *start_us, GError **error);
/* The same over several limiters: takes a slot of whichever first has one
 * free (of several, the one whose next start comes soonest, then the first
 * listed) and returns its position; -1 with a CANCELLED error.  A caller
 * never queues behind one limiter while another has room. */
gint       vh_limiter_acquire_any (VhLimiter *const *limiters, guint n, GCancellable *cancel, GError **error);
void       vh_limiter_release (VhLimiter *limiter);
/* Adaptive limits (AIMD): a QUOTA answer halves the start rate (when a qps
 * is set), takes one slot off the concurrency (when one is set, down to 1)
 * and pauses new starts for Retry-After (or one start interval, at least
 * 250 ms); every `recover_after` successes in a row give back 10% of the
 * configured rate and one slot, never beyond what the INI configured. */
void       vh_limiter_feedback (VhLimiter *limiter, gboolean success, VhErrorClass klass, gint64 retry_after_ms);
/* Current effective limits, for the summary and tests. */
void       vh_limiter_effective (VhLimiter *limiter, guint *concurrency, gdouble *qps);

/* (in flight + waiting + starts already reserved ahead) / effective concurrency. */
gdouble    vh_limiter_load (VhLimiter *limiter);

/* Observed maximum of calls in flight, and calls started (for tests/stats). */
guint      vh_limiter_max_in_flight (VhLimiter *limiter);
/* Calls blocked in acquire() until a slot frees (not those only waiting
 * for their start token). */
guint      vh_limiter_slot_waiters (VhLimiter *limiter);
guint64    vh_limiter_started (VhLimiter *limiter);

G_END_DECLS
#endif
