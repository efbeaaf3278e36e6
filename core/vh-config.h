/* The INI file: loading, schema validation against plugin-declared options,
 * and error messages that name the file and line. */
#ifndef VH_CONFIG_H
#define VH_CONFIG_H
#include "vh-private.h"

G_BEGIN_DECLS

typedef struct _VhRegistry VhRegistry;

/* One validated section of the file, as given to a plugin's create(). */
struct _VhConfig {
  gchar          *instance_name;   /* NAME of [instance NAME], "vhost" for [vhost] */
  const VhOption *schema;
  GHashTable     *values;          /* key -> value string, defaults filled in */
  GHashTable     *explicit_keys;   /* keys that were in the file */
};

VhConfig *vh_config_new_for_test (const char *instance_name, const VhOption *schema,
                                  const char *const *key_value_pairs, GError **error);
void      vh_config_free (VhConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VhConfig, vh_config_free)

/* Where a key or section stands in the file, for messages. */
typedef struct _VhIniIndex VhIniIndex;

typedef struct {
  gchar      *name;
  gchar      *plugin;              /* `plugin =` */
  VhConfig   *config;              /* plugin options, validated */
  guint       concurrency;         /* 0 = bounded only by workers */
  gdouble     qps;                 /* 0 = unlimited */
  gint64      timeout_ms;          /* per call of run() */
  guint       line;
} VhInstanceSpec;

typedef struct {
  VhTaskType  type;
  gchar     **chain;               /* instance names */
  guint       line;
} VhRouteSpec;

typedef struct {
  gchar      *path;                /* the INI file */
  gchar      *base_dir;            /* relative paths resolve against it */
  gchar      *tasks, *images, *output;   /* absolute */
  gchar     **plugin_dirs;         /* absolute */
  guint       workers;
  gint        jpeg_quality;
  guint64     zip_max_bytes;
  gint64      progress_interval_ms;
  GPtrArray  *instances;           /* VhInstanceSpec*, file order */
  VhRouteSpec routes[4];           /* by bit position of VhTaskType; chain NULL = no route */
  VhConfig   *settings;            /* the [vhost] section */
} VhPipelineConfig;

/* Loads and validates the whole file against the plugins in `registry`.
 * Every problem found is appended to `problems` as "FILE:LINE: message"; the
 * return is NULL when there was any. */
VhPipelineConfig *vh_pipeline_config_load (const char *path, VhRegistry *registry,
                                           GPtrArray *problems);
/* Only the [vhost] section's plugin_dir, so plugins can be found before the
 * rest of the file is validated.  Absolute paths; NULL when none. */
gchar **vh_pipeline_config_plugin_dirs (const char *path);
void vh_pipeline_config_free (VhPipelineConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VhPipelineConfig, vh_pipeline_config_free)

VhInstanceSpec *vh_pipeline_config_find_instance (VhPipelineConfig *config, const char *name);
/* Task types an instance serves; a wrapper's are the union of its children's. */
guint32 vh_pipeline_instance_types (VhPipelineConfig *config, VhRegistry *registry, const char *name, guint depth);
VhConfig *vh_config_new_empty (const char *name, const VhOption *schema);

/* Shared with the CLI: validate one value against its option type. */
gboolean vh_option_check_value (const VhOption *option, const char *value, GError **error);
const char *vh_option_type_name (VhOptionType type);
/* The closest candidate within a small edit distance, or NULL. */
const char *vh_suggest (const char *word, const char *const *candidates);
guint vh_task_type_bit (VhTaskType type);            /* 0..3 */
const char *vh_task_type_name (VhTaskType type);
gboolean vh_task_type_parse (const char *name, VhTaskType *type);

extern const VhOption vh_settings_schema[];
extern const VhOption vh_instance_std_schema[];

G_END_DECLS
#endif
