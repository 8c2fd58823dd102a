// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf demo consumer: receive a dma-buf fd over a unix socket, map it
 * read-only, and report what we see: inode, physical frames and checksum.
 * Then hand the fd to the kernel-side importer, /dev/cohbuf_importer, which
 * reports the same from its DMA addresses and kernel mapping, and writes a
 * watermark for the producer to find, as an asynchronous job that waits for
 * our read fence and that poll() on the dma-buf waits for.
 *
 * Then, for each frame the producer announces with its fence, wait with
 * poll() on the dma-buf, as any implicit-sync consumer does, and read it;
 * the fence's sync_file tells whether the frame completed or failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "libcohbuf.h"
#include "demo.h"
#include "frame.h"

static int die(const char *what, int err)
{
	fprintf(stderr, "consumer: %s: %s\n", what, strerror(err));
	return 1;
}

static int listen_on(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int sock;

	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	unlink(path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(sock, 1))
		return -errno;
	return sock;
}

static int imp_frame(int imp, uint32_t handle, uint64_t offset, uint64_t *pfn)
{
	int ret = cohbuf_importer_dma_addr(imp, handle, offset, pfn);

	*pfn /= sysconf(_SC_PAGESIZE);
	return ret;
}

static uint32_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint32_t)(t.tv_sec * 1000 + t.tv_nsec / 1000000);
}

/*
 * The importer writes the watermark as a device would: an asynchronous
 * FILL that waits for our read fence (we are still reading the frame),
 * and that poll() on the dma-buf waits for in turn.
 */
static int watermark_async(int imp, uint32_t handle, int fd)
{
	int dev, fence, ret, status = 0;
	uint32_t start;

	dev = cohbuf_open();
	if (dev < 0)
		return dev;
	fence = cohbuf_fence_attach(dev, fd, 0, 0);
	if (fence < 0) {
		ret = fence;
		goto close_dev;
	}
	ret = cohbuf_importer_fill_async(imp, handle, 0, DEMO_MARK_LEN,
					 DEMO_WATERMARK);
	if (!ret) {
		ret = cohbuf_importer_wait(imp, handle, 0, NULL, NULL);
		ret = ret == -ETIMEDOUT ? 0 : ret ?: -EPROTO;
	}
	if (!ret)
		printf("importer: queued an asynchronous FILL of the watermark: it waits for the consumer's read fence\n");
	cohbuf_fence_signal(dev, fence, 0);
	close(fence);
	if (ret)
		goto close_dev;
	start = now_ms();
	ret = cohbuf_fence_wait(fd, POLLIN, -1);
	if (!ret)
		ret = cohbuf_importer_wait(imp, handle, 0, &status, NULL);
	if (!ret)
		printf("consumer: signalled its read fence; poll() on the dma-buf returned after %u ms, when the importer's job had run (status %d)\n",
		       now_ms() - start, status);
	ret = ret ?: status;
close_dev:
	close(dev);
	return ret;
}

/* Attach through the importer: its frames and CRC, then the watermark. */
static int import(int fd, struct demo_reply *r)
{
	long page = sysconf(_SC_PAGESIZE);
	struct cohbuf_imp_attach att;
	int imp, ret;

	imp = cohbuf_importer_open();
	if (imp < 0)
		return imp;
	ret = cohbuf_importer_attach(imp, fd, &att);
	if (ret)
		goto out;
	printf("consumer: handed the fd to " COHBUF_IMPORTER_DEVICE ": %u DMA segments\n",
	       att.nents);
	r->importer.size = att.size;
	ret = cohbuf_importer_crc32(imp, att.handle, 0, att.size,
				    &r->importer.crc32);
	if (!ret)
		ret = imp_frame(imp, att.handle, 0, &r->importer.pfn_first);
	if (!ret)
		ret = imp_frame(imp, att.handle, (att.size - 1) & ~(page - 1),
				&r->importer.pfn_last);
	if (!ret)
		ret = watermark_async(imp, att.handle, fd);
	r->watermark = DEMO_WATERMARK;
out:
	close(imp);	/* detaches */
	return ret;
}

/* Each announced frame: wait for its write fence on the dma-buf, read it. */
static int fenced_frames(int sock, int fd, const void *map, uint64_t size)
{
	struct demo_frame frame = { 0 };
	struct demo_frame_reply r;
	uint32_t start;
	int fence, ret;

	while (!frame.last) {
		ret = cohbuf_recv_fds(sock, &fence, 1, &frame, sizeof(frame));
		if (ret != 1)
			return ret < 0 ? ret : -EBADMSG;
		start = now_ms();
		ret = cohbuf_fence_wait(fd, POLLIN, -1);
		if (ret)
			return ret;
		r.seq = frame.seq;
		r.waited_ms = now_ms() - start;
		r.status = cohbuf_fence_status(fence);
		r.crc32 = cohbuf_crc32(0, map, size);
		close(fence);
		if (r.status == 1)
			printf("consumer: frame %u: poll() on the dma-buf returned after %u ms; read it, crc32 %08x\n",
			       r.seq, r.waited_ms, r.crc32);
		else
			printf("consumer: frame %u: poll() returned after %u ms, but the frame failed: %s; not displayed\n",
			       r.seq, r.waited_ms, strerror(-r.status));
		fflush(stdout);
		if (write(sock, &r, sizeof(r)) != sizeof(r))
			return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct demo_reply reply = { 0 };
	struct demo_view theirs, mine;
	int lsock, sock, fd, ret;
	void *map;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
		return 2;
	}
	lsock = listen_on(argv[1]);
	if (lsock < 0)
		return die("listen", -lsock);
	printf("consumer: waiting on %s\n", argv[1]);
	fflush(stdout);
	sock = accept(lsock, NULL, NULL);
	if (sock < 0)
		return die("accept", errno);
	ret = cohbuf_recv_fds(sock, &fd, 1, &theirs, sizeof(theirs));
	if (ret != 1)
		return die("receive fd", ret < 0 ? -ret : EBADMSG);

	ret = cohbuf_map(fd, 0, theirs.size, PROT_READ, &map);
	if (ret)
		return die("mmap", -ret);
	ret = demo_view(fd, map, theirs.size, &mine);
	if (ret)
		return die("inspect buffer", -ret);
	printf("consumer: received fd %d and mapped the %.1f MiB buffer read-only\n",
	       fd, theirs.size / 1048576.0);
	demo_print("consumer:", &mine);

	reply.consumer = mine;
	reply.err = -import(fd, &reply);
	if (reply.err)
		fprintf(stderr, "consumer: importer: %s\n", strerror(reply.err));
	else
		printf("importer: DMA address of the first page at pfn %#llx, of the last page at pfn %#llx, crc32 %08x\n",
		       (unsigned long long)reply.importer.pfn_first,
		       (unsigned long long)reply.importer.pfn_last,
		       reply.importer.crc32);
	if (write(sock, &reply, sizeof(reply)) != sizeof(reply))
		return die("reply", errno);
	ret = fenced_frames(sock, fd, map, theirs.size);
	if (ret)
		return die("fenced frames", -ret);
	unlink(argv[1]);
	return 0;
}
