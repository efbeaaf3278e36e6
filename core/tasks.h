/* The contest's task.csv: RFC 4180 with or without a BOM, CRLF or LF,
 * quoted fields spanning lines, strict UTF-8, and image paths that must stay
 * inside the images folder. */
#ifndef VH_TASKS_H
#define VH_TASKS_H
#include "vh-private.h"

G_BEGIN_DECLS

typedef struct {
  VhTask   task;         /* what plugins see */
  guint    position;     /* 1-based position among data rows (for --rows) */
  gchar   *index, *prompt, *ori_image, *target_image;
} VhTaskRow;

typedef struct {
  gchar     *path;
  GPtrArray *rows;       /* VhTaskRow*, file order */
} VhTaskTable;

/* Every problem found is appended to `problems` ("FILE:LINE: reason"); the
 * table is returned only when there are none. */
VhTaskTable *vh_task_table_load (const char *path, const char *images_dir, GPtrArray *problems);
/* Only the index column, in order, without checking images (for validate). */
GPtrArray   *vh_task_table_read_indexes (const char *path, GError **error);
void         vh_task_table_free (VhTaskTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VhTaskTable, vh_task_table_free)

/* CSV records from a buffer (exposed for tests and for result.csv checks). */
typedef struct {
  GPtrArray *fields;     /* gchar* */
  guint      line;       /* line the record starts on */
} VhCsvRecord;
GPtrArray *vh_csv_parse (const char *data, gsize len, GError **error);  /* of VhCsvRecord*, free with g_ptr_array_unref */

G_END_DECLS
#endif
