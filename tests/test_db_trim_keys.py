"""Migration 0019: stored source keys trimmed by the parser's rule, duplicates merged.

The parser trims ``source_key`` now; an article stored by an older version as ``" abc "`` became
a SECOND article at its next edit (the trimmed ``"abc"`` did not find it). 0019 trims the keys
already stored (articles, the built-in source table, the quarantine) with the one rule,
:func:`feedsvc.keys.trim_key`; where both ``" abc"`` and ``"abc"`` are stored, the newer
version survives and takes the other's matches and alerts (a chat keeps one alert, the one it
got). Each test fills a state DB stopped at 0018 (its tables are the current ones) and
upgrades it; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, func, insert, select, text
from upgrades import database_at

from feedsvc.articles import ArticleError, parse_article
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import (
    alert_followups,
    article_topics,
    articles,
    chats,
    deliveries,
    source_articles,
    topics,
)
from feedsvc.db.schema_ingest import ingest_quarantine
from feedsvc.db.schema_service import feed_watermark
from feedsvc.importer import import_articles
from feedsvc.keys import KEY_SPACE, Alert, Held, kept_alert, survivor, trim_key
from feedsvc.lifecycle import editors
from feedsvc.store.articles import FTS_TABLE, known_versions

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
#: whitespace kinds a CMS leaves around a key: space, tab, NBSP, line breaks, ideographic
#: space, a BOM, ZERO WIDTH SPACE, the Unicode line separator
SPACES = [" ", "\t", "\u00a0", "\r\n", "\u3000", "\ufeff", "\u200b", "\u2028", " \t\u00a0"]


def add_article(conn: Connection, key: str, version: datetime, **over: Any) -> int:
    values = {
        "source_key": key, "version": version, "url": "https://x.vn/1", "title": f"Tin {key!r}",
        "tags": [], "published_at": version - timedelta(hours=1), "search_text": "tin",
        "source_cursor": version, "first_seen_at": version, "last_changed_at": version, **over,
    }  # fmt: skip
    id_ = int(conn.execute(insert(articles).values(values).returning(articles.c.id)).scalar_one())
    if conn.dialect.name == "sqlite":  # the search index row ingest writes (no insert trigger)
        conn.execute(
            text(f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (:i, 'tin')"), {"i": id_}
        )
    return id_


def add_topic(conn: Connection, n: int) -> None:
    conn.execute(insert(topics).values(
        id=n, slug=f"t-{n}", title=f"T {n}", description="", query=f'"t{n}"', enabled=True,
        origin="cli", created_at=NOW, updated_at=NOW,
    ))  # fmt: skip


def match(conn: Connection, article_id: int, topic_id: int) -> None:
    conn.execute(
        insert(article_topics).values(
            article_id=article_id, topic_id=topic_id, terms=["t"], matched_at=NOW
        )
    )


def alert(conn: Connection, article_id: int, chat_id: int, state: str) -> int:
    if conn.execute(select(chats.c.chat_id).where(chats.c.chat_id == chat_id)).first() is None:
        conn.execute(insert(chats).values(
            chat_id=chat_id, type="private", title="P", created_at=NOW,
            channel="telegram", address=str(chat_id),
        ))  # fmt: skip
    sent = state == "sent"
    return int(conn.execute(insert(deliveries).values(
        chat_id=chat_id, article_id=article_id, topics=["T"], state=state, attempts=int(sent),
        ambiguous=0, plain_text=False, due_at=NOW, created_at=NOW,
        message_id=700 + chat_id if sent else None, finished_at=NOW if sent else None,
    ).returning(deliveries.c.id)).scalar_one())  # fmt: skip


def add_source_row(conn: Connection, key: str, updated: datetime) -> None:
    conn.execute(insert(source_articles).values(
        source_key=key, url="https://x.vn/1", title=f"Tin {key!r}", published_at=updated,
        updated_at=updated, changed_at=updated, withdrawn=False,
    ))  # fmt: skip


@pytest.fixture
def old(db_url: str) -> Any:
    db = database_at(db_url, "0018")
    yield db
    db.dispose()


def keys_of(db: Database, table: Any = articles) -> list[str]:
    with db.read() as conn:
        return sorted(conn.execute(select(table.c.source_key)).scalars())


@pytest.mark.parametrize("space", SPACES, ids=[repr(s) for s in SPACES])
def test_a_key_stored_with_whitespace_is_found_by_its_next_edit(old: Database, space: str) -> None:
    """The newcomer's case and its variants: ``" abc "`` (tab, NBSP, a line break, a BOM…)
    stored; after 0019 the next edit's trimmed key finds it: updated, not a second article."""
    with old.write() as conn:
        add_article(conn, f"{space}abc{space}", NOW - timedelta(days=3))
        add_source_row(conn, f"{space}abc{space}", NOW - timedelta(days=3))
    upgrade(old)
    assert keys_of(old) == ["abc"] and keys_of(old, source_articles) == ["abc"]
    edit = parse_article({
        "source_key": f"{space}abc{space}", "url": "https://x.vn/1", "title": "Tin sửa",
        "published_at": "2026-11-28T08:00:00+07:00", "updated_at": "2026-12-01T08:00:00+07:00",
    })  # fmt: skip
    assert edit.source_key == "abc"
    with old.read() as conn:
        assert list(known_versions(conn, [edit.source_key])) == ["abc"]  # was {}: a 2nd article
    report = import_articles(old, [(1, edit)], now=lambda: NOW)
    assert (report.counts.inserted, report.counts.updated) == (0, 1)  # was inserted 1
    assert keys_of(old, source_articles) == ["abc"]


def test_both_keys_stored_the_newer_survives_with_every_match_and_alert(
    old: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """``" abc"`` (older: matched topic 1, alerted chats 1 (sent) and 2, hidden by an editor)
    and ``"abc"`` (its next edit: topic 2, chats 1 (pending: the duplicate alert) and 3)."""
    with old.write() as conn:
        for n in (1, 2):
            add_topic(conn, n)
        spaced = add_article(
            conn, " abc", NOW - timedelta(days=2), hidden_at=NOW, hidden_reason="x", hidden_by="cli"
        )
        trimmed = add_article(conn, "abc", NOW - timedelta(days=1))
        add_article(conn, "other", NOW)
        match(conn, spaced, 1)
        match(conn, spaced, 2)
        match(conn, trimmed, 2)
        got = alert(conn, spaced, 1, "sent")
        moved = alert(conn, spaced, 2, "sent")
        duplicate = alert(conn, trimmed, 1, "pending")
        conn.execute(insert(alert_followups).values(
            delivery_id=duplicate, kind="correct", state="pending", due_at=NOW, attempts=0,
            created_at=NOW,
        ))  # fmt: skip
        third = alert(conn, trimmed, 3, "pending")
        conn.execute(insert(feed_watermark).values(
            name="feeds", rendered_through=NOW, fingerprint="f", topics_digest="d"
        ))  # fmt: skip
    with caplog.at_level(logging.INFO, logger="feedsvc.migrations"):
        upgrade(old)
    assert keys_of(old) == ["abc", "other"]
    with old.read() as conn:
        a = conn.execute(select(articles).where(articles.c.source_key == "abc")).one()
        assert a.id == trimmed and a.title == "Tin 'abc'"  # the newer version's content
        assert a.hidden_at is not None and a.hidden_by == "cli"  # the editor's hide kept
        assert a.first_seen_at == NOW - timedelta(days=2)
        held = conn.execute(select(article_topics.c.article_id, article_topics.c.topic_id))
        assert sorted(held.tuples()) == [(trimmed, 1), (trimmed, 2)]
        rows = conn.execute(select(deliveries.c.id, deliveries.c.article_id, deliveries.c.chat_id))
        assert sorted(rows.tuples()) == sorted(
            [(got, trimmed, 1), (moved, trimmed, 2), (third, trimmed, 3)]
        )  # chat 1 keeps the alert it got; the pending duplicate is gone with its follow-up
        assert conn.execute(select(func.count()).select_from(alert_followups)).scalar() == 0
        assert conn.execute(select(feed_watermark)).all() == []  # every feed renders again
    if old.dialect == "sqlite":  # the deleted article's search rows went with it
        with old.write() as conn:
            conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('integrity-check')"))
    [line] = [r.getMessage() for r in caplog.records if "articles:" in r.getMessage()]
    assert "1 row(s) merged" in line and "2 alert(s) moved" in line, line
    assert "1 alert(s) a chat had twice dropped" in line and "1 hide(s)" in line, line


@pytest.mark.parametrize("spaced_newer", [True, False])
def test_the_newer_version_survives_whichever_key_it_has(old: Database, spaced_newer: bool) -> None:
    older, newer = NOW - timedelta(days=2), NOW - timedelta(days=1)
    with old.write() as conn:
        spaced = add_article(conn, "abc\u00a0", newer if spaced_newer else older)
        also = add_article(conn, "\tabc", older)
        trimmed = add_article(conn, "abc", older if spaced_newer else newer)
        add_source_row(conn, "abc\u00a0", newer if spaced_newer else older)
        add_source_row(conn, "abc", older if spaced_newer else newer)
    upgrade(old)
    with old.read() as conn:
        [(id_, version)] = conn.execute(select(articles.c.id, articles.c.version)).tuples()
        [updated] = conn.execute(select(source_articles.c.updated_at)).scalars()
    assert (id_, version) == ((spaced, newer) if spaced_newer else (trimmed, newer))
    assert also != id_ and updated == newer
    assert keys_of(old) == ["abc"] and keys_of(old, source_articles) == ["abc"]


def test_an_article_names_the_source_row_kept(old: Database) -> None:
    """The same version in ``articles`` (the later write wins) but not in ``source_articles``
    (the spaced row is newer there): the kept article's ``source_id`` names the kept source
    row, else reconciliation would find its row gone and withdraw it."""
    with old.write() as conn:
        add_source_row(conn, "abc", NOW - timedelta(days=2))
        add_source_row(conn, " abc", NOW - timedelta(days=1))
        ids = dict(
            conn.execute(select(source_articles.c.source_key, source_articles.c.id)).tuples().all()
        )
        version = NOW - timedelta(days=1)
        add_article(conn, " abc", version, source_id=str(ids[" abc"]))
        add_article(
            conn, "abc", version, source_id=str(ids["abc"]), last_changed_at=NOW
        )  # written last: survives in articles
    upgrade(old)
    with old.read() as conn:
        [kept] = conn.execute(select(source_articles.c.id)).scalars()
        [source_id] = conn.execute(select(articles.c.source_id)).scalars()
    assert kept == ids[" abc"] and source_id == str(kept)


def test_quarantined_keys_are_trimmed_and_a_key_of_invisible_characters_left(
    old: Database,
) -> None:
    with old.write() as conn:
        conn.execute(insert(ingest_quarantine).values(
            source="builtin", source_id="7", source_key="\u3000p-7 ", source_cursor=NOW,
            stage="store", reason="r", first_seen_at=NOW, last_seen_at=NOW,
        ))  # fmt: skip
        add_article(conn, "\u200b", NOW)
    upgrade(old)
    assert keys_of(old, ingest_quarantine) == ["p-7"]
    assert keys_of(old) == ["\u200b"]  # no key to give it: left, and logged


def test_the_backend_finds_exactly_the_keys_the_rule_trims(old: Database) -> None:
    """The migration asks the backend (``trim``/``btrim`` over :data:`KEY_SPACE`) which keys
    need trimming: every character of the rule at either edge is found, and a character
    outside it (ZERO WIDTH NON-JOINER, a letter) is not."""
    keys = [f"{c}k{n}" for n, c in enumerate(KEY_SPACE)]
    keys += [f"k-{n}{c}" for n, c in enumerate(KEY_SPACE)]
    kept = ["\u200ck-zwnj", "k-inner\u00a0space", "k-plain"]
    with old.write() as conn:
        for key in keys + kept:
            add_article(conn, key, NOW)
    upgrade(old)
    assert keys_of(old) == sorted([trim_key(k) for k in keys] + kept)


# -- the one rule: parser, migration and lookups ------------------------------------------
def test_the_rule_is_python_whitespace_plus_invisible_edges() -> None:
    python_space = {chr(c) for c in range(0x110000) if chr(c).isspace()}
    assert set(KEY_SPACE) == python_space | {"\u200b", "\u2060", "\ufeff"}


@pytest.mark.parametrize("space", SPACES, ids=[repr(s) for s in SPACES])
def test_the_parser_and_the_editors_lookup_trim_alike(db: Database, space: str) -> None:
    record = {"url": f"{space}https://x.vn/1{space}", "title": "T", "published_at": "2026-12-01"}
    a = parse_article({**record, "source_key": f"{space}abc{space}"})
    assert (a.source_key, a.url) == ("abc", "https://x.vn/1")
    with db.write() as conn:
        add_article(conn, "abc", NOW)
    assert editors.hide_article(db, f"{space}abc{space}", None, "cli").source_key == "abc"


def test_a_key_of_invisible_characters_only_is_no_key() -> None:
    with pytest.raises(ArticleError, match="source_key: is required"):
        parse_article({"source_key": "\ufeff\u200b", "url": "https://x.vn/1", "title": "T",
                       "published_at": "2026-12-01"})  # fmt: skip


def test_survivor_follows_the_version_rule() -> None:
    def held(i: int, days: float, written: int = 0, trimmed: bool = False) -> Held:
        return Held(i, NOW + timedelta(days=days), False, NOW + timedelta(seconds=written), trimmed)

    assert survivor([held(1, -2), held(2, -1)], NOW).id == 2  # newer
    assert survivor([held(1, -1), held(2, -2)], NOW).id == 1
    assert survivor([held(1, 30), held(2, -1)], NOW).id == 2  # 30 days ahead: not believed
    assert survivor([held(1, -1, 5), held(2, -1, 1, True)], NOW).id == 1  # same: last written
    assert survivor([held(1, -1), held(2, -1, 0, True)], NOW).id == 2  # then the trimmed one
    scheduled = Held(3, NOW + timedelta(hours=5), False, NOW, False, NOW + timedelta(hours=5))
    assert survivor([scheduled, held(4, -1)], NOW).id == 4  # its own time is no edit time
    assert survivor([held(4, -1), scheduled], NOW).id == 4


def test_kept_alert_prefers_the_one_the_chat_got() -> None:
    assert kept_alert(Alert(1, True, False), Alert(2, False, True)).id == 1
    assert kept_alert(Alert(1, False, False), Alert(2, False, True)).id == 2
    assert kept_alert(Alert(1, True, False), Alert(2, True, True)).id == 2
