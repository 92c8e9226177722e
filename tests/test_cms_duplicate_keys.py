"""Several CMS rows carrying one ``source_key`` (tester 3 F3): they are one article, the
newest version's row. Deleting that row withdrew the article as "deleted" although another
published row with the key remained, for good. Now the key is deleted only when no row
carries it: reconciliation hands the remaining rows to ingest, and the newest of them takes the
article over whatever its version. A row of the key that is not the held one's never moves
the article to itself (it used to, tying the article to the wrong row). ``source check`` warns
that the key column is not unique."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from cms_news import News, news
from lifecycle_world import World, make_world
from sqlalchemy import select

from feedsvc.db import Database
from feedsvc.db.schema import articles
from feedsvc.lifecycle.reconcile import Reconciler
from feedsvc.store.withdrawals import withdraw_deleted

__all__ = ["news"]  # the CMS table fixture, shared (cms_news)


def setup(db: Database, news: News, *rows: tuple[int, str, int]) -> tuple[World, Reconciler]:
    """Rows ``(id, key, minutes ago edited)``, published, read by one poll."""
    w = make_world(db, news.clock, source=news.source())
    for n, key, ago in rows:
        news.put(n, key, title=f"Kiến Thụy bản {n}", edited=news.clock() - timedelta(minutes=ago))
    w.poll()
    return w, Reconciler(db, w.ing.source, days=7, clock=news.clock, reread=w.ing.reread)


def held(w: World, key: str) -> tuple[str, str | None, str | None, bool]:
    """(title, source_id, withdrawn_reason, withdrawn) of the article ``key``."""
    with w.db.read() as conn:
        row = conn.execute(select(articles).where(articles.c.source_key == key)).one()
        return row.title, row.source_id, row.withdrawn_reason, row.withdrawn_at is not None


def test_the_newer_row_deleted_falls_back_to_the_remaining_one(db: Database, news: News) -> None:
    """The tester's case: ids 1 and 6 carry k1; 6 (newer) is held; 6 is deleted."""
    w, rec = setup(db, news, (1, "k1", 60), (6, "k1", 10))
    assert held(w, "k1") == ("Kiến Thụy bản 6", "6", None, False)
    news.delete(6)
    news.clock.advance(seconds=5)
    done = rec.run()
    assert (done.withdrawn, done.fallen_back) == ((), ("k1",))
    assert held(w, "k1") == ("Kiến Thụy bản 1", "1", None, False)
    w.poll()
    assert "1.html" in w.feed_keys("rss")
    assert len(w.deliveries()) == 1  # the chat had the article: not alerted again
    assert rec.run().withdrawn == ()  # and it stays


def test_three_rows_one_key_falls_back_to_the_newest_remaining(db: Database, news: News) -> None:
    w, rec = setup(db, news, (1, "k", 60), (2, "k", 5), (3, "k", 30), (9, "other", 1))
    assert held(w, "k")[1] == "2"
    news.delete(2)
    rec.run()
    assert held(w, "k") == ("Kiến Thụy bản 3", "3", None, False)
    news.delete(3)
    rec.run()
    assert held(w, "k") == ("Kiến Thụy bản 1", "1", None, False)
    news.delete(1)  # the last row of the key: now it is deleted
    done = rec.run()
    assert len(done.withdrawn) == 1 and done.fallen_back == ()
    assert held(w, "k")[2:] == ("deleted", True)


def test_equal_versions_the_held_row_deleted(db: Database, news: News) -> None:
    w, rec = setup(db, news, (1, "k", 10), (2, "k", 10))
    first = held(w, "k")[1]
    other = "2" if first == "1" else "1"
    news.delete(int(first or 0))
    rec.run()
    assert held(w, "k") == (f"Kiến Thụy bản {other}", other, None, False)


def test_the_remaining_row_a_draft_withdraws_as_a_draft(db: Database, news: News) -> None:
    w, rec = setup(db, news, (1, "k", 60), (2, "k", 5))
    news.put(1, status="draft")
    w.poll()
    news.delete(2)
    rec.run()
    assert held(w, "k") == ("Kiến Thụy bản 1", "1", "draft", True)


def test_a_loser_row_touched_does_not_take_the_article(db: Database, news: News) -> None:
    """Row 1 (older) is re-read after an edit that keeps its version: the article stays tied to
    row 6, so an edit of row 6 without a new version is still its correction."""
    w, _rec = setup(db, news, (1, "k", 60), (6, "k", 10))
    news.put(1, status="published")  # cursor moves, version stays older
    w.poll()
    assert held(w, "k")[:2] == ("Kiến Thụy bản 6", "6")
    news.put(6, title="Kiến Thụy bản 6 (đính chính)")
    w.poll()
    assert held(w, "k")[:2] == ("Kiến Thụy bản 6 (đính chính)", "6")


def test_withdrawn_as_deleted_earlier_comes_back_from_the_remaining_row(
    db: Database, news: News
) -> None:
    """An article withdrawn as deleted by the old rule while row 1 still carried its key (the
    tester's k1 after an upgrade) is taken over by row 1 at the next pass."""
    w, rec = setup(db, news, (1, "k1", 60), (6, "k1", 10))
    news.delete(6)
    with w.db.write() as conn:  # what the old pass did
        withdraw_deleted(conn, ["6"], news.clock() - timedelta(days=7), news.clock)
    assert held(w, "k1")[2:] == ("deleted", True)
    rec.run()
    assert held(w, "k1") == ("Kiến Thụy bản 1", "1", None, False)
    w.poll()
    assert "1.html" in w.feed_keys("rss")
    assert len(w.deliveries()) == 1


def test_key_lookups_on_the_source(db: Database, news: News) -> None:
    from feedsvc.source.recent import duplicate_keys, rows_with_keys

    w, _rec = setup(db, news, (1, "a", 5), (2, "a", 4), (3, "b", 3), (4, "c", 2), (5, "c", 1))
    source = w.ing.source
    assert rows_with_keys(source, ["a", "b", "x"]) == {"a": {"1", "2"}, "b": {"3"}}
    assert duplicate_keys(source, 10) == ["a", "c"]
    assert duplicate_keys(source, 1) == ["a"]
    assert duplicate_keys(source, 10, scan=2) == ["c"]  # the newest rows only: bounded


def test_remaining_is_the_other_rows_only() -> None:
    from feedsvc.lifecycle.reconcile import remaining

    assert remaining({"6": "k1", "7": "k2"}, {"k1": {"1", "6"}, "k2": {"7"}}) == {"k1": {"1"}}
    assert remaining({"6": "k1"}, {}) == {}


def test_source_check_warns_of_a_key_given_twice(db: Database, news: News, tmp_path: Path) -> None:
    from feedsvc.cli import cli

    if db.dialect != "sqlite":
        pytest.skip("the CLI reads its own SQLite state DB")
    news.put(1, "k1")
    news.put(6, "k1")
    news.put(7, "k7")
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"\n'
        f'[source]\nurl = "{news.url}"\ntable = "news"\n'
        '[source.columns]\ncursor = "modified"\nsource_key = "slug"\nurl = "link"\n'
        'title = "title"\npublished_at = "created"\nupdated_at = "edited"\n'
        "[topics]\nimport_on_start = false\n",
        encoding="utf-8",
    )
    out = CliRunner().invoke(cli, ["source", "check", "--config", str(config)])
    assert out.exit_code == 0, out.output
    line = next(x for x in out.output.splitlines() if "not unique" in x)
    assert "source_key = 'slug' is not unique" in line and "key k1;" in line, line
    news.delete(6)
    again = CliRunner().invoke(cli, ["source", "check", "--config", str(config)])
    assert again.exit_code == 0 and "not unique" not in again.output, again.output
