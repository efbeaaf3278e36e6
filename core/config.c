/* The INI file.  GKeyFile parses it; a small line index maps every section
 * and key back to its line so each problem is reported as FILE:LINE, and all
 * problems are reported at once instead of one per run. */
#include "vh-config.h"
#include "registry.h"
#include <string.h>
#include <stdlib.h>

const VhOption vh_settings_schema[] = {
  { "tasks", VH_OPT_STRING, NULL, N_("the contest's task.csv (relative paths resolve against this file's folder)"), NULL },
  { "images", VH_OPT_STRING, "", N_("folder the image columns of task.csv are relative to (default: the folder of tasks)"), NULL },
  { "output", VH_OPT_STRING, "out", N_("output folder: imgs/, result.csv, result.zip, journal.jsonl"), NULL },
  { "workers", VH_OPT_INT, "16", N_("rows processed at once (threads); each instance's concurrency and qps still apply"), NULL },
  { "plugin_dir", VH_OPT_LIST, "", N_("extra folders searched for plugins, before VHOST_PLUGIN_PATH and the installed folder"), NULL },
  { "jpeg_quality", VH_OPT_INT, "95", N_("quality of the submitted JPEG files (1-100)"), NULL },
  { "zip_max", VH_OPT_STRING, "2GB", N_("largest result.zip allowed (the contest refuses 2 GB and more)"), NULL },
  { "progress_interval", VH_OPT_DURATION, "10s", N_("how often a progress line is printed when output is not a terminal"), NULL },
  { NULL, 0, NULL, NULL, NULL },
};

const VhOption vh_instance_std_schema[] = {
  { "plugin", VH_OPT_STRING, NULL, N_("the plugin this instance runs (see `vhost plugins`)"), NULL },
  { "concurrency", VH_OPT_INT, "0", N_("calls of this instance running at once, at most (0 = only bounded by workers)"), NULL },
  { "qps", VH_OPT_DOUBLE, "0", N_("calls of this instance started per second, at most (0 = unlimited)"), NULL },
  { "timeout", VH_OPT_DURATION, "10m", N_("one call of this instance is abandoned after this long (class transient)"), NULL },
  { NULL, 0, NULL, NULL, NULL },
};

/* NULL-terminated: vh_suggest() walks it to the NULL. */
static const char *const task_type_names[] = { "t2i", "tie", "vttie", "deepfake", NULL };

guint
vh_task_type_bit (VhTaskType type)
{
  return (guint) g_bit_nth_lsf ((gulong) type, -1);
}

const char *
vh_task_type_name (VhTaskType type)
{
  guint bit = vh_task_type_bit (type);
  return bit < 4 ? task_type_names[bit] : "?";
}

gboolean
vh_task_type_parse (const char *name, VhTaskType *type)
{
  for (guint i = 0; i < 4; i++)
    if (g_ascii_strcasecmp (name, task_type_names[i]) == 0)
      {
        *type = (VhTaskType) (1u << i);
        return TRUE;
      }
  return FALSE;
}

const char *
vh_option_type_name (VhOptionType type)
{
  static const char *const names[] = { "string", "int", "double", "bool", "duration",
                                       "list", "instances", "env", "enum" };
  return (guint) type < G_N_ELEMENTS (names) ? names[type] : "?";
}

/* ------------------------------------------------------------ suggestions */

static guint
edit_distance (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *row = g_new (guint, lb + 1);
  for (gsize j = 0; j <= lb; j++)
    row[j] = (guint) j;
  for (gsize i = 1; i <= la; i++)
    {
      guint diag = row[0];
      row[0] = (guint) i;
      for (gsize j = 1; j <= lb; j++)
        {
          guint up = row[j];
          guint cost = g_ascii_tolower (a[i - 1]) == g_ascii_tolower (b[j - 1]) ? 0 : 1;
          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diag + cost);
          diag = up;
        }
    }
  return row[lb];
}

const char *
vh_suggest (const char *word, const char *const *candidates)
{
  const char *best = NULL;
  guint best_d = G_MAXUINT;
  guint limit = MAX (2u, (guint) strlen (word) / 3);
  for (const char *const *c = candidates; c && *c; c++)
    {
      guint d = edit_distance (word, *c);
      if (d < best_d || (d == best_d && best && strcmp (*c, best) < 0))
        best = *c, best_d = d;
    }
  return best_d <= limit ? best : NULL;
}

/* ------------------------------------------------------------ line index */

struct _VhIniIndex {
  GHashTable *lines;   /* "group\nkey" or "group" -> line */
};

static GHashTable *
index_lines (const char *text)
{
  GHashTable *lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree gchar *group = g_strdup ("");
  g_auto (GStrv) rows = g_strsplit (text, "\n", -1);
  for (guint i = 0; rows[i]; i++)
    {
      g_autofree gchar *s = g_strstrip (g_strdup (rows[i]));
      if (*s == '\0' || *s == '#')
        continue;
      if (*s == '[')
        {
          char *end = strrchr (s, ']');
          g_free (group);
          group = g_strndup (s + 1, end ? (gsize) (end - s - 1) : strlen (s + 1));
          /* GKeyFile silently merges a repeated section; remember the
           * repeat ("\rNAME" -> its line) so it can be reported. */
          if (g_hash_table_contains (lines, group))
            g_hash_table_insert (lines, g_strdup_printf ("\r%s", group), GUINT_TO_POINTER (i + 1));
          else
            g_hash_table_insert (lines, g_strdup (group), GUINT_TO_POINTER (i + 1));
          continue;
        }
      char *eq = strchr (s, '=');
      if (eq == NULL)
        continue;
      *eq = '\0';
      g_strstrip (s);
      g_hash_table_insert (lines, g_strdup_printf ("%s\n%s", group, s), GUINT_TO_POINTER (i + 1));
    }
  return lines;
}

typedef struct {
  const char *path;
  GHashTable *lines;
  GPtrArray  *problems;
} Ctx;

static guint
line_of (Ctx *ctx, const char *group, const char *key)
{
  g_autofree gchar *k = key ? g_strdup_printf ("%s\n%s", group, key) : g_strdup (group);
  return GPOINTER_TO_UINT (g_hash_table_lookup (ctx->lines, k));
}

static void G_GNUC_PRINTF (4, 5)
problem (Ctx *ctx, const char *group, const char *key, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree gchar *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  guint line = group ? line_of (ctx, group, key) : 0;
  if (line)
    g_ptr_array_add (ctx->problems, g_strdup_printf ("%s:%u: %s", ctx->path, line, msg));
  else
    g_ptr_array_add (ctx->problems, g_strdup_printf ("%s: %s", ctx->path, msg));
}

/* ------------------------------------------------------------ values */

static gboolean
parse_bool (const char *v, gboolean *out)
{
  static const char *const yes[] = { "true", "yes", "on", "1" }, *const no[] = { "false", "no", "off", "0" };
  for (guint i = 0; i < 4; i++)
    {
      if (g_ascii_strcasecmp (v, yes[i]) == 0)
        return *out = TRUE, TRUE;
      if (g_ascii_strcasecmp (v, no[i]) == 0)
        return *out = FALSE, TRUE;
    }
  return FALSE;
}

static gchar **
split_list (const char *v)
{
  g_auto (GStrv) parts = g_strsplit (v ? v : "", ",", -1);
  GPtrArray *out = g_ptr_array_new ();
  for (gchar **p = parts; *p; p++)
    {
      g_strstrip (*p);
      if (**p)
        g_ptr_array_add (out, g_strdup (*p));
    }
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (out, FALSE);
}

gboolean
vh_option_check_value (const VhOption *o, const char *v, GError **error)
{
  gint64 i64;
  gboolean b;
  char *end = NULL;
  switch (o->type)
    {
    case VH_OPT_INT:
      if (g_ascii_string_to_signed (v, 10, G_MININT64, G_MAXINT64, &i64, NULL))
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("“%s” is not a whole number"), v);
      return FALSE;
    case VH_OPT_DOUBLE:
      g_ascii_strtod (v, &end);
      if (*v && end && *end == '\0')
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("“%s” is not a number"), v);
      return FALSE;
    case VH_OPT_BOOL:
      if (parse_bool (v, &b))
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("“%s” is not true or false"), v);
      return FALSE;
    case VH_OPT_DURATION:
      return vh_parse_duration_ms (v, &i64, error);
    case VH_OPT_ENUM:
      {
        g_auto (GStrv) choices = split_list (o->choices);
        if (g_strv_contains ((const char *const *) choices, v))
          return TRUE;
        const char *s = vh_suggest (v, (const char *const *) choices);
        if (s)
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("“%s” is not one of %s (did you mean “%s”?)"), v, o->choices, s);
        else
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("“%s” is not one of %s"), v, o->choices);
        return FALSE;
      }
    case VH_OPT_ENV:
      if (g_regex_match_simple ("^[A-Za-z_][A-Za-z0-9_]*$", v, 0, 0))
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("“%s” is not the name of an environment variable (the secret itself never goes in the file)"), v);
      return FALSE;
    case VH_OPT_INSTANCES:
    case VH_OPT_LIST:
    case VH_OPT_STRING:
    default:
      return TRUE;
    }
}

/* Secrets are referenced, never written: a key that looks like a secret, or
 * a value that looks like a provider key, is refused outright. */
static gboolean
looks_like_secret_key (const char *key)
{
  if (g_str_has_suffix (key, "_env"))
    return FALSE;
  return g_regex_match_simple ("(api_?key|secret|password|passwd|token|access_?key)", key, G_REGEX_CASELESS, 0);
}

static gboolean
looks_like_secret_value (const char *value)
{
  return g_regex_match_simple ("^(sk-[A-Za-z0-9]{16,}|LTAI[A-Za-z0-9]{12,}|AKID[A-Za-z0-9]{16,})$", value, 0, 0);
}

VhConfig *
vh_config_new_empty (const char *name, const VhOption *schema)
{
  VhConfig *c = g_new0 (VhConfig, 1);
  c->instance_name = g_strdup (name);
  c->schema = schema;
  c->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  c->explicit_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (const VhOption *o = schema; o && o->name; o++)
    if (o->default_value)
      g_hash_table_insert (c->values, g_strdup (o->name), g_strdup (o->default_value));
  return c;
}

void
vh_config_free (VhConfig *c)
{
  if (c == NULL)
    return;
  g_free (c->instance_name);
  g_hash_table_unref (c->values);
  g_hash_table_unref (c->explicit_keys);
  g_free (c);
}

static const VhOption *
find_option (const VhOption *schema, const char *key)
{
  for (const VhOption *o = schema; o && o->name; o++)
    if (strcmp (o->name, key) == 0)
      return o;
  return NULL;
}

VhConfig *
vh_config_new_for_test (const char *name, const VhOption *schema, const char *const *kv, GError **error)
{
  g_autoptr (VhConfig) c = vh_config_new_empty (name, schema);
  for (const char *const *p = kv; p && p[0] && p[1]; p += 2)
    {
      const VhOption *o = find_option (schema, p[0]);
      if (o == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("unknown key “%s”"), p[0]);
          return NULL;
        }
      if (!vh_option_check_value (o, p[1], error))
        return NULL;
      g_hash_table_insert (c->values, g_strdup (p[0]), g_strdup (p[1]));
      g_hash_table_add (c->explicit_keys, g_strdup (p[0]));
    }
  for (const VhOption *o = schema; o && o->name; o++)
    if (!g_hash_table_contains (c->values, o->name))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("required key “%s” is missing"), o->name);
        return NULL;
      }
  return g_steal_pointer (&c);
}

/* ------------------------------------------------------------ accessors */

const char *
vh_config_instance_name (const VhConfig *c)
{
  return c->instance_name;
}

const char *
vh_config_get_string (const VhConfig *c, const char *key)
{
  return g_hash_table_lookup (c->values, key);
}

gint64
vh_config_get_int (const VhConfig *c, const char *key)
{
  const char *v = vh_config_get_string (c, key);
  return v ? g_ascii_strtoll (v, NULL, 10) : 0;
}

gdouble
vh_config_get_double (const VhConfig *c, const char *key)
{
  const char *v = vh_config_get_string (c, key);
  return v ? g_ascii_strtod (v, NULL) : 0.0;
}

gboolean
vh_config_get_bool (const VhConfig *c, const char *key)
{
  const char *v = vh_config_get_string (c, key);
  gboolean b = FALSE;
  return v && parse_bool (v, &b) && b;
}

gint64
vh_config_get_duration_ms (const VhConfig *c, const char *key)
{
  const char *v = vh_config_get_string (c, key);
  gint64 ms = 0;
  return v && vh_parse_duration_ms (v, &ms, NULL) ? ms : 0;
}

gchar **
vh_config_get_list (const VhConfig *c, const char *key)
{
  return split_list (vh_config_get_string (c, key));
}

gboolean
vh_config_has (const VhConfig *c, const char *key)
{
  return g_hash_table_contains (c->explicit_keys, key);
}

gchar *
vh_config_get_secret (const VhConfig *c, const char *key, GError **error)
{
  const char *var = vh_config_get_string (c, key);
  const char *value = var && *var ? g_getenv (var) : NULL;
  if (value == NULL || *value == '\0')
    {
      vh_set_error (error, VH_ERROR_AUTH, -1,
                    _("[instance %s]: environment variable %s (named by %s) is not set"),
                    c->instance_name, var && *var ? var : "?", key);
      return NULL;
    }
  vh_redact_register (value);
  return g_strdup (value);
}

/* ------------------------------------------------------------ sections */

/* Copies the keys of `group` into `config`, checking each against `schema`
 * and, for instance sections, the standard keys. */
static void
read_section (Ctx *ctx, GKeyFile *kf, const char *group, VhConfig *config,
              const VhOption *schema, const VhOption *std_schema)
{
  g_auto (GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);
  g_autoptr (GPtrArray) known = g_ptr_array_new ();
  for (const VhOption *o = schema; o && o->name; o++)
    g_ptr_array_add (known, (gpointer) o->name);
  for (const VhOption *o = std_schema; o && o->name; o++)
    g_ptr_array_add (known, (gpointer) o->name);
  g_ptr_array_add (known, NULL);

  for (gchar **k = keys; k && *k; k++)
    {
      g_autofree gchar *value = g_key_file_get_value (kf, group, *k, NULL);
      g_strstrip (value);
      const VhOption *o = find_option (schema, *k);
      if (o == NULL && find_option (std_schema, *k))
        continue;   /* standard keys are read by the caller */
      if (o == NULL && std_schema == NULL && config->schema == vh_instance_std_schema)
        continue;   /* the plugin's own pass reports unknown keys, once */
      if (looks_like_secret_key (*k) && (o == NULL || o->type != VH_OPT_ENV))
        {
          problem (ctx, group, *k,
                   _("“%s” looks like a secret written into the file; put it in an environment variable and name that variable, e.g. api_key_env = MY_KEY"),
                   *k);
          continue;
        }
      if (looks_like_secret_value (value))
        {
          problem (ctx, group, *k,
                   _("the value of “%s” looks like an API key; secrets go in environment variables, referenced with api_key_env = NAME"),
                   *k);
          continue;
        }
      if (o == NULL)
        {
          const char *s = vh_suggest (*k, (const char *const *) known->pdata);
          if (s)
            problem (ctx, group, *k, _("unknown key “%s” in [%s] (did you mean “%s”?)"), *k, group, s);
          else
            problem (ctx, group, *k, _("unknown key “%s” in [%s]"), *k, group);
          continue;
        }
      GError *err = NULL;
      if (!vh_option_check_value (o, value, &err))
        {
          problem (ctx, group, *k, _("%s (key “%s”, type %s)"), err->message, *k, vh_option_type_name (o->type));
          g_error_free (err);
          continue;
        }
      g_hash_table_insert (config->values, g_strdup (*k), g_strdup (value));
      g_hash_table_add (config->explicit_keys, g_strdup (*k));
    }
  for (const VhOption *o = schema; o && o->name; o++)
    if (!g_hash_table_contains (config->values, o->name))
      problem (ctx, group, NULL, _("[%s] needs the key “%s” (%s)"), group, o->name, _(o->help));
}

static gboolean
parse_size (const char *text, guint64 *out)
{
  char *end = NULL;
  gdouble v = g_ascii_strtod (text, &end);
  if (end == text || v < 0)
    return FALSE;
  while (*end == ' ')
    end++;
  gdouble scale = 1;
  if (*end == '\0' || g_ascii_strcasecmp (end, "B") == 0)
    scale = 1;
  else if (g_ascii_strcasecmp (end, "KB") == 0 || g_ascii_strcasecmp (end, "K") == 0)
    scale = 1e3;
  else if (g_ascii_strcasecmp (end, "MB") == 0 || g_ascii_strcasecmp (end, "M") == 0)
    scale = 1e6;
  else if (g_ascii_strcasecmp (end, "GB") == 0 || g_ascii_strcasecmp (end, "G") == 0)
    scale = 1e9;
  else if (g_ascii_strcasecmp (end, "MiB") == 0)
    scale = 1048576.0;
  else if (g_ascii_strcasecmp (end, "GiB") == 0)
    scale = 1073741824.0;
  else
    return FALSE;
  *out = (guint64) (v * scale);
  return TRUE;
}

static gchar *
resolve (const char *base, const char *path)
{
  if (g_path_is_absolute (path))
    return g_canonicalize_filename (path, NULL);
  return g_canonicalize_filename (path, base);
}

void
vh_pipeline_config_free (VhPipelineConfig *cfg)
{
  if (cfg == NULL)
    return;
  g_free (cfg->path);
  g_free (cfg->base_dir);
  g_free (cfg->tasks);
  g_free (cfg->images);
  g_free (cfg->output);
  g_strfreev (cfg->plugin_dirs);
  for (guint i = 0; cfg->instances && i < cfg->instances->len; i++)
    {
      VhInstanceSpec *s = cfg->instances->pdata[i];
      g_free (s->name);
      g_free (s->plugin);
      vh_config_free (s->config);
      g_free (s);
    }
  if (cfg->instances)
    g_ptr_array_unref (cfg->instances);
  for (guint i = 0; i < 4; i++)
    g_strfreev (cfg->routes[i].chain);
  vh_config_free (cfg->settings);
  g_free (cfg);
}

VhInstanceSpec *
vh_pipeline_config_find_instance (VhPipelineConfig *cfg, const char *name)
{
  for (guint i = 0; i < cfg->instances->len; i++)
    {
      VhInstanceSpec *s = cfg->instances->pdata[i];
      if (strcmp (s->name, name) == 0)
        return s;
    }
  return NULL;
}

static GKeyFile *
open_keyfile (const char *path, gchar **text_out, GError **error)
{
  gchar *text = NULL;
  gsize len = 0;
  GError *read_error = NULL;
  if (!g_file_get_contents (path, &text, &len, &read_error))
    {
      /* GLib's message already names the file. */
      g_propagate_error (error, read_error);
      return NULL;
    }
  GKeyFile *kf = g_key_file_new ();
  /* A BOM written by Windows editors is not part of the first group name. */
  const char *start = len >= 3 && memcmp (text, "\xEF\xBB\xBF", 3) == 0 ? text + 3 : text;
  GError *local = NULL;
  if (!g_key_file_load_from_data (kf, start, (gsize) -1, G_KEY_FILE_NONE, &local))
    {
      /* GKeyFile names no line: find the first line it can not have liked. */
      g_auto (GStrv) rows = g_strsplit (start, "\n", -1);
      guint bad = 0;
      for (guint i = 0; rows[i] && !bad; i++)
        {
          g_autofree gchar *l = g_strstrip (g_strdup (rows[i]));
          if (*l && *l != '#' && *l != '[' && !strchr (l, '='))
            bad = i + 1;
          else if (*l == '[' && !g_str_has_suffix (l, "]"))
            bad = i + 1;
        }
      if (bad)
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE,
                     _("%s:%u: expected “KEY = VALUE”, “[SECTION]” or a “# comment” on a line of its own (%s)"),
                     path, bad, local->message);
      else
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE, "%s: %s", path, local->message);
      g_clear_error (&local);
      g_key_file_unref (kf);
      g_free (text);
      return NULL;
    }
  *text_out = text;
  return kf;
}

gchar **
vh_pipeline_config_plugin_dirs (const char *path)
{
  g_autofree gchar *text = NULL;
  g_autoptr (GKeyFile) kf = open_keyfile (path, &text, NULL);
  if (kf == NULL)
    return NULL;
  g_autofree gchar *value = g_key_file_get_value (kf, "vhost", "plugin_dir", NULL);
  if (value == NULL)
    return NULL;
  g_autofree gchar *abs = g_canonicalize_filename (path, NULL);
  g_autofree gchar *base = g_path_get_dirname (abs);
  gchar **dirs = split_list (value);
  for (gchar **d = dirs; *d; d++)
    {
      gchar *r = resolve (base, *d);
      g_free (*d);
      *d = r;
    }
  return dirs;
}

/* Wrapper instances name other instances; follow those edges to find cycles
 * and to compute which task types a wrapper can serve. */
static gchar **
children_of (VhInstanceSpec *s, VhRegistry *reg)
{
  const VhPlugin *p = s->plugin ? vh_registry_find (reg, s->plugin) : NULL;   /* NULL: no `plugin =` line */
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  for (const VhOption *o = p ? p->options : NULL; o && o->name; o++)
    if (o->type == VH_OPT_INSTANCES)
      {
        g_auto (GStrv) names = vh_config_get_list (s->config, o->name);
        for (gchar **n = names; *n; n++)
          g_ptr_array_add (out, g_strdup (*n));
      }
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (out, FALSE);
}

static gboolean
find_cycle (VhPipelineConfig *cfg, VhRegistry *reg, VhInstanceSpec *s, GHashTable *state, GPtrArray *stack)
{
  gpointer st = g_hash_table_lookup (state, s->name);
  if (st == GINT_TO_POINTER (2))
    return FALSE;
  if (st == GINT_TO_POINTER (1))
    {
      g_ptr_array_add (stack, s->name);
      return TRUE;
    }
  g_hash_table_insert (state, s->name, GINT_TO_POINTER (1));
  g_ptr_array_add (stack, s->name);
  g_auto (GStrv) kids = children_of (s, reg);
  for (gchar **k = kids; *k; k++)
    {
      VhInstanceSpec *c = vh_pipeline_config_find_instance (cfg, *k);
      if (c && find_cycle (cfg, reg, c, state, stack))
        return TRUE;
    }
  g_ptr_array_remove_index (stack, stack->len - 1);
  g_hash_table_insert (state, s->name, GINT_TO_POINTER (2));
  return FALSE;
}

guint32
vh_pipeline_instance_types (VhPipelineConfig *cfg, VhRegistry *reg, const char *name, guint depth)
{
  VhInstanceSpec *s = vh_pipeline_config_find_instance (cfg, name);
  const VhPlugin *p = s && s->plugin ? vh_registry_find (reg, s->plugin) : NULL;
  if (p == NULL || depth > 32)
    return 0;
  if (p->task_types != 0)
    return p->task_types;
  guint32 types = 0;
  g_auto (GStrv) kids = children_of (s, reg);
  for (gchar **k = kids; *k; k++)
    types |= vh_pipeline_instance_types (cfg, reg, *k, depth + 1);
  return types;
}

static void
load_instances (Ctx *ctx, GKeyFile *kf, VhPipelineConfig *cfg, VhRegistry *reg)
{
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
  const char **plugin_names = NULL;   /* only listed (which loads every module) for a message */
  for (gchar **g = groups; *g; g++)
    {
      if (!g_str_has_prefix (*g, "instance "))
        continue;
      g_autofree gchar *name = g_strstrip (g_strdup (*g + strlen ("instance ")));
      if (!g_regex_match_simple ("^[A-Za-z0-9][A-Za-z0-9_.-]*$", name, 0, 0))
        {
          problem (ctx, *g, NULL, _("instance name “%s” may only use letters, digits, “_”, “.” and “-”"), name);
          continue;
        }
      if (vh_pipeline_config_find_instance (cfg, name))
        {
          problem (ctx, *g, NULL, _("instance “%s” is declared twice"), name);
          continue;
        }
      VhInstanceSpec *s = g_new0 (VhInstanceSpec, 1);
      s->name = g_strdup (name);
      s->line = line_of (ctx, *g, NULL);
      g_ptr_array_add (cfg->instances, s);
      s->plugin = g_key_file_get_value (kf, *g, "plugin", NULL);
      if (s->plugin)
        g_strstrip (s->plugin);
      const VhPlugin *p = s->plugin ? vh_registry_find (reg, s->plugin) : NULL;
      if (p == NULL && plugin_names == NULL)
        plugin_names = vh_registry_names (reg);
      if (s->plugin == NULL)
        {
          g_autofree gchar *installed = g_strjoinv (", ", (gchar **) plugin_names);
          problem (ctx, *g, NULL, _("[%s] needs “plugin = NAME” (installed: %s)"), *g,
                   *installed ? installed : _("none"));
        }
      else if (p == NULL)
        {
          const char *sug = vh_suggest (s->plugin, plugin_names);
          if (sug)
            problem (ctx, *g, "plugin", _("unknown plugin “%s” (did you mean “%s”? `vhost plugins` lists what is installed)"), s->plugin, sug);
          else
            problem (ctx, *g, "plugin", _("unknown plugin “%s” (`vhost plugins` lists what is installed)"), s->plugin);
        }
      s->config = vh_config_new_empty (name, p ? p->options : NULL);
      g_autoptr (VhConfig) std = vh_config_new_empty (name, vh_instance_std_schema);
      if (p != NULL)
        read_section (ctx, kf, *g, s->config, p->options, vh_instance_std_schema);
      /* Standard keys second.  Other keys were judged by the plugin's pass,
       * or can not be judged at all while the plugin is unknown. */
      read_section (ctx, kf, *g, std, vh_instance_std_schema, NULL);
      gint64 conc = vh_config_get_int (std, "concurrency");
      gdouble qps = vh_config_get_double (std, "qps");
      if (conc < 0 || conc > 100000)
        problem (ctx, *g, "concurrency", _("concurrency must be between 0 and 100000"));
      if (qps < 0)
        problem (ctx, *g, "qps", _("qps must be 0 (unlimited) or more"));
      s->concurrency = (guint) CLAMP (conc, 0, 100000);
      s->qps = MAX (qps, 0);
      s->timeout_ms = vh_config_get_duration_ms (std, "timeout");
    }
  g_free (plugin_names);
}

static void
check_instance_refs (Ctx *ctx, VhPipelineConfig *cfg, VhRegistry *reg)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  for (guint i = 0; i < cfg->instances->len; i++)
    g_ptr_array_add (names, ((VhInstanceSpec *) cfg->instances->pdata[i])->name);
  g_ptr_array_add (names, NULL);
  for (guint i = 0; i < cfg->instances->len; i++)
    {
      VhInstanceSpec *s = cfg->instances->pdata[i];
      const VhPlugin *p = vh_registry_find (reg, s->plugin ? s->plugin : "");
      g_autofree gchar *group = g_strdup_printf ("instance %s", s->name);
      for (const VhOption *o = p ? p->options : NULL; o && o->name; o++)
        {
          if (o->type != VH_OPT_INSTANCES)
            continue;
          g_auto (GStrv) kids = vh_config_get_list (s->config, o->name);
          if (kids[0] == NULL)
            problem (ctx, group, o->name, _("“%s” names no instance"), o->name);
          for (gchar **k = kids; *k; k++)
            if (!vh_pipeline_config_find_instance (cfg, *k))
              {
                const char *sug = vh_suggest (*k, (const char *const *) names->pdata);
                if (sug)
                  problem (ctx, group, o->name, _("no instance “%s” (did you mean “%s”?)"), *k, sug);
                else
                  problem (ctx, group, o->name, _("no instance “%s”"), *k);
              }
        }
    }
  g_autoptr (GHashTable) state = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < cfg->instances->len; i++)
    {
      g_autoptr (GPtrArray) stack = g_ptr_array_new ();
      VhInstanceSpec *s = cfg->instances->pdata[i];
      if (find_cycle (cfg, reg, s, state, stack))
        {
          g_ptr_array_add (stack, NULL);
          g_autofree gchar *path = g_strjoinv (" -> ", (gchar **) stack->pdata);
          g_autofree gchar *group = g_strdup_printf ("instance %s", s->name);
          problem (ctx, group, NULL, _("instances call each other in a cycle: %s"), path);
          return;
        }
    }
}

static void
load_routes (Ctx *ctx, GKeyFile *kf, VhPipelineConfig *cfg, VhRegistry *reg)
{
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  for (guint i = 0; i < cfg->instances->len; i++)
    g_ptr_array_add (names, ((VhInstanceSpec *) cfg->instances->pdata[i])->name);
  g_ptr_array_add (names, NULL);
  for (gchar **g = groups; *g; g++)
    {
      if (!g_str_has_prefix (*g, "route "))
        continue;
      g_autofree gchar *tname = g_strstrip (g_strdup (*g + strlen ("route ")));
      VhTaskType type;
      if (!vh_task_type_parse (tname, &type))
        {
          const char *sug = vh_suggest (tname, task_type_names);
          problem (ctx, *g, NULL, _("unknown task type “%s” in [%s] (expected t2i, tie, vttie or deepfake%s%s)"),
                   tname, *g, sug ? _("; did you mean ") : "", sug ? sug : "");
          continue;
        }
      VhRouteSpec *r = &cfg->routes[vh_task_type_bit (type)];
      static const VhOption route_schema[] = {
        { "chain", VH_OPT_LIST, NULL, N_("instances a row of this type goes through, in order"), NULL },
        { NULL, 0, NULL, NULL, NULL },
      };
      g_autoptr (VhConfig) rc = vh_config_new_empty (*g, route_schema);
      read_section (ctx, kf, *g, rc, route_schema, NULL);
      r->type = type;
      r->line = line_of (ctx, *g, NULL);
      r->chain = vh_config_get_list (rc, "chain");
      if (vh_config_get_string (rc, "chain") && r->chain[0] == NULL)
        problem (ctx, *g, "chain", _("the chain is empty; name at least one instance"));
      for (gchar **c = r->chain; *c; c++)
        {
          if (!vh_pipeline_config_find_instance (cfg, *c))
            {
              const char *sug = vh_suggest (*c, (const char *const *) names->pdata);
              if (sug)
                problem (ctx, *g, "chain", _("no instance “%s” (did you mean “%s”?)"), *c, sug);
              else
                problem (ctx, *g, "chain", _("no instance “%s” (declare it as [instance %s])"), *c, *c);
              continue;
            }
          guint32 types = vh_pipeline_instance_types (cfg, reg, *c, 0);
          if (types != 0 && !(types & type))
            problem (ctx, *g, "chain", _("instance “%s” does not serve %s rows"), *c, tname);
        }
    }
}

VhPipelineConfig *
vh_pipeline_config_load (const char *path, VhRegistry *reg, GPtrArray *problems)
{
  Ctx ctx = { path, NULL, problems };
  guint before = problems->len;
  g_autofree gchar *text = NULL;
  GError *err = NULL;
  g_autoptr (GKeyFile) kf = open_keyfile (path, &text, &err);
  if (kf == NULL)
    {
      g_ptr_array_add (problems, g_strdup (err->message));
      g_error_free (err);
      return NULL;
    }
  /* Skip a BOM as open_keyfile() does, or the first [section] is never indexed. */
  ctx.lines = index_lines (g_str_has_prefix (text, "\xEF\xBB\xBF") ? text + 3 : text);

  g_autoptr (VhPipelineConfig) cfg = g_new0 (VhPipelineConfig, 1);
  cfg->path = g_canonicalize_filename (path, NULL);
  cfg->base_dir = g_path_get_dirname (cfg->path);
  cfg->instances = g_ptr_array_new ();

  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
  for (gchar **g = groups; *g; g++)
    {
      g_autofree gchar *again = g_strdup_printf ("\r%s", *g);
      guint line = GPOINTER_TO_UINT (g_hash_table_lookup (ctx.lines, again));
      if (line)
        g_ptr_array_add (problems, g_strdup_printf (_("%s:%u: [%s] is declared twice (first on line %u); merge the two sections"),
                                                    path, line, *g, line_of (&ctx, *g, NULL)));
    }
  static const char *const section_kinds[] = { "vhost", "instance NAME", "route TYPE", NULL };
  for (gchar **g = groups; *g; g++)
    if (strcmp (*g, "vhost") != 0 && !g_str_has_prefix (*g, "instance ") && !g_str_has_prefix (*g, "route "))
      {
        const char *sug = vh_suggest (*g, section_kinds);
        if (sug == NULL && strchr (*g, ' '))
          {
            g_autofree gchar *head = g_strndup (*g, strchr (*g, ' ') - *g);
            static const char *const heads[] = { "instance", "route", NULL };
            const char *h = vh_suggest (head, heads);
            sug = h ? (strcmp (h, "instance") == 0 ? section_kinds[1] : section_kinds[2]) : NULL;
          }
        if (sug)
          problem (&ctx, *g, NULL, _("unknown section [%s] (did you mean [%s]?)"), *g, sug);
        else
          problem (&ctx, *g, NULL, _("unknown section [%s] (expected [vhost], [instance NAME] or [route TYPE])"), *g);
      }

  cfg->settings = vh_config_new_empty ("vhost", vh_settings_schema);
  if (!g_key_file_has_group (kf, "vhost"))
    problem (&ctx, NULL, NULL, _("no [vhost] section (it names at least tasks = FILE)"));
  else
    read_section (&ctx, kf, "vhost", cfg->settings, vh_settings_schema, NULL);

  const char *tasks = vh_config_get_string (cfg->settings, "tasks");
  cfg->tasks = tasks ? resolve (cfg->base_dir, tasks) : NULL;
  const char *images = vh_config_get_string (cfg->settings, "images");
  if (images && *images)
    cfg->images = resolve (cfg->base_dir, images);
  else if (cfg->tasks)
    cfg->images = g_path_get_dirname (cfg->tasks);
  cfg->output = resolve (cfg->base_dir, vh_config_get_string (cfg->settings, "output"));
  cfg->plugin_dirs = vh_config_get_list (cfg->settings, "plugin_dir");
  for (gchar **d = cfg->plugin_dirs; *d; d++)
    {
      gchar *r = resolve (cfg->base_dir, *d);
      g_free (*d);
      *d = r;
    }
  gint64 workers = vh_config_get_int (cfg->settings, "workers");
  if (workers < 1 || workers > 1024)
    problem (&ctx, "vhost", "workers", _("workers must be between 1 and 1024"));
  cfg->workers = (guint) CLAMP (workers, 1, 1024);
  gint64 q = vh_config_get_int (cfg->settings, "jpeg_quality");
  if (q < 1 || q > 100)
    problem (&ctx, "vhost", "jpeg_quality", _("jpeg_quality must be between 1 and 100"));
  cfg->jpeg_quality = (gint) CLAMP (q, 1, 100);
  if (!parse_size (vh_config_get_string (cfg->settings, "zip_max"), &cfg->zip_max_bytes))
    problem (&ctx, "vhost", "zip_max", _("“%s” is not a size (expected e.g. 2GB, 500MB)"),
             vh_config_get_string (cfg->settings, "zip_max"));
  cfg->progress_interval_ms = MAX (vh_config_get_duration_ms (cfg->settings, "progress_interval"), 100);

  load_instances (&ctx, kf, cfg, reg);
  check_instance_refs (&ctx, cfg, reg);
  load_routes (&ctx, kf, cfg, reg);

  g_hash_table_unref (ctx.lines);
  if (problems->len > before)
    return NULL;
  return g_steal_pointer (&cfg);
}
