/* Result images and their delivery.  A result is registered when its task
 * is created (the token is unguessable, so nobody fetches it early) and
 * its image is rendered at once by a background thread (the renderer
 * below), so that encoding an image never holds up the main loop, where
 * every other client's submit and poll waits: a real server does not stall
 * like that.  The first download takes the rendered bytes, which are then
 * cached.  The pixels depend on the prompt, the seed and the image index
 * (a colour from a hash plus gradients and a checker pattern), and an edit
 * blends in its input, so a test can tell outputs apart and see that an
 * edit came from its input.
 * Expiry answers the way the real delivery stores do: OSS (DashScope)
 * and Azure-style blob storage (BFL) both say 403 with an XML body. */
#include "emu.h"
#include <string.h>

typedef struct _EmuJob EmuJob;

typedef struct {
  gchar      *token;
  gchar      *family;
  EmuGenSpec *spec;
  gint        index;
  gint64      expires_us;
  gboolean    force_expired;
  EmuJob     *job;       /* the background render, until the first download takes it */
  GBytes     *cached;
} EmuResult;

/* ------------------------------------------------------------ specs */

EmuGenSpec *
emu_gen_spec_new (const char *prompt, gint64 seed, gint width, gint height, VhImageFormat format,
                  const VhPixels *input)
{
  /* Atomic: a render job holds a reference and may drop it on its thread. */
  EmuGenSpec *s = g_atomic_rc_box_new0 (EmuGenSpec);
  s->prompt = g_strdup (prompt ? prompt : "");
  s->seed = seed;
  s->width = width;
  s->height = height;
  s->format = format;
  if (input)
    {
      /* A thumbnail is enough to blend from and keeps big inputs out of memory. */
      gint side = MAX (input->width, input->height);
      gdouble k = side > 256 ? 256.0 / side : 1.0;
      s->input = vh_pixels_resize (input, MAX (1, (gint) (input->width * k)), MAX (1, (gint) (input->height * k)));
    }
  return s;
}

EmuGenSpec *
emu_gen_spec_ref (EmuGenSpec *spec)
{
  return g_atomic_rc_box_acquire (spec);
}

static void
spec_clear (gpointer p)
{
  EmuGenSpec *s = p;
  g_free (s->prompt);
  if (s->input)
    vh_pixels_free (s->input);
}

void
emu_gen_spec_unref (EmuGenSpec *spec)
{
  g_atomic_rc_box_release_full (spec, spec_clear);
}

static guint64
fnv1a (const char *s, guint64 h)
{
  for (; *s; s++)
    h = (h ^ (guint8) *s) * 1099511628211ULL;
  return h;
}

VhImage *
emu_render (const EmuGenSpec *spec, gint index, GError **error)
{
  gint w = MAX (1, spec->width), h = MAX (1, spec->height);
  guint64 hash = fnv1a (spec->prompt, 1469598103934665603ULL);
  hash = (hash ^ (guint64) spec->seed) * 1099511628211ULL;
  hash = (hash ^ (guint64) (index + 1)) * 1099511628211ULL;
  /* Keep the base colour away from black so the gradient stays visible. */
  guint r0 = 48 + (hash & 0xff) % 200, g0 = 48 + ((hash >> 8) & 0xff) % 200, b0 = 48 + ((hash >> 16) & 0xff) % 200;
  guint cell = 16 + (guint) ((hash >> 24) % 48);
  VhPixels *px = vh_pixels_new (w, h);
  VhPixels *in = spec->input ? vh_pixels_resize (spec->input, w, h) : NULL;
  for (gint y = 0; y < h; y++)
    for (gint x = 0; x < w; x++)
      {
        gdouble t = w > 1 ? (gdouble) x / (w - 1) : 0, u = h > 1 ? (gdouble) y / (h - 1) : 0;
        gint bump = (((guint) x / cell + (guint) y / cell) & 1) ? 12 : -12;
        gint r = (gint) (r0 * (0.55 + 0.45 * t)) + bump;
        gint g = (gint) (g0 * (0.55 + 0.45 * u)) + bump;
        gint b = (gint) (b0 * (1.0 - 0.35 * t)) + bump;
        guint8 *o = px->rgb + ((gsize) y * w + x) * 3;
        if (in)
          {
            const guint8 *p = in->rgb + ((gsize) y * w + x) * 3;
            r = (r + p[0]) / 2, g = (g + p[1]) / 2, b = (b + p[2]) / 2;
          }
        o[0] = (guint8) CLAMP (r, 0, 255);
        o[1] = (guint8) CLAMP (g, 0, 255);
        o[2] = (guint8) CLAMP (b, 0, 255);
      }
  if (in)
    vh_pixels_free (in);
  VhImage *img = spec->format == VH_FORMAT_PNG ? vh_image_encode_png (px, error) : vh_image_encode_jpeg (px, 90, error);
  vh_pixels_free (px);
  return img;
}

/* ------------------------------------------------------------ renderer */

/* A few threads render result images as soon as their task is created.
 * A job is shared by its result (main thread) and the queue or the thread
 * rendering it, hence the atomic refcount; its state and the queue are
 * under the renderer's lock.  Once DONE, bytes and error never change.
 * Whoever takes a job off the queue renders it, so no image is rendered
 * twice at once: a download that finds its job still queued renders it
 * right there (rather than wait behind the queue), one that finds it
 * RUNNING waits for the thread.  Threads never wait for the main loop. */

#define EMU_RENDER_THREADS 2

typedef enum { EMU_JOB_QUEUED, EMU_JOB_RUNNING, EMU_JOB_DONE } EmuJobState;

struct _EmuJob {
  EmuGenSpec  *spec;
  gint         index;
  EmuJobState  state;
  GBytes      *bytes;       /* DONE: the encoded image, or NULL with error */
  GError      *error;
};

struct _EmuRenderer {
  GMutex     lock;
  GCond      work;          /* a job was queued, or stop */
  GCond      done;          /* a job became DONE */
  GQueue     queue;         /* EmuJob*, QUEUED, each holding a reference */
  guint      busy;          /* jobs being rendered by the threads */
  gboolean   stop;
  GPtrArray *threads;
};

static void
job_clear (gpointer p)
{
  EmuJob *job = p;
  emu_gen_spec_unref (job->spec);
  if (job->bytes)
    g_bytes_unref (job->bytes);
  g_clear_error (&job->error);
}

static void
job_unref (EmuJob *job)
{
  g_atomic_rc_box_release_full (job, job_clear);
}

static GBytes *
render_bytes (const EmuGenSpec *spec, gint index, GError **error)
{
  VhImage *img = emu_render (spec, index, error);
  if (!img)
    return NULL;
  GBytes *bytes = g_bytes_ref (img->bytes);
  vh_image_free (img);
  return bytes;
}

static gpointer
renderer_thread (gpointer data)
{
  EmuRenderer *rd = data;
  g_mutex_lock (&rd->lock);
  for (;;)
    {
      while (!rd->stop && g_queue_is_empty (&rd->queue))
        g_cond_wait (&rd->work, &rd->lock);
      if (rd->stop)
        break;
      EmuJob *job = g_queue_pop_head (&rd->queue);
      job->state = EMU_JOB_RUNNING;
      rd->busy++;
      g_mutex_unlock (&rd->lock);
      GError *error = NULL;
      GBytes *bytes = render_bytes (job->spec, job->index, &error);
      g_mutex_lock (&rd->lock);
      job->bytes = bytes;
      job->error = error;
      job->state = EMU_JOB_DONE;
      rd->busy--;
      g_cond_broadcast (&rd->done);
      job_unref (job);   /* the queue's reference */
    }
  g_mutex_unlock (&rd->lock);
  return NULL;
}

EmuRenderer *
emu_renderer_new (void)
{
  EmuRenderer *rd = g_new0 (EmuRenderer, 1);
  g_mutex_init (&rd->lock);
  g_cond_init (&rd->work);
  g_cond_init (&rd->done);
  g_queue_init (&rd->queue);
  rd->threads = g_ptr_array_new ();
  for (guint i = 0; i < EMU_RENDER_THREADS; i++)
    g_ptr_array_add (rd->threads, g_thread_new ("emu-render", renderer_thread, rd));
  return rd;
}

/* Drops every queued job and waits for the ones being rendered, so that
 * nothing of the old state is alive or busy afterwards (reset, exit).
 * Only the main thread queues jobs, so none can appear meanwhile. */
static void
renderer_cancel_all (EmuRenderer *rd)
{
  g_mutex_lock (&rd->lock);
  EmuJob *job;
  while ((job = g_queue_pop_head (&rd->queue)))
    {
      job->state = EMU_JOB_DONE;   /* never rendered: its result is being freed */
      job_unref (job);
    }
  while (rd->busy > 0)
    g_cond_wait (&rd->done, &rd->lock);
  g_mutex_unlock (&rd->lock);
}

void
emu_renderer_free (EmuRenderer *rd)
{
  if (!rd)
    return;
  renderer_cancel_all (rd);
  g_mutex_lock (&rd->lock);
  rd->stop = TRUE;
  g_cond_broadcast (&rd->work);
  g_mutex_unlock (&rd->lock);
  for (guint i = 0; i < rd->threads->len; i++)
    g_thread_join (rd->threads->pdata[i]);
  g_ptr_array_unref (rd->threads);
  g_mutex_clear (&rd->lock);
  g_cond_clear (&rd->work);
  g_cond_clear (&rd->done);
  g_free (rd);
}

/* A new job for the result's image; the caller keeps the returned reference. */
static EmuJob *
renderer_queue (EmuRenderer *rd, EmuGenSpec *spec, gint index)
{
  EmuJob *job = g_atomic_rc_box_new0 (EmuJob);
  job->spec = emu_gen_spec_ref (spec);
  job->index = index;
  job->state = EMU_JOB_QUEUED;
  g_mutex_lock (&rd->lock);
  g_queue_push_tail (&rd->queue, g_atomic_rc_box_acquire (job));
  g_cond_signal (&rd->work);
  g_mutex_unlock (&rd->lock);
  return job;
}

/* The job's image for a download: rendered here when no thread has
 * started it yet, else waited for. */
static GBytes *
renderer_take (EmuRenderer *rd, EmuJob *job, GError **error)
{
  g_mutex_lock (&rd->lock);
  if (job->state == EMU_JOB_QUEUED)
    {
      g_queue_remove (&rd->queue, job);
      job->state = EMU_JOB_DONE;   /* taken: no thread will see it again */
      g_mutex_unlock (&rd->lock);
      job_unref (job);             /* the queue's reference; the caller holds another */
      return render_bytes (job->spec, job->index, error);
    }
  while (job->state != EMU_JOB_DONE)
    g_cond_wait (&rd->done, &rd->lock);
  g_mutex_unlock (&rd->lock);
  if (!job->bytes)
    {
      if (error && job->error)
        *error = g_error_copy (job->error);
      return NULL;
    }
  return g_bytes_ref (job->bytes);
}

/* The result no longer wants its image: out of the queue if still there
 * (a thread rendering it drops its own reference when done). */
static void
renderer_drop (EmuRenderer *rd, EmuJob *job)
{
  g_mutex_lock (&rd->lock);
  if (job->state == EMU_JOB_QUEUED && g_queue_remove (&rd->queue, job))
    {
      job->state = EMU_JOB_DONE;
      job_unref (job);
    }
  g_mutex_unlock (&rd->lock);
  job_unref (job);
}

/* ------------------------------------------------------------ store */

static void
result_free (EmuServer *emu, EmuResult *r)
{
  g_free (r->token);
  g_free (r->family);
  emu_gen_spec_unref (r->spec);
  if (r->job)
    renderer_drop (emu->renderer, r->job);
  if (r->cached)
    g_bytes_unref (r->cached);
  g_free (r);
}

void
emu_results_clear (EmuServer *emu)
{
  /* Every queued job is one of these results': drop them all at once
   * rather than one queue search per result. */
  renderer_cancel_all (emu->renderer);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, emu->results);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      g_hash_table_iter_steal (&it);
      result_free (emu, v);
    }
}

void
emu_results_sweep (EmuServer *emu)
{
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, emu->results);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      EmuResult *r = v;
      if (!r->force_expired && g_get_real_time () < r->expires_us)
        continue;
      if (r->job)
        {
          renderer_drop (emu->renderer, r->job);
          r->job = NULL;
        }
      g_clear_pointer (&r->cached, g_bytes_unref);
    }
}

gchar *
emu_results_add (EmuServer *emu, const char *family, EmuGenSpec *spec, gint index, gint64 expires_us,
                 gboolean force_expired)
{
  EmuResult *r = g_new0 (EmuResult, 1);
  r->token = g_strdup_printf ("%08x%08x%08x%08x", g_rand_int (emu->rand), g_rand_int (emu->rand),
                              g_rand_int (emu->rand), g_rand_int (emu->rand));
  r->family = g_strdup (family);
  r->spec = emu_gen_spec_ref (spec);
  r->index = index;
  r->expires_us = expires_us;
  r->force_expired = force_expired;
  /* A force-expired URL only ever answers 403: nothing to render. */
  if (!force_expired)
    r->job = renderer_queue (emu->renderer, spec, index);
  g_hash_table_insert (emu->results, r->token, r);
  gboolean png = spec->format == VH_FORMAT_PNG;
  gint64 exp_s = expires_us / G_USEC_PER_SEC;
  /* Query strings shaped like the real signed URLs (they are not checked). */
  if (!g_strcmp0 (family, "bfl"))
    return g_strdup_printf ("%s/results/%s.%s?se=%" G_GINT64_FORMAT "&sp=r&sig=%.16s", emu->base_url, r->token,
                            png ? "png" : "jpeg", exp_s, r->token + 8);
  return g_strdup_printf ("%s/results/%s.%s?Expires=%" G_GINT64_FORMAT "&OSSAccessKeyId=LTAIemulator&Signature=%.16s",
                          emu->base_url, r->token, png ? "png" : "jpg", exp_s, r->token + 4);
}

static EmuResult *
lookup_path (EmuServer *emu, const char *path)
{
  const char *name = strrchr (path, '/');
  name = name ? name + 1 : path;
  gsize len = strcspn (name, ".?");
  gchar *token = g_strndup (name, len);
  EmuResult *r = g_hash_table_lookup (emu->results, token);
  g_free (token);
  return r;
}

static GBytes *
result_bytes (EmuServer *emu, EmuResult *r, GError **error)
{
  if (!r->cached)
    {
      GBytes *bytes = r->job ? renderer_take (emu->renderer, r->job, error)
                             : render_bytes (r->spec, r->index, error);
      /* The job is spent either way: after a failure the next download
       * renders again, here, as it always did. */
      if (r->job)
        {
          renderer_drop (emu->renderer, r->job);
          r->job = NULL;
        }
      if (!bytes)
        return NULL;
      r->cached = bytes;
    }
  return g_bytes_ref (r->cached);
}

static gboolean
result_expired (const EmuResult *r)
{
  return r->force_expired || g_get_real_time () >= r->expires_us;
}

GBytes *
emu_results_lookup_bytes (EmuServer *emu, const char *url_or_path)
{
  gchar *path = g_strdup (url_or_path);
  path[strcspn (path, "?")] = '\0';
  EmuResult *r = lookup_path (emu, path);
  g_free (path);
  if (!r || result_expired (r))
    return NULL;
  return result_bytes (emu, r, NULL);
}

/* ------------------------------------------------------------ delivery */

static void
xml_error (EmuRequest *req, guint status, const char *code, const char *message)
{
  gchar *rid = emu_new_id (req->emu, NULL);
  gchar *body = g_strdup_printf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>%s</Code>\n"
                                 "  <Message>%s</Message>\n  <RequestId>%s</RequestId>\n"
                                 "  <HostId>127.0.0.1</HostId>\n</Error>\n",
                                 code ? code : (status == 429 ? "SlowDown" : "InternalError"),
                                 message ? message : (status == 429 ? "Please reduce your request rate." : "We encountered an internal error. Please try again."),
                                 rid);
  emu_reply_text (req, status, "application/xml", body);
  g_free (body);
  g_free (rid);
}

static void
results_handle (EmuRequest *req)
{
  EmuServer *emu = req->emu;
  emu_request_set_endpoint (req, "results", EMU_KIND_DOWNLOAD, NULL);
  if (strcmp (req->method, "GET") && strcmp (req->method, "HEAD"))
    {
      xml_error (req, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
      return;
    }
  if (emu_faults_request (req, xml_error))
    return;
  EmuResult *r = lookup_path (emu, req->path);
  if (!r)
    {
      xml_error (req, 404, "NoSuchKey", "The specified key does not exist.");
      return;
    }
  gboolean bfl = !g_strcmp0 (r->family, "bfl");
  if (result_expired (r) || req->fault.type == EMU_FAULT_EXPIRED_URL)
    {
      emu_stat_inc (emu, "results_expired");
      if (bfl)
        xml_error (req, 403, "AuthenticationFailed",
                   "Server failed to authenticate the request. Signature not valid in the specified time frame");
      else
        xml_error (req, 403, "AccessDenied", "Request has expired.");
      return;
    }
  /* A signed OSS URL plus an Authorization header is two auth mechanisms;
   * OSS refuses it, and the DashScope key must never travel to OSS anyway. */
  if (!bfl && emu_request_header (req, "Authorization"))
    {
      xml_error (req, 400, "InvalidArgument", "Only one auth mechanism allowed; the URL is signed, do not send Authorization.");
      return;
    }
  GError *error = NULL;
  GBytes *bytes = result_bytes (emu, r, &error);
  if (!bytes)
    {
      xml_error (req, 500, "InternalError", error ? error->message : "render failed");
      g_clear_error (&error);
      return;
    }
  emu_stat_inc (emu, "results_served");
  emu_reply_bytes (req, 200, vh_image_mime (r->spec->format), bytes);
  g_bytes_unref (bytes);
}

const EmuFamily emu_family_results = { "results", "/results", TRUE, results_handle };
