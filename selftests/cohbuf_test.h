/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the cohbuf selftests and their peer program, on top of
 * libcohbuf (allocation, fd passing, pagemap, CRC-32, the importer).
 *
 * Nothing here uses the kselftest harness: every helper returns 0 (or a
 * value) on success and a negative errno on failure, and the tests turn
 * that into ASSERT_* / EXPECT_*. That keeps the harness, which defines
 * global symbols, in exactly one translation unit per test binary.
 */
#ifndef COHBUF_TEST_H
#define COHBUF_TEST_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "libcohbuf.h"

#define DEBUGFS_DIR		"/sys/kernel/debug/cohbuf"
#define MODULE_SYSFS		"/sys/module/cohbuf"
#define DMABUF_BUFINFO		"/sys/kernel/debug/dma_buf/bufinfo"
#define IMP_DEBUGFS_DIR		"/sys/kernel/debug/cohbuf_importer"
#define IMP_MODULE		"cohbuf_importer"

#define SZ_4K			(4096ULL)
#define SZ_1M			(1024ULL * 1024)
#define SZ_4M			(4 * SZ_1M)
#define SZ_64M			(64 * SZ_1M)

size_t page_size(void);
uint64_t page_align(uint64_t size);

/* errno of ioctl(@fd, @cmd, @arg), or 0 if it succeeded. */
int ioctl_errno(int fd, unsigned long cmd, void *arg);
/*
 * errno of COHBUF_IOCTL_ALLOC with a copy of @req, or 0 if it succeeded
 * (the fd it returned is closed then).
 */
int alloc_errno(int dev, const struct cohbuf_alloc *req);
/*
 * mmap() itself, MAP_SHARED, for the tests of the kernel's mapping rules:
 * the address, or MAP_FAILED with errno set.
 */
void *map_shared(int fd, size_t len, int prot, off_t offset);

/*
 * A position-dependent pattern: the 64-bit word at byte offset @off of a
 * buffer depends on @off and @seed, so a window mapped at an offset can be
 * checked against the same pattern. @off and @len are multiples of 8.
 */
void pattern_fill(void *p, size_t len, uint64_t off, uint32_t seed);
/* Offset (relative to @p) of the first wrong byte, or -1 if all match. */
ssize_t pattern_check(const void *p, size_t len, uint64_t off, uint32_t seed);
/* Offset of the first byte that is not @byte, or -1. */
ssize_t bytes_check(const void *p, size_t len, uint8_t byte);

/* debugfs live_buffers and live_bytes */
struct live {
	uint64_t buffers;
	uint64_t bytes;
};

/* Reads both counters (mounting debugfs if needed): 0, or -errno. */
int live_read(struct live *live);

/* debugfs live_fences, the unsignalled cohbuf fences: 0, or -errno. */
int fences_live(uint64_t *fences);

/* The row of buffer @ino: 0, -ENOENT if it is not listed, or -errno. */
int row_read(uint64_t ino, struct cohbuf_entry *row);

/*
 * Devices attached to dma-buf @ino in dma_buf/bufinfo: returns how many are
 * attached and stores in @named how many of them are called @dev_name;
 * -ENOENT if the buffer is not listed, or -errno.
 */
int bufinfo_attachments(uint64_t ino, const char *dev_name, int *named);

/*
 * The references to the file of dma-buf @ino (bufinfo's count column: the
 * fds, mappings and kernel users that hold it): 0, -ENOENT if the buffer is
 * not listed, or -errno.
 */
int bufinfo_refs(uint64_t ino, uint64_t *refs);

/* Module parameters under /sys/module/<module>/parameters. */
int module_param_get(const char *module, const char *name, uint64_t *val);
int module_param_set(const char *module, const char *name, uint64_t val);

/* The value of "@key:" in /proc/self/fdinfo/<fd>: 0, -ENOENT, or -errno. */
int fdinfo_field(int fd, const char *key, char *val, size_t len);

/* Path of @name in the directory of the running executable: 0, or -errno. */
int exe_sibling(const char *name, char *path, size_t len);

/* debugfs cohbuf_importer/attachments */
int imp_live(uint64_t *attachments);
/* debugfs cohbuf_importer/jobs: asynchronous jobs not completed */
int imp_jobs(uint64_t *jobs);

/*
 * Everything the modules and the dma-buf core count, for leak checks after
 * a failed call, a killed process or a race: cohbuf's live buffers and
 * bytes, the importer's attachments, the cohbuf buffers listed in
 * dma_buf/bufinfo, cohbuf's unsignalled fences and the importer's
 * asynchronous jobs not completed.
 */
struct counters {
	uint64_t buffers;
	uint64_t bytes;
	uint64_t attachments;
	uint64_t bufinfo;
	uint64_t fences;
	uint64_t jobs;
};

/* Reads them all: 0, or -errno. */
int counters_get(struct counters *c);
/*
 * Waits up to @timeout_ms for the counters to equal @want (releases that
 * the kernel defers, such as fds in flight in a closed unix socket, take a
 * moment): 0 when they do, -ETIMEDOUT (with the last reading in @got) or
 * -errno otherwise.
 */
int counters_wait(const struct counters *want, int timeout_ms,
		  struct counters *got);
/* "buffers B, bytes N, attachments A, bufinfo I", for messages. */
const char *counters_str(const struct counters *c, char *buf, size_t len);

/*
 * How hard the reliability tests push. The environment variable @env wins;
 * otherwise @full when COHBUF_STRESS=full (make check-debug), else @quick
 * (make check on the stock kernels).
 */
long stress_param(const char *env, long quick, long full);
bool stress_full(void);

/* A small, fast, reproducible random number generator (splitmix64). */
uint64_t rng_next(uint64_t *state);
/* Uniform in [0, @n); @n > 0. */
uint64_t rng_below(uint64_t *state, uint64_t n);

/*
 * Whether the running kernel was built with CONFIG_@name=y, from the .config
 * that vm-run names in COHBUF_KCONFIG: false when unknown.
 */
bool kernel_config(const char *name);

/*
 * Lower RLIMIT_NOFILE to @limit (the old limit in *@old) and fill every free
 * fd below it with a dup of @fd, stored in @fillers (@limit entries). Return
 * how many, or -errno if the limit cannot be set or dup() stops on anything
 * but EMFILE (the limit is then restored).
 */
int fd_table_fill(int fd, int limit, int *fillers, struct rlimit *old);
/* Close @n @fillers and restore the limit: 0, or -errno. */
int fd_table_release(const int *fillers, int n, const struct rlimit *old);

/*
 * The kernel log from now on: /dev/kmsg opened non-blocking and positioned
 * at its end. The fd, or -errno.
 */
int kmsg_open(void);
/*
 * The next record logged since kmsg_open(): 1 with its text (without its
 * "level,seq,time,flags;" prefix nor its dictionary) in @buf, 0 when there
 * is no more, or -errno.
 */
int kmsg_next(int fd, char *buf, size_t len);

/* The lowest free file descriptor, which the next open() gets; or -errno. */
int lowest_free_fd(void);

/*
 * A private page holding a copy of the @len bytes at @arg, made read-only:
 * an ioctl argument the kernel can read but not write back. MAP_FAILED if
 * it cannot be made.
 */
void *readonly_copy(const void *arg, size_t len);

/* Kernel modules, by name (as in /sys/module) or by .ko path. */
bool module_loaded(const char *name);
int module_unload(const char *name);
int module_load(const char *path, const char *params);
/* "name=value name=value" from /sys/module/<name>/parameters: 0, or -errno. */
int module_params(const char *name, char *out, size_t len);

/* A module of the build under test, to load it again after unloading it. */
struct module_ko {
	const char *name;		/* as in /sys/module */
	char path[PATH_MAX];		/* the .ko file */
	char params[1024];		/* the parameters it runs with now */
	bool unloaded;			/* by ko_unload() */
};

/*
 * Module @name, built as @build/@file: fills @ko with its path and current
 * parameters. 0, or -errno if the .ko is not readable or the parameters
 * cannot be read.
 */
int ko_find(struct module_ko *ko, const char *build, const char *name,
	    const char *file);
/* Unloads the module (and remembers that it did): 0, or -errno. */
int ko_unload(struct module_ko *ko);
/*
 * Loads the module again, with its parameters, if ko_unload() unloaded it
 * and it is not loaded now: 0, or -errno.
 */
int ko_reload(struct module_ko *ko);

/* The module parameters a test changes, and their values before the first change. */
#define MAX_SAVED_PARAMS	4

struct saved_param {
	const char *module;
	const char *name;
	uint64_t val;
};

struct saved_params {
	struct saved_param p[MAX_SAVED_PARAMS];
	int n;
};

/*
 * Sets a module parameter, saving its value first unless it is saved
 * already: 0, or -errno (-ENOSPC when MAX_SAVED_PARAMS are saved).
 */
int param_change(struct saved_params *sp, const char *module, const char *name,
		 uint64_t val);
/* Puts back one saved value: 0, or -errno. */
int param_restore(const struct saved_param *p);

/* The program cohbuf_share execs, and what it says back. */
#define PEER_PROG		"cohbuf_peer"

struct peer_request {
	uint64_t size;		/* expected lseek(SEEK_END) of the fd */
	uint32_t seed_in;	/* pattern the parent wrote */
	uint32_t seed_out;	/* pattern the peer writes back */
};

struct peer_reply {
	int32_t err;		/* 0, or the errno of the failed step */
	int32_t pad;
	int64_t bad_offset;	/* first byte not matching seed_in, or -1 */
	uint64_t size;		/* lseek(SEEK_END) seen by the peer */
	uint64_t ino;
	uint64_t dma_first;	/* the importer's DMA address of the first page */
	uint64_t dma_last;	/* and of the last */
	uint32_t crc32;		/* the importer's CRC-32 after the peer's write */
	uint32_t pad2;
	char step[64];		/* what failed, for the log */
};

#endif /* COHBUF_TEST_H */
