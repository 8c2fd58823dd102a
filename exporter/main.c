// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf: coherent DMA buffers exported as dma-buf file descriptors.
 *
 * A platform device with a 64-bit DMA mask allocates the memory; the misc
 * device /dev/cohbuf carries the ioctls.
 */
#include <linux/build_bug.h>
#include <linux/cc_platform.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/dma-heap.h>

#include <cohbuf.h>

#include "cohbuf_internal.h"
#include "cohbuf_compat.h"

unsigned long cohbuf_max_buffer_size = SZ_256M;
module_param_named(max_buffer_size, cohbuf_max_buffer_size, ulong, 0644);
MODULE_PARM_DESC(max_buffer_size,
		 "Largest single buffer in bytes; larger requests fail with EFBIG (default 256 MiB)");

unsigned long cohbuf_max_total_size = SZ_1G;
module_param_named(max_total_size, cohbuf_max_total_size, ulong, 0644);
MODULE_PARM_DESC(max_total_size,
		 "Cap on all live buffers together in bytes; beyond it allocation fails with ENOMEM (default 1 GiB)");

unsigned long cohbuf_max_contiguous_size = SZ_64M;
module_param_named(max_contiguous_size, cohbuf_max_contiguous_size, ulong, 0644);
MODULE_PARM_DESC(max_contiguous_size,
		 "Largest COHBUF_ALLOC_CONTIGUOUS buffer in bytes; larger requests fail with E2BIG (default 64 MiB)");

/* The uapi layout is ABI: the same on 32- and 64-bit user space. */
static_assert(sizeof(struct cohbuf_alloc) == 40);
static_assert(offsetof(struct cohbuf_alloc, fd) == 16);
static_assert(offsetof(struct cohbuf_alloc, reserved) == 24);
static_assert(sizeof(struct cohbuf_range) == 24);
static_assert(sizeof(struct cohbuf_info) == 56);
static_assert(offsetof(struct cohbuf_info, ranges) == 24);
static_assert(offsetof(struct cohbuf_info, reserved) == 40);
static_assert(sizeof(struct cohbuf_fence_attach) == 32);
static_assert(offsetof(struct cohbuf_fence_attach, reserved) == 16);
static_assert(sizeof(struct cohbuf_fence_signal) == 16);

static struct cohbuf_device cohbuf_dev = {
	.lock = __MUTEX_INITIALIZER(cohbuf_dev.lock),
	.buffers = LIST_HEAD_INIT(cohbuf_dev.buffers),
};

static int cohbuf_alloc_check(const struct cohbuf_alloc *arg)
{
	u32 mode = arg->fd_flags & O_ACCMODE;

	if (arg->flags & ~COHBUF_ALLOC_VALID_FLAGS)
		return -EINVAL;
	if (arg->fd_flags & ~(O_ACCMODE | O_CLOEXEC))
		return -EINVAL;
	if (mode != O_RDONLY && mode != O_RDWR)
		return -EINVAL;
	if (arg->pad || memchr_inv(arg->reserved, 0, sizeof(arg->reserved)))
		return -EINVAL;
	return 0;
}

static struct dma_buf *cohbuf_export_new(struct cohbuf_device *cdev, u64 size,
					 u32 flags, u32 fd_flags)
{
	struct cohbuf_buffer *buf;
	struct dma_buf *dmabuf;

	buf = cohbuf_buffer_create(cdev, size, flags);
	if (IS_ERR(buf))
		return ERR_CAST(buf);

	dmabuf = cohbuf_dmabuf_export(buf, fd_flags);
	if (IS_ERR(dmabuf)) {
		cohbuf_buffer_free(buf);
		return dmabuf;
	}
	/* The dma-buf owns buf now: only dma_buf_put() may free it. */
	cohbuf_buffer_publish(buf, dmabuf);
	return dmabuf;
}

/**
 * cohbuf_new_fd_alloc() - a new buffer behind a reserved, not yet installed fd
 * @cdev: the device
 * @size: the requested size in bytes
 * @flags: COHBUF_ALLOC_*
 * @fd_flags: the access mode and O_CLOEXEC, already checked
 * @nfd: filled in on success
 *
 * The caller reports nfd->fd to user space, then calls
 * cohbuf_new_fd_install(), or cohbuf_new_fd_abort() if reporting failed:
 * the fd is installed last, so that a failed call leaves none behind.
 *
 * Return: 0, or a negative errno.
 */
int cohbuf_new_fd_alloc(struct cohbuf_device *cdev, u64 size, u32 flags,
			u32 fd_flags, struct cohbuf_new_fd *nfd)
{
	nfd->fd = get_unused_fd_flags(fd_flags & O_CLOEXEC);
	if (nfd->fd < 0)
		return nfd->fd;

	nfd->dmabuf = cohbuf_export_new(cdev, size, flags, fd_flags);
	if (IS_ERR(nfd->dmabuf)) {
		put_unused_fd(nfd->fd);
		return PTR_ERR(nfd->dmabuf);
	}
	return 0;
}

void cohbuf_new_fd_install(const struct cohbuf_new_fd *nfd)
{
	cohbuf_dma_buf_fd_install(nfd->dmabuf, nfd->fd);
}

void cohbuf_new_fd_abort(const struct cohbuf_new_fd *nfd)
{
	dma_buf_put(nfd->dmabuf);
	put_unused_fd(nfd->fd);
}

static long cohbuf_ioctl_alloc(struct cohbuf_device *cdev,
			       struct cohbuf_alloc __user *uarg)
{
	struct cohbuf_new_fd nfd;
	struct cohbuf_alloc arg;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	ret = cohbuf_alloc_check(&arg);
	if (ret)
		return ret;

	ret = cohbuf_new_fd_alloc(cdev, arg.size, arg.flags, arg.fd_flags, &nfd);
	if (ret)
		return ret;
	if (put_user(nfd.fd, &uarg->fd)) {
		cohbuf_new_fd_abort(&nfd);
		return -EFAULT;
	}
	cohbuf_new_fd_install(&nfd);
	return 0;
}

/* misc_open() left the miscdevice in private_data; the file's state replaces it. */
static int cohbuf_open(struct inode *inode, struct file *file)
{
	struct cohbuf_file *cfile;

	cfile = kzalloc(sizeof(*cfile), GFP_KERNEL_ACCOUNT);
	if (!cfile)
		return -ENOMEM;
	cfile->cdev = container_of(file->private_data, struct cohbuf_device,
				   misc);
	INIT_LIST_HEAD(&cfile->fences);
	file->private_data = cfile;
	return 0;
}

static int cohbuf_release(struct inode *inode, struct file *file)
{
	struct cohbuf_file *cfile = file->private_data;

	cohbuf_fence_file_release(cfile);
	kfree(cfile);
	return 0;
}

static long cohbuf_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct cohbuf_file *cfile = file->private_data;
	struct cohbuf_device *cdev = cfile->cdev;

	/* dma-heap clients allocate from /dev/cohbuf as from a heap node. */
	if (_IOC_TYPE(cmd) == DMA_HEAP_IOC_MAGIC)
		return cohbuf_heap_ioctl(cdev, 0, cmd, (void __user *)arg);

	switch (cmd) {
	case COHBUF_IOCTL_ALLOC:
		return cohbuf_ioctl_alloc(cdev, (void __user *)arg);
	case COHBUF_IOCTL_INFO:
		return cohbuf_ioctl_info((void __user *)arg);
	case COHBUF_IOCTL_FENCE_ATTACH:
		return cohbuf_ioctl_fence_attach(cfile, (void __user *)arg);
	case COHBUF_IOCTL_FENCE_SIGNAL:
		return cohbuf_ioctl_fence_signal(cfile, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations cohbuf_fops = {
	.owner = THIS_MODULE,
	.open = cohbuf_open,
	.release = cohbuf_release,
	.unlocked_ioctl = cohbuf_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* A platform device that allocates DMA memory reachable with @bits. */
static struct platform_device *cohbuf_platform_device(const char *name,
						      unsigned int bits)
{
	struct platform_device *pdev;
	int ret;

	pdev = platform_device_register_simple(name, PLATFORM_DEVID_NONE,
					       NULL, 0);
	if (IS_ERR(pdev))
		return pdev;
	ret = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(bits));
	if (ret) {
		platform_device_unregister(pdev);
		return ERR_PTR(ret);
	}
	return pdev;
}

static int __init cohbuf_init(void)
{
	struct cohbuf_device *cdev = &cohbuf_dev;
	int ret;

	/*
	 * In a memory-encrypted guest, memory a device reaches must be
	 * shared with the host, every mapping of it decrypted, and importers'
	 * DMA bounces through swiotlb anyway: no zero-copy sharing is
	 * possible there (docs/design.md).
	 */
	if (cc_platform_has(CC_ATTR_MEM_ENCRYPT)) {
		pr_err("cohbuf: not supported in a memory-encrypted guest (SEV, TDX)\n");
		return -ENODEV;
	}

	ret = cohbuf_fence_init();
	if (ret)
		return ret;
	cdev->pdev = cohbuf_platform_device("cohbuf", 64);
	if (IS_ERR(cdev->pdev)) {
		ret = PTR_ERR(cdev->pdev);
		goto exit_fence;
	}
	cdev->pdev32 = cohbuf_platform_device("cohbuf-dma32", 32);
	if (IS_ERR(cdev->pdev32)) {
		ret = PTR_ERR(cdev->pdev32);
		goto unregister_platform;
	}

	cohbuf_debugfs_init(cdev);

	cdev->misc.minor = MISC_DYNAMIC_MINOR;
	cdev->misc.name = "cohbuf";
	cdev->misc.fops = &cohbuf_fops;
	cdev->misc.parent = &cdev->pdev->dev;
	/* Root only; a udev rule can hand the device to a group. */
	cdev->misc.mode = 0600;
	ret = misc_register(&cdev->misc);
	if (ret)
		goto remove_debugfs;
	ret = cohbuf_heaps_register(cdev);
	if (ret)
		goto deregister_misc;
	return 0;

deregister_misc:
	misc_deregister(&cdev->misc);
remove_debugfs:
	cohbuf_debugfs_exit(cdev);
	platform_device_unregister(cdev->pdev32);
unregister_platform:
	platform_device_unregister(cdev->pdev);
exit_fence:
	cohbuf_fence_exit();
	return ret;
}

/* Every live buffer and fence pins the module, so none is left here. */
static void __exit cohbuf_exit(void)
{
	struct cohbuf_device *cdev = &cohbuf_dev;

	cohbuf_heaps_unregister();
	misc_deregister(&cdev->misc);
	cohbuf_debugfs_exit(cdev);
	platform_device_unregister(cdev->pdev32);
	platform_device_unregister(cdev->pdev);
	cohbuf_fence_exit();
}

module_init(cohbuf_init);
module_exit(cohbuf_exit);

MODULE_DESCRIPTION("Coherent DMA buffers exported as dma-buf file descriptors");
MODULE_AUTHOR("The cohbuf developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(COHBUF_VERSION);
COHBUF_IMPORT_NS_DMA_BUF();
