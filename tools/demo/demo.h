/* SPDX-License-Identifier: GPL-2.0 */
/* What the demo's producer and consumer say to each other. */
#ifndef COHBUF_DEMO_H
#define COHBUF_DEMO_H

#include <stdint.h>

/* One 4K RGBA frame: 3840 x 2160 x 4 bytes = 31.6 MiB. */
#define DEMO_WIDTH	3840
#define DEMO_HEIGHT	2160
#define DEMO_SIZE	((uint64_t)DEMO_WIDTH * DEMO_HEIGHT * 4)

/* What each side saw of the buffer. */
struct demo_view {
	uint64_t size;
	uint64_t ino;
	uint64_t pfn_first;
	uint64_t pfn_last;
	uint32_t crc32;
	uint32_t pad;
};

/*
 * The consumer's reply: its own view, the importer's view (frames from the
 * importer's DMA addresses, CRC-32 read through its kernel mapping), and
 * the watermark the importer wrote into the first DEMO_MARK_LEN bytes.
 */
struct demo_reply {
	struct demo_view consumer;
	struct demo_view importer;
	uint32_t watermark;
	int32_t err;		/* 0, or the errno of the importer step */
};

#define DEMO_MARK_LEN	4096
#define DEMO_WATERMARK	0x1c0ffee1U

int demo_view(int fd, const void *map, uint64_t size, struct demo_view *v);
void demo_print(const char *who, const struct demo_view *v);

#endif /* COHBUF_DEMO_H */
