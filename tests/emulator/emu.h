/* vh-emulator — shared declarations.
 *
 * The emulator is one single-threaded libsoup server on the GLib main loop;
 * only result images are rendered on a few background threads (emu-results.c),
 * so that their CPU cost never holds up a request.
 * Every provider family (DashScope, BFL, the fake OSS, result delivery, the
 * control API) is one file exporting one EmuFamily; emu-server.c dispatches
 * on the path prefix.  Adding a provider later (detector services with their
 * own signing) means a new emu-<name>.c and one line in the family table.
 *
 * Everything that looks like time inside a task (PENDING -> RUNNING -> done)
 * is derived from timestamps fixed at submission, so no timers run per task:
 * a poll simply compares "now" with the task's timeline.
 */
#ifndef VH_EMU_H
#define VH_EMU_H

#include <libsoup/soup.h>
#include <json-c/json.h>
#include <vhost/plugin.h>

G_BEGIN_DECLS

typedef struct _EmuServer  EmuServer;
typedef struct _EmuRequest EmuRequest;
typedef struct _EmuTask    EmuTask;
typedef struct _EmuRenderer EmuRenderer;

/* ------------------------------------------------------------ families */

typedef struct {
  const char *name;      /* "dashscope", "bfl", ... (also the key family) */
  const char *prefix;    /* path prefix it owns, e.g. "/api/v1" */
  gboolean    recorded;  /* requests appear in /_emu/requests */
  void      (*handle) (EmuRequest *req);
} EmuFamily;

extern const EmuFamily emu_family_dashscope;
extern const EmuFamily emu_family_bfl;
extern const EmuFamily emu_family_oss;
extern const EmuFamily emu_family_results;
extern const EmuFamily emu_family_control;
extern const EmuFamily emu_family_aliyun_cloudauth;    /* detector services: emu-detectors.h */
extern const EmuFamily emu_family_aliyun_green;
extern const EmuFamily emu_family_aliyun_openplatform;
extern const EmuFamily emu_family_aliyun_oss;
extern const EmuFamily emu_family_tencent_faceid;

/* What an endpoint does decides which faults may fire there. */
typedef enum {
  EMU_KIND_OTHER,
  EMU_KIND_SUBMIT,       /* creates a task (async submit or synchronous call) */
  EMU_KIND_POLL,         /* reads a task */
  EMU_KIND_DOWNLOAD,     /* a result image */
} EmuEndpointKind;

/* ------------------------------------------------------------ settings */

/* Settings resolved for one (endpoint, model): built-in defaults from the
 * protocol notes, overlaid by the config's "defaults", matching "endpoints"
 * entries (glob, least specific first) and finally "models". */
typedef struct {
  gdouble latency_min_ms, latency_max_ms;  /* before time_scale */
  gdouble concurrency;                     /* tasks in flight per key+model, 0 = no limit */
  gdouble qps;                             /* submissions per second per key+model, 0 = no limit */
  gdouble retry_after_s;                   /* Retry-After on quota 429s, 0 = header not sent */
  gint64  result_ttl_ms;                   /* result URL lifetime after the task ends */
  gint64  task_ttl_ms;                     /* task record retention (then UNKNOWN / not found) */
} EmuSettings;

void     emu_config_settings (EmuServer *emu, const char *endpoint, const char *model, EmuSettings *out);
/* Latency for a new task in microseconds: sampled, then multiplied by time_scale. */
gint64   emu_config_sample_latency_us (EmuServer *emu, const EmuSettings *s);
/* Shallow-merge `doc` into the live config; "faults" replaces the fault list. */
gboolean emu_config_apply (EmuServer *emu, json_object *doc, GError **error);
gboolean emu_key_valid (EmuServer *emu, const char *family, const char *key);
gdouble  emu_config_double (EmuServer *emu, const char *name, gdouble fallback);
gboolean emu_glob_match (const char *pattern, const char *text);

/* ------------------------------------------------------------ faults */

typedef enum {
  EMU_FAULT_NONE,
  EMU_FAULT_HTTP_429,
  EMU_FAULT_HTTP_ERROR,        /* status from the fault, default 500 */
  EMU_FAULT_HANG,
  EMU_FAULT_MALFORMED_JSON,
  EMU_FAULT_TRUNCATED,
  EMU_FAULT_EXPIRED_URL,
  EMU_FAULT_MODERATION_INPUT,
  EMU_FAULT_MODERATION_OUTPUT,
  EMU_FAULT_STUCK,
  EMU_FAULT_TASK_FAILED,
  EMU_FAULT_PARTIAL,
  EMU_FAULT_TASK_NOT_FOUND,
} EmuFaultType;

typedef enum { EMU_STAGE_REQUEST, EMU_STAGE_TASK } EmuFaultStage;

typedef struct {
  EmuFaultType type;
  gint         status;
  gdouble      retry_after_s;
  gchar       *code, *message;   /* optional overrides */
} EmuFaultHit;

void         emu_faults_clear (EmuServer *emu);
gboolean     emu_faults_load (EmuServer *emu, json_object *list, GError **error);
/* Consumes one matching fault (probability draw or "next" counter). */
gboolean     emu_faults_take (EmuServer *emu, const char *endpoint, EmuEndpointKind kind,
                              const char *model, EmuFaultStage stage, EmuFaultHit *hit);
void         emu_fault_hit_clear (EmuFaultHit *hit);
const char  *emu_fault_type_name (EmuFaultType type);
/* Request-stage faults for the endpoint named by emu_request_set_endpoint().
 * 429/5xx/hang/malformed are answered here (TRUE: the request is answered,
 * the family returns); the family formats 429/5xx bodies through `fmt`.
 * truncated_body sets req->truncate (the family answers normally and the
 * body is cut); expired_url / task_not_found land in req->fault. */
typedef void (*EmuErrorFormatter) (EmuRequest *req, guint status, const char *code, const char *message);
gboolean     emu_faults_request (EmuRequest *req, EmuErrorFormatter fmt);

/* ------------------------------------------------------------ quotas */

typedef enum { EMU_QUOTA_OK, EMU_QUOTA_QPS, EMU_QUOTA_CONCURRENCY } EmuQuotaVerdict;
/* Checks and, when admitted, records a submission for key+model. */
EmuQuotaVerdict emu_quota_admit (EmuServer *emu, const EmuSettings *s, const char *key,
                                 const char *model, gdouble *retry_after_s);
void            emu_quota_note_in_flight (EmuServer *emu, const char *key, const char *model);
void            emu_quota_reset (EmuServer *emu);
json_object    *emu_quota_stats (EmuServer *emu);

/* ------------------------------------------------------------ images */

/* What a result image is made of; shared (refcounted, atomically: render
 * threads hold references) by the n results of a task, and immutable once
 * made.  Results are rendered in the background as soon as they are
 * registered (emu_results_add). */
typedef struct {
  gchar        *prompt;
  gint64        seed;
  gint          width, height;
  VhImageFormat format;
  VhPixels     *input;        /* small copy of the (first) input image, or NULL */
} EmuGenSpec;

EmuGenSpec *emu_gen_spec_new (const char *prompt, gint64 seed, gint width, gint height,
                              VhImageFormat format, const VhPixels *input);
EmuGenSpec *emu_gen_spec_ref (EmuGenSpec *spec);
void        emu_gen_spec_unref (EmuGenSpec *spec);
VhImage    *emu_render (const EmuGenSpec *spec, gint index, GError **error);

/* Decoded input image with its encoded size. */
typedef struct {
  gint      width, height;
  gsize     bytes;
  VhPixels *pixels;
} EmuInput;
void emu_input_free (EmuInput *in);
typedef enum {
  EMU_INPUT_OK,
  EMU_INPUT_BAD_DATA,        /* not base64 / not an image */
  EMU_INPUT_TOO_BIG,         /* data URI or file over the cap */
  EMU_INPUT_NEEDS_RESOLVE,   /* oss:// without the resolve header */
  EMU_INPUT_DOWNLOAD_FAILED, /* URL we can not fetch (not ours, expired, wrong model) */
} EmuInputStatus;
/* `ref` is a data URI, plain base64 (when allow_plain_base64), an oss://
 * URL from the fake upload, or a URL of this emulator's /results. */
EmuInputStatus emu_input_load (EmuRequest *req, const char *ref, gsize max_bytes,
                               gsize max_data_uri, gboolean allow_plain_base64,
                               gboolean oss_resolve, const char *model, EmuInput **out);

/* ------------------------------------------------------------ results */

/* Registers a result and returns its public URL (fresh string).  The URL
 * answers until `expires_us` (or never, when force_expired). */
gchar   *emu_results_add (EmuServer *emu, const char *family, EmuGenSpec *spec, gint index,
                          gint64 expires_us, gboolean force_expired);
GBytes  *emu_results_lookup_bytes (EmuServer *emu, const char *url_or_path);
void     emu_results_clear (EmuServer *emu);
/* Drops the cached or pending images of expired results (the entries stay:
 * they still answer 403). */
void     emu_results_sweep (EmuServer *emu);
/* The render threads; free after emu_results_clear(). */
EmuRenderer *emu_renderer_new  (void);
void         emu_renderer_free (EmuRenderer *renderer);

/* ------------------------------------------------------------ oss */

void     emu_oss_clear (EmuServer *emu);
/* The stored object for an oss:// URL when key and model match, else NULL. */
GBytes  *emu_oss_lookup (EmuServer *emu, const char *oss_url, const char *model, const char *api_key);
json_object *emu_oss_policy (EmuServer *emu, const char *model, const char *api_key);

/* ------------------------------------------------------------ tasks */

typedef enum {
  EMU_OUTCOME_OK,
  EMU_OUTCOME_FAILED,
  EMU_OUTCOME_MOD_INPUT,
  EMU_OUTCOME_MOD_OUTPUT,
  EMU_OUTCOME_STUCK,
  EMU_OUTCOME_PARTIAL,
} EmuOutcome;

typedef enum { EMU_PHASE_PENDING, EMU_PHASE_RUNNING, EMU_PHASE_DONE, EMU_PHASE_CANCELED } EmuPhase;

struct _EmuTask {
  gchar      *id;
  gchar      *family, *endpoint, *key, *model;
  gint64      submit_us, start_us, done_us, cancel_us;
  gint64      expires_us;            /* record retention */
  EmuOutcome  outcome;
  gchar      *code, *message;        /* for FAILED / moderation */
  gint        n;
  GPtrArray  *urls;                  /* gchar*, one per image (filled at submit) */
  json_object *extra;                /* family data (prompts, sizes) */
  EmuGenSpec *spec;
};

EmuTask *emu_task_new (EmuServer *emu, const char *family, const char *endpoint, const char *key,
                       const char *model, const EmuSettings *s, const char *id_prefix);
EmuTask *emu_task_lookup (EmuServer *emu, const char *id);
EmuPhase emu_task_phase (const EmuTask *task, gint64 now_us);
gboolean emu_task_in_flight (const EmuTask *task, gint64 now_us);
guint    emu_tasks_in_flight (EmuServer *emu, const char *key, const char *model);
void     emu_tasks_clear (EmuServer *emu);
/* Forgets tasks past their retention. */
void     emu_tasks_sweep (EmuServer *emu);
/* Makes the n result URLs of a finished task (outcome OK / PARTIAL). */
void     emu_task_make_results (EmuServer *emu, EmuTask *task, const EmuSettings *s,
                                gboolean force_expired);
/* Applies a task-stage fault to a new task's outcome. */
void     emu_task_apply_fault (EmuTask *task, const EmuFaultHit *hit);

/* ------------------------------------------------------------ requests */

struct _EmuRequest {
  EmuServer         *emu;
  SoupServerMessage *msg;
  const EmuFamily   *family;
  const char        *method;
  const char        *path;
  GHashTable        *query;        /* may be NULL */
  GBytes            *body;
  json_object       *json;         /* parsed body when it is JSON, else NULL */
  json_object       *record;       /* the recorder's entry (borrowed) */
  gint64             now_us;       /* g_get_real_time() at arrival */
  const char        *endpoint;     /* set by the family */
  EmuEndpointKind    kind;
  const char        *model;
  const char        *api_key;      /* the authenticated key, set by the family */
  EmuFaultHit        fault;        /* a request-stage fault the family must act on
                                    * (expired_url at download, task_not_found at poll) */
  gboolean           truncate;     /* cut the body of whatever answer is set */
};

const char *emu_request_header (EmuRequest *req, const char *name);
const char *emu_request_query (EmuRequest *req, const char *name);
/* Names the endpoint (a static string such as "dashscope.text2image") for
 * settings, faults and the recorder. */
void        emu_request_set_endpoint (EmuRequest *req, const char *endpoint, EmuEndpointKind kind,
                                      const char *model);

/* Replies.  json bodies are stolen.  `delay_us` > 0 holds the answer. */
void emu_reply_json (EmuRequest *req, guint status, json_object *body);
void emu_reply_bytes (EmuRequest *req, guint status, const char *content_type, GBytes *bytes);
void emu_reply_text (EmuRequest *req, guint status, const char *content_type, const char *text);
void emu_reply_header (EmuRequest *req, const char *name, const char *value);
void emu_reply_retry_after (EmuRequest *req, gdouble seconds);
void emu_reply_delay (EmuRequest *req, gint64 delay_us);
/* Never answers: the connection stays open until the client gives up. */
void emu_reply_hang (EmuRequest *req);
/* Status line and headers for `total` bytes, then only the first half, then close. */
void emu_reply_truncated (EmuRequest *req, guint status, const char *content_type, GBytes *bytes);

gchar *emu_new_id (EmuServer *emu, const char *prefix);      /* uuid-like */
gchar *emu_format_time (gint64 us);                           /* "YYYY-MM-DD HH:MM:SS.mmm" */
json_object *emu_json_get (json_object *obj, const char *dotted_path);
const char  *emu_json_string (json_object *obj, const char *dotted_path);

/* ------------------------------------------------------------ control */

void         emu_recorder_add (EmuServer *emu, json_object *record); /* takes ownership */
void         emu_recorder_clear (EmuServer *emu);
json_object *emu_recorder_dump (EmuServer *emu);
void         emu_stat_inc (EmuServer *emu, const char *name);
void         emu_stat_add (EmuServer *emu, const char *name, gint64 delta);
json_object *emu_stats_dump (EmuServer *emu);
void         emu_state_reset (EmuServer *emu);

/* ------------------------------------------------------------ server */

struct _EmuServer {
  SoupServer   *soup;
  guint         port;
  gchar        *base_url;            /* http://127.0.0.1:PORT */
  GMainLoop    *loop;

  json_object  *startup_config;      /* from --config, restored by reset */
  json_object  *config;              /* live config */
  GPtrArray    *faults;              /* EmuFault* (emu-faults.c) */
  GRand        *rand;
  GHashTable   *cli_keys;            /* "family\tkey" or "*\tkey" from --keys, or NULL */

  GHashTable   *tasks;               /* id -> EmuTask* */
  GHashTable   *results;             /* token -> EmuResult* (emu-results.c) */
  EmuRenderer  *renderer;            /* renders results in the background (emu-results.c) */
  GHashTable   *oss_objects;         /* key -> EmuOssObject* (emu-oss.c) */
  GHashTable   *qps_windows;         /* "key\tmodel" -> GQueue of gint64 (emu-quota.c) */
  GHashTable   *max_in_flight;       /* "key\tmodel" -> max seen */
  GHashTable   *stats;               /* name -> gint64* */
  GQueue       *requests;            /* recorded json_object* */
  GPtrArray    *held;                /* hung or delayed messages / streams to release at exit */
  guint64       id_counter;
  gchar        *oss_secret;          /* signs upload policies */
  guint         sweep_id;            /* periodic cleanup of expired state */
};

EmuServer *emu_server_new (guint port, json_object *config, const char *keys, GError **error);
void       emu_server_free (EmuServer *emu);

G_END_DECLS
#endif
