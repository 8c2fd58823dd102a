// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cohbuf_util.h"
#include "demo.h"

/* Inode, first and last page frame, and CRC-32 of a mapped buffer. */
int demo_view(int fd, const void *map, uint64_t size, struct demo_view *v)
{
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;
	int ret;

	if (fstat(fd, &st))
		return -errno;
	v->size = size;
	v->ino = st.st_ino;
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
