/* Shared helpers of the provider tests: load a built plugin the way the
 * registry does (GModule, descriptor symbol), build its VhConfig through the
 * core's config API, make test images, read the emulator's request log. */
#ifndef PROV_COMMON_H
#define PROV_COMMON_H

#include <json-c/json.h>
#include "vhost/plugin.h"
#include "vh-private.h"
#include "vh-config.h"
#include "emu-harness.h"

typedef struct {
  const VhPlugin *plugin;
  VhConfig       *config;
  gpointer        self;
} ProvInstance;

/* The descriptor of $VH_BUILDDIR/plugins/NAME/.libs/NAME.so (module kept resident). */
const VhPlugin *prov_load_plugin (const char *name);

/* create() with the given "key", "value", ..., NULL pairs; NULL + error on failure. */
ProvInstance *prov_instance_new (const char *plugin_name, const char *instance, GError **error, ...)
  G_GNUC_NULL_TERMINATED;
void          prov_instance_free (ProvInstance *inst);

/* One run() of a row; `type` "t2i", "tie", "vttie". */
gboolean      prov_run (ProvInstance *inst, const char *type, const char *prompt, const VhImage *input,
                        VhImage **output, GCancellable *cancel, GError **error);

/* A synthetic image: gradient plus blocks, JPEG or PNG. */
VhImage      *prov_image (gint width, gint height, VhImageFormat format);
/* An RGBA PNG (alpha channel varies) written with libpng, as a VhImage. */
VhImage      *prov_rgba_png (gint width, gint height);
/* Width and height of an encoded image (decodes it). */
void          prov_image_size (const VhImage *image, gint *width, gint *height);

/* The emulator's request log as parsed JSON (array), recorded since the last reset. */
json_object  *prov_requests (VhEmu *emu);
/* Requests whose path contains `fragment`, in order (borrowed from `log`). */
GPtrArray    *prov_requests_matching (json_object *log, const char *fragment);
json_object  *prov_json_path (json_object *obj, const char *dotted);
/* The last request whose path contains `fragment` (asserts there is one);
 * a new reference, caller puts it. */
json_object  *prov_last_request (VhEmu *emu, const char *fragment);

/* Fails the test unless `out` keeps the in_w:in_h aspect within the factor
 * `tolerance` (1.03 = 3 %). */
void          prov_assert_aspect (const VhImage *out, gint in_w, gint in_h, double tolerance);

/* Asserts `error` is a VH_ERROR of `klass` (prints the message otherwise). */
#define prov_assert_class(error, klass) \
  G_STMT_START { \
    g_assert_nonnull (error); \
    g_test_message ("%s: %s", vh_error_class_name (vh_error_class (error)), (error)->message); \
    if (vh_error_class (error) != (klass)) \
      g_error ("expected class %s, got %s: %s", vh_error_class_name (klass), \
               vh_error_class_name (vh_error_class (error)), (error)->message); \
  } G_STMT_END

/* Log lines captured through the core's log sink. */
void          prov_log_capture_start (void);
gchar        *prov_log_capture_stop (void);   /* all lines joined, caller frees */

/* Starts the emulator with fast timelines (time_scale) and `extra` JSON
 * members merged in ("" for none); skips the test when it cannot start. */
VhEmu        *prov_emu_start (const char *extra_json);
gchar        *prov_dashscope_base (VhEmu *emu);   /* .../api/v1 */
gchar        *prov_bfl_base (VhEmu *emu);         /* .../bfl */
void          prov_emu_faults (VhEmu *emu, const char *faults_json);
/* Startup configuration back, faults and the request log cleared. */
void          prov_emu_reset (VhEmu *emu);

#endif
