// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the cohbuf selftests: patterns, debugfs and sysfs
 * readers. See cohbuf_test.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "cohbuf_test.h"

size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

uint64_t page_align(uint64_t size)
{
	uint64_t mask = page_size() - 1;

	return (size + mask) & ~mask;
}

int ioctl_errno(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

int alloc_errno(int dev, const struct cohbuf_alloc *req)
{
	struct cohbuf_alloc copy = *req;

	copy.fd = -1;
	if (ioctl(dev, COHBUF_IOCTL_ALLOC, &copy))
		return errno;
	close(copy.fd);
	return 0;
}

void *map_shared(int fd, size_t len, int prot, off_t offset)
{
	return mmap(NULL, len, prot, MAP_SHARED, fd, offset);
}

static uint64_t pattern_word(uint64_t off, uint32_t seed)
{
	uint64_t x = (off >> 3) + ((uint64_t)seed << 40) + seed;

	/* splitmix64 finaliser: every word differs, and no word is zero-ish */
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (x ^ (x >> 31)) | 1;
}

void pattern_fill(void *p, size_t len, uint64_t off, uint32_t seed)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pattern_word(off + i * 8, seed);
}

ssize_t pattern_check(const void *p, size_t len, uint64_t off, uint32_t seed)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != pattern_word(off + i * 8, seed))
			return (ssize_t)(i * 8);
	return -1;
}

ssize_t bytes_check(const void *p, size_t len, uint8_t byte)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != byte)
			return (ssize_t)i;
	return -1;
}

/* Every line of @text, which strtok_r() cuts up as it goes. */
#define for_each_line(line, text, save)					\
	for (line = strtok_r(text, "\n", &save); line;			\
	     line = strtok_r(NULL, "\n", &save))

/* Reads a whole (small) pseudo file into a NUL-terminated malloc'ed buffer. */
static int read_file(const char *path, char **out)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (;;) {
		if (len + 1 >= cap) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger) {
				n = -1;
				errno = ENOMEM;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += n;
	}
	if (n < 0) {
		int err = errno;

		close(fd);
		free(buf);
		return -err;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return 0;
}

static int read_u64(const char *path, uint64_t *val)
{
	char *text, *end;
	int ret;

	ret = read_file(path, &text);
	if (ret)
		return ret;
	errno = 0;
	*val = strtoull(text, &end, 0);
	if (errno || end == text || (*end != '\n' && *end != '\0'))
		ret = -EINVAL;
	free(text);
	return ret;
}

/* debugfs is mounted by the test bed; mount it if it is not. */
static int debugfs_ready(void)
{
	if (!access("/sys/kernel/debug/dma_buf", F_OK))
		return 0;
	if (mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) &&
	    errno != EBUSY)
		return -errno;
	return access("/sys/kernel/debug/dma_buf", F_OK) ? -errno : 0;
}

int live_read(struct live *live)
{
	int ret = debugfs_ready();

	if (!ret)
		ret = read_u64(DEBUGFS_DIR "/live_buffers", &live->buffers);
	if (!ret)
		ret = read_u64(DEBUGFS_DIR "/live_bytes", &live->bytes);
	return ret;
}

int fences_live(uint64_t *fences)
{
	int ret = debugfs_ready();

	return ret ? ret : read_u64(DEBUGFS_DIR "/live_fences", fences);
}

int row_read(uint64_t ino, struct cohbuf_entry *row)
{
	struct cohbuf_entry *list;
	int n, i, ret;

	ret = debugfs_ready();
	if (ret)
		return ret;
	n = cohbuf_list(&list);
	if (n < 0)
		return n;
	ret = -ENOENT;
	for (i = 0; i < n; i++) {
		if (list[i].ino == ino) {
			*row = list[i];
			ret = 0;
			break;
		}
	}
	free(list);
	return ret;
}

/*
 * bufinfo (drivers/dma-buf/dma-buf.c, dma_buf_debug_show) prints per buffer:
 *   size flags mode count exp_name ino name
 *   <resv fences>
 *   \tAttached Devices:
 *   \t<dev_name>           one per attachment
 *   Total N devices attached
 * Whether @line is the first line of a buffer cohbuf exported; its inode
 * in @ino and its count (the references to its file) in @refs.
 */
static bool bufinfo_row(const char *line, uint64_t *ino, uint64_t *refs)
{
	unsigned long long size, count, i;
	unsigned int flags, mode;
	char exp_name[64];

	if (sscanf(line, "%llu %x %x %llu %63s %llu", &size, &flags, &mode,
		   &count, exp_name, &i) != 6 || strcmp(exp_name, "cohbuf"))
		return false;
	*ino = i;
	*refs = count;
	return true;
}

static bool bufinfo_is_cohbuf(const char *line, uint64_t *ino)
{
	uint64_t refs;

	return bufinfo_row(line, ino, &refs);
}

/* The whole of bufinfo (mounting debugfs if needed), to free(): 0, or -errno. */
static int bufinfo_read(char **text)
{
	int ret = debugfs_ready();

	return ret ? ret : read_file(DMABUF_BUFINFO, text);
}

/*
 * Reads bufinfo into *@text and finds the first line of buffer @ino, its
 * count in @refs: 0, with *@save ready for strtok_r() to go on from the
 * next line and *@text to free(); -ENOENT if it is not listed, or -errno
 * (*@text freed then).
 */
static int bufinfo_find(uint64_t ino, char **text, char **save, uint64_t *refs)
{
	char *line;
	uint64_t i;
	int ret = bufinfo_read(text);

	if (ret)
		return ret;
	for_each_line(line, *text, *save)
		if (bufinfo_row(line, &i, refs) && i == ino)
			return 0;
	free(*text);
	return -ENOENT;
}

int bufinfo_refs(uint64_t ino, uint64_t *refs)
{
	char *text, *save = NULL;
	int ret = bufinfo_find(ino, &text, &save, refs);

	if (!ret)
		free(text);
	return ret;
}

int bufinfo_attachments(uint64_t ino, const char *dev_name, int *named)
{
	char *text, *line, *save = NULL;
	bool devices = false;
	int ret, count = 0;
	uint64_t refs;

	ret = bufinfo_find(ino, &text, &save, &refs);
	if (ret)
		return ret;
	ret = -ENOENT;
	*named = 0;
	while ((line = strtok_r(NULL, "\n", &save))) {
		if (!devices) {
			devices = !strcmp(line, "\tAttached Devices:");
			continue;
		}
		if (line[0] != '\t') {	/* "Total N devices attached" */
			ret = count;
			break;
		}
		if (!strcmp(line + 1, dev_name))
			(*named)++;
		count++;
	}
	free(text);
	return ret;
}

static void param_path(char *path, size_t len, const char *module,
		       const char *name)
{
	snprintf(path, len, "/sys/module/%s/parameters/%s", module, name);
}

int module_param_get(const char *module, const char *name, uint64_t *val)
{
	char path[PATH_MAX];

	param_path(path, sizeof(path), module, name);
	return read_u64(path, val);
}

int module_param_set(const char *module, const char *name, uint64_t val)
{
	char path[PATH_MAX], text[32];
	int fd, len, ret = 0;

	param_path(path, sizeof(path), module, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(text, sizeof(text), "%llu\n", (unsigned long long)val);
	if (write(fd, text, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

int fdinfo_field(int fd, const char *key, char *val, size_t len)
{
	char path[64], *text, *line, *save = NULL;
	size_t klen = strlen(key);
	int ret;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ret = read_file(path, &text);
	if (ret)
		return ret;
	ret = -ENOENT;
	for_each_line(line, text, save) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		line += klen + 1;
		while (*line == '\t' || *line == ' ')
			line++;
		snprintf(val, len, "%s", line);
		ret = 0;
		break;
	}
	free(text);
	return ret;
}

int exe_sibling(const char *name, char *path, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	if ((size_t)snprintf(path, len, "%s/%s", dirname(exe), name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int imp_live(uint64_t *attachments)
{
	int ret = debugfs_ready();

	return ret ? ret : read_u64(IMP_DEBUGFS_DIR "/attachments", attachments);
}

int imp_jobs(uint64_t *jobs)
{
	int ret = debugfs_ready();

	return ret ? ret : read_u64(IMP_DEBUGFS_DIR "/jobs", jobs);
}

/* The number of cohbuf buffers in bufinfo. */
static int bufinfo_count(uint64_t *count)
{
	char *text, *line, *save = NULL;
	uint64_t ino;
	int ret;

	ret = read_file(DMABUF_BUFINFO, &text);
	if (ret)
		return ret;
	*count = 0;
	for_each_line(line, text, save)
		*count += bufinfo_is_cohbuf(line, &ino);
	free(text);
	return 0;
}

int counters_get(struct counters *c)
{
	struct live live;
	int ret;

	ret = live_read(&live);
	if (ret)
		return ret;
	c->buffers = live.buffers;
	c->bytes = live.bytes;
	ret = fences_live(&c->fences);
	if (ret)
		return ret;
	/* The importer is optional: without it, nothing is attached. */
	c->attachments = 0;
	c->jobs = 0;
	if (!access(IMP_DEBUGFS_DIR, F_OK)) {
		ret = imp_live(&c->attachments);
		if (!ret)
			ret = imp_jobs(&c->jobs);
		if (ret)
			return ret;
	}
	return bufinfo_count(&c->bufinfo);
}

static bool counters_equal(const struct counters *a,
			   const struct counters *b)
{
	return a->buffers == b->buffers && a->bytes == b->bytes &&
	       a->attachments == b->attachments && a->bufinfo == b->bufinfo &&
	       a->fences == b->fences && a->jobs == b->jobs;
}

int counters_wait(const struct counters *want, int timeout_ms,
		  struct counters *got)
{
	struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	int waited = 0, ret;

	for (;;) {
		ret = counters_get(got);
		if (ret)
			return ret;
		if (counters_equal(want, got))
			return 0;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		nanosleep(&pause, NULL);
		waited += 10;
	}
}

const char *counters_str(const struct counters *c, char *buf, size_t len)
{
	snprintf(buf, len,
		 "buffers %llu, bytes %llu, attachments %llu, bufinfo %llu, fences %llu, importer jobs %llu",
		 (unsigned long long)c->buffers, (unsigned long long)c->bytes,
		 (unsigned long long)c->attachments, (unsigned long long)c->bufinfo,
		 (unsigned long long)c->fences, (unsigned long long)c->jobs);
	return buf;
}

bool stress_full(void)
{
	const char *level = getenv("COHBUF_STRESS");

	return level && !strcmp(level, "full");
}

long stress_param(const char *env, long quick, long full)
{
	const char *val = getenv(env);
	char *end;
	long n;

	if (val && *val) {
		errno = 0;
		n = strtol(val, &end, 0);
		if (!errno && !*end && n >= 0)
			return n;
	}
	return stress_full() ? full : quick;
}

uint64_t rng_next(uint64_t *state)
{
	uint64_t x = (*state += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t rng_below(uint64_t *state, uint64_t n)
{
	return rng_next(state) % n;
}

bool kernel_config(const char *name)
{
	const char *path = getenv("COHBUF_KCONFIG");
	char line[256], want[128];
	bool found = false;
	FILE *f;

	if (!path || !*path)
		return false;
	f = fopen(path, "re");
	if (!f)
		return false;
	snprintf(want, sizeof(want), "CONFIG_%s=y\n", name);
	while (!found && fgets(line, sizeof(line), f))
		found = !strcmp(line, want);
	fclose(f);
	return found;
}

int fd_table_fill(int fd, int limit, int *fillers, struct rlimit *old)
{
	struct rlimit low;
	int n = 0, err;

	if (getrlimit(RLIMIT_NOFILE, old))
		return -errno;
	low = *old;
	low.rlim_cur = limit;
	if (setrlimit(RLIMIT_NOFILE, &low))
		return -errno;
	while (n < limit) {
		fillers[n] = dup(fd);
		if (fillers[n] < 0)
			break;
		n++;
	}
	if (n < limit && errno == EMFILE)
		return n;
	err = n < limit ? -errno : -ENFILE;
	fd_table_release(fillers, n, old);
	return err;
}

int fd_table_release(const int *fillers, int n, const struct rlimit *old)
{
	while (n > 0)
		close(fillers[--n]);
	return setrlimit(RLIMIT_NOFILE, old) ? -errno : 0;
}

int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

int kmsg_next(int fd, char *buf, size_t len)
{
	char rec[8192], *text, *end;
	ssize_t n;

	/* EPIPE: records were overwritten meanwhile; the read goes on after them. */
	do
		n = read(fd, rec, sizeof(rec) - 1);
	while (n < 0 && (errno == EPIPE || errno == EINTR));
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	rec[n] = '\0';
	text = strchr(rec, ';');
	if (!text)
		return -EPROTO;
	text++;
	end = strchr(text, '\n');
	if (end)
		*end = '\0';
	snprintf(buf, len, "%s", text);
	return 1;
}

int lowest_free_fd(void)
{
	int fd = open("/", O_PATH | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return fd;
}

void *readonly_copy(const void *arg, size_t len)
{
	size_t ps = page_size();
	void *p;
	int err;

	if (len > ps) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return p;
	memcpy(p, arg, len);
	if (mprotect(p, ps, PROT_READ)) {
		err = errno;
		munmap(p, ps);
		errno = err;
		return MAP_FAILED;
	}
	return p;
}

bool module_loaded(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return !access(path, F_OK);
}

int module_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

int module_load(const char *path, const char *params)
{
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, params, 0))
		ret = -errno;
	close(fd);
	return ret;
}

int module_params(const char *name, char *out, size_t len)
{
	char dirpath[PATH_MAX], path[2 * PATH_MAX], val[256];
	struct dirent *de;
	size_t used = 0;
	DIR *dir;
	int fd;

	out[0] = '\0';
	snprintf(dirpath, sizeof(dirpath), "/sys/module/%s/parameters", name);
	dir = opendir(dirpath);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* not readable: keep the default */
		n = read(fd, val, sizeof(val) - 1);
		close(fd);
		if (n <= 0)
			continue;
		val[n] = '\0';
		val[strcspn(val, "\n")] = '\0';
		used += snprintf(out + used, len - used, "%s%s=%s",
				 used ? " " : "", de->d_name, val);
		if (used >= len) {
			closedir(dir);
			return -ENAMETOOLONG;
		}
	}
	closedir(dir);
	return 0;
}

int ko_find(struct module_ko *ko, const char *build, const char *name,
	    const char *file)
{
	ko->name = name;
	ko->unloaded = false;
	if ((size_t)snprintf(ko->path, sizeof(ko->path), "%s/%s", build, file) >=
	    sizeof(ko->path))
		return -ENAMETOOLONG;
	if (access(ko->path, R_OK))
		return -errno;
	return module_params(name, ko->params, sizeof(ko->params));
}

int ko_unload(struct module_ko *ko)
{
	int ret = module_unload(ko->name);

	if (!ret)
		ko->unloaded = true;
	return ret;
}

int ko_reload(struct module_ko *ko)
{
	if (!ko->unloaded || module_loaded(ko->name))
		return 0;
	return module_load(ko->path, ko->params);
}

int param_change(struct saved_params *sp, const char *module, const char *name,
		 uint64_t val)
{
	struct saved_param *p;
	int i, ret;

	for (i = 0; i < sp->n; i++)
		if (!strcmp(sp->p[i].module, module) && !strcmp(sp->p[i].name, name))
			break;
	if (i == sp->n) {
		if (sp->n == MAX_SAVED_PARAMS)
			return -ENOSPC;
		p = &sp->p[sp->n];
		ret = module_param_get(module, name, &p->val);
		if (ret)
			return ret;
		p->module = module;
		p->name = name;
		sp->n++;
	}
	return module_param_set(module, name, val);
}

int param_restore(const struct saved_param *p)
{
	return module_param_set(p->module, p->name, p->val);
}
