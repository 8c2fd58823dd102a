// SPDX-License-Identifier: GPL-2.0
/* MODULE_IMPORT_NS() takes a bare token up to 6.12 and a string from 6.13. */
#include <linux/module.h>

MODULE_IMPORT_NS(DMA_BUF);
