"""Every ``-o``/``--output`` option of the CLI (walked from the command tree), with standard
output closed, on a full disk or a pipe whose reader left: one line on stderr and exit 1 (no
line for the reader that left), never a traceback; and no command closes ``sys.stdout``.

A tester's: ``feedsvc topics export >&-`` (and ``-o - >&-``) printed "cannot write standard
output: standard output is closed" and then a 59-line chained traceback ending ``ValueError:
I/O operation on closed file``: ``write_output`` told Click's ``-`` stream from a file by its
name, took the file's branch and closed ``sys.stdout``; the root's last flush then met it
closed. :mod:`feedsvc.cli.output`.
"""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from test_cli_errors import ALL, command_at
from test_cli_streams import FULL, TOPICS, feedsvc

from feedsvc.cli import cli
from feedsvc.cli.output import OutputFile
from feedsvc.cli.streams import OutputError


def _writes_a_file(param: click.Parameter) -> bool:
    kind = param.type
    named = isinstance(param, click.Option) and {"-o", "--output"} & set(param.opts)
    return bool(named) or (isinstance(kind, click.File) and "w" in kind.mode)


OUTPUTS = [(path, param) for path in ALL for param in command_at(path).params
           if _writes_a_file(param)]  # fmt: skip


def test_every_output_option_is_one_type() -> None:
    assert {(" ".join(p), param.name) for p, param in OUTPUTS} >= {("topics export", "output")}
    for path, param in OUTPUTS:
        assert isinstance(param.type, OutputFile), f"{' '.join(path)} {param.name}"


def _argvs() -> list[list[str]]:
    """Each output option given ``-`` and, when that is its default, left out."""
    found = []
    for path, param in OUTPUTS:
        assert isinstance(param, click.Option)
        found.append([*path, param.opts[0], "-"])
        if param.default == "-":
            found.append(list(path))
    return found


ARGVS = _argvs()
IDS = [" ".join(a) for a in ARGVS]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose default state DB holds a topic (the commands only read it)."""
    work = tmp_path_factory.mktemp("outputs")
    (work / "topics.toml").write_text(TOPICS, encoding="utf-8")
    assert feedsvc(work, ["topics", "import", "topics.toml"]).returncode == 0
    return work


@pytest.mark.parametrize("argv", ARGVS, ids=IDS)
def test_a_closed_stdout_is_one_line(imported: Path, argv: list[str]) -> None:
    done = feedsvc(imported, argv, close=(1,))
    assert (done.returncode, done.stderr) == (1, "feedsvc: standard output is closed\n")


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full")
@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("argv", ARGVS, ids=IDS)
def test_a_full_disk_is_one_line(imported: Path, argv: list[str], unbuffered: bool) -> None:
    with FULL.open("w") as full:
        done = feedsvc(imported, argv, stdout=full, unbuffered=unbuffered)
    assert done.returncode == 1, done.stderr
    assert done.stderr == "feedsvc: cannot write standard output: No space left on device\n"


@pytest.mark.parametrize("argv", ARGVS, ids=IDS)
def test_a_reader_that_left_is_exit_1_and_quiet(imported: Path, argv: list[str]) -> None:
    """The pipe's reader gone before the first write (``… | head -c1`` on a long output): EPIPE,
    which Click makes a quiet exit 1."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = feedsvc(imported, argv, stdout=write)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (1, "")


class _Stdout(io.BytesIO):
    """A stdout named as the closed one's stand-in is ("standard output"), and failing as it
    fails when ``fails`` (``streams.OutputError``, what the root words for every command)."""

    name = "standard output"

    def __init__(self, *, fails: bool) -> None:
        super().__init__()
        self.fails = fails

    def write(self, data: Any, /) -> int:
        if self.fails:
            raise OutputError(errno.EIO, "Input/output error")
        return super().write(data)


@pytest.mark.parametrize("fails", [False, True], ids=["working", "failing"])
@pytest.mark.parametrize("argv", ARGVS, ids=IDS)
def test_no_command_closes_stdout(
    imported: Path,
    argv: list[str],
    fails: bool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In the process: stdout is still open after the command, which wrote its text there
    or, when stdout fails, said so in one line (exit 1): the old ``write_output`` took it for a
    file, closed it, and the root's last flush raised ``ValueError``."""
    for key in [k for k in os.environ if k.startswith("FEEDSVC_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(imported)
    raw = _Stdout(fails=fails)
    stdout = io.TextIOWrapper(raw, encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", stdout)
    with pytest.raises(SystemExit) as exited:
        cli.main(argv, prog_name="feedsvc")
    assert not stdout.closed
    if fails:
        assert exited.value.code == 1
        assert capsys.readouterr().err == (
            "feedsvc: cannot write standard output: Input/output error\n"
        )
        return
    assert exited.value.code == 0
    stdout.flush()
    assert "slug = 'ca'" in raw.getvalue().decode("utf-8")


def test_the_text_on_stdout_is_utf8_whatever_its_encoding(imported: Path) -> None:
    """A topics file is UTF-8 (TOML): ``-o -`` wrote UTF-8 through Click's stream before, and
    still does with ``PYTHONIOENCODING=ascii``."""
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "topics", "export", "-o", "-"], cwd=imported,
        env={k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
        | {"PYTHONIOENCODING": "ascii"}, capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "title = 'Công an'" in done.stdout.decode("utf-8")
