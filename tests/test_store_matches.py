"""Article-topic matches written through the driver's executemany (``store.topics``
``_insert_matches``, issue 17 §2) are stored exactly as SQLAlchemy's own insert stores them, on
SQLite and PostgreSQL, and read back as written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factories import article
from sqlalchemy import insert, select

from feedsvc.db import Database
from feedsvc.db.schema import article_topics
from feedsvc.store.articles import SourcePosition, insert_articles
from feedsvc.store.topics import (
    TopicSpec,
    add_topic_matches,
    get_topic,
    save_topic,
    store_matches,
)

NOW = datetime(2026, 11, 30, 6, 1, 2, 345678, tzinfo=UTC)
TERMS = ["Kiến Thụy", 'công "an"']


def _setup(db: Database) -> tuple[list[int], int, int]:
    with db.write() as conn:
        for slug in ("kt", "other"):
            save_topic(conn, TopicSpec(slug, slug, f'"{slug}"'), "cli", NOW)
        ids = insert_articles(
            conn, [(article(n), "k", SourcePosition(NOW, str(n))) for n in range(1, 5)], NOW
        )
        kt, other = get_topic(conn, "kt"), get_topic(conn, "other")
    assert kt is not None and other is not None
    return ids, kt.id, other.id


def _stored(db: Database) -> dict[tuple[int, int], tuple[str, str]]:
    """Each row's terms and time as the database's own text."""
    with db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT article_id, topic_id, CAST(terms AS TEXT), CAST(matched_at AS TEXT) "
            "FROM article_topics"
        ).all()
    return {(a, t): (terms, at) for a, t, terms, at in rows}


def test_matches_are_stored_as_sqlalchemy_stores_them(db: Database) -> None:
    ids, kt, other = _setup(db)
    with db.write() as conn:
        store_matches(conn, {ids[0]: {kt: TERMS, other: ["x"]}, ids[1]: {kt: TERMS}}, NOW)
        add_topic_matches(conn, other, {ids[1]: ["y"], ids[2]: TERMS}, NOW)
        conn.execute(  # the reference: SQLAlchemy's own insert of the same values
            insert(article_topics),
            [{"article_id": ids[3], "topic_id": kt, "terms": TERMS, "matched_at": NOW}],
        )
    stored = _stored(db)
    reference = stored[(ids[3], kt)]
    assert stored[(ids[0], kt)] == stored[(ids[1], kt)] == stored[(ids[2], other)] == reference
    with db.read() as conn:
        back = {
            (a, t): (terms, at) for a, t, terms, at in conn.execute(select(article_topics)).tuples()
        }
    assert back[(ids[0], kt)] == (TERMS, NOW) and back[(ids[0], other)] == (["x"], NOW)
    assert back[(ids[1], other)] == (["y"], NOW) and len(back) == 6


def test_replaced_matches_leave_only_the_new_ones(db: Database) -> None:
    ids, kt, other = _setup(db)
    later = NOW + timedelta(minutes=5)
    with db.write() as conn:
        store_matches(conn, {ids[0]: {kt: TERMS, other: ["x"]}, ids[1]: {kt: TERMS}}, NOW)
        store_matches(conn, {ids[0]: {other: ["y"]}}, later, replace=[ids[0]])
        store_matches(conn, {}, later)  # nothing to write: no statement
    with db.read() as conn:
        rows = sorted(conn.execute(select(article_topics)).tuples())
    assert rows == sorted([(ids[0], other, ["y"], later), (ids[1], kt, TERMS, NOW)])


def test_a_whole_second_is_stored_as_sqlalchemy_stores_it(db: Database) -> None:
    """``matched_at`` went to sqlite3's own datetime adapter, which leaves out ``.000000`` at a
    whole second: as text it sorted before the same instant as SQLAlchemy binds it, so a
    ``matched_at >= that instant`` bound missed the row (SQLite)."""
    ids, kt, _ = _setup(db)
    whole = NOW.replace(microsecond=0)
    with db.write() as conn:
        store_matches(conn, {ids[0]: {kt: TERMS}}, whole)
        conn.execute(
            insert(article_topics),
            [{"article_id": ids[1], "topic_id": kt, "terms": TERMS, "matched_at": whole}],
        )
    stored = _stored(db)
    assert stored[(ids[0], kt)] == stored[(ids[1], kt)]
