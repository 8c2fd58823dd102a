// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf heap [list | link | unlink]: the cohbuf heap nodes and their links
 * in /dev/dma_heap, for systems without udev (containers, the test guest).
 * docs/heaps.md explains the names.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define DEV_DIR		"/dev"
#define HEAP_DIR	DEV_DIR "/dma_heap"
#define NODE_PREFIX	"cohbuf-heap-"
/* A link's target, relative as udev makes it: ../cohbuf-heap-NAME. */
#define LINK_PREFIX	"../" NODE_PREFIX

static const char heap_usage[] =
	"Usage: cohbuf heap [list]\n"
	"       cohbuf heap link [NAME [--as ALIAS]]\n"
	"       cohbuf heap unlink [NAME...]\n"
	"\n"
	"cohbuf answers the dma-heap ioctl on one node per allocation policy,\n"
	DEV_DIR "/" NODE_PREFIX "NAME. Heap clients look in " HEAP_DIR ":\n"
	"\n"
	"  list     the heap nodes, and the name each has in " HEAP_DIR "\n"
	"  link     link " HEAP_DIR "/NAME to each node (or to NAME's only);\n"
	"           --as ALIAS links ALIAS instead, e.g. --as linux,cma for a\n"
	"           client that only looks for that name. An existing entry\n"
	"           (a kernel heap) is never replaced: that fails\n"
	"  unlink   remove the links to cohbuf nodes: all, or those named by\n"
	"           node or by link (ALIAS)\n"
	"\n"
	"Needs root where udev does this (the opt-in rule 72-cohbuf-dma-heap.rules).\n"
	"See docs/heaps.md.\n";

/* A heap name: one path component. */
static bool valid_name(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..") && strlen(name) < NAME_MAX;
}

static bool is_node(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), DEV_DIR "/" NODE_PREFIX "%s", name);
	return !stat(path, &st) && S_ISCHR(st.st_mode);
}

/* The node @entry in /dev/dma_heap links to, or NULL if not a cohbuf one. */
static const char *link_node(const char *entry, char *target, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), HEAP_DIR "/%s", entry);
	n = readlink(path, target, len - 1);
	if (n < 0)
		return NULL;
	target[n] = '\0';
	if (strncmp(target, LINK_PREFIX, strlen(LINK_PREFIX)))
		return NULL;
	return target + strlen(LINK_PREFIX);
}

/*
 * Call @fn for each heap node's NAME, in /dev's order: EXIT_FAIL if any
 * call failed or there is no node.
 */
static int for_each_node(int (*fn)(const char *name))
{
	int ret = EXIT_OK, nodes = 0;
	struct dirent *d;
	DIR *dir;

	dir = opendir(DEV_DIR);
	if (!dir)
		return fail(DEV_DIR, errno);
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, NODE_PREFIX, strlen(NODE_PREFIX)) ||
		    !is_node(d->d_name + strlen(NODE_PREFIX)))
			continue;
		nodes++;
		if (fn(d->d_name + strlen(NODE_PREFIX)) != EXIT_OK)
			ret = EXIT_FAIL;
	}
	closedir(dir);
	if (!nodes) {
		fputs("cohbuf: no " DEV_DIR "/" NODE_PREFIX "* node (is cohbuf loaded?)\n",
		      stderr);
		return EXIT_FAIL;
	}
	return ret;
}

static int list_one(const char *name)
{
	char target[PATH_MAX];
	const char *node;
	bool linked = false;
	struct dirent *d;
	DIR *dir;

	printf("%-28s " DEV_DIR "/" NODE_PREFIX "%s", name, name);
	dir = opendir(HEAP_DIR);
	while (dir && (d = readdir(dir))) {
		node = link_node(d->d_name, target, sizeof(target));
		if (node && !strcmp(node, name)) {
			printf("%s" HEAP_DIR "/%s", linked ? ", " : "  <- ",
			       d->d_name);
			linked = true;
		}
	}
	if (dir)
		closedir(dir);
	putchar('\n');
	return 0;
}

/* /dev/dma_heap/@alias -> ../cohbuf-heap-@name, or already so. */
static int link_as(const char *name, const char *alias)
{
	char path[PATH_MAX], target[PATH_MAX], have[PATH_MAX];
	const char *node;

	if (!is_node(name)) {
		fprintf(stderr, "cohbuf: " DEV_DIR "/" NODE_PREFIX "%s: no such heap node\n",
			name);
		return EXIT_FAIL;
	}
	if (mkdir(HEAP_DIR, 0755) && errno != EEXIST)
		return fail(HEAP_DIR, errno);
	snprintf(path, sizeof(path), HEAP_DIR "/%s", alias);
	snprintf(target, sizeof(target), LINK_PREFIX "%s", name);
	if (!symlink(target, path))
		return EXIT_OK;
	if (errno != EEXIST)
		return fail(path, errno);
	node = link_node(alias, have, sizeof(have));
	if (node && !strcmp(node, name))
		return EXIT_OK;
	fprintf(stderr, "cohbuf: %s exists (%s): not replaced\n", path,
		node ? "another cohbuf heap" : "a kernel heap or another link");
	return EXIT_FAIL;
}

static int link_one(const char *name)
{
	return link_as(name, name);
}

static int cmd_link(int argc, char **argv)
{
	const char *name = NULL, *alias = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--as") && i + 1 < argc)
			alias = argv[++i];
		else if (!name && argv[i][0] != '-')
			name = argv[i];
		else
			return usage_error("heap", "unexpected argument '%s'", argv[i]);
	}
	if (alias && !name)
		return usage_error("heap", "--as needs the NAME of a heap");
	if ((name && !valid_name(name)) || (alias && !valid_name(alias)))
		return usage_error("heap", "a heap name is one path component");
	if (!name)
		return for_each_node(link_one);
	return link_as(name, alias ? alias : name);
}

/* Whether @name is one of the @n names, or there are none. */
static bool named(const char *name, int n, char **names)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(name, names[i]))
			return true;
	return !n;
}

static int cmd_unlink(int argc, char **argv)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *node;
	int ret = EXIT_OK;
	struct dirent *d;
	DIR *dir;

	dir = opendir(HEAP_DIR);
	if (!dir)
		return errno == ENOENT ? EXIT_OK : fail(HEAP_DIR, errno);
	while ((d = readdir(dir))) {
		node = link_node(d->d_name, target, sizeof(target));
		if (!node || !(named(node, argc - 1, argv + 1) ||
			       named(d->d_name, argc - 1, argv + 1)))
			continue;
		snprintf(path, sizeof(path), HEAP_DIR "/%s", d->d_name);
		if (unlink(path))
			ret = fail(path, errno);
	}
	closedir(dir);
	/* Gone only if it is empty: then no kernel heap is in it. */
	rmdir(HEAP_DIR);
	return ret;
}

int cmd_heap(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "list";

	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		fputs(heap_usage, stdout);
		return EXIT_OK;
	}
	if (!strcmp(sub, "list") && argc <= 2)
		return for_each_node(list_one);
	if (!strcmp(sub, "link"))
		return cmd_link(argc - 1, argv + 1);
	if (!strcmp(sub, "unlink"))
		return cmd_unlink(argc - 1, argv + 1);
	return usage_error("heap", "unknown heap command '%s'", sub);
}
