"""A delivery Apprise sent in part keeps its note ("partly sent: N of M requests failed") whatever
carried it: a single alert, or an alert that went out in a digest part. The digest's rows were
recorded ``sent`` with no note (the digest path wrote ``error=None``): the delivery log and
``feedsvc status`` showed nothing of the targets that missed it. Against the local receiver
(``tests/receiver.py``) on loopback; SQLite (``module_on_sqlite``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as wall

import pytest
from backend_cases import module_on_sqlite
from factories import VN, article, builtin_ingestor, clock_start
from receiver import Receiver
from sqlalchemy import select
from test_apprise import receiver as receiver  # the fixture
from test_apprise import topic as topic  # the autouse fixture
from test_apprise_parts import subscribe

from feedsvc.channels.apprise import AppriseChannel
from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.digest import ChatSettings, DigestSchedule
from feedsvc.digest.edge import DigestEdge
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.notify import SendOutcome
from feedsvc.outbox import Outbox
from feedsvc.store import digests as held
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import find_recipient

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

PARTLY = "partly sent: 1 of 2 requests failed"


@pytest.fixture(autouse=True)
def unthrottled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apprise spaces one plugin's requests 5.5 s apart (``NotifyBase.request_rate_per_sec``):
    ntfy's two topics would cost that per part. Nothing here depends on it."""
    from apprise.plugins.base import NotifyBase

    monkeypatch.setattr(NotifyBase, "request_rate_per_sec", 0)


def rows(db: Database) -> list[tuple[str, str | None, int | None]]:
    """(state, error, message id) of every delivery, in id order."""
    with db.read() as conn:
        stmt = select(deliveries.c.state, deliveries.c.error, deliveries.c.message_id)
        return [tuple(r) for r in conn.execute(stmt.order_by(deliveries.c.id))]  # type: ignore[misc]


def publish(db: Database, count: int, summary: str | None = None) -> None:
    ing = builtin_ingestor(db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    with db.write() as conn:
        items = [article(n, published_at=datetime.now(VN), summary=summary)
                 for n in range(1, count + 1)]  # fmt: skip
        upsert_source_articles(conn, items, datetime.now(UTC))
    assert ing.tick().error is None


async def send_digest(db: Database, address: str, count: int) -> None:
    """``count`` alerts held for ``address``'s digest a minute ahead, then the clock moved past
    it and the dispatcher stepped until nothing is held or sending (never a wait)."""
    subscribe(db, address)
    at = [clock_start()]
    due = (at[0] + timedelta(minutes=1)).astimezone(VN)
    with db.write() as conn:
        chat = find_recipient(conn, "apprise", address)
        assert chat is not None
        schedule = DigestSchedule(times=(wall(due.hour, due.minute),))
        held.save_settings(conn, chat.chat_id, ChatSettings(digest=schedule))
    publish(db, count)
    channel = AppriseChannel(VN)
    edge = DigestEdge(VN, public_url="https://tin.example", limit=2000, buttons=False)
    settings = DispatchSettings(backoff_base=0.05, poll_seconds=0.05, max_attempts=4)
    d = Dispatcher(db, channel, VN, settings, digests=edge, clock=lambda: at[0])
    await channel.start()
    try:
        await d.step()
        await d.drain()
        assert {s for s, _, _ in rows(db)} == {"held"}
        at[0] = due.replace(second=0, microsecond=0).astimezone(UTC) + timedelta(seconds=1)
        for _ in range(20):
            await d.step()
            await d.drain()
            if not {s for s, _, _ in rows(db)} & {"held", "sending", "pending"}:
                break
            at[0] += timedelta(seconds=30)  # past any backoff or pacing: no waiting
    finally:
        await channel.close()


@pytest.mark.parametrize("refusal", [500, 429])
async def test_a_digest_apprise_sent_in_part_keeps_the_note_on_each_row(
    db: Database, receiver: Receiver, refusal: int
) -> None:
    """``ntfy://host/topic1/topic2`` with a digest: one request per topic, the second refused
    (an error, a throttling answer). The digest is sent, not again to the topic that had it,
    and every alert it carried says "partly sent", as a single alert does."""
    receiver.statuses.extend([200, refusal, refusal, refusal])
    await send_digest(db, f"ntfy://127.0.0.1:{receiver.port}/topic1/topic2", 3)
    got = [r.body.get("topic") for r in receiver.all()]
    assert len(got) == 1 and got[0] in ("topic1", "topic2"), got
    found = rows(db)
    assert [s for s, _, _ in found] == ["sent"] * 3
    assert all(e is not None and e.startswith(PARTLY) for _, e, _ in found), found


async def test_only_the_part_sent_in_part_carries_the_note(
    db: Database, receiver: Receiver
) -> None:
    """A digest long enough for several parts: the first reached one topic of two, the others
    both. The rows of the first part say so; the rest carry no note."""
    receiver.statuses.extend([200, 500])
    await send_digest(db, f"ntfy://127.0.0.1:{receiver.port}/topic1/topic2", 60)
    found = rows(db)
    assert {s for s, _, _ in found} == {"sent"}
    first = receiver.all()[0].body["message"]
    in_first = sum(line.startswith("•") for line in first.splitlines())
    noted = [e for _, e, _ in found if e is not None]
    assert 0 < in_first < len(found)  # several parts
    assert len(noted) == in_first and all(e.startswith(PARTLY) for e in noted), noted
    parts = len({r.body["message"] for r in receiver.all()})
    assert len(receiver.all()) == 2 * parts - 1  # the first part at one topic, the rest at both


async def test_a_digest_apprise_sent_whole_has_no_note(db: Database, receiver: Receiver) -> None:
    """json:// (one request) accepted: sent, nothing noted."""
    await send_digest(db, receiver.url("digest"), 3)
    assert rows(db) == [("sent", None, 0)] * 3
    assert len(receiver.at("digest")) == 1


def test_the_note_a_sent_outcome_leaves() -> None:
    """One rule for every kind of delivery: the description, bounded; none when empty."""
    from feedsvc.notify.outcome import NOTE_CHARS  # here: the old code had none

    assert SendOutcome.sent(7).note is None
    assert SendOutcome.sent(0, PARTLY).note == PARTLY
    long = SendOutcome.sent(0, "x" * (NOTE_CHARS + 500)).note
    assert long is not None and len(long) == NOTE_CHARS
