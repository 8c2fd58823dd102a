// SPDX-License-Identifier: GPL-2.0
/* alloc_contig_range() took acr_flags_t instead of a migratetype in 6.16. */
#include <linux/gfp.h>

int cohbuf_probe(unsigned long pfn);
int cohbuf_probe(unsigned long pfn)
{
	return alloc_contig_range(pfn, pfn + 1, ACR_FLAGS_NONE, GFP_KERNEL);
}
