// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf get SOCKET [--verify | --fill PATTERN | --hexdump RANGE]
 * cohbuf import SOCKET
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"

static const char get_usage[] =
	"Usage: cohbuf get SOCKET [--verify | --fill PATTERN | --hexdump RANGE]\n"
	"\n"
	"Receive the buffer served on SOCKET by 'cohbuf alloc', map it and print\n"
	"its inode, size, name and CRC-32.\n"
	"\n"
	"  -v, --verify          check that it is the buffer the server announced,\n"
	"                        read all of it and say whether it holds one\n"
	"                        repeated 32-bit word\n"
	"  -f, --fill PATTERN    store the 32-bit PATTERN (e.g. 0xcafef00d) in every\n"
	"                        word, in native byte order\n"
	"  -x, --hexdump RANGE   dump OFFSET[+LENGTH] (default length 256), e.g. 4K+64\n"
	"  -h, --help            show this help\n";

static const char import_usage[] =
	"Usage: cohbuf import SOCKET\n"
	"\n"
	"Receive the buffer served on SOCKET, attach it to /dev/cohbuf_importer\n"
	"(the test importer module, cohbuf_importer) as a device driver would, and\n"
	"print the number of DMA segments and the CRC-32 the importer reads\n"
	"through its kernel mapping.\n";

enum get_mode { GET_INFO, GET_VERIFY, GET_FILL, GET_HEXDUMP };

struct get_opts {
	enum get_mode mode;
	const char *socket;
	uint32_t pattern;
	uint64_t offset;
	uint64_t length;
};

#define HEXDUMP_DEFAULT 256

static int parse_range(const char *text, struct get_opts *o)
{
	char buf[64], *plus;

	snprintf(buf, sizeof(buf), "%s", text);
	o->length = HEXDUMP_DEFAULT;
	plus = strchr(buf, '+');
	if (plus) {
		*plus = '\0';
		if (parse_size(plus + 1, &o->length) || !o->length)
			return -EINVAL;
	}
	return parse_size(buf, &o->offset);
}

static int parse_pattern(const char *text, uint32_t *pattern)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno || *end || end == text || *text == '-' || v > UINT32_MAX)
		return -EINVAL;
	*pattern = (uint32_t)v;
	return 0;
}

static int set_mode(struct get_opts *o, enum get_mode mode)
{
	if (o->mode != GET_INFO)
		return usage_error("get", "--verify, --fill and --hexdump exclude each other");
	o->mode = mode;
	return 0;
}

static int parse_get(int argc, char **argv, struct get_opts *o)
{
	static const struct option longopts[] = {
		{ "verify", no_argument, NULL, 'v' },
		{ "fill", required_argument, NULL, 'f' },
		{ "hexdump", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret = 0;

	*o = (struct get_opts){ .mode = GET_INFO };
	while (!ret && (c = getopt_long(argc, argv, "vf:x:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			ret = set_mode(o, GET_VERIFY);
			break;
		case 'f':
			ret = set_mode(o, GET_FILL);
			if (!ret && parse_pattern(optarg, &o->pattern))
				ret = usage_error("get", "bad PATTERN '%s' (a 32-bit number, e.g. 0xcafef00d)", optarg);
			break;
		case 'x':
			ret = set_mode(o, GET_HEXDUMP);
			if (!ret && parse_range(optarg, o))
				ret = usage_error("get", "bad RANGE '%s' (OFFSET[+LENGTH], e.g. 4K+64)", optarg);
			break;
		case 'h':
			fputs(get_usage, stdout);
			exit(EXIT_OK);
		default:
			ret = usage_error("get", "bad option");
		}
	}
	if (ret)
		return ret;
	if (optind + 1 != argc)
		return usage_error("get", "expected one SOCKET");
	o->socket = argv[optind];
	return EXIT_OK;
}

/* Map @len bytes from @off with @access between begin and end CPU access. */
struct view {
	int fd;
	unsigned int access;
	void *map;
	size_t len;
};

static int view_open(struct view *v, int fd, uint64_t off, size_t len,
		     unsigned int access)
{
	int prot = (access & COHBUF_ACCESS_WRITE) ? PROT_READ | PROT_WRITE :
						     PROT_READ;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	int ret;

	*v = (struct view){ .fd = fd, .access = access, .len = len };
	ret = cohbuf_map(fd, off & ~(page - 1), len + (off & (page - 1)), prot,
			 &v->map);
	if (ret)
		return ret;
	ret = cohbuf_begin_cpu_access(fd, access);
	if (ret)
		cohbuf_unmap(v->map, len + (off & (page - 1)));
	v->map = (char *)v->map + (off & (page - 1));
	return ret;
}

static int view_close(struct view *v)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uintptr_t lead = (uintptr_t)v->map & (page - 1);
	int ret = cohbuf_end_cpu_access(v->fd, v->access);
	int ret2 = cohbuf_unmap((char *)v->map - lead, v->len + lead);

	return ret ? ret : ret2;
}

static void print_info(const struct cli_buffer *b, uint32_t crc)
{
	char human[16];

	format_size(b->hello.size, human, sizeof(human));
	printf("inode %" PRIu64 ", %s (%" PRIu64 " bytes)%s%s%s, crc32 %08x\n",
	       b->hello.ino, human, b->hello.size,
	       b->hello.name[0] ? ", name '" : "", b->hello.name,
	       b->hello.name[0] ? "'" : "", crc);
}

/* The word every 32-bit word of the buffer holds, if they are all equal. */
static bool uniform_word(const uint32_t *w, size_t len, uint32_t *word)
{
	for (size_t i = 1; i < len / sizeof(*w); i++)
		if (w[i] != w[0])
			return false;
	*word = w[0];
	return true;
}

static int get_read(const struct cli_buffer *b, bool verify)
{
	struct view v;
	uint32_t crc, word;
	int ret;

	ret = view_open(&v, b->fd, 0, b->hello.size, COHBUF_ACCESS_READ);
	if (ret)
		return fail("map", -ret);
	crc = cohbuf_crc32(0, v.map, v.len);
	print_info(b, crc);
	if (verify) {
		if (uniform_word(v.map, v.len, &word))
			printf("verified: the buffer served is the one received, every word is 0x%08x\n",
			       word);
		else
			printf("verified: the buffer served is the one received, its words differ\n");
	}
	ret = view_close(&v);
	return ret ? fail("unmap", -ret) : EXIT_OK;
}

static int get_fill(const struct cli_buffer *b, uint32_t pattern)
{
	struct view v;
	uint32_t *w;
	int ret;

	ret = view_open(&v, b->fd, 0, b->hello.size, COHBUF_ACCESS_WRITE);
	if (ret == -EACCES)
		return fail("map writable (the buffer is read-only)", -ret);
	if (ret)
		return fail("map", -ret);
	w = v.map;
	for (size_t i = 0; i < v.len / sizeof(*w); i++)
		w[i] = pattern;
	print_info(b, cohbuf_crc32(0, v.map, v.len));
	printf("filled: every word is now 0x%08x\n", pattern);
	ret = view_close(&v);
	return ret ? fail("unmap", -ret) : EXIT_OK;
}

/* hexdump -C style: offset, 16 bytes in hex, the printable ones. */
static void hexdump(const uint8_t *p, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i += 16) {
		size_t n = len - i;

		if (n > 16)
			n = 16;

		printf("%08" PRIx64 " ", off + i);
		for (size_t j = 0; j < 16; j++) {
			if (j % 8 == 0)
				putchar(' ');
			if (j < n)
				printf("%02x ", p[i + j]);
			else
				fputs("   ", stdout);
		}
		fputs(" |", stdout);
		for (size_t j = 0; j < n; j++)
			putchar(isprint(p[i + j]) ? p[i + j] : '.');
		puts("|");
	}
}

static int get_hexdump(const struct cli_buffer *b, uint64_t off, uint64_t len)
{
	struct view v;
	int ret;

	if (off >= b->hello.size)
		return fail("--hexdump OFFSET is beyond the buffer", ERANGE);
	if (len > b->hello.size - off)
		len = b->hello.size - off;
	ret = view_open(&v, b->fd, off, len, COHBUF_ACCESS_READ);
	if (ret)
		return fail("map", -ret);
	hexdump(v.map, off, v.len);
	ret = view_close(&v);
	return ret ? fail("unmap", -ret) : EXIT_OK;
}

int cmd_get(int argc, char **argv)
{
	struct cli_buffer b;
	struct get_opts o;
	int ret;

	ret = parse_get(argc, argv, &o);
	if (ret)
		return ret;
	ret = receive_buffer(o.socket, &b);
	if (ret)
		return fail(o.socket, -ret);
	switch (o.mode) {
	case GET_FILL:
		ret = get_fill(&b, o.pattern);
		break;
	case GET_HEXDUMP:
		ret = get_hexdump(&b, o.offset, o.length);
		break;
	default:
		ret = get_read(&b, o.mode == GET_VERIFY);
	}
	close(b.fd);
	return ret;
}

static int import_buffer(int imp, const struct cli_buffer *b)
{
	struct cohbuf_imp_attach att;
	uint32_t crc;
	int ret;

	ret = cohbuf_importer_attach(imp, b->fd, &att);
	if (ret)
		return fail("attach to " COHBUF_IMPORTER_DEVICE, -ret);
	ret = cohbuf_importer_crc32(imp, att.handle, 0, att.size, &crc);
	if (ret) {
		cohbuf_importer_detach(imp, att.handle);
		return fail("importer CRC-32", -ret);
	}
	printf("importer: attached inode %" PRIu64 " (%" PRIu64
	       " bytes) as handle %u, %u DMA segment%s, crc32 %08x\n",
	       b->hello.ino, (uint64_t)att.size, att.handle, att.nents,
	       att.nents == 1 ? "" : "s", crc);
	ret = cohbuf_importer_detach(imp, att.handle);
	return ret ? fail("detach", -ret) : EXIT_OK;
}

int cmd_import(int argc, char **argv)
{
	struct cli_buffer b;
	int imp, ret;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(import_usage, stdout);
		return EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '-')
		return usage_error("import", "expected one SOCKET");
	imp = cohbuf_importer_open();
	if (imp == -ENOENT)
		return fail(COHBUF_IMPORTER_DEVICE " (load cohbuf_importer.ko)", -imp);
	if (imp < 0)
		return fail(COHBUF_IMPORTER_DEVICE, -imp);
	ret = receive_buffer(argv[1], &b);
	if (ret) {
		close(imp);
		return fail(argv[1], -ret);
	}
	ret = import_buffer(imp, &b);
	close(b.fd);
	close(imp);
	return ret;
}
