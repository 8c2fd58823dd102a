// SPDX-License-Identifier: LGPL-2.1-or-later
/* libcohbuf: CRC-32, page frames from pagemap, and the debugfs buffer list. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcohbuf.h"

uint32_t cohbuf_crc32(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = buf;

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

int cohbuf_pagemap_pfn(const void *addr, uint64_t *pfn)
{
	long page = sysconf(_SC_PAGESIZE);
	off_t off = (off_t)((uintptr_t)addr / (unsigned long)page) *
		    (off_t)sizeof(uint64_t);
	uint64_t entry;
	ssize_t n;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, &entry, sizeof(entry), off);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n != sizeof(entry))
		return n < 0 ? (int)n : -EIO;
	if (!(entry & (1ULL << 63)))
		return -ENODATA;
	*pfn = entry & ((1ULL << 55) - 1);
	return 0;
}

/* One line of the buffers file: ino size chunks pid comm attachments mappings. */
static int cohbuf_parse_entry(const char *line, struct cohbuf_entry *e)
{
	unsigned long long ino, size;
	unsigned int chunks, attachments, mappings;
	char comm[sizeof(e->comm)];
	int pid;

	/* The comm is a tab-separated field and may hold spaces. */
	if (sscanf(line, "%llu\t%llu\t%u\t%d\t%15[^\t]\t%u\t%u", &ino, &size,
		   &chunks, &pid, comm, &attachments, &mappings) != 7)
		return -EBADMSG;
	*e = (struct cohbuf_entry){
		.ino = ino,
		.size = size,
		.chunks = chunks,
		.pid = pid,
		.attachments = attachments,
		.mappings = mappings,
	};
	memcpy(e->comm, comm, sizeof(comm));
	return 0;
}

/* Parse every line after the header; on error, free what was parsed. */
static int cohbuf_parse_list(FILE *f, struct cohbuf_entry **entries)
{
	struct cohbuf_entry *list = NULL, *bigger;
	size_t cap = 0, n = 0, linecap = 0;
	char *line = NULL;
	int ret = 0;

	if (getline(&line, &linecap, f) < 0)	/* the header */
		ret = ferror(f) ? -EIO : -EBADMSG;
	while (!ret && getline(&line, &linecap, f) > 0) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			bigger = realloc(list, cap * sizeof(*list));
			if (!bigger) {
				ret = -ENOMEM;
				break;
			}
			list = bigger;
		}
		ret = cohbuf_parse_entry(line, &list[n]);
		n++;
	}
	free(line);
	if (!ret && ferror(f))
		ret = -EIO;
	if (ret) {
		free(list);
		return ret;
	}
	*entries = list;
	return (int)n;
}

int cohbuf_list(struct cohbuf_entry **entries)
{
	FILE *f = fopen(COHBUF_DEBUGFS_BUFFERS, "re");
	int ret;

	*entries = NULL;
	if (!f)
		return -errno;
	ret = cohbuf_parse_list(f, entries);
	fclose(f);
	return ret;
}
