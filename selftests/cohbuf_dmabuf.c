// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf as a dma-buf: names, CPU access sync, and a real third-party
 * importer (vgem, through libdrm).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/dma-buf.h>
#include <xf86drm.h>

#include "cohbuf_harness.h"
#include "cohbuf_vgem.h"

#define BUF_SIZE	SZ_1M

BUF_FIXTURE(dmabuf, BUF_SIZE, O_RDWR | O_CLOEXEC, PROT_NONE)

TEST_F(dmabuf, fdinfo_exp_name_and_size)
{
	char val[64];

	ASSERT_EQ(0, fdinfo_field(self->buf.fd, "exp_name", val, sizeof(val)));
	ASSERT_STREQ("cohbuf", val);
	ASSERT_EQ(0, fdinfo_field(self->buf.fd, "size", val, sizeof(val)));
	ASSERT_EQ(BUF_SIZE, strtoull(val, NULL, 10));
	/* no name until one is set */
	ASSERT_EQ(-ENOENT, fdinfo_field(self->buf.fd, "name", val, sizeof(val)));
}

TEST_F(dmabuf, set_name)
{
	char val[64];

	ASSERT_EQ(0, cohbuf_set_name(self->buf.fd, "cohbuf-selftest"));
	ASSERT_EQ(0, fdinfo_field(self->buf.fd, "name", val, sizeof(val)));
	ASSERT_STREQ("cohbuf-selftest", val);
	ASSERT_EQ(0, fdinfo_field(self->buf.fd, "exp_name", val, sizeof(val)));
	ASSERT_STREQ("cohbuf", val);

	ASSERT_EQ(0, cohbuf_set_name(self->buf.fd, "renamed"));
	ASSERT_EQ(0, fdinfo_field(self->buf.fd, "name", val, sizeof(val)));
	ASSERT_STREQ("renamed", val);
}

TEST_F(dmabuf, set_name_longest)
{
	char name[DMA_BUF_NAME_LEN], val[64];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ASSERT_EQ(0, cohbuf_set_name(self->buf.fd, name));
	ASSERT_EQ(0, fdinfo_field(self->buf.fd, "name", val, sizeof(val)));
	ASSERT_STREQ(name, val);
}

TEST_F(dmabuf, set_name_too_long)
{
	char name[DMA_BUF_NAME_LEN + 1], val[64];

	ASSERT_EQ(0, cohbuf_set_name(self->buf.fd, "before"));
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ASSERT_EQ(-EINVAL, cohbuf_set_name(self->buf.fd, name));
	/* the old name stays */
	ASSERT_EQ(0, fdinfo_field(self->buf.fd, "name", val, sizeof(val)));
	ASSERT_STREQ("before", val);
}

/* errno of DMA_BUF_IOCTL_SYNC with @flags, or 0. */
static int sync_buf(int fd, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return ioctl_errno(fd, DMA_BUF_IOCTL_SYNC, &sync);
}

TEST_F(dmabuf, sync_invalid_flags)
{
	int bit;

	/* no direction, at start and at end */
	ASSERT_EQ(EINVAL, sync_buf(self->buf.fd, DMA_BUF_SYNC_START));
	ASSERT_EQ(EINVAL, sync_buf(self->buf.fd, DMA_BUF_SYNC_END));
	for (bit = 0; bit < 64; bit++) {
		uint64_t f = 1ULL << bit;

		if (f & DMA_BUF_SYNC_VALID_FLAGS_MASK)
			continue;
		EXPECT_EQ(EINVAL, sync_buf(self->buf.fd, f | DMA_BUF_SYNC_RW))
			TH_LOG("sync flags bit %d", bit);
	}
}

/* begin/end CPU access in each direction, around real accesses */
FIXTURE_VARIANT(sync) {
	uint64_t dir;
};

BUF_FIXTURE(sync, BUF_SIZE, O_RDWR | O_CLOEXEC, PROT_READ | PROT_WRITE)

FIXTURE_VARIANT_ADD(sync, read) { .dir = DMA_BUF_SYNC_READ };
FIXTURE_VARIANT_ADD(sync, write) { .dir = DMA_BUF_SYNC_WRITE };
FIXTURE_VARIANT_ADD(sync, rw) { .dir = DMA_BUF_SYNC_RW };

TEST_F(sync, start_end)
{
	ASSERT_EQ(0, sync_buf(self->buf.fd, DMA_BUF_SYNC_START | variant->dir));
	pattern_fill(self->buf.map, BUF_SIZE, 0, 4);
	ASSERT_EQ(0, sync_buf(self->buf.fd, DMA_BUF_SYNC_END | variant->dir));
	ASSERT_EQ(0, sync_buf(self->buf.fd, DMA_BUF_SYNC_START | variant->dir));
	ASSERT_EQ(-1, pattern_check(self->buf.map, BUF_SIZE, 0, 4));
	ASSERT_EQ(0, sync_buf(self->buf.fd, DMA_BUF_SYNC_END | variant->dir));
}

/*
 * vgem: a real importer. Importing attaches and maps our buffer against
 * vgem's platform device; closing the GEM handle must detach it again.
 */
FIXTURE(vgem) {
	int dev;
	int vgem;
	struct test_buf buf;
	struct counters base;
	int exported;
	uint32_t handle;
	bool have_handle;
};

FIXTURE_SETUP(vgem)
{
	int ret;

	self->vgem = vgem_open(&ret);
	if (self->vgem < 0)
		SKIP(return, "no vgem device (modprobe vgem: status %d)", ret);
	self->exported = -1;
	self->dev = test_open();
	test_counters(&self->base);
	test_buf_alloc(&self->buf, self->dev, BUF_SIZE, O_RDWR | O_CLOEXEC,
		       PROT_READ | PROT_WRITE);
	pattern_fill(self->buf.map, BUF_SIZE, 0, 5);
}

static int gem_close(int vgem, uint32_t handle)
{
	struct drm_gem_close arg = { .handle = handle };

	return drmIoctl(vgem, DRM_IOCTL_GEM_CLOSE, &arg) ? -errno : 0;
}

FIXTURE_TEARDOWN(vgem)
{
	if (self->exported >= 0)
		close(self->exported);
	if (self->have_handle)
		gem_close(self->vgem, self->handle);
	buf_free(&self->buf);
	close(self->dev);
	close(self->vgem);
}

/* bufinfo and our debugfs both list @n attachments to @ino, all of them vgem's. */
static void assert_attached(struct __test_metadata *_metadata, uint64_t ino, int n)
{
	struct cohbuf_entry row;
	int count, named;

	count = bufinfo_attachments(ino, "vgem", &named);
	ASSERT_EQ(n, count) TH_LOG("attachments of ino %llu in %s",
				   (unsigned long long)ino, DMABUF_BUFINFO);
	ASSERT_EQ(n, named);
	test_row(ino, &row);
	ASSERT_EQ(n, row.attachments);
}

static void _vgem_import(struct __test_metadata *_metadata, FIXTURE_DATA(vgem) *self)
{
	int ret = drmPrimeFDToHandle(self->vgem, self->buf.fd, &self->handle);

	ASSERT_EQ(0, ret) TH_LOG("drmPrimeFDToHandle: %s", strerror(errno));
	self->have_handle = true;
}
/* Imports the buffer into vgem, which attaches and maps it: self->handle. */
#define vgem_import() _vgem_import(_metadata, self)

static void _vgem_close(struct __test_metadata *_metadata, FIXTURE_DATA(vgem) *self)
{
	ASSERT_EQ(0, gem_close(self->vgem, self->handle));
	self->have_handle = false;
}
/* Closes vgem's handle of the buffer, which detaches it. */
#define vgem_close() _vgem_close(_metadata, self)

TEST_F(vgem, import_attaches_and_close_detaches)
{
	assert_attached(_metadata, self->buf.ino, 0);
	vgem_import();
	assert_attached(_metadata, self->buf.ino, 1);

	vgem_close();
	assert_attached(_metadata, self->buf.ino, 0);
}

TEST_F(vgem, reexport_is_same_buffer)
{
	uint64_t ino;
	void *map;

	vgem_import();
	ASSERT_EQ(0, drmPrimeHandleToFD(self->vgem, self->handle,
					DRM_CLOEXEC | DRM_RDWR, &self->exported));
	ASSERT_EQ(0, cohbuf_ino(self->exported, &ino));
	ASSERT_EQ(self->buf.ino, ino);

	/* CPU access through the returned fd reaches the same memory */
	map = test_map(self->exported, BUF_SIZE, PROT_READ | PROT_WRITE, 0);
	ASSERT_EQ(-1, pattern_check(map, BUF_SIZE, 0, 5));
	pattern_fill(map, BUF_SIZE, 0, 6);
	ASSERT_EQ(0, munmap(map, BUF_SIZE));
	ASSERT_EQ(-1, pattern_check(self->buf.map, BUF_SIZE, 0, 6));

	ASSERT_EQ(0, close(self->exported));
	self->exported = -1;
	vgem_close();
	assert_attached(_metadata, self->buf.ino, 0);
}

/* Importing the same dma-buf twice gives the same handle and one attachment. */
TEST_F(vgem, import_twice_same_handle)
{
	uint32_t again;

	vgem_import();
	ASSERT_EQ(0, drmPrimeFDToHandle(self->vgem, self->buf.fd, &again));
	ASSERT_EQ(self->handle, again);
	assert_attached(_metadata, self->buf.ino, 1);
	vgem_close();
	assert_attached(_metadata, self->buf.ino, 0);
}

/* The importer alone keeps the buffer; closing its handle frees it. */
TEST_F(vgem, importer_holds_buffer)
{
	int named;

	vgem_import();
	ASSERT_EQ(0, munmap(self->buf.map, BUF_SIZE));
	self->buf.map = NULL;
	ASSERT_EQ(0, close(self->buf.fd));
	self->buf.fd = -1;

	assert_live(&self->base, 1, BUF_SIZE);
	assert_attached(_metadata, self->buf.ino, 1);

	vgem_close();
	assert_no_row(self->buf.ino);
	ASSERT_EQ(-ENOENT, bufinfo_attachments(self->buf.ino, "vgem", &named));
	assert_live(&self->base, 0, 0);
}

TEST_HARNESS_MAIN
