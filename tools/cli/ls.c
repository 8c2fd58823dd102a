// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf ls [--json] [--fdinfo]: the live buffers, from debugfs, or the
 * open ones from /proc/PID/fdinfo when debugfs is out of reach.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char ls_usage[] =
	"Usage: cohbuf ls [--json] [--fdinfo]\n"
	"\n"
	"List the live cohbuf buffers: inode, size, chunks, owner (the allocating\n"
	"pid and command), importer attachments and user mappings, from\n"
	COHBUF_DEBUGFS_BUFFERS " (root and debugfs).\n"
	"Without them, list the cohbuf fds open in the processes whose\n"
	"/proc/PID/fdinfo this user may read: inode, size, name, pid, command, fd.\n"
	"\n"
	"  -j, --json     print a JSON array instead of a table\n"
	"  -f, --fdinfo   read /proc/PID/fdinfo even when debugfs is readable\n"
	"  -h, --help     show this help\n";

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

static void print_fd_table(const struct cli_fd *fds, int n)
{
	char human[16];

	printf("%-10s %8s %-32s %8s %-16s %4s\n", "INODE", "SIZE", "NAME", "PID",
	       "COMMAND", "FD");
	for (int i = 0; i < n; i++) {
		format_size(fds[i].size, human, sizeof(human));
		printf("%-10" PRIu64 " %8s %-32s %8d %-16s %4d\n", fds[i].ino,
		       human, fds[i].name[0] ? fds[i].name : "-", fds[i].pid,
		       fds[i].comm, fds[i].fd);
	}
}

static void print_fd_json(const struct cli_fd *fds, int n)
{
	putchar('[');
	for (int i = 0; i < n; i++) {
		printf("%s\n  {\"ino\": %" PRIu64 ", \"size\": %" PRIu64
		       ", \"name\": ", i ? "," : "", fds[i].ino, fds[i].size);
		json_print_string(fds[i].name);
		printf(", \"pid\": %d, \"comm\": ", fds[i].pid);
		json_print_string(fds[i].comm);
		printf(", \"fd\": %d}", fds[i].fd);
	}
	puts(n ? "\n]" : "]");
}

static int ls_fdinfo(bool json)
{
	struct cli_fd *fds;
	int n = cli_fdinfo_list(&fds);

	if (n < 0)
		return fail("/proc/PID/fdinfo", -n);
	(json ? print_fd_json : print_fd_table)(fds, n);
	free(fds);
	return EXIT_OK;
}

int cmd_ls(int argc, char **argv)
{
	struct cohbuf_entry *entries;
	bool json = false, fdinfo = false;
	int n;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--fdinfo")) {
			fdinfo = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(ls_usage, stdout);
			return EXIT_OK;
		} else {
			return usage_error("ls", "unexpected argument '%s'", argv[i]);
		}
	}
	if (fdinfo)
		return ls_fdinfo(json);
	n = cohbuf_list(&entries);
	if (n == -ENOENT || n == -EACCES || n == -EPERM) {
		fprintf(stderr, "cohbuf: %s: %s; listing the open buffers from /proc/PID/fdinfo\n",
			COHBUF_DEBUGFS_BUFFERS, strerror(-n));
		return ls_fdinfo(json);
	}
	if (n < 0)
		return fail(COHBUF_DEBUGFS_BUFFERS, -n);
	(json ? print_json : print_table)(entries, n);
	free(entries);
	return EXIT_OK;
}
