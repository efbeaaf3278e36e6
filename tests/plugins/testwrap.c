/* testwrap — a TEST-ONLY wrapper plugin: tries the instances named in `try`
 * in order and returns the first image.  Used to test wrapper validation
 * (unknown instances, cycles, task types from children). */
#include <vhost/plugin.h>

typedef struct {
  GPtrArray *children;   /* VhInstance* */
} TestWrap;

static const VhOption options[] = {
  { "try", VH_OPT_INSTANCES, NULL, "instances tried in order", NULL },
  { NULL, 0, NULL, NULL, NULL },
};

static gpointer
tw_create (VhHost *host, const VhConfig *config, GError **error)
{
  TestWrap *w = g_new0 (TestWrap, 1);
  w->children = g_ptr_array_new ();
  g_auto (GStrv) names = vh_config_get_list (config, "try");
  for (gchar **n = names; *n; n++)
    g_ptr_array_add (w->children, vh_host_lookup (host, *n));
  return w;
}

static gboolean
tw_run (gpointer self, const VhTask *task, const VhImage *input, VhImage **output,
        GCancellable *cancel, GError **error)
{
  TestWrap *w = self;
  GError *last = NULL;
  for (guint i = 0; i < w->children->len; i++)
    {
      g_clear_error (&last);
      if (vh_instance_run (w->children->pdata[i], task, input, output, cancel, &last))
        return TRUE;
    }
  g_propagate_error (error, last);
  return FALSE;
}

static void
tw_destroy (gpointer self)
{
  TestWrap *w = self;
  g_ptr_array_unref (w->children);
  g_free (w);
}

static const VhPlugin descriptor = {
  .abi = VH_PLUGIN_ABI, .struct_size = sizeof (VhPlugin),
  .name = "testwrap", .version = "1", .summary = "TEST ONLY: first child that succeeds",
  .task_types = 0, .options = options,
  .create = tw_create, .run = tw_run, .destroy = tw_destroy,
};

VH_PLUGIN_DEFINE (descriptor)
