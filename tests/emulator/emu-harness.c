/* Spawning and steering vh-emulator from tests; see emu-harness.h. */
#include "emu-harness.h"
#include <gio/gio.h>
#include <curl/curl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct _VhEmu {
  GSubprocess *proc;
  gchar       *base_url;
  guint        port;
};

static void
curl_once (void)
{
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&done, 1);
    }
}

static gchar *
emulator_path (void)
{
  const char *direct = g_getenv ("VH_EMULATOR");
  if (direct && *direct)
    return g_strdup (direct);
  const char *build = g_getenv ("VH_BUILDDIR");
  return g_build_filename (build && *build ? build : ".", "tests", "emulator", "vh-emulator", NULL);
}

VhEmu *
vh_emu_start_full (const char *config_json, const char *const *extra_argv, GError **error)
{
  gchar *prog = emulator_path ();
  gchar *config_path = NULL;
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, prog);
  g_ptr_array_add (argv, (gpointer) "--port");
  g_ptr_array_add (argv, (gpointer) "0");
  if (config_json)
    {
      int fd = g_file_open_tmp ("vh-emu-XXXXXX.json", &config_path, error);
      if (fd < 0)
        goto fail;
      close (fd);
      if (!g_file_set_contents (config_path, config_json, -1, error))
        goto fail;
      g_ptr_array_add (argv, (gpointer) "--config");
      g_ptr_array_add (argv, config_path);
    }
  for (const char *const *a = extra_argv; a && *a; a++)
    g_ptr_array_add (argv, (gpointer) *a);
  g_ptr_array_add (argv, NULL);

  /* stderr is inherited so sanitizer reports land in the test's log. */
  GSubprocess *proc = g_subprocess_newv ((const char *const *) argv->pdata,
                                         G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, error);
  if (!proc)
    goto fail;
  GDataInputStream *out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  gchar *line = g_data_input_stream_read_line (out, NULL, NULL, error);
  g_object_unref (out);
  guint port = 0;
  if (!line || sscanf (line, "PORT %u", &port) != 1 || port == 0)
    {
      if (error && !*error)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s did not print its port (got \"%s\")", prog,
                     line ? line : "EOF");
      g_free (line);
      g_subprocess_force_exit (proc);
      g_subprocess_wait (proc, NULL, NULL);
      g_object_unref (proc);
      goto fail;
    }
  g_free (line);
  if (config_path)
    g_unlink (config_path);
  VhEmu *emu = g_new0 (VhEmu, 1);
  emu->proc = proc;
  emu->port = port;
  emu->base_url = g_strdup_printf ("http://127.0.0.1:%u", port);
  g_free (config_path);
  g_free (prog);
  g_ptr_array_free (argv, TRUE);
  curl_once ();
  return emu;

fail:
  if (config_path)
    g_unlink (config_path);
  g_free (config_path);
  g_free (prog);
  g_ptr_array_free (argv, TRUE);
  return NULL;
}

VhEmu *
vh_emu_start (const char *config_json, GError **error)
{
  return vh_emu_start_full (config_json, NULL, error);
}

const char *
vh_emu_base_url (VhEmu *emu)
{
  return emu->base_url;
}

guint
vh_emu_port (VhEmu *emu)
{
  return emu->port;
}

static gchar *
control (VhEmu *emu, const char *method, const char *what, const char *json, GError **error)
{
  gchar *url = g_strdup_printf ("%s/_emu/%s", emu->base_url, what);
  const char *headers[] = { "Content-Type: application/json", NULL };
  VhEmuResponse *r = vh_emu_http (method, url, headers, json, json ? strlen (json) : 0, 10000);
  g_free (url);
  gchar *text = NULL;
  if (r->curl_code != CURLE_OK || r->status != 200)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "/_emu/%s: curl %d, HTTP %ld: %s", what, r->curl_code,
                 r->status, vh_emu_response_text (r));
  else
    text = g_strdup (vh_emu_response_text (r));
  vh_emu_response_free (r);
  return text;
}

gboolean
vh_emu_configure (VhEmu *emu, const char *json, GError **error)
{
  gchar *r = control (emu, "POST", "config", json, error);
  g_free (r);
  return r != NULL;
}

gboolean
vh_emu_reset (VhEmu *emu, GError **error)
{
  gchar *r = control (emu, "POST", "reset", "{}", error);
  g_free (r);
  return r != NULL;
}

gchar *
vh_emu_requests_json (VhEmu *emu)
{
  return control (emu, "GET", "requests", NULL, NULL);
}

gchar *
vh_emu_stats_json (VhEmu *emu)
{
  return control (emu, "GET", "stats", NULL, NULL);
}

static void
waited (GObject *src, GAsyncResult *res, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (src), res, NULL);
  *(gboolean *) data = TRUE;
}

static gboolean
timed_out (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
vh_emu_wait_exit (VhEmu *emu, gint timeout_ms)
{
  /* A private context so waiting never runs the caller's sources. */
  GMainContext *ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  gboolean done = FALSE, expired = FALSE;
  g_subprocess_wait_async (emu->proc, NULL, waited, &done);
  GSource *t = g_timeout_source_new ((guint) timeout_ms);
  g_source_set_callback (t, timed_out, &expired, NULL);
  g_source_attach (t, ctx);
  while (!done && !expired)
    g_main_context_iteration (ctx, TRUE);
  g_source_destroy (t);
  g_source_unref (t);
  if (!done)
    {
      /* Let the pending wait complete so nothing refers to `done` later. */
      g_subprocess_force_exit (emu->proc);
      while (!done)
        g_main_context_iteration (ctx, TRUE);
    }
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
  return !expired;
}

void
vh_emu_signal (VhEmu *emu, int signum)
{
  g_subprocess_send_signal (emu->proc, signum);
}

gint
vh_emu_exit_status (VhEmu *emu)
{
  if (!g_subprocess_get_if_exited (emu->proc))
    return -1;
  return g_subprocess_get_exit_status (emu->proc);
}

void
vh_emu_stop (VhEmu *emu)
{
  if (!emu)
    return;
  GOutputStream *in = g_subprocess_get_stdin_pipe (emu->proc);
  if (in)
    g_output_stream_close (in, NULL, NULL);
  vh_emu_wait_exit (emu, 5000);
  g_object_unref (emu->proc);
  g_free (emu->base_url);
  g_free (emu);
}

/* ------------------------------------------------------------ HTTP */

static size_t
on_body (char *data, size_t size, size_t n, void *user)
{
  g_byte_array_append (user, (const guint8 *) data, (guint) (size * n));
  return size * n;
}

static size_t
on_header (char *data, size_t size, size_t n, void *user)
{
  gsize len = size * n;
  gchar *line = g_strndup (data, len);
  g_strchomp (line);
  gchar *colon = strchr (line, ':');
  if (colon)
    {
      *colon = '\0';
      gchar *name = g_ascii_strdown (line, -1);
      g_ptr_array_add (user, g_strdup_printf ("%s: %s", name, g_strstrip (colon + 1)));
      g_free (name);
    }
  else if (g_str_has_prefix (line, "HTTP/"))
    {
      /* a new response (after 100-continue): forget earlier headers */
      g_ptr_array_set_size (user, 0);
    }
  g_free (line);
  return len;
}

static VhEmuResponse *
perform (CURL *c, struct curl_slist *hl, glong timeout_ms)
{
  GByteArray *body = g_byte_array_new ();
  GPtrArray *hdrs = g_ptr_array_new_with_free_func (g_free);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 30000L);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, body);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, hdrs);
  if (hl)
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, hl);
  VhEmuResponse *r = g_new0 (VhEmuResponse, 1);
  r->curl_code = curl_easy_perform (c);
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &r->status);
  guint8 nul = 0;
  g_byte_array_append (body, &nul, 1);   /* NUL-terminated for vh_emu_response_text */
  gsize len = body->len - 1;
  GBytes *whole = g_byte_array_free_to_bytes (body);
  r->body = g_bytes_new_from_bytes (whole, 0, len);   /* takes its own reference */
  g_bytes_unref (whole);
  g_ptr_array_add (hdrs, NULL);
  r->headers = (gchar **) g_ptr_array_free (hdrs, FALSE);
  return r;
}

VhEmuResponse *
vh_emu_http (const char *method, const char *url, const char *const *headers, const void *body,
             gsize body_len, glong timeout_ms)
{
  curl_once ();
  CURL *c = curl_easy_init ();
  struct curl_slist *hl = NULL;
  for (const char *const *h = headers; h && *h; h++)
    hl = curl_slist_append (hl, *h);
  hl = curl_slist_append (hl, "Expect:");
  curl_easy_setopt (c, CURLOPT_URL, url);
  if (body)
    {
      curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_len);
    }
  if (method)
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
  VhEmuResponse *r = perform (c, hl, timeout_ms);
  curl_slist_free_all (hl);
  curl_easy_cleanup (c);
  return r;
}

VhEmuResponse *
vh_emu_http_form (const char *url, const char *const *fields, const char *file_name, GBytes *file)
{
  curl_once ();
  CURL *c = curl_easy_init ();
  curl_mime *mime = curl_mime_init (c);
  for (const char *const *f = fields; f && f[0] && f[1]; f += 2)
    {
      curl_mimepart *p = curl_mime_addpart (mime);
      curl_mime_name (p, f[0]);
      curl_mime_data (p, f[1], CURL_ZERO_TERMINATED);
    }
  if (file)
    {
      curl_mimepart *p = curl_mime_addpart (mime);
      curl_mime_name (p, "file");
      curl_mime_filename (p, file_name ? file_name : "upload.bin");
      curl_mime_data (p, g_bytes_get_data (file, NULL), g_bytes_get_size (file));
    }
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_MIMEPOST, mime);
  struct curl_slist *hl = curl_slist_append (NULL, "Expect:");
  VhEmuResponse *r = perform (c, hl, 30000);
  curl_slist_free_all (hl);
  curl_mime_free (mime);
  curl_easy_cleanup (c);
  return r;
}

const char *
vh_emu_response_header (const VhEmuResponse *resp, const char *name)
{
  gsize nlen = strlen (name);
  for (gchar **h = resp->headers; h && *h; h++)
    if (!g_ascii_strncasecmp (*h, name, nlen) && (*h)[nlen] == ':')
      return *h + nlen + 2;
  return NULL;
}

const char *
vh_emu_response_text (const VhEmuResponse *resp)
{
  /* perform() stored a NUL right after the body inside the same buffer. */
  gsize len;
  const char *data = g_bytes_get_data (resp->body, &len);
  return data ? data : "";
}

void
vh_emu_response_free (VhEmuResponse *resp)
{
  if (!resp)
    return;
  g_bytes_unref (resp->body);
  g_strfreev (resp->headers);
  g_free (resp);
}
