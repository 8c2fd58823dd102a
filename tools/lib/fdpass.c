// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libcohbuf: passing dma-buf fds over unix sockets (SCM_RIGHTS), with a
 * payload, whole or not at all.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "libcohbuf.h"

/* Room for COHBUF_MAX_FDS fds, aligned as a cmsghdr must be. */
union cohbuf_cmsg {
	char buf[CMSG_SPACE(sizeof(int) * COHBUF_MAX_FDS)];
	struct cmsghdr align;
};

/* What a zero-length payload is sent as. */
static const char cohbuf_empty_payload;

static void cohbuf_close_fds(const int *fds, unsigned int nfds)
{
	while (nfds--)
		close(fds[nfds]);
}

/* Send the rest of a stream payload that sendmsg() sent only part of. */
static int cohbuf_send_rest(int sock, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(sock, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cohbuf_send_fds(int sock, const int *fds, unsigned int nfds,
		    const void *data, size_t len)
{
	union cohbuf_cmsg control;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t n;

	if (nfds > COHBUF_MAX_FDS || (nfds && !fds) || (len && !data))
		return -EINVAL;
	if (!len) {
		iov.iov_base = (void *)&cohbuf_empty_payload;
		iov.iov_len = 1;
	}
	if (nfds) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return cohbuf_send_rest(sock, (const char *)iov.iov_base + n,
				iov.iov_len - (size_t)n);
}

/*
 * Collect the fds of every SCM_RIGHTS message into @fds. Returns their
 * number, or a negative errno once they are all closed again.
 */
static int cohbuf_take_fds(struct msghdr *msg, int *fds, unsigned int max_fds)
{
	unsigned int nfds = 0, i, n;
	struct cmsghdr *cmsg;
	int ret = 0, fd;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS) {
			ret = -EBADMSG;
			continue;
		}
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			       sizeof(int));
			if (nfds < max_fds) {
				fds[nfds++] = fd;
			} else {
				close(fd);
				ret = -EMSGSIZE;
			}
		}
	}
	if (msg->msg_flags & (MSG_CTRUNC | MSG_TRUNC))
		ret = -EMSGSIZE;
	if (ret) {
		cohbuf_close_fds(fds, nfds);
		return ret;
	}
	return (int)nfds;
}

static int cohbuf_is_stream(int sock)
{
	socklen_t optlen = sizeof(int);
	int type;

	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &optlen))
		return -errno;
	return type == SOCK_STREAM;
}

/* Gather the rest of a payload that arrived in pieces. */
static int cohbuf_recv_rest(int sock, char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = recv(sock, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Everything after the first recvmsg(): returns 0 or a negative errno. */
static int cohbuf_recv_finish(int sock, const struct iovec *iov, size_t got)
{
	int stream;

	if (!got)
		return -ECONNRESET;
	if (got == iov->iov_len)
		return 0;
	stream = cohbuf_is_stream(sock);
	if (stream < 0)
		return stream;
	if (!stream)
		return -EBADMSG;
	return cohbuf_recv_rest(sock, (char *)iov->iov_base + got,
				iov->iov_len - got);
}

int cohbuf_recv_fds(int sock, int *fds, unsigned int max_fds, void *data,
		    size_t len)
{
	union cohbuf_cmsg control;
	char empty;
	struct iovec iov = { .iov_base = data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int nfds, ret;

	if ((max_fds && !fds) || (len && !data))
		return -EINVAL;
	if (max_fds > COHBUF_MAX_FDS)
		max_fds = COHBUF_MAX_FDS;
	/* Room for @max_fds: the kernel truncates beyond (MSG_CTRUNC). */
	if (max_fds) {
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * max_fds);
	}
	if (!len) {
		iov.iov_base = &empty;
		iov.iov_len = 1;
	}
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	nfds = cohbuf_take_fds(&msg, fds, max_fds);
	if (nfds < 0)
		return nfds;
	ret = cohbuf_recv_finish(sock, &iov, (size_t)n);
	if (ret) {
		cohbuf_close_fds(fds, (unsigned int)nfds);
		return ret;
	}
	return nfds;
}
