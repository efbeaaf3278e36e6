/* tencent-aifake — Tencent Cloud faceid DetectAIFakeFaces as a detector
 * stage (protocols/tencent-tc3-and-detectaifakefaces.md).
 *   aifake-plugin.c   options, create/destroy, run: fit, call, verdict
 *   aifake-api.c      the TC3-signed call, the answer, error codes to classes */
#ifndef AIFAKE_PRIVATE_H
#define AIFAKE_PRIVATE_H

#include "vh-detect.h"

#define AIFAKE_SERVICE "faceid"            /* credential scope, whatever host the endpoint names */
#define AIFAKE_ACTION  "DetectAIFakeFaces"
#define AIFAKE_VERSION "2018-03-01"

typedef struct {
  VhDetectCommon common;
  gchar         *endpoint;                 /* base URL, no trailing slash */
  gchar         *region;                   /* X-TC-Region, NULL = not sent */
  gchar         *secret_id, *secret_key;   /* never logged */
} AiFake;

/* The answer's Response object (a new reference), or NULL with a classified error. */
json_object  *aifake_call        (AiFake *a, const VhImage *image, GCancellable *cancel, GError **error);
VhErrorClass  aifake_error_class (glong status, const char *code);
/* Fills the verdict from Response; FALSE (INTERNAL) on an unknown level. */
gboolean      aifake_verdict     (json_object *response, VhVerdict *v, GError **error);

#endif /* AIFAKE_PRIVATE_H */
