"""A state DB path holding what no SQLite file can be is the configuration's problem.

``FEEDSVC_DATABASE__URL=sqlite:////dev/null feedsvc config check`` said OK (exit 0), and ``db
upgrade`` then failed, exit 1, with "the SQLite file /dev/null is here but not its
/dev/null-wal …" (a tester's U4), while the same path as ``source.url`` was refused by ``config
check`` ("not a regular file"). One rule now (``db.sqlite_kind.not_a_file``) for both URLs: a
directory, a device, a FIFO or a socket at the path is refused by ``config check`` and so by
every command, ``run`` included, exit 2, naming ``database.url`` and the path.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli
from feedsvc.db.sqlite_kind import not_a_file


@pytest.fixture
def sock(clean_cli: Path) -> Iterator[Path]:
    """A listening Unix socket at ``./sock`` (relative: a socket's path is short)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind("sock")
    try:
        yield clean_cli / "sock"
    finally:
        server.close()


def _fifo(where: Path) -> Path:
    os.mkfifo(where / "fifo")
    return where / "fifo"


def _directory(where: Path) -> Path:
    (where / "dir.db").mkdir()
    return where / "dir.db"


def _device(_where: Path) -> Path:
    return Path("/dev/null")


#: (what, how it is made, the words naming it)
KINDS: list[tuple[str, Callable[[Path], Path], str]] = [
    ("device", _device, "is not a regular file (a character device)"),
    ("fifo", _fifo, "is not a regular file (a pipe (FIFO))"),
    ("directory", _directory, "is a directory, not an SQLite file"),
]
COMMANDS = [
    ["config", "check"],
    ["db", "upgrade"],
    ["db", "current"],
    ["status"],
    ["topics", "list"],
    ["run", "--no-http", "--no-bot"],
]


def invoke(argv: list[str], url: str, *, key: str = "DATABASE") -> tuple[int, str]:
    result = CliRunner().invoke(cli, argv, env={f"FEEDSVC_{key}__URL": url})
    return result.exit_code, result.output


def test_the_rule(clean_cli: Path, sock: Path) -> None:
    (clean_cli / "file.db").write_bytes(b"")
    assert not_a_file(clean_cli / "file.db") is None
    assert not_a_file(clean_cli / "missing.db") is None
    assert not_a_file(clean_cli / "missing" / "x.db") is None
    (clean_cli / "link.db").symlink_to(clean_cli / "file.db")
    assert not_a_file(clean_cli / "link.db") is None  # SQLite opens what the link names
    assert not_a_file(sock) == f"{sock} is not a regular file (a socket)"
    for _, make, words in KINDS:
        path = make(clean_cli)
        assert not_a_file(path) == f"{path} {words}"


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(("kind", "make", "words"), KINDS, ids=[k for k, _, _ in KINDS])
def test_every_command_refuses_it_naming_the_key_and_the_path(
    clean_cli: Path, argv: list[str], kind: str, make: Callable[[Path], Path], words: str
) -> None:
    path = make(clean_cli)
    code, output = invoke(argv, f"sqlite:///{path}")
    assert code == 2, output
    assert f"database.url: {path} {words}: set database.url" in output, output
    assert "(set by FEEDSVC_DATABASE__URL)" in output, output
    assert "-wal" not in output and "Traceback" not in output, output
    assert not (clean_cli / "var").exists()


def test_a_socket_and_a_relative_path(clean_cli: Path, sock: Path) -> None:
    for argv in (["config", "check"], ["db", "upgrade"]):
        code, output = invoke(argv, "sqlite:///sock")  # relative: the working directory's
        assert code == 2, output
        assert f"database.url: {sock} is not a regular file (a socket)" in output, output


def test_the_tester_s_case_from_the_config_file(clean_cli: Path) -> None:
    (clean_cli / "x.toml").write_text('[database]\nurl = "sqlite:////dev/null"\n')
    for argv in (["config", "check"], ["db", "upgrade"]):
        result = CliRunner().invoke(cli, ["--config", "x.toml", *argv])
        assert result.exit_code == 2, result.output
        assert "database.url: /dev/null is not a regular file" in result.output, result.output


@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_a_source_file_that_is_a_fifo_or_a_socket_is_refused_alike(
    clean_cli: Path, sock: Path, kind: str
) -> None:
    path = _fifo(clean_cli) if kind == "fifo" else sock
    code, output = invoke(["config", "check"], f"sqlite:///{path}", key="SOURCE")
    assert code == 2, output
    assert f"source.url: {path} is not a regular file" in output, output


def test_the_state_db_location_check_says_it_too(clean_cli: Path) -> None:
    """What is put at the path after the configuration was read: the location check, asked
    before anything opens the file, says it in the same words (exit 2)."""
    from feedsvc.db.sqlite_location import sqlite_location_problem

    fifo = _fifo(clean_cli)
    said = sqlite_location_problem(fifo, f"sqlite:///{fifo}", relative=False)
    assert said is not None and f"{fifo} is not a regular file (a pipe (FIFO))" in said, said
    assert "set database.url" in said
