/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcohbuf: a small C library for cohbuf's coherent DMA buffers.
 *
 * Every function returns 0 (or a count, or a file descriptor) on success
 * and a negative errno on failure. None of them prints, exits or aborts.
 * The man page is libcohbuf(3).
 *
 * Build with `pkg-config --cflags --libs cohbuf`.
 */
#ifndef LIBCOHBUF_H
#define LIBCOHBUF_H

#include <stddef.h>
#include <stdint.h>

#include "cohbuf.h"
#include "cohbuf_importer.h"

#ifdef __cplusplus
extern "C" {
#endif

#define COHBUF_API __attribute__((visibility("default")))

#define COHBUF_DEVICE		"/dev/cohbuf"
#define COHBUF_IMPORTER_DEVICE	"/dev/cohbuf_importer"
#define COHBUF_DEBUGFS_BUFFERS	"/sys/kernel/debug/cohbuf/buffers"

/* The most fds one cohbuf_send_fds() or cohbuf_recv_fds() carries. */
#define COHBUF_MAX_FDS		64

/* Directions for cohbuf_begin_cpu_access() and cohbuf_end_cpu_access(). */
#define COHBUF_ACCESS_READ	(1U << 0)
#define COHBUF_ACCESS_WRITE	(1U << 1)
#define COHBUF_ACCESS_RW	(COHBUF_ACCESS_READ | COHBUF_ACCESS_WRITE)

/* The library's version, "MAJOR.MINOR.PATCH". */
COHBUF_API const char *cohbuf_version(void);

/* Opens /dev/cohbuf (O_RDWR | O_CLOEXEC): the device fd. */
COHBUF_API int cohbuf_open(void);

/*
 * Allocates a buffer of @size bytes (rounded up to whole pages) on the
 * device @dev and returns its dma-buf fd. @fd_flags is O_RDWR or O_RDONLY,
 * optionally ORed with O_CLOEXEC. @name, if not NULL, names the buffer
 * (see cohbuf_set_name()); if naming fails, the buffer is freed.
 */
COHBUF_API int cohbuf_alloc(int dev, uint64_t size, const char *name,
			    int fd_flags);

/*
 * cohbuf_alloc() with allocation flags: @flags is a set of
 * COHBUF_ALLOC_* bits (<cohbuf.h>), e.g. COHBUF_ALLOC_CONTIGUOUS for a
 * device that needs one DMA range, COHBUF_ALLOC_DMA32 for a device with a
 * 32-bit DMA mask. The kernel's errors come back as they are: -E2BIG
 * above max_contiguous_size, -ENOMEM when no such memory is free,
 * -EINVAL for an unknown flag (<cohbuf.h> documents them all).
 */
COHBUF_API int cohbuf_alloc_flags(int dev, uint64_t size, const char *name,
				  int fd_flags, uint32_t flags);

/* DMA_BUF_SET_NAME: at most 31 bytes, else -EINVAL (from the kernel). */
COHBUF_API int cohbuf_set_name(int fd, const char *name);

/* The size of any dma-buf, as lseek(fd, 0, SEEK_END) gives it. */
COHBUF_API int cohbuf_size(int fd, uint64_t *size);

/* Its inode number: two fds with the same one hold the same buffer. */
COHBUF_API int cohbuf_ino(int fd, uint64_t *ino);

/*
 * Maps @len bytes of @fd from @offset, MAP_SHARED, and stores the address.
 * From 2 MiB on, the address is aligned like @offset modulo 2 MiB, so that
 * the kernel can use 2 MiB entries (docs/design.md, "The user mapping").
 */
COHBUF_API int cohbuf_map(int fd, uint64_t offset, size_t len, int prot,
			  void **addr);
COHBUF_API int cohbuf_unmap(void *addr, size_t len);

/*
 * DMA_BUF_IOCTL_SYNC: bracket CPU access to a mapping. @access is a
 * non-empty set of COHBUF_ACCESS_* bits, the same for begin and end.
 * Retried while the kernel says EINTR or EAGAIN.
 */
COHBUF_API int cohbuf_begin_cpu_access(int fd, unsigned int access);
COHBUF_API int cohbuf_end_cpu_access(int fd, unsigned int access);

/*
 * Sends @nfds (0 to COHBUF_MAX_FDS) file descriptors with @len bytes of
 * @data in one message over the unix socket @sock (SCM_RIGHTS). On a
 * stream socket the rest of a partly sent payload is sent after it. A
 * stream cannot carry fds without data, so with @len 0 one zero byte is
 * sent (cohbuf_recv_fds() with @len 0 expects it).
 */
COHBUF_API int cohbuf_send_fds(int sock, const int *fds, unsigned int nfds,
			       const void *data, size_t len);

/*
 * Receives one message sent by cohbuf_send_fds(): exactly @len bytes into
 * @data, and up to @max_fds fds into @fds, opened O_CLOEXEC. Returns the
 * number of fds received. On a stream socket a payload that arrives in
 * pieces is gathered. Errors, after which no fd is left open:
 *   -EMSGSIZE      more fds arrived than @max_fds, or the control data
 *                  was truncated (MSG_CTRUNC), or a datagram was longer
 *                  than @len (MSG_TRUNC);
 *   -EBADMSG       a datagram or seqpacket message shorter than @len, or
 *                  control data other than SCM_RIGHTS;
 *   -ECONNRESET    the peer closed the connection before the whole
 *                  payload arrived;
 *   or recvmsg()'s errno.
 */
COHBUF_API int cohbuf_recv_fds(int sock, int *fds, unsigned int max_fds,
			       void *data, size_t len);

/*
 * COHBUF_IOCTL_INFO through the device @dev on the cohbuf dma-buf @fd:
 * fills @info (size, allocation flags, number of ranges, info_flags) and
 * the first min(@cap, nr_ranges) entries of @ranges (NULL if @cap is 0),
 * in buffer order. Returns nr_ranges, which may be more than @cap. The
 * DMA addresses are there only if info->info_flags has
 * COHBUF_INFO_DMA_ADDR (the caller has CAP_SYS_RAWIO); else they are 0.
 * -EINVAL for a dma-buf of another exporter.
 */
COHBUF_API int cohbuf_info(int dev, int fd, struct cohbuf_info *info,
			   struct cohbuf_range *ranges, unsigned int cap);

/*
 * cohbuf_info() with room for every range: stores a malloc'ed array of
 * them in @ranges (free() it) and returns their number.
 */
COHBUF_API int cohbuf_info_ranges(int dev, int fd, struct cohbuf_info *info,
				  struct cohbuf_range **ranges);

/* zlib-compatible CRC-32; pass 0 as @crc to start. */
COHBUF_API uint32_t cohbuf_crc32(uint32_t crc, const void *buf, size_t len);

/*
 * Page frame number behind @addr, from /proc/self/pagemap (frames read as
 * 0 without CAP_SYS_ADMIN): -ENODATA if the page is not present.
 */
COHBUF_API int cohbuf_pagemap_pfn(const void *addr, uint64_t *pfn);

/*
 * Fences (<cohbuf.h> documents the rules). cohbuf_fence_attach() creates
 * an unsignalled fence on dma-buf @dmabuf_fd (-1 for none) with
 * COHBUF_FENCE_* @flags and @timeout_ms (0: the module's default), and
 * returns its sync_file fd (O_CLOEXEC). cohbuf_fence_signal() signals it
 * from the same open file @dev, with @error 0 or a negative errno.
 */
COHBUF_API int cohbuf_fence_attach(int dev, int dmabuf_fd, uint32_t flags,
				   uint32_t timeout_ms);
COHBUF_API int cohbuf_fence_signal(int dev, int fence_fd, int error);
/*
 * Waits until poll() reports @events on @fd: POLLIN on a sync_file (it
 * signalled) or on a dma-buf (its write fences signalled), POLLOUT on a
 * dma-buf (all its fences signalled). -1 @timeout_ms waits without end.
 * 0, -ETIME when the time ran out, or -errno.
 */
COHBUF_API int cohbuf_fence_wait(int fd, short events, int timeout_ms);
/*
 * The status of sync_file @fence_fd (SYNC_IOC_FILE_INFO): 1 signalled,
 * 0 still active, or the negative error it signalled with. -errno if the
 * ioctl fails.
 */
COHBUF_API int cohbuf_fence_status(int fence_fd);
/* A new sync_file named @name that signals when both signalled. */
COHBUF_API int cohbuf_fence_merge(const char *name, int fd1, int fd2);

/* One live buffer, from debugfs (root only). */
struct cohbuf_entry {
	uint64_t ino;
	uint64_t size;
	uint32_t chunks;
	int32_t pid;
	char comm[16];
	uint32_t attachments;
	uint32_t mappings;
};

/*
 * Reads COHBUF_DEBUGFS_BUFFERS: stores a malloc'ed array of the live
 * buffers in @entries (free() it; NULL when there are none) and returns
 * their number.
 */
COHBUF_API int cohbuf_list(struct cohbuf_entry **entries);

/*
 * The test importer, /dev/cohbuf_importer (uapi/cohbuf_importer.h):
 * open it, attach a dma-buf (filling @arg: handle, nents, size), fill or
 * checksum a range through its kernel mapping, read a DMA address, detach.
 */
COHBUF_API int cohbuf_importer_open(void);
COHBUF_API int cohbuf_importer_attach(int imp, int fd,
				      struct cohbuf_imp_attach *arg);
COHBUF_API int cohbuf_importer_detach(int imp, uint32_t handle);
COHBUF_API int cohbuf_importer_fill(int imp, uint32_t handle, uint64_t offset,
				    uint64_t len, uint32_t pattern);
COHBUF_API int cohbuf_importer_crc32(int imp, uint32_t handle, uint64_t offset,
				     uint64_t len, uint32_t *crc);
COHBUF_API int cohbuf_importer_dma_addr(int imp, uint32_t handle,
					uint64_t offset, uint64_t *addr);
/*
 * The same as asynchronous jobs that wait for the buffer's fences and
 * have their own while they run; cohbuf_importer_wait() waits up to
 * @timeout_ms for the handle's last job and gives its status (0 or a
 * negative errno) and, for a checksum, its CRC (either may be NULL).
 */
COHBUF_API int cohbuf_importer_fill_async(int imp, uint32_t handle,
					  uint64_t offset, uint64_t len,
					  uint32_t pattern);
COHBUF_API int cohbuf_importer_crc32_async(int imp, uint32_t handle,
					   uint64_t offset, uint64_t len);
COHBUF_API int cohbuf_importer_wait(int imp, uint32_t handle,
				    uint32_t timeout_ms, int *status,
				    uint32_t *crc);

#ifdef __cplusplus
}
#endif

#endif /* LIBCOHBUF_H */
