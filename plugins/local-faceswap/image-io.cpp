/* local-faceswap — decoding and encoding by content. */
#include "image-io.hpp"
#include "faceswap-error.hpp"

#include <fstream>
#include <iterator>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace vhfs {

bool
jpeg_is_complete (const uint8_t *d, size_t n)
{
  /* Walk the marker segments; inside entropy-coded data only FF00 (stuffed
   * byte) and FFD0..FFD7 (restart markers) may follow FF.  Progressive
   * files have several scans, so keep walking until EOI. */
  if (n < 4 || d[0] != 0xFF || d[1] != 0xD8)
    return false;
  size_t i = 2;
  while (i + 1 < n) {
    if (d[i] != 0xFF)
      return false;                      /* garbage where a marker belongs */
    uint8_t m = d[i + 1];
    if (m == 0xFF) { i++; continue; }    /* fill bytes */
    if (m == 0xD9)
      return true;                       /* EOI */
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { i += 2; continue; }
    if (i + 3 >= n)
      return false;
    size_t len = (size_t (d[i + 2]) << 8) | d[i + 3];
    if (len < 2 || i + 2 + len > n)
      return false;
    i += 2 + len;
    if (m == 0xDA) {                     /* SOS: skip the entropy-coded data */
      while (i + 1 < n) {
        if (d[i] == 0xFF && d[i + 1] != 0x00 && !(d[i + 1] >= 0xD0 && d[i + 1] <= 0xD7))
          break;
        i++;
      }
      if (i + 1 >= n)
        return false;
    }
  }
  return false;
}

static bool
is_jpeg (const uint8_t *d, size_t n)
{
  return n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF;
}

cv::Mat
decode_image (const uint8_t *data, size_t size, const std::string &name)
{
  if (size == 0)
    throw Error (ErrorKind::InvalidInput, name + ": empty image");
  if (is_jpeg (data, size) && !jpeg_is_complete (data, size))
    throw Error (ErrorKind::InvalidInput, name + ": truncated or corrupt JPEG");

  const cv::Mat buf (1, int (size), CV_8UC1, const_cast<uint8_t *> (data));
  cv::Mat img;
  try {
    /* JPEG through IMREAD_COLOR so EXIF orientation is applied; everything
     * else unchanged so an alpha channel can be composited over white like
     * the host's vh_image_decode(). */
    img = cv::imdecode (buf, is_jpeg (data, size) ? cv::IMREAD_COLOR
                                                  : cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception &e) {
    throw Error (ErrorKind::InvalidInput, name + ": cannot decode image: " + e.what ());
  }
  if (img.empty () || img.cols < 2 || img.rows < 2)
    throw Error (ErrorKind::InvalidInput, name + ": not a decodable image");

  if (img.depth () == CV_16U)
    img.convertTo (img, CV_8U, 1.0 / 257.0);
  else if (img.depth () != CV_8U)
    throw Error (ErrorKind::InvalidInput, name + ": unsupported pixel depth");

  cv::Mat bgr;
  switch (img.channels ()) {
  case 1:
    cv::cvtColor (img, bgr, cv::COLOR_GRAY2BGR);
    break;
  case 3:
    bgr = img;
    break;
  case 4: {
    bgr.create (img.size (), CV_8UC3);
    for (int y = 0; y < img.rows; y++) {
      const cv::Vec4b *s = img.ptr<cv::Vec4b> (y);
      cv::Vec3b *o = bgr.ptr<cv::Vec3b> (y);
      for (int x = 0; x < img.cols; x++) {
        const int a = s[x][3];
        for (int c = 0; c < 3; c++)
          o[x][c] = uchar ((s[x][c] * a + 255 * (255 - a) + 127) / 255);
      }
    }
    break;
  }
  default:
    throw Error (ErrorKind::InvalidInput, name + ": unsupported channel count");
  }
  return bgr;
}

std::vector<uint8_t>
read_file (const std::string &path)
{
  std::ifstream in (path, std::ios::binary);
  if (!in)
    throw Error (ErrorKind::InvalidInput, path + ": cannot open");
  std::vector<uint8_t> bytes ((std::istreambuf_iterator<char> (in)),
                              std::istreambuf_iterator<char> ());
  if (in.bad ())
    throw Error (ErrorKind::InvalidInput, path + ": read error");
  return bytes;
}

std::vector<uint8_t>
encode_jpeg (const cv::Mat &bgr, int quality)
{
  std::vector<uint8_t> out;
  const std::vector<int> params = { cv::IMWRITE_JPEG_QUALITY, quality };
  if (!cv::imencode (".jpg", bgr, out, params))
    throw Error (ErrorKind::Internal, "JPEG encoding failed");
  return out;
}

std::vector<uint8_t>
encode_png (const cv::Mat &bgr)
{
  std::vector<uint8_t> out;
  if (!cv::imencode (".png", bgr, out))
    throw Error (ErrorKind::Internal, "PNG encoding failed");
  return out;
}

} // namespace vhfs
