#include "progress.h"
#include <stdio.h>

static gchar *
fmt_duration (gint64 s)
{
  if (s >= 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT "h%02" G_GINT64_FORMAT "m", s / 3600, s / 60 % 60);
  if (s >= 60)
    return g_strdup_printf ("%" G_GINT64_FORMAT "m%02" G_GINT64_FORMAT "s", s / 60, s % 60);
  return g_strdup_printf ("%" G_GINT64_FORMAT "s", s);
}

gchar *
vh_progress_format (const VhProgress *p, gint64 now_us)
{
  guint finished = p->done + p->failed;
  gint64 elapsed = (now_us - p->started_us) / G_USEC_PER_SEC;
  g_autofree gchar *el = fmt_duration (elapsed);
  g_autofree gchar *eta = NULL;
  if (finished > 0 && finished < p->total)
    eta = fmt_duration ((gint64) ((gdouble) (now_us - p->started_us) / finished * (p->total - finished) / G_USEC_PER_SEC));
  /* TRANSLATORS: progress line; done/failed/running are row counts */
  return g_strdup_printf (_("%u/%u done, %u failed, %u running, %s elapsed, ETA %s"),
                          p->done, p->total, p->failed, p->running, el, eta ? eta : "-");
}

void
vh_progress_print (const VhProgress *p, gboolean tty, gboolean final)
{
  g_autofree gchar *line = vh_progress_format (p, g_get_monotonic_time ());
  if (tty)
    fprintf (stderr, "\r\033[K%s%s", line, final ? "\n" : "");
  else
    fprintf (stderr, _("progress: %s\n"), line);
  fflush (stderr);
}
