// SPDX-License-Identifier: GPL-2.0
/*
 * The mechanisms that have buffers: how each allocates, exports, maps and
 * frees one. Allocation goes from the request to a usable fd, with the
 * memory allocated and zeroed where the mechanism does that up front:
 *
 *   anon     mmap(MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE); no fd
 *   memfd    memfd_create + ftruncate + fallocate
 *   vgem     DRM_IOCTL_MODE_CREATE_DUMB + PRIME export; its pages come at
 *            the first mmap or attach
 *   udmabuf  sealed memfd + UDMABUF_CREATE, which allocates and pins
 *   heap     DMA_HEAP_IOCTL_ALLOC on /dev/dma_heap/system
 *   cohbuf   COHBUF_IOCTL_ALLOC on /dev/cohbuf
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdint.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <xf86drm.h>

#include "bench.h"
#include "cohbuf.h"
#include "cohbuf_vgem.h"

struct mech mechs[MECH_NR] = {
	[MECH_ANON] = { .name = "anon", .available = true },
	[MECH_PIPE] = { .name = "pipe", .copy = true, .available = true },
	[MECH_UNIX] = { .name = "unix", .copy = true, .available = true },
	[MECH_MEMFD] = { .name = "memfd", .available = true },
	[MECH_VGEM] = { .name = "vgem", .dmabuf = true },
	[MECH_UDMABUF] = { .name = "udmabuf", .dmabuf = true },
	[MECH_HEAP] = { .name = "system-heap", .dmabuf = true },
	[MECH_COHBUF] = { .name = "cohbuf", .dmabuf = true },
};

#define UDMABUF_LIMIT	"/sys/module/udmabuf/parameters/size_limit_mb"
/* The largest buffer measured is 256 MiB; udmabuf allows 64 by default. */
#define UDMABUF_WANT_MB	256

static long udmabuf_old_limit = -1;

static void udmabuf_restore_limit(void)
{
	if (udmabuf_old_limit >= 0)
		knob_write(UDMABUF_LIMIT, udmabuf_old_limit);
}

static void open_dev(enum mech_id mech, int *fd, const char *path, int flags)
{
	*fd = open(path, flags | O_CLOEXEC);
	if (*fd >= 0) {
		mechs[mech].available = true;
		return;
	}
	mechs[mech].why = errno == ENOENT ? "the device does not exist" :
					    strerror(errno);
}

void mech_open_all(void)
{
	int status;

	open_dev(MECH_COHBUF, &bench.cohbuf_dev, "/dev/cohbuf", O_RDWR);
	open_dev(MECH_HEAP, &bench.heap_dev, "/dev/dma_heap/system", O_RDONLY);
	open_dev(MECH_UDMABUF, &bench.udmabuf_dev, "/dev/udmabuf", O_RDWR);

	/* As root in the test bed, vgem_open() loads vgem if need be. */
	bench.vgem_dev = vgem_open(&status);
	mechs[MECH_VGEM].available = bench.vgem_dev >= 0;
	mechs[MECH_VGEM].why = "no vgem device (modprobe vgem failed)";

	bench.importer_dev = open("/dev/cohbuf_importer", O_RDWR | O_CLOEXEC);

	if (mechs[MECH_UDMABUF].available) {
		long limit = knob_read(UDMABUF_LIMIT);

		if (limit >= 0 && limit < UDMABUF_WANT_MB &&
		    !knob_write(UDMABUF_LIMIT, UDMABUF_WANT_MB)) {
			udmabuf_old_limit = limit;
			atexit(udmabuf_restore_limit);
			printf("# udmabuf size_limit_mb raised from %ld to %d for this run\n",
			       limit, UDMABUF_WANT_MB);
		}
	}
}

#define ALIGN_2M	(2UL << 20)

void *map_aligned(size_t len, size_t skew, int prot, int flags, int fd)
{
	size_t span = len + ALIGN_2M + skew;
	char *r, *p, *at;

	r = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (r == MAP_FAILED)
		return MAP_FAILED;
	at = (char *)(((uintptr_t)r + ALIGN_2M - 1) & ~(ALIGN_2M - 1)) + skew;
	p = mmap(at, len, prot, flags | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		int err = errno;

		munmap(r, span);
		errno = err;
		return MAP_FAILED;
	}
	if (at > r)
		munmap(r, at - r);
	if (r + span > at + len)
		munmap(at + len, r + span - (at + len));
	return p;
}

static int alloc_anon(struct buf *b, bool aligned)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;

	if (aligned)
		b->anon = map_aligned(b->len, 0, PROT_READ | PROT_WRITE, flags, -1);
	else
		b->anon = mmap(NULL, b->len, PROT_READ | PROT_WRITE, flags, -1, 0);
	return b->anon == MAP_FAILED ? -errno : 0;
}

static int alloc_memfd(struct buf *b)
{
	b->fd = memfd_create("cohbuf-bench", MFD_CLOEXEC);
	if (b->fd < 0)
		return -errno;
	if (ftruncate(b->fd, b->size) || fallocate(b->fd, 0, 0, b->len))
		return -errno;
	return 0;
}

static int alloc_vgem(struct buf *b)
{
	struct drm_mode_create_dumb req = {
		.width = b->size, .height = 1, .bpp = 8,
	};

	if (drmIoctl(bench.vgem_dev, DRM_IOCTL_MODE_CREATE_DUMB, &req))
		return -errno;
	b->handle = req.handle;
	return drmPrimeHandleToFD(bench.vgem_dev, req.handle,
				  DRM_CLOEXEC | DRM_RDWR, &b->fd);
}

static int alloc_udmabuf(struct buf *b)
{
	struct udmabuf_create req = { .flags = UDMABUF_FLAGS_CLOEXEC };

	b->memfd = memfd_create("cohbuf-bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (b->memfd < 0)
		return -errno;
	if (ftruncate(b->memfd, b->len) ||
	    fcntl(b->memfd, F_ADD_SEALS, F_SEAL_SHRINK))
		return -errno;
	req.memfd = b->memfd;
	req.size = b->len;
	b->fd = ioctl(bench.udmabuf_dev, UDMABUF_CREATE, &req);
	return b->fd < 0 ? -errno : 0;
}

static int alloc_heap(struct buf *b)
{
	struct dma_heap_allocation_data req = {
		.len = b->size, .fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(bench.heap_dev, DMA_HEAP_IOCTL_ALLOC, &req))
		return -errno;
	b->fd = req.fd;
	return 0;
}

static int alloc_cohbuf(struct buf *b)
{
	struct cohbuf_alloc req = {
		.size = b->size, .fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(bench.cohbuf_dev, COHBUF_IOCTL_ALLOC, &req))
		return -errno;
	b->fd = req.fd;
	return 0;
}

/*
 * Allocate and export; on failure nothing is left and a negative errno is
 * returned. @aligned: anonymous memory goes at a 2 MiB boundary, as
 * buf_map() puts the others when asked to.
 */
int buf_alloc(enum mech_id mech, size_t size, bool aligned, struct buf *b)
{
	int ret;

	*b = (struct buf){
		.mech = mech, .size = size, .len = page_round(size),
		.fd = -1, .memfd = -1,
	};
	switch (mech) {
	case MECH_ANON:
		ret = alloc_anon(b, aligned);
		break;
	case MECH_MEMFD:
		ret = alloc_memfd(b);
		break;
	case MECH_VGEM:
		ret = alloc_vgem(b);
		break;
	case MECH_UDMABUF:
		ret = alloc_udmabuf(b);
		break;
	case MECH_HEAP:
		ret = alloc_heap(b);
		break;
	case MECH_COHBUF:
		ret = alloc_cohbuf(b);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret) {
		b->anon = b->anon == MAP_FAILED ? NULL : b->anon;
		buf_free(b);
	}
	return ret;
}

void buf_free(struct buf *b)
{
	if (b->anon)
		munmap(b->anon, b->len);
	if (b->fd >= 0)
		close(b->fd);
	if (b->memfd >= 0)
		close(b->memfd);
	if (b->handle) {
		struct drm_gem_close req = { .handle = b->handle };

		drmIoctl(bench.vgem_dev, DRM_IOCTL_GEM_CLOSE, &req);
	}
	*b = (struct buf){ .fd = -1, .memfd = -1 };
}

void *buf_map(const struct buf *b, bool aligned)
{
	void *p;

	if (b->anon)
		return b->anon;
	if (aligned)
		p = map_aligned(b->len, 0, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd);
	else
		p = mmap(NULL, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

void buf_unmap(const struct buf *b, void *p)
{
	if (p && p != b->anon)
		munmap(p, b->len);
}

void dmabuf_sync(int fd, bool start, bool write)
{
	struct dma_buf_sync sync = {
		.flags = (start ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END) |
			 (write ? DMA_BUF_SYNC_RW : DMA_BUF_SYNC_READ),
	};

	while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) && (errno == EINTR || errno == EAGAIN))
		;
}

void buf_sync(const struct buf *b, bool start, bool write)
{
	if (mechs[b->mech].dmabuf)
		dmabuf_sync(b->fd, start, write);
}

/*
 * What the mechanism holds for the buffer once it is fully populated: the
 * resident pages of anonymous memory, the allocated blocks of a memfd
 * (udmabuf's included), and the size of a dma-buf, which its exporter
 * backs with exactly that many pages.
 */
long long buf_held_bytes(const struct buf *b)
{
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;

	if (b->anon) {
		size_t pages = b->len / page, n = 0;
		unsigned char *vec = malloc(pages);

		if (!vec || mincore(b->anon, b->len, vec)) {
			free(vec);
			return -1;
		}
		for (size_t i = 0; i < pages; i++)
			n += vec[i] & 1;
		free(vec);
		return (long long)n * page;
	}
	if (b->mech == MECH_MEMFD || b->mech == MECH_UDMABUF) {
		if (fstat(b->mech == MECH_MEMFD ? b->fd : b->memfd, &st))
			return -1;
		return (long long)st.st_blocks * 512;
	}
	return lseek(b->fd, 0, SEEK_END);
}
