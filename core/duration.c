/* Small parsers for durations and row ranges used by the INI and the CLI. */
#include "vh-private.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

gboolean
vh_parse_duration_ms (const char *text, gint64 *out_ms, GError **error)
{
  g_autofree gchar *s = g_strstrip (g_strdup (text ? text : ""));
  char *end = NULL;
  errno = 0;
  gdouble value = g_ascii_strtod (s, &end);
  if (*s == '\0' || end == s || errno != 0 || value < 0 || !isfinite (value))
    goto bad;
  while (*end == ' ')
    end++;
  gdouble scale;
  if (*end == '\0' || strcmp (end, "s") == 0)
    scale = 1000;
  else if (strcmp (end, "ms") == 0)
    scale = 1;
  else if (strcmp (end, "m") == 0 || strcmp (end, "min") == 0)
    scale = 60000;
  else if (strcmp (end, "h") == 0)
    scale = 3600000;
  else
    goto bad;
  if (value * scale > (gdouble) G_MAXINT64 / 2)
    goto bad;
  *out_ms = (gint64) (value * scale + 0.5);
  return TRUE;
bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               _("“%s” is not a duration (expected e.g. 500ms, 2s, 1.5m, 1h)"), s);
  return FALSE;
}

static gint
cmp_pair (gconstpointer a, gconstpointer b)
{
  guint64 x = ((const guint64 *) a)[0], y = ((const guint64 *) b)[0];
  return x < y ? -1 : x > y;
}

gboolean
vh_parse_ranges (const char *text, GArray **out_pairs, GError **error)
{
  if (text == NULL || *g_strchug ((gchar *) (text = g_strdup (text))) == '\0')
    {
      g_free ((gchar *) text);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s", _("an empty row list (expected e.g. 1-50,77)"));
      return FALSE;
    }
  g_autofree gchar *owned = (gchar *) text;
  GArray *pairs = g_array_new (FALSE, FALSE, sizeof (guint64) * 2);
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  for (gchar **p = parts; *p; p++)
    {
      g_autofree gchar *item = g_strstrip (g_strdup (*p));
      guint64 lo, hi;
      char *dash = strchr (item, '-');
      if (dash)
        *dash = '\0';
      if (!g_ascii_string_to_unsigned (item, 10, 1, G_MAXUINT64, &lo, NULL)
          || (dash && !g_ascii_string_to_unsigned (dash + 1, 10, 1, G_MAXUINT64, &hi, NULL)))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not a row list (expected e.g. 1-50,77)"), text);
          g_array_unref (pairs);
          return FALSE;
        }
      if (!dash)
        hi = lo;
      if (hi < lo)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("row range %s-%s ends before it starts"), item, dash + 1);
          g_array_unref (pairs);
          return FALSE;
        }
      guint64 pair[2] = { lo, hi };
      g_array_append_vals (pairs, pair, 1);
    }
  g_array_sort (pairs, cmp_pair);
  *out_pairs = pairs;
  return TRUE;
}

gboolean
vh_ranges_contain (const GArray *pairs, guint64 value)
{
  for (guint i = 0; i < pairs->len; i++)
    {
      const guint64 *pair = (const guint64 *) (pairs->data + i * 2 * sizeof (guint64));
      if (value >= pair[0] && value <= pair[1])
        return TRUE;
    }
  return FALSE;
}
