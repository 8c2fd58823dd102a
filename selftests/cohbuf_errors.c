// SPDX-License-Identifier: GPL-2.0
/*
 * COHBUF_IOCTL_ALLOC error paths: one per test, each checking the errno of
 * the uapi contract and that a failed call leaves no fd and no buffer.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>

#include "cohbuf_harness.h"

/* A request the uapi refuses, with the errno it refuses it with. */
DEV_FIXTURE(bad_alloc)

FIXTURE_VARIANT(bad_alloc) {
	struct cohbuf_alloc req;
	int err;
};

FIXTURE_VARIANT_ADD(bad_alloc, fd_flags_wronly) {
	.req = { .size = SZ_4K, .fd_flags = O_WRONLY }, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(bad_alloc, fd_flags_accmode) {
	.req = { .size = SZ_4K, .fd_flags = O_ACCMODE }, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(bad_alloc, fd_flags_nonblock) {
	.req = { .size = SZ_4K, .fd_flags = O_RDWR | O_NONBLOCK }, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(bad_alloc, pad_nonzero) {
	.req = { .size = SZ_4K, .fd_flags = O_RDWR, .pad = 1 }, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(bad_alloc, reserved0_nonzero) {
	.req = { .size = SZ_4K, .fd_flags = O_RDWR, .reserved = { 1ULL << 63 } },
	.err = EINVAL,
};
FIXTURE_VARIANT_ADD(bad_alloc, reserved1_nonzero) {
	.req = { .size = SZ_4K, .fd_flags = O_RDWR, .reserved = { 0, 1 } },
	.err = EINVAL,
};
FIXTURE_VARIANT_ADD(bad_alloc, size_zero) {
	.req = { .size = 0, .fd_flags = O_RDWR }, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(bad_alloc, size_all_ones) {
	.req = { .size = ~0ULL, .fd_flags = O_RDWR }, .err = EINVAL,
};
/* Far beyond any limit, but without overflow in the page round-up. */
FIXTURE_VARIANT_ADD(bad_alloc, size_huge) {
	.req = { .size = 1ULL << 62, .fd_flags = O_RDWR }, .err = EFBIG,
};

TEST_F(bad_alloc, fails_leaving_nothing)
{
	int next_fd = lowest_free_fd();

	ASSERT_LE(0, next_fd);
	ASSERT_EQ(variant->err, alloc_errno(self->dev, &variant->req));
	ASSERT_EQ(next_fd, lowest_free_fd());
	assert_live(&self->base, 0, 0);
}

/* Ioctl numbers next to COHBUF_IOCTL_ALLOC, each with a valid argument. */
DEV_FIXTURE(bad_ioctl)
NEAR_IOCTL_VARIANTS(bad_ioctl, COHBUF_IOCTL_MAGIC, 0x00, struct cohbuf_alloc);

TEST_F(bad_ioctl, enotty)
{
	struct cohbuf_alloc req = { .size = SZ_4K, .fd_flags = O_RDWR, .fd = -1 };

	ASSERT_EQ(ENOTTY, ioctl_errno(self->dev, variant->cmd, &req))
		TH_LOG("ioctl %#lx", variant->cmd);
	assert_live(&self->base, 0, 0);
}

/* Requests built at run time, and the copy-in and copy-out of the argument. */
DEV_FIXTURE(errors)

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

/* The smallest size whose page round-up wraps around to 0. */
TEST_F(errors, size_round_up_overflows)
{
	struct cohbuf_alloc req = { .size = ~0ULL - page_size() + 2, .fd_flags = O_RDWR };

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

/* The argument is read from and written back to user memory. */
TEST_F(errors, efault_null)
{
	ASSERT_EQ(EFAULT, ioctl_errno(self->dev, COHBUF_IOCTL_ALLOC, NULL));
	assert_live(&self->base, 0, 0);
}

TEST_F(errors, efault_unmapped)
{
	void *p = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p, page_size()));
	ASSERT_EQ(EFAULT, ioctl_errno(self->dev, COHBUF_IOCTL_ALLOC, p));
	assert_live(&self->base, 0, 0);
}

/*
 * A valid request in read-only memory: the copy-in succeeds and only the
 * copy-out of the fd fails. No fd may be installed and no buffer survive.
 */
TEST_F(errors, efault_readonly_arg_leaks_nothing)
{
	struct cohbuf_alloc req = { .size = SZ_1M, .fd_flags = O_RDWR, .fd = -1 };
	void *arg = test_readonly_arg(&req);
	int next_fd = lowest_free_fd();

	ASSERT_LE(0, next_fd);
	ASSERT_EQ(EFAULT, ioctl_errno(self->dev, COHBUF_IOCTL_ALLOC, arg));
	/* the lowest free fd is still free: nothing was installed */
	ASSERT_EQ(next_fd, lowest_free_fd());
	assert_live(&self->base, 0, 0);
}

/*
 * With every fd below RLIMIT_NOFILE in use, allocation fails with EMFILE
 * and leaves no buffer behind; the next free fd is still the lowest one.
 */
TEST_F(errors, emfile_when_fd_table_full)
{
	enum { LIMIT = 64 };
	struct cohbuf_alloc req = { .size = SZ_1M, .fd_flags = O_RDWR | O_CLOEXEC };
	struct rlimit old;
	int fillers[LIMIT], n;

	n = test_fd_table_fill(self->dev, LIMIT, fillers, &old);
	EXPECT_EQ(EMFILE, alloc_errno(self->dev, &req));
	ASSERT_EQ(0, fd_table_release(fillers, n, &old));
	assert_live(&self->base, 0, 0);

	/* and the next allocation gets the lowest free fd */
	ASSERT_EQ(fillers[0], cohbuf_alloc(self->dev, SZ_1M, NULL, O_RDWR | O_CLOEXEC));
}

/* The limit on all buffers together, max_total_size. */
DEV_FIXTURE(total_cap)

TEST_F(total_cap, enomem_at_cap)
{
	uint64_t cap = self->base.bytes + 3 * SZ_1M;
	int fd[3], i;

	test_param_set(&self->params, "cohbuf", "max_total_size", cap);
	for (i = 0; i < 3; i++)
		fd[i] = test_alloc(self->dev, SZ_1M, O_RDWR);
	/* exactly full: not even one more page */
	ASSERT_EQ(-ENOMEM, cohbuf_alloc(self->dev, SZ_1M, NULL, O_RDWR));
	ASSERT_EQ(-ENOMEM, cohbuf_alloc(self->dev, 1, NULL, O_RDWR));
	assert_live(&self->base, 3, 3 * SZ_1M);

	/* freeing a buffer makes room again */
	ASSERT_EQ(0, close(fd[0]));
	fd[0] = test_alloc(self->dev, SZ_1M, O_RDWR);
	for (i = 0; i < 3; i++)
		close(fd[i]);
	assert_live(&self->base, 0, 0);
}

TEST_HARNESS_MAIN
