"""Whether a command may use the SQLite state DB at a path while another feedsvc serves that
path: :func:`served_problem`, the one decision, and its words.

Split from :mod:`feedsvc.db.sqlite_file` (the file as this process's engines open it); the
claim it reads is :mod:`feedsvc.db.served_claim`'s. No SQLAlchemy.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from feedsvc.db.sqlite_file import holds_no_database, sqlite_locked
from feedsvc.db.wal_sides import WAL_SIDES, held_sides, shm_in_use

if TYPE_CHECKING:
    from feedsvc.db.served_claim import Claim

#: The advice every refusal ends with (``{file}``: the state DB): the glob back in one move.
ALL_BACK = (
    "move all of {file}* back in one command (mv elsewhere/{name}* {parent}/: the file with "
    "its -wal, -shm and -scheduler.lock; one by one, the service may meet the file without "
    "its WAL)"
)

#: A state DB ``{file}`` holding no database (``{state}``: missing, or empty) while a live
#: process claims it (``{lock}``: its served claim, or its scheduler lock; ``{pid}``:
#: `` (pid N)``, or nothing).
SERVED_STATE = (
    "the state DB file {file} is {state}, but a feedsvc{pid} runs on it (it holds {lock}): "
    "the file was moved or deleted under it, and a new one here would hold only this "
    "command's writes, which that service refuses. Put the file back at {file}: {back} (the "
    "service resumes), or stop that service first (one starting on a new state DB creates "
    "it: wait for its start)"
)
#: Another file at ``{file}`` (inode ``{now}``) than the one a live feedsvc serves (``{was}``).
REPLACED_SERVED = (
    "the state DB file {file} is not the file a feedsvc{pid} runs on (it holds {lock}: inode "
    "{was} is its file, inode {now} is here): its file was moved away or deleted and another "
    "put at its path (a copy, a backup, another database), and this command's writes here "
    "would go where that service does not read, while it refuses this file. Put the "
    "service's own file back at {file}: {back} (the service resumes), or stop that service "
    "first to use this one"
)
#: The file a live feedsvc serves at ``{file}``, without the ``-wal``/``-shm`` it uses
#: (``{sides}``: missing, or another file than the one it has open).
UNLOGGED_SERVED = (
    "the state DB file {file} is the file a feedsvc{pid} runs on (it holds {lock}), but "
    "{sides} beside it {are} not the one{s} it uses (moved away with the file, or made "
    "since?): that service's writes since its last checkpoint are in its WAL, and this "
    "command would write another WAL beside the file, which then holds two histories. Put "
    "its {file}-wal and {file}-shm back beside it: {back} (the service resumes), or stop "
    "that service first"
)


def all_back(file: Path) -> str:
    """:data:`ALL_BACK` for the state DB ``file``."""
    return ALL_BACK.format(file=file, name=file.name, parent=file.parent)


def served_problem(file: Path) -> str | None:
    """Why nothing may create, open or write the state DB ``file`` now, or None: another live
    process serves that path (``feedsvc.db.served_claim``: a ``run`` in any role, the demo)
    and it holds no database (``sqlite_file.holds_no_database``, :data:`SERVED_STATE`),
    another file than the one served (:data:`REPLACED_SERVED`; a hard link to it is that
    file), or that file without the ``-wal`` the service has open (:data:`UNLOGGED_SERVED`: a
    command's connection would start another WAL beside it; none is open after an outage
    emptied its pool, ``sqlite_file.sqlite_locked``); or, with no claim, the path holds no
    database while another live process holds its scheduler lock (``feedsvc.pid_lock``: a
    ``run`` creating its new state DB, or a feedsvc from before the claim). The one decision,
    asked before ``sqlite_file.orphan_problem`` by every command
    (``sqlite_location.sqlite_location_problem``), by ``run``'s scheduler lock and by
    ``sqlite_file.create_missing`` (the orphan's advice, to remove the ``-wal``, is wrong
    while a service writes through it).

    Why: a tester's ``mv var/feedsvc.db* moved/`` under a running ``run``, then ``status``
    said "not initialised: run `feedsvc db upgrade`", and that, an ``import`` or a ``topics
    import`` created a new database there (exit 0, "a new file"), which the service refuses
    ("no longer the file this process opened"): the operator's rows went where nothing reads
    them. The glob moved the scheduler lock too, and a copy put back was written while the
    service ran on its own file: the claim is a dot file the glob leaves, recording the file.
    This process's own claim and lock do not count (``run`` creates its new DB under them,
    and asks again while it serves)."""
    from feedsvc.db.served_claim import claimed
    from feedsvc.pid_lock import holder, scheduler_lock

    state = holds_no_database(file)
    if (claim := claimed(file)) is not None:
        if state is not None:
            return SERVED_STATE.format(
                file=file, state=state, pid=claim.pid_words(), lock=claim.path, back=all_back(file)
            )
        return _not_the_served_file(file, claim)
    if state is None:
        return None
    lock = scheduler_lock(file)
    if (pid := holder(lock)) is None:
        return None
    return SERVED_STATE.format(
        file=file,
        state=state,
        pid=f" (pid {pid})" if pid else "",
        lock=lock,
        back=all_back(file),
    )


def _not_the_served_file(file: Path, claim: Claim) -> str | None:
    """:data:`REPLACED_SERVED` or :data:`UNLOGGED_SERVED` for the database ``file`` that
    ``claim``'s processes serve, or None (nothing known yet: a claim being written is a
    service starting on the file there)."""
    try:
        found = os.stat(file)
    except OSError:
        return None
    now = (found.st_dev, found.st_ino)
    if claim.identity is None:
        return None
    words = {"file": file, "pid": claim.pid_words(), "lock": claim.path, "back": all_back(file)}
    if now != claim.identity:
        return REPLACED_SERVED.format(**words, was=claim.identity[1], now=now[1])
    if not (away := sides_away(file, claim.pids)):
        return None
    many = len(away) > 1
    return UNLOGGED_SERVED.format(
        **words, sides=" and ".join(away), are="are" if many else "is", s="s" if many else ""
    )


def sides_away(file: Path, pids: tuple[int, ...] = ()) -> list[str]:
    """The served ``file``'s ``-wal``/``-shm`` that are not the service's: by the files its
    processes (``pids``) hold open under those names (``wal_sides.held_sides``: its
    connections', and the ``O_PATH`` records its engines keep), one they hold that exists but
    is not at the path (moved away: its WAL holds the writes since its last checkpoint, even
    once an outage closed its connections); where their descriptors cannot be read, a side
    missing at all; and, while a process has the file open (``sqlite_file.sqlite_locked``), a
    ``-shm`` no process has mapped (``wal_sides.shm_in_use``: one made since beside the
    file). A side gone with nothing of it held (a clean close deleted it) is no refusal."""
    held = held_sides(file, pids)
    away: list[str] = []
    for side in WAL_SIDES:
        name = f"{file}{side}"
        try:
            found = os.lstat(name)
            there: tuple[int, int] | None = (found.st_dev, found.st_ino)
        except OSError:
            there = None
        theirs = held.get(side) if held is not None else None
        if held is None and there is None:
            away.append(name)  # nothing known of the service's: the safe side
        elif theirs and there not in theirs:
            away.append(name)
    if away:
        return away
    if sqlite_locked(file) and os.path.lexists(f"{file}-shm") and not shm_in_use(file):
        return [f"{file}-shm"]
    return []
