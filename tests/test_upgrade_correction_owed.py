"""Migration 0043 (``articles.correction_owed_at``) on a state DB holding an alerted article,
SQLite and PostgreSQL: the article and its sent alert survive the upgrade (and a downgrade and
an upgrade again) with nothing owed, and a correction stored after the upgrade while the
article is 10 s ahead edits that alert once its time comes (the tester's input of
``test_lifecycle_deferred_correction``, on a DB that was at 0042 when the alert was sent)."""

from __future__ import annotations

from datetime import timedelta

from fakebot import FakeBotAPI
from lifecycle_world import CHAT
from sqlalchemy import func, select
from test_lifecycle_deferred_correction import (
    NEW_SUMMARY,
    NEW_TITLE,
    OLD_TITLE,
    alerted,
    corrected,
    owed_mark,
    world,
)
from test_lifecycle_dispatch import fake, sender  # noqa: F401  (fixtures)
from test_lifecycle_rescheduled import follow_up, sends
from upgrades import database_at, downgrade

from feedsvc.db import upgrade
from feedsvc.db.schema import articles, deliveries
from feedsvc.notify import TelegramSender


async def test_an_alert_sent_at_0042_is_corrected_after_the_upgrade(
    db_url: str,
    fake: FakeBotAPI,  # noqa: F811
    sender: TelegramSender,  # noqa: F811
) -> None:
    db = database_at(db_url, "0042")
    try:
        w = world(db)
        item, mid = await alerted(w, sender, fake)  # stored and sent by a DB at 0042
        upgrade(db)
        assert owed_mark(w) is None  # nothing owed for what came before
        downgrade(db, "0042")
        upgrade(db)
        with db.read() as conn:
            assert conn.execute(select(func.count()).select_from(articles)).scalar_one() == 1
            assert conn.execute(select(func.count()).select_from(deliveries)).scalar_one() == 1
        assert owed_mark(w) is None
        w.publish(corrected(item, w, timedelta(seconds=10)))
        await follow_up(w, sender)
        assert OLD_TITLE in fake.live(CHAT, mid).visible  # not before its time
        w.clock.advance(seconds=11)
        w.poll()
        await follow_up(w, sender)
        live = fake.live(CHAT, mid)
        assert NEW_TITLE in live.visible and NEW_SUMMARY in live.visible
        assert len(live.edits) == 1 and sends(fake) == 1
        assert owed_mark(w) is None
    finally:
        db.dispose()
