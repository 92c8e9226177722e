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

On PostgreSQL even the copy was most of the server's work in a run: creating ~120 catalog
objects and dropping them again cost ~0.14 s of server CPU per test, ~220 of the ~410 s the
server spent in a whole run. A schema that ends a test still shaped as the template (same
tables, columns, defaults, constraints, indexes, sequences) is emptied instead (``TRUNCATE`` of
the tables that hold rows, the template's rows and sequence values put back: ~0.01-0.03 s) and
kept as a spare; the next copy renames a spare to the test's schema. Any other schema is
dropped, as every schema was before.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

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


#: One row per object of a schema and what makes it what it is: columns with their types,
#: defaults and nullability, constraints, indexes, sequences' parameters. The schema's own name
#: is replaced by ``@`` (defaults and index definitions name it).
_SHAPE = """
SELECT 'c', c.relname, c.relkind::text, coalesce(a.attname, ''),
       coalesce(format_type(a.atttypid, a.atttypmod), '') || ' ' || coalesce(a.attnotnull::text, '')
       || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE n.nspname = %(s)s
UNION ALL
SELECT 'k', r.relname, con.contype::text, con.conname, pg_get_constraintdef(con.oid)
  FROM pg_constraint con JOIN pg_class r ON r.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = r.relnamespace
 WHERE n.nspname = %(s)s
UNION ALL
SELECT 'i', tablename, '', indexname, indexdef FROM pg_indexes WHERE schemaname = %(s)s
UNION ALL
SELECT 's', sequencename, '', '', concat_ws(',', data_type, start_value, min_value, max_value,
       increment_by, cycle, cache_size)
  FROM pg_sequences WHERE schemaname = %(s)s
ORDER BY 1, 2, 3, 4, 5
"""


class PostgresTemplate:
    """One migrated schema's DDL and rows as SQL text, replayed into a test's own schema, and
    the spare schemas of this shape that ended tests left (the module docstring says why).

    ``base`` is the test database's URL (no ``search_path``); the template schema is dropped
    once its text and shape are taken."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.placeholder = f"tpl_{uuid.uuid4().hex[:16]}"
        self.sql: str | None = None
        self.rows = ""  # the template's INSERTs and sequence values
        self.tables: list[str] = []
        self.shape: list[tuple[str, ...]] = []
        self.spares: list[str] = []
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
            with admin(base).transaction():
                self.shape = self._shape(admin(base), self.placeholder)
            self.tables = sorted(
                {row[1] for row in self.shape if row[:1] == ("c",) and row[2] == "r"}
            )
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
        rows = [ln for ln in lines if ln.startswith(("INSERT INTO ", "SELECT pg_catalog.setval("))]
        self.rows = "\n".join(rows)
        return body

    def _shape(self, conn: Any, schema: str) -> list[tuple[str, ...]]:
        """Inside a transaction of ``conn``. Index lookups, not scans of the whole catalog:
        with every worker's schemas in it, the planner's hash joins made this ~15 ms of
        server CPU, nested loops ~4."""
        for setting in ("enable_hashjoin", "enable_mergejoin", "enable_seqscan"):
            conn.execute(f"SET LOCAL {setting} = off")
        rows = conn.execute(_SHAPE, {"s": schema}).fetchall()
        return [tuple(str(v).replace(f"{schema}.", "@.") for v in row) for row in rows]

    def _in(self, schema: str, sql: str) -> str:
        return sql.replace(f"{self.placeholder}.", f"{schema}.")

    def fill(self, schema: str) -> bool:
        """Give the empty ``schema`` the template's objects and rows: a spare renamed to its
        name, or the template's text replayed. False: no ``pg_dump`` here, or the schema holds
        tables already; the caller migrates instead."""
        if self.sql is None:
            return False
        conn = admin(self.base)
        with conn.transaction():
            found = "SELECT 1 FROM information_schema.tables WHERE table_schema = %s LIMIT 1"
            if conn.execute(found, (schema,)).fetchone() is not None:
                return False  # not empty: a test's DB already
            while self.spares:
                spare = self.spares.pop()
                try:
                    with conn.transaction():  # a savepoint: an object left in it keeps it
                        conn.execute(f"DROP SCHEMA {schema}")
                        conn.execute(f"ALTER SCHEMA {spare} RENAME TO {schema}")
                    return True
                except Exception:
                    self._drop(spare)
                    break
            conn.execute(self._in(schema, self.sql))
        return True

    def release(self, schema: str) -> bool:
        """A test's ``schema`` after the test: when it is still the template's shape, emptied
        back to the template's rows and kept as a spare (under a name no test's URL holds, so
        a connection a test left open cannot write into it). False: the caller drops it."""
        if self.sql is None:
            return False
        spare = f"spare_{uuid.uuid4().hex[:16]}"
        try:
            conn = admin(self.base)
            with conn.transaction():
                conn.execute("SET LOCAL lock_timeout = '5s'")
                if self._shape(conn, schema) != self.shape:
                    return False
                probes = " UNION ALL ".join(
                    f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM {schema}.{t})" for t in self.tables
                )
                held = [row[0] for row in conn.execute(probes).fetchall()]
                if held:
                    tables = ", ".join(f"{schema}.{t}" for t in held)
                    conn.execute(f"TRUNCATE {tables} CASCADE")  # referencing ones: empty
                conn.execute(self._in(schema, self.rows))
                conn.execute(f"ALTER SCHEMA {schema} RENAME TO {spare}")
        except Exception:
            return False
        self.spares.append(spare)
        return True

    def _drop(self, schema: str) -> None:
        admin(self.base).execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")

    def drop_spares(self) -> None:
        while self.spares:
            self._drop(self.spares.pop())


_admins: dict[str, Any] = {}


def admin(base: str) -> Any:
    """This process's one autocommit psycopg connection to the test database at ``base`` (a
    URL without ``search_path``), opened again if it was lost: creating, filling, emptying and
    dropping the tests' schemas on one connection, not a new server process each (~5 ms of
    server CPU each start)."""
    import psycopg

    conn = _admins.get(base)
    if conn is None or conn.closed or conn.broken:
        url = make_url(base)
        conninfo = psycopg.conninfo.make_conninfo(
            host=url.host, port=url.port, user=url.username, dbname=url.database
        )
        conn = _admins[base] = psycopg.connect(conninfo, autocommit=True)
    return conn


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


def release_schema(url: str) -> bool:
    """After a test: keep its PostgreSQL schema (``url``'s ``search_path``) as a spare when it
    is still the template's shape (:meth:`PostgresTemplate.release`). False: the caller drops
    it (another shape, or no template made in this process)."""
    template = _postgres.get(url.split("?", 1)[0])
    schema = str(make_url(url).query.get("options", "")).removeprefix("-csearch_path=")
    return template is not None and bool(schema) and template.release(schema)


def drop_spares() -> None:
    """At this process's end: drop the spare schemas it kept."""
    for template in _postgres.values():
        template.drop_spares()
