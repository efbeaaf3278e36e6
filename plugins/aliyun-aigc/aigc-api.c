/* aigc-api.c — ImageModeration on an uploaded object, its answer and the
 * verdict. */
#include <string.h>
#include "aigc-private.h"

/* Business codes (integer Code in the body, aliyun-green-aigc.md section 5).
 * Unknown 4xx-like codes can not succeed by retrying, unknown 5xx-like can. */
VhErrorClass
aigc_code_class (gint64 code)
{
  switch (code)
    {
    case 401:
    case 403:
      return VH_ERROR_AUTH;
    case 429:
      return VH_ERROR_QUOTA;
    case 480:              /* the object could not be fetched in time */
      return VH_ERROR_TRANSIENT;
    default:
      if (code >= 500)
        return VH_ERROR_TRANSIENT;
      if (code >= 400)
        return VH_ERROR_INVALID_INPUT;
      return VH_ERROR_INTERNAL;
    }
}

static gdouble
level_score (const char *level)
{
  if (level == NULL)
    return 1.0;
  if (g_ascii_strcasecmp (level, "high") == 0)
    return 1.0;
  if (g_ascii_strcasecmp (level, "medium") == 0)
    return 2.0 / 3.0;
  if (g_ascii_strcasecmp (level, "low") == 0)
    return 1.0 / 3.0;
  return 0.0;
}

static gboolean
contains_ci (const char *text, const char *needle)
{
  g_autofree gchar *l = g_ascii_strdown (text, -1);
  return strstr (l, needle) != NULL;
}

/* Score (0..1, how likely AI-generated), the highest of:
 *  - a label containing "aigc" (any case; the exact strings are not
 *    published): its Confidence / 100, or without a confidence its own
 *    RiskLevel (high 1, medium 2/3, low 1/3, none 0; absent 1);
 *  - a "ugc" label (the detector's other class): 1 - Confidence / 100;
 *  - Ext.AigcData.AIGC.Label of the implicit-identifier editions:
 *    "1" AI-generated 1, "2" possibly 2/3, "3" suspected 1/2.
 * Any other label (another service's, "nonLabel") adds 0.  Level: Data.RiskLevel. */
gboolean
aigc_verdict (json_object *data, VhVerdict *v)
{
  gdouble best = 0;
  json_object *results = vh_json_member (data, "Result");
  if (results != NULL && json_object_is_type (results, json_type_array))
    for (size_t i = 0; i < json_object_array_length (results); i++)
      {
        json_object *r = json_object_array_get_idx (results, i);
        const char *label = vh_json_str (r, "Label");
        if (label == NULL)
          continue;
        vh_verdict_add_label (v, label);
        gdouble conf = -1, s = 0;
        gboolean has_conf = vh_json_number (vh_json_member (r, "Confidence"), &conf);
        if (contains_ci (label, "aigc"))
          s = has_conf ? conf / 100.0 : level_score (vh_json_str (r, "RiskLevel"));
        else if (contains_ci (label, "ugc") && has_conf)
          s = 1.0 - conf / 100.0;
        best = MAX (best, s);
      }
  json_object *aigc = vh_json_member (vh_json_member (vh_json_member (data, "Ext"), "AigcData"), "AIGC");
  const char *mark = vh_json_str (aigc, "Label");
  if (mark != NULL)
    {
      g_autofree gchar *label = g_strconcat ("AigcData.AIGC.Label=", mark, NULL);
      vh_verdict_add_label (v, label);
      best = MAX (best, strcmp (mark, "1") == 0 ? 1.0 : strcmp (mark, "2") == 0 ? 2.0 / 3.0
                        : strcmp (mark, "3") == 0 ? 0.5 : 0.0);
    }
  v->score = CLAMP (best, 0.0, 1.0);
  const char *level = vh_json_str (data, "RiskLevel");
  v->level = g_strdup (level != NULL ? level : "");
  return TRUE;
}

gboolean
aigc_moderate (Aigc *a, const char *bucket, const char *object, const char *data_id, GCancellable *cancel,
               VhVerdict *v, GError **error)
{
  json_object *sp = json_object_new_object ();
  json_object_object_add (sp, "ossBucketName", json_object_new_string (bucket));
  json_object_object_add (sp, "ossObjectName", json_object_new_string (object));
  json_object_object_add (sp, "dataId", json_object_new_string (data_id));
  g_autofree gchar *params = g_strdup (json_object_to_json_string_ext (sp, JSON_C_TO_STRING_PLAIN
                                                                              | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put (sp);
  VhSignParam form[] = { { "Service", a->service }, { "ServiceParameters", params } };
  VhAcsCall call = {
    .endpoint = a->endpoint, .method = "POST", .action = "ImageModeration", .version = AIGC_VERSION,
    .form = form, .n_form = G_N_ELEMENTS (form),
  };
  VhAcsReply reply;
  json_object *body = vh_acs_call (&a->acs, &call, cancel, &reply, error);
  if (body == NULL)
    return FALSE;
  gboolean ok = FALSE;
  json_object *code = vh_json_member (body, "Code");
  gboolean numeric = code != NULL && (json_object_is_type (code, json_type_int)
                                      || (json_object_is_type (code, json_type_string)
                                          && g_ascii_isdigit (*json_object_get_string (code))));
  gint64 c = numeric ? json_object_get_int64 (code) : 0;
  if (reply.status >= 200 && reply.status < 300 && numeric && c == 200)
    {
      json_object *data = vh_json_member (body, "Data");
      if (data == NULL || !json_object_is_type (data, json_type_object))
        vh_set_error (error, VH_ERROR_INTERNAL, -1, "ImageModeration: Code 200 without Data");
      else
        ok = aigc_verdict (data, v);
    }
  else if (numeric && c != 200)
    {
      const char *msg = vh_json_str (body, "Msg");
      const char *rid = vh_json_str (body, "RequestId");
      VhErrorClass klass = aigc_code_class (c);
      vh_set_error (error, klass, klass == VH_ERROR_QUOTA || klass == VH_ERROR_TRANSIENT ? reply.retry_after_ms : -1,
                    "ImageModeration: Code %" G_GINT64_FORMAT "%s%s (HTTP %ld%s%s)", c, msg != NULL ? ": " : "",
                    msg != NULL ? msg : "", reply.status, rid != NULL ? ", RequestId " : "", rid != NULL ? rid : "");
    }
  else
    vh_acs_set_error (error, "ImageModeration", &reply, body, "Code", "Message");   /* gateway (POP) error */
  json_object_put (body);
  return ok;
}
