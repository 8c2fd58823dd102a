// SPDX-License-Identifier: GPL-2.0
/*
 * Importing a dma-buf as a device driver does, tearing it down in reverse,
 * and the handle table of each open file. The kernel mapping that CPU
 * access needs is made at the first FILL or CRC32, so that ATTACH costs
 * what a driver's import costs.
 */
#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <cohbuf_importer.h>

#include "importer.h"
#include "cohbuf_compat.h"

/*
 * Map for both directions: the importer's device both reads and writes,
 * and a bidirectional mapping accepts CPU syncs in any direction.
 */
#define COHBUF_IMP_DMA_DIR DMA_BIDIRECTIONAL

/* Whether the DMA segments of @sgt follow each other without a gap. */
static bool cohbuf_imp_dma_contiguous(const struct sg_table *sgt)
{
	dma_addr_t next = 0;
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (i && sg_dma_address(sg) != next)
			return false;
		next = sg_dma_address(sg) + sg_dma_len(sg);
	}
	return true;
}

static struct cohbuf_imp_attachment *
cohbuf_imp_import(struct cohbuf_imp_device *idev, int fd)
{
	struct cohbuf_imp_attachment *a;
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return ERR_PTR(-ENOMEM);

	a->dmabuf = dma_buf_get(fd);
	if (IS_ERR(a->dmabuf)) {
		ret = PTR_ERR(a->dmabuf);
		goto free_attachment;
	}
	a->attach = dma_buf_attach(a->dmabuf, &idev->pdev->dev);
	if (IS_ERR(a->attach)) {
		ret = PTR_ERR(a->attach);
		goto put_dmabuf;
	}
	a->sgt = dma_buf_map_attachment_unlocked(a->attach, COHBUF_IMP_DMA_DIR);
	if (IS_ERR(a->sgt)) {
		ret = PTR_ERR(a->sgt);
		goto detach;
	}
	/* The error videobuf2-dma-contig gives ("contiguous chunk is too small"). */
	if (READ_ONCE(cohbuf_imp_contiguous) &&
	    !cohbuf_imp_dma_contiguous(a->sgt)) {
		ret = -EFAULT;
		goto unmap;
	}

	a->nents = a->sgt->nents;
	a->writable = a->dmabuf->file->f_mode & FMODE_WRITE;
	a->fence_context = dma_fence_context_alloc(1);
	atomic_inc(&idev->nr_attachments);
	return a;

unmap:
	dma_buf_unmap_attachment_unlocked(a->attach, a->sgt,
					  COHBUF_IMP_DMA_DIR);
detach:
	dma_buf_detach(a->dmabuf, a->attach);
put_dmabuf:
	dma_buf_put(a->dmabuf);
free_attachment:
	kfree(a);
	return ERR_PTR(ret);
}

/* Kept until the attachment is torn down. */
int cohbuf_imp_vmap(struct cohbuf_imp_file *file,
		    struct cohbuf_imp_attachment *a)
{
	int ret;

	lockdep_assert_held(&file->lock);
	if (a->vmapped)
		return 0;
	ret = cohbuf_dma_buf_vmap(a->dmabuf, &a->map);
	if (!ret)
		a->vmapped = true;
	return ret;
}

/*
 * Undo cohbuf_imp_import(), cohbuf_imp_vmap() and the last job, in reverse;
 * may free the buffer.
 */
static void cohbuf_imp_teardown(struct cohbuf_imp_device *idev,
				struct cohbuf_imp_attachment *a)
{
	if (a->job) {
		cohbuf_imp_job_cancel(a->job);
		cohbuf_imp_job_put(a->job);
	}
	if (a->vmapped)
		cohbuf_dma_buf_vunmap(a->dmabuf, &a->map);
	dma_buf_unmap_attachment_unlocked(a->attach, a->sgt,
					  COHBUF_IMP_DMA_DIR);
	dma_buf_detach(a->dmabuf, a->attach);
	dma_buf_put(a->dmabuf);
	kfree(a);
	atomic_dec(&idev->nr_attachments);
}

struct cohbuf_imp_file *cohbuf_imp_file_create(struct cohbuf_imp_device *idev)
{
	struct cohbuf_imp_file *file;

	file = kzalloc(sizeof(*file), GFP_KERNEL);
	if (!file)
		return NULL;
	file->idev = idev;
	mutex_init(&file->lock);
	xa_init_flags(&file->handles, XA_FLAGS_ALLOC1);
	return file;
}

/* The file is being released: no ioctl runs. */
void cohbuf_imp_file_destroy(struct cohbuf_imp_file *file)
{
	struct cohbuf_imp_attachment *a;
	unsigned long handle;

	xa_for_each(&file->handles, handle, a)
		cohbuf_imp_teardown(file->idev, a);
	xa_destroy(&file->handles);
	mutex_destroy(&file->lock);
	kfree(file);
}

/*
 * Takes the file's lock and finds @handle's attachment. On success the caller
 * holds the lock, and the attachment stays valid until it drops it; on error
 * the lock is not held.
 */
struct cohbuf_imp_attachment *
cohbuf_imp_lock_lookup(struct cohbuf_imp_file *file, u32 handle)
{
	struct cohbuf_imp_attachment *a;

	if (mutex_lock_interruptible(&file->lock))
		return ERR_PTR(-ERESTARTSYS);
	a = xa_load(&file->handles, handle);
	if (!a) {
		mutex_unlock(&file->lock);
		return ERR_PTR(-ENOENT);
	}
	return a;
}

/*
 * The handle is reserved (a NULL entry, which lookups and DETACH take for a
 * free one) while the result is copied to user space, without the file's
 * lock: the copy may fault for as long as user space likes (userfaultfd).
 * If it fails, no other thread has seen the attachment and it is taken
 * back; if it works, the attachment takes the reserved slot, which only
 * this function frees or fills.
 */
static int cohbuf_imp_publish(struct cohbuf_imp_file *file,
			      struct cohbuf_imp_attachment *a,
			      struct cohbuf_imp_attach *arg,
			      struct cohbuf_imp_attach __user *uarg)
{
	u32 handle;
	int ret;

	ret = xa_alloc(&file->handles, &handle, NULL, xa_limit_32b, GFP_KERNEL);
	if (ret)
		return ret;
	arg->handle = handle;
	arg->nents = a->nents;
	arg->size = a->dmabuf->size;
	if (copy_to_user(uarg, arg, sizeof(*arg))) {
		xa_release(&file->handles, handle);
		return -EFAULT;
	}
	/* Replacing a reserved entry allocates nothing: it cannot fail. */
	WARN_ON_ONCE(xa_is_err(xa_store(&file->handles, handle, a, GFP_KERNEL)));
	return 0;
}

long cohbuf_imp_ioctl_attach(struct cohbuf_imp_file *file,
			     struct cohbuf_imp_attach __user *uarg)
{
	struct cohbuf_imp_attachment *a;
	struct cohbuf_imp_attach arg;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags & ~COHBUF_IMP_ATTACH_VALID_FLAGS)
		return -EINVAL;
	if (memchr_inv(arg.reserved, 0, sizeof(arg.reserved)))
		return -EINVAL;

	a = cohbuf_imp_import(file->idev, arg.fd);
	if (IS_ERR(a))
		return PTR_ERR(a);
	ret = cohbuf_imp_publish(file, a, &arg, uarg);
	if (ret)
		cohbuf_imp_teardown(file->idev, a);
	return ret;
}

long cohbuf_imp_ioctl_detach(struct cohbuf_imp_file *file,
			     struct cohbuf_imp_detach __user *uarg)
{
	struct cohbuf_imp_attachment *a;
	struct cohbuf_imp_detach arg;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.pad)
		return -EINVAL;

	if (mutex_lock_interruptible(&file->lock))
		return -ERESTARTSYS;
	/* Not xa_erase() alone: it would free a handle ATTACH has reserved. */
	a = xa_load(&file->handles, arg.handle);
	if (a)
		xa_erase(&file->handles, arg.handle);
	mutex_unlock(&file->lock);
	if (!a)
		return -ENOENT;
	cohbuf_imp_teardown(file->idev, a);
	return 0;
}
