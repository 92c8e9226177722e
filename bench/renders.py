"""Feeds-sync work after an ingest: topics rendered and CPU time of the sync that follows.

After an ingest of ``--articles`` articles naming ``--per`` of ``--topics`` place topics each,
the publisher that rendered them at ingest runs its next ``sync()``. Measured side by side in
the same rounds on one state DB: this publisher (``feedsvc.touched`` remembers what ingest
rendered: nothing to render again) and one that remembers nothing (what the code before
2026-11-30 did; a replica, which did not ingest, still renders once). Each round's clock is
moved past the previous round's sync window (an untimed sync in between), so the figure is
one ingest's; the old code also rendered an ingest's topics again at each later sync within
30 s at which anything else had changed.

    python bench/renders.py [--topics 2000] [--articles 200] [--per 3] [--rounds 5] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import PG_ADMIN, machine, postgres_or_skip, state_db
from matching import Generator

from feedsvc import metrics
from feedsvc.articles import Article
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.ingest import Ingestor
from feedsvc.publish import FeedPublisher
from feedsvc.source import builtin_source
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic
from feedsvc.topic_index import TopicIndex


class Clock:
    """The DB's clock, moved a minute per round (see the module docstring)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) - timedelta(days=1)

    def __call__(self) -> datetime:
        return self.now


def renders() -> float:
    """Topic renders in this process so far (all formats of one topic count once): the
    publisher's own render-time histogram, so the publishers are measured unwrapped."""
    count = metrics.REGISTRY.get_sample_value(
        "feedsvc_feed_render_seconds_count", {"format": "all"}
    )
    return count or 0.0


def run(db: Database, args: argparse.Namespace) -> dict[str, list[tuple[float, int]]]:
    """(CPU seconds, topics rendered) of each publisher's sync after each round's ingest."""
    clock = Clock()
    db.now = clock  # type: ignore[method-assign]
    gen, rng = Generator(seed=5), random.Random(5)
    places = gen.places[: args.topics]
    with db.write() as conn:
        for i, place in enumerate(places):
            save_topic(conn, TopicSpec(f"t{i}", place, f'"{place}"'), "cli", clock())
    settings = load_config(None, {"http": {"public_url": "https://feeds.example.vn"}})
    pubs = {"remembers (this code)": FeedPublisher(db, settings)}
    pubs["forgets (before 2026-11-30)"] = forgetful = FeedPublisher(db, settings)
    forgetful.touched._remember = lambda *_: None  # type: ignore[method-assign]
    ing = Ingestor(db, builtin_source(db.engine), TopicIndex(), tz=UTC, poll_seconds=1,
                   overlap_seconds=60, batch_size=args.articles)  # fmt: skip
    for pub in pubs.values():
        ing.after_commit.append(pub.on_ingest)
        pub.sync()
    out: dict[str, list[tuple[float, int]]] = {name: [] for name in pubs}
    for r in range(args.rounds):
        clock.now += timedelta(seconds=40)  # the previous round leaves the sync window
        for pub in pubs.values():
            pub.sync()
        clock.now += timedelta(seconds=20)
        items = []
        for n in range(args.articles):
            a = gen.article()
            named = ", ".join(rng.sample(places, args.per))
            items.append(Article(
                source_key=f"R{r}-{n}", url=f"https://baohaiphong.vn/tin/{r}-{n}.html",
                title=f"{a['title']} ({named})", summary=str(a["summary"]), body=str(a["body"]),
                published_at=clock() - timedelta(minutes=10),
            ))  # fmt: skip
        with db.write() as conn:
            upsert_source_articles(conn, items, clock())
        result = ing.tick()
        assert result.error is None and result.stored == args.articles, result
        order = list(pubs.items())
        for name, pub in order if r % 2 == 0 else order[::-1]:  # alternate who goes first
            before, t0 = renders(), time.process_time()
            pub.sync()
            out[name].append((time.process_time() - t0, int(renders() - before)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--topics", type=int, default=2000)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--per", type=int, default=3, help="topics each article names")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pg", default=PG_ADMIN, help="PostgreSQL URL ('' to skip)")
    args = parser.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    args.pg = postgres_or_skip(args.pg)
    print(f"{args.articles} articles per ingest, each naming {args.per} of {args.topics} topics; "
          f"{args.rounds} rounds; the sync right after each ingest")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("sqlite", "postgresql") if args.pg else ("sqlite",):
            with state_db(kind, Path(tmp), "renders", args.pg, Database) as db:
                figures = run(db, args)
            for name, runs in figures.items():
                cpu = statistics.median(c for c, _ in runs) * 1000
                topics = statistics.median(n for _, n in runs)
                print(f"{kind:<10} publisher that {name:<28} sync CPU median {cpu:8.1f} ms, "
                      f"topics rendered median {topics:5.0f}")  # fmt: skip
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
