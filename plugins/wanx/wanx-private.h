/* wanx — Alibaba Cloud DashScope (Model Studio) image generation and editing.
 *
 * Files, one job each:
 *   wanx-plugin.c   options table, descriptor, create/destroy, run dispatch
 *   wanx-api.c      JSON over HTTP to DashScope, error-code classification, downloads
 *   wanx-task.c     the async task protocol: submit, adaptive polling, results
 *   wanx-t2i.c      text-to-image request bodies and sizes
 *   wanx-edit.c     wanx2.1-imageedit, wan2.5-i2i and qwen-image-edit requests
 *   wanx-upload.c   local images to the API: base64 data URIs or temporary OSS upload
 */
#ifndef WANX_PRIVATE_H
#define WANX_PRIVATE_H

#include <json-c/json.h>
#include "vhost/plugin.h"
#include "vh-json.h"
#include "vh-provider.h"

#define WANX_LOG "wanx"

typedef enum {
  WANX_MODE_T2I,        /* text2image/image-synthesis, async */
  WANX_MODE_IMAGEEDIT,  /* image2image/image-synthesis with input.function, async */
  WANX_MODE_I2I,        /* image2image/image-synthesis with input.images[], async (wan2.5-i2i) */
  WANX_MODE_QWEN_EDIT,  /* multimodal-generation/generation, synchronous */
} WanxMode;

typedef enum {
  WANX_UPLOAD_BASE64,   /* data:image/...;base64, inside the JSON body */
  WANX_UPLOAD_OSS,      /* temporary upload, oss:// URL + OssResourceResolve header */
} WanxUpload;

/* An upload policy from GET /uploads?action=getPolicy, shared by the rows of
 * one instance until shortly before it expires. */
typedef struct {
  gchar  *policy, *signature, *upload_dir, *upload_host, *access_key_id;
  gchar  *acl, *forbid_overwrite;
  gint64  expires_us;   /* monotonic */
} WanxPolicy;

typedef struct {
  VhHost     *host;
  gchar      *instance;
  gchar      *model;
  WanxMode    mode;
  gchar      *base_url;          /* no trailing slash */
  gchar      *auth_header;       /* "Authorization: Bearer ..." — never logged */
  gchar      *workspace_header;  /* or NULL */
  gchar      *size;              /* "auto", "none" or "W*H" */
  gint64      seed;              /* < 0: not sent */
  gchar      *negative_prompt;   /* NULL: not sent */
  gboolean    prompt_extend, watermark;
  gchar      *function;          /* "auto" or an input.function value */
  gchar      *vttie_function;    /* for vttie rows; NULL = `function` */
  gdouble     strength;          /* < 0: not sent */
  gchar      *mask;              /* path template with {index}, or NULL */
  WanxUpload  upload;
  gint64      poll_initial_ms, poll_max_ms, poll_busy_ms, deadline_ms;
  gint64      poll_first_ms;
  gint        shortest_task_ms, tasks_seen;   /* learned first poll wait (vh_poll_learn_shortest) */
  gint64      request_timeout_ms, sync_timeout_ms, connect_timeout_ms;

  GMutex      policy_lock;
  WanxPolicy *policy;
} Wanx;

/* The state of one run() call. */
typedef struct {
  Wanx          *w;
  const VhTask  *task;
  GCancellable  *cancel;
  gint64         deadline_us;    /* monotonic */
  gboolean       uses_oss;       /* the body holds oss:// URLs: send the resolve header */
} WanxCall;

/* wanx-plugin.c */
extern const VhOption wanx_options[];

/* wanx-api.c */
gint64        wanx_remaining_ms   (const WanxCall *c);
gint64        wanx_timeout_ms     (const WanxCall *c, gint64 wanted_ms);
VhErrorClass  wanx_classify       (glong http_status, const char *code, const char *message);
void          wanx_set_api_error  (GError **error, const VhHttpResponse *response, json_object *body,
                                   const char *what);
json_object  *wanx_request_json   (WanxCall *c, const char *method, const char *path,
                                   json_object *body, gboolean async, gint64 timeout_ms,
                                   const char *what, VhHttpResponse **response_out, GError **error);
VhImage      *wanx_download       (WanxCall *c, const char *url, GError **error);
void          wanx_note_string    (const WanxCall *c, const char *key, const char *value);

/* wanx-task.c */
gchar        *wanx_task_run       (WanxCall *c, const char *path, json_object *body, GError **error);
gchar        *wanx_first_result_url (json_object *output, const char *what, GError **error);

/* wanx-t2i.c */
gchar        *wanx_t2i_size       (const Wanx *w);
gboolean      wanx_t2i_run        (WanxCall *c, VhImage **output, GError **error);

/* wanx-edit.c */
gchar        *wanx_size_for_aspect (gint width, gint height, gint64 target_pixels,
                                    gint min_side, gint max_side, gint multiple);
gboolean      wanx_edit_run       (WanxCall *c, const VhImage *input, VhImage **output, GError **error);

/* wanx-upload.c */
gchar        *wanx_image_ref      (WanxCall *c, const VhImage *image, GError **error);
void          wanx_policy_free    (WanxPolicy *policy);

#endif /* WANX_PRIVATE_H */
