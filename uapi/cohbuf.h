/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cohbuf: coherent DMA buffers exported as dma-buf file descriptors.
 *
 * This is the only header user space needs to talk to /dev/cohbuf. The
 * returned fd is an ordinary dma-buf: mmap it MAP_SHARED, pass it over a
 * unix socket with SCM_RIGHTS, and use the <linux/dma-buf.h> ioctls
 * (DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME, ...) on it.
 */
#ifndef _UAPI_COHBUF_H
#define _UAPI_COHBUF_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define COHBUF_IOCTL_MAGIC		0xCB

/* No allocation flags are defined yet: every bit of cohbuf_alloc.flags is rejected. */
#define COHBUF_ALLOC_VALID_FLAGS	0x0U

/**
 * struct cohbuf_alloc - argument of %COHBUF_IOCTL_ALLOC
 * @size:	in: requested size in bytes, at least 1. It is rounded up to a
 *		whole number of pages; lseek(fd, 0, SEEK_END) on the returned
 *		fd gives the rounded size.
 * @fd_flags:	in: O_RDWR or O_RDONLY, optionally ORed with O_CLOEXEC.
 *		O_RDONLY buffers cannot be mapped PROT_WRITE. Any other bit,
 *		O_WRONLY included, is rejected with EINVAL.
 * @flags:	in: allocation flags, a subset of %COHBUF_ALLOC_VALID_FLAGS.
 *		Unknown bits are rejected with EINVAL.
 * @fd:		out: the new dma-buf file descriptor. Ignored on input.
 * @pad:	must be zero (EINVAL otherwise).
 * @reserved:	must be zero (EINVAL otherwise); room for later extensions.
 *
 * The memory is zeroed before the fd is returned.
 */
struct cohbuf_alloc {
	__u64 size;
	__u32 fd_flags;
	__u32 flags;
	__s32 fd;
	__u32 pad;
	__u64 reserved[2];
};

/**
 * DOC: COHBUF_IOCTL_ALLOC
 *
 * Allocates a buffer of coherent DMA memory on the cohbuf device and
 * returns it as a new dma-buf file descriptor in &cohbuf_alloc.fd. The fd
 * is installed only once every step that can fail has succeeded, so on
 * any error no fd and no memory is left behind.
 *
 * Return: 0 on success, or -1 with errno set to:
 *
 * EINVAL
 *	@size is 0, or rounding it up to whole pages overflows; @flags or
 *	@fd_flags holds an unknown bit; @fd_flags asks for O_WRONLY; @pad or
 *	@reserved is not zero.
 * EFBIG
 *	@size is larger than the module parameter max_buffer_size.
 * ENOMEM
 *	The live buffers together would exceed the module parameter
 *	max_total_size, @size is larger than all of the machine's memory, or
 *	the kernel could not allocate the memory. Running out of memory never
 *	invokes the OOM killer.
 * EMFILE
 *	The process has no free file descriptor (RLIMIT_NOFILE).
 * EFAULT
 *	The argument pointer is not valid.
 * ENOTTY
 *	The ioctl number is not one of cohbuf's.
 */
#define COHBUF_IOCTL_ALLOC	_IOWR(COHBUF_IOCTL_MAGIC, 0x00, struct cohbuf_alloc)

/**
 * DOC: Mapping a cohbuf buffer
 *
 * The fd that %COHBUF_IOCTL_ALLOC returns is mapped with mmap(2). A mapping
 * may start at any page offset inside the buffer and cover any part of
 * it. Every page is mapped when mmap() returns. On x86 the memory is
 * mapped write-back, as the CPU sees all RAM: there is no uncached mapping.
 *
 * mmap() returns MAP_FAILED with errno set to:
 *
 * EINVAL
 *	The mapping is not MAP_SHARED (MAP_PRIVATE), or it does not lie
 *	inside the buffer.
 * EACCES
 *	PROT_WRITE on a buffer allocated O_RDONLY. mprotect(2) to PROT_WRITE
 *	fails the same way.
 * ENOMEM
 *	The page tables could not be allocated.
 *
 * mremap(2) can move a mapping but not grow it: growing fails with EFAULT.
 */

#endif /* _UAPI_COHBUF_H */
