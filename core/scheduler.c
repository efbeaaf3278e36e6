#include "scheduler.h"
#include "output.h"
#include "progress.h"
#include "report.h"
#include <stdio.h>
#include <unistd.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <string.h>

typedef struct {
  VhHost       *host;
  VhTaskTable  *table;
  VhJournal    *journal;
  const char   *output;
  GCancellable *cancel;
  GMainContext *context;
  GMainLoop    *loop;
  VhRunResult  *result;
  GMutex        lock;          /* guards result->per_type and progress */
  VhProgress    progress;
  gint          pending;       /* rows pushed and not finished, atomic */
  gboolean      tty;
  guint         signals;
} Run;

static Run *current_run;   /* for the signal handlers and vh_run_request_stop() */

static void
json_add_str (json_object *o, const char *k, const char *v)
{
  json_object_object_add (o, k, v ? json_object_new_string (v) : NULL);
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (((Run *) data)->loop);
  return G_SOURCE_REMOVE;
}

static void
row_finished (Run *run)
{
  if (g_atomic_int_dec_and_test (&run->pending))
    g_main_context_invoke (run->context, quit_loop, run);
}

static void
row_worker (gpointer data, gpointer user_data)
{
  VhTaskRow *row = data;
  Run *run = user_data;
  guint bit = vh_task_type_bit (row->task.type);
  VhTypeStats *ts = &run->result->per_type[bit];
  if (g_cancellable_is_cancelled (run->cancel))
    {
      g_mutex_lock (&run->lock);
      ts->cancelled++;
      g_mutex_unlock (&run->lock);
      row_finished (run);
      return;
    }
  g_mutex_lock (&run->lock);
  run->progress.running++;
  g_mutex_unlock (&run->lock);

  VhRowState state;
  vh_row_state_init (&state);
  VhTask task = row->task;   /* a private copy: host_private differs per attempt */
  task.host_private = &state;
  gint64 t0 = g_get_monotonic_time ();
  GError *error = NULL;
  VhImage *image = NULL;
  const char *instance = NULL;
  GPtrArray *chain = vh_host_route (run->host, task.type);
  if (chain == NULL)
    vh_set_error (&error, VH_ERROR_INVALID_INPUT, -1,
                  _("no route for %s rows: add a [route %s] section with chain = INSTANCE to the INI"),
                  task.type_name, task.type_name);
  else if (task.ori_image != NULL)
    image = vh_image_new_from_file (task.ori_image, &error);
  /* `instance` names the stage that made the image (the first), or the
   * stage that failed; later stages transform or check. */
  for (guint i = 0; chain && !error && i < chain->len; i++)
    {
      VhInstance *in = chain->pdata[i];
      VhImage *out = NULL;
      if (i == 0)
        instance = in->name;
      if (!vh_instance_run (in, &task, image, &out, run->cancel, &error))
        {
          instance = in->name;
          break;
        }
      vh_image_free (image);
      image = out;
    }
  if (error == NULL
      && !vh_output_write_image (run->output, task.index, image, run->host->config->jpeg_quality, &error))
    {
      /* A plugin answer that does not decode is the provider's fault, not the row's. */
      if (vh_error_class (error) == VH_ERROR_INVALID_INPUT)
        error->code = VH_ERROR_TRANSIENT;
    }
  vh_image_free (image);
  gint64 ms = (g_get_monotonic_time () - t0) / 1000;
  VhErrorClass klass = error ? vh_error_class (error) : VH_ERROR_INTERNAL;
  gboolean cancelled = error && klass == VH_ERROR_CANCELLED;

  if (!cancelled)
    {
      json_object *line = json_object_new_object ();
      json_add_str (line, "index", task.index);
      json_add_str (line, "type", task.type_name);
      json_add_str (line, "status", error ? "failed" : "done");
      json_add_str (line, "instance", instance);
      if (chain && chain->len > 1)
        {
          json_object *stages = json_object_new_array ();
          for (guint i = 0; i < chain->len; i++)
            json_object_array_add (stages, json_object_new_string (((VhInstance *) chain->pdata[i])->name));
          json_object_object_add (line, "chain", stages);
        }
      json_object_object_add (line, "ms", json_object_new_int64 (ms));
      if (error)
        {
          g_autofree gchar *msg = vh_redact (error->message);
          json_add_str (line, "class", vh_error_class_name (klass));
          json_add_str (line, "error", msg);
        }
      g_mutex_lock (&state.lock);
      if (!error && json_object_object_get_ex (state.notes, "last_resort", NULL))
        {
          g_mutex_lock (&run->lock);
          ts->last_resort++;
          g_mutex_unlock (&run->lock);
        }
      if (json_object_object_length (state.notes) > 0)
        json_object_object_add (line, "notes", json_object_get (state.notes));
      g_mutex_unlock (&state.lock);
      g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
      g_autofree gchar *stamp = g_date_time_format_iso8601 (now);
      json_add_str (line, "time", stamp);
      GError *jerr = NULL;
      if (!vh_journal_append (run->journal, line, &jerr))
        {
          vh_log (VH_LOG_ERROR, "journal", "%s", jerr->message);
          g_error_free (jerr);
        }
      json_object_put (line);
    }
  if (error && !cancelled)
    {
      g_autofree gchar *msg = vh_redact (error->message);
      vh_log (VH_LOG_WARNING, task.type_name, _("row %s (%s:%u) failed [%s]: %s"), task.index,
              run->table->path, task.line, vh_error_class_name (klass), msg);
    }
  g_mutex_lock (&run->lock);
  run->progress.running--;
  if (cancelled)
    ts->cancelled++;
  else if (error)
    ts->failed++, run->progress.failed++;
  else
    ts->done++, ts->ms_sum += ms, run->progress.done++;
  g_mutex_unlock (&run->lock);
  g_clear_error (&error);
  vh_row_state_clear (&state);
  row_finished (run);
}

static void
stop (Run *run)
{
  if (!g_cancellable_is_cancelled (run->cancel))
    {
      run->result->interrupted = TRUE;
      vh_log (VH_LOG_WARNING, "vhost", "%s",
              _("stopping: no new rows start, rows in flight are cancelled; finished rows are kept. Run the same command again to resume."));
      g_cancellable_cancel (run->cancel);
    }
}

static gboolean
on_signal (gpointer data)
{
  Run *run = data;
  if (++run->signals > 1)
    {
      /* Second Ctrl-C: leave now.  Journal and images are consistent at any
       * instant (atomic renames, fsynced lines), so nothing is corrupted. */
      fprintf (stderr, "\n%s\n", _("interrupted twice: exiting now"));
      _exit (130);
    }
  stop (run);
  return G_SOURCE_CONTINUE;
}

static gboolean
stop_idle (gpointer data)
{
  stop (data);
  return G_SOURCE_REMOVE;
}

void
vh_run_request_stop (void)
{
  if (current_run)
    g_main_context_invoke (current_run->context, stop_idle, current_run);
}

static gboolean
on_tick (gpointer data)
{
  Run *run = data;
  g_mutex_lock (&run->lock);
  VhProgress p = run->progress;
  g_mutex_unlock (&run->lock);
  vh_progress_print (&p, run->tty, FALSE);
  return G_SOURCE_CONTINUE;
}

/* Temp files of atomic writes that a killed run left behind (we hold the
 * folder's lock, so no live writer owns them). */
static void
sweep_temp_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  for (const char *n; d && (n = g_dir_read_name (d));)
    if (strstr (n, ".tmp-") || g_str_has_suffix (n, ".zip.tmp"))
      {
        g_autofree gchar *p = g_build_filename (dir, n, NULL);
        g_unlink (p);
      }
}

static gboolean
selected (const VhSelection *sel, VhTaskRow *row)
{
  if (sel->only_types && !(sel->only_types & row->task.type))
    return FALSE;
  if (sel->rows && !vh_ranges_contain (sel->rows, row->position))
    return FALSE;
  if (sel->shard_n > 0 && (row->position - 1) % sel->shard_n != sel->shard_k - 1)
    return FALSE;
  return TRUE;
}

int
vh_run_pipeline (VhHost *host, VhTaskTable *table, const char *output_dir,
                 const VhSelection *sel, VhRunResult *result)
{
  memset (result, 0, sizeof *result);
  g_autofree gchar *imgs = g_build_filename (output_dir, "imgs", NULL);
  if (g_mkdir_with_parents (imgs, 0755) != 0)
    {
      vh_log (VH_LOG_ERROR, "vhost", _("cannot create %s: %s"), imgs, g_strerror (errno));
      return 1;
    }
  /* One run per output folder at a time: a second one would interleave
   * journal lines and race on the same files. */
  g_autofree gchar *lock_path = g_build_filename (output_dir, ".vhost.lock", NULL);
  int lock_fd = g_open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0 || flock (lock_fd, LOCK_EX | LOCK_NB) != 0)
    {
      vh_log (VH_LOG_ERROR, "vhost", _("another vhost run is using %s (or it cannot be locked); use another --output"),
              output_dir);
      if (lock_fd >= 0)
        close (lock_fd);
      return 1;
    }
  sweep_temp_files (output_dir);
  sweep_temp_files (imgs);
  g_autofree gchar *jpath = g_build_filename (output_dir, "journal.jsonl", NULL);
  GError *error = NULL;
  guint torn = 0;
  g_autoptr (VhJournal) journal = vh_journal_open (jpath, &torn, &error);
  if (journal == NULL)
    {
      vh_log (VH_LOG_ERROR, "vhost", "%s", error->message);
      g_error_free (error);
      close (lock_fd);
      return 1;
    }
  if (torn > 0)
    vh_log (VH_LOG_INFO, "journal",
            g_dngettext (GETTEXT_PACKAGE, "%u unusable journal line ignored (a run was killed while writing)",
                         "%u unusable journal lines ignored (a run was killed while writing)", torn), torn);

  Run run = { 0 };
  run.host = host;
  run.table = table;
  run.journal = journal;
  run.output = output_dir;
  run.cancel = g_cancellable_new ();
  run.context = g_main_context_ref_thread_default ();
  run.loop = g_main_loop_new (run.context, FALSE);
  run.result = result;
  run.tty = isatty (STDERR_FILENO) && !sel->quiet;
  g_mutex_init (&run.lock);

  g_autoptr (GPtrArray) todo = g_ptr_array_new ();
  for (guint i = 0; i < table->rows->len; i++)
    {
      VhTaskRow *row = table->rows->pdata[i];
      VhTypeStats *ts = &result->per_type[vh_task_type_bit (row->task.type)];
      ts->rows++;
      if (!selected (sel, row))
        continue;
      ts->selected++;
      const VhJournalEntry *e = vh_journal_lookup (journal, row->index);
      if (e && e->done && vh_output_image_ok (output_dir, row->index))
        {
          ts->already_done++;
          continue;
        }
      if (e && !e->done && !sel->retry_failed)
        {
          ts->skipped_failed++;
          continue;
        }
      g_ptr_array_add (todo, row);
    }

  run.progress.total = todo->len;
  run.progress.started_us = g_get_monotonic_time ();
  if (todo->len > 0)
    {
      current_run = &run;
      guint sig_int = g_unix_signal_add (SIGINT, on_signal, &run);
      guint sig_term = g_unix_signal_add (SIGTERM, on_signal, &run);
      guint tick = 0;
      if (!sel->quiet)
        tick = g_timeout_add (run.tty ? 500 : (guint) host->config->progress_interval_ms, on_tick, &run);
      g_atomic_int_set (&run.pending, (gint) todo->len);
      GThreadPool *pool = g_thread_pool_new (row_worker, &run, (gint) host->config->workers, TRUE, NULL);
      for (guint i = 0; i < todo->len; i++)
        g_thread_pool_push (pool, todo->pdata[i], NULL);
      g_main_loop_run (run.loop);
      g_thread_pool_free (pool, FALSE, TRUE);
      if (tick)
        g_source_remove (tick);
      g_source_remove (sig_int);
      g_source_remove (sig_term);
      current_run = NULL;
      if (!sel->quiet)
        vh_progress_print (&run.progress, run.tty, TRUE);
    }

  /* Outputs cover the whole table in task.csv order, whatever this run did. */
  gboolean complete = TRUE;
  for (guint i = 0; i < table->rows->len && complete; i++)
    {
      VhTaskRow *row = table->rows->pdata[i];
      const VhJournalEntry *e = vh_journal_lookup (journal, row->index);
      complete = e && e->done;
    }
  if (!vh_output_write_csv (output_dir, table, &error))
    {
      vh_log (VH_LOG_ERROR, "vhost", "%s", error->message);
      g_clear_error (&error);
    }
  if (complete && !result->interrupted)
    {
      if (vh_output_write_zip (output_dir, table, host->config->zip_max_bytes, &error))
        result->zip_written = TRUE;
      else
        {
          result->zip_problem = g_strdup (error->message);
          g_clear_error (&error);
        }
    }
  else
    result->zip_problem = g_strdup (result->interrupted ? _("the run was interrupted")
                                                        : _("not every row has an image yet"));

  if (!vh_report_write (host, table, journal, output_dir, &error))
    {
      vh_log (VH_LOG_ERROR, "report", "%s", error->message);
      g_clear_error (&error);
    }

  g_main_loop_unref (run.loop);
  g_main_context_unref (run.context);
  g_object_unref (run.cancel);
  g_mutex_clear (&run.lock);

  close (lock_fd);   /* releases the lock */
  if (result->interrupted)
    return 130;
  for (guint t = 0; t < 4; t++)
    {
      VhTypeStats *ts = &result->per_type[t];
      if (ts->failed > 0 || ts->skipped_failed > 0 || ts->cancelled > 0)
        return 2;
    }
  return 0;
}

void
vh_run_result_clear (VhRunResult *result)
{
  g_clear_pointer (&result->zip_problem, g_free);
}

void
vh_run_print_summary (const VhRunResult *r, FILE *out)
{
  static const char *const names[] = { "t2i", "tie", "vttie", "deepfake" };
  fprintf (out, "%-9s %6s %6s %8s %6s %7s %9s %12s\n", _("type"), _("rows"), _("done"), _("resumed"), _("failed"),
           _("skipped"), _("avg s"), _("last resort"));
  for (guint t = 0; t < 4; t++)
    {
      const VhTypeStats *s = &r->per_type[t];
      if (s->rows == 0)
        continue;
      gdouble avg = s->done ? (gdouble) s->ms_sum / s->done / 1000.0 : 0;
      fprintf (out, "%-9s %6u %6u %8u %6u %7u %9.2f %12u\n", names[t], s->rows, s->done, s->already_done,
               s->failed + s->skipped_failed, s->rows - s->selected + s->cancelled, avg, s->last_resort);
    }
  if (r->zip_written)
    fprintf (out, "%s\n", _("result.zip written (check it with `vhost validate`)."));
  else if (r->zip_problem)
    fprintf (out, _("result.zip not written: %s\n"), r->zip_problem);
  fflush (out);
}

void
vh_run_print_instances (VhHost *host, FILE *out)
{
  gboolean any = FALSE;
  for (guint i = 0; i < host->instances->len; i++)
    any |= g_atomic_int_get (&((VhInstance *) host->instances->pdata[i])->calls) > 0;
  if (!any)
    return;
  fprintf (out, "%-20s %7s %8s %6s %8s %s\n", _("instance"), _("calls"), _("failures"), _("429s"), _("timeouts"),
           _("limits at the end (concurrency, qps)"));
  for (guint i = 0; i < host->instances->len; i++)
    {
      VhInstance *in = host->instances->pdata[i];
      guint conc = 0;
      gdouble qps = 0;
      vh_limiter_effective (in->limiter, &conc, &qps);
      g_autofree gchar *c = conc ? g_strdup_printf ("%u", conc) : g_strdup ("-");
      g_autofree gchar *q = qps > 0 ? g_strdup_printf ("%.2f", qps) : g_strdup ("-");
      g_autofree gchar *lim = g_strdup_printf ("%s, %s", c, q);
      fprintf (out, "%-20s %7d %8d %6d %8d %s\n", in->name, g_atomic_int_get (&in->calls),
               g_atomic_int_get (&in->failures), g_atomic_int_get (&in->quota_errors),
               g_atomic_int_get (&in->timeouts), lim);
    }
}
