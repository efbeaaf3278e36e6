/* local-faceswap — finding the face and its 68 landmarks.
 *
 * Detection tries hard before giving up, cheapest first: dlib's HOG frontal
 * detector at the image's own scale (large images are scanned reduced),
 * then the same detector on 2x, 4x... upsampled copies for small faces,
 * then OpenCV Haar cascades (frontalface_alt2, frontalface_default,
 * profileface both ways).  Of several faces the largest wins. */
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace vhfs {

constexpr int kLandmarks = 68;   /* iBUG 300-W order: jaw 0-16, brows 17-26,
                                    nose 27-35, eyes 36-47, mouth 48-67 */

struct Face {
  cv::Rect box;                      /* as found, in image pixels */
  std::vector<cv::Point2f> points;   /* 68 landmarks, clamped to the image */
  std::string detector;              /* "hog", "hog-up1", "haar-alt2", ... */
};

struct DetectParams {
  int upsample = 2;    /* most 2x upsampling passes of the HOG detector */
  int min_face = 32;   /* faces narrower than this many pixels are ignored */
  bool use_hog = true; /* false: Haar cascades only (lets the tests reach them) */
};

class FaceDetector {
public:
  /* Loads the shape predictor and the cascades; Error(Internal) naming the
   * file when one is missing or unreadable.  Slow (the model is ~100 MB):
   * done once per plugin instance. */
  FaceDetector (const std::string &model_path, const std::string &cascade_dir);
  ~FaceDetector ();
  FaceDetector (const FaceDetector &) = delete;
  FaceDetector &operator= (const FaceDetector &) = delete;

  /* The largest face of an 8-bit BGR image, or nothing.  Safe to call from
   * several threads at once. */
  std::optional<Face> detect (const cv::Mat &bgr, const DetectParams &params) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace vhfs
