// SPDX-License-Identifier: GPL-2.0
/*
 * What the importer does with an attached buffer: CPU access through its
 * kernel mapping (FILL, CRC32), bracketed by begin/end CPU access, and the
 * DMA address at which its device sees a byte (DMA_ADDR).
 */
#include <linux/capability.h>
#include <linux/crc32.h>
#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <cohbuf_importer.h>

#include "importer.h"

/* Work in steps of this many bytes, rescheduling in between. */
#define COHBUF_IMP_STEP SZ_1M

/*
 * CPU access syncs in both directions. udmabuf, for one, maps its own CPU
 * sync table with the direction of the first access and syncs later ones
 * against it: a narrower direction here could mismatch a DMA-API debug
 * check there.
 */
#define COHBUF_IMP_CPU_DIR DMA_BIDIRECTIONAL

static int cohbuf_imp_check_access(const struct cohbuf_imp_access *arg)
{
	if (arg->flags & ~COHBUF_IMP_ACCESS_VALID_FLAGS)
		return -EINVAL;
	if (!IS_ALIGNED(arg->offset, 4) || !IS_ALIGNED(arg->length, 4))
		return -EINVAL;
	return 0;
}

/* [@offset, @offset + @length) lies inside @size; no overflow possible. */
static int cohbuf_imp_check_range(const struct cohbuf_imp_access *arg,
				  size_t size)
{
	if (arg->length > size || arg->offset > size - arg->length)
		return -EINVAL;
	return 0;
}

static void cohbuf_imp_fill_step(const struct iosys_map *map, size_t off,
				 size_t len, u32 pattern)
{
	if (!map->is_iomem) {
		memset32(map->vaddr + off, pattern, len / 4);
		return;
	}
	for (; len; off += 4, len -= 4)
		iosys_map_wr(map, off, u32, pattern);
}

void cohbuf_imp_fill(const struct iosys_map *map, size_t off, size_t len,
		     u32 pattern)
{
	while (len) {
		size_t n = min_t(size_t, len, COHBUF_IMP_STEP);

		cohbuf_imp_fill_step(map, off, n, pattern);
		off += n;
		len -= n;
		cond_resched();
	}
}

/*
 * The CRC-32 of zlib, crc32(0, data, len), is the kernel's
 * crc32_le(~0, data, len) ^ ~0: same polynomial and bit order, seeded and
 * finished with all ones. Chained over steps, the seed is the last value.
 * @bounce, of COHBUF_IMP_BOUNCE bytes, is needed for I/O memory only.
 */
u32 cohbuf_imp_crc(const struct iosys_map *map, size_t off, size_t len,
		   void *bounce)
{
	size_t step = map->is_iomem ? COHBUF_IMP_BOUNCE : COHBUF_IMP_STEP;
	u32 c = ~0U;

	while (len) {
		size_t n = min(len, step);

		if (map->is_iomem) {
			iosys_map_memcpy_from(bounce, map, off, n);
			c = crc32_le(c, bounce, n);
		} else {
			c = crc32_le(c, map->vaddr + off, n);
		}
		off += n;
		len -= n;
		cond_resched();
	}
	return ~c;
}

static int cohbuf_imp_do_fill(struct cohbuf_imp_attachment *a,
			      const struct cohbuf_imp_access *arg)
{
	int ret;

	if (!a->writable)
		return -EACCES;
	ret = dma_buf_begin_cpu_access(a->dmabuf, COHBUF_IMP_CPU_DIR);
	if (ret)
		return ret;
	cohbuf_imp_fill(&a->map, arg->offset, arg->length, arg->pattern);
	return dma_buf_end_cpu_access(a->dmabuf, COHBUF_IMP_CPU_DIR);
}

static int cohbuf_imp_do_crc32(struct cohbuf_imp_attachment *a,
			       const struct cohbuf_imp_access *arg, u32 *crc)
{
	void *bounce = NULL;
	int ret;

	if (a->map.is_iomem) {
		bounce = kmalloc(COHBUF_IMP_BOUNCE, GFP_KERNEL);
		if (!bounce)
			return -ENOMEM;
	}
	ret = dma_buf_begin_cpu_access(a->dmabuf, COHBUF_IMP_CPU_DIR);
	if (!ret) {
		*crc = cohbuf_imp_crc(&a->map, arg->offset, arg->length,
				      bounce);
		ret = dma_buf_end_cpu_access(a->dmabuf, COHBUF_IMP_CPU_DIR);
	}
	kfree(bounce);
	return ret;
}

static long cohbuf_imp_ioctl_access(struct cohbuf_imp_file *file,
				    struct cohbuf_imp_access __user *uarg,
				    bool fill)
{
	struct cohbuf_imp_attachment *a;
	struct cohbuf_imp_access arg;
	bool async;
	u32 crc = 0;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	ret = cohbuf_imp_check_access(&arg);
	if (ret)
		return ret;
	async = arg.flags & COHBUF_IMP_ACCESS_ASYNC;

	/*
	 * The lock is held across begin_cpu_access, which may wait for fences
	 * unbounded (an asynchronous job's among them, which never takes the
	 * lock): hence taken interruptibly.
	 */
	a = cohbuf_imp_lock_lookup(file, arg.handle);
	if (IS_ERR(a))
		return PTR_ERR(a);
	ret = cohbuf_imp_check_range(&arg, a->dmabuf->size);
	if (ret)
		goto unlock;
	ret = cohbuf_imp_vmap(file, a);
	if (ret)
		goto unlock;
	if (async)
		ret = cohbuf_imp_job_queue(file->idev, a, &arg, fill);
	else if (fill)
		ret = cohbuf_imp_do_fill(a, &arg);
	else
		ret = cohbuf_imp_do_crc32(a, &arg, &crc);
unlock:
	mutex_unlock(&file->lock);
	if (ret || fill || async)
		return ret;
	return put_user(crc, &uarg->crc32);
}

long cohbuf_imp_ioctl_fill(struct cohbuf_imp_file *file,
			   struct cohbuf_imp_access __user *uarg)
{
	return cohbuf_imp_ioctl_access(file, uarg, true);
}

long cohbuf_imp_ioctl_crc32(struct cohbuf_imp_file *file,
			    struct cohbuf_imp_access __user *uarg)
{
	return cohbuf_imp_ioctl_access(file, uarg, false);
}

/* Walk the DMA segments (never the pages) to the one holding @offset. */
static int cohbuf_imp_dma_addr_at(const struct sg_table *sgt, u64 offset,
				  dma_addr_t *addr)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		unsigned int len = sg_dma_len(sg);

		if (offset < len) {
			*addr = sg_dma_address(sg) + offset;
			return 0;
		}
		offset -= len;
	}
	return -EINVAL;
}

long cohbuf_imp_ioctl_dma_addr(struct cohbuf_imp_file *file,
			       struct cohbuf_imp_dma_addr __user *uarg)
{
	struct cohbuf_imp_attachment *a;
	struct cohbuf_imp_dma_addr arg;
	dma_addr_t addr;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.pad)
		return -EINVAL;

	a = cohbuf_imp_lock_lookup(file, arg.handle);
	if (IS_ERR(a))
		return PTR_ERR(a);
	ret = -EINVAL;
	if (arg.offset < a->dmabuf->size)
		ret = cohbuf_imp_dma_addr_at(a->sgt, arg.offset, &addr);
	mutex_unlock(&file->lock);
	if (ret)
		return ret;
	return put_user((u64)addr, &uarg->dma_addr);
}
