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

int demo_view(int fd, const void *map, uint64_t size, struct demo_view *v);
void demo_print(const char *who, const struct demo_view *v);

#endif /* COHBUF_DEMO_H */
