"""Where an SQLite state DB can be: the one decision on its path, asked before anything
connects, and the making of a new one's directory.

Kept apart from the revision check (:mod:`feedsvc.db.revision`), which asks it first: a path
that cannot hold the state DB (a directory, a path under a file, a directory that takes no new
file, a missing file's ``-wal`` still there) is the operator's configuration to fix (exit 2),
never a DB to migrate, and every command — the lite readers (:mod:`feedsvc.store.lite`) too —
must say so in the same words before ``db upgrade`` is suggested. Imports no SQLAlchemy.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from feedsvc.db.revision import LocationError, SchemaError, ServedError

if TYPE_CHECKING:
    from feedsvc.db.engine import Database


def sqlite_location_problem(path: Path, where: str, *, relative: bool) -> str | None:
    """Why an SQLite state DB cannot be at ``path`` (``where``: its URL as shown; ``relative``:
    the URL writes a relative path), or None. The one decision for every command: readers say
    what ``db upgrade`` would say, before it is run.

    A directory (``sqlite:////srv``, ``sqlite:///var``) or a path under a file was "not
    initialised: run `feedsvc db upgrade`", and that said "unable to open database file" or
    "File exists": the path is the problem, not the schema (a configuration error, exit 2).
    So is a missing file that ``db upgrade`` could not create (:func:`creation_problem`), and
    a missing or empty (0-byte) file with its ``-wal``, ``-shm`` or ``-journal`` beside it
    (``feedsvc.db.sqlite_file.orphan_problem``): asked here, before anything opens it, since
    SQLite takes an empty file for a new database and resets the WAL beside it (a tester's:
    ``status`` and ``db current`` did, on a file ``touch``-ed after a ``mv``).

    Raises :class:`SchemaError` (exit 1) when a directory on the way cannot be searched: it was
    "feedsvc: Permission denied: /srv/var/feedsvc.db", from the CLI's root, naming no DB; and
    :class:`ServedError` (exit 1) when the file is missing (or empty) while a feedsvc runs on
    it (``feedsvc.db.served_state.served_problem``, asked before the orphan check): ``status``
    said "not initialised: run `feedsvc db upgrade`", and that created a new file beside the
    running service, which refuses it (a tester's)."""
    from feedsvc.db.served_state import served_problem
    from feedsvc.db.sqlite_file import orphan_problem

    try:
        if (problem := _location_problem(path, where)) is not None:
            return problem
        if (served := served_problem(path)) is not None:
            raise ServedError(served)
        if (problem := orphan_problem(path)) is not None:
            return problem
        return None if path.exists() else creation_problem(path, where, relative=relative)
    except PermissionError as exc:
        denied = exc.filename or path
        raise SchemaError(
            f"the state DB {where} cannot be reached (permission denied: {denied}): the user "
            "running feedsvc must be able to enter every directory above the database and to "
            f"write it and its directory {path.parent} (SQLite keeps -wal and -shm files beside "
            "it)"
        ) from None


def check_location(db: Database) -> None:
    """Raise :class:`LocationError` when an SQLite state DB cannot be where ``database.url``
    puts it (:func:`sqlite_location_problem`); nothing for another backend or a DB in memory.
    Asked first by every command: a reader's revision check (``revision.schema_status``) and a
    writer's before it asks whether the DB may be written (``feedsvc.db.writable``). Why first:
    a missing file's ``-wal`` on a read-only mount was "cannot be written (… may not write
    state.db-wal …): make it writable …" for ``db upgrade`` and ``topics add``, sending the
    operator to the leftovers' permissions, while the readers said the file was missing."""
    from feedsvc.db.urls import shown_db

    file = sqlite_file(db)
    if file is None:
        return
    where = shown_db(db.url)
    if (problem := sqlite_location_problem(file, where, relative=written_relative(db))) is not None:
        raise LocationError(problem)


def _location_problem(path: Path, where: str) -> str | None:
    """A directory, a device, a pipe or a socket at the path (``db.sqlite_kind.not_a_file``,
    the rule ``config check`` applies to ``database.url`` and ``source.url``: here for what is
    put there after the configuration was read), or a path under a file."""
    from feedsvc.db.sqlite_kind import not_a_file

    if (what := not_a_file(path)) is not None:
        return (
            f"the state DB {where} cannot be opened: {what}: set database.url to a file's path "
            "(e.g. sqlite:///var/feedsvc.db)"
        )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                return (
                    f"the state DB {where} cannot be created: {parent} is a file, not a "
                    "directory; set database.url to a file in a directory"
                )
            break
    return None


def creation_problem(path: Path, where: str, *, relative: bool) -> str | None:
    """Why ``db upgrade`` could not create the missing SQLite state DB ``path``, or None. A
    reader said "not initialised: run `feedsvc db upgrade`" for ``sqlite:////nonexistent/dir/
    x.db`` or ``sqlite:////proc/x.db``, and ``db upgrade`` then failed on the directory: both
    now say it (exit 2). An absolute path's directory must exist (:func:`make_room` makes only
    a relative path's); the directory, or for a relative path the nearest one that exists, must
    take a new file (:func:`_refuses_new_files`). Never where the missing file's ``-wal``,
    ``-shm`` or ``-journal`` is still there: a new file would discard them
    (``feedsvc.db.sqlite_file.orphan_problem``)."""
    from feedsvc.db.sqlite_file import orphan_problem

    if (orphaned := orphan_problem(path)) is not None:
        return orphaned
    parent = path.parent
    if not parent.is_dir() and not relative:
        return (
            f"the state DB's directory {parent} does not exist: create it, or set "
            "database.url to a file in an existing directory"
        )
    if not parent.is_dir():
        existing = next((p for p in parent.parents if p.is_dir()), Path("/"))
        if (why := _refuses_new_files(existing)) is not None:
            return (
                f"the state DB's directory {parent} cannot be created ({why}): run feedsvc "
                "where it may create it, create it, or set database.url to a file in a "
                "directory it can write"
            )
        return None
    if (why := _refuses_new_files(parent)) is not None:
        return (
            f"the state DB {where} cannot be created in {parent} ({why}): check the permissions "
            f"and owner of {parent}: the user running feedsvc must be able to write it (SQLite "
            "keeps -wal and -shm files beside the database), and it may be neither immutable "
            "(lsattr) nor on a read-only mount; or set database.url to a file in a directory it "
            "can write"
        )
    return None


def _refuses_new_files(directory: Path) -> str | None:
    """Why ``directory`` takes no new file, in the system's words, or None. Asked of the OS
    without writing first (``access``), then by a file made and removed at once under a name
    nobody uses (``mkstemp``): root passes ``access`` where a file system still refuses
    (``/proc``, a read-only or immutable mount), and only trying tells. Reached only for a
    state DB that is not there, where the command fails anyway."""
    if not os.access(directory, os.W_OK | os.X_OK):
        return "permission denied"
    try:
        handle, name = tempfile.mkstemp(prefix=".feedsvc-probe-", dir=directory)
    except OSError as exc:
        return _os_words(exc)
    os.close(handle)
    os.unlink(name)
    return None


def sqlite_file(db: Database) -> Path | None:
    """The file an SQLite state DB's engine opens (``feedsvc.db.sqlite_url.connect_file`` of
    the arguments SQLAlchemy's dialect gives ``sqlite3.connect``: SQLite's URI form
    ``file:/srv/state.db?mode=ro`` is the file ``/srv/state.db``, not a file named so; absolute,
    ``..`` and symlinks resolved as SQLite resolves them); None for another backend or an SQLite
    DB in memory. The lite path reads the same file."""
    if db.dialect != "sqlite":
        return None
    from feedsvc.db.sqlite_url import connect_file

    args, kwargs = db.engine.dialect.create_connect_args(db.engine.url)
    return connect_file(str(args[0]), uri=bool(kwargs.get("uri", False)))


def written_relative(db: Database) -> bool:
    """Whether the state DB's path is relative as the URL writes it (SQLAlchemy makes a plain
    path absolute; a URI's path is passed on as written)."""
    from feedsvc.db.sqlite_url import written_path

    args, kwargs = db.engine.dialect.create_connect_args(db.engine.url)
    uri = bool(kwargs.get("uri"))
    written = written_path(str(args[0]), uri=True) if uri else db.engine.url.database
    return bool(written) and not str(written).startswith("/")


def make_room(db: Database) -> None:
    """The directory of a new SQLite state DB, made only here, as it is created (never by a
    command that reads). A relative path's directories are made (the default
    ``sqlite:///var/feedsvc.db``: ``var/`` where feedsvc runs); an absolute path's directory
    must exist: ``sqlite:////nonexistent/dir/x.db`` is a typo or a volume not mounted, and
    making ``/nonexistent/dir`` would hide it (raises :class:`LocationError`)."""
    file = sqlite_file(db)
    if file is None:
        return
    parent = file.parent
    if parent.is_dir():
        return
    if not written_relative(db):  # revision.schema_status said it: a directory gone since
        from feedsvc.db.urls import shown_db

        raise LocationError(creation_problem(file, shown_db(db.url), relative=False) or "")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # was a bare "Operation not permitted: var", exit 1, no advice
        raise LocationError(
            f"the state DB's directory {parent} cannot be created ({_os_words(exc)}): run "
            "feedsvc where it may create it, create it, or set database.url to a file in a "
            "directory it can write"
        ) from None


def _os_words(exc: OSError) -> str:
    """What the system said, without the path it repeats (the message names it already)."""
    return (exc.strerror or type(exc).__name__).lower()
