"""The CLI's exit: Python's shutdown is left no garbage collection to do (issue #17 §1).

``feedsvc.cli.main`` freezes the collector when a command ends: otherwise the interpreter's
shutdown collects every module, class and function still alive in a reference cycle
(pydantic's, psycopg's...), ~80 ms CPU after a read-only command on PostgreSQL. Each case runs
``python -m feedsvc ...`` in a fresh interpreter, as an operator does, and checks the freeze
happened on every way out (success, refusal, failure) and that nothing a command must finish
depended on that collection: a write is there for the next process, the SQLite file was closed
cleanly (no ``-wal``/``-shm`` left behind), the output is complete.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from in_process import feedsvc

PROBE = r"""
import gc, json, runpy, sys
sys.argv = ["feedsvc", *json.loads(sys.argv[1])]
code = 0
try:
    runpy.run_module("feedsvc", run_name="__main__")
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
print("\n" + json.dumps({"code": code, "frozen": gc.get_freeze_count()}))
"""


@pytest.fixture
def workdir(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A config whose SQLite state DB is upgraded and holds one topic."""
    (tmp_path / "topics.toml").write_text(
        '[[topic]]\nslug = "kien-thuy"\ntitle = "Kiến Thụy"\nquery = \'"Kiến Thụy"\'\n',
        encoding="utf-8",
    )
    (tmp_path / "feedsvc.toml").write_text(
        '[database]\nurl = "sqlite:///state.db"\n[topics]\nfile = "topics.toml"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["FEEDSVC_CONFIG"] = str(tmp_path / "feedsvc.toml")
    for argv in (["db", "upgrade"], ["topics", "import"]):  # set-up, not the subject: in process
        done = feedsvc(argv, tmp_path, FEEDSVC_CONFIG=env["FEEDSVC_CONFIG"])
        assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path, env


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, int, str]:
    """(exit code, objects frozen when the command ended, what it printed before)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    *printed, last = done.stdout.rstrip("\n").split("\n")
    report = json.loads(last)
    return report["code"], report["frozen"], "\n".join(printed) + done.stderr


def test_a_read_only_command_ends_with_the_collector_frozen(
    workdir: tuple[Path, dict[str, str]],
) -> None:
    work, env = workdir
    code, frozen, printed = run(["topics", "list"], work, env)
    assert code == 0, printed
    assert "kien-thuy" in printed
    assert frozen > 10_000  # click's, pydantic's, the settings' and the store's objects


def test_a_write_is_there_for_the_next_process_and_the_file_closed_cleanly(
    workdir: tuple[Path, dict[str, str]],
) -> None:
    work, env = workdir
    code, frozen, printed = run(
        ["topics", "add", "an-ninh", "--title", "An ninh", "--query", '"an ninh"'], work, env
    )
    assert (code, "an-ninh: created" in printed) == (0, True), printed
    assert frozen > 10_000
    # WAL mode: the last connection's close checkpoints and removes these files
    assert sorted(p.name for p in work.glob("state.db*")) == ["state.db"]
    code, _, printed = run(["topics", "list"], work, env)
    assert code == 0 and "an-ninh" in printed and "kien-thuy" in printed


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["topics", "enable", "no-such-topic"], 1),  # the work ran, something was refused
        (["topics", "list", "--config", "missing.toml"], 2),  # a configuration problem
    ],
)
def test_every_way_out_freezes_and_keeps_its_exit_code(
    workdir: tuple[Path, dict[str, str]], argv: list[str], expected: int
) -> None:
    work, env = workdir
    code, frozen, printed = run(argv, work, env)
    assert code == expected, printed
    assert frozen > 0
    if expected == 1:
        assert "unknown topic 'no-such-topic'" in printed
