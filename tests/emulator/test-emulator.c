/* The emulator over real HTTP (libcurl): protocol behaviour of both
 * families, quotas, every fault type, the recorder and process lifetime.
 * Each test gets a fresh emulator so state never leaks between tests. */
#include "emu-harness.h"
#include <vhost/plugin.h>
#include <json-c/json.h>
#include <curl/curl.h>
#include <signal.h>
#include <string.h>

/* 3-15 s latencies become 6-30 ms; no submission rate limit unless a test sets one */
#define FAST_CONFIG "{\"time_scale\": 0.002, \"defaults\": {\"qps\": 0}}"
#define T2I "/api/v1/services/aigc/text2image/image-synthesis"
#define I2I "/api/v1/services/aigc/image2image/image-synthesis"
#define MM  "/api/v1/services/aigc/multimodal-generation/generation"

typedef struct {
  VhEmu *emu;
} Fixture;

static void
fx_setup (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  f->emu = vh_emu_start (data ? data : FAST_CONFIG, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->emu);
}

static void
fx_teardown (Fixture *f, gconstpointer data)
{
  (void) data;
  vh_emu_stop (f->emu);
}

static void
configure (Fixture *f, const char *json)
{
  GError *error = NULL;
  g_assert_true (vh_emu_configure (f->emu, json, &error));
  g_assert_no_error (error);
}

/* ------------------------------------------------------------ helpers */

static gchar *
url_of (Fixture *f, const char *path)
{
  return g_strconcat (vh_emu_base_url (f->emu), path, NULL);
}

static VhEmuResponse *
ds (Fixture *f, const char *method, const char *path, const char *json, const char *key, gboolean async,
    gboolean oss)
{
  gchar *auth = key ? g_strdup_printf ("Authorization: Bearer %s", key) : NULL;
  const char *headers[5] = { 0 };
  int i = 0;
  headers[i++] = "Content-Type: application/json";
  if (auth)
    headers[i++] = auth;
  if (async)
    headers[i++] = "X-DashScope-Async: enable";
  if (oss)
    headers[i++] = "X-DashScope-OssResourceResolve: enable";
  gchar *url = url_of (f, path);
  VhEmuResponse *r = vh_emu_http (method, url, headers, json, json ? strlen (json) : 0, 10000);
  g_free (url);
  g_free (auth);
  return r;
}

static VhEmuResponse *
bfl (Fixture *f, const char *model, const char *json, const char *key)
{
  gchar *hk = key ? g_strdup_printf ("x-key: %s", key) : NULL;
  const char *headers[] = { "Content-Type: application/json", hk, NULL };
  gchar *path = g_strdup_printf ("/bfl/v1/%s", model);
  gchar *url = url_of (f, path);
  VhEmuResponse *r = vh_emu_http ("POST", url, headers, json, strlen (json), 10000);
  g_free (url);
  g_free (path);
  g_free (hk);
  return r;
}

static json_object *
jbody (const VhEmuResponse *r)
{
  json_object *o = json_tokener_parse (vh_emu_response_text (r));
  g_assert_nonnull (o);
  return o;
}

static const char *
jstr (json_object *o, const char *dotted)
{
  gchar **parts = g_strsplit (dotted, ".", -1);
  json_object *cur = o;
  for (gchar **p = parts; cur && *p; p++)
    {
      json_object *next = NULL;
      if (json_object_is_type (cur, json_type_array))
        next = json_object_array_get_idx (cur, (size_t) atoi (*p));
      else if (!json_object_object_get_ex (cur, *p, &next))
        next = NULL;
      cur = next;
    }
  g_strfreev (parts);
  return cur ? json_object_get_string (cur) : NULL;
}

static gint64
jint (json_object *o, const char *dotted)
{
  const char *s = jstr (o, dotted);
  return s ? g_ascii_strtoll (s, NULL, 10) : -1;
}

static gchar *
submit_t2i (Fixture *f, const char *prompt, const char *extra_params)
{
  gchar *json = g_strdup_printf ("{\"model\":\"wanx2.1-t2i-turbo\",\"input\":{\"prompt\":\"%s\"},"
                                 "\"parameters\":{\"n\":1%s%s}}", prompt, extra_params ? "," : "",
                                 extra_params ? extra_params : "");
  g_autoptr (VhEmuResponse) r = ds (f, "POST", T2I, json, "sk-test", TRUE, FALSE);
  g_free (json);
  g_assert_cmpint (r->status, ==, 200);
  json_object *o = jbody (r);
  g_assert_cmpstr (jstr (o, "output.task_status"), ==, "PENDING");
  gchar *id = g_strdup (jstr (o, "output.task_id"));
  json_object_put (o);
  return id;
}

static json_object *
ds_task (Fixture *f, const char *id)
{
  gchar *path = g_strdup_printf ("/api/v1/tasks/%s", id);
  g_autoptr (VhEmuResponse) r = ds (f, "GET", path, NULL, "sk-test", FALSE, FALSE);
  g_free (path);
  g_assert_cmpint (r->status, ==, 200);
  return jbody (r);
}

/* Polls until a terminal status (or ~3 s); returns the last body. */
static json_object *
ds_wait (Fixture *f, const char *id)
{
  for (int i = 0; i < 300; i++)
    {
      json_object *o = ds_task (f, id);
      const char *st = jstr (o, "output.task_status");
      if (strcmp (st, "PENDING") && strcmp (st, "RUNNING"))
        return o;
      json_object_put (o);
      g_usleep (10000);
    }
  g_assert_not_reached ();
}

static json_object *
bfl_poll (const char *polling_url, const char *key)
{
  gchar *hk = g_strdup_printf ("x-key: %s", key);
  const char *headers[] = { hk, NULL };
  g_autoptr (VhEmuResponse) r = vh_emu_http ("GET", polling_url, headers, NULL, 0, 10000);
  g_free (hk);
  g_assert_cmpint (r->status, ==, 200);
  return jbody (r);
}

static json_object *
bfl_wait (const char *polling_url)
{
  for (int i = 0; i < 300; i++)
    {
      json_object *o = bfl_poll (polling_url, "bfl-test");
      if (strcmp (jstr (o, "status"), "Pending"))
        return o;
      json_object_put (o);
      g_usleep (10000);
    }
  g_assert_not_reached ();
}

static VhPixels *
download (const char *url, VhImageFormat expect)
{
  g_autoptr (VhEmuResponse) r = vh_emu_http ("GET", url, NULL, NULL, 0, 10000);
  g_assert_cmpint (r->curl_code, ==, CURLE_OK);
  g_assert_cmpint (r->status, ==, 200);
  g_assert_cmpint (vh_image_sniff (r->body), ==, expect);
  GError *error = NULL;
  g_autoptr (VhImage) img = vh_image_new_from_bytes (r->body, &error);
  g_assert_no_error (error);
  VhPixels *px = vh_image_decode (img, &error);
  g_assert_no_error (error);
  return px;
}

static gchar *
make_data_uri (gint w, gint h, gboolean png, gboolean plain)
{
  g_autoptr (VhPixels) px = vh_pixels_new (w, h);
  for (gsize i = 0; i < (gsize) w * h * 3; i++)
    px->rgb[i] = (guint8) (i * 7);
  GError *error = NULL;
  g_autoptr (VhImage) img = png ? vh_image_encode_png (px, &error) : vh_image_encode_jpeg (px, 85, &error);
  g_assert_no_error (error);
  return plain ? vh_image_to_base64 (img) : vh_image_to_data_uri (img);
}

static gint64
stat_of (Fixture *f, const char *name)
{
  gchar *s = vh_emu_stats_json (f->emu);
  g_assert_nonnull (s);
  json_object *o = json_tokener_parse (s);
  gint64 v = jint (o, name);
  json_object_put (o);
  g_free (s);
  return v;
}

/* in_flight entries are keyed "<key> <model>"; model names contain dots. */
static gint64
max_in_flight (Fixture *f, const char *key, const char *model)
{
  gchar *s = vh_emu_stats_json (f->emu);
  json_object *o = json_tokener_parse (s), *all = NULL, *entry = NULL;
  gchar *name = g_strdup_printf ("%s %s", key, model);
  gint64 v = -1;
  if (json_object_object_get_ex (o, "in_flight", &all) && json_object_object_get_ex (all, name, &entry))
    v = jint (entry, "max_in_flight");
  json_object_put (o);
  g_free (name);
  g_free (s);
  return v;
}

/* ------------------------------------------------------------ auth */

static void
test_auth (Fixture *f, gconstpointer d)
{
  (void) d;
  const char *body = "{\"model\":\"wanx2.1-t2i-turbo\",\"input\":{\"prompt\":\"x\"}}";
  g_autoptr (VhEmuResponse) r1 = ds (f, "POST", T2I, body, NULL, TRUE, FALSE);
  g_assert_cmpint (r1->status, ==, 401);
  json_object *o = jbody (r1);
  g_assert_cmpstr (jstr (o, "code"), ==, "InvalidApiKey");
  g_assert_cmpstr (jstr (o, "message"), ==, "No API-key provided.");
  g_assert_nonnull (jstr (o, "request_id"));
  json_object_put (o);
  g_autoptr (VhEmuResponse) r2 = ds (f, "POST", T2I, body, "sk-wrong", TRUE, FALSE);
  g_assert_cmpint (r2->status, ==, 401);
  g_autoptr (VhEmuResponse) r3 = ds (f, "GET", "/api/v1/tasks/abc", NULL, "bfl-test", FALSE, FALSE);
  g_assert_cmpint (r3->status, ==, 401);
  g_autoptr (VhEmuResponse) r4 = bfl (f, "flux-dev", "{\"prompt\":\"x\"}", NULL);
  g_assert_cmpint (r4->status, ==, 403);
  g_autoptr (VhEmuResponse) r5 = bfl (f, "flux-dev", "{\"prompt\":\"x\"}", "sk-test");
  g_assert_cmpint (r5->status, ==, 401);
  /* keys configured at run time replace the defaults */
  configure (f, "{\"keys\": {\"dashscope\": [\"sk-other\"]}}");
  g_autoptr (VhEmuResponse) r6 = ds (f, "GET", "/api/v1/tasks/abc", NULL, "sk-test", FALSE, FALSE);
  g_assert_cmpint (r6->status, ==, 401);
  g_autoptr (VhEmuResponse) r7 = ds (f, "GET", "/api/v1/tasks/abc", NULL, "sk-other", FALSE, FALSE);
  g_assert_cmpint (r7->status, ==, 200);
}

static void
test_cli_keys (void)
{
  const char *argv[] = { "--keys", "sk-a,bfl:b-1", NULL };
  GError *error = NULL;
  VhEmu *emu = vh_emu_start_full (NULL, argv, &error);
  g_assert_no_error (error);
  Fixture f = { emu };
  g_autoptr (VhEmuResponse) r1 = ds (&f, "GET", "/api/v1/tasks/x", NULL, "sk-a", FALSE, FALSE);
  g_assert_cmpint (r1->status, ==, 200);
  g_autoptr (VhEmuResponse) r2 = ds (&f, "GET", "/api/v1/tasks/x", NULL, "b-1", FALSE, FALSE);
  g_assert_cmpint (r2->status, ==, 401);
  g_autoptr (VhEmuResponse) r3 = bfl (&f, "flux-dev", "{\"prompt\":\"x\",\"width\":512,\"height\":512}", "b-1");
  g_assert_cmpint (r3->status, ==, 200);
  vh_emu_stop (emu);
}

/* ------------------------------------------------------------ DashScope */

static void
test_async_header (Fixture *f, gconstpointer d)
{
  (void) d;
  g_autoptr (VhEmuResponse) r = ds (f, "POST", T2I, "{\"model\":\"wanx2.1-t2i-turbo\",\"input\":{\"prompt\":\"x\"}}",
                                    "sk-test", FALSE, FALSE);
  g_assert_cmpint (r->status, ==, 403);
  json_object *o = jbody (r);
  g_assert_cmpstr (jstr (o, "code"), ==, "AccessDenied");
  g_assert_nonnull (strstr (jstr (o, "message"), "does not support synchronous calls"));
  json_object_put (o);
  /* and the synchronous endpoint refuses the async header */
  g_autoptr (VhEmuResponse) r2 = ds (f, "POST", MM, "{\"model\":\"qwen-image-edit\"}", "sk-test", TRUE, FALSE);
  g_assert_cmpint (r2->status, ==, 403);
}

static void
test_t2i_flow (Fixture *f, gconstpointer d)
{
  (void) d;
  gchar *id = submit_t2i (f, "a red bicycle", "\"size\":\"768*512\"");
  json_object *o = ds_wait (f, id);
  g_assert_cmpstr (jstr (o, "output.task_status"), ==, "SUCCEEDED");
  g_assert_cmpint (jint (o, "output.task_metrics.TOTAL"), ==, 1);
  g_assert_cmpint (jint (o, "usage.image_count"), ==, 1);
  g_assert_cmpstr (jstr (o, "output.results.0.orig_prompt"), ==, "a red bicycle");
  g_assert_nonnull (jstr (o, "output.submit_time"));
  g_assert_nonnull (jstr (o, "output.end_time"));
  VhPixels *a = download (jstr (o, "output.results.0.url"), VH_FORMAT_PNG);
  g_assert_cmpint (a->width, ==, 768);
  g_assert_cmpint (a->height, ==, 512);
  json_object_put (o);
  g_free (id);

  /* another prompt, other pixels */
  id = submit_t2i (f, "a blue boat", "\"size\":\"768*512\"");
  o = ds_wait (f, id);
  VhPixels *b = download (jstr (o, "output.results.0.url"), VH_FORMAT_PNG);
  g_assert_true (memcmp (a->rgb, b->rgb, (gsize) 768 * 512 * 3) != 0);
  vh_pixels_free (a);
  vh_pixels_free (b);
  json_object_put (o);
  g_free (id);

  /* n defaults to 4 as documented */
  g_autoptr (VhEmuResponse) r = ds (f, "POST", T2I, "{\"model\":\"wanx2.1-t2i-turbo\",\"input\":{\"prompt\":\"four\"}}",
                                    "sk-test", TRUE, FALSE);
  g_assert_cmpint (r->status, ==, 200);
  json_object *s = jbody (r);
  o = ds_wait (f, jstr (s, "output.task_id"));
  g_assert_cmpint (jint (o, "output.task_metrics.TOTAL"), ==, 4);
  g_assert_cmpint (json_object_array_length (json_object_object_get (json_object_object_get (o, "output"), "results")), ==, 4);
  json_object_put (o);
  json_object_put (s);

  /* unknown id */
  o = ds_task (f, "no-such-task");
  g_assert_cmpstr (jstr (o, "output.task_status"), ==, "UNKNOWN");
  json_object_put (o);
}

static void
test_t2i_validation (Fixture *f, gconstpointer d)
{
  (void) d;
  static const struct { const char *body; long status; const char *code; } cases[] = {
    { "{\"model\":\"wanx2.1-t2i-turbo\",\"input\":{\"prompt\":\"x\"},\"parameters\":{\"size\":\"1024x1024\"}}", 400, "InvalidParameter" },
    { "{\"model\":\"wanx2.1-t2i-turbo\",\"input\":{\"prompt\":\"x\"},\"parameters\":{\"size\":\"2048*1024\"}}", 400, "InvalidParameter" },
    { "{\"model\":\"wanx2.1-t2i-turbo\",\"input\":{\"prompt\":\"x\"},\"parameters\":{\"n\":5}}", 400, "InvalidParameter" },
    { "{\"model\":\"wanx2.1-t2i-turbo\",\"input\":{}}", 400, "InvalidParameter" },
    { "{\"model\":\"wanx2.1-t2i-turbo\"}", 400, "BadRequest.EmptyInput" },
    { "{\"input\":{\"prompt\":\"x\"}}", 400, "BadRequest.EmptyModel" },
    { "{\"model\":\"nope\",\"input\":{\"prompt\":\"x\"}}", 404, "ModelNotFound" },
    { "not json", 400, "InvalidParameter" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (VhEmuResponse) r = ds (f, "POST", T2I, cases[i].body, "sk-test", TRUE, FALSE);
      g_assert_cmpint (r->status, ==, cases[i].status);
      json_object *o = jbody (r);
      g_assert_cmpstr (jstr (o, "code"), ==, cases[i].code);
      json_object_put (o);
    }
}

static void
test_imageedit (Fixture *f, gconstpointer d)
{
  (void) d;
  gchar *uri = make_data_uri (800, 600, FALSE, FALSE);
  gchar *json = g_strdup_printf ("{\"model\":\"wanx2.1-imageedit\",\"input\":{\"function\":\"description_edit\","
                                 "\"prompt\":\"make it snow\",\"base_image_url\":\"%s\"},\"parameters\":{\"n\":1}}", uri);
  g_autoptr (VhEmuResponse) r = ds (f, "POST", I2I, json, "sk-test", TRUE, FALSE);
  g_assert_cmpint (r->status, ==, 200);
  json_object *s = jbody (r);
  json_object *o = ds_wait (f, jstr (s, "output.task_id"));
  g_assert_cmpstr (jstr (o, "output.task_status"), ==, "SUCCEEDED");
  VhPixels *px = download (jstr (o, "output.results.0.url"), VH_FORMAT_PNG);
  g_assert_cmpint (px->width, ==, 800);
  g_assert_cmpint (px->height, ==, 600);
  vh_pixels_free (px);
  json_object_put (o);
  json_object_put (s);
  g_free (json);
  g_free (uri);

  /* too small for wanx2.1-imageedit ([512, 4096]) */
  uri = make_data_uri (300, 300, FALSE, FALSE);
  json = g_strdup_printf ("{\"model\":\"wanx2.1-imageedit\",\"input\":{\"function\":\"description_edit\","
                          "\"prompt\":\"x\",\"base_image_url\":\"%s\"}}", uri);
  g_autoptr (VhEmuResponse) r2 = ds (f, "POST", I2I, json, "sk-test", TRUE, FALSE);
  g_assert_cmpint (r2->status, ==, 400);
  o = jbody (r2);
  g_assert_cmpstr (jstr (o, "code"), ==, "InvalidImageResolution");
  json_object_put (o);
  g_free (json);
  g_free (uri);

  /* a data URI over 10485760 bytes */
  GString *big = g_string_new ("{\"model\":\"wanx2.1-imageedit\",\"input\":{\"function\":\"description_edit\","
                               "\"prompt\":\"x\",\"base_image_url\":\"data:image/jpeg;base64,");
  for (int i = 0; i < 10485760 / 4 + 8; i++)
    g_string_append (big, "AAAA");
  g_string_append (big, "\"}}");
  g_autoptr (VhEmuResponse) r3 = ds (f, "POST", I2I, big->str, "sk-test", TRUE, FALSE);
  g_string_free (big, TRUE);
  g_assert_cmpint (r3->status, ==, 400);
  o = jbody (r3);
  g_assert_nonnull (strstr (jstr (o, "message"), "max bytes per data-uri"));
  json_object_put (o);

  /* unknown function */
  g_autoptr (VhEmuResponse) r4 = ds (f, "POST", I2I, "{\"model\":\"wanx2.1-imageedit\",\"input\":{\"function\":\"zap\","
                                     "\"prompt\":\"x\",\"base_image_url\":\"data:,\"}}", "sk-test", TRUE, FALSE);
  g_assert_cmpint (r4->status, ==, 400);
}

static void
test_qwen_edit (Fixture *f, gconstpointer d)
{
  (void) d;
  gchar *uri = make_data_uri (900, 600, TRUE, FALSE);
  gchar *json = g_strdup_printf ("{\"model\":\"qwen-image-edit\",\"input\":{\"messages\":[{\"role\":\"user\","
                                 "\"content\":[{\"image\":\"%s\"},{\"text\":\"write OPEN on the sign\"}]}]},"
                                 "\"parameters\":{\"n\":1}}", uri);
  g_autoptr (VhEmuResponse) r = ds (f, "POST", MM, json, "sk-test", FALSE, FALSE);
  g_assert_cmpint (r->status, ==, 200);
  json_object *o = jbody (r);
  const char *url = jstr (o, "output.choices.0.message.content.0.image");
  g_assert_nonnull (url);
  VhPixels *px = download (url, VH_FORMAT_PNG);
  /* about 1 MP with the input's 3:2 ratio */
  g_assert_cmpfloat (ABS ((gdouble) px->width / px->height - 1.5), <, 0.02);
  g_assert_cmpint (jint (o, "usage.width"), ==, px->width);
  vh_pixels_free (px);
  json_object_put (o);
  g_free (json);

  /* qwen-image-edit takes n = 1 only */
  json = g_strdup_printf ("{\"model\":\"qwen-image-edit\",\"input\":{\"messages\":[{\"role\":\"user\","
                          "\"content\":[{\"image\":\"%s\"},{\"text\":\"x\"}]}]},\"parameters\":{\"n\":2}}", uri);
  g_autoptr (VhEmuResponse) r2 = ds (f, "POST", MM, json, "sk-test", FALSE, FALSE);
  g_assert_cmpint (r2->status, ==, 400);
  g_free (json);
  g_free (uri);
}

static void
test_oss_upload (Fixture *f, gconstpointer d)
{
  (void) d;
  g_autoptr (VhEmuResponse) p = ds (f, "GET", "/api/v1/uploads?action=getPolicy&model=wanx2.1-imageedit", NULL,
                                    "sk-test", FALSE, FALSE);
  g_assert_cmpint (p->status, ==, 200);
  json_object *pol = jbody (p);
  const char *host = jstr (pol, "data.upload_host");
  g_assert_true (g_str_has_prefix (host, vh_emu_base_url (f->emu)));
  gchar *key = g_strdup_printf ("%s/cat.jpg", jstr (pol, "data.upload_dir"));
  const char *fields[] = { "OSSAccessKeyId", jstr (pol, "data.oss_access_key_id"),
                           "Signature", jstr (pol, "data.signature"),
                           "policy", jstr (pol, "data.policy"),
                           "key", key,
                           "x-oss-object-acl", jstr (pol, "data.x_oss_object_acl"),
                           "x-oss-forbid-overwrite", jstr (pol, "data.x_oss_forbid_overwrite"),
                           "success_action_status", "200", NULL };
  g_autoptr (VhPixels) px = vh_pixels_new (640, 640);
  g_autoptr (VhImage) img = vh_image_encode_jpeg (px, 80, NULL);
  g_autoptr (VhEmuResponse) up = vh_emu_http_form (host, fields, "cat.jpg", img->bytes);
  g_assert_cmpint (up->status, ==, 200);
  /* forbid-overwrite: the same key twice fails */
  g_autoptr (VhEmuResponse) up2 = vh_emu_http_form (host, fields, "cat.jpg", img->bytes);
  g_assert_cmpint (up2->status, ==, 409);

  gchar *json = g_strdup_printf ("{\"model\":\"wanx2.1-imageedit\",\"input\":{\"function\":\"colorization\","
                                 "\"prompt\":\"colour it\",\"base_image_url\":\"oss://%s\"}}", key);
  g_autoptr (VhEmuResponse) no_hdr = ds (f, "POST", I2I, json, "sk-test", TRUE, FALSE);
  g_assert_cmpint (no_hdr->status, ==, 400);
  g_autoptr (VhEmuResponse) ok = ds (f, "POST", I2I, json, "sk-test", TRUE, TRUE);
  g_assert_cmpint (ok->status, ==, 200);
  g_free (json);
  /* bound to the model named in the policy */
  json = g_strdup_printf ("{\"model\":\"qwen-image-edit\",\"input\":{\"messages\":[{\"role\":\"user\","
                          "\"content\":[{\"image\":\"oss://%s\"},{\"text\":\"x\"}]}]}}", key);
  g_autoptr (VhEmuResponse) other = ds (f, "POST", MM, json, "sk-test", FALSE, TRUE);
  g_assert_cmpint (other->status, ==, 400);
  g_free (json);
  g_free (key);
  json_object_put (pol);
}

/* ------------------------------------------------------------ BFL */

static void
test_bfl_flow (Fixture *f, gconstpointer d)
{
  (void) d;
  g_autoptr (VhEmuResponse) r = bfl (f, "flux-pro-1.1", "{\"prompt\":\"a fox\",\"width\":640,\"height\":384}", "bfl-test");
  g_assert_cmpint (r->status, ==, 200);
  json_object *s = jbody (r);
  const char *poll = jstr (s, "polling_url");
  gchar *prefix = g_strdup_printf ("%s/bfl/v1/get_result?id=", vh_emu_base_url (f->emu));
  g_assert_true (g_str_has_prefix (poll, prefix));
  g_free (prefix);
  json_object *o = bfl_wait (poll);
  g_assert_cmpstr (jstr (o, "status"), ==, "Ready");
  VhPixels *px = download (jstr (o, "result.sample"), VH_FORMAT_JPEG);   /* t2i default: jpeg */
  g_assert_cmpint (px->width, ==, 640);
  g_assert_cmpint (px->height, ==, 384);
  vh_pixels_free (px);
  json_object_put (o);
  json_object_put (s);

  /* Kontext edit: plain base64 input, output keeps its 4:3 ratio, png by default */
  gchar *b64 = make_data_uri (640, 480, FALSE, TRUE);
  gchar *json = g_strdup_printf ("{\"prompt\":\"add a hat\",\"input_image\":\"%s\"}", b64);
  g_autoptr (VhEmuResponse) k = bfl (f, "flux-kontext-pro", json, "bfl-test");
  g_assert_cmpint (k->status, ==, 200);
  s = jbody (k);
  o = bfl_wait (jstr (s, "polling_url"));
  px = download (jstr (o, "result.sample"), VH_FORMAT_PNG);
  g_assert_cmpfloat (ABS ((gdouble) px->width / px->height - 4.0 / 3.0), <, 0.05);
  vh_pixels_free (px);
  json_object_put (o);
  json_object_put (s);
  g_free (json);
  g_free (b64);

  /* validation: 422 with detail[] */
  g_autoptr (VhEmuResponse) v1 = bfl (f, "flux-pro-1.1", "{\"prompt\":\"x\",\"width\":500}", "bfl-test");
  g_assert_cmpint (v1->status, ==, 422);
  o = jbody (v1);
  g_assert_cmpstr (jstr (o, "detail.0.loc.1"), ==, "width");
  json_object_put (o);
  g_autoptr (VhEmuResponse) v2 = bfl (f, "flux-kontext-max", "{\"input_image\":\"AAAA\"}", "bfl-test");
  g_assert_cmpint (v2->status, ==, 422);
  g_autoptr (VhEmuResponse) v3 = bfl (f, "flux-kontext-pro", "{\"prompt\":\"x\",\"input_image\":\"not base64!\"}", "bfl-test");
  g_assert_cmpint (v3->status, ==, 422);

  gchar *u = url_of (f, "/bfl/v1/get_result?id=nope");
  o = bfl_poll (u, "bfl-test");
  g_assert_cmpstr (jstr (o, "status"), ==, "Task not found");
  json_object_put (o);
  g_free (u);
}

static void
test_bfl_credits (Fixture *f, gconstpointer d)
{
  (void) d;
  configure (f, "{\"bfl_credits\": 5}");
  g_autoptr (VhEmuResponse) a = bfl (f, "flux-pro-1.1", "{\"prompt\":\"x\"}", "bfl-test");
  g_assert_cmpint (a->status, ==, 200);
  g_autoptr (VhEmuResponse) b = bfl (f, "flux-pro-1.1", "{\"prompt\":\"x\"}", "bfl-test");
  g_assert_cmpint (b->status, ==, 402);
}

/* ------------------------------------------------------------ quotas */

static void
test_quota_dashscope (Fixture *f, gconstpointer d)
{
  (void) d;
  /* tasks last 2 s: three submits, the third is over the 2-in-flight limit */
  configure (f, "{\"time_scale\": 1, \"endpoints\": {\"dashscope.text2image\": "
                "{\"latency_ms\": 2000, \"qps\": 0, \"concurrency\": 2, \"retry_after_s\": 2}}}");
  g_free (submit_t2i (f, "a", NULL));
  g_free (submit_t2i (f, "b", NULL));
  g_autoptr (VhEmuResponse) r = ds (f, "POST", T2I, "{\"model\":\"wanx2.1-t2i-turbo\",\"input\":{\"prompt\":\"c\"}}",
                                    "sk-test", TRUE, FALSE);
  g_assert_cmpint (r->status, ==, 429);
  json_object *o = jbody (r);
  g_assert_cmpstr (jstr (o, "code"), ==, "Throttling.RateQuota");
  json_object_put (o);
  g_assert_cmpstr (vh_emu_response_header (r, "Retry-After"), ==, "2");
  g_assert_cmpint (max_in_flight (f, "sk-test", "wanx2.1-t2i-turbo"), ==, 2);
  g_assert_cmpint (stat_of (f, "sent_429"), ==, 1);
  g_assert_cmpint (stat_of (f, "quota_429_concurrency"), ==, 1);

  /* a per-second rate: 2 submissions pass, the third in the same second does not */
  GError *error = NULL;
  g_assert_true (vh_emu_reset (f->emu, &error));
  configure (f, "{\"time_scale\": 0.001, \"endpoints\": {\"dashscope.*\": {\"concurrency\": 0, \"qps\": 2}}}");
  g_free (submit_t2i (f, "a", NULL));
  g_free (submit_t2i (f, "b", NULL));
  g_autoptr (VhEmuResponse) q = ds (f, "POST", T2I, "{\"model\":\"wanx2.1-t2i-turbo\",\"input\":{\"prompt\":\"c\"}}",
                                    "sk-test", TRUE, FALSE);
  g_assert_cmpint (q->status, ==, 429);
  g_assert_null (vh_emu_response_header (q, "Retry-After"));   /* not documented for DashScope: off by default */
  g_assert_cmpint (stat_of (f, "quota_429_qps"), ==, 1);
  /* other models have their own budget */
  g_autoptr (VhEmuResponse) other = ds (f, "POST", T2I, "{\"model\":\"wanx2.1-t2i-plus\",\"input\":{\"prompt\":\"c\"}}",
                                        "sk-test", TRUE, FALSE);
  g_assert_cmpint (other->status, ==, 200);
}

static void
test_quota_bfl (Fixture *f, gconstpointer d)
{
  (void) d;
  configure (f, "{\"time_scale\": 1, \"endpoints\": {\"bfl.*\": {\"latency_ms\": 3000}}}");
  for (int i = 0; i < 6; i++)
    {
      g_autoptr (VhEmuResponse) r = bfl (f, "flux-kontext-max", "{\"prompt\":\"x\"}", "bfl-test");
      g_assert_cmpint (r->status, ==, 200);
    }
  g_autoptr (VhEmuResponse) r = bfl (f, "flux-kontext-max", "{\"prompt\":\"x\"}", "bfl-test");
  g_assert_cmpint (r->status, ==, 429);
  g_autoptr (VhEmuResponse) pro = bfl (f, "flux-kontext-pro", "{\"prompt\":\"x\"}", "bfl-test");
  g_assert_cmpint (pro->status, ==, 200);
  g_assert_cmpint (max_in_flight (f, "bfl-test", "flux-kontext-max"), ==, 6);
}

/* ------------------------------------------------------------ faults */

static void
test_fault_http (Fixture *f, gconstpointer d)
{
  (void) d;
  configure (f, "{\"faults\": [{\"type\": \"http_429\", \"endpoint\": \"dashscope.text2image\", \"next\": 1, \"retry_after_s\": 7},"
                " {\"type\": \"http_500\", \"endpoint\": \"dashscope.text2image\", \"next\": 1},"
                " {\"type\": \"http_503\", \"endpoint\": \"bfl.*\", \"next\": 1}]}");
  const char *body = "{\"model\":\"wanx2.1-t2i-turbo\",\"input\":{\"prompt\":\"x\"}}";
  g_autoptr (VhEmuResponse) a = ds (f, "POST", T2I, body, "sk-test", TRUE, FALSE);
  g_assert_cmpint (a->status, ==, 429);
  g_assert_cmpstr (vh_emu_response_header (a, "Retry-After"), ==, "7");
  json_object *o = jbody (a);
  g_assert_cmpstr (jstr (o, "code"), ==, "Throttling.RateQuota");
  json_object_put (o);
  g_autoptr (VhEmuResponse) b = ds (f, "POST", T2I, body, "sk-test", TRUE, FALSE);
  g_assert_cmpint (b->status, ==, 500);
  o = jbody (b);
  g_assert_cmpstr (jstr (o, "code"), ==, "InternalError");
  json_object_put (o);
  g_autoptr (VhEmuResponse) c = ds (f, "POST", T2I, body, "sk-test", TRUE, FALSE);
  g_assert_cmpint (c->status, ==, 200);
  g_autoptr (VhEmuResponse) e = bfl (f, "flux-dev", "{\"prompt\":\"x\"}", "bfl-test");
  g_assert_cmpint (e->status, ==, 503);
  g_assert_cmpint (stat_of (f, "faults_injected"), ==, 3);

  /* probability 0 never fires, probability 1 always does */
  configure (f, "{\"faults\": [{\"type\": \"http_500\", \"endpoint\": \"bfl.*\", \"probability\": 0}]}");
  g_autoptr (VhEmuResponse) g = bfl (f, "flux-dev", "{\"prompt\":\"x\"}", "bfl-test");
  g_assert_cmpint (g->status, ==, 200);
  configure (f, "{\"faults\": [{\"type\": \"http_error\", \"status\": 502, \"endpoint\": \"bfl.*\", \"probability\": 1}]}");
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (VhEmuResponse) h = bfl (f, "flux-dev", "{\"prompt\":\"x\"}", "bfl-test");
      g_assert_cmpint (h->status, ==, 502);
    }
}

static void
test_fault_transport (Fixture *f, gconstpointer d)
{
  (void) d;
  configure (f, "{\"faults\": [{\"type\": \"hang\", \"endpoint\": \"dashscope.tasks\", \"next\": 1},"
                " {\"type\": \"malformed_json\", \"endpoint\": \"dashscope.tasks\", \"next\": 1},"
                " {\"type\": \"truncated_body\", \"endpoint\": \"results\", \"next\": 1}]}");
  gchar *id = submit_t2i (f, "x", NULL);
  gchar *path = g_strdup_printf ("/api/v1/tasks/%s", id);
  gchar *url = url_of (f, path);
  const char *headers[] = { "Authorization: Bearer sk-test", NULL };
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (VhEmuResponse) hung = vh_emu_http ("GET", url, headers, NULL, 0, 400);
  g_assert_cmpint (hung->curl_code, ==, CURLE_OPERATION_TIMEDOUT);
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 350000);
  g_autoptr (VhEmuResponse) bad = vh_emu_http ("GET", url, headers, NULL, 0, 5000);
  g_assert_cmpint (bad->status, ==, 200);
  g_assert_null (json_tokener_parse (vh_emu_response_text (bad)));
  json_object *o = ds_wait (f, id);
  const char *img = jstr (o, "output.results.0.url");
  g_autoptr (VhEmuResponse) cut = vh_emu_http ("GET", img, NULL, NULL, 0, 5000);
  g_assert_cmpint (cut->curl_code, ==, CURLE_PARTIAL_FILE);
  g_autoptr (VhEmuResponse) whole = vh_emu_http ("GET", img, NULL, NULL, 0, 5000);
  g_assert_cmpint (whole->curl_code, ==, CURLE_OK);
  g_assert_cmpuint (g_bytes_get_size (cut->body), <, g_bytes_get_size (whole->body));
  json_object_put (o);
  g_free (url);
  g_free (path);
  g_free (id);
}

static void
test_fault_expired (Fixture *f, gconstpointer d)
{
  (void) d;
  /* expired by fault at submit ... */
  configure (f, "{\"faults\": [{\"type\": \"expired_url\", \"next\": 1}]}");
  gchar *id = submit_t2i (f, "x", NULL);
  json_object *o = ds_wait (f, id);
  g_autoptr (VhEmuResponse) a = vh_emu_http ("GET", jstr (o, "output.results.0.url"), NULL, NULL, 0, 5000);
  g_assert_cmpint (a->status, ==, 403);
  g_assert_nonnull (strstr (vh_emu_response_text (a), "<Code>AccessDenied</Code>"));
  json_object_put (o);
  g_free (id);
  /* ... and by the clock (result_ttl_ms) */
  configure (f, "{\"endpoints\": {\"bfl.*\": {\"latency_ms\": 0, \"result_ttl_ms\": 150}}}");
  g_autoptr (VhEmuResponse) s = bfl (f, "flux-dev", "{\"prompt\":\"x\"}", "bfl-test");
  json_object *so = jbody (s);
  o = bfl_wait (jstr (so, "polling_url"));
  const char *sample = jstr (o, "result.sample");
  g_autoptr (VhEmuResponse) fresh = vh_emu_http ("GET", sample, NULL, NULL, 0, 5000);
  g_assert_cmpint (fresh->status, ==, 200);
  g_usleep (250000);
  g_autoptr (VhEmuResponse) stale = vh_emu_http ("GET", sample, NULL, NULL, 0, 5000);
  g_assert_cmpint (stale->status, ==, 403);
  json_object_put (o);
  json_object_put (so);
  g_assert_cmpint (stat_of (f, "results_expired"), ==, 2);
}

static void
test_fault_moderation (Fixture *f, gconstpointer d)
{
  (void) d;
  configure (f, "{\"faults\": [{\"type\": \"moderation_input\", \"endpoint\": \"dashscope.*\", \"next\": 1},"
                " {\"type\": \"moderation_output\", \"endpoint\": \"dashscope.*\", \"next\": 1},"
                " {\"type\": \"moderation_input\", \"endpoint\": \"bfl.*\", \"next\": 1},"
                " {\"type\": \"moderation_output\", \"endpoint\": \"bfl.*\", \"next\": 1}]}");
  g_autoptr (VhEmuResponse) a = ds (f, "POST", T2I, "{\"model\":\"wanx2.1-t2i-turbo\",\"input\":{\"prompt\":\"x\"}}",
                                    "sk-test", TRUE, FALSE);
  g_assert_cmpint (a->status, ==, 400);
  json_object *o = jbody (a);
  g_assert_cmpstr (jstr (o, "code"), ==, "DataInspectionFailed");
  json_object_put (o);
  gchar *id = submit_t2i (f, "x", NULL);
  o = ds_wait (f, id);
  g_assert_cmpstr (jstr (o, "output.task_status"), ==, "FAILED");
  g_assert_cmpstr (jstr (o, "output.code"), ==, "DataInspectionFailed");
  json_object_put (o);
  g_free (id);
  static const char *const expect[] = { "Request Moderated", "Content Moderated" };
  for (int i = 0; i < 2; i++)
    {
      g_autoptr (VhEmuResponse) s = bfl (f, "flux-dev", "{\"prompt\":\"x\"}", "bfl-test");
      json_object *so = jbody (s);
      o = bfl_wait (jstr (so, "polling_url"));
      g_assert_cmpstr (jstr (o, "status"), ==, expect[i]);
      json_object_put (o);
      json_object_put (so);
    }
}

static void
test_fault_tasks (Fixture *f, gconstpointer d)
{
  (void) d;
  configure (f, "{\"faults\": [{\"type\": \"stuck\", \"next\": 2}, {\"type\": \"task_failed\", \"endpoint\": \"dashscope.*\", \"next\": 1},"
                " {\"type\": \"partial_failure\", \"endpoint\": \"dashscope.*\", \"next\": 1},"
                " {\"type\": \"task_not_found\", \"endpoint\": \"bfl.get_result\", \"next\": 1}]}");
  gchar *id = submit_t2i (f, "x", NULL);
  g_autoptr (VhEmuResponse) s = bfl (f, "flux-dev", "{\"prompt\":\"x\"}", "bfl-test");
  json_object *so = jbody (s);
  g_usleep (200000);    /* far beyond the scaled latency */
  json_object *o = ds_task (f, id);
  g_assert_cmpstr (jstr (o, "output.task_status"), ==, "RUNNING");
  json_object_put (o);
  o = bfl_poll (jstr (so, "polling_url"), "bfl-test");
  g_assert_cmpstr (jstr (o, "status"), ==, "Task not found");   /* the injected poll fault */
  json_object_put (o);
  o = bfl_poll (jstr (so, "polling_url"), "bfl-test");
  g_assert_cmpstr (jstr (o, "status"), ==, "Pending");
  json_object_put (o);
  json_object_put (so);
  g_free (id);

  id = submit_t2i (f, "x", NULL);
  o = ds_wait (f, id);
  g_assert_cmpstr (jstr (o, "output.task_status"), ==, "FAILED");
  g_assert_cmpstr (jstr (o, "output.code"), ==, "InternalError");
  json_object_put (o);
  g_free (id);

  id = submit_t2i (f, "x", "\"n\":3");
  o = ds_wait (f, id);
  g_assert_cmpstr (jstr (o, "output.task_status"), ==, "SUCCEEDED");
  g_assert_cmpint (jint (o, "output.task_metrics.FAILED"), ==, 1);
  g_assert_cmpstr (jstr (o, "output.results.2.code"), ==, "InternalError.Timeout");
  g_assert_nonnull (jstr (o, "output.results.0.url"));
  json_object_put (o);
  g_free (id);
}

/* ------------------------------------------------------------ control */

static void
test_recorder (Fixture *f, gconstpointer d)
{
  (void) d;
  gchar *uri = make_data_uri (600, 600, FALSE, FALSE);
  gchar *json = g_strdup_printf ("{\"model\":\"wanx2.1-imageedit\",\"input\":{\"function\":\"description_edit\","
                                 "\"prompt\":\"x\",\"base_image_url\":\"%s\"}}", uri);
  g_autoptr (VhEmuResponse) r = ds (f, "POST", I2I, json, "sk-test", TRUE, FALSE);
  g_assert_cmpint (r->status, ==, 200);
  gchar *text = vh_emu_requests_json (f->emu);
  json_object *list = json_tokener_parse (text);
  g_assert_cmpint (json_object_array_length (list), ==, 1);
  json_object *rec = json_object_array_get_idx (list, 0);
  g_assert_cmpstr (jstr (rec, "method"), ==, "POST");
  g_assert_cmpstr (jstr (rec, "path"), ==, I2I);
  g_assert_cmpstr (jstr (rec, "headers.authorization"), ==, "Bearer sk-test");
  g_assert_cmpstr (jstr (rec, "headers.x-dashscope-async"), ==, "enable");
  g_assert_cmpstr (jstr (rec, "json.model"), ==, "wanx2.1-imageedit");
  g_assert_cmpstr (jstr (rec, "endpoint"), ==, "dashscope.image2image");
  g_assert_cmpint (jint (rec, "status"), ==, 200);
  g_assert_cmpint (jint (rec, "body_size"), ==, (gint64) strlen (json));
  /* long strings are clipped, their start kept */
  g_assert_true (g_str_has_prefix (jstr (rec, "json.input.base_image_url"), "data:image/jpeg;base64,"));
  g_assert_cmpint (strlen (jstr (rec, "json.input.base_image_url")), <, 200);
  g_assert_nonnull (jstr (rec, "time"));
  json_object_put (list);
  g_free (text);
  g_free (json);
  g_free (uri);

  GError *error = NULL;
  g_assert_true (vh_emu_reset (f->emu, &error));
  text = vh_emu_requests_json (f->emu);
  g_assert_cmpstr (text, ==, "[]");
  g_free (text);
  g_assert_cmpint (stat_of (f, "requests"), ==, 0);
}

static void
test_config_errors (Fixture *f, gconstpointer d)
{
  (void) d;
  GError *error = NULL;
  g_assert_false (vh_emu_configure (f->emu, "{\"tme_scale\": 1}", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (vh_emu_configure (f->emu, "{\"faults\": [{\"type\": \"explode\"}]}", &error));
  g_clear_error (&error);
  g_assert_false (vh_emu_configure (f->emu, "[1]", &error));
  g_clear_error (&error);
}

/* ------------------------------------------------------------ lifetime */

static void
test_lifetime (void)
{
  const char *argv[] = { "--lifetime", "1", NULL };
  GError *error = NULL;
  VhEmu *emu = vh_emu_start_full (NULL, argv, &error);
  g_assert_no_error (error);
  g_assert_true (vh_emu_wait_exit (emu, 5000));
  /* the port is closed now */
  gchar *url = g_strdup_printf ("%s/_emu/stats", vh_emu_base_url (emu));
  g_autoptr (VhEmuResponse) r = vh_emu_http ("GET", url, NULL, NULL, 0, 2000);
  g_assert_cmpint (r->curl_code, ==, CURLE_COULDNT_CONNECT);
  g_free (url);
  vh_emu_stop (emu);
}

static void
test_stdin_eof (void)
{
  GError *error = NULL;
  VhEmu *emu = vh_emu_start (NULL, &error);
  g_assert_no_error (error);
  g_autofree gchar *stats = vh_emu_stats_json (emu);
  g_assert_nonnull (stats);
  gint64 t0 = g_get_monotonic_time ();
  vh_emu_stop (emu);      /* closes stdin; must not need the 5 s kill */
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 4 * G_USEC_PER_SEC);
}

static void
test_sigterm (void)
{
  GError *error = NULL;
  VhEmu *emu = vh_emu_start (NULL, &error);
  g_assert_no_error (error);
  vh_emu_signal (emu, SIGTERM);
  g_assert_true (vh_emu_wait_exit (emu, 5000));
  g_assert_cmpint (vh_emu_exit_status (emu), ==, 0);
  vh_emu_stop (emu);
}

/* The synchronous endpoint holds its answer for the task's latency, and a
 * client that gives up early does not disturb the server. */
static void
test_sync_latency (Fixture *f, gconstpointer d)
{
  (void) d;
  configure (f, "{\"time_scale\": 1, \"endpoints\": {\"dashscope.multimodal\": {\"latency_ms\": 400}}}");
  gchar *uri = make_data_uri (500, 500, FALSE, FALSE);
  gchar *json = g_strdup_printf ("{\"model\":\"qwen-image-edit\",\"input\":{\"messages\":[{\"role\":\"user\","
                                 "\"content\":[{\"image\":\"%s\"},{\"text\":\"x\"}]}]}}", uri);
  gchar *url = url_of (f, MM);
  const char *headers[] = { "Authorization: Bearer sk-test", "Content-Type: application/json", NULL };
  g_autoptr (VhEmuResponse) early = vh_emu_http ("POST", url, headers, json, strlen (json), 100);
  g_assert_cmpint (early->curl_code, ==, CURLE_OPERATION_TIMEDOUT);
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (VhEmuResponse) r = vh_emu_http ("POST", url, headers, json, strlen (json), 5000);
  g_assert_cmpint (r->status, ==, 200);
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 380000);
  g_usleep (500000);   /* the abandoned answer's timer fires after its client left */
  g_assert_cmpint (stat_of (f, "tasks_created"), ==, 2);
  g_free (url);
  g_free (json);
  g_free (uri);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn, cfg) g_test_add (path, Fixture, cfg, fx_setup, fn, fx_teardown)
  ADD ("/emulator/auth", test_auth, NULL);
  g_test_add_func ("/emulator/cli-keys", test_cli_keys);
  ADD ("/emulator/dashscope/async-header", test_async_header, NULL);
  ADD ("/emulator/dashscope/t2i", test_t2i_flow, NULL);
  ADD ("/emulator/dashscope/t2i-validation", test_t2i_validation, NULL);
  ADD ("/emulator/dashscope/imageedit", test_imageedit, NULL);
  ADD ("/emulator/dashscope/qwen-image-edit", test_qwen_edit, NULL);
  ADD ("/emulator/dashscope/oss-upload", test_oss_upload, NULL);
  ADD ("/emulator/bfl/flow", test_bfl_flow, NULL);
  ADD ("/emulator/bfl/credits", test_bfl_credits, NULL);
  ADD ("/emulator/quota/dashscope", test_quota_dashscope, NULL);
  ADD ("/emulator/quota/bfl", test_quota_bfl, NULL);
  ADD ("/emulator/fault/http", test_fault_http, NULL);
  ADD ("/emulator/fault/transport", test_fault_transport, NULL);
  ADD ("/emulator/fault/expired", test_fault_expired, NULL);
  ADD ("/emulator/fault/moderation", test_fault_moderation, NULL);
  ADD ("/emulator/fault/tasks", test_fault_tasks, NULL);
  ADD ("/emulator/control/recorder", test_recorder, NULL);
  ADD ("/emulator/control/config-errors", test_config_errors, NULL);
  g_test_add_func ("/emulator/lifetime", test_lifetime);
  g_test_add_func ("/emulator/stdin-eof", test_stdin_eof);
  g_test_add_func ("/emulator/sigterm", test_sigterm);
  ADD ("/emulator/dashscope/sync-latency", test_sync_latency, NULL);
  return g_test_run ();
}
