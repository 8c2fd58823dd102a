// SPDX-License-Identifier: GPL-2.0
/*
 * Contiguous buffers: one physically contiguous run of pages of the exact
 * page-rounded size, for devices that need a single DMA range.
 *
 * Up to the buddy allocator's largest block the pages come from
 * alloc_pages_exact(), which frees the tail of the power-of-two block, so
 * no memory is lost to rounding. Above it, or when no such block is free,
 * a range is taken the way alloc_contig_pages() finds one (it is not
 * exported): a run of online pages of one zone, none reserved, hugetlb or
 * plainly unmovable, handed to alloc_contig_range(), which migrates what is
 * in it. Either way the pages are order-0 pages that cohbuf owns, mapped
 * for DMA on the allocating device.
 */
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/sched/signal.h>

#include "cohbuf_internal.h"
#include "cohbuf_compat.h"

/* Ranges handed to alloc_contig_range() for one request before ENOMEM. */
#define COHBUF_CONTIG_TRIES 16

/*
 * One range search at a time, as cma_alloc() serialises its calls into
 * alloc_contig_range() with cma_mutex. Two callers that isolate adjacent
 * pageblocks let the pages freed into both (migrated pages, drained
 * per-cpu lists) merge into one free block across the boundary, since
 * both blocks are MIGRATE_ISOLATE; each then sees, and may take, a block
 * that is partly the other's. It also keeps a second search from spending
 * its tries on the ranges the first is taking.
 */
static DEFINE_MUTEX(cohbuf_contig_mutex);

/*
 * Whether @page is in use by something alloc_contig_range() cannot move:
 * a page with references that is not on an LRU list (slab, page tables,
 * kernel allocations). Free pages and LRU pages pass. The flags are read
 * without a reference, as has_unmovable_pages() does: a wrong guess costs
 * one failed migration or one skipped candidate, nothing else.
 */
static bool cohbuf_contig_unmovable(struct page *page)
{
	struct page *head;

	if (PageBuddy(page))
		return false;
	head = compound_head(page);
	return !PageLRU(head) && page_count(head) > 0;
}

/*
 * The first pfn of [@pfn, @end) that alloc_contig_range() must not be
 * given, or would fail on, or @end: offline, reserved, hugetlb and
 * unmovable pages, and pages of another zone.
 */
static unsigned long cohbuf_contig_bad_pfn(struct zone *zone,
					   unsigned long pfn, unsigned long end)
{
	for (; pfn < end; pfn++) {
		struct page *page = pfn_to_online_page(pfn);

		if (!page || page_zone(page) != zone || PageReserved(page) ||
		    PageHuge(page) || cohbuf_contig_unmovable(page))
			return pfn;
	}
	return end;
}

/*
 * Whether [@pfn, @pfn + @nr) lies in @zone and may be tried: 0, -ENOSPC
 * past the zone's end, or -EAGAIN with *@next set past the page that rules
 * it out. Checked under the zone lock, as alloc_contig_pages() does.
 */
static int cohbuf_contig_candidate(struct zone *zone, unsigned long pfn,
				   unsigned long nr, unsigned long *next)
{
	unsigned long flags, bad;
	int ret = 0;

	spin_lock_irqsave(&zone->lock, flags);
	if (!zone_spans_pfn(zone, pfn + nr - 1)) {
		ret = -ENOSPC;
	} else {
		bad = cohbuf_contig_bad_pfn(zone, pfn, pfn + nr);
		if (bad < pfn + nr) {
			*next = ALIGN(bad + 1, pageblock_nr_pages);
			ret = -EAGAIN;
		}
	}
	spin_unlock_irqrestore(&zone->lock, flags);
	return ret;
}

/*
 * Take @nr pages of @zone: the candidates are pageblock-aligned, lowest
 * first. *@tries counts the calls into alloc_contig_range() across zones;
 * a candidate ruled out by a glance at its pages costs no try, so the
 * unmovable memory of early boot at the low end of a zone does not use
 * them up. The walk itself ends at the zone's end.
 */
static int cohbuf_contig_zone(struct zone *zone, unsigned long nr,
			      unsigned long *pfn, unsigned int *tries)
{
	unsigned long start = ALIGN(zone->zone_start_pfn, pageblock_nr_pages);
	unsigned long next;
	int ret;

	while (*tries < COHBUF_CONTIG_TRIES) {
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
		ret = cohbuf_contig_candidate(zone, start, nr, &next);
		if (ret == -ENOSPC)
			return -ENOMEM;
		if (ret == -EAGAIN) {
			start = next;
			continue;
		}
		(*tries)++;
		ret = cohbuf_alloc_contig_range(start, start + nr,
						GFP_KERNEL | __GFP_NOWARN);
		if (!ret) {
			*pfn = start;
			return 0;
		}
		if (ret == -EINTR)
			return ret;
		start += ALIGN(nr, pageblock_nr_pages);
	}
	return -ENOMEM;
}

/*
 * The zones a range may come from, the most plentiful memory first, so
 * that memory below 4 GiB is left to those who need it.
 */
static const enum zone_type cohbuf_contig_zones[] = {
	ZONE_MOVABLE,
	ZONE_NORMAL,
#ifdef CONFIG_ZONE_DMA32
	ZONE_DMA32,
#endif
};

static bool cohbuf_contig_zone_allowed(enum zone_type type, bool dma32)
{
#ifdef CONFIG_ZONE_DMA32
	return !dma32 || type == ZONE_DMA32;
#else
	return !dma32;
#endif
}

/* The range search, in every zone allowed; cohbuf_contig_mutex held. */
static int cohbuf_contig_search_locked(unsigned long nr, bool dma32,
				       unsigned long *pfn)
{
	unsigned int tries = 0, i;
	int nid, ret;

	lockdep_assert_held(&cohbuf_contig_mutex);
	for_each_online_node(nid) {
		for (i = 0; i < ARRAY_SIZE(cohbuf_contig_zones); i++) {
			enum zone_type type = cohbuf_contig_zones[i];
			struct zone *zone = &NODE_DATA(nid)->node_zones[type];

			if (!cohbuf_contig_zone_allowed(type, dma32) ||
			    !populated_zone(zone) ||
			    zone_managed_pages(zone) < nr)
				continue;
			ret = cohbuf_contig_zone(zone, nr, pfn, &tries);
			if (ret != -ENOMEM)
				return ret;
		}
	}
	return -ENOMEM;
}

static int cohbuf_contig_search(unsigned long nr, bool dma32,
				unsigned long *pfn)
{
	int ret;

	/* Without it (Debian's kernels have it) only one buddy block can be had. */
	if (!IS_ENABLED(CONFIG_CONTIG_ALLOC))
		return -ENOMEM;
	if (mutex_lock_killable(&cohbuf_contig_mutex))
		return -EINTR;
	ret = cohbuf_contig_search_locked(nr, dma32, pfn);
	mutex_unlock(&cohbuf_contig_mutex);
	return ret;
}

/*
 * The pages: from the buddy allocator while one block can hold them,
 * else from a range search. Fills in @chunk's pfn and source.
 */
static int cohbuf_contig_pages(struct cohbuf_chunk *chunk, bool dma32)
{
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY;
	void *vaddr = NULL;
	int ret;

	if (get_order(chunk->size) <= COHBUF_CHUNK_MAX_ORDER)
		vaddr = alloc_pages_exact(chunk->size,
					  gfp | (dma32 ? GFP_DMA32 : 0));
	if (vaddr) {
		chunk->pfn = page_to_pfn(virt_to_page(vaddr));
		chunk->source = COHBUF_CHUNK_EXACT;
		return 0;
	}
	ret = cohbuf_contig_search(chunk->size >> PAGE_SHIFT, dma32,
				   &chunk->pfn);
	if (ret)
		return ret;
	chunk->source = COHBUF_CHUNK_RANGE;
	return 0;
}

static void cohbuf_contig_pages_free(const struct cohbuf_chunk *chunk)
{
	if (chunk->source == COHBUF_CHUNK_EXACT)
		free_pages_exact(page_address(pfn_to_page(chunk->pfn)),
				 chunk->size);
	else
		free_contig_range(chunk->pfn, chunk->size >> PAGE_SHIFT);
}

/*
 * x86 RAM is coherent: the buffer is synced like a chunked one, around CPU
 * access. A mapping swiotlb cannot make fails without a log line.
 */
#define COHBUF_CONTIG_MAP_ATTRS (DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_NO_WARN)

/*
 * The chunk's DMA address on @dev, the pages' own: INFO hands it to users
 * who program a device with it, and the reach check compares it. When
 * swiotlb bounces every mapping (swiotlb=force), the address would be a
 * bounce buffer's, which no device may be given (dma_need_sync() says so:
 * the mapping needs copying), or, beyond swiotlb's largest mapping, there
 * is none: -EOPNOTSUPP either way.
 */
static int cohbuf_contig_map(struct device *dev, struct cohbuf_chunk *chunk)
{
	chunk->dma = dma_map_page_attrs(dev, pfn_to_page(chunk->pfn), 0,
					chunk->size, DMA_BIDIRECTIONAL,
					COHBUF_CONTIG_MAP_ATTRS);
	if (dma_mapping_error(dev, chunk->dma))
		return chunk->size > dma_max_mapping_size(dev) ? -EOPNOTSUPP :
								 -ENOMEM;
	if (dma_need_sync(dev, chunk->dma)) {
		dma_unmap_page_attrs(dev, chunk->dma, chunk->size,
				     DMA_BIDIRECTIONAL, COHBUF_CONTIG_MAP_ATTRS);
		return -EOPNOTSUPP;
	}
	return 0;
}

/**
 * cohbuf_contig_alloc() - one physically contiguous chunk of exactly @size
 * @dev: the device that maps it for DMA
 * @chunk: filled in on success
 * @size: bytes, a whole number of pages
 * @dma32: every page below 4 GiB
 *
 * Return: 0, -ENOMEM when no such range can be had, -EOPNOTSUPP when @dev
 * cannot map it without bouncing, or -EINTR if the caller is killed. The
 * pages are not zeroed yet.
 */
int cohbuf_contig_alloc(struct device *dev, struct cohbuf_chunk *chunk,
			size_t size, bool dma32)
{
	int ret;

	chunk->size = size;
	chunk->cookie = NULL;
	ret = cohbuf_contig_pages(chunk, dma32);
	if (ret)
		return ret;
	ret = cohbuf_contig_map(dev, chunk);
	if (ret)
		cohbuf_contig_pages_free(chunk);
	return ret;
}

/**
 * cohbuf_contig_free() - undo cohbuf_contig_alloc()
 * @dev: the device it was mapped for
 * @chunk: the chunk
 */
void cohbuf_contig_free(struct device *dev, const struct cohbuf_chunk *chunk)
{
	dma_unmap_page_attrs(dev, chunk->dma, chunk->size, DMA_BIDIRECTIONAL,
			     COHBUF_CONTIG_MAP_ATTRS);
	cohbuf_contig_pages_free(chunk);
}
