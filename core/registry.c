#include "registry.h"
#include <string.h>

const VhPlugin *
vh_registry_check_module (GModule *module, const char *path, GError **error)
{
  gpointer sym = NULL;
  if (!g_module_symbol (module, VH_PLUGIN_SYMBOL, &sym) || sym == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("%s: not a vhost plugin (no exported symbol %s)"), path, VH_PLUGIN_SYMBOL);
      return NULL;
    }
  const VhPlugin *plugin = ((VhPluginDescribeFunc) sym) ();
  if (plugin == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("%s: %s() returned no descriptor"), path, VH_PLUGIN_SYMBOL);
      return NULL;
    }
  /* The ABI number is the first field: read it before trusting any other. */
  if (plugin->abi != VH_PLUGIN_ABI)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("%s: built for plugin ABI %u, this vhost loads ABI %u; rebuild the plugin against this vhost's plugin.h"),
                   path, plugin->abi, VH_PLUGIN_ABI);
      return NULL;
    }
  if (plugin->struct_size < sizeof (VhPlugin) || plugin->name == NULL || plugin->name[0] == '\0'
      || plugin->create == NULL || plugin->run == NULL || plugin->destroy == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("%s: incomplete descriptor (name, create, run and destroy are required)"), path);
      return NULL;
    }
  for (const VhOption *o = plugin->options; o && o->name; o++)
    if (o->type == VH_OPT_ENUM && o->choices == NULL)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                     _("%s: option “%s” is an enum without choices"), path, o->name);
        return NULL;
      }
  return plugin;
}

static void
entry_free (gpointer p)
{
  VhPluginEntry *e = p;
  g_free (e->path);
  /* Modules stay resident: a C++ plugin's static destructors must not run
   * while another thread could still be inside it. */
  g_free (e);
}

/* Opens one module, checks it and records it (or why it was refused). */
static void
open_module (VhRegistry *reg, const char *path)
{
  if (g_hash_table_contains (reg->opened, path))
    return;
  g_hash_table_add (reg->opened, g_strdup (path));
  GModule *module = g_module_open (path, G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY);
  if (module == NULL)
    {
      /* g_module_error() carries the dynamic loader's reason, the same
       * missing library or undefined symbol `ldd -r` would name. */
      g_ptr_array_add (reg->refused, g_strdup_printf (_("%s: cannot be loaded: %s"), path, g_module_error ()));
      return;
    }
  GError *error = NULL;
  const VhPlugin *plugin = vh_registry_check_module (module, path, &error);
  if (plugin == NULL)
    {
      g_ptr_array_add (reg->refused, g_strdup (error->message));
      g_error_free (error);
      g_module_close (module);
      return;
    }
  for (guint i = 0; i < reg->entries->len; i++)
    if (strcmp (((VhPluginEntry *) reg->entries->pdata[i])->plugin->name, plugin->name) == 0)
      {
        g_module_close (module);   /* shadowed by a module found earlier */
        return;
      }
  g_module_make_resident (module);
  VhPluginEntry *e = g_new0 (VhPluginEntry, 1);
  e->path = g_strdup (path);
  e->module = module;
  e->plugin = plugin;
  g_ptr_array_add (reg->entries, e);
}

/* g_ptr_array_sort() passes pointers to the elements, not the elements. */
static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

static void
scan_dir (VhRegistry *reg, const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (const char *n; (n = g_dir_read_name (d));)
    if (g_str_has_suffix (n, ".so"))
      g_ptr_array_add (names, g_strdup (n));
  g_ptr_array_sort (names, compare_names);  /* stable order across runs */
  for (guint i = 0; i < names->len; i++)
    g_ptr_array_add (reg->files, g_build_filename (dir, names->pdata[i], NULL));
}

VhRegistry *
vh_registry_new (const char *const *extra_dirs)
{
  VhRegistry *reg = g_new0 (VhRegistry, 1);
  reg->entries = g_ptr_array_new_with_free_func (entry_free);
  reg->refused = g_ptr_array_new_with_free_func (g_free);
  reg->files = g_ptr_array_new_with_free_func (g_free);
  reg->opened = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (const char *const *d = extra_dirs; d && *d; d++)
    scan_dir (reg, *d);
  const char *env = g_getenv ("VHOST_PLUGIN_PATH");
  if (env != NULL)
    {
      g_auto (GStrv) dirs = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
      for (gchar **d = dirs; *d; d++)
        if (**d)
          scan_dir (reg, *d);
    }
  scan_dir (reg, VH_PLUGINS_DIR);
  return reg;
}

void
vh_registry_load_all (VhRegistry *reg)
{
  for (guint i = 0; i < reg->files->len; i++)
    open_module (reg, reg->files->pdata[i]);
}

void
vh_registry_free (VhRegistry *reg)
{
  if (reg == NULL)
    return;
  g_ptr_array_unref (reg->entries);
  g_ptr_array_unref (reg->refused);
  g_ptr_array_unref (reg->files);
  g_hash_table_unref (reg->opened);
  g_free (reg);
}

static VhPluginEntry *
find_opened (VhRegistry *reg, const char *name)
{
  for (guint i = 0; reg && i < reg->entries->len; i++)
    {
      VhPluginEntry *e = reg->entries->pdata[i];
      if (strcmp (e->plugin->name, name) == 0)
        return e;
    }
  return NULL;
}

static VhPluginEntry *
find_entry (VhRegistry *reg, const char *name)
{
  if (reg == NULL)
    return NULL;
  VhPluginEntry *e = find_opened (reg, name);
  if (e != NULL)
    return e;
  /* NAME.so first, in search order; then every other module, for plugins
   * whose file is named differently. */
  g_autofree gchar *file = g_strconcat (name, ".so", NULL);
  for (guint i = 0; i < reg->files->len; i++)
    {
      g_autofree gchar *base = g_path_get_basename (reg->files->pdata[i]);
      if (strcmp (base, file) == 0)
        {
          open_module (reg, reg->files->pdata[i]);
          if ((e = find_opened (reg, name)))
            return e;
        }
    }
  vh_registry_load_all (reg);
  return find_opened (reg, name);
}

const VhPlugin *
vh_registry_find (VhRegistry *reg, const char *name)
{
  VhPluginEntry *e = find_entry (reg, name);
  return e ? e->plugin : NULL;
}

const char *
vh_registry_path (VhRegistry *reg, const char *name)
{
  VhPluginEntry *e = find_entry (reg, name);
  return e ? e->path : NULL;
}

const char **
vh_registry_names (VhRegistry *reg)
{
  vh_registry_load_all (reg);
  const char **names = g_new0 (const char *, reg->entries->len + 1);
  for (guint i = 0; i < reg->entries->len; i++)
    names[i] = ((VhPluginEntry *) reg->entries->pdata[i])->plugin->name;
  return names;
}
