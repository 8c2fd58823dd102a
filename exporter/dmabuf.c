// SPDX-License-Identifier: GPL-2.0
/*
 * The exporter side of the dma-buf contract. None of these callbacks takes
 * the reservation lock, which the core holds around some of them: they
 * serialise on cohbuf_buffer.lock, a leaf.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/platform_device.h>
#include <linux/slab.h>

#include "cohbuf_internal.h"

/*
 * One importing device's view of a buffer, under cohbuf_buffer.lock. The
 * importer gets a copy of the shared mapping's table, not the table itself:
 * with CONFIG_DMABUF_DEBUG the core scrambles the page links of the table it
 * hands out, and the CPU access syncs walk the pages of the shared one.
 */
struct cohbuf_attachment {
	struct cohbuf_dma_map *map; /* while mapped */
	struct sg_table export; /* while mapped: the importer's copy */
};

/*
 * Refuse an importer that cannot address the buffer rather than let swiotlb
 * bounce, that is copy, every transfer. dma_addressing_limited() says
 * whether the device may bounce at all: an IOMMU that translates makes any
 * memory reachable, but an identity (passthrough) domain does not, although
 * device_iommu_mapped() is true there. A limited device is then refused
 * when the buffer's DMA addresses, which the importer shares with cohbuf's
 * device on the same bus without translation, lie beyond its mask or bus
 * limit. The message never shows an address: it says what to do.
 */
static int cohbuf_check_reach(struct cohbuf_buffer *buf, struct device *dev)
{
	u64 limit = min_not_zero(dma_get_mask(dev), dev->bus_dma_limit);
	unsigned int i;

	if (!dma_addressing_limited(dev))
		return 0;
	for (i = 0; i < buf->nr_chunks; i++) {
		const struct cohbuf_chunk *chunk = &buf->chunks[i];

		if (chunk->dma + chunk->size - 1 > limit) {
			dev_warn_ratelimited(&buf->cdev->pdev->dev,
					     "%s: DMA mask %#llx cannot reach this buffer without bouncing: allocate it with COHBUF_ALLOC_DMA32\n",
					     dev_name(dev), limit);
			return -ERANGE;
		}
	}
	return 0;
}

static int cohbuf_dmabuf_attach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attach)
{
	struct cohbuf_buffer *buf = dmabuf->priv;
	struct cohbuf_attachment *a;
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;

	ret = -ENOMEM;
	mutex_lock(&buf->lock);
	/* Now, so that a vmap after it cannot fail: see cohbuf_buffer_vmap(). */
	if (cohbuf_buffer_vmap(buf)) {
		buf->nr_attachments++;
		ret = 0;
	}
	mutex_unlock(&buf->lock);
	if (ret)
		goto free_attachment;
	attach->priv = a;
	return 0;

free_attachment:
	kfree(a);
	return ret;
}

/* Undo cohbuf_dmabuf_map(); called with cohbuf_buffer.lock held. */
static void cohbuf_attachment_unmap(struct cohbuf_buffer *buf,
				    struct cohbuf_attachment *a)
{
	cohbuf_dma_map_put(buf, a->map);
	a->map = NULL;
	sg_free_table(&a->export);
}

/*
 * Called with cohbuf_buffer.lock held: an importer that only does DMA pins
 * no kernel mapping once it has detached.
 */
static void cohbuf_buffer_vmap_idle(struct cohbuf_buffer *buf)
{
	if (!buf->nr_attachments && !buf->vmap_count)
		cohbuf_buffer_vunmap(buf);
}

static void cohbuf_dmabuf_detach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attach)
{
	struct cohbuf_buffer *buf = dmabuf->priv;
	struct cohbuf_attachment *a = attach->priv;

	mutex_lock(&buf->lock);
	buf->nr_attachments--;
	/* An importer that detaches without unmapping leaks nothing here. */
	if (a->map)
		cohbuf_attachment_unmap(buf, a);
	cohbuf_buffer_vmap_idle(buf);
	mutex_unlock(&buf->lock);
	kfree(a);
}

static int cohbuf_sgt_copy(struct sg_table *dst, const struct sg_table *src)
{
	struct scatterlist *s, *d;
	unsigned int i;
	int ret;

	ret = sg_alloc_table(dst, src->orig_nents, GFP_KERNEL);
	if (ret)
		return ret;
	d = dst->sgl;
	for_each_sgtable_sg(src, s, i) {
		sg_set_page(d, sg_page(s), s->length, s->offset);
		sg_dma_address(d) = sg_dma_address(s);
		sg_dma_len(d) = sg_dma_len(s);
		d = sg_next(d);
	}
	dst->nents = src->nents;
	return 0;
}

static struct sg_table *cohbuf_dmabuf_map(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct cohbuf_buffer *buf = attach->dmabuf->priv;
	struct cohbuf_attachment *a = attach->priv;
	struct cohbuf_dma_map *map;
	int ret = -EBUSY;

	/*
	 * Refused here, not at attach: on 6.12 videobuf2's __prepare_dmabuf()
	 * leaks its dma-buf reference, and so pins this module, when attach
	 * fails, but cleans up when map fails.
	 */
	ret = cohbuf_check_reach(buf, attach->dev);
	if (ret)
		return ERR_PTR(ret);

	ret = -EBUSY;
	mutex_lock(&buf->lock);
	if (a->map)
		goto unlock;
	map = cohbuf_dma_map_get(buf, attach->dev, dir);
	ret = PTR_ERR_OR_ZERO(map);
	if (ret)
		goto unlock;
	ret = cohbuf_sgt_copy(&a->export, cohbuf_dma_map_sgt(map));
	if (ret) {
		cohbuf_dma_map_put(buf, map);
		goto unlock;
	}
	a->map = map;
unlock:
	mutex_unlock(&buf->lock);

	return ret ? ERR_PTR(ret) : &a->export;
}

static void cohbuf_dmabuf_unmap(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct cohbuf_buffer *buf = attach->dmabuf->priv;
	struct cohbuf_attachment *a = attach->priv;

	mutex_lock(&buf->lock);
	if (a->map)
		cohbuf_attachment_unmap(buf, a);
	mutex_unlock(&buf->lock);
}

static int cohbuf_dmabuf_begin_cpu_access(struct dma_buf *dmabuf,
					  enum dma_data_direction dir)
{
	cohbuf_dma_maps_sync(dmabuf->priv, true);
	return 0;
}

static int cohbuf_dmabuf_end_cpu_access(struct dma_buf *dmabuf,
					enum dma_data_direction dir)
{
	cohbuf_dma_maps_sync(dmabuf->priv, false);
	return 0;
}

static int cohbuf_dmabuf_mmap(struct dma_buf *dmabuf,
			      struct vm_area_struct *vma)
{
	return cohbuf_mmap(dmabuf->priv, vma);
}

/* Cannot fail after an attach; may, for an importer that never attached. */
static int cohbuf_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct cohbuf_buffer *buf = dmabuf->priv;
	void *vaddr;

	mutex_lock(&buf->lock);
	vaddr = cohbuf_buffer_vmap(buf);
	if (vaddr) {
		buf->vmap_count++;
		iosys_map_set_vaddr(map, vaddr);
	}
	mutex_unlock(&buf->lock);
	return vaddr ? 0 : -ENOMEM;
}

/* The mapping itself stays while an attachment may vmap again. */
static void cohbuf_dmabuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct cohbuf_buffer *buf = dmabuf->priv;

	mutex_lock(&buf->lock);
	if (!WARN_ON_ONCE(!buf->vmap_count))
		buf->vmap_count--;
	cohbuf_buffer_vmap_idle(buf);
	mutex_unlock(&buf->lock);
	iosys_map_clear(map);
}

/* The last reference is gone: no fd, mapping or attachment remains. */
static void cohbuf_dmabuf_release(struct dma_buf *dmabuf)
{
	cohbuf_buffer_free(dmabuf->priv);
}

static const struct dma_buf_ops cohbuf_dmabuf_ops = {
	.attach = cohbuf_dmabuf_attach,
	.detach = cohbuf_dmabuf_detach,
	.map_dma_buf = cohbuf_dmabuf_map,
	.unmap_dma_buf = cohbuf_dmabuf_unmap,
	.begin_cpu_access = cohbuf_dmabuf_begin_cpu_access,
	.end_cpu_access = cohbuf_dmabuf_end_cpu_access,
	.mmap = cohbuf_dmabuf_mmap,
	.vmap = cohbuf_dmabuf_vmap,
	.vunmap = cohbuf_dmabuf_vunmap,
	.release = cohbuf_dmabuf_release,
};

/* On failure @buf is untouched; on success the dma-buf owns it. */
struct dma_buf *cohbuf_dmabuf_export(struct cohbuf_buffer *buf, u32 fd_flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);

	exp_info.ops = &cohbuf_dmabuf_ops;
	exp_info.size = buf->size;
	exp_info.flags = fd_flags & O_ACCMODE;
	exp_info.priv = buf;
	return dma_buf_export(&exp_info);
}

/**
 * cohbuf_dmabuf_buffer() - the cohbuf buffer behind a dma-buf
 * @dmabuf: any dma-buf
 *
 * Return: the buffer, or NULL if another exporter made @dmabuf.
 */
struct cohbuf_buffer *cohbuf_dmabuf_buffer(struct dma_buf *dmabuf)
{
	return dmabuf->ops == &cohbuf_dmabuf_ops ? dmabuf->priv : NULL;
}
