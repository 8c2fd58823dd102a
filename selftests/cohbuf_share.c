// SPDX-License-Identifier: GPL-2.0
/*
 * Sharing a cohbuf between processes: an fd passed with SCM_RIGHTS to a
 * separately exec'd program (cohbuf_peer), and a mapping inherited by fork.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "cohbuf_harness.h"

/* Two chunks' worth, so the first and last page may sit in different chunks. */
#define SHARE_SIZE	(6 * SZ_1M)

FIXTURE(share) {
	int dev;
	int fd;
	void *map;
	pid_t pid;
};

FIXTURE_SETUP(share)
{
	self->pid = -1;
	self->map = MAP_FAILED;
	self->dev = test_open();
	self->fd = cohbuf_alloc(self->dev, SHARE_SIZE, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->map = map_shared(self->fd, SHARE_SIZE, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, self->map);
}

/* Sockets and pipes are closed when the test process exits. */
FIXTURE_TEARDOWN(share)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	if (self->map != MAP_FAILED)
		munmap(self->map, SHARE_SIZE);
	close(self->fd);
	close(self->dev);
}

/* Waits for the child and returns its exit status, or -1 if it did not exit. */
static int reap(pid_t *pid)
{
	int status;

	if (waitpid(*pid, &status, 0) != *pid)
		return -1;
	*pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(share, scm_rights_to_exec_peer)
{
	struct peer_request req = {
		.size = SHARE_SIZE,
		.seed_in = 0x51,
		.seed_out = 0x52,
	};
	struct peer_reply reply;
	uint64_t ino, pfn_first, pfn_last;
	char peer[PATH_MAX], sockarg[16];
	int sock[2], ret;
	char *last;

	if (geteuid() != 0)
		SKIP(return, "pagemap shows frame numbers to root only");
	ASSERT_EQ(0, exe_sibling(PEER_PROG, peer, sizeof(peer)));
	ASSERT_EQ(0, access(peer, X_OK)) TH_LOG("%s: %s", peer, strerror(errno));

	pattern_fill(self->map, SHARE_SIZE, 0, req.seed_in);
	last = (char *)self->map + SHARE_SIZE - page_size();
	ASSERT_EQ(0, cohbuf_pagemap_pfn(self->map, &pfn_first));
	ASSERT_EQ(0, cohbuf_pagemap_pfn(last, &pfn_last));
	ASSERT_NE(0, pfn_first);
	ASSERT_NE(0, pfn_last);
	ASSERT_EQ(0, cohbuf_ino(self->fd, &ino));

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sock));
	ASSERT_EQ(0, fcntl(sock[0], F_SETFD, FD_CLOEXEC));
	snprintf(sockarg, sizeof(sockarg), "%d", sock[1]);
	fflush(NULL);
	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (self->pid == 0) {
		execl(peer, peer, sockarg, (char *)NULL);
		_exit(127);
	}
	close(sock[1]);

	ASSERT_EQ(0, cohbuf_send_fds(sock[0], &self->fd, 1, &req, sizeof(req)));
	ret = recv(sock[0], &reply, sizeof(reply), 0);
	ASSERT_EQ(sizeof(reply), ret) TH_LOG("no reply from %s", peer);
	ASSERT_EQ(0, reap(&self->pid));

	ASSERT_EQ(0, reply.err) TH_LOG("peer failed at %s: %s (offset %lld)",
				       reply.step, strerror(reply.err),
				       (long long)reply.bad_offset);
	ASSERT_EQ(SHARE_SIZE, reply.size);
	ASSERT_EQ(ino, reply.ino);
	ASSERT_EQ(pfn_first, reply.pfn_first);
	ASSERT_EQ(pfn_last, reply.pfn_last);
	/* the peer's write is visible here */
	ASSERT_EQ(-1, pattern_check(self->map, SHARE_SIZE, 0, req.seed_out));
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
	pattern_fill(self->map, SHARE_SIZE, 0, 0x61);

	fflush(NULL);
	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (self->pid == 0) {
		close(p2c[1]);
		close(c2p[0]);
		_exit(fork_child(self->fd, self->map, c2p[1], p2c[0]));
	}
	close(p2c[0]);
	close(c2p[1]);

	/* the child's write shows up in the parent ... */
	ASSERT_EQ(1, read(c2p[0], &c, 1));
	ASSERT_EQ(-1, pattern_check(self->map, SHARE_SIZE, 0, 0x62));
	/* ... and the parent's in the child */
	pattern_fill(self->map, SHARE_SIZE, 0, 0x63);
	ASSERT_EQ(1, write(p2c[1], "r", 1));
	ASSERT_EQ(0, reap(&self->pid));
}

TEST_HARNESS_MAIN
