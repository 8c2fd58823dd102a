// SPDX-License-Identifier: GPL-2.0
/*
 * Fences: what synchronising a producer and a consumer with cohbuf fences
 * costs, against the ways processes do it without them. In one boot,
 * interleaved:
 *
 *   fence_wake  the wake-up latency of a consumer asleep in poll(): on a
 *               dma-buf whose write fence the producer signals
 *               (COHBUF_IOCTL_FENCE_SIGNAL), on an eventfd the producer
 *               writes, on a unix socket that gets one byte. Timed from
 *               just before the producer's call to just after the
 *               consumer's poll() returns (CLOCK_MONOTONIC in both).
 *   fence_ring  frames per second of a producer/consumer ring of three
 *               3840x2160 RGBA buffers (31.6 MiB), each frame written in
 *               full by the producer and read in full by the consumer.
 *               "socket": the producer writes, then sends "ready"; the
 *               consumer reads, then sends "released". "fenced" (implicit
 *               sync): the producer attaches a write fence, sends "ready"
 *               before writing, then signals the fence; the consumer
 *               attaches a read fence, sends "released" before reading,
 *               waits with poll(POLLIN) on the dma-buf, reads, signals its
 *               fence; the producer, once it has that message, waits with
 *               poll(POLLOUT) on the dma-buf before reusing the buffer.
 *               Both send the same two fd-less messages a frame; only the
 *               waiting differs: the fences live in the buffers'
 *               reservation objects, so no sync_file travels.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "libcohbuf.h"

#define RING		3
#define FRAME_SIZE	((size_t)3840 * 2160 * 4)

enum waker { WAKE_FENCE, WAKE_EVENTFD, WAKE_UNIX, WAKE_NR };

static const char *const waker_names[WAKE_NR] = {
	"cohbuf-fence", "eventfd", "unix-byte",
};

/* What the producer tells the consumer, and the consumer answers. */
struct fmsg {
	uint32_t what;		/* enum waker, or the ring frame's buffer */
	uint32_t quit;
	double t;		/* the consumer's wake-up time, in µs */
};

static void fsend(int sock, const struct fmsg *m, int fd)
{
	int ret = cohbuf_send_fds(sock, &fd, fd >= 0, m, sizeof(*m));

	if (ret)
		die("fence: send: %s", strerror(-ret));
}

static int frecv(int sock, struct fmsg *m)
{
	int fd = -1, n = cohbuf_recv_fds(sock, &fd, 1, m, sizeof(*m));

	if (n < 0)
		die("fence: receive: %s", strerror(-n));
	return n ? fd : -1;
}

static void wait_fd(int fd, short events)
{
	int ret = cohbuf_fence_wait(fd, events, -1);

	if (ret)
		die("fence: poll: %s", strerror(-ret));
}

/* ---- wake-up latency ---- */

struct wake_fds {
	int dmabuf;
	int efd;
	int sock[2];		/* [0] producer, [1] consumer */
};

static void __attribute__((noreturn)) wake_consumer(int ctl, const struct wake_fds *w)
{
	struct fmsg m;
	char byte;
	uint64_t v;

	for (;;) {
		frecv(ctl, &m);
		if (m.quit)
			_exit(0);
		/* ready: the producer sleeps a moment, then wakes us */
		fsend(ctl, &m, -1);
		switch (m.what) {
		case WAKE_FENCE:
			wait_fd(w->dmabuf, POLLIN);
			break;
		case WAKE_EVENTFD:
			wait_fd(w->efd, POLLIN);
			if (read(w->efd, &v, sizeof(v)) != sizeof(v))
				die("fence: eventfd read: %s", strerror(errno));
			break;
		default:
			wait_fd(w->sock[1], POLLIN);
			if (read(w->sock[1], &byte, 1) != 1)
				die("fence: socket read: %s", strerror(errno));
		}
		m.t = now_us();
		fsend(ctl, &m, -1);
	}
}

/* One wake-up of @what: the latency in µs. */
static double wake_once(int ctl, const struct wake_fds *w, enum waker what)
{
	struct fmsg m = { .what = what };
	uint64_t one = 1;
	int fence = -1, ret = 0;
	double t0;

	if (what == WAKE_FENCE) {
		fence = cohbuf_fence_attach(bench.cohbuf_dev, w->dmabuf, COHBUF_FENCE_WRITE, 0);
		if (fence < 0)
			die("fence: attach: %s", strerror(-fence));
	}
	fsend(ctl, &m, -1);
	frecv(ctl, &m);
	usleep(2000);	/* the consumer is asleep in poll() by now */
	t0 = now_us();
	if (what == WAKE_FENCE)
		ret = cohbuf_fence_signal(bench.cohbuf_dev, fence, 0);
	else if (what == WAKE_EVENTFD)
		ret = write(w->efd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
	else
		ret = write(w->sock[0], "x", 1) == 1 ? 0 : -errno;
	if (ret)
		die("fence: wake %s: %s", waker_names[what], strerror(-ret));
	frecv(ctl, &m);
	if (fence >= 0)
		close(fence);
	return m.t - t0;
}

static void metric_fence_wake(void)
{
	unsigned int reps = bench.quick ? 50 : 300, warm = 20;
	struct fmsg quit = { .quit = 1 };
	struct wake_fds w;
	struct buf b;
	int ctl[2], ret;
	pid_t pid;

	ret = buf_alloc(MECH_COHBUF, 4096, false, &b);
	if (ret)
		die("fence: alloc: %s", strerror(-ret));
	w.dmabuf = b.fd;
	w.efd = eventfd(0, EFD_CLOEXEC);
	if (w.efd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, w.sock) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl))
		die("fence: eventfd/socketpair: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fence: fork: %s", strerror(errno));
	if (pid == 0)
		wake_consumer(ctl[1], &w);

	/* interleaved: each repetition wakes once by each mechanism */
	for (unsigned int r = 0; r < warm + reps; r++) {
		for (unsigned int k = 0; k < WAKE_NR; k++) {
			enum waker what = (r + k) % WAKE_NR;
			double us = wake_once(ctl[0], &w, what);

			if (r >= warm)
				csv_row_name("fence_wake", waker_names[what], 0, r - warm, us, "us");
		}
	}
	fsend(ctl[0], &quit, -1);
	waitpid(pid, NULL, 0);
	close(ctl[0]);
	close(ctl[1]);
	close(w.efd);
	close(w.sock[0]);
	close(w.sock[1]);
	buf_free(&b);
}

/* ---- the ring ---- */

struct ring {
	struct buf b[RING];
	void *map[RING];
	int dev;		/* the consumer's own /dev/cohbuf */
};

static volatile uint64_t sink;

/* The consumer of both rings: read each frame; release it. */
static void __attribute__((noreturn)) ring_consumer(int ctl, struct ring *r, bool fenced)
{
	struct fmsg m;
	int rfence = -1;

	for (;;) {
		frecv(ctl, &m);
		if (m.quit)
			_exit(0);
		if (fenced) {
			/*
			 * The release, sent before reading: the producer waits
			 * for this read fence in the buffer.
			 */
			rfence = cohbuf_fence_attach(r->dev, r->b[m.what].fd, 0, 0);
			if (rfence < 0)
				die("fence: read fence: %s", strerror(-rfence));
			fsend(ctl, &m, -1);
			wait_fd(r->b[m.what].fd, POLLIN);
		}
		dmabuf_sync(r->b[m.what].fd, true, false);
		sink += mem_read(r->map[m.what], FRAME_SIZE);
		dmabuf_sync(r->b[m.what].fd, false, false);
		if (fenced) {
			cohbuf_fence_signal(r->dev, rfence, 0);
			close(rfence);
		} else {
			fsend(ctl, &m, -1);
		}
	}
}

/*
 * One frame into buffer @i: written, handed over. The release message of
 * the frame that last used it has come; a fenced ring waits here for that
 * frame's read fence.
 */
static void ring_frame(int ctl, struct ring *r, unsigned int i, bool fenced)
{
	struct fmsg m = { .what = i };
	int wfence = -1;

	if (fenced)
		wait_fd(r->b[i].fd, POLLOUT);
	/* before the fence: a write SYNC_START would wait for it */
	dmabuf_sync(r->b[i].fd, true, true);
	if (fenced) {
		wfence = cohbuf_fence_attach(bench.cohbuf_dev, r->b[i].fd, COHBUF_FENCE_WRITE, 0);
		if (wfence < 0)
			die("fence: write fence: %s", strerror(-wfence));
		fsend(ctl, &m, -1);
	}
	mem_write(r->map[i], FRAME_SIZE, i + 1);
	dmabuf_sync(r->b[i].fd, false, true);
	if (fenced) {
		cohbuf_fence_signal(bench.cohbuf_dev, wfence, 0);
		close(wfence);
	} else {
		fsend(ctl, &m, -1);
	}
}

/* The next release message: "released", or "my read fence is on". */
static void ring_collect(int ctl)
{
	struct fmsg m;

	frecv(ctl, &m);
}

/* Frames per second of @frames frames through the ring. */
static double ring_run(struct ring *r, bool fenced, unsigned int frames)
{
	struct fmsg quit = { .quit = 1 };
	unsigned int sent = 0, got = 0;
	int ctl[2];
	double t0, t1;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl))
		die("fence: socketpair: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fence: fork: %s", strerror(errno));
	if (pid == 0) {
		close(ctl[0]);
		ring_consumer(ctl[1], r, fenced);
	}
	close(ctl[1]);
	t0 = now_us();
	for (sent = 0; sent < frames; sent++) {
		/* the release of the frame that last used this buffer */
		while (sent >= RING && got <= sent - RING) {
			ring_collect(ctl[0]);
			got++;
		}
		ring_frame(ctl[0], r, sent % RING, fenced);
	}
	for (; got < sent; got++)
		ring_collect(ctl[0]);
	for (unsigned int i = 0; fenced && i < RING; i++)
		wait_fd(r->b[i].fd, POLLOUT);
	t1 = now_us();
	fsend(ctl[0], &quit, -1);
	waitpid(pid, NULL, 0);
	close(ctl[0]);
	return frames / ((t1 - t0) / 1e6);
}

/*
 * Untimed pairs of runs, for at least WARM_US: the frame rate climbs for
 * the first seconds after the buffers are allocated, and a pair timed then
 * measures the climb, not the rings.
 */
#define WARM_US		2000000.0

static void metric_fence_ring(void)
{
	/* A ratio is the median of many pairs: the host's load moves within one. */
	unsigned int reps = bench.quick ? 6 : 10, frames = bench.quick ? 12 : 30;
	static const char *const names[2] = { "socket", "fenced" };
	struct ring r;
	double t0;
	int ret;

	r.dev = cohbuf_open();
	if (r.dev < 0)
		die("fence: open: %s", strerror(-r.dev));
	for (unsigned int i = 0; i < RING; i++) {
		ret = buf_alloc(MECH_COHBUF, FRAME_SIZE, true, &r.b[i]);
		if (ret)
			die("fence: alloc: %s", strerror(-ret));
		r.map[i] = buf_map(&r.b[i], true);
		if (!r.map[i])
			die("fence: map: %s", strerror(errno));
	}
	for (t0 = now_us(); now_us() - t0 < WARM_US;) {
		ring_run(&r, false, frames);
		ring_run(&r, true, frames);
	}
	for (unsigned int rep = 0; rep < reps; rep++) {
		for (unsigned int k = 0; k < 2; k++) {
			bool fenced = (rep + k) % 2;

			csv_row_name("fence_ring", names[fenced], FRAME_SIZE, rep,
				     ring_run(&r, fenced, frames), "fps");
		}
	}
	for (unsigned int i = 0; i < RING; i++) {
		buf_unmap(&r.b[i], r.map[i]);
		buf_free(&r.b[i]);
	}
	close(r.dev);
}

void metric_fence(const size_t *sizes, unsigned int n)
{
	(void)sizes;
	(void)n;
	if (!mechs[MECH_COHBUF].available) {
		printf("# fence: cohbuf is not available: %s\n", mechs[MECH_COHBUF].why);
		return;
	}
	progress("fence: wake-up latency");
	metric_fence_wake();
	progress("fence: ring of %d frames", RING);
	metric_fence_ring();
}
