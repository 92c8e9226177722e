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
    read as held, the safe side), :class:`OSError` when the file cannot be opened."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        raise Held(path, int(holder) if holder.isdigit() else None) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd
