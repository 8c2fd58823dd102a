# SPDX-License-Identifier: LGPL-2.1-or-later
"""cohbuf: coherent DMA buffers from /dev/cohbuf, as dma-buf fds.

Pure Python on the standard library (fcntl.ioctl, mmap, socket.send_fds):
allocate a buffer (physically contiguous, or below 4 GiB, if asked), map
it, name it, bracket CPU access with DMA_BUF_IOCTL_SYNC, pass it to another
process over a unix socket, and read what it is made of (COHBUF_IOCTL_INFO).

    import cohbuf
    with cohbuf.Buffer.alloc(1 << 20, name="frame") as buf:
        with buf.map() as mem, buf.cpu_access(cohbuf.WRITE):
            mem[:5] = b"hello"
        cohbuf.send(sock, [buf], b"frame 1")

Errors are OSError with the kernel's errno; the uapi header cohbuf.h holds
the contract.
"""

import array
import collections
import contextlib
import fcntl
import mmap
import os
import socket
import struct

__all__ = ["DEVICE", "ALLOC_CONTIGUOUS", "ALLOC_DMA32", "ALLOC_VALID_FLAGS",
           "READ", "WRITE", "RW", "Buffer", "Info", "Range", "fdinfo", "info",
           "send", "recv"]

DEVICE = "/dev/cohbuf"

# Allocation flags for Buffer.alloc(): COHBUF_ALLOC_* of cohbuf.h, which
# says what each promises and how each fails.
ALLOC_CONTIGUOUS = 0x1
ALLOC_DMA32 = 0x2
ALLOC_VALID_FLAGS = ALLOC_CONTIGUOUS | ALLOC_DMA32

# struct cohbuf_info's info_flags: the ranges' DMA addresses are filled in.
_INFO_DMA_ADDR = 0x1

# Directions for Buffer.cpu_access() and Buffer.sync(): DMA_BUF_SYNC_*.
READ = 1
WRITE = 2
RW = READ | WRITE
_SYNC_END = 4

# The most fds one send() or recv() carries, as in libcohbuf.
MAX_FDS = 64


def _ioc(direction, magic, nr, size):
    return (direction << 30) | (size << 16) | (ord(magic) << 8) | nr


_IOC_WRITE = 1
_IOC_READ = 2

# struct cohbuf_alloc: size, fd_flags, flags, fd, pad, reserved[2].
_ALLOC = struct.Struct("=QIIiI2Q")
COHBUF_IOCTL_ALLOC = _ioc(_IOC_READ | _IOC_WRITE, "\xcb", 0x00, _ALLOC.size)

# struct cohbuf_info: fd, flags, size, nr_ranges, ranges_cap, ranges (a
# user pointer to struct cohbuf_range[]), info_flags, pad, reserved[2].
_INFO = struct.Struct("=iIQIIQII2Q")
COHBUF_IOCTL_INFO = _ioc(_IOC_READ | _IOC_WRITE, "\xcb", 0x03, _INFO.size)
# struct cohbuf_range: offset, size, dma_addr; three __u64.
_RANGE_WORDS = 3

Range = collections.namedtuple("Range", "offset size dma_addr")
Range.__doc__ = """One physically contiguous part of a buffer, in bytes.

dma_addr is its address on the cohbuf device, or None for a caller
without CAP_SYS_RAWIO (the kernel hides physical layout from it)."""

Info = collections.namedtuple("Info", "size flags ranges")
Info.__doc__ = """What COHBUF_IOCTL_INFO says of a buffer.

size in bytes; flags, the ALLOC_* flags it was allocated with; ranges, its
physically contiguous Ranges in buffer order (one for ALLOC_CONTIGUOUS)."""

# <linux/dma-buf.h>: struct dma_buf_sync is one __u64; DMA_BUF_SET_NAME
# takes a pointer, so its size is that of a pointer.
_SYNC = struct.Struct("=Q")
DMA_BUF_IOCTL_SYNC = _ioc(_IOC_WRITE, "b", 0, _SYNC.size)
DMA_BUF_SET_NAME = _ioc(_IOC_WRITE, "b", 1, struct.calcsize("P"))


@contextlib.contextmanager
def _device(device):
    """DEVICE, an open /dev/cohbuf fd, or /dev/cohbuf opened for the call."""
    if device is not None:
        yield device
        return
    dev = os.open(DEVICE, os.O_RDWR | os.O_CLOEXEC)
    try:
        yield dev
    finally:
        os.close(dev)


def _info_call(dev, fd, ranges):
    """One COHBUF_IOCTL_INFO with room for len(RANGES) // 3 ranges."""
    cap = len(ranges) // _RANGE_WORDS
    addr = ranges.buffer_info()[0] if cap else 0
    req = bytearray(_INFO.pack(fd, 0, 0, 0, cap, addr, 0, 0, 0, 0))
    fcntl.ioctl(dev, COHBUF_IOCTL_INFO, req)
    _, flags, size, nr_ranges, _, _, info_flags, *_ = _INFO.unpack(req)
    return flags, size, nr_ranges, info_flags


def info(buf, device=None):
    """COHBUF_IOCTL_INFO on BUF (a Buffer or a dma-buf fd): an Info.

    OSError with EINVAL if BUF is not a buffer cohbuf exported, EBADF if it
    is not an open fd. DEVICE as for Buffer.alloc().
    """
    fd = buf if isinstance(buf, int) else buf.fileno()
    ranges = array.array("Q")
    with _device(device) as dev:
        # Ask how many ranges there are, then fetch them all; a buffer's
        # ranges never change, so a second call sees the same number.
        flags, size, nr_ranges, info_flags = _info_call(dev, fd, ranges)
        if nr_ranges:
            ranges = array.array("Q", bytes(8 * _RANGE_WORDS * nr_ranges))
            flags, size, nr_ranges, info_flags = _info_call(dev, fd, ranges)
    visible = bool(info_flags & _INFO_DMA_ADDR)
    words = [ranges[i:i + _RANGE_WORDS]
             for i in range(0, _RANGE_WORDS * nr_ranges, _RANGE_WORDS)]
    return Info(size, flags, tuple(
        Range(offset, length, dma if visible else None)
        for offset, length, dma in words))


def fdinfo(fd, pid="self"):
    """The fields of /proc/PID/fdinfo/FD as a dict of strings.

    For a dma-buf they include size, exp_name ("cohbuf" for ours), ino,
    count and, once the buffer is named, name.
    """
    fields = {}
    with open(f"/proc/{pid}/fdinfo/{fd}", encoding="utf-8",
              errors="replace") as f:
        for line in f:
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
    return fields


class Buffer:
    """A dma-buf fd, owned: closing the Buffer closes the fd.

    Buffer.alloc() makes a new cohbuf buffer; Buffer(fd) adopts any dma-buf
    fd, for example one received with recv().
    """

    def __init__(self, fd):
        self._fd = fd

    @classmethod
    def alloc(cls, size, name=None, readonly=False, flags=0, device=None):
        """Allocate SIZE bytes (rounded up to whole pages).

        READONLY gives an O_RDONLY fd, which cannot be mapped writable.
        FLAGS are ALLOC_* flags: ALLOC_CONTIGUOUS for one physically
        contiguous range (what a device without an IOMMU, a camera for
        one, needs), ALLOC_DMA32 for memory below 4 GiB; a bit outside
        ALLOC_VALID_FLAGS is EINVAL. DEVICE is an open /dev/cohbuf fd;
        without it the device is opened for this call. If NAME is given
        and naming fails, the buffer is closed and the error raised.
        """
        fd_flags = (os.O_RDONLY if readonly else os.O_RDWR) | os.O_CLOEXEC
        req = bytearray(_ALLOC.pack(size, fd_flags, flags, -1, 0, 0, 0))
        with _device(device) as dev:
            fcntl.ioctl(dev, COHBUF_IOCTL_ALLOC, req)
        buf = cls(_ALLOC.unpack(req)[3])
        if name is not None:
            try:
                buf.set_name(name)
            except OSError:
                buf.close()
                raise
        return buf

    def fileno(self):
        if self._fd < 0:
            raise ValueError("the buffer is closed")
        return self._fd

    @property
    def fd(self):
        return self.fileno()

    @property
    def size(self):
        """The size in bytes, as lseek(fd, 0, SEEK_END) reports it."""
        return os.lseek(self.fileno(), 0, os.SEEK_END)

    @property
    def ino(self):
        """The inode number: two fds with the same one hold one buffer."""
        return os.fstat(self.fileno()).st_ino

    @property
    def name(self):
        """The name set with DMA_BUF_SET_NAME, or None."""
        return fdinfo(self.fileno()).get("name")

    def info(self, device=None):
        """COHBUF_IOCTL_INFO: size, flags and ranges, as an Info."""
        return info(self, device)

    def set_name(self, name):
        """DMA_BUF_SET_NAME: at most 31 bytes, else EINVAL."""
        if isinstance(name, str):
            name = name.encode()
        fcntl.ioctl(self.fileno(), DMA_BUF_SET_NAME, name + b"\0")

    def map(self, writable=None):
        """An mmap.mmap of the whole buffer, MAP_SHARED.

        Writable unless the fd is O_RDONLY (or WRITABLE is False).
        """
        if writable is None:
            accmode = fcntl.fcntl(self.fileno(), fcntl.F_GETFL) & os.O_ACCMODE
            writable = accmode != os.O_RDONLY
        prot = mmap.PROT_READ | (mmap.PROT_WRITE if writable else 0)
        return mmap.mmap(self.fileno(), self.size, mmap.MAP_SHARED, prot)

    def sync(self, direction, end=False):
        """DMA_BUF_IOCTL_SYNC: start (or END) CPU access in DIRECTION."""
        flags = direction | (_SYNC_END if end else 0)
        fcntl.ioctl(self.fileno(), DMA_BUF_IOCTL_SYNC, _SYNC.pack(flags))

    def cpu_access(self, direction=RW):
        """A context manager bracketing CPU access with sync()."""
        return _CpuAccess(self, direction)

    def close(self):
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def __repr__(self):
        if self._fd < 0:
            return "<cohbuf.Buffer closed>"
        return f"<cohbuf.Buffer fd={self._fd} size={self.size} ino={self.ino}>"


class _CpuAccess:
    def __init__(self, buf, direction):
        self._buf = buf
        self._direction = direction

    def __enter__(self):
        self._buf.sync(self._direction)
        return self._buf

    def __exit__(self, *exc):
        self._buf.sync(self._direction, end=True)


def send(sock, buffers, payload=b"\0"):
    """Send the buffers' fds (SCM_RIGHTS) with PAYLOAD, at least one byte."""
    if not payload:
        raise ValueError("the payload must not be empty")
    if not 0 < len(buffers) <= MAX_FDS:
        raise ValueError(f"send 1 to {MAX_FDS} buffers")
    fds = [b if isinstance(b, int) else b.fileno() for b in buffers]
    sent = socket.send_fds(sock, [payload], fds)
    if sent != len(payload):
        raise OSError(f"sent {sent} of {len(payload)} bytes")


def recv(sock, bufsize=4096, maxfds=MAX_FDS):
    """Receive (payload, [Buffer, ...]) sent by send().

    Raises EOFError when the peer closed the socket without sending.
    """
    payload, fds, msg_flags, _ = socket.recv_fds(sock, bufsize, maxfds,
                                                 socket.MSG_CMSG_CLOEXEC)
    buffers = [Buffer(fd) for fd in fds]
    if msg_flags & (socket.MSG_CTRUNC | socket.MSG_TRUNC):
        for buf in buffers:
            buf.close()
        raise OSError("message or fds truncated")
    if not payload and not buffers:
        raise EOFError("the peer closed the socket")
    return payload, buffers
