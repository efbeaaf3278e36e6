/* local-faceswap — Reinhard colour transfer in Lab. */
#include "color-transfer.hpp"

#include <algorithm>

#include <opencv2/imgproc.hpp>

namespace vhfs {

namespace {

cv::Mat
to_lab (const cv::Mat &bgr)
{
  cv::Mat f, lab;
  bgr.convertTo (f, CV_32FC3, 1.0 / 255.0);
  cv::cvtColor (f, lab, cv::COLOR_BGR2Lab);
  return lab;
}

} // namespace

void
color_transfer (cv::Mat &face, const cv::Mat &face_skin, const cv::Mat &scene,
                const cv::Mat &scene_skin, const cv::Rect &roi_in)
{
  const cv::Rect roi = roi_in & cv::Rect (0, 0, face.cols, face.rows);
  if (roi.empty () || cv::countNonZero (face_skin) < 16 || cv::countNonZero (scene_skin) < 16)
    return;

  cv::Scalar fm, fs, sm, ss;
  cv::meanStdDev (to_lab (face (roi)), fm, fs, face_skin (roi));
  const cv::Rect sroi = cv::boundingRect (scene_skin);
  cv::meanStdDev (to_lab (scene (sroi)), sm, ss, scene_skin (sroi));

  cv::Mat lab = to_lab (face (roi));
  std::vector<cv::Mat> ch;
  cv::split (lab, ch);
  for (int c = 0; c < 3; c++) {
    const double k = std::clamp (ss[c] / std::max (fs[c], 1e-3), 0.5, 2.0);
    ch[size_t (c)].convertTo (ch[size_t (c)], CV_32F, k, sm[c] - k * fm[c]);
  }
  cv::merge (ch, lab);
  cv::Mat bgr;
  cv::cvtColor (lab, bgr, cv::COLOR_Lab2BGR);
  bgr.convertTo (face (roi), CV_8UC3, 255.0);
}

double
border_delta_e (const cv::Mat &face, const cv::Mat &scene, const cv::Mat &mask, int band)
{
  /* The band the fade runs over: there the viewer sees the pasted face and
   * the scene's own skin side by side.  Both are smoothed first: the figure
   * is about a colour step, not about skin texture. */
  cv::Mat eroded, in_band;
  const cv::Mat k = cv::getStructuringElement (cv::MORPH_ELLIPSE, cv::Size (2 * band + 1, 2 * band + 1));
  cv::erode (mask, eroded, k);
  cv::subtract (mask, eroded, in_band);
  const cv::Rect roi = cv::boundingRect (in_band);
  if (roi.empty ())
    return 0;
  cv::Mat sf, ss;
  const int ks = 2 * band + 1;
  cv::GaussianBlur (face (roi), sf, cv::Size (ks, ks), 0);
  cv::GaussianBlur (scene (roi), ss, cv::Size (ks, ks), 0);
  const cv::Mat lf = to_lab (sf), ls = to_lab (ss), m = in_band (roi);
  double sum = 0;
  long n = 0;
  for (int y = 0; y < m.rows; y++)
    for (int x = 0; x < m.cols; x++)
      if (m.at<uchar> (y, x)) {
        sum += cv::norm (lf.at<cv::Vec3f> (y, x) - ls.at<cv::Vec3f> (y, x));
        n++;
      }
  return n ? sum / double (n) : 0;
}

} // namespace vhfs
