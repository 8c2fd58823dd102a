// SPDX-License-Identifier: GPL-2.0
/*
 * Importing a buffer into a driver, and letting it go:
 *
 *   import_attach, import_detach, import_nents
 *          cohbuf_importer's ATTACH (dma_buf_get, attach, map) and DETACH
 *          of cohbuf, vgem, udmabuf and system-heap buffers, and the number
 *          of DMA segments the importer's device got
 *   prime_import, prime_close
 *          vgem's own PRIME import (drmPrimeFDToHandle: attach and map for
 *          vgem's device, which takes segments of at most 64 KiB) and the
 *          GEM_CLOSE that undoes it: the in-tree reference
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <xf86drm.h>

#include "bench.h"
#include "cohbuf_importer.h"

struct import_task {
	enum mech_id mech;	/* whose buffer */
	bool prime;		/* vgem PRIME, else cohbuf_importer */
};

static void import_one(const struct import_task *t, const struct buf *b,
		       size_t size, int rep)
{
	double t0, t1, t2;

	if (t->prime) {
		struct drm_gem_close req = { 0 };

		t0 = now_us();
		if (drmPrimeFDToHandle(bench.vgem_dev, b->fd, &req.handle))
			die("vgem PRIME import of %s: %s", mechs[t->mech].name,
			    strerror(errno));
		t1 = now_us();
		if (drmIoctl(bench.vgem_dev, DRM_IOCTL_GEM_CLOSE, &req))
			die("vgem GEM_CLOSE: %s", strerror(errno));
		t2 = now_us();
		if (rep < 0)
			return;
		csv_row("prime_import", t->mech, size, rep, t1 - t0, "us");
		csv_row("prime_close", t->mech, size, rep, t2 - t1, "us");
	} else {
		struct cohbuf_imp_attach att = { .fd = b->fd };
		struct cohbuf_imp_detach det = { 0 };

		t0 = now_us();
		if (ioctl(bench.importer_dev, COHBUF_IMP_IOCTL_ATTACH, &att))
			die("cohbuf_importer ATTACH of %s: %s", mechs[t->mech].name,
			    strerror(errno));
		t1 = now_us();
		det.handle = att.handle;
		if (ioctl(bench.importer_dev, COHBUF_IMP_IOCTL_DETACH, &det))
			die("cohbuf_importer DETACH: %s", strerror(errno));
		t2 = now_us();
		if (rep < 0)
			return;
		csv_row("import_attach", t->mech, size, rep, t1 - t0, "us");
		csv_row("import_detach", t->mech, size, rep, t2 - t1, "us");
		csv_row("import_nents", t->mech, size, rep, att.nents, "entries");
	}
}

void metric_import(const size_t *sizes, unsigned int n)
{
	static const enum mech_id exporters[] = {
		MECH_COHBUF, MECH_VGEM, MECH_UDMABUF, MECH_HEAP,
	};
	struct import_task tasks[2 * MECH_NR];
	struct buf bufs[MECH_NR];
	unsigned int nt = 0;

	if (bench.importer_dev < 0) {
		printf("# import: /dev/cohbuf_importer is not there: skipped\n");
		return;
	}
	for (unsigned int i = 0; i < sizeof(exporters) / sizeof(exporters[0]); i++) {
		enum mech_id m = exporters[i];

		if (!mechs[m].available)
			continue;
		tasks[nt++] = (struct import_task){ .mech = m };
		/* vgem importing its own buffer just finds its own object. */
		if (mechs[MECH_VGEM].available && m != MECH_VGEM)
			tasks[nt++] = (struct import_task){ .mech = m, .prime = true };
	}

	for (unsigned int s = 0; s < n; s++) {
		size_t size = sizes[s];
		bool have[MECH_NR] = { false };

		progress("import: %zu bytes", size);
		for (unsigned int i = 0; i < nt; i++) {
			enum mech_id m = tasks[i].mech;
			int ret;

			if (have[m])
				continue;
			ret = buf_alloc(m, size, false, &bufs[m]);
			if (ret)
				printf("# %s: allocating %zu bytes failed: %s\n",
				       mechs[m].name, size, strerror(-ret));
			have[m] = !ret;
		}
		for (int rep = -1; rep < (int)reps_for(size); rep++) {
			for (unsigned int k = 0; k < nt; k++) {
				const struct import_task *t = &tasks[(rep + 1 + k) % nt];

				if (have[t->mech])
					import_one(t, &bufs[t->mech], size, rep);
			}
		}
		for (unsigned int m = 0; m < MECH_NR; m++)
			if (have[m])
				buf_free(&bufs[m]);
	}
}
