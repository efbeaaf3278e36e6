/* The flux-remote plugin against the loopback BFL emulator: t2i with each
 * request shape, Kontext edits with base64 input at the input's aspect,
 * polling_url followed, and each status / fault mapped to its class. */
#include <string.h>
#include "prov-common.h"

#define KEY_ENV "VH_TEST_BFL_KEY"

static VhEmu *emu;
static gchar *base;

#define flux_new(error, ...) \
  prov_instance_new ("flux-remote", "flux-test", error, "base_url", base, "api_key_env", KEY_ENV, \
                     "poll_first", "0ms", "poll_initial", "20ms", "poll_max", "200ms", "deadline", "20s", \
                     "request_timeout", "5s", __VA_ARGS__, NULL)

static void
test_t2i_pro (void)
{
  prov_emu_reset (emu);
  GError *error = NULL;
  ProvInstance *inst = flux_new (&error, "model", "flux-pro-1.1", "width", "1440", "height", "800", "seed", "5");
  g_assert_no_error (error);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "t2i", "a fox in the snow", NULL, &out, NULL, &error));
  g_assert_no_error (error);
  gint w, h;
  prov_image_size (out, &w, &h);
  g_assert_cmpint (w, ==, 1440);
  g_assert_cmpint (h, ==, 800);
  json_object *req = prov_last_request (emu, "/v1/flux-pro-1.1");
  g_assert_cmpstr (json_object_get_string (prov_json_path (req, "headers.x-key")), ==, "bfl-test");
  g_assert_cmpint (json_object_get_int (prov_json_path (req, "json.width")), ==, 1440);
  g_assert_cmpint (json_object_get_int (prov_json_path (req, "json.seed")), ==, 5);
  json_object_put (req);
  /* Polls went to the returned polling_url; the sample download has no key. */
  json_object *poll = prov_last_request (emu, "/get_result");
  g_assert_cmpstr (json_object_get_string (prov_json_path (poll, "method")), ==, "GET");
  json_object_put (poll);
  json_object *dl = prov_last_request (emu, "/results/");
  g_assert_null (prov_json_path (dl, "headers.x-key"));
  json_object_put (dl);
  vh_image_free (out);
  prov_instance_free (inst);
}

static void
test_t2i_dev_default_size (void)
{
  prov_emu_reset (emu);
  GError *error = NULL;
  ProvInstance *inst = flux_new (&error, "model", "flux-dev", "steps", "20", "guidance", "3.5");
  g_assert_no_error (error);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "t2i", "a fox in the snow", NULL, &out, NULL, &error));
  g_assert_no_error (error);
  gint w, h;
  prov_image_size (out, &w, &h);
  g_assert_cmpint (w, ==, 1024);
  g_assert_cmpint (h, ==, 1024);
  vh_image_free (out);
  prov_instance_free (inst);
}

static void
test_t2i_ultra (void)
{
  prov_emu_reset (emu);
  GError *error = NULL;
  ProvInstance *inst = flux_new (&error, "model", "flux-pro-1.1-ultra", "aspect_ratio", "16:9");
  g_assert_no_error (error);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "t2i", "a fox in the snow", NULL, &out, NULL, &error));
  g_assert_no_error (error);
  json_object *req = prov_last_request (emu, "/v1/flux-pro-1.1-ultra");
  g_assert_cmpstr (json_object_get_string (prov_json_path (req, "json.aspect_ratio")), ==, "16:9");
  g_assert_null (prov_json_path (req, "json.width"));
  json_object_put (req);
  vh_image_free (out);
  prov_instance_free (inst);
}

static void
run_kontext (const char *model, const char *type, gint in_w, gint in_h, const char *expect_ratio)
{
  prov_emu_reset (emu);
  GError *error = NULL;
  ProvInstance *inst = flux_new (&error, "model", model);
  g_assert_no_error (error);
  g_autoptr(VhImage) in = prov_image (in_w, in_h, VH_FORMAT_JPEG);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, type, "make the sky purple", in, &out, NULL, &error));
  g_assert_no_error (error);
  prov_assert_aspect (out, in_w, in_h, 1.05);
  g_autofree gchar *path = g_strdup_printf ("/v1/%s", model);
  json_object *req = prov_last_request (emu, path);
  g_assert_cmpstr (json_object_get_string (prov_json_path (req, "json.aspect_ratio")), ==, expect_ratio);
  const char *img = json_object_get_string (prov_json_path (req, "json.input_image"));
  g_assert_nonnull (img);
  g_assert_false (g_str_has_prefix (img, "data:"));   /* plain base64 */
  json_object_put (req);
  vh_image_free (out);
  prov_instance_free (inst);
}

static void
test_kontext_tie (void)
{
  run_kontext ("flux-kontext-pro", "tie", 1200, 800, "3:2");
}

static void
test_kontext_vttie_max (void)
{
  run_kontext ("flux-kontext-max", "vttie", 768, 1024, "3:4");
}

static void
test_kontext_large_input (void)
{
  prov_emu_reset (emu);
  GError *error = NULL;
  ProvInstance *inst = flux_new (&error, "model", "flux-kontext-pro");
  g_assert_no_error (error);
  g_autoptr(VhImage) in = prov_rgba_png (5000, 3300);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "tie", "add a rainbow", in, &out, NULL, &error));
  g_assert_no_error (error);
  json_object *req = prov_last_request (emu, "/v1/flux-kontext-pro");
  g_assert_cmpint (json_object_get_int64 (prov_json_path (req, "body_size")), <, 14 * 1000 * 1000);
  g_assert_cmpstr (json_object_get_string (prov_json_path (req, "json.aspect_ratio")), ==, "3:2");
  json_object_put (req);
  vh_image_free (out);
  prov_instance_free (inst);
}

static void
test_edit_needs_kontext (void)
{
  GError *error = NULL;
  ProvInstance *inst = flux_new (&error, "model", "flux-pro-1.1");
  g_assert_no_error (error);
  g_autoptr(VhImage) in = prov_image (640, 480, VH_FORMAT_JPEG);
  VhImage *out = NULL;
  g_assert_false (prov_run (inst, "tie", "edit", in, &out, NULL, &error));
  prov_assert_class (error, VH_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  prov_instance_free (inst);
}

/* ------------------------------------------------------------ faults */

static GError *
kontext_with (const char *config_json, const char *deadline)
{
  prov_emu_reset (emu);
  GError *error = NULL;
  g_assert_true (vh_emu_configure (emu, config_json, &error));
  g_assert_no_error (error);
  ProvInstance *inst = prov_instance_new ("flux-remote", "flux-test", &error, "base_url", base,
                                          "api_key_env", KEY_ENV, "model", "flux-kontext-pro",
                                          "poll_first", "0ms", "poll_initial", "20ms", "poll_max", "100ms", "deadline", deadline,
                                          "request_timeout", "1500ms", NULL);
  g_assert_no_error (error);
  g_autoptr(VhImage) in = prov_image (640, 480, VH_FORMAT_JPEG);
  VhImage *out = NULL;
  if (prov_run (inst, "tie", "make it night", in, &out, NULL, &error))
    g_error ("expected a failure with %s", config_json);
  prov_instance_free (inst);
  prov_emu_reset (emu);
  return error;
}

#define FAULT(json) "{\"faults\": [" json "]}"

static void
test_request_moderated (void)
{
  GError *e = kontext_with (FAULT ("{\"type\": \"moderation_input\", \"next\": 1}"), "10s");
  prov_assert_class (e, VH_ERROR_REJECTED);
  g_assert_nonnull (strstr (e->message, "Request Moderated"));
  g_error_free (e);
}

static void
test_content_moderated (void)
{
  GError *e = kontext_with (FAULT ("{\"type\": \"moderation_output\", \"next\": 1}"), "10s");
  prov_assert_class (e, VH_ERROR_REJECTED);
  g_assert_nonnull (strstr (e->message, "Content Moderated"));
  g_error_free (e);
}

static void
test_status_error (void)
{
  GError *e = kontext_with (FAULT ("{\"type\": \"task_failed\", \"next\": 1}"), "10s");
  prov_assert_class (e, VH_ERROR_TRANSIENT);
  g_error_free (e);
}

static void
test_credits_402 (void)
{
  GError *e = kontext_with ("{\"bfl_credits\": 1}", "10s");
  prov_assert_class (e, VH_ERROR_AUTH);
  g_assert_nonnull (strstr (e->message, "402"));
  g_error_free (e);
}

static void
test_429_retry_after (void)
{
  GError *e = kontext_with (FAULT ("{\"type\": \"http_429\", \"endpoint\": \"bfl.flux-kontext-pro\", "
                                   "\"retry_after_s\": 4, \"next\": 1}"), "10s");
  prov_assert_class (e, VH_ERROR_QUOTA);
  g_assert_cmpint (vh_error_retry_after_ms (e), ==, 4000);
  g_error_free (e);
}

static void
test_5xx (void)
{
  GError *e = kontext_with (FAULT ("{\"type\": \"http_502\", \"endpoint\": \"bfl.flux-kontext-pro\", \"next\": 1}"),
                            "10s");
  prov_assert_class (e, VH_ERROR_TRANSIENT);
  g_error_free (e);
}

static void
test_hang (void)
{
  gint64 start = g_get_monotonic_time ();
  GError *e = kontext_with (FAULT ("{\"type\": \"hang\", \"endpoint\": \"bfl.flux-kontext-pro\", \"next\": 1}"),
                            "10s");
  prov_assert_class (e, VH_ERROR_TRANSIENT);
  g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, <, 5000);
  g_error_free (e);
}

static void
test_malformed (void)
{
  GError *e = kontext_with (FAULT ("{\"type\": \"malformed_json\", \"endpoint\": \"bfl.flux-kontext-pro\", "
                                   "\"next\": 1}"), "10s");
  prov_assert_class (e, VH_ERROR_INTERNAL);
  g_error_free (e);
}

static void
test_truncated (void)
{
  /* Fetched again twice from the same URL before the row gives up. */
  GError *e = kontext_with (FAULT ("{\"type\": \"truncated_body\", \"endpoint\": \"results\", \"next\": 3}"), "10s");
  prov_assert_class (e, VH_ERROR_TRANSIENT);
  g_assert_nonnull (strstr (e->message, "attempt 3 of 3"));
  g_error_free (e);
}

static void
test_expired (void)
{
  GError *e = kontext_with (FAULT ("{\"type\": \"expired_url\", \"next\": 1}"), "10s");
  prov_assert_class (e, VH_ERROR_TRANSIENT);
  g_error_free (e);
}

static void
test_stuck_deadline (void)
{
  gint64 start = g_get_monotonic_time ();
  GError *e = kontext_with (FAULT ("{\"type\": \"stuck\", \"next\": 1}"), "1500ms");
  prov_assert_class (e, VH_ERROR_TRANSIENT);
  g_assert_nonnull (strstr (e->message, "deadline"));
  g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, <, 5000);
  g_error_free (e);
}

/* "Task not found" right after submit is replication lag: poll on. */
static void
test_not_found_then_ready (void)
{
  prov_emu_reset (emu);
  prov_emu_faults (emu, "[{\"type\": \"task_not_found\", \"next\": 2}]");
  GError *error = NULL;
  ProvInstance *inst = flux_new (&error, "model", "flux-pro-1.1");
  g_assert_no_error (error);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "t2i", "a fox", NULL, &out, NULL, &error));
  g_assert_no_error (error);
  vh_image_free (out);
  prov_instance_free (inst);
  prov_emu_reset (emu);
}

/* Gateway errors and garbage while polling: the task lives on. */
static void
test_poll_survives_errors (void)
{
  prov_emu_reset (emu);
  prov_emu_faults (emu, "[{\"type\": \"http_503\", \"endpoint\": \"bfl.get_result\", \"next\": 2},"
                   " {\"type\": \"malformed_json\", \"endpoint\": \"bfl.get_result\", \"next\": 2}]");
  GError *error = NULL;
  ProvInstance *inst = flux_new (&error, "model", "flux-dev");
  g_assert_no_error (error);
  VhImage *out = NULL;
  g_assert_true (prov_run (inst, "t2i", "a fox", NULL, &out, NULL, &error));
  g_assert_no_error (error);
  vh_image_free (out);
  prov_instance_free (inst);
  prov_emu_reset (emu);
}

static void
test_bad_key (void)
{
  prov_emu_reset (emu);
  prov_log_capture_start ();
  GError *error = NULL;
  ProvInstance *inst = prov_instance_new ("flux-remote", "flux-test", &error, "base_url", base,
                                          "api_key_env", "VH_TEST_BFL_BAD", "model", "flux-pro-1.1", NULL);
  g_assert_no_error (error);
  VhImage *out = NULL;
  g_assert_false (prov_run (inst, "t2i", "a fox", NULL, &out, NULL, &error));
  vh_log (VH_LOG_ERROR, "test", "row failed: %s", error->message);
  g_autofree gchar *logged = prov_log_capture_stop ();
  prov_assert_class (error, VH_ERROR_AUTH);
  g_assert_null (strstr (error->message, "bfl-wrong-a1b2c3d4e5"));
  g_assert_null (strstr (logged, "bfl-wrong-a1b2c3d4e5"));
  g_clear_error (&error);
  prov_instance_free (inst);
}

static void
test_create_rejects_bad_options (void)
{
  GError *error = NULL;
  g_assert_null (prov_instance_new ("flux-remote", "x", &error, "api_key_env", KEY_ENV, "width", "1000", NULL));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_null (prov_instance_new ("flux-remote", "x", &error, "api_key_env", KEY_ENV, "aspect_ratio", "4:1", NULL));
  g_assert_nonnull (error);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_setenv (KEY_ENV, "bfl-test", TRUE);
  g_setenv ("VH_TEST_BFL_BAD", "bfl-wrong-a1b2c3d4e5", TRUE);
  emu = prov_emu_start ("");
  base = prov_bfl_base (emu);

  g_test_add_func ("/flux/t2i/pro", test_t2i_pro);
  g_test_add_func ("/flux/t2i/dev-default-size", test_t2i_dev_default_size);
  g_test_add_func ("/flux/t2i/ultra", test_t2i_ultra);
  g_test_add_func ("/flux/kontext/tie", test_kontext_tie);
  g_test_add_func ("/flux/kontext/vttie-max", test_kontext_vttie_max);
  g_test_add_func ("/flux/kontext/large-input", test_kontext_large_input);
  g_test_add_func ("/flux/edit-needs-kontext", test_edit_needs_kontext);
  g_test_add_func ("/flux/status/request-moderated", test_request_moderated);
  g_test_add_func ("/flux/status/content-moderated", test_content_moderated);
  g_test_add_func ("/flux/status/error", test_status_error);
  g_test_add_func ("/flux/status/not-found-then-ready", test_not_found_then_ready);
  g_test_add_func ("/flux/fault/402-credits", test_credits_402);
  g_test_add_func ("/flux/fault/429-retry-after", test_429_retry_after);
  g_test_add_func ("/flux/fault/5xx", test_5xx);
  g_test_add_func ("/flux/fault/hang", test_hang);
  g_test_add_func ("/flux/fault/malformed-json", test_malformed);
  g_test_add_func ("/flux/fault/truncated-image", test_truncated);
  g_test_add_func ("/flux/fault/expired-url", test_expired);
  g_test_add_func ("/flux/fault/stuck-deadline", test_stuck_deadline);
  g_test_add_func ("/flux/fault/poll-survives-errors", test_poll_survives_errors);
  g_test_add_func ("/flux/bad-key", test_bad_key);
  g_test_add_func ("/flux/create-rejects-bad-options", test_create_rejects_bad_options);

  int rc = g_test_run ();
  vh_emu_stop (emu);
  g_free (base);
  return rc;
}
