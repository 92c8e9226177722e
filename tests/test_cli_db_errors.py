"""A database that fails at run time names itself and says what to do (issue #17 §3).

It said ``feedsvc: database error: OperationalError: database is locked`` (after SQLite's
busy wait) or ``… attempt to write a readonly database``: not which database (the state DB or
the source), nor what an operator can do. ``feedsvc.db.errors`` marks every error with the
database that raised it (the engines' ``handle_error``, and the driver reads of
``feedsvc.store.lite``) and words it once (:func:`feedsvc.db.errors.explain`).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from feedsvc.cli import cli

PASSWORD = "hunter2-Db-pw"
ARTICLE = (
    '{"source_key": "K1", "url": "https://e.vn/1", "title": "Công an xã", '
    '"published_at": "2026-11-20T10:00:00+07:00"}\n'
)
#: Commands by the path their database error takes: a write through SQLAlchemy (`topics add`),
#: the importer's own summary (`import`), a read over the driver itself (`topics list`,
#: `status`: feedsvc.store.lite) and a read through SQLAlchemy (`subs list`).
WRITES = [["topics", "add", "zz", "--title", "Z", "--query", "z"], ["import", "-"]]
READS = [["topics", "list"], ["status"], ["subs", "list"]]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for key in list(os.environ):
        if key.startswith("FEEDSVC_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("FEEDSVC_CONFIG", "/dev/null")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(argv: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, argv, input=ARTICLE)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{argv}: uncaught {result.exception!r}\n{result.output}")
    return result.exit_code, result.output


def initialised(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """The state DB at ``url`` migrated and closed (no connection of this process left open: an
    SQLite file then has no -wal or -shm beside it, as after a clean stop)."""
    from feedsvc.db import Database, upgrade

    db = Database(url)
    try:
        upgrade(db)
    finally:
        db.dispose()
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)


def one_error_line(output: str) -> str:
    assert "Traceback" not in output, output
    [line] = [x for x in output.splitlines() if x.startswith(("feedsvc: ", "feedsvc import: "))]
    return line


@contextmanager
def sqlite_writer(path: Path, *, exclusive: bool) -> Iterator[None]:
    """Another process's writer on the SQLite file: its write lock held (``exclusive``: in
    SQLite's exclusive locking mode, so readers wait too), released at the end."""
    ready, done = threading.Event(), threading.Event()

    def hold() -> None:
        with closing(sqlite3.connect(path, isolation_level=None)) as conn:
            if exclusive:
                conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE topics SET title = title")
            ready.set()
            done.wait(120)
            conn.execute("ROLLBACK")

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        yield
    finally:
        done.set()
        thread.join(30)


LOCK_ADVICE = "another process holds a lock on it"


@pytest.mark.parametrize("argv", [*WRITES, ["topics", "list"]], ids=lambda a: " ".join(a))
def test_a_locked_sqlite_state_db_is_named_with_what_to_do(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    """Each waits SQLite's busy timeout (10 s), then one line naming the file."""
    url = f"sqlite:///{clean_env / 'state.db'}"
    initialised(monkeypatch, url)
    with sqlite_writer(clean_env / "state.db", exclusive=argv[0] == "topics" and argv[1] == "list"):
        code, output = invoke(argv)
    assert code == 1, output
    line = one_error_line(output)
    assert f"the state DB {url} is locked (OperationalError: database is locked): " in line
    assert LOCK_ADVICE in line and "wait for it to finish or stop it" in line, line


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``chattr +i``: not even root may write (or, for a directory, create files in) it."""
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not available here: {done.stderr!r}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


#: (how the file cannot be written, command). An SQLite ``file:`` URI is read as a path by the
#: schema check of reading commands ("not initialised"): only writes are tried through it.
UNWRITABLE = [
    *(("read-only URI", argv) for argv in WRITES),
    *(("immutable file", argv) for argv in [*WRITES, *READS]),
    *(("immutable directory", argv) for argv in [*WRITES, *READS]),
]


@pytest.mark.parametrize(
    ("what", "argv"), UNWRITABLE, ids=[f"{w}: {' '.join(a)}" for w, a in UNWRITABLE]
)
def test_a_state_db_that_cannot_be_written_names_the_file_and_directory(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], what: str
) -> None:
    """SQLite's ``attempt to write a readonly database`` (SQLITE_READONLY) and ``unable to open
    database file`` (SQLITE_CANTOPEN: no -wal/-shm can be made beside it) name the DB and ask
    for the file's and its directory's permissions."""
    folder = clean_env / "data"
    folder.mkdir()
    db_file = folder / "state.db"
    initialised(monkeypatch, f"sqlite:///{db_file}")
    url = f"sqlite:///{db_file}"
    guard: AbstractContextManager[None] = nullcontext()
    if what == "read-only URI":
        url = f"sqlite:///file:{db_file}?mode=ro&uri=true"
    else:
        guard = immutable(db_file if what == "immutable file" else folder)
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)
    with guard:
        code, output = invoke(argv)
    if what == "immutable file" and argv in READS:
        assert code == 0, output  # reading needs no write to the file itself
        return
    assert code == 1, output
    line = one_error_line(output)
    assert f"the state DB {url} " in line, line
    assert " cannot be written (" in line or " cannot be opened (" in line, line
    if what == "read-only URI":
        assert "check the permissions and owner of the file and its directory" in line, line
    else:
        assert f"check the permissions and owner of {db_file} and of its directory {folder}" in (
            line
        )


@pytest.mark.postgres
@pytest.mark.parametrize("argv", [*WRITES, *READS], ids=lambda a: " ".join(a))
def test_a_locked_postgresql_table_is_named_without_the_password(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str, argv: list[str]
) -> None:
    """``lock_timeout`` (SQLSTATE 55P03) while another session holds the tables."""
    initialised(monkeypatch, pg_url)
    url = pg_url.replace("postgres@", f"postgres:{PASSWORD}@") + "%20-clock_timeout%3D200"
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("LOCK TABLE topics, source_articles, subscriptions, chats"))
            code, output = invoke(argv)
    finally:
        engine.dispose()
    assert code == 1, output
    line = one_error_line(output)
    assert PASSWORD not in output
    assert f"the state DB {shown_pg(url)} is locked (" in line, line
    assert "LockNotAvailable" in line and LOCK_ADVICE in line, line
    assert "LINE " not in line and "FROM" not in line, line  # no statement quoted


def shown_pg(url: str) -> str:
    """A PostgreSQL URL as feedsvc shows it: psycopg named, the password masked."""
    from feedsvc.db.urls import shown_url

    return shown_url(url, drivername="postgresql+psycopg")


@pytest.mark.postgres
@pytest.mark.parametrize("argv", WRITES, ids=lambda a: " ".join(a))
def test_a_read_only_postgresql_server_points_at_the_primary(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str, argv: list[str]
) -> None:
    """A standby, or ``default_transaction_read_only``: SQLSTATE 25006."""
    initialised(monkeypatch, pg_url)
    url = pg_url + "%20-cdefault_transaction_read_only%3Don"
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)
    code, output = invoke(argv)
    assert code == 1, output
    line = one_error_line(output)
    assert f"the state DB {shown_pg(url)} cannot be written (" in line, line
    assert "point database.url at the primary server" in line, line


def test_the_source_db_is_told_apart_from_the_state_db(tmp_path: Path) -> None:
    """The same trouble in the external source names the source and its key."""
    from feedsvc.db.errors import explain
    from feedsvc.source.sql import source_engine

    cms = tmp_path / "cms.db"
    with closing(sqlite3.connect(cms)) as conn:
        conn.execute("CREATE TABLE news (id INTEGER PRIMARY KEY)")
        conn.commit()
    engine = source_engine(f"sqlite:///{cms}")
    with sqlite_writer_on(cms), pytest.raises(Exception) as caught, engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA busy_timeout = 50")
        conn.exec_driver_sql("SELECT * FROM news").all()
    engine.dispose()
    said = explain(caught.value)
    assert said.startswith(f"the source DB sqlite:///{cms} is locked ("), said
    assert LOCK_ADVICE in said


@contextmanager
def sqlite_writer_on(path: Path) -> Iterator[None]:
    """An exclusive lock on any SQLite file (no feedsvc table needed)."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        yield
        conn.execute("ROLLBACK")


def test_an_unmarked_error_still_gets_its_advice() -> None:
    """An error no engine marked (raised outside one) keeps the old words, plus what to do."""
    from feedsvc.db.errors import explain

    with closing(sqlite3.connect(":memory:")) as conn:
        conn.execute("PRAGMA query_only = 1")
        with pytest.raises(sqlite3.Error) as caught:
            conn.execute("CREATE TABLE t (a)")
    said = explain(caught.value)
    assert said.startswith("database error: OperationalError: attempt to write a readonly"), said
    assert "check the permissions" in said


def test_run_names_a_locked_state_db(tmp_path: Path) -> None:
    """`run` migrates at start: the same line from the root, exit 1."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    with sqlite_writer_on(tmp_path / "state.db"):
        done = subprocess.run(
            [sys.executable, "-m", "feedsvc", "run", "--no-http"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"the state DB {url} is locked (" in done.stderr and LOCK_ADVICE in done.stderr
