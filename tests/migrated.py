"""State databases at the head revision without running every migration for every test.

Why: the ``db`` fixtures gave each test a new database by running all Alembic migrations
(~0.13 s on SQLite, ~0.3 s on PostgreSQL, where migrations also take one advisory lock that
every xdist worker waits on). Each worker now migrates once, into a template, and each test
gets a copy: the SQLite file copied (~1 ms), the PostgreSQL schema re-created from
``pg_dump``'s text of the template schema (~0.09 s). A copy is what the migrations built, byte
for byte on SQLite and object for object on PostgreSQL (tables, sequences, indexes, the
``alembic_version`` row); the migrations themselves are still run by ``tests/test_db.py``,
``tests/upgrades.py`` and every test that calls ``upgrade`` or ``feedsvc db upgrade``. Without
``pg_dump`` on the PATH the PostgreSQL copy falls back to migrating.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from feedsvc.db import Database, upgrade


class SqliteTemplate:
    """One migrated SQLite file; :meth:`copy_to` puts a copy where a test's URL points."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "template.db"
        database = Database(f"sqlite:///{self.path}")
        upgrade(database)
        database.dispose()
        # the last connection's close checkpoints the WAL: the main file is the whole DB
        assert not self.path.with_name("template.db-wal").exists()

    def copy_to(self, path: Path) -> bool:
        """Copy the template to ``path`` unless a file is there already. True: copied."""
        if path.exists():
            return False
        shutil.copyfile(self.path, path)
        return True


class PostgresTemplate:
    """One migrated schema's DDL and rows as SQL text, replayed into a test's own schema.

    ``base`` is the test database's URL (no ``search_path``); the template schema is dropped
    once its text is taken."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.placeholder = f"tpl_{uuid.uuid4().hex[:16]}"
        self.sql: str | None = None
        if shutil.which("pg_dump") is None:
            return
        engine = create_engine(base, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {self.placeholder}"))
            database = Database(f"{base}?options=-csearch_path%3D{self.placeholder}")
            upgrade(database)
            database.dispose()
            self.sql = self._dump()
        finally:
            with engine.connect() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {self.placeholder} CASCADE"))
            engine.dispose()

    def _dump(self) -> str:
        url = make_url(self.base)
        dumped = subprocess.run(
            [
                "pg_dump", "--schema", self.placeholder, "--no-owner", "--no-privileges",
                "--inserts", "--host", url.host or "127.0.0.1", "--port", str(url.port or 5432),
                "--username", url.username or "postgres", url.database or "postgres",
            ],
            check=True, capture_output=True, text=True, timeout=60,
        ).stdout  # fmt: skip
        # psql meta-commands (``\restrict``) and comments are not SQL; the schema is the test's
        lines = [ln for ln in dumped.splitlines() if not ln.startswith(("\\", "--"))]
        body = "\n".join(lines).replace(f"CREATE SCHEMA {self.placeholder};", "")
        assert f"{self.placeholder}." in body
        return body

    def fill(self, schema: str) -> bool:
        """Create the template's objects and rows in ``schema`` when it is empty. False: no
        ``pg_dump`` here, or the schema holds tables already; the caller migrates instead."""
        if self.sql is None:
            return False
        import psycopg

        url = make_url(self.base)
        conninfo = psycopg.conninfo.make_conninfo(
            host=url.host, port=url.port, user=url.username, dbname=url.database
        )
        with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
            found = "SELECT 1 FROM information_schema.tables WHERE table_schema = %s LIMIT 1"
            if conn.execute(found, (schema,)).fetchone() is not None:
                return False  # not empty: a test's DB already
            conn.execute(self.sql.replace(f"{self.placeholder}.", f"{schema}."))  # type: ignore[call-overload]
        return True


_sqlite: SqliteTemplate | None = None
_postgres: dict[str, PostgresTemplate] = {}


def copy_template(url: str) -> bool:
    """Put this process's (xdist worker's) migrated template into the empty state DB at
    ``url``: an SQLite file not there yet, or the empty PostgreSQL schema its
    ``options=-csearch_path=`` names. Each template is made at its first use. False: no copy
    was made (the file exists, another backend, no ``pg_dump``); the caller migrates.

    For the ``db`` fixtures and for every test helper that starts a service whose subject is
    not a new DB's migration: a service's start migrates a new state DB (~0.2 s of Alembic on
    SQLite, more on PostgreSQL), 30 s of one API module's 52 before."""
    global _sqlite
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        if _sqlite is None:
            _sqlite = SqliteTemplate(Path(tempfile.mkdtemp(prefix="feedsvc-template-")))
        return _sqlite.copy_to(Path(parsed.database))
    if parsed.get_backend_name() == "postgresql" and "options" in parsed.query:
        base = url.split("?", 1)[0]
        if base not in _postgres:
            _postgres[base] = PostgresTemplate(base)
        schema = str(parsed.query["options"]).removeprefix("-csearch_path=")
        return _postgres[base].fill(schema)
    return False


def premigrated(url: str) -> str:
    """``url``, the template copied in when its state DB is empty (:func:`copy_template`); one
    that holds something already (a restart's second service) is left as it is."""
    copy_template(url)
    return url
