/* retry-fallback — a wrapper instance: tries its children in order, retries
 * with full-jitter backoff where the error class says a retry can succeed,
 * falls back to the next child where it can not, and keeps a circuit
 * breaker per child shared by all rows.  Every decision is made from the
 * error class, here and nowhere else (rf-policy.c). */
#include "rf-policy.h"
#include <string.h>
#include <json-c/json.h>

typedef struct {
  VhInstance *instance;
  RfBreaker   breaker;
} Child;

typedef struct {
  gchar   *name;
  Child   *children;
  guint    n_children;
  guint    retries;
  gint64   base_ms, cap_ms;
  guint    breaker_failures;
  gint64   cooldown_ms;
  gint64   deadline_ms;
  gchar   *last_resort;        /* fail | keep-original | blank */
  gboolean spread;             /* strategy = spread: first child with a free slot */
  GMutex   lock;               /* guards every breaker and the random source */
  GRand   *rand;
} RetryFallback;

static const VhOption options[] = {
  { "try", VH_OPT_INSTANCES, NULL, "instances tried in order (any instances, wrappers included)", NULL },
  { "retries", VH_OPT_INT, "3", "further calls of the same child after a transient, quota or internal error", NULL },
  { "backoff", VH_OPT_STRING, "1s..60s", "full-jitter exponential backoff BASE..CAP between retries; a longer Retry-After wins", NULL },
  { "breaker_failures", VH_OPT_INT, "5", "consecutive retryable failures of a child (across rows) that open its breaker; 0 = never", NULL },
  { "cooldown", VH_OPT_DURATION, "60s", "how long an open breaker keeps a child out (a route with no other child waits instead)", NULL },
  { "deadline", VH_OPT_DURATION, "30m", "total time for one row through this wrapper, retries and waits included", NULL },
  { "strategy", VH_OPT_ENUM, "fallback",
    "fallback: always the first child that works, in `try` order; spread: a row starts on whichever child "
    "first has a free slot (two accounts or regions of one model share the load, so their quotas add up), "
    "the others as fallbacks",
    "fallback,spread" },
  { "last_resort", VH_OPT_ENUM, "fail",
    "when every child failed: fail the row, keep-original (the input image) or blank (a grey image); recorded in the journal and the summary",
    "fail,keep-original,blank" },
  { NULL, 0, NULL, NULL, NULL },
};

static gpointer
rf_create (VhHost *host, const VhConfig *config, GError **error)
{
  g_autoptr (GError) local = NULL;
  gint64 base = 0, cap = 0;
  if (!rf_parse_backoff (vh_config_get_string (config, "backoff"), &base, &cap, &local))
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "%s", local->message);
      return NULL;
    }
  gint64 retries = vh_config_get_int (config, "retries"), breaker = vh_config_get_int (config, "breaker_failures");
  if (retries < 0 || retries > 100 || breaker < 0)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "retries must be 0..100 and breaker_failures 0 or more");
      return NULL;
    }
  RetryFallback *rf = g_new0 (RetryFallback, 1);
  rf->name = g_strdup (vh_config_instance_name (config));
  g_auto (GStrv) names = vh_config_get_list (config, "try");
  rf->n_children = g_strv_length (names);
  rf->children = g_new0 (Child, rf->n_children);
  for (guint i = 0; i < rf->n_children; i++)
    rf->children[i].instance = vh_host_lookup (host, names[i]);
  rf->retries = (guint) retries;
  rf->base_ms = base;
  rf->cap_ms = cap;
  rf->breaker_failures = (guint) breaker;
  rf->cooldown_ms = vh_config_get_duration_ms (config, "cooldown");
  rf->deadline_ms = vh_config_get_duration_ms (config, "deadline");
  rf->last_resort = g_strdup (vh_config_get_string (config, "last_resort"));
  rf->spread = strcmp (vh_config_get_string (config, "strategy"), "spread") == 0;
  g_mutex_init (&rf->lock);
  rf->rand = g_rand_new ();
  return rf;
}

static void
rf_destroy (gpointer self)
{
  RetryFallback *rf = self;
  g_free (rf->name);
  g_free (rf->children);
  g_free (rf->last_resort);
  g_mutex_clear (&rf->lock);
  g_rand_free (rf->rand);
  g_free (rf);
}

static void
record (json_object *attempts, const char *instance, const GError *error, gint64 ms, gint64 waited_ms)
{
  json_object *a = json_object_new_object ();
  json_object_object_add (a, "instance", json_object_new_string (instance));
  json_object_object_add (a, "ms", json_object_new_int64 (ms));
  if (error)
    {
      json_object_object_add (a, "class", json_object_new_string (vh_error_class_name (vh_error_class (error))));
      json_object_object_add (a, "error", json_object_new_string (error->message));
    }
  else
    json_object_object_add (a, "class", json_object_new_string ("ok"));
  if (waited_ms > 0)
    json_object_object_add (a, "waited_ms", json_object_new_int64 (waited_ms));
  json_object_array_add (attempts, a);
}

/* The earliest moment any usable child becomes available, or -1 when every
 * child is disabled.  Called with the lock held. */
static gint64
next_available_us (RetryFallback *rf, const guint *order, guint from, gint64 now)
{
  gint64 best = -1;
  for (guint i = from; i < rf->n_children; i++)
    {
      RfBreaker *b = &rf->children[order[i]].breaker;
      if (b->disabled)
        continue;
      gint64 t = MAX (b->open_until_us, now);
      if (best < 0 || t < best)
        best = t;
    }
  return best;
}

static VhImage *
last_resort_image (RetryFallback *rf, const VhTask *task, const VhImage *input, GError **error)
{
  if (strcmp (rf->last_resort, "keep-original") == 0 && input != NULL)
    return vh_image_new_from_bytes (input->bytes, error);
  if (strcmp (rf->last_resort, "blank") == 0 || strcmp (rf->last_resort, "keep-original") == 0)
    {
      gint w = 1024, h = 1024;
      if (input != NULL)
        {
          g_autoptr (VhPixels) px = vh_image_decode (input, NULL);
          if (px)
            w = px->width, h = px->height;
        }
      g_autoptr (VhPixels) grey = vh_pixels_new (w, h);
      memset (grey->rgb, 128, (gsize) w * h * 3);
      return vh_image_encode_jpeg (grey, 90, error);
    }
  return NULL;
}

/* The order children are tried in for one row.  spread: ascending load, so
 * rows go where there is capacity now; ties keep the `try` order. */
static void
child_order (RetryFallback *rf, guint *order)
{
  gdouble load[rf->n_children];
  for (guint i = 0; i < rf->n_children; i++)
    {
      order[i] = i;
      load[i] = rf->spread ? vh_instance_load (rf->children[i].instance) : 0;
    }
  for (guint i = 1; i < rf->n_children; i++)
    for (guint j = i; j > 0 && load[order[j]] < load[order[j - 1]]; j--)
      {
        guint t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
}

/* spread, a row's first call: on whichever of the children from order[c]
 * on (those serving the row and not resting) first has a free slot, so a
 * row never queues behind a busy account while another stands idle.  The
 * chosen child is swapped into order[c]: its retries and the fallback
 * after it follow as for any child. */
static gboolean
run_spread (RetryFallback *rf, const VhTask *task, guint *order, guint c, const VhImage *input,
            VhImage **output, GCancellable *cancel, GError **error)
{
  VhInstance *cands[rf->n_children];
  guint pos[rf->n_children], n = 0;
  g_mutex_lock (&rf->lock);
  gint64 now = g_get_monotonic_time ();
  for (guint k = c; k < rf->n_children; k++)
    {
      Child *ch = &rf->children[order[k]];
      if ((vh_instance_task_types (ch->instance) & task->type) && !ch->breaker.disabled
          && (k == c || rf_breaker_available (&ch->breaker, now)))
        {
          cands[n] = ch->instance;
          pos[n++] = k;
        }
    }
  g_mutex_unlock (&rf->lock);
  VhInstance *chosen = NULL;
  gboolean ok = vh_instance_run_any (cands, n, task, input, output, &chosen, cancel, error);
  for (guint i = 0; i < n && chosen != NULL; i++)
    if (cands[i] == chosen && pos[i] != c)
      {
        guint t = order[c];
        order[c] = order[pos[i]];
        order[pos[i]] = t;
      }
  return ok;
}

static gboolean
rf_run (gpointer self, const VhTask *task, const VhImage *input, VhImage **output,
        GCancellable *cancel, GError **error)
{
  RetryFallback *rf = self;
  json_object *attempts = json_object_new_array ();
  gint64 deadline = rf->deadline_ms > 0 ? g_get_monotonic_time () + rf->deadline_ms * 1000 : G_MAXINT64;
  GError *last = NULL;
  gboolean ok = FALSE, stop = FALSE;
  guint order[rf->n_children];
  child_order (rf, order);
  gboolean spread_pending = rf->spread;

  for (guint c = 0; c < rf->n_children && !ok && !stop; c++)
    {
      Child *child = &rf->children[order[c]];
      const char *cname = vh_instance_name (child->instance);
      if (!(vh_instance_task_types (child->instance) & task->type))
        continue;
      for (guint attempt = 1; !ok && !stop; attempt++)
        {
          /* Breaker: skip a cooling child when a later one can serve now;
           * when none can, wait for the earliest one instead of stranding
           * the row (a route's only provider cooling down is not a failure). */
          g_mutex_lock (&rf->lock);
          gint64 now = g_get_monotonic_time ();
          gboolean usable = rf_breaker_available (&child->breaker, now);
          gboolean disabled = child->breaker.disabled;
          gint64 later = next_available_us (rf, order, c + 1, now);
          gint64 wait_until = usable || disabled ? 0 : child->breaker.open_until_us;
          g_mutex_unlock (&rf->lock);
          if (disabled)
            break;
          if (!usable)
            {
              if (later >= 0 && later <= now)
                break;   /* a later child is ready: go there */
              if (wait_until > deadline)
                {
                  g_clear_error (&last);
                  vh_set_error (&last, VH_ERROR_TRANSIENT, -1, "%s: %s is cooling down past the row's deadline",
                                rf->name, cname);
                  break;
                }
              if (!vh_sleep_ms ((wait_until - now) / 1000 + 1, cancel, NULL))
                {
                  g_clear_error (&last);
                  vh_set_error (&last, VH_ERROR_CANCELLED, -1, "cancelled");
                  stop = TRUE;
                  break;
                }
            }
          GError *err = NULL;
          gint64 t0 = g_get_monotonic_time ();
          if (spread_pending)
            {
              spread_pending = FALSE;
              ok = run_spread (rf, task, order, c, input, output, cancel, &err);
              child = &rf->children[order[c]];
              cname = vh_instance_name (child->instance);
            }
          else
            ok = vh_instance_run (child->instance, task, input, output, cancel, &err);
          gint64 ms = (g_get_monotonic_time () - t0) / 1000;
          if (ok)
            {
              record (attempts, cname, NULL, ms, 0);
              g_mutex_lock (&rf->lock);
              rf_breaker_success (&child->breaker);
              g_mutex_unlock (&rf->lock);
              break;
            }
          VhErrorClass klass = vh_error_class (err);
          RfAction action = rf_decide (klass, attempt, rf->retries);
          gint64 waited = 0;
          if (action == RF_RETRY_SAME || action == RF_NEXT_CHILD)
            {
              g_mutex_lock (&rf->lock);
              gboolean opened = klass != VH_ERROR_REJECTED
                                && rf_breaker_failure (&child->breaker, rf->breaker_failures, rf->cooldown_ms,
                                                       g_get_monotonic_time ());
              gdouble u = g_rand_double (rf->rand);
              g_mutex_unlock (&rf->lock);
              if (opened)
                vh_log (VH_LOG_WARNING, rf->name, "%s failed %u times in a row: resting it for %" G_GINT64_FORMAT " ms",
                        cname, rf->breaker_failures, rf->cooldown_ms);
              if (action == RF_RETRY_SAME && !opened)
                {
                  waited = rf_backoff_ms (attempt, rf->base_ms, rf->cap_ms, vh_error_retry_after_ms (err), u);
                  if (g_get_monotonic_time () + waited * 1000 > deadline)
                    action = RF_NEXT_CHILD;   /* no time left to wait for this one */
                }
              else if (action == RF_RETRY_SAME)
                action = RF_NEXT_CHILD;
            }
          else if (action == RF_DISABLE_CHILD)
            {
              g_mutex_lock (&rf->lock);
              child->breaker.disabled = TRUE;
              g_mutex_unlock (&rf->lock);
              vh_log (VH_LOG_ERROR, rf->name, "%s refused the credentials: not used again in this run", cname);
            }
          record (attempts, cname, err, ms, action == RF_RETRY_SAME ? waited : 0);
          g_clear_error (&last);
          last = err;
          if (action == RF_STOP || action == RF_FAIL_ROW)
            stop = TRUE;
          else if (action == RF_RETRY_SAME)
            {
              if (!vh_sleep_ms (waited, cancel, NULL))
                {
                  g_clear_error (&last);
                  vh_set_error (&last, VH_ERROR_CANCELLED, -1, "cancelled");
                  stop = TRUE;
                }
            }
          else
            break;
          if (g_get_monotonic_time () > deadline)
            stop = TRUE;
        }
    }

  vh_task_note (task, "attempts", json_object_to_json_string_ext (attempts, JSON_C_TO_STRING_PLAIN));
  json_object_put (attempts);
  if (ok)
    {
      g_clear_error (&last);
      return TRUE;
    }
  if (last == NULL)
    vh_set_error (&last, VH_ERROR_REJECTED, -1, "%s: no child can serve %s rows", rf->name, task->type_name);
  VhErrorClass klass = vh_error_class (last);
  if (klass != VH_ERROR_CANCELLED && strcmp (rf->last_resort, "fail") != 0)
    {
      *output = last_resort_image (rf, task, input, NULL);
      if (*output)
        {
          g_autofree gchar *note = g_strdup_printf ("\"%s\"", rf->last_resort);
          vh_task_note (task, "last_resort", note);
          vh_log (VH_LOG_WARNING, rf->name, "row %s: every child failed (%s); wrote the %s last resort",
                  task->index, last->message, rf->last_resort);
          g_clear_error (&last);
          return TRUE;
        }
    }
  g_propagate_error (error, last);
  return FALSE;
}

static const VhPlugin descriptor = {
  .abi = VH_PLUGIN_ABI,
  .struct_size = sizeof (VhPlugin),
  .name = "retry-fallback",
  .version = "1.0",
  .summary = "retries with jittered backoff, then falls back to the next instance",
  .task_types = 0,   /* whatever its children serve */
  .options = options,
  .create = rf_create,
  .run = rf_run,
  .destroy = rf_destroy,
};

VH_PLUGIN_DEFINE (descriptor)
