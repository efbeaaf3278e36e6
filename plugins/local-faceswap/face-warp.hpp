/* local-faceswap — landmark geometry: alignment, outlines, warps.
 *
 * The identity face is carried into the scene by a similarity transform
 * fitted on the stable points (eyes, nose, mouth corners), so its own jaw
 * and cheek outline arrives intact: face recognisers weigh that outline
 * heavily, and pasting texture inside the scene person's outline would keep
 * the scene person's identity.  The scene is then warped piecewise-affinely
 * (Delaunay triangles over the landmarks plus a fixed ring and the image
 * frame) so that its own jaw moves onto the identity's and no second chin
 * or cheek shows around the pasted face. */
#pragma once

#include <vector>

#include <opencv2/core.hpp>

namespace vhfs {

using Points = std::vector<cv::Point2f>;

/* Least-squares similarity (rotation, uniform scale, translation) taking
 * `from` onto `to` over the points listed in `idx` (all when empty); Umeyama's
 * closed form. */
cv::Matx23d fit_similarity (const Points &from, const Points &to, const std::vector<int> &idx = {});

/* Indices of the points the alignment trusts: eye corners, nose, mouth corners. */
const std::vector<int> &stable_points ();

Points transform_points (const cv::Matx23d &m, const Points &pts);

/* The 68 landmarks plus the ten brow points raised towards the hairline by
 * `forehead` times the brow-to-chin distance (along the face's up axis). */
Points with_forehead (const Points &pts68, double forehead);

/* Closed outline of a face for masks: jaw 0-16 then the raised brows. */
std::vector<cv::Point> outline (const Points &with_forehead_pts);

/* Filled polygon of the face without the forehead, minus the eyes and the
 * mouth (dilated): where skin colour is measured. */
cv::Mat skin_mask (const cv::Size &size, const Points &pts68);

/* Filled convex hull of `outline_pts` as a CV_8U 0/255 mask. */
cv::Mat hull_mask (const cv::Size &size, const std::vector<cv::Point> &outline_pts);

/* Warps `image` so the points `from` move to `to`, the image frame and a
 * ring around the face staying fixed.  Displacements are scaled down until
 * no triangle folds over; returns false (image untouched) when even a
 * quarter of them would fold. */
bool reshape (cv::Mat &image, const Points &from, const Points &to);

/* Landmark-geometry distance between two 68-point shapes: RMS residual after
 * the best similarity alignment, over the inter-ocular distance of `b`.
 * Small = same face shape.  Used by the tests and the bench. */
double shape_distance (const Points &a, const Points &b);

/* Width of a face: distance between jaw points 0 and 16. */
double face_width (const Points &pts68);

} // namespace vhfs
