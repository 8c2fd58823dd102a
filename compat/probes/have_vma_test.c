// SPDX-License-Identifier: GPL-2.0
/* vma_test() and the VMA_*_BIT flags replace reading vma->vm_flags in 7.x. */
#include <linux/mm.h>

bool cohbuf_probe(const struct vm_area_struct *vma);
bool cohbuf_probe(const struct vm_area_struct *vma)
{
	return vma_test(vma, VMA_MAYSHARE_BIT);
}
