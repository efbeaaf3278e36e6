/* flux-remote — Black Forest Labs FLUX API.
 *
 * Files, one job each:
 *   flux-plugin.c   options table, descriptor, create/destroy, run dispatch
 *   flux-body.c     request bodies and the size / aspect-ratio choice
 *   flux-api.c      JSON over HTTP, status classification, result download
 *   flux-task.c     submit, follow polling_url with adaptive waits, statuses
 */
#ifndef FLUX_PRIVATE_H
#define FLUX_PRIVATE_H

#include <json-c/json.h>
#include "vhost/plugin.h"
#include "vh-json.h"
#include "vh-provider.h"

#define FLUX_LOG "flux-remote"

typedef enum {
  FLUX_KIND_SIZED,     /* width/height, multiples of 32 in [256, 1440]: flux-pro-1.1, flux-dev */
  FLUX_KIND_ULTRA,     /* aspect_ratio only: flux-pro-1.1-ultra */
  FLUX_KIND_KONTEXT,   /* aspect_ratio + input_image: flux-kontext-pro / -max (edits) */
} FluxKind;

typedef struct {
  gchar    *instance;
  gchar    *model;
  FluxKind  kind;
  gchar    *base_url;          /* no trailing slash */
  gchar    *key_header;        /* "x-key: ..." — never logged */
  gint      width, height;     /* 0 = auto */
  gchar    *aspect_ratio;      /* NULL = auto */
  gint64    seed;              /* < 0: not sent */
  gint      safety_tolerance;
  gchar    *output_format;
  gboolean  prompt_upsampling, raw;
  gint      steps;             /* 0: not sent */
  gdouble   guidance;          /* 0: not sent */
  gint64    poll_initial_ms, poll_max_ms, poll_busy_ms, deadline_ms;
  gint64      poll_first_ms;
  gint        shortest_task_ms, tasks_seen;   /* learned first poll wait (vh_poll_learn_shortest) */
  gint64    request_timeout_ms, connect_timeout_ms;
} Flux;

typedef struct {
  Flux          *f;
  const VhTask  *task;
  GCancellable  *cancel;
  gint64         deadline_us;  /* monotonic */
} FluxCall;

/* flux-plugin.c */
extern const VhOption flux_options[];

/* flux-body.c */
void          flux_size_for_aspect (gint in_w, gint in_h, gint *out_w, gint *out_h);
gchar        *flux_aspect_string   (gint width, gint height);
json_object  *flux_build_body      (FluxCall *c, const VhImage *fitted_input, gboolean send_image,
                                    GError **error);
VhImage      *flux_fit_input       (const VhImage *input, GError **error);

/* flux-api.c */
gint64        flux_remaining_ms    (const FluxCall *c);
gint64        flux_timeout_ms      (const FluxCall *c, gint64 wanted_ms);
void          flux_set_http_error  (GError **error, const VhHttpResponse *response, const char *what);
json_object  *flux_request_json    (FluxCall *c, const char *method, const char *url, json_object *body,
                                    gboolean send_key, const char *what,
                                    VhHttpResponse **response_out, GError **error);
VhImage      *flux_download        (FluxCall *c, const char *url, GError **error);

/* flux-task.c */
VhImage      *flux_generate        (FluxCall *c, json_object *body, GError **error);

#endif /* FLUX_PRIVATE_H */
