"""The ``-wal`` and ``-shm`` a process's connections to its SQLite state DB use, kept by
identity: no new connection opens the file unless the ``-wal`` and ``-shm`` at its path are
those same files, for as long as they exist anywhere (:class:`WalSides`); and, for commands,
whether a serving process has the ``-shm`` at a path mapped (:func:`shm_in_use`).

Why: a tester's ``mv var/state.db* away/`` under a running ``feedsvc run``, then ``mv
away/state.db var/`` alone: the service's pool had been emptied by the outage (no descriptor
on the file left, so the old check, "does this process hold the file open?", said no), and
its next connection made a new empty ``-wal`` and ``-shm`` beside the file while the moved
WAL still held the rows committed since the last checkpoint; ``status`` and ``import`` then
used the new WAL ("inserted 4"), and the old ``-wal``/``-shm`` moved back over the new ones
left the service writing to unlinked files: rows alerted and then gone, an article sent
twice, a ``disk I/O error``. A read-only connection makes a WAL where none is as well.

So the first connection that opens a ``-wal``/``-shm`` beside the file records them by an
``O_PATH`` descriptor (kept while they exist: its ``st_nlink`` says when SQLite's clean
close deleted them; an ``O_PATH`` descriptor's close drops none of this process's POSIX
locks, which SQLite's ``-shm`` locking depends on). While a recorded side exists (moved
away, renamed) or is still open here though deleted, a new connection of any kind is refused
unless the path's side is that file: an outage until ``state.db*`` is back in one ``mv``.
Linux only (``/proc/self/fd``, ``O_PATH``); elsewhere nothing is recorded.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import sys
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

from feedsvc.db.lock_probe import write_lock_conflict

#: The WAL-mode side files of a database ``F``, in the order words name them.
WAL_SIDES = ("-wal", "-shm")

#: ``O_PATH`` where Linux has it (0 elsewhere: nothing is recorded there)
_O_PATH = getattr(os, "O_PATH", 0)

#: This process's file at its path (``{file}``) without the ``-wal``/``-shm`` its connections
#: used (``{sides}``: the side files missing or other files than those).
SIDES_AWAY_STATE = (
    "the SQLite file {file} is here but {sides} beside it {are} not the one{s} this "
    "process's connections use (moved away with the file, or made since?); feedsvc opens no "
    "new connection to it without them (another WAL beside the file would split the "
    "database's history): move all of {file}* back in one command (mv elsewhere/{name}* "
    "{parent}/, the -wal, -shm and -scheduler.lock with the file), or restart feedsvc"
)

#: A new connection of this process that found ``{sides}`` missing beside ``{file}`` while
#: ``{file}*`` was being moved, and SQLite made them anew (:meth:`WalSides.others_open`).
SIDES_MADE_STATE = (
    "the SQLite file {file} was being moved while feedsvc opened a connection to it: {sides} "
    "{was} made anew beside it (a second WAL of one database); the connection was closed "
    "before it wrote, and no new one opens the file until its own -wal and -shm are back: "
    "move all of {file}* back in one command (mv elsewhere/{name}* {parent}/, which replaces "
    "{them})"
)

#: SQLite's unix VFS: the dead-man-switch byte of a ``-shm`` (``UNIX_SHM_DMS``), which every
#: connection that has it mapped holds a read lock on.
SHM_DMS_BYTE = 128


def _identity(fd: int) -> tuple[int, int, int]:
    """(device, inode, links) of an open descriptor."""
    found = os.fstat(fd)
    return found.st_dev, found.st_ino, found.st_nlink


def _own_descriptors(skip: set[int]) -> Iterator[tuple[int, os.stat_result]]:
    """This process's descriptors not in ``skip`` that use a file (``O_PATH`` ones, records',
    use nothing), with the file's status; none without ``/proc``."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return
    for fd in fds:
        try:
            number = int(fd)
            if number in skip or fcntl.fcntl(number, fcntl.F_GETFL) & _O_PATH:
                continue
            found = os.fstat(number)
        except (OSError, ValueError):  # closed meanwhile, or the listing's own descriptor
            continue
        yield number, found


def _open_by(ident: tuple[int, int], skip: set[int]) -> bool:
    """Whether this process holds the file ``ident`` open by a descriptor not in ``skip``
    (SQLite's: a connection keeps one on each file it uses); False without ``/proc``."""
    return any((f.st_dev, f.st_ino) == ident for _fd, f in _own_descriptors(skip))


def _said(template: str, file: Path, sides: list[str]) -> str:
    """``template`` (:data:`SIDES_AWAY_STATE`, :data:`SIDES_MADE_STATE`) said of ``file``'s
    ``sides`` (path names), in the singular or plural they need."""
    many = len(sides) > 1
    return template.format(
        file=file,
        sides=" and ".join(sides),
        are="are" if many else "is",
        was="were" if many else "was",
        them="them" if many else "it",
        s="s" if many else "",
        name=file.name,
        parent=file.parent,
    )


def _close_all(held: dict[str, int]) -> None:
    """Close the descriptors of a record (``WalSides.forget``, and when one is collected)."""
    for fd in held.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    held.clear()


class WalSides:
    """The ``-wal`` and ``-shm`` this process's connections use beside one database file, by
    ``O_PATH`` descriptor (see the module docstring). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}
        # the descriptors closed with the record: one left open keeps a deleted side's inode
        # (its disk space, a remount read-only) and, over many records, the process's fds
        weakref.finalize(self, _close_all, self._held)

    def complete(self) -> bool:
        """Whether both sides are recorded (nothing more to record)."""
        with self._lock:
            return len(self._held) == len(WAL_SIDES)

    def record(self, file: Path) -> None:
        """After a connection opened ``file`` (its identity checked by the caller): take the
        path's ``-wal``/``-shm`` as this process's where none is recorded and this process
        has them open (an immutable or failed opening has not: nothing recorded)."""
        if sys.platform != "linux" or not hasattr(os, "O_PATH"):
            return
        with self._lock:
            for side in WAL_SIDES:
                if side in self._held:
                    continue
                try:
                    fd = os.open(f"{file}{side}", os.O_PATH | os.O_CLOEXEC | os.O_NOFOLLOW)
                except OSError:
                    continue
                dev, ino, _links = _identity(fd)
                if _open_by((dev, ino), {fd}):
                    self._held[side] = fd
                else:
                    os.close(fd)

    def away(self, file: Path) -> list[str]:
        """The path names of ``file``'s recorded sides not at its path now (missing, or
        another file there); a side deleted everywhere and open by no connection here (a
        clean close deleted it) is forgotten, and the next connection's is recorded."""
        missing: list[str] = []
        with self._lock:
            for side, fd in list(self._held.items()):
                dev, ino, links = _identity(fd)
                if links == 0 and not _open_by((dev, ino), {fd}):
                    os.close(fd)  # O_PATH: drops no lock
                    del self._held[side]
                    continue
                try:
                    there = os.lstat(f"{file}{side}")
                except OSError:
                    missing.append(f"{file}{side}")
                    continue
                if (there.st_dev, there.st_ino) != (dev, ino):
                    missing.append(f"{file}{side}")
        return missing

    def problem(self, file: Path) -> str | None:
        """:data:`SIDES_AWAY_STATE` when a recorded side is not at ``file``'s path, else
        None."""
        away = self.away(file)
        return _said(SIDES_AWAY_STATE, file, away) if away else None

    def others_open(self, file: Path) -> list[str]:
        """The path names (``file``'s ``-wal``/``-shm``) of files this process holds open under
        a recorded side's name in ``file``'s directory (deleted since, too) that are not the
        recorded side: a connection opened while ``state.db*`` was being moved made them anew.

        Why: a new connection is checked before SQLite opens anything, and SQLite opens the
        ``-wal`` by name at the connection's first read; ``mv state.db* away/ && mv
        away/state.db .`` between the two made an empty ``-wal`` beside the file, which that
        connection then wrote through while the others wrote to the moved one, indexed by the
        one ``-shm`` this process maps per file: a second WAL of one database (a CI run of
        ``test_served_db_identity``; rows lost once the moved WAL is put back)."""
        with self._lock:
            recorded = {side: _identity(fd)[:2] for side, fd in self._held.items()}
        if not recorded:
            return []
        names = {f"{file.name}{side}": side for side in recorded}
        directory = os.path.realpath(file.parent)
        others: set[str] = set()
        try:
            fds = os.listdir("/proc/self/fd")
        except OSError:
            return []
        for fd in fds:  # by name first: a service's sockets cost one readlink each
            link = f"/proc/self/fd/{fd}"
            try:
                target = os.readlink(link)
                side = names.get(os.path.basename(target.removesuffix(" (deleted)")))
                if side is None or os.path.dirname(target) != directory:
                    continue  # another file, or another database of that name elsewhere
                number = int(fd)
                if fcntl.fcntl(number, fcntl.F_GETFL) & _O_PATH:
                    continue  # a record's (another engine's, of a deleted side): no use
                found = os.fstat(number)
                if not stat.S_ISREG(found.st_mode) or os.readlink(link) != target:
                    continue  # closed and its number reused meanwhile
            except (OSError, ValueError):  # closed meanwhile
                continue
            if (found.st_dev, found.st_ino) != recorded[side]:
                others.add(f"{file}{side}")
        return sorted(others)

    def made_problem(self, file: Path) -> str | None:
        """:data:`SIDES_MADE_STATE` when :meth:`others_open` finds any, else None."""
        made = self.others_open(file)
        return _said(SIDES_MADE_STATE, file, made) if made else None

    def forget(self) -> None:
        """Record anew (a DB this process has just created)."""
        with self._lock:
            _close_all(self._held)


def shm_in_use(file: Path) -> bool:
    """Whether another process has ``file``'s ``-shm`` mapped (a read lock on its
    :data:`SHM_DMS_BYTE`, held by every open WAL connection): a serving process's own
    ``-shm`` is; one a command or an operator put there since is not. Asked with
    ``F_GETLK`` on an ``O_RDONLY`` descriptor, closed after (this process has no SQLite
    lock on a ``-shm`` it is asked of: a command asks before it opens the file)."""
    if sys.platform != "linux":
        return True
    try:
        held = write_lock_conflict(f"{file}-shm", SHM_DMS_BYTE, 1, os.O_NOFOLLOW)
    except OSError:
        return False
    return True if held is None else held


def held_sides(file: Path, pids: tuple[int, ...]) -> dict[str, set[tuple[int, int]]] | None:
    """The files (device, inode) named like ``file``'s ``-wal``/``-shm`` (the base name, in
    any directory: moved away too) that the processes ``pids`` hold open and that still have a
    name (a deleted one is gone for everyone), by side; None when a process's descriptors
    cannot be read (another user's, no ``/proc``), or no pid is known."""
    if not pids:
        return None
    names = {f"{file.name}{side}": side for side in WAL_SIDES}
    held: dict[str, set[tuple[int, int]]] = {}
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        try:
            entries = list(fds.iterdir())
        except OSError:
            return None
        for fd in entries:
            try:
                target = os.readlink(fd)
                side = names.get(os.path.basename(target))
                if side is None:  # another file, or a deleted one ("… (deleted)")
                    continue
                found = os.stat(fd)
            except OSError:
                continue
            if found.st_nlink:
                held.setdefault(side, set()).add((found.st_dev, found.st_ino))
    return held
