/* The resume journal: OUTPUT/journal.jsonl, one JSON object per finished or
 * failed row, appended with a single write() and fsynced.  A line torn by a
 * crash is ignored on load and cut off before the next append. */
#ifndef VH_JOURNAL_H
#define VH_JOURNAL_H
#include "vh-private.h"
#include <json-c/json.h>

G_BEGIN_DECLS

typedef struct _VhJournal VhJournal;

typedef struct {
  gchar   *index;
  gboolean done;          /* "status": "done" | "failed" */
  gchar   *klass;         /* error class name when failed */
  gchar   *error;
  gchar   *instance;
  gint64   ms;
  json_object *line;      /* the whole line, for the report */
} VhJournalEntry;

/* Opens (creating) the journal and loads the latest entry of every index.
 * `ignored_lines` (may be NULL) receives how many lines were not usable. */
VhJournal *vh_journal_open (const char *path, guint *ignored_lines, GError **error);
void       vh_journal_close (VhJournal *journal);
/* The latest entry for `index`, or NULL. */
const VhJournalEntry *vh_journal_lookup (VhJournal *journal, const char *index);
/* Appends one line (the object is serialised compactly) and fsyncs. */
gboolean   vh_journal_append (VhJournal *journal, json_object *line, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VhJournal, vh_journal_close)

G_END_DECLS
#endif
