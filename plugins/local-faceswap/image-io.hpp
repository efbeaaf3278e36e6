/* local-faceswap — decoding and encoding by content, never by file name. */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace vhfs {

/* Decodes JPEG, PNG (alpha composited over white, 16-bit scaled down),
 * WebP, grayscale, whatever OpenCV reads, into 8-bit BGR.  A JPEG whose
 * entropy-coded data ends before its EOI marker is refused even though
 * libjpeg would pad it with grey: a half image is not a face photo.
 * Throws Error(InvalidInput) naming `name`. */
cv::Mat decode_image (const uint8_t *data, size_t size, const std::string &name);

/* Reads a whole file; Error(InvalidInput) when it cannot be read. */
std::vector<uint8_t> read_file (const std::string &path);

/* JPEG (quality 1..100) or PNG bytes of an 8-bit BGR image. */
std::vector<uint8_t> encode_jpeg (const cv::Mat &bgr, int quality);
std::vector<uint8_t> encode_png (const cv::Mat &bgr);

/* True when a JPEG stream reaches its EOI marker (exposed for the tests). */
bool jpeg_is_complete (const uint8_t *data, size_t size);

} // namespace vhfs
