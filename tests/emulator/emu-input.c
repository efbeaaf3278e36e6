/* Input images sent by clients: data URIs, plain base64 (BFL), oss:// URLs
 * from the fake temporary upload, or URLs of this emulator's own results
 * (a chain may pass a previous output along).  Any other URL would need
 * the internet, so it fails the way a provider's download failure does. */
#include "emu.h"
#include <string.h>

void
emu_input_free (EmuInput *in)
{
  if (!in)
    return;
  if (in->pixels)
    vh_pixels_free (in->pixels);
  g_free (in);
}

/* g_base64_decode() skips garbage silently; a provider would not. */
static GBytes *
strict_base64 (const char *text, gsize len)
{
  gsize i, pad = 0, n = 0;
  for (i = 0; i < len; i++)
    {
      char c = text[i];
      if (g_ascii_isalnum (c) || c == '+' || c == '/')
        {
          if (pad)
            return NULL;
          n++;
        }
      else if (c == '=')
        pad++;
      else if (c == '\r' || c == '\n')
        continue;
      else
        return NULL;
    }
  if (n == 0 || pad > 2 || (n + pad) % 4 != 0)
    return NULL;
  gchar *copy = g_strndup (text, len);
  gsize out_len = 0;
  guchar *out = g_base64_decode (copy, &out_len);
  g_free (copy);
  return g_bytes_new_take (out, out_len);
}

EmuInputStatus
emu_input_load (EmuRequest *req, const char *ref, gsize max_bytes, gsize max_data_uri,
                gboolean allow_plain_base64, gboolean oss_resolve, const char *model, EmuInput **out)
{
  EmuServer *emu = req->emu;
  GBytes *bytes = NULL;
  *out = NULL;
  if (!ref || !*ref)
    return EMU_INPUT_BAD_DATA;
  gsize ref_len = strlen (ref);
  if (g_str_has_prefix (ref, "data:"))
    {
      if (max_data_uri && ref_len > max_data_uri)
        return EMU_INPUT_TOO_BIG;
      const char *comma = strchr (ref, ',');
      if (!comma || !g_strstr_len (ref, comma - ref, ";base64"))
        return EMU_INPUT_BAD_DATA;
      bytes = strict_base64 (comma + 1, ref_len - (gsize) (comma + 1 - ref));
    }
  else if (g_str_has_prefix (ref, "oss://"))
    {
      if (!oss_resolve)
        return EMU_INPUT_NEEDS_RESOLVE;
      bytes = emu_oss_lookup (emu, ref, model, req->api_key);
      if (!bytes)
        return EMU_INPUT_DOWNLOAD_FAILED;
    }
  else if (g_str_has_prefix (ref, "http://") || g_str_has_prefix (ref, "https://"))
    {
      gsize blen = strlen (emu->base_url);
      if (strncmp (ref, emu->base_url, blen) || !g_str_has_prefix (ref + blen, "/results/"))
        return EMU_INPUT_DOWNLOAD_FAILED;
      bytes = emu_results_lookup_bytes (emu, ref + blen);
      if (!bytes)
        return EMU_INPUT_DOWNLOAD_FAILED;
    }
  else if (allow_plain_base64)
    {
      if (max_data_uri && ref_len > max_data_uri)
        return EMU_INPUT_TOO_BIG;
      bytes = strict_base64 (ref, ref_len);
    }
  if (!bytes)
    return EMU_INPUT_BAD_DATA;
  if (max_bytes && g_bytes_get_size (bytes) > max_bytes)
    {
      g_bytes_unref (bytes);
      return EMU_INPUT_TOO_BIG;
    }
  VhImage *img = vh_image_new_from_bytes (bytes, NULL);
  VhPixels *px = img ? vh_image_decode (img, NULL) : NULL;
  gsize size = g_bytes_get_size (bytes);
  if (img)
    vh_image_free (img);
  g_bytes_unref (bytes);
  if (!px)
    return EMU_INPUT_BAD_DATA;
  EmuInput *in = g_new0 (EmuInput, 1);
  in->width = px->width;
  in->height = px->height;
  in->bytes = size;
  in->pixels = px;
  *out = in;
  return EMU_INPUT_OK;
}
