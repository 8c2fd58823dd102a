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
	struct test_buf b;

	test_buf_alloc(&b, self->dev, size, O_RDWR, PROT_READ | PROT_WRITE);
	pattern_fill(b.map, size, 0, 7);
	ASSERT_EQ(0, close(b.fd));

	/* the mapping alone keeps the buffer: reads and writes still work */
	ASSERT_EQ(-1, pattern_check(b.map, size, 0, 7));
	pattern_fill(b.map, size, 0, 8);
	ASSERT_EQ(-1, pattern_check(b.map, size, 0, 8));
	assert_live(&self->base, 1, size);
	ASSERT_EQ(1, test_row_mappings(b.ino));

	ASSERT_EQ(0, munmap(b.map, size));
	assert_no_row(b.ino);
	assert_live(&self->base, 0, 0);
}

/* Every holder (fds, dup, mappings) must go before the buffer does. */
TEST_F(lifetime, counters_return_to_baseline)
{
	size_t ps = page_size();
	struct test_buf b;
	void *map[2];
	int fd2;

	test_buf_alloc(&b, self->dev, 3 * SZ_1M + 1, O_RDWR, PROT_NONE);
	assert_live(&self->base, 1, b.size);
	fd2 = dup(b.fd);
	ASSERT_LE(0, fd2);
	map[0] = test_map(b.fd, b.size, PROT_READ | PROT_WRITE, 0);
	map[1] = test_map(b.fd, ps, PROT_READ, b.size - ps);
	ASSERT_EQ(2, test_row_mappings(b.ino));

	ASSERT_EQ(0, close(b.fd));
	assert_live(&self->base, 1, b.size);
	ASSERT_EQ(0, munmap(map[0], b.size));
	assert_live(&self->base, 1, b.size);
	ASSERT_EQ(1, test_row_mappings(b.ino));
	ASSERT_EQ(0, close(fd2));
	assert_live(&self->base, 1, b.size);
	ASSERT_EQ(0, munmap(map[1], ps));

	assert_no_row(b.ino);
	assert_live(&self->base, 0, 0);
}

/* Punching a hole splits the mapping; all pieces must still be released. */
TEST_F(lifetime, partial_munmap_releases)
{
	size_t ps = page_size(), size = 8 * ps;
	struct test_buf b;
	char *map;

	test_buf_alloc(&b, self->dev, size, O_RDWR, PROT_READ | PROT_WRITE);
	map = b.map;
	pattern_fill(map, size, 0, 9);
	ASSERT_EQ(0, close(b.fd));

	ASSERT_EQ(0, munmap(map + 3 * ps, 2 * ps));
	ASSERT_EQ(-1, pattern_check(map, 3 * ps, 0, 9));
	ASSERT_EQ(-1, pattern_check(map + 5 * ps, 3 * ps, 5 * ps, 9));
	assert_live(&self->base, 1, size);

	ASSERT_EQ(0, munmap(map, 3 * ps));
	assert_live(&self->base, 1, size);
	ASSERT_EQ(0, munmap(map + 5 * ps, 3 * ps));
	assert_no_row(b.ino);
	assert_live(&self->base, 0, 0);
}

TEST_F(lifetime, debugfs_row)
{
	uint64_t size = SZ_1M + page_size(), min_chunks;
	struct cohbuf_entry row;
	char comm[32] = "";
	struct test_buf b;
	void *map[2];
	int cfd;

	cfd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, cfd);
	ASSERT_LT(0, read(cfd, comm, sizeof(comm) - 1));
	close(cfd);
	comm[strcspn(comm, "\n")] = '\0';

	test_buf_alloc(&b, self->dev, size, O_RDWR, PROT_NONE);
	test_row(b.ino, &row);
	ASSERT_EQ(b.ino, row.ino);
	ASSERT_EQ(size, row.size);
	ASSERT_EQ(getpid(), row.pid);
	ASSERT_STREQ(comm, row.comm);
	ASSERT_EQ(0, row.attachments);
	ASSERT_EQ(0, row.mappings);
	/* at least one chunk per 4 MiB, at most one per page */
	min_chunks = (size + SZ_4M - 1) / SZ_4M;
	ASSERT_LE(min_chunks, row.chunks);
	ASSERT_GE(size / page_size(), row.chunks);

	map[0] = test_map(b.fd, size, PROT_READ, 0);
	ASSERT_EQ(1, test_row_mappings(b.ino));
	map[1] = test_map(b.fd, size, PROT_READ | PROT_WRITE, 0);
	ASSERT_EQ(2, test_row_mappings(b.ino));
	ASSERT_EQ(0, munmap(map[1], size));
	ASSERT_EQ(1, test_row_mappings(b.ino));
	ASSERT_EQ(0, munmap(map[0], size));
	ASSERT_EQ(0, test_row_mappings(b.ino));

	ASSERT_EQ(0, close(b.fd));
	assert_no_row(b.ino);
}

TEST_F(lifetime, debugfs_row_sixty_four_mib)
{
	struct cohbuf_entry row;
	struct test_buf b;

	test_buf_alloc(&b, self->dev, SZ_64M, O_RDWR, PROT_NONE);
	test_row(b.ino, &row);
	ASSERT_EQ(SZ_64M, row.size);
	ASSERT_LE(SZ_64M / SZ_4M, row.chunks);
	assert_live(&self->base, 1, SZ_64M);
	ASSERT_EQ(0, close(b.fd));
	assert_live(&self->base, 0, 0);
}

/* A forked child gets its own copy of the mapping, and it is counted. */
TEST_F(lifetime, fork_counts_mapping)
{
	size_t size = 4 * page_size();
	struct test_buf b;
	int pipefd[2];
	pid_t pid;
	char c;

	test_buf_alloc(&b, self->dev, size, O_RDWR | O_CLOEXEC, PROT_READ | PROT_WRITE);
	ASSERT_EQ(0, close(b.fd));
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));

	pid = test_fork();
	if (pid == 0) {
		/* hold the inherited mapping until the parent closes the pipe */
		close(pipefd[1]);
		_exit(read(pipefd[0], &c, 1) == 0 ? 0 : 1);
	}
	close(pipefd[0]);
	EXPECT_EQ(2, test_row_mappings(b.ino));
	close(pipefd[1]);
	assert_child_ok(pid);
	ASSERT_EQ(1, test_row_mappings(b.ino));
	ASSERT_EQ(0, munmap(b.map, size));
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
	struct module_ko cohbuf;
	struct module_ko importer;
};

FIXTURE_SETUP(unload)
{
	const char *build = getenv("COHBUF_BUILD");
	char holder[256];
	int ret;

	if (!build)
		SKIP(return, "COHBUF_BUILD is not set: cannot reload cohbuf.ko after unloading it");
	if (other_holder(IMP_MODULE, holder, sizeof(holder)))
		SKIP(return, "module %s uses cohbuf and is not ours to unload", holder);
	ASSERT_TRUE(module_loaded("cohbuf"));
	test_ko_find(&self->cohbuf, build, "cohbuf", "exporter/cohbuf.ko");
	if (module_loaded(IMP_MODULE)) {
		test_ko_find(&self->importer, build, IMP_MODULE, "importer/cohbuf_importer.ko");
		ret = ko_unload(&self->importer);
		ASSERT_EQ(0, ret) TH_LOG("unloading %s: %s", IMP_MODULE, strerror(-ret));
	}
}

/*
 * Whatever happened in the test, put both modules back. This runs in the
 * harness's parent process once the test process, and with it every fd
 * and mapping it held, is gone.
 */
FIXTURE_TEARDOWN_PARENT(unload)
{
	expect_ko_reloaded(&self->cohbuf);
	expect_ko_reloaded(&self->importer);
}

TEST_F_TIMEOUT(unload, busy_while_buffer_lives, 60)
{
	int dev, fd, ret;
	void *map;

	dev = test_open();
	fd = test_alloc(dev, SZ_1M, O_RDWR | O_CLOEXEC);
	map = test_map(fd, SZ_1M, PROT_READ | PROT_WRITE, 0);
	ASSERT_EQ(0, close(dev));

	/* the fd and the mapping each pin the module */
	ret = ko_unload(&self->cohbuf);
	ASSERT_TRUE(ret == -EBUSY || ret == -EAGAIN) TH_LOG("rmmod: %d", ret);
	ASSERT_EQ(0, close(fd));
	ret = ko_unload(&self->cohbuf);
	ASSERT_TRUE(ret == -EBUSY || ret == -EAGAIN) TH_LOG("rmmod: %d", ret);
	ASSERT_TRUE(module_loaded("cohbuf"));
	pattern_fill(map, SZ_1M, 0, 3);
	ASSERT_EQ(-1, pattern_check(map, SZ_1M, 0, 3));

	/* the last user is gone: now it unloads */
	ASSERT_EQ(0, munmap(map, SZ_1M));
	ret = ko_unload(&self->cohbuf);
	ASSERT_EQ(0, ret) TH_LOG("unloading cohbuf: %s", strerror(-ret));
	ASSERT_FALSE(module_loaded("cohbuf"));

	/* and comes back from the build, usable */
	ret = ko_reload(&self->cohbuf);
	ASSERT_EQ(0, ret) TH_LOG("reloading %s \"%s\": %s", self->cohbuf.path,
				 self->cohbuf.params, strerror(-ret));
	dev = test_open();
	fd = test_alloc(dev, SZ_1M, O_RDWR | O_CLOEXEC);
	ASSERT_EQ((off_t)SZ_1M, lseek(fd, 0, SEEK_END));
}

TEST_HARNESS_MAIN
