/* local-faceswap — landmark geometry: alignment, outlines, warps. */
#include "face-warp.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace vhfs {

namespace {

cv::Point2f
mean_of (const Points &p, int first, int last)
{
  cv::Point2f s (0, 0);
  for (int i = first; i <= last; i++)
    s += p[size_t (i)];
  return s / float (last - first + 1);
}

double
cross (const cv::Point2f &a, const cv::Point2f &b, const cv::Point2f &c)
{
  return double (b.x - a.x) * (c.y - a.y) - double (b.y - a.y) * (c.x - a.x);
}

/* Ring of fixed points around the face: far enough that the jaw can move
 * without folding, close enough that the background beyond stays put. */
constexpr int kRingPoints = 16;
constexpr double kRingRadius = 1.6;     /* times the face's largest radius */

} // namespace

const std::vector<int> &
stable_points ()
{
  static const std::vector<int> idx = {
    27, 28, 29, 30, 31, 32, 33, 34, 35,                 /* nose */
    36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,     /* eyes */
    48, 54,                                             /* mouth corners */
  };
  return idx;
}

cv::Matx23d
fit_similarity (const Points &from, const Points &to, const std::vector<int> &idx)
{
  std::vector<int> all;
  const std::vector<int> *use = &idx;
  if (idx.empty ()) {
    for (size_t i = 0; i < from.size (); i++)
      all.push_back (int (i));
    use = &all;
  }
  cv::Point2d mf (0, 0), mt (0, 0);
  for (int i : *use) {
    mf += cv::Point2d (from[size_t (i)]);
    mt += cv::Point2d (to[size_t (i)]);
  }
  mf /= double (use->size ());
  mt /= double (use->size ());
  double sxx = 0, a = 0, b = 0;
  for (int i : *use) {
    const cv::Point2d x = cv::Point2d (from[size_t (i)]) - mf;
    const cv::Point2d y = cv::Point2d (to[size_t (i)]) - mt;
    sxx += x.dot (x);
    a += x.dot (y);
    b += x.x * y.y - x.y * y.x;
  }
  if (sxx <= 1e-9)
    return cv::Matx23d (1, 0, mt.x - mf.x, 0, 1, mt.y - mf.y);
  const double p = a / sxx, q = b / sxx;
  return cv::Matx23d (p, -q, mt.x - (p * mf.x - q * mf.y),
                      q,  p, mt.y - (q * mf.x + p * mf.y));
}

Points
transform_points (const cv::Matx23d &m, const Points &pts)
{
  Points out;
  out.reserve (pts.size ());
  for (const cv::Point2f &p : pts)
    out.emplace_back (float (m (0, 0) * p.x + m (0, 1) * p.y + m (0, 2)),
                      float (m (1, 0) * p.x + m (1, 1) * p.y + m (1, 2)));
  return out;
}

Points
with_forehead (const Points &p, double forehead)
{
  const cv::Point2f eye_l = mean_of (p, 36, 41), eye_r = mean_of (p, 42, 47);
  cv::Point2f e = eye_r - eye_l;
  const float elen = std::max (1e-3f, float (cv::norm (e)));
  const cv::Point2f up (e.y / elen, -e.x / elen);       /* image y grows downwards */
  const double d = cv::norm (mean_of (p, 17, 26) - p[8]);
  /* The forehead is rounder than the brows: the temples rise less. */
  static const float rise[10] = { 0.55f, 0.8f, 0.95f, 1.f, 1.f, 1.f, 1.f, 0.95f, 0.8f, 0.55f };
  Points out (p.begin (), p.begin () + 68);
  for (int i = 0; i < 10; i++)
    out.push_back (p[size_t (17 + i)] + up * float (forehead * d * rise[i]));
  return out;
}

std::vector<cv::Point>
outline (const Points &p)
{
  std::vector<cv::Point> poly;
  for (int i = 0; i <= 16; i++)
    poly.emplace_back (cvRound (p[size_t (i)].x), cvRound (p[size_t (i)].y));
  const int brows = p.size () >= 78 ? 68 : 17;          /* raised brows if present */
  for (int i = 9; i >= 0; i--)
    poly.emplace_back (cvRound (p[size_t (brows + i)].x), cvRound (p[size_t (brows + i)].y));
  return poly;
}

cv::Mat
hull_mask (const cv::Size &size, const std::vector<cv::Point> &pts)
{
  cv::Mat mask = cv::Mat::zeros (size, CV_8UC1);
  std::vector<cv::Point> hull;
  cv::convexHull (pts, hull);
  cv::fillConvexPoly (mask, hull, cv::Scalar (255), cv::LINE_AA);
  cv::threshold (mask, mask, 127, 255, cv::THRESH_BINARY);
  return mask;
}

cv::Mat
skin_mask (const cv::Size &size, const Points &p)
{
  cv::Mat mask = hull_mask (size, outline (p));
  const double fw = std::max (4.0, face_width (p));
  const int th = std::max (2, int (fw * 0.07));
  auto poly = [&] (int first, int last) {
    std::vector<cv::Point> v;
    for (int i = first; i <= last; i++)
      v.emplace_back (cvRound (p[size_t (i)].x), cvRound (p[size_t (i)].y));
    return v;
  };
  const std::vector<std::vector<cv::Point>> holes = { poly (36, 41), poly (42, 47), poly (48, 59) };
  cv::fillPoly (mask, holes, cv::Scalar (0));
  for (const auto &h : holes)
    cv::polylines (mask, h, true, cv::Scalar (0), th);
  cv::polylines (mask, poly (17, 21), false, cv::Scalar (0), th);
  cv::polylines (mask, poly (22, 26), false, cv::Scalar (0), th);
  /* The jaw line itself often catches hair, beard shadow or background. */
  cv::polylines (mask, poly (0, 16), false, cv::Scalar (0), th);
  return mask;
}

double
face_width (const Points &p)
{
  return cv::norm (p[16] - p[0]);
}

namespace {

/* Index of the point at `q` (Delaunay hands back coordinates). */
int
find_point (const Points &pts, const cv::Point2f &q)
{
  int best = -1;
  double best_d = 1e-2;
  for (size_t i = 0; i < pts.size (); i++) {
    const double d = cv::norm (pts[i] - q);
    if (d < best_d) {
      best_d = d;
      best = int (i);
    }
  }
  return best;
}

std::vector<cv::Vec3i>
delaunay (const Points &pts)
{
  float x0 = pts[0].x, y0 = pts[0].y, x1 = x0, y1 = y0;
  for (const cv::Point2f &p : pts) {
    x0 = std::min (x0, p.x); y0 = std::min (y0, p.y);
    x1 = std::max (x1, p.x); y1 = std::max (y1, p.y);
  }
  cv::Subdiv2D sub (cv::Rect (int (std::floor (x0)) - 10, int (std::floor (y0)) - 10,
                              int (x1 - x0) + 21, int (y1 - y0) + 21));
  for (const cv::Point2f &p : pts)
    sub.insert (p);
  std::vector<cv::Vec6f> list;
  sub.getTriangleList (list);
  std::vector<cv::Vec3i> tris;
  for (const cv::Vec6f &t : list) {
    const int a = find_point (pts, { t[0], t[1] });
    const int b = find_point (pts, { t[2], t[3] });
    const int c = find_point (pts, { t[4], t[5] });
    if (a >= 0 && b >= 0 && c >= 0 && a != b && b != c && a != c)
      tris.emplace_back (a, b, c);
  }
  return tris;
}

} // namespace

bool
reshape (cv::Mat &image, const Points &from, const Points &to)
{
  CV_Assert (from.size () == to.size () && !from.empty ());
  const int n = int (from.size ());

  cv::Point2f c (0, 0);
  for (int i = 0; i < n; i++)
    c += from[size_t (i)] + to[size_t (i)];
  c /= float (2 * n);
  double r = 1;
  for (int i = 0; i < n; i++)
    r = std::max ({ r, cv::norm (from[size_t (i)] - c), cv::norm (to[size_t (i)] - c) });
  r *= kRingRadius;

  Points fixed;
  for (int k = 0; k < kRingPoints; k++) {
    const double a = 2 * CV_PI * k / kRingPoints;
    fixed.emplace_back (float (c.x + r * std::cos (a)), float (c.y + r * std::sin (a)));
  }
  const float w = float (image.cols - 1), h = float (image.rows - 1);
  for (const cv::Point2f &q : { cv::Point2f (0, 0), cv::Point2f (w, 0), cv::Point2f (0, h),
                                cv::Point2f (w, h), cv::Point2f (w / 2, 0), cv::Point2f (w / 2, h),
                                cv::Point2f (0, h / 2), cv::Point2f (w, h / 2) })
    fixed.push_back (q);

  for (double t : { 1.0, 0.5, 0.25 }) {
    Points src (from), dst;
    for (int i = 0; i < n; i++)
      dst.push_back (from[size_t (i)] + float (t) * (to[size_t (i)] - from[size_t (i)]));
    src.insert (src.end (), fixed.begin (), fixed.end ());
    dst.insert (dst.end (), fixed.begin (), fixed.end ());

    const std::vector<cv::Vec3i> tris = delaunay (dst);
    bool folds = false;
    for (const cv::Vec3i &tr : tris) {
      const double ad = cross (dst[size_t (tr[0])], dst[size_t (tr[1])], dst[size_t (tr[2])]);
      const double as = cross (src[size_t (tr[0])], src[size_t (tr[1])], src[size_t (tr[2])]);
      if (ad * as <= 0 || std::abs (as) < 1e-6) {
        folds = true;
        break;
      }
    }
    if (folds)
      continue;

    /* A dense inverse map over the triangles that move; cv::remap once,
     * so neighbouring triangles share their edges without seams. */
    cv::Rect roi (0, 0, 0, 0);
    std::vector<cv::Vec3i> moving;
    for (const cv::Vec3i &tr : tris) {
      if (tr[0] >= n && tr[1] >= n && tr[2] >= n)
        continue;                     /* all three fixed: identity */
      moving.push_back (tr);
      const cv::Point2f v[3] = { dst[size_t (tr[0])], dst[size_t (tr[1])], dst[size_t (tr[2])] };
      const cv::Rect b = cv::boundingRect (std::vector<cv::Point2f> (v, v + 3));
      roi = roi.area () ? (roi | b) : b;
    }
    roi.x -= 1; roi.y -= 1; roi.width += 2; roi.height += 2;
    roi &= cv::Rect (0, 0, image.cols, image.rows);
    if (roi.empty ())
      return true;

    cv::Mat mx (roi.size (), CV_32FC1), my (roi.size (), CV_32FC1);
    for (int y = 0; y < roi.height; y++)
      for (int x = 0; x < roi.width; x++) {
        mx.at<float> (y, x) = float (x + roi.x);
        my.at<float> (y, x) = float (y + roi.y);
      }
    for (const cv::Vec3i &tr : moving) {
      const cv::Point2f d[3] = { dst[size_t (tr[0])], dst[size_t (tr[1])], dst[size_t (tr[2])] };
      const cv::Point2f s[3] = { src[size_t (tr[0])], src[size_t (tr[1])], src[size_t (tr[2])] };
      const cv::Mat a = cv::getAffineTransform (d, s);
      const double a00 = a.at<double> (0, 0), a01 = a.at<double> (0, 1), a02 = a.at<double> (0, 2);
      const double a10 = a.at<double> (1, 0), a11 = a.at<double> (1, 1), a12 = a.at<double> (1, 2);
      const double area = cross (d[0], d[1], d[2]);
      const cv::Rect b = cv::boundingRect (std::vector<cv::Point2f> (d, d + 3)) & roi;
      for (int y = b.y; y < b.y + b.height; y++)
        for (int x = b.x; x < b.x + b.width; x++) {
          const cv::Point2f q { float (x), float (y) };
          /* barycentric signs with a small tolerance so shared edges are
           * covered by both triangles (they agree there) */
          const double w0 = cross (d[1], d[2], q) / area;
          const double w1 = cross (d[2], d[0], q) / area;
          const double w2 = 1.0 - w0 - w1;
          if (w0 < -1e-3 || w1 < -1e-3 || w2 < -1e-3)
            continue;
          mx.at<float> (y - roi.y, x - roi.x) = float (a00 * x + a01 * y + a02);
          my.at<float> (y - roi.y, x - roi.x) = float (a10 * x + a11 * y + a12);
        }
    }
    cv::Mat warped;
    cv::remap (image, warped, mx, my, cv::INTER_LINEAR, cv::BORDER_REFLECT);
    warped.copyTo (image (roi));
    return true;
  }
  return false;
}

double
shape_distance (const Points &a, const Points &b)
{
  const Points a68 (a.begin (), a.begin () + 68), b68 (b.begin (), b.begin () + 68);
  const Points m = transform_points (fit_similarity (a68, b68), a68);
  double s = 0;
  for (size_t i = 0; i < m.size (); i++) {
    const cv::Point2f d = m[i] - b68[i];
    s += double (d.dot (d));
  }
  const double iod = cv::norm (mean_of (b68, 36, 41) - mean_of (b68, 42, 47));
  return std::sqrt (s / double (m.size ())) / std::max (1e-6, iod);
}

} // namespace vhfs
