"""**The one reading of a file system without room**: which OS errors are "out of space", how
a start that meets one exits, how it is said, and whether a file system is full now.

Why one place: a first ``run`` on a full disk could not write its scheduler lock and said
"cannot open the scheduler lock … (no space left on device) …: make it writable … (chown,
chmod)", exit 2 — the configuration's exit, which the shipped systemd unit never restarts
(``RestartPreventExitStatus=2``); with the lock file already there the same disk was "database
error …: OperationalError: disk I/O error", since SQLite says a failed write of its ``-shm`` or
WAL on a full disk as an I/O error, not as ``SQLITE_FULL`` (a tester's). Out of space (ENOSPC,
EDQUOT: a quota) is a moment's trouble an operator or a cleanup ends: exit 1, so a supervisor
retries, and words that say to free space. A read-only file system (EROFS) stays a
configuration fault (exit 2): no retry makes it writable.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

#: The errno values that mean no room is left (a quota's too): transient, exit 1.
OUT_OF_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
#: The CLI's exit codes (``feedsvc.cli.common``'s ``EXIT_FAILED``, ``EXIT_USAGE``).
EXIT_FAILED, EXIT_USAGE = 1, 2


def out_of_space(exc: BaseException) -> bool:
    """Whether ``exc`` is an OS error saying the file system has no room (:data:`OUT_OF_SPACE`)."""
    return isinstance(exc, OSError) and exc.errno in OUT_OF_SPACE


def exit_code(exc: OSError) -> int:
    """The exit of a start that could not write a file for ``exc``: 1 (retried by a
    supervisor) when out of space, else 2 (a permission, a read-only file system: the
    configuration's, which no retry mends)."""
    return EXIT_FAILED if out_of_space(exc) else EXIT_USAGE


def no_space(where: Path) -> str:
    """The words for a file system with no room at ``where`` (a file or its directory)."""
    return f"no space left on device at {where}: free space on that file system"


#: Free bytes below which a file system counts as full when a write has just failed on it:
#: SQLite grows its WAL and database by pages (4 KiB) and its ``-shm`` by 32 KiB, so a write
#: can fail with a few blocks still free.
NEARLY_FULL = 1 << 20


@dataclass(frozen=True, slots=True)
class Room:
    """What is left on a file system, as this process may use it (``statvfs``: root may use
    the reserved blocks): free bytes, free inodes (None where the file system counts none:
    btrfs), and whether that is :func:`full`'s "full"."""

    free_bytes: int
    free_inodes: int | None

    @property
    def full(self) -> bool:
        """Under :data:`NEARLY_FULL` bytes, or no inode left (a new ``-shm``/WAL file fails)."""
        return self.free_bytes < NEARLY_FULL or self.free_inodes == 0


def room(path: Path) -> Room | None:
    """The :class:`Room` on the file system holding ``path`` (or its nearest existing
    ancestor); None when it cannot be asked. One ``statvfs``: cheap enough for every status
    read (``feedsvc.state_disk``)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        fs = os.statvfs(probe)
    except OSError:
        return None
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    blocks = fs.f_bfree if root else fs.f_bavail
    inodes = fs.f_ffree if root else fs.f_favail
    return Room(blocks * fs.f_frsize, inodes if fs.f_files > 0 else None)


def full(path: Path) -> bool:
    """Whether the file system holding ``path`` (or its nearest existing ancestor) has less
    than :data:`NEARLY_FULL` bytes or no inode left for this user (:func:`room`); False when it
    cannot be asked. Asked after a write failed, and by ``feedsvc status`` (another process:
    ``feedsvc.state_disk``) and a read-only command's opening (``db.sqlite_reading``)."""
    left = room(path)
    return left is not None and left.full
