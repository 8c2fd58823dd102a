// SPDX-License-Identifier: GPL-2.0
/*
 * Huge PFN maps (6.12): the architecture has special PMDs, so a VM_PFNMAP
 * VMA may take 2 MiB entries from a ->huge_fault(vmf, order) handler. 6.1
 * has neither, and its huge_fault takes an enum page_entry_size.
 */
#include <linux/mm.h>

#ifndef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
#error "no special PMDs: no huge PFN maps"
#endif

vm_fault_t cohbuf_probe(struct vm_fault *vmf, unsigned int order);
vm_fault_t cohbuf_probe(struct vm_fault *vmf, unsigned int order)
{
	return order == PMD_ORDER ? VM_FAULT_NOPAGE : VM_FAULT_FALLBACK;
}

const struct vm_operations_struct cohbuf_probe_ops = {
	.huge_fault = cohbuf_probe,
};
