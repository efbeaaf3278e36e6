/* The progress line: rewritten in place on a terminal, a plain line every
 * progress_interval otherwise (logs, CI). */
#ifndef VH_PROGRESS_H
#define VH_PROGRESS_H
#include "vh-private.h"

G_BEGIN_DECLS
typedef struct {
  guint  total, done, failed, running;
  gint64 started_us;
} VhProgress;

gchar *vh_progress_format (const VhProgress *p, gint64 now_us);
void   vh_progress_print (const VhProgress *p, gboolean tty, gboolean final);
G_END_DECLS
#endif
