"""The state DB's files put back one by one under a running ``feedsvc run``: no new WAL is
made beside the file, no command writes, no replica starts, until all of ``state.db*`` is
back; and no second scheduler starts beside a first one whose lock moved with the glob.

A tester's (R1): ``mv var/state.db* away/``, then ``mv away/state.db var/`` alone: the
service, whose pool the outage had emptied, made a new ``-wal``/``-shm`` beside its file,
``status`` and ``import`` ran ("inserted 4"), and the old ``-wal``/``-shm`` moved back left
it writing to unlinked files: the rows imported before the move, alerted, were gone after the
stop, and those imported after. (R2) ``mv var/state.db* elsewhere/`` took the scheduler lock
along, and a second ``run`` started "ingest and alerts" beside the first. Real ``feedsvc
run`` and CLI processes on files in ``tmp_path``: one service per test, steps in sequence.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from processes import wait_until
from test_pid_lock import running, second_run
from test_served_db_identity import glob_moved, migrated
from test_served_state_file import feedsvc

from feedsvc.db import served_claim as sc
from feedsvc.pid_lock import SCHEDULER_LOCK_SUFFIX


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return migrated(tmp_path / "state.db")


def batch(state: Path, tag: str) -> str:
    """Four articles keyed ``<tag>1``…``<tag>4``, written beside ``state``; the file name."""
    lines = [
        json.dumps({"source_key": f"{tag}{i}", "title": f"an ninh {tag} {i}",
                    "url": f"https://example.com/{tag}/{i}",
                    "published_at": "2026-01-01T00:00:00Z"})
        for i in range(1, 5)
    ]  # fmt: skip
    (state.parent / f"{tag}.jsonl").write_text("\n".join(lines) + "\n")
    return f"{tag}.jsonl"


def rows(state: Path, tag: str) -> int:
    with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as conn:
        found = conn.execute(
            "SELECT count(*) FROM source_articles WHERE source_key LIKE ?", (f"{tag}%",)
        ).fetchone()
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    return int(found[0])


def port(state: Path) -> int:
    """The port of the service last started beside ``state`` (its log's start line)."""
    log = max(state.parent.glob("run*.log"), key=lambda p: p.stat().st_mtime)
    found = re.search(r"HTTP on 127\.0\.0\.1:(\d+)", log.read_text())
    assert found, log.read_text()
    return int(found.group(1))


def ready(state: Path) -> int:
    """``/readyz``'s status: a web request, which asks the web engine for a connection."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port(state)}/readyz", timeout=20) as r:
            return int(r.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def holds(pid: int, file: Path) -> bool:
    """Whether process ``pid`` has ``file`` open (a connection of its pools)."""
    found = file.stat()
    fds = Path(f"/proc/{pid}/fd")
    for fd in fds.iterdir():
        try:
            there = fd.stat()
        except OSError:
            continue
        if (there.st_dev, there.st_ino) == (found.st_dev, found.st_ino):
            return True
    return False


def emptied(state: Path, pid: int, moved: Path) -> bool:
    """One web request more, then: has the outage closed every connection of ``pid`` to its
    ``moved`` file (the tester's state: nothing of it open, its WAL moved with it)?"""
    ready(state)
    return not holds(pid, moved)


def at_path(state: Path) -> set[str]:
    return {p.name for p in state.parent.glob(f"{state.name}*")}


def back(state: Path, away: Path, sides: tuple[str, ...]) -> None:
    for side in sides:
        (away / f"{state.name}{side}").rename(state.with_name(state.name + side))


def refused_everything(state: Path, tag: str) -> None:
    """Between two steps: a web request, ``status``, an ``import`` and a replica's start are
    refused, and nothing is made at the path (no new ``-wal``/``-shm``)."""
    there = at_path(state)
    assert ready(state) == 503
    said = []
    for args in (["status"], ["import", batch(state, tag)]):
        done = feedsvc(state, *args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        said.append(done.stderr)
    replica = feedsvc(state, "run", "--no-bot", "--no-scheduler", "--port", "0")
    assert replica.returncode != 0 and "feedsvc started" not in replica.stderr, replica.stderr
    assert ready(state) == 503
    assert at_path(state) == there, "a side file was made at the path"
    for words in said:  # the advice: everything back at once
        assert f"move all of {state}* back in one command" in words, words


#: The tester's order (the file alone, then its ``-wal`` and ``-shm``), the reverse, and the
#: file with its WAL but not its ``-shm``: what is moved back at each step after the glob.
ORDERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "db_first": (("",), ("-wal", "-shm")),
    "wal_first": (("-wal", "-shm"), ("",)),
    "db_and_wal_then_shm": (("", "-wal"), ("-shm",)),
}


def test_files_put_back_one_by_one_lose_no_row(state: Path) -> None:
    """Each order of ``ORDERS`` in turn on one service (its start is not the subject: it
    costs ~2 s of CPU per start, twice per order before): every order's glob move, the
    pools emptied, the refusals between its steps, its resumption and an import after; then
    one next start on the file, with every order's rows there. Failures name the order."""
    with running(state) as service:
        for order, (*steps, last) in ORDERS.items():
            done = feedsvc(state, "import", batch(state, f"before_{order}"))
            assert done.returncode == 0 and "inserted 4" in done.stdout, (order, done.stderr)
            away = glob_moved(state)
            wait_until(lambda: ready(state) == 503, 30, f"the outage ({order})")
            moved = away / state.name
            wait_until(lambda m=moved: emptied(state, service.pid, m), 90, f"the pools ({order})")
            for i, sides in enumerate(steps):
                back(state, away, sides)
                refused_everything(state, f"between_{order}{i}")
            back(state, away, (*last, SCHEDULER_LOCK_SUFFIX))
            away.rmdir()  # emptied: the next order's glob moves into it again
            wait_until(lambda: ready(state) == 200, 60, f"the service resumed ({order})")
            done = feedsvc(state, "import", batch(state, f"after_{order}"))
            assert done.returncode == 0 and "inserted 4" in done.stdout, (order, done.stderr)
            assert service.poll() is None, order
    for order in ORDERS:
        counts = (rows(state, f"before_{order}"), rows(state, f"between_{order}"),
                  rows(state, f"after_{order}"))  # fmt: skip
        assert counts == (4, 0, 4), (order, counts)
    with running(state):  # the next start on it: every row still there
        pass
    for order in ORDERS:
        assert (rows(state, f"before_{order}"), rows(state, f"after_{order}")) == (4, 4), order


def test_the_shm_alone_moved_away(state: Path) -> None:
    """Only the ``-shm`` taken away (the service holds it mapped): nothing may make another."""
    with running(state) as service:
        done = feedsvc(state, "import", batch(state, "before"))
        assert done.returncode == 0, done.stderr
        away = state.with_name("elsewhere")
        away.mkdir()
        shm = state.with_name(f"{state.name}-shm")
        shm.rename(away / shm.name)
        for args in (["status"], ["import", batch(state, "between")]):
            done = feedsvc(state, *args)
            assert done.returncode == 1, (args, done.stderr)
            assert f"but {shm} beside it is not the one it uses" in done.stderr, done.stderr
        assert not shm.exists()
        (away / shm.name).rename(shm)
        done = feedsvc(state, "import", batch(state, "after"))
        assert done.returncode == 0 and "inserted 4" in done.stdout, done.stderr
        assert service.poll() is None
    assert (rows(state, "before"), rows(state, "between"), rows(state, "after")) == (4, 0, 4)


# R2: the second scheduler


def test_no_second_scheduler_once_the_glob_moved_or_removed_the_lock(state: Path) -> None:
    """Both ways the lock leaves its path, in turn on one first service (its start is not the
    subject): the glob moved it (all but it put back, as the refusals said), then, the lock
    put back too, removed. A second scheduler is refused each time; a replica still joins."""
    with running(state) as first:
        away = glob_moved(state)
        back(state, away, ("", "-wal", "-shm"))  # all but the lock, as the refusals said
        done = second_run(state)
        assert done.returncode == 2, ("glob moved", done.stderr)
        said = done.stderr.strip().splitlines()[-1]
        assert f"another feedsvc run (pid {first.pid}) runs the scheduler" in said, said
        assert "feedsvc started" not in done.stderr
        assert first.poll() is None
        # the lock removed: put back first (the state of a fresh run), then unlinked
        back(state, away, (SCHEDULER_LOCK_SUFFIX,))
        state.with_name(state.name + SCHEDULER_LOCK_SUFFIX).unlink()
        done = second_run(state)
        assert done.returncode == 2, ("lock removed", done.stderr)
        assert f"(pid {first.pid}) runs the scheduler" in done.stderr, done.stderr
        with running(state, "--no-scheduler") as web:  # a replica still joins it
            held = sc.claimed(state)
            assert held is not None and held.schedulers == (first.pid,), held
            assert set(held.pids) == {first.pid, web.pid}
        assert first.poll() is None


def test_claim_lines_with_and_without_a_role(tmp_path: Path) -> None:
    """A claim written by an older feedsvc (``pid dev ino``) is read as ever: no scheduler."""
    path = tmp_path / ".state.db.served"
    old = sc._parsed(b"12 1 2\n40 1 2\n", path)
    assert old == sc.Claim(path, (12, 40), (1, 2), ())
    mixed = sc._parsed(b"12 1 2 scheduler\n40 1 2 web\n41 1 2\n", path)
    assert mixed == sc.Claim(path, (12, 40, 41), (1, 2), (12,))


def test_a_refusal_names_only_live_pids(tmp_path: Path) -> None:
    """R3: a holder that ended is no longer named while another still holds the claim."""
    from test_served_db_identity import holder

    file = tmp_path / "state.db"
    with holder(file, (1, 2)) as first, holder(file, (1, 2)) as second:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        claim = sc.claimed(file)
        assert claim is not None and claim.pids == (second.pid,), claim
