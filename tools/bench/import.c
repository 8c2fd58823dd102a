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

#include <xf86drm.h>

#include "bench.h"
#include "libcohbuf.h"

/* An importing driver: what it does, and the metrics that time it. */
struct importer {
	const char *attach_what, *detach_what;
	const char *attach_metric, *detach_metric;
	bool nents;		/* reports the DMA segments it got */
	int (*attach)(int fd, uint32_t *handle, uint32_t *nents);
	int (*detach)(uint32_t handle);
};

static int importer_attach(int fd, uint32_t *handle, uint32_t *nents)
{
	struct cohbuf_imp_attach arg;
	int ret = cohbuf_importer_attach(bench.importer_dev, fd, &arg);

	*handle = arg.handle;
	*nents = arg.nents;
	return ret;
}

static int importer_detach(uint32_t handle)
{
	return cohbuf_importer_detach(bench.importer_dev, handle);
}

static int prime_import(int fd, uint32_t *handle, uint32_t *nents)
{
	*nents = 0;
	return drmPrimeFDToHandle(bench.vgem_dev, fd, handle) ? -errno : 0;
}

static int prime_close(uint32_t handle)
{
	struct drm_gem_close req = { .handle = handle };

	return drmIoctl(bench.vgem_dev, DRM_IOCTL_GEM_CLOSE, &req) ? -errno : 0;
}

static const struct importer cohbuf_importer = {
	"cohbuf_importer ATTACH", "cohbuf_importer DETACH",
	"import_attach", "import_detach", true, importer_attach, importer_detach,
};

static const struct importer vgem_prime = {
	"vgem PRIME import", "vgem GEM_CLOSE",
	"prime_import", "prime_close", false, prime_import, prime_close,
};

struct import_task {
	enum mech_id mech;		/* whose buffer */
	const struct importer *imp;
};

/* Import and release @b once; @rep < 0 is the untimed warm-up. */
static void import_one(const struct import_task *t, const struct buf *b,
		       size_t size, int rep)
{
	const struct importer *imp = t->imp;
	uint32_t handle, nents;
	double t0, t1, t2;
	int ret;

	t0 = now_us();
	ret = imp->attach(b->fd, &handle, &nents);
	if (ret)
		die("%s of %s: %s", imp->attach_what, mechs[t->mech].name,
		    strerror(-ret));
	t1 = now_us();
	ret = imp->detach(handle);
	if (ret)
		die("%s: %s", imp->detach_what, strerror(-ret));
	t2 = now_us();
	if (rep < 0)
		return;
	csv_row(imp->attach_metric, t->mech, size, rep, t1 - t0, "us");
	csv_row(imp->detach_metric, t->mech, size, rep, t2 - t1, "us");
	if (imp->nents)
		csv_row("import_nents", t->mech, size, rep, nents, "entries");
}

void metric_import(const size_t *sizes, unsigned int n)
{
	static const enum mech_id exporters[] = {
		MECH_COHBUF, MECH_VGEM, MECH_UDMABUF, MECH_HEAP,
	};
	enum mech_id list[MECH_NR];
	unsigned int nl = mech_list(exporters, ARRAY_SIZE(exporters), list);
	struct import_task tasks[2 * MECH_NR];
	struct buf bufs[MECH_NR];
	unsigned int nt = 0;

	if (bench.importer_dev < 0) {
		printf("# import: /dev/cohbuf_importer is not there: skipped\n");
		return;
	}
	for (unsigned int i = 0; i < nl; i++) {
		tasks[nt++] = (struct import_task){ list[i], &cohbuf_importer };
		/* vgem importing its own buffer just finds its own object. */
		if (mechs[MECH_VGEM].available && list[i] != MECH_VGEM)
			tasks[nt++] = (struct import_task){ list[i], &vgem_prime };
	}

	for (unsigned int s = 0; s < n; s++) {
		size_t size = sizes[s];
		bool have[MECH_NR] = { false };

		progress("import: %zu bytes", size);
		for (unsigned int i = 0; i < nl; i++) {
			enum mech_id m = list[i];
			int ret = buf_alloc(m, size, false, &bufs[m]);

			if (ret)
				alloc_failed(m, size, ret);
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
