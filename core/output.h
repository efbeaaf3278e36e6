/* What the contest receives: OUTPUT/imgs/<index>.jpg (RGB JPEG, written
 * atomically), OUTPUT/result.csv (UTF-8 with BOM, index,gen_image, task.csv
 * order and count) and OUTPUT/result.zip under a size cap. */
#ifndef VH_OUTPUT_H
#define VH_OUTPUT_H
#include "vh-private.h"
#include "tasks.h"

G_BEGIN_DECLS

gchar   *vh_output_image_path (const char *output_dir, const char *index);
/* Re-encodes whatever a plugin returned as an RGB JPEG and writes it atomically. */
gboolean vh_output_write_image (const char *output_dir, const char *index, const VhImage *image,
                                gint quality, GError **error);
/* TRUE when imgs/<index>.jpg exists and decodes completely. */
gboolean vh_output_image_ok (const char *output_dir, const char *index);
/* result.csv for every row of the table, in order. */
gboolean vh_output_write_csv (const char *output_dir, VhTaskTable *table, GError **error);
gboolean vh_output_write_zip (const char *output_dir, VhTaskTable *table, guint64 max_bytes, GError **error);

G_END_DECLS
#endif
