// SPDX-License-Identifier: GPL-2.0
/* vmf_insert_pfn_pmd() took a pfn_t until pfn_t went away (7.x). */
#include <linux/mm.h>
#include <linux/pfn_t.h>

vm_fault_t cohbuf_probe(struct vm_fault *vmf, unsigned long pfn);
vm_fault_t cohbuf_probe(struct vm_fault *vmf, unsigned long pfn)
{
	return vmf_insert_pfn_pmd(vmf, pfn_to_pfn_t(pfn), false);
}
