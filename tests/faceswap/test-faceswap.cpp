/* local-faceswap tests: the C++ core through its own API, then the plugin
 * .so through the C ABI exactly as the host drives it (GModule, create,
 * concurrent run, destroy).
 *
 * Environment (set by tests/Makefile.inc): VH_TEST_DATA (tests/data),
 * VH_BUILDDIR (the build tree holding plugins/local-faceswap/.libs). */
#include "config.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <glib.h>
#include <gmodule.h>
#include <vhost/plugin.h>
#include "vh-config.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "face-swap.hpp"
#include "faceswap-error.hpp"
#include "image-io.hpp"

using namespace vhfs;

/* ------------------------------------------------------------ helpers */

static std::string
data_path (const char *name)
{
  const char *dir = g_getenv ("VH_TEST_DATA");
  g_autofree gchar *p = dir ? g_build_filename (dir, "faces", name, NULL)
                            : g_test_build_filename (G_TEST_DIST, "..", "data", "faces", name, NULL);
  return p;
}

static cv::Mat
load (const char *name)
{
  const std::string path = data_path (name);
  const std::vector<uint8_t> bytes = read_file (path);
  return decode_image (bytes.data (), bytes.size (), path);
}

/* The detector is slow to load (a 100 MB model): one for all core tests. */
static const FaceDetector &
detector ()
{
  static FaceDetector d (VH_DLIB_MODEL, VH_CASCADE_DIR);
  return d;
}

/* Mean absolute difference per channel over the pixels where mask != 0. */
static double
mean_abs_diff (const cv::Mat &a, const cv::Mat &b, const cv::Mat &mask)
{
  cv::Mat d;
  cv::absdiff (a, b, d);
  const cv::Scalar m = cv::mean (d, mask);
  return (m[0] + m[1] + m[2]) / 3.0;
}

static cv::Mat
grown (const cv::Mat &mask, int r)
{
  cv::Mat out;
  cv::dilate (mask, out, cv::getStructuringElement (cv::MORPH_ELLIPSE, cv::Size (2 * r + 1, 2 * r + 1)));
  return out;
}

static cv::Mat
shrunk (const cv::Mat &mask, int r)
{
  cv::Mat out;
  cv::erode (mask, out, cv::getStructuringElement (cv::MORPH_ELLIPSE, cv::Size (2 * r + 1, 2 * r + 1)));
  return out;
}

/* Landmark-geometry check of whose face the output shows. */
static void
assert_identity (const cv::Mat &out, const Points &identity, const Points &scene)
{
  std::optional<Face> f = detector ().detect (out, DetectParams ());
  g_assert_true (f.has_value ());
  const double to_id = shape_distance (f->points, identity);
  const double to_scene = shape_distance (f->points, scene);
  g_test_message ("shape distance: output-identity %.4f, output-scene %.4f", to_id, to_scene);
  g_assert_cmpfloat (to_id, <, to_scene);
}

/* ------------------------------------------------------------ decoding */

static void
test_decode_formats (void)
{
  const cv::Mat bgr = load ("astronaut-lfw.jpg");
  g_assert_cmpint (bgr.cols, ==, 250);
  g_assert_cmpint (bgr.rows, ==, 250);
  g_assert_cmpint (bgr.type (), ==, CV_8UC3);

  /* PNG with alpha: transparent pixels come out white, opaque ones intact. */
  cv::Mat rgba;
  cv::cvtColor (bgr, rgba, cv::COLOR_BGR2BGRA);
  for (int y = 0; y < 10; y++)
    for (int x = 0; x < rgba.cols; x++)
      rgba.at<cv::Vec4b> (y, x)[3] = 0;
  std::vector<uint8_t> png;
  cv::imencode (".png", rgba, png);
  cv::Mat d = decode_image (png.data (), png.size (), "rgba.png");
  g_assert_cmpint (d.type (), ==, CV_8UC3);
  g_assert_true (d.at<cv::Vec3b> (5, 5) == cv::Vec3b (255, 255, 255));
  g_assert_true (d.at<cv::Vec3b> (100, 100) == bgr.at<cv::Vec3b> (100, 100));

  /* Grayscale and 16-bit PNG. */
  cv::Mat gray, g16;
  cv::cvtColor (bgr, gray, cv::COLOR_BGR2GRAY);
  cv::imencode (".png", gray, png);
  d = decode_image (png.data (), png.size (), "gray.png");
  g_assert_cmpint (d.type (), ==, CV_8UC3);
  gray.convertTo (g16, CV_16U, 257.0);
  cv::imencode (".png", g16, png);
  d = decode_image (png.data (), png.size (), "gray16.png");
  g_assert_cmpint (d.type (), ==, CV_8UC3);
  g_assert_cmpint (d.at<cv::Vec3b> (100, 100)[0], ==, gray.at<uchar> (100, 100));
}

static void
expect_invalid (const std::vector<uint8_t> &bytes, const char *name)
{
  try {
    decode_image (bytes.data (), bytes.size (), name);
    g_assert_not_reached ();
  } catch (const Error &e) {
    g_assert_true (e.kind () == ErrorKind::InvalidInput);
    g_assert_nonnull (strstr (e.what (), name));
  }
}

static void
test_decode_corrupt (void)
{
  const std::vector<uint8_t> whole = read_file (data_path ("astronaut-lfw.jpg"));
  g_assert_true (jpeg_is_complete (whole.data (), whole.size ()));
  const std::vector<uint8_t> cut = read_file (data_path ("truncated.jpg"));
  g_assert_false (jpeg_is_complete (cut.data (), cut.size ()));
  expect_invalid (cut, "truncated.jpg");
  expect_invalid ({}, "empty.jpg");
  const char text[] = "this is not an image at all";
  expect_invalid (std::vector<uint8_t> (text, text + sizeof text), "text.jpg");
  /* A PNG cut in half. */
  std::vector<uint8_t> png;
  cv::imencode (".png", load ("astronaut-lfw.jpg"), png);
  png.resize (png.size () / 2);
  expect_invalid (png, "half.png");
}

/* ------------------------------------------------------------ detection */

static void
test_detect_lfw (void)
{
  for (const char *name : { "astronaut-lfw.jpg", "hopper-lfw.jpg" }) {
    const cv::Mat img = load (name);
    std::optional<Face> f = detector ().detect (img, DetectParams ());
    g_assert_true (f.has_value ());
    g_test_message ("%s: %s box %dx%d at %d,%d", name, f->detector.c_str (),
                    f->box.width, f->box.height, f->box.x, f->box.y);
    g_assert_cmpint (f->box.width, >, 80);
    g_assert_cmpint (f->box.width, <, 140);
    g_assert_cmpuint (f->points.size (), ==, 68);
    for (const cv::Point2f &p : f->points) {
      g_assert_true (p.x >= 0 && p.x <= img.cols - 1);
      g_assert_true (p.y >= 0 && p.y <= img.rows - 1);
    }
  }
}

static void
test_detect_tiny (void)
{
  const cv::Mat img = load ("tiny-face.jpg");
  std::optional<Face> f = detector ().detect (img, DetectParams ());
  g_assert_true (f.has_value ());
  g_test_message ("tiny: %s box %d", f->detector.c_str (), f->box.width);
  g_assert_cmpint (f->box.width, >=, 32);
  g_assert_cmpint (f->box.width, <=, 70);
  /* No upsampling: only the Haar fallback could find it, or nothing. */
  DetectParams p;
  p.upsample = 0;
  std::optional<Face> g = detector ().detect (img, p);
  if (g)
    g_assert_true (g->detector.compare (0, 4, "haar") == 0);
}

static void
test_detect_multi (void)
{
  /* Two faces: ~60 px on the left half, ~125 px on the right half. */
  const cv::Mat img = load ("multi-face.jpg");
  std::optional<Face> f = detector ().detect (img, DetectParams ());
  g_assert_true (f.has_value ());
  g_test_message ("multi: %s box %dx%d at %d,%d", f->detector.c_str (),
                  f->box.width, f->box.height, f->box.x, f->box.y);
  g_assert_cmpint (f->box.x, >, 200);
  g_assert_cmpint (f->box.width, >, 100);
  /* min_face above the larger face: nothing qualifies. */
  DetectParams p;
  p.min_face = 400;
  g_assert_false (detector ().detect (img, p).has_value ());
}

static void
test_detect_haar (void)
{
  /* The Haar fallback, forced: it must find the same face, and the landmark
   * refit from its box must land close to the HOG path's landmarks. */
  for (const char *name : { "astronaut-lfw.jpg", "hopper-lfw.jpg", "multi-face.jpg" }) {
    const cv::Mat img = load (name);
    std::optional<Face> hog = detector ().detect (img, DetectParams ());
    DetectParams p;
    p.use_hog = false;
    std::optional<Face> haar = detector ().detect (img, p);
    g_assert_true (hog.has_value () && haar.has_value ());
    g_test_message ("%s: forced Haar path answered with detector “%s”", name, haar->detector.c_str ());
    g_assert_true (haar->detector.compare (0, 4, "haar") == 0);
    double err = 0;
    for (size_t i = 0; i < hog->points.size (); i++)
      err += cv::norm (hog->points[i] - haar->points[i]);
    err /= double (hog->points.size ()) * face_width (hog->points);
    g_test_message ("%s: %s box %dx%d, mean landmark offset from HOG's %.3f face widths",
                    name, haar->detector.c_str (), haar->box.width, haar->box.height, err);
    g_assert_cmpfloat (err, <, 0.08);
  }
}

static void
test_detect_none (void)
{
  g_assert_false (detector ().detect (load ("no-face.jpg"), DetectParams ()).has_value ());
}

/* ------------------------------------------------------------ swapping */

/* Inside the face the pixels change a lot.  Just outside the paste only
 * the outline warp acts (the scene's jaw and cheeks move to the identity's
 * outline, taking some hair and background along), so the change there is
 * a fraction of the inside's; beyond the warp's fixed ring nothing moves.
 * With the warp off, the paste itself must not leak past its mask. */
static void
check_swap (const char *scene_name, const char *identity_name, BlendMode mode, bool check_id)
{
  const cv::Mat scene = load (scene_name), identity = load (identity_name);
  SwapParams params;
  params.blend = mode;
  SwapReport report;
  const cv::Mat out = swap_faces (detector (), scene, scene_name, identity, identity_name,
                                  params, &report);
  g_assert_cmpint (out.cols, ==, scene.cols);
  g_assert_cmpint (out.rows, ==, scene.rows);
  g_assert_cmpint (out.type (), ==, CV_8UC3);
  g_assert_true (report.reshaped);

  const double fw = face_width (report.placed);
  const cv::Mat inner = shrunk (report.mask, std::max (2, int (fw * 0.1)));
  const cv::Mat near = grown (report.mask, int (fw * 0.5)) & ~grown (report.mask, 2);
  const cv::Mat far = ~grown (report.mask, int (fw * 1.2));
  const double d_in = mean_abs_diff (out, scene, inner);
  const double d_near = mean_abs_diff (out, scene, near);
  const double d_far = cv::countNonZero (far) ? mean_abs_diff (out, scene, far) : 0;

  params.reshape = false;
  const cv::Mat flat = swap_faces (detector (), scene, scene_name, identity, identity_name, params);
  const double d_leak = mean_abs_diff (flat, scene, near);

  g_test_message ("%s <- %s: mean abs diff inside %.2f, near outside %.2f (%.3f without the "
                  "outline warp), far %.3f; border dE %.2f -> %.2f with colour transfer",
                  scene_name, identity_name, d_in, d_near, d_leak, d_far,
                  report.border_de_raw, report.border_de_transfer);
  g_assert_cmpfloat (d_in, >, 12.0);
  g_assert_cmpfloat (d_near, <, 0.4 * d_in);
  g_assert_cmpfloat (d_leak, <, 0.5);
  g_assert_cmpfloat (d_far, <, 0.5);
  if (check_id)
    assert_identity (out, report.identity_face.points, report.scene_face.points);
}

static void
test_swap_lfw (void)
{
  check_swap ("astronaut-lfw.jpg", "hopper-lfw.jpg", BlendMode::SeamlessNormal, true);
  check_swap ("hopper-lfw.jpg", "astronaut-lfw.jpg", BlendMode::SeamlessNormal, true);
}

static void
test_swap_blend_modes (void)
{
  check_swap ("astronaut-lfw.jpg", "hopper-lfw.jpg", BlendMode::SeamlessMixed, false);
  check_swap ("astronaut-lfw.jpg", "hopper-lfw.jpg", BlendMode::Feather, true);
}

static void
test_swap_small_and_large (void)
{
  /* A ~45 px face in a 100x100 photo, and faces of different sizes. */
  check_swap ("tiny-face.jpg", "hopper-lfw.jpg", BlendMode::SeamlessNormal, false);
  check_swap ("hopper.jpg", "astronaut-lfw.jpg", BlendMode::SeamlessNormal, true);
  check_swap ("multi-face.jpg", "hopper-lfw.jpg", BlendMode::SeamlessNormal, false);
}

static void
test_swap_color_transfer (void)
{
  const cv::Mat scene = load ("astronaut-lfw.jpg"), identity = load ("hopper-lfw.jpg");
  SwapReport report;
  swap_faces (detector (), scene, "s", identity, "i", SwapParams (), &report);
  g_assert_cmpfloat (report.border_de_transfer, <, report.border_de_raw);
}

static void
test_swap_no_face (void)
{
  try {
    swap_faces (detector (), load ("astronaut-lfw.jpg"), "scene.jpg", load ("no-face.jpg"),
                "no-face.jpg", SwapParams ());
    g_assert_not_reached ();
  } catch (const Error &e) {
    g_assert_true (e.kind () == ErrorKind::Rejected);
    g_assert_nonnull (strstr (e.what (), "no-face.jpg"));
  }
}

static void
test_swap_cancel (void)
{
  try {
    swap_faces (detector (), load ("astronaut-lfw.jpg"), "a", load ("hopper-lfw.jpg"), "b",
                SwapParams (), nullptr, [] { return true; });
    g_assert_not_reached ();
  } catch (const Error &e) {
    g_assert_true (e.kind () == ErrorKind::Cancelled);
  }
}

/* ------------------------------------------------------------ the plugin */

struct Plugin {
  GModule *module = nullptr;
  const VhPlugin *desc = nullptr;
};

static const Plugin *
plugin ()
{
  static Plugin p;
  static bool tried = false;
  if (!tried) {
    tried = true;
    const char *build = g_getenv ("VH_BUILDDIR");
    if (!build)
      return nullptr;
    g_autofree gchar *path = g_build_filename (build, "plugins", "local-faceswap", ".libs",
                                               "local-faceswap.so", NULL);
    p.module = g_module_open (path, G_MODULE_BIND_LOCAL);
    if (!p.module)
      g_error ("%s: %s", path, g_module_error ());
    g_module_make_resident (p.module);
    VhPluginDescribeFunc describe = nullptr;
    g_assert_true (g_module_symbol (p.module, VH_PLUGIN_SYMBOL, (gpointer *) &describe));
    p.desc = describe ();
  }
  return p.desc ? &p : nullptr;
}

#define NEED_PLUGIN()                                              \
  const Plugin *plug = plugin ();                                  \
  if (!plug) {                                                     \
    g_test_skip ("VH_BUILDDIR is not set: plugin not located");    \
    return;                                                        \
  }

static gpointer
create (const Plugin *plug, const char *const *kv, GError **error)
{
  g_autoptr (VhConfig) config = vh_config_new_for_test ("faceswap", plug->desc->options, kv, error);
  if (!config)
    return nullptr;
  return plug->desc->create (nullptr, config, error);
}

struct Row {
  std::string ori, target;
  VhTask task;
  explicit Row (const char *ori_name, const char *target_name)
    : ori (data_path (ori_name)), target (data_path (target_name))
  {
    std::memset (&task, 0, sizeof task);
    task.index = "1";
    task.type = VH_TASK_DEEPFAKE;
    task.type_name = "deepfake";
    task.prompt = "";
    task.ori_image = ori.c_str ();
    task.target_image = target.c_str ();
  }
};

/* Runs one row the way the host's first stage does: ori_image's bytes as
 * the input image. */
static VhImage *
run_row (const Plugin *plug, gpointer inst, const Row &row, GError **error)
{
  g_autoptr (VhImage) input = vh_image_new_from_file (row.task.ori_image, error);
  if (!input)
    return nullptr;
  VhImage *out = nullptr;
  if (!plug->desc->run (inst, &row.task, input, &out, nullptr, error))
    return nullptr;
  return out;
}

static cv::Mat
decoded (const VhImage *img)
{
  gsize n = 0;
  const uint8_t *d = static_cast<const uint8_t *> (g_bytes_get_data (img->bytes, &n));
  return decode_image (d, n, "output");
}

static void
test_plugin_describe (void)
{
  NEED_PLUGIN ();
  g_assert_cmpuint (plug->desc->abi, ==, VH_PLUGIN_ABI);
  g_assert_cmpuint (plug->desc->struct_size, ==, sizeof (VhPlugin));
  g_assert_cmpstr (plug->desc->name, ==, "local-faceswap");
  g_assert_cmpuint (plug->desc->task_types, ==, VH_TASK_DEEPFAKE);
  int found = 0;
  for (const VhOption *o = plug->desc->options; o->name; o++)
    for (const char *want : { "identity_from", "blend", "feather", "color_transfer",
                              "upsample", "min_face" })
      found += strcmp (o->name, want) == 0;
  g_assert_cmpint (found, ==, 6);
}

static void
test_plugin_bad_options (void)
{
  NEED_PLUGIN ();
  const char *const bad_feather[] = { "feather", "wide", NULL };
  g_autoptr (GError) error = NULL;
  g_assert_null (create (plug, bad_feather, &error));
  g_assert_error (error, VH_ERROR, VH_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  const char *const bad_upsample[] = { "upsample", "9", NULL };
  g_assert_null (create (plug, bad_upsample, &error));
  g_assert_error (error, VH_ERROR, VH_ERROR_INVALID_INPUT);
}

static void
test_plugin_run (void)
{
  NEED_PLUGIN ();
  g_autoptr (GError) error = NULL;
  gpointer inst = create (plug, NULL, &error);
  g_assert_no_error (error);

  /* Default: target_image's face into ori_image's scene. */
  Row row ("astronaut-lfw.jpg", "hopper-lfw.jpg");
  g_autoptr (VhImage) out = run_row (plug, inst, row, &error);
  g_assert_no_error (error);
  g_assert_true (vh_image_sniff (out->bytes) == VH_FORMAT_JPEG);
  const cv::Mat img = decoded (out);
  const cv::Mat ori = load ("astronaut-lfw.jpg"), target = load ("hopper-lfw.jpg");
  g_assert_cmpint (img.cols, ==, ori.cols);
  g_assert_cmpint (img.rows, ==, ori.rows);
  g_assert_cmpint (out->width, ==, ori.cols);
  /* Neither input came back. */
  g_assert_cmpfloat (mean_abs_diff (img, ori, cv::Mat ()), >, 1.0);
  g_assert_cmpfloat (mean_abs_diff (img, target, cv::Mat ()), >, 10.0);
  std::optional<Face> fo = detector ().detect (ori, DetectParams ());
  std::optional<Face> ft = detector ().detect (target, DetectParams ());
  assert_identity (img, ft->points, fo->points);

  /* No ori_image input at all (a row read from disk by the plugin). */
  VhImage *again = nullptr;
  g_assert_true (plug->desc->run (inst, &row.task, NULL, &again, NULL, &error));
  g_assert_no_error (error);
  vh_image_free (again);

  plug->desc->destroy (inst);
}

static void
test_plugin_identity_from (void)
{
  NEED_PLUGIN ();
  g_autoptr (GError) error = NULL;
  const char *const kv[] = { "identity_from", "ori_image", NULL };
  gpointer inst = create (plug, kv, &error);
  g_assert_no_error (error);

  /* ori 250x250, target 512x600: the scene is now target_image. */
  Row row ("astronaut-lfw.jpg", "hopper.jpg");
  g_autoptr (VhImage) out = run_row (plug, inst, row, &error);
  g_assert_no_error (error);
  const cv::Mat img = decoded (out);
  const cv::Mat ori = load ("astronaut-lfw.jpg"), target = load ("hopper.jpg");
  g_assert_cmpint (img.cols, ==, target.cols);
  g_assert_cmpint (img.rows, ==, target.rows);
  std::optional<Face> fo = detector ().detect (ori, DetectParams ());
  std::optional<Face> ft = detector ().detect (target, DetectParams ());
  assert_identity (img, fo->points, ft->points);
  plug->desc->destroy (inst);
}

static void
test_plugin_errors (void)
{
  NEED_PLUGIN ();
  g_autoptr (GError) error = NULL;
  gpointer inst = create (plug, NULL, &error);
  g_assert_no_error (error);

  /* No face in ori_image: REJECTED, naming the file. */
  {
    Row row ("no-face.jpg", "hopper-lfw.jpg");
    VhImage *out = run_row (plug, inst, row, &error);
    g_assert_null (out);
    g_assert_error (error, VH_ERROR, VH_ERROR_REJECTED);
    g_assert_nonnull (strstr (error->message, "no-face.jpg"));
    g_clear_error (&error);
  }
  /* No face in target_image either. */
  {
    Row row ("astronaut-lfw.jpg", "no-face.jpg");
    g_assert_null (run_row (plug, inst, row, &error));
    g_assert_error (error, VH_ERROR, VH_ERROR_REJECTED);
    g_assert_nonnull (strstr (error->message, "no-face.jpg"));
    g_clear_error (&error);
  }
  /* A truncated JPEG target: INVALID_INPUT. */
  {
    Row row ("astronaut-lfw.jpg", "truncated.jpg");
    g_assert_null (run_row (plug, inst, row, &error));
    g_assert_error (error, VH_ERROR, VH_ERROR_INVALID_INPUT);
    g_assert_nonnull (strstr (error->message, "truncated.jpg"));
    g_clear_error (&error);
  }
  /* A truncated JPEG as the input image (the host's sniff accepts it). */
  {
    Row row ("truncated.jpg", "hopper-lfw.jpg");
    VhImage *out = nullptr;
    g_autoptr (VhImage) input = vh_image_new_from_file (row.task.ori_image, &error);
    g_assert_no_error (error);
    g_assert_false (plug->desc->run (inst, &row.task, input, &out, NULL, &error));
    g_assert_error (error, VH_ERROR, VH_ERROR_INVALID_INPUT);
    g_clear_error (&error);
  }
  /* A row without target_image. */
  {
    Row row ("astronaut-lfw.jpg", "hopper-lfw.jpg");
    row.task.target_image = NULL;
    VhImage *out = nullptr;
    g_assert_false (plug->desc->run (inst, &row.task, NULL, &out, NULL, &error));
    g_assert_error (error, VH_ERROR, VH_ERROR_INVALID_INPUT);
    g_clear_error (&error);
  }
  /* Cancelled before it starts. */
  {
    Row row ("astronaut-lfw.jpg", "hopper-lfw.jpg");
    g_autoptr (GCancellable) cancel = g_cancellable_new ();
    g_cancellable_cancel (cancel);
    VhImage *out = nullptr;
    g_assert_false (plug->desc->run (inst, &row.task, NULL, &out, cancel, &error));
    g_assert_error (error, VH_ERROR, VH_ERROR_CANCELLED);
    g_clear_error (&error);
  }
  plug->desc->destroy (inst);
}

static void
test_plugin_png_alpha_input (void)
{
  NEED_PLUGIN ();
  g_autoptr (GError) error = NULL;
  gpointer inst = create (plug, NULL, &error);
  g_assert_no_error (error);
  cv::Mat rgba;
  cv::cvtColor (load ("astronaut-lfw.jpg"), rgba, cv::COLOR_BGR2BGRA);
  std::vector<uint8_t> png;
  cv::imencode (".png", rgba, png);
  g_autoptr (GBytes) bytes = g_bytes_new (png.data (), png.size ());
  g_autoptr (VhImage) input = vh_image_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  Row row ("astronaut-lfw.jpg", "hopper-lfw.jpg");
  VhImage *out = nullptr;
  g_assert_true (plug->desc->run (inst, &row.task, input, &out, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (decoded (out).cols, ==, 250);
  vh_image_free (out);
  plug->desc->destroy (inst);
}

static std::string
bytes_of (const VhImage *img)
{
  gsize n = 0;
  const char *d = static_cast<const char *> (g_bytes_get_data (img->bytes, &n));
  return std::string (d, n);
}

static void
test_plugin_concurrent (void)
{
  NEED_PLUGIN ();
  g_autoptr (GError) error = NULL;
  gpointer inst = create (plug, NULL, &error);
  g_assert_no_error (error);

  const Row rows[] = { Row ("astronaut-lfw.jpg", "hopper-lfw.jpg"),
                       Row ("hopper-lfw.jpg", "astronaut-lfw.jpg"),
                       Row ("multi-face.jpg", "hopper-lfw.jpg"),
                       Row ("tiny-face.jpg", "astronaut-lfw.jpg") };
  std::vector<std::string> expected;
  for (const Row &r : rows) {
    g_autoptr (VhImage) out = run_row (plug, inst, r, &error);
    g_assert_no_error (error);
    expected.push_back (bytes_of (out));
  }

  constexpr int kThreads = 4, kRounds = 3;
  std::atomic<int> mismatches (0), failures (0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++)
    threads.emplace_back ([&, t] {
      for (int k = 0; k < kRounds; k++) {
        const int i = (t + k) % 4;
        GError *err = NULL;
        VhImage *out = run_row (plug, inst, rows[i], &err);
        if (!out) {
          failures++;
          g_clear_error (&err);
          continue;
        }
        if (bytes_of (out) != expected[size_t (i)])
          mismatches++;
        vh_image_free (out);
      }
    });
  for (std::thread &th : threads)
    th.join ();
  g_assert_cmpint (failures.load (), ==, 0);
  g_assert_cmpint (mismatches.load (), ==, 0);
  plug->desc->destroy (inst);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/faceswap/decode/formats", test_decode_formats);
  g_test_add_func ("/faceswap/decode/corrupt", test_decode_corrupt);
  g_test_add_func ("/faceswap/detect/lfw", test_detect_lfw);
  g_test_add_func ("/faceswap/detect/tiny", test_detect_tiny);
  g_test_add_func ("/faceswap/detect/multi", test_detect_multi);
  g_test_add_func ("/faceswap/detect/haar", test_detect_haar);
  g_test_add_func ("/faceswap/detect/none", test_detect_none);
  g_test_add_func ("/faceswap/swap/lfw", test_swap_lfw);
  g_test_add_func ("/faceswap/swap/blend-modes", test_swap_blend_modes);
  g_test_add_func ("/faceswap/swap/small-and-large", test_swap_small_and_large);
  g_test_add_func ("/faceswap/swap/color-transfer", test_swap_color_transfer);
  g_test_add_func ("/faceswap/swap/no-face", test_swap_no_face);
  g_test_add_func ("/faceswap/swap/cancel", test_swap_cancel);
  g_test_add_func ("/faceswap/plugin/describe", test_plugin_describe);
  g_test_add_func ("/faceswap/plugin/bad-options", test_plugin_bad_options);
  g_test_add_func ("/faceswap/plugin/run", test_plugin_run);
  g_test_add_func ("/faceswap/plugin/identity-from", test_plugin_identity_from);
  g_test_add_func ("/faceswap/plugin/errors", test_plugin_errors);
  g_test_add_func ("/faceswap/plugin/png-alpha-input", test_plugin_png_alpha_input);
  g_test_add_func ("/faceswap/plugin/concurrent", test_plugin_concurrent);
  return g_test_run ();
}
