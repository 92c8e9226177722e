"""Commands given a directory they cannot write: the advice names what the user can change.
``demo --dir`` said "set database.url" (the demo sets it itself) or a bare "Operation not
permitted" (exit 1); a writer whose default state DB directory ``./var`` cannot be created said
"Operation not permitted: …/var", exit 1, no advice. ``chattr +i``: root ignores permission
bits (``test_cli_db_errors.immutable``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from in_process import Ran
from in_process import feedsvc as in_process
from test_cli_db_errors import immutable

from feedsvc.cli import cli
from feedsvc.cli.demo_cmd import _demo_dir

DEMO_ADVICE = "choose a directory it can write with --dir"


def feedsvc(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str] | Ran:
    """``feedsvc ARGV`` in ``cwd``: ``run`` (were it to start, it would serve until the timeout,
    not hang the test) and ``db upgrade`` (the readers' line is compared with its in-process
    one below) as real processes, every other command in this process (``in_process``: a
    refusal's words are the subject; ~1 s of CPU a case)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEEDSVC_", "PG"))}
    env |= {"FEEDSVC_CONFIG": "/dev/null"}
    if argv[0] not in ("run", "db"):
        unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("PG")}
        return in_process(list(argv), cwd, **unset, FEEDSVC_CONFIG="/dev/null")
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *argv], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip


def one_line(done: subprocess.CompletedProcess[str] | Ran) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "feedsvc started" not in done.stderr, done.stderr
    [line] = done.stderr.splitlines()
    return line


@pytest.mark.parametrize("layout", ["empty", "last demo's DB in it", "a new directory in it"])
def test_demo_with_a_dir_it_cannot_write_says_choose_another_dir(
    tmp_path: Path, layout: str
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    given = folder
    if layout == "last demo's DB in it":
        (folder / "demo.db").write_bytes(b"")
    elif layout == "a new directory in it":
        given = folder / "sub"
    with immutable(folder):
        line = one_line(feedsvc(tmp_path, "demo", "--port", "0", "--dir", str(given)))
    assert line.startswith(f"feedsvc: demo --dir {given}: cannot write there ("), line
    assert DEMO_ADVICE in line and "database.url" not in line, line
    assert (folder / "demo.db").exists() == (layout == "last demo's DB in it")  # untouched


def test_demo_without_dir_takes_a_temp_dir_when_var_demo_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An existing ./var/demo it cannot write was taken (``mkdir`` of an existing directory
    succeeds), and the demo failed on it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var" / "demo").mkdir(parents=True)
    with immutable(tmp_path / "var" / "demo"):
        chosen, why = _demo_dir()
    assert chosen != Path("var/demo") and chosen.is_dir() and os.access(chosen, os.W_OK)
    assert why and "cannot write there" in why, why  # the banner's note says why
    chosen.rmdir()
    assert _demo_dir() == (Path("var/demo"), None)  # writable again: the usual place


WRITERS = [
    ["db", "upgrade"],
    ["topics", "add", "zz", "--title", "Z", "--query", "z"],
    ["run", "--no-http"],
]


@pytest.mark.parametrize("argv", WRITERS, ids=" ".join)
def test_a_writer_that_cannot_create_the_default_state_db_directory_names_it(
    tmp_path: Path, argv: list[str]
) -> None:
    """The default ``sqlite:///var/feedsvc.db`` where ``var/`` cannot be created."""
    here = tmp_path / "here"
    here.mkdir()
    with immutable(here):
        line = one_line(feedsvc(here, *argv))
    assert line.startswith(f"feedsvc: the state DB's directory {here / 'var'} cannot be "), line
    assert "set database.url to a file in a directory it can write" in line, line
    assert "--dir" not in line, line


def upgrade_in_process(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> subprocess.CompletedProcess[str]:
    """``db upgrade`` in ``cwd``, in this process (its line as a process is tested above):
    the readers' line is compared with it (a process each was 4 more starts)."""
    for key in list(os.environ):
        if key.startswith(("FEEDSVC_", "PG")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("FEEDSVC_CONFIG", "/dev/null")
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    return subprocess.CompletedProcess(["db", "upgrade"], result.exit_code, "", result.output)


READERS = [["status"], ["topics", "list"], ["source", "check"], ["render", "x"]]


@pytest.mark.parametrize("argv", READERS, ids=" ".join)
def test_readers_in_a_directory_they_cannot_write_name_no_demo_option(
    tmp_path: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader writes nothing and never names the demo's --dir. Where `db upgrade` cannot
    create the default state DB's directory, a reader says that, as `db upgrade` does (exit 2):
    its "not initialised: run `feedsvc db upgrade`" sent the operator to a command that failed
    (tester F13)."""
    here = tmp_path / "here"
    here.mkdir()
    with immutable(here):
        done = feedsvc(here, *argv)
        upgrade = upgrade_in_process(here, monkeypatch)
    line = one_line(done)
    assert line == one_line(upgrade), (line, upgrade.stderr)
    assert line.startswith(f"feedsvc: the state DB's directory {here / 'var'} cannot be "), line
    assert "not initialised" not in line and "--dir" not in line and not (here / "var").exists()
