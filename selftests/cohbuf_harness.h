/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The set-up and assertion helpers of the cohbuf tests, on top of
 * kselftest_harness.h and the harness-free helpers of cohbuf_test.h, in the
 * manner of tools/testing/selftests/iommu/iommufd_utils.h: each
 * _test_foo(_metadata, ...) does one step that must work and fails the test
 * with the reason if it does not; the macro test_foo(...) calls it from a
 * test, fixture or helper that has _metadata. assert_foo(...) checks a
 * state. Include this, not the harness, from each test program (one per
 * binary: the harness defines global symbols).
 */
#ifndef COHBUF_HARNESS_H
#define COHBUF_HARNESS_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"

/* How long a leak check waits for releases the kernel defers. */
#define BASELINE_MS	10000

/* ---- the devices ---- */

static inline int _test_opened(struct __test_metadata *_metadata, int fd,
			       const char *path, const char *module)
{
	ASSERT_LE(0, fd) TH_LOG("open %s: %s (is %s loaded?)", path, strerror(-fd),
				module);
	return fd;
}
/* /dev/cohbuf */
#define test_open() _test_opened(_metadata, cohbuf_open(), COHBUF_DEVICE, "cohbuf")
/* /dev/cohbuf_importer */
#define test_open_importer() \
	_test_opened(_metadata, cohbuf_importer_open(), COHBUF_IMPORTER_DEVICE, IMP_MODULE)

/* ---- buffers ---- */

static inline int _test_alloc(struct __test_metadata *_metadata, int dev,
			      uint64_t size, int fd_flags)
{
	int fd = cohbuf_alloc(dev, size, NULL, fd_flags);

	ASSERT_LE(0, fd) TH_LOG("alloc %llu bytes, fd_flags %#x: %s",
				(unsigned long long)size, fd_flags, strerror(-fd));
	return fd;
}
/* A buffer of @size bytes on @dev: its dma-buf fd. */
#define test_alloc(dev, size, fd_flags) _test_alloc(_metadata, dev, size, fd_flags)

static inline void *_test_map(struct __test_metadata *_metadata, int fd,
			      size_t len, int prot, off_t offset)
{
	void *map = map_shared(fd, len, prot, offset);

	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap %zu bytes at %lld, prot %#x: %s",
					  len, (long long)offset, prot, strerror(errno));
	return map;
}
/* A MAP_SHARED mapping of @len bytes of @fd from @offset. */
#define test_map(fd, len, prot, offset) _test_map(_metadata, fd, len, prot, offset)

/* A buffer as most tests use one. */
struct test_buf {
	int fd;
	uint64_t ino;
	uint64_t size;		/* rounded up to whole pages */
	char *map;		/* all of it, MAP_SHARED; NULL if not mapped */
};

static inline void _test_buf_alloc(struct __test_metadata *_metadata,
				   struct test_buf *b, int dev, uint64_t size,
				   int fd_flags, int prot)
{
	b->map = NULL;
	b->size = page_align(size);
	b->fd = test_alloc(dev, size, fd_flags);
	ASSERT_EQ(0, cohbuf_ino(b->fd, &b->ino));
	if (prot != PROT_NONE)
		b->map = test_map(b->fd, b->size, prot, 0);
}
/*
 * Allocates @size bytes on @dev into @b, with @fd_flags, and maps all of it
 * with @prot (PROT_NONE: not mapped).
 */
#define test_buf_alloc(b, dev, size, fd_flags, prot) \
	_test_buf_alloc(_metadata, b, dev, size, fd_flags, prot)

/* Unmaps and closes what is left of @b; again is harmless. */
static inline void buf_free(struct test_buf *b)
{
	if (b->map)
		munmap(b->map, b->size);
	if (b->fd >= 0)
		close(b->fd);
	b->map = NULL;
	b->fd = -1;
}

static inline void _test_cpu_access(struct __test_metadata *_metadata, int fd,
				    bool begin)
{
	int ret = begin ? cohbuf_begin_cpu_access(fd, DMA_BUF_SYNC_RW) :
			  cohbuf_end_cpu_access(fd, DMA_BUF_SYNC_RW);

	ASSERT_EQ(0, ret) TH_LOG("DMA_BUF_IOCTL_SYNC %s: %s", begin ? "start" : "end",
				 strerror(-ret));
}
/*
 * DMA_BUF_IOCTL_SYNC, which must work: the start (@begin true) or the end
 * of reading and writing @fd through a mapping.
 */
#define test_cpu_access(fd, begin) _test_cpu_access(_metadata, fd, begin)

/* ---- what the modules count: the leak checks ---- */

static inline void _assert_live(struct __test_metadata *_metadata,
				const struct counters *base, uint64_t buffers,
				uint64_t bytes)
{
	struct live now;
	int ret = live_read(&now);

	ASSERT_EQ(0, ret) TH_LOG("%s/live_*: %s", DEBUGFS_DIR, strerror(-ret));
	ASSERT_EQ(base->buffers + buffers, now.buffers);
	ASSERT_EQ(base->bytes + bytes, now.bytes);
}
/* cohbuf's live buffers and bytes are @buffers and @bytes above @base. */
#define assert_live(base, buffers, bytes) _assert_live(_metadata, base, buffers, bytes)

static inline void _test_counters(struct __test_metadata *_metadata,
				  struct counters *c)
{
	int ret = counters_get(c);

	ASSERT_EQ(0, ret) TH_LOG("reading the counters: %s", strerror(-ret));
}
/* Reads every counter: cohbuf's, the importer's and bufinfo's. */
#define test_counters(c) _test_counters(_metadata, c)

static inline bool _counters_back(struct __test_metadata *_metadata,
				  const struct counters *base, const char *when)
{
	char want[128], got[128];
	struct counters now;
	int ret;

	ret = counters_wait(base, BASELINE_MS, &now);
	if (ret)
		TH_LOG("%s: counters want %s, got %s", when,
		       counters_str(base, want, sizeof(want)),
		       counters_str(&now, got, sizeof(got)));
	return !ret;
}
/*
 * Whether every counter is back at @base (waiting up to BASELINE_MS); if
 * not, logs both readings after @when.
 */
#define counters_back(base, when) _counters_back(_metadata, base, when)
/* The leak check: every counter is back at @base. */
#define assert_baseline(base, when) ASSERT_TRUE(counters_back(base, when))

static inline void _test_row(struct __test_metadata *_metadata, uint64_t ino,
			     struct cohbuf_entry *row)
{
	int ret = row_read(ino, row);

	ASSERT_EQ(0, ret) TH_LOG("buffer %llu not in %s/buffers: %s",
				 (unsigned long long)ino, DEBUGFS_DIR, strerror(-ret));
}
/* The debugfs row of buffer @ino, which must be listed. */
#define test_row(ino, row) _test_row(_metadata, ino, row)

static inline uint64_t _test_row_mappings(struct __test_metadata *_metadata,
					  uint64_t ino)
{
	struct cohbuf_entry row;

	test_row(ino, &row);
	return row.mappings;
}
/* The mappings column of buffer @ino. */
#define test_row_mappings(ino) _test_row_mappings(_metadata, ino)

static inline void _assert_no_row(struct __test_metadata *_metadata, uint64_t ino)
{
	struct cohbuf_entry row;

	ASSERT_EQ(-ENOENT, row_read(ino, &row));
}
/* Buffer @ino is freed: debugfs no longer lists it. */
#define assert_no_row(ino) _assert_no_row(_metadata, ino)

/* ---- the importer ---- */

static inline uint64_t _test_imp_attachments(struct __test_metadata *_metadata)
{
	uint64_t n = 0;
	int ret = imp_live(&n);

	ASSERT_EQ(0, ret) TH_LOG("%s/attachments: %s", IMP_DEBUGFS_DIR, strerror(-ret));
	return n;
}
/* The importer's live attachments, from its debugfs. */
#define test_imp_attachments() _test_imp_attachments(_metadata)

static inline uint32_t _test_attach(struct __test_metadata *_metadata, int imp,
				    int fd, struct cohbuf_imp_attach *arg)
{
	struct cohbuf_imp_attach local;
	int ret;

	if (!arg)
		arg = &local;
	ret = cohbuf_importer_attach(imp, fd, arg);
	ASSERT_EQ(0, ret) TH_LOG("COHBUF_IMP_IOCTL_ATTACH: %s", strerror(-ret));
	ASSERT_NE(0, arg->handle);
	return arg->handle;
}
/* Attaches @fd to the importer @imp: the handle, with @arg (if any) filled. */
#define test_attach(imp, fd, arg) _test_attach(_metadata, imp, fd, arg)

static inline uint32_t _test_crc32(struct __test_metadata *_metadata, int imp,
				   uint32_t handle, uint64_t off, uint64_t len)
{
	uint32_t crc = 0;
	int ret = cohbuf_importer_crc32(imp, handle, off, len, &crc);

	ASSERT_EQ(0, ret) TH_LOG("CRC32 [%llu, +%llu): %s", (unsigned long long)off,
				 (unsigned long long)len, strerror(-ret));
	return crc;
}
/* The CRC-32 the importer reads over [@off, @off + @len) of @handle. */
#define test_crc32(imp, handle, off, len) _test_crc32(_metadata, imp, handle, off, len)

/* ---- processes, fds and arguments ---- */

static inline pid_t _test_fork(struct __test_metadata *_metadata)
{
	pid_t pid;

	/* or the child would print the parent's buffered output again */
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid) TH_LOG("fork: %s", strerror(errno));
	return pid;
}
/* fork(): the child's pid in the parent, 0 in the child. */
#define test_fork() _test_fork(_metadata)

static inline void _assert_child_ok(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child status %#x", status);
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("child failed at step %d",
						 WEXITSTATUS(status));
}
/* Reaps child @pid, which must exit 0: any other status is the step that failed. */
#define assert_child_ok(pid) _assert_child_ok(_metadata, pid)

static inline void *_test_readonly_arg(struct __test_metadata *_metadata,
				       const void *arg, size_t len)
{
	void *p = readonly_copy(arg, len);

	ASSERT_NE(MAP_FAILED, p) TH_LOG("a read-only copy: %s", strerror(errno));
	return p;
}
/* A read-only copy of the ioctl argument @arg: copy-in works, copy-out fails. */
#define test_readonly_arg(arg) _test_readonly_arg(_metadata, arg, sizeof(*(arg)))

static inline int _test_fd_table_fill(struct __test_metadata *_metadata, int fd,
				      int limit, int *fillers, struct rlimit *old)
{
	int n = fd_table_fill(fd, limit, fillers, old);

	ASSERT_LT(0, n) TH_LOG("filling the fd table: %s", strerror(-n));
	return n;
}
/* fd_table_fill(), which must work: how many fillers. */
#define test_fd_table_fill(fd, limit, fillers, old) \
	_test_fd_table_fill(_metadata, fd, limit, fillers, old)

/* ---- module parameters and reloading ---- */

static inline void _test_param_set(struct __test_metadata *_metadata,
				   struct saved_params *sp, const char *module,
				   const char *name, uint64_t val)
{
	int ret = param_change(sp, module, name, val);

	ASSERT_EQ(0, ret) TH_LOG("%s.%s=%llu: %s", module, name,
				 (unsigned long long)val, strerror(-ret));
}
/*
 * Sets a module parameter, saving its value in @sp first: the standard
 * fixtures put it back in their FIXTURE_TEARDOWN_PARENT, which runs
 * whatever happened in the test.
 */
#define test_param_set(sp, module, name, val) _test_param_set(_metadata, sp, module, name, val)

static inline void _expect_params_restored(struct __test_metadata *_metadata,
					   const struct saved_params *sp)
{
	int i, ret;

	for (i = sp->n - 1; i >= 0; i--) {
		ret = param_restore(&sp->p[i]);
		EXPECT_EQ(0, ret) TH_LOG("restoring %s.%s=%llu: %s", sp->p[i].module,
					 sp->p[i].name, (unsigned long long)sp->p[i].val,
					 strerror(-ret));
	}
}
/* Puts back what test_param_set() changed, last change first. */
#define expect_params_restored(sp) _expect_params_restored(_metadata, sp)

static inline void _test_ko_find(struct __test_metadata *_metadata,
				 struct module_ko *ko, const char *build,
				 const char *name, const char *file)
{
	int ret = ko_find(ko, build, name, file);

	ASSERT_EQ(0, ret) TH_LOG("%s/%s: %s", build, file, strerror(-ret));
}
/* ko_find(), which must work. */
#define test_ko_find(ko, build, name, file) _test_ko_find(_metadata, ko, build, name, file)

static inline void _expect_ko_reloaded(struct __test_metadata *_metadata,
				       struct module_ko *ko)
{
	int ret = ko_reload(ko);

	EXPECT_EQ(0, ret) TH_LOG("reloading %s \"%s\": %s", ko->path, ko->params,
				 strerror(-ret));
}
/* The module is loaded again if a test unloaded it. */
#define expect_ko_reloaded(ko) _expect_ko_reloaded(_metadata, ko)

/* ---- fixtures ---- */

/*
 * DEV_FIXTURE(name) and IMP_FIXTURE(name): the standard fixtures. Their
 * tests start with
 *   self->dev     /dev/cohbuf open;
 *   self->imp     /dev/cohbuf_importer open (IMP_FIXTURE; -1 in DEV_FIXTURE);
 *   self->base    every counter as it was (cohbuf's, the importer's and
 *                 bufinfo's), for the leak checks;
 *   self->params  the module parameters the test changes with
 *                 test_param_set(&self->params, ...), put back by the
 *                 teardown, which runs in the harness's parent process once
 *                 the test process, and everything it held, is gone.
 */
#define DEV_FIXTURE(name) STD_FIXTURE(name, false)
#define IMP_FIXTURE(name) STD_FIXTURE(name, true)

#define STD_FIXTURE(name, with_importer)				\
	FIXTURE(name) {							\
		int dev;						\
		int imp;						\
		struct counters base;					\
		struct saved_params params;				\
	};								\
	FIXTURE_SETUP(name)						\
	{								\
		self->dev = test_open();				\
		self->imp = (with_importer) ? test_open_importer() : -1; \
		test_counters(&self->base);				\
	}								\
	FIXTURE_TEARDOWN_PARENT(name)					\
	{								\
		expect_params_restored(&self->params);			\
	}

/*
 * NEAR_IOCTL_VARIANTS(fixture, magic, nr, type): declares the variants of
 * @fixture, each an ioctl number .cmd one field away from the valid
 * _IOWR(@magic, @nr, @type): another number, another magic, another size,
 * another direction. A driver must refuse each with ENOTTY.
 */
#define NEAR_IOCTL_VARIANTS(f, magic, nr, type)				\
	FIXTURE_VARIANT(f) {						\
		unsigned long cmd;					\
	};								\
	FIXTURE_VARIANT_ADD(f, next_nr) { .cmd = _IOWR(magic, (nr) + 1, type) }; \
	FIXTURE_VARIANT_ADD(f, last_nr) { .cmd = _IOWR(magic, 0xff, type) }; \
	FIXTURE_VARIANT_ADD(f, other_magic) { .cmd = _IOWR('X', nr, type) }; \
	FIXTURE_VARIANT_ADD(f, next_magic) { .cmd = _IOWR((magic) + 1, nr, type) }; \
	FIXTURE_VARIANT_ADD(f, size_u64) { .cmd = _IOWR(magic, nr, __u64) }; \
	FIXTURE_VARIANT_ADD(f, size_larger) {				\
		.cmd = _IOC(_IOC_READ | _IOC_WRITE, magic, nr, sizeof(type) + 8), \
	};								\
	FIXTURE_VARIANT_ADD(f, write_only) { .cmd = _IOW(magic, nr, type) }; \
	FIXTURE_VARIANT_ADD(f, read_only) { .cmd = _IOR(magic, nr, type) }; \
	FIXTURE_VARIANT_ADD(f, no_argument) { .cmd = _IO(magic, nr) }

/*
 * BUF_FIXTURE(name, size, fd_flags, prot): a fixture whose tests start with
 * /dev/cohbuf open in self->dev and a buffer in self->buf, allocated and
 * mapped as test_buf_alloc() does. The arguments may use the fixture's
 * variant (variant->size, say), whose FIXTURE_VARIANT() then comes first.
 */
#define BUF_FIXTURE(name, size, fd_flags, prot)				\
	FIXTURE(name) {							\
		int dev;						\
		struct test_buf buf;					\
	};								\
	FIXTURE_SETUP(name)						\
	{								\
		self->dev = test_open();				\
		test_buf_alloc(&self->buf, self->dev, size, fd_flags, prot); \
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		buf_free(&self->buf);					\
		close(self->dev);					\
	}

#endif /* COHBUF_HARNESS_H */
