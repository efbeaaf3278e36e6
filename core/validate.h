/* `vhost validate`: checks a submission zip the way the contest does and
 * lists every problem, not just the first. */
#ifndef VH_VALIDATE_H
#define VH_VALIDATE_H
#include "vh-private.h"

G_BEGIN_DECLS
/* Appends one line per problem to `problems`; returns the number of images checked. */
guint vh_validate_zip (const char *zip_path, const char *tasks_path, guint64 max_bytes, GPtrArray *problems);
G_END_DECLS
#endif
