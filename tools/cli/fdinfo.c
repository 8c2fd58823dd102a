// SPDX-License-Identifier: GPL-2.0
/*
 * The cohbuf buffers that processes hold open, from /proc/PID/fdinfo: what
 * `cohbuf ls` shows when debugfs is out of reach (no root, or no debugfs).
 * Only the processes whose fdinfo the caller may read are seen.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Read the fields of one fdinfo file; true if it is a cohbuf dma-buf. */
static bool read_fdinfo(int dir, const char *fd_name, struct cli_fd *out)
{
	int fd = openat(dir, fd_name, O_RDONLY | O_CLOEXEC);
	char line[128];
	bool ours = false;
	FILE *f;

	if (fd < 0)
		return false;
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return false;
	}
	memset(out, 0, sizeof(*out));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "ino: %" SCNu64, &out->ino) == 1 ||
		    sscanf(line, "size: %" SCNu64, &out->size) == 1)
			continue;
		if (!strcmp(line, "exp_name:\tcohbuf"))
			ours = true;
		else if (!strncmp(line, "name:\t", 6))
			snprintf(out->name, sizeof(out->name), "%.32s", line + 6);
	}
	fclose(f);
	return ours;
}

static void read_comm(int pid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	comm[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, (int)len, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

static int append(struct cli_fd **fds, int *n, const struct cli_fd *fd)
{
	struct cli_fd *grown = realloc(*fds, (*n + 1) * sizeof(**fds));

	if (!grown)
		return -ENOMEM;
	grown[(*n)++] = *fd;
	*fds = grown;
	return 0;
}

/* Add the cohbuf fds of one process; an unreadable one adds nothing. */
static int scan_pid(int pid, struct cli_fd **fds, int *n)
{
	char dir_path[64];
	struct dirent *d;
	struct cli_fd fd;
	int err = 0;
	DIR *dir;

	snprintf(dir_path, sizeof(dir_path), "/proc/%d/fdinfo", pid);
	dir = opendir(dir_path);
	if (!dir)
		return 0;
	while (!err && (d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		if (!read_fdinfo(dirfd(dir), d->d_name, &fd))
			continue;
		fd.pid = pid;
		fd.fd = atoi(d->d_name);
		read_comm(pid, fd.comm, sizeof(fd.comm));
		err = append(fds, n, &fd);
	}
	closedir(dir);
	return err;
}

int cli_fdinfo_list(struct cli_fd **fds)
{
	struct dirent *d;
	int n = 0, err = 0;
	DIR *proc;

	*fds = NULL;
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while (!err && (d = readdir(proc))) {
		if (isdigit((unsigned char)d->d_name[0]))
			err = scan_pid(atoi(d->d_name), fds, &n);
	}
	closedir(proc);
	if (err) {
		free(*fds);
		*fds = NULL;
		return err;
	}
	return n;
}
