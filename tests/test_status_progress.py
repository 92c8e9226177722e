"""Catch-up progress in status only while it is current (issue #17 §2).

After a first sync stopped with SIGTERM, `feedsvc status` kept showing backlog 13400, rate
2202.8/s, ETA 6 s with nothing running; another run showed 416560.8 rows/s, a rate measured over
the moment between the backlog count and the first batch's commit.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import builtin_ingestor
from sqlalchemy import update
from test_admin import login, make_client
from test_ingest_first_sync import archive

from feedsvc.cli import cli
from feedsvc.db import Database, upgrade
from feedsvc.db.schema_ingest import source_cursors
from feedsvc.ingest.progress import Progress
from feedsvc.ingest_state import PROGRESS_FRESH_SECONDS
from feedsvc.status import StatusReads, facts_from, flatten
from feedsvc.store.records import Cursor

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def facts(cursor: Cursor, poll_seconds: float = 30.0, now: datetime = NOW) -> dict[str, Any]:
    """The status facts of ``cursor`` alone (no other reads), as of ``now``."""
    reads = StatusReads(cursor, 0, 0, 0, 0, None, [])
    return flatten(
        facts_from(reads, source="builtin", now=now, poll_seconds=poll_seconds,
                   database="sqlite://", started_at=None)
    )  # fmt: skip


def cursor(age: float, backlog: int | None = 13400, rate: float | None = 2202.8) -> Cursor:
    tick = NOW - timedelta(seconds=age)
    return Cursor(None, None, tick, tick, backlog=backlog, rate=rate)


def test_progress_of_a_catch_up_under_way() -> None:
    shown = facts(cursor(age=1))
    assert (shown["ingest_backlog"], shown["ingest_backlog_as_of"]) == (13400, None)
    assert (shown["ingest_rate_per_second"], shown["ingest_eta_seconds"]) == (2202.8, 6)


@pytest.mark.parametrize(
    ("age", "poll"), [(20, 30.0), (PROGRESS_FRESH_SECONDS + 1, 600.0), (7, 2.0)]
)
def test_progress_no_tick_works_through_is_shown_as_of_its_time(age: float, poll: float) -> None:
    """Stopped 20 s ago (poll 30 s), a long poll interval, or three short polls with no tick."""
    shown = facts(cursor(age=age), poll)
    assert shown["ingest_backlog"] == 13400
    assert shown["ingest_backlog_as_of"] == NOW - timedelta(seconds=age)
    assert (shown["ingest_rate_per_second"], shown["ingest_eta_seconds"]) == (None, None)


@pytest.mark.parametrize("age", [3600, 1, 0])
def test_a_finished_catch_up_stays_caught_up(age: float) -> None:
    """An hour later, or a second after an idle tick renewed the last success (a tester's: the
    catch-up's 219.1 rows/s stood in ``status`` for minutes after it ended)."""
    shown = facts(cursor(age=age, backlog=0, rate=900.0))
    assert (shown["ingest_backlog"], shown["ingest_backlog_as_of"]) == (0, None)
    assert (shown["ingest_rate_per_second"], shown["ingest_eta_seconds"]) == (None, 0)


def test_no_rate_from_a_moment() -> None:
    """The first batch commits a moment after the count: no rate until a second has passed."""
    clock = iter([0.0, 0.002, 2.0, 2.0]).__next__
    progress = Progress(20000, clock=clock)
    progress.advance(100)
    assert progress.reported_rate is None  # 100 rows in 2 ms: 50,000 rows/s
    progress.advance(1900)
    assert progress.reported_rate == 1000.0


def stopped_sync(url: str) -> Database:
    """A first sync stopped after its first batch (SIGTERM), its last tick a minute ago."""
    db = Database(url)
    upgrade(db)
    archive(db, 600)
    ing = builtin_ingestor(db, batch_size=100)
    ing.after_commit.append(lambda _c: ing.request_stop())
    assert ing.tick().new == 100
    ago = db.now() - timedelta(minutes=1)  # its batch wrote both times: moved back together
    with db.write() as conn:
        conn.execute(update(source_cursors).values(
            last_tick_at=ago, last_success_at=ago, rate=416560.8,
        ))  # fmt: skip
    return db


def test_status_after_a_stopped_sync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``feedsvc status`` (the driver itself) and ``--json``: the backlog as of the last tick."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    stopped_sync(url).dispose()
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)
    monkeypatch.setenv("FEEDSVC_CONFIG", "/dev/null")
    done = CliRunner().invoke(cli, ["status", "--json"])
    assert done.exit_code == 0, done.output
    shown = json.loads(done.output)
    assert shown["ingest_backlog"] == 500 and shown["ingest_backlog_as_of"] is not None
    assert (shown["ingest_rate_per_second"], shown["ingest_eta_seconds"]) == (None, None)
    # the cursor's time as every time of --json (a tester's: "2026-12-03 02:44:38…+00:00 / …")
    iso = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"
    assert re.fullmatch(iso, shown["last_ingest_tick"]), shown["last_ingest_tick"]
    assert re.fullmatch(iso + r" / .+", shown["ingest_cursor"]), shown["ingest_cursor"]
    text = CliRunner().invoke(cli, ["status"]).output
    # the stale rate (416560.8/s) in no form; times' own digits (…:26.041662) and the disk's
    # free bytes and inodes (a CI run's "16127454 inodes") left out first
    untimed = re.sub(r"\d{4}-\d\d-\d\d[ T][\d:.]+(\+00:00|Z)?", "<time>", text)
    untimed = re.sub(r"\d+ bytes, \d+ inodes", "<disk>", untimed)
    assert "416" not in untimed and "ingest_backlog_as_of" in text


def test_admin_status_page_after_a_stopped_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, service = make_client(tmp_path, monkeypatch, language="en")
    stopped_sync(service.settings.database.url).dispose()
    with client:
        login(client)
        page = client.get("/admin/status").text
    tokens = re.sub(r"[0-9a-f]{32,}", "<token>", page)  # a CSRF token's hex held "e2416…"
    assert "as of" in page and "416" not in tokens


@pytest.mark.parametrize("first_sync", [True, False])
def test_rows_held_back_as_ahead_leave_no_backlog_when_a_catch_up_ends(
    tmp_path: Path, first_sync: bool
) -> None:
    """A tester's: rows dated ahead (a CMS writing local time read as UTC) were counted in a
    catch-up's backlog, held back, and the backlog stayed at their number: "catching_up",
    backlog 327, ETA 1 s, for the 7 h they stayed ahead. Once nothing more can be read now,
    the backlog is 0 and ingest is ``ok``; the held rows are the quarantine list's."""
    from factories import article

    from feedsvc.ingest_state import ingest_state
    from feedsvc.store.cursors import get_cursor
    from feedsvc.store.source_articles import upsert_source_articles

    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(db)
    ing = builtin_ingestor(db, batch_size=100)
    if not first_sync:
        archive(db, 50)
        assert ing.tick().new == 50  # caught up: a catch-up comes after
    archive(db, 300) if first_sync else None
    now = datetime.now(UTC)
    with db.write() as conn:
        if not first_sync:
            upsert_source_articles(conn, [article(n, published_at=now) for n in range(1000, 1200)],
                                   now)  # fmt: skip
        upsert_source_articles(conn, [article(n, published_at=now) for n in range(2000, 2030)],
                               now + timedelta(hours=7))  # fmt: skip
    result = ing.tick()
    assert result.error is None and result.new == (300 if first_sync else 200)
    for _ in range(2):  # and at the idle ticks after it
        with db.read() as conn:
            cursor = get_cursor(conn, ing.source.name)
        assert (cursor.backlog, cursor.first_sync) == (0, False)
        assert ingest_state(cursor, db.now(), 1.0).code == "ok"
        assert ing.tick().new == 0
    db.dispose()
