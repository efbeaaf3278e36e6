/* The run report: OUTPUT/report.json (per row: task type, instances tried,
 * timings, errors, detector verdicts; per task type: counts, failures,
 * detection rates) and OUTPUT/report.html, one self-contained page (images
 * inlined as data: URIs, no network resource) with a contact sheet of
 * thumbnails per task type. */
#ifndef VH_REPORT_H
#define VH_REPORT_H
#include "host.h"
#include "tasks.h"
#include "journal.h"

G_BEGIN_DECLS
/* Detector verdict scores at or above this count as "flagged" in rates. */
#define VH_REPORT_FLAG_SCORE 0.5

gboolean vh_report_write (VhHost *host, VhTaskTable *table, VhJournal *journal,
                          const char *output_dir, GError **error);
G_END_DECLS
#endif
