// SPDX-License-Identifier: GPL-2.0
/*
 * A small ioctl and mmap fuzzer for /dev/cohbuf, /dev/cohbuf_importer and
 * cohbuf's dma-buf fds.
 *
 * Each call picks one of those files and one of:
 *   - an ioctl: one of ours with a mutated argument; a command near ours
 *     (our magics and dma-buf's, any number, size and direction); or a
 *     command far from ours (any 32 bits);
 *   - an mmap with a random length, offset, protection and flags, into a
 *     sandbox of address space reserved for it (MAP_FIXED) or anywhere;
 *     munmap, mremap, mprotect and madvise on random sandbox ranges; and
 *     touching random sandbox addresses (a SIGSEGV or SIGBUS there is
 *     caught and counted: a PROT_NONE page, a hole);
 *   - lseek, poll, dup and close on the fds.
 * Arguments are random bytes or half-valid structures, at valid,
 * read-only, unmapped, misaligned, straddling, kernel and random
 * addresses. Allocations are kept small and few, so that the run is about
 * the interfaces, not memory.
 *
 * The seed is printed first; COHBUF_FUZZ_SEED=<seed> replays a run. At the
 * end every fd is closed and every counter must be back at baseline. The
 * kernel log is vm-run's to check: no oops, no KASAN or lockdep report.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>

#include "cohbuf_harness.h"

#define NBUFS		12		/* dma-buf fds kept at most */
#define NHANDLES	12		/* importer handles kept at most */
#define NFENCES		8		/* sync_files of cohbuf fences kept at most */
#define SANDBOX_PAGES	1024		/* address space the mmaps go to */
#define ARG_PAGES	4		/* rw, rw, read-only, none */
#define NOTHERS		4
#define MAX_CALLS	16		/* kinds of call counted, at most */

struct fuzz {
	uint64_t rng;
	size_t ps;
	int dev;
	int imp;
	int bufs[NBUFS];
	int others[4];		/* a pipe's ends, /dev/null, a memfd */
	uint32_t handles[NHANDLES];
	int fences[NFENCES];
	char *sandbox;
	char *args;		/* rw | rw | ro | none */
	uint64_t calls;
	uint64_t ok;
	uint64_t faults;	/* SIGSEGV/SIGBUS caught while touching */
	uint64_t by_kind[MAX_CALLS];
	uint64_t by_ioctl[MAX_CALLS];
};

static sigjmp_buf touch_env;
static volatile sig_atomic_t touching;
/* The kind of call in progress, for a fault report. */
static volatile int current_kind = -1;
static volatile uint64_t current_call;

static void on_fault(int sig, siginfo_t *info, void *ucontext)
{
	char msg[160];
	int len;

	(void)ucontext;
	if (touching)
		siglongjmp(touch_env, 1);
	/* a fault anywhere else is a real bug: report it and die with it */
	len = snprintf(msg, sizeof(msg), "# fuzz: signal %d at %p during call %llu (kinds[%d])\n",
		       sig, info->si_addr, (unsigned long long)current_call, current_kind);
	if (write(STDOUT_FILENO, msg, len) < 0)
		_exit(128 + sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint64_t rnd(struct fuzz *f, uint64_t n)
{
	return rng_below(&f->rng, n);
}

static uint64_t rnd64(struct fuzz *f)
{
	return rng_next(&f->rng);
}

/* Sizes and offsets around the interesting boundaries. */
static uint64_t fuzz_size(struct fuzz *f)
{
	static const uint64_t edges[] = {
		0, 1, 3, 4, 4095, 4096, 4097, 8192, 65536, 1 << 20, SZ_4M, SZ_4M + 4096,
		1ULL << 31, 1ULL << 32, 1ULL << 63, ~0ULL, ~0ULL - 4094, ~0ULL - 4095,
		~0ULL - 3,
	};

	switch (rnd(f, 4)) {
	case 0:
		return edges[rnd(f, sizeof(edges) / sizeof(edges[0]))];
	case 1:
		return rnd64(f);
	case 2:
		return rnd(f, 1 << 16) & ~3ULL;
	default:
		return f->ps * rnd(f, 32);
	}
}

/* A pointer for an argument of @len bytes, valid or not. */
static void *fuzz_ptr(struct fuzz *f, size_t len)
{
	char *rw = f->args, *ro = f->args + 2 * f->ps, *none = f->args + 3 * f->ps;

	switch (rnd(f, 12)) {
	case 0:
		return NULL;
	case 1:
		return none;					/* PROT_NONE */
	case 2:
		return ro;					/* read-only */
	case 3:
		return ro - len / 2;				/* rw into ro */
	case 4:
		return none - len / 2;				/* straddles into none */
	case 5:
		return (void *)(uintptr_t)0xffff888000000000ULL;	/* kernel */
	case 6:
		/* non-canonical or kernel: never one of our own pages */
		return (void *)(uintptr_t)(rnd64(f) | 1ULL << 63);
	case 7:
		return rw + 1;					/* misaligned */
	default:
		return rw;
	}
}

/* Fill the rw argument area with random bytes. */
static void fuzz_bytes(struct fuzz *f)
{
	uint64_t *w = (uint64_t *)f->args;
	size_t i;

	for (i = 0; i < 2 * f->ps / 8; i += 1 + rnd(f, 8))
		w[i] = rnd(f, 2) ? rnd64(f) : rnd(f, 64);
}

/*
 * The fuzzer only ever calls into its three kinds of file, or passes fd
 * numbers that are not open: never the harness's, never the serial ports
 * of stdout and stderr (a fuzzed tty ioctl could cut the guest's output).
 */
#define NOT_AN_FD	4000

static int pick_buf(struct fuzz *f)
{
	int fd = f->bufs[rnd(f, NBUFS)];

	return fd >= 0 ? fd : (rnd(f, 2) ? -1 : NOT_AN_FD);
}

static int pick_target(struct fuzz *f)
{
	switch (rnd(f, 8)) {
	case 0:
		return f->dev;
	case 1:
		return f->imp;
	default:
		return pick_buf(f);
	}
}

/* An fd argument (not a target): ours, or other kinds of file. */
static int pick_fd_arg(struct fuzz *f)
{
	return rnd(f, 4) ? pick_target(f) : f->others[rnd(f, NOTHERS)];
}

static void keep_buf(struct fuzz *f, int fd)
{
	unsigned int i = rnd(f, NBUFS);
	uint64_t size;

	/* only dma-bufs (EXPORT_SYNC_FILE hands out sync files too) */
	if (cohbuf_size(fd, &size)) {
		close(fd);
		return;
	}
	if (f->bufs[i] >= 0)
		close(f->bufs[i]);
	f->bufs[i] = fd;
}

static long call_ioctl(struct fuzz *f, int fd, unsigned long cmd, void *arg)
{
	long ret;

	f->calls++;
	ret = ioctl(fd, cmd, arg);
	if (!ret)
		f->ok++;
	return ret;
}

/*
 * Our ioctls and dma-buf's, one function each: each builds a half-valid
 * argument in f->args (the only one it reads back, if @arg is f->args) and
 * makes the call with @arg, which is f->args when @valid, or a pointer
 * that may be anything.
 */
static void fuzz_alloc(struct fuzz *f, void *arg, bool valid)
{
	struct cohbuf_alloc *alloc = (void *)f->args;

	memset(alloc, 0, sizeof(*alloc));
	/* mostly small, now and then anything */
	alloc->size = rnd(f, 8) ? rnd(f, 64 * 1024) : fuzz_size(f);
	alloc->fd_flags = valid ? (rnd(f, 2) ? O_RDWR : O_RDONLY) | O_CLOEXEC : rnd64(f);
	if (!rnd(f, 8))
		alloc->flags = rnd64(f);
	else if (!rnd(f, 4))
		alloc->flags = rnd(f, COHBUF_ALLOC_VALID_FLAGS + 1);
	if (!rnd(f, 8))
		alloc->reserved[rnd(f, 2)] = rnd64(f);
	if (!call_ioctl(f, rnd(f, 8) ? f->dev : pick_target(f), COHBUF_IOCTL_ALLOC, arg) &&
	    arg == f->args)
		keep_buf(f, alloc->fd);
}

static void fuzz_info(struct fuzz *f, void *arg, bool valid)
{
	struct cohbuf_info *info = (void *)f->args;

	memset(info, 0, sizeof(*info));
	info->fd = rnd(f, 4) ? pick_buf(f) : pick_fd_arg(f);
	info->ranges_cap = rnd(f, 2) ? rnd(f, 8) : (uint32_t)rnd64(f);
	info->ranges = (uintptr_t)(valid ? f->args + sizeof(*info) : fuzz_ptr(f, 64));
	if (!rnd(f, 8))
		info->pad = rnd64(f);
	if (!rnd(f, 8))
		info->reserved[rnd(f, 2)] = rnd64(f);
	call_ioctl(f, rnd(f, 8) ? f->dev : pick_target(f), COHBUF_IOCTL_INFO, arg);
}

static void fuzz_attach(struct fuzz *f, void *arg, bool valid)
{
	struct cohbuf_imp_attach *att = (void *)f->args;
	uint32_t handle;

	(void)valid;
	memset(att, 0, sizeof(*att));
	att->fd = rnd(f, 4) ? pick_buf(f) : pick_fd_arg(f);
	if (!rnd(f, 6))
		att->flags = rnd64(f);
	if (!call_ioctl(f, rnd(f, 8) ? f->imp : pick_target(f), COHBUF_IMP_IOCTL_ATTACH, arg) &&
	    arg == f->args) {
		handle = att->handle;
		if (f->handles[rnd(f, NHANDLES)])
			cohbuf_importer_detach(f->imp, f->handles[rnd(f, NHANDLES)]);
		f->handles[rnd(f, NHANDLES)] = handle;
	}
}

static void fuzz_detach(struct fuzz *f, void *arg, bool valid)
{
	struct cohbuf_imp_detach *det = (void *)f->args;

	(void)valid;
	det->handle = rnd(f, 4) ? f->handles[rnd(f, NHANDLES)] : (uint32_t)rnd64(f);
	det->pad = rnd(f, 6) ? 0 : rnd64(f);
	call_ioctl(f, f->imp, COHBUF_IMP_IOCTL_DETACH, arg);
}

/* A FILL or CRC32 argument: a handle, mostly known, and a range near 0 or anywhere. */
static void fuzz_access_arg(struct fuzz *f)
{
	struct cohbuf_imp_access *acc = (void *)f->args;

	memset(acc, 0, sizeof(*acc));
	acc->handle = rnd(f, 6) ? f->handles[rnd(f, NHANDLES)] : (uint32_t)rnd64(f);
	acc->offset = rnd(f, 2) ? rnd(f, 65536) & ~3ULL : fuzz_size(f);
	acc->length = rnd(f, 2) ? rnd(f, 65536) & ~3ULL : fuzz_size(f);
	acc->pattern = rnd64(f);
	if (!rnd(f, 4))
		acc->flags = COHBUF_IMP_ACCESS_ASYNC;
	else if (!rnd(f, 8))
		acc->flags = rnd64(f);
}

static void fuzz_fill(struct fuzz *f, void *arg, bool valid)
{
	(void)valid;
	fuzz_access_arg(f);
	call_ioctl(f, f->imp, COHBUF_IMP_IOCTL_FILL, arg);
}

static void fuzz_crc32(struct fuzz *f, void *arg, bool valid)
{
	(void)valid;
	fuzz_access_arg(f);
	call_ioctl(f, f->imp, COHBUF_IMP_IOCTL_CRC32, arg);
}

static void fuzz_wait(struct fuzz *f, void *arg, bool valid)
{
	struct cohbuf_imp_wait *w = (void *)f->args;

	(void)valid;
	memset(w, 0, sizeof(*w));
	w->handle = rnd(f, 6) ? f->handles[rnd(f, NHANDLES)] : (uint32_t)rnd64(f);
	w->timeout_ms = rnd(f, 2) ? 0 : rnd(f, 20);
	if (!rnd(f, 8))
		w->reserved = rnd64(f);
	call_ioctl(f, f->imp, COHBUF_IMP_IOCTL_WAIT, arg);
}

static void fuzz_dma_addr(struct fuzz *f, void *arg, bool valid)
{
	struct cohbuf_imp_dma_addr *da = (void *)f->args;

	(void)valid;
	memset(da, 0, sizeof(*da));
	da->handle = f->handles[rnd(f, NHANDLES)];
	da->offset = fuzz_size(f);
	call_ioctl(f, f->imp, COHBUF_IMP_IOCTL_DMA_ADDR, arg);
}

static void fuzz_sync(struct fuzz *f, void *arg, bool valid)
{
	struct dma_buf_sync *sync = (void *)f->args;

	(void)valid;
	sync->flags = rnd(f, 2) ? (rnd(f, 2) ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END) |
				  (1 + rnd(f, 3)) : rnd64(f);
	call_ioctl(f, pick_buf(f), DMA_BUF_IOCTL_SYNC, arg);
}

/* A name of 0 to 40 bytes, maybe unterminated before a hole. */
static void fuzz_set_name(struct fuzz *f, void *arg, bool valid)
{
	size_t len = rnd(f, 41);
	char *name = rnd(f, 4) ? f->args : f->args + 2 * f->ps - len;

	(void)arg;
	(void)valid;
	memset(name, 'a' + rnd(f, 26), len);
	if (len && rnd(f, 4))
		name[len - 1] = '\0';
	call_ioctl(f, pick_buf(f), DMA_BUF_SET_NAME, rnd(f, 4) ? name : fuzz_ptr(f, 32));
}

static void fuzz_export_sync_file(struct fuzz *f, void *arg, bool valid)
{
	struct dma_buf_export_sync_file *exp = (void *)f->args;

	(void)valid;
	exp->flags = rnd(f, 2) ? DMA_BUF_SYNC_RW : rnd64(f);
	exp->fd = -1;
	if (!call_ioctl(f, pick_buf(f), DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg) &&
	    arg == f->args)
		close(exp->fd);
}

static void fuzz_import_sync_file(struct fuzz *f, void *arg, bool valid)
{
	struct dma_buf_import_sync_file *imp = (void *)f->args;

	(void)valid;
	imp->flags = rnd(f, 2) ? DMA_BUF_SYNC_WRITE : rnd64(f);
	imp->fd = pick_fd_arg(f);
	call_ioctl(f, pick_buf(f), DMA_BUF_IOCTL_IMPORT_SYNC_FILE, arg);
}

static int pick_fence(struct fuzz *f)
{
	int fd = f->fences[rnd(f, NFENCES)];

	return fd >= 0 && rnd(f, 6) ? fd : pick_fd_arg(f);
}

/* Mostly valid, now and then a bad flag, reserved word or timeout. */
static void fuzz_fence_attach(struct fuzz *f, void *arg, bool valid)
{
	struct cohbuf_fence_attach *att = (void *)f->args;
	unsigned int i;

	memset(att, 0, sizeof(*att));
	att->dmabuf_fd = rnd(f, 4) ? pick_buf(f) : (rnd(f, 2) ? -1 : pick_fd_arg(f));
	att->flags = rnd(f, 8) ? rnd(f, COHBUF_FENCE_VALID_FLAGS + 1) : rnd64(f);
	/* short timeouts, so that timeouts race with the rest */
	att->timeout_ms = rnd(f, 8) ? rnd(f, 200) : (uint32_t)rnd64(f);
	if (!rnd(f, 8))
		att->reserved[rnd(f, 2)] = rnd64(f);
	if (call_ioctl(f, rnd(f, 8) ? f->dev : pick_target(f), COHBUF_IOCTL_FENCE_ATTACH,
		       arg) || arg != f->args || !valid)
		return;
	i = rnd(f, NFENCES);
	if (f->fences[i] >= 0)
		close(f->fences[i]);
	f->fences[i] = att->fence_fd;
}

static void fuzz_fence_signal(struct fuzz *f, void *arg, bool valid)
{
	struct cohbuf_fence_signal *sig = (void *)f->args;

	(void)valid;
	memset(sig, 0, sizeof(*sig));
	sig->fence_fd = pick_fence(f);
	sig->error = rnd(f, 2) ? 0 : rnd(f, 2) ? -(int32_t)rnd(f, 4200) : (int32_t)rnd64(f);
	if (!rnd(f, 8))
		sig->reserved = rnd64(f);
	call_ioctl(f, rnd(f, 8) ? f->dev : pick_target(f), COHBUF_IOCTL_FENCE_SIGNAL, arg);
}

/* Our commands with the wrong file. */
static void fuzz_wrong_file(struct fuzz *f, void *arg, bool valid)
{
	(void)valid;
	call_ioctl(f, pick_target(f), rnd(f, 2) ? COHBUF_IOCTL_ALLOC : COHBUF_IMP_IOCTL_ATTACH,
		   arg);
}

static const struct fuzz_ioctl {
	const char *name;
	void (*call)(struct fuzz *f, void *arg, bool valid);
} our_ioctls[] = {
	{ "COHBUF_IOCTL_ALLOC", fuzz_alloc },
	{ "COHBUF_IOCTL_INFO", fuzz_info },
	{ "COHBUF_IOCTL_FENCE_ATTACH", fuzz_fence_attach },
	{ "COHBUF_IOCTL_FENCE_SIGNAL", fuzz_fence_signal },
	{ "COHBUF_IMP_IOCTL_ATTACH", fuzz_attach },
	{ "COHBUF_IMP_IOCTL_DETACH", fuzz_detach },
	{ "COHBUF_IMP_IOCTL_FILL", fuzz_fill },
	{ "COHBUF_IMP_IOCTL_CRC32", fuzz_crc32 },
	{ "COHBUF_IMP_IOCTL_DMA_ADDR", fuzz_dma_addr },
	{ "COHBUF_IMP_IOCTL_WAIT", fuzz_wait },
	{ "DMA_BUF_IOCTL_SYNC", fuzz_sync },
	{ "DMA_BUF_SET_NAME", fuzz_set_name },
	{ "DMA_BUF_IOCTL_EXPORT_SYNC_FILE", fuzz_export_sync_file },
	{ "DMA_BUF_IOCTL_IMPORT_SYNC_FILE", fuzz_import_sync_file },
	{ "ours on the wrong file", fuzz_wrong_file },
};
#define NR_IOCTLS	(sizeof(our_ioctls) / sizeof(our_ioctls[0]))
_Static_assert(NR_IOCTLS <= MAX_CALLS, "struct fuzz counts MAX_CALLS ioctls");

static void fuzz_ours(struct fuzz *f)
{
	bool valid = rnd(f, 3);
	void *arg = valid ? f->args : fuzz_ptr(f, 64);
	unsigned int i;

	fuzz_bytes(f);
	i = rnd(f, NR_IOCTLS);
	f->by_ioctl[i]++;
	our_ioctls[i].call(f, arg, valid);
}

/* Generic VFS ioctls that could freeze a filesystem: never sent. */
static bool forbidden(unsigned long cmd)
{
	return cmd == FIFREEZE || cmd == FITHAW;
}

static void fuzz_near(struct fuzz *f)
{
	static const unsigned int magics[] = {
		COHBUF_IOCTL_MAGIC, COHBUF_IMP_IOCTL_MAGIC, DMA_BUF_BASE,
	};
	unsigned long cmd;

	fuzz_bytes(f);
	cmd = _IOC(rnd(f, 4), magics[rnd(f, 3)], rnd(f, 4) ? rnd(f, 8) : rnd(f, 256),
		   rnd(f, 2) ? rnd(f, 64) : rnd(f, 1 << 14));
	call_ioctl(f, pick_target(f), cmd, fuzz_ptr(f, 64));
}

static void fuzz_far(struct fuzz *f)
{
	unsigned long cmd;

	fuzz_bytes(f);
	do {
		cmd = (uint32_t)rnd64(f);
	} while (forbidden(cmd));
	call_ioctl(f, pick_target(f), cmd, rnd(f, 2) ? f->args : fuzz_ptr(f, 64));
}

/* A page-aligned range inside the sandbox. */
static char *sandbox_range(struct fuzz *f, size_t *len)
{
	size_t first = rnd(f, SANDBOX_PAGES), n = 1 + rnd(f, 64);

	if (first + n > SANDBOX_PAGES)
		n = SANDBOX_PAGES - first;
	*len = n * f->ps;
	return f->sandbox + first * f->ps;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Put PROT_NONE back over a sandbox range, so that nothing else lands there. */
static void sandbox_reserve(void *addr, size_t len)
{
	mmap(addr, len, PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
	     -1, 0);
}

static void fuzz_mmap(struct fuzz *f)
{
	static const int flags[] = {
		MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_SHARED | MAP_POPULATE,
		MAP_SHARED | MAP_NORESERVE, MAP_SHARED | MAP_LOCKED,
	};
	int prot = rnd(f, 8), fl = flags[rnd(f, sizeof(flags) / sizeof(flags[0]))];
	size_t len;
	off_t off;
	char *at, *p;

	at = sandbox_range(f, &len);
	if (rnd(f, 4) == 0)
		len = fuzz_size(f);
	off = rnd(f, 2) ? (off_t)(f->ps * rnd(f, 32)) : (off_t)fuzz_size(f);
	f->calls++;
	if (rnd(f, 4)) {
		/* into the sandbox; only a length that fits, or it would spill */
		if (len > (size_t)(f->sandbox + SANDBOX_PAGES * f->ps - at))
			len = f->sandbox + SANDBOX_PAGES * f->ps - at;
		p = mmap(at, len, prot, fl | MAP_FIXED, pick_target(f), off);
		if (p != MAP_FAILED)
			f->ok++;
		else	/* a failed MAP_FIXED may have unmapped the range */
			sandbox_reserve(at, len);
	} else {
		p = mmap(NULL, len, prot, fl, pick_target(f), off);
		if (p != MAP_FAILED) {
			f->ok++;
			if (prot & PROT_READ && len)
				(void)*(volatile char *)p;
			munmap(p, len);
		}
	}
}

static void fuzz_vm(struct fuzz *f)
{
	static const int advice[] = {
		MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
		MADV_DONTFORK, MADV_DOFORK, MADV_DONTDUMP, MADV_DODUMP, MADV_COLD,
		MADV_PAGEOUT, MADV_FREE, MADV_REMOVE, 22 /* POPULATE_READ */,
		23 /* POPULATE_WRITE */, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
	};
	size_t len, len2;
	char *at, *to, *p;
	int ret = -1;

	at = sandbox_range(f, &len);
	f->calls++;
	switch (rnd(f, 5)) {
	case 0:
		ret = munmap(at, len);
		sandbox_reserve(at, len);
		break;
	case 1:
		to = sandbox_range(f, &len2);
		/* the new range, wherever it is, must not leave the sandbox */
		if (rnd(f, 2)) {
			p = mremap(at, len, len2, MREMAP_MAYMOVE | MREMAP_FIXED, to);
		} else if (rnd(f, 2)) {
			len2 = min_size(len2, f->sandbox + SANDBOX_PAGES * f->ps - at);
			p = mremap(at, len, len2, 0);
		} else {
			len = len2 = min_size(len, len2);
			p = mremap(at, len, len, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
				   to);
		}
		ret = p == MAP_FAILED ? -1 : 0;
		if (p != MAP_FAILED && (p < f->sandbox || p >= f->sandbox + SANDBOX_PAGES * f->ps))
			munmap(p, len2);
		/* whatever moved left a hole: fill the sandbox again */
		if (p != MAP_FAILED && p != at)
			sandbox_reserve(at, len);
		if (p != MAP_FAILED && p == at && len2 < len)
			sandbox_reserve(at + len2, len - len2);
		break;
	case 2:
		ret = mprotect(at, len, rnd(f, 8));
		break;
	default:
		ret = madvise(at, len, advice[rnd(f, sizeof(advice) / sizeof(advice[0]))]);
		break;
	}
	if (!ret)
		f->ok++;
}

static void fuzz_touch(struct fuzz *f)
{
	volatile char *p = f->sandbox + rnd(f, SANDBOX_PAGES * f->ps);

	f->calls++;
	touching = 1;
	if (sigsetjmp(touch_env, 1)) {
		touching = 0;
		f->faults++;
		return;
	}
	if (rnd(f, 2))
		(void)*p;
	else
		*p = (char)rnd(f, 256);
	touching = 0;
	f->ok++;
}

static void fuzz_fd(struct fuzz *f)
{
	struct pollfd pfd;
	unsigned int i;
	int fd;

	f->calls++;
	switch (rnd(f, 5)) {
	case 0:
		if (lseek(pick_target(f), (off_t)fuzz_size(f), rnd(f, 6)) >= 0)
			f->ok++;
		break;
	case 1:
		pfd.fd = pick_target(f);
		pfd.events = (short)rnd64(f);
		if (poll(&pfd, 1, 0) >= 0)
			f->ok++;
		break;
	case 2:
		fd = dup(pick_buf(f));
		if (fd >= 0) {
			f->ok++;
			keep_buf(f, fd);
		}
		break;
	default:
		i = rnd(f, NBUFS);
		if (f->bufs[i] >= 0 && !close(f->bufs[i]))
			f->ok++;
		f->bufs[i] = -1;
		break;
	}
}

/* What each call fuzzes, and in how many 20ths of the calls. */
static const struct fuzz_kind {
	const char *name;
	void (*call)(struct fuzz *f);
	unsigned int weight;
} kinds[] = {
	{ "our ioctls", fuzz_ours, 8 },
	{ "near ioctls", fuzz_near, 2 },
	{ "far ioctls", fuzz_far, 2 },
	{ "mmap", fuzz_mmap, 2 },
	{ "munmap/mremap/mprotect/madvise", fuzz_vm, 2 },
	{ "touch", fuzz_touch, 2 },
	{ "lseek/poll/dup/close", fuzz_fd, 2 },
};
#define NR_KINDS	(sizeof(kinds) / sizeof(kinds[0]))
_Static_assert(NR_KINDS <= MAX_CALLS, "struct fuzz counts MAX_CALLS kinds");

static unsigned int pick_kind(struct fuzz *f)
{
	unsigned int kind = 0, r = rnd(f, 20);

	while (r >= kinds[kind].weight)
		r -= kinds[kind++].weight;
	return kind;
}

/*
 * Fuzzed calls that succeed with an argument the fuzzer does not read back
 * (an fd written to a misaligned or half read-only structure) leave fds the
 * fuzzer does not know about: at the end, close every fd that was not open
 * at the start.
 */
static void close_new_fds(const fd_set *at_start)
{
	struct dirent *de;
	DIR *dir;
	int fd;

	dir = opendir("/proc/self/fd");
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		fd = atoi(de->d_name);
		if (de->d_name[0] == '.' || fd == dirfd(dir) || fd >= FD_SETSIZE)
			continue;
		if (!FD_ISSET(fd, at_start))
			close(fd);
	}
	closedir(dir);
}

static void open_fds(fd_set *set)
{
	struct dirent *de;
	DIR *dir;
	int fd;

	FD_ZERO(set);
	dir = opendir("/proc/self/fd");
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		fd = atoi(de->d_name);
		if (de->d_name[0] != '.' && fd != dirfd(dir) && fd < FD_SETSIZE)
			FD_SET(fd, set);
	}
	closedir(dir);
}

FIXTURE(fuzz) {
	struct fuzz f;
	struct counters base;
	fd_set fds_at_start;
};

FIXTURE_SETUP(fuzz)
{
	struct fuzz *f = &self->f;
	unsigned int i;

	f->ps = page_size();
	f->dev = test_open();
	f->imp = test_open_importer();
	for (i = 0; i < NBUFS; i++)
		f->bufs[i] = -1;
	for (i = 0; i < NFENCES; i++)
		f->fences[i] = -1;
	f->sandbox = mmap(NULL, SANDBOX_PAGES * f->ps, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, f->sandbox);
	f->args = mmap(NULL, ARG_PAGES * f->ps, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f->args);
	ASSERT_EQ(0, mprotect(f->args + 2 * f->ps, f->ps, PROT_READ));
	ASSERT_EQ(0, mprotect(f->args + 3 * f->ps, f->ps, PROT_NONE));
	ASSERT_EQ(0, pipe2(f->others, O_CLOEXEC));
	f->others[2] = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, f->others[2]);
	f->others[3] = memfd_create("cohbuf-fuzz", MFD_CLOEXEC);
	ASSERT_LE(0, f->others[3]);
	ASSERT_EQ(0, ftruncate(f->others[3], 1 << 20));
	test_counters(&self->base);
	open_fds(&self->fds_at_start);
}

FIXTURE_TEARDOWN(fuzz)
{
	unsigned int i;

	for (i = 0; i < NOTHERS; i++)
		close(self->f.others[i]);
}

TEST_F_TIMEOUT(fuzz, ioctl_and_mmap, 3000)
{
	struct fuzz *f = &self->f;
	long calls = stress_param("COHBUF_FUZZ_CALLS", 100000, 1000000);
	long seconds = stress_param("COHBUF_FUZZ_SECONDS", 600, 2400);
	uint64_t seed = stress_param("COHBUF_FUZZ_SEED", 0, 0);
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };
	struct timespec start, t;
	double elapsed = 0;
	unsigned int i, kind;
	bool back;

	if (!seed)
		seed = (uint64_t)getpid() * 2654435761ULL ^ (uint64_t)time(NULL);
	f->rng = seed;
	ksft_print_msg("fuzz: seed %llu (replay with COHBUF_FUZZ_SEED=%llu), %ld calls, at most %ld s\n",
		       (unsigned long long)seed, (unsigned long long)seed, calls, seconds);
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	/* a fuzzed ioctl can make an fd O_ASYNC; its SIGIO must not kill us */
	signal(SIGIO, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	clock_gettime(CLOCK_MONOTONIC, &start);
	while ((long)f->calls < calls) {
		kind = pick_kind(f);
		f->by_kind[kind]++;
		current_kind = kind;
		current_call = f->calls;
		kinds[kind].call(f);
		if (!(f->calls & 1023)) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			elapsed = t.tv_sec - start.tv_sec + (t.tv_nsec - start.tv_nsec) / 1e9;
			if (elapsed > seconds)
				break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t);
	elapsed = t.tv_sec - start.tv_sec + (t.tv_nsec - start.tv_nsec) / 1e9;

	/* close everything and check that nothing is left */
	sandbox_reserve(f->sandbox, SANDBOX_PAGES * f->ps);
	munmap(f->sandbox, SANDBOX_PAGES * f->ps);
	for (i = 0; i < NBUFS; i++) {
		if (f->bufs[i] >= 0)
			close(f->bufs[i]);
	}
	close(f->imp);
	close(f->dev);
	close_new_fds(&self->fds_at_start);
	for (i = 0; i < NR_KINDS; i++)
		ksft_print_msg("fuzz: %-32s %llu\n", kinds[i].name,
			       (unsigned long long)f->by_kind[i]);
	for (i = 0; i < NR_IOCTLS; i++)
		ksft_print_msg("fuzz:   %-30s %llu\n", our_ioctls[i].name,
			       (unsigned long long)f->by_ioctl[i]);
	back = counters_back(&self->base, "after the fuzzing");
	ksft_print_msg("reliability: fuzz: %llu calls in %.0f s (seed %llu), %llu succeeded, %llu faults caught while touching; counters %s\n",
		       (unsigned long long)f->calls, elapsed, (unsigned long long)seed,
		       (unsigned long long)f->ok, (unsigned long long)f->faults,
		       back ? "at baseline" : "NOT at baseline");
	ASSERT_TRUE(back);
	ASSERT_LE(calls, (long)f->calls) TH_LOG("only %llu calls in %ld s",
						(unsigned long long)f->calls, seconds);
}

TEST_HARNESS_MAIN
