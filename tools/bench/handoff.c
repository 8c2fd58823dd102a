// SPDX-License-Identifier: GPL-2.0
/*
 * Hand-off: a producer has a filled frame; a consumer, another process,
 * has it mapped and has read every byte. Zero-copy mechanisms pass an fd
 * over a unix socket; the pipe and the unix socket send the bytes, which
 * the consumer then reads from its own memory. Each frame is timed at the
 * producer, from the start of the hand-off to the consumer's
 * acknowledgement, in two ways:
 *
 *   pool   three buffers, filled once, reused in turn; the fd of each is
 *          sent with its first frame only. A copy consumer receives into
 *          one reused buffer.
 *   fresh  a new buffer per frame: allocated, mapped and filled by the
 *          producer, mapped, read and unmapped by the consumer, then freed,
 *          all inside the timed frame; copies use new anonymous memory.
 *
 * The pipe and the socket get buffers that hold a whole frame: with the
 * default ones each side sleeps and is woken once per buffer full, and a
 * cross-vCPU wakeup under TCG costs 0.1 ms to several ms on a busy host,
 * so the copies would measure the scheduler.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "libcohbuf.h"

#define POOL		3
#define BATCHES		6

enum op { OP_POOL, OP_FRESH, OP_COPY, OP_QUIT };

struct msg {
	uint32_t op;
	uint32_t index;		/* OP_POOL: which pool buffer */
	uint64_t size;		/* bytes of the frame */
	uint32_t mech;
	uint32_t fresh;		/* OP_COPY: receive into new memory */
};

struct link {
	int ctl;		/* producer end of the control socket */
	int data_wr;		/* copy mechanisms: producer's write end */
	pid_t consumer;
};

static volatile uint64_t sink;

/* One message, with @fd if it is not -1. */
static void send_msg(int sock, const struct msg *m, int fd)
{
	int ret = cohbuf_send_fds(sock, &fd, fd >= 0, m, sizeof(*m));

	if (ret)
		die("handoff: send: %s", strerror(-ret));
}

/* One message, and the fd that may come with it (else -1). */
static void recv_msg(int sock, struct msg *m, int *fd)
{
	int n = cohbuf_recv_fds(sock, fd, 1, m, sizeof(*m));

	if (n < 0)
		die("handoff: receive: %s", strerror(-n));
	if (!n)
		*fd = -1;
}

static void write_all(int fd, const void *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("handoff: write: %s", strerror(errno));
		p = (const char *)p + n;
		len -= n;
	}
}

static void read_all(int fd, void *p, size_t len)
{
	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("handoff: read: %s", n ? strerror(errno) : "end of file");
		p = (char *)p + n;
		len -= n;
	}
}

static void *anon_map(size_t len, bool populate)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0),
		       -1, 0);

	if (p == MAP_FAILED)
		die("handoff: mmap: %s", strerror(errno));
	return p;
}

static void *map_fd(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("handoff: consumer mmap: %s", strerror(errno));
	return p;
}

/* Read a shared frame as a dma-buf consumer does. */
static uint64_t consume(int fd, bool dmabuf, const void *p, size_t size)
{
	uint64_t sum;

	if (dmabuf)
		dmabuf_sync(fd, true, false);
	sum = mem_read(p, size);
	if (dmabuf)
		dmabuf_sync(fd, false, false);
	return sum;
}

static void __attribute__((noreturn)) consumer(int ctl, int data_rd)
{
	int pool_fd[POOL] = { -1, -1, -1 };
	void *pool_map[POOL] = { NULL };
	void *rx = NULL;

	for (;;) {
		struct msg m;
		uint64_t sum = 0;
		size_t len;
		int fd;

		recv_msg(ctl, &m, &fd);
		len = page_round(m.size);
		switch (m.op) {
		case OP_POOL:
			if (m.index >= POOL)
				die("handoff: bad pool index %u", m.index);
			if (fd >= 0) {
				pool_fd[m.index] = fd;
				pool_map[m.index] = map_fd(fd, len);
			}
			sum = consume(pool_fd[m.index], mechs[m.mech].dmabuf,
				      pool_map[m.index], m.size);
			break;
		case OP_FRESH: {
			void *p = map_fd(fd, len);

			sum = consume(fd, mechs[m.mech].dmabuf, p, m.size);
			munmap(p, len);
			close(fd);
			break;
		}
		case OP_COPY:
			if (m.fresh) {
				void *p = anon_map(len, false);

				read_all(data_rd, p, m.size);
				sum = mem_read(p, m.size);
				munmap(p, len);
			} else {
				if (!rx)
					rx = anon_map(len, true);
				read_all(data_rd, rx, m.size);
				sum = mem_read(rx, m.size);
			}
			break;
		case OP_QUIT:
			_exit(0);
		}
		write_all(ctl, &sum, sizeof(sum));
	}
}

static void wait_ack(int ctl)
{
	uint64_t sum;

	read_all(ctl, &sum, sizeof(sum));
	sink += sum;
}

#define PIPE_MAX_SIZE	"/proc/sys/fs/pipe-max-size"

static long pipe_max_old = -1;

static void pipe_max_restore(void)
{
	knob_write(PIPE_MAX_SIZE, pipe_max_old);
}

/* A pipe buffer of at least @size bytes, or the largest allowed. */
static void pipe_grow(int fd, size_t size)
{
	long want = 1 << 16, max = knob_read(PIPE_MAX_SIZE);

	while ((size_t)want < size)
		want <<= 1;
	if (max >= 0 && max < want) {
		if (pipe_max_old < 0) {
			pipe_max_old = max;
			atexit(pipe_max_restore);
		}
		knob_write(PIPE_MAX_SIZE, want);
		max = knob_read(PIPE_MAX_SIZE);
	}
	if (max >= 0 && want > max)
		want = max;
	if (fcntl(fd, F_SETPIPE_SZ, want) < 0)
		die("handoff: F_SETPIPE_SZ %ld: %s", want, strerror(errno));
}

/* Socket buffers that hold @size bytes (the kernel doubles the value). */
static void socket_grow(int fd, int opt_force, int opt, size_t size)
{
	int v = size + (1 << 16);

	if (setsockopt(fd, SOL_SOCKET, opt_force, &v, sizeof(v)) &&
	    setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)))
		die("handoff: socket buffer: %s", strerror(errno));
}

static struct link link_open(enum mech_id mech, size_t size)
{
	int ctl[2], data[2] = { -1, -1 };
	struct link l = { .data_wr = -1 };

	/* Messages and acknowledgements keep their boundaries. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl))
		die("handoff: socketpair: %s", strerror(errno));
	if (mech == MECH_PIPE) {
		if (pipe2(data, O_CLOEXEC))
			die("handoff: pipe: %s", strerror(errno));
		pipe_grow(data[1], size);
	} else if (mech == MECH_UNIX) {
		/* [0] reads and [1] writes, as for the pipe. */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, data))
			die("handoff: socketpair: %s", strerror(errno));
		socket_grow(data[1], SO_SNDBUFFORCE, SO_SNDBUF, size);
		socket_grow(data[0], SO_RCVBUFFORCE, SO_RCVBUF, size);
	}
	fflush(stdout);
	l.consumer = fork();
	if (l.consumer < 0)
		die("handoff: fork: %s", strerror(errno));
	if (!l.consumer) {
		close(ctl[0]);
		if (data[1] >= 0)
			close(data[1]);
		consumer(ctl[1], data[0]);
	}
	close(ctl[1]);
	if (data[0] >= 0)
		close(data[0]);
	l.ctl = ctl[0];
	l.data_wr = data[1];
	return l;
}

static void link_close(struct link *l)
{
	struct msg m = { .op = OP_QUIT };
	int status;

	send_msg(l->ctl, &m, -1);
	if (waitpid(l->consumer, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		die("handoff: the consumer failed");
	close(l->ctl);
	if (l->data_wr >= 0)
		close(l->data_wr);
}

/* One frame by copy; @fresh: new memory on both sides. */
static double frame_copy(struct link *l, enum mech_id mech, const void *src,
			 size_t size, bool fresh)
{
	struct msg m = { .op = OP_COPY, .size = size, .mech = mech, .fresh = fresh };
	size_t len = page_round(size);
	double t0 = now_us();

	send_msg(l->ctl, &m, -1);
	if (fresh) {
		void *p = anon_map(len, false);

		mem_write(p, size, 0x5a);
		write_all(l->data_wr, p, size);
		wait_ack(l->ctl);
		munmap(p, len);
	} else {
		write_all(l->data_wr, src, size);
		wait_ack(l->ctl);
	}
	return now_us() - t0;
}

/* One frame in a fresh buffer; returns its latency, or < 0 if allocation failed. */
static double frame_fresh(struct link *l, enum mech_id mech, size_t size)
{
	struct msg m = { .op = OP_FRESH, .size = size, .mech = mech };
	double t0 = now_us();
	struct buf b;
	void *p;
	int ret;

	ret = buf_alloc(mech, size, false, &b);
	if (ret) {
		alloc_failed(mech, size, ret);
		return -1;
	}
	p = buf_map(&b, false);
	if (!p)
		die("handoff: %s: mmap: %s", mechs[mech].name, strerror(errno));
	buf_sync(&b, true, true);
	mem_write(p, size, 0x5a);
	buf_sync(&b, false, true);
	send_msg(l->ctl, &m, b.fd);
	wait_ack(l->ctl);
	buf_unmap(&b, p);
	buf_free(&b);
	return now_us() - t0;
}

/*
 * Run @warm untimed then @frames timed frames of one mechanism, one way;
 * rows are numbered from *@row.
 */
static void handoff_run(enum mech_id mech, bool fresh, size_t size,
			unsigned int frames, int *row)
{
	const char *metric = fresh ? "handoff_fresh" : "handoff_pool";
	struct link l = link_open(mech, size);
	struct buf pool[POOL];
	bool sent[POOL] = { false };
	void *src = NULL;
	unsigned int warm = fresh ? 1 : POOL;
	unsigned int npool = 0;

	if (mechs[mech].copy) {
		src = anon_map(page_round(size), true);
		mem_write(src, size, 0x5a);
	} else if (!fresh) {
		for (; npool < POOL; npool++) {
			int ret = buf_alloc(mech, size, false, &pool[npool]);
			void *p;

			if (ret) {
				alloc_failed(mech, size, ret);
				goto out;
			}
			p = buf_map(&pool[npool], false);
			if (!p)
				die("handoff: %s: mmap: %s", mechs[mech].name,
				    strerror(errno));
			mem_write(p, size, 0x5a + npool);
			buf_unmap(&pool[npool], p);
		}
	}

	for (unsigned int f = 0; f < warm + frames; f++) {
		double t;

		if (mechs[mech].copy) {
			t = frame_copy(&l, mech, src, size, fresh);
		} else if (fresh) {
			t = frame_fresh(&l, mech, size);
			if (t < 0)
				break;
		} else {
			struct msg m = {
				.op = OP_POOL, .index = f % POOL, .size = size, .mech = mech,
			};
			double t0 = now_us();

			send_msg(l.ctl, &m, sent[m.index] ? -1 : pool[m.index].fd);
			sent[m.index] = true;
			wait_ack(l.ctl);
			t = now_us() - t0;
		}
		if (f >= warm)
			csv_row(metric, mech, size, (*row)++, t, "us");
	}
out:
	link_close(&l);
	for (unsigned int i = 0; i < npool; i++)
		buf_free(&pool[i]);
	if (src)
		munmap(src, page_round(size));
}

void metric_handoff(const size_t *sizes, unsigned int n)
{
	static const enum mech_id want[] = {
		MECH_PIPE, MECH_UNIX, MECH_MEMFD, MECH_VGEM, MECH_UDMABUF,
		MECH_HEAP, MECH_COHBUF,
	};
	unsigned int per_batch = (bench.frames + BATCHES - 1) / BATCHES;
	enum mech_id list[MECH_NR];
	unsigned int nl = mech_list(want, ARRAY_SIZE(want), list);

	for (unsigned int s = 0; s < n; s++) {
		for (int fresh = 0; fresh <= 1; fresh++) {
			int rows[MECH_NR] = { 0 };

			progress("handoff %s: %zu bytes", fresh ? "fresh" : "pool",
				 sizes[s]);
			for (unsigned int batch = 0; batch < BATCHES; batch++) {
				for (unsigned int k = 0; k < nl; k++) {
					enum mech_id m = rotate(list, nl, batch, k);

					handoff_run(m, fresh, sizes[s], per_batch, &rows[m]);
				}
			}
		}
	}
}
