/* Logging with redaction.  Every secret read through vh_config_get_secret()
 * is registered here, and every line passes through vh_redact() before it is
 * printed, so a key can not leak through a provider's error message that
 * echoes a header back. */
#include "vh-private.h"
#include <stdio.h>
#include <string.h>

static GMutex redact_lock;
static GPtrArray *secrets;          /* gchar*, longest first */
static VhLogLevel max_level = VH_LOG_INFO;
static void (*log_sink) (const char *line, gpointer data);
static gpointer log_sink_data;

void
vh_log_set_verbosity (VhLogLevel level)
{
  max_level = level;
}

void
vh_log_set_sink (void (*sink) (const char *line, gpointer data), gpointer data)
{
  g_mutex_lock (&redact_lock);
  log_sink = sink;
  log_sink_data = data;
  g_mutex_unlock (&redact_lock);
}

static gint
longer_first (gconstpointer a, gconstpointer b)
{
  return (gint) strlen (*(const char *const *) b) - (gint) strlen (*(const char *const *) a);
}

void
vh_redact_register (const char *secret)
{
  /* Very short values would redact ordinary words; keys are never that short. */
  if (secret == NULL || strlen (secret) < 4)
    return;
  g_mutex_lock (&redact_lock);
  if (secrets == NULL)
    secrets = g_ptr_array_new_with_free_func (g_free);
  gboolean known = FALSE;
  for (guint i = 0; i < secrets->len && !known; i++)
    known = strcmp (secrets->pdata[i], secret) == 0;
  if (!known)
    {
      g_ptr_array_add (secrets, g_strdup (secret));
      g_ptr_array_sort (secrets, longer_first);
    }
  g_mutex_unlock (&redact_lock);
}

static gchar *
redact_locked (const char *text)
{
  GString *out = g_string_new (text);
  for (guint i = 0; secrets != NULL && i < secrets->len; i++)
    g_string_replace (out, secrets->pdata[i], "***", 0);
  return g_string_free (out, FALSE);
}

gchar *
vh_redact (const char *text)
{
  if (text == NULL)
    return NULL;
  g_mutex_lock (&redact_lock);
  gchar *r = redact_locked (text);
  g_mutex_unlock (&redact_lock);
  return r;
}

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void
vh_log (VhLogLevel level, const char *domain, const char *format, ...)
{
  if (level > max_level)
    return;
  va_list ap;
  va_start (ap, format);
  gchar *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree gchar *stamp = g_date_time_format (now, "%H:%M:%S");
  gchar *line = g_strdup_printf ("%s %s [%s] %s", stamp, level_names[CLAMP (level, 0, 3)],
                                 domain ? domain : "vhost", msg);
  g_free (msg);
  g_mutex_lock (&redact_lock);
  gchar *safe = redact_locked (line);
  if (log_sink != NULL)
    log_sink (safe, log_sink_data);
  else
    {
      /* The progress line lives on stderr too: start on a clean line. */
      fprintf (stderr, "\r\033[K%s\n", safe);
      fflush (stderr);
    }
  g_mutex_unlock (&redact_lock);
  g_free (safe);
  g_free (line);
}
