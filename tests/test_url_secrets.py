"""A database password never reaches the terminal or the log, wherever the URL carries it.

libpq and PyMySQL take the password from the URL's query too (``?password=``, ``?passwd=``,
``?sslpassword=``); only the userinfo one (``user:pw@``) used to be masked, so ``config show``,
``status``, ``source check`` and the "not initialised" error printed the query's in clear. Every
command that prints a DB URL is run here as the real CLI process, with the secret in each place,
on both read paths (the driver-only one of ``feedsvc.store.lite`` and SQLAlchemy's), and against
servers that refuse the connection or the database. Commands and places are covered
each-choice (every command, every place, every URL at least once; each place on both read
paths): the masking is one function whatever the command prints, so the cross product of
processes found nothing more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from combos import each_choice
from processes import free_port, wait_until

SECRET = "s3cr3t-Value-9f8e7d"


def cli(cwd: Path, *argv: str, **env: str) -> tuple[int, str]:
    """The real ``feedsvc`` process: its exit code and everything it wrote (stdout + stderr)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    config = cwd / "feedsvc.toml"
    config.write_text('[topics]\nfile = "topics.toml"\n', encoding="utf-8")
    (cwd / "topics.toml").write_text("", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", *argv],
        env={**clean, "FEEDSVC_CONFIG": str(config), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    return done.returncode, output


def with_secret(url: str, where: str) -> str:
    """``url`` (``postgresql+psycopg://postgres@host:port/db?options=…``) with :data:`SECRET`
    as the userinfo password, the query's ``password`` or ``sslpassword``, or (``multi``) in the
    query of the multi-host form (``?host=&port=``, which both read paths take)."""
    if where == "userinfo":
        return url.replace("postgres@", f"postgres:{SECRET}@", 1)
    if where == "multi":
        head, query = url.split("?", 1)
        scheme, rest = head.split("@", 1)
        hostport, db = rest.split("/", 1)
        host, port = hostport.split(":")
        return f"{scheme}@/{db}?host={host}&port={port}&{query}&password={SECRET}"
    return f"{url}&{where}={SECRET}"


PLACES = ["userinfo", "password", "sslpassword", "multi"]

#: Each command is run once per phase, in one place (each-choice: the masking is one function,
#: ``feedsvc.db.urls.shown_url``, whatever the command; what the process adds is each command's
#: printing path and each place's parse), so a case runs ~4 processes instead of 12. Each place
#: is read by the driver-only path (``status``/``topics list``: ``feedsvc.store.lite``) and by
#: SQLAlchemy's (``db upgrade``, run by every case), the read paths whose parses of the place
#: differ.
NOT_INITIALISED = {  # the state DB's schema empty: "not initialised"
    "userinfo": [["source", "check"]],
    "password": [["db", "current"]],
    "sslpassword": [["status"]],
    "multi": [["topics", "list"]],
}
INITIALISED = {  # after `db upgrade`
    "userinfo": [["status"], ["source", "check"]],
    "password": [["status", "--json"], ["db", "current"]],
    "sslpassword": [["topics", "list"], ["db", "upgrade"]],
    "multi": [["config", "show"]],
}


@pytest.mark.postgres
@pytest.mark.parametrize("where", PLACES)
def test_no_command_prints_the_state_db_password(tmp_path: Path, pg_url: str, where: str) -> None:
    url = with_secret(pg_url, where)
    env = {"FEEDSVC_DATABASE__URL": url}
    for argv in NOT_INITIALISED[where]:
        code, output = cli(tmp_path, *argv, **env)  # an empty schema: "not initialised"
        assert SECRET not in output, (argv, output)
        if argv != ["db", "current"]:
            assert code == 1 and "is not initialised" in output and "***" in output, output
    code, output = cli(tmp_path, "db", "upgrade", **env)
    assert code == 0 and SECRET not in output, output
    outputs: dict[str, str] = {}
    for argv in INITIALISED[where]:
        code, output = cli(tmp_path, *argv, **env)
        assert code == 0, (argv, output)
        assert SECRET not in output, (argv, output)
        outputs[" ".join(argv)] = output
    if "status --json" in outputs:
        shown = json.loads(outputs["status --json"])["database"]
        assert "***" in shown and "127.0.0.1" in shown, shown
    if "config show" in outputs:
        config = json.loads(outputs["config show"])
        assert "***" in config["database"]["url"]


def test_each_command_is_run_in_some_place() -> None:
    """The each-choice tables above leave no command out (a guard for their next edit)."""
    assert sorted({" ".join(a) for c in NOT_INITIALISED.values() for a in c}) == [
        "db current", "source check", "status", "topics list"]  # fmt: skip
    assert sorted({" ".join(a) for c in INITIALISED.values() for a in c}) == [
        "config show", "db current", "db upgrade", "source check", "status", "status --json",
        "topics list"]  # fmt: skip


@pytest.mark.postgres
@pytest.mark.parametrize("where", ["userinfo", "multi"])
def test_the_service_log_never_holds_the_password(tmp_path: Path, pg_url: str, where: str) -> None:
    """Two places (a whole service start each): the URL's own password, and the query's in the
    multi-host form; the query's ``password``/``sslpassword`` reach the service as the multi
    form's does (connect arguments), and each is checked for every CLI command above."""
    url = with_secret(pg_url, where)
    assert cli(tmp_path, "db", "upgrade", FEEDSVC_DATABASE__URL=url)[0] == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    log = tmp_path / "service.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "run", "--no-bot", "--port", str(free_port()),
             "--config", str(tmp_path / "feedsvc.toml")],
            env={**env, "FEEDSVC_DATABASE__URL": url, "FEEDSVC_LOG__LEVEL": "DEBUG"},
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_until(lambda: "feedsvc started" in log.read_text(), 60, "the service to start")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = log.read_text()
    assert "feedsvc stopped" in text, text
    assert SECRET not in text


UNREACHABLE = [  # nothing listens on the port; the server has no such database or user
    f"postgresql+psycopg://u@127.0.0.1:{{port}}/x?password={SECRET}",
    f"postgresql://u:{SECRET}@127.0.0.1:{{port}}/x",
    f"postgresql://postgres@127.0.0.1:5432/feedsvc_no_such_db?password={SECRET}",
    f"postgresql://feedsvc_no_such_user:{SECRET}@127.0.0.1:5432/postgres",
    f"postgresql://feedsvc_no_such_user@127.0.0.1:5432/postgres?sslpassword={SECRET}",
]


#: One command of each read path per URL (the driver's error text depends on the URL's failure
#: and on the path, psycopg's own or SQLAlchemy's, not on which command of a path prints it):
#: the driver-only path's ``status``/``topics list`` and SQLAlchemy's ``db upgrade``/``run``,
#: alternating, so every URL meets both paths and every command runs.
FAILING = [
    (url, [lite, sqlalchemy])
    for url, lite, sqlalchemy in each_choice(
        UNREACHABLE, [["status"], ["topics", "list"]], [["db", "upgrade"], ["run", "--no-http"]]
    )
]


@pytest.mark.postgres
@pytest.mark.parametrize(("url", "commands"), FAILING, ids=[f"url{i}" for i in range(len(FAILING))])
def test_a_failing_connection_never_prints_the_password(
    tmp_path: Path, url: str, commands: list[list[str]]
) -> None:
    """The driver's error text (psycopg's "connection failed: …") names host and port only."""
    url = url.format(port=free_port())
    for argv in commands:
        code, output = cli(tmp_path, *argv, FEEDSVC_DATABASE__URL=url)
        assert code == 1, (argv, output)
        assert "database error" in output, output
        assert SECRET not in output, (argv, output)


SOURCES = [
    f"postgresql+psycopg://u@127.0.0.1:{{port}}/x?password={SECRET}",
    f"postgresql://postgres@127.0.0.1:5432/feedsvc_no_such_db?password={SECRET}",
    f"postgresql://postgres:{SECRET}@127.0.0.1:5432/postgres?password={SECRET}",
    f"mysql+pymysql://root@127.0.0.1:3306/test?passwd={SECRET}",
    f"mysql+pymysql://root@127.0.0.1:3306/test?password={SECRET}&charset=utf8mb4",
    f"mysql+pymysql://root:{SECRET}@127.0.0.1:{{port}}/test",
]


@pytest.mark.parametrize("url", SOURCES)
def test_source_check_never_prints_the_source_password(tmp_path: Path, url: str) -> None:
    url = url.format(port=free_port())
    env = {"FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path}/state.db", "FEEDSVC_SOURCE__URL": url}
    code, output = cli(tmp_path, "source", "check", **env)
    assert code in (1, 2), output  # cannot connect, or connected and no such table
    assert "source: " in output and "***" in output.splitlines()[0], output
    assert SECRET not in output
    code, output = cli(tmp_path, "config", "show", **env)
    assert code == 0 and SECRET not in output
    assert "***" in json.loads(output)["source"]["url"]


#: A password holding an '@' not written %40: SQLAlchemy's pattern ends it at the first '@' and
#: reads the rest as the host, which every command then printed ("u:***@Value-9f8e7d@host").
HEAD, TAIL = SECRET.split("-", 1)
UNENCODED_AT = [
    f"postgresql://postgres:{HEAD}@{TAIL}@127.0.0.1:{{port}}/x",
    f"postgresql+psycopg://postgres:{HEAD}@{TAIL}@127.0.0.1:{{port}}/x?sslmode=disable",
    f"postgresql://postgres:{HEAD}@{TAIL}@[::1]:{{port}}/x",
    f"postgresql://postgres:{HEAD}@{TAIL}@/x?host=127.0.0.1&port={{port}}",
    f"mysql+pymysql://root:{HEAD}@{TAIL}@127.0.0.1:{{port}}/test",
]


#: Each command with one URL form (each-choice, 7 cases): the refusal is
#: ``feedsvc.db.urls``' check of the URL as the configuration is loaded, before any command's
#: own code, so the URL's form and the command are independent.
AT_COMMANDS = [["config", "check"], ["config", "show"], ["status"], ["topics", "list"],
               ["db", "upgrade"], ["source", "check"], ["run", "--no-http"]]  # fmt: skip
AT_CASES = each_choice(UNENCODED_AT, AT_COMMANDS)


@pytest.mark.parametrize(
    ("url", "argv"),
    AT_CASES,
    ids=[f"url{i % len(UNENCODED_AT)}-{' '.join(a)}" for i, (_, a) in enumerate(AT_CASES)],
)
def test_a_password_with_an_unencoded_at_is_refused_and_never_printed(
    tmp_path: Path, url: str, argv: list[str]
) -> None:
    """Part of such a password (the text after its '@') was shown by ``config show``,
    ``status``, ``topics list``, ``db upgrade`` and ``run`` (the masked URL and the driver's
    "failed to resolve host '…@127.0.0.1'"). It is now a configuration problem naming the
    key and how to write the '@', exit 2, for the state DB and the source alike."""
    url = url.format(port=free_port())
    state = f"sqlite:///{tmp_path}/state.db"
    key, env = (
        ("source.url", {"FEEDSVC_DATABASE__URL": state, "FEEDSVC_SOURCE__URL": url})
        if url.startswith("mysql")
        else ("database.url", {"FEEDSVC_DATABASE__URL": url})
    )
    code, output = cli(tmp_path, *argv, **env)
    assert code == 2, (argv, output)
    assert f"{key}: holds more than one '@' before the host" in output, (argv, output)
    assert "%40" in output and TAIL not in output and HEAD not in output, (argv, output)
