// SPDX-License-Identifier: GPL-2.0
/*
 * Races, for a bounded time: several processes, each with several threads,
 * do at random and all at once
 *   - alloc / mmap / munmap / mremap / MADV_DONTNEED and touch / close /
 *     fork (the child works on what it inherited, then exits);
 *   - fd passing over a ring of unix sockets between the processes;
 *   - importer attach / detach / CRC32 / FILL on a shared importer file,
 *     the same handles detached by two threads at once;
 *   - DMA_BUF_SET_NAME against readers of bufinfo, fdinfo and cohbuf's
 *     debugfs listing; DMA_BUF_IOCTL_SYNC; EXPORT_SYNC_FILE and poll(),
 *     which take the buffer's reservation lock, against the importer's
 *     vmap and map, which run under it;
 *   - a concurrent close() of the same buffers' fds, inherited by every
 *     process, while others attach, map and name them.
 * On the debug kernel, lockdep, KASAN and the DMA-API checker watch. The
 * calls may fail only with the errnos a race explains (the fd was closed
 * or reused, the handle already detached); at the end every counter is
 * back at baseline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "cohbuf_harness.h"

#define SLOTS		8	/* buffers a thread holds */
#define SHARED		4	/* buffers every process inherits */
#define HANDLES		16	/* attachments a process keeps */

enum race_op {
	OP_ALLOC, OP_CLOSE, OP_MMAP, OP_MUNMAP, OP_MREMAP, OP_TOUCH, OP_FORK,
	OP_SEND, OP_RECV, OP_ATTACH, OP_DETACH, OP_CRC, OP_NAME, OP_READERS,
	OP_SYNC, OP_FENCE, OP_SHARED, OP_CLOSE_SHARED, NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"alloc", "close", "mmap", "munmap", "mremap", "touch", "fork", "send",
	"recv", "attach", "detach", "crc32/fill", "set_name", "readers", "sync",
	"sync_file/poll", "shared fds", "close shared",
};

/* What the processes share: counts and failures, in a MAP_SHARED page. */
struct race_shared {
	_Atomic uint64_t ops[NR_OPS];
	_Atomic uint64_t unexpected;
	_Atomic int last_op;
	_Atomic int last_errno;
};

struct proc {
	struct race_shared *sh;
	int dev;
	int imp;
	int sock_next;		/* to the next process of the ring */
	int sock_prev;		/* from the previous one */
	int shared_fds[SHARED];
	_Atomic int shared_closed;
	pthread_mutex_t lock;	/* protects handles and nh */
	uint32_t handles[HANDLES];
	unsigned int nh;
	struct timespec deadline;
};

struct slot {
	int fd;
	uint64_t size;
	void *map;
	size_t len;
};

struct thread {
	struct proc *p;
	uint64_t rng;
	struct slot s[SLOTS];
};

static bool past(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* A failure a race cannot explain: count it, remember the last one. */
static void unexpected(struct proc *p, int op, int err)
{
	atomic_fetch_add(&p->sh->unexpected, 1);
	atomic_store(&p->sh->last_op, op);
	atomic_store(&p->sh->last_errno, err);
}

static void slot_drop(struct slot *s)
{
	if (s->map)
		munmap(s->map, s->len);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->map = NULL;
}

static struct slot *any_slot(struct thread *t)
{
	return &t->s[rng_below(&t->rng, SLOTS)];
}

static struct slot *live_slot(struct thread *t)
{
	struct slot *s = any_slot(t);

	return s->fd >= 0 ? s : NULL;
}

static void put_fd(struct thread *t, int fd, uint64_t size)
{
	struct slot *s = any_slot(t);

	slot_drop(s);
	s->fd = fd;
	s->size = size;
}

static void handle_add(struct proc *p, uint32_t handle, int imp)
{
	uint32_t drop = 0;

	pthread_mutex_lock(&p->lock);
	if (p->nh == HANDLES)
		drop = p->handles[--p->nh];
	p->handles[p->nh++] = handle;
	pthread_mutex_unlock(&p->lock);
	if (drop)
		cohbuf_importer_detach(imp, drop);
}

/* A handle, left in the table: another thread may detach it meanwhile. */
static uint32_t handle_any(struct thread *t)
{
	struct proc *p = t->p;
	uint32_t h = 0;

	pthread_mutex_lock(&p->lock);
	if (p->nh)
		h = p->handles[rng_below(&t->rng, p->nh)];
	pthread_mutex_unlock(&p->lock);
	return h;
}

/* Errors that a race explains for a call on a shared or passed fd. */
static bool racy(int err)
{
	return err == EBADF || err == EINVAL || err == ENOTTY || err == ENODEV ||
	       err == ENOENT || err == EACCES || err == ESPIPE;
}

static void do_op(struct thread *t, int op);

/* A forked child: a few operations on what it inherited, then exit. */
static void child_work(struct thread *t)
{
	int i;

	for (i = 0; i < 8; i++)
		do_op(t, rng_below(&t->rng, OP_FORK));
	_exit(0);
}

static void do_op(struct thread *t, int op)
{
	struct proc *p = t->p;
	struct cohbuf_imp_attach att;
	struct slot *s;
	uint64_t size;
	uint32_t crc;
	int fd, ret, n, got[4];
	void *q;

	atomic_fetch_add(&p->sh->ops[op], 1);
	switch (op) {
	case OP_ALLOC:
		size = SZ_4K * (1 + rng_below(&t->rng, 64));
		fd = cohbuf_alloc(p->dev, size, NULL, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			if (fd != -ENOMEM)
				unexpected(p, op, -fd);
			return;
		}
		put_fd(t, fd, size);
		break;
	case OP_CLOSE:
		slot_drop(any_slot(t));
		break;
	case OP_MMAP:
		s = live_slot(t);
		if (!s || s->map)
			return;
		s->len = s->size - SZ_4K * rng_below(&t->rng, s->size / SZ_4K);
		q = map_shared(s->fd, s->len, PROT_READ | PROT_WRITE, 0);
		if (q == MAP_FAILED) {
			if (errno != ENOMEM)
				unexpected(p, op, errno);
			return;
		}
		s->map = q;
		break;
	case OP_MUNMAP:
		s = live_slot(t);
		if (!s || !s->map)
			return;
		munmap(s->map, s->len);
		s->map = NULL;
		break;
	case OP_MREMAP:
		s = live_slot(t);
		if (!s || !s->map)
			return;
		/* the buffer cannot grow; moving keeps it */
		q = mremap(s->map, s->len, s->len, MREMAP_MAYMOVE);
		if (q != MAP_FAILED)
			s->map = q;
		if (mremap(s->map, s->len, s->len + SZ_4K, MREMAP_MAYMOVE) != MAP_FAILED)
			unexpected(p, op, 0);
		break;
	case OP_TOUCH:
		s = live_slot(t);
		if (!s || !s->map)
			return;
		if (rng_below(&t->rng, 2))
			madvise(s->map, s->len, MADV_DONTNEED);
		for (size = 0; size < s->len; size += SZ_4K)
			((volatile char *)s->map)[size]++;
		break;
	case OP_FORK:
		fflush(NULL);
		ret = fork();
		if (ret == 0)
			child_work(t);
		if (ret > 0)
			waitpid(ret, NULL, 0);
		break;
	case OP_SEND:
		s = live_slot(t);
		if (!s)
			return;
		ret = cohbuf_send_fds(p->sock_next, &s->fd, 1, &s->size, sizeof(s->size));
		if (ret && ret != -EAGAIN)
			unexpected(p, op, -ret);
		break;
	case OP_RECV:
		n = cohbuf_recv_fds(p->sock_prev, got, 1, &size, sizeof(size));
		if (n == 1)
			put_fd(t, got[0], size);
		else if (n < 0 && n != -EAGAIN)
			unexpected(p, op, -n);
		break;
	case OP_ATTACH:
		s = live_slot(t);
		if (!s)
			return;
		ret = cohbuf_importer_attach(p->imp, s->fd, &att);
		if (!ret)
			handle_add(p, att.handle, p->imp);
		else if (ret != -ENOMEM)
			unexpected(p, op, -ret);
		break;
	case OP_DETACH:
		ret = cohbuf_importer_detach(p->imp, handle_any(t));
		if (ret && ret != -ENOENT)
			unexpected(p, op, -ret);
		break;
	case OP_CRC:
		n = handle_any(t);
		if (rng_below(&t->rng, 2))
			ret = cohbuf_importer_crc32(p->imp, n, 0, SZ_4K, &crc);
		else
			ret = cohbuf_importer_fill(p->imp, n, 0, SZ_4K, 0x12345678);
		if (ret && ret != -ENOENT)
			unexpected(p, op, -ret);
		break;
	case OP_NAME:
		s = live_slot(t);
		if (!s)
			return;
		ret = cohbuf_set_name(s->fd, rng_below(&t->rng, 2) ? "race-a" : "race-bb");
		if (ret)
			unexpected(p, op, -ret);
		break;
	case OP_READERS: {
		struct cohbuf_entry *list;
		char val[64];
		int named;

		n = cohbuf_list(&list);
		if (n >= 0)
			free(list);
		bufinfo_attachments(0, "x", &named);
		s = live_slot(t);
		if (s)
			fdinfo_field(s->fd, "name", val, sizeof(val));
		break;
	}
	case OP_SYNC: {
		struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };

		s = live_slot(t);
		if (!s)
			return;
		if (ioctl(s->fd, DMA_BUF_IOCTL_SYNC, &sync))
			unexpected(p, op, errno);
		sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
		if (ioctl(s->fd, DMA_BUF_IOCTL_SYNC, &sync))
			unexpected(p, op, errno);
		break;
	}
	case OP_FENCE: {
		struct dma_buf_export_sync_file exp = { .flags = DMA_BUF_SYNC_RW, .fd = -1 };
		struct pollfd pfd;

		s = live_slot(t);
		if (!s)
			return;
		if (!ioctl(s->fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp))
			close(exp.fd);
		else
			unexpected(p, op, errno);
		pfd.fd = s->fd;
		pfd.events = POLLIN | POLLOUT;
		poll(&pfd, 1, 0);
		break;
	}
	case OP_SHARED:
		/* the inherited buffers, by number: closed or reused meanwhile */
		fd = p->shared_fds[rng_below(&t->rng, SHARED)];
		switch (rng_below(&t->rng, 3)) {
		case 0:
			ret = cohbuf_importer_attach(p->imp, fd, &att);
			if (!ret)
				handle_add(p, att.handle, p->imp);
			break;
		case 1:
			q = map_shared(fd, SZ_4K, PROT_READ, 0);
			ret = q == MAP_FAILED ? -errno : 0;
			if (!ret)
				munmap(q, SZ_4K);
			break;
		default:
			ret = cohbuf_set_name(fd, "shared");
			break;
		}
		if (ret && !racy(-ret) && ret != -ENOMEM)
			unexpected(p, op, -ret);
		break;
	case OP_CLOSE_SHARED:
		/* once per process, all processes at about the same time */
		if (!atomic_exchange(&p->shared_closed, 1)) {
			for (n = 0; n < SHARED; n++)
				close(p->shared_fds[n]);
		}
		break;
	}
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	unsigned int i;
	int op;

	while (!past(&t->p->deadline)) {
		op = rng_below(&t->rng, NR_OPS);
		/* closing the shared fds comes after a while */
		if (op == OP_CLOSE_SHARED && rng_below(&t->rng, 64))
			continue;
		do_op(t, op);
	}
	for (i = 0; i < SLOTS; i++)
		slot_drop(&t->s[i]);
	return NULL;
}

/* A worker process: its threads, until the deadline. Exits 0, or the step that failed. */
static int proc_main(struct proc *p, int nthreads, uint64_t seed)
{
	static struct thread t[64];
	static pthread_t tid[64];
	int i, j;

	if (nthreads > 64)
		return 1;
	p->dev = cohbuf_open();
	p->imp = cohbuf_importer_open();
	if (p->dev < 0 || p->imp < 0)
		return 2;
	pthread_mutex_init(&p->lock, NULL);
	for (i = 0; i < nthreads; i++) {
		t[i].p = p;
		t[i].rng = seed + i * 0x1000193;
		for (j = 0; j < SLOTS; j++)
			t[i].s[j].fd = -1;
		if (pthread_create(&tid[i], NULL, thread_main, &t[i]))
			return 3;
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	return 0;
}

FIXTURE(race) {
	int dev;
	struct counters base;
};

FIXTURE_SETUP(race)
{
	int imp = cohbuf_importer_open();

	ASSERT_LE(0, imp) TH_LOG("%s: %s", COHBUF_IMPORTER_DEVICE, strerror(-imp));
	close(imp);
	self->dev = test_open();
	ASSERT_EQ(0, counters_get(&self->base));
}

FIXTURE_TEARDOWN(race)
{
	close(self->dev);
}

TEST_F_TIMEOUT(race, everything_at_once, 3000)
{
	long seconds = stress_param("COHBUF_RACE_SECONDS", 10, 60);
	long nprocs = stress_param("COHBUF_RACE_PROCS", 3, 4);
	long nthreads = stress_param("COHBUF_RACE_THREADS", 4, 4);
	uint64_t seed = stress_param("COHBUF_RACE_SEED", 0, 0), total = 0;
	struct race_shared *sh;
	struct counters now;
	struct timespec start, end;
	int ring[16][2], shared[SHARED], i, status, ret, failed = 0;
	char want[128], got[128], line[1024];
	size_t used = 0;
	pid_t pid[16];

	ASSERT_GE(16, nprocs);
	ASSERT_GE(64, nthreads);
	if (!seed)
		seed = (uint64_t)getpid() * 2654435761ULL ^ (uint64_t)time(NULL);
	ksft_print_msg("race: %ld processes x %ld threads for %ld s, seed %llu (COHBUF_RACE_SEED)\n",
		       nprocs, nthreads, seconds, (unsigned long long)seed);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));

	for (i = 0; i < SHARED; i++) {
		shared[i] = cohbuf_alloc(self->dev, SZ_4K * (i + 1), NULL, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, shared[i]);
	}
	for (i = 0; i < nprocs; i++)
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
					0, ring[i]));
	clock_gettime(CLOCK_MONOTONIC, &start);
	fflush(NULL);
	for (i = 0; i < nprocs; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			struct proc p = { .sh = sh };

			p.sock_next = ring[i][0];
			p.sock_prev = ring[(i + nprocs - 1) % nprocs][1];
			memcpy(p.shared_fds, shared, sizeof(shared));
			p.deadline = start;
			p.deadline.tv_sec += seconds;
			_exit(proc_main(&p, nthreads, seed + i * 0x9e3779b9ULL));
		}
	}
	/* our copies go too: only the workers hold the shared buffers now */
	for (i = 0; i < SHARED; i++)
		close(shared[i]);
	for (i = 0; i < nprocs; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	for (i = 0; i < nprocs; i++) {
		close(ring[i][0]);
		close(ring[i][1]);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);

	for (i = 0; i < NR_OPS; i++) {
		total += sh->ops[i];
		used += snprintf(line + used, sizeof(line) - used, "%s%s %llu", i ? ", " : "",
				 op_names[i], (unsigned long long)sh->ops[i]);
	}
	ksft_print_msg("race: %s\n", line);
	ret = counters_wait(&self->base, 10000, &now);
	ksft_print_msg("reliability: races: %ld processes x %ld threads for %ld s (%.1f s wall), %llu operations, %llu unexplained failures; counters %s\n",
		       nprocs, nthreads, seconds,
		       (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9,
		       (unsigned long long)total, (unsigned long long)sh->unexpected,
		       ret ? "NOT at baseline" : "at baseline");
	ASSERT_EQ(0, failed) TH_LOG("%d worker processes failed", failed);
	ASSERT_EQ(0, sh->unexpected) TH_LOG("last: %s failed with errno %d (%s)",
					    op_names[sh->last_op], sh->last_errno,
					    strerror(sh->last_errno));
	ASSERT_EQ(0, ret) TH_LOG("counters want %s, got %s",
				 counters_str(&self->base, want, sizeof(want)),
				 counters_str(&now, got, sizeof(got)));
}

TEST_HARNESS_MAIN
