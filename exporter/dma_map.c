// SPDX-License-Identifier: GPL-2.0
/*
 * DMA mappings of a buffer, one per device, direction and segment
 * constraints, shared by that device's attachments: DMA-API debug warns
 * beyond 7 overlapping mappings of a cache line, and any process may attach
 * a buffer any number of times. A device whose max segment size or segment
 * boundary changed gets a new mapping, built for its constraints now.
 *
 * Any number of devices may map coherent memory at once, which DMA-API debug
 * reports as an error for overlapping streaming mappings. So, as
 * videobuf2-dma-contig and drm_prime do, the mappings skip the CPU syncs
 * (DMA_ATTR_SKIP_CPU_SYNC) and cohbuf makes them itself: for the device
 * once mapped, for the CPU before unmapping, and around CPU access.
 */
#include <linux/dma-mapping.h>
#include <linux/lockdep.h>
#include <linux/slab.h>

#include "cohbuf_internal.h"

#define COHBUF_MAP_ATTRS DMA_ATTR_SKIP_CPU_SYNC

/* All fields are protected by cohbuf_buffer.lock. */
struct cohbuf_dma_map {
	struct list_head node; /* in cohbuf_buffer.dma_maps */
	struct device *dev;
	enum dma_data_direction dir;
	size_t max_seg; /* the constraints the segments were built for */
	unsigned long seg_boundary;
	struct sg_table sgt; /* never lent to an importer */
	unsigned int users; /* mapped attachments */
};

/*
 * The longest segment @dev takes: its max segment size, and no more than
 * one mapping may cover (256 KiB when swiotlb bounces).
 */
static size_t cohbuf_dma_max_seg(struct device *dev)
{
	return min_t(size_t, dma_get_max_seg_size(dev),
		     dma_max_mapping_size(dev));
}

static struct cohbuf_dma_map *cohbuf_dma_map_new(struct cohbuf_buffer *buf,
						 struct device *dev,
						 enum dma_data_direction dir)
{
	struct cohbuf_dma_map *map;
	int ret;

	map = kzalloc(sizeof(*map), GFP_KERNEL);
	if (!map)
		return ERR_PTR(-ENOMEM);
	map->max_seg = cohbuf_dma_max_seg(dev);
	map->seg_boundary = dma_get_seg_boundary(dev);
	ret = cohbuf_buffer_sgt(buf, &map->sgt, map->max_seg, map->seg_boundary);
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

/* Whether @map's segments are what @dev would be given now. */
static bool cohbuf_dma_map_fits(const struct cohbuf_dma_map *map,
				struct device *dev, enum dma_data_direction dir)
{
	return map->dev == dev && map->dir == dir &&
	       map->max_seg == cohbuf_dma_max_seg(dev) &&
	       map->seg_boundary == dma_get_seg_boundary(dev);
}

/* With one more user, made if need be; or an ERR_PTR() from the DMA layer. */
struct cohbuf_dma_map *cohbuf_dma_map_get(struct cohbuf_buffer *buf,
					  struct device *dev,
					  enum dma_data_direction dir)
{
	struct cohbuf_dma_map *map;

	lockdep_assert_held(&buf->lock);
	list_for_each_entry(map, &buf->dma_maps, node) {
		if (cohbuf_dma_map_fits(map, dev, dir)) {
			map->users++;
			return map;
		}
	}
	return cohbuf_dma_map_new(buf, dev, dir);
}

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

const struct sg_table *cohbuf_dma_map_sgt(const struct cohbuf_dma_map *map)
{
	return &map->sgt;
}

/* For the CPU before it accesses the buffer, or for the devices after. */
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
