// SPDX-License-Identifier: GPL-2.0
/*
 * An importing device with a 32-bit DMA mask (cohbuf_importer dma_bits=32,
 * which each test loads) in a guest with memory above 4 GiB (make check
 * boots one with 6 GiB: see tests.list):
 *
 *   refused_without_dma32   a buffer above 4 GiB is refused with ERANGE
 *                           and one kernel log line that names the flag
 *                           to use and shows no address
 *   dma32_reached           a COHBUF_ALLOC_DMA32 buffer maps without
 *                           bouncing, and its data arrives both ways
 *
 * each for a scattered and a contiguous buffer.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sysinfo.h>

#include "cohbuf_harness.h"

#define SZ_4G		(4096 * SZ_1M)
#define MAX_RANGES	64

FIXTURE(reach) {
	int dev;
	int imp;
	struct counters base;
	struct module_ko importer;
};

/* The flags of every buffer but COHBUF_ALLOC_DMA32. */
FIXTURE_VARIANT(reach) {
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(reach, scattered) { .flags = 0 };
FIXTURE_VARIANT_ADD(reach, contiguous) { .flags = COHBUF_ALLOC_CONTIGUOUS };

/* The importer as it was, and the memory this program needs. */
FIXTURE_SETUP(reach)
{
	const char *build = getenv("COHBUF_BUILD");
	struct sysinfo si;
	int ret;

	ASSERT_EQ(0, sysinfo(&si));
	ASSERT_LT(SZ_4G, (uint64_t)si.totalram * si.mem_unit)
		TH_LOG("needs memory above 4 GiB: scripts/vm-run --mem 6144");
	ASSERT_NE(NULL, build) TH_LOG("COHBUF_BUILD is unset: run under scripts/vm-run");
	test_ko_find(&self->importer, build, IMP_MODULE, "importer/cohbuf_importer.ko");
	ASSERT_EQ(0, ko_unload(&self->importer));
	ret = module_load(self->importer.path, "dma_bits=32");
	ASSERT_EQ(0, ret) TH_LOG("insmod %s dma_bits=32: %s", self->importer.path,
				 strerror(-ret));
	self->dev = test_open();
	self->imp = test_open_importer();
	test_counters(&self->base);
}

/* The 32-bit importer goes, the importer as it was comes back. */
FIXTURE_TEARDOWN_PARENT(reach)
{
	EXPECT_EQ(0, module_unload(IMP_MODULE));
	expect_ko_reloaded(&self->importer);
}

/* A buffer's ranges, which must fit MAX_RANGES. */
struct ranges {
	struct cohbuf_info info;
	struct cohbuf_range r[MAX_RANGES];
};

static void _test_ranges(struct __test_metadata *_metadata, int dev, int fd,
			 struct ranges *rs)
{
	int ret = cohbuf_info(dev, fd, &rs->info, rs->r, MAX_RANGES);

	ASSERT_LE(1, ret) TH_LOG("COHBUF_IOCTL_INFO: %s", strerror(-ret));
	ASSERT_GE(MAX_RANGES, ret);
}
#define test_ranges(dev, fd, rs) _test_ranges(_metadata, dev, fd, rs)

/* Whether every hexadecimal number in @text is @only. */
static bool hex_only(const char *text, unsigned long long only)
{
	const char *p;

	for (p = strstr(text, "0x"); p; p = strstr(p + 2, "0x"))
		if (strtoull(p, NULL, 16) != only)
			return false;
	return true;
}

/*
 * The default buffer lies above 4 GiB, as fresh memory does when there is
 * plenty there. The refusal comes from cohbuf's map callback; the importer
 * attaches and maps in one ioctl, and leaves nothing behind.
 */
TEST_F_TIMEOUT(reach, refused_without_dma32, 120)
{
	struct cohbuf_imp_attach arg;
	char text[1024];
	struct ranges rs;
	uint64_t end = 0;
	int fd, kmsg, ret, lines = 0;
	uint32_t i;

	fd = cohbuf_alloc_flags(self->dev, SZ_4M, NULL, O_RDWR | O_CLOEXEC, variant->flags);
	ASSERT_LE(0, fd) TH_LOG("alloc, flags %#x: %s", variant->flags, strerror(-fd));
	test_ranges(self->dev, fd, &rs);
	for (i = 0; i < rs.info.nr_ranges; i++)
		if (rs.r[i].dma_addr + rs.r[i].size > end)
			end = rs.r[i].dma_addr + rs.r[i].size;
	ASSERT_LT(SZ_4G, end) TH_LOG("the buffer lies below 4 GiB: nothing to refuse");

	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg) TH_LOG("/dev/kmsg: %s", strerror(-kmsg));
	ASSERT_EQ(-ERANGE, cohbuf_importer_attach(self->imp, fd, &arg));
	while ((ret = kmsg_next(kmsg, text, sizeof(text))) > 0) {
		if (!strstr(text, "COHBUF_ALLOC_DMA32"))
			continue;
		lines++;
		TH_LOG("kernel log: %s", text);
		EXPECT_NE(NULL, strstr(text, IMP_MODULE));
		EXPECT_NE(NULL, strstr(text, "0xffffffff"));
		EXPECT_TRUE(hex_only(text, 0xffffffffULL)) TH_LOG("an address in the log");
	}
	ASSERT_EQ(0, ret);
	ASSERT_EQ(1, lines);
	close(kmsg);
	close(fd);
	assert_baseline(&self->base, "after the refusal");
}

/*
 * Below 4 GiB and not bounced: the importer's DMA address of each range's
 * first and last byte is INFO's. An 8 MiB buffer: beyond the buddy
 * allocator's largest block, so a contiguous one is a range search.
 */
TEST_F_TIMEOUT(reach, dma32_reached, 120)
{
	const uint64_t size = 2 * SZ_4M;
	struct test_buf b = { .fd = -1, .size = size };
	struct ranges rs;
	uint64_t addr, off;
	uint32_t handle, i;
	int fd;

	fd = cohbuf_alloc_flags(self->dev, size, NULL, O_RDWR | O_CLOEXEC,
				variant->flags | COHBUF_ALLOC_DMA32);
	ASSERT_LE(0, fd) TH_LOG("alloc, flags %#x: %s", variant->flags | COHBUF_ALLOC_DMA32,
				strerror(-fd));
	b.fd = fd;
	b.map = test_map(fd, size, PROT_READ | PROT_WRITE, 0);
	test_ranges(self->dev, fd, &rs);
	handle = test_attach(self->imp, fd, NULL);
	for (i = 0; i < rs.info.nr_ranges; i++) {
		ASSERT_GE(SZ_4G, rs.r[i].dma_addr + rs.r[i].size);
		off = rs.r[i].offset;
		ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, handle, off, &addr));
		ASSERT_EQ(rs.r[i].dma_addr, addr) TH_LOG("range %u bounced", i);
		off += rs.r[i].size - 4;
		ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, handle, off, &addr));
		ASSERT_EQ(rs.r[i].dma_addr + rs.r[i].size - 4, addr);
	}

	test_cpu_access(fd, true);
	pattern_fill(b.map, size, 0, 0x32);
	test_cpu_access(fd, false);
	ASSERT_EQ(cohbuf_crc32(0, b.map, size), test_crc32(self->imp, handle, 0, size));
	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, handle, 0, size, 0x3c3c3c3c));
	test_cpu_access(fd, true);
	ASSERT_EQ(-1, bytes_check(b.map, size, 0x3c));
	test_cpu_access(fd, false);

	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
	buf_free(&b);
	assert_baseline(&self->base, "at the end");
}

TEST_HARNESS_MAIN
