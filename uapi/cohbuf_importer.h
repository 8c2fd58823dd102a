/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cohbuf_importer: a test importer for any dma-buf.
 *
 * /dev/cohbuf_importer imports a dma-buf the way a device driver does
 * (dma_buf_get, dma_buf_attach, dma_buf_map_attachment) against its own
 * platform device, and lets user space check what the device sees: CPU
 * access through the importer's kernel mapping, and the DMA address of
 * any byte. Handles belong to the open file: closing it detaches every
 * buffer that file attached.
 *
 * mmap() of /dev/cohbuf_importer at offset @handle * page size maps the
 * buffer of that attachment from its start, as a driver that lets user
 * space map what it imported does: through dma_buf_mmap(), so the exporter
 * makes the mapping, and the dma-buf's own access mode applies (a
 * read-only export cannot be mapped writable). The mapping keeps the
 * buffer alive after DETACH. Errors: ENOENT when @handle is not attached
 * on this open file; otherwise the exporter's (EINVAL when the range does
 * not lie inside the buffer).
 *
 * Every ioctl returns 0 on success, or -1 with errno set. These hold for
 * all of them:
 *
 * EFAULT
 *	The argument pointer is not valid.
 * ENOTTY
 *	The ioctl number is not one of cohbuf_importer's.
 */
#ifndef _UAPI_COHBUF_IMPORTER_H
#define _UAPI_COHBUF_IMPORTER_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* 0xCC 0x40-0x4F is free in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define COHBUF_IMP_IOCTL_MAGIC		0xCC

/* No attach flags are defined yet: every bit of cohbuf_imp_attach.flags is rejected. */
#define COHBUF_IMP_ATTACH_VALID_FLAGS	0x0U

/* Bits of cohbuf_imp_access.flags: see DOC: Asynchronous access. */
#define COHBUF_IMP_ACCESS_ASYNC		0x1U
#define COHBUF_IMP_ACCESS_VALID_FLAGS	COHBUF_IMP_ACCESS_ASYNC

/**
 * struct cohbuf_imp_attach - argument of %COHBUF_IMP_IOCTL_ATTACH
 * @fd:		in: a dma-buf file descriptor, from any exporter.
 * @flags:	in: a subset of %COHBUF_IMP_ATTACH_VALID_FLAGS (EINVAL
 *		otherwise).
 * @handle:	out: the attachment's handle, never 0. Valid on this open
 *		file only. Ignored on input.
 * @nents:	out: the number of DMA segments of the mapped buffer, as the
 *		importer's device sees it. Ignored on input.
 * @size:	out: the size of the dma-buf in bytes. Ignored on input.
 * @reserved:	must be zero (EINVAL otherwise); room for later extensions.
 */
struct cohbuf_imp_attach {
	__s32 fd;
	__u32 flags;
	__u32 handle;
	__u32 nents;
	__u64 size;
	__u64 reserved[2];
};

/**
 * struct cohbuf_imp_detach - argument of %COHBUF_IMP_IOCTL_DETACH
 * @handle:	in: a handle from %COHBUF_IMP_IOCTL_ATTACH on this open file.
 * @pad:	must be zero (EINVAL otherwise).
 */
struct cohbuf_imp_detach {
	__u32 handle;
	__u32 pad;
};

/**
 * struct cohbuf_imp_access - argument of %COHBUF_IMP_IOCTL_FILL and
 * %COHBUF_IMP_IOCTL_CRC32
 * @handle:	in: a handle from %COHBUF_IMP_IOCTL_ATTACH on this open file.
 * @pattern:	in: for FILL, the 32-bit value stored, in native byte order,
 *		into every 32-bit word of the range. Ignored by CRC32.
 * @offset:	in: start of the range in bytes; a multiple of 4.
 * @length:	in: length of the range in bytes; a multiple of 4, possibly 0.
 *		The range must lie inside the buffer.
 * @crc32:	out (synchronous CRC32 only): the zlib-compatible CRC-32 of
 *		the range, the value of zlib's crc32(0, data, length). Ignored
 *		on input; FILL and asynchronous CRC32 leave it untouched.
 * @flags:	in: a subset of %COHBUF_IMP_ACCESS_VALID_FLAGS (EINVAL
 *		otherwise).
 */
struct cohbuf_imp_access {
	__u32 handle;
	__u32 pattern;
	__u64 offset;
	__u64 length;
	__u32 crc32;
	__u32 flags;
};

/**
 * struct cohbuf_imp_dma_addr - argument of %COHBUF_IMP_IOCTL_DMA_ADDR
 * @handle:	in: a handle from %COHBUF_IMP_IOCTL_ATTACH on this open file.
 * @pad:	must be zero (EINVAL otherwise).
 * @offset:	in: a byte offset inside the buffer.
 * @dma_addr:	out: the DMA address at which the importer's device sees the
 *		byte at @offset. Ignored on input.
 */
struct cohbuf_imp_dma_addr {
	__u32 handle;
	__u32 pad;
	__u64 offset;
	__u64 dma_addr;
};

/**
 * struct cohbuf_imp_wait - argument of %COHBUF_IMP_IOCTL_WAIT
 * @handle:	in: a handle from %COHBUF_IMP_IOCTL_ATTACH on this open file.
 * @timeout_ms:	in: how long to wait for the job to complete, in ms; 0
 *		only looks.
 * @status:	out: 0 if the job ran, else the negative errno it completed
 *		with, the error of its fence. Ignored on input.
 * @crc32:	out: for a CRC32 job with @status 0, the CRC-32 of its range
 *		as %COHBUF_IMP_IOCTL_CRC32 gives it; else 0. Ignored on input.
 * @reserved:	must be zero (EINVAL otherwise).
 */
struct cohbuf_imp_wait {
	__u32 handle;
	__u32 timeout_ms;
	__s32 status;
	__u32 crc32;
	__u64 reserved;
};

/**
 * DOC: Asynchronous access
 *
 * With %COHBUF_IMP_ACCESS_ASYNC in &cohbuf_imp_access.flags, FILL and CRC32
 * queue a job and return as soon as it is queued, the way a driver queues
 * DMA, and the job synchronises implicitly, the way a device does:
 *
 * - It waits for the fences in the buffer's reservation object when the
 *   ioctl runs: a FILL (a write) for readers' and writers' fences, a CRC32
 *   (a read) for writers' fences only.
 * - While it is queued or running, it has a fence of its own in the
 *   reservation object, with usage WRITE for a FILL and READ for a CRC32:
 *   poll() on the dma-buf, %DMA_BUF_IOCTL_SYNC, %DMA_BUF_IOCTL_EXPORT_SYNC_FILE
 *   and other devices wait for it the usual way. Its driver name is
 *   "cohbuf_importer"; each handle is a timeline.
 * - It reads or writes the range through the importer's kernel mapping, as
 *   the device's DMA would, from a workqueue; then its fence signals.
 * - If a fence it waited for signalled with an error, the job leaves the
 *   buffer untouched and completes with that error, as does its fence.
 * - %COHBUF_IMP_IOCTL_DETACH of the handle, and the release of the open
 *   file (also when its process is killed), cancel a job that has not
 *   started: it completes with -ECANCELED. A job that has started runs to
 *   its end first. Either way they return only when the job has completed:
 *   no job and no unsignalled fence of the importer is left behind.
 *
 * A handle has one job at a time. %COHBUF_IMP_IOCTL_WAIT returns the result
 * of the last one. The errors are those of the synchronous ioctl, and:
 *
 * EBUSY
 *	The handle's previous job has not completed.
 * EINTR
 *	A signal arrived while waiting for the reservation lock; nothing was
 *	queued.
 * ENOMEM
 *	Out of memory; nothing was queued.
 */

/**
 * DOC: COHBUF_IMP_IOCTL_ATTACH
 *
 * Imports the dma-buf @fd as a device driver does: takes a reference to it
 * (dma_buf_get), attaches the importer's device to it and maps it for DMA
 * in both directions. Returns a new handle in &cohbuf_imp_attach.handle.
 * The attachment keeps the buffer alive until it is detached, even after
 * every fd and user mapping of it is gone. The kernel mapping that FILL and
 * CRC32 use is made by the first of them, not here.
 *
 * EINVAL
 *	@flags holds an unknown bit or @reserved is not zero; or @fd is not a
 *	dma-buf.
 * EBADF
 *	@fd is not an open file descriptor.
 * EFAULT
 *	Also: the module parameter contiguous is set and the buffer is not
 *	mapped as one DMA-contiguous range (the importer's device then
 *	emulates one that cannot scatter-gather, as videobuf2-dma-contig
 *	does).
 * ENOMEM
 *	Out of memory.
 *
 * Any other errno is the exporter's refusal to attach or map the buffer
 * for the importer's device (for example ERANGE from cohbuf when the
 * importer's DMA mask cannot reach the memory).
 */
#define COHBUF_IMP_IOCTL_ATTACH \
	_IOWR(COHBUF_IMP_IOCTL_MAGIC, 0x40, struct cohbuf_imp_attach)

/**
 * DOC: COHBUF_IMP_IOCTL_DETACH
 *
 * Undoes %COHBUF_IMP_IOCTL_ATTACH, in reverse order, and drops the
 * reference to the buffer. The handle is invalid afterwards.
 *
 * EINVAL
 *	@pad is not zero.
 * ENOENT
 *	@handle is not attached on this open file.
 */
#define COHBUF_IMP_IOCTL_DETACH \
	_IOW(COHBUF_IMP_IOCTL_MAGIC, 0x41, struct cohbuf_imp_detach)

/**
 * DOC: COHBUF_IMP_IOCTL_FILL
 *
 * Stores @pattern into every 32-bit word of [@offset, @offset + @length)
 * through the importer's kernel mapping, between dma_buf_begin_cpu_access()
 * and dma_buf_end_cpu_access(), which wait (interruptibly) for the buffer's
 * fences, or asynchronously (see DOC: Asynchronous access). The first FILL
 * or CRC32 on a handle maps the whole buffer into the kernel (vmap); the
 * mapping lasts until DETACH.
 *
 * EINVAL
 *	@offset or @length is not a multiple of 4, the range does not lie
 *	inside the buffer (including when @offset + @length overflows), or
 *	@flags holds an unknown bit.
 * ENOENT
 *	@handle is not attached on this open file.
 * EACCES
 *	The dma-buf was exported read-only (its fds are O_RDONLY).
 *
 * Any other errno is the exporter's, from its kernel mapping (EINVAL
 * when it has none) or from begin or end of CPU access.
 */
#define COHBUF_IMP_IOCTL_FILL \
	_IOW(COHBUF_IMP_IOCTL_MAGIC, 0x42, struct cohbuf_imp_access)

/**
 * DOC: COHBUF_IMP_IOCTL_CRC32
 *
 * Computes the zlib-compatible CRC-32 of [@offset, @offset + @length),
 * read through the importer's kernel mapping between
 * dma_buf_begin_cpu_access() and dma_buf_end_cpu_access(), and returns it
 * in &cohbuf_imp_access.crc32.
 *
 * EINVAL
 *	As for %COHBUF_IMP_IOCTL_FILL.
 * ENOENT
 *	@handle is not attached on this open file.
 * ENOMEM
 *	Out of memory (only for buffers in I/O memory, read through a bounce
 *	buffer).
 *
 * Any other errno is the exporter's, as for %COHBUF_IMP_IOCTL_FILL.
 */
#define COHBUF_IMP_IOCTL_CRC32 \
	_IOWR(COHBUF_IMP_IOCTL_MAGIC, 0x43, struct cohbuf_imp_access)

/**
 * DOC: COHBUF_IMP_IOCTL_DMA_ADDR
 *
 * Returns in &cohbuf_imp_dma_addr.dma_addr the DMA address at which the
 * importer's device sees the byte at @offset, found by walking the DMA
 * segments of the mapped buffer. Without an IOMMU, and with a DMA mask
 * wide enough that nothing is bounced, it is the physical address.
 *
 * EPERM
 *	The caller lacks CAP_SYS_ADMIN: DMA addresses reveal physical
 *	memory layout. Checked before anything else.
 * EINVAL
 *	@offset is not inside the buffer (or beyond the mapped segments), or
 *	@pad is not zero.
 * ENOENT
 *	@handle is not attached on this open file.
 */
#define COHBUF_IMP_IOCTL_DMA_ADDR \
	_IOWR(COHBUF_IMP_IOCTL_MAGIC, 0x44, struct cohbuf_imp_dma_addr)

/**
 * DOC: COHBUF_IMP_IOCTL_WAIT
 *
 * Waits up to @timeout_ms, interruptibly, for the last asynchronous job on
 * @handle to complete, and returns its @status and, for a CRC32, its @crc32.
 * A completed job's result stays until the next asynchronous access on the
 * handle.
 *
 * EINVAL
 *	@reserved is not zero.
 * ENOENT
 *	@handle is not attached on this open file.
 * ENODATA
 *	No asynchronous job was ever queued on @handle.
 * ETIMEDOUT
 *	The job has not completed within @timeout_ms.
 * EINTR
 *	A signal arrived first.
 */
#define COHBUF_IMP_IOCTL_WAIT \
	_IOWR(COHBUF_IMP_IOCTL_MAGIC, 0x45, struct cohbuf_imp_wait)

#endif /* _UAPI_COHBUF_IMPORTER_H */
