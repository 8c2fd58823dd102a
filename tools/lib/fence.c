// SPDX-License-Identifier: LGPL-2.1-or-later
/* libcohbuf: cohbuf fences (COHBUF_IOCTL_FENCE_*) and sync_file waits. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sync_file.h>

#include "libcohbuf.h"

int cohbuf_fence_attach(int dev, int dmabuf_fd, uint32_t flags,
			uint32_t timeout_ms)
{
	struct cohbuf_fence_attach arg = {
		.dmabuf_fd = dmabuf_fd,
		.flags = flags,
		.timeout_ms = timeout_ms,
	};

	if (ioctl(dev, COHBUF_IOCTL_FENCE_ATTACH, &arg))
		return -errno;
	return arg.fence_fd;
}

int cohbuf_fence_signal(int dev, int fence_fd, int error)
{
	struct cohbuf_fence_signal arg = {
		.fence_fd = fence_fd,
		.error = error,
	};

	return ioctl(dev, COHBUF_IOCTL_FENCE_SIGNAL, &arg) ? -errno : 0;
}

int cohbuf_fence_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ret;

	do {
		ret = poll(&pfd, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return -ETIME;
	return (pfd.revents & (POLLERR | POLLNVAL)) ? -EINVAL : 0;
}

int cohbuf_fence_status(int fence_fd)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(fence_fd, SYNC_IOC_FILE_INFO, &info))
		return -errno;
	return info.status;
}

int cohbuf_fence_merge(const char *name, int fd1, int fd2)
{
	struct sync_merge_data data;

	memset(&data, 0, sizeof(data));
	strncpy(data.name, name, sizeof(data.name) - 1);
	data.fd2 = fd2;
	if (ioctl(fd1, SYNC_IOC_MERGE, &data))
		return -errno;
	return data.fence;
}
