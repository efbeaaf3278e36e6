/* The run report: report.json's content, and report.html opened for real in
 * Debian's headless Chromium (no console errors, one card per row, a
 * screenshot left in the build tree for a person to look at). */
#include "test-util.h"
#include <json-c/json.h>
#include <string.h>
#include <glib/gstdio.h>

static gchar *dir, *out;

static void
make_run (void)
{
  dir = vht_tmpdir ();
  out = g_build_filename (dir, "out", NULL);
  vht_make_tasks (dir, 3);
  vht_write (dir, "p.ini",
             "[vhost]\ntasks = task.csv\nimages = .\nworkers = 3\n"
             "[instance gen]\nplugin = testgen\nfail_rows = 2\nfail_class = rejected\n"
             "[instance copy]\nplugin = testgen\nmode = copy\n"
             "[route t2i]\nchain = gen\n[route tie]\nchain = copy\n[route vttie]\nchain = copy\n[route deepfake]\nchain = gen\n");
  g_autofree gchar *ini = g_build_filename (dir, "p.ini", NULL);
  g_autoptr (VhtResult) r = vht_vhost (NULL, "--config", ini, "--quiet", NULL);
  g_assert_cmpint (r->status, ==, 2);   /* row 2 fails on purpose */
}

static void
test_json (void)
{
  g_autofree gchar *path = g_build_filename (out, "report.json", NULL);
  json_object *root = json_object_from_file (path), *rows, *summary, *t2i, *v, *row2;
  g_assert_nonnull (root);
  g_assert_true (json_object_object_get_ex (root, "rows", &rows));
  g_assert_cmpuint (json_object_array_length (rows), ==, 12);
  row2 = json_object_array_get_idx (rows, 1);
  g_assert_true (json_object_object_get_ex (row2, "status", &v));
  g_assert_cmpstr (json_object_get_string (v), ==, "failed");
  g_assert_true (json_object_object_get_ex (row2, "class", &v));
  g_assert_cmpstr (json_object_get_string (v), ==, "rejected");
  g_assert_true (json_object_object_get_ex (row2, "ms", &v));
  g_assert_true (json_object_object_get_ex (root, "summary", &summary));
  g_assert_true (json_object_object_get_ex (summary, "t2i", &t2i));
  g_assert_true (json_object_object_get_ex (t2i, "failed", &v));
  g_assert_cmpint (json_object_get_int (v), ==, 1);
  g_assert_true (json_object_object_get_ex (t2i, "done", &v));
  g_assert_cmpint (json_object_get_int (v), ==, 2);
  g_assert_true (json_object_object_get_ex (root, "instances", &v));
  g_assert_cmpuint (json_object_array_length (v), ==, 2);
  json_object_put (root);
}

static void
test_html_self_contained (void)
{
  g_autofree gchar *path = g_build_filename (out, "report.html", NULL);
  g_autofree gchar *html = vht_read (path);
  g_assert_nonnull (html);
  /* No resource from the network: every image is a data: URI. */
  g_assert_null (strstr (html, "src=\"http"));
  g_assert_null (strstr (html, "href=\"http"));
  g_assert_null (strstr (html, "url(http"));
  g_assert_nonnull (strstr (html, "src=\"data:image/jpeg;base64,"));
  /* Prompts are escaped, Chinese kept. */
  g_assert_nonnull (strstr (html, "把“猫”画成 &quot;蓝色&quot;"));
}

static const char *
chromium (void)
{
  return g_file_test ("/usr/bin/chromium", G_FILE_TEST_IS_EXECUTABLE) ? "/usr/bin/chromium" : NULL;
}

static gchar *
run_chromium (const char *mode_arg, const char *url, gchar **err_out)
{
  g_autofree gchar *profile = vht_tmpdir ();
  g_autofree gchar *profile_arg = g_strdup_printf ("--user-data-dir=%s", profile);
  const char *argv[] = { chromium (), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--enable-logging=stderr", "--v=0", "--window-size=1280,1600",
                         profile_arg, mode_arg, url, NULL };
  gchar *out_text = NULL;
  gint status = 0;
  GError *e = NULL;
  g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out_text, err_out, &status, &e);
  g_assert_no_error (e);
  vht_rm_rf (profile);
  return out_text;
}

static void
test_html_in_chromium (void)
{
  /* Debian's chromium is installed by quickstart.sh; without it this test
   * fails rather than pretending to pass. */
  g_assert_nonnull (chromium ());
  g_autofree gchar *path = g_build_filename (out, "report.html", NULL);
  g_autofree gchar *url = g_filename_to_uri (path, NULL, NULL);
  g_autofree gchar *err = NULL;
  g_autofree gchar *dom = run_chromium ("--dump-dom", url, &err);
  g_assert_nonnull (dom);
  /* The inline script ran and counted one card per row. */
  g_assert_nonnull (strstr (dom, "data-cards=\"12\""));
  g_assert_nonnull (strstr (dom, "12 / 12"));
  guint cards = 0;
  for (const char *p = dom; (p = strstr (p, "class=\"card ")); p++)
    cards++;
  g_assert_cmpuint (cards, ==, 12);
  /* No console error and no failed resource load. */
  g_assert_null (strstr (err, "Uncaught"));
  g_assert_null (strstr (err, ":ERROR:CONSOLE"));
  g_assert_null (strstr (err, "Failed to load resource"));
  /* A screenshot a person can look at, left in the build tree. */
  g_autofree gchar *shot = g_build_filename (g_getenv ("VH_BUILDDIR"), "tests", "report-screenshot.png", NULL);
  g_autofree gchar *shot_arg = g_strdup_printf ("--screenshot=%s", shot);
  g_remove (shot);
  g_autofree gchar *err2 = NULL;
  g_autofree gchar *ignored = run_chromium (shot_arg, url, &err2);
  gchar *png = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (shot, &png, &len, NULL));
  g_assert_cmpuint (len, >, 10000);
  g_assert_true (memcmp (png, "\x89PNG", 4) == 0);
  g_free (png);
  g_test_message ("screenshot: %s", shot);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  make_run ();
  g_test_add_func ("/report/json", test_json);
  g_test_add_func ("/report/html-self-contained", test_html_self_contained);
  g_test_add_func ("/report/html-in-chromium", test_html_in_chromium);
  int rc = g_test_run ();
  vht_rm_rf (dir);
  g_free (dir);
  g_free (out);
  return rc;
}
