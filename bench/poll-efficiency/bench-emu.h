/* Helpers shared by the benches that run vhost against the emulator
 * (bench/poll-efficiency, bench/makespan). */
#ifndef BENCH_EMU_H
#define BENCH_EMU_H
#include <glib.h>
#include <json-c/json.h>

/* Runs $VH_BUILDDIR/vhost --config INI --quiet [ARGS...] with extra env
 * "K=V" entries; returns its exit status and the wall time in *wall_s. */
gint         be_run_vhost (const char *ini, const char *const *env, const char *const *args, gdouble *wall_s);
/* The same, also giving the child's CPU time (user + system) in *cpu_s. */
gint         be_run_vhost_cpu (const char *ini, const char *const *env, const char *const *args, gdouble *wall_s,
                               gdouble *cpu_s);
void         be_rm_rf (const char *path);
/* A JPEG of w x h with some texture at path (directories created). */
void         be_write_jpeg (const char *path, gint w, gint h, guint seed);
/* journal.jsonl as an array of objects, last line per index wins (NULL entries skipped). */
GHashTable  *be_journal_by_index (const char *journal_path);   /* index -> json_object* */
const char  *be_json_str (json_object *o, const char *dotted);
json_object *be_json_get (json_object *o, const char *dotted);
/* Modification time of a file, unix µs, or -1. */
gint64       be_mtime_us (const char *path);
/* GET /_emu/stats as JSON (NULL on failure). */
json_object *be_emu_stats (gpointer emu);
gint64       be_stat_int (json_object *stats, const char *key);
/* CPU seconds (user + system) used so far by this process's children named comm. */
gdouble      be_child_cpu_s (const char *comm);
#endif
