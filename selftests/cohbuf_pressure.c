// SPDX-License-Identifier: GPL-2.0
/*
 * Memory pressure: with max_total_size as large as the guest's RAM, allocate
 * until the memory runs out. The allocation must fail cleanly with ENOMEM,
 * without waking the OOM killer (the memory is charged to no process, so it
 * would kill innocent ones), without a warning in the kernel log, and every
 * byte must come back once the buffers are closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cohbuf_harness.h"

/* "Key:  N kB" from /proc/meminfo, in bytes; or "key N" from /proc/vmstat. */
static int proc_value(const char *path, const char *key, uint64_t *val)
{
	size_t klen = strlen(key);
	unsigned long long n;
	char line[256];
	int ret = -ENOENT;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || (line[klen] != ':' && line[klen] != ' '))
			continue;
		if (sscanf(line + klen + 1, "%llu", &n) == 1) {
			*val = strstr(line, " kB") ? n * 1024 : n;
			ret = 0;
		}
		break;
	}
	fclose(f);
	return ret;
}

DEV_FIXTURE(pressure)

TEST_F_TIMEOUT(pressure, allocate_until_enomem, 600)
{
	/* Large buffers first, then smaller ones into what is left. */
	uint64_t sizes[] = { 64 * SZ_1M, SZ_4M, 16 * SZ_4K, SZ_4K };
	uint64_t total, avail, avail_after, oom_before, oom_after, got = 0;
	int *fds, nfds = 0, cap = 256, fd, ret = 0;
	unsigned int i;

	ASSERT_EQ(0, proc_value("/proc/meminfo", "MemTotal", &total));
	ASSERT_EQ(0, proc_value("/proc/meminfo", "MemAvailable", &avail));
	ASSERT_EQ(0, proc_value("/proc/vmstat", "oom_kill", &oom_before));
	test_param_set(&self->params, "cohbuf", "max_total_size", total);
	fds = malloc(cap * sizeof(*fds));
	ASSERT_NE(NULL, fds);

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (;;) {
			if (nfds == cap) {
				int *more = realloc(fds, 2 * cap * sizeof(*fds));

				ASSERT_NE(NULL, more);
				fds = more;
				cap *= 2;
			}
			fd = cohbuf_alloc(self->dev, sizes[i], NULL, O_RDWR | O_CLOEXEC);
			if (fd < 0) {
				ret = fd;
				break;
			}
			fds[nfds++] = fd;
			got += sizes[i];
		}
		/* the one documented way to run out */
		ASSERT_EQ(-ENOMEM, ret) TH_LOG("size %llu after %llu MiB: %s",
					       (unsigned long long)sizes[i],
					       (unsigned long long)(got / SZ_1M),
					       strerror(-ret));
	}
	ASSERT_EQ(0, proc_value("/proc/vmstat", "oom_kill", &oom_after));
	TH_LOG("MemTotal %llu MiB, MemAvailable %llu MiB: %d buffers, %llu MiB, then ENOMEM",
	       (unsigned long long)(total / SZ_1M), (unsigned long long)(avail / SZ_1M),
	       nfds, (unsigned long long)(got / SZ_1M));
	ksft_print_msg("reliability: memory pressure: %llu MiB allocated of %llu MiB available, then ENOMEM; OOM kills %llu\n",
		       (unsigned long long)(got / SZ_1M), (unsigned long long)(avail / SZ_1M),
		       (unsigned long long)(oom_after - oom_before));
	/* it did take most of the memory, and the OOM killer never ran */
	ASSERT_LE(avail / 2, got);
	ASSERT_EQ(oom_before, oom_after);

	/* and every byte comes back */
	for (i = 0; i < (unsigned int)nfds; i++)
		close(fds[i]);
	free(fds);
	assert_baseline(&self->base, "after closing every buffer");
	ASSERT_EQ(0, proc_value("/proc/meminfo", "MemAvailable", &avail_after));
	ASSERT_LE(avail - avail / 8, avail_after)
		TH_LOG("MemAvailable %llu MiB before, %llu MiB after",
		       (unsigned long long)(avail / SZ_1M),
		       (unsigned long long)(avail_after / SZ_1M));
	close(test_alloc(self->dev, 64 * SZ_1M, O_RDWR | O_CLOEXEC));
}

TEST_HARNESS_MAIN
