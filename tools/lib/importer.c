// SPDX-License-Identifier: LGPL-2.1-or-later
/* libcohbuf: the test importer, /dev/cohbuf_importer. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libcohbuf.h"

int cohbuf_importer_open(void)
{
	int fd = open(COHBUF_IMPORTER_DEVICE, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int cohbuf_importer_attach(int imp, int fd, struct cohbuf_imp_attach *arg)
{
	memset(arg, 0, sizeof(*arg));
	arg->fd = fd;
	return ioctl(imp, COHBUF_IMP_IOCTL_ATTACH, arg) ? -errno : 0;
}

int cohbuf_importer_detach(int imp, uint32_t handle)
{
	struct cohbuf_imp_detach arg = { .handle = handle };

	return ioctl(imp, COHBUF_IMP_IOCTL_DETACH, &arg) ? -errno : 0;
}

static int importer_fill(int imp, uint32_t handle, uint64_t offset,
			 uint64_t len, uint32_t pattern, uint32_t flags)
{
	struct cohbuf_imp_access arg = {
		.handle = handle,
		.pattern = pattern,
		.offset = offset,
		.length = len,
		.flags = flags,
	};

	return ioctl(imp, COHBUF_IMP_IOCTL_FILL, &arg) ? -errno : 0;
}

int cohbuf_importer_fill(int imp, uint32_t handle, uint64_t offset,
			 uint64_t len, uint32_t pattern)
{
	return importer_fill(imp, handle, offset, len, pattern, 0);
}

int cohbuf_importer_fill_async(int imp, uint32_t handle, uint64_t offset,
			       uint64_t len, uint32_t pattern)
{
	return importer_fill(imp, handle, offset, len, pattern,
			     COHBUF_IMP_ACCESS_ASYNC);
}

static int importer_crc32(int imp, uint32_t handle, uint64_t offset,
			  uint64_t len, uint32_t flags, uint32_t *crc)
{
	struct cohbuf_imp_access arg = {
		.handle = handle,
		.offset = offset,
		.length = len,
		.flags = flags,
	};

	if (ioctl(imp, COHBUF_IMP_IOCTL_CRC32, &arg))
		return -errno;
	if (crc)
		*crc = arg.crc32;
	return 0;
}

int cohbuf_importer_crc32(int imp, uint32_t handle, uint64_t offset,
			  uint64_t len, uint32_t *crc)
{
	return importer_crc32(imp, handle, offset, len, 0, crc);
}

int cohbuf_importer_crc32_async(int imp, uint32_t handle, uint64_t offset,
				uint64_t len)
{
	return importer_crc32(imp, handle, offset, len,
			      COHBUF_IMP_ACCESS_ASYNC, NULL);
}

int cohbuf_importer_wait(int imp, uint32_t handle, uint32_t timeout_ms,
			 int *status, uint32_t *crc)
{
	struct cohbuf_imp_wait arg = {
		.handle = handle,
		.timeout_ms = timeout_ms,
	};

	if (ioctl(imp, COHBUF_IMP_IOCTL_WAIT, &arg))
		return -errno;
	if (status)
		*status = arg.status;
	if (crc)
		*crc = arg.crc32;
	return 0;
}

int cohbuf_importer_dma_addr(int imp, uint32_t handle, uint64_t offset,
			     uint64_t *addr)
{
	struct cohbuf_imp_dma_addr arg = { .handle = handle, .offset = offset };

	if (ioctl(imp, COHBUF_IMP_IOCTL_DMA_ADDR, &arg))
		return -errno;
	*addr = arg.dma_addr;
	return 0;
}
