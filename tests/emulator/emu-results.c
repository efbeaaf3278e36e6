/* Result images and their delivery.  A result is registered when its task
 * is created (the token is unguessable, so nobody fetches it early) and
 * rendered on the first download, then cached.  The pixels depend on the
 * prompt, the seed and the image index (a colour from a hash plus
 * gradients and a checker pattern), and an edit blends in its input, so a
 * test can tell outputs apart and see that an edit came from its input.
 * Expiry answers the way the real delivery stores do: OSS (DashScope)
 * and Azure-style blob storage (BFL) both say 403 with an XML body. */
#include "emu.h"
#include <string.h>

typedef struct {
  gchar      *token;
  gchar      *family;
  EmuGenSpec *spec;
  gint        index;
  gint64      expires_us;
  gboolean    force_expired;
  GBytes     *cached;
} EmuResult;

/* ------------------------------------------------------------ specs */

EmuGenSpec *
emu_gen_spec_new (const char *prompt, gint64 seed, gint width, gint height, VhImageFormat format,
                  const VhPixels *input)
{
  EmuGenSpec *s = g_rc_box_new0 (EmuGenSpec);
  s->prompt = g_strdup (prompt ? prompt : "");
  s->seed = seed;
  s->width = width;
  s->height = height;
  s->format = format;
  if (input)
    {
      /* A thumbnail is enough to blend from and keeps big inputs out of memory. */
      gint side = MAX (input->width, input->height);
      gdouble k = side > 256 ? 256.0 / side : 1.0;
      s->input = vh_pixels_resize (input, MAX (1, (gint) (input->width * k)), MAX (1, (gint) (input->height * k)));
    }
  return s;
}

EmuGenSpec *
emu_gen_spec_ref (EmuGenSpec *spec)
{
  return g_rc_box_acquire (spec);
}

static void
spec_clear (gpointer p)
{
  EmuGenSpec *s = p;
  g_free (s->prompt);
  if (s->input)
    vh_pixels_free (s->input);
}

void
emu_gen_spec_unref (EmuGenSpec *spec)
{
  g_rc_box_release_full (spec, spec_clear);
}

static guint64
fnv1a (const char *s, guint64 h)
{
  for (; *s; s++)
    h = (h ^ (guint8) *s) * 1099511628211ULL;
  return h;
}

VhImage *
emu_render (const EmuGenSpec *spec, gint index, GError **error)
{
  gint w = MAX (1, spec->width), h = MAX (1, spec->height);
  guint64 hash = fnv1a (spec->prompt, 1469598103934665603ULL);
  hash = (hash ^ (guint64) spec->seed) * 1099511628211ULL;
  hash = (hash ^ (guint64) (index + 1)) * 1099511628211ULL;
  /* Keep the base colour away from black so the gradient stays visible. */
  guint r0 = 48 + (hash & 0xff) % 200, g0 = 48 + ((hash >> 8) & 0xff) % 200, b0 = 48 + ((hash >> 16) & 0xff) % 200;
  guint cell = 16 + (guint) ((hash >> 24) % 48);
  VhPixels *px = vh_pixels_new (w, h);
  VhPixels *in = spec->input ? vh_pixels_resize (spec->input, w, h) : NULL;
  for (gint y = 0; y < h; y++)
    for (gint x = 0; x < w; x++)
      {
        gdouble t = w > 1 ? (gdouble) x / (w - 1) : 0, u = h > 1 ? (gdouble) y / (h - 1) : 0;
        gint bump = (((guint) x / cell + (guint) y / cell) & 1) ? 12 : -12;
        gint r = (gint) (r0 * (0.55 + 0.45 * t)) + bump;
        gint g = (gint) (g0 * (0.55 + 0.45 * u)) + bump;
        gint b = (gint) (b0 * (1.0 - 0.35 * t)) + bump;
        guint8 *o = px->rgb + ((gsize) y * w + x) * 3;
        if (in)
          {
            const guint8 *p = in->rgb + ((gsize) y * w + x) * 3;
            r = (r + p[0]) / 2, g = (g + p[1]) / 2, b = (b + p[2]) / 2;
          }
        o[0] = (guint8) CLAMP (r, 0, 255);
        o[1] = (guint8) CLAMP (g, 0, 255);
        o[2] = (guint8) CLAMP (b, 0, 255);
      }
  if (in)
    vh_pixels_free (in);
  VhImage *img = spec->format == VH_FORMAT_PNG ? vh_image_encode_png (px, error)
                                              : vh_image_encode_jpeg (px, 90, error);
  vh_pixels_free (px);
  return img;
}

/* ------------------------------------------------------------ store */

static void
result_free (EmuResult *r)
{
  g_free (r->token);
  g_free (r->family);
  emu_gen_spec_unref (r->spec);
  if (r->cached)
    g_bytes_unref (r->cached);
  g_free (r);
}

void
emu_results_clear (EmuServer *emu)
{
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, emu->results);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      g_hash_table_iter_steal (&it);
      result_free (v);
    }
}

void
emu_results_sweep (EmuServer *emu)
{
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, emu->results);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      EmuResult *r = v;
      if (r->cached && (r->force_expired || g_get_real_time () >= r->expires_us))
        g_clear_pointer (&r->cached, g_bytes_unref);
    }
}

gchar *
emu_results_add (EmuServer *emu, const char *family, EmuGenSpec *spec, gint index, gint64 expires_us,
                 gboolean force_expired)
{
  EmuResult *r = g_new0 (EmuResult, 1);
  r->token = g_strdup_printf ("%08x%08x%08x%08x", g_rand_int (emu->rand), g_rand_int (emu->rand),
                              g_rand_int (emu->rand), g_rand_int (emu->rand));
  r->family = g_strdup (family);
  r->spec = emu_gen_spec_ref (spec);
  r->index = index;
  r->expires_us = expires_us;
  r->force_expired = force_expired;
  g_hash_table_insert (emu->results, r->token, r);
  gboolean png = spec->format == VH_FORMAT_PNG;
  gint64 exp_s = expires_us / G_USEC_PER_SEC;
  /* Query strings shaped like the real signed URLs (they are not checked). */
  if (!g_strcmp0 (family, "bfl"))
    return g_strdup_printf ("%s/results/%s.%s?se=%" G_GINT64_FORMAT "&sp=r&sig=%.16s", emu->base_url, r->token,
                            png ? "png" : "jpeg", exp_s, r->token + 8);
  return g_strdup_printf ("%s/results/%s.%s?Expires=%" G_GINT64_FORMAT "&OSSAccessKeyId=LTAIemulator&Signature=%.16s",
                          emu->base_url, r->token, png ? "png" : "jpg", exp_s, r->token + 4);
}

static EmuResult *
lookup_path (EmuServer *emu, const char *path)
{
  const char *name = strrchr (path, '/');
  name = name ? name + 1 : path;
  gsize len = strcspn (name, ".?");
  gchar *token = g_strndup (name, len);
  EmuResult *r = g_hash_table_lookup (emu->results, token);
  g_free (token);
  return r;
}

static GBytes *
result_bytes (EmuResult *r, GError **error)
{
  if (!r->cached)
    {
      VhImage *img = emu_render (r->spec, r->index, error);
      if (!img)
        return NULL;
      r->cached = g_bytes_ref (img->bytes);
      vh_image_free (img);
    }
  return g_bytes_ref (r->cached);
}

static gboolean
result_expired (const EmuResult *r)
{
  return r->force_expired || g_get_real_time () >= r->expires_us;
}

GBytes *
emu_results_lookup_bytes (EmuServer *emu, const char *url_or_path)
{
  gchar *path = g_strdup (url_or_path);
  path[strcspn (path, "?")] = '\0';
  EmuResult *r = lookup_path (emu, path);
  g_free (path);
  if (!r || result_expired (r))
    return NULL;
  return result_bytes (r, NULL);
}

/* ------------------------------------------------------------ delivery */

static void
xml_error (EmuRequest *req, guint status, const char *code, const char *message)
{
  gchar *rid = emu_new_id (req->emu, NULL);
  gchar *body = g_strdup_printf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>%s</Code>\n"
                                 "  <Message>%s</Message>\n  <RequestId>%s</RequestId>\n"
                                 "  <HostId>127.0.0.1</HostId>\n</Error>\n",
                                 code ? code : (status == 429 ? "SlowDown" : "InternalError"),
                                 message ? message : (status == 429 ? "Please reduce your request rate." : "We encountered an internal error. Please try again."),
                                 rid);
  emu_reply_text (req, status, "application/xml", body);
  g_free (body);
  g_free (rid);
}

static void
results_handle (EmuRequest *req)
{
  EmuServer *emu = req->emu;
  emu_request_set_endpoint (req, "results", EMU_KIND_DOWNLOAD, NULL);
  if (strcmp (req->method, "GET") && strcmp (req->method, "HEAD"))
    {
      xml_error (req, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
      return;
    }
  if (emu_faults_request (req, xml_error))
    return;
  EmuResult *r = lookup_path (emu, req->path);
  if (!r)
    {
      xml_error (req, 404, "NoSuchKey", "The specified key does not exist.");
      return;
    }
  gboolean bfl = !g_strcmp0 (r->family, "bfl");
  if (result_expired (r) || req->fault.type == EMU_FAULT_EXPIRED_URL)
    {
      emu_stat_inc (emu, "results_expired");
      if (bfl)
        xml_error (req, 403, "AuthenticationFailed",
                   "Server failed to authenticate the request. Signature not valid in the specified time frame");
      else
        xml_error (req, 403, "AccessDenied", "Request has expired.");
      return;
    }
  /* A signed OSS URL plus an Authorization header is two auth mechanisms;
   * OSS refuses it, and the DashScope key must never travel to OSS anyway. */
  if (!bfl && emu_request_header (req, "Authorization"))
    {
      xml_error (req, 400, "InvalidArgument", "Only one auth mechanism allowed; the URL is signed, do not send Authorization.");
      return;
    }
  GError *error = NULL;
  GBytes *bytes = result_bytes (r, &error);
  if (!bytes)
    {
      xml_error (req, 500, "InternalError", error ? error->message : "render failed");
      g_clear_error (&error);
      return;
    }
  emu_stat_inc (emu, "results_served");
  emu_reply_bytes (req, 200, vh_image_mime (r->spec->format), bytes);
  g_bytes_unref (bytes);
}

const EmuFamily emu_family_results = { "results", "/results", TRUE, results_handle };
