// SPDX-License-Identifier: GPL-2.0
/*
 * A kernel that bounces every streaming DMA mapping through swiotlb
 * (booted with swiotlb=force: make check runs this program in such a
 * guest, see tests.list). swiotlb maps at most 256 KiB at a time
 * (dma_max_mapping_size()):
 *
 *   importer_segments_fit   an importer's mapping of a buffer of 4 MiB
 *                           chunks has no segment swiotlb cannot map, and
 *                           what the CPU writes on either side arrives
 *   contiguous_refused      a contiguous buffer, which would have only a
 *                           bounce buffer's DMA address on cohbuf's own
 *                           device, is refused with EOPNOTSUPP, quietly
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cohbuf_harness.h"

/* The longest mapping swiotlb makes: IO_TLB_SEGSIZE slots of IO_TLB_SIZE. */
#define SWIOTLB_MAX_MAPPING	(128 * 2048)

/* Whether the kernel command line holds the word @word. */
static bool cmdline_has(const char *word)
{
	char line[4096], *tok, *save;
	bool found = false;
	FILE *f;

	f = fopen("/proc/cmdline", "re");
	if (!f)
		return false;
	if (fgets(line, sizeof(line), f))
		for (tok = strtok_r(line, " \n", &save); tok && !found;
		     tok = strtok_r(NULL, " \n", &save))
			found = !strcmp(tok, word);
	fclose(f);
	return found;
}

FIXTURE(swiotlb) {
	int dev;
	int imp;
	struct counters base;
};

FIXTURE_SETUP(swiotlb)
{
	ASSERT_TRUE(cmdline_has("swiotlb=force"))
		TH_LOG("boot the guest with swiotlb=force (scripts/vm-run --append swiotlb=force)");
	self->dev = test_open();
	self->imp = test_open_importer();
	test_counters(&self->base);
}

FIXTURE_TEARDOWN(swiotlb)
{
	close(self->imp);
	close(self->dev);
}

/*
 * Two 4 MiB chunks: without the cap at dma_max_mapping_size(), each would
 * be one segment that swiotlb cannot map, and the attach would fail. The
 * importer's DMA addresses are swiotlb's, not INFO's: the bounce is real.
 * Data crosses it both ways when CPU access is bracketed, as the dma-buf
 * contract asks.
 */
TEST_F_TIMEOUT(swiotlb, importer_segments_fit, 120)
{
	struct cohbuf_imp_attach arg;
	struct cohbuf_range range;
	struct cohbuf_info info;
	struct test_buf b;
	uint64_t addr;
	uint32_t handle;

	test_buf_alloc(&b, self->dev, 2 * SZ_4M, O_RDWR | O_CLOEXEC,
		       PROT_READ | PROT_WRITE);
	ASSERT_LE(1, cohbuf_info(self->dev, b.fd, &info, &range, 1));
	handle = test_attach(self->imp, b.fd, &arg);
	ASSERT_LE(b.size / SWIOTLB_MAX_MAPPING, arg.nents);
	ASSERT_EQ(0, cohbuf_importer_dma_addr(self->imp, handle, 0, &addr));
	ASSERT_NE(range.dma_addr, addr) TH_LOG("the importer's mapping is not bounced");

	test_cpu_access(b.fd, true);
	pattern_fill(b.map, b.size, 0, 0x51);
	test_cpu_access(b.fd, false);
	ASSERT_EQ(cohbuf_crc32(0, b.map, b.size), test_crc32(self->imp, handle, 0, b.size));

	ASSERT_EQ(0, cohbuf_importer_fill(self->imp, handle, 0, b.size, 0x6b6b6b6b));
	test_cpu_access(b.fd, true);
	ASSERT_EQ(-1, bytes_check(b.map, b.size, 0x6b));
	test_cpu_access(b.fd, false);

	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, handle));
	buf_free(&b);
	assert_baseline(&self->base, "at the end");
}

/* Kernel log lines since @kmsg that mention swiotlb; -errno on error. */
static int swiotlb_lines(int kmsg)
{
	char text[1024];
	int n = 0, ret;

	while ((ret = kmsg_next(kmsg, text, sizeof(text))) > 0)
		if (strstr(text, "swiotlb"))
			n++;
	return ret < 0 ? ret : n;
}

/*
 * cohbuf's own DMA mapping of a contiguous buffer would be a bounce buffer
 * (below 256 KiB) or would fail in swiotlb (above, with a "buffer is full"
 * message): either way no device could use INFO's address.
 */
TEST_F_TIMEOUT(swiotlb, contiguous_refused, 120)
{
	const uint64_t sizes[] = { 16 * SZ_4K, SZ_1M, 2 * SZ_4M };
	const uint32_t flags[] = {
		COHBUF_ALLOC_CONTIGUOUS, COHBUF_ALLOC_CONTIGUOUS | COHBUF_ALLOC_DMA32,
	};
	unsigned int i, j;
	int kmsg, fd;

	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg) TH_LOG("/dev/kmsg: %s", strerror(-kmsg));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (j = 0; j < sizeof(flags) / sizeof(flags[0]); j++) {
			fd = cohbuf_alloc_flags(self->dev, sizes[i], NULL, O_RDWR | O_CLOEXEC,
						flags[j]);
			if (fd >= 0)
				close(fd);
			ASSERT_EQ(-EOPNOTSUPP, fd)
				TH_LOG("%llu bytes, flags %#x", (unsigned long long)sizes[i],
				       flags[j]);
		}
	}
	ASSERT_EQ(0, swiotlb_lines(kmsg));
	close(kmsg);
	/* Scattered buffers are coherent memory, which swiotlb leaves alone. */
	fd = test_alloc(self->dev, 2 * SZ_4M, O_RDWR | O_CLOEXEC);
	close(fd);
	assert_baseline(&self->base, "at the end");
}

TEST_HARNESS_MAIN
