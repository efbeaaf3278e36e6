/* retry-fallback's decisions, kept free of I/O so they are unit-tested:
 * what to do after an error of a given class, how long to back off, and the
 * per-child circuit breaker. */
#ifndef RF_POLICY_H
#define RF_POLICY_H
#include <vhost/plugin.h>

G_BEGIN_DECLS

typedef enum {
  RF_SUCCEED,        /* keep the image */
  RF_RETRY_SAME,     /* back off, then call the same child again */
  RF_NEXT_CHILD,     /* move on to the next child at once */
  RF_DISABLE_CHILD,  /* this child is unusable for the rest of the run; next child */
  RF_FAIL_ROW,       /* this row can never succeed: stop here */
  RF_STOP,           /* the run is being cancelled */
} RfAction;

/* The one table of retry decisions.  `attempt` counts calls of this child
 * for this row (1 after the first call); `retries` is how many further calls
 * a retryable class earns. */
RfAction rf_decide (VhErrorClass klass, guint attempt, guint retries);

/* Full-jitter exponential backoff: a uniform draw in [0, min(cap, base*2^(n-1))]
 * for the n-th retry (n >= 1).  A server's Retry-After wins when it is longer
 * (never shorter: the server knows its quota). `u` is a uniform [0,1) draw. */
gint64 rf_backoff_ms (guint retry, gint64 base_ms, gint64 cap_ms, gint64 retry_after_ms, gdouble u);

/* "1s..60s" -> base, cap. */
gboolean rf_parse_backoff (const char *text, gint64 *base_ms, gint64 *cap_ms, GError **error);

/* Circuit breaker of one child, shared by all rows (the caller locks). */
typedef struct {
  guint    consecutive_failures;
  gint64   open_until_us;      /* monotonic; 0 = closed */
  gboolean disabled;           /* AUTH: for the rest of the run */
} RfBreaker;

void     rf_breaker_success (RfBreaker *b);
/* Records a failure of a retryable class; opens the breaker for cooldown
 * after `threshold` in a row.  Returns TRUE when it just opened. */
gboolean rf_breaker_failure (RfBreaker *b, guint threshold, gint64 cooldown_ms, gint64 now_us);
gboolean rf_breaker_available (const RfBreaker *b, gint64 now_us);

G_END_DECLS
#endif
