"""A running service stops when its state DB's schema revision changes under it.

An operator ran ``feedsvc db upgrade`` of a newer release while the old service still ran;
the old process kept writing with its old idea of the schema. It now reads the revision every
``schema_watch.SCHEMA_CHECK_SECONDS`` (the start's rule, ``revision.schema_status``) and a
revision that is not its own is an ERROR naming both and what to do, the orderly stop, exit 1
(what ``run`` exits with on that DB at start). The real ``feedsvc run`` process, its check
interval shortened; the "upgrade" is what one leaves: another revision in ``alembic_version``.

The change and the roles each-choice, each case on one state DB backend, rotating
(``backend_cases.on_backends``, PostgreSQL first: the full role set, holding the ingest lease
there, stops on it): the watch runs alike under every role set (``schema_watch``), reads the
revision by the same statement on both backends, and which revision it reads only changes the
line it logs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from backend_cases import on_backends
from combos import each_choice
from sqlalchemy import create_engine, text

from feedsvc.db import Database
from feedsvc.db.revision import head_revision, known_revisions
from feedsvc.schema_watch import schema_problem

#: ``feedsvc`` with the check every 0.3 s instead of every minute.
FAST_CHECK = (
    "import sys, feedsvc.schema_watch as w; w.SCHEMA_CHECK_SECONDS = 0.3; "
    "from feedsvc.entry import main; main()"
)
ROLES = {
    "all roles": ["run", "--no-http"],
    "web replica": ["run", "--no-scheduler", "--no-bot", "--port", "0"],
}


def set_revision(url: str, revision: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


@contextmanager
def service(url: str, cwd: Path, argv: list[str]) -> Iterator[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    process = subprocess.Popen(
        [sys.executable, "-c", FAST_CHECK, *argv], cwd=cwd, env=env, text=True,
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def wait_started(process: subprocess.Popen[str]) -> list[str]:
    """The log lines up to "feedsvc started" (read from its stderr, in order)."""
    assert process.stderr is not None
    lines: list[str] = []
    for line in process.stderr:
        lines.append(line)
        if "feedsvc started" in line:
            return lines
    raise AssertionError(f"the service did not start: {''.join(lines)}")


def wait_exit(process: subprocess.Popen[str], timeout: float = 20.0) -> tuple[int, str]:
    try:
        _out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _out, err = process.communicate()
        raise AssertionError(f"still running {timeout} s after the change:\n{err}") from None
    return process.returncode, err


NEWER = f"{int(head_revision()) + 1:04d}"
OLDER = max(r for r in known_revisions() if r < head_revision())  # numbers may skip
CHANGES = {
    "newer (db upgrade of a later release)": (NEWER, "newer than this feedsvc knows"),
    "older (a backup restored)": (OLDER, "run `feedsvc db upgrade`"),
    "no feedsvc revision": ("abc123", "which is not a feedsvc revision"),
}


@pytest.mark.parametrize(
    ("db_url", "change", "role"),
    on_backends(each_choice(list(CHANGES), list(ROLES)), start=1),
    indirect=["db_url"],
)
def test_the_service_stops_when_the_revision_changes(
    state_url: str, tmp_path: Path, change: str, role: str
) -> None:
    revision, says = CHANGES[change]
    head = head_revision()
    try:
        with service(state_url, tmp_path, ROLES[role]) as process:
            wait_started(process)
            set_revision(state_url, revision)
            code, err = wait_exit(process)
    finally:
        set_revision(state_url, head)  # a PostgreSQL schema may be kept as a spare template
    assert code == 1, err
    assert "Traceback" not in err, err
    [line] = [line for line in err.splitlines() if "schema revision changed" in line]
    assert "ERROR" in line and says in line, line
    assert f"changed from {head} to {revision} while this feedsvc (schema {head})" in line, line
    assert "start the feedsvc release that upgraded it" in line, line
    assert "feedsvc stopped" in err, err  # the orderly stop, not a kill


def test_an_unchanged_revision_is_no_problem(db: Database) -> None:
    assert schema_problem(db) is None


def test_a_stopped_start_on_the_newer_revision_says_the_same_rule(
    state_url: str, tmp_path: Path
) -> None:
    """After the stop, the restart systemd makes (``Restart=on-failure``) of the same old
    feedsvc refuses in one line, exit 1: the start's rule, which the watch reuses."""
    set_revision(state_url, NEWER)
    try:
        with service(state_url, tmp_path, ROLES["all roles"]) as process:
            code, err = wait_exit(process)
    finally:
        set_revision(state_url, head_revision())
    assert code == 1, err
    assert f"is at schema revision {NEWER}, newer than this feedsvc knows" in err, err


def test_no_revision_read_is_not_taken_for_an_upgrade(db: Database) -> None:
    """An emptied ``alembic_version`` (or an SQLite file gone from its path) stops nothing: the
    service's own connections still hold its DB, and the next start says what is wrong."""
    with db.write() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
    try:
        assert schema_problem(db) is None
    finally:
        with db.write() as conn:
            conn.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": head_revision()})
    set_revision(db.url, NEWER)
    try:
        assert f"changed from {head_revision()} to {NEWER}" in (schema_problem(db) or "")
    finally:
        set_revision(db.url, head_revision())
