/* wanx-task.c — DashScope's async task protocol: submit with
 * X-DashScope-Async, poll GET /tasks/{id} with a growing interval until a
 * terminal state or the row's deadline, return the result URL. */
#include <string.h>
#include "wanx-private.h"

/* Failed polls are tolerated by vh_poll_failure_tolerated (vh-provider.h). */

/* The first `url` of output.results[]; {code, message} elements are failed
 * images of a SUCCEEDED task (dashscope.md 2.2).  Also reads the
 * choices[].message.content[].image shape of the multimodal endpoint. */
gchar *
wanx_first_result_url (json_object *output, const char *what, GError **error)
{
  json_object *results = vh_json_member (output, "results");
  json_object *failed = NULL;
  if (results != NULL && json_object_is_type (results, json_type_array))
    for (size_t i = 0; i < json_object_array_length (results); i++)
      {
        json_object *item = json_object_array_get_idx (results, i);
        const char *url = vh_json_str (item, "url");
        if (url != NULL && *url != '\0')
          return g_strdup (url);
        if (failed == NULL && vh_json_str (item, "code") != NULL)
          failed = item;
      }

  json_object *choices = vh_json_member (output, "choices");
  if (choices != NULL && json_object_is_type (choices, json_type_array))
    for (size_t i = 0; i < json_object_array_length (choices); i++)
      {
        json_object *content = vh_json_member (json_object_array_get_idx (choices, i), "message.content");
        if (content == NULL || !json_object_is_type (content, json_type_array))
          continue;
        for (size_t j = 0; j < json_object_array_length (content); j++)
          {
            const char *url = vh_json_str (json_object_array_get_idx (content, j), "image");
            if (url != NULL && *url != '\0')
              return g_strdup (url);
          }
      }

  if (failed != NULL)
    {
      g_autofree gchar *w = g_strdup_printf ("%s: image failed", what);
      wanx_set_api_error (error, NULL, failed, w);
    }
  else
    vh_set_error (error, VH_ERROR_INTERNAL, -1, "%s: finished without an image URL", what);
  return NULL;
}

/* Best effort: only a PENDING task can be cancelled; nothing depends on it. */
static void
cancel_task (WanxCall *c, const char *task_id)
{
  WanxCall quiet = *c;
  quiet.cancel = NULL;
  quiet.deadline_us = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  g_autofree gchar *path = g_strdup_printf ("/tasks/%s/cancel", task_id);
  json_object *obj = wanx_request_json (&quiet, "POST", path, NULL, FALSE, 3000, "cancel task", NULL, NULL);
  json_object_put (obj);
}

static gboolean
is_pending (const char *status)
{
  return g_strcmp0 (status, "PENDING") == 0 || g_strcmp0 (status, "RUNNING") == 0
         || g_strcmp0 (status, "SUSPENDED") == 0;
}

gchar *
wanx_task_run (WanxCall *c, const char *path, json_object *body, GError **error)
{
  Wanx *w = c->w;
  gint64 submitted = g_get_monotonic_time ();
  json_object *ticket = wanx_request_json (c, "POST", path, body, TRUE,
                                           wanx_timeout_ms (c, w->request_timeout_ms), "submit", NULL, error);
  if (ticket == NULL)
    return NULL;
  const char *tid = vh_json_str (ticket, "output.task_id");
  if (tid == NULL || *tid == '\0' || strchr (tid, '/') != NULL || strchr (tid, '?') != NULL)
    {
      if (vh_json_str (ticket, "code") != NULL)
        wanx_set_api_error (error, NULL, ticket, "submit");
      else
        vh_set_error (error, VH_ERROR_INTERNAL, -1, "submit: answer without a usable output.task_id");
      json_object_put (ticket);
      return NULL;
    }
  g_autofree gchar *task_id = g_strdup (tid);
  json_object_put (ticket);
  wanx_note_string (c, "wanx_task_id", task_id);
  vh_log (VH_LOG_DEBUG, WANX_LOG, "%s: row %s: task %s submitted", w->instance,
          c->task != NULL ? c->task->index : "-", task_id);

  g_autofree gchar *poll_path = g_strdup_printf ("/tasks/%s", task_id);
  g_autofree gchar *what = g_strdup_printf ("task %s", task_id);
  g_autofree gchar *last_status = g_strdup ("PENDING");
  g_autofree gchar *unknown_logged = NULL;
  VhPollBackoff backoff;
  vh_poll_backoff_init_learned (&backoff, w->poll_first_ms, w->poll_initial_ms, w->poll_max_ms,
                                g_atomic_int_get (&w->shortest_task_ms),
                                g_atomic_int_get (&w->tasks_seen));
  vh_poll_backoff_set_busy (&backoff, w->poll_busy_ms);
  gint64 retry_after = -1;
  guint polls = 0;
  VhPollFailures pf = { 0 };
  GError *last_error = NULL;

  for (;;)
    {
      gint64 remaining = wanx_remaining_ms (c);
      if (remaining <= 0)
        {
          cancel_task (c, task_id);
          vh_set_error (error, VH_ERROR_TRANSIENT, -1,
                        "%s still %s after the %" G_GINT64_FORMAT " ms deadline (%u polls)%s%s",
                        what, last_status, w->deadline_ms, polls,
                        last_error != NULL ? "; last poll error: " : "",
                        last_error != NULL ? last_error->message : "");
          g_clear_error (&last_error);
          return NULL;
        }
      gint64 wait = MIN (vh_poll_backoff_next (&backoff, retry_after, vh_task_slot_wanted (c->task)), remaining);
      retry_after = -1;
      if (!vh_sleep_ms (wait, c->cancel, error))
        {
          cancel_task (c, task_id);
          g_clear_error (&last_error);
          return NULL;
        }

      polls++;
      GError *local = NULL;
      VhHttpResponse *resp = NULL;
      json_object *obj = wanx_request_json (c, "GET", poll_path, NULL, FALSE,
                                            wanx_timeout_ms (c, w->request_timeout_ms), what, &resp, &local);
      glong status = resp != NULL ? resp->status : 0;
      if (resp != NULL)
        retry_after = resp->retry_after_ms;
      vh_http_response_free (resp);

      if (obj == NULL)
        {
          VhErrorClass klass = vh_error_class (local);
          /* Keep polling through throttling, gateway errors, resets and
           * garbage; the task is alive on the server. */
          gboolean keep = vh_poll_failure_tolerated (&pf, klass);
          if (klass == VH_ERROR_CANCELLED)
            cancel_task (c, task_id);
          if (!keep)
            {
              g_clear_error (&last_error);
              g_propagate_error (error, local);
              return NULL;
            }
          vh_log (VH_LOG_DEBUG, WANX_LOG, "%s: poll failed (HTTP %ld), polling on: %s", what, status,
                  local->message);
          g_clear_error (&last_error);
          last_error = local;
          continue;
        }
      pf.failures = 0;

      const char *ts = vh_json_str (obj, "output.task_status");
      if (ts == NULL)
        ts = "";
      g_free (last_status);
      last_status = g_strdup (ts);

      if (g_strcmp0 (ts, "SUCCEEDED") == 0)
        {
          /* The account no longer counts this task: the next row may submit
           * while this one downloads. */
          vh_task_release_slot (c->task);
          gchar *url = wanx_first_result_url (vh_json_member (obj, "output"), what, error);
          vh_poll_learn_shortest (&w->shortest_task_ms, &w->tasks_seen, (g_get_monotonic_time () - submitted) / 1000);
          vh_log (VH_LOG_DEBUG, WANX_LOG, "%s: SUCCEEDED after %" G_GINT64_FORMAT " ms, %u polls", what,
                  (g_get_monotonic_time () - submitted) / 1000, polls);
          json_object_put (obj);
          g_clear_error (&last_error);
          return url;
        }
      if (g_strcmp0 (ts, "FAILED") == 0)
        {
          wanx_set_api_error (error, NULL, obj, what);
          json_object_put (obj);
          g_clear_error (&last_error);
          return NULL;
        }
      if (g_strcmp0 (ts, "CANCELED") == 0 || g_strcmp0 (ts, "UNKNOWN") == 0)
        {
          /* Cancelled by someone else, or expired / unknown id: our run is
           * not stopping and a new submission can succeed. */
          vh_set_error (error, VH_ERROR_TRANSIENT, -1, "%s: task_status %s", what, ts);
          json_object_put (obj);
          g_clear_error (&last_error);
          return NULL;
        }
      if (!is_pending (ts) && g_strcmp0 (unknown_logged, ts) != 0)
        {
          vh_log (VH_LOG_WARNING, WANX_LOG, "%s: unexpected task_status '%s', polling on", what, ts);
          g_free (unknown_logged);
          unknown_logged = g_strdup (ts);
        }
      json_object_put (obj);
    }
}
