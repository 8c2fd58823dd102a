// SPDX-License-Identifier: GPL-2.0
/* cohbuf ls [--json]: the live buffers, from debugfs. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char ls_usage[] =
	"Usage: cohbuf ls [--json]\n"
	"\n"
	"List the live cohbuf buffers: inode, size, chunks, owner (the allocating\n"
	"pid and command), importer attachments and user mappings. Reads\n"
	COHBUF_DEBUGFS_BUFFERS ", so it needs root and debugfs.\n"
	"\n"
	"  -j, --json   print a JSON array instead of a table\n"
	"  -h, --help   show this help\n";

static void print_table(const struct cohbuf_entry *e, int n)
{
	char human[16];

	printf("%-10s %8s %6s %8s %-16s %6s %6s\n", "INODE", "SIZE", "CHUNKS",
	       "PID", "COMMAND", "ATTACH", "MAPS");
	for (int i = 0; i < n; i++) {
		format_size(e[i].size, human, sizeof(human));
		printf("%-10" PRIu64 " %8s %6u %8d %-16s %6u %6u\n", e[i].ino,
		       human, e[i].chunks, e[i].pid, e[i].comm,
		       e[i].attachments, e[i].mappings);
	}
}

static void print_json(const struct cohbuf_entry *e, int n)
{
	putchar('[');
	for (int i = 0; i < n; i++) {
		printf("%s\n  {\"ino\": %" PRIu64 ", \"size\": %" PRIu64
		       ", \"chunks\": %u, \"pid\": %d, \"comm\": ",
		       i ? "," : "", e[i].ino, e[i].size, e[i].chunks,
		       e[i].pid);
		json_print_string(e[i].comm);
		printf(", \"attachments\": %u, \"mappings\": %u}",
		       e[i].attachments, e[i].mappings);
	}
	puts(n ? "\n]" : "]");
}

int cmd_ls(int argc, char **argv)
{
	struct cohbuf_entry *entries;
	bool json = false;
	int n;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(ls_usage, stdout);
			return EXIT_OK;
		} else {
			return usage_error("ls", "unexpected argument '%s'", argv[i]);
		}
	}
	n = cohbuf_list(&entries);
	if (n == -ENOENT)
		return fail(COHBUF_DEBUGFS_BUFFERS " (is cohbuf loaded and debugfs mounted?)", -n);
	if (n < 0)
		return fail(COHBUF_DEBUGFS_BUFFERS, -n);
	if (json)
		print_json(entries, n);
	else
		print_table(entries, n);
	free(entries);
	return EXIT_OK;
}
