/* `vhost check-config`, `vhost validate`, `vhost plugins`. */
#include "cli.h"
#include "vh-config.h"
#include "registry.h"
#include "validate.h"
#include <stdio.h>
#include <string.h>

int
vh_cli_check_config (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (_("FILE — validate a pipeline INI file"));
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  g_option_context_set_summary (ctx, _("Checks sections, keys, types, plugins, routes and wrapper cycles, and\n"
                                       "prints every problem as FILE:LINE: message. Nothing is run."));
  GError *error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2)
    {
      fprintf (stderr, "vhost: %s\n", error ? error->message : _("check-config takes one FILE"));
      g_clear_error (&error);
      return 1;
    }
  g_autoptr (VhRegistry) reg = vh_cli_load_registry (argv[1], TRUE);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  vh_registry_load_all (reg);   /* check-config vets every installed module too */
  vh_cli_report_refused (reg);
  g_autoptr (VhPipelineConfig) cfg = vh_pipeline_config_load (argv[1], reg, problems);
  if (cfg == NULL)
    {
      for (guint i = 0; i < problems->len; i++)
        fprintf (stderr, "%s\n", (const char *) problems->pdata[i]);
      fprintf (stderr, g_dngettext (GETTEXT_PACKAGE, "%u problem found.\n", "%u problems found.\n", problems->len),
               problems->len);
      return 1;
    }
  printf (_("%s: OK (%u instances)\n"), cfg->path, cfg->instances->len);
  for (guint t = 0; t < 4; t++)
    {
      const char *name = vh_task_type_name ((VhTaskType) (1u << t));
      if (cfg->routes[t].chain)
        {
          g_autofree gchar *chain = g_strjoinv (" -> ", cfg->routes[t].chain);
          printf ("  %-9s %s\n", name, chain);
        }
      else
        printf ("  %-9s %s\n", name, _("(no route: rows of this type will fail)"));
    }
  return 0;
}

int
vh_cli_validate (int argc, char **argv)
{
  g_autofree gchar *tasks = NULL, *max = NULL;
  GOptionEntry entries[] = {
    { "tasks", 't', 0, G_OPTION_ARG_FILENAME, &tasks, N_("the task.csv the submission answers (checks count and order)"), N_("CSV") },
    { "max-bytes", 0, 0, G_OPTION_ARG_STRING, &max, N_("size limit of the zip in bytes (default 2000000000)"), N_("N") },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (_("ZIP — check a submission zip"));
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (ctx, _("Checks what the contest checks: size under the limit, result.csv at the top with a\n"
                                       "UTF-8 BOM and the header index,gen_image, the same rows in the same order as\n"
                                       "task.csv, every imgs/<index>.jpg present and a complete JPEG. Lists every problem.\n"
                                       "Exit status 0 when the zip is valid, 2 when it is not, 1 on usage errors."));
  GError *error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2)
    {
      fprintf (stderr, "vhost: %s\n", error ? error->message : _("validate takes one ZIP (and --tasks task.csv)"));
      g_clear_error (&error);
      return 1;
    }
  guint64 limit = 2000000000ull;
  if (max && !g_ascii_string_to_unsigned (max, 10, 1, G_MAXUINT64, &limit, NULL))
    {
      fprintf (stderr, _("vhost: --max-bytes “%s” is not a number\n"), max);
      return 1;
    }
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  guint images = vh_validate_zip (argv[1], tasks, limit, problems);
  for (guint i = 0; i < problems->len; i++)
    printf ("%s\n", (const char *) problems->pdata[i]);
  if (problems->len > 0)
    {
      printf (g_dngettext (GETTEXT_PACKAGE, "INVALID: %u problem (%u images checked)\n",
                           "INVALID: %u problems (%u images checked)\n", problems->len), problems->len, images);
      return 2;
    }
  printf (_("OK: %s (%u images)\n"), argv[1], images);
  return 0;
}

static const char *
types_text (guint32 mask, GString *buf)
{
  g_string_truncate (buf, 0);
  for (guint t = 0; t < 4; t++)
    if (mask & (1u << t))
      g_string_append_printf (buf, "%s%s", buf->len ? "," : "", vh_task_type_name ((VhTaskType) (1u << t)));
  if (buf->len == 0)
    g_string_append (buf, _("(from wrapped instances)"));
  return buf->str;
}

static void
describe (const VhPlugin *p, const char *path)
{
  g_autoptr (GString) buf = g_string_new (NULL);
  printf ("%s %s — %s\n", p->name, p->version ? p->version : "", p->summary ? p->summary : "");
  printf (_("  file:       %s\n"), path);
  printf (_("  task types: %s\n"), types_text (p->task_types, buf));
  printf ("%s\n", _("  options (in its [instance NAME] section):"));
  const VhOption *lists[] = { p->options, vh_instance_std_schema };
  for (guint l = 0; l < 2; l++)
    for (const VhOption *o = lists[l]; o && o->name; o++)
      {
        if (l == 1 && strcmp (o->name, "plugin") == 0)
          continue;
        g_autofree gchar *type = o->type == VH_OPT_ENUM ? g_strdup_printf ("%s", o->choices)
                                                         : g_strdup (vh_option_type_name (o->type));
        printf ("    %-16s %-22s %s%s%s\n", o->name, type,
                o->default_value ? _("default: ") : _("required"),
                o->default_value ? (*o->default_value ? o->default_value : "\"\"") : "", "");
        printf ("    %-16s %s\n", "", o->help ? g_dgettext (GETTEXT_PACKAGE, o->help) : "");
      }
}

int
vh_cli_plugins (int argc, char **argv)
{
  g_autofree gchar *name = NULL, *config = NULL;
  GOptionEntry entries[] = {
    { "describe", 'd', 0, G_OPTION_ARG_STRING, &name, N_("print one plugin's options"), N_("NAME") },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config, N_("also search the plugin_dir of this INI"), N_("FILE") },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (_("— list installed plugins"));
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  g_autofree gchar *summary = g_strdup_printf (_("Plugins are searched in the INI's plugin_dir, then VHOST_PLUGIN_PATH, then the\n"
                                                 "installed folder (%s). Modules that are refused are named with the reason."),
                                               VH_PLUGINS_DIR);
  g_option_context_set_summary (ctx, summary);
  GError *error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "vhost: %s\n", error->message);
      g_error_free (error);
      return 1;
    }
  g_autoptr (VhRegistry) reg = vh_cli_load_registry (config, FALSE);
  vh_registry_load_all (reg);
  if (name)
    {
      const VhPlugin *p = vh_registry_find (reg, name);
      if (p == NULL)
        {
          g_autofree const char **names = vh_registry_names (reg);
          const char *s = vh_suggest (name, names);
          if (s)
            fprintf (stderr, _("vhost: no plugin “%s” (did you mean “%s”?)\n"), name, s);
          else
            fprintf (stderr, _("vhost: no plugin “%s”\n"), name);
          return 1;
        }
      describe (p, vh_registry_path (reg, name));
      return 0;
    }
  g_autoptr (GString) buf = g_string_new (NULL);
  for (guint i = 0; i < reg->entries->len; i++)
    {
      VhPluginEntry *e = reg->entries->pdata[i];
      printf ("%-16s %-8s %-24s %s\n", e->plugin->name, e->plugin->version ? e->plugin->version : "",
              types_text (e->plugin->task_types, buf), e->plugin->summary ? e->plugin->summary : "");
    }
  if (reg->entries->len == 0)
    printf ("%s\n", _("no plugins found"));
  for (guint i = 0; i < reg->refused->len; i++)
    printf (_("refused: %s\n"), (const char *) reg->refused->pdata[i]);
  return 0;
}
