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
 *   cohbuf-gst [FRAMES]   (default 8; 320x240 RGBx frames)
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

/* A GstBuffer whose only memory is a new cohbuf buffer holding frame @n. */
static GstBuffer *cohbuf_frame(GstAllocator *dmabuf, int dev, int n,
			       guint64 *ino)
{
	GstBuffer *buf;
	int fd, err;

	fd = cohbuf_alloc(dev, FRAME_SIZE, "cohbuf-gst", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "cohbuf-gst: cohbuf_alloc: %s\n", strerror(-fd));
		return NULL;
	}
	err = fill_frame(fd, n);
	if (!err)
		err = cohbuf_ino(fd, ino);
	if (err) {
		fprintf(stderr, "cohbuf-gst: frame %d: %s\n", n, strerror(-err));
		close(fd);
		return NULL;
	}
	buf = gst_buffer_new();
	/* From here on the GstMemory owns the fd and closes it. */
	gst_buffer_append_memory(buf, gst_dmabuf_allocator_alloc(dmabuf, fd, FRAME_SIZE));
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

static GstElement *make_pipeline(GstElement **src, GstElement **sink)
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
	*src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
	*sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	return pipeline;
}

/* Push frame @n, pull it back converted, check it: 0 or -1. */
static int one_frame(GstAllocator *dmabuf, int dev, GstElement *src,
		     GstElement *sink, int n, guint64 *ino)
{
	GstBuffer *buf = cohbuf_frame(dmabuf, dev, n, ino);
	GstSample *sample;
	int err;

	if (!buf)
		return -1;
	if (gst_app_src_push_buffer(GST_APP_SRC(src), buf) != GST_FLOW_OK)
		return -1;
	sample = gst_app_sink_pull_sample(GST_APP_SINK(sink));
	if (!sample)
		return -1;
	err = check_frame(sample, n);
	gst_sample_unref(sample);
	if (err || !*ino)
		fprintf(stderr, "cohbuf-gst: frame %d is wrong\n", n);
	return err || !*ino ? -1 : 0;
}

int main(int argc, char **argv)
{
	int frames = argc > 1 ? atoi(argv[1]) : 8, good = 0, dev;
	GstElement *pipeline, *src, *sink;
	GstAllocator *dmabuf;
	guint64 ino = 0;
	GstPad *pad;

	gst_init(&argc, &argv);
	dev = cohbuf_open();
	if (dev < 0) {
		fprintf(stderr, "cohbuf-gst: %s: %s\n", COHBUF_DEVICE, strerror(-dev));
		return 1;
	}
	pipeline = make_pipeline(&src, &sink);
	if (!pipeline)
		return 1;
	dmabuf = gst_dmabuf_allocator_new();
	pad = gst_element_get_static_pad(src, "src");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, check_dmabuf, &ino, NULL);
	gst_object_unref(pad);
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	for (int n = 0; n < frames; n++)
		good += one_frame(dmabuf, dev, src, sink, n, &ino) == 0;
	gst_app_src_end_of_stream(GST_APP_SRC(src));
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(src);
	gst_object_unref(sink);
	gst_object_unref(pipeline);
	gst_object_unref(dmabuf);
	close(dev);
	printf("cohbuf-gst: %d of %d frames went through videoconvert from cohbuf dma-bufs intact\n",
	       good, frames);
	return good == frames && frames > 0 ? 0 : 1;
}
