/* flux-body.c — request bodies, and the output geometry: width/height for
 * the sized models, an aspect_ratio string for Ultra and Kontext, both
 * matching the input image when there is one. */
#include <math.h>
#include <string.h>
#include "flux-private.h"

#define SIDE_MIN 256
#define SIDE_MAX 1440
#define SIDE_STEP 32
#define TARGET_PIXELS (1024 * 1024)

/* Kontext's input size limit is not published (third parties say 20 MB):
 * its output is about one megapixel, so a 4 MP input loses nothing and
 * keeps the base64 body far from any limit. */
static const VhImageLimits kontext_limits = {
  .max_side = 2048,
  .max_pixels = 2048 * 2048,
  .max_bytes = 10 * 1000 * 1000,
  .format = VH_FORMAT_UNKNOWN,
};

VhImage *
flux_fit_input (const VhImage *input, GError **error)
{
  return vh_provider_fit_input (input, &kontext_limits, error);
}

static gint
round_side (double v)
{
  gint s = (gint) lround (v / SIDE_STEP) * SIDE_STEP;
  return CLAMP (s, SIDE_MIN, SIDE_MAX);
}

/* About one megapixel at in_w:in_h, sides multiples of 32 in [256, 1440]. */
void
flux_size_for_aspect (gint in_w, gint in_h, gint *out_w, gint *out_h)
{
  double ar = CLAMP ((double) in_w / MAX (in_h, 1), (double) SIDE_MIN / SIDE_MAX, (double) SIDE_MAX / SIDE_MIN);
  double w = sqrt (TARGET_PIXELS * ar), h = sqrt (TARGET_PIXELS / ar);
  double scale = 1.0;
  if (MAX (w, h) > SIDE_MAX)
    scale = SIDE_MAX / MAX (w, h);
  if (MIN (w, h) * scale < SIDE_MIN)
    scale = SIDE_MIN / MIN (w, h);
  *out_w = round_side (w * scale);
  *out_h = round_side (h * scale);
}

/* The "W:H" with small integers closest to width:height, inside the
 * accepted 21:9 .. 9:21. */
gchar *
flux_aspect_string (gint width, gint height)
{
  double target = log (CLAMP ((double) width / MAX (height, 1), 9.0 / 21.0, 21.0 / 9.0));
  gint best_p = 1, best_q = 1;
  double best = G_MAXDOUBLE;
  for (gint q = 1; q <= 21; q++)
    for (gint p = 1; p <= 21; p++)
      {
        double r = (double) p / q;
        if (r > 21.0 / 9.0 + 1e-9 || r < 9.0 / 21.0 - 1e-9)
          continue;
        double err = fabs (log (r) - target);
        /* Smaller terms win ties (4:3 rather than 8:6). */
        if (err < best - 1e-9)
          {
            best = err;
            best_p = p;
            best_q = q;
          }
      }
  return g_strdup_printf ("%d:%d", best_p, best_q);
}

json_object *
flux_build_body (FluxCall *c, const VhImage *fitted, gboolean send_image, GError **error)
{
  Flux *f = c->f;
  json_object *body = json_object_new_object ();
  json_object_object_add (body, "prompt", json_object_new_string (c->task->prompt));

  switch (f->kind)
    {
    case FLUX_KIND_SIZED:
      {
        gint w = f->width, h = f->height;
        if (w <= 0 || h <= 0)
          {
            if (fitted != NULL)
              flux_size_for_aspect (fitted->width, fitted->height, &w, &h);
            else
              w = h = 1024;
          }
        json_object_object_add (body, "width", json_object_new_int (w));
        json_object_object_add (body, "height", json_object_new_int (h));
        if (f->steps > 0)
          json_object_object_add (body, "steps", json_object_new_int (f->steps));
        if (f->guidance > 0)
          json_object_object_add (body, "guidance", json_object_new_double (f->guidance));
        break;
      }
    case FLUX_KIND_ULTRA:
    case FLUX_KIND_KONTEXT:
      {
        g_autofree gchar *ar = NULL;
        if (f->aspect_ratio != NULL)
          ar = g_strdup (f->aspect_ratio);
        else if (fitted != NULL)
          ar = flux_aspect_string (fitted->width, fitted->height);
        else
          ar = g_strdup ("1:1");
        json_object_object_add (body, "aspect_ratio", json_object_new_string (ar));
        if (f->kind == FLUX_KIND_ULTRA && f->raw)
          json_object_object_add (body, "raw", json_object_new_boolean (TRUE));
        if (f->kind == FLUX_KIND_KONTEXT && fitted != NULL && send_image)
          {
            /* Plain base64, as in BFL's own examples (a data: prefix is
             * not confirmed to be accepted). */
            gchar *b64 = vh_image_to_base64 (fitted);
            if (b64 == NULL)
              {
                vh_set_error (error, VH_ERROR_INTERNAL, -1, "could not encode the input image");
                json_object_put (body);
                return NULL;
              }
            json_object_object_add (body, "input_image", json_object_new_string (b64));
            g_free (b64);
          }
        break;
      }
    }
  if (f->seed >= 0)
    json_object_object_add (body, "seed", json_object_new_int64 (f->seed));
  json_object_object_add (body, "safety_tolerance", json_object_new_int (f->safety_tolerance));
  json_object_object_add (body, "output_format", json_object_new_string (f->output_format));
  json_object_object_add (body, "prompt_upsampling", json_object_new_boolean (f->prompt_upsampling));
  return body;
}
