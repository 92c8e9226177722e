"""The index page of ``/`` at many topics: the first ``/?q=`` search after a restart, and a
topic added or removed.

    PYTHONPATH=<checkout> python bench/index_changes.py [--topics 5000] [--articles 1000]
        [--db /tmp/index.db] [--rounds 5]

Builds (or reuses, ``--db``) an SQLite state DB with ``--topics`` topics (slugs ``t00000``…,
place names as titles) and ``--articles`` ingested articles naming three places each, rendered
once in full (the stored snapshots a restart serves; a minute or more at 5,000 topics, skipped
when ``--db`` already holds them). Then, with the code on ``PYTHONPATH``:

* restart (a new publisher's first sync: the stored index pages served as they are) and time
  the first ``/?q=`` search (wall, CPU), and how many topics' headlines it read;
* restart again, start the first search in a thread and, while it runs, one topic's render
  (ingest's ``refresh``): the render's wall time against the same render alone;
* after the restart's index rebuild: add a topic (its slug sorts in the middle of the list),
  render (``refresh()``), remove it, render; then the same at the list's start and end — wall
  and CPU milliseconds per add/remove, pages of ``/`` rendered and stored per change.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine
from matching import Generator
from startup_render import ingest_all

import feedsvc
import feedsvc.pages.listing as listing
import feedsvc.publish.index_pages as index_pages
import feedsvc.publish.rendered as rendered
from feedsvc.articles import Article
from feedsvc.config import Settings, load_config
from feedsvc.db import Database, upgrade
from feedsvc.publish import FeedPublisher
from feedsvc.store.topics import TopicSpec, delete_topic, save_topic

QUERY = "kien thuy"


def fill(db: Database, topics: int, articles: int) -> None:
    """Topics ``t00000``… (the one in the middle is "Kiến Thụy") and articles naming three."""
    gen, rng = Generator(seed=5), random.Random(5)
    now = datetime.now(UTC) - timedelta(hours=2)
    names = [
        "Kiến Thụy" if i == topics // 2 else f"{gen.places[i % len(gen.places)]} {i // 3000 + 1}"
        for i in range(topics)
    ]
    with db.write() as conn:
        for i, name in enumerate(names):
            save_topic(conn, TopicSpec(f"t{i:05d}", name, f'"{name}"'), "cli", now)
    items = [
        Article(
            source_key=f"K{n}", url=f"https://baohaiphong.vn/tin/{n}.html",
            title=f"Tin {n} ({', '.join(rng.sample(names, 3))})", summary="Tóm tắt",
            body="Nội dung", published_at=now - timedelta(hours=1),
        )
        for n in range(articles)
    ]  # fmt: skip
    ingest_all(db, items, now)


def restarted(db: Database, settings: Settings) -> FeedPublisher:
    publisher = FeedPublisher(db, settings)
    publisher.sync()
    return publisher


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall ms, CPU ms) of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3


class Counted:
    """Counts calls of a module function (pages rendered, topics whose headlines were read)."""

    def __init__(self, module: object, name: str, size: Callable[..., int]) -> None:
        self.module, self.name, self.size = module, name, size
        self.original = getattr(module, name)
        self.calls = self.items = 0
        setattr(module, name, self._call)

    def _call(self, *args: object, **kwargs: object) -> object:
        self.calls += 1
        self.items += self.size(*args, **kwargs)
        return self.original(*args, **kwargs)

    def reset(self) -> None:
        self.calls = self.items = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--topics", type=int, default=5000)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--db", type=Path, help="keep the state DB here (reused when present)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    code = Path(feedsvc.__file__).parent.parent
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}; feedsvc from {code}")
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "state.db"
        fresh = not path.exists()
        db = Database(f"sqlite:///{path}")
        settings = load_config(None, {"http": {"public_url": "https://feeds.example.vn"}})
        if fresh:
            upgrade(db)
            fill(db, args.topics, args.articles)
            first = restarted(db, settings)
            while not first.verification.done:
                first.verification.run(first._verify, threading.Event())
        pages = Counted(index_pages, "render_index_of", lambda *a, **k: 1)
        read = Counted(rendered, "topics_newest", lambda conn, ids, *a, **k: len(ids))

        firsts, reads = [], []
        for _ in range(args.rounds):
            publisher = restarted(db, settings)
            forget = getattr(listing, "topic_key", None)  # a new process keeps no topic keys
            if forget is not None:
                forget.cache_clear()
            read.reset()
            firsts.append(timed(lambda p=publisher: p.index_search(QUERY, 1)))  # type: ignore[misc]
            reads.append(read.items)
        print(f"first /?q={QUERY} after a restart, ms wall / CPU (median of {args.rounds}): "
              f"{_median(firsts)}; topics' headlines read: {reads[0]}")  # fmt: skip

        alone, beside = [], []
        for n in range(args.rounds):
            publisher = restarted(db, settings)
            slug = f"t{n * 7:05d}"
            alone.append(timed(lambda p=publisher, s=slug: p.refresh([s], index=False))[0])  # type: ignore[misc]
            publisher = restarted(db, settings)
            forget = getattr(listing, "topic_key", None)
            if forget is not None:
                forget.cache_clear()
            searching = threading.Thread(target=publisher.index_search, args=(QUERY, 1))
            searching.start()
            time.sleep(0.02)  # the search has started (a benchmark: a sleep is fine here)
            beside.append(timed(lambda p=publisher, s=slug: p.refresh([s], index=False))[0])  # type: ignore[misc]
            searching.join()
        print(f"one topic's render after a restart, ms wall (median of {args.rounds}): alone "
              f"{statistics.median(alone):.0f}, while the first search runs "
              f"{statistics.median(beside):.0f}")  # fmt: skip

        publisher = restarted(db, settings)
        publisher._verify([])  # the background pass's index rebuild
        now = datetime.now(UTC)
        for where, slug in (("middle", f"t{args.topics // 2:05d}a"), ("start", "t"),
                            ("end", "tz")):  # fmt: skip
            adds, removes, rendered_pages = [], [], []
            for _ in range(args.rounds):
                with db.write() as conn:
                    save_topic(conn, TopicSpec(slug, "Chủ đề mới", '"chủ đề mới"'), "cli", now)
                pages.reset()
                adds.append(timed(publisher.refresh))
                rendered_pages.append(pages.calls)
                with db.write() as conn:
                    delete_topic(conn, slug)
                pages.reset()
                removes.append(timed(publisher.refresh))
                rendered_pages.append(pages.calls)
            print(f"a topic added / removed at the list's {where:<6}: ms wall / CPU (median of "
                  f"{args.rounds}) add {_median(adds)}, remove {_median(removes)}; pages of / "
                  f"rendered per change: {sorted(set(rendered_pages))}")  # fmt: skip
        db.dispose()
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


def _median(pairs: list[tuple[float, float]]) -> str:
    wall, cpu = statistics.median(w for w, _ in pairs), statistics.median(c for _, c in pairs)
    return f"{wall:.0f} / {cpu:.0f}"


if __name__ == "__main__":
    main()
