/* The detector services of the emulator (Alibaba Cloud cloudauth and green,
 * the OSS uploads they rely on, Tencent faceid): what their files share.
 *
 * They verify signatures the way the services do, with plugins/common's
 * vh-sign (the same code the plugins sign with; tests/detectors/test-sign
 * pins it to the official worked examples):
 *   unknown key id, bad signature, date/timestamp off by more than the
 *   documented window (Alibaba 15 min, Tencent 5 min), reused Alibaba nonce
 *   are refused with the documented codes and bodies.
 *
 * Credentials accepted (id:secret), first match wins:
 *   config "keys": {"aliyun": ["ID:SECRET", ...], "tencent": ["ID:SECRET", ...]}
 *   --keys ID:SECRET,... (also aliyun:ID:SECRET / tencent:ID:SECRET)
 *   defaults: aliyun LTAItestkey0000001:test-secret,
 *             tencent AKIDtest0000000000000000:test-secret-key
 * plus the temporary STS credentials the green upload token hands out.
 *
 * Settings (qps, latency_ms, retry_after_s) come from each endpoint's
 * documented defaults, overlaid by the config's "defaults" and matching
 * "endpoints" entries. */
#ifndef VH_EMU_DETECTORS_H
#define VH_EMU_DETECTORS_H

#include "emu.h"
#include "vh-sign.h"

G_BEGIN_DECLS

#define EMU_DET_ALIYUN_ID      "LTAItestkey0000001"
#define EMU_DET_ALIYUN_SECRET  "test-secret"
#define EMU_DET_TENCENT_ID     "AKIDtest0000000000000000"
#define EMU_DET_TENCENT_SECRET "test-secret-key"
#define EMU_DET_OSS_PREFIX     "/aliyun-oss"      /* the bucket host's path on this emulator */

/* The secret of a key id (family "aliyun" or "tencent"), or NULL. */
const char *emu_det_secret (EmuServer *emu, const char *family, const char *id);
/* Temporary credentials (green DescribeUploadToken); a copy of the secret
 * and token are kept until `expires` (unix s). */
void        emu_det_sts_add (const char *id, const char *secret, const char *token, const char *prefix,
                             gint64 expires);
/* The STS secret for `id` when `token` matches and it has not expired; prefix out. */
const char *emu_det_sts_lookup (const char *id, const char *token, const char **prefix, gboolean *expired);

/* Resolved settings: documented defaults overlaid by the config. */
void        emu_det_settings (EmuServer *emu, const char *endpoint, gdouble qps, gdouble lat_min_ms,
                              gdouble lat_max_ms, EmuSettings *out);

/* Request parameters of an Alibaba RPC-style call: the query and a form
 * body merged (the body wins); a new table of decoded strings. */
GHashTable *emu_det_params (EmuRequest *req);

/* Alibaba POP: verifies V3 (Authorization header) or RPC (Signature
 * parameter).  On failure the request is answered with the POP error body
 * and FALSE comes back; on success *key_id is the caller's AccessKeyId and
 * *action its action. */
gboolean    emu_det_aliyun_verify (EmuRequest *req, GHashTable *params, const char **key_id, const char **action);
/* {"RequestId","HostId","Code","Message","Recommend"} with `status`. */
void        emu_det_pop_error (EmuRequest *req, guint status, const char *code, const char *message);

/* Decoded base64 (strict, as the services are), or NULL. */
GBytes     *emu_det_base64 (const char *text);
/* TRUE when the bytes decode as an image. */
gboolean    emu_det_is_image (GBytes *bytes);
/* SHA-256 of the image bytes: verdicts are a function of it, so tests
 * predict them from the file they sent (byte 0 is the "risk"). */
void        emu_det_digest (GBytes *bytes, guint8 out[32]);

/* The uploaded objects (both OSS flows), by bucket and key. */
void        emu_det_object_put (const char *bucket, const char *key, GBytes *bytes);
GBytes     *emu_det_object_get (const char *bucket, const char *key);   /* a new reference or NULL */
/* http(s)://<bucket>.<host>/aliyun-oss/<key> -> bucket and key (new strings). */
gboolean    emu_det_object_url (const char *url, gchar **bucket, gchar **key);

/* Admits a call against the endpoint's qps (per key id); FALSE when over,
 * with the wait to advertise. */
gboolean    emu_det_admit (EmuRequest *req, const EmuSettings *s, const char *key_id, gdouble *retry_after_s);

G_END_DECLS
#endif /* VH_EMU_DETECTORS_H */
