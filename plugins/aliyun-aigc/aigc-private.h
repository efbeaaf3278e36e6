/* aliyun-aigc — Alibaba Cloud Content Moderation 2.0 (green-cip 2022-03-02)
 * ImageModeration with an AIGC detector service, as a detector stage
 * (protocols/aliyun-green-aigc.md).  The API takes no base64: local images
 * go through DescribeUploadToken and an OSS PutObject first.
 *   aigc-plugin.c   options, create/destroy, run: fit, upload, moderate, verdict
 *   aigc-api.c      ImageModeration, the answer, business codes to classes
 *   aigc-upload.c   DescribeUploadToken (cached until it expires) + OSS PutObject (V1, STS) */
#ifndef AIGC_PRIVATE_H
#define AIGC_PRIVATE_H

#include "vh-detect.h"

#define AIGC_VERSION "2022-03-02"

typedef struct {
  gchar  *access_key_id, *access_key_secret, *security_token;   /* STS, never logged */
  gchar  *bucket, *prefix, *oss_endpoint;
  gint64  expiration;                                            /* unix seconds */
} AigcToken;

typedef struct {
  VhDetectCommon common;
  VhAcsClient    acs;
  gchar         *endpoint;          /* base URL, no trailing slash */
  gchar         *service;           /* aigcDetector_global, aigcDetector, ... */
  gboolean       internal_oss;      /* upload through OssInternalEndPoint */
  GMutex         lock;              /* guards token */
  AigcToken     *token;
} Aigc;

/* aigc-upload.c: uploads the image; sets the bucket and object names. */
gboolean aigc_upload       (Aigc *a, const VhImage *image, GCancellable *cancel, gchar **bucket, gchar **object,
                            GError **error);
void     aigc_token_free   (AigcToken *t);

/* aigc-api.c */
gboolean aigc_moderate     (Aigc *a, const char *bucket, const char *object, const char *data_id,
                            GCancellable *cancel, VhVerdict *v, GError **error);
gboolean aigc_verdict      (json_object *data, VhVerdict *v);
VhErrorClass aigc_code_class (gint64 code);

#endif /* AIGC_PRIVATE_H */
