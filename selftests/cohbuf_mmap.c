// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf user mappings: windows at an offset, bounds, MAP_PRIVATE, mremap,
 * read-only buffers, the VM_PFNMAP mapping's flags and what it refuses
 * (MADV_DONTNEED, every get_user_pages() user), and its 2 MiB entries.
 */
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cohbuf_harness.h"

#define NPAGES	16

/* A 16-page read-write buffer, filled with pattern 1 through a full mapping. */
FIXTURE(mmap) {
	int dev;
	size_t ps;
	struct test_buf buf;
};

FIXTURE_SETUP(mmap)
{
	self->ps = page_size();
	self->dev = test_open();
	test_buf_alloc(&self->buf, self->dev, NPAGES * self->ps, O_RDWR | O_CLOEXEC,
		       PROT_READ | PROT_WRITE);
	pattern_fill(self->buf.map, self->buf.size, 0, 1);
}

FIXTURE_TEARDOWN(mmap)
{
	buf_free(&self->buf);
	close(self->dev);
}

TEST_F(mmap, partial_map_at_offset)
{
	size_t off = 5 * self->ps, len = 3 * self->ps, size = self->buf.size;
	char *full = self->buf.map;
	char *win = test_map(self->buf.fd, len, PROT_READ | PROT_WRITE, off);

	/* the window sees the buffer's bytes at its offset */
	ASSERT_EQ(-1, pattern_check(win, len, off, 1));
	/* and writes through it land there in the full mapping */
	pattern_fill(win, len, off, 2);
	ASSERT_EQ(-1, pattern_check(full + off, len, off, 2));
	ASSERT_EQ(-1, pattern_check(full, off, 0, 1));
	ASSERT_EQ(-1, pattern_check(full + off + len, size - off - len, off + len, 1));
	ASSERT_EQ(0, munmap(win, len));
}

TEST_F(mmap, partial_map_last_page)
{
	size_t off = self->buf.size - self->ps;
	void *win = test_map(self->buf.fd, self->ps, PROT_READ, off);

	ASSERT_EQ(-1, pattern_check(win, self->ps, off, 1));
	ASSERT_EQ(0, munmap(win, self->ps));
}

/* CVE-2023-2008: growing the mapping must not expose memory past the buffer. */
TEST_F(mmap, mremap_grow_fails)
{
	void *p;

	p = mremap(self->buf.map, self->buf.size, 2 * self->buf.size, MREMAP_MAYMOVE);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EFAULT, errno);
	/* the original mapping is untouched */
	ASSERT_EQ(-1, pattern_check(self->buf.map, self->buf.size, 0, 1));
}

TEST_F(mmap, mremap_grow_in_place_fails)
{
	size_t half = self->buf.size / 2;
	void *win, *p;

	/* a half-size window has room to grow inside the buffer's bounds */
	win = test_map(self->buf.fd, half, PROT_READ, 0);
	p = mremap(win, half, self->buf.size, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, pattern_check(win, half, 0, 1));
	ASSERT_EQ(0, munmap(win, half));
}

TEST_F(mmap, mremap_move_keeps_data)
{
	void *p;

	p = mremap(self->buf.map, self->buf.size, self->buf.size, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, p);
	self->buf.map = p;
	ASSERT_EQ(-1, pattern_check(self->buf.map, self->buf.size, 0, 1));
}

/*
 * Mappings a 16-page buffer refuses, with EINVAL, or EACCES when they ask
 * to write an O_RDONLY buffer; nothing is mapped. Offset and length are in
 * pages; mappings are MAP_SHARED unless private.
 */
FIXTURE_VARIANT(bad_map) {
	off_t first;
	size_t pages;
	int prot;
	bool private;
	bool rdonly;
};

BUF_FIXTURE(bad_map, NPAGES * page_size(), variant->rdonly ? O_RDONLY : O_RDWR, PROT_NONE)

FIXTURE_VARIANT_ADD(bad_map, longer_than_buffer) { .pages = NPAGES + 1, .prot = PROT_READ };
FIXTURE_VARIANT_ADD(bad_map, at_end) { .first = NPAGES, .pages = 1, .prot = PROT_READ };
FIXTURE_VARIANT_ADD(bad_map, straddling_end) {
	.first = NPAGES - 1, .pages = 2, .prot = PROT_READ,
};
/* 2^62 bytes: far beyond the buffer, with no overflow in the VM's own checks */
FIXTURE_VARIANT_ADD(bad_map, huge_offset) {
	.first = (off_t)1 << 50, .pages = 1, .prot = PROT_READ,
};
FIXTURE_VARIANT_ADD(bad_map, private) {
	.pages = NPAGES, .prot = PROT_READ | PROT_WRITE, .private = true,
};
FIXTURE_VARIANT_ADD(bad_map, private_readonly) {
	.private = true, .pages = NPAGES, .prot = PROT_READ,
};
FIXTURE_VARIANT_ADD(bad_map, rdonly_read_write) {
	.rdonly = true, .pages = NPAGES, .prot = PROT_READ | PROT_WRITE,
};
FIXTURE_VARIANT_ADD(bad_map, rdonly_write) { .rdonly = true, .pages = NPAGES, .prot = PROT_WRITE };

TEST_F(bad_map, refused)
{
	size_t ps = page_size();
	void *p;

	p = mmap(NULL, variant->pages * ps, variant->prot,
		 variant->private ? MAP_PRIVATE : MAP_SHARED, self->buf.fd,
		 variant->first * ps);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(variant->rdonly ? EACCES : EINVAL, errno);
	ASSERT_EQ(0, test_row_mappings(self->buf.ino));
}

/* An O_RDONLY buffer: readable, and it stays read-only. */
BUF_FIXTURE(rdonly, 4 * page_size(), O_RDONLY | O_CLOEXEC, PROT_READ)

TEST_F(rdonly, read_map_works)
{
	ASSERT_EQ(-1, bytes_check(self->buf.map, self->buf.size, 0));
}

TEST_F(rdonly, mprotect_write_fails)
{
	ASSERT_EQ(-1, mprotect(self->buf.map, self->buf.size, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
}

/* ---- the VM_PFNMAP mapping ---- */

/*
 * The VmFlags line of the /proc/self/smaps entry that starts at @addr, into
 * @flags: 0, or -ENOENT.
 */
static int smaps_vmflags(const void *addr, char *flags, size_t len)
{
	char head[32], *line = NULL;
	size_t cap = 0;
	bool found = false;
	int ret = -ENOENT;
	FILE *f;

	snprintf(head, sizeof(head), "%lx-", (unsigned long)addr);
	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, head, strlen(head)))
			found = true;
		else if (found && !strncmp(line, "VmFlags:", 8)) {
			snprintf(flags, len, "%s", line + 8);
			ret = 0;
			break;
		}
	}
	free(line);
	fclose(f);
	return ret;
}

/* Whether the two-letter VmFlags mnemonic @mn is in @flags. */
static bool has_vmflag(const char *flags, const char *mn)
{
	char word[8];

	snprintf(word, sizeof(word), " %s ", mn);
	return strstr(flags, word) || !strncmp(flags, word + 1, 3);
}

/* pf: VM_PFNMAP, io: VM_IO, de: VM_DONTEXPAND, dd: VM_DONTDUMP, sh: shared. */
TEST_F(mmap, vm_flags)
{
	static const char *const want[] = { "pf", "io", "de", "dd", "sh" };
	char flags[256];

	ASSERT_EQ(0, smaps_vmflags(self->buf.map, flags, sizeof(flags)));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		EXPECT_TRUE(has_vmflag(flags, want[i]))
			TH_LOG("VmFlags:%s lacks %s", flags, want[i]);
	}
	EXPECT_FALSE(has_vmflag(flags, "mm")) TH_LOG("VmFlags:%s", flags);
}

/* A PFN mapping cannot be zapped by madvise(): EINVAL, and the data stay. */
TEST_F(mmap, madv_dontneed_refused)
{
	ASSERT_EQ(-1, madvise(self->buf.map, self->buf.size, MADV_DONTNEED));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pattern_check(self->buf.map, self->buf.size, 0, 1));
}

/*
 * get_user_pages() refuses VM_PFNMAP: each of its users fails with the
 * errno the uapi documents, and nothing of the buffer changes.
 */
TEST_F(mmap, process_vm_readv_efault)
{
	char local[64];
	struct iovec l = { local, sizeof(local) };
	struct iovec r = { self->buf.map, sizeof(local) };

	ASSERT_EQ(-1, process_vm_readv(getpid(), &l, 1, &r, 1, 0));
	if (errno == ENOSYS)
		SKIP(return, "no process_vm_readv in this kernel (CONFIG_CROSS_MEMORY_ATTACH)");
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, process_vm_writev(getpid(), &l, 1, &r, 1, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, pattern_check(self->buf.map, self->buf.size, 0, 1));
}

TEST_F(mmap, proc_pid_mem_eio)
{
	char data[64] = { 0 };
	int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, pread(fd, data, sizeof(data), (off_t)(uintptr_t)self->buf.map));
	ASSERT_EQ(EIO, errno);
	ASSERT_EQ(-1, pwrite(fd, data, sizeof(data), (off_t)(uintptr_t)self->buf.map));
	ASSERT_EQ(EIO, errno);
	close(fd);
	ASSERT_EQ(-1, pattern_check(self->buf.map, self->buf.size, 0, 1));
}

TEST_F(mmap, vmsplice_efault)
{
	struct iovec iov = { self->buf.map, self->ps };
	int pipefd[2];

	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	ASSERT_EQ(-1, vmsplice(pipefd[1], &iov, 1, 0));
	ASSERT_EQ(EFAULT, errno);
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_F(mmap, io_uring_register_efault)
{
	struct io_uring_params params = { 0 };
	struct iovec iov = { self->buf.map, self->buf.size };
	int ring, ret;

	ring = syscall(__NR_io_uring_setup, 4, &params);
	if (ring < 0 && (errno == ENOSYS || errno == EPERM))
		SKIP(return, "io_uring is not available: %s", strerror(errno));
	ASSERT_LE(0, ring) TH_LOG("io_uring_setup: %s", strerror(errno));
	ret = syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, &iov, 1);
	ASSERT_EQ(-1, ret);
	ASSERT_EQ(EFAULT, errno);
	close(ring);
}

/* O_DIRECT on a RAM block device (brd): the block layer pins user pages. */
TEST_F(mmap, o_direct_efault)
{
	int ret, fd;

	ret = system("modprobe brd rd_nr=1 rd_size=1024 >/dev/null 2>&1");
	fd = open("/dev/ram0", O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, "no /dev/ram0 (modprobe brd: status %d): %s", ret,
		     strerror(errno));
	ASSERT_EQ(-1, pwrite(fd, self->buf.map, self->ps, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, pread(fd, self->buf.map, self->ps, 0));
	ASSERT_EQ(EFAULT, errno);
	close(fd);
	ASSERT_EQ(-1, pattern_check(self->buf.map, self->buf.size, 0, 1));
}

/* ---- 2 MiB entries, where the kernel has huge PFN maps ---- */

#define SZ_2M		(2UL << 20)
#define SZ_1G		(1UL << 30)
#define PMD_BUF_SIZE	(64UL << 20)
#define PMD_BLOCKS	(PMD_BUF_SIZE / SZ_2M)

/* VmPTE of /proc/self/status: the page tables of this process, in KiB. */
static long vm_pte_kib(void)
{
	char *line = NULL;
	size_t cap = 0;
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "VmPTE: %ld kB", &kib) == 1)
			break;
	free(line);
	fclose(f);
	return kib;
}

/* cohbuf's pmd_mappings: 1 or 0, or -errno (-ENOENT: no huge PFN maps). */
static int pmd_param(int set)
{
	char path[] = MODULE_SYSFS "/parameters/pmd_mappings", c = 0;
	int fd = open(path, (set < 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (set < 0)
		n = read(fd, &c, 1);
	else
		n = write(fd, set ? "1" : "0", 1);
	close(fd);
	if (n != 1)
		return -EIO;
	return set < 0 ? c == 'Y' : set;
}

/*
 * Maps @len bytes of @fd from 0 at a 1 GiB-aligned address, so that all of
 * it hangs off one page-middle-directory page that its first touch
 * allocates: afterwards VmPTE grows by one page per 4 KiB page table only.
 */
static void *map_1g_aligned(int fd, size_t len, int prot)
{
	char *res = mmap(NULL, len + SZ_1G, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	char *at, *p;

	if (res == MAP_FAILED)
		return MAP_FAILED;
	at = (char *)(((uintptr_t)res + SZ_1G - 1) & ~(SZ_1G - 1));
	p = mmap(at, len, prot, MAP_SHARED | MAP_FIXED, fd, 0);
	if (at > res)
		munmap(res, at - res);
	munmap(at + len, res + len + SZ_1G - (at + len));
	return p;
}

/*
 * How many 2 MiB blocks of the buffer a 2 MiB entry can map, by
 * COHBUF_IOCTL_INFO: those inside one physically contiguous range whose
 * DMA address there is 2 MiB-aligned. The guest has no IOMMU: cohbuf's
 * DMA addresses are physical addresses. @pmd[i] says it for block i.
 */
static int pmd_blocks(int dev, int fd, bool *pmd)
{
	struct cohbuf_info info;
	struct cohbuf_range *r;
	int ret, n = 0;

	ret = cohbuf_info_ranges(dev, fd, &info, &r);
	if (ret <= 0)
		return ret < 0 ? ret : -ENODATA;
	if (!(info.info_flags & COHBUF_INFO_DMA_ADDR)) {
		free(r);
		return -EPERM;
	}
	for (size_t b = 0; b < PMD_BLOCKS; b++) {
		uint64_t off = b * SZ_2M;

		pmd[b] = false;
		for (uint32_t i = 0; i < info.nr_ranges; i++)
			if (r[i].offset <= off && off + SZ_2M <= r[i].offset + r[i].size &&
			    !((r[i].dma_addr + off - r[i].offset) & (SZ_2M - 1)))
				pmd[b] = true;
		n += pmd[b];
	}
	free(r);
	return n;
}

/*
 * A 64 MiB buffer, not mapped, and which of its 2 MiB blocks can take a
 * 2 MiB entry; pmd_mappings on for the test and put back afterwards.
 */
FIXTURE(pmd) {
	int dev;
	int saved;
	struct test_buf buf;
	bool pmd[PMD_BLOCKS];
	int nr_pmd;
};

FIXTURE_SETUP(pmd)
{
	self->buf.fd = -1;
	self->buf.map = NULL;
	self->dev = test_open();
	self->saved = pmd_param(-1);
	if (self->saved == -ENOENT)
		SKIP(return, "no pmd_mappings parameter: this kernel has no huge PFN maps");
	ASSERT_LE(0, self->saved);
	ASSERT_EQ(1, pmd_param(1));
	test_buf_alloc(&self->buf, self->dev, PMD_BUF_SIZE, O_RDWR | O_CLOEXEC, PROT_NONE);
	self->nr_pmd = pmd_blocks(self->dev, self->buf.fd, self->pmd);
	ASSERT_LE(0, self->nr_pmd) TH_LOG("INFO: %s", strerror(-self->nr_pmd));
}

FIXTURE_TEARDOWN(pmd)
{
	buf_free(&self->buf);
	if (self->saved >= 0)
		pmd_param(self->saved);
	close(self->dev);
}

/* Touches one byte of every 2 MiB block of @p: VmPTE's growth in KiB. */
static long touch_blocks(const volatile char *p, size_t from)
{
	long before = vm_pte_kib();

	for (size_t b = from; b < PMD_BLOCKS; b++)
		(void)p[b * SZ_2M];
	return vm_pte_kib() - before;
}

/*
 * After the first touch, every other block needs a 4 KiB page table
 * (VmPTE + 4 KiB) unless a 2 MiB entry maps it: the growth is exactly the
 * blocks INFO says cannot have one. A 64 MiB buffer of 4 MiB chunks has
 * none such: the test also needs at least one 2 MiB entry.
 */
TEST_F(pmd, entries_are_2m)
{
	long per_table = page_size() >> 10, grew, want = 0;
	char *p = map_1g_aligned(self->buf.fd, PMD_BUF_SIZE, PROT_READ);

	ASSERT_NE(MAP_FAILED, p);
	(void)*(volatile char *)p;
	grew = touch_blocks(p, 1);
	for (size_t b = 1; b < PMD_BLOCKS; b++)
		want += self->pmd[b] ? 0 : per_table;
	TH_LOG("%d of %lu blocks 2 MiB-mappable; VmPTE grew by %ld KiB", self->nr_pmd,
	       PMD_BLOCKS, grew);
	ASSERT_LT(0, self->nr_pmd);
	ASSERT_EQ(want, grew);
	ASSERT_EQ(0, munmap(p, PMD_BUF_SIZE));
}

/*
 * With THP turned off for the process (prctl(PR_SET_THP_DISABLE)), the core
 * calls no ->huge_fault, and the flag can flip under a running fault: so
 * the 4 KiB fault maps a block that can take a 2 MiB entry with one
 * itself, and no such block ever gets a page table. The child's exit
 * status is the check: 0, or 1 when VmPTE grew, 2 when setting up failed.
 */
TEST_F(pmd, thp_disabled_still_2m)
{
	long per_table = page_size() >> 10, want = 0;
	int status;
	pid_t pid;

	for (size_t b = 1; b < PMD_BLOCKS; b++)
		want += self->pmd[b] ? 0 : per_table;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *p;

		if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
			_exit(2);
		p = map_1g_aligned(self->buf.fd, PMD_BUF_SIZE, PROT_READ);
		if (p == MAP_FAILED)
			_exit(2);
		(void)*(volatile char *)p;
		_exit(touch_blocks(p, 1) == want ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("1: VmPTE grew: the 4 KiB fault gave 2 MiB blocks page tables");
}

/* pmd_mappings off: mmap() writes a page table per block, touching adds none. */
TEST_F(pmd, forced_4k)
{
	long per_table = page_size() >> 10, before = vm_pte_kib(), at_mmap;
	char *p;

	ASSERT_EQ(0, pmd_param(0));
	p = map_1g_aligned(self->buf.fd, PMD_BUF_SIZE, PROT_READ);
	ASSERT_NE(MAP_FAILED, p);
	at_mmap = vm_pte_kib() - before;
	ASSERT_LE((long)PMD_BLOCKS * per_table, at_mmap);
	ASSERT_EQ(0, touch_blocks(p, 0));
	ASSERT_EQ(0, munmap(p, PMD_BUF_SIZE));
}

/* cohbuf_map() places 2 MiB and more so that a fresh mapping gets 2 MiB entries. */
TEST_F(pmd, libcohbuf_places_for_2m)
{
	void *p;

	ASSERT_EQ(0, cohbuf_map(self->buf.fd, SZ_2M, 8 * SZ_2M, PROT_READ, &p));
	ASSERT_EQ(0, (uintptr_t)p & (SZ_2M - 1));
	ASSERT_EQ(0, cohbuf_unmap(p, 8 * SZ_2M));
	ASSERT_EQ(0, cohbuf_map(self->buf.fd, SZ_2M + page_size(), SZ_2M, PROT_READ, &p));
	ASSERT_EQ(page_size(), (uintptr_t)p & (SZ_2M - 1));
	ASSERT_EQ(0, cohbuf_unmap(p, SZ_2M));
}

/*
 * Writes and reads through 2 MiB entries, through windows at offsets that
 * allow them and that do not, and through a 4 KiB-filled mapping: all the
 * same bytes.
 */
TEST_F(pmd, windows_see_the_same_bytes)
{
	size_t ps = page_size();
	char *full, *misaligned, *win;

	ASSERT_EQ(0, cohbuf_map(self->buf.fd, 0, PMD_BUF_SIZE, PROT_READ | PROT_WRITE,
				(void **)&full));
	pattern_fill(full, PMD_BUF_SIZE, 0, 1);
	ASSERT_EQ(0, cohbuf_map(self->buf.fd, 3 * SZ_2M, 5 * SZ_2M, PROT_READ | PROT_WRITE,
				(void **)&win));
	ASSERT_EQ(-1, pattern_check(win, 5 * SZ_2M, 3 * SZ_2M, 1));
	pattern_fill(win, SZ_2M, 3 * SZ_2M, 2);
	/* a page past a block's start, wherever mmap() puts it: 4 KiB entries */
	misaligned = mmap(NULL, 4 * SZ_2M, PROT_READ, MAP_SHARED, self->buf.fd,
			  3 * SZ_2M + ps);
	ASSERT_NE(MAP_FAILED, misaligned);
	ASSERT_EQ(-1, pattern_check(misaligned, SZ_2M - ps, 3 * SZ_2M + ps, 2));
	ASSERT_EQ(-1, pattern_check(full + 3 * SZ_2M, SZ_2M, 3 * SZ_2M, 2));
	ASSERT_EQ(-1, pattern_check(full + 4 * SZ_2M, 4 * SZ_2M, 4 * SZ_2M, 1));
	ASSERT_EQ(0, munmap(misaligned, 4 * SZ_2M));
	ASSERT_EQ(0, munmap(win, 5 * SZ_2M));
	ASSERT_EQ(0, munmap(full, PMD_BUF_SIZE));
}

/*
 * munmap() of one page inside a 2 MiB entry splits it: the rest of the
 * block refills with 4 KiB entries (one page table) and keeps its bytes.
 */
TEST_F(pmd, munmap_inside_2m_entry)
{
	size_t ps = page_size(), hole = 5 * SZ_2M + 7 * ps;
	char *p = map_1g_aligned(self->buf.fd, PMD_BUF_SIZE, PROT_READ | PROT_WRITE);
	long grew;

	ASSERT_NE(MAP_FAILED, p);
	pattern_fill(p, PMD_BUF_SIZE, 0, 1);
	ASSERT_EQ(0, munmap(p + hole, ps));
	grew = vm_pte_kib();
	ASSERT_EQ(-1, pattern_check(p + 5 * SZ_2M, 7 * ps, 5 * SZ_2M, 1));
	ASSERT_EQ(-1, pattern_check(p + hole + ps, 6 * SZ_2M - hole - ps, hole + ps, 1));
	grew = vm_pte_kib() - grew;
	if (self->pmd[5])
		ASSERT_EQ((long)(ps >> 10), grew);
	ASSERT_EQ(-1, pattern_check(p, 5 * SZ_2M, 0, 1));
	ASSERT_EQ(-1, pattern_check(p + 6 * SZ_2M, PMD_BUF_SIZE - 6 * SZ_2M, 6 * SZ_2M, 1));
	ASSERT_EQ(0, munmap(p, hole));
	ASSERT_EQ(0, munmap(p + hole + ps, PMD_BUF_SIZE - hole - ps));
}

/* mprotect() of one page inside a 2 MiB entry: that page read-only, the rest not. */
TEST_F(pmd, mprotect_inside_2m_entry)
{
	size_t ps = page_size(), ro = 9 * SZ_2M + 3 * ps;
	char *p;

	ASSERT_EQ(0, cohbuf_map(self->buf.fd, 0, PMD_BUF_SIZE, PROT_READ | PROT_WRITE,
				(void **)&p));
	pattern_fill(p, PMD_BUF_SIZE, 0, 1);
	ASSERT_EQ(0, mprotect(p + ro, ps, PROT_READ));
	pattern_fill(p + 9 * SZ_2M, 3 * ps, 9 * SZ_2M, 2);
	pattern_fill(p + ro + ps, SZ_2M - 4 * ps, ro + ps, 2);
	ASSERT_EQ(-1, pattern_check(p + ro, ps, ro, 1));
	ASSERT_EQ(-1, pattern_check(p + ro + ps, SZ_2M - 4 * ps, ro + ps, 2));
	ASSERT_EQ(0, mprotect(p + ro, ps, PROT_READ | PROT_WRITE));
	pattern_fill(p + ro, ps, ro, 2);
	ASSERT_EQ(-1, pattern_check(p + 9 * SZ_2M, SZ_2M, 9 * SZ_2M, 2));
	ASSERT_EQ(0, munmap(p, PMD_BUF_SIZE));
}

/* fork() copies the special 2 MiB entries: the child sees the same frames. */
TEST_F(pmd, fork_child_same_frames)
{
	char *p;
	pid_t pid;
	int status;

	ASSERT_EQ(0, cohbuf_map(self->buf.fd, 0, PMD_BUF_SIZE, PROT_READ | PROT_WRITE,
				(void **)&p));
	pattern_fill(p, PMD_BUF_SIZE, 0, 1);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (pattern_check(p, PMD_BUF_SIZE, 0, 1) != -1)
			_exit(1);
		pattern_fill(p + 7 * SZ_2M, SZ_2M, 7 * SZ_2M, 3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	ASSERT_EQ(-1, pattern_check(p + 7 * SZ_2M, SZ_2M, 7 * SZ_2M, 3));
	ASSERT_EQ(0, munmap(p, PMD_BUF_SIZE));
}

/*
 * mremap() moves 2 MiB entries whole to a 2 MiB-aligned place, and splits
 * them (the next touch refills) anywhere else: the bytes follow either way.
 */
TEST_F(pmd, mremap_move_keeps_data)
{
	char *p, *aligned, *q;
	void *spot;

	ASSERT_EQ(0, cohbuf_map(self->buf.fd, 0, PMD_BUF_SIZE, PROT_READ | PROT_WRITE,
				(void **)&p));
	pattern_fill(p, PMD_BUF_SIZE, 0, 1);
	/* a free 2 MiB-aligned spot: where cohbuf_map() would map it again */
	ASSERT_EQ(0, cohbuf_map(self->buf.fd, 0, PMD_BUF_SIZE, PROT_READ, &spot));
	aligned = mremap(p, PMD_BUF_SIZE, PMD_BUF_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, spot);
	ASSERT_EQ(spot, aligned);
	ASSERT_EQ(-1, pattern_check(aligned, PMD_BUF_SIZE, 0, 1));
	/* one page off a 2 MiB boundary */
	spot = mmap(NULL, PMD_BUF_SIZE + SZ_2M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, spot);
	q = (char *)(((uintptr_t)spot + SZ_2M - 1) & ~(SZ_2M - 1)) + page_size();
	q = mremap(aligned, PMD_BUF_SIZE, PMD_BUF_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, q);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(-1, pattern_check(q, PMD_BUF_SIZE, 0, 1));
	pattern_fill(q, PMD_BUF_SIZE, 0, 2);
	ASSERT_EQ(0, munmap(spot, PMD_BUF_SIZE + SZ_2M));
}

TEST_HARNESS_MAIN
