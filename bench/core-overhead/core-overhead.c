/* bench/core-overhead: what the host itself costs per row.
 *
 * 1000 rows (250 per task type, the contest's shape) go through the
 * test-only plugin `testgen` doing no real work (a 64x48 colour field), so
 * the CPU time and memory measured are the host's: CSV parsing, scheduling,
 * limiter, journal fsyncs, JPEG re-encoding, result.csv and the zip.
 * The reference measured in the same run is the same command on a 1-row
 * table: its cost is start-up, subtracted to give the marginal cost per row.
 *
 * Targets (issue #2): <= 1 ms CPU per row, <= 64 MB peak RSS.  Figures are
 * printed, nothing is asserted. */
#include <vhost/plugin.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdlib.h>

static void
write_set (const char *dir, guint rows)
{
  g_autofree gchar *imgs = g_build_filename (dir, "imgs", NULL);
  g_mkdir_with_parents (imgs, 0755);
  g_autoptr (VhPixels) px = vh_pixels_new (500, 500);   /* the contest's usual input size */
  for (gint i = 0; i < 500 * 500 * 3; i++)
    px->rgb[i] = (guint8) (i * 13);
  g_autoptr (VhImage) img = vh_image_encode_jpeg (px, 90, NULL);
  gsize len;
  const gchar *data = g_bytes_get_data (img->bytes, &len);
  g_autofree gchar *ori = g_build_filename (imgs, "in.jpg", NULL);
  g_file_set_contents (ori, data, (gssize) len, NULL);
  GString *csv = g_string_new ("\xEF\xBB\xBF" "index,task_type,prompt,ori_image,target_image");
  static const char *const types[] = { "t2i", "tie", "vttie", "deepfake" };
  for (guint i = 0; i < rows; i++)
    {
      guint t = rows >= 4 ? i / (rows / 4) : 0;
      t = MIN (t, 3);
      g_string_append_printf (csv, "\r\n%u,%s,\"prompt %u, “quoted”\",%s,%s", i, types[t], i,
                              t ? "imgs/in.jpg" : "", t == 3 ? "imgs/in.jpg" : "");
    }
  g_autofree gchar *csv_path = g_build_filename (dir, "task.csv", NULL);
  g_file_set_contents (csv_path, csv->str, (gssize) csv->len, NULL);
  g_string_free (csv, TRUE);
  g_autofree gchar *ini = g_build_filename (dir, "bench.ini", NULL);
  g_file_set_contents (ini,
                       "[vhost]\ntasks = task.csv\nimages = .\noutput = out\nworkers = 4\n"
                       "[instance gen]\nplugin = testgen\n"
                       "[route t2i]\nchain = gen\n[route tie]\nchain = gen\n"
                       "[route vttie]\nchain = gen\n[route deepfake]\nchain = gen\n", -1, NULL);
}

typedef struct {
  gdouble cpu_s, wall_s;
  glong   max_rss_kb;
  int     status;
} Measure;

static Measure
run_vhost (const char *vhost, const char *dir)
{
  Measure m = { 0 };
  g_autofree gchar *ini = g_build_filename (dir, "bench.ini", NULL);
  gint64 t0 = g_get_monotonic_time ();
  pid_t pid = fork ();
  if (pid == 0)
    {
      execl (vhost, vhost, "--config", ini, "--quiet", (char *) NULL);
      _exit (127);
    }
  int status = 0;
  struct rusage ru;
  wait4 (pid, &status, 0, &ru);
  m.wall_s = (g_get_monotonic_time () - t0) / 1e6;
  m.cpu_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  m.max_rss_kb = ru.ru_maxrss;
  m.status = WIFEXITED (status) ? WEXITSTATUS (status) : -1;
  return m;
}

static void
rm_rf (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  for (const char *n; d && (n = g_dir_read_name (d));)
    {
      g_autofree gchar *p = g_build_filename (path, n, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        rm_rf (p);
      else
        g_unlink (p);
    }
  g_rmdir (path);
}

int
main (int argc, char **argv)
{
  const char *build = g_getenv ("VH_BUILDDIR") ? g_getenv ("VH_BUILDDIR") : ".";
  g_autofree gchar *vhost = g_build_filename (build, "vhost", NULL);
  guint rows = argc > 1 ? (guint) atoi (argv[1]) : 1000;
  g_autofree gchar *big = g_dir_make_tmp ("vh-bench-XXXXXX", NULL);
  g_autofree gchar *small = g_dir_make_tmp ("vh-bench-XXXXXX", NULL);
  write_set (big, rows);
  write_set (small, 1);
  Measure ref = run_vhost (vhost, small);
  Measure m = run_vhost (vhost, big);
  printf ("bench/core-overhead: %u rows through testgen (no work), workers 4\n", rows);
  printf ("  reference (1 row, start-up):  cpu %.3f s  wall %.3f s  peak RSS %.1f MB  exit %d\n",
          ref.cpu_s, ref.wall_s, ref.max_rss_kb / 1024.0, ref.status);
  printf ("  %u rows:                    cpu %.3f s  wall %.3f s  peak RSS %.1f MB  exit %d\n", rows,
          m.cpu_s, m.wall_s, m.max_rss_kb / 1024.0, m.status);
  gdouble per_row = (m.cpu_s - ref.cpu_s) / (rows - 1) * 1000.0;
  printf ("  host CPU per row: %.3f ms (target <= 1 ms)   ratio to target: %.2f\n", per_row, per_row / 1.0);
  printf ("  peak RSS: %.1f MB (target <= 64 MB)   ratio to target: %.2f\n", m.max_rss_kb / 1024.0,
          m.max_rss_kb / 1024.0 / 64.0);
  printf ("  note: per row includes re-encoding a 64x48 plugin image as JPEG, one fsynced journal line,\n"
          "        an atomic image write (fsync + rename) and the zip entry.\n");
  rm_rf (big);
  rm_rf (small);
  return m.status == 0 ? 0 : 1;
}
