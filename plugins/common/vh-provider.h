/* vh-provider — what the generator plugins (wanx, flux-remote) share beyond
 * JSON: the tolerance for failed polls of a running task, and the input
 * image fitted to a service's limits with its size known. */
#ifndef VH_PROVIDER_H
#define VH_PROVIDER_H

#include "vhost/plugin.h"
#include <json-c/json.h>

G_BEGIN_DECLS

/* Failed polls (network, 5xx, garbage) are tolerated while the task keeps
 * running on the server, since submitting again would pay twice: the poll
 * gives up only after this many in a row lasting at least this long, so a
 * gateway hiccup early in a task (when waits are short) is ridden out. */
#define VH_POLL_MAX_FAILURES 5
#define VH_POLL_MIN_FAILURE_STREAK_US (10 * G_USEC_PER_SEC)

typedef struct {
  guint  failures;       /* in a row; the caller sets 0 after a good poll */
  gint64 streak_start;   /* monotonic, of the first failure of the streak */
} VhPollFailures;

/* Counts a failed poll of class `klass`; TRUE when polling should go on
 * (QUOTA always; TRANSIENT and INTERNAL within the limits above). */
gboolean vh_poll_failure_tolerated (VhPollFailures *pf, VhErrorClass klass);

/* vh_image_fit, then width and height filled in (by decoding) when the fit
 * left them unknown. */
VhImage *vh_provider_fit_input (const VhImage *input, const VhImageLimits *limits, GError **error);

/* Turns a non-2xx answer into the service's error classes. */
typedef void (*VhProviderErrorMapper) (GError **error, const VhHttpResponse *response, const char *what);

/* One JSON exchange with a provider's API: sends `request`, prefixes a
 * transport error with `what`, parses a 2xx body as a JSON object and hands
 * any other status to `map_error`.  The response is kept in `response_out`
 * when given (for headers such as Retry-After), else freed. */
json_object *vh_provider_send_json (const VhHttpRequest *request, GCancellable *cancel, const char *what,
                                    VhProviderErrorMapper map_error, VhHttpResponse **response_out,
                                    GError **error);

G_END_DECLS
#endif /* VH_PROVIDER_H */
