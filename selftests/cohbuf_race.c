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
 * A second test races the three ways a cohbuf fence signals: SIGNAL, its
 * timeout and the close of the file that created it.
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
#define MAX_OPS		32	/* kinds of operation, at most */

/* What the processes share: counts and failures, in a MAP_SHARED page. */
struct race_shared {
	_Atomic uint64_t ops[MAX_OPS];
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
	unsigned int op;	/* the operation running, for unexpected() */
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
static void unexpected(struct thread *t, int err)
{
	atomic_fetch_add(&t->p->sh->unexpected, 1);
	atomic_store(&t->p->sh->last_op, t->op);
	atomic_store(&t->p->sh->last_errno, err);
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

/* A slot of the thread's that holds a buffer, or NULL. */
static struct slot *live_slot(struct thread *t)
{
	struct slot *s = any_slot(t);

	return s->fd >= 0 ? s : NULL;
}

/* A slot of the thread's that holds a mapped buffer, or NULL. */
static struct slot *mapped_slot(struct thread *t)
{
	struct slot *s = live_slot(t);

	return s && s->map ? s : NULL;
}

static void put_fd(struct thread *t, int fd, uint64_t size)
{
	struct slot *s = any_slot(t);

	slot_drop(s);
	s->fd = fd;
	s->size = size;
}

static void handle_add(struct proc *p, uint32_t handle)
{
	uint32_t drop = 0;

	pthread_mutex_lock(&p->lock);
	if (p->nh == HANDLES)
		drop = p->handles[--p->nh];
	p->handles[p->nh++] = handle;
	pthread_mutex_unlock(&p->lock);
	if (drop)
		cohbuf_importer_detach(p->imp, drop);
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

/* ---- the operations, one function each; the table follows them ---- */

static void op_alloc(struct thread *t)
{
	uint64_t size = SZ_4K * (1 + rng_below(&t->rng, 64));
	int fd = cohbuf_alloc(t->p->dev, size, NULL, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		put_fd(t, fd, size);
	else if (fd != -ENOMEM)
		unexpected(t, -fd);
}

/* Contiguous and DMA32 buffers: the allocation paths of contig.c. */
static void op_alloc_flags(struct thread *t)
{
	uint64_t size = SZ_4K * (1 + rng_below(&t->rng, 2048));
	uint32_t flags = 1 + rng_below(&t->rng, COHBUF_ALLOC_VALID_FLAGS);
	int fd = cohbuf_alloc_flags(t->p->dev, size, NULL, O_RDWR | O_CLOEXEC, flags);

	if (fd >= 0)
		put_fd(t, fd, size);
	else if (fd != -ENOMEM)
		unexpected(t, -fd);
}

/* INFO on a buffer that another thread may be closing. */
static void op_info(struct thread *t)
{
	struct cohbuf_range ranges[4];
	struct slot *s = any_slot(t);
	struct cohbuf_info arg = {
		.ranges_cap = 4,
		.ranges = (uintptr_t)ranges,
	};

	if (!s)
		return;
	arg.fd = s->fd;
	if (ioctl(t->p->dev, COHBUF_IOCTL_INFO, &arg) && !racy(errno))
		unexpected(t, errno);
}

static void op_close(struct thread *t)
{
	slot_drop(any_slot(t));
}

static void op_mmap(struct thread *t)
{
	struct slot *s = live_slot(t);
	void *q;

	if (!s || s->map)
		return;
	s->len = s->size - SZ_4K * rng_below(&t->rng, s->size / SZ_4K);
	q = map_shared(s->fd, s->len, PROT_READ | PROT_WRITE, 0);
	if (q != MAP_FAILED)
		s->map = q;
	else if (errno != ENOMEM)
		unexpected(t, errno);
}

static void op_munmap(struct thread *t)
{
	struct slot *s = mapped_slot(t);

	if (!s)
		return;
	munmap(s->map, s->len);
	s->map = NULL;
}

/* The buffer cannot grow; moving keeps it. */
static void op_mremap(struct thread *t)
{
	struct slot *s = mapped_slot(t);
	void *q;

	if (!s)
		return;
	q = mremap(s->map, s->len, s->len, MREMAP_MAYMOVE);
	if (q != MAP_FAILED)
		s->map = q;
	if (mremap(s->map, s->len, s->len + SZ_4K, MREMAP_MAYMOVE) != MAP_FAILED)
		unexpected(t, 0);
}

static void op_touch(struct thread *t)
{
	struct slot *s = mapped_slot(t);
	size_t off;

	if (!s)
		return;
	if (rng_below(&t->rng, 2))
		madvise(s->map, s->len, MADV_DONTNEED);
	for (off = 0; off < s->len; off += SZ_4K)
		((volatile char *)s->map)[off]++;
}

static void do_op(struct thread *t, unsigned int op);
static unsigned int pick_op(struct thread *t, bool in_child);

/* A forked child: a few operations on what it inherited, then exit. */
static void op_fork(struct thread *t)
{
	pid_t pid;
	int i;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < 8; i++)
			do_op(t, pick_op(t, true));
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static void op_send(struct thread *t)
{
	struct slot *s = live_slot(t);
	int ret;

	if (!s)
		return;
	ret = cohbuf_send_fds(t->p->sock_next, &s->fd, 1, &s->size, sizeof(s->size));
	if (ret && ret != -EAGAIN)
		unexpected(t, -ret);
}

static void op_recv(struct thread *t)
{
	uint64_t size;
	int n, got;

	n = cohbuf_recv_fds(t->p->sock_prev, &got, 1, &size, sizeof(size));
	if (n == 1)
		put_fd(t, got, size);
	else if (n < 0 && n != -EAGAIN)
		unexpected(t, -n);
}

static void op_attach(struct thread *t)
{
	struct cohbuf_imp_attach att;
	struct slot *s = live_slot(t);
	int ret;

	if (!s)
		return;
	ret = cohbuf_importer_attach(t->p->imp, s->fd, &att);
	if (!ret)
		handle_add(t->p, att.handle);
	else if (ret != -ENOMEM)
		unexpected(t, -ret);
}

static void op_detach(struct thread *t)
{
	int ret = cohbuf_importer_detach(t->p->imp, handle_any(t));

	if (ret && ret != -ENOENT)
		unexpected(t, -ret);
}

static void op_crc_fill(struct thread *t)
{
	uint32_t crc, h = handle_any(t);
	int ret;

	if (rng_below(&t->rng, 2))
		ret = cohbuf_importer_crc32(t->p->imp, h, 0, SZ_4K, &crc);
	else
		ret = cohbuf_importer_fill(t->p->imp, h, 0, SZ_4K, 0x12345678);
	if (ret && ret != -ENOENT)
		unexpected(t, -ret);
}

static void op_name(struct thread *t)
{
	struct slot *s = live_slot(t);
	int ret;

	if (!s)
		return;
	ret = cohbuf_set_name(s->fd, rng_below(&t->rng, 2) ? "race-a" : "race-bb");
	if (ret)
		unexpected(t, -ret);
}

/* The readers of what DMA_BUF_SET_NAME and attach change. */
static void op_readers(struct thread *t)
{
	struct cohbuf_entry *list;
	struct slot *s;
	char val[64];
	int named;

	if (cohbuf_list(&list) >= 0)
		free(list);
	bufinfo_attachments(0, "x", &named);
	s = live_slot(t);
	if (s)
		fdinfo_field(s->fd, "name", val, sizeof(val));
}

static void op_sync(struct thread *t)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
	struct slot *s = live_slot(t);

	if (!s)
		return;
	if (ioctl(s->fd, DMA_BUF_IOCTL_SYNC, &sync))
		unexpected(t, errno);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	if (ioctl(s->fd, DMA_BUF_IOCTL_SYNC, &sync))
		unexpected(t, errno);
}

static void op_fence(struct thread *t)
{
	struct dma_buf_export_sync_file exp = { .flags = DMA_BUF_SYNC_RW, .fd = -1 };
	struct slot *s = live_slot(t);
	struct pollfd pfd;

	if (!s)
		return;
	if (!ioctl(s->fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp))
		close(exp.fd);
	else
		unexpected(t, errno);
	pfd.fd = s->fd;
	pfd.events = POLLIN | POLLOUT;
	poll(&pfd, 1, 0);
}

/* The inherited buffers, by number: closed or reused meanwhile. */
static void op_shared(struct thread *t)
{
	struct cohbuf_imp_attach att;
	struct proc *p = t->p;
	int fd, ret;
	void *q;

	fd = p->shared_fds[rng_below(&t->rng, SHARED)];
	switch (rng_below(&t->rng, 3)) {
	case 0:
		ret = cohbuf_importer_attach(p->imp, fd, &att);
		if (!ret)
			handle_add(p, att.handle);
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
		unexpected(t, -ret);
}

/* Once per process, all processes at about the same time. */
static void op_close_shared(struct thread *t)
{
	int i;

	if (atomic_exchange(&t->p->shared_closed, 1))
		return;
	for (i = 0; i < SHARED; i++)
		close(t->p->shared_fds[i]);
}

/*
 * Every kind of operation. A forked child runs only those marked
 * in_child, on what it inherited; one marked one_in runs only once in that
 * many of the times it is picked (closing the shared fds comes after a
 * while).
 */
static const struct race_op {
	const char *name;
	void (*run)(struct thread *t);
	bool in_child;
	unsigned int one_in;
} race_ops[] = {
	{ .name = "alloc", .run = op_alloc, .in_child = true },
	{ .name = "alloc contiguous/dma32", .run = op_alloc_flags, .in_child = true, .one_in = 8 },
	{ .name = "info", .run = op_info, .in_child = true },
	{ .name = "close", .run = op_close, .in_child = true },
	{ .name = "mmap", .run = op_mmap, .in_child = true },
	{ .name = "munmap", .run = op_munmap, .in_child = true },
	{ .name = "mremap", .run = op_mremap, .in_child = true },
	{ .name = "touch", .run = op_touch, .in_child = true },
	{ .name = "fork", .run = op_fork },
	{ .name = "send", .run = op_send },
	{ .name = "recv", .run = op_recv },
	{ .name = "attach", .run = op_attach },
	{ .name = "detach", .run = op_detach },
	{ .name = "crc32/fill", .run = op_crc_fill },
	{ .name = "set_name", .run = op_name },
	{ .name = "readers", .run = op_readers },
	{ .name = "sync", .run = op_sync },
	{ .name = "sync_file/poll", .run = op_fence },
	{ .name = "shared fds", .run = op_shared },
	{ .name = "close shared", .run = op_close_shared, .one_in = 64 },
};
#define NR_OPS	(sizeof(race_ops) / sizeof(race_ops[0]))
_Static_assert(NR_OPS <= MAX_OPS, "race_shared counts MAX_OPS kinds");

/* A random operation; in a forked child, one it may run there. */
static unsigned int pick_op(struct thread *t, bool in_child)
{
	unsigned int op;

	do {
		op = rng_below(&t->rng, NR_OPS);
	} while (in_child && !race_ops[op].in_child);
	return op;
}

static void do_op(struct thread *t, unsigned int op)
{
	atomic_fetch_add(&t->p->sh->ops[op], 1);
	t->op = op;
	race_ops[op].run(t);
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	unsigned int i, op;

	while (!past(&t->p->deadline)) {
		op = pick_op(t, false);
		if (race_ops[op].one_in && rng_below(&t->rng, race_ops[op].one_in))
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

IMP_FIXTURE(race)

/* No write fence is left on @fd: poll() reports it readable at once. */
static bool ready_for_readers(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

TEST_F_TIMEOUT(race, everything_at_once, 3000)
{
	long seconds = stress_param("COHBUF_RACE_SECONDS", 10, 60);
	long nprocs = stress_param("COHBUF_RACE_PROCS", 3, 4);
	long nthreads = stress_param("COHBUF_RACE_THREADS", 4, 4);
	uint64_t seed = stress_param("COHBUF_RACE_SEED", 0, 0), total = 0;
	struct race_shared *sh;
	struct timespec start, end;
	int ring[16][2], shared[SHARED], i, status, failed = 0;
	char line[1024];
	size_t used = 0;
	pid_t pid[16];
	bool back;

	ASSERT_GE(16, nprocs);
	ASSERT_GE(64, nthreads);
	if (!seed)
		seed = (uint64_t)getpid() * 2654435761ULL ^ (uint64_t)time(NULL);
	ksft_print_msg("race: %ld processes x %ld threads for %ld s, seed %llu (COHBUF_RACE_SEED)\n",
		       nprocs, nthreads, seconds, (unsigned long long)seed);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));

	for (i = 0; i < SHARED; i++)
		shared[i] = test_alloc(self->dev, SZ_4K * (i + 1), O_RDWR | O_CLOEXEC);
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

	for (i = 0; i < (int)NR_OPS; i++) {
		total += sh->ops[i];
		used += snprintf(line + used, sizeof(line) - used, "%s%s %llu", i ? ", " : "",
				 race_ops[i].name, (unsigned long long)sh->ops[i]);
	}
	ksft_print_msg("race: %s\n", line);
	back = counters_back(&self->base, "after the races");
	ksft_print_msg("reliability: races: %ld processes x %ld threads for %ld s (%.1f s wall), %llu operations, %llu unexplained failures; counters %s\n",
		       nprocs, nthreads, seconds,
		       (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9,
		       (unsigned long long)total, (unsigned long long)sh->unexpected,
		       back ? "at baseline" : "NOT at baseline");
	ASSERT_EQ(0, failed) TH_LOG("%d worker processes failed", failed);
	ASSERT_EQ(0, sh->unexpected) TH_LOG("last: %s failed with errno %d (%s)",
					    race_ops[sh->last_op].name, sh->last_errno,
					    strerror(sh->last_errno));
	ASSERT_TRUE(back);
}

/* One round of the fence race: a thread signals while timeouts and close race it. */
struct fence_round {
	int dev;
	int fences[16];
	int nr;
	uint64_t ok, already, closed, unexpected;
};

static void *fence_signaller(void *p)
{
	struct fence_round *r = p;
	int i, ret;

	for (i = 0; i < r->nr; i++) {
		ret = cohbuf_fence_signal(r->dev, r->fences[i], i % 3 ? 0 : -EIO);
		if (!ret)
			r->ok++;
		else if (ret == -EALREADY)
			r->already++;	/* its timeout or the close came first */
		else if (ret == -EBADF)
			r->closed++;	/* the device's or the fence's fd was closed */
		else
			r->unexpected++;
	}
	return NULL;
}

TEST_F_TIMEOUT(race, fence_signal_timeout_close, 3000)
{
	long seconds = stress_param("COHBUF_RACE_SECONDS", 10, 60);
	uint64_t rng = (uint64_t)getpid() * 2654435761ULL, rounds = 0, signalled[4] = { 0 };
	struct fence_round r;
	struct timespec start, now;
	pthread_t tid;
	int buf, i, st;

	buf = test_alloc(self->dev, SZ_4K, O_RDWR | O_CLOEXEC);
	memset(&r, 0, sizeof(r));
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		r.dev = test_open();
		r.nr = 1 + rng_below(&rng, 16);
		for (i = 0; i < r.nr; i++) {
			r.fences[i] = cohbuf_fence_attach(r.dev, rng_below(&rng, 2) ? buf : -1,
							  rng_below(&rng, 2), 1 + rng_below(&rng, 3));
			ASSERT_LE(0, r.fences[i]) TH_LOG("attach: %s", strerror(-r.fences[i]));
		}
		ASSERT_EQ(0, pthread_create(&tid, NULL, fence_signaller, &r));
		usleep(rng_below(&rng, 3000));
		close(r.dev);
		ASSERT_EQ(0, pthread_join(tid, NULL));
		/* every fence has signalled, one way or another */
		for (i = 0; i < r.nr; i++) {
			ASSERT_EQ(0, cohbuf_fence_wait(r.fences[i], POLLIN, 20000));
			st = cohbuf_fence_status(r.fences[i]);
			if (st == 1)
				signalled[0]++;
			else if (st == -EIO)
				signalled[1]++;
			else if (st == -ETIMEDOUT)
				signalled[2]++;
			else if (st == -EPIPE)
				signalled[3]++;
			else
				ASSERT_EQ(1, st) TH_LOG("fence status %d", st);
			close(r.fences[i]);
		}
		ASSERT_TRUE(ready_for_readers(buf));
		rounds++;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < seconds);
	close(buf);

	ksft_print_msg("reliability: fence races: %llu rounds; SIGNAL 0 %llu, EALREADY %llu, EBADF %llu; signalled by SIGNAL %llu (+%llu with an error), timeout %llu, close %llu\n",
		       (unsigned long long)rounds, (unsigned long long)r.ok,
		       (unsigned long long)r.already, (unsigned long long)r.closed,
		       (unsigned long long)signalled[0], (unsigned long long)signalled[1],
		       (unsigned long long)signalled[2], (unsigned long long)signalled[3]);
	ASSERT_EQ(0, r.unexpected);
	assert_baseline(&self->base, "after the fence races");
}

/*
 * SIGNAL on sync_files that the main thread is closing: each call signals,
 * finds the fence signalled, or finds its fd closed (EBADF); never EINVAL,
 * which would say the fd holds something that is not a sync_file.
 */
TEST_F_TIMEOUT(race, fence_signal_fd_close, 3000)
{
	long seconds = stress_param("COHBUF_RACE_SECONDS", 10, 60) / 2 + 1;
	uint64_t rng = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL, rounds = 0;
	struct timespec start, now;
	struct fence_round r;
	pthread_t tid;
	int i;

	memset(&r, 0, sizeof(r));
	r.nr = ARRAY_SIZE(r.fences);
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		r.dev = test_open();
		for (i = 0; i < r.nr; i++) {
			r.fences[i] = cohbuf_fence_attach(r.dev, -1, 0, 0);
			ASSERT_LE(0, r.fences[i]) TH_LOG("attach: %s", strerror(-r.fences[i]));
		}
		ASSERT_EQ(0, pthread_create(&tid, NULL, fence_signaller, &r));
		usleep(rng_below(&rng, 200));
		for (i = 0; i < r.nr; i++)
			close(r.fences[i]);
		ASSERT_EQ(0, pthread_join(tid, NULL));
		/* the fences whose fd went first signal now, with EPIPE */
		close(r.dev);
		rounds++;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < seconds);

	ksft_print_msg("fence fd races: %llu rounds; SIGNAL 0 %llu, EALREADY %llu, EBADF %llu, other %llu\n",
		       (unsigned long long)rounds, (unsigned long long)r.ok,
		       (unsigned long long)r.already, (unsigned long long)r.closed,
		       (unsigned long long)r.unexpected);
	ASSERT_EQ(0, r.unexpected);
	ASSERT_EQ(0, r.already);
	assert_baseline(&self->base, "after the fence fd races");
}

/*
 * One round of the job race: importer jobs wait for fences that a thread
 * signals while their timeouts expire, the fences' file is closed, and the
 * jobs' handles are detached (cancelling them) or waited for.
 */
struct job_round {
	struct fence_round fr;
	int imp;
	uint32_t handles[8];
	int nr;
};

static int job_queue(struct job_round *r, uint32_t h, uint64_t *rng)
{
	if (rng_below(rng, 2))
		return cohbuf_importer_fill_async(r->imp, h, 0, SZ_4K, 0x5a5a5a5a);
	return cohbuf_importer_crc32_async(r->imp, h, 0, SZ_4K);
}

TEST_F_TIMEOUT(race, job_cancel_signal_timeout, 3000)
{
	long seconds = stress_param("COHBUF_RACE_SECONDS", 10, 60);
	uint64_t rng = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL, rounds = 0;
	uint64_t ran = 0, failed = 0, detached = 0, jobs = 1;
	struct timespec start, now;
	struct cohbuf_imp_attach att;
	struct job_round r;
	pthread_t tid;
	int buf, i, st, ret;

	buf = test_alloc(self->dev, SZ_4K, O_RDWR | O_CLOEXEC);
	memset(&r, 0, sizeof(r));
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		r.fr.dev = test_open();
		r.imp = test_open_importer();
		r.fr.nr = 1 + rng_below(&rng, 4);
		for (i = 0; i < r.fr.nr; i++) {
			r.fr.fences[i] = cohbuf_fence_attach(r.fr.dev, buf, rng_below(&rng, 2),
							     1 + rng_below(&rng, 3));
			ASSERT_LE(0, r.fr.fences[i]);
		}
		r.nr = 1 + rng_below(&rng, 8);
		for (i = 0; i < r.nr; i++) {
			ASSERT_EQ(0, cohbuf_importer_attach(r.imp, buf, &att));
			r.handles[i] = att.handle;
			ASSERT_EQ(0, job_queue(&r, att.handle, &rng));
		}
		ASSERT_EQ(0, pthread_create(&tid, NULL, fence_signaller, &r.fr));
		usleep(rng_below(&rng, 3000));
		if (rng_below(&rng, 2))
			close(r.fr.dev);
		for (i = 0; i < r.nr; i++) {
			if (rng_below(&rng, 2)) {
				ASSERT_EQ(0, cohbuf_importer_detach(r.imp, r.handles[i]));
				detached++;
				continue;
			}
			ret = cohbuf_importer_wait(r.imp, r.handles[i], 20000, &st, NULL);
			ASSERT_EQ(0, ret) TH_LOG("WAIT: %s", strerror(-ret));
			if (!st)
				ran++;
			else if (st == -EIO || st == -ETIMEDOUT || st == -EPIPE ||
				 st == -ECANCELED)	/* an earlier job it waited for was */
				failed++;
			else
				ASSERT_EQ(0, st) TH_LOG("job status %d", st);
		}
		close(r.imp);
		ASSERT_EQ(0, pthread_join(tid, NULL));
		close(r.fr.dev);
		ASSERT_EQ(0, imp_jobs(&jobs));
		ASSERT_EQ(0, jobs);
		for (i = 0; i < r.fr.nr; i++) {
			ASSERT_EQ(0, cohbuf_fence_wait(r.fr.fences[i], POLLIN, 20000));
			close(r.fr.fences[i]);
		}
		ASSERT_TRUE(ready_for_readers(buf));
		rounds++;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < seconds);
	close(buf);

	ksft_print_msg("reliability: job races: %llu rounds; jobs ran %llu, failed with a dependency %llu, detached while queued or running %llu\n",
		       (unsigned long long)rounds, (unsigned long long)ran,
		       (unsigned long long)failed, (unsigned long long)detached);
	ASSERT_EQ(0, r.fr.unexpected);
	assert_baseline(&self->base, "after the job races");
}

TEST_HARNESS_MAIN
