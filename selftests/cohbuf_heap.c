// SPDX-License-Identifier: GPL-2.0
/*
 * DMA_HEAP_IOCTL_ALLOC on the cohbuf heap nodes and on /dev/cohbuf, beyond
 * what the kernel's own dma-heap selftest (cohbuf_heap_upstream) covers:
 * each node's memory is what its name says, the fd flags, each bad input's
 * errno as drivers/dma-buf/dma-heap.c gives it, no fd left by a failed
 * call, cohbuf's limits, and the links 'cohbuf heap' makes and removes.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/dma-heap.h>

#include "cohbuf_harness.h"

#define SZ_4G		(4096 * SZ_1M)
#define MAX_RANGES	64
#define HEAP_DIR	"/dev/dma_heap"
/* More than the buddy allocator's largest block: several chunks. */
#define POLICY_SIZE	(3 * SZ_1M)

/* A newer struct than the kernel's: three fields more. */
struct heap_data_newer {
	struct dma_heap_allocation_data data;
	__u64 extra[3];
};

/* An older one, without heap_flags. */
struct heap_data_older {
	__u64 len;
	__u32 fd;
	__u32 fd_flags;
};

#define HEAP_IOCTL_OLDER _IOWR(DMA_HEAP_IOC_MAGIC, 0, struct heap_data_older)
#define HEAP_IOCTL_NEWER _IOWR(DMA_HEAP_IOC_MAGIC, 0, struct heap_data_newer)

/* The heap ioctl on @node: the fd, or -errno. */
static int heap_alloc(int node, uint64_t len, uint32_t fd_flags,
		      uint64_t heap_flags)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = fd_flags,
		.heap_flags = heap_flags,
	};
	int ret = ioctl_errno(node, DMA_HEAP_IOCTL_ALLOC, &data);

	return ret ? -ret : (int)data.fd;
}

/* A failed call's errno, and that it left no fd behind. */
static void _assert_heap_errno(struct __test_metadata *_metadata, int err,
			       int node, unsigned long cmd, void *arg)
{
	int before = lowest_free_fd();

	ASSERT_EQ(err, ioctl_errno(node, cmd, arg));
	ASSERT_EQ(before, lowest_free_fd());
}
#define assert_heap_errno(err, node, cmd, arg) \
	_assert_heap_errno(_metadata, err, node, cmd, arg)

/* The ranges of @fd's buffer, from COHBUF_IOCTL_INFO on @dev. */
static void _test_ranges(struct __test_metadata *_metadata, int dev, int fd,
			 struct cohbuf_info *info, struct cohbuf_range *ranges)
{
	memset(info, 0, sizeof(*info));
	info->fd = fd;
	info->ranges_cap = MAX_RANGES;
	info->ranges = (uintptr_t)ranges;
	ASSERT_EQ(0, ioctl_errno(dev, COHBUF_IOCTL_INFO, info));
	ASSERT_GE(MAX_RANGES, info->nr_ranges);
}
#define test_ranges(dev, fd, info, ranges) _test_ranges(_metadata, dev, fd, info, ranges)

FIXTURE(heap) {
	int dev;
	int node;
};

FIXTURE_VARIANT(heap) {
	const char *path;
	uint32_t flags;	/* the policy the node's name promises */
};

FIXTURE_VARIANT_ADD(heap, coherent) {
	.path = "/dev/cohbuf-heap-coherent", .flags = 0
};
FIXTURE_VARIANT_ADD(heap, contiguous) {
	.path = "/dev/cohbuf-heap-coherent-contiguous",
	.flags = COHBUF_ALLOC_CONTIGUOUS
};
FIXTURE_VARIANT_ADD(heap, contiguous_dma32) {
	.path = "/dev/cohbuf-heap-coherent-contiguous-dma32",
	.flags = COHBUF_ALLOC_CONTIGUOUS | COHBUF_ALLOC_DMA32
};
FIXTURE_VARIANT_ADD(heap, cohbuf) {
	.path = COHBUF_DEVICE, .flags = 0
};

FIXTURE_SETUP(heap)
{
	self->dev = test_open();
	self->node = open(variant->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->node) TH_LOG("open %s: %s", variant->path, strerror(errno));
}

FIXTURE_TEARDOWN(heap)
{
	close(self->node);
	close(self->dev);
}

/* The node's memory has its policy: INFO's flags, one range, below 4 GiB. */
TEST_F(heap, policy)
{
	struct cohbuf_range ranges[MAX_RANGES];
	struct cohbuf_info info;
	uint32_t i;
	int fd;

	fd = heap_alloc(self->node, POLICY_SIZE, O_RDWR | O_CLOEXEC, 0);
	ASSERT_LE(0, fd) TH_LOG("heap alloc: %s", strerror(-fd));
	test_ranges(self->dev, fd, &info, ranges);
	ASSERT_EQ(variant->flags, info.flags);
	ASSERT_EQ(POLICY_SIZE, info.size);
	if (variant->flags & COHBUF_ALLOC_CONTIGUOUS)
		ASSERT_EQ(1, info.nr_ranges);
	if (variant->flags & COHBUF_ALLOC_DMA32) {
		/* Root has CAP_SYS_RAWIO: the DMA addresses are there. */
		ASSERT_TRUE(info.info_flags & COHBUF_INFO_DMA_ADDR);
		for (i = 0; i < info.nr_ranges; i++)
			ASSERT_GE(SZ_4G, ranges[i].dma_addr + ranges[i].size);
	}
	close(fd);
}

/* The length is rounded up to whole pages, as the heap framework does. */
TEST_F(heap, page_rounded)
{
	int fd = heap_alloc(self->node, 1, O_RDWR, 0);

	ASSERT_LE(0, fd) TH_LOG("heap alloc: %s", strerror(-fd));
	ASSERT_EQ((off_t)page_size(), lseek(fd, 0, SEEK_END));
	close(fd);
}

/* The access mode becomes the file's; O_CLOEXEC the fd's. */
TEST_F(heap, fd_flags)
{
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR };
	size_t i;
	int fd;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		fd = heap_alloc(self->node, page_size(), modes[i], 0);
		ASSERT_LE(0, fd) TH_LOG("mode %d: %s", modes[i], strerror(-fd));
		ASSERT_EQ(modes[i], fcntl(fd, F_GETFL) & O_ACCMODE);
		ASSERT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);
	}
	fd = heap_alloc(self->node, page_size(), O_RDWR | O_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

/* An O_RDONLY buffer cannot be mapped for writing. */
TEST_F(heap, rdonly_map)
{
	int fd = heap_alloc(self->node, page_size(), O_RDONLY, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(MAP_FAILED, map_shared(fd, page_size(), PROT_READ | PROT_WRITE, 0));
	ASSERT_EQ(EACCES, errno);
	close(fd);
}

/* Each argument dma_heap_ioctl_allocate() refuses, with EINVAL. */
TEST_F(heap, invalid_arguments)
{
	struct dma_heap_allocation_data data = {
		.len = page_size(), .fd_flags = O_RDWR,
	};

	data.fd = 3;
	assert_heap_errno(EINVAL, self->node, DMA_HEAP_IOCTL_ALLOC, &data);
	data.fd = 0;
	data.fd_flags = O_RDWR | O_NONBLOCK;
	assert_heap_errno(EINVAL, self->node, DMA_HEAP_IOCTL_ALLOC, &data);
	data.fd_flags = O_RDWR;
	data.heap_flags = 1;
	assert_heap_errno(EINVAL, self->node, DMA_HEAP_IOCTL_ALLOC, &data);
	data.heap_flags = 1ULL << 63;
	assert_heap_errno(EINVAL, self->node, DMA_HEAP_IOCTL_ALLOC, &data);
	data.heap_flags = 0;
	data.len = 0;
	assert_heap_errno(EINVAL, self->node, DMA_HEAP_IOCTL_ALLOC, &data);
	/* Page-aligned, it wraps to 0. */
	data.len = UINT64_MAX;
	assert_heap_errno(EINVAL, self->node, DMA_HEAP_IOCTL_ALLOC, &data);
}

/* A valid one-page request sent as @request, which the node refuses. */
static void assert_request_refused(struct __test_metadata *_metadata,
				   int node, unsigned long request)
{
	struct dma_heap_allocation_data data = {
		.len = page_size(), .fd_flags = O_RDWR,
	};

	assert_heap_errno(EINVAL, node, request, &data);
}

/* The heap ioctl has one number: any other is EINVAL, not ENOTTY. */
TEST_F(heap, other_number)
{
	assert_request_refused(_metadata, self->node,
			       _IOWR(DMA_HEAP_IOC_MAGIC, 1, struct dma_heap_allocation_data));
}

/* Without the write direction nothing is read: the length is 0. */
TEST_F(heap, no_write_direction)
{
	assert_request_refused(_metadata, self->node,
			       _IOR(DMA_HEAP_IOC_MAGIC, 0, struct dma_heap_allocation_data));
}

/* An older struct is zero-extended: no heap_flags is heap_flags 0. */
TEST_F(heap, older_struct)
{
	struct heap_data_older data = {
		.len = page_size(), .fd_flags = O_RDWR | O_CLOEXEC,
	};

	ASSERT_EQ(0, ioctl_errno(self->node, HEAP_IOCTL_OLDER, &data));
	ASSERT_EQ((off_t)page_size(), lseek(data.fd, 0, SEEK_END));
	close(data.fd);
}

/* A newer struct's extra fields are ignored and come back unchanged. */
TEST_F(heap, newer_struct)
{
	struct heap_data_newer data = {
		.data = { .len = page_size(), .fd_flags = O_RDWR | O_CLOEXEC },
		.extra = { 0xffffffff, 0x88888888, ~0ULL },
	};

	ASSERT_EQ(0, ioctl_errno(self->node, HEAP_IOCTL_NEWER, &data));
	ASSERT_EQ((off_t)page_size(), lseek(data.data.fd, 0, SEEK_END));
	ASSERT_EQ(0xffffffff, data.extra[0]);
	ASSERT_EQ(0x88888888, data.extra[1]);
	ASSERT_EQ(~0ULL, data.extra[2]);
	close(data.data.fd);

	data.data.fd = 0;
	data.data.heap_flags = 1;
	assert_heap_errno(EINVAL, self->node, HEAP_IOCTL_NEWER, &data);
}

/* A bad pointer, or one the fd cannot be written back to: EFAULT, no fd. */
TEST_F(heap, fault)
{
	struct dma_heap_allocation_data data = {
		.len = page_size(), .fd_flags = O_RDWR,
	};
	void *ro;

	assert_heap_errno(EFAULT, self->node, DMA_HEAP_IOCTL_ALLOC, NULL);
	ro = readonly_copy(&data, sizeof(data));
	ASSERT_NE(MAP_FAILED, ro);
	assert_heap_errno(EFAULT, self->node, DMA_HEAP_IOCTL_ALLOC, ro);
	munmap(ro, page_size());
}

/* cohbuf's limits apply, with cohbuf's errno. */
TEST_F(heap, limits)
{
	struct dma_heap_allocation_data data = { .fd_flags = O_RDWR };
	uint64_t max;

	ASSERT_EQ(0, module_param_get("cohbuf", "max_buffer_size", &max));
	data.len = max + page_size();
	assert_heap_errno(EFBIG, self->node, DMA_HEAP_IOCTL_ALLOC, &data);
	if (!(variant->flags & COHBUF_ALLOC_CONTIGUOUS))
		return;
	ASSERT_EQ(0, module_param_get("cohbuf", "max_contiguous_size", &max));
	data.len = max + page_size();
	assert_heap_errno(E2BIG, self->node, DMA_HEAP_IOCTL_ALLOC, &data);
}

/* The node has /dev/cohbuf's owner and mode. */
TEST_F(heap, permissions)
{
	struct stat dev, node;

	ASSERT_EQ(0, stat(COHBUF_DEVICE, &dev));
	ASSERT_EQ(0, stat(variant->path, &node));
	ASSERT_TRUE(S_ISCHR(node.st_mode));
	ASSERT_EQ(dev.st_mode, node.st_mode);
	ASSERT_EQ(dev.st_uid, node.st_uid);
	ASSERT_EQ(dev.st_gid, node.st_gid);
}

/* ---- the links of 'cohbuf heap' ---- */

/* An entry that is not cohbuf's: a kernel heap's stand-in. */
#define TAKEN		"cohbuf-selftest-taken"

FIXTURE(links) {
	char cli[PATH_MAX];
};

/* cohbuf heap ARGS...: the exit status, or -1. */
static int run_cli(const char *cli, const char *args)
{
	char cmd[PATH_MAX + 128];
	int status;

	snprintf(cmd, sizeof(cmd), "%s heap %s >/dev/null 2>&1", cli, args);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Where @entry in /dev/dma_heap points, or "" if it is no link. */
static const char *link_target(const char *entry)
{
	static char target[PATH_MAX];
	char path[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), HEAP_DIR "/%s", entry);
	n = readlink(path, target, sizeof(target) - 1);
	target[n < 0 ? 0 : n] = '\0';
	return target;
}

FIXTURE_SETUP(links)
{
	struct stat st;

	ASSERT_EQ(0, exe_sibling("../tools/cohbuf", self->cli, sizeof(self->cli)));
	ASSERT_EQ(0, access(self->cli, X_OK)) TH_LOG("%s: %s", self->cli, strerror(errno));
	ASSERT_EQ(0, run_cli(self->cli, "unlink"));
	ASSERT_NE(0, lstat(HEAP_DIR "/" TAKEN, &st));
}

FIXTURE_TEARDOWN(links)
{
	unlink(HEAP_DIR "/" TAKEN);
	run_cli(self->cli, "unlink");
}

/* link makes every node's link, and the link works as a heap. */
TEST_F(links, link_and_use)
{
	int node, fd;

	ASSERT_EQ(0, run_cli(self->cli, "link"));
	ASSERT_STREQ("../cohbuf-heap-coherent", link_target("coherent"));
	ASSERT_STREQ("../cohbuf-heap-coherent-contiguous",
		     link_target("coherent-contiguous"));
	ASSERT_STREQ("../cohbuf-heap-coherent-contiguous-dma32",
		     link_target("coherent-contiguous-dma32"));
	/* Again: already there, fine. */
	ASSERT_EQ(0, run_cli(self->cli, "link"));

	node = open(HEAP_DIR "/coherent-contiguous", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, node);
	fd = heap_alloc(node, page_size(), O_RDWR, 0);
	ASSERT_LE(0, fd);
	close(fd);
	close(node);
}

/* An existing entry is never replaced, and unlink leaves it alone. */
TEST_F(links, never_replaces)
{
	struct stat st;
	int fd;

	ASSERT_EQ(0, run_cli(self->cli, "link coherent"));
	fd = open(HEAP_DIR "/" TAKEN, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(1, run_cli(self->cli, "link coherent --as " TAKEN));
	ASSERT_EQ(0, lstat(HEAP_DIR "/" TAKEN, &st));
	ASSERT_TRUE(S_ISREG(st.st_mode));
	/* Nor a kernel heap: 6.12's system, where there is one. */
	if (!lstat(HEAP_DIR "/system", &st) && S_ISCHR(st.st_mode)) {
		ASSERT_EQ(1, run_cli(self->cli, "link coherent --as system"));
		ASSERT_EQ(0, lstat(HEAP_DIR "/system", &st));
		ASSERT_TRUE(S_ISCHR(st.st_mode));
	}

	ASSERT_EQ(0, run_cli(self->cli, "unlink"));
	ASSERT_STREQ("", link_target("coherent"));
	ASSERT_EQ(0, lstat(HEAP_DIR "/" TAKEN, &st));
}

/* An alias of the user's choice, removed by its name. */
TEST_F(links, alias)
{
	ASSERT_EQ(0, run_cli(self->cli, "link coherent-contiguous --as cohbuf-selftest-alias"));
	ASSERT_STREQ("../cohbuf-heap-coherent-contiguous",
		     link_target("cohbuf-selftest-alias"));
	ASSERT_EQ(0, run_cli(self->cli, "link coherent"));
	ASSERT_EQ(0, run_cli(self->cli, "unlink cohbuf-selftest-alias"));
	ASSERT_STREQ("", link_target("cohbuf-selftest-alias"));
	ASSERT_STREQ("../cohbuf-heap-coherent", link_target("coherent"));
}

/* Names that are not one path component, and unknown nodes. */
TEST_F(links, bad_names)
{
	ASSERT_EQ(2, run_cli(self->cli, "link ../cohbuf"));
	ASSERT_EQ(2, run_cli(self->cli, "link coherent --as a/b"));
	ASSERT_EQ(1, run_cli(self->cli, "link no-such-heap"));
}

TEST_HARNESS_MAIN
