"""No new SQLite state DB beside a missing one's ``-wal``, ``-shm`` or ``-journal`` (a tester's:
``mv var/state.db var/state.db.moved`` under ``feedsvc run``, then ``feedsvc db upgrade`` said
"database at revision 0042: …/state.db (a new file)" and SQLite deleted the ``-wal`` beside
it: the rows committed since the last checkpoint were gone when the file was put back, and
an article was alerted twice. ``import -``, ``topics add`` and a restart of ``run`` did the
same).

Every command now refuses, exit 2, one line naming the leftover files and what to do
(``feedsvc.db.sqlite_file.orphan_problem``), and creates nothing; put back, the file has
every row. Real SQLite files: the rows are left in a real WAL by a connection that closes
after its file was moved away (SQLite then neither checkpoints nor deletes the WAL).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner
from combos import each_choice
from migrated import copy_template
from processes import free_port, get, wait_until

from feedsvc.cli import cli
from feedsvc.db import Database, upgrade
from feedsvc.db.revision import LocationError

#: Rows committed into the WAL only (never checkpointed into the main file).
ROWS = 3
ARTICLE = (
    '{"source_key": "N1", "url": "https://e.vn/n1", "title": "Công an xã", '
    '"published_at": "2026-11-20T10:00:00+07:00"}\n'
)
#: What is left at the old path, by case: the WAL and its index as a running service's move
#: leaves them; each alone; a rollback journal (a DB in another journal mode).
LEFTOVERS = {
    "wal+shm": ("-wal", "-shm"),
    "wal": ("-wal",),
    "shm": ("-shm",),
    "journal": ("-journal",),
}
WRITERS = {
    "db upgrade": ["db", "upgrade"],
    "import -": ["import", "-"],
    "topics add": ["topics", "add", "zz", "--title", "Z", "--query", "z"],
    "subs add": ["subs", "add", "--channel", "telegram", "--to", "5", "--query", "z"],
}
READERS = {
    "status": ["status"],
    "topics list": ["topics", "list"],
    "db current": ["db", "current"],
}


def moved_away(file: Path, kinds: tuple[str, ...]) -> Path:
    """A migrated state DB at ``file`` with :data:`ROWS` articles committed only into its WAL,
    then moved to ``<file>.moved`` while a connection had it open (the operator's ``mv`` under
    a running service); of the files left at ``file``'s path, only ``kinds`` are kept (the
    rollback journal's case gets a ``-journal`` of its own). Returns where it was moved."""
    assert copy_template(f"sqlite:///{file}")
    with closing(sqlite3.connect(file, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        for i in range(ROWS):
            conn.execute(
                "INSERT INTO source_articles (source_key, url, title, published_at, changed_at) "
                "VALUES (?, ?, 't', '2026-11-20 03:00:00', '2026-11-20 03:00:00')",
                (f"K{i}", f"https://e.vn/{i}"),
            )
        moved = file.with_name(file.name + ".moved")
        file.rename(moved)
    for suffix in ("-wal", "-shm"):
        assert Path(f"{file}{suffix}").exists()  # what SQLite leaves at the old path
        if suffix not in kinds:
            Path(f"{file}{suffix}").unlink()
    if "-journal" in kinds:
        Path(f"{file}-journal").write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" + bytes(504))
    return moved


def left_at(file: Path) -> dict[str, bytes]:
    """The files at ``file``'s path and beside it, by name, with their bytes."""
    return {p.name: p.read_bytes() for p in file.parent.iterdir() if p.name.startswith(file.name)}


def rows_once_put_back(file: Path, moved: Path) -> int:
    moved.rename(file)
    with closing(sqlite3.connect(file)) as conn:
        return int(conn.execute("SELECT count(*) FROM source_articles").fetchone()[0])


def check_refusal(
    file: Path, kinds: tuple[str, ...], code: int, output: str, state: str = "missing"
) -> None:
    """Exit 2, one line: the missing (or empty) file, each leftover, put it back or remove
    them."""
    assert "Traceback" not in output, output
    assert code == 2, output
    [line] = [x for x in output.splitlines() if x.startswith("feedsvc")]
    names = [f"{file}{k}" for k in kinds]
    assert line.startswith(f"feedsvc: the state DB file {file} is {state}, but "), line
    assert f"put the database file back at {file}, or, if it is truly gone, remove " in line
    assert all(line.count(name) == 2 for name in names), line  # found, then to remove
    assert "-journal" not in line or "-journal" in kinds, line


@pytest.fixture
def state(clean_cli: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The state DB's path (``var/state.db``, absolute) for the commands of this test."""
    file = clean_cli / "var" / "state.db"
    file.parent.mkdir()
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", f"sqlite:///{file}")
    return file


def invoke(argv: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, argv, input=ARTICLE)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{argv}: uncaught {result.exception!r}\n{result.output}")
    return result.exit_code, result.output


@pytest.mark.parametrize("kind", list(LEFTOVERS))
@pytest.mark.parametrize("command", list(WRITERS))
def test_a_writing_command_refuses_to_create_beside_leftovers(
    state: Path, command: str, kind: str
) -> None:
    """``db upgrade`` and every command that creates a missing state DB by design: refused,
    nothing made or removed at the path, and the file put back has every row of its WAL."""
    kinds = LEFTOVERS[kind]
    moved = moved_away(state, kinds)
    before = left_at(state)
    code, output = invoke(WRITERS[command])
    check_refusal(state, kinds, code, output)
    assert left_at(state) == before and not state.exists()
    if "-wal" in kinds:
        assert rows_once_put_back(state, moved) == ROWS


@pytest.mark.parametrize(("command", "kind"), each_choice(list(READERS), list(LEFTOVERS)))
def test_a_reading_command_says_what_db_upgrade_would(state: Path, command: str, kind: str) -> None:
    """A reader said "not initialised: run `feedsvc db upgrade`", sending the operator to the
    command that deleted the WAL: it now says what ``db upgrade`` says, exit 2."""
    kinds = LEFTOVERS[kind]
    moved_away(state, kinds)
    before = left_at(state)
    code, output = invoke(READERS[command])
    check_refusal(state, kinds, code, output)
    assert "empty" not in output.splitlines()  # db current: no answer beside the refusal
    assert left_at(state) == before and not state.exists()


def feedsvc(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m feedsvc ARGV`` in ``cwd`` with the test's FEEDSVC_* environment."""
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *argv],
        cwd=cwd, env=dict(os.environ), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "kind"),
    [(["run", "--no-http", "--no-bot"], "wal+shm"), (["db", "upgrade"], "wal")],
    ids=["run", "db upgrade"],
)
def test_a_real_process_refuses_and_the_rows_survive(
    state: Path, argv: list[str], kind: str
) -> None:
    """The tester's sequence as processes: a restart of ``run`` (and ``db upgrade``) while the
    file is away; then the file put back and ``db upgrade`` run: every row is there."""
    kinds = LEFTOVERS[kind]
    moved = moved_away(state, kinds)
    before = left_at(state)
    done = feedsvc(argv, state.parent.parent)
    check_refusal(state, kinds, done.returncode, done.stdout + done.stderr)
    assert left_at(state) == before  # no scheduler lock made beside them either
    assert not state.exists()
    assert rows_once_put_back(state, moved) == ROWS
    again = feedsvc(["db", "upgrade"], state.parent.parent)
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"database at revision {head()}: {state}\n"  # not "(a new file)"


def head() -> str:
    from feedsvc.db.revision import head_revision

    return head_revision()


@pytest.mark.parametrize("kind", ["wal+shm", "journal"])
def test_the_one_place_a_file_is_made_refuses_too(tmp_path: Path, kind: str) -> None:
    """``upgrade`` called without a command's checks first (leftovers that came after them):
    ``create_missing`` asks the same question, and makes nothing."""
    file = tmp_path / "state.db"
    kinds = LEFTOVERS[kind]
    moved = moved_away(file, kinds)
    db = Database(f"sqlite:///{file}")
    try:
        with pytest.raises(LocationError) as refused:
            upgrade(db)
    finally:
        db.dispose()
    check_refusal(file, kinds, 2, f"feedsvc: {refused.value}")
    assert not file.exists()
    if "-wal" in kinds:
        assert rows_once_put_back(file, moved) == ROWS


def test_a_fresh_path_is_still_created(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing at the path (another DB's leftovers beside it do not count), and the advice
    followed (the leftovers removed, the file truly gone): a new state DB, as before."""
    (state.parent / "other.db-wal").write_bytes(b"x")
    (state.parent / "state.db.moved-wal").write_bytes(b"x")
    code, output = invoke(["db", "upgrade"])
    assert code == 0, output
    assert output == f"database at revision {head()}: {state} (a new file)\n"
    gone = state.parent / "gone.db"
    moved_away(gone, LEFTOVERS["wal+shm"])
    for suffix in LEFTOVERS["wal+shm"]:
        Path(f"{gone}{suffix}").unlink()
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", f"sqlite:///{gone}")
    code, output = invoke(["import", "-"])
    assert code == 0, output
    assert gone.is_file()


def test_a_database_with_its_wal_beside_it_is_used(state: Path) -> None:
    """The normal case: the file there, its WAL beside it holding rows (a service running, or
    killed): every writing and reading command works on it, and no row is lost."""
    assert copy_template(f"sqlite:///{state}")
    with closing(sqlite3.connect(state, isolation_level=None)) as conn:
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute(
            "INSERT INTO source_articles (source_key, url, title, published_at, changed_at) "
            "VALUES ('K0', 'https://e.vn/0', 't', '2026-11-20 03:00:00', '2026-11-20 03:00:00')"
        )
        assert Path(f"{state}-wal").stat().st_size > 0
        for argv in (["db", "upgrade"], ["import", "-"], ["topics", "list"]):
            code, output = invoke(argv)
            assert code == 0, (argv, output)
        count = conn.execute("SELECT count(*) FROM source_articles").fetchone()[0]
    assert count == 2


def test_the_demo_clears_its_own_leftovers_and_no_one_elses(
    clean_cli: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    """The demo's DB is recreated at each start (``demo.db`` and every side file of it,
    ``-journal`` too, removed under its lock): its own leftovers never refuse it. A state DB's
    leftovers in the directory it is given are not its own, and stay."""
    here = clean_cli / "d"
    here.mkdir()
    for name in ("demo.db-wal", "demo.db-shm", "demo.db-journal"):
        (here / name).write_bytes(b"old")
    moved_away(here / "state.db", LEFTOVERS["wal+shm"])
    theirs = left_at(here / "state.db")
    port = free_port()
    with (clean_cli / "demo.log").open("wb") as sink:
        demo = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "demo", "--dir", "d", "--port", str(port),
             "--articles", "0"],
            cwd=clean_cli, env=dict(os.environ), stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    procs.append(demo)
    wait_until(
        lambda: (
            demo.poll() is not None
            or ((r := get(f"http://127.0.0.1:{port}/healthz")) is not None and r.status_code == 200)
        ),
        60,
        "the demo to answer",
    )
    assert demo.poll() is None, (clean_cli / "demo.log").read_text()
    assert (here / "demo.db").is_file() and not (here / "demo.db-journal").exists()
    assert left_at(here / "state.db") == theirs
    demo.send_signal(signal.SIGTERM)
    assert demo.wait(timeout=30) == 0


#: How an operator leaves an empty file in the database's place (a tester's: ``touch``,
#: ``: > state.db``, ``install /dev/null``, a copy back that failed on a full disk).
EMPTIED = {
    "touch": lambda file: file.touch(),
    "truncate": lambda file: file.write_bytes(b""),
    "install /dev/null": lambda file: subprocess.run(
        ["install", "-m", "600", "/dev/null", str(file)], check=True
    ),
}
EMPTY = "empty (0 bytes)"


def emptied_in_place(file: Path, kinds: tuple[str, ...], how: str = "touch") -> Path:
    """:func:`moved_away`, then a 0-byte file made at ``file``'s path (``how``)."""
    moved = moved_away(file, kinds)
    EMPTIED[how](file)
    assert file.stat().st_size == 0
    return moved


@pytest.mark.parametrize(
    ("command", "kind", "how"),
    [(c, "wal+shm", "touch") for c in (*WRITERS, *READERS)]
    + each_choice(["import -", "status", "db current"], ["wal", "shm", "journal"], list(EMPTIED)),
)
def test_an_empty_file_in_its_place_is_an_orphan_too(
    state: Path, command: str, kind: str, how: str
) -> None:
    """R-D1: a 0-byte file where the moved database was, its ``-wal``/``-shm`` beside it:
    ``db upgrade`` said "database at revision …" and deleted them, ``status`` said "not
    initialised" and deleted the WAL, ``db current`` said "empty" and wrote the file. Every
    command now refuses as for a missing file, writes and deletes nothing, and the file put
    back has every row."""
    kinds = LEFTOVERS[kind]
    moved = emptied_in_place(state, kinds, how)
    before = left_at(state)
    argv = {**WRITERS, **READERS}[command]
    code, output = invoke(argv)
    check_refusal(state, kinds, code, output, EMPTY)
    assert "empty" not in output.splitlines()  # db current: no answer beside the refusal
    assert left_at(state) == before  # byte for byte: the empty file, the WAL, its index
    if "-wal" in kinds:
        assert rows_once_put_back(state, moved) == ROWS


@pytest.mark.parametrize("emptied", [False, True], ids=["missing", "empty"])
def test_a_refused_run_makes_no_scheduler_lock(clean_cli: Path, emptied: bool) -> None:
    """R-D2, the tester's own: a path with spaces, a ``-wal`` of one line beside a missing
    (or empty) file; ``run`` refused, exit 2, and no ``s t.db-scheduler.lock`` made."""
    here = clean_cli / "u d"
    here.mkdir()
    (here / "s t.db-wal").write_text("x\n")
    if emptied:
        (here / "s t.db").touch()
    before = left_at(here / "s t.db")
    env = {**os.environ, "FEEDSVC_DATABASE__URL": "sqlite:///u d/s t.db"}
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "run", "--no-http", "--no-bot"],
        cwd=clean_cli, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    state = "empty (0 bytes)" if emptied else "missing"
    check_refusal(here / "s t.db", ("-wal",), done.returncode, done.stderr, state)
    assert sorted(p.name for p in here.iterdir()) == sorted(before)
    assert left_at(here / "s t.db") == before


def test_a_real_run_beside_an_empty_file_refuses_and_the_rows_survive(state: Path) -> None:
    """The tester's R-D1 sequence as processes: ``run`` on the 0-byte file is refused and
    touches nothing; the real file put back, ``db upgrade`` finds every row."""
    kinds = LEFTOVERS["wal+shm"]
    moved = emptied_in_place(state, kinds)
    before = left_at(state)
    done = feedsvc(["run", "--no-http", "--no-bot"], state.parent.parent)
    check_refusal(state, kinds, done.returncode, done.stdout + done.stderr, EMPTY)
    assert left_at(state) == before
    assert rows_once_put_back(state, moved) == ROWS
    again = feedsvc(["db", "upgrade"], state.parent.parent)
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"database at revision {head()}: {state}\n"


def test_the_one_place_a_file_is_made_refuses_an_empty_one(tmp_path: Path) -> None:
    """``upgrade`` without a command's checks first: ``create_missing`` refuses the empty file
    with leftovers as the missing one, and SQLite never opens it."""
    file = tmp_path / "state.db"
    kinds = LEFTOVERS["wal+shm"]
    moved = emptied_in_place(file, kinds, "truncate")
    before = left_at(file)
    db = Database(f"sqlite:///{file}")
    try:
        with pytest.raises(LocationError) as refused:
            upgrade(db)
    finally:
        db.dispose()
    check_refusal(file, kinds, 2, f"feedsvc: {refused.value}", EMPTY)
    assert left_at(file) == before
    assert rows_once_put_back(file, moved) == ROWS


def test_an_empty_file_alone_is_a_new_database_as_before(state: Path) -> None:
    """Guard: a 0-byte file without side files (another DB's beside it do not count) is an
    empty database, as ever: ``db current`` says "empty", ``status`` names ``db upgrade``,
    ``db upgrade`` migrates it in place (not "a new file"), and ``import`` then stores."""
    state.touch()
    (state.parent / "other.db-wal").write_bytes(b"x")
    code, output = invoke(["db", "current"])
    assert (code, output.splitlines()[0]) == (0, "empty"), output
    code, output = invoke(["status"])
    assert code == 1 and "feedsvc db upgrade" in output and "-wal" not in output, output
    code, output = invoke(["db", "upgrade"])
    assert (code, output) == (0, f"database at revision {head()}: {state}\n")
    code, output = invoke(["import", "-"])
    assert code == 0, output
    with closing(sqlite3.connect(state)) as conn:
        assert conn.execute("SELECT count(*) FROM source_articles").fetchone()[0] == 1


def test_what_holds_no_database(tmp_path: Path) -> None:
    """``holds_no_database``: missing (a dangling link too, SQLite creates its target), a
    0-byte file (through a link too); a file with bytes, a directory: something else."""
    from feedsvc.db.sqlite_file import holds_no_database

    (tmp_path / "empty").touch()
    (tmp_path / "full").write_bytes(b"x")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "to-empty").symlink_to(tmp_path / "empty")
    found = {p: holds_no_database(tmp_path / p) for p in
             ("absent", "dangling", "empty", "to-empty", "full", ".")}  # fmt: skip
    assert found == {
        "absent": "missing", "dangling": "missing", "empty": EMPTY, "to-empty": EMPTY,
        "full": None, ".": None,
    }  # fmt: skip


def test_an_empty_file_being_created_is_no_orphan(tmp_path: Path) -> None:
    """Guard: a 0-byte file with a ``-journal`` beside it while another process's first
    transaction on it holds SQLite's lock (a new database being made: a second ``feedsvc``
    starting while the first switches the new file to WAL) is a live database: it waits for
    the lock as ever (``test_cli_db_errors``: "is locked", exit 1), never an orphan. The same
    files with no lock held are one."""
    from feedsvc.db.sqlite_file import holds_no_database, orphan_problem

    file = tmp_path / "new.db"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys\n"
         f"c = sqlite3.connect({str(file)!r}, isolation_level=None)\n"
         "c.execute('BEGIN EXCLUSIVE'); c.execute('CREATE TABLE t (a)')\n"
         "print('held', flush=True); sys.stdin.read()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert file.stat().st_size == 0 and Path(f"{file}-journal").exists()
        assert holds_no_database(file) is None and orphan_problem(file) is None
    finally:
        holder.communicate("", timeout=30)
    Path(f"{file}-journal").write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" + bytes(504))
    assert holds_no_database(file) == EMPTY
    assert (orphan_problem(file) or "").startswith(f"the state DB file {file} is {EMPTY}, but ")
