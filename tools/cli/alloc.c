// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf alloc SIZE [--name N] [--rdonly] [--contiguous] [--dma32]
 *              [--clients N] --serve SOCKET
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"

static const char alloc_usage[] =
	"Usage: cohbuf alloc SIZE [--name NAME] [--rdonly] [--contiguous] [--dma32]\n"
	"                    [--clients N] --serve SOCKET\n"
	"\n"
	"Allocate a SIZE-byte buffer from /dev/cohbuf and hand its dma-buf fd to\n"
	"every client that connects to the unix socket SOCKET, until interrupted\n"
	"(SIGINT, SIGTERM) or, with --clients, after N clients.\n"
	"\n"
	"  -n, --name NAME     name the buffer (DMA_BUF_SET_NAME, at most 31 bytes)\n"
	"  -r, --rdonly        hand out a read-only fd: clients cannot map it writable\n"
	"  -C, --contiguous    one physically contiguous range, for a device without\n"
	"                      scatter-gather or IOMMU (COHBUF_ALLOC_CONTIGUOUS)\n"
	"  -D, --dma32         all memory below 4 GiB, for a device with a 32-bit DMA\n"
	"                      mask (COHBUF_ALLOC_DMA32)\n"
	"  -c, --clients N     exit after serving N clients\n"
	"  -s, --serve SOCKET  the socket to serve on (created; removed on exit)\n"
	"  -h, --help          show this help\n";

struct alloc_opts {
	uint64_t size;
	const char *name;
	const char *socket;
	int fd_flags;
	uint32_t flags;		/* COHBUF_ALLOC_* */
	unsigned long clients;	/* 0: no limit */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* SIGINT and SIGTERM interrupt accept() (no SA_RESTART) and end the loop. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int parse_alloc(int argc, char **argv, struct alloc_opts *o)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "rdonly", no_argument, NULL, 'r' },
		{ "contiguous", no_argument, NULL, 'C' },
		{ "dma32", no_argument, NULL, 'D' },
		{ "clients", required_argument, NULL, 'c' },
		{ "serve", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	*o = (struct alloc_opts){ .fd_flags = O_RDWR | O_CLOEXEC };
	while ((c = getopt_long(argc, argv, "n:rCDc:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->name = optarg;
			break;
		case 'r':
			o->fd_flags = O_RDONLY | O_CLOEXEC;
			break;
		case 'C':
			o->flags |= COHBUF_ALLOC_CONTIGUOUS;
			break;
		case 'D':
			o->flags |= COHBUF_ALLOC_DMA32;
			break;
		case 'c':
			o->clients = strtoul(optarg, &end, 10);
			if (*end || !o->clients || *optarg == '-')
				return usage_error("alloc", "--clients needs a positive number");
			break;
		case 's':
			o->socket = optarg;
			break;
		case 'h':
			fputs(alloc_usage, stdout);
			exit(EXIT_OK);
		default:
			return usage_error("alloc", "bad option");
		}
	}
	if (optind + 1 != argc)
		return usage_error("alloc", "expected one SIZE");
	if (parse_size(argv[optind], &o->size) || !o->size)
		return usage_error("alloc", "bad SIZE '%s' (e.g. 4096, 64K, 32M)",
				   argv[optind]);
	if (!o->socket)
		return usage_error("alloc", "--serve SOCKET is required");
	if (o->name && strlen(o->name) >= sizeof(((struct cli_hello *)0)->name))
		return usage_error("alloc", "--name is longer than 31 bytes");
	return EXIT_OK;
}

/* Accept clients and send each the fd, until a signal or the client limit. */
static int serve(int lsock, int fd, const struct cli_hello *hello,
		 unsigned long limit)
{
	unsigned long served = 0;
	int sock, ret;

	while (!stop_signal && (!limit || served < limit)) {
		sock = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
		if (sock < 0 && errno == EINTR)
			continue;
		if (sock < 0)
			return fail("accept", errno);
		ret = cohbuf_send_fds(sock, &fd, 1, hello, sizeof(*hello));
		close(sock);
		if (ret)
			fprintf(stderr, "cohbuf: send to a client: %s\n",
				strerror(-ret));
		else
			served++;
	}
	printf("cohbuf: served %lu client%s\n", served, served == 1 ? "" : "s");
	return EXIT_OK;
}

static int announce(int fd, const struct alloc_opts *o, struct cli_hello *h)
{
	char human[16], flags[64];
	int ret;

	*h = (struct cli_hello){ .magic = CLI_HELLO_MAGIC };
	ret = cohbuf_size(fd, &h->size);
	if (!ret)
		ret = cohbuf_ino(fd, &h->ino);
	if (ret)
		return ret;
	if (o->name)
		snprintf(h->name, sizeof(h->name), "%s", o->name);
	format_size(h->size, human, sizeof(human));
	format_flags(o->flags, flags, sizeof(flags));
	printf("cohbuf: serving a %s buffer (%" PRIu64 " bytes, inode %" PRIu64
	       "%s%s%s, flags %s, %s) on %s\n", human, h->size, h->ino,
	       o->name ? ", name '" : "", o->name ? o->name : "",
	       o->name ? "'" : "", flags,
	       (o->fd_flags & O_ACCMODE) == O_RDONLY ? "read-only" : "read-write",
	       o->socket);
	fflush(stdout);
	return 0;
}

/* Why an allocation with @flags failed, in the user's terms. */
static int alloc_failed(int err, uint32_t flags)
{
	if (err == E2BIG)
		return fail("allocate (--contiguous is limited by "
			    "/sys/module/cohbuf/parameters/max_contiguous_size)", err);
	if (err == ENOMEM && (flags & COHBUF_ALLOC_CONTIGUOUS))
		return fail("allocate (no contiguous range of that size is free, "
			    "or max_total_size is reached)", err);
	if (err == ENOMEM && (flags & COHBUF_ALLOC_DMA32))
		return fail("allocate (not enough free memory below 4 GiB, "
			    "or max_total_size is reached)", err);
	return fail("allocate", err);
}

int cmd_alloc(int argc, char **argv)
{
	struct alloc_opts o;
	struct cli_hello hello;
	int dev, fd, lsock, ret;

	ret = parse_alloc(argc, argv, &o);
	if (ret)
		return ret;
	dev = cohbuf_open();
	if (dev < 0)
		return fail(dev == -ENOENT ? COHBUF_DEVICE " (is the cohbuf module loaded?)" : "open " COHBUF_DEVICE, -dev);
	fd = cohbuf_alloc_flags(dev, o.size, o.name, o.fd_flags, o.flags);
	close(dev);
	if (fd < 0)
		return alloc_failed(-fd, o.flags);
	catch_signals();
	lsock = listen_unix(o.socket);
	if (lsock < 0)
		return fail(o.socket, -lsock);
	ret = announce(fd, &o, &hello);
	if (ret)
		ret = fail("inspect the buffer", -ret);
	else
		ret = serve(lsock, fd, &hello, o.clients);
	close(lsock);
	unlink(o.socket);
	close(fd);
	return ret;
}
