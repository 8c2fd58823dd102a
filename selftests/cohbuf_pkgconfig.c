// SPDX-License-Identifier: GPL-2.0
/*
 * A program built the way a user builds one: against an installed tree,
 * with `pkg-config --cflags --libs cohbuf` (make check installs into
 * build/install-test and builds this there). It passes a buffer to a
 * second process, which checks it and writes back; TAP on stdout.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libcohbuf.h>

#define SIZE	(4u << 20)
#define ANSWER	0x5eed5eedu

struct hello {
	uint64_t ino;
	uint32_t crc;
};

/* The second process: the same buffer, the same bytes; then it answers. */
static int child(int sock)
{
	struct hello h;
	uint64_t ino;
	uint32_t *p;
	int fd;

	if (cohbuf_recv_fds(sock, &fd, 1, &h, sizeof(h)) != 1 ||
	    cohbuf_ino(fd, &ino) || ino != h.ino ||
	    cohbuf_map(fd, 0, SIZE, PROT_READ | PROT_WRITE, (void **)&p) ||
	    cohbuf_crc32(0, p, SIZE) != h.crc)
		return 1;
	p[SIZE / 4 - 1] = ANSWER;
	return cohbuf_unmap(p, SIZE) ? 1 : 0;
}

static int share(int *status)
{
	struct hello h;
	int dev, fd, sv[2];
	uint32_t *p;
	pid_t pid;

	dev = cohbuf_open();
	fd = dev < 0 ? dev : cohbuf_alloc(dev, SIZE, "pkg-config", O_RDWR);
	if (fd < 0 || cohbuf_map(fd, 0, SIZE, PROT_READ | PROT_WRITE, (void **)&p) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -1;
	for (uint32_t i = 0; i < SIZE / 4; i++)
		p[i] = i * 2654435761u;
	h.crc = cohbuf_crc32(0, p, SIZE);
	if (cohbuf_ino(fd, &h.ino))
		return -1;
	pid = fork();
	if (pid == 0)
		_exit(child(sv[1]));
	if (pid < 0 || cohbuf_send_fds(sv[0], &fd, 1, &h, sizeof(h)) ||
	    waitpid(pid, status, 0) != pid)
		return -1;
	return p[SIZE / 4 - 1] == ANSWER ? 0 : -1;
}

int main(void)
{
	int status = -1, ok = share(&status) == 0 && status == 0;

	printf("TAP version 13\n1..1\n");
	printf("%s 1 libcohbuf %s from pkg-config: a buffer passed to a second process, checked and written back\n",
	       ok ? "ok" : "not ok", cohbuf_version());
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:0\n", ok, !ok);
	return ok ? 0 : 1;
}
