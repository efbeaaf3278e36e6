#include "util.h"
#include <string.h>
#include <locale.h>
#include <stdarg.h>
#include <png.h>
#include <glib/gstdio.h>

void
tu_init (int *argc, char ***argv)
{
  setlocale (LC_ALL, "");
  g_test_init (argc, argv, NULL);
  g_test_set_nonfatal_assertions ();
}

gchar *
tu_tmpdir (void)
{
  GError *error = NULL;
  gchar *dir = g_dir_make_tmp ("vh-core-test-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

void
tu_rmtree (const char *path)
{
  if (!g_file_test (path, G_FILE_TEST_IS_SYMLINK) && g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      GDir *d = g_dir_open (path, 0, NULL);
      for (const char *n; d && (n = g_dir_read_name (d));)
        {
          g_autofree gchar *child = g_build_filename (path, n, NULL);
          tu_rmtree (child);
        }
      if (d)
        g_dir_close (d);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

gchar *
tu_write (const char *dir, const char *name, const char *data, gssize len)
{
  gchar *path = g_build_filename (dir, name, NULL);
  g_autofree gchar *parent = g_path_get_dirname (path);
  g_mkdir_with_parents (parent, 0755);
  GError *error = NULL;
  g_file_set_contents (path, data, len, &error);
  g_assert_no_error (error);
  return path;
}

const char *
tu_builddir (void)
{
  const char *b = g_getenv ("VH_BUILDDIR");
  return b ? b : ".";
}

static const char *
find_va (GPtrArray *problems, va_list ap)
{
  g_autoptr (GPtrArray) needles = g_ptr_array_new ();
  for (const char *n; (n = va_arg (ap, const char *));)
    g_ptr_array_add (needles, (gpointer) n);
  for (guint i = 0; i < problems->len; i++)
    {
      const char *p = problems->pdata[i];
      gboolean all = TRUE;
      for (guint j = 0; j < needles->len && all; j++)
        all = strstr (p, needles->pdata[j]) != NULL;
      if (all)
        return p;
    }
  return NULL;
}

const char *
tu_find_problem (GPtrArray *problems, ...)
{
  va_list ap;
  va_start (ap, problems);
  const char *p = find_va (problems, ap);
  va_end (ap);
  return p;
}

void
tu_dump_problems (GPtrArray *problems)
{
  for (guint i = 0; i < problems->len; i++)
    g_test_message ("problem: %s", (const char *) problems->pdata[i]);
}

const char *
tu_assert_problem_at (const char *file, int line, GPtrArray *problems, ...)
{
  va_list ap;
  va_start (ap, problems);
  const char *p = find_va (problems, ap);
  va_end (ap);
  if (p == NULL)
    {
      GString *want = g_string_new (NULL);
      va_start (ap, problems);
      for (const char *n; (n = va_arg (ap, const char *));)
        g_string_append_printf (want, " “%s”", n);
      va_end (ap);
      tu_dump_problems (problems);
      g_autofree gchar *msg = g_strdup_printf ("no problem contains all of%s", want->str);
      g_string_free (want, TRUE);
      g_assertion_message (G_LOG_DOMAIN, file, line, G_STRFUNC, msg);
    }
  return p;
}

guint
tu_count_problems (GPtrArray *problems, const char *needle)
{
  guint n = 0;
  for (guint i = 0; i < problems->len; i++)
    n += strstr (problems->pdata[i], needle) != NULL;
  return n;
}

void
tu_assert_no_problem_with (GPtrArray *problems, const char *needle)
{
  for (guint i = 0; i < problems->len; i++)
    if (strstr (problems->pdata[i], needle))
      {
        g_test_fail_printf ("unexpected problem mentioning “%s”: %s", needle, (const char *) problems->pdata[i]);
        return;
      }
}

VhPixels *
tu_gradient (gint width, gint height)
{
  VhPixels *px = vh_pixels_new (width, height);
  for (gint y = 0; y < height; y++)
    for (gint x = 0; x < width; x++)
      {
        guint8 *p = px->rgb + ((gsize) y * width + x) * 3;
        p[0] = (guint8) (x * 255 / MAX (width - 1, 1));
        p[1] = (guint8) (y * 255 / MAX (height - 1, 1));
        p[2] = (guint8) ((x ^ y) & 0xff);
      }
  return px;
}

GBytes *
tu_jpeg_bytes (gint width, gint height)
{
  g_autoptr (VhPixels) px = tu_gradient (width, height);
  GError *error = NULL;
  g_autoptr (VhImage) img = vh_image_encode_jpeg (px, 90, &error);
  g_assert_no_error (error);
  return g_bytes_ref (img->bytes);
}

GBytes *
tu_png_bytes (gint width, gint height)
{
  g_autoptr (VhPixels) px = tu_gradient (width, height);
  GError *error = NULL;
  g_autoptr (VhImage) img = vh_image_encode_png (px, &error);
  g_assert_no_error (error);
  return g_bytes_ref (img->bytes);
}

GBytes *
tu_png_rgba_bytes (gint width, gint height, guint8 r, guint8 g, guint8 b, guint8 alpha)
{
  gsize n = (gsize) width * height;
  g_autofree guint8 *rgba = g_malloc (n * 4);
  for (gsize i = 0; i < n; i++)
    {
      rgba[i * 4] = r;
      rgba[i * 4 + 1] = g;
      rgba[i * 4 + 2] = b;
      rgba[i * 4 + 3] = alpha;
    }
  png_image png;
  memset (&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = (png_uint_32) width;
  png.height = (png_uint_32) height;
  png.format = PNG_FORMAT_RGBA;
  png_alloc_size_t size = 0;
  g_assert_true (png_image_write_to_memory (&png, NULL, &size, 0, rgba, 0, NULL));
  guint8 *buf = g_malloc (size);
  g_assert_true (png_image_write_to_memory (&png, buf, &size, 0, rgba, 0, NULL));
  return g_bytes_new_take (buf, size);
}
