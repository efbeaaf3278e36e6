/* local-faceswap — compositing. */
#include "face-blend.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

namespace vhfs {

cv::Mat
feather_alpha (const cv::Mat &mask, double feather_px)
{
  cv::Mat alpha;
  const int f = std::max (1, int (std::lround (feather_px)));
  /* Erode by half the width and blur by a kernel of the full width: the
   * ramp runs from the edge (0) to f pixels inside it (1). */
  cv::Mat eroded;
  const int r = std::max (1, f / 2);
  cv::erode (mask, eroded, cv::getStructuringElement (cv::MORPH_ELLIPSE, cv::Size (2 * r + 1, 2 * r + 1)));
  eroded.convertTo (alpha, CV_32F, 1.0 / 255.0);
  const int k = 2 * r + 1;
  cv::GaussianBlur (alpha, alpha, cv::Size (2 * k + 1, 2 * k + 1), k / 2.5);
  alpha.setTo (0, mask == 0);
  return alpha;
}

static cv::Mat
mix (const cv::Mat &top, const cv::Mat &bottom, const cv::Mat &alpha)
{
  cv::Mat out (bottom.size (), CV_8UC3);
  for (int y = 0; y < out.rows; y++) {
    const cv::Vec3b *t = top.ptr<cv::Vec3b> (y), *b = bottom.ptr<cv::Vec3b> (y);
    const float *a = alpha.ptr<float> (y);
    cv::Vec3b *o = out.ptr<cv::Vec3b> (y);
    for (int x = 0; x < out.cols; x++)
      for (int c = 0; c < 3; c++)
        o[x][c] = cv::saturate_cast<uchar> (a[x] * t[x][c] + (1.f - a[x]) * b[x][c]);
  }
  return out;
}

cv::Mat
blend (const cv::Mat &scene, const cv::Mat &face, const cv::Mat &mask,
       BlendMode mode, double feather_px)
{
  CV_Assert (scene.size () == face.size () && scene.size () == mask.size ());
  const cv::Mat alpha = feather_alpha (mask, feather_px);
  if (mode == BlendMode::Feather)
    return mix (face, scene, alpha);

  /* seamlessClone places the mask's bounding box centred on `center` with
   * integer halves; handing it the box's own centre that way keeps the
   * clone exactly in place.  OpenCV clears the outermost pixel ring of the
   * mask before measuring the box, so it is cleared here first too. */
  cv::Mat inner = mask.clone ();
  cv::rectangle (inner, cv::Rect (0, 0, inner.cols, inner.rows), cv::Scalar (0), 1);
  const cv::Rect box = cv::boundingRect (inner);
  if (box.width < 3 || box.height < 3)
    return mix (face, scene, alpha);
  const cv::Point center (box.x + box.width / 2, box.y + box.height / 2);
  cv::Mat cloned;
  cv::seamlessClone (face, scene, inner, center, cloned,
                     mode == BlendMode::SeamlessMixed ? cv::MIXED_CLONE : cv::NORMAL_CLONE);
  return mix (cloned, scene, alpha);
}

} // namespace vhfs
