#include "bench-emu.h"
#include "emu-harness.h"
#include <vhost/plugin.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <stdlib.h>

gint
be_run_vhost_cpu (const char *ini, const char *const *env_extra, const char *const *args, gdouble *wall_s,
                  gdouble *cpu_s)
{
  const char *build = g_getenv ("VH_BUILDDIR") ? g_getenv ("VH_BUILDDIR") : ".";
  g_autofree gchar *vhost = g_build_filename (build, "vhost", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, vhost);
  g_ptr_array_add (argv, (gpointer) "--config");
  g_ptr_array_add (argv, (gpointer) ini);
  g_ptr_array_add (argv, (gpointer) "--quiet");
  for (const char *const *a = args; a && *a; a++)
    g_ptr_array_add (argv, (gpointer) *a);
  g_ptr_array_add (argv, NULL);
  gchar **env = g_get_environ ();
  for (const char *const *x = env_extra; x && *x; x++)
    {
      g_auto (GStrv) kv = g_strsplit (*x, "=", 2);
      env = g_environ_setenv (env, kv[0], kv[1] ? kv[1] : "", TRUE);
    }
  /* stderr to a file, read back only when the run failed */
  g_autofree gchar *errlog = g_build_filename (g_get_tmp_dir (), "vh-bench-stderr-XXXXXX", NULL);
  int errfd = g_mkstemp (errlog);
  gint64 t0 = g_get_monotonic_time ();
  pid_t pid = fork ();
  if (pid == 0)
    {
      int devnull = open ("/dev/null", O_WRONLY);
      dup2 (devnull, 1);
      if (errfd >= 0)
        dup2 (errfd, 2);
      execve (vhost, (char **) argv->pdata, env);
      _exit (127);
    }
  int wait = 0;
  struct rusage ru;
  memset (&ru, 0, sizeof ru);
  while (pid > 0 && wait4 (pid, &wait, 0, &ru) < 0)
    ;
  if (wall_s)
    *wall_s = (g_get_monotonic_time () - t0) / 1e6;
  if (cpu_s)
    *cpu_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  g_strfreev (env);
  if (errfd >= 0)
    close (errfd);
  gint status = pid < 0 ? -1 : WIFEXITED (wait) ? WEXITSTATUS (wait) : 128 + WTERMSIG (wait);
  g_autofree gchar *err = NULL;
  if (status != 0 && g_file_get_contents (errlog, &err, NULL, NULL) && *err)
    {
      gsize n = strlen (err);
      g_printerr ("vhost exited %d; end of its stderr:\n%s\n", status, n > 2000 ? err + n - 2000 : err);
    }
  g_unlink (errlog);
  return status;
}

gint
be_run_vhost (const char *ini, const char *const *env_extra, const char *const *args, gdouble *wall_s)
{
  return be_run_vhost_cpu (ini, env_extra, args, wall_s, NULL);
}

void
be_rm_rf (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  for (const char *n; d && (n = g_dir_read_name (d));)
    {
      g_autofree gchar *p = g_build_filename (path, n, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        be_rm_rf (p);
      else
        g_unlink (p);
    }
  g_rmdir (path);
}

void
be_write_jpeg (const char *path, gint w, gint h, guint seed)
{
  g_autoptr (VhPixels) px = vh_pixels_new (w, h);
  for (gint y = 0; y < h; y++)
    for (gint x = 0; x < w; x++)
      {
        guint8 *p = px->rgb + (gsize) (y * w + x) * 3;
        p[0] = (guint8) (x * 255 / w + seed * 37);
        p[1] = (guint8) (y * 255 / h + seed * 11);
        p[2] = (guint8) (seed * 53);   /* smooth: the emulator PNG-encodes what it blends it into */
      }
  g_autoptr (VhImage) img = vh_image_encode_jpeg (px, 85, NULL);
  g_autofree gchar *dir = g_path_get_dirname (path);
  g_mkdir_with_parents (dir, 0755);
  gsize len;
  const gchar *data = g_bytes_get_data (img->bytes, &len);
  g_file_set_contents (path, data, (gssize) len, NULL);
}

json_object *
be_json_get (json_object *o, const char *dotted)
{
  g_auto (GStrv) parts = g_strsplit (dotted, ".", -1);
  for (gchar **p = parts; o && *p; p++)
    {
      json_object *next = NULL;
      if (json_object_is_type (o, json_type_array))
        next = json_object_array_get_idx (o, (size_t) g_ascii_strtoull (*p, NULL, 10));
      else if (!json_object_object_get_ex (o, *p, &next))
        next = NULL;
      o = next;
    }
  return o;
}

const char *
be_json_str (json_object *o, const char *dotted)
{
  json_object *v = be_json_get (o, dotted);
  return v && json_object_is_type (v, json_type_string) ? json_object_get_string (v) : NULL;
}

static void
put_json (gpointer o)
{
  json_object_put (o);
}

GHashTable *
be_journal_by_index (const char *journal_path)
{
  GHashTable *h = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, put_json);
  g_autofree gchar *text = NULL;
  if (!g_file_get_contents (journal_path, &text, NULL, NULL))
    return h;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (gchar **l = lines; *l; l++)
    {
      json_object *o = json_tokener_parse (*l);
      const char *idx = be_json_str (o, "index");
      if (idx)
        g_hash_table_replace (h, g_strdup (idx), o);
      else
        json_object_put (o);
    }
  return h;
}

gint64
be_mtime_us (const char *path)
{
  struct stat st;
  if (stat (path, &st) != 0)
    return -1;
  return (gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
}

json_object *
be_emu_stats (gpointer emu)
{
  g_autofree gchar *s = vh_emu_stats_json (emu);
  return s ? json_tokener_parse (s) : NULL;
}

gint64
be_stat_int (json_object *stats, const char *key)
{
  json_object *v = be_json_get (stats, key);
  return v ? json_object_get_int64 (v) : 0;
}

gdouble
be_child_cpu_s (const char *comm)
{
  /* the direct children of this process named `comm` */
  gdouble total = 0;
  g_autoptr (GDir) d = g_dir_open ("/proc", 0, NULL);
  long tick = sysconf (_SC_CLK_TCK);
  for (const char *n; d && (n = g_dir_read_name (d));)
    {
      if (!g_ascii_isdigit (n[0]))
        continue;
      g_autofree gchar *path = g_strdup_printf ("/proc/%s/stat", n);
      g_autofree gchar *text = NULL;
      if (!g_file_get_contents (path, &text, NULL, NULL))
        continue;
      gchar *open_p = strchr (text, '('), *close_p = strrchr (text, ')');
      if (!open_p || !close_p)
        continue;
      g_autofree gchar *name = g_strndup (open_p + 1, close_p - open_p - 1);
      g_auto (GStrv) f = g_strsplit (close_p + 2, " ", -1);
      /* after "(comm) ": state ppid ... utime is field 14, stime 15 (1-based in stat) */
      if (g_strv_length (f) < 13 || g_strcmp0 (name, comm) != 0 || atoi (f[1]) != getpid ())
        continue;
      total += (g_ascii_strtod (f[11], NULL) + g_ascii_strtod (f[12], NULL)) / tick;
    }
  return total;
}
