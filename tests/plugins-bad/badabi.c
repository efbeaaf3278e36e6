/* TEST ONLY: a plugin built for another ABI; the host must refuse it by name. */
#include <vhost/plugin.h>

static gpointer never_create (VhHost *h, const VhConfig *c, GError **e) { return NULL; }
static gboolean never_run (gpointer s, const VhTask *t, const VhImage *i, VhImage **o, GCancellable *c, GError **e) { return FALSE; }
static void never_destroy (gpointer s) {}

static const VhPlugin descriptor = {
  .abi = VH_PLUGIN_ABI + 98, .struct_size = sizeof (VhPlugin),
  .name = "badabi", .version = "1", .summary = "wrong ABI", .task_types = VH_TASK_ALL,
  .create = never_create, .run = never_run, .destroy = never_destroy,
};

VH_PLUGIN_DEFINE (descriptor)
