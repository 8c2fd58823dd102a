/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf internals: the device, its buffers and their attachments.
 *
 * Locking, outermost first:
 *   the buffer's dma_resv (held by the dma-buf core around map, unmap, vmap
 *   and vunmap on 6.2+; on 6.1, dmabuf->lock around vmap), or
 *   cohbuf_device.lock (debugfs walking the buffer list)
 *     -> cohbuf_buffer.lock
 * cohbuf_buffer.lock is a leaf: nothing is taken under it. No cohbuf lock
 * is held while calling into the dma-buf core.
 */
#ifndef COHBUF_INTERNAL_H
#define COHBUF_INTERNAL_H

#include <linux/atomic.h>
#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
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

/**
 * struct cohbuf_device - the one cohbuf instance
 * @pdev: platform device that allocates the memory; 64-bit DMA mask
 * @misc: /dev/cohbuf
 * @debugfs: /sys/kernel/debug/cohbuf
 * @lock: protects @buffers, @nr_buffers and @total_bytes
 * @buffers: published buffers, linked by cohbuf_buffer.node
 * @nr_buffers: buffers from reservation to release, published or not
 * @total_bytes: their page-rounded sizes, checked against max_total_size
 */
struct cohbuf_device {
	struct platform_device *pdev;
	struct miscdevice misc;
	struct dentry *debugfs;

	struct mutex lock; /* protects the fields below */
	struct list_head buffers;
	unsigned long nr_buffers;
	u64 total_bytes;
};

/**
 * struct cohbuf_chunk - one coherent DMA allocation
 * @cookie: what dma_alloc_attrs() returned, with DMA_ATTR_NO_KERNEL_MAPPING:
 *	    opaque, only handed back to the DMA API
 * @dma: its DMA address on the cohbuf device
 * @pfn: first page frame; a chunk is physically contiguous
 * @pgoff: offset of the chunk's first page within the buffer, in pages
 * @size: bytes, a power-of-two number of pages
 */
struct cohbuf_chunk {
	void *cookie;
	dma_addr_t dma;
	unsigned long pfn;
	pgoff_t pgoff;
	size_t size;
};

/**
 * struct cohbuf_buffer - memory behind one dma-buf
 * @cdev: owning device
 * @size: page-rounded size in bytes
 * @nr_chunks: entries used in @chunks
 * @chunks: the allocations, in buffer order
 * @pid: thread group of the allocating process
 * @comm: its command name at allocation
 * @dmabuf: the dma-buf that owns this buffer, set when published
 * @ino: inode number of @dmabuf's file (its st_ino), set when published
 * @node: entry in cohbuf_device.buffers, under cohbuf_device.lock
 * @lock: protects @dma_maps, @nr_attachments, @vaddr and @vmap_count
 * @dma_maps: struct cohbuf_dma_map.node list: the buffer's DMA mappings, one
 *	per device and direction (dma_map.c)
 * @nr_attachments: attachments, mapped or not
 * @vaddr: contiguous kernel mapping, made by the first attach or vmap and
 *	kept until the buffer is freed (see cohbuf_buffer_vmap())
 * @vmap_count: vmap references
 * @nr_mappings: live user VMAs; atomic, no lock
 * @inline_chunks: room for as many chunks as a buffer of this size has
 *	when no allocation order fails; @chunks points here unless a fallback
 *	to lower orders outgrew it
 *
 * Everything above @node, and @inline_chunks, is written before the buffer
 * is published and is constant afterwards.
 */
struct cohbuf_buffer {
	struct cohbuf_device *cdev;
	size_t size;
	unsigned int nr_chunks;
	struct cohbuf_chunk *chunks;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	struct dma_buf *dmabuf;
	unsigned long ino;

	struct list_head node;

	struct mutex lock; /* protects the fields below, but nr_mappings */
	struct list_head dma_maps;
	unsigned int nr_attachments;
	void *vaddr;
	unsigned int vmap_count;

	atomic_t nr_mappings;

	struct cohbuf_chunk inline_chunks[];
};

/* buffer.c: allocation, limits, accounting */
struct cohbuf_buffer *cohbuf_buffer_create(struct cohbuf_device *cdev,
					   u64 size);
void cohbuf_buffer_publish(struct cohbuf_buffer *buf, struct dma_buf *dmabuf);
void cohbuf_buffer_free(struct cohbuf_buffer *buf);
const struct cohbuf_chunk *cohbuf_buffer_chunk(const struct cohbuf_buffer *buf,
					       pgoff_t pgoff);
void *cohbuf_buffer_vmap(struct cohbuf_buffer *buf);
int cohbuf_buffer_sgt(const struct cohbuf_buffer *buf, struct sg_table *sgt,
		      unsigned int max_seg);

/* dma_map.c: DMA mappings, shared by the attachments of a device */
struct cohbuf_dma_map *cohbuf_dma_map_get(struct cohbuf_buffer *buf,
					  struct device *dev,
					  enum dma_data_direction dir);
void cohbuf_dma_map_put(struct cohbuf_buffer *buf, struct cohbuf_dma_map *map);
const struct sg_table *cohbuf_dma_map_sgt(const struct cohbuf_dma_map *map);
void cohbuf_dma_maps_sync(struct cohbuf_buffer *buf, bool for_cpu);

/* dmabuf.c: the exporter side of the dma-buf contract */
struct dma_buf *cohbuf_dmabuf_export(struct cohbuf_buffer *buf, u32 fd_flags);

/* mmap.c: the user mapping */
int cohbuf_mmap(struct cohbuf_buffer *buf, struct vm_area_struct *vma);

/* debugfs.c */
void cohbuf_debugfs_init(struct cohbuf_device *cdev);
void cohbuf_debugfs_exit(struct cohbuf_device *cdev);

#endif /* COHBUF_INTERNAL_H */
