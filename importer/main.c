// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf_importer: imports any dma-buf like a device driver, so that tests
 * can check what a device sees. A platform device, whose DMA mask and
 * dma_parms the module parameters set, is the importing device; the misc
 * device /dev/cohbuf_importer carries the ioctls.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/platform_device.h>
#include <linux/sizes.h>

#include <cohbuf_importer.h>

#include "importer.h"
#include "cohbuf_compat.h"

/* The uapi layout is ABI: the same on 32- and 64-bit user space. */
static_assert(sizeof(struct cohbuf_imp_attach) == 40);
static_assert(offsetof(struct cohbuf_imp_attach, size) == 16);
static_assert(sizeof(struct cohbuf_imp_detach) == 8);
static_assert(sizeof(struct cohbuf_imp_access) == 32);
static_assert(offsetof(struct cohbuf_imp_access, crc32) == 24);
static_assert(sizeof(struct cohbuf_imp_dma_addr) == 24);
static_assert(sizeof(struct cohbuf_imp_wait) == 24);

static unsigned int cohbuf_imp_dma_bits = 64;
module_param_named(dma_bits, cohbuf_imp_dma_bits, uint, 0444);
MODULE_PARM_DESC(dma_bits,
		 "Width of the importing device's DMA mask in bits, 1 to 64 (default 64)");

int cohbuf_imp_contiguous;
module_param_named(contiguous, cohbuf_imp_contiguous, bint, 0644);
MODULE_PARM_DESC(contiguous,
		 "Accept only buffers mapped as one DMA-contiguous range, as videobuf2-dma-contig does (EFAULT otherwise); applies to later attaches (default off)");

static unsigned int cohbuf_imp_max_seg_size = SZ_4M;
static unsigned long cohbuf_imp_seg_boundary = ULONG_MAX;

static struct cohbuf_imp_device cohbuf_imp_dev;

/* Under kernel_param_lock(THIS_MODULE), like both parameters it applies. */
static int cohbuf_imp_dma_parms_apply(struct device *dev,
				      unsigned int max_seg_size,
				      unsigned long seg_boundary)
{
	int ret;

	ret = cohbuf_dma_set_max_seg_size(dev, max_seg_size);
	if (!ret)
		dma_set_seg_boundary(dev, seg_boundary);
	return ret;
}

/*
 * Sets max_seg_size or seg_boundary, the constraints a driver declares in its
 * device's dma_parms; they apply to later attaches. Under
 * kernel_param_lock(THIS_MODULE), at load and on every sysfs write.
 */
static int cohbuf_imp_dma_parm_set(const char *val,
				   const struct kernel_param *kp)
{
	struct platform_device *pdev = cohbuf_imp_dev.pdev;
	unsigned int max_seg_size = cohbuf_imp_max_seg_size;
	unsigned long seg_boundary = cohbuf_imp_seg_boundary;
	unsigned long v;
	int ret;

	ret = kstrtoul(val, 0, &v);
	if (ret)
		return ret;
	if (kp->arg == &cohbuf_imp_max_seg_size) {
		if (v < PAGE_SIZE || v > UINT_MAX)
			return -EINVAL;
		max_seg_size = v;
	} else {
		/* A mask of low bits, at least a page: 2^n - 1. */
		if (v < PAGE_SIZE - 1 || (v & (v + 1)))
			return -EINVAL;
		seg_boundary = v;
	}
	if (pdev) {
		ret = cohbuf_imp_dma_parms_apply(&pdev->dev, max_seg_size,
						 seg_boundary);
		if (ret)
			return ret;
	}
	cohbuf_imp_max_seg_size = max_seg_size;
	cohbuf_imp_seg_boundary = seg_boundary;
	return 0;
}

static const struct kernel_param_ops cohbuf_imp_max_seg_size_ops = {
	.set = cohbuf_imp_dma_parm_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops cohbuf_imp_seg_boundary_ops = {
	.set = cohbuf_imp_dma_parm_set,
	.get = param_get_ulong,
};

module_param_cb(max_seg_size, &cohbuf_imp_max_seg_size_ops,
		&cohbuf_imp_max_seg_size, 0644);
MODULE_PARM_DESC(max_seg_size,
		 "Longest DMA segment the importing device accepts, in bytes, at least a page; writable at run time, applies to later attaches (default 4 MiB)");

module_param_cb(seg_boundary, &cohbuf_imp_seg_boundary_ops,
		&cohbuf_imp_seg_boundary, 0644);
MODULE_PARM_DESC(seg_boundary,
		 "Segment boundary mask of the importing device (2^n - 1, at least a page): no DMA segment may cross a multiple of it plus one; writable at run time, applies to later attaches (default all ones)");

static int cohbuf_imp_open(struct inode *inode, struct file *filp)
{
	struct cohbuf_imp_file *file;

	file = cohbuf_imp_file_create(&cohbuf_imp_dev);
	if (!file)
		return -ENOMEM;
	filp->private_data = file;
	return 0;
}

static int cohbuf_imp_release(struct inode *inode, struct file *filp)
{
	cohbuf_imp_file_destroy(filp->private_data);
	return 0;
}

static int cohbuf_imp_fop_mmap(struct file *filp, struct vm_area_struct *vma)
{
	return cohbuf_imp_mmap(filp->private_data, vma);
}

static long cohbuf_imp_ioctl(struct file *filp, unsigned int cmd,
			     unsigned long arg)
{
	struct cohbuf_imp_file *file = filp->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case COHBUF_IMP_IOCTL_ATTACH:
		return cohbuf_imp_ioctl_attach(file, uarg);
	case COHBUF_IMP_IOCTL_DETACH:
		return cohbuf_imp_ioctl_detach(file, uarg);
	case COHBUF_IMP_IOCTL_FILL:
		return cohbuf_imp_ioctl_fill(file, uarg);
	case COHBUF_IMP_IOCTL_CRC32:
		return cohbuf_imp_ioctl_crc32(file, uarg);
	case COHBUF_IMP_IOCTL_DMA_ADDR:
		return cohbuf_imp_ioctl_dma_addr(file, uarg);
	case COHBUF_IMP_IOCTL_WAIT:
		return cohbuf_imp_ioctl_wait(file, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations cohbuf_imp_fops = {
	.owner = THIS_MODULE,
	.open = cohbuf_imp_open,
	.release = cohbuf_imp_release,
	.mmap = cohbuf_imp_fop_mmap,
	.unlocked_ioctl = cohbuf_imp_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* The importing device, with the DMA constraints the parameters ask for. */
static struct platform_device *cohbuf_imp_pdev_create(void)
{
	struct platform_device *pdev;
	int ret;

	pdev = platform_device_register_simple("cohbuf_importer",
					       PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(pdev))
		return pdev;

	/* Without this the device would be limited to 32 bits. */
	ret = dma_coerce_mask_and_coherent(&pdev->dev,
					   DMA_BIT_MASK(cohbuf_imp_dma_bits));
	if (ret)
		goto unregister;

	kernel_param_lock(THIS_MODULE);
	ret = cohbuf_imp_dma_parms_apply(&pdev->dev, cohbuf_imp_max_seg_size,
					 cohbuf_imp_seg_boundary);
	if (!ret)
		cohbuf_imp_dev.pdev = pdev;
	kernel_param_unlock(THIS_MODULE);
	if (ret)
		goto unregister;
	return pdev;

unregister:
	platform_device_unregister(pdev);
	return ERR_PTR(ret);
}

static void cohbuf_imp_pdev_destroy(void)
{
	struct platform_device *pdev;

	kernel_param_lock(THIS_MODULE);
	pdev = cohbuf_imp_dev.pdev;
	cohbuf_imp_dev.pdev = NULL;
	kernel_param_unlock(THIS_MODULE);
	platform_device_unregister(pdev);
}

static int __init cohbuf_imp_init(void)
{
	struct cohbuf_imp_device *idev = &cohbuf_imp_dev;
	struct platform_device *pdev;
	int ret;

	if (!cohbuf_imp_dma_bits || cohbuf_imp_dma_bits > 64) {
		pr_err("dma_bits must be 1 to 64, not %u\n",
		       cohbuf_imp_dma_bits);
		return -EINVAL;
	}
	ret = cohbuf_imp_job_init();
	if (ret)
		return ret;
	pdev = cohbuf_imp_pdev_create();
	if (IS_ERR(pdev)) {
		ret = PTR_ERR(pdev);
		goto exit_jobs;
	}

	cohbuf_imp_debugfs_init(idev);

	idev->misc.minor = MISC_DYNAMIC_MINOR;
	idev->misc.name = "cohbuf_importer";
	idev->misc.fops = &cohbuf_imp_fops;
	idev->misc.parent = &pdev->dev;
	/* Root only: the importer reads and writes any buffer it is given. */
	idev->misc.mode = 0600;
	ret = misc_register(&idev->misc);
	if (ret)
		goto remove_debugfs;
	return 0;

remove_debugfs:
	cohbuf_imp_debugfs_exit(idev);
	cohbuf_imp_pdev_destroy();
exit_jobs:
	cohbuf_imp_job_exit();
	return ret;
}

/* Every open file pins the module, so no attachment is left here. */
static void __exit cohbuf_imp_exit(void)
{
	struct cohbuf_imp_device *idev = &cohbuf_imp_dev;

	misc_deregister(&idev->misc);
	cohbuf_imp_debugfs_exit(idev);
	cohbuf_imp_pdev_destroy();
	cohbuf_imp_job_exit();
}

module_init(cohbuf_imp_init);
module_exit(cohbuf_imp_exit);

MODULE_DESCRIPTION("Test dma-buf importer: CPU access and DMA addresses");
MODULE_AUTHOR("The cohbuf developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(COHBUF_VERSION);
COHBUF_IMPORT_NS_DMA_BUF();
