// SPDX-License-Identifier: GPL-2.0
/*
 * COHBUF_ALLOC_CONTIGUOUS against the default (chunked) allocation, on an
 * idle guest and after the page cache has filled the guest's memory, plus
 * how often 64 MiB contiguous succeeds. Rows:
 *   contig_alloc_idle, contig_alloc_pagecache   time of the ALLOC ioctl, µs,
 *                          mechanisms "cohbuf" (default) and "cohbuf-contig"
 *   contig_ok_idle, contig_ok_pagecache         successes of CONTIG_TRIES
 *                          64 MiB contiguous allocations, one row per try
 *                          (value 1 or 0)
 * The page cache is filled by reading the file given with -p (scripts/bench
 * gives a sparse host file twice the guest's memory, read over the 9p
 * mount, which the guest caches: cache=loose); without -p that half is
 * skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "libcohbuf.h"
#include "bench.h"

#define MIB		(1024UL * 1024)
#define CONTIG_TRIES	10
#define PARAMS		"/sys/module/cohbuf/parameters/"

static const size_t contig_sizes[] = { 1 * MIB, 4 * MIB, 16 * MIB, 64 * MIB, 256 * MIB };

/* The fill file and how far into it the page cache has read. */
static int fill_fd = -1;
static off_t fill_size, fill_pos;

/* A buffer with the allocation @flags, timed in *@us: the fd, or -errno. */
static int alloc_timed(size_t size, uint32_t flags, double *us)
{
	double t0 = now_us();
	int fd = cohbuf_alloc_flags(bench.cohbuf_dev, size, NULL, O_RDWR | O_CLOEXEC,
				    flags);

	*us = now_us() - t0;
	return fd;
}

/*
 * Reads @len more bytes of the fill file into the page cache, going round
 * it: each call caches pages the guest has not cached (or has evicted).
 */
static void fill_read(off_t len)
{
	static char chunk[1 << 20];
	ssize_t n;

	while (len > 0) {
		if (fill_pos >= fill_size)
			fill_pos = 0;
		n = pread(fill_fd, chunk, sizeof(chunk), fill_pos);
		if (n <= 0)
			die("reading the fill file: %s", n ? strerror(errno) : "end of file");
		fill_pos += n;
		len -= n;
	}
}

/* Fills free memory with page cache: reads more than MemFree of the file. */
static void fill_page_cache(void)
{
	long free_kib = proc_kib("/proc/meminfo", "MemFree");

	fill_read((off_t)(free_kib > 0 ? free_kib : 0) * 1024 * 5 / 4);
	printf("# contig: page cache filled: MemFree %ld kB, Cached %ld kB\n",
	       proc_kib("/proc/meminfo", "MemFree"), proc_kib("/proc/meminfo", "Cached"));
}

/* Default and contiguous allocations at each size, interleaved. */
static void contig_times(const char *phase)
{
	static const uint32_t flags[] = { 0, COHBUF_ALLOC_CONTIGUOUS };
	char metric[64];
	double us;
	int fd;

	snprintf(metric, sizeof(metric), "contig_alloc_%s", phase);
	for (unsigned int s = 0; s < ARRAY_SIZE(contig_sizes); s++) {
		size_t size = contig_sizes[s];

		progress("%s: %zu bytes", metric, size);
		for (int rep = -1; rep < (int)reps_for(size); rep++) {
			for (unsigned int k = 0; k < ARRAY_SIZE(flags); k++) {
				uint32_t f = flags[(rep + 1 + k) % ARRAY_SIZE(flags)];
				const char *mech = f ? "cohbuf-contig" : "cohbuf";

				fd = alloc_timed(size, f, &us);
				if (fd < 0) {
					printf("# %s: %s: allocating %zu bytes failed: %s\n",
					       metric, mech, size, strerror(-fd));
					continue;
				}
				close(fd);
				if (rep >= 0)
					csv_row_name(metric, mech, size, rep, us, "us");
			}
		}
	}
}

/*
 * CONTIG_TRIES contiguous 64 MiB allocations. With @refill, before each
 * try the page cache takes back the memory the last try freed.
 */
static void contig_success(const char *phase, bool refill)
{
	char metric[64];
	unsigned int ok = 0;
	double us;
	int fd;

	snprintf(metric, sizeof(metric), "contig_ok_%s", phase);
	progress("%s: %d tries at 64 MiB", metric, CONTIG_TRIES);
	for (int i = 0; i < CONTIG_TRIES; i++) {
		if (refill)
			fill_read(128 * MIB);
		fd = alloc_timed(64 * MIB, COHBUF_ALLOC_CONTIGUOUS, &us);
		if (fd >= 0)
			close(fd);
		else
			printf("# %s: try %d: %s\n", metric, i, strerror(-fd));
		ok += fd >= 0;
		csv_row_name(metric, "cohbuf-contig", 64 * MIB, i, fd >= 0, "ok");
	}
	printf("# contig: %s: %u of %d\n", metric, ok, CONTIG_TRIES);
}

/* Raises a cohbuf limit to @v for the run; the old value in *@old. */
static void limit_raise(const char *name, long v, long *old)
{
	char path[128];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	*old = knob_read(path);
	if (*old < 0 || knob_write(path, v))
		die("cannot set %s (is cohbuf loaded, and this root?)", path);
}

static void limit_restore(const char *name, long old)
{
	char path[128];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	knob_write(path, old);
}

void metric_contig(const size_t *sizes, unsigned int n)
{
	long old_max, old_contig;
	struct stat st;

	(void)sizes;
	(void)n;
	if (!mechs[MECH_COHBUF].available) {
		printf("# contig: not run: %s\n", mechs[MECH_COHBUF].why);
		return;
	}
	limit_raise("max_buffer_size", 256 * MIB, &old_max);
	limit_raise("max_contiguous_size", 256 * MIB, &old_contig);

	contig_times("idle");
	contig_success("idle", false);
	if (bench.fill_path) {
		fill_fd = open(bench.fill_path, O_RDONLY | O_CLOEXEC);
		if (fill_fd < 0 || fstat(fill_fd, &st))
			die("%s: %s", bench.fill_path, strerror(errno));
		fill_size = st.st_size;
		fill_page_cache();
		contig_times("pagecache");
		fill_page_cache();
		contig_success("pagecache", true);
		close(fill_fd);
	} else {
		printf("# contig: no -p FILE: not measured after a page-cache fill\n");
	}

	limit_restore("max_contiguous_size", old_contig);
	limit_restore("max_buffer_size", old_max);
}
