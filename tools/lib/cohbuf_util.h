/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small user-space helpers shared by cohbuf's tools: passing fds over unix
 * sockets, reading page frames from /proc/self/pagemap, and CRC-32.
 * Every function returns 0 (or a value) on success and a negative errno on
 * failure.
 */
#ifndef COHBUF_UTIL_H
#define COHBUF_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* SCM_RIGHTS: send @fd with @len bytes of @data, or receive them. */
int cohbuf_send_fd(int sock, int fd, const void *data, size_t len);
int cohbuf_recv_fd(int sock, int *fd, void *data, size_t len);

/*
 * Page frame number behind @addr, from /proc/self/pagemap (needs
 * CAP_SYS_ADMIN to see frames): -ENODATA if the page is not present.
 */
int cohbuf_pagemap_pfn(const void *addr, uint64_t *pfn);

/* zlib-compatible CRC-32; pass 0 as @crc to start. */
uint32_t cohbuf_crc32(uint32_t crc, const void *buf, size_t len);

#endif /* COHBUF_UTIL_H */
