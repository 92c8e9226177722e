"""Small builders for test articles (our own sample text, never the seeds)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from feedsvc.articles import Article

VN = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 11, 20, 10, 34, tzinfo=VN)


def clock_start() -> datetime:
    """Where a test's injected dispatcher clock starts: 30 s ahead of the real clock. The
    outbox dates each delivery due at the real time of its write; a dispatcher clock behind it
    holds and claims nothing. It started 1 s ahead, which a loaded CI machine's set-up and first
    ingest tick outran (``test_forum_thread_and_deleted_thread_fallback``: no message sent)."""
    return datetime.now(UTC) + timedelta(seconds=30)


def article(n: int = 1, **over: Any) -> Article:
    values: dict[str, Any] = {
        "source_key": f"TEST-{n:05d}",
        "url": f"https://example.vn/tin/{n}.html",
        "title": f"Công an Kiến Thụy bắt đối tượng trộm cắp số {n}",
        "summary": "Lực lượng công an nhanh chóng làm rõ vụ việc.",
        "body": "<p>Sáng nay, người dân xã Đoàn Xá phát hiện sự việc.</p>",
        "author": "Minh Châu",
        "section": "An ninh - Trật tự",
        "tags": ("An ninh - Trật tự",),
        "published_at": T0 + timedelta(minutes=n),
    }
    values.update(over)
    return Article(**values)


def jsonl(*items: Article | dict[str, Any] | str) -> str:
    lines = []
    for item in items:
        if isinstance(item, Article):
            lines.append(json.dumps(item.to_json(), ensure_ascii=False))
        elif isinstance(item, dict):
            lines.append(json.dumps(item, ensure_ascii=False))
        else:
            lines.append(item)
    return "\n".join(lines) + "\n"


def builtin_ingestor(db: Any, **overrides: Any) -> Any:
    """An Ingestor over the built-in source table with test-friendly defaults."""
    from feedsvc.ingest import Ingestor
    from feedsvc.source import builtin_source
    from feedsvc.topic_index import TopicIndex

    settings: dict[str, Any] = {
        "tz": VN,
        "poll_seconds": 1,
        "overlap_seconds": 300,
        "batch_size": 100,
        **overrides,
    }
    return Ingestor(db, builtin_source(db.engine), TopicIndex(), **settings)


def tick_changes(ing: Any) -> tuple[Any, list[Any]]:
    """One tick of ``ing`` and the changes it committed, collected through ``after_commit`` (a
    ``TickResult`` keeps counts only, so a long first sync does not hold every article)."""
    seen: list[Any] = []
    collect = seen.extend
    ing.after_commit.append(collect)
    try:
        result = ing.tick()
    finally:
        ing.after_commit.remove(collect)
    return result, seen


def insert_old_source_row(conn: Any, a: Article, changed_at: datetime) -> None:
    """A built-in source row as migrations before 0008 know it (no ``withdrawn`` column): for
    tests that fill a database at an old revision, where today's store would write too much."""
    from sqlalchemy import column, insert, table

    from feedsvc.db.schema import source_articles as today

    names = ("source_key", "url", "title", "summary", "body", "author", "section", "tags",
             "image_url", "published_at", "updated_at", "changed_at")  # fmt: skip
    old = table("source_articles", *(column(n, today.c[n].type) for n in names))
    values = {n: getattr(a, n, None) for n in names} | {
        "tags": list(a.tags),
        "changed_at": changed_at,
    }
    conn.execute(insert(old).values(values))


def followed(conn: Any, rows: list[dict[str, Any]], now: datetime) -> None:
    """What queues an alert in the service, for tests that queue deliveries ``rows`` directly:
    each chat subscribed to a topic ("tin") that each article matches. ``feedsvc.wanted``
    checks this before a send: an alert no subscription wants ends ``unsubscribed``."""
    from feedsvc.store import subscriptions as sub_store
    from feedsvc.store import topics as topic_store
    from feedsvc.store.records import TopicSpec

    topic = topic_store.get_topic(conn, "tin")
    if topic is None:
        topic_store.save_topic(conn, TopicSpec("tin", "Tin", "tin"), "cli", now)
        topic = topic_store.get_topic(conn, "tin")
    assert topic is not None
    for chat_id in {r["chat_id"] for r in rows}:
        sub_store.subscribe(conn, chat_id, topic_id=topic.id, query=None, now=now)
    held = topic_store.matched_among(conn, topic.id, [r["article_id"] for r in rows])
    hits = {r["article_id"]: ["tin"] for r in rows if r["article_id"] not in held}
    topic_store.add_topic_matches(conn, topic.id, hits, now)


#: Summaries as an emptied CMS field leaves them: markup, entities or characters that show
#: nothing (a zero-width space, a BOM, a soft hyphen, a Hangul filler, the Braille blank).
EMPTIED_SUMMARIES = [
    "<p>&nbsp;</p>", "<br/>", "\u200b", "<p>\u200b</p>", "&#8203;", "<p>&zwnj;</p>", "\ufeff",
    "\u2060\u2060", "&shy;", "<p>\u3164</p>", "\u2800", "<p>&nbsp;\u200b&nbsp;</p>", "&lrm;",
]  # fmt: skip
