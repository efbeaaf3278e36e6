/* The temporary-upload flow of DashScope: a policy from
 * GET /api/v1/uploads?action=getPolicy (built here, served by
 * emu-dashscope.c) and a fake OSS bucket taking the browser-style form
 * POST at /oss.  An upload is bound to the API key and the model named in
 * the policy, like the real service, so an oss:// URL used with another
 * model or without the resolve header fails the way it does there. */
#include "emu.h"
#include <string.h>

#define POLICY_TTL_S 300
#define OBJECT_TTL_S (48 * 3600)
#define MAX_FILE_MB 100

typedef struct {
  GBytes *bytes;
  gchar  *model, *api_key;   /* api_key: SHA-1 hex of the uploader's key */
  gint64  expires_us;
} EmuOssObject;

static void
object_free (EmuOssObject *o)
{
  g_bytes_unref (o->bytes);
  g_free (o->model);
  g_free (o->api_key);
  g_free (o);
}

void
emu_oss_clear (EmuServer *emu)
{
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, emu->oss_objects);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      g_hash_table_iter_steal (&it);
      g_free (k);
      object_free (v);
    }
}

static gchar *
sign (EmuServer *emu, const char *policy)
{
  gchar *hex = g_compute_hmac_for_string (G_CHECKSUM_SHA256, (const guchar *) emu->oss_secret,
                                          strlen (emu->oss_secret), policy, -1);
  gchar *b64 = g_base64_encode ((const guchar *) hex, 32);
  g_free (hex);
  return b64;
}

json_object *
emu_oss_policy (EmuServer *emu, const char *model, const char *api_key)
{
  gint64 now = g_get_real_time ();
  gchar *acct = g_compute_checksum_for_string (G_CHECKSUM_SHA1, api_key, -1);
  GDateTime *dt = g_date_time_new_now_utc ();
  gchar *day = g_date_time_format (dt, "%Y-%m-%d");
  g_date_time_unref (dt);
  gchar *rnd = emu_new_id (emu, NULL);
  gchar *dir = g_strdup_printf ("dashscope-instant/%.32s/%s/%s", acct, day, rnd);
  json_object *p = json_object_new_object ();
  json_object_object_add (p, "expiration_us", json_object_new_int64 (now + POLICY_TTL_S * G_USEC_PER_SEC));
  json_object_object_add (p, "model", json_object_new_string (model));
  json_object_object_add (p, "api_key_sha1", json_object_new_string (acct));
  json_object_object_add (p, "upload_dir", json_object_new_string (dir));
  const char *ptext = json_object_to_json_string_ext (p, JSON_C_TO_STRING_PLAIN);
  gchar *policy = g_base64_encode ((const guchar *) ptext, strlen (ptext));
  gchar *signature = sign (emu, policy);
  gchar *host = g_strdup_printf ("%s/oss", emu->base_url);

  json_object *d = json_object_new_object ();
  json_object_object_add (d, "policy", json_object_new_string (policy));
  json_object_object_add (d, "signature", json_object_new_string (signature));
  json_object_object_add (d, "upload_dir", json_object_new_string (dir));
  json_object_object_add (d, "upload_host", json_object_new_string (host));
  json_object_object_add (d, "expire_in_seconds", json_object_new_int (POLICY_TTL_S));
  json_object_object_add (d, "max_file_size_mb", json_object_new_int (MAX_FILE_MB));
  json_object_object_add (d, "capacity_limit_mb", json_object_new_int (999999999));
  json_object_object_add (d, "oss_access_key_id", json_object_new_string ("LTAIemulatorAccessKey"));
  json_object_object_add (d, "x_oss_object_acl", json_object_new_string ("private"));
  json_object_object_add (d, "x_oss_forbid_overwrite", json_object_new_string ("true"));
  json_object_put (p);
  g_free (acct);
  g_free (day);
  g_free (rnd);
  g_free (dir);
  g_free (policy);
  g_free (signature);
  g_free (host);
  return d;
}

GBytes *
emu_oss_lookup (EmuServer *emu, const char *oss_url, const char *model, const char *api_key)
{
  if (!g_str_has_prefix (oss_url, "oss://"))
    return NULL;
  EmuOssObject *o = g_hash_table_lookup (emu->oss_objects, oss_url + 6);
  gchar *acct = g_compute_checksum_for_string (G_CHECKSUM_SHA1, api_key ? api_key : "", -1);
  gboolean ok = o && g_get_real_time () < o->expires_us && !g_strcmp0 (o->model, model)
                && !g_strcmp0 (o->api_key, acct);
  g_free (acct);
  return ok ? g_bytes_ref (o->bytes) : NULL;
}

/* ------------------------------------------------------------ form POST */

static void
oss_error (EmuRequest *req, guint status, const char *code, const char *message)
{
  gchar *rid = emu_new_id (req->emu, NULL);
  gchar *body = g_strdup_printf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>%s</Code>\n"
                                 "  <Message>%s</Message>\n  <RequestId>%s</RequestId>\n"
                                 "  <HostId>127.0.0.1</HostId>\n</Error>\n",
                                 code ? code : (status == 429 ? "SlowDown" : "InternalError"),
                                 message ? message : "Please try again.", rid);
  emu_reply_text (req, status, "application/xml", body);
  g_free (body);
  g_free (rid);
}

/* Form fields by name; `file` keeps its position to check it came last. */
typedef struct {
  GHashTable *fields;       /* name -> gchar* */
  GBytes     *file;
  gchar      *filename;
  gboolean    file_last;
} Form;

static gboolean
parse_form (EmuRequest *req, Form *f)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (req->msg);
  SoupMultipart *mp = soup_multipart_new_from_message (hdrs, req->body);
  if (!mp)
    return FALSE;
  f->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  int n = soup_multipart_get_length (mp);
  for (int i = 0; i < n; i++)
    {
      SoupMessageHeaders *ph;
      GBytes *pb;
      if (!soup_multipart_get_part (mp, i, &ph, &pb))
        continue;
      char *disp = NULL;
      GHashTable *params = NULL;
      if (!soup_message_headers_get_content_disposition (ph, &disp, &params))
        continue;
      const char *name = g_hash_table_lookup (params, "name");
      if (name && !strcmp (name, "file"))
        {
          if (f->file)
            g_bytes_unref (f->file);
          f->file = g_bytes_ref (pb);
          g_free (f->filename);
          f->filename = g_strdup (g_hash_table_lookup (params, "filename"));
          f->file_last = (i == n - 1);
        }
      else if (name)
        g_hash_table_replace (f->fields, g_strdup (name),
                              g_strndup (g_bytes_get_data (pb, NULL), g_bytes_get_size (pb)));
      g_free (disp);
      g_hash_table_destroy (params);
    }
  soup_multipart_free (mp);
  return TRUE;
}

static void
form_clear (Form *f)
{
  if (f->fields)
    g_hash_table_destroy (f->fields);
  if (f->file)
    g_bytes_unref (f->file);
  g_free (f->filename);
}

static void
oss_handle (EmuRequest *req)
{
  EmuServer *emu = req->emu;
  emu_request_set_endpoint (req, "oss", EMU_KIND_OTHER, NULL);
  if (strcmp (req->method, "POST"))
    {
      /* Uploaded objects can not be read back, as documented. */
      oss_error (req, 403, "AccessDenied", "You have no right to access this object because of bucket acl.");
      return;
    }
  if (emu_faults_request (req, oss_error))
    return;
  Form f = { 0 };
  if (!parse_form (req, &f))
    {
      oss_error (req, 400, "InvalidArgument", "The body of your POST request is not well-formed multipart/form-data.");
      return;
    }
  const char *policy = g_hash_table_lookup (f.fields, "policy");
  const char *signature = g_hash_table_lookup (f.fields, "Signature");
  const char *key = g_hash_table_lookup (f.fields, "key");
  const char *akid = g_hash_table_lookup (f.fields, "OSSAccessKeyId");
  const char *status_field = g_hash_table_lookup (f.fields, "success_action_status");
  const char *forbid = g_hash_table_lookup (f.fields, "x-oss-forbid-overwrite");
  json_object *pol = NULL;
  gchar *expected = NULL;
  if (!policy || !signature || !key || !akid)
    {
      oss_error (req, 400, "InvalidArgument", "Missing one of the form fields policy, Signature, key, OSSAccessKeyId.");
      goto out;
    }
  if (!f.file)
    {
      oss_error (req, 400, "InvalidArgument", "The form has no file field.");
      goto out;
    }
  if (!f.file_last)
    {
      oss_error (req, 400, "InvalidArgument", "The file field must be the last form field.");
      goto out;
    }
  expected = sign (emu, policy);
  if (strcmp (expected, signature))
    {
      oss_error (req, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.");
      goto out;
    }
  gsize plen = 0;
  guchar *ptext = g_base64_decode (policy, &plen);
  gchar *pstr = g_strndup ((const char *) ptext, plen);
  pol = json_tokener_parse (pstr);
  g_free (ptext);
  g_free (pstr);
  json_object *exp = emu_json_get (pol, "expiration_us");
  if (!exp || g_get_real_time () >= json_object_get_int64 (exp))
    {
      oss_error (req, 403, "AccessDenied", "Invalid according to Policy: Policy expired.");
      goto out;
    }
  const char *dir = emu_json_string (pol, "upload_dir");
  if (!dir || !g_str_has_prefix (key, dir) || key[strlen (dir)] != '/')
    {
      oss_error (req, 403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\", upload_dir]");
      goto out;
    }
  if (g_bytes_get_size (f.file) > (gsize) MAX_FILE_MB * 1024 * 1024)
    {
      oss_error (req, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.");
      goto out;
    }
  if (g_hash_table_contains (emu->oss_objects, key) && !g_strcmp0 (forbid, "true"))
    {
      oss_error (req, 409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.");
      goto out;
    }
  /* The form carries no API key: the signed policy names the account (as a
   * key hash) and the model, and oss:// lookups compare against both. */
  EmuOssObject *o = g_new0 (EmuOssObject, 1);
  o->bytes = g_bytes_ref (f.file);
  o->model = g_strdup (emu_json_string (pol, "model"));
  o->api_key = g_strdup (emu_json_string (pol, "api_key_sha1"));
  o->expires_us = g_get_real_time () + (gint64) OBJECT_TTL_S * G_USEC_PER_SEC;
  gpointer old_key = NULL, old_val = NULL;
  if (g_hash_table_steal_extended (emu->oss_objects, key, &old_key, &old_val))
    {
      g_free (old_key);
      object_free (old_val);
    }
  g_hash_table_insert (emu->oss_objects, g_strdup (key), o);
  emu_stat_inc (emu, "oss_uploads");
  if (!g_strcmp0 (status_field, "200"))
    emu_reply_text (req, 200, "text/plain", "");
  else if (!g_strcmp0 (status_field, "201"))
    {
      gchar *xml = g_strdup_printf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Key>%s</Key></PostResponse>\n", key);
      emu_reply_text (req, 201, "application/xml", xml);
      g_free (xml);
    }
  else
    emu_reply_text (req, 204, "text/plain", "");
out:
  if (pol)
    json_object_put (pol);
  g_free (expected);
  form_clear (&f);
}

const EmuFamily emu_family_oss = { "oss", "/oss", TRUE, oss_handle };
