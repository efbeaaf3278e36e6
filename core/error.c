/* The VH_ERROR domain.  It is an extended GError domain so a QUOTA error can
 * carry the server's Retry-After without encoding it in the message. */
#include "vh-private.h"

typedef struct {
  gint64 retry_after_ms;
} VhErrorPrivate;

static void vh_error_private_init (VhErrorPrivate *priv) { priv->retry_after_ms = -1; }
static void vh_error_private_copy (const VhErrorPrivate *src, VhErrorPrivate *dest) { *dest = *src; }
static void vh_error_private_clear (VhErrorPrivate *priv) { (void) priv; }

G_DEFINE_EXTENDED_ERROR (VhError, vh_error)

static const char *const class_names[] = {
  [VH_ERROR_TRANSIENT] = "transient",
  [VH_ERROR_QUOTA] = "quota",
  [VH_ERROR_REJECTED] = "rejected",
  [VH_ERROR_INVALID_INPUT] = "invalid-input",
  [VH_ERROR_AUTH] = "auth",
  [VH_ERROR_CANCELLED] = "cancelled",
  [VH_ERROR_INTERNAL] = "internal",
};

const char *
vh_error_class_name (VhErrorClass klass)
{
  if ((guint) klass < G_N_ELEMENTS (class_names))
    return class_names[klass];
  return "internal";
}

void
vh_set_error (GError **error, VhErrorClass klass, gint64 retry_after_ms, const char *format, ...)
{
  if (error == NULL)
    return;
  va_list ap;
  va_start (ap, format);
  gchar *message = g_strdup_vprintf (format, ap);
  va_end (ap);
  GError *e = g_error_new_literal (VH_ERROR, klass, message);
  g_free (message);
  VhErrorPrivate *priv = vh_error_get_private (e);
  if (priv != NULL)
    priv->retry_after_ms = retry_after_ms;
  g_propagate_error (error, e);
}

gint64
vh_error_retry_after_ms (const GError *error)
{
  if (error == NULL || error->domain != VH_ERROR)
    return -1;
  VhErrorPrivate *priv = vh_error_get_private (error);
  return priv ? priv->retry_after_ms : -1;
}

VhErrorClass
vh_error_class (const GError *error)
{
  if (error == NULL)
    return VH_ERROR_INTERNAL;
  if (error->domain == VH_ERROR && (guint) error->code < G_N_ELEMENTS (class_names))
    return (VhErrorClass) error->code;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return VH_ERROR_CANCELLED;
  return VH_ERROR_INTERNAL;
}

gboolean
vh_sleep_ms (gint64 ms, GCancellable *cancel, GError **error)
{
  /* Waits on the cancellable's fd-less condition: poll in short slices so a
   * cancel is seen within 50 ms without needing a main loop in the worker. */
  gint64 end = g_get_monotonic_time () + ms * 1000;
  for (;;)
    {
      if (cancel != NULL && g_cancellable_is_cancelled (cancel))
        {
          vh_set_error (error, VH_ERROR_CANCELLED, -1, "%s", _("cancelled"));
          return FALSE;
        }
      gint64 left = end - g_get_monotonic_time ();
      if (left <= 0)
        return TRUE;
      g_usleep (MIN (left, 50000));
    }
}
