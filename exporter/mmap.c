// SPDX-License-Identifier: GPL-2.0
/*
 * The user mapping of a cohbuf buffer.
 *
 * The pages of a coherent allocation are not compound and their tail pages
 * have a zero refcount, so they must never be refcounted through
 * vm_insert_page() or a fault handler that sets vmf->page. They are mapped
 * by page frame number instead.
 *
 * The VMA is VM_MIXEDMAP and every entry goes in through vmf_insert_mixed(),
 * which on x86 installs special PTEs: no struct page is refcounted and
 * get_user_pages() refuses them, exactly as with remap_pfn_range(). Unlike
 * a VM_PFNMAP mapping, the page walker does not skip such a VMA, so
 * /proc/PID/pagemap reports the real frames and users can verify physical
 * identity across processes themselves.
 *
 * The whole range is populated at mmap() time, so reading a fresh mapping
 * costs no page faults. If the entries are zapped later (MADV_DONTNEED),
 * the first fault refills the whole chunk it hits, not one page.
 */
#include <linux/mm.h>

#include "cohbuf_internal.h"
#include "cohbuf_compat.h"

/*
 * Insert buffer pages [first, last) of @vma, which must lie inside it,
 * one chunk at a time.
 */
static vm_fault_t cohbuf_vm_insert(struct vm_area_struct *vma, pgoff_t first,
				   pgoff_t last)
{
	struct cohbuf_buffer *buf = vma->vm_private_data;
	unsigned long addr =
		vma->vm_start + ((first - vma->vm_pgoff) << PAGE_SHIFT);
	vm_fault_t ret = VM_FAULT_NOPAGE;
	pgoff_t pgoff = first;

	while (pgoff < last) {
		const struct cohbuf_chunk *chunk =
			cohbuf_buffer_chunk(buf, pgoff);
		pgoff_t end = min_t(pgoff_t, last,
				    chunk->pgoff + (chunk->size >> PAGE_SHIFT));
		unsigned long pfn = chunk->pfn + (pgoff - chunk->pgoff);

		for (; pgoff < end; pgoff++, pfn++, addr += PAGE_SIZE) {
			ret = cohbuf_vmf_insert_mixed(vma, addr, pfn);
			if (ret & VM_FAULT_ERROR)
				return ret;
		}
		cond_resched();
	}
	return ret;
}

static void cohbuf_vm_open(struct vm_area_struct *vma)
{
	struct cohbuf_buffer *buf = vma->vm_private_data;

	atomic_inc(&buf->nr_mappings);
}

static void cohbuf_vm_close(struct vm_area_struct *vma)
{
	struct cohbuf_buffer *buf = vma->vm_private_data;

	atomic_dec(&buf->nr_mappings);
}

/* Refill the part of the faulting chunk that this VMA covers. */
static vm_fault_t cohbuf_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct cohbuf_buffer *buf = vma->vm_private_data;
	const struct cohbuf_chunk *chunk = cohbuf_buffer_chunk(buf, vmf->pgoff);
	pgoff_t first = max_t(pgoff_t, chunk->pgoff, vma->vm_pgoff);
	pgoff_t last = min_t(pgoff_t,
			     chunk->pgoff + (chunk->size >> PAGE_SHIFT),
			     vma->vm_pgoff + vma_pages(vma));

	return cohbuf_vm_insert(vma, first, last);
}

static const struct vm_operations_struct cohbuf_vm_ops = {
	.open = cohbuf_vm_open,
	.close = cohbuf_vm_close,
	.fault = cohbuf_vm_fault,
};

/**
 * cohbuf_mmap() - map a buffer into user space
 * @buf: the buffer
 * @vma: the new VMA; the dma-buf core has checked that vm_pgoff and the
 *	 length lie inside the buffer
 *
 * Only shared mappings are allowed: a private copy-on-write mapping of
 * device memory makes no sense. VM_DONTEXPAND makes mremap() growth fail
 * instead of exposing pages beyond the buffer.
 *
 * Return: 0, -EINVAL for a private mapping, -ENOMEM if page tables cannot
 * be allocated.
 */
int cohbuf_mmap(struct cohbuf_buffer *buf, struct vm_area_struct *vma)
{
	vm_fault_t ret;

	/* A read-only shared map of an O_RDONLY file has VM_MAYSHARE only. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;

	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &cohbuf_vm_ops;
	vma->vm_private_data = buf;

	ret = cohbuf_vm_insert(vma, vma->vm_pgoff,
			       vma->vm_pgoff + vma_pages(vma));
	if (ret & VM_FAULT_ERROR)
		return ret & VM_FAULT_OOM ? -ENOMEM : -EFAULT;

	/* ->open is not called for the first VMA; ->close will be. */
	atomic_inc(&buf->nr_mappings);
	return 0;
}
