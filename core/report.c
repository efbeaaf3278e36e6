#include "report.h"
#include "output.h"
#include <string.h>

#define THUMB 160

static const char *
jstr (json_object *o, const char *key)
{
  json_object *v;
  return o && json_object_object_get_ex (o, key, &v) && json_object_is_type (v, json_type_string)
             ? json_object_get_string (v) : NULL;
}

/* A small JPEG thumbnail as a data: URI, or NULL when the file is missing
 * or does not decode. */
static gchar *
thumbnail (const char *path)
{
  if (path == NULL)
    return NULL;
  g_autoptr (VhImage) img = vh_image_new_from_file (path, NULL);
  if (img == NULL)
    return NULL;
  g_autoptr (VhPixels) px = vh_image_decode (img, NULL);
  if (px == NULL)
    return NULL;
  gdouble s = MIN (1.0, (gdouble) THUMB / MAX (px->width, px->height));
  g_autoptr (VhPixels) small = vh_pixels_resize (px, MAX (1, (gint) (px->width * s)), MAX (1, (gint) (px->height * s)));
  g_autoptr (VhImage) jpeg = vh_image_encode_jpeg (small, 75, NULL);
  return jpeg ? vh_image_to_data_uri (jpeg) : NULL;
}

typedef struct {
  guint checked, flagged;
} Detections;

typedef struct {
  guint rows, done, failed, pending, last_resort;
  gint64 ms_sum;
  GHashTable *detectors;   /* instance name -> Detections* */
} TypeTotals;

static void
count_verdicts (json_object *notes, TypeTotals *t, GString *badges)
{
  if (notes == NULL)
    return;
  json_object_object_foreach (notes, key, val)
    {
      if (!g_str_has_prefix (key, "verdict."))
        continue;
      const char *det = key + strlen ("verdict.");
      json_object *score_o = NULL;
      gdouble score = json_object_object_get_ex (val, "score", &score_o) ? json_object_get_double (score_o) : 0;
      Detections *d = g_hash_table_lookup (t->detectors, det);
      if (d == NULL)
        {
          d = g_new0 (Detections, 1);
          g_hash_table_insert (t->detectors, g_strdup (det), d);
        }
      d->checked++;
      d->flagged += score >= VH_REPORT_FLAG_SCORE;
      if (badges)
        {
          g_autofree gchar *name = g_markup_escape_text (det, -1);
          const char *level = jstr (val, "level");
          g_autofree gchar *lv = g_markup_escape_text (level ? level : "", -1);
          g_string_append_printf (badges, "<span class=\"badge %s\" title=\"%s\">%s %.2f %s</span>",
                                  score >= VH_REPORT_FLAG_SCORE ? "flag" : "pass", name, name, score, lv);
        }
    }
}

static void
append_img (GString *h, const char *uri, const char *caption)
{
  g_string_append (h, "<figure>");
  if (uri)
    g_string_append_printf (h, "<img alt=\"%s\" src=\"%s\">", caption, uri);
  else
    g_string_append (h, "<div class=\"none\">—</div>");
  g_string_append_printf (h, "<figcaption>%s</figcaption></figure>", caption);
}

static const char html_head[] =
  "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
  "<meta name=\"viewport\" content=\"width=device-width\">"
  "<title>vhost report</title><style>\n"
  "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;background:#f6f6f4;color:#222}\n"
  "h1{font-size:1.4em}h2{margin-top:1.6em;border-bottom:2px solid #ccc}\n"
  "table.sum{border-collapse:collapse}table.sum td,table.sum th{border:1px solid #ccc;padding:.2em .6em;text-align:right}\n"
  ".grid{display:flex;flex-wrap:wrap;gap:10px}\n"
  ".card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;min-width:340px;max-width:520px;box-sizing:border-box}\n"
  ".card.failed{border-color:#c62828;background:#fff5f5}\n"
  ".imgs{display:flex;flex-wrap:wrap;gap:6px}figure{margin:0;text-align:center}figure img{max-width:160px;max-height:160px;display:block}\n"
  "figcaption{font-size:11px;color:#666}.none{width:80px;height:80px;background:#eee;line-height:80px;color:#999}\n"
  ".prompt{margin:.4em 0;white-space:pre-wrap;word-break:break-word}\n"
  ".badge{display:inline-block;border-radius:3px;padding:0 5px;margin:2px 2px 0 0;font-size:12px;color:#fff;background:#607d8b}\n"
  ".badge.done{background:#2e7d32}.badge.failed{background:#c62828}.badge.pending{background:#9e9e9e}\n"
  ".badge.flag{background:#e65100}.badge.pass{background:#1565c0}.badge.lr{background:#6a1b9a}\n"
  ".err{color:#c62828;font-size:12px}\n"
  "</style></head><body>\n";

gboolean
vh_report_write (VhHost *host, VhTaskTable *table, VhJournal *journal, const char *output_dir, GError **error)
{
  static const char *const type_names[] = { "t2i", "tie", "vttie", "deepfake" };
  TypeTotals totals[4];
  GString *cards[4];
  for (guint t = 0; t < 4; t++)
    {
      memset (&totals[t], 0, sizeof totals[t]);
      totals[t].detectors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      cards[t] = g_string_new (NULL);
    }
  json_object *root = json_object_new_object ();
  json_object *rows = json_object_new_array ();
  for (guint i = 0; i < table->rows->len; i++)
    {
      VhTaskRow *r = table->rows->pdata[i];
      guint t = vh_task_type_bit (r->task.type);
      TypeTotals *tt = &totals[t];
      const VhJournalEntry *e = vh_journal_lookup (journal, r->index);
      json_object *row = json_object_new_object ();
      json_object_object_add (row, "index", json_object_new_string (r->index));
      json_object_object_add (row, "type", json_object_new_string (type_names[t]));
      json_object_object_add (row, "prompt", json_object_new_string (r->prompt));
      json_object_object_add (row, "line", json_object_new_int ((int) r->task.line));
      const char *status = e ? (e->done ? "done" : "failed") : "pending";
      json_object_object_add (row, "status", json_object_new_string (status));
      json_object *notes = NULL;
      tt->rows++;
      if (e)
        {
          json_object_object_foreach (e->line, key, val)
            if (strcmp (key, "index") != 0 && strcmp (key, "type") != 0 && strcmp (key, "status") != 0)
              json_object_object_add (row, key, json_object_get (val));
          json_object_object_get_ex (e->line, "notes", &notes);
          if (e->done)
            tt->done++, tt->ms_sum += e->ms;
          else
            tt->failed++;
          if (notes && json_object_object_get_ex (notes, "last_resort", NULL))
            tt->last_resort++;
        }
      else
        tt->pending++;
      json_object_array_add (rows, row);

      /* The card: inputs, output, prompt, status and verdict badges. */
      GString *h = cards[t];
      g_autoptr (GString) badges = g_string_new (NULL);
      count_verdicts (notes, tt, badges);
      g_string_append_printf (h, "<div class=\"card %s\" id=\"row-%s\"><div class=\"imgs\">", status, r->index);
      g_autofree gchar *ori = thumbnail (r->ori_image);
      g_autofree gchar *tgt = thumbnail (r->target_image);
      g_autofree gchar *out_path = vh_output_image_path (output_dir, r->index);
      g_autofree gchar *out = e && e->done ? thumbnail (out_path) : NULL;
      if (r->ori_image)
        append_img (h, ori, "ori_image");
      if (r->target_image)
        append_img (h, tgt, "target_image");
      append_img (h, out, "output");
      g_autofree gchar *prompt = g_markup_escape_text (r->prompt, -1);
      g_autofree gchar *idx = g_markup_escape_text (r->index, -1);
      g_string_append_printf (h, "</div><div><b>#%s</b> <span class=\"badge %s\">%s</span>", idx, status, status);
      if (e && e->instance)
        {
          g_autofree gchar *inst = g_markup_escape_text (e->instance, -1);
          g_string_append_printf (h, " %s · %.1f s", inst, e->ms / 1000.0);
        }
      if (notes && json_object_object_get_ex (notes, "last_resort", NULL))
        g_string_append (h, " <span class=\"badge lr\">last resort</span>");
      g_string_append_printf (h, "</div><p class=\"prompt\">%s</p>%s", prompt, badges->str);
      if (e && !e->done && e->error)
        {
          g_autofree gchar *err = g_markup_escape_text (e->error, -1);
          g_string_append_printf (h, "<p class=\"err\">[%s] %s</p>", e->klass ? e->klass : "", err);
        }
      g_string_append (h, "</div>\n");
    }

  /* Per type: counts, failures, detection rates. */
  json_object *summary = json_object_new_object ();
  GString *html = g_string_new (html_head);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *stamp = g_date_time_format_iso8601 (now);
  g_autofree gchar *tasks_e = g_markup_escape_text (table->path, -1);
  g_string_append_printf (html, "<h1>vhost report</h1><p>%s · %s · %u rows</p>\n", tasks_e, stamp, table->rows->len);
  g_string_append (html, "<table class=\"sum\"><tr><th>type</th><th>rows</th><th>done</th><th>failed</th>"
                         "<th>pending</th><th>last resort</th><th>avg s</th><th>detections (flagged/checked)</th></tr>\n");
  for (guint t = 0; t < 4; t++)
    {
      TypeTotals *tt = &totals[t];
      if (tt->rows == 0)
        continue;
      json_object *s = json_object_new_object ();
      json_object_object_add (s, "rows", json_object_new_int ((int) tt->rows));
      json_object_object_add (s, "done", json_object_new_int ((int) tt->done));
      json_object_object_add (s, "failed", json_object_new_int ((int) tt->failed));
      json_object_object_add (s, "pending", json_object_new_int ((int) tt->pending));
      json_object_object_add (s, "last_resort", json_object_new_int ((int) tt->last_resort));
      json_object_object_add (s, "mean_ms", json_object_new_int64 (tt->done ? tt->ms_sum / tt->done : 0));
      json_object *dets = json_object_new_object ();
      g_autoptr (GString) dcell = g_string_new (NULL);
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init (&it, tt->detectors);
      while (g_hash_table_iter_next (&it, &k, &v))
        {
          Detections *d = v;
          json_object *o = json_object_new_object ();
          json_object_object_add (o, "checked", json_object_new_int ((int) d->checked));
          json_object_object_add (o, "flagged", json_object_new_int ((int) d->flagged));
          json_object_object_add (o, "rate", json_object_new_double (d->checked ? (gdouble) d->flagged / d->checked : 0));
          json_object_object_add (dets, k, o);
          g_autofree gchar *name = g_markup_escape_text (k, -1);
          g_string_append_printf (dcell, "%s%s %u/%u", dcell->len ? ", " : "", name, d->flagged, d->checked);
        }
      json_object_object_add (s, "detections", dets);
      json_object_object_add (summary, type_names[t], s);
      g_string_append_printf (html, "<tr><th>%s</th><td>%u</td><td>%u</td><td>%u</td><td>%u</td><td>%u</td><td>%.2f</td><td>%s</td></tr>\n",
                              type_names[t], tt->rows, tt->done, tt->failed, tt->pending, tt->last_resort,
                              tt->done ? tt->ms_sum / 1000.0 / tt->done : 0.0, dcell->str);
    }
  g_string_append (html, "</table>\n<p class=\"filters\">show: "
                         "<button data-f=\"all\">all</button> <button data-f=\"failed\">failed</button> "
                         "<button data-f=\"flag\">flagged by a detector</button> "
                         "<button data-f=\"lr\">last resort</button> <span id=\"shown\"></span></p>\n");
  for (guint t = 0; t < 4; t++)
    if (totals[t].rows)
      g_string_append_printf (html, "<h2 id=\"%s\">%s (%u)</h2>\n<div class=\"grid\">\n%s</div>\n", type_names[t],
                              type_names[t], totals[t].rows, cards[t]->str);
  /* A few lines of inline script (no network): filters, and the card count
   * in data-cards so a headless browser test can see the page ran. */
  g_string_append (html,
                   "<script>\n"
                   "(function(){\n"
                   "  var cards=document.querySelectorAll('.card');\n"
                   "  document.body.setAttribute('data-cards', String(cards.length));\n"
                   "  function show(f){var n=0;cards.forEach(function(c){\n"
                   "    var on=f==='all'||(f==='failed'&&c.classList.contains('failed'))||\n"
                   "      (f==='flag'&&c.querySelector('.badge.flag'))||(f==='lr'&&c.querySelector('.badge.lr'));\n"
                   "    c.style.display=on?'':'none';if(on)n++;});\n"
                   "    document.getElementById('shown').textContent=n+' / '+cards.length;}\n"
                   "  document.querySelectorAll('button[data-f]').forEach(function(b){\n"
                   "    b.addEventListener('click',function(){show(b.getAttribute('data-f'));});});\n"
                   "  show('all');\n"
                   "})();\n"
                   "</script>\n</body></html>\n");

  json_object *instances = json_object_new_array ();
  for (guint i = 0; i < host->instances->len; i++)
    {
      VhInstance *in = host->instances->pdata[i];
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "name", json_object_new_string (in->name));
      json_object_object_add (o, "plugin", json_object_new_string (in->plugin->name));
      json_object_object_add (o, "calls", json_object_new_int (g_atomic_int_get (&in->calls)));
      json_object_object_add (o, "failures", json_object_new_int (g_atomic_int_get (&in->failures)));
      json_object_object_add (o, "quota_errors", json_object_new_int (g_atomic_int_get (&in->quota_errors)));
      json_object_object_add (o, "timeouts", json_object_new_int (g_atomic_int_get (&in->timeouts)));
      json_object_array_add (instances, o);
    }
  json_object_object_add (root, "generated", json_object_new_string (stamp));
  json_object_object_add (root, "tasks", json_object_new_string (table->path));
  json_object_object_add (root, "summary", summary);
  json_object_object_add (root, "instances", instances);
  json_object_object_add (root, "rows", rows);

  /* The journal lines were redacted when written; redact once more in case
   * a secret was registered later in this run. */
  g_autofree gchar *json_text = vh_redact (json_object_to_json_string_ext (root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
  g_autofree gchar *html_text = vh_redact (html->str);
  g_autofree gchar *jpath = g_build_filename (output_dir, "report.json", NULL);
  g_autofree gchar *hpath = g_build_filename (output_dir, "report.html", NULL);
  gboolean ok = vh_write_file_atomic (jpath, json_text, strlen (json_text), error)
                && vh_write_file_atomic (hpath, html_text, strlen (html_text), error);
  json_object_put (root);
  g_string_free (html, TRUE);
  for (guint t = 0; t < 4; t++)
    {
      g_hash_table_unref (totals[t].detectors);
      g_string_free (cards[t], TRUE);
    }
  return ok;
}
