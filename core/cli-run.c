/* `vhost run`: load plugins, validate the INI and task.csv, run, summarise. */
#include "cli.h"
#include "vh-config.h"
#include "registry.h"
#include "tasks.h"
#include "host.h"
#include "scheduler.h"
#include <stdio.h>
#include <string.h>

void
vh_cli_print_problems (GPtrArray *problems)
{
  for (guint i = 0; i < problems->len; i++)
    fprintf (stderr, "%s\n", (const char *) problems->pdata[i]);
  fprintf (stderr, g_dngettext (GETTEXT_PACKAGE, "%u problem found; nothing was run.\n",
                                "%u problems found; nothing was run.\n", problems->len), problems->len);
}

/* A refused plugin is named with its reason, and the others keep working. */
void
vh_cli_report_refused (VhRegistry *reg)
{
  for (guint i = 0; i < reg->refused->len; i++)
    vh_log (VH_LOG_WARNING, "plugins", _("refused %s"), (const char *) reg->refused->pdata[i]);
}

VhRegistry *
vh_cli_load_registry (const char *config_path, gboolean verbose)
{
  g_auto (GStrv) dirs = config_path ? vh_pipeline_config_plugin_dirs (config_path) : NULL;
  return vh_registry_new ((const char *const *) dirs);
}

static gboolean
parse_only (const char *text, guint32 *mask, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  for (gchar **p = parts; *p; p++)
    {
      VhTaskType t;
      g_strstrip (*p);
      if (!vh_task_type_parse (*p, &t))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--only: “%s” is not a task type (t2i, tie, vttie, deepfake)"), *p);
          return FALSE;
        }
      *mask |= t;
    }
  return TRUE;
}

int
vh_cli_run (int argc, char **argv)
{
  g_autofree gchar *config = NULL, *output = NULL, *only = NULL, *rows = NULL, *shard = NULL;
  gboolean retry_failed = FALSE, quiet = FALSE, verbose = FALSE;
  gint workers = 0;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config, N_("the pipeline INI file (required)"), N_("FILE") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("output folder, instead of the INI's [vhost] output"), N_("DIR") },
    { "only", 0, 0, G_OPTION_ARG_STRING, &only, N_("only rows of these task types, e.g. t2i,deepfake"), N_("TYPES") },
    { "rows", 0, 0, G_OPTION_ARG_STRING, &rows, N_("only these data rows (1-based), e.g. 1-50,77"), N_("LIST") },
    { "retry-failed", 0, 0, G_OPTION_ARG_NONE, &retry_failed, N_("run rows again that failed in an earlier run"), NULL },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &shard, N_("only shard K of N (row position modulo N), for job arrays"), N_("K/N") },
    { "workers", 'j', 0, G_OPTION_ARG_INT, &workers, N_("rows at once, instead of the INI's workers"), N_("N") },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, N_("no progress line"), NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("debug messages (secrets are still redacted)"), NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (_("— run the pipeline"));
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (ctx, _("Runs every row of task.csv through the chain of its task type's [route], writes\n"
                                       "OUTPUT/imgs/<index>.jpg as rows finish, then result.csv and result.zip.\n"
                                       "A run that stops for any reason resumes where it left off when started again:\n"
                                       "rows recorded as done in OUTPUT/journal.jsonl whose image still decodes are skipped."));
  g_option_context_set_description (ctx, _("Exit status: 0 all selected rows done, 2 some rows failed,\n"
                                           "1 usage or configuration error, 130 interrupted."));
  GError *error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "vhost: %s\n%s\n", error->message, _("Try “vhost run --help”."));
      g_error_free (error);
      return 1;
    }
  if (config == NULL)
    {
      fprintf (stderr, "%s\n", _("vhost: --config FILE is required (e.g. vhost --config conf/pipeline.ini)"));
      return 1;
    }
  if (argc > 1)
    {
      fprintf (stderr, _("vhost: unexpected argument “%s”\n"), argv[1]);
      return 1;
    }
  VhSelection sel = { 0 };
  sel.retry_failed = retry_failed;
  sel.quiet = quiet;
  if (verbose)
    vh_log_set_verbosity (VH_LOG_DEBUG);
  if ((only && !parse_only (only, &sel.only_types, &error)) || (rows && !vh_parse_ranges (rows, &sel.rows, &error)))
    {
      fprintf (stderr, "vhost: %s\n", error->message);
      g_error_free (error);
      return 1;
    }
  if (shard)
    {
      guint k = 0, n = 0;
      if (sscanf (shard, "%u/%u", &k, &n) != 2 || n == 0 || k == 0 || k > n)
        {
          fprintf (stderr, _("vhost: --shard “%s” is not K/N with 1 <= K <= N\n"), shard);
          return 1;
        }
      sel.shard_k = k;
      sel.shard_n = n;
    }

  g_autoptr (VhRegistry) reg = vh_cli_load_registry (config, TRUE);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (VhPipelineConfig) cfg = vh_pipeline_config_load (config, reg, problems);
  vh_cli_report_refused (reg);
  if (cfg && workers > 0)
    cfg->workers = (guint) workers;
  g_autoptr (VhTaskTable) table = NULL;
  if (cfg)
    {
      if (!g_file_test (cfg->images, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (problems, g_strdup_printf (_("%s: images folder %s does not exist"), cfg->path, cfg->images));
      else
        table = vh_task_table_load (cfg->tasks, cfg->images, problems);
    }
  if (problems->len > 0)
    {
      vh_cli_print_problems (problems);
      if (sel.rows)
        g_array_unref (sel.rows);
      return 1;
    }
  for (guint t = 0; t < 4; t++)
    if (cfg->routes[t].chain == NULL)
      {
        guint n = 0;
        for (guint i = 0; i < table->rows->len; i++)
          n += vh_task_type_bit (((VhTaskRow *) table->rows->pdata[i])->task.type) == t;
        if (n > 0)
          vh_log (VH_LOG_WARNING, "vhost", _("no [route %s] in %s: its %u rows will fail until one is added"),
                  vh_task_type_name ((VhTaskType) (1u << t)), cfg->path, n);
      }
  g_autoptr (GError) herr = NULL;
  VhHost *host = vh_host_new (cfg, reg, &herr);
  if (host == NULL)
    {
      g_autofree gchar *msg = vh_redact (herr->message);
      fprintf (stderr, "vhost: %s\n", msg);
      if (sel.rows)
        g_array_unref (sel.rows);
      return 1;
    }
  g_autofree gchar *out_dir = output ? g_canonicalize_filename (output, NULL) : g_strdup (cfg->output);
  VhRunResult result;
  int code = vh_run_pipeline (host, table, out_dir, &sel, &result);
  if (code != 1)
    {
      vh_run_print_summary (&result, stdout);
      vh_run_print_instances (host, stdout);
      printf (_("Output: %s\n"), out_dir);
    }
  vh_run_result_clear (&result);
  vh_host_free (host);
  if (sel.rows)
    g_array_unref (sel.rows);
  return code;
}
