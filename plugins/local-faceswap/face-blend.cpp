/* local-faceswap — compositing. */
#include "face-blend.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

namespace vhfs {

namespace {

/* Poisson cloning costs grow fast with the region (OpenCV solves it with
 * DSTs over the mask's box): ~100 ms for a 300x400 face.  Normal cloning
 * only adds a harmonic (smooth) correction to the face, so above this size
 * the correction is solved on a reduced copy and scaled back up. */
constexpr int kCloneMaxSide = 128;

cv::Mat
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

/* seamlessClone with the face kept in place.  It centres the mask's box on
 * `center` with integer halves, so the box's own centre computed that way
 * is exact; it also clears the mask's outermost ring before measuring the
 * box, so that is done here first. */
cv::Mat
clone_in_place (const cv::Mat &face, const cv::Mat &scene, const cv::Mat &mask, int flags)
{
  cv::Mat inner = mask.clone ();
  cv::rectangle (inner, cv::Rect (0, 0, inner.cols, inner.rows), cv::Scalar (0), 1);
  const cv::Rect box = cv::boundingRect (inner);
  if (box.width < 3 || box.height < 3)
    return face.clone ();
  cv::Mat out;
  cv::seamlessClone (face, scene, inner,
                     cv::Point (box.x + box.width / 2, box.y + box.height / 2), out, flags);
  return out;
}

cv::Mat
clone_normal (const cv::Mat &face, const cv::Mat &scene, const cv::Mat &mask)
{
  const int side = std::max (face.cols, face.rows);
  if (side <= kCloneMaxSide)
    return clone_in_place (face, scene, mask, cv::NORMAL_CLONE);

  const double f = double (kCloneMaxSide) / side;
  cv::Mat fs, ss, ms;
  cv::resize (face, fs, cv::Size (), f, f, cv::INTER_AREA);
  cv::resize (scene, ss, fs.size (), 0, 0, cv::INTER_AREA);
  cv::resize (mask, ms, fs.size (), 0, 0, cv::INTER_AREA);
  cv::threshold (ms, ms, 127, 255, cv::THRESH_BINARY);
  const cv::Mat cs = clone_in_place (fs, ss, ms, cv::NORMAL_CLONE);

  cv::Mat corr, fs32, full;
  cs.convertTo (corr, CV_32FC3);
  fs.convertTo (fs32, CV_32FC3);
  corr -= fs32;
  cv::resize (corr, corr, face.size (), 0, 0, cv::INTER_LINEAR);
  face.convertTo (full, CV_32FC3);
  full += corr;
  cv::Mat out;
  full.convertTo (out, CV_8UC3);
  return out;
}

} // namespace

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

cv::Mat
blend (const cv::Mat &scene, const cv::Mat &face, const cv::Mat &mask,
       BlendMode mode, double feather_px)
{
  CV_Assert (scene.size () == face.size () && scene.size () == mask.size ());
  cv::Mat out = scene.clone ();
  /* Everything happens in the mask's box plus a margin for the blur. */
  const int margin = int (std::ceil (feather_px)) + 4;
  cv::Rect roi = cv::boundingRect (mask);
  if (roi.empty ())
    return out;
  roi.x -= margin; roi.y -= margin; roi.width += 2 * margin; roi.height += 2 * margin;
  roi &= cv::Rect (0, 0, scene.cols, scene.rows);

  const cv::Mat s = scene (roi), f = face (roi), m = mask (roi);
  const cv::Mat alpha = feather_alpha (m, feather_px);
  cv::Mat top;
  switch (mode) {
  case BlendMode::Feather:        top = f; break;
  case BlendMode::SeamlessNormal: top = clone_normal (f, s, m); break;
  case BlendMode::SeamlessMixed:  top = clone_in_place (f, s, m, cv::MIXED_CLONE); break;
  }
  mix (top, s, alpha).copyTo (out (roi));
  return out;
}

} // namespace vhfs
