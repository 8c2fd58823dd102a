/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fenced part of the demo: the producer paints frames into the shared
 * buffer under a cohbuf write fence, the consumer waits for each with
 * poll() on the dma-buf.
 */
#ifndef COHBUF_DEMO_FRAME_H
#define COHBUF_DEMO_FRAME_H

#include <stdint.h>

#define DEMO_FRAMES	3U	/* painted by the producer */

/*
 * Sent, with the frame's sync_file, once its write fence is attached and
 * before the producer paints it. seq DEMO_FRAMES is painted by a producer
 * that is killed halfway.
 */
struct demo_frame {
	uint32_t seq;
	uint32_t last;		/* no frame follows */
};

/* The consumer's answer once poll() on the dma-buf said the frame is done. */
struct demo_frame_reply {
	uint32_t seq;
	int32_t status;		/* the sync_file's: 1, or the fence's error */
	uint32_t crc32;		/* of the frame as the consumer read it */
	uint32_t waited_ms;	/* in poll() */
};

#endif /* COHBUF_DEMO_FRAME_H */
