"""Rows of a key given twice that ingest does not apply count as seen (tester's report, medium).

A CMS key column need not be unique. Ingest stores one row of a key (the newest version's)
and not the others, but nothing recorded where those were: the overlap window behind the
cursor found a row it held no copy of, logged ``1 row(s) behind the cursor not held yet (late
commits), re-reading`` and re-read it at EVERY poll, for as long as the cursor stayed within
``source.overlap_seconds`` of it (for ever on a quiet CMS), and each restart warned "not
applied" again. Every kind of row a batch decides not to apply — the other rows of the key in
the same poll, one arriving in a later poll, the held row another row displaces, a row once
quarantined — now counts as held: an idle tick reads nothing, stores nothing and says nothing,
and a restart says nothing again (``ingest_not_applied``, migration 0029). Ticks are driven
directly (``Ingestor.tick``) on a simulated clock; log lines are counted over several ticks."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from cms_news import News, news, news_table
from factories import article
from lifecycle_world import Clock, World, make_world
from sqlalchemy import func, inspect, select

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles, metadata
from feedsvc.db.schema_ingest import ingest_quarantine
from feedsvc.ingest import Ingestor
from feedsvc.ingest.model import TickResult
from feedsvc.source import SqlSource
from feedsvc.store.articles import SourcePosition, insert_articles
from feedsvc.store.cursors import record_success
from feedsvc.store.records import external_source_name
from feedsvc.topic_index import TopicIndex

__all__ = ["news"]  # the CMS table fixture, shared (cms_news)

LATE = "not held yet (late commits)"
DUP = "not applied (the key column is not unique"


class Ticks:
    """Idle ticks of an ingestor, each on a clock 5 s later (still within the 60 s window)."""

    def __init__(self, ing: Ingestor, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
        self.ing, self.clock, self.caplog = ing, clock, caplog

    def run(self, n: int = 5) -> list[TickResult]:
        done = []
        with self.caplog.at_level(logging.INFO, logger="feedsvc.ingest"):
            for _ in range(n):
                self.clock.advance(seconds=5)
                result = self.ing.tick()
                assert result.error is None, result.error
                done.append(result)
        return done

    def lines(self, words: str) -> list[str]:
        return [r.getMessage() for r in self.caplog.records if words in r.getMessage()]


def idle(results: list[TickResult]) -> None:
    """Nothing read, stored or quarantined at any of these ticks."""
    assert [(r.read, r.stored, len(r.quarantined)) for r in results] == [(0, 0, 0)] * len(results)


def held(db: Database, key: str) -> tuple[str | None, str, object]:
    """(source row id, title, last change) of the article ``key``."""
    with db.read() as conn:
        row = conn.execute(select(articles).where(articles.c.source_key == key)).one()
        return row.source_id, row.title, row.last_changed_at


def every_row(db: Database) -> dict[str, list[str]]:
    """Every row of every feedsvc table the DB has, comparable."""
    from upgrades import held_columns

    present = set(inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:
        return {
            t.name: sorted(
                json.dumps(list(r), default=str) for r in conn.execute(held_columns(db.engine, t))
            )
            for t in metadata.sorted_tables
            if t.name in present
        }


def restarted(db: Database, source: SqlSource, clock: Clock) -> Ingestor:
    """A new ingestor on the same state DB and CMS: what a restart starts with (no memory
    of what the process before it said)."""
    for name in ("feedsvc.ingest.writer", "feedsvc.ingest.unapplied"):
        said = getattr(sys.modules.get(name), "_said", None)
        if said is not None:
            said.clear()
    ing = Ingestor(
        db, source, TopicIndex(), tz=UTC, poll_seconds=1, overlap_seconds=60, batch_size=100
    )
    ing.clock = clock
    return ing


def quiet_after_a_restart(
    db: Database, source: SqlSource, clock: Clock, caplog: pytest.LogCaptureFixture, ticks: int
) -> None:
    """A restart's ``ticks`` idle ticks neither re-read the row nor say anything of it."""
    caplog.clear()
    again = Ticks(restarted(db, source, clock), clock, caplog)
    idle(again.run(ticks))
    assert again.lines(LATE) == [] and again.lines(DUP) == []


def setup(db: Database, news: News) -> World:
    return make_world(db, news.clock, source=news.source())


def test_the_testers_case_two_rows_one_poll(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """Rows 1 and 2 carry k-1, row 2 the newer: one poll stores row 2 and says row 1 once;
    then no poll re-reads row 1, and neither does a restarted service."""
    w = setup(db, news)
    now = news.clock()
    news.put(1, "k-1", title="Bản A Kiến Thụy", edited=now - timedelta(seconds=20))
    news.put(2, "k-1", title="Bản B Kiến Thụy", edited=now - timedelta(seconds=10))
    ticks = Ticks(w.ing, news.clock, caplog)
    first = ticks.run(1)
    assert (first[0].read, first[0].new) == (2, 1)
    stored = held(db, "k-1")
    assert stored[:2] == ("2", "Bản B Kiến Thụy")
    idle(ticks.run(6))
    assert held(db, "k-1") == stored  # never stored again
    assert ticks.lines(LATE) == []
    said = ticks.lines(DUP)
    assert len(said) == 1 and "row id=1 carries key k-1, held from row id=2" in said[0], said
    quiet_after_a_restart(db, news.source(), news.clock, caplog, 4)
    assert held(db, "k-1") == stored


def test_three_rows_of_one_key(db: Database, news: News, caplog: pytest.LogCaptureFixture) -> None:
    w = setup(db, news)
    now = news.clock()
    for n, ago in ((1, 30), (2, 5), (3, 20)):
        news.put(n, "k", title=f"Kiến Thụy bản {n}", edited=now - timedelta(seconds=ago))
    news.put(4, "other", edited=now)
    ticks = Ticks(w.ing, news.clock, caplog)
    assert ticks.run(1)[0].new == 2
    stored = held(db, "k")
    assert stored[0] == "2"
    idle(ticks.run(6))
    assert held(db, "k") == stored
    assert ticks.lines(LATE) == []
    said = sorted(ticks.lines(DUP))
    assert len(said) == 2, said
    assert "row id=1 carries key k, held from row id=2" in said[0]
    assert "row id=3 carries key k, held from row id=2" in said[1]


def test_an_older_duplicate_in_a_later_poll(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """Row 2 is held; row 1 (same key, an older version) is written later."""
    w = setup(db, news)
    now = news.clock()
    news.put(2, "k", title="Kiến Thụy bản mới", edited=now - timedelta(seconds=5))
    ticks = Ticks(w.ing, news.clock, caplog)
    ticks.run(1)
    stored = held(db, "k")
    news.put(1, "k", title="Kiến Thụy bản cũ", edited=now - timedelta(minutes=10))
    assert ticks.run(1)[0].read == 1
    idle(ticks.run(6))
    assert held(db, "k") == stored
    assert ticks.lines(LATE) == []
    assert len(ticks.lines(DUP)) == 1


def test_a_newer_duplicate_in_a_later_poll_displaces_the_held_row(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """Row 1 is held; row 2 (same key, newer) takes it over a poll later: row 1, still in the
    CMS and within the window, is said once and never re-read."""
    w = setup(db, news)
    now = news.clock()
    news.put(1, "k", title="Kiến Thụy bản đầu", edited=now - timedelta(minutes=10))
    ticks = Ticks(w.ing, news.clock, caplog)
    ticks.run(1)
    news.put(2, "k", title="Kiến Thụy bản đăng lại", edited=now)
    assert ticks.run(1)[0].updated == 1
    stored = held(db, "k")
    assert stored[:2] == ("2", "Kiến Thụy bản đăng lại")
    idle(ticks.run(6))
    assert held(db, "k") == stored
    assert ticks.lines(LATE) == []
    said = ticks.lines(DUP)
    assert len(said) == 1 and "row id=1 carries key k, held from row id=2" in said[0], said
    quiet_after_a_restart(db, news.source(), news.clock, caplog, 3)


def test_a_deleted_and_reposted_row_is_not_named(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """An editor deletes row 1 and posts the story again as row 2 (same slug, newer): nothing
    says row 1 carries the key, and nothing is re-read."""
    w = setup(db, news)
    now = news.clock()
    news.put(1, "k", edited=now - timedelta(minutes=10))
    ticks = Ticks(w.ing, news.clock, caplog)
    ticks.run(1)
    news.delete(1)
    news.put(2, "k", edited=now)
    ticks.run(1)
    idle(ticks.run(4))
    assert held(db, "k")[0] == "2"
    assert ticks.lines(DUP) == [] and ticks.lines(LATE) == []


def test_the_older_row_edited_later(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """Row 1 (older) edited without a new version is read again (its cursor moved), still not
    applied, not said again and not re-read after; edited with a newer version, it takes the
    article over and row 2, displaced, is said once."""
    w = setup(db, news)
    now = news.clock()
    news.put(1, "k", title="Kiến Thụy bản 1", edited=now - timedelta(minutes=10))
    news.put(2, "k", title="Kiến Thụy bản 2", edited=now - timedelta(minutes=1))
    ticks = Ticks(w.ing, news.clock, caplog)
    ticks.run(1)
    stored = held(db, "k")
    news.put(1, title="Kiến Thụy bản 1 (sửa)")  # `modified` moves, `edited` stays older
    assert ticks.run(1)[0].read == 1
    idle(ticks.run(5))
    assert held(db, "k") == stored
    assert len(ticks.lines(DUP)) == 1 and ticks.lines(LATE) == []
    caplog.clear()
    news.put(1, title="Kiến Thụy bản 1 (mới nhất)", edited=news.clock())
    assert ticks.run(1)[0].updated == 1
    assert held(db, "k")[:2] == ("1", "Kiến Thụy bản 1 (mới nhất)")
    idle(ticks.run(5))
    said = ticks.lines(DUP)
    assert len(said) == 1 and "row id=2 carries key k, held from row id=1" in said[0], said
    assert ticks.lines(LATE) == []


def test_a_quarantined_row_fixed_beside_a_newer_one_leaves_the_list(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """Row 1 is quarantined (no title); it is fixed in the poll that also brings row 3, the
    same key and newer: row 1 is decided (not applied), so it leaves the quarantine list, and
    is not re-read."""
    w = setup(db, news)
    now = news.clock()
    news.put(1, "k", title=" ", edited=now - timedelta(minutes=5))
    ticks = Ticks(w.ing, news.clock, caplog)
    assert len(ticks.run(1)[0].quarantined) == 1
    news.put(1, title="Kiến Thụy bản sửa")
    news.put(3, "k", title="Kiến Thụy bản 3", edited=now)
    ticks.run(1)
    assert held(db, "k")[:2] == ("3", "Kiến Thụy bản 3")
    with db.read() as conn:  # listed no more as of that poll (not one re-read later)
        assert conn.execute(select(func.count()).select_from(ingest_quarantine)).scalar() == 0
    idle(ticks.run(5))
    assert ticks.lines(LATE) == []


def test_upgrade_from_0028_with_a_duplicate_held(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A state DB at 0028 holding row 2's article of a key row 1 carries too: after the upgrade
    row 1 is re-read once (nothing recorded it), said once, then never again, restarts
    included; the article is kept."""
    from upgrades import articles_inserted_without, database_at, downgrade

    db = database_at(db_url, "0028")
    clock = Clock()
    try:
        with news_table(db, tmp_path, "same") as cms:
            cms.clock = clock
            now = clock()
            cms.put(1, "k", title="Kiến Thụy bản 1", edited=now - timedelta(minutes=10))
            edited = now - timedelta(minutes=1)
            cms.put(2, "k", title="Kiến Thụy bản 2", edited=edited)
            at = clock().replace(microsecond=0)  # row 2's `modified`
            with db.write() as conn, articles_inserted_without("source_key_nfc"):
                # what 0028's ingest left: row 2's article, the cursor (0041's column not yet)
                insert_articles(conn, [(article(
                    2, source_key="k", title="Kiến Thụy bản 2", updated_at=edited,
                    published_at=now - timedelta(minutes=30),
                ), "", SourcePosition(at, "2"))], at)  # fmt: skip
                record_success(conn, external_source_name("news"), at, "2", at)
            before = every_row(db)
            upgrade(db, "0029")
            after = every_row(db)
            assert after.pop("ingest_not_applied", []) == [] and after == before  # rows kept
            upgrade(db)  # the code below is head's
            db.now = clock  # type: ignore[method-assign]
            ticks = Ticks(restarted(db, cms.source(), clock), clock, caplog)
            first = ticks.run(1)[0]
            assert (first.read, first.stored) == (1, 0)
            idle(ticks.run(4))
            assert len(ticks.lines(LATE)) == 1 and len(ticks.lines(DUP)) == 1
            quiet_after_a_restart(db, cms.source(), clock, caplog, 3)
            assert held(db, "k")[:2] == ("2", "Kiến Thụy bản 2")
            from feedsvc.store.unapplied import recorded  # (new: after the old code's failure)

            with db.read() as conn:
                assert list(recorded(conn, external_source_name("news"))) == ["1"]
            downgrade(db, "0029")
            kept = every_row(db)
            downgrade(db, "0028")  # the table goes, nothing else
            assert "ingest_not_applied" not in every_row(db)
            assert every_row(db) == {k: v for k, v in kept.items() if k != "ingest_not_applied"}
    finally:
        db.dispose()
