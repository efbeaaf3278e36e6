/* tasks.c: the CSV reader and task.csv validation (images stay inside the
 * images folder, indexes are usable file names, every problem with its line). */
#include "util.h"
#include "tasks.h"
#include <string.h>
#include <unistd.h>

#define HEADER "index,task_type,prompt,ori_image,target_image"

/* ------------------------------------------------------------ vh_csv_parse */

static GPtrArray *
parse (const char *data)
{
  GError *error = NULL;
  GPtrArray *recs = vh_csv_parse (data, strlen (data), &error);
  g_assert_no_error (error);
  g_assert_nonnull (recs);
  return recs;
}

static const char *
field_of (GPtrArray *recs, guint rec, guint field)
{
  VhCsvRecord *r = recs->pdata[rec];
  g_assert_cmpuint (field, <, r->fields->len);
  return field < r->fields->len ? r->fields->pdata[field] : "";
}

static guint
line_of (GPtrArray *recs, guint rec)
{
  return ((VhCsvRecord *) recs->pdata[rec])->line;
}

static void
test_csv_line_endings (void)
{
  const char *const inputs[] = {
    "a,b\nc,d\n",                    /* LF */
    "a,b\r\nc,d\r\n",                /* CRLF */
    "a,b\r\nc,d",                    /* no newline after the last row */
    "\xEF\xBB\xBF" "a,b\nc,d",       /* BOM */
    "\xEF\xBB\xBF" "a,b\r\n\r\nc,d\r\n", /* a blank line is not a record */
  };
  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr (GPtrArray) recs = parse (inputs[i]);
      g_assert_cmpuint (recs->len, ==, 2);
      g_assert_cmpstr (field_of (recs, 0, 0), ==, "a");   /* no BOM in the first field */
      g_assert_cmpstr (field_of (recs, 0, 1), ==, "b");   /* no \r in the last one */
      g_assert_cmpstr (field_of (recs, 1, 0), ==, "c");
      g_assert_cmpstr (field_of (recs, 1, 1), ==, "d");
      g_assert_cmpuint (line_of (recs, 0), ==, 1);
    }
  g_autoptr (GPtrArray) blank = parse ("a\n\nb\n");
  g_assert_cmpuint (line_of (blank, 1), ==, 3);
}

static void
test_csv_quotes (void)
{
  g_autoptr (GPtrArray) recs = parse ("h1,h2\n"
                                      "1,\"a, \"\"b\"\"\nc\"\n"    /* lines 2-3 */
                                      "2,\"\"\n"                   /* line 4: empty quoted field */
                                      "3,\"x\ny\nz\"\n"            /* lines 5-7 */
                                      "4,last");                   /* line 8 */
  g_assert_cmpuint (recs->len, ==, 5);
  g_assert_cmpstr (field_of (recs, 1, 1), ==, "a, \"b\"\nc");
  g_assert_cmpuint (line_of (recs, 1), ==, 2);
  g_assert_cmpstr (field_of (recs, 2, 1), ==, "");
  g_assert_cmpuint (line_of (recs, 2), ==, 4);
  g_assert_cmpstr (field_of (recs, 3, 1), ==, "x\ny\nz");
  g_assert_cmpuint (line_of (recs, 3), ==, 5);
  g_assert_cmpstr (field_of (recs, 4, 1), ==, "last");
  g_assert_cmpuint (line_of (recs, 4), ==, 8);
}

static void
test_csv_unclosed_quote (void)
{
  GError *error = NULL;
  const char *data = "a,b\n1,\"never\nclosed\n";
  g_assert_null (vh_csv_parse (data, strlen (data), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpstr (error->message, ==, "line 2: a quoted field is never closed");
  g_clear_error (&error);
}

/* ------------------------------------------------------------ task tables */

typedef struct {
  gchar     *dir, *images, *tasks;
  GPtrArray *problems;
} Tree;

/* DIR/images/{a.jpg, sub/b.png, inner.jpg -> a.jpg, link.jpg -> ../outside.jpg},
 * DIR/outside.jpg and DIR/x.jpg (both outside the images folder). */
static Tree *
tree_new (void)
{
  Tree *t = g_new0 (Tree, 1);
  t->dir = tu_tmpdir ();
  t->images = g_build_filename (t->dir, "images", NULL);
  t->problems = g_ptr_array_new_with_free_func (g_free);
  g_free (tu_write (t->images, "a.jpg", "not decoded here", -1));
  g_free (tu_write (t->images, "sub/b.png", "not decoded here", -1));
  g_free (tu_write (t->dir, "outside.jpg", "secret", -1));
  g_free (tu_write (t->dir, "x.jpg", "secret", -1));
  g_autofree gchar *inner = g_build_filename (t->images, "inner.jpg", NULL);
  g_autofree gchar *link = g_build_filename (t->images, "link.jpg", NULL);
  g_assert_cmpint (symlink ("a.jpg", inner), ==, 0);
  g_assert_cmpint (symlink ("../outside.jpg", link), ==, 0);
  return t;
}

static void
tree_free (Tree *t)
{
  tu_rmtree (t->dir);
  g_free (t->dir);
  g_free (t->images);
  g_free (t->tasks);
  g_ptr_array_unref (t->problems);
  g_free (t);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Tree, tree_free)

static VhTaskTable *
tree_load (Tree *t, const char *csv, gssize len)
{
  g_free (t->tasks);
  t->tasks = tu_write (t->dir, "task.csv", csv, len);
  g_ptr_array_set_size (t->problems, 0);
  VhTaskTable *table = vh_task_table_load (t->tasks, t->images, t->problems);
  tu_dump_problems (t->problems);
  return table;
}

#define assert_at(t, line, ...)                                                   \
  G_STMT_START {                                                                  \
    g_autofree gchar *where_ = g_strdup_printf ("%s:%u: ", (t)->tasks, (guint) (line)); \
    tu_assert_problem ((t)->problems, where_, __VA_ARGS__);                       \
  } G_STMT_END

static VhTaskRow *
row (VhTaskTable *table, guint i)
{
  g_assert_cmpuint (i, <, table->rows->len);
  return table->rows->pdata[i];
}

/* The same table written five ways must read the same. */
static void
check_good_table (Tree *t, VhTaskTable *table)
{
  g_assert_cmpuint (t->problems->len, ==, 0);
  g_assert_nonnull (table);
  if (table == NULL)
    return;
  g_assert_cmpuint (table->rows->len, ==, 5);
  if (table->rows->len != 5)
    return;
  g_autofree gchar *a = g_build_filename (t->images, "a.jpg", NULL);
  g_autofree gchar *b = g_build_filename (t->images, "sub", "b.png", NULL);
  g_autofree gchar *inner = g_build_filename (t->images, "inner.jpg", NULL);

  static const guint lines[] = { 2, 3, 5, 6, 7 };
  static const char *const indexes[] = { "1", "2", "3", "4", "5" };
  for (guint i = 0; i < 5; i++)
    {
      VhTaskRow *r = row (table, i);
      g_assert_cmpuint (r->position, ==, i + 1);          /* 1-based, file order */
      g_assert_cmpstr (r->index, ==, indexes[i]);
      g_assert_cmpstr (r->task.index, ==, indexes[i]);
      g_assert_cmpuint (r->task.line, ==, lines[i]);
      g_assert_true (r->task.prompt == r->prompt);
    }
  VhTaskRow *r1 = row (table, 0), *r2 = row (table, 1), *r3 = row (table, 2), *r4 = row (table, 3), *r5 = row (table, 4);
  g_assert_cmpstr (r1->prompt, ==, "A cat, a dog, and a \"bird\"");
  g_assert_cmpuint (r1->task.type, ==, VH_TASK_T2I);
  g_assert_cmpstr (r1->task.type_name, ==, "t2i");
  g_assert_null (r1->task.ori_image);
  g_assert_null (r1->task.target_image);

  /* A newline inside quotes is kept (CRLF files may keep their \r). */
  g_auto (GStrv) parts = g_strsplit (r2->prompt, "\r", -1);
  g_autofree gchar *prompt2 = g_strjoinv ("", parts);
  g_assert_cmpstr (prompt2, ==, "first line\nsecond line");
  g_assert_cmpuint (r2->task.type, ==, VH_TASK_TIE);
  g_assert_cmpstr (r2->task.ori_image, ==, a);

  /* Chinese text and curly quotes untouched; surrounding spaces trimmed. */
  g_assert_cmpstr (r3->prompt, ==, "把“你好”改成「再见」");
  g_assert_cmpstr (r3->task.type_name, ==, "vttie");
  g_assert_cmpstr (r3->task.ori_image, ==, b);

  g_assert_cmpstr (r4->prompt, ==, "‘swap’ the faces");
  g_assert_cmpuint (r4->task.type, ==, VH_TASK_DEEPFAKE);
  g_assert_cmpstr (r4->task.ori_image, ==, a);
  g_assert_cmpstr (r4->task.target_image, ==, inner);   /* a link that stays inside is fine */

  g_assert_cmpstr (r5->prompt, ==, "last row, no newline");
  g_assert_cmpstr (r5->task.type_name, ==, "t2i");      /* T2I: case does not matter */
}

static gchar *
good_csv (const char *bom, const char *nl, gboolean final_newline)
{
  const char *const lines[] = {
    HEADER,
    "1,t2i,\"A cat, a dog, and a \"\"bird\"\"\",,",
    "2,tie,\"first line", "second line\",a.jpg,",
    "3,vttie,  把“你好”改成「再见」 ,sub/b.png,",
    " 4 ,deepfake,‘swap’ the faces, a.jpg ,inner.jpg",
    "5,T2I,\"last row, no newline\",,",
    NULL,
  };
  g_autofree gchar *body = g_strjoinv (nl, (gchar **) lines);
  return g_strconcat (bom, body, final_newline ? nl : "", NULL);
}

static void
test_table_good (void)
{
  static const struct { const char *bom, *nl; gboolean final_newline; } variants[] = {
    { "", "\n", TRUE },
    { "\xEF\xBB\xBF", "\n", TRUE },
    { "", "\r\n", TRUE },
    { "\xEF\xBB\xBF", "\r\n", FALSE },
    { "", "\n", FALSE },
  };
  g_autoptr (Tree) t = tree_new ();
  for (guint i = 0; i < G_N_ELEMENTS (variants); i++)
    {
      g_test_message ("variant %u", i);
      g_autofree gchar *csv = good_csv (variants[i].bom, variants[i].nl, variants[i].final_newline);
      g_autoptr (VhTaskTable) table = tree_load (t, csv, -1);
      check_good_table (t, table);
      if (table)
        g_assert_cmpstr (table->path, ==, t->tasks);
    }
}

static void
test_table_problems (void)
{
  g_autoptr (Tree) t = tree_new ();
  g_autoptr (VhTaskTable) table = tree_load (t,
      HEADER "\n"                                  /* 1 */
      "1,t2i,\"two\nlines\",,\n"                   /* 2-3 */
      "2,paint,x,,\n"                              /* 4 */
      "3,tie,x,,\n"                                /* 5 */
      "4,vttie,x,,\n"                              /* 6 */
      "5,deepfake,x,a.jpg,\n"                      /* 7 */
      "6,tie,x,missing.jpg,\n"                     /* 8 */
      "7,tie,x,/etc/hostname,\n"                   /* 9 */
      "8,tie,x,../x.jpg,\n"                        /* 10 */
      "9,tie,x,link.jpg,\n"                        /* 11 */
      "1,t2i,again,,\n"                            /* 12 */
      "../a,t2i,x,,\n"                             /* 13 */
      "10,t2i,x\n"                                 /* 14 */
      "11,deepfake,x,a.jpg,sub/../../x.jpg\n"      /* 15 */
      "12,tie,\"a, b\" and c,a.jpg,\n"             /* 16: fine */
      "13,t2i,x,, ,extra\n",                       /* 17 */
      -1);
  g_assert_null (table);
  assert_at (t, 4, "unknown task_type “paint” (expected t2i, tie, vttie or deepfake)");
  assert_at (t, 5, "a tie row needs ori_image");
  assert_at (t, 6, "a vttie row needs ori_image");
  assert_at (t, 7, "a deepfake row needs target_image");
  assert_at (t, 8, "ori_image “missing.jpg” does not exist");
  assert_at (t, 9, "ori_image “/etc/hostname” is an absolute path");
  assert_at (t, 10, "ori_image “../x.jpg” leaves the images folder (“..”)");
  assert_at (t, 11, "ori_image “link.jpg” leaves the images folder (through a link)");
  assert_at (t, 12, "index “1” appears again (first on line 2)");
  assert_at (t, 13, "index “../a” is not usable as a file name");
  assert_at (t, 14, "3 fields where the header has 5");
  assert_at (t, 15, "target_image “sub/../../x.jpg” leaves the images folder");
  assert_at (t, 17, "6 fields where the header has 5");
  g_assert_cmpuint (t->problems->len, ==, 13);   /* each once; line 16 is fine */
}

static void
test_table_invalid_utf8 (void)
{
  g_autoptr (Tree) t = tree_new ();
  g_autoptr (VhTaskTable) table = tree_load (t, HEADER "\n1,t2i,ok,,\n2,t2i,caf\xe9,,\n", -1);
  g_assert_null (table);
  assert_at (t, 3, "invalid UTF-8 at byte");
  g_assert_cmpuint (t->problems->len, ==, 1);
}

static void
test_table_unclosed_quote (void)
{
  g_autoptr (Tree) t = tree_new ();
  g_autoptr (VhTaskTable) table = tree_load (t, HEADER "\n1,t2i,ok,,\n2,t2i,\"open,,\n3,t2i,x,,\n", -1);
  g_assert_null (table);
  assert_at (t, 3, "a quoted field is never closed");
}

static void
test_table_header_and_empty (void)
{
  g_autoptr (Tree) t = tree_new ();
  g_autoptr (VhTaskTable) empty = tree_load (t, "", 0);
  g_assert_null (empty);
  tu_assert_problem (t->problems, t->tasks, "empty file");

  g_autoptr (VhTaskTable) headless = tree_load (t, "id,type,text\n1,t2i,x\n", -1);
  g_assert_null (headless);
  assert_at (t, 1, "the header must name the columns index, task_type and prompt");

  /* Columns in another order, without the image columns: fine for t2i. */
  g_autoptr (VhTaskTable) reordered = tree_load (t, "prompt,index,task_type\nhello,a1,t2i\n", -1);
  g_assert_nonnull (reordered);
  if (reordered)
    {
      g_assert_cmpstr (row (reordered, 0)->index, ==, "a1");
      g_assert_cmpstr (row (reordered, 0)->prompt, ==, "hello");
    }

  GPtrArray *none = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *missing = g_build_filename (t->dir, "nope.csv", NULL);
  g_assert_null (vh_task_table_load (missing, t->images, none));
  g_assert_cmpuint (none->len, ==, 1);
  g_ptr_array_unref (none);
}

static void
test_read_indexes (void)
{
  g_autoptr (Tree) t = tree_new ();
  g_autofree gchar *path = tu_write (t->dir, "ix.csv", "\xEF\xBB\xBF" HEADER "\r\n b ,t2i,x,,\r\na,tie,\"y\r\nz\",nothing.jpg,\r\n", -1);
  GError *error = NULL;
  g_autoptr (GPtrArray) indexes = vh_task_table_read_indexes (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (indexes);
  if (indexes)
    {
      g_assert_cmpuint (indexes->len, ==, 2);
      g_assert_cmpstr (indexes->pdata[0], ==, "b");
      g_assert_cmpstr (indexes->pdata[1], ==, "a");
    }
  g_autofree gchar *bad = tu_write (t->dir, "bad.csv", "x,y\n1,2\n", -1);
  g_assert_null (vh_task_table_read_indexes (bad, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  tu_init (&argc, &argv);
  g_test_add_func ("/csv/line-endings", test_csv_line_endings);
  g_test_add_func ("/csv/quotes", test_csv_quotes);
  g_test_add_func ("/csv/unclosed-quote", test_csv_unclosed_quote);
  g_test_add_func ("/tasks/good", test_table_good);
  g_test_add_func ("/tasks/problems", test_table_problems);
  g_test_add_func ("/tasks/invalid-utf8", test_table_invalid_utf8);
  g_test_add_func ("/tasks/unclosed-quote", test_table_unclosed_quote);
  g_test_add_func ("/tasks/header-and-empty", test_table_header_and_empty);
  g_test_add_func ("/tasks/read-indexes", test_read_indexes);
  return g_test_run ();
}
