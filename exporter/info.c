// SPDX-License-Identifier: GPL-2.0
/*
 * COHBUF_IOCTL_INFO: what a cohbuf dma-buf is made of, for users who
 * program their own DMA engine. A buffer's chunks are constant once it is
 * published, so no lock is needed to read them.
 */
#include <linux/capability.h>
#include <linux/dma-buf.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <cohbuf.h>

#include "cohbuf_internal.h"

/*
 * The range starting at chunk *@i, which extends over the following
 * chunks while they continue it both physically and on the bus; *@i moves
 * past them.
 */
static void cohbuf_info_range(const struct cohbuf_buffer *buf, unsigned int *i,
			      struct cohbuf_range *range)
{
	const struct cohbuf_chunk *first = &buf->chunks[*i];
	u64 size = first->size;

	for ((*i)++; *i < buf->nr_chunks; (*i)++) {
		const struct cohbuf_chunk *next = &buf->chunks[*i];

		if (next->pfn != first->pfn + (size >> PAGE_SHIFT) ||
		    next->dma != first->dma + size)
			break;
		size += next->size;
	}
	range->offset = (u64)first->pgoff << PAGE_SHIFT;
	range->size = size;
	range->dma_addr = first->dma;
}

/* Count the ranges, and copy the first @arg->ranges_cap of them out. */
static int cohbuf_info_ranges(const struct cohbuf_buffer *buf,
			      struct cohbuf_info *arg, bool dma_addr)
{
	struct cohbuf_range __user *uranges = u64_to_user_ptr(arg->ranges);
	struct cohbuf_range range;
	unsigned int i = 0, n = 0;

	while (i < buf->nr_chunks) {
		cohbuf_info_range(buf, &i, &range);
		if (!dma_addr)
			range.dma_addr = 0;
		if (n < arg->ranges_cap &&
		    copy_to_user(&uranges[n], &range, sizeof(range)))
			return -EFAULT;
		n++;
	}
	arg->nr_ranges = n;
	return 0;
}

/**
 * cohbuf_ioctl_info() - COHBUF_IOCTL_INFO
 * @uarg: the user's struct cohbuf_info
 *
 * Return: 0, or the negative errno of the uapi kernel-doc.
 */
long cohbuf_ioctl_info(struct cohbuf_info __user *uarg)
{
	struct cohbuf_buffer *buf;
	struct cohbuf_info arg;
	struct dma_buf *dmabuf;
	bool dma_addr;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.pad || memchr_inv(arg.reserved, 0, sizeof(arg.reserved)))
		return -EINVAL;

	dmabuf = dma_buf_get(arg.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	buf = cohbuf_dmabuf_buffer(dmabuf);
	if (!buf) {
		ret = -EINVAL;
		goto put_dmabuf;
	}

	dma_addr = capable(CAP_SYS_RAWIO);
	arg.flags = buf->flags;
	arg.size = buf->size;
	arg.info_flags = dma_addr ? COHBUF_INFO_DMA_ADDR : 0;
	ret = cohbuf_info_ranges(buf, &arg, dma_addr);
	if (!ret && copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;

put_dmabuf:
	dma_buf_put(dmabuf);
	return ret;
}
