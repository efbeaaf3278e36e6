/* Unit tests of the plugins' internal decisions, compiled against their
 * sources: DashScope error codes -> classes (dashscope.md section 7),
 * result parsing of SUCCEEDED tasks with failed elements, sizes and aspect
 * ratios asked for. */
#include <stdio.h>
#include <string.h>
#include "wanx-private.h"
#include "flux-private.h"

static void
test_wanx_classify (void)
{
  static const struct { glong status; const char *code, *message; VhErrorClass klass; } cases[] = {
    { 429, "Throttling", "", VH_ERROR_QUOTA },
    { 429, "Throttling.RateQuota", "Requests rate limit exceeded", VH_ERROR_QUOTA },
    { 429, "Throttling.BurstRate", "", VH_ERROR_QUOTA },
    { 429, "Throttling.AllocationQuota", "Free allocated quota exceeded.", VH_ERROR_AUTH },
    { 429, "limit_requests", "", VH_ERROR_QUOTA },
    { 400, "DataInspectionFailed", "Input data may contain inappropriate content.", VH_ERROR_REJECTED },
    { 400, "data_inspection_failed", "", VH_ERROR_REJECTED },
    { 400, "IPInfringementSuspect", "", VH_ERROR_REJECTED },
    { 0, "DataInspectionFailed", "Output data may contain inappropriate content.", VH_ERROR_REJECTED },
    { 401, "InvalidApiKey", "Invalid API-key provided.", VH_ERROR_AUTH },
    { 400, "Arrearage", "", VH_ERROR_AUTH },
    { 403, "AccessDenied.Unpurchased", "", VH_ERROR_AUTH },
    { 403, "AccessDenied", "current user api does not support synchronous calls", VH_ERROR_INVALID_INPUT },
    { 403, "AccessDenied", "current user api does not support asynchronous calls", VH_ERROR_INVALID_INPUT },
    { 403, "AccessDenied", "Access denied.", VH_ERROR_AUTH },
    { 404, "ModelNotFound", "Model not exist.", VH_ERROR_AUTH },
    { 400, "InvalidParameter", "The size parameter is invalid", VH_ERROR_INVALID_INPUT },
    { 400, "InvalidImageResolution", "", VH_ERROR_INVALID_INPUT },
    { 400, "InvalidFile.Size", "", VH_ERROR_INVALID_INPUT },
    { 400, "invalid_parameter_error", "", VH_ERROR_INVALID_INPUT },
    { 400, "InvalidParameter.DataInspection", "Unable to download the media resource during the data inspection process.",
      VH_ERROR_TRANSIENT },
    { 400, "BadRequest.InputDownloadFailed", "", VH_ERROR_TRANSIENT },
    { 400, "InternalError.Algo.InvalidParameter", "Failed to download multimodal content", VH_ERROR_TRANSIENT },
    { 400, "InternalError.Algo.InvalidParameter", "The input image is invalid", VH_ERROR_INVALID_INPUT },
    { 500, "InternalError", "", VH_ERROR_TRANSIENT },
    { 500, "InternalError.Algo", "", VH_ERROR_TRANSIENT },
    { 0, "InternalError.Timeout", "An internal timeout error has occured", VH_ERROR_TRANSIENT },
    { 500, "SystemError", "", VH_ERROR_TRANSIENT },
    { 503, "ModelServingError", "Too many requests", VH_ERROR_TRANSIENT },
    { 503, NULL, NULL, VH_ERROR_TRANSIENT },
    { 0, NULL, NULL, VH_ERROR_INTERNAL },
    { 0, "SomethingNew", "", VH_ERROR_INTERNAL },
    { 418, "SomethingNew", "", VH_ERROR_INVALID_INPUT },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      VhErrorClass k = wanx_classify (cases[i].status, cases[i].code, cases[i].message);
      if (k != cases[i].klass)
        g_error ("%ld %s \"%s\": got %s, want %s", cases[i].status, cases[i].code, cases[i].message,
                 vh_error_class_name (k), vh_error_class_name (cases[i].klass));
    }
}

static json_object *
parse (const char *text)
{
  GBytes *b = g_bytes_new_static (text, strlen (text));
  GError *error = NULL;
  json_object *o = vh_json_parse (b, "test", &error);
  g_assert_no_error (error);
  g_bytes_unref (b);
  return o;
}

static void
test_wanx_results (void)
{
  GError *error = NULL;
  /* A SUCCEEDED task with a failed element first and a URL second. */
  json_object *o = parse ("{\"output\": {\"task_status\": \"SUCCEEDED\", \"results\": ["
                          "{\"code\": \"InternalError.Timeout\", \"message\": \"slow\"},"
                          "{\"url\": \"https://x/a.png\"}]}}");
  g_autofree gchar *url = wanx_first_result_url (vh_json_member (o, "output"), "t", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (url, ==, "https://x/a.png");
  json_object_put (o);

  /* Only failed elements: classified by their code. */
  o = parse ("{\"output\": {\"task_status\": \"SUCCEEDED\", \"results\": ["
             "{\"code\": \"DataInspectionFailed\", \"message\": \"Output data may contain inappropriate content.\"}]}}");
  g_assert_null (wanx_first_result_url (vh_json_member (o, "output"), "t", &error));
  g_assert_cmpint (vh_error_class (error), ==, VH_ERROR_REJECTED);
  g_clear_error (&error);
  json_object_put (o);

  /* Neither: an unexpected answer. */
  o = parse ("{\"output\": {\"task_status\": \"SUCCEEDED\", \"results\": []}}");
  g_assert_null (wanx_first_result_url (vh_json_member (o, "output"), "t", &error));
  g_assert_cmpint (vh_error_class (error), ==, VH_ERROR_INTERNAL);
  g_clear_error (&error);
  json_object_put (o);

  /* The multimodal shape. */
  o = parse ("{\"output\": {\"choices\": [{\"message\": {\"content\": [{\"image\": \"https://x/q.png\"}]}}]}}");
  g_autofree gchar *q = wanx_first_result_url (vh_json_member (o, "output"), "t", &error);
  g_assert_cmpstr (q, ==, "https://x/q.png");
  json_object_put (o);
}

static void
test_wanx_parse_json (void)
{
  GError *error = NULL;
  static const char *const bad[] = { "", "{", "{\"a\":1} trailing", "[1,2]", "<html>", "{\"a\":1}{}" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      GBytes *b = g_bytes_new_static (bad[i], strlen (bad[i]));
      g_assert_null (vh_json_parse (b, "t", &error));
      g_assert_cmpint (vh_error_class (error), ==, VH_ERROR_INTERNAL);
      g_clear_error (&error);
      g_bytes_unref (b);
    }
  json_object *o = parse ("  {\"a\": {\"b\": \"c\"}}\n ");
  g_assert_cmpstr (vh_json_str (o, "a.b"), ==, "c");
  g_assert_null (vh_json_str (o, "a.x"));
  json_object_put (o);
}

static void
assert_size (const char *size, gint in_w, gint in_h, gint64 min_px, gint64 max_px)
{
  gint w = 0, h = 0;
  g_assert_cmpint (sscanf (size, "%d*%d", &w, &h), ==, 2);
  double want = (double) in_w / in_h, got = (double) w / h;
  if (got / want > 1.03 || want / got > 1.03)
    g_error ("%s does not match %dx%d", size, in_w, in_h);
  g_assert_cmpint ((gint64) w * h, >=, min_px);
  g_assert_cmpint ((gint64) w * h, <=, max_px);
}

static void
test_wanx_sizes (void)
{
  g_autofree gchar *a = wanx_size_for_aspect (1200, 800, 1024 * 1024, 512, 2048, 16);
  assert_size (a, 1200, 800, 900 * 900, 1100 * 1100);
  g_autofree gchar *b = wanx_size_for_aspect (600, 1600, 1280 * 1280, 384, 2880, 16);
  assert_size (b, 600, 1600, 768 * 768, 1440 * 1440);
  /* Beyond 4:1 the ratio is clamped to what the API accepts. */
  g_autofree gchar *c = wanx_size_for_aspect (5000, 500, 1280 * 1280, 384, 2880, 16);
  gint w, h;
  g_assert_cmpint (sscanf (c, "%d*%d", &w, &h), ==, 2);
  g_assert_cmpint (w, <=, 4 * h);
}

static void
test_flux_aspect (void)
{
  static const struct { gint w, h; const char *ar; } cases[] = {
    { 1024, 1024, "1:1" }, { 1200, 800, "3:2" }, { 768, 1024, "3:4" }, { 1920, 1080, "16:9" },
    { 1080, 1920, "9:16" }, { 5000, 1000, "7:3" }, { 500, 3000, "3:7" }, { 5000, 3300, "3:2" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *ar = flux_aspect_string (cases[i].w, cases[i].h);
      g_assert_cmpstr (ar, ==, cases[i].ar);
    }
}

static void
test_flux_sizes (void)
{
  static const gint inputs[][2] = { { 1024, 1024 }, { 1200, 800 }, { 800, 1200 }, { 5000, 3300 }, { 4000, 500 },
                                    { 300, 3000 } };
  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      gint w, h;
      flux_size_for_aspect (inputs[i][0], inputs[i][1], &w, &h);
      g_assert_cmpint (w % 32, ==, 0);
      g_assert_cmpint (h % 32, ==, 0);
      g_assert_cmpint (w, >=, 256);
      g_assert_cmpint (w, <=, 1440);
      g_assert_cmpint (h, >=, 256);
      g_assert_cmpint (h, <=, 1440);
      double want = (double) inputs[i][0] / inputs[i][1], got = (double) w / h;
      /* Exact up to rounding to 32, unless the ratio itself is beyond 1440:256. */
      if (want < 5.6 && want > 1 / 5.6 && (got / want > 1.06 || want / got > 1.06))
        g_error ("%dx%d for %dx%d", w, h, inputs[i][0], inputs[i][1]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/units/wanx/classify", test_wanx_classify);
  g_test_add_func ("/units/wanx/results", test_wanx_results);
  g_test_add_func ("/units/wanx/parse-json", test_wanx_parse_json);
  g_test_add_func ("/units/wanx/sizes", test_wanx_sizes);
  g_test_add_func ("/units/flux/aspect", test_flux_aspect);
  g_test_add_func ("/units/flux/sizes", test_flux_sizes);
  return g_test_run ();
}
