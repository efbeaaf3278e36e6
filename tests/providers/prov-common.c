/* Helpers shared by the provider tests (see prov-common.h). */
#include <string.h>
#include <stdarg.h>
#include <png.h>
#include "prov-common.h"

const VhPlugin *
prov_load_plugin (const char *name)
{
  const char *builddir = g_getenv ("VH_BUILDDIR");
  if (builddir == NULL)
    g_error ("VH_BUILDDIR is not set (run through make check)");
  g_autofree gchar *file = g_strdup_printf ("%s.so", name);
  g_autofree gchar *path = g_build_filename (builddir, "plugins", name, ".libs", file, NULL);
  /* Same flags as the registry: symbols stay local to the module. */
  GModule *module = g_module_open (path, G_MODULE_BIND_LOCAL);
  if (module == NULL)
    g_error ("cannot open %s: %s", path, g_module_error ());
  g_module_make_resident (module);
  gpointer sym = NULL;
  if (!g_module_symbol (module, VH_PLUGIN_SYMBOL, &sym))
    g_error ("%s: no %s", path, VH_PLUGIN_SYMBOL);
  const VhPlugin *plugin = ((VhPluginDescribeFunc) sym) ();
  g_assert_cmpuint (plugin->abi, ==, VH_PLUGIN_ABI);
  g_assert_cmpuint (plugin->struct_size, ==, sizeof (VhPlugin));
  g_assert_cmpstr (plugin->name, ==, name);
  return plugin;
}

ProvInstance *
prov_instance_new (const char *plugin_name, const char *instance, GError **error, ...)
{
  const VhPlugin *plugin = prov_load_plugin (plugin_name);
  g_autoptr(GPtrArray) kv = g_ptr_array_new ();
  va_list ap;
  va_start (ap, error);
  for (const char *s = va_arg (ap, const char *); s != NULL; s = va_arg (ap, const char *))
    g_ptr_array_add (kv, (gpointer) s);
  va_end (ap);
  g_ptr_array_add (kv, NULL);

  /* Defaults filled in exactly as the INI loader does. */
  VhConfig *config = vh_config_new_for_test (instance, plugin->options, (const char *const *) kv->pdata, error);
  if (config == NULL)
    return NULL;
  gpointer self = plugin->create (NULL, config, error);
  if (self == NULL)
    {
      vh_config_free (config);
      return NULL;
    }
  ProvInstance *inst = g_new0 (ProvInstance, 1);
  inst->plugin = plugin;
  inst->config = config;
  inst->self = self;
  return inst;
}

void
prov_instance_free (ProvInstance *inst)
{
  if (inst == NULL)
    return;
  inst->plugin->destroy (inst->self);
  vh_config_free (inst->config);
  g_free (inst);
}

gboolean
prov_run (ProvInstance *inst, const char *type, const char *prompt, const VhImage *input,
          VhImage **output, GCancellable *cancel, GError **error)
{
  VhTask task = {
    .index = "7",
    .type = !strcmp (type, "t2i") ? VH_TASK_T2I : !strcmp (type, "tie") ? VH_TASK_TIE
            : !strcmp (type, "vttie") ? VH_TASK_VTTIE : VH_TASK_DEEPFAKE,
    .type_name = type,
    .prompt = prompt,
    .line = 2,
  };
  *output = NULL;
  gboolean ok = inst->plugin->run (inst->self, &task, input, output, cancel, error);
  g_assert_true (ok == (*output != NULL));
  g_assert_true (ok == (error == NULL || *error == NULL));
  return ok;
}

static void
fill_pattern (VhPixels *px)
{
  for (gint y = 0; y < px->height; y++)
    for (gint x = 0; x < px->width; x++)
      {
        guint8 *p = px->rgb + ((gsize) y * px->width + x) * 3;
        p[0] = (guint8) (x * 255 / MAX (px->width - 1, 1));
        p[1] = (guint8) (y * 255 / MAX (px->height - 1, 1));
        p[2] = ((x / 64 + y / 64) % 2) ? 200 : 40;
      }
}

VhImage *
prov_image (gint width, gint height, VhImageFormat format)
{
  g_autoptr(VhPixels) px = vh_pixels_new (width, height);
  fill_pattern (px);
  GError *error = NULL;
  VhImage *img = format == VH_FORMAT_PNG ? vh_image_encode_png (px, &error)
                                         : vh_image_encode_jpeg (px, 90, &error);
  g_assert_no_error (error);
  return img;
}

static void
png_write_cb (png_structp png, png_bytep data, png_size_t len)
{
  g_byte_array_append (png_get_io_ptr (png), data, len);
}

static void
png_flush_cb (png_structp png)
{
}

VhImage *
prov_rgba_png (gint width, gint height)
{
  GByteArray *out = g_byte_array_new ();
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  if (setjmp (png_jmpbuf (png)))
    g_error ("libpng failed");
  png_set_write_fn (png, out, png_write_cb, png_flush_cb);
  png_set_compression_level (png, 1);
  png_set_IHDR (png, info, width, height, 8, PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info (png, info);
  guint8 *row = g_malloc ((gsize) width * 4);
  for (gint y = 0; y < height; y++)
    {
      for (gint x = 0; x < width; x++)
        {
          guint8 *p = row + (gsize) x * 4;
          p[0] = (guint8) (x * 255 / width);
          p[1] = (guint8) (y * 255 / height);
          p[2] = ((x / 128 + y / 128) % 2) ? 220 : 30;
          p[3] = (guint8) (x < width / 4 ? 0 : 255);    /* a transparent band */
        }
      png_write_row (png, row);
    }
  png_write_end (png, info);
  png_destroy_write_struct (&png, &info);
  g_free (row);
  GBytes *bytes = g_byte_array_free_to_bytes (out);
  GError *error = NULL;
  VhImage *img = vh_image_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  g_bytes_unref (bytes);
  return img;
}

void
prov_image_size (const VhImage *image, gint *width, gint *height)
{
  GError *error = NULL;
  g_autoptr(VhPixels) px = vh_image_decode (image, &error);
  g_assert_no_error (error);
  *width = px->width;
  *height = px->height;
}

/* ------------------------------------------------------------ emulator */

json_object *
prov_requests (VhEmu *emu)
{
  g_autofree gchar *text = vh_emu_requests_json (emu);
  g_assert_nonnull (text);
  json_object *obj = json_tokener_parse (text);
  g_assert_nonnull (obj);
  if (json_object_is_type (obj, json_type_object))
    {
      /* {"requests": [...]} or a bare array */
      json_object *list = NULL;
      if (json_object_object_get_ex (obj, "requests", &list))
        {
          json_object_get (list);
          json_object_put (obj);
          obj = list;
        }
    }
  g_assert_true (json_object_is_type (obj, json_type_array));
  return obj;
}

GPtrArray *
prov_requests_matching (json_object *log, const char *fragment)
{
  GPtrArray *out = g_ptr_array_new ();
  for (size_t i = 0; i < json_object_array_length (log); i++)
    {
      json_object *r = json_object_array_get_idx (log, i);
      json_object *p = prov_json_path (r, "path");
      if (p != NULL && strstr (json_object_get_string (p), fragment) != NULL)
        g_ptr_array_add (out, r);
    }
  return out;
}

json_object *
prov_json_path (json_object *obj, const char *dotted)
{
  g_auto(GStrv) steps = g_strsplit (dotted, ".", -1);
  for (gchar **s = steps; obj != NULL && *s != NULL; s++)
    {
      json_object *next = NULL;
      if (json_object_is_type (obj, json_type_array))
        {
          gint64 i = g_ascii_strtoll (*s, NULL, 10);
          obj = i >= 0 && (size_t) i < json_object_array_length (obj) ? json_object_array_get_idx (obj, i) : NULL;
          continue;
        }
      if (!json_object_is_type (obj, json_type_object) || !json_object_object_get_ex (obj, *s, &next))
        return NULL;
      obj = next;
    }
  return obj;
}

static GString *captured;
static GMutex capture_lock;

static void
capture_sink (const char *line, gpointer data)
{
  g_mutex_lock (&capture_lock);
  if (captured != NULL)
    {
      g_string_append (captured, line);
      g_string_append_c (captured, '\n');
    }
  g_mutex_unlock (&capture_lock);
}

void
prov_log_capture_start (void)
{
  g_mutex_lock (&capture_lock);
  if (captured == NULL)
    captured = g_string_new (NULL);
  g_mutex_unlock (&capture_lock);
  vh_log_set_verbosity (VH_LOG_DEBUG);
  vh_log_set_sink (capture_sink, NULL);
}

gchar *
prov_log_capture_stop (void)
{
  vh_log_set_sink (NULL, NULL);
  vh_log_set_verbosity (VH_LOG_WARNING);
  g_mutex_lock (&capture_lock);
  gchar *s = captured != NULL ? g_string_free (captured, FALSE) : g_strdup ("");
  captured = NULL;
  g_mutex_unlock (&capture_lock);
  return s;
}

VhEmu *
prov_emu_start (const char *extra_json)
{
  /* Latencies of the real services scaled down 100x: tasks finish in tens
   * of milliseconds, the protocol (PENDING -> RUNNING -> SUCCEEDED) is the same. */
  g_autofree gchar *config = g_strdup_printf ("{\"time_scale\": 0.01, \"seed\": 7%s%s}",
                                              extra_json != NULL && *extra_json ? ", " : "",
                                              extra_json != NULL ? extra_json : "");
  GError *error = NULL;
  VhEmu *emu = vh_emu_start (config, &error);
  if (emu == NULL)
    g_error ("emulator did not start: %s", error != NULL ? error->message : "?");
  return emu;
}

gchar *
prov_dashscope_base (VhEmu *emu)
{
  return g_strdup_printf ("%s/api/v1", vh_emu_base_url (emu));
}

gchar *
prov_bfl_base (VhEmu *emu)
{
  return g_strdup_printf ("%s/bfl", vh_emu_base_url (emu));
}

void
prov_emu_faults (VhEmu *emu, const char *faults_json)
{
  g_autofree gchar *doc = g_strdup_printf ("{\"faults\": %s}", faults_json);
  GError *error = NULL;
  if (!vh_emu_configure (emu, doc, &error))
    g_error ("emulator refused %s: %s", doc, error != NULL ? error->message : "?");
}

void
prov_emu_reset (VhEmu *emu)
{
  GError *error = NULL;
  /* Startup configuration back, faults and the request log cleared. */
  g_assert_true (vh_emu_reset (emu, &error));
  g_assert_no_error (error);
}

json_object *
prov_last_request (VhEmu *emu, const char *fragment)
{
  json_object *log = prov_requests (emu);
  g_autoptr(GPtrArray) hits = prov_requests_matching (log, fragment);
  g_assert_cmpuint (hits->len, >, 0);
  json_object *r = json_object_get (hits->pdata[hits->len - 1]);
  json_object_put (log);
  return r;
}

void
prov_assert_aspect (const VhImage *out, gint in_w, gint in_h, double tolerance)
{
  gint w, h;
  prov_image_size (out, &w, &h);
  double want = (double) in_w / in_h, got = (double) w / h;
  if (got / want > tolerance || want / got > tolerance)
    g_error ("output %dx%d does not keep the %dx%d aspect", w, h, in_w, in_h);
}
