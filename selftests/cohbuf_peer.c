// SPDX-License-Identifier: GPL-2.0
/*
 * The other process of cohbuf_share: a separately exec'd program that
 * receives a cohbuf dma-buf over a unix socket (SCM_RIGHTS), maps it,
 * checks the sender's pattern, writes a pattern of its own back, and
 * reports the buffer's inode and, through its own attachment to the test
 * importer, the DMA addresses of the first and last page and the CRC-32
 * the importer reads after the write.
 *
 * Usage: cohbuf_peer <socket fd>
 * Exit status 0 when a reply was sent (the reply says what failed, if
 * anything), 1 when no reply could be sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "cohbuf_test.h"

static int fail(struct peer_reply *reply, const char *step, int err)
{
	reply->err = err;
	snprintf(reply->step, sizeof(reply->step), "%s", step);
	return -1;
}

/* What the test importer, attached by this process, sees of @fd. */
static int importer_view(int fd, uint64_t size, struct peer_reply *reply)
{
	struct cohbuf_imp_attach arg;
	const char *step = "importer open";
	int imp, ret;

	imp = cohbuf_importer_open();
	if (imp < 0)
		return fail(reply, step, -imp);
	step = "importer attach";
	ret = cohbuf_importer_attach(imp, fd, &arg);
	if (ret)
		goto out_close;
	step = "importer DMA_ADDR";
	ret = cohbuf_importer_dma_addr(imp, arg.handle, 0, &reply->dma_first);
	if (!ret)
		ret = cohbuf_importer_dma_addr(imp, arg.handle, size - page_size(),
					       &reply->dma_last);
	if (!ret) {
		step = "importer CRC32";
		ret = cohbuf_importer_crc32(imp, arg.handle, 0, size, &reply->crc32);
	}
	cohbuf_importer_detach(imp, arg.handle);
out_close:
	close(imp);
	return ret ? fail(reply, step, -ret) : 0;
}

static int serve(int sock, struct peer_reply *reply)
{
	struct peer_request req;
	int fd = -1, ret;
	off_t size;
	char *map;

	ret = cohbuf_recv_fds(sock, &fd, 1, &req, sizeof(req));
	if (ret != 1)
		return fail(reply, "recv_fds", ret < 0 ? -ret : EBADMSG);

	size = lseek(fd, 0, SEEK_END);
	if (size < 0) {
		ret = fail(reply, "lseek", errno);
		goto out_close;
	}
	reply->size = size;
	ret = cohbuf_ino(fd, &reply->ino);
	if (ret) {
		ret = fail(reply, "fstat", -ret);
		goto out_close;
	}
	if ((uint64_t)size != req.size) {
		ret = fail(reply, "size", EINVAL);
		goto out_close;
	}

	map = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
	if (map == MAP_FAILED) {
		ret = fail(reply, "mmap", errno);
		goto out_close;
	}
	reply->bad_offset = pattern_check(map, size, 0, req.seed_in);
	if (reply->bad_offset != -1) {
		ret = fail(reply, "pattern", EIO);
		goto out_unmap;
	}
	pattern_fill(map, size, 0, req.seed_out);
	ret = importer_view(fd, size, reply);
out_unmap:
	munmap(map, size);
out_close:
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	struct peer_reply reply = { .bad_offset = -1 };
	char *end;
	int sock;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <socket fd>\n", argv[0]);
		return 1;
	}
	sock = strtol(argv[1], &end, 10);
	if (*end || sock < 0) {
		fprintf(stderr, "%s: bad socket fd '%s'\n", argv[0], argv[1]);
		return 1;
	}
	serve(sock, &reply);
	if (send(sock, &reply, sizeof(reply), MSG_NOSIGNAL) != sizeof(reply)) {
		perror("cohbuf_peer: send");
		return 1;
	}
	close(sock);
	return 0;
}
