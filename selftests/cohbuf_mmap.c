// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf user mappings: windows at an offset, bounds, MAP_PRIVATE, mremap
 * and read-only buffers.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "cohbuf_harness.h"

#define NPAGES	16

/* A 16-page read-write buffer, filled with pattern 1 through a full mapping. */
FIXTURE(mmap) {
	int dev;
	int fd;
	size_t ps;
	size_t size;
	void *full;
};

FIXTURE_SETUP(mmap)
{
	self->full = MAP_FAILED;
	self->fd = -1;
	self->ps = page_size();
	self->size = NPAGES * self->ps;
	self->dev = test_open();
	self->fd = cohbuf_alloc(self->dev, self->size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->full = map_shared(self->fd, self->size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, self->full);
	pattern_fill(self->full, self->size, 0, 1);
}

FIXTURE_TEARDOWN(mmap)
{
	if (self->full != MAP_FAILED)
		munmap(self->full, self->size);
	if (self->fd >= 0)
		close(self->fd);
	close(self->dev);
}

TEST_F(mmap, partial_map_at_offset)
{
	size_t off = 5 * self->ps, len = 3 * self->ps;
	char *win;

	win = map_shared(self->fd, len, PROT_READ | PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, win);
	/* the window sees the buffer's bytes at its offset */
	ASSERT_EQ(-1, pattern_check(win, len, off, 1));
	/* and writes through it land there in the full mapping */
	pattern_fill(win, len, off, 2);
	ASSERT_EQ(-1, pattern_check((char *)self->full + off, len, off, 2));
	ASSERT_EQ(-1, pattern_check(self->full, off, 0, 1));
	ASSERT_EQ(-1, pattern_check((char *)self->full + off + len,
				    self->size - off - len, off + len, 1));
	ASSERT_EQ(0, munmap(win, len));
}

TEST_F(mmap, partial_map_last_page)
{
	size_t off = self->size - self->ps;
	void *win;

	win = map_shared(self->fd, self->ps, PROT_READ, off);
	ASSERT_NE(MAP_FAILED, win);
	ASSERT_EQ(-1, pattern_check(win, self->ps, off, 1));
	ASSERT_EQ(0, munmap(win, self->ps));
}

TEST_F(mmap, map_longer_than_buffer_fails)
{
	void *p = map_shared(self->fd, self->size + self->ps, PROT_READ, 0);

	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(mmap, map_at_end_fails)
{
	void *p = map_shared(self->fd, self->ps, PROT_READ, self->size);

	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(mmap, map_straddling_end_fails)
{
	void *p = map_shared(self->fd, 2 * self->ps, PROT_READ,
			     self->size - self->ps);

	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
}

/* An offset far beyond the buffer, with no overflow in the VM's own checks. */
TEST_F(mmap, map_huge_offset_fails)
{
	void *p = map_shared(self->fd, self->ps, PROT_READ, (off_t)1 << 62);

	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(mmap, map_private_fails)
{
	void *p = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		       self->fd, 0);

	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(mmap, map_private_readonly_fails)
{
	void *p = mmap(NULL, self->size, PROT_READ, MAP_PRIVATE, self->fd, 0);

	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
}

/* CVE-2023-2008: growing the mapping must not expose memory past the buffer. */
TEST_F(mmap, mremap_grow_fails)
{
	void *p;

	p = mremap(self->full, self->size, 2 * self->size, MREMAP_MAYMOVE);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EFAULT, errno);
	/* the original mapping is untouched */
	ASSERT_EQ(-1, pattern_check(self->full, self->size, 0, 1));
}

TEST_F(mmap, mremap_grow_in_place_fails)
{
	size_t half = self->size / 2;
	void *win, *p;

	/* a half-size window has room to grow inside the buffer's bounds */
	win = map_shared(self->fd, half, PROT_READ, 0);
	ASSERT_NE(MAP_FAILED, win);
	p = mremap(win, half, self->size, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, pattern_check(win, half, 0, 1));
	ASSERT_EQ(0, munmap(win, half));
}

TEST_F(mmap, mremap_move_keeps_data)
{
	void *p;

	p = mremap(self->full, self->size, self->size, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, p);
	self->full = p;
	ASSERT_EQ(-1, pattern_check(self->full, self->size, 0, 1));
}

/* An O_RDONLY buffer: readable, never writable through a shared mapping. */
FIXTURE(rdonly) {
	int dev;
	int fd;
	size_t size;
	void *map;
};

FIXTURE_SETUP(rdonly)
{
	self->map = MAP_FAILED;
	self->size = 4 * page_size();
	self->dev = test_open();
	self->fd = cohbuf_alloc(self->dev, self->size, NULL, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(rdonly)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->size);
	close(self->fd);
	close(self->dev);
}

TEST_F(rdonly, write_map_fails)
{
	self->map = map_shared(self->fd, self->size, PROT_READ | PROT_WRITE, 0);
	ASSERT_EQ(MAP_FAILED, self->map);
	ASSERT_EQ(EACCES, errno);
	self->map = map_shared(self->fd, self->size, PROT_WRITE, 0);
	ASSERT_EQ(MAP_FAILED, self->map);
	ASSERT_EQ(EACCES, errno);
}

TEST_F(rdonly, read_map_works)
{
	self->map = map_shared(self->fd, self->size, PROT_READ, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_EQ(-1, bytes_check(self->map, self->size, 0));
}

TEST_F(rdonly, mprotect_write_fails)
{
	self->map = map_shared(self->fd, self->size, PROT_READ, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_EQ(-1, mprotect(self->map, self->size, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
}

TEST_HARNESS_MAIN
