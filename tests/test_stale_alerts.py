"""Queued alerts too old to send end unsent (``telegram.alert_max_age_hours`` at the send).

A tester's: a Telegram token lost on a restart made the channel ``waiting``; restored three
days later, every alert queued meanwhile went out — old news to readers. The rule existed only
where alerts are queued. Now the dispatcher ends a queued alert whose article is older than the
bound as ``failed`` (a dead letter, re-sendable) with the reason, in one WARNING per pass; a
fresh one is sent. Real dispatchers against the fake Bot API; both state DBs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from fakebot import FakeBotAPI
from fleets import telegram_fleet
from sqlalchemy import insert, select

from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries
from feedsvc.store.subscriptions import ensure_chat, subscribe

CHAT = 4242


def queue(db: Database, key: str, age: timedelta, state: str = "pending") -> int:
    """An alert to :data:`CHAT` of an article published ``age`` ago, queued (as while the
    channel waited for its token) in ``state``."""
    now = datetime.now(UTC)
    published = now - age
    with db.write() as conn:
        ensure_chat(conn, CHAT, "private", None, now - timedelta(days=5))
        subscribe(conn, CHAT, topic_id=None, query="tin", now=now - timedelta(days=5))
        article_id = conn.execute(insert(articles).values(
            source_key=key, version=published, url=f"https://example.vn/{key}.html",
            title=f"Tin {key}", tags=[], published_at=published, search_text="",
            source_cursor=published, first_seen_at=published, last_changed_at=published,
        ).returning(articles.c.id)).scalar_one()  # fmt: skip
        return int(conn.execute(insert(deliveries).values(
            chat_id=CHAT, article_id=article_id, topics=["Tin"], state=state, attempts=0,
            ambiguous=0, plain_text=False, due_at=published, created_at=published,
            digest=state == "held",
        ).returning(deliveries.c.id)).scalar_one())  # fmt: skip


def rows(db: Database) -> dict[int, tuple[str, str | None]]:
    with db.read() as conn:
        stmt = select(deliveries.c.id, deliveries.c.state, deliveries.c.error)
        return {i: (s, e) for i, s, e in conn.execute(stmt)}


async def test_alerts_queued_for_days_end_unsent_and_fresh_ones_go(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    old = [queue(db, f"old{n}", timedelta(days=3, minutes=n)) for n in range(3)]
    held = queue(db, "held", timedelta(hours=49), state="held")  # a digest sends it at its time
    edge = queue(db, "edge", timedelta(hours=47))  # within the bound: still news
    fresh = queue(db, "fresh", timedelta(hours=1))
    caplog.set_level(logging.INFO, logger="feedsvc")
    with FakeBotAPI() as fake:
        async with telegram_fleet(db, fake, monkeypatch):
            await fake.await_for(lambda: len(fake.messages(CHAT)) == 2)
            await fake.await_for(lambda: rows(db)[fresh][0] == "sent")
        bodies = [m.body for m in fake.messages(CHAT)]
    assert any("Tin edge" in b for b in bodies) and any("Tin fresh" in b for b in bodies)
    assert not any("Tin old" in b for b in bodies), bodies
    got = rows(db)
    assert got[held][0] in ("held", "sent")  # its digest's business, never ended as stale
    for ended in old:
        state, error = got[ended]
        assert state == "failed"
        assert error is not None and "more than 48 h ago (telegram.alert_max_age_hours)" in error
    assert got[edge][0] == "sent"
    said = [r for r in caplog.records if "queued alert(s) ended" in r.getMessage()]
    assert len(said) == 1 and said[0].levelname == "WARNING"  # one line, not one per alert
    assert "telegram: 3 queued alert(s) ended as failed" in said[0].getMessage()


def test_a_pass_ends_only_its_channels_queued_rows(db: Database) -> None:
    """Zalo's and Apprise's dispatchers run the same pass for their own recipients: a
    Telegram pass leaves a Zalo recipient's old alert for Zalo's, one being sent (``sending``:
    its answer decides) alone, and a second pass within ``SWEEP_SECONDS`` costs nothing."""
    from feedsvc.stale_alerts import StaleAlerts
    from feedsvc.store.subscriptions import ensure_recipient

    sending = queue(db, "sending", timedelta(days=3), state="sending")
    pending = queue(db, "pending", timedelta(days=3))
    now = datetime.now(UTC)
    with db.write() as conn:
        zalo = ensure_recipient(conn, "zalo", "z-lan", "private", None, now).chat_id
        article_id = conn.execute(select(articles.c.id).where(articles.c.source_key == "pending")
                                  ).scalar_one()  # fmt: skip
        zalo_row = conn.execute(insert(deliveries).values(
            chat_id=zalo, article_id=article_id, topics=["Tin"], state="pending", attempts=0,
            ambiguous=0, plain_text=False, due_at=now - timedelta(days=3),
            created_at=now - timedelta(days=3),
        ).returning(deliveries.c.id)).scalar_one()  # fmt: skip
    telegram = StaleAlerts(timedelta(hours=48), db.now)
    assert telegram.sweep(db, "telegram") == 1
    got = rows(db)
    assert got[pending][0] == "failed" and got[sending][0] == "sending"
    assert got[zalo_row][0] == "pending"
    assert StaleAlerts(timedelta(hours=48), db.now).sweep(db, "zalo") == 1
    assert telegram.sweep(db, "telegram") == 0  # not due yet


def test_a_paused_chats_queue_and_held_alerts_wait(db: Database) -> None:
    """README: what a chat had queued before ``/pause`` goes out after ``/resume``, and held
    alerts go out with their digest; the pass ended both (a verifier's: a weekend's pause lost
    every alert, the digest emptied). A chat that is not paused loses its stale one."""
    from feedsvc.stale_alerts import StaleAlerts
    from feedsvc.store.subscriptions import set_paused

    paused = queue(db, "paused", timedelta(days=3))
    held = queue(db, "held", timedelta(days=3), state="held")
    with db.write() as conn:
        set_paused(conn, CHAT, True)
    assert StaleAlerts(timedelta(hours=48), db.now).sweep(db, "telegram") == 0
    assert rows(db)[paused][0] == "pending" and rows(db)[held][0] == "held"
    with db.write() as conn:
        set_paused(conn, CHAT, False)  # /resume: what it had queued goes out now
    assert StaleAlerts(timedelta(hours=48), db.now).sweep(db, "telegram") == 0
    assert rows(db)[paused][0] == "pending" and rows(db)[held][0] == "held"
    unpaused = queue(db, "unpaused", timedelta(days=3))  # queued while not paused: stale
    with db.write() as conn:
        set_paused(conn, CHAT, False)  # /resume of a chat not paused moves nothing
    assert StaleAlerts(timedelta(hours=48), db.now).sweep(db, "telegram") == 1
    assert rows(db)[unpaused][0] == "failed" and rows(db)[paused][0] == "pending"


def test_an_alert_retrying_past_the_bound_ends(db: Database) -> None:
    """A failed try moves ``due_at`` on (an outage, a refused token, a closed topic): still
    stale news, ended; one due later than the bound without a try is a re-send, left."""
    from feedsvc.stale_alerts import StaleAlerts

    retrying = queue(db, "retrying", timedelta(days=3))
    resent = queue(db, "resent", timedelta(days=3))
    later = datetime.now(UTC) + timedelta(minutes=5)
    with db.write() as conn:
        conn.execute(deliveries.update().where(deliveries.c.id == retrying)
                     .values(due_at=later, retry_kind="transient", attempts=4))  # fmt: skip
        conn.execute(deliveries.update().where(deliveries.c.id == resent).values(due_at=later))
    assert StaleAlerts(timedelta(hours=48), db.now).sweep(db, "telegram") == 1
    assert rows(db)[retrying][0] == "failed" and rows(db)[resent][0] == "pending"


@pytest.mark.parametrize("digest", [False, True])
async def test_a_re_sent_stale_alert_is_not_ended_again(
    db: Database, monkeypatch: pytest.MonkeyPatch, digest: bool
) -> None:
    """An editor re-sends an alert the pass ended (the delivery log's Re-send, the API's
    ``resend``): it goes out — at once, or held for the chat's digest — and the next pass
    leaves it. It was ended again within a minute, nothing sent, the API having said "queued
    again" (a verifier's)."""
    from feedsvc.operations.deliveries import resend_delivery
    from feedsvc.stale_alerts import StaleAlerts

    ended = queue(db, "ended", timedelta(days=3))
    assert StaleAlerts(timedelta(hours=48), db.now).sweep(db, "telegram") == 1
    resend_delivery(db, ended)
    if digest:  # held for a digest by then: the digest's time sends it
        with db.write() as conn:
            conn.execute(deliveries.update().where(deliveries.c.id == ended)
                         .values(state="held", digest=True))  # fmt: skip
        assert StaleAlerts(timedelta(hours=48), db.now).sweep(db, "telegram") == 0
        assert rows(db)[ended][0] == "held"
        return
    assert StaleAlerts(timedelta(hours=48), db.now).sweep(db, "telegram") == 0
    with db.write() as conn:  # one failed try (a 429 with retry_after) does not end it either
        conn.execute(deliveries.update().where(deliveries.c.id == ended)
                     .values(retry_kind="rate_limited", attempts=1))  # fmt: skip
    assert StaleAlerts(timedelta(hours=48), db.now).sweep(db, "telegram") == 0
    with FakeBotAPI() as fake:
        async with telegram_fleet(db, fake, monkeypatch):
            await fake.await_for(lambda: rows(db)[ended][0] == "sent")
        assert any("Tin ended" in m.body for m in fake.messages(CHAT))
