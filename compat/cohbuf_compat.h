/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where cohbuf bridges kernel API differences (6.1 to 6.12
 * and later). compat/cohbuf_probes.h is generated at build time by compiling
 * the probes in compat/probes/ against the target kernel; this header maps
 * each result onto the API the rest of the code uses.
 */
#ifndef COHBUF_COMPAT_H
#define COHBUF_COMPAT_H

#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/errno.h>
#include <linux/file.h>
#include <linux/gfp.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "cohbuf_probes.h"

/* 6.3 made vm_flags read-only behind accessors. */
#ifndef COHBUF_HAVE_VM_FLAGS_SET
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/*
 * Whether @vma has VM_@flag (MAYSHARE, WRITE, ...). 7.x turned vm_flags into
 * a read-only alias of a flag bitmap, read through vma_test().
 */
#ifdef COHBUF_HAVE_VMA_TEST
#define cohbuf_vma_test(vma, flag) vma_test(vma, VMA_##flag##_BIT)
#else
#define cohbuf_vma_test(vma, flag) (!!((vma)->vm_flags & VM_##flag))
#endif

/* 6.13 made the namespace argument a string. */
#ifdef COHBUF_HAVE_MODULE_IMPORT_NS_TOKEN
#define COHBUF_IMPORT_NS_DMA_BUF() MODULE_IMPORT_NS(DMA_BUF)
#else
#define COHBUF_IMPORT_NS_DMA_BUF() MODULE_IMPORT_NS("DMA_BUF")
#endif

/*
 * For an importer that holds no lock: 6.2 made dma_buf_vmap() require the
 * reservation lock, and added dma_buf_vmap_unlocked(), which takes it.
 */
static inline int cohbuf_dma_buf_vmap(struct dma_buf *dmabuf,
				      struct iosys_map *map)
{
#ifdef COHBUF_HAVE_DMA_BUF_VMAP_UNLOCKED
	return dma_buf_vmap_unlocked(dmabuf, map);
#else
	return dma_buf_vmap(dmabuf, map);
#endif
}

static inline void cohbuf_dma_buf_vunmap(struct dma_buf *dmabuf,
					 struct iosys_map *map)
{
#ifdef COHBUF_HAVE_DMA_BUF_VMAP_UNLOCKED
	dma_buf_vunmap_unlocked(dmabuf, map);
#else
	dma_buf_vunmap(dmabuf, map);
#endif
}

/*
 * dma_set_max_seg_size() returned -EIO without dma_parms until 6.12, which
 * made it void and WARN instead. Check first, so neither can happen.
 */
static inline int cohbuf_dma_set_max_seg_size(struct device *dev,
					      unsigned int size)
{
	if (!dev->dma_parms)
		return -EIO;
#ifdef COHBUF_HAVE_DMA_SET_MAX_SEG_SIZE_INT
	return dma_set_max_seg_size(dev, size);
#else
	dma_set_max_seg_size(dev, size);
	return 0;
#endif
}

/*
 * Publish a dma-buf's file at a reserved fd. Where the core has
 * dma_buf_fd_install(), it also emits the dma-buf's trace event.
 */
static inline void cohbuf_dma_buf_fd_install(struct dma_buf *dmabuf, int fd)
{
#ifdef COHBUF_HAVE_DMA_BUF_FD_INSTALL
	dma_buf_fd_install(dmabuf, fd);
#else
	fd_install(fd, dmabuf->file);
#endif
}

/*
 * Take a range of pages for cohbuf's own use, migrating what is in it.
 * 6.16 replaced the migratetype argument with flags; a kernel without
 * CONFIG_CONTIG_ALLOC has no such call.
 */
static inline int cohbuf_alloc_contig_range(unsigned long start,
					    unsigned long end, gfp_t gfp)
{
#ifndef CONFIG_CONTIG_ALLOC
	return -ENOMEM;
#elif defined(COHBUF_HAVE_ACR_FLAGS)
	return alloc_contig_range(start, end, ACR_FLAGS_NONE, gfp);
#else
	return alloc_contig_range(start, end, MIGRATE_MOVABLE, gfp);
#endif
}

/*
 * Huge PFN maps: a 2 MiB entry for @pfn from a ->huge_fault handler. 7.x
 * dropped pfn_t from vmf_insert_pfn_pmd().
 */
#ifdef COHBUF_HAVE_HUGE_PFNMAP
#ifdef COHBUF_HAVE_VMF_INSERT_PFN_PMD_PFN_T
#include <linux/pfn_t.h>
#endif

static inline vm_fault_t cohbuf_vmf_insert_pfn_pmd(struct vm_fault *vmf,
						   unsigned long pfn,
						   bool write)
{
#ifdef COHBUF_HAVE_VMF_INSERT_PFN_PMD_PFN_T
	return vmf_insert_pfn_pmd(vmf, pfn_to_pfn_t(pfn), write);
#else
	return vmf_insert_pfn_pmd(vmf, pfn, write);
#endif
}
#endif

/*
 * The ops of @fence, only to compare: 6.17 made dma_fence.ops an RCU
 * pointer (which sparse checks), with dma_fence_driver_name().
 */
#ifdef COHBUF_HAVE_DMA_FENCE_DRIVER_NAME
#define cohbuf_dma_fence_ops(fence) rcu_access_pointer((fence)->ops)
#else
#define cohbuf_dma_fence_ops(fence) ((fence)->ops)
#endif

#endif /* COHBUF_COMPAT_H */
