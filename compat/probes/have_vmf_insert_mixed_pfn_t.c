// SPDX-License-Identifier: GPL-2.0
/* vmf_insert_mixed() takes a pfn_t until pfn_t is removed from the kernel. */
#include <linux/mm.h>
#include <linux/pfn_t.h>

vm_fault_t cohbuf_probe(struct vm_area_struct *vma, unsigned long addr,
			unsigned long pfn);
vm_fault_t cohbuf_probe(struct vm_area_struct *vma, unsigned long addr,
			unsigned long pfn)
{
	return vmf_insert_mixed(vma, addr, __pfn_to_pfn_t(pfn, 0));
}
