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
 *   dma_addr_non_root           DMA addresses disclosed without privilege
 *   cpu_access_while_mapped     the exporter syncing through the sg_table it
 *                               lent the importer (CONFIG_DMABUF_DEBUG
 *                               scrambles its page links meanwhile)
 *   importers_overlap           DMA-API misuse when several devices map the
 *                               same coherent memory at once
 *   many_attachments            more mappings of one cache line than DMA-API
 *                               debug tracks (7), one per attachment
 *
 * Each checks that nothing leaks: the cohbuf and importer counters and the
 * dma-buf core's bufinfo return to where they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <xf86drm.h>

#include "cohbuf_harness.h"
#include "cohbuf_vgem.h"

FIXTURE(regress) {
	int dev;
	int imp;
	struct counters base;
	uint64_t saved_buffer_max;
	uint64_t saved_total_max;
	uint64_t saved_seg;
	bool limits_changed;
	bool seg_changed;
};

FIXTURE_SETUP(regress)
{
	self->imp = -1;
	self->dev = test_open();
	self->imp = cohbuf_importer_open();
	ASSERT_LE(0, self->imp) TH_LOG("%s: %s", COHBUF_IMPORTER_DEVICE, strerror(-self->imp));
	ASSERT_EQ(0, counters_get(&self->base));
	ASSERT_EQ(0, module_param_get("cohbuf", "max_buffer_size",
				      &self->saved_buffer_max));
	ASSERT_EQ(0, module_param_get("cohbuf", "max_total_size",
				      &self->saved_total_max));
	ASSERT_EQ(0, module_param_get(IMP_MODULE, "max_seg_size", &self->saved_seg));
}

/*
 * Runs in the harness's parent once the test process, and with it every fd
 * it held, is gone.
 */
FIXTURE_TEARDOWN_PARENT(regress)
{
	if (self->seg_changed)
		EXPECT_EQ(0, module_param_set(IMP_MODULE, "max_seg_size", self->saved_seg));
	if (!self->limits_changed)
		return;
	EXPECT_EQ(0, module_param_set("cohbuf", "max_buffer_size", self->saved_buffer_max));
	EXPECT_EQ(0, module_param_set("cohbuf", "max_total_size", self->saved_total_max));
}

/* errno of COHBUF_IOCTL_ALLOC for @size, or 0 (the fd closed) on success. */
static int alloc_size_errno(int dev, uint64_t size, uint32_t fd_flags)
{
	struct cohbuf_alloc req = { .size = size, .fd_flags = fd_flags, .fd = -1 };

	if (ioctl(dev, COHBUF_IOCTL_ALLOC, &req))
		return errno;
	close(req.fd);
	return 0;
}

TEST_F(regress, zero_size)
{
	ASSERT_EQ(EINVAL, alloc_size_errno(self->dev, 0, O_RDWR));
	ASSERT_EQ(EINVAL, alloc_size_errno(self->dev, 0, O_RDONLY | O_CLOEXEC));
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
	struct cohbuf_imp_attach att;
	uint32_t crc;
	unsigned int i;
	int fd, ret;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ret = alloc_size_errno(self->dev, sizes[i], O_RDWR);
		ASSERT_TRUE(ret == EINVAL || ret == EFBIG)
			TH_LOG("size %#llx: errno %d", (unsigned long long)sizes[i], ret);
	}

	/* with no limit in the way, the round-up itself must be caught */
	self->limits_changed = true;
	ASSERT_EQ(0, module_param_set("cohbuf", "max_buffer_size", ~0ULL));
	ASSERT_EQ(0, module_param_set("cohbuf", "max_total_size", ~0ULL));
	ASSERT_EQ(EINVAL, alloc_size_errno(self->dev, ~0ULL, O_RDWR));
	ASSERT_EQ(EINVAL, alloc_size_errno(self->dev, ~0ULL - ps + 2, O_RDWR));
	ASSERT_EQ(0, module_param_set("cohbuf", "max_buffer_size", self->saved_buffer_max));
	ASSERT_EQ(0, module_param_set("cohbuf", "max_total_size", self->saved_total_max));
	assert_baseline(&self->base, "at the end");

	/* offset + length past 2^64, at the importer */
	fd = cohbuf_alloc(self->dev, 4 * ps, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_importer_attach(self->imp, fd, &att));
	ASSERT_EQ(-EINVAL, cohbuf_importer_crc32(self->imp, att.handle, 4 * ps - 4,
						 ~0ULL - 3, &crc));
	ASSERT_EQ(-EINVAL, cohbuf_importer_fill(self->imp, att.handle, ~0ULL - 3,
						8, 0));
	ASSERT_EQ(-EINVAL, cohbuf_importer_crc32(self->imp, att.handle, 4,
						 ~0ULL - 3, &crc));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, att.handle));
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
	char *map, *p;
	uint64_t ino;
	int fd;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_ino(fd, &ino));
	map = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map);
	pattern_fill(map, size, 0, 7);

	p = mremap(map, size, 64 * size, MREMAP_MAYMOVE);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EFAULT, errno);
	p = mremap(map, size, size + ps, 0);
	ASSERT_EQ(MAP_FAILED, p);
	/* a one-page window inside the buffer cannot grow either */
	ASSERT_EQ(0, munmap(map + ps, size - ps));
	p = mremap(map, ps, size, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, pattern_check(map, ps, 0, 7));
	ASSERT_EQ(1, test_row_mappings(ino));
	ASSERT_EQ(0, munmap(map, ps));
	close(fd);
	assert_baseline(&self->base, "at the end");
}

/* Device memory has no copy-on-write: MAP_PRIVATE fails in every mode. */
TEST_F(regress, map_private)
{
	size_t size = 2 * page_size();
	int fd, rdonly, prot[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE };
	unsigned int i;
	void *p;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	rdonly = cohbuf_alloc(self->dev, size, NULL, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, rdonly);
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
	int fillers[LIMIT], n, fd, next, i;
	struct cohbuf_alloc *req;
	struct rlimit old;

	n = fd_table_fill(self->dev, LIMIT, fillers, &old);
	ASSERT_LT(0, n) TH_LOG("filling the fd table: %s", strerror(-n));
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(EMFILE, alloc_size_errno(self->dev, SZ_1M, O_RDWR | O_CLOEXEC));
	}

	/* one free slot: the allocation takes it */
	close(fillers[--n]);
	fd = cohbuf_alloc(self->dev, SZ_1M, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_EQ(fillers[n], fd);
	ASSERT_EQ(EMFILE, alloc_size_errno(self->dev, SZ_1M, O_RDWR));
	close(fd);
	ASSERT_EQ(0, fd_table_release(fillers, n, &old));
	/* (the counters are files: read them once there are fds again) */
	assert_baseline(&self->base, "at the end");

	/* a copy-out that fails after everything else succeeded */
	req = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, req);
	req->size = SZ_1M;
	req->fd_flags = O_RDWR;
	ASSERT_EQ(0, mprotect(req, page_size(), PROT_READ));
	next = dup(self->dev);
	ASSERT_LE(0, next);
	close(next);
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(-1, ioctl(self->dev, COHBUF_IOCTL_ALLOC, req));
		ASSERT_EQ(EFAULT, errno);
	}
	fd = dup(self->dev);
	ASSERT_EQ(next, fd);
	close(fd);
	munmap(req, page_size());
	assert_baseline(&self->base, "at the end");
}

/*
 * close() racing the release of the same buffer: threads close their own
 * dup of the fd, unmap, attach by fd number (which may already be closed or
 * even reused) and read the debugfs listing, all at once. A use-after-free
 * here is what KASAN reports on the debug kernel.
 */
struct racer {
	pthread_barrier_t *go;
	int fd;
	int imp;
	void *map;
	size_t size;
	int which;
	int bad_errno;
};

static void *racer_main(void *arg)
{
	struct racer *r = arg;
	struct cohbuf_imp_attach att;
	struct cohbuf_entry *list;
	int n, ret;

	pthread_barrier_wait(r->go);
	switch (r->which) {
	case 0:
		close(r->fd);
		break;
	case 1:
		munmap(r->map, r->size);
		close(r->fd);
		break;
	case 2:
		ret = cohbuf_importer_attach(r->imp, r->fd, &att);
		if (!ret)
			cohbuf_importer_detach(r->imp, att.handle);
		else if (ret != -EBADF && ret != -EINVAL)
			r->bad_errno = -ret;
		close(r->fd);
		break;
	default:
		n = cohbuf_list(&list);
		if (n >= 0)
			free(list);
		close(r->fd);
		break;
	}
	return NULL;
}

TEST_F_TIMEOUT(regress, close_racing_release, 300)
{
	enum { THREADS = 4 };
	long rounds = stress_param("COHBUF_REGRESS_ROUNDS", 100, 300);
	struct racer r[THREADS];
	pthread_t tid[THREADS];
	pthread_barrier_t go;
	size_t size = 8 * page_size();
	long round;
	int fd, i;
	void *map;

	for (round = 0; round < rounds; round++) {
		fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		map = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
		ASSERT_NE(MAP_FAILED, map);
		ASSERT_EQ(0, pthread_barrier_init(&go, NULL, THREADS + 1));
		for (i = 0; i < THREADS; i++) {
			r[i] = (struct racer){
				.go = &go, .fd = dup(fd), .imp = self->imp,
				.map = map, .size = size, .which = i,
			};
			ASSERT_LE(0, r[i].fd);
			ASSERT_EQ(0, pthread_create(&tid[i], NULL, racer_main, &r[i]));
		}
		pthread_barrier_wait(&go);
		close(fd);
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

	self->limits_changed = true;
	ASSERT_EQ(0, module_param_set("cohbuf", "max_buffer_size", ~0ULL));
	ASSERT_EQ(0, module_param_set("cohbuf", "max_total_size", ~0ULL));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ASSERT_EQ(ENOMEM, alloc_size_errno(self->dev, sizes[i], O_RDWR))
			TH_LOG("size %#llx", (unsigned long long)sizes[i]);
	}
	/* and an ordinary buffer of several chunks still works */
	ASSERT_EQ(0, alloc_size_errno(self->dev, 3 * SZ_4M + 5 * page_size(), O_RDWR));
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
	uint32_t crc, zero_crc;
	struct cohbuf_imp_attach att;
	unsigned int i, round;
	void *map, *zeros;
	int fd;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		zeros = calloc(1, sizes[i]);
		ASSERT_NE(NULL, zeros);
		zero_crc = cohbuf_crc32(0, zeros, sizes[i]);
		free(zeros);
		for (round = 0; round < 3; round++) {
			fd = cohbuf_alloc(self->dev, sizes[i], NULL, O_RDWR | O_CLOEXEC);
			ASSERT_LE(0, fd);
			ASSERT_EQ(0, cohbuf_importer_attach(self->imp, fd, &att));
			ASSERT_EQ(0, cohbuf_importer_crc32(self->imp, att.handle, 0,
							   sizes[i], &crc));
			ASSERT_EQ(zero_crc, crc) TH_LOG("size %llu round %u",
							(unsigned long long)sizes[i], round);
			map = map_shared(fd, sizes[i], PROT_READ | PROT_WRITE, 0);
			ASSERT_NE(MAP_FAILED, map);
			ASSERT_EQ(-1, bytes_check(map, sizes[i], 0));
			/* leave it dirty for the next round */
			memset(map, 0xa5, sizes[i]);
			ASSERT_EQ(0, cohbuf_importer_detach(self->imp, att.handle));
			munmap(map, sizes[i]);
			close(fd);
		}
	}
	assert_baseline(&self->base, "at the end");
}

/*
 * An O_RDONLY export stays read-only whatever the path: a writable shared
 * mapping, mprotect(), the importer's FILL, and a writable reopen through
 * /proc/self/fd, also in a process that received it over SCM_RIGHTS.
 */
TEST_F(regress, rdonly_export_writable)
{
	size_t size = 4 * page_size();
	struct cohbuf_imp_attach att;
	int fd, fd2, sv[2], status;
	char path[64];
	void *map;
	pid_t pid;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(MAP_FAILED, map_shared(fd, size, PROT_READ | PROT_WRITE, 0));
	ASSERT_EQ(EACCES, errno);
	map = map_shared(fd, size, PROT_READ, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(-1, mprotect(map, size, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(0, cohbuf_importer_attach(self->imp, fd, &att));
	ASSERT_EQ(-EACCES, cohbuf_importer_fill(self->imp, att.handle, 0, size, 1));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, att.handle));

	/* reopening cannot upgrade it */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd2 = open(path, O_RDWR | O_CLOEXEC);
	if (fd2 >= 0) {
		ASSERT_EQ(MAP_FAILED, map_shared(fd2, size, PROT_READ | PROT_WRITE, 0));
		close(fd2);
	}

	/* nor can the process that receives it */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int got;

		close(sv[0]);
		if (cohbuf_recv_fds(sv[1], &got, 1, NULL, 0) != 1)
			_exit(1);
		if (map_shared(got, size, PROT_READ | PROT_WRITE, 0) != MAP_FAILED ||
		    errno != EACCES)
			_exit(2);
		if (map_shared(got, size, PROT_WRITE, 0) != MAP_FAILED)
			_exit(3);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, cohbuf_send_fds(sv[0], &fd, 1, NULL, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("receiver failed at step %d",
						 WEXITSTATUS(status));
	close(sv[0]);
	ASSERT_EQ(-1, bytes_check(map, size, 0));
	munmap(map, size);
	close(fd);
	assert_baseline(&self->base, "at the end");
}

/*
 * DMA addresses are physical addresses here: a process without
 * CAP_SYS_ADMIN gets EPERM, even on an importer file and a handle that
 * root opened and attached, and /dev/cohbuf is root's only.
 */
TEST_F(regress, dma_addr_non_root)
{
	struct cohbuf_imp_attach att;
	uint64_t addr;
	int fd, status;
	pid_t pid;

	fd = cohbuf_alloc(self->dev, SZ_1M, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_importer_attach(self->imp, fd, &att));
	ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, att.handle, 0, &addr));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t crc;

		/* nobody: every capability goes with the uid */
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(1);
		if (cohbuf_importer_dma_addr(self->imp, att.handle, 0, &addr) != -EPERM)
			_exit(2);
		if (cohbuf_importer_dma_addr(self->imp, att.handle, SZ_1M - 4, &addr) != -EPERM)
			_exit(3);
		if (cohbuf_importer_crc32(self->imp, att.handle, 0, 4, &crc))
			_exit(4);
		if (cohbuf_open() != -EACCES)
			_exit(5);
		if (cohbuf_importer_open() != -EACCES)
			_exit(6);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("unprivileged child failed at step %d",
						 WEXITSTATUS(status));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, att.handle));
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
	uint32_t crc, crc2;
	void *map;
	int fd;

	self->seg_changed = true;
	ASSERT_EQ(0, module_param_set(IMP_MODULE, "max_seg_size", 65536));
	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_importer_attach(self->imp, fd, &att));
	ASSERT_LE(size / 65536, att.nents);
	map = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map);

	/* the importer's CPU access, while its attachment is mapped */
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, att.handle, 0, size, 0x600dcafe));
	ASSERT_EQ(0, cohbuf_importer_crc32(self->imp, att.handle, 0, size, &crc));
	/* and user space's, through DMA_BUF_IOCTL_SYNC */
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW;
	ASSERT_EQ(0, ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync));
	ASSERT_EQ(crc, cohbuf_crc32(0, map, size));
	pattern_fill(map, size, 0, 11);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	ASSERT_EQ(0, ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync));
	ASSERT_EQ(0, cohbuf_importer_crc32(self->imp, att.handle, 0, size, &crc2));
	ASSERT_EQ(cohbuf_crc32(0, map, size), crc2);

	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, att.handle));
	munmap(map, size);
	close(fd);
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
	struct cohbuf_imp_attach a1, a2;
	uint32_t crc1, crc2, gem = 0;
	int fd, vgem, status;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_importer_attach(self->imp, fd, &a1));
	ASSERT_EQ(0, cohbuf_importer_attach(self->imp, fd, &a2));
	vgem = vgem_open(&status);
	if (vgem >= 0)
		ASSERT_EQ(0, drmPrimeFDToHandle(vgem, fd, &gem)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, a1.handle, 0, size, 0x0badf00d));
	ASSERT_EQ(0, cohbuf_importer_crc32(self->imp, a1.handle, 0, size, &crc1));
	ASSERT_EQ(0, cohbuf_importer_crc32(self->imp, a2.handle, 0, size, &crc2));
	ASSERT_EQ(crc1, crc2);
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, a1.handle));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, a2.handle));
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
	struct cohbuf_imp_attach att[N];
	uint32_t crc0, crc;
	struct cohbuf_entry row;
	uint64_t ino;
	int fd, i;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_ino(fd, &ino));
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, cohbuf_importer_attach(self->imp, fd, &att[i])) TH_LOG("attach %d", i);
	test_row(ino, &row);
	ASSERT_EQ(N, row.attachments);
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, att[0].handle, 0, size, 0x5eed));
	ASSERT_EQ(0, cohbuf_importer_crc32(self->imp, att[0].handle, 0, size, &crc0));
	ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, att[0].handle, SZ_4M, &addr0));
	for (i = 1; i < N; i++) {
		ASSERT_EQ(0, cohbuf_importer_crc32(self->imp, att[i].handle, 0, size, &crc));
		ASSERT_EQ(crc0, crc) TH_LOG("attachment %d", i);
		ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, att[i].handle, SZ_4M, &addr));
		ASSERT_EQ(addr0, addr) TH_LOG("attachment %d", i);
	}
	/* every other one first, then the rest: the mapping outlives them all but one */
	for (i = 0; i < N; i += 2)
		ASSERT_EQ(0, cohbuf_importer_detach(self->imp, att[i].handle));
	ASSERT_EQ(0, cohbuf_importer_crc32(self->imp, att[N - 1].handle, 0, size, &crc));
	ASSERT_EQ(crc0, crc);
	for (i = 1; i < N; i += 2)
		ASSERT_EQ(0, cohbuf_importer_detach(self->imp, att[i].handle));
	test_row(ino, &row);
	ASSERT_EQ(0, row.attachments);
	close(fd);
	assert_baseline(&self->base, "at the end");
}

TEST_HARNESS_MAIN
