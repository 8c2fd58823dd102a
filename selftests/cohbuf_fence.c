// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf fences (COHBUF_IOCTL_FENCE_ATTACH and _SIGNAL): every errno of
 * both ioctls, and every rule of uapi/cohbuf.h's "Fences": implicit sync
 * through poll(), DMA_BUF_IOCTL_SYNC and EXPORT/IMPORT_SYNC_FILE, one
 * timeline per fence, the timeout, signal-on-close and on kill -9, the
 * same-file rule over fork() and SCM_RIGHTS, the limits, debugfs, and
 * fences on other exporters' dma-bufs (vgem, udmabuf, the system heap),
 * with vgem's own fences on the same buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/sync_file.h>
#include <linux/udmabuf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <xf86drm.h>

#include "cohbuf_harness.h"
#include "cohbuf_vgem.h"

#define FENCES_LIST		DEBUGFS_DIR "/fences"
#define LIVE_FENCES		DEBUGFS_DIR "/live_fences"
#define UDMABUF_DEV		"/dev/udmabuf"
#define SYSTEM_HEAP_DEV		"/dev/dma_heap/system"
/* What a test waits at most for something that must happen at once. */
#define LONG_MS			20000

static int attach_errno(int dev, const struct cohbuf_fence_attach *arg)
{
	struct cohbuf_fence_attach copy = *arg;
	int ret = ioctl_errno(dev, COHBUF_IOCTL_FENCE_ATTACH, &copy);

	if (!ret)
		close(copy.fence_fd);
	return ret;
}

static int signal_errno(int dev, int fence_fd, int error, uint64_t reserved)
{
	struct cohbuf_fence_signal arg = {
		.fence_fd = fence_fd,
		.error = error,
		.reserved = reserved,
	};

	return ioctl_errno(dev, COHBUF_IOCTL_FENCE_SIGNAL, &arg);
}

static int _test_fence(struct __test_metadata *_metadata, int dev, int dmabuf,
		       uint32_t flags, uint32_t timeout_ms)
{
	int fd = cohbuf_fence_attach(dev, dmabuf, flags, timeout_ms);

	ASSERT_LE(0, fd) TH_LOG("FENCE_ATTACH on %d, flags %#x: %s", dmabuf, flags,
				strerror(-fd));
	return fd;
}
/* A new fence on @dmabuf (-1: none): its sync_file. */
#define test_fence(dev, dmabuf, flags, timeout_ms) \
	_test_fence(_metadata, dev, dmabuf, flags, timeout_ms)

/* Whether poll() reports @events on @fd now, without waiting. */
static bool ready(int fd, short events)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & events);
}

/* debugfs live_fences: the count, or -errno. */
static long live_fences(void)
{
	uint64_t n;
	int ret = fences_live(&n);

	return ret ? ret : (long)n;
}

/* Waits for live_fences to come back to @want (fput() is deferred). */
static long live_fences_wait(long want)
{
	long got = -1;
	int i;

	for (i = 0; i < LONG_MS / 10; i++) {
		got = live_fences();
		if (got == want || got < 0)
			break;
		usleep(10000);
	}
	return got;
}

/* The number of the lines of debugfs "fences" that contain @needle. */
static int fences_rows(const char *needle)
{
	char line[512];
	int rows = 0;
	FILE *f;

	f = fopen(FENCES_LIST, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			rows++;
	fclose(f);
	return rows;
}

FIXTURE(fence) {
	int dev;
	int buf;	/* a cohbuf dma-buf of one page */
	long live;	/* live_fences at the start */
	struct saved_params params;
};

FIXTURE_SETUP(fence)
{
	memset(&self->params, 0, sizeof(self->params));
	self->dev = test_open();
	self->buf = test_alloc(self->dev, SZ_4K, O_RDWR | O_CLOEXEC);
	self->live = live_fences_wait(0);
	ASSERT_EQ(0, self->live) TH_LOG("fences left over from before: %ld", self->live);
}

FIXTURE_TEARDOWN(fence)
{
	int i;

	for (i = 0; i < self->params.n; i++)
		param_restore(&self->params.p[i]);
	close(self->buf);
	close(self->dev);
	EXPECT_EQ(0, live_fences_wait(0)) TH_LOG("fences outstanding at the end");
}

/* ---- the errno contract of ATTACH ---- */

TEST_F(fence, attach_errors)
{
	struct cohbuf_fence_attach arg = { .dmabuf_fd = self->buf };
	int pipefd[2];

	ASSERT_EQ(0, attach_errno(self->dev, &arg));
	arg.dmabuf_fd = -1;
	ASSERT_EQ(0, attach_errno(self->dev, &arg));

	arg.dmabuf_fd = lowest_free_fd();
	ASSERT_EQ(EBADF, attach_errno(self->dev, &arg));
	arg.dmabuf_fd = -2;
	ASSERT_EQ(EBADF, attach_errno(self->dev, &arg));
	ASSERT_EQ(0, pipe(pipefd));
	arg.dmabuf_fd = pipefd[0];
	ASSERT_EQ(EINVAL, attach_errno(self->dev, &arg)) TH_LOG("a pipe is no dma-buf");
	arg.dmabuf_fd = self->dev;
	ASSERT_EQ(EINVAL, attach_errno(self->dev, &arg)) TH_LOG("/dev/cohbuf is no dma-buf");
	close(pipefd[0]);
	close(pipefd[1]);

	arg.dmabuf_fd = self->buf;
	arg.flags = COHBUF_FENCE_WRITE << 1;
	ASSERT_EQ(EINVAL, attach_errno(self->dev, &arg));
	arg.flags = ~0U;
	ASSERT_EQ(EINVAL, attach_errno(self->dev, &arg));
	arg.flags = COHBUF_FENCE_WRITE;
	arg.reserved[0] = 1;
	ASSERT_EQ(EINVAL, attach_errno(self->dev, &arg));
	arg.reserved[0] = 0;
	arg.reserved[1] = 1ULL << 63;
	ASSERT_EQ(EINVAL, attach_errno(self->dev, &arg));
	arg.reserved[1] = 0;
	arg.timeout_ms = COHBUF_FENCE_TIMEOUT_MAX_MS + 1;
	ASSERT_EQ(EINVAL, attach_errno(self->dev, &arg));
	arg.timeout_ms = ~0U;
	ASSERT_EQ(EINVAL, attach_errno(self->dev, &arg));
	arg.timeout_ms = COHBUF_FENCE_TIMEOUT_MAX_MS;
	ASSERT_EQ(0, attach_errno(self->dev, &arg));
	ASSERT_LE(60000U, COHBUF_FENCE_TIMEOUT_MAX_MS);

	ASSERT_EQ(EFAULT, ioctl_errno(self->dev, COHBUF_IOCTL_FENCE_ATTACH, NULL));
}

/* A failed ATTACH leaves no fd, no fence and nothing in the buffer. */
TEST_F(fence, attach_failure_leaves_nothing)
{
	struct cohbuf_fence_attach *ro, arg = { .dmabuf_fd = self->buf };
	int free_fd = lowest_free_fd();

	/* the fd cannot be reported: EFAULT, and the fd is not taken */
	ro = readonly_copy(&arg, sizeof(arg));
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(EFAULT, ioctl_errno(self->dev, COHBUF_IOCTL_FENCE_ATTACH, ro));
	munmap(ro, page_size());
	ASSERT_EQ(free_fd, lowest_free_fd());
	ASSERT_EQ(0, live_fences());
	ASSERT_TRUE(ready(self->buf, POLLOUT)) TH_LOG("a fence was left in the buffer");
}

/* ---- the errno contract of SIGNAL ---- */

TEST_F(fence, signal_errors)
{
	int fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE, 0);
	int other, a, b, merged, pipefd[2];

	ASSERT_EQ(EBADF, signal_errno(self->dev, lowest_free_fd(), 0, 0));
	ASSERT_EQ(EBADF, signal_errno(self->dev, -1, 0, 0));
	ASSERT_EQ(EINVAL, signal_errno(self->dev, self->buf, 0, 0)) TH_LOG("a dma-buf");
	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(EINVAL, signal_errno(self->dev, pipefd[0], 0, 0)) TH_LOG("a pipe");
	close(pipefd[0]);
	close(pipefd[1]);
	ASSERT_EQ(EINVAL, signal_errno(self->dev, fence, 1, 0));
	ASSERT_EQ(EINVAL, signal_errno(self->dev, fence, 4096, 0));
	ASSERT_EQ(EINVAL, signal_errno(self->dev, fence, -4096, 0));
	ASSERT_EQ(EINVAL, signal_errno(self->dev, fence, INT32_MIN, 0));
	ASSERT_EQ(EINVAL, signal_errno(self->dev, fence, 0, 1));
	ASSERT_EQ(EINVAL, signal_errno(self->dev, fence, 0, 1ULL << 63));
	ASSERT_EQ(0, cohbuf_fence_status(fence)) TH_LOG("a refused SIGNAL signalled it");

	/* a merge of two cohbuf fences is not one cohbuf fence */
	a = test_fence(self->dev, -1, 0, 0);
	b = test_fence(self->dev, -1, 0, 0);
	merged = cohbuf_fence_merge("two", a, b);
	ASSERT_LE(0, merged);
	ASSERT_EQ(EINVAL, signal_errno(self->dev, merged, 0, 0));

	/* another open file of /dev/cohbuf may not signal it */
	other = test_open();
	ASSERT_EQ(EPERM, signal_errno(other, fence, 0, 0));
	close(other);

	ASSERT_EQ(0, signal_errno(self->dev, fence, -4095, 0));
	ASSERT_EQ(EALREADY, signal_errno(self->dev, fence, 0, 0));
	ASSERT_EQ(EFAULT, ioctl_errno(self->dev, COHBUF_IOCTL_FENCE_SIGNAL, NULL));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, a, 0));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, b, 0));
	ASSERT_EQ(1, cohbuf_fence_status(merged));
	close(merged);
	close(a);
	close(b);
	close(fence);
}

/* ---- the sync_file ---- */

/* SYNC_IOC_FILE_INFO names cohbuf, and shows the status and the error. */
TEST_F(fence, sync_file_info)
{
	int fence = test_fence(self->dev, -1, 0, 0);
	struct sync_fence_info fi;
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	memset(&fi, 0, sizeof(fi));
	info.num_fences = 1;
	info.sync_fence_info = (uintptr_t)&fi;
	ASSERT_EQ(0, ioctl(fence, SYNC_IOC_FILE_INFO, &info));
	ASSERT_EQ(1, info.num_fences);
	ASSERT_EQ(0, info.status);
	ASSERT_STREQ("cohbuf", fi.driver_name);
	ASSERT_STREQ("cohbuf-fence", fi.obj_name);
	ASSERT_EQ(0, fi.status);
	ASSERT_FALSE(ready(fence, POLLIN));

	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, -EIO));
	ASSERT_TRUE(ready(fence, POLLIN));
	ASSERT_EQ(-EIO, cohbuf_fence_status(fence));
	close(fence);

	fence = test_fence(self->dev, -1, 0, 0);
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	ASSERT_EQ(1, cohbuf_fence_status(fence));
	close(fence);
}

/* The sync_file is O_CLOEXEC. */
TEST_F(fence, sync_file_cloexec)
{
	int fence = test_fence(self->dev, -1, 0, 0);

	ASSERT_EQ(FD_CLOEXEC, fcntl(fence, F_GETFD) & FD_CLOEXEC);
	close(fence);
}

/* A merge of two fences signals when both have, with the error of either. */
TEST_F(fence, merge)
{
	int a = test_fence(self->dev, -1, 0, 0);
	int b = test_fence(self->dev, -1, 0, 0);
	int merged = cohbuf_fence_merge("ab", a, b);

	ASSERT_LE(0, merged);
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, b, -EPROTO));
	ASSERT_FALSE(ready(merged, POLLIN));
	ASSERT_EQ(0, cohbuf_fence_status(merged));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, a, 0));
	ASSERT_EQ(0, cohbuf_fence_wait(merged, POLLIN, LONG_MS));
	ASSERT_EQ(-EPROTO, cohbuf_fence_status(merged));
	close(merged);
	close(a);
	close(b);
}

/* ---- implicit sync on the dma-buf ---- */

/*
 * A write fence: readers (POLLIN) and writers (POLLOUT) wait; a read
 * fence: only writers.
 */
TEST_F(fence, poll_write_and_read_fences)
{
	int w = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE, 0);
	int r;

	ASSERT_FALSE(ready(self->buf, POLLIN));
	ASSERT_FALSE(ready(self->buf, POLLOUT));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, w, 0));
	ASSERT_TRUE(ready(self->buf, POLLIN));
	ASSERT_TRUE(ready(self->buf, POLLOUT));

	r = test_fence(self->dev, self->buf, 0, 0);
	ASSERT_TRUE(ready(self->buf, POLLIN)) TH_LOG("a reader waited for a read fence");
	ASSERT_FALSE(ready(self->buf, POLLOUT));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, r, 0));
	ASSERT_TRUE(ready(self->buf, POLLOUT));
	close(w);
	close(r);
}

/*
 * Several writers and readers: each fence is a timeline of its own, so
 * signalling them out of order keeps the buffer busy until the last one
 * of each kind has signalled (a shared timeline would let a later fence
 * replace an earlier one in the reservation object).
 */
TEST_F(fence, several_readers_and_writers_any_order)
{
	int w[3], r[3], i;

	for (i = 0; i < 3; i++) {
		w[i] = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE, 0);
		r[i] = test_fence(self->dev, self->buf, 0, 0);
	}
	for (i = 2; i >= 0; i--) {
		ASSERT_FALSE(ready(self->buf, POLLIN)) TH_LOG("%d writers left", i + 1);
		ASSERT_EQ(0, cohbuf_fence_signal(self->dev, w[i], 0));
	}
	ASSERT_TRUE(ready(self->buf, POLLIN));
	ASSERT_FALSE(ready(self->buf, POLLOUT));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, r[1], 0));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, r[2], 0));
	ASSERT_FALSE(ready(self->buf, POLLOUT)) TH_LOG("a reader is still busy");
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, r[0], 0));
	ASSERT_TRUE(ready(self->buf, POLLOUT));
	for (i = 0; i < 3; i++) {
		close(w[i]);
		close(r[i]);
	}
}

struct sync_job {
	int fd;
	uint64_t flags;		/* DMA_BUF_SYNC_READ or _WRITE */
	int signalled;		/* set before SIGNAL; read when SYNC returns */
	int seen;
	int ret;
};

static void *sync_thread(void *p)
{
	struct sync_job *job = p;
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | job->flags };

	job->ret = ioctl(job->fd, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
	job->seen = __atomic_load_n(&job->signalled, __ATOMIC_ACQUIRE);
	sync.flags = DMA_BUF_SYNC_END | job->flags;
	ioctl(job->fd, DMA_BUF_IOCTL_SYNC, &sync);
	return NULL;
}

/* DMA_BUF_IOCTL_SYNC waits: a reader for write fences, a writer for all. */
TEST_F(fence, dma_buf_sync_waits)
{
	static const uint64_t dirs[] = { DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		int fence = test_fence(self->dev, self->buf,
				       i ? 0 : COHBUF_FENCE_WRITE, 0);
		struct sync_job job = { .fd = self->buf, .flags = dirs[i] };
		pthread_t thread;

		ASSERT_EQ(0, pthread_create(&thread, NULL, sync_thread, &job));
		usleep(100000);	/* let it block: it must not return before the store */
		__atomic_store_n(&job.signalled, 1, __ATOMIC_RELEASE);
		ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
		ASSERT_EQ(0, pthread_join(thread, NULL));
		ASSERT_EQ(0, job.ret);
		ASSERT_EQ(1, job.seen) TH_LOG("SYNC_START %s returned before SIGNAL",
					      i ? "WRITE" : "READ");
		close(fence);
	}
}

/* EXPORT_SYNC_FILE hands out the buffer's fences; IMPORT_SYNC_FILE adds one. */
TEST_F(fence, export_and_import_sync_file)
{
	struct dma_buf_export_sync_file exp = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };
	struct dma_buf_import_sync_file imp = { .flags = DMA_BUF_SYNC_WRITE };
	int fence, other;

	fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE, 0);
	if (ioctl(self->buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp) && errno == ENOTTY)
		SKIP(close(fence); return, "this kernel has no DMA_BUF_IOCTL_EXPORT_SYNC_FILE");
	ASSERT_LE(0, exp.fd) TH_LOG("EXPORT_SYNC_FILE: %s", strerror(errno));
	ASSERT_EQ(0, cohbuf_fence_status(exp.fd));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, -ECANCELED));
	ASSERT_EQ(-ECANCELED, cohbuf_fence_status(exp.fd));
	close(exp.fd);
	close(fence);

	/* a fence on no buffer, imported as a write into another buffer */
	other = test_alloc(self->dev, SZ_4K, O_RDWR | O_CLOEXEC);
	fence = test_fence(self->dev, -1, 0, 0);
	imp.fd = fence;
	ASSERT_EQ(0, ioctl(other, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp));
	ASSERT_FALSE(ready(other, POLLIN));

	/* exported back out: a new sync_file holding the same fence */
	exp.fd = -1;
	ASSERT_EQ(0, ioctl(other, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, exp.fd, 0));
	ASSERT_EQ(1, cohbuf_fence_status(fence));
	ASSERT_TRUE(ready(other, POLLIN));
	ASSERT_EQ(EALREADY, signal_errno(self->dev, fence, 0, 0));
	close(exp.fd);
	close(fence);
	close(other);
}

/* ---- no fence hangs a consumer ---- */

TEST_F(fence, timeout_signals_etimedout)
{
	int fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE, 50);

	ASSERT_EQ(0, cohbuf_fence_wait(self->buf, POLLIN, LONG_MS));
	ASSERT_EQ(-ETIMEDOUT, cohbuf_fence_status(fence));
	ASSERT_EQ(EALREADY, signal_errno(self->dev, fence, 0, 0));
	ASSERT_EQ(0, live_fences());
	close(fence);
}

/* timeout_ms 0 takes fence_timeout_ms, which everyone may read. */
TEST_F(fence, default_timeout_is_the_parameter)
{
	struct stat st;
	uint64_t val;
	int fence;

	ASSERT_EQ(0, stat(MODULE_SYSFS "/parameters/fence_timeout_ms", &st));
	ASSERT_EQ(0644, st.st_mode & 0777);
	ASSERT_EQ(0, module_param_get("cohbuf", "fence_timeout_ms", &val));
	ASSERT_EQ(10000, val) TH_LOG("the default is 10000 ms");
	ASSERT_NE(0, module_param_set("cohbuf", "fence_timeout_ms", 0));
	ASSERT_NE(0, module_param_set("cohbuf", "fence_timeout_ms",
				      COHBUF_FENCE_TIMEOUT_MAX_MS + 1));
	ASSERT_EQ(0, param_change(&self->params, "cohbuf", "fence_timeout_ms", 50));
	fence = test_fence(self->dev, -1, 0, 0);
	ASSERT_EQ(0, cohbuf_fence_wait(fence, POLLIN, LONG_MS));
	ASSERT_EQ(-ETIMEDOUT, cohbuf_fence_status(fence));
	close(fence);
}

/* Closing the creating file signals its fences with -EPIPE at once. */
TEST_F(fence, close_signals_epipe)
{
	int dev = test_open();
	int fence = test_fence(dev, self->buf, COHBUF_FENCE_WRITE, 0);
	int other = test_fence(self->dev, -1, 0, 0);

	ASSERT_EQ(2, live_fences());
	close(dev);
	ASSERT_TRUE(ready(self->buf, POLLIN));
	ASSERT_EQ(-EPIPE, cohbuf_fence_status(fence));
	ASSERT_EQ(0, cohbuf_fence_status(other)) TH_LOG("another file's fence signalled");
	ASSERT_EQ(1, live_fences());
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, other, 0));
	close(fence);
	close(other);
}

/* A producer killed with fences outstanding wakes its consumers with -EPIPE. */
TEST_F(fence, kill_signals_epipe)
{
	int sv[2], fences[4], n, status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev = cohbuf_open(), fds[4], i;

		for (i = 0; i < 4; i++)
			fds[i] = cohbuf_fence_attach(dev, i % 2 ? -1 : self->buf,
						     COHBUF_FENCE_WRITE, 0);
		cohbuf_send_fds(sv[1], fds, 4, NULL, 0);
		pause();
		_exit(1);
	}
	close(sv[1]);
	n = cohbuf_recv_fds(sv[0], fences, 4, NULL, 0);
	ASSERT_EQ(4, n) TH_LOG("the child's fences: %s", strerror(-n));
	ASSERT_FALSE(ready(self->buf, POLLIN));
	ASSERT_EQ(4, live_fences());
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	for (n = 0; n < 4; n++) {
		ASSERT_EQ(0, cohbuf_fence_wait(fences[n], POLLIN, LONG_MS));
		ASSERT_EQ(-EPIPE, cohbuf_fence_status(fences[n]));
		close(fences[n]);
	}
	ASSERT_TRUE(ready(self->buf, POLLIN));
	ASSERT_EQ(0, live_fences_wait(0));
	close(sv[0]);
}

/* ---- the same open file: fork() and SCM_RIGHTS ---- */

TEST_F(fence, fork_child_is_the_same_file)
{
	int fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE, 0);
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(cohbuf_fence_signal(self->dev, fence, 0) ? 1 : 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("the child could not signal");
	ASSERT_EQ(1, cohbuf_fence_status(fence));
	close(fence);
}

/* The device fd passed over a socket is the same file; a new open() is not. */
TEST_F(fence, scm_rights_same_file_and_eperm)
{
	int fence = test_fence(self->dev, -1, 0, 0);
	int sv[2], pass[2], got[2], status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev = cohbuf_open(), res[2];

		close(sv[0]);
		if (cohbuf_recv_fds(sv[1], got, 2, NULL, 0) != 2)
			_exit(2);
		res[0] = cohbuf_fence_signal(dev, got[1], 0);	/* another file */
		res[1] = cohbuf_fence_signal(got[0], got[1], 0);	/* the same */
		_exit(res[0] == -EPERM && res[1] == 0 ? 0 : 1);
	}
	close(sv[1]);
	/* the parent keeps no copy of the child's fds: only the passed ones */
	pass[0] = self->dev;
	pass[1] = fence;
	ASSERT_EQ(0, cohbuf_send_fds(sv[0], pass, 2, NULL, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("EPERM from another file, 0 from the passed one");
	ASSERT_EQ(1, cohbuf_fence_status(fence));
	close(sv[0]);
	close(fence);
}

/* ---- limits and debugfs ---- */

TEST_F(fence, max_fences_per_file)
{
	int fences[3], i, other, extra;

	ASSERT_EQ(0, param_change(&self->params, "cohbuf", "max_fences_per_file", 2));
	for (i = 0; i < 2; i++)
		fences[i] = test_fence(self->dev, -1, 0, 0);
	ASSERT_EQ(-ENOSPC, cohbuf_fence_attach(self->dev, -1, 0, 0));
	ASSERT_EQ(-ENOSPC, cohbuf_fence_attach(self->dev, self->buf, 0, 0));

	/* another file has its own allowance */
	other = test_open();
	extra = test_fence(other, -1, 0, 0);
	ASSERT_EQ(0, cohbuf_fence_signal(other, extra, 0));
	close(extra);
	close(other);

	/* a signalled fence frees its place, even if its sync_file lives on */
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fences[0], 0));
	fences[2] = test_fence(self->dev, -1, 0, 0);
	for (i = 0; i < 3; i++) {
		cohbuf_fence_signal(self->dev, fences[i], 0);
		close(fences[i]);
	}
}

TEST_F(fence, max_fences)
{
	int a, b, other;

	ASSERT_EQ(0, param_change(&self->params, "cohbuf", "max_fences", 2));
	other = test_open();
	a = test_fence(self->dev, -1, 0, 0);
	b = test_fence(other, -1, 0, 0);
	ASSERT_EQ(-ENOSPC, cohbuf_fence_attach(self->dev, -1, 0, 0));
	ASSERT_EQ(-ENOSPC, cohbuf_fence_attach(other, -1, 0, 0));
	close(other);	/* b signals: one place free */
	close(b);
	b = test_fence(self->dev, -1, 0, 0);
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, a, 0));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, b, 0));
	close(a);
	close(b);
}

/* debugfs lists each unsignalled fence with its buffer and its creator. */
TEST_F(fence, debugfs_lists_fences)
{
	char ino_col[64], pid_col[64];
	uint64_t ino;
	int fence;

	ASSERT_EQ(0, cohbuf_ino(self->buf, &ino));
	snprintf(ino_col, sizeof(ino_col), "\t%llu\tcohbuf\twrite\t",
		 (unsigned long long)ino);
	snprintf(pid_col, sizeof(pid_col), "\t%d\tcohbuf_fence", getpid());
	fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE, 0);
	ASSERT_EQ(1, fences_rows(ino_col));
	ASSERT_EQ(1, fences_rows(pid_col));
	ASSERT_EQ(1, live_fences());
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	ASSERT_EQ(0, fences_rows(ino_col));
	ASSERT_EQ(0, live_fences());
	close(fence);
}

/* The module's reference count, from /sys/module/cohbuf/refcnt. */
static int module_refcnt(uint64_t *val)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(MODULE_SYSFS "/refcnt", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*val = strtoull(buf, NULL, 10);
	return 0;
}

/*
 * A sync_file outlives every /dev/cohbuf file (the core reads the fence's
 * ops, in the module, until it is freed): each fence pins the module.
 */
TEST_F(fence, sync_file_pins_module)
{
	uint64_t before, during, after;
	int dev, fence;

	ASSERT_EQ(0, module_refcnt(&before));
	dev = test_open();
	fence = test_fence(dev, -1, 0, 0);
	close(dev);
	ASSERT_EQ(-EPIPE, cohbuf_fence_status(fence));
	ASSERT_EQ(0, module_refcnt(&during));
	ASSERT_EQ(before + 1, during) TH_LOG("the signalled fence must pin the module");
	close(fence);
	ASSERT_EQ(0, module_refcnt(&after));
	ASSERT_EQ(before, after);
}

/* ---- fences on other exporters' dma-bufs ---- */

enum exporter { EXP_COHBUF, EXP_VGEM, EXP_UDMABUF, EXP_SYSTEM_HEAP };

FIXTURE(foreign) {
	int dev;
	int owner;	/* vgem device or memfd, or -1 */
	int buf;
	int vgem;	/* vgem device for its fences, or -1 */
	uint32_t gem;	/* vgem's handle of the buffer */
};

FIXTURE_VARIANT(foreign) {
	enum exporter exporter;
};

FIXTURE_VARIANT_ADD(foreign, cohbuf) { .exporter = EXP_COHBUF };
FIXTURE_VARIANT_ADD(foreign, vgem) { .exporter = EXP_VGEM };
FIXTURE_VARIANT_ADD(foreign, udmabuf) { .exporter = EXP_UDMABUF };
FIXTURE_VARIANT_ADD(foreign, system_heap) { .exporter = EXP_SYSTEM_HEAP };

static bool node_present(const char *path, const char *module)
{
	char cmd[128];

	if (!access(path, F_OK))
		return true;
	snprintf(cmd, sizeof(cmd), "modprobe %s >/dev/null 2>&1", module);
	if (system(cmd))
		return false;
	return !access(path, F_OK);
}

static int vgem_buffer(int vgem, uint32_t *handle)
{
	struct drm_mode_create_dumb create = { .width = 1024, .height = 1, .bpp = 32 };
	int fd;

	if (drmIoctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &create))
		return -errno;
	*handle = create.handle;
	if (drmPrimeHandleToFD(vgem, create.handle, DRM_CLOEXEC | DRM_RDWR, &fd))
		return -errno;
	return fd;
}

static int udmabuf_buffer(int *memfd)
{
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = SZ_4K };
	int dev, fd;

	*memfd = memfd_create("cohbuf-fence", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (*memfd < 0 || ftruncate(*memfd, SZ_4K) ||
	    fcntl(*memfd, F_ADD_SEALS, F_SEAL_SHRINK))
		return -errno;
	dev = open(UDMABUF_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	create.memfd = *memfd;
	fd = ioctl(dev, UDMABUF_CREATE, &create);
	fd = fd < 0 ? -errno : fd;
	close(dev);
	return fd;
}

static int heap_buffer(void)
{
	struct dma_heap_allocation_data data = {
		.len = SZ_4K,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap = open(SYSTEM_HEAP_DEV, O_RDONLY | O_CLOEXEC);
	int ret;

	if (heap < 0)
		return -errno;
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data) ? -errno : (int)data.fd;
	close(heap);
	return ret;
}

FIXTURE_SETUP(foreign)
{
	int ret = 0;

	self->owner = -1;
	self->buf = -1;
	self->vgem = -1;
	self->dev = test_open();
	switch (variant->exporter) {
	case EXP_COHBUF:
		self->buf = test_alloc(self->dev, SZ_4K, O_RDWR | O_CLOEXEC);
		break;
	case EXP_VGEM:
		self->owner = vgem_open(&ret);
		if (self->owner < 0)
			SKIP(return, "no vgem device (modprobe vgem: status %d)", ret);
		self->buf = vgem_buffer(self->owner, &self->gem);
		break;
	case EXP_UDMABUF:
		if (!node_present(UDMABUF_DEV, "udmabuf"))
			SKIP(return, "no %s: this kernel has no udmabuf",
			     UDMABUF_DEV);
		self->buf = udmabuf_buffer(&self->owner);
		break;
	case EXP_SYSTEM_HEAP:
		if (!node_present(SYSTEM_HEAP_DEV, "system_heap"))
			SKIP(return, "no %s: this kernel has no dma-heaps",
			     SYSTEM_HEAP_DEV);
		self->buf = heap_buffer();
		break;
	}
	ASSERT_LE(0, self->buf) TH_LOG("the dma-buf: %s", strerror(-self->buf));
}

FIXTURE_TEARDOWN(foreign)
{
	if (self->buf >= 0)
		close(self->buf);
	if (self->owner >= 0)
		close(self->owner);
	if (self->vgem >= 0)
		close(self->vgem);
	close(self->dev);
	EXPECT_EQ(0, live_fences_wait(0));
}

/* Implicit sync on any exporter's dma-buf: poll() and EXPORT_SYNC_FILE. */
TEST_F(foreign, implicit_sync)
{
	struct dma_buf_export_sync_file exp = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };
	int w = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE, 0);
	int r = test_fence(self->dev, self->buf, 0, 0);

	ASSERT_FALSE(ready(self->buf, POLLIN));
	ASSERT_EQ(0, ioctl(self->buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, w, -EIO));
	ASSERT_TRUE(ready(self->buf, POLLIN));
	ASSERT_FALSE(ready(self->buf, POLLOUT));
	ASSERT_EQ(-EIO, cohbuf_fence_status(exp.fd));
	close(self->dev);	/* r signals with -EPIPE */
	self->dev = test_open();
	ASSERT_TRUE(ready(self->buf, POLLOUT));
	ASSERT_EQ(-EPIPE, cohbuf_fence_status(r));
	close(exp.fd);
	close(w);
	close(r);
}

/* vgem's own fence and a cohbuf fence on one buffer: readers wait for both. */
TEST_F(foreign, vgem_and_cohbuf_fences)
{
	struct vgem_fence_attach vf = { .flags = VGEM_FENCE_WRITE };
	struct vgem_fence_signal vs = { 0 };
	int vgem = self->owner, fence, ret;

	/* vgem imports the other exporters' buffers and fences them */
	if (variant->exporter != EXP_VGEM) {
		vgem = self->vgem = vgem_open(&ret);
		if (vgem < 0)
			SKIP(return, "no vgem device (modprobe vgem: status %d)", ret);
		ASSERT_EQ(0, drmPrimeFDToHandle(vgem, self->buf, &self->gem))
			TH_LOG("vgem's import: %s", strerror(errno));
	}
	vf.handle = self->gem;
	ASSERT_EQ(0, drmIoctl(vgem, DRM_IOCTL_VGEM_FENCE_ATTACH, &vf))
		TH_LOG("VGEM_FENCE_ATTACH: %s", strerror(errno));
	fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE, 0);

	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	ASSERT_FALSE(ready(self->buf, POLLIN)) TH_LOG("vgem's fence is still unsignalled");
	vs.fence = vf.out_fence;
	ASSERT_EQ(0, drmIoctl(vgem, DRM_IOCTL_VGEM_FENCE_SIGNAL, &vs));
	ASSERT_TRUE(ready(self->buf, POLLIN));
	close(fence);

	/* and the other way round */
	ASSERT_EQ(0, drmIoctl(vgem, DRM_IOCTL_VGEM_FENCE_ATTACH, &vf));
	fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE, 0);
	vs.fence = vf.out_fence;
	ASSERT_EQ(0, drmIoctl(vgem, DRM_IOCTL_VGEM_FENCE_SIGNAL, &vs));
	ASSERT_FALSE(ready(self->buf, POLLIN)) TH_LOG("the cohbuf fence is still unsignalled");
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	ASSERT_TRUE(ready(self->buf, POLLIN));
	close(fence);
}

TEST_HARNESS_MAIN
