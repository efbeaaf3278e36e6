/* flux-task.c — submit, follow the returned polling_url (never rebuilt:
 * it names the regional cluster that holds the task), download the sample
 * as soon as it is Ready. */
#include <string.h>
#include "flux-private.h"

/* Failed polls are tolerated by vh_poll_failure_tolerated (vh-provider.h). */
/* "Task not found" this soon after submit is replication lag. */
#define NOT_FOUND_GRACE_US (10 * G_USEC_PER_SEC)

/* The key goes to the polling URL only over TLS or to the configured base's
 * own origin: a polling_url is data from the network. */
static gboolean
key_allowed (const Flux *f, const char *url)
{
  if (g_str_has_prefix (url, "https://"))
    return TRUE;
  g_autofree gchar *base_scheme = NULL, *base_host = NULL, *scheme = NULL, *host = NULL;
  gint base_port = -1, port = -1;
  if (!g_uri_split_network (f->base_url, G_URI_FLAGS_NONE, &base_scheme, &base_host, &base_port, NULL)
      || !g_uri_split_network (url, G_URI_FLAGS_NONE, &scheme, &host, &port, NULL))
    return FALSE;
  return g_strcmp0 (base_scheme, scheme) == 0 && g_ascii_strcasecmp (base_host, host) == 0 && base_port == port;
}

static const char *
status_detail (json_object *obj)
{
  json_object *d = vh_json_member (obj, "details");
  if (d != NULL && !json_object_is_type (d, json_type_null))
    return json_object_to_json_string_ext (d, JSON_C_TO_STRING_PLAIN);
  const char *e = vh_json_str (obj, "error");
  return e != NULL ? e : "";
}

VhImage *
flux_generate (FluxCall *c, json_object *body, GError **error)
{
  Flux *f = c->f;
  g_autofree gchar *submit_url = g_strdup_printf ("%s/v1/%s", f->base_url, f->model);
  json_object *ticket = flux_request_json (c, "POST", submit_url, body, TRUE, "submit", NULL, error);
  if (ticket == NULL)
    return NULL;
  gint64 submitted = g_get_monotonic_time ();
  const char *id = vh_json_str (ticket, "id");
  const char *purl = vh_json_str (ticket, "polling_url");
  if (id == NULL || *id == '\0')
    {
      vh_set_error (error, VH_ERROR_INTERNAL, -1, "submit: answer without an id");
      json_object_put (ticket);
      return NULL;
    }
  g_autofree gchar *task_id = g_strdup (id);
  g_autofree gchar *poll_url = NULL;
  if (purl != NULL && (g_str_has_prefix (purl, "https://") || g_str_has_prefix (purl, "http://")))
    poll_url = g_strdup (purl);
  else
    {
      /* Only when the answer has no polling_url (bfl-flux.md, 8). */
      g_autofree gchar *esc = g_uri_escape_string (task_id, NULL, FALSE);
      poll_url = g_strdup_printf ("%s/v1/get_result?id=%s", f->base_url, esc);
    }
  json_object_put (ticket);
  if (c->task != NULL)
    {
      json_object *s = json_object_new_string (task_id);
      vh_task_note (c->task, "bfl_id", json_object_to_json_string_ext (s, JSON_C_TO_STRING_PLAIN));
      json_object_put (s);
    }
  gboolean send_key = key_allowed (f, poll_url);
  g_autofree gchar *what = g_strdup_printf ("task %s", task_id);
  vh_log (VH_LOG_DEBUG, FLUX_LOG, "%s: row %s: %s submitted", f->instance,
          c->task != NULL ? c->task->index : "-", what);

  VhPollBackoff backoff;
  vh_poll_backoff_init_learned (&backoff, f->poll_first_ms, f->poll_initial_ms, f->poll_max_ms,
                                g_atomic_int_get (&f->shortest_task_ms),
                                g_atomic_int_get (&f->tasks_seen));
  vh_poll_backoff_set_busy (&backoff, f->poll_busy_ms);
  gint64 retry_after = -1;
  guint polls = 0;
  VhPollFailures pf = { 0 };
  g_autofree gchar *last_status = g_strdup ("Pending");
  g_autofree gchar *odd_logged = NULL;
  GError *last_error = NULL;

  for (;;)
    {
      gint64 remaining = flux_remaining_ms (c);
      if (remaining <= 0)
        {
          vh_set_error (error, VH_ERROR_TRANSIENT, -1,
                        "%s still %s after the %" G_GINT64_FORMAT " ms deadline (%u polls)%s%s",
                        what, last_status, f->deadline_ms, polls,
                        last_error != NULL ? "; last poll error: " : "",
                        last_error != NULL ? last_error->message : "");
          g_clear_error (&last_error);
          return NULL;
        }
      if (!vh_sleep_ms (MIN (vh_poll_backoff_next (&backoff, retry_after, vh_task_slot_wanted (c->task)), remaining), c->cancel, error))
        {
          g_clear_error (&last_error);
          return NULL;
        }
      retry_after = -1;
      polls++;

      GError *local = NULL;
      VhHttpResponse *resp = NULL;
      json_object *obj = flux_request_json (c, "GET", poll_url, NULL, send_key, what, &resp, &local);
      glong http = resp != NULL ? resp->status : 0;
      if (resp != NULL)
        retry_after = resp->retry_after_ms;
      vh_http_response_free (resp);

      const char *status = NULL;
      if (obj != NULL)
        status = vh_json_str (obj, "status");
      else if (http == 404)
        status = "Task not found";    /* some clusters answer 404 instead */

      if (obj == NULL && status == NULL)
        {
          if (!vh_poll_failure_tolerated (&pf, vh_error_class (local)))
            {
              g_clear_error (&last_error);
              g_propagate_error (error, local);
              return NULL;
            }
          vh_log (VH_LOG_DEBUG, FLUX_LOG, "%s: poll failed (HTTP %ld), polling on: %s", what, http,
                  local->message);
          g_clear_error (&last_error);
          last_error = local;
          continue;
        }
      g_clear_error (&local);
      pf.failures = 0;
      if (status == NULL)
        status = "";
      g_free (last_status);
      last_status = g_strdup (status);

      if (strcmp (status, "Ready") == 0)
        {
          /* The account no longer counts this task: the next row may submit
           * while this one downloads. */
          vh_task_release_slot (c->task);
          const char *sample = vh_json_str (vh_json_member (obj, "result"), "sample");
          g_autofree gchar *sample_url = g_strdup (sample);
          json_object_put (obj);
          g_clear_error (&last_error);
          if (sample_url == NULL)
            {
              vh_set_error (error, VH_ERROR_INTERNAL, -1, "%s: Ready without result.sample", what);
              return NULL;
            }
          vh_poll_learn_shortest (&f->shortest_task_ms, &f->tasks_seen, (g_get_monotonic_time () - submitted) / 1000);
          vh_log (VH_LOG_DEBUG, FLUX_LOG, "%s: Ready after %" G_GINT64_FORMAT " ms, %u polls", what,
                  (g_get_monotonic_time () - submitted) / 1000, polls);
          return flux_download (c, sample_url, error);
        }
      if (strcmp (status, "Request Moderated") == 0 || strcmp (status, "Content Moderated") == 0)
        {
          /* Input or output flagged: another provider may well accept it. */
          vh_set_error (error, VH_ERROR_REJECTED, -1, "%s: %s %s", what, status, status_detail (obj));
          json_object_put (obj);
          g_clear_error (&last_error);
          return NULL;
        }
      if (strcmp (status, "Error") == 0 || strcmp (status, "Failed") == 0)
        {
          vh_set_error (error, VH_ERROR_TRANSIENT, -1, "%s: %s %s", what, status, status_detail (obj));
          json_object_put (obj);
          g_clear_error (&last_error);
          return NULL;
        }
      if (strcmp (status, "Task not found") == 0)
        {
          json_object_put (obj);
          if (g_get_monotonic_time () - submitted < NOT_FOUND_GRACE_US)
            continue;
          /* Expired or lost: a new submission can succeed. */
          vh_set_error (error, VH_ERROR_TRANSIENT, -1, "%s: Task not found", what);
          g_clear_error (&last_error);
          return NULL;
        }
      if (strcmp (status, "Pending") != 0 && g_strcmp0 (odd_logged, status) != 0)
        {
          /* Undocumented states (Processing, Queued...) are treated as
           * pending until the deadline; said once. */
          vh_log (VH_LOG_WARNING, FLUX_LOG, "%s: undocumented status '%s', polling on", what, status);
          g_free (odd_logged);
          odd_logged = g_strdup (status);
        }
      json_object_put (obj);
    }
}
