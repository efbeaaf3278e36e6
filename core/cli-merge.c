/* `vhost merge`: shards run with --shard K/N (on one machine or as a job
 * array) each write their own output folder; merge collects the finished
 * rows of all of them, in task.csv order, into one submission. */
#include "cli.h"
#include "journal.h"
#include "output.h"
#include "tasks.h"
#include <stdio.h>
#include <string.h>

int
vh_cli_merge (int argc, char **argv)
{
  g_autofree gchar *tasks = NULL, *output = NULL, *max = NULL;
  GOptionEntry entries[] = {
    { "tasks", 't', 0, G_OPTION_ARG_FILENAME, &tasks, N_("the task.csv all shards ran (required)"), N_("CSV") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("folder of the merged submission (required)"), N_("DIR") },
    { "zip-max", 0, 0, G_OPTION_ARG_STRING, &max, N_("largest result.zip in bytes (default 2000000000)"), N_("N") },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (_("SHARD_DIR... — merge the outputs of sharded runs"));
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (ctx, _("Copies every row that a shard's journal records as done (and whose image decodes)\n"
                                       "into one output folder, then writes result.csv and, when every row is there,\n"
                                       "result.zip. Rows no shard finished are listed. Exit status 0 when complete, 2 when not."));
  GError *error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc < 2 || tasks == NULL || output == NULL)
    {
      fprintf (stderr, "vhost: %s\n", error ? error->message : _("merge needs --tasks, --output and at least one SHARD_DIR"));
      g_clear_error (&error);
      return 1;
    }
  guint64 zip_max = 2000000000ull;
  if (max && !g_ascii_string_to_unsigned (max, 10, 1, G_MAXUINT64, &zip_max, NULL))
    {
      fprintf (stderr, _("vhost: --zip-max “%s” is not a number\n"), max);
      return 1;
    }
  g_autoptr (GPtrArray) indexes = vh_task_table_read_indexes (tasks, &error);
  if (indexes == NULL)
    {
      fprintf (stderr, "vhost: %s\n", error->message);
      g_error_free (error);
      return 1;
    }
  g_autofree gchar *out_dir = g_canonicalize_filename (output, NULL);
  g_autofree gchar *imgs = g_build_filename (out_dir, "imgs", NULL);
  g_mkdir_with_parents (imgs, 0755);
  g_autofree gchar *jpath = g_build_filename (out_dir, "journal.jsonl", NULL);
  g_autoptr (VhJournal) merged = vh_journal_open (jpath, NULL, &error);
  if (merged == NULL)
    {
      fprintf (stderr, "vhost: %s\n", error->message);
      g_error_free (error);
      return 1;
    }
  GPtrArray *shards = g_ptr_array_new_with_free_func ((GDestroyNotify) vh_journal_close);
  g_autoptr (GPtrArray) shard_dirs = g_ptr_array_new_with_free_func (g_free);
  for (int i = 1; i < argc; i++)
    {
      g_autofree gchar *p = g_build_filename (argv[i], "journal.jsonl", NULL);
      if (!g_file_test (p, G_FILE_TEST_IS_REGULAR))
        {
          fprintf (stderr, _("vhost: %s has no journal.jsonl (not a vhost output folder)\n"), argv[i]);
          g_ptr_array_unref (shards);
          return 1;
        }
      VhJournal *j = vh_journal_open (p, NULL, &error);
      if (j == NULL)
        {
          fprintf (stderr, "vhost: %s\n", error->message);
          g_error_free (error);
          g_ptr_array_unref (shards);
          return 1;
        }
      g_ptr_array_add (shards, j);
      g_ptr_array_add (shard_dirs, g_canonicalize_filename (argv[i], NULL));
    }

  /* A table of just the indexes, in task.csv order, for the writers. */
  g_autoptr (VhTaskTable) table = g_new0 (VhTaskTable, 1);
  table->path = g_strdup (tasks);
  table->rows = g_ptr_array_new ();
  guint copied = 0, missing = 0;
  for (guint i = 0; i < indexes->len; i++)
    {
      const char *index = indexes->pdata[i];
      VhTaskRow *row = g_new0 (VhTaskRow, 1);
      row->index = g_strdup (index);
      row->prompt = g_strdup ("");
      row->position = i + 1;
      g_ptr_array_add (table->rows, row);
      const VhJournalEntry *have = vh_journal_lookup (merged, index);
      if (have && have->done && vh_output_image_ok (out_dir, index))
        continue;   /* merged before: merge is resumable too */
      gboolean found = FALSE;
      for (guint s = 0; s < shards->len && !found; s++)
        {
          const VhJournalEntry *e = vh_journal_lookup (shards->pdata[s], index);
          if (!e || !e->done || !vh_output_image_ok (shard_dirs->pdata[s], index))
            continue;
          g_autofree gchar *src = vh_output_image_path (shard_dirs->pdata[s], index);
          g_autoptr (VhImage) img = vh_image_new_from_file (src, &error);
          gsize len = 0;
          const void *data = img ? g_bytes_get_data (img->bytes, &len) : NULL;
          g_autofree gchar *dst = vh_output_image_path (out_dir, index);
          if (img == NULL || !vh_write_file_atomic (dst, data, len, &error)
              || !vh_journal_append (merged, e->line, &error))
            {
              fprintf (stderr, "vhost: %s\n", error->message);
              g_clear_error (&error);
              continue;
            }
          found = TRUE;
          copied++;
        }
      if (!found)
        {
          missing++;
          if (missing <= 20)
            fprintf (stderr, _("row %s: no shard has it done\n"), index);
        }
    }
  g_ptr_array_unref (shards);
  gboolean ok = vh_output_write_csv (out_dir, table, &error);
  if (ok && missing == 0)
    ok = vh_output_write_zip (out_dir, table, zip_max, &error);
  if (!ok)
    {
      fprintf (stderr, "vhost: %s\n", error->message);
      g_error_free (error);
      return 1;
    }
  printf (_("merged %u rows from %u shard(s) into %s; %u rows missing\n"), copied, (guint) shard_dirs->len, out_dir,
          missing);
  if (missing == 0)
    printf ("%s\n", _("result.zip written (check it with `vhost validate`)."));
  return missing == 0 ? 0 : 2;
}
