/* Signing (plugins/common/vh-sign.c) against every worked example of the
 * protocol notes, intermediate value by intermediate value:
 *   aliyun-signing.md        A (official V3), B (self-computed V3, form body),
 *                            C (official RPC), D (self-computed RPC, body parameter)
 *   tencent-tc3-...md        B (older official TC3), A (current official TC3),
 *                            F (self-computed DetectAIFakeFaces)
 * plus the percent-encoding checklist of aliyun-signing.md section 4. */
#include <string.h>
#include "vh-sign.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void
test_percent_encoding (void)
{
  static const struct { const char *in, *out; } cases[] = {
    { " ", "%20" }, { "*", "%2A" }, { "~", "~" }, { "/", "%2F" }, { "+", "%2B" }, { "=", "%3D" },
    { "\xC3\xA9", "%C3%A9" }, { "AZaz09-_.", "AZaz09-_." }, { "a b&c", "a%20b%26c" }, { "", "" },
    { "2023-03-13T08:34:30Z", "2023-03-13T08%3A34%3A30Z" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *got = vh_sign_percent_encode (cases[i].in, -1);
      g_assert_cmpstr (got, ==, cases[i].out);
    }
  VhSignParam form[] = { { "FaceBase64", "/9j/4AAQSkZJRg==" }, { "Scene Code", "a*b" } };
  g_autofree gchar *body = vh_sign_form_body (form, 2);
  g_assert_cmpstr (body, ==, "FaceBase64=%2F9j%2F4AAQSkZJRg%3D%3D&Scene%20Code=a%2Ab");
}

static void
test_helpers (void)
{
  g_autofree gchar *iso = vh_sign_iso8601 (1698315752);
  g_assert_cmpstr (iso, ==, "2023-10-26T10:22:32Z");
  g_autofree gchar *date = vh_sign_http_date (1448180198);
  g_assert_cmpstr (date, ==, "Sun, 22 Nov 2015 08:16:38 GMT");
  g_autofree gchar *empty = vh_sign_sha256_hex (NULL, 0);
  g_assert_cmpstr (empty, ==, EMPTY_SHA256);
  g_autofree gchar *n1 = vh_sign_nonce ();
  g_autofree gchar *n2 = vh_sign_nonce ();
  g_assert_cmpuint (strlen (n1), ==, 32);
  g_assert_cmpstr (n1, !=, n2);
  g_assert_true (vh_sign_equal ("abc", "abc"));
  g_assert_false (vh_sign_equal ("abc", "abd"));
  g_assert_false (vh_sign_equal ("abc", "ab"));
  g_assert_false (vh_sign_equal (NULL, "ab"));
}

/* ---------------------------------------------------------- Alibaba V3 */

static void
test_acs3_example_a (void)
{
  VhSignParam query[] = {
    { "RegionId", "cn-shanghai" },       /* out of order on purpose: the signer sorts */
    { "ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd" },
  };
  VhSignParam headers[] = {
    { "host", "ecs.cn-shanghai.aliyuncs.com" },
    { "x-acs-action", "RunInstances" },
    { "x-acs-version", "2014-05-26" },
    { "x-acs-date", "2023-10-26T10:22:32Z" },
    { "x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d" },
    { "x-acs-content-sha256", EMPTY_SHA256 },
  };
  VhAcs3Input in = { "POST", "/", query, 2, headers, G_N_ELEMENTS (headers), NULL, 0,
                     "YourAccessKeyId", "YourAccessKeySecret" };
  VhSignature s;
  vh_sign_acs3 (&in, &s);
  g_assert_cmpstr (s.hashed_payload, ==, EMPTY_SHA256);
  g_assert_cmpstr (s.canonical_request, ==,
                   "POST\n/\n"
                   "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n"
                   "host:ecs.cn-shanghai.aliyuncs.com\n"
                   "x-acs-action:RunInstances\n"
                   "x-acs-content-sha256:" EMPTY_SHA256 "\n"
                   "x-acs-date:2023-10-26T10:22:32Z\n"
                   "x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n"
                   "x-acs-version:2014-05-26\n"
                   "\n"
                   "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n"
                   EMPTY_SHA256);
  g_assert_cmpstr (s.signed_headers, ==,
                   "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version");
  g_assert_cmpstr (s.hashed_canonical_request, ==, "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259");
  g_assert_cmpstr (s.string_to_sign, ==,
                   "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259");
  g_assert_cmpstr (s.signature, ==, "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0");
  g_assert_cmpstr (s.authorization, ==,
                   "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,"
                   "SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
                   "Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0");
  vh_signature_clear (&s);
}

static void
test_acs3_example_b (void)
{
  VhSignParam form[] = { { "FaceBase64", "/9j/4AAQSkZJRg==" } };
  g_autofree gchar *body = vh_sign_form_body (form, 1);
  g_assert_cmpstr (body, ==, "FaceBase64=%2F9j%2F4AAQSkZJRg%3D%3D");
  g_autofree gchar *hash = vh_sign_sha256_hex (body, strlen (body));
  g_assert_cmpstr (hash, ==, "1ceaa0508222447fdac31b5cb93dd7d9ac38d08ce6b5104f4b40244d6aac4278");
  VhSignParam query[] = {
    { "SceneCode", "vhost01" }, { "ProductCode", "FACE_DEEPFAKE" },
    { "MerchantBizId", "e0c34a77f5ac40a5aa5e6ed20c000001" }, { "FaceInputType", "IMAGE" },
  };
  VhSignParam headers[] = {
    { "Host", "cloudauth-intl.ap-southeast-1.aliyuncs.com" },
    { "Content-Type", "application/x-www-form-urlencoded" },
    { "x-acs-action", "DeepfakeDetectIntl" },
    { "x-acs-version", "2022-08-09" },
    { "x-acs-date", "2023-10-26T10:22:32Z" },
    { "x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d" },
    { "x-acs-content-sha256", hash },
  };
  VhAcs3Input in = { "POST", "/", query, G_N_ELEMENTS (query), headers, G_N_ELEMENTS (headers), body,
                     strlen (body), "YourAccessKeyId", "YourAccessKeySecret" };
  VhSignature s;
  vh_sign_acs3 (&in, &s);
  g_assert_cmpstr (s.hashed_payload, ==, hash);
  g_assert_cmpstr (s.canonical_request, ==,
                   "POST\n/\n"
                   "FaceInputType=IMAGE&MerchantBizId=e0c34a77f5ac40a5aa5e6ed20c000001&ProductCode=FACE_DEEPFAKE&SceneCode=vhost01\n"
                   "content-type:application/x-www-form-urlencoded\n"
                   "host:cloudauth-intl.ap-southeast-1.aliyuncs.com\n"
                   "x-acs-action:DeepfakeDetectIntl\n"
                   "x-acs-content-sha256:1ceaa0508222447fdac31b5cb93dd7d9ac38d08ce6b5104f4b40244d6aac4278\n"
                   "x-acs-date:2023-10-26T10:22:32Z\n"
                   "x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n"
                   "x-acs-version:2022-08-09\n"
                   "\n"
                   "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n"
                   "1ceaa0508222447fdac31b5cb93dd7d9ac38d08ce6b5104f4b40244d6aac4278");
  g_assert_cmpstr (s.hashed_canonical_request, ==, "1ae15827fed21d4db51b9ec09ad31d051245ea32919966c40908069eed5e40c1");
  g_assert_cmpstr (s.string_to_sign, ==,
                   "ACS3-HMAC-SHA256\n1ae15827fed21d4db51b9ec09ad31d051245ea32919966c40908069eed5e40c1");
  g_assert_cmpstr (s.signature, ==, "63a8b8fd742f45e3a7aa40563cd0da94a9352758a41130717b99862a6e7788d3");
  g_assert_cmpstr (s.authorization, ==,
                   "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,"
                   "SignedHeaders=content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
                   "Signature=63a8b8fd742f45e3a7aa40563cd0da94a9352758a41130717b99862a6e7788d3");
  vh_signature_clear (&s);
}

/* ---------------------------------------------------------- Alibaba RPC */

static void
test_rpc_example_c (void)
{
  VhSignParam params[] = {
    { "Version", "2014-05-26" }, { "Timestamp", "2023-03-13T08:34:30Z" }, { "SignatureVersion", "1.0" },
    { "SignatureNonce", "edb2b34af0af9a6d14deaf7c1a5315eb" }, { "SignatureMethod", "HMAC-SHA1" },
    { "RegionId", "cn-beijing" }, { "Format", "JSON" }, { "Action", "DescribeDedicatedHosts" },
    { "AccessKeyId", "testid" },
  };
  VhSignature s;
  vh_sign_rpc ("GET", params, G_N_ELEMENTS (params), "testsecret", &s);
  g_assert_cmpstr (s.canonical_request, ==,
                   "AccessKeyId=testid&Action=DescribeDedicatedHosts&Format=JSON&RegionId=cn-beijing"
                   "&SignatureMethod=HMAC-SHA1&SignatureNonce=edb2b34af0af9a6d14deaf7c1a5315eb"
                   "&SignatureVersion=1.0&Timestamp=2023-03-13T08%3A34%3A30Z&Version=2014-05-26");
  g_assert_cmpstr (s.string_to_sign, ==,
                   "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDedicatedHosts%26Format%3DJSON"
                   "%26RegionId%3Dcn-beijing%26SignatureMethod%3DHMAC-SHA1"
                   "%26SignatureNonce%3Dedb2b34af0af9a6d14deaf7c1a5315eb%26SignatureVersion%3D1.0"
                   "%26Timestamp%3D2023-03-13T08%253A34%253A30Z%26Version%3D2014-05-26");
  g_assert_cmpstr (s.signature, ==, "9NaGiOspFP5UPcwX8Iwt2YJXXuk=");
  g_autofree gchar *in_url = vh_sign_percent_encode (s.signature, -1);
  g_assert_cmpstr (in_url, ==, "9NaGiOspFP5UPcwX8Iwt2YJXXuk%3D");
  g_assert_null (s.authorization);
  vh_signature_clear (&s);
}

static void
test_rpc_example_d (void)
{
  VhSignParam params[] = {
    { "AccessKeyId", "testid" }, { "Action", "DeepfakeDetect" }, { "FaceInputType", "IMAGE" },
    { "Format", "JSON" }, { "OuterOrderNo", "e0c34a77f5ac40a5aa5e6ed20c000001" },
    { "SignatureMethod", "HMAC-SHA1" }, { "SignatureNonce", "edb2b34af0af9a6d14deaf7c1a5315eb" },
    { "SignatureVersion", "1.0" }, { "Timestamp", "2023-03-13T08:34:30Z" }, { "Version", "2019-03-07" },
    { "FaceBase64", "/9j/4AAQSkZJRg==" },     /* travels in the body, signed all the same */
  };
  VhSignature s;
  vh_sign_rpc ("POST", params, G_N_ELEMENTS (params), "testsecret", &s);
  g_assert_cmpstr (s.canonical_request, ==,
                   "AccessKeyId=testid&Action=DeepfakeDetect&FaceBase64=%2F9j%2F4AAQSkZJRg%3D%3D&FaceInputType=IMAGE"
                   "&Format=JSON&OuterOrderNo=e0c34a77f5ac40a5aa5e6ed20c000001&SignatureMethod=HMAC-SHA1"
                   "&SignatureNonce=edb2b34af0af9a6d14deaf7c1a5315eb&SignatureVersion=1.0"
                   "&Timestamp=2023-03-13T08%3A34%3A30Z&Version=2019-03-07");
  g_assert_cmpstr (s.string_to_sign, ==,
                   "POST&%2F&AccessKeyId%3Dtestid%26Action%3DDeepfakeDetect%26FaceBase64%3D%252F9j%252F4AAQSkZJRg%253D%253D"
                   "%26FaceInputType%3DIMAGE%26Format%3DJSON%26OuterOrderNo%3De0c34a77f5ac40a5aa5e6ed20c000001"
                   "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dedb2b34af0af9a6d14deaf7c1a5315eb"
                   "%26SignatureVersion%3D1.0%26Timestamp%3D2023-03-13T08%253A34%253A30Z%26Version%3D2019-03-07");
  g_assert_cmpstr (s.signature, ==, "kMkE9Lt+AiKhV+476PovO66RfhM=");
  g_autofree gchar *in_url = vh_sign_percent_encode (s.signature, -1);
  g_assert_cmpstr (in_url, ==, "kMkE9Lt%2BAiKhV%2B476PovO66RfhM%3D");
  vh_signature_clear (&s);
}

/* ---------------------------------------------------------- Tencent TC3 */

#define CVM_BODY "{\"Limit\": 1, \"Filters\": [{\"Values\": [\"\\u672a\\u547d\\u540d\"], \"Name\": \"instance-name\"}]}"
#define CVM_BODY_SHA256 "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"

typedef struct {
  const char *secret_id, *secret_key;
  gboolean    sign_action;
  const char *host, *service, *action, *body;
  gint64      timestamp;
  const char *payload_hash, *canonical, *hashed, *sts, *kdate, *kservice, *ksigning, *signature, *authorization;
} Tc3Vector;

static void
check_tc3 (const Tc3Vector *v)
{
  VhSignParam headers[] = {
    { "Content-Type", "application/json; charset=utf-8" },
    { "Host", v->host },
    { "X-TC-Action", v->action },
  };
  VhTc3Input in = { "POST", "/", "", headers, v->sign_action ? 3 : 2, v->body, strlen (v->body), v->service,
                    v->timestamp, v->secret_id, v->secret_key };
  VhSignature s;
  vh_sign_tc3 (&in, &s);
  g_assert_cmpstr (s.hashed_payload, ==, v->payload_hash);
  g_assert_cmpstr (s.canonical_request, ==, v->canonical);
  g_assert_cmpstr (s.hashed_canonical_request, ==, v->hashed);
  g_assert_cmpstr (s.string_to_sign, ==, v->sts);
  g_assert_cmpstr (s.secret_date, ==, v->kdate);
  g_assert_cmpstr (s.secret_service, ==, v->kservice);
  g_assert_cmpstr (s.secret_signing, ==, v->ksigning);
  g_assert_cmpstr (s.signature, ==, v->signature);
  if (v->authorization != NULL)
    g_assert_cmpstr (s.authorization, ==, v->authorization);
  vh_signature_clear (&s);
}

static void
test_tc3_vector_b (void)
{
  Tc3Vector v = {
    "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******", FALSE,
    "cvm.tencentcloudapi.com", "cvm", "DescribeInstances", CVM_BODY, 1551113065, CVM_BODY_SHA256,
    "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"
    "content-type;host\n" CVM_BODY_SHA256,
    "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031",
    "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
    "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031",
    "f1cb4d518a0eda9d5cbbfdb7850983f1e603eeae484edea76e4dd8d8deb5556e",
    "e7c609ce81bea53546bed2cc904778bef9ca14082e48e67883443ed64e227cd7",
    "8aa8ab5755582f576e94bcfe383b8e29325b0ca90c3590d569221c6a63a091ed",
    "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c",
    "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, "
    "SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c",
  };
  check_tc3 (&v);
}

static void
test_tc3_vector_a (void)
{
  Tc3Vector v = {
    "AKID********************************", "********************************", TRUE,
    "cvm.tencentcloudapi.com", "cvm", "DescribeInstances", CVM_BODY, 1551113065, CVM_BODY_SHA256,
    "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n"
    "x-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n" CVM_BODY_SHA256,
    "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84",
    "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
    "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84",
    "da98fb70dcf6b112dc21038d1eeeb3a95c74b4dcb12c1131f864f6066bd02be0",
    "8d70cbefb03939f929db64d32dc2ba89b1095620119fe3e050e2b18c5bd2752f",
    "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af",
    "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f",
    "TC3-HMAC-SHA256 Credential=AKID********************************/2019-02-25/cvm/tc3_request, "
    "SignedHeaders=content-type;host;x-tc-action, Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f",
  };
  g_assert_cmpuint (strlen (v.secret_key), ==, 32);
  check_tc3 (&v);
}

static void
test_tc3_vector_f (void)
{
  Tc3Vector v = {
    "AKIDTestSecretId0123456789", "TestSecretKey0123456789abcdefABCD", TRUE,
    "faceid.tencentcloudapi.com", "faceid", "DetectAIFakeFaces",
    "{\"FaceInput\":\"/9j/4AAQSkZJRg==\",\"FaceInputType\":1}", 1700000000,
    "36e4798e5acea485379cee6d8eaa5a497238270bbb4b7f8704163294aa5a53c2",
    "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:faceid.tencentcloudapi.com\n"
    "x-tc-action:detectaifakefaces\n\ncontent-type;host;x-tc-action\n"
    "36e4798e5acea485379cee6d8eaa5a497238270bbb4b7f8704163294aa5a53c2",
    "84b751c59c522edb2c8cf6d0396f9139f2fb7bebe7251289dd34eed440ab963d",
    "TC3-HMAC-SHA256\n1700000000\n2023-11-14/faceid/tc3_request\n"
    "84b751c59c522edb2c8cf6d0396f9139f2fb7bebe7251289dd34eed440ab963d",
    "7290a89454977f877419c9d0ca3fc16659cba8d25c93de3a72905298426d066a",
    "d007d61fd011c8927e6fc966458d7c163ea152dbc286d0e851c11eb33aba1f81",
    "7dc3d32a6a2a633e176746a5c56966ff112bbc9ccecb54acb0a90dd8dd63d389",
    "a92e58c4a410d3671c6a59389a49a042c95509e4341c520945fb0f55b45ef59a",
    "TC3-HMAC-SHA256 Credential=AKIDTestSecretId0123456789/2023-11-14/faceid/tc3_request, "
    "SignedHeaders=content-type;host;x-tc-action, Signature=a92e58c4a410d3671c6a59389a49a042c95509e4341c520945fb0f55b45ef59a",
  };
  check_tc3 (&v);
}

/* The scope's date is the UTC day: 1551052800 is 2019-02-25 00:00:00 UTC,
 * one second earlier is still the 24th whatever TZ says. */
static void
test_tc3_utc_date (void)
{
  g_setenv ("TZ", "Asia/Shanghai", TRUE);
  VhSignParam headers[] = { { "content-type", "application/json; charset=utf-8" }, { "host", "cvm.tencentcloudapi.com" } };
  VhTc3Input in = { "POST", "/", "", headers, 2, "{}", 2, "cvm", 1551052799, "id", "key" };
  VhSignature s;
  vh_sign_tc3 (&in, &s);
  g_assert_cmpstr (s.credential_scope, ==, "2019-02-24/cvm/tc3_request");
  vh_signature_clear (&s);
  in.timestamp = 1551052800;
  vh_sign_tc3 (&in, &s);
  g_assert_cmpstr (s.credential_scope, ==, "2019-02-25/cvm/tc3_request");
  vh_signature_clear (&s);
}

/* ---------------------------------------------------------- OSS V1 */

/* No worked example in the notes; the layout of the string to sign is the
 * documented formula (Authorization = "OSS " id ":" base64(hmac-sha1(...))). */
static void
test_oss_v1_layout (void)
{
  VhSignParam headers[] = {
    { "Content-Type", "image/jpeg" }, { "X-OSS-Security-Token", "tok" }, { "x-oss-meta-a", " b " },
    { "Date", "Sun, 22 Nov 2015 08:16:38 GMT" },
  };
  VhSignature s;
  vh_sign_oss_v1 ("PUT", NULL, "image/jpeg", "Sun, 22 Nov 2015 08:16:38 GMT", headers, G_N_ELEMENTS (headers),
                  "/bucket/dir/a.jpg", "STS.id", "secret", &s);
  g_assert_cmpstr (s.string_to_sign, ==,
                   "PUT\n\nimage/jpeg\nSun, 22 Nov 2015 08:16:38 GMT\nx-oss-meta-a:b\nx-oss-security-token:tok\n"
                   "/bucket/dir/a.jpg");
  g_assert_true (g_str_has_prefix (s.authorization, "OSS STS.id:"));
  g_assert_cmpuint (strlen (s.signature), ==, 28);     /* base64 of 20 bytes */
  vh_signature_clear (&s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sign/percent-encoding", test_percent_encoding);
  g_test_add_func ("/sign/helpers", test_helpers);
  g_test_add_func ("/sign/acs3/example-a-official", test_acs3_example_a);
  g_test_add_func ("/sign/acs3/example-b-form-body", test_acs3_example_b);
  g_test_add_func ("/sign/rpc/example-c-official", test_rpc_example_c);
  g_test_add_func ("/sign/rpc/example-d-body-parameter", test_rpc_example_d);
  g_test_add_func ("/sign/tc3/vector-b-official-older", test_tc3_vector_b);
  g_test_add_func ("/sign/tc3/vector-a-official-current", test_tc3_vector_a);
  g_test_add_func ("/sign/tc3/vector-f-detectaifakefaces", test_tc3_vector_f);
  g_test_add_func ("/sign/tc3/utc-date", test_tc3_utc_date);
  g_test_add_func ("/sign/oss-v1/layout", test_oss_v1_layout);
  return g_test_run ();
}
