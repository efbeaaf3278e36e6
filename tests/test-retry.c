/* retry-fallback: the decision table, backoff bounds and breaker as units,
 * then whole runs of vhost through the wrapper with failing test children. */
#include "test-util.h"
#include "../plugins/retry-fallback/rf-policy.h"
#include <json-c/json.h>
#include <string.h>

/* ---------------------------------------------------------------- units */

static void
test_decide (void)
{
  g_assert_cmpint (rf_decide (VH_ERROR_TRANSIENT, 1, 2), ==, RF_RETRY_SAME);
  g_assert_cmpint (rf_decide (VH_ERROR_TRANSIENT, 2, 2), ==, RF_RETRY_SAME);
  g_assert_cmpint (rf_decide (VH_ERROR_TRANSIENT, 3, 2), ==, RF_NEXT_CHILD);
  g_assert_cmpint (rf_decide (VH_ERROR_QUOTA, 1, 0), ==, RF_NEXT_CHILD);
  g_assert_cmpint (rf_decide (VH_ERROR_QUOTA, 1, 1), ==, RF_RETRY_SAME);
  g_assert_cmpint (rf_decide (VH_ERROR_INTERNAL, 1, 1), ==, RF_RETRY_SAME);
  g_assert_cmpint (rf_decide (VH_ERROR_REJECTED, 1, 5), ==, RF_NEXT_CHILD);
  g_assert_cmpint (rf_decide (VH_ERROR_AUTH, 1, 5), ==, RF_DISABLE_CHILD);
  g_assert_cmpint (rf_decide (VH_ERROR_INVALID_INPUT, 1, 5), ==, RF_FAIL_ROW);
  g_assert_cmpint (rf_decide (VH_ERROR_CANCELLED, 1, 5), ==, RF_STOP);
}

static void
test_backoff (void)
{
  /* The ceiling doubles per retry from the base up to the cap. */
  g_assert_cmpint (rf_backoff_ms (1, 1000, 60000, -1, 0.999999), ==, 999);
  g_assert_cmpint (rf_backoff_ms (2, 1000, 60000, -1, 0.999999), ==, 1999);
  g_assert_cmpint (rf_backoff_ms (4, 1000, 60000, -1, 0.999999), ==, 7999);
  g_assert_cmpint (rf_backoff_ms (10, 1000, 60000, -1, 0.999999), ==, 59999);
  g_assert_cmpint (rf_backoff_ms (60, 1000, 60000, -1, 0.5), ==, 30000);
  g_assert_cmpint (rf_backoff_ms (3, 1000, 60000, -1, 0.0), ==, 0);
  /* A longer Retry-After wins; a shorter one does not shorten the wait. */
  g_assert_cmpint (rf_backoff_ms (1, 1000, 60000, 5000, 0.5), ==, 5000);
  g_assert_cmpint (rf_backoff_ms (5, 1000, 60000, 10, 0.5), ==, 8000);
  /* Jitter stays inside [0, ceiling) over many draws, and spreads. */
  GRand *r = g_rand_new_with_seed (7);
  gint64 lo = G_MAXINT64, hi = 0;
  for (int i = 0; i < 10000; i++)
    {
      gint64 v = rf_backoff_ms (3, 500, 60000, -1, g_rand_double (r));
      g_assert_cmpint (v, >=, 0);
      g_assert_cmpint (v, <, 2000);
      lo = MIN (lo, v), hi = MAX (hi, v);
    }
  g_rand_free (r);
  g_assert_cmpint (lo, <, 100);
  g_assert_cmpint (hi, >, 1900);
  gint64 base, cap;
  g_assert_true (rf_parse_backoff ("250ms..2m", &base, &cap, NULL));
  g_assert_cmpint (base, ==, 250);
  g_assert_cmpint (cap, ==, 120000);
  GError *e = NULL;
  g_assert_false (rf_parse_backoff ("5s", &base, &cap, &e));
  g_clear_error (&e);
  g_assert_false (rf_parse_backoff ("5s..1s", &base, &cap, &e));
  g_clear_error (&e);
}

static void
test_breaker (void)
{
  RfBreaker b = { 0 };
  gint64 now = 1000000;
  g_assert_true (rf_breaker_available (&b, now));
  g_assert_false (rf_breaker_failure (&b, 3, 500, now));
  g_assert_false (rf_breaker_failure (&b, 3, 500, now));
  rf_breaker_success (&b);   /* a success resets the count */
  g_assert_false (rf_breaker_failure (&b, 3, 500, now));
  g_assert_false (rf_breaker_failure (&b, 3, 500, now));
  g_assert_true (rf_breaker_failure (&b, 3, 500, now));
  g_assert_false (rf_breaker_available (&b, now + 499000));
  g_assert_true (rf_breaker_available (&b, now + 500000));
  b.disabled = TRUE;
  g_assert_false (rf_breaker_available (&b, now + 10000000));
  RfBreaker never = { 0 };
  for (int i = 0; i < 100; i++)
    g_assert_false (rf_breaker_failure (&never, 0, 500, now));
}

/* ---------------------------------------------------------------- runs */

static json_object *
journal_line (const char *out, const char *index)
{
  g_autofree gchar *path = g_build_filename (out, "journal.jsonl", NULL);
  g_autofree gchar *text = vht_read (path);
  g_assert_nonnull (text);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  json_object *found = NULL;
  for (gchar **l = lines; *l; l++)
    {
      json_object *o = json_tokener_parse (*l), *v;
      if (o && json_object_object_get_ex (o, "index", &v) && strcmp (json_object_get_string (v), index) == 0)
        {
          json_object_put (found);
          found = o;
        }
      else
        json_object_put (o);
    }
  g_assert_nonnull (found);
  return found;
}

static json_object *
attempts_of (json_object *line)
{
  json_object *notes, *attempts;
  g_assert_true (json_object_object_get_ex (line, "notes", &notes));
  g_assert_true (json_object_object_get_ex (notes, "attempts", &attempts));
  return attempts;
}

static const char *
attempt_field (json_object *attempts, guint i, const char *key)
{
  json_object *a = json_object_array_get_idx (attempts, i), *v;
  g_assert_nonnull (a);
  return json_object_object_get_ex (a, key, &v) ? json_object_get_string (v) : NULL;
}

static gchar *
setup_run (const char *a_opts, const char *rf_opts)
{
  gchar *dir = vht_tmpdir ();
  vht_make_tasks (dir, 2);   /* rows 1-2 t2i, 3-4 tie, 5-6 vttie, 7-8 deepfake */
  g_autofree gchar *ini = g_strdup_printf (
      "[vhost]\ntasks = task.csv\nimages = .\nworkers = 2\n"
      "[instance a]\nplugin = testgen\n%s\n"
      "[instance b]\nplugin = testgen\nwidth = 30\n"
      "[instance robust]\nplugin = retry-fallback\ntry = a, b\nbackoff = 10ms..40ms\n%s\n"
      "[route t2i]\nchain = robust\n[route tie]\nchain = robust\n"
      "[route vttie]\nchain = robust\n[route deepfake]\nchain = robust\n",
      a_opts, rf_opts);
  vht_write (dir, "p.ini", ini);
  return dir;
}

static VhtResult *
run_in (const char *dir, const char *extra)
{
  g_autofree gchar *ini = g_build_filename (dir, "p.ini", NULL);
  return vht_vhost (NULL, "--config", ini, "--quiet", extra, NULL);
}

static void
test_retry_then_success (void)
{
  g_autofree gchar *dir = setup_run ("fail_rows = 1\nfail_class = transient\nfail_times = 2", "retries = 3");
  g_autoptr (VhtResult) r = run_in (dir, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree gchar *out = g_build_filename (dir, "out", NULL);
  json_object *line = journal_line (out, "1");
  json_object *att = attempts_of (line);
  g_assert_cmpuint (json_object_array_length (att), ==, 3);
  g_assert_cmpstr (attempt_field (att, 0, "class"), ==, "transient");
  g_assert_cmpstr (attempt_field (att, 1, "class"), ==, "transient");
  g_assert_cmpstr (attempt_field (att, 2, "class"), ==, "ok");
  g_assert_cmpstr (attempt_field (att, 2, "instance"), ==, "a");
  json_object_put (line);
  vht_rm_rf (dir);
}

static void
test_rejected_falls_back_at_once (void)
{
  g_autofree gchar *dir = setup_run ("fail_rows = 3\nfail_class = rejected", "retries = 5");
  g_autoptr (VhtResult) r = run_in (dir, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree gchar *out = g_build_filename (dir, "out", NULL);
  json_object *line = journal_line (out, "3");
  json_object *att = attempts_of (line);
  g_assert_cmpuint (json_object_array_length (att), ==, 2);
  g_assert_cmpstr (attempt_field (att, 0, "class"), ==, "rejected");
  g_assert_cmpstr (attempt_field (att, 1, "instance"), ==, "b");
  json_object_put (line);
  vht_rm_rf (dir);
}

static void
test_exhausted_retries_fall_back (void)
{
  g_autofree gchar *dir = setup_run ("fail_rows = 2\nfail_class = quota\nretry_after = 120ms", "retries = 2\nbreaker_failures = 0");
  g_autoptr (VhtResult) r = run_in (dir, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree gchar *out = g_build_filename (dir, "out", NULL);
  json_object *line = journal_line (out, "2");
  json_object *att = attempts_of (line);
  g_assert_cmpuint (json_object_array_length (att), ==, 4);   /* a, a, a, then b */
  g_assert_cmpstr (attempt_field (att, 3, "instance"), ==, "b");
  /* The Retry-After of the quota answers was obeyed. */
  json_object *a0 = json_object_array_get_idx (att, 0), *w;
  g_assert_true (json_object_object_get_ex (a0, "waited_ms", &w));
  g_assert_cmpint (json_object_get_int64 (w), >=, 120);
  json_object_put (line);
  /* The summary reports the 429s of instance a. */
  g_assert_nonnull (strstr (r->out, "429s"));
  vht_rm_rf (dir);
}

static void
test_invalid_input_fails_row (void)
{
  g_autofree gchar *dir = setup_run ("fail_rows = 4\nfail_class = invalid-input", "retries = 3");
  g_autoptr (VhtResult) r = run_in (dir, NULL);
  g_assert_cmpint (r->status, ==, 2);
  g_autofree gchar *out = g_build_filename (dir, "out", NULL);
  json_object *line = journal_line (out, "4"), *v;
  g_assert_true (json_object_object_get_ex (line, "class", &v));
  g_assert_cmpstr (json_object_get_string (v), ==, "invalid-input");
  g_assert_cmpuint (json_object_array_length (attempts_of (line)), ==, 1);   /* b never tried */
  json_object_put (line);
  vht_rm_rf (dir);
}

static void
test_auth_disables_child (void)
{
  /* Every row fails on a with AUTH: a is called once, then never again. */
  g_autofree gchar *dir = setup_run ("fail_rows = 1,2,3,4,5,6,7,8\nfail_class = auth", "");
  g_autofree gchar *ini = g_build_filename (dir, "p.ini", NULL);
  g_autoptr (VhtResult) r = vht_vhost (NULL, "--config", ini, "--quiet", "--workers", "1", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_nonnull (strstr (r->err, "not used again"));
  g_autofree gchar *out = g_build_filename (dir, "out", NULL);
  guint a_calls = 0;
  for (int i = 1; i <= 8; i++)
    {
      g_autofree gchar *idx = g_strdup_printf ("%d", i);
      json_object *line = journal_line (out, idx);
      json_object *att = attempts_of (line);
      for (guint k = 0; k < json_object_array_length (att); k++)
        a_calls += strcmp (attempt_field (att, k, "instance"), "a") == 0;
      json_object_put (line);
    }
  g_assert_cmpuint (a_calls, ==, 1);
  vht_rm_rf (dir);
}

static void
test_breaker_opens (void)
{
  /* Transient failures on every row: after 2 in a row a rests, and later
   * rows go straight to b while it cools down. */
  g_autofree gchar *dir = setup_run ("fail_rows = 1,2,3,4,5,6,7,8\nfail_class = transient",
                                     "retries = 0\nbreaker_failures = 2\ncooldown = 1m");
  g_autofree gchar *ini = g_build_filename (dir, "p.ini", NULL);
  g_autoptr (VhtResult) r = vht_vhost (NULL, "--config", ini, "--quiet", "--workers", "1", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_nonnull (strstr (r->err, "resting it"));
  g_autofree gchar *out = g_build_filename (dir, "out", NULL);
  json_object *line = journal_line (out, "8");
  json_object *att = attempts_of (line);
  g_assert_cmpuint (json_object_array_length (att), ==, 1);
  g_assert_cmpstr (attempt_field (att, 0, "instance"), ==, "b");
  json_object_put (line);
  vht_rm_rf (dir);
}

static void
test_last_resort (void)
{
  g_autofree gchar *dir = vht_tmpdir ();
  vht_make_tasks (dir, 1);
  vht_write (dir, "p.ini",
             "[vhost]\ntasks = task.csv\nimages = .\n"
             "[instance a]\nplugin = testgen\nfail_rows = 2\nfail_class = rejected\n"
             "[instance robust]\nplugin = retry-fallback\ntry = a\nlast_resort = keep-original\n"
             "[route t2i]\nchain = robust\n[route tie]\nchain = robust\n"
             "[route vttie]\nchain = robust\n[route deepfake]\nchain = robust\n");
  g_autoptr (VhtResult) r = run_in (dir, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_nonnull (strstr (r->err, "last resort"));
  g_autofree gchar *out = g_build_filename (dir, "out", NULL);
  json_object *line = journal_line (out, "2"), *notes, *lr;
  g_assert_true (json_object_object_get_ex (line, "notes", &notes));
  g_assert_true (json_object_object_get_ex (notes, "last_resort", &lr));
  g_assert_cmpstr (json_object_get_string (lr), ==, "keep-original");
  json_object_put (line);
  /* The summary's last-resort column counts it (tie row). */
  g_auto (GStrv) lines = g_strsplit (r->out, "\n", -1);
  gboolean seen = FALSE;
  for (gchar **l = lines; *l; l++)
    if (g_str_has_prefix (*l, "tie "))
      seen = g_str_has_suffix (g_strstrip (*l), " 1");
  g_assert_true (seen);
  vht_rm_rf (dir);
}

static void
test_wrapper_cycle_refused (void)
{
  g_autofree gchar *dir = vht_tmpdir ();
  vht_make_tasks (dir, 1);
  vht_write (dir, "p.ini",
             "[vhost]\ntasks = task.csv\nimages = .\n"
             "[instance x]\nplugin = retry-fallback\ntry = y\n"
             "[instance y]\nplugin = retry-fallback\ntry = x\n");
  g_autofree gchar *ini = g_build_filename (dir, "p.ini", NULL);
  g_autoptr (VhtResult) r = vht_vhost (NULL, "check-config", ini, NULL);
  g_assert_cmpint (r->status, ==, 1);
  g_assert_nonnull (strstr (r->err, "cycle: x -> y -> x"));
  vht_rm_rf (dir);
}

static guint
count_instance (const char *out, const char *instance)
{
  guint n = 0;
  for (int i = 1; i <= 8; i++)
    {
      g_autofree gchar *idx = g_strdup_printf ("%d", i);
      json_object *line = journal_line (out, idx), *v;
      g_assert_true (json_object_object_get_ex (line, "status", &v));
      g_assert_cmpstr (json_object_get_string (v), ==, "done");
      json_object *att = attempts_of (line);
      n += strcmp (attempt_field (att, json_object_array_length (att) - 1, "instance"), instance) == 0;
      json_object_put (line);
    }
  return n;
}

static void
test_spread_adds_quotas (void)
{
  /* Two "accounts" of one model, one call in flight each: spread uses both,
   * fallback keeps every row on the first (it never fails). */
  const char *kinds[] = { "spread", "fallback" };
  for (guint k = 0; k < 2; k++)
    {
      g_autofree gchar *dir = vht_tmpdir ();
      vht_make_tasks (dir, 2);
      g_autofree gchar *ini = g_strdup_printf (
          "[vhost]\ntasks = task.csv\nimages = .\nworkers = 4\n"
          "[instance a]\nplugin = testgen\nsleep = 150ms\nconcurrency = 1\n"
          "[instance b]\nplugin = testgen\nsleep = 150ms\nconcurrency = 1\n"
          "[instance both]\nplugin = retry-fallback\ntry = a, b\nstrategy = %s\n"
          "[route t2i]\nchain = both\n[route tie]\nchain = both\n"
          "[route vttie]\nchain = both\n[route deepfake]\nchain = both\n", kinds[k]);
      vht_write (dir, "p.ini", ini);
      g_autoptr (VhtResult) r = run_in (dir, NULL);
      g_assert_cmpint (r->status, ==, 0);
      g_autofree gchar *out = g_build_filename (dir, "out", NULL);
      guint a = count_instance (out, "a"), b = count_instance (out, "b");
      g_assert_cmpuint (a + b, ==, 8);
      if (k == 0)
        {
          g_assert_cmpuint (a, >=, 2);
          g_assert_cmpuint (b, >=, 2);
        }
      else
        g_assert_cmpuint (b, ==, 0);
      vht_rm_rf (dir);
    }
}

/* spread binds a row to an account only when one has a free slot: a fast
 * account serves most rows instead of half of them waiting behind a slow
 * one (choosing by load on arrival would split the 8 rows 4/4). */
static void
test_spread_takes_first_free (void)
{
  g_autofree gchar *dir = vht_tmpdir ();
  vht_make_tasks (dir, 2);
  vht_write (dir, "p.ini",
             "[vhost]\ntasks = task.csv\nimages = .\nworkers = 8\n"
             "[instance slow]\nplugin = testgen\nsleep = 900ms\nconcurrency = 1\n"
             "[instance fast]\nplugin = testgen\nsleep = 100ms\nconcurrency = 1\n"
             "[instance both]\nplugin = retry-fallback\ntry = slow, fast\nstrategy = spread\n"
             "[route t2i]\nchain = both\n[route tie]\nchain = both\n"
             "[route vttie]\nchain = both\n[route deepfake]\nchain = both\n");
  g_autoptr (VhtResult) r = run_in (dir, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree gchar *out = g_build_filename (dir, "out", NULL);
  guint slow = count_instance (out, "slow"), fast = count_instance (out, "fast");
  g_assert_cmpuint (slow + fast, ==, 8);
  g_assert_cmpuint (slow, >=, 1);
  g_assert_cmpuint (fast, >=, 6);
  vht_rm_rf (dir);
}

static gint
note_int (json_object *line, const char *key)
{
  json_object *notes, *v;
  g_assert_true (json_object_object_get_ex (line, "notes", &notes));
  g_assert_true (json_object_object_get_ex (notes, key, &v));
  return json_object_get_int (v);
}

/* A provider's task ends before its result is downloaded: a plugin that says
 * so (vh_task_release_slot) lets the next row start at once, through a
 * wrapper, while the host never lets two calls hold the one slot.  Without
 * the release, calls never overlap at all. */
static void
test_early_slot_release (void)
{
  for (guint release = 0; release < 2; release++)
    {
      g_autofree gchar *dir = vht_tmpdir ();
      vht_make_tasks (dir, 1);   /* 4 rows, one per type */
      g_autofree gchar *ini = g_strdup_printf (
          "[vhost]\ntasks = task.csv\nimages = .\nworkers = 4\n"
          "[instance gen]\nplugin = testgen\nsleep = 400ms\nrelease_after = %s\nconcurrency = 1\n"
          "[instance wrap]\nplugin = retry-fallback\ntry = gen\n"
          "[route t2i]\nchain = wrap\n[route tie]\nchain = wrap\n"
          "[route vttie]\nchain = wrap\n[route deepfake]\nchain = wrap\n", release ? "150ms" : "0ms");
      vht_write (dir, "p.ini", ini);
      g_autoptr (VhtResult) r = run_in (dir, NULL);
      g_assert_cmpint (r->status, ==, 0);
      g_autofree gchar *out = g_build_filename (dir, "out", NULL);
      guint overlapped = 0, wanted = 0;
      for (guint i = 1; i <= 4; i++)
        {
          g_autofree gchar *idx = g_strdup_printf ("%u", i);
          json_object *line = journal_line (out, idx);
          g_assert_cmpint (note_int (line, "testgen_holding"), ==, 0);   /* the quota, never exceeded */
          overlapped += note_int (line, "testgen_running") > 0;
          if (release)
            {
              json_object *notes, *v;
              g_assert_true (json_object_object_get_ex (line, "notes", &notes));
              g_assert_true (json_object_object_get_ex (notes, "testgen_slot_wanted", &v));
              wanted += json_object_get_boolean (v);
            }
          json_object_put (line);
        }
      if (release)
        {
          g_assert_cmpuint (overlapped, ==, 3);   /* each next row started during a download */
          g_assert_cmpuint (wanted, ==, 3);       /* the last row to run had nobody waiting */
        }
      else
        g_assert_cmpuint (overlapped, ==, 0);
      vht_rm_rf (dir);
    }
}

static void
test_gate_sends_to_next_generator (void)
{
  /* A detector gate (here a test stage that rejects rows 1 and 3) inside a
   * sequence: its REJECTED makes retry-fallback try the next generator. */
  g_autofree gchar *dir = vht_tmpdir ();
  vht_make_tasks (dir, 1);
  vht_write (dir, "p.ini",
             "[vhost]\ntasks = task.csv\nimages = .\n"
             "[instance gen-a]\nplugin = testgen\n"
             "[instance gate]\nplugin = testgen\nmode = copy\nfail_rows = 1, 3\nfail_class = rejected\n"
             "[instance a-checked]\nplugin = sequence\nstages = gen-a, gate\n"
             "[instance gen-b]\nplugin = testgen\nwidth = 20\n"
             "[instance robust]\nplugin = retry-fallback\ntry = a-checked, gen-b\n"
             "[route t2i]\nchain = robust\n[route tie]\nchain = robust\n"
             "[route vttie]\nchain = robust\n[route deepfake]\nchain = robust\n");
  g_autoptr (VhtResult) r = run_in (dir, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree gchar *out = g_build_filename (dir, "out", NULL);
  json_object *line = journal_line (out, "1");
  json_object *att = attempts_of (line);
  g_assert_cmpuint (json_object_array_length (att), ==, 2);
  g_assert_cmpstr (attempt_field (att, 0, "instance"), ==, "a-checked");
  g_assert_cmpstr (attempt_field (att, 0, "class"), ==, "rejected");
  g_assert_cmpstr (attempt_field (att, 1, "instance"), ==, "gen-b");
  json_object_put (line);
  line = journal_line (out, "2");
  att = attempts_of (line);
  g_assert_cmpuint (json_object_array_length (att), ==, 1);
  g_assert_cmpstr (attempt_field (att, 0, "instance"), ==, "a-checked");
  json_object_put (line);
  vht_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/retry/decide", test_decide);
  g_test_add_func ("/retry/backoff", test_backoff);
  g_test_add_func ("/retry/breaker", test_breaker);
  g_test_add_func ("/retry/run/retry-then-success", test_retry_then_success);
  g_test_add_func ("/retry/run/rejected-falls-back", test_rejected_falls_back_at_once);
  g_test_add_func ("/retry/run/exhausted-retries", test_exhausted_retries_fall_back);
  g_test_add_func ("/retry/run/invalid-input", test_invalid_input_fails_row);
  g_test_add_func ("/retry/run/auth-disables", test_auth_disables_child);
  g_test_add_func ("/retry/run/breaker", test_breaker_opens);
  g_test_add_func ("/retry/run/last-resort", test_last_resort);
  g_test_add_func ("/retry/run/cycle", test_wrapper_cycle_refused);
  g_test_add_func ("/retry/run/spread", test_spread_adds_quotas);
  g_test_add_func ("/retry/run/gate", test_gate_sends_to_next_generator);
  g_test_add_func ("/retry/run/early-slot-release", test_early_slot_release);
  g_test_add_func ("/retry/run/spread-first-free", test_spread_takes_first_free);
  return g_test_run ();
}
