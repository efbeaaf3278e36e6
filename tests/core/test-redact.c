/* log.c and vh_config_get_secret(): a secret, once registered, never shows
 * up in a log line or a redacted string. */
#include "util.h"
#include "vh-config.h"
#include <string.h>

static void
collect (const char *line, gpointer data)
{
  g_ptr_array_add (data, g_strdup (line));
}

static void
test_redact_every_occurrence (void)
{
  const char *secret = "tok-5f2c9e1d7a";
  g_autofree gchar *before = vh_redact (secret);
  g_assert_cmpstr (before, ==, secret);         /* nothing registered yet */
  vh_redact_register (secret);
  vh_redact_register (secret);                  /* twice is the same as once */
  g_autofree gchar *r = vh_redact ("Authorization: Bearer tok-5f2c9e1d7a; again tok-5f2c9e1d7atok-5f2c9e1d7a.");
  g_assert_cmpstr (r, ==, "Authorization: Bearer ***; again ******.");
  g_assert_null (vh_redact (NULL));
}

static void
test_redact_longest_first (void)
{
  /* A secret that contains another is replaced whole, not in pieces. */
  vh_redact_register ("abcd1234");
  vh_redact_register ("abcd1234-extended-part");
  g_autofree gchar *r = vh_redact ("k=abcd1234-extended-part k2=abcd1234");
  g_assert_cmpstr (r, ==, "k=*** k2=***");
}

static void
test_short_values_ignored (void)
{
  vh_redact_register ("ab");
  vh_redact_register ("");
  vh_redact_register (NULL);
  g_autofree gchar *r = vh_redact ("a cab and a crab");
  g_assert_cmpstr (r, ==, "a cab and a crab");
}

static void
test_log_sink_is_redacted (void)
{
  const char *secret = "sk-logline-0192837465";
  vh_redact_register (secret);
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  vh_log_set_sink (collect, lines);
  vh_log (VH_LOG_WARNING, "wanx", "HTTP 401 for key %s (header Authorization: Bearer %s)", secret, secret);
  vh_log (VH_LOG_INFO, NULL, "plain line");
  vh_log (VH_LOG_DEBUG, "wanx", "debug is off by default %s", secret);
  vh_log_set_sink (NULL, NULL);

  g_assert_cmpuint (lines->len, ==, 2);
  if (lines->len != 2)
    return;
  const char *first = lines->pdata[0];
  g_assert_null (strstr (first, secret));
  g_assert_null (strstr (first, "0192837465"));
  g_assert_nonnull (strstr (first, "HTTP 401 for key *** (header Authorization: Bearer ***)"));
  g_assert_nonnull (strstr (first, "warning [wanx]"));
  g_assert_nonnull (strstr (lines->pdata[1], "info [vhost] plain line"));
}

static const VhOption schema[] = {
  { "api_key_env", VH_OPT_ENV, "VH_TEST_REDACT_KEY", "variable holding the key", NULL },
  { NULL, 0, NULL, NULL, NULL },
};

static void
test_config_get_secret (void)
{
  const char *value = "sk-from-the-environment-55aa";
  g_setenv ("VH_TEST_REDACT_KEY", value, TRUE);
  GError *error = NULL;
  g_autoptr (VhConfig) config = vh_config_new_for_test ("wanx-main", schema, NULL, &error);
  g_assert_no_error (error);

  g_autofree gchar *plain = vh_redact (value);
  g_assert_cmpstr (plain, ==, value);                 /* not known before it is read */
  g_autofree gchar *secret = vh_config_get_secret (config, "api_key_env", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, value);
  g_autofree gchar *r = vh_redact ("echo: sk-from-the-environment-55aa");
  g_assert_cmpstr (r, ==, "echo: ***");             /* registered by reading it */

  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  vh_log_set_sink (collect, lines);
  vh_log (VH_LOG_ERROR, "test", "%s", secret);
  vh_log_set_sink (NULL, NULL);
  g_assert_cmpuint (lines->len, ==, 1);
  if (lines->len == 1)
    g_assert_null (strstr (lines->pdata[0], value));
  g_unsetenv ("VH_TEST_REDACT_KEY");
}

static void
test_config_secret_unset (void)
{
  g_unsetenv ("VH_TEST_UNSET_KEY_VAR");
  GError *error = NULL;
  g_autoptr (VhConfig) config = vh_config_new_for_test ("wanx-main", schema,
      (const char *const[]) { "api_key_env", "VH_TEST_UNSET_KEY_VAR", NULL }, &error);
  g_assert_no_error (error);
  g_assert_null (vh_config_get_secret (config, "api_key_env", &error));
  g_assert_error (error, VH_ERROR, VH_ERROR_AUTH);
  if (error)
    {
      g_assert_nonnull (strstr (error->message, "VH_TEST_UNSET_KEY_VAR"));
      g_assert_nonnull (strstr (error->message, "wanx-main"));
    }
  g_clear_error (&error);

  g_setenv ("VH_TEST_UNSET_KEY_VAR", "", TRUE);   /* empty counts as unset */
  g_assert_null (vh_config_get_secret (config, "api_key_env", &error));
  g_assert_error (error, VH_ERROR, VH_ERROR_AUTH);
  g_clear_error (&error);
  g_unsetenv ("VH_TEST_UNSET_KEY_VAR");
}

int
main (int argc, char **argv)
{
  tu_init (&argc, &argv);
  g_test_add_func ("/redact/every-occurrence", test_redact_every_occurrence);
  g_test_add_func ("/redact/longest-first", test_redact_longest_first);
  g_test_add_func ("/redact/short-values-ignored", test_short_values_ignored);
  g_test_add_func ("/redact/log-sink", test_log_sink_is_redacted);
  g_test_add_func ("/redact/config-get-secret", test_config_get_secret);
  g_test_add_func ("/redact/config-secret-unset", test_config_secret_unset);
  return g_test_run ();
}
