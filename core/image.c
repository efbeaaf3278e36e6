/* Image helpers: decode by content (JPEG, PNG, WebP — contest files named
 * .jpg are often PNG, some with alpha), encode, resize, and fit an image to a
 * provider's documented limits. */
#include "vh-private.h"
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>
#include <math.h>
#include <stdlib.h>

/* Refuse absurd dimensions before allocating: 100 Mpx is far above any
 * contest image (5000x3300 is the largest seen) and any provider output. */
#define VH_MAX_DECODE_PIXELS (100 * 1000 * 1000)

VhImageFormat
vh_image_sniff (GBytes *bytes)
{
  gsize n = 0;
  const guint8 *d = bytes ? g_bytes_get_data (bytes, &n) : NULL;
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
    return VH_FORMAT_JPEG;
  if (n >= 8 && memcmp (d, "\x89PNG\r\n\x1a\n", 8) == 0)
    return VH_FORMAT_PNG;
  if (n >= 12 && memcmp (d, "RIFF", 4) == 0 && memcmp (d + 8, "WEBP", 4) == 0)
    return VH_FORMAT_WEBP;
  return VH_FORMAT_UNKNOWN;
}

const char *
vh_image_mime (VhImageFormat format)
{
  switch (format)
    {
    case VH_FORMAT_JPEG: return "image/jpeg";
    case VH_FORMAT_PNG: return "image/png";
    case VH_FORMAT_WEBP: return "image/webp";
    default: return "application/octet-stream";
    }
}

VhPixels *
vh_pixels_new (gint width, gint height)
{
  VhPixels *p = g_new0 (VhPixels, 1);
  p->width = width;
  p->height = height;
  p->rgb = g_malloc0 ((gsize) width * (gsize) height * 3);
  return p;
}

void
vh_pixels_free (VhPixels *pixels)
{
  if (pixels == NULL)
    return;
  g_free (pixels->rgb);
  g_free (pixels);
}

void
vh_image_free (VhImage *image)
{
  if (image == NULL)
    return;
  g_clear_pointer (&image->bytes, g_bytes_unref);
  g_free (image);
}

/* ------------------------------------------------------------------ JPEG */

typedef struct {
  struct jpeg_error_mgr base;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} JpegErr;

static void
jpeg_fail (j_common_ptr cinfo)
{
  JpegErr *err = (JpegErr *) cinfo->err;
  err->base.format_message (cinfo, err->message);
  longjmp (err->jump, 1);
}

static void
jpeg_quiet (j_common_ptr cinfo, int level)
{
  /* Warnings (e.g. "premature end of data") are not fatal for libjpeg but a
   * truncated file must not pass as a valid submission image. */
  JpegErr *err = (JpegErr *) cinfo->err;
  if (level < 0 && err->base.num_warnings++ == 0)
    err->base.format_message (cinfo, err->message);
}

/* EXIF orientation (1..8) from an APP1 marker, 1 when absent. */
static int
jpeg_exif_orientation (struct jpeg_decompress_struct *cinfo)
{
  for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next)
    {
      if (m->marker != JPEG_APP0 + 1 || m->data_length < 14 || memcmp (m->data, "Exif\0\0", 6) != 0)
        continue;
      const guint8 *t = m->data + 6;
      gsize len = m->data_length - 6;
      gboolean le = t[0] == 'I';
#define RD16(p) (le ? (guint) ((p)[0] | (p)[1] << 8) : (guint) ((p)[0] << 8 | (p)[1]))
#define RD32(p) (le ? ((guint32) (p)[0] | (guint32) (p)[1] << 8 | (guint32) (p)[2] << 16 | (guint32) (p)[3] << 24) \
                    : ((guint32) (p)[0] << 24 | (guint32) (p)[1] << 16 | (guint32) (p)[2] << 8 | (guint32) (p)[3]))
      guint32 ifd = RD32 (t + 4);
      if (ifd + 2 > len)
        return 1;
      guint count = RD16 (t + ifd);
      for (guint i = 0; i < count; i++)
        {
          gsize e = ifd + 2 + (gsize) i * 12;
          if (e + 12 > len)
            break;
          if (RD16 (t + e) == 0x0112)
            {
              guint v = RD16 (t + e + 8);
              return v >= 1 && v <= 8 ? (int) v : 1;
            }
        }
#undef RD16
#undef RD32
    }
  return 1;
}

static VhPixels *
orient (VhPixels *src, int o)
{
  if (o <= 1)
    return src;
  gboolean swap = o >= 5;
  gint w = src->width, h = src->height;
  VhPixels *dst = vh_pixels_new (swap ? h : w, swap ? w : h);
  for (gint y = 0; y < h; y++)
    for (gint x = 0; x < w; x++)
      {
        gint dx, dy;
        switch (o)
          {
          case 2: dx = w - 1 - x; dy = y; break;
          case 3: dx = w - 1 - x; dy = h - 1 - y; break;
          case 4: dx = x; dy = h - 1 - y; break;
          case 5: dx = y; dy = x; break;
          case 6: dx = h - 1 - y; dy = x; break;
          case 7: dx = h - 1 - y; dy = w - 1 - x; break;
          default: dx = y; dy = w - 1 - x; break; /* 8 */
          }
        memcpy (dst->rgb + ((gsize) dy * dst->width + dx) * 3, src->rgb + ((gsize) y * w + x) * 3, 3);
      }
  vh_pixels_free (src);
  return dst;
}

static VhPixels *
decode_jpeg (const guint8 *data, gsize len, GError **error)
{
  struct jpeg_decompress_struct cinfo;
  JpegErr err;
  VhPixels *volatile out = NULL;
  memset (&err, 0, sizeof err);
  cinfo.err = jpeg_std_error (&err.base);
  err.base.error_exit = jpeg_fail;
  err.base.emit_message = jpeg_quiet;
  if (setjmp (err.jump))
    {
      vh_pixels_free (out);
      jpeg_destroy_decompress (&cinfo);
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, _("JPEG does not decode: %s"), err.message);
      return NULL;
    }
  jpeg_create_decompress (&cinfo);
  jpeg_mem_src (&cinfo, data, (unsigned long) len);
  jpeg_save_markers (&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header (&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;  /* grayscale and YCbCr both come out as RGB; CMYK errors out */
  if ((guint64) cinfo.image_width * cinfo.image_height > VH_MAX_DECODE_PIXELS)
    {
      g_snprintf (err.message, sizeof err.message, "%ux%u is too large", cinfo.image_width, cinfo.image_height);
      longjmp (err.jump, 1);
    }
  jpeg_start_decompress (&cinfo);
  out = vh_pixels_new ((gint) cinfo.output_width, (gint) cinfo.output_height);
  while (cinfo.output_scanline < cinfo.output_height)
    {
      JSAMPROW row = out->rgb + (gsize) cinfo.output_scanline * out->width * 3;
      jpeg_read_scanlines (&cinfo, &row, 1);
    }
  int o = jpeg_exif_orientation (&cinfo);
  jpeg_finish_decompress (&cinfo);
  if (err.base.num_warnings > 0)
    longjmp (err.jump, 1);
  jpeg_destroy_decompress (&cinfo);
  return orient (out, o);
}

VhImage *
vh_image_encode_jpeg (const VhPixels *pixels, gint quality, GError **error)
{
  struct jpeg_compress_struct cinfo;
  JpegErr err;
  unsigned char *buf = NULL;
  unsigned long size = 0;
  memset (&err, 0, sizeof err);
  cinfo.err = jpeg_std_error (&err.base);
  err.base.error_exit = jpeg_fail;
  if (setjmp (err.jump))
    {
      jpeg_destroy_compress (&cinfo);
      free (buf);
      vh_set_error (error, VH_ERROR_INTERNAL, -1, "JPEG encode: %s", err.message);
      return NULL;
    }
  jpeg_create_compress (&cinfo);
  jpeg_mem_dest (&cinfo, &buf, &size);
  cinfo.image_width = (JDIMENSION) pixels->width;
  cinfo.image_height = (JDIMENSION) pixels->height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, CLAMP (quality, 1, 100), TRUE);
  jpeg_start_compress (&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height)
    {
      JSAMPROW row = pixels->rgb + (gsize) cinfo.next_scanline * pixels->width * 3;
      jpeg_write_scanlines (&cinfo, &row, 1);
    }
  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);
  VhImage *img = g_new0 (VhImage, 1);
  img->bytes = g_bytes_new (buf, size);
  free (buf);
  img->width = pixels->width;
  img->height = pixels->height;
  return img;
}

/* ------------------------------------------------------------------ PNG */

static VhPixels *
decode_png (const guint8 *data, gsize len, GError **error)
{
  png_image png;
  memset (&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory (&png, data, len))
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, _("PNG does not decode: %s"), png.message);
      return NULL;
    }
  if ((guint64) png.width * png.height > VH_MAX_DECODE_PIXELS)
    {
      png_image_free (&png);
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, _("PNG is too large: %ux%u"), png.width, png.height);
      return NULL;
    }
  /* Alpha is composited over white: providers and the contest want RGB. */
  png.format = PNG_FORMAT_RGB;
  png_color white = { 255, 255, 255 };
  VhPixels *out = vh_pixels_new ((gint) png.width, (gint) png.height);
  if (!png_image_finish_read (&png, &white, out->rgb, 0, NULL))
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, _("PNG does not decode: %s"), png.message);
      png_image_free (&png);
      vh_pixels_free (out);
      return NULL;
    }
  return out;
}

VhImage *
vh_image_encode_png (const VhPixels *pixels, GError **error)
{
  png_image png;
  memset (&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = (png_uint_32) pixels->width;
  png.height = (png_uint_32) pixels->height;
  png.format = PNG_FORMAT_RGB;
  /* One compression pass into a buffer of libpng's worst-case size (a
   * first pass only to learn the size would double the cost, which is most
   * of the cost of a PNG); the buffer is shrunk to fit afterwards. */
  png_alloc_size_t size = PNG_IMAGE_PNG_SIZE_MAX (png);
  guint8 *buf = size > 0 ? g_try_malloc (size) : NULL;
  if (buf == NULL)
    {
      vh_set_error (error, VH_ERROR_INTERNAL, -1, "PNG encode: %dx%d is too large", pixels->width, pixels->height);
      return NULL;
    }
  if (!png_image_write_to_memory (&png, buf, &size, 0, pixels->rgb, 0, NULL))
    {
      g_free (buf);
      goto fail;
    }
  VhImage *img = g_new0 (VhImage, 1);
  img->bytes = g_bytes_new_take (g_realloc (buf, size), size);
  img->width = pixels->width;
  img->height = pixels->height;
  return img;
fail:
  vh_set_error (error, VH_ERROR_INTERNAL, -1, "PNG encode: %s", png.message);
  png_image_free (&png);
  return NULL;
}

/* ------------------------------------------------------------------ WebP */

static VhPixels *
decode_webp (const guint8 *data, gsize len, GError **error)
{
  int w = 0, h = 0;
  if (!WebPGetInfo (data, len, &w, &h) || (guint64) w * h > VH_MAX_DECODE_PIXELS)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "%s", _("WebP does not decode"));
      return NULL;
    }
  guint8 *rgba = WebPDecodeRGBA (data, len, &w, &h);
  if (rgba == NULL)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "%s", _("WebP does not decode"));
      return NULL;
    }
  VhPixels *out = vh_pixels_new (w, h);
  for (gsize i = 0; i < (gsize) w * h; i++)
    for (int c = 0; c < 3; c++)
      {
        guint a = rgba[i * 4 + 3];
        out->rgb[i * 3 + c] = (guint8) ((rgba[i * 4 + c] * a + 255 * (255 - a) + 127) / 255);
      }
  WebPFree (rgba);
  return out;
}

/* ------------------------------------------------------------------ API */

VhPixels *
vh_image_decode (const VhImage *image, GError **error)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (image->bytes, &len);
  switch (vh_image_sniff (image->bytes))
    {
    case VH_FORMAT_JPEG: return decode_jpeg (data, len, error);
    case VH_FORMAT_PNG: return decode_png (data, len, error);
    case VH_FORMAT_WEBP: return decode_webp (data, len, error);
    default:
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "%s",
                    _("not a JPEG, PNG or WebP image (checked by content)"));
      return NULL;
    }
}

VhImage *
vh_image_new_from_bytes (GBytes *bytes, GError **error)
{
  if (vh_image_sniff (bytes) == VH_FORMAT_UNKNOWN)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "%s",
                    _("not a JPEG, PNG or WebP image (checked by content)"));
      return NULL;
    }
  VhImage *img = g_new0 (VhImage, 1);
  img->bytes = g_bytes_ref (bytes);
  return img;
}

VhImage *
vh_image_new_from_file (const char *path, GError **error)
{
  gchar *data = NULL;
  gsize len = 0;
  GError *local = NULL;
  if (!g_file_get_contents (path, &data, &len, &local))
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "%s", local->message);
      g_error_free (local);
      return NULL;
    }
  g_autoptr (GBytes) bytes = g_bytes_new_take (data, len);
  VhImage *img = vh_image_new_from_bytes (bytes, &local);
  if (img == NULL)
    {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "%s: %s", path, local->message);
      g_error_free (local);
    }
  return img;
}

/* Area average when shrinking (no aliasing on 10x reductions of 5000 px
 * photos), bilinear when growing. */
VhPixels *
vh_pixels_resize (const VhPixels *src, gint width, gint height)
{
  width = MAX (width, 1);
  height = MAX (height, 1);
  VhPixels *dst = vh_pixels_new (width, height);
  gdouble sx = (gdouble) src->width / width, sy = (gdouble) src->height / height;
  if (sx >= 1.0 && sy >= 1.0)
    {
      for (gint y = 0; y < height; y++)
        {
          gint y0 = (gint) (y * sy), y1 = MAX (y0 + 1, MIN ((gint) ((y + 1) * sy), src->height));
          for (gint x = 0; x < width; x++)
            {
              gint x0 = (gint) (x * sx), x1 = MAX (x0 + 1, MIN ((gint) ((x + 1) * sx), src->width));
              guint64 acc[3] = { 0, 0, 0 };
              for (gint yy = y0; yy < y1; yy++)
                {
                  const guint8 *p = src->rgb + ((gsize) yy * src->width + x0) * 3;
                  for (gint xx = x0; xx < x1; xx++, p += 3)
                    acc[0] += p[0], acc[1] += p[1], acc[2] += p[2];
                }
              guint64 n = (guint64) (y1 - y0) * (guint64) (x1 - x0);
              guint8 *q = dst->rgb + ((gsize) y * width + x) * 3;
              for (int c = 0; c < 3; c++)
                q[c] = (guint8) ((acc[c] + n / 2) / n);
            }
        }
      return dst;
    }
  for (gint y = 0; y < height; y++)
    {
      gdouble fy = CLAMP ((y + 0.5) * sy - 0.5, 0, src->height - 1);
      gint y0 = (gint) fy, y1 = MIN (y0 + 1, src->height - 1);
      gdouble wy = fy - y0;
      for (gint x = 0; x < width; x++)
        {
          gdouble fx = CLAMP ((x + 0.5) * sx - 0.5, 0, src->width - 1);
          gint x0 = (gint) fx, x1 = MIN (x0 + 1, src->width - 1);
          gdouble wx = fx - x0;
          for (int c = 0; c < 3; c++)
            {
              gdouble a = src->rgb[((gsize) y0 * src->width + x0) * 3 + c] * (1 - wx)
                          + src->rgb[((gsize) y0 * src->width + x1) * 3 + c] * wx;
              gdouble b = src->rgb[((gsize) y1 * src->width + x0) * 3 + c] * (1 - wx)
                          + src->rgb[((gsize) y1 * src->width + x1) * 3 + c] * wx;
              dst->rgb[((gsize) y * width + x) * 3 + c] = (guint8) CLAMP (a * (1 - wy) + b * wy + 0.5, 0, 255);
            }
        }
    }
  return dst;
}

static gboolean
fits (const VhImage *img, VhImageFormat fmt, const VhImageLimits *lim)
{
  gint lo = MIN (img->width, img->height), hi = MAX (img->width, img->height);
  return (lim->max_side <= 0 || hi <= lim->max_side)
         && (lim->min_side <= 0 || lo >= lim->min_side)
         && (lim->max_pixels <= 0 || (gint64) img->width * img->height <= lim->max_pixels)
         && (lim->max_bytes == 0 || g_bytes_get_size (img->bytes) <= lim->max_bytes)
         && (fmt == VH_FORMAT_JPEG || fmt == VH_FORMAT_PNG)
         && (lim->format == VH_FORMAT_UNKNOWN || lim->format == fmt);
}

VhImage *
vh_image_fit (const VhImage *image, const VhImageLimits *limits, GError **error)
{
  g_autoptr (VhPixels) px = vh_image_decode (image, error);
  if (px == NULL)
    return NULL;
  VhImageFormat fmt = vh_image_sniff (image->bytes);
  VhImage probe = { image->bytes, px->width, px->height };
  if (fits (&probe, fmt, limits))
    {
      VhImage *same = g_new0 (VhImage, 1);
      same->bytes = g_bytes_ref (image->bytes);
      same->width = px->width;
      same->height = px->height;
      return same;
    }
  /* Scale factor from the geometric limits, then lower the JPEG quality and
   * shrink further until the byte limit holds — but never below min_side:
   * an image under a provider's minimum is refused as surely as one over
   * its byte limit. */
  gdouble scale = 1.0;
  gint lo = MIN (px->width, px->height), hi = MAX (px->width, px->height);
  if (limits->max_side > 0 && hi > limits->max_side)
    scale = MIN (scale, (gdouble) limits->max_side / hi);
  if (limits->max_pixels > 0 && (gint64) px->width * px->height > limits->max_pixels)
    scale = MIN (scale, sqrt ((gdouble) limits->max_pixels / ((gdouble) px->width * px->height)));
  if (limits->min_side > 0 && lo * scale < limits->min_side)
    scale = (gdouble) limits->min_side / lo;
  gdouble min_scale = limits->min_side > 0 ? (gdouble) limits->min_side / lo : 0.0;
  VhImageFormat out_fmt = limits->format == VH_FORMAT_PNG ? VH_FORMAT_PNG : VH_FORMAT_JPEG;
  gint quality = 92;
  for (int attempt = 0; attempt < 24; attempt++)
    {
      gint w = MAX (1, (gint) floor (px->width * scale + 0.5)), h = MAX (1, (gint) floor (px->height * scale + 0.5));
      if (limits->max_side > 0)
        w = MIN (w, limits->max_side), h = MIN (h, limits->max_side);
      /* Rounding may undershoot the minimum by a pixel on the shorter side. */
      if (limits->min_side > 0 && MIN (w, h) < limits->min_side && MIN (w, h) + 1 >= limits->min_side)
        {
          if (w <= h)
            w = limits->min_side;
          else
            h = limits->min_side;
        }
      /* Rounding may overshoot the pixel limit by a row: trim the longer side. */
      while (limits->max_pixels > 0 && (gint64) w * h > limits->max_pixels && w > 1 && h > 1)
        {
          if (w >= h)
            w--;
          else
            h--;
        }
      g_autoptr (VhPixels) scaled = (w == px->width && h == px->height) ? NULL : vh_pixels_resize (px, w, h);
      const VhPixels *use = scaled ? scaled : px;
      VhImage *out = out_fmt == VH_FORMAT_PNG ? vh_image_encode_png (use, error)
                                              : vh_image_encode_jpeg (use, quality, error);
      if (out == NULL)
        return NULL;
      if (limits->max_bytes == 0 || g_bytes_get_size (out->bytes) <= limits->max_bytes)
        return out;
      gdouble ratio = (gdouble) limits->max_bytes / g_bytes_get_size (out->bytes);
      vh_image_free (out);
      gboolean at_floor = scale <= min_scale * 1.0001;
      if (out_fmt == VH_FORMAT_JPEG && (quality > 80 || (at_floor && quality > 20)))
        quality -= at_floor ? 10 : 6;
      else if (!at_floor)
        scale = MAX (min_scale, scale * MIN (0.9, sqrt (ratio) * 0.95));
      else
        break;
    }
  vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, _("image cannot be made to fit %zu bytes"),
                limits->max_bytes);
  return NULL;
}

gchar *
vh_image_to_base64 (const VhImage *image)
{
  gsize n = 0;
  const guint8 *d = g_bytes_get_data (image->bytes, &n);
  return g_base64_encode (d, n);
}

gchar *
vh_image_to_data_uri (const VhImage *image)
{
  g_autofree gchar *b64 = vh_image_to_base64 (image);
  return g_strdup_printf ("data:%s;base64,%s", vh_image_mime (vh_image_sniff (image->bytes)), b64);
}

VhImage *
vh_image_to_submission_jpeg (const VhImage *image, gint quality, GError **error)
{
  g_autoptr (VhPixels) px = vh_image_decode (image, error);
  if (px == NULL)
    return NULL;
  return vh_image_encode_jpeg (px, quality, error);
}
