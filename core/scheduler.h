/* One run: select the rows to do, run them on a GThreadPool through their
 * route's chain, write images and journal lines as rows finish, stop cleanly
 * on SIGINT/SIGTERM, then write result.csv and the zip. */
#ifndef VH_SCHEDULER_H
#define VH_SCHEDULER_H
#include <stdio.h>
#include "host.h"
#include "tasks.h"
#include "journal.h"

G_BEGIN_DECLS

typedef struct {
  gboolean  retry_failed;
  guint32   only_types;     /* 0 = all */
  GArray   *rows;           /* ranges of 1-based positions, NULL = all */
  guint     shard_k, shard_n;  /* shard_n 0 = no sharding; rows with (position-1) % n == k-1 */
  gboolean  quiet;
} VhSelection;

typedef struct {
  guint rows, selected, already_done, done, failed, skipped_failed, cancelled;
  guint last_resort;     /* done, but with a wrapper's last-resort image */
  gint64 ms_sum;
} VhTypeStats;

typedef struct {
  VhTypeStats per_type[4];
  gboolean    interrupted;
  gboolean    zip_written;
  gchar      *zip_problem;   /* why the zip was not written, or NULL */
} VhRunResult;

/* Returns the process exit code: 0 all selected rows done, 2 some failed,
 * 130 interrupted. */
int vh_run_pipeline (VhHost *host, VhTaskTable *table, const char *output_dir,
                     const VhSelection *selection, VhRunResult *result);
void vh_run_result_clear (VhRunResult *result);
void vh_run_print_summary (const VhRunResult *result, FILE *out);
/* Calls, failures, 429s and timeouts per instance, with effective limits. */
void vh_run_print_instances (VhHost *host, FILE *out);
/* For tests: ask a running vh_run_pipeline() to stop as on SIGINT. */
void vh_run_request_stop (void);

G_END_DECLS
#endif
