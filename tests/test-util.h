/* Helpers for end-to-end tests that run the real vhost binary. */
#ifndef VH_TEST_UTIL_H
#define VH_TEST_UTIL_H
#include <glib.h>

typedef struct {
  gint   status;        /* exit code, or 128+signal */
  gchar *out, *err;
} VhtResult;

gchar   *vht_tmpdir (void);
void     vht_rm_rf (const char *path);
void     vht_write (const char *dir, const char *name, const char *text);
/* A small solid JPEG (or PNG when png is TRUE) at dir/name. */
void     vht_write_image (const char *dir, const char *name, gint w, gint h, gboolean png);
/* Runs $VH_BUILDDIR/vhost with argv (NULL-terminated) and extra env "K=V" entries. */
VhtResult *vht_vhost (const char *const *env, const char *first_arg, ...) G_GNUC_NULL_TERMINATED;
void     vht_result_free (VhtResult *r);
/* Starts vhost in the background; returns the pid. */
GPid     vht_vhost_spawn (const char *const *env, const char *const *argv);
gint     vht_wait (GPid pid);
gchar   *vht_sha256_file (const char *path);
gchar   *vht_read (const char *path);
/* A task set: n rows of each type in `dir`, task.csv + images/. */
void     vht_make_tasks (const char *dir, guint per_type);
/* A fresh temporary run directory: *dir, and the paths of its pipeline.ini
 * and of its out/ folder. */
void     vht_run_dir_new (gchar **dir, gchar **ini, gchar **out);
/* Removes dir unless the environment variable keep_env is set (then says
 * where it was kept); frees the three paths. */
void     vht_run_dir_free (gchar *dir, gchar *ini, gchar *out, const char *keep_env);
/* out_dir/journal.jsonl: index -> the last line of that index (json_object*,
 * owned by the table).  Every non-empty line must be JSON; lines without an
 * index are left out. */
GHashTable *vht_read_journal (const char *out_dir);
/* A member of a row's line as a string; NULL when the row or member is absent. */
const char *vht_journal_field (GHashTable *rows, const char *index, const char *name);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VhtResult, vht_result_free)
#endif
