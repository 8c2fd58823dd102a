// SPDX-License-Identifier: GPL-2.0
/*
 * COHBUF_ALLOC_CONTIGUOUS, COHBUF_ALLOC_DMA32 and COHBUF_IOCTL_INFO: each
 * buffer is what its flags promise, as INFO, the mapping and the test
 * importer's DMA addresses all see it.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include <xf86drm.h>

#include "cohbuf_harness.h"
#include "cohbuf_vgem.h"

#define SZ_4G		(4096 * SZ_1M)
#define MAX_RANGES	256

/* A buffer with @flags: the fd, or -errno. */
static int alloc_flags(int dev, uint64_t size, uint32_t flags)
{
	return cohbuf_alloc_flags(dev, size, NULL, O_RDWR | O_CLOEXEC, flags);
}

/* A buffer's INFO and its ranges. */
struct info {
	struct cohbuf_info arg;
	struct cohbuf_range ranges[MAX_RANGES];
};

/* COHBUF_IOCTL_INFO on @fd with room for @cap ranges: 0, or errno. */
static int info_errno(int dev, int fd, struct info *in, uint32_t cap)
{
	memset(in, 0, sizeof(*in));
	in->arg.fd = fd;
	in->arg.ranges_cap = cap;
	in->arg.ranges = (uintptr_t)in->ranges;
	return ioctl_errno(dev, COHBUF_IOCTL_INFO, &in->arg);
}

static void _test_info(struct __test_metadata *_metadata, int dev, int fd,
		       struct info *in)
{
	ASSERT_EQ(0, info_errno(dev, fd, in, MAX_RANGES));
	ASSERT_GE(MAX_RANGES, in->arg.nr_ranges);
}
/* INFO on @fd, which must work and fit MAX_RANGES ranges. */
#define test_info(dev, fd, in) _test_info(_metadata, dev, fd, in)

/* The ranges tile the buffer in order, each a whole number of pages. */
static void _assert_ranges_tile(struct __test_metadata *_metadata,
				const struct info *in)
{
	uint64_t off = 0;
	uint32_t i;

	for (i = 0; i < in->arg.nr_ranges; i++) {
		EXPECT_EQ(off, in->ranges[i].offset);
		EXPECT_EQ(0, in->ranges[i].size % page_size());
		off += in->ranges[i].size;
	}
	ASSERT_EQ(in->arg.size, off);
}
#define assert_ranges_tile(in) _assert_ranges_tile(_metadata, in)

/* ---- contiguous buffers, at the sizes of real frames ---- */

FIXTURE(contig) {
	int dev;
	int imp;
	struct counters base;
	int fd;
	uint64_t size;
};

FIXTURE_VARIANT(contig) {
	uint64_t size;
	uint32_t flags;
};

/* YUYV frames: 640x480, 1920x1080 (not a power of two), 3840x2160. */
FIXTURE_VARIANT_ADD(contig, vga) {
	.size = 640 * 480 * 2, .flags = COHBUF_ALLOC_CONTIGUOUS
};
FIXTURE_VARIANT_ADD(contig, full_hd) {
	.size = 1920 * 1080 * 2, .flags = COHBUF_ALLOC_CONTIGUOUS
};
FIXTURE_VARIANT_ADD(contig, buddy_max) {
	.size = SZ_4M, .flags = COHBUF_ALLOC_CONTIGUOUS
};
FIXTURE_VARIANT_ADD(contig, uhd) {
	.size = 3840 * 2160 * 2, .flags = COHBUF_ALLOC_CONTIGUOUS
};
FIXTURE_VARIANT_ADD(contig, sixty_four_mib) {
	.size = SZ_64M, .flags = COHBUF_ALLOC_CONTIGUOUS
};
FIXTURE_VARIANT_ADD(contig, vga_dma32) {
	.size = 640 * 480 * 2,
	.flags = COHBUF_ALLOC_CONTIGUOUS | COHBUF_ALLOC_DMA32
};
FIXTURE_VARIANT_ADD(contig, uhd_dma32) {
	.size = 3840 * 2160 * 2,
	.flags = COHBUF_ALLOC_CONTIGUOUS | COHBUF_ALLOC_DMA32
};

FIXTURE_SETUP(contig)
{
	self->dev = test_open();
	self->imp = test_open_importer();
	test_counters(&self->base);
	self->size = page_align(variant->size);
	if (self->size > SZ_4M && !kernel_config("CONTIG_ALLOC"))
		SKIP(return, "no CONFIG_CONTIG_ALLOC in this kernel: no contiguous range above the buddy allocator's 4 MiB");
	self->fd = alloc_flags(self->dev, variant->size, variant->flags);
	ASSERT_LE(0, self->fd) TH_LOG("alloc %llu bytes, flags %#x: %s",
				      (unsigned long long)variant->size,
				      variant->flags, strerror(-self->fd));
}

FIXTURE_TEARDOWN(contig)
{
	close(self->fd);
	close(self->imp);
	close(self->dev);
}

TEST_F(contig, one_range)
{
	struct info in;

	test_info(self->dev, self->fd, &in);
	ASSERT_EQ(variant->flags, in.arg.flags);
	ASSERT_EQ(self->size, in.arg.size);
	ASSERT_EQ(1, in.arg.nr_ranges);
	assert_ranges_tile(&in);
	/* The tests run as root, which has CAP_SYS_RAWIO. */
	ASSERT_EQ(COHBUF_INFO_DMA_ADDR, in.arg.info_flags);
	ASSERT_NE(0, in.ranges[0].dma_addr);
	if (variant->flags & COHBUF_ALLOC_DMA32)
		ASSERT_GE(SZ_4G, in.ranges[0].dma_addr + self->size);
}

/* The buffer takes its page-rounded size, not the next power of two. */
TEST_F(contig, no_rounding_waste)
{
	struct live now;

	ASSERT_EQ(0, live_read(&now));
	ASSERT_EQ(self->base.buffers + 1, now.buffers);
	ASSERT_EQ(self->base.bytes + self->size, now.bytes);
}

TEST_F_TIMEOUT(contig, zeroed_then_shared, 120)
{
	void *rw = test_map(self->fd, self->size, PROT_READ | PROT_WRITE, 0);
	void *ro = test_map(self->fd, self->size, PROT_READ, 0);

	ASSERT_EQ(-1, bytes_check(rw, self->size, 0));
	pattern_fill(rw, self->size, 0, 0x5a);
	ASSERT_EQ(-1, pattern_check(ro, self->size, 0, 0x5a));
}

/*
 * A device sees one DMA range: every offset's DMA address is the first
 * one's plus the offset, and the importer's addresses are INFO's (neither
 * device is behind an IOMMU).
 */
TEST_F_TIMEOUT(contig, importer_sees_one_range, 120)
{
	struct cohbuf_imp_attach arg;
	uint64_t off, step, first, addr;
	uint32_t handle;
	struct info in;

	test_info(self->dev, self->fd, &in);
	handle = test_attach(self->imp, self->fd, &arg);
	ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, handle, 0, &first));
	ASSERT_EQ(in.ranges[0].dma_addr, first);

	step = self->size / 64 > page_size() ? self->size / 64 : page_size();
	step -= step % page_size();
	for (off = 0; off < self->size; off += step) {
		ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, handle, off, &addr));
		ASSERT_EQ(first + off, addr) TH_LOG("offset %llu",
						    (unsigned long long)off);
	}
	ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, handle,
					      self->size - 4, &addr));
	ASSERT_EQ(first + self->size - 4, addr);
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
}

/* ---- limits ---- */

DEV_FIXTURE(contig_limits)

TEST_F(contig_limits, e2big_above_max_contiguous_size)
{
	const uint64_t max = SZ_4M;
	int fd;

	test_param_set(&self->params, "cohbuf", "max_contiguous_size", max);
	ASSERT_EQ(-E2BIG, alloc_flags(self->dev, max + 1, COHBUF_ALLOC_CONTIGUOUS));
	ASSERT_EQ(-E2BIG, alloc_flags(self->dev, max + SZ_4K,
				      COHBUF_ALLOC_CONTIGUOUS | COHBUF_ALLOC_DMA32));

	fd = alloc_flags(self->dev, max, COHBUF_ALLOC_CONTIGUOUS);
	ASSERT_LE(0, fd) TH_LOG("at the limit: %s", strerror(-fd));
	close(fd);
	/* The limit is for contiguous buffers only. */
	fd = alloc_flags(self->dev, max + SZ_4K, 0);
	ASSERT_LE(0, fd) TH_LOG("not contiguous: %s", strerror(-fd));
	close(fd);
	assert_baseline(&self->base, "after the limits");
}

TEST_F(contig_limits, efbig_before_e2big)
{
	test_param_set(&self->params, "cohbuf", "max_buffer_size", SZ_4M);
	ASSERT_EQ(-EFBIG, alloc_flags(self->dev, SZ_4M + SZ_4K, COHBUF_ALLOC_CONTIGUOUS));
	assert_baseline(&self->base, "after EFBIG");
}

/* Scattered DMA32 memory: several ranges, every one below 4 GiB. */
TEST_F(contig_limits, dma32_scattered)
{
	uint64_t size = 3840 * 2160 * 2;
	struct info in;
	uint32_t i;
	int fd;

	fd = alloc_flags(self->dev, size, COHBUF_ALLOC_DMA32);
	ASSERT_LE(0, fd) TH_LOG("alloc: %s", strerror(-fd));
	test_info(self->dev, fd, &in);
	ASSERT_EQ(COHBUF_ALLOC_DMA32, in.arg.flags);
	assert_ranges_tile(&in);
	for (i = 0; i < in.arg.nr_ranges; i++)
		ASSERT_GE(SZ_4G, in.ranges[i].dma_addr + in.ranges[i].size);
	close(fd);
	assert_baseline(&self->base, "after the DMA32 buffer");
}

/*
 * Anonymous memory in 4 KiB pages for the range searches to migrate: a
 * third of what is free, then freed and taken again 2 MiB at a time, so
 * that pages are freed into the blocks being isolated, until killed (by
 * the test, or by the kernel when the test process is gone, so that a
 * failed test leaves nothing running into the next).
 */
static void contig_churn(pid_t test)
{
	size_t piece = 2 * SZ_1M;
	size_t len = sysconf(_SC_AVPHYS_PAGES) * page_size() / 3;
	char *p;
	size_t off;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != test)
		_exit(3);
	len -= len % piece;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		_exit(1);
	madvise(p, len, MADV_NOHUGEPAGE);
	memset(p, 0x3c, len);
	for (off = 0;; off = (off + piece) % len) {
		if (madvise(p + off, piece, MADV_DONTNEED))
			_exit(2);
		memset(p + off, 0xc3, piece);
	}
}

/*
 * One process's share of concurrent_ranges: @rounds buffers above the
 * buddy allocator's largest block (so each is a range search), of sizes
 * whose candidates start in the middle of a MAX_ORDER block, each filled
 * with a pattern of its own and checked after the others have had time to
 * write theirs. Exit status: 0, or the step that failed.
 */
static int contig_child(int dev, unsigned int id, long rounds)
{
	static const uint64_t sizes[] = { 6 * SZ_1M, 8 * SZ_1M + SZ_4K, 10 * SZ_1M };
	long round, got = 0;

	for (round = 0; round < rounds; round++) {
		uint64_t size = sizes[(id + round) % 3];
		uint32_t seed = id << 16 | round;
		struct info in;
		void *p;
		int fd;

		fd = alloc_flags(dev, size, COHBUF_ALLOC_CONTIGUOUS);
		if (fd == -ENOMEM)
			continue;
		if (fd < 0)
			return 2;
		if (info_errno(dev, fd, &in, MAX_RANGES) || in.arg.nr_ranges != 1)
			return 3;
		p = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
		if (p == MAP_FAILED)
			return 4;
		pattern_fill(p, size, 0, seed);
		usleep(1000);
		if (pattern_check(p, size, 0, seed) != -1)
			return 5;
		munmap(p, size);
		close(fd);
		got++;
	}
	return got ? 0 : 6;
}

/*
 * Range searches in several processes at once, over memory that is being
 * used and freed: every buffer is one range that no other buffer shares.
 * cohbuf enters alloc_contig_range() for one request at a time (as
 * cma_alloc() does): two callers isolating adjacent pageblocks let the
 * pages freed into both merge across the boundary, which the debug
 * kernel's VM_WARN_ON_ONCE() in isolate_single_pageblock() reports and
 * which fails make check-debug.
 */
TEST_F_TIMEOUT(contig_limits, concurrent_ranges, 900)
{
	long rounds = stress_param("COHBUF_CONTIG_ROUNDS", 16, 64);
	pid_t pids[4], churn, self_pid;
	unsigned int i;
	int status;

	if (!kernel_config("CONTIG_ALLOC"))
		SKIP(return, "no CONFIG_CONTIG_ALLOC in this kernel: no range search");
	self_pid = getpid();
	churn = test_fork();
	if (!churn)
		contig_churn(self_pid);
	for (i = 0; i < ARRAY_SIZE(pids); i++) {
		pids[i] = test_fork();
		if (!pids[i])
			_exit(contig_child(self->dev, i + 1, rounds));
	}
	for (i = 0; i < ARRAY_SIZE(pids); i++)
		assert_child_ok(pids[i]);
	ASSERT_EQ(0, kill(churn, SIGKILL));
	ASSERT_EQ(churn, waitpid(churn, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("the churning process exited, status %#x",
						status);
	assert_baseline(&self->base, "after the concurrent ranges");
}

/* ---- INFO ---- */

DEV_FIXTURE(info)

/* A buffer of several chunks: the ranges, and a short array. */
TEST_F(info, ranges_tile_the_buffer)
{
	struct cohbuf_range sentinel;
	struct info all, part;
	int fd;

	fd = test_alloc(self->dev, SZ_4M + SZ_1M + SZ_4K, O_RDWR);
	test_info(self->dev, fd, &all);
	ASSERT_EQ(0, all.arg.flags);
	ASSERT_LE(1, all.arg.nr_ranges);
	assert_ranges_tile(&all);

	/* Room for none: the count alone. */
	ASSERT_EQ(0, info_errno(self->dev, fd, &part, 0));
	ASSERT_EQ(all.arg.nr_ranges, part.arg.nr_ranges);
	ASSERT_EQ(0, part.ranges[0].size);

	/* Room for one: one written, the next untouched. */
	ASSERT_EQ(0, info_errno(self->dev, fd, &part, 1));
	ASSERT_EQ(all.arg.nr_ranges, part.arg.nr_ranges);
	ASSERT_EQ(0, memcmp(&all.ranges[0], &part.ranges[0], sizeof(sentinel)));
	memset(&sentinel, 0, sizeof(sentinel));
	ASSERT_EQ(0, memcmp(&sentinel, &part.ranges[1], sizeof(sentinel)));
	close(fd);
}

/* Without CAP_SYS_RAWIO the layout is there, the DMA addresses are not. */
TEST_F(info, dma_addresses_need_cap_sys_rawio)
{
	int fd = test_alloc(self->dev, SZ_1M, O_RDWR);
	pid_t pid = test_fork();

	if (!pid) {
		struct info in;

		/* nobody, with no capability left */
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		if (info_errno(self->dev, fd, &in, MAX_RANGES))
			_exit(11);
		if (in.arg.info_flags || in.ranges[0].dma_addr)
			_exit(12);
		if (in.arg.size != SZ_1M || in.ranges[0].size != SZ_1M)
			_exit(13);
		_exit(0);
	}
	assert_child_ok(pid);
	close(fd);
}

FIXTURE_VARIANT(info_bad) {
	int which;
	int err;
};

BUF_FIXTURE(info_bad, SZ_1M, O_RDWR, PROT_NONE)

enum { BAD_DEVICE_FD, BAD_OTHER_FILE, BAD_CLOSED_FD, BAD_MINUS_ONE,
	BAD_PAD, BAD_RESERVED, BAD_RANGES_PTR, BAD_ARG_PTR };

FIXTURE_VARIANT_ADD(info_bad, device_fd) { .which = BAD_DEVICE_FD, .err = EINVAL };
FIXTURE_VARIANT_ADD(info_bad, not_a_dmabuf) { .which = BAD_OTHER_FILE, .err = EINVAL };
FIXTURE_VARIANT_ADD(info_bad, closed_fd) { .which = BAD_CLOSED_FD, .err = EBADF };
FIXTURE_VARIANT_ADD(info_bad, minus_one) { .which = BAD_MINUS_ONE, .err = EBADF };
FIXTURE_VARIANT_ADD(info_bad, pad) { .which = BAD_PAD, .err = EINVAL };
FIXTURE_VARIANT_ADD(info_bad, reserved) { .which = BAD_RESERVED, .err = EINVAL };
FIXTURE_VARIANT_ADD(info_bad, ranges_pointer) { .which = BAD_RANGES_PTR, .err = EFAULT };
FIXTURE_VARIANT_ADD(info_bad, arg_pointer) { .which = BAD_ARG_PTR, .err = EFAULT };

TEST_F(info_bad, refused)
{
	struct cohbuf_range ranges[4];
	struct cohbuf_info arg = {
		.fd = self->buf.fd,
		.ranges_cap = 4,
		.ranges = (uintptr_t)ranges,
	};
	void *argp = &arg;
	int other = -1;

	switch (variant->which) {
	case BAD_DEVICE_FD:
		arg.fd = self->dev;
		break;
	case BAD_OTHER_FILE:
		other = open("/dev/null", O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, other);
		arg.fd = other;
		break;
	case BAD_CLOSED_FD:
		arg.fd = lowest_free_fd();
		break;
	case BAD_MINUS_ONE:
		arg.fd = -1;
		break;
	case BAD_PAD:
		arg.pad = 1;
		break;
	case BAD_RESERVED:
		arg.reserved[1] = 1;
		break;
	case BAD_RANGES_PTR:
		arg.ranges = 8;
		break;
	case BAD_ARG_PTR:
		argp = test_readonly_arg(&arg);
		break;
	}
	ASSERT_EQ(variant->err, ioctl_errno(self->dev, COHBUF_IOCTL_INFO, argp));
	if (other >= 0)
		close(other);
}

/* A dma-buf that another exporter made: vgem's, on both kernels. */
TEST_F(info, foreign_dmabuf)
{
	struct drm_mode_create_dumb create = { .width = 1024, .height = 1, .bpp = 32 };
	struct info in;
	int vgem, fd, ret;

	vgem = vgem_open(&ret);
	if (vgem < 0)
		SKIP(return, "no vgem device (modprobe vgem: status %d)", ret);
	ASSERT_EQ(0, drmIoctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &create));
	ASSERT_EQ(0, drmPrimeHandleToFD(vgem, create.handle, DRM_CLOEXEC | DRM_RDWR, &fd));
	ASSERT_EQ(EINVAL, info_errno(self->dev, fd, &in, MAX_RANGES));
	close(fd);
	close(vgem);
}

TEST_HARNESS_MAIN
