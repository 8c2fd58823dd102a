// SPDX-License-Identifier: GPL-2.0
/*
 * The user mapping of a cohbuf buffer.
 *
 * The pages of a coherent allocation are not compound and their tail pages
 * have a zero refcount, so they are mapped by frame number into a
 * VM_PFNMAP | VM_IO VMA, as remap_pfn_range() and dma_mmap_attrs() map
 * them: special entries, nothing refcounted, get_user_pages() refused.
 *
 * Where the kernel has huge PFN maps, the VMA takes its entries at fault
 * time: a 2 MiB entry for every 2 MiB-aligned part that is physically
 * contiguous and 2 MiB-aligned, 4 KiB entries for the rest. Elsewhere, and
 * with pmd_mappings off, mmap() fills the whole range with 4 KiB entries,
 * so that a fresh mapping takes no faults, one chunk at a time through
 * apply_to_page_range() as i915's remap_io_sg() does: the page tables are
 * walked and locked once per page-table page, not once per page.
 */
#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
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
 * Called with the PTE lock held. A slot in use was filled by a concurrent
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

/*
 * A 4 KiB fault: the first touch of a part no 2 MiB entry covers, or a
 * touch after the entries were zapped (a 2 MiB entry split by munmap() or
 * mprotect() of part of it). Fill the VMA's part of the 2 MiB-aligned
 * block around the address, so that a block a 2 MiB entry can still take is
 * never given a page table by its neighbour's fault.
 */
static vm_fault_t cohbuf_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long start = max(vma->vm_start, vmf->address & PMD_MASK);
	unsigned long end = min(vma->vm_end,
				(vmf->address & PMD_MASK) + PMD_SIZE);
	pgoff_t first = vma->vm_pgoff + ((start - vma->vm_start) >> PAGE_SHIFT);
	int ret;

	ret = cohbuf_vm_insert(vma, first,
			       first + ((end - start) >> PAGE_SHIFT));
	if (ret)
		return ret == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	return VM_FAULT_NOPAGE;
}

static const struct vm_operations_struct cohbuf_vm_ops = {
	.open = cohbuf_vm_open,
	.close = cohbuf_vm_close,
	.fault = cohbuf_vm_fault,
};

#ifdef COHBUF_HAVE_HUGE_PFNMAP
/*
 * Only where it has an effect, so that its presence tells user space that
 * mappings get 2 MiB entries. Read once per mmap(): a mapping keeps the
 * entry size it started with.
 */
static bool cohbuf_pmd_mappings = true;
module_param_named(pmd_mappings, cohbuf_pmd_mappings, bool, 0644);
MODULE_PARM_DESC(pmd_mappings,
		 "Map buffers with 2 MiB entries where they are 2 MiB-aligned and contiguous; off forces 4 KiB entries (default on)");

/*
 * The frame of buffer page @pgoff, if the 2 MiB from there are physically
 * contiguous, within one chunk or across consecutive ones (as
 * COHBUF_IOCTL_INFO reports ranges), and start 2 MiB-aligned.
 */
static bool cohbuf_pmd_pfn(const struct cohbuf_buffer *buf, pgoff_t pgoff,
			   unsigned long *pfn)
{
	const struct cohbuf_chunk *chunk = cohbuf_buffer_chunk(buf, pgoff);
	const struct cohbuf_chunk *last = &buf->chunks[buf->nr_chunks - 1];
	unsigned long first = chunk->pfn + (pgoff - chunk->pgoff);
	pgoff_t end = pgoff + PTRS_PER_PMD;

	if (!IS_ALIGNED(first, PTRS_PER_PMD))
		return false;
	while (chunk->pgoff + (chunk->size >> PAGE_SHIFT) < end) {
		if (chunk == last ||
		    chunk[1].pfn != chunk->pfn + (chunk->size >> PAGE_SHIFT))
			return false;
		chunk++;
	}
	*pfn = first;
	return true;
}

/* A 2 MiB entry where the VMA covers the block and cohbuf_pmd_pfn() allows. */
static vm_fault_t cohbuf_vm_huge_fault(struct vm_fault *vmf,
				       unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long haddr = vmf->address & PMD_MASK;
	unsigned long pfn;
	pgoff_t pgoff;

	if (order != PMD_ORDER || haddr < vma->vm_start ||
	    haddr + PMD_SIZE > vma->vm_end)
		return VM_FAULT_FALLBACK;
	pgoff = vma->vm_pgoff + ((haddr - vma->vm_start) >> PAGE_SHIFT);
	if (!cohbuf_pmd_pfn(vma->vm_private_data, pgoff, &pfn))
		return VM_FAULT_FALLBACK;
	return cohbuf_vmf_insert_pfn_pmd(vmf, pfn,
					 vmf->flags & FAULT_FLAG_WRITE);
}

/*
 * The 4 KiB fault of a mapping that takes 2 MiB entries. The core tries
 * ->huge_fault first only while the VMA allows huge entries at that moment,
 * which prctl(PR_SET_THP_DISABLE) changes under a fault that holds the VMA
 * lock alone. So a block that can take a 2 MiB entry takes one here too:
 * it must never get a page table, which a concurrent 2 MiB fault would
 * meet, and apply_to_page_range() must never meet a 2 MiB entry.
 */
static vm_fault_t cohbuf_vm_huge_fallback(struct vm_fault *vmf)
{
	pmd_t pmd = pmdp_get_lockless(vmf->pmd);
	vm_fault_t ret;

	if (pmd_leaf(pmd))
		return VM_FAULT_NOPAGE;
	if (pmd_none(pmd)) {
		ret = cohbuf_vm_huge_fault(vmf, PMD_ORDER);
		if (ret != VM_FAULT_FALLBACK)
			return ret;
	}
	return cohbuf_vm_fault(vmf);
}

static const struct vm_operations_struct cohbuf_vm_huge_ops = {
	.open = cohbuf_vm_open,
	.close = cohbuf_vm_close,
	.fault = cohbuf_vm_huge_fallback,
	.huge_fault = cohbuf_vm_huge_fault,
};

static bool cohbuf_mmap_huge(struct vm_area_struct *vma)
{
	if (!READ_ONCE(cohbuf_pmd_mappings))
		return false;
	vma->vm_ops = &cohbuf_vm_huge_ops;
	return true;
}
#else
static bool cohbuf_mmap_huge(struct vm_area_struct *vma)
{
	return false;
}
#endif

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
	vma->vm_private_data = buf;
	vma->vm_ops = &cohbuf_vm_ops;
	if (!cohbuf_mmap_huge(vma)) {
		ret = cohbuf_vm_insert(vma, vma->vm_pgoff,
				       vma->vm_pgoff + vma_pages(vma));
		if (ret)
			return ret;
	}

	/* ->open is not called for the first VMA; ->close will be. */
	atomic_inc(&buf->nr_mappings);
	return 0;
}
