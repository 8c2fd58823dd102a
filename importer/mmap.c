// SPDX-License-Identifier: GPL-2.0
/*
 * Mapping an attached buffer through the importer's own file, as a driver
 * that lets user space map what it imported does: dma_buf_mmap() hands the
 * mapping to the exporter, bypassing the checks the VFS makes on the
 * dma-buf's own file.
 */
#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <linux/mm.h>

#include "importer.h"

int cohbuf_imp_mmap(struct cohbuf_imp_file *file, struct vm_area_struct *vma)
{
	struct cohbuf_imp_attachment *a;
	int ret;

	if (vma->vm_pgoff > U32_MAX)
		return -ENOENT;
	/* Called with the mmap lock held, which no holder of file->lock takes. */
	a = cohbuf_imp_lock_lookup(file, vma->vm_pgoff);
	if (IS_ERR(a))
		return PTR_ERR(a);
	ret = dma_buf_mmap(a->dmabuf, vma, 0);
	mutex_unlock(&file->lock);
	return ret;
}
