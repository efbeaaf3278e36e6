/* bench/makespan (issue #5): how long a contest-sized table takes under the
 * providers' quotas, against the best any client could do, and against the
 * published baseline loop.
 *
 *   makespan [TIME_SCALE=0.1] [ACCOUNTS=4] [SAMPLE=20] [ROWS=1000]
 *
 * Workload (never changed to reach a target): ROWS rows, a quarter per task
 * type, grouped by type like the contest's task.csv:
 *   t2i      wanx   wanx2.1-t2i-turbo  (DashScope text2image, async), 512*512
 *   tie      wanx   wanx2.1-imageedit  (DashScope image2image, async), 512x512 inputs
 *   vttie    flux-remote flux-kontext-pro (BFL, async), 512x512 inputs, jpeg
 *   deepfake local-faceswap, for real (OpenCV + dlib) on the bundled LFW photos.
 *            No shipped cloud plugin swaps faces (wanx and flux-remote refuse
 *            deepfake rows and the config check refuses such a route), so the
 *            real local plugin it is.  Its work is CPU time, which time_scale
 *            cannot compress: its span is reported in real seconds, apart.
 * Every cloud model of every account (key): 2 tasks in flight, 2 submissions
 * per second, latency uniform 3-15 s, task queries 20/s per key, and 5% of
 * all requests (submits, polls, downloads) answered 503 (transient).
 * vhost: each cloud instance with concurrency = 2 and qps = 2 (the quota),
 * behind a retry-fallback wrapper (retries 5); workers = ROWS so no row
 * waits behind rows of another type in the FIFO worker pool.  The cloud
 * rows and the deepfake rows are two runs (--only) into one output folder,
 * so the face swaps' real CPU burst does not slow the compressed timeline.
 *
 * Configurations, each against its own quota bound:
 *   single   one account: one instance per model;
 *   spread   ACCOUNTS accounts per provider: every type's wrapper spreads
 *            (strategy = spread) over ACCOUNTS instances of its model, one
 *            per key, so their quotas add up.
 * Reference: the baseline loop of bl-client.c (sequential, one row at a
 * time, fixed 2 s polling), same emulator, same quotas and faults, its own
 * key, on SAMPLE rows (a quarter per type), scaled to ROWS rows per type.
 * Its deepfake rows cost what local-faceswap costs one row at a time
 * (vhost with workers = 1 on the sample's deepfake rows).
 *
 * time_scale S compresses every emulated latency; to keep all schedules
 * identical in emulated time every rate and client-side duration is scaled
 * with it: emulator qps x 1/S, vhost qps x 1/S, poll intervals, backoff and
 * cooldown x S, the baseline's 2 s x S.  Figures are printed scaled (real
 * seconds of this run) and converted back (/ S).  What cannot be scaled:
 * CPU work (image coding, the face swap) and loopback round trips, so a
 * smaller S inflates the client's share; run with 0.1 to see the trend.
 *
 * THE QUOTA BOUND.  For a pool of k accounts of one model, each allowing c
 * tasks in flight and q submissions per second, serving n rows whose
 * successful tasks took latencies L_1..L_n on the server (read back from
 * the emulator after the run: DashScope submit_time/end_time, BFL
 * start/end_time), any client needs at least
 *
 *     B = max( sum(L) / (k c),                     slots: k c tasks at a time
 *              max(L),                             the longest task
 *              (ceil(n / (k q)) - 1) + min(L) )    submissions: k q per second,
 *                                                  the last one still runs
 *
 * seconds, and the table's bound is the largest B over the pools (pools
 * run in parallel; the local deepfake pool is CPU-bound and its span is
 * far below the others').  Time a row spends after its task ended (the
 * poll that notices, the download) is counted against the client, as is
 * any task wasted by a fault: only the latencies of the tasks that
 * produced the rows' images enter the bound, so no client can beat it.
 *
 * Beside the bound the bench prints what an overhead-free client gets on
 * the same latencies (pool_ideal): with 8 slots over 250 rows the tail
 * alone is ~2 % above the bound, so a target of 1.05 leaves such a pool
 * ~3 % for every poll, submission and byte of CPU.
 *
 * Targets: makespan <= 1.05 x bound, zero 429s, >= 10x faster than the
 * baseline.  Figures are printed; nothing is asserted. */
#include "bl-client.h"
#include "bench-emu.h"
#include "emu-harness.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef VH_BENCH_EXAMPLES
#define VH_BENCH_EXAMPLES "examples"
#endif

#define LAT_MIN_MS 3000
#define LAT_MAX_MS 15000
#define QUOTA_C 2
#define QUOTA_Q 2.0
#define FAULT_P 0.05

enum { T_T2I, T_TIE, T_VTTIE, T_DEEPFAKE, N_TYPES };
static const char *const type_names[] = { "t2i", "tie", "vttie", "deepfake" };

typedef struct {
  gdouble scale;
  guint   accounts, rows, sample;
  gchar  *dir;
  VhEmu  *emu;
} Bench;

typedef struct {
  const char *name;
  guint       accounts;
  gint        status;
  guint       done, failed, last_resort;
  gdouble     wall_s;                   /* process, real */
  gdouble     cpu_s;                    /* vhost's CPU time for the cloud rows, real */
  gdouble     emu_cpu_s;                /* the emulator's CPU time meanwhile, real */
  gdouble     span_s[N_TYPES];          /* launch to the type's last row, real */
  gdouble     cloud_span_s;             /* launch to the last cloud row, real */
  gdouble     bound_s[N_TYPES];         /* unscaled, cloud types */
  gdouble     bound_all_s;              /* unscaled */
  guint       missing_latencies;
  gdouble     lat_sum_s, after_sum_s;      /* unscaled: server latency, server end -> journal line */
  gdouble     pool_lat_s[N_TYPES];         /* unscaled: sum of latencies per cloud pool */
  gdouble     ideal_s[N_TYPES], ideal_all_s; /* unscaled: see pool_ideal() */
  guint       pool_n[N_TYPES];
  guint       n_after;
  gint64      sent_429, q429_qps, q429_conc, faults, tasks;
} Config;

/* ------------------------------------------------------------ emulator */

static gchar *
emu_config (const Bench *b, gboolean faults, gdouble tasks_qps)
{
  GString *keys_ds = g_string_new ("\"sk-base\""), *keys_bfl = g_string_new ("\"bfl-base\"");
  for (guint k = 1; k <= b->accounts; k++)
    {
      g_string_append_printf (keys_ds, ", \"sk-%u\"", k);
      g_string_append_printf (keys_bfl, ", \"bfl-%u\"", k);
    }
  gdouble q = QUOTA_Q / b->scale;
  g_autofree gchar *quota = g_strdup_printf ("{\"latency_ms\": [%d, %d], \"concurrency\": %d, \"qps\": %g}",
                                             LAT_MIN_MS, LAT_MAX_MS, QUOTA_C, q);
  gchar *s = g_strdup_printf (
      "{\"seed\": 11, \"time_scale\": %g, \"bfl_credits\": null,"
      " \"keys\": {\"dashscope\": [%s], \"bfl\": [%s]},"
      " \"endpoints\": {\"dashscope.text2image\": %s, \"dashscope.image2image\": %s, \"bfl.flux-kontext-pro\": %s,"
      "   \"dashscope.tasks\": {\"qps\": %g}},"
      " \"faults\": [%s]}",
      b->scale, keys_ds->str, keys_bfl->str, quota, quota, quota, tasks_qps,
      faults ? "{\"type\": \"http_503\", \"endpoint\": \"*\", \"probability\": 0.05}" : "");
  g_string_free (keys_ds, TRUE);
  g_string_free (keys_bfl, TRUE);
  return s;
}

/* ------------------------------------------------------------ workload */

static guint
row_type (const Bench *b, guint index /* 1-based */)
{
  return MIN ((index - 1) / (b->rows / N_TYPES), N_TYPES - 1);
}

static void
write_workload (const Bench *b)
{
  for (guint i = 0; i < 8; i++)
    {
      g_autofree gchar *p = g_strdup_printf ("%s/imgs/in_%u.jpg", b->dir, i);
      be_write_jpeg (p, 512, 512, i);
    }
  static const char *const faces[] = { "astronaut-lfw.jpg", "hopper-lfw.jpg" };
  for (guint i = 0; i < 2; i++)
    {
      g_autofree gchar *src = g_build_filename (VH_BENCH_EXAMPLES, "imgs", faces[i], NULL);
      g_autofree gchar *dst = g_build_filename (b->dir, "imgs", faces[i], NULL);
      gchar *data = NULL;
      gsize len = 0;
      if (!g_file_get_contents (src, &data, &len, NULL))
        g_printerr ("makespan: cannot read %s (deepfake rows will fail)\n", src);
      else
        g_file_set_contents (dst, data, (gssize) len, NULL);
      g_free (data);
    }
  GString *csv = g_string_new ("\xEF\xBB\xBF" "index,task_type,prompt,ori_image,target_image");
  for (guint i = 1; i <= b->rows; i++)
    {
      guint t = row_type (b, i);
      if (t == T_T2I)
        g_string_append_printf (csv, "\r\n%u,t2i,\"a red bicycle against a brick wall, photo %u\",,", i, i);
      else if (t == T_DEEPFAKE)
        g_string_append_printf (csv, "\r\n%u,deepfake,swap the face,imgs/%s,imgs/%s", i, faces[i % 2],
                                faces[(i + 1) % 2]);
      else
        g_string_append_printf (csv, "\r\n%u,%s,\"make the sky green, keep the rest (%u)\",imgs/in_%u.jpg,", i,
                                type_names[t], i, i % 8);
    }
  g_autofree gchar *path = g_build_filename (b->dir, "task.csv", NULL);
  g_file_set_contents (path, csv->str, (gssize) csv->len, NULL);
  g_string_free (csv, TRUE);
}

/* ------------------------------------------------------------ vhost */

static gchar *
write_ini (const Bench *b, const char *name, guint accounts, const char *rows_csv, guint workers)
{
  gdouble s = b->scale;
  GString *ini = g_string_new (NULL);
  g_string_append_printf (ini, "[vhost]\ntasks = %s\nimages = .\noutput = out-%s\nworkers = %u\n", rows_csv, name,
                          workers);
  g_autofree gchar *limits = g_strdup_printf ("concurrency = %d\nqps = %g\n", QUOTA_C, QUOTA_Q / s);
  GString *try_t2i = g_string_new (NULL), *try_tie = g_string_new (NULL), *try_vttie = g_string_new (NULL);
  for (guint k = 1; k <= accounts; k++)
    {
      const char *sep = k > 1 ? ", " : "";
      g_string_append_printf (ini,
                              "[instance t2i-%u]\nplugin = wanx\nmodel = wanx2.1-t2i-turbo\nsize = 512*512\n"
                              "base_url = %s/api/v1\napi_key_env = VHB_DS_%u\npoll_first = %dms\npoll_initial = %dms\npoll_max = %dms\npoll_busy = %dms\n%s",
                              k, vh_emu_base_url (b->emu), k, MAX (1, (int) (2000 * s)), MAX (1, (int) (250 * s)), MAX (1, (int) (800 * s)),
                              MAX (1, (int) (300 * s)), limits);
      g_string_append_printf (ini,
                              "[instance tie-%u]\nplugin = wanx\nmodel = wanx2.1-imageedit\nmode = imageedit\n"
                              "base_url = %s/api/v1\napi_key_env = VHB_DS_%u\npoll_first = %dms\npoll_initial = %dms\npoll_max = %dms\npoll_busy = %dms\n%s",
                              k, vh_emu_base_url (b->emu), k, MAX (1, (int) (2000 * s)), MAX (1, (int) (250 * s)), MAX (1, (int) (800 * s)),
                              MAX (1, (int) (300 * s)), limits);
      g_string_append_printf (ini,
                              "[instance vttie-%u]\nplugin = flux-remote\nmodel = flux-kontext-pro\noutput_format = jpeg\n"
                              "base_url = %s/bfl\napi_key_env = VHB_BFL_%u\npoll_first = %dms\npoll_initial = %dms\npoll_max = %dms\npoll_busy = %dms\n%s",
                              k, vh_emu_base_url (b->emu), k, MAX (1, (int) (2000 * s)), MAX (1, (int) (250 * s)), MAX (1, (int) (800 * s)),
                              MAX (1, (int) (300 * s)), limits);
      g_string_append_printf (try_t2i, "%st2i-%u", sep, k);
      g_string_append_printf (try_tie, "%stie-%u", sep, k);
      g_string_append_printf (try_vttie, "%svttie-%u", sep, k);
    }
  const char *strategy = accounts > 1 ? "spread" : "fallback";
  g_autofree gchar *rf = g_strdup_printf ("plugin = retry-fallback\nstrategy = %s\nretries = 5\n"
                                          "backoff = %dms..%dms\ncooldown = %dms\n",
                                          strategy, MAX (1, (int) (1000 * s)), MAX (2, (int) (60000 * s)),
                                          MAX (1, (int) (60000 * s)));
  g_string_append_printf (ini, "[instance rf-t2i]\n%stry = %s\n", rf, try_t2i->str);
  g_string_append_printf (ini, "[instance rf-tie]\n%stry = %s\n", rf, try_tie->str);
  g_string_append_printf (ini, "[instance rf-vttie]\n%stry = %s\n", rf, try_vttie->str);
  /* local-faceswap: one call per core. */
  g_string_append_printf (ini, "[instance faceswap]\nplugin = local-faceswap\nconcurrency = %u\n",
                          g_get_num_processors ());
  g_string_append (ini, "[route t2i]\nchain = rf-t2i\n[route tie]\nchain = rf-tie\n"
                        "[route vttie]\nchain = rf-vttie\n[route deepfake]\nchain = faceswap\n");
  g_autofree gchar *file = g_strdup_printf ("%s.ini", name);
  gchar *path = g_build_filename (b->dir, file, NULL);
  g_file_set_contents (path, ini->str, (gssize) ini->len, NULL);
  g_string_free (ini, TRUE);
  g_string_free (try_t2i, TRUE);
  g_string_free (try_tie, TRUE);
  g_string_free (try_vttie, TRUE);
  return path;
}

static gchar **
key_env (const Bench *b)
{
  GPtrArray *env = g_ptr_array_new ();
  for (guint k = 1; k <= b->accounts; k++)
    {
      g_ptr_array_add (env, g_strdup_printf ("VHB_DS_%u=sk-%u", k, k));
      g_ptr_array_add (env, g_strdup_printf ("VHB_BFL_%u=bfl-%u", k, k));
    }
  g_ptr_array_add (env, NULL);
  return (gchar **) g_ptr_array_free (env, FALSE);
}

static gint64
iso_us (const char *text)
{
  if (!text)
    return -1;
  g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (text, NULL);
  return dt ? g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt) : -1;
}

/* Latency (unscaled s) of the task that produced a row, read back from the
 * emulator; -1 when unknown.  Tries every account's key: a task is only
 * visible to the key that created it. */
static gdouble
task_latency (const Bench *b, guint type, const char *task_id, gint64 *end_us)
{
  *end_us = -1;
  if (!task_id)
    return -1;
  for (guint k = 1; k <= b->accounts; k++)
    {
      g_autofree gchar *url = NULL, *auth = NULL;
      if (type == T_VTTIE)
        {
          g_autofree gchar *esc = g_uri_escape_string (task_id, NULL, FALSE);
          url = g_strdup_printf ("%s/bfl/v1/get_result?id=%s", vh_emu_base_url (b->emu), esc);
          auth = g_strdup_printf ("x-key: bfl-%u", k);
        }
      else
        {
          url = g_strdup_printf ("%s/api/v1/tasks/%s", vh_emu_base_url (b->emu), task_id);
          auth = g_strdup_printf ("Authorization: Bearer sk-%u", k);
        }
      const char *h[] = { auth, NULL };
      VhEmuResponse *r = vh_emu_http ("GET", url, h, NULL, 0, 30000);
      json_object *o = json_tokener_parse (vh_emu_response_text (r));
      vh_emu_response_free (r);
      gdouble lat = -1;
      if (type == T_VTTIE)
        {
          json_object *st = be_json_get (o, "result.start_time"), *en = be_json_get (o, "result.end_time");
          /* the emulator's BFL start is submit + latency / 5 */
          if (st && en)
            {
              lat = (json_object_get_double (en) - json_object_get_double (st)) * 1.25;
              *end_us = (gint64) (json_object_get_double (en) * 1e6);
            }
        }
      else
        {
          gint64 sub = bl_parse_ds_time (be_json_str (o, "output.submit_time"));
          gint64 end = bl_parse_ds_time (be_json_str (o, "output.end_time"));
          if (sub > 0 && end > 0)
            lat = (end - sub) / 1e6, *end_us = end;
        }
      json_object_put (o);
      if (lat >= 0)
        return lat / b->scale;
    }
  return -1;
}

static int
cmp_double (const void *x, const void *y)
{
  gdouble a = *(const gdouble *) x, c = *(const gdouble *) y;
  return a < c ? -1 : a > c;
}

/* The bound of one pool (see the header comment), unscaled seconds. */
static gdouble
pool_bound (GArray *lat, guint k)
{
  if (lat->len == 0)
    return 0;
  g_array_sort (lat, cmp_double);
  gdouble sum = 0;
  for (guint i = 0; i < lat->len; i++)
    sum += g_array_index (lat, gdouble, i);
  gdouble slots = sum / (k * QUOTA_C);
  gdouble longest = g_array_index (lat, gdouble, lat->len - 1);
  gdouble rate = (ceil (lat->len / (k * QUOTA_Q)) - 1) + g_array_index (lat, gdouble, 0);
  return MAX (slots, MAX (longest, rate));
}

/* An ideal client on the same latencies, unscaled seconds: each row starts
 * the instant a slot frees (no poll delay, no submission time, rows in
 * table order), at most k q starts in any second.  It is not a bound (an
 * oracle knowing latencies could order rows better), it is what an
 * overhead-free client gets: above the quota bound only by the pool's
 * tail, as the slots finish their last tasks at different times. */
static gdouble
pool_ideal (GArray *lat, guint k)
{
  guint m = k * QUOTA_C, rate = (guint) (k * QUOTA_Q);
  gdouble free_at[m], span = 0;
  gdouble *starts = g_new0 (gdouble, MAX (lat->len, 1));
  for (guint j = 0; j < m; j++)
    free_at[j] = 0;
  for (guint i = 0; i < lat->len; i++)
    {
      guint j = 0;
      for (guint x = 1; x < m; x++)
        if (free_at[x] < free_at[j])
          j = x;
      gdouble start = free_at[j];
      if (i >= rate)
        start = MAX (start, starts[i - rate] + 1.0);
      starts[i] = start;
      free_at[j] = start + g_array_index (lat, gdouble, i);
      span = MAX (span, free_at[j]);
    }
  g_free (starts);
  return span;
}

static void
run_config (Bench *b, Config *c)
{
  GError *e = NULL;
  vh_emu_reset (b->emu, &e);
  g_clear_error (&e);
  g_autofree gchar *ini = write_ini (b, c->name, c->accounts, "task.csv", b->rows);
  g_auto (GStrv) env = key_env (b);
  /* The cloud rows (scaled) and the deepfake rows (real CPU time) in two
   * runs of the same output folder: in one run the face swaps' CPU burst,
   * which time_scale cannot compress, would slow the cloud rows' scaled
   * timeline (in real time the swaps take ~1/30 of the cloud rows' span). */
  gint64 launch = g_get_real_time ();
  gdouble emu0 = be_child_cpu_s ("vh-emulator");
  c->status = be_run_vhost_cpu (ini, (const char *const *) env,
                                (const char *const[]) { "--only", "t2i,tie,vttie", NULL }, &c->wall_s, &c->cpu_s);
  c->emu_cpu_s = be_child_cpu_s ("vh-emulator") - emu0;
  gint64 df_launch = g_get_real_time ();
  gint df_status = be_run_vhost (ini, (const char *const *) env, (const char *const[]) { "--only", "deepfake", NULL },
                                 NULL);
  c->status = MAX (c->status, df_status);

  json_object *stats = be_emu_stats (b->emu);
  c->sent_429 = be_stat_int (stats, "sent_429");
  c->q429_qps = be_stat_int (stats, "quota_429_qps");
  c->q429_conc = be_stat_int (stats, "quota_429_concurrency");
  c->faults = be_stat_int (stats, "faults_injected");
  c->tasks = be_stat_int (stats, "tasks_created");
  json_object_put (stats);

  /* Read the drawn latencies back without faults or query limits. */
  g_autofree gchar *quiet = emu_config (b, FALSE, 0);
  vh_emu_configure (b->emu, quiet, &e);
  g_clear_error (&e);

  g_autofree gchar *jpath = g_strdup_printf ("%s/out-%s/journal.jsonl", b->dir, c->name);
  GHashTable *lines = be_journal_by_index (jpath);
  GArray *lat[N_TYPES];
  for (guint t = 0; t < N_TYPES; t++)
    lat[t] = g_array_new (FALSE, FALSE, sizeof (gdouble));
  gint64 last[N_TYPES] = { 0 };
  for (guint i = 1; i <= b->rows; i++)
    {
      g_autofree gchar *idx = g_strdup_printf ("%u", i);
      json_object *line = g_hash_table_lookup (lines, idx);
      guint t = row_type (b, i);
      if (g_strcmp0 (be_json_str (line, "status"), "done") != 0)
        {
          c->failed++;
          continue;
        }
      c->done++;
      if (be_json_get (line, "notes.last_resort"))
        c->last_resort++;
      last[t] = MAX (last[t], iso_us (be_json_str (line, "time")));
      if (t == T_DEEPFAKE)
        continue;
      gint64 end_us;
      gdouble l = task_latency (b, t, be_json_str (line, t == T_VTTIE ? "notes.bfl_id" : "notes.wanx_task_id"),
                                &end_us);
      if (l < 0)
        c->missing_latencies++;
      else
        {
          g_array_append_val (lat[t], l);
          c->lat_sum_s += l;
          c->after_sum_s += (iso_us (be_json_str (line, "time")) - end_us) / 1e6 / b->scale;
          c->n_after++;
        }
    }
  for (guint t = 0; t < N_TYPES; t++)
    {
      c->span_s[t] = last[t] > 0 ? (last[t] - (t == T_DEEPFAKE ? df_launch : launch)) / 1e6 : 0;
      if (t != T_DEEPFAKE)
        {
          c->cloud_span_s = MAX (c->cloud_span_s, c->span_s[t]);
          c->ideal_s[t] = pool_ideal (lat[t], c->accounts);   /* before pool_bound sorts them */
          c->ideal_all_s = MAX (c->ideal_all_s, c->ideal_s[t]);
          c->bound_s[t] = pool_bound (lat[t], c->accounts);
          for (guint i = 0; i < lat[t]->len; i++)
            c->pool_lat_s[t] += g_array_index (lat[t], gdouble, i);
          c->pool_n[t] = lat[t]->len;
          c->bound_all_s = MAX (c->bound_all_s, c->bound_s[t]);
        }
      g_array_free (lat[t], TRUE);
    }
  g_hash_table_destroy (lines);
  g_autofree gchar *back = emu_config (b, TRUE, 20 / b->scale);
  vh_emu_configure (b->emu, back, &e);
  g_clear_error (&e);
}

/* ------------------------------------------------------------ baseline */

typedef struct {
  gdouble per_row_s[N_TYPES];   /* unscaled for cloud types, real for deepfake */
  guint   n[N_TYPES], ok[N_TYPES], requests, attempts;
  gdouble total_1000_s;
} Baseline;

static void
run_baseline (Bench *b, Baseline *bl)
{
  GError *e = NULL;
  vh_emu_reset (b->emu, &e);
  g_clear_error (&e);
  BlConfig cfg = { .base_url = vh_emu_base_url (b->emu), .ds_key = "sk-base", .bfl_key = "bfl-base",
                   .poll_ms = MAX (1, (gint64) (2000 * b->scale)), .max_attempts = 10 };
  g_autofree gchar *out = g_build_filename (b->dir, "out-baseline", NULL);
  g_mkdir_with_parents (out, 0755);
  guint per = MAX (1, b->sample / N_TYPES), quarter = b->rows / N_TYPES;
  GString *df_rows = g_string_new (NULL);
  for (guint t = 0; t < N_TYPES; t++)
    for (guint j = 0; j < per; j++)
      {
        guint index = t * quarter + 1 + j;
        if (t == T_DEEPFAKE)
          {
            g_string_append_printf (df_rows, "%s%u", df_rows->len ? "," : "", index);
            continue;
          }
        g_autofree gchar *in_path = g_strdup_printf ("%s/imgs/in_%u.jpg", b->dir, index % 8);
        g_autoptr (GBytes) input = NULL;
        gchar *data = NULL;
        gsize len = 0;
        if (t != T_T2I && g_file_get_contents (in_path, &data, &len, NULL))
          input = g_bytes_new_take (data, len);
        g_autofree gchar *dst = g_strdup_printf ("%s/%u.img", out, index);
        BlResult res;
        gint64 t0 = g_get_monotonic_time ();
        if (t == T_T2I)
          bl_run_row (&cfg, BL_DS_T2I, "wanx2.1-t2i-turbo", "a red bicycle against a brick wall", "512*512", NULL,
                      dst, &res);
        else if (t == T_TIE)
          bl_run_row (&cfg, BL_DS_IMAGEEDIT, "wanx2.1-imageedit", "make the sky green", NULL, input, dst, &res);
        else
          bl_run_row (&cfg, BL_BFL_KONTEXT, "flux-kontext-pro", "make the sky green", NULL, input, dst, &res);
        bl->per_row_s[t] += (g_get_monotonic_time () - t0) / 1e6 / b->scale;
        bl->n[t]++;
        bl->ok[t] += res.ok;
        bl->requests += res.requests;
        bl->attempts += res.attempts;
        bl_result_clear (&res);
      }
  /* deepfake: local-faceswap one row at a time, real seconds per row (from
   * the journal's ms, so start-up and model loading are not counted). */
  g_autofree gchar *ini = g_build_filename (b->dir, "baseline-df.ini", NULL);
  g_autofree gchar *text = g_strdup_printf ("[vhost]\ntasks = task.csv\nimages = .\noutput = out-baseline-df\n"
                                            "workers = 1\n[instance faceswap]\nplugin = local-faceswap\n"
                                            "identity_from = ori_image\n[route deepfake]\nchain = faceswap\n");
  g_file_set_contents (ini, text, -1, NULL);
  g_autofree gchar *rows_arg = g_strdup (df_rows->str);
  g_string_free (df_rows, TRUE);
  const char *build = g_getenv ("VH_BUILDDIR") ? g_getenv ("VH_BUILDDIR") : ".";
  g_autofree gchar *vhost = g_build_filename (build, "vhost", NULL);
  const char *argv[] = { vhost, "--config", ini, "--quiet", "--rows", rows_arg, NULL };
  g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                NULL, NULL, NULL, NULL);
  g_autofree gchar *jpath = g_build_filename (b->dir, "out-baseline-df", "journal.jsonl", NULL);
  GHashTable *lines = be_journal_by_index (jpath);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, lines);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      json_object *ms = be_json_get (v, "ms");
      bl->per_row_s[T_DEEPFAKE] += ms ? json_object_get_int64 (ms) / 1000.0 : 0;
      bl->n[T_DEEPFAKE]++;
      bl->ok[T_DEEPFAKE] += g_strcmp0 (be_json_str (v, "status"), "done") == 0;
    }
  g_hash_table_destroy (lines);
  for (guint t = 0; t < N_TYPES; t++)
    {
      if (bl->n[t])
        bl->per_row_s[t] /= bl->n[t];
      bl->total_1000_s += bl->per_row_s[t] * quarter;
    }
}

/* ------------------------------------------------------------ report */

static void
print_config (const Bench *b, const Config *c, const Baseline *bl)
{
  gdouble s = b->scale;
  /* Unscaled makespan: the cloud rows' span / S; the deepfake rows' span is
   * real CPU time already (and far shorter in unscaled terms). */
  gdouble makespan = MAX (c->cloud_span_s / s, c->span_s[T_DEEPFAKE]);
  printf ("\n[%s] %u account%s per provider, retry-fallback strategy = %s, %u rows: %u done (%u last resort), %u failed, "
          "vhost exit %d\n",
          c->name, c->accounts, c->accounts > 1 ? "s" : "", c->accounts > 1 ? "spread" : "fallback", b->rows, c->done,
          c->last_resort, c->failed, c->status);
  printf ("  span per type (launch to its last row): ");
  for (guint t = 0; t < N_TYPES; t++)
    printf ("%s %.1f s%s", type_names[t], t == T_DEEPFAKE ? c->span_s[t] : c->span_s[t] / s,
            t + 1 < N_TYPES ? ", " : " (deepfake: real seconds, CPU, not scaled)\n");
  printf ("  quota bound per pool (unscaled): t2i %.1f s, tie %.1f s, vttie %.1f s%s\n", c->bound_s[T_T2I],
          c->bound_s[T_TIE], c->bound_s[T_VTTIE],
          c->missing_latencies ? " (some latencies could not be read back: bound low)" : "");
  if (c->n_after)
    printf ("  per cloud row (unscaled): server latency %.2f s; the row's journal line came %.2f s after its task\n"
            "     ended on the server (the poll that notices the end, then download, decode, JPEG, fsync; the quota\n"
            "     slot is handed back at that poll, so only the poll's delay keeps the slot from the next row)\n",
            c->lat_sum_s / c->n_after, c->after_sum_s / c->n_after);
  /* Slot time no task used: span x slots - sum of latencies, per row. */
  printf ("  quota slots idle per row (unscaled; span x %u slots - sum of latencies, / rows): ",
          c->accounts * QUOTA_C);
  for (guint t = 0; t < T_DEEPFAKE; t++)
    printf ("%s %.2f s%s", type_names[t],
            c->pool_n[t] ? (c->span_s[t] / s * c->accounts * QUOTA_C - c->pool_lat_s[t]) / c->pool_n[t] : 0,
            t + 1 < T_DEEPFAKE ? ", " : "\n");
  printf ("     (the poll that notices a task's end, the next row's submission, the last rows' tail)\n");
  printf ("  makespan:     %8.2f s scaled   %8.1f s unscaled   (process wall %.2f s scaled)\n", makespan * s,
          makespan, c->wall_s);
  printf ("  vhost CPU for the %u cloud rows: %.1f s = %.1f ms per row, i.e. %.2f s per row once unscaled\n"
          "     (CPU is not compressed by time_scale: on 2 cores it inflates the scaled timeline)\n",
          b->rows / N_TYPES * 3, c->cpu_s, c->cpu_s * 1000 / (b->rows / N_TYPES * 3),
          c->cpu_s / (b->rows / N_TYPES * 3) / s);
  printf ("  emulator CPU meanwhile: %.1f s (%.0f%% of the cloud rows' span; its requests are served by one thread,\n"
          "     result images are rendered on two others, all on the same 2 cores as vhost)\n",
          c->emu_cpu_s, c->cloud_span_s > 0 ? 100 * c->emu_cpu_s / c->cloud_span_s : 0);
  printf ("  quota bound:  %8.2f s scaled   %8.1f s unscaled\n", c->bound_all_s * s, c->bound_all_s);
  gdouble ratio = c->bound_all_s > 0 ? makespan / c->bound_all_s : 0;
  printf ("  makespan / bound: %.3f   target <= 1.05: %s\n", ratio, ratio > 0 && ratio <= 1.05 ? "MET" : "NOT MET");
  printf ("  an overhead-free client on these latencies (each row starts the instant a slot frees, rows in order):\n"
          "     t2i %.1f s, tie %.1f s, vttie %.1f s = %.3f x the bound (the tail: slots end their last tasks apart)\n",
          c->ideal_s[T_T2I], c->ideal_s[T_TIE], c->ideal_s[T_VTTIE],
          c->bound_all_s > 0 ? c->ideal_all_s / c->bound_all_s : 0);
  printf ("  429s sent by the emulator: %" G_GINT64_FORMAT " (qps %" G_GINT64_FORMAT ", concurrency %" G_GINT64_FORMAT
          ")   target 0: %s   [503s injected: %" G_GINT64_FORMAT ", tasks created: %" G_GINT64_FORMAT " for %u cloud rows]\n",
          c->sent_429, c->q429_qps, c->q429_conc, c->sent_429 == 0 ? "MET" : "NOT MET", c->faults, c->tasks,
          b->rows / N_TYPES * 3);
  gdouble speedup = makespan > 0 ? bl->total_1000_s / makespan : 0;
  gdouble best = c->bound_all_s > 0 ? bl->total_1000_s / MAX (c->bound_all_s, c->span_s[T_DEEPFAKE]) : 0;
  printf ("  baseline (%u rows) / makespan: %.2fx   target >= 10x: %s   (best any client could do here: %.2fx)\n",
          b->rows, speedup, speedup >= 10 ? "MET" : "NOT MET", best);
  if (best < 10)
    printf ("  -> 10x is out of reach in this configuration: the quota bound itself is only %.2fx below the baseline\n",
            best);
  if (ratio > 1.05)
    printf ("  -> over the bound: see the idle slot time per row above, and vhost's and the emulator's CPU\n"
            "     (real time, not compressed by time_scale)\n");
}

int
main (int argc, char **argv)
{
  Bench b = { .scale = 0.1, .accounts = 4, .sample = 20, .rows = 1000 };
  if (argc > 1)
    b.scale = g_ascii_strtod (argv[1], NULL);
  if (argc > 2)
    b.accounts = (guint) atoi (argv[2]);
  if (argc > 3)
    b.sample = (guint) atoi (argv[3]);
  if (argc > 4)
    b.rows = (guint) atoi (argv[4]);
  if (!(b.scale > 0 && b.scale <= 1) || b.accounts < 2 || b.accounts > 16 || b.rows < 8 || b.rows > 1024
      || b.sample < 4 || b.sample > b.rows)
    {
      fprintf (stderr, "usage: makespan [TIME_SCALE (0-1]] [ACCOUNTS (2-16)] [SAMPLE (4-ROWS)] [ROWS (8-1024)]\n");
      return 1;
    }
  b.rows -= b.rows % N_TYPES;
  b.dir = g_dir_make_tmp ("vh-bench-makespan-XXXXXX", NULL);
  write_workload (&b);
  g_autofree gchar *conf = emu_config (&b, TRUE, 20 / b.scale);
  GError *e = NULL;
  b.emu = vh_emu_start_full (conf, (const char *const[]) { "--lifetime", "0", NULL }, &e);
  if (b.emu == NULL)
    {
      fprintf (stderr, "makespan: cannot start the emulator: %s\n", e->message);
      g_error_free (e);
      return 1;
    }
  /* The emulator was started with its config; reset restores it, and
   * run_config() puts it back after reading latencies. */
  Config single = { .name = "single", .accounts = 1 };
  Config spread = { .name = "spread", .accounts = b.accounts };
  Baseline bl;
  memset (&bl, 0, sizeof bl);
  run_config (&b, &single);
  run_config (&b, &spread);
  run_baseline (&b, &bl);

  printf ("bench/makespan: %u rows (%u per type), quotas per account and model: %d in flight, %g submissions/s,\n"
          "  latency uniform %d-%d s, %.0f%% of requests answered 503; time_scale %g (figures scaled = real seconds of\n"
          "  this run, unscaled = / %g); deepfake through the real local-faceswap (no cloud plugin swaps faces)\n",
          b.rows, b.rows / N_TYPES, QUOTA_C, QUOTA_Q, LAT_MIN_MS / 1000, LAT_MAX_MS / 1000, FAULT_P * 100, b.scale,
          b.scale);
  printf ("\n[baseline] sequential, one row at a time, fixed 2 s polling, on %u sample rows (%u failed):\n",
          bl.n[0] + bl.n[1] + bl.n[2] + bl.n[3],
          bl.n[0] + bl.n[1] + bl.n[2] + bl.n[3] - bl.ok[0] - bl.ok[1] - bl.ok[2] - bl.ok[3]);
  printf ("  per row: t2i %.2f s, tie %.2f s, vttie %.2f s (unscaled), deepfake %.3f s (real CPU)\n",
          bl.per_row_s[0], bl.per_row_s[1], bl.per_row_s[2], bl.per_row_s[3]);
  printf ("  scaled to %u rows: %.1f s unscaled (%.2f s scaled)\n", b.rows, bl.total_1000_s,
          bl.total_1000_s * b.scale);
  print_config (&b, &single, &bl);
  print_config (&b, &spread, &bl);

  vh_emu_stop (b.emu);
  if (g_getenv ("VH_BENCH_KEEP"))
    printf ("\n(kept %s)\n", b.dir);
  else
    be_rm_rf (b.dir);
  g_free (b.dir);
  return 0;
}
