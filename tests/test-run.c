/* End-to-end: the real vhost binary, real files, the test-only plugins. */
#include "test-util.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  gchar *dir, *ini, *out;
} Fixture;

static void
write_ini (Fixture *f, const char *extra_gen, const char *routes)
{
  g_autofree gchar *ini = g_strdup_printf (
      "# test pipeline\n"
      "[vhost]\ntasks = task.csv\nimages = .\noutput = out\nworkers = 4\nprogress_interval = 200ms\n\n"
      "[instance gen]\nplugin = testgen\nformat = png\n%s\n\n"
      "[instance copy]\nplugin = testgen\nmode = copy\n\n"
      "%s",
      extra_gen ? extra_gen : "",
      routes ? routes : "[route t2i]\nchain = gen\n[route tie]\nchain = copy\n[route vttie]\nchain = copy, copy\n"
                        "[route deepfake]\nchain = gen\n");
  vht_write (f->dir, "pipeline.ini", ini);
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = vht_tmpdir ();
  f->ini = g_build_filename (f->dir, "pipeline.ini", NULL);
  f->out = g_build_filename (f->dir, "out", NULL);
  vht_make_tasks (f->dir, GPOINTER_TO_UINT (data) ? GPOINTER_TO_UINT (data) : 3);
  write_ini (f, NULL, NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  vht_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->ini);
  g_free (f->out);
}

static gchar *
out_file (Fixture *f, const char *name)
{
  return g_build_filename (f->out, name, NULL);
}

/* Fingerprint of a finished submission: result.csv, every image, the zip. */
static gchar *
fingerprint (Fixture *f, guint rows)
{
  GString *s = g_string_new (NULL);
  g_autofree gchar *csv = out_file (f, "result.csv");
  g_autofree gchar *zip = out_file (f, "result.zip");
  g_autofree gchar *a = vht_sha256_file (csv), *b = vht_sha256_file (zip);
  g_string_append_printf (s, "csv %s\nzip %s\n", a, b);
  for (guint i = 1; i <= rows; i++)
    {
      g_autofree gchar *name = g_strdup_printf ("imgs/%u.jpg", i);
      g_autofree gchar *p = out_file (f, name);
      g_autofree gchar *h = vht_sha256_file (p);
      g_string_append_printf (s, "%u %s\n", i, h ? h : "MISSING");
    }
  return g_string_free (s, FALSE);
}

static void
test_full_run (Fixture *f, gconstpointer data)
{
  g_autoptr (VhtResult) r = vht_vhost (NULL, "--config", f->ini, "--quiet", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_nonnull (strstr (r->out, "result.zip written"));
  g_autofree gchar *csv_path = out_file (f, "result.csv");
  g_autofree gchar *csv = vht_read (csv_path);
  g_assert_nonnull (csv);
  g_assert_true (g_str_has_prefix (csv, "\xEF\xBB\xBF" "index,gen_image\n1,1.jpg\n2,2.jpg\n"));
  g_auto (GStrv) csv_lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpuint (g_strv_length (csv_lines), ==, 12 + 2);
  /* Every image is an RGB JPEG even where the plugin returned PNG. */
  g_autofree gchar *img_path = out_file (f, "imgs/1.jpg");
  g_autofree gchar *img = vht_read (img_path);
  g_assert_true ((guchar) img[0] == 0xFF && (guchar) img[1] == 0xD8);
  g_autofree gchar *zip = out_file (f, "result.zip");
  g_autofree gchar *tasks = g_build_filename (f->dir, "task.csv", NULL);
  g_autoptr (VhtResult) v = vht_vhost (NULL, "validate", zip, "--tasks", tasks, NULL);
  g_assert_cmpint (v->status, ==, 0);
  g_assert_nonnull (strstr (v->out, "OK"));
  g_assert_nonnull (strstr (v->out, "12 images"));
  /* The journal has one line per row with instance and timing. */
  g_autofree gchar *jpath = out_file (f, "journal.jsonl");
  g_autofree gchar *journal = vht_read (jpath);
  g_auto (GStrv) lines = g_strsplit (journal, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 13);
  g_assert_nonnull (strstr (journal, "\"status\":\"done\""));
  g_assert_nonnull (strstr (journal, "\"instance\":\"copy\""));
  /* A second run has nothing to do and changes nothing. */
  g_autofree gchar *before = fingerprint (f, 12);
  g_autoptr (VhtResult) again = vht_vhost (NULL, "--config", f->ini, "--quiet", NULL);
  g_assert_cmpint (again->status, ==, 0);
  g_autofree gchar *after = fingerprint (f, 12);
  g_assert_cmpstr (before, ==, after);
}

static void
test_kill9_resume (Fixture *f, gconstpointer data)
{
  const guint rows = 40;
  write_ini (f, "sleep = 25ms", NULL);
  g_autoptr (VhtResult) ref = vht_vhost (NULL, "--config", f->ini, "--quiet", NULL);
  g_assert_cmpint (ref->status, ==, 0);
  g_autofree gchar *expected = fingerprint (f, rows);
  g_assert_null (strstr (expected, "MISSING"));
  /* Kill at several points of a run, re-run each time; the final
   * submission must be byte-identical to the uninterrupted one. */
  const guint delays_ms[] = { 5, 60, 150, 260 };
  for (guint k = 0; k < G_N_ELEMENTS (delays_ms); k++)
    {
      vht_rm_rf (f->out);
      const char *args[] = { "--config", f->ini, "--quiet", NULL };
      GPid pid = vht_vhost_spawn (NULL, args);
      g_usleep (delays_ms[k] * 1000);
      kill (pid, SIGKILL);
      vht_wait (pid);
      g_autoptr (VhtResult) r = vht_vhost (NULL, "--config", f->ini, "--quiet", NULL);
      g_assert_cmpint (r->status, ==, 0);
      g_autofree gchar *got = fingerprint (f, rows);
      g_assert_cmpstr (got, ==, expected);
      /* No temp file survives. */
      g_autofree gchar *imgs = out_file (f, "imgs");
      g_autoptr (GDir) d = g_dir_open (imgs, 0, NULL);
      for (const char *n; (n = g_dir_read_name (d));)
        g_assert_null (strstr (n, ".tmp"));
    }
}

static void
test_resume_skips_done (Fixture *f, gconstpointer data)
{
  write_ini (f, "sleep = 30ms", NULL);
  const char *args[] = { "--config", f->ini, "--quiet", NULL };
  GPid pid = vht_vhost_spawn (NULL, args);
  /* Wait until a few rows are journaled, then kill. */
  g_autofree gchar *jpath = out_file (f, "journal.jsonl");
  for (int i = 0; i < 400; i++)
    {
      g_autofree gchar *j = vht_read (jpath);
      g_auto (GStrv) lines = j ? g_strsplit (j, "\n", -1) : NULL;
      if (lines && g_strv_length (lines) > 5)
        break;
      g_usleep (5000);
    }
  kill (pid, SIGKILL);
  vht_wait (pid);
  g_autoptr (VhtResult) r = vht_vhost (NULL, "--config", f->ini, "--quiet", NULL);
  g_assert_cmpint (r->status, ==, 0);
  /* The summary counts rows taken over from the journal. */
  g_auto (GStrv) lines = g_strsplit (r->out, "\n", -1);
  guint resumed = 0;
  for (gchar **l = lines; *l; l++)
    {
      guint rows_, done, res;
      char type[16];
      if (sscanf (*l, "%15s %u %u %u", type, &rows_, &done, &res) == 4)
        resumed += res;
    }
  g_assert_cmpuint (resumed, >=, 4);
}

static void
test_sigint (Fixture *f, gconstpointer data)
{
  write_ini (f, "sleep = 400ms", NULL);
  const char *args[] = { "--config", f->ini, "--quiet", "--workers", "2", NULL };
  GPid pid = vht_vhost_spawn (NULL, args);
  g_usleep (600 * 1000);
  kill (pid, SIGINT);
  gint64 t0 = g_get_monotonic_time ();
  gint status = vht_wait (pid);
  g_assert_cmpint (status, ==, 130);
  /* In-flight rows are cancelled, not waited for. */
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 3 * G_USEC_PER_SEC);
  g_autofree gchar *zip = out_file (f, "result.zip");
  g_assert_false (g_file_test (zip, G_FILE_TEST_EXISTS));
  g_autoptr (VhtResult) r = vht_vhost (NULL, "--config", f->ini, "--quiet", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_true (g_file_test (zip, G_FILE_TEST_EXISTS));
}

static void
test_failures_and_retry (Fixture *f, gconstpointer data)
{
  write_ini (f, "fail_rows = 2, 3\nfail_class = rejected", NULL);
  g_autoptr (VhtResult) r = vht_vhost (NULL, "--config", f->ini, "--quiet", NULL);
  g_assert_cmpint (r->status, ==, 2);
  g_assert_nonnull (strstr (r->out, "result.zip not written"));
  g_assert_nonnull (strstr (r->err, "row 2"));
  g_autofree gchar *jpath = out_file (f, "journal.jsonl");
  g_autofree gchar *j = vht_read (jpath);
  g_assert_nonnull (strstr (j, "\"class\":\"rejected\""));
  g_assert_nonnull (strstr (j, "fails on purpose"));
  /* result.csv still lists every row in order. */
  g_autofree gchar *csv_path = out_file (f, "result.csv");
  g_autofree gchar *csv = vht_read (csv_path);
  g_assert_nonnull (strstr (csv, "2,2.jpg\n3,3.jpg\n"));
  /* Without --retry-failed the failed rows are left alone. */
  write_ini (f, NULL, NULL);
  g_autoptr (VhtResult) r2 = vht_vhost (NULL, "--config", f->ini, "--quiet", NULL);
  g_assert_cmpint (r2->status, ==, 2);
  g_autoptr (VhtResult) r3 = vht_vhost (NULL, "--config", f->ini, "--quiet", "--retry-failed", NULL);
  g_assert_cmpint (r3->status, ==, 0);
  g_assert_nonnull (strstr (r3->out, "result.zip written"));
}

static void
test_no_route (Fixture *f, gconstpointer data)
{
  write_ini (f, NULL, "[route t2i]\nchain = gen\n");
  g_autoptr (VhtResult) r = vht_vhost (NULL, "--config", f->ini, "--quiet", NULL);
  g_assert_cmpint (r->status, ==, 2);
  g_assert_nonnull (strstr (r->err, "no [route tie]"));
  g_autofree gchar *jpath = out_file (f, "journal.jsonl");
  g_autofree gchar *j = vht_read (jpath);
  g_assert_nonnull (strstr (j, "no route for deepfake rows"));
  g_assert_nonnull (strstr (j, "\"class\":\"invalid-input\""));
}

static void
test_selection (Fixture *f, gconstpointer data)
{
  g_autoptr (VhtResult) r = vht_vhost (NULL, "--config", f->ini, "--quiet", "--only", "deepfake", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree gchar *i1 = out_file (f, "imgs/1.jpg"), *i10 = out_file (f, "imgs/10.jpg");
  g_assert_false (g_file_test (i1, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (i10, G_FILE_TEST_EXISTS));
  g_autoptr (VhtResult) r2 = vht_vhost (NULL, "--config", f->ini, "--quiet", "--rows", "1-2,4", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_autofree gchar *i2 = out_file (f, "imgs/2.jpg"), *i3 = out_file (f, "imgs/3.jpg");
  g_assert_true (g_file_test (i2, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (i3, G_FILE_TEST_EXISTS));
  g_autofree gchar *other = g_build_filename (f->dir, "elsewhere", NULL);
  g_autoptr (VhtResult) r3 = vht_vhost (NULL, "--config", f->ini, "--quiet", "--output", other, "--shard", "2/3", NULL);
  g_assert_cmpint (r3->status, ==, 0);
  g_autofree gchar *s2 = g_build_filename (other, "imgs", "2.jpg", NULL), *s1 = g_build_filename (other, "imgs", "1.jpg", NULL);
  g_assert_true (g_file_test (s2, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (s1, G_FILE_TEST_EXISTS));
  g_autoptr (VhtResult) bad = vht_vhost (NULL, "--config", f->ini, "--only", "t2l", NULL);
  g_assert_cmpint (bad->status, ==, 1);
  g_assert_nonnull (strstr (bad->err, "t2l"));
}

static void
test_config_errors (Fixture *f, gconstpointer data)
{
  vht_write (f->dir, "pipeline.ini", "[vhost]\ntasks = task.csv\nworkers = many\n\n[instance gen]\nplugin = testgen\nconcurency = 2\n");
  g_autoptr (VhtResult) r = vht_vhost (NULL, "--config", f->ini, NULL);
  g_assert_cmpint (r->status, ==, 1);
  g_assert_nonnull (strstr (r->err, "pipeline.ini:3:"));
  g_assert_nonnull (strstr (r->err, "pipeline.ini:7:"));
  g_assert_nonnull (strstr (r->err, "did you mean “concurrency”"));
  g_assert_nonnull (strstr (r->err, "2 problems found"));
  g_autoptr (VhtResult) c = vht_vhost (NULL, "check-config", f->ini, NULL);
  g_assert_cmpint (c->status, ==, 1);
  /* Bad task.csv rows are reported with file and line before any work. */
  write_ini (f, NULL, NULL);
  vht_write (f->dir, "task.csv", "index,task_type,prompt,ori_image,target_image\n1,t2i,a,,\n2,tie,b,/etc/passwd,\n3,tie,c,../x.jpg,\n1,t2i,d,,\n");
  g_autoptr (VhtResult) t = vht_vhost (NULL, "--config", f->ini, NULL);
  g_assert_cmpint (t->status, ==, 1);
  g_assert_nonnull (strstr (t->err, "task.csv:3: ori_image “/etc/passwd” is an absolute path"));
  g_assert_nonnull (strstr (t->err, "task.csv:4: ori_image “../x.jpg” leaves the images folder"));
  g_assert_nonnull (strstr (t->err, "task.csv:5: index “1” appears again (first on line 2)"));
}

static void
test_secret_never_printed (Fixture *f, gconstpointer data)
{
  write_ini (f, "api_key_env = VH_TESTGEN_KEY", NULL);
  const char *env[] = { "VH_TESTGEN_KEY=sk-SuperSecretValue0123456789", NULL };
  g_autoptr (VhtResult) r = vht_vhost (env, "--config", f->ini, "--quiet", "--verbose", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_nonnull (strstr (r->err, "using key ***"));
  g_assert_null (strstr (r->err, "SuperSecretValue"));
  g_assert_null (strstr (r->out, "SuperSecretValue"));
  g_autofree gchar *jpath = out_file (f, "journal.jsonl");
  g_autofree gchar *j = vht_read (jpath);
  g_assert_null (strstr (j, "SuperSecretValue"));
  /* The key missing from the environment stops the run before any row. */
  const char *noenv[] = { "VH_TESTGEN_KEY=", NULL };
  g_autoptr (VhtResult) m = vht_vhost (noenv, "--config", f->ini, "--quiet", NULL);
  g_assert_cmpint (m->status, ==, 1);
  g_assert_nonnull (strstr (m->err, "VH_TESTGEN_KEY"));
}

static void
test_wrong_abi_refused (Fixture *f, gconstpointer data)
{
  g_autofree gchar *bad = g_build_filename (g_getenv ("VH_BUILDDIR"), "tests", "plugins-bad", ".libs", NULL);
  g_autofree gchar *path = g_strdup_printf ("VHOST_PLUGIN_PATH=%s:%s", bad, g_getenv ("VHOST_PLUGIN_PATH"));
  const char *env[] = { path, NULL };
  g_autoptr (VhtResult) p = vht_vhost (env, "plugins", NULL);
  g_assert_cmpint (p->status, ==, 0);
  g_assert_nonnull (strstr (p->out, "badabi.so: built for plugin ABI 99"));
  g_assert_nonnull (strstr (p->out, "nosym.so: not a vhost plugin"));
  g_assert_nonnull (strstr (p->out, "testgen "));
  /* A run still works with the good plugins (it opens only the modules its
   * INI names); check-config vets every module and names the refused ones. */
  g_autoptr (VhtResult) r = vht_vhost (env, "--config", f->ini, "--quiet", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr (VhtResult) c = vht_vhost (env, "check-config", f->ini, NULL);
  g_assert_cmpint (c->status, ==, 0);
  g_assert_nonnull (strstr (c->err, "refused"));
  g_assert_nonnull (strstr (c->err, "badabi.so"));
  /* A plugin the INI names that was refused is reported as such. */
  vht_write (f->dir, "pipeline.ini", "[vhost]\ntasks = task.csv\n[instance x]\nplugin = badabi\n");
  g_autoptr (VhtResult) b = vht_vhost (env, "--config", f->ini, NULL);
  g_assert_cmpint (b->status, ==, 1);
  g_assert_nonnull (strstr (b->err, "badabi.so: built for plugin ABI"));
  g_autoptr (VhtResult) d = vht_vhost (NULL, "plugins", "--describe", "testgen", NULL);
  g_assert_cmpint (d->status, ==, 0);
  g_assert_nonnull (strstr (d->out, "fail_class"));
  g_assert_nonnull (strstr (d->out, "concurrency"));
}

static void
test_translation (Fixture *f, gconstpointer data)
{
  /* Catalog from the build tree, in the layout bindtextdomain expects. */
  g_autofree gchar *gmo = g_build_filename (g_getenv ("VH_SRCDIR"), "po", "zh_CN.gmo", NULL);
  g_autofree gchar *dir = g_build_filename (f->dir, "locale", "zh_CN", "LC_MESSAGES", NULL);
  g_mkdir_with_parents (dir, 0755);
  g_autofree gchar *mo = g_build_filename (dir, "vhost.mo", NULL);
  gchar *data_ = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (gmo, &data_, &len, NULL));
  g_assert_true (g_file_set_contents (mo, data_, (gssize) len, NULL));
  g_free (data_);
  g_autofree gchar *localedir = g_strdup_printf ("VHOST_LOCALEDIR=%s/locale", f->dir);
  const char *env[] = { localedir, "LC_ALL=zh_CN.UTF-8", "LANGUAGE=", NULL };
  g_autoptr (VhtResult) r = vht_vhost (env, "--help", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_nonnull (strstr (r->out, "用法"));
}

static void
test_output_locked (Fixture *f, gconstpointer data)
{
  write_ini (f, "sleep = 300ms", NULL);
  const char *args[] = { "--config", f->ini, "--quiet", NULL };
  GPid pid = vht_vhost_spawn (NULL, args);
  g_autofree gchar *lock = out_file (f, ".vhost.lock");
  for (int i = 0; i < 400 && !g_file_test (lock, G_FILE_TEST_EXISTS); i++)
    g_usleep (5000);
  g_usleep (50000);
  g_autoptr (VhtResult) second = vht_vhost (NULL, "--config", f->ini, "--quiet", NULL);
  g_assert_cmpint (second->status, ==, 1);
  g_assert_nonnull (strstr (second->err, "another vhost run is using"));
  g_assert_cmpint (vht_wait (pid), ==, 0);
}

static void
test_shards_and_merge (Fixture *f, gconstpointer data)
{
  /* Reference: one unsharded run. */
  g_autoptr (VhtResult) ref = vht_vhost (NULL, "--config", f->ini, "--quiet", NULL);
  g_assert_cmpint (ref->status, ==, 0);
  g_autofree gchar *expected = fingerprint (f, 8);
  /* Two shards into two folders, then merged into a third. */
  g_autofree gchar *s1 = g_build_filename (f->dir, "s1", NULL), *s2 = g_build_filename (f->dir, "s2", NULL);
  g_autoptr (VhtResult) a = vht_vhost (NULL, "--config", f->ini, "--quiet", "--shard", "1/2", "--output", s1, NULL);
  g_autoptr (VhtResult) b = vht_vhost (NULL, "--config", f->ini, "--quiet", "--shard", "2/2", "--output", s2, NULL);
  g_assert_cmpint (a->status, ==, 0);
  g_assert_cmpint (b->status, ==, 0);
  g_autofree gchar *tasks = g_build_filename (f->dir, "task.csv", NULL);
  g_autofree gchar *merged = g_build_filename (f->dir, "merged", NULL);
  /* One shard alone is incomplete: exit 2, rows named, no zip. */
  g_autoptr (VhtResult) half = vht_vhost (NULL, "merge", "--tasks", tasks, "--output", merged, s1, NULL);
  g_assert_cmpint (half->status, ==, 2);
  g_assert_nonnull (strstr (half->err, "row 2: no shard has it done"));
  g_autoptr (VhtResult) m = vht_vhost (NULL, "merge", "--tasks", tasks, "--output", merged, s1, s2, NULL);
  g_assert_cmpint (m->status, ==, 0);
  /* Same submission as the unsharded run. */
  g_free (f->out);
  f->out = g_strdup (merged);
  g_autofree gchar *got = fingerprint (f, 8);
  g_assert_cmpstr (got, ==, expected);
}

static void
test_shipped_configs_valid (Fixture *f, gconstpointer data)
{
  /* conf/pipeline.ini and conf/demo.ini stay true to the plugins. */
  const char *names[] = { "pipeline.ini", "demo.ini" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree gchar *ini = g_build_filename (g_getenv ("VH_SRCDIR"), "conf", names[i], NULL);
      g_autoptr (VhtResult) r = vht_vhost (NULL, "check-config", ini, NULL);
      g_assert_cmpint (r->status, ==, 0);
      g_assert_nonnull (strstr (r->out, "OK"));
      g_assert_nonnull (strstr (r->out, "deepfake  faceswap"));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn, rows) g_test_add ("/run/" name, Fixture, GUINT_TO_POINTER (rows), setup, fn, teardown)
  ADD ("full", test_full_run, 3);
  ADD ("kill9-resume", test_kill9_resume, 10);
  ADD ("resume-skips-done", test_resume_skips_done, 10);
  ADD ("sigint", test_sigint, 4);
  ADD ("failures-retry", test_failures_and_retry, 3);
  ADD ("no-route", test_no_route, 2);
  ADD ("selection", test_selection, 3);
  ADD ("config-errors", test_config_errors, 1);
  ADD ("secret", test_secret_never_printed, 1);
  ADD ("wrong-abi", test_wrong_abi_refused, 1);
  ADD ("translation", test_translation, 1);
  ADD ("shipped-configs", test_shipped_configs_valid, 1);
  ADD ("output-locked", test_output_locked, 2);
  ADD ("shards-merge", test_shards_and_merge, 2);
  return g_test_run ();
}
