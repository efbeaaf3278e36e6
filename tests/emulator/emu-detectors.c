/* What the detector families share (emu-detectors.h): credentials, Alibaba
 * POP signature verification (V3 and RPC) with the timestamp window and
 * nonce replay checks, POP error bodies, settings, uploaded objects.
 * The emulator is single-threaded: the tables below need no lock. */
#include "emu-detectors.h"
#include <string.h>

#define ALIYUN_SKEW_S (15 * 60)          /* x-acs-date / Timestamp window */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static GHashTable *nonces;               /* nonce -> expiry (unix s), as gint64* */
static GHashTable *sts;                  /* id -> StsCred* */
static GHashTable *objects;              /* "bucket\nkey" -> GBytes* */

typedef struct {
  gchar  *secret, *token, *prefix;
  gint64  expires;
} StsCred;

static void
sts_free (StsCred *c)
{
  g_free (c->secret);
  g_free (c->token);
  g_free (c->prefix);
  g_free (c);
}

/* ------------------------------------------------------------ credentials */

static const char *
pair_secret (const char *entry, const char *family, const char *id)
{
  /* "ID:SECRET" or "family:ID:SECRET" */
  gsize fl = strlen (family);
  if (strncmp (entry, family, fl) == 0 && entry[fl] == ':')
    entry += fl + 1;
  gsize il = strlen (id);
  return strncmp (entry, id, il) == 0 && entry[il] == ':' ? entry + il + 1 : NULL;
}

const char *
emu_det_secret (EmuServer *emu, const char *family, const char *id)
{
  if (id == NULL || *id == '\0')
    return NULL;
  json_object *list = emu_json_get (emu->config, "keys");
  list = list != NULL ? emu_json_get (list, family) : NULL;
  if (list != NULL && json_object_is_type (list, json_type_array))
    {
      for (size_t i = 0; i < json_object_array_length (list); i++)
        {
          const char *s = pair_secret (json_object_get_string (json_object_array_get_idx (list, i)), family, id);
          if (s != NULL)
            return s;
        }
      return NULL;
    }
  gboolean cli_pairs = FALSE;
  if (emu->cli_keys != NULL)
    {
      GHashTableIter it;
      gpointer k;
      g_hash_table_iter_init (&it, emu->cli_keys);
      while (g_hash_table_iter_next (&it, &k, NULL))
        {
          const char *entry = k;
          if (!g_str_has_prefix (entry, "*\t") || strchr (entry + 2, ':') == NULL)
            continue;
          cli_pairs = TRUE;
          const char *s = pair_secret (entry + 2, family, id);
          if (s != NULL)
            return s;
        }
    }
  if (cli_pairs)
    return NULL;
  if (strcmp (family, "aliyun") == 0 && strcmp (id, EMU_DET_ALIYUN_ID) == 0)
    return EMU_DET_ALIYUN_SECRET;
  if (strcmp (family, "tencent") == 0 && strcmp (id, EMU_DET_TENCENT_ID) == 0)
    return EMU_DET_TENCENT_SECRET;
  return NULL;
}

void
emu_det_sts_add (const char *id, const char *secret, const char *token, const char *prefix, gint64 expires)
{
  if (sts == NULL)
    sts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) sts_free);
  StsCred *c = g_new0 (StsCred, 1);
  c->secret = g_strdup (secret);
  c->token = g_strdup (token);
  c->prefix = g_strdup (prefix);
  c->expires = expires;
  g_hash_table_replace (sts, g_strdup (id), c);
}

const char *
emu_det_sts_lookup (const char *id, const char *token, const char **prefix, gboolean *expired)
{
  StsCred *c = sts != NULL && id != NULL ? g_hash_table_lookup (sts, id) : NULL;
  *expired = FALSE;
  if (c == NULL || g_strcmp0 (c->token, token) != 0)
    return NULL;
  *expired = g_get_real_time () / G_USEC_PER_SEC >= c->expires;
  *prefix = c->prefix;
  return c->secret;
}

/* ------------------------------------------------------------ settings */

static void
overlay (EmuSettings *s, json_object *o)
{
  json_object *v;
  if (o == NULL || !json_object_is_type (o, json_type_object))
    return;
  if (json_object_object_get_ex (o, "latency_ms", &v))
    {
      if (json_object_is_type (v, json_type_array) && json_object_array_length (v) == 2)
        {
          s->latency_min_ms = json_object_get_double (json_object_array_get_idx (v, 0));
          s->latency_max_ms = json_object_get_double (json_object_array_get_idx (v, 1));
        }
      else if (json_object_is_type (v, json_type_object))
        {
          json_object *mn = NULL, *mx = NULL;
          json_object_object_get_ex (v, "min", &mn);
          json_object_object_get_ex (v, "max", &mx);
          s->latency_min_ms = mn != NULL ? json_object_get_double (mn) : 0;
          s->latency_max_ms = mx != NULL ? json_object_get_double (mx) : s->latency_min_ms;
        }
      else
        s->latency_min_ms = s->latency_max_ms = json_object_get_double (v);
    }
  if (json_object_object_get_ex (o, "qps", &v))
    s->qps = json_object_get_double (v);
  if (json_object_object_get_ex (o, "retry_after_s", &v))
    s->retry_after_s = json_object_get_double (v);
}

void
emu_det_settings (EmuServer *emu, const char *endpoint, gdouble qps, gdouble lat_min_ms, gdouble lat_max_ms,
                  EmuSettings *out)
{
  memset (out, 0, sizeof *out);
  out->qps = qps;
  out->latency_min_ms = lat_min_ms;
  out->latency_max_ms = lat_max_ms;
  overlay (out, emu_json_get (emu->config, "defaults"));
  json_object *endpoints = emu_json_get (emu->config, "endpoints");
  if (endpoints != NULL && json_object_is_type (endpoints, json_type_object))
    {
      /* Least specific first: "*" before "aliyun.*" before the exact name. */
      for (int pass = 0; pass < 3; pass++)
        {
          json_object_object_foreach (endpoints, pattern, settings)
            {
              int rank = strcmp (pattern, endpoint) == 0 ? 2 : strcmp (pattern, "*") == 0 ? 0 : 1;
              if (rank == pass && emu_glob_match (pattern, endpoint))
                overlay (out, settings);
            }
        }
    }
}

gboolean
emu_det_admit (EmuRequest *req, const EmuSettings *s, const char *key_id, gdouble *retry_after_s)
{
  return emu_quota_admit (req->emu, s, key_id, req->endpoint, retry_after_s) == EMU_QUOTA_OK;
}

/* ------------------------------------------------------------ requests */

GHashTable *
emu_det_params (EmuRequest *req)
{
  GHashTable *p = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (req->query != NULL)
    {
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init (&it, req->query);
      while (g_hash_table_iter_next (&it, &k, &v))
        g_hash_table_replace (p, g_strdup (k), g_strdup (v != NULL ? v : ""));
    }
  const char *ct = emu_request_header (req, "Content-Type");
  gsize len = 0;
  const char *data = g_bytes_get_data (req->body, &len);
  if (len > 0 && ct != NULL && g_str_has_prefix (ct, "application/x-www-form-urlencoded"))
    {
      gchar *text = g_strndup (data, len);
      GHashTable *form = soup_form_decode (text);
      g_free (text);
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init (&it, form);
      while (g_hash_table_iter_next (&it, &k, &v))
        g_hash_table_replace (p, g_strdup (k), g_strdup (v != NULL ? v : ""));
      g_hash_table_destroy (form);
    }
  return p;
}

void
emu_det_pop_error (EmuRequest *req, guint status, const char *code, const char *message)
{
  gchar *rid = emu_new_id (req->emu, NULL);
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "RequestId", json_object_new_string (rid));
  json_object_object_add (o, "HostId", json_object_new_string ("127.0.0.1"));
  json_object_object_add (o, "Code", json_object_new_string (code != NULL ? code
                                                             : status == 429 ? "Throttling.User"
                                                             : status == 503 ? "ServiceUnavailable"
                                                             : "InternalError"));
  json_object_object_add (o, "Message", json_object_new_string (message != NULL ? message
                                                                : status == 429 ? "Request was denied due to user flow control."
                                                                : "The request processing has failed due to some unknown error, exception or failure."));
  gchar *rec = g_strdup_printf ("https://api.aliyun.com/troubleshoot?q=%s&product=emulator", code != NULL ? code : "");
  json_object_object_add (o, "Recommend", json_object_new_string (rec));
  emu_reply_json (req, status, o);
  g_free (rec);
  g_free (rid);
}

/* ------------------------------------------------------------ signatures */

static gboolean
parse_iso8601 (const char *text, gint64 *out)
{
  /* yyyy-MM-ddTHH:mm:ssZ exactly: UTC with Z, as documented. */
  if (text == NULL || strlen (text) != 20 || text[19] != 'Z' || text[10] != 'T')
    return FALSE;
  GDateTime *dt = g_date_time_new_from_iso8601 (text, NULL);
  if (dt == NULL)
    return FALSE;
  *out = g_date_time_to_unix (dt);
  g_date_time_unref (dt);
  return TRUE;
}

/* Remembered for the whole window, after which the timestamp check refuses
 * a replay anyway. */
static gboolean
nonce_fresh (const char *nonce, gint64 now)
{
  if (nonces == NULL)
    nonces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (g_hash_table_size (nonces) > 4096)
    {
      GHashTableIter it;
      gpointer v;
      g_hash_table_iter_init (&it, nonces);
      while (g_hash_table_iter_next (&it, NULL, &v))
        if (*(gint64 *) v < now)
          g_hash_table_iter_remove (&it);
    }
  gint64 *exp = g_hash_table_lookup (nonces, nonce);
  if (exp != NULL && *exp >= now)
    return FALSE;
  gint64 *e = g_new (gint64, 1);
  *e = now + 2 * ALIYUN_SKEW_S;
  g_hash_table_replace (nonces, g_strdup (nonce), e);
  return TRUE;
}

static gboolean
check_time (EmuRequest *req, const char *stamp, gint64 now)
{
  gint64 t = 0;
  if (!parse_iso8601 (stamp, &t))
    {
      emu_det_pop_error (req, 400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.");
      return FALSE;
    }
  if (ABS (now - t) > ALIYUN_SKEW_S)
    {
      emu_det_pop_error (req, 400, "InvalidTimeStamp.Expired",
                         "Specified time stamp or date value is expired.");
      return FALSE;
    }
  return TRUE;
}

static gboolean
verify_v3 (EmuRequest *req, GHashTable *params, const char *auth, const char **key_id, const char **action)
{
  EmuServer *emu = req->emu;
  gint64 now = req->now_us / G_USEC_PER_SEC;
  /* ACS3-HMAC-SHA256 Credential=ID,SignedHeaders=a;b,Signature=hex */
  const char *cred = strstr (auth, "Credential="), *sh = strstr (auth, "SignedHeaders="), *sg = strstr (auth, "Signature=");
  if (!g_str_has_prefix (auth, "ACS3-HMAC-SHA256 ") || cred == NULL || sh == NULL || sg == NULL)
    {
      emu_det_pop_error (req, 400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.");
      return FALSE;
    }
  g_autofree gchar *id = g_strndup (cred + 11, strcspn (cred + 11, ","));
  g_autofree gchar *signed_names = g_strndup (sh + 14, strcspn (sh + 14, ","));
  g_autofree gchar *signature = g_strndup (sg + 10, strcspn (sg + 10, ","));
  const char *secret = emu_det_secret (emu, "aliyun", id);
  if (secret == NULL)
    {
      emu_det_pop_error (req, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
      return FALSE;
    }
  const char *need[] = { "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
                         "x-acs-content-sha256", NULL };
  for (const char **n = need; *n != NULL; n++)
    if (emu_request_header (req, *n) == NULL)
      {
        g_autofree gchar *m = g_strdup_printf ("%s is mandatory for this action.", *n);
        emu_det_pop_error (req, 400, "MissingParameter", m);
        return FALSE;
      }
  if (!check_time (req, emu_request_header (req, "x-acs-date"), now))
    return FALSE;
  gsize blen = 0;
  const void *body = g_bytes_get_data (req->body, &blen);
  g_autofree gchar *hash = vh_sign_sha256_hex (body, blen);
  if (strcmp (hash, emu_request_header (req, "x-acs-content-sha256")) != 0)
    {
      emu_det_pop_error (req, 400, "SignatureDoesNotMatch",
                         "The x-acs-content-sha256 header does not match the SHA-256 of the body.");
      return FALSE;
    }
  /* Rebuild the canonical request from what arrived. */
  g_auto (GStrv) names = g_strsplit (signed_names, ";", -1);
  guint nh = g_strv_length (names);
  VhSignParam *headers = g_new0 (VhSignParam, nh + 1);
  gboolean has_host = FALSE;
  for (guint i = 0; i < nh; i++)
    {
      headers[i].name = names[i];
      headers[i].value = emu_request_header (req, names[i]);
      has_host |= g_ascii_strcasecmp (names[i], "host") == 0;
      if (headers[i].value == NULL)
        headers[i].value = "";
    }
  GArray *query = g_array_new (FALSE, FALSE, sizeof (VhSignParam));
  if (req->query != NULL)
    {
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init (&it, req->query);
      while (g_hash_table_iter_next (&it, &k, &v))
        {
          VhSignParam p = { k, v != NULL ? v : "" };
          g_array_append_val (query, p);
        }
    }
  VhAcs3Input in = { req->method, req->path, (const VhSignParam *) (gpointer) query->data, query->len, headers, nh,
                     body, blen, id, secret };
  VhSignature s;
  vh_sign_acs3 (&in, &s);
  gboolean ok = has_host && vh_sign_equal (s.signature, signature);
  if (!ok)
    {
      g_autofree gchar *m = g_strdup_printf ("The request signature does not conform to Aliyun standards. "
                                             "server string to sign is:%s", s.string_to_sign);
      emu_det_pop_error (req, 400, "SignatureDoesNotMatch", m);
    }
  vh_signature_clear (&s);
  g_array_free (query, TRUE);
  g_free (headers);
  if (!ok)
    return FALSE;
  if (!nonce_fresh (emu_request_header (req, "x-acs-signature-nonce"), now))
    {
      emu_det_pop_error (req, 400, "SignatureNonceUsed", "Specified signature nonce was used already.");
      return FALSE;
    }
  (void) params;
  *key_id = g_intern_string (id);
  *action = g_intern_string (emu_request_header (req, "x-acs-action"));
  return TRUE;
}

static gboolean
verify_rpc (EmuRequest *req, GHashTable *params, const char **key_id, const char **action)
{
  EmuServer *emu = req->emu;
  gint64 now = req->now_us / G_USEC_PER_SEC;
  const char *id = g_hash_table_lookup (params, "AccessKeyId");
  const char *signature = g_hash_table_lookup (params, "Signature");
  static const char *const need[] = { "Action", "Version", "AccessKeyId", "SignatureMethod", "SignatureVersion",
                                      "SignatureNonce", "Timestamp", NULL };
  for (const char *const *n = need; *n != NULL; n++)
    if (g_hash_table_lookup (params, *n) == NULL)
      {
        g_autofree gchar *m = g_strdup_printf ("%s is mandatory for this action.", *n);
        emu_det_pop_error (req, 400, "MissingParameter", m);
        return FALSE;
      }
  if (g_strcmp0 (g_hash_table_lookup (params, "SignatureMethod"), "HMAC-SHA1") != 0
      || g_strcmp0 (g_hash_table_lookup (params, "SignatureVersion"), "1.0") != 0)
    {
      emu_det_pop_error (req, 400, "InvalidParameter", "Specified SignatureMethod or SignatureVersion is not supported.");
      return FALSE;
    }
  const char *secret = emu_det_secret (emu, "aliyun", id);
  if (secret == NULL)
    {
      emu_det_pop_error (req, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
      return FALSE;
    }
  if (!check_time (req, g_hash_table_lookup (params, "Timestamp"), now))
    return FALSE;
  GArray *all = g_array_new (FALSE, FALSE, sizeof (VhSignParam));
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, params);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (strcmp (k, "Signature") != 0)
      {
        VhSignParam p = { k, v };
        g_array_append_val (all, p);
      }
  VhSignature s;
  vh_sign_rpc (req->method, (const VhSignParam *) (gpointer) all->data, all->len, secret, &s);
  g_array_free (all, TRUE);
  gboolean ok = vh_sign_equal (s.signature, signature);
  if (!ok)
    {
      g_autofree gchar *m = g_strdup_printf ("Specified signature does not match our calculation. "
                                             "server string to sign is:%s", s.string_to_sign);
      emu_det_pop_error (req, 400, "SignatureDoesNotMatch", m);
    }
  vh_signature_clear (&s);
  if (!ok)
    return FALSE;
  if (!nonce_fresh (g_hash_table_lookup (params, "SignatureNonce"), now))
    {
      emu_det_pop_error (req, 400, "SignatureNonceUsed", "Specified signature nonce was used already.");
      return FALSE;
    }
  *key_id = g_intern_string (id);
  *action = g_intern_string (g_hash_table_lookup (params, "Action"));
  return TRUE;
}

gboolean
emu_det_aliyun_verify (EmuRequest *req, GHashTable *params, const char **key_id, const char **action)
{
  const char *auth = emu_request_header (req, "Authorization");
  if (auth != NULL)
    return verify_v3 (req, params, auth, key_id, action);
  if (g_hash_table_lookup (params, "Signature") != NULL)
    return verify_rpc (req, params, key_id, action);
  emu_det_pop_error (req, 400, "MissingParameter", "Signature is mandatory for this action.");
  return FALSE;
}

/* ------------------------------------------------------------ images */

GBytes *
emu_det_base64 (const char *text)
{
  gsize len = text != NULL ? strlen (text) : 0, n = 0, pad = 0;
  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];
      if (g_ascii_isalnum (c) || c == '+' || c == '/')
        {
          if (pad)
            return NULL;
          n++;
        }
      else if (c == '=')
        pad++;
      else
        return NULL;
    }
  if (n == 0 || pad > 2 || (n + pad) % 4 != 0)
    return NULL;
  gsize out_len = 0;
  guchar *out = g_base64_decode (text, &out_len);
  return g_bytes_new_take (out, out_len);
}

gboolean
emu_det_is_image (GBytes *bytes)
{
  VhImage *img = vh_image_new_from_bytes (bytes, NULL);
  if (img == NULL)
    return FALSE;
  VhPixels *px = vh_image_decode (img, NULL);
  gboolean ok = px != NULL;
  vh_pixels_free (px);
  vh_image_free (img);
  return ok;
}

void
emu_det_digest (GBytes *bytes, guint8 out[32])
{
  gsize n = 32, len = 0;
  const guchar *d = g_bytes_get_data (bytes, &len);
  GChecksum *c = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (c, d, (gssize) len);
  g_checksum_get_digest (c, out, &n);
  g_checksum_free (c);
}

/* ------------------------------------------------------------ objects */

void
emu_det_object_put (const char *bucket, const char *key, GBytes *bytes)
{
  if (objects == NULL)
    objects = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  /* Bounded: a long demo run must not grow without end. */
  if (g_hash_table_size (objects) > 2048)
    g_hash_table_remove_all (objects);
  g_hash_table_replace (objects, g_strdup_printf ("%s\n%s", bucket, key), g_bytes_ref (bytes));
}

GBytes *
emu_det_object_get (const char *bucket, const char *key)
{
  if (objects == NULL || bucket == NULL || key == NULL)
    return NULL;
  g_autofree gchar *k = g_strdup_printf ("%s\n%s", bucket, key);
  GBytes *b = g_hash_table_lookup (objects, k);
  return b != NULL ? g_bytes_ref (b) : NULL;
}

gboolean
emu_det_object_url (const char *url, gchar **bucket, gchar **key)
{
  const char *p = g_str_has_prefix (url, "http://") ? url + 7 : g_str_has_prefix (url, "https://") ? url + 8 : NULL;
  const char *dot = p != NULL ? strchr (p, '.') : NULL;
  const char *slash = p != NULL ? strchr (p, '/') : NULL;
  if (dot == NULL || slash == NULL || dot > slash || !g_str_has_prefix (slash, EMU_DET_OSS_PREFIX "/"))
    return FALSE;
  *bucket = g_strndup (p, (gsize) (dot - p));
  *key = g_strdup (slash + strlen (EMU_DET_OSS_PREFIX) + 1);
  return TRUE;
}
