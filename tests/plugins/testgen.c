/* testgen — a TEST-ONLY plugin (never installed): draws a solid colour
 * derived from the row index, or copies its input, and fails on command so
 * the host's chain, journal and resume logic are tested end to end.
 * Built twice: as "testgen" (all task types) and, with TESTGEN_T2I_ONLY, as
 * "testgen-t2i" (only t2i) for route validation tests. */
#include <vhost/plugin.h>
#include <string.h>

typedef struct {
  gchar   *mode;           /* solid | copy */
  gchar   *format;         /* jpeg | png */
  gint     width, height;
  gint64   sleep_ms;
  gchar  **fail_rows;      /* indexes that fail */
  gint     fail_class;
  gint64   fail_times;     /* fail the first N calls of a failing row, 0 = always */
  gint64   retry_after_ms;
  gint64   release_after_ms; /* vh_task_release_slot() this far into `sleep` */
  GMutex   lock;
  GHashTable *calls;       /* index -> calls so far */
  gint     running;        /* calls inside run() */
  gint     holding;        /* calls inside run() that have not released their slot */
} TestGen;

static const VhOption options[] = {
  { "mode", VH_OPT_ENUM, "solid", "solid: a colour from the row index; copy: return the input image", "solid,copy" },
  { "format", VH_OPT_ENUM, "jpeg", "encoding of the returned image", "jpeg,png" },
  { "width", VH_OPT_INT, "64", "width of solid images", NULL },
  { "height", VH_OPT_INT, "48", "height of solid images", NULL },
  { "sleep", VH_OPT_DURATION, "0ms", "time each call takes (cancellable)", NULL },
  { "fail_rows", VH_OPT_LIST, "", "indexes of rows that fail", NULL },
  { "fail_class", VH_OPT_ENUM, "transient", "class of those failures",
    "transient,quota,rejected,invalid-input,auth,internal" },
  { "fail_times", VH_OPT_INT, "0", "a failing row fails only its first N calls (0 = always)", NULL },
  { "retry_after", VH_OPT_DURATION, "0ms", "Retry-After reported with quota failures", NULL },
  { "release_after", VH_OPT_DURATION, "0ms",
    "release the quota slot this far into `sleep`, like a provider whose task ended (0 = never)", NULL },
  { "api_key_env", VH_OPT_ENV, "VH_TESTGEN_KEY", "variable holding a fake key (only read when set)", NULL },
  { NULL, 0, NULL, NULL, NULL },
};

static void tg_destroy (gpointer self);

static gpointer
tg_create (VhHost *host, const VhConfig *config, GError **error)
{
  TestGen *t = g_new0 (TestGen, 1);
  t->mode = g_strdup (vh_config_get_string (config, "mode"));
  t->format = g_strdup (vh_config_get_string (config, "format"));
  t->width = (gint) vh_config_get_int (config, "width");
  t->height = (gint) vh_config_get_int (config, "height");
  t->sleep_ms = vh_config_get_duration_ms (config, "sleep");
  t->fail_rows = vh_config_get_list (config, "fail_rows");
  static const char *const classes[] = { "transient", "quota", "rejected", "invalid-input", "auth", "cancelled", "internal" };
  const char *fc = vh_config_get_string (config, "fail_class");
  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    if (strcmp (fc, classes[i]) == 0)
      t->fail_class = (gint) i;
  t->fail_times = vh_config_get_int (config, "fail_times");
  t->retry_after_ms = vh_config_get_duration_ms (config, "retry_after");
  t->release_after_ms = vh_config_get_duration_ms (config, "release_after");
  g_mutex_init (&t->lock);
  t->calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (vh_config_has (config, "api_key_env"))
    {
      /* Exercise the secret path: the value must never show up in logs. */
      g_autofree gchar *key = vh_config_get_secret (config, "api_key_env", error);
      if (key == NULL)
        {
          tg_destroy (t);
          return NULL;
        }
      vh_log (VH_LOG_INFO, "testgen", "using key %s", key);
    }
  return t;
}

static gboolean
tg_run (gpointer self, const VhTask *task, const VhImage *input, VhImage **output,
        GCancellable *cancel, GError **error)
{
  TestGen *t = self;
  /* What the host let overlap: calls still holding their slot, and calls
   * at all, when this one started (notes testgen_holding/testgen_running). */
  gint running = g_atomic_int_add (&t->running, 1);
  gint holding = g_atomic_int_add (&t->holding, 1);
  g_autofree gchar *run_s = g_strdup_printf ("%d", running), *hold_s = g_strdup_printf ("%d", holding);
  vh_task_note (task, "testgen_running", run_s);
  vh_task_note (task, "testgen_holding", hold_s);
  gboolean slept = TRUE;
  if (t->release_after_ms > 0 && t->release_after_ms < t->sleep_ms)
    {
      slept = vh_sleep_ms (t->release_after_ms, cancel, error);
      if (slept)
        {
          vh_task_note (task, "testgen_slot_wanted", vh_task_slot_wanted (task) ? "true" : "false");
          g_atomic_int_add (&t->holding, -1);
          vh_task_release_slot (task);
          vh_task_release_slot (task);   /* a second call is ignored */
          slept = vh_sleep_ms (t->sleep_ms - t->release_after_ms, cancel, error);
        }
      else
        g_atomic_int_add (&t->holding, -1);
    }
  else
    {
      slept = t->sleep_ms <= 0 || vh_sleep_ms (t->sleep_ms, cancel, error);
      g_atomic_int_add (&t->holding, -1);
    }
  g_atomic_int_add (&t->running, -1);
  if (!slept)
    return FALSE;
  if (g_strv_contains ((const char *const *) t->fail_rows, task->index))
    {
      g_mutex_lock (&t->lock);
      gint64 n = GPOINTER_TO_INT (g_hash_table_lookup (t->calls, task->index)) + 1;
      g_hash_table_insert (t->calls, g_strdup (task->index), GINT_TO_POINTER ((gint) n));
      g_mutex_unlock (&t->lock);
      if (t->fail_times == 0 || n <= t->fail_times)
        {
          g_autofree gchar *count = g_strdup_printf ("%" G_GINT64_FORMAT, n);
          vh_task_note (task, "testgen_failures", count);
          vh_set_error (error, (VhErrorClass) t->fail_class, t->fail_class == VH_ERROR_QUOTA ? t->retry_after_ms : -1,
                        "testgen: row %s fails on purpose (call %" G_GINT64_FORMAT ")", task->index, n);
          return FALSE;
        }
    }
  if (strcmp (t->mode, "copy") == 0)
    {
      if (input == NULL)
        {
          vh_set_error (error, VH_ERROR_INVALID_INPUT, -1, "testgen: copy mode needs an input image");
          return FALSE;
        }
      *output = vh_image_new_from_bytes (input->bytes, error);
      return *output != NULL;
    }
  g_autoptr (VhPixels) px = vh_pixels_new (t->width, t->height);
  guint h = g_str_hash (task->index) ^ (guint) task->type * 2654435761u;
  for (gint i = 0; i < t->width * t->height; i++)
    {
      px->rgb[i * 3] = (guint8) h;
      px->rgb[i * 3 + 1] = (guint8) (h >> 8);
      px->rgb[i * 3 + 2] = (guint8) ((h >> 16) + (guint) (i % t->width));
    }
  *output = strcmp (t->format, "png") == 0 ? vh_image_encode_png (px, error) : vh_image_encode_jpeg (px, 90, error);
  return *output != NULL;
}

static void
tg_destroy (gpointer self)
{
  TestGen *t = self;
  g_free (t->mode);
  g_free (t->format);
  g_strfreev (t->fail_rows);
  g_hash_table_unref (t->calls);
  g_mutex_clear (&t->lock);
  g_free (t);
}

static const VhPlugin descriptor = {
  .abi = VH_PLUGIN_ABI,
  .struct_size = sizeof (VhPlugin),
#ifdef TESTGEN_T2I_ONLY
  .name = "testgen-t2i",
  .task_types = VH_TASK_T2I,
#else
  .name = "testgen",
  .task_types = VH_TASK_ALL,
#endif
  .version = "1",
  .summary = "TEST ONLY: solid colours or copies, failures on command",
  .options = options,
  .create = tg_create,
  .run = tg_run,
  .destroy = tg_destroy,
};

VH_PLUGIN_DEFINE (descriptor)
