/* vh-json — the JSON helpers every HTTP plugin uses on a service's answers:
 * parse a whole-object answer, reach a member by a dotted path, read it as a
 * string or a number.  Compiled into libvhcommon (plugins/common). */
#ifndef VH_JSON_H
#define VH_JSON_H

#include <json-c/json.h>
#include "vhost/plugin.h"

G_BEGIN_DECLS

/* The whole body as one JSON object (only whitespace may follow it); else
 * NULL and an INTERNAL error "what: malformed JSON answer (n bytes)". */
json_object *vh_json_parse  (GBytes *bytes, const char *what, GError **error);
/* obj["a"]["b"]... for a dotted path ("output.code"); NULL when any step is
 * missing or not an object. */
json_object *vh_json_member (json_object *obj, const char *path);
/* The string at a dotted path; NULL when absent or of another type. */
const char  *vh_json_str    (json_object *obj, const char *path);
/* A number or a numeric string ("0.9796"); FALSE when neither. */
gboolean     vh_json_number (json_object *v, gdouble *out);
/* A JSON integer (not a string, not a double); FALSE otherwise. */
gboolean     vh_json_int    (json_object *v, gint64 *out);

G_END_DECLS
#endif /* VH_JSON_H */
