// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf allocation: sizes, zeroing and the fd flags of the returned dma-buf.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cohbuf_harness.h"

FIXTURE_VARIANT(alloc_size) {
	uint64_t size;
};

BUF_FIXTURE(alloc_size, variant->size, O_RDWR | O_CLOEXEC, PROT_NONE)

FIXTURE_VARIANT_ADD(alloc_size, one_byte) { .size = 1 };
FIXTURE_VARIANT_ADD(alloc_size, one_page) { .size = SZ_4K };
FIXTURE_VARIANT_ADD(alloc_size, one_mib) { .size = SZ_1M };
FIXTURE_VARIANT_ADD(alloc_size, four_mib) { .size = SZ_4M };
FIXTURE_VARIANT_ADD(alloc_size, four_mib_plus_one) { .size = SZ_4M + 1 };
FIXTURE_VARIANT_ADD(alloc_size, sixty_four_mib) { .size = SZ_64M };

TEST_F(alloc_size, size_is_page_rounded)
{
	struct stat st;

	ASSERT_EQ((off_t)self->buf.size, lseek(self->buf.fd, 0, SEEK_END));
	ASSERT_EQ(0, lseek(self->buf.fd, 0, SEEK_SET));
	ASSERT_EQ(0, fstat(self->buf.fd, &st));
	ASSERT_EQ((off_t)self->buf.size, st.st_size);
}

TEST_F(alloc_size, zeroed)
{
	void *map = test_map(self->buf.fd, self->buf.size, PROT_READ, 0);

	ASSERT_EQ(-1, bytes_check(map, self->buf.size, 0));
}

TEST_F_TIMEOUT(alloc_size, write_read_pattern, 120)
{
	size_t len = self->buf.size;
	void *rw = test_map(self->buf.fd, len, PROT_READ | PROT_WRITE, 0);
	void *ro = test_map(self->buf.fd, len, PROT_READ, 0);

	pattern_fill(rw, len, 0, 0x11);
	/* the same bytes through the writer and through a second mapping */
	ASSERT_EQ(-1, pattern_check(rw, len, 0, 0x11));
	ASSERT_EQ(-1, pattern_check(ro, len, 0, 0x11));

	pattern_fill(rw, len, 0, 0x22);
	ASSERT_EQ(-1, pattern_check(ro, len, 0, 0x22));
}

/* The fd has the access mode and close-on-exec flag asked for. */
DEV_FIXTURE(alloc_flags)

FIXTURE_VARIANT(alloc_flags) {
	int fd_flags;
};

FIXTURE_VARIANT_ADD(alloc_flags, rdwr) { .fd_flags = O_RDWR };
FIXTURE_VARIANT_ADD(alloc_flags, rdwr_cloexec) { .fd_flags = O_RDWR | O_CLOEXEC };
FIXTURE_VARIANT_ADD(alloc_flags, rdonly) { .fd_flags = O_RDONLY };
FIXTURE_VARIANT_ADD(alloc_flags, rdonly_cloexec) { .fd_flags = O_RDONLY | O_CLOEXEC };

TEST_F(alloc_flags, fd_has_them)
{
	int fd = test_alloc(self->dev, SZ_4K, variant->fd_flags);

	ASSERT_EQ(variant->fd_flags & O_ACCMODE, fcntl(fd, F_GETFL) & O_ACCMODE);
	ASSERT_EQ((variant->fd_flags & O_CLOEXEC) ? FD_CLOEXEC : 0,
		  fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

DEV_FIXTURE(alloc)

/* cohbuf_alloc.fd is output only: whatever it holds on input is ignored. */
TEST_F(alloc, input_fd_ignored)
{
	struct cohbuf_alloc req = {
		.size = SZ_4K,
		.fd_flags = O_RDWR,
		.fd = -12345,
	};

	ASSERT_EQ(0, ioctl_errno(self->dev, COHBUF_IOCTL_ALLOC, &req));
	ASSERT_LE(0, req.fd);
	ASSERT_EQ((off_t)SZ_4K, lseek(req.fd, 0, SEEK_END));
}

/* Each allocation is its own dma-buf: distinct inodes, distinct memory. */
TEST_F(alloc, buffers_are_distinct)
{
	struct test_buf a, b;

	test_buf_alloc(&a, self->dev, SZ_4K, O_RDWR, PROT_READ | PROT_WRITE);
	test_buf_alloc(&b, self->dev, SZ_4K, O_RDWR, PROT_READ | PROT_WRITE);
	ASSERT_NE(a.ino, b.ino);
	pattern_fill(a.map, SZ_4K, 0, 1);
	pattern_fill(b.map, SZ_4K, 0, 2);
	ASSERT_EQ(-1, pattern_check(a.map, SZ_4K, 0, 1));
	ASSERT_EQ(-1, pattern_check(b.map, SZ_4K, 0, 2));
}

/*
 * Freed memory must not leak into the next buffer: dirty several 4 MiB
 * buffers, free them, and check that the next ones read back as zero.
 */
TEST_F_TIMEOUT(alloc, zeroed_after_dirty_free, 120)
{
	enum { NBUF = 8 };
	struct test_buf b[NBUF];
	int round, i;

	for (round = 0; round < 2; round++) {
		for (i = 0; i < NBUF; i++) {
			test_buf_alloc(&b[i], self->dev, SZ_4M, O_RDWR, PROT_READ | PROT_WRITE);
			ASSERT_EQ(-1, bytes_check(b[i].map, SZ_4M, 0))
				TH_LOG("round %d buffer %d not zeroed", round, i);
			memset(b[i].map, 0xa5, SZ_4M);
		}
		for (i = 0; i < NBUF; i++) {
			ASSERT_EQ(0, munmap(b[i].map, SZ_4M));
			ASSERT_EQ(0, close(b[i].fd));
		}
	}
}

TEST_HARNESS_MAIN
