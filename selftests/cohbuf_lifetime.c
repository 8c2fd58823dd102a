// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf buffer lifetime: a buffer lives while any fd or mapping holds it,
 * debugfs accounts for it, and the module cannot be unloaded under it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cohbuf_harness.h"

DEV_FIXTURE(lifetime)

TEST_F(lifetime, close_fd_keeps_mapping)
{
	size_t size = 8 * page_size();
	struct cohbuf_entry row;
	uint64_t ino;
	void *map;
	int fd;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_ino(fd, &ino));
	map = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map);
	pattern_fill(map, size, 0, 7);
	ASSERT_EQ(0, close(fd));

	/* the mapping alone keeps the buffer: reads and writes still work */
	ASSERT_EQ(-1, pattern_check(map, size, 0, 7));
	pattern_fill(map, size, 0, 8);
	ASSERT_EQ(-1, pattern_check(map, size, 0, 8));
	assert_live(&self->base, 1, size);
	ASSERT_EQ(1, test_row_mappings(ino));

	ASSERT_EQ(0, munmap(map, size));
	ASSERT_EQ(-ENOENT, row_read(ino, &row));
	assert_live(&self->base, 0, 0);
}

/* Every holder (fds, dup, mappings) must go before the buffer does. */
TEST_F(lifetime, counters_return_to_baseline)
{
	uint64_t size = 3 * SZ_1M + 1, rounded = page_align(size), ino;
	struct cohbuf_entry row;
	void *map[2];
	int fd, fd2;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_ino(fd, &ino));
	assert_live(&self->base, 1, rounded);
	fd2 = dup(fd);
	ASSERT_LE(0, fd2);
	map[0] = map_shared(fd, rounded, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map[0]);
	map[1] = map_shared(fd, page_size(), PROT_READ, rounded - page_size());
	ASSERT_NE(MAP_FAILED, map[1]);
	ASSERT_EQ(2, test_row_mappings(ino));

	ASSERT_EQ(0, close(fd));
	assert_live(&self->base, 1, rounded);
	ASSERT_EQ(0, munmap(map[0], rounded));
	assert_live(&self->base, 1, rounded);
	ASSERT_EQ(1, test_row_mappings(ino));
	ASSERT_EQ(0, close(fd2));
	assert_live(&self->base, 1, rounded);
	ASSERT_EQ(0, munmap(map[1], page_size()));

	ASSERT_EQ(-ENOENT, row_read(ino, &row));
	assert_live(&self->base, 0, 0);
}

/* Punching a hole splits the mapping; all pieces must still be released. */
TEST_F(lifetime, partial_munmap_releases)
{
	size_t ps = page_size(), size = 8 * ps;
	struct cohbuf_entry row;
	uint64_t ino;
	char *map;
	int fd;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_ino(fd, &ino));
	map = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map);
	pattern_fill(map, size, 0, 9);
	ASSERT_EQ(0, close(fd));

	ASSERT_EQ(0, munmap(map + 3 * ps, 2 * ps));
	ASSERT_EQ(-1, pattern_check(map, 3 * ps, 0, 9));
	ASSERT_EQ(-1, pattern_check(map + 5 * ps, 3 * ps, 5 * ps, 9));
	assert_live(&self->base, 1, size);

	ASSERT_EQ(0, munmap(map, 3 * ps));
	assert_live(&self->base, 1, size);
	ASSERT_EQ(0, munmap(map + 5 * ps, 3 * ps));
	ASSERT_EQ(-ENOENT, row_read(ino, &row));
	assert_live(&self->base, 0, 0);
}

TEST_F(lifetime, debugfs_row)
{
	uint64_t size = SZ_1M + page_size(), ino, min_chunks;
	struct cohbuf_entry row;
	char comm[32] = "";
	void *map[2];
	int fd, cfd;

	cfd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, cfd);
	ASSERT_LT(0, read(cfd, comm, sizeof(comm) - 1));
	close(cfd);
	comm[strcspn(comm, "\n")] = '\0';

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_ino(fd, &ino));
	test_row(ino, &row);
	ASSERT_EQ(ino, row.ino);
	ASSERT_EQ(size, row.size);
	ASSERT_EQ(getpid(), row.pid);
	ASSERT_STREQ(comm, row.comm);
	ASSERT_EQ(0, row.attachments);
	ASSERT_EQ(0, row.mappings);
	/* at least one chunk per 4 MiB, at most one per page */
	min_chunks = (size + SZ_4M - 1) / SZ_4M;
	ASSERT_LE(min_chunks, row.chunks);
	ASSERT_GE(size / page_size(), row.chunks);

	map[0] = map_shared(fd, size, PROT_READ, 0);
	ASSERT_NE(MAP_FAILED, map[0]);
	ASSERT_EQ(1, test_row_mappings(ino));
	map[1] = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map[1]);
	ASSERT_EQ(2, test_row_mappings(ino));
	ASSERT_EQ(0, munmap(map[1], size));
	ASSERT_EQ(1, test_row_mappings(ino));
	ASSERT_EQ(0, munmap(map[0], size));
	ASSERT_EQ(0, test_row_mappings(ino));

	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(-ENOENT, row_read(ino, &row));
}

TEST_F(lifetime, debugfs_row_sixty_four_mib)
{
	struct cohbuf_entry row;
	uint64_t ino;
	int fd;

	fd = cohbuf_alloc(self->dev, SZ_64M, NULL, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_ino(fd, &ino));
	test_row(ino, &row);
	ASSERT_EQ(SZ_64M, row.size);
	ASSERT_LE(SZ_64M / SZ_4M, row.chunks);
	assert_live(&self->base, 1, SZ_64M);
	ASSERT_EQ(0, close(fd));
	assert_live(&self->base, 0, 0);
}

/* A forked child gets its own copy of the mapping, and it is counted. */
TEST_F(lifetime, fork_counts_mapping)
{
	size_t size = 4 * page_size();
	int status, pipefd[2];
	uint64_t ino;
	void *map;
	pid_t pid;
	char c;
	int fd;

	fd = cohbuf_alloc(self->dev, size, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cohbuf_ino(fd, &ino));
	map = map_shared(fd, size, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));

	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* hold the inherited mapping until the parent closes the pipe */
		close(pipefd[1]);
		_exit(read(pipefd[0], &c, 1) == 0 ? 0 : 1);
	}
	close(pipefd[0]);
	EXPECT_EQ(2, test_row_mappings(ino));
	close(pipefd[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(1, test_row_mappings(ino));
	ASSERT_EQ(0, munmap(map, size));
	assert_live(&self->base, 0, 0);
}

/*
 * Module unload: refused while a buffer lives, allowed after; then reload
 * the module (and cohbuf_importer, which depends on it) from the build.
 */
/* Holders of cohbuf other than @allowed, for the skip message; 0 if none. */
static int other_holder(const char *allowed, char *name, size_t len)
{
	struct dirent *de;
	DIR *dir = opendir(MODULE_SYSFS "/holders");
	int found = 0;

	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, allowed))
			continue;
		snprintf(name, len, "%s", de->d_name);
		found = 1;
		break;
	}
	closedir(dir);
	return found;
}

FIXTURE(unload) {
	char cohbuf_ko[PATH_MAX];
	char importer_ko[PATH_MAX];
	char cohbuf_params[1024];
	char importer_params[1024];
	bool cohbuf_unloaded;
	bool importer_unloaded;
};

FIXTURE_SETUP(unload)
{
	const char *build = getenv("COHBUF_BUILD");
	char holder[256];
	int ret;

	if (!build)
		SKIP(return, "COHBUF_BUILD is not set: cannot reload cohbuf.ko after unloading it");
	if (other_holder("cohbuf_importer", holder, sizeof(holder)))
		SKIP(return, "module %s uses cohbuf and is not ours to unload", holder);
	snprintf(self->cohbuf_ko, sizeof(self->cohbuf_ko), "%s/exporter/cohbuf.ko", build);
	snprintf(self->importer_ko, sizeof(self->importer_ko),
		 "%s/importer/cohbuf_importer.ko", build);
	ASSERT_TRUE(module_loaded("cohbuf"));
	ASSERT_EQ(0, access(self->cohbuf_ko, R_OK))
		TH_LOG("%s: %s", self->cohbuf_ko, strerror(errno));
	ASSERT_EQ(0, module_params("cohbuf", self->cohbuf_params,
				   sizeof(self->cohbuf_params)));
	if (module_loaded("cohbuf_importer")) {
		ASSERT_EQ(0, access(self->importer_ko, R_OK))
			TH_LOG("%s: %s", self->importer_ko, strerror(errno));
		ASSERT_EQ(0, module_params("cohbuf_importer", self->importer_params,
					   sizeof(self->importer_params)));
		ret = module_unload("cohbuf_importer");
		ASSERT_EQ(0, ret) TH_LOG("unloading cohbuf_importer: %s", strerror(-ret));
		self->importer_unloaded = true;
	}
}

/*
 * Whatever happened in the test, put both modules back. This runs in the
 * harness's parent process once the test process, and with it every fd
 * and mapping it held, is gone.
 */
FIXTURE_TEARDOWN_PARENT(unload)
{
	int ret;

	if (self->cohbuf_unloaded && !module_loaded("cohbuf")) {
		ret = module_load(self->cohbuf_ko, self->cohbuf_params);
		EXPECT_EQ(0, ret) TH_LOG("reloading %s \"%s\": %s", self->cohbuf_ko,
					 self->cohbuf_params, strerror(-ret));
	}
	if (self->importer_unloaded && !module_loaded("cohbuf_importer")) {
		ret = module_load(self->importer_ko, self->importer_params);
		EXPECT_EQ(0, ret) TH_LOG("reloading %s \"%s\": %s", self->importer_ko,
					 self->importer_params, strerror(-ret));
	}
}

TEST_F_TIMEOUT(unload, busy_while_buffer_lives, 60)
{
	int dev, fd, ret;
	void *map;

	dev = test_open();
	fd = cohbuf_alloc(dev, SZ_1M, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	map = map_shared(fd, SZ_1M, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, close(dev));

	/* the fd and the mapping each pin the module */
	ret = module_unload("cohbuf");
	self->cohbuf_unloaded = !ret;
	ASSERT_TRUE(ret == -EBUSY || ret == -EAGAIN) TH_LOG("rmmod: %d", ret);
	ASSERT_EQ(0, close(fd));
	ret = module_unload("cohbuf");
	self->cohbuf_unloaded = !ret;
	ASSERT_TRUE(ret == -EBUSY || ret == -EAGAIN) TH_LOG("rmmod: %d", ret);
	ASSERT_TRUE(module_loaded("cohbuf"));
	pattern_fill(map, SZ_1M, 0, 3);
	ASSERT_EQ(-1, pattern_check(map, SZ_1M, 0, 3));

	/* the last user is gone: now it unloads */
	ASSERT_EQ(0, munmap(map, SZ_1M));
	ret = module_unload("cohbuf");
	self->cohbuf_unloaded = !ret;
	ASSERT_EQ(0, ret) TH_LOG("unloading cohbuf: %s", strerror(-ret));
	ASSERT_FALSE(module_loaded("cohbuf"));

	/* and comes back from the build, usable */
	ret = module_load(self->cohbuf_ko, self->cohbuf_params);
	ASSERT_EQ(0, ret) TH_LOG("reloading %s \"%s\": %s", self->cohbuf_ko,
				 self->cohbuf_params, strerror(-ret));
	dev = test_open();
	fd = cohbuf_alloc(dev, SZ_1M, NULL, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ((off_t)SZ_1M, lseek(fd, 0, SEEK_END));
	close(fd);
	close(dev);
}

TEST_HARNESS_MAIN
