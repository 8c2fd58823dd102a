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
 *   cohbuf   cohbuf_alloc() (COHBUF_IOCTL_ALLOC on /dev/cohbuf)
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

#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <xf86drm.h>

#include "bench.h"
#include "cohbuf_vgem.h"
#include "libcohbuf.h"

#define UDMABUF_LIMIT	"/sys/module/udmabuf/parameters/size_limit_mb"
/* The largest buffer measured is 256 MiB; udmabuf allows 64 by default. */
#define UDMABUF_WANT_MB	256

static long udmabuf_old_limit = -1;

static void udmabuf_restore_limit(void)
{
	if (udmabuf_old_limit >= 0)
		knob_write(UDMABUF_LIMIT, udmabuf_old_limit);
}

static int open_dev(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* @fd: the mechanism's device, or -errno. */
static void mech_found(enum mech_id mech, int *dev, int fd)
{
	*dev = fd;
	mechs[mech].available = fd >= 0;
	if (fd < 0)
		mechs[mech].why = fd == -ENOENT ? "the device does not exist" :
						  strerror(-fd);
}

void mech_open_all(void)
{
	int status;

	mech_found(MECH_COHBUF, &bench.cohbuf_dev, cohbuf_open());
	mech_found(MECH_HEAP, &bench.heap_dev,
		   open_dev("/dev/dma_heap/system", O_RDONLY));
	mech_found(MECH_UDMABUF, &bench.udmabuf_dev,
		   open_dev("/dev/udmabuf", O_RDWR));

	/* As root in the test bed, vgem_open() loads vgem if need be. */
	mech_found(MECH_VGEM, &bench.vgem_dev, vgem_open(&status));
	if (bench.vgem_dev < 0)
		mechs[MECH_VGEM].why = "no vgem device (modprobe vgem failed)";

	bench.importer_dev = cohbuf_importer_open();

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

static int alloc_anon(struct buf *b)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;

	if (b->aligned)
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
	b->fd = cohbuf_alloc(bench.cohbuf_dev, b->size, NULL, O_RDWR | O_CLOEXEC);
	return b->fd < 0 ? b->fd : 0;
}

struct mech mechs[MECH_NR] = {
	[MECH_ANON] = { .name = "anon", .alloc = alloc_anon, .available = true },
	[MECH_PIPE] = { .name = "pipe", .copy = true, .available = true },
	[MECH_UNIX] = { .name = "unix", .copy = true, .available = true },
	[MECH_MEMFD] = { .name = "memfd", .alloc = alloc_memfd, .available = true },
	[MECH_VGEM] = { .name = "vgem", .alloc = alloc_vgem, .dmabuf = true },
	[MECH_UDMABUF] = { .name = "udmabuf", .alloc = alloc_udmabuf, .dmabuf = true },
	[MECH_HEAP] = { .name = "system-heap", .alloc = alloc_heap, .dmabuf = true },
	[MECH_COHBUF] = { .name = "cohbuf", .alloc = alloc_cohbuf, .dmabuf = true },
};

unsigned int mech_list(const enum mech_id *want, unsigned int n,
		       enum mech_id *list)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++)
		if (mechs[want[i]].available)
			list[k++] = want[i];
	return k;
}

void alloc_failed(enum mech_id mech, size_t size, int err)
{
	printf("# %s: allocating %zu bytes failed: %s\n", mechs[mech].name,
	       size, strerror(-err));
}

int buf_alloc(enum mech_id mech, size_t size, bool aligned, struct buf *b)
{
	int ret;

	*b = (struct buf){
		.mech = mech, .size = size, .len = page_round(size),
		.fd = -1, .memfd = -1, .aligned = aligned,
	};
	ret = mechs[mech].alloc ? mechs[mech].alloc(b) : -EINVAL;
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
	/* As users map it: cohbuf_map() places it for 2 MiB entries. */
	if (b->mech == MECH_COHBUF) {
		int ret = cohbuf_map(b->fd, 0, b->len, PROT_READ | PROT_WRITE, &p);

		errno = -ret;
		return ret ? NULL : p;
	}
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
	unsigned int access = write ? COHBUF_ACCESS_RW : COHBUF_ACCESS_READ;
	int ret;

	ret = start ? cohbuf_begin_cpu_access(fd, access) :
		      cohbuf_end_cpu_access(fd, access);
	if (ret)
		die("DMA_BUF_IOCTL_SYNC: %s", strerror(-ret));
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
