/* The fault matrix (issue #5): a 200-row table through retry-fallback
 * wrappers over DashScope and Black Forest Labs instances of the emulator,
 * once per fault type the emulator can inject (alone, at a probability that
 * makes it fire many times), then all of them mixed at about 10% of
 * requests, uninterrupted and killed (SIGKILL) then resumed.
 *
 * Rows: 70 t2i, 30 tie, 30 vttie, 70 deepfake.  t2i: BFL flux-dev (256x256) first, falling back to
 * wanx t2i; tie and vttie: wanx2.1-imageedit, falling back to BFL kontext.
 * Both families take first calls.  The emulator draws and encodes every
 * result on its one thread (~30 ms for a 512x512 edit, ~40 ms for a 1 MP
 * Kontext image), which is what a run costs: hence the cheap 256x256 flux-dev
 * first for t2i and Kontext only as a fallback.  deepfake: the
 * test plugin testgen (no cloud plugin swaps faces, and the faults under
 * test are the providers'); it keeps those rows in the table at no cost.
 * Every wrapper has last_resort = keep-original: a fault like a 100%-stuck
 * or moderated provider makes success impossible for some rows, and the
 * contract is then a recorded last resort, never a lost row.
 *
 * Each run asserts: exit 0; result.csv is exactly 200 rows in task order,
 * none duplicated; every image decodes; a row without a last_resort note
 * has a provider's image (not the input, not the grey blank); every failed
 * attempt in a journal `attempts` note names its instance and class; a row
 * whose last attempt failed has a last_resort note and vice versa; the
 * fault fired many times (emulator stats) and left failed attempts in the
 * journal.  Time is compressed with time_scale and small client timeouts. */
#include "test-util.h"
#include "emulator/emu-harness.h"
#include <vhost/plugin.h>
#include <json-c/json.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>

/* 200 rows in task-type blocks.  Edits are the expensive rows for the
 * emulator, which draws and PNG-encodes their results on one thread (zlib
 * is most of its CPU): 30 of each keep a run near 5 s. */
#define N_T2I 70
#define N_TIE 30
#define N_VTTIE 30
#define N_DEEPFAKE 70
#define ROWS (N_T2I + N_TIE + N_VTTIE + N_DEEPFAKE)
#define LAST_CLOUD (N_T2I + N_TIE + N_VTTIE)

static guint
row_type (guint i)
{
  return i <= N_T2I ? 0 : i <= N_T2I + N_TIE ? 1 : i <= LAST_CLOUD ? 2 : 3;
}

static VhEmu *emu;

typedef struct {
  const char *type;        /* emulator fault type */
  gdouble     probability;
  const char *extra;       /* more members of the fault object, or "" */
  guint       min_fired;   /* the fault must fire at least this often */
} Fault;

/* Probabilities: submit-only faults see ~250 submits per run, "any
 * request" faults ~1000 requests; each fires dozens of times.  Faults that
 * cost a client timeout (hang, stuck) or a Retry-After of 1 s (429) are
 * rarer so the whole matrix stays within a few minutes. */
static const Fault faults[] = {
  { "http_429", 0.04, "", 6 },
  { "http_500", 0.15, "", 40 },
  { "http_502", 0.15, "", 40 },
  { "http_503", 0.15, "", 40 },
  { "http_504", 0.15, "", 40 },
  { "http_error", 0.15, ", \"status\": 520", 40 },
  { "hang", 0.05, "", 5 },
  { "malformed_json", 0.15, "", 40 },
  { "truncated_body", 0.15, "", 40 },
  { "expired_url", 0.2, "", 20 },
  { "moderation_input", 0.25, "", 20 },
  { "moderation_output", 0.25, "", 20 },
  { "task_failed", 0.25, "", 20 },
  { "partial_failure", 0.25, "", 20 },
  { "stuck", 0.08, "", 5 },
  { "task_not_found", 0.2, "", 12 },
};

static const char *const instances[] = { "ds-t2i", "bfl-t2i", "ds-edit", "bfl-edit", "local", NULL };
static const char *const classes[] = { "transient", "quota", "rejected", "invalid-input", "auth", "internal", NULL };

/* ---------------------------------------------------------------- setup */

static gchar *
make_dir (void)
{
  gchar *dir = vht_tmpdir ();
  GString *csv = g_string_new ("\xEF\xBB\xBF" "index,task_type,prompt,ori_image,target_image");
  static const char *const types[] = { "t2i", "tie", "vttie", "deepfake" };
  for (guint i = 1; i <= ROWS; i++)
    {
      guint t = row_type (i);
      g_autofree gchar *ori = g_strdup_printf ("imgs/in_%u.jpg", i % 4);
      g_string_append_printf (csv, "\r\n%u,%s,\"make it blue, row %u\",%s,%s", i, types[t], i, t ? ori : "",
                              t == 3 ? ori : "");
    }
  vht_write (dir, "task.csv", csv->str);
  g_string_free (csv, TRUE);
  /* Smooth inputs: the emulator blends an edit's input into its result and
   * PNG-encodes it on its one thread; noise would cost it ~0.2 s a row. */
  for (guint i = 0; i < 4; i++)
    {
      gint w = 96 + 16 * (gint) i, h = 96;
      g_autoptr (VhPixels) px = vh_pixels_new (w, h);
      for (gint y = 0; y < h; y++)
        for (gint x = 0; x < w; x++)
          {
            guint8 *p = px->rgb + (gsize) (y * w + x) * 3;
            p[0] = (guint8) (x * 2), p[1] = (guint8) (y * 2), p[2] = (guint8) (60 * i);
          }
      g_autoptr (VhImage) img = vh_image_encode_jpeg (px, 90, NULL);
      g_assert_nonnull (img);
      g_autofree gchar *path = g_strdup_printf ("%s/imgs/in_%u.jpg", dir, i);
      g_autofree gchar *parent = g_path_get_dirname (path);
      g_mkdir_with_parents (parent, 0755);
      gsize len;
      const gchar *data = g_bytes_get_data (img->bytes, &len);
      g_assert_true (g_file_set_contents (path, data, (gssize) len, NULL));
    }
  /* Client timeouts are short: the emulator answers in a few ms (latencies
   * 3-15 s x time_scale), so a second is a hang or a stuck task. */
  const char *base = vh_emu_base_url (emu);
  g_autofree gchar *ini = g_strdup_printf (
      "[vhost]\ntasks = task.csv\nimages = .\noutput = out\nworkers = 16\n"
      "[instance ds-t2i]\nplugin = wanx\nmodel = wanx2.1-t2i-turbo\nsize = 512*512\nbase_url = %s/api/v1\n"
      "api_key_env = VHF_DS_KEY\npoll_first = 0ms\npoll_initial = 5ms\npoll_max = 20ms\ndeadline = 2s\nrequest_timeout = 1s\n"
      "concurrency = 8\n"
      "[instance ds-edit]\nplugin = wanx\nmodel = wanx2.1-imageedit\nmode = imageedit\nbase_url = %s/api/v1\n"
      "api_key_env = VHF_DS_KEY\npoll_first = 0ms\npoll_initial = 5ms\npoll_max = 20ms\ndeadline = 2s\nrequest_timeout = 1s\n"
      "concurrency = 8\n"
      "[instance bfl-t2i]\nplugin = flux-remote\nmodel = flux-dev\nwidth = 256\nheight = 256\noutput_format = jpeg\n"
      "base_url = %s/bfl\napi_key_env = VHF_BFL_KEY\npoll_first = 0ms\npoll_initial = 5ms\npoll_max = 20ms\ndeadline = 2s\n"
      "request_timeout = 1s\nconcurrency = 8\n"
      "[instance bfl-edit]\nplugin = flux-remote\nmodel = flux-kontext-pro\noutput_format = jpeg\n"
      "base_url = %s/bfl\napi_key_env = VHF_BFL_KEY\npoll_first = 0ms\npoll_initial = 5ms\npoll_max = 20ms\ndeadline = 2s\n"
      "request_timeout = 1s\nconcurrency = 8\n"
      "[instance local]\nplugin = testgen\n"
      "[instance rf-t2i]\nplugin = retry-fallback\ntry = bfl-t2i, ds-t2i\nretries = 2\nbackoff = 5ms..50ms\n"
      "breaker_failures = 5\ncooldown = 200ms\ndeadline = 30s\nlast_resort = keep-original\n"
      "[instance rf-tie]\nplugin = retry-fallback\ntry = ds-edit, bfl-edit\nretries = 2\nbackoff = 5ms..50ms\n"
      "breaker_failures = 5\ncooldown = 200ms\ndeadline = 30s\nlast_resort = keep-original\n"
      "[instance rf-vttie]\nplugin = retry-fallback\ntry = ds-edit, bfl-edit\nretries = 2\nbackoff = 5ms..50ms\n"
      "breaker_failures = 5\ncooldown = 200ms\ndeadline = 30s\nlast_resort = keep-original\n"
      "[route t2i]\nchain = rf-t2i\n[route tie]\nchain = rf-tie\n[route vttie]\nchain = rf-vttie\n"
      "[route deepfake]\nchain = local\n",
      base, base, base, base);
  vht_write (dir, "p.ini", ini);
  return dir;
}

static const char *const run_env[] = { "VHF_DS_KEY=sk-test", "VHF_BFL_KEY=bfl-test", NULL };

static void
configure_faults (const char *faults_json)
{
  GError *e = NULL;
  g_assert_true (vh_emu_reset (emu, &e));
  g_assert_no_error (e);
  g_autofree gchar *conf = g_strdup_printf ("{\"faults\": [%s]}", faults_json);
  g_assert_true (vh_emu_configure (emu, conf, &e));
  g_assert_no_error (e);
}

static gint
run_vhost (const char *dir)
{
  g_autofree gchar *ini = g_build_filename (dir, "p.ini", NULL);
  g_autoptr (VhtResult) r = vht_vhost (run_env, "--config", ini, "--quiet", NULL);
  if (r->status != 0)
    g_test_message ("vhost exit %d; stderr:\n%s", r->status, r->err);
  return r->status;
}

static gint64
stat_of (const char *key)
{
  g_autofree gchar *text = vh_emu_stats_json (emu);
  g_assert_nonnull (text);
  json_object *o = json_tokener_parse (text), *v;
  gint64 n = o && json_object_object_get_ex (o, key, &v) ? json_object_get_int64 (v) : 0;
  json_object_put (o);
  return n;
}

/* ---------------------------------------------------------------- checks */

static void
put_json (gpointer o)
{
  json_object_put (o);
}

/* result.csv: BOM, header, exactly ROWS rows in task order, none twice. */
static void
check_result_csv (const char *out)
{
  g_autofree gchar *path = g_build_filename (out, "result.csv", NULL);
  g_autofree gchar *text = vht_read (path);
  g_assert_nonnull (text);
  g_assert_true (g_str_has_prefix (text, "\xEF\xBB\xBF" "index,gen_image"));
  g_auto (GStrv) lines = g_strsplit_set (text + 3, "\r\n", -1);
  guint n = 0;
  for (gchar **l = lines + 1; *l; l++)
    {
      if (**l == '\0')
        continue;
      n++;
      g_autofree gchar *want = g_strdup_printf ("%u,%u.jpg", n, n);
      g_assert_cmpstr (*l, ==, want);
    }
  g_assert_cmpuint (n, ==, ROWS);
}

static gboolean
is_flat_grey (const VhPixels *px)
{
  for (gsize i = 0; i < (gsize) px->width * px->height * 3; i++)
    if (px->rgb[i] < 120 || px->rgb[i] > 136)
      return FALSE;
  return TRUE;
}

/* Per row: a decodable image, the journal line done, failed attempts
 * explained, last resorts recorded.  Returns the number of rows with a
 * failed attempt; *last_resorts counts the recorded last resorts. */
static guint
check_rows (const char *dir, guint *last_resorts)
{
  g_autofree gchar *jpath = g_build_filename (dir, "out", "journal.jsonl", NULL);
  g_autofree gchar *text = vht_read (jpath);
  g_assert_nonnull (text);
  GHashTable *last = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, put_json);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (gchar **l = lines; *l; l++)
    {
      if (**l == '\0')
        continue;
      json_object *o = json_tokener_parse (*l), *idx;
      g_assert_nonnull (o);
      g_assert_true (json_object_object_get_ex (o, "index", &idx));
      g_hash_table_replace (last, g_strdup (json_object_get_string (idx)), o);
    }
  guint with_failure = 0;
  *last_resorts = 0;
  for (guint i = 1; i <= ROWS; i++)
    {
      g_autofree gchar *idx = g_strdup_printf ("%u", i);
      json_object *line = g_hash_table_lookup (last, idx), *v, *notes = NULL, *attempts = NULL;
      g_assert_nonnull (line);
      g_assert_true (json_object_object_get_ex (line, "status", &v));
      g_assert_cmpstr (json_object_get_string (v), ==, "done");
      gboolean resorted = json_object_object_get_ex (line, "notes", &notes)
                          && json_object_object_get_ex (notes, "last_resort", NULL);
      *last_resorts += resorted;

      g_autofree gchar *img = g_strdup_printf ("%s/out/imgs/%u.jpg", dir, i);
      GError *e = NULL;
      g_autoptr (VhImage) image = vh_image_new_from_file (img, &e);
      g_assert_no_error (e);
      g_autoptr (VhPixels) px = vh_image_decode (image, &e);
      g_assert_no_error (e);
      if (i <= LAST_CLOUD && !resorted)
        {
          /* A provider's picture: not the grey blank, not the input kept. */
          g_assert_false (is_flat_grey (px));
          g_autofree gchar *in = g_strdup_printf ("%s/imgs/in_%u.jpg", dir, i % 4);
          if (i > N_T2I)
            {
              g_autoptr (VhImage) orig = vh_image_new_from_file (in, NULL);
              g_assert_nonnull (orig);
              g_assert_false (orig->width == px->width && orig->height == px->height);
            }
        }
      if (i > LAST_CLOUD)
        continue;   /* deepfake rows: the local test plugin, no wrapper */

      g_assert_true (notes != NULL && json_object_object_get_ex (notes, "attempts", &attempts));
      gsize n = json_object_array_length (attempts);
      g_assert_cmpuint (n, >=, 1);
      gboolean failed_any = FALSE, last_ok = FALSE;
      for (gsize k = 0; k < n; k++)
        {
          json_object *a = json_object_array_get_idx (attempts, k), *inst, *cls;
          g_assert_true (json_object_object_get_ex (a, "instance", &inst));
          g_assert_true (json_object_object_get_ex (a, "class", &cls));
          g_assert_true (g_strv_contains (instances, json_object_get_string (inst)));
          const char *c = json_object_get_string (cls);
          gboolean ok = strcmp (c, "ok") == 0;
          if (!ok)
            {
              g_assert_true (g_strv_contains (classes, c));
              g_assert_true (json_object_object_get_ex (a, "error", NULL));
              failed_any = TRUE;
            }
          last_ok = ok;
        }
      with_failure += failed_any;
      /* the last resort is written exactly when the last attempt failed */
      g_assert_cmpint (resorted, ==, !last_ok);
    }
  g_hash_table_destroy (last);
  return with_failure;
}

static void
check_no_temp_files (const char *out)
{
  g_autofree gchar *imgs = g_build_filename (out, "imgs", NULL);
  g_autoptr (GDir) d = g_dir_open (imgs, 0, NULL);
  g_assert_nonnull (d);
  guint n = 0;
  for (const char *name; (name = g_dir_read_name (d));)
    {
      g_assert_null (strstr (name, ".tmp"));
      n++;
    }
  g_assert_cmpuint (n, ==, ROWS);
}

/* ---------------------------------------------------------------- cases */

static void
test_fault (gconstpointer data)
{
  const Fault *f = data;
  g_autofree gchar *fj = g_strdup_printf ("{\"type\": \"%s\", \"probability\": %g%s}", f->type, f->probability,
                                          f->extra);
  configure_faults (fj);
  g_autofree gchar *dir = make_dir ();
  gint64 t0 = g_get_monotonic_time ();
  g_assert_cmpint (run_vhost (dir), ==, 0);
  gint64 fired = stat_of ("faults_injected");
  g_autofree gchar *out = g_build_filename (dir, "out", NULL);
  check_result_csv (out);
  check_no_temp_files (out);
  guint resorted = 0;
  guint with_failure = check_rows (dir, &resorted);
  g_test_message ("%s p=%.2f: fired %" G_GINT64_FORMAT " times in %" G_GINT64_FORMAT " requests, %u rows with a "
                  "failed attempt, %u last resorts, %.1f s",
                  f->type, f->probability, fired, stat_of ("requests"), with_failure, resorted,
                  (g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpint (fired, >=, f->min_fired);
  g_assert_cmpuint (with_failure, >=, 1);
  vht_rm_rf (dir);
}

static gchar *
mixed_faults (void)
{
  /* ~10% of requests: a poll can meet 11 of the fault types (the "any
   * request" ones and task_not_found), a submit all 16; p such that
   * 1 - (1 - p)^11 = 0.10 gives ~10% of polls and downloads, ~14% of
   * submits. */
  guint n = G_N_ELEMENTS (faults);
  gdouble p = 1 - pow (0.9, 1.0 / 11);
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%s{\"type\": \"%s\", \"probability\": %.5f%s}", i ? ", " : "", faults[i].type, p,
                            faults[i].extra);
  return g_string_free (s, FALSE);
}

static gint
cmp_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

static gchar **
image_names (const char *out)
{
  g_autofree gchar *imgs = g_build_filename (out, "imgs", NULL);
  g_autoptr (GDir) d = g_dir_open (imgs, 0, NULL);
  g_assert_nonnull (d);
  GPtrArray *names = g_ptr_array_new ();
  for (const char *name; (name = g_dir_read_name (d));)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, cmp_names);
  g_ptr_array_add (names, NULL);
  return (gchar **) g_ptr_array_free (names, FALSE);
}

static guint
journal_lines (const char *dir)
{
  g_autofree gchar *p = g_build_filename (dir, "out", "journal.jsonl", NULL);
  g_autofree gchar *text = vht_read (p);
  guint n = 0;
  for (const char *c = text; c && *c; c++)
    n += *c == '\n';
  return n;
}

static void
test_mixed_and_resume (void)
{
  g_autofree gchar *mix = mixed_faults ();

  /* Uninterrupted. */
  configure_faults (mix);
  g_autofree gchar *a = make_dir ();
  g_assert_cmpint (run_vhost (a), ==, 0);
  gint64 fired = stat_of ("faults_injected"), requests = stat_of ("requests");
  g_autofree gchar *out_a = g_build_filename (a, "out", NULL);
  check_result_csv (out_a);
  check_no_temp_files (out_a);
  guint resorted = 0, with_failure = check_rows (a, &resorted);
  g_test_message ("mixed: %" G_GINT64_FORMAT " faults in %" G_GINT64_FORMAT " requests (%.1f%%), %u rows with a "
                  "failed attempt, %u last resorts",
                  fired, requests, 100.0 * fired / MAX (requests, 1), with_failure, resorted);
  g_assert_cmpint (fired, >=, requests / 20);   /* 5% of requests at least */
  g_assert_cmpuint (with_failure, >=, 1);

  /* Killed mid-run with SIGKILL, then the same command again. */
  configure_faults (mix);
  g_autofree gchar *b = make_dir ();
  g_autofree gchar *ini = g_build_filename (b, "p.ini", NULL);
  const char *argv[] = { "--config", ini, "--quiet", NULL };
  GPid pid = vht_vhost_spawn (run_env, argv);
  gint64 give_up = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (journal_lines (b) < ROWS / 3 && g_get_monotonic_time () < give_up)
    g_usleep (2000);
  guint before = journal_lines (b);
  kill (pid, SIGKILL);
  g_assert_cmpint (vht_wait (pid), ==, 128 + SIGKILL);
  g_assert_cmpuint (before, >=, ROWS / 3);
  g_assert_cmpuint (before, <, ROWS);   /* really killed mid-run */
  g_assert_cmpint (run_vhost (b), ==, 0);
  g_autofree gchar *out_b = g_build_filename (b, "out", NULL);
  check_result_csv (out_b);
  check_no_temp_files (out_b);
  check_rows (b, &resorted);

  g_autofree gchar *csv_a = g_build_filename (out_a, "result.csv", NULL);
  g_autofree gchar *csv_b = g_build_filename (out_b, "result.csv", NULL);
  g_autofree gchar *sum_a = vht_sha256_file (csv_a), *sum_b = vht_sha256_file (csv_b);
  g_assert_nonnull (sum_a);
  g_assert_cmpstr (sum_a, ==, sum_b);
  g_auto (GStrv) names_a = image_names (out_a);
  g_auto (GStrv) names_b = image_names (out_b);
  g_assert_true (g_strv_equal ((const gchar *const *) names_a, (const gchar *const *) names_b));
  vht_rm_rf (a);
  vht_rm_rf (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Latencies of the real services (3-15 s) compressed 1000x; no quotas:
   * stuck tasks stay "in flight" forever and would starve a small one, and
   * the quota behaviour is the http_429 case's subject. */
  GError *e = NULL;
  emu = vh_emu_start (
      "{\"time_scale\": 0.001, \"seed\": 5, \"bfl_credits\": null,"
      " \"defaults\": {\"latency_ms\": [3000, 15000], \"concurrency\": 0, \"qps\": 0},"
      " \"endpoints\": {\"dashscope.tasks\": {\"qps\": 0}, \"bfl.*\": {\"concurrency\": 0}}}",
      &e);
  g_assert_no_error (e);
  for (guint i = 0; i < G_N_ELEMENTS (faults); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("/faults/%s", faults[i].type);
      g_test_add_data_func (name, &faults[i], test_fault);
    }
  g_test_add_func ("/faults/mixed-and-resume", test_mixed_and_resume);
  int status = g_test_run ();
  vh_emu_stop (emu);
  return status;
}
