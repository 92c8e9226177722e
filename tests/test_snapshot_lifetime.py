"""A replaced feed snapshot is freed at once by reference counting, not by the cyclic GC.

A snapshot that keeps itself alive through a reference cycle waits for a full collection
(which a process with few new container objects runs rarely), so every re-render left the old
bytes, their gzip copy and prepared replies behind for a while: a slow memory drift in a long
soak. Every test here runs with the cyclic collector disabled.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from factories import article, builtin_ingestor
from starlette.datastructures import Headers

from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.publish import FeedPublisher
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic
from feedsvc.web.fast_path import FeedFastPath
from feedsvc.web.http_cache import make_snapshot, replies, snapshot_response

REQUESTS = [  # (method, accept-encoding, if-none-match, if-modified-since)
    ("GET", None, None, None),
    ("GET", "gzip", None, None),
    ("HEAD", "gzip, br", None, None),
    ("GET", "gzip", "*", None),
    ("GET", None, None, "Wed, 15 Dec 2021 03:34:00 GMT"),
]


@pytest.fixture(autouse=True)
def no_cyclic_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_a_served_snapshot_is_freed_by_refcount() -> None:
    body = b"<rss>" + b"x" * 4096 + b"</rss>"
    snap = make_snapshot(body, "application/rss+xml", datetime.now(UTC))
    for max_age in (0, 300):  # two prepared reply sets
        for method, ae, inm, ims in REQUESTS:
            replies(snap, max_age).reply(method, ae, inm, ims)
    snapshot_response(snap, Headers({"accept-encoding": "gzip"}), "GET", 60)
    ref = weakref.ref(snap)
    del snap
    assert ref() is None, "the snapshot is kept alive by a reference cycle"


def test_a_replaced_topic_feed_is_freed_by_refcount(db: Database) -> None:
    now = datetime.now(UTC)
    with db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"', ""), "cli", now)
    settings = load_config(None, {"http": {"public_url": "https://feeds.example.vn"}})
    publisher = FeedPublisher(db, settings)
    ingestor = builtin_ingestor(db)
    ingestor.after_commit.append(publisher.on_ingest)
    publisher.sync()
    fast = FeedFastPath(lambda *a: None, publisher, 300)  # type: ignore[arg-type]

    def poll_all() -> None:
        for fmt in ("rss", "atom", "json"):
            for method, ae, inm, ims in REQUESTS:
                headers = [(b"accept-encoding", ae.encode())] if ae else []
                headers += [(b"if-none-match", inm.encode())] if inm else []
                headers += [(b"if-modified-since", ims.encode())] if ims else []
                assert fast.answer(method, f"/feeds/kien-thuy.{fmt}", b"", headers) is not None

    refs = []
    for n in range(1, 4):
        with db.write() as conn:
            upsert_source_articles(conn, [article(n)], datetime.now(UTC))
        assert ingestor.tick().error is None
        poll_all()
        current = [publisher.snapshot("kien-thuy", f, 50) for f in ("rss", "atom", "json")]
        refs.append([weakref.ref(s) for s in current if s is not None])
        del current
    assert len(refs[0]) == 3
    for older in refs[:-1]:  # replaced by a later render
        assert [r() for r in older] == [None, None, None]
    assert all(r() is not None for r in refs[-1])  # the current one is still served
