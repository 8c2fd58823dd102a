// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <unistd.h>

#include "libcohbuf.h"
#include "demo.h"

/* Inode, first and last page frame, and CRC-32 of a mapped buffer. */
int demo_view(int fd, const void *map, uint64_t size, struct demo_view *v)
{
	long page = sysconf(_SC_PAGESIZE);
	int ret;

	ret = cohbuf_ino(fd, &v->ino);
	if (ret)
		return ret;
	v->size = size;
	v->crc32 = cohbuf_crc32(0, map, size);
	ret = cohbuf_pagemap_pfn(map, &v->pfn_first);
	if (ret)
		return ret;
	return cohbuf_pagemap_pfn((const char *)map + ((size - 1) & ~(page - 1)),
				  &v->pfn_last);
}

void demo_print(const char *who, const struct demo_view *v)
{
	printf("%-9s inode %llu, first page at pfn %#llx, last page at pfn %#llx, crc32 %08x\n",
	       who, (unsigned long long)v->ino,
	       (unsigned long long)v->pfn_first,
	       (unsigned long long)v->pfn_last, v->crc32);
	fflush(stdout);
}
