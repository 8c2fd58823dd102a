// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/cohbuf_importer/attachments and jobs (those not
 * completed), for leak checks.
 */
#include <linux/debugfs.h>

#include "importer.h"

/* debugfs is optional, and its API takes the error pointers it returns. */
void cohbuf_imp_debugfs_init(struct cohbuf_imp_device *idev)
{
	idev->debugfs = debugfs_create_dir("cohbuf_importer", NULL);
	debugfs_create_atomic_t("attachments", 0444, idev->debugfs,
				&idev->nr_attachments);
	debugfs_create_atomic_t("jobs", 0444, idev->debugfs, &idev->nr_jobs);
}

void cohbuf_imp_debugfs_exit(struct cohbuf_imp_device *idev)
{
	debugfs_remove_recursive(idev->debugfs);
}
