"""``feedsvc status`` on a state DB whose file system is full (a defect: it failed, "the state
DB … is out of disk space (OperationalError: disk I/O error) …", exit 1, and left an empty
``-wal`` and a 3-byte ``-shm`` beside the file — SQLite makes its ``-shm`` to read a WAL file
—; where it could read, it said nothing of the disk). Now it reads without writing anything
and says, for an SQLite file, whether its file system is full now (``disk_space.full``: under
1 MiB or no inode left), what is left and where: ``state_db_disk_full`` (text and JSON) and
``state_db_disk`` (JSON); for PostgreSQL, nothing (null: the server's disk is not seen here).
Exit 0, as for every state ``status`` reports.

Real full file systems: small tmpfs mounts (root only, skipped elsewhere), as
``test_full_disk_start`` fills them.
"""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from in_process import feedsvc
from migrated import premigrated
from sqlalchemy import text
from test_full_disk_start import fill, migrated, small_fs  # noqa: F401  (the fixture)
from tmpfs import tmpfs

from feedsvc.db import Database
from feedsvc.disk_space import NEARLY_FULL
from feedsvc.store import lite, topics

NO_SPACE = "no space left on device at {dir}: free space on that file system"


def free_bytes(directory: Path) -> int:
    """Free bytes as ``disk_space.room`` counts them for root (tmpfs reserves none)."""
    fs = os.statvfs(directory)
    return fs.f_bfree * fs.f_frsize


def leave(directory: Path, free: int) -> None:
    """Write a file into ``directory`` so that exactly ``free`` bytes stay free."""
    with (directory / f"filler-{free}").open("wb") as out:
        out.write(b"\0" * (free_bytes(directory) - free))
    assert free_bytes(directory) == free


def listing(directory: Path) -> dict[str, int]:
    """Each file in ``directory`` and its size: a command that writes nothing changes none."""
    return {p.name: p.stat().st_size for p in sorted(directory.iterdir())}


def status(url: str, cwd: Path) -> tuple[dict[str, Any], str]:
    """``feedsvc status --json`` and the text's ``state_db_disk_full`` line on ``url``: each
    exit 0, no traceback."""
    env = {"FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null"}
    as_json = feedsvc(["status", "--json"], cwd, **env)
    plain = feedsvc(["status"], cwd, **env)
    for ran in (as_json, plain):
        assert ran.returncode == 0 and "Traceback" not in ran.stderr, ran.stderr
    [line] = [x for x in plain.stdout.splitlines() if x.startswith("state_db_disk_full ")]
    return json.loads(as_json.stdout), line.split(None, 1)[1]


@pytest.mark.parametrize("path", ["driver", "sqlalchemy"])
def test_status_on_a_full_disk_reads_writes_nothing_and_says_it(
    small_fs: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    """The shown input: a state DB nothing has open (no ``-wal``/``-shm``), its disk full.
    Both read paths (the driver's own, SQLAlchemy's) read it, and the disk is named full."""
    url = migrated(small_fs)
    if path == "sqlalchemy":
        monkeypatch.setattr(lite, "read_only_url", lambda *_a, **_k: None)
    fill(small_fs)
    before = listing(small_fs)
    shown, line = status(url, tmp_path)
    assert listing(small_fs) == before  # no -wal, no -shm, nothing grown
    assert shown["state_db_disk_full"] is True and shown["articles_stored"] == 0
    disk = shown["state_db_disk"]
    assert disk["directory"] == str(small_fs) and disk["free_bytes"] < NEARLY_FULL, disk
    assert disk["full_since"] is None  # only a running service knows since when
    said = f"yes: {NO_SPACE.format(dir=small_fs)} ({disk['free_bytes']} bytes, "
    assert line.startswith(said) and line.endswith(" inodes free)"), line


def test_status_reads_what_a_service_stopped_on_the_full_disk_left_in_its_wal(
    tmp_path: Path,
) -> None:
    """A writer that stopped on the full disk could not checkpoint: its last commit is only in
    the ``-wal`` (the ``-shm`` beside it). Read through them read-only: the commit is seen,
    nothing is written (SQLite's read made and grew the ``-shm``: "disk I/O error")."""
    with tmpfs("4m") as mount:
        url = premigrated(f"sqlite:///{mount / 'f.db'}")
        db = Database(url)
        leave(mount, 170 * 4096)  # tmpfs counts pages
        with db.write() as conn:  # into the WAL; the file must grow to take it
            conn.execute(text("CREATE TABLE ballast (b BLOB)"))
            conn.execute(text("INSERT INTO ballast VALUES (randomblob(300000))"))
            spec = topics.TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"', "", True)
            topics.save_topic(conn, spec, "cli", db.now())
        fill(mount)
        db.dispose()  # the last close's checkpoint fails: the WAL stays
        assert (mount / "f.db-wal").stat().st_size > 0, listing(mount)
        before = listing(mount)
        shown, line = status(url, tmp_path)
        assert listing(mount) == before
        assert shown["topics_enabled"] == 1  # the commit in the WAL
        assert shown["state_db_disk_full"] is True and line.startswith("yes: "), line


def test_status_where_no_inode_is_left_says_full_and_reads(tmp_path: Path) -> None:
    """Bytes free but no inode: no new file (a ``-shm``, a WAL) can be made there, which is
    full for SQLite (``disk_space.full``). Read without one; said with "0 inodes"."""
    with tmpfs("4m", inodes=64) as mount:
        url = premigrated(f"sqlite:///{mount / 'f.db'}")
        for n in range(64):
            try:
                (mount / f"empty-{n}").touch()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
        else:
            raise AssertionError("the inodes never ran out")
        before = listing(mount)
        shown, line = status(url, tmp_path)
        assert listing(mount) == before
        disk = shown["state_db_disk"]
        assert shown["state_db_disk_full"] is True, disk
        assert disk["free_inodes"] == 0 and disk["free_bytes"] > NEARLY_FULL, disk
        assert re.fullmatch(
            re.escape(f"yes: {NO_SPACE.format(dir=mount)} (") + r"\d+ bytes, 0 inodes free\)",
            line,
        ), line


@pytest.mark.parametrize(
    ("free", "full"),
    [(NEARLY_FULL + 64 * 1024, False), (NEARLY_FULL - 64 * 1024, True)],
    ids=["just-above-1MiB", "just-below-1MiB"],
)
def test_the_one_mebibyte_line(tmp_path: Path, free: int, full: bool) -> None:
    """``disk_space.full``'s rule, read before the command opens the DB: 1 MiB and 64 KiB free
    is not full, 1 MiB less 64 KiB is (SQLite's writes fail with a few blocks still free)."""
    with tmpfs("4m") as mount:
        url = premigrated(f"sqlite:///{mount / 'f.db'}")
        leave(mount, free)
        shown, line = status(url, tmp_path)
        assert shown["state_db_disk_full"] is full
        assert shown["state_db_disk"]["free_bytes"] == free  # the figure before reading
        assert shown["state_db_disk"]["directory"] == str(mount)
        if full:
            assert line.startswith(f"yes: {NO_SPACE.format(dir=mount)} ({free} bytes, "), line
        else:
            assert line.startswith(f"no ({free} bytes, ") and line.endswith(f" at {mount})")


@pytest.mark.postgres
def test_a_postgresql_state_dbs_status_claims_nothing_of_a_disk(
    pg_url: str,
    small_fs: Path,  # noqa: F811
) -> None:
    """``feedsvc status`` cannot see a PostgreSQL server's disk: null in JSON, "-" and why in
    the text — never the local disk's state (run here from a full directory, not "full")."""
    url = premigrated(pg_url)
    fill(small_fs)
    shown, line = status(url, small_fs)
    assert shown["state_db_disk_full"] is None and shown["state_db_disk"] is None, shown
    assert line.startswith("- (a PostgreSQL server's disk is not seen from here"), line
    assert "/api/status" in line
