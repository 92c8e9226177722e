"""A CMS row taken back to draft whose values are no article any more (a tester's, HIGH): many
CMSs say "unpublished" with ``published_at = NULL`` (or MySQL's zero date of a WordPress
draft), so the row was quarantined for its missing time and its article stayed in every feed,
its alerts in the chats; every new draft with no time raised a quarantine warning. A row the
source says is not shown is withdrawn whatever its values (SPEC §10); one never held is
ignored; a shown row without a time is still quarantined. The CMS table on the state DB's
backend (a SQLite file, or PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cms_table import Cms, cms_table
from lifecycle_world import World, make_world
from sqlalchemy import select, text, update

from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries
from feedsvc.store import quarantine
from feedsvc.store.followup_queue import sweep_retired


@pytest.fixture
def cms(db: Database, tmp_path: Path) -> Iterator[Cms]:
    with cms_table(db, tmp_path) as table:
        yield table


def unpublish(cms: Cms, n: int, **values: object) -> None:
    """Post ``n`` back to draft with ``values`` (raw column values), its cursor moved."""
    cms.clock.advance(seconds=5)
    sets = {"status": "draft", **values, "modified": cms.clock().replace(tzinfo=None)}
    with cms.engine.begin() as conn:
        assignments = ", ".join(f"{k} = :{k}" for k in sets)
        conn.execute(text(f"UPDATE posts SET {assignments} WHERE id = :n"), {**sets, "n": n})


def held(w: World, n: int) -> tuple[object, object]:
    with w.db.read() as conn:
        stmt = select(articles.c.withdrawn_at, articles.c.withdrawn_reason)
        row = conn.execute(stmt.where(articles.c.source_key == f"TEST-{n:05d}")).one()
        return row[0], row[1]


def quarantined(w: World) -> int:
    with w.db.read() as conn:
        return quarantine.count(conn)


def sent(w: World) -> None:
    with w.db.write() as conn:
        conn.execute(update(deliveries).values(state="sent", message_id=77, finished_at=w.clock()))


def unreadable(db: Database) -> list[dict[str, object]]:
    """What the source's draft may hold where an article needs a value."""
    found: list[dict[str, object]] = [
        {"created": None},  # the tester's: "unpublished" is no publication time
        {"link": "không phải địa chỉ"},  # an unusable URL: a draft's placeholder
        {"created": None, "link": ""},
    ]
    if db.dialect == "sqlite":  # text where a time should be: what SQLite lets a CMS store
        found += [{"created": "0000-00-00 00:00:00"}, {"created": "chưa đăng"}]
    return found


def test_back_to_draft_without_a_time_withdraws_the_article(db: Database, cms: Cms) -> None:
    w = make_world(db, cms.clock, source=cms.source())
    variants = unreadable(db)
    for n, values in enumerate(variants, start=1):
        cms.put(n, "published", cms.clock() - timedelta(minutes=10))
        w.poll()
        assert f"{n}.html" in w.feed_keys("rss"), values
        sent(w)
        unpublish(cms, n, **values)
        w.poll()
        withdrawn_at, reason = held(w, n)
        assert withdrawn_at is not None and reason == "draft", values
        assert f"{n}.html" not in w.feed_keys("atom"), values
        assert quarantined(w) == 0, values
    with db.write() as conn:  # the sent alerts are owed their retraction (deleted or edited)
        assert sweep_retired(conn, cms.clock() - timedelta(hours=1), cms.clock()) == len(variants)


def test_a_draft_never_shown_is_neither_stored_nor_quarantined(
    db: Database, cms: Cms, caplog: pytest.LogCaptureFixture
) -> None:
    w = make_world(db, cms.clock, source=cms.source())
    cms.put(1, "draft", cms.clock() - timedelta(minutes=10))
    unpublish(cms, 1, created=None)
    with caplog.at_level(logging.INFO, logger="feedsvc"):
        w.poll()
    assert quarantined(w) == 0 and w.deliveries() == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    with db.read() as conn:
        assert conn.execute(select(articles.c.id)).all() == []


def test_a_shown_row_without_a_time_is_still_quarantined_until_unpublished(
    db: Database, cms: Cms
) -> None:
    w = make_world(db, cms.clock, source=cms.source())
    cms.put(1, "published", cms.clock() - timedelta(minutes=10))
    unpublish(cms, 1, status="published", created=None)  # shown, and no time: a CMS fault
    w.poll()
    assert quarantined(w) == 1 and w.deliveries() == []
    unpublish(cms, 1, created=None)  # then taken back: nothing to fix any more
    w.poll()
    assert quarantined(w) == 0


def test_published_again_with_a_time_it_is_shown_and_not_alerted_twice(
    db: Database, cms: Cms
) -> None:
    w = make_world(db, cms.clock, source=cms.source())
    created = cms.clock() - timedelta(minutes=10)
    cms.put(1, "published", created)
    w.poll()
    sent(w)
    unpublish(cms, 1, created=None)
    w.poll()
    assert w.feed_keys("rss") == []
    cms.clock.advance(seconds=5)
    cms.put(1, "published", created)
    w.poll()
    assert w.feed_keys("rss") == ["1.html"]
    assert held(w, 1) == (None, None)
    assert [state for _, state, _ in w.deliveries()] == ["sent"]  # one per (chat, article)


def test_unpublished_rows_are_not_read_again_at_every_poll(db: Database, cms: Cms) -> None:
    """A reviewer's: such a row was held nowhere, so the overlap window took it for a late
    commit and read and wrote it again at every poll while the cursor stayed near it."""
    w = make_world(db, cms.clock, source=cms.source())
    cms.put(1, "published", cms.clock() - timedelta(minutes=10))
    w.poll()
    unpublish(cms, 1, created=None)  # withdrawn
    cms.put(2, "draft", cms.clock() - timedelta(minutes=10))
    unpublish(cms, 2, created=None)  # never shown
    assert w.ing.tick().read == 2
    for _ in range(3):
        cms.clock.advance(seconds=2)
        assert w.ing.tick().read == 0
    assert quarantined(w) == 0


def test_an_article_stored_before_row_ids_were_kept_is_withdrawn_by_its_key(
    db: Database, cms: Cms
) -> None:
    w = make_world(db, cms.clock, source=cms.source())
    cms.put(1, "published", cms.clock() - timedelta(minutes=10))
    cms.put(2, "published", cms.clock() - timedelta(minutes=10))
    w.poll()
    with db.write() as conn:  # as an article stored before migration 0003 kept row ids
        conn.execute(update(articles).values(source_id=None))
    unpublish(cms, 1, created=None)
    w.poll()
    assert held(w, 1)[1] == "draft" and held(w, 2) == (None, None)
    assert w.feed_keys("rss") == ["2.html"]


def test_source_check_shows_such_a_draft_as_not_visible_not_rejected(tmp_path: Path) -> None:
    """``source check`` said "REJECTED … published_at: is required" of the row ingest now
    takes as a draft; every row of a sample of such drafts made it exit 2."""
    import sqlite3

    from source_checks import run_check

    cms = tmp_path / "cms.db"
    with sqlite3.connect(cms) as conn:
        conn.execute(
            "CREATE TABLE news (id INTEGER PRIMARY KEY, slug TEXT, link TEXT, title TEXT,"
            " status TEXT, pub TIMESTAMP NULL, modified TIMESTAMP)"
        )
        conn.execute("INSERT INTO news VALUES (1, 'b', 'https://e.vn/2', 'Tin', 'draft', NULL,"
                     " '2026-12-05 08:02:00')")  # fmt: skip
    result = run_check(tmp_path, f"sqlite:///{cms}", "news", {
        "cursor": "modified", "source_key": "slug", "url": "link", "title": "title",
        "published_at": "pub", "visible": "status = 'published'",
    })  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "id=1 cursor=2026-12-05 08:02:00: NOT VISIBLE, its values not read" in result.output
    assert "REJECTED" not in result.output
    assert "0 shown now, 0 scheduled, 1 not visible, 0 rejected" in result.output
