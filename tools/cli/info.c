// SPDX-License-Identifier: GPL-2.0
/* cohbuf info SOCKET [--json]: a served buffer's flags and physical ranges. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char info_usage[] =
	"Usage: cohbuf info SOCKET [--json]\n"
	"\n"
	"Receive the buffer served on SOCKET by 'cohbuf alloc' and print what\n"
	"COHBUF_IOCTL_INFO says of it: size, allocation flags and its physically\n"
	"contiguous ranges (offset, size and, for a caller with CAP_SYS_RAWIO, the\n"
	"DMA address a device without IOMMU uses; others see it as hidden).\n"
	"\n"
	"  -j, --json   print a JSON object instead of text\n"
	"  -h, --help   show this help\n";

/* What INFO says of a received buffer. */
struct info_result {
	const struct cli_buffer *buf;
	struct cohbuf_info info;
	struct cohbuf_range *ranges;
	int nr;
};

static bool dma_visible(const struct info_result *r)
{
	return r->info.info_flags & COHBUF_INFO_DMA_ADDR;
}

static void print_text(const struct info_result *r)
{
	const struct cli_hello *h = &r->buf->hello;
	char human[16], flags[64];

	format_size(r->info.size, human, sizeof(human));
	format_flags(r->info.flags, flags, sizeof(flags));
	printf("inode %" PRIu64 ", %s (%" PRIu64 " bytes)%s%s%s\n", h->ino,
	       human, (uint64_t)r->info.size, h->name[0] ? ", name '" : "",
	       h->name, h->name[0] ? "'" : "");
	printf("flags: %s\n", flags);
	printf("ranges: %d\n", r->nr);
	if (!dma_visible(r))
		printf("dma addresses: hidden (they need CAP_SYS_RAWIO)\n");
	printf("%-18s %-18s %s\n", "OFFSET", "SIZE",
	       dma_visible(r) ? "DMA ADDRESS" : "");
	for (int i = 0; i < r->nr; i++) {
		printf("0x%-16" PRIx64 " 0x%-16" PRIx64,
		       (uint64_t)r->ranges[i].offset, (uint64_t)r->ranges[i].size);
		if (dma_visible(r))
			printf(" 0x%" PRIx64, (uint64_t)r->ranges[i].dma_addr);
		putchar('\n');
	}
}

static void print_json(const struct info_result *r)
{
	char flags[64], *name, *save = NULL;

	printf("{\"ino\": %" PRIu64 ", \"size\": %" PRIu64 ", \"name\": ",
	       r->buf->hello.ino, (uint64_t)r->info.size);
	json_print_string(r->buf->hello.name);
	printf(", \"flags\": [");
	format_flags(r->info.flags, flags, sizeof(flags));
	if (r->info.flags) {
		for (name = strtok_r(flags, ",", &save); name;
		     name = strtok_r(NULL, ",", &save)) {
			json_print_string(name);
			if (save && *save)
				fputs(", ", stdout);
		}
	}
	printf("], \"dma_addr_visible\": %s, \"ranges\": [",
	       dma_visible(r) ? "true" : "false");
	for (int i = 0; i < r->nr; i++) {
		printf("%s\n  {\"offset\": %" PRIu64 ", \"size\": %" PRIu64
		       ", \"dma_addr\": ", i ? "," : "",
		       (uint64_t)r->ranges[i].offset, (uint64_t)r->ranges[i].size);
		if (dma_visible(r))
			printf("%" PRIu64 "}", (uint64_t)r->ranges[i].dma_addr);
		else
			fputs("null}", stdout);
	}
	puts(r->nr ? "\n]}" : "]}");
}

static int parse_info(int argc, char **argv, const char **socket, bool *json)
{
	*socket = NULL;
	*json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			*json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(info_usage, stdout);
			exit(EXIT_OK);
		} else if (argv[i][0] == '-' || *socket) {
			return usage_error("info", "unexpected argument '%s'", argv[i]);
		} else {
			*socket = argv[i];
		}
	}
	if (!*socket)
		return usage_error("info", "expected one SOCKET");
	return EXIT_OK;
}

int cmd_info(int argc, char **argv)
{
	struct info_result r = { 0 };
	struct cli_buffer b;
	const char *socket;
	bool json;
	int dev, ret;

	ret = parse_info(argc, argv, &socket, &json);
	if (ret)
		return ret;
	dev = cohbuf_open();
	if (dev < 0)
		return fail(dev == -ENOENT ? COHBUF_DEVICE " (is the cohbuf module loaded?)" : "open " COHBUF_DEVICE, -dev);
	ret = receive_buffer(socket, &b);
	if (ret) {
		close(dev);
		return fail(socket, -ret);
	}
	r.buf = &b;
	r.nr = cohbuf_info_ranges(dev, b.fd, &r.info, &r.ranges);
	close(b.fd);
	close(dev);
	if (r.nr < 0)
		return fail("COHBUF_IOCTL_INFO", -r.nr);
	if (json)
		print_json(&r);
	else
		print_text(&r);
	free(r.ranges);
	return EXIT_OK;
}
