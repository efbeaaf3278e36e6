/* registry.c: plugin discovery refuses a module built for another ABI or
 * without the descriptor symbol (naming the file and the reason) and still
 * loads the good ones; modules are opened lazily and in a stable order. */
#include "util.h"
#include "registry.h"
#include <string.h>

static gchar *good_dir, *bad_dir;   /* tests/plugins/.libs, tests/plugins-bad/.libs */

/* Runs `body` with VHOST_PLUGIN_PATH set to `path`, then restores it. */
typedef struct {
  gchar *saved;
} EnvGuard;

static EnvGuard
env_set (const char *path)
{
  EnvGuard g = { g_strdup (g_getenv ("VHOST_PLUGIN_PATH")) };
  g_setenv ("VHOST_PLUGIN_PATH", path, TRUE);
  return g;
}

static void
env_restore (EnvGuard *g)
{
  if (g->saved)
    g_setenv ("VHOST_PLUGIN_PATH", g->saved, TRUE);
  else
    g_unsetenv ("VHOST_PLUGIN_PATH");
  g_free (g->saved);
}

static void
test_refuses_bad_modules (void)
{
  EnvGuard env = env_set (bad_dir);
  const char *const extra[] = { good_dir, NULL };
  g_autoptr (VhRegistry) reg = vh_registry_new (extra);
  env_restore (&env);

  const VhPlugin *p = vh_registry_find (reg, "testgen");
  g_assert_nonnull (p);
  g_autofree gchar *testgen = g_build_filename (good_dir, "testgen.so", NULL);
  g_assert_cmpstr (vh_registry_path (reg, "testgen"), ==, testgen);

  vh_registry_load_all (reg);
  g_autofree gchar *badabi = g_build_filename (bad_dir, "badabi.so", NULL);
  g_autofree gchar *nosym = g_build_filename (bad_dir, "nosym.so", NULL);
  tu_dump_problems (reg->refused);
  tu_assert_problem (reg->refused, badabi, "ABI 99", "this vhost loads ABI 1");
  tu_assert_problem (reg->refused, nosym, "no exported symbol vh_plugin_describe");
  g_assert_cmpuint (reg->refused->len, ==, 2);
  g_assert_null (vh_registry_find (reg, "badabi"));
  g_assert_null (vh_registry_find (reg, "nosuchplugin"));
  g_assert_null (vh_registry_path (reg, "nosuchplugin"));

  /* Listing names every good plugin, none of the refused ones. */
  g_autofree const char **names = vh_registry_names (reg);
  g_assert_true (g_strv_contains ((const char *const *) names, "testgen"));
  g_assert_true (g_strv_contains ((const char *const *) names, "testgen-t2i"));
  g_assert_true (g_strv_contains ((const char *const *) names, "testwrap"));
  g_assert_false (g_strv_contains ((const char *const *) names, "badabi"));
}

static void
test_lazy_loading (void)
{
  /* Finding testgen opens testgen.so only: the bad modules are never touched. */
  g_autofree gchar *path = g_strjoin (":", bad_dir, good_dir, NULL);
  EnvGuard env = env_set (path);
  g_autoptr (VhRegistry) reg = vh_registry_new (NULL);
  env_restore (&env);
  g_assert_nonnull (vh_registry_find (reg, "testgen"));
  g_assert_cmpuint (reg->refused->len, ==, 0);
  g_assert_cmpuint (reg->entries->len, ==, 1);
  g_autofree const char **names = vh_registry_names (reg);   /* loads everything */
  g_assert_cmpuint (reg->refused->len, ==, 2);
}

static GModule *
open_module (const char *dir, const char *file, gchar **path_out)
{
  *path_out = g_build_filename (dir, file, NULL);
  GModule *m = g_module_open (*path_out, G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY);
  if (m == NULL)
    g_test_fail_printf ("%s: %s", *path_out, g_module_error ());
  return m;
}

static void
test_check_module (void)
{
  g_autofree gchar *good = NULL, *abi = NULL, *nosym = NULL;
  GError *error = NULL;

  GModule *m = open_module (good_dir, "testgen.so", &good);
  const VhPlugin *p = m ? vh_registry_check_module (m, good, &error) : NULL;
  g_assert_no_error (error);
  g_assert_nonnull (p);
  if (p)
    {
      g_assert_cmpuint (p->abi, ==, VH_PLUGIN_ABI);
      g_assert_cmpstr (p->name, ==, "testgen");
      g_assert_cmpuint (p->task_types, ==, VH_TASK_ALL);
    }

  GModule *b = open_module (bad_dir, "badabi.so", &abi);
  g_assert_null (b ? vh_registry_check_module (b, abi, &error) : NULL);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  if (error)
    {
      g_assert_true (g_str_has_prefix (error->message, abi));
      g_assert_nonnull (strstr (error->message, "ABI"));
    }
  g_clear_error (&error);

  GModule *n = open_module (bad_dir, "nosym.so", &nosym);
  g_assert_null (n ? vh_registry_check_module (n, nosym, &error) : NULL);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  if (error)
    {
      g_assert_true (g_str_has_prefix (error->message, nosym));
      g_assert_nonnull (strstr (error->message, VH_PLUGIN_SYMBOL));
    }
  g_clear_error (&error);
  /* Closing is fine for refused modules; a good one stays resident in the
   * registry, here it was only checked. */
  if (b)
    g_module_close (b);
  if (n)
    g_module_close (n);
  if (m)
    g_module_close (m);
}

/* Copies tests/plugins/.libs/testgen.so to dir/name. */
static void
copy_testgen (const char *dir, const char *name)
{
  g_autofree gchar *src = g_build_filename (good_dir, "testgen.so", NULL);
  g_autofree gchar *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  g_free (tu_write (dir, name, data, (gssize) len));
}

static void
test_first_found_wins (void)
{
  /* The INI's plugin_dir comes before VHOST_PLUGIN_PATH. */
  g_autofree gchar *dir = tu_tmpdir ();
  copy_testgen (dir, "testgen.so");
  EnvGuard env = env_set (good_dir);
  const char *const extra[] = { dir, NULL };
  g_autoptr (VhRegistry) reg = vh_registry_new (extra);
  env_restore (&env);
  g_autofree gchar *mine = g_build_filename (dir, "testgen.so", NULL);
  g_assert_cmpstr (vh_registry_path (reg, "testgen"), ==, mine);
  tu_rmtree (dir);
}

static void
test_stable_order (void)
{
  /* Inside one folder, modules are taken in name order: with four copies of
   * the same plugin under other file names, a.so wins. */
  g_autofree gchar *dir = tu_tmpdir ();
  g_autofree gchar *empty = tu_tmpdir ();
  const char *const names[] = { "d.so", "b.so", "a.so", "c.so" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    copy_testgen (dir, names[i]);
  EnvGuard env = env_set (empty);
  const char *const extra[] = { dir, NULL };
  g_autoptr (VhRegistry) reg = vh_registry_new (extra);
  env_restore (&env);
  g_autofree gchar *a = g_build_filename (dir, "a.so", NULL);
  g_assert_cmpstr (vh_registry_path (reg, "testgen"), ==, a);
  tu_rmtree (dir);
  tu_rmtree (empty);
}

int
main (int argc, char **argv)
{
  tu_init (&argc, &argv);
  good_dir = g_build_filename (tu_builddir (), "tests", "plugins", ".libs", NULL);
  bad_dir = g_build_filename (tu_builddir (), "tests", "plugins-bad", ".libs", NULL);
  g_test_add_func ("/registry/refuses-bad-modules", test_refuses_bad_modules);
  g_test_add_func ("/registry/lazy-loading", test_lazy_loading);
  g_test_add_func ("/registry/check-module", test_check_module);
  g_test_add_func ("/registry/first-found-wins", test_first_found_wins);
  g_test_add_func ("/registry/stable-order", test_stable_order);
  int rc = g_test_run ();
  g_free (good_dir);
  g_free (bad_dir);
  return rc;
}
