#include "test-util.h"
#include <vhost/plugin.h>
#include <glib/gstdio.h>
#include <sys/wait.h>
#include <signal.h>
#include <string.h>
#include <json-c/json.h>

gchar *
vht_tmpdir (void)
{
  GError *e = NULL;
  gchar *d = g_dir_make_tmp ("vhost-test-XXXXXX", &e);
  g_assert_no_error (e);
  return d;
}

void
vht_rm_rf (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  for (const char *n; d && (n = g_dir_read_name (d));)
    {
      g_autofree gchar *p = g_build_filename (path, n, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        vht_rm_rf (p);
      else
        g_unlink (p);
    }
  g_rmdir (path);
}

void
vht_write (const char *dir, const char *name, const char *text)
{
  g_autofree gchar *p = g_build_filename (dir, name, NULL);
  g_autofree gchar *parent = g_path_get_dirname (p);
  g_mkdir_with_parents (parent, 0755);
  GError *e = NULL;
  g_file_set_contents (p, text, -1, &e);
  g_assert_no_error (e);
}

void
vht_write_image (const char *dir, const char *name, gint w, gint h, gboolean png)
{
  g_autoptr (VhPixels) px = vh_pixels_new (w, h);
  for (gint i = 0; i < w * h * 3; i++)
    px->rgb[i] = (guint8) (i * 7 + (gint) strlen (name) * 31);
  GError *e = NULL;
  g_autoptr (VhImage) img = png ? vh_image_encode_png (px, &e) : vh_image_encode_jpeg (px, 90, &e);
  g_assert_no_error (e);
  g_autofree gchar *p = g_build_filename (dir, name, NULL);
  g_autofree gchar *parent = g_path_get_dirname (p);
  g_mkdir_with_parents (parent, 0755);
  gsize len = 0;
  const gchar *data = g_bytes_get_data (img->bytes, &len);
  g_file_set_contents (p, data, (gssize) len, &e);
  g_assert_no_error (e);
}

static gchar **
make_env (const char *const *extra)
{
  gchar **env = g_get_environ ();
  for (const char *const *x = extra; x && *x; x++)
    {
      g_auto (GStrv) kv = g_strsplit (*x, "=", 2);
      env = g_environ_setenv (env, kv[0], kv[1] ? kv[1] : "", TRUE);
    }
  return env;
}

static gchar *
vhost_path (void)
{
  const char *b = g_getenv ("VH_BUILDDIR");
  g_assert_nonnull (b);
  return g_build_filename (b, "vhost", NULL);
}

VhtResult *
vht_vhost (const char *const *env_extra, const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, vhost_path ());
  va_list ap;
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_auto (GStrv) env = make_env (env_extra);
  VhtResult *r = g_new0 (VhtResult, 1);
  gint wait = 0;
  GError *e = NULL;
  g_spawn_sync (NULL, (gchar **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, &r->out, &r->err, &wait, &e);
  g_assert_no_error (e);
  r->status = WIFEXITED (wait) ? WEXITSTATUS (wait) : 128 + WTERMSIG (wait);
  return r;
}

void
vht_result_free (VhtResult *r)
{
  if (!r)
    return;
  g_free (r->out);
  g_free (r->err);
  g_free (r);
}

GPid
vht_vhost_spawn (const char *const *env_extra, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, vhost_path ());
  for (const char *const *a = args; *a; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  g_ptr_array_add (argv, NULL);
  g_auto (GStrv) env = make_env (env_extra);
  GPid pid = 0;
  GError *e = NULL;
  /* stdout/stderr discarded: the test only cares about files and status. */
  g_spawn_async (NULL, (gchar **) argv->pdata, env,
                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                 NULL, NULL, &pid, &e);
  g_assert_no_error (e);
  return pid;
}

gint
vht_wait (GPid pid)
{
  int status = 0;
  while (waitpid (pid, &status, 0) < 0)
    ;
  g_spawn_close_pid (pid);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

gchar *
vht_read (const char *path)
{
  gchar *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

gchar *
vht_sha256_file (const char *path)
{
  gchar *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &data, &len, NULL))
    return NULL;
  gchar *sum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
  g_free (data);
  return sum;
}

void
vht_make_tasks (const char *dir, guint per_type)
{
  /* Like the contest file: BOM, CRLF, no newline after the last row, quotes,
   * commas and Chinese in prompts, PNG files named .jpg. */
  GString *csv = g_string_new ("\xEF\xBB\xBF" "index,task_type,prompt,ori_image,target_image");
  static const char *const types[] = { "t2i", "tie", "vttie", "deepfake" };
  guint index = 1;
  for (guint t = 0; t < 4; t++)
    for (guint i = 0; i < per_type; i++, index++)
      {
        g_autofree gchar *ori = g_strdup_printf ("imgs/ori_%u.jpg", index);
        g_autofree gchar *tgt = g_strdup_printf ("imgs/tgt_%u.jpg", index);
        if (t > 0)
          vht_write_image (dir, ori, 40 + (gint) index, 30, index % 2 == 0);
        if (t == 3)
          vht_write_image (dir, tgt, 32, 32, FALSE);
        g_string_append_printf (csv, "\r\n%u,%s,\" 把“猫”画成 \"\"蓝色\"\", row %u \",%s,%s", index, types[t], index,
                                t > 0 ? ori : "", t == 3 ? tgt : "");
      }
  vht_write (dir, "task.csv", csv->str);
  g_string_free (csv, TRUE);
}

void
vht_run_dir_new (gchar **dir, gchar **ini, gchar **out)
{
  *dir = vht_tmpdir ();
  *ini = g_build_filename (*dir, "pipeline.ini", NULL);
  *out = g_build_filename (*dir, "out", NULL);
}

void
vht_run_dir_free (gchar *dir, gchar *ini, gchar *out, const char *keep_env)
{
  if (g_getenv (keep_env) == NULL)
    vht_rm_rf (dir);
  else
    g_printerr ("kept %s\n", dir);
  g_free (dir);
  g_free (ini);
  g_free (out);
}

static void
put_json (gpointer o)
{
  json_object_put (o);
}

GHashTable *
vht_read_journal (const char *out_dir)
{
  g_autofree gchar *path = g_build_filename (out_dir, "journal.jsonl", NULL);
  g_autofree gchar *text = vht_read (path);
  g_assert_nonnull (text);
  GHashTable *rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, put_json);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (gchar **l = lines; *l; l++)
    {
      if (**l == '\0')
        continue;
      json_object *o = json_tokener_parse (*l);
      g_assert_nonnull (o);
      json_object *idx = NULL;
      if (!json_object_object_get_ex (o, "index", &idx))
        {
          json_object_put (o);
          continue;
        }
      g_hash_table_replace (rows, g_strdup (json_object_get_string (idx)), o);
    }
  return rows;
}

const char *
vht_journal_field (GHashTable *rows, const char *index, const char *name)
{
  json_object *o = g_hash_table_lookup (rows, index), *v = NULL;
  if (o == NULL || !json_object_object_get_ex (o, name, &v) || v == NULL)
    return NULL;
  return json_object_get_string (v);
}
