"""Standard streams that do not work end a command with one line and exit 1 (issue #17 §3):
stdin closed (``<&-``), stdout on a full disk (``>/dev/full``) or closed (``>&-``), for
``--help``/``--version`` (written before any command runs) as for commands; a reader leaving
the pipe stays quiet (tests/test_cli_errors.py). Real processes: a closed descriptor and the
interpreter's final flush only exist there. :mod:`feedsvc.cli.streams`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ARTICLE = (
    '{"source_key": "K1", "url": "https://e.vn/1", "title": "Công an xã", '
    '"published_at": "2026-11-20T10:00:00+07:00"}\n'
)
TOPICS = '[[topic]]\nslug = "ca"\ntitle = "Công an"\nquery = \'"công an"\'\n'
FULL = Path("/dev/full")


def _env(unbuffered: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEEDSVC_", "PYTHONUNBUF"))}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return env


def _close(*fds: int) -> Callable[[], None]:
    def close() -> None:
        for fd in fds:
            os.close(fd)

    return close


def feedsvc(
    cwd: Path,
    argv: list[str],
    *,
    unbuffered: bool = False,
    stdin: object = None,
    stdout: object = subprocess.PIPE,
    close: tuple[int, ...] = (),
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *argv], cwd=cwd, env=_env(unbuffered),
        stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120,
        preexec_fn=_close(*close) if close else None, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    "argv",
    [["import", "-"], ["match", "--query", '"công an"'], ["match", "--topics", "topics.toml"]],
)
def test_a_closed_stdin_is_one_line(tmp_path: Path, argv: list[str]) -> None:
    """`feedsvc import - <&-` failed inside Click (RuntimeError: "Was not able to determine
    binary stream for sys.stdin"), `match … <&-` on `None.buffer`: tracebacks."""
    (tmp_path / "topics.toml").write_text(TOPICS, encoding="utf-8")
    done = feedsvc(tmp_path, argv, close=(0,))
    assert done.returncode == 1, done.stderr
    assert done.stderr == "feedsvc: standard input is closed\n"
    assert not (tmp_path / "var").exists()  # import made and migrated the state DB first


def test_a_closed_stdin_is_no_matter_to_a_command_that_does_not_read_it(tmp_path: Path) -> None:
    done = feedsvc(tmp_path, ["config", "check"], close=(0,))
    assert (done.returncode, done.stdout) == (0, "built-in defaults: OK\n"), done.stderr


OUTPUTS = [
    ["--version"],
    ["--help"],
    ["topics", "--help"],
    ["config", "show"],
    ["match", "--query", '"công an"'],
    ["match", "--topics", "topics.toml"],
]


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full")
@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("argv", OUTPUTS, ids=[" ".join(a) for a in OUTPUTS])
def test_stdout_on_a_full_disk_is_one_line(
    tmp_path: Path, argv: list[str], unbuffered: bool
) -> None:
    """`feedsvc --version >/dev/full`: a traceback from Click's echo (before any command), or
    buffered output failing at the interpreter's exit ("Exception ignored…", exit 120)."""
    (tmp_path / "topics.toml").write_text(TOPICS, encoding="utf-8")
    (tmp_path / "a.jsonl").write_text(ARTICLE * 3, encoding="utf-8")
    with FULL.open("w") as full, (tmp_path / "a.jsonl").open("rb") as articles:
        done = feedsvc(tmp_path, argv, unbuffered=unbuffered, stdin=articles, stdout=full)
    assert done.returncode == 1, done.stderr
    assert done.stderr == "feedsvc: cannot write standard output: No space left on device\n"


@pytest.mark.parametrize("argv", [["--version"], ["config", "show"]])
def test_a_closed_stdout_is_one_line(tmp_path: Path, argv: list[str]) -> None:
    done = feedsvc(tmp_path, argv, close=(1,))
    assert done.returncode == 1, done.stderr
    assert done.stderr == "feedsvc: standard output is closed\n"


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full")
def test_with_stderr_closed_too_the_exit_code_still_says_it(tmp_path: Path) -> None:
    with FULL.open("w") as full:
        done = feedsvc(tmp_path, ["--version"], stdout=full, close=(2,))
    assert done.returncode == 1


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
def test_working_streams_are_untouched(tmp_path: Path, unbuffered: bool) -> None:
    (tmp_path / "topics.toml").write_text(TOPICS, encoding="utf-8")
    done = feedsvc(tmp_path, ["match", "--topics", "topics.toml"], unbuffered=unbuffered,
                   stdin=subprocess.DEVNULL)  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "match", "--topics", "topics.toml"], cwd=tmp_path,
        env=_env(unbuffered), input=ARTICLE + "ä" * 3 + "\n", capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert done.stdout == "K1\tca\n" and done.returncode == 1  # the bad line: skipped, said
    assert "line 2" in done.stderr and "Traceback" not in done.stderr


STATE_OUTPUTS = [
    ["topics", "export", "-o", "-"],
    ["topics", "export"],
    ["topics", "list"],
    ["status"],
    ["status", "--json"],
    ["render", "ca"],
]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose (default) state DB holds the topics imported: one import for the
    module's cases, which only read it."""
    work = tmp_path_factory.mktemp("streams")
    (work / "topics.toml").write_text(TOPICS, encoding="utf-8")
    assert feedsvc(work, ["topics", "import", "topics.toml"]).returncode == 0
    return work


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full")
@pytest.mark.parametrize("argv", STATE_OUTPUTS, ids=[" ".join(a) for a in STATE_OUTPUTS])
def test_stdout_on_a_full_disk_is_named_by_commands_reading_the_state_db(
    imported: Path, argv: list[str]
) -> None:
    """`topics export -o - >/dev/full` (and the other commands printing what the state DB
    holds) names standard output, not ``-`` or ``<stdout>``: `-o FILE`'s own wording
    (``feedsvc.cli.output.write_output``) is for a file named on the command line."""
    with FULL.open("w") as full:
        done = feedsvc(imported, argv, stdout=full)
    assert done.returncode == 1, done.stderr
    assert done.stderr == "feedsvc: cannot write standard output: No space left on device\n"


@pytest.mark.parametrize("argv", STATE_OUTPUTS, ids=[" ".join(a) for a in STATE_OUTPUTS])
def test_a_closed_stdout_is_one_line_for_commands_reading_the_state_db(
    imported: Path, argv: list[str]
) -> None:
    """`topics export >&-` (and `-o - >&-`) said it in a line, then a 59-line traceback
    (``ValueError: I/O operation on closed file``): its ``-`` was taken for a file and closed
    (tests/test_cli_output.py walks every output option)."""
    done = feedsvc(imported, argv, close=(1,))
    assert (done.returncode, done.stderr) == (1, "feedsvc: standard output is closed\n")
