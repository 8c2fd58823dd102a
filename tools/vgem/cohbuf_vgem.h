/* SPDX-License-Identifier: GPL-2.0 */
#ifndef COHBUF_VGEM_H
#define COHBUF_VGEM_H

#include <stdint.h>
#include <xf86drm.h>

/*
 * Open vgem's /dev/dri/cardN, running modprobe vgem first if no such node
 * exists: the fd, or -ENODEV. *@modprobe_status is system()'s status, or 0
 * if modprobe was not needed.
 */
int vgem_open(int *modprobe_status);

/* vgem's fence ioctls (include/uapi/drm/vgem_drm.h): libdrm 2.4.114 does not ship them. */
struct vgem_fence_attach {
	uint32_t handle;
	uint32_t flags;
	uint32_t out_fence;
	uint32_t pad;
};

struct vgem_fence_signal {
	uint32_t fence;
	uint32_t flags;
};

#define VGEM_FENCE_WRITE	0x1
#define DRM_IOCTL_VGEM_FENCE_ATTACH \
	DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct vgem_fence_attach)
#define DRM_IOCTL_VGEM_FENCE_SIGNAL \
	DRM_IOW(DRM_COMMAND_BASE + 0x2, struct vgem_fence_signal)

#endif /* COHBUF_VGEM_H */
