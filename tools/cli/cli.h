/* SPDX-License-Identifier: GPL-2.0 */
/* The cohbuf command: what its subcommands share. */
#ifndef COHBUF_CLI_H
#define COHBUF_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "libcohbuf.h"

/* Exit statuses: success, failure, bad usage. */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

/* What `cohbuf alloc --serve` sends with the fd, and `cohbuf get` checks. */
#define CLI_HELLO_MAGIC	"cohbuf1"

struct cli_hello {
	char magic[8];
	uint64_t size;
	uint64_t ino;
	char name[32];
};

/* A buffer received from `cohbuf alloc --serve`. */
struct cli_buffer {
	int fd;
	struct cli_hello hello;
};

/* Each subcommand: argc/argv start at the subcommand's name. */
int cmd_alloc(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_fence(int argc, char **argv);
int cmd_heap(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* "cohbuf: WHAT: strerror(err)" on stderr; returns EXIT_FAIL. */
int fail(const char *what, int err);
/* "cohbuf: MESSAGE" and the usage hint on stderr; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "4096", "32M", "1G", "4KiB": 0, or -EINVAL / -ERANGE. */
int parse_size(const char *text, uint64_t *size);
/* "32M" style for tables: at most 3 significant digits and a unit. */
void format_size(uint64_t size, char *buf, size_t len);

/* COHBUF_ALLOC_* flags as "contiguous,dma32", or "none". */
void format_flags(uint32_t flags, char *buf, size_t len);

/* @s as a JSON string on stdout: quotes, backslashes, controls escaped. */
void json_print_string(const char *s);

/* Listen on / connect to the unix socket @path: a socket fd, or -errno. */
int listen_unix(const char *path);
int connect_unix(const char *path);

/* A cohbuf dma-buf fd held by a process, as /proc/PID/fdinfo shows it. */
struct cli_fd {
	uint64_t ino;
	uint64_t size;
	int pid;
	int fd;
	char comm[16];
	char name[33];
};

/*
 * Every cohbuf fd in the processes whose fdinfo we may read: a malloc'ed
 * array in @fds (NULL when there are none) and its length, or -errno.
 */
int cli_fdinfo_list(struct cli_fd **fds);

/* Connect to @path and receive its buffer, checked against its hello. */
int receive_buffer(const char *path, struct cli_buffer *buf);

#endif /* COHBUF_CLI_H */
