"""One exit-code rule for every command (README, issue #17 §3): a name that is not in the state
DB (topic, subscription, article; a disabled topic for `subs add`) is 1, like any work that was
refused; a file named on the command line that cannot be opened is 2, like any bad usage."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli

NOT_THERE = [
    (["render", "nope"], "unknown topic 'nope'"),
    (["topics", "enable", "nope"], "unknown topic 'nope'"),
    (["topics", "disable", "nope"], "unknown topic 'nope'"),
    (["topics", "remove", "nope"], "unknown topic 'nope'"),
    (["topics", "backfill", "nope"], "unknown topic 'nope'"),
    (["subs", "add", "42", "--type", "private", "--topic", "nope"], "unknown topic 'nope'"),
    (
        ["subs", "add", "42", "--type", "private", "--topic", "off"],
        "disabled topic 'off': switch it on first (`",
    ),  # a verifier's: how, named with it
    (["subs", "add", "--channel", "zalo", "--to", "123", "--topic", "nope"], "unknown topic"),
    (["subs", "remove", "999"], "unknown subscription 999"),
    (["articles", "hide", "nope"], "unknown article 'nope'"),
    (["articles", "unhide", "nope"], "unknown article 'nope'"),
]

BAD_FILES = [
    (["topics", "export", "-o", "{tmp}/no/dir/x.toml"], "No such file or directory"),
    (["topics", "export", "-o", "{tmp}"], "Is a directory"),
    (["topics", "import", "{tmp}/no/x.toml"], "file not found"),
    (["import", "{tmp}/no/x.jsonl"], "No such file or directory"),
    (["match", "--topics", "{tmp}/no/x.toml"], "does not exist"),
]


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in [k for k in os.environ if k.startswith("FEEDSVC_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    for argv in (
        ["db", "upgrade"],
        ["topics", "add", "off", "--title", "Off", "--query", "x", "--disabled"],
    ):
        done = CliRunner().invoke(cli, argv)
        assert done.exit_code == 0, done.output
    return tmp_path


@pytest.mark.parametrize(("argv", "message"), NOT_THERE, ids=[" ".join(a) for a, _ in NOT_THERE])
def test_a_name_not_in_the_state_db_is_exit_1(state: Path, argv: list[str], message: str) -> None:
    done = CliRunner().invoke(cli, argv, input="")
    assert done.exit_code == 1, done.output
    assert message in done.stderr and "Traceback" not in done.output


@pytest.mark.parametrize(("argv", "message"), BAD_FILES, ids=[" ".join(a) for a, _ in BAD_FILES])
def test_a_file_that_cannot_be_opened_is_exit_2(state: Path, argv: list[str], message: str) -> None:
    """`topics export -o /nonexistent/dir/x.toml` was 1 (its file opens late, at the first
    write), every other file argument 2."""
    done = CliRunner().invoke(cli, [a.format(tmp=state) for a in argv], input="")
    assert done.exit_code == 2, done.output
    assert message in done.stderr and "Traceback" not in done.output
    assert not (state / "no").exists()
