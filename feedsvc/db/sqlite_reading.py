"""How a command that only reads opens an SQLite state DB that this user cannot write.

Why: the state DB is in WAL mode, and SQLite reads a WAL database only through its ``-shm``
index, which it creates beside the file when it is missing. ``feedsvc status``, ``topics
list``, ``articles find``, ``render``, ``db current``… run by an operator other than the
service's user (the file or its directory owned by the service, a 0444 file in a 0555
directory, a read-only mount, ``chattr +i``) therefore failed with "attempt to write a
readonly database", exit 1, although they only read. Where the directory was writable but the
file was not, SQLite made ``-wal``/``-shm`` files owned by the operator with the file's mode
and left them behind, which a service running as another user could then not write.

:func:`reading` is the one decision, taken before anything connects, for the lite path
(``feedsvc.store.lite``) and for SQLAlchemy's (``feedsvc.db.Database(..., reading=True)``):

- the file and its directory writable by this process (or the URL already says
  ``immutable``): opened as the URL says, as before;
- a ``-wal`` or ``-shm`` beside it (a service running, or one that stopped without cleaning
  up): ``mode=ro``, which reads that index read-only (SQLite ≥ 3.22) and the log's newest
  writes with it, taking its locks as every reader does;
- neither (no process has the DB open: a WAL database's last close removes both): the file is
  everything there is, read with ``immutable=1`` (no lock, no ``-shm``); that is safe only
  while nobody writes, so :meth:`ReadOpening.check` compares the file's identity, size and
  modification time, and the absence of a ``-wal``, after the reads with before, and a change
  (a service started and checkpointed meanwhile) is :class:`ChangedWhileRead`: the command
  says to run it again rather than print what may be a torn read. A DB in rollback-journal
  mode (not feedsvc's, but a copy may be) needs no ``-shm``: ``mode=ro``.
- a file system that is full (``disk_space.full``: under 1 MiB or no inode left), even one
  this user may write: SQLite makes or grows the ``-shm`` to read (32 KiB), which failed there
  with "disk I/O error" — ``feedsvc status`` said the DB was out of space instead of showing
  it, exit 1, and left an empty ``-wal`` and a 3-byte ``-shm`` behind —, and the last reader's
  close checkpoints, a write. So: a ``-shm`` holding an index (a service running, or stopped
  on the full disk) is read ``mode=ro&readonly_shm=1``, the index mapped read-only
  (:func:`_shm_index`). A WAL with frames but no such ``-shm`` (a restore of the file and its
  ``-wal``, a removed ``-shm``, a failed open's 3 bytes) has no index to map: ``readonly_shm``
  failed "unable to open database file", exit 1. It is read with the index in heap memory,
  which SQLite does only in ``locking_mode=EXCLUSIVE`` (wal.html, "Use of WAL Without
  Shared-Memory"); that mode write-locks the file, refused on a read-only descriptor ("disk
  I/O error"), hence SQLite's lock-less ``unix-none`` VFS with ``mode=ro``
  (:data:`HEAP_INDEX_VFS`; :func:`heap_index` sets the mode at each connect). No service can
  have that file open (a running WAL writer always has its ``-shm``), and the file's and the
  ``-wal``'s stamps are checked after the read as for ``immutable``. With neither (or only
  what a failed open left) the file is read ``immutable`` as above. Nothing is written
  either way, and the ``-wal``'s committed frames are read (:func:`_wal_frames`).

Writers are not decided here: ``feedsvc.db.writable`` refuses them, exit 2, naming the file
(:func:`unwritable`, before they connect: nothing is made beside it).

The publisher's SQLite file (``source.url``) is opened the same way, per connection
(``feedsvc.db.drivers.never_created``): feedsvc only reads it, and a CMS file owned by the
CMS's user (0444, a directory feedsvc may not write) made ``source check`` and ingest fail with
"attempt to write a readonly database" (SQLite's ``SQLITE_READONLY_DIRECTORY``: no ``-shm``
could be made). Where even that reading fails, :func:`unreadable` names the file and the
permission to grant.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_from_bytes

from feedsvc.db.revision import SchemaError
from feedsvc.db.sqlite_url import SqliteTarget, uri_params
from feedsvc.disk_space import full

#: Byte 18 of an SQLite file header: 2 when the file is in WAL mode ("file format" version).
_WAL_FORMAT_OFFSET = 18


class ChangedWhileRead(SchemaError):
    """The state DB file changed while a command read it without locks (exit 1: run again)."""


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a write to an SQLite file changes, as ``stat`` sees it, and whether a ``-wal`` is
    beside it."""

    device: int
    inode: int
    size: int
    modified_ns: int
    #: the ``-wal``'s size and modification time, None when there is none
    wal: tuple[int, int] | None

    @classmethod
    def of(cls, path: Path) -> Stamp:
        found = path.stat()
        try:
            log = Path(f"{path}-wal").lstat()
            wal: tuple[int, int] | None = (log.st_size, log.st_mtime_ns)
        except FileNotFoundError:
            wal = None
        return cls(found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, wal)


@dataclass(frozen=True, slots=True)
class ReadOpening:
    """What to hand ``sqlite3.connect`` (``target``) and, for an ``immutable`` opening chosen
    here, the file as it was before (``stamp``), checked by :meth:`check` after reading."""

    target: SqliteTarget
    path: Path | None = None
    stamp: Stamp | None = None
    where: str = ""
    role: str = "state DB"
    again: str = "run the command again"
    #: why it was read without SQLite's locks, for :meth:`check`'s message
    why: str = "this user cannot write {path} or its directory"  # _UNWRITABLE

    def check(self) -> None:
        """Raise :class:`ChangedWhileRead` when the file read without locks has changed."""
        if self.stamp is None or self.path is None:
            return
        try:
            now = Stamp.of(self.path)
        except OSError:
            now = None
        if now != self.stamp:
            raise ChangedWhileRead(
                f"the {self.role} {self.where} changed while it was read "
                f"({self.why.format(path=self.path)}, so it was read without SQLite's locks, "
                f"and another process wrote it meanwhile): {self.again}"
            )


def reading(
    target: SqliteTarget, where: str, role: str = "state DB", again: str = "run the command again"
) -> ReadOpening:
    """How a command that only reads opens the SQLite file ``target`` names (``where``: its
    URL as shown, ``role`` what it is and ``again`` what to do, for :meth:`ReadOpening.check`'s
    message). See the module docstring. A path
    that cannot be examined (a directory above it that cannot be entered) is opened as the URL
    says: the revision check words that (``sqlite_location.sqlite_location_problem``)."""
    try:
        path = target.file()
        if path is None or _says_immutable(target) or not path.is_file():
            return ReadOpening(target)
        no_room = full(path.parent)  # writable, but a -shm made or grown there fails
        if _writable(path) and not no_room:
            return ReadOpening(target)
        if no_room and _shm_index(path):  # the index read as it is: nothing written
            return ReadOpening(_with_options(target, path, mode="ro", readonly_shm="1"))
        if not no_room and (os.path.lexists(f"{path}-wal") or os.path.lexists(f"{path}-shm")):
            return ReadOpening(_with_options(target, path, mode="ro"))
        why = _FULL if no_room else _UNWRITABLE
        stamp = Stamp.of(path)
        if no_room and _wal_frames(path):  # no index to map: one built in heap memory
            heap = _with_options(target, path, mode="ro", vfs=HEAP_INDEX_VFS)
            return ReadOpening(heap, path, stamp, where, role, again, why)
        if not _wal_mode(path):
            return ReadOpening(_with_options(target, path, mode="ro"))
    except (OSError, ValueError):  # SqlitePathError is a ValueError
        return ReadOpening(target)
    immutable = _with_options(target, path, mode="ro", immutable="1")
    return ReadOpening(immutable, path, stamp, where, role, again, why)


#: :meth:`ReadOpening.check`'s reason: a full file system, or one this user may not write.
_FULL, _UNWRITABLE = "its file system is full", "this user cannot write {path} or its directory"

#: The VFS a full disk's WAL without a ``-shm`` is read through: SQLite's unix VFS without
#: file locks, so ``locking_mode=EXCLUSIVE`` (a heap-memory WAL index) takes none on the
#: read-only descriptor (see the module docstring).
HEAP_INDEX_VFS = "unix-none"


def heap_index(conn: sqlite3.Connection, target: SqliteTarget) -> None:
    """Ready ``conn``, just opened on ``target``, to read: for a :data:`HEAP_INDEX_VFS`
    opening, ``locking_mode=EXCLUSIVE`` before its first read, without which SQLite reads no
    WAL on that VFS ("unable to open database file"). Every reader's connect calls it."""
    if target.uri and uri_params(target.filename).get("vfs") == HEAP_INDEX_VFS:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")


def unreadable(path: Path) -> str | None:
    """Why this process cannot read the SQLite file ``path``, with what to grant, or None when
    every permission a reader needs is there: search (``x``) on each directory above it, read
    on the file and on the ``-wal`` and ``-shm`` beside it (a WAL database while its writer has
    it open: SQLite reads the newest writes from there), and a ``-shm`` it can create when a
    ``-wal`` has none (a verifier's: "unable to open database file"). ``os.access`` (real
    uid): an operator runs feedsvc as the service's user itself, never set-uid."""
    user = process_user()
    for parent in reversed(path.parents):
        if not os.access(parent, os.X_OK):
            return (
                f"the SQLite file {path} cannot be reached by the user {user}: grant it search "
                f"permission (x) on the directory {parent}"
            )
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if os.path.lexists(file) and not os.access(file, os.R_OK):
            return (
                f"the SQLite file {file} cannot be read by the user {user}: grant it read "
                f"permission (r) on {file}; feedsvc only reads it"
                + ("" if file == path else f" (SQLite reads {path}'s newest writes there)")
            )
    shm = Path(f"{path}-shm")
    if (
        os.path.lexists(f"{path}-wal")
        and not os.path.lexists(shm)
        and not os.access(path.parent, os.W_OK | os.X_OK)
    ):  # SQLite reads a -wal only through a -shm it may create (a writer that died, -shm gone)
        return (
            f"the SQLite file {path} has writes in {path}-wal but no {shm}, which SQLite needs "
            f"to read them and the user {user} cannot create in {path.parent}: grant it write "
            f"permission (w) on {path.parent}, or have the CMS's database checkpoint its WAL "
            f"({shlex.join(['sqlite3', str(path), 'PRAGMA wal_checkpoint(TRUNCATE)'])})"
        )
    return None


def unwritable(path: Path) -> Path | None:
    """The first of the SQLite file ``path``, its ``-wal`` and its ``-shm`` that is there and
    this process may not write, or None. Asked by a writer before anything connects
    (``feedsvc.db.writable``): SQLite opens a file it may not write read-only and still makes
    the ``-wal`` and ``-shm`` beside it, with the file's mode (0444), where the directory lets
    it. The refused writer left them behind, and once the file was made writable every writer
    still failed on that ``-shm`` ("attempt to write a readonly database") while the message
    asked for the permissions of the file and its directory, both right by then."""
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if os.path.lexists(file) and not os.access(file, os.W_OK):
            return file
    return None


def process_user() -> str:
    """This process's user, by name when it has one (``nobody``), else its uid."""
    import pwd

    uid = os.getuid()
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def _writable(path: Path) -> bool:
    """Whether this process may write the file and make files beside it (``access``: a
    read-only mount and ``chattr +i`` say no too; root passes the permission bits)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


#: The size of a ``-shm`` that holds a WAL index (its first 32 KiB region): smaller, it is
#: what an open that failed for lack of space left (3 bytes), never read.
_SHM_REGION = 32 * 1024


def _shm_index(path: Path) -> bool:
    """Whether ``path`` has a ``-shm`` holding a WAL index (a service running, or stopped on
    the full disk): read through ``mode=ro&readonly_shm=1``, which writes nothing. Smaller, it
    is what a failed open left, and cannot be grown there ("disk I/O error")."""
    try:
        shm = Path(f"{path}-shm")
        return shm.exists() and shm.stat().st_size >= _SHM_REGION
    except OSError:
        return True  # not known: as a live index (an error is said, never a stale read)


def _wal_frames(path: Path) -> bool:
    """Whether ``path`` has a ``-wal`` holding frames: writes the file lacks, which a read
    must see (an empty or missing one holds nothing: the file alone, ``immutable``)."""
    try:
        wal = Path(f"{path}-wal")
        return wal.exists() and wal.stat().st_size > 0
    except OSError:
        return True  # not known: read through the WAL (an error is said, never a stale read)


def _wal_mode(path: Path) -> bool:
    """Whether the file's header says WAL mode (unreadable or short: assumed so, the state
    DB's own mode, so the careful opening is taken)."""
    try:
        with path.open("rb") as file:
            header = file.read(_WAL_FORMAT_OFFSET + 2)
    except OSError:
        return True
    return len(header) < _WAL_FORMAT_OFFSET + 2 or header[_WAL_FORMAT_OFFSET] == 2


def _says_immutable(target: SqliteTarget) -> bool:
    option = target.read_only()
    return option is not None and option.startswith("immutable")


def _with_options(target: SqliteTarget, path: Path, **options: str) -> SqliteTarget:
    """``target`` as a URI with ``options`` set (replacing the URL's own of those keys, its
    other keys kept: ``vfs``, ``cache``…); a plain path becomes ``file:`` + the resolved path,
    %-escaped as SQLite reads it."""
    if target.uri and target.filename.startswith("file:"):
        base, hash_, fragment = target.filename.partition("#")
        head, _, _query = base.partition("?")
        kept = {k: v for k, v in uri_params(target.filename).items() if k and k not in options}
    else:
        head = f"file:{quote_from_bytes(os.fsencode(str(path)), safe='/')}"
        hash_, fragment, kept = "", "", {}
    pairs = [f"{_escaped(k)}={_escaped(v)}" for k, v in {**kept, **options}.items()]
    return SqliteTarget(f"{head}?{'&'.join(pairs)}{hash_}{fragment}", True)


def _escaped(text: str) -> str:
    return quote_from_bytes(os.fsencode(text), safe="")
