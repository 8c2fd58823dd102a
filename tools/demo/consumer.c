// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf demo consumer: receive a dma-buf fd over a unix socket, map it
 * read-only, and report what we see: inode, physical frames and checksum.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cohbuf_util.h"
#include "demo.h"

static int die(const char *what, int err)
{
	fprintf(stderr, "consumer: %s: %s\n", what, strerror(err));
	return 1;
}

static int listen_on(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int sock;

	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	unlink(path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(sock, 1))
		return -errno;
	return sock;
}

int main(int argc, char **argv)
{
	struct demo_view theirs, mine;
	int lsock, sock, fd, ret;
	void *map;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
		return 2;
	}
	lsock = listen_on(argv[1]);
	if (lsock < 0)
		return die("listen", -lsock);
	printf("consumer: waiting on %s\n", argv[1]);
	fflush(stdout);
	sock = accept(lsock, NULL, NULL);
	if (sock < 0)
		return die("accept", errno);
	ret = cohbuf_recv_fd(sock, &fd, &theirs, sizeof(theirs));
	if (ret)
		return die("receive fd", -ret);

	map = mmap(NULL, theirs.size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return die("mmap", errno);
	ret = demo_view(fd, map, theirs.size, &mine);
	if (ret)
		return die("inspect buffer", -ret);
	printf("consumer: received fd %d and mapped the %.1f MiB buffer read-only\n",
	       fd, theirs.size / 1048576.0);
	demo_print("consumer:", &mine);
	if (write(sock, &mine, sizeof(mine)) != sizeof(mine))
		return die("reply", errno);
	unlink(argv[1]);
	return 0;
}
