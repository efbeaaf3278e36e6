/* The wanx plugin against the loopback DashScope emulator: every mode's
 * happy path, both upload paths, input fitting, and each fault mapped to
 * its error class. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include "prov-common.h"

#define KEY_ENV "VH_TEST_DASHSCOPE_KEY"
#define LEAK_KEY "sk-leakcheck-0123456789abcdef"

static VhEmu *emu;
static gchar *base;

/* An instance on the emulator with fast polling; extra pairs follow. */
#define wanx_new(error, ...) \
  prov_instance_new ("wanx", "wanx-test", error, "base_url", base, "api_key_env", KEY_ENV, \
                     "poll_first", "0ms", "poll_initial", "20ms", "poll_max", "200ms", "deadline", "20s", \
                     "request_timeout", "5s", __VA_ARGS__, NULL)

/* ------------------------------------------------------------ happy paths */

static void
test_t2i (void)
{
  prov_emu_reset (emu);
  GError *error = NULL;
  ProvInstance *inst = wanx_new (&error, "model", "wanx2.1-t2i-turbo", "seed", "42");
  g_assert_no_error (error);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "t2i", "a red bicycle in the rain", NULL, &out, NULL, &error));
  g_assert_no_error (error);
  gint w, h;
  prov_image_size (out, &w, &h);
  g_assert_cmpint (w, ==, 1024);
  g_assert_cmpint (h, ==, 1024);

  json_object *req = prov_last_request (emu, "text2image/image-synthesis");
  g_assert_cmpstr (json_object_get_string (prov_json_path (req, "headers.x-dashscope-async")), ==, "enable");
  g_assert_cmpstr (json_object_get_string (prov_json_path (req, "headers.authorization")), ==, "Bearer sk-test");
  g_assert_cmpint (json_object_get_int (prov_json_path (req, "json.parameters.n")), ==, 1);
  g_assert_cmpstr (json_object_get_string (prov_json_path (req, "json.parameters.size")), ==, "1024*1024");
  g_assert_cmpint (json_object_get_int (prov_json_path (req, "json.parameters.seed")), ==, 42);
  json_object_put (req);

  /* The result download never carries the key. */
  json_object *dl = prov_last_request (emu, "/results/");
  g_assert_null (prov_json_path (dl, "headers.authorization"));
  json_object_put (dl);
  vh_image_free (out);
  prov_instance_free (inst);
}

static void
test_t2i_size_option (void)
{
  prov_emu_reset (emu);
  GError *error = NULL;
  ProvInstance *inst = wanx_new (&error, "model", "wan2.2-t2i-flash", "size", "1280x720");
  g_assert_no_error (error);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "t2i", "a harbour at dusk", NULL, &out, NULL, &error));
  g_assert_no_error (error);
  json_object *req = prov_last_request (emu, "text2image/image-synthesis");
  g_assert_cmpstr (json_object_get_string (prov_json_path (req, "json.parameters.size")), ==, "1280*720");
  json_object_put (req);
  vh_image_free (out);
  prov_instance_free (inst);
}

static void
run_imageedit (const char *type, const char *upload, const char *expect_function, const char *extra_key,
               const char *extra_value)
{
  prov_emu_reset (emu);
  GError *error = NULL;
  ProvInstance *inst = wanx_new (&error, "model", "wanx2.1-imageedit", "upload", upload,
                                 extra_key != NULL ? extra_key : "strength",
                                 extra_value != NULL ? extra_value : "0.6");
  g_assert_no_error (error);
  g_autoptr(VhImage) in = prov_image (900, 600, VH_FORMAT_JPEG);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, type, "把招牌上的文字改成“营业中”", in, &out, NULL, &error));
  g_assert_no_error (error);
  prov_assert_aspect (out, 900, 600, 1.03);

  json_object *req = prov_last_request (emu, "image2image/image-synthesis");
  g_assert_cmpstr (json_object_get_string (prov_json_path (req, "json.input.function")), ==, expect_function);
  const char *ref = json_object_get_string (prov_json_path (req, "json.input.base_image_url"));
  if (!strcmp (upload, "oss"))
    {
      g_assert_true (g_str_has_prefix (ref, "oss://"));
      g_assert_cmpstr (json_object_get_string (prov_json_path (req, "headers.x-dashscope-ossresourceresolve")),
                       ==, "enable");
      json_object *up = prov_last_request (emu, "/oss");
      g_assert_null (prov_json_path (up, "headers.authorization"));   /* OSS never sees the key */
      json_object_put (up);
    }
  else
    {
      g_assert_true (g_str_has_prefix (ref, "data:image/"));
      g_assert_null (prov_json_path (req, "headers.x-dashscope-ossresourceresolve"));
    }
  json_object_put (req);
  vh_image_free (out);
  prov_instance_free (inst);
}

static void
test_imageedit_tie_base64 (void)
{
  run_imageedit ("tie", "base64", "description_edit", NULL, NULL);
}

static void
test_imageedit_tie_oss (void)
{
  run_imageedit ("tie", "oss", "description_edit", NULL, NULL);
}

static void
test_imageedit_vttie_function (void)
{
  run_imageedit ("vttie", "base64", "stylization_local", "vttie_function", "stylization_local");
}

static void
test_imageedit_mask (void)
{
  prov_emu_reset (emu);
  g_autofree gchar *dir = g_dir_make_tmp ("wanx-mask-XXXXXX", NULL);
  g_autofree gchar *mask_path = g_build_filename (dir, "7.png", NULL);
  g_autofree gchar *template = g_build_filename (dir, "{index}.png", NULL);
  /* A mask of another size: the plugin scales it to the base image. */
  g_autoptr(VhImage) mask = prov_image (300, 200, VH_FORMAT_PNG);
  g_assert_true (g_file_set_contents (mask_path, g_bytes_get_data (mask->bytes, NULL),
                                      g_bytes_get_size (mask->bytes), NULL));
  GError *error = NULL;
  ProvInstance *inst = wanx_new (&error, "model", "wanx2.1-imageedit", "mask", template);
  g_assert_no_error (error);
  g_autoptr(VhImage) in = prov_image (1024, 768, VH_FORMAT_JPEG);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "vttie", "replace the sign's text with OPEN", in, &out, NULL, &error));
  g_assert_no_error (error);
  json_object *req = prov_last_request (emu, "image2image/image-synthesis");
  g_assert_cmpstr (json_object_get_string (prov_json_path (req, "json.input.function")), ==,
                   "description_edit_with_mask");
  g_assert_nonnull (prov_json_path (req, "json.input.mask_image_url"));
  g_assert_null (prov_json_path (req, "json.parameters.strength"));
  json_object_put (req);
  vh_image_free (out);
  prov_instance_free (inst);
  g_unlink (mask_path);
  g_rmdir (dir);
}

static void
run_qwen (const char *model, const char *upload, gboolean expect_size)
{
  prov_emu_reset (emu);
  GError *error = NULL;
  ProvInstance *inst = wanx_new (&error, "model", model, "upload", upload);
  g_assert_no_error (error);
  g_autoptr(VhImage) in = prov_image (1200, 800, VH_FORMAT_JPEG);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "vttie", "Replace the words on the sign with \"OPEN\"", in, &out, NULL, &error));
  g_assert_no_error (error);
  prov_assert_aspect (out, 1200, 800, 1.03);
  json_object *req = prov_last_request (emu, "multimodal-generation/generation");
  g_assert_null (prov_json_path (req, "headers.x-dashscope-async"));
  g_assert_cmpint (json_object_get_int (prov_json_path (req, "json.parameters.n")), ==, 1);
  g_assert_true ((prov_json_path (req, "json.parameters.size") != NULL) == expect_size);
  const char *ref = json_object_get_string (prov_json_path (req, "json.input.messages.0.content.0.image"));
  g_assert_true (g_str_has_prefix (ref, !strcmp (upload, "oss") ? "oss://" : "data:image/"));
  json_object_put (req);
  vh_image_free (out);
  prov_instance_free (inst);
}

static void
test_qwen_edit_base64 (void)
{
  run_qwen ("qwen-image-edit", "base64", FALSE);
}

static void
test_qwen_edit_plus_oss (void)
{
  run_qwen ("qwen-image-edit-plus", "oss", TRUE);
}

static void
test_i2i (void)
{
  prov_emu_reset (emu);
  GError *error = NULL;
  ProvInstance *inst = wanx_new (&error, "model", "wan2.5-i2i-preview");
  g_assert_no_error (error);
  g_autoptr(VhImage) in = prov_image (1600, 900, VH_FORMAT_JPEG);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "tie", "make it snow", in, &out, NULL, &error));
  g_assert_no_error (error);
  prov_assert_aspect (out, 1600, 900, 1.03);
  vh_image_free (out);
  prov_instance_free (inst);
}

/* A 5000x3300 PNG with alpha is over every limit of imageedit (4096 per
 * side) and of a data URI: it must arrive fitted, at the same aspect. */
static void
test_large_input_fitted (void)
{
  prov_emu_reset (emu);
  GError *error = NULL;
  ProvInstance *inst = wanx_new (&error, "model", "wanx2.1-imageedit");
  g_assert_no_error (error);
  g_autoptr(VhImage) in = prov_rgba_png (5000, 3300);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "tie", "add a rainbow", in, &out, NULL, &error));
  g_assert_no_error (error);
  gint w, h;
  prov_image_size (out, &w, &h);
  g_assert_cmpint (MAX (w, h), <=, 4096);
  prov_assert_aspect (out, 5000, 3300, 1.03);
  json_object *req = prov_last_request (emu, "image2image/image-synthesis");
  g_assert_cmpint (json_object_get_int64 (prov_json_path (req, "body_size")), <, 10 * 1024 * 1024);
  json_object_put (req);
  vh_image_free (out);
  prov_instance_free (inst);
}

static void
test_wrong_task_type (void)
{
  GError *error = NULL;
  ProvInstance *inst = wanx_new (&error, "model", "wanx2.1-t2i-turbo");
  g_assert_no_error (error);
  g_autoptr(VhImage) in = prov_image (640, 640, VH_FORMAT_JPEG);
  VhImage *out = NULL;
  g_assert_false (prov_run (inst, "tie", "edit", in, &out, NULL, &error));
  prov_assert_class (error, VH_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  prov_instance_free (inst);
}

/* ------------------------------------------------------------ faults */

/* One t2i row with `faults` installed; returns the error (never success). */
static GError *
t2i_with_fault (const char *faults, const char *deadline)
{
  prov_emu_reset (emu);
  prov_emu_faults (emu, faults);
  GError *error = NULL;
  ProvInstance *inst = prov_instance_new ("wanx", "wanx-test", &error, "base_url", base, "api_key_env", KEY_ENV,
                                          "model", "wanx2.1-t2i-turbo", "poll_first", "0ms", "poll_initial", "20ms",
                                          "poll_max", "100ms", "deadline", deadline,
                                          "request_timeout", "1500ms", NULL);
  g_assert_no_error (error);
  VhImage *out = NULL;
  gboolean ok = prov_run (inst, "t2i", "a lighthouse", NULL, &out, NULL, &error);
  if (ok)
    g_error ("expected a failure with faults %s", faults);
  prov_instance_free (inst);
  prov_emu_reset (emu);
  return error;
}

static void
test_fault_429 (void)
{
  GError *error = t2i_with_fault ("[{\"type\": \"http_429\", \"endpoint\": \"dashscope.text2image\", "
                                  "\"retry_after_s\": 3, \"next\": 1}]", "10s");
  prov_assert_class (error, VH_ERROR_QUOTA);
  g_assert_cmpint (vh_error_retry_after_ms (error), ==, 3000);
  g_error_free (error);
}

static void
test_fault_500 (void)
{
  GError *error = t2i_with_fault ("[{\"type\": \"http_500\", \"endpoint\": \"dashscope.text2image\", \"next\": 1}]",
                                  "10s");
  prov_assert_class (error, VH_ERROR_TRANSIENT);
  g_error_free (error);
}

static void
test_fault_503 (void)
{
  GError *error = t2i_with_fault ("[{\"type\": \"http_503\", \"endpoint\": \"dashscope.text2image\", \"next\": 1}]",
                                  "10s");
  prov_assert_class (error, VH_ERROR_TRANSIENT);
  g_error_free (error);
}

/* Polls survive a few 503s (the SDK keeps polling on 503/504). */
static void
test_poll_survives_503 (void)
{
  prov_emu_reset (emu);
  prov_emu_faults (emu, "[{\"type\": \"http_503\", \"endpoint\": \"dashscope.tasks\", \"next\": 2}]");
  GError *error = NULL;
  ProvInstance *inst = wanx_new (&error, "model", "wanx2.1-t2i-turbo");
  g_assert_no_error (error);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "t2i", "a lighthouse", NULL, &out, NULL, &error));
  g_assert_no_error (error);
  vh_image_free (out);
  prov_instance_free (inst);
}

/* ...and a few garbage answers and a hung poll (the task lives on). */
static void
test_poll_survives_garbage (void)
{
  prov_emu_reset (emu);
  prov_emu_faults (emu, "[{\"type\": \"malformed_json\", \"endpoint\": \"dashscope.tasks\", \"next\": 3},"
                   " {\"type\": \"hang\", \"endpoint\": \"dashscope.tasks\", \"next\": 1}]");
  GError *error = NULL;
  ProvInstance *inst = wanx_new (&error, "model", "wanx2.1-t2i-turbo", "request_timeout", "1s");
  g_assert_no_error (error);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "t2i", "a lighthouse", NULL, &out, NULL, &error));
  g_assert_no_error (error);
  vh_image_free (out);
  prov_instance_free (inst);
}

static void
test_fault_hang (void)
{
  gint64 start = g_get_monotonic_time ();
  GError *error = t2i_with_fault ("[{\"type\": \"hang\", \"endpoint\": \"dashscope.text2image\", \"next\": 1}]",
                                  "10s");
  gint64 ms = (g_get_monotonic_time () - start) / 1000;
  prov_assert_class (error, VH_ERROR_TRANSIENT);
  g_assert_cmpint (ms, <, 5000);   /* request_timeout 1.5 s, not the deadline */
  g_error_free (error);
}

static void
test_fault_malformed (void)
{
  GError *error = t2i_with_fault ("[{\"type\": \"malformed_json\", \"endpoint\": \"dashscope.text2image\", "
                                  "\"next\": 1}]", "10s");
  prov_assert_class (error, VH_ERROR_INTERNAL);
  g_error_free (error);
}

/* A result cut short is fetched again from the same URL: a new task would
 * cost a whole generation.  Only when every attempt fails does the row fail,
 * TRANSIENT, saying how often it tried. */
static void
test_fault_truncated_image (void)
{
  GError *error = t2i_with_fault ("[{\"type\": \"truncated_body\", \"endpoint\": \"results\", \"next\": 3}]", "10s");
  prov_assert_class (error, VH_ERROR_TRANSIENT);
  g_assert_nonnull (strstr (error->message, "attempt 3 of 3"));
  g_error_free (error);
}

static void
test_truncated_image_fetched_again (void)
{
  prov_emu_reset (emu);
  prov_emu_faults (emu, "[{\"type\": \"truncated_body\", \"endpoint\": \"results\", \"next\": 2}]");
  GError *error = NULL;
  ProvInstance *inst = wanx_new (&error, "model", "wanx2.1-t2i-turbo");
  g_assert_no_error (error);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "t2i", "a lighthouse", NULL, &out, NULL, &error));
  g_assert_no_error (error);
  vh_image_free (out);
  json_object *log = prov_requests (emu);
  g_autoptr (GPtrArray) submits = prov_requests_matching (log, "text2image");
  g_autoptr (GPtrArray) downloads = prov_requests_matching (log, "/results/");
  g_assert_cmpuint (submits->len, ==, 1);     /* no second generation */
  g_assert_cmpuint (downloads->len, ==, 3);   /* two cut short, the third whole */
  json_object_put (log);
  prov_instance_free (inst);
}

static void
test_fault_expired_url (void)
{
  GError *error = t2i_with_fault ("[{\"type\": \"expired_url\", \"next\": 1}]", "10s");
  prov_assert_class (error, VH_ERROR_TRANSIENT);
  g_error_free (error);
}

static void
test_fault_moderation (void)
{
  GError *error = t2i_with_fault ("[{\"type\": \"moderation\", \"next\": 1}]", "10s");
  prov_assert_class (error, VH_ERROR_REJECTED);
  g_error_free (error);
}

static void
test_fault_task_failed (void)
{
  GError *error = t2i_with_fault ("[{\"type\": \"task_failed\", \"code\": \"InternalError.Timeout\", "
                                  "\"message\": \"An internal timeout error has occured\", \"next\": 1}]", "10s");
  prov_assert_class (error, VH_ERROR_TRANSIENT);
  g_error_free (error);
}

static void
test_fault_partial (void)
{
  /* n = 1: the only result element is {code, message} in a SUCCEEDED task. */
  GError *error = t2i_with_fault ("[{\"type\": \"partial_failure\", \"next\": 1}]", "10s");
  g_assert_true (vh_error_class (error) == VH_ERROR_TRANSIENT || vh_error_class (error) == VH_ERROR_INTERNAL);
  g_error_free (error);
}

static void
test_fault_stuck_deadline (void)
{
  gint64 start = g_get_monotonic_time ();
  GError *error = t2i_with_fault ("[{\"type\": \"stuck\", \"next\": 1}]", "1500ms");
  gint64 ms = (g_get_monotonic_time () - start) / 1000;
  prov_assert_class (error, VH_ERROR_TRANSIENT);
  g_assert_nonnull (strstr (error->message, "deadline"));
  g_assert_cmpint (ms, <, 5000);
  g_error_free (error);
}

static void
test_throttling_code (void)
{
  GError *error = t2i_with_fault ("[{\"type\": \"http_429\", \"endpoint\": \"dashscope.text2image\", "
                                  "\"code\": \"Throttling.RateQuota\", \"next\": 1}]", "10s");
  prov_assert_class (error, VH_ERROR_QUOTA);
  g_error_free (error);
}

static gpointer
cancel_later (gpointer cancel)
{
  g_usleep (300 * 1000);
  g_cancellable_cancel (cancel);
  return NULL;
}

static void
test_cancel_while_polling (void)
{
  prov_emu_reset (emu);
  prov_emu_faults (emu, "[{\"type\": \"stuck\", \"next\": 1}]");
  GError *error = NULL;
  ProvInstance *inst = wanx_new (&error, "model", "wanx2.1-t2i-turbo");
  g_assert_no_error (error);
  GCancellable *cancel = g_cancellable_new ();
  GThread *th = g_thread_new ("cancel", cancel_later, cancel);
  gint64 start = g_get_monotonic_time ();
  VhImage *out = NULL;
  g_assert_false (prov_run (inst, "t2i", "a lighthouse", NULL, &out, cancel, &error));
  prov_assert_class (error, VH_ERROR_CANCELLED);
  g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, <, 3000);
  g_thread_join (th);
  g_clear_error (&error);
  g_object_unref (cancel);
  prov_instance_free (inst);
  prov_emu_reset (emu);
}

static void
test_bad_key (void)
{
  prov_emu_reset (emu);
  GError *error = NULL;
  ProvInstance *inst = prov_instance_new ("wanx", "wanx-test", &error, "base_url", base,
                                          "api_key_env", "VH_TEST_BAD_KEY", "model", "wanx2.1-t2i-turbo", NULL);
  g_assert_no_error (error);
  VhImage *out = NULL;
  g_assert_false (prov_run (inst, "t2i", "a lighthouse", NULL, &out, NULL, &error));
  prov_assert_class (error, VH_ERROR_AUTH);
  g_clear_error (&error);
  prov_instance_free (inst);
}

static void
test_missing_key (void)
{
  GError *error = NULL;
  ProvInstance *inst = prov_instance_new ("wanx", "wanx-test", &error, "base_url", base,
                                          "api_key_env", "VH_TEST_UNSET_KEY", NULL);
  g_assert_null (inst);
  prov_assert_class (error, VH_ERROR_AUTH);
  g_clear_error (&error);
}

/* A failing request at full debug verbosity: neither the log (sink and
 * stderr) nor the error message may contain the key. */
static void
test_key_not_logged (void)
{
  const char *secret = LEAK_KEY;
  prov_emu_reset (emu);
  g_autofree gchar *errfile = g_build_filename (g_get_tmp_dir (), "wanx-leak-XXXXXX", NULL);
  int fd = g_mkstemp (errfile);
  g_assert_cmpint (fd, >=, 0);
  fflush (stderr);
  int saved = dup (2);
  dup2 (fd, 2);
  prov_log_capture_start ();

  GError *error = NULL;
  ProvInstance *inst = prov_instance_new ("wanx", "wanx-test", &error, "base_url", base,
                                          "api_key_env", "VH_TEST_LEAK_KEY", "model", "wanx2.1-t2i-turbo",
                                          "upload", "oss", NULL);
  g_assert_no_error (error);
  VhImage *out = NULL;
  gboolean ok = prov_run (inst, "t2i", "a lighthouse", NULL, &out, NULL, &error);
  vh_log (VH_LOG_ERROR, "test", "row failed: %s", error != NULL ? error->message : "");

  g_autofree gchar *logged = prov_log_capture_stop ();
  fflush (stderr);
  dup2 (saved, 2);
  close (saved);
  g_autofree gchar *err_text = NULL;
  g_assert_true (g_file_get_contents (errfile, &err_text, NULL, NULL));
  close (fd);
  g_unlink (errfile);

  g_assert_false (ok);
  prov_assert_class (error, VH_ERROR_AUTH);
  g_assert_null (strstr (error->message, secret));
  g_assert_null (strstr (logged, secret));
  g_assert_null (strstr (err_text, secret));
  g_assert_cmpuint (strlen (logged), >, 0);   /* the debug lines did run */
  g_clear_error (&error);
  prov_instance_free (inst);
}

static void
test_create_rejects_bad_options (void)
{
  GError *error = NULL;
  g_assert_null (prov_instance_new ("wanx", "x", &error, "api_key_env", KEY_ENV, "size", "big", NULL));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_null (prov_instance_new ("wanx", "x", &error, "api_key_env", KEY_ENV, "strength", "1.5", NULL));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_null (prov_instance_new ("wanx", "x", &error, "api_key_env", KEY_ENV, "base_url", "ftp://x", NULL));
  g_assert_nonnull (error);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Environment first: setenv is not thread-safe once threads run. */
  g_setenv (KEY_ENV, "sk-test", TRUE);
  g_setenv ("VH_TEST_BAD_KEY", "sk-wrong-9f8e7d6c5b4a", TRUE);
  g_setenv ("VH_TEST_LEAK_KEY", LEAK_KEY, TRUE);
  g_unsetenv ("VH_TEST_UNSET_KEY");
  emu = prov_emu_start ("");
  base = prov_dashscope_base (emu);

  g_test_add_func ("/wanx/t2i", test_t2i);
  g_test_add_func ("/wanx/t2i-size-option", test_t2i_size_option);
  g_test_add_func ("/wanx/imageedit/tie-base64", test_imageedit_tie_base64);
  g_test_add_func ("/wanx/imageedit/tie-oss", test_imageedit_tie_oss);
  g_test_add_func ("/wanx/imageedit/vttie-function", test_imageedit_vttie_function);
  g_test_add_func ("/wanx/imageedit/mask", test_imageedit_mask);
  g_test_add_func ("/wanx/qwen-edit/base64", test_qwen_edit_base64);
  g_test_add_func ("/wanx/qwen-edit/plus-oss", test_qwen_edit_plus_oss);
  g_test_add_func ("/wanx/i2i", test_i2i);
  g_test_add_func ("/wanx/large-input-fitted", test_large_input_fitted);
  g_test_add_func ("/wanx/wrong-task-type", test_wrong_task_type);
  g_test_add_func ("/wanx/fault/429-retry-after", test_fault_429);
  g_test_add_func ("/wanx/fault/throttling-code", test_throttling_code);
  g_test_add_func ("/wanx/fault/500", test_fault_500);
  g_test_add_func ("/wanx/fault/503", test_fault_503);
  g_test_add_func ("/wanx/fault/poll-survives-503", test_poll_survives_503);
  g_test_add_func ("/wanx/fault/poll-survives-garbage", test_poll_survives_garbage);
  g_test_add_func ("/wanx/fault/hang", test_fault_hang);
  g_test_add_func ("/wanx/fault/malformed-json", test_fault_malformed);
  g_test_add_func ("/wanx/fault/truncated-image", test_fault_truncated_image);
  g_test_add_func ("/wanx/fault/truncated-image-fetched-again", test_truncated_image_fetched_again);
  g_test_add_func ("/wanx/fault/expired-url", test_fault_expired_url);
  g_test_add_func ("/wanx/fault/moderation", test_fault_moderation);
  g_test_add_func ("/wanx/fault/task-failed", test_fault_task_failed);
  g_test_add_func ("/wanx/fault/partial", test_fault_partial);
  g_test_add_func ("/wanx/fault/stuck-deadline", test_fault_stuck_deadline);
  g_test_add_func ("/wanx/cancel-while-polling", test_cancel_while_polling);
  g_test_add_func ("/wanx/bad-key", test_bad_key);
  g_test_add_func ("/wanx/missing-key", test_missing_key);
  g_test_add_func ("/wanx/key-not-logged", test_key_not_logged);
  g_test_add_func ("/wanx/create-rejects-bad-options", test_create_rejects_bad_options);

  int rc = g_test_run ();
  vh_emu_stop (emu);
  g_free (base);
  return rc;
}
