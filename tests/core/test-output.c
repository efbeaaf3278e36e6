/* output.c and validate.c: the submission (imgs/<index>.jpg, result.csv,
 * result.zip) and `vhost validate`, which must list every problem at once. */
#include "util.h"
#include "output.h"
#include "validate.h"
#include "tasks.h"
#include <string.h>
#include <archive.h>
#include <archive_entry.h>
#include <glib/gstdio.h>

#define BOM "\xEF\xBB\xBF"

typedef struct {
  gchar       *dir, *out, *tasks;
  VhTaskTable *table;
} Sub;

/* A task table of three t2i rows (indexes 10, 2, a_b, in that order) and an
 * empty DIR/out/imgs. */
static Sub *
sub_new (void)
{
  Sub *s = g_new0 (Sub, 1);
  s->dir = tu_tmpdir ();
  s->out = g_build_filename (s->dir, "out", NULL);
  g_autofree gchar *imgs = g_build_filename (s->out, "imgs", NULL);
  g_assert_cmpint (g_mkdir_with_parents (imgs, 0755), ==, 0);
  s->tasks = tu_write (s->dir, "task.csv",
                       "index,task_type,prompt,ori_image,target_image\n10,t2i,a,,\n2,t2i,b,,\na_b,t2i,c,,\n", -1);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  s->table = vh_task_table_load (s->tasks, s->dir, problems);
  g_assert_nonnull (s->table);
  return s;
}

static void
sub_free (Sub *s)
{
  vh_task_table_free (s->table);
  tu_rmtree (s->dir);
  g_free (s->dir);
  g_free (s->out);
  g_free (s->tasks);
  g_free (s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Sub, sub_free)

static void
write_image (Sub *s, const char *index, GBytes *bytes)
{
  g_autoptr (VhImage) img = vh_image_new_from_bytes (bytes, NULL);
  GError *error = NULL;
  g_assert_true (vh_output_write_image (s->out, index, img, 90, &error));
  g_assert_no_error (error);
}

static void
write_all_images (Sub *s)
{
  g_autoptr (GBytes) jpeg = tu_jpeg_bytes (64, 48);
  g_autoptr (GBytes) png = tu_png_rgba_bytes (30, 20, 0, 128, 0, 100);
  write_image (s, "10", png);
  write_image (s, "2", jpeg);
  write_image (s, "a_b", jpeg);
}

static gint
cmp_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* The names in a folder, sorted, joined by spaces. */
static gchar *
listing (const char *dir)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GDir *d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  for (const char *n; d && (n = g_dir_read_name (d));)
    g_ptr_array_add (names, g_strdup (n));
  if (d)
    g_dir_close (d);
  g_ptr_array_sort (names, cmp_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (gchar **) names->pdata);
}

/* Components of the first SOF marker of a JPEG (3 for colour). */
static gint
jpeg_components (GBytes *bytes)
{
  gsize n = 0;
  const guint8 *d = g_bytes_get_data (bytes, &n);
  for (gsize i = 2; i + 9 < n;)
    {
      if (d[i] != 0xFF)
        return -1;
      guint8 m = d[i + 1];
      if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
        return d[i + 9];
      i += 2 + ((gsize) d[i + 2] << 8 | d[i + 3]);
    }
  return -1;
}

/* ------------------------------------------------------------ images */

static void
test_write_image (void)
{
  g_autoptr (Sub) s = sub_new ();
  write_all_images (s);
  g_autofree gchar *imgs = g_build_filename (s->out, "imgs", NULL);
  g_autofree gchar *names = listing (imgs);
  g_assert_cmpstr (names, ==, "10.jpg 2.jpg a_b.jpg");   /* no temp files left */

  /* The PNG (with alpha) came out as an RGB JPEG of the same size. */
  g_autofree gchar *path = vh_output_image_path (s->out, "10");
  g_autofree gchar *expected = g_build_filename (s->out, "imgs", "10.jpg", NULL);
  g_assert_cmpstr (path, ==, expected);
  GError *error = NULL;
  g_autoptr (VhImage) img = vh_image_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (vh_image_sniff (img->bytes), ==, VH_FORMAT_JPEG);
  g_assert_cmpint (jpeg_components (img->bytes), ==, 3);
  g_autoptr (VhPixels) px = vh_image_decode (img, &error);
  g_assert_no_error (error);
  g_assert_cmpint (px->width, ==, 30);
  g_assert_cmpint (px->height, ==, 20);

  /* Overwriting is atomic too. */
  g_autoptr (GBytes) other = tu_jpeg_bytes (16, 16);
  write_image (s, "10", other);
  g_autofree gchar *again = listing (imgs);
  g_assert_cmpstr (again, ==, "10.jpg 2.jpg a_b.jpg");

  /* Something that is not an image is refused, and nothing is written. */
  g_autoptr (GBytes) junk = g_bytes_new_static ("\x89PNG\r\n\x1a\n garbage", 17);
  g_autoptr (VhImage) bad = vh_image_new_from_bytes (junk, NULL);
  g_assert_false (vh_output_write_image (s->out, "zz", bad, 90, &error));
  g_assert_error (error, VH_ERROR, VH_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  g_autofree gchar *after = listing (imgs);
  g_assert_cmpstr (after, ==, "10.jpg 2.jpg a_b.jpg");
}

static void
test_image_ok (void)
{
  g_autoptr (Sub) s = sub_new ();
  write_all_images (s);
  g_assert_true (vh_output_image_ok (s->out, "10"));
  g_assert_false (vh_output_image_ok (s->out, "missing"));

  g_autoptr (GBytes) jpeg = tu_jpeg_bytes (64, 48);
  g_autoptr (GBytes) cut = g_bytes_new_from_bytes (jpeg, 0, g_bytes_get_size (jpeg) / 2);
  g_autofree gchar *imgs = g_build_filename (s->out, "imgs", NULL);
  g_free (tu_write (imgs, "cut.jpg", g_bytes_get_data (cut, NULL), (gssize) g_bytes_get_size (cut)));
  g_assert_false (vh_output_image_ok (s->out, "cut"));
  g_autoptr (GBytes) png = tu_png_bytes (8, 8);
  g_free (tu_write (imgs, "png.jpg", g_bytes_get_data (png, NULL), (gssize) g_bytes_get_size (png)));
  g_assert_false (vh_output_image_ok (s->out, "png"));
}

static void
test_write_csv (void)
{
  g_autoptr (Sub) s = sub_new ();
  GError *error = NULL;
  g_assert_true (vh_output_write_csv (s->out, s->table, &error));
  g_assert_no_error (error);
  g_autofree gchar *path = g_build_filename (s->out, "result.csv", NULL);
  g_autofree gchar *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, BOM "index,gen_image\n10,10.jpg\n2,2.jpg\na_b,a_b.jpg\n");
  g_autofree gchar *names = listing (s->out);
  g_assert_cmpstr (names, ==, "imgs result.csv");
}

/* ------------------------------------------------------------ zip */

static void
test_zip_and_validate_good (void)
{
  g_autoptr (Sub) s = sub_new ();
  write_all_images (s);
  GError *error = NULL;
  g_assert_true (vh_output_write_csv (s->out, s->table, &error));
  g_assert_true (vh_output_write_zip (s->out, s->table, G_GUINT64_CONSTANT (2000000000), &error));
  g_assert_no_error (error);
  g_autofree gchar *names = listing (s->out);
  g_assert_cmpstr (names, ==, "imgs result.csv result.zip");   /* no result.zip.tmp */

  g_autofree gchar *zip = g_build_filename (s->out, "result.zip", NULL);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  guint images = vh_validate_zip (zip, s->tasks, G_GUINT64_CONSTANT (2000000000), problems);
  tu_dump_problems (problems);
  g_assert_cmpuint (problems->len, ==, 0);
  g_assert_cmpuint (images, ==, 3);

  /* Without task.csv the zip is still checked on its own. */
  g_ptr_array_set_size (problems, 0);
  g_assert_cmpuint (vh_validate_zip (zip, NULL, G_GUINT64_CONSTANT (2000000000), problems), ==, 3);
  g_assert_cmpuint (problems->len, ==, 0);
}

static void
test_zip_over_the_cap (void)
{
  g_autoptr (Sub) s = sub_new ();
  write_all_images (s);
  GError *error = NULL;
  g_assert_true (vh_output_write_csv (s->out, s->table, &error));
  g_assert_false (vh_output_write_zip (s->out, s->table, 1000, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_assert_nonnull (error ? strstr (error->message, "zip_max") : NULL);
  g_clear_error (&error);
  g_autofree gchar *names = listing (s->out);
  g_assert_cmpstr (names, ==, "imgs result.csv");   /* nothing written, no temp file */
}

static void
test_zip_missing_image (void)
{
  g_autoptr (Sub) s = sub_new ();
  g_autoptr (GBytes) jpeg = tu_jpeg_bytes (8, 8);
  write_image (s, "10", jpeg);
  GError *error = NULL;
  g_assert_true (vh_output_write_csv (s->out, s->table, &error));
  g_assert_false (vh_output_write_zip (s->out, s->table, G_GUINT64_CONSTANT (2000000000), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (error ? strstr (error->message, "no image for row 2") : NULL);
  g_clear_error (&error);
}

/* Writes a zip of (name, data, len) triples; len -1 = strlen. */
static gchar *
make_zip (const char *dir, ...)
{
  gchar *path = g_build_filename (dir, "bad.zip", NULL);
  struct archive *a = archive_write_new ();
  archive_write_set_format_zip (a);
  g_assert_cmpint (archive_write_open_filename (a, path), ==, ARCHIVE_OK);
  va_list ap;
  va_start (ap, dir);
  for (const char *name; (name = va_arg (ap, const char *));)
    {
      const char *data = va_arg (ap, const char *);
      gssize len = va_arg (ap, gssize);
      gsize n = len < 0 ? strlen (data) : (gsize) len;
      struct archive_entry *e = archive_entry_new ();
      archive_entry_set_pathname (e, name);
      archive_entry_set_size (e, (la_int64_t) n);
      archive_entry_set_filetype (e, AE_IFREG);
      archive_entry_set_perm (e, 0644);
      g_assert_cmpint (archive_write_header (a, e), ==, ARCHIVE_OK);
      g_assert_cmpint (archive_write_data (a, data, n), ==, (la_ssize_t) n);
      archive_entry_free (e);
    }
  va_end (ap);
  g_assert_cmpint (archive_write_close (a), ==, ARCHIVE_OK);
  archive_write_free (a);
  return path;
}

static void
test_validate_reports_everything (void)
{
  g_autoptr (Sub) s = sub_new ();
  g_autoptr (GBytes) jpeg = tu_jpeg_bytes (32, 32);
  g_autoptr (GBytes) png = tu_png_bytes (32, 32);
  gsize jn = g_bytes_get_size (jpeg);
  const char *j = g_bytes_get_data (jpeg, NULL);
  g_autofree gchar *zip = make_zip (s->dir,
      "result.csv", "idx,gen_image\n2,2.jpg\n10,10.jpg\nzz,zz.jpg\na_b,a_b.jpg\n", (gssize) -1,
      "imgs/10.jpg", j, (gssize) jn,
      "imgs/2.jpg", (const char *) g_bytes_get_data (png, NULL), (gssize) g_bytes_get_size (png),
      "imgs/a_b.jpg", j, (gssize) (jn / 2),
      "imgs/extra.jpg", j, (gssize) jn,
      "notes.txt", "hello", (gssize) -1,
      NULL);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  vh_validate_zip (zip, s->tasks, 100, problems);
  tu_dump_problems (problems);
  tu_assert_problem (problems, "bad.zip: ", "bytes, the limit is 100");
  tu_assert_problem (problems, "result.csv: does not start with a UTF-8 BOM");
  tu_assert_problem (problems, "result.csv:1: header is not exactly “index,gen_image”");
  tu_assert_problem (problems, "result.csv: 4 rows, task.csv has 3");
  tu_assert_problem (problems, "result.csv:2: index “2” where task.csv has “10” (same order required)");
  tu_assert_problem (problems, "result.csv:3: index “10” where task.csv has “2”");
  tu_assert_problem (problems, "result.csv:4: imgs/zz.jpg is not in the zip");
  tu_assert_problem (problems, "imgs/2.jpg: not a JPEG (checked by content)");
  tu_assert_problem (problems, "imgs/a_b.jpg: JPEG does not decode");
  tu_assert_problem (problems, "imgs/extra.jpg: in the zip but not named by result.csv");
  tu_assert_problem (problems, "notes.txt: unexpected file in the zip");
  g_assert_null (tu_find_problem (problems, "imgs/10.jpg", NULL));   /* the good image is fine */
}

static void
test_validate_missing_csv_and_zip (void)
{
  g_autoptr (Sub) s = sub_new ();
  g_autoptr (GBytes) jpeg = tu_jpeg_bytes (8, 8);
  g_autofree gchar *zip = make_zip (s->dir, "imgs/10.jpg", (const char *) g_bytes_get_data (jpeg, NULL),
                                    (gssize) g_bytes_get_size (jpeg), NULL);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_assert_cmpuint (vh_validate_zip (zip, s->tasks, 1000000, problems), ==, 1);
  tu_assert_problem (problems, "result.csv is not at the top of the zip");

  g_ptr_array_set_size (problems, 0);
  g_autofree gchar *none = g_build_filename (s->dir, "none.zip", NULL);
  g_assert_cmpuint (vh_validate_zip (none, s->tasks, 1000000, problems), ==, 0);
  tu_assert_problem (problems, "none.zip: does not exist");

  g_ptr_array_set_size (problems, 0);
  g_autofree gchar *text = tu_write (s->dir, "text.zip", "this is not a zip file at all", -1);
  g_assert_cmpuint (vh_validate_zip (text, s->tasks, 1000000, problems), ==, 0);
  tu_assert_problem (problems, "text.zip: not a readable zip");
}

int
main (int argc, char **argv)
{
  tu_init (&argc, &argv);
  g_test_add_func ("/output/write-image", test_write_image);
  g_test_add_func ("/output/image-ok", test_image_ok);
  g_test_add_func ("/output/write-csv", test_write_csv);
  g_test_add_func ("/output/zip-and-validate-good", test_zip_and_validate_good);
  g_test_add_func ("/output/zip-over-the-cap", test_zip_over_the_cap);
  g_test_add_func ("/output/zip-missing-image", test_zip_missing_image);
  g_test_add_func ("/validate/reports-everything", test_validate_reports_everything);
  g_test_add_func ("/validate/missing-csv-and-zip", test_validate_missing_csv_and_zip);
  return g_test_run ();
}
