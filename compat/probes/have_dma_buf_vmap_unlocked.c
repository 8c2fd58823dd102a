// SPDX-License-Identifier: GPL-2.0
/*
 * dma_buf_vmap_unlocked() takes the reservation lock itself; it came with
 * dma_buf_vmap() requiring that lock held by the caller (6.2).
 */
#include <linux/dma-buf.h>
#include <linux/iosys-map.h>

int cohbuf_probe(struct dma_buf *dmabuf, struct iosys_map *map);
int cohbuf_probe(struct dma_buf *dmabuf, struct iosys_map *map)
{
	return dma_buf_vmap_unlocked(dmabuf, map);
}
