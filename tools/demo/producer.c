// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf demo producer: allocate one 4K RGBA frame from /dev/cohbuf, paint
 * it, and hand the dma-buf fd to the consumer over a unix socket. Then
 * compare what the consumer saw with what we see.
 *
 * Then paint DEMO_FRAMES more frames into the same buffer, each under a
 * cohbuf write fence that the consumer waits for with poll() on the
 * dma-buf, and one last frame in a child that is killed halfway: its
 * fence signals with an error and the consumer wakes up, not hangs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libcohbuf.h"
#include "demo.h"
#include "frame.h"

static int die(const char *what, int err)
{
	fprintf(stderr, "producer: %s: %s\n", what, strerror(err));
	return 1;
}

/*
 * A colour gradient, so the frame is not trivially compressible; @seq
 * shifts it, so that each frame differs. Rows [@from, @to).
 */
static void paint_rows(uint32_t *px, uint32_t seq, uint32_t from, uint32_t to)
{
	px += (size_t)from * DEMO_WIDTH;
	for (uint32_t y = from; y < to; y++)
		for (uint32_t x = 0; x < DEMO_WIDTH; x++)
			*px++ = 0xff000000U | ((x + seq * 64) * 255 / DEMO_WIDTH) << 16 |
				(y * 255 / DEMO_HEIGHT) << 8 | ((x ^ y ^ seq) & 0xff);
}

static void paint(uint32_t *px)
{
	paint_rows(px, 0, 0, DEMO_HEIGHT);
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

/* Attach a write fence, announce the frame with its sync_file: the fence. */
static int frame_begin(int dev, int fd, int sock, uint32_t seq, bool last)
{
	struct demo_frame frame = { .seq = seq, .last = last };
	int fence, ret;

	fence = cohbuf_fence_attach(dev, fd, COHBUF_FENCE_WRITE, 0);
	if (fence < 0)
		return fence;
	ret = cohbuf_send_fds(sock, &fence, 1, &frame, sizeof(frame));
	if (ret) {
		close(fence);
		return ret;
	}
	return fence;
}

static int frame_reply(int sock, uint32_t seq, struct demo_frame_reply *r)
{
	if (read(sock, r, sizeof(*r)) != sizeof(*r))
		return -EPROTO;
	return r->seq == seq ? 0 : -EPROTO;
}

/* DEMO_FRAMES frames, each painted under a write fence the consumer waits for. */
static int fenced_frames(int dev, int fd, int sock, uint32_t *map)
{
	struct demo_frame_reply r;
	int fence, ret;
	uint32_t crc;

	for (uint32_t seq = 1; seq <= DEMO_FRAMES; seq++) {
		fence = frame_begin(dev, fd, sock, seq, false);
		if (fence < 0)
			return die("attach a fence", -fence);
		printf("producer: frame %u: write fence attached, painting\n", seq);
		fflush(stdout);
		paint_rows(map, seq, 0, DEMO_HEIGHT);
		crc = cohbuf_crc32(0, map, DEMO_SIZE);
		ret = cohbuf_fence_signal(dev, fence, 0);
		close(fence);
		if (ret)
			return die("signal the fence", -ret);
		ret = frame_reply(sock, seq, &r);
		if (ret)
			return die("the consumer's reply", -ret);
		if (r.status != 1 || r.crc32 != crc) {
			printf("producer: MISMATCH: frame %u: the consumer read crc32 %08x (status %d), painted %08x\n",
			       seq, r.crc32, r.status, crc);
			return 1;
		}
		printf("producer: frame %u: signalled; the consumer slept %u ms in poll() and read the whole frame (crc32 %08x)\n",
		       seq, r.waited_ms, crc);
	}
	return 0;
}

/*
 * A producer of its own (its own open file of /dev/cohbuf) attaches the
 * last frame's fence and is killed halfway through painting it.
 */
static int killed_frame(int fd, int sock, uint32_t *map)
{
	struct demo_frame_reply r;
	int status, ret;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return die("fork", errno);
	if (pid == 0) {
		int dev = cohbuf_open();

		if (dev < 0 || frame_begin(dev, fd, sock, DEMO_FRAMES + 1, true) < 0)
			_exit(1);
		paint_rows(map, DEMO_FRAMES + 1, 0, DEMO_HEIGHT / 2);
		raise(SIGKILL);
	}
	waitpid(pid, &status, 0);
	printf("producer: frame %u: a second producer attached its fence and was killed halfway (%s)\n",
	       DEMO_FRAMES + 1, WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited");
	ret = frame_reply(sock, DEMO_FRAMES + 1, &r);
	if (ret)
		return die("the consumer's reply", -ret);
	if (r.status != -EPIPE) {
		printf("producer: MISMATCH: the consumer saw status %d, not -EPIPE\n", r.status);
		return 1;
	}
	printf("producer: frame %u: the consumer woke after %u ms with the fence's error: %s\n",
	       DEMO_FRAMES + 1, r.waited_ms, strerror(-r.status));
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
	ret = check_watermark(map, theirs.watermark);
	if (!ret)
		ret = fenced_frames(dev, fd, sock, map);
	if (!ret)
		ret = killed_frame(fd, sock, map);
	return ret;
}
