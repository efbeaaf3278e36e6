/* vh-detect — what the three detector stages share: the common options,
 * the normalised verdict note, the reject_above gate, the pass-through of
 * the image, and Alibaba Cloud POP calls (V3 or RPC signed, error codes to
 * classes).  Each detector keeps only its own protocol in its folder. */
#ifndef VH_DETECT_H
#define VH_DETECT_H

#include <json-c/json.h>
#include "vhost/plugin.h"
#include "vh-sign.h"
#include "vh-json.h"   /* vh_json_parse, vh_json_member, vh_json_str, vh_json_number */

G_BEGIN_DECLS

/* Options every detector declares (spliced into its table). */
#define VH_DETECT_OPTIONS \
  { "reject_above", VH_OPT_DOUBLE, "0", \
    "gate: a score above this fails the row as REJECTED (so a retry-fallback wrapper tries another generator); " \
    "0 = never, only note the verdict", NULL }, \
  { "request_timeout", VH_OPT_DURATION, "30s", "timeout of one HTTP exchange with the service", NULL }, \
  { "connect_timeout", VH_OPT_DURATION, "10s", "TCP+TLS connect timeout", NULL }

typedef struct {
  gchar   *instance;
  gdouble  reject_above;
  gint64   request_timeout_ms, connect_timeout_ms;
} VhDetectCommon;

gboolean vh_detect_common_init  (VhDetectCommon *c, const VhConfig *config, GError **error);
void     vh_detect_common_clear (VhDetectCommon *c);
/* An http(s) base URL without trailing slashes, or an INVALID_INPUT error. */
gchar   *vh_detect_base_url     (const VhConfig *config, const char *key, const char *value, GError **error);

typedef struct {
  gchar     *service;       /* e.g. "aliyun-cloudauth/DeepfakeDetectIntl" */
  GPtrArray *labels;        /* gchar*, owned */
  gdouble    score;         /* 0..1, how likely the image is forged or generated */
  gchar     *level;         /* the service's own level, verbatim */
  gint64     started_us;    /* monotonic, set by vh_verdict_init */
} VhVerdict;

void     vh_verdict_init  (VhVerdict *v, const char *service);
void     vh_verdict_add_label (VhVerdict *v, const char *label);   /* once each */
void     vh_verdict_clear (VhVerdict *v);

/* Notes "verdict.<instance>" = {"service","labels","score","level","latency_ms"},
 * then applies the gate and, when the row passes, returns the input image
 * unchanged in *output. */
gboolean vh_detect_finish (const VhDetectCommon *c, const VhTask *task, const VhImage *input,
                           VhVerdict *v, VhImage **output, GError **error);

/* The image a service receives: the input fitted to its limits. */
VhImage *vh_detect_fit    (const VhImage *input, const VhImageLimits *limits, const char *what, GError **error);

/* ------------------------------------------------------------ Alibaba POP */

typedef enum { VH_ACS_SIGN_V3, VH_ACS_SIGN_RPC } VhAcsSigning;

#define VH_ACS_OPTIONS \
  { "access_key_id_env", VH_OPT_ENV, "ALIBABA_CLOUD_ACCESS_KEY_ID", \
    "environment variable holding the AccessKey ID", NULL }, \
  { "access_key_secret_env", VH_OPT_ENV, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", \
    "environment variable holding the AccessKey secret", NULL }, \
  { "signing", VH_OPT_ENUM, "v3", \
    "request signature: v3 (ACS3-HMAC-SHA256, current) or rpc (HMAC-SHA1 Signature parameter, legacy)", "v3,rpc" }

typedef struct {
  gchar        *access_key_id, *access_key_secret;   /* wiped on clear, never logged */
  VhAcsSigning  signing;
  gint64        connect_timeout_ms, timeout_ms;
} VhAcsClient;

gboolean vh_acs_client_init  (VhAcsClient *c, const VhConfig *config, const VhDetectCommon *common, GError **error);
void     vh_acs_client_clear (VhAcsClient *c);

typedef struct {
  const char        *endpoint;    /* base URL, no trailing slash; the request goes to endpoint + "/" */
  const char        *method;      /* "POST" or "GET" */
  const char        *action, *version;
  const VhSignParam *query;       /* API parameters in the query string */
  gsize              n_query;
  const VhSignParam *form;        /* API parameters in the form body */
  gsize              n_form;
} VhAcsCall;

typedef struct {
  glong   status;
  gint64  retry_after_ms;
} VhAcsReply;

/* Signs and sends; returns the JSON body (any HTTP status) or NULL with an
 * error when nothing usable came back (transport, not JSON on a 2xx). */
json_object *vh_acs_call (const VhAcsClient *c, const VhAcsCall *call, GCancellable *cancel,
                          VhAcsReply *reply, GError **error);
/* Class of a POP / business error code (Code first, HTTP status second). */
VhErrorClass vh_acs_error_class (glong status, const char *code);
/* Sets the classified error "what: Code: Message (HTTP n, RequestId r)". */
void         vh_acs_set_error   (GError **error, const char *what, const VhAcsReply *reply, json_object *body,
                                 const char *code_key, const char *message_key);

G_END_DECLS
#endif /* VH_DETECT_H */
