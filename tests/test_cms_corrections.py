"""A CMS row re-read at the version held but with other content (tester 3 F4): a headline fixed
without touching ``updated_at``, or any edit when ``updated_at`` is not mapped (the config
allows it; the version is then ``published_at``). The row is the CMS's record as it is now: it
replaces the held one as a correction (sent alerts edited), from the held article's own row
only (another row of the key would flip-flop), never from an import line. An older version is
refused, as before, but said once in the log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from cms_news import News, news
from lifecycle_world import World, make_world
from sqlalchemy import func, select, update

from feedsvc.db import Database
from feedsvc.db.schema import alert_followups, articles, deliveries
from feedsvc.ingest.model import TickResult
from feedsvc.retraction.hooks import Corrections
from feedsvc.versions import takes_over

__all__ = ["news"]  # the CMS table fixture, shared (cms_news)


def world(db: Database, news: News, stamped: bool = True) -> World:
    w = make_world(db, news.clock, source=news.source(stamped))
    w.ing.hooks.append(Corrections(True))
    return w


def held(w: World, key: str) -> dict[str, object]:
    with w.db.read() as conn:
        row = conn.execute(select(articles).where(articles.c.source_key == key)).mappings().one()
        return dict(row)


def sent(w: World) -> None:
    """Every delivery recorded sent (a message in the chat), as the dispatcher would."""
    with w.db.write() as conn:
        conn.execute(update(deliveries).values(state="sent", message_id=77, finished_at=w.clock()))


def corrections(w: World) -> int:
    with w.db.read() as conn:
        stmt = select(func.count()).where(alert_followups.c.kind == "correct")
        return int(conn.execute(stmt).scalar_one())


def test_a_title_fixed_without_a_new_updated_at_is_the_correction(db: Database, news: News) -> None:
    w = world(db, news)
    news.put(1)
    w.poll()
    sent(w)
    news.put(1, title="Công an Kiến Thụy (đính chính)")  # `edited` stays, `modified` moves
    w.poll()
    assert held(w, "k1")["title"] == "Công an Kiến Thụy (đính chính)"
    assert corrections(w) == 1  # the sent alert is edited (SPEC §10)
    assert len(w.deliveries()) == 1  # and nobody is alerted twice
    snap = w.pub.snapshot("kien-thuy", "json", 50)
    assert snap is not None and "(đính chính)" in snap.body.decode()


def test_a_body_only_edit_is_stored_and_edits_no_alert(db: Database, news: News) -> None:
    w = world(db, news)
    news.put(1)
    w.poll()
    sent(w)
    news.put(1, body="nội dung đã sửa")
    w.poll()
    assert held(w, "k1")["body"] == "nội dung đã sửa"
    assert corrections(w) == 0  # a body change alone edits no alert


def test_a_summary_edit_with_updated_at_unmapped_is_applied(db: Database, news: News) -> None:
    """The tester's ``nou.toml``: ``updated_at = ""``, every edit is "the same version"."""
    w = world(db, news, stamped=False)
    news.put(1, edited=None)
    w.poll()
    sent(w)
    news.put(1, title="Tiêu đề mới", summary="tóm tắt mới")
    w.poll()
    row = held(w, "k1")
    assert (row["title"], row["summary"]) == ("Tiêu đề mới", "tóm tắt mới")
    assert corrections(w) == 1
    news.put(1, title="Tiêu đề mới nữa")  # and again: each edit of the row is taken
    w.poll()
    assert held(w, "k1")["title"] == "Tiêu đề mới nữa"


def test_a_draft_with_a_new_title_then_published_again(db: Database, news: News) -> None:
    w = world(db, news)
    news.put(1)
    w.poll()
    news.put(1, status="draft", title="Kiến Thụy: bản nháp sửa")
    w.poll()
    row = held(w, "k1")
    assert row["withdrawn_at"] is not None and row["title"] == "Kiến Thụy: bản nháp sửa"
    news.put(1, status="published")
    w.poll()
    row = held(w, "k1")
    assert row["withdrawn_at"] is None and row["title"] == "Kiến Thụy: bản nháp sửa"
    assert len(w.deliveries()) == 1  # one delivery per (chat, article), ever


def test_the_same_row_read_again_unchanged_is_no_change(db: Database, news: News) -> None:
    w = world(db, news)
    news.put(1)
    w.poll()
    sent(w)
    assert w.ing.reread(["1"]) == 0  # identical: nothing stored, nothing to correct
    news.put(1, status="published")  # the cursor moves, nothing else
    result = w.ing.tick()
    assert (result.error, result.stored) == (None, 0)
    assert corrections(w) == 0


def test_two_rows_of_one_key_at_one_version_do_not_flip_flop(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """A re-post: rows 1 and 2 carry key ``dup`` at the same version, other titles. The first
    read is held; the other row never replaces it (a correction alert each time) and is
    logged once (nor is it re-read by the overlap window at every poll:
    ``test_cms_duplicate_rows_held``)."""
    w = world(db, news)
    edited = news.clock() - timedelta(minutes=5)
    news.put(1, "dup", title="Bản A Kiến Thụy", edited=edited)
    w.poll()
    sent(w)
    news.put(2, "dup", title="Bản B Kiến Thụy", edited=edited)
    with caplog.at_level(logging.INFO, logger="feedsvc.ingest.writer"):
        for _ in range(4):
            w.poll()
            news.clock.advance(seconds=5)
    assert held(w, "dup")["title"] == "Bản A Kiến Thụy"
    assert held(w, "dup")["source_id"] == "1"
    assert corrections(w) == 0
    said = [r for r in caplog.records if "not unique" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in caplog.records]
    news.put(1, title="Bản A Kiến Thụy (sửa)")  # the held row's own edit is still taken
    w.poll()
    assert held(w, "dup")["title"] == "Bản A Kiến Thụy (sửa)"


def test_an_older_version_is_refused_and_said_once(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    w = world(db, news)
    news.put(1)
    w.poll()
    before = held(w, "k1")
    old = datetime.now(UTC) - timedelta(days=2)
    with caplog.at_level(logging.INFO, logger="feedsvc.ingest.writer"):
        news.put(1, title="Bản cũ khôi phục", edited=old)
        w.poll()
        w.ing.reread(["1"])
    assert held(w, "k1")["title"] == before["title"]
    said = [r.getMessage() for r in caplog.records if "older version" in r.getMessage()]
    assert len(said) == 1 and "row id=1 (k1)" in said[0], said


# -- the rule itself (versions.takes_over) -------------------------------------------------
T = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("edited", "may_be_stale", "gone", "expected"),
    [
        (False, False, False, False),  # the same record again
        (True, False, False, True),  # a source row's correction
        (True, True, False, False),  # an import line: maybe a stale copy
        (False, False, True, True),  # the held row is gone: another row of the key
    ],
)
def test_takes_over_at_the_same_version(
    edited: bool, may_be_stale: bool, gone: bool, expected: bool
) -> None:
    got = takes_over(
        T, False, T, False, T + timedelta(hours=1),
        may_be_stale=may_be_stale, edited=edited, held_gone=gone,
    )  # fmt: skip
    assert got is expected


def test_an_older_version_takes_over_only_when_the_held_row_is_gone() -> None:
    now = T + timedelta(hours=1)
    older = T - timedelta(hours=1)
    assert not takes_over(older, False, T, False, now, edited=True)
    assert takes_over(older, False, T, False, now, held_gone=True)


def test_a_correction_read_before_the_batch_holding_its_key_committed(
    db: Database, news: News
) -> None:
    """A catch-up reads batch k+2 while k is written (feedsvc.ingest.ahead): a row corrected at
    its version in between can be read ahead as a key not held yet. The write still takes it
    as the correction (decided again under the lock), as a row-by-row pass would."""
    w = world(db, news)
    with db.read() as conn:
        w.ing.index.refresh(conn)
    news.put(1)
    first = w.ing._prepare(w.ing.source.after(None, None, 100))
    news.put(1, title="Công an Kiến Thụy (đính chính)")  # `edited` stays, `modified` moves
    ahead = w.ing._prepare(w.ing.source.after(None, None, 100))  # before `first` is written
    result = TickResult()
    w.ing._store(first, result, None)
    assert held(w, "k1")["title"] == "Công an Kiến Thụy tin số 1"
    w.ing._store(ahead, result, None)
    assert held(w, "k1")["title"] == "Công an Kiến Thụy (đính chính)"
    assert (result.new, result.updated) == (1, 1)
