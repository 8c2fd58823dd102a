// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_importer, a driver-like importer, on cohbuf, vgem, udmabuf and
 * dma-heap buffers: what it reads and writes through its kernel mapping is
 * what processes see through theirs, its DMA addresses are the processes'
 * page frames, its attachments keep buffers (and the cohbuf module) alive,
 * and every bad input gets its documented errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/capability.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <xf86drm.h>

#include "cohbuf_harness.h"
#include "cohbuf_vgem.h"

#define UDMABUF_DEV		"/dev/udmabuf"
#define SYSTEM_HEAP_DEV		"/dev/dma_heap/system"
#define IMP_DEVICE_NAME		"cohbuf_importer"	/* in dma_buf/bufinfo */

static int open_imp(struct __test_metadata *_metadata)
{
	int imp = cohbuf_importer_open();

	ASSERT_LE(0, imp) TH_LOG("open %s: %s (is cohbuf_importer loaded?)",
				 COHBUF_IMPORTER_DEVICE, strerror(-imp));
	return imp;
}

static uint64_t get_imp_live(struct __test_metadata *_metadata)
{
	uint64_t n = 0;
	int ret = imp_live(&n);

	ASSERT_EQ(0, ret) TH_LOG("%s/attachments: %s", IMP_DEBUGFS_DIR,
				 strerror(-ret));
	return n;
}

/* Attaches @fd, which must work: the handle, with @arg filled. */
static uint32_t attach(struct __test_metadata *_metadata, int imp, int fd,
		       struct cohbuf_imp_attach *arg)
{
	struct cohbuf_imp_attach local;
	int ret;

	if (!arg)
		arg = &local;
	ret = cohbuf_importer_attach(imp, fd, arg);
	ASSERT_EQ(0, ret) TH_LOG("COHBUF_IMP_IOCTL_ATTACH: %s", strerror(-ret));
	ASSERT_NE(0, arg->handle);
	return arg->handle;
}

static uint32_t crc_of(struct __test_metadata *_metadata, int imp,
		       uint32_t handle, uint64_t off, uint64_t len)
{
	uint32_t crc = 0;
	int ret = cohbuf_importer_crc32(imp, handle, off, len, &crc);

	ASSERT_EQ(0, ret) TH_LOG("CRC32 [%llu, +%llu): %s", (unsigned long long)off,
				 (unsigned long long)len, strerror(-ret));
	return crc;
}

/* Offset of the first 32-bit word in @p that is not @word, or -1. */
static ssize_t words_check(const void *p, size_t len, uint32_t word)
{
	const uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		if (w[i] != word)
			return (ssize_t)(i * 4);
	return -1;
}

/* Frame numbers of @pages pages at @addr, from one read of pagemap. */
static int pagemap_pfns(const void *addr, size_t pages, uint64_t *pfns)
{
	off_t off = (uintptr_t)addr / page_size() * sizeof(uint64_t);
	ssize_t len = pages * sizeof(uint64_t);
	size_t i;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, pfns, len, off) != len) {
		int err = errno ? errno : EIO;

		close(fd);
		return -err;
	}
	close(fd);
	for (i = 0; i < pages; i++) {
		if (!(pfns[i] >> 63))		/* bit 63: present */
			return -ENODATA;
		pfns[i] &= (1ULL << 55) - 1;	/* bits 0-54 */
	}
	return 0;
}

/*
 * Every page of the @size bytes mapped at @map: the importer's DMA address
 * of a byte in it is that page's frame (as pagemap reports it) plus the
 * byte's offset in the page. Returns 1 if pagemap hides frames (not root).
 */
static int check_dma_addrs(struct __test_metadata *_metadata, int imp,
			   uint32_t handle, const void *map, size_t size)
{
	size_t ps = page_size(), pages = size / ps, i;
	uint64_t *pfns = calloc(pages, sizeof(*pfns));
	int ret;

	ASSERT_NE(NULL, pfns);
	ret = pagemap_pfns(map, pages, pfns);
	ASSERT_EQ(0, ret) TH_LOG("pagemap: %s", strerror(-ret));
	if (!pfns[0]) {
		free(pfns);
		return 1;
	}
	for (i = 0; i < pages; i++) {
		uint64_t off = i * ps + (i * 8) % ps, addr = 0;

		ret = cohbuf_importer_dma_addr(imp, handle, off, &addr);
		ASSERT_EQ(0, ret) TH_LOG("DMA_ADDR %llu: %s",
					 (unsigned long long)off, strerror(-ret));
		ASSERT_EQ(pfns[i] * ps + off % ps, addr)
			TH_LOG("page %zu: pfn %#llx, DMA address %#llx", i,
			       (unsigned long long)pfns[i], (unsigned long long)addr);
	}
	free(pfns);
	return 0;
}

/*
 * The round trip every exporter must pass, on @size bytes of a dma-buf
 * @fd that the process sees at @map: what the process wrote is what the
 * importer reads, and what the importer fills is what the process reads.
 */
static void round_trip(struct __test_metadata *_metadata, int imp, int fd,
		       void *map, size_t size)
{
	struct cohbuf_imp_attach arg;
	uint32_t handle, fill = 0x5a5aa5a5;
	size_t q = size / 4;

	pattern_fill(map, size, 0, 21);
	handle = attach(_metadata, imp, fd, &arg);
	ASSERT_EQ(size, arg.size);
	ASSERT_LE(1, arg.nents);
	ASSERT_EQ(cohbuf_crc32(0, map, size), crc_of(_metadata, imp, handle, 0, size));

	ASSERT_EQ(0, cohbuf_importer_fill(imp, handle, q, 2 * q, fill));
	ASSERT_EQ(-1, pattern_check(map, q, 0, 21));
	ASSERT_EQ(-1, words_check((char *)map + q, 2 * q, fill));
	ASSERT_EQ(-1, pattern_check((char *)map + 3 * q, q, 3 * q, 21));
	ASSERT_EQ(cohbuf_crc32(0, map, size), crc_of(_metadata, imp, handle, 0, size));
	ASSERT_EQ(0, cohbuf_importer_detach(imp, handle));
}

/* cohbuf buffers */
FIXTURE(imp) {
	int dev;
	int imp;
	uint64_t base;
	struct counters live;
};

FIXTURE_SETUP(imp)
{
	self->dev = test_open();
	self->imp = open_imp(_metadata);
	self->base = get_imp_live(_metadata);
	test_counters(&self->live);
}

FIXTURE_TEARDOWN(imp)
{
	close(self->imp);
	close(self->dev);
}

/* The importer's CRC is zlib's: check it on a known vector. */
TEST_F(imp, crc32_is_zlib)
{
	size_t ps = page_size();
	uint32_t handle;
	char *map;
	int fd;

	ASSERT_EQ(0xcbf43926, cohbuf_crc32(0, "123456789", 9));
	fd = cohbuf_alloc(self->dev, ps, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	map = map_shared(fd, ps, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map);
	memcpy(map, "12345678", 8);
	handle = attach(_metadata, self->imp, fd, NULL);

	ASSERT_EQ(0x9ae0daaf, crc_of(_metadata, self->imp, handle, 0, 8));
	ASSERT_EQ(0, crc_of(_metadata, self->imp, handle, 0, 0));
	ASSERT_EQ(0, crc_of(_metadata, self->imp, handle, ps, 0));
	ASSERT_EQ(cohbuf_crc32(0, map, ps), crc_of(_metadata, self->imp, handle, 0, ps));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
	munmap(map, ps);
	close(fd);
}

/* Several chunks; sub-ranges at the edges and across a chunk boundary. */
TEST_F(imp, crc32_matches_process)
{
	size_t size = 6 * SZ_1M + page_size();
	struct cohbuf_imp_attach arg;
	uint32_t handle;
	char *map;
	int fd;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	map = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map);
	pattern_fill(map, size, 0, 11);
	handle = attach(_metadata, self->imp, fd, &arg);
	ASSERT_EQ(size, arg.size);
	/* at least one segment per 4 MiB chunk (max_seg_size is 4 MiB) */
	ASSERT_LE(2, arg.nents);

	ASSERT_EQ(cohbuf_crc32(0, map, size),
		  crc_of(_metadata, self->imp, handle, 0, size));
	ASSERT_EQ(cohbuf_crc32(0, map + 4, size - 8),
		  crc_of(_metadata, self->imp, handle, 4, size - 8));
	ASSERT_EQ(cohbuf_crc32(0, map + size - 4, 4),
		  crc_of(_metadata, self->imp, handle, size - 4, 4));
	ASSERT_EQ(cohbuf_crc32(0, map + SZ_4M - 12, 24),
		  crc_of(_metadata, self->imp, handle, SZ_4M - 12, 24));

	/* a write by the process after the attach is seen too */
	pattern_fill(map, size, 0, 12);
	ASSERT_EQ(cohbuf_crc32(0, map, size),
		  crc_of(_metadata, self->imp, handle, 0, size));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
	munmap(map, size);
	close(fd);
}

TEST_F(imp, fill_seen_by_process)
{
	size_t size = 2 * SZ_1M, off = page_size() + 4, len = 64 * 1024;
	uint32_t handle;
	char *map;
	int fd;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	map = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map);
	pattern_fill(map, size, 0, 13);
	handle = attach(_metadata, self->imp, fd, NULL);

	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, handle, off, len, 0xdeadbeef));
	ASSERT_EQ(-1, words_check(map + off, len, 0xdeadbeef));
	/* the words around the range are untouched */
	ASSERT_EQ(-1, pattern_check(map, off - 4, 0, 13));
	ASSERT_EQ(0xdeadbeef, *(uint32_t *)(map + off));
	ASSERT_NE(0xdeadbeef, *(uint32_t *)(map + off + len));
	ASSERT_EQ(-1, pattern_check(map + off + len + 4, size - off - len - 4,
				    off + len + 4, 13));
	ASSERT_EQ(cohbuf_crc32(0, map, size),
		  crc_of(_metadata, self->imp, handle, 0, size));

	/* the whole buffer, and an empty range changes nothing */
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, handle, 0, size, 0x01020304));
	ASSERT_EQ(-1, words_check(map, size, 0x01020304));
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, handle, size, 0, 0));
	ASSERT_EQ(-1, words_check(map, size, 0x01020304));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
	munmap(map, size);
	close(fd);
}

/* The child's side of fill_two_processes: 0, or the step that failed. */
static int two_proc_child(int fd, size_t size, int go, int done)
{
	char *map = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
	char c;

	if (map == MAP_FAILED)
		return 1;
	if (read(go, &c, 1) != 1)
		return 2;
	/* the importer filled the first half */
	if (words_check(map, size / 2, 0xc0ffee00) != -1)
		return 3;
	pattern_fill(map + size / 2, size / 2, size / 2, 14);
	if (write(done, "d", 1) != 1)
		return 4;
	/* hold the mapping until the parent is done */
	if (read(go, &c, 1) != 0)
		return 5;
	return 0;
}

/*
 * Two processes and the importer on one buffer at once: the importer fills
 * half of it and both processes see that; the other process writes the
 * other half, and the first process and the importer see that.
 */
TEST_F(imp, fill_two_processes)
{
	size_t size = 2 * SZ_1M;
	int fd, go[2], done[2], status;
	uint32_t handle;
	char *map, c;
	pid_t pid;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	map = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map);
	handle = attach(_metadata, self->imp, fd, NULL);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(done, O_CLOEXEC));

	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(go[1]);
		close(done[0]);
		_exit(two_proc_child(fd, size, go[0], done[1]));
	}
	close(go[0]);
	close(done[1]);

	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, handle, 0, size / 2, 0xc0ffee00));
	ASSERT_EQ(-1, words_check(map, size / 2, 0xc0ffee00));
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(1, read(done[0], &c, 1));

	ASSERT_EQ(-1, pattern_check(map + size / 2, size / 2, size / 2, 14));
	ASSERT_EQ(cohbuf_crc32(0, map, size),
		  crc_of(_metadata, self->imp, handle, 0, size));
	close(go[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("child failed at step %d",
						 WEXITSTATUS(status));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
	munmap(map, size);
	close(fd);
}

/*
 * Physical identity: the importer runs with a 64-bit mask and no IOMMU,
 * so its DMA address of every page of a 48 MiB buffer (12 chunks or more)
 * is the frame the process maps. Any difference would be a bounce copy.
 */
TEST_F_TIMEOUT(imp, dma_addr_is_process_pfn_48mib, 180)
{
	size_t size = 48 * SZ_1M;
	struct cohbuf_imp_attach arg;
	struct cohbuf_entry row;
	uint64_t ino;
	char *map;
	int fd;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_ino(fd, &ino));
	map = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map);
	pattern_fill(map, size, 0, 15);
	attach(_metadata, self->imp, fd, &arg);
	test_row(ino, &row);
	ASSERT_LE(size / SZ_4M, row.chunks);
	ASSERT_LE(row.chunks, arg.nents);

	if (check_dma_addrs(_metadata, self->imp, arg.handle, map, size))
		SKIP(goto out, "pagemap shows frame numbers to root only");
	ASSERT_EQ(cohbuf_crc32(0, map, size),
		  crc_of(_metadata, self->imp, arg.handle, 0, size));
out:
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, arg.handle));
	munmap(map, size);
	close(fd);
}

/* A buffer exported O_RDONLY can be read through the importer, not written. */
TEST_F(imp, readonly_buffer_refuses_fill)
{
	size_t size = 4 * page_size();
	uint32_t handle;
	void *zeros;
	int fd;

	zeros = calloc(1, size);
	ASSERT_NE(NULL, zeros);
	fd = cohbuf_alloc(self->dev, size, NULL, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	handle = attach(_metadata, self->imp, fd, NULL);
	ASSERT_EQ(-EACCES, cohbuf_importer_fill(self->imp, handle, 0, size, 0xffffffff));
	ASSERT_EQ(cohbuf_crc32(0, zeros, size),
		  crc_of(_metadata, self->imp, handle, 0, size));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
	close(fd);
	free(zeros);
}

/* debugfs counts on both sides, and bufinfo names the importer's device. */
static void assert_attachments(struct __test_metadata *_metadata,
			       uint64_t ino, uint64_t base, int n)
{
	struct cohbuf_entry row;
	int count, named;

	test_row(ino, &row);
	ASSERT_EQ(n, row.attachments);
	ASSERT_EQ(base + n, get_imp_live(_metadata));
	count = bufinfo_attachments(ino, IMP_DEVICE_NAME, &named);
	ASSERT_EQ(n, count);
	ASSERT_EQ(n, named);
}

TEST_F(imp, attach_detach_counts)
{
	uint32_t h1, h2;
	uint64_t ino;
	int fd;

	fd = cohbuf_alloc(self->dev, SZ_1M, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_ino(fd, &ino));
	assert_attachments(_metadata, ino, self->base, 0);
	h1 = attach(_metadata, self->imp, fd, NULL);
	assert_attachments(_metadata, ino, self->base, 1);

	/* the same buffer again: a second, independent attachment */
	h2 = attach(_metadata, self->imp, fd, NULL);
	ASSERT_NE(h1, h2);
	assert_attachments(_metadata, ino, self->base, 2);
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, h1));
	assert_attachments(_metadata, ino, self->base, 1);
	ASSERT_EQ(-ENOENT, cohbuf_importer_detach(self->imp, h1));
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, h2, 0, 4, 1));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, h2));
	assert_attachments(_metadata, ino, self->base, 0);
	close(fd);
	assert_live(&self->live, 0, 0);
}

static int delete_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/*
 * With every fd and mapping gone, the attachment alone keeps the buffer:
 * the importer still reads it, and cohbuf cannot be unloaded. Detaching
 * frees it.
 */
TEST_F(imp, attachment_keeps_buffer_and_module)
{
	size_t size = SZ_1M;
	struct cohbuf_entry row;
	uint32_t handle, crc;
	uint64_t ino;
	char *map;
	int fd, ret;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_ino(fd, &ino));
	map = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map);
	pattern_fill(map, size, 0, 16);
	crc = cohbuf_crc32(0, map, size);
	handle = attach(_metadata, self->imp, fd, NULL);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, munmap(map, size));
	ASSERT_EQ(0, close(self->dev));
	self->dev = -1;

	assert_live(&self->live, 1, size);
	test_row(ino, &row);
	ASSERT_EQ(0, row.mappings);
	ASSERT_EQ(1, row.attachments);
	ASSERT_EQ(crc, crc_of(_metadata, self->imp, handle, 0, size));
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, handle, 0, size, 7));

	ret = delete_module("cohbuf");
	ASSERT_TRUE(ret == -EBUSY || ret == -EAGAIN)
		TH_LOG("rmmod cohbuf with an attachment: %s", strerror(-ret));
	ASSERT_EQ(0, access(MODULE_SYSFS "/initstate", F_OK));

	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
	ASSERT_EQ(-ENOENT, row_read(ino, &row));
	assert_live(&self->live, 0, 0);
	ASSERT_EQ(self->base, get_imp_live(_metadata));
}

/* Closing an importer file detaches everything it attached, and only that. */
TEST_F(imp, close_detaches_all)
{
	uint64_t ino[2];
	int imp2, fd[2], i;
	uint32_t kept;

	for (i = 0; i < 2; i++) {
		fd[i] = cohbuf_alloc(self->dev, SZ_1M, NULL, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd[i]);
		ASSERT_EQ(0, cohbuf_ino(fd[i], &ino[i]));
	}
	kept = attach(_metadata, self->imp, fd[1], NULL);
	imp2 = open_imp(_metadata);
	attach(_metadata, imp2, fd[0], NULL);
	attach(_metadata, imp2, fd[0], NULL);
	attach(_metadata, imp2, fd[1], NULL);
	ASSERT_EQ(self->base + 4, get_imp_live(_metadata));

	ASSERT_EQ(0, close(imp2));
	assert_attachments(_metadata, ino[0], self->base + 1, 0);
	ASSERT_EQ(0, crc_of(_metadata, self->imp, kept, 0, 0));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, kept));
	assert_attachments(_metadata, ino[1], self->base, 0);
	close(fd[0]);
	close(fd[1]);
	assert_live(&self->live, 0, 0);
}

TEST_F(imp, handles_belong_to_their_file)
{
	uint32_t handle, crc;
	int imp2, fd;

	fd = cohbuf_alloc(self->dev, SZ_1M, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	handle = attach(_metadata, self->imp, fd, NULL);
	imp2 = open_imp(_metadata);
	ASSERT_EQ(-ENOENT, cohbuf_importer_crc32(imp2, handle, 0, 4, &crc));
	ASSERT_EQ(-ENOENT, cohbuf_importer_detach(imp2, handle));
	ASSERT_EQ(0, close(imp2));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
	close(fd);
}

/* max_seg_size=65536: the exporter splits the buffer for the importer. */
FIXTURE(seg) {
	int dev;
	int imp;
	struct saved_params params;
};

FIXTURE_SETUP(seg)
{
	self->dev = test_open();
	self->imp = open_imp(_metadata);
	test_param_set(&self->params, IMP_MODULE, "max_seg_size", 65536);
}

/*
 * Runs in the harness's parent once the test process, and with it every
 * fd it held, is gone: whatever happened in the test, the default returns.
 */
FIXTURE_TEARDOWN_PARENT(seg)
{
	expect_params_restored(&self->params);
}

TEST_F_TIMEOUT(seg, nents_and_data_64k, 120)
{
	size_t size = 8 * SZ_1M, off = 64 * 1024 - 8, len = 3 * 64 * 1024;
	struct cohbuf_imp_attach arg;
	char *map;
	int fd;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	map = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map);
	pattern_fill(map, size, 0, 17);
	attach(_metadata, self->imp, fd, &arg);
	ASSERT_LE(size / 65536, arg.nents);

	ASSERT_EQ(cohbuf_crc32(0, map, size),
		  crc_of(_metadata, self->imp, arg.handle, 0, size));
	/* a fill across segment boundaries */
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, arg.handle, off, len, 0x64646464));
	ASSERT_EQ(-1, pattern_check(map, off, 0, 17));
	ASSERT_EQ(-1, words_check(map + off, len, 0x64646464));
	ASSERT_EQ(-1, pattern_check(map + off + len + 8, size - off - len - 8,
				    off + len + 8, 17));
	ASSERT_EQ(cohbuf_crc32(0, map, size),
		  crc_of(_metadata, self->imp, arg.handle, 0, size));
	if (check_dma_addrs(_metadata, self->imp, arg.handle, map, size))
		TH_LOG("pagemap shows frame numbers to root only: DMA addresses not checked");
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, arg.handle));
	munmap(map, size);
	close(fd);
}

TEST_F(seg, param_rejects_below_a_page)
{
	uint64_t val;

	ASSERT_EQ(-EINVAL, module_param_set(IMP_MODULE, "max_seg_size",
					    page_size() - 1));
	ASSERT_EQ(-EINVAL, module_param_set(IMP_MODULE, "max_seg_size", 0));
	ASSERT_EQ(0, module_param_get(IMP_MODULE, "max_seg_size", &val));
	ASSERT_EQ(65536, val);
}

/* Foreign exporters: vgem (both kernels), udmabuf and the system heap (6.12). */
FIXTURE(foreign) {
	int imp;
	int fd;		/* the dma-buf */
	int owner;	/* vgem device, memfd or heap, or -1 */
	void *map;
	size_t size;
};

FIXTURE_SETUP(foreign)
{
	self->fd = -1;
	self->owner = -1;
	self->map = MAP_FAILED;
	self->size = SZ_1M;
	self->imp = open_imp(_metadata);
}

FIXTURE_TEARDOWN(foreign)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->size);
	if (self->fd >= 0)
		close(self->fd);
	if (self->owner >= 0)
		close(self->owner);
	close(self->imp);
}

/* A vgem dumb buffer, exported through PRIME. */
TEST_F(foreign, vgem)
{
	struct drm_mode_create_dumb create = {
		.width = 1024,
		.height = self->size / 4096,
		.bpp = 32,
	};
	int ret;

	self->owner = vgem_open(&ret);
	if (self->owner < 0)
		SKIP(return, "no vgem device (modprobe vgem: status %d)", ret);
	ASSERT_EQ(0, drmIoctl(self->owner, DRM_IOCTL_MODE_CREATE_DUMB, &create))
		TH_LOG("DRM_IOCTL_MODE_CREATE_DUMB: %s", strerror(errno));
	ASSERT_EQ(self->size, create.size);
	ASSERT_EQ(0, drmPrimeHandleToFD(self->owner, create.handle,
					DRM_CLOEXEC | DRM_RDWR, &self->fd));
	self->map = map_shared(self->fd, self->size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	round_trip(_metadata, self->imp, self->fd, self->map, self->size);
}

/* Skips, with the reason, when @path does not exist. */
static bool node_absent(const char *path)
{
	return access(path, F_OK) && errno == ENOENT;
}

/* udmabuf over a sealed memfd, which the process maps and pagemap sees. */
TEST_F(foreign, udmabuf)
{
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC };
	struct cohbuf_imp_attach arg;
	int dev, ret = 0;

	if (node_absent(UDMABUF_DEV)) {
		ret = system("modprobe udmabuf >/dev/null 2>&1");
		if (node_absent(UDMABUF_DEV))
			SKIP(return, "no %s: this kernel has no udmabuf (modprobe udmabuf: status %d)",
			     UDMABUF_DEV, ret);
	}
	self->owner = memfd_create("cohbuf-udmabuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	ASSERT_LE(0, self->owner);
	ASSERT_EQ(0, ftruncate(self->owner, self->size));
	ASSERT_EQ(0, fcntl(self->owner, F_ADD_SEALS, F_SEAL_SHRINK));
	self->map = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->owner, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	memset(self->map, 0, self->size);	/* allocate the pages */

	dev = open(UDMABUF_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev) TH_LOG("%s: %s", UDMABUF_DEV, strerror(errno));
	create.memfd = self->owner;
	create.size = self->size;
	self->fd = ioctl(dev, UDMABUF_CREATE, &create);
	close(dev);
	ASSERT_LE(0, self->fd) TH_LOG("UDMABUF_CREATE: %s", strerror(errno));
	round_trip(_metadata, self->imp, self->fd, self->map, self->size);

	/* the memfd's own pages are what the importer's device addresses */
	attach(_metadata, self->imp, self->fd, &arg);
	if (check_dma_addrs(_metadata, self->imp, arg.handle, self->map, self->size))
		TH_LOG("pagemap shows frame numbers to root only: DMA addresses not checked");
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, arg.handle));
}

TEST_F(foreign, system_heap)
{
	struct dma_heap_allocation_data alloc = {
		.len = self->size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (node_absent(SYSTEM_HEAP_DEV))
		SKIP(return, "no %s: this kernel has no dma-heaps", SYSTEM_HEAP_DEV);
	/*
	 * The system heap's begin_cpu_access syncs the very sg_table it lent
	 * each importer, whose page links CONFIG_DMABUF_DEBUG scrambles until
	 * unmap: the importer's FILL oopses in the heap (cohbuf had the same
	 * bug: see regress.cpu_access_while_mapped).
	 */
	if (kernel_config("DMABUF_DEBUG"))
		SKIP(return, "Linux 6.12's system heap oopses on CPU access by a mapped importer when CONFIG_DMABUF_DEBUG=y (a kernel bug)");
	self->owner = open(SYSTEM_HEAP_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->owner) TH_LOG("%s: %s", SYSTEM_HEAP_DEV, strerror(errno));
	ASSERT_EQ(0, ioctl(self->owner, DMA_HEAP_IOCTL_ALLOC, &alloc))
		TH_LOG("DMA_HEAP_IOCTL_ALLOC: %s", strerror(errno));
	self->fd = alloc.fd;
	self->map = map_shared(self->fd, self->size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	round_trip(_metadata, self->imp, self->fd, self->map, self->size);
}

/* Bad input: one errno per test, and nothing attached or leaked after it. */
FIXTURE(bad) {
	int dev;
	int imp;
	int fd;
	uint32_t handle;
	uint64_t base;
	uint64_t ino;
	uint64_t size;
};

FIXTURE_SETUP(bad)
{
	self->size = SZ_1M;
	self->dev = test_open();
	self->imp = open_imp(_metadata);
	self->base = get_imp_live(_metadata);
	self->fd = cohbuf_alloc(self->dev, self->size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, cohbuf_ino(self->fd, &self->ino));
	self->handle = attach(_metadata, self->imp, self->fd, NULL);
}

FIXTURE_TEARDOWN(bad)
{
	close(self->imp);
	close(self->fd);
	close(self->dev);
}

/* Only the fixture's attachment exists. */
static void assert_one_attachment(struct __test_metadata *_metadata,
				  const FIXTURE_DATA(bad) *self)
{
	struct cohbuf_entry row;

	ASSERT_EQ(self->base + 1, get_imp_live(_metadata));
	test_row(self->ino, &row);
	ASSERT_EQ(1, row.attachments);
}

static int attach_req(int imp, struct cohbuf_imp_attach *arg)
{
	return ioctl(imp, COHBUF_IMP_IOCTL_ATTACH, arg) ? errno : 0;
}

TEST_F(bad, attach_flags_each_unknown_bit)
{
	struct cohbuf_imp_attach arg = { .fd = self->fd };
	int bit;

	for (bit = 0; bit < 32; bit++) {
		arg.flags = 1U << bit;
		if (arg.flags & COHBUF_IMP_ATTACH_VALID_FLAGS)
			continue;
		EXPECT_EQ(EINVAL, attach_req(self->imp, &arg)) TH_LOG("flags bit %d", bit);
	}
	assert_one_attachment(_metadata, self);
}

TEST_F(bad, attach_reserved_nonzero)
{
	struct cohbuf_imp_attach arg = { .fd = self->fd };

	arg.reserved[0] = 1;
	ASSERT_EQ(EINVAL, attach_req(self->imp, &arg));
	arg.reserved[0] = 0;
	arg.reserved[1] = 1ULL << 63;
	ASSERT_EQ(EINVAL, attach_req(self->imp, &arg));
	assert_one_attachment(_metadata, self);
}

TEST_F(bad, attach_bad_fd)
{
	struct cohbuf_imp_attach arg = { .fd = -1 };
	int closed = dup(self->fd);

	ASSERT_EQ(EBADF, attach_req(self->imp, &arg));
	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));
	arg.fd = closed;
	ASSERT_EQ(EBADF, attach_req(self->imp, &arg));
	arg.fd = 1 << 30;
	ASSERT_EQ(EBADF, attach_req(self->imp, &arg));
	assert_one_attachment(_metadata, self);
}

/* dma_buf_get() refuses any file that is not a dma-buf. */
TEST_F(bad, attach_not_a_dmabuf)
{
	struct cohbuf_imp_attach arg = { 0 };
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	arg.fd = p[0];
	ASSERT_EQ(EINVAL, attach_req(self->imp, &arg));
	close(p[0]);
	close(p[1]);
	arg.fd = self->dev;
	ASSERT_EQ(EINVAL, attach_req(self->imp, &arg));
	arg.fd = self->imp;
	ASSERT_EQ(EINVAL, attach_req(self->imp, &arg));
	assert_one_attachment(_metadata, self);
}

TEST_F(bad, attach_efault)
{
	ASSERT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_ATTACH, NULL));
	ASSERT_EQ(EFAULT, errno);
	assert_one_attachment(_metadata, self);
}

/*
 * A valid request in read-only memory: the import succeeds and only the
 * copy-out fails. The attachment must be undone, not leaked.
 */
TEST_F(bad, attach_efault_on_copy_out_leaks_nothing)
{
	struct cohbuf_imp_attach *arg;

	arg = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, arg);
	arg->fd = self->fd;
	ASSERT_EQ(0, mprotect(arg, page_size(), PROT_READ));
	ASSERT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_ATTACH, arg));
	ASSERT_EQ(EFAULT, errno);
	assert_one_attachment(_metadata, self);
	/* and the handle it would have had was not left behind */
	ASSERT_EQ(-ENOENT, cohbuf_importer_detach(self->imp, self->handle + 1));
	munmap(arg, page_size());
}

TEST_F(bad, detach_pad_nonzero)
{
	struct cohbuf_imp_detach arg = { .handle = self->handle, .pad = 1 };

	ASSERT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_DETACH, &arg));
	ASSERT_EQ(EINVAL, errno);
	assert_one_attachment(_metadata, self);
}

TEST_F(bad, unknown_handles)
{
	uint32_t handles[] = { 0, self->handle + 1, 0x7fffffff, 0xffffffff };
	uint64_t addr;
	uint32_t crc;
	size_t i;

	for (i = 0; i < sizeof(handles) / sizeof(handles[0]); i++) {
		uint32_t h = handles[i];

		EXPECT_EQ(-ENOENT, cohbuf_importer_detach(self->imp, h)) TH_LOG("handle %u", h);
		EXPECT_EQ(-ENOENT, cohbuf_importer_fill(self->imp, h, 0, 4, 0)) TH_LOG("handle %u", h);
		EXPECT_EQ(-ENOENT, cohbuf_importer_crc32(self->imp, h, 0, 4, &crc)) TH_LOG("handle %u", h);
		EXPECT_EQ(-ENOENT, cohbuf_importer_dma_addr(self->imp, h, 0, &addr)) TH_LOG("handle %u", h);
	}
	assert_one_attachment(_metadata, self);
}

/* FILL and CRC32 both refuse the range [@off, @off + @len) with EINVAL. */
static void expect_range_einval(struct __test_metadata *_metadata,
				const FIXTURE_DATA(bad) *self,
				uint64_t off, uint64_t len)
{
	uint32_t crc;

	EXPECT_EQ(-EINVAL, cohbuf_importer_fill(self->imp, self->handle, off, len, 0))
		TH_LOG("FILL offset %#llx length %#llx", (unsigned long long)off,
		       (unsigned long long)len);
	EXPECT_EQ(-EINVAL, cohbuf_importer_crc32(self->imp, self->handle, off, len, &crc))
		TH_LOG("CRC32 offset %#llx length %#llx", (unsigned long long)off,
		       (unsigned long long)len);
}

TEST_F(bad, access_misaligned)
{
	int i;

	for (i = 1; i < 4; i++) {
		expect_range_einval(_metadata, self, i, 4);
		expect_range_einval(_metadata, self, 0, i);
		expect_range_einval(_metadata, self, 4 + i, 8 + i);
	}
}

TEST_F(bad, access_outside_buffer)
{
	uint64_t size = self->size;
	uint32_t crc;

	expect_range_einval(_metadata, self, size, 4);
	expect_range_einval(_metadata, self, 0, size + 4);
	expect_range_einval(_metadata, self, size - 4, 8);
	expect_range_einval(_metadata, self, size + 4, 0);
	expect_range_einval(_metadata, self, 1ULL << 62, 4);
	/* the edges themselves are inside */
	ASSERT_EQ(0, cohbuf_importer_crc32(self->imp, self->handle, size - 4, 4, &crc));
	ASSERT_EQ(0, cohbuf_importer_crc32(self->imp, self->handle, size, 0, &crc));
	ASSERT_EQ(0, crc);
}

/* offset + length wraps around to a small number that would be inside. */
TEST_F(bad, access_offset_plus_length_overflows)
{
	expect_range_einval(_metadata, self, ~3ULL, 8);
	expect_range_einval(_metadata, self, 4, ~3ULL);
	expect_range_einval(_metadata, self, ~3ULL, ~3ULL);
	expect_range_einval(_metadata, self, 1ULL << 63, 1ULL << 63);
}

TEST_F(bad, access_pad_nonzero)
{
	struct cohbuf_imp_access arg = {
		.handle = self->handle, .length = 4, .pad = 1,
	};

	ASSERT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_FILL, &arg));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_CRC32, &arg));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(bad, access_efault)
{
	struct cohbuf_imp_access *arg;

	ASSERT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_FILL, NULL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_CRC32, NULL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_DMA_ADDR, NULL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_DETACH, NULL));
	ASSERT_EQ(EFAULT, errno);

	/* a valid CRC32 request in read-only memory: the copy-out fails */
	arg = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, arg);
	arg->handle = self->handle;
	arg->length = 4;
	ASSERT_EQ(0, mprotect(arg, page_size(), PROT_READ));
	ASSERT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_CRC32, arg));
	ASSERT_EQ(EFAULT, errno);
	/* FILL only reads its argument: read-only memory is fine */
	ASSERT_EQ(0, ioctl(self->imp, COHBUF_IMP_IOCTL_FILL, arg));
	munmap(arg, page_size());
	assert_one_attachment(_metadata, self);
}

TEST_F(bad, dma_addr_outside_buffer)
{
	struct cohbuf_imp_dma_addr arg = { .handle = self->handle, .pad = 1 };
	uint64_t addr;

	ASSERT_EQ(-EINVAL, cohbuf_importer_dma_addr(self->imp, self->handle, self->size, &addr));
	ASSERT_EQ(-EINVAL, cohbuf_importer_dma_addr(self->imp, self->handle, ~0ULL, &addr));
	ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, self->handle, self->size - 1, &addr));
	ASSERT_EQ(-1, ioctl(self->imp, COHBUF_IMP_IOCTL_DMA_ADDR, &arg));
	ASSERT_EQ(EINVAL, errno);
}

/* Drops CAP_SYS_ADMIN from every set of the calling process: 0, or -errno. */
static int drop_cap_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	int i = CAP_TO_INDEX(CAP_SYS_ADMIN);
	uint32_t bit = CAP_TO_MASK(CAP_SYS_ADMIN);

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[i].effective &= ~bit;
	data[i].permitted &= ~bit;
	data[i].inheritable &= ~bit;
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* The child of dma_addr_needs_cap_sys_admin: 0, or the step that failed. */
static int no_cap_child(int imp, uint32_t handle)
{
	uint64_t addr;
	uint32_t crc;

	if (drop_cap_sys_admin())
		return 1;
	if (cohbuf_importer_dma_addr(imp, handle, 0, &addr) != -EPERM)
		return 2;
	/* checked before anything else, even the handle */
	if (cohbuf_importer_dma_addr(imp, 0, 0, &addr) != -EPERM)
		return 3;
	if (ioctl(imp, COHBUF_IMP_IOCTL_DMA_ADDR, NULL) != -1 || errno != EPERM)
		return 4;
	/* CPU access needs no capability */
	if (cohbuf_importer_crc32(imp, handle, 0, 4, &crc))
		return 5;
	return 0;
}

TEST_F(bad, dma_addr_needs_cap_sys_admin)
{
	uint64_t addr;
	int status;
	pid_t pid;

	ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, self->handle, 0, &addr));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(no_cap_child(self->imp, self->handle));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("child failed at step %d",
						 WEXITSTATUS(status));
}

/* Ioctl numbers that are not the importer's, each with a valid argument. */
static void expect_enotty(struct __test_metadata *_metadata,
			  const FIXTURE_DATA(bad) *self, unsigned long cmd)
{
	struct cohbuf_imp_attach arg[2] = { { .fd = self->fd } };

	ASSERT_EQ(-1, ioctl(self->imp, cmd, arg)) TH_LOG("ioctl %#lx", cmd);
	ASSERT_EQ(ENOTTY, errno) TH_LOG("ioctl %#lx", cmd);
	assert_one_attachment(_metadata, self);
}

TEST_F(bad, unknown_ioctl)
{
	expect_enotty(_metadata, self,
		      _IOWR(COHBUF_IMP_IOCTL_MAGIC, 0x45, struct cohbuf_imp_attach));
	expect_enotty(_metadata, self,
		      _IOWR(COHBUF_IMP_IOCTL_MAGIC, 0x00, struct cohbuf_imp_attach));
	expect_enotty(_metadata, self,
		      _IOWR(COHBUF_IOCTL_MAGIC, 0x40, struct cohbuf_imp_attach));
	expect_enotty(_metadata, self, COHBUF_IOCTL_ALLOC);
	/* the right number with the wrong size or direction */
	expect_enotty(_metadata, self,
		      _IOC(_IOC_READ | _IOC_WRITE, COHBUF_IMP_IOCTL_MAGIC, 0x40,
			   sizeof(struct cohbuf_imp_attach) + 8));
	expect_enotty(_metadata, self,
		      _IOW(COHBUF_IMP_IOCTL_MAGIC, 0x40, struct cohbuf_imp_attach));
	expect_enotty(_metadata, self, _IO(COHBUF_IMP_IOCTL_MAGIC, 0x41));
}

TEST_HARNESS_MAIN
