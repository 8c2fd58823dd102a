// SPDX-License-Identifier: GPL-2.0
/*
 * DMA mappings of a buffer, shared by the attachments of one device.
 *
 * Every attachment of a device that maps a buffer in the same direction
 * would get the very same mapping, so there is one: the first map makes it,
 * the last unmap undoes it. Besides saving the work, this keeps the number
 * of mappings of each cache line independent of the number of attachments:
 * DMA-API debug tracks at most 7 overlapping mappings of a cache line and
 * warns beyond that, and any process may attach a buffer as often as it
 * likes.
 *
 * The memory comes from dma_alloc_coherent(), and any number of devices may
 * map it at once: the DMA API must not treat these mappings as streaming
 * ones that overlap (DMA-API debug refuses that, as an error). They are
 * mapped and unmapped with DMA_ATTR_SKIP_CPU_SYNC, as videobuf2-dma-contig
 * and drm_prime map theirs, and cohbuf does the syncs itself: for the device
 * once mapped, for the CPU before unmapping, and around every CPU access
 * (begin/end_cpu_access).
 */
#include <linux/dma-mapping.h>
#include <linux/lockdep.h>
#include <linux/slab.h>

#include "cohbuf_internal.h"

#define COHBUF_MAP_ATTRS DMA_ATTR_SKIP_CPU_SYNC

/**
 * struct cohbuf_dma_map - a buffer mapped for one device in one direction
 * @node: entry in cohbuf_buffer.dma_maps
 * @dev: the device
 * @dir: the direction
 * @sgt: the buffer split to @dev's maximum segment size, DMA-mapped; cohbuf's
 *	own, never lent to an importer, used to sync and unmap
 * @users: mapped attachments that share it
 *
 * All fields are protected by cohbuf_buffer.lock.
 */
struct cohbuf_dma_map {
	struct list_head node;
	struct device *dev;
	enum dma_data_direction dir;
	struct sg_table sgt;
	unsigned int users;
};

static struct cohbuf_dma_map *cohbuf_dma_map_new(struct cohbuf_buffer *buf,
						 struct device *dev,
						 enum dma_data_direction dir)
{
	struct cohbuf_dma_map *map;
	int ret;

	map = kzalloc(sizeof(*map), GFP_KERNEL);
	if (!map)
		return ERR_PTR(-ENOMEM);
	ret = cohbuf_buffer_sgt(buf, &map->sgt, dma_get_max_seg_size(dev));
	if (ret)
		goto free_map;
	ret = dma_map_sgtable(dev, &map->sgt, dir, COHBUF_MAP_ATTRS);
	if (ret)
		goto free_sgt;
	dma_sync_sgtable_for_device(dev, &map->sgt, dir);
	map->dev = dev;
	map->dir = dir;
	map->users = 1;
	list_add(&map->node, &buf->dma_maps);
	return map;

free_sgt:
	sg_free_table(&map->sgt);
free_map:
	kfree(map);
	return ERR_PTR(ret);
}

/**
 * cohbuf_dma_map_get() - the buffer mapped for a device, shared
 * @buf: the buffer; the caller holds its lock
 * @dev: the importing device
 * @dir: the direction of the mapping
 *
 * Return: the mapping, with one more user, or an ERR_PTR() with the DMA
 * layer's errno (-ENOMEM when out of memory).
 */
struct cohbuf_dma_map *cohbuf_dma_map_get(struct cohbuf_buffer *buf,
					  struct device *dev,
					  enum dma_data_direction dir)
{
	struct cohbuf_dma_map *map;

	lockdep_assert_held(&buf->lock);
	list_for_each_entry(map, &buf->dma_maps, node) {
		if (map->dev == dev && map->dir == dir) {
			map->users++;
			return map;
		}
	}
	return cohbuf_dma_map_new(buf, dev, dir);
}

/**
 * cohbuf_dma_map_put() - drop a user of a mapping; the last one unmaps it
 * @buf: the buffer; the caller holds its lock
 * @map: what cohbuf_dma_map_get() returned
 */
void cohbuf_dma_map_put(struct cohbuf_buffer *buf, struct cohbuf_dma_map *map)
{
	lockdep_assert_held(&buf->lock);
	if (--map->users)
		return;
	list_del(&map->node);
	dma_sync_sgtable_for_cpu(map->dev, &map->sgt, map->dir);
	dma_unmap_sgtable(map->dev, &map->sgt, map->dir, COHBUF_MAP_ATTRS);
	sg_free_table(&map->sgt);
	kfree(map);
}

/* The mapped table, which the importer gets a copy of. */
const struct sg_table *cohbuf_dma_map_sgt(const struct cohbuf_dma_map *map)
{
	return &map->sgt;
}

/**
 * cohbuf_dma_maps_sync() - sync every mapping of a buffer
 * @buf: the buffer
 * @for_cpu: for the CPU before it accesses the buffer, else for the devices
 *	after
 *
 * Each mapping is synced in the direction it was made with, as the DMA API
 * wants.
 */
void cohbuf_dma_maps_sync(struct cohbuf_buffer *buf, bool for_cpu)
{
	struct cohbuf_dma_map *map;

	mutex_lock(&buf->lock);
	list_for_each_entry(map, &buf->dma_maps, node) {
		if (for_cpu)
			dma_sync_sgtable_for_cpu(map->dev, &map->sgt, map->dir);
		else
			dma_sync_sgtable_for_device(map->dev, &map->sgt,
						    map->dir);
	}
	mutex_unlock(&buf->lock);
}
