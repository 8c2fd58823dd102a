// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cohbuf-gst: bring cohbuf buffers into a GStreamer pipeline.
 *
 * Each frame is a cohbuf buffer: allocated with libcohbuf, filled through
 * its mapping between DMA_BUF_IOCTL_SYNC brackets, and wrapped, without a
 * copy, as a GstMemory by GstDmaBufAllocator, which owns the fd from then
 * on. The frames go through
 *
 *     appsrc ! videoconvert ! video/x-raw,format=BGRx ! appsink
 *
 * and the program checks every converted frame against the channel swap it
 * expects, and that the memory appsrc received is the same dma-buf (same
 * inode) it allocated. Exit status 0 when every frame matches.
 *
 * --contiguous allocates each frame with COHBUF_ALLOC_CONTIGUOUS, as a
 * consumer without an IOMMU (a camera or an FPGA engine that takes one
 * DMA address per frame) needs, and checks with COHBUF_IOCTL_INFO that
 * every frame is one physically contiguous range.
 *
 *   cohbuf-gst [--contiguous] [FRAMES]   (default 8; 320x240 RGBx frames)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gst/gst.h>
#include <gst/allocators/gstdmabuf.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <libcohbuf.h>

#define WIDTH	320
#define HEIGHT	240
#define FRAME_SIZE (WIDTH * HEIGHT * 4)

/* What every frame needs: the allocators, and the pipeline's two ends. */
struct cohbuf_gst {
	GstAllocator *dmabuf;
	int dev;
	uint32_t alloc_flags;
	GstElement *src, *sink;
	/* The inode of the frame in flight; check_dmabuf() zeroes it on a mismatch. */
	guint64 ino;
};

/* The RGBx pixel at (x, y) of frame @n: a pattern unique to the frame. */
static void pixel(int n, int x, int y, guint8 px[4])
{
	px[0] = (guint8)(x + n);
	px[1] = (guint8)(y * 3 + n);
	px[2] = (guint8)(x ^ y ^ (n * 17));
	px[3] = 0;
}

static int fill_frame(int fd, int n)
{
	void *map;
	int err;

	err = cohbuf_map(fd, 0, FRAME_SIZE, PROT_READ | PROT_WRITE, &map);
	if (err)
		return err;
	err = cohbuf_begin_cpu_access(fd, COHBUF_ACCESS_WRITE);
	if (!err) {
		for (int y = 0; y < HEIGHT; y++)
			for (int x = 0; x < WIDTH; x++)
				pixel(n, x, y, (guint8 *)map + (y * WIDTH + x) * 4);
		err = cohbuf_end_cpu_access(fd, COHBUF_ACCESS_WRITE);
	}
	cohbuf_unmap(map, FRAME_SIZE);
	return err;
}

/* With COHBUF_ALLOC_CONTIGUOUS, the frame must be one range: 0 or -errno. */
static int check_layout(const struct cohbuf_gst *gst, int fd)
{
	struct cohbuf_info info;
	int nr_ranges;

	if (!(gst->alloc_flags & COHBUF_ALLOC_CONTIGUOUS))
		return 0;
	nr_ranges = cohbuf_info(gst->dev, fd, &info, NULL, 0);
	if (nr_ranges < 0)
		return nr_ranges;
	if (nr_ranges != 1 || !(info.flags & COHBUF_ALLOC_CONTIGUOUS)) {
		fprintf(stderr, "cohbuf-gst: a contiguous frame has %d ranges\n", nr_ranges);
		return -EPROTO;
	}
	return 0;
}

/* A GstBuffer whose only memory is a new cohbuf buffer holding frame @n. */
static GstBuffer *cohbuf_frame(struct cohbuf_gst *gst, int n)
{
	GstBuffer *buf;
	int fd, err;

	fd = cohbuf_alloc_flags(gst->dev, FRAME_SIZE, "cohbuf-gst", O_RDWR | O_CLOEXEC,
				gst->alloc_flags);
	if (fd < 0) {
		fprintf(stderr, "cohbuf-gst: cohbuf_alloc_flags: %s\n", strerror(-fd));
		return NULL;
	}
	err = check_layout(gst, fd);
	if (!err)
		err = fill_frame(fd, n);
	if (!err)
		err = cohbuf_ino(fd, &gst->ino);
	if (err) {
		fprintf(stderr, "cohbuf-gst: frame %d: %s\n", n, strerror(-err));
		close(fd);
		return NULL;
	}
	buf = gst_buffer_new();
	/* From here on the GstMemory owns the fd and closes it. */
	gst_buffer_append_memory(buf, gst_dmabuf_allocator_alloc(gst->dmabuf, fd, FRAME_SIZE));
	GST_BUFFER_PTS(buf) = gst_util_uint64_scale(n, GST_SECOND, 30);
	GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(1, GST_SECOND, 30);
	return buf;
}

/* The converted frame must be frame @n with R and B swapped (BGRx). */
static int check_frame(GstSample *sample, int n)
{
	GstBuffer *buf = gst_sample_get_buffer(sample);
	GstMapInfo info;
	int bad = 0;

	if (!buf || !gst_buffer_map(buf, &info, GST_MAP_READ))
		return -1;
	if (info.size < FRAME_SIZE)
		bad = 1;
	for (int y = 0; !bad && y < HEIGHT; y++) {
		for (int x = 0; !bad && x < WIDTH; x++) {
			const guint8 *got = info.data + (y * WIDTH + x) * 4;
			guint8 px[4];

			pixel(n, x, y, px);
			bad = got[0] != px[2] || got[1] != px[1] || got[2] != px[0];
		}
	}
	gst_buffer_unmap(buf, &info);
	return bad ? -1 : 0;
}

/* appsrc's pad probe: the memory it pushes is the dma-buf we made. */
static GstPadProbeReturn check_dmabuf(GstPad *pad, GstPadProbeInfo *info,
				      gpointer data)
{
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	GstMemory *mem = gst_buffer_peek_memory(buf, 0);
	guint64 *want_ino = data, ino = 0;

	(void)pad;
	if (!gst_is_dmabuf_memory(mem) ||
	    cohbuf_ino(gst_dmabuf_memory_get_fd(mem), &ino) || ino != *want_ino) {
		fprintf(stderr, "cohbuf-gst: appsrc pushed memory that is not our dma-buf\n");
		*want_ino = 0;
	}
	return GST_PAD_PROBE_OK;
}

static GstElement *make_pipeline(struct cohbuf_gst *gst)
{
	GError *error = NULL;
	GstElement *pipeline = gst_parse_launch(
		"appsrc name=src format=time caps=video/x-raw,format=RGBx,"
		"width=320,height=240,framerate=30/1 ! videoconvert ! "
		"video/x-raw,format=BGRx ! appsink name=sink sync=false", &error);

	if (!pipeline) {
		fprintf(stderr, "cohbuf-gst: %s\n", error->message);
		g_error_free(error);
		return NULL;
	}
	gst->src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
	gst->sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	return pipeline;
}

/* Push frame @n, pull it back converted, check it: 0 or -1. */
static int one_frame(struct cohbuf_gst *gst, int n)
{
	GstBuffer *buf = cohbuf_frame(gst, n);
	GstSample *sample;
	int err;

	if (!buf)
		return -1;
	if (gst_app_src_push_buffer(GST_APP_SRC(gst->src), buf) != GST_FLOW_OK)
		return -1;
	sample = gst_app_sink_pull_sample(GST_APP_SINK(gst->sink));
	if (!sample)
		return -1;
	err = check_frame(sample, n);
	gst_sample_unref(sample);
	if (err || !gst->ino)
		fprintf(stderr, "cohbuf-gst: frame %d is wrong\n", n);
	return err || !gst->ino ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct cohbuf_gst gst = { 0 };
	int frames = 8, good = 0;
	GstElement *pipeline;
	GstPad *pad;

	gst_init(&argc, &argv);
	if (argc > 1 && !strcmp(argv[1], "--contiguous")) {
		gst.alloc_flags = COHBUF_ALLOC_CONTIGUOUS;
		argc--;
		argv++;
	}
	if (argc > 1)
		frames = atoi(argv[1]);
	gst.dev = cohbuf_open();
	if (gst.dev < 0) {
		fprintf(stderr, "cohbuf-gst: %s: %s\n", COHBUF_DEVICE, strerror(-gst.dev));
		return 1;
	}
	pipeline = make_pipeline(&gst);
	if (!pipeline)
		return 1;
	gst.dmabuf = gst_dmabuf_allocator_new();
	pad = gst_element_get_static_pad(gst.src, "src");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, check_dmabuf, &gst.ino, NULL);
	gst_object_unref(pad);
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	for (int n = 0; n < frames; n++)
		good += one_frame(&gst, n) == 0;
	gst_app_src_end_of_stream(GST_APP_SRC(gst.src));
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(gst.src);
	gst_object_unref(gst.sink);
	gst_object_unref(pipeline);
	gst_object_unref(gst.dmabuf);
	close(gst.dev);
	printf("cohbuf-gst: %d of %d %sframes went through videoconvert from cohbuf dma-bufs intact\n",
	       good, frames, gst.alloc_flags ? "contiguous " : "");
	return good == frames && frames > 0 ? 0 : 1;
}
