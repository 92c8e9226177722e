"""SIGTERM while one topic's feed of multi-megabyte articles renders (#17 §2, #18).

Cleaning an article of ~1.9 MB (its visible text for the excerpt, its sanitised HTML) takes most
of a second, so a topic whose newest articles are all that big rendered for tens of seconds.
A SIGTERM just after a catch-up of such an archive (the tick's final render) or during the
start-up render waited for that one topic: the stop abandoned the ingest job after ~2.7 s and
exited 1. A render now stops at its next item; dropped whole, it is done again at the next
start (nothing records it as rendered), which the last run here checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from migrated import copy_template
from sqlalchemy import select
from test_ingest_first_sync import archive
from test_sigterm_work import add_topics, service_env, sigterm_when

from feedsvc.app import Roles, Service
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.db.schema_service import feed_snapshots
from feedsvc.feeds import model

PARAGRAPH = (
    "<p>" + "Nội dung bài viết lưu trữ ở Kiến Thụy, tin tức Hải Phòng hôm nay. " * 40 + "</p>"
)
BODY = PARAGRAPH * (1_900_000 // len(PARAGRAPH))  # ~1.9 M characters (2.5 MB of UTF-8)
ROWS = 12  # one topic's render: ~10 s of cleaning, twice the shutdown budget


def stored_feed(db: Database, slug: str) -> str:
    with db.read() as conn:
        body = conn.execute(
            select(feed_snapshots.c.body).where(
                feed_snapshots.c.topic_slug == slug, feed_snapshots.c.format == "rss"
            )
        ).scalar_one_or_none()
    return "" if body is None else bytes(body).decode()


@pytest.mark.slow
def test_sigterm_during_the_render_of_huge_articles(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    assert copy_template(url)  # migrated (a new DB's migration is not the subject)
    db = Database(url)
    add_topics(db, 1)
    archive(db, ROWS, body=BODY)
    env = service_env(url)
    newest = f"https://baohaiphong.vn/tin/{ROWS - 1}.html"
    # 1. just after the catch-up: the tick's render of the topic is under way
    code, took, log = sigterm_when(tmp_path, env, "caught up", 300)
    assert (code, "abandon" in log, "Traceback" in log) == (0, False, False), log[-3000:]
    assert took <= 5.0, f"took {took:.1f} s\n{log[-3000:]}"
    assert newest not in stored_feed(db, "t00000")  # it was stopped, not finished
    # 2. during the start-up render, which the next start does for it
    code, took, log = sigterm_when(tmp_path, env, "pages of 1 topics (", 300)
    urgent = ("rendering the feeds and pages of 1 topics", "(first rendering the 1 changed since")
    assert any(line in log for line in urgent), log[-3000:]  # it knows the topic is not done
    assert (code, "feedsvc started" in log, "Traceback" in log) == (0, False, False), log[-3000:]
    assert took <= 5.0, f"took {took:.1f} s\n{log[-3000:]}"
    # 3. left alone, a start renders it: dropping a render lost nothing
    code, took, log = sigterm_when(tmp_path, env, "feedsvc started", 300)
    assert code == 0 and took <= 5.0, log[-3000:]
    assert newest in stored_feed(db, "t00000"), log[-3000:]
    db.dispose()


def test_a_render_stops_at_its_next_item(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In one process: a stop asked while a topic's third article is cleaned ends the render
    there; nothing of that topic is stored or taken as rendered (the next start renders it)."""
    settings = load_config(None, {
        "database": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
        "topics": {"import_on_start": False},
        "source": {"match_workers": 0},
    })  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False, http=False))
    service.prepare()
    add_topics(service.db, 2)
    archive(service.db, 20)
    assert service.ingest_tick().new == 20
    cleaned: list[str] = []
    real = model.ITEMS.get

    def clean(site_url: str, article: Any, language: str, prepare: Any) -> Any:
        cleaned.append(article.source_key)
        if len(cleaned) == 3:
            service.interrupt()  # what SIGTERM does
        return real(site_url, article, language, prepare)

    model.clear_item_cache()
    monkeypatch.setattr(model.ITEMS, "get", clean)
    before = stored_feed(service.db, "t00000")
    service.publisher.refresh(["t00000", "t00001"])
    assert len(cleaned) == 3  # not the topic's 20, nor the next topic's
    assert stored_feed(service.db, "t00000") == before
    assert "t00000" not in service.publisher._rendered_versions
    service.close()
