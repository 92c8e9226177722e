"""A publisher's SQLite file (``source.url = "sqlite:///…"``) that feedsvc's user may read but
not write: ``source check`` and ingest read it.

An operator's: the CMS file belonged to the CMS's user (0444, or a directory feedsvc may not
write), and ``source check`` said "cannot connect to the source: attempt to write a readonly
database", exit 1, and ingest failed every tick, although feedsvc only reads the source: SQLite
reads a WAL database through a ``-shm`` index it could not make. Where the directory was
writable, SQLite left ``-wal``/``-shm`` files owned by feedsvc's user behind, which the CMS's
user could then not write. The source is now opened as a reading command opens the state DB
(``feedsvc.db.sqlite_reading``, applied per connection by ``feedsvc.db.sqlite_source``); a file
it truly cannot read is named, with the permission to grant. Real files, the real ``feedsvc``
process, permissions enforced for root by ``setpriv`` (``test_read_only_readers.as_another_user``).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from migrated import copy_template
from test_read_only_readers import as_another_user, modes

#: Files a CMS directory holds when no process has its DB open.
ALONE = ["cms.db"]


def cms(folder: Path, journal: str = "wal") -> Path:
    """A CMS file ``folder/cms.db`` with three posts, closed (no ``-wal``, no ``-shm``)."""
    folder.mkdir()
    path = folder / "cms.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode={journal}")
    conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT, title TEXT,"
                 " created TEXT, modified TEXT)")  # fmt: skip
    conn.executemany(
        "INSERT INTO posts VALUES (?, ?, ?, ?, '2026-11-30 10:00:00', ?)",
        [(n, f"p-{n}", f"https://e.vn/{n}", f"Tin số {n}", f"2026-11-30 10:0{n}:00")
         for n in (1, 2, 3)],
    )  # fmt: skip
    conn.commit()
    conn.close()
    assert sorted(p.name for p in folder.iterdir()) == ALONE
    return path


def config(tmp_path: Path, path: Path, url: str = "") -> Path:
    """A config reading ``path``'s ``posts`` (through ``url`` when given); its state DB
    migrated, writable by anyone."""
    state = tmp_path / "state"
    state.mkdir(mode=0o777)
    state.chmod(0o777)
    assert copy_template(f"sqlite:///{state / 's.db'}")
    (state / "s.db").chmod(0o666)
    file = tmp_path / "feedsvc.toml"
    file.write_text(
        f'[database]\nurl = "sqlite:///{state / "s.db"}"\n'
        f'[source]\nurl = "{url or f"sqlite:///{path}"}"\ntable = "posts"\ntimezone = "UTC"\n'
        '[source.columns]\ncursor = "modified"\nsource_key = "slug"\nurl = "link"\n'
        'title = "title"\npublished_at = "created"\n',
        encoding="utf-8",
    )
    return file


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}


def source_check(conf: Path) -> subprocess.CompletedProcess[str]:
    """``feedsvc source check`` as a user file permissions apply to."""
    return subprocess.run(
        [*as_another_user(), sys.executable, "-m", "feedsvc", "source", "check", "--config",
         str(conf)],
        cwd=conf.parent, env=env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def reads(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert "readonly" not in done.stderr + done.stdout and "Traceback" not in done.stderr
    assert "newest 3 row(s)" in done.stdout and "Tin số 3" in done.stdout, done.stdout


#: How the CMS file cannot be written: (file mode, directory mode).
UNWRITABLE = {
    "0444 file in a 0555 directory": (0o444, 0o555),
    "0644 file in a 0555 directory": (0o644, 0o555),
    "0444 file in a writable directory": (0o444, 0o755),
}


@pytest.mark.parametrize("journal", ["wal", "delete"])
@pytest.mark.parametrize("how", list(UNWRITABLE))
def test_source_check_reads_a_cms_file_it_cannot_write(
    tmp_path: Path, how: str, journal: str
) -> None:
    folder = tmp_path / "cms"
    path = cms(folder, journal)
    conf = config(tmp_path, path)
    file_mode, dir_mode = UNWRITABLE[how]
    with modes((path, file_mode), (folder, dir_mode)):
        done = source_check(conf)
    reads(done)
    # nothing left beside it: a -shm of feedsvc's user would lock the CMS's user out
    assert sorted(p.name for p in folder.iterdir()) == ALONE


def test_a_read_only_uri_reads_too(tmp_path: Path) -> None:
    """SQLite's own ``mode=ro`` URI in ``source.url``: read-only already, but it too needed a
    ``-shm`` it could not make."""
    folder = tmp_path / "cms"
    path = cms(folder)
    conf = config(tmp_path, path, f"sqlite:///file:{path}?mode=ro&uri=true")
    with modes((path, 0o444), (folder, 0o555)):
        reads(source_check(conf))
    assert sorted(p.name for p in folder.iterdir()) == ALONE


@contextmanager
def writer_running(path: Path) -> Iterator[sqlite3.Connection]:
    """The CMS open and writing, as its own process holds it: ``-wal`` and ``-shm`` there, the
    newest post only in the ``-wal``."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute("INSERT INTO posts VALUES (4, 'p-4', 'https://e.vn/4', 'Tin mới', "
                     "'2026-11-30 10:00:00', '2026-11-30 10:09:00')")  # fmt: skip
        conn.commit()
        assert Path(f"{path}-wal").stat().st_size > 0
        yield conn
    finally:
        conn.close()


def test_a_running_cms_s_newest_rows_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "cms"
    path = cms(folder)
    conf = config(tmp_path, path)
    with writer_running(path), modes((path, 0o444), (folder, 0o555)):
        done = source_check(conf)
    assert done.returncode == 0, done.stderr
    assert "Tin mới" in done.stdout, done.stdout


def test_a_file_it_cannot_read_is_named_with_the_permission(tmp_path: Path) -> None:
    folder = tmp_path / "cms"
    path = cms(folder)
    conf = config(tmp_path, path)
    os.chown(path, 65534, 65534)
    with modes((path, 0o600)):
        done = source_check(conf)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"the SQLite file {path} cannot be read by the user" in done.stderr, done.stderr
    assert f"grant it read permission (r) on {path}" in done.stderr


def test_a_directory_it_cannot_enter_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "cms"
    path = cms(folder)
    conf = config(tmp_path, path)
    os.chown(folder, 65534, 65534)
    with modes((folder, 0o700)):
        done = source_check(conf)
    assert done.returncode == 1, done.stderr
    assert f"grant it search permission (x) on the directory {folder}" in done.stderr


def test_a_shm_it_cannot_read_is_named(tmp_path: Path) -> None:
    """The CMS running as its own user, its ``-shm`` 0600: the newest writes cannot be read."""
    folder = tmp_path / "cms"
    path = cms(folder)
    conf = config(tmp_path, path)
    shm = Path(f"{path}-shm")
    with writer_running(path):
        os.chown(shm, 65534, 65534)
        with modes((shm, 0o600), (path, 0o444), (folder, 0o555)):
            done = source_check(conf)
    assert done.returncode == 1, done.stderr
    assert f"the SQLite file {shm} cannot be read by the user" in done.stderr, done.stderr


def test_a_wal_without_its_shm_in_a_directory_it_cannot_write_is_named(tmp_path: Path) -> None:
    """A CMS writer killed and its ``-shm`` removed (or the files copied without it): SQLite
    needs a ``-shm`` to read the ``-wal``'s rows and cannot make one; it said "unable to open
    database file", naming nothing (a verifier's)."""
    import shutil

    path = cms(tmp_path / "cms")
    copy = tmp_path / "c d's"  # the command to paste must survive a shell
    copy.mkdir()
    with writer_running(path):
        shutil.copy(path, copy / "cms.db")
        shutil.copy(f"{path}-wal", copy / "cms.db-wal")
    conf = config(tmp_path, copy / "cms.db")
    with modes((copy / "cms.db", 0o444), (copy / "cms.db-wal", 0o444), (copy, 0o555)):
        done = source_check(conf)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"has writes in {copy / 'cms.db'}-wal but no {copy / 'cms.db'}-shm" in done.stderr, (
        done.stderr
    )
    assert f"grant it write permission (w) on {copy}" in done.stderr
    assert f"""(sqlite3 '{tmp_path}/c d'"'"'s/cms.db' 'PRAGMA wal_checkpoint(TRUNCATE)')""" in (
        done.stderr
    )
    with modes((copy, 0o777)):  # granted: read, the WAL's newest row with it
        done = source_check(conf)
    assert done.returncode == 0, done.stderr
    assert "Tin mới" in done.stdout


def stored(conf: Path) -> int:
    with sqlite3.connect(conf.parent / "state" / "s.db") as conn:
        (count,) = conn.execute("SELECT count(*) FROM articles").fetchone()
    return int(count)


def test_ingest_reads_a_cms_file_it_cannot_write(tmp_path: Path) -> None:
    """``feedsvc run`` (ingest only) stores the CMS's posts; its status has no error."""
    folder = tmp_path / "cms"
    path = cms(folder)
    conf = config(tmp_path, path)
    with modes((path, 0o444), (folder, 0o555)):
        service = subprocess.Popen(
            [*as_another_user(), sys.executable, "-m", "feedsvc", "run", "--no-http", "--no-bot",
             "--config", str(conf)],
            cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while stored(conf) < 3 and service.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)  # polling the state DB with a deadline
        finally:
            service.send_signal(signal.SIGTERM)
            _, err = service.communicate(timeout=60)
    assert stored(conf) == 3, err
    assert "readonly" not in err, err
    assert sorted(p.name for p in folder.iterdir()) == ALONE


CHANGING = """
import sys
from sqlalchemy.exc import OperationalError
from feedsvc.source.engine import source_engine
engine = source_engine(sys.argv[1])
try:
    with engine.connect() as conn:
        print(conn.exec_driver_sql("SELECT count(*) FROM posts").scalar(), flush=True)
        sys.stdin.readline()
except OperationalError as exc:
    print("refused:", exc.orig)
"""


def test_a_file_read_without_locks_that_changes_is_read_again(tmp_path: Path) -> None:
    """No ``-shm`` could be made, so the file was read ``immutable`` (no lock): a CMS that
    starts and writes meanwhile may have torn the read, which is an error (read again at the
    next poll), never rows taken as they are."""
    folder = tmp_path / "cms"
    path = cms(folder)
    with modes((path, 0o644), (folder, 0o555)):
        reader = subprocess.Popen(
            [*as_another_user(), sys.executable, "-c", CHANGING, f"sqlite:///{path}"],
            cwd=tmp_path, env=env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert reader.stdout is not None and reader.stdout.readline().strip() == "3"
        with writer_running(path):
            out, err = reader.communicate("\n", timeout=60)
    assert "refused: the source DB" in out and "changed while it was read" in out, (out, err)
    assert "read again at the next poll" in out


@pytest.mark.parametrize("what", ["file", "directory"])
def test_config_check_warns_of_a_source_it_cannot_read(tmp_path: Path, what: str) -> None:
    """A warning (exit 0), as a missing file is: never "does not exist" for a file that is
    there, never a traceback."""
    folder = tmp_path / "cms"
    path = cms(folder)
    conf = config(tmp_path, path)
    locked = path if what == "file" else folder
    os.chown(locked, 65534, 65534)
    with modes((locked, 0o600 if what == "file" else 0o700)):
        done = subprocess.run(
            [*as_another_user(), sys.executable, "-m", "feedsvc", "config", "check", "--config",
             str(conf)],
            cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "does not exist" not in done.stderr and "Traceback" not in done.stderr
    assert f"warning: source.url: the SQLite file {path} cannot be" in done.stderr, done.stderr
