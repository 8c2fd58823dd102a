// SPDX-License-Identifier: GPL-2.0
/*
 * What each side of the demo sees of the buffer. The frames come from
 * COHBUF_IOCTL_INFO's DMA addresses (CAP_SYS_RAWIO): cohbuf maps buffers
 * by frame number (VM_PFNMAP), which /proc/PID/pagemap does not show, and
 * in the demo's guest there is no IOMMU, so a DMA address is a physical
 * address. The importer's frames, from its own DMA addresses, must be the
 * same; the CRC-32s and the importer's watermark show that every mapping
 * reaches the same bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "libcohbuf.h"
#include "demo.h"

/* The frame of byte @off of buffer @fd, by INFO. */
static int info_frame(int dev, int fd, uint64_t off, uint64_t *pfn)
{
	long page = sysconf(_SC_PAGESIZE);
	struct cohbuf_info info;
	struct cohbuf_range *r;
	int n, i, ret = -ERANGE;

	n = cohbuf_info_ranges(dev, fd, &info, &r);
	if (n <= 0)
		return n < 0 ? n : -ENODATA;
	if (!(info.info_flags & COHBUF_INFO_DMA_ADDR)) {
		free(r);
		return -EPERM;
	}
	for (i = 0; i < n; i++) {
		if (off >= r[i].offset && off - r[i].offset < r[i].size) {
			*pfn = (r[i].dma_addr + off - r[i].offset) / page;
			ret = 0;
			break;
		}
	}
	free(r);
	return ret;
}

/* Inode, first and last page frame, and CRC-32 of a mapped buffer. */
int demo_view(int fd, const void *map, uint64_t size, struct demo_view *v)
{
	long page = sysconf(_SC_PAGESIZE);
	int dev, ret;

	ret = cohbuf_ino(fd, &v->ino);
	if (ret)
		return ret;
	v->size = size;
	v->crc32 = cohbuf_crc32(0, map, size);
	dev = cohbuf_open();
	if (dev < 0)
		return dev;
	ret = info_frame(dev, fd, 0, &v->pfn_first);
	if (!ret)
		ret = info_frame(dev, fd, (size - 1) & ~(page - 1), &v->pfn_last);
	close(dev);
	return ret;
}

void demo_print(const char *who, const struct demo_view *v)
{
	printf("%-9s inode %llu, first page at pfn %#llx, last page at pfn %#llx (COHBUF_IOCTL_INFO), crc32 %08x\n",
	       who, (unsigned long long)v->ino,
	       (unsigned long long)v->pfn_first,
	       (unsigned long long)v->pfn_last, v->crc32);
	fflush(stdout);
}
