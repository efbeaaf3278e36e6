/* duration.c: vh_parse_duration_ms and vh_parse_ranges. */
#include "util.h"
#include "vh-private.h"
#include <string.h>

static void
check_ms (const char *text, gint64 expected)
{
  gint64 ms = -12345;
  GError *error = NULL;
  gboolean ok = vh_parse_duration_ms (text, &ms, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpint (ms, ==, expected);
}

static void
check_bad_duration (const char *text)
{
  gint64 ms = -12345;
  GError *error = NULL;
  g_assert_false (vh_parse_duration_ms (text, &ms, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "is not a duration"));
  g_assert_cmpint (ms, ==, -12345);   /* untouched on error */
  g_error_free (error);
}

static void
test_duration_units (void)
{
  check_ms ("500ms", 500);
  check_ms ("2s", 2000);
  check_ms ("1m", 60000);
  check_ms ("1.5m", 90000);
  check_ms ("1h", 3600000);
  check_ms ("0ms", 0);
  check_ms ("10m", 600000);
}

static void
test_duration_bare_number_is_seconds (void)
{
  check_ms ("3", 3000);
  check_ms ("0.25", 250);
  check_ms ("  7  ", 7000);
}

static void
test_duration_errors (void)
{
  check_bad_duration ("");
  check_bad_duration ("-1s");
  check_bad_duration ("2x");
  check_bad_duration ("ms");
  check_bad_duration ("1 day");
}

/* The sorted pairs as "lo-hi lo-hi ..." for compact comparisons. */
static gchar *
ranges_str (const char *text)
{
  GArray *pairs = NULL;
  GError *error = NULL;
  g_assert_true (vh_parse_ranges (text, &pairs, &error));
  g_assert_no_error (error);
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < pairs->len; i++)
    {
      const guint64 *p = (const guint64 *) (pairs->data + i * 2 * sizeof (guint64));
      g_string_append_printf (s, "%s%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, i ? " " : "", p[0], p[1]);
    }
  g_array_unref (pairs);
  return g_string_free (s, FALSE);
}

static void
test_ranges (void)
{
  g_autofree gchar *a = ranges_str ("1-50,77");
  g_assert_cmpstr (a, ==, "1-50 77-77");
  g_autofree gchar *b = ranges_str ("77, 3-4 ,1");
  g_assert_cmpstr (b, ==, "1-1 3-4 77-77");

  GArray *pairs = NULL;
  g_assert_true (vh_parse_ranges ("1-50,77", &pairs, NULL));
  g_assert_false (vh_ranges_contain (pairs, 0));
  g_assert_true (vh_ranges_contain (pairs, 1));
  g_assert_true (vh_ranges_contain (pairs, 50));
  g_assert_false (vh_ranges_contain (pairs, 51));
  g_assert_true (vh_ranges_contain (pairs, 77));
  g_assert_false (vh_ranges_contain (pairs, 78));
  g_array_unref (pairs);
}

static void
check_bad_ranges (const char *text, const char *wording)
{
  GArray *pairs = NULL;
  GError *error = NULL;
  g_assert_false (vh_parse_ranges (text, &pairs, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, wording));
  g_assert_null (pairs);
  g_error_free (error);
}

static void
test_ranges_errors (void)
{
  check_bad_ranges ("5-1", "ends before it starts");
  check_bad_ranges ("a", "is not a row list");
  check_bad_ranges ("0", "is not a row list");       /* rows are 1-based */
  check_bad_ranges ("1-", "is not a row list");
  check_bad_ranges ("1,,3", "is not a row list");
}

int
main (int argc, char **argv)
{
  tu_init (&argc, &argv);
  g_test_add_func ("/duration/units", test_duration_units);
  g_test_add_func ("/duration/bare-number-is-seconds", test_duration_bare_number_is_seconds);
  g_test_add_func ("/duration/errors", test_duration_errors);
  g_test_add_func ("/ranges/parse", test_ranges);
  g_test_add_func ("/ranges/errors", test_ranges_errors);
  return g_test_run ();
}
