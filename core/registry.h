/* Plugin discovery: every .so in the plugin directories is opened, its one
 * descriptor symbol read and its ABI checked before anything else is used. */
#ifndef VH_REGISTRY_H
#define VH_REGISTRY_H
#include "vh-private.h"

G_BEGIN_DECLS

typedef struct {
  gchar          *path;
  GModule        *module;
  const VhPlugin *plugin;
} VhPluginEntry;

struct _VhRegistry {
  GPtrArray *entries;   /* VhPluginEntry*, first found wins for a name */
  GPtrArray *refused;   /* gchar*: "FILE: reason" for every module refused */
};
typedef struct _VhRegistry VhRegistry;

/* Search order: `extra_dirs` (the INI's plugin_dir), VHOST_PLUGIN_PATH
 * (colon-separated), then the installed plugin directory. */
VhRegistry     *vh_registry_new (const char *const *extra_dirs);
void            vh_registry_free (VhRegistry *registry);
const VhPlugin *vh_registry_find (VhRegistry *registry, const char *name);
const char     *vh_registry_path (VhRegistry *registry, const char *name);
/* NULL-terminated array of names (free the array only). */
const char    **vh_registry_names (VhRegistry *registry);
/* Checks one module; on refusal returns NULL and a reason. Exposed for tests. */
const VhPlugin *vh_registry_check_module (GModule *module, const char *path, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VhRegistry, vh_registry_free)

G_END_DECLS
#endif
