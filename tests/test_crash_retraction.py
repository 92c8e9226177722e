"""SIGKILL the real service in the middle of a takedown: after a restart every sent alert is
retracted, none is lost, none is sent again, and a delete repeated after the kill is harmless
(Telegram answers "not found": recorded as gone)."""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from crashes import (
    follow_topic,
    private_chats,
    reap,
    service_env,
    sqlite_state,
    start_service,
    stop_service,
)
from factories import VN, article
from fakebot import FakeBotAPI, Fault
from sqlalchemy import select

from feedsvc.db import Database
from feedsvc.db.schema import alert_followups, deliveries
from feedsvc.lifecycle.editors import hide_article
from feedsvc.store.source_articles import upsert_source_articles

CHATS = list(range(7201, 7207))


def _rows(db: Database, *cols: object) -> list[tuple[object, ...]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(select(*cols)).tuples()]  # type: ignore[arg-type]


@pytest.mark.slow
def test_sigkill_mid_takedown_retracts_everything_once_restarted(tmp_path: Path) -> None:
    url, db = sqlite_state(tmp_path)
    now = datetime.now(UTC)
    with db.write() as conn:
        follow_topic(conn, private_chats(conn, CHATS, now), now)
        upsert_source_articles(conn, [article(1, published_at=datetime.now(VN))], now)
    with FakeBotAPI() as fake:
        env = service_env(url, fake, FEEDSVC_TELEGRAM__LEASE_SECONDS="5")

        def start() -> subprocess.Popen[bytes]:
            return start_service(env, tmp_path)

        proc = start()
        try:
            fake.wait_for(lambda: len(fake.all_messages) == len(CHATS), timeout=60)
            fake.wait_for(lambda: _rows(db, deliveries.c.state).count(("sent",)) == 6, 30)
            for chat in CHATS:  # every delete is carried out, then its answer never comes
                fake.script(chat, Fault.late(30).on("deletemessage"))
            hide_article(db, "TEST-00001", "Yêu cầu pháp lý", "cli")  # as the CLI does
            fake.wait_for(lambda: any(fake.live(c, 1).deleted for c in CHATS), timeout=30)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            done_before = sum(fake.live(c, 1).deleted for c in CHATS)
            # the late answers were the killed process's fate: the restart meets a healthy API
            # (a delete of its own left stalled would still be in flight at its stop: exit 1)
            fake.unscript()
            proc = start()  # the restart takes the dead process's leases back (SQLite)
            fake.wait_for(
                lambda: (
                    all(s == ("done",) for s in _rows(db, alert_followups.c.state))
                    and len(_rows(db, alert_followups.c.id)) == len(CHATS)
                ),
                timeout=60,
            )
            assert stop_service(proc) == 0
        finally:
            reap(proc)
        assert done_before >= 1
        assert all(fake.live(c, 1).deleted for c in CHATS)  # nothing left in any chat
        assert len(fake.all_messages) == len(CHATS)  # and nothing sent again
        deletes = Counter(c.chat_id for c in fake.calls if c.method == "deletemessage")
        assert all(n <= 2 for n in deletes.values()), deletes  # at most one repeat per kill
    outcomes = Counter(o for (o,) in _rows(db, alert_followups.c.outcome))
    assert set(outcomes) <= {"deleted", "gone"} and sum(outcomes.values()) == len(CHATS)
    assert outcomes["gone"] >= 1  # the delete the kill interrupted was repeated, harmlessly
