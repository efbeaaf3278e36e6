/* Helpers shared by the core unit tests: temporary folders, small files,
 * and assertions over the "FILE:LINE: message" problem lists. */
#ifndef VH_TEST_CORE_UTIL_H
#define VH_TEST_CORE_UTIL_H
#include <glib.h>
#include <vhost/plugin.h>

G_BEGIN_DECLS

/* g_test_init() with the user's locale (messages are UTF-8) and nonfatal
 * assertions, so one run reports every failing check, not just the first. */
void tu_init (int *argc, char ***argv);

/* A fresh folder under $TMPDIR; remove it with tu_rmtree(). */
gchar *tu_tmpdir (void);
/* Removes a folder and everything below it (symlinks are not followed). */
void   tu_rmtree (const char *path);
/* Writes `len` bytes (-1 = strlen) to dir/name and returns the full path. */
gchar *tu_write (const char *dir, const char *name, const char *data, gssize len);
/* $VH_BUILDDIR, or "." when unset. */
const char *tu_builddir (void);

/* The one problem containing every one of the NULL-terminated needles, or
 * NULL.  tu_assert_problem() fails the test (listing all problems) when
 * there is none. */
const char *tu_find_problem (GPtrArray *problems, ...) G_GNUC_NULL_TERMINATED;
#define tu_assert_problem(problems, ...) \
  tu_assert_problem_at (__FILE__, __LINE__, problems, __VA_ARGS__, NULL)
const char *tu_assert_problem_at (const char *file, int line, GPtrArray *problems, ...) G_GNUC_NULL_TERMINATED;
/* How many problems contain `needle`. */
guint tu_count_problems (GPtrArray *problems, const char *needle);
/* Fails unless no problem contains `needle`. */
void tu_assert_no_problem_with (GPtrArray *problems, const char *needle);
/* Prints every problem to the TAP log (as comments). */
void tu_dump_problems (GPtrArray *problems);

/* Images: a width x height picture with a horizontal gradient, encoded. */
VhPixels *tu_gradient (gint width, gint height);
GBytes   *tu_jpeg_bytes (gint width, gint height);
GBytes   *tu_png_bytes (gint width, gint height);
/* A PNG with an alpha channel: every pixel (r, g, b, alpha). */
GBytes   *tu_png_rgba_bytes (gint width, gint height, guint8 r, guint8 g, guint8 b, guint8 alpha);

G_END_DECLS
#endif
