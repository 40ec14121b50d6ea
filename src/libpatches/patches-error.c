/* patches-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "patches-error.h"

G_DEFINE_QUARK (patches-error-quark, patches_error)
