/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf internals: the device, its buffers and their chunks.
 *
 * Lock order: the buffer's dma_resv (which the dma-buf core holds around
 * map, unmap, vmap and vunmap; on 6.1 dmabuf->lock, around vmap) or
 * cohbuf_device.lock, then cohbuf_buffer.lock, a leaf. No cohbuf lock is
 * held while calling into the dma-buf core.
 */
#ifndef COHBUF_INTERNAL_H
#define COHBUF_INTERNAL_H

#include <linux/atomic.h>
#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/mmzone.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/types.h>

struct cohbuf_dma_map;
struct dentry;
struct device;
struct dma_buf;
struct platform_device;
struct vm_area_struct;

/* Module parameters (main.c); read them with READ_ONCE(). */
extern unsigned long cohbuf_max_buffer_size;
extern unsigned long cohbuf_max_total_size;
extern unsigned long cohbuf_max_contiguous_size;

/* The largest block the buddy allocator hands out: 4 MiB on x86-64. */
#define COHBUF_CHUNK_MAX_ORDER ilog2(MAX_ORDER_NR_PAGES)

struct cohbuf_device {
	struct platform_device *pdev; /* allocates the memory; 64-bit DMA mask */
	struct platform_device *pdev32; /* the same, 32-bit: COHBUF_ALLOC_DMA32 */
	struct miscdevice misc; /* /dev/cohbuf */
	struct dentry *debugfs;

	struct mutex lock; /* protects the fields below */
	struct list_head buffers; /* published buffers */
	unsigned long nr_buffers; /* from reservation to release */
	u64 total_bytes; /* their sizes, against max_total_size */
};

/* Where a chunk's pages come from. */
enum cohbuf_chunk_source {
	COHBUF_CHUNK_COHERENT,	/* dma_alloc_attrs() (buffer.c) */
	COHBUF_CHUNK_EXACT,	/* alloc_pages_exact(), DMA-mapped (contig.c) */
	COHBUF_CHUNK_RANGE,	/* alloc_contig_range(), DMA-mapped (contig.c) */
};

/*
 * One physically contiguous allocation: a power of two pages when
 * coherent, any number of pages from contig.c.
 */
struct cohbuf_chunk {
	void *cookie; /* from dma_alloc_attrs(): only for the DMA API */
	dma_addr_t dma;
	unsigned long pfn;
	pgoff_t pgoff; /* of its first page within the buffer */
	size_t size;
	enum cohbuf_chunk_source source;
};

/*
 * The memory behind one dma-buf. The fields above node and the chunks are
 * written before the buffer is published and are constant afterwards.
 */
struct cohbuf_buffer {
	struct cohbuf_device *cdev;
	struct device *dev; /* allocates the memory and maps it for DMA */
	u32 flags; /* COHBUF_ALLOC_* */
	size_t size; /* page-rounded */
	unsigned int nr_chunks;
	struct cohbuf_chunk *chunks; /* inline_chunks, or grown by a fallback */
	pid_t pid; /* the allocating thread group */
	char comm[TASK_COMM_LEN];
	struct dma_buf *dmabuf; /* the owner */
	unsigned long ino; /* its st_ino */

	struct list_head node; /* in cdev->buffers, under cdev->lock */

	struct mutex lock; /* protects the fields below but nr_mappings */
	struct list_head dma_maps; /* one per device and direction */
	unsigned int nr_attachments;
	void *vaddr; /* while attached or vmapped: see cohbuf_buffer_vmap() */
	unsigned int vmap_count;

	atomic_t nr_mappings; /* live user VMAs */

	struct cohbuf_chunk inline_chunks[]; /* as many as no fallback needs */
};

/* main.c: a new buffer's fd, reserved first and installed last */
struct cohbuf_new_fd {
	int fd;
	struct dma_buf *dmabuf;
};

int cohbuf_new_fd_alloc(struct cohbuf_device *cdev, u64 size, u32 flags,
			u32 fd_flags, struct cohbuf_new_fd *nfd);
void cohbuf_new_fd_install(const struct cohbuf_new_fd *nfd);
void cohbuf_new_fd_abort(const struct cohbuf_new_fd *nfd);

/*
 * The state of one open file of /dev/cohbuf (file->private_data). A copy
 * inherited over fork() or passed over a socket is the same open file.
 */
struct cohbuf_file {
	struct cohbuf_device *cdev;
	/* Under cohbuf_fence_mutex (fence.c): */
	struct list_head fences; /* its listed, unsignalled fences */
	unsigned int nr_fences;
};

/* fence.c: COHBUF_IOCTL_FENCE_ATTACH and _SIGNAL */
struct cohbuf_fence_attach;
struct cohbuf_fence_signal;
struct seq_file;
long cohbuf_ioctl_fence_attach(struct cohbuf_file *owner,
			       struct cohbuf_fence_attach __user *uarg);
long cohbuf_ioctl_fence_signal(struct cohbuf_file *owner,
			       struct cohbuf_fence_signal __user *uarg);
void cohbuf_fence_file_release(struct cohbuf_file *owner);
unsigned int cohbuf_fences_live(void);
void cohbuf_fences_show(struct seq_file *m);
int cohbuf_fence_init(void);
void cohbuf_fence_exit(void);

/* heap.c: DMA_HEAP_IOCTL_ALLOC, on /dev/cohbuf and the heap nodes */
long cohbuf_heap_ioctl(struct cohbuf_device *cdev, u32 flags,
		       unsigned int cmd, void __user *uarg);
int cohbuf_heaps_register(struct cohbuf_device *cdev);
void cohbuf_heaps_unregister(void);

/* buffer.c: allocation, limits, accounting */
struct cohbuf_buffer *cohbuf_buffer_create(struct cohbuf_device *cdev,
					   u64 size, u32 flags);
void cohbuf_buffer_publish(struct cohbuf_buffer *buf, struct dma_buf *dmabuf);
void cohbuf_buffer_free(struct cohbuf_buffer *buf);
const struct cohbuf_chunk *cohbuf_buffer_chunk(const struct cohbuf_buffer *buf,
					       pgoff_t pgoff);
void *cohbuf_buffer_vmap(struct cohbuf_buffer *buf);
void cohbuf_buffer_vunmap(struct cohbuf_buffer *buf);
int cohbuf_buffer_sgt(const struct cohbuf_buffer *buf, struct sg_table *sgt,
		      size_t max_seg, unsigned long boundary);

/* contig.c: physically contiguous chunks of any size */
int cohbuf_contig_alloc(struct device *dev, struct cohbuf_chunk *chunk,
			size_t size, bool dma32);
void cohbuf_contig_free(struct device *dev, const struct cohbuf_chunk *chunk);

/* dma_map.c: DMA mappings, shared by the attachments of a device */
struct cohbuf_dma_map *cohbuf_dma_map_get(struct cohbuf_buffer *buf,
					  struct device *dev,
					  enum dma_data_direction dir);
void cohbuf_dma_map_put(struct cohbuf_buffer *buf, struct cohbuf_dma_map *map);
const struct sg_table *cohbuf_dma_map_sgt(const struct cohbuf_dma_map *map);
void cohbuf_dma_maps_sync(struct cohbuf_buffer *buf, bool for_cpu);

/* dmabuf.c: the exporter side of the dma-buf contract */
struct dma_buf *cohbuf_dmabuf_export(struct cohbuf_buffer *buf, u32 fd_flags);
struct cohbuf_buffer *cohbuf_dmabuf_buffer(struct dma_buf *dmabuf);

/* info.c: COHBUF_IOCTL_INFO */
struct cohbuf_info;
long cohbuf_ioctl_info(struct cohbuf_info __user *uarg);

/* mmap.c: the user mapping */
int cohbuf_mmap(struct cohbuf_buffer *buf, struct vm_area_struct *vma);

/* debugfs.c */
void cohbuf_debugfs_init(struct cohbuf_device *cdev);
void cohbuf_debugfs_exit(struct cohbuf_device *cdev);

#endif /* COHBUF_INTERNAL_H */
