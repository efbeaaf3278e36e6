#include "journal.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

struct _VhJournal {
  GMutex      lock;
  int         fd;
  GHashTable *latest;   /* index -> VhJournalEntry* */
};

static void
entry_free (gpointer p)
{
  VhJournalEntry *e = p;
  g_free (e->index);
  g_free (e->klass);
  g_free (e->error);
  g_free (e->instance);
  json_object_put (e->line);
  g_free (e);
}

static const char *
jstr (json_object *o, const char *key)
{
  json_object *v = NULL;
  return json_object_object_get_ex (o, key, &v) && json_object_is_type (v, json_type_string)
             ? json_object_get_string (v) : NULL;
}

static gboolean
absorb_line (VhJournal *j, const char *line, gsize len)
{
  json_tokener *tok = json_tokener_new ();
  json_object *o = json_tokener_parse_ex (tok, line, (int) len);
  gboolean ok = o != NULL && json_tokener_get_error (tok) == json_tokener_success
                && json_object_is_type (o, json_type_object);
  json_tokener_free (tok);
  const char *index = ok ? jstr (o, "index") : NULL;
  const char *status = ok ? jstr (o, "status") : NULL;
  if (index == NULL || status == NULL)
    {
      json_object_put (o);
      return FALSE;
    }
  VhJournalEntry *e = g_new0 (VhJournalEntry, 1);
  e->index = g_strdup (index);
  e->done = strcmp (status, "done") == 0;
  e->klass = g_strdup (jstr (o, "class"));
  e->error = g_strdup (jstr (o, "error"));
  e->instance = g_strdup (jstr (o, "instance"));
  json_object *ms = NULL;
  if (json_object_object_get_ex (o, "ms", &ms))
    e->ms = json_object_get_int64 (ms);
  e->line = o;   /* keeps the reference */
  g_hash_table_replace (j->latest, e->index, e);
  return TRUE;
}

VhJournal *
vh_journal_open (const char *path, guint *ignored, GError **error)
{
  int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", path, g_strerror (e));
      return NULL;
    }
  VhJournal *j = g_new0 (VhJournal, 1);
  g_mutex_init (&j->lock);
  j->fd = fd;
  j->latest = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  gchar *data = NULL;
  gsize len = 0;
  guint bad = 0;
  if (g_file_get_contents (path, &data, &len, NULL))
    {
      gsize start = 0, complete = 0;
      for (gsize i = 0; i < len; i++)
        if (data[i] == '\n')
          {
            if (i > start && !absorb_line (j, data + start, i - start))
              bad++;
            start = i + 1;
            complete = i + 1;
          }
      /* The tail after the last newline was being written when the process
       * died: it never counted, and it must not glue itself to the next line. */
      if (complete < len)
        {
          bad++;
          if (ftruncate (fd, (off_t) complete) != 0)
            g_warning ("%s: %s", path, g_strerror (errno));
        }
      g_free (data);
    }
  lseek (fd, 0, SEEK_END);
  if (ignored)
    *ignored = bad;
  return j;
}

void
vh_journal_close (VhJournal *j)
{
  if (j == NULL)
    return;
  if (j->fd >= 0)
    close (j->fd);
  g_hash_table_unref (j->latest);
  g_mutex_clear (&j->lock);
  g_free (j);
}

const VhJournalEntry *
vh_journal_lookup (VhJournal *j, const char *index)
{
  g_mutex_lock (&j->lock);
  const VhJournalEntry *e = g_hash_table_lookup (j->latest, index);
  g_mutex_unlock (&j->lock);
  return e;
}

gboolean
vh_journal_append (VhJournal *j, json_object *line, GError **error)
{
  const char *text = json_object_to_json_string_ext (line, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  gchar *buf = g_strconcat (text, "\n", NULL);
  gsize len = strlen (buf);
  gboolean ok = TRUE;
  g_mutex_lock (&j->lock);
  /* One write() per line under the lock, so lines of concurrent rows never
   * interleave; fsync before the row counts as done. */
  gsize off = 0;
  while (off < len)
    {
      ssize_t n = write (j->fd, buf + off, len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "journal: %s", g_strerror (e));
          ok = FALSE;
          break;
        }
      off += (gsize) n;
    }
  if (ok && fdatasync (j->fd) != 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "journal fsync: %s", g_strerror (e));
      ok = FALSE;
    }
  if (ok)
    absorb_line (j, buf, len - 1);
  g_mutex_unlock (&j->lock);
  g_free (buf);
  return ok;
}
