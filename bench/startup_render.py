"""The start-up render: a publisher's first sync at many topics, new and after a restart.

Until ``feedsvc.warm_start``, every start rendered every topic's feeds and pages before HTTP
served (issue 17 §2: tens of seconds at 5,000 topics). Builds an SQLite state DB with
``--topics`` place topics and ``--articles`` ingested articles naming three each (topics and
articles dated two hours back, as an archive is at a restart), then times first syncs of a new
publisher: with nothing stored, twice as after a restart (every snapshot stored), after an edit
while stopped (one article written: its three topics render first, found by their match rows and
in the stored feeds) and after a takedown while stopped (one article hidden: its three topics and
the index page render first); then, on the last publisher with its background pass done, one
sync after a takedown while running (its topics and the index page).
Run it with another checkout first on the path to compare (``PYTHONPATH=/path/to/old python
bench/startup_render.py``), one after the other on a quiet machine.

    python bench/startup_render.py [--topics 1000] [--articles 600]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine
from matching import Generator

import feedsvc
from feedsvc.articles import Article
from feedsvc.config import load_config
from feedsvc.db import Database, upgrade
from feedsvc.ingest import Ingestor
from feedsvc.publish import FeedPublisher
from feedsvc.source import builtin_source
from feedsvc.store.lifecycle import set_hidden
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic
from feedsvc.topic_index import TopicIndex


def fill(db: Database, topics: int, articles: int) -> None:
    gen, rng = Generator(seed=5), random.Random(5)
    places, now = gen.places[:topics], datetime.now(UTC) - timedelta(hours=2)
    with db.write() as conn:
        for i, place in enumerate(places):
            save_topic(conn, TopicSpec(f"t{i}", place, f'"{place}"'), "cli", now)
    items = []
    for n in range(articles):
        a = gen.article()
        items.append(Article(
            source_key=f"K{n}", url=f"https://baohaiphong.vn/tin/{n}.html",
            title=f"{a['title']} ({', '.join(rng.sample(places, 3))})", summary=str(a["summary"]),
            body=str(a["body"]), published_at=now - timedelta(hours=1),
        ))  # fmt: skip
    ingest_all(db, items, now)


def ingest_all(db: Database, items: list[Article], now: datetime) -> None:
    """``items`` into the built-in source and ingested to the end, dated ``now`` (two hours
    ago in these benches: ingested then, not seconds before the first start)."""
    with db.write() as conn:
        upsert_source_articles(conn, items, now)
    ingestor = Ingestor(db, builtin_source(db.engine), TopicIndex(), tz=UTC, poll_seconds=1,
                        overlap_seconds=60, batch_size=500)  # fmt: skip
    while ingestor.tick().stored:
        pass
    with db.write() as conn:
        conn.exec_driver_sql(
            "UPDATE articles SET last_changed_at = ?, first_seen_at = ?", (now, now)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--topics", type=int, default=1000)
    parser.add_argument("--articles", type=int, default=600)
    args = parser.parse_args()
    code = Path(feedsvc.__file__).parent.parent
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}; feedsvc from {code}")
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/state.db")
        upgrade(db)
        fill(db, args.topics, args.articles)
        settings = load_config(None, {"http": {"public_url": "https://feeds.example.vn"}})
        labels = (
            "new (nothing stored)",
            "restart (all stored)",
            "restart again",
            "edit",
            "takedown",
        )
        for label in labels:
            if label == "edit":  # one article written while stopped: its topics, and (since the
                # restart reads the stored feeds for it) every topic's stored JSON feed
                with db.write() as conn:
                    conn.exec_driver_sql(
                        "UPDATE articles SET last_changed_at = ? WHERE source_key = 'K8'",
                        (datetime.now(UTC),),
                    )
            if label == "takedown":
                with db.write() as conn:
                    set_hidden(conn, "K7", True, datetime.now(UTC), "bench")
            publisher = FeedPublisher(db, settings)
            wall, cpu = time.perf_counter(), time.process_time()
            publisher.sync()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"first sync, {label:<22} {args.topics} topics: wall {wall:6.2f} s, "
                  f"CPU {cpu:6.2f} s")  # fmt: skip
        while not publisher.verification.done:  # the background pass, not timed
            publisher.verification.run(publisher._verify, threading.Event())
        with db.write() as conn:  # a takedown while running: its topics and the index page
            set_hidden(conn, "K9", True, datetime.now(UTC), "bench")
        wall, cpu = time.perf_counter(), time.process_time()
        publisher.sync()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"a sync after a takedown while running, {args.topics} topics: wall {wall:6.2f} s, "
              f"CPU {cpu:6.2f} s")  # fmt: skip
        db.dispose()
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
