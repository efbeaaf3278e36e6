/* Internal declarations shared by the core's files (not part of the plugin ABI). */
#ifndef VH_PRIVATE_H
#define VH_PRIVATE_H

#include <vhost/plugin.h>
#include "i18n.h"

G_BEGIN_DECLS

/* http.c */
void     vh_http_global_init (void);

/* log.c */
void     vh_log_set_verbosity (VhLogLevel max_level);
void     vh_log_set_sink (void (*sink) (const char *line, gpointer data), gpointer data);

/* duration.c (vh_parse_duration_ms is public, in plugin.h) */
/* "1-50,77" -> sorted ranges; rows are 1-based data-row positions. */
gboolean vh_parse_ranges (const char *text, GArray **out_pairs, GError **error);
gboolean vh_ranges_contain (const GArray *pairs, guint64 value);

/* image.c */
VhImage *vh_image_to_submission_jpeg (const VhImage *image, gint quality, GError **error);

/* atomic file write: temp file in the same directory, fsync, rename, fsync dir. */
gboolean vh_write_file_atomic (const char *path, const void *data, gsize len, GError **error);

G_END_DECLS
#endif
