/* The polling back-off: short first waits because many tasks finish in a
 * few seconds, growing x1.5 up to a cap so a long task costs few queries
 * (the task query API allows 20 QPS per account), never past the deadline. */
#ifndef WANX_POLL_H
#define WANX_POLL_H

#include <glib.h>

typedef struct {
  gint64 next_ms, max_ms;
} WanxBackoff;

static inline void
wanx_backoff_init (WanxBackoff *b, gint64 initial_ms, gint64 max_ms)
{
  b->next_ms = MAX (initial_ms, 10);
  b->max_ms = MAX (max_ms, b->next_ms);
}

/* The wait before the next poll; a server's Retry-After is a floor. */
static inline gint64
wanx_backoff_next (WanxBackoff *b, gint64 retry_after_ms)
{
  gint64 wait = MAX (b->next_ms, retry_after_ms);
  b->next_ms = MIN (b->max_ms, b->next_ms + b->next_ms / 2);
  return wait;
}

#endif /* WANX_POLL_H */
