// SPDX-License-Identifier: GPL-2.0
/*
 * The metrics on one process's buffers:
 *
 *   alloc_export  from the request to a usable fd (anon: mmap with
 *                 MAP_POPULATE); the reference is zero_floor, a memset()
 *                 of the same size into memory that is already mapped
 *   mmap, map_read
 *                 mmap() alone, and mmap() plus the first read of every
 *                 byte, reported together: a mechanism that fills its page
 *                 tables in mmap() and one that takes page faults pay at
 *                 different moments. The buffer was written beforehand.
 *   read_bw, write_bw, copy_bw
 *                 steady bandwidth of a mapped, populated buffer; the copy
 *                 goes from it into anonymous memory
 *   waste, pt_pages
 *                 bytes held beyond those requested, and page-table pages
 *                 (VmPTE) added by mapping and reading the buffer
 *
 * Each point is measured once untimed (the warm-up), then bench.reps
 * times; within a repetition the mechanisms take turns, in an order that
 * rotates from one repetition to the next. map_read and the bandwidths
 * use new buffers in each repetition.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

/* Steady bandwidth: each timed run moves at least this much. */
#define BW_MIN_BYTES	(16UL << 20)

static volatile uint64_t sink;

static const enum mech_id with_buffers[] = {
	MECH_ANON, MECH_MEMFD, MECH_VGEM, MECH_UDMABUF, MECH_HEAP, MECH_COHBUF,
};

static const enum mech_id with_fds[] = {
	MECH_MEMFD, MECH_VGEM, MECH_UDMABUF, MECH_HEAP, MECH_COHBUF,
};

/*
 * The zeroing floor's memory and the copy destination. The destination
 * sits an odd number of pages off a 2 MiB boundary, every source on one.
 */
#define DST_SKEW	(17 * 4096UL)

static void *anon_populated(size_t len)
{
	void *p = map_aligned(len, DST_SKEW, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1);

	if (p == MAP_FAILED)
		die("mmap of %zu bytes: %s", len, strerror(errno));
	return p;
}

void metric_alloc(const size_t *sizes, unsigned int n)
{
	enum mech_id list[MECH_NR];
	unsigned int nl = mech_list(with_buffers, ARRAY_SIZE(with_buffers), list);

	for (unsigned int s = 0; s < n; s++) {
		size_t size = sizes[s];
		void *floor = anon_populated(page_round(size));

		progress("alloc_export: %zu bytes", size);
		for (int rep = -1; rep < (int)reps_for(size); rep++) {
			double t0 = now_us();

			memset(floor, rep & 0xff, size);
			if (rep >= 0)
				csv_row_name("zero_floor", "memset", size, rep,
					     now_us() - t0, "us");

			for (unsigned int k = 0; k < nl; k++) {
				enum mech_id m = rotate(list, nl, rep + 1, k);
				struct buf b;
				double t;
				int ret;

				t0 = now_us();
				ret = buf_alloc(m, size, false, &b);
				t = now_us() - t0;
				if (ret) {
					alloc_failed(m, size, ret);
					continue;
				}
				buf_free(&b);
				if (rep >= 0)
					csv_row("alloc_export", m, size, rep, t, "us");
			}
		}
		munmap(floor, page_round(size));
	}
}

/* Allocate a buffer per mechanism, then write every byte through a mapping. */
static unsigned int bufs_alloc_filled(const enum mech_id *list, unsigned int nl,
				      size_t size, bool aligned, struct buf *bufs)
{
	unsigned int got = 0;

	for (unsigned int k = 0; k < nl; k++) {
		int ret = buf_alloc(list[k], size, aligned, &bufs[got]);
		void *p;

		if (ret) {
			alloc_failed(list[k], size, ret);
			continue;
		}
		p = buf_map(&bufs[got], false);
		if (!p)
			die("%s: mmap: %s", mechs[list[k]].name, strerror(errno));
		buf_sync(&bufs[got], true, true);
		mem_write(p, size, 0x0101010101010101ULL * (k + 1));
		buf_sync(&bufs[got], false, true);
		buf_unmap(&bufs[got], p);
		got++;
	}
	return got;
}

void metric_map_read(const size_t *sizes, unsigned int n)
{
	enum mech_id list[MECH_NR];
	unsigned int nl = mech_list(with_fds, ARRAY_SIZE(with_fds), list);
	struct buf bufs[MECH_NR];

	for (unsigned int s = 0; s < n; s++) {
		size_t size = sizes[s];

		progress("map_read: %zu bytes", size);
		for (int rep = -1; rep < (int)reps_for(size); rep++) {
			/* New buffers, new pages, each repetition. */
			unsigned int nb = bufs_alloc_filled(list, nl, size, false, bufs);

			for (unsigned int k = 0; k < nb; k++) {
				struct buf *b = &bufs[(rep + 1 + k) % nb];
				double t0, t1, t2;
				void *p;

				t0 = now_us();
				p = buf_map(b, false);
				t1 = now_us();
				if (!p)
					die("%s: mmap: %s", mechs[b->mech].name,
					    strerror(errno));
				buf_sync(b, true, false);
				sink += mem_read(p, size);
				buf_sync(b, false, false);
				t2 = now_us();
				buf_unmap(b, p);
				if (rep < 0)
					continue;
				csv_row("mmap", b->mech, size, rep, t1 - t0, "us");
				csv_row("map_read", b->mech, size, rep, t2 - t0, "us");
			}
			for (unsigned int k = 0; k < nb; k++)
				buf_free(&bufs[k]);
		}
	}
}

/* MB/s (10^6 bytes) of @iters passes of @size bytes in @us microseconds. */
static double mbps(size_t size, unsigned int iters, double us)
{
	return (double)size * iters / us;
}

static void bandwidth_one(const struct buf *b, void *p, void *dst,
			  size_t size, int rep)
{
	unsigned int iters = size >= BW_MIN_BYTES ? 1 :
			     (BW_MIN_BYTES + size - 1) / size;
	double t0;

	buf_sync(b, true, true);
	t0 = now_us();
	for (unsigned int i = 0; i < iters; i++)
		sink += mem_read(p, size);
	if (rep >= 0)
		csv_row("read_bw", b->mech, size, rep, mbps(size, iters, now_us() - t0), "MB/s");

	t0 = now_us();
	for (unsigned int i = 0; i < iters; i++)
		mem_write(p, size, i);
	if (rep >= 0)
		csv_row("write_bw", b->mech, size, rep, mbps(size, iters, now_us() - t0), "MB/s");

	t0 = now_us();
	for (unsigned int i = 0; i < iters; i++)
		memcpy(dst, p, size);
	if (rep >= 0)
		csv_row("copy_bw", b->mech, size, rep, mbps(size, iters, now_us() - t0), "MB/s");
	buf_sync(b, false, true);
}

void metric_bandwidth(const size_t *sizes, unsigned int n)
{
	enum mech_id list[MECH_NR];
	unsigned int nl = mech_list(with_buffers, ARRAY_SIZE(with_buffers), list);
	struct buf bufs[MECH_NR];
	void *maps[MECH_NR];

	for (unsigned int s = 0; s < n; s++) {
		size_t size = sizes[s];

		progress("bandwidth: %zu bytes", size);
		for (int rep = -1; rep < (int)reps_for(size); rep++) {
			/*
			 * New buffers each repetition: the speed of memory under
			 * TCG can depend on where in guest memory it lies.
			 */
			void *dst = anon_populated(page_round(size));
			unsigned int nb = bufs_alloc_filled(list, nl, size, true, bufs);

			for (unsigned int k = 0; k < nb; k++) {
				maps[k] = buf_map(&bufs[k], true);
				if (!maps[k])
					die("%s: mmap: %s", mechs[bufs[k].mech].name,
					    strerror(errno));
				/* Populate: steady state, no faults left. */
				sink += mem_read(maps[k], size);
			}
			for (unsigned int k = 0; k < nb; k++) {
				unsigned int i = (rep + 1 + k) % nb;

				bandwidth_one(&bufs[i], maps[i], dst, size, rep);
			}
			for (unsigned int k = 0; k < nb; k++) {
				buf_unmap(&bufs[k], maps[k]);
				buf_free(&bufs[k]);
			}
			munmap(dst, page_round(size));
		}
	}
}

void metric_overhead(const size_t *sizes, unsigned int n)
{
	enum mech_id list[MECH_NR];
	unsigned int nl = mech_list(with_buffers, ARRAY_SIZE(with_buffers), list);
	long page_kib = sysconf(_SC_PAGESIZE) / 1024;

	progress("overhead");
	for (unsigned int s = 0; s < n; s++) {
		for (unsigned int k = 0; k < nl; k++) {
			size_t size = sizes[s];
			long pte0 = proc_kib("/proc/self/status", "VmPTE"), pte1;
			long long held;
			struct buf b;
			void *p;
			int ret;

			ret = buf_alloc(list[k], size, false, &b);
			if (ret) {
				alloc_failed(list[k], size, ret);
				continue;
			}
			p = buf_map(&b, false);
			if (!p)
				die("%s: mmap: %s", mechs[list[k]].name, strerror(errno));
			sink += mem_read(p, size);
			held = buf_held_bytes(&b);
			pte1 = proc_kib("/proc/self/status", "VmPTE");
			buf_unmap(&b, p);
			buf_free(&b);
			csv_row("waste", list[k], size, 0, held - (long long)size, "bytes");
			csv_row("pt_pages", list[k], size, 0,
				(double)(pte1 - pte0) / page_kib, "pages");
		}
	}
}
