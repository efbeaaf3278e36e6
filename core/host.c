#include <inttypes.h>
#include "host.h"
#include <string.h>
#include <glib/gstdio.h>

/* ------------------------------------------------------------ watchdog */

/* One thread enforces every call's timeout by cancelling that call's own
 * GCancellable; the plugin sees an ordinary cancellation and the host turns
 * it into a TRANSIENT "timed out" error. */
typedef struct {
  gint64        deadline;
  GCancellable *cancel;
  gboolean      fired;
} Deadline;

static GMutex wd_lock;
static GCond wd_cond;
static GList *wd_list;
static GThread *wd_thread;

static gpointer
watchdog (gpointer data)
{
  g_mutex_lock (&wd_lock);
  for (;;)
    {
      gint64 now = g_get_monotonic_time (), next = now + G_USEC_PER_SEC;
      for (GList *l = wd_list; l; l = l->next)
        {
          Deadline *d = l->data;
          if (!d->fired && d->deadline <= now)
            {
              d->fired = TRUE;
              g_cancellable_cancel (d->cancel);
            }
          else if (!d->fired)
            next = MIN (next, d->deadline);
        }
      g_cond_wait_until (&wd_cond, &wd_lock, next);
    }
  return NULL;
}

static Deadline *
deadline_add (GCancellable *cancel, gint64 ms)
{
  Deadline *d = g_new0 (Deadline, 1);
  d->deadline = g_get_monotonic_time () + ms * 1000;
  d->cancel = g_object_ref (cancel);
  g_mutex_lock (&wd_lock);
  if (wd_thread == NULL)
    wd_thread = g_thread_new ("vh-watchdog", watchdog, NULL);
  wd_list = g_list_prepend (wd_list, d);
  g_cond_signal (&wd_cond);
  g_mutex_unlock (&wd_lock);
  return d;
}

static gboolean
deadline_remove (Deadline *d)
{
  g_mutex_lock (&wd_lock);
  wd_list = g_list_remove (wd_list, d);
  gboolean fired = d->fired;
  g_mutex_unlock (&wd_lock);
  g_object_unref (d->cancel);
  g_free (d);
  return fired;
}

/* ------------------------------------------------------------ instances */

VhInstance *
vh_host_lookup (VhHost *host, const char *name)
{
  for (guint i = 0; host && i < host->instances->len; i++)
    {
      VhInstance *in = host->instances->pdata[i];
      if (strcmp (in->name, name) == 0)
        return in;
    }
  return NULL;
}

const char *
vh_instance_name (const VhInstance *instance)
{
  return instance->name;
}

guint32
vh_instance_task_types (const VhInstance *instance)
{
  return instance->task_types;
}

gdouble
vh_instance_load (VhInstance *instance)
{
  return vh_limiter_load (instance->limiter);
}

const char *
vh_host_tmpdir (VhHost *host)
{
  return host->tmpdir;
}

/* ------------------------------------------------------------ quota slots */

/* Records that `task` now runs inside an instance limited by `limiter`;
 * returns the nesting level for slot_pop(). */
static guint
slot_push (const VhTask *task, VhLimiter *limiter)
{
  VhRowState *s = task ? task->host_private : NULL;
  if (s == NULL)
    return G_MAXUINT;
  g_mutex_lock (&s->lock);
  guint level = s->depth++;
  if (level < VH_ROW_SLOT_DEPTH)
    {
      s->slots[level].limiter = limiter;
      s->slots[level].released = FALSE;
    }
  g_mutex_unlock (&s->lock);
  return level;
}

/* Leaves the level; TRUE when its slot was already released early. */
static gboolean
slot_pop (const VhTask *task, guint level)
{
  VhRowState *s = task ? task->host_private : NULL;
  if (s == NULL || level == G_MAXUINT)
    return FALSE;
  g_mutex_lock (&s->lock);
  gboolean released = level < VH_ROW_SLOT_DEPTH && s->slots[level].released;
  s->depth = level;
  g_mutex_unlock (&s->lock);
  return released;
}

/* The limiter of the innermost running instance, if tracked; NULL else.
 * With `take`, marks its slot released and returns it only the first time. */
static VhLimiter *
slot_top (const VhTask *task, gboolean take)
{
  VhRowState *s = task ? task->host_private : NULL;
  if (s == NULL)
    return NULL;
  VhLimiter *l = NULL;
  g_mutex_lock (&s->lock);
  if (s->depth > 0 && s->depth <= VH_ROW_SLOT_DEPTH && !s->slots[s->depth - 1].released)
    {
      l = s->slots[s->depth - 1].limiter;
      if (take)
        s->slots[s->depth - 1].released = TRUE;
    }
  g_mutex_unlock (&s->lock);
  return l;
}

void
vh_task_release_slot (const VhTask *task)
{
  VhLimiter *l = slot_top (task, TRUE);
  if (l != NULL)
    vh_limiter_release (l);
}

gboolean
vh_task_slot_wanted (const VhTask *task)
{
  VhLimiter *l = slot_top (task, FALSE);
  return l != NULL && vh_limiter_slot_waiters (l) > 0;
}

static void
forward_cancel (GCancellable *parent, gpointer child)
{
  g_cancellable_cancel (child);
}

/* One call of `in` with its limiter's slot already taken; gives it back. */
static gboolean
instance_call (VhInstance *in, const VhTask *task, const VhImage *input, VhImage **output,
               GCancellable *cancel, GError **error)
{
  guint level = slot_push (task, in->limiter);
  g_atomic_int_inc (&in->calls);
  g_autoptr (GCancellable) call = g_cancellable_new ();
  gulong handler = cancel ? g_cancellable_connect (cancel, G_CALLBACK (forward_cancel), call, NULL) : 0;
  Deadline *d = in->timeout_ms > 0 ? deadline_add (call, in->timeout_ms) : NULL;
  GError *local = NULL;
  gboolean ok = FALSE;
  /* A plugin must set an error when it fails and an image when it succeeds;
   * the host does not trust either blindly. */
  ok = in->plugin->run (in->self, task, input, output, call, &local);
  if (handler)
    g_cancellable_disconnect (cancel, handler);
  gboolean timed_out = d ? deadline_remove (d) : FALSE;
  if (!slot_pop (task, level))
    vh_limiter_release (in->limiter);
  vh_limiter_feedback (in->limiter, ok && *output != NULL, vh_error_class (local), vh_error_retry_after_ms (local));
  if (ok && *output == NULL)
    {
      ok = FALSE;
      vh_set_error (&local, VH_ERROR_INTERNAL, -1, _("instance %s returned no image"), in->name);
    }
  if (!ok)
    {
      g_clear_pointer (output, vh_image_free);
      if (local == NULL)
        vh_set_error (&local, VH_ERROR_INTERNAL, -1, _("instance %s failed without saying why"), in->name);
      g_atomic_int_inc (&in->failures);
      VhErrorClass k = vh_error_class (local);
      if (timed_out && (cancel == NULL || !g_cancellable_is_cancelled (cancel)))
        {
          g_atomic_int_inc (&in->timeouts);
          g_clear_error (&local);
          vh_set_error (&local, VH_ERROR_TRANSIENT, -1, _("instance %s timed out after %" PRId64 " ms"),
                        in->name, in->timeout_ms);
        }
      else if (k == VH_ERROR_QUOTA)
        g_atomic_int_inc (&in->quota_errors);
      g_propagate_error (error, local);
    }
  return ok;
}

gboolean
vh_instance_run (VhInstance *in, const VhTask *task, const VhImage *input, VhImage **output,
                 GCancellable *cancel, GError **error)
{
  *output = NULL;
  if (!vh_limiter_acquire (in->limiter, cancel, error))
    return FALSE;
  return instance_call (in, task, input, output, cancel, error);
}

gboolean
vh_instance_run_any (VhInstance *const *instances, guint n, const VhTask *task, const VhImage *input,
                     VhImage **output, VhInstance **chosen, GCancellable *cancel, GError **error)
{
  *output = NULL;
  *chosen = NULL;
  if (n == 0)
    {
      vh_set_error (error, VH_ERROR_INTERNAL, -1, "%s", _("no instance to run"));
      return FALSE;
    }
  VhLimiter *limiters[n];
  for (guint i = 0; i < n; i++)
    limiters[i] = instances[i]->limiter;
  gint i = vh_limiter_acquire_any (limiters, n, cancel, error);
  if (i < 0)
    return FALSE;
  *chosen = instances[i];
  return instance_call (instances[i], task, input, output, cancel, error);
}

/* ------------------------------------------------------------ notes */

void
vh_row_state_init (VhRowState *s)
{
  memset (s, 0, sizeof *s);
  g_mutex_init (&s->lock);
  s->notes = json_object_new_object ();
}

void
vh_row_state_clear (VhRowState *s)
{
  g_mutex_clear (&s->lock);
  json_object_put (s->notes);
  s->notes = NULL;
}

void
vh_task_note (const VhTask *task, const char *key, const char *json)
{
  VhRowState *s = task ? task->host_private : NULL;
  if (s == NULL || key == NULL || json == NULL)
    return;
  json_object *v = json_tokener_parse (json);
  if (v == NULL)
    v = json_object_new_string (json);   /* not JSON: keep it as text rather than lose it */
  /* Notes may carry provider text: redact before it reaches journal or report. */
  g_autofree gchar *safe = vh_redact (json_object_to_json_string (v));
  json_object_put (v);
  v = json_tokener_parse (safe);
  g_mutex_lock (&s->lock);
  json_object_object_add (s->notes, key, v);
  g_mutex_unlock (&s->lock);
}

/* ------------------------------------------------------------ host */

VhHost *
vh_host_new (VhPipelineConfig *config, VhRegistry *registry, GError **error)
{
  VhHost *host = g_new0 (VhHost, 1);
  host->config = config;
  host->registry = registry;
  host->instances = g_ptr_array_new ();
  host->tmpdir = g_dir_make_tmp ("vhost-XXXXXX", NULL);
  /* Every instance object exists before any create() runs, so a wrapper's
   * create() can look up the instances it wraps. */
  for (guint i = 0; i < config->instances->len; i++)
    {
      VhInstanceSpec *spec = config->instances->pdata[i];
      VhInstance *in = g_new0 (VhInstance, 1);
      in->name = g_strdup (spec->name);
      in->spec = spec;
      in->plugin = vh_registry_find (registry, spec->plugin);
      in->limiter = vh_limiter_new (spec->concurrency, spec->qps);
      in->timeout_ms = spec->timeout_ms;
      in->task_types = vh_pipeline_instance_types (config, registry, spec->name, 0);
      g_ptr_array_add (host->instances, in);
    }
  for (guint i = 0; i < host->instances->len; i++)
    {
      VhInstance *in = host->instances->pdata[i];
      GError *local = NULL;
      in->self = in->plugin->create (host, in->spec->config, &local);
      if (in->self == NULL)
        {
          if (local == NULL)
            vh_set_error (&local, VH_ERROR_INTERNAL, -1, "%s", _("create() failed without saying why"));
          g_set_error (error, local->domain, local->code, _("%s:%u: instance “%s” (plugin %s) cannot start: %s"),
                       config->path, in->spec->line, in->name, in->plugin->name, local->message);
          g_error_free (local);
          vh_host_free (host);
          return NULL;
        }
    }
  for (guint t = 0; t < 4; t++)
    {
      if (config->routes[t].chain == NULL)
        continue;
      host->routes[t] = g_ptr_array_new ();
      for (gchar **c = config->routes[t].chain; *c; c++)
        g_ptr_array_add (host->routes[t], vh_host_lookup (host, *c));
    }
  return host;
}

static void
rm_rf (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  for (const char *n; d && (n = g_dir_read_name (d));)
    {
      g_autofree gchar *p = g_build_filename (path, n, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        rm_rf (p);
      else
        g_unlink (p);
    }
  g_rmdir (path);
}

void
vh_host_free (VhHost *host)
{
  if (host == NULL)
    return;
  /* Wrappers first (reverse file order is not enough in general, but
   * destroy() must not call other instances anyway). */
  for (guint i = host->instances->len; i-- > 0;)
    {
      VhInstance *in = host->instances->pdata[i];
      if (in->self)
        in->plugin->destroy (in->self);
      vh_limiter_free (in->limiter);
      g_free (in->name);
      g_free (in);
    }
  g_ptr_array_unref (host->instances);
  for (guint t = 0; t < 4; t++)
    if (host->routes[t])
      g_ptr_array_unref (host->routes[t]);
  if (host->tmpdir)
    rm_rf (host->tmpdir);
  g_free (host->tmpdir);
  g_free (host);
}

GPtrArray *
vh_host_route (VhHost *host, VhTaskType type)
{
  return host->routes[vh_task_type_bit (type)];
}
