/* bl-client — a faithful re-implementation, in C with libcurl, of the
 * contest baseline's client loop, used as the reference of the benches
 * (bench/poll-efficiency, bench/makespan):
 *
 *   submit; do { sleep 2 s; poll } while running; download; write the file
 *
 * one row at a time per calling thread, no back-off, no quota handling.
 * The baseline has no retry policy of its own; to make it finish a row under
 * injected faults it starts the row again (after one more poll interval)
 * when a submission, the task or the download fails, and it keeps polling
 * through a failed poll.  That is kinder to it than the original, which
 * stops at the first exception.
 *
 * The 2 s interval is a parameter so a bench running the emulator with
 * time_scale S can poll every 2 s x S, keeping the reference's schedule
 * identical in emulated time. */
#ifndef BL_CLIENT_H
#define BL_CLIENT_H
#include <glib.h>

typedef enum {
  BL_DS_T2I,        /* DashScope text2image (async) */
  BL_DS_IMAGEEDIT,  /* DashScope image2image wanx2.1-imageedit description_edit (async) */
  BL_BFL_KONTEXT,   /* Black Forest Labs flux-kontext-* (submit + polling_url) */
} BlKind;

typedef struct {
  const char *base_url;       /* http://127.0.0.1:PORT of the emulator */
  const char *ds_key, *bfl_key;
  gint64      poll_ms;        /* the baseline's 2000, times the time_scale */
  guint       max_attempts;   /* whole-row restarts after a failure */
} BlConfig;

typedef struct {
  gboolean ok;
  guint    requests;          /* HTTP requests this row sent (submits, polls, downloads) */
  guint    attempts;          /* submissions */
  gint64   file_written_us;   /* g_get_real_time () once the image file was written */
  gchar   *task_id;           /* the successful task (DashScope task_id / BFL id) */
} BlResult;

/* One row, blocking.  `input` (JPEG bytes) for edits, NULL for t2i; `size`
 * ("W*H") for DashScope t2i.  The downloaded image is written to out_path. */
gboolean bl_run_row (const BlConfig *cfg, BlKind kind, const char *model, const char *prompt,
                     const char *size, GBytes *input, const char *out_path, BlResult *res);
void     bl_result_clear (BlResult *res);

/* "2026-01-02 03:04:05.678" (DashScope's local-time stamps) as unix µs, or -1. */
gint64   bl_parse_ds_time (const char *text);

#endif
