/* The polling back-off: short first waits because many tasks finish in a
 * few seconds, growing x1.5 up to a cap so a long task costs few queries
 * (every poll is a request against the account), never past the deadline. */
#ifndef FLUX_POLL_H
#define FLUX_POLL_H

#include <glib.h>

typedef struct {
  gint64 next_ms, max_ms;
} FluxBackoff;

static inline void
flux_backoff_init (FluxBackoff *b, gint64 initial_ms, gint64 max_ms)
{
  b->next_ms = MAX (initial_ms, 10);
  b->max_ms = MAX (max_ms, b->next_ms);
}

/* The wait before the next poll; a server's Retry-After is a floor. */
static inline gint64
flux_backoff_next (FluxBackoff *b, gint64 retry_after_ms)
{
  gint64 wait = MAX (b->next_ms, retry_after_ms);
  b->next_ms = MIN (b->max_ms, b->next_ms + b->next_ms / 2);
  return wait;
}

#endif /* FLUX_POLL_H */
