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
void       vh_limiter_release (VhLimiter *limiter);
/* Observed maximum of calls in flight, and calls started (for tests/stats). */
guint      vh_limiter_max_in_flight (VhLimiter *limiter);
guint64    vh_limiter_started (VhLimiter *limiter);

G_END_DECLS
#endif
