"""Every message call against the one send budget: what reaches the fake Bot API in any second.

Two scenarios at ``telegram.global_rate`` (``--rate``, default the shipped 25/s), against the
fake from tests/ (loopback only), which answers 429 past Telegram's ~30 messages a second
(``Limit(30, 1.0)``):

* ``replies``: alerts to 150 private chats flow (one dispatcher, SQLite); once 25 went out, 30
  users send ``/help`` at once to the bot (the real python-telegram-bot poller in the same
  process, as ``feedsvc run``);
* ``photos``: ``telegram.images`` on, 100 chats that refuse photos (each alert: a photo, then
  its text), two dispatchers on one PostgreSQL state DB (replicas: separate senders and gates).

Printed per checkout (each in its own process, the code from ``PYTHONPATH``): the most message
calls in any 1.0 s window, the 429s the fake answered, how long the replies took and how many
never came (a reply answered 429 is not sent again).

    python bench/send_budget.py [--rate 25] [--baseline /path/to/checkout] [--pg URL | --pg '']

The fake runs in a thread of the measuring process and the replicas share its event loop: on a
loaded machine the process, not the budget, can bound the rate (compare ``calls / drain_s``
with ``--rate``); a lower ``--rate`` keeps the budget the bound.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "tests"))
from common import PG_ADMIN, machine, postgres_or_skip, state_db  # noqa: E402
from fakebot import FakeBotAPI, Fault, Limit, most_in_window  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from feedsvc.db import Database  # noqa: E402
from feedsvc.db.schema import articles, deliveries  # noqa: E402

MESSAGE_CALLS = ("sendmessage", "sendphoto", "editmessagereplymarkup", "editmessagetext")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def queue(db: Database, chats: list[int], photo: bool) -> None:
    from feedsvc.store import deliveries as q
    from feedsvc.store import topics as topic_store
    from feedsvc.store.records import TopicSpec
    from feedsvc.store.subscriptions import ensure_chat, subscribe

    with db.write() as conn:
        conn.execute(
            insert(articles).values(
                source_key="B1", version=NOW, url="https://example.vn/tin/1.html",
                title="Tin đo ngân sách gửi", tags=[], published_at=datetime.now(UTC),
                image_url="https://example.vn/anh/1.jpg" if photo else None,
                source_cursor=NOW, first_seen_at=NOW, last_changed_at=NOW,
            )
        )  # fmt: skip
        (article,) = conn.execute(select(articles.c.id)).scalars()
        # each chat follows a topic the article matches: an alert nobody wants is never sent
        topic_store.save_topic(conn, TopicSpec("tin", "Tin", "tin"), "cli", NOW)
        topic = topic_store.get_topic(conn, "tin")
        assert topic is not None
        topic_store.add_topic_matches(conn, topic.id, {article: ["tin"]}, NOW)
        for chat in chats:
            ensure_chat(conn, chat, "private", None, NOW)
            subscribe(conn, chat, topic_id=topic.id, query=None, now=NOW)
        rows = [{"chat_id": c, "article_id": article, "topics": ["Tin"], "state": "pending",
                 "due_at": NOW, "created_at": NOW} for c in chats]  # fmt: skip
        q.enqueue(conn, rows)


def sent(db: Database) -> int:
    with db.read() as conn:
        return len(conn.execute(select(deliveries.c.id).where(deliveries.c.state == "sent")).all())


async def until(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.02)


def figures(fake: FakeBotAPI) -> dict[str, Any]:
    calls = [c for c in fake.calls if c.method in MESSAGE_CALLS]
    return {
        "max_per_1s": most_in_window([c.at for c in calls], 1.0),
        "calls": len(calls),
        "http_429": sum(c.status == 429 for c in calls),
    }


async def replies(tmp: Path, rate: float) -> dict[str, Any]:
    from factories import VN

    from feedsvc.bot import BotService
    from feedsvc.channels.telegram import TelegramChannel
    from feedsvc.config import Settings, TelegramSettings
    from feedsvc.dispatch import Dispatcher, DispatchSettings
    from feedsvc.notify import TelegramSender

    alerted, users = [5000 + i for i in range(150)], [9000 + i for i in range(30)]
    with (
        state_db("sqlite", tmp, "replies", "", Database) as db,
        FakeBotAPI(enforce_pacing=True, global_limit=Limit(30, 1.0)) as fake,
    ):
        queue(db, alerted, photo=False)
        async with TelegramSender(fake.token, base_url=fake.base_url) as sender:
            channel = TelegramChannel(sender, VN)
            cfg = DispatchSettings(global_rate=rate, poll_seconds=0.05)
            d = Dispatcher(db, channel, VN, cfg, owner="b")
            settings = Settings(telegram=TelegramSettings(
                token=SecretStr(fake.token), base_url=fake.base_url, global_rate=rate,
                user_command_burst=1000, chat_command_burst=1000,
            ))  # fmt: skip
            kw: dict[str, Any] = {"poll_timeout": 1, "standby_seconds": 0.05}
            if "budget" in inspect.signature(BotService).parameters:
                kw["budget"] = d.budget  # one process: one budget, one gate
            bot = BotService(db, settings, **kw)
            await bot.start()
            await until(lambda: bot.polling, 10)
            task = asyncio.create_task(d.run())
            await until(lambda: len(fake.all_messages) >= rate, 20)
            asked = time.monotonic()
            for user in users:
                fake.user_sends(user, user, "/help")
            with contextlib.suppress(TimeoutError):  # a reply answered 429 never comes
                await until(lambda: all(fake.messages(u) for u in users), 20)
            waits = sorted(fake.messages(u)[0].at - asked for u in users if fake.messages(u))
            await until(lambda: sent(db) == len(alerted), 60)
            d.stop()
            await task
            await bot.stop()
    return figures(fake) | {
        "replies_lost": len(users) - len(waits),
        "reply_p50_s": round(statistics.median(waits), 2), "reply_max_s": round(waits[-1], 2),
    }  # fmt: skip


async def photos(pg: str, tmp: Path, rate: float) -> dict[str, Any]:
    from factories import VN

    from feedsvc.channels.telegram import TelegramChannel
    from feedsvc.dispatch import Dispatcher, DispatchSettings
    from feedsvc.notify import TelegramSender

    chats = [6000 + i for i in range(100)]
    with (
        state_db("postgresql", tmp, "photos", pg, Database) as db,
        FakeBotAPI(enforce_pacing=True, global_limit=Limit(30, 1.0)) as fake,
    ):
        queue(db, chats, photo=True)
        for chat in chats:
            fake.script(chat, Fault.photo_rejected())
        senders = [TelegramSender(fake.token, base_url=fake.base_url) for _ in range(2)]
        for s in senders:
            await s.start()
        ds = [
            Dispatcher(db, TelegramChannel(s, VN, images=True), VN,
                       DispatchSettings(global_rate=rate, poll_seconds=0.05), owner=f"r{i}")
            for i, s in enumerate(senders)
        ]  # fmt: skip
        tasks = [asyncio.create_task(d.run()) for d in ds]
        started = time.monotonic()
        await until(lambda: sent(db) == len(chats), 120)
        took = time.monotonic() - started
        for d in ds:
            d.stop()
        await asyncio.gather(*tasks)
        for s in senders:
            await s.close()
    return figures(fake) | {"drain_s": round(took, 1)}


def child(pg: str, rate: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = {"replies": asyncio.run(replies(Path(tmp), rate))}
        if pg:
            out["photos"] = asyncio.run(photos(pg, Path(tmp), rate))
    print(json.dumps(out))


def run(tree: Path, pg: str, rate: float) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", "--pg", pg, "--rate", str(rate)],
        env=env, cwd=tree, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, help="another checkout, measured alongside")
    parser.add_argument("--pg", default=PG_ADMIN, help="PostgreSQL for the photos scenario")
    parser.add_argument("--rate", type=float, default=25.0, help="telegram.global_rate")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.pg, args.rate)
    pg = postgres_or_skip(args.pg)
    print(machine())
    trees = [("this", ROOT)] + ([("baseline", args.baseline)] if args.baseline else [])
    for name, tree in trees:
        for scenario, found in run(tree, pg, args.rate).items():
            print(f"{name:9} {scenario:8} " + "  ".join(f"{k}={v}" for k, v in found.items()))


if __name__ == "__main__":
    main()
