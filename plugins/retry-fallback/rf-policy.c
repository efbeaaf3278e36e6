#include "rf-policy.h"
#include <string.h>

RfAction
rf_decide (VhErrorClass klass, guint attempt, guint retries)
{
  switch (klass)
    {
    case VH_ERROR_CANCELLED:
      return RF_STOP;
    case VH_ERROR_INVALID_INPUT:
      return RF_FAIL_ROW;
    case VH_ERROR_AUTH:
      return RF_DISABLE_CHILD;
    case VH_ERROR_REJECTED:
      /* Moderation or "no face": the same provider will say the same again. */
      return RF_NEXT_CHILD;
    case VH_ERROR_TRANSIENT:
    case VH_ERROR_QUOTA:
    case VH_ERROR_INTERNAL:
    default:
      return attempt <= retries ? RF_RETRY_SAME : RF_NEXT_CHILD;
    }
}

gint64
rf_backoff_ms (guint retry, gint64 base_ms, gint64 cap_ms, gint64 retry_after_ms, gdouble u)
{
  gdouble ceiling = (gdouble) base_ms;
  for (guint i = 1; i < retry && ceiling < (gdouble) cap_ms; i++)
    ceiling *= 2;
  ceiling = MIN (ceiling, (gdouble) cap_ms);
  gint64 jitter = (gint64) (CLAMP (u, 0.0, 0.999999) * ceiling);
  return retry_after_ms > jitter ? retry_after_ms : jitter;
}

gboolean
rf_parse_backoff (const char *text, gint64 *base_ms, gint64 *cap_ms, GError **error)
{
  const char *dots = text ? strstr (text, "..") : NULL;
  if (dots == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "backoff “%s” is not BASE..CAP (e.g. 1s..60s)", text ? text : "");
      return FALSE;
    }
  g_autofree gchar *lo = g_strndup (text, (gsize) (dots - text));
  if (!vh_parse_duration_ms (lo, base_ms, error) || !vh_parse_duration_ms (dots + 2, cap_ms, error))
    return FALSE;
  if (*cap_ms < *base_ms || *base_ms <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "backoff “%s”: the base must be above 0 and not above the cap", text);
      return FALSE;
    }
  return TRUE;
}

void
rf_breaker_success (RfBreaker *b)
{
  b->consecutive_failures = 0;
  b->open_until_us = 0;
}

gboolean
rf_breaker_failure (RfBreaker *b, guint threshold, gint64 cooldown_ms, gint64 now_us)
{
  b->consecutive_failures++;
  if (threshold > 0 && b->consecutive_failures >= threshold && b->open_until_us <= now_us)
    {
      b->open_until_us = now_us + cooldown_ms * 1000;
      b->consecutive_failures = 0;
      return TRUE;
    }
  return FALSE;
}

gboolean
rf_breaker_available (const RfBreaker *b, gint64 now_us)
{
  return !b->disabled && b->open_until_us <= now_us;
}
