/* bl-client — the contest baseline's fixed 2 s polling loop (see bl-client.h). */
#include "bl-client.h"
#include "emu-harness.h"
#include <json-c/json.h>
#include <string.h>

static json_object *
jget (json_object *o, const char *dotted)
{
  g_auto (GStrv) parts = g_strsplit (dotted, ".", -1);
  for (gchar **p = parts; o && *p; p++)
    {
      json_object *next = NULL;
      if (json_object_is_type (o, json_type_array))
        next = json_object_array_get_idx (o, (size_t) g_ascii_strtoull (*p, NULL, 10));
      else if (!json_object_object_get_ex (o, *p, &next))
        next = NULL;
      o = next;
    }
  return o;
}

static const char *
jstr (json_object *o, const char *dotted)
{
  json_object *v = jget (o, dotted);
  return v && json_object_is_type (v, json_type_string) ? json_object_get_string (v) : NULL;
}

/* One exchange; counts it; returns the parsed JSON body of a 2xx answer or NULL. */
static json_object *
exchange (BlResult *res, const char *method, const char *url, const char *const *headers, const char *body,
          long *status)
{
  res->requests++;
  VhEmuResponse *r = vh_emu_http (method, url, headers, body, body ? strlen (body) : 0, 30000);
  *status = r->curl_code == 0 ? r->status : 0;
  json_object *o = NULL;
  if (r->curl_code == 0)
    o = json_tokener_parse (vh_emu_response_text (r));
  vh_emu_response_free (r);
  return o;
}

static gboolean
download (BlResult *res, const char *url, const char *out_path)
{
  res->requests++;
  VhEmuResponse *r = vh_emu_http ("GET", url, NULL, NULL, 0, 30000);
  gboolean ok = r->curl_code == 0 && r->status == 200 && g_bytes_get_size (r->body) > 0;
  if (ok)
    {
      gsize len;
      const gchar *data = g_bytes_get_data (r->body, &len);
      ok = g_file_set_contents (out_path, data, (gssize) len, NULL);
      res->file_written_us = g_get_real_time ();
    }
  vh_emu_response_free (r);
  return ok;
}

/* One submission and its polling; TRUE with the image written. */
static gboolean
attempt (const BlConfig *cfg, BlKind kind, const char *model, const char *prompt, const char *size,
         GBytes *input, const char *out_path, BlResult *res)
{
  g_autofree gchar *auth = NULL, *submit_url = NULL, *b64 = NULL;
  json_object *req = json_object_new_object ();
  if (input)
    {
      gsize len;
      const guchar *data = g_bytes_get_data (input, &len);
      b64 = g_base64_encode (data, len);
    }
  if (kind == BL_BFL_KONTEXT)
    {
      auth = g_strdup_printf ("x-key: %s", cfg->bfl_key);
      submit_url = g_strdup_printf ("%s/bfl/v1/%s", cfg->base_url, model);
      json_object_object_add (req, "prompt", json_object_new_string (prompt));
      json_object_object_add (req, "input_image", json_object_new_string (b64 ? b64 : ""));
      json_object_object_add (req, "output_format", json_object_new_string ("jpeg"));
    }
  else
    {
      auth = g_strdup_printf ("Authorization: Bearer %s", cfg->ds_key);
      submit_url = g_strdup_printf ("%s/api/v1/services/aigc/%s/image-synthesis", cfg->base_url,
                                    kind == BL_DS_T2I ? "text2image" : "image2image");
      json_object_object_add (req, "model", json_object_new_string (model));
      json_object *in = json_object_new_object (), *par = json_object_new_object ();
      json_object_object_add (in, "prompt", json_object_new_string (prompt));
      if (kind == BL_DS_IMAGEEDIT)
        {
          g_autofree gchar *uri = g_strconcat ("data:image/jpeg;base64,", b64, NULL);
          json_object_object_add (in, "function", json_object_new_string ("description_edit"));
          json_object_object_add (in, "base_image_url", json_object_new_string (uri));
        }
      else
        json_object_object_add (par, "size", json_object_new_string (size ? size : "1024*1024"));
      json_object_object_add (par, "n", json_object_new_int (1));
      json_object_object_add (req, "input", in);
      json_object_object_add (req, "parameters", par);
    }
  const char *submit_headers[] = { auth, "Content-Type: application/json", "X-DashScope-Async: enable", NULL };
  const char *poll_headers[] = { auth, NULL };
  long status = 0;
  res->attempts++;
  json_object *ticket = exchange (res, "POST", submit_url, submit_headers,
                                  json_object_to_json_string_ext (req, JSON_C_TO_STRING_PLAIN), &status);
  json_object_put (req);
  const char *id = status == 200 ? jstr (ticket, kind == BL_BFL_KONTEXT ? "id" : "output.task_id") : NULL;
  if (id == NULL)
    {
      json_object_put (ticket);
      return FALSE;
    }
  g_autofree gchar *task_id = g_strdup (id);
  g_autofree gchar *poll_url = kind == BL_BFL_KONTEXT && jstr (ticket, "polling_url")
                                   ? g_strdup (jstr (ticket, "polling_url"))
                                   : g_strdup_printf ("%s/api/v1/tasks/%s", cfg->base_url, task_id);
  json_object_put (ticket);

  g_autofree gchar *result_url = NULL;
  for (;;)
    {
      g_usleep ((gulong) cfg->poll_ms * 1000);
      json_object *o = exchange (res, "GET", poll_url, poll_headers, NULL, &status);
      if (o == NULL || status != 200)
        {
          json_object_put (o);
          continue;   /* a failed poll: poll again next time */
        }
      const char *st = jstr (o, kind == BL_BFL_KONTEXT ? "status" : "output.task_status");
      if (st && (!strcmp (st, "SUCCEEDED") || !strcmp (st, "Ready")))
        {
          const char *u = jstr (o, kind == BL_BFL_KONTEXT ? "result.sample" : "output.results.0.url");
          result_url = g_strdup (u);
          json_object_put (o);
          break;
        }
      gboolean running = st && (!strcmp (st, "PENDING") || !strcmp (st, "RUNNING") || !strcmp (st, "Pending"));
      json_object_put (o);
      if (!running)
        return FALSE;
    }
  if (result_url == NULL || !download (res, result_url, out_path))
    return FALSE;
  g_free (res->task_id);
  res->task_id = g_steal_pointer (&task_id);
  return TRUE;
}

gboolean
bl_run_row (const BlConfig *cfg, BlKind kind, const char *model, const char *prompt, const char *size,
            GBytes *input, const char *out_path, BlResult *res)
{
  memset (res, 0, sizeof *res);
  guint max = cfg->max_attempts ? cfg->max_attempts : 1;
  for (guint a = 0; a < max && !res->ok; a++)
    {
      if (a > 0)
        g_usleep ((gulong) cfg->poll_ms * 1000);
      res->ok = attempt (cfg, kind, model, prompt, size, input, out_path, res);
    }
  return res->ok;
}

void
bl_result_clear (BlResult *res)
{
  g_clear_pointer (&res->task_id, g_free);
}

gint64
bl_parse_ds_time (const char *text)
{
  if (text == NULL)
    return -1;
  g_autofree gchar *iso = g_strdup (text);
  gchar *sp = strchr (iso, ' ');
  if (sp)
    *sp = 'T';
  g_autoptr (GTimeZone) tz = g_time_zone_new_local ();
  g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (iso, tz);
  if (dt == NULL)
    return -1;
  return g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
}
