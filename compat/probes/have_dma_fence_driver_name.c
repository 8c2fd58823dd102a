// SPDX-License-Identifier: GPL-2.0
/*
 * dma_fence_driver_name() came with the RCU rules for dma_fence.ops (6.17),
 * which made the field __rcu.
 */
#include <linux/dma-fence.h>

const char *cohbuf_probe(struct dma_fence *fence);
const char *cohbuf_probe(struct dma_fence *fence)
{
	return (const char __force *)dma_fence_driver_name(fence);
}
