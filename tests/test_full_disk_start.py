"""A start on a full disk is exit 1 ("no space left on device at …: free space"), so a
supervisor retries it; a read-only file system stays exit 2 (a tester's: a first `run` on a
full disk said "cannot open the scheduler lock … make it writable (chown, chmod)", exit 2, which
the shipped systemd unit never restarts; with the lock there, "database error …: disk I/O
error", nothing about space).

Real full file systems: a small tmpfs mounted for the test (root only, as
``test_import_disk_full.py`` does; skipped elsewhere), filled to the last block.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tmpfs import tmpfs

from feedsvc.db import Database, upgrade
from feedsvc.db.errors import explain, trouble
from feedsvc.db.where import mark, state_db

NO_SPACE = "no space left on device at {dir}: free space on that file system"


@pytest.fixture
def small_fs() -> Iterator[Path]:
    """A fresh 2 MB tmpfs (root only); unmounted afterwards."""
    with tmpfs("2m", prefix="feedsvc-full-") as mount:
        yield mount


def fill(directory: Path) -> None:
    """Write ``directory``'s file system full (a file of zeros until ENOSPC)."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    assert os.statvfs(directory).f_bfree * os.statvfs(directory).f_frsize < 1 << 20


def migrated(directory: Path) -> str:
    url = f"sqlite:///{directory / 'f.db'}"
    db = Database(url)
    upgrade(db)
    db.dispose()
    return url


def feedsvc(url: str, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null"}
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *argv],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("roles", [["--no-http", "--no-bot"], ["--port", "0"]])
def test_a_first_run_on_a_full_disk_is_exit_1_saying_so(
    small_fs: Path, tmp_path: Path, roles: list[str]
) -> None:
    """The shown input: no scheduler lock yet, the disk full: exit 1, the words to free
    space, no chmod advice."""
    url = migrated(small_fs)
    fill(small_fs)
    done = feedsvc(url, tmp_path, "run", *roles)
    assert done.returncode == 1, done.stderr
    assert NO_SPACE.format(dir=small_fs) in done.stderr, done.stderr
    assert "chmod" not in done.stderr and "writable" not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_run_whose_lock_is_there_says_the_disk_is_full(small_fs: Path, tmp_path: Path) -> None:
    """The lock file there (its page reused): the state DB's write fails, SQLite says "disk
    I/O error"; the line says the disk is full, exit 1."""
    url = migrated(small_fs)
    (small_fs / "f.db-scheduler.lock").write_text("1234\n")
    fill(small_fs)
    done = feedsvc(url, tmp_path, "run", "--no-http", "--no-bot")
    assert done.returncode == 1, done.stderr
    assert "is out of disk space (" in done.stderr, done.stderr
    assert NO_SPACE.format(dir=small_fs) in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_writer_command_on_a_full_disk_says_so(small_fs: Path, tmp_path: Path) -> None:
    """Not only `run`: a command that writes (`topics add`) on the full disk, exit 1, the
    disk named full."""
    url = migrated(small_fs)
    fill(small_fs)
    done = feedsvc(url, tmp_path, "topics", "add", "t", "--title", "T", "--query", "x")
    assert done.returncode == 1, done.stderr
    assert NO_SPACE.format(dir=small_fs) in done.stderr, done.stderr


def test_a_read_only_file_system_stays_a_configuration_fault(
    small_fs: Path, tmp_path: Path
) -> None:
    """EROFS is no moment's trouble: exit 2, as before."""
    url = migrated(small_fs)
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    done = feedsvc(url, tmp_path, "run", "--no-http", "--no-bot")
    assert done.returncode == 2, done.stderr
    assert "no space" not in done.stderr, done.stderr


def test_an_io_error_is_named_a_full_disk_only_when_it_is(small_fs: Path, tmp_path: Path) -> None:
    """SQLite's "disk I/O error" on the state DB: out of disk space where its file system is
    full, a plain database error elsewhere (the words never guess)."""
    for directory, is_full in ((small_fs, True), (tmp_path, False)):
        where = state_db(f"sqlite:///{directory / 'f.db'}")
        if is_full:
            fill(directory)
        error = sqlite3.OperationalError("disk I/O error")
        error.sqlite_errorcode = 4874  # type: ignore[attr-defined]  # SQLITE_IOERR_SHMSIZE
        mark(error, where)
        said = explain(error)
        assert (trouble(error) == "disk_full") is is_full, said
        assert (NO_SPACE.format(dir=directory) in said) is is_full, said


@pytest.mark.parametrize(
    ("code", "exit_", "space"),
    [(errno.ENOSPC, 1, True), (errno.EDQUOT, 1, True), (errno.EROFS, 2, False),
     (errno.EACCES, 2, False), (errno.EPERM, 2, False)],
)  # fmt: skip
def test_the_one_classifier_of_os_errors(code: int, exit_: int, space: bool) -> None:
    from feedsvc.disk_space import exit_code, out_of_space

    exc = OSError(code, os.strerror(code))
    assert (exit_code(exc), out_of_space(exc)) == (exit_, space)
