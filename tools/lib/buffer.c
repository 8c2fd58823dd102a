// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libcohbuf: the device, allocation, names, size and inode, mappings and
 * CPU access.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libcohbuf.h"

const char *cohbuf_version(void)
{
	return COHBUF_VERSION;
}

int cohbuf_open(void)
{
	int fd = open(COHBUF_DEVICE, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int cohbuf_alloc_flags(int dev, uint64_t size, const char *name,
		       int fd_flags, uint32_t flags)
{
	struct cohbuf_alloc req = {
		.size = size,
		.fd_flags = (uint32_t)fd_flags,
		.flags = flags,
	};
	int ret;

	if (ioctl(dev, COHBUF_IOCTL_ALLOC, &req))
		return -errno;
	if (name) {
		ret = cohbuf_set_name(req.fd, name);
		if (ret) {
			close(req.fd);
			return ret;
		}
	}
	return req.fd;
}

int cohbuf_alloc(int dev, uint64_t size, const char *name, int fd_flags)
{
	return cohbuf_alloc_flags(dev, size, name, fd_flags, 0);
}

int cohbuf_set_name(int fd, const char *name)
{
	return ioctl(fd, DMA_BUF_SET_NAME, name) ? -errno : 0;
}

int cohbuf_size(int fd, uint64_t *size)
{
	off_t end = lseek(fd, 0, SEEK_END);

	if (end < 0)
		return -errno;
	*size = (uint64_t)end;
	return 0;
}

int cohbuf_ino(int fd, uint64_t *ino)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	*ino = st.st_ino;
	return 0;
}

/*
 * Where the kernel has huge PFN maps, cohbuf maps each 2 MiB-aligned part
 * of a buffer with one 2 MiB entry, if the mapping's address is aligned
 * like the buffer offset. The dma-buf core gives its files no
 * get_unmapped_area, so mmap() places them anywhere page-aligned: reserve
 * @len plus 2 MiB of address space, and keep the part that is aligned.
 */
#define COHBUF_PMD_SIZE	(2UL << 20)

static void *cohbuf_map_place(uint64_t offset, size_t len)
{
	size_t span = len + COHBUF_PMD_SIZE;
	uintptr_t res, at;
	void *p;

	if (len < COHBUF_PMD_SIZE || len > SIZE_MAX - COHBUF_PMD_SIZE)
		return NULL;
	p = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	res = (uintptr_t)p;
	at = res + ((offset - res) & (COHBUF_PMD_SIZE - 1));
	if (at > res)
		munmap(p, at - res);
	munmap((void *)(at + len), res + span - (at + len));
	return (void *)at;
}

int cohbuf_map(int fd, uint64_t offset, size_t len, int prot, void **addr)
{
	void *at, *p;

	if (offset > INT64_MAX)
		return -EINVAL;
	at = cohbuf_map_place(offset, len);
	p = mmap(at, len, prot, MAP_SHARED | (at ? MAP_FIXED : 0), fd,
		 (off_t)offset);
	if (p == MAP_FAILED) {
		int err = errno;

		if (at)
			munmap(at, len);
		return -err;
	}
	*addr = p;
	return 0;
}

int cohbuf_unmap(void *addr, size_t len)
{
	return munmap(addr, len) ? -errno : 0;
}

static int cohbuf_sync(int fd, unsigned int access, uint64_t when)
{
	struct dma_buf_sync sync = { .flags = when };
	int ret;

	if (!access || (access & ~COHBUF_ACCESS_RW))
		return -EINVAL;
	if (access & COHBUF_ACCESS_READ)
		sync.flags |= DMA_BUF_SYNC_READ;
	if (access & COHBUF_ACCESS_WRITE)
		sync.flags |= DMA_BUF_SYNC_WRITE;
	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	} while (ret && (errno == EINTR || errno == EAGAIN));
	return ret ? -errno : 0;
}

int cohbuf_begin_cpu_access(int fd, unsigned int access)
{
	return cohbuf_sync(fd, access, DMA_BUF_SYNC_START);
}

int cohbuf_end_cpu_access(int fd, unsigned int access)
{
	return cohbuf_sync(fd, access, DMA_BUF_SYNC_END);
}
