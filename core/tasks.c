#include "tasks.h"
#include "vh-config.h"
#include <string.h>
#include <unistd.h>
#include <stdlib.h>

static void
record_free (gpointer p)
{
  VhCsvRecord *r = p;
  g_ptr_array_unref (r->fields);
  g_free (r);
}

GPtrArray *
vh_csv_parse (const char *data, gsize len, GError **error)
{
  GPtrArray *records = g_ptr_array_new_with_free_func (record_free);
  const char *end = data + len;
  const char *p = data;
  guint line = 1;
  if (len >= 3 && memcmp (p, "\xEF\xBB\xBF", 3) == 0)
    p += 3;
  while (p < end)
    {
      VhCsvRecord *rec = g_new0 (VhCsvRecord, 1);
      rec->fields = g_ptr_array_new_with_free_func (g_free);
      rec->line = line;
      for (;;)
        {
          GString *field = g_string_new (NULL);
          if (p < end && *p == '"')
            {
              guint open_line = line;
              p++;
              for (;;)
                {
                  if (p >= end)
                    {
                      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   _("line %u: a quoted field is never closed"), open_line);
                      g_string_free (field, TRUE);
                      record_free (rec);
                      g_ptr_array_unref (records);
                      return NULL;
                    }
                  if (*p == '"')
                    {
                      if (p + 1 < end && p[1] == '"')
                        {
                          g_string_append_c (field, '"');
                          p += 2;
                          continue;
                        }
                      p++;
                      break;
                    }
                  if (*p == '\n')
                    line++;
                  g_string_append_c (field, *p++);
                }
              /* Text after the closing quote (`"a" b`) is kept, as most readers do. */
              while (p < end && *p != ',' && *p != '\n' && *p != '\r')
                g_string_append_c (field, *p++);
            }
          else
            while (p < end && *p != ',' && *p != '\n' && *p != '\r')
              g_string_append_c (field, *p++);
          g_ptr_array_add (rec->fields, g_string_free (field, FALSE));
          if (p < end && *p == ',')
            {
              p++;
              continue;
            }
          break;
        }
      if (p < end && *p == '\r')
        p++;
      if (p < end && *p == '\n')
        p++, line++;
      /* A blank line (a lone empty field) is not a record. */
      if (rec->fields->len == 1 && ((char *) rec->fields->pdata[0])[0] == '\0')
        record_free (rec);
      else
        g_ptr_array_add (records, rec);
    }
  return records;
}

void
vh_task_table_free (VhTaskTable *t)
{
  if (t == NULL)
    return;
  for (guint i = 0; i < t->rows->len; i++)
    {
      VhTaskRow *r = t->rows->pdata[i];
      g_free (r->index);
      g_free (r->prompt);
      g_free (r->ori_image);
      g_free (r->target_image);
      g_free (r);
    }
  g_ptr_array_unref (t->rows);
  g_free (t->path);
  g_free (t);
}

static void G_GNUC_PRINTF (4, 5)
problem (GPtrArray *problems, const char *path, guint line, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree gchar *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_ptr_array_add (problems, g_strdup_printf ("%s:%u: %s", path, line, msg));
}

static gboolean
check_utf8 (const char *path, const char *data, gsize len, GPtrArray *problems)
{
  const gchar *bad = NULL;
  if (g_utf8_validate_len (data, len, &bad))
    return TRUE;
  guint line = 1;
  for (const char *q = data; q < bad; q++)
    line += *q == '\n';
  problem (problems, path, line, _("invalid UTF-8 at byte %zu (save the file as UTF-8)"), (gsize) (bad - data));
  return FALSE;
}

static gint
column (GPtrArray *header, const char *name)
{
  for (guint i = 0; i < header->len; i++)
    {
      g_autofree gchar *h = g_strstrip (g_strdup (header->pdata[i]));
      if (g_ascii_strcasecmp (h, name) == 0)
        return (gint) i;
    }
  return -1;
}

static gchar *
field (VhCsvRecord *r, gint col)
{
  if (col < 0 || (guint) col >= r->fields->len)
    return g_strdup ("");
  return g_strstrip (g_strdup (r->fields->pdata[col]));
}

/* Resolves an image column against the images folder.  Absolute paths and
 * paths that climb out of the folder (directly or through a symlink) are
 * refused: a task file must not make the tool read arbitrary files. */
static gchar *
resolve_image (const char *path, guint line, const char *images_dir, const char *col,
               const char *value, GPtrArray *problems)
{
  if (g_path_is_absolute (value) || value[0] == '\\' || (g_ascii_isalpha (value[0]) && value[1] == ':'))
    {
      problem (problems, path, line, _("%s “%s” is an absolute path; it must be relative to the images folder"), col, value);
      return NULL;
    }
  g_auto (GStrv) parts = g_regex_split_simple ("[/\\\\]", value, 0, 0);
  for (gchar **s = parts; *s; s++)
    if (strcmp (*s, "..") == 0)
      {
        problem (problems, path, line, _("%s “%s” leaves the images folder (“..”)"), col, value);
        return NULL;
      }
  g_autofree gchar *full = g_build_filename (images_dir, value, NULL);
  if (!g_file_test (full, G_FILE_TEST_IS_REGULAR))
    {
      problem (problems, path, line, _("%s “%s” does not exist (looked for %s)"), col, value, full);
      return NULL;
    }
  g_autofree gchar *real_dir = realpath (images_dir, NULL);
  g_autofree gchar *real = realpath (full, NULL);
  if (real_dir == NULL || real == NULL || !g_str_has_prefix (real, real_dir) || real[strlen (real_dir)] != '/')
    {
      problem (problems, path, line, _("%s “%s” leaves the images folder (through a link)"), col, value);
      return NULL;
    }
  return g_steal_pointer (&full);
}

static gboolean
index_is_safe (const char *index)
{
  /* It becomes a file name, imgs/<index>.jpg, inside the zip. */
  return g_regex_match_simple ("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", index, 0, 0);
}

static GPtrArray *
read_records (const char *path, GPtrArray *problems)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;
  GError *err = NULL;
  if (!g_file_get_contents (path, &data, &len, &err))
    {
      g_ptr_array_add (problems, g_strdup_printf ("%s: %s", path, err->message));
      g_error_free (err);
      return NULL;
    }
  if (!check_utf8 (path, data, len, problems))
    return NULL;
  GPtrArray *recs = vh_csv_parse (data, len, &err);
  if (recs == NULL)
    {
      g_ptr_array_add (problems, g_strdup_printf ("%s:%s", path, err->message + strlen ("line ")));
      g_error_free (err);
      return NULL;
    }
  if (recs->len == 0)
    {
      g_ptr_array_add (problems, g_strdup_printf (_("%s: empty file (expected a header index,task_type,prompt,ori_image,target_image)"), path));
      g_ptr_array_unref (recs);
      return NULL;
    }
  return recs;
}

VhTaskTable *
vh_task_table_load (const char *path, const char *images_dir, GPtrArray *problems)
{
  guint before = problems->len;
  g_autoptr (GPtrArray) recs = read_records (path, problems);
  if (recs == NULL)
    return NULL;
  VhCsvRecord *head = recs->pdata[0];
  gint c_index = column (head->fields, "index"), c_type = column (head->fields, "task_type");
  gint c_prompt = column (head->fields, "prompt"), c_ori = column (head->fields, "ori_image");
  gint c_target = column (head->fields, "target_image");
  if (c_index < 0 || c_type < 0 || c_prompt < 0)
    {
      problem (problems, path, 1, _("the header must name the columns index, task_type and prompt (and ori_image, target_image for image tasks)"));
      return NULL;
    }
  g_autoptr (VhTaskTable) t = g_new0 (VhTaskTable, 1);
  t->path = g_strdup (path);
  t->rows = g_ptr_array_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 1; i < recs->len; i++)
    {
      VhCsvRecord *r = recs->pdata[i];
      if (r->fields->len != head->fields->len)
        {
          problem (problems, path, r->line, _("%u fields where the header has %u (a prompt with a comma must be quoted)"),
                   r->fields->len, head->fields->len);
          continue;
        }
      g_autofree gchar *index = field (r, c_index);
      g_autofree gchar *type_name = field (r, c_type);
      VhTaskType type;
      gboolean ok = TRUE;
      if (!index_is_safe (index))
        {
          problem (problems, path, r->line, _("index “%s” is not usable as a file name (letters, digits, “_”, “.”, “-”)"), index);
          ok = FALSE;
        }
      else if (g_hash_table_contains (seen, index))
        {
          problem (problems, path, r->line, _("index “%s” appears again (first on line %u)"), index,
                   GPOINTER_TO_UINT (g_hash_table_lookup (seen, index)));
          ok = FALSE;
        }
      else
        g_hash_table_insert (seen, g_strdup (index), GUINT_TO_POINTER (r->line));
      if (!vh_task_type_parse (type_name, &type))
        {
          problem (problems, path, r->line, _("unknown task_type “%s” (expected t2i, tie, vttie or deepfake)"), type_name);
          continue;
        }
      g_autofree gchar *ori = field (r, c_ori), *target = field (r, c_target);
      gboolean need_ori = type != VH_TASK_T2I, need_target = type == VH_TASK_DEEPFAKE;
      gchar *ori_path = NULL, *target_path = NULL;
      if (need_ori && *ori == '\0')
        {
          problem (problems, path, r->line, _("a %s row needs ori_image"), type_name);
          ok = FALSE;
        }
      else if (*ori)
        ok = (ori_path = resolve_image (path, r->line, images_dir, "ori_image", ori, problems)) && ok;
      if (need_target && *target == '\0')
        {
          problem (problems, path, r->line, _("a %s row needs target_image"), type_name);
          ok = FALSE;
        }
      else if (*target)
        ok = (target_path = resolve_image (path, r->line, images_dir, "target_image", target, problems)) && ok;
      if (!ok)
        {
          g_free (ori_path);
          g_free (target_path);
          continue;
        }
      VhTaskRow *row = g_new0 (VhTaskRow, 1);
      row->position = t->rows->len + 1;
      row->index = g_steal_pointer (&index);
      row->prompt = field (r, c_prompt);
      row->ori_image = ori_path;
      row->target_image = target_path;
      row->task.index = row->index;
      row->task.type = type;
      row->task.type_name = vh_task_type_name (type);
      row->task.prompt = row->prompt;
      row->task.ori_image = row->ori_image;
      row->task.target_image = row->target_image;
      row->task.line = r->line;
      g_ptr_array_add (t->rows, row);
    }
  if (problems->len > before)
    return NULL;
  return g_steal_pointer (&t);
}

GPtrArray *
vh_task_table_read_indexes (const char *path, GError **error)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) recs = read_records (path, problems);
  if (recs == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, problems->pdata[0]);
      return NULL;
    }
  gint c_index = column (((VhCsvRecord *) recs->pdata[0])->fields, "index");
  if (c_index < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s:1: no index column"), path);
      return NULL;
    }
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 1; i < recs->len; i++)
    g_ptr_array_add (out, field (recs->pdata[i], c_index));
  return out;
}
