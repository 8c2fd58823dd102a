// SPDX-License-Identifier: GPL-2.0
/*
 * The exporter side of the dma-buf contract.
 *
 * The core calls map, unmap, vmap and vunmap with the buffer's reservation
 * lock held on 6.2+ (vmap under dmabuf->lock on 6.1), and attach, detach,
 * begin/end_cpu_access, mmap and release without it. None of these
 * callbacks takes the reservation lock; they serialise on cohbuf_buffer.lock,
 * a leaf lock.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/platform_device.h>
#include <linux/slab.h>

#include "cohbuf_internal.h"

/**
 * struct cohbuf_attachment - one importing device's view of a buffer
 * @dev: the importing device
 * @sgt: the buffer split to @dev's maximum segment size; cohbuf's own, used
 *	to sync and unmap
 * @export: while mapped, a copy of @sgt that the importer was given
 * @node: entry in cohbuf_buffer.attachments
 * @mapped: @sgt is DMA-mapped for @dev, in direction @dir
 * @dir: direction of the current mapping
 *
 * The importer gets a copy, not @sgt itself: the table it is given is its
 * own until it unmaps, and the dma-buf core (CONFIG_DMABUF_DEBUG) scrambles
 * its page links meanwhile to catch importers that use them. The CPU access
 * callbacks must still walk the pages of @sgt to sync it.
 *
 * @export, @node, @mapped and @dir are protected by cohbuf_buffer.lock.
 */
struct cohbuf_attachment {
	struct device *dev;
	struct sg_table sgt;
	struct sg_table export;
	struct list_head node;
	bool mapped;
	enum dma_data_direction dir;
};

/*
 * Refuse an importer that cannot address the buffer, rather than let the
 * DMA layer bounce every transfer through swiotlb, which would be a copy.
 * A device behind an IOMMU reaches any page. On x86 a DMA address without
 * an IOMMU is the physical address.
 */
static int cohbuf_attach_check_reach(struct cohbuf_buffer *buf,
				     struct device *dev)
{
	u64 limit = min_not_zero(dma_get_mask(dev), dev->bus_dma_limit);
	unsigned int i;

	if (device_iommu_mapped(dev))
		return 0;
	for (i = 0; i < buf->nr_chunks; i++) {
		const struct cohbuf_chunk *chunk = &buf->chunks[i];
		phys_addr_t last = PFN_PHYS(chunk->pfn) + chunk->size - 1;

		if (last > limit) {
			/* A message longer than a line is not split. */
			/* clang-format off */
			dev_warn_ratelimited(&buf->cdev->pdev->dev,
					     "%s: DMA mask %#llx cannot reach %pa, refusing to attach rather than bounce\n",
					     dev_name(dev), limit, &last);
			/* clang-format on */
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

	ret = cohbuf_attach_check_reach(buf, attach->dev);
	if (ret)
		return ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	ret = cohbuf_buffer_sgt(buf, &a->sgt,
				dma_get_max_seg_size(attach->dev));
	if (ret)
		goto free_attachment;
	a->dev = attach->dev;
	attach->priv = a;

	mutex_lock(&buf->lock);
	/* Now, so that a vmap after it cannot fail: see cohbuf_buffer_vmap(). */
	if (!cohbuf_buffer_vmap(buf)) {
		mutex_unlock(&buf->lock);
		ret = -ENOMEM;
		goto free_sgt;
	}
	list_add(&a->node, &buf->attachments);
	buf->nr_attachments++;
	mutex_unlock(&buf->lock);
	return 0;

free_sgt:
	sg_free_table(&a->sgt);
free_attachment:
	kfree(a);
	return ret;
}

/*
 * The memory comes from dma_alloc_coherent(), and any number of devices
 * may map it at once: the DMA API must not treat these mappings as
 * streaming ones that overlap (DMA-API debug refuses that, as an error).
 * They are mapped and unmapped with DMA_ATTR_SKIP_CPU_SYNC, as
 * videobuf2-dma-contig and drm_prime map theirs, and cohbuf does the
 * syncs itself: for the device once mapped, for the CPU before unmapping,
 * and around every CPU access (begin/end_cpu_access).
 */
#define COHBUF_DMA_ATTRS DMA_ATTR_SKIP_CPU_SYNC

/* Undo cohbuf_dmabuf_map(); called with cohbuf_buffer.lock held. */
static void cohbuf_attachment_unmap(struct cohbuf_attachment *a)
{
	dma_sync_sgtable_for_cpu(a->dev, &a->sgt, a->dir);
	dma_unmap_sgtable(a->dev, &a->sgt, a->dir, COHBUF_DMA_ATTRS);
	sg_free_table(&a->export);
	a->mapped = false;
}

static void cohbuf_dmabuf_detach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attach)
{
	struct cohbuf_buffer *buf = dmabuf->priv;
	struct cohbuf_attachment *a = attach->priv;

	mutex_lock(&buf->lock);
	list_del(&a->node);
	buf->nr_attachments--;
	/* An importer that detaches without unmapping leaks nothing here. */
	if (a->mapped)
		cohbuf_attachment_unmap(a);
	mutex_unlock(&buf->lock);

	sg_free_table(&a->sgt);
	kfree(a);
}

/*
 * The importer's copy of a mapped table: the same pages, lengths and DMA
 * addresses in a table of its own.
 */
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
	int ret = -EBUSY;

	mutex_lock(&buf->lock);
	if (a->mapped)
		goto unlock;
	ret = dma_map_sgtable(attach->dev, &a->sgt, dir, COHBUF_DMA_ATTRS);
	if (ret)
		goto unlock;
	ret = cohbuf_sgt_copy(&a->export, &a->sgt);
	if (ret) {
		dma_unmap_sgtable(attach->dev, &a->sgt, dir, COHBUF_DMA_ATTRS);
		goto unlock;
	}
	dma_sync_sgtable_for_device(attach->dev, &a->sgt, dir);
	a->mapped = true;
	a->dir = dir;
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
	if (a->mapped)
		cohbuf_attachment_unmap(a);
	mutex_unlock(&buf->lock);
}

/*
 * Sync every mapped attachment, in the direction it was mapped with (the
 * DMA API wants them to match): for the CPU before it accesses the buffer,
 * for the devices after.
 */
static void cohbuf_dmabuf_sync(struct cohbuf_buffer *buf, bool for_cpu)
{
	struct cohbuf_attachment *a;

	mutex_lock(&buf->lock);
	list_for_each_entry(a, &buf->attachments, node) {
		if (!a->mapped)
			continue;
		if (for_cpu)
			dma_sync_sgtable_for_cpu(a->dev, &a->sgt, a->dir);
		else
			dma_sync_sgtable_for_device(a->dev, &a->sgt, a->dir);
	}
	mutex_unlock(&buf->lock);
}

static int cohbuf_dmabuf_begin_cpu_access(struct dma_buf *dmabuf,
					  enum dma_data_direction dir)
{
	cohbuf_dmabuf_sync(dmabuf->priv, true);
	return 0;
}

static int cohbuf_dmabuf_end_cpu_access(struct dma_buf *dmabuf,
					enum dma_data_direction dir)
{
	cohbuf_dmabuf_sync(dmabuf->priv, false);
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

/* The mapping itself stays until the buffer is freed. */
static void cohbuf_dmabuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct cohbuf_buffer *buf = dmabuf->priv;

	mutex_lock(&buf->lock);
	if (!WARN_ON_ONCE(!buf->vmap_count))
		buf->vmap_count--;
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

/**
 * cohbuf_dmabuf_export() - wrap a buffer in a new dma-buf
 * @buf: a buffer from cohbuf_buffer_create()
 * @fd_flags: O_RDONLY or O_RDWR; the access mode of the dma-buf's file
 *
 * On success the dma-buf owns @buf: from then on it is freed only through
 * dma_buf_put() and the release callback. On failure @buf is untouched.
 *
 * Return: the dma-buf, or an ERR_PTR() from dma_buf_export().
 */
struct dma_buf *cohbuf_dmabuf_export(struct cohbuf_buffer *buf, u32 fd_flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);

	exp_info.ops = &cohbuf_dmabuf_ops;
	exp_info.size = buf->size;
	exp_info.flags = fd_flags & O_ACCMODE;
	exp_info.priv = buf;
	return dma_buf_export(&exp_info);
}
