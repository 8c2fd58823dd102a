// SPDX-License-Identifier: GPL-2.0
/*
 * vivid, Debian's virtual V4L2 capture driver, as a real importer: frames
 * captured with V4L2_MEMORY_DMABUF into cohbuf buffers of exactly
 * sizeimage bytes, byte for byte what vivid writes into its own buffers.
 *
 * vivid is loaded with two instances: allocators=0 imports through
 * videobuf2-vmalloc (dma_buf_vmap, any buffer), allocators=1 through
 * videobuf2-dma-contig, which needs one DMA-contiguous range reachable by
 * the device's 32-bit DMA mask: COHBUF_ALLOC_CONTIGUOUS, and
 * COHBUF_ALLOC_DMA32 when the guest has memory above 4 GiB (scripts/check
 * runs this program once more in a 6 GiB guest).
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>

#include <linux/videodev2.h>

#include "cohbuf_harness.h"

/* vivid's own controls (drivers/media/test-drivers/vivid/vivid-ctrls.c). */
#define VIVID_CID_VIVID_BASE		(0x00f00000 | 0xf000)
#define VIVID_CID_TEST_PATTERN		(VIVID_CID_VIVID_BASE + 0)
#define VIVID_CID_OSD_TEXT_MODE		(VIVID_CID_VIVID_BASE + 1)

/* Capture nodes only; instance 0 imports by vmap, instance 1 by DMA. */
#define VIVID_PARAMS	"n_devs=2 node_types=0x1,0x1 allocators=0,1"
#define INST_VMALLOC	0
#define INST_DMA_CONTIG	1

#define FRAMES		8
#define DQBUF_MS	60000
#define MAX_BUFS	8
#define SZ_4G		(4096 * SZ_1M)

/* ---- the module: loaded for each test, unloaded after it ---- */

#define MAX_MODULES	512

/* Names of the loaded modules, one per entry: how many. */
static int modules_list(char names[][64], int max)
{
	char line[256];
	FILE *f = fopen("/proc/modules", "re");
	int n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s", names[n]) == 1)
			n++;
	fclose(f);
	return n;
}

static bool name_in(const char *name, char names[][64], int n)
{
	while (n--)
		if (!strcmp(names[n], name))
			return true;
	return false;
}

/*
 * Unloads every module loaded since @before was listed (vivid and what
 * modprobe pulled in for it), each once nothing uses it.
 */
static void modules_restore(char before[][64], int nbefore)
{
	static char now[MAX_MODULES][64];
	bool progress = true;
	int n, i;

	while (progress) {
		progress = false;
		n = modules_list(now, MAX_MODULES);
		for (i = 0; i < n; i++)
			if (!name_in(now[i], before, nbefore) && !module_unload(now[i]))
				progress = true;
	}
}

/* ---- V4L2 ---- */

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret && errno == EINTR);
	return ret ? errno : 0;
}

/* The capture node of vivid instance @inst: an open fd, or -errno. */
static int vivid_open(int inst)
{
	char path[32], bus[32];
	struct v4l2_capability cap;
	int i, fd;

	snprintf(bus, sizeof(bus), "platform:vivid-%03d", inst);
	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&cap, 0, sizeof(cap));
		if (!xioctl(fd, VIDIOC_QUERYCAP, &cap) &&
		    !strcmp((char *)cap.driver, "vivid") &&
		    !strcmp((char *)cap.bus_info, bus) &&
		    (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE))
			return fd;
		close(fd);
	}
	return -ENODEV;
}

/* The index of the entry of menu control @id named one of @names, or -errno. */
static int menu_find(int fd, uint32_t id, const char *const *names)
{
	struct v4l2_queryctrl qc = { .id = id };
	struct v4l2_querymenu qm;
	int err, k;
	uint32_t i;

	err = xioctl(fd, VIDIOC_QUERYCTRL, &qc);
	if (err)
		return -err;
	for (k = 0; names[k]; k++) {
		for (i = qc.minimum; i <= (uint32_t)qc.maximum; i++) {
			memset(&qm, 0, sizeof(qm));
			qm.id = id;
			qm.index = i;
			if (!xioctl(fd, VIDIOC_QUERYMENU, &qm) &&
			    !strcmp((char *)qm.name, names[k]))
				return i;
		}
	}
	return -ENOENT;
}

static int menu_set(int fd, uint32_t id, const char *const *names)
{
	struct v4l2_control ctrl = { .id = id };
	int idx = menu_find(fd, id, names);

	if (idx < 0)
		return -idx;
	ctrl.value = idx;
	return xioctl(fd, VIDIOC_S_CTRL, &ctrl);
}

/* A solid colour and no on-screen text: every frame is the same. */
static void _test_still_picture(struct __test_metadata *_metadata, int fd)
{
	static const char *const solid[] = {
		"100% Red", "100% Green", "100% Blue", "100% White", NULL
	};
	static const char *const no_text[] = { "None", NULL };
	int input = 0;

	/* Input 0 is a webcam (the default input_types), with no signal faults. */
	ASSERT_EQ(0, xioctl(fd, VIDIOC_S_INPUT, &input));
	ASSERT_EQ(0, menu_set(fd, VIVID_CID_TEST_PATTERN, solid))
		TH_LOG("no solid test pattern in vivid's menu");
	ASSERT_EQ(0, menu_set(fd, VIVID_CID_OSD_TEXT_MODE, no_text))
		TH_LOG("no \"None\" in vivid's OSD Text Mode menu");
}
#define test_still_picture(fd) _test_still_picture(_metadata, fd)

/* YUYV at @w x @h, exactly, at 5 frames/s or fewer: sizeimage. */
static uint32_t _test_format(struct __test_metadata *_metadata, int fd,
			     uint32_t w, uint32_t h)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_streamparm parm = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.parm.capture.timeperframe = { .numerator = 1, .denominator = 5 },
	};

	fmt.fmt.pix.width = w;
	fmt.fmt.pix.height = h;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	fmt.fmt.pix.field = V4L2_FIELD_NONE;
	ASSERT_EQ(0, xioctl(fd, VIDIOC_S_FMT, &fmt));
	ASSERT_EQ(w, fmt.fmt.pix.width);
	ASSERT_EQ(h, fmt.fmt.pix.height);
	ASSERT_EQ(V4L2_PIX_FMT_YUYV, fmt.fmt.pix.pixelformat);
	ASSERT_EQ(w * h * 2, fmt.fmt.pix.sizeimage);
	/*
	 * A slow frame rate: Debian 6.1's vivid capture thread can compute a
	 * negative timeout (and print a Call Trace, which fails vm-run) when
	 * a loaded TCG vCPU stalls it between two reads of jiffies, once per
	 * frame; 6.12 checks for it. Fewer frames, fewer chances.
	 */
	ASSERT_EQ(0, xioctl(fd, VIDIOC_S_PARM, &parm));
	return fmt.fmt.pix.sizeimage;
}
#define test_format(fd, w, h) _test_format(_metadata, fd, w, h)

/* REQBUFS: how many buffers the queue has (0 frees them). */
static uint32_t _test_reqbufs(struct __test_metadata *_metadata, int fd,
			      uint32_t memory, uint32_t count)
{
	struct v4l2_requestbuffers req = {
		.count = count,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = memory,
	};

	ASSERT_EQ(0, xioctl(fd, VIDIOC_REQBUFS, &req));
	ASSERT_GE(MAX_BUFS, req.count);
	return req.count;
}
#define test_reqbufs(fd, memory, count) _test_reqbufs(_metadata, fd, memory, count)

static void _test_stream(struct __test_metadata *_metadata, int fd, bool on)
{
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

	ASSERT_EQ(0, xioctl(fd, on ? VIDIOC_STREAMON : VIDIOC_STREAMOFF, &type));
}
#define test_stream(fd, on) _test_stream(_metadata, fd, on)

/* QBUF of buffer @index: 0, or errno. @dmabuf is its fd, or -1 for MMAP. */
static int qbuf(int fd, uint32_t index, int dmabuf, uint32_t len)
{
	struct v4l2_buffer b = {
		.index = index,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = dmabuf < 0 ? V4L2_MEMORY_MMAP : V4L2_MEMORY_DMABUF,
	};

	if (dmabuf >= 0) {
		b.m.fd = dmabuf;
		b.length = len;
	}
	return xioctl(fd, VIDIOC_QBUF, &b);
}

/* The next filled buffer, waiting at most DQBUF_MS: it must be whole. */
static void _test_dqbuf(struct __test_metadata *_metadata, int fd,
			uint32_t memory, uint32_t sizeimage, struct v4l2_buffer *b)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	ASSERT_EQ(1, poll(&pfd, 1, DQBUF_MS)) TH_LOG("no frame in %d ms", DQBUF_MS);
	memset(b, 0, sizeof(*b));
	b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	b->memory = memory;
	ASSERT_EQ(0, xioctl(fd, VIDIOC_DQBUF, b));
	ASSERT_EQ(0, b->flags & V4L2_BUF_FLAG_ERROR);
	ASSERT_EQ(sizeimage, b->bytesused);
}
#define test_dqbuf(fd, memory, sizeimage, b) _test_dqbuf(_metadata, fd, memory, sizeimage, b)

/*
 * One frame in vivid's own MMAP buffers on @fd (set up already): a
 * malloc'ed copy of its @sizeimage bytes.
 */
static uint8_t *_test_reference(struct __test_metadata *_metadata, int fd,
				uint32_t sizeimage)
{
	struct v4l2_buffer b;
	uint32_t i, n = test_reqbufs(fd, V4L2_MEMORY_MMAP, 3);
	void *maps[MAX_BUFS] = { NULL };
	uint8_t *ref = malloc(sizeimage);
	uint32_t maplen = 0;

	ASSERT_NE(NULL, ref);
	for (i = 0; i < n; i++) {
		memset(&b, 0, sizeof(b));
		b.index = i;
		b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		b.memory = V4L2_MEMORY_MMAP;
		ASSERT_EQ(0, xioctl(fd, VIDIOC_QUERYBUF, &b));
		maplen = b.length;
		maps[i] = test_map(fd, maplen, PROT_READ, b.m.offset);
		ASSERT_EQ(0, qbuf(fd, i, -1, 0));
	}
	test_stream(fd, true);
	test_dqbuf(fd, V4L2_MEMORY_MMAP, sizeimage, &b);
	memcpy(ref, maps[b.index], sizeimage);
	test_stream(fd, false);
	for (i = 0; i < n; i++)
		munmap(maps[i], maplen);
	test_reqbufs(fd, V4L2_MEMORY_MMAP, 0);
	/* A zeroed cohbuf buffer must not match by accident. */
	ASSERT_NE(-1, bytes_check(ref, sizeimage, 0));
	return ref;
}
#define test_reference(fd, sizeimage) _test_reference(_metadata, fd, sizeimage)

/* ---- cohbuf ---- */

/*
 * The number of ranges of buffer @fd, and where the last of them ends on
 * the bus (the test runs as root: INFO gives the DMA addresses), or -errno.
 */
static int ranges(int dev, int fd, uint64_t *dma_end)
{
	struct cohbuf_info info;
	struct cohbuf_range *r;
	int i, n = cohbuf_info_ranges(dev, fd, &info, &r);

	if (n < 0)
		return n;
	*dma_end = 0;
	for (i = 0; i < n; i++)
		if (r[i].dma_addr + r[i].size > *dma_end)
			*dma_end = r[i].dma_addr + r[i].size;
	free(r);
	return n;
}

static bool memory_above_4g(void)
{
	struct sysinfo si;

	return !sysinfo(&si) && (uint64_t)si.totalram * si.mem_unit > SZ_4G;
}

/*
 * How many kernel log records since kmsg_open() mention @word; logs them,
 * and how many of them also mention @also in *@with.
 */
static int kmsg_count(int fd, const char *word, const char *also, int *with)
{
	char msg[2048];
	int count = 0;

	*with = 0;
	while (kmsg_next(fd, msg, sizeof(msg)) > 0) {
		if (strstr(msg, word)) {
			count++;
			*with += !!strstr(msg, also);
			printf("# kernel: %s\n", msg);
		}
	}
	return count;
}

/* Offset of the first byte where @a and @b differ, or -1. */
static ssize_t first_diff(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i;

	if (!memcmp(a, b, len))
		return -1;
	for (i = 0; a[i] == b[i]; i++)
		;
	return (ssize_t)i;
}

/* ---- vivid loaded, both capture nodes open ---- */

struct vivid_env {
	int dev;
	int ref;		/* instance 0's capture node: the reference frames */
	int cap;		/* the instance under test's */
	bool loaded;		/* by this test: unloaded after it */
	int nbefore;
	char before[MAX_MODULES][64];
	struct counters base;
};

static void _test_vivid_loaded(struct __test_metadata *_metadata, struct vivid_env *e,
			 int inst)
{
	int ret;

	e->ref = -1;
	e->cap = -1;
	e->loaded = false;
	e->dev = test_open();
	e->nbefore = modules_list(e->before, MAX_MODULES);
	if (!module_loaded("vivid")) {
		ret = system("modprobe vivid " VIVID_PARAMS " 2>&1");
		if (ret)
			SKIP(return, "vivid is not available: modprobe vivid exited %d", ret);
		e->loaded = true;
	}
	e->ref = vivid_open(INST_VMALLOC);
	e->cap = vivid_open(inst);
	ASSERT_LE(0, e->ref) TH_LOG("no capture node of vivid-000 (loaded without " VIVID_PARAMS "?)");
	ASSERT_LE(0, e->cap) TH_LOG("no capture node of vivid-%03d", inst);
	test_still_picture(e->ref);
	test_still_picture(e->cap);
	test_counters(&e->base);
}
#define test_vivid_loaded(e, inst) _test_vivid_loaded(_metadata, e, inst)

/* Runs in the harness's parent, once the test process has closed everything. */
static void vivid_unload(struct vivid_env *e)
{
	if (e->loaded)
		modules_restore(e->before, e->nbefore);
}

/* cohbuf buffers for a queue, all mapped */
struct frames {
	uint32_t n;
	uint32_t len;
	int fds[MAX_BUFS];
	uint8_t *maps[MAX_BUFS];
};

static void _test_frames_alloc(struct __test_metadata *_metadata, int dev,
			       struct frames *f, uint32_t n, uint32_t len,
			       uint32_t flags)
{
	uint32_t i;

	f->n = n;
	f->len = len;
	for (i = 0; i < n; i++) {
		f->fds[i] = cohbuf_alloc_flags(dev, len, NULL, O_RDWR | O_CLOEXEC, flags);
		ASSERT_LE(0, f->fds[i]) TH_LOG("alloc %u bytes, flags %#x: %s", len,
					       flags, strerror(-f->fds[i]));
		f->maps[i] = test_map(f->fds[i], len, PROT_READ | PROT_WRITE, 0);
	}
}
#define test_frames_alloc(dev, f, n, len, flags) \
	_test_frames_alloc(_metadata, dev, f, n, len, flags)

static void frames_free(struct frames *f)
{
	uint32_t i;

	for (i = 0; i < f->n; i++) {
		munmap(f->maps[i], f->len);
		close(f->fds[i]);
	}
	f->n = 0;
}

/*
 * Captures FRAMES frames into @f, queued on @cap: each one must be @ref. A
 * buffer is zeroed before it is queued again, so each frame is new. Returns
 * the index of the last frame's buffer, left as captured.
 */
static uint32_t _test_capture(struct __test_metadata *_metadata, int cap,
			      struct frames *f, const uint8_t *ref)
{
	struct v4l2_buffer b;
	ssize_t bad;
	uint32_t i;

	for (i = 0; i < f->n; i++)
		ASSERT_EQ(0, qbuf(cap, i, f->fds[i], f->len));
	test_stream(cap, true);
	for (i = 0; i < FRAMES; i++) {
		test_dqbuf(cap, V4L2_MEMORY_DMABUF, f->len, &b);
		ASSERT_EQ(0, cohbuf_begin_cpu_access(f->fds[b.index], COHBUF_ACCESS_RW));
		bad = first_diff(f->maps[b.index], ref, f->len);
		ASSERT_EQ(-1, bad) TH_LOG("frame %u (buffer %u) differs from vivid's own at byte %zd",
					  i, b.index, bad);
		if (i + 1 < FRAMES)
			memset(f->maps[b.index], 0, f->len);
		ASSERT_EQ(0, cohbuf_end_cpu_access(f->fds[b.index], COHBUF_ACCESS_RW));
		if (i + 1 < FRAMES)
			ASSERT_EQ(0, qbuf(cap, b.index, f->fds[b.index], f->len));
	}
	test_stream(cap, false);
	return b.index;
}
#define test_capture(cap, f, ref) _test_capture(_metadata, cap, f, ref)

/* The child's side of frame_elsewhere(): its exit status is the failed step. */
static int check_received_frame(int sock, const uint8_t *ref, uint32_t len)
{
	uint32_t size;
	void *map;
	int fd;

	if (cohbuf_recv_fds(sock, &fd, 1, &size, sizeof(size)) != 1)
		return 10;
	if (size != len)
		return 11;
	if (cohbuf_map(fd, 0, len, PROT_READ, &map))
		return 12;
	if (cohbuf_begin_cpu_access(fd, COHBUF_ACCESS_READ))
		return 13;
	if (first_diff(map, ref, len) != -1)
		return 14;
	if (cohbuf_end_cpu_access(fd, COHBUF_ACCESS_READ))
		return 15;
	return 0;
}

/* Another process, given the frame's fd over SCM_RIGHTS, sees the same frame. */
static void _test_frame_elsewhere(struct __test_metadata *_metadata, int fd,
				  const uint8_t *ref, uint32_t len)
{
	int sock[2];
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock));
	pid = test_fork();
	if (!pid) {
		close(sock[0]);
		_exit(check_received_frame(sock[1], ref, len));
	}
	close(sock[1]);
	ASSERT_EQ(0, cohbuf_send_fds(sock[0], &fd, 1, &len, sizeof(len)));
	close(sock[0]);
	assert_child_ok(pid);
}
#define test_frame_elsewhere(fd, ref, len) _test_frame_elsewhere(_metadata, fd, ref, len)

/* ---- capture at three sizes, on both instances ---- */

FIXTURE(vivid) {
	struct vivid_env e;
};

FIXTURE_VARIANT(vivid) {
	int inst;
	uint32_t w, h;
	uint32_t flags;
};

#define VIVID_VARIANTS(name, inst, flags)					\
	FIXTURE_VARIANT_ADD(vivid, name##_640x480) { inst, 640, 480, flags };	\
	FIXTURE_VARIANT_ADD(vivid, name##_1920x1080) { inst, 1920, 1080, flags }; \
	FIXTURE_VARIANT_ADD(vivid, name##_3840x2160) { inst, 3840, 2160, flags }

VIVID_VARIANTS(vmalloc, INST_VMALLOC, 0);
VIVID_VARIANTS(contig, INST_DMA_CONTIG, COHBUF_ALLOC_CONTIGUOUS);
VIVID_VARIANTS(contig_dma32, INST_DMA_CONTIG,
	       COHBUF_ALLOC_CONTIGUOUS | COHBUF_ALLOC_DMA32);

FIXTURE_SETUP(vivid)
{
	test_vivid_loaded(&self->e, variant->inst);
}

FIXTURE_TEARDOWN_PARENT(vivid)
{
	vivid_unload(&self->e);
}

/*
 * FRAMES frames into buffers of exactly sizeimage bytes, byte-identical to
 * a frame vivid captured into its own MMAP buffers (on the vmalloc
 * instance: dma-contig's own buffers stop at 4 MiB without CMA), and one
 * of them checked again in another process.
 */
TEST_F_TIMEOUT(vivid, frames_match_vivids_own, 900)
{
	struct vivid_env *e = &self->e;
	struct frames f = { 0 };
	uint32_t len, last;
	uint8_t *ref;

	if (variant->inst == INST_DMA_CONTIG && !(variant->flags & COHBUF_ALLOC_DMA32) &&
	    memory_above_4g())
		SKIP(return, "memory above 4 GiB, out of vivid's 32-bit DMA mask: the contig_dma32 variants and vivid_dma.unreachable_refused_cleanly run instead");
	len = test_format(e->ref, variant->w, variant->h);
	ASSERT_EQ(len, test_format(e->cap, variant->w, variant->h));
	ref = test_reference(e->ref, len);

	test_frames_alloc(e->dev, &f, test_reqbufs(e->cap, V4L2_MEMORY_DMABUF, 3),
			  len, variant->flags);
	last = test_capture(e->cap, &f, ref);
	test_frame_elsewhere(f.fds[last], ref, len);

	test_reqbufs(e->cap, V4L2_MEMORY_DMABUF, 0);
	frames_free(&f);
	free(ref);
	assert_baseline(&e->base, "after the capture");
}

/* ---- what videobuf2-dma-contig refuses ---- */

FIXTURE(vivid_dma) {
	struct vivid_env e;
};

FIXTURE_SETUP(vivid_dma)
{
	test_vivid_loaded(&self->e, INST_DMA_CONTIG);
}

FIXTURE_TEARDOWN_PARENT(vivid_dma)
{
	vivid_unload(&self->e);
}

/*
 * Why COHBUF_ALLOC_CONTIGUOUS exists: a buffer of several ranges is
 * refused by dma-contig at QBUF with EFAULT ("contiguous chunk is too
 * small"). DMA32 where the guest has memory above 4 GiB, so that the
 * refusal is about contiguity, not reach.
 */
TEST_F_TIMEOUT(vivid_dma, several_ranges_efault, 300)
{
	uint32_t flags = memory_above_4g() ? COHBUF_ALLOC_DMA32 : 0;
	struct vivid_env *e = &self->e;
	uint64_t dma_end;
	uint32_t len;
	int fd;

	len = test_format(e->cap, 1920, 1080);
	test_reqbufs(e->cap, V4L2_MEMORY_DMABUF, 3);
	fd = cohbuf_alloc_flags(e->dev, len, NULL, O_RDWR | O_CLOEXEC, flags);
	ASSERT_LE(0, fd) TH_LOG("alloc: %s", strerror(-fd));
	ASSERT_LT(1, ranges(e->dev, fd, &dma_end)) TH_LOG("a buffer of %u bytes is one range", len);
	ASSERT_EQ(EFAULT, qbuf(e->cap, 0, fd, len));

	test_reqbufs(e->cap, V4L2_MEMORY_DMABUF, 0);
	close(fd);
	assert_baseline(&e->base, "after the refused QBUF");
}

/*
 * A CONTIGUOUS buffer above 4 GiB is out of reach of vivid's 32-bit DMA
 * mask: QBUF fails with an errno, cohbuf says so in one log line, and
 * nothing stays allocated. If videobuf2 keeps a reference to the dma-buf
 * after the failure (its 6.12 attach error path does), bufinfo's count
 * shows it: that is told apart from a leak of cohbuf's own.
 */
TEST_F_TIMEOUT(vivid_dma, unreachable_refused_cleanly, 300)
{
	struct vivid_env *e = &self->e;
	int fds[8], n = 0, kmsg, err, named;
	uint64_t dma_end = 0, ino, refs;
	uint32_t len;

	if (!memory_above_4g())
		SKIP(return, "no memory above 4 GiB in this guest: scripts/check runs this with --mem 6144");
	len = test_format(e->cap, 1920, 1080);
	test_reqbufs(e->cap, V4L2_MEMORY_DMABUF, 3);
	/* The page allocator prefers ZONE_NORMAL: the first buffer, nearly always. */
	do {
		fds[n] = cohbuf_alloc_flags(e->dev, len, NULL, O_RDWR | O_CLOEXEC,
					    COHBUF_ALLOC_CONTIGUOUS);
		ASSERT_LE(0, fds[n]) TH_LOG("alloc: %s", strerror(-fds[n]));
		ASSERT_EQ(1, ranges(e->dev, fds[n], &dma_end));
	} while (dma_end <= SZ_4G && ++n < 8);
	ASSERT_GT(8, n) TH_LOG("8 contiguous buffers, all below 4 GiB");
	ASSERT_EQ(0, cohbuf_ino(fds[n], &ino));

	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg) TH_LOG("/dev/kmsg: %s", strerror(-kmsg));
	err = qbuf(e->cap, 0, fds[n], len);
	EXPECT_NE(0, err);
	TH_LOG("QBUF of a buffer out of reach: %s", strerror(err));
	/* One line, which names the flag to use. */
	EXPECT_EQ(1, kmsg_count(kmsg, "cohbuf", "COHBUF_ALLOC_DMA32", &named));
	EXPECT_EQ(1, named) TH_LOG("cohbuf's message does not name COHBUF_ALLOC_DMA32");
	close(kmsg);

	/* Our fd is the one reference: any other is videobuf2's. */
	ASSERT_EQ(0, bufinfo_refs(ino, &refs));
	EXPECT_EQ(1, refs) TH_LOG("videobuf2 kept %llu reference(s) to the refused dma-buf (the 6.12 leak on a failed attach): cohbuf must refuse at map time, where videobuf2 cleans up",
				  (unsigned long long)refs - 1);

	test_reqbufs(e->cap, V4L2_MEMORY_DMABUF, 0);
	while (n >= 0)
		close(fds[n--]);
	if (!counters_back(&e->base, "after the refusal"))
		ASSERT_EQ(-ENOENT, bufinfo_refs(ino, &refs))
			TH_LOG("the refused buffer still has %llu reference(s), none of them ours: videobuf2's leak, not cohbuf's",
			       (unsigned long long)refs);
	assert_baseline(&e->base, "after the refusal (cohbuf's own counters)");
}

TEST_HARNESS_MAIN
