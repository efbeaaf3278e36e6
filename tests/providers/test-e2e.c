/* End to end: the real vhost binary runs a small task.csv through the wanx
 * and flux-remote plugins against the loopback emulator, as a user would. */
#include <string.h>
#include <json-c/json.h>
#include "vhost/plugin.h"
#include "test-util.h"
#include "emu-harness.h"

static VhEmu *emu;

typedef struct {
  gchar *dir, *ini, *out;
} Fixture;

/* Rows: 1-2 t2i, 3-4 tie (landscape / portrait), 5-6 vttie. */
static void
write_tasks (const char *dir)
{
  vht_write_image (dir, "imgs/a.jpg", 900, 600, FALSE);
  vht_write_image (dir, "imgs/b.png", 600, 800, TRUE);
  vht_write_image (dir, "imgs/c.jpg", 1024, 768, FALSE);
  vht_write (dir, "task.csv",
             "\xEF\xBB\xBF" "index,task_type,prompt,ori_image,target_image\r\n"
             "1,t2i,a red bicycle in the rain,,\r\n"
             "2,t2i,\"一只蓝色的猫, sitting\",,\r\n"
             "3,tie,make the sky purple,imgs/a.jpg,\r\n"
             "4,tie,add snow,imgs/b.png,\r\n"
             "5,vttie,\"Replace the sign's text with \"\"OPEN\"\"\",imgs/c.jpg,\r\n"
             "6,vttie,change the price to 9.99,imgs/a.jpg,");
}

static void
write_ini (Fixture *f, const char *wanx_extra)
{
  const char *url = vh_emu_base_url (emu);
  g_autofree gchar *ini = g_strdup_printf (
      "[vhost]\ntasks = task.csv\nimages = .\noutput = out\nworkers = 4\n\n"
      "[instance wanx-t2i]\nplugin = wanx\nmodel = wanx2.1-t2i-turbo\nbase_url = %s/api/v1\n"
      "api_key_env = E2E_DASHSCOPE_KEY\npoll_first = 0ms\npoll_initial = 20ms\npoll_max = 200ms\nconcurrency = 2\n%s\n\n"
      "[instance kontext]\nplugin = flux-remote\nmodel = flux-kontext-pro\nbase_url = %s/bfl\n"
      "api_key_env = E2E_BFL_KEY\npoll_first = 0ms\npoll_initial = 20ms\npoll_max = 200ms\nconcurrency = 4\n\n"
      "[instance qwen]\nplugin = wanx\nmodel = qwen-image-edit\nbase_url = %s/api/v1\n"
      "api_key_env = E2E_DASHSCOPE_KEY\nupload = oss\nconcurrency = 2\n\n"
      "[route t2i]\nchain = wanx-t2i\n[route tie]\nchain = kontext\n[route vttie]\nchain = qwen\n",
      url, wanx_extra != NULL ? wanx_extra : "", url, url);
  vht_write (f->dir, "pipeline.ini", ini);
}

static void
setup (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  g_assert_true (vh_emu_reset (emu, &error));
  vht_run_dir_new (&f->dir, &f->ini, &f->out);
  write_tasks (f->dir);
  write_ini (f, NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  vht_run_dir_free (f->dir, f->ini, f->out, "E2E_KEEP");
}

static void
assert_image (Fixture *f, const char *index, gint ref_w, gint ref_h)
{
  g_autofree gchar *name = g_strdup_printf ("imgs/%s.jpg", index);
  g_autofree gchar *path = g_build_filename (f->out, name, NULL);
  GError *error = NULL;
  g_autoptr (VhImage) img = vh_image_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (vh_image_sniff (img->bytes), ==, VH_FORMAT_JPEG);
  g_autoptr (VhPixels) px = vh_image_decode (img, &error);
  g_assert_no_error (error);
  if (ref_w > 0)
    {
      double want = (double) ref_w / ref_h, got = (double) px->width / px->height;
      if (got / want > 1.05 || want / got > 1.05)
        g_error ("row %s: %dx%d does not keep the input's %dx%d aspect", index, px->width, px->height, ref_w, ref_h);
    }
}

static void
test_all_modes (Fixture *f, gconstpointer data)
{
  const char *env[] = { "E2E_DASHSCOPE_KEY=sk-test", "E2E_BFL_KEY=bfl-test", NULL };
  g_autoptr (VhtResult) r = vht_vhost (env, "--config", f->ini, NULL);
  if (r->status != 0)
    g_error ("vhost exited %d\nstdout:\n%s\nstderr:\n%s", r->status, r->out, r->err);
  g_autoptr (GHashTable) rows = vht_read_journal (f->out);
  static const char *const inst[] = { NULL, "wanx-t2i", "wanx-t2i", "kontext", "kontext", "qwen", "qwen" };
  for (int i = 1; i <= 6; i++)
    {
      g_autofree gchar *idx = g_strdup_printf ("%d", i);
      g_assert_cmpstr (vht_journal_field (rows, idx, "status"), ==, "done");
      g_assert_cmpstr (vht_journal_field (rows, idx, "instance"), ==, inst[i]);
    }
  assert_image (f, "1", 1, 1);
  assert_image (f, "3", 900, 600);
  assert_image (f, "4", 600, 800);
  assert_image (f, "5", 1024, 768);
  assert_image (f, "6", 900, 600);

  /* Every DashScope t2i submit asked for one image. */
  g_autofree gchar *log = vh_emu_requests_json (emu);
  json_object *list = json_tokener_parse (log);
  guint submits = 0;
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *rq = json_object_array_get_idx (list, i), *path, *json, *params, *n;
      if (json_object_object_get_ex (rq, "path", &path)
          && strstr (json_object_get_string (path), "text2image") != NULL
          && json_object_object_get_ex (rq, "json", &json)
          && json_object_object_get_ex (json, "parameters", &params))
        {
          g_assert_true (json_object_object_get_ex (params, "n", &n));
          g_assert_cmpint (json_object_get_int (n), ==, 1);
          submits++;
        }
    }
  g_assert_cmpuint (submits, >=, 2);
  json_object_put (list);
}

/* Moderation on one t2i row: that row fails as REJECTED, the rest finish. */
static void
test_rejected_row (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  g_assert_true (vh_emu_configure (emu, "{\"faults\": [{\"type\": \"moderation\", "
                                   "\"endpoint\": \"dashscope.text2image\", \"next\": 100}]}", &error));
  g_assert_no_error (error);
  const char *env[] = { "E2E_DASHSCOPE_KEY=sk-test", "E2E_BFL_KEY=bfl-test", NULL };
  g_autoptr (VhtResult) r = vht_vhost (env, "--config", f->ini, NULL);
  g_autoptr (GHashTable) rows = vht_read_journal (f->out);
  g_assert_cmpstr (vht_journal_field (rows, "1", "status"), ==, "failed");
  g_assert_cmpstr (vht_journal_field (rows, "1", "class"), ==, "rejected");
  g_assert_cmpstr (vht_journal_field (rows, "3", "status"), ==, "done");
  g_assert_cmpstr (vht_journal_field (rows, "5", "status"), ==, "done");
}

/* A wrong DashScope key: its rows fail as AUTH, and the key appears in no
 * output of the run (stdout, stderr, journal, report files). */
static void
test_bad_key_not_leaked (Fixture *f, gconstpointer data)
{
  const char *secret = "sk-e2e-wrong-5f4e3d2c1b0a";
  const char *env[] = { "E2E_DASHSCOPE_KEY=sk-e2e-wrong-5f4e3d2c1b0a", "E2E_BFL_KEY=bfl-test", NULL };
  g_autoptr (VhtResult) r = vht_vhost (env, "--config", f->ini, "--verbose", NULL);
  g_autoptr (GHashTable) rows = vht_read_journal (f->out);
  g_assert_cmpstr (vht_journal_field (rows, "1", "status"), ==, "failed");
  g_assert_cmpstr (vht_journal_field (rows, "1", "class"), ==, "auth");
  g_assert_cmpstr (vht_journal_field (rows, "3", "status"), ==, "done");
  g_assert_null (strstr (r->out, secret));
  g_assert_null (strstr (r->err, secret));
  GDir *d = g_dir_open (f->out, 0, NULL);
  g_assert_nonnull (d);
  for (const char *name; (name = g_dir_read_name (d)) != NULL;)
    {
      g_autofree gchar *p = g_build_filename (f->out, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        continue;
      g_autofree gchar *text = vht_read (p);
      if (text != NULL && strstr (text, secret) != NULL)
        g_error ("%s contains the API key", name);
    }
  g_dir_close (d);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  GError *error = NULL;
  emu = vh_emu_start ("{\"time_scale\": 0.01, \"seed\": 3}", &error);
  g_assert_no_error (error);
  g_test_add ("/providers-e2e/all-modes", Fixture, NULL, setup, test_all_modes, teardown);
  g_test_add ("/providers-e2e/rejected-row", Fixture, NULL, setup, test_rejected_row, teardown);
  g_test_add ("/providers-e2e/bad-key-not-leaked", Fixture, NULL, setup, test_bad_key_not_leaked, teardown);
  int rc = g_test_run ();
  vh_emu_stop (emu);
  return rc;
}
