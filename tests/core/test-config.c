/* config.c: INI validation.  Every problem is "FILE:LINE: message", all of
 * them are reported in one pass, and a valid file comes back with paths
 * resolved against the INI's folder and defaults filled in. */
#include "util.h"
#include "vh-config.h"
#include "registry.h"
#include <string.h>

static VhRegistry *registry;   /* testgen, testgen-t2i, testwrap from VHOST_PLUGIN_PATH */

typedef struct {
  gchar            *dir, *path;
  GPtrArray        *problems;
  VhPipelineConfig *config;
} Load;

static void
load_free (Load *l)
{
  vh_pipeline_config_free (l->config);
  g_ptr_array_unref (l->problems);
  tu_rmtree (l->dir);
  g_free (l->dir);
  g_free (l->path);
  g_free (l);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Load, load_free)

/* Writes `text` as DIR/vhost.ini and loads it. */
static Load *
load_ini (const char *text)
{
  Load *l = g_new0 (Load, 1);
  l->dir = tu_tmpdir ();
  l->path = tu_write (l->dir, "vhost.ini", text, -1);
  l->problems = g_ptr_array_new_with_free_func (g_free);
  l->config = vh_pipeline_config_load (l->path, registry, l->problems);
  tu_dump_problems (l->problems);
  return l;
}

/* Loads a file that must be refused. */
static Load *
load_bad (const char *text)
{
  Load *l = load_ini (text);
  g_assert_null (l->config);
  g_assert_cmpuint (l->problems->len, >, 0);
  return l;
}

/* A problem reported at FILE:LINE that contains every needle. */
#define assert_at(l, line, ...)                                                   \
  G_STMT_START {                                                                  \
    g_autofree gchar *where_ = g_strdup_printf ("%s:%u: ", (l)->path, (guint) (line)); \
    tu_assert_problem ((l)->problems, where_, __VA_ARGS__);                       \
  } G_STMT_END

#define HEAD "[vhost]\ntasks = task.csv\n"   /* lines 1-2 */

/* ------------------------------------------------------------ valid */

static void
test_valid_file_loads (void)
{
  g_autoptr (Load) l = load_ini ("# a comment\n"            /* 1 */
                                 "[vhost]\n"                /* 2 */
                                 "tasks = data/task.csv\n"  /* 3 */
                                 "output = results\n"       /* 4 */
                                 "plugin_dir = plugins\n"   /* 5 */
                                 "\n"                       /* 6 */
                                 "[instance gen]\n"         /* 7 */
                                 "plugin = testgen\n"       /* 8 */
                                 "concurrency = 4\n"        /* 9 */
                                 "qps = 2.5\n"              /* 10 */
                                 "mode = copy\n"            /* 11 */
                                 "\n"                       /* 12 */
                                 "[instance small]\n"       /* 13 */
                                 "plugin = testgen-t2i\n"   /* 14 */
                                 "timeout = 90s\n"          /* 15 */
                                 "\n"                       /* 16 */
                                 "[instance wrap]\n"        /* 17 */
                                 "plugin = testwrap\n"      /* 18 */
                                 "try = gen, small\n"       /* 19 */
                                 "\n"                       /* 20 */
                                 "[route t2i]\n"            /* 21 */
                                 "chain = wrap\n"           /* 22 */
                                 "[route tie]\n"            /* 23 */
                                 "chain = gen\n");          /* 24 */
  g_assert_cmpuint (l->problems->len, ==, 0);
  VhPipelineConfig *c = l->config;
  g_assert_nonnull (c);

  /* Relative paths resolve against the INI's folder, not the cwd. */
  g_autofree gchar *tasks = g_build_filename (l->dir, "data", "task.csv", NULL);
  g_autofree gchar *images = g_build_filename (l->dir, "data", NULL);
  g_autofree gchar *output = g_build_filename (l->dir, "results", NULL);
  g_autofree gchar *plugins = g_build_filename (l->dir, "plugins", NULL);
  g_assert_cmpstr (c->tasks, ==, tasks);
  g_assert_cmpstr (c->images, ==, images);   /* default: the folder of tasks */
  g_assert_cmpstr (c->output, ==, output);
  g_assert_nonnull (c->plugin_dirs);
  g_assert_cmpstr (c->plugin_dirs[0], ==, plugins);
  g_assert_null (c->plugin_dirs[1]);
  g_assert_cmpstr (c->base_dir, ==, l->dir);

  /* Defaults. */
  g_assert_cmpuint (c->workers, ==, 16);
  g_assert_cmpint (c->jpeg_quality, ==, 95);
  g_assert_cmpuint (c->zip_max_bytes, ==, G_GUINT64_CONSTANT (2000000000));
  g_assert_cmpint (c->progress_interval_ms, ==, 10000);

  /* Instances, in file order, with their lines and limits. */
  g_assert_cmpuint (c->instances->len, ==, 3);
  VhInstanceSpec *gen = c->instances->pdata[0];
  g_assert_cmpstr (gen->name, ==, "gen");
  g_assert_cmpstr (gen->plugin, ==, "testgen");
  g_assert_cmpuint (gen->line, ==, 7);
  g_assert_cmpuint (gen->concurrency, ==, 4);
  g_assert_cmpfloat_with_epsilon (gen->qps, 2.5, 1e-9);
  g_assert_cmpint (gen->timeout_ms, ==, 10 * 60 * 1000);
  g_assert_cmpstr (vh_config_get_string (gen->config, "mode"), ==, "copy");
  g_assert_cmpstr (vh_config_get_string (gen->config, "format"), ==, "jpeg");   /* plugin default */
  g_assert_cmpint (vh_config_get_int (gen->config, "width"), ==, 64);
  g_assert_true (vh_config_has (gen->config, "mode"));
  g_assert_false (vh_config_has (gen->config, "format"));
  g_assert_cmpstr (vh_config_instance_name (gen->config), ==, "gen");

  VhInstanceSpec *small = vh_pipeline_config_find_instance (c, "small");
  g_assert_true (small == c->instances->pdata[1]);
  g_assert_cmpuint (small->line, ==, 13);
  g_assert_cmpuint (small->concurrency, ==, 0);
  g_assert_cmpfloat (small->qps, ==, 0.0);
  g_assert_cmpint (small->timeout_ms, ==, 90000);
  g_assert_null (vh_pipeline_config_find_instance (c, "nope"));

  /* A wrapper serves the union of its children's types. */
  g_assert_cmpuint (vh_pipeline_instance_types (c, registry, "small", 0), ==, VH_TASK_T2I);
  g_assert_cmpuint (vh_pipeline_instance_types (c, registry, "wrap", 0), ==, VH_TASK_ALL);

  VhRouteSpec *t2i = &c->routes[vh_task_type_bit (VH_TASK_T2I)];
  g_assert_cmpuint (t2i->type, ==, VH_TASK_T2I);
  g_assert_cmpuint (t2i->line, ==, 21);
  g_assert_cmpstrv (t2i->chain, ((const char *const[]) { "wrap", NULL }));
  VhRouteSpec *tie = &c->routes[vh_task_type_bit (VH_TASK_TIE)];
  g_assert_cmpstrv (tie->chain, ((const char *const[]) { "gen", NULL }));
  g_assert_null (c->routes[vh_task_type_bit (VH_TASK_VTTIE)].chain);
  g_assert_null (c->routes[vh_task_type_bit (VH_TASK_DEEPFAKE)].chain);
}

static void
test_explicit_images_and_absolute_paths (void)
{
  g_autoptr (Load) l = load_ini ("[vhost]\n"
                                 "tasks = /srv/contest/task.csv\n"
                                 "images = pictures/../photos\n"
                                 "output = /srv/out\n"
                                 "workers = 3\n"
                                 "jpeg_quality = 80\n"
                                 "zip_max = 500MB\n");
  g_assert_nonnull (l->config);
  g_autofree gchar *images = g_build_filename (l->dir, "photos", NULL);
  g_assert_cmpstr (l->config->tasks, ==, "/srv/contest/task.csv");
  g_assert_cmpstr (l->config->images, ==, images);
  g_assert_cmpstr (l->config->output, ==, "/srv/out");
  g_assert_cmpuint (l->config->workers, ==, 3);
  g_assert_cmpint (l->config->jpeg_quality, ==, 80);
  g_assert_cmpuint (l->config->zip_max_bytes, ==, 500000000);
  g_assert_cmpuint (l->config->instances->len, ==, 0);
}

/* ------------------------------------------------------------ sections and keys */

static void
test_unknown_section (void)
{
  g_autoptr (Load) l = load_bad (HEAD
                                 "[instanse x]\n"       /* 3 */
                                 "plugin = testgen\n"   /* 4 */
                                 "[routes t2i]\n"       /* 5 */
                                 "chain = x\n"          /* 6 */
                                 "[general]\n");        /* 7 */
  assert_at (l, 3, "unknown section [instanse x] (did you mean [instance NAME]?)");
  assert_at (l, 5, "unknown section [routes t2i] (did you mean [route TYPE]?)");
  assert_at (l, 7, "unknown section [general] (expected [vhost], [instance NAME] or [route TYPE])");
  g_assert_cmpuint (l->problems->len, ==, 3);
}

static void
test_no_vhost_section (void)
{
  g_autoptr (Load) l = load_bad ("[instance gen]\nplugin = testgen\n");
  g_autofree gchar *expected = g_strdup_printf ("%s: no [vhost] section", l->path);
  tu_assert_problem (l->problems, expected);
}

static void
test_unknown_key_vhost (void)
{
  g_autoptr (Load) l = load_bad (HEAD
                                 "worker = 4\n"          /* 3 */
                                 "colour = blue\n");     /* 4 */
  assert_at (l, 3, "unknown key “worker” in [vhost] (did you mean “workers”?)");
  assert_at (l, 4, "unknown key “colour” in [vhost]");
  const char *colour = tu_find_problem (l->problems, "colour", NULL);
  g_assert_true (colour == NULL || strstr (colour, "did you mean") == NULL);
  g_assert_cmpuint (l->problems->len, ==, 2);
}

static void
test_unknown_key_instance (void)
{
  g_autoptr (Load) l = load_bad (HEAD
                                 "[instance gen]\n"      /* 3 */
                                 "plugin = testgen\n"    /* 4 */
                                 "concurency = 3\n"      /* 5: a standard key */
                                 "heigth = 10\n");       /* 6: a plugin option */
  assert_at (l, 5, "unknown key “concurency” in [instance gen] (did you mean “concurrency”?)");
  assert_at (l, 6, "unknown key “heigth” in [instance gen] (did you mean “height”?)");
  /* Each problem once: not again by the pass over the standard keys. */
  g_assert_cmpuint (tu_count_problems (l->problems, "“concurency”"), ==, 1);
  g_assert_cmpuint (tu_count_problems (l->problems, "“heigth”"), ==, 1);
  g_assert_cmpuint (l->problems->len, ==, 2);
}

static void
test_wrong_types (void)
{
  g_autoptr (Load) l = load_bad (HEAD
                                 "jpeg_quality = high\n"     /* 3 */
                                 "progress_interval = 5x\n"  /* 4 */
                                 "[instance gen]\n"          /* 5 */
                                 "plugin = testgen\n"        /* 6 */
                                 "qps = fast\n"              /* 7 */
                                 "timeout = forever\n"       /* 8 */
                                 "mode = sloid\n"            /* 9 */
                                 "width = 12.5\n"            /* 10 */
                                 "api_key_env = MY KEY\n");  /* 11 */
  assert_at (l, 3, "“high” is not a whole number (key “jpeg_quality”, type int)");
  assert_at (l, 4, "“5x” is not a duration", "(key “progress_interval”, type duration)");
  assert_at (l, 7, "“fast” is not a number (key “qps”, type double)");
  assert_at (l, 8, "“forever” is not a duration", "(key “timeout”, type duration)");
  assert_at (l, 9, "“sloid” is not one of solid,copy (did you mean “solid”?) (key “mode”, type enum)");
  assert_at (l, 10, "“12.5” is not a whole number (key “width”, type int)");
  assert_at (l, 11, "“MY KEY” is not the name of an environment variable", "type env");
  g_assert_cmpuint (l->problems->len, ==, 7);
}

/* No schema in the tree has a bool option: check the validator directly. */
static void
test_option_check_value (void)
{
  const VhOption b = { "flag", VH_OPT_BOOL, "false", "a flag", NULL };
  const VhOption e = { "fit", VH_OPT_ENUM, "fail", "a choice", "fail,keep-original,blank" };
  const VhOption i = { "n", VH_OPT_INT, "0", "a number", NULL };
  const char *const good_bools[] = { "true", "yes", "on", "1", "false", "no", "off", "0", "TRUE", NULL };
  for (const char *const *v = good_bools; *v; v++)
    g_assert_true (vh_option_check_value (&b, *v, NULL));
  GError *error = NULL;
  g_assert_false (vh_option_check_value (&b, "maybe", &error));
  g_assert_nonnull (strstr (error->message, "“maybe” is not true or false"));
  g_clear_error (&error);

  g_assert_true (vh_option_check_value (&e, "blank", NULL));
  g_assert_false (vh_option_check_value (&e, "keep-orignal", &error));
  g_assert_nonnull (strstr (error->message, "(did you mean “keep-original”?)"));
  g_clear_error (&error);
  g_assert_false (vh_option_check_value (&e, "zzzzzzzz", &error));
  g_assert_nonnull (strstr (error->message, "is not one of fail,keep-original,blank"));
  g_assert_null (strstr (error->message, "did you mean"));
  g_clear_error (&error);

  g_assert_true (vh_option_check_value (&i, "-12", NULL));
  g_assert_false (vh_option_check_value (&i, "12abc", NULL));
  g_assert_false (vh_option_check_value (&i, "", NULL));
}

static void
test_config_accessors (void)
{
  static const VhOption schema[] = {
    { "name", VH_OPT_STRING, "anon", "", NULL },
    { "n", VH_OPT_INT, "7", "", NULL },
    { "ratio", VH_OPT_DOUBLE, "0.5", "", NULL },
    { "flag", VH_OPT_BOOL, "no", "", NULL },
    { "wait", VH_OPT_DURATION, "1.5m", "", NULL },
    { "tags", VH_OPT_LIST, "", "", NULL },
    { "needed", VH_OPT_INT, NULL, "", NULL },
    { NULL, 0, NULL, NULL, NULL },
  };
  GError *error = NULL;
  g_autoptr (VhConfig) c = vh_config_new_for_test ("inst", schema,
      (const char *const[]) { "flag", "on", "tags", " a, ,b ", "needed", "3", NULL }, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (vh_config_instance_name (c), ==, "inst");
  g_assert_cmpstr (vh_config_get_string (c, "name"), ==, "anon");
  g_assert_null (vh_config_get_string (c, "nope"));
  g_assert_cmpint (vh_config_get_int (c, "n"), ==, 7);
  g_assert_cmpint (vh_config_get_int (c, "needed"), ==, 3);
  g_assert_cmpfloat_with_epsilon (vh_config_get_double (c, "ratio"), 0.5, 1e-12);
  g_assert_true (vh_config_get_bool (c, "flag"));
  g_assert_cmpint (vh_config_get_duration_ms (c, "wait"), ==, 90000);
  g_auto (GStrv) tags = vh_config_get_list (c, "tags");
  g_assert_cmpstrv (tags, ((const char *const[]) { "a", "b", NULL }));
  g_assert_true (vh_config_has (c, "flag"));
  g_assert_false (vh_config_has (c, "n"));

  /* A required key left out, an unknown key, a bad value. */
  g_assert_null (vh_config_new_for_test ("inst", schema, NULL, &error));
  g_assert_nonnull (strstr (error->message, "required key “needed” is missing"));
  g_clear_error (&error);
  g_assert_null (vh_config_new_for_test ("inst", schema, (const char *const[]) { "nedded", "1", NULL }, &error));
  g_assert_nonnull (strstr (error->message, "unknown key “nedded”"));
  g_clear_error (&error);
  g_assert_null (vh_config_new_for_test ("inst", schema, (const char *const[]) { "needed", "x", NULL }, &error));
  g_clear_error (&error);
}

/* ------------------------------------------------------------ plugins */

static void
test_unknown_plugin (void)
{
  g_autoptr (Load) l = load_bad (HEAD
                                 "[instance a]\n"        /* 3 */
                                 "plugin = testgne\n"    /* 4 */
                                 "[instance b]\n"        /* 5 */
                                 "plugin = zzzzzz\n");   /* 6 */
  assert_at (l, 4, "unknown plugin “testgne” (did you mean “testgen”?", "`vhost plugins`");
  assert_at (l, 6, "unknown plugin “zzzzzz” (`vhost plugins` lists what is installed)");
  g_assert_cmpuint (l->problems->len, ==, 2);
}

static void
test_missing_plugin_key (void)
{
  g_autoptr (Load) l = load_bad (HEAD
                                 "[instance gen]\n"      /* 3 */
                                 "concurrency = 2\n"     /* 4 */
                                 "[route t2i]\n"         /* 5: the instance's types are asked for */
                                 "chain = gen\n");       /* 6 */
  assert_at (l, 3, "[instance gen] needs “plugin = NAME” (installed: ", "testgen");
}

static void
test_required_key_missing (void)
{
  g_autoptr (Load) l = load_bad ("[vhost]\n"             /* 1 */
                                 "workers = 2\n"         /* 2 */
                                 "[instance w]\n"        /* 3 */
                                 "plugin = testwrap\n"); /* 4 */
  assert_at (l, 1, "[vhost] needs the key “tasks”");
  assert_at (l, 3, "[instance w] needs the key “try” (instances tried in order)");
}

/* ------------------------------------------------------------ routes */

static void
test_routes (void)
{
  g_autoptr (Load) l = load_bad (HEAD
                                 "[instance gen]\n"        /* 3 */
                                 "plugin = testgen\n"      /* 4 */
                                 "[instance t2ionly]\n"    /* 5 */
                                 "plugin = testgen-t2i\n"  /* 6 */
                                 "[route t2i]\n"           /* 7 */
                                 "chain = gne\n"           /* 8 */
                                 "[route tie]\n"           /* 9 */
                                 "chain = gen, t2ionly\n"  /* 10 */
                                 "[route t2l]\n"           /* 11 */
                                 "chain = gen\n"           /* 12 */
                                 "[route vttie]\n"         /* 13 */
                                 "chain = ,\n"             /* 14 */
                                 "[route deepfake]\n"      /* 15 */
                                 "chain = nowhere\n");     /* 16 */
  assert_at (l, 8, "no instance “gne” (did you mean “gen”?)");
  assert_at (l, 10, "instance “t2ionly” does not serve tie rows");
  assert_at (l, 11, "unknown task type “t2l” in [route t2l] (expected t2i, tie, vttie or deepfake; did you mean t2i)");
  assert_at (l, 14, "the chain is empty");
  assert_at (l, 16, "no instance “nowhere” (declare it as [instance nowhere])");
  g_assert_cmpuint (l->problems->len, ==, 5);
}

static void
test_route_without_chain (void)
{
  g_autoptr (Load) l = load_bad (HEAD
                                 "[route t2i]\n");         /* 3 */
  assert_at (l, 3, "[route t2i] needs the key “chain”");
}

/* ------------------------------------------------------------ wrappers */

static void
test_wrapper_cycle (void)
{
  g_autoptr (Load) l = load_bad (HEAD
                                 "[instance a]\n"          /* 3 */
                                 "plugin = testwrap\n"     /* 4 */
                                 "try = b\n"               /* 5 */
                                 "[instance b]\n"          /* 6 */
                                 "plugin = testwrap\n"     /* 7 */
                                 "try = a\n"               /* 8 */
                                 "[route t2i]\n"           /* 9 */
                                 "chain = a\n");           /* 10 */
  assert_at (l, 3, "instances call each other in a cycle: a -> b -> a");
  g_assert_cmpuint (l->problems->len, ==, 1);
}

static void
test_wrapper_self_cycle (void)
{
  g_autoptr (Load) l = load_bad (HEAD
                                 "[instance gen]\n"        /* 3 */
                                 "plugin = testgen\n"      /* 4 */
                                 "[instance me]\n"         /* 5 */
                                 "plugin = testwrap\n"     /* 6 */
                                 "try = gen, me\n");       /* 7 */
  assert_at (l, 5, "instances call each other in a cycle: me -> me");
}

static void
test_wrapper_missing_instance (void)
{
  g_autoptr (Load) l = load_bad (HEAD
                                 "[instance gen]\n"        /* 3 */
                                 "plugin = testgen\n"      /* 4 */
                                 "[instance w]\n"          /* 5 */
                                 "plugin = testwrap\n"     /* 6 */
                                 "try = gen, ghost, gne\n" /* 7 */
                                 "[instance empty]\n"      /* 8 */
                                 "plugin = testwrap\n"     /* 9 */
                                 "try = ,\n");             /* 10 */
  assert_at (l, 7, "no instance “ghost”");
  assert_at (l, 7, "no instance “gne” (did you mean “gen”?)");
  assert_at (l, 10, "“try” names no instance");
  g_assert_cmpuint (l->problems->len, ==, 3);
}

/* ------------------------------------------------------------ secrets */

#define FAKE_KEY "sk-0123456789abcdefABCDEF"

static void
test_literal_secret_refused (void)
{
  g_autoptr (Load) l = load_bad (HEAD
                                 "password = hunter2hunter2\n"       /* 3 */
                                 "[instance gen]\n"                  /* 4 */
                                 "plugin = testgen\n"                /* 5 */
                                 "api_key = " FAKE_KEY "\n"          /* 6 */
                                 "api_key_env = " FAKE_KEY "\n"      /* 7 */
                                 "fail_rows = " FAKE_KEY "\n");      /* 8 */
  assert_at (l, 3, "“password” looks like a secret written into the file");
  assert_at (l, 6, "“api_key” looks like a secret written into the file", "api_key_env = ");
  assert_at (l, 7, "the value of “api_key_env” looks like an API key");
  assert_at (l, 8, "the value of “fail_rows” looks like an API key");
  /* The secret itself is never echoed back. */
  tu_assert_no_problem_with (l->problems, FAKE_KEY);
  tu_assert_no_problem_with (l->problems, "0123456789abcdef");
  tu_assert_no_problem_with (l->problems, "hunter2");
  g_assert_cmpuint (tu_count_problems (l->problems, "“api_key” looks like a secret"), ==, 1);
  g_assert_cmpuint (l->problems->len, ==, 4);
}

/* ------------------------------------------------------------ numbers and duplicates */

static void
test_duplicate_instance (void)
{
  g_autoptr (Load) l = load_bad (HEAD
                                 "[instance gen]\n"        /* 3 */
                                 "plugin = testgen\n"      /* 4 */
                                 "[instance gen]\n"        /* 5 */
                                 "plugin = testgen-t2i\n"); /* 6 */
  assert_at (l, 5, "[instance gen] is declared twice (first on line 3)");
  g_assert_cmpuint (tu_count_problems (l->problems, "declared twice"), ==, 1);

  g_autoptr (Load) routes = load_bad (HEAD
                                      "[instance gen]\n"   /* 3 */
                                      "plugin = testgen\n" /* 4 */
                                      "[route t2i]\n"      /* 5 */
                                      "chain = gen\n"      /* 6 */
                                      "[route t2i]\n"      /* 7 */
                                      "chain = gen\n");    /* 8 */
  assert_at (routes, 7, "[route t2i] is declared twice (first on line 5)");
}

static void
test_duplicate_instance_spacing (void)
{
  /* The same name written with different spacing is still the same name. */
  g_autoptr (Load) l = load_bad (HEAD
                                 "[instance gen]\n"        /* 3 */
                                 "plugin = testgen\n"      /* 4 */
                                 "[instance  gen]\n"       /* 5 */
                                 "plugin = testgen\n");    /* 6 */
  assert_at (l, 5, "instance “gen” is declared twice");
}

static void
test_numbers_out_of_range (void)
{
  g_autoptr (Load) l = load_bad (HEAD
                                 "workers = 0\n"           /* 3 */
                                 "jpeg_quality = 101\n"    /* 4 */
                                 "zip_max = lots\n"        /* 5 */
                                 "[instance gen]\n"        /* 6 */
                                 "plugin = testgen\n"      /* 7 */
                                 "concurrency = -1\n"      /* 8 */
                                 "qps = -2\n");            /* 9 */
  assert_at (l, 3, "workers must be between 1 and 1024");
  assert_at (l, 4, "jpeg_quality must be between 1 and 100");
  assert_at (l, 5, "“lots” is not a size");
  assert_at (l, 8, "concurrency must be between 0 and 100000");
  assert_at (l, 9, "qps must be 0 (unlimited) or more");
  g_assert_cmpuint (l->problems->len, ==, 5);

  g_autoptr (Load) many = load_bad (HEAD "workers = 1025\n");
  assert_at (many, 3, "workers must be between 1 and 1024");
}

static void
test_all_problems_at_once (void)
{
  g_autoptr (Load) l = load_bad ("# every kind of mistake, each on its own line\n"  /* 1 */
                                 "[vhost]\n"               /* 2 */
                                 "tasks = task.csv\n"      /* 3 */
                                 "workers = 2000\n"        /* 4 */
                                 "worker = 2\n"            /* 5 */
                                 "\n"                      /* 6 */
                                 "[instanse x]\n"          /* 7 */
                                 "\n"                      /* 8 */
                                 "[instance gen]\n"        /* 9 */
                                 "plugin = testgen\n"      /* 10 */
                                 "mode = sloid\n"          /* 11 */
                                 "\n"                      /* 12 */
                                 "[instance other]\n"      /* 13 */
                                 "plugin = testgne\n"      /* 14 */
                                 "\n"                      /* 15 */
                                 "[route t2i]\n"           /* 16 */
                                 "chain = gne\n");         /* 17 */
  assert_at (l, 4, "workers must be between 1 and 1024");
  assert_at (l, 5, "unknown key “worker” in [vhost] (did you mean “workers”?)");
  assert_at (l, 7, "unknown section [instanse x]");
  assert_at (l, 11, "“sloid” is not one of solid,copy");
  assert_at (l, 14, "unknown plugin “testgne” (did you mean “testgen”?");
  assert_at (l, 17, "no instance “gne” (did you mean “gen”?)");
  g_assert_cmpuint (l->problems->len, ==, 6);
}

static void
test_syntax_error (void)
{
  g_autoptr (Load) l = load_bad (HEAD "this is not a key\n");
  g_assert_cmpuint (l->problems->len, ==, 1);
  tu_assert_problem (l->problems, l->path, "this is not a key");
}

static void
test_bom_keeps_line_numbers (void)
{
  /* A BOM written by a Windows editor: the file loads and lines stay right. */
  g_autoptr (Load) good = load_ini ("\xEF\xBB\xBF[vhost]\ntasks = task.csv\n");
  g_assert_nonnull (good->config);
  g_autoptr (Load) l = load_bad ("\xEF\xBB\xBF[vhost]\n"   /* 1 */
                                 "tasks = task.csv\n"      /* 2 */
                                 "workrs = 3\n");          /* 3 */
  assert_at (l, 3, "unknown key “workrs” in [vhost] (did you mean “workers”?)");
}

static void
test_plugin_dirs_only (void)
{
  g_autofree gchar *dir = tu_tmpdir ();
  g_autofree gchar *path = tu_write (dir, "v.ini", "[vhost]\nplugin_dir = a, /abs/b\n[instance x]\nplugin = nothing\n", -1);
  g_auto (GStrv) dirs = vh_pipeline_config_plugin_dirs (path);
  g_autofree gchar *a = g_build_filename (dir, "a", NULL);
  g_assert_cmpstrv (dirs, ((const char *const[]) { a, "/abs/b", NULL }));
  g_autofree gchar *none = tu_write (dir, "n.ini", "[vhost]\ntasks = t.csv\n", -1);
  g_assert_null (vh_pipeline_config_plugin_dirs (none));
  tu_rmtree (dir);
}

static void
test_suggest (void)
{
  const char *const words[] = { "workers", "tasks", "images", NULL };
  g_assert_cmpstr (vh_suggest ("worker", words), ==, "workers");
  g_assert_cmpstr (vh_suggest ("TASKS", words), ==, "tasks");
  g_assert_null (vh_suggest ("zebra", words));
  g_assert_null (vh_suggest ("x", NULL));
}

int
main (int argc, char **argv)
{
  tu_init (&argc, &argv);
  registry = vh_registry_new (NULL);
  if (!vh_registry_find (registry, "testgen") || !vh_registry_find (registry, "testwrap")
      || !vh_registry_find (registry, "testgen-t2i"))
    g_error ("the test plugins are not on VHOST_PLUGIN_PATH (%s)", g_getenv ("VHOST_PLUGIN_PATH"));

  g_test_add_func ("/config/valid-file-loads", test_valid_file_loads);
  g_test_add_func ("/config/explicit-images-and-absolute-paths", test_explicit_images_and_absolute_paths);
  g_test_add_func ("/config/unknown-section", test_unknown_section);
  g_test_add_func ("/config/no-vhost-section", test_no_vhost_section);
  g_test_add_func ("/config/unknown-key-vhost", test_unknown_key_vhost);
  g_test_add_func ("/config/unknown-key-instance", test_unknown_key_instance);
  g_test_add_func ("/config/wrong-types", test_wrong_types);
  g_test_add_func ("/config/option-check-value", test_option_check_value);
  g_test_add_func ("/config/accessors", test_config_accessors);
  g_test_add_func ("/config/unknown-plugin", test_unknown_plugin);
  g_test_add_func ("/config/missing-plugin-key", test_missing_plugin_key);
  g_test_add_func ("/config/required-key-missing", test_required_key_missing);
  g_test_add_func ("/config/routes", test_routes);
  g_test_add_func ("/config/route-without-chain", test_route_without_chain);
  g_test_add_func ("/config/wrapper-cycle", test_wrapper_cycle);
  g_test_add_func ("/config/wrapper-self-cycle", test_wrapper_self_cycle);
  g_test_add_func ("/config/wrapper-missing-instance", test_wrapper_missing_instance);
  g_test_add_func ("/config/literal-secret-refused", test_literal_secret_refused);
  g_test_add_func ("/config/duplicate-instance", test_duplicate_instance);
  g_test_add_func ("/config/duplicate-instance-spacing", test_duplicate_instance_spacing);
  g_test_add_func ("/config/numbers-out-of-range", test_numbers_out_of_range);
  g_test_add_func ("/config/all-problems-at-once", test_all_problems_at_once);
  g_test_add_func ("/config/syntax-error", test_syntax_error);
  g_test_add_func ("/config/bom-keeps-line-numbers", test_bom_keeps_line_numbers);
  g_test_add_func ("/config/plugin-dirs-only", test_plugin_dirs_only);
  g_test_add_func ("/config/suggest", test_suggest);
  int rc = g_test_run ();
  vh_registry_free (registry);
  return rc;
}
