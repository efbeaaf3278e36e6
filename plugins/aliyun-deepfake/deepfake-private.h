/* aliyun-deepfake — Alibaba Cloud ID Verification face deepfake detection
 * as a detector stage (protocols/aliyun-cloudauth-deepfake.md).
 *   deepfake-plugin.c   options, create/destroy, run: fit, call, verdict
 *   deepfake-api.c      the three actions' parameters, the answer, the verdict
 *   deepfake-upload.c   the file-stream input: AuthorizeFileUpload + OSS PostObject */
#ifndef DEEPFAKE_PRIVATE_H
#define DEEPFAKE_PRIVATE_H

#include "vh-detect.h"

typedef enum {
  DF_API_CHINA,         /* DeepfakeDetect, Cloudauth 2019-03-07, OuterOrderNo */
  DF_API_INTL,          /* DeepfakeDetectIntl, Cloudauth-intl 2022-08-09, MerchantBizId + ProductCode */
} DfApi;

typedef struct {
  VhDetectCommon common;
  VhAcsClient    acs;
  gchar         *endpoint;          /* base URL, no trailing slash */
  gchar         *upload_endpoint;   /* openplatform, for the stream input */
  gchar         *region;
  gchar         *scene_code;
  DfApi          api;
  gboolean       stream;            /* DeepfakeDetectIntlStream with FaceFile (uploaded) */
} Deepfake;

/* deepfake-api.c: one detection; fills the verdict or sets a classified error. */
gboolean deepfake_detect  (Deepfake *d, const VhImage *image, GCancellable *cancel, VhVerdict *v, GError **error);
/* Verdict from an answer's ResultObject (tests feed documented shapes through the emulator). */
gboolean deepfake_verdict (json_object *result, VhVerdict *v, GError **error);

/* deepfake-upload.c: uploads the image, returns the FaceFile URL. */
gchar   *deepfake_upload  (Deepfake *d, const VhImage *image, GCancellable *cancel, GError **error);

#endif /* DEEPFAKE_PRIVATE_H */
