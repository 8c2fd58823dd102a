// SPDX-License-Identifier: GPL-2.0
/* The cohbuf command: errors, sizes, sockets and receiving a buffer. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"

int fail(const char *what, int err)
{
	fprintf(stderr, "cohbuf: %s: %s\n", what, strerror(err));
	return EXIT_FAIL;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("cohbuf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'cohbuf %s%s--help'.\n", cmd ? cmd : "",
		cmd ? " " : "");
	return EXIT_USAGE;
}

static const char size_units[] = "KMGT";

int parse_size(const char *text, uint64_t *size)
{
	unsigned long long n;
	const char *unit;
	char *end;
	int shift = 0;

	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno)
		return -errno;
	if (*end) {
		unit = strchr(size_units, *end & ~0x20);
		if (!unit || !*unit)
			return -EINVAL;
		shift = 10 * (int)(unit - size_units + 1);
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (n > UINT64_MAX >> shift)
		return -ERANGE;
	*size = (uint64_t)n << shift;
	return 0;
}

void format_size(uint64_t size, char *buf, size_t len)
{
	int unit = -1;
	uint64_t scale = 1;

	while (unit < 3 && size >= scale * 1024) {
		scale *= 1024;
		unit++;
	}
	if (unit < 0)
		snprintf(buf, len, "%" PRIu64, size);
	else if (size % scale == 0 || size / scale >= 100)
		snprintf(buf, len, "%" PRIu64 "%c", size / scale,
			 size_units[unit]);
	else
		snprintf(buf, len, "%.1f%c", (double)size / (double)scale,
			 size_units[unit]);
}

void format_flags(uint32_t flags, char *buf, size_t len)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ COHBUF_ALLOC_CONTIGUOUS, "contiguous" },
		{ COHBUF_ALLOC_DMA32, "dma32" },
	};
	size_t used = 0;

	snprintf(buf, len, "%s", flags ? "" : "none");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].bit))
			continue;
		flags &= ~names[i].bit;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 used ? "," : "", names[i].name);
		if (used >= len)
			return;
	}
	/* Bits a newer kernel knows and this command does not. */
	if (flags)
		snprintf(buf + used, len - used, "%s%#x", used ? "," : "", flags);
}

void json_print_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static int unix_address(const char *path, struct sockaddr_un *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	strcpy(addr->sun_path, path);
	return 0;
}

/* A unix stream socket bound to @path (@bind_it), or connected to it. */
static int unix_socket(const char *path, bool bind_it)
{
	struct sockaddr_un addr;
	int ret = unix_address(path, &addr);
	int sock;

	if (ret)
		return ret;
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	if (bind_it)
		ret = bind(sock, (struct sockaddr *)&addr, sizeof(addr));
	else
		ret = connect(sock, (struct sockaddr *)&addr, sizeof(addr));
	if (ret) {
		ret = -errno;
		close(sock);
		return ret;
	}
	return sock;
}

int connect_unix(const char *path)
{
	return unix_socket(path, false);
}

/* A socket file nobody listens on is left over: remove it. */
static int remove_stale(const char *path)
{
	int sock = connect_unix(path);

	if (sock >= 0) {
		close(sock);
		return -EADDRINUSE;
	}
	if (sock != -ECONNREFUSED)
		return -EADDRINUSE;
	return unlink(path) ? -errno : 0;
}

int listen_unix(const char *path)
{
	int sock = unix_socket(path, true);
	int ret;

	if (sock == -EADDRINUSE) {
		ret = remove_stale(path);
		if (ret)
			return ret;
		sock = unix_socket(path, true);
	}
	if (sock < 0)
		return sock;
	if (listen(sock, 16)) {
		ret = -errno;
		close(sock);
		return ret;
	}
	return sock;
}

/* The fd must be the buffer the server announced. */
static int check_hello(const struct cli_buffer *buf)
{
	uint64_t size, ino;
	int ret;

	if (memcmp(buf->hello.magic, CLI_HELLO_MAGIC, sizeof(CLI_HELLO_MAGIC)))
		return -EPROTO;
	ret = cohbuf_size(buf->fd, &size);
	if (!ret)
		ret = cohbuf_ino(buf->fd, &ino);
	if (ret)
		return ret;
	if (size != buf->hello.size || ino != buf->hello.ino)
		return -EBADMSG;
	return 0;
}

int receive_buffer(const char *path, struct cli_buffer *buf)
{
	int sock, ret;

	sock = connect_unix(path);
	if (sock < 0)
		return sock;
	ret = cohbuf_recv_fds(sock, &buf->fd, 1, &buf->hello,
			      sizeof(buf->hello));
	close(sock);
	if (ret < 0)
		return ret;
	if (ret != 1)
		return -EBADMSG;
	buf->hello.name[sizeof(buf->hello.name) - 1] = '\0';
	ret = check_hello(buf);
	if (ret)
		close(buf->fd);
	return ret;
}
