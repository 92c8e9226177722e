"""A PostgreSQL state DB that cannot be connected to says what to do (`feedsvc.db.connect_errors`).

A newcomer's first `feedsvc db upgrade` with `database.url = "postgresql://…/feedsvc"` said
`feedsvc: database error in the state DB …: OperationalError: … FATAL: database "feedsvc" does
not exist` and stopped there: `db upgrade` creates feedsvc's tables, never the database, and the
line did not say so. Likewise a user the server refuses and an address where nothing listens.
Against the machine's PostgreSQL on 127.0.0.1:5432, each command path that connects: a write
through SQLAlchemy (`db upgrade`), the driver's own read (`status`, `topics list`), `run`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from conftest import PG_ADMIN_URL

from feedsvc.cli import cli

PASSWORD = "hunter2-Connect-pw"
SERVER = PG_ADMIN_URL.split("@", 1)[1].rsplit("/", 1)[0]  # 127.0.0.1:5432
COMMANDS = [["db", "upgrade"], ["status"], ["topics", "list"]]


def error_line(argv: list[str], url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The one line ``feedsvc ARGV`` prints on ``url``; exit 1, no traceback."""
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and PASSWORD not in result.output
    [line] = [x for x in result.output.splitlines() if x.startswith("feedsvc: ")]
    return line


def admin_execute(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(sql)


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_a_database_not_created_says_to_create_it(
    clean_cli: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    name = f"nc_missing_{uuid.uuid4().hex[:8]}"
    url = f"postgresql://postgres@{SERVER}/{name}"
    line = error_line(argv, url, monkeypatch)
    assert f'database "{name}" does not exist' in line, line
    assert f'CREATE DATABASE "{name}" OWNER "postgres";' in line, line
    assert "then run `feedsvc db upgrade`" in line and "database.url" in line, line


def test_following_the_advice_works(clean_cli: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The statement the line gives, run as said, then `db upgrade`: a state DB that works."""
    name = f"nc_created_{uuid.uuid4().hex[:8]}"
    url = f"postgresql://postgres@{SERVER}/{name}"
    line = error_line(["db", "upgrade"], url, monkeypatch)
    statement = line.split("as a superuser: ", 1)[1].split(")", 1)[0]
    admin_execute(statement)
    try:
        assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
        listed = CliRunner().invoke(cli, ["topics", "list"])
        assert listed.exit_code == 0, listed.output
    finally:
        admin_execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_a_refused_user_says_to_check_user_and_password(
    clean_cli: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    url = f"postgresql://nc_nobody_{uuid.uuid4().hex[:8]}:{PASSWORD}@{SERVER}/postgres"
    line = error_line(argv, url, monkeypatch)
    assert "the server refused the user and password in database.url" in line, line
    assert ":***@" in line, line


def free_port() -> int:
    """A loopback port nothing listens on (bound, never listened, closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_no_server_says_to_start_it_or_correct_the_address(
    clean_cli: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/feedsvc"
    line = error_line(argv, url, monkeypatch)
    assert "Connection refused" in line, line
    assert "nothing answers at the host and port in database.url" in line, line


def test_run_says_it_too(tmp_path: Path) -> None:
    """`run` connects at start: the same line from the root, exit 1."""
    name = f"nc_missing_{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    url = f"postgresql://postgres@{SERVER}/{name}"
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "run", "--no-http"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f'CREATE DATABASE "{name}" OWNER "postgres";' in done.stderr, done.stderr


def test_an_error_not_recognised_gets_no_advice() -> None:
    """A server answering in another language (`lc_messages`), or a session's error (it has
    an SQLSTATE): the line stays the driver's words, never a wrong hint."""
    from feedsvc.db.connect_errors import connect_trouble

    assert connect_trouble(psycopg.OperationalError('FATAL: la base "x" n’existe pas')) is None
    assert connect_trouble(ValueError('database "x" does not exist')) is None


# -- `source check`: the source's server refused the connection ------------------------------

MARIADB_SERVER = "127.0.0.1:3306"  # the machine's MariaDB (root, no password)


def source_line(url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The one line `feedsvc source check` prints when it cannot connect to ``url``; exit 1."""
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    monkeypatch.setenv("FEEDSVC_SOURCE__URL", url)
    result = CliRunner().invoke(cli, ["source", "check"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and PASSWORD not in result.output
    [line] = [x for x in result.output.splitlines() if x.startswith("feedsvc: ")]
    assert line.startswith("feedsvc: cannot connect to the source: "), line
    return line


@pytest.mark.parametrize(
    "url",
    [f"mysql+pymysql://root@{MARIADB_SERVER}/nc_nosuchcms", f"postgresql://postgres@{SERVER}/nc_nosuchcms"],
    ids=["mariadb", "postgresql"],
)  # fmt: skip
def test_a_source_database_that_is_not_there_says_to_correct_its_name(
    clean_cli: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    """It said the driver's words only (`(1049, "Unknown database 'cms'")`); a source is never
    created, so the advice is the name, not a CREATE DATABASE."""
    line = source_line(url, monkeypatch)
    assert "nc_nosuchcms" in line, line
    assert line.endswith(
        ": correct the database name in source.url (a source is read, never created)"
    )
    assert "CREATE DATABASE" not in line


@pytest.mark.parametrize(
    ("url", "grant"),
    [(f"mysql+pymysql://root:{PASSWORD}@{MARIADB_SERVER}/mysql",
      "CREATE USER …; GRANT SELECT ON …"),
     (f"postgresql://nc_nobody:{PASSWORD}@{SERVER}/postgres", "CREATE ROLE … LOGIN, pg_hba.conf")],
    ids=["mariadb", "postgresql"],
)  # fmt: skip
def test_a_refused_source_user_says_to_check_user_and_password(
    clean_cli: Path, monkeypatch: pytest.MonkeyPatch, url: str, grant: str
) -> None:
    line = source_line(url, monkeypatch)
    assert "the server refused the user and password in source.url" in line, line
    assert line.endswith(f"({grant})"), line


def test_no_source_server_says_to_start_it(
    clean_cli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = source_line(f"mysql+pymysql://root@127.0.0.1:{free_port()}/cms", monkeypatch)
    assert line.endswith(
        ": nothing answers at the host and port in source.url: start MariaDB there, or correct "
        "the host and port"
    ), line
