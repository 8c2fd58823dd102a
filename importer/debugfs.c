// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/cohbuf_importer: what is alive, for leak checks.
 *
 *   attachments   live attachments, on all open files together
 *
 * The exporter's side (which buffers have how many attachments) is in its
 * own debugfs, e.g. /sys/kernel/debug/cohbuf/buffers, and in
 * /sys/kernel/debug/dma_buf/bufinfo, which names each attached device.
 */
#include <linux/debugfs.h>

#include "importer.h"

/**
 * cohbuf_imp_debugfs_init() - create /sys/kernel/debug/cohbuf_importer
 * @idev: the device
 *
 * debugfs is optional: failures are not errors, and the debugfs API
 * ignores the error pointers it hands out.
 */
void cohbuf_imp_debugfs_init(struct cohbuf_imp_device *idev)
{
	idev->debugfs = debugfs_create_dir("cohbuf_importer", NULL);
	debugfs_create_atomic_t("attachments", 0444, idev->debugfs,
				&idev->nr_attachments);
}

/**
 * cohbuf_imp_debugfs_exit() - remove /sys/kernel/debug/cohbuf_importer
 * @idev: the device
 */
void cohbuf_imp_debugfs_exit(struct cohbuf_imp_device *idev)
{
	debugfs_remove_recursive(idev->debugfs);
}
