/* sequence — a wrapper that runs its stages one after the other, like a
 * route's chain, as ONE instance.  Its use: put a generator and a detector
 * gate together (`stages = wanx-t2i, aigc-gate`) and give several such
 * sequences to retry-fallback, so an image the gate rejects (class REJECTED)
 * makes the wrapper try the next generator. */
#include <vhost/plugin.h>

typedef struct {
  GPtrArray *stages;   /* VhInstance* */
} Sequence;

static const VhOption options[] = {
  { "stages", VH_OPT_INSTANCES, NULL, "instances run in order; each gets the image of the one before", NULL },
  { NULL, 0, NULL, NULL, NULL },
};

static gpointer
seq_create (VhHost *host, const VhConfig *config, GError **error)
{
  Sequence *s = g_new0 (Sequence, 1);
  s->stages = g_ptr_array_new ();
  g_auto (GStrv) names = vh_config_get_list (config, "stages");
  for (gchar **n = names; *n; n++)
    g_ptr_array_add (s->stages, vh_host_lookup (host, *n));
  return s;
}

static gboolean
seq_run (gpointer self, const VhTask *task, const VhImage *input, VhImage **output,
         GCancellable *cancel, GError **error)
{
  Sequence *s = self;
  VhImage *current = NULL;
  for (guint i = 0; i < s->stages->len; i++)
    {
      VhImage *next = NULL;
      if (!vh_instance_run (s->stages->pdata[i], task, current ? current : input, &next, cancel, error))
        {
          vh_image_free (current);
          return FALSE;
        }
      vh_image_free (current);
      current = next;
    }
  *output = current;
  return TRUE;
}

static void
seq_destroy (gpointer self)
{
  Sequence *s = self;
  g_ptr_array_unref (s->stages);
  g_free (s);
}

static const VhPlugin descriptor = {
  .abi = VH_PLUGIN_ABI,
  .struct_size = sizeof (VhPlugin),
  .name = "sequence",
  .version = "1.0",
  .summary = "runs its stages in order as one instance (a generator and its detector gate)",
  .task_types = 0,
  .options = options,
  .create = seq_create,
  .run = seq_run,
  .destroy = seq_destroy,
};

VH_PLUGIN_DEFINE (descriptor)
