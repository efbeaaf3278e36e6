#include <inttypes.h>
#include "validate.h"
#include "tasks.h"
#include <archive.h>
#include <archive_entry.h>
#include <string.h>
#include <glib/gstdio.h>

#define MAX_MEMBER_BYTES (64u * 1024 * 1024)

static void G_GNUC_PRINTF (2, 3)
add (GPtrArray *problems, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_ptr_array_add (problems, g_strdup_vprintf (format, ap));
  va_end (ap);
}

static void
check_csv (GBytes *csv, GPtrArray *indexes, GHashTable *members, GPtrArray *problems)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (csv, &len);
  if (len < 3 || memcmp (data, "\xEF\xBB\xBF", 3) != 0)
    add (problems, "%s", _("result.csv: does not start with a UTF-8 BOM"));
  if (!g_utf8_validate_len (data, len, NULL))
    add (problems, "%s", _("result.csv: not valid UTF-8"));
  GError *err = NULL;
  g_autoptr (GPtrArray) recs = vh_csv_parse (data, len, &err);
  if (recs == NULL)
    {
      add (problems, "result.csv: %s", err->message);
      g_error_free (err);
      return;
    }
  if (recs->len == 0)
    {
      add (problems, "%s", _("result.csv: empty"));
      return;
    }
  VhCsvRecord *head = recs->pdata[0];
  if (head->fields->len != 2 || strcmp (head->fields->pdata[0], "index") != 0
      || strcmp (head->fields->pdata[1], "gen_image") != 0)
    add (problems, "%s", _("result.csv:1: header is not exactly “index,gen_image”"));
  guint rows = recs->len - 1;
  if (indexes && rows != indexes->len)
    add (problems, _("result.csv: %u rows, task.csv has %u"), rows, indexes->len);
  guint order_reported = 0;
  for (guint i = 1; i < recs->len; i++)
    {
      VhCsvRecord *r = recs->pdata[i];
      if (r->fields->len != 2)
        {
          add (problems, _("result.csv:%u: %u fields, expected 2"), r->line, r->fields->len);
          continue;
        }
      const char *index = r->fields->pdata[0], *name = r->fields->pdata[1];
      if (indexes && i - 1 < indexes->len && strcmp (index, indexes->pdata[i - 1]) != 0 && order_reported++ < 5)
        add (problems, _("result.csv:%u: index “%s” where task.csv has “%s” (same order required)"),
             r->line, index, (const char *) indexes->pdata[i - 1]);
      g_autofree gchar *expected = g_strdup_printf ("%s.jpg", index);
      if (strcmp (name, expected) != 0)
        add (problems, _("result.csv:%u: gen_image “%s”, expected “%s”"), r->line, name, expected);
      g_autofree gchar *member = g_strdup_printf ("imgs/%s", name);
      gpointer state = g_hash_table_lookup (members, member);
      if (state == NULL)
        add (problems, _("result.csv:%u: %s is not in the zip"), r->line, member);
      else
        g_hash_table_insert (members, g_strdup (member), GINT_TO_POINTER (2));  /* referenced */
    }
}

guint
vh_validate_zip (const char *zip_path, const char *tasks_path, guint64 max_bytes, GPtrArray *problems)
{
  GStatBuf st;
  if (g_stat (zip_path, &st) != 0)
    {
      add (problems, _("%s: does not exist"), zip_path);
      return 0;
    }
  if ((guint64) st.st_size >= max_bytes)
    add (problems, _("%s: %" PRIu64 " bytes, the limit is %" PRIu64),
         zip_path, (guint64) st.st_size, max_bytes);

  g_autoptr (GPtrArray) indexes = NULL;
  if (tasks_path)
    {
      GError *err = NULL;
      indexes = vh_task_table_read_indexes (tasks_path, &err);
      if (indexes == NULL)
        {
          add (problems, "%s", err->message);
          g_error_free (err);
        }
    }

  struct archive *a = archive_read_new ();
  archive_read_support_format_zip (a);
  if (archive_read_open_filename (a, zip_path, 65536) != ARCHIVE_OK)
    {
      add (problems, _("%s: not a readable zip: %s"), zip_path, archive_error_string (a));
      archive_read_free (a);
      return 0;
    }
  g_autoptr (GHashTable) members = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GBytes) csv = NULL;
  guint images = 0;
  struct archive_entry *e;
  int r;
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK)
    {
      const char *name = archive_entry_pathname (e);
      if (archive_entry_filetype (e) == AE_IFDIR)
        continue;
      la_int64_t size = archive_entry_size (e);
      if (size < 0 || (guint64) size > MAX_MEMBER_BYTES)
        {
          add (problems, _("%s: member too large"), name);
          archive_read_data_skip (a);
          continue;
        }
      guint8 *buf = g_malloc ((gsize) size + 1);
      la_ssize_t got = archive_read_data (a, buf, (size_t) size);
      if (got != size)
        {
          add (problems, _("%s: truncated in the zip"), name);
          g_free (buf);
          continue;
        }
      g_autoptr (GBytes) bytes = g_bytes_new_take (buf, (gsize) size);
      if (strcmp (name, "result.csv") == 0)
        csv = g_bytes_ref (bytes);
      else if (g_str_has_prefix (name, "imgs/"))
        {
          g_hash_table_insert (members, g_strdup (name), GINT_TO_POINTER (1));
          images++;
          if (vh_image_sniff (bytes) != VH_FORMAT_JPEG)
            add (problems, _("%s: not a JPEG (checked by content)"), name);
          else
            {
              VhImage img = { bytes, 0, 0 };
              GError *err = NULL;
              g_autoptr (VhPixels) px = vh_image_decode (&img, &err);
              if (px == NULL)
                {
                  add (problems, "%s: %s", name, err->message);
                  g_error_free (err);
                }
            }
        }
      else
        add (problems, _("%s: unexpected file in the zip (only result.csv and imgs/)"), name);
    }
  if (r != ARCHIVE_EOF)
    add (problems, _("%s: zip is damaged: %s"), zip_path, archive_error_string (a));
  archive_read_free (a);
  if (csv == NULL)
    add (problems, "%s", _("result.csv is not at the top of the zip"));
  else
    check_csv (csv, indexes, members, problems);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, members);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (v == GINT_TO_POINTER (1) && csv != NULL)
      add (problems, _("%s: in the zip but not named by result.csv"), (const char *) k);
  return images;
}
