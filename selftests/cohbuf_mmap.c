// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf user mappings: windows at an offset, bounds, MAP_PRIVATE, mremap
 * and read-only buffers.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cohbuf_harness.h"

#define NPAGES	16

/* A 16-page read-write buffer, filled with pattern 1 through a full mapping. */
FIXTURE(mmap) {
	int dev;
	size_t ps;
	struct test_buf buf;
};

FIXTURE_SETUP(mmap)
{
	self->ps = page_size();
	self->dev = test_open();
	test_buf_alloc(&self->buf, self->dev, NPAGES * self->ps, O_RDWR | O_CLOEXEC,
		       PROT_READ | PROT_WRITE);
	pattern_fill(self->buf.map, self->buf.size, 0, 1);
}

FIXTURE_TEARDOWN(mmap)
{
	buf_free(&self->buf);
	close(self->dev);
}

TEST_F(mmap, partial_map_at_offset)
{
	size_t off = 5 * self->ps, len = 3 * self->ps, size = self->buf.size;
	char *full = self->buf.map;
	char *win = test_map(self->buf.fd, len, PROT_READ | PROT_WRITE, off);

	/* the window sees the buffer's bytes at its offset */
	ASSERT_EQ(-1, pattern_check(win, len, off, 1));
	/* and writes through it land there in the full mapping */
	pattern_fill(win, len, off, 2);
	ASSERT_EQ(-1, pattern_check(full + off, len, off, 2));
	ASSERT_EQ(-1, pattern_check(full, off, 0, 1));
	ASSERT_EQ(-1, pattern_check(full + off + len, size - off - len, off + len, 1));
	ASSERT_EQ(0, munmap(win, len));
}

TEST_F(mmap, partial_map_last_page)
{
	size_t off = self->buf.size - self->ps;
	void *win = test_map(self->buf.fd, self->ps, PROT_READ, off);

	ASSERT_EQ(-1, pattern_check(win, self->ps, off, 1));
	ASSERT_EQ(0, munmap(win, self->ps));
}

/* CVE-2023-2008: growing the mapping must not expose memory past the buffer. */
TEST_F(mmap, mremap_grow_fails)
{
	void *p;

	p = mremap(self->buf.map, self->buf.size, 2 * self->buf.size, MREMAP_MAYMOVE);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EFAULT, errno);
	/* the original mapping is untouched */
	ASSERT_EQ(-1, pattern_check(self->buf.map, self->buf.size, 0, 1));
}

TEST_F(mmap, mremap_grow_in_place_fails)
{
	size_t half = self->buf.size / 2;
	void *win, *p;

	/* a half-size window has room to grow inside the buffer's bounds */
	win = test_map(self->buf.fd, half, PROT_READ, 0);
	p = mremap(win, half, self->buf.size, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, pattern_check(win, half, 0, 1));
	ASSERT_EQ(0, munmap(win, half));
}

TEST_F(mmap, mremap_move_keeps_data)
{
	void *p;

	p = mremap(self->buf.map, self->buf.size, self->buf.size, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, p);
	self->buf.map = p;
	ASSERT_EQ(-1, pattern_check(self->buf.map, self->buf.size, 0, 1));
}

/*
 * Mappings a 16-page buffer refuses, with EINVAL, or EACCES when they ask
 * to write an O_RDONLY buffer; nothing is mapped. Offset and length are in
 * pages; mappings are MAP_SHARED unless private.
 */
FIXTURE_VARIANT(bad_map) {
	off_t first;
	size_t pages;
	int prot;
	bool private;
	bool rdonly;
};

BUF_FIXTURE(bad_map, NPAGES * page_size(), variant->rdonly ? O_RDONLY : O_RDWR, PROT_NONE)

FIXTURE_VARIANT_ADD(bad_map, longer_than_buffer) { .pages = NPAGES + 1, .prot = PROT_READ };
FIXTURE_VARIANT_ADD(bad_map, at_end) { .first = NPAGES, .pages = 1, .prot = PROT_READ };
FIXTURE_VARIANT_ADD(bad_map, straddling_end) {
	.first = NPAGES - 1, .pages = 2, .prot = PROT_READ,
};
/* 2^62 bytes: far beyond the buffer, with no overflow in the VM's own checks */
FIXTURE_VARIANT_ADD(bad_map, huge_offset) {
	.first = (off_t)1 << 50, .pages = 1, .prot = PROT_READ,
};
FIXTURE_VARIANT_ADD(bad_map, private) {
	.pages = NPAGES, .prot = PROT_READ | PROT_WRITE, .private = true,
};
FIXTURE_VARIANT_ADD(bad_map, private_readonly) {
	.private = true, .pages = NPAGES, .prot = PROT_READ,
};
FIXTURE_VARIANT_ADD(bad_map, rdonly_read_write) {
	.rdonly = true, .pages = NPAGES, .prot = PROT_READ | PROT_WRITE,
};
FIXTURE_VARIANT_ADD(bad_map, rdonly_write) { .rdonly = true, .pages = NPAGES, .prot = PROT_WRITE };

TEST_F(bad_map, refused)
{
	size_t ps = page_size();
	void *p;

	p = mmap(NULL, variant->pages * ps, variant->prot,
		 variant->private ? MAP_PRIVATE : MAP_SHARED, self->buf.fd,
		 variant->first * ps);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(variant->rdonly ? EACCES : EINVAL, errno);
	ASSERT_EQ(0, test_row_mappings(self->buf.ino));
}

/* An O_RDONLY buffer: readable, and it stays read-only. */
BUF_FIXTURE(rdonly, 4 * page_size(), O_RDONLY | O_CLOEXEC, PROT_READ)

TEST_F(rdonly, read_map_works)
{
	ASSERT_EQ(-1, bytes_check(self->buf.map, self->buf.size, 0));
}

TEST_F(rdonly, mprotect_write_fails)
{
	ASSERT_EQ(-1, mprotect(self->buf.map, self->buf.size, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
}

TEST_HARNESS_MAIN
