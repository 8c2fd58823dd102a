/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf_importer internals.
 *
 * Locking: cohbuf_imp_file.lock is held while calling into the dma-buf
 * core, never the other way round: neither the core nor an exporter calls
 * back into the importer. Asynchronous jobs never take it (job.c).
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
struct cohbuf_imp_job;
struct cohbuf_imp_wait;
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
	atomic_t nr_jobs; /* asynchronous jobs not completed */
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
 * the first FILL or CRC32; job and seqno under the file's lock too; the
 * other fields before the attachment gets a handle, and are constant
 * afterwards.
 */
struct cohbuf_imp_attachment {
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt; /* DMA side only: DMABUF_DEBUG scrambles pages */
	struct iosys_map map; /* the whole buffer, once vmapped */
	unsigned int nents;
	bool writable; /* not exported read-only */
	bool vmapped;
	/* The last asynchronous job, with a reference on its fence. */
	struct cohbuf_imp_job *job;
	u64 fence_context; /* the handle's timeline */
	u64 seqno; /* of the last job's fence */
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

/* A buffer in I/O memory is read through a bounce buffer this large. */
#define COHBUF_IMP_BOUNCE PAGE_SIZE

void cohbuf_imp_fill(const struct iosys_map *map, size_t off, size_t len,
		     u32 pattern);
u32 cohbuf_imp_crc(const struct iosys_map *map, size_t off, size_t len,
		   void *bounce);
long cohbuf_imp_ioctl_fill(struct cohbuf_imp_file *file,
			   struct cohbuf_imp_access __user *uarg);
long cohbuf_imp_ioctl_crc32(struct cohbuf_imp_file *file,
			    struct cohbuf_imp_access __user *uarg);
long cohbuf_imp_ioctl_dma_addr(struct cohbuf_imp_file *file,
			       struct cohbuf_imp_dma_addr __user *uarg);

/* job.c: asynchronous FILL and CRC32, synchronised as a device is */
int cohbuf_imp_job_init(void);
void cohbuf_imp_job_exit(void);
int cohbuf_imp_job_queue(struct cohbuf_imp_device *idev,
			 struct cohbuf_imp_attachment *a,
			 const struct cohbuf_imp_access *arg, bool fill);
void cohbuf_imp_job_cancel(struct cohbuf_imp_job *job);
void cohbuf_imp_job_put(struct cohbuf_imp_job *job);
long cohbuf_imp_ioctl_wait(struct cohbuf_imp_file *file,
			   struct cohbuf_imp_wait __user *uarg);

/* mmap.c: user mappings forwarded to the exporter */
int cohbuf_imp_mmap(struct cohbuf_imp_file *file, struct vm_area_struct *vma);

/* debugfs.c */
void cohbuf_imp_debugfs_init(struct cohbuf_imp_device *idev);
void cohbuf_imp_debugfs_exit(struct cohbuf_imp_device *idev);

#endif /* COHBUF_IMPORTER_H */
