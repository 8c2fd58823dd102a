// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf heap nodes: the dma-heap allocation ioctl, for user space written
 * against /dev/dma_heap/<name> (docs/heaps.md).
 *
 * A module cannot register a real dma-heap: dma_heap_add() is not exported
 * before 6.18, Debian's 6.1 has no dma-heap framework at all, and a heap
 * can never be removed, which would keep the module from unloading. So
 * each allocation policy gets a misc device of its own that answers
 * DMA_HEAP_IOCTL_ALLOC exactly as drivers/dma-buf/dma-heap.c does; a link
 * in /dev/dma_heap (an opt-in udev rule, or `cohbuf heap link`) shows it to
 * heap clients. The memory, its zeroing, limits and accounting are those
 * of COHBUF_IOCTL_ALLOC.
 */
#include <linux/build_bug.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/dma-heap.h>

#include <cohbuf.h>

#include "cohbuf_internal.h"

/* The heap ABI, which cohbuf answers but does not define. */
static_assert(sizeof(struct dma_heap_allocation_data) == 24);
static_assert(_IOC_NR(DMA_HEAP_IOCTL_ALLOC) == 0);

/**
 * struct cohbuf_heap - one heap node
 * @misc: /dev/cohbuf-heap-<name>, with /dev/cohbuf's permissions
 * @flags: the COHBUF_ALLOC_* policy of every buffer it allocates
 * @cdev: the device that allocates, set once at registration
 */
struct cohbuf_heap {
	struct miscdevice misc;
	u32 flags;
	struct cohbuf_device *cdev;
};

/*
 * The names say what the memory is (docs/heaps.md); the links in
 * /dev/dma_heap drop the "cohbuf-heap-" prefix.
 */
static struct cohbuf_heap cohbuf_heaps[] = {
	{ .misc.name = "cohbuf-heap-coherent", .flags = 0 },
	{ .misc.name = "cohbuf-heap-coherent-contiguous",
	  .flags = COHBUF_ALLOC_CONTIGUOUS },
	{ .misc.name = "cohbuf-heap-coherent-contiguous-dma32",
	  .flags = COHBUF_ALLOC_CONTIGUOUS | COHBUF_ALLOC_DMA32 },
};

/* dma_heap_ioctl_allocate()'s checks, in its order, with its errno. */
static int cohbuf_heap_check(const struct dma_heap_allocation_data *data)
{
	if (data->fd)
		return -EINVAL;
	if (data->fd_flags & ~DMA_HEAP_VALID_FD_FLAGS)
		return -EINVAL;
	if (data->heap_flags & ~DMA_HEAP_VALID_HEAP_FLAGS)
		return -EINVAL;
	if (!PAGE_ALIGN(data->len))
		return -EINVAL;
	return 0;
}

static long cohbuf_heap_alloc(struct cohbuf_device *cdev, u32 flags,
			      struct dma_heap_allocation_data *data,
			      void __user *uarg, unsigned int out_size)
{
	struct cohbuf_new_fd nfd;
	int ret;

	ret = cohbuf_heap_check(data);
	if (ret)
		return ret;
	ret = cohbuf_new_fd_alloc(cdev, data->len, flags, data->fd_flags, &nfd);
	if (ret)
		return ret;
	data->fd = nfd.fd;
	if (copy_to_user(uarg, data, out_size)) {
		cohbuf_new_fd_abort(&nfd);
		return -EFAULT;
	}
	cohbuf_new_fd_install(&nfd);
	return 0;
}

/**
 * cohbuf_heap_ioctl() - DMA_HEAP_IOCTL_ALLOC, as dma_heap_ioctl() answers it
 * @cdev: the device
 * @flags: the COHBUF_ALLOC_* policy of the node
 * @cmd: the user's command: only its number, size and direction count
 * @uarg: the user's struct dma_heap_allocation_data
 *
 * The command's encoded size says how much of the struct user space has:
 * a smaller (older) struct is zero-extended, the bytes of a larger (newer)
 * one beyond the known fields are ignored and copied back unchanged. A
 * command without the write direction reads nothing, one without the read
 * direction returns nothing (but the fd is installed all the same).
 *
 * Return: 0, or -EINVAL for another command number or bad arguments,
 * -EFAULT, -ENOMEM, or what COHBUF_IOCTL_ALLOC returns for the size.
 */
long cohbuf_heap_ioctl(struct cohbuf_device *cdev, u32 flags,
		       unsigned int cmd, void __user *uarg)
{
	const unsigned int kcmd = DMA_HEAP_IOCTL_ALLOC;
	unsigned int in_size, out_size;
	void *kdata;
	long ret;

	if (_IOC_NR(cmd) != _IOC_NR(kcmd))
		return -EINVAL;
	out_size = _IOC_SIZE(cmd);
	in_size = (cmd & kcmd & IOC_IN) ? out_size : 0;
	if (!(cmd & kcmd & IOC_OUT))
		out_size = 0;

	/* Zeroed: what user space did not pass reads as 0. */
	kdata = kzalloc(max3(in_size, out_size, _IOC_SIZE(kcmd)), GFP_KERNEL);
	if (!kdata)
		return -ENOMEM;
	if (copy_from_user(kdata, uarg, in_size))
		ret = -EFAULT;
	else
		ret = cohbuf_heap_alloc(cdev, flags, kdata, uarg, out_size);
	kfree(kdata);
	return ret;
}

static long cohbuf_heap_node_ioctl(struct file *file, unsigned int cmd,
				   unsigned long arg)
{
	struct cohbuf_heap *heap =
		container_of(file->private_data, struct cohbuf_heap, misc);

	return cohbuf_heap_ioctl(heap->cdev, heap->flags, cmd,
				 (void __user *)arg);
}

static const struct file_operations cohbuf_heap_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = cohbuf_heap_node_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static void cohbuf_heaps_deregister(unsigned int count)
{
	while (count--)
		misc_deregister(&cohbuf_heaps[count].misc);
}

int cohbuf_heaps_register(struct cohbuf_device *cdev)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(cohbuf_heaps); i++) {
		struct cohbuf_heap *heap = &cohbuf_heaps[i];

		heap->cdev = cdev;
		heap->misc.minor = MISC_DYNAMIC_MINOR;
		heap->misc.fops = &cohbuf_heap_fops;
		heap->misc.parent = cdev->misc.parent;
		heap->misc.mode = cdev->misc.mode;
		ret = misc_register(&heap->misc);
		if (ret)
			goto deregister_heaps;
	}
	return 0;

deregister_heaps:
	cohbuf_heaps_deregister(i);
	return ret;
}

void cohbuf_heaps_unregister(void)
{
	cohbuf_heaps_deregister(ARRAY_SIZE(cohbuf_heaps));
}
