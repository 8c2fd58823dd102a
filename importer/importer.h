/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf_importer internals: the device, the open files and their
 * attachments.
 *
 * Locking: cohbuf_imp_file.lock is the only importer lock. It is held
 * while calling into the dma-buf core (CPU access, which takes the
 * exporter's locks), never the other way round: neither the core nor an
 * exporter calls back into the importer. The module parameter
 * max_seg_size is applied under kernel_param_lock(THIS_MODULE).
 */
#ifndef COHBUF_IMPORTER_H
#define COHBUF_IMPORTER_H

#include <linux/atomic.h>
#include <linux/compiler_types.h>
#include <linux/iosys-map.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/xarray.h>

struct cohbuf_imp_access;
struct cohbuf_imp_attach;
struct cohbuf_imp_detach;
struct cohbuf_imp_dma_addr;
struct dentry;
struct dma_buf;
struct dma_buf_attachment;
struct platform_device;
struct sg_table;

/**
 * struct cohbuf_imp_device - the one importer instance
 * @pdev: the importing device: its DMA mask and dma_parms (max segment
 *	size) are what exporters map the buffers for. Set and cleared under
 *	kernel_param_lock(THIS_MODULE), which the max_seg_size parameter
 *	takes to reach it; constant while /dev/cohbuf_importer exists
 * @misc: /dev/cohbuf_importer
 * @debugfs: /sys/kernel/debug/cohbuf_importer
 * @nr_attachments: live attachments on all open files; atomic, no lock
 */
struct cohbuf_imp_device {
	struct platform_device *pdev;
	struct miscdevice misc;
	struct dentry *debugfs;
	atomic_t nr_attachments;
};

/**
 * struct cohbuf_imp_file - one open /dev/cohbuf_importer
 * @idev: the device
 * @lock: protects @handles, and keeps every attachment in it alive: an
 *	attachment is used only under @lock, and freed only after it has
 *	been erased from @handles under @lock
 * @handles: handle -> struct cohbuf_imp_attachment, allocated from 1
 */
struct cohbuf_imp_file {
	struct cohbuf_imp_device *idev;
	struct mutex lock; /* protects handles */
	struct xarray handles;
};

/**
 * struct cohbuf_imp_attachment - one imported dma-buf
 * @dmabuf: the reference from dma_buf_get(), dropped at teardown
 * @attach: the importing device's attachment
 * @sgt: the DMA mapping of @attach (DMA_BIDIRECTIONAL); only its DMA
 *	addresses and lengths are read, never its pages
 * @map: the kernel mapping of the whole buffer, valid when @vmapped
 * @nents: DMA segments in @sgt
 * @writable: the dma-buf's file is writable (not exported read-only)
 * @vmapped: @map is set; from the first CPU access (cohbuf_imp_vmap()) on
 *
 * @map and @vmapped are set under the owning file's lock, at the first
 * FILL or CRC32. Every other field is set before the attachment gets a
 * handle, and is constant afterwards.
 */
struct cohbuf_imp_attachment {
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	struct iosys_map map;
	unsigned int nents;
	bool writable;
	bool vmapped;
};

/* attach.c: import, teardown and the handle table of an open file */
struct cohbuf_imp_file *cohbuf_imp_file_create(struct cohbuf_imp_device *idev);
void cohbuf_imp_file_destroy(struct cohbuf_imp_file *file);
struct cohbuf_imp_attachment *cohbuf_imp_lookup(struct cohbuf_imp_file *file,
						u32 handle);
long cohbuf_imp_ioctl_attach(struct cohbuf_imp_file *file,
			     struct cohbuf_imp_attach __user *uarg);
long cohbuf_imp_ioctl_detach(struct cohbuf_imp_file *file,
			     struct cohbuf_imp_detach __user *uarg);
int cohbuf_imp_vmap(struct cohbuf_imp_file *file,
		    struct cohbuf_imp_attachment *a);

/* access.c: CPU access through the kernel mapping, and DMA addresses */
long cohbuf_imp_ioctl_fill(struct cohbuf_imp_file *file,
			   struct cohbuf_imp_access __user *uarg);
long cohbuf_imp_ioctl_crc32(struct cohbuf_imp_file *file,
			    struct cohbuf_imp_access __user *uarg);
long cohbuf_imp_ioctl_dma_addr(struct cohbuf_imp_file *file,
			       struct cohbuf_imp_dma_addr __user *uarg);

/* debugfs.c */
void cohbuf_imp_debugfs_init(struct cohbuf_imp_device *idev);
void cohbuf_imp_debugfs_exit(struct cohbuf_imp_device *idev);

#endif /* COHBUF_IMPORTER_H */
