/* The three detector stages through full vhost runs against the loopback
 * emulator: a testgen generator (mode = copy, so the detector receives the
 * exact bytes of each row's image) followed by the detector.  The emulator's
 * verdicts are a function of the SHA-256 of those bytes, so every expected
 * score, level and label is computed here from the files written.
 * Also the services' refusals at the protocol level (stale timestamp,
 * reused nonce, wrong secret, unknown key) with hand-signed requests. */
#include <string.h>
#include <math.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include "vhost/plugin.h"
#include "vh-sign.h"
#include "test-util.h"
#include "emu-harness.h"

static VhEmu *emu;

#define ALI_ID "LTAItestkey0000001"
#define ALI_SECRET "test-secret"
#define TC_ID "AKIDtest0000000000000000"
#define TC_KEY "test-secret-key"

static const char *const env_ok[] = {
  "T_ALI_ID=" ALI_ID, "T_ALI_SECRET=" ALI_SECRET, "T_TC_ID=" TC_ID, "T_TC_KEY=" TC_KEY, NULL,
};

typedef enum { SVC_TENCENT, SVC_DEEPFAKE, SVC_AIGC } Service;

typedef struct {
  gchar *dir, *ini, *out;
  guint  rows;
  gboolean paced;          /* stay under the services' documented rates (host limiter) */
  guint8 digest[16][32];
} Fixture;

/* ------------------------------------------------------------ setup */

static GBytes *
make_image (guint seed)
{
  g_autoptr (VhPixels) px = vh_pixels_new (96, 72);
  for (gint i = 0; i < 96 * 72 * 3; i++)
    px->rgb[i] = (guint8) ((i / 3 % 96) * 2 + (i / 288) + seed * 37 + (i % 3) * 50);
  GError *e = NULL;
  g_autoptr (VhImage) img = vh_image_encode_jpeg (px, 90, &e);
  g_assert_no_error (e);
  return g_bytes_ref (img->bytes);
}

static void
digest_of (GBytes *b, guint8 out[32])
{
  gsize n = 32;
  GChecksum *c = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (c, g_bytes_get_data (b, NULL), (gssize) g_bytes_get_size (b));
  g_checksum_get_digest (c, out, &n);
  g_checksum_free (c);
}

typedef gboolean (*Wanted) (const guint8 *d);

/* The first seed from `start` whose image digest satisfies `want`. */
static guint
find_seed (guint start, Wanted want)
{
  for (guint s = start; s < start + 4000; s++)
    {
      g_autoptr (GBytes) b = make_image (s);
      guint8 d[32];
      digest_of (b, d);
      if (want == NULL || want (d))
        return s;
    }
  g_assert_not_reached ();
}

static void
add_row (Fixture *f, GString *csv, guint seed)
{
  g_autoptr (GBytes) b = make_image (seed);
  digest_of (b, f->digest[f->rows]);
  g_autofree gchar *name = g_strdup_printf ("imgs/r%u.jpg", f->rows + 1);
  g_autofree gchar *path = g_build_filename (f->dir, name, NULL);
  GError *e = NULL;
  g_file_set_contents (path, g_bytes_get_data (b, NULL), (gssize) g_bytes_get_size (b), &e);
  g_assert_no_error (e);
  g_string_append_printf (csv, "%u,tie,make it look generated,%s,\n", f->rows + 1, name);
  f->rows++;
}

static void
write_tasks (Fixture *f, const guint *seeds, guint n)
{
  GString *csv = g_string_new ("index,task_type,prompt,ori_image,target_image\n");
  f->rows = 0;
  for (guint i = 0; i < n; i++)
    add_row (f, csv, seeds[i]);
  vht_write (f->dir, "task.csv", csv->str);
  g_string_free (csv, TRUE);
}

static gchar *
det_section (Service svc, const char *extra)
{
  const char *url = vh_emu_base_url (emu);
  switch (svc)
    {
    case SVC_TENCENT:
      return g_strdup_printf ("plugin = tencent-aifake\nendpoint = %s/tencent-faceid\n"
                              "secret_id_env = T_TC_ID\nsecret_key_env = T_TC_KEY\n%s", url, extra);
    case SVC_DEEPFAKE:
      return g_strdup_printf ("plugin = aliyun-deepfake\nendpoint = %s/aliyun-cloudauth\n"
                              "upload_endpoint = %s/aliyun-openplatform\n"
                              "access_key_id_env = T_ALI_ID\naccess_key_secret_env = T_ALI_SECRET\n%s", url, url, extra);
    default:
      return g_strdup_printf ("plugin = aliyun-aigc\nendpoint = %s/aliyun-green\n"
                              "access_key_id_env = T_ALI_ID\naccess_key_secret_env = T_ALI_SECRET\n%s", url, extra);
    }
}

static void
write_ini (Fixture *f, Service svc, const char *extra)
{
  g_autofree gchar *det = det_section (svc, extra != NULL ? extra : "");
  g_autofree gchar *ini = g_strdup_printf ("[vhost]\ntasks = task.csv\nimages = .\noutput = out\nworkers = 4\n\n"
                                           "[instance gen]\nplugin = testgen\nmode = copy\n\n"
                                           "[instance det]\n%s%s\n[route tie]\nchain = gen, det\n", det,
                                           f->paced ? "qps = 2.5\n" : "");
  vht_write (f->dir, "pipeline.ini", ini);
}

static void
setup (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  g_assert_true (vh_emu_reset (emu, &error));
  vht_run_dir_new (&f->dir, &f->ini, &f->out);
  g_autofree gchar *imgs = g_build_filename (f->dir, "imgs", NULL);
  g_mkdir_with_parents (imgs, 0755);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  vht_run_dir_free (f->dir, f->ini, f->out, "DET_KEEP");
}

/* ------------------------------------------------------------ journal */

/* A row's journal member by its number (vht_journal_field). */
static const char *
field (GHashTable *rows, guint index, const char *name)
{
  g_autofree gchar *key = g_strdup_printf ("%u", index);
  return vht_journal_field (rows, key, name);
}

static json_object *
verdict (GHashTable *rows, guint index)
{
  g_autofree gchar *key = g_strdup_printf ("%u", index);
  json_object *o = g_hash_table_lookup (rows, key), *notes = NULL, *v = NULL;
  if (o == NULL || !json_object_object_get_ex (o, "notes", &notes) || !json_object_object_get_ex (notes, "verdict.det", &v))
    return NULL;
  return v;
}

static gboolean
has_label (json_object *v, const char *label)
{
  json_object *labels = NULL;
  g_assert_true (json_object_object_get_ex (v, "labels", &labels));
  g_assert_true (json_object_is_type (labels, json_type_array));
  for (size_t i = 0; i < json_object_array_length (labels); i++)
    if (g_strcmp0 (json_object_get_string (json_object_array_get_idx (labels, i)), label) == 0)
      return TRUE;
  return FALSE;
}

static VhtResult *
run_vhost (Fixture *f, const char *const *env)
{
  VhtResult *r = vht_vhost (env != NULL ? env : env_ok, "--config", f->ini, NULL);
  return r;
}

/* ------------------------------------------------------------ predictions */

static void
check_verdict (Service svc, json_object *v, const guint8 *d, const char *service_name)
{
  g_assert_nonnull (v);
  json_object *score = NULL, *lat = NULL, *level = NULL, *service = NULL;
  g_assert_true (json_object_object_get_ex (v, "score", &score));
  g_assert_true (json_object_object_get_ex (v, "latency_ms", &lat));
  g_assert_true (json_object_object_get_ex (v, "level", &level));
  g_assert_true (json_object_object_get_ex (v, "service", &service));
  g_assert_cmpstr (json_object_get_string (service), ==, service_name);
  g_assert_true (json_object_is_type (lat, json_type_int));
  gdouble got = json_object_get_double (score), s = d[0] / 255.0;
  g_assert_cmpfloat (got, >=, 0);
  g_assert_cmpfloat (got, <=, 1);
  switch (svc)
    {
    case SVC_TENCENT:
      g_assert_cmpstr (json_object_get_string (level), ==, d[0] < 128 ? "Low" : d[0] < 204 ? "Mid" : "High");
      g_assert_cmpfloat_with_epsilon (got, d[0] < 128 ? 0.0 : d[0] < 204 ? 0.5 : 1.0, 1e-9);
      g_assert_true (has_label (v, "SuspectedSynthesisImage") == (d[0] >= 204));
      g_assert_true (has_label (v, "SuspectedWatermark") == (d[0] >= 128 && d[0] < 204));
      /* the older spelling arrives, the verdict reports the current one */
      g_assert_true (has_label (v, "SuspectedAnomalyAttack") == (d[0] >= 204 && d[1] >= 128));
      g_assert_false (has_label (v, "SuspectedeAnomalyAttack"));
      break;
    case SVC_DEEPFAKE:
      g_assert_cmpstr (json_object_get_string (level), ==, s >= 0.8 ? "1" : s >= 0.5 ? "2" : "0");
      g_assert_cmpfloat_with_epsilon (got, s, 1e-4);
      g_assert_true (has_label (v, "SuspectDeepForgery") == (s >= 0.5));
      /* "SuspectWarterMark" in the tag list: reported with the score map's spelling */
      g_assert_true (has_label (v, "SuspectWaterMark") == (d[1] >= 128));
      g_assert_false (has_label (v, "SuspectWarterMark"));
      break;
    case SVC_AIGC:
      g_assert_cmpstr (json_object_get_string (level), ==, s < 0.5 ? "none" : s >= 0.8 ? "high" : "medium");
      g_assert_cmpfloat_with_epsilon (got, s, 6e-5);     /* confidence has two decimals of a percentage */
      g_assert_true (has_label (v, s >= 0.5 ? "aigc" : "ugc"));
      break;
    }
}

static gboolean
any (const guint8 *d)
{
  return TRUE;
}

static void
run_verdicts (Fixture *f, Service svc, const char *extra, const char *service_name)
{
  /* Eight images; enough to cover every branch of most predictions. */
  guint seeds[8];
  for (guint i = 0; i < 8; i++)
    seeds[i] = find_seed (i * 11, any);
  write_tasks (f, seeds, 8);
  f->paced = TRUE;
  write_ini (f, svc, extra);
  g_autoptr (VhtResult) r = run_vhost (f, NULL);
  if (r->status != 0)
    g_error ("vhost exited %d\nstdout:\n%s\nstderr:\n%s", r->status, r->out, r->err);
  g_autoptr (GHashTable) rows = vht_read_journal (f->out);
  for (guint i = 1; i <= f->rows; i++)
    {
      g_assert_cmpstr (field (rows, i, "status"), ==, "done");
      check_verdict (svc, verdict (rows, i), f->digest[i - 1], service_name);
    }
  /* The image went on unchanged. */
  g_autofree gchar *out1 = g_build_filename (f->out, "imgs", "1.jpg", NULL);
  g_assert_true (g_file_test (out1, G_FILE_TEST_EXISTS));
}

static void
test_tencent_verdicts (Fixture *f, gconstpointer data)
{
  run_verdicts (f, SVC_TENCENT, NULL, "tencent-faceid/DetectAIFakeFaces");
}

static void
test_deepfake_intl_verdicts (Fixture *f, gconstpointer data)
{
  run_verdicts (f, SVC_DEEPFAKE, NULL, "aliyun-cloudauth/DeepfakeDetectIntl");
  /* Intl parameters where the SDK puts them, V3 signed. */
  g_autofree gchar *log = vh_emu_requests_json (emu);
  g_assert_nonnull (strstr (log, "\"ProductCode\":\"FACE_DEEPFAKE\""));
  g_assert_nonnull (strstr (log, "ACS3-HMAC-SHA256 Credential=" ALI_ID ","));
}

static void
test_deepfake_china_rpc_verdicts (Fixture *f, gconstpointer data)
{
  run_verdicts (f, SVC_DEEPFAKE, "api = china\nsigning = rpc\n", "aliyun-cloudauth/DeepfakeDetect");
  g_autofree gchar *log = vh_emu_requests_json (emu);
  g_assert_nonnull (strstr (log, "\"OuterOrderNo\""));
  g_assert_nonnull (strstr (log, "\"SignatureMethod\":\"HMAC-SHA1\""));
}

static void
test_deepfake_stream_verdicts (Fixture *f, gconstpointer data)
{
  run_verdicts (f, SVC_DEEPFAKE, "input = stream\n", "aliyun-cloudauth/DeepfakeDetectIntlStream");
  g_autofree gchar *stats = vh_emu_stats_json (emu);
  g_assert_nonnull (strstr (stats, "\"oss_uploads\":8"));
}

static void
test_aigc_verdicts (Fixture *f, gconstpointer data)
{
  run_verdicts (f, SVC_AIGC, NULL, "aliyun-green/aigcDetector_global");
  /* One upload token for the run (cached), eight PutObjects. */
  g_autofree gchar *log = vh_emu_requests_json (emu);
  json_object *list = json_tokener_parse (log);
  guint tokens = 0, puts = 0;
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *rq = json_object_array_get_idx (list, i), *h = NULL, *a = NULL, *m = NULL;
      json_object_object_get_ex (rq, "method", &m);
      if (json_object_object_get_ex (rq, "headers", &h) && json_object_object_get_ex (h, "x-acs-action", &a)
          && g_strcmp0 (json_object_get_string (a), "DescribeUploadToken") == 0)
        tokens++;
      if (g_strcmp0 (json_object_get_string (m), "PUT") == 0)
        puts++;
    }
  json_object_put (list);
  g_assert_cmpuint (tokens, ==, 1);
  g_assert_cmpuint (puts, ==, 8);
}

/* ------------------------------------------------------------ the gate */

static gboolean
tencent_high (const guint8 *d)
{
  return d[0] >= 204;
}

static gboolean
tencent_low (const guint8 *d)
{
  return d[0] < 128;
}

static void
test_gate_rejects (Fixture *f, gconstpointer data)
{
  guint seeds[4] = { find_seed (0, tencent_high), find_seed (0, tencent_low), find_seed (500, tencent_high),
                     find_seed (500, tencent_low) };
  write_tasks (f, seeds, 4);
  f->paced = TRUE;
  write_ini (f, SVC_TENCENT, "reject_above = 0.75\n");
  g_autoptr (VhtResult) r = run_vhost (f, NULL);
  g_autoptr (GHashTable) rows = vht_read_journal (f->out);
  for (guint i = 1; i <= 4; i++)
    {
      gboolean high = i % 2 == 1;
      g_assert_cmpstr (field (rows, i, "status"), ==, high ? "failed" : "done");
      if (high)
        {
          g_assert_cmpstr (field (rows, i, "class"), ==, "rejected");
          g_assert_nonnull (strstr (field (rows, i, "error"), "reject_above"));
        }
      /* The verdict is noted whether or not the row passes. */
      check_verdict (SVC_TENCENT, verdict (rows, i), f->digest[i - 1], "tencent-faceid/DetectAIFakeFaces");
    }
  g_assert_cmpint (r->status, !=, 0);
}

/* ------------------------------------------------------------ errors */

static void
run_failing (Fixture *f, Service svc, const char *extra, const char *const *env, const char *klass)
{
  guint seeds[3] = { 1, 2, 3 };
  write_tasks (f, seeds, 3);
  write_ini (f, svc, extra);
  g_autoptr (VhtResult) r = run_vhost (f, env);
  g_autoptr (GHashTable) rows = vht_read_journal (f->out);
  guint failed = 0;
  for (guint i = 1; i <= 3; i++)
    if (g_strcmp0 (field (rows, i, "status"), "failed") == 0)
      {
        g_assert_cmpstr (field (rows, i, "class"), ==, klass);
        failed++;
      }
  g_assert_cmpuint (failed, >=, 1);
}

static const char *const env_bad_secret[] = {
  "T_ALI_ID=" ALI_ID, "T_ALI_SECRET=not-the-secret", "T_TC_ID=" TC_ID, "T_TC_KEY=not-the-key", NULL,
};

static void
test_wrong_secret_auth (Fixture *f, gconstpointer data)
{
  for (Service svc = SVC_TENCENT; svc <= SVC_AIGC; svc++)
    {
      run_failing (f, svc, NULL, env_bad_secret, "auth");
      g_autofree gchar *journal = g_build_filename (f->out, "journal.jsonl", NULL);
      g_unlink (journal);
    }
  /* And the legacy RPC signature is checked as strictly. */
  run_failing (f, SVC_DEEPFAKE, "signing = rpc\n", env_bad_secret, "auth");
}

static void
test_throttling_quota (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  /* One call per 100 s per key: the first row passes, the others are refused
   * with each service's own throttling answer (Tencent RequestLimitExceeded
   * in a 200, cloudauth 403 Throttling.Api, green 429 Throttling.User). */
  g_assert_true (vh_emu_configure (emu, "{\"endpoints\": {\"tencent.faceid\": {\"qps\": 0.01},"
                                   " \"aliyun.cloudauth\": {\"qps\": 0.01}, \"aliyun.green\": {\"qps\": 0.02}}}", &error));
  g_assert_no_error (error);
  for (Service svc = SVC_TENCENT; svc <= SVC_AIGC; svc++)
    {
      run_failing (f, svc, NULL, NULL, "quota");
      g_autofree gchar *journal = g_build_filename (f->out, "journal.jsonl", NULL);
      g_unlink (journal);
    }
}

static void
test_bad_image_invalid_input (Fixture *f, gconstpointer data)
{
  /* A "JPEG" that does not decode: refused before any call, as INVALID_INPUT. */
  vht_write (f->dir, "imgs/bad.jpg", "\xff\xd8\xff\xe0 not really a jpeg");
  vht_write (f->dir, "task.csv", "index,task_type,prompt,ori_image,target_image\n1,tie,x,imgs/bad.jpg,\n");
  write_ini (f, SVC_TENCENT, NULL);
  g_autoptr (VhtResult) r = run_vhost (f, NULL);
  g_autoptr (GHashTable) rows = vht_read_journal (f->out);
  g_assert_cmpstr (field (rows, 1, "status"), ==, "failed");
  g_assert_cmpstr (field (rows, 1, "class"), ==, "invalid-input");
}

/* ------------------------------------------------------------ secrets */

static void
assert_absent (Fixture *f, const VhtResult *r, const char *const *secrets)
{
  for (const char *const *s = secrets; *s != NULL; s++)
    {
      if (strstr (r->out, *s) != NULL || strstr (r->err, *s) != NULL)
        g_error ("a credential (%zu chars) appears in vhost's output", strlen (*s));
      GDir *d = g_dir_open (f->out, 0, NULL);
      g_assert_nonnull (d);
      for (const char *name; (name = g_dir_read_name (d)) != NULL;)
        {
          g_autofree gchar *p = g_build_filename (f->out, name, NULL);
          if (g_file_test (p, G_FILE_TEST_IS_DIR))
            continue;
          g_autofree gchar *text = vht_read (p);
          if (text != NULL && strstr (text, *s) != NULL)
            g_error ("%s contains a credential", name);
        }
      g_dir_close (d);
    }
}

static void
test_credentials_never_shown (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  g_assert_true (vh_emu_configure (emu, "{\"keys\": {\"aliyun\": [\"LTAIleakcheck7f3e9a21:ali-s3cr3t-9b8c7d6e\"],"
                                   " \"tencent\": [\"AKIDleakcheck5c4b3a29180:tc-s3cr3t-1a2b3c4d\"]}}", &error));
  g_assert_no_error (error);
  const char *env[] = { "T_ALI_ID=LTAIleakcheck7f3e9a21", "T_ALI_SECRET=ali-s3cr3t-9b8c7d6e",
                        "T_TC_ID=AKIDleakcheck5c4b3a29180", "T_TC_KEY=tc-s3cr3t-1a2b3c4d", NULL };
  const char *secrets[] = { "LTAIleakcheck7f3e9a21", "ali-s3cr3t-9b8c7d6e", "AKIDleakcheck5c4b3a29180",
                            "tc-s3cr3t-1a2b3c4d", NULL };
  guint seeds[3] = { 4, 5, 6 };
  for (Service svc = SVC_TENCENT; svc <= SVC_AIGC; svc++)
    {
      write_tasks (f, seeds, 3);
      f->paced = TRUE;
      write_ini (f, svc, "reject_above = 0.6\n");
      /* A successful run (some rows rejected), verbose. */
      g_autoptr (VhtResult) ok = vht_vhost (env, "--config", f->ini, "--verbose", NULL);
      g_autoptr (GHashTable) rows = vht_read_journal (f->out);
      g_assert_nonnull (verdict (rows, 1));
      assert_absent (f, ok, secrets);
      vht_rm_rf (f->out);
      /* A failing one: wrong secret, the id still valid. */
      const char *bad[] = { "T_ALI_ID=LTAIleakcheck7f3e9a21", "T_ALI_SECRET=ali-wrong-000", "T_TC_ID=AKIDleakcheck5c4b3a29180",
                            "T_TC_KEY=tc-wrong-000", NULL };
      const char *bad_secrets[] = { "LTAIleakcheck7f3e9a21", "ali-wrong-000", "AKIDleakcheck5c4b3a29180", "tc-wrong-000", NULL };
      g_autoptr (VhtResult) fail = vht_vhost (bad, "--config", f->ini, "--verbose", NULL);
      assert_absent (f, fail, bad_secrets);
      vht_rm_rf (f->out);
    }
}

/* ------------------------------------------------------------ protocol */

typedef struct {
  gint64      date_offset_s;
  const char *nonce;
  const char *secret;
  const char *id;
} Acs3Opts;

static VhEmuResponse *
acs3_post (const char *prefix, const char *action, const char *version, const Acs3Opts *o)
{
  g_autofree gchar *host = g_strdup_printf ("127.0.0.1:%u", vh_emu_port (emu));
  g_autofree gchar *path = g_strdup_printf ("%s/", prefix);
  g_autofree gchar *url = g_strdup_printf ("%s%s", vh_emu_base_url (emu), path);
  g_autofree gchar *date = vh_sign_iso8601 (g_get_real_time () / G_USEC_PER_SEC + o->date_offset_s);
  g_autofree gchar *nonce = o->nonce != NULL ? g_strdup (o->nonce) : vh_sign_nonce ();
  const char *body = "Service=aigcDetector_global&ServiceParameters=%7B%7D";
  g_autofree gchar *hash = vh_sign_sha256_hex (body, strlen (body));
  VhSignParam h[] = {
    { "host", host }, { "x-acs-action", action }, { "x-acs-version", version }, { "x-acs-date", date },
    { "x-acs-signature-nonce", nonce }, { "x-acs-content-sha256", hash },
    { "content-type", "application/x-www-form-urlencoded" },
  };
  VhAcs3Input in = { "POST", path, NULL, 0, h, G_N_ELEMENTS (h), body, strlen (body),
                     o->id != NULL ? o->id : ALI_ID, o->secret != NULL ? o->secret : ALI_SECRET };
  VhSignature s;
  vh_sign_acs3 (&in, &s);
  gchar *hh[G_N_ELEMENTS (h) + 1] = { NULL };
  const char *headers[G_N_ELEMENTS (h) + 2];
  for (guint i = 1; i < G_N_ELEMENTS (h); i++)
    headers[i - 1] = hh[i - 1] = g_strdup_printf ("%s: %s", h[i].name, h[i].value);
  g_autofree gchar *auth = g_strdup_printf ("Authorization: %s", s.authorization);
  headers[G_N_ELEMENTS (h) - 1] = auth;
  headers[G_N_ELEMENTS (h)] = NULL;
  vh_signature_clear (&s);
  VhEmuResponse *r = vh_emu_http ("POST", url, headers, body, strlen (body), 0);
  for (guint i = 0; i < G_N_ELEMENTS (h); i++)
    g_free (hh[i]);
  return r;
}

static const char *
pop_code (VhEmuResponse *r)
{
  static gchar buf[128];
  json_object *o = json_tokener_parse (vh_emu_response_text (r)), *c = NULL;
  buf[0] = '\0';
  if (o != NULL && json_object_object_get_ex (o, "Code", &c))
    g_strlcpy (buf, json_object_get_string (c), sizeof buf);
  json_object_put (o);
  return buf;
}

static void
test_protocol_aliyun_refusals (Fixture *f, gconstpointer data)
{
  Acs3Opts ok = { 0 };
  g_autoptr (VhEmuResponse) r0 = acs3_post ("/aliyun-green", "DescribeUploadToken", "2022-03-02", &ok);
  g_assert_cmpint (r0->status, ==, 200);
  g_assert_cmpstr (pop_code (r0), ==, "200");

  Acs3Opts stale = { .date_offset_s = -16 * 60 };
  g_autoptr (VhEmuResponse) r1 = acs3_post ("/aliyun-green", "DescribeUploadToken", "2022-03-02", &stale);
  g_assert_cmpint (r1->status, ==, 400);
  g_assert_cmpstr (pop_code (r1), ==, "InvalidTimeStamp.Expired");

  Acs3Opts wrong = { .secret = "wrong" };
  g_autoptr (VhEmuResponse) r2 = acs3_post ("/aliyun-cloudauth", "DeepfakeDetectIntl", "2022-08-09", &wrong);
  g_assert_cmpint (r2->status, ==, 400);
  g_assert_cmpstr (pop_code (r2), ==, "SignatureDoesNotMatch");
  g_assert_nonnull (strstr (vh_emu_response_text (r2), "\"Recommend\""));

  Acs3Opts unknown = { .id = "LTAInobody", .secret = "x" };
  g_autoptr (VhEmuResponse) r3 = acs3_post ("/aliyun-green", "DescribeUploadToken", "2022-03-02", &unknown);
  g_assert_cmpint (r3->status, ==, 404);
  g_assert_cmpstr (pop_code (r3), ==, "InvalidAccessKeyId.NotFound");

  Acs3Opts once = { .nonce = "a-nonce-used-twice-0123456789abcdef" };
  g_autoptr (VhEmuResponse) r4 = acs3_post ("/aliyun-green", "DescribeUploadToken", "2022-03-02", &once);
  g_assert_cmpint (r4->status, ==, 200);
  g_autoptr (VhEmuResponse) r5 = acs3_post ("/aliyun-green", "DescribeUploadToken", "2022-03-02", &once);
  g_assert_cmpint (r5->status, ==, 400);
  g_assert_cmpstr (pop_code (r5), ==, "SignatureNonceUsed");
}

static VhEmuResponse *
tc3_post (gint64 ts_offset, const char *key)
{
  g_autofree gchar *host = g_strdup_printf ("127.0.0.1:%u", vh_emu_port (emu));
  g_autofree gchar *url = g_strdup_printf ("%s/tencent-faceid/", vh_emu_base_url (emu));
  gint64 ts = g_get_real_time () / G_USEC_PER_SEC + ts_offset;
  const char *body = "{\"FaceInput\":\"/9j/4AAQSkZJRg==\",\"FaceInputType\":1}";
  VhSignParam h[] = { { "content-type", "application/json; charset=utf-8" }, { "host", host },
                      { "x-tc-action", "DetectAIFakeFaces" } };
  VhTc3Input in = { "POST", "/tencent-faceid/", "", h, 3, body, strlen (body), "faceid", ts, TC_ID, key };
  VhSignature s;
  vh_sign_tc3 (&in, &s);
  g_autofree gchar *auth = g_strdup_printf ("Authorization: %s", s.authorization);
  g_autofree gchar *tsh = g_strdup_printf ("X-TC-Timestamp: %" G_GINT64_FORMAT, ts);
  vh_signature_clear (&s);
  const char *headers[] = { "Content-Type: application/json; charset=utf-8", "X-TC-Action: DetectAIFakeFaces",
                            "X-TC-Version: 2018-03-01", tsh, auth, NULL };
  return vh_emu_http ("POST", url, headers, body, strlen (body), 0);
}

static const char *
tc_code (VhEmuResponse *r)
{
  static gchar buf[128];
  json_object *o = json_tokener_parse (vh_emu_response_text (r)), *resp = NULL, *err = NULL, *c = NULL;
  buf[0] = '\0';
  if (o != NULL && json_object_object_get_ex (o, "Response", &resp) && json_object_object_get_ex (resp, "Error", &err)
      && json_object_object_get_ex (err, "Code", &c))
    g_strlcpy (buf, json_object_get_string (c), sizeof buf);
  json_object_put (o);
  return buf;
}

static void
test_protocol_tencent_refusals (Fixture *f, gconstpointer data)
{
  /* Signed correctly, but the 13-byte "JPEG" does not decode. */
  g_autoptr (VhEmuResponse) r0 = tc3_post (0, TC_KEY);
  g_assert_cmpint (r0->status, ==, 200);
  g_assert_cmpstr (tc_code (r0), ==, "FailedOperation.ImageDecodeFailed");
  g_autoptr (VhEmuResponse) r1 = tc3_post (-301, TC_KEY);
  g_assert_cmpstr (tc_code (r1), ==, "AuthFailure.SignatureExpire");
  g_autoptr (VhEmuResponse) r2 = tc3_post (0, "wrong-key");
  g_assert_cmpint (r2->status, ==, 200);      /* API 3.0 errors arrive with HTTP 200 */
  g_assert_cmpstr (tc_code (r2), ==, "AuthFailure.SignatureFailure");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  GError *error = NULL;
  emu = vh_emu_start ("{\"time_scale\": 0.01, \"seed\": 5}", &error);
  g_assert_no_error (error);
#define ADD(path, fn) g_test_add ("/detectors/" path, Fixture, NULL, setup, fn, teardown)
  ADD ("tencent/verdicts", test_tencent_verdicts);
  ADD ("deepfake/intl-verdicts", test_deepfake_intl_verdicts);
  ADD ("deepfake/china-rpc-verdicts", test_deepfake_china_rpc_verdicts);
  ADD ("deepfake/stream-verdicts", test_deepfake_stream_verdicts);
  ADD ("aigc/verdicts", test_aigc_verdicts);
  ADD ("gate/rejects-above", test_gate_rejects);
  ADD ("errors/wrong-secret-auth", test_wrong_secret_auth);
  ADD ("errors/throttling-quota", test_throttling_quota);
  ADD ("errors/bad-image-invalid-input", test_bad_image_invalid_input);
  ADD ("secrets/never-shown", test_credentials_never_shown);
  ADD ("protocol/aliyun-refusals", test_protocol_aliyun_refusals);
  ADD ("protocol/tencent-refusals", test_protocol_tencent_refusals);
  int rc = g_test_run ();
  vh_emu_stop (emu);
  return rc;
}
