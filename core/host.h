/* The host: instances created from the INI, routes resolved once into plain
 * arrays, and the one place a plugin's run() is called (through the
 * instance's limiter and timeout). */
#ifndef VH_HOST_H
#define VH_HOST_H
#include "vh-private.h"
#include "vh-config.h"
#include "registry.h"
#include "limiter.h"
#include <json-c/json.h>

G_BEGIN_DECLS

struct _VhInstance {
  gchar          *name;
  const VhPlugin *plugin;
  VhInstanceSpec *spec;
  gpointer        self;          /* what create() returned */
  VhLimiter      *limiter;
  gint64          timeout_ms;
  guint32         task_types;
  /* counters, updated atomically */
  gint            calls, failures, quota_errors, timeouts;
};

struct _VhHost {
  VhPipelineConfig *config;
  VhRegistry       *registry;
  GPtrArray        *instances;   /* VhInstance*, file order */
  GPtrArray        *routes[4];   /* VhInstance* per task type bit; NULL = no route */
  gchar            *tmpdir;
};

/* How deep instances may nest (wrapper in wrapper in ...) and still have
 * their quota slot released early; deeper calls keep theirs to the end. */
#define VH_ROW_SLOT_DEPTH 8

/* Per-row state behind VhTask.host_private. */
typedef struct {
  GMutex       lock;
  json_object *notes;            /* object: key -> JSON value */
  /* The limiters of the instances this row is running in, outermost first,
   * for vh_task_release_slot(); depth may exceed the array (not tracked). */
  struct {
    VhLimiter *limiter;
    gboolean   released;
  }            slots[VH_ROW_SLOT_DEPTH];
  guint        depth;
} VhRowState;

VhHost   *vh_host_new (VhPipelineConfig *config, VhRegistry *registry, GError **error);
void      vh_host_free (VhHost *host);
GPtrArray *vh_host_route (VhHost *host, VhTaskType type);

void      vh_row_state_init (VhRowState *state);
void      vh_row_state_clear (VhRowState *state);

G_END_DECLS
#endif
