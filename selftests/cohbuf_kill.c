// SPDX-License-Identifier: GPL-2.0
/*
 * kill -9 at random points. Each round is a small process group: a sender
 * allocates buffers, maps and names them, and passes them over a unix
 * socket (SCM_RIGHTS, both ways, sometimes with fds still in flight) to a
 * receiver, which maps them, attaches them to the importer, fills and
 * checksums them (and queues an asynchronous job that may wait for the
 * fences), and forks a child that holds some of them. Both attach
 * cohbuf fences to the buffers and leave some unsignalled; the sender
 * passes some of their sync_files too. After a random
 * delay the whole group, or its members one by one, get SIGKILL: in the
 * middle of an ioctl, an mmap, a large allocation's chunk loop, a sendmsg.
 *
 * After each batch of rounds every counter returns to baseline (cohbuf's
 * buffers and bytes, the importer's attachments and jobs, dma-buf bufinfo,
 * cohbuf's unsignalled fences: every fence of a killed process has
 * signalled). At the
 * end both modules unload, proving that nothing holds a reference, and are
 * loaded again from the build.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "cohbuf_harness.h"

#define HELD	8	/* buffers a process keeps at most */

struct worker {
	uint64_t rng;
	int dev;
	int imp;
	int sock;
	int held[HELD];
	void *map[HELD];
	size_t len[HELD];
	int fences[HELD];	/* sync_files of cohbuf fences, or -1 */
};

static uint64_t pick_size(struct worker *w)
{
	switch (rng_below(&w->rng, 16)) {
	case 0:
		/* long enough for the kill to land inside the chunk loop */
		return 8 * SZ_4M + SZ_4K * rng_below(&w->rng, 64);
	case 1:
	case 2:
		return SZ_4M + SZ_4K * rng_below(&w->rng, 64);
	default:
		return SZ_4K * (1 + rng_below(&w->rng, 64));
	}
}

/* Keep @fd in a slot, dropping (closing, unmapping) what was there. */
static int hold(struct worker *w, int fd, size_t len)
{
	unsigned int i = rng_below(&w->rng, HELD);

	if (w->map[i])
		munmap(w->map[i], w->len[i]);
	if (w->held[i] >= 0)
		close(w->held[i]);
	w->held[i] = fd;
	w->map[i] = NULL;
	w->len[i] = len;
	return i;
}

static void map_slot(struct worker *w, unsigned int i, bool write)
{
	void *p;

	if (w->held[i] < 0 || w->map[i])
		return;
	p = map_shared(w->held[i], w->len[i], PROT_READ | (write ? PROT_WRITE : 0), 0);
	if (p == MAP_FAILED)
		return;
	w->map[i] = p;
	if (write)
		memset(p, 0x5a, w->len[i] < 65536 ? w->len[i] : 65536);
}

static int random_held(struct worker *w)
{
	unsigned int i = rng_below(&w->rng, HELD);

	return w->held[i];
}

/*
 * A buffer of @size bytes; one in four contiguous, DMA32 or both, whose
 * memory comes from contig.c and the 32-bit device. The fd, or -errno.
 */
static int alloc_any(struct worker *w, uint64_t size)
{
	uint32_t flags = 0;
	struct cohbuf_info info;
	int fd;

	if (!rng_below(&w->rng, 4))
		flags = 1 + rng_below(&w->rng, COHBUF_ALLOC_VALID_FLAGS);
	fd = cohbuf_alloc_flags(w->dev, size, NULL, O_RDWR | O_CLOEXEC, flags);
	if (fd >= 0)
		cohbuf_info(w->dev, fd, &info, NULL, 0);
	return fd;
}

/*
 * A cohbuf fence on @fd (write or read), kept in a slot: the one it
 * replaces is signalled, or just closed and left unsignalled. The new
 * sync_file, or -1.
 */
static int fence_any(struct worker *w, int fd)
{
	unsigned int i = rng_below(&w->rng, HELD);
	int fence;

	fence = cohbuf_fence_attach(w->dev, fd, rng_below(&w->rng, 2), 0);
	if (fence < 0)
		return -1;
	if (w->fences[i] >= 0) {
		if (rng_below(&w->rng, 2))
			cohbuf_fence_signal(w->dev, w->fences[i], 0);
		close(w->fences[i]);
	}
	w->fences[i] = fence;
	return fence;
}

/* The sender: allocate, map, name, fence, send; take some back. */
static void sender(struct worker *w)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
	int fds[3], n, got[4], i, fd, other;
	uint64_t size;

	for (;;) {
		size = pick_size(w);
		fd = alloc_any(w, size);
		if (fd < 0)
			continue;
		i = hold(w, fd, size);
		map_slot(w, i, true);
		cohbuf_set_name(fd, "kill-round");
		ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
		n = 0;
		fds[n++] = fd;
		other = random_held(w);
		if (other >= 0 && other != fd)
			fds[n++] = other;
		fd = fence_any(w, fd);
		if (fd >= 0 && rng_below(&w->rng, 2))
			fds[n++] = fd;		/* a sync_file in flight */
		else if (rng_below(&w->rng, 4) == 0)
			fds[n++] = w->sock;	/* a socket in flight over itself */
		cohbuf_send_fds(w->sock, fds, n, "x", 1);
		/* whatever the receiver sent back, non-blocking */
		n = cohbuf_recv_fds(w->sock, got, 4, NULL, 0);
		for (i = 0; i < n; i++)
			hold(w, got[i], SZ_4K);
		if (rng_below(&w->rng, 8) == 0 && w->map[0]) {
			munmap(w->map[0], w->len[0]);
			w->map[0] = NULL;
		}
	}
}

/* The receiver: map, attach, fill, checksum, fork a holder, send back. */
static void receiver(struct worker *w)
{
	struct cohbuf_imp_attach att;
	uint32_t handles[HELD], crc;
	unsigned int nh = 0, i;
	int got[4], n, k;
	char byte;
	uint64_t size;

	for (;;) {
		n = cohbuf_recv_fds(w->sock, got, 4, &byte, 1);
		if (n < 0) {
			if (n == -ECONNRESET)
				pause();
			continue;
		}
		for (k = 0; k < n; k++) {
			if (cohbuf_size(got[k], &size)) {
				close(got[k]);	/* the socket itself, a sync_file */
				continue;
			}
			i = hold(w, got[k], size);
			fence_any(w, got[k]);
			map_slot(w, i, rng_below(&w->rng, 2));
			if (nh == HELD)
				cohbuf_importer_detach(w->imp, handles[--nh]);
			if (!cohbuf_importer_attach(w->imp, got[k], &att)) {
				handles[nh++] = att.handle;
				cohbuf_importer_fill(w->imp, att.handle, 0, 4096, 0xdeadbeef);
				cohbuf_importer_crc32(w->imp, att.handle, 0, size, &crc);
				/* a job that may still wait for the fences when the kill comes */
				if (rng_below(&w->rng, 2))
					cohbuf_importer_fill_async(w->imp, att.handle, 0, 4096, 0);
				else
					cohbuf_importer_crc32_async(w->imp, att.handle, 0, size);
			}
		}
		if (rng_below(&w->rng, 8) == 0) {
			pid_t pid = fork();

			/* a child that holds everything inherited until killed */
			if (pid == 0)
				for (;;)
					pause();
		}
		if (rng_below(&w->rng, 2) && random_held(w) >= 0) {
			int back = random_held(w);

			cohbuf_send_fds(w->sock, &back, 1, NULL, 0);
		}
	}
}

/* One round's process group; returns its pid (= pgid). */
static pid_t start_round(uint64_t seed)
{
	struct worker w = { .rng = seed };
	int sv[2], i;
	pid_t pid;

	/*
	 * Both sides set the group, as shells do: were it left to the child,
	 * a kill before the child first ran would find no group, and the
	 * round would escape it and run on.
	 */
	pid = fork();
	if (pid) {
		if (pid > 0)
			setpgid(pid, pid);
		return pid;
	}
	setpgid(0, 0);
	for (i = 0; i < HELD; i++) {
		w.held[i] = -1;
		w.fences[i] = -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		_exit(1);
	w.dev = cohbuf_open();
	if (fork() == 0) {
		close(sv[0]);
		w.sock = sv[1];
		w.rng ^= 0x5555;
		w.imp = cohbuf_importer_open();
		receiver(&w);
	}
	close(sv[1]);
	w.sock = sv[0];
	/* the sender never blocks on a full socket: it drops the message */
	fcntl(w.sock, F_SETFL, O_NONBLOCK);
	sender(&w);
	_exit(0);
}

static void sleep_us(uint64_t us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* Kill group @pgid at once, or its members one by one; reap them all. */
static unsigned int kill_round(pid_t pgid, uint64_t *rng)
{
	unsigned int killed = 0;
	int status;
	pid_t pid;

	if (rng_below(rng, 2)) {
		/* the leader first, a moment later the rest */
		kill(pgid, SIGKILL);
		sleep_us(rng_below(rng, 2000));
	}
	kill(-pgid, SIGKILL);
	while ((pid = waitpid(-pgid, &status, __WALL)) > 0) {
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			killed++;
	}
	/* the leader's children were reparented to us, then killed and reaped */
	return killed;
}

/*
 * The test process holds no fd of either module: at the end, with
 * COHBUF_BUILD set, it unloads both.
 */
FIXTURE(kill) {
	struct counters base;
	struct module_ko cohbuf;
	struct module_ko importer;
};

FIXTURE_SETUP(kill)
{
	const char *build = getenv("COHBUF_BUILD");

	close(test_open_importer());
	test_counters(&self->base);
	if (build) {
		test_ko_find(&self->cohbuf, build, "cohbuf", "exporter/cohbuf.ko");
		test_ko_find(&self->importer, build, IMP_MODULE, "importer/cohbuf_importer.ko");
	}
}

/* In the harness's parent: whatever happened, load the modules again. */
FIXTURE_TEARDOWN_PARENT(kill)
{
	expect_ko_reloaded(&self->cohbuf);
	expect_ko_reloaded(&self->importer);
}

TEST_F_TIMEOUT(kill, sigkill_at_random_points, 3000)
{
	long rounds = stress_param("COHBUF_KILL_ROUNDS", 200, 1000);
	long batch = stress_param("COHBUF_KILL_BATCH", 8, 8);
	long max_delay = stress_param("COHBUF_KILL_DELAY_US", 30000, 100000);
	uint64_t seed = stress_param("COHBUF_KILL_SEED", 0, 0), rng;
	pid_t pgid[64];
	long done = 0, b, i, started, batches = 0;
	uint64_t killed = 0;
	int ret, fork_err = 0;
	char when[64];

	if (!seed)
		seed = (uint64_t)getpid() * 2654435761ULL ^ (uint64_t)time(NULL);
	rng = seed;
	ksft_print_msg("kill: %ld rounds in batches of %ld, seed %llu (COHBUF_KILL_SEED)\n",
		       rounds, batch, (unsigned long long)seed);
	ASSERT_GE(64, batch);
	/* the groups' orphans come to us, to be reaped */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));

	while (done < rounds) {
		b = rounds - done < batch ? rounds - done : batch;
		fflush(NULL);
		/* a failed fork ends the batch: kill() must never see -1 */
		for (started = 0; started < b; started++) {
			pgid[started] = start_round(rng_next(&rng));
			if (pgid[started] < 0) {
				fork_err = errno;
				break;
			}
		}
		sleep_us(rng_below(&rng, max_delay));
		for (i = 0; i < started; i++) {
			killed += kill_round(pgid[i], &rng);
			sleep_us(rng_below(&rng, max_delay / 8 + 1));
		}
		ASSERT_EQ(b, started) TH_LOG("fork: %s", strerror(fork_err));
		done += b;
		batches++;
		/* members reparented to us after their group was reaped */
		while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
			;
		snprintf(when, sizeof(when), "after %ld rounds", done);
		assert_baseline(&self->base, when);
	}

	/* nothing holds a reference: both modules unload, and come back */
	if (self->cohbuf.name) {
		ret = ko_unload(&self->importer);
		ASSERT_EQ(0, ret) TH_LOG("rmmod cohbuf_importer: %s", strerror(-ret));
		ret = ko_unload(&self->cohbuf);
		ASSERT_EQ(0, ret) TH_LOG("rmmod cohbuf: %s", strerror(-ret));
		ret = ko_reload(&self->cohbuf);
		ASSERT_EQ(0, ret) TH_LOG("reloading %s: %s", self->cohbuf.path, strerror(-ret));
		ret = ko_reload(&self->importer);
		ASSERT_EQ(0, ret) TH_LOG("reloading %s: %s", self->importer.path, strerror(-ret));
	}
	ksft_print_msg("reliability: kill -9: %ld rounds (%ld batches), %llu processes killed with SIGKILL; counters at baseline after every batch; both modules unloaded%s\n",
		       done, batches, (unsigned long long)killed,
		       self->cohbuf.name ? " and reloaded" : " (not tried: COHBUF_BUILD unset)");
}

TEST_HARNESS_MAIN
