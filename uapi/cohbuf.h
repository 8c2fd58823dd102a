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

/**
 * DOC: allocation flags
 *
 * %COHBUF_ALLOC_CONTIGUOUS
 *	The whole buffer is one physically contiguous range of its
 *	page-rounded size: a single DMA range for a device without an IOMMU
 *	(videobuf2-dma-contig, most SoC camera and FPGA engines). No memory is
 *	lost to rounding. Above the buddy allocator's largest block (4 MiB on
 *	x86-64) the range is taken at run time by migrating the pages in it,
 *	which fails with ENOMEM when memory is too fragmented or too full.
 *	Limited by the module parameter max_contiguous_size.
 * %COHBUF_ALLOC_DMA32
 *	Every page lies below 4 GiB, so a device with a 32-bit DMA mask
 *	reaches the buffer without bouncing. A device whose DMA mask cannot
 *	reach a buffer is refused when its driver maps the buffer:
 *	dma_buf_map_attachment() fails with ERANGE, and a rate-limited kernel
 *	log line names the device, its mask and this flag.
 *
 * The flags combine.
 */
#define COHBUF_ALLOC_CONTIGUOUS		0x1U
#define COHBUF_ALLOC_DMA32		0x2U
#define COHBUF_ALLOC_VALID_FLAGS	(COHBUF_ALLOC_CONTIGUOUS | COHBUF_ALLOC_DMA32)

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
 * E2BIG
 *	@flags has %COHBUF_ALLOC_CONTIGUOUS and @size is larger than the module
 *	parameter max_contiguous_size.
 * ENOMEM
 *	The live buffers together would exceed the module parameter
 *	max_total_size, @size is larger than all of the machine's memory, or
 *	the kernel could not allocate the memory (with %COHBUF_ALLOC_DMA32:
 *	below 4 GiB; with %COHBUF_ALLOC_CONTIGUOUS: in one range). Running out
 *	of memory never invokes the OOM killer.
 * EOPNOTSUPP
 *	@flags has %COHBUF_ALLOC_CONTIGUOUS and the kernel bounces every
 *	streaming DMA mapping through swiotlb (booted with swiotlb=force):
 *	the buffer could have no DMA address of its own.
 * EINTR
 *	The caller was killed while the memory was being gathered.
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
 * it. On x86 the memory is mapped write-back, as the CPU sees all RAM:
 * there is no uncached mapping.
 *
 * The mapping maps the memory by page frame number (VM_PFNMAP | VM_IO),
 * as drivers map device memory. Where the kernel has huge PFN maps (6.12
 * and later) and the cohbuf module parameter pmd_mappings is on (its
 * default; the parameter exists only there), each 2 MiB block of the
 * mapping that is 2 MiB-aligned in the address space and in physical
 * memory, and physically contiguous, is mapped with one 2 MiB entry at
 * its first touch, and the rest with 4 KiB entries, whatever the process's
 * or the mapping's THP settings (pmd_mappings is the switch). A mapping's
 * address is aligned so only if it is requested: the address modulo 2 MiB
 * must equal the offset modulo 2 MiB (libcohbuf's cohbuf_map() asks for
 * it). Elsewhere every page is mapped when mmap() returns.
 *
 * Because nothing in the mapping has a page the kernel can pin, calls that
 * pin user memory through get_user_pages() fail on it: O_DIRECT reads and
 * writes, vmsplice(2), io_uring buffer registration and
 * process_vm_readv(2)/process_vm_writev(2) fail with EFAULT; reads and
 * writes of /proc/PID/mem (and so ptrace(2) peeks and debuggers) with EIO.
 * madvise(2) with MADV_DONTNEED fails with EINVAL. /proc/PID/pagemap
 * reports the pages as not present; %COHBUF_IOCTL_INFO gives the physical
 * layout instead.
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

/**
 * struct cohbuf_range - one physically contiguous part of a buffer
 * @offset:	byte offset of the range in the buffer
 * @size:	its length in bytes, a whole number of pages
 * @dma_addr:	its DMA address on the cohbuf device: the bus address a
 *		device without an IOMMU uses. 0 unless &cohbuf_info.info_flags
 *		has %COHBUF_INFO_DMA_ADDR.
 */
struct cohbuf_range {
	__u64 offset;
	__u64 size;
	__u64 dma_addr;
};

/* &cohbuf_info.info_flags: the ranges' dma_addr fields are filled in. */
#define COHBUF_INFO_DMA_ADDR		0x1U

/**
 * struct cohbuf_info - argument of %COHBUF_IOCTL_INFO
 * @fd:		in: a dma-buf file descriptor that cohbuf exported.
 * @flags:	out: the %COHBUF_ALLOC_* flags the buffer was allocated with.
 * @size:	out: its size in bytes, as lseek(fd, 0, SEEK_END) gives it.
 * @nr_ranges:	out: how many physically contiguous ranges make it up: 1 for
 *		a %COHBUF_ALLOC_CONTIGUOUS buffer.
 * @ranges_cap:	in: room for this many entries at @ranges.
 * @ranges:	in: user pointer to an array of &struct cohbuf_range, or 0.
 *		The first min(@ranges_cap, @nr_ranges) ranges are written
 *		there, in buffer order.
 * @info_flags:	out: %COHBUF_INFO_* flags.
 * @pad:	must be zero (EINVAL otherwise).
 * @reserved:	must be zero (EINVAL otherwise); room for later extensions.
 */
struct cohbuf_info {
	__s32 fd;
	__u32 flags;
	__u64 size;
	__u32 nr_ranges;
	__u32 ranges_cap;
	__u64 ranges;
	__u32 info_flags;
	__u32 pad;
	__u64 reserved[2];
};

/**
 * DOC: COHBUF_IOCTL_INFO
 *
 * Describes a buffer that cohbuf exported: its size, its allocation flags
 * and its physically contiguous ranges. Call it with @ranges_cap 0 to learn
 * @nr_ranges, then again with room for them. The DMA addresses, which
 * expose physical memory layout, are given only to callers with
 * CAP_SYS_RAWIO (users who program a DMA engine themselves, e.g. through
 * UIO); other callers get 0 and no %COHBUF_INFO_DMA_ADDR.
 *
 * Return: 0 on success, or -1 with errno set to:
 *
 * EBADF
 *	@fd is not an open file descriptor.
 * EINVAL
 *	@fd is not a dma-buf, or is a dma-buf from another exporter; @pad or
 *	@reserved is not zero.
 * EFAULT
 *	The argument pointer, or @ranges for the entries to be written, is
 *	not valid.
 * ENOTTY
 *	The ioctl number is not one of cohbuf's.
 */
#define COHBUF_IOCTL_INFO	_IOWR(COHBUF_IOCTL_MAGIC, 0x03, struct cohbuf_info)

/**
 * DOC: Fences
 *
 * A cohbuf fence tells a consumer that a producer has finished with a
 * buffer, without a GPU driver. %COHBUF_IOCTL_FENCE_ATTACH creates an
 * unsignalled dma-fence, adds it to a dma-buf's reservation object and
 * returns it as a standard sync_file fd; %COHBUF_IOCTL_FENCE_SIGNAL
 * signals it. Consumers need nothing from cohbuf: poll(POLLIN) on the
 * dma-buf (POLLOUT for a read fence), %DMA_BUF_IOCTL_SYNC,
 * %DMA_BUF_IOCTL_EXPORT_SYNC_FILE, poll() on the sync_file, or any driver
 * that takes sync_file fds wait for it the usual way. SYNC_IOC_FILE_INFO on
 * the sync_file names the driver "cohbuf" and the timeline "cohbuf-fence".
 *
 * Each fence is a timeline of its own (its own fence context): fences on
 * one buffer may be signalled in any order and none replaces another in
 * the reservation object.
 *
 * No fence can make a consumer wait forever:
 *
 * - every fence signals with error -ETIMEDOUT when its timeout expires
 *   (&cohbuf_fence_attach.timeout_ms, by default the module parameter
 *   fence_timeout_ms, 10000; at most %COHBUF_FENCE_TIMEOUT_MAX_MS);
 * - when the last copy of the /dev/cohbuf open file that created fences is
 *   closed, also when its process is killed, its unsignalled fences signal
 *   at once with error -EPIPE.
 *
 * A copy of that open file inherited over fork() or passed over a unix
 * socket is the same open file: it may signal the fences. Another open()
 * of /dev/cohbuf is another file.
 *
 * %DMA_BUF_IOCTL_SYNC waits for fences too: a producer that brackets its
 * writes with it starts (%DMA_BUF_SYNC_START) before attaching its write
 * fence, or it waits for its own fence until the timeout.
 *
 * The module parameters max_fences_per_file and max_fences bound the
 * unsignalled fences of one open file and of all of them.
 * /sys/kernel/debug/cohbuf/fences lists the unsignalled fences with their
 * buffer and their creator, /sys/kernel/debug/cohbuf/live_fences counts
 * them.
 */

/*
 * &cohbuf_fence_attach.flags: a write fence. Without it the fence is a
 * read fence, which only writers wait for.
 */
#define COHBUF_FENCE_WRITE		0x1U
#define COHBUF_FENCE_VALID_FLAGS	COHBUF_FENCE_WRITE

/*
 * The largest &cohbuf_fence_attach.timeout_ms and fence_timeout_ms: one
 * minute. Every driver that waits on the buffer waits for the fence,
 * eviction and reclaim included, so the bound is kept short.
 */
#define COHBUF_FENCE_TIMEOUT_MAX_MS	60000U

/**
 * struct cohbuf_fence_attach - argument of %COHBUF_IOCTL_FENCE_ATTACH
 * @dmabuf_fd:	in: a dma-buf fd from any exporter, or -1 for a fence on no
 *		buffer (a plain user-space fence).
 * @flags:	in: %COHBUF_FENCE_* flags. With %COHBUF_FENCE_WRITE the fence
 *		is added with usage DMA_RESV_USAGE_WRITE: readers and writers
 *		wait for it. Without, with DMA_RESV_USAGE_READ: writers wait.
 * @timeout_ms:	in: the fence signals with -ETIMEDOUT this many milliseconds
 *		after it was created; 0 means the module parameter
 *		fence_timeout_ms.
 * @fence_fd:	out: the new sync_file fd, with O_CLOEXEC.
 * @reserved:	must be zero.
 */
struct cohbuf_fence_attach {
	__s32 dmabuf_fd;
	__u32 flags;
	__u32 timeout_ms;
	__s32 fence_fd;
	__u64 reserved[2];
};

/**
 * struct cohbuf_fence_signal - argument of %COHBUF_IOCTL_FENCE_SIGNAL
 * @fence_fd:	in: a sync_file that %COHBUF_IOCTL_FENCE_ATTACH returned, or
 *		any sync_file holding exactly that one fence.
 * @error:	in: 0, or a negative errno (-1 .. -4095): the fence signals
 *		with that error, which waiters see as the sync_file's status
 *		(SYNC_IOC_FILE_INFO) and a producer uses to report a failed
 *		frame.
 * @reserved:	must be zero.
 */
struct cohbuf_fence_signal {
	__s32 fence_fd;
	__s32 error;
	__u64 reserved;
};

/**
 * DOC: COHBUF_IOCTL_FENCE_ATTACH
 *
 * Creates an unsignalled fence, adds it to the reservation object of
 * &cohbuf_fence_attach.dmabuf_fd (unless it is -1) and returns it as a
 * sync_file in &cohbuf_fence_attach.fence_fd. The fd is installed last:
 * on any error no fd and no fence is left behind, and fence_fd holds no
 * meaning.
 *
 * Return: 0 on success, or -1 with errno set to:
 *
 * EBADF
 *	@dmabuf_fd is neither -1 nor an open file descriptor.
 * EINVAL
 *	@dmabuf_fd is an open file that is not a dma-buf; @flags holds a bit
 *	outside %COHBUF_FENCE_VALID_FLAGS; @reserved is not zero;
 *	@timeout_ms is above %COHBUF_FENCE_TIMEOUT_MAX_MS.
 * ENOSPC
 *	The open file already has max_fences_per_file unsignalled fences, or
 *	all files together have max_fences.
 * ENOMEM
 *	The fence or its reservation slot could not be allocated.
 * EINTR
 *	A signal arrived while waiting for the buffer's reservation lock.
 * EMFILE
 *	The process has no free file descriptor.
 * EFAULT
 *	The argument pointer is not valid.
 */
#define COHBUF_IOCTL_FENCE_ATTACH	_IOWR(COHBUF_IOCTL_MAGIC, 0x01, struct cohbuf_fence_attach)

/**
 * DOC: COHBUF_IOCTL_FENCE_SIGNAL
 *
 * Signals the fence of &cohbuf_fence_signal.fence_fd, with
 * &cohbuf_fence_signal.error. Only the open file of /dev/cohbuf that
 * created the fence may signal it.
 *
 * Return: 0 on success, or -1 with errno set to:
 *
 * EBADF
 *	@fence_fd is not an open file descriptor.
 * EINVAL
 *	@fence_fd is not a sync_file, or does not hold exactly one cohbuf
 *	fence (a merge of several fences, or a fence of another driver);
 *	@error is neither 0 nor in -4095 .. -1; @reserved is not zero.
 * EPERM
 *	Another open file of /dev/cohbuf created the fence.
 * EALREADY
 *	The fence has signalled already: by %COHBUF_IOCTL_FENCE_SIGNAL, by
 *	its timeout or by the close of its creator's file.
 * EFAULT
 *	The argument pointer is not valid.
 */
#define COHBUF_IOCTL_FENCE_SIGNAL	_IOW(COHBUF_IOCTL_MAGIC, 0x02, struct cohbuf_fence_signal)

#endif /* _UAPI_COHBUF_H */
