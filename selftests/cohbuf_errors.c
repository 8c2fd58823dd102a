// SPDX-License-Identifier: GPL-2.0
/*
 * COHBUF_IOCTL_ALLOC error paths: one per test, each checking the errno of
 * the uapi contract and that a failed call leaves no fd and no buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "cohbuf_harness.h"

FIXTURE(errors) {
	int dev;
	struct live base;
};

FIXTURE_SETUP(errors)
{
	self->dev = test_open();
	test_live(&self->base);
}

FIXTURE_TEARDOWN(errors)
{
	close(self->dev);
}

TEST_F(errors, flags_each_unknown_bit)
{
	struct cohbuf_alloc req = { .size = SZ_4K, .fd_flags = O_RDWR };
	int bit;

	for (bit = 0; bit < 32; bit++) {
		req.flags = 1U << bit;
		if (req.flags & COHBUF_ALLOC_VALID_FLAGS)
			continue;
		EXPECT_EQ(EINVAL, alloc_errno(self->dev, &req))
			TH_LOG("flags bit %d", bit);
	}
	assert_live(&self->base, 0, 0);
}

TEST_F(errors, fd_flags_each_unknown_bit)
{
	struct cohbuf_alloc req = { .size = SZ_4K };
	int bit, acc;

	for (bit = 0; bit < 32; bit++) {
		uint32_t f = 1U << bit;

		if (f == O_RDWR || f == O_CLOEXEC)
			continue;
		/* alone (O_RDONLY | f) and with the valid O_RDWR | O_CLOEXEC */
		for (acc = 0; acc < 2; acc++) {
			req.fd_flags = f | (acc ? O_RDWR | O_CLOEXEC : 0);
			EXPECT_EQ(EINVAL, alloc_errno(self->dev, &req))
				TH_LOG("fd_flags %#x", req.fd_flags);
		}
	}
	assert_live(&self->base, 0, 0);
}

TEST_F(errors, fd_flags_wronly)
{
	struct cohbuf_alloc req = { .size = SZ_4K, .fd_flags = O_WRONLY };

	ASSERT_EQ(EINVAL, alloc_errno(self->dev, &req));
	assert_live(&self->base, 0, 0);
}

TEST_F(errors, fd_flags_accmode)
{
	struct cohbuf_alloc req = { .size = SZ_4K, .fd_flags = O_ACCMODE };

	ASSERT_EQ(EINVAL, alloc_errno(self->dev, &req));
	assert_live(&self->base, 0, 0);
}

TEST_F(errors, fd_flags_nonblock)
{
	struct cohbuf_alloc req = { .size = SZ_4K, .fd_flags = O_RDWR | O_NONBLOCK };

	ASSERT_EQ(EINVAL, alloc_errno(self->dev, &req));
	assert_live(&self->base, 0, 0);
}

TEST_F(errors, pad_nonzero)
{
	struct cohbuf_alloc req = { .size = SZ_4K, .fd_flags = O_RDWR, .pad = 1 };

	ASSERT_EQ(EINVAL, alloc_errno(self->dev, &req));
	assert_live(&self->base, 0, 0);
}

TEST_F(errors, reserved0_nonzero)
{
	struct cohbuf_alloc req = { .size = SZ_4K, .fd_flags = O_RDWR };

	req.reserved[0] = 1ULL << 63;
	ASSERT_EQ(EINVAL, alloc_errno(self->dev, &req));
	assert_live(&self->base, 0, 0);
}

TEST_F(errors, reserved1_nonzero)
{
	struct cohbuf_alloc req = { .size = SZ_4K, .fd_flags = O_RDWR };

	req.reserved[1] = 1;
	ASSERT_EQ(EINVAL, alloc_errno(self->dev, &req));
	assert_live(&self->base, 0, 0);
}

TEST_F(errors, size_zero)
{
	struct cohbuf_alloc req = { .size = 0, .fd_flags = O_RDWR };

	ASSERT_EQ(EINVAL, alloc_errno(self->dev, &req));
	assert_live(&self->base, 0, 0);
}

TEST_F(errors, size_all_ones)
{
	struct cohbuf_alloc req = { .size = ~0ULL, .fd_flags = O_RDWR };

	ASSERT_EQ(EINVAL, alloc_errno(self->dev, &req));
	assert_live(&self->base, 0, 0);
}

/* The smallest size whose page round-up wraps around to 0. */
TEST_F(errors, size_round_up_overflows)
{
	struct cohbuf_alloc req = { .fd_flags = O_RDWR };

	req.size = ~0ULL - page_size() + 2;
	ASSERT_EQ(EINVAL, alloc_errno(self->dev, &req));
	assert_live(&self->base, 0, 0);
}

TEST_F(errors, size_above_max_buffer_size)
{
	struct cohbuf_alloc req = { .fd_flags = O_RDWR };
	uint64_t max;

	ASSERT_EQ(0, module_param_get("cohbuf", "max_buffer_size", &max));
	ASSERT_GT(~0ULL - page_size(), max);
	req.size = max + 1;
	ASSERT_EQ(EFBIG, alloc_errno(self->dev, &req));
	assert_live(&self->base, 0, 0);
}

/* Far beyond any limit, but without overflow in the page round-up. */
TEST_F(errors, size_huge)
{
	struct cohbuf_alloc req = { .size = 1ULL << 62, .fd_flags = O_RDWR };

	ASSERT_EQ(EFBIG, alloc_errno(self->dev, &req));
	assert_live(&self->base, 0, 0);
}

/* The argument is read from and written back to user memory. */
TEST_F(errors, efault_null)
{
	ASSERT_EQ(-1, ioctl(self->dev, COHBUF_IOCTL_ALLOC, NULL));
	ASSERT_EQ(EFAULT, errno);
	assert_live(&self->base, 0, 0);
}

TEST_F(errors, efault_unmapped)
{
	void *p = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p, page_size()));
	ASSERT_EQ(-1, ioctl(self->dev, COHBUF_IOCTL_ALLOC, p));
	ASSERT_EQ(EFAULT, errno);
	assert_live(&self->base, 0, 0);
}

/*
 * A valid request in read-only memory: the copy-in succeeds and only the
 * copy-out of the fd fails. No fd may be installed and no buffer survive.
 */
TEST_F(errors, efault_readonly_arg_leaks_nothing)
{
	struct cohbuf_alloc *req;
	int next_fd, fd;

	req = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, req);
	req->size = SZ_1M;
	req->fd_flags = O_RDWR;
	req->fd = -1;
	ASSERT_EQ(0, mprotect(req, page_size(), PROT_READ));

	next_fd = dup(self->dev);
	ASSERT_LE(0, next_fd);
	close(next_fd);

	ASSERT_EQ(-1, ioctl(self->dev, COHBUF_IOCTL_ALLOC, req));
	ASSERT_EQ(EFAULT, errno);

	/* the lowest free fd is still free: nothing was installed */
	fd = dup(self->dev);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(next_fd, fd);
	assert_live(&self->base, 0, 0);
	munmap(req, page_size());
}

/* Ioctl numbers that are not COHBUF_IOCTL_ALLOC, each with a valid argument. */
static void expect_enotty(struct __test_metadata *_metadata, int dev,
			  const struct live *base, unsigned long cmd)
{
	struct cohbuf_alloc req = { .size = SZ_4K, .fd_flags = O_RDWR, .fd = -1 };
	int ret;

	ret = ioctl(dev, cmd, &req);
	if (!ret && req.fd >= 0)
		close(req.fd);
	ASSERT_EQ(-1, ret) TH_LOG("ioctl %#lx", cmd);
	ASSERT_EQ(ENOTTY, errno) TH_LOG("ioctl %#lx", cmd);
	assert_live(base, 0, 0);
}

TEST_F(errors, enotty_other_nr)
{
	expect_enotty(_metadata, self->dev, &self->base,
		      _IOWR(COHBUF_IOCTL_MAGIC, 0x01, struct cohbuf_alloc));
	expect_enotty(_metadata, self->dev, &self->base,
		      _IOWR(COHBUF_IOCTL_MAGIC, 0xff, struct cohbuf_alloc));
}

TEST_F(errors, enotty_other_magic)
{
	expect_enotty(_metadata, self->dev, &self->base, _IOWR('X', 0x00, struct cohbuf_alloc));
	expect_enotty(_metadata, self->dev, &self->base,
		      _IOWR(COHBUF_IOCTL_MAGIC + 1, 0x00, struct cohbuf_alloc));
}

TEST_F(errors, enotty_wrong_size)
{
	expect_enotty(_metadata, self->dev, &self->base, _IOWR(COHBUF_IOCTL_MAGIC, 0x00, __u64));
	expect_enotty(_metadata, self->dev, &self->base,
		      _IOC(_IOC_READ | _IOC_WRITE, COHBUF_IOCTL_MAGIC, 0x00,
			   sizeof(struct cohbuf_alloc) + 8));
}

TEST_F(errors, enotty_wrong_direction)
{
	expect_enotty(_metadata, self->dev, &self->base,
		      _IOW(COHBUF_IOCTL_MAGIC, 0x00, struct cohbuf_alloc));
	expect_enotty(_metadata, self->dev, &self->base,
		      _IOR(COHBUF_IOCTL_MAGIC, 0x00, struct cohbuf_alloc));
	expect_enotty(_metadata, self->dev, &self->base, _IO(COHBUF_IOCTL_MAGIC, 0x00));
}

/*
 * With every fd below RLIMIT_NOFILE in use, allocation fails with EMFILE
 * and leaves no buffer behind; the next free fd is still the lowest one.
 */
TEST_F(errors, emfile_when_fd_table_full)
{
	enum { LIMIT = 64 };
	struct rlimit old;
	int fillers[LIMIT], n, fd, ret;

	n = fd_table_fill(self->dev, LIMIT, fillers, &old);
	ASSERT_LT(0, n) TH_LOG("filling the fd table: %s", strerror(-n));

	ret = cohbuf_alloc(self->dev, SZ_1M, NULL, O_RDWR | O_CLOEXEC);
	if (ret >= 0)
		close(ret);
	EXPECT_EQ(-EMFILE, ret);

	ASSERT_EQ(0, fd_table_release(fillers, n, &old));
	assert_live(&self->base, 0, 0);

	/* and the next allocation gets the lowest free fd */
	fd = cohbuf_alloc(self->dev, SZ_1M, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_EQ(fillers[0], fd);
	close(fd);
}

/*
 * Tests that lower max_total_size. The teardown runs in the harness's
 * parent process, after the test process and all its buffers are gone, so
 * the limit is restored even when an assertion cut the test short.
 */
FIXTURE(total_cap) {
	int dev;
	uint64_t saved;
	bool changed;
};

FIXTURE_SETUP(total_cap)
{
	self->dev = test_open();
	ASSERT_EQ(0, module_param_get("cohbuf", "max_total_size", &self->saved));
}

FIXTURE_TEARDOWN_PARENT(total_cap)
{
	if (self->changed)
		EXPECT_EQ(0, module_param_set("cohbuf", "max_total_size", self->saved));
}

TEST_F(total_cap, enomem_at_cap)
{
	struct live base;
	uint64_t cap;
	int fd[3], i;

	test_live(&base);
	cap = base.bytes + 3 * SZ_1M;
	self->changed = true;
	ASSERT_EQ(0, module_param_set("cohbuf", "max_total_size", cap));

	for (i = 0; i < 3; i++) {
		fd[i] = cohbuf_alloc(self->dev, SZ_1M, NULL, O_RDWR);
		ASSERT_LE(0, fd[i]) TH_LOG("buffer %d of 3 under the cap: %s",
					   i, strerror(-fd[i]));
	}
	/* exactly full: not even one more page */
	ASSERT_EQ(-ENOMEM, cohbuf_alloc(self->dev, SZ_1M, NULL, O_RDWR));
	ASSERT_EQ(-ENOMEM, cohbuf_alloc(self->dev, 1, NULL, O_RDWR));
	assert_live(&base, 3, 3 * SZ_1M);

	/* freeing a buffer makes room again */
	ASSERT_EQ(0, close(fd[0]));
	fd[0] = cohbuf_alloc(self->dev, SZ_1M, NULL, O_RDWR);
	ASSERT_LE(0, fd[0]);
	for (i = 0; i < 3; i++)
		close(fd[i]);
	assert_live(&base, 0, 0);
}

TEST_HARNESS_MAIN
