/* journal.c: the resume journal (JSON lines, latest entry per index wins,
 * a torn last line is ignored and cut off, appends never interleave). */
#include "util.h"
#include "journal.h"
#include <string.h>

static json_object *
entry (const char *index, const char *status, const char *klass, const char *instance, gint64 ms)
{
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "index", json_object_new_string (index));
  json_object_object_add (o, "status", json_object_new_string (status));
  if (klass)
    json_object_object_add (o, "class", json_object_new_string (klass));
  if (instance)
    json_object_object_add (o, "instance", json_object_new_string (instance));
  json_object_object_add (o, "ms", json_object_new_int64 (ms));
  return o;
}

static void
append (VhJournal *j, json_object *o)
{
  GError *error = NULL;
  g_assert_true (vh_journal_append (j, o, &error));
  g_assert_no_error (error);
  json_object_put (o);
}

static VhJournal *
open_journal (const char *path, guint expected_ignored)
{
  GError *error = NULL;
  guint ignored = 12345;
  VhJournal *j = vh_journal_open (path, &ignored, &error);
  g_assert_no_error (error);
  g_assert_nonnull (j);
  g_assert_cmpuint (ignored, ==, expected_ignored);
  return j;
}

/* Every line of the file is a whole JSON object ending in a newline. */
static guint
check_whole_lines (const char *path)
{
  g_autofree gchar *text = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  g_assert_true (len == 0 || text[len - 1] == '\n');
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = 0;
  for (gchar **l = lines; *l && **l; l++, n++)
    {
      json_object *o = json_tokener_parse (*l);
      if (o == NULL || !json_object_is_type (o, json_type_object))
        g_test_fail_printf ("line %u is not a JSON object: %.80s", n + 1, *l);
      json_object_put (o);
    }
  return n;
}

static void
test_append_lookup (void)
{
  g_autofree gchar *dir = tu_tmpdir ();
  g_autofree gchar *path = g_build_filename (dir, "journal.jsonl", NULL);
  VhJournal *j = open_journal (path, 0);
  g_assert_null (vh_journal_lookup (j, "1"));
  append (j, entry ("1", "failed", "quota", "gen", 12));
  append (j, entry ("2", "done", NULL, "gen", 5));
  const VhJournalEntry *e = vh_journal_lookup (j, "1");
  g_assert_nonnull (e);
  g_assert_false (e->done);
  g_assert_cmpstr (e->klass, ==, "quota");
  append (j, entry ("1", "done", NULL, "other", 34));   /* the latest entry wins */
  e = vh_journal_lookup (j, "1");
  g_assert_true (e->done);
  g_assert_null (e->klass);
  g_assert_cmpstr (e->instance, ==, "other");
  g_assert_cmpint (e->ms, ==, 34);
  vh_journal_close (j);
  g_assert_cmpuint (check_whole_lines (path), ==, 3);

  /* Reopened, it sees everything. */
  j = open_journal (path, 0);
  e = vh_journal_lookup (j, "1");
  g_assert_nonnull (e);
  g_assert_true (e->done);
  g_assert_cmpstr (e->index, ==, "1");
  g_assert_cmpstr (e->instance, ==, "other");
  g_assert_cmpint (e->ms, ==, 34);
  e = vh_journal_lookup (j, "2");
  g_assert_nonnull (e);
  g_assert_true (e->done);
  g_assert_cmpint (e->ms, ==, 5);
  g_assert_null (vh_journal_lookup (j, "3"));
  vh_journal_close (j);
  tu_rmtree (dir);
}

static void
check_torn_tail (const char *tail)
{
  g_autofree gchar *dir = tu_tmpdir ();
  const char *good = "{\"index\":\"1\",\"status\":\"done\"}\n{\"index\":\"2\",\"status\":\"failed\",\"class\":\"auth\"}\n";
  g_autofree gchar *text = g_strconcat (good, tail, NULL);
  g_autofree gchar *path = tu_write (dir, "journal.jsonl", text, -1);

  VhJournal *j = open_journal (path, 1);     /* not fatal, counted once */
  g_assert_nonnull (vh_journal_lookup (j, "1"));
  g_assert_nonnull (vh_journal_lookup (j, "2"));
  g_assert_null (vh_journal_lookup (j, "3"));
  /* Cut back to the last whole line before anything is appended. */
  g_autofree gchar *now = NULL;
  g_assert_true (g_file_get_contents (path, &now, NULL, NULL));
  g_assert_cmpstr (now, ==, good);
  append (j, entry ("4", "done", NULL, "gen", 1));
  vh_journal_close (j);
  g_assert_cmpuint (check_whole_lines (path), ==, 3);

  j = open_journal (path, 0);
  g_assert_nonnull (vh_journal_lookup (j, "4"));
  g_assert_null (vh_journal_lookup (j, "3"));
  vh_journal_close (j);
  tu_rmtree (dir);
}

static void
test_torn_last_line (void)
{
  check_torn_tail ("{\"index\":\"3\",\"sta");          /* half an object */
  check_torn_tail ("{\"index\":\"3\",\"status\":\"done\"}");   /* whole, but never finished with \n */
}

static void
test_invalid_line_in_the_middle (void)
{
  g_autofree gchar *dir = tu_tmpdir ();
  g_autofree gchar *path = tu_write (dir, "journal.jsonl",
                                     "{\"index\":\"1\",\"status\":\"done\"}\n"
                                     "garbage {\n"
                                     "{\"index\":\"x\"}\n"               /* no status */
                                     "[1,2,3]\n"                         /* not an object */
                                     "\n"                                /* a blank line is nothing */
                                     "{\"index\":\"2\",\"status\":\"done\"}\n", -1);
  VhJournal *j = open_journal (path, 3);
  g_assert_nonnull (vh_journal_lookup (j, "1"));
  g_assert_nonnull (vh_journal_lookup (j, "2"));
  g_assert_null (vh_journal_lookup (j, "x"));
  vh_journal_close (j);

  /* NULL for the count is allowed. */
  GError *error = NULL;
  j = vh_journal_open (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (j);
  vh_journal_close (j);
  tu_rmtree (dir);
}

static void
test_open_error (void)
{
  GError *error = NULL;
  g_assert_null (vh_journal_open ("/nonexistent-dir/journal.jsonl", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent-dir/journal.jsonl"));
  g_clear_error (&error);
}

#define WRITERS 8
#define PER_WRITER 60

typedef struct {
  VhJournal *journal;
  guint      id;
} Writer;

static gpointer
writer_thread (gpointer data)
{
  Writer *w = data;
  /* Long lines (several KB) so a torn or interleaved write would show. */
  g_autofree gchar *filler = g_strnfill (4000 + w->id * 100, 'a' + w->id);
  for (guint i = 0; i < PER_WRITER; i++)
    {
      g_autofree gchar *index = g_strdup_printf ("w%u-%u", w->id, i);
      json_object *o = entry (index, i % 2 ? "done" : "failed", NULL, "gen", i);
      json_object_object_add (o, "error", json_object_new_string (filler));
      append (w->journal, o);
    }
  return NULL;
}

static void
test_concurrent_appends (void)
{
  g_autofree gchar *dir = tu_tmpdir ();
  g_autofree gchar *path = g_build_filename (dir, "journal.jsonl", NULL);
  VhJournal *j = open_journal (path, 0);
  Writer writers[WRITERS];
  GThread *threads[WRITERS];
  for (guint i = 0; i < WRITERS; i++)
    {
      writers[i] = (Writer) { j, i };
      threads[i] = g_thread_new ("writer", writer_thread, &writers[i]);
    }
  for (guint i = 0; i < WRITERS; i++)
    g_thread_join (threads[i]);
  vh_journal_close (j);

  g_assert_cmpuint (check_whole_lines (path), ==, WRITERS * PER_WRITER);
  j = open_journal (path, 0);
  for (guint w = 0; w < WRITERS; w++)
    for (guint i = 0; i < PER_WRITER; i++)
      {
        g_autofree gchar *index = g_strdup_printf ("w%u-%u", w, i);
        const VhJournalEntry *e = vh_journal_lookup (j, index);
        g_assert_nonnull (e);
        if (e)
          {
            g_assert_cmpint (e->done, ==, i % 2 == 1);
            g_assert_cmpuint (strlen (e->error), ==, 4000 + w * 100);
          }
      }
  vh_journal_close (j);
  tu_rmtree (dir);
}

int
main (int argc, char **argv)
{
  tu_init (&argc, &argv);
  g_test_add_func ("/journal/append-lookup", test_append_lookup);
  g_test_add_func ("/journal/torn-last-line", test_torn_last_line);
  g_test_add_func ("/journal/invalid-line-in-the-middle", test_invalid_line_in_the_middle);
  g_test_add_func ("/journal/open-error", test_open_error);
  g_test_add_func ("/journal/concurrent-appends", test_concurrent_appends);
  return g_test_run ();
}
