/* local-faceswap — compositing the prepared face into the scene. */
#pragma once

#include <opencv2/core.hpp>

namespace vhfs {

enum class BlendMode {
  SeamlessNormal,   /* Poisson cloning (cv::seamlessClone NORMAL_CLONE) */
  SeamlessMixed,    /* Poisson cloning keeping the stronger gradient (MIXED_CLONE) */
  Feather,          /* alpha blend with a blurred mask only */
};

/* `face` is already aligned to `scene` (same size, 8-bit BGR); `mask` is
 * the 0/255 paste region.  The seamless modes clone inside the mask and
 * then fade the clone out over `feather_px` pixels inside the mask edge, so
 * neither a colour step nor a hard line is left; Feather fades the face
 * itself.  Returns a new image the size of the scene. */
cv::Mat blend (const cv::Mat &scene, const cv::Mat &face, const cv::Mat &mask,
               BlendMode mode, double feather_px);

/* The alpha used for the fade: 1 deep inside, 0 on and outside the edge. */
cv::Mat feather_alpha (const cv::Mat &mask, double feather_px);

} // namespace vhfs
