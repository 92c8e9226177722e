"""A database that fails at run time names itself and says what to do (issue #17 §3).

It said ``feedsvc: database error: OperationalError: database is locked`` (after SQLite's
busy wait) or ``… attempt to write a readonly database``: not which database (the state DB or
the source), nor what an operator can do. ``feedsvc.db.errors`` marks every error with the
database that raised it (the engines' ``handle_error``, and the driver reads of
``feedsvc.store.lite``) and words it once (:func:`feedsvc.db.errors.explain`).
"""

from __future__ import annotations

import errno
import io
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
from combos import each_choice
from migrated import copy_template
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


def invoke(argv: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, argv, input=ARTICLE)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{argv}: uncaught {result.exception!r}\n{result.output}")
    return result.exit_code, result.output


def initialised(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """The state DB at ``url`` migrated and closed (no connection of this process left open: an
    SQLite file then has no -wal or -shm beside it, as after a clean stop): a copy of the
    migrated template where one can be made (``tests/migrated.py``)."""
    from feedsvc.db import Database, upgrade

    if not copy_template(url):
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
    clean_cli: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    """Each waits SQLite's busy timeout (10 s), then one line naming the file."""
    url = f"sqlite:///{clean_cli / 'state.db'}"
    initialised(monkeypatch, url)
    with sqlite_writer(clean_cli / "state.db", exclusive=argv[0] == "topics" and argv[1] == "list"):
        code, output = invoke(argv)
    assert code == 1, output
    line = one_error_line(output)
    db = clean_cli / "state.db"  # named by its file (db.urls.shown_db)
    assert f"the state DB {db} is locked (OperationalError: database is locked): " in line
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


#: (how the file cannot be written, command). A read through SQLite's read-only URI works.
UNWRITABLE = [
    *(("read-only URI", argv) for argv in [*WRITES, *READS]),
    *(("immutable file", argv) for argv in [*WRITES, *READS]),
    *(("immutable directory", argv) for argv in [*WRITES, *READS]),
]


@pytest.mark.parametrize(
    ("what", "argv"), UNWRITABLE, ids=[f"{w}: {' '.join(a)}" for w, a in UNWRITABLE]
)
def test_a_state_db_that_cannot_be_written_names_the_file_and_directory(
    clean_cli: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], what: str
) -> None:
    """SQLite's ``attempt to write a readonly database`` (SQLITE_READONLY) and ``unable to open
    database file`` (SQLITE_CANTOPEN: no -wal/-shm can be made beside it) name the DB and ask
    for the file's and its directory's permissions."""
    folder = clean_cli / "data"
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
    if argv in READS:  # reading needs no write (tests/test_read_only_readers.py)
        assert code == 0, output
        return
    # a writer finds out as it starts (feedsvc.db.writable): database.url is the problem, exit 2
    assert code == (2 if argv in WRITES else 1), output
    line = one_error_line(output)
    assert f"the state DB {db_file} " in line, line  # the URI's file too
    if what == "read-only URI":  # it asked for the file's permissions, which were fine
        # said from the URL before connecting: no driver error to quote
        assert " cannot be written: database.url opens it read-only (mode=ro in the URL)" in line
        assert "remove mode=ro from database.url" in line and "permissions" not in line, line
        return
    assert " cannot be written (" in line or " cannot be opened (" in line, line
    # the URI's file too (it said "of the file and its directory")
    assert f"check the permissions and owner of {db_file} and of its directory {folder}" in line


@pytest.mark.parametrize(
    "query", ["mode=ro", "immutable=1", "immutable=yes&mode=rw", "mode=ro&cache=shared"]
)
def test_run_on_a_read_only_uri_says_the_url_opens_it_read_only(
    clean_cli: Path, query: str
) -> None:
    """`feedsvc run` (it makes the state DB at start) blamed the file's permissions; a
    configuration error since (exit 2, ``tests/test_state_db_read_only.py``)."""
    db_file = clean_cli / "state.db"
    url = f"sqlite:///file:{db_file}?{query}&uri=true"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "run", "--no-http"],
        cwd=clean_cli, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert not db_file.exists()
    said = query.split("&")[0] if "mode=ro" in query else "immutable=" + query[10:].split("&")[0]
    assert f"database.url opens it read-only ({said} in the URL)" in done.stderr, done.stderr
    assert "permissions" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("argv", [*WRITES, *READS], ids=lambda a: " ".join(a))
def test_a_locked_postgresql_table_is_named_without_the_password(
    clean_cli: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str, argv: list[str]
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
    clean_cli: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str, argv: list[str]
) -> None:
    """A standby, or ``default_transaction_read_only``: SQLSTATE 25006. A writer refuses it as
    it starts, saying where the setting comes from (exit 2, ``feedsvc.db.writable``)."""
    initialised(monkeypatch, pg_url)
    url = pg_url + "%20-cdefault_transaction_read_only%3Don"
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)
    code, output = invoke(argv)
    assert code == 2, output
    line = one_error_line(output)
    assert f"the state DB {shown_pg(url)} opens every transaction read-only (" in line, line
    assert "database.url sets it (options=-cdefault_transaction_read_only=on)" in line, line


@pytest.mark.postgres
def test_a_server_that_turns_read_only_later_names_both_causes(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write refused after the start (a failover to a standby; the setting changed): the
    advice named only a standby ("a standby?") and sent the operator to the primary."""
    from feedsvc.db import Database
    from feedsvc.db.errors import explain

    initialised(monkeypatch, pg_url)  # the fixture: a bare MonkeyPatch() left the env set
    url = pg_url + "%20-cdefault_transaction_read_only%3Don"
    db = Database(url)
    try:
        with pytest.raises(Exception) as caught, db.write() as conn:
            conn.exec_driver_sql("DELETE FROM topics")
    finally:
        db.dispose()
    said = explain(caught.value)
    assert said.startswith(f"the state DB {shown_pg(url)} cannot be written ("), said
    assert "a standby (point database.url at the primary server)" in said, said
    assert "default_transaction_read_only = on (set in the URL's options" in said, said


def test_the_source_db_is_told_apart_from_the_state_db(tmp_path: Path) -> None:
    """The same trouble in the external source names the source and its key."""
    from feedsvc.db.errors import explain
    from feedsvc.source.engine import source_engine

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
    assert said.startswith(f"the source DB {cms} is locked ("), said
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
    db = tmp_path / "state.db"
    assert f"the state DB {db} is locked (" in done.stderr and LOCK_ADVICE in done.stderr


# -- a schema revision that is not one, or none recorded beside feedsvc's tables -------------

#: Commands by how they read the revision: over the driver (`status`, `topics list`), through
#: SQLAlchemy (`subs list`), before migrating (`db upgrade`, `topics add`).
SCHEMA_READERS = [
    ["status"], ["topics", "list"], ["subs", "list"], ["db", "upgrade"],
    ["topics", "add", "zz", "--title", "Z", "--query", "z"],
]  # fmt: skip
#: Not a feedsvc revision: was "newer than this feedsvc knows (…): run a newer feedsvc" (any text
#: sorting after the head) or "this feedsvc needs …: run `feedsvc db upgrade`" (before it),
#: which then failed in Alembic.
NOT_REVISIONS = ["garbage", "", "0000", "00x1", "０００１", "0010 ", "x" * 32, "9999\n"]


def set_revision(url: str, revision: str | None, *, drop: bool = False) -> None:
    """alembic_version set to ``revision`` (None: emptied; ``drop``: the table dropped)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if drop:
            conn.execute(text("DROP TABLE alembic_version"))
        elif revision is None:
            conn.execute(text("DELETE FROM alembic_version"))
        else:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def state_url(request: pytest.FixtureRequest, root: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{root / 'state.db'}"


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, clean_cli: Path) -> str:
    return state_url(request, clean_cli)


@pytest.mark.parametrize("revision", NOT_REVISIONS, ids=repr)
def test_a_revision_that_is_no_feedsvc_revision_is_said_so(
    backend_url: str, monkeypatch: pytest.MonkeyPatch, revision: str
) -> None:
    initialised(monkeypatch, backend_url)
    set_revision(backend_url, revision)
    for argv in SCHEMA_READERS:
        code, output = invoke(argv)
        assert code == 1, (argv, output)
        line = one_error_line(output)
        assert "which is not a feedsvc revision (this feedsvc knows 0001-" in line, (argv, line)
        assert "restore alembic_version from a backup" in line, line
        assert "newer" not in line and "run `feedsvc db upgrade`" not in line, line
    code, output = invoke(["db", "current"])  # answers, says what is wrong beside it, exit 1
    assert code == 1 and "which is not a feedsvc revision" in output, output


def test_a_long_stored_revision_is_cut() -> None:
    from feedsvc.db.revision import SHOWN_REVISION, SchemaStatus

    said = SchemaStatus("\x1b[2J" + "x" * 5000, "0016", "sqlite:///s.db").problem() or ""
    assert "'\\x1b[2J" + "x" * (SHOWN_REVISION - 4) + "'…" in said, said  # escaped, cut
    assert len(said) < 500


def _next_revision() -> str:
    """The revision after this feedsvc's head: a DB a newer feedsvc upgraded."""
    from feedsvc.db.revision import head_revision

    return f"{int(head_revision()) + 1:04d}"


@pytest.mark.parametrize("revision", [_next_revision(), "9999"])
def test_a_later_revision_still_asks_for_a_newer_feedsvc(
    backend_url: str, monkeypatch: pytest.MonkeyPatch, revision: str
) -> None:
    initialised(monkeypatch, backend_url)
    set_revision(backend_url, revision)
    for argv in SCHEMA_READERS:
        code, output = invoke(argv)
        assert code == 1 and "newer than this feedsvc knows" in one_error_line(output), output
    code, output = invoke(["db", "current"])  # exit 0, while status and the rest said 1
    assert code == 1 and output.startswith(f"{revision}\n"), output
    assert "newer than this feedsvc knows" in output, output


def test_db_current_on_an_older_db_answers_and_exits_0(
    backend_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older known revision: `db upgrade` fixes it, so the answer is no failure."""
    initialised(monkeypatch, backend_url)
    set_revision(backend_url, "0015")
    code, output = invoke(["db", "current"])
    assert code == 0 and output.startswith("0015\n") and "db upgrade" in output, output


@pytest.mark.parametrize("how", ["emptied", "dropped"])
def test_feedsvc_tables_without_a_revision_are_not_called_uninitialised(
    backend_url: str, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """`db upgrade` said "not initialised: run `feedsvc db upgrade`", which then failed on
    "table articles already exists"; it now says what happened and changes nothing."""
    initialised(monkeypatch, backend_url)
    invoke(["topics", "add", "kept", "--title", "Kept", "--query", "k"])
    set_revision(backend_url, None, drop=how == "dropped")
    for argv in SCHEMA_READERS:
        code, output = invoke(argv)
        assert code == 1, (argv, output)
        line = one_error_line(output)
        assert "has feedsvc's tables but no schema revision recorded" in line, (argv, line)
        assert "not initialised" not in line and "already exists" not in line, line
    code, output = invoke(["db", "current"])
    assert code == 1 and output.startswith("empty\n") and "no schema revision" in output, output
    engine = create_engine(backend_url)
    with engine.connect() as conn:  # nothing migrated, nothing written
        assert conn.execute(text("SELECT slug FROM topics")).scalars().all() == ["kept"]
    engine.dispose()


def test_a_new_db_with_other_tables_is_still_initialised(
    clean_cli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables that are not feedsvc's (a shared database) do not stop a first `db upgrade`."""
    url = f"sqlite:///{clean_cli / 'shared.db'}"
    with closing(sqlite3.connect(clean_cli / "shared.db")) as conn:
        conn.execute("CREATE TABLE someone_elses (id INTEGER)")
        conn.commit()
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)
    code, output = invoke(["topics", "list"])
    assert code == 1 and "is not initialised: run `feedsvc db upgrade`" in output, output
    code, output = invoke(["db", "upgrade"])
    assert code == 0, output


@pytest.mark.parametrize("tables", [("articles",), ("topics", "users"), ("chats", "subscriptions")])
def test_another_applications_tables_of_feedsvcs_names_are_not_called_feedsvcs(
    backend_url: str, monkeypatch: pytest.MonkeyPatch, tables: tuple[str, ...]
) -> None:
    """A CMS's database given as ``database.url`` (its own ``articles`` table, no revision)
    was said to have "feedsvc's tables but no schema revision recorded", with the advice to
    insert the revision the tables are at: `db upgrade` would then have migrated the CMS's
    tables. It is now "not a feedsvc state DB", naming ``source.url``, and nothing is written,
    on both read paths (the driver-only one of ``status``/``topics list`` and SQLAlchemy's)."""
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", backend_url)
    engine = create_engine(backend_url)
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f"CREATE TABLE {table} (id INTEGER, name TEXT)"))
    for argv in [*SCHEMA_READERS, ["import", "-"], ["db", "current"]]:
        code, output = invoke(argv)
        assert code == 1, (argv, output)
        line = output.splitlines()[-1]
        assert "is not a feedsvc state DB" in line and "source.url" in line, (argv, line)
        assert "feedsvc's tables but" not in line and "insert it" not in line, (argv, line)
    from sqlalchemy import inspect

    assert sorted(inspect(engine).get_table_names()) == sorted(tables)  # nothing written
    engine.dispose()


# -- an output file that cannot be written -------------------------------------------------


def test_an_output_file_that_cannot_be_written_is_named(
    clean_cli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`topics export -o /dev/full` said "No space left on device", naming no file: Click's
    lazy file wrote its buffer when it was closed, after the command."""
    initialised(monkeypatch, f"sqlite:///{clean_cli / 'state.db'}")
    code, output = invoke(["topics", "add", "zz", "--title", "Z", "--query", "z"])
    assert code == 0, output
    code, output = invoke(["topics", "export", "-o", "/dev/full"])
    assert code == 1, output
    assert one_error_line(output) == "feedsvc: cannot write /dev/full: No space left on device"


class _Failing(io.StringIO):
    """A file whose write or flush fails as a disk does."""

    def __init__(self, name: str, error: OSError, *, on: str) -> None:
        super().__init__()
        self.name, self.error, self.on = name, error, on

    def write(self, text: str) -> int:
        if self.on == "write":
            raise self.error
        return super().write(text)

    def flush(self) -> None:
        if self.on == "flush":
            raise self.error


@pytest.mark.parametrize("on", ["write", "flush"])
@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EFBIG, "File too large"),
        OSError(errno.EIO, "Input/output error"),
        OSError(errno.EDQUOT, "Disk quota exceeded"),
    ],
    ids=lambda e: errno.errorcode[e.errno],
)
def test_each_write_failure_names_the_file(
    capsys: pytest.CaptureFixture[str], error: OSError, on: str
) -> None:
    from feedsvc.cli.output import write_output

    with pytest.raises(SystemExit) as exited:
        write_output(_Failing("/srv/out/topics.toml", error, on=on), "x = 1\n")
    assert exited.value.code == 1
    assert capsys.readouterr().err == (
        f"feedsvc: cannot write /srv/out/topics.toml: {error.strerror}\n"
    )


def _without_file_permissions_override() -> list[str]:
    """A command prefix under which file permissions apply: none for a user other than root;
    for root, ``setpriv`` dropping the capabilities that bypass them."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner",
            "--inh-caps=-all"]  # fmt: skip


#: Each-choice (7 cases, not 18): the URL's form is read into the file's path once
#: (``feedsvc.db.sqlite_url``) whichever command runs; each form still meets both read paths,
#: the driver-only one (``topics list``, ``status``: ``feedsvc.store.lite``) and SQLAlchemy's
#: (the others), since each opens the file itself.
BEHIND_CASES = [
    *each_choice([*READS, *WRITES, ["db", "upgrade"]], ["plain", "uri", "query"]),
    (["topics", "list"], "query"),
]


@pytest.mark.parametrize(
    ("argv", "url_form"), BEHIND_CASES, ids=[f"{' '.join(a)}-{f}" for a, f in BEHIND_CASES]
)
def test_a_state_db_behind_a_directory_it_cannot_enter_is_named(
    tmp_path: Path, argv: list[str], url_form: str
) -> None:
    """A directory above the state DB that cannot be searched (``chmod 000``) was "feedsvc:
    Permission denied: /srv/var/feedsvc.db" from the CLI's root, naming no DB and no fix."""
    folder = tmp_path / "data"
    folder.mkdir()
    db_file = folder / "state.db"
    url = {
        "plain": f"sqlite:///{db_file}",
        "uri": f"sqlite:///file:{db_file}?uri=true",
        "query": f"sqlite:///{db_file}?timeout=3",
    }[url_form]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    assert copy_template(f"sqlite:///{db_file}")  # as `db upgrade` leaves it, no process start
    folder.chmod(0)
    try:
        done = subprocess.run(
            [*_without_file_permissions_override(), sys.executable, "-m", "feedsvc", *argv],
            env=env, cwd=tmp_path, input="", capture_output=True, text=True, check=False,
        )  # fmt: skip
    finally:
        folder.chmod(0o755)
    assert done.returncode == 1, done.stderr
    line = one_error_line(done.stderr)
    said = f"feedsvc: the state DB {db_file} cannot be reached (permission denied: "
    assert line.startswith(said), line
    assert f"and to write it and its directory {folder} (SQLite keeps" in line, line


@pytest.mark.postgres
@pytest.mark.parametrize(
    "argv", [*READS, *WRITES, ["db", "upgrade"]], ids=lambda a: " ".join(a)
)  # fmt: skip
@pytest.mark.parametrize("form", ["psycopg", "host in the query"])
def test_a_search_path_naming_no_schema_is_said_so(
    clean_cli: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str, argv: list[str], form: str
) -> None:
    """``options=-csearch_path=typo``: "not initialised: run `feedsvc db upgrade`", which then
    failed on "no schema has been selected to create in". Both read paths (psycopg and
    SQLAlchemy, the host in the query) and the writers say what is missing."""
    base, _, _ = pg_url.partition("?")
    url = f"{base}?options=-csearch_path%3Dno_such_schema_7f3a"
    if form == "host in the query":
        host = base.split("@", 1)[1].split("/", 1)[0]
        url = url.replace(f"@{host}/", "@/").replace("?", f"?host={host}&", 1)
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)
    code, output = invoke(argv)
    assert code == 1, output
    line = one_error_line(output)
    assert "has no schema to hold feedsvc's tables: no schema on its search_path exists" in line
    assert "create the schema (CREATE SCHEMA …) or correct the search_path" in line, line
