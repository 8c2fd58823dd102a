// SPDX-License-Identifier: GPL-2.0
/*
 * The user mapping of a cohbuf buffer.
 *
 * The pages of a coherent allocation are not compound and their tail pages
 * have a zero refcount, so they are mapped by frame number into a
 * VM_PFNMAP | VM_IO VMA, as remap_pfn_range() and dma_mmap_attrs() map
 * them: special entries, nothing refcounted, get_user_pages() refused.
 *
 * mmap() fills the whole range, so that a fresh mapping takes no faults,
 * one chunk at a time through apply_to_page_range() as i915's remap_io_sg()
 * does: the page tables are walked and locked once per page-table page, not
 * once per page.
 */
#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pgtable.h>

#include "cohbuf_internal.h"
#include "cohbuf_compat.h"

/* Without a special bit, a PTE of a page with a struct page would be refcounted. */
#ifndef CONFIG_ARCH_HAS_PTE_SPECIAL
#error "cohbuf maps pages by frame number and needs special PTEs"
#endif

struct cohbuf_fill {
	struct vm_area_struct *vma;
	unsigned long pfn; /* for the next PTE */
};

/*
 * Called with the PTE lock held. A slot in use was refilled by a concurrent
 * fault: skip it, as vmf_insert_pfn() would. vm_page_prot is the DMA API's
 * protection for this memory (docs/design.md, "The user mapping").
 */
static int cohbuf_fill_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct cohbuf_fill *fill = data;
	struct vm_area_struct *vma = fill->vma;

	if (pte_none(ptep_get(pte))) {
		pte_t entry = pfn_pte(fill->pfn, vma->vm_page_prot);

		set_pte_at(vma->vm_mm, addr, pte, pte_mkspecial(entry));
		update_mmu_cache(vma, addr, pte);
	}
	fill->pfn++;
	return 0;
}

/* Insert buffer pages [first, last), inside @vma: 0 or -ENOMEM. */
static int cohbuf_vm_insert(struct vm_area_struct *vma, pgoff_t first,
			    pgoff_t last)
{
	struct cohbuf_buffer *buf = vma->vm_private_data;
	unsigned long addr =
		vma->vm_start + ((first - vma->vm_pgoff) << PAGE_SHIFT);
	pgoff_t pgoff = first;

	while (pgoff < last) {
		const struct cohbuf_chunk *chunk =
			cohbuf_buffer_chunk(buf, pgoff);
		pgoff_t end = min_t(pgoff_t, last,
				    chunk->pgoff + (chunk->size >> PAGE_SHIFT));
		struct cohbuf_fill fill = {
			.vma = vma,
			.pfn = chunk->pfn + (pgoff - chunk->pgoff),
		};
		unsigned long len = (end - pgoff) << PAGE_SHIFT;
		int ret;

		ret = apply_to_page_range(vma->vm_mm, addr, len,
					  cohbuf_fill_pte, &fill);
		if (ret)
			return ret;
		addr += len;
		pgoff = end;
		cond_resched();
	}
	return 0;
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

/* Entries found zapped: refill this VMA's part of the chunk. */
static vm_fault_t cohbuf_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct cohbuf_buffer *buf = vma->vm_private_data;
	const struct cohbuf_chunk *chunk = cohbuf_buffer_chunk(buf, vmf->pgoff);
	pgoff_t first = max_t(pgoff_t, chunk->pgoff, vma->vm_pgoff);
	pgoff_t last = min_t(pgoff_t,
			     chunk->pgoff + (chunk->size >> PAGE_SHIFT),
			     vma->vm_pgoff + vma_pages(vma));
	int ret;

	ret = cohbuf_vm_insert(vma, first, last);
	if (ret)
		return ret == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	return VM_FAULT_NOPAGE;
}

static const struct vm_operations_struct cohbuf_vm_ops = {
	.open = cohbuf_vm_open,
	.close = cohbuf_vm_close,
	.fault = cohbuf_vm_fault,
};

/*
 * The dma-buf core has checked that @vma lies inside the buffer. A private
 * copy-on-write mapping of device memory makes no sense; VM_DONTEXPAND makes
 * mremap() growth fail rather than expose pages beyond the buffer.
 */
int cohbuf_mmap(struct cohbuf_buffer *buf, struct vm_area_struct *vma)
{
	int ret;

	/* A read-only shared map of an O_RDONLY file has VM_MAYSHARE only. */
	if (!cohbuf_vma_test(vma, MAYSHARE))
		return -EINVAL;
	/*
	 * The VFS applies the dma-buf file's mode to a direct mmap(), but an
	 * importer forwarding its own mapping (dma_buf_mmap()) bypasses it:
	 * refuse and forbid writing as the VFS would, so that a read-only
	 * export stays read-only.
	 */
	if (!(buf->dmabuf->file->f_mode & FMODE_WRITE)) {
		if (cohbuf_vma_test(vma, WRITE))
			return -EACCES;
		vm_flags_clear(vma, VM_MAYWRITE);
	}

	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &cohbuf_vm_ops;
	vma->vm_private_data = buf;

	ret = cohbuf_vm_insert(vma, vma->vm_pgoff,
			       vma->vm_pgoff + vma_pages(vma));
	if (ret)
		return ret;

	/* ->open is not called for the first VMA; ->close will be. */
	atomic_inc(&buf->nr_mappings);
	return 0;
}
