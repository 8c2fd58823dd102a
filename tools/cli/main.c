// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf: allocate, share, inspect and import cohbuf buffers from the
 * shell. See cohbuf(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
	"Usage: cohbuf COMMAND [OPTIONS] [ARGS]\n"
	"\n"
	"Commands:\n"
	"  alloc SIZE [--name NAME] [--rdonly] [--contiguous] [--dma32] [--clients N]\n"
	"        --serve SOCKET\n"
	"                     hold a buffer and hand its fd to every client of SOCKET\n"
	"  get SOCKET [--verify | --fill PATTERN | --hexdump RANGE]\n"
	"                     receive the buffer served on SOCKET and map it\n"
	"  info SOCKET [--json]\n"
	"                     show the served buffer's flags and physical ranges\n"
	"  import SOCKET      hand the buffer to /dev/cohbuf_importer, print its CRC-32\n"
	"  ls [--json]        list the live buffers (debugfs, root only)\n"
	"  fence write SOCKET [--ms MS] [--error ERRNO] [--read]\n"
	"  fence wait SOCKET [--timeout MS] [--write]\n"
	"  fence ls           fence the served buffer as a producer, wait for it as\n"
	"                     a consumer, list the unsignalled fences\n"
	"  heap [list | link | unlink]\n"
	"                     the dma-heap nodes and their links in /dev/dma_heap\n"
	"  bench [ARGS]       run cohbuf-bench\n"
	"\n"
	"Options:\n"
	"  -h, --help         show this help (or a command's, after the command)\n"
	"  -V, --version      show the version\n"
	"\n"
	"SIZE takes the suffixes K, M, G and T (powers of 1024), e.g. 32M.\n"
	"Exit status: 0 on success, 1 on failure, 2 on bad usage.\n"
	"See cohbuf(1).\n";

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "alloc", cmd_alloc },
	{ "get", cmd_get },
	{ "info", cmd_info },
	{ "import", cmd_import },
	{ "ls", cmd_ls },
	{ "fence", cmd_fence },
	{ "heap", cmd_heap },
	{ "bench", cmd_bench },
};

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error(NULL, "no command given");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("cohbuf %s\n", cohbuf_version());
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	return usage_error(NULL, "unknown command '%s'", argv[1]);
}
