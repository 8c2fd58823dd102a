// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf-bench: cohbuf against every other way to share memory, side by
 * side, in one run: a CSV on stdout, progress on stderr. Every metric warms
 * each path up, interleaves the mechanisms and repeats; the report takes
 * medians. Under an emulator only the ratios within one run mean anything.
 */
#include <errno.h>
#include <limits.h>
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

long proc_kib(const char *path, const char *key)
{
	size_t klen = strlen(key);
	char line[128];
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
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

/*
 * The metrics, in the order they run: -m picks some of them. Without -m,
 * all but those that want a boot of their own.
 */
static const struct metric {
	const char *name;
	void (*run)(const size_t *sizes, unsigned int n);
	bool frames;		/* at the hand-off frame sizes */
	bool alone;		/* only when picked: it wants its own boot */
} metrics[] = {
	{ .name = "alloc", .run = metric_alloc },
	{ .name = "map", .run = metric_map_read },
	{ .name = "bw", .run = metric_bandwidth },
	{ .name = "handoff", .run = metric_handoff, .frames = true },
	{ .name = "import", .run = metric_import },
	{ .name = "overhead", .run = metric_overhead },
	{ .name = "entries", .run = metric_entries },
	{ .name = "fence", .run = metric_fence },
	/* On a 2 GiB guest, and the page cache it fills would weigh on the rest. */
	{ .name = "contig", .run = metric_contig, .alone = true },
};

static const struct metric *metric_find(const char *name, size_t len)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(metrics); i++)
		if (strlen(metrics[i].name) == len &&
		    !strncmp(metrics[i].name, name, len))
			return &metrics[i];
	return NULL;
}

/* -m: the metrics picked; none picked means all. */
static bool picked[ARRAY_SIZE(metrics)], any_picked;

static bool set_metrics(const char *arg)
{
	for (const char *p = arg;; p++) {
		size_t len = strcspn(p, ",");
		const struct metric *m = metric_find(p, len);

		if (!m)
			return false;
		picked[m - metrics] = any_picked = true;
		p += len;
		if (!*p)
			return true;
	}
}

static bool set_count(const char *arg, unsigned int *v)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || *arg == '-' || !n || n > UINT_MAX)
		return false;
	*v = n;
	return true;
}

static bool set_reps(const char *arg)
{
	return set_count(arg, &bench.reps);
}

static bool set_frames(const char *arg)
{
	return set_count(arg, &bench.frames);
}

static bool set_fill(const char *arg)
{
	bench.fill_path = arg;
	return true;
}

static bool set_quick(const char *arg)
{
	(void)arg;
	bench.quick = true;
	bench.reps = 3;
	bench.frames = 8;
	return true;
}

/* The options but -h: getopt's string and the usage come from here. */
static const struct option_def {
	char name;
	const char *arg;	/* the argument, or NULL for a flag */
	bool (*set)(const char *arg);	/* false: a bad argument */
	const char *help;
	const unsigned int *def;	/* the default, if there is one */
} options[] = {
	{ .name = 'm', .arg = "LIST", .set = set_metrics,
	  .help = "comma-separated metrics (default all but contig)" },
	{ .name = 'r', .arg = "REPS", .set = set_reps, .def = &bench.reps,
	  .help = "timed repetitions per point, after a warm-up" },
	{ .name = 'f', .arg = "FRAMES", .set = set_frames, .def = &bench.frames,
	  .help = "timed frames per hand-off point" },
	{ .name = 'q', .set = set_quick, .help = "quick: four sizes, three repetitions" },
	{ .name = 'p', .arg = "FILE", .set = set_fill,
	  .help = "contig: fill the page cache by reading FILE (larger than memory)" },
};

static void usage(FILE *f)
{
	fputs("Usage: cohbuf-bench", f);
	for (unsigned int i = 0; i < ARRAY_SIZE(options); i++)
		fprintf(f, options[i].arg ? " [-%c %s]" : " [-%c]", options[i].name,
			options[i].arg);
	fputs("\n\n"
	      "Measures cohbuf against anonymous memory, a pipe, a unix socket, memfd,\n"
	      "vgem, udmabuf and the dma-heap system heap, and writes a CSV to stdout:\n"
	      "metric,mechanism,kernel,size,rep,value,unit. Run it as root with cohbuf\n"
	      "and cohbuf_importer loaded (scripts/vm-run does that); `make bench` runs\n"
	      "it on each kernel and writes the report.\n\n", f);
	for (unsigned int i = 0; i < ARRAY_SIZE(options); i++) {
		const struct option_def *o = &options[i];

		fprintf(f, "  -%c %-8s %s", o->name, o->arg ? o->arg : "", o->help);
		if (o->def)
			fprintf(f, " (default %u)", *o->def);
		fputc('\n', f);
	}
	fputs("  -h          this help\n\nMetrics:", f);
	for (unsigned int i = 0; i < ARRAY_SIZE(metrics); i++)
		fprintf(f, "%s %s", i ? "," : "", metrics[i].name);
	fputc('\n', f);
}

/* 0 when the options are good, else the exit status. */
static int parse_options(int argc, char **argv)
{
	char optstring[2 * ARRAY_SIZE(options) + 2], *p = optstring;
	int opt;

	for (unsigned int i = 0; i < ARRAY_SIZE(options); i++) {
		*p++ = options[i].name;
		if (options[i].arg)
			*p++ = ':';
	}
	strcpy(p, "h");
	while ((opt = getopt(argc, argv, optstring)) != -1) {
		const struct option_def *o = NULL;

		if (opt == 'h') {
			usage(stdout);
			exit(0);
		}
		for (unsigned int i = 0; i < ARRAY_SIZE(options); i++)
			if (options[i].name == opt)
				o = &options[i];
		if (!o || !o->set(optarg)) {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const size_t *sizes;
	unsigned int nsizes;
	int ret;

	start_us = now_us();
	ret = parse_options(argc, argv);
	if (ret)
		return ret;
	sizes = bench.quick ? sizes_quick : sizes_all;
	nsizes = bench.quick ? ARRAY_SIZE(sizes_quick) : ARRAY_SIZE(sizes_all);

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

	for (unsigned int i = 0; i < ARRAY_SIZE(metrics); i++) {
		const struct metric *m = &metrics[i];

		if (any_picked ? !picked[i] : m->alone)
			continue;
		if (m->frames)
			m->run(frames_all, bench.quick ? 2 : ARRAY_SIZE(frames_all));
		else
			m->run(sizes, nsizes);
	}

	progress("done");
	return 0;
}
