/* vh-json.c — JSON helpers shared by the plugins (see vh-json.h). */
#include <math.h>
#include "vh-json.h"

json_object *
vh_json_parse (GBytes *bytes, const char *what, GError **error)
{
  gsize len = 0;
  const char *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;
  json_tokener *tok = json_tokener_new ();
  json_object *obj = len > 0 ? json_tokener_parse_ex (tok, data, (int) MIN (len, (gsize) G_MAXINT)) : NULL;
  gboolean ok = obj != NULL && json_tokener_get_error (tok) == json_tokener_success;
  /* Only whitespace may follow the document. */
  for (gsize i = ok ? json_tokener_get_parse_end (tok) : len; i < len; i++)
    if (!g_ascii_isspace (data[i]))
      ok = FALSE;
  json_tokener_free (tok);
  if (!ok || !json_object_is_type (obj, json_type_object))
    {
      json_object_put (obj);
      vh_set_error (error, VH_ERROR_INTERNAL, -1, "%s: malformed JSON answer (%" G_GSIZE_FORMAT " bytes)", what, len);
      return NULL;
    }
  return obj;
}

json_object *
vh_json_member (json_object *obj, const char *path)
{
  g_auto(GStrv) steps = g_strsplit (path, ".", -1);
  for (gchar **s = steps; obj != NULL && *s != NULL; s++)
    {
      json_object *next = NULL;
      if (!json_object_is_type (obj, json_type_object) || !json_object_object_get_ex (obj, *s, &next))
        return NULL;
      obj = next;
    }
  return obj;
}

const char *
vh_json_str (json_object *obj, const char *path)
{
  json_object *v = vh_json_member (obj, path);
  return v != NULL && json_object_is_type (v, json_type_string) ? json_object_get_string (v) : NULL;
}

gboolean
vh_json_number (json_object *v, gdouble *out)
{
  if (v == NULL)
    return FALSE;
  if (json_object_is_type (v, json_type_double) || json_object_is_type (v, json_type_int))
    {
      *out = json_object_get_double (v);
      return isfinite (*out);
    }
  if (json_object_is_type (v, json_type_string))
    {
      const char *s = json_object_get_string (v);
      gchar *end = NULL;
      gdouble d = g_ascii_strtod (s, &end);
      while (end != NULL && g_ascii_isspace (*end))
        end++;
      if (end == s || end == NULL || *end != '\0' || !isfinite (d))
        return FALSE;
      *out = d;
      return TRUE;
    }
  return FALSE;
}

gboolean
vh_json_int (json_object *v, gint64 *out)
{
  if (v == NULL || !json_object_is_type (v, json_type_int))
    return FALSE;
  *out = json_object_get_int64 (v);
  return TRUE;
}
