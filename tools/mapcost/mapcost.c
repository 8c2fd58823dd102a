// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf-mapcost: what mapping a cohbuf buffer costs, next to a memfd of
 * the same size, measured in the same run.
 *
 * For each size it times, as the median of several rounds after a warm-up:
 *   mmap          the mmap() call alone (cohbuf populates every PTE here);
 *   mmap+touch    mmap() plus reading one byte of every page, which is when
 *                 a memfd takes its page faults.
 * The memfd's pages are allocated and written beforehand, as cohbuf's are.
 * It prints absolute times and the cohbuf/memfd ratio; under TCG only the
 * ratio means anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cohbuf.h"

#define ROUNDS	9

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median time of mapping @fd (and touching every page if @touch). */
static double time_map(int fd, size_t size, int touch)
{
	long page = sysconf(_SC_PAGESIZE);
	double t[ROUNDS];
	volatile uint8_t sink = 0;

	for (int r = -1; r < ROUNDS; r++) {
		double start = now_us();
		uint8_t *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);

		if (p == MAP_FAILED) {
			perror("mmap");
			exit(1);
		}
		if (touch)
			for (size_t off = 0; off < size; off += page)
				sink += p[off];
		if (r >= 0)
			t[r] = now_us() - start;
		munmap(p, size);
	}
	(void)sink;
	qsort(t, ROUNDS, sizeof(t[0]), cmp_double);
	return t[ROUNDS / 2];
}

static int memfd_filled(size_t size)
{
	int fd = memfd_create("mapcost", MFD_CLOEXEC);
	void *p;

	if (fd < 0 || ftruncate(fd, size))
		return -1;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	memset(p, 1, size);
	munmap(p, size);
	return fd;
}

int main(void)
{
	static const size_t sizes[] = { 1 << 20, 4 << 20, 64 << 20 };
	int dev = open("/dev/cohbuf", O_RDWR | O_CLOEXEC);

	if (dev < 0) {
		perror("/dev/cohbuf");
		return 1;
	}
	printf("%-8s %-11s %12s %12s %8s\n", "size", "metric", "cohbuf us",
	       "memfd us", "ratio");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct cohbuf_alloc req = { .size = sizes[i], .fd_flags = O_RDWR };
		int mfd = memfd_filled(sizes[i]);

		if (mfd < 0 || ioctl(dev, COHBUF_IOCTL_ALLOC, &req)) {
			perror("allocate");
			return 1;
		}
		for (int touch = 0; touch <= 1; touch++) {
			double c = time_map(req.fd, sizes[i], touch);
			double m = time_map(mfd, sizes[i], touch);

			printf("%4zu MiB %-11s %12.1f %12.1f %8.2f\n", sizes[i] >> 20,
			       touch ? "mmap+touch" : "mmap", c, m, c / m);
		}
		close(req.fd);
		close(mfd);
	}
	return 0;
}
