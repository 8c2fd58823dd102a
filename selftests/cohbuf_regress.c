// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests for the bug classes that hit dma-buf exporters, one test
 * per class, named after it:
 *
 *   zero_size                   a 0-byte buffer
 *   size_overflow               sizes near 2^64; offset + length overflow
 *   mremap_growth               CVE-2023-2008: growing a mapping past the
 *                               buffer
 *   map_private                 copy-on-write mappings of device memory
 *   emfile_at_export            an fd installed before a step that can
 *                               fail; a leak when the fd table is full
 *   close_racing_release        a use-after-free when close races release
 *   huge_request                allocations the page allocator would warn
 *                               about, and requests beyond all memory
 *   info_leak                   memory handed out without being zeroed
 *   rdonly_export_writable      an O_RDONLY export used for writing
 *   rdonly_forwarded_mmap       the same, mapped through an importer's
 *                               dma_buf_mmap()
 *   kernel_mapping_not_pinned   a kernel mapping (vmap) of the whole buffer
 *                               kept for an importer that never used one
 *   dma_addr_non_root           DMA addresses disclosed without privilege
 *   cpu_access_while_mapped     the exporter syncing through the sg_table it
 *                               lent the importer (CONFIG_DMABUF_DEBUG
 *                               scrambles its page links meanwhile)
 *   importers_overlap           DMA-API misuse when several devices map the
 *                               same coherent memory at once
 *   many_attachments            more mappings of one cache line than DMA-API
 *                               debug tracks (7), one per attachment
 *   shared_mapping_keeps_constraints
 *                               a shared DMA mapping reused after the
 *                               device's segment constraints changed
 *   importer_lock_across_copy   a lock held while copy_to_user() waits
 *                               for user space (userfaultfd)
 *   importer_lock_interruptible a lock waited for uninterruptibly while
 *                               its holder waits for a fence
 *
 * Each checks that nothing leaks: the cohbuf and importer counters and the
 * dma-buf core's bufinfo return to where they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <xf86drm.h>

#include "cohbuf_harness.h"
#include "cohbuf_vgem.h"

IMP_FIXTURE(regress)

/* errno of COHBUF_IOCTL_ALLOC of @size bytes, or 0 (the fd closed) on success. */
static int size_errno(int dev, uint64_t size, uint32_t fd_flags)
{
	struct cohbuf_alloc req = { .size = size, .fd_flags = fd_flags };

	return alloc_errno(dev, &req);
}

/* Lifts max_buffer_size and max_total_size: the fixture puts them back. */
#define test_no_limits() do {						\
	test_param_set(&self->params, "cohbuf", "max_buffer_size", ~0ULL); \
	test_param_set(&self->params, "cohbuf", "max_total_size", ~0ULL); \
} while (0)

TEST_F(regress, zero_size)
{
	ASSERT_EQ(EINVAL, size_errno(self->dev, 0, O_RDWR));
	ASSERT_EQ(EINVAL, size_errno(self->dev, 0, O_RDONLY | O_CLOEXEC));
	assert_baseline(&self->base, "at the end");
}

/*
 * CVE-2025-37803 class: sizes whose page round-up wraps, with and without
 * the limits in the way, and ranges whose end wraps past 2^64.
 */
TEST_F(regress, size_overflow)
{
	uint64_t ps = page_size(), sizes[] = {
		~0ULL, ~0ULL - ps + 2, ~0ULL - ps + 1, 1ULL << 63,
	};
	uint32_t handle, crc;
	unsigned int i;
	int fd, ret;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ret = size_errno(self->dev, sizes[i], O_RDWR);
		ASSERT_TRUE(ret == EINVAL || ret == EFBIG)
			TH_LOG("size %#llx: errno %d", (unsigned long long)sizes[i], ret);
	}

	/* with no limit in the way, the round-up itself must be caught */
	test_no_limits();
	ASSERT_EQ(EINVAL, size_errno(self->dev, ~0ULL, O_RDWR));
	ASSERT_EQ(EINVAL, size_errno(self->dev, ~0ULL - ps + 2, O_RDWR));
	assert_baseline(&self->base, "after the sizes");

	/* offset + length past 2^64, at the importer */
	fd = test_alloc(self->dev, 4 * ps, O_RDWR | O_CLOEXEC);
	handle = test_attach(self->imp, fd, NULL);
	ASSERT_EQ(-EINVAL, cohbuf_importer_crc32(self->imp, handle, 4 * ps - 4, ~0ULL - 3, &crc));
	ASSERT_EQ(-EINVAL, cohbuf_importer_fill(self->imp, handle, ~0ULL - 3, 8, 0));
	ASSERT_EQ(-EINVAL, cohbuf_importer_crc32(self->imp, handle, 4, ~0ULL - 3, &crc));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
	close(fd);
	assert_baseline(&self->base, "at the end");
}

/*
 * CVE-2023-2008: mremap() growing a mapping, in place or moved, would map
 * memory past the buffer. The mapping stays as it was.
 */
TEST_F(regress, mremap_growth)
{
	size_t ps = page_size(), size = 4 * ps;
	struct test_buf b;
	char *p;

	test_buf_alloc(&b, self->dev, size, O_RDWR | O_CLOEXEC, PROT_READ | PROT_WRITE);
	pattern_fill(b.map, size, 0, 7);

	p = mremap(b.map, size, 64 * size, MREMAP_MAYMOVE);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EFAULT, errno);
	p = mremap(b.map, size, size + ps, 0);
	ASSERT_EQ(MAP_FAILED, p);
	/* a one-page window inside the buffer cannot grow either */
	ASSERT_EQ(0, munmap(b.map + ps, size - ps));
	p = mremap(b.map, ps, size, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, pattern_check(b.map, ps, 0, 7));
	ASSERT_EQ(1, test_row_mappings(b.ino));
	ASSERT_EQ(0, munmap(b.map, ps));
	close(b.fd);
	assert_baseline(&self->base, "at the end");
}

/* Device memory has no copy-on-write: MAP_PRIVATE fails in every mode. */
TEST_F(regress, map_private)
{
	size_t size = 2 * page_size();
	int fd, rdonly, prot[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE };
	unsigned int i;
	void *p;

	fd = test_alloc(self->dev, size, O_RDWR | O_CLOEXEC);
	rdonly = test_alloc(self->dev, size, O_RDONLY | O_CLOEXEC);
	for (i = 0; i < sizeof(prot) / sizeof(prot[0]); i++) {
		p = mmap(NULL, size, prot[i], MAP_PRIVATE, fd, 0);
		ASSERT_EQ(MAP_FAILED, p) TH_LOG("prot %#x", prot[i]);
		ASSERT_EQ(EINVAL, errno);
	}
	p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, rdonly, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	close(rdonly);
	close(fd);
	assert_baseline(&self->base, "at the end");
}

/*
 * The fd is reserved first and installed last: with the fd table full the
 * call fails with EMFILE before allocating, and when the copy-out fails the
 * lowest free fd is still free and no buffer survives.
 */
TEST_F(regress, emfile_at_export)
{
	enum { LIMIT = 32 };
	struct cohbuf_alloc req = { .size = SZ_1M, .fd_flags = O_RDWR };
	int fillers[LIMIT], n, fd, next, i;
	struct rlimit old;
	void *arg;

	n = test_fd_table_fill(self->dev, LIMIT, fillers, &old);
	for (i = 0; i < 16; i++)
		ASSERT_EQ(EMFILE, size_errno(self->dev, SZ_1M, O_RDWR | O_CLOEXEC));

	/* one free slot: the allocation takes it */
	close(fillers[--n]);
	fd = cohbuf_alloc(self->dev, SZ_1M, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_EQ(fillers[n], fd);
	ASSERT_EQ(EMFILE, size_errno(self->dev, SZ_1M, O_RDWR));
	close(fd);
	ASSERT_EQ(0, fd_table_release(fillers, n, &old));
	/* (the counters are files: read them once there are fds again) */
	assert_baseline(&self->base, "after EMFILE");

	/* a copy-out that fails after everything else succeeded */
	arg = test_readonly_arg(&req);
	next = lowest_free_fd();
	ASSERT_LE(0, next);
	for (i = 0; i < 16; i++)
		ASSERT_EQ(EFAULT, ioctl_errno(self->dev, COHBUF_IOCTL_ALLOC, arg));
	ASSERT_EQ(next, lowest_free_fd());
	assert_baseline(&self->base, "after EFAULT");
}

/*
 * close() racing the release of the same buffer: threads close their own
 * dup of the fd, unmap, attach by fd number (which may already be closed or
 * even reused) and read the debugfs listing, all at once. A use-after-free
 * here is what KASAN reports on the debug kernel.
 */
struct racer {
	void (*run)(struct racer *r);
	pthread_barrier_t *go;
	int fd;
	int imp;
	void *map;
	size_t size;
	int bad_errno;
};

static void racer_close(struct racer *r)
{
	close(r->fd);
}

static void racer_unmap(struct racer *r)
{
	munmap(r->map, r->size);
	close(r->fd);
}

static void racer_attach(struct racer *r)
{
	struct cohbuf_imp_attach att;
	int ret;

	ret = cohbuf_importer_attach(r->imp, r->fd, &att);
	if (!ret)
		cohbuf_importer_detach(r->imp, att.handle);
	else if (ret != -EBADF && ret != -EINVAL)
		r->bad_errno = -ret;
	close(r->fd);
}

static void racer_list(struct racer *r)
{
	struct cohbuf_entry *list;

	if (cohbuf_list(&list) >= 0)
		free(list);
	close(r->fd);
}

/* What each racing thread does, all at once. */
static void (*const racers[])(struct racer *r) = {
	racer_close, racer_unmap, racer_attach, racer_list,
};
#define THREADS	(sizeof(racers) / sizeof(racers[0]))

static void *racer_main(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	r->run(r);
	return NULL;
}

TEST_F_TIMEOUT(regress, close_racing_release, 300)
{
	long rounds = stress_param("COHBUF_REGRESS_ROUNDS", 100, 300);
	struct racer r[THREADS];
	pthread_t tid[THREADS];
	pthread_barrier_t go;
	struct test_buf b;
	unsigned int i;
	long round;

	for (round = 0; round < rounds; round++) {
		test_buf_alloc(&b, self->dev, 8 * page_size(), O_RDWR | O_CLOEXEC,
			       PROT_READ | PROT_WRITE);
		ASSERT_EQ(0, pthread_barrier_init(&go, NULL, THREADS + 1));
		for (i = 0; i < THREADS; i++) {
			r[i] = (struct racer){
				.run = racers[i], .go = &go, .fd = dup(b.fd),
				.imp = self->imp, .map = b.map, .size = b.size,
			};
			ASSERT_LE(0, r[i].fd);
			ASSERT_EQ(0, pthread_create(&tid[i], NULL, racer_main, &r[i]));
		}
		pthread_barrier_wait(&go);
		close(b.fd);
		for (i = 0; i < THREADS; i++) {
			ASSERT_EQ(0, pthread_join(tid[i], NULL));
			ASSERT_EQ(0, r[i].bad_errno) TH_LOG("attach: %s",
							   strerror(r[i].bad_errno));
		}
		pthread_barrier_destroy(&go);
	}
	assert_baseline(&self->base, "at the end");
}

/*
 * Requests the page allocator must never see whole: a buffer is built from
 * chunks of at most the largest buddy block, each tried with __GFP_NOWARN,
 * so no size warns (the debug kernel's log would show it). A request larger
 * than all memory fails at once with ENOMEM, without taking the memory
 * first.
 */
TEST_F_TIMEOUT(regress, huge_request, 120)
{
	uint64_t sizes[] = { 1ULL << 40, 1ULL << 46, 1ULL << 52, 1ULL << 62 };
	unsigned int i;

	test_no_limits();
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ASSERT_EQ(ENOMEM, size_errno(self->dev, sizes[i], O_RDWR))
			TH_LOG("size %#llx", (unsigned long long)sizes[i]);
	}
	/* and an ordinary buffer of several chunks still works */
	ASSERT_EQ(0, size_errno(self->dev, 3 * SZ_4M + 5 * page_size(), O_RDWR));
	assert_baseline(&self->base, "at the end");
}

/*
 * Every buffer is zeroed before user space, or a device, sees it, even when
 * the memory was just freed dirty: checked through the mapping and through
 * the importer's kernel mapping (a vmap for buffers of several chunks).
 */
TEST_F_TIMEOUT(regress, info_leak, 180)
{
	uint64_t sizes[] = { page_size(), 3 * page_size(), SZ_4M, SZ_4M + 3 * page_size() };
	unsigned int i, round;
	uint32_t zero_crc, handle;
	struct test_buf b;
	void *zeros;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		zeros = calloc(1, sizes[i]);
		ASSERT_NE(NULL, zeros);
		zero_crc = cohbuf_crc32(0, zeros, sizes[i]);
		free(zeros);
		for (round = 0; round < 3; round++) {
			test_buf_alloc(&b, self->dev, sizes[i], O_RDWR | O_CLOEXEC, PROT_NONE);
			handle = test_attach(self->imp, b.fd, NULL);
			ASSERT_EQ(zero_crc, test_crc32(self->imp, handle, 0, sizes[i]))
				TH_LOG("size %llu round %u", (unsigned long long)sizes[i], round);
			b.map = test_map(b.fd, sizes[i], PROT_READ | PROT_WRITE, 0);
			ASSERT_EQ(-1, bytes_check(b.map, sizes[i], 0));
			/* leave it dirty for the next round */
			memset(b.map, 0xa5, sizes[i]);
			ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
			buf_free(&b);
		}
	}
	assert_baseline(&self->base, "at the end");
}

/* The receiving child of rdonly_export_writable: 0, or the step that failed. */
static int rdonly_receiver(int sock, size_t size)
{
	int got;

	if (cohbuf_recv_fds(sock, &got, 1, NULL, 0) != 1)
		return 1;
	if (map_shared(got, size, PROT_READ | PROT_WRITE, 0) != MAP_FAILED || errno != EACCES)
		return 2;
	if (map_shared(got, size, PROT_WRITE, 0) != MAP_FAILED)
		return 3;
	return 0;
}

/*
 * An O_RDONLY export stays read-only whatever the path: a writable shared
 * mapping, mprotect(), the importer's FILL, and a writable reopen through
 * /proc/self/fd, also in a process that received it over SCM_RIGHTS.
 */
TEST_F(regress, rdonly_export_writable)
{
	size_t size = 4 * page_size();
	int fd, fd2, sv[2];
	uint32_t handle;
	char path[64];
	void *map;
	pid_t pid;

	fd = test_alloc(self->dev, size, O_RDONLY | O_CLOEXEC);
	ASSERT_EQ(MAP_FAILED, map_shared(fd, size, PROT_READ | PROT_WRITE, 0));
	ASSERT_EQ(EACCES, errno);
	map = test_map(fd, size, PROT_READ, 0);
	ASSERT_EQ(-1, mprotect(map, size, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	handle = test_attach(self->imp, fd, NULL);
	ASSERT_EQ(-EACCES, cohbuf_importer_fill(self->imp, handle, 0, size, 1));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));

	/* reopening cannot upgrade it */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd2 = open(path, O_RDWR | O_CLOEXEC);
	if (fd2 >= 0) {
		ASSERT_EQ(MAP_FAILED, map_shared(fd2, size, PROT_READ | PROT_WRITE, 0));
		close(fd2);
	}

	/* nor can the process that receives it */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = test_fork();
	if (pid == 0) {
		close(sv[0]);
		_exit(rdonly_receiver(sv[1], size));
	}
	close(sv[1]);
	ASSERT_EQ(0, cohbuf_send_fds(sv[0], &fd, 1, NULL, 0));
	assert_child_ok(pid);
	close(sv[0]);
	ASSERT_EQ(-1, bytes_check(map, size, 0));
	munmap(map, size);
	close(fd);
	assert_baseline(&self->base, "at the end");
}

/* The unprivileged child of dma_addr_non_root: 0, or the step that failed. */
static int nobody_child(int imp, uint32_t handle)
{
	uint64_t addr;
	uint32_t crc;

	/* nobody: every capability goes with the uid */
	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return 1;
	if (cohbuf_importer_dma_addr(imp, handle, 0, &addr) != -EPERM)
		return 2;
	if (cohbuf_importer_dma_addr(imp, handle, SZ_1M - 4, &addr) != -EPERM)
		return 3;
	if (cohbuf_importer_crc32(imp, handle, 0, 4, &crc))
		return 4;
	if (cohbuf_open() != -EACCES)
		return 5;
	if (cohbuf_importer_open() != -EACCES)
		return 6;
	return 0;
}

/*
 * DMA addresses are physical addresses here: a process without
 * CAP_SYS_ADMIN gets EPERM, even on an importer file and a handle that
 * root opened and attached, and /dev/cohbuf is root's only.
 */
TEST_F(regress, dma_addr_non_root)
{
	uint32_t handle;
	uint64_t addr;
	pid_t pid;
	int fd;

	fd = test_alloc(self->dev, SZ_1M, O_RDWR | O_CLOEXEC);
	handle = test_attach(self->imp, fd, NULL);
	ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, handle, 0, &addr));
	pid = test_fork();
	if (pid == 0)
		_exit(nobody_child(self->imp, handle));
	assert_child_ok(pid);
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
	close(fd);
	assert_baseline(&self->base, "at the end");
}

/*
 * The exporter syncs every mapped attachment for the CPU in
 * begin_cpu_access, and for the device in end_cpu_access. It must do so
 * through a table of its own: the one it lent the importer is the
 * importer's until unmapped, and a CONFIG_DMABUF_DEBUG kernel scrambles its
 * page links meanwhile (an oops in the DMA-API sync on the debug kernel).
 * 64 KiB segments make the table chained, which scrambles the chain too.
 */
TEST_F_TIMEOUT(regress, cpu_access_while_mapped, 180)
{
	uint64_t size = 16 * SZ_1M;
	struct dma_buf_sync sync = { 0 };
	struct cohbuf_imp_attach att;
	uint32_t crc;
	struct test_buf b;

	test_param_set(&self->params, IMP_MODULE, "max_seg_size", 65536);
	test_buf_alloc(&b, self->dev, size, O_RDWR | O_CLOEXEC, PROT_NONE);
	test_attach(self->imp, b.fd, &att);
	ASSERT_LE(size / 65536, att.nents);
	b.map = test_map(b.fd, size, PROT_READ | PROT_WRITE, 0);

	/* the importer's CPU access, while its attachment is mapped */
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, att.handle, 0, size, 0x600dcafe));
	crc = test_crc32(self->imp, att.handle, 0, size);
	/* and user space's, through DMA_BUF_IOCTL_SYNC */
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW;
	ASSERT_EQ(0, ioctl_errno(b.fd, DMA_BUF_IOCTL_SYNC, &sync));
	ASSERT_EQ(crc, cohbuf_crc32(0, b.map, size));
	pattern_fill(b.map, size, 0, 11);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	ASSERT_EQ(0, ioctl_errno(b.fd, DMA_BUF_IOCTL_SYNC, &sync));
	ASSERT_EQ(cohbuf_crc32(0, b.map, size), test_crc32(self->imp, att.handle, 0, size));

	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, att.handle));
	buf_free(&b);
	assert_baseline(&self->base, "at the end");
}

/*
 * Several devices map the same coherent memory at once: two attachments of
 * the importer and vgem's. On a DMA_API_DEBUG kernel a streaming mapping of
 * memory that dma_alloc_coherent() handed out, or of memory another
 * mapping covers, is an error ("cacheline tracking EEXIST, overlapping
 * mappings aren't supported"), which vm-run reports as a splat.
 */
TEST_F(regress, importers_overlap)
{
	uint64_t size = SZ_4M + 2 * page_size();
	uint32_t crc1, h1, h2, gem = 0;
	int fd, vgem, status;

	fd = test_alloc(self->dev, size, O_RDWR | O_CLOEXEC);
	h1 = test_attach(self->imp, fd, NULL);
	h2 = test_attach(self->imp, fd, NULL);
	vgem = vgem_open(&status);
	if (vgem >= 0)
		ASSERT_EQ(0, drmPrimeFDToHandle(vgem, fd, &gem)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, h1, 0, size, 0x0badf00d));
	crc1 = test_crc32(self->imp, h1, 0, size);
	ASSERT_EQ(crc1, test_crc32(self->imp, h2, 0, size));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, h1));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, h2));
	if (vgem >= 0) {
		struct drm_gem_close gc = { .handle = gem };

		ASSERT_EQ(0, drmIoctl(vgem, DRM_IOCTL_GEM_CLOSE, &gc));
		close(vgem);
	}
	close(fd);
	assert_baseline(&self->base, "at the end");
}

/*
 * One device attaches the same buffer far more often than DMA-API debug can
 * count overlapping mappings of a cache line (7: beyond that it warns that
 * mappings leak). The attachments of a device share one mapping, so they
 * see the same DMA addresses, and the last detach unmaps it.
 */
TEST_F(regress, many_attachments)
{
	enum { N = 24 };
	uint64_t size = SZ_4M + 2 * page_size(), addr0, addr;
	uint32_t crc0, handle[N];
	struct cohbuf_entry row;
	struct test_buf b;
	int i;

	test_buf_alloc(&b, self->dev, size, O_RDWR | O_CLOEXEC, PROT_NONE);
	for (i = 0; i < N; i++)
		handle[i] = test_attach(self->imp, b.fd, NULL);
	test_row(b.ino, &row);
	ASSERT_EQ(N, row.attachments);
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, handle[0], 0, size, 0x5eed));
	crc0 = test_crc32(self->imp, handle[0], 0, size);
	ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, handle[0], SZ_4M, &addr0));
	for (i = 1; i < N; i++) {
		ASSERT_EQ(crc0, test_crc32(self->imp, handle[i], 0, size))
			TH_LOG("attachment %d", i);
		ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, handle[i], SZ_4M, &addr));
		ASSERT_EQ(addr0, addr) TH_LOG("attachment %d", i);
	}
	/* every other one first, then the rest: the mapping outlives them all but one */
	for (i = 0; i < N; i += 2)
		ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle[i]));
	ASSERT_EQ(crc0, test_crc32(self->imp, handle[N - 1], 0, size));
	for (i = 1; i < N; i += 2)
		ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle[i]));
	test_row(b.ino, &row);
	ASSERT_EQ(0, row.attachments);
	close(b.fd);
	assert_baseline(&self->base, "at the end");
}

/*
 * The attachments of a device share its mapping only while the device's
 * segment constraints are those the mapping was built for: an attachment
 * made after max_seg_size dropped to 64 KiB gets 64 KiB segments, although
 * an earlier attachment of the same buffer still holds 4 MiB ones.
 */
TEST_F_TIMEOUT(regress, shared_mapping_keeps_constraints, 120)
{
	uint64_t size = 8 * SZ_1M;
	struct cohbuf_imp_attach wide, narrow;
	int fd;

	fd = test_alloc(self->dev, size, O_RDWR | O_CLOEXEC);
	test_attach(self->imp, fd, &wide);
	ASSERT_GT(size / 65536, wide.nents);
	test_param_set(&self->params, IMP_MODULE, "max_seg_size", 65536);
	test_attach(self->imp, fd, &narrow);
	ASSERT_LE(size / 65536, narrow.nents);
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, narrow.handle));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, wide.handle));
	close(fd);
	assert_baseline(&self->base, "at the end");
}

/* A userfaultfd that write-protects @len bytes at @addr: its fd, or -errno. */
static int uffd_write_protect(void *addr, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = reg.range, .mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	int uffd, err;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		return -errno;
	if (ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg) ||
	    ioctl(uffd, UFFDIO_WRITEPROTECT, &wp)) {
		err = errno;
		close(uffd);
		return -err;
	}
	return uffd;
}

struct attach_job {
	int imp;
	struct cohbuf_imp_attach *arg;	/* in the write-protected page */
	int ret;
};

static void *attach_thread(void *p)
{
	struct attach_job *job = p;

	job->ret = ioctl_errno(job->imp, COHBUF_IMP_IOCTL_ATTACH, job->arg);
	return NULL;
}

/*
 * ATTACH copies its result to user space, which may fault for as long as
 * user space likes (here a write-protected page under userfaultfd). The
 * importer's other ioctls on the same file must not wait for it: without
 * the fix the CRC32 below blocks, unkillable, until the timeout. While the
 * copy is pending, the new handle is not yet usable.
 */
TEST_F_TIMEOUT(regress, importer_lock_across_copy, 60)
{
	size_t ps = page_size();
	struct attach_job job = { .imp = self->imp };
	struct uffdio_writeprotect unprotect;
	struct uffd_msg msg;
	uint32_t h0, crc;
	pthread_t thread;
	void *page;
	int fd, uffd;

	fd = test_alloc(self->dev, ps, O_RDWR | O_CLOEXEC);
	h0 = test_attach(self->imp, fd, NULL);
	page = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	memset(page, 0, ps);
	job.arg = page;
	job.arg->fd = fd;
	/* from here on, writing to the page waits for us */
	uffd = uffd_write_protect(page, ps);
	if (uffd == -ENOSYS)
		SKIP(return, "no userfaultfd in this kernel (CONFIG_USERFAULTFD)");
	ASSERT_LE(0, uffd) TH_LOG("userfaultfd write-protect: %s", strerror(-uffd));

	ASSERT_EQ(0, pthread_create(&thread, NULL, attach_thread, &job));
	/* the thread's ATTACH is now in copy_to_user(), waiting for us */
	ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	ASSERT_TRUE(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP);

	ASSERT_EQ(0, cohbuf_importer_crc32(self->imp, h0, 0, ps, &crc));
	/* the lowest free handle is reserved, and not yet an attachment */
	ASSERT_EQ(-ENOENT, cohbuf_importer_crc32(self->imp, h0 + 1, 0, ps, &crc));
	ASSERT_EQ(-ENOENT, cohbuf_importer_detach(self->imp, h0 + 1));

	unprotect.range = (struct uffdio_range){ .start = (uintptr_t)page, .len = ps };
	unprotect.mode = 0;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_WRITEPROTECT, &unprotect)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, job.ret) TH_LOG("ATTACH: %s", strerror(-job.ret));
	ASSERT_EQ(h0 + 1, job.arg->handle);
	ASSERT_EQ(crc, test_crc32(self->imp, job.arg->handle, 0, ps));

	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, job.arg->handle));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, h0));
	close(uffd);
	munmap(page, ps);
	close(fd);
	assert_baseline(&self->base, "at the end");
}

/* One FILL or CRC32 of the importer, in a thread of its own. */
struct access_job {
	int imp;
	uint32_t handle;
	bool fill;
	pid_t tid;		/* set by the thread, then read */
	int ret;
};

static void *access_thread(void *p)
{
	struct access_job *job = p;
	uint32_t crc;

	__atomic_store_n(&job->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	if (job->fill)
		job->ret = cohbuf_importer_fill(job->imp, job->handle, 0, SZ_4K, 0x2a2a2a2a);
	else
		job->ret = cohbuf_importer_crc32(job->imp, job->handle, 0, SZ_4K, &crc);
	return NULL;
}

/*
 * The state letter of thread @tid of this process once it sleeps in a
 * system call ('S' interruptibly, 'D' not), polled until it does.
 */
static char wait_asleep_in_syscall(pid_t tid)
{
	char path[64], buf[512], *p;
	long nr;
	FILE *f;

	for (;;) {
		snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
		f = fopen(path, "re");
		if (!f)
			return 0;
		if (fscanf(f, "%ld", &nr) != 1)
			nr = -1;	/* "running" */
		fclose(f);
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
		f = fopen(path, "re");
		if (!f)
			return 0;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (nr == SYS_ioctl && p && (p[2] == 'S' || p[2] == 'D'))
			return p[2];
		usleep(1000);
	}
}

static void on_signal(int sig)
{
	(void)sig;
}

/* Starts @job in @thread and waits for it to sleep in its ioctl: the state. */
static char _test_job_asleep(struct __test_metadata *_metadata, pthread_t *thread,
			     struct access_job *job)
{
	pid_t tid;

	ASSERT_EQ(0, pthread_create(thread, NULL, access_thread, job));
	while (!(tid = __atomic_load_n(&job->tid, __ATOMIC_ACQUIRE)))
		usleep(1000);
	return wait_asleep_in_syscall(tid);
}
#define test_job_asleep(thread, job) _test_job_asleep(_metadata, thread, job)

/*
 * FILL waits for the buffer's fences in dma_buf_begin_cpu_access(), for as
 * long as the fence's owner likes (here a vgem fence), with the importer's
 * file lock held. Another ioctl of that file must wait for the lock
 * interruptibly: it sleeps in state S, not D, and a signal ends it with
 * EINTR. Without the fix it sleeps, unkillable, until the fence signals.
 */
TEST_F_TIMEOUT(regress, importer_lock_interruptible, 60)
{
	struct access_job fill = { .imp = self->imp, .fill = true };
	struct access_job crc = { .imp = self->imp };
	struct vgem_fence_attach fence;
	struct vgem_fence_signal signal_arg;
	struct sigaction sa = { .sa_handler = on_signal }, old;
	pthread_t fill_thread, crc_thread;
	int vgem, fd, other, ret;
	uint32_t gem;

	vgem = vgem_open(&ret);
	if (vgem < 0)
		SKIP(return, "no vgem device (modprobe vgem: status %d)", ret);
	fd = test_alloc(self->dev, SZ_4K, O_RDWR | O_CLOEXEC);
	other = test_alloc(self->dev, SZ_4K, O_RDWR | O_CLOEXEC);
	fill.handle = test_attach(self->imp, fd, NULL);
	crc.handle = test_attach(self->imp, other, NULL);
	ASSERT_EQ(0, drmPrimeFDToHandle(vgem, fd, &gem));
	/* vgem refuses unknown flags and a nonzero pad */
	fence.handle = gem;
	fence.flags = VGEM_FENCE_WRITE;
	fence.pad = 0;
	ASSERT_EQ(0, drmIoctl(vgem, DRM_IOCTL_VGEM_FENCE_ATTACH, &fence))
		TH_LOG("VGEM_FENCE_ATTACH: %s", strerror(errno));

	/* no SA_RESTART: an interrupted ioctl returns EINTR */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, &old));
	ASSERT_EQ('S', test_job_asleep(&fill_thread, &fill));
	ASSERT_EQ('S', test_job_asleep(&crc_thread, &crc))
		TH_LOG("CRC32 waits for the importer's lock uninterruptibly");
	ASSERT_EQ(0, pthread_kill(crc_thread, SIGUSR1));
	ASSERT_EQ(0, pthread_join(crc_thread, NULL));
	ASSERT_EQ(-EINTR, crc.ret);

	signal_arg.fence = fence.out_fence;
	signal_arg.flags = 0;
	ASSERT_EQ(0, drmIoctl(vgem, DRM_IOCTL_VGEM_FENCE_SIGNAL, &signal_arg))
		TH_LOG("VGEM_FENCE_SIGNAL: %s", strerror(errno));
	ASSERT_EQ(0, pthread_join(fill_thread, NULL));
	ASSERT_EQ(0, fill.ret) TH_LOG("FILL: %s", strerror(-fill.ret));
	ASSERT_EQ(0, sigaction(SIGUSR1, &old, NULL));
	test_crc32(self->imp, crc.handle, 0, SZ_4K);

	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, fill.handle));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, crc.handle));
	close(vgem);
	close(other);
	close(fd);
	assert_baseline(&self->base, "at the end");
}

/*
 * An importer that forwards a user mapping to the exporter (dma_buf_mmap(),
 * here through the importer's own file at offset handle * page size)
 * bypasses the VFS's check of the dma-buf file's mode: the exporter must
 * refuse a writable mapping of an O_RDONLY export with EACCES, as the VFS
 * does, and forbid a later mprotect(PROT_WRITE). A writable export maps
 * writable that way, and the importer sees what is written.
 */
TEST_F(regress, rdonly_forwarded_mmap)
{
	size_t size = 4 * page_size(), ps = page_size();
	uint32_t ro, rw;
	int fd_ro, fd_rw;
	char *map;

	fd_ro = test_alloc(self->dev, size, O_RDONLY | O_CLOEXEC);
	fd_rw = test_alloc(self->dev, size, O_RDWR | O_CLOEXEC);
	ro = test_attach(self->imp, fd_ro, NULL);
	rw = test_attach(self->imp, fd_rw, NULL);

	ASSERT_EQ(MAP_FAILED, map_shared(self->imp, size, PROT_READ | PROT_WRITE, ro * ps));
	ASSERT_EQ(EACCES, errno);
	map = test_map(self->imp, size, PROT_READ, ro * ps);
	ASSERT_EQ(-1, mprotect(map, size, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(cohbuf_crc32(0, map, size), test_crc32(self->imp, ro, 0, size));
	ASSERT_EQ(0, munmap(map, size));

	map = test_map(self->imp, size, PROT_READ | PROT_WRITE, rw * ps);
	memset(map, 0x5c, size);
	ASSERT_EQ(cohbuf_crc32(0, map, size), test_crc32(self->imp, rw, 0, size));
	ASSERT_EQ(0, munmap(map, size));
	ASSERT_EQ(MAP_FAILED, map_shared(self->imp, size, PROT_READ, (rw + 1) * ps));
	ASSERT_EQ(ENOENT, errno);

	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, ro));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, rw));
	close(fd_ro);
	close(fd_rw);
	assert_baseline(&self->base, "at the end");
}

/* How many of /proc/vmallocinfo's areas cohbuf made, or -errno. */
static int cohbuf_vmaps(void)
{
	char line[512];
	FILE *f;
	int n = 0;

	f = fopen("/proc/vmallocinfo", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[cohbuf]"))
			n++;
	fclose(f);
	return n;
}

/*
 * A multi-chunk buffer needs a vmap for a kernel mapping. An importer that
 * only does DMA (attach, map, unmap, detach) must not leave one pinned
 * while the buffer lives on; an importer that vmaps still gets one, and
 * it goes with its last user.
 */
TEST_F_TIMEOUT(regress, kernel_mapping_not_pinned, 120)
{
	uint64_t size = 64 * SZ_1M;
	uint32_t handle;
	int fd, base;

	base = cohbuf_vmaps();
	ASSERT_LE(0, base) TH_LOG("/proc/vmallocinfo: %s", strerror(-base));
	fd = test_alloc(self->dev, size, O_RDWR | O_CLOEXEC);
	handle = test_attach(self->imp, fd, NULL);
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
	ASSERT_EQ(base, cohbuf_vmaps()) TH_LOG("a vmap left after a DMA-only attach and detach");

	handle = test_attach(self->imp, fd, NULL);
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, handle, 0, size, 0x1234abcd));
	ASSERT_EQ(base + 1, cohbuf_vmaps());
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
	ASSERT_EQ(base, cohbuf_vmaps());

	close(fd);
	assert_baseline(&self->base, "at the end");
}

TEST_HARNESS_MAIN
