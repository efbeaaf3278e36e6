/* vh-sign.c — the four signing schemes of vh-sign.h.  Every step follows
 * the protocol notes literally; where two readings exist the comment says
 * which one the official worked example decides. */
#include "vh-sign.h"
#include <string.h>

void
vh_signature_clear (VhSignature *sig)
{
  if (sig == NULL)
    return;
  gchar **fields[] = { &sig->canonical_request, &sig->hashed_canonical_request, &sig->string_to_sign,
                       &sig->signature, &sig->authorization, &sig->signed_headers, &sig->hashed_payload,
                       &sig->credential_scope, &sig->secret_date, &sig->secret_service, &sig->secret_signing };
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    g_clear_pointer (fields[i], g_free);
}

/* ------------------------------------------------------------ helpers */

gchar *
vh_sign_percent_encode (const char *text, gssize len)
{
  static const char hex[] = "0123456789ABCDEF";
  gsize n = len < 0 ? strlen (text) : (gsize) len;
  GString *out = g_string_sized_new (n * 3 / 2 + 1);
  for (gsize i = 0; i < n; i++)
    {
      guchar c = (guchar) text[i];
      if (g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.' || c == '~')
        g_string_append_c (out, (gchar) c);
      else
        {
          g_string_append_c (out, '%');
          g_string_append_c (out, hex[c >> 4]);
          g_string_append_c (out, hex[c & 15]);
        }
    }
  return g_string_free (out, FALSE);
}

gchar *
vh_sign_form_body (const VhSignParam *params, gsize n)
{
  GString *out = g_string_new (NULL);
  for (gsize i = 0; i < n; i++)
    {
      g_autofree gchar *k = vh_sign_percent_encode (params[i].name, -1);
      g_autofree gchar *v = vh_sign_percent_encode (params[i].value != NULL ? params[i].value : "", -1);
      g_string_append_printf (out, "%s%s=%s", i > 0 ? "&" : "", k, v);
    }
  return g_string_free (out, FALSE);
}

gchar *
vh_sign_sha256_hex (const void *data, gsize len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data != NULL ? data : (const guchar *) "", len);
}

static gchar *
format_utc (gint64 unix_seconds, const char *format)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (unix_seconds);
  return dt != NULL ? g_date_time_format (dt, format) : g_strdup ("");
}

gchar *
vh_sign_iso8601 (gint64 unix_seconds)
{
  return format_utc (unix_seconds, "%Y-%m-%dT%H:%M:%SZ");
}

gchar *
vh_sign_http_date (gint64 unix_seconds)
{
  /* RFC 1123 with English names whatever the locale: %a/%b would follow LC_TIME. */
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (unix_seconds);
  if (dt == NULL)
    return g_strdup ("");
  return g_strdup_printf ("%s, %02d %s %04d %02d:%02d:%02d GMT", days[g_date_time_get_day_of_week (dt) - 1],
                          g_date_time_get_day_of_month (dt), months[g_date_time_get_month (dt) - 1],
                          g_date_time_get_year (dt), g_date_time_get_hour (dt), g_date_time_get_minute (dt),
                          g_date_time_get_second (dt));
}

gchar *
vh_sign_nonce (void)
{
  GString *s = g_string_sized_new (33);
  for (int i = 0; i < 4; i++)
    g_string_append_printf (s, "%08x", g_random_int ());
  return g_string_free (s, FALSE);
}

gboolean
vh_sign_equal (const char *a, const char *b)
{
  if (a == NULL || b == NULL)
    return FALSE;
  gsize la = strlen (a), lb = strlen (b);
  if (la != lb)
    return FALSE;      /* the length of a signature is public */
  guchar diff = 0;
  for (gsize i = 0; i < la; i++)
    diff |= (guchar) a[i] ^ (guchar) b[i];
  return diff == 0;
}

static void
hmac_raw (GChecksumType type, const guchar *key, gsize key_len, const char *msg, guint8 *out, gsize *out_len)
{
  GHmac *h = g_hmac_new (type, key, key_len);
  g_hmac_update (h, (const guchar *) msg, (gssize) strlen (msg));
  g_hmac_get_digest (h, out, out_len);
  g_hmac_unref (h);
}

static gchar *
to_hex (const guint8 *d, gsize n)
{
  GString *s = g_string_sized_new (n * 2 + 1);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%02x", d[i]);
  return g_string_free (s, FALSE);
}

static gchar *
hmac_sha1_base64 (const char *key, const char *msg)
{
  guint8 d[20];
  gsize n = sizeof d;
  hmac_raw (G_CHECKSUM_SHA1, (const guchar *) key, strlen (key), msg, d, &n);
  return g_base64_encode (d, n);
}

typedef struct {
  gchar *name, *value;
} Pair;

static gint
pair_cmp (gconstpointer a, gconstpointer b)
{
  const Pair *x = a, *y = b;
  gint c = strcmp (x->name, y->name);      /* byte order, never locale collation */
  return c != 0 ? c : strcmp (x->value, y->value);
}

static void
pairs_free (GArray *pairs)
{
  for (guint i = 0; i < pairs->len; i++)
    {
      g_free (g_array_index (pairs, Pair, i).name);
      g_free (g_array_index (pairs, Pair, i).value);
    }
  g_array_free (pairs, TRUE);
}

/* name=value&... of the percent-encoded pairs, sorted by encoded name. */
static gchar *
canonical_query (const VhSignParam *params, gsize n)
{
  GArray *pairs = g_array_sized_new (FALSE, FALSE, sizeof (Pair), (guint) n);
  for (gsize i = 0; i < n; i++)
    {
      Pair p = { vh_sign_percent_encode (params[i].name, -1),
                 vh_sign_percent_encode (params[i].value != NULL ? params[i].value : "", -1) };
      g_array_append_val (pairs, p);
    }
  g_array_sort (pairs, pair_cmp);
  GString *out = g_string_new (NULL);
  for (guint i = 0; i < pairs->len; i++)
    g_string_append_printf (out, "%s%s=%s", i > 0 ? "&" : "", g_array_index (pairs, Pair, i).name,
                            g_array_index (pairs, Pair, i).value);
  pairs_free (pairs);
  return g_string_free (out, FALSE);
}

/* Lower-case names, trimmed values (lower-cased too when asked: TC3),
 * sorted; returns "name:value\n"... and sets *signed_headers. */
static gchar *
canonical_headers (const VhSignParam *headers, gsize n, gboolean lower_values, gchar **signed_headers)
{
  GArray *pairs = g_array_sized_new (FALSE, FALSE, sizeof (Pair), (guint) n);
  for (gsize i = 0; i < n; i++)
    {
      gchar *value = g_strstrip (g_strdup (headers[i].value != NULL ? headers[i].value : ""));
      if (lower_values)
        {
          gchar *l = g_ascii_strdown (value, -1);
          g_free (value);
          value = l;
        }
      Pair p = { g_ascii_strdown (headers[i].name, -1), value };
      g_array_append_val (pairs, p);
    }
  g_array_sort (pairs, pair_cmp);
  GString *out = g_string_new (NULL), *names = g_string_new (NULL);
  for (guint i = 0; i < pairs->len; i++)
    {
      const Pair *p = &g_array_index (pairs, Pair, i);
      g_string_append_printf (out, "%s:%s\n", p->name, p->value);
      g_string_append_printf (names, "%s%s", i > 0 ? ";" : "", p->name);
    }
  pairs_free (pairs);
  *signed_headers = g_string_free (names, FALSE);
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------ Alibaba V3 */

void
vh_sign_acs3 (const VhAcs3Input *in, VhSignature *out)
{
  memset (out, 0, sizeof *out);
  out->hashed_payload = vh_sign_sha256_hex (in->body, in->body != NULL ? in->body_len : 0);
  g_autofree gchar *query = canonical_query (in->query, in->n_query);
  g_autofree gchar *headers = canonical_headers (in->headers, in->n_headers, FALSE, &out->signed_headers);
  /* The header block ends with its own LF, so an empty line follows it. */
  out->canonical_request = g_strdup_printf ("%s\n%s\n%s\n%s\n%s\n%s", in->method, in->path, query, headers,
                                            out->signed_headers, out->hashed_payload);
  out->hashed_canonical_request = vh_sign_sha256_hex (out->canonical_request, strlen (out->canonical_request));
  out->string_to_sign = g_strdup_printf ("ACS3-HMAC-SHA256\n%s", out->hashed_canonical_request);
  /* The key is the raw secret (no "&", unlike RPC). */
  guint8 d[32];
  gsize n = sizeof d;
  hmac_raw (G_CHECKSUM_SHA256, (const guchar *) in->access_key_secret, strlen (in->access_key_secret),
            out->string_to_sign, d, &n);
  out->signature = to_hex (d, n);
  /* One space after the algorithm, none after the commas. */
  out->authorization = g_strdup_printf ("ACS3-HMAC-SHA256 Credential=%s,SignedHeaders=%s,Signature=%s",
                                        in->access_key_id, out->signed_headers, out->signature);
}

/* ------------------------------------------------------------ Alibaba RPC */

void
vh_sign_rpc (const char *method, const VhSignParam *params, gsize n, const char *access_key_secret,
             VhSignature *out)
{
  memset (out, 0, sizeof *out);
  out->canonical_request = canonical_query (params, n);
  /* The canonicalized string is percent-encoded a second time (%3A -> %253A). */
  g_autofree gchar *encoded = vh_sign_percent_encode (out->canonical_request, -1);
  out->string_to_sign = g_strdup_printf ("%s&%%2F&%s", method, encoded);
  g_autofree gchar *key = g_strconcat (access_key_secret, "&", NULL);
  out->signature = hmac_sha1_base64 (key, out->string_to_sign);
}

/* ------------------------------------------------------------ OSS V1 */

void
vh_sign_oss_v1 (const char *method, const char *content_md5, const char *content_type, const char *date,
                const VhSignParam *headers, gsize n_headers, const char *resource, const char *access_key_id,
                const char *access_key_secret, VhSignature *out)
{
  memset (out, 0, sizeof *out);
  GArray *oss = g_array_new (FALSE, FALSE, sizeof (VhSignParam));
  for (gsize i = 0; i < n_headers; i++)
    if (g_ascii_strncasecmp (headers[i].name, "x-oss-", 6) == 0)
      g_array_append_val (oss, headers[i]);
  g_autofree gchar *names = NULL;
  g_autofree gchar *canon = canonical_headers ((const VhSignParam *) (gpointer) oss->data, oss->len, FALSE, &names);
  g_array_free (oss, TRUE);
  out->string_to_sign = g_strdup_printf ("%s\n%s\n%s\n%s\n%s%s", method, content_md5 != NULL ? content_md5 : "",
                                         content_type != NULL ? content_type : "", date, canon, resource);
  out->signature = hmac_sha1_base64 (access_key_secret, out->string_to_sign);
  out->authorization = g_strdup_printf ("OSS %s:%s", access_key_id, out->signature);
}

/* ------------------------------------------------------------ Tencent TC3 */

void
vh_sign_tc3 (const VhTc3Input *in, VhSignature *out)
{
  memset (out, 0, sizeof *out);
  out->hashed_payload = vh_sign_sha256_hex (in->body, in->body != NULL ? in->body_len : 0);
  /* Values lower-cased: the current official example signs
   * "x-tc-action:describeinstances" for the header DescribeInstances. */
  g_autofree gchar *headers = canonical_headers (in->headers, in->n_headers, TRUE, &out->signed_headers);
  out->canonical_request = g_strdup_printf ("%s\n%s\n%s\n%s\n%s\n%s", in->method, in->path,
                                            in->query != NULL ? in->query : "", headers, out->signed_headers,
                                            out->hashed_payload);
  out->hashed_canonical_request = vh_sign_sha256_hex (out->canonical_request, strlen (out->canonical_request));
  /* The date of the scope is the UTC day of the timestamp, never local time. */
  g_autofree gchar *date = format_utc (in->timestamp, "%Y-%m-%d");
  out->credential_scope = g_strdup_printf ("%s/%s/tc3_request", date, in->service);
  out->string_to_sign = g_strdup_printf ("TC3-HMAC-SHA256\n%" G_GINT64_FORMAT "\n%s\n%s", in->timestamp,
                                         out->credential_scope, out->hashed_canonical_request);
  g_autofree gchar *k0 = g_strconcat ("TC3", in->secret_key, NULL);
  guint8 kd[32], ks[32], kg[32], sig[32];
  gsize n = 32;
  hmac_raw (G_CHECKSUM_SHA256, (const guchar *) k0, strlen (k0), date, kd, &n);
  n = 32;
  hmac_raw (G_CHECKSUM_SHA256, kd, sizeof kd, in->service, ks, &n);
  n = 32;
  hmac_raw (G_CHECKSUM_SHA256, ks, sizeof ks, "tc3_request", kg, &n);
  n = 32;
  hmac_raw (G_CHECKSUM_SHA256, kg, sizeof kg, out->string_to_sign, sig, &n);
  out->secret_date = to_hex (kd, 32);
  out->secret_service = to_hex (ks, 32);
  out->secret_signing = to_hex (kg, 32);
  out->signature = to_hex (sig, 32);
  memset (k0, 0, strlen (k0));
  memset (kd, 0, sizeof kd);
  memset (ks, 0, sizeof ks);
  memset (kg, 0, sizeof kg);
  /* ", " separators, unlike Alibaba V3. */
  out->authorization = g_strdup_printf ("TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                                        in->secret_id, out->credential_scope, out->signed_headers, out->signature);
}
