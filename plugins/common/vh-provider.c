/* vh-provider.c — shared by the generator plugins (see vh-provider.h). */
#include "vh-provider.h"

gboolean
vh_poll_failure_tolerated (VhPollFailures *pf, VhErrorClass klass)
{
  gboolean retryable = klass == VH_ERROR_TRANSIENT || klass == VH_ERROR_INTERNAL;
  if (retryable && pf->failures++ == 0)
    pf->streak_start = g_get_monotonic_time ();
  return klass == VH_ERROR_QUOTA
         || (retryable && (pf->failures < VH_POLL_MAX_FAILURES
                           || g_get_monotonic_time () - pf->streak_start < VH_POLL_MIN_FAILURE_STREAK_US));
}

VhImage *
vh_provider_fit_input (const VhImage *input, const VhImageLimits *limits, GError **error)
{
  VhImage *fitted = vh_image_fit (input, limits, error);
  if (fitted != NULL && (fitted->width <= 0 || fitted->height <= 0))
    {
      g_autoptr(VhPixels) px = vh_image_decode (fitted, error);
      if (px == NULL)
        {
          vh_image_free (fitted);
          return NULL;
        }
      fitted->width = px->width;
      fitted->height = px->height;
    }
  return fitted;
}
