"""A topic preview's "of all N" counts public articles (attack F6): ``topics preview`` said
"1 of all 4 stored articles match" with 3 of the 4 scheduled, hidden or withdrawn; its samples
and count were public only, the N was every stored row. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import article
from lifecycle_world import World, make_world

from feedsvc.catalogue import CATALOGUE
from feedsvc.db import Database
from feedsvc.lifecycle.editors import hide_article
from feedsvc.preview import preview


def four_stored_one_public(w: World) -> None:
    """TEST-00001 public; 2 scheduled for tomorrow; 3 hidden by an editor; 4 withdrawn."""
    t0 = w.clock()
    w.publish(
        article(1, published_at=t0 - timedelta(hours=1)),
        article(2, published_at=t0 + timedelta(days=1)),
        article(3, published_at=t0 - timedelta(hours=2)),
        article(4, published_at=t0 - timedelta(hours=3), withdrawn=True),
    )
    hide_article(w.db, "TEST-00003", None, "cli")


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ('"Kiến Thụy"', "1 of all 1 published articles matches"),  # through the search index
        ("trộm", "1 of all 1 published articles matches"),
        ('"Kiến Thụy" OR ٣', "1 of the 1 latest published articles matches"),  # newest scan
        ('"bóng đá"', "0 of all 1 published articles match"),
    ],
)
def test_of_all_counts_public_articles(db: Database, query: str, said: str) -> None:
    w = make_world(db)
    four_stored_one_public(w)
    result = preview(w.db, query)
    matched = ["TEST-00001"] if said[0] == "1" else []
    assert (result.count, result.scanned) == (len(matched), 1)  # was "of all 4" (or 3)
    assert [s.stored.article.source_key for s in result.samples] == matched
    assert result.english() == said


def test_a_scheduled_article_counts_once_its_time_came(db: Database) -> None:
    w = make_world(db)
    four_stored_one_public(w)
    w.clock.advance(days=1, minutes=1)
    w.poll()
    result = preview(w.db, '"Kiến Thụy"')
    assert (result.count, result.scanned) == (2, 2)
    assert result.english() == "2 of all 2 published articles match"


def test_a_broad_terms_share_is_a_lower_bound_when_the_count_is(db: Database) -> None:
    """A preview cut at ``scan`` counts at least that many: its "too broad" warning said
    "matches 2000 of all 6050 (33%)" where 6,008 (99%) matched (a tester's report). It now
    says "at least" and "≥", in the CLI's and API's English and in the admin's words."""
    from test_search_index import store

    base = datetime.now(UTC) - timedelta(days=100)  # every one public (none scheduled)
    store(db, *(article(n, title=f"Tin giao thông số {n}", published_at=base + timedelta(days=n))
                for n in range(1, 60)))  # fmt: skip
    cut = preview(db, '"giao thông"', scan=20)
    assert (cut.count, cut.scanned, cut.exact) == (20, 59, False)
    [warning] = cut.warnings
    assert warning == (
        'term "giao thông" matches at least 20 of all 59 published articles (≥34%): too broad?'
    )
    whole = preview(db, '"giao thông"', scan=100)
    assert whole.exact and whole.warnings == [
        'term "giao thông" matches 59 of all 59 published articles (100%): too broad?'
    ]
    vi, en = CATALOGUE["warn.broad_term_least"]
    assert "ít nhất" in vi and "at least" in en
