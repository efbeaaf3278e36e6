/* vh-emulator: a loopback emulator of DashScope and Black Forest Labs.
 *
 *   vh-emulator [--port N] [--config FILE.json] [--lifetime SECONDS]
 *               [--keys KEY,...] [--ignore-stdin]
 *
 * Binds 127.0.0.1 only, prints "PORT <n>" once listening, and exits on
 * SIGTERM/SIGINT, when the lifetime ends, or when stdin reaches EOF: the
 * parent (a test) keeps a pipe on our stdin, so a crashed test can never
 * leave an emulator behind. */
#include "emu.h"
#include <glib-unix.h>
#include <stdio.h>
#include <unistd.h>

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_CONTINUE;    /* removed by main() on the way out */
}

static gboolean
stdin_cb (gint fd, GIOCondition cond, gpointer data)
{
  char buf[256];
  ssize_t n = (cond & G_IO_IN) ? read (fd, buf, sizeof buf) : 0;
  if (n > 0)
    return G_SOURCE_CONTINUE;      /* input is ignored; only EOF matters */
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  gint port = 0, lifetime = 600;
  gchar *config_path = NULL, *keys = NULL;
  gboolean ignore_stdin = FALSE;
  GOptionEntry entries[] = {
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "TCP port on 127.0.0.1 (0 = any free port)", "N" },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_path, "initial configuration (JSON, see README.md)", "FILE" },
    { "lifetime", 0, 0, G_OPTION_ARG_INT, &lifetime, "exit after this many seconds (0 = never; default 600)", "S" },
    { "keys", 0, 0, G_OPTION_ARG_STRING, &keys, "accepted API keys, comma-separated; prefix bfl: or dashscope: to limit one to a family", "K,..." },
    { "ignore-stdin", 0, 0, G_OPTION_ARG_NONE, &ignore_stdin, "do not exit at EOF on stdin (manual runs)", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL }
  };
  GError *error = NULL;
  GOptionContext *ctx = g_option_context_new ("- loopback DashScope / BFL emulator");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "vh-emulator: %s\n", error->message);
      return 2;
    }
  g_option_context_free (ctx);

  json_object *config = NULL;
  if (config_path)
    {
      config = json_object_from_file (config_path);
      if (!config)
        {
          fprintf (stderr, "vh-emulator: cannot read %s: %s\n", config_path, json_util_get_last_err ());
          return 2;
        }
    }
  if (port < 0 || port > 65535)
    {
      fprintf (stderr, "vh-emulator: bad --port\n");
      return 2;
    }
  EmuServer *emu = emu_server_new ((guint) port, config, keys, &error);
  if (config)
    json_object_put (config);
  if (!emu)
    {
      fprintf (stderr, "vh-emulator: %s\n", error->message);
      g_error_free (error);
      return 1;
    }
  emu->loop = g_main_loop_new (NULL, FALSE);
  guint sig_term = g_unix_signal_add (SIGTERM, quit_cb, emu->loop);
  guint sig_int = g_unix_signal_add (SIGINT, quit_cb, emu->loop);
  guint life = lifetime > 0 ? g_timeout_add_seconds ((guint) lifetime, quit_cb, emu->loop) : 0;
  guint watch = ignore_stdin ? 0 : g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_cb, emu->loop);

  printf ("PORT %u\n", emu->port);
  fflush (stdout);
  g_main_loop_run (emu->loop);

  g_source_remove (sig_term);
  g_source_remove (sig_int);
  if (life)
    g_source_remove (life);
  GMainContext *mc = g_main_context_default ();
  GSource *s;
  if (watch && (s = g_main_context_find_source_by_id (mc, watch)))
    g_source_destroy (s);
  GMainLoop *loop = emu->loop;
  emu_server_free (emu);
  g_main_loop_unref (loop);
  g_free (config_path);
  g_free (keys);
  return 0;
}
