// SPDX-License-Identifier: GPL-2.0
/* dma_buf_fd_install() (fd_install() plus a trace event) arrived in 7.x. */
#include <linux/dma-buf.h>

void cohbuf_probe(struct dma_buf *dmabuf, int fd);
void cohbuf_probe(struct dma_buf *dmabuf, int fd)
{
	dma_buf_fd_install(dmabuf, fd);
}
