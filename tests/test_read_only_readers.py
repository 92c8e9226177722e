"""Commands that only read work on an SQLite state DB this user cannot write.

An operator other than the service's user ran ``feedsvc status``, ``topics list``, ``articles
find``… on the service's state DB (a 0444 file, a 0555 directory, an immutable one): exit 1,
"attempt to write a readonly database", although they only read: SQLite reads a WAL DB through
a ``-shm`` index it could not create. Where the directory was writable, SQLite left ``-wal`` and
``-shm`` files owned by that operator behind. ``feedsvc.db.sqlite_reading`` decides how such a
file is read; writers still refuse, exit 2, naming the file. Real files, the real ``feedsvc``
process, file permissions enforced for root by ``setpriv`` (capabilities dropped).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from combos import each_choice
from migrated import copy_template
from test_cli_db_errors import immutable

from feedsvc.db.sqlite_reading import ChangedWhileRead, ReadOpening, reading
from feedsvc.db.sqlite_url import SqliteTarget

#: Every command that only reads the state DB, with what its output must hold.
READS: list[tuple[list[str], str]] = [
    (["status"], "articles_stored"),
    (["status", "--json"], '"queue_depth"'),
    (["topics", "list"], "kien-thuy"),
    (["topics", "export"], "kien-thuy"),
    (["render", "kien-thuy", "--format", "rss"], "<rss"),
    (["articles", "find", "anything"], ""),
    (["subs", "list"], ""),
    (["db", "current"], "00"),
]
WRITES = [
    ["topics", "add", "zz", "--title", "Z", "--query", "z"],
    ["db", "upgrade"],
    ["import", "-"],
]


def as_another_user() -> list[str]:
    """A prefix under which file permissions apply (root: ``setpriv`` dropping the capabilities
    that bypass them, as ``tests/test_cli_db_errors.py`` does)."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner",
            "--inh-caps=-all"]  # fmt: skip


def feedsvc(url: str, cwd: Path, *argv: str, prefix: list[str] | None = None,
            ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url,
            "FEEDSVC_HTTP__PUBLIC_URL": "http://feeds.example.test/"}  # fmt: skip
    return subprocess.run(
        [*(as_another_user() if prefix is None else prefix), sys.executable, "-m", "feedsvc",
         *argv],
        cwd=cwd, env=env, input="", capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


#: This process's (xdist worker's) migrated state DB with the topic added, made at first use:
#: each case copies it (a ``topics add`` process per case before, ~1 s of CPU each).
_with_topic: Path | None = None


def state_db(folder: Path) -> Path:
    """A migrated state DB with a topic, closed as a clean stop leaves it (no -wal, no -shm)."""
    global _with_topic
    if _with_topic is None:
        made = Path(tempfile.mkdtemp(prefix="feedsvc-readers-")) / "state.db"
        assert copy_template(f"sqlite:///{made}")
        done = feedsvc(f"sqlite:///{made}", made.parent, "topics", "add", "kien-thuy",
                       "--title", "Kiến Thụy", "--query", '"Kiến Thụy"', prefix=[])  # fmt: skip
        assert done.returncode == 0, done.stderr
        _with_topic = made
    folder.mkdir()
    db_file = folder / "state.db"
    shutil.copyfile(_with_topic, db_file)
    assert sorted(p.name for p in folder.iterdir()) == ["state.db"]
    return db_file


@contextmanager
def modes(*paths_modes: tuple[Path, int]) -> Iterator[None]:
    """``chmod`` each path for the block, then back to what it was."""
    before = [(path, path.stat().st_mode & 0o7777) for path, _ in paths_modes]
    for path, mode in paths_modes:
        path.chmod(mode)
    try:
        yield
    finally:
        for path, mode in reversed(before):
            path.chmod(mode)


def reads_fine(done: subprocess.CompletedProcess[str], says: str) -> None:
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "readonly" not in done.stderr, done.stderr
    assert says in done.stdout, done.stdout


UNWRITABLE = {
    "0444 file in a 0555 directory": (0o444, 0o555),
    "0644 file in a 0555 directory": (0o644, 0o555),
    "0444 file in a writable directory": (0o444, 0o755),
}


#: Each-choice (8 cases, not 24): how the DB is unwritable picks how
#: ``feedsvc.db.sqlite_reading`` opens it, whichever command reads; each way meets both read
#: paths (the driver-only one of ``status``/``topics list``, ``feedsvc.store.lite``, and
#: SQLAlchemy's of the others), since each path opens the file itself.
READER_CASES = each_choice(READS, list(UNWRITABLE))


@pytest.mark.parametrize(
    ("read", "how"), READER_CASES, ids=[f"{' '.join(r[0])}-{h}" for r, h in READER_CASES]
)
def test_a_reader_reads_a_db_it_cannot_write(
    tmp_path: Path, read: tuple[list[str], str], how: str
) -> None:
    argv, says = read
    folder = tmp_path / "data"
    db_file = state_db(folder)
    file_mode, dir_mode = UNWRITABLE[how]
    with modes((db_file, file_mode), (folder, dir_mode)):
        done = feedsvc(f"sqlite:///{db_file}", tmp_path, *argv)
    reads_fine(done, says)
    # nothing left beside it: a -shm owned by this user would lock the service's user out
    assert sorted(p.name for p in folder.iterdir()) == ["state.db"]
    if argv == ["status", "--json"]:
        assert json.loads(done.stdout)["topics_enabled"] == 1


@pytest.mark.parametrize("form", ["mode=ro URI", "plain path", "immutable directory"])
def test_other_forms_of_a_db_it_cannot_write(tmp_path: Path, form: str) -> None:
    """SQLite's ``mode=ro`` URI (read-only already, but it too needed a -shm it could not make),
    and ``chattr +i`` on the directory (root itself cannot make a -shm there)."""
    folder = tmp_path / "data"
    db_file = state_db(folder)
    url = (
        f"sqlite:///file:{db_file}?mode=ro&uri=true"
        if form == "mode=ro URI"
        else (f"sqlite:///{db_file}")
    )
    if form == "immutable directory":
        with immutable(folder):
            done = feedsvc(url, tmp_path, "topics", "list", prefix=[])
    else:
        with modes((db_file, 0o444), (folder, 0o555)):
            done = feedsvc(url, tmp_path, "topics", "list")
    reads_fine(done, "kien-thuy")


def test_a_running_writer_s_newest_writes_are_read(tmp_path: Path) -> None:
    """While the service runs its -wal and -shm are there, and the newest writes are only in
    the -wal: read through them (``mode=ro``), never around them."""
    folder = tmp_path / "data"
    db_file = state_db(folder)
    writer = sqlite3.connect(db_file)  # as the service holds it: WAL, -shm made
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")  # the write stays in the -wal
        writer.execute("UPDATE topics SET title = 'Núi Đối' WHERE slug = 'kien-thuy'")
        writer.commit()
        assert Path(f"{db_file}-wal").stat().st_size > 0
        with modes((folder, 0o555)):
            done = feedsvc(f"sqlite:///{db_file}", tmp_path, "topics", "list")
    finally:
        writer.close()
    reads_fine(done, "Núi Đối")


@pytest.mark.parametrize("argv", WRITES, ids=" ".join)
def test_a_writer_says_the_db_is_not_writable(tmp_path: Path, argv: list[str]) -> None:
    """Writers still refuse before doing anything, exit 2, naming the file and its directory."""
    folder = tmp_path / "data"
    db_file = state_db(folder)
    with modes((db_file, 0o444), (folder, 0o555)):
        done = feedsvc(f"sqlite:///{db_file}", tmp_path, *argv)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert f"the state DB {db_file} cannot be written" in line, line
    assert f"check the permissions and owner of {db_file} and of its directory {folder}" in line


@pytest.mark.parametrize("argv", WRITES, ids=" ".join)
def test_a_refused_writer_leaves_nothing_beside_the_db(tmp_path: Path, argv: list[str]) -> None:
    """A 0444 file in a directory it may write: SQLite opened it read-only and made a -wal and
    a -shm beside it with the file's mode, which the refused writer left behind; once the file
    was writable again every writer still failed on that -shm (a tester's), the line asking for
    the permissions of the file and its directory, both right by then. Now refused before
    anything connects."""
    folder = tmp_path / "data"
    db_file = state_db(folder)
    url = f"sqlite:///{db_file}"
    with modes((db_file, 0o444)):
        done = feedsvc(url, tmp_path, *argv)
    assert done.returncode == 2, (done.returncode, done.stderr)
    [line] = done.stderr.splitlines()
    assert f"the state DB {db_file} cannot be written (the user " in line, line
    assert f" may not write {db_file}): check the permissions and owner of {db_file}" in line
    assert sorted(p.name for p in folder.iterdir()) == ["state.db"]
    again = feedsvc(url, tmp_path, *argv)  # the file writable again: so is the DB
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("beside", ["-shm", "-wal"])
def test_a_wal_or_shm_it_may_not_write_is_named(tmp_path: Path, beside: str) -> None:
    """A -wal or -shm this user may not write (left by a refused writer, or by another user's
    process) fails every write although the file and its directory are right: it is named,
    not their permissions."""
    folder = tmp_path / "data"
    db_file = state_db(folder)
    left = Path(f"{db_file}{beside}")
    left.touch()
    with modes((left, 0o444)):
        done = feedsvc(f"sqlite:///{db_file}", tmp_path, *WRITES[0])
    assert done.returncode == 2, (done.returncode, done.stderr)
    [line] = done.stderr.splitlines()
    assert f" may not write {left}, which SQLite keeps beside the database" in line, line
    assert "make it writable for that user" in line and "permissions and owner of" not in line
    assert "never delete a -wal file" in line, line


def test_as_the_nobody_user(tmp_path: Path) -> None:
    """A real other user (``nobody``), allowed to read everything (``CAP_DAC_READ_SEARCH``:
    this interpreter lives under root's home) but to write nothing of root's."""
    if os.geteuid() != 0:
        pytest.skip("needs root to become nobody")
    folder = tmp_path / "data"
    db_file = state_db(folder)
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
              "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]  # fmt: skip
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot switch to nobody here: {probe.stderr.strip()}")
    with modes((tmp_path, 0o755)):
        for argv, says in READS[:3]:
            reads_fine(feedsvc(f"sqlite:///{db_file}", tmp_path, *argv, prefix=prefix), says)
        done = feedsvc(f"sqlite:///{db_file}", tmp_path, *WRITES[0], prefix=prefix)
    assert done.returncode == 2 and "cannot be written" in done.stderr, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["state.db"]


# -- the decision itself -----------------------------------------------------------------------


def test_a_writable_file_is_opened_as_the_url_says(tmp_path: Path) -> None:
    db_file = state_db(tmp_path / "data")
    target = SqliteTarget(str(db_file), False)
    assert reading(target, "x").target == target


def test_a_file_read_without_locks_that_changes_is_refused(tmp_path: Path) -> None:
    """``immutable`` reads take no lock: a write meanwhile (a service started and checkpointed)
    may have torn what was read, so the command says to run again instead of printing it."""
    folder = tmp_path / "data"
    db_file = state_db(folder)
    with modes((db_file, 0o444), (folder, 0o555)):
        opening = _as_unwritable(db_file)
    assert "immutable=1" in opening.target.filename and opening.target.uri
    opening.check()  # nothing changed
    with sqlite3.connect(db_file) as conn:
        conn.execute("UPDATE topics SET title = 'x'")
    with pytest.raises(ChangedWhileRead, match=r"changed while it was read.*run the command again"):
        opening.check()


def test_a_wal_appearing_while_read_is_a_change(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    db_file = state_db(folder)
    with modes((db_file, 0o444), (folder, 0o555)):
        opening = _as_unwritable(db_file)
    Path(f"{db_file}-wal").write_bytes(b"")
    with pytest.raises(ChangedWhileRead):
        opening.check()


def test_uri_options_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "da ta%"
    db_file = state_db(folder)
    with modes((db_file, 0o444), (folder, 0o555)):
        plain = _as_unwritable(db_file)
        uri = _as_unwritable(db_file, SqliteTarget(f"file:{db_file}?cache=shared&mode=rw", True))
    assert plain.target.filename.startswith("file:") and "da%20ta%25" in plain.target.filename
    assert sqlite3.connect(plain.target.filename, uri=True).execute("SELECT 1").fetchone()
    assert "cache=shared" in uri.target.filename and "mode=ro" in uri.target.filename
    assert "mode=rw" not in uri.target.filename


def _as_unwritable(db_file: Path, target: SqliteTarget | None = None) -> ReadOpening:
    """:func:`reading` as a process without the capabilities that bypass permissions decides
    (``os.access`` answers for root as for anyone once those are dropped: a child process)."""
    code = (
        "import pickle, sys\n"
        "from feedsvc.db.sqlite_reading import reading\n"
        "from feedsvc.db.sqlite_url import SqliteTarget\n"
        f"t = SqliteTarget({(target.filename if target else str(db_file))!r}, "
        f"{bool(target and target.uri)!r})\n"
        "sys.stdout.buffer.write(pickle.dumps(reading(t, 'the URL')))\n"
    )
    done = subprocess.run(
        [*as_another_user(), sys.executable, "-c", code],
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    import pickle

    opening = pickle.loads(done.stdout)
    assert isinstance(opening, ReadOpening)
    return opening
