/* SPDX-License-Identifier: GPL-2.0 */
#ifndef COHBUF_VGEM_H
#define COHBUF_VGEM_H

/*
 * Open vgem's /dev/dri/cardN, running modprobe vgem first if no such node
 * exists: the fd, or -ENODEV. *@modprobe_status is system()'s status, or 0
 * if modprobe was not needed.
 */
int vgem_open(int *modprobe_status);

#endif /* COHBUF_VGEM_H */
