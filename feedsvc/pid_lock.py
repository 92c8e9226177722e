"""One process at a time: an exclusive ``flock`` on a file that holds the holder's pid.

Used where two processes would harm each other and nothing else stops the second one: two
demos in one directory (one DB, one port), and two schedulers on one SQLite state DB. A
dispatcher on SQLite takes back every lease at its start, since on one file there is no other
process to hold one; a second ``feedsvc run`` took the first one's alerts in flight and sent
them again (a tester's: 48 messages for 45 deliveries). The kernel releases the lock when the
process ends, even by SIGKILL, so a stale file never blocks the next start.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Beside an SQLite state DB ``X``: the file whose lock the one scheduler of ``X`` holds.
SCHEDULER_LOCK_SUFFIX = "-scheduler.lock"


def scheduler_lock(state_file: Path) -> Path:
    """The lock file of the one scheduler on the SQLite state DB ``state_file``."""
    return state_file.with_name(state_file.name + SCHEDULER_LOCK_SUFFIX)


#: The locks this process took (:func:`take`): resolved path → descriptor.
_HELD: dict[Path, int] = {}


class Held(Exception):
    """Another process holds the lock; ``pid`` is what it wrote (None when unreadable)."""

    def __init__(self, path: Path, pid: int | None) -> None:
        super().__init__(f"{path} is held" + (f" by pid {pid}" if pid else ""))
        self.path = path
        self.pid = pid


def take(path: Path) -> int:
    """Hold ``path``'s lock (created if missing) and write this pid into it; the file
    descriptor, to keep open for as long as the lock must hold (closing it releases it).

    Raises :class:`Held` when another process holds it (or the file system has no ``flock``:
    read as held, the safe side), :class:`OSError` when the file cannot be opened or written
    (``feedsvc.disk_space``: out of space is a moment's, exit 1)."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        raise Held(path, int(holder) if holder.isdigit() else None) from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    except OSError:  # a full disk: not held, released (the caller says why, disk_space)
        os.close(fd)
        raise
    _HELD[path.resolve()] = fd
    return fd


def holder(path: Path) -> int | None:
    """The pid another process wrote into ``path``'s lock while holding it (0 when unreadable),
    else None: not held, missing (never created here), or held by this process.

    Why this process is told by :data:`_HELD`, not by the pid in the file: ``flock`` locks
    belong to an open file, so our own lock conflicts with the probe like anyone's, and a pid
    names no process across PID namespaces — a service in a container is pid 1, and so is a
    ``db upgrade`` in the next container (a verifier's: it took the running service's lock
    for its own and migrated under it)."""
    import fcntl

    if _holding(path):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        written = os.read(fd, 32).decode("ascii", "replace").strip()
        return int(written) if written.isdigit() else 0
    finally:
        os.close(fd)  # closing it drops the probe's own shared lock
    return None


def _holding(path: Path) -> bool:
    """Does this process still hold ``path``'s lock through :func:`take`'s descriptor (open,
    on the same file: a descriptor closed since, or its number reused, is not)?"""
    fd = _HELD.get(path.resolve())
    if fd is None:
        return False
    try:
        ours, there = os.fstat(fd), os.stat(path)
        same = (ours.st_dev, ours.st_ino) == (there.st_dev, there.st_ino)
    except OSError:
        same = False
    if not same:
        _HELD.pop(path.resolve(), None)
    return same
