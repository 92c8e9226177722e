"""**The state DB's file system as status shows it**: full or not, how much is left, where,
and — in the running service — since when.

Why: a state DB whose disk filled while ``feedsvc run`` went on was said once in the log
(:mod:`feedsvc.db.outage`), but ``feedsvc status``, ``/api/status`` and the admin's status page
said nothing of it: an operator saw ingest "nothing read lately" and a stale last poll with no
reason (nothing can be recorded in a full DB). Two readers, each with what it can know:

- the running service (:func:`seen_by_service`): its state DB's outage
  (:meth:`feedsvc.db.outage.Outage.disk_full`), full from the first write refused for lack of
  space until a write commits on a file system with room again; for an SQLite file the free
  space there now (``statvfs``) beside it. A PostgreSQL server's disk is the server's: full or
  not as the service's writes found it, nothing about its free space.
- ``feedsvc status`` (:func:`seen_from_here`), another process, which cannot see the service's
  memory nor write to a full DB: for an SQLite file, whether its file system is full now by
  :func:`feedsvc.disk_space.full`'s rule (under 1 MiB or no inode left) and what is left; for
  PostgreSQL, nothing (``full`` None: the server's disk is not seen from here; the running
  service's ``/api/status`` says it).

Both give a :class:`StateDisk`, the ``state_db_disk_full`` fact (:mod:`feedsvc.status`), worded
by ``catalogue.Translator.state_disk`` (the admin) and ``cli.service`` (the CLI's text).
Imports no SQLAlchemy (``feedsvc status``' start-up).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedsvc.disk_space import room

if TYPE_CHECKING:
    from datetime import datetime

    from feedsvc.db import Database


@dataclass(frozen=True, slots=True)
class StateDisk:
    """The state DB's file system: ``full`` (None: not known here — a PostgreSQL server's disk
    seen from ``feedsvc status``, or a file system that could not be asked), the directory
    holding the SQLite file (None for a server), what is left there now (None when not known;
    ``free_inodes`` None too where the file system counts no inodes), ``since``: when the
    running service's writes were first refused for lack of space (UTC; None otherwise), and
    ``server``: the state DB is a server's (PostgreSQL), not a file here."""

    full: bool | None
    directory: Path | None = None
    free_bytes: int | None = None
    free_inodes: int | None = None
    since: datetime | None = None
    server: bool = False

    def detail(self) -> dict[str, Any] | None:
        """The JSON object beside ``state_db_disk_full`` (``state_db_disk``): ``directory``,
        ``free_bytes``, ``free_inodes``, ``full_since``; None when none of them is known."""
        values = {
            "directory": None if self.directory is None else str(self.directory),
            "free_bytes": self.free_bytes,
            "free_inodes": self.free_inodes,
            "full_since": self.since,
        }
        return values if any(v is not None for v in values.values()) else None


def _directory(file: Path | None) -> StateDisk:
    """The directory holding the SQLite ``file`` and what is left there now (full by
    :func:`feedsvc.disk_space.full`'s rule); unknown for a server's DB (``file`` None) or a
    file system that cannot be asked."""
    if file is None:
        return StateDisk(None)
    left = room(file.parent)
    if left is None:
        return StateDisk(None, file.parent)
    return StateDisk(left.full, file.parent, left.free_bytes, left.free_inodes)


def seen_from_here(url: str) -> StateDisk:
    """``feedsvc status``' reading of the state DB at ``url``: an SQLite file's file system
    now; nothing for a server (another process cannot see its disk)."""
    from feedsvc.db.where import state_db

    where = state_db(url)
    if not where.sqlite:
        return StateDisk(None, server=True)
    return _directory(where.file)


def seen_by_service(db: Database) -> StateDisk:
    """The running service's reading of its state DB ``db``: full while its outage is a full
    disk (:meth:`~feedsvc.db.outage.Outage.disk_full`), with since when; for an SQLite file
    the directory and what is left there now."""
    found = db.outage.disk_full()
    file = db.where.file if db.where.sqlite else None
    here = _directory(file)
    since = None if found is None else found.since
    return StateDisk(
        found is not None, here.directory, here.free_bytes, here.free_inodes, since,
        server=not db.where.sqlite,
    )  # fmt: skip


def said(disk: StateDisk) -> str:
    """``feedsvc status``' line for ``disk``, in English with plain digits as every CLI line
    (the admin's words: ``catalogue.Translator.state_disk``); a full one in the words the log
    and a start on a full disk use (:func:`feedsvc.disk_space.no_space`)."""
    from feedsvc.disk_space import no_space

    left = [] if disk.free_bytes is None else [f"{disk.free_bytes} bytes"]
    left += [] if disk.free_inodes is None else [f"{disk.free_inodes} inodes"]
    free = f"{', '.join(left)} free" if left else "free space not known"
    if disk.full is None:
        if disk.server:  # only the service's writes tell
            return (
                "- (a PostgreSQL server's disk is not seen from here: a running service's "
                "/api/status says whether its writes found it full)"
            )
        return "-" if disk.directory is None else f"- ({disk.directory} could not be asked)"
    if disk.directory is None:
        return "yes: no space left on the database server's disk" if disk.full else "no"
    if disk.full:
        return f"yes: {no_space(disk.directory)} ({free})"
    return f"no ({free} at {disk.directory})"
