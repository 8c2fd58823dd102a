// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf allocation: sizes, zeroing and the fd flags of the returned dma-buf.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "cohbuf_harness.h"

FIXTURE(alloc_size) {
	int dev;
	int fd;
	void *map[2];
	size_t len;
};

FIXTURE_VARIANT(alloc_size) {
	uint64_t size;
};

FIXTURE_VARIANT_ADD(alloc_size, one_byte) { .size = 1 };
FIXTURE_VARIANT_ADD(alloc_size, one_page) { .size = SZ_4K };
FIXTURE_VARIANT_ADD(alloc_size, one_mib) { .size = SZ_1M };
FIXTURE_VARIANT_ADD(alloc_size, four_mib) { .size = SZ_4M };
FIXTURE_VARIANT_ADD(alloc_size, four_mib_plus_one) { .size = SZ_4M + 1 };
FIXTURE_VARIANT_ADD(alloc_size, sixty_four_mib) { .size = SZ_64M };

FIXTURE_SETUP(alloc_size)
{
	self->map[0] = MAP_FAILED;
	self->map[1] = MAP_FAILED;
	self->fd = -1;
	self->len = page_align(variant->size);
	self->dev = test_open();
	self->fd = cohbuf_alloc(self->dev, variant->size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("alloc %llu: %s",
				      (unsigned long long)variant->size, strerror(-self->fd));
}

FIXTURE_TEARDOWN(alloc_size)
{
	int i;

	for (i = 0; i < 2; i++)
		if (self->map[i] != MAP_FAILED)
			munmap(self->map[i], self->len);
	if (self->fd >= 0)
		close(self->fd);
	if (self->dev >= 0)
		close(self->dev);
}

TEST_F(alloc_size, size_is_page_rounded)
{
	struct stat st;

	ASSERT_EQ((off_t)self->len, lseek(self->fd, 0, SEEK_END));
	ASSERT_EQ(0, lseek(self->fd, 0, SEEK_SET));
	ASSERT_EQ(0, fstat(self->fd, &st));
	ASSERT_EQ((off_t)self->len, st.st_size);
}

TEST_F(alloc_size, zeroed)
{
	self->map[0] = map_shared(self->fd, self->len, PROT_READ, 0);
	ASSERT_NE(MAP_FAILED, self->map[0]);
	ASSERT_EQ(-1, bytes_check(self->map[0], self->len, 0));
}

TEST_F_TIMEOUT(alloc_size, write_read_pattern, 120)
{
	self->map[0] = map_shared(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, self->map[0]);
	self->map[1] = map_shared(self->fd, self->len, PROT_READ, 0);
	ASSERT_NE(MAP_FAILED, self->map[1]);

	pattern_fill(self->map[0], self->len, 0, 0x11);
	/* the same bytes through the writer and through a second mapping */
	ASSERT_EQ(-1, pattern_check(self->map[0], self->len, 0, 0x11));
	ASSERT_EQ(-1, pattern_check(self->map[1], self->len, 0, 0x11));

	pattern_fill(self->map[0], self->len, 0, 0x22);
	ASSERT_EQ(-1, pattern_check(self->map[1], self->len, 0, 0x22));
}

FIXTURE(alloc) {
	int dev;
	int fd;
};

FIXTURE_SETUP(alloc)
{
	self->fd = -1;
	self->dev = test_open();
}

FIXTURE_TEARDOWN(alloc)
{
	if (self->fd >= 0)
		close(self->fd);
	close(self->dev);
}

TEST_F(alloc, cloexec_set)
{
	self->fd = cohbuf_alloc(self->dev, SZ_4K, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(FD_CLOEXEC, fcntl(self->fd, F_GETFD) & FD_CLOEXEC);
}

TEST_F(alloc, cloexec_clear)
{
	self->fd = cohbuf_alloc(self->dev, SZ_4K, NULL, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, fcntl(self->fd, F_GETFD) & FD_CLOEXEC);
}

TEST_F(alloc, access_mode_rdwr)
{
	self->fd = cohbuf_alloc(self->dev, SZ_4K, NULL, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(O_RDWR, fcntl(self->fd, F_GETFL) & O_ACCMODE);
}

TEST_F(alloc, access_mode_rdonly)
{
	self->fd = cohbuf_alloc(self->dev, SZ_4K, NULL, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(O_RDONLY, fcntl(self->fd, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(FD_CLOEXEC, fcntl(self->fd, F_GETFD) & FD_CLOEXEC);
}

/* cohbuf_alloc.fd is output only: whatever it holds on input is ignored. */
TEST_F(alloc, input_fd_ignored)
{
	struct cohbuf_alloc req = {
		.size = SZ_4K,
		.fd_flags = O_RDWR,
		.fd = -12345,
	};

	ASSERT_EQ(0, ioctl_errno(self->dev, COHBUF_IOCTL_ALLOC, &req));
	self->fd = req.fd;
	ASSERT_LE(0, self->fd);
	ASSERT_EQ((off_t)SZ_4K, lseek(self->fd, 0, SEEK_END));
}

/* Each allocation is its own dma-buf: distinct inodes, distinct memory. */
TEST_F(alloc, buffers_are_distinct)
{
	uint64_t ino[2];
	void *map[2];
	int fd2, i;

	self->fd = cohbuf_alloc(self->dev, SZ_4K, NULL, O_RDWR);
	ASSERT_LE(0, self->fd);
	fd2 = cohbuf_alloc(self->dev, SZ_4K, NULL, O_RDWR);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, cohbuf_ino(self->fd, &ino[0]));
	ASSERT_EQ(0, cohbuf_ino(fd2, &ino[1]));
	ASSERT_NE(ino[0], ino[1]);

	map[0] = map_shared(self->fd, SZ_4K, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map[0]);
	map[1] = map_shared(fd2, SZ_4K, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map[1]);
	pattern_fill(map[0], SZ_4K, 0, 1);
	pattern_fill(map[1], SZ_4K, 0, 2);
	ASSERT_EQ(-1, pattern_check(map[0], SZ_4K, 0, 1));
	ASSERT_EQ(-1, pattern_check(map[1], SZ_4K, 0, 2));
	for (i = 0; i < 2; i++)
		munmap(map[i], SZ_4K);
	close(fd2);
}

/*
 * Freed memory must not leak into the next buffer: dirty several 4 MiB
 * buffers, free them, and check that the next ones read back as zero.
 */
TEST_F_TIMEOUT(alloc, zeroed_after_dirty_free, 120)
{
	enum { NBUF = 8 };
	void *map[NBUF];
	int fd[NBUF];
	int round, i;

	for (round = 0; round < 2; round++) {
		for (i = 0; i < NBUF; i++) {
			fd[i] = cohbuf_alloc(self->dev, SZ_4M, NULL, O_RDWR);
			ASSERT_LE(0, fd[i]) TH_LOG("round %d buffer %d: %s",
						   round, i, strerror(-fd[i]));
			map[i] = map_shared(fd[i], SZ_4M, PROT_READ | PROT_WRITE, 0);
			ASSERT_NE(MAP_FAILED, map[i]);
			ASSERT_EQ(-1, bytes_check(map[i], SZ_4M, 0))
				TH_LOG("round %d buffer %d not zeroed", round, i);
			memset(map[i], 0xa5, SZ_4M);
		}
		for (i = 0; i < NBUF; i++) {
			ASSERT_EQ(0, munmap(map[i], SZ_4M));
			ASSERT_EQ(0, close(fd[i]));
		}
	}
}

TEST_HARNESS_MAIN
