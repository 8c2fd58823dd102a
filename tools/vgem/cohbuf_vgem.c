// SPDX-License-Identifier: GPL-2.0
/*
 * Finding vgem, the in-tree DRM driver that the selftests and cohbuf-bench
 * use as a real importer. Not part of libcohbuf: it needs libdrm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xf86drm.h>

#include "cohbuf_vgem.h"

static int vgem_find(void)
{
	char path[32];
	int i, fd;

	for (i = 0; i < 64; i++) {
		drmVersionPtr ver;
		bool found;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		ver = drmGetVersion(fd);
		found = ver && !strcmp(ver->name, "vgem");
		drmFreeVersion(ver);
		if (found)
			return fd;
		close(fd);
	}
	return -ENODEV;
}

int vgem_open(int *modprobe_status)
{
	int fd = vgem_find();

	*modprobe_status = 0;
	if (fd >= 0)
		return fd;
	/* The test bed runs as root: load it ourselves. */
	*modprobe_status = system("modprobe vgem >/dev/null 2>&1");
	return vgem_find();
}
