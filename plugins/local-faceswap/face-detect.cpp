/* local-faceswap — face detection and landmarks. */
#include "config.h"

#include "face-detect.hpp"
#include "faceswap-error.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <mutex>

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv.h>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

namespace vhfs {

namespace {

/* The HOG detector's window is 80x80: at scale f it finds faces of about
 * 80/f pixels and larger. */
constexpr double kHogWindow = 80.0;
/* First HOG pass on at most this many pixels per side: the cost grows with
 * the area, and faces on large photos are large. */
constexpr double kHogMaxSide = 512.0;
/* Upsampling stops before a side exceeds this (memory and time bound). */
constexpr double kHogMaxUpSide = 2400.0;
constexpr double kHaarMaxSide = 800.0;

const char *const kCascadeFiles[] = {
  "haarcascade_frontalface_alt2.xml",
  "haarcascade_frontalface_default.xml",
  "haarcascade_profileface.xml",
};
const char *const kCascadeNames[] = { "haar-alt2", "haar-default", "haar-profile" };
constexpr int kCascades = 3;

/* The mutable half of detection.  dlib's object_detector::operator() is not
 * const (it keeps scratch buffers) and cv::CascadeClassifier is not safe to
 * share between threads either, so each concurrent run leases its own from
 * a small pool; the pool grows to the peak concurrency and no further. */
struct Worker {
  dlib::frontal_face_detector hog;
  cv::CascadeClassifier cascade[kCascades];
  bool cascades_ready = false;
};

std::string
slurp (const std::string &path)
{
  std::ifstream in (path, std::ios::binary);
  if (!in)
    throw Error (ErrorKind::Internal, path + ": cannot open");
  return std::string ((std::istreambuf_iterator<char> (in)), std::istreambuf_iterator<char> ());
}

void
load_cascade (cv::CascadeClassifier &c, const std::string &xml, const std::string &name)
{
  cv::FileStorage fs (xml, cv::FileStorage::READ | cv::FileStorage::MEMORY);
  if (!fs.isOpened () || !c.read (fs.getFirstTopLevelNode ()) || c.empty ())
    throw Error (ErrorKind::Internal, name + ": not a usable OpenCV cascade");
}

cv::Rect
to_cv (const dlib::rectangle &r, double scale)
{
  return cv::Rect (int (std::lround (r.left () / scale)), int (std::lround (r.top () / scale)),
                   int (std::lround (r.width () / scale)), int (std::lround (r.height () / scale)));
}

cv::Mat
scaled (const cv::Mat &gray, double f)
{
  if (f == 1.0)
    return gray;
  cv::Mat out;
  cv::resize (gray, out, cv::Size (), f, f, f < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

const cv::Rect *
largest (const std::vector<cv::Rect> &boxes, int min_face)
{
  const cv::Rect *best = nullptr;
  for (const cv::Rect &b : boxes)
    if (b.width >= min_face && (!best || b.area () > best->area ()))
      best = &b;
  return best;
}

/* dlib's HOG boxes frame the face from the brows to the chin; the Haar
 * boxes sit higher and wider.  The predictor was trained on HOG boxes, so
 * a Haar box is replaced by the HOG-like box of its first landmarks and the
 * landmarks predicted again.  The constants are the mean relation of HOG
 * boxes to landmark extents over the test portraits (side 0.95-1.18 times
 * the larger extent, centre 0.40-0.49 of the height below the brows). */
cv::Rect
hog_like_box (const std::vector<cv::Point2f> &p)
{
  float x0 = p[0].x, x1 = p[0].x, y0 = p[0].y, y1 = p[0].y;
  for (const cv::Point2f &q : p) {
    x0 = std::min (x0, q.x); x1 = std::max (x1, q.x);
    y0 = std::min (y0, q.y); y1 = std::max (y1, q.y);
  }
  const float w = x1 - x0, h = y1 - y0;
  const float side = std::max (w, h) * 1.04f;
  const float cx = (x0 + x1) / 2, cy = y0 + h * 0.455f;
  return cv::Rect (int (cx - side / 2), int (cy - side / 2), int (side), int (side));
}

} // namespace

struct FaceDetector::Impl {
  dlib::shape_predictor predictor;     /* const use is thread-safe (dlib docs) */
  dlib::frontal_face_detector hog_prototype;
  std::string cascade_xml[kCascades];
  std::string cascade_path[kCascades];

  std::mutex mutex;
  std::vector<std::unique_ptr<Worker>> idle;

  std::unique_ptr<Worker> lease ()
  {
    {
      std::lock_guard<std::mutex> lock (mutex);
      if (!idle.empty ()) {
        std::unique_ptr<Worker> w = std::move (idle.back ());
        idle.pop_back ();
        return w;
      }
    }
    auto w = std::make_unique<Worker> ();
    w->hog = hog_prototype;
    return w;
  }

  void give_back (std::unique_ptr<Worker> w)
  {
    std::lock_guard<std::mutex> lock (mutex);
    idle.push_back (std::move (w));
  }

  void ready_cascades (Worker &w) const
  {
    if (w.cascades_ready)
      return;
    for (int i = 0; i < kCascades; i++)
      load_cascade (w.cascade[i], cascade_xml[i], cascade_path[i]);
    w.cascades_ready = true;
  }

  std::vector<cv::Point2f> landmarks (const dlib::cv_image<unsigned char> &img,
                                      const cv::Rect &box, const cv::Size &size) const
  {
    const dlib::rectangle r (box.x, box.y, box.x + box.width - 1, box.y + box.height - 1);
    const dlib::full_object_detection shape = predictor (img, r);
    std::vector<cv::Point2f> pts (kLandmarks);
    for (int i = 0; i < kLandmarks; i++) {
      const dlib::point p = shape.part (unsigned (i));
      pts[size_t (i)] = cv::Point2f (std::clamp (float (p.x ()), 0.f, float (size.width - 1)),
                                     std::clamp (float (p.y ()), 0.f, float (size.height - 1)));
    }
    return pts;
  }
};

FaceDetector::FaceDetector (const std::string &model_path, const std::string &cascade_dir)
  : impl_ (std::make_unique<Impl> ())
{
  try {
    dlib::deserialize (model_path) >> impl_->predictor;
  } catch (const std::exception &e) {
    throw Error (ErrorKind::Internal, model_path + ": cannot load the dlib landmark model (" +
                 e.what () + "); install libdlib-data or configure --with-dlib-model");
  }
  if (impl_->predictor.num_parts () != kLandmarks)
    throw Error (ErrorKind::Internal, model_path + ": not a 68-point landmark model");
  impl_->hog_prototype = dlib::get_frontal_face_detector ();

  for (int i = 0; i < kCascades; i++) {
    impl_->cascade_path[i] = cascade_dir + "/" + kCascadeFiles[i];
    impl_->cascade_xml[i] = slurp (impl_->cascade_path[i]);
  }
  /* Parse the cascades now so a broken install fails at create(), and keep
   * that worker as the first of the pool. */
  auto first = std::make_unique<Worker> ();
  first->hog = impl_->hog_prototype;
  impl_->ready_cascades (*first);
  impl_->give_back (std::move (first));
}

FaceDetector::~FaceDetector () = default;

std::optional<Face>
FaceDetector::detect (const cv::Mat &bgr, const DetectParams &params) const
{
  CV_Assert (bgr.type () == CV_8UC3);
  cv::Mat gray;
  cv::cvtColor (bgr, gray, cv::COLOR_BGR2GRAY);
  const double max_side = std::max (gray.cols, gray.rows);
  const int min_face = std::max (1, params.min_face);

  struct Lease {
    Impl &impl;
    std::unique_ptr<Worker> w;
    ~Lease () { impl.give_back (std::move (w)); }
  } lease { *impl_, impl_->lease () };
  Worker &w = *lease.w;

  Face face;
  bool found = false;

  /* HOG: native (or reduced) scale, then upsampled passes. */
  const double f0 = std::min (1.0, kHogMaxSide / max_side);
  for (int k = 0; params.use_hog && k <= std::max (0, params.upsample); k++) {
    const double f = f0 * std::ldexp (1.0, k);
    if (k > 0 && max_side * f > kHogMaxUpSide)
      break;
    cv::Mat s = scaled (gray, f);
    std::vector<dlib::rectangle> dets = w.hog (dlib::cv_image<unsigned char> (s));
    std::vector<cv::Rect> boxes;
    for (const dlib::rectangle &r : dets)
      boxes.push_back (to_cv (r, f));
    if (const cv::Rect *b = largest (boxes, min_face)) {
      face.box = *b;
      face.detector = k == 0 ? "hog" : "hog-up" + std::to_string (k);
      found = true;
      break;
    }
    /* Faces below kHogWindow / f are all the next pass could add. */
    if (kHogWindow / f < min_face)
      break;
  }

  /* Haar cascades on an equalised copy. */
  if (!found) {
    impl_->ready_cascades (w);
    const double f = std::min (1.0, kHaarMaxSide / max_side);
    cv::Mat s = scaled (gray, f);
    cv::equalizeHist (s, s);
    const int min_side = std::max (20, int (min_face * f));
    for (int i = 0; i < kCascades && !found; i++) {
      std::vector<cv::Rect> raw, boxes;
      w.cascade[i].detectMultiScale (s, raw, 1.1, 4, 0, cv::Size (min_side, min_side));
      if (i == kCascades - 1) {       /* the profile cascade only knows one side */
        cv::Mat flipped;
        cv::flip (s, flipped, 1);
        std::vector<cv::Rect> mirrored;
        w.cascade[i].detectMultiScale (flipped, mirrored, 1.1, 4, 0, cv::Size (min_side, min_side));
        for (cv::Rect r : mirrored) {
          r.x = s.cols - r.x - r.width;
          raw.push_back (r);
        }
      }
      for (const cv::Rect &r : raw)
        boxes.emplace_back (int (std::lround (r.x / f)), int (std::lround (r.y / f)),
                            int (std::lround (r.width / f)), int (std::lround (r.height / f)));
      if (const cv::Rect *b = largest (boxes, min_face)) {
        face.box = *b;
        face.detector = kCascadeNames[i];
        found = true;
      }
    }
  }
  if (!found)
    return std::nullopt;

  const dlib::cv_image<unsigned char> img (gray);
  face.points = impl_->landmarks (img, face.box, gray.size ());
  if (face.detector.compare (0, 4, "haar") == 0)
    face.points = impl_->landmarks (img, hog_like_box (face.points), gray.size ());
  return face;
}

} // namespace vhfs
