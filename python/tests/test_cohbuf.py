# SPDX-License-Identifier: LGPL-2.1-or-later
"""The cohbuf Python module against the loaded cohbuf module.

Run as root with /dev/cohbuf present (scripts/vm-run does both):
    PYTHONPATH=python python3 -m unittest discover -s python/tests -v
"""

import errno
import fcntl
import mmap
import os
import socket
import struct
import unittest

import cohbuf

PAGE = mmap.PAGESIZE


def setUpModule():
    if not os.path.exists(cohbuf.DEVICE):
        raise unittest.SkipTest(f"{cohbuf.DEVICE} is missing: load the cohbuf module")


class Alloc(unittest.TestCase):
    def test_size_rounds_up_to_pages(self):
        with cohbuf.Buffer.alloc(PAGE + 1) as buf:
            self.assertEqual(buf.size, 2 * PAGE)
            self.assertEqual(cohbuf.fdinfo(buf.fd)["exp_name"], "cohbuf")
            self.assertEqual(int(cohbuf.fdinfo(buf.fd)["size"]), 2 * PAGE)

    def test_new_buffer_is_zeroed(self):
        with cohbuf.Buffer.alloc(64 * 1024) as buf, buf.map() as mem:
            with buf.cpu_access(cohbuf.READ):
                self.assertEqual(mem[:], bytes(64 * 1024))

    def test_two_buffers_are_distinct(self):
        with cohbuf.Buffer.alloc(PAGE) as a, cohbuf.Buffer.alloc(PAGE) as b:
            self.assertNotEqual(a.ino, b.ino)

    def test_zero_size_is_einval(self):
        with self.assertRaises(OSError) as ctx:
            cohbuf.Buffer.alloc(0)
        self.assertEqual(ctx.exception.errno, errno.EINVAL)

    def test_unknown_flags_are_einval(self):
        for bit in range(32):
            if (1 << bit) & cohbuf.ALLOC_VALID_FLAGS:
                continue
            with self.subTest(bit=bit), self.assertRaises(OSError) as ctx:
                cohbuf.Buffer.alloc(PAGE, flags=cohbuf.ALLOC_CONTIGUOUS | 1 << bit)
            self.assertEqual(ctx.exception.errno, errno.EINVAL)

    def test_open_device_is_reused(self):
        dev = os.open(cohbuf.DEVICE, os.O_RDWR | os.O_CLOEXEC)
        try:
            with cohbuf.Buffer.alloc(PAGE, device=dev) as buf:
                self.assertEqual(buf.size, PAGE)
            os.fstat(dev)
        finally:
            os.close(dev)

    def test_close(self):
        buf = cohbuf.Buffer.alloc(PAGE)
        fd = buf.fd
        buf.close()
        with self.assertRaises(ValueError):
            buf.fileno()
        with self.assertRaises(OSError) as ctx:
            os.fstat(fd)
        self.assertEqual(ctx.exception.errno, errno.EBADF)


def max_contiguous_size():
    with open("/sys/module/cohbuf/parameters/max_contiguous_size",
              encoding="ascii") as f:
        return int(f.read())


def kernel_lacks(option):
    """True if the guest kernel's .config (COHBUF_KCONFIG, which vm-run
    sets) is known and does not have CONFIG_OPTION=y."""
    path = os.environ.get("COHBUF_KCONFIG")
    if not path:
        return False
    with open(path, encoding="utf-8", errors="replace") as f:
        return f"CONFIG_{option}=y\n" not in f.readlines()


def assert_ranges_tile(test, inf):
    """The ranges cover the buffer in order, each a whole number of pages."""
    offset = 0
    for rng in inf.ranges:
        test.assertEqual(rng.offset, offset)
        test.assertGreater(rng.size, 0)
        test.assertEqual(rng.size % PAGE, 0)
        offset += rng.size
    test.assertEqual(offset, inf.size)


class Flags(unittest.TestCase):
    """ALLOC_CONTIGUOUS and ALLOC_DMA32, as INFO reports them."""

    def test_contiguous_is_one_range_of_the_rounded_size(self):
        size = 64 * PAGE + 1
        with cohbuf.Buffer.alloc(size, flags=cohbuf.ALLOC_CONTIGUOUS) as buf:
            inf = buf.info()
            self.assertEqual(inf.flags, cohbuf.ALLOC_CONTIGUOUS)
            self.assertEqual(inf.size, 65 * PAGE)
            self.assertEqual(buf.size, 65 * PAGE)
            self.assertEqual(len(inf.ranges), 1)
            self.assertEqual(inf.ranges[0][:2], (0, 65 * PAGE))

    def test_contiguous_beyond_one_chunk(self):
        # More than the 4 MiB a single dma_alloc_coherent() gives.
        if kernel_lacks("CONTIG_ALLOC"):
            self.skipTest("no CONFIG_CONTIG_ALLOC in this kernel: no contiguous"
                          " range above the buddy allocator's 4 MiB")
        size = 6 << 20
        with cohbuf.Buffer.alloc(size, flags=cohbuf.ALLOC_CONTIGUOUS) as buf:
            self.assertEqual(buf.info().ranges[0][:2], (0, size))
            self.assertEqual(len(buf.info().ranges), 1)

    def test_dma32_ranges_lie_below_4_gib(self):
        with cohbuf.Buffer.alloc(8 * PAGE, flags=cohbuf.ALLOC_DMA32) as buf:
            inf = buf.info()
            self.assertEqual(inf.flags, cohbuf.ALLOC_DMA32)
            assert_ranges_tile(self, inf)
            if inf.ranges[0].dma_addr is None:
                self.skipTest("DMA addresses need CAP_SYS_RAWIO")
            for rng in inf.ranges:
                self.assertLessEqual(rng.dma_addr + rng.size, 1 << 32)

    def test_both_flags_combine(self):
        flags = cohbuf.ALLOC_CONTIGUOUS | cohbuf.ALLOC_DMA32
        with cohbuf.Buffer.alloc(16 * PAGE, flags=flags) as buf:
            inf = buf.info()
            self.assertEqual(inf.flags, flags)
            self.assertEqual([r[:2] for r in inf.ranges], [(0, 16 * PAGE)])

    def test_contiguous_above_the_limit_is_e2big(self):
        with self.assertRaises(OSError) as ctx:
            cohbuf.Buffer.alloc(max_contiguous_size() + PAGE,
                                flags=cohbuf.ALLOC_CONTIGUOUS)
        self.assertEqual(ctx.exception.errno, errno.E2BIG)


class InfoIoctl(unittest.TestCase):
    def test_default_buffer_ranges_sum_to_its_size(self):
        # 6 MiB + 1 page: more than one 4 MiB chunk.
        size = (6 << 20) + PAGE
        with cohbuf.Buffer.alloc(size) as buf:
            inf = cohbuf.info(buf)
            self.assertEqual(inf.flags, 0)
            self.assertEqual(inf.size, size)
            self.assertGreaterEqual(len(inf.ranges), 1)
            assert_ranges_tile(self, inf)

    def test_dma_addresses_for_root(self):
        with cohbuf.Buffer.alloc(4 * PAGE) as buf:
            inf = buf.info()
        if os.geteuid() != 0:
            self.skipTest("DMA addresses need CAP_SYS_RAWIO")
        self.assertTrue(all(r.dma_addr for r in inf.ranges), inf.ranges)

    def test_by_fd_through_an_open_device(self):
        dev = os.open(cohbuf.DEVICE, os.O_RDWR | os.O_CLOEXEC)
        try:
            with cohbuf.Buffer.alloc(3 * PAGE) as buf:
                self.assertEqual(cohbuf.info(buf.fd, device=dev).size, 3 * PAGE)
        finally:
            os.close(dev)

    def test_received_buffer_reports_the_same(self):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        flags = cohbuf.ALLOC_CONTIGUOUS
        with a, b, cohbuf.Buffer.alloc(8 * PAGE, flags=flags) as buf:
            cohbuf.send(a, [buf])
            _, (peer,) = cohbuf.recv(b)
            with peer:
                self.assertEqual(peer.info(), buf.info())

    def assert_info_einval(self, fd):
        with self.assertRaises(OSError) as ctx:
            cohbuf.info(fd)
        self.assertEqual(ctx.exception.errno, errno.EINVAL)

    def test_pipe_is_einval(self):
        r, w = os.pipe()
        try:
            self.assert_info_einval(r)
        finally:
            os.close(r)
            os.close(w)

    def test_device_fd_is_einval(self):
        dev = os.open(cohbuf.DEVICE, os.O_RDWR | os.O_CLOEXEC)
        try:
            self.assert_info_einval(dev)
        finally:
            os.close(dev)

    def test_other_exporters_dma_buf_is_einval(self):
        # The kernel's system heap (6.12; Debian's 6.1 has no dma-heaps).
        try:
            heap = os.open("/dev/dma_heap/system", os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            self.skipTest("no /dev/dma_heap/system in this kernel")
        # struct dma_heap_allocation_data: len, fd, fd_flags, heap_flags.
        req = bytearray(struct.pack("=QIIQ", PAGE, 0, os.O_RDWR | os.O_CLOEXEC, 0))
        try:
            fcntl.ioctl(heap, 0xc0184800, req)  # DMA_HEAP_IOCTL_ALLOC
        finally:
            os.close(heap)
        with cohbuf.Buffer(struct.unpack("=QIIQ", req)[1]) as other:
            self.assertEqual(cohbuf.fdinfo(other.fd)["exp_name"], "system")
            self.assert_info_einval(other.fd)

    def test_closed_fd_is_ebadf(self):
        buf = cohbuf.Buffer.alloc(PAGE)
        fd = buf.fd
        buf.close()
        with self.assertRaises(OSError) as ctx:
            cohbuf.info(fd)
        self.assertEqual(ctx.exception.errno, errno.EBADF)


class Map(unittest.TestCase):
    def test_two_mappings_share_memory(self):
        with cohbuf.Buffer.alloc(4 * PAGE) as buf:
            with buf.map() as a, buf.map() as b:
                with buf.cpu_access(cohbuf.WRITE):
                    a[PAGE:PAGE + 5] = b"hello"
                with buf.cpu_access(cohbuf.READ):
                    self.assertEqual(b[PAGE:PAGE + 5], b"hello")

    def test_readonly_fd_maps_read_only(self):
        with cohbuf.Buffer.alloc(PAGE, readonly=True) as buf:
            with buf.map() as mem:
                self.assertEqual(mem[:8], bytes(8))
                with self.assertRaises(TypeError):
                    mem[0] = 1
            with self.assertRaises(PermissionError):
                buf.map(writable=True)


class Sync(unittest.TestCase):
    def test_every_direction(self):
        with cohbuf.Buffer.alloc(PAGE) as buf:
            for direction in (cohbuf.READ, cohbuf.WRITE, cohbuf.RW):
                with buf.cpu_access(direction):
                    pass

    def test_no_direction_is_einval(self):
        with cohbuf.Buffer.alloc(PAGE) as buf:
            with self.assertRaises(OSError) as ctx:
                buf.sync(0)
            self.assertEqual(ctx.exception.errno, errno.EINVAL)

    def test_unknown_bit_is_einval(self):
        with cohbuf.Buffer.alloc(PAGE) as buf:
            with self.assertRaises(OSError) as ctx:
                fcntl.ioctl(buf.fd, cohbuf.DMA_BUF_IOCTL_SYNC,
                            struct.pack("=Q", cohbuf.RW | 8))
            self.assertEqual(ctx.exception.errno, errno.EINVAL)


class Name(unittest.TestCase):
    def test_unnamed(self):
        with cohbuf.Buffer.alloc(PAGE) as buf:
            self.assertIsNone(buf.name)

    def test_alloc_with_name(self):
        with cohbuf.Buffer.alloc(PAGE, name="camera0") as buf:
            self.assertEqual(buf.name, "camera0")

    def test_rename(self):
        with cohbuf.Buffer.alloc(PAGE, name="first") as buf:
            buf.set_name(b"second")
            self.assertEqual(buf.name, "second")

    def test_name_of_31_bytes_fits_32_does_not(self):
        with cohbuf.Buffer.alloc(PAGE) as buf:
            buf.set_name("n" * 31)
            self.assertEqual(buf.name, "n" * 31)
            with self.assertRaises(OSError) as ctx:
                buf.set_name("n" * 32)
            self.assertEqual(ctx.exception.errno, errno.EINVAL)

    def test_alloc_with_bad_name_closes_buffer(self):
        before = set(os.listdir("/proc/self/fd"))
        with self.assertRaises(OSError):
            cohbuf.Buffer.alloc(PAGE, name="n" * 40)
        self.assertEqual(set(os.listdir("/proc/self/fd")), before)


class Share(unittest.TestCase):
    def test_socketpair_gives_the_same_buffer(self):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with a, b, cohbuf.Buffer.alloc(PAGE, name="shared") as buf:
            cohbuf.send(a, [buf], b"frame 7")
            payload, got = cohbuf.recv(b)
            self.assertEqual(payload, b"frame 7")
            self.assertEqual(len(got), 1)
            with got[0] as peer:
                self.assertNotEqual(peer.fd, buf.fd)
                self.assertEqual(peer.ino, buf.ino)
                self.assertEqual(peer.name, "shared")

    def test_child_writes_parent_reads(self):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with a, b, cohbuf.Buffer.alloc(8 * PAGE) as buf:
            pattern = bytes(range(256)) * (8 * PAGE // 256)
            pid = os.fork()
            if pid == 0:
                status = 1
                try:
                    a.close()
                    _, got = cohbuf.recv(b)
                    with got[0] as peer, peer.map() as mem:
                        with peer.cpu_access(cohbuf.WRITE):
                            mem[:] = pattern
                        b.sendall(str(peer.ino).encode())
                    status = 0
                finally:
                    os._exit(status)
            cohbuf.send(a, [buf])
            child_ino = int(a.recv(64))
            _, status = os.waitpid(pid, 0)
            self.assertEqual(os.waitstatus_to_exitcode(status), 0)
            self.assertEqual(child_ino, buf.ino)
            with buf.map() as mem, buf.cpu_access(cohbuf.READ):
                self.assertEqual(mem[:], pattern)

    def test_several_buffers_in_one_message(self):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        bufs = [cohbuf.Buffer.alloc(PAGE) for _ in range(3)]
        with a, b:
            cohbuf.send(a, bufs, b"3")
            _, got = cohbuf.recv(b)
            self.assertEqual([g.ino for g in got], [x.ino for x in bufs])
        for buf in bufs + got:
            buf.close()

    def test_closed_peer_is_eof(self):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        a.close()
        with b, self.assertRaises(EOFError):
            cohbuf.recv(b)

    def test_empty_payload_is_refused(self):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with a, b, cohbuf.Buffer.alloc(PAGE) as buf:
            with self.assertRaises(ValueError):
                cohbuf.send(a, [buf], b"")


if __name__ == "__main__":
    unittest.main()
