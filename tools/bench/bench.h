/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohbuf-bench: cohbuf against the other ways to share memory, measured in
 * one boot. bench.c drives the metrics and writes the CSV; mech.c holds the
 * mechanisms, mem.c the memory kernels, and metrics.c, handoff.c,
 * import.c and contig.c the measurements.
 */
#ifndef COHBUF_BENCH_H
#define COHBUF_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The mechanisms, in the order the CSV and the report list them. */
enum mech_id {
	MECH_ANON,	/* private anonymous memory: the baseline */
	MECH_PIPE,	/* bytes through a pipe (F_SETPIPE_SZ raised) */
	MECH_UNIX,	/* bytes through a unix stream socket */
	MECH_MEMFD,	/* memfd + SCM_RIGHTS */
	MECH_VGEM,	/* vgem dumb buffer exported as a PRIME fd */
	MECH_UDMABUF,	/* udmabuf over a sealed memfd */
	MECH_HEAP,	/* dma-heap system heap */
	MECH_COHBUF,	/* cohbuf */
	MECH_NR,
};

/* A buffer of a mechanism that has one (not the copy mechanisms). */
struct buf {
	enum mech_id mech;
	size_t size;		/* bytes requested */
	size_t len;		/* bytes mapped: size rounded up to pages */
	int fd;			/* the shareable fd, or -1 for anonymous memory */
	int memfd;		/* udmabuf: the memfd behind it, else -1 */
	uint32_t handle;	/* vgem: the GEM handle, else 0 */
	void *anon;		/* anonymous memory: the memory itself */
	bool aligned;		/* anonymous memory: at a 2 MiB boundary */
};

struct mech {
	const char *name;
	int (*alloc)(struct buf *b);	/* NULL for the copy mechanisms */
	bool copy;		/* sends the bytes instead of an fd */
	bool dmabuf;		/* its fd is a dma-buf (DMA_BUF_IOCTL_SYNC) */
	bool available;		/* the device exists on this kernel */
	const char *why;	/* when not available: why */
};

extern struct mech mechs[MECH_NR];

/* Options and state shared by the metrics. */
struct bench {
	unsigned int reps;	/* timed repetitions per point (after a warm-up) */
	unsigned int frames;	/* timed frames per hand-off point */
	bool quick;		/* fewer sizes and repetitions, for development */
	const char *fill_path;	/* -p: a file to fill the page cache with, or NULL */
	char kernel[16];	/* kernel line for the CSV, e.g. "6.12" */
	int cohbuf_dev;		/* /dev/cohbuf */
	int heap_dev;		/* /dev/dma_heap/system */
	int udmabuf_dev;	/* /dev/udmabuf */
	int vgem_dev;		/* vgem's /dev/dri/cardN */
	int importer_dev;	/* /dev/cohbuf_importer */
};

extern struct bench bench;

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* bench.c: output and helpers */
void csv_row(const char *metric, enum mech_id mech, size_t size, int rep,
	     double value, const char *unit);
void csv_row_name(const char *metric, const char *mech, size_t size, int rep,
		  double value, const char *unit);
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...);
double now_us(void);
size_t page_round(size_t size);
/* A number in a /proc or /sys file: the value, or -1 if unreadable. */
long knob_read(const char *path);
/* Write @v to a /proc or /sys file: 0, or -errno. */
int knob_write(const char *path, long v);
/* The number after "@key:" in the /proc file @path (kB in meminfo, status), or -1. */
long proc_kib(const char *path, const char *key);
/* Repetitions at this size: fewer for the largest buffers. */
unsigned int reps_for(size_t size);
/* The k-th mechanism of a rotation that starts at @start, for interleaving. */
enum mech_id rotate(const enum mech_id *list, unsigned int n,
		    unsigned int start, unsigned int k);

/* mech.c: mechanisms with buffers */
void mech_open_all(void);
/* The available mechanisms among @want, into @list; returns how many. */
unsigned int mech_list(const enum mech_id *want, unsigned int n,
		       enum mech_id *list);
/* "# MECH: allocating SIZE bytes failed: ..." in the CSV. */
void alloc_failed(enum mech_id mech, size_t size, int err);
/*
 * mmap() at a 2 MiB boundary plus @skew bytes. Every buffer is mapped the
 * same way: under TCG, whose software TLB is direct-mapped, a copy runs at
 * half speed when source and destination share their low address bits, so
 * the addresses must not differ from one mechanism to the next.
 */
void *map_aligned(size_t len, size_t skew, int prot, int flags, int fd);
/*
 * Allocate and export; on failure nothing is left and a negative errno is
 * returned. @aligned: anonymous memory goes at a 2 MiB boundary, as
 * buf_map() puts the others when asked to.
 */
int buf_alloc(enum mech_id mech, size_t size, bool aligned, struct buf *b);
void buf_free(struct buf *b);
/*
 * Map the whole buffer shared, read-write; NULL on failure. @aligned: at a
 * 2 MiB boundary (map_aligned()), for copies; otherwise a plain mmap(), as
 * when timing the mapping itself.
 */
void *buf_map(const struct buf *b, bool aligned);
void buf_unmap(const struct buf *b, void *p);
/* DMA_BUF_IOCTL_SYNC around CPU access, for dma-bufs; no-op otherwise. */
void buf_sync(const struct buf *b, bool start, bool write);
/* The same on a dma-buf fd, through libcohbuf; dies on failure. */
void dmabuf_sync(int fd, bool start, bool write);
/* Bytes the mechanism holds for the buffer, from its own accounting. */
long long buf_held_bytes(const struct buf *b);

/* mem.c: the memory kernels every mechanism is measured with */
uint64_t mem_read(const void *p, size_t len);
void mem_write(void *p, size_t len, uint64_t pattern);

/* metrics.c */
void metric_alloc(const size_t *sizes, unsigned int n);
void metric_map_read(const size_t *sizes, unsigned int n);
void metric_bandwidth(const size_t *sizes, unsigned int n);
void metric_overhead(const size_t *sizes, unsigned int n);

/* handoff.c */
void metric_handoff(const size_t *sizes, unsigned int n);

/* import.c */
void metric_import(const size_t *sizes, unsigned int n);

/* entries.c: cohbuf's mappings with 2 MiB and with 4 KiB entries */
void metric_entries(const size_t *sizes, unsigned int n);

/* fence.c: at its own sizes */
void metric_fence(const size_t *sizes, unsigned int n);

/* contig.c: at its own sizes */
void metric_contig(const size_t *sizes, unsigned int n);

#endif /* COHBUF_BENCH_H */
