"""Another process's POSIX (``fcntl``) write-excluding lock on a byte range of a file, asked
without taking one: the one probe behind ``sqlite_file.sqlite_locked`` (SQLite's lock bytes
on a state DB file) and ``wal_sides.shm_in_use`` (the ``-shm``'s DMS byte). Linux only: the
callers say what an answer elsewhere means."""

from __future__ import annotations

import os
from pathlib import Path


def write_lock_conflict(path: Path | str, start: int, length: int, flags: int = 0) -> bool | None:
    """Whether a write lock on ``length`` bytes from ``start`` of ``path`` would conflict with
    another process's lock (``F_GETLK`` on a descriptor opened ``O_RDONLY | flags``, closed
    after: this process must hold no lock on the file, whose close would drop it); None when
    ``F_GETLK`` itself failed.

    Raises OSError: ``path`` could not be opened (missing, no permission, a symlink with
    ``O_NOFOLLOW``)."""
    import fcntl
    import struct

    ask = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | flags)
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, ask)
    except OSError:
        return None
    finally:
        os.close(fd)
    held: int = struct.unpack("hhqqi4x", answer)[0]
    return held != fcntl.F_UNLCK
