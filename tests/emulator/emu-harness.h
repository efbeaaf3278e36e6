/* Test harness for the loopback emulator (tests/emulator/vh-emulator).
 *
 * vh_emu_start() spawns the built emulator (found through $VH_BUILDDIR, or
 * $VH_EMULATOR naming the program directly), reads its "PORT n" line and
 * keeps a pipe on its stdin, so the emulator exits as soon as the test
 * process dies, whatever way it dies.  The HTTP helpers use libcurl and are
 * meant for tests that talk to the emulator (or to its control API)
 * directly rather than through a plugin. */
#ifndef VH_EMU_HARNESS_H
#define VH_EMU_HARNESS_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VhEmu VhEmu;

/* config_json: an initial configuration (README.md), restored by reset; NULL for none. */
VhEmu      *vh_emu_start        (const char *config_json, GError **error);
/* extra_argv: more command-line options, e.g. {"--lifetime", "2", NULL}. */
VhEmu      *vh_emu_start_full   (const char *config_json, const char *const *extra_argv, GError **error);
const char *vh_emu_base_url     (VhEmu *emu);         /* "http://127.0.0.1:PORT" */
guint       vh_emu_port         (VhEmu *emu);
/* POST /_emu/config: merges `json` into the live configuration. */
gboolean    vh_emu_configure    (VhEmu *emu, const char *json, GError **error);
/* POST /_emu/reset. */
gboolean    vh_emu_reset        (VhEmu *emu, GError **error);
gchar      *vh_emu_requests_json (VhEmu *emu);        /* GET /_emu/requests; NULL on failure */
gchar      *vh_emu_stats_json   (VhEmu *emu);         /* GET /_emu/stats; NULL on failure */
/* Sends a signal (e.g. SIGTERM) to the emulator process. */
void        vh_emu_signal       (VhEmu *emu, int signum);
/* Exit status once exited (after vh_emu_wait_exit() returned TRUE), else -1. */
gint        vh_emu_exit_status  (VhEmu *emu);
/* TRUE when the emulator process has exited within timeout_ms. */
gboolean    vh_emu_wait_exit    (VhEmu *emu, gint timeout_ms);
/* Closes the stdin pipe (the emulator exits), waits, SIGKILLs after 5 s. */
void        vh_emu_stop         (VhEmu *emu);

/* ------------------------------------------------------------ raw HTTP */

typedef struct {
  int     curl_code;        /* CURLE_OK (0) or the transfer error (28 timeout, 18 partial ...) */
  long    status;           /* HTTP status, 0 when none was received */
  GBytes *body;             /* never NULL */
  gchar **headers;          /* "name: value", names lower-cased */
} VhEmuResponse;

/* One request.  headers: NULL-terminated "Name: value" lines or NULL.
 * body: NULL for none (GET unless method says otherwise).
 * timeout_ms: 0 = 30 s. */
VhEmuResponse *vh_emu_http       (const char *method, const char *url, const char *const *headers,
                                  const void *body, gsize body_len, glong timeout_ms);
/* multipart/form-data POST: fields is a NULL-terminated name,value,... list;
 * the file part (named "file") goes last, as OSS requires. */
VhEmuResponse *vh_emu_http_form  (const char *url, const char *const *fields, const char *file_name,
                                  GBytes *file);
const char    *vh_emu_response_header (const VhEmuResponse *resp, const char *name);
const char    *vh_emu_response_text   (const VhEmuResponse *resp);  /* body, NUL-terminated */
void           vh_emu_response_free   (VhEmuResponse *resp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VhEmuResponse, vh_emu_response_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VhEmu, vh_emu_stop)

G_END_DECLS
#endif
