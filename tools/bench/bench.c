// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf-bench: cohbuf against every other way to share memory, side by
 * side, in one run.
 *
 * It writes a CSV to stdout: a "# env:" line recording where it ran, the
 * column header, then one row per measurement:
 *
 *   metric,mechanism,kernel,size,rep,value,unit
 *
 * Progress goes to stderr. `make bench` runs it under scripts/vm-run on
 * each kernel and turns the CSVs into a table of ratios and a plot.
 * Every metric warms each path up first, interleaves the mechanisms, and
 * repeats; the report takes medians. Absolute numbers under an emulator
 * mean little: compare mechanisms within one run.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct bench bench = {
	.reps = 7,
	.frames = 24,
	.cohbuf_dev = -1,
	.heap_dev = -1,
	.udmabuf_dev = -1,
	.vgem_dev = -1,
	.importer_dev = -1,
};

#define KIB	1024UL
#define MIB	(1024UL * 1024)

/* 4 KiB to 256 MiB, with the frame sizes of 1080p and 4K video. */
static const size_t sizes_all[] = {
	4 * KIB, 64 * KIB, 1 * MIB,
	1920 * 1080 * 3 / 2,	/* 1080p NV12, 3.0 MiB */
	4 * MIB,
	1920 * 1080 * 4,	/* 1080p RGBA, 7.9 MiB */
	3840 * 2160 * 3 / 2,	/* 4K NV12, 11.9 MiB */
	3840 * 2160 * 4,	/* 4K RGBA, 31.6 MiB */
	64 * MIB, 256 * MIB,
};

static const size_t sizes_quick[] = { 4 * KIB, 1 * MIB, 3840 * 2160 * 4, 64 * MIB };

/* The hand-off frames. */
static const size_t frames_all[] = {
	1920 * 1080 * 3 / 2, 1920 * 1080 * 4, 3840 * 2160 * 3 / 2, 3840 * 2160 * 4,
};

static double start_us;

void progress(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cohbuf-bench: [%4.0f s] ", (now_us() - start_us) / 1e6);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("cohbuf-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

long knob_read(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

int knob_write(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	ret = fprintf(f, "%ld\n", v) < 0 ? -EIO : 0;
	if (fclose(f))
		ret = -errno;
	return ret;
}

size_t page_round(size_t size)
{
	size_t page = sysconf(_SC_PAGESIZE);

	return (size + page - 1) / page * page;
}

unsigned int reps_for(size_t size)
{
	if (size > 64 * MIB)
		return bench.reps > 3 ? 3 : bench.reps;
	return bench.reps;
}

enum mech_id rotate(const enum mech_id *list, unsigned int n,
		    unsigned int start, unsigned int k)
{
	return list[(start + k) % n];
}

void csv_row_name(const char *metric, const char *mech, size_t size, int rep,
		  double value, const char *unit)
{
	printf("%s,%s,%s,%zu,%d,%.6g,%s\n", metric, mech, bench.kernel, size,
	       rep, value, unit);
}

void csv_row(const char *metric, enum mech_id mech, size_t size, int rep,
	     double value, const char *unit)
{
	csv_row_name(metric, mechs[mech].name, size, rep, value, unit);
}

/* The first line of @path without its newline, or "?" . */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	snprintf(buf, len, "?");
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

/* The value of "@key:" in a /proc file such as /proc/meminfo. */
static void read_field(const char *path, const char *key, char *buf,
		       size_t len)
{
	char line[256];
	FILE *f = fopen(path, "r");

	snprintf(buf, len, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		size_t n;

		if (!colon)
			continue;
		/* "model name\t: ..." in /proc/cpuinfo: ignore the padding. */
		for (n = colon - line; n && (line[n - 1] == ' ' || line[n - 1] == '\t'); n--)
			;
		if (n != strlen(key) || strncmp(line, key, n))
			continue;
		colon++;
		colon += strspn(colon, " \t");
		colon[strcspn(colon, "\n")] = 0;
		snprintf(buf, len, "%s", colon);
		break;
	}
	fclose(f);
}

/*
 * One line recording the environment. scripts/vm-run exports the QEMU
 * options as COHBUF_VM_QEMU; the rest is read from the guest itself.
 */
static void print_env(void)
{
	const char *qemu = getenv("COHBUF_VM_QEMU");
	char cmdline[512], clock[64], mem[64], model[128];
	struct utsname u;

	uname(&u);
	read_line("/proc/cmdline", cmdline, sizeof(cmdline));
	read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  clock, sizeof(clock));
	read_field("/proc/meminfo", "MemTotal", mem, sizeof(mem));
	read_field("/proc/cpuinfo", "model name", model, sizeof(model));
	printf("# env: qemu=%s; kernel=%s; cmdline=%s; clocksource=%s; cpus=%ld; mem=%s; cpu=%s; reps=%u; frames=%u\n",
	       qemu && *qemu ? qemu : "none (not under scripts/vm-run)",
	       u.release, cmdline, clock, sysconf(_SC_NPROCESSORS_ONLN), mem,
	       model, bench.reps, bench.frames);
}

static void kernel_line(void)
{
	struct utsname u;
	unsigned int major, minor;

	uname(&u);
	if (sscanf(u.release, "%u.%u", &major, &minor) == 2)
		snprintf(bench.kernel, sizeof(bench.kernel), "%u.%u", major, minor);
	else
		snprintf(bench.kernel, sizeof(bench.kernel), "?");
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cohbuf-bench [-q] [-r REPS] [-f FRAMES] [-m METRIC[,METRIC...]]\n"
		"\n"
		"Measures cohbuf against anonymous memory, a pipe, a unix socket, memfd,\n"
		"vgem, udmabuf and the dma-heap system heap, and writes a CSV to stdout:\n"
		"metric,mechanism,kernel,size,rep,value,unit. Run it as root with cohbuf\n"
		"and cohbuf_importer loaded (scripts/vm-run does that); `make bench` runs\n"
		"it on each kernel and writes the report.\n"
		"\n"
		"  -m LIST    metrics: alloc, map, bw, handoff, import, overhead (default all)\n"
		"  -r REPS    timed repetitions per point, after a warm-up (default %u)\n"
		"  -f FRAMES  timed frames per hand-off point (default %u)\n"
		"  -q         quick: four sizes, three repetitions\n"
		"  -h         this help\n",
		bench.reps, bench.frames);
}

static bool wants(const char *list, const char *metric)
{
	size_t n = strlen(metric);
	const char *p = list;

	if (!list)
		return true;
	while ((p = strstr(p, metric))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

int main(int argc, char **argv)
{
	const size_t *sizes = sizes_all;
	unsigned int nsizes = ARRAY_SIZE(sizes_all);
	const char *metrics = NULL;
	int opt;

	start_us = now_us();

	while ((opt = getopt(argc, argv, "qr:f:m:h")) != -1) {
		switch (opt) {
		case 'q':
			bench.quick = true;
			bench.reps = 3;
			bench.frames = 8;
			break;
		case 'r':
			bench.reps = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			bench.frames = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			metrics = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !bench.reps || !bench.frames) {
		usage(stderr);
		return 2;
	}
	if (bench.quick) {
		sizes = sizes_quick;
		nsizes = ARRAY_SIZE(sizes_quick);
	}

	/* Line-buffered even into a pipe: a crash keeps what was measured. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	kernel_line();
	print_env();
	mech_open_all();
	for (int m = 0; m < MECH_NR; m++)
		printf("# mechanism %s: %s%s\n", mechs[m].name,
		       mechs[m].available ? "available" : "not available: ",
		       mechs[m].available ? "" : mechs[m].why);
	printf("metric,mechanism,kernel,size,rep,value,unit\n");

	if (wants(metrics, "alloc"))
		metric_alloc(sizes, nsizes);
	if (wants(metrics, "map"))
		metric_map_read(sizes, nsizes);
	if (wants(metrics, "bw"))
		metric_bandwidth(sizes, nsizes);
	if (wants(metrics, "handoff"))
		metric_handoff(frames_all, bench.quick ? 2 : ARRAY_SIZE(frames_all));
	if (wants(metrics, "import"))
		metric_import(sizes, nsizes);
	if (wants(metrics, "overhead"))
		metric_overhead(sizes, nsizes);

	progress("done");
	return 0;
}
