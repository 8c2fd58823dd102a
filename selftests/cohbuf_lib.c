// SPDX-License-Identifier: GPL-2.0
/*
 * libcohbuf itself: allocation with a name, size and inode, allocation
 * flags and INFO, mappings, CPU access, the importer calls, the debugfs
 * list, and fd passing: several
 * fds at once, payloads that arrive in pieces, truncated control data,
 * short and long messages, and every error as a negative errno with no fd
 * left behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cohbuf_harness.h"

#define NFDS		3
#define LIB_SIZE	(2 * SZ_1M)

/* What the fd-passing tests send with their fds. */
struct lib_payload {
	uint64_t seq;
	char text[56];
};

/* Open file descriptors of this process: counts leaks. */
static int open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		n += de->d_name[0] != '.';
	closedir(dir);
	return n - 1;	/* the directory's own fd */
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

FIXTURE(lib) {
	int dev;
	int fds[NFDS];
	uint64_t ino[NFDS];
	int sock[2];
};

FIXTURE_VARIANT(lib) {
	int type;
};

FIXTURE_VARIANT_ADD(lib, stream) { .type = SOCK_STREAM };
FIXTURE_VARIANT_ADD(lib, seqpacket) { .type = SOCK_SEQPACKET };

FIXTURE_SETUP(lib)
{
	char name[16];

	self->dev = test_open();
	for (int i = 0; i < NFDS; i++) {
		snprintf(name, sizeof(name), "lib-%d", i);
		self->fds[i] = cohbuf_alloc(self->dev, LIB_SIZE, name,
					    O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->fds[i]) TH_LOG("%s", strerror(-self->fds[i]));
		ASSERT_EQ(0, cohbuf_ino(self->fds[i], &self->ino[i]));
	}
	ASSERT_EQ(0, socketpair(AF_UNIX, variant->type | SOCK_CLOEXEC, 0,
				self->sock));
}

FIXTURE_TEARDOWN(lib)
{
	close_all(self->fds, NFDS);
	close(self->sock[0]);
	close(self->sock[1]);
	close(self->dev);
}

/* The received fds are new descriptors of the same buffers, close-on-exec. */
static void assert_same_buffers(struct __test_metadata *_metadata,
				const int *got, const uint64_t *ino, int n)
{
	uint64_t i_got;

	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, cohbuf_ino(got[i], &i_got));
		ASSERT_EQ(ino[i], i_got);
		ASSERT_EQ(FD_CLOEXEC, fcntl(got[i], F_GETFD) & FD_CLOEXEC);
	}
}

TEST_F(lib, several_fds_and_payload)
{
	struct lib_payload out = { .seq = 42, .text = "three buffers" }, in;
	int got[NFDS] = { -1, -1, -1 };

	ASSERT_EQ(0, cohbuf_send_fds(self->sock[0], self->fds, NFDS, &out,
				     sizeof(out)));
	ASSERT_EQ(NFDS, cohbuf_recv_fds(self->sock[1], got, NFDS, &in,
					sizeof(in)));
	ASSERT_EQ(0, memcmp(&out, &in, sizeof(in)));
	assert_same_buffers(_metadata, got, self->ino, NFDS);
	close_all(got, NFDS);
}

/* Room for more fds than arrive: the count says how many came. */
TEST_F(lib, fewer_fds_than_room)
{
	int got[NFDS] = { -1, -1, -1 };
	uint64_t seq = 7, in;

	ASSERT_EQ(0, cohbuf_send_fds(self->sock[0], self->fds, 1, &seq,
				     sizeof(seq)));
	ASSERT_EQ(1, cohbuf_recv_fds(self->sock[1], got, NFDS, &in,
				     sizeof(in)));
	ASSERT_EQ(seq, in);
	assert_same_buffers(_metadata, got, self->ino, 1);
	ASSERT_EQ(-1, got[1]);
	close_all(got, 1);
}

/* A stream cannot carry fds without data: an empty payload still works. */
TEST_F(lib, empty_payload)
{
	int got = -1;

	ASSERT_EQ(0, cohbuf_send_fds(self->sock[0], self->fds, 1, NULL, 0));
	ASSERT_EQ(1, cohbuf_recv_fds(self->sock[1], &got, 1, NULL, 0));
	assert_same_buffers(_metadata, &got, self->ino, 1);
	close(got);
}

TEST_F(lib, payload_without_fds)
{
	uint64_t seq = 99, in = 0;
	int got = -1;

	ASSERT_EQ(0, cohbuf_send_fds(self->sock[0], NULL, 0, &seq, sizeof(seq)));
	ASSERT_EQ(0, cohbuf_recv_fds(self->sock[1], &got, 1, &in, sizeof(in)));
	ASSERT_EQ(seq, in);
	ASSERT_EQ(-1, got);
}

/* More fds arrive than the caller has room for: all closed, -EMSGSIZE. */
TEST_F(lib, truncated_control_data)
{
	int got[NFDS] = { -1, -1, -1 }, before;
	uint64_t seq = 1, in;

	before = open_fds();
	ASSERT_LT(0, before);
	ASSERT_EQ(0, cohbuf_send_fds(self->sock[0], self->fds, NFDS, &seq,
				     sizeof(seq)));
	ASSERT_EQ(-EMSGSIZE, cohbuf_recv_fds(self->sock[1], got, 1, &in,
					     sizeof(in)));
	ASSERT_EQ(before, open_fds());
}

/* A raw sender passes more fds than libcohbuf carries: MSG_CTRUNC. */
TEST_F(lib, control_data_truncated_by_kernel)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * (COHBUF_MAX_FDS + 8))];
		struct cmsghdr align;
	} control = { 0 };
	int got[COHBUF_MAX_FDS], before = open_fds();
	uint64_t seq = 3, in;
	struct iovec iov = { .iov_base = &seq, .iov_len = sizeof(seq) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (COHBUF_MAX_FDS + 8));
	for (int i = 0; i < COHBUF_MAX_FDS + 8; i++)
		memcpy(CMSG_DATA(cmsg) + i * sizeof(int), &self->fds[i % NFDS],
		       sizeof(int));
	ASSERT_EQ((ssize_t)sizeof(seq), sendmsg(self->sock[0], &msg, 0));
	ASSERT_EQ(-EMSGSIZE, cohbuf_recv_fds(self->sock[1], got,
					     COHBUF_MAX_FDS, &in, sizeof(in)));
	ASSERT_EQ(before, open_fds());
}

/* A caller that expects no fd gets none left open either. */
TEST_F(lib, unexpected_fds)
{
	uint64_t seq = 1, in;
	int before = open_fds();

	ASSERT_EQ(0, cohbuf_send_fds(self->sock[0], self->fds, 2, &seq,
				     sizeof(seq)));
	ASSERT_EQ(-EMSGSIZE, cohbuf_recv_fds(self->sock[1], NULL, 0, &in,
					     sizeof(in)));
	ASSERT_EQ(before, open_fds());
}

/*
 * The payload arrives in two pieces: the fds with its first half, then the
 * rest. On a stream the receiver gathers it; on a seqpacket socket the
 * first message is short: -EBADMSG, with its fd closed.
 */
TEST_F(lib, payload_in_pieces)
{
	struct lib_payload out = { .seq = 5, .text = "in two pieces" }, in;
	size_t half = sizeof(out) / 2;
	int got = -1, before = open_fds(), ret;

	ASSERT_EQ(0, cohbuf_send_fds(self->sock[0], self->fds, 1, &out, half));
	ASSERT_EQ((ssize_t)(sizeof(out) - half),
		  send(self->sock[0], (char *)&out + half, sizeof(out) - half, 0));
	ret = cohbuf_recv_fds(self->sock[1], &got, 1, &in, sizeof(in));
	if (variant->type == SOCK_STREAM) {
		ASSERT_EQ(1, ret);
		ASSERT_EQ(0, memcmp(&out, &in, sizeof(in)));
		assert_same_buffers(_metadata, &got, self->ino, 1);
		close(got);
	} else {
		ASSERT_EQ(-EBADMSG, ret);
		ASSERT_EQ(before, open_fds());
	}
}

/* The peer hangs up in the middle of a payload (or sends nothing at all). */
TEST_F(lib, peer_closes_early)
{
	struct lib_payload out = { .seq = 6 }, in;
	int got = -1, before, ret;

	ASSERT_EQ(0, cohbuf_send_fds(self->sock[0], self->fds, 1, &out,
				     sizeof(out) / 2));
	close(self->sock[0]);
	self->sock[0] = -1;
	before = open_fds();
	ret = cohbuf_recv_fds(self->sock[1], &got, 1, &in, sizeof(in));
	ASSERT_EQ(variant->type == SOCK_STREAM ? -ECONNRESET : -EBADMSG, ret);
	ASSERT_EQ(before, open_fds());
	ASSERT_EQ(-ECONNRESET, cohbuf_recv_fds(self->sock[1], &got, 1, &in,
					       sizeof(in)));
}

/* A message longer than the payload: a stream leaves the rest queued. */
TEST_F(lib, message_longer_than_payload)
{
	struct lib_payload out = { .seq = 8 };
	uint64_t in;
	int got = -1, before = open_fds(), ret;

	ASSERT_EQ(0, cohbuf_send_fds(self->sock[0], self->fds, 1, &out,
				     sizeof(out)));
	ret = cohbuf_recv_fds(self->sock[1], &got, 1, &in, sizeof(in));
	if (variant->type == SOCK_STREAM) {
		ASSERT_EQ(1, ret);
		ASSERT_EQ(out.seq, in);
		close(got);
	} else {
		ASSERT_EQ(-EMSGSIZE, ret);
		ASSERT_EQ(before, open_fds());
	}
}

/* A child process maps what it received and writes; the parent sees it. */
TEST_F(lib, across_fork)
{
	uint32_t *map;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int got[NFDS] = { -1, -1, -1 };
		uint64_t seq;
		void *p;

		if (cohbuf_recv_fds(self->sock[1], got, NFDS, &seq,
				    sizeof(seq)) != NFDS)
			_exit(1);
		for (int i = 0; i < NFDS; i++) {
			if (cohbuf_map(got[i], 0, LIB_SIZE, PROT_WRITE, &p) ||
			    cohbuf_begin_cpu_access(got[i], COHBUF_ACCESS_WRITE))
				_exit(2);
			((uint32_t *)p)[LIB_SIZE / 4 - 1] = (uint32_t)(seq + i);
			if (cohbuf_end_cpu_access(got[i], COHBUF_ACCESS_WRITE) ||
			    cohbuf_unmap(p, LIB_SIZE))
				_exit(3);
		}
		_exit(0);
	}
	ASSERT_EQ(0, cohbuf_send_fds(self->sock[0], self->fds, NFDS,
				     &(uint64_t){ 1000 }, sizeof(uint64_t)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	for (int i = 0; i < NFDS; i++) {
		ASSERT_EQ(0, cohbuf_map(self->fds[i], 0, LIB_SIZE, PROT_READ,
					(void **)&map));
		ASSERT_EQ(1000U + i, map[LIB_SIZE / 4 - 1]);
		ASSERT_EQ(0, cohbuf_unmap(map, LIB_SIZE));
	}
}

TEST_F(lib, send_recv_errors)
{
	int many[COHBUF_MAX_FDS + 1], got, pipefd[2];
	uint64_t seq = 1;

	for (int i = 0; i <= COHBUF_MAX_FDS; i++)
		many[i] = self->fds[0];
	ASSERT_EQ(-EINVAL, cohbuf_send_fds(self->sock[0], many,
					   COHBUF_MAX_FDS + 1, &seq, sizeof(seq)));
	ASSERT_EQ(-EINVAL, cohbuf_send_fds(self->sock[0], NULL, 1, &seq,
					   sizeof(seq)));
	ASSERT_EQ(-EBADF, cohbuf_send_fds(-1, self->fds, 1, &seq, sizeof(seq)));
	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(-ENOTSOCK, cohbuf_send_fds(pipefd[1], self->fds, 1, &seq,
					     sizeof(seq)));
	ASSERT_EQ(-ENOTSOCK, cohbuf_recv_fds(pipefd[0], &got, 1, &seq,
					     sizeof(seq)));
	close(pipefd[0]);
	close(pipefd[1]);
	/* A closed fd in the set: the kernel refuses, nothing is sent. */
	many[1] = 1000;
	ASSERT_EQ(-EBADF, cohbuf_send_fds(self->sock[0], many, 2, &seq,
					  sizeof(seq)));
	/* The peer has gone: EPIPE, and no SIGPIPE kills us. */
	close(self->sock[1]);
	self->sock[1] = -1;
	ASSERT_EQ(-EPIPE, cohbuf_send_fds(self->sock[0], self->fds, 1, &seq,
					  sizeof(seq)));
}

FIXTURE(buf) {
	int dev;
	int fd;
};

FIXTURE_SETUP(buf)
{
	self->dev = test_open();
	self->fd = cohbuf_alloc(self->dev, LIB_SIZE - 1, "lib-buffer", O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("%s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(buf)
{
	close(self->fd);
	close(self->dev);
}

TEST_F(buf, version)
{
	ASSERT_STREQ(COHBUF_VERSION, cohbuf_version());
}

TEST_F(buf, name_size_ino)
{
	struct stat st;
	uint64_t size, ino;
	char val[64];

	ASSERT_EQ(0, fdinfo_field(self->fd, "name", val, sizeof(val)));
	ASSERT_STREQ("lib-buffer", val);
	ASSERT_EQ(0, cohbuf_size(self->fd, &size));
	ASSERT_EQ(LIB_SIZE, size);
	ASSERT_EQ(0, cohbuf_ino(self->fd, &ino));
	ASSERT_EQ(0, fstat(self->fd, &st));
	ASSERT_EQ(st.st_ino, ino);
	ASSERT_EQ(0, cohbuf_set_name(self->fd, "renamed"));
	ASSERT_EQ(0, fdinfo_field(self->fd, "name", val, sizeof(val)));
	ASSERT_STREQ("renamed", val);
	/* O_RDWR without O_CLOEXEC was asked for */
	ASSERT_EQ(0, fcntl(self->fd, F_GETFD) & FD_CLOEXEC);
}

/* A name that cannot be set frees the buffer it would have named. */
TEST_F(buf, alloc_errors)
{
	char name[DMA_BUF_NAME_LEN + 1];
	struct counters base;
	int before = open_fds();

	test_counters(&base);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ASSERT_EQ(-EINVAL, cohbuf_alloc(self->dev, SZ_4K, name, O_RDWR));
	ASSERT_EQ(-EINVAL, cohbuf_alloc(self->dev, 0, NULL, O_RDWR));
	ASSERT_EQ(-EINVAL, cohbuf_alloc(self->dev, SZ_4K, NULL, O_WRONLY));
	ASSERT_EQ(-EFBIG, cohbuf_alloc(self->dev, UINT64_MAX / 2, NULL, O_RDWR));
	ASSERT_EQ(-EBADF, cohbuf_alloc(-1, SZ_4K, NULL, O_RDWR));
	ASSERT_EQ(-ENOTTY, cohbuf_alloc(self->fd, SZ_4K, NULL, O_RDWR));
	assert_live(&base, 0, 0);
	ASSERT_EQ(before, open_fds());
}

TEST_F(buf, map_and_access)
{
	uint8_t *map, *win;

	ASSERT_EQ(0, cohbuf_map(self->fd, 0, LIB_SIZE, PROT_READ | PROT_WRITE,
				(void **)&map));
	ASSERT_EQ(0, cohbuf_begin_cpu_access(self->fd, COHBUF_ACCESS_RW));
	memset(map + SZ_1M, 0xa5, SZ_4K);
	ASSERT_EQ(0, cohbuf_end_cpu_access(self->fd, COHBUF_ACCESS_RW));
	/* a window at a page offset sees the same bytes */
	ASSERT_EQ(0, cohbuf_map(self->fd, SZ_1M, SZ_4K, PROT_READ,
				(void **)&win));
	ASSERT_EQ(0, cohbuf_begin_cpu_access(self->fd, COHBUF_ACCESS_READ));
	ASSERT_EQ(-1, bytes_check(win, SZ_4K, 0xa5));
	ASSERT_EQ(0, cohbuf_end_cpu_access(self->fd, COHBUF_ACCESS_READ));
	ASSERT_EQ(cohbuf_crc32(0, map + SZ_1M, SZ_4K),
		  cohbuf_crc32(0, win, SZ_4K));
	ASSERT_EQ(0, cohbuf_unmap(win, SZ_4K));
	ASSERT_EQ(0, cohbuf_unmap(map, LIB_SIZE));
}

TEST_F(buf, map_and_access_errors)
{
	int pipefd[2];
	uint64_t v;
	void *p;

	ASSERT_EQ(-EINVAL, cohbuf_map(self->fd, LIB_SIZE, SZ_4K, PROT_READ, &p));
	ASSERT_EQ(-EINVAL, cohbuf_map(self->fd, 1, SZ_4K, PROT_READ, &p));
	ASSERT_EQ(-EINVAL, cohbuf_map(self->fd, UINT64_MAX - SZ_4K + 1, SZ_4K,
				      PROT_READ, &p));
	ASSERT_EQ(-EBADF, cohbuf_map(-1, 0, SZ_4K, PROT_READ, &p));
	ASSERT_EQ(-EINVAL, cohbuf_unmap((void *)1, SZ_4K));
	ASSERT_EQ(-EINVAL, cohbuf_begin_cpu_access(self->fd, 0));
	ASSERT_EQ(-EINVAL, cohbuf_end_cpu_access(self->fd, 1U << 2));
	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(-ENOTTY, cohbuf_begin_cpu_access(pipefd[0],
						   COHBUF_ACCESS_READ));
	ASSERT_EQ(-ENOTTY, cohbuf_set_name(pipefd[0], "pipe"));
	ASSERT_EQ(-ESPIPE, cohbuf_size(pipefd[0], &v));
	close(pipefd[0]);
	close(pipefd[1]);
	ASSERT_EQ(-EBADF, cohbuf_size(-1, &v));
	ASSERT_EQ(-EBADF, cohbuf_ino(-1, &v));
}

/* The debugfs list has our buffer, with its owner and mapping count. */
TEST_F(buf, list)
{
	struct cohbuf_entry *list;
	uint64_t ino;
	void *map;
	int n, i;

	ASSERT_EQ(0, cohbuf_ino(self->fd, &ino));
	ASSERT_EQ(0, cohbuf_map(self->fd, 0, SZ_4K, PROT_READ, &map));
	n = cohbuf_list(&list);
	ASSERT_LE(1, n) TH_LOG("%s", strerror(-n));
	for (i = 0; i < n && list[i].ino != ino; i++)
		;
	ASSERT_LT(i, n);
	EXPECT_EQ(LIB_SIZE, list[i].size);
	EXPECT_EQ(getpid(), list[i].pid);
	EXPECT_EQ(1, list[i].mappings);
	EXPECT_EQ(0, list[i].attachments);
	EXPECT_LE(1, list[i].chunks);
	free(list);
	ASSERT_EQ(0, cohbuf_unmap(map, SZ_4K));
}

/* The importer calls: a CRC the importer reads equals ours. */
TEST_F(buf, importer)
{
	struct cohbuf_imp_attach att;
	uint32_t crc, *map;
	uint64_t addr;
	int imp;

	imp = cohbuf_importer_open();
	ASSERT_LE(0, imp) TH_LOG("%s: %s", COHBUF_IMPORTER_DEVICE, strerror(-imp));
	ASSERT_EQ(0, cohbuf_importer_attach(imp, self->fd, &att));
	ASSERT_EQ(LIB_SIZE, att.size);
	ASSERT_EQ(0, cohbuf_importer_fill(imp, att.handle, SZ_4K, SZ_4K,
					  0x600dcafe));
	ASSERT_EQ(0, cohbuf_map(self->fd, 0, LIB_SIZE, PROT_READ, (void **)&map));
	ASSERT_EQ(0x600dcafe, map[SZ_4K / 4]);
	ASSERT_EQ(0, cohbuf_importer_crc32(imp, att.handle, 0, LIB_SIZE, &crc));
	ASSERT_EQ(cohbuf_crc32(0, map, LIB_SIZE), crc);
	ASSERT_EQ(0, cohbuf_importer_dma_addr(imp, att.handle, 0, &addr));
	ASSERT_EQ(-EINVAL, cohbuf_importer_crc32(imp, att.handle, 2, 4, &crc));
	ASSERT_EQ(0, cohbuf_importer_detach(imp, att.handle));
	ASSERT_EQ(-ENOENT, cohbuf_importer_detach(imp, att.handle));
	ASSERT_EQ(-EBADF, cohbuf_importer_attach(imp, -1, &att));
	ASSERT_EQ(0, cohbuf_unmap(map, LIB_SIZE));
	close(imp);
}

/* ---- allocation flags and INFO ---- */

#define VGA_YUYV	(640 * 480 * 2)
#define SZ_4G		(4096 * SZ_1M)

DEV_FIXTURE(flags)

FIXTURE_VARIANT(flags) {
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(flags, none) { .flags = 0 };
FIXTURE_VARIANT_ADD(flags, contiguous) { .flags = COHBUF_ALLOC_CONTIGUOUS };
FIXTURE_VARIANT_ADD(flags, dma32) { .flags = COHBUF_ALLOC_DMA32 };
FIXTURE_VARIANT_ADD(flags, contiguous_dma32) {
	.flags = COHBUF_ALLOC_CONTIGUOUS | COHBUF_ALLOC_DMA32,
};

/*
 * The flags reach the kernel, the name is set, and INFO gives them back
 * with ranges that tile the buffer: one for a contiguous buffer, each
 * below 4 GiB for a DMA32 one, with DMA addresses for root.
 */
TEST_F(flags, passed_through_and_described)
{
	struct cohbuf_range *ranges;
	struct cohbuf_info info;
	uint64_t off = 0;
	char name[32];
	int fd, n;

	ASSERT_EQ(0, geteuid()) TH_LOG("the tests run as root");
	fd = cohbuf_alloc_flags(self->dev, VGA_YUYV, "flags", O_RDWR | O_CLOEXEC,
				variant->flags);
	ASSERT_LE(0, fd) TH_LOG("alloc flags %#x: %s", variant->flags, strerror(-fd));
	ASSERT_EQ(0, fdinfo_field(fd, "name", name, sizeof(name)));
	ASSERT_STREQ("flags", name);

	n = cohbuf_info_ranges(self->dev, fd, &info, &ranges);
	ASSERT_LE(1, n) TH_LOG("INFO: %s", strerror(-n));
	ASSERT_EQ(variant->flags, info.flags);
	ASSERT_EQ(page_align(VGA_YUYV), info.size);
	ASSERT_EQ((uint32_t)n, info.nr_ranges);
	ASSERT_EQ(COHBUF_INFO_DMA_ADDR, info.info_flags);
	if (variant->flags & COHBUF_ALLOC_CONTIGUOUS)
		ASSERT_EQ(1, n);
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(off, ranges[i].offset);
		EXPECT_EQ(0, ranges[i].size % page_size());
		EXPECT_NE(0, ranges[i].dma_addr);
		EXPECT_EQ(0, ranges[i].dma_addr % page_size());
		if (variant->flags & COHBUF_ALLOC_DMA32)
			EXPECT_GE(SZ_4G, ranges[i].dma_addr + ranges[i].size);
		off += ranges[i].size;
	}
	ASSERT_EQ(info.size, off);
	free(ranges);
	close(fd);
	assert_baseline(&self->base, "after the buffer");
}

/* An unknown flag, or one past the valid ones: -EINVAL, nothing left. */
TEST_F(flags, unknown_flag)
{
	int before = open_fds();

	ASSERT_EQ(-EINVAL, cohbuf_alloc_flags(self->dev, SZ_4K, "bad", O_RDWR,
					      variant->flags | (1U << 31)));
	ASSERT_EQ(-EINVAL, cohbuf_alloc_flags(self->dev, SZ_4K, NULL, O_RDWR,
					      variant->flags |
					      (COHBUF_ALLOC_VALID_FLAGS + 1)));
	ASSERT_EQ(before, open_fds());
	assert_baseline(&self->base, "after the refusals");
}

/* Above max_contiguous_size a contiguous buffer is -E2BIG; others are not. */
TEST_F(flags, e2big_above_max_contiguous_size)
{
	bool contig = variant->flags & COHBUF_ALLOC_CONTIGUOUS;
	int fd;

	test_param_set(&self->params, "cohbuf", "max_contiguous_size", SZ_1M);
	fd = cohbuf_alloc_flags(self->dev, SZ_1M + 1, NULL, O_RDWR, variant->flags);
	if (contig) {
		ASSERT_EQ(-E2BIG, fd);
	} else {
		ASSERT_LE(0, fd) TH_LOG("not contiguous: %s", strerror(-fd));
		close(fd);
	}
	fd = cohbuf_alloc_flags(self->dev, SZ_1M, NULL, O_RDWR, variant->flags);
	ASSERT_LE(0, fd) TH_LOG("at the limit: %s", strerror(-fd));
	close(fd);
	assert_baseline(&self->base, "after the limit");
}

/*
 * cohbuf_info(): the count with no room, part of the ranges with little
 * room (the rest untouched), and the arguments it refuses.
 */
TEST_F(flags, info_room)
{
	struct cohbuf_range all[64], part[2];
	struct cohbuf_info info;
	int fd, n, pipefd[2];

	/* Below 4 MiB, so that CONTIGUOUS needs no CONFIG_CONTIG_ALLOC. */
	fd = cohbuf_alloc_flags(self->dev, 3 * SZ_1M + SZ_4K, NULL, O_RDWR,
				variant->flags);
	ASSERT_LE(0, fd) TH_LOG("alloc: %s", strerror(-fd));
	n = cohbuf_info(self->dev, fd, &info, NULL, 0);
	ASSERT_LE(1, n) TH_LOG("INFO: %s", strerror(-n));
	ASSERT_GE(64, n);
	ASSERT_EQ(n, cohbuf_info(self->dev, fd, &info, all, 64));

	memset(part, 0xa5, sizeof(part));
	ASSERT_EQ(n, cohbuf_info(self->dev, fd, &info, part, 1));
	ASSERT_EQ(0, memcmp(&all[0], &part[0], sizeof(part[0])));
	ASSERT_EQ(0xa5a5a5a5a5a5a5a5ULL, part[1].offset);

	ASSERT_EQ(-EINVAL, cohbuf_info(self->dev, fd, &info, NULL, 1));
	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(-EINVAL, cohbuf_info(self->dev, pipefd[0], &info, all, 64));
	close(pipefd[0]);
	close(pipefd[1]);
	ASSERT_EQ(-EINVAL, cohbuf_info(self->dev, self->dev, &info, all, 64));
	close(fd);
	ASSERT_EQ(-EBADF, cohbuf_info(self->dev, fd, &info, all, 64));
	/* A device that is not cohbuf's. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-ENOTTY, cohbuf_info(fd, self->dev, &info, all, 64));
	close(fd);
}

/* cohbuf_info_ranges() on a bad fd: the error, and no array. */
TEST_F(flags, info_ranges_error)
{
	struct cohbuf_range *ranges = (struct cohbuf_range *)&ranges;
	struct cohbuf_info info;

	ASSERT_EQ(-EBADF, cohbuf_info_ranges(self->dev, -1, &info, &ranges));
	ASSERT_NULL(ranges);
}

TEST(crc32_vector)
{
	ASSERT_EQ(0xcbf43926, cohbuf_crc32(0, "123456789", 9));
	/* chained over pieces, it is the same */
	ASSERT_EQ(0xcbf43926, cohbuf_crc32(cohbuf_crc32(0, "1234", 4),
					   "56789", 5));
	ASSERT_EQ(0, cohbuf_crc32(0, NULL, 0));
}

TEST_HARNESS_MAIN
