// SPDX-License-Identifier: GPL-2.0
/* dma_set_max_seg_size() returns an int until it became void (6.12). */
#include <linux/device.h>
#include <linux/dma-mapping.h>

int cohbuf_probe(struct device *dev, unsigned int size);
int cohbuf_probe(struct device *dev, unsigned int size)
{
	return dma_set_max_seg_size(dev, size);
}
