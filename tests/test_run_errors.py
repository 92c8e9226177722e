"""`feedsvc run` on a state DB it cannot use: one line on stderr, exit 1, with HTTP on or off.

With HTTP on (the default) the service used to start inside uvicorn's lifespan, so a DB that
did not answer, refused the user or was newer than this feedsvc printed uvicorn's ~100-frame
"Application startup failed" traceback and exited 3; `--no-http` printed one line (a newer
schema: a traceback there too). Both paths now start the service the same way (issue #17 §3).

Each problem runs in one mode, the modes rotating (each-choice): the start that meets the DB is
the same code with HTTP on or off, so the problem's line does not depend on the mode; each mode
still meets several problems, the newer schema one in each.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from processes import free_port
from sqlalchemy import text

from feedsvc.db import Database, upgrade

SECRET = "hunter2pw"
MODES = {"http": [], "no-http": ["--no-http"]}


def run(tmp_path: Path, url: str, mode: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    argv = ["run", "--no-bot", "--port", str(free_port()), *MODES[mode]]
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *argv],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def check_one_line(done: subprocess.CompletedProcess[str], expected: str) -> None:
    """Exit 1, one line on stderr naming the problem, no traceback, no password."""
    both = done.stdout + done.stderr
    assert done.returncode == 1, both
    assert "Traceback" not in both and "startup failed" not in both, both
    assert SECRET not in both, both
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("feedsvc: "), both
    assert expected in lines[0], both


@pytest.mark.parametrize("mode", ["http"])  # each-choice (module docstring)
def test_a_state_db_that_does_not_answer(tmp_path: Path, mode: str) -> None:
    url = f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:{free_port()}/x"
    check_one_line(run(tmp_path, url, mode), "Connection refused")


@pytest.mark.parametrize("mode", ["no-http"])  # each-choice (module docstring)
def test_a_sqlite_state_db_newer_than_this_feedsvc(tmp_path: Path, mode: str) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    newer(url)
    check_one_line(run(tmp_path, url, mode), "newer than this feedsvc knows")


@pytest.mark.postgres
@pytest.mark.parametrize("mode", ["http"])  # each-choice (module docstring)
def test_a_postgresql_state_db_newer_than_this_feedsvc(
    tmp_path: Path, pg_url: str, mode: str
) -> None:
    newer(pg_url)
    url = pg_url.replace("postgres@", f"postgres:{SECRET}@")  # trusted: any password works
    done = run(tmp_path, url, mode)
    check_one_line(done, "newer than this feedsvc knows")
    assert pg_url.replace("postgres@", "postgres:***@") in done.stderr  # shown, masked


@pytest.mark.postgres
@pytest.mark.parametrize("mode", ["no-http"])  # each-choice (module docstring)
def test_a_user_the_server_refuses(tmp_path: Path, pg_url: str, mode: str) -> None:
    url = pg_url.replace("postgres@", f"no_such_user_x:{SECRET}@")
    check_one_line(run(tmp_path, url, mode), 'role "no_such_user_x" does not exist')


def newer(url: str) -> None:
    """A state DB at a schema revision after this feedsvc's head."""
    db = Database(url)
    upgrade(db)
    with db.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    db.dispose()


@pytest.mark.parametrize("mode", ["http"])  # each-choice (module docstring)
def test_a_read_only_sqlite_state_db_stops_the_start(tmp_path: Path, mode: str) -> None:
    """A state DB opened read-only (here SQLite's ``mode=ro``; a read-only mount or file acts
    alike) used to start the service, which then warned on every tick and stored nothing. Then
    the start's first write (the feeds' watermark) ended it, exit 1; now the start proves a write
    before anything else and refuses: exit 2 (the operator's setting), naming ``mode=ro``."""
    path = tmp_path / "state.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    done = run(tmp_path, f"sqlite:///file:{path}?mode=ro&uri=true", mode)
    both = done.stdout + done.stderr
    assert done.returncode == 2, both
    assert "Traceback" not in both and "feedsvc started" not in both, both
    last = done.stderr.splitlines()[-1]
    assert last.startswith("feedsvc: ") and "opens it read-only (mode=ro in the URL)" in last, both
