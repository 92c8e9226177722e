"""The due check across restarts (newcomer W5): its first run in a process looked back a whole
day with no memory of the previous process, so every start logged "due check: 1 scheduled
article(s) became public" for an article public (and alerted) long before, and re-rendered its
feeds. It now starts where the last committed run ended (``due_watermark``, migration 0018).
On SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

import pytest
from factories import article
from lifecycle_world import World, make_world
from sqlalchemy import select
from upgrades import OLD_ARTICLE, database_at, run_sql

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles
from feedsvc.db.schema_service import due_watermark
from feedsvc.ingest.model import Change
from feedsvc.lifecycle.due import DueCheck


def restarted(w: World) -> tuple[DueCheck, list[Sequence[Change]]]:
    """A new process's due check (the service builds one per start) and what its after-commit
    listener (feed re-render, dispatcher wake-up) was handed."""
    seen: list[Sequence[Change]] = []
    return DueCheck(w.db, w.ing.hooks, [seen.append], clock=w.clock), seen


def released(due: DueCheck, caplog: pytest.LogCaptureFixture) -> tuple[list[str], list[str]]:
    """One run: the source keys it released and its log lines."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="feedsvc.lifecycle.due"):
        changes = due.run()
    lines = [r.getMessage() for r in caplog.records if r.name == "feedsvc.lifecycle.due"]
    return [c.article.source_key for c in changes], lines


@pytest.mark.parametrize("later", [timedelta(minutes=3), timedelta(hours=5)])
def test_a_restart_releases_nothing_already_public(
    db: Database, caplog: pytest.LogCaptureFixture, later: timedelta
) -> None:
    """The newcomer's case: NC-7 became public (and alerted) at 09:59, restarts at 10:02 and
    10:08 (inside the check's 10-minute overlap) logged it again; 5 hours later (inside the
    first run's day) too."""
    w = make_world(db)
    w.publish(article(7, published_at=w.clock() + timedelta(minutes=2)))
    w.clock.advance(minutes=3)
    assert released(w.due, caplog)[0] == ["TEST-00007"]
    assert len(w.deliveries()) == 1
    w.clock.advance(seconds=later.total_seconds())
    due, seen = restarted(w)
    assert released(due, caplog) == ([], [])
    assert seen == [] and len(w.deliveries()) == 1
    due2, seen2 = restarted(w)  # and at every further start
    assert released(due2, caplog) == ([], []) and seen2 == []


def test_an_article_due_while_stopped_goes_out_once(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Scheduled for a time the service was stopped at: the next start releases it (one alert,
    one log line, its feeds re-rendered), and the start after that does not again."""
    w = make_world(db)
    w.publish(article(8, published_at=w.clock() + timedelta(minutes=10)))
    assert released(w.due, caplog)[0] == []
    w.clock.advance(minutes=20)  # stopped meanwhile
    due, seen = restarted(w)
    keys, lines = released(due, caplog)
    assert keys == ["TEST-00008"]
    assert lines == ["due check: 1 scheduled article(s) became public"]
    assert [[c.article.source_key for c in s] for s in seen] == [["TEST-00008"]]
    assert [d[0] for d in w.deliveries()] == ["TEST-00008"]
    w.clock.advance(minutes=1)
    due2, seen2 = restarted(w)
    assert released(due2, caplog) == ([], []) and seen2 == []
    assert len(w.deliveries()) == 1


def test_a_watermark_older_than_the_lookback_is_bounded(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Stopped for two days: the first run looks back ``first_lookback`` (a day), as before, not
    to the old watermark (an article due long ago is not alerted late)."""
    w = make_world(db)
    assert released(w.due, caplog)[0] == []
    w.publish(article(9, published_at=w.clock() + timedelta(hours=1)))
    w.publish(article(10, published_at=w.clock() + timedelta(hours=30)))
    w.clock.advance(days=2)
    due, _ = restarted(w)
    assert released(due, caplog)[0] == ["TEST-00010"]


def test_upgrade_to_0018_keeps_articles_and_starts_without_a_watermark(db_url: str) -> None:
    """0018 on a DB holding an article: the article stays; no watermark row until the first
    check writes one; a downgrade drops the table, a second upgrade makes it again."""
    db = database_at(db_url, "0017")
    try:
        run_sql(db, OLD_ARTICLE, t="2026-11-30 10:00:00")
        upgrade(db)
        with db.read() as conn:
            assert conn.execute(select(articles.c.source_key)).scalars().all() == ["a-1"]
            assert conn.execute(select(due_watermark)).all() == []
        due = DueCheck(db, [])
        assert due.run() == []
        with db.read() as conn:
            [row] = conn.execute(select(due_watermark)).all()
        assert row.name == "due" and row.checked_through is not None
    finally:
        db.dispose()
