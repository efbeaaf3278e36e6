/* vhost — the one header a plugin includes.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * vh_plugin_describe(), returning a static VhPlugin descriptor.  The host
 * reads `abi` first and refuses the module (naming the file and the reason)
 * before touching any other field when it differs from VH_PLUGIN_ABI.
 *
 * Everything else a plugin needs (HTTP, images, logging with redaction,
 * secrets, calling other instances) is a function of libvhost declared
 * below, so plugins never re-implement policy that belongs to the host:
 * limits (concurrency, qps, timeout) are applied by the host around run().
 *
 * Threading: create() and destroy() run on the main thread; run() is called
 * concurrently from worker threads on the same instance, so a plugin keeps
 * per-instance state read-only after create() or protects it itself.
 */
#ifndef VHOST_PLUGIN_H
#define VHOST_PLUGIN_H

#include <glib.h>
#include <gio/gio.h>
#include <gmodule.h>

G_BEGIN_DECLS

/* Bumped on any incompatible change of the structures or functions below. */
#define VH_PLUGIN_ABI 1
#define VH_PLUGIN_SYMBOL "vh_plugin_describe"

/* ---------------------------------------------------------------- tasks */

typedef enum {
  VH_TASK_T2I      = 1 << 0,   /* text to image */
  VH_TASK_TIE      = 1 << 1,   /* instructed edit of a natural photo */
  VH_TASK_VTTIE    = 1 << 2,   /* edit the text inside a photo */
  VH_TASK_DEEPFAKE = 1 << 3,   /* face swap between two photos */
} VhTaskType;
#define VH_TASK_ALL (VH_TASK_T2I | VH_TASK_TIE | VH_TASK_VTTIE | VH_TASK_DEEPFAKE)

/* One row of task.csv.  Paths are resolved against the images directory,
 * checked to exist and to stay inside it; NULL when the column is empty. */
typedef struct {
  const char *index;          /* the row's `index` column, e.g. "17" */
  VhTaskType  type;
  const char *type_name;      /* "t2i", "tie", "vttie", "deepfake" */
  const char *prompt;         /* UTF-8, never NULL (may be "") */
  const char *ori_image;      /* absolute path or NULL */
  const char *target_image;   /* absolute path or NULL */
  guint       line;           /* line in task.csv where the row starts */
  gpointer    host_private;   /* the host's; plugins do not touch it */
} VhTask;

/* ---------------------------------------------------------------- images */

/* An encoded image (JPEG, PNG or WebP as returned by a provider or read from
 * disk).  Plugins exchange encoded bytes; vh_image_decode() gives pixels. */
typedef struct {
  GBytes *bytes;
  gint    width, height;      /* 0 when not known yet */
} VhImage;

typedef enum { VH_FORMAT_UNKNOWN, VH_FORMAT_JPEG, VH_FORMAT_PNG, VH_FORMAT_WEBP } VhImageFormat;

/* Decoded 8-bit RGB pixels, rows packed (stride = width * 3). */
typedef struct {
  gint    width, height;
  guint8 *rgb;
} VhPixels;

/* What a provider accepts; 0 means "no limit".  vh_image_fit() returns the
 * input unchanged (a new reference) when it already fits, else scales it
 * down keeping the aspect ratio and re-encodes until every limit holds. */
typedef struct {
  gint          max_side;        /* longest side in pixels */
  gint          min_side;        /* shortest side; smaller inputs are scaled up */
  gint64        max_pixels;      /* width * height */
  gsize         max_bytes;       /* encoded size */
  VhImageFormat format;          /* required encoding; UNKNOWN = JPEG or PNG as given */
} VhImageLimits;

VhImage      *vh_image_new_from_file   (const char *path, GError **error);
VhImage      *vh_image_new_from_bytes  (GBytes *bytes, GError **error); /* takes a ref; checks the format */
void          vh_image_free            (VhImage *image);
VhImageFormat vh_image_sniff           (GBytes *bytes);                  /* by content, never by name */
const char   *vh_image_mime            (VhImageFormat format);
VhPixels     *vh_image_decode          (const VhImage *image, GError **error); /* RGB; alpha over white */
VhImage      *vh_image_encode_jpeg     (const VhPixels *pixels, gint quality, GError **error);
VhImage      *vh_image_encode_png      (const VhPixels *pixels, GError **error);
VhPixels     *vh_pixels_new            (gint width, gint height);
VhPixels     *vh_pixels_resize         (const VhPixels *src, gint width, gint height); /* area/bilinear */
void          vh_pixels_free           (VhPixels *pixels);
VhImage      *vh_image_fit             (const VhImage *image, const VhImageLimits *limits, GError **error);
gchar        *vh_image_to_base64       (const VhImage *image);          /* plain base64 */
gchar        *vh_image_to_data_uri     (const VhImage *image);          /* data:image/...;base64,... */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VhImage, vh_image_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VhPixels, vh_pixels_free)

/* ---------------------------------------------------------------- errors */

/* Every failure a plugin reports is in this domain with one of these codes.
 * Retry and fallback are decided from the class alone, in one place. */
#define VH_ERROR (vh_error_quark ())
GQuark vh_error_quark (void);

typedef enum {
  VH_ERROR_TRANSIENT,      /* timeout, 5xx, reset: the same call may succeed later */
  VH_ERROR_QUOTA,          /* 429 / throttled: wait (Retry-After if known) and retry */
  VH_ERROR_REJECTED,       /* moderation, "no face found": another provider may succeed */
  VH_ERROR_INVALID_INPUT,  /* this row can never succeed here */
  VH_ERROR_AUTH,           /* bad or missing key: stop using this instance */
  VH_ERROR_CANCELLED,      /* the run is stopping */
  VH_ERROR_INTERNAL,       /* a bug or an unexpected answer; treated like TRANSIENT once */
} VhErrorClass;

const char *vh_error_class_name   (VhErrorClass klass);   /* "transient", "quota", ... */
/* Sets a VH_ERROR; retry_after_ms >= 0 records a server's Retry-After. */
void        vh_set_error          (GError **error, VhErrorClass klass, gint64 retry_after_ms,
                                   const char *format, ...) G_GNUC_PRINTF (4, 5);
/* Retry-After carried by a VH_ERROR, or -1. */
gint64      vh_error_retry_after_ms (const GError *error);
/* The class of any GError: VH_ERROR codes as they are, G_IO_ERROR_CANCELLED
 * as CANCELLED, everything else INTERNAL. */
VhErrorClass vh_error_class       (const GError *error);

/* ---------------------------------------------------------------- options */

typedef enum {
  VH_OPT_STRING,
  VH_OPT_INT,
  VH_OPT_DOUBLE,
  VH_OPT_BOOL,
  VH_OPT_DURATION,     /* "500ms", "2s", "1m", "1h"; read in milliseconds */
  VH_OPT_LIST,         /* comma-separated strings */
  VH_OPT_INSTANCES,    /* comma-separated instance names: the host checks they exist, no cycles */
  VH_OPT_ENV,          /* the NAME of an environment variable holding a secret */
  VH_OPT_ENUM,         /* one of `choices` (comma-separated) */
} VhOptionType;

typedef struct {
  const char  *name;
  VhOptionType type;
  const char  *default_value;   /* NULL = required */
  const char  *help;
  const char  *choices;         /* VH_OPT_ENUM only, e.g. "fail,keep-original,blank" */
} VhOption;

/* A validated [instance NAME] section: every key of the plugin's schema is
 * present (defaults filled in), types were checked before create(). */
typedef struct _VhConfig VhConfig;

const char  *vh_config_instance_name (const VhConfig *config);
const char  *vh_config_get_string   (const VhConfig *config, const char *key); /* NULL if unset */
gint64       vh_config_get_int      (const VhConfig *config, const char *key);
gdouble      vh_config_get_double   (const VhConfig *config, const char *key);
gboolean     vh_config_get_bool     (const VhConfig *config, const char *key);
gint64       vh_config_get_duration_ms (const VhConfig *config, const char *key);
gchar      **vh_config_get_list     (const VhConfig *config, const char *key); /* g_strfreev */
gboolean     vh_config_has          (const VhConfig *config, const char *key); /* set in the file */
/* The secret in the environment variable named by an VH_OPT_ENV key.  The
 * value is registered for redaction in every log line.  AUTH error when
 * the variable is unset or empty. */
gchar       *vh_config_get_secret   (const VhConfig *config, const char *key, GError **error);

/* ---------------------------------------------------------------- host */

typedef struct _VhHost VhHost;
typedef struct _VhInstance VhInstance;

/* Another instance declared in the INI (for wrappers).  Calls through
 * vh_instance_run() go through that instance's limiter like any row. */
VhInstance  *vh_host_lookup       (VhHost *host, const char *instance_name);
const char  *vh_instance_name     (const VhInstance *instance);
guint32      vh_instance_task_types (const VhInstance *instance);
gboolean     vh_instance_run      (VhInstance *instance, const VhTask *task, const VhImage *input,
                                   VhImage **output, GCancellable *cancel, GError **error);

/* vh_instance_run() on whichever of `instances` first has a free slot (of
 * several free, the one that can start soonest, then the first listed);
 * *chosen says which ran.  For wrappers that spread rows over accounts: a
 * row never queues behind one account while another stands idle. */
gboolean     vh_instance_run_any  (VhInstance *const *instances, guint n, const VhTask *task,
                                   const VhImage *input, VhImage **output, VhInstance **chosen,
                                   GCancellable *cancel, GError **error);

/* How busy an instance is right now: calls in flight plus calls waiting for
 * its limiter, divided by its effective concurrency (1 when unlimited).
 * retry-fallback's spread orders its children by it (the least loaded is
 * preferred when several have a free slot, and is the first fallback). */
gdouble      vh_instance_load     (VhInstance *instance);

/* Quota slots.  vh_instance_run() holds one of the instance's concurrency
 * slots for the whole call.  A provider's account, though, counts a task only
 * until it ends on the server, not until its result is downloaded and
 * decoded here.  A plugin calls vh_task_release_slot() as soon as a poll
 * reports the task ended (or a synchronous generation answered): the host
 * then lets the next call of that instance start while this one downloads.
 * Only the innermost running instance's slot is released, once; later calls
 * are ignored, and so is a task the host did not start (tests).  A wrapper
 * must not run two children with the same task at the same time.
 *
 * vh_task_slot_wanted() says whether other calls are waiting for a slot of
 * that innermost instance: then every moment a finished task stays unseen
 * delays them, and a plugin polls at its short gap (VhPollBackoff busy_ms). */
void         vh_task_release_slot (const VhTask *task);
gboolean     vh_task_slot_wanted  (const VhTask *task);

/* A directory private to this run, removed at exit. */
const char  *vh_host_tmpdir       (VhHost *host);

/* Attach a note to the row being processed; it lands in the journal line
 * and the report.  `json` must be a JSON value (object, string, number). */
void         vh_task_note         (const VhTask *task, const char *key, const char *json);

/* Logging: every line goes through redaction of registered secrets. */
typedef enum { VH_LOG_ERROR, VH_LOG_WARNING, VH_LOG_INFO, VH_LOG_DEBUG } VhLogLevel;
void         vh_log               (VhLogLevel level, const char *domain, const char *format, ...)
                                   G_GNUC_PRINTF (3, 4);
void         vh_redact_register   (const char *secret);    /* never printed from now on */
gchar       *vh_redact            (const char *text);      /* copy with secrets replaced by "***" */

/* "500ms", "2s", "1.5m", "1h"; a bare number is seconds. */
gboolean     vh_parse_duration_ms (const char *text, gint64 *out_ms, GError **error);

/* Adaptive polling for asynchronous provider APIs.  A task's result is
 * picked up on average half a polling gap after it ends, and the slot it
 * holds against the account's concurrency quota stays taken until then, so
 * gaps stay short (poll_max 0.8 s; busy_ms 0.3 s while rows wait for the
 * slot): polls are cheap (DashScope allows 20 queries/s), quota slots are
 * not.  The first wait is learned: once a few
 * tasks of this instance have ended, the first poll waits for 3/4 of the
 * shortest seen instead of spending requests on the first seconds of every
 * task.  (A task is only seen to end at a poll, so the learned value can
 * only shrink by a quarter per task: hence the margin and the minimum count.) */
typedef struct {
  gint64 next_ms, max_ms, first_ms;
  gint64 busy_ms;     /* longest gap while other calls wait for the slot; 0 = max_ms */
} VhPollBackoff;

static inline void
vh_poll_backoff_init (VhPollBackoff *b, gint64 initial_ms, gint64 max_ms)
{
  b->next_ms = MAX (initial_ms, 10);
  b->max_ms = MAX (max_ms, b->next_ms);
  b->first_ms = 0;
  b->busy_ms = 0;
}

/* While other rows wait for this instance's quota slot (vh_task_slot_wanted()),
 * gaps are cut to busy_ms: a finished task then delays them until it is seen.
 * When nobody waits, the gaps of poll_max save requests at no cost. */
static inline void
vh_poll_backoff_set_busy (VhPollBackoff *b, gint64 busy_ms)
{
  b->busy_ms = busy_ms > 0 ? MAX (busy_ms, 10) : 0;
}

#define VH_POLL_LEARN_AFTER 4   /* tasks seen before the learned first wait is used */

/* As above, the first wait being `first_ms` until vh_poll_learn_shortest()
 * has seen enough tasks, then 3/4 of the shortest. */
static inline void
vh_poll_backoff_init_learned (VhPollBackoff *b, gint64 first_ms, gint64 initial_ms, gint64 max_ms,
                              gint shortest_ms, gint seen)
{
  vh_poll_backoff_init (b, initial_ms, max_ms);
  b->first_ms = seen >= VH_POLL_LEARN_AFTER && shortest_ms > 0 ? MAX (b->next_ms, (gint64) shortest_ms * 3 / 4)
                                                                : first_ms;
}

/* The wait before the next poll; a server's Retry-After is a floor.  `busy`:
 * other calls wait for this instance's slot (see vh_poll_backoff_set_busy). */
static inline gint64
vh_poll_backoff_next (VhPollBackoff *b, gint64 retry_after_ms, gboolean busy)
{
  if (b->first_ms > 0)
    {
      /* After a deliberate first wait the task may end any moment: poll at
       * the steady gap at once rather than ramping up again. */
      gint64 first = MAX (b->first_ms, retry_after_ms);
      b->first_ms = 0;
      b->next_ms = b->max_ms;
      return first;
    }
  gint64 gap = busy && b->busy_ms > 0 ? MIN (b->next_ms, b->busy_ms) : b->next_ms;
  gint64 wait = MAX (gap, retry_after_ms);
  b->next_ms = MIN (b->max_ms, b->next_ms + b->next_ms / 2);
  return wait;
}

/* Records a task's duration into a per-instance "shortest seen" (0 = none)
 * and counts the tasks seen, safely from many threads. */
static inline void
vh_poll_learn_shortest (gint *shortest_ms, gint *seen_count, gint64 observed_ms)
{
  g_atomic_int_inc (seen_count);
  gint seen = g_atomic_int_get (shortest_ms);
  gint now = (gint) MIN (observed_ms, (gint64) G_MAXINT);
  while (now > 0 && (seen == 0 || now < seen) && !g_atomic_int_compare_and_exchange (shortest_ms, seen, now))
    seen = g_atomic_int_get (shortest_ms);
}

/* Sleep that returns early (FALSE, CANCELLED error) when `cancel` fires. */
gboolean     vh_sleep_ms          (gint64 ms, GCancellable *cancel, GError **error);

/* ---------------------------------------------------------------- HTTP */

/* One blocking HTTP exchange through libcurl with the host's policy:
 * TLS verified, connect and total timeouts, a cap on the response size, no
 * retries (retry policy lives in one place, not here).  A curl-level failure
 * is returned as a VH_ERROR (TRANSIENT for timeouts/resets/DNS, INVALID_INPUT
 * for a body over the cap); any HTTP status is a success of this call. */
typedef struct {
  const char   *method;             /* "GET", "POST", "PUT"; NULL = GET, or POST with a body */
  const char   *url;
  const char  **headers;            /* NULL-terminated "Name: value" lines, or NULL */
  const void   *body;               /* request body or NULL */
  gsize         body_len;
  /* multipart/form-data instead of body: NULL-terminated, see VhHttpPart */
  const struct _VhHttpPart *parts;
  gint64        connect_timeout_ms; /* 0 = 10 s */
  gint64        timeout_ms;         /* 0 = 120 s, total per exchange */
  gsize         max_response_bytes; /* 0 = 64 MiB */
} VhHttpRequest;

typedef struct _VhHttpPart {
  const char *name;                 /* NULL ends the list */
  const char *value;                /* text value, or NULL for a file part */
  GBytes     *data;                 /* file part contents */
  const char *filename, *content_type;
} VhHttpPart;

typedef struct {
  glong   status;
  GBytes *body;
  gchar  *content_type;             /* may be NULL */
  gint64  retry_after_ms;           /* Retry-After header, or -1 */
  gchar **headers;                  /* "name: value" lines, lower-case names */
} VhHttpResponse;

VhHttpResponse *vh_http_send      (const VhHttpRequest *request, GCancellable *cancel, GError **error);
void            vh_http_response_free (VhHttpResponse *response);
const char     *vh_http_response_header (const VhHttpResponse *response, const char *name);
/* The usual class of an HTTP status: 401/403 AUTH, 429 QUOTA, 408/5xx
 * TRANSIENT, other 4xx INVALID_INPUT.  Providers refine with body codes. */
VhErrorClass    vh_http_status_class (glong status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VhHttpResponse, vh_http_response_free)

/* Fetches a provider's result image from its (expiring, signed) URL with a
 * plain GET — no credentials travel to the storage host — and decodes it to
 * prove it whole.  A reset, timeout, 408/429/5xx or cut-short body is tried
 * again here (3 attempts, 250 ms then 500 ms apart, Retry-After a floor).
 * A final failure is TRANSIENT (QUOTA on 429): the generation succeeded,
 * only this copy is out of reach, and a new submission can work. */
VhImage        *vh_http_download_image (const char *url, gint64 connect_timeout_ms, gint64 timeout_ms,
                                        gsize max_bytes, GCancellable *cancel, GError **error);

/* ---------------------------------------------------------------- plugin */

typedef struct {
  guint32         abi;               /* VH_PLUGIN_ABI at build time */
  guint32         struct_size;       /* sizeof (VhPlugin) at build time */
  const char     *name;              /* referenced by `plugin = NAME` in the INI */
  const char     *version;
  const char     *summary;           /* one line, shown by `vhost plugins` */
  guint32         task_types;        /* VhTaskType mask it can serve; wrappers: 0 = from children */
  const VhOption *options;           /* terminated by an entry with name NULL */
  gpointer      (*create)  (VhHost *host, const VhConfig *config, GError **error);
  /* input: the previous stage's image, or ori_image for the first stage
   * (NULL for t2i).  On success *output holds a new image. */
  gboolean      (*run)     (gpointer self, const VhTask *task, const VhImage *input,
                            VhImage **output, GCancellable *cancel, GError **error);
  void          (*destroy) (gpointer self);
} VhPlugin;

typedef const VhPlugin *(*VhPluginDescribeFunc) (void);

/* Declares the exported descriptor function of a plugin. */
#define VH_PLUGIN_DEFINE(descriptor) \
  G_MODULE_EXPORT const VhPlugin *vh_plugin_describe (void); \
  G_MODULE_EXPORT const VhPlugin *vh_plugin_describe (void) { return &(descriptor); }

G_END_DECLS

#endif /* VHOST_PLUGIN_H */
