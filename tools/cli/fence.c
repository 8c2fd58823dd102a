// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf fence write SOCKET [--ms MS] [--error ERRNO] [--read]
 * cohbuf fence wait SOCKET [--timeout MS] [--write]
 * cohbuf fence ls
 *
 * The producer/consumer hand-off of cohbuf fences, one step per command,
 * on the buffer that `cohbuf alloc --serve` hands out.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define FENCES_LIST	"/sys/kernel/debug/cohbuf/fences"

static const char fence_usage[] =
	"Usage: cohbuf fence write SOCKET [--ms MS] [--error ERRNO] [--read]\n"
	"       cohbuf fence wait SOCKET [--timeout MS] [--write]\n"
	"       cohbuf fence ls\n"
	"\n"
	"write  receive the buffer served on SOCKET, attach a write fence to it\n"
	"       (readers and writers wait), hold it MS milliseconds (default 2000)\n"
	"       as a producer painting a frame would, then signal it, with -ERRNO\n"
	"       if --error is given. --read attaches a read fence (writers wait).\n"
	"wait   receive the buffer and wait with poll() until no write fence is\n"
	"       left (with --write: no fence at all), at most MS milliseconds\n"
	"       (default: without end); print how long that took.\n"
	"ls     list the unsignalled fences (debugfs, root only).\n"
	"\n"
	"A fence that is never signalled signals with -ETIMEDOUT after the\n"
	"module parameter fence_timeout_ms; one whose creator dies, at once\n"
	"with -EPIPE.\n";

struct fence_opts {
	const char *socket;
	int ms;
	int error;
	bool other_usage;	/* --read for write, --write for wait */
};

static int parse_ms(const char *text, int *ms)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || end == text || v < 0 || v > 3600 * 1000)
		return -EINVAL;
	*ms = (int)v;
	return 0;
}

static int parse_fence(int argc, char **argv, struct fence_opts *o, int default_ms)
{
	static const struct option longopts[] = {
		{ "ms", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 'm' },
		{ "error", required_argument, NULL, 'e' },
		{ "read", no_argument, NULL, 'u' },
		{ "write", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, err;

	*o = (struct fence_opts){ .ms = default_ms };
	while ((c = getopt_long(argc, argv, "m:e:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_ms(optarg, &o->ms))
				return usage_error("fence", "bad MS '%s'", optarg);
			break;
		case 'e':
			if (parse_ms(optarg, &err) || err < 1 || err > 4095)
				return usage_error("fence", "bad ERRNO '%s' (1 to 4095)", optarg);
			o->error = -err;
			break;
		case 'u':
			o->other_usage = true;
			break;
		case 'h':
			fputs(fence_usage, stdout);
			exit(EXIT_OK);
		default:
			return usage_error("fence", "bad option");
		}
	}
	if (optind + 1 != argc)
		return usage_error("fence", "expected one SOCKET");
	o->socket = argv[optind];
	return EXIT_OK;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int fence_write(int argc, char **argv)
{
	struct cli_buffer b;
	struct fence_opts o;
	int ret, dev, fence;

	ret = parse_fence(argc, argv, &o, 2000);
	if (ret)
		return ret;
	ret = receive_buffer(o.socket, &b);
	if (ret)
		return fail(o.socket, -ret);
	dev = cohbuf_open();
	if (dev < 0)
		return fail(COHBUF_DEVICE, -dev);
	fence = cohbuf_fence_attach(dev, b.fd, o.other_usage ? 0 : COHBUF_FENCE_WRITE, 0);
	if (fence < 0)
		return fail("attach a fence", -fence);
	printf("inode %" PRIu64 ": %s fence attached; readers%s wait\n", b.hello.ino,
	       o.other_usage ? "read" : "write", o.other_usage ? " do not" : "");
	fflush(stdout);
	usleep((useconds_t)o.ms * 1000);
	ret = cohbuf_fence_signal(dev, fence, o.error);
	if (ret)
		return fail("signal the fence", -ret);
	printf("inode %" PRIu64 ": fence signalled after %d ms%s%s\n", b.hello.ino, o.ms,
	       o.error ? ", with error " : "", o.error ? strerror(-o.error) : "");
	return EXIT_OK;
}

static int fence_wait(int argc, char **argv)
{
	struct cli_buffer b;
	struct fence_opts o;
	double start;
	int ret;

	ret = parse_fence(argc, argv, &o, -1);
	if (ret)
		return ret;
	ret = receive_buffer(o.socket, &b);
	if (ret)
		return fail(o.socket, -ret);
	start = now_ms();
	ret = cohbuf_fence_wait(b.fd, o.other_usage ? POLLOUT : POLLIN, o.ms);
	if (ret == -ETIME) {
		fprintf(stderr, "cohbuf: inode %" PRIu64 ": still fenced after %d ms\n",
			b.hello.ino, o.ms);
		return EXIT_FAIL;
	}
	if (ret)
		return fail("poll", -ret);
	printf("inode %" PRIu64 ": ready for %s after %.0f ms\n", b.hello.ino,
	       o.other_usage ? "writing" : "reading", now_ms() - start);
	return EXIT_OK;
}

static int fence_ls(int argc, char **argv)
{
	char line[512];
	FILE *f;

	(void)argv;
	if (argc != 1)
		return usage_error("fence", "ls takes no arguments");
	f = fopen(FENCES_LIST, "re");
	if (!f)
		return fail(FENCES_LIST, errno);
	while (fgets(line, sizeof(line), f))
		fputs(line, stdout);
	fclose(f);
	return EXIT_OK;
}

int cmd_fence(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("fence", "expected write, wait or ls");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(fence_usage, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "write"))
		return fence_write(argc - 1, argv + 1);
	if (!strcmp(argv[1], "wait"))
		return fence_wait(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ls"))
		return fence_ls(argc - 1, argv + 1);
	return usage_error("fence", "unknown subcommand '%s'", argv[1]);
}
