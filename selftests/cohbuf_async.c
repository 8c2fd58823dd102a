// SPDX-License-Identifier: GPL-2.0
/*
 * The test importer as an asynchronous device (uapi/cohbuf_importer.h,
 * "Asynchronous access"): FILL and CRC32 jobs that wait for the buffer's
 * fences as a device does (a write for readers and writers, a read for
 * writers), put a fence of their own in the buffer while they run, pass a
 * dependency's error on, and are cancelled by DETACH, close and kill -9
 * without leaving a job or an unsignalled fence behind; and every errno of
 * COHBUF_IMP_IOCTL_WAIT.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "cohbuf_harness.h"

#define JOB_SIZE	(64 * 1024)
/* What a test waits at most for something that must happen at once. */
#define LONG_MS		20000
#define PATTERN_A	0x11223344U
#define PATTERN_B	0xa5a55a5aU

FIXTURE(job) {
	int dev;
	int imp;
	int buf;
	uint32_t *map;
	uint32_t h1, h2;	/* two attachments of buf */
	struct counters base;
};

FIXTURE_SETUP(job)
{
	self->dev = test_open();
	self->imp = test_open_importer();
	test_counters(&self->base);
	self->buf = test_alloc(self->dev, JOB_SIZE, O_RDWR | O_CLOEXEC);
	self->map = test_map(self->buf, JOB_SIZE, PROT_READ | PROT_WRITE, 0);
	self->h1 = test_attach(self->imp, self->buf, NULL);
	self->h2 = test_attach(self->imp, self->buf, NULL);
}

FIXTURE_TEARDOWN(job)
{
	munmap(self->map, JOB_SIZE);
	close(self->buf);
	close(self->imp);
	close(self->dev);
	EXPECT_TRUE(counters_back(&self->base, "teardown"));
}

/* The CRC-32 of @len bytes of 32-bit words @word. */
static uint32_t crc_of(uint32_t word, size_t len)
{
	static uint32_t words[JOB_SIZE / 4];

	for (size_t i = 0; i < len / 4; i++)
		words[i] = word;
	return cohbuf_crc32(0, words, len);
}

/* Whether every word of @map is @word. */
static bool all_words(const uint32_t *map, uint32_t word)
{
	for (size_t i = 0; i < JOB_SIZE / 4; i++)
		if (map[i] != word)
			return false;
	return true;
}

static void paint(uint32_t *map, uint32_t word)
{
	for (size_t i = 0; i < JOB_SIZE / 4; i++)
		map[i] = word;
}

/* Whether poll() reports @events on @fd now, without waiting. */
static bool ready(int fd, short events)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & events);
}

static int _test_job_wait(struct __test_metadata *_metadata, int imp,
			  uint32_t handle, uint32_t *crc)
{
	int ret, status = 1;

	ret = cohbuf_importer_wait(imp, handle, LONG_MS, &status, crc);
	ASSERT_EQ(0, ret) TH_LOG("WAIT on handle %u: %s", handle, strerror(-ret));
	return status;
}
/* The status of @handle's job, which must complete at once; its CRC in @crc. */
#define test_job_wait(imp, handle, crc) _test_job_wait(_metadata, imp, handle, crc)

static int _test_fence(struct __test_metadata *_metadata, int dev, int dmabuf,
		       uint32_t flags)
{
	int fd = cohbuf_fence_attach(dev, dmabuf, flags, 0);

	ASSERT_LE(0, fd) TH_LOG("FENCE_ATTACH: %s", strerror(-fd));
	return fd;
}
/* A cohbuf fence on @dmabuf, with the default timeout. */
#define test_fence(dev, dmabuf, flags) _test_fence(_metadata, dev, dmabuf, flags)

/* Whether @handle's job has not completed: WAIT without waiting. */
static bool job_pending(int imp, uint32_t handle)
{
	return cohbuf_importer_wait(imp, handle, 0, NULL, NULL) == -ETIMEDOUT;
}

/* A sync_file of every fence in @buf, readers' and writers'. */
static int export_all(int buf)
{
	struct dma_buf_export_sync_file arg = { .flags = DMA_BUF_SYNC_WRITE, .fd = -1 };

	return ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg) ? -errno : arg.fd;
}

/* The fences of sync_file @fd, at most 16: their number, or -errno. */
static int fence_info(int fd, struct sync_fence_info fences[16])
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	memset(fences, 0, 16 * sizeof(fences[0]));
	info.num_fences = 16;
	info.sync_fence_info = (uintptr_t)fences;
	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info))
		return -errno;
	return info.num_fences;
}

/*
 * The place of the importer's unsignalled fence among those of sync_file
 * @fd, or -ENOENT. Only by name while it is unsignalled: 6.17 and later
 * name every signalled fence after no driver.
 */
static int importer_fence_index(int fd)
{
	struct sync_fence_info fences[16];
	int n = fence_info(fd, fences);

	for (int i = 0; i < n && i < 16; i++)
		if (!strcmp(fences[i].driver_name, "cohbuf_importer") && !fences[i].status)
			return i;
	return n < 0 ? n : -ENOENT;
}

/* The status of fence @i of sync_file @fd: 1 signalled, 0 active, or its error. */
static int fence_status_at(int fd, int i)
{
	struct sync_fence_info fences[16];
	int n = fence_info(fd, fences);

	if (n < 0)
		return n;
	return i < n && i < 16 ? fences[i].status : -ENOENT;
}

/* Waits for fence @i of sync_file @fd to signal: its status. */
static int fence_wait_at(int fd, int i)
{
	int status = 0;

	for (int k = 0; k < LONG_MS / 10; k++) {
		status = fence_status_at(fd, i);
		if (status)
			break;
		usleep(10 * 1000);
	}
	return status;
}

TEST_F(job, fill_runs_and_signals)
{
	paint(self->map, 0);
	ASSERT_EQ(0, cohbuf_importer_fill_async(self->imp, self->h1, 0, JOB_SIZE, PATTERN_A));
	ASSERT_EQ(0, cohbuf_fence_wait(self->buf, POLLIN, LONG_MS));
	ASSERT_EQ(0, test_job_wait(self->imp, self->h1, NULL));
	ASSERT_TRUE(all_words(self->map, PATTERN_A));
}

TEST_F(job, crc_matches_the_synchronous_one)
{
	uint32_t crc = 0;

	paint(self->map, PATTERN_B);
	ASSERT_EQ(0, cohbuf_importer_crc32_async(self->imp, self->h1, 0, JOB_SIZE));
	ASSERT_EQ(0, test_job_wait(self->imp, self->h1, &crc));
	ASSERT_EQ(crc_of(PATTERN_B, JOB_SIZE), crc);
	ASSERT_EQ(test_crc32(self->imp, self->h2, 0, JOB_SIZE), crc);
	/* a part of the buffer, as the synchronous one reads it */
	ASSERT_EQ(0, cohbuf_importer_crc32_async(self->imp, self->h1, 4, 8));
	ASSERT_EQ(0, test_job_wait(self->imp, self->h1, &crc));
	ASSERT_EQ(crc_of(PATTERN_B, 8), crc);
}

/* A write waits for a writer's fence; poll() on the dma-buf waits for the job. */
TEST_F(job, fill_waits_for_a_write_fence)
{
	int fence;

	paint(self->map, 0);
	fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE);
	ASSERT_EQ(0, cohbuf_importer_fill_async(self->imp, self->h1, 0, JOB_SIZE, PATTERN_A));
	usleep(100 * 1000);
	ASSERT_TRUE(job_pending(self->imp, self->h1));
	ASSERT_TRUE(all_words(self->map, 0));
	ASSERT_FALSE(ready(self->buf, POLLIN));

	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	ASSERT_EQ(0, cohbuf_fence_wait(self->buf, POLLIN, LONG_MS));
	ASSERT_EQ(0, test_job_wait(self->imp, self->h1, NULL));
	ASSERT_TRUE(all_words(self->map, PATTERN_A));
	close(fence);
}

/* A write waits for a reader's fence too. */
TEST_F(job, fill_waits_for_a_read_fence)
{
	int fence;

	paint(self->map, 0);
	fence = test_fence(self->dev, self->buf, 0);
	ASSERT_EQ(0, cohbuf_importer_fill_async(self->imp, self->h1, 0, JOB_SIZE, PATTERN_A));
	usleep(100 * 1000);
	ASSERT_TRUE(job_pending(self->imp, self->h1));
	ASSERT_TRUE(all_words(self->map, 0));

	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	ASSERT_EQ(0, test_job_wait(self->imp, self->h1, NULL));
	ASSERT_TRUE(all_words(self->map, PATTERN_A));
	close(fence);
}

/* A read waits for writers only: it completes under a reader's fence. */
TEST_F(job, crc_passes_a_read_fence)
{
	uint32_t crc = 0;
	int fence;

	paint(self->map, PATTERN_A);
	fence = test_fence(self->dev, self->buf, 0);
	ASSERT_EQ(0, cohbuf_importer_crc32_async(self->imp, self->h1, 0, JOB_SIZE));
	ASSERT_EQ(0, test_job_wait(self->imp, self->h1, &crc));
	ASSERT_EQ(crc_of(PATTERN_A, JOB_SIZE), crc);
	ASSERT_EQ(0, cohbuf_fence_status(fence));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	close(fence);
}

/* A read waits for a writer: it sees the frame the writer finished. */
TEST_F(job, crc_waits_for_a_write_fence)
{
	uint32_t crc = 0;
	int fence;

	paint(self->map, 0);
	fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE);
	ASSERT_EQ(0, cohbuf_importer_crc32_async(self->imp, self->h1, 0, JOB_SIZE));
	usleep(100 * 1000);
	ASSERT_TRUE(job_pending(self->imp, self->h1));
	paint(self->map, PATTERN_A);
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	ASSERT_EQ(0, test_job_wait(self->imp, self->h1, &crc));
	ASSERT_EQ(crc_of(PATTERN_A, JOB_SIZE), crc);
	close(fence);
}

/*
 * A producer's write fence, then a device read and a device write: the
 * read sees the producer's frame, and the write waits for the read.
 */
TEST_F(job, readers_and_writers_in_order)
{
	uint32_t crc = 0;
	int fence;

	paint(self->map, 0);
	fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE);
	ASSERT_EQ(0, cohbuf_importer_crc32_async(self->imp, self->h1, 0, JOB_SIZE));
	ASSERT_EQ(0, cohbuf_importer_fill_async(self->imp, self->h2, 0, JOB_SIZE, PATTERN_B));
	paint(self->map, PATTERN_A);
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	ASSERT_EQ(0, test_job_wait(self->imp, self->h2, NULL));
	ASSERT_EQ(0, test_job_wait(self->imp, self->h1, &crc));
	ASSERT_EQ(crc_of(PATTERN_A, JOB_SIZE), crc);
	ASSERT_TRUE(all_words(self->map, PATTERN_B));
	close(fence);
}

/* The job's own fence is in the buffer, named, and signals when it ends. */
TEST_F(job, job_fence_in_the_buffer)
{
	int fence, sync, i;

	fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE);
	ASSERT_EQ(0, cohbuf_importer_crc32_async(self->imp, self->h1, 0, JOB_SIZE));
	sync = export_all(self->buf);
	ASSERT_LE(0, sync) TH_LOG("EXPORT_SYNC_FILE: %s", strerror(-sync));
	i = importer_fence_index(sync);
	ASSERT_LE(0, i) TH_LOG("no active cohbuf_importer fence in the buffer: %s", strerror(-i));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	ASSERT_EQ(0, cohbuf_fence_wait(sync, POLLIN, LONG_MS));
	ASSERT_EQ(1, fence_status_at(sync, i));
	ASSERT_EQ(0, test_job_wait(self->imp, self->h1, NULL));
	close(sync);
	close(fence);
}

/* A dependency's error: the job leaves the buffer alone and reports it. */
TEST_F(job, dependency_error_passes_on)
{
	int fence, sync, i, status = 0;

	paint(self->map, 0);
	fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE);
	ASSERT_EQ(0, cohbuf_importer_fill_async(self->imp, self->h1, 0, JOB_SIZE, PATTERN_A));
	sync = export_all(self->buf);
	ASSERT_LE(0, sync);
	i = importer_fence_index(sync);
	ASSERT_LE(0, i);
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, -EIO));
	ASSERT_EQ(-EIO, test_job_wait(self->imp, self->h1, NULL));
	ASSERT_EQ(-EIO, fence_status_at(sync, i));
	ASSERT_TRUE(all_words(self->map, 0));
	/* the next job runs */
	ASSERT_EQ(0, cohbuf_importer_fill_async(self->imp, self->h1, 0, JOB_SIZE, PATTERN_B));
	ASSERT_EQ(0, cohbuf_importer_wait(self->imp, self->h1, LONG_MS, &status, NULL));
	ASSERT_EQ(0, status);
	ASSERT_TRUE(all_words(self->map, PATTERN_B));
	close(sync);
	close(fence);
}

/* One job per handle; another handle has its own. */
TEST_F(job, one_job_per_handle)
{
	int fence;

	fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE);
	ASSERT_EQ(0, cohbuf_importer_fill_async(self->imp, self->h1, 0, 4, PATTERN_A));
	ASSERT_EQ(-EBUSY, cohbuf_importer_fill_async(self->imp, self->h1, 0, 4, PATTERN_A));
	ASSERT_EQ(-EBUSY, cohbuf_importer_crc32_async(self->imp, self->h1, 0, 4));
	ASSERT_EQ(0, cohbuf_importer_crc32_async(self->imp, self->h2, 0, 4));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	ASSERT_EQ(0, test_job_wait(self->imp, self->h1, NULL));
	ASSERT_EQ(0, test_job_wait(self->imp, self->h2, NULL));
	ASSERT_EQ(0, cohbuf_importer_crc32_async(self->imp, self->h1, 0, 4));
	ASSERT_EQ(0, test_job_wait(self->imp, self->h1, NULL));
	close(fence);
}

TEST_F(job, wait_errors)
{
	struct cohbuf_imp_wait arg = { .handle = self->h1, .reserved = 1 };
	int ro, fence;
	uint32_t h;

	ASSERT_EQ(-ENODATA, cohbuf_importer_wait(self->imp, self->h1, 0, NULL, NULL));
	ASSERT_EQ(-ENOENT, cohbuf_importer_wait(self->imp, self->h2 + 1, 0, NULL, NULL));
	ASSERT_EQ(EINVAL, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_WAIT, &arg));
	ASSERT_EQ(EFAULT, ioctl_errno(self->imp, COHBUF_IMP_IOCTL_WAIT, NULL));

	fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE);
	ASSERT_EQ(0, cohbuf_importer_fill_async(self->imp, self->h1, 0, 4, PATTERN_A));
	ASSERT_EQ(-ETIMEDOUT, cohbuf_importer_wait(self->imp, self->h1, 0, NULL, NULL));
	ASSERT_EQ(-ETIMEDOUT, cohbuf_importer_wait(self->imp, self->h1, 50, NULL, NULL));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	ASSERT_EQ(0, test_job_wait(self->imp, self->h1, NULL));
	close(fence);

	/* the checks of the synchronous ioctl come first */
	ASSERT_EQ(-EINVAL, cohbuf_importer_fill_async(self->imp, self->h1, 2, 4, 0));
	ASSERT_EQ(-EINVAL, cohbuf_importer_crc32_async(self->imp, self->h1, JOB_SIZE, 4));
	ASSERT_EQ(-ENOENT, cohbuf_importer_fill_async(self->imp, self->h2 + 1, 0, 4, 0));
	ro = test_alloc(self->dev, SZ_4K, O_RDONLY | O_CLOEXEC);
	h = test_attach(self->imp, ro, NULL);
	ASSERT_EQ(-EACCES, cohbuf_importer_fill_async(self->imp, h, 0, 4, 0));
	ASSERT_EQ(0, cohbuf_importer_crc32_async(self->imp, h, 0, 4));
	ASSERT_EQ(0, test_job_wait(self->imp, h, NULL));
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, h));
	close(ro);
}

/*
 * Queues a FILL on @handle that waits for a new fence (in @fence): a
 * sync_file of the buffer's fences, with the job's at @i.
 */
static int _queue_blocked_fill(struct __test_metadata *_metadata, int dev, int imp,
			       int buf, uint32_t handle, int *fence, int *i)
{
	int sync;

	*fence = test_fence(dev, buf, COHBUF_FENCE_WRITE);
	ASSERT_EQ(0, cohbuf_importer_fill_async(imp, handle, 0, JOB_SIZE, PATTERN_A));
	sync = export_all(buf);
	ASSERT_LE(0, sync) TH_LOG("EXPORT_SYNC_FILE: %s", strerror(-sync));
	*i = importer_fence_index(sync);
	ASSERT_LE(0, *i) TH_LOG("no active cohbuf_importer fence in the buffer");
	return sync;
}
#define queue_blocked_fill(dev, imp, buf, handle, fence, i) \
	_queue_blocked_fill(_metadata, dev, imp, buf, handle, fence, i)

TEST_F(job, detach_cancels)
{
	uint64_t jobs = 1;
	int fence, sync, i;

	paint(self->map, 0);
	sync = queue_blocked_fill(self->dev, self->imp, self->buf, self->h1, &fence, &i);
	ASSERT_EQ(0, imp_jobs(&jobs));
	ASSERT_EQ(1, jobs);
	ASSERT_EQ(0, cohbuf_importer_detach(self->imp, self->h1));
	/* DETACH returns once the job has completed */
	ASSERT_EQ(0, imp_jobs(&jobs));
	ASSERT_EQ(0, jobs);
	ASSERT_EQ(-ECANCELED, fence_status_at(sync, i));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	ASSERT_TRUE(all_words(self->map, 0));
	close(sync);
	close(fence);
}

TEST_F(job, close_cancels)
{
	uint64_t jobs = 1;
	int fence, sync, i;

	paint(self->map, 0);
	sync = queue_blocked_fill(self->dev, self->imp, self->buf, self->h1, &fence, &i);
	close(self->imp);
	self->imp = test_open_importer();
	ASSERT_EQ(0, imp_jobs(&jobs));
	ASSERT_EQ(0, jobs);
	ASSERT_EQ(-ECANCELED, fence_status_at(sync, i));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	ASSERT_TRUE(all_words(self->map, 0));
	close(sync);
	close(fence);
}

/* kill -9 of a process with a job waiting: cancelled, nothing left. */
TEST_F(job, kill_cancels)
{
	int ready_pipe[2], fence, sync, i, status;
	pid_t pid;
	char c;

	paint(self->map, 0);
	fence = test_fence(self->dev, self->buf, COHBUF_FENCE_WRITE);
	ASSERT_EQ(0, pipe(ready_pipe));
	pid = test_fork();
	if (pid == 0) {
		int imp = cohbuf_importer_open();
		struct cohbuf_imp_attach att;

		if (imp < 0 || cohbuf_importer_attach(imp, self->buf, &att) ||
		    cohbuf_importer_fill_async(imp, att.handle, 0, JOB_SIZE, PATTERN_A))
			_exit(1);
		if (write(ready_pipe[1], "q", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready_pipe[1]);
	ASSERT_EQ(1, read(ready_pipe[0], &c, 1));
	close(ready_pipe[0]);
	sync = export_all(self->buf);
	ASSERT_LE(0, sync);
	i = importer_fence_index(sync);
	ASSERT_LE(0, i);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(-ECANCELED, fence_wait_at(sync, i));
	ASSERT_EQ(0, cohbuf_fence_signal(self->dev, fence, 0));
	ASSERT_TRUE(all_words(self->map, 0));
	close(sync);
	close(fence);
}

TEST_HARNESS_MAIN
