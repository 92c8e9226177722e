"""A state DB that ``database.url`` opens read-only stops ``feedsvc run`` at start, exit 2.

``feedsvc run`` with SQLite's ``?mode=ro&uri=true``, a file or directory it cannot write,
PostgreSQL's ``options=-cdefault_transaction_read_only=on`` or a role with that setting started,
logged, then exited 1 at its first write (the PostgreSQL line said "a standby?"). It now proves
it can write before it says or does anything (``feedsvc.db.writable``): one line naming
``database.url`` and what to change, exit 2 (a configuration error: systemd does not restart
it). ``config check`` flags SQLite's ``mode=ro`` without connecting. Real SQLite files and the
machine's PostgreSQL, through the real ``feedsvc`` process. The two starts (scheduler, web
replica) are covered each-choice with the ways of being read-only: one probe runs before either.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import pytest
from combos import each_choice
from site_placeholder import unplaced
from sqlalchemy import create_engine, make_url, text
from test_cli_db_errors import immutable

from feedsvc.db import Database, upgrade

RUNS = [["run", "--no-http"], ["run", "--no-scheduler", "--no-bot", "--port", "0"]]  # + web replica


def feedsvc(url: str, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEEDSVC_", "PG"))}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *argv], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip


def refused(done: subprocess.CompletedProcess[str]) -> str:
    """Exit 2 before anything was logged: the one line, which names database.url."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "feedsvc started" not in done.stderr, done.stderr
    [line] = unplaced(
        done.stderr
    ).splitlines()  # nothing logged before it: no render, no topics import
    assert line.startswith("feedsvc: the state DB ") and "database.url" in line, line
    return line


def migrated(url: str) -> None:
    db = Database(url)
    try:
        upgrade(db)
    finally:
        db.dispose()


#: Each-choice (4 cases, not 8): the URL's query is read before either start
#: (``feedsvc.db.writable``, the same probe for both), so the query and the kind of start are
#: independent; each query and each start appears.
READ_ONLY_QUERIES = ["mode=ro", "immutable=1", "mode=ro&cache=shared", "immutable=yes&mode=rw"]
SQLITE_CASES = each_choice(READ_ONLY_QUERIES, RUNS)


@pytest.mark.parametrize(
    ("query", "argv"), SQLITE_CASES, ids=[f"{q}-{' '.join(a)}" for q, a in SQLITE_CASES]
)
def test_a_read_only_sqlite_uri(clean_cli: Path, query: str, argv: list[str]) -> None:
    db_file = clean_cli / "state.db"
    migrated(f"sqlite:///{db_file}")
    line = refused(feedsvc(f"sqlite:///file:{db_file}?{query}&uri=true", clean_cli, *argv))
    option = "mode=ro" if "mode=ro" in query else query.split("&")[0]
    assert f"database.url opens it read-only ({option} in the URL)" in line, line
    assert f"remove {option} from database.url" in line and "permissions" not in line, line


@pytest.mark.parametrize("what", ["immutable file", "immutable directory"])
def test_a_file_or_directory_it_cannot_write(clean_cli: Path, what: str) -> None:
    """``chattr +i`` (root ignores the permission bits): the file, or its directory with no
    ``-wal`` beside the file (a clean stop leaves none), so SQLite cannot open it for writing."""
    folder = clean_cli / "data"
    folder.mkdir()
    db_file = folder / "state.db"
    migrated(f"sqlite:///{db_file}")
    assert not Path(f"{db_file}-wal").exists()
    with immutable(db_file if what == "immutable file" else folder):
        line = refused(feedsvc(f"sqlite:///{db_file}", clean_cli, "run", "--no-http"))
    assert f"check the permissions and owner of {db_file} and of its directory {folder}" in line
    assert "or set database.url to a file it can write" in line, line


def test_a_new_sqlite_file_opened_read_only(clean_cli: Path) -> None:
    """No file yet: the migration it needs cannot create it (it was exit 1)."""
    url = f"sqlite:///file:{clean_cli / 'new.db'}?mode=ro&uri=true"
    assert "database.url opens it read-only (mode=ro" in refused(feedsvc(url, clean_cli, *RUNS[0]))
    assert not (clean_cli / "new.db").exists()


def test_writers_other_than_run_say_the_same(clean_cli: Path) -> None:
    """``db upgrade`` and ``topics add`` go through the same start (exit 2, the same line)."""
    db_file = clean_cli / "state.db"
    migrated(f"sqlite:///{db_file}")
    url = f"sqlite:///file:{db_file}?mode=ro&uri=true"
    for argv in (["db", "upgrade"], ["topics", "add", "zz", "--title", "Z", "--query", "z"]):
        assert "remove mode=ro from database.url" in refused(feedsvc(url, clean_cli, *argv))
    done = feedsvc(url, clean_cli, "topics", "list")  # reading needs no write
    assert done.returncode == 0, done.stderr


def test_a_writable_db_still_starts(clean_cli: Path) -> None:
    """The probe writes nothing: a web replica on a writable DB serves, and the DB's change
    counter is where it was (``PRAGMA data_version`` of another connection)."""
    import sqlite3

    db_file = clean_cli / "state.db"
    migrated(f"sqlite:///{db_file}")
    from feedsvc.db.revision import ensure_schema

    watcher = sqlite3.connect(db_file)
    before = watcher.execute("PRAGMA data_version").fetchone()
    db = Database(f"sqlite:///{db_file}")
    try:
        ensure_schema(db)
    finally:
        db.dispose()
    assert watcher.execute("PRAGMA data_version").fetchone() == before
    watcher.close()


@pytest.mark.parametrize(
    ("query", "option"),
    [("mode=ro", "mode=ro"), ("immutable=1", "immutable=1"),
     ("mode=ro&cache=shared&timeout=3", "mode=ro"),
     ("mode=r%6F&cache=private&immutable=1&nolock=yes", "mode=ro")],  # as SQLite decodes it
)  # fmt: skip
def test_config_check_flags_a_read_only_sqlite_uri(
    clean_cli: Path, query: str, option: str
) -> None:
    """Without connecting: the file's directory does not even exist."""
    url = f"sqlite:///file:/nonexistent-{uuid.uuid4().hex}/state.db?{query}&uri=true"
    done = feedsvc(url, clean_cli, "config", "check")
    assert done.returncode == 2, done.stderr
    assert "1 problem(s)" in done.stderr, done.stderr
    assert f"database.url: opens the state DB read-only ({option} in the URL)" in done.stderr
    assert f"remove {option} from database.url" in done.stderr, done.stderr
    if query != "mode=ro":  # the writable URL's check, the same for every case: run in one
        return
    writable = f"sqlite:///file:{clean_cli / 'state.db'}?mode=rwc&uri=true"
    assert feedsvc(writable, clean_cli, "config", "check").returncode == 0


# -- PostgreSQL ---------------------------------------------------------------------------


@contextmanager
def pg_role(pg_url: str, *settings: str, grant: str = "ALL") -> Iterator[str]:
    """A login role with ``grant`` on the test schema's tables and each ``ALTER ROLE`` tail of
    ``settings`` (``SET default_transaction_read_only = on``); its URL, the role dropped after."""
    url = make_url(pg_url)
    schema = str(url.query["options"]).removeprefix("-csearch_path=")
    role = f"ro_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(query={}), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
        conn.execute(text(f"GRANT {grant} ON ALL TABLES IN SCHEMA {schema} TO {role}"))
        conn.execute(text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"))
        for tail in settings:
            conn.execute(text(f"ALTER ROLE {role} {tail}"))
    try:
        yield url.set(username=role).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


PG_HOWS = {
    "url": "database.url sets it (options=-cdefault_transaction_read_only=on)",
    "role": "run ALTER ROLE {role} RESET default_transaction_read_only",
    "role in database":
        "run ALTER ROLE {role} IN DATABASE feedsvc_test RESET default_transaction_read_only",
    "select only": "refused access (ProgrammingError (InsufficientPrivilege): permission "
        "denied for table leases): grant the role in database.url the privileges",
}  # fmt: skip


@pytest.mark.postgres
@pytest.mark.parametrize(("how", "says"), list(PG_HOWS.items()), ids=list(PG_HOWS))
def test_a_read_only_postgresql(pg_url: str, clean_cli: Path, how: str, says: str) -> None:
    """The line says where the setting comes from, which is what the operator changes (it said
    "the server accepts no writes (a standby?)" after the start)."""
    migrated(pg_url)
    guard: AbstractContextManager[str] = nullcontext(
        pg_url + "%20-cdefault_transaction_read_only%3Don"
    )
    if how == "role":
        guard = pg_role(pg_url, "SET default_transaction_read_only = on")
    elif how == "role in database":
        guard = pg_role(pg_url, "IN DATABASE feedsvc_test SET default_transaction_read_only = on")
    elif how == "select only":
        guard = pg_role(pg_url, grant="SELECT")
    # one start per case, alternating (each-choice): the probe, and where its line says the
    # setting comes from, is the same whichever start runs it (test_a_read_only_sqlite_uri)
    argv = RUNS[list(PG_HOWS).index(how) % len(RUNS)]
    with guard as url:
        role = make_url(url).username
        line = refused(feedsvc(url, clean_cli, *argv))
        assert says.format(role=role) in line, line
        assert "standby" not in line and "password" not in line, line
