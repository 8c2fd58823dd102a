// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection (needs the debug kernel: CONFIG_FAILSLAB,
 * CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS).
 *
 * Allocation (scattered, contiguous from one buddy block or from a range
 * that alloc_contig_range() empties, below 4 GiB), export, mmap (and
 * splitting, moving and forking a mapping), naming, the importer's
 * attach + map + vmap, its asynchronous jobs, and cohbuf's fence attach
 * (the fence, its sync_file, its reservation slot) run while failslab and
 * fail_page_alloc fail the kernel's allocations, in two ways:
 *
 *   sweep   /proc/thread-self/fail-nth fails the 1st, 2nd, 3rd, ...
 *           allocation of each call in turn, until the call makes no more:
 *           every allocation site on every path fails once (but for the
 *           page migrations of a contiguous range: RANGE_SWEEP_MAX);
 *   random  with task-filter and /proc/thread-self/make-it-fail, only this
 *           task's allocations fail, each with some probability; the
 *           attributes' "times" counts the failures injected.
 *
 * After every injected failure: the call either failed with its documented
 * errno (ENOMEM) or recovered by itself (a smaller chunk order, say); every
 * counter is back at baseline (cohbuf's buffers and bytes, the importer's
 * attachments, dma-buf bufinfo, and a mapping count of 0 once unmapped); and
 * the same call, retried without injection, succeeds. Leaks of memory
 * are kmemleak's to find (cohbuf_kmemleak.sh).
 *
 * The DMA-API debug code's own allocations are spared (its cacheline
 * tracking switches itself off when one fails), and so are kmemleak's
 * (whose failures it absorbs from a pool, and which are not cohbuf's).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "cohbuf_harness.h"

#define FAILSLAB	"/sys/kernel/debug/failslab"
#define FAIL_PAGE	"/sys/kernel/debug/fail_page_alloc"
#define SLAB_SYSFS	"/sys/kernel/slab"

/* Caches whose allocations are never failed: kmemleak's own bookkeeping. */
static const char *const spared_caches[] = {
	"kmemleak_object", "kmemleak_scan_area",
};

/* ---- debugfs and sysfs knobs ---- */

static int write_str(const char *path, const char *val)
{
	int fd, ret = 0;
	size_t len = strlen(val);

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != (ssize_t)len)
		ret = -errno;
	close(fd);
	return ret;
}

static int read_str(const char *path, char *val, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, val, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	val[n] = '\0';
	val[strcspn(val, "\n")] = '\0';
	return 0;
}

static int attr_set(const char *dir, const char *name, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return write_str(path, val);
}

/* The knobs this test changes, and their values before it. */
static const char *const attr_dirs[] = { FAILSLAB, FAIL_PAGE };
static const char *const attr_names[] = {
	"probability", "interval", "times", "space", "verbose", "task-filter",
	"ignore-gfp-wait", "reject-start", "reject-end", "require-start",
	"require-end", "stacktrace-depth",
	/* failslab only */ "cache-filter",
	/* fail_page_alloc only */ "ignore-gfp-highmem", "min-order",
};
#define NATTRS (sizeof(attr_names) / sizeof(attr_names[0]))

struct saved_attrs {
	char val[2][NATTRS][32];
	bool have[2][NATTRS];
};

static void attrs_save(struct saved_attrs *s)
{
	char path[PATH_MAX];
	unsigned int d, a;

	for (d = 0; d < 2; d++) {
		for (a = 0; a < NATTRS; a++) {
			snprintf(path, sizeof(path), "%s/%s", attr_dirs[d], attr_names[a]);
			s->have[d][a] = !read_str(path, s->val[d][a], sizeof(s->val[d][a]));
		}
	}
}

static void attrs_restore(const struct saved_attrs *s)
{
	unsigned int d, a;

	for (d = 0; d < 2; d++) {
		for (a = 0; a < NATTRS; a++) {
			if (s->have[d][a])
				attr_set(attr_dirs[d], attr_names[a], s->val[d][a]);
		}
	}
}

/* Mark every slab cache but the spared ones as one failslab may fail. */
static int caches_mark(bool on)
{
	char path[PATH_MAX];
	struct dirent *de;
	unsigned int i;
	bool spared;
	DIR *dir;

	dir = opendir(SLAB_SYSFS);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		spared = false;
		for (i = 0; i < sizeof(spared_caches) / sizeof(spared_caches[0]); i++)
			spared |= !strcmp(de->d_name, spared_caches[i]);
		snprintf(path, sizeof(path), SLAB_SYSFS "/%s/failslab", de->d_name);
		/* merged caches refuse (EINVAL); so be it */
		write_str(path, on && !spared ? "1" : "0");
	}
	closedir(dir);
	return 0;
}

/*
 * The address range of the DMA-API debug code (kernel/dma/debug.c), whose
 * functions are named debug_dma_*: from the lowest of them to the symbol
 * that follows the highest. 0 and 0 when there is none.
 */
static void dma_debug_range(unsigned long *start, unsigned long *end)
{
	unsigned long lo = ULONG_MAX, hi = 0, next = ULONG_MAX, addr;
	char line[512], type, name[256];
	FILE *f;

	*start = *end = 0;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx %c %255s", &addr, &type, name) != 3)
			continue;
		if ((type == 't' || type == 'T') && !strncmp(name, "debug_dma_", 10)) {
			if (addr < lo)
				lo = addr;
			if (addr > hi)
				hi = addr;
		}
	}
	if (!hi) {
		fclose(f);
		return;
	}
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx %c %255s", &addr, &type, name) == 3 &&
		    addr > hi && addr < next)
			next = addr;
	}
	fclose(f);
	*start = lo;
	*end = next;
}

/* Both attributes: quiet, this task only, and what to spare. */
static int attrs_configure(void)
{
	unsigned long start, end;
	char val[32];
	unsigned int d;
	int ret = 0;

	dma_debug_range(&start, &end);
	for (d = 0; d < 2; d++) {
		const char *dir = attr_dirs[d];

		ret |= attr_set(dir, "probability", "0");
		ret |= attr_set(dir, "interval", "1");
		ret |= attr_set(dir, "times", "-1");
		ret |= attr_set(dir, "space", "0");
		ret |= attr_set(dir, "verbose", "0");
		ret |= attr_set(dir, "task-filter", "Y");
		ret |= attr_set(dir, "ignore-gfp-wait", "N");
		ret |= attr_set(dir, "require-start", "0");
		ret |= attr_set(dir, "require-end", "0xffffffffffffffff");
		snprintf(val, sizeof(val), "%#lx", start);
		ret |= attr_set(dir, "reject-start", val);
		snprintf(val, sizeof(val), "%#lx", end);
		ret |= attr_set(dir, "reject-end", val);
	}
	ret |= attr_set(FAILSLAB, "cache-filter", "Y");
	ret |= attr_set(FAIL_PAGE, "ignore-gfp-highmem", "N");
	ret |= attr_set(FAIL_PAGE, "min-order", "0");
	return ret ? -EIO : caches_mark(true);
}

/* ---- the calls under test ---- */

struct fault;

/* What a call left behind, for its undo. */
struct op_state {
	int fd;
	void *map;
	size_t len;
	void *moved;
	uint32_t handle;
	bool attached;
	int extra;
};

struct op {
	const char *name;
	/* without injection: what the call needs */
	int (*prepare)(struct fault *f, const struct op *op, struct op_state *s);
	/* the call itself, injected: 0 or -errno */
	int (*run)(struct fault *f, const struct op *op, struct op_state *s);
	/* without injection: undo prepare and a successful run; 0 or -errno */
	int (*undo)(struct fault *f, const struct op *op, struct op_state *s);
	uint64_t size;
	uint32_t fd_flags;
	uint32_t flags;		/* COHBUF_ALLOC_* for the allocations; 1: a fence on no buffer */
};

struct fault {
	int dev;
	int imp;
	int nth;		/* /proc/thread-self/fail-nth */
	int make_it_fail;	/* /proc/thread-self/make-it-fail */
	size_t ps;
	char *reserve;		/* an address range to move mappings to */
};

static int op_alloc_run(struct fault *f, const struct op *op, struct op_state *s)
{
	struct cohbuf_alloc req = {
		.size = op->size, .fd_flags = op->fd_flags, .flags = op->flags
	};

	if (ioctl(f->dev, COHBUF_IOCTL_ALLOC, &req))
		return -errno;
	s->fd = req.fd;
	return 0;
}

static int op_prepare_buffer(struct fault *f, const struct op *op, struct op_state *s)
{
	int fd = cohbuf_alloc(f->dev, op->size, NULL, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return fd;
	s->fd = fd;
	return 0;
}

static int op_mmap_run(struct fault *f, const struct op *op, struct op_state *s);

static int op_prepare_map(struct fault *f, const struct op *op, struct op_state *s)
{
	int ret = op_prepare_buffer(f, op, s);

	return ret ? ret : op_mmap_run(f, op, s);
}

static int op_move_run(struct fault *f, const struct op *op, struct op_state *s);

/* Unmap whatever is mapped; the buffer must then count no mapping. */
static int op_undo(struct fault *f, const struct op *op, struct op_state *s)
{
	struct cohbuf_entry row;
	uint64_t ino;
	int ret = 0;

	if (s->attached && cohbuf_importer_detach(f->imp, s->handle))
		ret = -EIO;
	if (s->map)
		munmap(s->map, s->len);
	if (s->moved)
		munmap(s->moved, s->len);
	/* mremap(MREMAP_FIXED) took the placeholder: put it back */
	if (op->run == op_move_run &&
	    mmap(f->reserve, 64 * f->ps, PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0) == MAP_FAILED)
		ret = -errno;
	if (s->extra >= 0)
		close(s->extra);
	if (s->fd >= 0) {
		if (!cohbuf_ino(s->fd, &ino) && !row_read(ino, &row) &&
		    row.mappings != 0)
			ret = -EUCLEAN;
		close(s->fd);
	}
	return ret;
}

static int op_mmap_run(struct fault *f, const struct op *op, struct op_state *s)
{
	(void)f;
	s->len = op->size;
	s->map = map_shared(s->fd, s->len, PROT_READ | PROT_WRITE, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return -errno;
	}
	return 0;
}

static int op_mmap_offset_run(struct fault *f, const struct op *op, struct op_state *s)
{
	s->len = op->size / 2;
	s->map = map_shared(s->fd, s->len, PROT_READ, op->size / 2 - f->ps);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return -errno;
	}
	return 0;
}

/* Unmapping a page in the middle splits the VMA in two. */
static int op_split_run(struct fault *f, const struct op *op, struct op_state *s)
{
	(void)op;
	return munmap((char *)s->map + f->ps, f->ps) ? -errno : 0;
}

static int op_move_run(struct fault *f, const struct op *op, struct op_state *s)
{
	void *p;

	(void)op;
	p = mremap(s->map, s->len, s->len, MREMAP_MAYMOVE | MREMAP_FIXED, f->reserve);
	if (p == MAP_FAILED)
		return -errno;
	/*
	 * s->map stays for the undo: when unmapping the old range runs out of
	 * memory after the move, mremap() succeeds and leaves the old VMA in
	 * place (mm/mremap.c, "OOM: unable to split vma"), still counted.
	 */
	s->moved = p;
	return 0;
}

static int op_fork_run(struct fault *f, const struct op *op, struct op_state *s)
{
	int status;
	pid_t pid;

	(void)f;
	(void)op;
	(void)s;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(0);
	if (waitpid(pid, &status, 0) != pid)
		return -ECHILD;
	return 0;
}

static int op_attach_run(struct fault *f, const struct op *op, struct op_state *s)
{
	struct cohbuf_imp_attach arg;
	int ret;

	(void)op;
	ret = cohbuf_importer_attach(f->imp, s->fd, &arg);
	if (ret)
		return ret;
	s->handle = arg.handle;
	s->attached = true;
	return 0;
}

static int op_info_run(struct fault *f, const struct op *op, struct op_state *s)
{
	struct cohbuf_range ranges[8];
	struct cohbuf_info arg = {
		.fd = s->fd, .ranges_cap = 8, .ranges = (uintptr_t)ranges
	};

	(void)op;
	return ioctl(f->dev, COHBUF_IOCTL_INFO, &arg) ? -errno : 0;
}

static int op_name_run(struct fault *f, const struct op *op, struct op_state *s)
{
	(void)f;
	(void)op;
	return cohbuf_set_name(s->fd, "fault-injection-name");
}

static int op_crc_run(struct fault *f, const struct op *op, struct op_state *s)
{
	uint32_t crc;

	if (!s->attached) {
		int ret = op_attach_run(f, op, s);

		if (ret)
			return ret;
	}
	return cohbuf_importer_crc32(f->imp, s->handle, 0, op->size, &crc);
}

static int op_prepare_attached(struct fault *f, const struct op *op, struct op_state *s)
{
	int ret = op_prepare_buffer(f, op, s);

	return ret ? ret : op_attach_run(f, op, s);
}

/* Keep an fd that an open returned, or pass its -errno on. */
static int op_keep_fd(struct op_state *s, int fd)
{
	if (fd < 0)
		return fd;
	s->extra = fd;
	return 0;
}

static int op_open_importer_run(struct fault *f, const struct op *op, struct op_state *s)
{
	(void)f;
	(void)op;
	return op_keep_fd(s, cohbuf_importer_open());
}

static int op_open_dev_run(struct fault *f, const struct op *op, struct op_state *s)
{
	(void)f;
	(void)op;
	return op_keep_fd(s, cohbuf_open());
}

/*
 * A cohbuf fence on the buffer (or on none, with op->flags), signalled at
 * once so that no fence waits for its timeout after the run.
 */
static int op_fence_run(struct fault *f, const struct op *op, struct op_state *s)
{
	int fence, ret;

	fence = cohbuf_fence_attach(f->dev, op->flags ? -1 : s->fd, COHBUF_FENCE_WRITE, 0);
	ret = op_keep_fd(s, fence);
	return ret ? ret : cohbuf_fence_signal(f->dev, fence, 0);
}

/* An attached buffer with a signalled fence in it: a job's dependency. */
static int op_prepare_fenced(struct fault *f, const struct op *op, struct op_state *s)
{
	int ret = op_prepare_attached(f, op, s);

	return ret ? ret : op_fence_run(f, op, s);
}

/*
 * An asynchronous FILL (the job, its fence, the reservation slot and the
 * dependencies' array), waited for: it runs at once.
 */
static int op_fill_async_run(struct fault *f, const struct op *op, struct op_state *s)
{
	int ret, status = 0;

	ret = cohbuf_importer_fill_async(f->imp, s->handle, 0, op->size, 0x5a5a5a5a);
	if (!ret)
		ret = cohbuf_importer_wait(f->imp, s->handle, 20000, &status, NULL);
	return ret ? ret : status;
}

static int op_prepare_none(struct fault *f, const struct op *op, struct op_state *s)
{
	(void)f;
	(void)op;
	(void)s;
	return 0;
}

#define PAGE	4096ULL
/*
 * A contiguous buffer above 4 MiB is a range that alloc_contig_range()
 * empties by migrating each page in use, one allocation per page: the
 * sweep fails the range search's and isolation's allocations and the
 * first migrations (a failed range is followed by the next candidate),
 * the random phase the rest. Every site after them (export, fd) is the
 * other allocations'.
 */
#define RANGE_SWEEP_MAX	64
static const struct op ops[] = {
	{ "alloc 1 page", op_prepare_none, op_alloc_run, op_undo, PAGE, O_RDWR | O_CLOEXEC, 0 },
	{ "alloc 2 MiB - 4 KiB (9 chunks)", op_prepare_none, op_alloc_run, op_undo,
	  2 * SZ_1M - PAGE, O_RDWR | O_CLOEXEC, 0 },
	{ "alloc 4 MiB + 8 KiB read-only", op_prepare_none, op_alloc_run, op_undo,
	  SZ_4M + 2 * PAGE, O_RDONLY, 0 },
	{ "alloc 600 KiB contiguous (one buddy block, trimmed)", op_prepare_none,
	  op_alloc_run, op_undo, 150 * PAGE, O_RDWR | O_CLOEXEC, COHBUF_ALLOC_CONTIGUOUS },
	{ "alloc 1 MiB + 4 KiB below 4 GiB", op_prepare_none, op_alloc_run, op_undo,
	  SZ_1M + PAGE, O_RDWR | O_CLOEXEC, COHBUF_ALLOC_DMA32 },
	{ "alloc 8 MiB contiguous (a range)", op_prepare_none, op_alloc_run, op_undo,
	  2 * SZ_4M, O_RDWR | O_CLOEXEC, COHBUF_ALLOC_CONTIGUOUS },
	{ "alloc 8 MiB contiguous below 4 GiB", op_prepare_none, op_alloc_run, op_undo,
	  2 * SZ_4M, O_RDWR | O_CLOEXEC, COHBUF_ALLOC_CONTIGUOUS | COHBUF_ALLOC_DMA32 },
	{ "COHBUF_IOCTL_INFO", op_prepare_buffer, op_info_run, op_undo, SZ_4M + 3 * PAGE, 0, 0 },
	{ "mmap", op_prepare_buffer, op_mmap_run, op_undo, 64 * PAGE, 0, 0 },
	{ "mmap at an offset", op_prepare_buffer, op_mmap_offset_run, op_undo, 64 * PAGE, 0, 0 },
	{ "munmap splitting a mapping", op_prepare_map, op_split_run, op_undo, 4 * PAGE, 0, 0 },
	{ "mremap moving a mapping", op_prepare_map, op_move_run, op_undo, 16 * PAGE, 0, 0 },
	{ "fork with a mapping", op_prepare_map, op_fork_run, op_undo, 16 * PAGE, 0, 0 },
	{ "importer attach (1 chunk)", op_prepare_buffer, op_attach_run, op_undo, 64 * PAGE, 0, 0 },
	{ "importer attach (3 chunks, vmap)", op_prepare_buffer, op_attach_run, op_undo,
	  SZ_4M + 3 * PAGE, 0, 0 },
	{ "importer crc32", op_prepare_attached, op_crc_run, op_undo, 64 * PAGE, 0, 0 },
	{ "importer asynchronous fill", op_prepare_fenced, op_fill_async_run, op_undo,
	  64 * PAGE, 0, 0 },
	{ "DMA_BUF_SET_NAME", op_prepare_buffer, op_name_run, op_undo, PAGE, 0, 0 },
	{ "open /dev/cohbuf_importer", op_prepare_none, op_open_importer_run, op_undo, 0, 0, 0 },
	{ "open /dev/cohbuf", op_prepare_none, op_open_dev_run, op_undo, 0, 0, 0 },
	{ "fence attach on a buffer", op_prepare_buffer, op_fence_run, op_undo, PAGE, 0, 0 },
	{ "fence attach on no buffer", op_prepare_none, op_fence_run, op_undo, 0, 0, 1 },
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

/* The sweep's last n for @op. */
static unsigned int sweep_max(const struct op *op)
{
	if (op->run == op_alloc_run && (op->flags & COHBUF_ALLOC_CONTIGUOUS) &&
	    op->size > SZ_4M)
		return RANGE_SWEEP_MAX;
	return UINT_MAX;
}

/* The errnos a call may fail with when the kernel runs out of memory. */
static bool documented_errno(const struct op *op, int err)
{
	if (err == ENOMEM)
		return true;
	/* fork(2): "EAGAIN ... or ENOMEM" */
	return op->run == op_fork_run && err == EAGAIN;
}

/* ---- the harness side ---- */

FIXTURE(fault) {
	struct fault f;
	struct counters base;
	struct saved_attrs saved;
	bool configured;
};

FIXTURE_SETUP(fault)
{
	if (access(FAILSLAB "/probability", F_OK) || access(FAIL_PAGE "/probability", F_OK) ||
	    access("/proc/thread-self/fail-nth", F_OK))
		SKIP(return, "needs failslab, fail_page_alloc and fail-nth (the debug kernel: scripts/vm-run --kernel debug)");
	self->f.ps = page_size();
	self->f.dev = test_open();
	self->f.imp = test_open_importer();
	self->f.nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->f.nth);
	self->f.make_it_fail = open("/proc/thread-self/make-it-fail", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->f.make_it_fail);
	self->f.reserve = mmap(NULL, 64 * self->f.ps, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->f.reserve);
	test_counters(&self->base);
	attrs_save(&self->saved);
	self->configured = true;
	ASSERT_EQ(0, attrs_configure());
}

/* In the harness's parent: put the knobs back whatever happened. */
FIXTURE_TEARDOWN_PARENT(fault)
{
	if (!self->configured)
		return;
	caches_mark(false);
	attrs_restore(&self->saved);
}

static int nth_set(struct fault *f, unsigned int n)
{
	char val[16];
	int len = snprintf(val, sizeof(val), "%u", n);

	return pwrite(f->nth, val, len, 0) == len ? 0 : -errno;
}

static int nth_get(struct fault *f, unsigned int *n)
{
	char val[16];
	ssize_t len = pread(f->nth, val, sizeof(val) - 1, 0);

	if (len <= 0)
		return -EIO;
	val[len] = '\0';
	*n = strtoul(val, NULL, 10);
	return 0;
}

static int make_it_fail(struct fault *f, bool on)
{
	return pwrite(f->make_it_fail, on ? "1" : "0", 1, 0) == 1 ? 0 : -errno;
}

static int times_get(uint64_t *sum)
{
	char val[32];
	unsigned int d;

	*sum = 0;
	for (d = 0; d < 2; d++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/times", attr_dirs[d]);
		if (read_str(path, val, sizeof(val)))
			return -EIO;
		*sum += strtoull(val, NULL, 10);
	}
	return 0;
}

struct tally {
	uint64_t injected;	/* failures injected */
	uint64_t failed;	/* calls that failed with a documented errno */
	uint64_t absorbed;	/* calls that recovered by themselves */
	uint64_t calls;		/* injected calls */
	uint64_t per_op[NOPS];
};

/* After an injected call: baseline, then the same call without injection. */
static void check_after(struct __test_metadata *_metadata, FIXTURE_DATA(fault) *self,
			const struct op *op, const char *how)
{
	struct op_state s = { .fd = -1, .extra = -1 };
	char when[160];
	int ret;

	snprintf(when, sizeof(when), "%s, %s", op->name, how);
	assert_baseline(&self->base, when);
	ASSERT_EQ(0, op->prepare(&self->f, op, &s)) TH_LOG("%s: retry's prepare", op->name);
	ret = op->run(&self->f, op, &s);
	ASSERT_EQ(0, ret) TH_LOG("%s, %s: the retry without injection failed: %s",
				 op->name, how, strerror(-ret));
	ASSERT_EQ(0, op->undo(&self->f, op, &s)) TH_LOG("%s: retry's undo", op->name);
	snprintf(when, sizeof(when), "%s, %s, after the retry", op->name, how);
	assert_baseline(&self->base, when);
}

/* One injected call: fail-nth @n (sweep) or make-it-fail (@n == 0). */
static bool inject_once(struct __test_metadata *_metadata, FIXTURE_DATA(fault) *self,
			unsigned int opi, unsigned int n, struct tally *t)
{
	const struct op *op = &ops[opi];
	struct op_state s = { .fd = -1, .extra = -1 };
	uint64_t before = 0, after = 0, hits;
	unsigned int left = 0;
	char how[64];
	int ret, undo;

	ASSERT_EQ(0, op->prepare(&self->f, op, &s)) TH_LOG("%s: prepare", op->name);
	if (n) {
		snprintf(how, sizeof(how), "failing allocation %u", n);
		ASSERT_EQ(0, nth_set(&self->f, n));
		ret = op->run(&self->f, op, &s);
		ASSERT_EQ(0, nth_get(&self->f, &left));
		ASSERT_EQ(0, nth_set(&self->f, 0));
		hits = !left;
	} else {
		snprintf(how, sizeof(how), "random failures");
		ASSERT_EQ(0, times_get(&before));
		ASSERT_EQ(0, make_it_fail(&self->f, true));
		ret = op->run(&self->f, op, &s);
		ASSERT_EQ(0, make_it_fail(&self->f, false));
		ASSERT_EQ(0, times_get(&after));
		hits = before - after;
	}
	if (!hits) {
		/* the call made fewer allocations than n: the sweep is done */
		ASSERT_EQ(0, ret) TH_LOG("%s failed without injection: %s", op->name,
					 strerror(-ret));
		undo = op->undo(&self->f, op, &s);
		ASSERT_EQ(0, undo) TH_LOG("%s: undo: %s", op->name, strerror(-undo));
		return false;
	}
	t->injected += hits;
	t->per_op[opi] += hits;
	t->calls++;
	if (ret) {
		ASSERT_TRUE(documented_errno(op, -ret))
			TH_LOG("%s, %s: errno %d (%s) is not documented", op->name, how,
			       -ret, strerror(-ret));
		t->failed++;
	} else {
		t->absorbed++;
	}
	undo = op->undo(&self->f, op, &s);
	ASSERT_EQ(0, undo) TH_LOG("%s, %s: undo: %s (mapping count not 0?)", op->name,
				  how, strerror(-undo));
	check_after(_metadata, self, op, how);
	return true;
}

TEST_F_TIMEOUT(fault, inject_alloc_export_attach_map_vmap, 3000)
{
	long min_failures = stress_param("COHBUF_FAULT_MIN", 1000, 1000);
	long random_rounds = stress_param("COHBUF_FAULT_RANDOM", 300, 1000);
	uint64_t seed = stress_param("COHBUF_FAULT_SEED", 0, 0), rng, sweep;
	struct tally t = { 0 };
	unsigned int opi, n;
	long round;
	char val[16];

	if (!seed)
		seed = (uint64_t)getpid() * 2654435761ULL ^ (uint64_t)time(NULL);
	rng = seed;
	ksft_print_msg("fault: random-phase seed %llu (COHBUF_FAULT_SEED)\n",
		       (unsigned long long)seed);

	/* 1. every allocation of every call, one at a time */
	for (opi = 0; opi < NOPS; opi++) {
		unsigned int max = sweep_max(&ops[opi]);

		for (n = 1; n <= max && inject_once(_metadata, self, opi, n, &t); n++)
			;
		ksft_print_msg("fault: %-34s %u allocation sites%s\n", ops[opi].name, n - 1,
			       n > max ? " (the sweep's limit)" : "");
	}
	sweep = t.injected;

	/* 2. random failures of this task only, until the target is met */
	for (opi = 0; opi < 2; opi++)
		ASSERT_EQ(0, attr_set(attr_dirs[opi], "times", "100000000"));
	for (opi = 0; opi < 2; opi++) {
		snprintf(val, sizeof(val), "%d", opi ? 5 : 10);
		ASSERT_EQ(0, attr_set(attr_dirs[opi], "probability", val));
	}
	for (round = 0; round < random_rounds || (long)t.injected < min_failures; round++) {
		inject_once(_metadata, self, rng_below(&rng, NOPS), 0, &t);
		if (round > 100 * random_rounds)
			break;
	}
	for (opi = 0; opi < 2; opi++)
		ASSERT_EQ(0, attr_set(attr_dirs[opi], "probability", "0"));

	ksft_print_msg("reliability: fault injection: %llu failures injected (%llu by the fail-nth sweep, %llu at random over %ld calls); %llu calls failed, all with ENOMEM (or EAGAIN for fork); %llu recovered by themselves; every retry succeeded; counters at baseline\n",
		       (unsigned long long)t.injected, (unsigned long long)sweep,
		       (unsigned long long)(t.injected - sweep), round,
		       (unsigned long long)t.failed, (unsigned long long)t.absorbed);
	for (opi = 0; opi < NOPS; opi++)
		ksft_print_msg("fault: %-34s %llu failures injected\n", ops[opi].name,
			       (unsigned long long)t.per_op[opi]);
	ASSERT_LE(min_failures, (long)t.injected);
}

TEST_HARNESS_MAIN
