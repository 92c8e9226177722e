"""A missing or empty state DB with its leftovers is said first, whatever else is wrong there.

A tester's (D9): ``state.db`` missing, its ``-wal`` and ``-shm`` left beside it on a read-only
mount (``mount --bind`` + ``remount,ro``, as root): ``db upgrade`` and ``topics add`` exited 2
saying "the state DB … cannot be written (the user root (uid 0) may not write
…/state.db-wal …): make it writable for that user as the database file is …; never delete a
-wal file" — the database file was missing, and making the leftovers writable would only
have let the next writer discard them. ``status`` on the same mount said the right line
("missing, but … still there"). Every writer now asks where the file is first
(``feedsvc.db.sqlite_location.check_location``, the readers' check) and only then whether it
may write it (``feedsvc.db.writable``). Each other problem met with the leftovers: a read-only
mount, an immutable ``-wal``, a URL that opens the DB read-only; and a directory in place of
the file is said as the readers say it. Real files, a real bind mount (root only).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_cli_db_errors import immutable
from test_orphaned_state_files import ARTICLE, LEFTOVERS, ROWS, moved_away, rows_once_put_back

from feedsvc.cli import cli

WRITERS = {
    "db upgrade": ["db", "upgrade"],
    "topics add": ["topics", "add", "zz", "--title", "Z", "--query", "z"],
    "import -": ["import", "-"],
    "subs add": ["subs", "add", "--channel", "telegram", "--to", "5", "--query", "z"],
}
#: The reader whose line every writer must repeat (it was right before the fix).
READER = ["status"]


@contextmanager
def read_only(directory: Path) -> Iterator[Path]:
    """``directory`` seen through a read-only bind mount (the tester's ``mount --bind`` and
    ``remount,ro``); unmounted afterwards. Root only."""
    if os.geteuid() != 0:
        pytest.skip("a bind mount needs root")
    mount = Path(tempfile.mkdtemp(prefix="feedsvc-ro-"))
    steps = [
        ["mount", "--bind", str(directory), str(mount)],
        ["mount", "-o", "remount,ro,bind", str(mount)],
    ]
    try:
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                pytest.skip(f"cannot bind-mount read-only here: {done.stderr.strip()}")
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)
        mount.rmdir()


def invoke(url: str, argv: list[str]) -> tuple[int, str]:
    """A command in this process on the state DB ``url``: its exit code and output."""
    result = CliRunner().invoke(cli, argv, input=ARTICLE, env={"FEEDSVC_DATABASE__URL": url})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{argv}: uncaught {result.exception!r}\n{result.output}")
    return result.exit_code, result.output


def refusal(url: str, argv: list[str]) -> str:
    """The one ``feedsvc:`` line of a command refused with exit 2."""
    code, output = invoke(url, argv)
    assert code == 2 and "Traceback" not in output, output
    [line] = [x for x in output.splitlines() if x.startswith("feedsvc:")]
    return line


def orphaned(file: Path, state: str = "missing") -> str:
    """The start of the orphan line (``sqlite_file.ORPHANED_STATE``) for ``file``."""
    return f"feedsvc: the state DB file {file} is {state}, but {file}-wal"


def emptied(file: Path) -> None:
    """The tester's other case: ``touch state.db`` after the move (a 0-byte file)."""
    file.touch()


@pytest.fixture
def folder(clean_cli: Path) -> Path:
    data = clean_cli / "data"
    data.mkdir()
    return data


#: The files at the path: missing with the WAL and its index left (the tester's), or an
#: empty file put there afterwards.
STATES: dict[str, tuple[str, Callable[[Path], None] | None]] = {
    "missing": ("missing", None),
    "empty": ("empty (0 bytes)", emptied),
}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("command", list(WRITERS))
def test_on_a_read_only_mount_the_orphan_is_said(folder: Path, command: str, state: str) -> None:
    """The tester's steps: every writer says what ``status`` says, and the leftovers keep
    their rows."""
    words, make = STATES[state]
    moved = moved_away(folder / "state.db", LEFTOVERS["wal+shm"])
    if make is not None:
        make(folder / "state.db")
    with read_only(folder) as mount:
        file, url = mount / "state.db", f"sqlite:///{mount / 'state.db'}"
        line = refusal(url, WRITERS[command])
        assert line.startswith(orphaned(file, words)), line
        assert "cannot be written" not in line and "make it writable" not in line, line
        assert line == refusal(url, READER)
    (folder / "state.db").unlink(missing_ok=True)
    assert rows_once_put_back(folder / "state.db", moved) == ROWS


@pytest.mark.parametrize("command", ["db upgrade", "topics add"])
def test_an_immutable_leftover_is_an_orphan_first(folder: Path, command: str) -> None:
    """A ``-wal`` no one may write (``chattr +i``: root too), the file missing: it was "may not
    write …/state.db-wal": make it writable."""
    file = folder / "state.db"
    moved = moved_away(file, LEFTOVERS["wal"])
    with immutable(Path(f"{file}-wal")):
        line = refusal(f"sqlite:///{file}", WRITERS[command])
    assert line.startswith(orphaned(file)) and "may not write" not in line, line
    assert rows_once_put_back(file, moved) == ROWS


@pytest.mark.parametrize("command", ["db upgrade", "topics add"])
def test_a_read_only_url_beside_an_orphan_says_the_orphan(folder: Path, command: str) -> None:
    """``?mode=ro`` on a missing file with its leftovers: removing ``mode=ro``, as that line
    said, only led to this one."""
    file = folder / "state.db"
    moved_away(file, LEFTOVERS["wal+shm"])
    line = refusal(f"sqlite:///file:{file}?mode=ro&uri=true", WRITERS[command])
    assert line.startswith(orphaned(file)) and "read-only" not in line, line


def test_a_directory_in_place_of_the_file_is_said_as_readers_say_it(folder: Path) -> None:
    """A directory at the path, a ``-wal`` beside it, on a read-only mount: "is a directory"
    (what ``status`` says), not "may not write"."""
    (folder / "state.db").mkdir()
    Path(f"{folder / 'state.db'}-wal").write_bytes(b"")
    with read_only(folder) as mount:
        url = f"sqlite:///{mount / 'state.db'}"
        said = invoke(url, READER)
        assert said[0] == 2 and "is a directory, not an SQLite file" in said[1], said
        for argv in WRITERS.values():  # the configuration's refusal (database.url), as status's
            assert invoke(url, argv) == said
