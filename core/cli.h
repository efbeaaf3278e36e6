/* The vhost command line: one function per subcommand. */
#ifndef VH_CLI_H
#define VH_CLI_H
#include "vh-private.h"

G_BEGIN_DECLS
int vh_cli_run (int argc, char **argv);            /* vhost [run] --config FILE ... */
int vh_cli_check_config (int argc, char **argv);   /* vhost check-config FILE */
int vh_cli_validate (int argc, char **argv);       /* vhost validate ZIP --tasks task.csv */
int vh_cli_plugins (int argc, char **argv);        /* vhost plugins [--describe NAME] */
int vh_cli_merge (int argc, char **argv);          /* vhost merge --tasks CSV --output DIR SHARD... */
/* Loads plugins for `config_path` (may be NULL) and prints refusals. */
struct _VhRegistry *vh_cli_load_registry (const char *config_path, gboolean verbose);
void vh_cli_print_problems (GPtrArray *problems);
void vh_cli_report_refused (struct _VhRegistry *registry);
G_END_DECLS
#endif
