"""A backfill shows its progress (SPEC §8: long CLI work shows progress). A tester's: `feedsvc
topics backfill SLUG --days 0` over 50,000 stored articles ran ~7.5 s silently, even on a
terminal, then printed its one summary line.

``ops.backfill_topic`` prints nothing (the API and the admin share it): it tells a ``progress``
callback (done, total) articles; the CLI draws that with Click's progress bar on stderr when
stderr is a TTY (``feedsvc.cli.progress``), as `feedsvc import` does, and writes nothing more
otherwise. The CLI cases run the real command with stderr on a pseudo-terminal (``pty``).
"""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from backend_cases import module_on_sqlite
from factories import article
from processes import readable
from test_backfill import TITLES  # the title is the article's whole text

from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.matching import document_from_article, search_keys
from feedsvc.operations import OperationError, backfill_topic
from feedsvc.store.articles import SourcePosition, insert_articles
from feedsvc.store.topics import TopicSpec, save_topic

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

ERASE = "\r\x1b[K\x1b[?25h"  # the bar's line erased, the cursor shown again


def plain(n: int, title: str, db: Database) -> Article:
    blank = {"summary": "", "body": "", "tags": (), "section": "Tin tức"}
    return article(n, title=title, published_at=db.now() - timedelta(days=n), **blank)


def store(db: Database, items: list[Article]) -> None:
    """Store articles as ingest would."""
    with db.write() as conn:
        rows = [
            (a, search_keys(document_from_article(a)), SourcePosition(a.published_at, a.source_key))
            for a in items
        ]
        insert_articles(conn, rows, db.now())


def define(db: Database, slug: str, query: str) -> None:
    with db.write() as conn:
        save_topic(conn, TopicSpec(slug, slug, query), "api", db.now())


@pytest.fixture
def archive(db: Database) -> Database:
    store(db, [plain(n, title, db) for n, title in TITLES.items()])
    return db


def told(db: Database, slug: str, **kwargs: Any) -> list[tuple[int, int]]:
    """The (done, total) calls of a backfill of ``slug`` over all days."""
    calls: list[tuple[int, int]] = []
    backfill_topic(db, slug, days=None, progress=lambda *a: calls.append(a), **kwargs)
    return calls


def assert_progress(calls: list[tuple[int, int]], total: int) -> None:
    """From (0, total) up to (total, total), done growing at each call, the total fixed."""
    dones = [done for done, _ in calls]
    assert calls[0] == (0, total) and calls[-1] == (total, total), calls
    assert dones == sorted(set(dones)), calls  # strictly growing
    assert {t for _, t in calls} == {total}, calls


@pytest.mark.parametrize(
    ("query", "total", "expected"),
    [
        ('"an ninh" OR "công an"', 3, [(0, 3), (2, 3), (3, 3)]),  # the index's 3 candidates
        ("NOT NOT hội", 5, [(0, 5), (2, 5), (4, 5), (5, 5)]),  # no key sets: the window's 5
    ],
    ids=["index", "scan"],
)
def test_the_callback_counts_up_to_the_total_batch_by_batch(
    archive: Database, query: str, total: int, expected: list[tuple[int, int]]
) -> None:
    define(archive, "t", query)
    calls = told(archive, "t", batch=2)
    assert_progress(calls, total)
    assert calls == expected


def test_the_recheck_of_matches_outside_the_candidates_is_counted(archive: Database) -> None:
    """A narrowed query: its one candidate, then the three old matches it no longer reaches,
    read before the first batch so the total is known from the start."""
    define(archive, "t", '"an ninh" OR "công an"')
    backfill_topic(archive, "t", days=None)
    define(archive, "t", '"Đồ Sơn"')
    calls: list[tuple[int, int]] = []
    result = backfill_topic(archive, "t", days=None, batch=2, progress=lambda *a: calls.append(a))
    assert calls == [(0, 4), (1, 4), (3, 4), (4, 4)]  # 1 candidate, then the other 3 by 2
    assert (result.removed, result.added, result.scanned) == (3, 1, 5)


def test_an_article_published_during_a_scan_raises_the_total(
    archive: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan judges every article of the window, one ingested meanwhile too: the total
    grows with it, never below what is done."""
    from feedsvc.operations import backfill as module

    batches = module._backfill_batches

    def ingested_after_the_first(*args: Any) -> Any:
        for n, rows in enumerate(batches(*args)):
            if n == 1:
                store(archive, [plain(6, "Hội chợ xuân", archive)])
            yield rows

    monkeypatch.setattr(module, "_backfill_batches", ingested_after_the_first)
    define(archive, "t", "NOT NOT hội")
    calls = told(archive, "t", batch=2)
    assert calls[0] == (0, 5) and calls[-1] == (6, 6)
    dones = [done for done, _ in calls]
    assert dones == sorted(set(dones)) and all(done <= total for done, total in calls)


def test_an_article_deleted_meanwhile_still_ends_at_the_total(
    archive: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedsvc.db.schema import articles
    from feedsvc.operations import backfill as module

    batches = module._backfill_batches

    def deleted_before_the_read(*args: Any) -> Any:
        with archive.write() as conn:
            conn.execute(articles.delete().where(articles.c.title == TITLES[3]))
        yield from batches(*args)

    monkeypatch.setattr(module, "_backfill_batches", deleted_before_the_read)
    define(archive, "t", '"an ninh" OR "công an"')
    assert told(archive, "t", batch=10) == [(0, 3), (2, 3), (3, 3)]


def test_a_backfill_stopped_part_way_never_says_it_is_done(archive: Database) -> None:
    define(archive, "t", "NOT NOT hội")
    asked = iter([False, True])  # before batches 1 and 2
    calls: list[tuple[int, int]] = []
    with pytest.raises(OperationError) as stopped:
        backfill_topic(
            archive, "t", days=None, batch=2, stopping=lambda: next(asked),
            progress=lambda *a: calls.append(a),
        )  # fmt: skip
    assert stopped.value.code == "backfill_stopped"
    assert calls == [(0, 5), (2, 5)]


# -- the display -------------------------------------------------------------------------------


def progress_line(file: io.StringIO) -> Any:
    from feedsvc.cli.progress import ProgressLine  # here: each test fails alone without it

    return ProgressLine("backfilling", file)


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_not_on_a_terminal_the_display_writes_nothing() -> None:
    file = io.StringIO()
    with progress_line(file) as line:
        for done in (0, 2000, 4000):
            line.update(done, 4000)
    assert file.getvalue() == "" and not line.erased


def test_on_a_terminal_it_draws_done_of_total_and_ends_its_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    file = FakeTty()
    with progress_line(file) as line:
        line.update(0, 4000)
        assert "backfilling" in file.getvalue() and "0/4000" in file.getvalue()
        line.update(2000, 4000)
        assert "2000/4000" in file.getvalue()
        line.update(4000, 4000)
    drawn = file.getvalue()
    last = drawn.split("\r")[-1]  # the last draw, as the terminal keeps it
    assert "4000/4000" in last and "articles/s" in last, repr(last)
    assert last.endswith("\x1b[?25h\n") and not line.erased  # the cursor back, a new line
    shown = re.sub(r"\x1b\[[?0-9;]*[a-zA-Z]|\n", "", drawn)  # what takes columns
    assert max(len(d) for d in shown.split("\r")) <= 100  # never wider than the terminal


def test_an_exception_erases_the_line_before_its_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    file = FakeTty()
    with pytest.raises(KeyboardInterrupt), progress_line(file) as line:
        line.update(0, 4000)
        line.update(2000, 4000)
        raise KeyboardInterrupt
    assert line.erased and file.getvalue().endswith("2000/4000" + _tail(file.getvalue()))


def _tail(drawn: str) -> str:
    """What follows the last count drawn: the rate, padding, then :data:`ERASE` only."""
    tail = drawn[drawn.rindex("2000/4000") + 9 :]
    assert tail.endswith(ERASE) and "\n" not in tail, repr(tail)
    return tail


# -- the command on a pseudo-terminal ---------------------------------------------------------

#: `python -m feedsvc`, after an optional patch: batches of one article, and a signal sent to
#: itself once the first batch is done (SIGINT as a terminal's Ctrl-C would; Python's own
#: handler set in case the test runs where SIGINT is ignored)
DRIVER = r"""
import os, runpy, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
stop = sys.argv.pop(1)
if stop != "-":
    from feedsvc.operations import backfill as module
    batches = module._backfill_batches
    def one_by_one(db, ids, since, _size):
        for n, rows in enumerate(batches(db, ids, since, 1)):
            if n == 1:
                os.kill(os.getpid(), getattr(signal, stop))
            yield rows
    module._backfill_batches = one_by_one
sys.argv[0] = "feedsvc"
runpy.run_module("feedsvc", run_name="__main__")
"""


@pytest.fixture
def command(lite_db: Database, sqlite_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a `feedsvc` whose state DB holds :data:`TITLES` and topics ``t``
    and ``u``, both ``"an ninh" OR "công an"`` (3 articles)."""
    store(lite_db, [plain(n, title, lite_db) for n, title in TITLES.items()])
    for slug in ("t", "u"):
        define(lite_db, slug, '"an ninh" OR "công an"')
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_DATABASE__URL": sqlite_url,
        "FEEDSVC_TOPICS__FILE": str(tmp_path / "topics.toml"),
        "COLUMNS": "100",
    }
    return env


def backfill(env: dict[str, str], slug: str, *, tty: bool, stop: str = "-") -> tuple[int, str, str]:
    """`feedsvc topics backfill SLUG --days 0` with stderr on a pseudo-terminal (``tty``) or a
    pipe; its exit code, stdout, and stderr (as the terminal got it: line ends ``\\r\\n``)."""
    argv = [sys.executable, "-c", DRIVER, stop, "topics", "backfill", slug, "--days", "0"]
    if not tty:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    try:
        child = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave
        )
    finally:
        os.close(slave)
    try:
        terminal = _read_until_closed(master, time.monotonic() + 120)
    finally:
        os.close(master)
    assert child.stdout is not None
    stdout = child.stdout.read().decode()
    return child.wait(timeout=60), stdout, terminal


def _read_until_closed(master: int, deadline: float) -> str:
    """Everything written to the terminal until the child's end closed (EIO on Linux)."""
    got = bytearray()
    while time.monotonic() < deadline:
        if not readable(master, deadline - time.monotonic()):
            break
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        got += data
    return got.decode()


def test_on_a_terminal_stderr_shows_progress_and_stdout_is_unchanged(
    command: dict[str, str],
) -> None:
    code, stdout, terminal = backfill(command, "t", tty=True)
    assert code == 0, terminal
    assert "backfilling" in terminal and "0/3" in terminal and "3/3" in terminal, terminal
    assert terminal.endswith("\x1b[?25h\r\n"), repr(terminal)  # the cursor back, the line ended
    assert "Traceback" not in terminal
    plain_code, plain_stdout, stderr = backfill(command, "u", tty=False)
    assert (plain_code, stderr) == (0, "")  # no terminal: nothing more than before
    line = (
        "5 articles scanned, 3 match, 3 of them in the feed (3 newly added); 0 removed (no "
        "longer matching).\n"
    )
    assert (stdout, plain_stdout) == (f"t: {line}", f"u: {line}")


@pytest.mark.parametrize(
    ("stop", "code", "word"),
    [("SIGTERM", 143, "terminated (SIGTERM)"), ("SIGINT", 130, "interrupted")],
)
def test_an_interrupted_backfill_erases_its_bar_before_saying_so(
    command: dict[str, str], stop: str, code: int, word: str
) -> None:
    exit_code, stdout, terminal = backfill(command, "t", tty=True, stop=stop)
    assert exit_code == code, terminal
    assert stdout == ""
    said = f"feedsvc topics backfill: {word}: the batches done are stored"
    assert "1/3" in terminal and f"{ERASE}{said}" in terminal, repr(terminal)
    _drawn, message = terminal.split(ERASE)  # nothing drawn after the message
    assert "\x1b" not in message and "backfilling" not in message, repr(message)
    assert "Run the same backfill again to finish it." in message
    assert "Traceback" not in terminal
