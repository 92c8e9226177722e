"""Read-only commands on a full disk whose state DB has a ``-wal`` with a committed
transaction but no ``-shm`` (a restore of the file and its ``-wal``, a removed ``-shm``): a
defect, ``feedsvc status`` failed "cannot be opened (OperationalError: unable to open
database file)", exit 1 — ``readonly_shm`` has no index to map. Now read with a heap-memory
WAL index (``feedsvc.db.sqlite_reading``): the WAL's commit is seen, nothing is written on the
full disk (names, sizes and checksums unchanged), exit 0, the disk said full.
"""

from __future__ import annotations

import errno
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from in_process import feedsvc
from migrated import premigrated
from test_full_disk_start import fill
from tmpfs import tmpfs

from feedsvc.db import Database
from feedsvc.store import lite, topics


def restored(source: Path, mount: Path) -> str:
    """A migrated state DB copied into ``mount`` with a ``-wal`` holding one committed
    transaction (a topic) and no ``-shm``, as a backup of a running service restores."""
    db = Database(premigrated(f"sqlite:///{source / 'f.db'}"))
    with db.write() as conn:  # small: stays in the WAL (no checkpoint before the copy)
        spec = topics.TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"', "", True)
        topics.save_topic(conn, spec, "cli", db.now())
    assert (source / "f.db-wal").stat().st_size > 0
    for name in ("f.db", "f.db-wal"):
        shutil.copyfile(source / name, mount / name)
    db.dispose()
    return f"sqlite:///{mount / 'f.db'}"


def no_inode_left(mount: Path) -> None:
    for n in range(10_000):
        try:
            (mount / f"empty-{n}").touch()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
            return
    raise AssertionError("the inodes never ran out")


def snapshot(directory: Path) -> dict[str, tuple[int, str]]:
    """Each file, its size and checksum: a command that writes nothing changes none."""
    return {
        p.name: (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(directory.iterdir())
    }


def run(url: str, cwd: Path, *argv: str) -> str:
    env = {"FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null"}
    ran = feedsvc(list(argv), cwd, **env)
    assert ran.returncode == 0, (argv, ran.stderr)
    return ran.stdout


def seen(url: str, cwd: Path) -> None:
    """``status`` (JSON and text), ``topics list`` and ``db current`` each read the commit
    that is only in the WAL and say the disk full."""
    shown = json.loads(run(url, cwd, "status", "--json"))
    assert shown["topics_enabled"] == 1 and shown["state_db_disk_full"] is True, shown
    assert re.search(r"^state_db_disk_full +yes: ", run(url, cwd, "status"), re.M)
    assert "kien-thuy" in run(url, cwd, "topics", "list")
    assert run(url, cwd, "db", "current").strip()


@pytest.mark.parametrize("path", ["driver", "sqlalchemy"])
def test_status_reads_a_restored_wal_without_shm_on_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """The shown input: bytes full. Both read paths (the driver's own, SQLAlchemy's)."""
    if path == "sqlalchemy":
        monkeypatch.setattr(lite, "read_only_url", lambda *_a, **_k: None)
    with tmpfs("3m") as mount:
        url = restored(tmp_path, mount)
        fill(mount)
        before = snapshot(mount)
        seen(url, tmp_path)
        assert snapshot(mount) == before


def test_no_inode_left(tmp_path: Path) -> None:
    """Bytes free, no inode: no ``-shm`` can be made; read all the same, nothing made."""
    with tmpfs("4m", inodes=64) as mount:
        url = restored(tmp_path, mount)
        no_inode_left(mount)
        before = snapshot(mount)
        seen(url, tmp_path)
        assert snapshot(mount) == before


def test_what_a_failed_open_left(tmp_path: Path) -> None:
    """A 3-byte ``-shm`` (an older feedsvc's or sqlite3's failed open on the full disk) holds
    no index: read as with none, and left as it was."""
    with tmpfs("3m") as mount:
        url = restored(tmp_path, mount)
        (mount / "f.db-shm").write_bytes(b"\0\0\0")
        fill(mount)
        before = snapshot(mount)
        seen(url, tmp_path)
        assert snapshot(mount) == before


def test_with_room_the_normal_path_still_reads_the_wal(tmp_path: Path) -> None:
    """Not full, no ``-shm``: opened as the URL says (SQLite makes its ``-shm``), commit seen."""
    with tmpfs("8m") as mount:
        url = restored(tmp_path, mount)
        shown = json.loads(run(url, tmp_path, "status", "--json"))
        assert shown["topics_enabled"] == 1 and shown["state_db_disk_full"] is False, shown
        assert "kien-thuy" in run(url, tmp_path, "topics", "list")
