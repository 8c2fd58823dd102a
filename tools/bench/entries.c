// SPDX-License-Identifier: GPL-2.0
/*
 * The entry size of cohbuf's user mappings: the same buffer mapped with
 * 2 MiB entries and with 4 KiB entries (cohbuf's pmd_mappings parameter
 * off), in the same boot, interleaved, through cohbuf_map() as a user
 * maps it:
 *
 *   entries_mmap       mmap() alone: 4 KiB entries are all written here,
 *                      2 MiB entries at the first touch of each block
 *   entries_map_touch  mmap() plus one read of every 4 KiB page: the cost
 *                      of the mapping itself, entries and TLB refills
 *   entries_map_read   mmap() plus the first read of every byte
 *
 * Only where the kernel has huge PFN maps (the parameter exists), at the
 * sizes of 2 MiB and more.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include "libcohbuf.h"

#define PMD_PARAM	"/sys/module/cohbuf/parameters/pmd_mappings"

static volatile uint64_t sink;

static const char *const entry_names[] = { "cohbuf-2m", "cohbuf-4k" };

/*
 * Maps @b, reads one byte of every page (@every_byte false) or every byte,
 * unmaps: the time from mmap() to the end of the reading, and of mmap()
 * alone in *@mmap_us.
 */
static double map_pass(const struct buf *b, bool every_byte, double *mmap_us)
{
	long page = sysconf(_SC_PAGESIZE);
	double t0, t1, t2;
	char *p;
	int ret;

	t0 = now_us();
	ret = cohbuf_map(b->fd, 0, b->len, PROT_READ, (void **)&p);
	t1 = now_us();
	if (ret)
		die("cohbuf: mmap: %s", strerror(-ret));
	if (every_byte)
		sink += mem_read(p, b->size);
	else
		for (size_t off = 0; off < b->len; off += page)
			sink += p[off];
	t2 = now_us();
	cohbuf_unmap(p, b->len);
	*mmap_us = t1 - t0;
	return t2 - t0;
}

/* @b with 2 MiB entries allowed (@mode 0) or not (1). */
static void entries_once(const struct buf *b, int mode, int rep)
{
	double touch, read, mmap_us, unused;

	if (knob_write(PMD_PARAM, !mode))
		die("%s: %s", PMD_PARAM, strerror(errno));
	touch = map_pass(b, false, &unused);
	read = map_pass(b, true, &mmap_us);
	if (rep < 0)
		return;
	csv_row_name("entries_mmap", entry_names[mode], b->size, rep, mmap_us, "us");
	csv_row_name("entries_map_touch", entry_names[mode], b->size, rep, touch, "us");
	csv_row_name("entries_map_read", entry_names[mode], b->size, rep, read, "us");
}

void metric_entries(const size_t *sizes, unsigned int n)
{
	if (access(PMD_PARAM, F_OK)) {
		printf("# entries: cohbuf has no pmd_mappings parameter: this kernel has no huge PFN maps\n");
		return;
	}
	for (unsigned int s = 0; s < n; s++) {
		size_t size = sizes[s];

		if (size < (2UL << 20))
			continue;
		progress("entries: %zu bytes", size);
		for (int rep = -1; rep < (int)reps_for(size); rep++) {
			struct buf b;
			int ret = buf_alloc(MECH_COHBUF, size, false, &b);

			if (ret) {
				alloc_failed(MECH_COHBUF, size, ret);
				continue;
			}
			for (int k = 0; k < 2; k++)
				entries_once(&b, (rep + 1 + k) % 2, rep);
			buf_free(&b);
		}
	}
	knob_write(PMD_PARAM, 1);
}
