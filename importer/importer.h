/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf_importer internals.
 *
 * Locking: cohbuf_imp_file.lock, the only importer lock, is held while
 * calling into the dma-buf core, never the other way round: neither the
 * core nor an exporter calls back into the importer.
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
struct vm_area_struct;

/* Module parameter (main.c); read it with READ_ONCE(). */
extern int cohbuf_imp_contiguous; /* 0 or 1, shown as such in sysfs */

struct cohbuf_imp_device {
	/*
	 * The importing device: exporters map buffers for its DMA mask and
	 * max segment size. Set and cleared under
	 * kernel_param_lock(THIS_MODULE), for the max_seg_size parameter.
	 */
	struct platform_device *pdev;
	struct miscdevice misc; /* /dev/cohbuf_importer */
	struct dentry *debugfs;
	atomic_t nr_attachments; /* on all open files */
};

/* One open /dev/cohbuf_importer. */
struct cohbuf_imp_file {
	struct cohbuf_imp_device *idev;
	/*
	 * Keeps every attachment in handles alive: an attachment is used only
	 * under the lock, and freed only after it has been erased from handles
	 * under the lock. ATTACH reserves a slot and fills it without the
	 * lock (the xarray has its own); nothing else touches a reserved slot.
	 */
	struct mutex lock;
	struct xarray handles; /* from 1: struct cohbuf_imp_attachment */
};

/*
 * One imported dma-buf. map and vmapped are set under the file's lock, at
 * the first FILL or CRC32; the other fields before the attachment gets a
 * handle, and are constant afterwards.
 */
struct cohbuf_imp_attachment {
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt; /* DMA side only: DMABUF_DEBUG scrambles pages */
	struct iosys_map map; /* the whole buffer, once vmapped */
	unsigned int nents;
	bool writable; /* not exported read-only */
	bool vmapped;
};

/* attach.c: import, teardown and the handle table of an open file */
struct cohbuf_imp_file *cohbuf_imp_file_create(struct cohbuf_imp_device *idev);
void cohbuf_imp_file_destroy(struct cohbuf_imp_file *file);
struct cohbuf_imp_attachment *
cohbuf_imp_lock_lookup(struct cohbuf_imp_file *file, u32 handle);
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

/* mmap.c: user mappings forwarded to the exporter */
int cohbuf_imp_mmap(struct cohbuf_imp_file *file, struct vm_area_struct *vma);

/* debugfs.c */
void cohbuf_imp_debugfs_init(struct cohbuf_imp_device *idev);
void cohbuf_imp_debugfs_exit(struct cohbuf_imp_device *idev);

#endif /* COHBUF_IMPORTER_H */
