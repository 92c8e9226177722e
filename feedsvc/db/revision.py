"""Is the state DB at this feedsvc's schema revision? One SELECT, no Alembic.

Alembic takes about as long to import as the rest of a CLI command takes to run, so commands
that only read the state DB check the revision here and never migrate: a missing or older DB is
an error that names ``feedsvc db upgrade``, not a "no such table" traceback and not a DB file
created as a side effect. Commands that write (and the service) call :func:`ensure_schema`,
which imports Alembic only when there is something to migrate.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # SQLAlchemy is imported by the functions that use it: the read-only path
    # of the CLI (feedsvc.store.lite) checks the revision without it
    from feedsvc.db.engine import Database

#: Same folder as ``feedsvc.db.engine.MIGRATIONS`` (tests/test_db.py checks the ids against it).
VERSIONS = Path(__file__).with_name("migrations") / "versions"
#: The command the hint names (the CLI appends the ``--config`` a command was given to it:
#: ``cli.common.schema_failed``).
UPGRADE_COMMAND = "feedsvc db upgrade"
UPGRADE_HINT = f"run `{UPGRADE_COMMAND}`"


class SchemaError(Exception):
    """The state DB cannot be used as it is; the message says why and what to run."""


class DatabaseUrlError(SchemaError):
    """``database.url`` itself is the problem, not the DB's schema: a configuration error (the
    CLI's exit 2)."""


class LocationError(DatabaseUrlError):
    """The SQLite state DB's path cannot hold it (a directory, a path under a file), a new
    one's directory is missing and is not created (an absolute path), or a missing one's
    ``-wal``/``-shm``/``-journal`` is still there: a problem for the operator (the CLI's exit
    2), not a DB to migrate."""


class ServedError(SchemaError):
    """The SQLite state DB's file is not at its path, or another file or its WAL is not, while
    a feedsvc runs on it (holds its claim or scheduler lock:
    ``feedsvc.db.served_state.served_problem``): nothing is created, opened or written there
    until the file is put back or the service stopped (the CLI's exit 1: a moment's state,
    not the configuration)."""


#: The tables the first migration (0001, released: never edited) creates. One of them in a DB
#: with no revision recorded means feedsvc's schema is there but its revision was lost: `db
#: upgrade` would start from nothing and fail on "table articles already exists".
FIRST_TABLES = (
    "articles", "article_topics", "chats", "deliveries", "feed_snapshots", "leases",
    "rate_buckets", "source_articles", "source_cursors", "subscriptions", "topics",
)  # fmt: skip


def first_tables(present: int) -> tuple[bool, bool]:
    """``(orphaned, foreign)`` of :class:`SchemaStatus` for a DB with no revision recorded
    that has ``present`` of :data:`FIRST_TABLES`: all of them is feedsvc's schema with its
    revision lost, some of them another application's tables of the same names."""
    return present == len(FIRST_TABLES), 0 < present < len(FIRST_TABLES)


#: Shown of a revision read from the DB (alembic_version holds any text): at most this long.
SHOWN_REVISION = 40


@cache
def known_revisions() -> frozenset[str]:
    """Every migration's revision id.

    Migration files are named after their revision (``0003_….py`` holds ``revision = "0003"``)
    and ids sort in order; ``tests/test_db.py`` checks this against Alembic's own script
    directory, so the shortcut cannot drift from what ``upgrade`` does.
    """
    return frozenset(p.name.split("_", 1)[0] for p in VERSIONS.glob("[0-9]*_*.py"))


def head_revision() -> str:
    """The newest migration's revision id (:func:`known_revisions`)."""
    return max(known_revisions())


@dataclass(frozen=True)
class SchemaStatus:
    revision: str | None  # None: no revision recorded (no file, an empty DB, a lost one)
    head: str
    where: str  # the DB URL with any password masked
    #: feedsvc's tables are there (every one of :data:`FIRST_TABLES`) although no revision is
    #: recorded
    orphaned: bool = False
    #: PostgreSQL: no schema of the search_path exists (``current_schema()`` is NULL), so
    #: there is nowhere to create the tables: "not initialised" sent the operator to `db
    #: upgrade`, which failed on "no schema has been selected to create in"
    no_schema: bool = False
    #: Some of :data:`FIRST_TABLES`' names but not all, and no revision: another application's
    #: database (a CMS's ``articles``, ``topics``), which "has feedsvc's tables" sent the
    #: operator to insert a revision into, so that `db upgrade` would migrate its tables
    foreign: bool = False

    @property
    def current(self) -> bool:
        return self.revision == self.head

    @property
    def upgradable(self) -> bool:
        """Whether `db upgrade` knows where to start: a new DB, or an older known revision."""
        if self.revision is None:
            return not self.orphaned and not self.no_schema and not self.foreign
        return self.revision in known_revisions() and self.revision < self.head

    def newer(self) -> bool:
        """A revision of a later feedsvc: an id of the migrations' form, after the head."""
        r = self.revision
        return (
            r is not None
            and len(r) == len(self.head)
            and r.isascii()
            and r.isdigit()
            and (r > self.head)
        )

    def problem(self) -> str | None:
        """What is wrong, in an operator's words (None when the DB is current)."""
        where = f"the state DB {self.where}"
        if self.revision is None and self.orphaned:
            return (
                f"{where} has feedsvc's tables but no schema revision recorded (alembic_version "
                "is empty or missing), so `feedsvc db upgrade` cannot tell which migrations it "
                "needs: restore alembic_version from a backup (or, if you know the revision the "
                "tables are at, insert it there), or move this DB away and run `feedsvc db "
                "upgrade` for a new one"
            )
        if self.revision is None and self.foreign:
            return (
                f"{where} is not a feedsvc state DB: it has tables named as some of feedsvc's "
                "(articles, topics, …) but not the others, and no schema revision: database.url "
                "may name another application's database (the CMS's belongs in source.url); set "
                "it to feedsvc's own state DB, or a new one, and run `feedsvc db upgrade`"
            )
        if self.revision is None and self.no_schema:
            return (
                f"{where} has no schema to hold feedsvc's tables: no schema on its search_path "
                "exists (options=-csearch_path=… in database.url, or the role's default); "
                f"create the schema (CREATE SCHEMA …) or correct the search_path, then "
                f"{UPGRADE_HINT}"
            )
        if self.revision is None:
            return f"{where} is not initialised: {UPGRADE_HINT}"
        if self.current:
            return None
        if self.upgradable:
            return (
                f"{where} is at schema revision {self.revision}, this feedsvc needs "
                f"{self.head}: {UPGRADE_HINT}"
            )
        if self.newer():
            return (
                f"{where} is at schema revision {self.revision}, newer than this feedsvc "
                f"knows ({self.head}): run a newer feedsvc"
            )
        shown = repr(self.revision[:SHOWN_REVISION]) + (
            "…" if len(self.revision) > SHOWN_REVISION else ""
        )
        return (
            f"{where} records schema revision {shown}, which is not a feedsvc revision (this "
            f"feedsvc knows {min(known_revisions())}-{self.head}): alembic_version was changed "
            "by hand, or database.url names another application's database; restore "
            "alembic_version from a backup, or set database.url to feedsvc's state DB"
        )


def not_a_database(where: str) -> str:
    """The message for a state DB file SQLite cannot read (``file is not a database``): which
    file, and what to do about it."""
    return (
        f"the state DB {where} is not an SQLite database (another file, or damaged): set "
        "database.url to feedsvc's state DB, or move this file away and run `feedsvc db upgrade`"
    )


def schema_status(db: Database) -> SchemaStatus:
    """The state DB's revision, read without creating anything (a missing SQLite file stays
    missing). Raises SQLAlchemy's errors when the DB cannot be reached."""
    from sqlalchemy import inspect, text

    from feedsvc.db.sqlite_location import check_location, sqlite_file
    from feedsvc.db.urls import shown_db

    head, where = head_revision(), shown_db(db.url)
    file = sqlite_file(db)
    on_disk = file is not None
    check_location(db)
    if file is not None and not file.is_file():
        return SchemaStatus(None, head, where)
    from sqlalchemy.exc import DatabaseError

    try:
        with db.engine.connect() as conn:
            found = inspect(conn)
            revision = None
            if found.has_table("alembic_version"):
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if revision is None:
                present = sum(found.has_table(name) for name in FIRST_TABLES)
                no_schema = db.dialect == "postgresql" and (
                    conn.execute(text("SELECT current_schema()")).scalar() is None
                )
                orphaned, foreign = first_tables(present)
                return SchemaStatus(None, head, where, orphaned, no_schema, foreign)
    except DatabaseError as exc:
        if on_disk and "file is not a database" in str(exc.orig):
            raise SchemaError(not_a_database(where)) from None
        raise
    return SchemaStatus(str(revision), head, where)


def require_schema(db: Database) -> None:
    """For commands that only read: raise :class:`SchemaError` unless the DB is current."""
    problem = schema_status(db).problem()
    if problem is not None:
        raise SchemaError(problem)


def ensure_schema(db: Database) -> None:
    """For writers: migrate to head when needed (Alembic is imported only then), then make sure
    the DB takes writes (``feedsvc.db.writable``), before the writer says or does anything.

    Raises :class:`SchemaError` for a DB newer than this feedsvc (never downgraded), at a
    revision no feedsvc has, or with feedsvc's tables but no revision recorded (migrating from
    nothing would fail on "table … already exists"), or to be migrated while another feedsvc
    runs on it (``feedsvc.db.running``); ``writable.ReadOnlyError`` (exit 2) for a DB that
    refuses writes as ``database.url`` opens it."""
    from feedsvc.db.writable import probe, writable

    with writable(db):
        _migrate(db)
        probe(db)


def _migrate(db: Database) -> None:
    status = schema_status(db)
    if status.current:
        return
    if not status.upgradable:
        raise SchemaError(status.problem() or "")
    if status.revision is None:
        from feedsvc.db.sqlite_location import make_room

        make_room(db)
    else:  # a schema in use: not under a feedsvc still writing with it
        from feedsvc.db.running import refuse_while_running

        refuse_while_running(db)
    from feedsvc.db.engine import upgrade

    upgrade(db)
