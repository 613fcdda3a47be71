"""Bounded file input and output: the one way any input file is opened (the bottom layer).

:func:`open_regular` opens only regular files, of a bounded size, so a rule or data path that is
a named pipe, a device or a huge file is refused with a reason instead of hanging or filling
memory; :func:`open_output` likewise refuses to write into anything but a regular file.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from typing import BinaryIO


class Unreadable(Exception):
    """An input file cannot be read; the message says why, for a person. ``missing``: there
    is nothing at all at that path."""

    def __init__(self, why: str, missing: bool = False) -> None:
        super().__init__(why)
        self.missing = missing


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def open_regular(path: str | os.PathLike[str], max_bytes: int) -> io.BufferedReader:
    """Open ``path`` for reading in binary if it is a regular file of at most ``max_bytes``.

    A dangling or looping symbolic link, a named pipe (which would block for ever), a device
    (``/dev/zero`` never ends) or an oversized file raise :class:`Unreadable` saying which.
    The file is opened first and examined after, so what is checked is what is read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ENOENT and os.path.islink(path):
            raise Unreadable(f"it is a symbolic link to {os.readlink(path)}, which does not "
                             "exist") from None
        if e.errno == errno.ELOOP:
            raise Unreadable("it is a symbolic link that leads back to itself") from None
        if e.errno == errno.ENOENT:
            raise Unreadable("no such file", missing=True) from None
        if e.errno == errno.EISDIR:
            raise Unreadable("it is a folder, not a file") from None
        raise Unreadable(e.strerror or str(e)) from None
    try:
        st = os.fstat(fd)
        kind = next((name for test, name in _KINDS if test(st.st_mode)), None)
        if kind is not None or not stat.S_ISREG(st.st_mode):
            raise Unreadable(f"it is {kind}, not a regular file" if kind
                             else "it is not a regular file")
        if st.st_size > max_bytes:
            raise Unreadable(f"it has {st.st_size:,} bytes; the limit is {max_bytes:,}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_output(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` for writing, creating or emptying it, if it is (or will be) a regular file.

    Writing to a named pipe nobody reads would block for ever, so something other than a
    regular file at that path raises ``OSError`` saying what it is, without waiting."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as e:
        if e.errno == errno.ENXIO:  # a named pipe with no reader
            raise OSError(e.errno, "it is a named pipe (FIFO), not a regular file") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a file")
            raise OSError(errno.EINVAL, f"it is {kind}, not a regular file")
        os.ftruncate(fd, 0)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise
