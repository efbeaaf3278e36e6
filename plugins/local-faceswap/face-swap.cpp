/* local-faceswap — the whole swap. */
#include "face-swap.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "color-transfer.hpp"
#include "faceswap-error.hpp"

namespace vhfs {

namespace {

void
check (const std::function<bool ()> &cancelled)
{
  if (cancelled && cancelled ())
    throw Error (ErrorKind::Cancelled, "face swap cancelled");
}

Face
find_face (const FaceDetector &detector, const cv::Mat &image, const std::string &name,
           const DetectParams &params)
{
  std::optional<Face> face = detector.detect (image, params);
  if (!face)
    throw Error (ErrorKind::Rejected, "no face found in " + name);
  return *face;
}

/* How far the mask reaches past the lower jaw, in face widths. */
constexpr double kChinMargin = 0.04;

/* Jaw, nose ridge and the raised brows of with_forehead(). */
const std::vector<int> &
outline_points ()
{
  static const std::vector<int> idx = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    27, 28, 29, 30,
    68, 69, 70, 71, 72, 73, 74, 75, 76, 77,
  };
  return idx;
}

} // namespace

cv::Mat
swap_faces (const FaceDetector &detector,
            const cv::Mat &scene, const std::string &scene_name,
            const cv::Mat &identity, const std::string &identity_name,
            const SwapParams &params, SwapReport *report,
            const std::function<bool ()> &cancelled)
{
  CV_Assert (scene.type () == CV_8UC3 && identity.type () == CV_8UC3);
  check (cancelled);
  const Face sf = find_face (detector, scene, scene_name, params.detect);
  check (cancelled);
  const Face idf = find_face (detector, identity, identity_name, params.detect);
  check (cancelled);

  /* Identity into the scene's frame: one similarity fitted on the stable
   * points, applied to the whole photo, so the identity's own outline
   * (jaw, cheeks, forehead) comes along undistorted. */
  const cv::Matx23d m = fit_similarity (idf.points, sf.points, stable_points ());
  const Points placed = transform_points (m, with_forehead (idf.points, params.forehead));
  const Points scene_pts = with_forehead (sf.points, params.forehead);
  const double fw = face_width (placed);
  const double feather_px = std::max (2.0, params.feather >= 1.0 ? params.feather
                                                                 : params.feather * fw);

  /* The paste, its mask and the blend only concern the face's box (plus
   * room for the fade): on a large photo that is a small part of it. */
  cv::Rect work = cv::boundingRect (placed);
  const int margin = int (fw * 0.1 + feather_px) + 8;
  work.x -= margin; work.y -= margin; work.width += 2 * margin; work.height += 2 * margin;
  work &= cv::Rect (0, 0, scene.cols, scene.rows);
  if (work.width < 8 || work.height < 8)
    throw Error (ErrorKind::Rejected, "the face of " + identity_name +
                 " does not land inside " + scene_name);
  cv::Matx23d mw = m;
  mw (0, 2) -= work.x;
  mw (1, 2) -= work.y;
  Points placed_w;
  for (const cv::Point2f &p : placed)
    placed_w.push_back (p - cv::Point2f (float (work.x), float (work.y)));

  cv::Mat face, valid;
  cv::warpAffine (identity, face, mw, work.size (), cv::INTER_LINEAR, cv::BORDER_REFLECT);
  cv::warpAffine (cv::Mat (identity.size (), CV_8UC1, cv::Scalar (255)), valid, mw, work.size (),
                  cv::INTER_NEAREST, cv::BORDER_CONSTANT, cv::Scalar (0));
  cv::erode (valid, valid, cv::Mat (), cv::Point (-1, -1), 2);

  /* The scene's own jaw moves to where the identity's will be. */
  cv::Mat canvas = scene.clone ();
  bool reshaped = false;
  if (params.reshape) {
    /* Only the outline and the nose ridge steer this warp: the inside is
     * covered by the paste anyway, and a smiling mouth moved onto a closed
     * one would fold the triangles over each other. */
    Points from, to;
    for (int i : outline_points ()) {
      from.push_back (scene_pts[size_t (i)]);
      to.push_back (placed[size_t (i)]);
    }
    reshaped = reshape (canvas, from, to);
  }
  check (cancelled);

  /* The lower jaw line sits on the chin's own edge shadow; fading there
   * mixes the two chins' shading into a smudge.  Lowering the mask's jaw a
   * little moves the fade onto the neck, which is neck in both photos. */
  Points mask_pts = placed_w;
  {
    const cv::Point2f centre = (placed_w[27] + placed_w[8]) * 0.5f;
    for (int i = 6; i <= 10; i++) {
      cv::Point2f d = placed_w[size_t (i)] - centre;
      const float len = std::max (1e-3f, float (cv::norm (d)));
      mask_pts[size_t (i)] += d * float (kChinMargin * fw / len);
    }
  }
  cv::Mat mask = hull_mask (work.size (), outline (mask_pts));
  mask &= valid;
  if (cv::countNonZero (mask) < 64)
    throw Error (ErrorKind::Rejected, "the face of " + identity_name +
                 " does not land inside " + scene_name);

  const cv::Mat canvas_w = canvas (work);
  const int band = std::max (2, int (fw * 0.03));
  if (report) {
    report->border_de_raw = border_delta_e (face, canvas_w, mask, band);
    report->border_de_transfer = report->border_de_raw;
  }
  if (params.color_transfer) {
    const Points placed68 (placed_w.begin (), placed_w.begin () + kLandmarks);
    const cv::Mat face_skin = skin_mask (work.size (), placed68) & valid;
    const cv::Mat scene_skin = skin_mask (scene.size (), sf.points);
    color_transfer (face, face_skin, scene, scene_skin, cv::Rect (0, 0, work.width, work.height));
    if (report)
      report->border_de_transfer = border_delta_e (face, canvas_w, mask, band);
  }
  check (cancelled);

  cv::Mat out = canvas;
  blend (canvas_w, face, mask, params.blend, feather_px).copyTo (out (work));

  if (report) {
    report->scene_face = sf;
    report->identity_face = idf;
    report->placed = placed;
    report->mask = cv::Mat::zeros (scene.size (), CV_8UC1);
    mask.copyTo (report->mask (work));
    report->reshaped = reshaped;
    report->feather_px = feather_px;
  }
  return out;
}

} // namespace vhfs
