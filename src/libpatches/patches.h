/* patches.h: the libpatches umbrella header
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "patches-error.h"
#include "ops/patches-value.h"
#include "ops/patches-pointer.h"
#include "ops/patches-delta.h"
#include "ops/patches-text.h"
#include "ops/patches-op.h"
#include "ops/patches-patch.h"
#include "ops/patches-fractional.h"
#include "ot/patches-change.h"
#include "ot/patches-ot.h"
#include "ot/patches-batch.h"
#include "ot/patches-commit.h"
