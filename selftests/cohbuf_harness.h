/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Assertion helpers for the cohbuf tests, on top of kselftest_harness.h.
 * Include this, not the harness, from each test program (one per binary:
 * the harness defines global symbols).
 */
#ifndef COHBUF_HARNESS_H
#define COHBUF_HARNESS_H

#include <string.h>

#include "kselftest_harness.h"
#include "cohbuf_test.h"

/* Opens /dev/cohbuf, failing the test with the reason if it cannot. */
static inline int open_dev(struct __test_metadata *_metadata)
{
	int dev = cohbuf_open();

	ASSERT_LE(0, dev) TH_LOG("open %s: %s (is the module loaded?)",
				 COHBUF_DEVICE, strerror(-dev));
	return dev;
}

/* Reads the debugfs live counters, failing the test if it cannot. */
static inline void get_live(struct __test_metadata *_metadata,
			    struct live *live)
{
	int ret = live_read(live);

	ASSERT_EQ(0, ret) TH_LOG("%s/live_*: %s", DEBUGFS_DIR, strerror(-ret));
}

/* The live counters are @buffers and @bytes above the baseline @base. */
static inline void assert_live(struct __test_metadata *_metadata,
			       const struct live *base,
			       uint64_t buffers, uint64_t bytes)
{
	struct live now;

	get_live(_metadata, &now);
	ASSERT_EQ(base->buffers + buffers, now.buffers);
	ASSERT_EQ(base->bytes + bytes, now.bytes);
}

/* The debugfs row of buffer @ino, which must be listed. */
static inline void get_row(struct __test_metadata *_metadata, uint64_t ino,
			   struct cohbuf_entry *row)
{
	int ret = row_read(ino, row);

	ASSERT_EQ(0, ret) TH_LOG("buffer %llu not in %s/buffers: %s",
				 (unsigned long long)ino, DEBUGFS_DIR, strerror(-ret));
}

/* The mappings column of buffer @ino. */
static inline uint64_t row_mappings(struct __test_metadata *_metadata,
				    uint64_t ino)
{
	struct cohbuf_entry row;

	get_row(_metadata, ino, &row);
	return row.mappings;
}

#endif /* COHBUF_HARNESS_H */
