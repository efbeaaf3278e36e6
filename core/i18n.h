/* gettext wrappers for user-facing messages. */
#ifndef VH_I18N_H
#define VH_I18N_H
#include "config.h"
#include <glib/gi18n-lib.h>
#endif
