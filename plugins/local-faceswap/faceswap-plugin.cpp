/* local-faceswap — the C ABI: descriptor, options, create/run/destroy.
 *
 * C++ inside, C outside: nothing but vh_plugin_describe() is exported, and
 * no exception crosses run() or create(): each is caught here and becomes
 * a VH_ERROR with the class the core's retry and fallback logic expects. */
#include "config.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include <vhost/plugin.h>

#include <opencv2/core.hpp>

#include "face-swap.hpp"
#include "faceswap-error.hpp"
#include "image-io.hpp"

namespace {

const VhOption options[] = {
  { "identity_from", VH_OPT_ENUM, "target_image",
    "which photo gives the face.  target_image (default): target_image's face is put into "
    "ori_image's scene, as the contest metric compares the output's face features with "
    "target_image's face.  ori_image: ori_image's face is put into target_image's scene, "
    "the reading of the published baseline.  The output always has the scene's size.",
    "target_image,ori_image" },
  { "blend", VH_OPT_ENUM, "seamless-normal",
    "how the face is composited: seamless-normal (Poisson cloning, then a feathered fade), "
    "seamless-mixed (Poisson cloning keeping the scene's stronger gradients), feather "
    "(alpha fade only)",
    "seamless-normal,seamless-mixed,feather" },
  { "feather", VH_OPT_STRING, "0.08",
    "width of the fade at the edge of the face mask: pixels (\"12\", \"12px\") or a fraction "
    "of the face width (\"0.08\", \"8%\")", nullptr },
  { "color_transfer", VH_OPT_BOOL, "true",
    "match the pasted face's skin colour to the scene's (Reinhard transfer in Lab, measured "
    "on skin only)", nullptr },
  { "upsample", VH_OPT_INT, "2",
    "most 2x upsampling passes of the HOG face detector for small faces (0-4); Haar "
    "cascades are tried after them", nullptr },
  { "min_face", VH_OPT_INT, "32",
    "faces narrower than this many pixels are ignored", nullptr },
  { "forehead", VH_OPT_DOUBLE, "0.22",
    "how far above the eyebrows the mask reaches, in brow-to-chin distances (0-0.6)", nullptr },
  { "reshape", VH_OPT_BOOL, "true",
    "warp the scene so its jaw and cheek outline follow the pasted face's own", nullptr },
  { nullptr, VH_OPT_STRING, nullptr, nullptr, nullptr },
};

struct Instance {
  std::unique_ptr<vhfs::FaceDetector> detector;
  vhfs::SwapParams params;
  bool identity_from_ori = false;
  std::string name;
};

VhErrorClass
error_class (vhfs::ErrorKind kind)
{
  switch (kind) {
  case vhfs::ErrorKind::Rejected:     return VH_ERROR_REJECTED;
  case vhfs::ErrorKind::InvalidInput: return VH_ERROR_INVALID_INPUT;
  case vhfs::ErrorKind::Cancelled:    return VH_ERROR_CANCELLED;
  case vhfs::ErrorKind::Internal:     break;
  }
  return VH_ERROR_INTERNAL;
}

/* "12", "12px" -> 12; "0.08" -> 0.08; "8%" -> 0.08.  Values >= 1 are pixels. */
bool
parse_feather (const char *text, double *out)
{
  if (!text)
    return false;
  char *end = nullptr;
  double v = g_ascii_strtod (text, &end);
  if (end == text || !std::isfinite (v) || v < 0)
    return false;
  while (*end == ' ')
    end++;
  if (std::strcmp (end, "%") == 0) {
    v /= 100.0;
    if (v >= 1.0)
      return false;
  } else if (std::strcmp (end, "px") == 0) {
    if (v < 1.0)
      return false;
  } else if (*end != '\0') {
    return false;
  }
  *out = v;
  return true;
}

/* Runs `body`, turning any exception into a VH_ERROR on `error`. */
template <typename F>
gboolean
guarded (GError **error, const char *what, F &&body)
{
  try {
    return body ();
  } catch (const vhfs::Error &e) {
    vh_set_error (error, error_class (e.kind ()), -1, "%s", e.what ());
  } catch (const cv::Exception &e) {
    vh_set_error (error, VH_ERROR_INTERNAL, -1, "local-faceswap: %s: OpenCV: %s", what, e.what ());
  } catch (const std::bad_alloc &) {
    vh_set_error (error, VH_ERROR_INTERNAL, -1, "local-faceswap: %s: out of memory", what);
  } catch (const std::exception &e) {
    vh_set_error (error, VH_ERROR_INTERNAL, -1, "local-faceswap: %s: %s", what, e.what ());
  } catch (...) {
    vh_set_error (error, VH_ERROR_INTERNAL, -1, "local-faceswap: %s: unknown exception", what);
  }
  return FALSE;
}

gpointer
fs_create (VhHost *host, const VhConfig *config, GError **error)
{
  Instance *result = nullptr;
  guarded (error, "create", [&] () -> gboolean {
    auto inst = std::make_unique<Instance> ();
    inst->name = vh_config_instance_name (config);
    const char *from = vh_config_get_string (config, "identity_from");
    inst->identity_from_ori = from && std::strcmp (from, "ori_image") == 0;

    const char *blend = vh_config_get_string (config, "blend");
    inst->params.blend = !blend || std::strcmp (blend, "seamless-normal") == 0
                           ? vhfs::BlendMode::SeamlessNormal
                         : std::strcmp (blend, "seamless-mixed") == 0 ? vhfs::BlendMode::SeamlessMixed
                                                                      : vhfs::BlendMode::Feather;

    const char *feather = vh_config_get_string (config, "feather");
    if (!parse_feather (feather, &inst->params.feather)) {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1,
                    "[instance %s] feather = %s: expected pixels (12, 12px) or a fraction "
                    "of the face width (0.08, 8%%)", inst->name.c_str (), feather ? feather : "");
      return FALSE;
    }
    inst->params.color_transfer = vh_config_get_bool (config, "color_transfer");
    inst->params.reshape = vh_config_get_bool (config, "reshape");

    const gint64 upsample = vh_config_get_int (config, "upsample");
    const gint64 min_face = vh_config_get_int (config, "min_face");
    const double forehead = vh_config_get_double (config, "forehead");
    if (upsample < 0 || upsample > 4 || min_face < 8 || min_face > 4096
        || !(forehead >= 0 && forehead <= 0.6)) {
      vh_set_error (error, VH_ERROR_INVALID_INPUT, -1,
                    "[instance %s] out of range: upsample must be 0-4 (is %" G_GINT64_FORMAT
                    "), min_face 8-4096 (is %" G_GINT64_FORMAT "), forehead 0-0.6 (is %g)",
                    inst->name.c_str (), upsample, min_face, forehead);
      return FALSE;
    }
    inst->params.detect.upsample = int (upsample);
    inst->params.detect.min_face = int (min_face);
    inst->params.forehead = forehead;

    inst->detector = std::make_unique<vhfs::FaceDetector> (VH_DLIB_MODEL, VH_CASCADE_DIR);
    result = inst.release ();
    return TRUE;
  });
  return result;
}

gboolean
fs_run (gpointer self, const VhTask *task, const VhImage *input, VhImage **output,
        GCancellable *cancel, GError **error)
{
  const Instance *inst = static_cast<const Instance *> (self);
  return guarded (error, "run", [&] () -> gboolean {
    if (!task || !task->target_image)
      throw vhfs::Error (vhfs::ErrorKind::InvalidInput,
                         "deepfake row without target_image");

    /* ori_image: the previous stage's output, or the row's file. */
    std::vector<uint8_t> ori_file;
    const uint8_t *ori_data = nullptr;
    size_t ori_size = 0;
    std::string ori_name = task->ori_image ? task->ori_image : "the input image";
    if (input && input->bytes) {
      gsize n = 0;
      ori_data = static_cast<const uint8_t *> (g_bytes_get_data (input->bytes, &n));
      ori_size = n;
    } else if (task->ori_image) {
      ori_file = vhfs::read_file (task->ori_image);
      ori_data = ori_file.data ();
      ori_size = ori_file.size ();
    } else {
      throw vhfs::Error (vhfs::ErrorKind::InvalidInput, "deepfake row without ori_image");
    }
    const std::vector<uint8_t> target_file = vhfs::read_file (task->target_image);

    const cv::Mat ori = vhfs::decode_image (ori_data, ori_size, ori_name);
    const cv::Mat target = vhfs::decode_image (target_file.data (), target_file.size (),
                                               task->target_image);

    const bool swap_dirs = inst->identity_from_ori;
    const cv::Mat &scene = swap_dirs ? target : ori;
    const cv::Mat &identity = swap_dirs ? ori : target;
    const std::string scene_name = swap_dirs ? std::string (task->target_image) : ori_name;
    const std::string identity_name = swap_dirs ? ori_name : std::string (task->target_image);

    const cv::Mat out = vhfs::swap_faces (
      *inst->detector, scene, scene_name, identity, identity_name, inst->params, nullptr,
      [cancel] { return cancel && g_cancellable_is_cancelled (cancel); });

    const std::vector<uint8_t> jpeg = vhfs::encode_jpeg (out, 95);
    GBytes *bytes = g_bytes_new (jpeg.data (), jpeg.size ());
    VhImage *image = vh_image_new_from_bytes (bytes, error);
    g_bytes_unref (bytes);
    if (!image)
      return FALSE;
    image->width = out.cols;
    image->height = out.rows;
    *output = image;
    vh_log (VH_LOG_DEBUG, "local-faceswap", "[%s] row %s: %dx%d, face from %s",
            inst->name.c_str (), task->index ? task->index : "?", out.cols, out.rows,
            swap_dirs ? "ori_image" : "target_image");
    return TRUE;
  });
}

void
fs_destroy (gpointer self)
{
  try {
    delete static_cast<Instance *> (self);
  } catch (...) {
    /* a destructor that throws has nowhere to report to */
  }
}

const VhPlugin descriptor = {
  VH_PLUGIN_ABI,
  sizeof (VhPlugin),
  "local-faceswap",
  PACKAGE_VERSION,
  "offline face swap (dlib landmarks, OpenCV): target_image's face into ori_image's scene",
  VH_TASK_DEEPFAKE,
  options,
  fs_create,
  fs_run,
  fs_destroy,
};

} // namespace

extern "C" {
VH_PLUGIN_DEFINE (descriptor)
}
