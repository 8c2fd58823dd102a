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

    def test_unknown_flag_is_einval(self):
        with self.assertRaises(OSError) as ctx:
            cohbuf.Buffer.alloc(PAGE, flags=1 << 31)
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
