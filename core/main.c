/* vhost: runs image-generation pipelines declared in an INI file. */
#include "cli.h"
#include "vh-config.h"
#include <locale.h>
#include <stdio.h>
#include <string.h>

static void
setup_i18n (void)
{
  setlocale (LC_ALL, "");
  /* VHOST_LOCALEDIR lets the test suite use the catalogs of the build tree. */
  const char *dir = g_getenv ("VHOST_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, dir && *dir ? dir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

static void
usage (FILE *out)
{
  fprintf (out, "%s\n\n", _("Usage: vhost [COMMAND] [OPTIONS]"));
  fprintf (out, "%s\n", _("Runs the image-generation pipelines of conf/pipeline.ini over a contest task.csv and\n"
                          "writes OUTPUT/imgs/<index>.jpg, OUTPUT/result.csv and OUTPUT/result.zip."));
  fprintf (out, "\n%s\n", _("Commands:"));
  fprintf (out, "  run --config FILE [OPTIONS]   %s\n", _("run the pipeline (the default command; resumes by itself)"));
  fprintf (out, "  check-config FILE             %s\n", _("only validate the INI file and the plugins it names"));
  fprintf (out, "  validate ZIP --tasks CSV      %s\n", _("check a submission zip the way the contest does"));
  fprintf (out, "  plugins [--describe NAME]     %s\n", _("list installed plugins, or one plugin's options"));
  fprintf (out, "  merge --tasks CSV --output DIR SHARD_DIR...\n                                %s\n",
           _("merge the output folders of --shard K/N runs into one submission"));
  fprintf (out, "\n%s\n", _("Examples:"));
  fprintf (out, "  vhost --config conf/pipeline.ini\n");
  fprintf (out, "  vhost --config conf/pipeline.ini --only deepfake --rows 751-800\n");
  fprintf (out, "  vhost --config conf/pipeline.ini --retry-failed\n");
  fprintf (out, "  vhost validate out/result.zip --tasks data/task.csv\n");
  fprintf (out, "  vhost plugins --describe wanx\n");
  fprintf (out, "  vhost --config conf/pipeline.ini --shard 1/2 --output out/s1   (and 2/2 into out/s2)\n");
  fprintf (out, "  vhost merge --tasks data/task.csv --output out/all out/s1 out/s2\n");
  fprintf (out, "\n%s\n", _("`vhost COMMAND --help` shows the options of a command."));
  fprintf (out, "\n%s\n", _("Exit status: 0 every selected row is done; 2 some rows failed (see the journal);\n"
                            "1 usage or configuration error; 130 interrupted (run again to resume)."));
  fprintf (out, "\n%s\n", _("Environment: VHOST_PLUGIN_PATH (colon-separated plugin folders searched before the\n"
                            "installed one); the API keys named by api_key_env in the INI."));
}

int
main (int argc, char **argv)
{
  setup_i18n ();
  vh_http_global_init ();   /* once, before any thread exists */
  if (argc >= 2)
    {
      const char *cmd = argv[1];
      if (strcmp (cmd, "--help") == 0 || strcmp (cmd, "-h") == 0 || strcmp (cmd, "help") == 0)
        {
          usage (stdout);
          return 0;
        }
      if (strcmp (cmd, "--version") == 0)
        {
          printf ("vhost %s (plugin ABI %d)\n", PACKAGE_VERSION, VH_PLUGIN_ABI);
          return 0;
        }
      /* GOption prints g_get_prgname() in its usage line: say "vhost run". */
      if (strcmp (cmd, "run") == 0 || strcmp (cmd, "check-config") == 0 || strcmp (cmd, "validate") == 0
          || strcmp (cmd, "plugins") == 0 || strcmp (cmd, "merge") == 0)
        {
          g_autofree gchar *prg = g_strdup_printf ("vhost %s", cmd);
          g_set_prgname (prg);
        }
      if (strcmp (cmd, "run") == 0)
        return vh_cli_run (argc - 1, argv + 1);
      if (strcmp (cmd, "check-config") == 0)
        return vh_cli_check_config (argc - 1, argv + 1);
      if (strcmp (cmd, "validate") == 0)
        return vh_cli_validate (argc - 1, argv + 1);
      if (strcmp (cmd, "plugins") == 0)
        return vh_cli_plugins (argc - 1, argv + 1);
      if (strcmp (cmd, "merge") == 0)
        return vh_cli_merge (argc - 1, argv + 1);
      if (cmd[0] != '-')
        {
          static const char *const cmds[] = { "run", "check-config", "validate", "plugins", "merge", NULL };
          const char *s = vh_suggest (cmd, cmds);
          if (s)
            fprintf (stderr, _("vhost: unknown command “%s” (did you mean “%s”?)\n"), cmd, s);
          else
            fprintf (stderr, _("vhost: unknown command “%s”\n"), cmd);
          fprintf (stderr, "%s\n", _("Try “vhost --help”."));
          return 1;
        }
    }
  else
    {
      usage (stderr);
      return 1;
    }
  return vh_cli_run (argc, argv);
}
