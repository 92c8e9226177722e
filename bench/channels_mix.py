"""Mixed fan-out over three channels (issue 14): 1,000 Telegram chats, 1,000 Zalo chats and 50
Apprise destinations subscribed to one topic, one article → 2,050 alerts. The real service
(`feedsvc run --no-http --no-bot`, SQLite) against the fakes from tests/ (loopback only): the fake
Bot API (enforcing Telegram's limits), the fake Zalo Bot API, a local JSON receiver for Apprise.

Scenarios, each measured over a fixed window after the first alert:
- healthy: each channel's own rate (goal: Telegram ≈ its global_rate 25/s with zero 429s, Zalo
  ≈ zalo.global_rate, Apprise ≈ 5/s);
- zalo-down + apprise-hung: Zalo answers 500 to every send, every Apprise destination hangs;
  goal: Telegram's rate as when healthy;
- telegram-down + apprise-hung: Telegram answers 500 to every send; goal: Zalo's rate as when
  healthy.

    python bench/alerts.py --mixed [--window 30] [--zalo-rate 20]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from fakebot import FakeBotAPI, Fault  # noqa: E402
from fakezalo import FakeZaloAPI, Limit  # noqa: E402
from receiver import Receiver  # noqa: E402

from feedsvc.articles import Article  # noqa: E402
from feedsvc.db import Database, upgrade  # noqa: E402
from feedsvc.store.source_articles import upsert_source_articles  # noqa: E402
from feedsvc.store.subscriptions import ensure_chat, ensure_recipient, subscribe  # noqa: E402
from feedsvc.store.topics import TopicSpec, get_topic, save_topic  # noqa: E402

TELEGRAM, ZALO, APPRISE = 1000, 1000, 50


def setup(url: str, hooks: Receiver) -> None:
    db = Database(url)
    upgrade(db)
    now = datetime.now(UTC)
    with db.write() as conn:
        save_topic(conn, TopicSpec("all", "Tất cả", '"công an"'), "cli", now)
        topic = get_topic(conn, "all")
        assert topic is not None
        ids = [ensure_chat(conn, 10_000 + n, "private", None, now).chat_id
               for n in range(TELEGRAM)]  # fmt: skip
        ids += [ensure_recipient(conn, "zalo", f"z{n}", "private", None, now).chat_id
                for n in range(ZALO)]  # fmt: skip
        ids += [ensure_recipient(conn, "apprise", hooks.url(f"h{n}"), "destination", None,
                                 now).chat_id for n in range(APPRISE)]  # fmt: skip
        for chat_id in ids:
            subscribe(conn, chat_id, topic_id=topic.id, query=None, now=now)
    db.dispose()


def rate(times: list[float], start: float, window: float) -> float:
    """Messages per second while the channel was sending within the window (first to last
    message in it): 50 Apprise alerts at 5/s take 10 s of a 30 s window."""
    inside = sorted(t for t in times if start <= t <= start + window)
    if len(inside) < 2:
        return 0.0
    return (len(inside) - 1) / (inside[-1] - inside[0])


Breaker = Callable[[FakeBotAPI, FakeZaloAPI, Receiver], None]


def scenario(
    work: Path, name: str, window: float, zalo_rate: float, break_it: Breaker
) -> dict[str, float]:
    """Run one scenario; returns each channel's rate (msg/s) over ``window`` seconds."""
    url = f"sqlite:///{work / f'{name}.db'}"
    zalo_fake = FakeZaloAPI(global_limit=Limit(int(zalo_rate), 1.0))
    with FakeBotAPI(enforce_pacing=True) as tg, zalo_fake as zalo, Receiver() as hooks:
        setup(url, hooks)
        break_it(tg, zalo, hooks)
        env = {**os.environ, "FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null",
               "FEEDSVC_TELEGRAM__TOKEN": tg.token, "FEEDSVC_TELEGRAM__BASE_URL": tg.base_url,
               "FEEDSVC_ZALO__TOKEN": zalo.token, "FEEDSVC_ZALO__BASE_URL": zalo.base_url,
               "FEEDSVC_ZALO__GLOBAL_RATE": str(zalo_rate), "FEEDSVC_SOURCE__POLL_SECONDS": "1",
               "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
               "FEEDSVC_LOG__LEVEL": "ERROR"}  # fmt: skip
        proc = subprocess.Popen([sys.executable, "-m", "feedsvc", "run", "--no-http", "--no-bot"],
                                env=env, cwd=work, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            db = Database(url)
            with db.write() as conn:
                item = Article(
                    source_key="MIX-1",
                    url="https://example.vn/tin/1.html",
                    title="Công an phường: tin thử",
                    published_at=datetime.now(UTC),
                )
                upsert_source_articles(conn, [item], datetime.now(UTC))
            db.dispose()
            start = time.monotonic()
            time.sleep(window + 5)  # a bench: the measurement window itself
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        firsts = [t for t in (
            min((m.at for m in tg.all_messages), default=None),
            min((m.at for m in zalo.all_messages()), default=None),
            min((r.at for r in hooks.all()), default=None),
        ) if t is not None]  # fmt: skip
        t0 = min(firsts, default=start) + 1.0  # from 1 s after the first alert of any channel
        out = {
            "telegram": rate([m.at for m in tg.all_messages], t0, window),
            "zalo": rate([m.at for m in zalo.all_messages()], t0, window),
            "apprise": rate([r.at for r in hooks.all()], t0, window),
            "telegram_429": float(sum(c.status == 429 for c in tg.calls)),
            "zalo_violations": float(len(zalo.violations)),
        }
        hooks.release.set()
    return out


def healthy(tg: FakeBotAPI, zalo: FakeZaloAPI, hooks: Receiver) -> None:
    pass


def zalo_down(tg: FakeBotAPI, zalo: FakeZaloAPI, hooks: Receiver) -> None:
    zalo.outage = 500
    hooks.hang.set()


def telegram_down(tg: FakeBotAPI, zalo: FakeZaloAPI, hooks: Receiver) -> None:
    for n in range(TELEGRAM):
        tg.script(10_000 + n, *[Fault.server_error()] * 20)
    hooks.hang.set()


def mixed(work: Path, window: float, zalo_rate: float) -> None:
    results = {}
    for name, fn in (("healthy", healthy), ("zalo-down+apprise-hung", zalo_down),
                     ("telegram-down+apprise-hung", telegram_down)):  # fmt: skip
        results[name] = r = scenario(work, name.replace("+", "_"), window, zalo_rate, fn)
        hooks = "hung" if "hung" in name else f"{r['apprise']:4.1f}/s"  # hung: no rate
        print(
            f"{name:28} telegram {r['telegram']:5.1f}/s ({r['telegram_429']:.0f} x 429)  "
            f"zalo {r['zalo']:5.1f}/s ({r['zalo_violations']:.0f} pacing violations)  "
            f"apprise {hooks}   [{window:.0f} s window]"
        )
    base = results["healthy"]
    print(
        f"Telegram under a Zalo outage and hung Apprise: "
        f"{results['zalo-down+apprise-hung']['telegram'] / base['telegram']:.0%} of healthy; "
        f"Zalo under a Telegram outage and hung Apprise: "
        f"{results['telegram-down+apprise-hung']['zalo'] / base['zalo']:.0%} of healthy"
    )
