// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf buffers: chunked coherent allocation, size limits and accounting.
 *
 * Without CMA, one coherent allocation is at most one buddy block (4 MiB on
 * x86-64) and is rounded up to a power of two, so a buffer is made of
 * power-of-two chunks, largest first, each falling back to lower orders
 * when memory is fragmented.
 *
 * Each chunk is zeroed once: dma-direct skips its memset() for
 * DMA_ATTR_NO_KERNEL_MAPPING, and the page allocator has zeroed the pages
 * already when init_on_alloc is on (Debian's default).
 */
#include <linux/bitops.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/platform_device.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>

#include <cohbuf.h>

#include "cohbuf_internal.h"

/* No kernel mapping, so no memset() in dma-direct. */
#define COHBUF_ALLOC_ATTRS DMA_ATTR_NO_KERNEL_MAPPING

/* Sized by the request: failing is ENOMEM, never a warning or an OOM kill. */
#define COHBUF_GFP_ARRAY (GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL)

/* The share of RAM left available to everything else: 1/32. */
#define COHBUF_RESERVE_SHIFT 5

/*
 * A request larger than all of memory can never succeed: refuse it at once
 * rather than drain memory first.
 */
static int cohbuf_size_check(u64 size, u32 flags)
{
	if (!size || size > SIZE_MAX - (PAGE_SIZE - 1))
		return -EINVAL;
	if (PAGE_ALIGN(size) > READ_ONCE(cohbuf_max_buffer_size))
		return -EFBIG;
	if ((flags & COHBUF_ALLOC_CONTIGUOUS) &&
	    PAGE_ALIGN(size) > READ_ONCE(cohbuf_max_contiguous_size))
		return -E2BIG;
	if (PAGE_ALIGN(size) >> PAGE_SHIFT > totalram_pages())
		return -ENOMEM;
	return 0;
}

static int cohbuf_reserve(struct cohbuf_device *cdev, size_t size)
{
	unsigned long max = READ_ONCE(cohbuf_max_total_size);
	int ret = 0;

	mutex_lock(&cdev->lock);
	if (cdev->total_bytes > max || size > max - cdev->total_bytes) {
		ret = -ENOMEM;
	} else {
		cdev->total_bytes += size;
		cdev->nr_buffers++;
	}
	mutex_unlock(&cdev->lock);
	return ret;
}

static void cohbuf_unreserve(struct cohbuf_device *cdev, size_t size)
{
	mutex_lock(&cdev->lock);
	cdev->total_bytes -= size;
	cdev->nr_buffers--;
	mutex_unlock(&cdev->lock);
}

/*
 * The cohbuf device is never behind an IOMMU: dma-direct describes a chunk
 * as one sg entry, one contiguous run of pages, or cohbuf cannot map it.
 */
static int cohbuf_chunk_pfn(struct device *dev, struct cohbuf_chunk *chunk)
{
	struct sg_table sgt;
	int ret;

	ret = dma_get_sgtable_attrs(dev, &sgt, chunk->cookie, chunk->dma,
				    chunk->size, COHBUF_ALLOC_ATTRS);
	if (ret)
		return ret;
	if (sgt.orig_nents == 1)
		chunk->pfn = page_to_pfn(sg_page(sgt.sgl));
	else
		ret = -EIO;
	sg_free_table(&sgt);
	return ret;
}

/*
 * Whether @size more bytes leave 1/32 of RAM available to the rest of the
 * system. The memory is charged to no process: were it to take the last
 * of it, the OOM killer would kill innocent processes and free no buffer.
 */
static bool cohbuf_memory_left(size_t size)
{
	unsigned long reserve = totalram_pages() >> COHBUF_RESERVE_SHIFT;
	unsigned long need = (size >> PAGE_SHIFT) + reserve;

	/* si_mem_available() walks every zone: not while free pages suffice. */
	if (global_zone_page_state(NR_FREE_PAGES) > need + reserve)
		return true;
	return si_mem_available() > (long)need;
}

/*
 * Without init_on_alloc, a chunk that dma-direct cleared anyway (in a
 * confidential-computing guest, from a restricted pool) is cleared twice:
 * only slower.
 */
static void cohbuf_chunk_zero(const struct cohbuf_chunk *chunk, gfp_t gfp)
{
	unsigned long i;

	if (want_init_on_alloc(gfp))
		return;
	for (i = 0; i < chunk->size >> PAGE_SHIFT; i++) {
		clear_highpage(pfn_to_page(chunk->pfn + i));
		if (!((i + 1) % 256))
			cond_resched();
	}
}

/*
 * One zeroed chunk of at most @remaining bytes, at the largest order that
 * fits and succeeds, but none above *@max_order: an order that failed is
 * not tried again for the following chunks.
 */
static int cohbuf_chunk_alloc(struct device *dev, struct cohbuf_chunk *chunk,
			      size_t remaining, unsigned int *max_order)
{
	unsigned int order =
		min_t(unsigned int, ilog2(remaining >> PAGE_SHIFT), *max_order);
	gfp_t gfp;
	int ret;

	/* Short of memory is ENOMEM at once; a lower order is no way out. */
	if (!cohbuf_memory_left(PAGE_SIZE << order))
		return -ENOMEM;
	for (;;) {
		/* Fail fast at high orders: a lower order is the fallback. */
		gfp = GFP_KERNEL | __GFP_NOWARN |
		      (order ? __GFP_NORETRY : __GFP_RETRY_MAYFAIL);
		chunk->size = PAGE_SIZE << order;
		chunk->cookie = dma_alloc_attrs(dev, chunk->size, &chunk->dma,
						gfp, COHBUF_ALLOC_ATTRS);
		if (chunk->cookie)
			break;
		if (!order)
			return -ENOMEM;
		*max_order = --order;
	}

	chunk->source = COHBUF_CHUNK_COHERENT;
	ret = cohbuf_chunk_pfn(dev, chunk);
	if (ret == -EIO)
		dev_err_ratelimited(dev, "coherent chunk is not contiguous\n");
	if (ret) {
		dma_free_attrs(dev, chunk->size, chunk->cookie, chunk->dma,
			       COHBUF_ALLOC_ATTRS);
		return ret;
	}
	cohbuf_chunk_zero(chunk, gfp);
	return 0;
}

static void cohbuf_chunks_free(struct cohbuf_buffer *buf)
{
	unsigned int i;

	for (i = 0; i < buf->nr_chunks; i++) {
		struct cohbuf_chunk *chunk = &buf->chunks[i];

		if (chunk->source == COHBUF_CHUNK_COHERENT)
			dma_free_attrs(buf->dev, chunk->size, chunk->cookie,
				       chunk->dma, COHBUF_ALLOC_ATTRS);
		else
			cohbuf_contig_free(buf->dev, chunk);
		cond_resched();
	}
	buf->nr_chunks = 0;
	if (buf->chunks != buf->inline_chunks)
		kvfree(buf->chunks);
	buf->chunks = NULL;
}

/*
 * Chunks of a buffer of @size bytes when no order fails: one per set bit of
 * its page count below the top order, plus one per top-order block.
 */
static unsigned int cohbuf_chunks_expected(size_t size)
{
	unsigned long pages = size >> PAGE_SHIFT;

	return (pages >> COHBUF_CHUNK_MAX_ORDER) +
	       hweight_long(pages & (BIT(COHBUF_CHUNK_MAX_ORDER) - 1));
}

/* Only a fallback to lower orders outgrows inline_chunks: double then. */
static int cohbuf_chunks_grow(struct cohbuf_buffer *buf, unsigned int *cap)
{
	struct cohbuf_chunk *chunks;
	unsigned int new_cap = *cap * 2;

	if (buf->nr_chunks < *cap)
		return 0;
	chunks = kvmalloc_array(new_cap, sizeof(*chunks), COHBUF_GFP_ARRAY);
	if (!chunks)
		return -ENOMEM;
	memcpy(chunks, buf->chunks, buf->nr_chunks * sizeof(*chunks));
	if (buf->chunks != buf->inline_chunks)
		kvfree(buf->chunks);
	buf->chunks = chunks;
	*cap = new_cap;
	return 0;
}

static int cohbuf_chunks_alloc(struct cohbuf_buffer *buf, unsigned int cap)
{
	struct device *dev = buf->dev;
	unsigned int max_order = COHBUF_CHUNK_MAX_ORDER;
	size_t done = 0;
	int ret;

	while (done < buf->size) {
		struct cohbuf_chunk *chunk;

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto free_chunks;
		}
		ret = cohbuf_chunks_grow(buf, &cap);
		if (ret)
			goto free_chunks;
		chunk = &buf->chunks[buf->nr_chunks];
		ret = cohbuf_chunk_alloc(dev, chunk, buf->size - done,
					 &max_order);
		if (ret)
			goto free_chunks;
		chunk->pgoff = done >> PAGE_SHIFT;
		done += chunk->size;
		buf->nr_chunks++;
		cond_resched();
	}
	return 0;

free_chunks:
	cohbuf_chunks_free(buf);
	return ret;
}

/* A contiguous buffer: one chunk of exactly its size (contig.c). */
static int cohbuf_chunk_contig(struct cohbuf_buffer *buf)
{
	struct cohbuf_chunk *chunk = &buf->chunks[0];
	int ret;

	if (!cohbuf_memory_left(buf->size))
		return -ENOMEM;
	ret = cohbuf_contig_alloc(buf->dev, chunk, buf->size,
				  buf->flags & COHBUF_ALLOC_DMA32);
	if (ret)
		return ret;
	chunk->pgoff = 0;
	cohbuf_chunk_zero(chunk, GFP_KERNEL);
	buf->nr_chunks = 1;
	return 0;
}

/**
 * cohbuf_buffer_create() - allocate a zeroed buffer of DMA memory
 * @cdev: the cohbuf device
 * @size: requested size in bytes, rounded up to whole pages
 * @flags: COHBUF_ALLOC_* flags, already checked
 *
 * Return: the buffer, or an ERR_PTR() with an errno of COHBUF_IOCTL_ALLOC
 * (uapi/cohbuf.h), or -EINTR if the caller is killed.
 */
struct cohbuf_buffer *cohbuf_buffer_create(struct cohbuf_device *cdev, u64 size,
					   u32 flags)
{
	bool contig = flags & COHBUF_ALLOC_CONTIGUOUS;
	struct cohbuf_buffer *buf;
	unsigned int expected;
	int ret;

	ret = cohbuf_size_check(size, flags);
	if (ret)
		return ERR_PTR(ret);
	size = PAGE_ALIGN(size);

	ret = cohbuf_reserve(cdev, size);
	if (ret)
		return ERR_PTR(ret);

	/* kvzalloc(): a max_buffer_size of gigabytes means thousands of chunks. */
	expected = contig ? 1 : cohbuf_chunks_expected(size);
	buf = kvzalloc(struct_size(buf, inline_chunks, expected),
		       COHBUF_GFP_ARRAY);
	if (!buf) {
		ret = -ENOMEM;
		goto unreserve;
	}
	buf->chunks = buf->inline_chunks;
	buf->cdev = cdev;
	buf->dev = flags & COHBUF_ALLOC_DMA32 ? &cdev->pdev32->dev :
						&cdev->pdev->dev;
	buf->flags = flags;
	buf->size = size;
	buf->pid = task_tgid_nr(current);
	get_task_comm(buf->comm, current);
	INIT_LIST_HEAD(&buf->node);
	mutex_init(&buf->lock);
	INIT_LIST_HEAD(&buf->dma_maps);
	atomic_set(&buf->nr_mappings, 0);

	ret = contig ? cohbuf_chunk_contig(buf) :
		       cohbuf_chunks_alloc(buf, expected);
	if (ret)
		goto free_buffer;
	return buf;

free_buffer:
	mutex_destroy(&buf->lock);
	kvfree(buf);
unreserve:
	cohbuf_unreserve(cdev, size);
	return ERR_PTR(ret);
}

void cohbuf_buffer_publish(struct cohbuf_buffer *buf, struct dma_buf *dmabuf)
{
	struct cohbuf_device *cdev = buf->cdev;

	buf->dmabuf = dmabuf;
	buf->ino = file_inode(dmabuf->file)->i_ino;

	mutex_lock(&cdev->lock);
	list_add_tail(&buf->node, &cdev->buffers);
	mutex_unlock(&cdev->lock);
}

/* No attachment, DMA mapping or vmap may remain. */
void cohbuf_buffer_free(struct cohbuf_buffer *buf)
{
	struct cohbuf_device *cdev = buf->cdev;
	size_t size = buf->size;

	mutex_lock(&cdev->lock);
	list_del_init(&buf->node);
	mutex_unlock(&cdev->lock);

	WARN_ON_ONCE(buf->nr_attachments || !list_empty(&buf->dma_maps) ||
		     buf->vmap_count);
	if (is_vmalloc_addr(buf->vaddr))
		vunmap(buf->vaddr);
	cohbuf_chunks_free(buf);
	mutex_destroy(&buf->lock);
	kvfree(buf);
	cohbuf_unreserve(cdev, size);
}

/* The chunk holding page @pgoff, which lies inside the buffer. */
const struct cohbuf_chunk *cohbuf_buffer_chunk(const struct cohbuf_buffer *buf,
					       pgoff_t pgoff)
{
	unsigned int lo = 0, hi = buf->nr_chunks;

	while (hi - lo > 1) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (buf->chunks[mid].pgoff <= pgoff)
			lo = mid;
		else
			hi = mid;
	}
	return &buf->chunks[lo];
}

/*
 * Coherent memory is write-back RAM on x86: the linear map is a kernel
 * mapping of a single chunk. Several are stitched with vmap(), which does
 * not refcount the pages (their tail pages have a zero refcount).
 */
static void *cohbuf_buffer_stitch(struct cohbuf_buffer *buf)
{
	unsigned long npages = buf->size >> PAGE_SHIFT;
	struct page *first = pfn_to_page(buf->chunks[0].pfn);
	struct page **pages;
	unsigned long i, n = 0;
	void *vaddr;

	if (buf->nr_chunks == 1 && !PageHighMem(first))
		return page_address(first);

	pages = kvmalloc_array(npages, sizeof(*pages), COHBUF_GFP_ARRAY);
	if (!pages)
		return NULL;
	for (i = 0; i < buf->nr_chunks; i++) {
		const struct cohbuf_chunk *chunk = &buf->chunks[i];
		unsigned long j;

		for (j = 0; j < chunk->size >> PAGE_SHIFT; j++)
			pages[n++] = pfn_to_page(chunk->pfn + j);
	}
	vaddr = vmap(pages, npages, VM_MAP, PAGE_KERNEL);
	kvfree(pages);
	return vaddr;
}

/*
 * The kernel mapping of the whole buffer, or NULL when out of memory, made
 * by an attach or vmap and kept while any attachment or vmap remains
 * (cohbuf_buffer_vunmap() drops it): the dma-buf core WARNs when a vmap
 * fails, so attach, where running out of memory is a clean error, makes it
 * for any vmap that follows.
 */
void *cohbuf_buffer_vmap(struct cohbuf_buffer *buf)
{
	lockdep_assert_held(&buf->lock);
	if (!buf->vaddr)
		buf->vaddr = cohbuf_buffer_stitch(buf);
	return buf->vaddr;
}

/* Drops the kernel mapping; the next attach or vmap makes it again. */
void cohbuf_buffer_vunmap(struct cohbuf_buffer *buf)
{
	lockdep_assert_held(&buf->lock);
	if (is_vmalloc_addr(buf->vaddr))
		vunmap(buf->vaddr);
	buf->vaddr = NULL;
}

/*
 * The length of the segment at @off in @chunk: at most @seg bytes, and not
 * crossing a multiple of @boundary + 1 (a segment boundary mask).
 */
static size_t cohbuf_seg_len(const struct cohbuf_chunk *chunk, size_t off,
			     size_t seg, unsigned long boundary)
{
	phys_addr_t phys = PFN_PHYS(chunk->pfn) + off;
	unsigned long room = boundary - (phys & boundary);
	size_t len = min(seg, chunk->size - off);

	if (room < len - 1)
		len = room + 1;
	return len;
}

/*
 * Segments of whole pages, at most @max_seg bytes each (-EINVAL if that is
 * less than a page), none crossing a multiple of @boundary + 1. The caller
 * frees @sgt with sg_free_table().
 */
int cohbuf_buffer_sgt(const struct cohbuf_buffer *buf, struct sg_table *sgt,
		      size_t max_seg, unsigned long boundary)
{
	size_t seg = round_down(max_seg, PAGE_SIZE), off, len;
	unsigned int i, nents = 0;
	struct scatterlist *sg;
	int ret;

	if (!seg || boundary < PAGE_SIZE - 1)
		return -EINVAL;
	for (i = 0; i < buf->nr_chunks; i++)
		for (off = 0; off < buf->chunks[i].size; off += len, nents++)
			len = cohbuf_seg_len(&buf->chunks[i], off, seg, boundary);

	ret = sg_alloc_table(sgt, nents, GFP_KERNEL);
	if (ret)
		return ret;

	sg = sgt->sgl;
	for (i = 0; i < buf->nr_chunks; i++) {
		const struct cohbuf_chunk *chunk = &buf->chunks[i];

		for (off = 0; off < chunk->size; off += len) {
			len = cohbuf_seg_len(chunk, off, seg, boundary);
			sg_set_page(sg, pfn_to_page(chunk->pfn + (off >> PAGE_SHIFT)),
				    len, 0);
			sg = sg_next(sg);
		}
	}
	return 0;
}
