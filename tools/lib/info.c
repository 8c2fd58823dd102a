// SPDX-License-Identifier: LGPL-2.1-or-later
/* libcohbuf: COHBUF_IOCTL_INFO, a buffer's flags and physical ranges. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "libcohbuf.h"

int cohbuf_info(int dev, int fd, struct cohbuf_info *info,
		struct cohbuf_range *ranges, unsigned int cap)
{
	if (cap && !ranges)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->fd = fd;
	info->ranges_cap = cap;
	info->ranges = (uintptr_t)ranges;
	if (ioctl(dev, COHBUF_IOCTL_INFO, info))
		return -errno;
	if (info->nr_ranges > INT_MAX)
		return -EOVERFLOW;
	return (int)info->nr_ranges;
}

int cohbuf_info_ranges(int dev, int fd, struct cohbuf_info *info,
		       struct cohbuf_range **ranges)
{
	struct cohbuf_range *list;
	int n, ret;

	*ranges = NULL;
	n = cohbuf_info(dev, fd, info, NULL, 0);
	if (n <= 0)
		return n;
	list = calloc((size_t)n, sizeof(*list));
	if (!list)
		return -ENOMEM;
	/* A buffer's ranges are fixed for its lifetime: the count holds. */
	ret = cohbuf_info(dev, fd, info, list, (unsigned int)n);
	if (ret != n) {
		free(list);
		return ret < 0 ? ret : -EPROTO;
	}
	*ranges = list;
	return n;
}
