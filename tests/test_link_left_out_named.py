"""The "goes without its link" line names the alert by its delivery, never by a URL.

A re-tester's R5: with an article's ``source_key`` its own URL (a CMS using its permalink as
GUID), Zalo's and Apprise's INFO line for an alert sent without its link (the link too long to
fit at all) printed the key whole — the URL the line promised not to hold. The line now names
the claimed delivery's row id (``Target.delivery_id``, set by the dispatcher, as its own lines
name a delivery), never the key; a send not from the outbox is "an alert".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
from backend_cases import module_on_sqlite
from factories import VN, article, followed
from fakezalo import FakeZaloAPI
from receiver import Receiver
from sqlalchemy import insert, select

from feedsvc.articles import Article
from feedsvc.channels import ChannelLimits, Target
from feedsvc.channels.apprise import AppriseChannel
from feedsvc.channels.plain import link_left_out_line, plain_alert
from feedsvc.channels.zalo import ZaloBotAPI, ZaloChannel
from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.notify import SendOutcome
from feedsvc.notify.outcome import OutcomeKind
from feedsvc.store import deliveries as q
from feedsvc.store.subscriptions import ensure_recipient

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

#: a link no 2,000-unit message holds: left out, and the article's key
LONG_URL = "https://example.vn/tin/" + "công-an-huyện-kiến-thụy-" * 120 + "1.html"
#: keys that are or hold the URL (a permalink as GUID, with its scheme or a prefix)
KEYS = [LONG_URL, "cms:" + LONG_URL, LONG_URL.removeprefix("https://")]
NOW = datetime.now(UTC)


def keyed(key: str) -> Article:
    return article(16, source_key=key, url=LONG_URL, summary="Tóm tắt.", body=None)


def test_the_line_names_the_delivery_or_an_alert() -> None:
    alert = plain_alert(keyed(LONG_URL), ["Kiến Thụy"], VN, 2000)
    assert alert.link_left_out > 2000
    tail = f"goes without its link: {alert.link_left_out} characters, more than fit in 2000"
    assert link_left_out_line("zalo", 77, alert, 2000).startswith(
        f"zalo: the alert of delivery 77 {tail}"
    )
    assert link_left_out_line("apprise", None, alert, 2000).startswith(f"apprise: an alert {tail}")


def _said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "without its link" in r.getMessage()]


@pytest.fixture
def fake() -> Iterator[FakeZaloAPI]:
    with FakeZaloAPI() as server:
        yield server


@pytest.mark.parametrize("key", KEYS, ids=["url", "prefixed", "schemeless"])
async def test_zalo_names_the_delivery_not_the_url(
    fake: FakeZaloAPI, caplog: pytest.LogCaptureFixture, key: str
) -> None:
    channel = ZaloChannel(ZaloBotAPI(fake.token, fake.base_url), VN, global_rate=50)
    await channel.start()
    try:
        target = Target(1, "zalo", "z-1", "private", False, True, delivery_id=4321)
        with caplog.at_level(logging.INFO, logger="feedsvc.channels.zalo.channel"):
            outcome = await channel.deliver(target, keyed(key), ["Kiến Thụy"])
    finally:
        await channel.close()
    assert outcome.kind is OutcomeKind.SENT, outcome
    [said] = _said(caplog)
    assert said.startswith("zalo: the alert of delivery 4321 goes without its link: "), said
    assert "example.vn" not in caplog.text and "thụy" not in caplog.text


@pytest.mark.parametrize("key", KEYS, ids=["url", "prefixed", "schemeless"])
async def test_apprise_names_the_delivery_not_the_url(
    caplog: pytest.LogCaptureFixture, key: str
) -> None:
    channel = AppriseChannel(VN)
    await channel.start()
    try:
        with Receiver() as receiver:
            target = Target(1, "apprise", receiver.url("r5"), "private", False, True,
                            delivery_id=99)  # fmt: skip
            with caplog.at_level(logging.INFO, logger="feedsvc.channels.apprise"):
                outcome = await channel.deliver(target, keyed(key), ["Kiến Thụy"])
            [got] = receiver.at("r5")
    finally:
        await channel.close()
    assert outcome.kind is OutcomeKind.SENT, outcome
    assert "example.vn" not in got.body["message"]
    [said] = _said(caplog)
    assert said.startswith("apprise: the alert of delivery 99 goes without its link: "), said
    assert "example.vn" not in caplog.text


class Recording:
    """A channel that records each target it is given and says sent."""

    limits = ChannelLimits("zalo", 2000, "chars", 50.0, NOW - NOW, NOW - NOW, 3, 4)

    def __init__(self) -> None:
        self.targets: list[Target] = []

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def deliver(self, target: Target, article: Article, topics: Sequence[str]) -> SendOutcome:
        self.targets.append(target)
        return SendOutcome.sent(len(self.targets))


async def test_the_dispatcher_gives_the_channel_the_delivery_id(db: Database) -> None:
    with db.write() as conn:
        chat = ensure_recipient(conn, "zalo", "z-7", "private", None, NOW).chat_id
        article_id = conn.execute(
            insert(articles).values(
                source_key=LONG_URL, version=NOW, url=LONG_URL, title="Tin", tags=[],
                published_at=datetime.now(VN), search_text="", source_cursor=NOW,
                first_seen_at=NOW, last_changed_at=NOW,
            ).returning(articles.c.id)
        ).scalar_one()  # fmt: skip
        rows = [{"chat_id": chat, "article_id": article_id, "topics": ["Tin"],
                 "state": "pending", "due_at": NOW, "created_at": NOW}]  # fmt: skip
        q.enqueue(conn, rows)
        followed(conn, rows, NOW)
    channel = Recording()
    dispatcher = Dispatcher(db, channel, VN, DispatchSettings(poll_seconds=0.05), owner="zalo")
    await dispatcher.step()
    await dispatcher.drain()
    with db.read() as conn:
        stmt = select(deliveries.c.id).where(deliveries.c.chat_id == chat)
        [delivery_id] = conn.execute(stmt).scalars()
    assert [t.delivery_id for t in channel.targets] == [delivery_id]
