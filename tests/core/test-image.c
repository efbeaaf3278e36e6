/* image.c: decoding by content, alpha over white, WebP, truncated files,
 * resizing and fitting an image to a provider's limits. */
#include "util.h"
#include "vh-private.h"
#include <string.h>
#include <png.h>
#include <webp/encode.h>

static void
assert_rgb (const VhPixels *px, gint x, gint y, gint r, gint g, gint b, gint tolerance)
{
  const guint8 *p = px->rgb + ((gsize) y * px->width + x) * 3;
  g_assert_cmpint (ABS (p[0] - r), <=, tolerance);
  g_assert_cmpint (ABS (p[1] - g), <=, tolerance);
  g_assert_cmpint (ABS (p[2] - b), <=, tolerance);
}

static VhImage *
image_from (GBytes *bytes)
{
  GError *error = NULL;
  VhImage *img = vh_image_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  g_assert_nonnull (img);
  return img;
}

static VhPixels *
decode_ok (const VhImage *img)
{
  GError *error = NULL;
  VhPixels *px = vh_image_decode (img, &error);
  g_assert_no_error (error);
  g_assert_nonnull (px);
  return px;
}

/* ------------------------------------------------------------ sniffing */

static void
test_sniff_by_content (void)
{
  g_autofree gchar *dir = tu_tmpdir ();
  g_autoptr (GBytes) png = tu_png_bytes (40, 30);
  /* A PNG named .jpg, as the contest's files sometimes are. */
  g_autofree gchar *path = tu_write (dir, "photo.jpg", g_bytes_get_data (png, NULL), (gssize) g_bytes_get_size (png));
  GError *error = NULL;
  g_autoptr (VhImage) img = vh_image_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (vh_image_sniff (img->bytes), ==, VH_FORMAT_PNG);
  g_assert_cmpstr (vh_image_mime (vh_image_sniff (img->bytes)), ==, "image/png");
  g_autoptr (VhPixels) px = decode_ok (img);
  g_assert_cmpint (px->width, ==, 40);
  g_assert_cmpint (px->height, ==, 30);

  g_autoptr (GBytes) jpeg = tu_jpeg_bytes (8, 8);
  g_assert_cmpint (vh_image_sniff (jpeg), ==, VH_FORMAT_JPEG);
  g_assert_cmpstr (vh_image_mime (VH_FORMAT_JPEG), ==, "image/jpeg");
  g_assert_cmpstr (vh_image_mime (VH_FORMAT_WEBP), ==, "image/webp");

  /* Not an image, whatever the name says. */
  g_autofree gchar *text = tu_write (dir, "fake.png", "just some text, no image", -1);
  g_assert_null (vh_image_new_from_file (text, &error));
  g_assert_error (error, VH_ERROR, VH_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "fake.png"));
  g_clear_error (&error);
  g_autofree gchar *missing = g_build_filename (dir, "missing.jpg", NULL);
  g_assert_null (vh_image_new_from_file (missing, &error));
  g_assert_error (error, VH_ERROR, VH_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  g_assert_cmpint (vh_image_sniff (NULL), ==, VH_FORMAT_UNKNOWN);
  tu_rmtree (dir);
}

static void
test_data_uri (void)
{
  g_autoptr (GBytes) png = tu_png_bytes (4, 4);
  g_autoptr (VhImage) img = image_from (png);
  g_autofree gchar *b64 = vh_image_to_base64 (img);
  g_autofree gchar *uri = vh_image_to_data_uri (img);
  g_autofree gchar *expected = g_strconcat ("data:image/png;base64,", b64, NULL);
  g_assert_cmpstr (uri, ==, expected);
  gsize n = 0;
  g_autofree guchar *back = g_base64_decode (b64, &n);
  g_assert_cmpmem (back, n, g_bytes_get_data (png, NULL), g_bytes_get_size (png));
}

/* ------------------------------------------------------------ decoding */

static void
test_png_alpha_over_white (void)
{
  /* Half red over white is pink: libpng blends in linear light (G = B ~ 187),
   * a plain sRGB blend gives 128; either is "over white", black is not. */
  static const struct { guint8 alpha; gint r, g, b, tolerance; } cases[] = {
    { 255, 255, 0, 0, 0 },        /* opaque red stays red */
    { 0, 255, 255, 255, 0 },      /* fully transparent is white, not black */
    { 128, 255, 158, 158, 32 },   /* half red: pink */
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) png = tu_png_rgba_bytes (6, 5, 255, 0, 0, cases[i].alpha);
      g_autoptr (VhImage) img = image_from (png);
      g_autoptr (VhPixels) px = decode_ok (img);
      g_assert_cmpint (px->width, ==, 6);
      g_assert_cmpint (px->height, ==, 5);
      assert_rgb (px, 0, 0, cases[i].r, cases[i].g, cases[i].b, cases[i].tolerance);
      assert_rgb (px, 5, 4, cases[i].r, cases[i].g, cases[i].b, cases[i].tolerance);
    }
}

static GBytes *
webp_bytes (gint width, gint height, guint8 alpha)
{
  g_autofree guint8 *rgba = g_malloc ((gsize) width * height * 4);
  for (gint i = 0; i < width * height; i++)
    {
      rgba[i * 4] = 0;
      rgba[i * 4 + 1] = 0;
      rgba[i * 4 + 2] = 255;
      rgba[i * 4 + 3] = alpha;
    }
  uint8_t *out = NULL;
  size_t size = WebPEncodeLosslessRGBA (rgba, width, height, width * 4, &out);
  g_assert_cmpuint (size, >, 0);
  GBytes *bytes = g_bytes_new (out, size);
  WebPFree (out);
  return bytes;
}

static void
test_webp_decode (void)
{
  g_autoptr (GBytes) opaque = webp_bytes (33, 17, 255);
  g_assert_cmpint (vh_image_sniff (opaque), ==, VH_FORMAT_WEBP);
  g_autoptr (VhImage) img = image_from (opaque);
  g_autoptr (VhPixels) px = decode_ok (img);
  g_assert_cmpint (px->width, ==, 33);
  g_assert_cmpint (px->height, ==, 17);
  assert_rgb (px, 0, 0, 0, 0, 255, 0);
  assert_rgb (px, 32, 16, 0, 0, 255, 0);

  g_autoptr (GBytes) clear = webp_bytes (8, 8, 0);
  g_autoptr (VhImage) cimg = image_from (clear);
  g_autoptr (VhPixels) cpx = decode_ok (cimg);
  assert_rgb (cpx, 3, 3, 255, 255, 255, 0);   /* transparent WebP is white too */

  /* A WebP header with nothing after it. */
  g_autoptr (GBytes) cut = g_bytes_new_from_bytes (opaque, 0, 20);
  g_autoptr (VhImage) bad = image_from (cut);
  GError *error = NULL;
  g_assert_null (vh_image_decode (bad, &error));
  g_assert_error (error, VH_ERROR, VH_ERROR_INVALID_INPUT);
  g_clear_error (&error);
}

static void
check_truncated_jpeg (GBytes *bytes)
{
  g_assert_cmpint (vh_image_sniff (bytes), ==, VH_FORMAT_JPEG);
  g_autoptr (VhImage) img = image_from (bytes);
  GError *error = NULL;
  g_assert_null (vh_image_decode (img, &error));
  g_assert_error (error, VH_ERROR, VH_ERROR_INVALID_INPUT);
  g_assert_nonnull (error ? strstr (error->message, "JPEG does not decode") : NULL);
  g_clear_error (&error);
}

static void
test_truncated_jpeg (void)
{
  g_autoptr (GBytes) whole = tu_jpeg_bytes (320, 240);
  g_autoptr (VhImage) ok = image_from (whole);
  g_autoptr (VhPixels) px = decode_ok (ok);
  g_assert_cmpint (px->width, ==, 320);

  gsize n = g_bytes_get_size (whole);
  g_autoptr (GBytes) half = g_bytes_new_from_bytes (whole, 0, n / 2);
  check_truncated_jpeg (half);
  g_autoptr (GBytes) no_eoi = g_bytes_new_from_bytes (whole, 0, n - 2);   /* only the EOI marker missing */
  check_truncated_jpeg (no_eoi);
  g_autoptr (GBytes) header_only = g_bytes_new_from_bytes (whole, 0, 3);
  check_truncated_jpeg (header_only);

  const char *data = g_getenv ("VH_TEST_DATA");
  if (data)
    {
      g_autofree gchar *path = g_build_filename (data, "faces", "truncated.jpg", NULL);
      GError *error = NULL;
      g_autoptr (VhImage) img = vh_image_new_from_file (path, &error);
      g_assert_no_error (error);
      if (img)
        check_truncated_jpeg (img->bytes);
    }
}

static void
test_encode_roundtrip (void)
{
  g_autoptr (VhPixels) src = tu_gradient (50, 20);
  GError *error = NULL;
  g_autoptr (VhImage) png = vh_image_encode_png (src, &error);
  g_assert_no_error (error);
  g_assert_cmpint (png->width, ==, 50);
  g_autoptr (VhPixels) back = decode_ok (png);
  g_assert_cmpmem (back->rgb, 50 * 20 * 3, src->rgb, 50 * 20 * 3);   /* PNG is lossless */

  g_autoptr (VhImage) jpeg = vh_image_encode_jpeg (src, 95, &error);
  g_assert_no_error (error);
  g_assert_cmpint (vh_image_sniff (jpeg->bytes), ==, VH_FORMAT_JPEG);
  g_assert_cmpint (jpeg->height, ==, 20);
  g_autoptr (VhImage) submission = vh_image_to_submission_jpeg (png, 90, &error);
  g_assert_no_error (error);
  g_assert_cmpint (vh_image_sniff (submission->bytes), ==, VH_FORMAT_JPEG);
}

/* ------------------------------------------------------------ resize */

static void
test_pixels_resize (void)
{
  g_autoptr (VhPixels) src = vh_pixels_new (10, 10);
  for (gint i = 0; i < 100; i++)
    src->rgb[i * 3] = 10, src->rgb[i * 3 + 1] = 20, src->rgb[i * 3 + 2] = 30;
  static const gint sizes[][2] = { { 3, 7 }, { 10, 10 }, { 25, 4 }, { 1, 1 }, { 40, 40 } };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (VhPixels) dst = vh_pixels_resize (src, sizes[i][0], sizes[i][1]);
      g_assert_cmpint (dst->width, ==, sizes[i][0]);
      g_assert_cmpint (dst->height, ==, sizes[i][1]);
      for (gint y = 0; y < dst->height; y++)
        for (gint x = 0; x < dst->width; x++)
          assert_rgb (dst, x, y, 10, 20, 30, 0);   /* a flat colour stays flat */
    }
  g_autoptr (VhPixels) zero = vh_pixels_resize (src, 0, -5);
  g_assert_cmpint (zero->width, ==, 1);
  g_assert_cmpint (zero->height, ==, 1);

  /* Shrinking averages: black and white make grey. */
  g_autoptr (VhPixels) bw = vh_pixels_new (2, 1);
  memset (bw->rgb + 3, 255, 3);
  g_autoptr (VhPixels) grey = vh_pixels_resize (bw, 1, 1);
  assert_rgb (grey, 0, 0, 128, 128, 128, 1);
}

/* ------------------------------------------------------------ fit */

/* 5000x3300, the largest contest image: detail everywhere (so the JPEG is
 * big) and an alpha channel.  Built once. */
static GBytes *cached;

static GBytes *
big_png (void)
{
  if (cached)
    return g_bytes_ref (cached);
  const gint w = 5000, h = 3300;
  guint8 *rgba = g_malloc ((gsize) w * h * 4);
  GRand *rand = g_rand_new_with_seed (42);
  guint8 block[8][4];
  for (gint y = 0; y < h; y++)
    for (gint x = 0; x < w; x++)
      {
        if (x % 8 == 0 && y % 4 == 0)
          for (gint c = 0; c < 4; c++)
            block[(x / 8) % 8][c] = (guint8) g_rand_int (rand);
        guint8 *p = rgba + ((gsize) y * w + x) * 4;
        const guint8 *b = block[(x / 8) % 8];
        p[0] = (guint8) (b[0] + x);
        p[1] = (guint8) (b[1] + y);
        p[2] = b[2];
        p[3] = (guint8) (b[3] | 0x40);
      }
  g_rand_free (rand);
  png_image png;
  memset (&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = (png_uint_32) w;
  png.height = (png_uint_32) h;
  png.format = PNG_FORMAT_RGBA;
  png_alloc_size_t size = 0;
  g_assert_true (png_image_write_to_memory (&png, NULL, &size, 0, rgba, 0, NULL));
  guint8 *buf = g_malloc (size);
  g_assert_true (png_image_write_to_memory (&png, buf, &size, 0, rgba, 0, NULL));
  g_free (rgba);
  cached = g_bytes_new_take (buf, size);
  return g_bytes_ref (cached);
}

/* Fits the big PNG and checks every limit, the reported and real size,
 * and the aspect ratio (within 1 px). */
static void
check_fit (const VhImageLimits *limits)
{
  g_autoptr (GBytes) bytes = big_png ();
  g_autoptr (VhImage) img = image_from (bytes);
  GError *error = NULL;
  g_autoptr (VhImage) out = vh_image_fit (img, limits, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);
  if (out == NULL)
    return;
  g_autoptr (VhPixels) px = decode_ok (out);
  g_assert_cmpint (px->width, ==, out->width);
  g_assert_cmpint (px->height, ==, out->height);
  gint w = px->width, h = px->height;
  g_test_message ("fitted to %dx%d, %zu bytes", w, h, g_bytes_get_size (out->bytes));
  if (limits->max_side)
    g_assert_cmpint (MAX (w, h), <=, limits->max_side);
  if (limits->max_pixels)
    g_assert_cmpint ((gint64) w * h, <=, limits->max_pixels);
  if (limits->max_bytes)
    g_assert_cmpuint (g_bytes_get_size (out->bytes), <=, limits->max_bytes);
  gdouble expected_h = w * 3300.0 / 5000.0;
  g_assert_cmpfloat (ABS (h - expected_h), <=, 1.0);
  g_assert_cmpint (vh_image_sniff (out->bytes), ==, VH_FORMAT_JPEG);
}

static void
test_fit_max_side (void)
{
  VhImageLimits limits = { .max_side = 2048 };
  check_fit (&limits);
}

static void
test_fit_max_pixels (void)
{
  static const gint64 caps[] = { 1000000, 2000000, 4000000 };
  for (guint i = 0; i < G_N_ELEMENTS (caps); i++)
    {
      VhImageLimits limits = { .max_pixels = caps[i] };
      check_fit (&limits);
    }
}

static void
test_fit_max_bytes (void)
{
  VhImageLimits limits = { .max_bytes = 300 * 1000 };
  check_fit (&limits);
}

static void
test_fit_all_limits (void)
{
  VhImageLimits limits = { .max_side = 2048, .max_pixels = 3000000, .max_bytes = 300 * 1000 };
  check_fit (&limits);
}

static void
test_fit_conflicting_limits (void)
{
  /* The byte limit can only be met below min_side: an error, never an image
   * that quietly breaks one of the limits. */
  g_autoptr (GBytes) bytes = big_png ();
  g_autoptr (VhImage) img = image_from (bytes);
  VhImageLimits limits = { .min_side = 1500, .max_bytes = 60 * 1000 };
  GError *error = NULL;
  g_autoptr (VhImage) out = vh_image_fit (img, &limits, &error);
  if (out != NULL)
    {
      g_test_message ("fitted to %dx%d, %zu bytes", out->width, out->height, g_bytes_get_size (out->bytes));
      g_assert_cmpint (MIN (out->width, out->height), >=, limits.min_side);
      g_assert_cmpuint (g_bytes_get_size (out->bytes), <=, limits.max_bytes);
    }
  else
    g_assert_error (error, VH_ERROR, VH_ERROR_INVALID_INPUT);
  g_clear_error (&error);
}

static void
test_fit_already_fits (void)
{
  g_autoptr (GBytes) jpeg = tu_jpeg_bytes (300, 200);
  g_autoptr (VhImage) img = image_from (jpeg);
  VhImageLimits limits = { .max_side = 2048, .min_side = 100, .max_pixels = 1000000, .max_bytes = 1000000 };
  GError *error = NULL;
  g_autoptr (VhImage) out = vh_image_fit (img, &limits, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (out->bytes, jpeg));   /* the same bytes, not re-encoded */
  g_assert_cmpint (out->width, ==, 300);
  g_assert_cmpint (out->height, ==, 200);

  /* Fits every size limit but the provider wants JPEG: converted, same size. */
  g_autoptr (GBytes) png = tu_png_bytes (300, 200);
  g_autoptr (VhImage) pimg = image_from (png);
  VhImageLimits want_jpeg = { .format = VH_FORMAT_JPEG };
  g_autoptr (VhImage) converted = vh_image_fit (pimg, &want_jpeg, &error);
  g_assert_no_error (error);
  g_assert_cmpint (vh_image_sniff (converted->bytes), ==, VH_FORMAT_JPEG);
  g_assert_cmpint (converted->width, ==, 300);
  g_assert_cmpint (converted->height, ==, 200);

  /* No limits at all: a PNG comes back as it is. */
  VhImageLimits none = { 0 };
  g_autoptr (VhImage) same = vh_image_fit (pimg, &none, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (same->bytes, png));

  /* WebP is never passed on as it is: providers get JPEG or PNG. */
  g_autoptr (GBytes) webp = webp_bytes (30, 20, 255);
  g_autoptr (VhImage) wimg = image_from (webp);
  g_autoptr (VhImage) from_webp = vh_image_fit (wimg, &none, &error);
  g_assert_no_error (error);
  g_assert_cmpint (vh_image_sniff (from_webp->bytes), !=, VH_FORMAT_WEBP);
  g_assert_cmpint (from_webp->width, ==, 30);
}

static void
test_fit_min_side_scales_up (void)
{
  g_autoptr (GBytes) jpeg = tu_jpeg_bytes (200, 100);
  g_autoptr (VhImage) img = image_from (jpeg);
  VhImageLimits limits = { .min_side = 512 };
  GError *error = NULL;
  g_autoptr (VhImage) out = vh_image_fit (img, &limits, &error);
  g_assert_no_error (error);
  g_autoptr (VhPixels) px = decode_ok (out);
  g_assert_cmpint (px->height, ==, 512);
  g_assert_cmpint (px->width, ==, 1024);

  VhImageLimits png = { .min_side = 150, .format = VH_FORMAT_PNG };
  g_autoptr (VhImage) as_png = vh_image_fit (img, &png, &error);
  g_assert_no_error (error);
  g_assert_cmpint (vh_image_sniff (as_png->bytes), ==, VH_FORMAT_PNG);
  g_assert_cmpint (as_png->width, ==, 300);
  g_assert_cmpint (as_png->height, ==, 150);
}

static void
test_fit_impossible (void)
{
  g_autoptr (GBytes) jpeg = tu_jpeg_bytes (64, 64);
  g_autoptr (VhImage) img = image_from (jpeg);
  VhImageLimits limits = { .max_bytes = 10 };
  GError *error = NULL;
  g_assert_null (vh_image_fit (img, &limits, &error));
  g_assert_error (error, VH_ERROR, VH_ERROR_INVALID_INPUT);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  tu_init (&argc, &argv);
  g_test_add_func ("/image/sniff-by-content", test_sniff_by_content);
  g_test_add_func ("/image/data-uri", test_data_uri);
  g_test_add_func ("/image/png-alpha-over-white", test_png_alpha_over_white);
  g_test_add_func ("/image/webp-decode", test_webp_decode);
  g_test_add_func ("/image/truncated-jpeg", test_truncated_jpeg);
  g_test_add_func ("/image/encode-roundtrip", test_encode_roundtrip);
  g_test_add_func ("/image/pixels-resize", test_pixels_resize);
  g_test_add_func ("/image/fit/max-side", test_fit_max_side);
  g_test_add_func ("/image/fit/max-pixels", test_fit_max_pixels);
  g_test_add_func ("/image/fit/max-bytes", test_fit_max_bytes);
  g_test_add_func ("/image/fit/all-limits", test_fit_all_limits);
  g_test_add_func ("/image/fit/conflicting-limits", test_fit_conflicting_limits);
  g_test_add_func ("/image/fit/already-fits", test_fit_already_fits);
  g_test_add_func ("/image/fit/min-side-scales-up", test_fit_min_side_scales_up);
  g_test_add_func ("/image/fit/impossible", test_fit_impossible);
  int rc = g_test_run ();
  g_clear_pointer (&cached, g_bytes_unref);
  return rc;
}
