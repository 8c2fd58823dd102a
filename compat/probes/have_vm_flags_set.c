// SPDX-License-Identifier: GPL-2.0
/* vm_flags_set() and friends replaced direct vm_flags writes in 6.3. */
#include <linux/mm.h>

void cohbuf_probe(struct vm_area_struct *vma);
void cohbuf_probe(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_DONTEXPAND);
}
