// SPDX-License-Identifier: GPL-2.0
/*
 * Sharing a cohbuf between processes: an fd passed with SCM_RIGHTS to a
 * separately exec'd program (cohbuf_peer), and a mapping inherited by fork.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "cohbuf_harness.h"

/* Two chunks' worth, so the first and last page may sit in different chunks. */
#define SHARE_SIZE	(6 * SZ_1M)

FIXTURE(share) {
	int dev;
	struct test_buf buf;
	pid_t pid;
};

FIXTURE_SETUP(share)
{
	self->pid = -1;
	self->dev = test_open();
	test_buf_alloc(&self->buf, self->dev, SHARE_SIZE, O_RDWR | O_CLOEXEC,
		       PROT_READ | PROT_WRITE);
}

/* Sockets and pipes are closed when the test process exits. */
FIXTURE_TEARDOWN(share)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	buf_free(&self->buf);
	close(self->dev);
}

/*
 * The fd in a separately exec'd process: the same inode; the frames its
 * importer attachment reaches are those INFO gives (cohbuf's and the
 * importer's devices have no IOMMU: DMA addresses are physical); what it
 * writes through its mapping is what this one and the importer read.
 */
TEST_F(share, scm_rights_to_exec_peer)
{
	struct peer_request req = {
		.size = SHARE_SIZE,
		.seed_in = 0x51,
		.seed_out = 0x52,
	};
	char *map = self->buf.map;
	char peer[PATH_MAX], sockarg[16];
	struct cohbuf_range ranges[SHARE_SIZE / SZ_4K];
	struct cohbuf_info info;
	struct peer_reply reply;
	int sock[2], ret, n;

	ASSERT_EQ(0, exe_sibling(PEER_PROG, peer, sizeof(peer)));
	ASSERT_EQ(0, access(peer, X_OK)) TH_LOG("%s: %s", peer, strerror(errno));
	n = cohbuf_info(self->dev, self->buf.fd, &info, ranges, SHARE_SIZE / SZ_4K);
	ASSERT_LT(0, n) TH_LOG("INFO: %s", strerror(-n));
	ASSERT_TRUE(info.info_flags & COHBUF_INFO_DMA_ADDR)
		TH_LOG("INFO gives DMA addresses to CAP_SYS_RAWIO only");

	pattern_fill(map, SHARE_SIZE, 0, req.seed_in);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sock));
	ASSERT_EQ(0, fcntl(sock[0], F_SETFD, FD_CLOEXEC));
	snprintf(sockarg, sizeof(sockarg), "%d", sock[1]);
	self->pid = test_fork();
	if (self->pid == 0) {
		execl(peer, peer, sockarg, (char *)NULL);
		_exit(127);
	}
	close(sock[1]);

	ASSERT_EQ(0, cohbuf_send_fds(sock[0], &self->buf.fd, 1, &req, sizeof(req)));
	ret = recv(sock[0], &reply, sizeof(reply), 0);
	ASSERT_EQ(sizeof(reply), ret) TH_LOG("no reply from %s", peer);
	assert_child_ok(self->pid);
	self->pid = -1;

	ASSERT_EQ(0, reply.err) TH_LOG("peer failed at %s: %s (offset %lld)",
				       reply.step, strerror(reply.err),
				       (long long)reply.bad_offset);
	ASSERT_EQ(SHARE_SIZE, reply.size);
	ASSERT_EQ(self->buf.ino, reply.ino);
	ASSERT_EQ(ranges[0].dma_addr, reply.dma_first);
	ASSERT_EQ(ranges[n - 1].dma_addr + SHARE_SIZE - SZ_4K - ranges[n - 1].offset,
		  reply.dma_last);
	/* the peer's write is visible here, and is what its importer read */
	ASSERT_EQ(-1, pattern_check(map, SHARE_SIZE, 0, req.seed_out));
	ASSERT_EQ(cohbuf_crc32(0, map, SHARE_SIZE), reply.crc32);
}

/*
 * Child side of fork_shares_mapping, with only the inherited mapping (the
 * fd is closed first): the exit code names the failed step.
 */
static int fork_child(int fd, void *map, int to_parent, int from_parent)
{
	char c;

	close(fd);
	if (pattern_check(map, SHARE_SIZE, 0, 0x61) != -1)
		return 1;
	pattern_fill(map, SHARE_SIZE, 0, 0x62);
	if (write(to_parent, "w", 1) != 1)
		return 2;
	if (read(from_parent, &c, 1) != 1)
		return 3;
	if (pattern_check(map, SHARE_SIZE, 0, 0x63) != -1)
		return 4;
	return 0;
}

TEST_F(share, fork_shares_mapping)
{
	int p2c[2], c2p[2];
	char c;

	ASSERT_EQ(0, pipe2(p2c, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(c2p, O_CLOEXEC));
	pattern_fill(self->buf.map, SHARE_SIZE, 0, 0x61);

	self->pid = test_fork();
	if (self->pid == 0) {
		close(p2c[1]);
		close(c2p[0]);
		_exit(fork_child(self->buf.fd, self->buf.map, c2p[1], p2c[0]));
	}
	close(p2c[0]);
	close(c2p[1]);

	/* the child's write shows up in the parent ... */
	ASSERT_EQ(1, read(c2p[0], &c, 1));
	ASSERT_EQ(-1, pattern_check(self->buf.map, SHARE_SIZE, 0, 0x62));
	/* ... and the parent's in the child */
	pattern_fill(self->buf.map, SHARE_SIZE, 0, 0x63);
	ASSERT_EQ(1, write(p2c[1], "r", 1));
	assert_child_ok(self->pid);
	self->pid = -1;
}

TEST_HARNESS_MAIN
