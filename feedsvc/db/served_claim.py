"""A running service's claim on its SQLite state DB file: which file (device, inode) the
feedsvc processes serving that path opened, held for as long as they run, where commands look
before they create, open or write a state DB at that path.

Why: the scheduler lock (``<db>-scheduler.lock``, :mod:`feedsvc.pid_lock`) told a command that
a service runs on a path whose file was moved away, but ``mv var/state.db* elsewhere/`` moves
that lock too, and then ``db upgrade`` or ``import`` created a new DB beside the running
service (exit 0); and a file put back at the path that is not the service's (a ``cp`` of it,
an older backup, another database) was written while the service ran on its own moved file:
the rows went where nothing reads them, or the service then refused its DB (a tester's D4
holes). So every process serving the file (``run`` in any role, web-only replicas included,
and the demo: :class:`feedsvc.app.Service`) holds a claim on :func:`claim_path` — a hidden
file beside the DB, ``.state.db.served``, which neither the ``state.db*`` glob nor ``*``
moves — recording the identity of the file it opened and its pid;
``feedsvc.db.served_state.served_problem`` (the one decision) refuses a command when the path
holds no database, or another file than the claimed one, or the claimed one without its WAL.

The claim is a shared OFD lock (``F_OFD_SETLK``, Linux): replicas on one file hold it
together; the kernel drops it when the last descriptor closes, however the process ends
(SIGKILL too: a stale file claims nothing). A command asks with ``F_OFD_GETLK``, which takes
no lock, so two commands never mistake each other for a service, and a command never makes a
starting service read another's claim. Elsewhere than on Linux nothing is claimed.
"""

from __future__ import annotations

import logging
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedsvc.db.sqlite_file import SameFile

log = logging.getLogger(__name__)

#: ``struct flock`` on Linux (``l_type``, ``l_whence``, ``l_start``, ``l_len``, ``l_pid``).
_FLOCK = "hhqqi4x"
#: How long a starting service retries a claim on another file (s): its holders may be ending.
SETTLE_SECONDS = 2.0
#: The most of a claim file read (bytes): a line per process that joined it.
CLAIM_READ = 65536

#: A file's identity: (``st_dev``, ``st_ino``).
Identity = tuple[int, int]

#: The claims this process holds: claim file (resolved) → descriptors (an in-process test may
#: start two services on one file).
_HELD: dict[Path, set[int]] = {}


def claim_path(file: Path) -> Path:
    """Where the claim on the state DB ``file`` is: ``.<name>.served`` in its directory (a
    dot file: ``mv state.db* elsewhere/`` and ``mv var/* elsewhere/`` leave it)."""
    return file.with_name(f".{file.name}.served")


@dataclass(frozen=True)
class Claim:
    """Another process's live claim: the pids that wrote it (the first is the one that made
    it; empty when unreadable) and the file they serve (None while it is being written)."""

    path: Path
    pids: tuple[int, ...]
    identity: Identity | None
    #: the pids among :attr:`pids` that run the scheduler (ingest and alerts)
    schedulers: tuple[int, ...] = ()

    def pid_words(self) -> str:
        """`` (pid 12)``, `` (pid 12, 40)``, or nothing: how a message names its holders."""
        return f" (pid {', '.join(map(str, self.pids))})" if self.pids else ""


def _commands() -> tuple[int, int, int] | None:
    import fcntl
    import sys

    if sys.platform != "linux" or not hasattr(fcntl, "F_OFD_GETLK"):
        return None
    return fcntl.F_OFD_GETLK, fcntl.F_OFD_SETLK, fcntl.F_OFD_SETLKW


def _lock(fd: int, command: int, kind: int) -> int:
    """``fcntl`` an OFD lock of ``kind`` on the whole file; the answer's ``l_type``."""
    import fcntl

    answer = fcntl.fcntl(fd, command, struct.pack(_FLOCK, kind, os.SEEK_SET, 0, 0, 0))
    kind_now: int = struct.unpack(_FLOCK, answer)[0]
    return kind_now


#: The role word a scheduler's claim line ends with (:func:`_line`).
SCHEDULER = "scheduler"


def _line(identity: Identity, *, scheduler: bool = False) -> bytes:
    role = f" {SCHEDULER}" if scheduler else " web"
    return f"{os.getpid()} {identity[0]} {identity[1]}{role}\n".encode("ascii")


def _parsed(text: bytes, path: Path) -> Claim:
    """A claim file's lines, ``<pid> <st_dev> <st_ino> [<role>]`` (a claim written before
    the role was recorded has none: no scheduler known): the identity is the first line's (a
    line not whole yet, being appended, is left out)."""
    pids: list[int] = []
    schedulers: list[int] = []
    identity: Identity | None = None
    for line in text.decode("ascii", "replace").split("\n")[:-1]:
        parts = line.split()
        if len(parts) not in (3, 4) or not all(p.isdigit() for p in parts[:3]):
            continue
        pid, dev, ino = map(int, parts[:3])
        if identity is None:
            identity = (dev, ino)
        if (dev, ino) != identity:
            continue
        if pid not in pids:
            pids.append(pid)
        if parts[3:] == [SCHEDULER] and pid not in schedulers:
            schedulers.append(pid)
    return Claim(path, tuple(pids), identity, tuple(schedulers))


def _alive(pid: int) -> bool:
    """Whether ``pid`` names a live process (signal 0; one of another user is: EPERM)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _living(claim: Claim) -> Claim:
    """``claim`` without the pids of processes that ended (a claim keeps every joiner's line
    while any holder lives: a tester's refusal named a service stopped long before); as read
    when none is seen alive (another PID namespace: a live holder holds it)."""
    pids = tuple(p for p in claim.pids if _alive(p))
    if not pids:
        return claim
    schedulers = tuple(p for p in claim.schedulers if p in pids)
    return Claim(claim.path, pids, claim.identity, schedulers)


def claimed(file: Path) -> Claim | None:
    """Another live process's claim on the state DB ``file`` (:func:`claim_path`), else None:
    none there, not held, this process's own (``run`` asks again while it serves:
    ``schema_watch``), unreadable, or not Linux. Takes no lock and creates nothing."""
    commands = _commands()
    if commands is None:
        return None
    import fcntl

    path = claim_path(file)
    if _holding(path):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        if _lock(fd, commands[0], fcntl.F_WRLCK) == fcntl.F_UNLCK:
            return None
        return _living(_parsed(os.pread(fd, CLAIM_READ, 0), path))
    except OSError:
        return None
    finally:
        os.close(fd)


def _holding(path: Path) -> bool:
    """Does this process hold the claim ``path`` (through a descriptor still on that file)?"""
    try:
        there = os.stat(path)
        return any(
            (ours.st_dev, ours.st_ino) == (there.st_dev, there.st_ino)
            for ours in map(os.fstat, _HELD.get(path.resolve(), ()))
        )
    except OSError:
        return False


class ClaimedElsewhere(Exception):
    """Other live processes claim ``file`` for another file than this one opened."""

    def __init__(self, file: Path, claim: Claim, ours: Identity) -> None:
        super().__init__(f"{claim.path} claims inode {claim.identity}, not {ours}")
        self.file = file
        self.claim = claim
        self.ours = ours


def hold(file: Path, identity: Identity, *, scheduler: bool = False) -> int | None:
    """Claim the state DB ``file`` as serving the file ``identity`` (what this process
    opened) until :func:`release_claim` (or the process ends); the descriptor, or None when
    nothing could be claimed (not Linux; the claim file cannot be made, opened or written: a
    WARNING naming it, the service runs unclaimed).

    The first holder writes its line (``<pid> <st_dev> <st_ino> <role>``: ``scheduler``
    when this process runs it, else ``web``) under an exclusive lock,
    then holds it shared; a process finding it held waits for that write, reads the claim and
    joins (appends its line) when it names the same file: replicas. Raises
    :class:`ClaimedElsewhere` when the holders still name another file after
    :data:`SETTLE_SECONDS` (a claim read as its last holder ended is taken over at once)."""
    commands = _commands()
    if commands is None:
        return None
    import fcntl

    _get, setlk, setlkw = commands
    path = claim_path(file)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW,
                     0o644)  # fmt: skip
    except OSError as exc:
        _unclaimed(path, exc)
        return None
    deadline = time.monotonic() + SETTLE_SECONDS
    try:
        while True:
            try:
                _lock(fd, setlk, fcntl.F_WRLCK)
            except (BlockingIOError, PermissionError):  # held: read it once it is written
                _lock(fd, setlkw, fcntl.F_RDLCK)
                claim = _parsed(os.pread(fd, CLAIM_READ, 0), path)
                if claim.identity == identity:
                    os.write(fd, _line(identity, scheduler=scheduler))
                    break
                if time.monotonic() >= deadline:
                    raise ClaimedElsewhere(file, claim, identity) from None
                _lock(fd, setlk, fcntl.F_UNLCK)  # its holders may be ending: again
                time.sleep(0.05)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, _line(identity, scheduler=scheduler))
            _lock(fd, setlk, fcntl.F_RDLCK)  # atomic: never unlocked in between
            break
    except ClaimedElsewhere:
        os.close(fd)
        raise
    except OSError as exc:
        os.close(fd)
        _unclaimed(path, exc)
        return None
    _HELD.setdefault(path.resolve(), set()).add(fd)
    return fd


def _unclaimed(path: Path, exc: OSError) -> None:
    why = (exc.strerror or type(exc).__name__).lower()
    log.warning(
        "cannot claim the state DB through %s (%s): commands run while this service runs "
        "cannot tell when its file was moved away or replaced; make that file writable for "
        "the user running feedsvc, or remove it while no feedsvc runs on that DB",
        path,
        why,
    )


def release_claim(fd: int | None) -> None:
    """End the claim :func:`hold` gave (nothing for None); its file stays (removing a lock
    file races with a process opening it)."""
    if fd is None:
        return
    for held in _HELD.values():
        held.discard(fd)
    os.close(fd)


def claim_served(same: SameFile | None, *, scheduler: bool = False) -> int | None:
    """Claim the file a serving process's state DB opened (``same``: its engines' shared
    :class:`~feedsvc.db.sqlite_file.SameFile`; None, or nothing opened yet: no claim) with
    :func:`hold` (``scheduler``: this process runs the scheduler, which a second scheduler's
    start reads, ``feedsvc.cli.service.one_scheduler``); the descriptor for
    :func:`release_claim`. Raises ``revision.ServedError`` (exit 1)
    when live processes serve another file at that path: this one started on a file put there
    since (``served_state.served_problem``'s words, which its start asked first)."""
    if same is None or (file := same.path()) is None or (identity := same.identity()) is None:
        return None
    try:
        return hold(file, identity, scheduler=scheduler)
    except ClaimedElsewhere as other:
        from feedsvc.db.revision import ServedError
        from feedsvc.db.served_state import REPLACED_SERVED

        was = other.claim.identity[1] if other.claim.identity else "?"
        raise ServedError(
            REPLACED_SERVED.format(
                file=file,
                pid=other.claim.pid_words(),
                lock=other.claim.path,
                was=was,
                now=identity[1],
            )
        ) from None
