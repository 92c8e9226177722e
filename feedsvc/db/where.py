"""Which database an error came from: :class:`Where` (the state DB or the source, as the
operator configured it), recorded on the exception (:func:`mark`) by every engine
(:func:`watch`) and by the CLI's driver reads without SQLAlchemy (:func:`naming`), read back by
:func:`marked`. :func:`feedsvc.db.errors.explain` names the database with it.

SQLAlchemy is imported by the functions, not here: the CLI's read-only commands never import it
(issue #17 §1).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: The attribute :func:`mark` sets on an exception: the database it came from.
_WHERE = "feedsvc_database"
#: The attribute :func:`watch` sets on an error raised connecting.
_CONNECTING = "feedsvc_failed_connecting"


@dataclass(frozen=True, slots=True)
class Where:
    """The database an error came from, as the operator configured it: ``role`` ("state DB",
    "source DB"), ``key`` (the setting that names it), ``shown`` (how a message names it,
    :func:`feedsvc.db.urls.shown_db`: an SQLite file's path, else its URL without a password),
    ``sqlite`` (a local file,
    not a server), ``file`` (that file, when the URL names it plainly), ``read_only`` (the
    URI option that opens an SQLite DB read-only, ``mode=ro``: a write then fails whatever the
    file's permissions, which the advice blamed)."""

    role: str
    key: str
    shown: str
    sqlite: bool
    file: Path | None
    read_only: str | None = None

    def __str__(self) -> str:
        return f"the {self.role} {self.shown}"


def state_db(url: str) -> Where:
    """:class:`Where` for the state DB at ``url`` (``database.url``)."""
    return _where("state DB", "database.url", url)


def source_db(url: str) -> Where:
    """:class:`Where` for the external source at ``url`` (``source.url``)."""
    return _where("source DB", "source.url", url)


def _where(role: str, key: str, url: str) -> Where:
    from feedsvc.db.sqlite_url import SqlitePathError, sqlite_target
    from feedsvc.db.urls import shown_db

    sqlite = url.startswith("sqlite")
    target = sqlite_target(url) if sqlite else None
    try:  # the file SQLite opens (file:/srv/s.db?mode=ro is /srv/s.db; symlinks resolved)
        file = target.file() if target is not None else None
    except SqlitePathError:
        file = None
    read_only = target.read_only() if target is not None else None
    return Where(role, key, shown_db(url), sqlite, file, read_only)


def mark(exc: BaseException, where: Where) -> None:
    """Record on ``exc`` (and the driver's error inside it) which database raised it, for
    :func:`feedsvc.db.errors.explain`; the first mark stays (the innermost code knew best)."""
    for err in (exc, getattr(exc, "orig", None)):
        if err is not None and getattr(err, _WHERE, None) is None:
            with suppress(AttributeError, TypeError):  # an exception type without a __dict__
                setattr(err, _WHERE, where)


def marked(exc: BaseException) -> Where | None:
    """The database :func:`mark` recorded on ``exc``, the error inside it or its causes."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        err = stack.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        where = getattr(err, _WHERE, None)
        if isinstance(where, Where):
            return where
        stack += [getattr(err, "orig", None), err.__cause__, err.__context__]
    return None


#: The packages whose errors are a database's: SQLAlchemy's, and the drivers' own (the CLI's
#: read-only commands use ``sqlite3`` and ``psycopg`` directly: ``feedsvc.store.lite``).
DATABASE_PACKAGES = frozenset({"sqlalchemy", "sqlite3", "psycopg", "pymysql"})


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a database's error (SQLAlchemy's or a driver's), told without
    importing any of them."""
    return type(exc).__module__.split(".")[0] in DATABASE_PACKAGES


@contextmanager
def naming(where: Where) -> Iterator[None]:
    """Mark every database error raised inside with ``where``: for a driver used without
    SQLAlchemy (``feedsvc.store.lite``), where :func:`watch` cannot see it."""
    try:
        yield
    except Exception as exc:
        if is_database_error(exc):
            mark(exc, where)
        raise


def watch(engine: Engine, where: Where) -> None:
    """Mark every error ``engine`` raises (connecting, executing, committing) with ``where``:
    the CLI's root then says which database failed (:func:`feedsvc.db.errors.explain`)."""
    from sqlalchemy import event

    @event.listens_for(engine, "handle_error")
    def _handle(context: Any) -> None:
        # no Connection: raised connecting (SQLAlchemy's ExceptionContext.connection)
        connecting = context.connection is None
        for err in (context.sqlalchemy_exception, context.original_exception):
            if err is not None:
                mark(err, where)
                if connecting:
                    with suppress(AttributeError, TypeError):
                        setattr(err, _CONNECTING, True)


def failed_connecting(exc: BaseException) -> bool:
    """Whether a watched engine (:func:`watch`) raised ``exc`` connecting: no statement ran."""
    return any(getattr(e, _CONNECTING, False) for e in (exc, getattr(exc, "orig", None)))
