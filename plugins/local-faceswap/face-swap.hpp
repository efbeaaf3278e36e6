/* local-faceswap — the whole swap: detect, align, recolour, blend.
 *
 * Vocabulary: the SCENE is the photo the result is made from (its size,
 * background, hair, clothes); the IDENTITY is the photo whose face ends up
 * in it.  The plugin maps ori_image/target_image onto these two according to
 * its identity_from option. */
#pragma once

#include <functional>
#include <string>

#include <opencv2/core.hpp>

#include "face-blend.hpp"
#include "face-detect.hpp"
#include "face-warp.hpp"

namespace vhfs {

struct SwapParams {
  DetectParams detect;
  BlendMode blend = BlendMode::SeamlessNormal;
  /* Width of the fade at the mask edge: pixels when >= 1, else a fraction
   * of the face width. */
  double feather = 0.08;
  bool color_transfer = true;
  /* How far above the brows the paste reaches, in brow-to-chin distances. */
  double forehead = 0.22;
  /* Move the scene's jaw onto the identity's before pasting. */
  bool reshape = true;
};

struct SwapReport {
  Face scene_face, identity_face;
  Points placed;                  /* identity landmarks (+ forehead) in scene coordinates */
  cv::Mat mask;                   /* the paste region, scene-sized 0/255 */
  bool reshaped = false;
  double feather_px = 0;
  double border_de_raw = 0;       /* colour step across the mask edge, no transfer */
  double border_de_transfer = 0;  /* the same after colour transfer (before blending) */
};

/* Throws Error: Rejected when a photo has no face (naming it by
 * `scene_name` / `identity_name`), Cancelled when `cancelled` returns true
 * between stages.  The result has the scene's size.  `report` may be null;
 * filling it costs the two border measurements. */
cv::Mat swap_faces (const FaceDetector &detector,
                    const cv::Mat &scene, const std::string &scene_name,
                    const cv::Mat &identity, const std::string &identity_name,
                    const SwapParams &params, SwapReport *report = nullptr,
                    const std::function<bool ()> &cancelled = {});

} // namespace vhfs
