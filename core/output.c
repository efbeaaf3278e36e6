#include <inttypes.h>
#include "output.h"
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

static gboolean
fsync_dir (const char *path)
{
  g_autofree gchar *dir = g_path_get_dirname (path);
  int fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0)
    return FALSE;
  int r = fsync (fd);
  close (fd);
  return r == 0;
}

gboolean
vh_write_file_atomic (const char *path, const void *data, gsize len, GError **error)
{
  /* Temp file in the same folder so rename() is atomic; fsync the data
   * before the rename and the folder after, so a crash leaves either the
   * old file or the complete new one, never a torn one under the real name. */
  g_autofree gchar *tmp = g_strdup_printf ("%s.tmp-XXXXXX", path);
  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    goto fail;
  for (gsize off = 0; off < len;)
    {
      ssize_t n = write (fd, (const char *) data + off, len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          close (fd);
          g_unlink (tmp);
          errno = e;
          goto fail;
        }
      off += (gsize) n;
    }
  if (fsync (fd) != 0 || close (fd) != 0 || g_rename (tmp, path) != 0)
    {
      int e = errno;
      g_unlink (tmp);
      errno = e;
      goto fail;
    }
  fsync_dir (path);
  return TRUE;
fail:
  {
    int e = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", path, g_strerror (e));
    return FALSE;
  }
}

gchar *
vh_output_image_path (const char *output_dir, const char *index)
{
  g_autofree gchar *name = g_strconcat (index, ".jpg", NULL);
  return g_build_filename (output_dir, "imgs", name, NULL);
}

gboolean
vh_output_write_image (const char *output_dir, const char *index, const VhImage *image,
                       gint quality, GError **error)
{
  g_autoptr (VhImage) jpeg = vh_image_to_submission_jpeg (image, quality, error);
  if (jpeg == NULL)
    return FALSE;
  g_autofree gchar *path = vh_output_image_path (output_dir, index);
  gsize len = 0;
  const void *data = g_bytes_get_data (jpeg->bytes, &len);
  return vh_write_file_atomic (path, data, len, error);
}

gboolean
vh_output_image_ok (const char *output_dir, const char *index)
{
  g_autofree gchar *path = vh_output_image_path (output_dir, index);
  g_autoptr (VhImage) img = vh_image_new_from_file (path, NULL);
  if (img == NULL || vh_image_sniff (img->bytes) != VH_FORMAT_JPEG)
    return FALSE;
  g_autoptr (VhPixels) px = vh_image_decode (img, NULL);
  return px != NULL;
}

gboolean
vh_output_write_csv (const char *output_dir, VhTaskTable *table, GError **error)
{
  GString *s = g_string_new ("\xEF\xBB\xBF" "index,gen_image\n");
  for (guint i = 0; i < table->rows->len; i++)
    {
      VhTaskRow *r = table->rows->pdata[i];
      g_string_append_printf (s, "%s,%s.jpg\n", r->index, r->index);
    }
  g_autofree gchar *path = g_build_filename (output_dir, "result.csv", NULL);
  gboolean ok = vh_write_file_atomic (path, s->str, s->len, error);
  g_string_free (s, TRUE);
  return ok;
}

static gboolean
add_entry (struct archive *a, const char *name, const void *data, gsize len, GError **error)
{
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, name);
  archive_entry_set_size (e, (la_int64_t) len);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  /* A fixed time keeps the zip byte-identical across resumed runs. */
  archive_entry_set_mtime (e, 1735689600, 0);
  gboolean ok = archive_write_header (a, e) == ARCHIVE_OK
                && (len == 0 || archive_write_data (a, data, len) == (la_ssize_t) len);
  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "zip: %s: %s", name, archive_error_string (a));
  archive_entry_free (e);
  return ok;
}

gboolean
vh_output_write_zip (const char *output_dir, VhTaskTable *table, guint64 max_bytes, GError **error)
{
  /* Check the cap before writing anything: images are stored, not
   * compressed (JPEG does not shrink), so the zip is their sum plus headers. */
  guint64 estimate = 22;
  for (guint i = 0; i < table->rows->len; i++)
    {
      VhTaskRow *r = table->rows->pdata[i];
      g_autofree gchar *p = vh_output_image_path (output_dir, r->index);
      GStatBuf st;
      if (g_stat (p, &st) != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("no image for row %s (%s)"), r->index, p);
          return FALSE;
        }
      estimate += (guint64) st.st_size + 2 * (46 + strlen (r->index) + 9) + 30;
    }
  if (estimate > max_bytes)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   _("result.zip would be about %" PRIu64 " MB, over the cap of %" PRIu64
                     " MB (zip_max); lower jpeg_quality"), estimate / 1000000, max_bytes / 1000000);
      return FALSE;
    }
  g_autofree gchar *zip = g_build_filename (output_dir, "result.zip", NULL);
  g_autofree gchar *tmp = g_strconcat (zip, ".tmp", NULL);
  struct archive *a = archive_write_new ();
  archive_write_set_format_zip (a);
  archive_write_zip_set_compression_store (a);
  gboolean ok = archive_write_open_filename (a, tmp) == ARCHIVE_OK;
  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", tmp, archive_error_string (a));
  if (ok)
    {
      g_autofree gchar *csv_path = g_build_filename (output_dir, "result.csv", NULL);
      gchar *csv = NULL;
      gsize len = 0;
      ok = g_file_get_contents (csv_path, &csv, &len, error) && add_entry (a, "result.csv", csv, len, error);
      g_free (csv);
    }
  for (guint i = 0; ok && i < table->rows->len; i++)
    {
      VhTaskRow *r = table->rows->pdata[i];
      g_autofree gchar *p = vh_output_image_path (output_dir, r->index);
      g_autofree gchar *name = g_strdup_printf ("imgs/%s.jpg", r->index);
      gchar *data = NULL;
      gsize len = 0;
      ok = g_file_get_contents (p, &data, &len, error) && add_entry (a, name, data, len, error);
      g_free (data);
    }
  if (archive_write_close (a) != ARCHIVE_OK && ok)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", tmp, archive_error_string (a));
      ok = FALSE;
    }
  archive_write_free (a);
  GStatBuf st;
  if (ok && g_stat (tmp, &st) == 0 && (guint64) st.st_size > max_bytes)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, _("result.zip is over the cap of %" PRIu64 " bytes"), max_bytes);
      ok = FALSE;
    }
  if (ok)
    {
      int fd = g_open (tmp, O_RDONLY | O_CLOEXEC, 0);
      if (fd >= 0)
        {
          fsync (fd);
          close (fd);
        }
      if (g_rename (tmp, zip) != 0)
        {
          int e = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", zip, g_strerror (e));
          ok = FALSE;
        }
      fsync_dir (zip);
    }
  if (!ok)
    g_unlink (tmp);
  return ok;
}
