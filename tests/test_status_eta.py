"""The catch-up figures as an operator reads them during a first sync or a re-read.

A sync whose ticks all failed kept its rate and ETA "current": a failed tick moves
``last_tick_at``, which was what said whether the backlog was being worked through, so the
admin said "Caught up in 3 minutes" for as long as the source stayed down, and "as of" named the
last failed tick, not the batch that counted the backlog. And an ETA under half a second rounded
to 0, which every surface reads as "caught up", beside a backlog of rows still to read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient
from test_admin import TOKEN, login
from test_status_first_sync import partial_sync, serve_app
from test_status_progress import facts as progress_facts

from feedsvc.db import Database
from feedsvc.db.schema_ingest import source_cursors
from feedsvc.store.cursors import get_cursor, record_failure
from feedsvc.store.records import BUILTIN_SOURCE, Cursor

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def facts(cursor: Cursor) -> dict[str, Any]:
    return progress_facts(cursor, now=NOW)


def _cursor(success_age: float, tick_age: float = 1.0, **fields: Any) -> Cursor:
    base: dict[str, Any] = {
        "ts": NOW - timedelta(days=90), "id": "1", "first_sync": True, "backlog": 13400,
        "rate": 2202.8, "last_tick_at": NOW - timedelta(seconds=tick_age),
        "last_success_at": NOW - timedelta(seconds=success_age),
    }  # fmt: skip
    return Cursor(**(base | fields))


@pytest.mark.parametrize(
    "fields",
    [
        {"failures": 40, "last_error": "source unreachable"},  # failing since the last batch
        {"failures": 1, "last_error": "timeout"},
        # a re-read after a mapping change, failing likewise
        {"failures": 3, "last_error": "boom", "alert_ts": NOW - timedelta(hours=1)},
    ],
)
@pytest.mark.parametrize("success_age", [60.0, 3600.0, 20 * 86400.0])
def test_no_current_eta_while_ticks_fail(fields: dict[str, Any], success_age: float) -> None:
    shown = facts(_cursor(success_age, **fields))
    assert shown["ingest_state"] == "failing"
    assert shown["ingest_backlog"] == 13400
    # as of the batch that counted it, not of the last failed tick
    assert shown["ingest_backlog_as_of"] == NOW - timedelta(seconds=success_age)
    assert (shown["ingest_rate_per_second"], shown["ingest_eta_seconds"]) == (None, None)


@pytest.mark.parametrize(
    ("backlog", "rate", "eta"),
    [(3, 500.0, 1), (1, 2202.8, 1), (1, 10000.0, 1), (2, 3.0, 1), (5, 2.0, 2), (13400, 2202.8, 6)],
)
def test_rows_left_are_never_caught_up(backlog: int, rate: float, eta: int) -> None:
    shown = facts(_cursor(1.0, backlog=backlog, rate=rate))
    assert (shown["ingest_backlog"], shown["ingest_eta_seconds"]) == (backlog, eta)


@pytest.fixture
def served(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    for _service, client in serve_app(db_url, monkeypatch):
        login(client)
        yield client


def test_a_sync_whose_ticks_fail_shows_its_backlog_as_of_its_last_batch(
    db_url: str, served: TestClient
) -> None:
    """A real first sync stopped after its first batch 10 minutes ago, every tick since failed
    (the failure bookkeeping ingest writes): no rate, no ETA, "as of" that batch."""
    partial_sync(db_url)
    db = Database(db_url)
    batch = datetime.now(UTC) - timedelta(minutes=10)
    with db.write() as conn:
        conn.execute(  # the rate its batches had measured
            update(source_cursors).values(last_success_at=batch, last_tick_at=batch, rate=250.0)
        )
        for _ in range(3):
            record_failure(conn, BUILTIN_SOURCE, "source unreachable", db.now())
    with db.read() as conn:
        counted = get_cursor(conn, BUILTIN_SOURCE).last_success_at
    db.dispose()
    api = served.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert api["ingest_state"] == "failing" and api["ingest_backlog"] == 500
    assert (api["ingest_rate_per_second"], api["ingest_eta_seconds"]) == (None, None)
    assert counted is not None
    assert api["ingest_backlog_as_of"] == counted.isoformat().replace("+00:00", "Z")
    page = served.get("/admin/status").text
    assert "Caught up in</dt><dd>—" in page and "rows a second" not in page
    assert "(as of " in page
