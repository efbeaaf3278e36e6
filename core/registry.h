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
  GPtrArray *entries;   /* VhPluginEntry*, opened modules; first found wins for a name */
  GPtrArray *refused;   /* gchar*: "FILE: reason" for every module refused */
  GPtrArray *files;     /* gchar*: every candidate .so in search order */
  GHashTable *opened;   /* path -> TRUE once tried */
};
typedef struct _VhRegistry VhRegistry;

/* Search order: `extra_dirs` (the INI's plugin_dir), VHOST_PLUGIN_PATH
 * (colon-separated), then the installed plugin directory.  Modules are
 * opened lazily: a plugin named NAME is looked for as NAME.so first, so a
 * run loads only the plugins its INI uses (OpenCV and dlib cost ~45 MB of
 * memory and 0.1 s to load; a t2i-only run should not pay that). */
VhRegistry     *vh_registry_new (const char *const *extra_dirs);
/* Opens every candidate module (for listings and suggestions). */
void            vh_registry_load_all (VhRegistry *registry);
void            vh_registry_free (VhRegistry *registry);
const VhPlugin *vh_registry_find (VhRegistry *registry, const char *name);
const char     *vh_registry_path (VhRegistry *registry, const char *name);
/* NULL-terminated array of names (free the array only); loads every module. */
const char    **vh_registry_names (VhRegistry *registry);
/* Checks one module; on refusal returns NULL and a reason. Exposed for tests. */
const VhPlugin *vh_registry_check_module (GModule *module, const char *path, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VhRegistry, vh_registry_free)

G_END_DECLS
#endif
