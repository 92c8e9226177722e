"""Every CLI command that writes the SQLite state DB leaves its data in ``state.db`` itself.

``feedsvc.cli.main`` freezes the collector at exit, so a pooled connection nobody closed stayed
open until the process ended: SQLite checkpoints the WAL into the database and removes
``state.db-wal`` only when the last connection closes. After `db upgrade` or `topics import`,
``state.db`` was 4 KB, the data in a 300 KB ``state.db-wal``, and ``cp state.db backup.db`` an
empty DB (a tester's). Each command runs as an operator runs it (``python -m feedsvc``, a
fresh interpreter), in order on one DB (each step starts from what the ones before it left: one
process a step instead of a setup process plus the command for each case), and ``state.db``
alone is copied and read with the plain ``sqlite3`` module after each.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from factories import article, jsonl
from migrated import copy_template

TOPICS = '[[topic]]\nslug = "kien-thuy"\ntitle = "Kiến Thụy"\nquery = \'"Kiến Thụy"\'\n'

#: (id, argv, SQL on the copy, its expected rows): each step after the steps before it
STEPS: list[tuple[str, list[str], str, list[tuple[object, ...]]]] = [
    ("db upgrade", ["db", "upgrade"], "SELECT count(*) FROM alembic_version", [(1,)]),
    ("topics import", ["topics", "import", "t.toml"], "SELECT slug FROM topics", [("kien-thuy",)]),
    (
        "topics add",
        ["topics", "add", "zz", "--title", "Z", "--query", "cháy"],
        "SELECT slug FROM topics WHERE slug = 'zz'",
        [("zz",)],
    ),
    (
        "topics disable",
        ["topics", "disable", "zz"],
        "SELECT enabled FROM topics WHERE slug = 'zz'",
        [(0,)],
    ),
    (
        "topics enable",
        ["topics", "enable", "zz"],
        "SELECT enabled FROM topics WHERE slug = 'zz'",
        [(1,)],
    ),
    (
        "subs add",
        ["subs", "add", "1003", "--type", "private", "--topic", "zz"],
        "SELECT chat_id FROM subscriptions",
        [(1003,)],
    ),
    ("import", ["import", "a.jsonl"], "SELECT count(*) FROM source_articles", [(2,)]),
    (
        "articles hide",
        ["articles", "hide", "TEST-00001", "--reason", "sai"],
        "SELECT count(*) FROM pending_hides",
        [(1,)],
    ),
    (
        "articles unhide",
        ["articles", "unhide", "TEST-00001"],
        "SELECT count(*) FROM pending_hides",
        [(0,)],
    ),
    ("subs remove", ["subs", "remove", "1"], "SELECT count(*) FROM subscriptions", [(0,)]),
    ("topics remove", ["topics", "remove", "zz"], "SELECT count(*) FROM topics", [(1,)]),
]


@pytest.fixture
def work(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    (tmp_path / "t.toml").write_text(TOPICS, encoding="utf-8")
    (tmp_path / "a.jsonl").write_text(jsonl(article(1), article(2)), encoding="utf-8")
    (tmp_path / "feedsvc.toml").write_text(
        '[database]\nurl = "sqlite:///state.db"\n[topics]\nfile = "t.toml"\n', encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["FEEDSVC_CONFIG"] = str(tmp_path / "feedsvc.toml")
    return tmp_path, env


def _wal_left(work: Path) -> int:
    """The bytes of ``state.db-wal`` (0 when there is none)."""
    wal = work / "state.db-wal"
    return wal.stat().st_size if wal.exists() else 0


def _copy_holds(work: Path, sql: str) -> list[tuple[object, ...]]:
    """``sql`` on a copy of ``state.db`` alone, as ``cp state.db backup.db`` makes it."""
    backup = work / "backup" / "state.db"
    backup.parent.mkdir(exist_ok=True)
    shutil.copyfile(work / "state.db", backup)
    with closing(sqlite3.connect(backup)) as conn:
        return conn.execute(sql).fetchall()


def _feedsvc(argv: list[str], work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *argv],
        cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_writing_command_leaves_its_data_in_the_db_file(
    work: tuple[Path, dict[str, str]],
) -> None:
    """Every step as the command under test, in order, each in a fresh interpreter: the DB each
    one starts from is the one the steps before it left, as a setup process made it before
    (one process per step, not a setup process as well for each of them)."""
    path, env = work
    for step, argv, sql, rows in STEPS:
        done = _feedsvc(argv, path, env)
        assert done.returncode == 0, (step, done.stdout + done.stderr)
        assert _wal_left(path) == 0, step
        assert _copy_holds(path, sql) == rows, step


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["topics", "add", "x", "--title", "X", "--query", "a OR b c"], 2),
        (["topics", "enable", "no-such-topic"], 1),
        (["subs", "add", "1003", "--type", "private", "--topic", "no-such-topic"], 1),
    ],
    ids=["invalid query", "unknown topic", "unknown subs topic"],
)
def test_a_refused_write_closes_the_db_too(
    work: tuple[Path, dict[str, str]], argv: list[str], code: int
) -> None:
    """A command that ends by ``fail`` after opening the DB: the write before it is in
    ``state.db`` (the refused command is the last to close the DB)."""
    path, env = work
    assert copy_template(f"sqlite:///{path / 'state.db'}")  # as `db upgrade` leaves it
    done = _feedsvc(argv, path, env)
    assert done.returncode == code, done.stdout + done.stderr
    assert _wal_left(path) == 0
    assert _copy_holds(path, "SELECT count(*) FROM alembic_version") == [(1,)]


def test_db_current_and_a_new_db_upgrade_close_it(work: tuple[Path, dict[str, str]]) -> None:
    path, env = work
    for argv in (["db", "upgrade"], ["db", "current"]):
        done = _feedsvc(argv, path, env)
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in path.glob("state.db*")) == ["state.db"], argv
