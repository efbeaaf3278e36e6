/* local-faceswap — colour transfer of the pasted face to the scene's skin.
 *
 * Reinhard et al. (2001) in CIE Lab: per channel, shift and scale the face's
 * statistics onto the scene's.  Both are measured on skin only (face minus
 * eyes, brows, mouth and jaw line) so that hair, teeth and background do not
 * bias them. */
#pragma once

#include <opencv2/core.hpp>

namespace vhfs {

/* Recolours `face` (8-bit BGR) inside `roi` so its Lab statistics under
 * `face_skin` match those of `scene` under `scene_skin`.  The scale factors
 * are kept within [0.5, 2]: a harsh light on one side must not blow the
 * contrast up. */
void color_transfer (cv::Mat &face, const cv::Mat &face_skin, const cv::Mat &scene,
                     const cv::Mat &scene_skin, const cv::Rect &roi);

/* Mean CIE76 colour difference (Lab, L in 0..100) between `face` and
 * `scene` over the band `band` pixels wide just inside the edge of `mask`:
 * the colour step a paste would show there without blending.  The bench's
 * quality figure. */
double border_delta_e (const cv::Mat &face, const cv::Mat &scene, const cv::Mat &mask, int band);

} // namespace vhfs
