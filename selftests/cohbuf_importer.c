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

/* The importer's DMA address of byte @off of its buffer. */
static uint64_t test_dma_addr(struct __test_metadata *_metadata, int imp,
			      uint32_t handle, uint64_t off)
{
	uint64_t addr = 0;
	int ret = cohbuf_importer_dma_addr(imp, handle, off, &addr);

	ASSERT_EQ(0, ret) TH_LOG("DMA_ADDR %llu: %s", (unsigned long long)off,
				 strerror(-ret));
	return addr;
}

/*
 * Every page of the @size bytes mapped at @map: the importer's DMA address
 * of a byte in it is that page's frame (as pagemap reports it) plus the
 * byte's offset in the page. Returns 1 if pagemap hides frames (not root).
 * For buffers a process maps with normal pages (udmabuf's memfd): pagemap
 * skips VM_PFNMAP mappings such as cohbuf's.
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
		uint64_t off = i * ps + (i * 8) % ps,
			 addr = test_dma_addr(_metadata, imp, handle, off);

		ASSERT_EQ(pfns[i] * ps + off % ps, addr)
			TH_LOG("page %zu: pfn %#llx, DMA address %#llx", i,
			       (unsigned long long)pfns[i], (unsigned long long)addr);
	}
	free(pfns);
	return 0;
}

/*
 * Every page of cohbuf buffer @fd: the importer's DMA address of a byte in
 * it is what COHBUF_IOCTL_INFO gives for that byte on cohbuf's device.
 * Neither device is behind an IOMMU, so both are the physical address: the
 * importer reaches the frames cohbuf maps to processes, no bounce between.
 */
static void check_dma_addrs_info(struct __test_metadata *_metadata, int dev,
				 int fd, int imp, uint32_t handle, size_t size)
{
	size_t ps = page_size(), i;
	struct cohbuf_info info;
	struct cohbuf_range *r;
	uint32_t n = 0;
	int ret;

	ret = cohbuf_info_ranges(dev, fd, &info, &r);
	ASSERT_LT(0, ret) TH_LOG("INFO: %s", strerror(-ret));
	ASSERT_TRUE(info.info_flags & COHBUF_INFO_DMA_ADDR)
		TH_LOG("INFO gives DMA addresses to CAP_SYS_RAWIO only");
	for (i = 0; i < size / ps; i++) {
		uint64_t off = i * ps + (i * 8) % ps, addr;

		while (off >= r[n].offset + r[n].size)
			n++;
		addr = test_dma_addr(_metadata, imp, handle, off);
		ASSERT_EQ(r[n].dma_addr + off - r[n].offset, addr)
			TH_LOG("byte %#llx: INFO %#llx, importer %#llx",
			       (unsigned long long)off,
			       (unsigned long long)(r[n].dma_addr + off - r[n].offset),
			       (unsigned long long)addr);
	}
	free(r);
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
	handle = test_attach(imp, fd, &arg);
	ASSERT_EQ(size, arg.size);
	ASSERT_LE(1, arg.nents);
	ASSERT_EQ(cohbuf_crc32(0, map, size), test_crc32(imp, handle, 0, size));

	ASSERT_EQ(0, cohbuf_importer_fill(imp, handle, q, 2 * q, fill));
	ASSERT_EQ(-1, pattern_check(map, q, 0, 21));
	ASSERT_EQ(-1, words_check((char *)map + q, 2 * q, fill));
	ASSERT_EQ(-1, pattern_check((char *)map + 3 * q, q, 3 * q, 21));
	ASSERT_EQ(cohbuf_crc32(0, map, size), test_crc32(imp, handle, 0, size));
	ASSERT_EQ(0, cohbuf_importer_detach(imp, handle));
}


/* cohbuf buffers */
IMP_FIXTURE(imp)

static uint32_t _test_filled_attached(struct __test_metadata *_metadata, int dev,
				      int imp, struct test_buf *b, uint64_t size,
				      uint32_t seed, struct cohbuf_imp_attach *arg)
{
	test_buf_alloc(b, dev, size, O_RDWR | O_CLOEXEC, PROT_READ | PROT_WRITE);
	pattern_fill(b->map, size, 0, seed);
	return test_attach(imp, b->fd, arg);
}
/*
 * A buffer of @size bytes in @b, mapped, filled with pattern @seed and
 * attached to the importer: the handle, with @arg (if any) filled.
 */
#define test_filled_attached(b, size, seed, arg) \
	_test_filled_attached(_metadata, self->dev, self->imp, b, size, seed, arg)

/* The importer's CRC is zlib's: check it on a known vector. */
TEST_F(imp, crc32_is_zlib)
{
	size_t ps = page_size();
	struct test_buf b;
	uint32_t handle;

	ASSERT_EQ(0xcbf43926, cohbuf_crc32(0, "123456789", 9));
	test_buf_alloc(&b, self->dev, ps, O_RDWR | O_CLOEXEC, PROT_READ | PROT_WRITE);
	memcpy(b.map, "12345678", 8);
	handle = test_attach(self->imp, b.fd, NULL);

	ASSERT_EQ(0x9ae0daaf, test_crc32(self->imp, handle, 0, 8));
	ASSERT_EQ(0, test_crc32(self->imp, handle, 0, 0));
	ASSERT_EQ(0, test_crc32(self->imp, handle, ps, 0));
	ASSERT_EQ(cohbuf_crc32(0, b.map, ps), test_crc32(self->imp, handle, 0, ps));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
}

/* Several chunks; sub-ranges at the edges and across a chunk boundary. */
TEST_F(imp, crc32_matches_process)
{
	size_t size = 6 * SZ_1M + page_size();
	struct cohbuf_imp_attach arg;
	struct test_buf b;
	uint32_t handle;
	char *map;

	handle = test_filled_attached(&b, size, 11, &arg);
	map = b.map;
	ASSERT_EQ(size, arg.size);
	/* at least one segment per 4 MiB chunk (max_seg_size is 4 MiB) */
	ASSERT_LE(2, arg.nents);

	ASSERT_EQ(cohbuf_crc32(0, map, size), test_crc32(self->imp, handle, 0, size));
	ASSERT_EQ(cohbuf_crc32(0, map + 4, size - 8),
		  test_crc32(self->imp, handle, 4, size - 8));
	ASSERT_EQ(cohbuf_crc32(0, map + size - 4, 4),
		  test_crc32(self->imp, handle, size - 4, 4));
	ASSERT_EQ(cohbuf_crc32(0, map + SZ_4M - 12, 24),
		  test_crc32(self->imp, handle, SZ_4M - 12, 24));

	/* a write by the process after the attach is seen too */
	pattern_fill(map, size, 0, 12);
	ASSERT_EQ(cohbuf_crc32(0, map, size), test_crc32(self->imp, handle, 0, size));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
}

TEST_F(imp, fill_seen_by_process)
{
	size_t size = 2 * SZ_1M, off = page_size() + 4, len = 64 * 1024;
	struct test_buf b;
	uint32_t handle;
	char *map;

	handle = test_filled_attached(&b, size, 13, NULL);
	map = b.map;

	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, handle, off, len, 0xdeadbeef));
	ASSERT_EQ(-1, words_check(map + off, len, 0xdeadbeef));
	/* the words around the range are untouched */
	ASSERT_EQ(-1, pattern_check(map, off - 4, 0, 13));
	ASSERT_EQ(0xdeadbeef, *(uint32_t *)(map + off));
	ASSERT_NE(0xdeadbeef, *(uint32_t *)(map + off + len));
	ASSERT_EQ(-1, pattern_check(map + off + len + 4, size - off - len - 4,
				    off + len + 4, 13));
	ASSERT_EQ(cohbuf_crc32(0, map, size), test_crc32(self->imp, handle, 0, size));

	/* the whole buffer, and an empty range changes nothing */
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, handle, 0, size, 0x01020304));
	ASSERT_EQ(-1, words_check(map, size, 0x01020304));
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, handle, size, 0, 0));
	ASSERT_EQ(-1, words_check(map, size, 0x01020304));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
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
	int go[2], done[2];
	struct test_buf b;
	uint32_t handle;
	char c;
	pid_t pid;

	test_buf_alloc(&b, self->dev, size, O_RDWR | O_CLOEXEC, PROT_READ | PROT_WRITE);
	handle = test_attach(self->imp, b.fd, NULL);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(done, O_CLOEXEC));

	pid = test_fork();
	if (pid == 0) {
		close(go[1]);
		close(done[0]);
		_exit(two_proc_child(b.fd, size, go[0], done[1]));
	}
	close(go[0]);
	close(done[1]);

	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, handle, 0, size / 2, 0xc0ffee00));
	ASSERT_EQ(-1, words_check(b.map, size / 2, 0xc0ffee00));
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(1, read(done[0], &c, 1));

	ASSERT_EQ(-1, pattern_check(b.map + size / 2, size / 2, size / 2, 14));
	ASSERT_EQ(cohbuf_crc32(0, b.map, size), test_crc32(self->imp, handle, 0, size));
	close(go[1]);
	assert_child_ok(pid);
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
}

/*
 * Physical identity: the importer runs with a 64-bit mask and no IOMMU,
 * so its DMA address of every page of a 48 MiB buffer (12 chunks or more)
 * is the one INFO gives for it, and the bytes the process wrote through
 * its mapping are the bytes the importer reads there. Any difference would
 * be a bounce copy.
 */
TEST_F_TIMEOUT(imp, dma_addr_is_info_dma_addr_48mib, 180)
{
	size_t size = 48 * SZ_1M;
	struct cohbuf_imp_attach arg;
	struct cohbuf_entry row;
	struct test_buf b;

	test_filled_attached(&b, size, 15, &arg);
	test_row(b.ino, &row);
	ASSERT_LE(size / SZ_4M, row.chunks);
	ASSERT_LE(row.chunks, arg.nents);

	check_dma_addrs_info(_metadata, self->dev, b.fd, self->imp, arg.handle, size);
	ASSERT_EQ(cohbuf_crc32(0, b.map, size), test_crc32(self->imp, arg.handle, 0, size));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, arg.handle));
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
	fd = test_alloc(self->dev, size, O_RDONLY | O_CLOEXEC);
	handle = test_attach(self->imp, fd, NULL);
	ASSERT_EQ(-EACCES, cohbuf_importer_fill(self->imp, handle, 0, size, 0xffffffff));
	ASSERT_EQ(cohbuf_crc32(0, zeros, size), test_crc32(self->imp, handle, 0, size));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
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
	ASSERT_EQ(base + n, test_imp_attachments());
	count = bufinfo_attachments(ino, IMP_DEVICE_NAME, &named);
	ASSERT_EQ(n, count);
	ASSERT_EQ(n, named);
}

TEST_F(imp, attach_detach_counts)
{
	struct test_buf b;
	uint32_t h1, h2;

	test_buf_alloc(&b, self->dev, SZ_1M, O_RDWR | O_CLOEXEC, PROT_NONE);
	assert_attachments(_metadata, b.ino, self->base.attachments, 0);
	h1 = test_attach(self->imp, b.fd, NULL);
	assert_attachments(_metadata, b.ino, self->base.attachments, 1);

	/* the same buffer again: a second, independent attachment */
	h2 = test_attach(self->imp, b.fd, NULL);
	ASSERT_NE(h1, h2);
	assert_attachments(_metadata, b.ino, self->base.attachments, 2);
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, h1));
	assert_attachments(_metadata, b.ino, self->base.attachments, 1);
	ASSERT_EQ(-ENOENT, cohbuf_importer_detach(self->imp, h1));
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, h2, 0, 4, 1));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, h2));
	assert_attachments(_metadata, b.ino, self->base.attachments, 0);
	buf_free(&b);
	assert_live(&self->base, 0, 0);
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
	struct test_buf b;
	uint32_t handle, crc;
	int ret;

	handle = test_filled_attached(&b, size, 16, NULL);
	crc = cohbuf_crc32(0, b.map, size);
	ASSERT_EQ(0, close(b.fd));
	ASSERT_EQ(0, munmap(b.map, size));
	ASSERT_EQ(0, close(self->dev));
	self->dev = -1;

	assert_live(&self->base, 1, size);
	test_row(b.ino, &row);
	ASSERT_EQ(0, row.mappings);
	ASSERT_EQ(1, row.attachments);
	ASSERT_EQ(crc, test_crc32(self->imp, handle, 0, size));
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, handle, 0, size, 7));

	ret = module_unload("cohbuf");
	ASSERT_TRUE(ret == -EBUSY || ret == -EAGAIN)
		TH_LOG("rmmod cohbuf with an attachment: %s", strerror(-ret));
	ASSERT_TRUE(module_loaded("cohbuf"));

	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
	assert_no_row(b.ino);
	assert_live(&self->base, 0, 0);
	ASSERT_EQ(self->base.attachments, test_imp_attachments());
}

/* Closing an importer file detaches everything it attached, and only that. */
TEST_F(imp, close_detaches_all)
{
	struct test_buf b[2];
	uint32_t kept;
	int imp2, i;

	for (i = 0; i < 2; i++)
		test_buf_alloc(&b[i], self->dev, SZ_1M, O_RDWR | O_CLOEXEC, PROT_NONE);
	kept = test_attach(self->imp, b[1].fd, NULL);
	imp2 = test_open_importer();
	test_attach(imp2, b[0].fd, NULL);
	test_attach(imp2, b[0].fd, NULL);
	test_attach(imp2, b[1].fd, NULL);
	ASSERT_EQ(self->base.attachments + 4, test_imp_attachments());

	ASSERT_EQ(0, close(imp2));
	assert_attachments(_metadata, b[0].ino, self->base.attachments + 1, 0);
	ASSERT_EQ(0, test_crc32(self->imp, kept, 0, 0));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, kept));
	assert_attachments(_metadata, b[1].ino, self->base.attachments, 0);
	buf_free(&b[0]);
	buf_free(&b[1]);
	assert_live(&self->base, 0, 0);
}

TEST_F(imp, handles_belong_to_their_file)
{
	uint32_t handle, crc;
	int imp2, fd;

	fd = test_alloc(self->dev, SZ_1M, O_RDWR | O_CLOEXEC);
	handle = test_attach(self->imp, fd, NULL);
	imp2 = test_open_importer();
	ASSERT_EQ(-ENOENT, cohbuf_importer_crc32(imp2, handle, 0, 4, &crc));
	ASSERT_EQ(-ENOENT, cohbuf_importer_detach(imp2, handle));
	ASSERT_EQ(0, close(imp2));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
}

/* max_seg_size=65536: the exporter splits the buffer for the importer. */
TEST_F_TIMEOUT(imp, nents_and_data_64k, 120)
{
	size_t size = 8 * SZ_1M, off = 64 * 1024 - 8, len = 3 * 64 * 1024;
	struct cohbuf_imp_attach arg;
	struct test_buf b;
	char *map;

	test_param_set(&self->params, IMP_MODULE, "max_seg_size", 65536);
	test_filled_attached(&b, size, 17, &arg);
	map = b.map;
	ASSERT_LE(size / 65536, arg.nents);

	ASSERT_EQ(cohbuf_crc32(0, map, size), test_crc32(self->imp, arg.handle, 0, size));
	/* a fill across segment boundaries */
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, arg.handle, off, len, 0x64646464));
	ASSERT_EQ(-1, pattern_check(map, off, 0, 17));
	ASSERT_EQ(-1, words_check(map + off, len, 0x64646464));
	ASSERT_EQ(-1, pattern_check(map + off + len + 8, size - off - len - 8,
				    off + len + 8, 17));
	ASSERT_EQ(cohbuf_crc32(0, map, size), test_crc32(self->imp, arg.handle, 0, size));
	check_dma_addrs_info(_metadata, self->dev, b.fd, self->imp, arg.handle, size);
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, arg.handle));
}

TEST_F(imp, max_seg_size_rejects_below_a_page)
{
	uint64_t val;

	test_param_set(&self->params, IMP_MODULE, "max_seg_size", 65536);
	ASSERT_EQ(-EINVAL, module_param_set(IMP_MODULE, "max_seg_size", page_size() - 1));
	ASSERT_EQ(-EINVAL, module_param_set(IMP_MODULE, "max_seg_size", 0));
	ASSERT_EQ(-EINVAL, module_param_set(IMP_MODULE, "max_seg_size", 1ULL << 32));
	ASSERT_EQ(0, module_param_get(IMP_MODULE, "max_seg_size", &val));
	ASSERT_EQ(65536, val);
}

/* A boundary is a mask of low bits covering at least a page. */
TEST_F(imp, seg_boundary_rejects_non_masks)
{
	uint64_t val;

	test_param_set(&self->params, IMP_MODULE, "seg_boundary", SZ_1M - 1);
	ASSERT_EQ(-EINVAL, module_param_set(IMP_MODULE, "seg_boundary", SZ_1M));
	ASSERT_EQ(-EINVAL, module_param_set(IMP_MODULE, "seg_boundary", SZ_1M - 2));
	ASSERT_EQ(-EINVAL, module_param_set(IMP_MODULE, "seg_boundary", page_size() / 2 - 1));
	ASSERT_EQ(0, module_param_get(IMP_MODULE, "seg_boundary", &val));
	ASSERT_EQ(SZ_1M - 1, val);
}

/*
 * seg_boundary=1 MiB - 1: no DMA segment of a fresh 8 MiB buffer may cross
 * a 1 MiB boundary. The segments a correct exporter must make at least are
 * counted from the DMA addresses, one more at each gap and at each
 * boundary; 4 MiB segments (max_seg_size) would give only 2.
 */
TEST_F_TIMEOUT(imp, seg_boundary, 120)
{
	uint64_t size = 8 * SZ_1M, off, addr = 0, prev = 0;
	struct cohbuf_imp_attach arg;
	size_t ps = page_size();
	unsigned int need = 0;
	int fd;

	test_param_set(&self->params, IMP_MODULE, "seg_boundary", SZ_1M - 1);
	fd = test_alloc(self->dev, size, O_RDWR | O_CLOEXEC);
	test_attach(self->imp, fd, &arg);
	for (off = 0; off < size; off += ps) {
		ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, arg.handle, off, &addr));
		if (!off || addr != prev + ps || !(addr & (SZ_1M - 1)))
			need++;
		prev = addr;
	}
	ASSERT_LE(size / SZ_1M, need);
	ASSERT_EQ(need, arg.nents);
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, arg.handle));
	close(fd);
	assert_baseline(&self->base, "at the end");
}

/* Whether the importer sees the @size bytes of @handle as one DMA range. */
static bool dma_contiguous(struct __test_metadata *_metadata, int imp,
			   uint32_t handle, uint64_t size)
{
	uint64_t off, first = 0, addr = 0;
	size_t ps = page_size();

	for (off = 0; off < size; off += ps) {
		int ret = cohbuf_importer_dma_addr(imp, handle, off, &addr);

		EXPECT_EQ(0, ret) TH_LOG("DMA_ADDR %llu: %s",
					 (unsigned long long)off, strerror(-ret));
		if (!off)
			first = addr;
		else if (addr != first + off)
			return false;
	}
	return true;
}

/*
 * contiguous=1 emulates a device that cannot scatter-gather: ATTACH maps
 * and then refuses, with videobuf2-dma-contig's EFAULT, a buffer that is
 * not one DMA range. A buffer of one chunk (4 MiB and below, power of two)
 * is one; whether one of several chunks is, the DMA addresses of an
 * ordinary attachment tell.
 */
TEST_F_TIMEOUT(imp, contiguous_mode, 120)
{
	const uint64_t sizes[] = { SZ_4M, SZ_4M + 16 * page_size(), 3 * SZ_1M };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t size = sizes[i];
		struct cohbuf_imp_attach arg = { 0 };
		uint32_t handle;
		bool one_range;
		int fd, ret;

		fd = test_alloc(self->dev, size, O_RDWR | O_CLOEXEC);
		handle = test_attach(self->imp, fd, NULL);
		one_range = dma_contiguous(_metadata, self->imp, handle, size);
		ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
		if (size == SZ_4M)
			ASSERT_TRUE(one_range);

		test_param_set(&self->params, IMP_MODULE, "contiguous", 1);
		ret = cohbuf_importer_attach(self->imp, fd, &arg);
		ASSERT_EQ(one_range ? 0 : -EFAULT, ret)
			TH_LOG("%llu bytes, %s", (unsigned long long)size,
			       one_range ? "one DMA range" : "several");
		if (!ret)
			ASSERT_EQ(0, cohbuf_importer_detach(self->imp, arg.handle));
		ASSERT_EQ(0, module_param_set(IMP_MODULE, "contiguous", 0));
		close(fd);
	}
	assert_baseline(&self->base, "at the end");
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
	self->imp = test_open_importer();
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
	self->map = test_map(self->fd, self->size, PROT_READ | PROT_WRITE, 0);
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
	self->map = test_map(self->owner, self->size, PROT_READ | PROT_WRITE, 0);
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
	test_attach(self->imp, self->fd, &arg);
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
	self->map = test_map(self->fd, self->size, PROT_READ | PROT_WRITE, 0);
	round_trip(_metadata, self->imp, self->fd, self->map, self->size);
}

/*
 * Bad input: one errno per test, and nothing attached or leaked after it.
 * Each fixture of bad input, declared with ATTACHED_FIXTURE() and each
 * with its own variant table, starts from a 1 MiB buffer attached once
 * (self->buf, self->handle) and the importer's attachment count before
 * that (self->base).
 */
#define BAD_SIZE	SZ_1M

#define ATTACHED_FIXTURE(name)						\
	FIXTURE(name) {							\
		int dev;						\
		int imp;						\
		struct test_buf buf;					\
		uint32_t handle;					\
		uint64_t base;						\
	};								\
	FIXTURE_SETUP(name)						\
	{								\
		self->dev = test_open();				\
		self->imp = test_open_importer();			\
		self->base = test_imp_attachments();			\
		test_buf_alloc(&self->buf, self->dev, BAD_SIZE,		\
			       O_RDWR | O_CLOEXEC, PROT_NONE);		\
		self->handle = test_attach(self->imp, self->buf.fd, NULL); \
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		close(self->imp);					\
		buf_free(&self->buf);					\
		close(self->dev);					\
	}

static void _assert_one_attachment(struct __test_metadata *_metadata,
				   uint64_t base, uint64_t ino)
{
	struct cohbuf_entry row;

	ASSERT_EQ(base + 1, test_imp_attachments());
	test_row(ino, &row);
	ASSERT_EQ(1, row.attachments);
}
/* Only the fixture's attachment exists. */
#define assert_one_attachment() _assert_one_attachment(_metadata, self->base, self->buf.ino)

ATTACHED_FIXTURE(bad)

TEST_F(bad, attach_flags_each_unknown_bit)
{
	struct cohbuf_imp_attach arg = { .fd = self->buf.fd };
	int bit;

	for (bit = 0; bit < 32; bit++) {
		arg.flags = 1U << bit;
		if (arg.flags & COHBUF_IMP_ATTACH_VALID_FLAGS)
			continue;
		EXPECT_EQ(EINVAL, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_ATTACH, &arg))
			TH_LOG("flags bit %d", bit);
	}
	assert_one_attachment();
}

TEST_F(bad, attach_efault)
{
	ASSERT_EQ(EFAULT, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_ATTACH, NULL));
	assert_one_attachment();
}

/*
 * A valid request in read-only memory: the import succeeds and only the
 * copy-out fails. The attachment must be undone, not leaked.
 */
TEST_F(bad, attach_efault_on_copy_out_leaks_nothing)
{
	struct cohbuf_imp_attach arg = { .fd = self->buf.fd };

	ASSERT_EQ(EFAULT, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_ATTACH,
				      test_readonly_arg(&arg)));
	assert_one_attachment();
	/* and the handle it would have had was not left behind */
	ASSERT_EQ(-ENOENT, cohbuf_importer_detach(self->imp, self->handle + 1));
}

TEST_F(bad, detach_pad_nonzero)
{
	struct cohbuf_imp_detach arg = { .handle = self->handle, .pad = 1 };

	ASSERT_EQ(EINVAL, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_DETACH, &arg));
	assert_one_attachment();
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
	assert_one_attachment();
}

/* The ranges that touch the buffer's edges are inside it (bad_range: outside). */
TEST_F(bad, access_at_the_edges)
{
	uint32_t crc;

	ASSERT_EQ(0, cohbuf_importer_crc32(self->imp, self->handle, BAD_SIZE - 4, 4, &crc));
	ASSERT_EQ(0, cohbuf_importer_crc32(self->imp, self->handle, BAD_SIZE, 0, &crc));
	ASSERT_EQ(0, crc);
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, self->handle, BAD_SIZE - 4, 4, 0));
	assert_one_attachment();
}

TEST_F(bad, access_unknown_flags)
{
	struct cohbuf_imp_access arg = {
		.handle = self->handle, .length = 4,
		.flags = ~COHBUF_IMP_ACCESS_VALID_FLAGS,
	};

	ASSERT_EQ(EINVAL, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_FILL, &arg));
	ASSERT_EQ(EINVAL, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_CRC32, &arg));
	assert_one_attachment();
}

TEST_F(bad, access_efault)
{
	struct cohbuf_imp_access crc = { .handle = self->handle, .length = 4 };
	void *arg;

	ASSERT_EQ(EFAULT, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_FILL, NULL));
	ASSERT_EQ(EFAULT, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_CRC32, NULL));
	ASSERT_EQ(EFAULT, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_DMA_ADDR, NULL));
	ASSERT_EQ(EFAULT, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_DETACH, NULL));

	/* a valid CRC32 request in read-only memory: the copy-out fails */
	arg = test_readonly_arg(&crc);
	ASSERT_EQ(EFAULT, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_CRC32, arg));
	/* FILL only reads its argument: read-only memory is fine */
	ASSERT_EQ(0, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_FILL, arg));
	assert_one_attachment();
}

TEST_F(bad, dma_addr_outside_buffer)
{
	struct cohbuf_imp_dma_addr arg = { .handle = self->handle, .pad = 1 };
	uint64_t addr;

	ASSERT_EQ(-EINVAL, cohbuf_importer_dma_addr(self->imp, self->handle, BAD_SIZE, &addr));
	ASSERT_EQ(-EINVAL, cohbuf_importer_dma_addr(self->imp, self->handle, ~0ULL, &addr));
	ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, self->handle, BAD_SIZE - 1, &addr));
	ASSERT_EQ(EINVAL, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_DMA_ADDR, &arg));
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
	if (ioctl_errno(imp, COHBUF_IMP_IOCTL_DMA_ADDR, NULL) != EPERM)
		return 4;
	/* CPU access needs no capability */
	if (cohbuf_importer_crc32(imp, handle, 0, 4, &crc))
		return 5;
	return 0;
}

TEST_F(bad, dma_addr_needs_cap_sys_admin)
{
	uint64_t addr;
	pid_t pid;

	ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, self->handle, 0, &addr));
	pid = test_fork();
	if (pid == 0)
		_exit(no_cap_child(self->imp, self->handle));
	assert_child_ok(pid);
}

/* What the fd of a refused attach is. */
enum attach_fd {
	FD_BUFFER,		/* the fixture's buffer */
	FD_MINUS_ONE,
	FD_CLOSED,		/* just closed */
	FD_BEYOND_TABLE,	/* 2^30 */
	FD_PIPE,
	FD_COHBUF,		/* /dev/cohbuf */
	FD_IMPORTER,		/* /dev/cohbuf_importer */
};

/* ATTACH with a bad fd or nonzero reserved words. */
ATTACHED_FIXTURE(bad_attach)

FIXTURE_VARIANT(bad_attach) {
	enum attach_fd fd;
	uint64_t reserved[2];
	int err;
};

FIXTURE_VARIANT_ADD(bad_attach, reserved0_nonzero) { .reserved = { 1 }, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad_attach, reserved1_nonzero) {
	.reserved = { 0, 1ULL << 63 }, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(bad_attach, fd_minus_one) { .fd = FD_MINUS_ONE, .err = EBADF };
FIXTURE_VARIANT_ADD(bad_attach, fd_closed) { .fd = FD_CLOSED, .err = EBADF };
FIXTURE_VARIANT_ADD(bad_attach, fd_beyond_table) { .fd = FD_BEYOND_TABLE, .err = EBADF };
/* dma_buf_get() refuses any file that is not a dma-buf. */
FIXTURE_VARIANT_ADD(bad_attach, fd_pipe) { .fd = FD_PIPE, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad_attach, fd_cohbuf_device) { .fd = FD_COHBUF, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad_attach, fd_importer_device) { .fd = FD_IMPORTER, .err = EINVAL };

static int _attach_fd(struct __test_metadata *_metadata, enum attach_fd which,
		      int dev, int imp, int buf)
{
	int fd, p[2];

	switch (which) {
	case FD_MINUS_ONE:
		return -1;
	case FD_CLOSED:
		fd = dup(buf);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, close(fd));
		return fd;
	case FD_BEYOND_TABLE:
		return 1 << 30;
	case FD_PIPE:
		ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
		return p[0];
	case FD_COHBUF:
		return dev;
	case FD_IMPORTER:
		return imp;
	default:
		return buf;
	}
}
/* The fd number @which names, in the fixture of a refused attach. */
#define attach_fd(which) _attach_fd(_metadata, which, self->dev, self->imp, self->buf.fd)

TEST_F(bad_attach, refused)
{
	struct cohbuf_imp_attach arg = {
		.fd = attach_fd(variant->fd),
		.reserved = { variant->reserved[0], variant->reserved[1] },
	};

	ASSERT_EQ(variant->err, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_ATTACH, &arg))
		TH_LOG("fd %d", arg.fd);
	assert_one_attachment();
}

/*
 * FILL and CRC32 refuse a range [offset, offset + length) of the 1 MiB
 * buffer that is misaligned, reaches outside it, or wraps around past 2^64
 * to a small end that would be inside.
 */
ATTACHED_FIXTURE(bad_range)

FIXTURE_VARIANT(bad_range) {
	uint64_t offset;
	uint64_t length;
};

FIXTURE_VARIANT_ADD(bad_range, offset_1) { .offset = 1, .length = 4 };
FIXTURE_VARIANT_ADD(bad_range, offset_2) { .offset = 2, .length = 4 };
FIXTURE_VARIANT_ADD(bad_range, offset_3) { .offset = 3, .length = 4 };
FIXTURE_VARIANT_ADD(bad_range, length_1) { .length = 1 };
FIXTURE_VARIANT_ADD(bad_range, length_2) { .length = 2 };
FIXTURE_VARIANT_ADD(bad_range, length_3) { .length = 3 };
FIXTURE_VARIANT_ADD(bad_range, both_5_9) { .offset = 5, .length = 9 };
FIXTURE_VARIANT_ADD(bad_range, both_6_10) { .offset = 6, .length = 10 };
FIXTURE_VARIANT_ADD(bad_range, both_7_11) { .offset = 7, .length = 11 };

FIXTURE_VARIANT_ADD(bad_range, at_end) { .offset = BAD_SIZE, .length = 4 };
FIXTURE_VARIANT_ADD(bad_range, longer_than_buffer) { .length = BAD_SIZE + 4 };
FIXTURE_VARIANT_ADD(bad_range, straddling_end) { .offset = BAD_SIZE - 4, .length = 8 };
FIXTURE_VARIANT_ADD(bad_range, empty_past_end) { .offset = BAD_SIZE + 4 };
FIXTURE_VARIANT_ADD(bad_range, huge_offset) { .offset = 1ULL << 62, .length = 4 };

FIXTURE_VARIANT_ADD(bad_range, wraps_offset) { .offset = ~3ULL, .length = 8 };
FIXTURE_VARIANT_ADD(bad_range, wraps_length) { .offset = 4, .length = ~3ULL };
FIXTURE_VARIANT_ADD(bad_range, wraps_both) { .offset = ~3ULL, .length = ~3ULL };
FIXTURE_VARIANT_ADD(bad_range, wraps_to_zero) { .offset = 1ULL << 63, .length = 1ULL << 63 };

TEST_F(bad_range, einval)
{
	uint64_t off = variant->offset, len = variant->length;
	uint32_t crc;

	EXPECT_EQ(-EINVAL, cohbuf_importer_fill(self->imp, self->handle, off, len, 0));
	EXPECT_EQ(-EINVAL, cohbuf_importer_crc32(self->imp, self->handle, off, len, &crc));
	assert_one_attachment();
}

/*
 * Ioctl numbers that are not the importer's, each with a valid argument:
 * next to ATTACH, and others of the importer and of cohbuf.
 */
ATTACHED_FIXTURE(bad_ioctl)
NEAR_IOCTL_VARIANTS(bad_ioctl, COHBUF_IMP_IOCTL_MAGIC, 0x40, struct cohbuf_imp_attach);

FIXTURE_VARIANT_ADD(bad_ioctl, unused_nr) {
	.cmd = _IOWR(COHBUF_IMP_IOCTL_MAGIC, 0x45, struct cohbuf_imp_attach),
};
FIXTURE_VARIANT_ADD(bad_ioctl, nr_zero) {
	.cmd = _IOWR(COHBUF_IMP_IOCTL_MAGIC, 0x00, struct cohbuf_imp_attach),
};
FIXTURE_VARIANT_ADD(bad_ioctl, cohbuf_magic) {
	.cmd = _IOWR(COHBUF_IOCTL_MAGIC, 0x40, struct cohbuf_imp_attach),
};
FIXTURE_VARIANT_ADD(bad_ioctl, cohbuf_alloc) { .cmd = COHBUF_IOCTL_ALLOC };
FIXTURE_VARIANT_ADD(bad_ioctl, detach_without_argument) {
	.cmd = _IO(COHBUF_IMP_IOCTL_MAGIC, 0x41),
};

TEST_F(bad_ioctl, enotty)
{
	struct cohbuf_imp_attach arg[2] = { { .fd = self->buf.fd } };

	ASSERT_EQ(ENOTTY, ioctl_errno(self->imp, variant->cmd, arg))
		TH_LOG("ioctl %#lx", variant->cmd);
	assert_one_attachment();
}

TEST_HARNESS_MAIN
