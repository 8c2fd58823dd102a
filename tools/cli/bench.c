// SPDX-License-Identifier: GPL-2.0
/* cohbuf bench [ARGS]: run cohbuf-bench, next to this program or in PATH. */
#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define BENCH "cohbuf-bench"

int cmd_bench(int argc, char **argv)
{
	char exe[PATH_MAX], path[PATH_MAX + sizeof(BENCH)];
	ssize_t n;

	(void)argc;
	argv[0] = (char *)BENCH;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(path, sizeof(path), "%s/" BENCH, dirname(exe));
		if (!access(path, X_OK)) {
			execv(path, argv);
			return fail(path, errno);
		}
	}
	execvp(BENCH, argv);
	if (errno != ENOENT)
		return fail(BENCH, errno);
	fprintf(stderr,
		"cohbuf: %s is not installed: not next to this program nor in PATH (build it with 'make bench')\n",
		BENCH);
	return EXIT_FAIL;
}
