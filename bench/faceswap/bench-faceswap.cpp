/* bench-faceswap — figures for the local-faceswap core; asserts nothing.
 *
 *   bench-faceswap [DATA_DIR] [ITERATIONS]
 *
 * DATA_DIR defaults to $VH_TEST_DATA, then the source tree's tests/data.
 * Prints: model load time; ms per swap on LFW-sized (250x250) and ~1024 px
 * photos, on one thread and on every core; the detector's share; peak RSS;
 * the colour step across the mask edge before and after colour transfer. */
#include "config.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <sched.h>
#include <sys/resource.h>

#include <opencv2/imgproc.hpp>

#include "face-swap.hpp"
#include "faceswap-error.hpp"
#include "image-io.hpp"

using namespace vhfs;
using Clock = std::chrono::steady_clock;

static double
ms_since (Clock::time_point t0)
{
  return std::chrono::duration<double, std::milli> (Clock::now () - t0).count ();
}

static long
peak_rss_kib ()
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static cv::Mat
load (const std::string &dir, const char *name)
{
  const std::string path = dir + "/faces/" + name;
  const std::vector<uint8_t> bytes = read_file (path);
  return decode_image (bytes.data (), bytes.size (), path);
}

static cv::Mat
scaled_to (const cv::Mat &img, int side)
{
  const double f = double (side) / std::max (img.cols, img.rows);
  cv::Mat out;
  cv::resize (img, out, cv::Size (), f, f, f > 1 ? cv::INTER_CUBIC : cv::INTER_AREA);
  return out;
}

struct Case {
  const char *label;
  cv::Mat scene, identity;
};

static void
bench_case (const FaceDetector &det, const Case &c, int iterations, unsigned cores)
{
  SwapParams params;
  swap_faces (det, c.scene, "scene", c.identity, "identity", params);   /* warm-up */

  /* One thread. */
  std::vector<double> t;
  for (int i = 0; i < iterations; i++) {
    const Clock::time_point t0 = Clock::now ();
    swap_faces (det, c.scene, "scene", c.identity, "identity", params);
    t.push_back (ms_since (t0));
  }
  std::sort (t.begin (), t.end ());
  double detect_ms = 0;
  for (int i = 0; i < iterations; i++) {
    const Clock::time_point t0 = Clock::now ();
    det.detect (c.scene, params.detect);
    det.detect (c.identity, params.detect);
    detect_ms += ms_since (t0);
  }
  detect_ms /= iterations;

  /* Every core, one instance shared (as the host's workers do). */
  std::atomic<int> done (0);
  const Clock::time_point t0 = Clock::now ();
  std::vector<std::thread> threads;
  for (unsigned k = 0; k < cores; k++)
    threads.emplace_back ([&] {
      for (int i = 0; i < iterations; i++) {
        swap_faces (det, c.scene, "scene", c.identity, "identity", params);
        done++;
      }
    });
  for (std::thread &th : threads)
    th.join ();
  const double wall = ms_since (t0);

  std::printf ("%-34s %4dx%-4d  1 thread: median %6.1f ms, min %6.1f, max %6.1f "
               "(detection %5.1f ms)  %u threads: %6.1f ms/swap wall, %5.1f swaps/s\n",
               c.label, c.scene.cols, c.scene.rows, t[t.size () / 2], t.front (), t.back (),
               detect_ms, cores, wall / done.load (), 1000.0 * done.load () / wall);
}

static void
colour_figures (const FaceDetector &det, const std::vector<Case> &cases)
{
  std::printf ("\ncolour step across the mask edge (mean CIE76 dE in the fade band, "
               "pasted face vs the scene's skin):\n");
  double before = 0, after = 0;
  for (const Case &c : cases) {
    SwapReport r;
    swap_faces (det, c.scene, "scene", c.identity, "identity", SwapParams (), &r);
    std::printf ("  %-34s before transfer %5.2f  after %5.2f\n", c.label,
                 r.border_de_raw, r.border_de_transfer);
    before += r.border_de_raw;
    after += r.border_de_transfer;
  }
  std::printf ("  %-34s before transfer %5.2f  after %5.2f\n", "mean", before / double (cases.size ()),
               after / double (cases.size ()));
}

int
main (int argc, char **argv)
{
  std::string dir = argc > 1 ? argv[1] : "";
  if (dir.empty () && std::getenv ("VH_TEST_DATA"))
    dir = std::getenv ("VH_TEST_DATA");
  if (dir.empty ())
    dir = VH_BENCH_DATA;
  const int iterations = argc > 2 ? std::max (1, std::atoi (argv[2])) : 10;
  /* The CPUs this process may run on (taskset), not the machine's. */
  cpu_set_t set;
  unsigned cores = std::max (1u, std::thread::hardware_concurrency ());
  if (sched_getaffinity (0, sizeof set, &set) == 0)
    cores = unsigned (std::max (1, CPU_COUNT (&set)));

  try {
    const Clock::time_point t0 = Clock::now ();
    FaceDetector det (VH_DLIB_MODEL, VH_CASCADE_DIR);
    std::printf ("model + cascades loaded in %.0f ms, RSS %ld MiB\n", ms_since (t0),
                 peak_rss_kib () / 1024);

    const cv::Mat a_lfw = load (dir, "astronaut-lfw.jpg"), h_lfw = load (dir, "hopper-lfw.jpg");
    const cv::Mat a = load (dir, "astronaut.jpg"), h = load (dir, "hopper.jpg");
    std::vector<Case> cases = {
      { "250x250: astronaut <- hopper", a_lfw, h_lfw },
      { "250x250: hopper <- astronaut", h_lfw, a_lfw },
      { "1024px: astronaut <- hopper-lfw", scaled_to (a, 1024), h_lfw },
      { "1024px: hopper <- astronaut 1024px", scaled_to (h, 1024), scaled_to (a, 1024) },
    };
    std::printf ("%d iterations per figure, %u cores\n\n", iterations, cores);
    for (const Case &c : cases)
      bench_case (det, c, iterations, cores);
    colour_figures (det, cases);
    std::printf ("\npeak RSS %ld MiB\n", peak_rss_kib () / 1024);
  } catch (const Error &e) {
    std::fprintf (stderr, "bench-faceswap: %s\n", e.what ());
    return 1;
  }
  return 0;
}
