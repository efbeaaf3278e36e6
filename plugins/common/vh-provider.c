/* vh-provider.c — shared by the generator plugins (see vh-provider.h). */
#include "vh-provider.h"
#include "vh-json.h"

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

json_object *
vh_provider_send_json (const VhHttpRequest *request, GCancellable *cancel, const char *what,
                       VhProviderErrorMapper map_error, VhHttpResponse **response_out, GError **error)
{
  if (response_out != NULL)
    *response_out = NULL;
  GError *local = NULL;
  VhHttpResponse *resp = vh_http_send (request, cancel, &local);
  if (resp == NULL)
    {
      g_prefix_error (&local, "%s: ", what);
      g_propagate_error (error, local);
      return NULL;
    }
  json_object *obj = NULL;
  if (resp->status >= 200 && resp->status < 300)
    obj = vh_json_parse (resp->body, what, error);
  else
    map_error (error, resp, what);
  if (response_out != NULL)
    *response_out = resp;
  else
    vh_http_response_free (resp);
  return obj;
}
