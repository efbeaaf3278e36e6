/* vh-sign — request signing for the cloud detectors, implemented once.
 *
 *   Alibaba Cloud V3     ACS3-HMAC-SHA256 (Authorization header)
 *   Alibaba Cloud RPC    HMAC-SHA1 over the percent-encoded sorted query (Signature parameter)
 *   Alibaba OSS V1       HMAC-SHA1 "OSS id:signature" (PutObject with STS credentials)
 *   Tencent Cloud        TC3-HMAC-SHA256
 *
 * Each signer fills a VhSignature with every intermediate value, so tests
 * compare them one by one against the official worked examples
 * (/work/shared/protocols/aliyun-signing.md, tencent-tc3-and-detectaifakefaces.md).
 * Time and nonce are parameters: callers pass the current time and a fresh
 * random nonce, tests pass the documented ones.  Nothing here talks to the
 * network or logs; secrets only ever enter HMAC keys.
 *
 * Also linked by the loopback emulator, which verifies what the plugins sign;
 * the official vectors in tests/detectors/test-sign.c keep both honest. */
#ifndef VH_SIGN_H
#define VH_SIGN_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *name;
  const char *value;
} VhSignParam;

typedef struct {
  gchar *canonical_request;         /* RPC: the canonicalized query string; OSS: NULL */
  gchar *hashed_canonical_request;  /* lowercase hex SHA-256 (V3, TC3); NULL otherwise */
  gchar *string_to_sign;
  gchar *signature;                 /* hex (V3, TC3) or base64 (RPC, OSS) */
  gchar *authorization;             /* Authorization header value; NULL for RPC */
  gchar *signed_headers;            /* V3, TC3 */
  gchar *hashed_payload;            /* V3, TC3: hex SHA-256 of the body */
  gchar *credential_scope;          /* TC3: DATE/service/tc3_request */
  gchar *secret_date, *secret_service, *secret_signing;   /* TC3 derived keys, hex (tests only) */
} VhSignature;

void   vh_signature_clear (VhSignature *sig);

/* RFC 3986: A-Z a-z 0-9 - _ . ~ kept, every other byte %XY (upper-case hex).
 * len < 0: NUL-terminated. */
gchar *vh_sign_percent_encode (const char *text, gssize len);
/* application/x-www-form-urlencoded body with the same encoding, in the
 * order given (the signature does not depend on the body's order). */
gchar *vh_sign_form_body (const VhSignParam *params, gsize n);
gchar *vh_sign_sha256_hex (const void *data, gsize len);
/* "2023-10-26T10:22:32Z" (Alibaba V3 x-acs-date, RPC Timestamp). */
gchar *vh_sign_iso8601 (gint64 unix_seconds);
/* "Sun, 22 Nov 2015 08:16:38 GMT" (OSS Date). */
gchar *vh_sign_http_date (gint64 unix_seconds);
/* 16 random bytes, hex (a nonce or a MerchantBizId). */
gchar *vh_sign_nonce (void);
/* Constant-time comparison of two NUL-terminated strings. */
gboolean vh_sign_equal (const char *a, const char *b);

/* ------------------------------------------------------------ Alibaba V3 */

/* The generic step: canonical request from what is (or was) on the wire.
 * headers: the headers to sign (names in any case; host, content-type if
 * any and every x-acs-*), query: raw (unencoded) parameters in any order.
 * The payload hash is computed from body. */
typedef struct {
  const char        *method;             /* "POST" */
  const char        *path;               /* canonical URI: "/" for RPC-style APIs */
  const VhSignParam *query;
  gsize              n_query;
  const VhSignParam *headers;
  gsize              n_headers;
  const void        *body;
  gsize              body_len;
  const char        *access_key_id;
  const char        *access_key_secret;
} VhAcs3Input;

void   vh_sign_acs3 (const VhAcs3Input *in, VhSignature *out);

/* ------------------------------------------------------------ Alibaba RPC */

/* params: every request parameter (query and form body) except Signature,
 * AccessKeyId and the Signature* / Timestamp / Format / Version common
 * parameters included.  The key is secret + "&". */
void   vh_sign_rpc (const char *method, const VhSignParam *params, gsize n, const char *access_key_secret,
                    VhSignature *out);

/* ------------------------------------------------------------ OSS V1 */

/* headers: every request header; the x-oss-* ones are canonicalised
 * (x-oss-security-token included).  resource: "/bucket/key". */
void   vh_sign_oss_v1 (const char *method, const char *content_md5, const char *content_type,
                       const char *date, const VhSignParam *headers, gsize n_headers,
                       const char *resource, const char *access_key_id, const char *access_key_secret,
                       VhSignature *out);

/* ------------------------------------------------------------ Tencent TC3 */

typedef struct {
  const char        *method;           /* "POST" */
  const char        *path;             /* "/" */
  const char        *query;            /* canonical query string, "" for POST */
  const VhSignParam *headers;          /* headers to sign: content-type, host, x-tc-action ... */
  gsize              n_headers;
  const void        *body;
  gsize              body_len;
  const char        *service;          /* "faceid", "cvm": the credential scope */
  gint64             timestamp;        /* X-TC-Timestamp; the scope's date is its UTC day */
  const char        *secret_id;
  const char        *secret_key;
} VhTc3Input;

void   vh_sign_tc3 (const VhTc3Input *in, VhSignature *out);

G_END_DECLS
#endif /* VH_SIGN_H */
