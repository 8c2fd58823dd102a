// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf demo producer: allocate one 4K RGBA frame from /dev/cohbuf, paint
 * it, and hand the dma-buf fd to the consumer over a unix socket. Then
 * compare what the consumer saw with what we see.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "libcohbuf.h"
#include "demo.h"

static int die(const char *what, int err)
{
	fprintf(stderr, "producer: %s: %s\n", what, strerror(err));
	return 1;
}

/* A colour gradient, so the frame is not trivially compressible. */
static void paint(uint32_t *px)
{
	for (uint32_t y = 0; y < DEMO_HEIGHT; y++)
		for (uint32_t x = 0; x < DEMO_WIDTH; x++)
			*px++ = 0xff000000U | (x * 255 / DEMO_WIDTH) << 16 |
				(y * 255 / DEMO_HEIGHT) << 8 | ((x ^ y) & 0xff);
}

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int sock;

	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof(addr)))
		return -errno;
	return sock;
}

static int same_frames(const struct demo_view *a, const struct demo_view *b)
{
	return a->pfn_first == b->pfn_first && a->pfn_last == b->pfn_last &&
	       a->crc32 == b->crc32;
}

/* The importer wrote through its kernel mapping: we read it through ours. */
static int check_watermark(const uint32_t *px, uint32_t mark)
{
	for (size_t i = 0; i < DEMO_MARK_LEN / sizeof(*px); i++) {
		if (px[i] != mark) {
			printf("producer: MISMATCH: word %zu is %#x, not the importer's watermark %#x\n",
			       i, px[i], mark);
			return 1;
		}
	}
	printf("producer: reads the importer's watermark %#x in the first %d bytes of its mapping\n",
	       mark, DEMO_MARK_LEN);
	return 0;
}

int main(int argc, char **argv)
{
	struct demo_reply theirs;
	struct demo_view mine;
	int dev, fd, sock, ret;
	void *map;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
		return 2;
	}
	dev = cohbuf_open();
	if (dev < 0)
		return die("open " COHBUF_DEVICE, -dev);
	fd = cohbuf_alloc(dev, DEMO_SIZE, "demo-frame", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return die("allocate", -fd);
	ret = cohbuf_map(fd, 0, DEMO_SIZE, PROT_READ | PROT_WRITE, &map);
	if (ret)
		return die("mmap", -ret);
	ret = cohbuf_begin_cpu_access(fd, COHBUF_ACCESS_WRITE);
	if (ret)
		return die("begin CPU access", -ret);
	paint(map);
	ret = cohbuf_end_cpu_access(fd, COHBUF_ACCESS_WRITE);
	if (ret)
		return die("end CPU access", -ret);
	ret = demo_view(fd, map, DEMO_SIZE, &mine);
	if (ret)
		return die("inspect buffer", -ret);
	printf("producer: allocated a %.1f MiB 4K RGBA frame with cohbuf and painted it\n",
	       DEMO_SIZE / 1048576.0);
	demo_print("producer:", &mine);

	sock = connect_to(argv[1]);
	if (sock < 0)
		return die("connect", -sock);
	ret = cohbuf_send_fds(sock, &fd, 1, &mine, sizeof(mine));
	if (ret)
		return die("send fd", -ret);
	printf("producer: sent the dma-buf fd over %s (SCM_RIGHTS), no pixel copied\n",
	       argv[1]);
	fflush(stdout);
	if (read(sock, &theirs, sizeof(theirs)) != sizeof(theirs))
		return die("read consumer's reply", errno ? errno : EPROTO);

	if (mine.ino != theirs.consumer.ino || !same_frames(&mine, &theirs.consumer)) {
		printf("producer: MISMATCH: the consumer saw a different buffer\n");
		return 1;
	}
	printf("producer: match: the consumer has the same inode, physical frames and checksum\n");
	if (theirs.err)
		return die("the importer step failed", theirs.err);
	if (!same_frames(&mine, &theirs.importer)) {
		printf("producer: MISMATCH: the importer saw different frames or data\n");
		return 1;
	}
	printf("producer: match: the importer's DMA addresses are the same frames, its CRC the same\n");
	return check_watermark(map, theirs.watermark);
}
