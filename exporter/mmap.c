// SPDX-License-Identifier: GPL-2.0
/*
 * The user mapping of a cohbuf buffer.
 *
 * The pages of a coherent allocation are not compound and their tail pages
 * have a zero refcount, so they must never be refcounted through
 * vm_insert_page() or a fault handler that sets vmf->page. They are mapped
 * by page frame number instead.
 *
 * The VMA is VM_MIXEDMAP and holds special PTEs, the entries that
 * vmf_insert_mixed() installs on x86: no struct page is refcounted and
 * get_user_pages() refuses them, exactly as with remap_pfn_range(). Unlike
 * a VM_PFNMAP mapping, the page walker does not skip such a VMA, so
 * /proc/PID/pagemap reports the real frames and users can verify physical
 * identity across processes themselves.
 *
 * The whole range is populated at mmap() time, so reading a fresh mapping
 * costs no page faults. If the entries are zapped later (MADV_DONTNEED),
 * the first fault refills the whole chunk it hits, not one page.
 *
 * The entries go in a chunk at a time through apply_to_page_range(), which
 * walks (and allocates) the page tables once per page-table page and hands
 * each PTE slot to a callback under its page-table lock, as i915 does in
 * remap_io_sg(). One vmf_insert_mixed() per page walked the tables, took
 * the lock and looked up the PAT memory type for every page: mapping
 * 64 MiB took 11 ms (6.1) and 19 ms (6.12) under TCG, against 1.2 and
 * 1.3 ms now. The memory is ordinary RAM, write-back on x86, so
 * vm_page_prot is already the right protection.
 */
#include <linux/mm.h>
#include <linux/pgtable.h>

#include "cohbuf_internal.h"
#include "cohbuf_compat.h"

/* Without a special bit, a PTE of a page with a struct page would be refcounted. */
#ifndef CONFIG_ARCH_HAS_PTE_SPECIAL
#error "cohbuf maps pages by frame number and needs special PTEs"
#endif

/**
 * struct cohbuf_fill - where apply_to_page_range() is in a chunk
 * @vma: the VMA being filled
 * @pfn: the page frame for the next PTE
 */
struct cohbuf_fill {
	struct vm_area_struct *vma;
	unsigned long pfn;
};

/*
 * Install one special PTE for the next frame, unless the slot is already
 * in use (a concurrent fault may have refilled it): the same entry, and
 * the same rule, as vmf_insert_mixed(). Called with the PTE lock held.
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

/*
 * Insert buffer pages [first, last) of @vma, which must lie inside it,
 * one chunk at a time. Returns 0 or -ENOMEM (page tables).
 */
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
	int ret;

	/* A read-only shared map of an O_RDONLY file has VM_MAYSHARE only. */
	if (!cohbuf_vma_mayshare(vma))
		return -EINVAL;

	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
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
